/* One JSON document per run, versioned by "schema" so scripts can rely on it. */
#include "config.h"
#include "report/report.h"

#include "lib/escape.h"
#include "lib/util.h"

json_object *report_to_json(const struct report *rep)
{
        json_object *o = json_object_new_object();
        char ts[32];
        format_utc(rep->started_ms, ts);
        json_object_object_add(o, "schema", json_object_new_int(REPORT_SCHEMA));
        json_object_object_add(o, "tool", json_object_new_string("evodiag"));
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "host", json_object_new_string(rep->host));
        json_object_object_add(o, "root", json_object_new_string(rep->root));
        json_object_object_add(o, "started", json_object_new_string(ts));
        json_object_object_add(o, "duration_ms", json_object_new_int64((int64_t)rep->duration_ms));
        enum severity w = report_worst(rep);
        json_object_object_add(o, "worst", json_object_new_string(severity_name(w)));
        json_object_object_add(o, "exit_code", json_object_new_int(report_exit_code(rep)));
        size_t c[_SEV_MAX];
        report_count(rep, c);
        json_object *sum = json_object_new_object();
        for (int s = 0; s < _SEV_MAX; s++)
                json_object_object_add(sum, severity_name((enum severity)s), json_object_new_int64((int64_t)c[s]));
        json_object_object_add(sum, "ignored", json_object_new_int64((int64_t)rep->ignored));
        json_object_object_add(o, "summary", sum);
        json_object *cols = json_object_new_array();
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                json_object *co = json_object_new_object();
                json_object_object_add(co, "name", json_object_new_string(r->c->name));
                json_object_object_add(co, "summary", json_object_new_string(r->c->summary));
                json_object_object_add(co, "status", json_object_new_string(run_status_name(r->status)));
                json_object_object_add(co, "duration_ms", json_object_new_int64((int64_t)r->duration_ms));
                if (r->note)
                        json_object_object_add(co, "note", json_object_new_string(r->note));
                json_object_object_add(co, "findings", findings_to_json(&r->fs));
                json_object_array_add(cols, co);
        }
        json_object_object_add(o, "collectors", cols);
        json_object *errs = json_object_new_array();
        for (size_t i = 0; i < rep->nerr; i++)
                json_object_array_add(errs, json_object_new_string(rep->errors[i]));
        json_object_object_add(o, "errors", errs);
        if (rep->from) { /* check --from: what was re-checked, and the result */
                const struct report_from *f = rep->from;
                json_object *fo = json_object_new_object();
                json_object_object_add(fo, "bundle", json_object_new_string(f->bundle));
                json_object_object_add(fo, "host", json_object_new_string(f->host ? f->host : "unknown"));
                json_object_object_add(fo, "captured", f->captured ? json_object_new_string(f->captured) : NULL);
                if (f->problem) {
                        json_object_object_add(fo, "result", json_object_new_string("not compared"));
                        json_object_object_add(fo, "problem", json_object_new_string(f->problem));
                } else {
                        json_object_object_add(fo, "result", json_object_new_string(f->differ ? "differ" : "agree"));
                        json_object_object_add(fo, "agree", json_object_new_int64((int64_t)f->agree));
                        json_object_object_add(fo, "differ", json_object_new_int64((int64_t)f->differ));
                        json_object *d = json_object_new_array();
                        for (char **p = f->differing; p && *p; p++)
                                json_object_array_add(d, json_object_new_string(*p));
                        json_object_object_add(fo, "differing", d);
                }
                json_object_object_add(o, "from", fo);
        }
        return o;
}

void report_json(FILE *out, const struct report *rep)
{
        json_object *o = report_to_json(rep);
        /* Host strings may hold any bytes: valid UTF-8 out, whatever came in. */
        _cleanup_free_ char *t = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        fputs(t, out);
        fputc('\n', out);
        json_object_put(o);
}
