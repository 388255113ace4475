/* Unit tests: the coredump collector's parsers — systemd-coredump journal fields and
 * core file names, core_pattern, /proc/PID/limits, the parse child's JSON answer (caps
 * enforced again on a hostile answer), backtrace text, systemd's MESSAGE frames — and
 * decompression with its cap (real zstd data made here with libarchive). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>

#include "collectors/coredump.h"
#include "lib/procfs.h"
#include "lib/util.h"

static int field(struct cd_record *r, const char *kv)
{
        const char *eq = strchr(kv, '=');
        return cd_record_field(r, kv, (size_t)(eq - kv), eq + 1, strlen(eq + 1));
}

static void test_record_fields(void **state)
{
        (void)state;
        struct cd_record r = {0};
        assert_int_equal(field(&r, "COREDUMP_EXE=/usr/bin/lavinmq"), 1);
        assert_int_equal(field(&r, "COREDUMP_COMM=lavinmq"), 1);
        assert_int_equal(field(&r, "COREDUMP_PID=812"), 1);
        assert_int_equal(field(&r, "COREDUMP_SIGNAL=11"), 1);
        assert_int_equal(field(&r, "COREDUMP_UID=112"), 1);
        assert_int_equal(field(&r, "_UID=0"), 1);
        assert_int_equal(field(&r, "COREDUMP_TIMESTAMP=1796027374360352"), 1);
        assert_int_equal(field(&r, "COREDUMP_FILENAME=/var/lib/systemd/coredump/core.x.zst"), 1);
        assert_int_equal(field(&r, "MESSAGE=whatever"), 0);
        assert_string_equal(r.exe, "/usr/bin/lavinmq");
        assert_int_equal(r.pid, 812);
        assert_int_equal(r.signal, 11);
        assert_true(r.have_uid);
        assert_int_equal(r.uid, 112);
        assert_true(r.have_entry_uid);
        assert_int_equal(r.entry_uid, 0);
        assert_true(r.time_us == 1796027374360352ull);
        /* Malformed numbers are refused and leave the value alone. */
        assert_int_equal(field(&r, "COREDUMP_PID=-1"), -EINVAL);
        assert_int_equal(field(&r, "COREDUMP_PID=99999999999"), -EINVAL);
        assert_int_equal(field(&r, "COREDUMP_SIGNAL="), -EINVAL);
        assert_int_equal(field(&r, "COREDUMP_SIGNAL=1x"), -EINVAL);
        assert_int_equal(r.pid, 812);
        assert_int_equal(cd_record_field(&r, "", 0, "x", 1), -EINVAL);
        /* Control characters and NUL bytes of a value never reach a finding; long values are cut. */
        assert_int_equal(cd_record_field(&r, "COREDUMP_COMM", 13, "a\0b\033[31m", 8), 1);
        assert_string_equal(r.comm, "a?b?[31m");
        char *big = xmalloc(100000);
        memset(big, 'x', 100000);
        assert_int_equal(cd_record_field(&r, "COREDUMP_CMDLINE", 16, big, 100000), 1);
        assert_int_equal(strlen(r.cmdline), CD_NAME_MAX);
        free(big);
        cd_record_free(&r);
}

static void test_core_name(void **state)
{
        (void)state;
        struct cd_record r = {0};
        assert_int_equal(cd_parse_core_name("core.lavinmq.112.5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01.812.1796027374360352.zst", &r), 0);
        assert_string_equal(r.comm, "lavinmq");
        assert_int_equal(r.uid, 112);
        assert_int_equal(r.pid, 812);
        assert_true(r.time_us == 1796027374360352ull);
        cd_record_free(&r);
        /* A command name with dots, no compression. */
        assert_int_equal(cd_parse_core_name("core.my.app.0.5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01.7.1000", &r), 0);
        assert_string_equal(r.comm, "my.app");
        cd_record_free(&r);
        const char *bad[] = {"core.123", "core", "core..0.5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01.7.1000", "vmcore.x.0.b.1.2",
                             "core.a.0.NOTHEX8e2f6d4c1c9a8a0e4b7d6c5a01.7.1000", "core.a.x.5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01.7.1000",
                             "core.a.0.5b3f.7.1000"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_int_equal(cd_parse_core_name(bad[i], &r), -EINVAL);
                cd_record_free(&r);
        }
        assert_int_equal(cd_compression("core.x.lz4"), CD_LZ4);
        assert_int_equal(cd_compression("core.x.xz"), CD_XZ);
        assert_int_equal(cd_compression("core.x.zst"), CD_ZST);
        assert_int_equal(cd_compression("core.123"), CD_PLAIN);
        assert_int_equal(cd_compression(".zst"), CD_PLAIN);
}

static void test_core_pattern(void **state)
{
        (void)state;
        struct cd_pattern p;
        assert_int_equal(cd_parse_core_pattern("|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n", &p), 0);
        assert_int_equal(p.kind, CD_PAT_SYSTEMD);
        assert_string_equal(p.helper, "/lib/systemd/systemd-coredump");
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("|/usr/share/apport/apport -p%p -s%s", &p), 0);
        assert_int_equal(p.kind, CD_PAT_PIPE);
        assert_string_equal(p.helper, "/usr/share/apport/apport");
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("core\n", &p), 0);
        assert_int_equal(p.kind, CD_PAT_FILE);
        assert_null(p.dir); /* the crashing process's cwd */
        assert_true(p.relative);
        assert_string_equal(p.prefix, "core");
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("/var/crash/core.%e.%p", &p), 0);
        assert_string_equal(p.dir, "/var/crash");
        assert_false(p.relative);
        assert_string_equal(p.prefix, "core.");
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("/cores/%e/core", &p), 0);
        assert_null(p.dir); /* a directory per executable: not one directory to list */
        assert_false(p.relative); /* absolute, but not one directory */
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("/core.%p", &p), 0);
        assert_string_equal(p.dir, "/");
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("  \n", &p), 0);
        assert_int_equal(p.kind, CD_PAT_EMPTY);
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("|", &p), -EINVAL);
        cd_pattern_free(&p);
        assert_int_equal(cd_parse_core_pattern("/a\033b", &p), -EINVAL);
        cd_pattern_free(&p);
}

/* RLIMIT_CORE comes from lib/procfs's limits_get: the line as the kernel prints it. */
static void test_limits(void **state)
{
        (void)state;
        const char *lim = "Limit                     Soft Limit           Hard Limit           Units     \n"
                          "Max cpu time              unlimited            unlimited            seconds   \n"
                          "Max core file size        0                    unlimited            bytes     \n";
        uint64_t soft = 1, hard = 0;
        assert_int_equal(limits_get(lim, "Max core file size", &soft, &hard), 0);
        assert_true(soft == 0);
        assert_true(hard == UINT64_MAX);
}

static struct cd_bt sample_bt(void)
{
        struct cd_bt b = {.pid = 812, .signal = 11, .comm = xstrdup("lavinmq"), .threads_total = 2};
        b.threads = xcalloc(2, sizeof(*b.threads));
        b.nthreads = 2;
        for (int t = 0; t < 2; t++) {
                b.threads[t].tid = 812 + t;
                b.threads[t].frames = xcalloc(2, sizeof(struct cd_frame));
                b.threads[t].nframes = 2;
                b.threads[t].frames[0] = (struct cd_frame){.pc = 0x7f0000001234, .func = xstrdup("pause"),
                                                           .module = xstrdup("/usr/lib/libc.so.6"), .offset = 0x1234};
                b.threads[t].frames[1] = (struct cd_frame){.pc = 0x5500000011bc, .module = xstrdup("/usr/bin/lavinmq"),
                                                           .offset = 0x11bc, .file = NULL};
        }
        b.threads[0].frames[1].func = xstrdup("fiber_main");
        b.threads[0].frames[1].file = xstrdup("src/main.cr");
        b.threads[0].frames[1].line = 42;
        b.modules = xcalloc(1, sizeof(*b.modules));
        b.nmodules = 1;
        b.modules[0] = (struct cd_module){.name = xstrdup("/usr/bin/lavinmq"), .build_id = xstrdup("abcd"), .start = 0x550000000000,
                                          .end = 0x550000100000};
        return b;
}

static void test_json_roundtrip_and_format(void **state)
{
        (void)state;
        struct cd_bt b = sample_bt();
        char *j = cd_bt_to_json(&b);
        struct cd_bt r;
        char *err = NULL;
        assert_int_equal(cd_bt_from_json(j, strlen(j), &r, &err), 0);
        assert_null(err);
        assert_int_equal(r.pid, 812);
        assert_int_equal(r.signal, 11);
        assert_int_equal(r.nthreads, 2);
        assert_string_equal(r.threads[0].frames[1].func, "fiber_main");
        assert_true(r.threads[0].frames[0].pc == 0x7f0000001234ull);
        struct strbuf sb = {0};
        cd_bt_format(&r, &sb);
        assert_non_null(strstr(sb.s, "Stack trace of thread 812 (the one that dumped):\n"
                                     "#0  0x00007f0000001234 pause (libc.so.6 + 0x1234)\n"
                                     "#1  0x00005500000011bc fiber_main (lavinmq + 0x11bc) at src/main.cr:42\n"));
        assert_non_null(strstr(sb.s, "#1  0x00005500000011bc ?? (lavinmq + 0x11bc)\n")); /* no symbol: ?? with module+offset */
        assert_non_null(strstr(sb.s, "0x550000000000-0x550000100000 /usr/bin/lavinmq build-id abcd\n"));
        sb_free(&sb);
        cd_bt_top(&r, 3, &sb);
        assert_string_equal(sb.s, "pause (libc.so.6+0x1234) <- fiber_main (lavinmq+0x11bc)");
        sb_free(&sb);
        free(j);
        cd_bt_free(&r);
        cd_bt_free(&b);
}

/* A hostile child: more threads and frames than the caps, huge names, wrong types. */
static void test_json_hostile(void **state)
{
        (void)state;
        struct strbuf sb = {0};
        sb_puts(&sb, "{\"pid\":-5,\"signal\":\"x\",\"threads_total\":3,\"comm\":\"a\\u001b[2Jb\",\"threads\":[");
        for (int t = 0; t < 100; t++) {
                sb_printf(&sb, "%s{\"tid\":%d,\"frames\":[", t ? "," : "", t);
                for (int f = 0; f < 100; f++)
                        sb_printf(&sb, "%s{\"pc\":%d,\"func\":\"f%d\",\"line\":-1}", f ? "," : "", f, f);
                sb_puts(&sb, "]}");
        }
        sb_puts(&sb, ",7,\"x\"],\"modules\":{}}");
        struct cd_bt r;
        char *err = NULL;
        assert_int_equal(cd_bt_from_json(sb.s, sb.len, &r, &err), 0);
        assert_int_equal(r.nthreads, CD_THREADS_MAX);
        assert_true(r.threads_total >= 100);
        for (size_t i = 0; i < r.nthreads; i++)
                assert_true(r.threads[i].nframes <= CD_FRAMES_MAX);
        assert_true(r.threads[0].frames_cut);
        assert_int_equal(r.pid, 0);
        assert_int_equal(r.signal, 0);
        assert_int_equal(r.threads[0].frames[0].line, 0);
        assert_string_equal(r.comm, "a?[2Jb");
        assert_int_equal(r.nmodules, 0);
        cd_bt_free(&r);
        sb_free(&sb);
        /* A name past CD_NAME_MAX is cut. */
        char *longname = xmalloc(5000);
        memset(longname, 'n', 4999);
        longname[4999] = 0;
        char *j = xasprintf("{\"threads\":[{\"tid\":1,\"frames\":[{\"pc\":1,\"func\":\"%s\"}]}]}", longname);
        assert_int_equal(cd_bt_from_json(j, strlen(j), &r, &err), 0);
        assert_int_equal(strlen(r.threads[0].frames[0].func), CD_NAME_MAX);
        cd_bt_free(&r);
        free(j);
        free(longname);
        /* Not JSON, not an object, nested too deep. */
        const char *bad[] = {"{not json", "[1,2]", "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}", ""};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_int_equal(cd_bt_from_json(bad[i], strlen(bad[i]), &r, &err), -EINVAL);
                assert_non_null(err);
                free(err);
                cd_bt_free(&r);
        }
}

static void test_message_top(void **state)
{
        (void)state;
        const char *msg = "Process 812 (lavinmq) of user 112 dumped core.\n\n"
                          "Stack trace of thread 812:\n"
                          "#0  0x00007f18c6b68df2 pause (libc.so.6 + 0xd3df2)\n"
                          "#1  0x0000563a9d4a31bc fiber_main (lavinmq + 0x11bc)\n"
                          "#2  0x0000563a9d4a31d8 n/a (lavinmq + 0x11d8)\n"
                          "#3  0x0000563a9d4a31e9 main (lavinmq + 0x11e9)\n";
        char *t = cd_message_top(msg, 3);
        assert_string_equal(t, "pause (libc.so.6 + 0xd3df2) <- fiber_main (lavinmq + 0x11bc) <- n/a (lavinmq + 0x11d8)");
        free(t);
        assert_null(cd_message_top("Process 1 (x) of user 0 dumped core.", 3));
        assert_null(cd_message_top("#", 3));
        assert_null(cd_message_top("#0", 3));
        char sb[16];
        assert_string_equal(cd_signal_name(11, sb), "SIGSEGV");
        assert_string_equal(cd_signal_name(6, sb), "SIGABRT");
        assert_string_equal(cd_signal_name(99, sb), "signal 99");
}

/* zstd data of n zero bytes, made with libarchive's raw writer. */
static int zst_zeros(size_t n)
{
        int fd = memfd_create("zst", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        archive_write_add_filter_zstd(a);
        archive_write_set_format_raw(a);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "core");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)n);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        char buf[65536] = {0};
        for (size_t done = 0; done < n; done += sizeof(buf))
                archive_write_data(a, buf, n - done < sizeof(buf) ? n - done : sizeof(buf));
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
        lseek(fd, 0, SEEK_SET);
        return fd;
}

static void test_decompress(void **state)
{
        (void)state;
        int in = zst_zeros(1 << 20), out = memfd_create("out", MFD_CLOEXEC);
        char *err = NULL;
        assert_int_equal(cd_decompress(in, out, 2 << 20, &err), 0);
        assert_true(lseek(out, 0, SEEK_END) == (1 << 20));
        close(in);
        close(out);
        /* Past the cap: refused, and no more than the cap was written. */
        in = zst_zeros(4 << 20);
        out = memfd_create("out", MFD_CLOEXEC);
        assert_int_equal(cd_decompress(in, out, 1 << 20, &err), -EFBIG);
        assert_non_null(strstr(err, "cap"));
        free(err);
        err = NULL;
        assert_true(lseek(out, 0, SEEK_END) <= (1 << 20));
        close(in);
        close(out);
        /* Plain data under a compressed name. */
        in = memfd_create("plain", MFD_CLOEXEC);
        assert_int_equal(write(in, "not compressed at all\n", 22), 22);
        lseek(in, 0, SEEK_SET);
        out = memfd_create("out", MFD_CLOEXEC);
        assert_int_equal(cd_decompress(in, out, 1 << 20, &err), -EINVAL);
        free(err);
        close(in);
        close(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record_fields), cmocka_unit_test(test_core_name),
                cmocka_unit_test(test_core_pattern),  cmocka_unit_test(test_limits),
                cmocka_unit_test(test_json_roundtrip_and_format), cmocka_unit_test(test_json_hostile),
                cmocka_unit_test(test_message_top),   cmocka_unit_test(test_decompress),
        };
        return cmocka_run_group_tests_name("coredump", tests, NULL, NULL);
}
