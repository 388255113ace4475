#include "config.h"
#include "collectors/frame.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

int frame_write_header(int fd, json_object *hdr, uint64_t size)
{
        json_object_object_add(hdr, "size", json_object_new_int64(size > INT64_MAX ? INT64_MAX : (int64_t)size));
        const char *h = json_object_to_json_string_ext(hdr, JSON_FLAGS);
        size_t hl = strlen(h);
        int r;
        if (hl >= FRAME_HEADER_MAX) {
                r = -E2BIG;
        } else {
                /* One write: the line and its newline. */
                _cleanup_free_ char *line = xmalloc(hl + 1);
                memcpy(line, h, hl);
                line[hl] = '\n';
                r = write_all(fd, line, hl + 1);
        }
        json_object_put(hdr);
        return r;
}

int frame_write(int fd, json_object *hdr, const void *data, size_t len)
{
        int r = frame_write_header(fd, hdr, len);
        return r == 0 && len ? write_all(fd, data, len) : r;
}

/* s cut to FINDING_FIELD_MAX bytes at a UTF-8 character boundary, saying so. */
static char *cut_field(const char *s)
{
        if (!s)
                return NULL;
        size_t n = strlen(s);
        if (n <= FINDING_FIELD_MAX)
                return xstrdup(s);
        size_t k = FINDING_FIELD_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
                k--;
        return xasprintf("%.*s… [cut: %zu bytes]", (int)k, s, n);
}

/* One finding as JSON text that always fits a frame: fields cut when it would not. */
static char *finding_text(const struct finding *f)
{
        json_object *o = finding_to_json(f);
        const char *s = json_object_to_json_string_ext(o, JSON_FLAGS);
        if (strlen(s) > FINDINGS_FRAME_BYTES) {
                /* Seven fields of at most 8 KiB, each byte escaped to at most 6: < 1 MiB. */
                struct finding c = {
                        .id = cut_field(f->id), .sev = f->sev, .summary = cut_field(f->summary),
                        .expected = cut_field(f->expected), .actual = cut_field(f->actual), .remedy = cut_field(f->remedy),
                        .evidence = cut_field(f->evidence), .subject = cut_field(f->subject),
                };
                json_object_put(o);
                o = finding_to_json(&c);
                s = json_object_to_json_string_ext(o, JSON_FLAGS);
                free(c.id), free(c.summary), free(c.expected), free(c.actual);
                free(c.remedy), free(c.evidence), free(c.subject);
        }
        char *r = xstrdup(s);
        json_object_put(o);
        return r;
}

void findings_add_cut(struct findings *fs, const char *collector, size_t kept, size_t total, bool total_known)
{
        _cleanup_free_ char *id = xasprintf("%s.findings_cut", collector);
        struct finding *f;
        if (total_known)
                f = fnd_add(fs, SEV_UNKNOWN, id, "findings cut at %zu: the %s collector reported %zu, the other %zu are not in this report",
                            kept, collector, total, total - kept);
        else
                f = fnd_add(fs, SEV_UNKNOWN, id, "findings cut at %zu: the %s collector reported more than a run keeps", kept,
                            collector);
        fnd_expected(f, "at most %d findings (%u MiB) per collector", FINDINGS_MAX, FINDINGS_BYTES_MAX >> 20);
        fnd_actual(f, "%zu kept of %s%zu", kept, total_known ? "" : "more than ", total);
        fnd_remedy(f, "evodiag check --json --only %s | jq '[.collectors[].findings[].id] | group_by(.) | map({(.[0]): length}) | add'"
                      "   # which check floods: leaked segments, runaway processes?", collector);
        fnd_evidence(f, "evodiag (the %s collector's child)", collector);
}

struct frame_out {
        int fd;
        bool applies;
        struct strbuf b;
        size_t in_frame;
        uint64_t bytes;
        int err;
};

static void frame_begin(struct frame_out *o)
{
        o->b.len = 0;
        sb_printf(&o->b, "{\"t\":\"findings\",\"applies\":%s,\"findings\":[", o->applies ? "true" : "false");
        o->in_frame = 0;
}

static void frame_flush(struct frame_out *o)
{
        sb_puts(&o->b, "]}\n");
        o->bytes += o->b.len;
        if (!o->err)
                o->err = write_all(o->fd, o->b.s, o->b.len);
        frame_begin(o);
}

static void frame_add(struct frame_out *o, const char *text)
{
        size_t n = strlen(text);
        if (o->in_frame && o->b.len + n + 4 > FINDINGS_FRAME_BYTES)
                frame_flush(o);
        if (o->in_frame)
                sb_putc(&o->b, ',');
        sb_putn(&o->b, text, n);
        o->in_frame++;
}

int frame_send_findings(int fd, const char *collector, bool applies, const struct findings *fs)
{
        struct frame_out o = {.fd = fd, .applies = applies};
        frame_begin(&o);
        size_t sent = 0;
        /* Room kept for the findings_cut finding and the frame around it. */
        const uint64_t byte_budget = FINDINGS_BYTES_MAX - 2 * FINDINGS_FRAME_BYTES;
        for (size_t i = 0; i < fs->n && !o.err; i++) {
                _cleanup_free_ char *t = finding_text(&fs->v[i]);
                if (sent >= FINDINGS_MAX || o.bytes + o.b.len + strlen(t) > byte_budget) {
                        struct findings cut = {0};
                        findings_add_cut(&cut, collector, sent, fs->n, true);
                        _cleanup_free_ char *ct = finding_text(&cut.v[0]);
                        findings_free(&cut);
                        frame_add(&o, ct);
                        sent++;
                        break;
                }
                frame_add(&o, t);
                sent++;
        }
        if (fault_wanted(collector, "forge")) {
                /* Test builds: a child that claims another collector's check. */
                struct findings forged = {0};
                fnd_add(&forged, SEV_CRIT, "shm.orphaned", "forged by EVODIAG_FAULT=%s:forge", collector);
                _cleanup_free_ char *ft = finding_text(&forged.v[0]);
                findings_free(&forged);
                frame_add(&o, ft);
                sent++;
        }
        frame_flush(&o);
        sb_free(&o.b);
        if (o.err)
                return o.err;
        json_object *end = json_object_new_object();
        json_object_object_add(end, "t", json_object_new_string("findings_end"));
        json_object_object_add(end, "count", json_object_new_int64((int64_t)sent));
        return frame_write(fd, end, NULL, 0);
}

/* ---- parent side ---- */

/* Exactly one JSON object in buf[0..n), or NULL. */
static json_object *parse_object(json_tokener *tok, const char *buf, size_t n)
{
        if (n == 0 || n > INT_MAX)
                return NULL;
        json_tokener_reset(tok);
        json_object *o = json_tokener_parse_ex(tok, buf, (int)n);
        if (o && (json_tokener_get_parse_end(tok) != n || !json_object_is_type(o, json_type_object))) {
                json_object_put(o);
                o = NULL;
        }
        return o;
}

json_object *frame_parse_header(const char *line, size_t n)
{
        if (n == 0 || n >= FRAME_HEADER_MAX)
                return NULL;
        json_tokener *tok = json_tokener_new();
        json_object *h = tok ? parse_object(tok, line, n) : NULL;
        if (tok)
                json_tokener_free(tok);
        return h;
}

static const char *hdr_type(json_object *hdr)
{
        json_object *t;
        return json_object_object_get_ex(hdr, "t", &t) && json_object_is_type(t, json_type_string) ? json_object_get_string(t)
                                                                                                   : NULL;
}

bool frame_is_findings(json_object *hdr)
{
        const char *t = hdr_type(hdr);
        return t && (streq(t, "findings") || streq(t, "findings_end"));
}

int findings_rx_frame(struct findings_rx *rx, json_object *hdr, size_t line_len)
{
        const char *t = hdr_type(hdr);
        json_object *v, *arr;
        if (!t || rx->ended)
                return -EPROTO;
        if (streq(t, "findings_end")) {
                if (!json_object_object_get_ex(hdr, "count", &v) || !json_object_is_type(v, json_type_int) ||
                    json_object_get_int64(v) < 0)
                        return -EPROTO;
                rx->declared = (size_t)json_object_get_int64(v);
                rx->ended = true;
                return 0;
        }
        if (!streq(t, "findings") || !json_object_object_get_ex(hdr, "applies", &v) ||
            !json_object_is_type(v, json_type_boolean) || !json_object_object_get_ex(hdr, "findings", &arr) ||
            !json_object_is_type(arr, json_type_array))
                return -EPROTO;
        bool applies = json_object_get_boolean(v);
        if (rx->begun && applies != rx->applies)
                return -EPROTO;
        rx->begun = true;
        rx->applies = applies;
        size_t n = json_object_array_length(arr);
        rx->received += n;
        /* One over FINDINGS_MAX: the child's own findings_cut finding. */
        if (rx->dropped || rx->fs.n + n > FINDINGS_MAX + 1 || rx->bytes + line_len > FINDINGS_BYTES_MAX) {
                rx->dropped += n;
                return 0;
        }
        rx->bytes += line_len;
        size_t had = rx->fs.n;
        if (findings_from_json(&rx->fs, arr) < 0)
                return -EPROTO;
        for (size_t i = had; rx->c && !rx->undeclared && i < rx->fs.n; i++)
                if (!collector_declares(rx->c, rx->fs.v[i].id))
                        rx->undeclared = xstrdup(rx->fs.v[i].id);
        return 0;
}

/* The words for a child that claimed a check its collector does not have: the ID is
 * the child's, so it is cut and shown escaped. */
static char *undeclared_why(const char *id)
{
        _cleanup_free_ char *shown = str_printable(id);
        return xasprintf("sent an undeclared check ID '%.80s'", shown);
}

int findings_rx_finish(struct findings_rx *rx, const char *collector, char **why)
{
        *why = NULL;
        if (rx->undeclared) {
                *why = undeclared_why(rx->undeclared);
                return -EPROTO;
        }
        if (!rx->begun || !rx->ended) {
                *why = rx->begun ? xasprintf("sent incomplete results: findings stopped after %zu without their end", rx->received)
                                 : xstrdup("sent incomplete results: sent no findings");
                return -EPROTO;
        }
        if (rx->declared != rx->received) {
                *why = xasprintf("sent incomplete results: announced %zu findings, %zu arrived", rx->declared, rx->received);
                return -EPROTO;
        }

        if (rx->dropped)
                findings_add_cut(&rx->fs, collector, rx->fs.n, rx->received, true);
        return 0;
}

void findings_rx_free(struct findings_rx *rx)
{
        findings_free(&rx->fs);
        free(rx->undeclared);
        *rx = (struct findings_rx){0};
}

/* ---- the reader ---- */

#define FRAME_CHUNK (64u << 10)

void frame_reader_init(struct frame_reader *r, int fd, uint64_t payload_max)
{
        *r = (struct frame_reader){.fd = fd, .payload_max = payload_max, .tok = json_tokener_new()};
}

void frame_reader_free(struct frame_reader *r)
{
        json_object_put(r->hdr);
        if (r->tok)
                json_tokener_free(r->tok);
        free(r->buf);
        free(r->why);
        *r = (struct frame_reader){.fd = -1};
}

PRINTF(3, 4) static int fail(struct frame_reader *r, int err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        free(r->why);
        r->why = xvasprintf(fmt, ap);
        va_end(ap);
        return err;
}

/* Forgets the frame frame_next handed out last: its header and payload. */
static void release(struct frame_reader *r)
{
        if (r->delivered) {
                json_object_put(r->hdr);
                r->hdr = NULL;
                r->start += r->consume;
                r->consume = 0;
                r->delivered = false;
        }
        if (r->start == r->end)
                r->start = r->end = 0;
}

long frame_reader_fill(struct frame_reader *r)
{
        release(r);
        if (r->cap - r->end < FRAME_CHUNK && r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
        }
        if (r->cap - r->end < FRAME_CHUNK) {
                r->cap = r->end + FRAME_CHUNK;
                r->buf = xrealloc(r->buf, r->cap);
        }
        ssize_t n = read(r->fd, r->buf + r->end, FRAME_CHUNK);
        if (n < 0)
                return errno == EINTR ? -EAGAIN : -errno;
        if (n == 0)
                r->eof = true;
        r->end += (size_t)n;
        return n;
}

static const char *hdr_type(json_object *hdr);

/* The next header line of the buffer into r->hdr (and r->left): 1, 0 when its end
 * has not come yet, or an error. Bytes after it stay for the payload. */
static int take_header(struct frame_reader *r, size_t *line_len)
{
        const char *p = r->buf + r->start;
        size_t avail = r->end - r->start;
        const char *nl = avail ? memchr(p, '\n', avail < FRAME_HEADER_MAX ? avail : FRAME_HEADER_MAX) : NULL;
        if (!nl)
                return avail >= FRAME_HEADER_MAX ? fail(r, -EPROTO, "a frame header over %u bytes", FRAME_HEADER_MAX) : 0;
        size_t n = (size_t)(nl - p);
        json_object *h = r->tok ? parse_object(r->tok, p, n) : NULL, *size;
        if (!h)
                return fail(r, -EPROTO, "a frame header that is not a JSON object");
        uint64_t sz = 0;
        if (json_object_object_get_ex(h, "size", &size)) {
                if (!json_object_is_type(size, json_type_int) || json_object_get_int64(size) < 0) {
                        json_object_put(h);
                        return fail(r, -EPROTO, "a frame of the wrong shape (its size is not a byte count)");
                }
                sz = (uint64_t)json_object_get_int64(size);
        }
        if (sz > r->payload_max) {
                json_object_put(h);
                if (r->payload_max == 0)
                        return fail(r, -EFBIG, "a frame of the wrong shape (a payload of %llu bytes where none may come)",
                                    (unsigned long long)sz);
                return fail(r, -EFBIG, "a frame payload of %llu bytes, more than %llu", (unsigned long long)sz,
                            (unsigned long long)r->payload_max);
        }
        r->start += n + 1;
        r->hdr = h;
        r->left = sz;
        *line_len = n + 1;
        return 1;
}

static void fill_frame(struct frame_reader *r, struct frame *f, size_t line_len, const char *payload)
{
        *f = (struct frame){.hdr = r->hdr, .type = hdr_type(r->hdr), .line_len = line_len, .size = r->left, .payload = payload};
}

int frame_next(struct frame_reader *r, struct frame *f)
{
        release(r);
        if (!r->pending) {
                int k = take_header(r, &r->line_len);
                if (k < 0)
                        return k;
                if (k == 0)
                        return !r->eof ? 0 : r->end > r->start ? fail(r, -EBADMSG, "the last frame is cut short") : -EPIPE;
                r->pending = true;
        }
        if (r->end - r->start < r->left)
                return r->eof ? fail(r, -EBADMSG, "the last frame is cut short") : 0;
        r->pending = false;
        fill_frame(r, f, r->line_len, r->buf + r->start);
        r->consume = r->left;
        r->left = 0;
        r->delivered = true;
        return 1;
}

/* Blocks until more bytes are buffered: 0, -EPIPE at the end of the stream, -ETIMEDOUT, -EINTR, -errno. */
static int wait_fill(struct frame_reader *r)
{
        for (;;) {
                if (r->stop && *r->stop)
                        return -EINTR;
                int timeout = -1;
                if (r->deadline_ms) {
                        uint64_t now = now_ms_monotonic();
                        if (now >= r->deadline_ms)
                                return -ETIMEDOUT;
                        timeout = r->deadline_ms - now > INT_MAX ? INT_MAX : (int)(r->deadline_ms - now);
                }
                struct pollfd p = {.fd = r->fd, .events = POLLIN};
                int pr = poll(&p, 1, timeout);
                if (pr < 0 && errno != EINTR)
                        return -errno;
                if (pr <= 0)
                        continue;
                long n = frame_reader_fill(r);
                if (n > 0)
                        return 0;
                if (n == 0)
                        return -EPIPE;
                if (n != -EAGAIN)
                        return (int)n;
        }
}

long frame_read_payload(struct frame_reader *r, const char **chunk)
{
        if (!r->left)
                return 0;
        if (r->start == r->end) {
                int e = wait_fill(r);
                if (e < 0)
                        return r->err = e;
        }
        size_t n = r->end - r->start;
        if (n > r->left)
                n = (size_t)r->left;
        *chunk = r->buf + r->start;
        r->start += n;
        r->left -= n;
        return (long)n;
}

static int read_header(struct frame_reader *r, struct frame *f)
{
        const char *skip;
        long n;
        while ((n = frame_read_payload(r, &skip)) > 0)
                ;
        if (n < 0)
                return (int)n;
        json_object_put(r->hdr);
        r->hdr = NULL;
        for (;;) {
                size_t line_len;
                int k = take_header(r, &line_len);
                if (k < 0)
                        return k;
                if (k > 0) {
                        fill_frame(r, f, line_len, NULL);
                        return 1;
                }
                if (r->eof)
                        return r->end > r->start ? fail(r, -EBADMSG, "the last frame is cut short") : 0;
                int e = wait_fill(r);
                if (e < 0 && e != -EPIPE)
                        return e;
        }
}

int frame_read(struct frame_reader *r, struct frame *f)
{
        int k = read_header(r, f);
        if (k < 0)
                r->err = k;
        return k;
}

/* ---- watch: requests and answers ---- */

/* watch's two frames go out every interval for every sampler: their headers are
 * written directly (the same JSON frame_write would make, without building it). */
int frame_send_request(int fd, uint64_t n)
{
        char line[64];
        int k = snprintf(line, sizeof(line), "{\"t\":\"request\",\"n\":%llu}\n", (unsigned long long)(n > INT64_MAX ? INT64_MAX : n));
        return write_all(fd, line, (size_t)k);
}

int frame_send_request_pids(int fd, uint64_t n, const int *pids, size_t np)
{
        struct strbuf b = {0};
        sb_printf(&b, "{\"t\":\"request\",\"n\":%llu,\"new\":[", (unsigned long long)(n > INT64_MAX ? INT64_MAX : n));
        for (size_t i = 0; i < np; i++)
                sb_printf(&b, "%s%d", i ? "," : "", pids[i]);
        sb_puts(&b, "]}\n");
        int e = write_all(fd, b.s, b.len);
        sb_free(&b);
        return e;
}

int frame_take_request_pids(struct frame_reader *r, uint64_t *n, int *pids, size_t max, size_t *np, bool *known)
{
        struct frame f;
        *np = 0;
        *known = false;
        int k = frame_read(r, &f);
        if (k <= 0)
                return k;
        json_object *v, *a;
        if (!f.type || !streq(f.type, "request") || f.size || !json_object_object_get_ex(f.hdr, "n", &v) ||
            !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                return fail(r, -EPROTO, "a request of the wrong shape");
        *n = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(f.hdr, "new", &a)) {
                if (!json_object_is_type(a, json_type_array))
                        return fail(r, -EPROTO, "a request of the wrong shape");
                *known = true;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *x = json_object_array_get_idx(a, i);
                        int64_t p = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : -1;
                        if (p <= 0 || p > INT32_MAX)
                                return fail(r, -EPROTO, "a request of the wrong shape");
                        if (*np < max)
                                pids[(*np)++] = (int)p;
                }
        }
        return 1;
}

int frame_take_request(struct frame_reader *r, uint64_t *n)
{
        size_t np;
        bool known;
        return frame_take_request_pids(r, n, NULL, 0, &np, &known);
}

/* ---- watch's answers: what changed since the child's last answer ---- */

/* Each child remembers what it sent last (struct sample_answer, strings owned) and the
 * parent what it received (the same struct): an answer is the edit script from one to
 * the next (see the top of frame.h). Entries match by identity: a value by key,
 * subject and unit, a status by ID and subject. */
#define DIFF_LOOKAHEAD 64 /* how far an entry is looked for among the old ones; past it, a new one */

static bool same_str(const char *a, const char *b)
{
        return a == b || (a && b && streq(a, b));
}

static bool same_num(double a, double b)
{
        return memcmp(&a, &b, sizeof(a)) == 0;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static void svalue_free(struct svalue *v)
{
        free((char *)v->key);
        free((char *)v->subject);
        free((char *)v->unit);
}

static void sstatus_free(struct sstatus *s)
{
        free((char *)s->id);
        free((char *)s->subject);
        free((char *)s->summary);
}

static const char *field_str(json_object *o, const char *key)
{
        json_object *x;
        return json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

/* The ops being written: runs of kept (> 0) or dropped (< 0) entries, and elements. */
struct ops {
        json_object *a;
        int64_t run;
};

static void ops_flush(struct ops *o)
{
        if (o->run)
                json_object_array_add(o->a, json_object_new_int64(o->run));
        o->run = 0;
}

static void ops_run(struct ops *o, int64_t k)
{
        if (o->run && (o->run > 0) != (k > 0))
                ops_flush(o);
        o->run += k;
}

static void ops_add(struct ops *o, json_object *x)
{
        ops_flush(o);
        json_object_array_add(o->a, x);
}

static json_object *str_json(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

/* The child's values now (from the sample's objects) against the last ones sent:
 * their ops, and *last becomes the values now. */
static json_object *diff_values(json_object *objs, struct sample_answer *last)
{
        size_t nn = objs ? json_object_array_length(objs) : 0, np = last->nv, c = 0;
        struct svalue *nv = xcalloc(nn ? nn : 1, sizeof(*nv));
        bool *taken = xcalloc(np ? np : 1, sizeof(*taken));
        struct ops o = {.a = json_object_new_array()};
        for (size_t j = 0; j < nn; j++) {
                json_object *x = json_object_array_get_idx(objs, j), *num;
                struct svalue v = {.key = field_str(x, "key"), .subject = field_str(x, "subject"), .unit = field_str(x, "unit")};
                v.value = json_object_object_get_ex(x, "value", &num) ? json_object_get_double(num) : 0;
                size_t m = SIZE_MAX;
                for (size_t i = c; i < np && i < c + DIFF_LOOKAHEAD; i++)
                        if (same_str(last->v[i].key, v.key) && same_str(last->v[i].subject, v.subject) &&
                            same_str(last->v[i].unit, v.unit)) {
                                m = i;
                                break;
                        }
                if (m == SIZE_MAX) {
                        json_object *e = json_object_new_array_ext(4);
                        json_object_array_add(e, str_json(v.key));
                        json_object_array_add(e, str_json(v.subject));
                        json_object_array_add(e, json_object_new_double(v.value));
                        json_object_array_add(e, str_json(v.unit));
                        ops_add(&o, e);
                        nv[j] = (struct svalue){.key = dup_or_null(v.key), .subject = dup_or_null(v.subject),
                                                .unit = dup_or_null(v.unit), .value = v.value};
                        continue;
                }
                if (m > c)
                        ops_run(&o, -(int64_t)(m - c));
                c = m + 1;
                if (same_num(last->v[m].value, v.value)) {
                        ops_run(&o, 1);
                } else {
                        json_object *e = json_object_new_array_ext(1);
                        json_object_array_add(e, json_object_new_double(v.value));
                        ops_add(&o, e);
                }
                nv[j] = last->v[m];
                nv[j].value = v.value;
                taken[m] = true;
        }
        if (c < np)
                ops_run(&o, -(int64_t)(np - c));
        ops_flush(&o);
        for (size_t i = 0; i < np; i++)
                if (!taken[i])
                        svalue_free(&last->v[i]);
        free(taken);
        free(last->v);
        last->v = nv;
        last->nv = nn;
        return o.a;
}

/* The same for the statuses. */
static json_object *diff_statuses(json_object *objs, struct sample_answer *last)
{
        size_t nn = objs ? json_object_array_length(objs) : 0, np = last->ns, c = 0;
        struct sstatus *ns = xcalloc(nn ? nn : 1, sizeof(*ns));
        bool *taken = xcalloc(np ? np : 1, sizeof(*taken));
        struct ops o = {.a = json_object_new_array()};
        for (size_t j = 0; j < nn; j++) {
                json_object *x = json_object_array_get_idx(objs, j);
                const char *sevname = field_str(x, "severity");
                struct sstatus s = {.id = field_str(x, "id"), .subject = field_str(x, "subject"), .summary = field_str(x, "summary")};
                /* (an unknown severity name goes out as it is: the parent refuses it) */
                bool sev_ok = sevname && severity_from_name(sevname, &s.sev) == 0;
                size_t m = SIZE_MAX;
                for (size_t i = c; sev_ok && i < np && i < c + DIFF_LOOKAHEAD; i++)
                        if (same_str(last->s[i].id, s.id) && same_str(last->s[i].subject, s.subject)) {
                                m = i;
                                break;
                        }
                if (m == SIZE_MAX) {
                        json_object *e = json_object_new_array_ext(4);
                        json_object_array_add(e, str_json(s.id));
                        json_object_array_add(e, str_json(s.subject));
                        json_object_array_add(e, str_json(sevname));
                        json_object_array_add(e, str_json(s.summary));
                        ops_add(&o, e);
                        ns[j] = (struct sstatus){.id = dup_or_null(s.id), .subject = dup_or_null(s.subject),
                                                 .summary = dup_or_null(s.summary), .sev = sev_ok ? s.sev : SEV_UNKNOWN};
                        continue;
                }
                if (m > c)
                        ops_run(&o, -(int64_t)(m - c));
                c = m + 1;
                ns[j] = last->s[m];
                taken[m] = true;
                if (last->s[m].sev == s.sev && same_str(last->s[m].summary, s.summary)) {
                        ops_run(&o, 1);
                        continue;
                }
                json_object *e = json_object_new_array_ext(2);
                json_object_array_add(e, str_json(sevname));
                json_object_array_add(e, str_json(s.summary));
                ops_add(&o, e);
                ns[j].sev = s.sev;
                if (!same_str(ns[j].summary, s.summary)) {
                        free((char *)ns[j].summary);
                        ns[j].summary = dup_or_null(s.summary);
                }
        }
        if (c < np)
                ops_run(&o, -(int64_t)(np - c));
        ops_flush(&o);
        for (size_t i = 0; i < np; i++)
                if (!taken[i])
                        sstatus_free(&last->s[i]);
        free(taken);
        free(last->s);
        last->s = ns;
        last->ns = nn;
        return o.a;
}

int frame_send_sample_since(int fd, uint64_t n, bool applies, const struct sample *s, struct sample_answer *last)
{
        const char *txt = "";
        json_object *p = NULL;
        if (applies) {
                p = json_object_new_object();
                json_object_object_add(p, "v", diff_values(s->values, last));
                json_object_object_add(p, "s", diff_statuses(s->statuses, last));
                txt = json_object_to_json_string_ext(p, JSON_FLAGS);
        }
        size_t len = strlen(txt);
        char line[128];
        int k = snprintf(line, sizeof(line), "{\"t\":\"sample\",\"n\":%llu,\"applies\":%s,\"size\":%zu}\n",
                         (unsigned long long)(n > INT64_MAX ? INT64_MAX : n), applies ? "true" : "false", len);
        int r = write_all(fd, line, (size_t)k);
        if (r == 0 && len)
                r = write_all(fd, txt, len);
        json_object_put(p);
        return r;
}

int frame_send_sample(int fd, uint64_t n, bool applies, const struct sample *s)
{
        struct sample_answer none = {0};
        int r = frame_send_sample_since(fd, n, applies, s, &none);
        sample_answer_free(&none);
        return r;
}

/* A string or null (NULL); false for anything else. */
static bool str_or_null(json_object *v, const char **out)
{
        if (!v) {
                *out = NULL;
                return true;
        }
        if (!json_object_is_type(v, json_type_string))
                return false;
        *out = json_object_get_string(v);
        return true;
}

static bool is_number(json_object *x)
{
        return json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int);
}

/* A run op: k entries kept (> 0) or dropped (< 0) of the `left` not yet covered. */
static bool run_of(json_object *x, size_t left, int64_t *k)
{
        if (!json_object_is_type(x, json_type_int))
                return false;
        *k = json_object_get_int64(x);
        return *k != 0 && *k != INT64_MIN && (uint64_t)(*k > 0 ? *k : -*k) <= left;
}

/* The ops of "v" applied to a->v: 0, or -EPROTO (a->v then freed and empty). */
static int apply_values(struct sample_answer *a, json_object *ops)
{
        size_t nops = json_object_array_length(ops), np = a->nv, c = 0, n = 0;
        struct svalue *nv = xcalloc(np + nops + 1, sizeof(*nv));
        for (size_t i = 0; i < nops; i++) {
                json_object *x = json_object_array_get_idx(ops, i), *num;
                int64_t k;
                if (run_of(x, np - c, &k)) {
                        if (k > 0) {
                                memcpy(nv + n, a->v + c, (size_t)k * sizeof(*nv));
                                n += (size_t)k;
                        } else {
                                for (int64_t j = 0; j < -k; j++)
                                        svalue_free(&a->v[c + (size_t)j]);
                        }
                        c += (size_t)(k > 0 ? k : -k);
                        continue;
                }
                if (!json_object_is_type(x, json_type_array))
                        goto bad;
                size_t len = json_object_array_length(x);
                if (len == 1 && c < np && is_number(num = json_object_array_get_idx(x, 0))) {
                        nv[n] = a->v[c++];
                        nv[n++].value = json_object_get_double(num);
                        continue;
                }
                struct svalue v;
                if (len != 4 || !json_object_is_type(json_object_array_get_idx(x, 0), json_type_string) ||
                    !str_or_null(json_object_array_get_idx(x, 1), &v.subject) || !str_or_null(json_object_array_get_idx(x, 3), &v.unit) ||
                    !is_number(num = json_object_array_get_idx(x, 2)))
                        goto bad;
                nv[n++] = (struct svalue){.key = xstrdup(json_object_get_string(json_object_array_get_idx(x, 0))),
                                          .subject = dup_or_null(v.subject), .unit = dup_or_null(v.unit),
                                          .value = json_object_get_double(num)};
        }
        if (c != np)
                goto bad;
        free(a->v);
        a->v = nv;
        a->nv = n;
        return 0;
bad:
        /* a->v[0..c) were moved into nv or freed; the rest are a->v's */
        for (size_t i = 0; i < n; i++)
                svalue_free(&nv[i]);
        for (size_t i = c; i < np; i++)
                svalue_free(&a->v[i]);
        free(nv);
        free(a->v);
        a->v = NULL;
        a->nv = 0;
        return -EPROTO;
}

static void gone_add(struct sample_answer *a, struct sstatus *s)
{
        if (a->ngone == a->capgone)
                a->gone = xrealloc(a->gone, (a->capgone = a->capgone ? a->capgone * 2 : 8) * sizeof(*a->gone));
        a->gone[a->ngone++] = *s;
}

/* A status reported again is not gone. */
static void gone_forget(struct sample_answer *a, const char *id, const char *subject)
{
        for (size_t i = a->ngone; i-- > 0;)
                if (streq(a->gone[i].id, id) && same_str(a->gone[i].subject, subject)) {
                        sstatus_free(&a->gone[i]);
                        a->gone[i] = a->gone[--a->ngone];
                }
}

/* The ops of "s" applied to a->s (new and changed ones marked dirty, dropped ones into
 * a->gone): 0, or -EPROTO with *why (a->s then freed and empty). */
static int apply_statuses(struct sample_answer *a, json_object *ops, const struct collector *c, char **why)
{
        size_t nops = json_object_array_length(ops), np = a->ns, cur = 0, n = 0;
        struct sstatus *ns = xcalloc(np + nops + 1, sizeof(*ns));
        bool *dirty = xcalloc(np + nops + 1, sizeof(*dirty));
        const char *last_id = NULL;
        for (size_t i = 0; i < nops; i++) {
                json_object *x = json_object_array_get_idx(ops, i);
                int64_t k;
                if (run_of(x, np - cur, &k)) {
                        if (k > 0) {
                                memcpy(ns + n, a->s + cur, (size_t)k * sizeof(*ns));
                                memcpy(dirty + n, a->dirty + cur, (size_t)k * sizeof(*dirty));
                                n += (size_t)k;
                        } else {
                                for (int64_t j = 0; j < -k; j++)
                                        gone_add(a, &a->s[cur + (size_t)j]);
                        }
                        cur += (size_t)(k > 0 ? k : -k);
                        continue;
                }
                if (!json_object_is_type(x, json_type_array))
                        goto bad;
                size_t len = json_object_array_length(x);
                const char *sev, *summary, *id, *subject;
                enum severity sv;
                if (len == 2 && cur < np) {
                        if (!str_or_null(json_object_array_get_idx(x, 0), &sev) || !sev || severity_from_name(sev, &sv) < 0 ||
                            !str_or_null(json_object_array_get_idx(x, 1), &summary))
                                goto bad;
                        ns[n] = a->s[cur++];
                        ns[n].sev = sv;
                        if (!same_str(ns[n].summary, summary ? summary : "")) {
                                free((char *)ns[n].summary);
                                ns[n].summary = xstrdup(summary ? summary : "");
                        }
                        dirty[n++] = true;
                        continue;
                }
                if (len != 4 || !json_object_is_type(json_object_array_get_idx(x, 0), json_type_string) ||
                    !str_or_null(json_object_array_get_idx(x, 1), &subject) || !str_or_null(json_object_array_get_idx(x, 2), &sev) ||
                    !sev || severity_from_name(sev, &sv) < 0 || !str_or_null(json_object_array_get_idx(x, 3), &summary))
                        goto bad;
                id = json_object_get_string(json_object_array_get_idx(x, 0));
                /* (a collector reports one check for many subjects: check each ID once) */
                if (c && !(last_id && streq(id, last_id))) {
                        if (!collector_declares(c, id)) {
                                *why = undeclared_why(id);
                                goto refused;
                        }
                        /* What 'evodiag list' says watch samples is all it samples. */
                        if (!collector_samples(c, id)) {
                                _cleanup_free_ char *shown = str_printable(id);
                                *why = xasprintf("sent check ID '%.80s', which its collector does not list as sampled", shown);
                                goto refused;
                        }
                }
                last_id = id;
                gone_forget(a, id, subject);
                ns[n] = (struct sstatus){.id = xstrdup(id), .subject = dup_or_null(subject), .summary = xstrdup(summary ? summary : ""),
                                         .sev = sv};
                dirty[n++] = true;
        }
        if (cur != np)
                goto bad;
        free(a->s);
        free(a->dirty);
        a->s = ns;
        a->dirty = dirty;
        a->ns = n;
        return 0;
bad:
        *why = xstrdup("sent an unreadable answer");
refused:
        for (size_t i = 0; i < n; i++)
                sstatus_free(&ns[i]);
        for (size_t i = cur; i < np; i++)
                sstatus_free(&a->s[i]);
        free(ns);
        free(dirty);
        free(a->s);
        free(a->dirty);
        a->s = NULL;
        a->dirty = NULL;
        a->ns = 0;
        return -EPROTO;
}

int sample_answer_apply(struct sample_answer *a, const struct frame *f, json_tokener *tok, const struct collector *c, char **why)
{
        *why = NULL;
        json_object *n, *ap, *vals = NULL, *sts = NULL, *doc = NULL;
        if (!f->type || !streq(f->type, "sample") || !json_object_object_get_ex(f->hdr, "n", &n) ||
            !json_object_is_type(n, json_type_int) || json_object_get_int64(n) < 0 ||
            !json_object_object_get_ex(f->hdr, "applies", &ap) || !json_object_is_type(ap, json_type_boolean))
                goto bad;
        a->n = (uint64_t)json_object_get_int64(n);
        a->applies = json_object_get_boolean(ap);
        if (!a->applies) {
                if (f->size)
                        goto bad;
                return 0;
        }
        doc = parse_object(tok, f->payload, f->size);
        if (!doc || !json_object_object_get_ex(doc, "v", &vals) || !json_object_is_type(vals, json_type_array) ||
            !json_object_object_get_ex(doc, "s", &sts) || !json_object_is_type(sts, json_type_array))
                goto bad;
        if (apply_values(a, vals) < 0)
                goto bad;
        if (apply_statuses(a, sts, c, why) < 0) {
                json_object_put(doc);
                sample_answer_free(a);
                return -EPROTO;
        }
        json_object_put(doc);
        if (!a->answers++)
                a->whole = true;
        return 0;
bad:
        json_object_put(doc);
        sample_answer_free(a);
        *why = xstrdup("sent an unreadable answer");
        return -EPROTO;
}

int sample_answer_take(struct sample_answer *a, const struct frame *f, json_tokener *tok, const struct collector *c, char **why)
{
        *a = (struct sample_answer){0};
        return sample_answer_apply(a, f, tok, c, why);
}

void sample_answer_merged(struct sample_answer *a)
{
        for (size_t i = 0; i < a->ngone; i++)
                sstatus_free(&a->gone[i]);
        a->ngone = 0;
        if (a->dirty)
                memset(a->dirty, 0, a->ns * sizeof(*a->dirty));
        a->whole = false;
}

void sample_answer_free(struct sample_answer *a)
{
        for (size_t i = 0; i < a->nv; i++)
                svalue_free(&a->v[i]);
        for (size_t i = 0; i < a->ns; i++)
                sstatus_free(&a->s[i]);
        for (size_t i = 0; i < a->ngone; i++)
                sstatus_free(&a->gone[i]);
        free(a->v);
        free(a->s);
        free(a->dirty);
        free(a->gone);
        *a = (struct sample_answer){0};
}

/* ---- one-document jobs ---- */

int frame_send_result(int fd, json_object *doc)
{
        const char *txt = json_object_to_json_string_ext(doc, JSON_FLAGS);
        json_object *h = json_object_new_object();
        json_object_object_add(h, "t", json_object_new_string("result"));
        return frame_write(fd, h, txt, strlen(txt));
}
