#include "config.h"
#include "report/bundle.h"
#include "report/bundle_output.h"
#include "report/bundle_trim.h"
#include "collectors/frame.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/dircount.h"
#include "lib/hostfacts.h"
#include "lib/namefit.h"
#include "lib/redact.h"
#include "lib/sha256.h"
#include "report/archive.h"
#include "report/issue.h"
#include "report/manifest.h"
#include "report/recorder.h"
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define NAMES_MAX (32u << 20) /* a directory listing's names (DIR_MAX of them, NAME_MAX each) */
#define TRACE_MAX (64u << 20) /* bytes of check evidence a child keeps in memory */
#define SNAPSHOT_FILE_MAX (256u << 10)
#define SNAPSHOT_MAX (64u << 20)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        interrupted = sig;
}

/* ---- the bundle being written ---- */

struct bundle {
        const struct bundle_opts *o;
        struct archive_out *ar;
        char *top;
        struct redactor *red;
        struct manifest man;  /* manifest.json as it grows (report/manifest.h's tables write it) */
        size_t arts_cap;
        json_object *seen;    /* path -> index in man.artifacts of what the archive holds */
        struct strbuf log;
        uint64_t t0;
        uint64_t payload; /* uncompressed bytes written so far */
        size_t files, duplicates;
        uint64_t snapshot_bytes;
        struct bundle_trim trim; /* what is left out unless --full */
        struct strbuf incomplete; /* why the bundle is not complete: NUL-separated lines (manifest "incomplete") */
        struct strbuf intrusive;  /* what --allow-intrusive did: NUL-separated lines (manifest "intrusive") */
        size_t budget_cut;        /* artifacts cut or left out at --max-size */
};

/* One reason the bundle is not complete (manifest.json "incomplete", the top of
 * ISSUE.md, summary.txt's "Missing data"). */
static void incomplete(struct bundle *b, const char *fmt, ...) PRINTF(2, 3);
static void incomplete(struct bundle *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *line = esc_text_dup(raw);
        sb_putn(&b->incomplete, line, strlen(line) + 1);
}

static struct manifest_artifact *arts(struct bundle *b) { return b->man.artifacts.v; }

/* Adds a manifest entry (taken over: *a is zeroed); returns its index. */
static size_t keep_artifact(struct bundle *b, struct manifest_artifact *a)
{
        struct mf_array *v = &b->man.artifacts;
        if (v->n == b->arts_cap) {
                b->arts_cap = b->arts_cap ? b->arts_cap * 2 : 256;
                v->v = xrealloc(v->v, b->arts_cap * sizeof(struct manifest_artifact));
        }
        arts(b)[v->n] = *a;
        *a = (struct manifest_artifact){0};
        return v->n++;
}

static void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = v ? xstrdup(v) : NULL;
}

static struct mf_int num(int64_t v) { return (struct mf_int){.set = true, .v = v}; }

static void blog(struct bundle *b, const char *fmt, ...) PRINTF(2, 3);
static void blog(struct bundle *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *msg = esc_text_dup(raw); /* host names in it: one line, no control characters */
        uint64_t ms = now_ms_monotonic() - b->t0;
        sb_printf(&b->log, "[%4llu.%03llus] %s\n", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000), msg);
}

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

/* /etc/passwd and /etc/group: the union of what each collector looked up, once. */
static void write_iddbs(struct bundle *b)
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
                keep_artifact(b, &m);
                sb_free(&text);
        }
        size_t gone = trim_cmdlines_left_out(&b->trim, b->seen);
        if (gone)
                blog(b, "%zu process command lines left out: no finding names their process (--full keeps them)", gone);
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

/* One artifact frame: its header is the manifest entry (collectors/artifact.h),
 * checked against the table; the parent adds where it came from and what was stored. */
static void artifact(struct bundle *b, const char *collector, const struct frame *f, struct frame_reader *r, size_t *count)
{
        struct manifest_artifact m;
        _cleanup_free_ char *bad = NULL;
        if (artifact_from_json(f->hdr, &m, &bad) < 0) {
                blog(b, "%s: refused an artifact: %s", collector, bad);
                return;
        }
        uint64_t size = f->size; /* the reader took it only as a byte count */
        if (!path_ok(m.path, collector)) {
                blog(b, "%s: refused an artifact with a bad path (%s)", collector, m.path);
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
        json_object *prev;
        if (!is_absent && trim_drop_cmdline(&b->trim, path)) { /* (its payload is skipped) */
                artifact_free(&m);
                return;
        }
        if (db >= 0) {
                hold_iddb(b, db, collector, &m, r);
        } else if (!is_absent && json_object_object_get_ex(b->seen, path, &prev)) {
                /* A line count made by a later collector (maps) still goes with the first copy. */
                struct manifest_artifact *first = &arts(b)[json_object_get_int64(prev)];
                if (m.lines.set && !first->lines.set)
                        first->lines = m.lines;
                b->duplicates++; /* two collectors read the same file: the first copy stands */
        } else {
                set_str(&m.collector, collector);
                if (m.count.set && startswith(path, "host/"))
                        /* Later collectors count what this one counted (the snapshot, as for files). */
                        dir_count_inject(path + 4, (long)m.count.v, m.at_least.set && m.at_least.v);
                (*count)++;
                if (!is_absent)
                        store(b, &m, size, r);
                size_t i = keep_artifact(b, &m);
                if (!is_absent)
                        json_object_object_add(b->seen, arts(b)[i].path, json_object_new_int64((int64_t)i));
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
        blog(b, "%s%s", streq(outcome, "died") ? "HARMED: " : "intrusive: ", raw);
        if (!streq(outcome, "died"))
                return;
        _cleanup_free_ char *id = xasprintf("%s.intrusive", c->name);
        if (!collector_declares(c, id))
                blog(b, "%s does not declare %s: the death of pid %d is reported in the log and the manifest only", c->name, id, pid);
        else {
                struct finding *f = fnd_add(harmed, SEV_CRIT, id, "pid %d died after evodiag's %s (bundle --allow-intrusive)", pid, action);
                fnd_actual(f, "%s", why ? why : "gone");
                fnd_subject(f, "pid %d", pid);
                fnd_remedy(f, "evodiag explain %s", id);
        }
        incomplete(b, "%s: pid %d died after %s", c->name, pid, action);
}

static void progress(struct bundle *b, size_t i, size_t n, const char *name)
{
        if (!b->o->progress)
                return;
        char sz[32];
        fprintf(stderr, "\revodiag: [%zu/%zu] %-12s %zu files, %s   ", i, n, name, b->files, fmt_bytes(b->payload, sz));
        fflush(stderr);
}

/* One collector: check with tracing, findings, evidence, collect(). */
static void run_one(struct bundle *b, struct ctx *base, const struct collector *c, struct run_result *res)
{
        struct bundle_child_arg arg = {.ctx = *base, .trace_max = TRACE_MAX};
        arg.ctx.self = c;
        arg.sink = (struct bundle_sink){.collector = c->name, .red = b->red, .artifact_max = b->o->artifact_max,
                                        .since_ms = b->o->since_ms, .full = b->o->full,
                                        .include_perf_data = b->o->include_perf_data,
                                        .include_cores = b->o->include_cores};
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
        if (interrupted || (b->o->deadline_ms && t0 >= b->o->deadline_ms) || child_start(&ch, c->name, bundle_child, &arg) < 0) {
                res->status = RUN_TIMEOUT;
                res->note = xstrdup(interrupted ? "not run: interrupted" : "not run: the run's --timeout had passed or fork failed");
                col->status = xstrdup(interrupted ? "interrupted" : "not_run");
                col->note = xstrdup(res->note);
                blog(b, "%s: %s", c->name, res->note);
                return;
        }
        /* Payloads of any size: the bundle decides how much of each it keeps. */
        struct frame_reader r;
        frame_reader_init(&r, ch.fd, INT64_MAX);
        r.deadline_ms = deadline;
        r.stop = &interrupted;
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
                        blog(b, "%s: %s", c->name, jstr(f.hdr, "msg") ? jstr(f.hdr, "msg") : "");
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
        blog(b, "%s: %s in %llu ms, %zu artifacts%s%s", c->name, st, (unsigned long long)res->duration_ms, count,
             res->note ? ": " : "", res->note ? res->note : "");
}

/* Redacts a document of ours (at a path under the top directory) and adds it; its
 * SHA-256 goes to the manifest, unless kind is NULL (the manifest itself). */
static void add_doc_len(struct bundle *b, const char *name, const char *text, size_t len, const char *kind, const char *origin)
{
        unsigned n = 0;
        if (!text)
                text = "";
        char *red = b->red ? redact(b->red, text, len, &len, &n) : NULL;
        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, name);
        char sha[65];
        archive_out_buffer(b->ar, full, red ? red : text, len, now_ms_realtime() / 1000, sha);
        b->payload += len;
        b->files++;
        if (kind) {
                struct manifest_artifact m = {
                        .path = xstrdup(name), .kind = xstrdup(kind), .origin = xstrdup(origin), .status = xstrdup("ok"),
                        .bytes = num((int64_t)len), .sha256 = xstrdup(sha), .redactions = num(n),
                };
                keep_artifact(b, &m);
        }
        free(red);
}

static void add_doc(struct bundle *b, const char *name, const char *text, const char *kind)
{
        add_doc_len(b, name, text, strlen(text), kind, "evodiag");
}

static char *render_text_report(const struct report *rep)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        report_text(f, rep, false, 1);
        fclose(f);
        return buf;
}

/* Nothing silently absent: what was not collected, and why, at the end of summary.txt. */
static void missing_section(struct bundle *b, struct strbuf *s, const struct report *rep, bool complete)
{
        sb_puts(s, "\n== Missing data\n");
        size_t n = 0;
        if (!complete) {
                sb_puts(s, "- the bundle is INCOMPLETE:\n");
                for (size_t at = 0; at < b->incomplete.len; at += strlen(b->incomplete.s + at) + 1)
                        sb_printf(s, "  - %s\n", b->incomplete.s + at); /* escaped when added */
                n++;
        }
        (void)rep;
        for (size_t i = 0; i < b->man.artifacts.n; i++) {
                const struct manifest_artifact *m = &arts(b)[i];
                const char *st = m->status;
                if (st && !streq(st, "ok")) {
                        /* paths, origins and errors name host files: escaped like the report above */
                        _cleanup_free_ char *raw = xasprintf("- %s (%s): %s%s%s", m->path, m->origin ? m->origin : "", st,
                                                             m->error ? ": " : "", m->error ? m->error : "");
                        esc_text(s, raw, 0);
                        sb_putc(s, '\n');
                        n++;
                }
        }
        if (!n)
                sb_puts(s, "nothing: every collector finished and every artifact is whole\n");
}

#define LIMITS_SHOWN 4 /* component processes whose limits ISSUE.md shows */

/* The limits of the component processes (ISSUE.md), not evodiag's own: each process
 * whose /proc/PID/limits a finding names as its evidence, as the bundle stored it (the
 * snapshot of what the checks read: rootfs.h). */
static json_object *component_limits(const struct report *rep)
{
        json_object *out = json_object_new_array(), *seen = json_object_new_object();
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                        const char *ev = rep->r[i].fs.v[k].evidence;
                        for (const char *p = ev; p && (p = strstr(p, "/proc/")); p += 6) {
                                size_t d = strspn(p + 6, "0123456789");
                                if (!d || d > 9 || !startswith(p + 6 + d, "/limits"))
                                        continue;
                                _cleanup_free_ char *pid = xstrndup(p + 6, d);
                                _cleanup_free_ char *lp = xasprintf("/proc/%s/limits", pid), *cp = xasprintf("/proc/%s/comm", pid);
                                const char *text, *comm;
                                size_t tl, cl;
                                if (json_object_object_get_ex(seen, pid, NULL) || json_object_array_length(out) >= LIMITS_SHOWN ||
                                    !rootfs_snapshot_get(lp, &text, &tl))
                                        continue;
                                json_object_object_add(seen, pid, NULL);
                                json_object *e = json_object_new_object();
                                _cleanup_free_ char *name = rootfs_snapshot_get(cp, &comm, &cl) ? xstrndup(comm, strcspn(comm, "\n"))
                                                                                                : xstrdup(rep->r[i].c->name);
                                json_object_object_add(e, "process", json_object_new_string(name));
                                json_object_object_add(e, "pid", json_object_new_string(pid));
                                json_object_object_add(e, "text", json_object_new_string_len(text, (int)(tl < (1u << 16) ? tl : 1u << 16)));
                                json_object_array_add(out, e);
                        }
                }
        json_object_put(seen);
        return out;
}

/* NUL-separated lines as a JSON array of strings. */
static json_object *lines_json(const struct strbuf *lines)
{
        json_object *a = json_object_new_array();
        for (size_t at = 0; at < lines->len; at += strlen(lines->s + at) + 1)
                json_object_array_add(a, json_object_new_string(lines->s + at));
        return a;
}

static json_object *host_facts_job(void *arg)
{
        (void)arg;
        return hostfacts_read();
}

/* What ISSUE.md says about the host (lib/hostfacts.h): read in a child under the
 * collector deadline, like every read of the host; NULL (and a log line) if it failed. */
static json_object *read_host_facts(struct bundle *b)
{
        struct job j = {.name = "host-facts", .fn = host_facts_job,
                        .timeout_ms = b->o->collector_timeout_ms ? b->o->collector_timeout_ms : 5000};
        struct job_opts jo = {.deadline_ms = b->o->deadline_ms, .parallel = 1};
        jobs_run(&j, 1, &jo);
        json_object *facts = j.status == JOB_DONE ? json_object_get(j.result) : NULL;
        if (!facts)
                blog(b, "host facts for ISSUE.md: %s", j.error ? j.error : "not read");
        job_clear(&j);
        return facts;
}

static int make(struct ctx *base, const struct bundle_opts *o, struct bundle_result *res)
{
        *res = (struct bundle_result){0};
        struct bundle b = {.o = o, .t0 = now_ms_monotonic()};
        uint64_t started = now_ms_realtime();
        b.top = bundle_name(o->host, started, o->case_id);
        b.red = o->redact || o->obfuscate ? redactor_new() : NULL;
        if (o->obfuscate && bundle_obfuscation_key(o->state_dir, o->host, b.red) < 0) {
                redactor_free(b.red);
                free(b.top);
                return -EIO;
        }
        bool want_gzip = o->gzip || (o->output && strlen(o->output) > 7 && streq(o->output + strlen(o->output) - 7, ".tar.gz"));
        _cleanup_free_ char *defname = xasprintf("%s.tar.%s", b.top, want_gzip ? "gz" : "zst");
        char *final, *tmp;
        size_t stale;
        int fd, r = bundle_open_output(o->output, defname, &final, &tmp, &fd, &stale);
        if (r < 0) {
                redactor_free(b.red);
                free(b.top);
                return r;
        }
        bool gz;
        char *err = NULL;
        b.ar = archive_out_open(fd, want_gzip, &gz, &err);
        if (!b.ar) {
                fprintf(stderr, "evodiag: %s\n", err);
                free(err);
                if (tmp)
                        unlink(tmp);
                free(tmp);
                free(final);
                redactor_free(b.red);
                free(b.top);
                return -EIO;
        }
        if (gz && !want_gzip && !o->output) { /* no zstd in this libarchive: say so in the name */
                free(final);
                final = xasprintf("%s/%s.tar.gz", bundle_default_dir(), b.top);
        }
        b.seen = json_object_new_object();
        trim_init(&b.trim, o->full);
        blog(&b, "evodiag %s bundle on %s: %s", PACKAGE_VERSION, o->host, o->command_line);
        if (stale)
                blog(&b, "removed %zu stale temporary file%s of an earlier run (killed before it finished)", stale, stale == 1 ? "" : "s");

        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *rr = xcalloc(n, sizeof(*rr));
        b.man.collectors.v = xcalloc(n ? n : 1, sizeof(struct manifest_collector));
        json_object *facts = read_host_facts(&b);
        archive_out_dir(b.ar, b.top, started / 1000);
        for (size_t i = 0; i < n; i++) {
                const struct collector *c = collectors[i];
                bool in_only = !o->only, in_skip = false;
                for (const char *const *p = o->only; p && *p; p++)
                        in_only |= streq(*p, c->name);
                for (const char *const *p = o->skip; p && *p; p++)
                        in_skip |= streq(*p, c->name);
                if (!in_only || in_skip || ((c->needs & INTRUSIVE) && !base->allow_intrusive)) {
                        rr[i] = (struct run_result){.c = c, .status = RUN_NOT_SELECTED,
                                                    .note = xstrdup(!in_only ? "not in --only" : in_skip ? "in --skip" : "intrusive: needs --allow-intrusive")};
                        continue;
                }
                progress(&b, i + 1, n, c->name);
                run_one(&b, base, c, &rr[i]);
        }
        if (o->progress)
                fputc('\n', stderr);
        write_iddbs(&b);
        /* The last minutes of evodiag watch's recording, when there is one (report/recorder.c). */
        struct strbuf rec_text = {0}, rec_items = {0};
        _cleanup_free_ char *rec_origin = NULL;
        if (recorder_bundle_window(base->cfg, o->state_dir, &rec_text, &rec_items, &rec_origin, &b.log)) {
                add_doc_len(&b, "watch/recording.txt", rec_text.s, rec_text.len, "derived", rec_origin);
                add_doc_len(&b, "watch/recording.jsonl", rec_items.s, rec_items.len, "derived", rec_origin);
        }
        sb_free(&rec_text);
        sb_free(&rec_items);
        /* Complete means complete: every selected collector finished, nothing was cut at
         * --max-size, the run was neither interrupted nor out of time, nothing was harmed. */
        if (interrupted)
                incomplete(&b, "interrupted by %s: the collectors after it were not run", strsignal(interrupted));
        else if (o->deadline_ms && now_ms_monotonic() >= o->deadline_ms)
                incomplete(&b, "the run's --timeout passed");
        for (size_t i = 0; i < n; i++)
                if (rr[i].status == RUN_TIMEOUT || rr[i].status == RUN_CRASHED)
                        incomplete(&b, "collector %s: %s", rr[i].c->name, rr[i].note ? rr[i].note : run_status_name(rr[i].status));
        if (b.budget_cut) {
                char sz[32];
                incomplete(&b, "%zu artifact%s cut or left out at the total size budget (--max-size %s)", b.budget_cut,
                           b.budget_cut == 1 ? "" : "s", fmt_bytes(o->max_size, sz));
        }
        if (interrupted)
                blog(&b, "interrupted by %s: the remaining collectors were not run", strsignal(interrupted));
        if (b.duplicates)
                blog(&b, "%zu files were read by more than one collector and stored once", b.duplicates);

        struct report rep = {.host = o->host, .root = rootfs_get(), .started_ms = started,
                             .duration_ms = now_ms_monotonic() - b.t0, .r = rr, .n = n};
        res->worst_exit = report_exit_code(&rep);

        /* The documents: summary, findings, ISSUE.md, log, manifest (last, it lists the rest).
         * ISSUE.md is rendered first: when it cannot be, the bundle is not complete, and
         * every document says so. */
        json_object *arts_json = json_object_new_array();
        for (size_t i = 0; i < b.man.artifacts.n; i++)
                json_object_array_add(arts_json, artifact_to_json(&arts(&b)[i]));
        size_t files_total = b.files + 5; /* + summary.txt, findings.json, ISSUE.md, evodiag.log, manifest.json */
        json_object *why_incomplete = lines_json(&b.incomplete), *intrusive = lines_json(&b.intrusive), *limits = component_limits(&rep);
        struct issue_input ii = {.rep = &rep, .artifacts = arts_json, .component = o->component,
                                 .templates_dir = o->templates_dir, .command_line = o->command_line, .facts = facts,
                                 .complete = b.incomplete.len == 0, .incomplete = why_incomplete, .intrusive = intrusive,
                                 .files = files_total, .case_id = o->case_id, .trigger = o->trigger, .limits = limits};
        char *missing = NULL, *issue_err = NULL, *issue_note = NULL;
        char *issue = issue_render_note(&ii, &missing, &issue_err, &issue_note);
        if (issue_note) {
                blog(&b, "ISSUE.md: %s", issue_note);
                if (!o->quiet)
                        fprintf(stderr, "evodiag: ISSUE.md: %s\n", issue_note);
                free(issue_note);
        }
        json_object_put(facts);
        json_object_put(arts_json);
        json_object_put(why_incomplete);
        json_object_put(intrusive);
        json_object_put(limits);
        if (!issue) {
                blog(&b, "ISSUE.md could not be written: %s", issue_err);
                fprintf(stderr, "evodiag: ISSUE.md could not be written: %s\n", issue_err);
                incomplete(&b, "ISSUE.md could not be written: %s", issue_err);
                files_total--;
        }
        bool complete = b.incomplete.len == 0;

        _cleanup_free_ char *text = render_text_report(&rep);
        struct strbuf summary = {0};
        sb_puts(&summary, text);
        missing_section(&b, &summary, &rep, complete);
        add_doc(&b, "summary.txt", summary.s, "derived");
        sb_free(&summary);

        json_object *fj = report_to_json(&rep);
        json_object_object_add(fj, "complete", json_object_new_boolean(complete));
        _cleanup_free_ char *fjt = json_text(fj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        add_doc(&b, "findings.json", fjt, "derived");
        json_object_put(fj);

        if (issue) {
                add_doc(&b, "ISSUE.md", issue, "derived");
                if (missing && *missing)
                        blog(&b, "ISSUE.md: no value for %s", missing);
        }
        free(issue);
        free(missing);
        free(issue_err);

        blog(&b, "%zu files in the archive (manifest.json included), %llu bytes before compression; complete: %s", files_total,
             (unsigned long long)b.payload, complete ? "yes" : "no");
        for (size_t at = 0; at < b.incomplete.len; at += strlen(b.incomplete.s + at) + 1)
                blog(&b, "incomplete: %s", b.incomplete.s + at);
        add_doc(&b, "evodiag.log", b.log.s, "derived");

        char ts[32];
        struct mf_bool no = {.set = true}, yes = {.set = true, .v = true};
        b.man.schema = num(MANIFEST_SCHEMA);
        b.man.evodiag = xstrdup(PACKAGE_VERSION);
        b.man.command_line = xstrdup(o->command_line);
        b.man.host = xstrdup(o->host);
        format_utc(started, ts);
        b.man.start = xstrdup(ts);
        format_utc(now_ms_realtime(), ts);
        b.man.end = xstrdup(ts);
        b.man.complete = complete ? yes : no;
        b.man.redacted = o->redact ? yes : no;
        b.man.obfuscated = o->obfuscate ? yes : no;
        if (b.incomplete.len)
                b.man.incomplete = mf_names_of(b.incomplete.s, b.incomplete.len, false);
        if (b.intrusive.len)
                b.man.intrusive = mf_names_of(b.intrusive.s, b.intrusive.len, false);
        b.man.compression = xstrdup(gz ? "gzip" : "zstd");
        b.man.root = xstrdup(b.top);
        json_object *man = manifest_to_json(&b.man);
        _cleanup_free_ char *mant = json_text(man, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        add_doc(&b, "manifest.json", mant, NULL);
        json_object_put(man);
        manifest_free(&b.man);
        json_object_put(b.seen);
        trim_free(&b.trim);

        bool stopped = interrupted != 0;
        r = archive_out_close(b.ar, &err);
        /* The bundle is whole from here: a signal now must not lose it (bundle_make
         * keeps the handlers until after the rename). */
        fault_pause("bundle-finish");
        if (r == 0 && tmp && fsync(fd) < 0)
                r = -errno;
        if (tmp) {
                struct sha256 sh;
                sha256_init(&sh);
                char buf[65536];
                ssize_t got;
                if (lseek(fd, 0, SEEK_SET) == 0)
                        while ((got = read(fd, buf, sizeof(buf))) > 0) {
                                sha256_update(&sh, buf, (size_t)got);
                                res->bytes += (uint64_t)got;
                        }
                sha256_hex(&sh, res->sha256);
                close(fd);
        }
        if (r < 0 || (tmp && rename(tmp, final) < 0)) {
                if (r >= 0)
                        r = -errno;
                fprintf(stderr, "evodiag: cannot finish %s: %s\n", final, err ? err : strerror(-r));
                if (tmp)
                        unlink(tmp);
                free(final);
                final = NULL;
        } else if (tmp) {
                int sr = bundle_write_sha256(final, res->sha256);
                if (sr < 0)
                        fprintf(stderr, "evodiag: cannot write %s.sha256: %s\n", final, strerror(-sr));
        }
        if (o->obfuscate && b.red) {
                _cleanup_free_ char *mp = xasprintf("%s/obfuscate.map", o->state_dir);
                if (redactor_save_mapping(b.red, mp) < 0)
                        fprintf(stderr, "evodiag: cannot save the obfuscation mapping to %s\n", mp);
                else if (!o->quiet)
                        fprintf(stderr, "evodiag: obfuscation mapping (stays on this host): %s\n", mp);
        }
        free(err);
        free(tmp);
        run_results_free(rr, n);
        free(rr);
        redactor_free(b.red);
        sb_free(&b.log);
        struct strbuf why = {0};
        for (size_t at = 0; at < b.incomplete.len; at += strlen(b.incomplete.s + at) + 1)
                sb_printf(&why, "%s%s", why.len ? "; " : "", b.incomplete.s + at);
        res->why_incomplete = why.len ? sb_steal(&why) : NULL;
        sb_free(&b.incomplete);
        sb_free(&b.intrusive);
        free(b.top);
        res->path = final;
        res->complete = complete;
        res->interrupted = stopped;
        if (final && interrupted && !stopped && !o->quiet)
                fprintf(stderr, "evodiag: %s arrived while the bundle was being finished: it was finished first\n", strsignal(interrupted));
        return r < 0 ? r : 0;
}

int bundle_make(struct ctx *base, const struct bundle_opts *o, struct bundle_result *res)
{
        /* SIGINT/SIGTERM from before the temporary file exists until after the rename:
         * a stopped run ends with a valid bundle marked incomplete, and one that is
         * finishing (fsync, SHA-256, rename) is finished, never lost. */
        struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        interrupted = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        int r = make(base, o, res);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return r;
}

void bundle_result_free(struct bundle_result *r)
{
        free(r->path);
        r->path = NULL;
        free(r->why_incomplete);
        r->why_incomplete = NULL;
}
