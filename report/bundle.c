#include "config.h"
#include "report/bundle.h"
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

/* ---- reading frames from a child, under a deadline ---- */

struct reader {
        int fd;
        char buf[65536];
        size_t start, end;
        uint64_t deadline;
        int err; /* 0, -ETIMEDOUT, -EINTR (interrupted), -EPIPE (EOF) */
};

static int fill(struct reader *r)
{
        if (r->start < r->end)
                return 0;
        r->start = r->end = 0;
        for (;;) {
                if (interrupted)
                        return r->err = -EINTR;
                uint64_t now = now_ms_monotonic();
                if (now >= r->deadline)
                        return r->err = -ETIMEDOUT;
                struct pollfd p = {.fd = r->fd, .events = POLLIN};
                int pr = poll(&p, 1, (int)(r->deadline - now));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        continue;
                ssize_t n = read(r->fd, r->buf, sizeof(r->buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return r->err = -EPIPE;
                r->end = (size_t)n;
                return 0;
        }
}

/* One header line (its length in *len); NULL at EOF, timeout, interruption or an oversized line. */
static char *read_line(struct reader *r, size_t *len)
{
        struct strbuf b = {0};
        for (;;) {
                if (fill(r) < 0) {
                        sb_free(&b);
                        return NULL;
                }
                char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
                size_t n = nl ? (size_t)(nl - (r->buf + r->start)) : r->end - r->start;
                sb_putn(&b, r->buf + r->start, n);
                r->start += n + (nl ? 1 : 0);
                if (nl && b.len < FRAME_HEADER_MAX) {
                        *len = b.len;
                        return sb_steal(&b);
                }
                if (b.len >= FRAME_HEADER_MAX) {
                        r->err = -EPROTO;
                        sb_free(&b);
                        return NULL;
                }
        }
}

/* ---- the bundle being written ---- */

struct bundle {
        const struct bundle_opts *o;
        struct archive_out *ar;
        char *top;
        struct redactor *red;
        json_object *artifacts, *cols, *seen;
        struct strbuf log;
        uint64_t t0;
        uint64_t payload; /* uncompressed bytes written so far */
        size_t files, duplicates;
        uint64_t snapshot_bytes;
        /* Unless --full: the pids findings name (their command lines are kept), and
         * /etc/passwd and /etc/group as the union of the entries each collector looked up. */
        json_object *pids, *left_out;
        struct iddb {
                struct strbuf text;
                json_object *lines, *meta;
        } iddb[2];
};

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

/* An integer field; -1 when present but not an integer (a size of 1e308 is no size). */
static int64_t jint(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

static void copy_key(json_object *dst, json_object *src, const char *key)
{
        json_object *v;
        if (json_object_object_get_ex(src, key, &v))
                json_object_object_add(dst, key, json_object_get(v));
}

/* Streams `size` payload bytes from the child: the first `keep` into the open
 * archive entry (when to_archive) and into copy, the rest dropped. Returns bytes received. */
static uint64_t pump(struct bundle *b, struct reader *r, uint64_t size, uint64_t keep, struct strbuf *copy, bool to_archive)
{
        uint64_t got = 0;
        while (got < size) {
                if (fill(r) < 0)
                        break;
                size_t n = r->end - r->start;
                if (n > size - got)
                        n = (size_t)(size - got);
                if (got < keep) {
                        size_t k = keep - got < n ? (size_t)(keep - got) : n;
                        if (to_archive)
                                (void)archive_out_data(b->ar, r->buf + r->start, k);
                        if (copy)
                                sb_putn(copy, r->buf + r->start, k);
                }
                r->start += n;
                got += n;
        }
        return got;
}

/* ---- what a bundle leaves out unless --full ---- */

/* Remembers the process ids a text names: "pid 123", "pids 1, 2, 3", "PID=5", "/proc/123/…". */
static void note_pids(json_object *set, const char *t)
{
        for (const char *p = t; p && *p; p++) {
                const char *d = NULL;
                bool list = false;
                if ((p == t || !isalnum((unsigned char)p[-1])) && strncasecmp(p, "pid", 3) == 0) {
                        const char *q = p + 3;
                        if (*q == 's' || *q == 'S')
                                q++;
                        if (isalnum((unsigned char)*q) || *q == '_')
                                continue; /* "pidfile" */
                        while (*q == ' ' || *q == '=' || *q == ':' || *q == '#')
                                q++;
                        d = q;
                        list = true;
                } else if (strncmp(p, "/proc/", 6) == 0) {
                        d = p + 6;
                }
                while (d && isdigit((unsigned char)*d)) {
                        const char *e = d;
                        while (isdigit((unsigned char)*e))
                                e++;
                        if (e - d < 12 && !isalpha((unsigned char)*e)) {
                                char key[16];
                                snprintf(key, sizeof(key), "%.*s", (int)(e - d), d);
                                json_object_object_add(set, key, NULL);
                        }
                        if (!list || *e != ',')
                                break;
                        for (d = e + 1; *d == ' ';)
                                d++;
                }
        }
}

static void note_finding_pids(struct bundle *b, const struct findings *fs, size_t from)
{
        for (size_t i = from; i < fs->n; i++) {
                const struct finding *f = &fs->v[i];
                const char *t[] = {f->summary, f->subject, f->expected, f->actual, f->remedy, f->evidence};
                for (size_t k = 0; k < ARRAY_SIZE(t); k++)
                        note_pids(b->pids, t[k]);
        }
}

/* host/proc/PID/cmdline of a process no finding names? */
static bool unnamed_cmdline(struct bundle *b, const char *path)
{
        if (b->o->full || !startswith(path, "host/proc/"))
                return false;
        const char *d = path + 10, *e = d;
        while (isdigit((unsigned char)*e))
                e++;
        if (e == d || e - d > 11 || !streq(e, "/cmdline"))
                return false;
        char key[16];
        snprintf(key, sizeof(key), "%.*s", (int)(e - d), d);
        return !json_object_object_get_ex(b->pids, key, NULL);
}

/* The child sent only the entries its checks looked up (collectors/sink.c): keep
 * the union, in the order first received, and write it once at the end. */
static void hold_iddb(struct bundle *b, int db, const char *collector, json_object *h, struct reader *r, uint64_t size)
{
        struct iddb *d = &b->iddb[db];
        struct strbuf in = {0};
        uint64_t got = 0;
        while (got < size) {
                if (fill(r) < 0)
                        break;
                size_t n = r->end - r->start;
                if (n > size - got)
                        n = (size_t)(size - got);
                if (in.len + n <= b->o->artifact_max) /* the child capped it already */
                        sb_putn(&in, r->buf + r->start, n);
                r->start += n;
                got += n;
        }
        if (!d->lines) {
                d->lines = json_object_new_object();
                d->meta = json_object_new_object();
                json_object_object_add(d->meta, "collector", json_object_new_string(collector));
                copy_key(d->meta, h, "origin");
        }
        copy_key(d->meta, h, "redactions");
        const char *st = jstr(h, "status");
        if (st && !streq(st, "ok")) { /* cut at --artifact-max: say so */
                copy_key(d->meta, h, "status");
                copy_key(d->meta, h, "error");
        }
        for (size_t pos = 0; in.s && pos < in.len;) {
                char *nl = memchr(in.s + pos, '\n', in.len - pos);
                size_t l = nl ? (size_t)(nl - (in.s + pos)) : in.len - pos;
                _cleanup_free_ char *line = xstrndup(in.s + pos, l);
                if (*line && !json_object_object_get_ex(d->lines, line, NULL)) {
                        json_object_object_add(d->lines, line, NULL);
                        sb_printf(&d->text, "%s\n", line);
                }
                pos += l + 1;
        }
        sb_free(&in);
}

static void write_iddbs(struct bundle *b)
{
        static const char *const paths[] = {"host/etc/passwd", "host/etc/group"};
        for (int db = 0; db < 2; db++) {
                struct iddb *d = &b->iddb[db];
                if (!d->lines)
                        continue;
                _cleanup_free_ char *full = xasprintf("%s/%s", b->top, paths[db]);
                char sha[65];
                const char *text = d->text.s ? d->text.s : "";
                archive_out_buffer(b->ar, full, text, d->text.len, now_ms_realtime() / 1000, sha);
                b->payload += d->text.len;
                b->files++;
                json_object *m = d->meta;
                json_object_object_add(m, "path", json_object_new_string(paths[db]));
                json_object_object_add(m, "kind", json_object_new_string("file"));
                if (!json_object_object_get_ex(m, "status", NULL))
                        json_object_object_add(m, "status", json_object_new_string("ok"));
                json_object_object_add(m, "bytes", json_object_new_int64((int64_t)d->text.len));
                json_object_object_add(m, "sha256", json_object_new_string(sha));
                json_object_object_add(m, "note", json_object_new_string("only the entries the checks looked up (--full keeps the file)"));
                json_object_array_add(b->artifacts, m);
                json_object_put(d->lines);
                sb_free(&d->text);
        }
        size_t gone = 0;
        json_object_object_foreach(b->left_out, path, unused)
        {
                (void)unused;
                gone += !json_object_object_get_ex(b->seen, path, NULL); /* a later collector named it */
        }
        if (gone)
                blog(b, "%zu process command lines left out: no finding names their process (--full keeps them)", gone);
}

static void artifact(struct bundle *b, const char *collector, json_object *h, struct reader *r, size_t *count)
{
        const char *sent = jstr(h, "path");
        int64_t size = jint(h, "size");
        if (!sent || size < 0 || !path_ok(sent, collector)) {
                blog(b, "%s: refused an artifact with a bad path or size (%s)", collector, sent ? sent : "none");
                pump(b, r, size > 0 ? (uint64_t)size : 0, 0, NULL, false);
                return;
        }
        /* Every component fits NAME_MAX, whatever the child sent (the sink already does it). */
        _cleanup_free_ char *fitted = path_fit(sent);
        const char *path = fitted;
        json_object *absent;
        bool is_absent = json_object_object_get_ex(h, "absent", &absent) && json_object_get_boolean(absent);
        if (!is_absent && unnamed_cmdline(b, path)) {
                json_object_object_add(b->left_out, path, NULL);
                pump(b, r, (uint64_t)size, 0, NULL, false);
                return;
        }
        int db = b->o->full || is_absent ? -1 : streq(path, "host/etc/passwd") ? 0 : streq(path, "host/etc/group") ? 1 : -1;
        if (db >= 0) {
                hold_iddb(b, db, collector, h, r, (uint64_t)size);
                return;
        }
        json_object *prev = NULL, *lines;
        if (!is_absent && json_object_object_get_ex(b->seen, path, &prev)) {
                /* A line count made by a later collector (maps) still goes with the first copy. */
                if (prev && json_object_object_get_ex(h, "lines", &lines) && !json_object_object_get_ex(prev, "lines", NULL))
                        json_object_object_add(prev, "lines", json_object_get(lines));
                b->duplicates++; /* two collectors read the same file: the first copy stands */
                pump(b, r, (uint64_t)size, 0, NULL, false);
                return;
        }
        json_object *m = json_object_new_object();
        json_object_object_add(m, "path", json_object_new_string(path));
        json_object_object_add(m, "collector", json_object_new_string(collector));
        copy_key(m, h, "kind");
        copy_key(m, h, "origin");
        copy_key(m, h, "status");
        copy_key(m, h, "error");
        copy_key(m, h, "duration_ms");
        copy_key(m, h, "redactions");
        copy_key(m, h, "errno");
        copy_key(m, h, "stat");
        copy_key(m, h, "lines");
        copy_key(m, h, "count");
        copy_key(m, h, "at_least");
        json_object *cnt, *al;
        if (json_object_object_get_ex(h, "count", &cnt) && json_object_is_type(cnt, json_type_int) && startswith(path, "host/"))
                /* Later collectors count what this one counted (the snapshot, as for files). */
                dir_count_inject(path + 4, json_object_get_int64(cnt) > LONG_MAX ? LONG_MAX : (long)json_object_get_int64(cnt),
                                 json_object_object_get_ex(h, "at_least", &al) && json_object_get_boolean(al));
        json_object_array_add(b->artifacts, m);
        (*count)++;
        if (is_absent)
                return;
        json_object_object_add(b->seen, path, json_object_get(m));

        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, path);
        json_object *isdir;
        if (json_object_object_get_ex(h, "dir", &isdir) && json_object_get_boolean(isdir)) {
                /* The names are the payload (NUL-separated): into the manifest, not the archive. */
                struct strbuf names = {0};
                uint64_t got = pump(b, r, (uint64_t)size, NAMES_MAX, &names, false);
                archive_out_dir(b->ar, full, now_ms_realtime() / 1000);
                if (got < (uint64_t)size || (uint64_t)size > NAMES_MAX) {
                        json_object_object_add(m, "status", json_object_new_string("truncated"));
                        json_object_object_add(m, "error", json_object_new_string(got < (uint64_t)size ? "the collector stopped mid-listing"
                                                                                                          : "more names than a listing keeps"));
                } else {
                        json_object_object_add(m, "names", names_to_json(names.s, names.len));
                        if (startswith(path, "host/")) {
                                size_t len;
                                _cleanup_free_ char *buf = names_from_json(json_object_object_get(m, "names"), &len);
                                rootfs_snapshot_put_dir(path + 4, buf, len);
                        }
                }
                sb_free(&names);
                json_object_object_add(m, "bytes", json_object_new_int(0));
                return;
        }
        const char *link = jstr(h, "link");
        if (link) {
                /* Absolute or climbing links would be refused by `check --from`: keep them in the manifest only. */
                if (link[0] == '/' || strstr(link, "..")) {
                        json_object_object_add(m, "link", json_object_new_string(link));
                        json_object_object_add(m, "bytes", json_object_new_int(0));
                } else {
                        archive_out_symlink(b->ar, full, link, now_ms_realtime() / 1000);
                        json_object_object_add(m, "link", json_object_new_string(link));
                }
                return;
        }
        uint64_t room = b->o->max_size > b->payload ? b->o->max_size - b->payload : 0;
        uint64_t keep = (uint64_t)size < room ? (uint64_t)size : room;
        if (size > 0 && keep == 0) {
                json_object_object_add(m, "status", json_object_new_string("skipped"));
                json_object_object_add(m, "error", json_object_new_string("total size budget (--max-size) used up"));
                json_object_object_add(m, "bytes", json_object_new_int(0));
                pump(b, r, (uint64_t)size, 0, NULL, false);
                return;
        }
        archive_out_begin(b->ar, full, keep, 0600, now_ms_realtime() / 1000);
        /* Small host files become the snapshot the next collectors read (see rootfs.h). */
        const char *kind = jstr(h, "kind"), *st = jstr(h, "status");
        bool snap = startswith(path, "host/") && kind && streq(kind, "file") && st && streq(st, "ok") &&
                    keep == (uint64_t)size && size <= SNAPSHOT_FILE_MAX && b->snapshot_bytes + (uint64_t)size <= SNAPSHOT_MAX;
        struct strbuf copy = {0};
        uint64_t got = pump(b, r, (uint64_t)size, keep, snap ? &copy : NULL, true);
        if (snap && got == (uint64_t)size) {
                rootfs_snapshot_put(path + 4, copy.s ? copy.s : "", copy.len);
                b->snapshot_bytes += copy.len;
        }
        sb_free(&copy);
        char sha[65];
        uint64_t padded = archive_out_end(b->ar, sha);
        b->payload += keep;
        b->files++;
        json_object_object_add(m, "bytes", json_object_new_int64((int64_t)keep));
        json_object_object_add(m, "sha256", json_object_new_string(sha));
        if (got < (uint64_t)size) {
                json_object_object_add(m, "status", json_object_new_string(r->err == -EINTR ? "interrupted" : "truncated"));
                _cleanup_free_ char *why = xasprintf("the collector stopped after %llu of %lld bytes; %llu zero bytes pad the entry",
                                                     (unsigned long long)got, (long long)size, (unsigned long long)padded);
                json_object_object_add(m, "error", json_object_new_string(why));
        } else if (keep < (uint64_t)size) {
                json_object_object_add(m, "status", json_object_new_string("truncated"));
                json_object_object_add(m, "error", json_object_new_string("cut at the total size budget (--max-size)"));
        }
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
                                        .since_ms = b->o->since_ms, .full = b->o->full};
        uint64_t t0 = now_ms_monotonic();
        uint64_t timeout = collector_timeout_ms(base, c, b->o->collector_timeout_ms);
        struct reader r = {.deadline = t0 + timeout};
        bool global = b->o->deadline_ms && b->o->deadline_ms < r.deadline;
        if (global)
                r.deadline = b->o->deadline_ms;
        arg.ctx.deadline_ms = r.deadline;
        json_object *col = json_object_new_object();
        json_object_object_add(col, "name", json_object_new_string(c->name));
        json_object_array_add(b->cols, col);
        *res = (struct run_result){.c = c};

        struct child ch;
        if (interrupted || (b->o->deadline_ms && t0 >= b->o->deadline_ms) || child_start(&ch, c->name, bundle_child, &arg) < 0) {
                res->status = RUN_TIMEOUT;
                res->note = xstrdup(interrupted ? "not run: interrupted" : "not run: the run's --timeout had passed or fork failed");
                json_object_object_add(col, "status", json_object_new_string(interrupted ? "interrupted" : "not_run"));
                json_object_object_add(col, "note", json_object_new_string(res->note));
                blog(b, "%s: %s", c->name, res->note);
                return;
        }
        r.fd = ch.fd;
        size_t count = 0, len;
        bool garbage = false;
        struct findings_rx rx = {0};
        char *line;
        while ((line = read_line(&r, &len))) {
                json_object *h = frame_parse_header(line, len);
                free(line);
                const char *t = h ? jstr(h, "t") : NULL;
                size_t had = rx.fs.n;
                if (!t || (frame_is_findings(h) && findings_rx_frame(&rx, h, len + 1) < 0)) {
                        garbage = true;
                        json_object_put(h);
                        break;
                }
                /* Findings come before the artifacts: the pids they name decide which
                 * command lines the artifacts that follow may keep. */
                note_finding_pids(b, &rx.fs, had);
                if (streq(t, "artifact")) {
                        artifact(b, c->name, h, &r, &count);
                } else if (streq(t, "log")) {
                        blog(b, "%s: %s", c->name, jstr(h, "msg") ? jstr(h, "msg") : "");
                } else if (streq(t, "mapping") && jstr(h, "from") && jstr(h, "to")) {
                        redactor_add_mapping(b->red, jstr(h, "from"), jstr(h, "to"));
                }
                json_object_put(h);
        }
        _cleanup_free_ char *incomplete = NULL;
        bool got_findings = !garbage && findings_rx_finish(&rx, c->name, &incomplete) == 0, applies = rx.applies;
        if (got_findings)
                findings_move(&res->fs, &rx.fs);
        findings_rx_free(&rx);
        bool kill_it = r.err == -ETIMEDOUT || r.err == -EINTR || r.err == -EPROTO || garbage;
        bool abandoned = false;
        int status = child_reap(ch.pid, kill_it, &abandoned);
        close(ch.fd);
        res->duration_ms = now_ms_monotonic() - t0;
        _cleanup_free_ char *crash = kill_it ? NULL : child_status_error(status);
        const char *st;
        if (r.err == -EINTR) {
                st = "interrupted";
                res->status = RUN_TIMEOUT;
                res->note = xstrdup("interrupted (SIGINT/SIGTERM)");
        } else if (r.err == -ETIMEDOUT) {
                st = "timeout";
                res->status = RUN_TIMEOUT;
                res->note = xasprintf("no answer within %llu ms%s; killed%s", (unsigned long long)(r.deadline - t0),
                                      global ? " (the run's --timeout)" : "", abandoned ? ", then abandoned (stuck in the kernel)" : "");
        } else if (crash || garbage || r.err == -EPROTO || !got_findings) {
                st = "crashed";
                res->status = RUN_CRASHED;
                res->note = crash ? xstrdup(crash)
                            : garbage || r.err == -EPROTO ? xstrdup("sent unreadable frames")
                                                          : xasprintf("sent incomplete findings: %s", incomplete);
        } else {
                st = applies ? "ok" : "not_applicable";
                res->status = applies ? RUN_OK : RUN_NOT_APPLICABLE;
                if (!applies)
                        res->note = xstrdup("not relevant on this host");
        }
        if ((res->status == RUN_TIMEOUT || res->status == RUN_CRASHED) && !got_findings) {
                _cleanup_free_ char *id = xasprintf("%s.%s", c->name, res->status == RUN_TIMEOUT ? "timeout" : "crashed");
                struct finding *f = fnd_add(&res->fs, SEV_UNKNOWN, id, "the %s collector %s: %s", c->name,
                                            res->status == RUN_TIMEOUT ? "did not finish" : "crashed", res->note);
                fnd_remedy(f, "evodiag check -v --only %s", c->name);
        }
        json_object_object_add(col, "status", json_object_new_string(st));
        json_object_object_add(col, "duration_ms", json_object_new_int64((int64_t)res->duration_ms));
        json_object_object_add(col, "timed_out", json_object_new_boolean(r.err == -ETIMEDOUT));
        json_object_object_add(col, "artifacts", json_object_new_int64((int64_t)count));
        if (res->note)
                json_object_object_add(col, "note", json_object_new_string(res->note));
        blog(b, "%s: %s in %llu ms, %zu artifacts%s%s", c->name, st, (unsigned long long)res->duration_ms, count,
             res->note ? ": " : "", res->note ? res->note : "");
}

/* Redacts a document of ours and adds it at the top level; its SHA-256 goes to the manifest. */
static void add_doc(struct bundle *b, const char *name, const char *text, const char *kind)
{
        size_t len = strlen(text);
        unsigned n = 0;
        char *red = b->red ? redact(b->red, text, len, &len, &n) : NULL;
        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, name);
        char sha[65];
        archive_out_buffer(b->ar, full, red ? red : text, len, now_ms_realtime() / 1000, sha);
        b->payload += len;
        if (kind) {
                json_object *m = json_object_new_object();
                json_object_object_add(m, "path", json_object_new_string(name));
                json_object_object_add(m, "kind", json_object_new_string(kind));
                json_object_object_add(m, "origin", json_object_new_string("evodiag"));
                json_object_object_add(m, "status", json_object_new_string("ok"));
                json_object_object_add(m, "bytes", json_object_new_int64((int64_t)len));
                json_object_object_add(m, "sha256", json_object_new_string(sha));
                json_object_object_add(m, "redactions", json_object_new_int((int)n));
                json_object_array_add(b->artifacts, m);
        }
        free(red);
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
                sb_puts(s, "- the bundle is INCOMPLETE: the run was interrupted, hit its --timeout, or a collector timed out or crashed\n");
                n++;
        }
        for (size_t i = 0; i < rep->n; i++)
                if (rep->r[i].status == RUN_TIMEOUT || rep->r[i].status == RUN_CRASHED) {
                        sb_printf(s, "- collector %s: ", rep->r[i].c->name);
                        esc_text(s, rep->r[i].note, 0);
                        sb_putc(s, '\n');
                        n++;
                }
        size_t na = json_object_array_length(b->artifacts);
        for (size_t i = 0; i < na; i++) {
                json_object *m = json_object_array_get_idx(b->artifacts, i);
                const char *st = jstr(m, "status");
                if (st && !streq(st, "ok")) {
                        /* paths, origins and errors name host files: escaped like the report above */
                        _cleanup_free_ char *raw = xasprintf("- %s (%s): %s%s%s", jstr(m, "path"), jstr(m, "origin") ? jstr(m, "origin") : "",
                                                             st, jstr(m, "error") ? ": " : "", jstr(m, "error") ? jstr(m, "error") : "");
                        esc_text(s, raw, 0);
                        sb_putc(s, '\n');
                        n++;
                }
        }
        if (!n)
                sb_puts(s, "nothing: every collector finished and every artifact is whole\n");
}

static char *stamp(uint64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char buf[32];
        strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
        return xstrdup(buf);
}

/* The host name as a file name part: plain characters, at most HOST_NAME_MAX (64)
 * bytes (a --root tree's /etc/hostname can say anything). */
static char *safe_host(const char *h)
{
        _cleanup_free_ char *s = xstrdup(h && *h ? h : "host");
        for (char *p = s; *p; p++)
                if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
                        *p = '_';
        return name_fit(s, 64);
}

/* Temporary names: ".<final name>.evodiag-tmp-XXXXXX" beside the final file. */
#define TMP_MARK ".evodiag-tmp-"
#define TMP_RANDOM 6                /* mkostemp's XXXXXX */
#define STALE_TMP_S 3600            /* older than this, no run is still writing it */
#define STALE_SCAN_MAX 100000       /* directory entries looked at */

static bool is_our_temp(const char *name)
{
        size_t n = strlen(name), m = strlen(TMP_MARK);
        if (name[0] != '.' || n < 2 + m + TMP_RANDOM || strncmp(name + n - TMP_RANDOM - m, TMP_MARK, m) != 0)
                return false;
        for (size_t i = n - TMP_RANDOM; i < n; i++)
                if (!isalnum((unsigned char)name[i]))
                        return false;
        return true;
}

/* What a SIGKILLed run left behind: evodiag's own temporary archives in dir, by
 * exact name pattern, regular files owned by us, untouched for an hour and not
 * locked by a run still writing them; never following a link. Returns how many. */
static size_t clean_stale_temps(const char *dir)
{
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return 0;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return 0;
        }
        size_t removed = 0, looked = 0;
        time_t now = time(NULL);
        struct dirent *de;
        while (looked++ < STALE_SCAN_MAX && (de = readdir(d))) {
                struct stat st, fst;
                if (!is_our_temp(de->d_name) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    st.st_uid != geteuid() || st.st_nlink != 1 || now - st.st_mtime < STALE_TMP_S)
                        continue;
                int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                /* The same file, and no run holds its lock (see open_output). */
                if (fstat(fd, &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino &&
                    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, de->d_name, 0) == 0)
                        removed++;
                close(fd);
        }
        closedir(d);
        return removed;
}

/* Where the archive goes: a temporary name in the target directory, renamed when whole. */
static int open_output(const struct bundle_opts *o, const char *defname, char **final, char **tmp, int *fd, size_t *stale)
{
        *final = *tmp = NULL;
        *stale = 0;
        if (o->output && streq(o->output, "-")) {
                if (isatty(STDOUT_FILENO)) {
                        fprintf(stderr, "evodiag: refusing to write a binary archive to a terminal (use -o FILE or redirect)\n");
                        return -EINVAL;
                }
                *fd = STDOUT_FILENO;
                *final = xstrdup("-");
                return 0;
        }
        struct stat st;
        if (!o->output || (stat(o->output, &st) == 0 && S_ISDIR(st.st_mode)))
                *final = xasprintf("%s/%s", o->output ? o->output : ".", defname);
        else
                *final = xstrdup(o->output);
        _cleanup_free_ char *d1 = xstrdup(*final), *b1 = xstrdup(*final);
        const char *dir = dirname(d1);
        _cleanup_free_ char *base = name_fit(basename(b1), NAME_COMPONENT_MAX - 1 - strlen(TMP_MARK) - TMP_RANDOM);
        *stale = clean_stale_temps(dir);
        *tmp = xasprintf("%s/.%s" TMP_MARK "XXXXXX", dir, base);
        *fd = mkostemp(*tmp, O_CLOEXEC);
        if (*fd < 0) {
                int e = errno;
                fprintf(stderr, "evodiag: cannot create %s: %s\n", *tmp, strerror(e));
                free(*tmp);
                *tmp = NULL;
                return -e;
        }
        (void)fchmod(*fd, 0600);
        /* Held until the file is renamed or gone: a later run never takes it for stale. */
        (void)flock(*fd, LOCK_EX | LOCK_NB);
        return 0;
}

static int load_obfuscation(struct bundle *b)
{
        uint8_t key[32];
        _cleanup_free_ char *kp = xasprintf("%s/obfuscate.key", b->o->state_dir);
        int fd = open(kp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && read_full(fd, key, 32) == 32) {
                close(fd);
        } else {
                if (fd >= 0)
                        close(fd);
                /* A new key: kept on this host so the same address maps the same way next time. */
                int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
                if (rnd < 0 || read_full(rnd, key, 32) != 32) {
                        if (rnd >= 0)
                                close(rnd);
                        return -EIO;
                }
                close(rnd);
                (void)mkdir(b->o->state_dir, 0700);
                fd = open(kp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 || write_all(fd, key, 32) < 0) {
                        fprintf(stderr, "evodiag: cannot keep the obfuscation key at %s: %s\n", kp, strerror(errno));
                        if (fd >= 0)
                                close(fd);
                        return -EIO;
                }
                close(fd);
        }
        const char *names[] = {b->o->host, NULL};
        redactor_obfuscate(b->red, key, names);
        return 0;
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
        _cleanup_free_ char *when = stamp(started), *host = safe_host(o->host);
        b.top = xasprintf("evodiag-%s-%s", host, when);
        b.red = o->redact || o->obfuscate ? redactor_new() : NULL;
        if (o->obfuscate && load_obfuscation(&b) < 0) {
                redactor_free(b.red);
                free(b.top);
                return -EIO;
        }
        bool want_gzip = o->gzip || (o->output && strlen(o->output) > 7 && streq(o->output + strlen(o->output) - 7, ".tar.gz"));
        _cleanup_free_ char *defname = xasprintf("%s.tar.%s", b.top, want_gzip ? "gz" : "zst");
        char *final, *tmp;
        size_t stale;
        int fd, r = open_output(o, defname, &final, &tmp, &fd, &stale);
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
                final = xasprintf("./%s.tar.gz", b.top);
        }
        b.artifacts = json_object_new_array();
        b.cols = json_object_new_array();
        b.seen = json_object_new_object();
        b.pids = json_object_new_object();
        b.left_out = json_object_new_object();
        blog(&b, "evodiag %s bundle on %s: %s", PACKAGE_VERSION, o->host, o->command_line);
        if (stale)
                blog(&b, "removed %zu stale temporary file%s of an earlier run (killed before it finished)", stale, stale == 1 ? "" : "s");

        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *rr = xcalloc(n, sizeof(*rr));
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
        b.payload += recorder_bundle_add(b.ar, b.top, base->cfg, o->state_dir, b.red, b.artifacts, &b.log);
        bool complete = !interrupted && !(o->deadline_ms && now_ms_monotonic() >= o->deadline_ms);
        for (size_t i = 0; i < n; i++)
                if (rr[i].status == RUN_TIMEOUT || rr[i].status == RUN_CRASHED)
                        complete = false; /* its evidence is missing: never claim otherwise */
        if (interrupted)
                blog(&b, "interrupted by %s: the remaining collectors were not run", strsignal(interrupted));
        if (b.duplicates)
                blog(&b, "%zu files were read by more than one collector and stored once", b.duplicates);

        struct report rep = {.host = o->host, .root = rootfs_get(), .started_ms = started,
                             .duration_ms = now_ms_monotonic() - b.t0, .r = rr, .n = n};
        res->worst_exit = report_exit_code(&rep);

        /* The documents: summary, findings, ISSUE.md, log, manifest (last, it lists the rest). */
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

        struct issue_input ii = {.rep = &rep, .artifacts = b.artifacts, .component = o->component,
                                 .templates_dir = o->templates_dir, .command_line = o->command_line, .facts = facts};
        char *missing = NULL, *issue_err = NULL;
        char *issue = issue_render(&ii, &missing, &issue_err);
        json_object_put(facts);
        if (issue) {
                add_doc(&b, "ISSUE.md", issue, "derived");
                if (missing && *missing)
                        blog(&b, "ISSUE.md: no value for %s", missing);
        } else {
                blog(&b, "ISSUE.md could not be written: %s", issue_err);
                fprintf(stderr, "evodiag: ISSUE.md: %s\n", issue_err);
        }
        free(issue);
        free(missing);
        free(issue_err);

        blog(&b, "%zu files, %llu bytes before compression; complete: %s", b.files, (unsigned long long)b.payload,
             complete ? "yes" : "no");
        add_doc(&b, "evodiag.log", b.log.s, "derived");

        json_object *man = json_object_new_object();
        json_object_object_add(man, "schema", json_object_new_int(MANIFEST_SCHEMA));
        json_object_object_add(man, "evodiag", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(man, "command_line", json_object_new_string(o->command_line));
        json_object_object_add(man, "host", json_object_new_string(o->host));
        char ts[32];
        format_utc(started, ts);
        json_object_object_add(man, "start", json_object_new_string(ts));
        format_utc(now_ms_realtime(), ts);
        json_object_object_add(man, "end", json_object_new_string(ts));
        json_object_object_add(man, "complete", json_object_new_boolean(complete));
        json_object_object_add(man, "redacted", json_object_new_boolean(o->redact));
        json_object_object_add(man, "obfuscated", json_object_new_boolean(o->obfuscate));
        json_object_object_add(man, "compression", json_object_new_string(gz ? "gzip" : "zstd"));
        json_object_object_add(man, "root", json_object_new_string(b.top));
        json_object_object_add(man, "collectors", b.cols);
        json_object_object_add(man, "artifacts", b.artifacts);
        _cleanup_free_ char *mant = json_text(man, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        add_doc(&b, "manifest.json", mant, NULL);
        json_object_put(man);
        json_object_put(b.seen);
        json_object_put(b.pids);
        json_object_put(b.left_out);

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
}
