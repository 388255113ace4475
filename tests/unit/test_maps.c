/* maps collector: the suggested vm.max_map_count and LavinMQ's map-count rule.
 * Which process is LavinMQ (comm, argv[0]) is lib/trust's component_named:
 * tests/unit/test_trust.c. */
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

static void test_lavinmq_limit_verdict(void **state)
{
        (void)state;
        assert_int_equal(maps_lavinmq_limit_verdict(65530, 100000), SEV_WARN); /* the kernel default: too low */
        assert_int_equal(maps_lavinmq_limit_verdict(99999, 100000), SEV_WARN);
        assert_int_equal(maps_lavinmq_limit_verdict(100000, 100000), SEV_OK);
        assert_int_equal(maps_lavinmq_limit_verdict(1000000, 100000), SEV_OK);
        assert_int_equal(maps_lavinmq_limit_verdict(0, 0), SEV_OK); /* lavinmq_min = 0: never */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_map_count_target),
                cmocka_unit_test(test_lavinmq_limit_verdict),
        };
        return cmocka_run_group_tests_name("maps", tests, NULL, NULL);
}
