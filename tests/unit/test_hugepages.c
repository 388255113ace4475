/* Unit tests of the hugepages collector's parsers and decisions. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include "collectors/hugepages.h"
#include "lib/procfs.h"

/* ---- hp_bracket_value ---- */

static void bracket_active_value(void **state)
{
        (void)state;
        char w[32];
        assert_int_equal(hp_bracket_value("always [madvise] never", w, sizeof(w)), 0);
        assert_string_equal(w, "madvise");
        assert_int_equal(hp_bracket_value("[always] madvise never\n", w, sizeof(w)), 0);
        assert_string_equal(w, "always");
        assert_int_equal(hp_bracket_value("always madvise [never]", w, sizeof(w)), 0);
        assert_string_equal(w, "never");
        /* the defrag file has more choices, one with a '+' */
        assert_int_equal(hp_bracket_value("always defer [defer+madvise] madvise never", w, sizeof(w)), 0);
        assert_string_equal(w, "defer+madvise");
}

static void bracket_malformed(void **state)
{
        (void)state;
        char w[32] = "untouched";
        assert_int_equal(hp_bracket_value("always madvise never", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("[]", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("always [madvise", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("[always] [madvise]", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("[mad vise]", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("[[always]", w, sizeof(w)), -EINVAL);
        assert_int_equal(hp_bracket_value("[\x01\x02]", w, sizeof(w)), -EINVAL);
        assert_string_equal(w, "untouched");
        char small[4];
        assert_int_equal(hp_bracket_value("[madvise]", small, sizeof(small)), -ENOSPC);
        assert_int_equal(hp_bracket_value("[abc]", small, sizeof(small)), 0);
        assert_string_equal(small, "abc");
}

/* ---- hp_pool_dir_kb ---- */

static void pool_dir_names(void **state)
{
        (void)state;
        uint64_t kb = 0;
        assert_int_equal(hp_pool_dir_kb("hugepages-2048kB", &kb), 0);
        assert_int_equal(kb, 2048);
        assert_int_equal(hp_pool_dir_kb("hugepages-1048576kB", &kb), 0);
        assert_int_equal(kb, 1048576);
        assert_int_equal(hp_pool_dir_kb("hugepages-64kB", &kb), 0);
        assert_int_equal(kb, 64);
}

static void pool_dir_names_bad(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "hugepages-",         "hugepages-kB",      "hugepages-2048",         "hugepages-2048MB",
                "hugepages-2048kBx",  "hugepages--1kB",    "hugepages-+2048kB",      "hugepages-0kB",
                "hugepages-banana",   "xhugepages-2048kB", "hugepages- 2048kB",      "2048kB",
                "",                   ".",                 "hugepages-99999999999999999999999kB",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t kb = 77;
                assert_int_equal(hp_pool_dir_kb(bad[i], &kb), -EINVAL);
                assert_int_equal(kb, 77);
        }
}

/* ---- hp_size_to_kb / hp_mount_pagesize_kb ---- */

static void sizes_as_memparse(void **state)
{
        (void)state;
        static const struct { const char *s; uint64_t kb; } ok[] = {
                {"2M", 2048},      {"2m", 2048},         {"1G", 1048576}, {"1g", 1048576}, {"1024M", 1048576},
                {"64k", 64},       {"64K", 64},          {"2097152", 2048}, {"0x200000", 2048}, {"1T", 1073741824},
                {"16G", 16777216},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                uint64_t kb = 0;
                assert_int_equal(hp_size_to_kb(ok[i].s, &kb), 0);
                assert_int_equal(kb, ok[i].kb);
        }
        static const char *const bad[] = {"", "M", "2Q", "2MB", "-2M", " 2M", "0", "0M", "1000", "2.5M"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t kb;
                assert_true(hp_size_to_kb(bad[i], &kb) < 0);
        }
        uint64_t kb;
        assert_int_equal(hp_size_to_kb("99999999999999999999999", &kb), -ERANGE);
        assert_int_equal(hp_size_to_kb("9999999999999E", &kb), -ERANGE);
}

static void mount_pagesize_option(void **state)
{
        (void)state;
        uint64_t kb = 1;
        assert_int_equal(hp_mount_pagesize_kb("rw,relatime,pagesize=2M", &kb), 0);
        assert_int_equal(kb, 2048);
        assert_int_equal(hp_mount_pagesize_kb("pagesize=1024M,rw,mode=1770,gid=1001", &kb), 0);
        assert_int_equal(kb, 1048576);
        assert_int_equal(hp_mount_pagesize_kb("rw,relatime,size=1G,min_size=512M", &kb), 0);
        assert_int_equal(kb, 0); /* absent: the default huge page size */
        assert_int_equal(hp_mount_pagesize_kb("", &kb), 0);
        assert_int_equal(kb, 0);
        assert_int_equal(hp_mount_pagesize_kb("rw,xpagesize=2M", &kb), 0);
        assert_int_equal(kb, 0);
        assert_int_equal(hp_mount_pagesize_kb("rw,pagesize=", &kb), -EINVAL);
        assert_int_equal(hp_mount_pagesize_kb("rw,pagesize=2Q", &kb), -EINVAL);
        assert_int_equal(hp_mount_pagesize_kb("rw,pagesize", &kb), 0); /* a flag, not the option */
}

static void mounts_table(void **state)
{
        (void)state;
        const char *text =
                "proc /proc proc rw,relatime 0 0\n"
                "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
                "none /mnt/huge\\0401G hugetlbfs rw,relatime,pagesize=1024M 0 0\n"
                "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n"
                "none /mnt/old hugetlbfs rw,relatime 0 0\n"
                "none /mnt/bad hugetlbfs rw,pagesize=7Q 0 0\n"
                "none /mnt/cut hugetlbfs\n"
                "\xff\xfe garbage \x01\n"
                "hugetlbfs\n"
                "\n"
                "nodev\t/mnt/tab\thugetlbfs\tpagesize=64K\t0\t0"; /* last line without newline */
        struct hp_mount *m;
        size_t bad;
        size_t n = hp_mounts_parse(text, &m, &bad);
        assert_int_equal(n, 4);
        assert_int_equal(bad, 2);
        assert_string_equal(m[0].dir, "/dev/hugepages");
        assert_int_equal(m[0].pagesize_kb, 2048);
        assert_string_equal(m[1].dir, "/mnt/huge 1G");
        assert_int_equal(m[1].pagesize_kb, 1048576);
        assert_string_equal(m[2].dir, "/mnt/old");
        assert_int_equal(m[2].pagesize_kb, 0);
        assert_string_equal(m[3].dir, "/mnt/tab");
        assert_int_equal(m[3].pagesize_kb, 64);
        hp_mounts_free(m, n);

        n = hp_mounts_parse("", &m, &bad);
        assert_int_equal(n, 0);
        assert_int_equal(bad, 0);
        hp_mounts_free(m, n);
        /* a dangling octal escape stays as text */
        n = hp_mounts_parse("none /mnt/x\\04 hugetlbfs pagesize=2M 0 0\n", &m, NULL);
        assert_int_equal(n, 1);
        assert_string_equal(m[0].dir, "/mnt/x\\04");
        hp_mounts_free(m, n);
}

/* ---- names, RT kernel ---- */

static void size_names(void **state)
{
        (void)state;
        char b[24];
        assert_string_equal(hp_size_name(2048, b), "2M");
        assert_string_equal(hp_size_name(1048576, b), "1G");
        assert_string_equal(hp_size_name(16777216, b), "16G");
        assert_string_equal(hp_size_name(64, b), "64K");
        assert_string_equal(hp_size_name(1536, b), "1536K");
        assert_string_equal(hp_size_name(32768, b), "32M");
}

static void rt_kernel_version(void **state)
{
        (void)state;
        assert_true(hp_version_is_rt("#1 SMP PREEMPT_RT Debian 6.1.76-1 (2024-02-01)"));
        assert_true(hp_version_is_rt("#1 SMP PREEMPT RT Tue Jan 1 00:00:00 UTC 2019"));
        assert_false(hp_version_is_rt("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"));
        assert_false(hp_version_is_rt("#1 SMP PREEMPT Debian"));
        assert_false(hp_version_is_rt(""));
}

/* One rule with the rt collector (lib/procfs rt_flavour_from_version): whole words. */
static void rt_kernel_version_words(void **state)
{
        (void)state;
        assert_false(hp_version_is_rt("#1 SMP PREEMPT_RTX Debian"));
        assert_false(hp_version_is_rt("#1 SMP NOPREEMPT_RT"));
        assert_true(hp_version_is_rt("#1 SMP PREEMPT_DYNAMIC PREEMPT_RT"));
        for (const char *const *v = (const char *const[]){"#1 SMP PREEMPT_RT x", "#1 SMP PREEMPT RT", "#1 SMP PREEMPT_RTX",
                                                          "#1 SMP PREEMPT_DYNAMIC", "", NULL};
             *v; v++)
                assert_int_equal(hp_version_is_rt(*v), rt_flavour_from_version(*v) == KF_PREEMPT_RT);
}

/* The default pool from /proc/meminfo: the same reader for check and watch. */
static void pool_from_meminfo(void **state)
{
        (void)state;
        struct kvlist mi;
        struct hp_pool p = {.size_kb = 2048};
        kv_parse("MemTotal:  1000 kB\nHugePages_Total:    1024\nHugePages_Free:      10\nHugePages_Rsvd:       4\n"
                 "HugePages_Surp:       0\nHugepagesize:    2048 kB\n", ':', &mi);
        hp_pool_from_meminfo(&mi, &p);
        kv_free(&mi);
        assert_int_equal(p.have, (1u << HP_NR) | (1u << HP_FREE) | (1u << HP_RESV) | (1u << HP_SURPLUS));
        assert_int_equal(p.v[HP_NR], 1024);
        assert_int_equal(p.v[HP_FREE], 10);
        assert_int_equal(p.v[HP_RESV], 4);
        assert_int_equal(hp_pool_available(&p), 6);
        assert_null(p.err);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_WARN); /* 6 of 1024 */
        hp_pool_free(&p);

        p = (struct hp_pool){.size_kb = 2048};
        kv_parse("HugePages_Total:    1024\nHugePages_Free:  x\n", ':', &mi);
        hp_pool_from_meminfo(&mi, &p);
        kv_free(&mi);
        assert_int_equal(p.have, 1u << HP_NR);
        assert_string_equal(p.err, "HugePages_Free in /proc/meminfo: not a number");
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_UNKNOWN);
        hp_pool_free(&p);

        p = (struct hp_pool){.size_kb = 2048};
        kv_parse("HugePages_Total:    1024\n", ':', &mi);
        hp_pool_from_meminfo(&mi, &p);
        kv_free(&mi);
        assert_string_equal(p.err, "HugePages_Free in /proc/meminfo: missing");
        hp_pool_free(&p);
}

/* ---- pool decisions ---- */

#define ALL ((1u << HP_NFIELDS) - 1)

static struct hp_pool pool(uint64_t nr, uint64_t free_, uint64_t resv, uint64_t surplus, uint64_t over)
{
        return (struct hp_pool){.size_kb = 2048, .v = {nr, free_, resv, surplus, over}, .have = ALL};
}

static void pool_configured(void **state)
{
        (void)state;
        struct hp_pool p = pool(0, 0, 0, 0, 0);
        assert_false(hp_pool_configured(&p));
        p = pool(1, 0, 0, 0, 0);
        assert_true(hp_pool_configured(&p));
        p = pool(0, 0, 0, 0, 8); /* on-demand pool */
        assert_true(hp_pool_configured(&p));
        p = pool(0, 0, 0, 0, 0);
        p.have &= ~(1u << HP_NR); /* unreadable: must be looked at */
        assert_true(hp_pool_configured(&p));
}

static void pool_verdicts(void **state)
{
        (void)state;
        struct hp_pool p = pool(1024, 1000, 10, 0, 0);
        assert_int_equal(hp_pool_available(&p), 990);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_OK);
        /* every free page is reserved: the next mapping fails */
        p = pool(1024, 12, 12, 0, 0);
        assert_int_equal(hp_pool_available(&p), 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
        p = pool(1024, 0, 0, 0, 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
        /* inconsistent snapshot (resv > free) is clamped, not wrapped */
        p = pool(1024, 3, 9, 0, 0);
        assert_int_equal(hp_pool_available(&p), 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
        /* below the configurable % */
        p = pool(1000, 99, 0, 0, 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_WARN);
        assert_int_equal(hp_pool_verdict(&p, 5), SEV_OK);
        p = pool(1000, 100, 0, 0, 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_OK);
        assert_int_equal(hp_pool_verdict(&p, 0), SEV_OK);
        /* used up, but overcommit still allows surplus pages */
        p = pool(64, 0, 0, 2, 4);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_WARN);
        p = pool(64, 0, 0, 4, 4); /* at the overcommit limit */
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
        /* on-demand only pools */
        p = pool(0, 0, 0, 1, 8);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_OK);
        p = pool(0, 0, 0, 8, 8);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
}

static void pool_verdict_unknown(void **state)
{
        (void)state;
        for (int f = HP_NR; f <= HP_RESV; f++) {
                struct hp_pool p = pool(1024, 1000, 0, 0, 0);
                p.have &= ~(1u << f);
                assert_int_equal(hp_pool_verdict(&p, 10), SEV_UNKNOWN);
        }
        /* surplus and overcommit are optional */
        struct hp_pool p = pool(1024, 1000, 0, 0, 0);
        p.have &= ~((1u << HP_SURPLUS) | (1u << HP_OVERCOMMIT));
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_OK);
        p = pool(1024, 0, 0, 0, 9);
        p.have &= ~(1u << HP_OVERCOMMIT); /* no headroom known: exhausted is exhausted */
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
}

static void pool_numa_nodes(void **state)
{
        (void)state;
        struct hp_node nodes[] = {{.id = 0, .valid = true, .nr = 512, .free = 500},
                                  {.id = 1, .valid = true, .nr = 512, .free = 0},
                                  {.id = 2, .valid = true, .nr = 0, .free = 0},
                                  {.id = 3, .valid = false, .nr = 9, .free = 0}};
        struct hp_pool p = pool(1024, 500, 0, 0, 0);
        p.nodes = nodes;
        p.nnodes = 4;
        struct strbuf sb = {0};
        /* node 1 ran out, node 2 never had pages, node 3 could not be read */
        assert_int_equal(hp_empty_nodes(&p, true, &sb), 1);
        assert_string_equal(sb.s, "node 1 (0 of 512 free)");
        sb_free(&sb);
        assert_int_equal(hp_empty_nodes(&p, false, &sb), 2);
        assert_string_equal(sb.s, "node 1 (0 of 512 free), node 2 (0 of 0 free)");
        sb_free(&sb);
        /* the pool as a whole is fine, a bound process on node 1 is not */
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_INFO);
        /* pool exhausted: crit wins over the node mention */
        nodes[0].free = 0;
        p.v[HP_FREE] = 0;
        assert_int_equal(hp_empty_nodes(&p, false, NULL), 0); /* no node has any: no imbalance */
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_CRIT);
        /* one node alone is never "imbalanced" */
        nodes[0].free = 500;
        p.v[HP_FREE] = 500;
        p.nnodes = 1;
        assert_int_equal(hp_empty_nodes(&p, false, NULL), 0);
        assert_int_equal(hp_pool_verdict(&p, 10), SEV_OK);
}

static void thp_verdicts(void **state)
{
        (void)state;
        assert_int_equal(hp_thp_verdict("always", "madvise", true), SEV_WARN);
        assert_int_equal(hp_thp_verdict("always", NULL, true), SEV_WARN);
        assert_int_equal(hp_thp_verdict("always", "madvise", false), SEV_INFO);
        assert_int_equal(hp_thp_verdict("madvise", "madvise", true), SEV_OK);
        assert_int_equal(hp_thp_verdict("never", "always", true), SEV_OK);
        assert_int_equal(hp_thp_verdict("madvise", "always", true), SEV_INFO);
        assert_int_equal(hp_thp_verdict("madvise", "always", false), SEV_OK);
        assert_int_equal(hp_thp_verdict("never", NULL, false), SEV_OK);
        assert_int_equal(hp_thp_verdict(NULL, "madvise", true), SEV_UNKNOWN);
        assert_int_equal(hp_thp_verdict("sometimes", "madvise", false), SEV_UNKNOWN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bracket_active_value),
                cmocka_unit_test(bracket_malformed),
                cmocka_unit_test(pool_dir_names),
                cmocka_unit_test(pool_dir_names_bad),
                cmocka_unit_test(sizes_as_memparse),
                cmocka_unit_test(mount_pagesize_option),
                cmocka_unit_test(mounts_table),
                cmocka_unit_test(size_names),
                cmocka_unit_test(rt_kernel_version),
                cmocka_unit_test(rt_kernel_version_words),
                cmocka_unit_test(pool_from_meminfo),
                cmocka_unit_test(pool_configured),
                cmocka_unit_test(pool_verdicts),
                cmocka_unit_test(pool_verdict_unknown),
                cmocka_unit_test(pool_numa_nodes),
                cmocka_unit_test(thp_verdicts),
        };
        return cmocka_run_group_tests_name("hugepages", tests, NULL, NULL);
}
