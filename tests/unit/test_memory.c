/* memory collector: the verdicts check() and sample() share, and the buddyinfo
 * reader on the kernel's format and on garbled lines (bounded shifts). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/memory.h"
#include "lib/util.h"

static void test_available(void **state)
{
        (void)state;
        double pct;
        assert_int_equal(memory_available_verdict(12000000, 16000000, 10, 5, &pct), SEV_OK);
        assert_true(pct == 75.0);
        assert_int_equal(memory_available_verdict(1600000, 16000000, 10, 5, &pct), SEV_OK); /* exactly 10%: not below */
        assert_int_equal(memory_available_verdict(1599999, 16000000, 10, 5, &pct), SEV_WARN);
        assert_int_equal(memory_available_verdict(800000, 16000000, 10, 5, &pct), SEV_WARN);
        assert_int_equal(memory_available_verdict(799999, 16000000, 10, 5, &pct), SEV_CRIT);
        assert_int_equal(memory_available_verdict(0, 16000000, 10, 5, &pct), SEV_CRIT);
        assert_int_equal(memory_available_verdict(100, 0, 10, 5, &pct), SEV_UNKNOWN); /* no MemTotal */
        assert_true(pct == 0.0);
}

static void test_swap(void **state)
{
        (void)state;
        uint64_t used;
        double pct;
        assert_int_equal(memory_swap_verdict(0, 0, 25, &used, &pct), SEV_OK); /* no swap */
        assert_int_equal(used, 0);
        assert_int_equal(memory_swap_verdict(1000, 1000, 25, &used, &pct), SEV_OK);
        assert_int_equal(memory_swap_verdict(1000, 999, 25, &used, &pct), SEV_INFO); /* some in use */
        assert_int_equal(used, 1);
        assert_int_equal(memory_swap_verdict(1000, 750, 25, &used, &pct), SEV_WARN);
        assert_true(pct == 25.0);
        assert_int_equal(memory_swap_verdict(1000, 2000, 25, &used, &pct), SEV_OK); /* free > total: none used */
        assert_int_equal(used, 0);
}

static void test_large_blocks(void **state)
{
        (void)state;
        uint64_t large;
        /* The kernel's format; DMA's big blocks do not count. */
        const char *real = "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3\n"
                           "Node 0, zone    DMA32      4      3      2      1      1      1      1      1      1      1      0\n"
                           "Node 0, zone   Normal    100     50     20     10      5      2      1      1      1      1      2\n";
        assert_int_equal(memory_large_blocks(real, 9, &large), 2);
        /* DMA32: one block of order 9; Normal: one of order 9, two of order 10 (two blocks of order 9 each). */
        assert_int_equal(large, 1 + 1 + 2 * 2);
        assert_int_equal(memory_fragmentation_verdict(large), SEV_OK);
        assert_int_equal(memory_large_blocks(real, 10, &large), 2);
        assert_int_equal(large, 2);
        const char *frag = "Node 0, zone   Normal    100     50     20     10      5      2      1      1      1      0      0\n";
        assert_int_equal(memory_large_blocks(frag, 9, &large), 1);
        assert_int_equal(large, 0);
        assert_int_equal(memory_fragmentation_verdict(large), SEV_WARN);
        /* No zones at all, or only DMA. */
        assert_int_equal(memory_large_blocks("", 9, &large), 0);
        assert_int_equal(memory_large_blocks("garbage\n", 9, &large), 0);
        assert_int_equal(memory_large_blocks("Node 0, zone      DMA      0 0 0\n", 9, &large), 0);
        assert_int_equal(memory_large_blocks(NULL, 9, &large), 0);
}

/* A garbled line with 80 columns used to shift by 64 and more (undefined: UBSan
 * stopped the collector); huge counts used to wrap. Now they saturate. */
static void test_large_blocks_garbled(void **state)
{
        (void)state;
        struct strbuf b = {0};
        sb_puts(&b, "Node 0, zone   Normal");
        for (int i = 1; i <= 80; i++)
                sb_printf(&b, " %d", i);
        uint64_t large;
        assert_int_equal(memory_large_blocks(b.s, 1, &large), 1);
        assert_true(large == UINT64_MAX);
        sb_free(&b);
        assert_int_equal(memory_large_blocks("Node 0, zone Normal 0 0 0 0 0 0 0 0 0 18446744073709551615 18446744073709551615\n", 9,
                                             &large), 1);
        assert_true(large == UINT64_MAX);
        /* Columns of 0 beyond order 63 add nothing. */
        struct strbuf z = {0};
        sb_puts(&z, "Node 0, zone   Normal 0 0 0 0 0 0 0 0 0 1");
        for (int i = 0; i < 100; i++)
                sb_puts(&z, " 0");
        assert_int_equal(memory_large_blocks(z.s, 9, &large), 1);
        assert_int_equal(large, 1);
        sb_free(&z);
}

static void test_commit(void **state)
{
        (void)state;
        double pct;
        assert_int_equal(memory_commit_verdict(5000000, 20000000, &pct), SEV_OK);
        assert_true(pct == 25.0);
        assert_int_equal(memory_commit_verdict(18000000, 20000000, &pct), SEV_WARN);
        assert_int_equal(memory_commit_verdict(19000000, 20000000, &pct), SEV_CRIT);
        assert_int_equal(memory_commit_verdict(30000000, 20000000, &pct), SEV_CRIT);
        assert_int_equal(memory_commit_verdict(1, 0, &pct), SEV_UNKNOWN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_available),   cmocka_unit_test(test_swap),
                cmocka_unit_test(test_large_blocks), cmocka_unit_test(test_large_blocks_garbled),
                cmocka_unit_test(test_commit),
        };
        return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
