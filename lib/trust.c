#include "config.h"
#include "lib/trust.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"
#include "lib/users.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define LINKS_MAX 40          /* as the kernel's MAXSYMLINKS */
#define TCP_LINES_MAX 4000000 /* /proc/net/tcp: more sockets than any host has */

/* ======================================================================
 * Who
 * ====================================================================== */

void trust_init(struct trust *t, const char *component, const char *service_user)
{
        *t = (struct trust){0};
        t->component = xstrdup(component);
        t->service_user = xstrdup(service_user ? service_user : "");
        t->self_uid = geteuid();
        uint64_t num;
        if (!*t->service_user || streq(t->service_user, "root")) {
                t->who = xstrdup("root");
        } else if (parse_u64(t->service_user, &num) == 0 && num < UINT32_MAX) {
                t->have_service = true;
                t->service_uid = (uid_t)num;
                t->who = xasprintf("root or uid %" PRIu64, num);
        } else {
                /* The root's /etc/passwd (lib/users: fgetpwent over the root-aware file). */
                _cleanup_users_ struct users *u = users_load();
                unsigned uid;
                t->have_service = users_uid(u, t->service_user, &uid) == 0;
                t->service_uid = (uid_t)uid;
                t->who = t->have_service ? xasprintf("root or %s", t->service_user)
                                         : xasprintf("root (no user %s in /etc/passwd)", t->service_user);
        }
}

void trust_free(struct trust *t)
{
        free(t->component);
        free(t->service_user);
        free(t->who);
        *t = (struct trust){0};
}

void trust_set_main_pid(struct trust *t, int pid) { t->main_pid = pid > 0 ? pid : 0; }
void trust_set_lock_pid(struct trust *t, int pid) { t->lock_pid = pid > 0 ? pid : 0; }

bool trust_uid(const struct trust *t, uid_t uid)
{
        return uid == 0 || uid == t->self_uid || (t->have_service && uid == t->service_uid);
}

const char *trust_who(const struct trust *t) { return t->who ? t->who : "root"; }

/* ======================================================================
 * Processes
 * ====================================================================== */

int trust_status_uids(const char *status, unsigned uid[4])
{
        for (const char *l = status; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (!startswith(l, "Uid:"))
                        continue;
                unsigned long v[4];
                char *end;
                const char *p = l + 4;
                for (int i = 0; i < 4; i++) {
                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        errno = 0;
                        v[i] = strtoul(p, &end, 10);
                        if (errno || v[i] > UINT32_MAX)
                                return -EINVAL;
                        p = end;
                }
                for (int i = 0; i < 4; i++)
                        uid[i] = (unsigned)v[i];
                return 0;
        }
        return -EINVAL;
}

bool trust_process(const struct trust *t, int pid, struct trust_proc *out)
{
        *out = (struct trust_proc){.by = TRUST_NOT};
        char path[64];
        _cleanup_free_ char *status = NULL;
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        long r = rootfs_read(path, 64 << 10, &status, NULL);
        if (r < 0)
                out->err = (int)r;
        else if (trust_status_uids(status, out->uid) == 0)
                out->uids_known = true;
        else
                out->err = -EINVAL;
        if (out->uids_known) {
                bool all = true;
                for (int i = 0; i < 4 && all; i++)
                        if (!trust_uid(t, out->uid[i])) {
                                all = false;
                                out->bad_uid = out->uid[i];
                        }
                if (all)
                        out->by = TRUST_OWNER;
        }
        if (out->by == TRUST_NOT && pid > 0 && pid == t->main_pid)
                out->by = TRUST_MAIN_PID;
        else if (out->by == TRUST_NOT && pid > 0 && pid == t->lock_pid)
                out->by = TRUST_LOCK;
        return out->by != TRUST_NOT;
}

bool component_name_match(const char *comm, const char *argv0, const char *name)
{
        if (!name || !*name)
                return false;
        if (comm && streq(comm, name))
                return true;
        if (!argv0 || !*argv0)
                return false;
        const char *base = strrchr(argv0, '/');
        return streq(base ? base + 1 : argv0, name);
}

bool component_named(const struct proc *p, const char *name)
{
        if (component_name_match(p->comm, NULL, name))
                return true;
        if (p->kthread || !name || !*name)
                return false;
        /* The process table's joined command line was read through rootfs in this run:
         * an argv[0] whose base name is `name` is in it. Most processes are not the
         * component, and the collectors ask for several names each: no read for them. */
        if (p->cmdline && !strstr(p->cmdline, name))
                return false;
        /* argv[0] from the raw, NUL-separated cmdline: the joined one in struct proc
         * cannot tell a space inside argv[0] from the space between arguments. */
        char path[64];
        _cleanup_free_ char *raw = NULL;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
        if (rootfs_read(path, 4096, &raw, NULL) <= 0)
                return false;
        return component_name_match(NULL, raw, name);
}

const char *trust_by_name(enum trust_by by)
{
        switch (by) {
        case TRUST_OWNER: return "its owner";
        case TRUST_MAIN_PID: return "the unit's MainPID";
        case TRUST_LOCK: return "the data directory's lock file";
        case TRUST_NOT: break;
        }
        return "nothing";
}

/* ======================================================================
 * The path rule
 * ====================================================================== */

static const char *type_word(mode_t m)
{
        return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO"
             : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : "special file";
}

static const char *shown_or_root(const struct strbuf *b) { return b->len ? b->s : "/"; }

/* Owner and mode of one entry on the way (or the final one); NULL when it passes. */
static char *entry_problem(const struct trust *t, const struct stat *st, const char *shown)
{
        if (!trust_uid(t, st->st_uid))
                return xasprintf("%s is owned by uid %u, not %s", shown, (unsigned)st->st_uid, trust_who(t));
        bool sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
        if ((st->st_mode & S_IWOTH) && !sticky_dir)
                return xasprintf("%s is writable by others (mode %04o)", shown, (unsigned)(st->st_mode & 07777));
        if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky_dir)
                return xasprintf("%s is writable by group %u (mode %04o)", shown, (unsigned)st->st_gid,
                                 (unsigned)(st->st_mode & 07777));
        return NULL;
}

static int fail(char **why, int err, char *msg)
{
        *why = msg;
        return err;
}

int trust_walk(const struct trust *t, int rootfd, const char *path, enum trust_want want, int *fd_out, char **why)
{
        *fd_out = -1;
        *why = NULL;
        if (!path || path[0] != '/')
                return fail(why, -EINVAL, xasprintf("%s: not an absolute path", path ? path : "(null)"));
        if (strlen(path) >= PATH_MAX)
                return fail(why, -ENAMETOOLONG, xasprintf("%.64s...: %s", path, strerror(ENAMETOOLONG)));
        _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return fail(why, -errno, xasprintf("/: %s", strerror(errno)));
        struct stat st;
        if (fstat(cur, &st) < 0)
                return fail(why, -errno, xasprintf("/: %s", strerror(errno)));
        char *p = entry_problem(t, &st, "/");
        if (p)
                return fail(why, -EPERM, p);
        _cleanup_free_ char *rest = xstrdup(path);
        struct strbuf shown = {0};
        sb_puts(&shown, "");
        size_t pos = 0, depth = 0;
        unsigned links = 0;
        bool world_parent = (st.st_mode & S_IWOTH) != 0;
        int r = 0;
        for (;;) {
                while (rest[pos] == '/')
                        pos++;
                if (!rest[pos]) {
                        /* The path ends in the current directory ("/", "/a/.."). */
                        if (want == TRUST_FILE) {
                                r = fail(why, -EPERM, xasprintf("%s is a directory, not a regular file", shown_or_root(&shown)));
                                break;
                        }
                        int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                r = fail(why, -errno, xasprintf("%s: %s", shown_or_root(&shown), strerror(errno)));
                        else
                                *fd_out = fd;
                        break;
                }
                size_t len = strcspn(rest + pos, "/");
                char name[NAME_MAX + 1];
                if (len > NAME_MAX) {
                        r = fail(why, -ENAMETOOLONG, xasprintf("%s/%.32s...: %s", shown.s, rest + pos, strerror(ENAMETOOLONG)));
                        break;
                }
                memcpy(name, rest + pos, len);
                name[len] = 0;
                pos += len;
                size_t after = pos;
                while (rest[after] == '/')
                        after++;
                bool last = !rest[after];
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        if (depth == 0)
                                continue; /* the root's parent is the root, as RESOLVE_IN_ROOT has it */
                        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (up < 0) {
                                r = fail(why, -errno, xasprintf("%s/..: %s", shown.s, strerror(errno)));
                                break;
                        }
                        close(cur);
                        cur = up;
                        depth--;
                        char *slash = strrchr(shown.s, '/');
                        shown.len = slash ? (size_t)(slash - shown.s) : 0;
                        shown.s[shown.len] = 0;
                        if (fstat(cur, &st) < 0) {
                                r = fail(why, -errno, xasprintf("%s: %s", shown_or_root(&shown), strerror(errno)));
                                break;
                        }
                        if ((p = entry_problem(t, &st, shown_or_root(&shown)))) {
                                r = fail(why, -EPERM, p);
                                break;
                        }
                        world_parent = (st.st_mode & S_IWOTH) != 0;
                        continue;
                }
                _cleanup_free_ char *here = xasprintf("%s/%s", shown.s, name);
                _cleanup_close_ int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        r = fail(why, -errno, xasprintf("%s: %s", here, strerror(errno)));
                        break;
                }
                if (S_ISLNK(st.st_mode)) {
                        /* Anyone may point a link anywhere: only root's (or our own) are followed. */
                        if (st.st_uid != 0 && st.st_uid != t->self_uid) {
                                r = fail(why, -EPERM, xasprintf("%s is a symlink owned by uid %u: not followed (only root's links are)",
                                                                here, (unsigned)st.st_uid));
                                break;
                        }
                        if (++links > LINKS_MAX) {
                                r = fail(why, -ELOOP, xasprintf("%s: %s", here, strerror(ELOOP)));
                                break;
                        }
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
                        if (n < 0) {
                                r = fail(why, -errno, xasprintf("%s: %s", here, strerror(errno)));
                                break;
                        }
                        if (n == 0) {
                                r = fail(why, -ENOENT, xasprintf("%s: an empty symlink", here));
                                break;
                        }
                        target[n] = 0;
                        char *next = xasprintf("%s/%s", target, rest + pos);
                        if (strlen(next) >= PATH_MAX) {
                                free(next);
                                r = fail(why, -ENAMETOOLONG, xasprintf("%s: %s", here, strerror(ENAMETOOLONG)));
                                break;
                        }
                        free(rest);
                        rest = next;
                        pos = 0;
                        if (target[0] == '/') { /* absolute: from the root again, never above it */
                                int top = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (top < 0) {
                                        r = fail(why, -errno, xasprintf("/: %s", strerror(errno)));
                                        break;
                                }
                                close(cur);
                                cur = top;
                                depth = 0;
                                shown.len = 0;
                                shown.s[0] = 0;
                                struct stat rs;
                                world_parent = fstat(cur, &rs) == 0 && (rs.st_mode & S_IWOTH);
                        }
                        continue;
                }
                if ((p = entry_problem(t, &st, here))) {
                        r = fail(why, -EPERM, p);
                        break;
                }
                if (!last) {
                        if (!S_ISDIR(st.st_mode)) {
                                r = fail(why, -ENOTDIR, xasprintf("%s: %s", here, strerror(ENOTDIR)));
                                break;
                        }
                        close(cur);
                        cur = fd;
                        fd = -1;
                        depth++;
                        sb_printf(&shown, "/%s", name);
                        world_parent = (st.st_mode & S_IWOTH) != 0;
                        continue;
                }
                /* The final entry: opened for real only now that it passed, and only if
                 * it is still what fstat saw (nothing blocks: O_NONBLOCK, O_NOFOLLOW). */
                int flags;
                if (want == TRUST_FILE) {
                        if (!S_ISREG(st.st_mode)) {
                                r = fail(why, -EPERM, xasprintf("%s is a %s, not a regular file", here, type_word(st.st_mode)));
                                break;
                        }
                        if (world_parent && st.st_nlink > 1) {
                                r = fail(why, -EPERM, xasprintf("%s has %lu hard links in a directory anyone can write to", here,
                                                                (unsigned long)st.st_nlink));
                                break;
                        }
                        flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
                } else {
                        if (!S_ISDIR(st.st_mode)) {
                                r = fail(why, -ENOTDIR, xasprintf("%s is a %s, not a directory", here, type_word(st.st_mode)));
                                break;
                        }
                        flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
                }
                int real = openat(cur, name, flags);
                struct stat st2;
                if (real < 0) {
                        r = fail(why, -errno, xasprintf("%s: %s", here, strerror(errno)));
                        break;
                }
                if (fstat(real, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
                    (st2.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
                        close(real);
                        r = fail(why, -ESTALE, xasprintf("%s was replaced while it was opened", here));
                        break;
                }
                *fd_out = real;
                break;
        }
        sb_free(&shown);
        return r;
}

/* The root itself (lib/rootfs opened it; "/" on the live system): the walk starts there. */
static int open_root(char **why)
{
        int fd = rootfs_open("/", O_PATH | O_DIRECTORY);
        if (fd < 0)
                *why = xasprintf("the root %s: %s", rootfs_get(), strerror(-fd));
        return fd;
}

/* check --from: the original host's refusal (or failure), recorded in the bundle. */
static int replayed(const char *path, char **why)
{
        int inj = rootfs_injected_error(path);
        if (!inj)
                return 0;
        *why = inj == EPERM ? xasprintf("%s failed evodiag's ownership rule on the original host (not read there)", path)
                            : xasprintf("%s: %s (on the original host)", path, strerror(inj));
        return -inj;
}

long trust_read(const struct trust *t, const char *path, size_t max, char **out, bool *truncated, char **why)
{
        *out = NULL;
        *why = NULL;
        if (truncated)
                *truncated = false;
        int r = replayed(path, why);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = open_root(why);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int fd = -1;
        r = trust_walk(t, rootfd, path, TRUST_FILE, &fd, why);
        if (r < 0) {
                rootfs_trace_failed(path, -r);
                return r;
        }
        struct strbuf b = {0};
        sb_puts(&b, "");
        bool cut = false;
        char chunk[8192];
        for (;;) {
                size_t want = b.len + sizeof(chunk) > max ? max - b.len : sizeof(chunk);
                if (want == 0) {
                        char c;
                        ssize_t n;
                        do
                                n = read(fd, &c, 1);
                        while (n < 0 && errno == EINTR);
                        cut = n > 0;
                        break;
                }
                ssize_t n = read(fd, chunk, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        sb_free(&b);
                        *why = xasprintf("%s: %s", path, strerror(e));
                        rootfs_trace_failed(path, e);
                        return -e;
                }
                if (n == 0)
                        break;
                sb_putn(&b, chunk, (size_t)n);
        }
        if (rootfs_tracing()) {
                /* A bundle: these bytes (or an earlier collector's copy) are what is stored,
                 * recorded by rootfs_read, which returns the snapshot and never reopens. */
                rootfs_snapshot_put(path, b.s, b.len);
                sb_free(&b);
                bool tr = false;
                long n = rootfs_read(path, max, out, &tr);
                if (truncated)
                        *truncated = tr || cut;
                if (n < 0)
                        *why = xasprintf("%s: %s", path, strerror((int)-n));
                return n;
        }
        if (truncated)
                *truncated = cut;
        long n = (long)b.len;
        *out = sb_steal(&b);
        return n;
}

int trust_check_dir(const struct trust *t, const char *path, char **why)
{
        *why = NULL;
        int r = replayed(path, why);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = open_root(why);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int fd = -1;
        r = trust_walk(t, rootfd, path, TRUST_DIR, &fd, why);
        if (r == -EPERM)
                rootfs_trace_failed(path, EPERM);
        return r;
}

char *trust_resolve_relative(int pid, const char *path, char **why)
{
        *why = NULL;
        if (path[0] == '/')
                return xstrdup(path);
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
        _cleanup_free_ char *cwd = NULL;
        int r = rootfs_readlink(p, &cwd);
        if (r < 0) {
                *why = xasprintf("%s is relative to pid %d's working directory, which cannot be read (%s)", path, pid, strerror(-r));
                return NULL;
        }
        if (cwd[0] != '/') {
                *why = xasprintf("%s is relative to pid %d's working directory, which is not a path (%s)", path, pid, cwd);
                return NULL;
        }
        return xasprintf("%s%s%s", cwd, streq(cwd, "/") ? "" : "/", path);
}

/* ======================================================================
 * Where credentials may go
 * ====================================================================== */

bool trust_ip_loopback(const char *ip)
{
        unsigned char a[16];
        char h[INET6_ADDRSTRLEN + 2];
        if (!ip)
                return false;
        snprintf(h, sizeof(h), "%s", ip[0] == '[' ? ip + 1 : ip);
        h[strcspn(h, "]%")] = 0;
        if (inet_pton(AF_INET, h, a) == 1)
                return a[0] == 127;
        if (inet_pton(AF_INET6, h, a) != 1)
                return false;
        static const unsigned char one[16] = {[15] = 1}, mapped[12] = {[10] = 0xff, [11] = 0xff};
        return !memcmp(a, one, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

/* "0100007F:3A98": the address as the kernel prints it (each 32-bit word in host order). */
static int parse_hex_addr(const char *s, bool v6, unsigned char addr[16], unsigned *port)
{
        size_t hex = v6 ? 32 : 8;
        if (strlen(s) != hex + 5 || s[hex] != ':')
                return -EINVAL;
        for (size_t w = 0; w < hex / 8; w++) {
                char word[9];
                memcpy(word, s + 8 * w, 8);
                word[8] = 0;
                char *end;
                unsigned long v = strtoul(word, &end, 16);
                if (*end)
                        return -EINVAL;
                uint32_t v32 = (uint32_t)v;
                memcpy(addr + 4 * w, &v32, 4);
        }
        char *end;
        unsigned long p = strtoul(s + hex + 1, &end, 16);
        if (*end || p > 65535)
                return -EINVAL;
        *port = (unsigned)p;
        return 0;
}

/* One line: 1 with *uid when it is a LISTEN socket that takes connections to
 * family/addr:port, 0 when not, -EINVAL when it is not a socket line. */
static int listen_line(const char *l, bool v6, int family, const unsigned char *want, unsigned port, unsigned *uid)
{
        char sl[16], local[64], rem[64], st[8], txrx[40], tr[40], retr[16];
        unsigned u;
        if (sscanf(l, "%15s %63s %63s %7s %39s %39s %15s %u", sl, local, rem, st, txrx, tr, retr, &u) != 8 ||
            sl[strlen(sl) - 1] != ':')
                return -EINVAL;
        unsigned char a[16];
        unsigned p;
        if (parse_hex_addr(local, v6, a, &p) < 0)
                return -EINVAL;
        if (strcasecmp(st, "0A") != 0 || p != port)
                return 0;
        static const unsigned char zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
        bool match;
        if (!v6)
                match = family == AF_INET && (!memcmp(a, want, 4) || !memcmp(a, zero, 4));
        else if (family == AF_INET6)
                match = !memcmp(a, want, 16) || !memcmp(a, zero, 16);
        else /* a dual-stack socket takes IPv4 connections as ::ffff:a.b.c.d (and on ::) */
                match = !memcmp(a, zero, 16) || (!memcmp(a, mapped, 12) && !memcmp(a + 12, want, 4));
        if (!match)
                return 0;
        *uid = u;
        return 1;
}

static bool header_line(const char *l) { return strstr(l, "local_address") != NULL; }

int trust_tcp_listen_uids(const char *text, bool v6, int family, const void *addr, unsigned port, unsigned *uids, size_t max)
{
        const char *nl = strchr(text, '\n');
        if (!nl || !header_line(text) || strstr(text, "local_address") > nl)
                return -EINVAL;
        size_t n = 0;
        _cleanup_free_ char *line = NULL;
        for (const char *l = nl + 1; *l;) {
                const char *e = strchr(l, '\n');
                size_t len = e ? (size_t)(e - l) : strlen(l);
                free(line);
                line = xstrndup(l, len);
                unsigned u;
                if (listen_line(line, v6, family, addr, port, &u) == 1) {
                        if (n < max)
                                uids[n] = u;
                        n++;
                }
                l += len + (e ? 1 : 0);
        }
        return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Every LISTEN socket for family/addr:port in one /proc/self/net file, streamed. */
static int scan_net(const char *file, bool v6, int family, const unsigned char *addr, unsigned port, const struct trust *t,
                    size_t *found, unsigned *bad_uid, bool *bad)
{
        FILE *f = fopen(file, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel */
        char *line = NULL;
        size_t cap = 0, lines = 0;
        ssize_t len;
        int r = 0;
        if ((len = getline(&line, &cap, f)) < 0 || !header_line(line))
                r = -EINVAL;
        while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
                if (++lines > TCP_LINES_MAX) {
                        r = -E2BIG;
                        break;
                }
                unsigned u;
                if (listen_line(line, v6, family, addr, port, &u) != 1)
                        continue;
                (*found)++;
                if (!trust_uid(t, u) && !*bad) {
                        *bad = true;
                        *bad_uid = u;
                }
        }
        free(line);
        fclose(f);
        return r;
}

int trust_tcp_peer(const struct trust *t, const char *ip, unsigned port, char *why, size_t whylen)
{
        unsigned char a[16];
        char h[INET6_ADDRSTRLEN + 2];
        snprintf(h, sizeof(h), "%s", ip && ip[0] == '[' ? ip + 1 : ip ? ip : "");
        h[strcspn(h, "]%")] = 0;
        int family = inet_pton(AF_INET, h, a) == 1 ? AF_INET : inet_pton(AF_INET6, h, a) == 1 ? AF_INET6 : 0;
        if (!family || !trust_ip_loopback(h)) {
                snprintf(why, whylen, "%s is not a loopback address: evodiag cannot tell who listens there", *h ? h : "the peer");
                return -EPERM;
        }
        static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
        if (family == AF_INET6 && !memcmp(a, mapped, 12)) { /* ::ffff:127.0.0.1 is 127.0.0.1 */
                memmove(a, a + 12, 4);
                family = AF_INET;
        }
        size_t found = 0;
        unsigned bad_uid = 0;
        bool bad = false;
        int r4 = scan_net("/proc/self/net/tcp", false, family, a, port, t, &found, &bad_uid, &bad);
        int r6 = scan_net("/proc/self/net/tcp6", true, family, a, port, t, &found, &bad_uid, &bad);
        if (r4 < 0 || r6 < 0) {
                snprintf(why, whylen, "cannot read /proc/self/net/tcp%s to see who listens on %s:%u: %s", r4 < 0 ? "" : "6", h, port,
                         strerror(-(r4 < 0 ? r4 : r6)));
                return -EPERM;
        }
        if (bad) {
                snprintf(why, whylen, "%s:%u is served by uid %u, not %s", h, port, bad_uid, trust_who(t));
                return -EPERM;
        }
        if (!found) {
                snprintf(why, whylen, "no listening socket for %s:%u in /proc/self/net/tcp or tcp6: its owner is unknown", h, port);
                return -EPERM;
        }
        return 0;
}

int trust_unix_peer(const struct trust *t, int fd, char *why, size_t whylen)
{
        struct ucred cr;
        socklen_t len = sizeof(cr);
        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
                snprintf(why, whylen, "cannot tell who serves the socket (SO_PEERCRED: %s)", strerror(fd < 0 ? EBADF : errno));
                return -EPERM;
        }
        if (!trust_uid(t, cr.uid)) {
                snprintf(why, whylen, "the socket is served by uid %u (pid %d), not %s", (unsigned)cr.uid, (int)cr.pid, trust_who(t));
                return -EPERM;
        }
        return 0;
}
