#include "config.h"
#include "lib/dircount.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

/* Kept sorted by path: check --from injects thousands, then looks each one up. */
struct counts {
        struct dir_count_rec *v;
        size_t n, cap;
};

static struct counts injected, traced;

/* The index of path, or where it would go (*found tells which). */
static size_t counts_pos(const struct counts *c, const char *path, bool *found)
{
        size_t lo = 0, hi = c->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = strcmp(c->v[mid].path, path);
                if (r == 0) {
                        *found = true;
                        return mid;
                }
                if (r < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static const struct dir_count_rec *counts_find(const struct counts *c, const char *path)
{
        bool found;
        size_t i = counts_pos(c, path, &found);
        return found ? &c->v[i] : NULL;
}

/* The first count of a path stands (as the first copy of a file does). */
static void counts_add(struct counts *c, const char *path, long n, bool at_least)
{
        bool found;
        size_t i = counts_pos(c, path, &found);
        if (found)
                return;
        if (c->n == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 64;
                c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
        }
        memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
        c->v[i] = (struct dir_count_rec){.path = xstrdup(path), .n = n, .at_least = at_least};
        c->n++;
}

void dir_count_inject(const char *path, long n, bool at_least)
{
        if (n >= 0)
                counts_add(&injected, path, n, at_least);
}

const struct dir_count_rec *dir_count_traced(size_t *n)
{
        *n = traced.n;
        return traced.v;
}

static bool dot_or_dotdot(const char *name)
{
        return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

static long count_live(const char *path, bool *at_least)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        char buf[32768] __attribute__((aligned(8)));
        long n = 0;
        for (;;) {
                ssize_t got = getdents64(fd, buf, sizeof(buf));
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        int e = errno;
                        close(fd);
                        return -e;
                }
                if (got == 0)
                        break;
                for (ssize_t off = 0; off < got;) {
                        const struct dirent64 *d = (const void *)(buf + off);
                        n += !dot_or_dotdot(d->d_name);
                        off += d->d_reclen;
                }
                if (n >= DIR_COUNT_MAX) {
                        *at_least = true;
                        break;
                }
        }
        close(fd);
        return n;
}

/* Under --root: what rootfs lists (fixture trees), bounded by ROOTFS_DIR_MAX. */
static long count_listing(const char *path, bool *at_least)
{
        struct rootfs_dir *d = rootfs_opendir(path);
        if (!d)
                return -errno;
        long n = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d)))
                n++;
        rootfs_closedir(d);
        if (n >= ROOTFS_DIR_MAX)
                *at_least = true;
        return n;
}

long dir_count(const char *path, bool *at_least)
{
        bool al = false;
        long n;
        int inj = rootfs_injected_error(path);
        const struct dir_count_rec *rec = counts_find(&injected, path);
        if (inj)
                return -inj;
        if (rec) {
                n = rec->n;
                al = rec->at_least;
        } else if (rootfs_is_live()) {
                n = count_live(path, &al);
                if (n < 0)
                        rootfs_trace_failed(path, (int)-n);
        } else {
                n = count_listing(path, &al);
        }
        if (n >= 0 && rootfs_tracing())
                counts_add(&traced, path, n, al);
        if (at_least)
                *at_least = al;
        return n;
}
