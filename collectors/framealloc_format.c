/* framealloc collector: snapshots (json-c), diagnostics lines, decisions. */
#include "config.h"
#include "collectors/framealloc.h"
#include "lib/jsonparse.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

static int64_t get_i64(json_object *o, const char *key)
{
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        int64_t x = json_object_get_int64(v);
        return x < 0 ? -1 : x;
}

static void get_str(json_object *o, const char *key, char *dst, size_t n)
{
        json_object *v;
        dst[0] = 0;
        if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                snprintf(dst, n, "%s", json_object_get_string(v));
}

int fa_snapshot_parse(const char *text, size_t len, struct fa_snapshot *s, char **err)
{
        memset(s, 0, sizeof(*s));
        s->budget_percent = -1;
        char *e = NULL;
        json_object *o = json_parse_whole(text, len, &e);
        if (!o) {
                *err = e;
                return -EINVAL;
        }
        json_object *sum = NULL, *th, *dg;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "summary", &sum) ||
            !json_object_is_type(sum, json_type_object) || get_i64(sum, "total_bytes") < 0) {
                *err = xstrdup("not a framealloc snapshot: no summary.total_bytes");
                json_object_put(o);
                return -EINVAL;
        }
        s->version = get_i64(o, "version");
        get_str(o, "timestamp", s->timestamp, sizeof(s->timestamp));
        s->frame = get_i64(o, "frame");
        s->frame_bytes = get_i64(sum, "frame_bytes");
        s->pool_bytes = get_i64(sum, "pool_bytes");
        s->heap_bytes = get_i64(sum, "heap_bytes");
        s->total_bytes = get_i64(sum, "total_bytes");
        s->peak_bytes = get_i64(sum, "peak_bytes");
        if (json_object_object_get_ex(o, "threads", &th) && json_object_is_type(th, json_type_array)) {
                s->threads = json_object_array_length(th);
                for (size_t i = 0; i < s->threads; i++) {
                        json_object *t = json_object_array_get_idx(th, i), *b;
                        if (!json_object_is_type(t, json_type_object) || !json_object_object_get_ex(t, "budget", &b) ||
                            !json_object_is_type(b, json_type_object))
                                continue;
                        int64_t p = get_i64(b, "percent");
                        if (p > s->budget_percent) {
                                s->budget_percent = p;
                                get_str(t, "name", s->budget_thread, sizeof(s->budget_thread));
                        }
                }
        }
        if (json_object_object_get_ex(o, "diagnostics", &dg) && json_object_is_type(dg, json_type_array)) {
                s->diagnostics = json_object_array_length(dg);
                json_object *d0 = s->diagnostics ? json_object_array_get_idx(dg, 0) : NULL;
                if (d0 && json_object_is_type(d0, json_type_object)) {
                        char code[16], msg[64];
                        get_str(d0, "code", code, sizeof(code));
                        get_str(d0, "message", msg, sizeof(msg));
                        snprintf(s->first_diag, sizeof(s->first_diag), "%s: %s", code, msg);
                }
        }
        json_object_put(o);
        return 0;
}

int64_t fa_snapshot_frame(const char *name)
{
        if (!startswith(name, "snapshot_"))
                return -1;
        const char *p = name + 9, *q = p;
        while (isdigit((unsigned char)*q))
                q++;
        if (q == p || q - p > 18 || strcmp(q, ".json") != 0)
                return -1;
        uint64_t v;
        if (parse_digits_u64(p, (size_t)(q - p), 10, 18, &v) < 0)
                return -1;
        return (int64_t)v;
}

bool fa_growing(const int64_t *totals, size_t n, size_t min_steps)
{
        if (n < 2 || n - 1 < min_steps)
                return false;
        for (size_t i = 1; i < n; i++)
                if (totals[i] < 0 || totals[i - 1] < 0 || totals[i] <= totals[i - 1])
                        return false;
        return true;
}

enum severity fa_peak_verdict(int64_t peak, uint64_t budget, double warn_pct)
{
        if (!budget || peak < 0)
                return SEV_SKIPPED;
        return (double)peak * 100.0 / (double)budget >= warn_pct ? SEV_WARN : SEV_OK;
}

static void count(struct fa_diags *d, const char *code, const char *line, size_t ll)
{
        d->lines++;
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->v[i].code, code)) {
                        d->v[i].count++;
                        return;
                }
        if (d->n == FA_DIAG_CODES) {
                d->other++;
                return;
        }
        struct fa_diag_count *c = &d->v[d->n++];
        snprintf(c->code, sizeof(c->code), "%s", code);
        c->count = 1;
        size_t k = ll < sizeof(c->example) - 1 ? ll : sizeof(c->example) - 1;
        for (size_t i = 0; i < k; i++) /* printable only: a log line is the app's text */
                c->example[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
        c->example[k] = 0;
}

void fa_diags_scan(const char *text, size_t len, struct fa_diags *d)
{
        static const char tag[] = "[framealloc]";
        size_t tl = sizeof(tag) - 1;
        for (size_t i = 0; i < len;) {
                const char *line = text + i;
                const char *nl = memchr(line, '\n', len - i);
                size_t ll = nl ? (size_t)(nl - line) : len - i;
                i += ll + 1;
                const char *p = ll >= tl ? memmem(line, ll, tag, tl) : NULL;
                if (!p)
                        continue;
                const char *rest = p + tl;
                size_t rl = ll - (size_t)(rest - line);
                if (rl >= 8 && rest[0] == '[' && rest[1] == 'F' && rest[2] == 'A' && isdigit((unsigned char)rest[3]) &&
                    isdigit((unsigned char)rest[4]) && isdigit((unsigned char)rest[5]) && rest[6] == ']') {
                        char code[6];
                        memcpy(code, rest + 1, 5);
                        code[5] = 0;
                        count(d, code, line, ll);
                } else if (rl >= 12 && !memcmp(rest, " Leak report", 12))
                        count(d, "leak", line, ll);
        }
}

const char *fa_code_meaning(const char *code)
{
        static const struct {
                const char *code, *text;
        } m[] = {
                {"FA601", "frame allocation in an async function"},
                {"FA602", "allocation in a hot loop"},
                {"FA603", "frame data crossing an await point"},
                {"leak", "allocations not freed at exit (debug feature's leak report)"},
        };
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
                if (streq(m[i].code, code))
                        return m[i].text;
        return NULL;
}
