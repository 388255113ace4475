#include "config.h"
#include "report/issue.h"
#include "report/template.h"
#include "lib/escape.h"

#include <errno.h>

#define PROBLEMS_MAX 12

bool issue_has_template(const char *dir, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s.md", dir, name);
        return access(p, R_OK) == 0;
}

static void put_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* A fact a collector decided, as its finding says it (config.preempt is rt.kernel's
 * verdict on the kernel, never re-derived here); when the finding is not there, why. */
static char *finding_fact(const struct report *rep, const char *id)
{
        size_t cl = strcspn(id, ".");
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (strlen(r->c->name) != cl || strncmp(r->c->name, id, cl))
                        continue;
                for (size_t k = 0; k < r->fs.n; k++)
                        if (streq(r->fs.v[k].id, id))
                                return xstrdup(r->fs.v[k].summary);
                if (r->status == RUN_NOT_SELECTED)
                        return xasprintf("not checked (the %s collector was not run)", r->c->name);
                return xasprintf("unknown (%s: %s)", r->c->name, r->note ? r->note : run_status_name(r->status));
        }
        return NULL;
}

static int by_severity(const void *a, const void *b)
{
        const struct finding *x = *(const struct finding *const *)a, *y = *(const struct finding *const *)b;
        return (int)y->sev - (int)x->sev;
}

static const char *pick_template(const struct issue_input *in, const char *dir)
{
        if (in->component)
                return in->component;
        const char *best = NULL;
        enum severity worst = SEV_INFO;
        size_t best_count = 0;
        for (size_t i = 0; i < in->rep->n; i++) {
                const struct run_result *r = &in->rep->r[i];
                if (r->status != RUN_OK || !issue_has_template(dir, r->c->name))
                        continue;
                enum severity s = findings_worst(&r->fs);
                size_t count = 0;
                for (size_t k = 0; k < r->fs.n; k++)
                        count += r->fs.v[k].sev >= SEV_WARN;
                if (s > worst || (s == worst && s >= SEV_WARN && count > best_count)) {
                        worst = s;
                        best = r->c->name;
                        best_count = count;
                }
        }
        return best ? best : "general";
}

json_object *issue_context(const struct issue_input *in, const char **template_name)
{
        const struct report *rep = in->rep;
        json_object *c = json_object_new_object();
        const char *tn = pick_template(in, in->templates_dir);
        *template_name = tn;

        /* Problems, worst first, up to a page. */
        size_t total = 0;
        for (size_t i = 0; i < rep->n; i++)
                total += rep->r[i].fs.n;
        const struct finding **all = xcalloc(total + 1, sizeof(*all));
        size_t k = 0;
        for (size_t i = 0; i < rep->n; i++)
                for (size_t j = 0; j < rep->r[i].fs.n; j++) {
                        all[k] = &rep->r[i].fs.v[j];
                        k++;
                }
        qsort(all, total, sizeof(*all), by_severity);
        json_object *problems = json_object_new_array(), *versions = json_object_new_array(), *errors = json_object_new_array();
        for (size_t i = 0; i < total; i++) {
                const struct finding *f = all[i];
                size_t idlen = strlen(f->id);
                if (idlen > 8 && streq(f->id + idlen - 8, ".version")) {
                        json_object *v = json_object_new_object();
                        _cleanup_free_ char *name = xstrndup(f->id, idlen - 8);
                        put_str(v, "name", name);
                        put_str(v, "version", f->actual ? f->actual : f->summary);
                        json_object_array_add(versions, v);
                }
                if (idlen > 12 && streq(f->id + idlen - 12, ".last_errors") && f->actual) {
                        _cleanup_free_ char *lines = xstrdup(f->actual);
                        size_t pos = 0;
                        char *l;
                        while ((l = next_line(lines, &pos))) {
                                json_object *e = json_object_new_object();
                                put_str(e, "line", l);
                                json_object_array_add(errors, e);
                        }
                }
                if (f->sev < SEV_UNKNOWN || json_object_array_length(problems) >= PROBLEMS_MAX)
                        continue;
                json_object *p = json_object_new_object();
                put_str(p, "id", f->id);
                put_str(p, "severity", severity_name(f->sev));
                put_str(p, "summary", f->summary);
                put_str(p, "subject", f->subject);
                put_str(p, "expected", f->expected);
                put_str(p, "actual", f->actual);
                _cleanup_free_ char *explain = xasprintf("evodiag explain %s", f->id);
                put_str(p, "remedy", f->remedy ? f->remedy : explain);
                _cleanup_free_ char *col = xstrndup(f->id, strcspn(f->id, "."));
                put_str(p, "collector", col);
                json_object_array_add(problems, p);
        }
        free(all);

        size_t cnt[_SEV_MAX];
        report_count(rep, cnt);
        json_object *sum = json_object_new_object();
        enum severity w = report_worst(rep);
        put_str(sum, "worst", w >= SEV_UNKNOWN ? severity_name(w) : "ok");
        json_object_object_add(sum, "crit", json_object_new_int64((int64_t)cnt[SEV_CRIT]));
        json_object_object_add(sum, "warn", json_object_new_int64((int64_t)cnt[SEV_WARN]));
        json_object_object_add(sum, "unknown", json_object_new_int64((int64_t)cnt[SEV_UNKNOWN]));
        json_object_object_add(sum, "ok", json_object_new_int64((int64_t)cnt[SEV_OK]));
        json_object_object_add(c, "summary", sum);
        json_object_object_add(c, "problems", problems);
        json_object_object_add(c, "versions", versions);
        json_object_object_add(c, "errors", errors);
        json_object_object_add(c, "crash", NULL);

        const char *first = json_object_array_length(problems)
                                    ? json_object_get_string(json_object_object_get(json_object_array_get_idx(problems, 0), "summary"))
                                    : NULL;
        _cleanup_free_ char *title = first ? xasprintf("%s on %s", first, rep->host) : xasprintf("Diagnostics of %s", rep->host);
        put_str(c, "title", title);
        put_str(c, "host", rep->host);
        char ts[32];
        format_utc(rep->started_ms, ts);
        put_str(c, "generated", ts);
        put_str(c, "evodiag_version", PACKAGE_VERSION);
        put_str(c, "command_line", in->command_line);
        json_object *comp = json_object_new_object();
        put_str(comp, "name", tn);
        const struct collector *cc = collector_find(tn);
        put_str(comp, "label", cc ? cc->summary : "general");
        json_object_object_add(c, "component", comp);

        json_object *att = json_object_new_array(), *miss = json_object_new_array();
        size_t na = in->artifacts ? json_object_array_length(in->artifacts) : 0, present = 0;
        for (size_t i = 0; i < na; i++) {
                json_object *m = json_object_array_get_idx(in->artifacts, i), *v;
                const char *st = json_object_object_get_ex(m, "status", &v) ? json_object_get_string(v) : "ok";
                json_object *e = json_object_new_object();
                json_object_object_add(e, "path", json_object_get(json_object_object_get(m, "path")));
                if (!streq(st, "ok")) {
                        put_str(e, "status", st);
                        json_object_object_add(e, "why", json_object_get(json_object_object_get(m, "error")));
                        json_object_array_add(miss, e);
                } else {
                        json_object_object_add(e, "kind", json_object_get(json_object_object_get(m, "kind")));
                        json_object_array_add(att, e);
                        present++;
                }
        }
        json_object_object_add(c, "attachments", att);
        json_object_object_add(c, "missing", miss);
        json_object_object_add(c, "attachment_count", json_object_new_int64((int64_t)present));

        /* The host: raw facts the run read (lib/hostfacts.h), decisions from findings. */
        json_object *os = NULL, *cfg = NULL, *v;
        if (in->facts && json_object_object_get_ex(in->facts, "os", &v))
                (void)json_object_deep_copy(v, &os, NULL);
        if (in->facts && json_object_object_get_ex(in->facts, "config", &v))
                (void)json_object_deep_copy(v, &cfg, NULL);
        os = os ? os : json_object_new_object();
        cfg = cfg ? cfg : json_object_new_object();
        _cleanup_free_ char *preempt = finding_fact(rep, "rt.kernel");
        put_str(cfg, "preempt", preempt);
        json_object_object_add(c, "os", os);
        json_object_object_add(c, "config", cfg);
        return c;
}

char *issue_render(const struct issue_input *in, char **missing, char **err)
{
        const char *tn;
        json_object *ctx = issue_context(in, &tn);
        _cleanup_free_ char *path = xasprintf("%s/%s.md", in->templates_dir, tn);
        char *tmpl = NULL;
        FILE *f = fopen(path, "re");
        if (f) {
                struct strbuf b = {0};
                char buf[8192];
                size_t n;
                while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && b.len < (1u << 20))
                        sb_putn(&b, buf, n);
                fclose(f);
                tmpl = sb_steal(&b);
        }
        if (!tmpl) {
                *err = xasprintf("%s: %s", path, strerror(errno));
                json_object_put(ctx);
                return NULL;
        }
        char *terr = NULL;
        char *out = template_render(tmpl, ctx, missing, &terr);
        if (out && in->trigger_events && in->trigger_events[0]) {
                /* What made `evodiag watch --bundle-on` take this bundle, whatever the template. */
                struct strbuf b = {0};
                sb_printf(&b, "%s\n## Events that triggered this bundle\n`evodiag watch --bundle-on` took it for:\n", out);
                for (size_t i = 0; in->trigger_events[i]; i++) {
                        sb_puts(&b, "- ");
                        esc_md_code(&b, in->trigger_events[i], false);
                        sb_putc(&b, '\n');
                }
                free(out);
                out = sb_steal(&b);
        }
        if (!out) {
                *err = xasprintf("%s:%s", path, terr + 4); /* "line N: why" -> "path:N: why" */
                free(terr);
        }
        free(tmpl);
        json_object_put(ctx);
        return out;
}
