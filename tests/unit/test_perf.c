/* Unit tests: the perf collector's parsers and decisions — pid lists, the context-switch
 * lines of /proc/PID/status, [perf] processes entries, what perf_event_paranoid allows,
 * multiplex scaling, the jitter and busy-loop verdicts — good and broken input; and one
 * live counter on this process (task-clock and context switches move). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <time.h>

#include "collectors/perf.h"
#include "lib/progress.h"
#include "lib/util.h"

static void test_pids(void **state)
{
        (void)state;
        int v[8];
        char *why = NULL;
        assert_int_equal(perf_parse_pids("12, 34,56", v, 8, &why), 3);
        assert_int_equal(v[0], 12);
        assert_int_equal(v[1], 34);
        assert_int_equal(v[2], 56);
        assert_null(why);
        assert_int_equal(perf_parse_pids("", v, 8, &why), 0);
        assert_int_equal(perf_parse_pids("   ", v, 8, &why), 0);
        assert_int_equal(perf_parse_pids("7,7, 7", v, 8, &why), 1); /* duplicates dropped */
        assert_int_equal(perf_parse_pids("1,,2,", v, 8, &why), 2);
        assert_int_equal(perf_parse_pids("4194304", v, 8, &why), 1);
        /* not pids */
        const char *bad[] = {"0", "-1", "4194305", "12a", "0x10", "1 2", "+5", "99999999999999999999", "1,x", NULL};
        for (size_t i = 0; bad[i]; i++) {
                why = NULL;
                assert_int_equal(perf_parse_pids(bad[i], v, 8, &why), -EINVAL);
                assert_non_null(why);
                assert_non_null(strstr(why, "is not a process id"));
                free(why);
        }
        why = NULL;
        assert_int_equal(perf_parse_pids("1,2,3,4,5,6,7,8,9", v, 8, &why), -E2BIG);
        assert_non_null(why);
        free(why);
}

static void test_status(void **state)
{
        (void)state;
        uint64_t v, iv;
        const char *st = "Name:\tlavinmq\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1234\n"
                         "nonvoluntary_ctxt_switches:\t56\n";
        assert_int_equal(perf_status_switches(st, &v, &iv), 0);
        assert_int_equal(v, 1234);
        assert_int_equal(iv, 56);
        /* the last line without a newline, spaces instead of a tab */
        assert_int_equal(perf_status_switches("nonvoluntary_ctxt_switches:  9\nvoluntary_ctxt_switches: 3", &v, &iv), 0);
        assert_int_equal(v, 3);
        assert_int_equal(iv, 9);
        /* missing one, garbage, negative, too long, a prefix of the key */
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches:\t1\n", &v, &iv), -EINVAL);
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches:\tx\nnonvoluntary_ctxt_switches:\t1\n", &v, &iv), -EINVAL);
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches:\t-1\nnonvoluntary_ctxt_switches:\t1\n", &v, &iv), -EINVAL);
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches:\t1 2\nnonvoluntary_ctxt_switches:\t1\n", &v, &iv), -EINVAL);
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches:\t123456789012345678901\nnonvoluntary_ctxt_switches:\t1\n", &v,
                                              &iv),
                         -EINVAL);
        assert_int_equal(perf_status_switches("voluntary_ctxt_switches_x:\t1\nnonvoluntary_ctxt_switches:\t1\n", &v, &iv), -EINVAL);
        assert_int_equal(perf_status_switches("", &v, &iv), -EINVAL);
}

static void test_process_entry(void **state)
{
        (void)state;
        char n[65], u[65];
        assert_int_equal(perf_process_entry(" lavinmq:lavinmq ", n, sizeof(n), u, sizeof(u)), 0);
        assert_string_equal(n, "lavinmq");
        assert_string_equal(u, "lavinmq");
        assert_int_equal(perf_process_entry("evo_control_unit", n, sizeof(n), u, sizeof(u)), 0);
        assert_string_equal(n, "evo_control_unit");
        assert_string_equal(u, "");
        assert_int_equal(perf_process_entry("", n, sizeof(n), u, sizeof(u)), -EINVAL);
        assert_int_equal(perf_process_entry(":user", n, sizeof(n), u, sizeof(u)), -EINVAL);
        assert_int_equal(perf_process_entry("a:b:c", n, sizeof(n), u, sizeof(u)), -EINVAL);
        char longname[100];
        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        assert_int_equal(perf_process_entry(longname, n, sizeof(n), u, sizeof(u)), -EINVAL);
}

static void test_access(void **state)
{
        (void)state;
        for (int64_t p = -1; p <= 4; p++)
                assert_int_equal(perf_access_for(p, true), PERF_ACCESS_FULL); /* root passes any level */
        assert_int_equal(perf_access_for(-1, false), PERF_ACCESS_FULL);
        assert_int_equal(perf_access_for(0, false), PERF_ACCESS_FULL);
        assert_int_equal(perf_access_for(1, false), PERF_ACCESS_FULL);
        assert_int_equal(perf_access_for(2, false), PERF_ACCESS_USER_ONLY);
        assert_int_equal(perf_access_for(3, false), PERF_ACCESS_NONE);
        assert_int_equal(perf_access_for(4, false), PERF_ACCESS_NONE);
}

static void test_scale_verdicts(void **state)
{
        (void)state;
        assert_int_equal(perf_scale(100, 10, 10), 100);
        assert_int_equal(perf_scale(100, 20, 10), 200); /* ran half the time */
        assert_int_equal(perf_scale(100, 20, 0), 0);    /* never ran */
        assert_int_equal(perf_scale(UINT64_MAX, 4, 1), UINT64_MAX);
        /* jitter: only FIFO (1) and RR (2) threads, any involuntary switch or migration */
        assert_int_equal(perf_jitter_verdict(1, 0, 0), SEV_OK);
        assert_int_equal(perf_jitter_verdict(1, 1, 0), SEV_WARN);
        assert_int_equal(perf_jitter_verdict(2, 0, 3), SEV_WARN);
        assert_int_equal(perf_jitter_verdict(0, 50, 50), SEV_OK);
        assert_int_equal(perf_jitter_verdict(6, 50, 50), SEV_OK); /* DEADLINE: its own budget */
        /* busy: a thread at busy_pct % of the window */
        assert_true(perf_busy(200000000, 200000000, 95));
        assert_true(perf_busy(190000000, 200000000, 95));
        assert_false(perf_busy(189000000, 200000000, 95));
        assert_false(perf_busy(1, 0, 95));
        assert_string_equal(perf_open_error(-ENOENT, true), "hardware counters unavailable (virtual machine or no PMU)");
        assert_non_null(strstr(perf_open_error(-EACCES, false), "perf_event_paranoid"));
}

/* The counter this collector opens, on this process: the software events exist on any
 * kernel with perf events (this VM has no PMU, so no hardware events are asserted). */
static void test_live_counter(void **state)
{
        (void)state;
        int fd = perf_open_counter(PEV_TASK_CLOCK, 0, true);
        if (fd == -EACCES || fd == -EPERM || fd == -ENOSYS) {
                skip();
                return;
        }
        assert_true(fd >= 0);
        int cs = perf_open_counter(PEV_CS, 0, true);
        assert_true(cs >= 0);
        volatile uint64_t x = 0;
        for (int i = 0; i < 2000000; i++)
                x += (uint64_t)i;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* a voluntary switch */
        uint64_t buf[3];
        assert_int_equal(read(fd, buf, sizeof(buf)), sizeof(buf));
        assert_true(buf[0] > 0);
        assert_int_equal(read(cs, buf, sizeof(buf)), sizeof(buf));
        assert_true(buf[0] > 0);
        close(fd);
        close(cs);
}

/* lib/progress: LavinMQ's /api/overview message_stats, the busy-loop verdict's progress. */
static void test_progress_overview(void **state)
{
        (void)state;
        struct progress_reading a, b;
        const char *frozen = "{\"message_stats\":{\"publish\":10,\"publish_details\":{\"rate\":0.0,\"log\":[]},"
                             "\"ack\":5,\"ack_details\":{\"rate\":0}},\"object_totals\":{}}";
        assert_int_equal(progress_parse_overview(frozen, strlen(frozen), &a), 0);
        assert_true(a.ok);
        assert_int_equal(a.total, 15);
        assert_int_equal(a.counters, 2);
        assert_true(a.rate == 0.0);
        assert_int_equal(progress_parse_overview(frozen, strlen(frozen), &b), 0);
        assert_false(progress_moved(&a, &b)); /* nothing advanced, rates 0 */
        const char *more = "{\"message_stats\":{\"publish\":11,\"ack\":5}}";
        progress_reading_free(&b);
        assert_int_equal(progress_parse_overview(more, strlen(more), &b), 0);
        assert_true(progress_moved(&a, &b)); /* a counter advanced */
        const char *rate = "{\"message_stats\":{\"publish\":10,\"ack\":5,\"deliver_get_details\":{\"rate\":12.5}}}";
        progress_reading_free(&b);
        assert_int_equal(progress_parse_overview(rate, strlen(rate), &b), 0);
        assert_true(b.rate == 12.5);
        assert_true(progress_moved(&a, &b)); /* the broker's own rate */
        progress_reading_free(&b);
        /* Broken input: said, never a reading; a failed reading never "moved". */
        static const char *const bad[] = {
                "", "[1,2]", "{\"object_totals\":{}}", "{\"message_stats\":[]}", "{\"message_stats\":{\"publish\":-1}}",
                "{\"message_stats\":{\"publish\":\"many\"}}", "{\"message_stats\":{\"publish\":1.5}}", "{\"message_stats\":{",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(progress_parse_overview(bad[i], strlen(bad[i]), &b), -EINVAL);
                assert_false(b.ok);
                assert_non_null(b.err);
                assert_false(progress_moved(&a, &b));
                assert_false(progress_moved(&b, &a));
                progress_reading_free(&b);
        }
        /* A counter near 2^64: the sum saturates instead of wrapping. */
        const char *huge = "{\"message_stats\":{\"publish\":9223372036854775807,\"ack\":9223372036854775807,\"get\":9}}";
        assert_int_equal(progress_parse_overview(huge, strlen(huge), &b), 0);
        assert_true(b.total == UINT64_MAX);
        progress_reading_free(&b);
        progress_reading_free(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pids),          cmocka_unit_test(test_status),
                cmocka_unit_test(test_process_entry), cmocka_unit_test(test_access),
                cmocka_unit_test(test_scale_verdicts), cmocka_unit_test(test_live_counter),
                cmocka_unit_test(test_progress_overview),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
