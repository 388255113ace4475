#include "config.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>

static char *root; /* NULL = live system */

static struct {
        bool on;
        size_t max, used;
        struct trace_entry *v;
        size_t n, cap;
} tr;

static struct trace_entry *trace_find(const char *path, enum trace_kind kind)
{
        for (size_t i = 0; i < tr.n; i++)
                if (tr.v[i].kind == kind && streq(tr.v[i].path, path))
                        return &tr.v[i];
        return NULL;
}

static void trace_add(const char *path, enum trace_kind kind, const char *data, size_t len, bool truncated)
{
        if (!tr.on || trace_find(path, kind))
                return;
        if (tr.used + len > tr.max) { /* over budget: remember the path, not the bytes */
                data = NULL;
                len = 0;
                truncated = true;
                if (kind == TRACE_FILE)
                        kind = TRACE_COUNTED;
        }
        if (tr.n == tr.cap) {
                tr.cap = tr.cap ? tr.cap * 2 : 256;
                tr.v = xrealloc(tr.v, tr.cap * sizeof(*tr.v));
        }
        tr.v[tr.n++] = (struct trace_entry){
                .path = xstrdup(path), .kind = kind, .data = data ? xstrndup(data, len) : NULL, .len = len,
                .truncated = truncated,
        };
        tr.used += len;
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

void rootfs_trace_counted(const char *path)
{
        trace_add(path, TRACE_COUNTED, NULL, 0, false);
}

void rootfs_trace_note(const char *path)
{
        if (!tr.on)
                return;
        char *buf;
        bool trunc;
        long r = rootfs_read(path, READ_MAX_DEFAULT, &buf, &trunc); /* traces itself */
        if (r >= 0)
                free(buf);
}

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
        trace_add(path, TRACE_FILE, *out, (size_t)n, truncated && *truncated);
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
        DIR *d = opendir(p);
        if (d && tr.on && !trace_find(path, TRACE_DIR)) {
                /* Record the names now; the caller reads its own stream. */
                DIR *d2 = opendir(p);
                struct strbuf names = {0};
                struct dirent *de;
                size_t count = 0;
                sb_puts(&names, "");
                while (d2 && (de = readdir(d2)) && count < 100000) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        sb_printf(&names, "%s\n", de->d_name);
                        count++;
                }
                if (d2)
                        closedir(d2);
                trace_add(path, TRACE_DIR, names.s, names.len, false);
                sb_free(&names);
        }
        return d;
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
        trace_add(path, TRACE_LINK, buf, (size_t)n, false);
        return 0;
}

bool rootfs_exists(const char *path)
{
        struct stat st;
        return rootfs_stat(path, &st, true) == 0;
}
