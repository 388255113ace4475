/* Unit tests: safe unpacking for check --from. Hostile tars are built in memory with
 * libarchive's writer and unpacked into a real temp dir beside a marker directory:
 * each is refused by name, and nothing is created or reachable outside. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "lib/util.h"
#include "report/unpack.h"

static char base[] = "/tmp/test_unpack.XXXXXX";
static char *into;    /* base/into: where each tar is unpacked */
static char *outside; /* base/outside: holds the marker, must stay untouched */

enum kind { REG, DIR_, LNK, HARD, FIFO_, CHR };
struct ent {
        const char *path;
        enum kind kind;
        const char *arg; /* REG: content; LNK/HARD: target */
        int64_t size;    /* REG: declared size when > 0 (content shorter: truncated) */
};

static void *make_tar(const struct ent *e, size_t n, size_t *len)
{
        size_t cap = 1 << 20;
        void *buf = xmalloc(cap);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *x = archive_entry_new();
                archive_entry_set_pathname(x, e[i].path);
                archive_entry_set_perm(x, 0644);
                size_t clen = e[i].kind == REG && e[i].arg ? strlen(e[i].arg) : 0;
                switch (e[i].kind) {
                case REG:
                        archive_entry_set_filetype(x, AE_IFREG);
                        archive_entry_set_size(x, e[i].size > 0 ? e[i].size : (int64_t)clen);
                        break;
                case DIR_: archive_entry_set_filetype(x, AE_IFDIR); break;
                case LNK:
                        archive_entry_set_filetype(x, AE_IFLNK);
                        archive_entry_set_symlink(x, e[i].arg);
                        break;
                case HARD:
                        archive_entry_set_filetype(x, AE_IFREG);
                        archive_entry_set_hardlink(x, e[i].arg);
                        archive_entry_set_size(x, 0);
                        break;
                case FIFO_: archive_entry_set_filetype(x, AE_IFIFO); break;
                case CHR:
                        archive_entry_set_filetype(x, AE_IFCHR);
                        archive_entry_set_rdev(x, makedev(1, 3));
                        break;
                }
                assert_true(archive_write_header(a, x) >= ARCHIVE_WARN);
                if (clen)
                        archive_write_data(a, e[i].arg, clen);
                archive_entry_free(x);
        }
        archive_write_close(a);
        archive_write_free(a);
        return buf;
}

static void reset_into(void)
{
        remove_tree(into);
        assert_int_equal(mkdir(into, 0700), 0);
}

/* Unpacks; returns the error (caller frees) or NULL. */
static char *unpack(const struct ent *e, size_t n, const struct unpack_limits *lim, int *rc)
{
        reset_into();
        size_t len;
        void *tar = make_tar(e, n, &len);
        int d = open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *err = NULL;
        *rc = unpack_buffer(tar, len, d, lim, &err);
        close(d);
        free(tar);
        return err;
}

static void expect_refused(const struct ent *e, size_t n, const char *want)
{
        int rc;
        char *err = unpack(e, n, NULL, &rc);
        if (rc == 0 || !err || !strstr(err, want))
                fail_msg("want a refusal containing: %s\n  got (%d): %s", want, rc, err ? err : "(none)");
        free(err);
        /* Nothing outside changed: the marker is there, alone. */
        struct stat st;
        _cleanup_free_ char *m = xasprintf("%s/marker", outside);
        assert_int_equal(lstat(m, &st), 0);
        assert_int_equal(st.st_size, 7);
        _cleanup_free_ char *cmd = xasprintf("test \"$(ls -A '%s')\" = marker && test \"$(ls -A '%s')\" = \"$(printf 'into\\noutside')\"",
                                             outside, base);
        assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
        (void)state;
        if (!mkdtemp(base))
                return -1;
        into = xasprintf("%s/into", base);
        outside = xasprintf("%s/outside", base);
        mkdir(outside, 0700);
        _cleanup_free_ char *m = xasprintf("%s/marker", outside);
        FILE *f = fopen(m, "w");
        fputs("marker\n", f);
        fclose(f);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        remove_tree(base);
        free(into);
        free(outside);
        return 0;
}

static void test_good(void **state)
{
        (void)state;
        const struct ent e[] = {
                {"./", DIR_, NULL, 0},
                {"b/manifest.json", REG, "{}", 0},
                {"b/host/proc/meminfo", REG, "MemTotal: 1 kB\n", 0},
                {"b//host/././etc/", DIR_, NULL, 0},
                {"b/host/etc/passwd", REG, "root:x:0:0::/root:/bin/sh\n", 0},
                {"b/host/etc/passwd.hard", HARD, "b/host/etc/passwd", 0},
                {"b/host/proc/self", LNK, "1234", 0},
                {"b/host/proc/1234/cwd", LNK, "../../etc", 0}, /* has '..': refused, see below */
        };
        int rc;
        char *err = unpack(e, ARRAY_SIZE(e) - 1, NULL, &rc);
        assert_null(err);
        assert_int_equal(rc, 0);
        _cleanup_free_ char *p = xasprintf("%s/b/host/etc/passwd.hard", into), *l = xasprintf("%s/b/host/proc/self", into);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_nlink, 2);
        char t[64];
        ssize_t n = readlink(l, t, sizeof(t) - 1);
        assert_int_equal(n, 4);
        t[n] = 0;
        assert_string_equal(t, "1234");
        expect_refused(e, ARRAY_SIZE(e), "refusing link 'b/host/proc/1234/cwd' -> '../../etc': a target with a '..' component");
}

static void test_escaping_links(void **state)
{
        (void)state;
        /* The review's reproducers: each one, after the '/' counting of old, pointed
         * out of the temp dir (into 'outside' here, the real /etc there). */
        const struct ent dots[] = {{"b/manifest.json", REG, "{}", 0}, {"b/host/./././etc", LNK, "../../../../outside", 0}};
        expect_refused(dots, 2, "refusing link 'b/host/./././etc' -> '../../../../outside'");
        const struct ent slashes[] = {{"b/manifest.json", REG, "{}", 0}, {"b//host////etc", LNK, "../../../outside", 0}};
        expect_refused(slashes, 2, "refusing link 'b//host////etc' -> '../../../outside'");
        const struct ent chain[] = {
                {"b/manifest.json", REG, "{}", 0}, {"b/host/up", LNK, "..", 0},       {"b/host/up2", LNK, "up/..", 0},
                {"b/host/up3", LNK, "up2/..", 0},  {"b/host/etc", LNK, "up3/outside", 0},
        };
        expect_refused(chain, ARRAY_SIZE(chain), "refusing link 'b/host/up' -> '..'");
        const struct ent abs[] = {{"b/host/etc", LNK, "/etc", 0}};
        expect_refused(abs, 1, "refusing link 'b/host/etc' -> '/etc': an absolute target leaves the bundle");
        const struct ent stdin_link[] = {{"b/host/proc/sys/kernel/hostname", LNK, "/dev/stdin", 0}};
        expect_refused(stdin_link, 1, "-> '/dev/stdin'");
        const struct ent empty[] = {{"b/host/x", LNK, "", 0}};
        expect_refused(empty, 1, "refusing link 'b/host/x' -> '': no target");
}

static void test_bad_entries(void **state)
{
        (void)state;
        const struct ent dotdot[] = {{"b/../../outside/evil", REG, "x", 0}};
        expect_refused(dotdot, 1, "refusing entry 'b/../../outside/evil': a '..' component in its path");
        const struct ent absolute[] = {{"/tmp/evil", REG, "x", 0}};
        expect_refused(absolute, 1, "refusing entry '/tmp/evil': an absolute path");
        const struct ent fifo[] = {{"b/host/proc/meminfo", FIFO_, NULL, 0}};
        expect_refused(fifo, 1, "refusing entry 'b/host/proc/meminfo': a FIFO does not belong in a bundle");
        const struct ent chr[] = {{"b/host/dev/null", CHR, NULL, 0}};
        expect_refused(chr, 1, "refusing entry 'b/host/dev/null': a character device does not belong in a bundle");
        const struct ent hard_abs[] = {{"b/host/etc/shadow", HARD, "/etc/shadow", 0}};
        expect_refused(hard_abs, 1, "refusing hard link 'b/host/etc/shadow' -> '/etc/shadow': an absolute path");
        const struct ent hard_up[] = {{"b/host/etc/shadow", HARD, "../outside/marker", 0}};
        expect_refused(hard_up, 1, "refusing hard link 'b/host/etc/shadow' -> '../outside/marker'");
        const struct ent hard_dir[] = {{"b/host/etc/", DIR_, NULL, 0}, {"b/host/x", HARD, "b/host/etc", 0}};
        expect_refused(hard_dir, 2, "its target is not a file unpacked before it");
        /* Writing through a link, even one that points inside. */
        const struct ent through[] = {{"b/host/sub/", DIR_, NULL, 0}, {"b/host/etc", LNK, "sub", 0}, {"b/host/etc/passwd", REG, "x", 0}};
        expect_refused(through, 3, "refusing entry 'b/host/etc/passwd': a link or a file is on its way");
        const struct ent file_dir[] = {{"b/host", REG, "x", 0}, {"b/host/etc", REG, "x", 0}};
        expect_refused(file_dir, 2, "refusing entry 'b/host/etc': a link or a file is on its way");
        const struct ent twice[] = {{"b/x", REG, "one", 0}, {"b/x", REG, "two", 0}};
        expect_refused(twice, 2, "refusing entry 'b/x': it is in the bundle twice");
        const struct ent link_over[] = {{"b/x", LNK, "y", 0}, {"b/x/", DIR_, NULL, 0}};
        expect_refused(link_over, 2, "refusing entry 'b/x/': it is in the bundle twice");
        const struct ent esc[] = {{"b/\x1b[2Jx", FIFO_, NULL, 0}};
        expect_refused(esc, 1, "refusing entry 'b/\\e[2Jx'");
        char longname[300];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        const struct ent toolong[] = {{longname, REG, "x", 0}};
        expect_refused(toolong, 1, "a name longer than 255 bytes");
        const struct ent top[] = {{".", REG, "x", 0}};
        expect_refused(top, 1, "it names the top directory");
}

static void test_budgets(void **state)
{
        (void)state;
        const struct ent e[] = {{"b/a", REG, "0123456789", 0}, {"b/b", REG, "0123456789", 0}, {"b/c", REG, "0123456789", 0}};
        int rc;
        struct unpack_limits two = {.max_bytes = 1 << 20, .max_entries = 2};
        char *err = unpack(e, 3, &two, &rc);
        assert_int_equal(rc, -EFBIG);
        assert_string_equal(err, "refusing the bundle: more than 2 entries");
        free(err);
        struct unpack_limits small = {.max_bytes = 25, .max_entries = 100};
        err = unpack(e, 3, &small, &rc);
        assert_int_equal(rc, -EFBIG);
        assert_string_equal(err, "refusing entry 'b/c': its 10 bytes exceed what is left of the 0 MiB unpack budget");
        free(err);
        /* The default is the bundle's own limit, 512 MiB: a header that declares more
         * is refused before a byte is written. */
        const struct ent big[] = {{"b/host/big", REG, "x", (int64_t)(UNPACK_MAX_BYTES + 1)}};
        err = unpack(big, 1, NULL, &rc);
        assert_int_equal(rc, -EFBIG);
        assert_non_null(strstr(err, "refusing entry 'b/host/big': its 536870913 bytes exceed what is left of the 512 MiB"));
        free(err);
        /* An archive cut short in the middle of a file: said so, never judged. */
        char content[8192];
        memset(content, 'x', sizeof(content) - 1);
        content[sizeof(content) - 1] = 0;
        const struct ent cut[] = {{"b/host/cut", REG, content, 0}};
        size_t len;
        void *tar = make_tar(cut, 1, &len);
        reset_into();
        int dd = open(into, O_RDONLY | O_DIRECTORY);
        assert_true(unpack_buffer(tar, 2048, dd, NULL, &err) < 0);
        assert_non_null(strstr(err, "'b/host/cut' is truncated or corrupt"));
        free(err);
        free(tar);
        close(dd);
        /* Garbage is not a bundle. */
        reset_into();
        int d = open(into, O_RDONLY | O_DIRECTORY);
        assert_int_equal(unpack_buffer("not a tar at all, not at all", 28, d, NULL, &err), -EINVAL);
        assert_non_null(strstr(err, "not a bundle"));
        free(err);
        close(d);
}

static void test_link_rule(void **state)
{
        (void)state;
        assert_true(unpack_link_target_ok("1234"));
        assert_true(unpack_link_target_ok("a/b/c"));
        assert_true(unpack_link_target_ok("a..b"));
        assert_true(unpack_link_target_ok("./x"));
        assert_false(unpack_link_target_ok(".."));
        assert_false(unpack_link_target_ok("a/../b"));
        assert_false(unpack_link_target_ok("a/.."));
        assert_false(unpack_link_target_ok("/etc"));
        assert_false(unpack_link_target_ok(""));
        assert_false(unpack_link_target_ok(NULL));
}

static void test_open_beneath(void **state)
{
        (void)state;
        reset_into();
        _cleanup_free_ char *cmd = xasprintf("cd '%s' && mkdir -p b/host/proc && echo x > b/host/proc/meminfo && ln -s meminfo b/host/proc/m2"
                                             " && ln -s ../../../outside b/host/etc",
                                             into);
        assert_int_equal(system(cmd), 0);
        int d = open(into, O_RDONLY | O_DIRECTORY);
        /* Never through a link, never out. */
        assert_int_equal(unpack_open_beneath(d, "b/host/proc/m2", O_RDONLY), -ELOOP);
        assert_int_equal(unpack_open_beneath(d, "b/host/etc/marker", O_RDONLY), -ELOOP);
        int fd = unpack_open_beneath(d, "b/../../outside/marker", O_RDONLY);
        assert_true(fd == -EXDEV || fd == -EPERM);
        fd = unpack_open_beneath(d, "b/host/proc/meminfo", O_RDONLY);
        assert_true(fd >= 0);
        close(fd);
        close(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),       cmocka_unit_test(test_escaping_links), cmocka_unit_test(test_bad_entries),
                cmocka_unit_test(test_budgets),    cmocka_unit_test(test_link_rule),      cmocka_unit_test(test_open_beneath),
        };
        return cmocka_run_group_tests_name("unpack", tests, setup, teardown);
}
