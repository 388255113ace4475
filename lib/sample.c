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

void sample_value(struct sample *s, const char *key, const char *subject, double value, const char *unit)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        if (subject)
                json_object_object_add(o, "subject", json_object_new_string(subject));
        json_object_object_add(o, "value", json_object_new_double(value));
        if (unit)
                json_object_object_add(o, "unit", json_object_new_string(unit));
        json_object_array_add(s->values, o);
}

/* Statuses are watch's findings: redacted where they are made, as findings are (lib/finding.c). */
void sample_status(struct sample *s, const char *id, const char *subject, enum severity sev, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        char *summary = redact_secrets(raw, NULL);
        free(raw);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        if (subject) {
                _cleanup_free_ char *subj = redact_secrets(subject, NULL);
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
