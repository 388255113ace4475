#include "config.h"
#include "report/recorder.h"
#include "collectors/sampler.h"
#include "lib/child.h"
#include "lib/conffile.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <zlib.h>

#define READ_CAP (1ull << 30) /* a segment is at most half of --record-max; refuse absurd files */
#define BUNDLE_WINDOW_MS (15ull * 60 * 1000)

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

/* ---------------- encoding ---------------- */

static void put_u8(struct strbuf *b, unsigned v)
{
        char c = (char)(v & 0xff);
        sb_putn(b, &c, 1);
}

static void put_le(struct strbuf *b, uint64_t v, int n)
{
        char c[8];
        for (int i = 0; i < n; i++)
                c[i] = (char)((v >> (8 * i)) & 0xff);
        sb_putn(b, c, (size_t)n);
}

static void put_var(struct strbuf *b, uint64_t v)
{
        char c[10];
        int n = 0;
        do {
                c[n] = (char)(v & 0x7f);
                v >>= 7;
                if (v)
                        c[n] |= (char)0x80;
                n++;
        } while (v);
        sb_putn(b, c, (size_t)n);
}

static void put_str(struct strbuf *b, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        put_var(b, n);
        if (n)
                sb_putn(b, s, n);
}

struct rd {
        const unsigned char *p, *end;
        bool bad;
};

static unsigned get_u8(struct rd *r)
{
        if (r->p >= r->end) {
                r->bad = true;
                return 0;
        }
        return *r->p++;
}

static uint64_t get_le(struct rd *r, int n)
{
        if (r->end - r->p < n) {
                r->bad = true;
                return 0;
        }
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
                v |= (uint64_t)r->p[i] << (8 * i);
        r->p += n;
        return v;
}

static uint64_t get_var(struct rd *r)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end) {
                        r->bad = true;
                        return 0;
                }
                unsigned c = *r->p++;
                v |= (uint64_t)(c & 0x7f) << shift;
                if (!(c & 0x80))
                        return v;
        }
        r->bad = true;
        return 0;
}

/* A new string, or NULL for an empty one (no subject). */
static char *get_str(struct rd *r)
{
        uint64_t n = get_var(r);
        if (r->bad || n > (uint64_t)(r->end - r->p)) {
                r->bad = true;
                return NULL;
        }
        char *s = n ? xstrndup((const char *)r->p, (size_t)n) : NULL;
        r->p += n;
        return s;
}

static bool sev_ok(unsigned v) { return v < _SEV_MAX; }

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

static int read_whole(const char *path, unsigned char **buf, size_t *len)
{
        *buf = NULL;
        *len = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY); /* a FIFO: refused below, never waited on */
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = errno ? errno : EINVAL;
                close(fd);
                return S_ISREG(st.st_mode) ? -e : -EINVAL;
        }
        if ((uint64_t)st.st_size > READ_CAP) {
                close(fd);
                return -EFBIG;
        }
        *buf = xmalloc((size_t)st.st_size + 1);
        long n = read_full(fd, *buf, (size_t)st.st_size);
        close(fd);
        if (n < 0) {
                free(*buf);
                *buf = NULL;
                return (int)n;
        }
        *len = (size_t)n;
        return 0;
}

static uint64_t valid_end_of(const unsigned char *buf, size_t len, bool *any);

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
                int e = read_whole(p, &buf, &len);
                if (e == -ENOENT)
                        continue;
                if (e < 0) {
                        *err = xasprintf("%s: %s", p, e == -EINVAL ? "not a regular file" : strerror(-e));
                        goto fail;
                }
                bool any = false;
                uint64_t end = valid_end_of(buf, len, &any);
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

static bool is_int(double v)
{
        return isfinite(v) && v >= 0 && v < 9007199254740992.0 && v == floor(v);
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

/* ---------------- reading ---------------- */

/* A whole, valid record at off: its total length, else 0. */
static size_t valid_at(const unsigned char *buf, size_t len, size_t off)
{
        if (len - off < REC_HEADER || memcmp(buf + off, REC_MAGIC, 4) != 0)
                return 0;
        struct rd r = {buf + off + 4, buf + len};
        uint32_t crc = (uint32_t)get_le(&r, 4);
        uint64_t plen = get_le(&r, 4);
        if (plen > REC_PAYLOAD_MAX || plen > len - off - REC_HEADER)
                return 0;
        /* The CRC covers length, type and payload: the bytes after it. */
        return rec_crc32(buf + off + 8, 5 + (size_t)plen) == crc ? REC_HEADER + (size_t)plen : 0;
}

static uint64_t valid_end_of(const unsigned char *buf, size_t len, bool *any)
{
        size_t off = 0, end = 0;
        *any = false;
        while (off < len) {
                size_t n = valid_at(buf, len, off);
                if (n) {
                        off += n;
                        end = off;
                        *any = true;
                        continue;
                }
                /* Damage: the next valid record, if any. */
                const unsigned char *m = off + 1 < len ? memmem(buf + off + 1, len - off - 1, REC_MAGIC, 4) : NULL;
                while (m && !valid_at(buf, len, (size_t)(m - buf)))
                        m = (size_t)(m - buf) + 1 < len ? memmem(m + 1, len - (size_t)(m - buf) - 1, REC_MAGIC, 4) : NULL;
                if (!m)
                        break;
                off = (size_t)(m - buf);
        }
        return end;
}

struct reader {
        const char *file;
        uint64_t since;
        int (*fn)(void *, json_object *);
        void *arg;
        struct rec_stats *st;
        /* the series of the current scope */
        uint64_t scope;
        bool have_scope;
        char **key, **subject, **unit;
        size_t nser, capser;
        uint64_t last_ms;
        json_object *pending_session, *pending_status; /* before the window */
        bool stop;
};

static void ser_reset(struct reader *r, uint64_t scope)
{
        for (size_t i = 0; i < r->nser; i++) {
                free(r->key[i]);
                free(r->subject[i]);
                free(r->unit[i]);
        }
        r->nser = 0;
        r->scope = scope;
        r->have_scope = true;
}

static void ser_free(struct reader *r)
{
        ser_reset(r, 0);
        free(r->key);
        free(r->subject);
        free(r->unit);
}

static void add_time(json_object *o, uint64_t ms)
{
        char ts[40];
        watch_time(ms, true, ts);
        json_object_object_add(o, "time", json_object_new_string(ts));
        json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)ms));
}

static json_object *item_new(const char *type, uint64_t ms)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string(type));
        add_time(o, ms);
        return o;
}

/* Hands an item on, applying the window: items before since are held back except
 * the last session and statuses keyframe, which go out just before the first
 * item in the window, so it starts with context. */
static void deliver(struct reader *r, json_object *o, uint64_t ms)
{
        if (r->stop) {
                json_object_put(o);
                return;
        }
        if (r->since && ms < r->since) {
                json_object *t;
                const char *type = json_object_object_get_ex(o, "type", &t) ? json_object_get_string(t) : "";
                if (streq(type, "session")) {
                        json_object_put(r->pending_session);
                        r->pending_session = o;
                } else if (streq(type, "statuses")) {
                        json_object_put(r->pending_status);
                        r->pending_status = o;
                } else {
                        json_object_put(o);
                }
                return;
        }
        json_object *held[2] = {r->pending_session, r->pending_status};
        r->pending_session = r->pending_status = NULL;
        for (int i = 0; i < 2; i++)
                if (held[i]) {
                        if (!r->stop && r->fn(r->arg, held[i]) < 0)
                                r->stop = true;
                        json_object_put(held[i]);
                }
        if (!r->stop && r->fn(r->arg, o) < 0)
                r->stop = true;
        json_object_put(o);
}

static void damage(struct reader *r, const char *what, uint64_t off, uint64_t bytes, const char *why)
{
        json_object *o = item_new("damage", r->last_ms);
        json_object_object_add(o, "file", json_object_new_string(r->file));
        json_object_object_add(o, "what", json_object_new_string(what));
        json_object_object_add(o, "offset", json_object_new_int64((int64_t)off));
        json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
        json_object_object_add(o, "reason", json_object_new_string(why));
        /* Damage is always shown, whatever the window. */
        uint64_t since = r->since;
        r->since = 0;
        deliver(r, o, r->last_ms);
        r->since = since;
}

static void seen_time(struct reader *r, uint64_t ms)
{
        r->last_ms = ms;
        if (!r->st->first_ms || ms < r->st->first_ms)
                r->st->first_ms = ms;
        if (ms > r->st->last_ms)
                r->st->last_ms = ms;
}

/* Decodes one record's payload; false when it does not parse (reported as damage). */
static bool decode(struct reader *r, unsigned type, const unsigned char *p, size_t len)
{
        struct rd d = {p, p + len};
        json_object *o = NULL;
        uint64_t ms = 0;
        switch (type) {
        case REC_SESSION: {
                uint64_t scope = get_var(&d), session = get_var(&d), start = get_le(&d, 8);
                ms = get_le(&d, 8);
                uint64_t interval = get_var(&d);
                _cleanup_free_ char *host = get_str(&d), *ver = get_str(&d);
                unsigned why = get_u8(&d);
                if (d.bad)
                        return false;
                ser_reset(r, scope);
                o = item_new("session", ms);
                json_object_object_add(o, "scope", json_object_new_int64((int64_t)scope));
                json_object_object_add(o, "session", json_object_new_int64((int64_t)session));
                json_object_object_add(o, "started_ms", json_object_new_int64((int64_t)start));
                json_object_object_add(o, "interval_ms", json_object_new_int64((int64_t)interval));
                json_object_object_add(o, "host", json_object_new_string(host ? host : ""));
                json_object_object_add(o, "version", json_object_new_string(ver ? ver : ""));
                json_object_object_add(o, "reason", json_object_new_string(why ? "rotation" : "start"));
                break;
        }
        case REC_DEF: {
                uint64_t scope = get_var(&d), id = get_var(&d);
                char *k = get_str(&d), *s = get_str(&d), *u = get_str(&d);
                if (d.bad || !k || id > 1000000) {
                        free(k);
                        free(s);
                        free(u);
                        return false;
                }
                if (!r->have_scope || scope != r->scope)
                        ser_reset(r, scope);
                if (id >= r->capser) {
                        size_t c = r->capser ? r->capser : 64;
                        while (c <= id)
                                c *= 2;
                        r->key = xrealloc(r->key, c * sizeof(char *));
                        r->subject = xrealloc(r->subject, c * sizeof(char *));
                        r->unit = xrealloc(r->unit, c * sizeof(char *));
                        r->capser = c;
                }
                while (r->nser <= id) {
                        r->key[r->nser] = r->subject[r->nser] = r->unit[r->nser] = NULL;
                        r->nser++;
                }
                free(r->key[id]);
                free(r->subject[id]);
                free(r->unit[id]);
                r->key[id] = k;
                r->subject[id] = s;
                r->unit[id] = u;
                return true;
        }
        case REC_SAMPLE: {
                uint64_t scope = get_var(&d);
                ms = get_le(&d, 8);
                uint64_t round = get_var(&d), n = get_var(&d);
                if (d.bad || n > len)
                        return false;
                bool known = r->have_scope && scope == r->scope;
                json_object *vals = json_object_new_array();
                for (uint64_t i = 0; i < n && !d.bad; i++) {
                        uint64_t tag = get_var(&d), id = tag >> 1;
                        double v;
                        if (tag & 1) {
                                v = (double)get_var(&d);
                        } else {
                                uint64_t bits = get_le(&d, 8);
                                memcpy(&v, &bits, 8);
                        }
                        if (!known || id >= r->nser || !r->key[id]) {
                                r->st->lost_values++;
                                continue;
                        }
                        json_object *x = json_object_new_object();
                        json_object_object_add(x, "key", json_object_new_string(r->key[id]));
                        if (r->subject[id])
                                json_object_object_add(x, "subject", json_object_new_string(r->subject[id]));
                        json_object_object_add(x, "value", json_object_new_double(v));
                        if (r->unit[id])
                                json_object_object_add(x, "unit", json_object_new_string(r->unit[id]));
                        json_object_array_add(vals, x);
                }
                if (d.bad) {
                        json_object_put(vals);
                        return false;
                }
                o = item_new("sample", ms);
                json_object_object_add(o, "round", json_object_new_int64((int64_t)round));
                json_object_object_add(o, "values", vals);
                break;
        }
        case REC_EVENT: {
                ms = get_le(&d, 8);
                unsigned sev = get_u8(&d), prev = get_u8(&d), flags = get_u8(&d);
                _cleanup_free_ char *id = get_str(&d), *subj = get_str(&d), *sum = get_str(&d);
                if (d.bad || !id || !sev_ok(sev) || !sev_ok(prev))
                        return false;
                o = item_new("event", ms);
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "subject", subj ? json_object_new_string(subj) : NULL);
                json_object_object_add(o, "severity", json_object_new_string(severity_name((enum severity)sev)));
                json_object_object_add(o, "previous", json_object_new_string(severity_name((enum severity)prev)));
                json_object_object_add(o, "summary", json_object_new_string(sum ? sum : ""));
                json_object_object_add(o, "baseline", json_object_new_boolean(flags & 1));
                json_object_object_add(o, "gone", json_object_new_boolean(flags & 2));
                break;
        }
        case REC_STATUS: {
                ms = get_le(&d, 8);
                uint64_t n = get_var(&d);
                if (d.bad || n > len)
                        return false;
                json_object *a = json_object_new_array();
                for (uint64_t i = 0; i < n && !d.bad; i++) {
                        unsigned sev = get_u8(&d);
                        _cleanup_free_ char *id = get_str(&d), *subj = get_str(&d), *sum = get_str(&d);
                        if (d.bad || !id || !sev_ok(sev))
                                break;
                        json_object *x = json_object_new_object();
                        json_object_object_add(x, "id", json_object_new_string(id));
                        if (subj)
                                json_object_object_add(x, "subject", json_object_new_string(subj));
                        json_object_object_add(x, "severity", json_object_new_string(severity_name((enum severity)sev)));
                        json_object_object_add(x, "summary", json_object_new_string(sum ? sum : ""));
                        json_object_array_add(a, x);
                }
                if (d.bad) {
                        json_object_put(a);
                        return false;
                }
                o = item_new("statuses", ms);
                json_object_object_add(o, "statuses", a);
                break;
        }
        case REC_NOTE: {
                ms = get_le(&d, 8);
                _cleanup_free_ char *kind = get_str(&d), *text = get_str(&d);
                if (d.bad)
                        return false;
                o = item_new("note", ms);
                json_object_object_add(o, "kind", json_object_new_string(kind ? kind : ""));
                json_object_object_add(o, "text", json_object_new_string(text ? text : ""));
                break;
        }
        default:
                return false; /* a newer writer's record type: skipped, reported */
        }
        seen_time(r, ms);
        deliver(r, o, ms);
        return true;
}

int recorder_read_buffer(const char *file, const unsigned char *buf, size_t len, uint64_t since_ms,
                         int (*fn)(void *arg, json_object *item), void *arg, struct rec_stats *st)
{
        struct reader r = {.file = file, .since = since_ms, .fn = fn, .arg = arg, .st = st};
        size_t off = 0;
        bool any = false;
        /* A recording starts with a record; one that does not and holds none is
         * something else: say so without reporting it as damage. */
        if (len && memcmp(buf, REC_MAGIC, len < 4 ? len : 4) != 0) {
                valid_end_of(buf, len, &any);
                if (!any)
                        return -EINVAL;
        }
        st->segments++;
        while (off < len && !r.stop) {
                size_t n = valid_at(buf, len, off);
                if (n) {
                        any = true;
                        uint32_t plen = (uint32_t)(n - REC_HEADER);
                        st->records++;
                        st->bytes += n;
                        if (!decode(&r, buf[off + 12], buf + off + REC_HEADER, plen)) {
                                st->damaged++;
                                st->damaged_bytes += n;
                                damage(&r, "undecodable", off, n, "a record with a valid checksum that does not decode (newer format?)");
                        }
                        off += n;
                        continue;
                }
                const unsigned char *m = off + 1 < len ? memmem(buf + off + 1, len - off - 1, REC_MAGIC, 4) : NULL;
                while (m && !valid_at(buf, len, (size_t)(m - buf)))
                        m = (size_t)(m - buf) + 1 < len ? memmem(m + 1, len - (size_t)(m - buf) - 1, REC_MAGIC, 4) : NULL;
                if (!m) {
                        /* Nothing valid follows: the last record was cut short (a kill
                         * or crash mid-write) or damaged. */
                        st->torn = true;
                        st->torn_offset = off;
                        st->torn_bytes = len - off;
                        snprintf(st->torn_file, sizeof(st->torn_file), "%s", file);
                        damage(&r, "torn", off, len - off, "incomplete last record (the writer was stopped mid-write): skipped");
                        break;
                }
                size_t skip = (size_t)(m - buf) - off;
                st->damaged++;
                st->damaged_bytes += skip;
                damage(&r, "corrupt", off, skip, "checksum or header mismatch: skipped up to the next valid record");
                off = (size_t)(m - buf);
        }
        /* A window later than every item: still say what the state was. */
        if (r.pending_session || r.pending_status) {
                uint64_t since = r.since;
                r.since = 0;
                json_object *held[2] = {r.pending_session, r.pending_status};
                r.pending_session = r.pending_status = NULL;
                (void)since;
                for (int i = 0; i < 2; i++)
                        if (held[i]) {
                                if (!r.stop && fn(arg, held[i]) < 0)
                                        r.stop = true;
                                json_object_put(held[i]);
                        }
        }
        ser_free(&r);
        if (len && !any && memcmp(buf, REC_MAGIC, len < 4 ? len : 4) != 0)
                return -EINVAL;
        return 0;
}

int recorder_read(const char *path, uint64_t since_ms, int (*fn)(void *arg, json_object *item), void *arg,
                  struct rec_stats *st)
{
        *st = (struct rec_stats){0};
        _cleanup_free_ char *p1 = xasprintf("%s.1", path);
        int found = 0, last_err = -ENOENT;
        for (int i = 0; i < 2; i++) {
                const char *p = i ? path : p1;
                unsigned char *buf;
                size_t len;
                int e = read_whole(p, &buf, &len);
                if (e < 0) {
                        if (e != -ENOENT || i == 1)
                                last_err = e;
                        continue;
                }
                e = recorder_read_buffer(p, buf, len, since_ms, fn, arg, st);
                free(buf);
                if (e < 0)
                        return e;
                found++;
        }
        return found ? 0 : last_err;
}

/* ---------------- text ---------------- */

static const char *jstr(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && v && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                                      : NULL;
}

static int64_t jint(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static void upper(char *dst, const char *s, size_t n)
{
        size_t i = 0;
        for (; s && s[i] && i < n - 1; i++)
                dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
        dst[i] = 0;
}

static void fmt_value(struct strbuf *b, double v)
{
        if (is_int(v) || (isfinite(v) && v == floor(v) && fabs(v) < 1e15))
                sb_printf(b, "%.0f", v);
        else
                sb_printf(b, "%.2f", v);
}

char *recorder_item_text(json_object *o)
{
        const char *type = jstr(o, "type");
        struct strbuf b = {0};
        char ts[40];
        watch_time((uint64_t)jint(o, "time_ms"), false, ts);
        if (!type) {
                sb_puts(&b, "");
        } else if (streq(type, "event")) {
                char sev[16], prev[16];
                upper(sev, jstr(o, "severity"), sizeof(sev));
                upper(prev, jstr(o, "previous"), sizeof(prev));
                json_object *bl, *gone;
                bool baseline = json_object_object_get_ex(o, "baseline", &bl) && json_object_get_boolean(bl);
                bool g = json_object_object_get_ex(o, "gone", &gone) && json_object_get_boolean(gone);
                sb_printf(&b, "%s %-7s %s", ts, sev, jstr(o, "id") ? jstr(o, "id") : "?");
                /* The subject, unless the summary already starts with it ("pid 12 x: ..."). */
                const char *subj = jstr(o, "subject"), *sum = jstr(o, "summary");
                if (subj && !(sum && startswith(sum, subj)))
                        sb_printf(&b, " [%s]", subj);
                sb_printf(&b, ": %s", jstr(o, "summary") ? jstr(o, "summary") : "");
                if (baseline)
                        sb_puts(&b, " (at start)");
                else if (g)
                        sb_printf(&b, " (was %s)", jstr(o, "previous") ? jstr(o, "previous") : "?");
                else
                        sb_printf(&b, " (was %s)", jstr(o, "previous") ? jstr(o, "previous") : "?");
                (void)prev;
        } else if (streq(type, "sample")) {
                json_object *vals;
                sb_printf(&b, "%s sample %lld:", ts, (long long)jint(o, "round"));
                if (json_object_object_get_ex(o, "values", &vals))
                        for (size_t i = 0; i < json_object_array_length(vals); i++) {
                                json_object *v = json_object_array_get_idx(vals, i), *x;
                                sb_printf(&b, "%s %s", i ? "," : "", jstr(v, "key") ? jstr(v, "key") : "?");
                                if (jstr(v, "subject"))
                                        sb_printf(&b, "[%s]", jstr(v, "subject"));
                                sb_putc(&b, '=');
                                fmt_value(&b, json_object_object_get_ex(v, "value", &x) ? json_object_get_double(x) : 0);
                                if (jstr(v, "unit") && *jstr(v, "unit"))
                                        sb_printf(&b, " %s", jstr(v, "unit"));
                        }
        } else if (streq(type, "session")) {
                if (streq(jstr(o, "reason") ? jstr(o, "reason") : "", "start"))
                        sb_printf(&b, "%s ---- session %lld on %s, interval %lld ms (evodiag %s)", ts, (long long)jint(o, "session"),
                                  jstr(o, "host") ? jstr(o, "host") : "?", (long long)jint(o, "interval_ms"),
                                  jstr(o, "version") ? jstr(o, "version") : "?");
        } else if (streq(type, "statuses")) {
                json_object *a;
                size_t n = json_object_object_get_ex(o, "statuses", &a) ? json_object_array_length(a) : 0;
                sb_printf(&b, "%s statuses: %zu not ok", ts, n);
                for (size_t i = 0; i < n; i++) {
                        json_object *s = json_object_array_get_idx(a, i);
                        char sev[16];
                        upper(sev, jstr(s, "severity"), sizeof(sev));
                        sb_printf(&b, "%s %s %s", i ? ";" : ":", sev, jstr(s, "id") ? jstr(s, "id") : "?");
                        if (jstr(s, "subject"))
                                sb_printf(&b, " [%s]", jstr(s, "subject"));
                }
        } else if (streq(type, "note")) {
                char kind[32];
                upper(kind, jstr(o, "kind"), sizeof(kind));
                sb_printf(&b, "%s %-7s %s", ts, kind, jstr(o, "text") ? jstr(o, "text") : "");
        } else if (streq(type, "damage")) {
                sb_printf(&b, "-- %s: %s at offset %lld (%lld bytes): %s", jstr(o, "file") ? jstr(o, "file") : "?",
                          streq(jstr(o, "what") ? jstr(o, "what") : "", "torn") ? "torn last record" : "damaged record(s)",
                          (long long)jint(o, "offset"), (long long)jint(o, "bytes"), jstr(o, "reason") ? jstr(o, "reason") : "");
        }
        /* Names and summaries come from the host: one line, no control characters. */
        _cleanup_free_ char *raw = sb_steal(&b);
        return esc_text_dup(raw);
}

/* ---------------- bundles ---------------- */

static char *current;

void recorder_set_current(const char *path)
{
        free(current);
        current = path ? xstrdup(path) : NULL;
}

char *recorder_find(const struct config *cfg, const char *state_dir)
{
        struct stat st;
        if (current && stat(current, &st) == 0)
                return xstrdup(current);
        const struct config_entry *e = cfg ? config_get(cfg, "watch", "record_dir") : NULL;
        _cleanup_free_ char *dir = e ? xstrdup(e->value) : xasprintf("%s/watch", state_dir ? state_dir : "/var/lib/evodiag");
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        char *best = NULL;
        time_t best_t = 0;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n < 5 || !streq(de->d_name + n - 4, ".rec"))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (!best || st.st_mtime > best_t) {
                        free(best);
                        best = xstrdup(p);
                        best_t = st.st_mtime;
                }
        }
        closedir(d);
        return best;
}

struct collect {
        struct strbuf text, jsonl;
        size_t items;
};

static int last_cb(void *arg, json_object *item)
{
        (void)arg;
        (void)item;
        return 0;
}

static int collect_cb(void *arg, json_object *item)
{
        struct collect *c = arg;
        _cleanup_free_ char *t = recorder_item_text(item);
        if (*t)
                sb_printf(&c->text, "%s\n", t);
        _cleanup_free_ char *j = json_text(item, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        sb_printf(&c->jsonl, "%s\n", j);
        c->items++;
        return 0;
}

size_t recorder_bundle_window(const struct config *cfg, const char *state_dir, struct strbuf *text, struct strbuf *items,
                              char **origin, struct strbuf *log)
{
        *origin = NULL;
        _cleanup_free_ char *path = recorder_find(cfg, state_dir);
        if (!path) {
                const struct config_entry *e = cfg ? config_get(cfg, "watch", "record_dir") : NULL;
                sb_printf(log, "[watch] no recording in %s%s (evodiag watch --record DIR keeps one there)\n",
                          e ? e->value : state_dir ? state_dir : "/var/lib/evodiag", e ? "" : "/watch");
                return 0;
        }
        uint64_t window = BUNDLE_WINDOW_MS;
        const struct config_entry *e = cfg ? config_get(cfg, "watch", "bundle_window") : NULL;
        if (e)
                (void)parse_duration_ms(e->value, &window);
        struct rec_stats st;
        int r = recorder_read(path, 0, last_cb, NULL, &st);
        if (r < 0) {
                sb_printf(log, "[watch] recording %s could not be read: %s\n", path, r == -EINVAL ? "not a recording" : strerror(-r));
                return 0;
        }
        uint64_t since = st.last_ms > window ? st.last_ms - window : 0;
        struct collect c = {0};
        r = recorder_read(path, since, collect_cb, &c, &st);
        char from[40], to[40];
        watch_time(since > st.first_ms ? since : st.first_ms, false, from);
        watch_time(st.last_ms, false, to);
        size_t n = r == 0 ? c.items : 0;
        if (n) {
                *origin = xasprintf("%s (evodiag watch recording, %s to %s)", path, from, to);
                *text = c.text;
                *items = c.jsonl;
                c.text = c.jsonl = (struct strbuf){0};
        }
        uint64_t age = now_ms_realtime() > st.last_ms ? (now_ms_realtime() - st.last_ms) / 1000 : 0;
        sb_printf(log, "[watch] recording %s: %zu items from %s to %s (last %llu min; it ended %llu s ago)%s%s\n", path, c.items,
                  from, to, (unsigned long long)(window / 60000), (unsigned long long)age,
                  st.damaged || st.torn ? "; damaged records skipped" : "", c.items ? "" : "; nothing to add");
        sb_free(&c.text);
        sb_free(&c.jsonl);
        return n;
}
