#include "config.h"
#include "report/issue.h"
#include "collectors/runner.h"
#include "lib/rootfs.h"
#include "report/template.h"

#include <errno.h>

#include <sys/utsname.h>

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

static char *first_line_value(const char *path)
{
        char *v = NULL;
        if (rootfs_read_value(path, &v) < 0)
                return NULL;
        return v;
}

/* Read in a child under a deadline like every other read of the host. */
static json_object *env_job(void *arg)
{
        json_object *env = json_object_new_object(), *os = json_object_new_object(), *cfg = json_object_new_object();
        _cleanup_free_ char *osr = NULL;
        char *pretty = NULL;
        if (rootfs_read("/etc/os-release", 64 << 10, &osr, NULL) >= 0) {
                size_t pos = 0;
                char *line;
                while ((line = next_line(osr, &pos)))
                        if (startswith(line, "PRETTY_NAME=")) {
                                char *v = line + 12;
                                if (*v == '"')
                                        v++;
                                size_t n = strlen(v);
                                if (n && v[n - 1] == '"')
                                        v[n - 1] = 0;
                                pretty = xstrdup(v);
                        }
        }
        put_str(os, "pretty_name", pretty);
        free(pretty);
        static const struct { const char *key, *path; } os_files[] = {
                {"kernel_release", "/proc/sys/kernel/osrelease"}, {"kernel_version", "/proc/sys/kernel/version"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(os_files); i++) {
                _cleanup_free_ char *v = first_line_value(os_files[i].path);
                put_str(os, os_files[i].key, v);
        }
        struct utsname u;
        put_str(os, "machine", rootfs_is_live() && uname(&u) == 0 ? u.machine : NULL);
        static const struct { const char *key, *path; } cfg_files[] = {
                {"cmdline", "/proc/cmdline"},
                {"isolated", "/sys/devices/system/cpu/isolated"},
                {"nohz_full", "/sys/devices/system/cpu/nohz_full"},
                {"rt_runtime_us", "/proc/sys/kernel/sched_rt_runtime_us"},
                {"shmmax", "/proc/sys/kernel/shmmax"},
                {"shmall", "/proc/sys/kernel/shmall"},
                {"shmmni", "/proc/sys/kernel/shmmni"},
                {"max_map_count", "/proc/sys/vm/max_map_count"},
                {"file_max", "/proc/sys/fs/file-max"},
                {"hugepages", "/proc/sys/vm/nr_hugepages"},
                {"thp", "/sys/kernel/mm/transparent_hugepage/enabled"},
                {"limits", "/proc/self/limits"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cfg_files); i++) {
                _cleanup_free_ char *v = first_line_value(cfg_files[i].path);
                put_str(cfg, cfg_files[i].key, v && !*v ? "(none)" : v);
        }
        _cleanup_free_ char *ver = first_line_value("/proc/sys/kernel/version");
        put_str(cfg, "preempt", !ver ? NULL : strstr(ver, "PREEMPT_RT") ? "PREEMPT_RT" : strstr(ver, "PREEMPT_DYNAMIC") ? "PREEMPT_DYNAMIC"
                                 : strstr(ver, "PREEMPT") ? "PREEMPT" : "none (server)");
        json_object_object_add(env, "os", os);
        json_object_object_add(env, "config", cfg);
        return env;
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

        struct job j = {.name = "issue-env", .fn = env_job, .timeout_ms = 3000};
        struct job_opts jo = {.parallel = 1};
        jobs_run(&j, 1, &jo);
        json_object *os = NULL, *cfg = NULL;
        if (j.status == JOB_DONE) {
                json_object_object_get_ex(j.result, "os", &os);
                json_object_object_get_ex(j.result, "config", &cfg);
        }
        json_object_object_add(c, "os", os ? json_object_get(os) : json_object_new_object());
        json_object_object_add(c, "config", cfg ? json_object_get(cfg) : json_object_new_object());
        job_clear(&j);
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
        if (!out) {
                *err = xasprintf("%s:%s", path, terr + 4); /* "line N: why" -> "path:N: why" */
                free(terr);
        }
        free(tmpl);
        json_object_put(ctx);
        return out;
}
