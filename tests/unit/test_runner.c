/* Unit tests: the child-process runner, with real forks. Each job misbehaves the
 * way a collector can (hangs, crashes, lies, floods) and the run must go on. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include "collectors/frame.h"
#include "collectors/runner.h"
#include "lib/child.h"
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

/* ---- framed findings ---- */

static size_t n_findings; /* how many the streaming child makes */

static void make_findings(struct findings *fs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.not_segment", "evo_junk_%zu is not an EVO segment", i);
                fnd_subject(f, "evo_junk_%zu", i);
                fnd_remedy(f, "ls -la /dev/shm/evo_junk_%zu", i);
        }
}

static void streams(void *arg, int wfd)
{
        struct findings fs = {0};
        make_findings(&fs, n_findings);
        if (frame_send_findings(wfd, "evo", true, &fs) < 0)
                _exit(2);
        findings_free(&fs);
}

static int take(void *arg, json_object *hdr, size_t len)
{
        return frame_is_findings(hdr) ? findings_rx_frame(arg, hdr, len) : -EPROTO;
}

static void run_stream(void (*fn)(void *, int), struct findings_rx *rx, struct job *j)
{
        *j = (struct job){.name = "stream", .stream = fn, .on_frame = take, .frame_arg = rx, .timeout_ms = 60000};
        struct job_opts o = {0};
        jobs_run(j, 1, &o);
}

/* 10,000 findings (6 MB of JSON, once one document over the 1 MiB frame limit) all arrive. */
static void test_stream_many(void **state)
{
        struct findings_rx rx = {0};
        struct job j;
        n_findings = 10000;
        run_stream(streams, &rx, &j);
        assert_int_equal(j.status, JOB_DONE);
        char *why = NULL;
        assert_int_equal(findings_rx_finish(&rx, "evo", &why), 0);
        assert_true(rx.applies);
        assert_int_equal(rx.fs.n, 10000);
        assert_string_equal(rx.fs.v[9999].subject, "evo_junk_9999");
        assert_string_equal(rx.fs.v[0].remedy, "ls -la /dev/shm/evo_junk_0");
        findings_rx_free(&rx);
        job_clear(&j);
}

/* Past FINDINGS_MAX the child cuts, and says so in a finding. */
static void test_stream_cut_by_child(void **state)
{
        struct findings_rx rx = {0};
        struct job j;
        n_findings = FINDINGS_MAX + 5;
        run_stream(streams, &rx, &j);
        assert_int_equal(j.status, JOB_DONE);
        char *why = NULL;
        assert_int_equal(findings_rx_finish(&rx, "evo", &why), 0);
        assert_int_equal(rx.fs.n, FINDINGS_MAX + 1);
        const struct finding *last = &rx.fs.v[rx.fs.n - 1];
        assert_string_equal(last->id, "evo.findings_cut");
        assert_int_equal(last->sev, SEV_UNKNOWN);
        assert_non_null(strstr(last->summary, "findings cut at 100000"));
        assert_non_null(strstr(last->summary, "reported 100005"));
        findings_rx_free(&rx);
        job_clear(&j);
}

/* A child that ignores the bound (hand-made frames) is cut by the parent, never silently. */
static void floods_frames(void *arg, int wfd)
{
        size_t sent = 0;
        for (int k = 0; k < 30; k++) {
                struct strbuf b = {0};
                sb_puts(&b, "{\"t\":\"findings\",\"applies\":true,\"findings\":[");
                for (int i = 0; i < 5000; i++, sent++)
                        sb_printf(&b, "%s{\"id\":\"evo.x\",\"severity\":\"info\",\"summary\":\"%zu\"}", i ? "," : "", sent);
                sb_puts(&b, "]}\n");
                if (write_all(wfd, b.s, b.len) < 0)
                        _exit(2);
                sb_free(&b);
        }
        char end[64];
        int n = snprintf(end, sizeof(end), "{\"t\":\"findings_end\",\"count\":%zu}\n", sent);
        (void)write_all(wfd, end, (size_t)n);
}

static void test_stream_cut_by_parent(void **state)
{
        struct findings_rx rx = {0};
        struct job j;
        run_stream(floods_frames, &rx, &j);
        assert_int_equal(j.status, JOB_DONE);
        char *why = NULL;
        assert_int_equal(findings_rx_finish(&rx, "evo", &why), 0);
        assert_true(rx.fs.n <= FINDINGS_MAX + 2);
        const struct finding *last = &rx.fs.v[rx.fs.n - 1];
        assert_string_equal(last->id, "evo.findings_cut");
        assert_non_null(strstr(last->summary, "reported 150000"));
        findings_rx_free(&rx);
        job_clear(&j);
}

/* A stream that lies about its count, stops early or sends a bad frame is not trusted. */
static void lies(void *arg, int wfd)
{
        const char *s = arg;
        (void)write_all(wfd, s, strlen(s));
}

static void test_stream_broken(void **state)
{
        static const struct {
                const char *out;
                enum job_status st;
                const char *why;
        } cases[] = {
                {"{\"t\":\"findings\",\"applies\":true,\"findings\":[]}\n{\"t\":\"findings_end\",\"count\":3}\n", JOB_DONE,
                 "announced 3 findings, 0 arrived"},
                {"{\"t\":\"findings\",\"applies\":true,\"findings\":[]}\n", JOB_DONE, "without their end"},
                {"{\"t\":\"findings\",\"applies\":true,\"findings\":[{\"id\":null}]}\n", JOB_CRASHED, "wrong shape"},
                {"{\"t\":\"findings\",\"applies\":true,\"findings\":[]} trailing\n", JOB_CRASHED, "not a JSON object"},
                {"{\"t\":\"findings\",\"applies\":true,\"findings\":[],\"size\":5}\nhello", JOB_CRASHED, "wrong shape"},
                {"{\"t\":\"findings\",\"applies\":true", JOB_CRASHED, "cut short"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct findings_rx rx = {0};
                struct job j = {.name = "liar", .stream = lies, .arg = (void *)cases[i].out, .on_frame = take, .frame_arg = &rx,
                                .timeout_ms = 5000};
                struct job_opts o = {0};
                jobs_run(&j, 1, &o);
                assert_int_equal(j.status, cases[i].st);
                char *why = NULL;
                if (j.status == JOB_DONE) {
                        assert_int_equal(findings_rx_finish(&rx, "liar", &why), -EPROTO);
                        assert_non_null(strstr(why, cases[i].why));
                        free(why);
                } else {
                        assert_non_null(strstr(j.error, cases[i].why));
                }
                findings_rx_free(&rx);
                job_clear(&j);
        }
}

/* A header line without an end is cut off at FRAME_HEADER_MAX, not buffered forever. */
static void endless_line(void *arg, int wfd)
{
        char buf[65536];
        memset(buf, 'x', sizeof(buf));
        (void)write_all(wfd, "{\"t\":\"", 6);
        for (int i = 0; i < 64; i++)
                if (write_all(wfd, buf, sizeof(buf)) < 0)
                        return;
}

static void test_stream_endless_line(void **state)
{
        struct findings_rx rx = {0};
        struct job j;
        run_stream(endless_line, &rx, &j);
        assert_int_equal(j.status, JOB_CRASHED);
        assert_non_null(strstr(j.error, "over 1048576 bytes"));
        findings_rx_free(&rx);
        job_clear(&j);
}

/* One enormous finding is cut to fit a frame, marked as cut. */
static void test_frame_huge_finding(void **state)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct findings fs = {0};
        char *big = xmalloc(3 << 20);
        memset(big, 'y', (3 << 20) - 1);
        big[(3 << 20) - 1] = 0;
        fnd_add(&fs, SEV_WARN, "evo.x", "%s", big);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                _exit(frame_send_findings(p[1], "evo", true, &fs) < 0);
        }
        close(p[1]);
        struct strbuf in = {0};
        char buf[65536];
        ssize_t n;
        while ((n = read(p[0], buf, sizeof(buf))) > 0)
                sb_putn(&in, buf, (size_t)n);
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        struct findings_rx rx = {0};
        size_t pos = 0;
        char *line;
        while ((line = next_line(in.s, &pos))) {
                assert_true(strlen(line) < FRAME_HEADER_MAX);
                json_object *h = frame_parse_header(line, strlen(line));
                assert_non_null(h);
                assert_int_equal(findings_rx_frame(&rx, h, strlen(line) + 1), 0);
                json_object_put(h);
        }
        char *why = NULL;
        assert_int_equal(findings_rx_finish(&rx, "evo", &why), 0);
        assert_int_equal(rx.fs.n, 1);
        assert_int_equal(rx.fs.v[0].sev, SEV_WARN);
        assert_true(strlen(rx.fs.v[0].summary) < FINDING_FIELD_MAX + 64);
        assert_non_null(strstr(rx.fs.v[0].summary, "[cut: 3145727 bytes]"));
        findings_rx_free(&rx);
        findings_free(&fs);
        sb_free(&in);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mixed_jobs), cmocka_unit_test(test_global_deadline),
                cmocka_unit_test(test_fault_hook_garbage), cmocka_unit_test(test_flood),
                cmocka_unit_test(test_proctable_preload), cmocka_unit_test(test_stream_many),
                cmocka_unit_test(test_stream_cut_by_child), cmocka_unit_test(test_stream_cut_by_parent),
                cmocka_unit_test(test_stream_broken), cmocka_unit_test(test_stream_endless_line),
                cmocka_unit_test(test_frame_huge_finding),
        };
        return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
