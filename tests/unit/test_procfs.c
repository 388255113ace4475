/* Unit tests: the /proc text parsers, on real kernel output and on broken copies of it. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "lib/procfs.h"
#include "lib/util.h"

static void test_meminfo(void **state)
{
        struct kvlist kv;
        kv_parse("MemTotal:       24634916 kB\nMemFree:        23850000 kB\nHugePages_Total:       0\n"
                 "garbage line without separator\nHugepagesize:       2048 kB\n",
                 ':', &kv);
        uint64_t v;
        assert_int_equal(kv_get_u64(&kv, "MemTotal", &v), 0);
        assert_true(v == 24634916ULL * 1024);
        assert_int_equal(kv_get_u64(&kv, "HugePages_Total", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(kv_get_u64(&kv, "Hugepagesize", &v), 0);
        assert_int_equal(v, 2048 * 1024);
        assert_int_equal(kv_get_u64(&kv, "Nope", &v), -ENOENT);
        assert_int_equal(kv.bad_lines, 1);
        kv_free(&kv);
}

static void test_meminfo_malformed(void **state)
{
        struct kvlist kv;
        kv_parse("MemTotal: lots kB\nMemFree: 12 MB\nSwapTotal: 99999999999999999999 kB\nX:\n", ':', &kv);
        uint64_t v;
        assert_int_equal(kv_get_u64(&kv, "MemTotal", &v), -EINVAL);
        assert_int_equal(kv_get_u64(&kv, "MemFree", &v), -EINVAL);
        assert_int_equal(kv_get_u64(&kv, "SwapTotal", &v), -EINVAL);
        assert_int_equal(kv_get_u64(&kv, "X", &v), -EINVAL);
        kv_free(&kv);
        kv_parse("", ':', &kv);
        assert_int_equal(kv.n, 0);
        kv_free(&kv);
}

static const char limits[] =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max cpu time              unlimited            unlimited            seconds   \n"
        "Max open files            1024                 524288               files     \n"
        "Max locked memory         8388608              unlimited            bytes     \n"
        "Max realtime priority     0                    0                    \n";

/* Only the keys asked for, with the same values kv_parse gives them. */
static void test_kv_keys(void **state)
{
        (void)state;
        static const char status[] = "Name:\tsleep\n  Uid :\t1000\t1001\t1000\t1000\n: orphan\nVmLck:\t       0 kB\n"
                                     "VmRSS:\t    1234 kB  \nUid:\t5 5 5 5\nno separator\nVmRSS";
        static const char *const keys[] = {"Uid", "VmRSS", "VmLck", "Missing", NULL};
        struct kvlist all, some;
        kv_parse(status, ':', &all);
        kv_parse_keys(status, ':', keys, &some);
        assert_int_equal(some.n, 4); /* Uid twice (the first one counts), VmLck, VmRSS */
        for (size_t i = 0; keys[i]; i++) {
                const char *a = kv_get(&all, keys[i]), *b = kv_get(&some, keys[i]);
                assert_true((a == NULL) == (b == NULL));
                if (a)
                        assert_string_equal(a, b);
        }
        assert_string_equal(kv_get(&some, "Uid"), "1000\t1001\t1000\t1000");
        uint64_t v;
        assert_int_equal(kv_get_u64(&some, "VmRSS", &v), 0);
        assert_int_equal(v, 1234 * 1024);
        assert_null(kv_get(&some, "Name"));
        kv_free(&all);
        kv_free(&some);
        kv_parse_keys("", ':', keys, &some);
        assert_int_equal(some.n, 0);
        kv_free(&some);
}

/* The layout fields zeroed, every other byte kept; what the checks parse unchanged. */
static void test_stat_hide_layout(void **state)
{
        (void)state;
        /* A real line (sleep, as root sees it): fields 26-30 and 45-51 hold addresses. */
        static const char st[] = "4242 (a) b) S 1 4242 4242 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 2718 8450048 216 "
                                 "18446744073709551615 94763437584384 94763437600129 140728870170544 0 0 0 0 0 0 1 0 0 17 "
                                 "3 0 0 0 0 0 94763437612112 94763437613216 94763456086016 140728870177453 "
                                 "140728870177473 140728870177473 140728870178793 0\n";
        size_t n;
        unsigned hidden;
        _cleanup_free_ char *z = proc_stat_hide_layout(st, strlen(st), &n, &hidden);
        assert_non_null(z);
        assert_int_equal(n, strlen(z));
        assert_string_equal(z, "4242 (a) b) S 1 4242 4242 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 2718 8450048 216 "
                               "18446744073709551615 0 0 0 0 0 0 0 0 0 1 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        assert_int_equal(hidden, 10);
        struct proc_stat a, b;
        assert_int_equal(proc_stat_parse(st, &a), 0);
        assert_int_equal(proc_stat_parse(z, &b), 0);
        assert_string_equal(a.comm, b.comm);
        assert_true(a.pid == b.pid && a.state == b.state && a.ppid == b.ppid && a.flags == b.flags && a.utime == b.utime &&
                    a.stime == b.stime && a.nice == b.nice && a.num_threads == b.num_threads && a.starttime == b.starttime &&
                    a.rss_pages == b.rss_pages && a.vsize == b.vsize && a.processor == b.processor &&
                    a.rt_priority == b.rt_priority && a.policy == b.policy);
        /* Already hidden (another user's process): nothing counted. */
        _cleanup_free_ char *again = proc_stat_hide_layout(z, n, &n, &hidden);
        assert_string_equal(again, z);
        assert_int_equal(hidden, 0);
        assert_null(proc_stat_hide_layout("garbage", 7, &n, &hidden));
}

static void test_limits(void **state)
{
        uint64_t s, h;
        assert_int_equal(limits_get(limits, "Max open files", &s, &h), 0);
        assert_int_equal(s, 1024);
        assert_int_equal(h, 524288);
        assert_int_equal(limits_get(limits, "Max locked memory", &s, &h), 0);
        assert_int_equal(s, 8388608);
        assert_true(h == LIMIT_UNLIMITED);
        assert_int_equal(limits_get(limits, "Max realtime priority", &s, &h), 0);
        assert_int_equal(h, 0);
        assert_int_equal(limits_get(limits, "Max open", &s, &h), -ENOENT); /* no prefix matches */
        assert_int_equal(limits_get("Max open files            lots    x\n", "Max open files", &s, &h), -EINVAL);
        assert_int_equal(limits_get("Max open files", "Max open files", &s, &h), -ENOENT); /* truncated */
}

static const char sysv[] =
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
        "         0          5  1600                 65536  1234  1240      0     0     0     0     0 1700000000 1700000001 1699999999                 65536                     0\n"
        "  12345678          6   666               1048576  4321     0      2  1000  1000  1000  1000          0          0 1699999999                     0                     0\n"
        "this line is garbage\n"
        "         1          7   600\n";

static void test_sysvipc(void **state)
{
        struct sysv_shm *v;
        size_t bad;
        int n = sysvipc_shm_parse(sysv, &v, &bad);
        assert_int_equal(n, 2);
        assert_int_equal(bad, 2);
        assert_int_equal(v[0].shmid, 5);
        assert_int_equal(v[0].perms, 01600);
        assert_int_equal(v[0].size, 65536);
        assert_int_equal(v[0].cpid, 1234);
        assert_int_equal(v[0].nattch, 0);
        assert_int_equal(v[1].key, 12345678);
        assert_int_equal(v[1].perms & 0777, 0666);
        assert_int_equal(v[1].uid, 1000);
        free(v);
        assert_int_equal(sysvipc_shm_parse("not the header\n", &v, &bad), -EINVAL);
        assert_int_equal(sysvipc_shm_parse("", &v, &bad), -EINVAL);
}

static const char interrupts[] =
        "           CPU0       CPU1       CPU3       \n"
        " 24:          1          0         7  IO-APIC   5-edge      ACPI:Ged\n"
        " 28:          0          0         0 PCI-MSIX-0000:00:01.0   0-edge      virtio0-config\n"
        "NMI:          0          0         0   Non-maskable interrupts\n"
        "ERR:          3\n"
        "broken line\n";

static void test_interrupts(void **state)
{
        struct irq_table t;
        assert_int_equal(interrupts_parse(interrupts, &t), 0);
        assert_int_equal(t.ncpus, 3);
        assert_int_equal(t.cpu_ids[2], 3); /* hotplugged CPU2 is missing: columns map to real ids */
        assert_int_equal(t.n, 4);
        assert_string_equal(t.v[0].name, "24");
        assert_true(t.v[0].numeric);
        assert_int_equal(t.v[0].count[2], 7);
        assert_string_equal(t.v[0].desc, "IO-APIC   5-edge      ACPI:Ged");
        assert_false(t.v[2].numeric);
        assert_int_equal(t.v[3].count[0], 3);
        assert_int_equal(t.v[3].count[1], 0);
        assert_int_equal(t.bad_lines, 1);
        interrupts_free(&t);
        assert_int_equal(interrupts_parse("", &t), -EINVAL);
        assert_int_equal(interrupts_parse("garbage header\n 1: 2\n", &t), -EINVAL);
}

static void test_cmdline(void **state)
{
        const char *cl = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=nohz,domain,2-7 quiet "
                         "nohz_full=2-7 foo=\"a b\" isolcpus=3-7 -- isolcpus=9";
        char *v;
        assert_int_equal(cmdline_param(cl, "isolcpus", &v), 0);
        assert_string_equal(v, "3-7"); /* last one wins; nothing after -- counts */
        free(v);
        assert_int_equal(cmdline_param(cl, "quiet", &v), 0);
        assert_string_equal(v, "");
        free(v);
        assert_int_equal(cmdline_param(cl, "foo", &v), 0);
        assert_string_equal(v, "a b");
        free(v);
        assert_int_equal(cmdline_param(cl, "nohz", &v), -ENOENT); /* not a prefix match of nohz_full */
        assert_null(v);
        assert_int_equal(cmdline_param("", "x", &v), -ENOENT);
}

static void test_isolcpus(void **state)
{
        struct isolcpus i;
        assert_int_equal(isolcpus_parse("nohz,domain,managed_irq,2-7", &i), 0);
        assert_true(i.nohz && i.domain && i.managed_irq);
        assert_int_equal(cpuset_count(&i.cpus), 6);
        assert_int_equal(isolcpus_parse("1,3", &i), 0);
        assert_true(i.domain); /* no flags = domain */
        assert_false(i.nohz);
        assert_int_equal(cpuset_count(&i.cpus), 2);
        assert_true(isolcpus_parse("domain,bogus", &i) < 0);
}

static void test_proc_stat(void **state)
{
        struct proc_stat s;
        const char *line = "1234 (evo (rt) cu) S 1 1234 1234 0 -1 4194560 100 0 0 0 10 5 0 0 -81 0 3 0 1000 "
                           "10000000 256 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 2 80 1 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_int_equal(proc_stat_parse(line, &s), 0);
        assert_int_equal(s.pid, 1234);
        assert_string_equal(s.comm, "evo (rt) cu");
        assert_int_equal(s.state, 'S');
        assert_int_equal(s.ppid, 1);
        assert_int_equal(s.num_threads, 3);
        assert_int_equal(s.processor, 2);
        assert_int_equal(s.rt_priority, 80);
        assert_int_equal(s.policy, 1);
        assert_int_equal(s.flags, 4194560);
        assert_int_equal(s.vsize, 10000000); /* field 23: watch's bound on a process's map areas */
        assert_int_equal(s.rss_pages, 256);
        assert_false(proc_flags_kthread(s.flags));
        /* A real kworker's stat (field 9 = 69238880: PF_KTHREAD | PF_WQ_WORKER | ...). */
        const char *kw = "27 (kworker/1:0H-events_highpri) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 0 -20 1 0 52 0 0 "
                         "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_int_equal(proc_stat_parse(kw, &s), 0);
        assert_true(proc_flags_kthread(s.flags));
        assert_int_equal(proc_stat_parse("1234 (x) S 1 2 3\n", &s), -EINVAL); /* truncated */
        assert_int_equal(proc_stat_parse("garbage", &s), -EINVAL);
        assert_int_equal(proc_stat_parse("", &s), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_meminfo),    cmocka_unit_test(test_meminfo_malformed),
                cmocka_unit_test(test_limits),     cmocka_unit_test(test_sysvipc),
                cmocka_unit_test(test_kv_keys),    cmocka_unit_test(test_stat_hide_layout),
                cmocka_unit_test(test_interrupts), cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_isolcpus),   cmocka_unit_test(test_proc_stat),
        };
        return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
