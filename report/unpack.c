#include "config.h"
#include "report/unpack.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void remove_tree(const char *dir)
{
        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct unpack_limits default_limits = {.max_bytes = UNPACK_MAX_BYTES, .max_entries = UNPACK_MAX_ENTRIES};

/* An archive's name, for a message: control characters made harmless, bounded. */
static char *shown(const char *raw)
{
        char *s = str_printable(raw ? raw : "");
        if (strlen(s) > 200)
                strcpy(s + 197, "...");
        return s;
}

bool unpack_link_target_ok(const char *t)
{
        if (!t || !*t || t[0] == '/' || strlen(t) >= PATH_MAX)
                return false;
        for (const char *p = t; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += n;
                p += *p == '/';
        }
        return true;
}

/* "a/./b//c/" -> "a/b/c" ("" for the top itself); NULL with *why for absolute or
 * climbing paths and over-long names. */
static char *normalize(const char *raw, const char **why)
{
        if (raw[0] == '/') {
                *why = "an absolute path";
                return NULL;
        }
        struct strbuf b = {0};
        sb_puts(&b, "");
        for (const char *p = raw; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        *why = "a '..' component in its path";
                        sb_free(&b);
                        return NULL;
                }
                if (n > NAME_MAX) {
                        *why = "a name longer than 255 bytes";
                        sb_free(&b);
                        return NULL;
                }
                if (n && !(n == 1 && p[0] == '.')) {
                        if (b.len)
                                sb_putc(&b, '/');
                        sb_putn(&b, p, n);
                }
                p += n;
                p += *p == '/';
        }
        return sb_steal(&b);
}

static int sys_openat2(int dfd, const char *path, int flags, uint64_t resolve)
{
        struct open_how how = {.flags = (uint64_t)(unsigned)flags, .resolve = resolve};
        long fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

/* Walks the directories of `dir` from dirfd with O_NOFOLLOW, creating missing ones
 * (0700) when asked. A symlink or a file on the way: -ELOOP / -ENOTDIR. */
static int walk_dirs(int dirfd, const char *dir, bool create)
{
        int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        _cleanup_free_ char *copy = xstrdup(dir);
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        close(cur);
                        return -EXDEV;
                }
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT && create) {
                        if (mkdirat(cur, c, 0700) < 0 && errno != EEXIST) {
                                int e = errno;
                                close(cur);
                                return -e;
                        }
                        next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                int e = errno;
                close(cur);
                if (next < 0)
                        return -e;
                cur = next;
        }
        return cur;
}

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

int unpack_open_beneath(int dirfd, const char *path, int flags)
{
        flags |= O_NOFOLLOW | O_CLOEXEC;
        int fd = sys_openat2(dirfd, path, flags, BENEATH);
        if (fd != -ENOSYS && fd != -EAGAIN)
                return fd;
        /* No openat2 (kernel < 5.6): the same rule, one component at a time. */
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        const char *leaf = slash ? slash + 1 : dir;
        if (slash)
                *slash = 0;
        if (streq(leaf, "..") || !*leaf)
                return -EXDEV;
        int d = walk_dirs(dirfd, slash ? dir : "", false);
        if (d < 0)
                return d;
        fd = openat(d, leaf, flags, 0600);
        int e = errno;
        close(d);
        return fd < 0 ? -e : fd;
}

/* The directory an entry goes into, created as needed, never through a link. */
static int open_parent(int rootfd, const char *dir, bool create)
{
        if (!*dir) {
                int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? -errno : fd;
        }
        int fd = unpack_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT)
                fd = walk_dirs(rootfd, dir, create);
        return fd;
}

struct unpacker {
        int rootfd;
        const struct unpack_limits *lim;
        uint64_t bytes;
        size_t entries;
        char **links; /* normalized paths of the symlinks made, checked at the end */
        size_t nlinks, caplinks;
        char **err;
};

PRINTF(3, 4) static int fail(struct unpacker *u, int r, const char *fmt, ...)
{
        if (!*u->err) {
                va_list ap;
                va_start(ap, fmt);
                *u->err = xvasprintf(fmt, ap);
                va_end(ap);
        }
        return r;
}

static const char *type_name(mode_t t)
{
        switch (t) {
        case AE_IFCHR: return "a character device";
        case AE_IFBLK: return "a block device";
        case AE_IFIFO: return "a FIFO";
        case AE_IFSOCK: return "a socket";
        default: return "an entry of unknown type";
        }
}

static int write_data(struct unpacker *u, struct archive *a, int fd, const char *name, int64_t size)
{
        const void *buf;
        size_t len;
        la_int64_t off;
        int dr;
        int64_t end = 0;
        while ((dr = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK || dr == ARCHIVE_WARN) {
                if (off < 0 || (uint64_t)off > (uint64_t)size || len > (uint64_t)size - (uint64_t)off)
                        return fail(u, -EIO, "'%s' is corrupt: data past its declared size", name);
                for (const char *p = buf; len;) {
                        ssize_t w = pwrite(fd, p, len, off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0) {
                                int e = w < 0 ? errno : EIO;
                                return fail(u, -e, "cannot unpack '%s': %s", name, strerror(e));
                        }
                        p += w;
                        off += w;
                        len -= (size_t)w;
                }
                if (off > end)
                        end = off;
        }
        if (dr != ARCHIVE_EOF)
                return fail(u, -EIO, "'%s' is truncated or corrupt: %s", name,
                            archive_error_string(a) ? archive_error_string(a) : "read error");
        if (size > end && ftruncate(fd, size) < 0) /* a sparse file's last hole */
                return fail(u, -errno, "cannot unpack '%s': %s", name, strerror(errno));
        return 0;
}

static int one_entry(struct unpacker *u, struct archive *a, struct archive_entry *e)
{
        const char *raw = archive_entry_pathname(e);
        _cleanup_free_ char *name = shown(raw);
        if (++u->entries > u->lim->max_entries)
                return fail(u, -EFBIG, "refusing the bundle: more than %zu entries", u->lim->max_entries);
        if (!raw || !*raw)
                return fail(u, -EPERM, "refusing an entry without a name");
        if (strlen(raw) > UNPACK_MAX_PATH)
                return fail(u, -EPERM, "refusing entry '%s': a path longer than %d bytes", name, UNPACK_MAX_PATH);
        const char *why = NULL;
        _cleanup_free_ char *p = normalize(raw, &why);
        if (!p)
                return fail(u, -EPERM, "refusing entry '%s': %s", name, why);
        const char *hard = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                return fail(u, -EPERM, "refusing entry '%s': %s does not belong in a bundle", name, type_name(type));
        if (!*p) {
                if (type == AE_IFDIR && !hard)
                        return 0; /* "./": the top itself */
                return fail(u, -EPERM, "refusing entry '%s': it names the top directory", name);
        }
        int64_t size = 0;
        if (!hard && type == AE_IFREG) {
                size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
                if (size < 0 || (uint64_t)size > u->lim->max_bytes - u->bytes)
                        return fail(u, -EFBIG, "refusing entry '%s': its %lld bytes exceed what is left of the %llu MiB unpack budget",
                                    name, (long long)size, (unsigned long long)(u->lim->max_bytes >> 20));
                u->bytes += (uint64_t)size;
        }
        const char *target = type == AE_IFLNK && !hard ? archive_entry_symlink(e) : NULL;
        if (type == AE_IFLNK && !hard && !unpack_link_target_ok(target)) {
                _cleanup_free_ char *t = shown(target);
                return fail(u, -EPERM, "refusing link '%s' -> '%s': %s", name, t,
                            !target || !*target ? "no target"
                            : target[0] == '/' ? "an absolute target leaves the bundle"
                                               : "a target with a '..' component can leave the bundle");
        }
        char *slash = strrchr(p, '/');
        const char *leaf = slash ? slash + 1 : p;
        if (slash)
                *slash = 0;
        int parent = open_parent(u->rootfd, slash ? p : "", true);
        if (parent == -ELOOP || parent == -ENOTDIR || parent == -EXDEV)
                return fail(u, -EPERM, "refusing entry '%s': a link or a file is on its way (a bundle never writes through links)", name);
        if (parent < 0)
                return fail(u, parent, "cannot unpack '%s': %s", name, strerror(-parent));
        _cleanup_close_ int pfd = parent;
        if (slash)
                *slash = '/';

        if (hard) {
                _cleanup_free_ char *h = shown(hard);
                const char *hwhy = NULL;
                _cleanup_free_ char *hp = normalize(hard, &hwhy);
                if (!hp || !*hp)
                        return fail(u, -EPERM, "refusing hard link '%s' -> '%s': %s", name, h, hp ? "it names the top directory" : hwhy);
                char *hs = strrchr(hp, '/');
                const char *hleaf = hs ? hs + 1 : hp;
                if (hs)
                        *hs = 0;
                int tp = open_parent(u->rootfd, hs ? hp : "", false);
                struct stat st;
                if (tp < 0 || fstatat(tp, hleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
                        if (tp >= 0)
                                close(tp);
                        return fail(u, -EPERM, "refusing hard link '%s' -> '%s': its target is not a file unpacked before it", name, h);
                }
                int r = linkat(tp, hleaf, pfd, leaf, 0);
                int le = errno;
                close(tp);
                if (r < 0)
                        return le == EEXIST ? fail(u, -EPERM, "refusing entry '%s': it is in the bundle twice", name)
                                            : fail(u, -le, "cannot unpack '%s': %s", name, strerror(le));
                return 0;
        }
        if (type == AE_IFDIR) {
                struct stat st;
                if (mkdirat(pfd, leaf, 0700) == 0)
                        return 0;
                if (errno != EEXIST)
                        return fail(u, -errno, "cannot unpack '%s': %s", name, strerror(errno));
                if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return fail(u, -EPERM, "refusing entry '%s': it is in the bundle twice, as a directory and not", name);
                return 0;
        }
        if (type == AE_IFLNK) {
                if (symlinkat(target, pfd, leaf) < 0)
                        return errno == EEXIST ? fail(u, -EPERM, "refusing entry '%s': it is in the bundle twice", name)
                                               : fail(u, -errno, "cannot unpack '%s': %s", name, strerror(errno));
                if (u->nlinks == u->caplinks) {
                        u->caplinks = u->caplinks ? u->caplinks * 2 : 64;
                        u->links = xrealloc(u->links, u->caplinks * sizeof(char *));
                }
                u->links[u->nlinks++] = xstrdup(p);
                return 0;
        }
        int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return errno == EEXIST ? fail(u, -EPERM, "refusing entry '%s': it is in the bundle twice", name)
                                       : fail(u, -errno, "cannot unpack '%s': %s", name, strerror(errno));
        int r = write_data(u, a, fd, name, size);
        if (close(fd) < 0 && r == 0)
                r = fail(u, -errno, "cannot unpack '%s': %s", name, strerror(errno));
        return r;
}

/* Every link made resolves beneath the root, by the kernel's own resolution
 * (a second line behind the no-".." rule). Dangling and looping links are fine. */
static int verify_links(int rootfd, char **links, size_t n, char **err)
{
        for (size_t i = 0; i < n; i++) {
                int fd = sys_openat2(rootfd, links[i], O_PATH | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
                if (fd == -ENOSYS)
                        return 0;
                if (fd >= 0)
                        close(fd);
                if (fd == -EXDEV) {
                        _cleanup_free_ char *s = shown(links[i]);
                        *err = xasprintf("refusing link '%s': it resolves outside the bundle", s);
                        return -EPERM;
                }
        }
        return 0;
}

static int unpack_archive(struct archive *a, int rootfd, const struct unpack_limits *lim, char **err)
{
        struct unpacker u = {.rootfd = rootfd, .lim = lim ? lim : &default_limits, .err = err};
        int r = 0, hr;
        struct archive_entry *e;
        while ((hr = archive_read_next_header(a, &e)) == ARCHIVE_OK || hr == ARCHIVE_WARN) {
                if ((r = one_entry(&u, a, e)) < 0)
                        break;
                /* Headers, padding and what was skipped count too: a stream of empty
                 * entries or giant skipped data must end as well. */
                if ((uint64_t)archive_filter_bytes(a, 0) > u.lim->max_bytes + (uint64_t)u.lim->max_entries * 1536) {
                        r = fail(&u, -EFBIG, "refusing the bundle: it unpacks to more than %llu MiB",
                                 (unsigned long long)(u.lim->max_bytes >> 20));
                        break;
                }
        }
        if (!r && hr != ARCHIVE_EOF)
                r = fail(&u, -EINVAL, "not a bundle: %s", archive_error_string(a) ? archive_error_string(a) : "unreadable archive");
        if (!r)
                r = verify_links(rootfd, u.links, u.nlinks, err);
        for (size_t i = 0; i < u.nlinks; i++)
                free(u.links[i]);
        free(u.links);
        return r;
}

static struct archive *reader(void)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        /* The compressions a bundle or a repacked bundle uses, by library only: never
         * an external program (archive_read_support_filter_all would allow some). */
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_bzip2(a);
        return a;
}

int unpack_fd(int archive_fd, int dirfd, const struct unpack_limits *lim, char **err)
{
        *err = NULL;
        struct archive *a = reader();
        int r;
        if (archive_read_open_fd(a, archive_fd, 65536) != ARCHIVE_OK) {
                *err = xasprintf("not a bundle: %s", archive_error_string(a) ? archive_error_string(a) : "unreadable archive");
                r = -EINVAL;
        } else {
                r = unpack_archive(a, dirfd, lim, err);
        }
        archive_read_free(a);
        return r;
}

int unpack_buffer(const void *buf, size_t len, int dirfd, const struct unpack_limits *lim, char **err)
{
        *err = NULL;
        struct archive *a = reader();
        int r;
        if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
                *err = xasprintf("not a bundle: %s", archive_error_string(a) ? archive_error_string(a) : "unreadable archive");
                r = -EINVAL;
        } else {
                r = unpack_archive(a, dirfd, lim, err);
        }
        archive_read_free(a);
        return r;
}
