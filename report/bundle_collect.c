#include "config.h"
#include "report/bundle_private.h"
#include "report/bundle.h"
#include "collectors/frame.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/dircount.h"
#include "lib/escape.h"
#include "lib/namefit.h"
#include "lib/redact.h"
#include "report/archive.h"

#include <errno.h>

#define NAMES_MAX (32u << 20) /* a directory listing's names (DIR_MAX of them, NAME_MAX each) */
#define TRACE_MAX (64u << 20) /* bytes of check evidence a child keeps in memory */
#define SNAPSHOT_FILE_MAX (256u << 10)
#define SNAPSHOT_MAX (64u << 20)

static bool path_ok(const char *p, const char *collector)
{
        if (strstr(p, "..") || strstr(p, "//") || p[0] == '/' || strchr(p, '\\'))
                return false;
        if (startswith(p, "host/"))
                return p[5] != 0;
        _cleanup_free_ char *mine = xasprintf("collectors/%s/", collector);
        return startswith(p, mine) && p[strlen(mine)] != 0;
}

static const char *jstr(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Streams the current frame's payload from the child: the first `keep` bytes into
 * the open archive entry (when to_archive) and into copy, the rest dropped. Returns
 * bytes received (fewer than the frame's size when the child stopped or time ran out). */
static uint64_t pump(struct bundle *b, struct frame_reader *r, uint64_t keep, struct strbuf *copy, bool to_archive)
{
        uint64_t got = 0;
        const char *chunk;
        long n;
        while ((n = frame_read_payload(r, &chunk)) > 0) {
                if (got < keep) {
                        size_t k = keep - got < (uint64_t)n ? (size_t)(keep - got) : (size_t)n;
                        if (to_archive)
                                (void)archive_out_data(b->ar, chunk, k);
                        if (copy)
                                sb_putn(copy, chunk, k);
                }
                got += (uint64_t)n;
        }
        return got;
}

/* ---- what a bundle leaves out unless --full (report/bundle_trim.c) ---- */

/* The child sent only the entries its checks looked up (collectors/sink.c). */
static void hold_iddb(struct bundle *b, int db, const char *collector, const struct manifest_artifact *h, struct frame_reader *r)
{
        struct strbuf in = {0};
        pump(b, r, b->o->artifact_max, &in, false); /* the child capped it already */
        trim_iddb_add(&b->trim, db, collector, h, in.s, in.len);
        sb_free(&in);
}

static bool held(const void *arts, const char *path)
{
        size_t i;
        return artstore_find(arts, path, &i);
}

/* /etc/passwd and /etc/group: the union of what each collector looked up, once. */
void bundle_write_iddbs(struct bundle *b)
{
        for (int db = 0; db < 2; db++) {
                struct manifest_artifact m;
                struct strbuf text;
                if (!trim_iddb_take(&b->trim, db, &m, &text))
                        continue;
                _cleanup_free_ char *full = xasprintf("%s/%s", b->top, m.path);
                char sha[65];
                archive_out_buffer(b->ar, full, text.s ? text.s : "", text.len, now_ms_realtime() / 1000, sha);
                b->payload += text.len;
                b->files++;
                m.bytes = num((int64_t)text.len);
                set_str(&m.sha256, sha);
                bundle_keep_artifact(b, &m);
                sb_free(&text);
        }
        size_t gone = trim_cmdlines_left_out(&b->trim, held, &b->arts);
        if (gone)
                bundle_log(b, "%zu process command lines left out: no finding names their process (--full keeps them)", gone);
}

/* A listing's names (the payload, NUL-separated): into the manifest, not the archive. */
static void take_names(struct bundle *b, struct manifest_artifact *m, uint64_t size, struct frame_reader *r)
{
        struct strbuf names = {0};
        uint64_t got = pump(b, r, NAMES_MAX, &names, false);
        if (got < size || size > NAMES_MAX) {
                set_str(&m->status, "truncated");
                set_str(&m->error, got < size ? "the collector stopped mid-listing" : "more names than a listing keeps");
        } else {
                m->names = mf_names_of(names.s, names.len, true);
                if (startswith(m->path, "host/"))
                        rootfs_snapshot_put_dir(m->path + 4, m->names.buf, m->names.len);
        }
        sb_free(&names);
        m->bytes = num(0);
}

/* Puts what an artifact frame carries into the archive (a listing's names into its
 * entry) and says in the entry what was stored. */
static void store(struct bundle *b, struct manifest_artifact *m, uint64_t size, struct frame_reader *r)
{
        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, m->path);
        if (m->dir.set && m->dir.v) {
                archive_out_dir(b->ar, full, now_ms_realtime() / 1000);
                take_names(b, m, size, r);
                return;
        }
        if (m->link) {
                /* Absolute or climbing links would be refused by `check --from`: keep them in the manifest only. */
                if (m->link[0] == '/' || strstr(m->link, ".."))
                        m->bytes = num(0);
                else
                        archive_out_symlink(b->ar, full, m->link, now_ms_realtime() / 1000);
                return;
        }
        uint64_t room = b->o->max_size > b->payload ? b->o->max_size - b->payload : 0;
        uint64_t keep = size < room ? size : room;
        if (size > 0 && keep == 0) {
                set_str(&m->status, "skipped");
                set_str(&m->error, "total size budget (--max-size) used up");
                m->bytes = num(0);
                b->budget_cut++;
                return;
        }
        archive_out_begin(b->ar, full, keep, 0600, now_ms_realtime() / 1000);
        /* Small host files become the snapshot the next collectors read (see rootfs.h). */
        bool snap = startswith(m->path, "host/") && m->kind && streq(m->kind, "file") && m->status && streq(m->status, "ok") &&
                    keep == size && size <= SNAPSHOT_FILE_MAX && b->snapshot_bytes + size <= SNAPSHOT_MAX;
        struct strbuf copy = {0};
        uint64_t got = pump(b, r, keep, snap ? &copy : NULL, true);
        if (snap && got == size) {
                rootfs_snapshot_put(m->path + 4, copy.s ? copy.s : "", copy.len);
                b->snapshot_bytes += copy.len;
        }
        sb_free(&copy);
        char sha[65];
        uint64_t padded = archive_out_end(b->ar, sha);
        b->payload += keep;
        b->files++;
        m->bytes = num((int64_t)keep);
        set_str(&m->sha256, sha);
        if (got < size) {
                set_str(&m->status, r->err == -EINTR ? "interrupted" : "truncated");
                free(m->error);
                m->error = xasprintf("the collector stopped after %llu of %llu bytes; %llu zero bytes pad the entry",
                                     (unsigned long long)got, (unsigned long long)size, (unsigned long long)padded);
        } else if (keep < size) {
                set_str(&m->status, "truncated");
                set_str(&m->error, "cut at the total size budget (--max-size)");
                b->budget_cut++;
        }
}

/* A command line left out of the archive is still what later collectors read (the
 * snapshot): they name the same processes without reading every /proc/PID/cmdline
 * again, and send it only if their findings keep it (collectors/sink.c). */
static void snapshot_left_out(struct bundle *b, const struct manifest_artifact *m, uint64_t size, struct frame_reader *r)
{
        if (!m->status || !streq(m->status, "ok") || size > SNAPSHOT_FILE_MAX || b->snapshot_bytes + size > SNAPSHOT_MAX)
                return; /* (its payload is skipped) */
        struct strbuf copy = {0};
        if (pump(b, r, size, &copy, false) == size) {
                rootfs_snapshot_put(m->path + 4, copy.s ? copy.s : "", copy.len);
                b->snapshot_bytes += copy.len;
        }
        sb_free(&copy);
}

/* One artifact frame: its header is the manifest entry (collectors/artifact.h),
 * checked against the table; the parent adds where it came from and what was stored. */
static void artifact(struct bundle *b, const char *collector, const struct frame *f, struct frame_reader *r, size_t *count)
{
        struct manifest_artifact m;
        _cleanup_free_ char *bad = NULL;
        if (artifact_from_json(f->hdr, &m, &bad) < 0) {
                bundle_log(b, "%s: refused an artifact: %s", collector, bad);
                return;
        }
        uint64_t size = f->size; /* the reader took it only as a byte count */
        if (!path_ok(m.path, collector)) {
                bundle_log(b, "%s: refused an artifact with a bad path (%s)", collector, m.path);
                artifact_free(&m);
                return;
        }
        /* Every component fits NAME_MAX, whatever the child sent (the sink already does it). */
        char *fitted = path_fit(m.path);
        free(m.path);
        m.path = fitted;
        const char *path = m.path;
        bool is_absent = m.absent.set && m.absent.v;
        int db = is_absent ? -1 : trim_iddb_of(&b->trim, path);
        size_t prev;
        if (!is_absent && trim_drop_cmdline(&b->trim, path)) {
                snapshot_left_out(b, &m, size, r);
                artifact_free(&m);
                return;
        }
        if (db >= 0) {
                hold_iddb(b, db, collector, &m, r);
        } else if (!is_absent && artstore_find(&b->arts, path, &prev)) {
                /* A line count made by a later collector (maps) still goes with the first copy. */
                if (m.lines.set) {
                        struct manifest_artifact first;
                        artstore_get(&b->arts, prev, &first);
                        if (!first.lines.set) {
                                first.lines = m.lines;
                                artstore_set(&b->arts, prev, &first);
                        }
                        artifact_free(&first);
                }
                b->duplicates++; /* two collectors read the same file: the first copy stands */
        } else {
                set_str(&m.collector, collector);
                if (m.count.set && startswith(path, "host/"))
                        /* Later collectors count what this one counted (the snapshot, as for files). */
                        dir_count_inject(path + 4, (long)m.count.v, m.at_least.set && m.at_least.v);
                if (m.excerpt.set && m.excerpt.v && is_absent && startswith(path, "host/")) {
                        /* Only its line count is kept: later collectors read what the bundle holds,
                         * as check --from will (report/manifest.c: manifest_apply). */
                        rootfs_snapshot_put(path + 4, "", 0);
                        if (m.lines.set)
                                rootfs_inject_count(path + 4, (long)m.lines.v);
                }
                (*count)++;
                if (!is_absent)
                        store(b, &m, size, r);
                size_t i = bundle_keep_artifact(b, &m);
                if (!is_absent)
                        artstore_hold(&b->arts, i);
                return;
        }
        artifact_free(&m);
}

/* An intrusive action a collector took or refused (collectors/sink.h, lib/intrusive.h):
 * into the manifest and the log; a process that died is a crit finding. */
static void intrusive_frame(struct bundle *b, const struct collector *c, json_object *hdr, struct findings *harmed)
{
        const char *action = jstr(hdr, "action"), *outcome = jstr(hdr, "outcome"), *why = jstr(hdr, "why");
        json_object *v;
        int pid = json_object_object_get_ex(hdr, "pid", &v) ? json_object_get_int(v) : 0;
        if (!action || !outcome)
                return;
        _cleanup_free_ char *raw = xasprintf("%s: %s: %s%s%s", c->name, action, outcome, why ? ": " : "", why ? why : "");
        _cleanup_free_ char *line = esc_text_dup(raw);
        sb_putn(&b->intrusive, line, strlen(line) + 1);
        bundle_log(b, "%s%s", streq(outcome, "died") ? "HARMED: " : "intrusive: ", raw);
        if (!streq(outcome, "died"))
                return;
        _cleanup_free_ char *id = xasprintf("%s.intrusive", c->name);
        if (!collector_declares(c, id))
                bundle_log(b, "%s does not declare %s: the death of pid %d is reported in the log and the manifest only", c->name, id, pid);
        else {
                struct finding *f = fnd_add(harmed, SEV_CRIT, id, "pid %d died after evodiag's %s (bundle --allow-intrusive)", pid, action);
                fnd_actual(f, "%s", why ? why : "gone");
                fnd_subject(f, "pid %d", pid);
                fnd_remedy(f, "evodiag explain %s", id);
        }
        bundle_incomplete(b, "%s: pid %d died after %s", c->name, pid, action);
}


/* The child's copy of the trim (collectors/sink.h): its findings, then what is left out. */
static void child_note_findings(void *trim, const struct findings *fs)
{
        trim_note_findings(trim, fs);
}

static bool child_leaves_out(void *trim, const char *path)
{
        return trim_drop_cmdline(trim, path);
}

static bool child_names_pid(void *trim, int pid)
{
        return trim_names_pid(trim, pid);
}

/* One collector: check with tracing, findings, evidence, collect(). */
void bundle_run_one(struct bundle *b, struct ctx *base, const struct collector *c, struct run_result *res)
{
        struct bundle_child_arg arg = {.ctx = *base, .trace_max = TRACE_MAX};
        arg.ctx.self = c;
        arg.sink = (struct bundle_sink){.collector = c->name, .red = b->red, .artifact_max = b->o->artifact_max,
                                        .since_ms = b->o->since_ms, .full = b->o->full,
                                        .include_perf_data = b->o->include_perf_data,
                                        .include_cores = b->o->include_cores,
                                        .note_findings = child_note_findings, .leaves_out = child_leaves_out,
                                        .names_pid = child_names_pid, .trim = &b->trim};
        uint64_t t0 = now_ms_monotonic();
        uint64_t timeout = collector_timeout_ms(base, c, b->o->collector_timeout_ms);
        uint64_t deadline = t0 + timeout;
        bool global = b->o->deadline_ms && b->o->deadline_ms < deadline;
        if (global)
                deadline = b->o->deadline_ms;
        arg.ctx.deadline_ms = deadline;
        /* (room for every collector was made in make()) */
        struct manifest_collector *col = (struct manifest_collector *)b->man.collectors.v + b->man.collectors.n++;
        col->name = xstrdup(c->name);
        *res = (struct run_result){.c = c};

        struct child ch;
        if (bundle_interrupted || (b->o->deadline_ms && t0 >= b->o->deadline_ms) || child_start(&ch, c->name, bundle_child, &arg) < 0) {
                res->status = RUN_TIMEOUT;
                res->note = xstrdup(bundle_interrupted ? "not run: interrupted" : "not run: the run's --timeout had passed or fork failed");
                col->status = xstrdup(bundle_interrupted ? "interrupted" : "not_run");
                col->note = xstrdup(res->note);
                bundle_log(b, "%s: %s", c->name, res->note);
                return;
        }
        /* Payloads of any size: the bundle decides how much of each it keeps. */
        struct frame_reader r;
        frame_reader_init(&r, ch.fd, INT64_MAX);
        r.deadline_ms = deadline;
        r.stop = &bundle_interrupted;
        size_t count = 0;
        bool garbage = false, noted = false;
        struct findings harmed = {0}; /* processes that died after an intrusive action */
        struct findings_rx rx = {.c = c}; /* only IDs it declares */
        struct frame f;
        while (frame_read(&r, &f) > 0) {
                if (!f.type || (frame_is_findings(f.hdr) && findings_rx_frame(&rx, f.hdr, f.line_len) < 0)) {
                        garbage = true;
                        break;
                }
                if (rx.undeclared) /* it claims a check it does not have: nothing it sends is kept */
                        break;
                if (rx.ended && !noted) {
                        /* Findings come first: the processes they name are known before the
                         * evidence that follows (their command lines are kept). */
                        trim_note_findings(&b->trim, &rx.fs);
                        noted = true;
                }
                if (streq(f.type, "artifact")) {
                        artifact(b, c->name, &f, &r, &count);
                } else if (streq(f.type, "log")) {
                        bundle_log(b, "%s: %s", c->name, jstr(f.hdr, "msg") ? jstr(f.hdr, "msg") : "");
                } else if (streq(f.type, "mapping") && jstr(f.hdr, "from") && jstr(f.hdr, "to")) {
                        redactor_add_mapping(b->red, jstr(f.hdr, "from"), jstr(f.hdr, "to"));
                } else if (streq(f.type, "intrusive")) {
                        intrusive_frame(b, c, f.hdr, &harmed);
                }
        }
        /* The end of the stream (inside a frame, too: what it held is marked cut) is no error. */
        int err = r.err == -EPIPE || r.err == -EBADMSG ? 0 : r.err;
        bool unreadable = garbage || err == -EPROTO || err == -EFBIG;
        frame_reader_free(&r);
        _cleanup_free_ char *incomplete = NULL;
        bool rx_lied = rx.undeclared != NULL;
        bool got_findings = !unreadable && findings_rx_finish(&rx, c->name, &incomplete) == 0, applies = rx.applies;
        if (got_findings)
                findings_move(&res->fs, &rx.fs);
        findings_move(&res->fs, &harmed); /* whatever else happened: a process it harmed is reported */
        findings_rx_free(&rx);
        bool kill_it = err == -ETIMEDOUT || err == -EINTR || unreadable || rx_lied;
        bool abandoned = false;
        int status = child_reap(ch.pid, kill_it, &abandoned);
        close(ch.fd);
        res->duration_ms = now_ms_monotonic() - t0;
        _cleanup_free_ char *crash = kill_it ? NULL : child_status_error(status);
        const char *st;
        if (err == -EINTR) {
                st = "interrupted";
                res->status = RUN_TIMEOUT;
                res->note = xstrdup("interrupted (SIGINT/SIGTERM)");
        } else if (err == -ETIMEDOUT) {
                st = "timeout";
                res->status = RUN_TIMEOUT;
                res->note = xasprintf("no answer within %llu ms%s; killed%s", (unsigned long long)(deadline - t0),
                                      global ? " (the run's --timeout)" : "", abandoned ? ", then abandoned (stuck in the kernel)" : "");
        } else if (crash || unreadable || !got_findings) {
                st = "crashed";
                res->status = RUN_CRASHED;
                res->note = crash ? xstrdup(crash) : unreadable ? xstrdup("sent unreadable frames") : xstrdup(incomplete);
        } else {
                st = applies ? "ok" : "not_applicable";
                res->status = applies ? RUN_OK : RUN_NOT_APPLICABLE;
                if (!applies)
                        res->note = xstrdup("not relevant on this host");
        }
        if ((res->status == RUN_TIMEOUT || res->status == RUN_CRASHED) && !got_findings)
                run_result_failed(res, timeout);
        col->status = xstrdup(st);
        col->duration_ms = num((int64_t)res->duration_ms);
        col->timed_out = (struct mf_bool){.set = true, .v = err == -ETIMEDOUT};
        col->artifacts = num((int64_t)count);
        col->note = res->note ? xstrdup(res->note) : NULL;
        bundle_log(b, "%s: %s in %llu ms, %zu artifacts%s%s", c->name, st, (unsigned long long)res->duration_ms, count,
             res->note ? ": " : "", res->note ? res->note : "");
}
