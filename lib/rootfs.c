#include "config.h"
#include "lib/pathmap.h"
#include "lib/rootfs.h"
#include "lib/rootfs_private.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
        uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif

static char *root;       /* NULL = live system */
static int rootfd = -1;  /* the root, opened once (O_PATH) */
static int root_err;     /* why it could not be opened */
static enum { O2_UNKNOWN, O2_YES, O2_NO } have_openat2;
static enum rootfs_resolver resolver;

static void *memdup_(const void *p, size_t n)
{
        void *q = xmalloc(n);
        memcpy(q, p, n);
        return q;
}

/* --from: what the original host said (errors, stats, links, counts, cut files);
 * the bundle's snapshot is in rootfs_snapshot.c. */
static struct pathmap injected_err, stats, links, counts, truncs;

void rootfs_inject_stat(const char *path, const struct stat *st) { pm_put(&stats, path, memdup_(st, sizeof(*st))); }

void rootfs_inject_error(const char *path, int error)
{
        if (error > 0 && error < 4096)
                pm_put(&injected_err, path, memdup_(&error, sizeof(error)));
}

int rootfs_injected_error(const char *path)
{
        const int *e = pm_get(&injected_err, path);
        return e ? *e : 0;
}

void rootfs_inject_link(const char *path, const char *target)
{
        if (*target && strlen(target) < PATH_MAX)
                pm_put(&links, path, xstrdup(target));
}

void rootfs_inject_count(const char *path, long lines)
{
        if (lines >= 0)
                pm_put(&counts, path, memdup_(&lines, sizeof(lines)));
}

void rootfs_inject_truncated(const char *path)
{
        pm_put(&truncs, path, xstrdup(""));
}

/* ---------------- tracing ---------------- */

static struct {
        bool on;
        size_t max, used;
        struct trace_entry *v;
        size_t n, cap;
        struct pathmap idx[TRACE_STAT + 1]; /* per kind: path -> index + 1 */
} tr;

static struct trace_entry *trace_find(const char *path, enum trace_kind kind)
{
        const size_t *i = pm_get(&tr.idx[kind], path);
        return i ? &tr.v[*i] : NULL;
}

/* Returns the new entry, or NULL (not tracing, or already there). */
static struct trace_entry *trace_add(const char *path, enum trace_kind kind, const char *data, size_t len, bool truncated)
{
        if (!tr.on || trace_find(path, kind))
                return NULL;
        if (data && tr.used + len > tr.max) { /* over budget: remember the path, not the bytes */
                data = NULL;
                len = 0;
                truncated = true;
                if (kind == TRACE_FILE) {
                        kind = TRACE_COUNTED;
                        if (trace_find(path, kind))
                                return NULL;
                }
        }
        if (tr.n == tr.cap) {
                tr.cap = tr.cap ? tr.cap * 2 : 256;
                tr.v = xrealloc(tr.v, tr.cap * sizeof(*tr.v));
        }
        tr.v[tr.n] = (struct trace_entry){
                .path = xstrdup(path), .kind = kind, .data = data ? xstrndup(data, len) : NULL, .len = len,
                .truncated = truncated, .count = -1,
        };
        pm_put(&tr.idx[kind], path, memdup_(&tr.n, sizeof(tr.n)));
        if (data)
                tr.used += len;
        return &tr.v[tr.n++];
}

/* Failures worth replaying: permission and I/O errors, a non-directory where a
 * directory was listed, a non-regular file; not absence (absent stays absent). */
static void trace_error(const char *path, int error)
{
        if (!tr.on || error == ENOENT || trace_find(path, TRACE_ERROR))
                return;
        struct trace_entry *t = trace_add(path, TRACE_ERROR, NULL, 0, false);
        if (t)
                t->error = error;
}

void rootfs_trace_failed(const char *path, int error) { trace_error(path, error); }

static void trace_counted(const char *path, long lines)
{
        struct trace_entry *t = trace_add(path, TRACE_COUNTED, NULL, 0, false);
        if (t)
                t->count = lines;
}

void rootfs_trace_start(size_t max_bytes)
{
        tr.on = true;
        tr.max = max_bytes;
}

const struct trace_entry *rootfs_trace_entries(size_t *n)
{
        *n = tr.n;
        return tr.v;
}

bool rootfs_tracing(void) { return tr.on; }
const struct trace_entry *rootfs_trace_find(const char *path, enum trace_kind kind) { return trace_find(path, kind); }
void rootfs_trace_stop(void) { tr.on = false; }

/* ---------------- the root ---------------- */

int rootfs_set(const char *r)
{
        free(root);
        root = NULL;
        if (rootfd >= 0)
                close(rootfd);
        rootfd = -1;
        root_err = 0;
        if (!r || !*r || streq(r, "/"))
                return 0;
        root = xstrdup(r);
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                root[--n] = 0;
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                root_err = -errno;
        return root_err;
}

const char *rootfs_get(void) { return root ? root : "/"; }
bool rootfs_is_live(void) { return root == NULL; }
void rootfs_set_resolver(enum rootfs_resolver r) { resolver = r; }

void rootfs_close_fds_except(int a, int b)
{
        int keep[3] = {a, b, rootfd}, n = 3;
        for (int i = 1; i < n; i++) /* sort the three */
                for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        unsigned from = 3;
        for (int i = 0; i < n; i++) {
                if (keep[i] < (int)from)
                        continue;
                if ((unsigned)keep[i] > from && close_range(from, (unsigned)keep[i] - 1, 0) < 0 && errno == ENOSYS)
                        goto by_hand;
                from = (unsigned)keep[i] + 1;
        }
        if (close_range(from, ~0u, 0) == 0 || errno != ENOSYS)
                return;
by_hand:
        for (int fd = 3; fd < 65536; fd++)
                if (fd != a && fd != b && fd != rootfd)
                        (void)close(fd);
}

const char *rootfs_strerror(int err)
{
        if (err < 0)
                err = -err;
        return err == ROOTFS_ENOTREG ? "not a regular file (a FIFO, socket or device)" : strerror(err);
}

#define CHASE_DEPTH_MAX 1024          /* directories deep */
#define CHASE_PATH_MAX (4 * PATH_MAX) /* what is left to walk, link targets spliced in */

/* The by-hand walk (systemd's chase() without openat2): one component at a time,
 * O_PATH|O_NOFOLLOW, from the root's fd. A link's target is spliced into the path
 * still to walk: an absolute one restarts at the root, and ".." pops a component we
 * walked down, never below the root (so no kernel ".." is ever taken). */
static int chase(const char *path, int flags)
{
        bool follow = !(flags & O_NOFOLLOW);
        if (!*path)
                return -ENOENT;
        if (strlen(path) >= CHASE_PATH_MAX)
                return -ENAMETOOLONG;
        char *todo = xstrdup(path);
        int stack[CHASE_DEPTH_MAX];
        size_t depth = 0, pos = 0;
        unsigned nlinks = 0;
        int ret;
        for (;;) {
                int cur = depth ? stack[depth - 1] : rootfd;
                while (todo[pos] == '/')
                        pos++;
                if (!todo[pos]) { /* a directory: the root, or one reached by ".", ".." or a trailing '/' */
                        ret = openat(cur, ".", flags & ~O_NOFOLLOW);
                        if (ret < 0)
                                ret = -errno;
                        break;
                }
                size_t n = strcspn(todo + pos, "/");
                if (n > NAME_MAX) {
                        ret = -ENAMETOOLONG;
                        break;
                }
                char name[NAME_MAX + 1];
                memcpy(name, todo + pos, n);
                name[n] = 0;
                pos += n;
                bool last = !todo[pos]; /* "a/" is not last: a must be a directory, and is followed */
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        if (depth)
                                close(stack[--depth]);
                        continue;
                }
                int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        ret = -errno;
                        if (fd >= 0)
                                close(fd);
                        break;
                }
                if (S_ISLNK(st.st_mode) && (!last || follow)) {
                        char target[PATH_MAX];
                        ssize_t tl = ++nlinks > ROOTFS_LINKS_MAX ? -1 : readlinkat(fd, "", target, sizeof(target));
                        int e = nlinks > ROOTFS_LINKS_MAX ? ELOOP : errno;
                        close(fd);
                        size_t rest = strlen(todo + pos);
                        if (tl < 0 || tl == 0 || (size_t)tl >= sizeof(target) || (size_t)tl + rest >= CHASE_PATH_MAX) {
                                ret = tl < 0 ? -e : tl == 0 ? -ENOENT : -ENAMETOOLONG;
                                break;
                        }
                        char *next = xmalloc((size_t)tl + rest + 1);
                        memcpy(next, target, (size_t)tl);
                        memcpy(next + tl, todo + pos, rest + 1);
                        free(todo);
                        todo = next;
                        pos = 0;
                        if (target[0] == '/')
                                while (depth)
                                        close(stack[--depth]);
                        continue;
                }
                if (last) {
                        if (flags & O_PATH) {
                                ret = (flags & O_DIRECTORY) && !S_ISDIR(st.st_mode) ? -ENOTDIR : fd;
                                if (ret < 0)
                                        close(fd);
                                break;
                        }
                        close(fd);
                        /* Not a link a moment ago; O_NOFOLLOW: if it became one, ELOOP. */
                        ret = openat(cur, name, flags | O_NOFOLLOW);
                        if (ret < 0)
                                ret = -errno;
                        break;
                }
                if (!S_ISDIR(st.st_mode) || depth == CHASE_DEPTH_MAX) {
                        close(fd);
                        ret = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
                        break;
                }
                stack[depth++] = fd;
        }
        while (depth)
                close(stack[--depth]);
        free(todo);
        return ret;
}

/* Opens path inside the root: openat2 where the kernel has it, else chase(). */
static int in_root(const char *path, int flags)
{
        if (rootfd < 0)
                return root_err ? root_err : -EBADF;
        flags |= O_CLOEXEC;
        if (resolver == ROOTFS_RESOLVE_AUTO && have_openat2 != O2_NO) {
                struct open_how how = {.flags = (uint64_t)(unsigned)flags, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
                for (int again = 0;; again++) {
                        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                        if (fd >= 0) {
                                have_openat2 = O2_YES;
                                return (int)fd;
                        }
                        /* EAGAIN: a rename or mount raced with RESOLVE_IN_ROOT; the kernel asks to retry. */
                        if (errno == EINTR || (errno == EAGAIN && again < 16))
                                continue;
                        if (errno == ENOSYS) {
                                have_openat2 = O2_NO;
                                break;
                        }
                        if (errno == EPERM && have_openat2 == O2_UNKNOWN) {
                                /* A seccomp filter (containers) answers EPERM to syscalls it does not know;
                                 * if the walk by hand opens the same path, that is what happened. */
                                int r = chase(path, flags);
                                if (r >= 0)
                                        have_openat2 = O2_NO;
                                return r;
                        }
                        return -errno;
                }
        }
        return chase(path, flags);
}

int rootfs_open(const char *path, int flags)
{
        if (!root) {
                int fd = open(path, flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        return in_root(path, flags);
}

/* O_NOFOLLOW on a link: ELOOP, as open(2) says it. */
static int type_error(mode_t m) { return S_ISDIR(m) ? -EISDIR : S_ISLNK(m) ? -ELOOP : -ROOTFS_ENOTREG; }

int rootfs_open_file(const char *path, int flags)
{
        flags = (flags & O_NOFOLLOW) | O_RDONLY | O_NONBLOCK | O_NOCTTY;
        struct stat st;
        if (root) {
                /* A tree from elsewhere may hold device nodes (a tar unpacked by root): even
                 * opening one can act (a watchdog starts counting). Look before opening. */
                int p = in_root(path, O_PATH | (flags & O_NOFOLLOW));
                if (p < 0)
                        return p;
                int r = fstat(p, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : type_error(st.st_mode);
                close(p);
                if (r < 0)
                        return r;
        }
        int fd = rootfs_open(path, flags);
        if (fd == -ENXIO || fd == -ENODEV) { /* a socket, or a device without a driver: say what it is */
                int p = rootfs_open(path, O_PATH | (flags & O_NOFOLLOW));
                if (p >= 0 && fstat(p, &st) == 0 && !S_ISREG(st.st_mode))
                        fd = type_error(st.st_mode);
                if (p >= 0)
                        close(p);
        }
        if (fd < 0)
                return fd;
        /* A FIFO opens at once with O_NONBLOCK (no writer needed): refused here. */
        int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : type_error(st.st_mode);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* read(2) on an fd from rootfs_open_file: O_NONBLOCK means nothing to a regular file,
 * but should one ever answer EAGAIN the read blocks (under the caller's deadline). */
static ssize_t read_file(int fd, void *buf, size_t n)
{
        for (;;) {
                ssize_t r = read(fd, buf, n);
                if (r >= 0)
                        return r;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -1;
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || !(fl & O_NONBLOCK) || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                        errno = EAGAIN;
                        return -1;
                }
        }
}

/* ---------------- reading ---------------- */

long rootfs_read(const char *path, size_t max, char **out, bool *truncated)
{
        *out = NULL;
        if (truncated)
                *truncated = false;
        int inj = rootfs_injected_error(path);
        if (inj)
                return -inj;
        bool cut = pm_get(&truncs, path) != NULL; /* --from: the host's file went on */
        char *sd;
        size_t sl;
        if (rootfs_snapshot_get(path, &sd, &sl)) {
                size_t n = sl < max ? sl : max;
                bool t = sl > max || cut;
                sd[n] = 0;
                *out = sd;
                if (truncated)
                        *truncated = t;
                struct trace_entry *te = trace_add(path, TRACE_FILE, NULL, n, t); /* the bytes stay in the snapshot */
                if (te)
                        te->snapshot = true;
                return (long)n;
        }
        _cleanup_close_ int fd = rootfs_open_file(path, 0);
        if (fd < 0) {
                trace_error(path, -fd);
                return fd;
        }
        struct strbuf b = {0};
        char chunk[8192];
        bool t = false;
        for (;;) {
                size_t want = sizeof(chunk);
                if (b.len + want > max)
                        want = max - b.len;
                if (want == 0) {
                        /* One more byte tells whether the file really is longer. */
                        char c;
                        t = read_file(fd, &c, 1) > 0 || cut;
                        break;
                }
                ssize_t r = read_file(fd, chunk, want);
                if (r < 0) {
                        int e = errno;
                        sb_free(&b);
                        trace_error(path, e);
                        return -e;
                }
                if (r == 0) {
                        t = cut;
                        break;
                }
                sb_putn(&b, chunk, (size_t)r);
        }
        long n = (long)b.len;
        *out = sb_steal(&b);
        if (truncated)
                *truncated = t;
        trace_add(path, TRACE_FILE, *out, (size_t)n, t);
        return n;
}

int rootfs_read_value(const char *path, char **out)
{
        *out = NULL;
        char *buf;
        long r = rootfs_read(path, 64 << 10, &buf, NULL);
        if (r < 0)
                return (int)r;
        char *s = strstrip(buf);
        *out = xstrdup(s);
        free(buf);
        return 0;
}

int rootfs_read_u64(const char *path, uint64_t *out)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value(path, &v);
        if (r < 0)
                return r;
        return parse_u64(v, out);
}

static long count_newlines(const char *s, size_t len, bool *partial)
{
        long n = 0;
        for (const char *p = s, *end = s + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
                n++;
        if (len)
                *partial = s[len - 1] != '\n';
        return n;
}

long rootfs_count_lines(const char *path)
{
        int inj = rootfs_injected_error(path);
        if (inj)
                return -inj;
        const long *ic = pm_get(&counts, path);
        if (ic) /* --from: what was counted on the host (the stored copy may be cut) */
                return *ic;
        bool partial = false;
        long n = 0;
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (rootfs_snapshot_get(path, &data, &len)) { /* a bundle: what an earlier collector saw */
                n = count_newlines(data, len, &partial) + partial;
                trace_counted(path, n);
                return n;
        }
        _cleanup_close_ int fd = rootfs_open_file(path, 0);
        if (fd < 0) {
                trace_error(path, -fd);
                return fd;
        }
        char buf[65536];
        for (;;) {
                ssize_t r = read_file(fd, buf, sizeof(buf));
                if (r < 0) {
                        int e = errno;
                        trace_error(path, e);
                        return -e;
                }
                if (r == 0)
                        break;
                n += count_newlines(buf, (size_t)r, &partial);
        }
        n += partial;
        trace_counted(path, n);
        return n;
}

int rootfs_stat(const char *path, struct stat *st, bool follow)
{
        const struct stat *inj = pm_get(&stats, path);
        if (inj) {
                *st = *inj;
                return 0;
        }
        if (!root) {
                if ((follow ? stat(path, st) : lstat(path, st)) < 0)
                        return -errno;
        } else {
                int fd = in_root(path, O_PATH | (follow ? 0 : O_NOFOLLOW));
                if (fd < 0)
                        return fd;
                int r = fstat(fd, st) < 0 ? -errno : 0;
                close(fd);
                if (r < 0)
                        return r;
        }
        /* Existence counts too (proc_exists: is the creator alive?): offline it must agree. */
        struct trace_entry *t = trace_add(path, TRACE_STAT, NULL, 0, false);
        if (t)
                t->st = memdup_(st, sizeof(*st));
        return 0;
}

#define DIR_MAX ROOTFS_DIR_MAX

struct rootfs_dir {
        char *names; /* NUL-separated: a file name may hold any byte but NUL and '/' */
        size_t len, pos;
        struct dirent de;
};

struct rootfs_dir *rootfs_opendir(const char *path)
{
        int inj = rootfs_injected_error(path);
        if (inj) {
                errno = inj;
                return NULL;
        }
        struct strbuf names = {0};
        sb_puts(&names, "");
        const char *held;
        size_t held_len;
        if (rootfs_snapshot_dir(path, &held, &held_len)) {
                sb_putn(&names, held, held_len);
        } else {
                DIR *d = NULL;
                if (!root) {
                        d = opendir(path);
                } else {
                        int fd = in_root(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
                        if (fd < 0)
                                errno = -fd;
                        else if (!(d = fdopendir(fd)))
                                close(fd);
                }
                if (!d) {
                        int e = errno;
                        trace_error(path, e); /* ENOTDIR too: a listing that failed so must fail so offline */
                        sb_free(&names);
                        errno = e;
                        return NULL;
                }
                struct dirent *de;
                size_t count = 0;
                while ((de = readdir(d)) && count < DIR_MAX) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        sb_putn(&names, de->d_name, strlen(de->d_name) + 1);
                        count++;
                }
                closedir(d);
        }
        trace_add(path, TRACE_DIR, names.s, names.len, false);
        struct rootfs_dir *rd = xcalloc(1, sizeof(*rd));
        rd->len = names.len;
        rd->names = sb_steal(&names);
        return rd;
}

struct dirent *rootfs_readdir(struct rootfs_dir *d)
{
        if (d->pos >= d->len)
                return NULL;
        const char *p = d->names + d->pos;
        size_t n = strnlen(p, d->len - d->pos);
        d->pos += n + 1;
        if (n >= sizeof(d->de.d_name))
                n = sizeof(d->de.d_name) - 1;
        memcpy(d->de.d_name, p, n);
        d->de.d_name[n] = 0;
        d->de.d_type = DT_UNKNOWN;
        return &d->de;
}

void rootfs_closedir(struct rootfs_dir *d)
{
        if (!d)
                return;
        free(d->names);
        free(d);
}

int rootfs_readlink(const char *path, char **out)
{
        *out = NULL;
        const char *inj = pm_get(&links, path);
        if (inj) { /* --from: the target seen on the host (absolute ones are not stored as links) */
                *out = xstrdup(inj);
                return 0;
        }
        char buf[PATH_MAX];
        ssize_t n;
        if (!root) {
                n = readlink(path, buf, sizeof(buf));
        } else {
                int fd = in_root(path, O_PATH | O_NOFOLLOW);
                if (fd < 0)
                        return fd;
                n = readlinkat(fd, "", buf, sizeof(buf));
                int e = errno;
                close(fd);
                errno = e == ENOENT ? EINVAL : e; /* not a link: as readlink(2) says it */
        }
        if (n < 0)
                return -errno;
        if ((size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        buf[n] = 0;
        *out = xstrdup(buf);
        trace_add(path, TRACE_LINK, buf, (size_t)n, false);
        return 0;
}

bool rootfs_exists(const char *path)
{
        struct stat st;
        return rootfs_stat(path, &st, true) == 0;
}
