/* lib/trust.c: the path walk on real trees made here (owners, modes, sticky
 * directories, hard links, symlinks in and out of the root, FIFOs), the /proc/net/tcp
 * owner lookup on the kernel's text and on real sockets (one owned by nobody when run
 * as root), SO_PEERCRED, the service user from a root's /etc/passwd, process
 * identity from /proc/PID/status, and a component's name (comm, argv[0] from a
 * cmdline under --root). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/proctable.h"
#include "lib/rootfs.h"
#include "lib/trust.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define NOBODY 65534

static char top[64];

static void mk(const char *rel, const char *text, mode_t mode)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", top, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        assert_int_equal(chmod(p, mode), 0);
}

static void mkd(const char *rel, mode_t mode)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", top, rel);
        assert_int_equal(mkdir(p, mode), 0);
        assert_int_equal(chmod(p, mode), 0);
}

static void ln(const char *target, const char *rel)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", top, rel);
        assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
        (void)state;
        snprintf(top, sizeof(top), "/tmp/test_trust.XXXXXX");
        assert_non_null(mkdtemp(top));
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        assert_int_equal(system(cmd), 0);
        rootfs_set(NULL);
        return 0;
}

/* The walk from the test tree as the root; returns the error, the fd's content in buf. */
static int walk(const struct trust *t, const char *path, enum trust_want want, char *buf, size_t max, char **why)
{
        int rootfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(rootfd >= 0);
        int fd = -1;
        *why = NULL;
        int r = trust_walk(t, rootfd, path, want, &fd, why);
        close(rootfd);
        if (buf)
                buf[0] = 0;
        if (r == 0) {
                assert_true(fd >= 0);
                if (want == TRUST_FILE && buf) {
                        ssize_t n = read(fd, buf, max - 1);
                        assert_true(n >= 0);
                        buf[n] = 0;
                }
                close(fd);
        } else {
                assert_int_equal(fd, -1);
                assert_non_null(*why);
        }
        return r;
}

static void test_status_uids(void **state)
{
        (void)state;
        unsigned u[4];
        assert_int_equal(trust_status_uids("Name:\tx\nUid:\t0\t1000\t2\t3\nGid:\t0\t0\t0\t0\n", u), 0);
        assert_int_equal(u[0], 0);
        assert_int_equal(u[1], 1000);
        assert_int_equal(u[2], 2);
        assert_int_equal(u[3], 3);
        assert_int_equal(trust_status_uids("Uid:\t65534\t65534\t65534\t65534", u), 0);
        assert_int_equal(u[3], 65534);
        assert_int_equal(trust_status_uids("Name:\tx\nGid:\t0\t0\t0\t0\n", u), -EINVAL);
        assert_int_equal(trust_status_uids("Uid:\t0\t0\t0\n", u), -EINVAL);
        assert_int_equal(trust_status_uids("Uid:\t0\t0\tx\t0\n", u), -EINVAL);
        assert_int_equal(trust_status_uids("Uid:\t99999999999\t0\t0\t0\n", u), -EINVAL);
        assert_int_equal(trust_status_uids("", u), -EINVAL);
}

static void test_walk_modes(void **state)
{
        (void)state;
        struct trust t;
        trust_init(&t, "x", "");
        char buf[256], *why;
        mkd("etc", 0755);
        mk("etc/ok.ini", "fine\n", 0640);
        assert_int_equal(walk(&t, "/etc/ok.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "fine\n");
        assert_int_equal(walk(&t, "//etc/./ok.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        /* Writable by others: the file, or a directory on the way. */
        mk("etc/open.ini", "x", 0666);
        assert_int_equal(walk(&t, "/etc/open.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc/open.ini is writable by others (mode 0666)");
        free(why);
        mkd("srv", 0777);
        mk("srv/a.ini", "x", 0644);
        assert_int_equal(walk(&t, "/srv/a.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/srv is writable by others (mode 0777)");
        free(why);
        char p[256];
        /* A sticky world-writable directory (like /tmp) is fine, its entries are checked... */
        mkd("tmp", 01777);
        mk("tmp/x.ini", "sticky\n", 0644);
        assert_int_equal(walk(&t, "/tmp/x.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "sticky\n");
        /* ... but a file with a second link in it is not (a hard link to someone else's file). */
        char a[256], b[256];
        snprintf(a, sizeof(a), "%s/tmp/x.ini", top);
        snprintf(b, sizeof(b), "%s/tmp/y.ini", top);
        assert_int_equal(link(a, b), 0);
        assert_int_equal(walk(&t, "/tmp/y.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/tmp/y.ini has 2 hard links in a directory anyone can write to");
        free(why);
        /* Not regular: a FIFO is refused without blocking, a directory too. */
        snprintf(p, sizeof(p), "%s/etc/fifo", top);
        assert_int_equal(mkfifo(p, 0600), 0);
        assert_int_equal(walk(&t, "/etc/fifo", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc/fifo is a FIFO, not a regular file");
        free(why);
        assert_int_equal(walk(&t, "/etc", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc is a directory, not a regular file");
        free(why);
        assert_int_equal(walk(&t, "/", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        free(why);
        /* Directories. */
        assert_int_equal(walk(&t, "/etc", TRUST_DIR, NULL, 0, &why), 0);
        assert_int_equal(walk(&t, "/", TRUST_DIR, NULL, 0, &why), 0);
        assert_int_equal(walk(&t, "/etc/ok.ini", TRUST_DIR, NULL, 0, &why), -ENOTDIR);
        assert_string_equal(why, "/etc/ok.ini is a regular file, not a directory");
        free(why);
        assert_int_equal(walk(&t, "/etc/ok.ini/x", TRUST_FILE, buf, sizeof(buf), &why), -ENOTDIR);
        free(why);
        /* Errors name the path. */
        assert_int_equal(walk(&t, "/etc/none.ini", TRUST_FILE, buf, sizeof(buf), &why), -ENOENT);
        assert_string_equal(why, "/etc/none.ini: No such file or directory");
        free(why);
        assert_int_equal(walk(&t, "etc/ok.ini", TRUST_FILE, buf, sizeof(buf), &why), -EINVAL);
        assert_string_equal(why, "etc/ok.ini: not an absolute path");
        free(why);
        /* The root itself must pass. */
        assert_int_equal(chmod(top, 0777), 0);
        assert_int_equal(walk(&t, "/etc/ok.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/ is writable by others (mode 0777)");
        free(why);
        assert_int_equal(chmod(top, 0700), 0);
        trust_free(&t);
}

static void test_walk_links(void **state)
{
        (void)state;
        struct trust t;
        trust_init(&t, "x", "");
        char buf[256], *why;
        mkd("etc", 0755);
        mk("etc/shadow", "in-root shadow\n", 0600);
        mkd("conf", 0755);
        /* Absolute targets and ".." resolve inside the root, never above it. */
        ln("/etc/shadow", "conf/abs.ini");
        assert_int_equal(walk(&t, "/conf/abs.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "in-root shadow\n");
        ln("../../../../../../etc/shadow", "conf/up.ini");
        assert_int_equal(walk(&t, "/conf/up.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "in-root shadow\n");
        assert_int_equal(walk(&t, "/../../etc/shadow", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "in-root shadow\n");
        /* A link to a directory, then onwards. */
        ln("/etc", "conf/etc");
        assert_int_equal(walk(&t, "/conf/etc/shadow", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_string_equal(buf, "in-root shadow\n");
        assert_int_equal(walk(&t, "/conf/etc/../conf/abs.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        /* A loop ends. */
        ln("/conf/loop2", "conf/loop1");
        ln("/conf/loop1", "conf/loop2");
        assert_int_equal(walk(&t, "/conf/loop1", TRUST_FILE, buf, sizeof(buf), &why), -ELOOP);
        free(why);
        /* A link that goes through a directory others can write is refused on the way. */
        mkd("pub", 0777);
        mk("pub/x.ini", "x", 0644);
        ln("/pub/x.ini", "conf/pub.ini");
        assert_int_equal(walk(&t, "/conf/pub.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/pub is writable by others (mode 0777)");
        free(why);
        trust_free(&t);
}

/* Owners other than root and evodiag: files made by root, then given to nobody. */
static void test_walk_owners(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        struct trust t;
        trust_init(&t, "x", "");
        char buf[256], *why, p[256];
        mkd("etc", 0755);
        mk("etc/their.ini", "x", 0644);
        snprintf(p, sizeof(p), "%s/etc/their.ini", top);
        assert_int_equal(chown(p, NOBODY, NOBODY), 0);
        assert_int_equal(walk(&t, "/etc/their.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc/their.ini is owned by uid 65534, not root");
        free(why);
        mkd("home", 0755);
        mk("home/x.ini", "x", 0644);
        snprintf(p, sizeof(p), "%s/home", top);
        assert_int_equal(chown(p, NOBODY, NOBODY), 0);
        assert_int_equal(walk(&t, "/home/x.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/home is owned by uid 65534, not root");
        free(why);
        /* Group-writable: only when the group is root's. */
        mk("etc/grp.ini", "x", 0664);
        snprintf(p, sizeof(p), "%s/etc/grp.ini", top);
        assert_int_equal(chown(p, 0, 0), 0);
        assert_int_equal(walk(&t, "/etc/grp.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_int_equal(chown(p, 0, NOBODY), 0);
        assert_int_equal(walk(&t, "/etc/grp.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc/grp.ini is writable by group 65534 (mode 0664)");
        free(why);
        /* A symlink nobody owns is not followed, even to a file that would pass. */
        mk("etc/ok.ini", "ok\n", 0644);
        ln("/etc/ok.ini", "etc/link.ini");
        snprintf(p, sizeof(p), "%s/etc/link.ini", top);
        assert_int_equal(lchown(p, NOBODY, NOBODY), 0);
        assert_int_equal(walk(&t, "/etc/link.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM);
        assert_string_equal(why, "/etc/link.ini is a symlink owned by uid 65534: not followed (only root's links are)");
        free(why);
        trust_free(&t);
        /* The service user's files pass (here the user is given as a number). */
        trust_init(&t, "x", "65534");
        assert_string_equal(trust_who(&t), "root or uid 65534");
        assert_int_equal(walk(&t, "/etc/their.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_int_equal(walk(&t, "/home/x.ini", TRUST_FILE, buf, sizeof(buf), &why), 0);
        assert_int_equal(walk(&t, "/etc/link.ini", TRUST_FILE, buf, sizeof(buf), &why), -EPERM); /* links: root's only */
        free(why);
        trust_free(&t);
}

/* The service user from the root's /etc/passwd; trust_read and trust_process through rootfs. */
static void test_rootfs_forms(void **state)
{
        (void)state;
        mkd("etc", 0755);
        mk("etc/passwd",
           "root:x:0:0:root:/root:/bin/bash\n"
           "garbage line without colons\n"
           "lavinmq:x:998:998::/var/lib/lavinmq:/usr/sbin/nologin\n",
           0644);
        rootfs_set(top);
        struct trust t;
        trust_init(&t, "lavinmq", "lavinmq");
        assert_true(t.have_service);
        assert_int_equal(t.service_uid, 998);
        assert_string_equal(trust_who(&t), "root or lavinmq");
        assert_true(trust_uid(&t, 0));
        assert_true(trust_uid(&t, 998));
        assert_false(trust_uid(&t, 999) && geteuid() != 999);
        /* Processes: owner, the lock's pid, the unit's MainPID. */
        mkd("proc", 0755);
        mkd("proc/10", 0755);
        mk("proc/10/status", "Name:\tlavinmq\nUid:\t998\t998\t998\t998\n", 0644);
        mkd("proc/11", 0755);
        mk("proc/11/status", "Name:\tlavinmq\nUid:\t65534\t65534\t65534\t65534\n", 0644);
        mkd("proc/12", 0755);
        mk("proc/12/status", "Name:\tlavinmq\nUid:\t65534\t0\t0\t0\n", 0644); /* setuid root, started by nobody */
        struct trust_proc tp;
        assert_true(trust_process(&t, 10, &tp));
        assert_int_equal(tp.by, TRUST_OWNER);
        assert_false(trust_process(&t, 11, &tp));
        assert_true(tp.uids_known);
        assert_int_equal(tp.bad_uid, 65534);
        assert_false(trust_process(&t, 12, &tp));
        assert_int_equal(tp.bad_uid, 65534);
        assert_false(trust_process(&t, 13, &tp)); /* no such process */
        assert_false(tp.uids_known);
        trust_set_lock_pid(&t, 11);
        assert_true(trust_process(&t, 11, &tp));
        assert_int_equal(tp.by, TRUST_LOCK);
        trust_set_lock_pid(&t, 0);
        trust_set_main_pid(&t, 12);
        assert_true(trust_process(&t, 12, &tp));
        assert_int_equal(tp.by, TRUST_MAIN_PID);
        assert_string_equal(trust_by_name(tp.by), "the unit's MainPID");
        trust_free(&t);
        /* An unknown service user: only root. */
        trust_init(&t, "lavinmq", "nosuchuser");
        assert_false(t.have_service);
        assert_string_equal(trust_who(&t), "root (no user nosuchuser in /etc/passwd)");
        trust_free(&t);
        /* trust_read: bounded, truncation said, refusals with the reason. */
        trust_init(&t, "lavinmq", "lavinmq");
        mk("etc/big.ini", "0123456789", 0644);
        char *out, *why;
        bool trunc;
        assert_int_equal(trust_read(&t, "/etc/big.ini", 4, &out, &trunc, &why), 4);
        assert_string_equal(out, "0123");
        assert_true(trunc);
        free(out);
        assert_int_equal(trust_read(&t, "/etc/big.ini", 100, &out, &trunc, &why), 10);
        assert_false(trunc);
        free(out);
        mk("etc/open.ini", "x", 0666);
        assert_int_equal(trust_read(&t, "/etc/open.ini", 100, &out, &trunc, &why), -EPERM);
        assert_null(out);
        assert_string_equal(why, "/etc/open.ini is writable by others (mode 0666)");
        free(why);
        assert_int_equal(trust_check_dir(&t, "/etc", &why), 0);
        assert_int_equal(trust_check_dir(&t, "/etc/big.ini", &why), -ENOTDIR);
        free(why);
        /* check --from: a refusal recorded on the original host is replayed. */
        rootfs_inject_error("/etc/big.ini", EPERM);
        assert_int_equal(trust_read(&t, "/etc/big.ini", 100, &out, &trunc, &why), -EPERM);
        assert_string_equal(why, "/etc/big.ini failed evodiag's ownership rule on the original host (not read there)");
        free(why);
        /* Relative paths: from /proc/PID/cwd. */
        ln("/srv/mq", "proc/10/cwd");
        char *abs = trust_resolve_relative(10, "conf/x.ini", &why);
        assert_string_equal(abs, "/srv/mq/conf/x.ini");
        free(abs);
        abs = trust_resolve_relative(10, "/etc/x.ini", &why);
        assert_string_equal(abs, "/etc/x.ini");
        free(abs);
        assert_null(trust_resolve_relative(11, "x.ini", &why));
        assert_string_equal(why, "x.ini is relative to pid 11's working directory, which cannot be read (No such file or directory)");
        free(why);
        trust_free(&t);
}

/* /proc/net/tcp and tcp6 as the kernel prints them (little-endian words). */
static const char TCP[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:3D48 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 1001 1 0 100 0 0 10 0\n"
        "   1: 00000000:1628 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0 100 0 0 10 0\n"
        "   2: 0100007F:3D48 0100007F:A0B2 01 00000000:00000000 00:00000000 00000000 65534        0 1003 1 0 20 4 30 10 -1\n"
        "   3: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 1004 1 0 100 0 0 10 0\n"
        "   4: garbage\n";
static const char TCP6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2001 1 0 100 0 0 10 0\n"
        "   1: 0000000000000000FFFF00000100007F:2710 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 2002 1 0 100 0 0 10 0\n"
        "   2: 00000000000000000000000001000000:2711 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 2003 1 0 100 0 0 10 0\n";

static void test_tcp_listen_uids(void **state)
{
        (void)state;
        struct in_addr lo, lo2;
        struct in6_addr one;
        inet_pton(AF_INET, "127.0.0.1", &lo);
        inet_pton(AF_INET, "127.0.0.2", &lo2);
        inet_pton(AF_INET6, "::1", &one);
        unsigned u[8];
        /* 127.0.0.1:15688: the LISTEN socket's owner, not the established one's. */
        assert_int_equal(trust_tcp_listen_uids(TCP, false, AF_INET, &lo, 0x3D48, u, 8), 1);
        assert_int_equal(u[0], 998);
        /* 0.0.0.0:5672 takes 127.0.0.1 and 127.0.0.2. */
        assert_int_equal(trust_tcp_listen_uids(TCP, false, AF_INET, &lo2, 0x1628, u, 8), 1);
        assert_int_equal(u[0], 0);
        /* 127.0.0.2:8080 is not 127.0.0.1:8080; in tcp6, [::]:8080 takes IPv4 too. */
        assert_int_equal(trust_tcp_listen_uids(TCP, false, AF_INET, &lo, 0x1F90, u, 8), 0);
        assert_int_equal(trust_tcp_listen_uids(TCP, false, AF_INET, &lo2, 0x1F90, u, 8), 1);
        assert_int_equal(u[0], 65534);
        assert_int_equal(trust_tcp_listen_uids(TCP6, true, AF_INET, &lo, 0x1F90, u, 8), 1);
        assert_int_equal(u[0], 1000);
        /* ::ffff:127.0.0.1:10000 takes 127.0.0.1; ::1:10001 takes ::1, not 127.0.0.1. */
        assert_int_equal(trust_tcp_listen_uids(TCP6, true, AF_INET, &lo, 10000, u, 8), 1);
        assert_int_equal(u[0], 65534);
        assert_int_equal(trust_tcp_listen_uids(TCP6, true, AF_INET6, &one, 10001, u, 8), 1);
        assert_int_equal(u[0], 998);
        assert_int_equal(trust_tcp_listen_uids(TCP6, true, AF_INET, &lo, 10001, u, 8), 0);
        assert_int_equal(trust_tcp_listen_uids(TCP6, true, AF_INET6, &one, 0x1F90, u, 8), 1);
        /* Not the kernel's text. */
        assert_int_equal(trust_tcp_listen_uids("hello\nworld\n", false, AF_INET, &lo, 1, u, 8), -EINVAL);
        assert_int_equal(trust_tcp_listen_uids("", false, AF_INET, &lo, 1, u, 8), -EINVAL);
}

static void test_loopback(void **state)
{
        (void)state;
        assert_true(trust_ip_loopback("127.0.0.1"));
        assert_true(trust_ip_loopback("127.9.8.7"));
        assert_true(trust_ip_loopback("::1"));
        assert_true(trust_ip_loopback("[::1]"));
        assert_true(trust_ip_loopback("::ffff:127.0.0.1"));
        assert_false(trust_ip_loopback("10.0.0.1"));
        assert_false(trust_ip_loopback("128.0.0.1"));
        assert_false(trust_ip_loopback("::"));
        assert_false(trust_ip_loopback("::ffff:10.0.0.1"));
        assert_false(trust_ip_loopback("localhost")); /* names are not resolved here */
        assert_false(trust_ip_loopback(""));
        assert_false(trust_ip_loopback(NULL));
}

/* A TCP listener on 127.0.0.1 in a child running as uid (or as we are, uid -1); its port. */
static pid_t listener_as(int uid, int *port)
{
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (!pid) {
                close(pfd[0]);
                if (uid >= 0 && (setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
                        _exit(1);
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                socklen_t l = sizeof(a);
                if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
                    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
                        _exit(1);
                int p = ntohs(a.sin_port);
                if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
                        _exit(1);
                pause();
                _exit(0);
        }
        close(pfd[1]);
        assert_int_equal(read(pfd[0], port, sizeof(*port)), (ssize_t)sizeof(*port));
        close(pfd[0]);
        return pid;
}

static void stop(pid_t pid)
{
        int st;
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
}

static void test_tcp_peer_live(void **state)
{
        (void)state;
        struct trust t;
        trust_init(&t, "x", "");
        char why[256];
        int port;
        pid_t pid = listener_as(-1, &port);
        assert_int_equal(trust_tcp_peer(&t, "127.0.0.1", (unsigned)port, why, sizeof(why)), 0);
        assert_int_equal(trust_tcp_peer(&t, "::ffff:127.0.0.1", (unsigned)port, why, sizeof(why)), 0);
        stop(pid);
        /* Nobody listens there now: nothing is known about who would. */
        assert_int_equal(trust_tcp_peer(&t, "127.0.0.1", (unsigned)port, why, sizeof(why)), -EPERM);
        char want[160];
        snprintf(want, sizeof(want), "no listening socket for 127.0.0.1:%d in /proc/self/net/tcp or tcp6: its owner is unknown", port);
        assert_string_equal(why, want);
        assert_int_equal(trust_tcp_peer(&t, "192.0.2.7", 80, why, sizeof(why)), -EPERM);
        assert_string_equal(why, "192.0.2.7 is not a loopback address: evodiag cannot tell who listens there");
        if (geteuid() == 0) {
                pid = listener_as(NOBODY, &port);
                assert_int_equal(trust_tcp_peer(&t, "127.0.0.1", (unsigned)port, why, sizeof(why)), -EPERM);
                snprintf(want, sizeof(want), "127.0.0.1:%d is served by uid 65534, not root", port);
                assert_string_equal(why, want);
                trust_free(&t);
                trust_init(&t, "x", "65534"); /* nobody as the service user: fine */
                assert_int_equal(trust_tcp_peer(&t, "127.0.0.1", (unsigned)port, why, sizeof(why)), 0);
                stop(pid);
        }
        trust_free(&t);
}

/* SO_PEERCRED: a listener in the abstract namespace, made by a child running as uid. */
static void test_unix_peer(void **state)
{
        (void)state;
        struct trust t;
        trust_init(&t, "x", "");
        char why[256];
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(trust_unix_peer(&t, sv[0], why, sizeof(why)), 0);
        close(sv[0]);
        close(sv[1]);
        assert_int_equal(trust_unix_peer(&t, -1, why, sizeof(why)), -EPERM);
        if (geteuid() != 0) {
                trust_free(&t);
                skip();
        }
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "evodiag-test-trust-%d", getpid());
        socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (!pid) {
                if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(1);
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) < 0 || listen(fd, 4) < 0)
                        _exit(1);
                char c = 1;
                if (write(pfd[1], &c, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        char c;
        assert_int_equal(read(pfd[0], &c, 1), 1);
        close(pfd[0]);
        close(pfd[1]);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, alen), 0);
        assert_int_equal(trust_unix_peer(&t, fd, why, sizeof(why)), -EPERM);
        char want[128];
        snprintf(want, sizeof(want), "the socket is served by uid 65534 (pid %d), not root", pid);
        assert_string_equal(why, want);
        close(fd);
        stop(pid);
        trust_free(&t);
}

/* The name is exact: comm, or argv[0]'s basename; never a later argument or a prefix. */
static void test_name_match_comm(void **state)
{
        (void)state;
        assert_true(component_name_match("lavinmq", NULL, "lavinmq"));
        assert_true(component_name_match("lavinmq", "/usr/bin/whatever", "lavinmq"));
        assert_false(component_name_match("lavinmqctl", NULL, "lavinmq"));
        assert_false(component_name_match("lavinmqperf", NULL, "lavinmq"));
        assert_false(component_name_match("LavinMQ", NULL, "lavinmq")); /* comm is case-sensitive */
        assert_false(component_name_match("lavinmq ", NULL, "lavinmq"));
        assert_false(component_name_match("", NULL, "lavinmq"));
        assert_false(component_name_match(NULL, NULL, "lavinmq"));
        assert_false(component_name_match("", "", ""));     /* an empty name names nothing */
        assert_false(component_name_match("x", "/x", NULL));
        assert_true(component_name_match("irqbalance", NULL, "irqbalance"));
        assert_false(component_name_match("lavinmq", NULL, "irqbalance"));
}

static void test_name_match_argv0(void **state)
{
        (void)state;
        assert_true(component_name_match("main", "/usr/bin/lavinmq", "lavinmq"));
        assert_true(component_name_match("sleep", "lavinmq", "lavinmq"));
        assert_true(component_name_match(NULL, "/opt/lavin mq/bin/lavinmq", "lavinmq"));
        assert_true(component_name_match(NULL, "./lavinmq", "lavinmq"));
        assert_false(component_name_match(NULL, "/usr/bin/lavinmqctl", "lavinmq"));
        assert_false(component_name_match(NULL, "/usr/bin/lavinmqperf", "lavinmq"));
        assert_false(component_name_match(NULL, "/opt/lavinmq/bin/python3", "lavinmq")); /* lavinmq in the path only */
        assert_false(component_name_match(NULL, "/opt/lavinmq/", "lavinmq"));
        assert_false(component_name_match(NULL, "/usr/bin/lavinmq -c /etc/lavinmq.ini", "lavinmq")); /* not argv[0] */
        assert_false(component_name_match(NULL, "", "lavinmq"));
        assert_false(component_name_match(NULL, "/", "lavinmq"));
}

static void put_cmdline(int pid, const void *data, size_t n)
{
        char rel[64];
        snprintf(rel, sizeof(rel), "proc/%d", pid);
        mkd(rel, 0755);
        char p[256];
        snprintf(p, sizeof(p), "%s/proc/%d/cmdline", top, pid);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        close(fd);
}

/* argv[0] is read from the raw cmdline under the root, NUL-separated. */
static void test_component_named(void **state)
{
        (void)state;
        mkd("proc", 0755);
        put_cmdline(10, "/opt/lavin mq/lavinmq\0-D\0/var/lib/lavinmq\0", 42);
        put_cmdline(11, "/usr/bin/lavinmqctl\0status\0", 27);
        put_cmdline(12, "", 0);                       /* kernel thread or zombie */
        put_cmdline(13, "\xff\xfe\x00lavinmq\0", 11); /* garbage argv[0] */
        put_cmdline(15, "lavinmq", 7);                /* no NUL at all */
        put_cmdline(16, "/usr/sbin/irqbalance\0--foreground\0", 34);
        rootfs_set(top);
        struct proc p = {.pid = 10, .comm = "main", .cmdline = (char *)"/opt/lavin mq/lavinmq -D /var/lib/lavinmq"};
        assert_true(component_named(&p, "lavinmq"));
        assert_false(component_named(&p, "main x"));
        p = (struct proc){.pid = 11, .comm = "lavinmqctl"};
        assert_false(component_named(&p, "lavinmq"));
        p = (struct proc){.pid = 12, .comm = "kworker/0:1", .kthread = true};
        assert_false(component_named(&p, "lavinmq"));
        p = (struct proc){.pid = 12, .comm = "lavinmq"}; /* a zombie broker is still the broker */
        assert_true(component_named(&p, "lavinmq"));
        p = (struct proc){.pid = 13, .comm = "x"};
        assert_false(component_named(&p, "lavinmq")); /* only argv[0] counts, not a later argument */
        p = (struct proc){.pid = 14, .comm = "x"};    /* vanished: no cmdline file */
        assert_false(component_named(&p, "lavinmq"));
        p = (struct proc){.pid = 15, .comm = "x"};
        assert_true(component_named(&p, "lavinmq"));
        p = (struct proc){.pid = 16, .comm = "irqbalance-x"};
        assert_true(component_named(&p, "irqbalance"));
        p = (struct proc){.pid = 16, .comm = "x", .kthread = true}; /* a kernel thread has no argv[0] to claim */
        assert_false(component_named(&p, "irqbalance"));
        /* The table's joined command line (read in the same run) rules a name out without
         * a second read: the raw file is asked only when the name is in it. */
        p = (struct proc){.pid = 16, .comm = "x", .cmdline = (char *)"/usr/sbin/sshd -D"};
        assert_false(component_named(&p, "irqbalance"));
        p = (struct proc){.pid = 16, .comm = "x", .cmdline = (char *)"/usr/sbin/irqbalance --foreground"};
        assert_true(component_named(&p, "irqbalance"));
        p = (struct proc){.pid = 13, .comm = "x", .cmdline = (char *)"\xff\xfe lavinmq"};
        assert_false(component_named(&p, "lavinmq")); /* in the line, not argv[0]: the raw file decides */
        assert_false(component_named(&p, ""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_uids),
                cmocka_unit_test_setup_teardown(test_walk_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_walk_links, setup, teardown),
                cmocka_unit_test_setup_teardown(test_walk_owners, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rootfs_forms, setup, teardown),
                cmocka_unit_test(test_tcp_listen_uids),
                cmocka_unit_test(test_loopback),
                cmocka_unit_test(test_tcp_peer_live),
                cmocka_unit_test(test_unix_peer),
                cmocka_unit_test(test_name_match_comm),
                cmocka_unit_test(test_name_match_argv0),
                cmocka_unit_test_setup_teardown(test_component_named, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
