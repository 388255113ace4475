/* Unit tests of the shm collector: /proc/mounts and /proc/PID/maps parsing, the
 * verdicts (limits, orphans, modes, tmpfs), passwd lookups, malformed input. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>

#include "collectors/shm.h"
#include "lib/procfs.h"

static void test_mount_parse(void **state)
{
        (void)state;
        struct shm_mount m;
        assert_int_equal(shm_mount_parse("tmpfs /dev/shm tmpfs rw,nosuid,nodev,size=24684096k 0 0", &m), 0);
        assert_string_equal(m.src, "tmpfs");
        assert_string_equal(m.dir, "/dev/shm");
        assert_string_equal(m.type, "tmpfs");
        assert_string_equal(m.opts, "rw,nosuid,nodev,size=24684096k");
        shm_mount_free(&m);
        assert_null(m.dir);

        /* The kernel escapes blanks and backslashes in paths as octal. */
        assert_int_equal(shm_mount_parse("/dev/sda1 /mnt/my\\040disk\\134x ext4 rw 0 0", &m), 0);
        assert_string_equal(m.dir, "/mnt/my disk\\x");
        shm_mount_free(&m);
        /* A backslash not followed by three octal digits stays as it is. */
        assert_int_equal(shm_mount_parse("a /x\\9 t o", &m), 0);
        assert_string_equal(m.dir, "/x\\9");
        shm_mount_free(&m);
        assert_int_equal(shm_mount_parse("a /x\\04 t o", &m), 0);
        assert_string_equal(m.dir, "/x\\04");
        shm_mount_free(&m);
        /* Tabs and no dump/pass fields are fine: four fields are what we need. */
        assert_int_equal(shm_mount_parse("shm\t/dev/shm\ttmpfs\trw", &m), 0);
        assert_string_equal(m.opts, "rw");
        shm_mount_free(&m);

        assert_int_equal(shm_mount_parse("", &m), -EINVAL);
        assert_int_equal(shm_mount_parse("tmpfs /dev/shm tmpfs", &m), -EINVAL);
        assert_int_equal(shm_mount_parse("   \n", &m), -EINVAL);
        assert_null(m.src);
}

static void test_mounts_find(void **state)
{
        (void)state;
        const char *text = "sysfs /sys sysfs rw 0 0\n"
                           "garbage\n"
                           "tmpfs /dev/shm tmpfs rw,size=100k 0 0\n"
                           "\n"
                           "tmpfs /dev/shmx tmpfs rw 0 0\n"
                           "none /dev/shm ramfs rw 0 0\n"
                           "tmpfs /run tmpfs rw 0 0";
        struct shm_mount m;
        size_t bad;
        /* A later mount on the same directory hides the earlier one. */
        assert_int_equal(shm_mounts_find(text, "/dev/shm", &m, &bad), 0);
        assert_string_equal(m.type, "ramfs");
        assert_int_equal(bad, 1);
        shm_mount_free(&m);
        assert_int_equal(shm_mounts_find(text, "/run", &m, &bad), 0);
        assert_string_equal(m.type, "tmpfs");
        shm_mount_free(&m);
        assert_int_equal(shm_mounts_find(text, "/run/shm", &m, &bad), -ENOENT);
        assert_null(m.type);
        assert_int_equal(shm_mounts_find("", "/dev/shm", &m, &bad), -ENOENT);
        assert_int_equal(bad, 0);
        assert_int_equal(shm_mounts_find("\x01\x02\xff binary\n", "/dev/shm", &m, &bad), -ENOENT);
        assert_int_equal(bad, 1);
}

static void test_mount_opt(void **state)
{
        (void)state;
        char *v;
        assert_true(shm_mount_opt("rw,relatime,size=24684096k", "size", &v));
        assert_string_equal(v, "24684096k");
        free(v);
        assert_true(shm_mount_opt("rw,size=", "size", &v));
        assert_string_equal(v, "");
        free(v);
        assert_true(shm_mount_opt("ro,nosuid", "ro", &v));
        assert_null(v);
        assert_true(shm_mount_opt("nosuid,ro", "ro", NULL));
        /* "ro" must be a whole option, not the start of one. */
        assert_false(shm_mount_opt("rw,rootcontext=x,romode", "ro", NULL));
        assert_false(shm_mount_opt("rw", "size", &v));
        assert_null(v);
        assert_false(shm_mount_opt("", "ro", NULL));
        assert_false(shm_mount_opt(",,,", "ro", NULL));
}

static void test_mount_sev(void **state)
{
        (void)state;
        const char *why;
        struct shm_mount m = {"tmpfs", "/dev/shm", "tmpfs", "rw,nosuid,nodev"};
        assert_int_equal(shm_mount_sev(&m, &why), SEV_OK);
        assert_int_equal(shm_mount_sev(NULL, &why), SEV_CRIT);
        assert_string_equal(why, "nothing is mounted on it");
        m.opts = "ro,nosuid";
        assert_int_equal(shm_mount_sev(&m, &why), SEV_CRIT);
        m.opts = "rw";
        m.type = "ext4";
        assert_int_equal(shm_mount_sev(&m, &why), SEV_CRIT);
        m.type = "ramfs";
        assert_int_equal(shm_mount_sev(&m, &why), SEV_WARN);
}

static void test_maps_line(void **state)
{
        (void)state;
        struct shm_map_ref r;
        assert_int_equal(shm_maps_line("7f34858d4000-7f34858d6000 rw-s 00000000 00:1b 54                         "
                                       "/dev/shm/evodiag-x",
                                       "/dev/shm", &r),
                         SHM_MAP_POSIX);
        assert_int_equal(r.name_len, 9);
        assert_memory_equal(r.name, "evodiag-x", 9);
        assert_int_equal(r.inode, 54);
        assert_false(r.deleted);

        /* Unlinked while mapped; a name with a blank in it. */
        assert_int_equal(shm_maps_line("7f00-7f01 r--s 00001000 00:1b 99 /dev/shm/evo a (deleted)\n", "/dev/shm", &r),
                         SHM_MAP_POSIX);
        assert_true(r.deleted);
        assert_int_equal(r.name_len, 5);
        assert_memory_equal(r.name, "evo a", 5);
        assert_int_equal(r.inode, 99);

        /* SysV: /SYSV<key>, the inode is the shmid. */
        assert_int_equal(shm_maps_line("7efe5e4b9000-7efe5e4ba000 rw-s 00000000 00:01 32769                      "
                                       "/SYSV00004242 (deleted)",
                                       "/dev/shm", &r),
                         SHM_MAP_SYSV);
        assert_int_equal(r.inode, 32769);
        assert_int_equal(r.sysv_key, 0x4242);
        assert_true(r.deleted);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:01 7 /SYSVdeadBEEF (deleted)", "/dev/shm", &r), SHM_MAP_SYSV);
        assert_int_equal(r.sysv_key, 0xdeadbeef);

        /* /dev/shm behind a symlink: the kernel shows the real directory. */
        assert_int_equal(shm_maps_line("1000-2000 rw-s 0 00:1b 5 /run/shm/seg", "/run/shm", &r), SHM_MAP_POSIX);
        assert_int_equal(shm_maps_line("1000-2000 rw-s 0 00:1b 5 /run/shm/seg", "/dev/shm", &r), SHM_MAP_OTHER);

        /* Not shared memory. */
        assert_int_equal(shm_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0   [stack]", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 r--p 0 fe:00 1 /usr/lib/libc.so.6", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 1 /dev/shm/vgpu/command.txt", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 1 /dev/shmx/a", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 1 /dev/shm/", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 1 /dev/shm", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:01 1 /SYSV0000 (deleted)", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:01 1 /SYSV0000zzzz (deleted)", "/dev/shm", &r), SHM_MAP_OTHER);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:00 3 /memfd:evo (deleted)", "/dev/shm", &r), SHM_MAP_OTHER);

        /* Malformed. */
        assert_int_equal(shm_maps_line("", "/dev/shm", &r), -EINVAL);
        assert_int_equal(shm_maps_line("garbage", "/dev/shm", &r), -EINVAL);
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b", "/dev/shm", &r), -EINVAL);
        assert_int_equal(shm_maps_line("12 rw-s 0 00:1b 1 /dev/shm/a", "/dev/shm", &r), -EINVAL);       /* no range */
        assert_int_equal(shm_maps_line("1-xyz rw-s 0 00:1b 1 /dev/shm/a", "/dev/shm", &r), -EINVAL);    /* not hex */
        assert_int_equal(shm_maps_line("1-2 rw-sx 0 00:1b 1 /dev/shm/a", "/dev/shm", &r), -EINVAL);     /* perms */
        assert_int_equal(shm_maps_line("1-2 rw-s 0 001b 1 /dev/shm/a", "/dev/shm", &r), -EINVAL);       /* device */
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 1x /dev/shm/a", "/dev/shm", &r), -EINVAL);     /* inode */
        assert_int_equal(shm_maps_line("1-2 rw-s 0 00:1b 99999999999999999999999 /dev/shm/a", "/dev/shm", &r), -EINVAL);
        assert_int_equal(shm_maps_line("\x01\x02\x03 \xff", "/dev/shm", &r), -EINVAL);
}

static void test_limit_sev(void **state)
{
        (void)state;
        assert_int_equal(shm_limit_sev(0, 4096, 90, 100), SEV_OK);
        assert_int_equal(shm_limit_sev(3686, 4096, 90, 100), SEV_OK); /* 89.99% */
        assert_int_equal(shm_limit_sev(3687, 4096, 90, 100), SEV_WARN);
        assert_int_equal(shm_limit_sev(9, 10, 90, 100), SEV_WARN);
        assert_int_equal(shm_limit_sev(4095, 4096, 90, 100), SEV_WARN);
        assert_int_equal(shm_limit_sev(4096, 4096, 90, 100), SEV_CRIT); /* the next shmget fails */
        assert_int_equal(shm_limit_sev(5000, 4096, 90, 100), SEV_CRIT); /* limit lowered below use */
        assert_int_equal(shm_limit_sev(50, 100, 40, 50), SEV_CRIT);     /* thresholds are tunable */
        assert_int_equal(shm_limit_sev(1, UINT64_MAX, 90, 100), SEV_OK);
        assert_int_equal(shm_limit_sev(UINT64_MAX, UINT64_MAX, 90, 100), SEV_CRIT);
        assert_int_equal(shm_limit_sev(0, 0, 90, 100), SEV_WARN);
        assert_int_equal(shm_limit_sev(1, 0, 90, 100), SEV_CRIT);
}

static void test_orphan(void **state)
{
        (void)state;
        struct sysv_shm s = {.shmid = 5, .size = 4096, .cpid = 100, .lpid = 100, .nattch = 0};
        assert_true(shm_sysv_orphaned(&s, false, false));
        assert_false(shm_sysv_orphaned(&s, true, false));  /* creator may attach again */
        assert_false(shm_sysv_orphaned(&s, false, true));  /* the last user lives */
        s.nattch = 1;
        assert_false(shm_sysv_orphaned(&s, false, false)); /* attached: in use */
        assert_int_equal(shm_orphan_sev(4096, 1u << 30), SEV_WARN);
        assert_int_equal(shm_orphan_sev((1u << 30) - 1, 1u << 30), SEV_WARN);
        assert_int_equal(shm_orphan_sev(1u << 30, 1u << 30), SEV_CRIT);
        assert_int_equal(shm_orphan_sev(UINT64_MAX, 0), SEV_WARN); /* 0 = never crit */
}

/* check() and sample() both judge a segment with shm_orphan_verdict. */
static void test_orphan_verdict(void **state)
{
        (void)state;
        struct sysv_shm s = {.shmid = 5, .size = 4096, .cpid = 100, .lpid = 101, .nattch = 0};
        assert_int_equal(shm_orphan_verdict(&s, false, false, 1u << 30), SEV_WARN);
        assert_int_equal(shm_orphan_verdict(&s, true, false, 1u << 30), SEV_OK);
        assert_int_equal(shm_orphan_verdict(&s, false, true, 1u << 30), SEV_OK);
        s.size = 1u << 30;
        assert_int_equal(shm_orphan_verdict(&s, false, false, 1u << 30), SEV_CRIT);
        assert_int_equal(shm_orphan_verdict(&s, false, false, 0), SEV_WARN);
        s.nattch = 2;
        assert_int_equal(shm_orphan_verdict(&s, false, false, 1u << 30), SEV_OK);
}

/* check() and sample() both judge /dev/shm's fill with shm_tmpfs_verdict: the fuller
 * of space and inodes counts. */
static void test_tmpfs_verdict(void **state)
{
        (void)state;
        struct shm_tmpfs_use u;
        struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_blocks = 1000, .f_bfree = 500, .f_files = 100, .f_ffree = 95};
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_OK);
        assert_true(u.pct == 50.0 && u.ipct == 5.0);
        assert_int_equal(u.total, 4096000);
        assert_int_equal(u.used, 2048000);
        assert_int_equal(u.inodes, 100);
        assert_int_equal(u.inodes_used, 5);
        sv.f_ffree = 9; /* 91% of the inodes: space is fine, but no new object fits soon */
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_WARN);
        sv.f_bfree = 10; /* 99% of the space */
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_CRIT);
        sv.f_frsize = 0; /* old file systems: f_bsize is the unit */
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_CRIT);
        assert_int_equal(u.total, 4096000);
        sv = (struct statvfs){.f_bsize = 4096}; /* size=0: no limit */
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_INFO);
        sv = (struct statvfs){.f_bsize = 4096, .f_blocks = 10, .f_bfree = 10}; /* no inode count (ramfs-like) */
        assert_int_equal(shm_tmpfs_verdict(&sv, 90, 98, &u), SEV_OK);
        assert_true(u.ipct == 0.0);
        /* The real /dev/shm: the numbers are statvfs's own. */
        if (statvfs("/dev/shm", &sv) == 0 && sv.f_blocks) {
                (void)shm_tmpfs_verdict(&sv, 90, 98, &u);
                assert_true(u.pct >= 0 && u.pct <= 100 && u.ipct >= 0 && u.ipct <= 100);
                assert_int_equal(u.total, (uint64_t)sv.f_blocks * (sv.f_frsize ? sv.f_frsize : sv.f_bsize));
        }
}

static void test_world_writable(void **state)
{
        (void)state;
        assert_true(shm_mode_world_writable(S_IFREG | 0666));
        assert_true(shm_mode_world_writable(S_IFREG | 0602));
        assert_false(shm_mode_world_writable(S_IFREG | 0664));
        assert_false(shm_mode_world_writable(S_IFREG | 0600));
        assert_false(shm_mode_world_writable(S_IFDIR | 01777)); /* like /dev/shm itself */
        assert_true(shm_mode_world_writable(S_IFDIR | 0777));
        assert_false(shm_mode_world_writable(S_IFLNK | 0777));  /* a symlink's mode means nothing */
        assert_true(shm_mode_world_writable(S_IFIFO | 0666));
}

static void test_usage_and_pages(void **state)
{
        (void)state;
        assert_int_equal(shm_usage_sev(0, 90, 98), SEV_OK);
        assert_int_equal(shm_usage_sev(89.9, 90, 98), SEV_OK);
        assert_int_equal(shm_usage_sev(90, 90, 98), SEV_WARN);
        assert_int_equal(shm_usage_sev(97.99, 90, 98), SEV_WARN);
        assert_int_equal(shm_usage_sev(98, 90, 98), SEV_CRIT);
        assert_int_equal(shm_usage_sev(100, 90, 98), SEV_CRIT);

        assert_int_equal(shm_pages(0, 4096), 0);
        assert_int_equal(shm_pages(1, 4096), 1);
        assert_int_equal(shm_pages(4096, 4096), 1);
        assert_int_equal(shm_pages(4097, 4096), 2);
        assert_int_equal(shm_pages(UINT64_MAX, 4096), (UINT64_MAX / 4096) + 1);
        assert_int_equal(shm_pages(100, 0), 0);
}

/* The collector relies on the shared parser for the kernel's exact format. */
static void test_sysvipc_real(void **state)
{
        (void)state;
        const char *text =
                "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
                "     16962          3   600                  4096 28084 28084      0     0     0     0     0 1795301572 1795301572 1795301572                  4096                     0\n"
                "        -1      32769  1666              1048576   100   101      2  1000  1000  1000  1000          0          0 1795301572                     0                     0\n"
                "truncated 12\n";
        struct sysv_shm *v;
        size_t bad;
        assert_int_equal(sysvipc_shm_parse(text, &v, &bad), 2);
        assert_int_equal(bad, 1);
        assert_int_equal(v[0].shmid, 3);
        assert_int_equal(v[0].key, 0x4242);
        assert_int_equal(v[0].perms, 0600);
        assert_int_equal(v[1].perms & 0777, 0666);
        assert_int_equal(v[1].perms & 01000, 01000); /* SHM_DEST */
        assert_int_equal((uint32_t)v[1].key, 0xffffffffu);
        assert_int_equal(v[1].nattch, 2);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mount_parse),     cmocka_unit_test(test_mounts_find),
                cmocka_unit_test(test_mount_opt),       cmocka_unit_test(test_mount_sev),
                cmocka_unit_test(test_maps_line),       cmocka_unit_test(test_limit_sev),
                cmocka_unit_test(test_orphan),          cmocka_unit_test(test_world_writable),
                cmocka_unit_test(test_usage_and_pages), 
                cmocka_unit_test(test_sysvipc_real),
                cmocka_unit_test(test_orphan_verdict),  cmocka_unit_test(test_tmpfs_verdict),
        };
        return cmocka_run_group_tests_name("shm", tests, NULL, NULL);
}
