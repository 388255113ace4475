#include "config.h"
#include "report/recorder.h"
#include "report/recorder_codec.h"
#include "collectors/sampler.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <zlib.h>

/* The writing side of the flight recorder (report/recorder.h); reading, the replay
 * timeline and the bundle window are in recorder_read.c. */

/* CRC-32 (IEEE 802.3) of a record, by zlib. */
uint32_t rec_crc32(const void *data, size_t len)
{
        uLong c = crc32(0L, Z_NULL, 0);
        const Bytef *p = data;
        while (len) { /* zlib takes uInt lengths */
                uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
                c = crc32(c, p, n);
                p += n;
                len -= n;
        }
        return (uint32_t)c;
}

/* ---------------- writing ---------------- */

struct recorder {
        char *path, *path1;
        int fd;
        uint64_t max, seg_max, size, size1;
        uint32_t scope, session;
        json_object *dict; /* "key\037subject\037unit" -> series number, in this scope */
        uint64_t next_id;
        char *host;
        uint64_t interval_ms, start_ms;
        bool dirty, urgent;
        uint64_t last_sync;
        uint64_t dropped;
};

static void frame(struct strbuf *out, enum rec_type t, const struct strbuf *payload)
{
        size_t len = payload->len, at = out->len;
        sb_putn(out, REC_MAGIC, 4);
        put_le(out, 0, 4); /* the CRC, below */
        put_le(out, len, 4);
        put_u8(out, t);
        sb_putn(out, payload->s ? payload->s : "", len);
        uint32_t crc = rec_crc32(out->s + at + 8, 5 + len);
        for (int i = 0; i < 4; i++)
                out->s[at + 4 + i] = (char)((crc >> (8 * i)) & 0xff);
}

/* One write for the frames; on failure the file is cut back so no half record
 * stays in the middle of the recording. */
static int emit(struct recorder *r, const struct strbuf *frames)
{
        int e = write_all(r->fd, frames->s, frames->len);
        if (e < 0) {
                (void)ftruncate(r->fd, (off_t)r->size);
                r->dropped++;
                return e;
        }
        r->size += frames->len;
        r->dirty = true;
        return 0;
}

static void session_payload(struct recorder *r, struct strbuf *p, bool rotation)
{
        put_var(p, r->scope);
        put_var(p, r->session);
        put_le(p, r->start_ms, 8);
        put_le(p, now_ms_realtime(), 8);
        put_var(p, r->interval_ms);
        put_str(p, r->host);
        put_str(p, PACKAGE_VERSION);
        put_u8(p, rotation ? 1 : 0);
}

static int write_session(struct recorder *r, bool rotation)
{
        struct strbuf p = {0}, f = {0};
        r->scope++;
        json_object_put(r->dict);
        r->dict = json_object_new_object();
        r->next_id = 0;
        session_payload(r, &p, rotation);
        frame(&f, REC_SESSION, &p);
        int e = emit(r, &f);
        sb_free(&p);
        sb_free(&f);
        return e;
}

static void sync_dir(const char *path)
{
        _cleanup_free_ char *d = xstrdup(path);
        int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                (void)fsync(fd);
                close(fd);
        }
}

static int open_segment(struct recorder *r, bool append)
{
        int fd = open(r->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC | O_APPEND), 0640);
        if (fd < 0)
                return -errno;
        /* Two watchers appending to one recording would interleave records. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                return e == EWOULDBLOCK ? -EBUSY : -e;
        }
        r->fd = fd;
        return 0;
}

/* FILE -> FILE.1 (dropping the oldest half), then a fresh FILE that starts with a
 * session record. A crash between the rename and the new file leaves FILE.1 whole. */
static int rotate(struct recorder *r)
{
        (void)fdatasync(r->fd);
        if (rename(r->path, r->path1) < 0) {
                r->dropped++;
                return -errno;
        }
        close(r->fd);
        r->fd = -1;
        r->size1 = r->size;
        r->size = 0;
        int e = open_segment(r, false);
        if (e < 0)
                return e;
        sync_dir(r->path);
        r->last_sync = now_ms_monotonic();
        return write_session(r, true);
}

/* The frames fit the current segment, rotating first when they do not; -E2BIG
 * when they would not fit even a fresh one. */
static int make_room(struct recorder *r, size_t bytes, bool *rotated)
{
        *rotated = false;
        if (r->size + bytes <= r->seg_max)
                return 0;
        struct strbuf p = {0};
        session_payload(r, &p, true);
        size_t fresh = REC_HEADER + p.len;
        sb_free(&p);
        if (fresh + bytes > r->seg_max) {
                r->dropped++;
                return -E2BIG;
        }
        *rotated = true;
        return rotate(r);
}

static int put_one(struct recorder *r, enum rec_type t, const struct strbuf *payload)
{
        struct strbuf f = {0};
        frame(&f, t, payload);
        bool rot;
        int e = make_room(r, f.len, &rot);
        if (e == 0)
                e = emit(r, &f);
        sb_free(&f);
        return e;
}

struct scan_result {
        bool any_valid;
        uint64_t valid_end;
        uint32_t max_scope, max_session;
};

static int scan_cb(void *arg, json_object *item)
{
        struct scan_result *s = arg;
        json_object *v;
        if (json_object_object_get_ex(item, "scope", &v) && (uint32_t)json_object_get_int64(v) > s->max_scope)
                s->max_scope = (uint32_t)json_object_get_int64(v);
        if (json_object_object_get_ex(item, "session", &v) && (uint32_t)json_object_get_int64(v) > s->max_session)
                s->max_session = (uint32_t)json_object_get_int64(v);
        return 0;
}

struct recorder *recorder_open(const char *path, uint64_t max_bytes, const char *host, uint64_t interval_ms, char **err)
{
        struct recorder *r = xcalloc(1, sizeof(*r));
        r->path = xstrdup(path);
        r->path1 = xasprintf("%s.1", path);
        r->fd = -1;
        r->max = max_bytes < REC_MIN_MAX ? REC_MIN_MAX : max_bytes;
        r->seg_max = r->max / 2;
        r->host = xstrdup(host ? host : "");
        r->interval_ms = interval_ms;
        r->start_ms = now_ms_realtime();
        struct scan_result sr = {0};
        /* Continue the numbering of what is there; cut off a torn tail left by a crash. */
        for (int i = 0; i < 2; i++) {
                const char *p = i ? r->path : r->path1;
                unsigned char *buf;
                size_t len;
                int e = rec_read_whole(p, &buf, &len);
                if (e == -ENOENT)
                        continue;
                if (e < 0) {
                        *err = xasprintf("%s: %s", p, e == -EINVAL ? "not a regular file" : strerror(-e));
                        goto fail;
                }
                bool any = false;
                uint64_t end = rec_valid_end(buf, len, &any);
                if (len && !any) {
                        free(buf);
                        *err = xasprintf("%s exists and is not an evodiag recording: not overwriting it", p);
                        goto fail;
                }
                struct rec_stats st;
                (void)recorder_read_buffer(p, buf, len, 0, scan_cb, &sr, &st);
                free(buf);
                if (i == 0) {
                        r->size1 = len;
                } else {
                        if (end < len && truncate(p, (off_t)end) < 0) {
                                *err = xasprintf("%s: cannot cut off its torn last record: %s", p, strerror(errno));
                                goto fail;
                        }
                        r->size = end;
                }
        }
        r->scope = sr.max_scope;
        r->session = sr.max_session + 1;
        int e = open_segment(r, true);
        if (e < 0) {
                *err = e == -EBUSY ? xasprintf("%s: another evodiag watch is recording to it", path)
                                   : xasprintf("%s: %s", path, strerror(-e));
                goto fail;
        }
        r->last_sync = now_ms_monotonic();
        /* A session record always fits a fresh segment; in a full one it rotates. */
        struct strbuf p = {0}, f = {0};
        session_payload(r, &p, false);
        frame(&f, REC_SESSION, &p);
        bool rot;
        e = make_room(r, f.len, &rot);
        sb_free(&p);
        sb_free(&f);
        if (e == 0)
                e = write_session(r, false);
        if (e < 0) {
                *err = xasprintf("%s: cannot write: %s", path, strerror(-e));
                goto fail;
        }
        return r;
fail:
        recorder_close(r);
        return NULL;
}


int recorder_sample(struct recorder *r, uint64_t time_ms, uint64_t round, json_object *values)
{
        size_t n = values ? json_object_array_length(values) : 0, k = 0;
        struct svalue *v = xcalloc(n ? n : 1, sizeof(*v));
        for (size_t i = 0; i < n; i++)
                k += svalue_from_json(json_object_array_get_idx(values, i), &v[k]);
        int e = recorder_sample_values(r, time_ms, round, v, k);
        free(v);
        return e;
}

int recorder_sample_values(struct recorder *r, uint64_t time_ms, uint64_t round, const struct svalue *v, size_t n)
{
        for (int attempt = 0; attempt < 2; attempt++) {
                struct strbuf defs = {0}, p = {0}, f = {0};
                put_var(&p, r->scope);
                put_le(&p, time_ms, 8);
                put_var(&p, round);
                size_t count = 0;
                struct strbuf items = {0};
                for (size_t i = 0; i < n; i++) {
                        const char *key = v[i].key, *subj = v[i].subject ? v[i].subject : "",
                                   *unit = v[i].unit ? v[i].unit : "";
                        double d = v[i].value;
                        char dk[768];
                        snprintf(dk, sizeof(dk), "%s\037%s\037%s", key, subj, unit);
                        json_object *idv;
                        uint64_t id;
                        if (json_object_object_get_ex(r->dict, dk, &idv)) {
                                id = (uint64_t)json_object_get_int64(idv);
                        } else {
                                id = r->next_id++;
                                json_object_object_add(r->dict, dk, json_object_new_int64((int64_t)id));
                                struct strbuf dp = {0};
                                put_var(&dp, r->scope);
                                put_var(&dp, id);
                                put_str(&dp, key);
                                put_str(&dp, subj);
                                put_str(&dp, unit);
                                frame(&defs, REC_DEF, &dp);
                                sb_free(&dp);
                        }
                        if (is_int(d)) {
                                put_var(&items, id << 1 | 1);
                                put_var(&items, (uint64_t)d);
                        } else {
                                uint64_t bits;
                                memcpy(&bits, &d, 8);
                                put_var(&items, id << 1);
                                put_le(&items, bits, 8);
                        }
                        count++;
                }
                put_var(&p, count);
                sb_putn(&p, items.s ? items.s : "", items.len);
                sb_free(&items);
                sb_putn(&f, defs.s ? defs.s : "", defs.len);
                frame(&f, REC_SAMPLE, &p);
                bool rot = false;
                int e = make_room(r, f.len, &rot);
                if (e == 0 && !rot)
                        e = emit(r, &f);
                sb_free(&defs);
                sb_free(&p);
                sb_free(&f);
                if (!rot || e < 0)
                        return e;
                /* Rotated: the new segment defines its series again. */
        }
        return 0;
}

int recorder_event(struct recorder *r, json_object *ev)
{
        json_object *v;
        struct strbuf p = {0};
        enum severity sev = SEV_OK, prev = SEV_OK;
        (void)severity_from_name(json_object_object_get_ex(ev, "severity", &v) ? json_object_get_string(v) : "ok", &sev);
        (void)severity_from_name(json_object_object_get_ex(ev, "previous", &v) ? json_object_get_string(v) : "ok", &prev);
        unsigned flags = 0;
        if (json_object_object_get_ex(ev, "baseline", &v) && json_object_get_boolean(v))
                flags |= 1;
        if (json_object_object_get_ex(ev, "gone", &v) && json_object_get_boolean(v))
                flags |= 2;
        if (json_object_object_get_ex(ev, "previous", &v) && streq(json_object_get_string(v) ? json_object_get_string(v) : "", "new"))
                flags |= 4; /* a subject not seen before */
        put_le(&p, json_object_object_get_ex(ev, "time_ms", &v) ? (uint64_t)json_object_get_int64(v) : now_ms_realtime(), 8);
        put_u8(&p, sev);
        put_u8(&p, prev);
        put_u8(&p, flags);
        put_str(&p, json_object_object_get_ex(ev, "id", &v) ? json_object_get_string(v) : "");
        put_str(&p, json_object_object_get_ex(ev, "subject", &v) && v ? json_object_get_string(v) : "");
        put_str(&p, json_object_object_get_ex(ev, "summary", &v) ? json_object_get_string(v) : "");
        int e = put_one(r, REC_EVENT, &p);
        sb_free(&p);
        r->urgent = true;
        return e;
}

int recorder_statuses(struct recorder *r, uint64_t time_ms, json_object *statuses)
{
        struct strbuf p = {0}, items = {0};
        size_t count = 0;
        for (size_t i = 0; statuses && i < json_object_array_length(statuses); i++) {
                json_object *o = json_object_array_get_idx(statuses, i), *v;
                enum severity sev;
                if (!json_object_object_get_ex(o, "severity", &v) || severity_from_name(json_object_get_string(v), &sev) < 0 ||
                    sev == SEV_OK || sev == SEV_SKIPPED)
                        continue;
                put_u8(&items, sev);
                put_str(&items, json_object_object_get_ex(o, "id", &v) ? json_object_get_string(v) : "");
                put_str(&items, json_object_object_get_ex(o, "subject", &v) ? json_object_get_string(v) : "");
                put_str(&items, json_object_object_get_ex(o, "summary", &v) ? json_object_get_string(v) : "");
                count++;
        }
        put_le(&p, time_ms, 8);
        put_var(&p, count);
        sb_putn(&p, items.s ? items.s : "", items.len);
        int e = put_one(r, REC_STATUS, &p);
        sb_free(&p);
        sb_free(&items);
        return e;
}

int recorder_note(struct recorder *r, uint64_t time_ms, const char *kind, const char *text)
{
        struct strbuf p = {0};
        put_le(&p, time_ms, 8);
        put_str(&p, kind);
        put_str(&p, text);
        int e = put_one(r, REC_NOTE, &p);
        sb_free(&p);
        r->urgent = true;
        return e;
}

int recorder_sync(struct recorder *r, bool force)
{
        uint64_t now = now_ms_monotonic();
        if (!r->dirty || (!force && !r->urgent && now - r->last_sync < REC_SYNC_MS))
                return 0;
        r->dirty = r->urgent = false;
        r->last_sync = now;
        return fdatasync(r->fd) < 0 ? -errno : 0;
}

uint64_t recorder_size(const struct recorder *r) { return r->size + r->size1; }
const char *recorder_path(const struct recorder *r) { return r->path; }
uint64_t recorder_dropped(const struct recorder *r) { return r->dropped; }

void recorder_close(struct recorder *r)
{
        if (!r)
                return;
        if (r->fd >= 0) {
                (void)recorder_sync(r, true);
                close(r->fd);
        }
        json_object_put(r->dict);
        free(r->path);
        free(r->path1);
        free(r->host);
        free(r);
}

