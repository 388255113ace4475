/* Unit tests: lib/procmaps, the one /proc/PID/maps line parser (shm and evo each had
 * their own). Real lines first — this process's own /proc/self/maps with a file it
 * maps at a known offset, before and after it is unlinked — then the bounds. */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "lib/procmaps.h"
#include "lib/util.h"

/* Every line of /proc/self/maps parses; the one naming `path` is copied to *out (its
 * path pointing into *text, which the caller frees). Returns how many name it. */
static int self_maps(const char *path, struct procmaps_entry *out, char **text)
{
        FILE *f = fopen("/proc/self/maps", "r");
        assert_non_null(f);
        struct strbuf all = {0};
        char line[4096];
        while (fgets(line, sizeof(line), f))
                sb_puts(&all, line);
        fclose(f);
        *text = sb_steal(&all);
        int found = 0;
        size_t pos = 0;
        char *l;
        while ((l = next_line(*text, &pos))) {
                struct procmaps_entry e;
                if (procmaps_parse(l, &e) < 0)
                        fail_msg("a line of /proc/self/maps does not parse: %s", l);
                assert_true(e.start < e.end);
                if (e.path_len == strlen(path) && !memcmp(e.path, path, e.path_len)) {
                        *out = e;
                        found++;
                }
        }
        return found;
}

static void test_self(void **state)
{
        (void)state;
        char dir[] = "/tmp/evodiag-unit-procmaps.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof(path), "%s/seg a b", dir); /* blanks stay part of the path */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 8192), 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        /* The second page, shared and writable: offset 0x1000, perms rw-s. */
        uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
        assert_true(p != MAP_FAILED);
        close(fd);

        struct procmaps_entry e;
        char *text;
        assert_int_equal(self_maps(path, &e, &text), 1);
        assert_int_equal(e.start, (uint64_t)(uintptr_t)p);
        assert_int_equal(e.end, (uint64_t)(uintptr_t)p + 4096);
        assert_string_equal(e.perms, "rw-s");
        assert_int_equal(e.offset, 4096);
        assert_int_equal(e.inode, (uint64_t)st.st_ino);
        assert_int_equal(e.maj, major(st.st_dev));
        assert_int_equal(e.min, minor(st.st_dev));
        assert_false(e.deleted);
        const char *name;
        size_t len;
        assert_true(procmaps_in_dir(&e, dir, &name, &len));
        assert_int_equal(len, strlen("seg a b"));
        assert_memory_equal(name, "seg a b", len);
        free(text);

        /* Unlinked while mapped: the kernel appends " (deleted)", the path stays the same. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(self_maps(path, &e, &text), 1);
        assert_true(e.deleted);
        assert_int_equal(e.inode, (uint64_t)st.st_ino);
        free(text);
        munmap(p, 4096);
        assert_int_equal(rmdir(dir), 0);
}

static void test_lines(void **state)
{
        (void)state;
        struct procmaps_entry e;
        assert_int_equal(procmaps_parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", &e), 0);
        assert_int_equal(e.start, UINT64_C(0xffffffffff600000));
        assert_string_equal(e.perms, "--xp");
        assert_int_equal(e.path_len, strlen("[vsyscall]"));
        /* Anonymous memory: no path at all, or only blanks after the inode. */
        assert_int_equal(procmaps_parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0", &e), 0);
        assert_int_equal(e.path_len, 0);
        assert_string_equal(e.path, "");
        assert_int_equal(procmaps_parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0   \n", &e), 0);
        assert_int_equal(e.path_len, 0);
        /* The largest numbers each field can hold. */
        assert_int_equal(procmaps_parse("0-ffffffffffffffff r--s ffffffffffffffff ffffffff:ffffffff 18446744073709551615 /x", &e), 0);
        assert_int_equal(e.end, UINT64_MAX);
        assert_int_equal(e.offset, UINT64_MAX);
        assert_int_equal(e.maj, 0xffffffffu);
        assert_int_equal(e.inode, UINT64_MAX);
        /* SysV segments: the kernel's own name, " (deleted)" stripped. */
        assert_int_equal(procmaps_parse("7efe5e4b9000-7efe5e4ba000 rw-s 00000000 00:01 32769   /SYSV0000162e (deleted)", &e), 0);
        assert_true(e.deleted);
        assert_int_equal(e.path_len, 13);
        assert_int_equal(e.inode, 32769);

        const char *bad[] = {
                "", "garbage", "\x01\x02\x03 \xff", "1-2 rw-s 0 00:1b",                /* too few fields */
                "12 rw-s 0 00:1b 1 /a", "-2 rw-s 0 00:1b 1 /a", "1- rw-s 0 00:1b 1 /a", /* no range */
                "1-xyz rw-s 0 00:1b 1 /a", "10000000000000000-2 rw-s 0 00:1b 1 /a",     /* 17 hex digits */
                "1-2 rw-sx 0 00:1b 1 /a", "1-2 rw- 0 00:1b 1 /a", "1-2 rwxq 0 00:1b 1 /a", /* perms */
                "1-2 wr-s 0 00:1b 1 /a", "1-2 rw-s 0g 00:1b 1 /a", "1-2 rw-s 10000000000000000 00:1b 1 /a",
                "1-2 rw-s 0 001b 1 /a", "1-2 rw-s 0 :1b 1 /a", "1-2 rw-s 0 00: 1 /a",    /* device */
                "1-2 rw-s 0 100000000:1b 1 /a", "1-2 rw-s 0 00:1b 1x /a", "1-2 rw-s 0 00:1b -5 /a",
                "1-2 rw-s 0 00:1b 18446744073709551616 /a",                              /* 2^64 */
                "1-2 rw-s 0 00:1b 99999999999999999999999 /a",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                e.inode = 42;
                if (procmaps_parse(bad[i], &e) != -EINVAL)
                        fail_msg("accepted: '%s'", bad[i]);
        }
}

static void test_in_dir(void **state)
{
        (void)state;
        struct procmaps_entry e;
        const char *name;
        size_t len;
        static const struct {
                const char *line, *name;
        } cases[] = {
                {"1-2 rw-s 0 00:1b 1 /dev/shm/seg", "seg"},
                {"1-2 rw-s 0 00:1b 1 /dev/shm/a b (deleted)", "a b"},
                {"1-2 rw-s 0 00:1b 1 /dev/shm/vgpu/command.txt", NULL}, /* a subdirectory */
                {"1-2 rw-s 0 00:1b 1 /dev/shmx/a", NULL},
                {"1-2 rw-s 0 00:1b 1 /dev/shm/", NULL},
                {"1-2 rw-s 0 00:1b 1 /dev/shm", NULL},
                {"1-2 rw-s 0 00:1b 1 /run/shm/seg", NULL},
                {"1-2 rw-p 0 00:00 0", NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                assert_int_equal(procmaps_parse(cases[i].line, &e), 0);
                bool in = procmaps_in_dir(&e, "/dev/shm", &name, &len);
                if (in != (cases[i].name != NULL) || (in && (len != strlen(cases[i].name) || memcmp(name, cases[i].name, len))))
                        fail_msg("procmaps_in_dir wrong for '%s'", cases[i].line);
        }
}

/* What a bundle keeps of a process's maps: whole when a line tells who maps shared
 * memory, else only the line count. */
static void test_maps_shm(void **state)
{
        (void)state;
        long n = -1;
        static const char plain[] =
                "55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234                       /usr/bin/sleep\n"
                "7f3a00000000-7f3a00010000 r--s 00000000 fd:01 99                         /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\n"
                "7ffd1c1f0000-7ffd1c211000 rw-p 00000000 00:00 0                          [stack]";
        assert_false(procmaps_text_maps_shm(plain, strlen(plain), NULL, &n));
        assert_int_equal(n, 3); /* the last line has no newline: counted, as rootfs_count_lines does */
        assert_false(procmaps_text_maps_shm("", 0, NULL, &n));
        assert_int_equal(n, 0);
        static const char *const kept[] = {
                "7f3a00000000-7f3a00001000 r--s 00000000 00:1b 97                         /dev/shm/evo_hal_cu\n",
                "7f3a00000000-7f3a00001000 rw-p 00000000 00:1b 97                         /dev/shm/x (deleted)\n",
                "7f3a00000000-7f3a00010000 rw-s 00000000 00:01 5                          /SYSV45454548 (deleted)\n",
                "7f3a00000000-7f3a00010000 rw-s 00000000 00:01 5                          /run/shm/old\n",
                "7f3a00000000-7f3a00010000 rw-q 00000000 00:01 5                          /weird\n", /* not the format */
                "garbage\n",
        };
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
                char *t = NULL;
                assert_true(asprintf(&t, "%s\n%s", plain, kept[i]) > 0);
                assert_true(procmaps_text_maps_shm(t, strlen(t), NULL, &n));
                assert_int_equal(n, 4);
                free(t);
        }
        /* /dev/shm a link elsewhere: a path under its target counts too. */
        static const char ram[] = "7f3a00000000-7f3a00001000 rw-s 00000000 00:1b 97                         /mnt/ram/seg\n";
        assert_false(procmaps_text_maps_shm(ram, strlen(ram), NULL, &n));
        assert_true(procmaps_text_maps_shm(ram, strlen(ram), "/mnt/ram", &n));
        assert_int_equal(n, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_self),
                cmocka_unit_test(test_lines),
                cmocka_unit_test(test_in_dir),
                cmocka_unit_test(test_maps_shm),
        };
        return cmocka_run_group_tests_name("procmaps", tests, NULL, NULL);
}
