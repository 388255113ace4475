#include "config.h"
#include "collectors/frame.h"
#include "lib/child.h"
#include "lib/util.h"

#include <errno.h>

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

json_object *frame_parse_header(const char *line, size_t n)
{
        if (n == 0 || n >= FRAME_HEADER_MAX)
                return NULL;
        json_tokener *tok = json_tokener_new();
        json_object *h = tok ? json_tokener_parse_ex(tok, line, (int)n) : NULL;
        if (h && (json_tokener_get_parse_end(tok) != n || !json_object_is_type(h, json_type_object))) {
                json_object_put(h);
                h = NULL;
        }
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
        return findings_from_json(&rx->fs, arr) < 0 ? -EPROTO : 0;
}

int findings_rx_finish(struct findings_rx *rx, const char *collector, char **why)
{
        *why = NULL;
        if (!rx->begun || !rx->ended) {
                *why = rx->begun ? xasprintf("findings stopped after %zu without their end", rx->received)
                                 : xstrdup("sent no findings");
                return -EPROTO;
        }
        if (rx->declared != rx->received) {
                *why = xasprintf("announced %zu findings, %zu arrived", rx->declared, rx->received);
                return -EPROTO;
        }
        if (rx->dropped)
                findings_add_cut(&rx->fs, collector, rx->fs.n, rx->received, true);
        return 0;
}

void findings_rx_free(struct findings_rx *rx)
{
        findings_free(&rx->fs);
        *rx = (struct findings_rx){0};
}
