/* report/issue.c: every built-in template rendered against bundles with and without
 * each artifact its guide wants, asserting that no sentence claims what the manifest
 * does not hold; the title fits the template; the problems table says "and N more"
 * and escapes '|'; "not collected" lines once each; the status block at the top. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/collector.h"
#include "collectors/runner.h"
#include "lib/util.h"
#include "report/issue.h"
#include "report/templates_builtin.h"

static const char *const TEMPLATES[] = {"general", "evo", "lavinmq", "vgpu", "snn", "framealloc", NULL};

static json_object *art(const char *path, const char *status, const char *error)
{
        json_object *a = json_object_new_object();
        json_object_object_add(a, "path", json_object_new_string(path));
        json_object_object_add(a, "kind", json_object_new_string("http"));
        json_object_object_add(a, "status", json_object_new_string(status));
        if (error)
                json_object_object_add(a, "error", json_object_new_string(error));
        if (!strcmp(status, "ok") || !strcmp(status, "truncated"))
                json_object_object_add(a, "sha256", json_object_new_string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        return a;
}

/* One run: every registered collector, ok with no findings unless told. */
struct run {
        struct run_result *r;
        size_t n;
};

static struct run run_all(void)
{
        struct run x = {0};
        while (collectors[x.n])
                x.n++;
        x.r = xcalloc(x.n, sizeof(*x.r));
        for (size_t i = 0; i < x.n; i++)
                x.r[i] = (struct run_result){.c = collectors[i], .status = RUN_OK};
        return x;
}

static struct run_result *of(struct run *x, const char *name)
{
        for (size_t i = 0; i < x->n; i++)
                if (!strcmp(x->r[i].c->name, name))
                        return &x->r[i];
        fail_msg("no collector %s", name);
        return NULL;
}

static char *render(struct run *x, const char *tn, json_object *arts, const struct issue_input *extra)
{
        struct report rep = {.host = "cell-7", .r = x->r, .n = x->n};
        struct issue_input in = extra ? *extra : (struct issue_input){.complete = true};
        in.rep = &rep;
        /* ISSUE.md's view of the manifest entries (report/issue.h): strings of the JSON objects */
        size_t na = arts ? json_object_array_length(arts) : 0;
        struct issue_artifact *view = calloc(na + 1, sizeof(*view));
        for (size_t i = 0; i < na; i++) {
                json_object *a = json_object_array_get_idx(arts, i), *v;
                view[i] = (struct issue_artifact){
                        .path = json_object_object_get_ex(a, "path", &v) ? json_object_get_string(v) : NULL,
                        .kind = json_object_object_get_ex(a, "kind", &v) ? json_object_get_string(v) : NULL,
                        .status = json_object_object_get_ex(a, "status", &v) ? json_object_get_string(v) : NULL,
                        .error = json_object_object_get_ex(a, "error", &v) ? json_object_get_string(v) : NULL,
                        .stored = json_object_object_get_ex(a, "sha256", NULL),
                };
        }
        in.artifacts = view;
        in.n_artifacts = na;
        in.component = tn;
        in.templates_dir = NULL;
        in.files = 42;
        json_object *facts = json_tokener_parse(
                "{\"os\":{\"pretty_name\":\"EVO Linux 3\",\"machine\":\"x86_64\",\"kernel_release\":\"6.1.0-rt\","
                "\"kernel_version\":\"#1 SMP PREEMPT_RT\",\"cpus\":8,\"cpus_online\":\"0-7\",\"memory\":\"16 GiB\"},"
                "\"config\":{\"cmdline\":\"quiet\",\"isolated\":\"2-3\",\"nohz_full\":\"2-3\",\"rt_runtime_us\":\"-1\","
                "\"shmmax\":\"1\",\"shmall\":\"1\",\"shmmni\":\"4096\",\"max_map_count\":\"65530\",\"file_max\":\"1\","
                "\"hugepages\":\"0\",\"thp\":\"never\",\"limits\":\"Max open files 1024 1024 files\"},"
                "\"disks\":[{\"path\":\"/dev/shm\",\"df\":\"1.0 GiB free of 2.0 GiB (50% used)\"}]}");
        if (!in.facts)
                in.facts = facts;
        char *missing = NULL, *err = NULL;
        char *out = issue_render(&in, &missing, &err);
        if (!out)
                fail_msg("%s: %s", tn, err);
        if (missing && *missing)
                fail_msg("%s: no value for %s", tn, missing);
        free(missing);
        free(view);
        json_object_put(facts);
        return out;
}

/* The sentences a template may not say (no manifest backs them). */
static void no_false_claims(const char *md, const char *tn)
{
        static const char *const claims[] = {"is attached", "are attached", "see the attached", "No crash", "Attached (see",
                                             "(unknown)", NULL};
        for (const char *const *c = claims; *c; c++)
                if (strstr(md, *c))
                        fail_msg("%s.md says \"%s\":\n%s", tn, *c, md);
}

/* Every template, with no artifact, with each wanted one stored, and with each failed. */
static void test_templates_truth(void **state)
{
        (void)state;
        static const char *const wanted[] = {"collectors/lavinmq/api-overview.json", "collectors/lavinmq/api-nodes.json",
                                             "collectors/lavinmq/metrics.txt", "collectors/lavinmq/usr1-dump.txt",
                                             "collectors/evo/segments.txt", NULL};
        struct run x = run_all();
        for (const char *const *tn = TEMPLATES; *tn; tn++) {
                /* none */
                json_object *arts = json_object_new_array();
                char *md = render(&x, *tn, arts, NULL);
                no_false_claims(md, *tn);
                assert_non_null(strstr(md, "This bundle holds 42 files"));
                if (!strcmp(*tn, "snn"))
                        assert_non_null(strstr(md, "- production.toml and the /health, /info, /metrics replies: not collected "
                                                   "(the snn collector did not store it)"));
                if (!strcmp(*tn, "lavinmq"))
                        assert_non_null(strstr(md, "- the broker's /api/overview reply: not collected (the lavinmq collector did not store it)"));
                assert_null(strstr(md, "Attached ("));
                free(md);
                json_object_put(arts);
                for (const char *const *w = wanted; *w; w++) {
                        /* stored */
                        arts = json_object_new_array();
                        json_object_array_add(arts, art(*w, "ok", NULL));
                        md = render(&x, *tn, arts, NULL);
                        no_false_claims(md, *tn);
                        _cleanup_free_ char *line = xasprintf("- `%s` (http)\n", *w);
                        if (!strstr(md, line))
                                fail_msg("%s.md does not list %s as attached:\n%s", *tn, *w, md);
                        free(md);
                        json_object_put(arts);
                        /* failed, twice (two collectors, one reason): said once, with the reason */
                        arts = json_object_new_array();
                        json_object_array_add(arts, art(*w, "error", "connection refused"));
                        json_object_array_add(arts, art(*w, "error", "connection refused"));
                        md = render(&x, *tn, arts, NULL);
                        no_false_claims(md, *tn);
                        _cleanup_free_ char *nc = xasprintf("- `%s`: error (connection refused)\n", *w);
                        const char *at = strstr(md, nc);
                        if (!at || strstr(at + 1, nc))
                                fail_msg("%s.md: not once under Not collected: %s\n%s", *tn, nc, md);
                        if (strstr(md, line))
                                fail_msg("%s.md lists the failed %s as attached", *tn, *w);
                        free(md);
                        json_object_put(arts);
                }
        }
        free(x.r);
}

/* The title is the chosen template's component's problem, not another's. */
static void test_title_fits(void **state)
{
        (void)state;
        struct run x = run_all();
        fnd_add(&of(&x, "fds")->fs, SEV_CRIT, "fds.usage", "pid 26268 python3: 294 of 300 open files");
        fnd_add(&of(&x, "lavinmq")->fs, SEV_WARN, "lavinmq.fd_limit", "lavinmq (pid 4242) may open only 1000 files");
        const char *tn;
        struct report rep = {.host = "cell-7", .r = x.r, .n = x.n};
        struct issue_input in = {.rep = &rep, .component = "lavinmq", .complete = true};
        json_object *c = issue_context(&in, &tn);
        assert_string_equal(json_object_get_string(json_object_object_get(c, "title")),
                            "lavinmq (pid 4242) may open only 1000 files on cell-7");
        json_object_put(c);
        /* general: the worst of all */
        in.component = "general";
        c = issue_context(&in, &tn);
        assert_string_equal(json_object_get_string(json_object_object_get(c, "title")), "pid 26268 python3: 294 of 300 open files on cell-7");
        json_object_put(c);
        /* a component with no problem of its own: no other's problem in its title */
        in.component = "evo";
        c = issue_context(&in, &tn);
        assert_null(strstr(json_object_get_string(json_object_object_get(c, "title")), "python3"));
        json_object_put(c);
        for (size_t i = 0; i < x.n; i++)
                findings_free(&x.r[i].fs);
        free(x.r);
}

/* More problems than the table shows: "and N more"; a '|' in a cell stays in it. */
static void test_problems_table(void **state)
{
        (void)state;
        struct run x = run_all();
        struct findings *fs = &of(&x, "lavinmq")->fs;
        for (int i = 0; i < 15; i++) {
                struct finding *f = fnd_add(fs, SEV_WARN, "lavinmq.listening", "listener %d is not listening", i);
                fnd_remedy(f, "journalctl -u lavinmq | grep -iE 'listen|bind|address'");
        }
        for (const char *const *tn = TEMPLATES; *tn; tn++) {
                char *md = render(&x, *tn, NULL, NULL);
                if (!strstr(md, "| | | and 3 more (see `summary.txt`) | |\n"))
                        fail_msg("%s.md: no \"and 3 more\" row:\n%s", *tn, md);
                /* each row: 5 unescaped '|' (4 cells), the remedy's '|' escaped inside its code span */
                for (const char *l = strstr(md, "| warn |"); l && !strncmp(l, "| warn |", 8); l = strchr(l, '\n') + 1) {
                        int bars = 0;
                        for (const char *p = l; *p != '\n'; p++)
                                bars += *p == '|' && (p == l || p[-1] != '\\');
                        assert_int_equal(bars, 5);
                        assert_non_null(strstr(l, "grep -iE 'listen\\|bind\\|address'"));
                }
                free(md);
        }
        findings_free(fs);
        free(x.r);
}

/* The top: incomplete with what is missing, a harmed process, the case, watch's trigger. */
static void test_status(void **state)
{
        (void)state;
        struct run x = run_all();
        json_object *why = json_object_new_array(), *intr = json_object_new_array(), *trig = json_object_new_array();
        json_object_array_add(why, json_object_new_string("451 artifacts cut or left out at the total size budget (--max-size 20.0 KiB)"));
        json_object_array_add(intr, json_object_new_string("lavinmq: kill -USR1 42: died: pid 42 is gone shortly after the action"));
        json_object_array_add(intr, json_object_new_string("lavinmq: kill -USR1 43: refused: pid 43 does not handle SIGUSR1"));
        json_object_array_add(trig, json_object_new_string("lavinmq.fd_usage went crit at 10:02:03"));
        json_object_array_add(trig, json_object_new_string("<img src=x onerror=alert(1)> @everyone"));
        struct issue_input in = {.complete = false, .incomplete = why, .intrusive = intr, .case_id = "CASE-7", .trigger = trig};
        for (const char *const *tn = TEMPLATES; *tn; tn++) {
                char *md = render(&x, *tn, NULL, &in);
                const char *top = strstr(md, "Case: `CASE-7`");
                assert_non_null(top);
                assert_non_null(strstr(md, "> **evodiag harmed a process it inspected** (bundle --allow-intrusive):\n"
                                           "> - lavinmq: kill -USR1 42: died: pid 42 is gone shortly after the action\n"));
                assert_null(strstr(md, "kill -USR1 43")); /* a refusal harmed nothing */
                assert_non_null(strstr(md, "> **This bundle is INCOMPLETE.** Missing:\n> - 451 artifacts cut or left out"));
                assert_non_null(strstr(md, "## Why this bundle was made\n"));
                assert_non_null(strstr(md, "- `lavinmq.fd_usage went crit at 10:02:03`\n"));
                /* event lines are code spans: markup and mentions in them stay inert text */
                assert_non_null(strstr(md, "- `<img src=x onerror=alert(1)> @everyone`\n"));
                assert_null(strstr(md, "\n<img"));
                /* at the top: before the summary */
                const char *summary = strstr(md, "\n## ");
                assert_true(strstr(md, "This bundle is INCOMPLETE") < strstr(summary + 1, "\n## "));
                free(md);
                /* complete: none of it */
                struct issue_input ok = {.complete = true};
                md = render(&x, *tn, NULL, &ok);
                assert_null(strstr(md, "INCOMPLETE"));
                assert_null(strstr(md, "harmed"));
                assert_null(strstr(md, "Why this bundle was made"));
                free(md);
        }
        json_object_put(why);
        json_object_put(intr);
        json_object_put(trig);
        free(x.r);
}

/* Built in: every template of templates/ is in the binary. */
static void test_builtin(void **state)
{
        (void)state;
        for (const char *const *tn = TEMPLATES; *tn; tn++) {
                assert_non_null(issue_builtin_template(*tn));
                assert_true(issue_has_template(NULL, *tn));
        }
        assert_false(issue_has_template(NULL, "../etc/passwd"));
        assert_false(issue_has_template("/nonexistent", "nope"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_templates_truth), cmocka_unit_test(test_title_fits), cmocka_unit_test(test_problems_table),
                cmocka_unit_test(test_status),          cmocka_unit_test(test_builtin),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
