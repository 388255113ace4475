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

static struct {
        char **path;
        int *err;
        size_t n;
} injected;

/* Small path -> value tables: injected errors and stats (--from), the snapshot (bundle). */
struct pathmap {
        char **path;
        void **val;
        size_t n, cap;
};

static void pm_put(struct pathmap *m, const char *path, void *val)
{
        if (m->n == m->cap) {
                m->cap = m->cap ? m->cap * 2 : 64;
                m->path = xrealloc(m->path, m->cap * sizeof(char *));
                m->val = xrealloc(m->val, m->cap * sizeof(void *));
        }
        m->path[m->n] = xstrdup(path);
        m->val[m->n++] = val;
}

static void *pm_get(const struct pathmap *m, const char *path)
{
        for (size_t i = m->n; i-- > 0;)
                if (streq(m->path[i], path))
                        return m->val[i];
        return NULL;
}

static struct pathmap stats, snapshot;

struct snap {
        size_t len;
        char data[];
};

void rootfs_snapshot_put(const char *path, const char *data, size_t len)
{
        if (pm_get(&snapshot, path))
                return;
        struct snap *s = xmalloc(sizeof(*s) + len + 1);
        s->len = len;
        memcpy(s->data, data, len);
        s->data[len] = 0;
        pm_put(&snapshot, path, s);
}

bool rootfs_snapshot_get(const char *path, const char **data, size_t *len)
{
        const struct snap *s = pm_get(&snapshot, path);
        if (!s)
                return false;
        *data = s->data;
        *len = s->len;
        return true;
}

void rootfs_inject_stat(const char *path, const struct stat *st)
{
        struct stat *copy = xmalloc(sizeof(*copy));
        *copy = *st;
        pm_put(&stats, path, copy);
}

void rootfs_inject_error(const char *path, int error)
{
        injected.path = xrealloc(injected.path, (injected.n + 1) * sizeof(char *));
        injected.err = xrealloc(injected.err, (injected.n + 1) * sizeof(int));
        injected.path[injected.n] = xstrdup(path);
        injected.err[injected.n++] = error;
}

int rootfs_injected_error(const char *path)
{
        for (size_t i = 0; i < injected.n; i++)
                if (streq(injected.path[i], path))
                        return injected.err[i];
        return 0;
}

static void trace_error(const char *path, int error);
void rootfs_trace_failed(const char *path, int error) { trace_error(path, error); }

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

/* Failures worth replaying: permission and I/O errors, not absence (absent stays absent). */
static void trace_error(const char *path, int error)
{
        if (!tr.on || error == ENOENT || error == ENOTDIR || trace_find(path, TRACE_ERROR))
                return;
        trace_add(path, TRACE_ERROR, NULL, 0, false);
        tr.v[tr.n - 1].error = error;
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

bool rootfs_tracing(void) { return tr.on; }
void rootfs_trace_stop(void) { tr.on = false; }

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
        int inj = rootfs_injected_error(path);
        if (inj)
                return -inj;
        const struct snap *sn = pm_get(&snapshot, path);
        if (sn) {
                size_t n = sn->len < max ? sn->len : max;
                *out = xstrndup(sn->data, n);
                if (truncated)
                        *truncated = sn->len > max;
                trace_add(path, TRACE_FILE, *out, n, sn->len > max);
                return (long)n;
        }
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                trace_error(path, errno);
                return -errno;
        }
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
                        trace_error(path, e);
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
        const struct stat *inj = pm_get(&stats, path);
        if (inj) {
                *st = *inj;
                return 0;
        }
        _cleanup_free_ char *p = rootfs_path(path);
        int r = follow ? stat(p, st) : lstat(p, st);
        if (r < 0)
                return -errno;
        /* Existence counts too (proc_exists: is the creator alive?): offline it must agree. */
        if (tr.on && !trace_find(path, TRACE_STAT)) {
                trace_add(path, TRACE_STAT, NULL, 0, false);
                tr.v[tr.n - 1].st = *st;
        }
        return 0;
}

#define DIR_MAX 100000

struct rootfs_dir {
        char *names; /* NUL-separated: a file name may hold any byte but NUL and '/' */
        size_t len, pos;
        struct dirent de;
};

static struct pathmap snapdirs;

void rootfs_snapshot_put_dir(const char *path, const char *names, size_t len)
{
        if (pm_get(&snapdirs, path))
                return;
        struct snap *s = xmalloc(sizeof(*s) + len + 1);
        s->len = len;
        memcpy(s->data, names, len);
        s->data[len] = 0;
        pm_put(&snapdirs, path, s);
}

struct rootfs_dir *rootfs_opendir(const char *path)
{
        int inj = rootfs_injected_error(path);
        if (inj) {
                errno = inj;
                return NULL;
        }
        struct strbuf names = {0};
        sb_puts(&names, "");
        const struct snap *snap = pm_get(&snapdirs, path);
        if (snap) {
                sb_putn(&names, snap->data, snap->len);
        } else {
                _cleanup_free_ char *p = rootfs_path(path);
                DIR *d = opendir(p);
                if (!d) {
                        int e = errno;
                        trace_error(path, e);
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
