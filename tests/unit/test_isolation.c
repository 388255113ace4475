/* Unit tests: the isolation collector's parsers and decisions — the command line,
 * expected vs effective CPU sets, IRQ affinity logic on real /proc/interrupts text,
 * irqbalance's banned CPUs, hex masks — on good and on broken input. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "collectors/isolation.h"
#include "lib/cpulist.h"
#include "lib/procfs.h"
#include "lib/util.h"

/* The CPU set as a list, for readable assertions. */
static const char *L(const struct cpuset *s)
{
        static char buf[8][128];
        static int i;
        char *l = cpulist_format(s);
        char *b = buf[i++ % 8];
        snprintf(b, 128, "%s", l);
        free(l);
        return b;
}

static struct cpuset S(const char *list)
{
        struct cpuset s;
        assert_int_equal(cpulist_parse(list, &s), 0);
        return s;
}

static void test_cmdline_full(void **state)
{
        (void)state;
        struct iso_cmdline c;
        iso_cmdline_parse("BOOT_IMAGE=/boot/vmlinuz-6.1.0-41-rt-amd64 root=UUID=5b1e ro quiet "
                          "isolcpus=managed_irq,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 irqaffinity=0-1",
                          &c);
        assert_true(c.has_isolcpus && c.has_nohz_full && c.has_rcu_nocbs && c.has_irqaffinity);
        assert_true(c.isolcpus.domain && c.isolcpus.managed_irq && !c.isolcpus.nohz);
        assert_string_equal(L(&c.isolcpus.cpus), "2-7");
        assert_string_equal(L(&c.nohz_full), "2-7");
        assert_string_equal(L(&c.rcu_nocbs), "2-7");
        assert_string_equal(L(&c.irqaffinity), "0-1");
        assert_false(c.rcu_nocbs_all);
        assert_string_equal(c.bad, "");
        assert_true(iso_cmdline_any(&c));

        struct cpuset e;
        iso_expected_isolated(&c, &e);
        assert_string_equal(L(&e), "2-7");
        iso_expected_nohz(&c, &e);
        assert_string_equal(L(&e), "2-7");
}

static void test_cmdline_flags(void **state)
{
        (void)state;
        struct iso_cmdline c;
        struct cpuset e;
        /* No domain flag: /sys/.../isolated stays empty; nohz flag = nohz_full. */
        iso_cmdline_parse("isolcpus=nohz,managed_irq,3", &c);
        assert_true(c.has_isolcpus && c.isolcpus.nohz && !c.isolcpus.domain);
        iso_expected_isolated(&c, &e);
        assert_true(cpuset_empty(&e));
        iso_expected_nohz(&c, &e);
        assert_string_equal(L(&e), "3");
        assert_true(iso_cmdline_any(&c));

        /* nohz_full alone. */
        iso_cmdline_parse("quiet nohz_full=1,3 rcu_nocbs", &c);
        assert_false(c.has_isolcpus);
        assert_true(c.has_nohz_full && c.rcu_nocbs_all && c.has_rcu_nocbs);
        iso_expected_isolated(&c, &e);
        assert_true(cpuset_empty(&e));
        iso_expected_nohz(&c, &e);
        assert_string_equal(L(&e), "1,3");

        /* nohz flag and nohz_full united. */
        iso_cmdline_parse("isolcpus=nohz,domain,2 nohz_full=3", &c);
        iso_expected_nohz(&c, &e);
        assert_string_equal(L(&e), "2-3");
        iso_expected_isolated(&c, &e);
        assert_string_equal(L(&e), "2");

        /* Only rcu_nocbs / irqaffinity: not isolation. */
        iso_cmdline_parse("rcu_nocbs=0-3 irqaffinity=0", &c);
        assert_false(iso_cmdline_any(&c));
        iso_cmdline_parse("", &c);
        assert_false(iso_cmdline_any(&c));
        assert_string_equal(c.bad, "");

        /* The last occurrence wins, as in the kernel; quotes removed. */
        iso_cmdline_parse("isolcpus=1 isolcpus=\"2-3\"", &c);
        assert_string_equal(L(&c.isolcpus.cpus), "2-3");
}

static void test_cmdline_malformed(void **state)
{
        (void)state;
        struct iso_cmdline c;
        iso_cmdline_parse("isolcpus=lots nohz_full=2-3", &c);
        assert_false(c.has_isolcpus);
        assert_true(cpuset_empty(&c.isolcpus.cpus));
        assert_true(c.has_nohz_full);
        assert_string_equal(c.bad, "isolcpus=lots");

        iso_cmdline_parse("isolcpus=domain nohz_full= rcu_nocbs=x irqaffinity=9-1", &c);
        assert_false(c.has_isolcpus || c.has_nohz_full || c.has_rcu_nocbs || c.has_irqaffinity);
        assert_string_equal(c.bad, "isolcpus=domain"); /* the first one */
        assert_false(iso_cmdline_any(&c));

        iso_cmdline_parse("nohz_full=99999", &c); /* beyond CONFIG_NR_CPUS */
        assert_false(c.has_nohz_full);
        assert_string_equal(c.bad, "nohz_full=99999");

        iso_cmdline_parse("isolcpus nohz_full", &c); /* bare words */
        assert_false(c.has_isolcpus || c.has_nohz_full);

        char big[3000];
        memset(big, 'x', sizeof(big) - 1);
        memcpy(big, "isolcpus=", 9);
        big[sizeof(big) - 1] = 0;
        iso_cmdline_parse(big, &c);
        assert_false(c.has_isolcpus);
        assert_true(strlen(c.bad) < sizeof(c.bad));
        assert_true(startswith(c.bad, "isolcpus=xxx"));
}

static void test_intended(void **state)
{
        (void)state;
        struct iso_cmdline c;
        iso_cmdline_parse("isolcpus=2 nohz_full=3", &c);
        struct cpuset eff_iso = S("4"), eff_nohz = S(""), out;
        iso_intended(&c, &eff_iso, &eff_nohz, &out);
        assert_string_equal(L(&out), "2-4");
        iso_cmdline_parse("", &c);
        iso_intended(&c, &eff_nohz, &eff_nohz, &out);
        assert_true(cpuset_empty(&out));
}

static void test_effective_files(void **state)
{
        (void)state;
        struct cpuset s;
        assert_int_equal(iso_parse_effective("2-3\n", &s), 0);
        assert_string_equal(L(&s), "2-3");
        assert_int_equal(iso_parse_effective("\n", &s), 0);
        assert_true(cpuset_empty(&s));
        assert_int_equal(iso_parse_effective("", &s), 0);
        assert_true(cpuset_empty(&s));
        assert_int_equal(iso_parse_effective("(null)\n", &s), 0); /* nohz_full on older kernels */
        assert_true(cpuset_empty(&s));
        assert_int_equal(iso_parse_effective("  1,5-6", &s), 0);
        assert_string_equal(L(&s), "1,5-6");
        assert_int_equal(iso_parse_effective("garbage", &s), -EINVAL);
        assert_true(cpuset_empty(&s));
        assert_int_equal(iso_parse_effective("\x01\xff", &s), -EINVAL);
}

static void test_compare(void **state)
{
        (void)state;
        struct iso_diff d;
        struct cpuset req = S("2-3"), eff = S("2-3"), possible = S("0-3");
        iso_compare(&req, &eff, &possible, &d);
        assert_true(cpuset_empty(&d.missing) && cpuset_empty(&d.nonexistent) && cpuset_empty(&d.extra));

        eff = S(""); /* the mis-tuned host: isolcpus=2-3, isolated empty */
        iso_compare(&req, &eff, &possible, &d);
        assert_string_equal(L(&d.missing), "2-3");

        req = S("2-7");
        eff = S("2-3"); /* the kernel dropped CPUs that do not exist */
        iso_compare(&req, &eff, &possible, &d);
        assert_true(cpuset_empty(&d.missing));
        assert_string_equal(L(&d.nonexistent), "4-7");

        req = S("2");
        eff = S("2-3");
        iso_compare(&req, &eff, &possible, &d);
        assert_true(cpuset_empty(&d.missing));
        assert_string_equal(L(&d.extra), "3");

        /* Possible CPUs unknown: nothing is "nonexistent", all missing ones count. */
        struct cpuset none = S("");
        req = S("2-7");
        eff = S("2-3");
        iso_compare(&req, &eff, &none, &d);
        assert_string_equal(L(&d.missing), "4-7");
        assert_true(cpuset_empty(&d.nonexistent));
        iso_compare(&req, &eff, NULL, &d);
        assert_string_equal(L(&d.missing), "4-7");
}

static const char interrupts[] = "           CPU0       CPU1       CPU2       CPU3       \n"
                                 "  0:         44          0          0          0   IO-APIC   2-edge      timer\n"
                                 " 41:       2371          0        812          0 PCI-MSIX-0000:00:04.0   1-edge      virtio3-rx\n"
                                 " 42:          0       5130          0          7 PCI-MSIX-0000:00:04.0   2-edge      virtio3-tx\n"
                                 " 44:          5\n"
                                 "NMI:          0          0          3          0   Non-maskable interrupts\n"
                                 "LOC:      79995      80874      51012      51009   Local timer interrupts\n"
                                 "ERR:          0\n";

static const struct irq_line *irq(const struct irq_table *t, const char *name)
{
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->v[i].name, name))
                        return &t->v[i];
        fail_msg("no IRQ %s", name);
        return NULL;
}

static void test_irq_logic(void **state)
{
        (void)state;
        struct irq_table t;
        assert_int_equal(interrupts_parse(interrupts, &t), 0);
        struct cpuset iso = S("2-3"), on, aff;
        unsigned long long n;

        assert_false(irq_fired_on(&t, irq(&t, "0"), &iso, &on, &n));
        assert_int_equal(n, 0);

        assert_true(irq_fired_on(&t, irq(&t, "41"), &iso, &on, &n));
        assert_string_equal(L(&on), "2");
        assert_int_equal(n, 812);
        aff = S("0-3"); /* default affinity: still allowed there */
        assert_true(irq_hits_isolated(&aff, &iso, &on));
        aff = S("3"); /* moved onto another isolated CPU: still a problem */
        assert_true(irq_hits_isolated(&aff, &iso, &on));
        aff = S("0-1"); /* moved away since: the count is history */
        assert_false(irq_hits_isolated(&aff, &iso, &on));

        assert_true(irq_fired_on(&t, irq(&t, "42"), &iso, &on, &n));
        assert_string_equal(L(&on), "3");
        assert_int_equal(n, 7);

        /* A short row (ERR/MIS style) has no counts on the isolated columns. */
        assert_false(irq_fired_on(&t, irq(&t, "44"), &iso, &on, &n));

        /* Affinity on isolated CPUs but never fired there: not reported. */
        struct cpuset none = S("");
        aff = S("0-3");
        assert_false(irq_hits_isolated(&aff, &iso, &none));
        interrupts_free(&t);

        /* After CPU hotplug the columns are CPU0 CPU1 CPU3: column 2 is CPU 3. */
        assert_int_equal(interrupts_parse("   CPU0  CPU1  CPU3\n 50:  0  0  9  IR-PCI-MSI  nvme0q3\n", &t), 0);
        struct cpuset only2 = S("2"), only3 = S("3");
        assert_false(irq_fired_on(&t, irq(&t, "50"), &only2, &on, &n));
        assert_true(irq_fired_on(&t, irq(&t, "50"), &only3, &on, &n));
        assert_string_equal(L(&on), "3");
        assert_int_equal(n, 9);
        interrupts_free(&t);
}

/* check (counts since boot, per IRQ) and watch (device IRQs per interval, per CPU)
 * judge with the same iso_irq_verdict. */
static void test_irq_verdict(void **state)
{
        (void)state;
        assert_int_equal(iso_irq_verdict(true, 812), SEV_WARN);
        assert_int_equal(iso_irq_verdict(true, 1), SEV_WARN);
        assert_int_equal(iso_irq_verdict(true, 0), SEV_OK);   /* allowed there, never handled there */
        assert_int_equal(iso_irq_verdict(false, 812), SEV_OK); /* moved away since: history */
        assert_int_equal(iso_irq_verdict(false, 0), SEV_OK);
        /* irq_hits_isolated is the same rule on CPU sets. */
        struct cpuset iso = S("2-3"), aff = S("0-3"), on = S("2"), none = S(""), away = S("0-1");
        assert_int_equal(irq_hits_isolated(&aff, &iso, &on), iso_irq_verdict(true, 1) != SEV_OK);
        assert_int_equal(irq_hits_isolated(&aff, &iso, &none), iso_irq_verdict(true, 0) != SEV_OK);
        assert_int_equal(irq_hits_isolated(&away, &iso, &on), iso_irq_verdict(false, 1) != SEV_OK);
}

static void test_irq_action(void **state)
{
        (void)state;
        char b[16];
        assert_string_equal(irq_action("PCI-MSIX-0000:00:04.0   1-edge      virtio3-rx", b, sizeof(b)), "virtio3-rx");
        assert_string_equal(irq_action("IO-APIC   4-edge      ttyS0  \n", b, sizeof(b)), "ttyS0");
        assert_string_equal(irq_action("timer", b, sizeof(b)), "timer");
        assert_string_equal(irq_action("", b, sizeof(b)), "");
        assert_string_equal(irq_action("   ", b, sizeof(b)), "");
        assert_string_equal(irq_action("chip a-very-long-action-name-here", b, sizeof(b)), "a-very-long-act");
}

static void test_irqbalance_banned(void **state)
{
        (void)state;
        struct cpuset s;
        const char *which;
        const char *deb = "# irqbalance is a daemon process that distributes interrupts across\n"
                          "#IRQBALANCE_ONESHOT=\n"
                          "#IRQBALANCE_BANNED_CPULIST=0-1\n"
                          "IRQBALANCE_BANNED_CPULIST=2-3\n"
                          "#IRQBALANCE_ARGS=\n";
        assert_int_equal(irqbalance_banned(deb, strlen(deb), &s, &which), 0);
        assert_string_equal(which, "IRQBALANCE_BANNED_CPULIST");
        assert_string_equal(L(&s), "2-3");

        const char *quoted = "  export IRQBALANCE_BANNED_CPUS=\"0000000c\"\nIRQBALANCE_BANNED_CPULIST='1'\n";
        assert_int_equal(irqbalance_banned(quoted, strlen(quoted), &s, &which), 0);
        assert_string_equal(which, "IRQBALANCE_BANNED_CPUS"); /* the mask wins, as in irqbalance */
        assert_string_equal(L(&s), "2-3");

        const char *twice = "IRQBALANCE_BANNED_CPULIST=1\nIRQBALANCE_BANNED_CPULIST=4-5\n";
        assert_int_equal(irqbalance_banned(twice, strlen(twice), &s, &which), 0);
        assert_string_equal(L(&s), "4-5");

        /* environ: NUL separated, not NUL terminated at the end maybe. */
        const char env[] = "PATH=/usr/bin\0IRQBALANCE_ARGS=\0IRQBALANCE_BANNED_CPULIST=6";
        assert_int_equal(irqbalance_banned(env, sizeof(env) - 1, &s, &which), 0);
        assert_string_equal(L(&s), "6");

        /* Unset, commented, empty. */
        assert_int_equal(irqbalance_banned("", 0, &s, &which), -ENOENT);
        assert_null(which);
        const char *empty = "IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_BANNED_CPUS=\"\"\n";
        assert_int_equal(irqbalance_banned(empty, strlen(empty), &s, &which), -ENOENT);
        const char *pref = "XIRQBALANCE_BANNED_CPULIST=2\n";
        assert_int_equal(irqbalance_banned(pref, strlen(pref), &s, &which), -ENOENT);

        /* Set but unparsable. */
        const char *bad = "IRQBALANCE_BANNED_CPULIST=two-three\n";
        assert_int_equal(irqbalance_banned(bad, strlen(bad), &s, &which), -EINVAL);
        assert_string_equal(which, "IRQBALANCE_BANNED_CPULIST");
        assert_true(cpuset_empty(&s));
        const char *badm = "IRQBALANCE_BANNED_CPUS=xyz\n";
        assert_int_equal(irqbalance_banned(badm, strlen(badm), &s, &which), -EINVAL);

        /* Binary garbage. */
        unsigned char junk[256];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (unsigned char)(i * 131 + 7);
        int r = irqbalance_banned((const char *)junk, sizeof(junk), &s, &which);
        assert_true(r == -ENOENT || r == -EINVAL);
}

static void test_irqbalance_verdict(void **state)
{
        (void)state;
        struct cpuset iso = S("2-3"), b23 = S("2-3"), b3 = S("3"), b0_3 = S("0-3"), none = S("");
        assert_int_equal(irqbalance_verdict(0, &b23, &iso, &none), SEV_OK);
        assert_int_equal(irqbalance_verdict(0, &b0_3, &iso, &none), SEV_OK);
        assert_int_equal(irqbalance_verdict(0, &b3, &iso, &b23), SEV_WARN); /* explicit wins over auto */
        /* Not set: irqbalance bans the kernel's isolated/nohz_full itself. */
        assert_int_equal(irqbalance_verdict(-ENOENT, &none, &iso, &b23), SEV_INFO);
        assert_int_equal(irqbalance_verdict(-ENOENT, &none, &iso, &b3), SEV_WARN);
        assert_int_equal(irqbalance_verdict(-ENOENT, &none, &iso, &none), SEV_WARN); /* cmdline-only isolation */
        assert_int_equal(irqbalance_verdict(-EINVAL, &none, &iso, &b23), SEV_WARN);
}

static void test_hex_mask(void **state)
{
        (void)state;
        struct cpuset s = S("");
        char *h = cpumask_format_hex(&s);
        assert_string_equal(h, "0");
        free(h);
        const char *lists[] = {"0-1", "2-3", "0", "31", "32", "0,32", "63", "0-63", "4-7,40", "8191"};
        const char *hex[] = {"3", "c", "1", "80000000", "1,00000000", "1,00000001", "80000000,00000000",
                             "ffffffff,ffffffff", "100,000000f0", NULL};
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
                s = S(lists[i]);
                h = cpumask_format_hex(&s);
                if (hex[i])
                        assert_string_equal(h, hex[i]);
                /* The kernel's parser (ours) reads it back to the same set. */
                struct cpuset back;
                assert_int_equal(cpumask_parse(h, &back), 0);
                assert_true(cpuset_equal(&back, &s));
                free(h);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmdline_full),      cmocka_unit_test(test_cmdline_flags),
                cmocka_unit_test(test_cmdline_malformed), cmocka_unit_test(test_intended),
                cmocka_unit_test(test_effective_files),   cmocka_unit_test(test_compare),
                cmocka_unit_test(test_irq_logic),         cmocka_unit_test(test_irq_action),
                cmocka_unit_test(test_irqbalance_banned), cmocka_unit_test(test_irqbalance_verdict),
                cmocka_unit_test(test_hex_mask),          cmocka_unit_test(test_irq_verdict),
        };
        return cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
}
