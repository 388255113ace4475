#include "config.h"
#include "report/issue.h"
#include "report/template.h"
#include "report/templates_builtin.h"
#include "lib/escape.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define PROBLEMS_MAX 12      /* rows of the problems table; "and N more" below it */
#define ATTACHED_MAX 15      /* files listed per section; the manifest lists all */
#define NOT_COLLECTED_MAX 40 /* "not collected" lines; "and N more" below them */
#define TEMPLATE_MAX (1u << 20)

/* ---- the tables: one line each for a later collector ---- */

/* The evidence part of ISSUE.md, one section per line: the info findings whose ID
 * starts with `findings` (facts such as a version; problems are in the table), the
 * archive's files whose
 * path starts with `artifacts` (attached, from the manifest), and what of them was not
 * collected, with the reason. A section with nothing in it is left out. A collector
 * added later gets its section with one line, e.g.
 *   {"Logs", "journal.", "collectors/journal/"},
 *   {"Crash", "coredump.", "collectors/coredump/"},
 *   {"GPU", "gpu.", "collectors/gpu/"},
 * Order is the order in ISSUE.md. */
struct issue_section {
        const char *title, *findings, *artifacts;
};
static const struct issue_section issue_sections[] = {
        {"Crash", "coredump.", "collectors/coredump/"},
        {"LavinMQ broker", "lavinmq.", "collectors/lavinmq/"},
        {"EVO shared memory", "evo.", "collectors/evo/"},
        {"Shared memory segments", "shm.", "collectors/shm/"},
        {"Real-time setup", "rt.", "collectors/rt/"},
        {"CPU isolation", "isolation.", "collectors/isolation/"},
        {"Huge pages", "hugepages.", "collectors/hugepages/"},
        {"Memory", "memory.", "collectors/memory/"},
        {"Open files", "fds.", "collectors/fds/"},
        {"Memory maps", "maps.", "collectors/maps/"},
        {"Logs (journal, kernel, component log files)", "journal.", "collectors/journal/"},
        {"Cerebellar-Norse SNN service", "snn.", "collectors/snn/"},
        {"framealloc", "framealloc.", "collectors/framealloc/"},
        {"vGPU mediator", "mediator.", "collectors/mediator/"},
        {"NVIDIA GPUs", "gpu.", "collectors/gpu/"},
        {"perf counters and profile", "perf.", "collectors/perf/"},
        {"Recording of evodiag watch", NULL, "watch/"},
        {"Host files the checks read", NULL, "host/"},
};

/* What each template's guide asks to attach: when the bundle holds no file under
 * `path` (exact, or a prefix ending in '/'), ISSUE.md lists `what` as not collected
 * with the reason (the collector's own error, that it was not run, or that no
 * evodiag collector gathers it yet). Never a claim that it is attached. */
struct issue_want {
        const char *template, *path, *what;
};
static const struct issue_want issue_wants[] = {
        {"lavinmq", "collectors/lavinmq/api-overview.json", "the broker's /api/overview reply"},
        {"lavinmq", "collectors/lavinmq/api-nodes.json", "the broker's /api/nodes reply"},
        {"lavinmq", "collectors/lavinmq/metrics.txt", "the broker's Prometheus metrics"},
        {"lavinmq", "collectors/lavinmq/usr1-dump.txt", "the broker's USR1 dump (GC statistics and fibers)"},
        {"evo", "collectors/evo/", "EVO segment headers (decoded and hex)"},
        {"snn", "collectors/gpu/nvidia-smi-q.txt", "nvidia-smi -q output"},
        {"snn", "collectors/snn/", "production.toml and the /health, /info, /metrics replies"},
        {"snn", "collectors/journal/", "the service's journal and log files"},
        {"lavinmq", "collectors/journal/", "the broker's journal (journalctl -u lavinmq)"},
        {"vgpu", "collectors/mediator/", "the export, mount, per-VM request/response files, admin socket and mediator log"},
        {"framealloc", "collectors/framealloc/", "framealloc snapshots (snapshot_*.json) and diagnostics"},
};

/* Versions, only from findings that exist: {label, finding ID}; the finding's actual
 * (else its summary) is the version. */
struct issue_version {
        const char *name, *id;
};
static const struct issue_version issue_versions[] = {
        {"LavinMQ", "lavinmq.version"},
        {"EVO", "evo.version"},
        {"NVIDIA GPU, driver, CUDA", "gpu.present"},
        {"Cerebellar-Norse", "snn.info"},
};

/* The evidence block every template places with {{{evidence}}}: rendered from the
 * same context (so escaped like any template), then put in as it is. */
static const char EVIDENCE[] =
        "This bundle holds {{files}} files: this `ISSUE.md`, `summary.txt`, `findings.json`, `evodiag.log`, `manifest.json` "
        "(it lists every other file with its origin, status and SHA-256) and the evidence below.\n"
        "{{#each sections}}\n"
        "### {{title}}\n"
        "{{#each findings}}- {{severity}}: {{code id}} {{summary}}\n"
        "{{/each}}"
        "{{#if attached}}Attached ({{attached_count}} files):\n"
        "{{#each attached}}- {{code path}} ({{kind}}{{#if cut}}, {{cut}}{{/if}})\n"
        "{{/each}}{{#if attached_more}}- and {{attached_more}} more (see `manifest.json`)\n{{/if}}"
        "{{/if}}"
        "{{/each}}"
        "{{#if not_collected}}\n"
        "### Not collected\n"
        "{{#each not_collected}}- {{#if path}}{{code path}}{{else}}{{what}}{{/if}}: {{status}} ({{why}})\n"
        "{{/each}}{{#if not_collected_more}}- and {{not_collected_more}} more (see `manifest.json` and `summary.txt`)\n{{/if}}"
        "{{/if}}";

/* The top of ISSUE.md (after the title), placed with {{{status}}}. */
static const char STATUS[] =
        "{{#if case_id}}Case: {{code case_id}}\n\n{{/if}}"
        "{{#if harmed}}> [!CAUTION]\n"
        "> **evodiag harmed a process it inspected** (bundle --allow-intrusive):\n"
        "{{#each harmed}}> - {{.}}\n{{/each}}\n{{/if}}"
        "{{#if complete}}{{else}}> [!WARNING]\n"
        "> **This bundle is INCOMPLETE.** Missing:\n"
        "{{#each incomplete}}> - {{.}}\n{{/each}}\n{{/if}}"
        "{{#if trigger}}## Why this bundle was made\n"
        "`evodiag watch --bundle-on` made it after these events:\n"
        "{{#each trigger}}- {{code .}}\n{{/each}}\n{{/if}}";

/* ---- templates ---- */

const char *issue_builtin_template(const char *name)
{
        for (const struct builtin_template *t = builtin_templates; t->name; t++)
                if (streq(t->name, name))
                        return t->text;
        return NULL;
}

static bool name_ok(const char *name)
{
        return *name && strlen(name) < 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(name);
}

/* templates_dir/NAME.md, at most TEMPLATE_MAX bytes; NULL with errno. */
static char *read_template(const char *dir, const char *name)
{
        if (!dir || !name_ok(name)) {
                errno = ENOENT;
                return NULL;
        }
        _cleanup_free_ char *path = xasprintf("%s/%s.md", dir, name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                errno = EINVAL;
                return NULL;
        }
        struct strbuf b = {0};
        char buf[8192];
        ssize_t n;
        sb_puts(&b, "");
        while ((n = read(fd, buf, sizeof(buf))) > 0 && b.len < TEMPLATE_MAX)
                sb_putn(&b, buf, (size_t)n);
        if (n < 0) {
                int e = errno;
                sb_free(&b);
                errno = e;
                return NULL;
        }
        return sb_steal(&b);
}

bool issue_has_template(const char *dir, const char *name)
{
        if (!name_ok(name))
                return false;
        if (issue_builtin_template(name))
                return true;
        if (!dir)
                return false;
        _cleanup_free_ char *p = xasprintf("%s/%s.md", dir, name);
        return access(p, R_OK) == 0;
}

/* ---- the context ---- */

static void put_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void put_int(json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

static const struct run_result *result_of(const struct report *rep, const char *collector, size_t len)
{
        for (size_t i = 0; i < rep->n; i++)
                if (strlen(rep->r[i].c->name) == len && !strncmp(rep->r[i].c->name, collector, len))
                        return &rep->r[i];
        return NULL;
}

static const struct finding *finding_of(const struct report *rep, const char *id)
{
        const struct run_result *r = result_of(rep, id, strcspn(id, "."));
        for (size_t k = 0; r && k < r->fs.n; k++)
                if (streq(r->fs.v[k].id, id))
                        return &r->fs.v[k];
        return NULL;
}

/* A fact a collector decided, as its finding says it (config.preempt is rt.kernel's
 * verdict on the kernel, never re-derived here); when the finding is not there, why. */
static char *finding_fact(const struct report *rep, const char *id)
{
        const struct run_result *r = result_of(rep, id, strcspn(id, "."));
        if (!r)
                return NULL;
        const struct finding *f = finding_of(rep, id);
        if (f)
                return xstrdup(f->summary);
        if (r->status == RUN_NOT_SELECTED)
                return xasprintf("not checked (the %s collector was not run)", r->c->name);
        return xasprintf("unknown (%s: %s)", r->c->name, r->note ? r->note : run_status_name(r->status));
}

static int by_severity(const void *a, const void *b)
{
        const struct finding *x = *(const struct finding *const *)a, *y = *(const struct finding *const *)b;
        return (int)y->sev - (int)x->sev;
}

/* The template of a collector: its own name, except where the guide's name differs. */
static const char *template_of(const char *collector)
{
        return streq(collector, "mediator") ? "vgpu" : collector;
}

static const char *pick_template(const struct issue_input *in)
{
        if (in->component)
                return in->component;
        const char *best = NULL;
        enum severity worst = SEV_INFO;
        size_t best_count = 0;
        for (size_t i = 0; i < in->rep->n; i++) {
                const struct run_result *r = &in->rep->r[i];
                const char *tn = template_of(r->c->name);
                if (r->status != RUN_OK || streq(tn, "general") || !issue_has_template(in->templates_dir, tn))
                        continue;
                enum severity s = findings_worst(&r->fs);
                size_t count = 0;
                for (size_t k = 0; k < r->fs.n; k++)
                        count += r->fs.v[k].sev >= SEV_WARN;
                if (s > worst || (s == worst && s >= SEV_WARN && count > best_count)) {
                        worst = s;
                        best = tn;
                        best_count = count;
                }
        }
        return best ? best : "general";
}

static bool matches(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        return prefix[n - 1] == '/' ? startswith(path, prefix) : streq(path, prefix);
}

/* What a stored artifact's entry says about being whole: NULL when it is. */
static const char *stored_cut(const struct issue_artifact *m)
{
        const char *st = m->status;
        return st && !streq(st, "ok") ? st : NULL;
}

/* In the archive as a file: stored (it has a SHA-256), whole or cut. */
static bool in_archive(const struct issue_artifact *m)
{
        return m->stored;
}

/* One "not collected" line, once: the same what+status+why is said once. */
static void not_collected(json_object *list, json_object *seen, size_t *more, const char *what, bool is_path, const char *status,
                          const char *why)
{
        _cleanup_free_ char *key = xasprintf("%s\x1f%s\x1f%s", what, status, why ? why : "");
        if (json_object_object_get_ex(seen, key, NULL))
                return;
        json_object_object_add(seen, key, NULL);
        if (json_object_array_length(list) >= NOT_COLLECTED_MAX) {
                (*more)++;
                return;
        }
        json_object *e = json_object_new_object();
        put_str(e, "path", is_path ? what : NULL);
        put_str(e, "what", is_path ? NULL : what);
        put_str(e, "status", status);
        put_str(e, "why", why ? why : "no reason recorded");
        json_object_array_add(list, e);
}

/* Why a wanted file is not in the bundle, when no manifest entry says it. */
static char *why_absent(const struct report *rep, const char *path)
{
        if (!startswith(path, "collectors/"))
                return xstrdup("the bundle does not hold it");
        const char *name = path + 11;
        size_t len = strcspn(name, "/");
        const struct run_result *r = result_of(rep, name, len);
        if (!r) {
                _cleanup_free_ char *cn = strndup(name, len);
                return cn && collector_find(cn) ? xasprintf("the %s collector was not run", cn)
                                                : xasprintf("no evodiag collector gathers it yet (there is no %.*s collector)",
                                                            (int)len, name);
        }
        switch (r->status) {
        case RUN_NOT_SELECTED: return xasprintf("the %s collector was not run: %s", r->c->name, r->note ? r->note : "not selected");
        case RUN_NOT_APPLICABLE: return xasprintf("the %s collector does not apply to this host", r->c->name);
        case RUN_TIMEOUT:
        case RUN_CRASHED: return xasprintf("the %s collector did not finish: %s", r->c->name, r->note ? r->note : run_status_name(r->status));
        case RUN_OK: break;
        }
        return xasprintf("the %s collector did not store it", r->c->name);
}

static json_object *evidence_context(const struct issue_input *in, const char *tn, json_object *c)
{
        const struct report *rep = in->rep;
        size_t na = in->artifacts ? in->n_artifacts : 0;
        json_object *sections = json_object_new_array(), *nc = json_object_new_array(), *seen = json_object_new_object();
        size_t nc_more = 0;
        bool *placed = xcalloc(na + 1, sizeof(bool));
        for (size_t s = 0; s < ARRAY_SIZE(issue_sections); s++) {
                const struct issue_section *sec = &issue_sections[s];
                json_object *e = json_object_new_object(), *fl = json_object_new_array(), *att = json_object_new_array();
                size_t count = 0;
                for (size_t i = 0; sec->findings && i < rep->n; i++)
                        for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                                const struct finding *f = &rep->r[i].fs.v[k];
                                if (!startswith(f->id, sec->findings) || f->sev != SEV_INFO)
                                        continue; /* problems are in the table above; ok and skipped say nothing here */
                                json_object *x = json_object_new_object();
                                put_str(x, "id", f->id);
                                put_str(x, "severity", severity_name(f->sev));
                                put_str(x, "summary", f->summary);
                                json_object_array_add(fl, x);
                        }
                for (size_t i = 0; i < na; i++) {
                        const struct issue_artifact *m = &in->artifacts[i];
                        const char *p = m->path;
                        if (placed[i] || !p || !startswith(p, sec->artifacts) || !in_archive(m))
                                continue;
                        placed[i] = true;
                        count++;
                        if (json_object_array_length(att) >= ATTACHED_MAX)
                                continue;
                        json_object *x = json_object_new_object();
                        put_str(x, "path", p);
                        put_str(x, "kind", m->kind ? m->kind : "file");
                        put_str(x, "cut", stored_cut(m));
                        json_object_array_add(att, x);
                }
                if (!json_object_array_length(fl) && !count) {
                        json_object_put(fl);
                        json_object_put(att);
                        json_object_put(e);
                        continue;
                }
                put_str(e, "title", sec->title);
                json_object_object_add(e, "findings", fl);
                json_object_object_add(e, "attached", att);
                put_int(e, "attached_count", (int64_t)count);
                put_int(e, "attached_more", (int64_t)(count - json_object_array_length(att)));
                json_object_array_add(sections, e);
        }
        /* Files no section names still count: an "Other files" section. */
        json_object *other = json_object_new_array();
        size_t other_n = 0;
        for (size_t i = 0; i < na; i++) {
                const struct issue_artifact *m = &in->artifacts[i];
                const char *p = m->path;
                if (placed[i] || !p || !in_archive(m))
                        continue;
                other_n++;
                if (json_object_array_length(other) >= ATTACHED_MAX)
                        continue;
                json_object *x = json_object_new_object();
                put_str(x, "path", p);
                put_str(x, "kind", m->kind ? m->kind : "file");
                put_str(x, "cut", stored_cut(m));
                json_object_array_add(other, x);
        }
        if (other_n) {
                json_object *e = json_object_new_object();
                put_str(e, "title", "Reports of this run");
                json_object_object_add(e, "findings", json_object_new_array());
                json_object_object_add(e, "attached", other);
                put_int(e, "attached_count", (int64_t)other_n);
                put_int(e, "attached_more", (int64_t)(other_n - json_object_array_length(other)));
                json_object_array_add(sections, e);
        } else {
                json_object_put(other);
        }
        free(placed);

        /* Not collected: what the template's guide wants and the bundle lacks, the
         * collectors that were not run, then each entry the manifest marks not whole. */
        for (size_t w = 0; w < ARRAY_SIZE(issue_wants); w++) {
                if (!streq(issue_wants[w].template, tn))
                        continue;
                bool have = false, told = false;
                for (size_t i = 0; i < na && !have; i++) {
                        const struct issue_artifact *m = &in->artifacts[i];
                        const char *p = m->path;
                        if (p && matches(p, issue_wants[w].path)) {
                                have |= in_archive(m) && !stored_cut(m);
                                told = true; /* its own entry says why (below) */
                        }
                }
                if (!have && !told) {
                        _cleanup_free_ char *why = why_absent(rep, issue_wants[w].path);
                        not_collected(nc, seen, &nc_more, issue_wants[w].what, false, "not collected", why);
                }
        }
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status != RUN_NOT_SELECTED)
                        continue;
                _cleanup_free_ char *what = xasprintf("the %s collector's checks and evidence", r->c->name);
                not_collected(nc, seen, &nc_more, what, false, "not run", r->note);
        }
        for (size_t i = 0; i < na; i++) {
                const struct issue_artifact *m = &in->artifacts[i];
                const char *p = m->path, *st = m->status;
                if (!p || !st || streq(st, "ok"))
                        continue;
                not_collected(nc, seen, &nc_more, p, true, st, m->error);
        }
        json_object_put(seen);
        json_object_object_add(c, "sections", sections);
        json_object_object_add(c, "not_collected", nc);
        put_int(c, "not_collected_more", (int64_t)nc_more);
        return c;
}

/* The context's own copy of a JSON value (NULL stays NULL). */
static json_object *copy_of(json_object *v)
{
        json_object *out = NULL;
        if (v)
                (void)json_object_deep_copy(v, &out, NULL);
        return out;
}

/* The pre-rendered blocks: {{{status}}} and {{{evidence}}}. */
static void put_block(json_object *c, const char *key, const char *tmpl)
{
        char *terr = NULL;
        char *text = template_render(tmpl, c, NULL, &terr);
        if (!text) { /* built in: a test renders both */
                text = xasprintf("(%s could not be rendered: %s)", key, terr);
                free(terr);
        }
        put_str(c, key, text);
        free(text);
}

json_object *issue_context(const struct issue_input *in, const char **template_name)
{
        const struct report *rep = in->rep;
        json_object *c = json_object_new_object();
        const char *tn = pick_template(in);
        *template_name = tn;
        const char *prefix = streq(tn, "vgpu") ? "mediator" : tn; /* the collector whose findings title it */
        size_t tnl = strlen(prefix);
        bool general = streq(tn, "general");

        /* Problems, worst first, up to a page; "and N more" says what the table leaves out. */
        size_t total = 0;
        for (size_t i = 0; i < rep->n; i++)
                total += rep->r[i].fs.n;
        const struct finding **all = xcalloc(total + 1, sizeof(*all));
        size_t k = 0;
        for (size_t i = 0; i < rep->n; i++)
                for (size_t j = 0; j < rep->r[i].fs.n; j++)
                        all[k++] = &rep->r[i].fs.v[j];
        qsort(all, total, sizeof(*all), by_severity);
        json_object *problems = json_object_new_array();
        size_t problems_total = 0;
        const struct finding *title_from = NULL;
        for (size_t i = 0; i < total; i++) {
                const struct finding *f = all[i];
                if (f->sev < SEV_UNKNOWN)
                        continue;
                problems_total++;
                /* The title is the component's own worst problem (the general template: any). */
                if (!title_from && (general || (!strncmp(f->id, prefix, tnl) && f->id[tnl] == '.')))
                        title_from = f;
                if (json_object_array_length(problems) >= PROBLEMS_MAX)
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
        put_int(c, "problems_total", (int64_t)problems_total);
        put_int(c, "problems_more", (int64_t)(problems_total - json_object_array_length(problems)));

        /* Versions: only from findings that exist. */
        json_object *versions = json_object_new_array();
        for (size_t i = 0; i < ARRAY_SIZE(issue_versions); i++) {
                const struct finding *f = finding_of(rep, issue_versions[i].id);
                if (!f || f->sev == SEV_SKIPPED)
                        continue;
                json_object *v = json_object_new_object();
                put_str(v, "name", issue_versions[i].name);
                put_str(v, "version", f->actual ? f->actual : f->summary);
                json_object_array_add(versions, v);
        }

        size_t cnt[_SEV_MAX];
        report_count(rep, cnt);
        json_object *sum = json_object_new_object();
        enum severity w = report_worst(rep);
        put_str(sum, "worst", w >= SEV_UNKNOWN ? severity_name(w) : "ok");
        put_int(sum, "crit", (int64_t)cnt[SEV_CRIT]);
        put_int(sum, "warn", (int64_t)cnt[SEV_WARN]);
        put_int(sum, "unknown", (int64_t)cnt[SEV_UNKNOWN]);
        put_int(sum, "ok", (int64_t)cnt[SEV_OK]);
        json_object_object_add(c, "summary", sum);
        json_object_object_add(c, "problems", problems);
        json_object_object_add(c, "versions", versions);

        const struct collector *cc = general ? NULL : collector_find(tn);
        _cleanup_free_ char *title = title_from ? xasprintf("%s on %s", title_from->summary, rep->host)
                                     : cc       ? xasprintf("Diagnostics of %s on %s", tn, rep->host)
                                                : xasprintf("Diagnostics of %s", rep->host);
        put_str(c, "title", title);
        put_str(c, "host", rep->host);
        char ts[32];
        format_utc(rep->started_ms, ts);
        put_str(c, "generated", ts);
        put_str(c, "evodiag_version", PACKAGE_VERSION);
        put_str(c, "command_line", in->command_line);
        put_str(c, "case_id", in->case_id);
        json_object *comp = json_object_new_object();
        put_str(comp, "name", tn);
        put_str(comp, "label", cc ? cc->summary : "general");
        json_object_object_add(c, "component", comp);

        /* The bundle itself: complete or what is missing, what evodiag did to processes. */
        json_object_object_add(c, "complete", json_object_new_boolean(in->complete));
        json_object_object_add(c, "incomplete", in->incomplete ? copy_of(in->incomplete) : json_object_new_array());
        json_object *harmed = json_object_new_array();
        for (size_t i = 0; in->intrusive && i < json_object_array_length(in->intrusive); i++) {
                const char *l = json_object_get_string(json_object_array_get_idx(in->intrusive, i));
                if (l && strstr(l, ": died"))
                        json_object_array_add(harmed, json_object_new_string(l));
        }
        json_object_object_add(c, "harmed", harmed);
        json_object_object_add(c, "intrusive", in->intrusive ? copy_of(in->intrusive) : json_object_new_array());
        json_object_object_add(c, "trigger", copy_of(in->trigger));
        put_int(c, "files", (int64_t)in->files);

        /* The host: raw facts the run read (lib/hostfacts.h), decisions from findings. */
        json_object *os = NULL, *cfg = NULL, *disks = NULL, *v;
        if (in->facts && json_object_object_get_ex(in->facts, "os", &v))
                os = copy_of(v);
        if (in->facts && json_object_object_get_ex(in->facts, "config", &v))
                cfg = copy_of(v);
        if (in->facts && json_object_object_get_ex(in->facts, "disks", &v))
                disks = copy_of(v);
        os = os ? os : json_object_new_object();
        cfg = cfg ? cfg : json_object_new_object();
        disks = disks ? disks : json_object_new_array();
        _cleanup_free_ char *preempt = finding_fact(rep, "rt.kernel");
        put_str(cfg, "preempt", preempt);
        /* Data directories as the component collectors measured them. */
        for (size_t i = 0; i < rep->n; i++)
                for (size_t j = 0; j < rep->r[i].fs.n; j++) {
                        const struct finding *f = &rep->r[i].fs.v[j];
                        size_t l = strlen(f->id);
                        if (l > 5 && streq(f->id + l - 5, ".disk") && f->sev != SEV_SKIPPED) {
                                json_object *d = json_object_new_object();
                                put_str(d, "path", f->id);
                                put_str(d, "df", f->summary);
                                json_object_array_add(disks, d);
                        }
                }
        json_object_object_add(c, "os", os);
        json_object_object_add(c, "config", cfg);
        json_object_object_add(c, "disks", disks);
        json_object_object_add(c, "limits", in->limits ? copy_of(in->limits) : json_object_new_array());

        evidence_context(in, tn, c);
        put_block(c, "status", STATUS);
        put_block(c, "evidence", EVIDENCE);
        return c;
}

/* One template's text: templates_dir's copy, else the built-in one. */
static char *render_one(const struct issue_input *in, json_object *ctx, const char *tn, bool from_dir, char **missing, char **err)
{
        char *tmpl = from_dir ? read_template(in->templates_dir, tn) : NULL;
        if (from_dir && !tmpl) {
                *err = xasprintf("%s/%s.md: %s", in->templates_dir, tn, strerror(errno));
                return NULL;
        }
        const char *text = from_dir ? tmpl : issue_builtin_template(tn);
        if (!text) {
                *err = xasprintf("no template %s (built in: general, evo, lavinmq, vgpu, snn, framealloc)", tn);
                return NULL;
        }
        char *terr = NULL;
        char *out = template_render(text, ctx, missing, &terr);
        if (!out) {
                *err = from_dir ? xasprintf("%s/%s.md:%s", in->templates_dir, tn, terr + 5) /* "line N: why" -> "path:N: why" */
                                : xasprintf("built-in %s.md:%s", tn, terr + 5);
                free(terr);
        }
        free(tmpl);
        return out;
}

char *issue_render_note(const struct issue_input *in, char **missing, char **err, char **note)
{
        const char *tn;
        *err = NULL;
        if (note)
                *note = NULL;
        json_object *ctx = issue_context(in, &tn);
        char *out = NULL;
        if (in->templates_dir) {
                _cleanup_free_ char *p = xasprintf("%s/%s.md", in->templates_dir, tn);
                if (access(p, F_OK) == 0) {
                        out = render_one(in, ctx, tn, true, missing, err);
                        if (!out && note) /* a broken override: the built-in one, and said so */
                                *note = xasprintf("%s; the built-in %s.md was used", *err, tn);
                }
        }
        if (!out) {
                char *e2 = NULL;
                out = render_one(in, ctx, tn, false, missing, &e2);
                if (out) {
                        free(*err);
                        *err = NULL;
                        free(e2);
                } else {
                        free(*err);
                        *err = e2;
                }
        }
        json_object_put(ctx);
        return out;
}

char *issue_render(const struct issue_input *in, char **missing, char **err)
{
        return issue_render_note(in, missing, err, NULL);
}
