/* Unit tests: lib/proclocks, the one /proc/locks parser (the evo and mediator
 * collectors each had their own). A real line first — a file this process flock()s,
 * found in the kernel's /proc/locks by its inode and device — then the kernel's other
 * line shapes, what is not a holder, and malformed lines. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "lib/proclocks.h"
#include "lib/util.h"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        struct strbuf b = {0};
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                sb_putn(&b, buf, n);
        fclose(f);
        sb_puts(&b, "");
        return sb_steal(&b);
}

/* This process holds a flock on a temp file: the kernel's own /proc/locks names it. */
static void test_live(void **state)
{
        (void)state;
        char path[] = "/tmp/test_proclocks.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        char *text = slurp("/proc/locks");
        if (!text) {
                close(fd);
                unlink(path);
                skip(); /* no /proc/locks here */
        }
        struct proclock *v;
        size_t n;
        proclocks_held(text, &v, &n);
        assert_null(proclocks_holder(v, n, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev), true));
        free(v);
        free(text);
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
        text = slurp("/proc/locks");
        assert_non_null(text);
        proclocks_held(text, &v, &n);
        const struct proclock *l = proclocks_holder(v, n, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev), true);
        assert_non_null(l);
        assert_int_equal(l->pid, getpid());
        assert_true(l->write);
        assert_string_equal(l->type, "FLOCK");
        /* every line of the real table parses */
        size_t pos = 0, lines = 0;
        char *line;
        while ((line = next_line(text, &pos)))
                if (*line) {
                        struct proclock x;
                        assert_int_equal(proclocks_line(line, &x), 0);
                        lines++;
                }
        assert_true(lines >= 1);
        free(v);
        free(text);
        close(fd);
        unlink(path);
}

static void test_line(void **state)
{
        (void)state;
        struct proclock l;
        assert_int_equal(proclocks_line("1: FLOCK  ADVISORY  WRITE 6183 00:1b:95 0 EOF", &l), 0);
        assert_string_equal(l.type, "FLOCK");
        assert_false(l.waiter);
        assert_true(l.write);
        assert_int_equal(l.pid, 6183);
        assert_int_equal(l.maj, 0);
        assert_int_equal(l.min, 0x1b);
        assert_int_equal(l.ino, 95);
        assert_int_equal(proclocks_line("12: -> FLOCK  ADVISORY  WRITE 7000 00:1b:95 0 EOF", &l), 0);
        assert_true(l.waiter);
        assert_int_equal(l.pid, 7000);
        assert_int_equal(proclocks_line("3: POSIX  ADVISORY  READ 1300 fd:01:1234567 0 EOF", &l), 0);
        assert_string_equal(l.type, "POSIX");
        assert_false(l.write);
        assert_int_equal(l.maj, 0xfd);
        assert_int_equal(l.ino, 1234567);
        assert_int_equal(proclocks_line("4: OFDLCK ADVISORY  WRITE -1 00:05:123 0 EOF", &l), 0);
        assert_int_equal(l.pid, -1);
        assert_int_equal(proclocks_line("5: LEASE  ACTIVE    READ 1234 103:02:99 0 EOF\n", &l), 0);
        assert_int_equal(l.maj, 0x103);
        /* Malformed */
        const char *bad[] = {
                "", "garbage", "1:", "1: FLOCK", "1: FLOCK ADVISORY WRITE", "x: FLOCK ADVISORY WRITE 1 00:1b:95 0 EOF",
                "1: FLOCK ADVISORY WRITE abc 00:1b:95 0 EOF", "1: FLOCK ADVISORY WRITE 1 00:1b 0 EOF",
                "1: FLOCK ADVISORY WRITE 1 zz:1b:95 0 EOF", "1: FLOCK ADVISORY WRITE 1 00:1b:9x 0 EOF",
                "1: FLOCK ADVISORY WRITE 1 00:1b: 0 EOF", "1: FLOCK ADVISORY WRITE 99999999999 00:1b:95 0 EOF",
                "1: FLOCK ADVISORY WRITE 1 00:1b:999999999999999999999999 0 EOF", "1: FLOCKFLOCKFLOCKFLOCK ADVISORY WRITE 1 0:0:1",
                "1: FLOCK ADVISORY WRITE 1 123456789:1b:95 0 EOF", "1: FLOCK ADVISORY WRITE - 00:1b:95 0 EOF",
                "1: FLOCK ADVISORY WRITE -99999999999 00:1b:95 0 EOF",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_int_equal(proclocks_line(bad[i], &l), -EINVAL);
}

/* The holder: waiters and other lock types are not /proc/locks' holders. */
static void test_holder(void **state)
{
        (void)state;
        struct proclock *lk;
        size_t nlk;
        proclocks_held("1: POSIX  ADVISORY  WRITE 9 00:1b:95 0 EOF\n"
                       "2: -> FLOCK  ADVISORY  WRITE 8 00:1b:95 0 EOF\n"
                       "3: FLOCK  ADVISORY  WRITE 4242 00:1b:95 0 EOF\n"
                       "garbage\n"
                       "4: FLOCK  ADVISORY  WRITE 77 08:01:95 0 EOF\n"
                       "5: FLOCK  ADVISORY  WRITE 0 00:1b:96 0 EOF", /* no newline at the end */
                       &lk, &nlk);
        assert_int_equal(nlk, 3);
        const struct proclock *l = proclocks_holder(lk, nlk, 95, 0, 0x1b, true);
        assert_non_null(l);
        assert_int_equal(l->pid, 4242);
        l = proclocks_holder(lk, nlk, 95, 8, 1, true); /* another device: another file */
        assert_int_equal(l->pid, 77);
        assert_null(proclocks_holder(lk, nlk, 95, 9, 9, true));
        assert_non_null(proclocks_holder(lk, nlk, 95, 9, 9, false)); /* --root: devices mean nothing */
        l = proclocks_holder(lk, nlk, 96, 0, 0x1b, false); /* held from another pid namespace */
        assert_non_null(l);
        assert_int_equal(l->pid, 0);
        assert_null(proclocks_holder(lk, nlk, 97, 0, 0x1b, false));
        free(lk);
        proclocks_held(NULL, &lk, &nlk);
        assert_int_equal(nlk, 0);
        assert_null(lk);
        proclocks_held("", &lk, &nlk);
        assert_int_equal(nlk, 0);
        free(lk);
}

/* A table longer than any real one: at most PROCLOCKS_MAX kept. */
static void test_bound(void **state)
{
        (void)state;
        struct strbuf b = {0};
        for (unsigned i = 0; i < PROCLOCKS_MAX + 10; i++)
                sb_printf(&b, "%u: FLOCK ADVISORY WRITE %u 00:1b:%u 0 EOF\n", i + 1, i + 1, i + 1);
        struct proclock *lk;
        size_t nlk;
        proclocks_held(b.s, &lk, &nlk);
        assert_int_equal(nlk, PROCLOCKS_MAX);
        free(lk);
        sb_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_live),
                cmocka_unit_test(test_line),
                cmocka_unit_test(test_holder),
                cmocka_unit_test(test_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
