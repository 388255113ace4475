#include "config.h"
#include "report/recorder.h"
#include "report/recorder_codec.h"
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
#include <sys/stat.h>
#include <limits.h>

/* The reading side of the flight recorder (report/recorder.h): records back into
 * items, the replay timeline's text, and the window a bundle takes. */

#define BUNDLE_WINDOW_MS (15ull * 60 * 1000)

int rec_read_whole(const char *path, unsigned char **buf, size_t *len)
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


/* A whole, valid record at off: its total length, else 0. */
size_t rec_valid_at(const unsigned char *buf, size_t len, size_t off)
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

uint64_t rec_valid_end(const unsigned char *buf, size_t len, bool *any)
{
        size_t off = 0, end = 0;
        *any = false;
        while (off < len) {
                size_t n = rec_valid_at(buf, len, off);
                if (n) {
                        off += n;
                        end = off;
                        *any = true;
                        continue;
                }
                /* Damage: the next valid record, if any. */
                const unsigned char *m = off + 1 < len ? memmem(buf + off + 1, len - off - 1, REC_MAGIC, 4) : NULL;
                while (m && !rec_valid_at(buf, len, (size_t)(m - buf)))
                        m = (size_t)(m - buf) + 1 < len ? memmem(m + 1, len - (size_t)(m - buf) - 1, REC_MAGIC, 4) : NULL;
                if (!m)
                        break;
                off = (size_t)(m - buf);
        }
        return end;
}

/* ---------------- reading ---------------- */

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
                json_object_object_add(o, "previous", json_object_new_string(flags & 4 ? "new" : severity_name((enum severity)prev)));
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
                rec_valid_end(buf, len, &any);
                if (!any)
                        return -EINVAL;
        }
        st->segments++;
        while (off < len && !r.stop) {
                size_t n = rec_valid_at(buf, len, off);
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
                while (m && !rec_valid_at(buf, len, (size_t)(m - buf)))
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
                int e = rec_read_whole(p, &buf, &len);
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
                else if (streq(jstr(o, "previous") ? jstr(o, "previous") : "", "new"))
                        sb_puts(&b, " (new)");
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
        /* Names and summaries come from the host: one line, no control characters;
         * ASCII only under a locale that is not UTF-8 (LC_ALL=C), as check's text. */
        _cleanup_free_ char *raw = sb_steal(&b);
        struct strbuf e = {0};
        esc_text(&e, raw, locale_ascii() ? ESC_ASCII : 0);
        return sb_steal(&e);
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

/* ---------------- --replay ---------------- */

struct replay {
        bool json;
        struct replay_filter f;
        FILE *out;
};

static bool id_selected(const char *const *ids, const char *id)
{
        if (!ids)
                return true;
        for (size_t i = 0; id && ids[i]; i++) {
                size_t n = strlen(ids[i]);
                if (streq(id, ids[i]) || (!strchr(ids[i], '.') && strncmp(id, ids[i], n) == 0 && id[n] == '.'))
                        return true;
        }
        return false;
}

static int replay_item(void *arg, json_object *item)
{
        struct replay *rp = arg;
        const char *type = jstr(item, "type") ? jstr(item, "type") : "";
        uint64_t t = (uint64_t)jint(item, "time_ms");
        bool timeline = !streq(type, "sample") && !streq(type, "statuses");
        if (!rp->json && !timeline && !rp->f.samples)
                return 0;
        /* Damage has no time of its own: it is always said. */
        if (!streq(type, "damage") && ((rp->f.since_ms && t < rp->f.since_ms) || (rp->f.until_ms && t > rp->f.until_ms)))
                return 0;
        if (rp->f.ids && streq(type, "event") && !id_selected(rp->f.ids, jstr(item, "id")))
                return 0;
        if (rp->f.ids && (streq(type, "sample") || streq(type, "statuses")) && !rp->f.samples)
                return 0; /* --id asks for events; their samples only with --samples */
        _cleanup_free_ char *txt = rp->json ? json_text(item, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                                            : recorder_item_text(item);
        if (*txt)
                fprintf(rp->out, "%s\n", txt);
        return 0;
}

int recorder_replay(const char *path, bool json, const struct replay_filter *f, FILE *out)
{
        struct replay rp = {.json = json, .out = out};
        if (f)
                rp.f = *f;
        struct rec_stats st;
        int e = recorder_read(path, 0, replay_item, &rp, &st);
        fflush(out);
        if (e < 0)
                return e;
        char a[40] = "-", b[40] = "-";
        if (st.records) {
                watch_time(st.first_ms, false, a);
                watch_time(st.last_ms, false, b);
        }
        fprintf(stderr, "evodiag: %s: %llu records in %u segment%s, %s to %s", path, (unsigned long long)st.records, st.segments,
                st.segments == 1 ? "" : "s", a, b);
        if (st.damaged)
                fprintf(stderr, "; %llu damaged stretch%s (%llu bytes) skipped", (unsigned long long)st.damaged,
                        st.damaged == 1 ? "" : "es", (unsigned long long)st.damaged_bytes);
        if (st.torn)
                fprintf(stderr, "; torn last record in %s at offset %llu (%llu bytes) skipped", st.torn_file,
                        (unsigned long long)st.torn_offset, (unsigned long long)st.torn_bytes);
        if (st.lost_values)
                fprintf(stderr, "; %llu values whose series definitions were lost", (unsigned long long)st.lost_values);
        fputc('\n', stderr);
        return st.damaged ? 1 : 0;
}
