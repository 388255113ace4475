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

/* lib/sample.h's objects as arrays of their four fields (see the top of frame.h). */
static const char *const value_keys[4] = {"key", "subject", "value", "unit"};
static const char *const status_keys[4] = {"id", "subject", "severity", "summary"};

static json_object *compact(json_object *objs, const char *const keys[4])
{
        size_t n = objs ? json_object_array_length(objs) : 0;
        json_object *a = json_object_new_array_ext((int)n);
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(objs, i), *x = json_object_new_array_ext(4), *f;
                for (int k = 0; k < 4; k++)
                        json_object_array_add(x, json_object_object_get_ex(o, keys[k], &f) ? json_object_get(f) : NULL);
                json_object_array_add(a, x);
        }
        return a;
}

int frame_send_sample(int fd, uint64_t n, bool applies, const struct sample *s)
{
        const char *txt = "";
        json_object *p = NULL;
        if (applies) {
                p = json_object_new_object();
                json_object_object_add(p, "v", compact(s->values, value_keys));
                json_object_object_add(p, "s", compact(s->statuses, status_keys));
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

static json_object *four(json_object *arr, size_t i)
{
        json_object *x = json_object_array_get_idx(arr, i);
        return json_object_is_type(x, json_type_array) && json_object_array_length(x) == 4 ? x : NULL;
}

int sample_answer_take(struct sample_answer *a, const struct frame *f, json_tokener *tok, const struct collector *c, char **why)
{
        *a = (struct sample_answer){0};
        *why = NULL;
        json_object *n, *ap, *vals = NULL, *sts = NULL;
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
        a->doc = parse_object(tok, f->payload, f->size);
        if (!a->doc || !json_object_object_get_ex(a->doc, "v", &vals) || !json_object_is_type(vals, json_type_array) ||
            !json_object_object_get_ex(a->doc, "s", &sts) || !json_object_is_type(sts, json_type_array))
                goto bad;
        size_t nv = json_object_array_length(vals), ns = json_object_array_length(sts);
        a->v = xcalloc(nv ? nv : 1, sizeof(*a->v));
        a->s = xcalloc(ns ? ns : 1, sizeof(*a->s));
        for (size_t i = 0; i < nv; i++) {
                json_object *x = four(vals, i), *num;
                struct svalue *sv = &a->v[i];
                if (!x || !json_object_is_type(json_object_array_get_idx(x, 0), json_type_string) ||
                    !str_or_null(json_object_array_get_idx(x, 1), &sv->subject) ||
                    !str_or_null(json_object_array_get_idx(x, 3), &sv->unit))
                        goto bad;
                num = json_object_array_get_idx(x, 2);
                if (!json_object_is_type(num, json_type_double) && !json_object_is_type(num, json_type_int))
                        goto bad;
                sv->key = json_object_get_string(json_object_array_get_idx(x, 0));
                sv->value = json_object_get_double(num);
        }
        a->nv = nv;
        for (size_t i = 0; i < ns; i++) {
                json_object *x = four(sts, i);
                struct sstatus *st = &a->s[i];
                const char *sev;
                if (!x || !json_object_is_type(json_object_array_get_idx(x, 0), json_type_string) ||
                    !str_or_null(json_object_array_get_idx(x, 1), &st->subject) ||
                    !str_or_null(json_object_array_get_idx(x, 2), &sev) || !sev || severity_from_name(sev, &st->sev) < 0 ||
                    !str_or_null(json_object_array_get_idx(x, 3), &st->summary))
                        goto bad;
                st->id = json_object_get_string(json_object_array_get_idx(x, 0));
                if (!st->summary)
                        st->summary = "";
                /* (a collector reports one check for many subjects: check each ID once) */
                if (c && !(i && streq(st->id, a->s[i - 1].id)) && !collector_declares(c, st->id)) {
                        *why = undeclared_why(st->id);
                        sample_answer_free(a);
                        return -EPROTO;
                }
                /* What 'evodiag list' says watch samples is all it samples. */
                if (c && !(i && streq(st->id, a->s[i - 1].id)) && !collector_samples(c, st->id)) {
                        _cleanup_free_ char *shown = str_printable(st->id);
                        *why = xasprintf("sent check ID '%.80s', which its collector does not list as sampled", shown);
                        sample_answer_free(a);
                        return -EPROTO;
                }
        }
        a->ns = ns;
        return 0;
bad:
        sample_answer_free(a);
        *why = xstrdup("sent an unreadable answer");
        return -EPROTO;
}

void sample_answer_free(struct sample_answer *a)
{
        json_object_put(a->doc);
        free(a->v);
        free(a->s);
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
