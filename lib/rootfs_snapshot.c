/* The bundle's snapshot: every small host file a collector stored, for the
 * collectors after it to read instead of the host (one view of the host per bundle),
 * and the directory listings they saw. Its bytes go to a temporary file
 * (rootfs_snapshot_spill) so the parent's memory does not grow with the host. */
#include "config.h"
#include "lib/pathmap.h"
#include "lib/rootfs.h"
#include "lib/rootfs_private.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static struct pathmap snapshot, snapdirs;

struct snap {
        size_t len;
        uint64_t seq; /* the order it was put in (rootfs_snapshot_mark) */
        uint64_t off; /* in_file: where its bytes are in the spill file */
        bool in_file;
        char data[]; /* the bytes and a NUL, unless in_file */
};

static uint64_t snap_seq;
/* rootfs_snapshot_spill(): the file and the process that writes it (collector
 * children inherit both: they read it, and keep what they put in memory). The bytes
 * from spill_flushed to spill_end are still in spill_buf (one write per SPILL_BUF, not
 * one per file); a child forked meanwhile has its copy of the buffer. */
#define SPILL_BUF (256u << 10)
static int spill_fd = -1;
static pid_t spill_owner;
static uint64_t spill_end, spill_flushed;
static char *spill_buf;

static bool pwrite_all(int fd, const char *p, size_t len, uint64_t off)
{
        for (size_t done = 0; done < len;) {
                ssize_t w = pwrite(fd, p + done, len - done, (off_t)(off + done));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return false;
                done += (size_t)w;
        }
        return true;
}

static bool spill_flush(void)
{
        size_t n = (size_t)(spill_end - spill_flushed);
        if (n && !pwrite_all(spill_fd, spill_buf, n, spill_flushed))
                return false;
        spill_flushed = spill_end;
        return true;
}

static struct snap *snap_new(const char *data, size_t len)
{
        struct snap *s = xmalloc(sizeof(*s) + len + 1);
        s->len = len;
        s->seq = ++snap_seq;
        s->off = 0;
        s->in_file = false;
        if (len)
                memcpy(s->data, data, len);
        s->data[len] = 0;
        return s;
}

static struct snap *snap_spill(const char *data, size_t len)
{
        if (spill_fd < 0 || getpid() != spill_owner)
                return NULL;
        if (spill_end - spill_flushed + len > SPILL_BUF && !spill_flush())
                return NULL; /* (ENOSPC...) kept in memory instead */
        if (len > SPILL_BUF) {
                if (!pwrite_all(spill_fd, data, len, spill_end))
                        return NULL;
                spill_flushed = spill_end + len;
        } else if (len) {
                memcpy(spill_buf + (spill_end - spill_flushed), data, len);
        }
        struct snap *s = xmalloc(sizeof(*s) + 1);
        *s = (struct snap){.len = len, .seq = ++snap_seq, .off = spill_end, .in_file = true};
        spill_end += len;
        return s;
}

void rootfs_snapshot_spill(int fd)
{
        if (spill_fd >= 0 && getpid() == spill_owner)
                (void)spill_flush(); /* (what it could not write is lost with the file anyway) */
        free(spill_buf);
        spill_buf = fd >= 0 ? xmalloc(SPILL_BUF) : NULL;
        spill_fd = fd;
        spill_owner = getpid();
        spill_end = spill_flushed = 0;
}

/* Its bytes (allocated, NUL-terminated), or NULL when the spill file cannot give them back. */
static char *snap_bytes(const struct snap *s)
{
        if (!s->in_file)
                return xstrndup(s->data, s->len);
        if (spill_fd < 0)
                return NULL;
        char *d = xmalloc(s->len + 1);
        if (s->off >= spill_flushed) { /* still in the buffer (this process's copy of it) */
                memcpy(d, spill_buf + (s->off - spill_flushed), s->len);
                d[s->len] = 0;
                return d;
        }
        for (size_t done = 0; done < s->len;) {
                ssize_t r = pread(spill_fd, d + done, s->len - done, (off_t)(s->off + done));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        free(d);
                        return NULL;
                }
                done += (size_t)r;
        }
        d[s->len] = 0;
        return d;
}

void rootfs_snapshot_put(const char *path, const char *data, size_t len)
{
        if (pm_get(&snapshot, path))
                return;
        struct snap *s = snap_spill(data, len);
        pm_put(&snapshot, path, s ? s : snap_new(data, len));
}

bool rootfs_snapshot_get(const char *path, char **data, size_t *len)
{
        const struct snap *s = pm_get(&snapshot, path);
        *data = s ? snap_bytes(s) : NULL;
        if (!*data)
                return false;
        *len = s->len;
        return true;
}

uint64_t rootfs_snapshot_mark(void) { return snap_seq; }

bool rootfs_snapshot_held(const char *path, uint64_t mark)
{
        const struct snap *s = pm_get(&snapshot, path);
        return s && s->seq <= mark;
}

void rootfs_snapshot_put_dir(const char *path, const char *names, size_t len)
{
        if (!pm_get(&snapdirs, path))
                pm_put(&snapdirs, path, snap_new(names, len));
}

/* The listing an earlier collector saw (names NUL-separated), if the snapshot has it. */
bool rootfs_snapshot_dir(const char *path, const char **names, size_t *len)
{
        const struct snap *s = pm_get(&snapdirs, path);
        if (!s)
                return false;
        *names = s->data;
        *len = s->len;
        return true;
}
