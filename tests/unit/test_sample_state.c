/* free_state: every host collector's watch state is released when its sampler ends.
 * On the live system sample() keeps /proc and /sys files open between samples
 * (collectors/sample_util.h); after free_state this process has exactly the fds it
 * had before the first sample. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/collector.h"
#include "lib/rootfs.h"
#include "lib/sample.h"
#include "lib/util.h"

#include <dirent.h>

static long open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        long n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n - 1; /* the listing's own */
}

/* Samples `name` three times on the live system, then frees its state. Returns how
 * many fds the state held open before free_state. */
static long sample_and_free(const char *name)
{
        const struct collector *col = collector_find(name);
        assert_non_null(col);
        assert_non_null(col->sample);
        assert_non_null(col->free_state);
        long before = open_fds();
        struct ctx c = {.self = col, .is_root = geteuid() == 0, .interval_ms = 1000};
        for (int i = 0; i < 3; i++) {
                struct sample s;
                sample_init(&s);
                c.sample_no = (uint64_t)i;
                c.deadline_ms = now_ms_monotonic() + 20000;
                col->sample(&c, &s);
                sample_free(&s);
        }
        assert_non_null(c.state);
        long held = open_fds() - before;
        col->free_state(c.state);
        c.state = NULL;
        assert_int_equal(open_fds(), before);
        return held;
}

/* These keep files open on every host: the state must close them. */
static void test_memory(void **state)
{
        (void)state;
        assert_true(sample_and_free("memory") >= 2); /* /proc/meminfo, /proc/loadavg */
}

static void test_fds(void **state)
{
        (void)state;
        assert_true(sample_and_free("fds") >= 2); /* file-nr, file-max, and the watched processes */
}

static void test_maps(void **state)
{
        (void)state;
        assert_true(sample_and_free("maps") >= 1); /* vm.max_map_count */
}

static void test_shm(void **state)
{
        (void)state;
        assert_true(sample_and_free("shm") >= 1); /* /proc/sysvipc/shm */
}

static void test_rt(void **state)
{
        (void)state;
        assert_true(sample_and_free("rt") >= 2); /* sched_rt_runtime_us, sched_rt_period_us */
}

/* These keep files open only where the host has pools or isolated CPUs. */
static void test_hugepages(void **state)
{
        (void)state;
        (void)sample_and_free("hugepages");
}

static void test_isolation(void **state)
{
        (void)state;
        (void)sample_and_free("isolation");
}

int main(void)
{
        rootfs_set(NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory), cmocka_unit_test(test_fds),       cmocka_unit_test(test_maps),
                cmocka_unit_test(test_shm),    cmocka_unit_test(test_rt),        cmocka_unit_test(test_hugepages),
                cmocka_unit_test(test_isolation),
        };
        return cmocka_run_group_tests_name("sample_state", tests, NULL, NULL);
}
