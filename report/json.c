/* One JSON document per run, versioned by "schema" so scripts can rely on it. */
#include "config.h"
#include "report/report.h"

#include "lib/escape.h"
#include "lib/util.h"

static json_object *collector_json(const struct run_result *r, bool with_findings)
{
        json_object *co = json_object_new_object();
        json_object_object_add(co, "name", json_object_new_string(r->c->name));
        json_object_object_add(co, "summary", json_object_new_string(r->c->summary));
        json_object_object_add(co, "status", json_object_new_string(run_status_name(r->status)));
        json_object_object_add(co, "duration_ms", json_object_new_int64((int64_t)r->duration_ms));
        if (r->note)
                json_object_object_add(co, "note", json_object_new_string(r->note));
        json_object_object_add(co, "findings", with_findings ? findings_to_json(&r->fs) : json_object_new_array());
        return co;
}

static json_object *report_tree(const struct report *rep, bool with_collectors)
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
        for (size_t i = 0; with_collectors && i < rep->n; i++)
                json_object_array_add(cols, collector_json(&rep->r[i], true));
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

json_object *report_to_json(const struct report *rep) { return report_tree(rep, true); }

/* report_json_write: the collectors, then each one's findings, one piece at a time. */
struct rw {
        const struct report *rep;
        int flags;
        const struct findings *fs;
};

static void write_finding(void *arg, size_t i, json_put_fn *put, void *put_arg)
{
        struct rw *w = arg;
        json_object *o = finding_to_json(&w->fs->v[i]);
        _cleanup_free_ char *t = json_text(o, w->flags);
        json_object_put(o);
        put(put_arg, t, strlen(t));
}

static void write_collector(void *arg, size_t i, json_put_fn *put, void *put_arg)
{
        struct rw *w = arg;
        const struct run_result *r = &w->rep->r[i];
        json_object *co = collector_json(r, false);
        struct rw fw = {.rep = w->rep, .flags = w->flags, .fs = &r->fs};
        if (!json_text_spliced(co, w->flags, "findings", r->fs.n, write_finding, &fw, put, put_arg))
                abort(); /* collector_json writes "findings": [] */
        json_object_put(co);
}

void report_json_write(const struct report *rep, json_object *extra, int flags, json_put_fn *put, void *put_arg)
{
        json_object *o = report_tree(rep, false);
        if (extra) {
                json_object_object_foreach(extra, k, v)
                        json_object_object_add(o, k, json_object_get(v));
        }
        struct rw w = {.rep = rep, .flags = flags};
        if (!json_text_spliced(o, flags, "collectors", rep->n, write_collector, &w, put, put_arg))
                abort(); /* report_tree writes "collectors": [] */
        json_object_put(o);
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
