/* Unit tests: the child-process runner, with real forks. Each job misbehaves the
 * way a collector can (hangs, crashes, lies, floods) and the run must go on. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <signal.h>
#include "collectors/runner.h"
#include "lib/proctable.h"

static json_object *answers(void *arg) { return json_object_new_string((const char *)arg); }
static json_object *hangs(void *arg) { for (;;) pause(); return NULL; }
static json_object *crashes(void *arg) { raise(SIGABRT); return NULL; }
static json_object *fails(void *arg) { _exit(4); }
static json_object *floods(void *arg)
{
        json_object *a = json_object_new_array();
        for (int i = 0; i < 800000; i++)
                json_object_array_add(a, json_object_new_string("xxxxxxxxxxxxxxxxxxxxxxxx"));
        return a;
}

static void test_mixed_jobs(void **state)
{
        struct job jobs[] = {
                {.name = "good", .fn = answers, .arg = "hello", .timeout_ms = 5000},
                {.name = "hang", .fn = hangs, .timeout_ms = 200},
                {.name = "crash", .fn = crashes, .timeout_ms = 5000},
                {.name = "fail", .fn = fails, .timeout_ms = 5000},
                {.name = "good2", .fn = answers, .arg = "world", .timeout_ms = 5000},
        };
        struct job_opts o = {.parallel = 2};
        jobs_run(jobs, 5, &o); /* returns although "hang" never answers */
        assert_int_equal(jobs[0].status, JOB_DONE);
        assert_string_equal(json_object_get_string(jobs[0].result), "hello");
        assert_int_equal(jobs[1].status, JOB_TIMEOUT);
        assert_non_null(strstr(jobs[1].error, "200 ms"));
        assert_int_equal(jobs[2].status, JOB_CRASHED);
        assert_non_null(strstr(jobs[2].error, "signal 6"));
        assert_int_equal(jobs[3].status, JOB_CRASHED);
        assert_non_null(strstr(jobs[3].error, "status 4"));
        assert_int_equal(jobs[4].status, JOB_DONE);
        for (size_t i = 0; i < 5; i++)
                job_clear(&jobs[i]);
}

static void test_global_deadline(void **state)
{
        struct job jobs[] = {
                {.name = "hang1", .fn = hangs, .timeout_ms = 60000},
                {.name = "late", .fn = answers, .arg = "x", .timeout_ms = 60000},
        };
        /* One at a time: the first eats the whole budget, the second never starts. */
        struct job_opts o = {.parallel = 1, .deadline_ms = now_ms_monotonic() + 300};
        jobs_run(jobs, 2, &o);
        assert_int_equal(jobs[0].status, JOB_TIMEOUT);
        assert_int_equal(jobs[1].status, JOB_NOT_RUN);
        job_clear(&jobs[0]);
        job_clear(&jobs[1]);
}

static void test_fault_hook_garbage(void **state)
{
        setenv("EVODIAG_FAULT", "liar:garbage", 1);
        struct job j = {.name = "liar", .fn = answers, .arg = "x", .timeout_ms = 5000};
        struct job_opts o = {0};
        jobs_run(&j, 1, &o);
        unsetenv("EVODIAG_FAULT");
#ifdef EVODIAG_TEST_HOOKS
        assert_int_equal(j.status, JOB_CRASHED);
        assert_non_null(strstr(j.error, "unreadable"));
#else
        /* A release build has no hook: the variable changes nothing. */
        assert_int_equal(j.status, JOB_DONE);
#endif
        job_clear(&j);
}

static void test_flood(void **state)
{
        struct job j = {.name = "flood", .fn = floods, .timeout_ms = 20000};
        struct job_opts o = {0};
        jobs_run(&j, 1, &o);
        assert_int_equal(j.status, JOB_CRASHED);
        assert_non_null(strstr(j.error, "more than"));
        job_clear(&j);
}

/* The table a run reads once and hands to every collector survives the trip. */
static void test_proctable_preload(void **state)
{
        struct proc v[2] = {
                {.pid = 42, .ppid = 1, .euid = 1000, .comm = "evo (cu)", .cmdline = "/opt/evo/cu --rt", .state = 'S',
                 .policy = 1, .rtprio = 80, .nice = 0, .nlwp = 3, .rss = 1 << 20, .vmlck = 1 << 19},
                {.pid = 2, .ppid = 0, .comm = "kthreadd", .cmdline = "", .state = 'S', .kthread = true},
        };
        struct proctable t = {.v = v, .n = 2}, back;
        json_object *j = proctable_to_json(&t);
        json_object *parsed = json_tokener_parse(json_object_to_json_string(j));
        assert_int_equal(proctable_from_json(parsed, &back), 0);
        assert_int_equal(back.n, 2);
        assert_int_equal(back.v[0].pid, 42);
        assert_string_equal(back.v[0].comm, "evo (cu)");
        assert_string_equal(back.v[0].cmdline, "/opt/evo/cu --rt");
        assert_int_equal(back.v[0].policy, 1);
        assert_int_equal(back.v[0].rtprio, 80);
        assert_true(back.v[0].vmlck == 1 << 19);
        assert_true(back.v[1].kthread);
        /* After preloading, every load (also in forked children) is that snapshot. */
        proctable_preload(&back);
        struct proctable again;
        assert_int_equal(proctable_load(&again), 0);
        assert_int_equal(again.n, 2);
        assert_string_equal(again.v[0].cmdline, "/opt/evo/cu --rt");
        proctable_free(&again);
        proctable_free(&back);
        json_object_put(j);
        json_object_put(parsed);
        json_object *bad = json_tokener_parse("[[1,2,3]]");
        assert_int_equal(proctable_from_json(bad, &back), -EINVAL);
        json_object_put(bad);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mixed_jobs), cmocka_unit_test(test_global_deadline),
                cmocka_unit_test(test_fault_hook_garbage), cmocka_unit_test(test_flood),
                cmocka_unit_test(test_proctable_preload),
        };
        return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
