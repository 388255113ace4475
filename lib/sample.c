#include "config.h"
#include "lib/sample.h"
#include "lib/redact.h"

void sample_init(struct sample *s)
{
        s->values = json_object_new_array();
        s->statuses = json_object_new_array();
}

void sample_free(struct sample *s)
{
        json_object_put(s->values);
        json_object_put(s->statuses);
        s->values = s->statuses = NULL;
}

json_object *svalue_to_json(const struct svalue *v)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(v->key));
        if (v->subject)
                json_object_object_add(o, "subject", json_object_new_string(v->subject));
        json_object_object_add(o, "value", json_object_new_double(v->value));
        if (v->unit)
                json_object_object_add(o, "unit", json_object_new_string(v->unit));
        return o;
}

static const char *opt_str(json_object *o, const char *key)
{
        json_object *x;
        return json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

bool svalue_from_json(json_object *o, struct svalue *v)
{
        json_object *x;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "value", &x) ||
            !(json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int)))
                return false;
        *v = (struct svalue){.key = opt_str(o, "key"), .subject = opt_str(o, "subject"), .unit = opt_str(o, "unit"),
                             .value = json_object_get_double(x)};
        return v->key != NULL;
}

const char *unit_canonical(const char *unit)
{
        static const char *const alias[][2] = {
                {"B", "bytes"}, {"byte", "bytes"}, {"s", "seconds"}, {"sec", "seconds"}, {"hz", "Hz"}, {"percent", "%"},
        };
        for (size_t i = 0; unit && i < ARRAY_SIZE(alias); i++)
                if (streq(unit, alias[i][0]))
                        return alias[i][1];
        return unit;
}

void sample_value(struct sample *s, const char *key, const char *subject, double value, const char *unit)
{
        struct svalue v = {.key = key, .subject = subject, .unit = unit_canonical(unit), .value = value};
        json_object_array_add(s->values, svalue_to_json(&v));
}

/* A sampler reports mostly the same texts every interval (a segment's name, "writer
 * pid 12 alive"), and redacting is a function of the text alone: the last results are
 * kept, in a small direct-mapped table per process (texts up to REDACT_MEMO_LEN bytes). */
#define REDACT_MEMO 256
#define REDACT_MEMO_LEN 256
static struct {
        char *in, *out;
} redact_memo[REDACT_MEMO];

static char *redact_cached(const char *s)
{
        size_t n = strlen(s);
        if (n > REDACT_MEMO_LEN)
                return redact_secrets(s, NULL);
        uint32_t h = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        h %= REDACT_MEMO;
        if (redact_memo[h].in && streq(redact_memo[h].in, s))
                return xstrdup(redact_memo[h].out);
        char *out = redact_secrets(s, NULL);
        free(redact_memo[h].in);
        free(redact_memo[h].out);
        redact_memo[h].in = xstrdup(s);
        redact_memo[h].out = xstrdup(out);
        return out;
}

/* Statuses are watch's findings: redacted where they are made, as findings are (lib/finding.c). */
void sample_status(struct sample *s, const char *id, const char *subject, enum severity sev, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        char *summary = redact_cached(raw);
        free(raw);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        if (subject) {
                _cleanup_free_ char *subj = redact_cached(subject);
                json_object_object_add(o, "subject", json_object_new_string(subj));
        }
        json_object_object_add(o, "severity", json_object_new_string(severity_name(sev)));
        json_object_object_add(o, "summary", json_object_new_string(summary));
        free(summary);
        json_object_array_add(s->statuses, o);
}

json_object *sample_to_json(struct sample *s)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "values", json_object_get(s->values));
        json_object_object_add(o, "statuses", json_object_get(s->statuses));
        return o;
}
