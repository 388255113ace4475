/* Unit tests: lib/journal.c, the shared sd-journal reader, on real journal files built
 * here from tests/fixtures/journal/host.export with systemd-journal-remote: opening by
 * file, directory and root, the window found by seeking, index matches, bounds, fields
 * copied out safely, cursors, and empty, corrupt, truncated and non-regular files. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "lib/journal.h"
#include "lib/rootfs.h"
#include "lib/util.h"

static char tmp[256];
static char good[300];
static uint64_t now_us;

static void run(const char *fmt, ...) PRINTF(1, 2);
static void run(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = xvasprintf(fmt, ap);
        va_end(ap);
        int r = system(c);
        if (r != 0)
                fail_msg("command failed (%d): %s", r, c);
}

static int setup(void **state)
{
        (void)state;
        const char *src = getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : EVODIAG_SRCDIR;
        snprintf(tmp, sizeof(tmp), "%s/evodiag-tj.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmp))
                return -1;
        snprintf(good, sizeof(good), "%s/good.journal", tmp);
        now_us = now_ms_realtime() * 1000;
        run("sh '%s/tests/helpers/mkjournal.sh' '%s/tests/fixtures/journal/host.export' '%s' %llu", src, src, good,
            (unsigned long long)now_us);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        run("rm -rf '%s'", tmp);
        return 0;
}

static struct journal *open_files(const char *a, const char *b)
{
        const char *files[] = {a, b, NULL};
        struct journal *j = NULL;
        assert_int_equal(journal_open(&(struct journal_opts){.files = files}, &j), 0);
        assert_non_null(j);
        return j;
}

static unsigned count(struct journal *j, const struct journal_window *w)
{
        assert_int_equal(journal_seek(j, w), 0);
        unsigned n = 0;
        int r;
        while ((r = journal_next(j)) > 0)
                n++;
        assert_int_equal(r, 0);
        return n;
}

static void test_window(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        assert_true(journal_usable(j));
        assert_int_equal(journal_bad_files(j), 0);
        size_t n;
        const struct journal_file *f = journal_files(j, &n);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, good);
        assert_true(journal_usage(j) > 0);
        /* All 17; the last hour leaves the one at -2 h out. */
        assert_int_equal(count(j, NULL), 17);
        assert_int_equal(journal_stopped(j), JOURNAL_END);
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 16);
        /* --until: the first three (at -7200, -3000, -2900 s) */
        assert_int_equal(count(j, &(struct journal_window){.until_us = now_us - 2850ull * 1000000}), 3);
        assert_int_equal(journal_stopped(j), JOURNAL_UNTIL);
        assert_false(journal_cut(j));
        /* Bounds: entries, and bytes of the fields read. */
        assert_int_equal(count(j, &(struct journal_window){.max_entries = 5}), 5);
        assert_int_equal(journal_stopped(j), JOURNAL_ENTRIES);
        assert_true(journal_cut(j));
        assert_int_equal(journal_seek(j, &(struct journal_window){.max_bytes = 100}), 0);
        unsigned k = 0;
        while (journal_next(j) > 0) {
                _cleanup_free_ char *m = journal_field_dup(j, "MESSAGE");
                assert_non_null(m);
                k++;
        }
        assert_true(k >= 1 && k < 5);
        assert_int_equal(journal_stopped(j), JOURNAL_BYTES);
        assert_true(journal_bytes_read(j) >= 100);
        /* A deadline in the past stops at once. */
        assert_int_equal(count(j, &(struct journal_window){.deadline_ms = 1}), 0);
        assert_int_equal(journal_stopped(j), JOURNAL_DEADLINE);
        assert_string_equal(journal_stop_str(JOURNAL_BYTES), "byte bound hit");
}

static void test_matches(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        /* error priority of lavinmq.service, in the last hour: 3 (2 err, 1 crit) */
        assert_int_equal(journal_match(j, "_SYSTEMD_UNIT", "lavinmq.service"), 0);
        for (int p = 0; p <= 3; p++) {
                char v[4];
                snprintf(v, sizeof(v), "%d", p);
                assert_int_equal(journal_match(j, "PRIORITY", v), 0);
        }
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 3);
        /* OR: kernel entries as well. */
        assert_int_equal(journal_or(j), 0);
        assert_int_equal(journal_match(j, "_TRANSPORT", "kernel"), 0);
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 3 + 10);
        journal_match_clear(j);
        assert_int_equal(count(j, NULL), 17);
        /* Field names are checked; values bounded. */
        assert_int_equal(journal_match(j, "bad=name", "x"), -EINVAL);
        assert_int_equal(journal_match(j, "", "x"), -EINVAL);
        assert_int_equal(journal_match(j, "9X", "x"), -EINVAL);
        char big[5000];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(journal_match(j, "MESSAGE", big), -EINVAL);
}

static int count_fields(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
        (void)val;
        (void)vlen;
        assert_true(nlen > 0 && name[0] != '=');
        (*(unsigned *)arg)++;
        return 0;
}

static void test_fields_cursors(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        assert_int_equal(journal_seek(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 0);
        assert_int_equal(journal_next(j), 1);
        uint64_t t = journal_realtime_us(j);
        assert_int_equal(t, now_us - 3000ull * 1000000);
        char buf[64];
        bool cut;
        /* The value only, NUL-terminated: not "MESSAGE=..." */
        assert_int_equal(journal_field(j, "MESSAGE", buf, sizeof(buf), &cut), strlen("Max mmap count: 65530"));
        assert_string_equal(buf, "Max mmap count: 65530");
        assert_false(cut);
        assert_int_equal(journal_field(j, "MESSAGE", buf, 4, &cut), 3);
        assert_string_equal(buf, "Max");
        assert_true(cut);
        assert_int_equal(journal_field(j, "NO_SUCH_FIELD", buf, sizeof(buf), &cut), -ENOENT);
        assert_int_equal(journal_field(j, "bad name", buf, sizeof(buf), &cut), -EINVAL);
        assert_null(journal_field_dup(j, "NO_SUCH_FIELD"));
        uint64_t pid;
        assert_int_equal(journal_field_u64(j, "_PID", &pid), 0);
        assert_int_equal(pid, 812);
        assert_int_equal(journal_field_u64(j, "MESSAGE", &pid), -EINVAL);
        unsigned nf = 0;
        assert_int_equal(journal_fields(j, count_fields, &nf), 0);
        assert_true(nf >= 6);
        _cleanup_free_ char *c1 = journal_cursor(j);
        assert_non_null(c1);
        assert_true(startswith(c1, "s="));
        assert_int_equal(journal_next(j), 1);
        _cleanup_free_ char *m2 = journal_field_dup(j, "MESSAGE");
        assert_true(startswith(m2, "Unhandled exception in spawn"));
        /* After the cursor of the first: the second again. */
        assert_int_equal(journal_seek_after_cursor(j, c1), 0);
        assert_int_equal(journal_next(j), 1);
        _cleanup_free_ char *m3 = journal_field_dup(j, "MESSAGE");
        assert_string_equal(m2, m3);
        /* The end: nothing follows until the file grows. */
        assert_int_equal(journal_seek_end(j), 0);
        assert_int_equal(journal_next(j), 0);
        assert_true(journal_watch_fd(j) < 0); /* opened by fd: callers poll at their interval */
}

static void write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void test_bad_files(void **state)
{
        (void)state;
        char empty[300], corrupt[300], cut[300], fifo[300];
        snprintf(empty, sizeof(empty), "%s/empty.journal", tmp);
        snprintf(corrupt, sizeof(corrupt), "%s/corrupt.journal", tmp);
        snprintf(cut, sizeof(cut), "%s/cut.journal", tmp);
        snprintf(fifo, sizeof(fifo), "%s/fifo.journal", tmp);
        write_file(empty, "", 0);
        char junk[8192];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char)(i * 131 + 7);
        memcpy(junk, "LPKSHHRH", 8); /* the journal's magic, then garbage */
        write_file(corrupt, junk, sizeof(junk));
        run("head -c 4096 '%s' > '%s'", good, cut);
        assert_int_equal(mkfifo(fifo, 0644), 0);

        /* Alone, an empty file is no journal. */
        {
                _cleanup_journal_ struct journal *j = open_files(empty, NULL);
                assert_false(journal_usable(j));
                assert_int_equal(journal_bad_files(j), 1);
                size_t n;
                assert_int_equal(journal_files(j, &n)[0].error, -ENODATA);
                assert_int_equal(journal_next(j), 0);
        }
        /* A corrupt file next to a good one: named, and the good one still read. */
        {
                _cleanup_journal_ struct journal *j = open_files(corrupt, good);
                assert_true(journal_usable(j));
                assert_int_equal(journal_bad_files(j), 1);
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 2);
                assert_string_equal(f[0].path, corrupt);
                assert_true(f[0].error < 0);
                assert_int_equal(f[1].error, 0);
                assert_int_equal(count(j, NULL), 17);
        }
        /* A directory: the truncated and the FIFO named (never a hang), the rest read. */
        {
                const char *dirs[] = {tmp, NULL};
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(&(struct journal_opts){.dirs = dirs}, &j), 0);
                assert_true(journal_usable(j));
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 5);
                int bad_cut = 1, bad_fifo = 1;
                for (size_t i = 0; i < n; i++) {
                        if (streq(f[i].path, cut))
                                bad_cut = f[i].error;
                        if (streq(f[i].path, fifo))
                                bad_fifo = f[i].error;
                }
                assert_true(bad_cut < 0);
                assert_int_equal(bad_fifo, -ROOTFS_ENOTREG);
                assert_int_equal(journal_bad_files(j), 4);
                assert_int_equal(count(j, NULL), 17);
        }
        unlink(empty);
        unlink(corrupt);
        unlink(cut);
        unlink(fifo);
}

static void test_root(void **state)
{
        (void)state;
        char root[300];
        snprintf(root, sizeof(root), "%s/root", tmp);
        run("mkdir -p '%s/var/log/journal/0123456789abcdef0123456789abcdef' '%s/run/log/journal' && "
            "cp '%s' '%s/var/log/journal/0123456789abcdef0123456789abcdef/system.journal' && "
            "ln -s '%s' '%s/run/log/journal/escape.journal'",
            root, root, good, root, good, root);
        assert_int_equal(rootfs_set(root), 0);
        {
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(NULL, &j), 0);
                assert_true(journal_usable(j));
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 2);
                assert_string_equal(f[0].path, "/var/log/journal/0123456789abcdef0123456789abcdef/system.journal");
                assert_int_equal(f[0].error, 0);
                /* A link is not followed out of the root. */
                assert_string_equal(f[1].path, "/run/log/journal/escape.journal");
                assert_true(f[1].error < 0);
                assert_int_equal(count(j, NULL), 17);
                assert_non_null(strstr(journal_origin(j), "under the root"));
        }
        /* A root without journals: nothing found, nothing usable. */
        char bare[300];
        snprintf(bare, sizeof(bare), "%s/bare", tmp);
        run("mkdir -p '%s'", bare);
        assert_int_equal(rootfs_set(bare), 0);
        {
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(NULL, &j), 0);
                assert_false(journal_usable(j));
                size_t n;
                journal_files(j, &n);
                assert_int_equal(n, 0);
                assert_int_equal(journal_seek(j, NULL), -ENODEV);
                assert_int_equal(journal_next(j), 0);
        }
        assert_int_equal(rootfs_set("/"), 0);
        /* Bad options. */
        const char *nodir[] = {"", NULL};
        struct journal *j = (struct journal *)1;
        assert_int_equal(journal_open(&(struct journal_opts){.dirs = nodir}, &j), -EINVAL);
        assert_null(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_window),
                cmocka_unit_test(test_matches),
                cmocka_unit_test(test_fields_cursors),
                cmocka_unit_test(test_bad_files),
                cmocka_unit_test(test_root),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
