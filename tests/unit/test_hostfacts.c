/* Unit tests: host facts for ISSUE.md (lib/hostfacts.c, the os-release parser) and
 * ISSUE.md's context taking them, and the preemption verdict from rt.kernel's finding,
 * from what the run produced (report/issue.c reads nothing of the host itself). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "lib/hostfacts.h"
#include "lib/rootfs.h"
#include "lib/util.h"
#include "report/issue.h"

static char *osr(const char *text, const char *key, int *rc)
{
        char *v = NULL;
        *rc = osrelease_value(text, key, &v);
        return v;
}

static void test_osrelease(void **state)
{
        (void)state;
        int rc;
        char *v;
        const char *debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                             "ID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
        v = osr(debian, "PRETTY_NAME", &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(v, "Debian GNU/Linux 12 (bookworm)");
        free(v);
        v = osr(debian, "ID", &rc);
        assert_string_equal(v, "debian"); /* unquoted */
        free(v);
        v = osr(debian, "NAME", &rc);
        assert_string_equal(v, "Debian GNU/Linux"); /* not PRETTY_NAME's tail */
        free(v);
        v = osr(debian, "VERSION", &rc);
        assert_int_equal(rc, -ENOENT);
        assert_null(v);
        v = osr(debian, "HOME", &rc);
        assert_int_equal(rc, -ENOENT); /* a key is matched whole, not as a prefix of HOME_URL */
        assert_null(v);

        /* Shell quoting as os-release(5) allows it. */
        v = osr("PRETTY_NAME='EVO Linux 3 \"Cell\"'\n", "PRETTY_NAME", &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(v, "EVO Linux 3 \"Cell\"");
        free(v);
        v = osr("PRETTY_NAME=\"a \\\"quoted\\\" \\$HOME \\\\ \\`x\\` \\n\"\n", "PRETTY_NAME", &rc);
        assert_string_equal(v, "a \"quoted\" $HOME \\ `x` \\n"); /* only \" \\ \$ \` are escapes in "..." */
        free(v);
        v = osr("  PRETTY_NAME=\"Spaces around\"  \r\n", "PRETTY_NAME", &rc);
        assert_string_equal(v, "Spaces around");
        free(v);
        v = osr("PRETTY_NAME=Fedora\\ Linux\n", "PRETTY_NAME", &rc);
        assert_string_equal(v, "Fedora Linux");
        free(v);
        v = osr("# PRETTY_NAME=\"commented\"\nPRETTY_NAME=first\nPRETTY_NAME=last", "PRETTY_NAME", &rc);
        assert_string_equal(v, "last"); /* the last assignment wins, no newline at the end */
        free(v);
        v = osr("PRETTY_NAME=\"\"\n", "PRETTY_NAME", &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(v, "");
        free(v);

        /* Malformed: an unterminated quote. */
        v = osr("PRETTY_NAME=\"Debian\n", "PRETTY_NAME", &rc);
        assert_int_equal(rc, -EINVAL);
        assert_null(v);
        v = osr("PRETTY_NAME='Debian\n", "PRETTY_NAME", &rc);
        assert_int_equal(rc, -EINVAL);
        v = osr("PRETTY_NAME=Debian\\", "PRETTY_NAME", &rc);
        assert_int_equal(rc, -EINVAL);
        v = osr("", "PRETTY_NAME", &rc);
        assert_int_equal(rc, -ENOENT);
}

/* A root with the files hostfacts_read() looks at. */
static char root[] = "/tmp/evodiag-hostfacts.XXXXXX";

static void put(const char *path, const char *content)
{
        char full[512];
        snprintf(full, sizeof(full), "%s%s", root, path);
        for (char *p = full + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void)mkdir(full, 0755);
                *p = '/';
        }
        FILE *f = fopen(full, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static const char *str(json_object *facts, const char *part, const char *key)
{
        json_object *p, *v;
        assert_true(json_object_object_get_ex(facts, part, &p));
        assert_true(json_object_object_get_ex(p, key, &v)); /* every key is there, null or not */
        return v ? json_object_get_string(v) : NULL;
}

static void test_read(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(root));
        put("/usr/lib/os-release", "PRETTY_NAME='EVO Linux 3'\n"); /* /etc/os-release absent: the fallback */
        put("/proc/sys/kernel/osrelease", "6.1.0-rt-amd64\n");
        put("/proc/sys/kernel/version", "#1 SMP PREEMPT RT Debian 6.1.0\n");
        put("/proc/sys/kernel/arch", "aarch64\n");
        put("/sys/devices/system/cpu/online", "0-5,8-9\n");
        put("/sys/devices/system/cpu/isolated", "\n");
        put("/proc/meminfo", "MemTotal:       16384000 kB\nMemFree:  1 kB\n");
        put("/proc/cmdline", "BOOT_IMAGE=/vmlinuz isolcpus=2-3\n");
        put("/proc/sys/vm/max_map_count", "65530\n");
        assert_int_equal(rootfs_set(root), 0);

        json_object *f = hostfacts_read();
        assert_string_equal(str(f, "os", "pretty_name"), "EVO Linux 3");
        assert_string_equal(str(f, "os", "kernel_release"), "6.1.0-rt-amd64");
        assert_string_equal(str(f, "os", "kernel_version"), "#1 SMP PREEMPT RT Debian 6.1.0");
        assert_string_equal(str(f, "os", "machine"), "aarch64"); /* the root's, not this machine's */
        assert_string_equal(str(f, "os", "cpus"), "8");
        assert_string_equal(str(f, "os", "cpus_online"), "0-5,8-9");
        char buf[32];
        assert_string_equal(str(f, "os", "memory"), fmt_bytes(16384000ull * 1024, buf));
        assert_string_equal(str(f, "config", "cmdline"), "BOOT_IMAGE=/vmlinuz isolcpus=2-3");
        assert_string_equal(str(f, "config", "isolated"), "(none)"); /* present but empty */
        assert_string_equal(str(f, "config", "max_map_count"), "65530");
        assert_null(str(f, "config", "shmmax")); /* absent: null, never made up */
        assert_null(str(f, "config", "nohz_full"));
        /* Nothing decided here: no preemption verdict (that is rt.kernel's). */
        json_object *cfg, *v;
        assert_true(json_object_object_get_ex(f, "config", &cfg));
        assert_false(json_object_object_get_ex(cfg, "preempt", &v));
        json_object_put(f);

        /* A malformed or missing os-release, garbage for the CPUs and memory: nulls. */
        put("/etc/os-release", "PRETTY_NAME=\"unterminated\nNAME=Plain\n");
        put("/sys/devices/system/cpu/online", "garbage\n");
        put("/proc/meminfo", "MemTotal: lots\n");
        f = hostfacts_read();
        assert_string_equal(str(f, "os", "pretty_name"), "Plain"); /* NAME when PRETTY_NAME is unusable */
        assert_null(str(f, "os", "cpus"));
        assert_null(str(f, "os", "cpus_online"));
        assert_null(str(f, "os", "memory"));
        json_object_put(f);

        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(rootfs_set(NULL), 0);
}

/* ISSUE.md's context: facts as given, preemption as rt.kernel's finding says it. */
static const struct check_info rt_checks[] = {{"rt.kernel", "k", "k"}, {0}};
static const struct collector rt = {.name = "rt", .summary = "rt", .checks = rt_checks};

static const char *ctx_str(json_object *c, const char *part, const char *key)
{
        json_object *p, *v;
        assert_true(json_object_object_get_ex(c, part, &p));
        return json_object_object_get_ex(p, key, &v) && v ? json_object_get_string(v) : NULL;
}

static void test_issue_context(void **state)
{
        (void)state;
        struct run_result r = {.c = &rt, .status = RUN_OK};
        fnd_add(&r.fs, SEV_WARN, "rt.kernel", "2 RT tasks on a kernel that is not PREEMPT_RT (PREEMPT_DYNAMIC, preemption model voluntary)");
        struct report rep = {.host = "h", .r = &r, .n = 1};
        json_object *facts = json_tokener_parse("{\"os\":{\"pretty_name\":\"EVO Linux 3\",\"cpus\":8},"
                                                "\"config\":{\"cmdline\":\"quiet\",\"preempt\":\"forged\"}}");
        struct issue_input in = {.rep = &rep, .templates_dir = "/nonexistent", .facts = facts};
        const char *tn;
        json_object *c = issue_context(&in, &tn);
        assert_string_equal(ctx_str(c, "os", "pretty_name"), "EVO Linux 3");
        assert_string_equal(ctx_str(c, "os", "cpus"), "8");
        assert_string_equal(ctx_str(c, "config", "cmdline"), "quiet");
        assert_string_equal(ctx_str(c, "config", "preempt"),
                            "2 RT tasks on a kernel that is not PREEMPT_RT (PREEMPT_DYNAMIC, preemption model voluntary)");
        json_object_put(c);
        /* The facts given are not changed by it. */
        json_object *cfg, *v;
        json_object_object_get_ex(facts, "config", &cfg);
        assert_true(json_object_object_get_ex(cfg, "preempt", &v));
        assert_string_equal(json_object_get_string(v), "forged");

        /* rt not run, or timed out: said so, never guessed from the version string. */
        findings_free(&r.fs);
        r.status = RUN_NOT_SELECTED;
        c = issue_context(&in, &tn);
        assert_string_equal(ctx_str(c, "config", "preempt"), "not checked (the rt collector was not run)");
        json_object_put(c);
        r.status = RUN_TIMEOUT;
        r.note = xstrdup("no answer within 5000 ms; killed");
        c = issue_context(&in, &tn);
        assert_string_equal(ctx_str(c, "config", "preempt"), "unknown (rt: no answer within 5000 ms; killed)");
        json_object_put(c);
        free(r.note);
        r.note = NULL;

        /* No facts (their child timed out): empty sections, the template says (unknown). */
        in.facts = NULL;
        c = issue_context(&in, &tn);
        assert_null(ctx_str(c, "os", "pretty_name"));
        json_object_put(c);
        json_object_put(facts);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_osrelease),
                cmocka_unit_test(test_read),
                cmocka_unit_test(test_issue_context),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
