/* lib/rootfs: paths resolved inside the root (absolute links, "..", "//", chains,
 * loops, link counts, procfs magic links), by openat2 and by the walk by hand;
 * non-regular files refused at once; trace and --from replay of links, counts,
 * cut files and ENOTDIR listings. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/rootfs.h"
#include "lib/util.h"

static char base[] = "/tmp/evodiag-test-rootfs.XXXXXX"; /* holds outside/ and root/ */
static char R[PATH_MAX];                                /* the root */
static bool kernel_openat2;

static void put(const char *dir, const char *rel, const char *text)
{
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        char *slash = strrchr(p, '/');
        *slash = 0;
        char cmd[sizeof(p) + 32];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
        assert_int_equal(system(cmd), 0);
        *slash = '/';
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void link_(const char *target, const char *rel)
{
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", R, rel);
        char *slash = strrchr(p, '/');
        *slash = 0;
        char cmd[sizeof(p) + 32];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
        assert_int_equal(system(cmd), 0);
        *slash = '/';
        assert_int_equal(symlink(target, p), 0);
}

static int group_setup(void **state)
{
        (void)state;
        if (!mkdtemp(base))
                return -1;
        snprintf(R, sizeof(R), "%s/root", base);
        char p[PATH_MAX * 2];
        /* Outside the root: what an escape would read. */
        put(base, "outside/secret", "HOST-SECRET\n");
        put(R, "inside/secret", "IN-ROOT\n");
        put(R, "inside/three", "a\nb\nc");
        mkdir(strcat(strcpy(p, R), "/a"), 0755);
        mkdir(strcat(strcpy(p, R), "/a/b"), 0755);
        snprintf(p, sizeof(p), "%s/outside/secret", base);
        link_(p, "abs_host");                                     /* absolute, to the host's file */
        link_("/etc/shadow", "proc/sys/fs/file-nr");              /* the reproducer */
        link_("/inside/secret", "abs_in");                        /* absolute, meant for the root */
        link_("../../../../../../../../outside/secret", "a/b/climb");
        link_("../../../../../inside/secret", "a/b/climb_in");
        link_("../../../../etc", "a/etcdir");                     /* a directory link that climbs */
        link_("./././../../../outside/secret", "a/dots");
        link_(".//..//.//..//..//inside//secret", "a/b/slashes");
        link_("c2", "c1");
        link_("/c3", "c2");
        link_("a/../inside/secret", "c3");
        link_("c5", "c4");
        snprintf(p, sizeof(p), "%s/outside", base);
        link_(p, "c5");                                           /* ends at the host's directory */
        link_(p, "hostdir");
        link_("/inside", "dirlink");
        link_("loop2", "loop1");
        link_("loop1", "loop2");
        link_("self", "self");
        link_("../d/x", "d/x");
        /* chains of exactly 40 and 41 links */
        for (int i = 0; i < 41; i++) {
                char name[32], target[32];
                snprintf(name, sizeof(name), "n40_%d", i);
                snprintf(target, sizeof(target), "n40_%d", i + 1);
                if (i < 40)
                        link_(i == 39 ? "/inside/secret" : target, name);
                snprintf(name, sizeof(name), "n41_%d", i);
                snprintf(target, sizeof(target), "n41_%d", i + 1);
                link_(i == 40 ? "/inside/secret" : target, name);
        }
        /* Non-regular files. */
        mkfifo(strcat(strcpy(p, R), "/fifo"), 0600);
        mkfifo(strcat(strcpy(p, base), "/hostfifo"), 0600);
        link_("/fifo", "tofifo");
        link_("/dev/stdin", "stdin");
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        assert_true(strlen(R) + sizeof("/sock") <= sizeof(a.sun_path));
        memcpy(a.sun_path, R, strlen(R));
        memcpy(a.sun_path + strlen(R), "/sock", sizeof("/sock"));
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
        close(s);
        (void)mknod(strcat(strcpy(p, R), "/null"), S_IFCHR | 0600, makedev(1, 3)); /* needs CAP_MKNOD */
        long fd = syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0);
        kernel_openat2 = !(fd < 0 && errno == ENOSYS);
        rootfs_set_resolver(ROOTFS_RESOLVE_AUTO);
        return rootfs_set(R);
}

static int group_teardown(void **state)
{
        (void)state;
        rootfs_set(NULL);
        rootfs_set_resolver(ROOTFS_RESOLVE_AUTO);
        char cmd[sizeof(base) + 32];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

static bool by_hand;

static int use_openat2(void **state)
{
        (void)state;
        by_hand = false;
        rootfs_set_resolver(ROOTFS_RESOLVE_AUTO);
        return rootfs_set(R);
}

static int use_fallback(void **state)
{
        (void)state;
        by_hand = true;
        rootfs_set_resolver(ROOTFS_RESOLVE_FALLBACK);
        return rootfs_set(R);
}

/* The text read at path, or NULL with *err set. */
static char *rd(const char *path, long *err)
{
        char *t = NULL;
        long r = rootfs_read(path, 4096, &t, NULL);
        *err = r < 0 ? r : 0;
        if (r < 0) {
                assert_null(t);
                return NULL;
        }
        return t;
}

static void assert_reads(const char *path, const char *want)
{
        long e;
        _cleanup_free_ char *t = rd(path, &e);
        if (!t)
                fail_msg("%s: %s, want '%s'", path, strerror((int)-e), want);
        assert_string_equal(t, want);
}

static void assert_fails(const char *path, long want)
{
        long e;
        _cleanup_free_ char *t = rd(path, &e);
        if (t)
                fail_msg("%s: read '%s', want %s", path, t, strerror((int)-want));
        if (e != want)
                fail_msg("%s: %s, want %s", path, strerror((int)-e), strerror((int)-want));
}

static void test_absolute_links(void **state)
{
        (void)state;
        /* /etc/shadow means ROOT/etc/shadow: absent here, never the host's. */
        assert_fails("/proc/sys/fs/file-nr", -ENOENT);
        assert_fails("/abs_host", -ENOENT);
        assert_reads("/abs_in", "IN-ROOT\n");
        put(R, "etc/shadow", "root-of-the-tree\n");
        assert_reads("/proc/sys/fs/file-nr", "root-of-the-tree\n");
        assert_reads("/a/etcdir/shadow", "root-of-the-tree\n");
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/etc/shadow", R);
        unlink(p);
        assert_fails("/a/etcdir/shadow", -ENOENT);
        struct stat st;
        assert_int_equal(rootfs_stat("/abs_host", &st, true), -ENOENT);
        assert_false(rootfs_exists("/abs_host"));
        assert_true(rootfs_exists("/abs_in"));
        /* A directory link to the host's directory lists the root's (absent) one. */
        errno = 0;
        assert_null(rootfs_opendir("/hostdir"));
        assert_int_equal(errno, ENOENT);
        struct rootfs_dir *d = rootfs_opendir("/dirlink");
        assert_non_null(d);
        struct dirent *de;
        int n = 0;
        while ((de = rootfs_readdir(d)))
                n += streq(de->d_name, "secret") || streq(de->d_name, "three");
        rootfs_closedir(d);
        assert_int_equal(n, 2);
}

static void test_dotdot_and_slashes(void **state)
{
        (void)state;
        assert_fails("/a/b/climb", -ENOENT); /* ".." stops at the root */
        assert_reads("/a/b/climb_in", "IN-ROOT\n");
        assert_fails("/a/dots", -ENOENT);
        assert_reads("/a/b/slashes", "IN-ROOT\n");
        assert_reads("//inside//./secret", "IN-ROOT\n");
        assert_reads("/./././inside/secret", "IN-ROOT\n");
        assert_reads("/../../../../inside/secret", "IN-ROOT\n");
        assert_reads("/a/b/../../inside/secret", "IN-ROOT\n");
        assert_reads("inside/secret", "IN-ROOT\n"); /* relative: from the root too */
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "/../../../..%s/outside/secret", base); /* the host path, climbed to */
        assert_fails(p, -ENOENT);
        assert_fails("/inside/secret/", -ENOTDIR);
        assert_fails("/inside/secret/x", -ENOTDIR);
        assert_fails("", -ENOENT);
        char longname[NAME_MAX + 10];
        memset(longname, 'x', sizeof(longname) - 1);
        longname[0] = '/';
        longname[sizeof(longname) - 1] = 0;
        assert_fails(longname, -ENAMETOOLONG);
}

static void test_chains_loops_counts(void **state)
{
        (void)state;
        assert_reads("/c1", "IN-ROOT\n");
        assert_fails("/c4", -ENOENT);
        assert_fails("/loop1", -ELOOP);
        assert_fails("/self", -ELOOP);
        assert_fails("/d/x", -ELOOP);
        assert_reads("/n40_0", "IN-ROOT\n"); /* 40 links: the kernel's limit, allowed */
        assert_fails("/n41_0", -ELOOP);      /* 41: refused */
        struct stat st;
        assert_int_equal(rootfs_stat("/loop1", &st, true), -ELOOP);
        assert_int_equal(rootfs_stat("/loop1", &st, false), 0);
        assert_true(S_ISLNK(st.st_mode));
}

static void test_lstat_readlink(void **state)
{
        (void)state;
        struct stat st;
        assert_int_equal(rootfs_stat("/proc/sys/fs/file-nr", &st, false), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(rootfs_stat("/proc/sys/fs/file-nr", &st, true), -ENOENT);
        assert_int_equal(rootfs_stat("/c1", &st, true), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 8);
        /* A link inside the path is followed even with follow=false: only the last is not. */
        assert_int_equal(rootfs_stat("/dirlink/secret", &st, false), 0);
        assert_true(S_ISREG(st.st_mode));
        char *t = NULL;
        assert_int_equal(rootfs_readlink("/proc/sys/fs/file-nr", &t), 0);
        assert_string_equal(t, "/etc/shadow");
        free(t);
        assert_int_equal(rootfs_readlink("/dirlink/../c2", &t), 0);
        assert_string_equal(t, "/c3");
        free(t);
        assert_int_equal(rootfs_readlink("/inside/secret", &t), -EINVAL); /* not a link */
        assert_null(t);
        int fd = rootfs_open("/abs_in", O_RDONLY | O_NOFOLLOW);
        assert_int_equal(fd, -ELOOP);
        fd = rootfs_open("/abs_in", O_PATH | O_NOFOLLOW);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        close(fd);
        fd = rootfs_open("/a/etcdir", O_RDONLY | O_DIRECTORY); /* ROOT/etc (made above), not /etc */
        assert_true(fd >= 0);
        struct stat es;
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/etc", R);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(stat(p, &es), 0);
        assert_true(st.st_ino == es.st_ino && st.st_dev == es.st_dev);
        close(fd);
        fd = rootfs_open("/", O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        struct stat rs;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(stat(R, &rs), 0);
        assert_true(st.st_ino == rs.st_ino && st.st_dev == rs.st_dev);
        close(fd);
}

static double elapsed_on(clockid_t clk, const struct timespec *t0)
{
        struct timespec t1;
        clock_gettime(clk, &t1);
        return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}
/* Wall time: a FIFO that blocked would block forever, so any bound far above a starved
 * host's scheduling delays tells it (1 s failed under load). */
static double elapsed(const struct timespec *t0) { return elapsed_on(CLOCK_MONOTONIC, t0); }

static void test_not_regular(void **state)
{
        (void)state;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_fails("/fifo", -ROOTFS_ENOTREG); /* would block forever with a plain open */
        assert_fails("/tofifo", -ROOTFS_ENOTREG);
        assert_int_equal(rootfs_count_lines("/fifo"), -ROOTFS_ENOTREG);
        assert_true(elapsed(&t0) < 10.0);
        assert_fails("/sock", -ROOTFS_ENOTREG);
        assert_fails("/inside", -EISDIR);
        assert_fails("/stdin", -ENOENT); /* ROOT/dev/stdin: absent, never this process's stdin */
        struct stat st;
        char p[PATH_MAX];
        if (stat(strcat(strcpy(p, R), "/null"), &st) == 0)
                assert_fails("/null", -ROOTFS_ENOTREG);
        char *v = (char *)1;
        assert_int_equal(rootfs_read_value("/fifo", &v), -ROOTFS_ENOTREG);
        assert_null(v); /* a caller may free it and try again (inspected_hostname) */
        assert_int_equal(rootfs_open_file("/fifo", 0), -ROOTFS_ENOTREG);
        assert_int_equal(rootfs_open_file("/abs_in", O_NOFOLLOW), -ELOOP);
        int fd = rootfs_open_file("/abs_in", 0);
        assert_true(fd >= 0);
        close(fd);
        assert_string_equal(rootfs_strerror(-ROOTFS_ENOTREG), "not a regular file (a FIFO, socket or device)");
        assert_string_equal(rootfs_strerror(ENOENT), strerror(ENOENT));
}

/* procfs magic links (/proc/self/fd/N, cwd, root) are never followed as such: openat2
 * refuses them (ELOOP); the walk by hand reads their text, which stays inside the root. */
static void test_magic_links(void **state)
{
        (void)state;
        bool fallback = by_hand;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/outside/secret", base);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(base), 0);
        assert_int_equal(rootfs_set("/proc/self"), 0);
        char path[64];
        snprintf(path, sizeof(path), "/fd/%d", fd);
        long want = fallback || !kernel_openat2 ? -ENOENT : -ELOOP;
        assert_fails(path, want);
        assert_fails("/cwd/outside/secret", want);
        assert_fails("/root/etc/passwd", want);
        assert_fails("/fd/0", want);
        /* The same file by its plain name inside this root is fine. */
        char *t = NULL;
        assert_true(rootfs_read("/status", 64, &t, NULL) > 0);
        free(t);
        assert_int_equal(chdir(cwd), 0);
        close(fd);
        assert_int_equal(rootfs_set(R), 0);
}

/* The live system is the host: ordinary resolution, but still no FIFO. */
static void test_live(void **state)
{
        (void)state;
        assert_int_equal(rootfs_set(NULL), 0);
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/root/abs_host", base);
        assert_reads(p, "HOST-SECRET\n");
        snprintf(p, sizeof(p), "%s/hostfifo", base);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_fails(p, -ROOTFS_ENOTREG);
        assert_true(elapsed(&t0) < 10.0);
        snprintf(p, sizeof(p), "%s/root/sock", base);
        assert_fails(p, -ROOTFS_ENOTREG);
        struct stat st;
        snprintf(p, sizeof(p), "%s/root/abs_host", base);
        assert_int_equal(rootfs_stat(p, &st, false), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(rootfs_stat(p, &st, true), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(rootfs_set(R), 0);
}

static void test_bad_root(void **state)
{
        (void)state;
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s/inside/secret", R);
        assert_int_equal(rootfs_set(p), -ENOTDIR);
        assert_fails("/inside/secret", -ENOTDIR);
        assert_int_equal(rootfs_set("/nonexistent/evodiag-root"), -ENOENT);
        assert_fails("/x", -ENOENT);
        assert_int_equal(rootfs_set(R), 0);
}

/* A child that closes its parent's descriptors (watch's samplers and bundles) keeps
 * the root's: reads still resolve inside it. */
static void test_close_fds_keeps_root(void **state)
{
        (void)state;
        int p[2], q[2];
        assert_int_equal(pipe(p), 0);
        assert_int_equal(pipe(q), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                rootfs_close_fds_except(p[1], q[0]);
                char *t = NULL;
                bool ok = rootfs_read("/c1", 64, &t, NULL) == 8 && streq(t, "IN-ROOT\n") && fcntl(p[1], F_GETFD) >= 0 &&
                          fcntl(q[0], F_GETFD) >= 0 && fcntl(p[0], F_GETFD) < 0 && fcntl(q[1], F_GETFD) < 0;
                _exit(ok ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(p[0]), close(p[1]), close(q[0]), close(q[1]);
}

static const struct trace_entry *traced(const char *path, enum trace_kind kind)
{
        size_t n;
        const struct trace_entry *t = rootfs_trace_entries(&n);
        for (size_t i = 0; i < n; i++)
                if (t[i].kind == kind && streq(t[i].path, path))
                        return &t[i];
        return NULL;
}

/* What `check --from` needs to reach the host's verdicts: links (absolute ones are
 * not stored as links), line counts of counted files, cut files, ENOTDIR listings. */
static void test_trace_and_replay(void **state)
{
        (void)state;
        rootfs_trace_start(1 << 20);
        assert_int_equal(rootfs_count_lines("/inside/three"), 3);
        const struct trace_entry *t = traced("/inside/three", TRACE_COUNTED);
        assert_non_null(t);
        assert_int_equal(t->count, 3);
        errno = 0;
        assert_null(rootfs_opendir("/inside/secret"));
        assert_int_equal(errno, ENOTDIR);
        t = traced("/inside/secret", TRACE_ERROR);
        assert_non_null(t);
        assert_int_equal(t->error, ENOTDIR);
        char *v = NULL;
        assert_int_equal(rootfs_readlink("/proc/sys/fs/file-nr", &v), 0);
        free(v);
        t = traced("/proc/sys/fs/file-nr", TRACE_LINK);
        assert_non_null(t);
        assert_string_equal(t->data, "/etc/shadow");
        assert_fails("/fifo", -ROOTFS_ENOTREG);
        t = traced("/fifo", TRACE_ERROR);
        assert_non_null(t);
        assert_int_equal(t->error, ROOTFS_ENOTREG);
        assert_fails("/nothing-here", -ENOENT);
        assert_null(traced("/nothing-here", TRACE_ERROR)); /* absent stays absent */
        rootfs_trace_stop();

        /* Replay. */
        rootfs_inject_link("/dev/shm/evo_x", "/var/lib/elsewhere");
        assert_int_equal(rootfs_readlink("/dev/shm/evo_x", &v), 0);
        assert_string_equal(v, "/var/lib/elsewhere");
        free(v);
        rootfs_inject_count("/inside/three", 40114);
        assert_int_equal(rootfs_count_lines("/inside/three"), 40114);
        bool cut = false;
        v = NULL;
        assert_int_equal(rootfs_read("/inside/secret", 100, &v, &cut), 8);
        assert_false(cut);
        free(v);
        rootfs_inject_truncated("/inside/secret");
        assert_int_equal(rootfs_read("/inside/secret", 100, &v, &cut), 8);
        assert_true(cut);
        free(v);
        assert_int_equal(rootfs_read("/inside/secret", 8, &v, &cut), 8);
        assert_true(cut);
        free(v);
        rootfs_inject_error("/inside/ghost", ENOTDIR);
        errno = 0;
        assert_null(rootfs_opendir("/inside/ghost"));
        assert_int_equal(errno, ENOTDIR);
        rootfs_inject_error("/inside/bad", -5); /* out of range: ignored */
        rootfs_inject_error("/inside/bad", 5000);
        assert_int_equal(rootfs_injected_error("/inside/bad"), 0);
        /* Tens of thousands of injected paths stay cheap (hashed). */
        /* CPU time, which another process's load does not stretch (wall time failed at load 12). */
        struct timespec t0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        for (int i = 0; i < 100000; i++) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/fd", i);
                rootfs_inject_error(p, EACCES);
                rootfs_snapshot_put_dir(p, "0\0001\0", 4);
        }
        assert_int_equal(rootfs_injected_error("/proc/99999/fd"), EACCES);
        assert_true(elapsed_on(CLOCK_PROCESS_CPUTIME_ID, &t0) < 2.0);
}

/* Each resolution test again with the walk by hand (as where openat2 is filtered). */
#define BY_HAND(f) \
        static void f##_by_hand(void **state) { f(state); }
BY_HAND(test_absolute_links)
BY_HAND(test_dotdot_and_slashes)
BY_HAND(test_chains_loops_counts)
BY_HAND(test_lstat_readlink)
BY_HAND(test_not_regular)
BY_HAND(test_magic_links)
BY_HAND(test_live)
BY_HAND(test_bad_root)
BY_HAND(test_close_fds_keeps_root)
/* A bundle's snapshot in a temporary file (rootfs_snapshot_spill): what is put
 * leaves this process's memory (only the index stays), reads give the bytes back,
 * a forked collector child reads what was put before it and keeps what it puts
 * itself in its own memory: it never writes the parent's file. */
static void test_snapshot_spilled(void **state)
{
        (void)state;
        FILE *tf = tmpfile(); /* unlinked: where it lives does not matter here */
        assert_non_null(tf);
        int fd = dup(fileno(tf));
        fclose(tf);
        rootfs_snapshot_spill(fd);
        enum { N = 4096, SZ = 2048 };
        char blk[SZ], path[64];
#ifndef __SANITIZE_ADDRESS__ /* (ASan keeps its own heap: glibc's counts say nothing then) */
        struct mallinfo2 before = mallinfo2();
#endif
        for (int i = 0; i < N; i++) {
                memset(blk, 'a' + i % 26, sizeof(blk));
                snprintf(path, sizeof(path), "/spill/%d/status", i);
                rootfs_snapshot_put(path, blk, sizeof(blk));
        }
#ifndef __SANITIZE_ADDRESS__
        struct mallinfo2 after = mallinfo2();
        /* 8 MiB put; the index is ~100 bytes an entry */
        assert_true(after.uordblks - before.uordblks < (size_t)N * 256);
#endif
        struct stat st; /* (the last 256 KiB may wait in the write buffer) */
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(st.st_size <= (off_t)N * SZ && st.st_size >= (off_t)N * SZ - (256 << 10));
        char *d;
        size_t len;
        assert_true(rootfs_snapshot_get("/spill/27/status", &d, &len));
        assert_int_equal(len, SZ);
        assert_int_equal(d[0], 'b');
        assert_int_equal(d[SZ - 1], 'b');
        assert_int_equal(d[SZ], 0);
        free(d);
        assert_int_equal(rootfs_read("/spill/3/status", 10, &d, NULL), 10);
        assert_string_equal(d, "dddddddddd");
        free(d);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                bool ok = rootfs_snapshot_get("/spill/4095/status", &d, &len) && len == SZ && d[0] == 'a' + 4095 % 26;
                free(d);
                rootfs_snapshot_put("/spill/child", "mine", 4);
                ok = ok && rootfs_snapshot_get("/spill/child", &d, &len) && len == 4 && !memcmp(d, "mine", 4);
                free(d);
                _exit(ok ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_false(rootfs_snapshot_get("/spill/child", &d, &len)); /* the child's own */
        rootfs_snapshot_put("/spill/after", "zz", 2);
        assert_true(rootfs_snapshot_get("/spill/after", &d, &len));
        assert_int_equal(len, 2);
        assert_string_equal(d, "zz");
        free(d);
        assert_true(rootfs_snapshot_get("/spill/4094/status", &d, &len));
        assert_int_equal(d[0], 'a' + 4094 % 26);
        free(d);
        /* The file given up (the buffer written out): what is in it cannot be read any
         * more (and says so); nothing of the child's is in it. */
        rootfs_snapshot_spill(-1);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, (off_t)N * SZ + 2);
        char tail[3] = {0};
        assert_int_equal(pread(fd, tail, 2, (off_t)N * SZ), 2);
        assert_string_equal(tail, "zz");
        close(fd);
        assert_false(rootfs_snapshot_get("/spill/1/status", &d, &len));
        rootfs_snapshot_put("/spill/mem", "m", 1);
        assert_true(rootfs_snapshot_get("/spill/mem", &d, &len));
        free(d);
}

#define BOTH(f) cmocka_unit_test_setup(f, use_openat2), cmocka_unit_test_setup(f##_by_hand, use_fallback)

int main(void)
{
        const struct CMUnitTest tests[] = {
                BOTH(test_absolute_links),
                BOTH(test_dotdot_and_slashes),
                BOTH(test_chains_loops_counts),
                BOTH(test_lstat_readlink),
                BOTH(test_not_regular),
                BOTH(test_magic_links),
                BOTH(test_live),
                BOTH(test_bad_root),
                BOTH(test_close_fds_keeps_root),
                cmocka_unit_test_setup(test_trace_and_replay, use_openat2),
                cmocka_unit_test(test_snapshot_spilled),
        };
        return cmocka_run_group_tests_name("rootfs", tests, group_setup, group_teardown);
}
