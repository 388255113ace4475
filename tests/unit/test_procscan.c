/* lib/procscan.c: the process scan with explicit bounds (a process count, a time
 * budget, the runner's deadline), what it says about processes it could not
 * inspect, its summary, and a real child's open fds counted through it. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/finding.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* A table of made-up pids; measure() answers per pid, and counts its calls. */
static struct proc procs[] = {
        {.pid = 1, .comm = "init"},
        {.pid = 2, .comm = "kthreadd", .kthread = true},
        {.pid = 3, .comm = "gone"},
        {.pid = 4, .comm = "other_user"},
        {.pid = 5, .comm = "broken"},
        {.pid = 6, .comm = "evo_cu"},
};
static const struct proctable table = {.v = procs, .n = ARRAY_SIZE(procs)};
static int calls[8];
static unsigned sleep_ms;

static long measure(int pid)
{
        calls[pid]++;
        if (sleep_ms)
                nanosleep(&(struct timespec){.tv_nsec = (long)sleep_ms * 1000000}, NULL);
        switch (pid) {
        case 1: return 10;
        case 3: return -ENOENT;
        case 4: return -EACCES;
        case 5: return -EIO;
        case 6: return 7;
        default: return 1000; /* a kernel thread must never be measured */
        }
}

static long measure_bounded(int pid, bool *at_least)
{
        *at_least = pid == 6;
        return measure(pid);
}

static void reset(void)
{
        memset(calls, 0, sizeof(calls));
        sleep_ms = 0;
}

static const struct finding *find(const struct findings *fs, size_t k)
{
        assert_true(k < fs->n);
        return &fs->v[k];
}

static void test_scan_counts(void **state)
{
        (void)state;
        reset();
        struct scan s = {0};
        scan_procs(&(struct scan_opts){.section = "fds"}, &table, measure, &s);
        assert_int_equal(calls[2], 0); /* kernel thread left out */
        assert_int_equal(s.candidates, 5);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.v[0].pid, 1);
        assert_string_equal(s.v[0].comm, "init");
        assert_int_equal(s.v[0].used, 10);
        assert_int_equal(s.v[1].pid, 6);
        assert_false(s.v[1].at_least);
        assert_int_equal(s.denied, 1);
        assert_int_equal(s.denied_pid, 4);
        assert_int_equal(s.failed, 1);
        assert_int_equal(s.failed_pid, 5);
        assert_int_equal(s.failed_err, EIO);
        assert_int_equal(s.not_inspected, 0);
        assert_false(s.out_of_time);
        scan_free(&s);
        assert_null(s.v);

        reset();
        scan_procs_bounded(&(struct scan_opts){.section = "fds"}, &table, measure_bounded, &s);
        assert_int_equal(s.n, 2);
        assert_true(s.v[1].at_least);
        /* A lower bound is never ok; a bound already over the threshold still is what it is. */
        struct usage u = s.v[1];
        u.limit = 1024;
        assert_int_equal(usage_verdict(&u, 80, 95), SEV_UNKNOWN);
        u.limit = 8;
        assert_int_equal(usage_verdict(&u, 80, 95), SEV_WARN);
        scan_free(&s);
}

static void test_scan_max_procs(void **state)
{
        (void)state;
        reset();
        struct scan s = {0};
        scan_procs(&(struct scan_opts){.section = "maps", .max_procs = 2}, &table, measure, &s);
        assert_int_equal(calls[1] + calls[3] + calls[4] + calls[5] + calls[6], 2);
        assert_int_equal(s.not_inspected, 3);
        assert_false(s.out_of_time);
        struct findings fs = {0};
        scan_report_summary(&s, "maps.process", 0, 80, 5, "vm.max_map_count 65530", "/proc/PID/maps", &fs);
        assert_int_equal(fs.n, 1);
        assert_int_equal(find(&fs, 0)->sev, SEV_OK);
        assert_string_equal(find(&fs, 0)->summary, "1 process inspected, none at >= 80% of vm.max_map_count 65530; highest: "
                                                   "pid 1 init 10/0 (100.0%); 3 not inspected ([maps] max_procs)");
        findings_free(&fs);
        scan_free(&s);
}

static void test_scan_budget(void **state)
{
        (void)state;
        reset();
        sleep_ms = 40;
        struct scan s = {0};
        scan_procs(&(struct scan_opts){.section = "fds", .budget_ms = 60}, &table, measure, &s);
        /* 40 ms a process: by the third the 60 ms budget is spent, the rest wait. */
        int tried = calls[1] + calls[3] + calls[4] + calls[5] + calls[6];
        assert_true(tried >= 1 && tried < 5);
        assert_true(s.out_of_time);
        assert_false(s.deadline_hit);
        assert_int_equal(s.not_inspected, 5 - (size_t)tried);
        struct findings fs = {0};
        scan_report_summary(&s, "fds.process", 0, 80, 5, "the soft open-files limit", "/proc/PID/fd", &fs);
        assert_int_equal(fs.n, 1);
        assert_int_equal(find(&fs, 0)->sev, SEV_INFO); /* some left out: never ok */
        assert_non_null(strstr(find(&fs, 0)->summary, "not inspected ([fds] budget_ms reached)"));
        findings_free(&fs);
        scan_free(&s);
}

/* The runner kills the collector at deadline_ms: the scan stops before it. */
static void test_scan_deadline(void **state)
{
        (void)state;
        reset();
        struct scan s = {0};
        uint64_t now = now_ms_monotonic();
        scan_procs(&(struct scan_opts){.section = "fds", .deadline_ms = now + SCAN_DEADLINE_MARGIN_MS / 2}, &table, measure, &s);
        assert_int_equal(calls[1] + calls[3] + calls[4] + calls[5] + calls[6], 0);
        assert_true(s.out_of_time);
        assert_true(s.deadline_hit);
        assert_int_equal(s.not_inspected, 5);
        struct findings fs = {0};
        scan_report_summary(&s, "fds.process", 0, 80, 5, "the soft open-files limit", "/proc/PID/fd", &fs);
        assert_int_equal(fs.n, 1);
        assert_int_equal(find(&fs, 0)->sev, SEV_INFO);
        assert_string_equal(find(&fs, 0)->summary,
                            "no user-space process to inspect; 5 not inspected (the collector's deadline was near)");
        findings_free(&fs);
        scan_free(&s);

        /* A deadline far away changes nothing. */
        reset();
        scan_procs(&(struct scan_opts){.section = "fds", .deadline_ms = now + 60000}, &table, measure, &s);
        assert_int_equal(s.n, 2);
        assert_false(s.out_of_time);
        scan_free(&s);
}

static void test_scan_gaps(void **state)
{
        (void)state;
        reset();
        struct scan s = {0};
        struct findings fs = {0};
        scan_procs(&(struct scan_opts){.section = "fds", .is_root = false}, &table, measure, &s);
        scan_report_gaps(&s, "fds.process", "fd", &fs);
        assert_int_equal(fs.n, 2);
        assert_int_equal(find(&fs, 0)->sev, SEV_SKIPPED);
        assert_string_equal(find(&fs, 0)->id, "fds.process");
        assert_string_equal(find(&fs, 0)->summary, "needs root: 1 of 5 processes belong to other users; their /proc/PID/fd "
                                                   "cannot be read (first: pid 4)");
        assert_string_equal(find(&fs, 0)->remedy, "run evodiag as root (sudo evodiag check)");
        assert_int_equal(find(&fs, 1)->sev, SEV_UNKNOWN);
        assert_string_equal(find(&fs, 1)->summary, "1 process could not be inspected: /proc/PID/fd: Input/output error (first: pid 5)");
        findings_free(&fs);
        scan_free(&s);

        /* Root and still denied: an LSM or a container, said as such. */
        reset();
        scan_procs(&(struct scan_opts){.section = "maps", .is_root = true}, &table, measure, &s);
        scan_report_gaps(&s, "maps.process", "maps", &fs);
        assert_int_equal(find(&fs, 0)->sev, SEV_SKIPPED);
        assert_string_equal(find(&fs, 0)->summary, "1 of 5 processes could not be inspected: /proc/PID/maps is denied even to "
                                                   "root (first: pid 4)");
        assert_string_equal(find(&fs, 0)->evidence, "/proc/4/maps");
        findings_free(&fs);

        /* Nothing inspected and some denied: the gaps speak, no summary verdict. */
        struct scan none = {.opts = {.section = "fds"}, .candidates = 1, .denied = 1, .denied_pid = 4};
        scan_report_summary(&none, "fds.process", 0, 80, 5, "x", "y", &fs);
        assert_int_equal(fs.n, 0);
        scan_free(&s);
}

static long fd_count(int pid) { return proc_fd_count(pid, NULL); }

/* A real child holding 40 more fds than it started with: the scan counts exactly
 * what /proc/PID/fd lists, and the summary names it first. */
static void test_scan_real_child(void **state)
{
        (void)state;
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                for (int i = 0; i < 40; i++)
                        (void)open("/dev/null", O_RDONLY);
                char c;
                (void)read(go[0], &c, 1); /* until the parent closes its end */
                _exit(0);
        }
        close(go[0]);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        long listed = -1;
        for (int tries = 0; tries < 200; tries++) { /* until the child has opened them all */
                DIR *d = opendir(path);
                assert_non_null(d);
                long n = 0;
                struct dirent *de;
                while ((de = readdir(d)))
                        n += de->d_name[0] != '.';
                closedir(d);
                if (n == listed && n >= 41)
                        break;
                listed = n;
                usleep(10000);
        }
        struct proc p[] = {{.pid = (int)pid, .comm = "fdhog"}};
        struct proctable t = {.v = p, .n = 1};
        struct scan s = {0};
        scan_procs(&(struct scan_opts){.section = "fds", .budget_ms = 5000}, &t, fd_count, &s);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.v[0].used, (uint64_t)listed);
        s.v[0].limit = 50;
        struct findings fs = {0};
        size_t problems = usage_verdict(&s.v[0], 80, 95) != SEV_OK;
        assert_int_equal(problems, 1); /* 41+ of 50 */
        scan_report_summary(&s, "fds.process", problems, 80, 5, "the soft open-files limit", "/proc/PID/fd", &fs);
        assert_int_equal(find(&fs, 0)->sev, SEV_INFO);
        char want[128];
        snprintf(want, sizeof(want), "top by share of limit: pid %d fdhog %ld/50", (int)pid, listed);
        assert_true(startswith(find(&fs, 0)->actual, want));
        findings_free(&fs);
        scan_free(&s);
        close(go[1]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scan_counts),
                cmocka_unit_test(test_scan_max_procs),
                cmocka_unit_test(test_scan_budget),
                cmocka_unit_test(test_scan_deadline),
                cmocka_unit_test(test_scan_gaps),
                cmocka_unit_test(test_scan_real_child),
        };
        return cmocka_run_group_tests_name("procscan", tests, NULL, NULL);
}
