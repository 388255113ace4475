/* Unit tests: the rt collector's parsers and decisions — version strings, debugfs
 * preempt, gzip'd kernel configs (real gzip made here with libarchive), governors read
 * from a temporary sysfs tree, throttling and per-task verdicts — good and broken input. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "collectors/rt.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/util.h"

static void test_flavour(void **state)
{
        (void)state;
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_RT Debian 6.1.158-1 (2025-11-09)"), KF_PREEMPT_RT);
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)"), KF_PREEMPT_DYNAMIC);
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_DYNAMIC @0"), KF_PREEMPT_DYNAMIC);
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT Tue Mar 1 10:00:00 UTC 2022"), KF_PREEMPT);
        assert_int_equal(rt_flavour_from_version("#1 SMP Debian 4.19.304-1 (2024-01-09)"), KF_NONE);
        /* Old RT patches: "PREEMPT RT". */
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT RT Fri Jan 1 2019"), KF_PREEMPT_RT);
        /* RT wins whatever the order. */
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_RT PREEMPT_DYNAMIC"), KF_PREEMPT_RT);
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_DYNAMIC PREEMPT_RT"), KF_PREEMPT_RT);
        /* Whole words only. */
        assert_int_equal(rt_flavour_from_version("#1 SMP PREEMPT_RTX NOPREEMPT_RT"), KF_NONE);
        assert_int_equal(rt_flavour_from_version("#1 SMP RT PREEMPTX"), KF_NONE);
        assert_int_equal(rt_flavour_from_version("PREEMPT\tRT"), KF_PREEMPT_RT);
        assert_int_equal(rt_flavour_from_version(""), KF_NONE);
        assert_int_equal(rt_flavour_from_version("   "), KF_NONE);
        assert_int_equal(rt_flavour_from_version(NULL), KF_NONE);
        assert_string_equal(rt_flavour_name(KF_PREEMPT_RT), "PREEMPT_RT");
        assert_string_equal(rt_flavour_name(KF_PREEMPT_DYNAMIC), "PREEMPT_DYNAMIC");
        assert_string_equal(rt_flavour_name(KF_PREEMPT), "PREEMPT");
        assert_string_equal(rt_flavour_name(KF_NONE), "no PREEMPT flag");
}

static void test_debugfs_preempt(void **state)
{
        (void)state;
        char m[16];
        assert_int_equal(rt_preempt_from_debugfs("none voluntary (full) lazy\n", m, sizeof(m)), 0);
        assert_string_equal(m, "full");
        assert_int_equal(rt_preempt_from_debugfs("(none) voluntary full\n", m, sizeof(m)), 0);
        assert_string_equal(m, "none");
        assert_int_equal(rt_preempt_from_debugfs("full (lazy)", m, sizeof(m)), 0);
        assert_string_equal(m, "lazy");
        /* Nothing marked, empty marks, odd characters, too long, unterminated. */
        assert_int_equal(rt_preempt_from_debugfs("none voluntary full lazy", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("()", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("(FULL)", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("(fu ll)", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("(full", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("(abcdefghijklmnopqrstuvwxyz)", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs("", m, sizeof(m)), -EINVAL);
        assert_int_equal(rt_preempt_from_debugfs(NULL, m, sizeof(m)), -EINVAL);
        char tiny[4];
        assert_int_equal(rt_preempt_from_debugfs("(full)", tiny, sizeof(tiny)), -EINVAL);
}

static const char rt_config[] = "#\n# Linux/x86 6.1.158 Kernel Configuration\n#\n"
                                "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
                                "CONFIG_NO_HZ_FULL=y\n"
                                "# CONFIG_PREEMPT_NONE is not set\n"
                                "# CONFIG_PREEMPT is not set\n"
                                "CONFIG_PREEMPT_RT=y\n"
                                "CONFIG_PREEMPT_COUNT=y\n"
                                "CONFIG_HZ=1000\n";
static const char dyn_config[] = "CONFIG_PREEMPT_BUILD=y\n"
                                 "CONFIG_PREEMPT_NONE=y\n"
                                 "# CONFIG_PREEMPT_VOLUNTARY is not set\n"
                                 "# CONFIG_PREEMPT is not set\n"
                                 "CONFIG_PREEMPT_DYNAMIC=y\n"
                                 "CONFIG_PREEMPT_RCU=y"; /* no final newline */

/* A real gzip stream of text, made with libarchive's raw writer. */
static size_t gzip_mem(const char *text, unsigned char *out, size_t cap)
{
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
        assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK); /* no padding after the trailer */
        size_t used = 0;
        assert_int_equal(archive_write_open_memory(a, out, cap, &used), ARCHIVE_OK);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "config");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)strlen(text));
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
        archive_entry_free(e);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return used;
}

static void test_gunzip_config(void **state)
{
        (void)state;
        unsigned char gz[8192];
        size_t n = gzip_mem(rt_config, gz, sizeof(gz));
        assert_true(n > 18);
        assert_int_equal(gz[0], 0x1f); /* gzip magic: it really is gzip */
        assert_int_equal(gz[1], 0x8b);
        char *text;
        assert_int_equal(rt_gunzip(gz, n, 1 << 20, &text), (long)strlen(rt_config));
        assert_string_equal(text, rt_config);
        assert_true(kconfig_is_y(text, "PREEMPT_RT"));
        assert_false(kconfig_is_y(text, "PREEMPT"));
        free(text);

        n = gzip_mem(dyn_config, gz, sizeof(gz));
        assert_true(rt_gunzip(gz, n, 1 << 20, &text) > 0);
        assert_false(kconfig_is_y(text, "PREEMPT_RT"));
        assert_true(kconfig_is_y(text, "PREEMPT_DYNAMIC"));
        free(text);
}

static void test_gunzip_malformed(void **state)
{
        (void)state;
        unsigned char gz[8192];
        size_t n = gzip_mem(rt_config, gz, sizeof(gz));
        char *text = (char *)1;
        /* Truncated: even the part that decodes is not believed. */
        assert_int_equal(rt_gunzip(gz, n / 2, 1 << 20, &text), -EINVAL);
        assert_null(text);
        assert_int_equal(rt_gunzip(gz, n - 4, 1 << 20, &text), -EINVAL); /* no ISIZE trailer */
        /* Not gzip at all: the raw format would pass it through, we refuse. */
        assert_int_equal(rt_gunzip(rt_config, strlen(rt_config), 1 << 20, &text), -EINVAL);
        assert_int_equal(rt_gunzip("", 0, 1 << 20, &text), -EINVAL);
        /* Gzip magic, garbage after it. */
        unsigned char bad[64] = {0x1f, 0x8b, 8, 0};
        for (size_t i = 4; i < sizeof(bad); i++)
                bad[i] = (unsigned char)(i * 37);
        assert_int_equal(rt_gunzip(bad, sizeof(bad), 1 << 20, &text), -EINVAL);
        /* A corrupt byte anywhere after the header: bad deflate data or, at the latest,
         * the CRC-32 / length in the trailer catches it (libarchive does not check them). */
        for (size_t i = 10; i < n; i++) {
                unsigned char flip[8192];
                memcpy(flip, gz, n);
                flip[i] ^= 0x55;
                assert_int_equal(rt_gunzip(flip, n, 1 << 20, &text), -EINVAL);
                assert_null(text);
        }
        /* Trailing garbage after a complete stream. */
        unsigned char more[8192];
        memcpy(more, gz, n);
        memcpy(more + n, "\0\0\0\0junk", 8);
        assert_int_equal(rt_gunzip(more, n + 8, 1 << 20, &text), -EINVAL);
        /* Larger than the cap. */
        assert_int_equal(rt_gunzip(gz, n, 16, &text), -EFBIG);
        assert_null(text);
}

static void test_kconfig(void **state)
{
        (void)state;
        char *v;
        assert_int_equal(kconfig_get(rt_config, "HZ", &v), 0);
        assert_string_equal(v, "1000");
        free(v);
        assert_int_equal(kconfig_get(rt_config, "CC_VERSION_TEXT", &v), 0);
        assert_string_equal(v, "\"gcc-12 (Debian 12.2.0-14) 12.2.0\"");
        free(v);
        assert_int_equal(kconfig_get(rt_config, "PREEMPT", &v), 0); /* not confused with PREEMPT_RT / _COUNT */
        assert_string_equal(v, "n");
        free(v);
        assert_int_equal(kconfig_get(rt_config, "PREEMPT_NONE", &v), 0);
        assert_string_equal(v, "n");
        free(v);
        assert_int_equal(kconfig_get(rt_config, "PREEMPT_R", &v), -ENOENT);
        assert_null(v);
        assert_int_equal(kconfig_get(rt_config, "NOPE", &v), -ENOENT);
        assert_int_equal(kconfig_get(dyn_config, "PREEMPT_RCU", &v), 0); /* last line, no newline */
        assert_string_equal(v, "y");
        free(v);
        assert_int_equal(kconfig_get("CONFIG_PREEMPT_RT=y\r\n", "PREEMPT_RT", &v), 0);
        assert_string_equal(v, "y");
        free(v);
        /* Garbage: not a config, a comment that only looks like one, binary. */
        assert_false(kconfig_is_y("PREEMPT_RT=y\n", "PREEMPT_RT"));
        assert_false(kconfig_is_y("# CONFIG_PREEMPT_RT=y\n", "PREEMPT_RT"));
        assert_false(kconfig_is_y(" CONFIG_PREEMPT_RT=y\n", "PREEMPT_RT"));
        assert_false(kconfig_is_y("CONFIG_PREEMPT_RT=\n", "PREEMPT_RT"));
        assert_false(kconfig_is_y("\x01\x02\xff", "PREEMPT_RT"));
        assert_false(kconfig_is_y("", "PREEMPT_RT"));
}

static void test_kconfig_model(void **state)
{
        (void)state;
        assert_string_equal(kconfig_preempt_model(rt_config), "full");
        assert_string_equal(kconfig_preempt_model(dyn_config), "none");
        assert_string_equal(kconfig_preempt_model("CONFIG_PREEMPT_VOLUNTARY=y\n"), "voluntary");
        assert_string_equal(kconfig_preempt_model("CONFIG_PREEMPT=y\n"), "full");
        /* 6.12+: PREEMPT_RT next to the choice, which may be lazy. */
        assert_string_equal(kconfig_preempt_model("CONFIG_PREEMPT_LAZY=y\nCONFIG_PREEMPT_RT=y\n"), "lazy");
        assert_string_equal(kconfig_preempt_model("CONFIG_PREEMPT_RT_FULL=y\n"), "full"); /* old RT patch */
        assert_null(kconfig_preempt_model("CONFIG_HZ=250\n"));
        assert_null(kconfig_preempt_model(""));
}

static void test_kernel_decision(void **state)
{
        (void)state;
        struct rt_kernel k = {.realtime = -1, .config_rt = -1};
        assert_false(rt_kernel_known(&k));
        assert_false(rt_kernel_is_rt(&k));
        k.have_version = true;
        k.flavour = KF_PREEMPT_DYNAMIC;
        assert_true(rt_kernel_known(&k));
        assert_false(rt_kernel_is_rt(&k));
        /* Any one signal is enough. */
        k.config_rt = 1;
        assert_true(rt_kernel_is_rt(&k));
        k.config_rt = 0;
        k.realtime = 1;
        assert_true(rt_kernel_is_rt(&k));
        k.realtime = 0;
        assert_false(rt_kernel_is_rt(&k));
        k.flavour = KF_PREEMPT_RT;
        assert_true(rt_kernel_is_rt(&k));
        /* A flavour without a version string read means nothing. */
        struct rt_kernel k2 = {.realtime = -1, .config_rt = 0, .flavour = KF_PREEMPT_RT};
        assert_true(rt_kernel_known(&k2));
        assert_false(rt_kernel_is_rt(&k2));
}

static char tmpl[64];

static void put(const char *rel, const char *content)
{
        char path[512], dir[512];
        snprintf(path, sizeof(path), "%s/%s", tmpl, rel);
        snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(dir), 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void test_governors(void **state)
{
        (void)state;
        snprintf(tmpl, sizeof(tmpl), "/tmp/test_rt.XXXXXX");
        assert_non_null(mkdtemp(tmpl));
        rootfs_set(tmpl);
        struct governors g;

        rt_read_governors(&g); /* no /sys at all */
        assert_int_equal(g.ncpus, 0);
        assert_null(g.bad);

        put("sys/devices/system/cpu/online", "0-3\n");
        put("sys/devices/system/cpu/cpu0/topology/core_id", "0\n");
        rt_read_governors(&g); /* CPUs without cpufreq (VMs) */
        assert_int_equal(g.ncpus, 0);

        put("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
        put("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave\n");
        put("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave");
        put("sys/devices/system/cpu/cpu10/cpufreq/scaling_governor", "schedutil\n");
        put("sys/devices/system/cpu/cpu3/cpuidle/state0/name", "POLL\n");
        put("sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "powersave\n"); /* not a cpuN */
        put("sys/devices/system/cpu/cpuX/cpufreq/scaling_governor", "powersave\n");
        rt_read_governors(&g);
        assert_int_equal(g.ncpus, 4);
        assert_int_equal(g.nbad, 3);
        assert_string_equal(g.bad, "powersave on 1-2; schedutil on 10");
        governors_free(&g);

        put("sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n");
        put("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "\n");
        put("sys/devices/system/cpu/cpu10/cpufreq/scaling_governor", "performance\n");
        rt_read_governors(&g);
        assert_int_equal(g.ncpus, 4);
        assert_int_equal(g.nbad, 1);
        assert_string_equal(g.bad, "(empty) on 2");
        governors_free(&g);

        put("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "performance\n");
        rt_read_governors(&g);
        assert_int_equal(g.nbad, 0);
        assert_null(g.bad);
        governors_free(&g);

        rootfs_set(NULL);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        assert_int_equal(system(cmd), 0);
}

static void test_throttling(void **state)
{
        (void)state;
        assert_int_equal(rt_throttling_sev(-1, 1000000, true), SEV_OK);
        assert_int_equal(rt_throttling_sev(-1, 1000000, false), SEV_OK);
        assert_int_equal(rt_throttling_sev(950000, 1000000, true), SEV_WARN);
        assert_int_equal(rt_throttling_sev(950000, 1000000, false), SEV_INFO);
        assert_int_equal(rt_throttling_sev(1000000, 1000000, true), SEV_WARN);
        assert_int_equal(rt_throttling_sev(0, 1000000, true), SEV_CRIT);
        assert_int_equal(rt_throttling_sev(0, 1000000, false), SEV_INFO);
        assert_int_equal(rt_throttling_sev(950000, 0, true), SEV_UNKNOWN);
        assert_int_equal(rt_throttling_sev(950000, -5, false), SEV_UNKNOWN);
}

/* The share check reports (rt.throttling) and watch measures against (rt.throttled). */
static void test_throttle_share(void **state)
{
        (void)state;
        assert_true(rt_throttle_share(950000, 1000000) == 95.0);
        assert_true(rt_throttle_share(0, 1000000) == 0.0);
        assert_true(rt_throttle_share(1000000, 1000000) == 100.0);
        assert_true(rt_throttle_share(-1, 1000000) == -1); /* off */
        assert_true(rt_throttle_share(950000, 0) == -1);   /* nonsense period */
        assert_true(rt_throttle_share(950000, -5) == -1);
        /* Throttled when the task's CPU use reaches the share, within 2 points. */
        assert_int_equal(rt_throttled_verdict(95.0, 95.0), SEV_WARN);
        assert_int_equal(rt_throttled_verdict(93.0, 95.0), SEV_WARN);
        assert_int_equal(rt_throttled_verdict(92.9, 95.0), SEV_OK);
        assert_int_equal(rt_throttled_verdict(100.0, rt_throttle_share(-1, 1000000)), SEV_OK); /* off: never */
        assert_int_equal(rt_throttled_verdict(0.0, rt_throttle_share(0, 1000000)), SEV_WARN);  /* runtime 0: stopped */
}

static void test_task_sched(void **state)
{
        (void)state;
        assert_int_equal(rt_task_sched_verdict(false, 80, 1, 80), SEV_OK);   /* FIFO 80 as first seen */
        assert_int_equal(rt_task_sched_verdict(false, 80, 2, 80), SEV_OK);   /* RR: still RT */
        assert_int_equal(rt_task_sched_verdict(false, 80, 6, 0), SEV_INFO);  /* DEADLINE: priority 0 */
        assert_int_equal(rt_task_sched_verdict(false, 80, 1, 50), SEV_INFO); /* chrt changed its priority */
        assert_int_equal(rt_task_sched_verdict(false, 80, 0, 0), SEV_WARN);  /* lost its RT scheduling */
        assert_int_equal(rt_task_sched_verdict(false, 80, 3, 0), SEV_WARN);  /* SCHED_BATCH */
        assert_int_equal(rt_task_sched_verdict(true, 80, 1, 80), SEV_WARN);  /* exited */
}

static void test_task_problems(void **state)
{
        (void)state;
        struct rt_task t = {.pid = 300, .tid = 300, .policy = 1, .rtprio = 80, .euid = 0};
        assert_int_equal(rt_task_problems(&t, 90), RTP_NO_MLOCK);
        t.vmlck = 64 << 20;
        assert_int_equal(rt_task_problems(&t, 90), 0);
        /* Non-root near its RLIMIT_MEMLOCK. */
        t.euid = 1000;
        t.have_limits = true;
        t.memlock_soft = t.memlock_hard = 64 << 20;
        assert_int_equal(rt_task_problems(&t, 90), RTP_MEMLOCK_LIMIT);
        t.memlock_soft = 128 << 20;
        assert_int_equal(rt_task_problems(&t, 90), 0); /* 50% */
        t.memlock_soft = LIMIT_UNLIMITED;
        assert_int_equal(rt_task_problems(&t, 90), 0);
        /* Root is not bound by the limit (CAP_IPC_LOCK). */
        t.euid = 0;
        t.memlock_soft = 64 << 20;
        assert_int_equal(rt_task_problems(&t, 90), 0);
        /* Limits unreadable: no verdict on them. */
        t.euid = 1000;
        t.have_limits = false;
        assert_int_equal(rt_task_problems(&t, 90), 0);
        /* A zero limit with memory locked anyway (raised later?): at/over the limit. */
        t.have_limits = true;
        t.memlock_soft = 0;
        assert_int_equal(rt_task_problems(&t, 90), RTP_MEMLOCK_LIMIT);
}

static void test_task_ignored(void **state)
{
        (void)state;
        assert_true(rt_task_ignored("pipewire", "pipewire"));
        assert_true(rt_task_ignored("pipewire", "sshd, pipewire ,x"));
        assert_true(rt_task_ignored("x", "sshd,pipewire,x"));
        assert_false(rt_task_ignored("pipe", "pipewire"));
        assert_false(rt_task_ignored("pipewire", "pipe"));
        assert_false(rt_task_ignored("pipewire", ""));
        assert_false(rt_task_ignored("pipewire", ",,, ,"));
        assert_false(rt_task_ignored("pipewire", NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_flavour),         cmocka_unit_test(test_debugfs_preempt),
                cmocka_unit_test(test_gunzip_config),   cmocka_unit_test(test_gunzip_malformed),
                cmocka_unit_test(test_kconfig),         cmocka_unit_test(test_kconfig_model),
                cmocka_unit_test(test_kernel_decision), cmocka_unit_test(test_governors),
                cmocka_unit_test(test_throttling),      cmocka_unit_test(test_task_problems),
                cmocka_unit_test(test_task_ignored),
                cmocka_unit_test(test_throttle_share),  cmocka_unit_test(test_task_sched),
        };
        return cmocka_run_group_tests_name("rt", tests, NULL, NULL);
}
