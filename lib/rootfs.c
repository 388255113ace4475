#include "config.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>

static char *root; /* NULL = live system */

void rootfs_set(const char *r)
{
        free(root);
        root = NULL;
        if (r && *r && !streq(r, "/")) {
                root = xstrdup(r);
                size_t n = strlen(root);
                while (n > 1 && root[n - 1] == '/')
                        root[--n] = 0;
        }
}

const char *rootfs_get(void) { return root ? root : "/"; }
bool rootfs_is_live(void) { return root == NULL; }

char *rootfs_path(const char *path)
{
        return root ? xasprintf("%s%s", root, path) : xstrdup(path);
}

long rootfs_read(const char *path, size_t max, char **out, bool *truncated)
{
        _cleanup_free_ char *p = rootfs_path(path);
        *out = NULL;
        if (truncated)
                *truncated = false;
        /* No O_NONBLOCK: procfs/sysfs need ordinary reads. A FIFO or a hung
         * mount blocks here, which is why every collector runs under a deadline. */
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct strbuf b = {0};
        char chunk[8192];
        for (;;) {
                size_t want = sizeof(chunk);
                if (b.len + want > max)
                        want = max - b.len;
                if (want == 0) {
                        /* One more byte tells whether the file really is longer. */
                        char c;
                        ssize_t r = read(fd, &c, 1);
                        if (r > 0 && truncated)
                                *truncated = true;
                        break;
                }
                ssize_t r = read(fd, chunk, want);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        sb_free(&b);
                        return -e;
                }
                if (r == 0)
                        break;
                sb_putn(&b, chunk, (size_t)r);
        }
        long n = (long)b.len;
        *out = sb_steal(&b);
        return n;
}

int rootfs_read_value(const char *path, char **out)
{
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

int rootfs_stat(const char *path, struct stat *st, bool follow)
{
        _cleanup_free_ char *p = rootfs_path(path);
        int r = follow ? stat(p, st) : lstat(p, st);
        return r < 0 ? -errno : 0;
}

DIR *rootfs_opendir(const char *path)
{
        _cleanup_free_ char *p = rootfs_path(path);
        return opendir(p);
}

int rootfs_readlink(const char *path, char **out)
{
        _cleanup_free_ char *p = rootfs_path(path);
        char buf[PATH_MAX];
        ssize_t n = readlink(p, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        *out = xstrdup(buf);
        return 0;
}

bool rootfs_exists(const char *path)
{
        struct stat st;
        return rootfs_stat(path, &st, true) == 0;
}
