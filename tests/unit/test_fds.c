/* fds collector: file-nr parsing, the usage decisions, the top list, remedy
 * targets and the unit name from /proc/PID/cgroup. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "collectors/fds.h"
#include "lib/satmath.h"
#include "lib/procfs.h"

static void test_file_nr_valid(void **state)
{
        (void)state;
        struct file_nr n;
        assert_int_equal(file_nr_parse("620\t0\t2466193\n", &n), 0);
        assert_int_equal(n.allocated, 620);
        assert_int_equal(n.unused, 0);
        assert_int_equal(n.max, 2466193);
        /* Old kernels report unused handles; spaces instead of tabs; no newline. */
        assert_int_equal(file_nr_parse("  5000 120 9223372036854775807", &n), 0);
        assert_int_equal(n.allocated, 5000);
        assert_int_equal(n.unused, 120);
        assert_true(n.max == 9223372036854775807ULL);
}

static void test_file_nr_malformed(void **state)
{
        (void)state;
        struct file_nr n = {1, 2, 3};
        const char *bad[] = {
                "",                           /* empty (truncated file) */
                "\n",
                "620 0",                      /* two fields */
                "620 0 2466193 7",            /* four fields */
                "620\t0\t2466193 junk\n",
                "-1 0 100",                   /* strtoull would wrap this */
                "620 -0 100",
                "abc 0 100",
                "620x 0 100",
                "1184 zero\001\002 2466193\n", /* binary garbage */
                "99999999999999999999999 0 1", /* overflow */
                "10 11 100",                  /* unused > allocated */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (file_nr_parse(bad[i], &n) != -EINVAL)
                        fail_msg("accepted '%s'", bad[i]);
        }
        assert_int_equal(file_nr_parse(NULL, &n), -EINVAL);
        /* Untouched on failure. */
        assert_int_equal(n.allocated, 1);
        assert_int_equal(n.max, 3);
}

static void test_usage_pct(void **state)
{
        (void)state;
        assert_true(usage_pct(512, 1024) == 50.0);
        assert_true(usage_pct(0, 1024) == 0.0);
        assert_true(usage_pct(5, LIMIT_UNLIMITED) == 0.0);
        assert_true(usage_pct(0, 0) == 0.0);
        assert_true(usage_pct(3, 0) == 100.0);
        assert_true(usage_pct(2048, 1024) == 200.0); /* limit lowered below the open count */
}

static void test_usage_severity(void **state)
{
        (void)state;
        /* Boundaries: >= warn is warn, >= crit is crit. */
        assert_int_equal(usage_severity(79, 100, 80, 95), SEV_OK);
        assert_int_equal(usage_severity(80, 100, 80, 95), SEV_WARN);
        assert_int_equal(usage_severity(94, 100, 80, 95), SEV_WARN);
        assert_int_equal(usage_severity(95, 100, 80, 95), SEV_CRIT);
        /* The scenario: 1000 fds with nofile_soft 1024. */
        assert_int_equal(usage_severity(1000, 1024, 80, 95), SEV_CRIT);
        assert_int_equal(usage_severity(850, 1024, 80, 95), SEV_WARN);
        assert_int_equal(usage_severity(700, 1024, 80, 95), SEV_OK);
        assert_int_equal(usage_severity(2000, 1024, 80, 95), SEV_CRIT);
        assert_int_equal(usage_severity(UINT64_MAX - 1, LIMIT_UNLIMITED, 80, 95), SEV_OK);
        assert_int_equal(usage_severity(0, 0, 80, 95), SEV_OK);
        assert_int_equal(usage_severity(1, 0, 80, 95), SEV_CRIT);
        /* Thresholds come from the config. */
        assert_int_equal(usage_severity(55, 100, 50, 60), SEV_WARN);
        assert_int_equal(usage_severity(60, 100, 50, 60), SEV_CRIT);
}

static void test_usage_sort_and_list(void **state)
{
        (void)state;
        struct usage v[] = {
                {.pid = 10, .comm = "small", .used = 10, .limit = 1024},
                {.pid = 20, .comm = "free", .used = 5000, .limit = LIMIT_UNLIMITED},
                {.pid = 30, .comm = "lavinmq", .used = 1000, .limit = 1024},
                {.pid = 5, .comm = "twin", .used = 10, .limit = 1024},
                {.pid = 40, .comm = "big", .used = 20, .limit = 2048},
        };
        usage_sort(v, 5);
        /* Highest share first; equal shares: more used first, then lower pid. */
        assert_int_equal(v[0].pid, 30);
        assert_int_equal(v[1].pid, 40);
        assert_int_equal(v[2].pid, 5);
        assert_int_equal(v[3].pid, 10);
        assert_int_equal(v[4].pid, 20);
        char *s = usage_list(v, 5, 3);
        assert_string_equal(s, "pid 30 lavinmq 1000/1024 (97.7%), pid 40 big 20/2048 (1.0%), pid 5 twin 10/1024 (1.0%)");
        free(s);
        s = usage_list(v + 4, 1, 5);
        assert_string_equal(s, "pid 20 free 5000/unlimited");
        free(s);
        s = usage_list(v, 0, 5);
        assert_string_equal(s, "");
        free(s);
        usage_sort(v, 0); /* no-op, no crash */
}

static void test_nofile_target(void **state)
{
        (void)state;
        assert_int_equal(nofile_target(1024, 1048576), 65536);
        assert_int_equal(nofile_target(256, 0), 65536);
        assert_int_equal(nofile_target(65536, 1048576), 131072);
        assert_int_equal(nofile_target(1000000, 1048576), 1048576); /* capped at fs.nr_open */
        assert_int_equal(nofile_target(1048576, 1048576), 0);       /* already at the ceiling */
        assert_int_equal(nofile_target(100, 64), 0);
        assert_true(nofile_target(UINT64_MAX / 2 + 1, 0) == UINT64_MAX); /* saturates */
        assert_true(sat_mul_u64(UINT64_MAX, 2) == UINT64_MAX);
        assert_int_equal(sat_mul_u64(3, 0), 0);
        assert_int_equal(sat_mul_u64(21, 2), 42);
}

static void unit_is(const char *cgroup, const char *want)
{
        char *u = unit_from_cgroup(cgroup);
        if (!want) {
                if (u)
                        fail_msg("'%s': got unit '%s', want none", cgroup, u);
        } else {
                assert_non_null(u);
                assert_string_equal(u, want);
        }
        free(u);
}

static void test_unit_from_cgroup(void **state)
{
        (void)state;
        unit_is("0::/system.slice/lavinmq.service\n", "lavinmq.service");
        unit_is("0::/system.slice/system-lavinmq.slice/lavinmq@main.service", "lavinmq@main.service");
        /* cgroup v1: the name=systemd hierarchy, wherever it is listed. */
        unit_is("12:pids:/\n1:name=systemd:/system.slice/evo-hal.service\n0::/\n", "evo-hal.service");
        /* v2 wins over v1. */
        unit_is("1:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n", "b.service");
        /* A service's own sub-cgroup still belongs to the service. */
        unit_is("0::/system.slice/docker.service/payload\n", "docker.service");
        /* Not a system service: sessions, user units, scopes, no systemd. */
        unit_is("0::/user.slice/user-0.slice/session-3.scope\n", NULL);
        unit_is("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n", NULL);
        unit_is("0::/system.slice/docker-0123abcd.scope\n", NULL);
        unit_is("0::/\n", NULL);
        unit_is("9:name=systemd:/\n4:memory:/process_api/x.service\n0::/\n", NULL);
        /* Garbage. */
        unit_is("", NULL);
        unit_is(".service", NULL);
        unit_is("0::.service\n", NULL);
        unit_is("garbage without colons\n\n\n", NULL);
        unit_is("0::/system.slice/x.service", "x.service"); /* no newline */
}

/* fds.system, as check and watch both judge it: allocated minus unused against
 * fs.file-max, file-nr's own max when file-max could not be read. */
static void test_system_verdict(void **state)
{
        (void)state;
        struct file_nr nr = {.allocated = 2400000, .unused = 0, .max = 2466193};
        struct fds_system v;
        assert_int_equal(fds_system_verdict(&nr, NULL, 80, 95, &v), SEV_CRIT);
        assert_int_equal(v.used, 2400000);
        assert_int_equal(v.max, 2466193);
        assert_true(v.pct > 97.3 && v.pct < 97.4);
        uint64_t file_max = 9223372036854775807ULL; /* raised since: file-max wins */
        assert_int_equal(fds_system_verdict(&nr, &file_max, 80, 95, &v), SEV_OK);
        assert_true(v.max == file_max);
        nr = (struct file_nr){.allocated = 5000, .unused = 120, .max = 6000};
        assert_int_equal(fds_system_verdict(&nr, NULL, 80, 95, &v), SEV_WARN); /* 4880 of 6000 */
        assert_int_equal(v.used, 4880);
        file_max = 0; /* nothing can be opened */
        assert_int_equal(fds_system_verdict(&nr, &file_max, 80, 95, &v), SEV_CRIT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_file_nr_valid),
                cmocka_unit_test(test_file_nr_malformed),
                cmocka_unit_test(test_usage_pct),
                cmocka_unit_test(test_usage_severity),
                cmocka_unit_test(test_usage_sort_and_list),
                cmocka_unit_test(test_nofile_target),
                cmocka_unit_test(test_unit_from_cgroup),
                cmocka_unit_test(test_system_verdict),
        };
        return cmocka_run_group_tests_name("fds", tests, NULL, NULL);
}
