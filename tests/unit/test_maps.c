/* maps collector: which process is LavinMQ (comm, argv[0]), the suggested
 * vm.max_map_count, and argv[0] read from a cmdline under --root. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/maps.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"

static void test_lavinmq_match_comm(void **state)
{
        (void)state;
        assert_true(lavinmq_match("lavinmq", NULL));
        assert_true(lavinmq_match("lavinmq", "/usr/bin/whatever"));
        assert_false(lavinmq_match("lavinmqctl", NULL));
        assert_false(lavinmq_match("lavinmqperf", NULL));
        assert_false(lavinmq_match("LavinMQ", NULL)); /* comm is case-sensitive */
        assert_false(lavinmq_match("lavinmq ", NULL));
        assert_false(lavinmq_match("", NULL));
        assert_false(lavinmq_match(NULL, NULL));
}

static void test_lavinmq_match_argv0(void **state)
{
        (void)state;
        assert_true(lavinmq_match("main", "/usr/bin/lavinmq"));
        assert_true(lavinmq_match("sleep", "lavinmq"));
        assert_true(lavinmq_match(NULL, "/opt/lavin mq/bin/lavinmq"));
        assert_true(lavinmq_match(NULL, "./lavinmq"));
        assert_false(lavinmq_match(NULL, "/usr/bin/lavinmqctl"));
        assert_false(lavinmq_match(NULL, "/usr/bin/lavinmqperf"));
        assert_false(lavinmq_match(NULL, "/opt/lavinmq/bin/python3")); /* lavinmq in the path only */
        assert_false(lavinmq_match(NULL, "/opt/lavinmq/"));
        assert_false(lavinmq_match(NULL, "/usr/bin/lavinmq -c /etc/lavinmq.ini")); /* not argv[0] */
        assert_false(lavinmq_match(NULL, ""));
        assert_false(lavinmq_match(NULL, "/"));
}

static void test_map_count_target(void **state)
{
        (void)state;
        assert_int_equal(map_count_target(65530, true), 1000000);  /* the LavinMQ guide's value */
        assert_int_equal(map_count_target(65530, false), 262144);
        assert_int_equal(map_count_target(200000, false), 400000);
        assert_int_equal(map_count_target(1000000, true), 2000000); /* already there: double it */
        assert_int_equal(map_count_target(0, false), 262144);
        assert_true(map_count_target(UINT64_MAX, true) == UINT64_MAX);
}

static char root[] = "/tmp/test_maps.XXXXXX";

static void put(const char *rel, const void *data, size_t n)
{
        char path[512];
        snprintf(path, sizeof(path), "%s%s", root, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, n, f), n);
        fclose(f);
}

static int setup(void **state)
{
        (void)state;
        char path[512];
        if (!mkdtemp(root))
                return -1;
        snprintf(path, sizeof(path), "%s/proc", root);
        mkdir(path, 0755);
        for (int pid = 10; pid <= 15; pid++) {
                snprintf(path, sizeof(path), "%s/proc/%d", root, pid);
                mkdir(path, 0755);
        }
        rootfs_set(root);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        rootfs_set(NULL);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_proc_is_lavinmq(void **state)
{
        (void)state;
        /* argv[0] with a space: the raw NUL-separated cmdline, not the joined one. */
        put("/proc/10/cmdline", "/opt/lavin mq/lavinmq\0-D\0/var/lib/lavinmq\0", 42);
        put("/proc/11/cmdline", "/usr/bin/lavinmqctl\0status\0", 27);
        put("/proc/12/cmdline", "", 0);                           /* kernel thread or zombie */
        put("/proc/13/cmdline", "\xff\xfe\x00lavinmq\0", 11);     /* garbage argv[0] */
        put("/proc/15/cmdline", "lavinmq", 7);                    /* no NUL at all */
        struct proc p = {.pid = 10, .comm = "main", .cmdline = (char *)"/opt/lavin mq/lavinmq -D /var/lib/lavinmq"};
        assert_true(proc_is_lavinmq(&p));
        p = (struct proc){.pid = 11, .comm = "lavinmqctl"};
        assert_false(proc_is_lavinmq(&p));
        p = (struct proc){.pid = 12, .comm = "kworker/0:1", .kthread = true};
        assert_false(proc_is_lavinmq(&p));
        p = (struct proc){.pid = 12, .comm = "lavinmq"}; /* a zombie broker is still the broker */
        assert_true(proc_is_lavinmq(&p));
        p = (struct proc){.pid = 13, .comm = "x"};
        assert_false(proc_is_lavinmq(&p)); /* only argv[0] counts, not a later argument */
        p = (struct proc){.pid = 14, .comm = "x"}; /* vanished: no cmdline file */
        assert_false(proc_is_lavinmq(&p));
        p = (struct proc){.pid = 15, .comm = "x"};
        assert_true(proc_is_lavinmq(&p));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lavinmq_match_comm),
                cmocka_unit_test(test_lavinmq_match_argv0),
                cmocka_unit_test(test_map_count_target),
                cmocka_unit_test(test_proc_is_lavinmq),
        };
        return cmocka_run_group_tests_name("maps", tests, setup, teardown);
}
