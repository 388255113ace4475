#include "config.h"
#include "collectors/sink.h"
#include "collectors/artifact.h"
#include "lib/escape.h"
#include "collectors/frame.h"
#include "lib/child.h"
#include "lib/dircount.h"
#include "lib/namefit.h"
#include "lib/procfs.h"
#include "lib/procmaps.h"
#include "lib/redact.h"
#include "lib/subprocess.h"
#include "lib/users.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

/* An artifact's record (collectors/artifact.h): the header of its frame. */
static struct manifest_artifact record(const char *path, const char *kind, const char *origin, const char *status,
                                       const char *error, unsigned redactions, uint64_t ms)
{
        return (struct manifest_artifact){
                .path = xstrdup(path), .kind = xstrdup(kind), .origin = xstrdup(origin ? origin : ""), .status = xstrdup(status),
                .error = error ? xstrdup(error) : NULL, .redactions = {.set = true, .v = redactions},
                .duration_ms = {.set = true, .v = ms > INT64_MAX ? INT64_MAX : (int64_t)ms},
        };
}

static const struct mf_bool yes = {.set = true, .v = true};

static json_object *header(const struct manifest_artifact *a)
{
        json_object *h = artifact_to_json(a);
        json_object_object_add(h, "t", json_object_new_string("artifact"));
        return h;
}

/* Frames the record (consumed) with its payload. A header too big for a frame
 * (FRAME_HEADER_MAX) is replaced by an error record for its path: the artifact is
 * missing, and says why, instead of the collector. */
static void send_artifact(struct bundle_sink *s, struct manifest_artifact *a, const char *data, size_t len)
{
        if (!s->broken) {
                int r = frame_write(s->fd, header(a), data, len);
                if (r == -E2BIG) {
                        struct manifest_artifact e = record(strlen(a->path) < 4096 ? a->path : "collectors/header-too-big", "derived", "",
                                                            "error", "its frame header was over 1 MiB", 0, 0);
                        e.absent = yes;
                        r = frame_write(s->fd, header(&e), NULL, 0);
                        artifact_free(&e);
                }
                if (r < 0)
                        s->broken = true;
        }
        artifact_free(a);
}

static void send_frame(struct bundle_sink *s, json_object *hdr)
{
        if (s->broken)
                json_object_put(hdr);
        else if (frame_write(s->fd, hdr, NULL, 0) < 0)
                s->broken = true;
}

/* host/proc/PID/stat or host/proc/PID/task/TID/stat */
static bool is_proc_stat(const char *path)
{
        if (!startswith(path, "host/proc/"))
                return false;
        const char *p = path + 10;
        size_t d = strspn(p, "0123456789");
        if (!d)
                return false;
        p += d;
        if (startswith(p, "/task/")) {
                p += 6;
                if (!(d = strspn(p, "0123456789")))
                        return false;
                p += d;
        }
        return streq(p, "/stat");
}

/* Redacts (unless --no-redact), caps, frames; lines >= 0: a counted file's line count.
 * Of /etc/passwd and /etc/group only the entries the checks looked up go (unless --full). */
static void send_text_lines(struct bundle_sink *s, const char *path, const char *kind, const char *origin, const char *text,
                            size_t len, bool truncated, const char *error, uint64_t ms, long lines)
{
        unsigned n = 0;
        char *red = NULL;
        bool pw = streq(path, "host/etc/passwd"), gr = streq(path, "host/etc/group");
        _cleanup_free_ char *looked_up = !s->full && (pw || gr) ? users_filter(gr, text, len, &len) : NULL;
        if (looked_up)
                text = looked_up;
        unsigned hidden = 0;
        _cleanup_free_ char *layout = s->red && is_proc_stat(path) ? proc_stat_hide_layout(text, len, &len, &hidden) : NULL;
        if (layout)
                text = layout;
        if (s->red) {
                red = redact(s->red, text, len, &len, &n);
                text = red;
                n += hidden;
        }
        if (len > s->artifact_max) {
                len = s->artifact_max;
                truncated = true;
        }
        _cleanup_free_ char *why = truncated && !error ? xasprintf("cut at %zu bytes (per-artifact budget)", s->artifact_max) : NULL;
        struct manifest_artifact a = record(path, kind, origin, truncated ? "truncated" : "ok", error ? error : why, n, ms);
        if (lines >= 0)
                a.lines = (struct mf_int){.set = true, .v = lines};
        send_artifact(s, &a, text, len);
        free(red);
}

static void send_text(struct bundle_sink *s, const char *path, const char *kind, const char *origin, const char *text,
                      size_t len, bool truncated, const char *error, uint64_t ms)
{
        send_text_lines(s, path, kind, origin, text, len, truncated, error, ms, -1);
}

/* Names made from host names (segments) are bounded per component: NAME_MAX. */
static char *collector_path(struct bundle_sink *s, const char *name)
{
        _cleanup_free_ char *p = xasprintf("collectors/%s/%s", s->collector, name);
        return path_fit(p);
}

void sink_file(struct bundle_sink *s, const char *path)
{
        _cleanup_free_ char *dest = xasprintf("host%s", path);
        char *buf;
        bool trunc;
        uint64_t t0 = now_ms_monotonic();
        long r = rootfs_read(path, s->artifact_max, &buf, &trunc);
        if (r < 0) {
                sink_missing(s, dest, "file", path, r == -ENOENT ? "skipped" : "error", rootfs_strerror((int)r));
                return;
        }
        send_text(s, dest, "file", path, buf, (size_t)r, trunc, NULL, now_ms_monotonic() - t0);
        free(buf);
}

void sink_text(struct bundle_sink *s, const char *name, const char *kind, const char *origin, const char *text, size_t len)
{
        _cleanup_free_ char *dest = collector_path(s, name);
        send_text(s, dest, kind, origin, text, len, false, NULL, 0);
}

void sink_host_text(struct bundle_sink *s, const char *path, const char *kind, const char *origin, const char *text, size_t len)
{
        _cleanup_free_ char *dest = xasprintf("host%s", path);
        send_text(s, dest, kind, origin, text, len, false, NULL, 0);
}

void sink_json(struct bundle_sink *s, const char *name, const char *kind, const char *origin, json_object *o)
{
        _cleanup_free_ char *t = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE); /* valid UTF-8 */
        sink_text(s, name, kind, origin, t, strlen(t));
}

void sink_command(struct bundle_sink *s, const char *name, const char *const argv[], uint64_t timeout_ms)
{
        _cleanup_free_ char *dest = collector_path(s, name);
        struct strbuf origin = {0};
        for (size_t i = 0; argv[i]; i++)
                sb_printf(&origin, "%s%s", i ? " " : "", argv[i]);
        struct cmd_result r;
        int e = cmd_run(argv, timeout_ms, s->artifact_max, &r);
        if (e < 0 && r.status == -1 && !r.timed_out) {
                sink_missing(s, dest, "command", origin.s, "skipped", r.error);
        } else {
                const char *status = r.timed_out ? "timeout" : r.truncated ? "truncated" : e < 0 ? "error" : "ok";
                unsigned n = 0;
                size_t len = r.len;
                char *text = r.out;
                char *red = s->red ? redact(s->red, r.out, r.len, &len, &n) : NULL;
                if (red)
                        text = red;
                struct manifest_artifact a = record(dest, "command", origin.s, status, r.error, n, r.duration_ms);
                send_artifact(s, &a, text, len);
                free(red);
        }
        cmd_result_free(&r);
        sb_free(&origin);
}

void sink_binary(struct bundle_sink *s, const char *name, const char *kind, const char *path)
{
        _cleanup_free_ char *dest = collector_path(s, name);
        _cleanup_close_ int fd = rootfs_open_file(path, 0);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                sink_missing(s, dest, kind, path, "error", rootfs_strerror(fd < 0 ? fd : errno));
                return;
        }
        size_t size = (size_t)st.st_size, len = size < s->artifact_max ? size : s->artifact_max;
        struct manifest_artifact a = record(dest, kind, path, len < size ? "truncated" : "ok", NULL, 0, 0);
        json_object *h = header(&a);
        artifact_free(&a);
        if (s->broken || frame_write_header(s->fd, h, len) < 0) {
                s->broken = true;
                return;
        }
        /* Stream: never the whole core in memory. A file that shrinks under us is
         * padded by the parent (it knows the declared size). */
        char buf[65536];
        size_t sent = 0;
        while (sent < len) {
                size_t want = len - sent < sizeof(buf) ? len - sent : sizeof(buf);
                ssize_t r = read(fd, buf, want);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (write_all(s->fd, buf, (size_t)r) < 0) {
                        s->broken = true;
                        return;
                }
                sent += (size_t)r;
        }
        if (sent < len) { /* shrank: keep the frame length honest, zero-filled */
                memset(buf, 0, sizeof(buf));
                while (sent < len) {
                        size_t n = len - sent < sizeof(buf) ? len - sent : sizeof(buf);
                        if (write_all(s->fd, buf, n) < 0) {
                                s->broken = true;
                                return;
                        }
                        sent += n;
                }
        }
}

void sink_missing(struct bundle_sink *s, const char *name, const char *kind, const char *origin, const char *status,
                  const char *why)
{
        /* name is either already a full archive path (host/...) or a collector-relative one. */
        _cleanup_free_ char *dest = startswith(name, "host/") || startswith(name, "collectors/") ? xstrdup(name) : collector_path(s, name);
        struct manifest_artifact a = record(dest, kind, origin, status, why, 0, 0);
        a.absent = yes;
        send_artifact(s, &a, NULL, 0);
}

void sink_log(struct bundle_sink *s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        json_object *h = json_object_new_object();
        json_object_object_add(h, "t", json_object_new_string("log"));
        json_object_object_add(h, "msg", json_object_new_string(msg));
        send_frame(s, h);
}

void sink_intrusive(struct bundle_sink *s, const char *action, int pid, const char *outcome, const char *why)
{
        json_object *h = json_object_new_object();
        json_object_object_add(h, "t", json_object_new_string("intrusive"));
        json_object_object_add(h, "action", json_object_new_string(action));
        json_object_object_add(h, "pid", json_object_new_int(pid));
        json_object_object_add(h, "outcome", json_object_new_string(outcome));
        if (why)
                json_object_object_add(h, "why", json_object_new_string(why));
        send_frame(s, h);
}

/* /proc/PID/cmdline */
static bool is_cmdline(const char *path)
{
        if (!startswith(path, "/proc/"))
                return false;
        size_t d = strspn(path + 6, "0123456789");
        return d && streq(path + 6 + d, "/cmdline");
}

/* ---- a process's maps: whole only where they tell something ---- */

/* The pid of "/proc/PID/maps", 0 for any other path. */
static int maps_pid(const char *path)
{
        if (!startswith(path, "/proc/"))
                return 0;
        size_t d = strspn(path + 6, "0123456789");
        if (!d || d > 9 || !streq(path + 6 + d, "/maps"))
                return 0;
        return atoi(path + 6);
}

/* Processes of the components evodiag knows (by comm): their maps are evidence a
 * reader of the bundle wants whole, whatever they map. */
static bool component_comm(const char *comm)
{
        static const char *const names[] = {"lavinmq", "cerebellar-norse", "metrics-exporter", "cuda_mediator", NULL};
        static const char *const prefixes[] = {"evo", "mediator", "framealloc", NULL};
        for (size_t i = 0; names[i]; i++)
                if (streq(comm, names[i]))
                        return true;
        for (size_t i = 0; prefixes[i]; i++)
                if (startswith(comm, prefixes[i]))
                        return true;
        return false;
}

/* The bytes of a file the checks read (the trace, or the snapshot it came from),
 * allocated; NULL when they did not read it. */
static char *traced_bytes(const char *path, size_t *len)
{
        const struct trace_entry *t = rootfs_trace_find(path, TRACE_FILE);
        if (!t)
                return NULL;
        char *snap = NULL;
        size_t sl = 0;
        if (t->snapshot) {
                if (!rootfs_snapshot_get(path, &snap, &sl) || sl < t->len) {
                        free(snap);
                        return NULL;
                }
                *len = t->len;
                return snap;
        }
        if (!t->data)
                return NULL;
        *len = t->len;
        return xstrndup(t->data, t->len);
}

/* Whether the process is a component by what its checks read of it: the comm in
 * /proc/PID/stat, or argv[0]'s base name in /proc/PID/cmdline. Unknown (its stat
 * not read) counts as a component: its maps are kept. */
static bool traced_component(int pid)
{
        char path[64];
        size_t len;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        _cleanup_free_ char *stat = traced_bytes(path, &len);
        const char *open = stat ? memchr(stat, '(', len) : NULL;
        const char *close = open ? memrchr(open, ')', len - (size_t)(open - stat)) : NULL;
        if (!close)
                return true;
        _cleanup_free_ char *comm = xstrndup(open + 1, (size_t)(close - open - 1));
        if (component_comm(comm))
                return true;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
        _cleanup_free_ char *cmd = traced_bytes(path, &len);
        if (!cmd || !len)
                return false;
        const char *base = strrchr(cmd, '/'); /* argv[0]: up to the first NUL */
        return component_comm(base ? base + 1 : cmd);
}

/* Map areas from which on a process's maps are kept whole: an eighth of
 * vm.max_map_count (the maps collector judges from warn_pct of it). */
static long maps_whole_lines(void)
{
        static long lines;
        uint64_t max;
        if (!lines)
                lines = rootfs_read_u64("/proc/sys/vm/max_map_count", &max) == 0 && max / 8 < LONG_MAX ? (long)(max / 8) : 65530 / 8;
        return lines;
}

/* A process's /proc/PID/maps whose lines tell nothing beyond their number (no shared
 * memory, not a component, not named by a finding, far from the map-count limit):
 * only its line count goes into the manifest (an excerpt, no bytes), and later
 * collectors and check --from read it so (report/bundle_collect.c, report/manifest.c).
 * Returns whether it was sent so. counted: the lines the check counted (-1: count the text). */
static bool send_maps_excerpt(struct bundle_sink *s, const char *dest, const char *origin, const char *data, size_t len,
                              bool truncated, long counted)
{
        int pid = maps_pid(origin);
        long lines;
        if (s->full || truncated || !data || !pid || !s->names_pid)
                return false;
        /* Where /dev/shm leads, if the checks found it a link (the shm collector follows it). */
        const struct trace_entry *shm_link = rootfs_trace_find("/dev/shm", TRACE_LINK);
        if (procmaps_text_maps_shm(data, len, shm_link ? shm_link->data : NULL, &lines))
                return false;
        if (counted >= 0)
                lines = counted;
        if (lines >= maps_whole_lines() || s->names_pid(s->trim, pid) || traced_component(pid))
                return false;
        struct manifest_artifact a = record(dest, "file", origin, "ok", NULL, 0, 0);
        a.lines = (struct mf_int){.set = true, .v = lines};
        a.excerpt = yes;
        a.absent = yes;
        a.note = xstrdup("no line maps shared memory: only the line count is kept (--full keeps the file)");
        send_artifact(s, &a, NULL, 0);
        return true;
}

/* Emits what check() read: files with the exact bytes seen, counted files re-read
 * (capped), and directory listings as empty placeholders so counts survive. */
static void send_trace(struct bundle_sink *s)
{
        size_t n;
        const struct trace_entry *t = rootfs_trace_entries(&n);
        /* evodiag's own processes (this child, the parent) are not part of the host. */
        char self[32], parent[32];
        snprintf(self, sizeof(self), "/proc/%d", (int)getpid());
        snprintf(parent, sizeof(parent), "/proc/%d", (int)getppid());
        size_t ls = strlen(self), lp = strlen(parent), held = 0;
        for (size_t i = 0; i < n; i++) {
                if ((startswith(t[i].path, self) && (t[i].path[ls] == '/' || !t[i].path[ls])) ||
                    (startswith(t[i].path, parent) && (t[i].path[lp] == '/' || !t[i].path[lp])))
                        continue;
                _cleanup_free_ char *dest = xasprintf("host%s", t[i].path);
                /* In the bundle's snapshot from before this child (not what it added itself):
                 * an earlier collector stored it and this check read that copy (rootfs.h).
                 * The parent keeps the first copy of a path: sending (and redacting) it again
                 * would only be dropped. A counted file still tells the parent its line count
                 * (no payload). */
                bool in_snapshot = (t[i].kind == TRACE_FILE || t[i].kind == TRACE_COUNTED) &&
                                   rootfs_snapshot_held(t[i].path, s->snapshot_mark);
                /* A process's command line is in the snapshot even when the bundle left it out
                 * (no finding named the process): sent again only if it is kept now. */
                if (in_snapshot && t[i].kind == TRACE_FILE &&
                    (!is_cmdline(t[i].path) || (s->leaves_out && s->leaves_out(s->trim, dest)))) {
                        held++;
                        continue;
                }
                switch (t[i].kind) {
                case TRACE_FILE: {
                        _cleanup_free_ char *snap = NULL;
                        size_t sl = 0;
                        const char *data = t[i].data;
                        if (t[i].snapshot) { /* what check read: the snapshot's first len bytes */
                                if (!rootfs_snapshot_get(t[i].path, &snap, &sl) || sl < t[i].len) {
                                        sink_missing(s, dest, "file", t[i].path, "error", "the bundle's snapshot could not be read back");
                                        break;
                                }
                                data = snap;
                        }
                        if (send_maps_excerpt(s, dest, t[i].path, data, t[i].len, t[i].truncated, -1))
                                break;
                        send_text(s, dest, "file", t[i].path, data, t[i].len, t[i].truncated, NULL, 0);
                        break;
                }
                case TRACE_COUNTED: {
                        if (in_snapshot) {
                                struct manifest_artifact a = record(dest, "file", t[i].path, "ok", NULL, 0, 0);
                                a.lines = (struct mf_int){.set = true, .v = t[i].count};
                                send_artifact(s, &a, NULL, 0);
                                held++;
                                break;
                        }
                        /* Re-read now, capped. A process that exited since is simply gone. */
                        char *buf;
                        bool trunc;
                        long r = rootfs_read(t[i].path, s->artifact_max, &buf, &trunc);
                        if (r >= 0 && send_maps_excerpt(s, dest, t[i].path, buf, (size_t)r, trunc, t[i].count)) {
                                free(buf);
                        } else if (r >= 0) {
                                /* With the lines counted at check time: the copy may be cut or newer. */
                                send_text_lines(s, dest, "file", t[i].path, buf, (size_t)r, trunc, NULL, 0, t[i].count);
                                free(buf);
                        } else if (!(r == -ENOENT && startswith(t[i].path, "/proc/"))) {
                                sink_missing(s, dest, "file", t[i].path, "error", rootfs_strerror((int)r));
                        }
                        break;
                }
                case TRACE_ERROR: {
                        struct manifest_artifact a = record(dest, "file", t[i].path, "error", rootfs_strerror(t[i].error), 0, 0);
                        a.err = (struct mf_int){.set = true, .v = t[i].error};
                        a.absent = yes;
                        send_artifact(s, &a, NULL, 0);
                        break;
                }
                case TRACE_STAT: {
                        /* Metadata only: the object itself is not evidence (and may be huge). */
                        struct manifest_artifact a = record(dest, "stat", t[i].path, "ok", NULL, 0, 0);
                        a.absent = yes;
                        const struct stat *st = t[i].st;
                        a.stat = (struct manifest_stat){
                                .set = true, .mode = {true, (int64_t)st->st_mode}, .uid = {true, (int64_t)st->st_uid},
                                .gid = {true, (int64_t)st->st_gid}, .size = {true, (int64_t)st->st_size},
                                .nlink = {true, (int64_t)st->st_nlink}, .ino = {true, (int64_t)st->st_ino},
                                .mtime = {true, (int64_t)st->st_mtime},
                        };
                        send_artifact(s, &a, NULL, 0);
                        break;
                }
                case TRACE_LINK: {
                        struct manifest_artifact a = record(dest, "link", t[i].path, "ok", NULL, 0, 0);
                        a.link = xstrdup(t[i].data);
                        send_artifact(s, &a, NULL, 0);
                        break;
                }
                case TRACE_DIR: {
                        /* The directory and its names (fd/ entries, /dev/shm objects, /proc):
                         * the names go into the manifest, contents are not evidence. The
                         * names (NUL-separated) are the payload: 10,000 long /dev/shm names
                         * would not fit a header line. */
                        struct manifest_artifact a = record(dest, "listing", t[i].path, "ok", NULL, 0, 0);
                        a.dir = yes;
                        send_artifact(s, &a, t[i].data, t[i].len);
                        break;
                }
                }
        }
        /* Directories only counted (a process's fds): a listing of the number, not the names. */
        size_t nc;
        const struct dir_count_rec *dc = dir_count_traced(&nc);
        for (size_t i = 0; i < nc; i++) {
                if ((startswith(dc[i].path, self) && (dc[i].path[ls] == '/' || !dc[i].path[ls])) ||
                    (startswith(dc[i].path, parent) && (dc[i].path[lp] == '/' || !dc[i].path[lp])))
                        continue;
                _cleanup_free_ char *dest = xasprintf("host%s", dc[i].path);
                struct manifest_artifact a = record(dest, "listing", dc[i].path, "ok", NULL, 0, 0);
                a.absent = yes;
                a.count = (struct mf_int){.set = true, .v = dc[i].n};
                if (dc[i].at_least)
                        a.at_least = yes;
                send_artifact(s, &a, NULL, 0);
        }
        if (held)
                sink_log(s, "%zu files its checks read were already in the bundle (an earlier collector's copy): not sent again",
                         held);
}

void bundle_child(void *arg, int wfd)
{
        struct bundle_child_arg *a = arg;
        const struct collector *c = a->ctx.self;
        a->sink.fd = wfd;
        a->sink.snapshot_mark = rootfs_snapshot_mark(); /* what the parent holds */
        rootfs_trace_start(a->trace_max);
        bool applies = !c->detect || c->detect(&a->ctx);
        struct findings fs = {0};
        if (applies && c->check)
                c->check(&a->ctx, &fs);
        if (frame_send_findings(wfd, c->name, applies, &fs) < 0)
                a->sink.broken = true;
        if (a->sink.note_findings)
                a->sink.note_findings(a->sink.trim, &fs);
        findings_free(&fs);
        if (!applies || a->sink.broken)
                return;
        rootfs_trace_stop(); /* sending re-reads counted files: that must not grow the list we walk */
        send_trace(&a->sink);
        if (c->collect)
                c->collect(&a->ctx, &a->sink);
        /* Obfuscation stand-ins made here must reach the parent's mapping file. */
        for (size_t i = 0; a->sink.red && i < redactor_mapping_count(a->sink.red); i++) {
                const char *to, *from = redactor_mapping(a->sink.red, i, &to);
                json_object *m = json_object_new_object();
                json_object_object_add(m, "t", json_object_new_string("mapping"));
                json_object_object_add(m, "from", json_object_new_string(from));
                json_object_object_add(m, "to", json_object_new_string(to));
                send_frame(&a->sink, m);
        }
}
