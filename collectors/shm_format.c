/* shm: the parsers and verdicts, pure functions of their inputs (shm.h;
 * tests/unit/test_shm.c). check() in shm.c and sample() in shm_sample.c judge
 * with the same verdict functions, so check and watch cannot disagree. */
#include "config.h"
#include "collectors/shm.h"
#include "lib/procmaps.h"
#include "lib/mounts.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

static void mount_copy(const struct mount_entry *e, struct shm_mount *out)
{
        *out = (struct shm_mount){
                .src = xstrdup(e->src), .dir = xstrdup(e->dir), .type = xstrdup(e->type), .opts = xstrdup(e->opts),
        };
}

int shm_mount_parse(const char *line, struct shm_mount *out)
{
        struct mounts m;
        *out = (struct shm_mount){0};
        mounts_parse(line, &m);
        int r = m.n == 1 && *m.v[0].opts ? 0 : -EINVAL; /* all four fields */
        if (r == 0)
                mount_copy(&m.v[0], out);
        mounts_free(&m);
        return r;
}

void shm_mount_free(struct shm_mount *m)
{
        free(m->src);
        free(m->dir);
        free(m->type);
        free(m->opts);
        *m = (struct shm_mount){0};
}

int shm_mounts_find(const char *text, const char *dir, struct shm_mount *out, size_t *bad)
{
        struct mounts m;
        *out = (struct shm_mount){0};
        mounts_parse(text, &m);
        *bad = m.bad;
        for (size_t i = 0; i < m.n; i++)
                *bad += !*m.v[i].opts;
        const struct mount_entry *e = mounts_find(&m, dir);
        int r = e && *e->opts ? 0 : -ENOENT;
        if (r == 0)
                mount_copy(e, out);
        mounts_free(&m);
        return r;
}

bool shm_mount_opt(const char *opts, const char *name, char **val) { return mount_opt(opts, name, val); }

enum severity shm_mount_sev(const struct shm_mount *m, const char **why)
{
        if (!m) {
                *why = "nothing is mounted on it";
                return SEV_CRIT;
        }
        if (streq(m->type, "ramfs")) {
                *why = "ramfs has no size limit: a runaway writer can fill RAM";
                return SEV_WARN;
        }
        if (!streq(m->type, "tmpfs")) {
                *why = "it is not tmpfs: segments would live on that file system";
                return SEV_CRIT;
        }
        if (shm_mount_opt(m->opts, "ro", NULL)) {
                *why = "it is mounted read-only: shm_open(O_CREAT) fails";
                return SEV_CRIT;
        }
        *why = "writable tmpfs";
        return SEV_OK;
}

static bool all_hex(const char *s, size_t n)
{
        if (!n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* The line's fields by lib/procmaps; here only what it maps. */
int shm_maps_line(const char *line, const char *shm_dir, struct shm_map_ref *out)
{
        struct procmaps_entry e;
        *out = (struct shm_map_ref){0};
        if (procmaps_parse(line, &e) < 0)
                return -EINVAL;
        out->inode = e.inode;
        out->deleted = e.deleted;
        const char *p = e.path;
        size_t plen = e.path_len;
        if (procmaps_in_dir(&e, shm_dir, &out->name, &out->name_len)) {
                out->kind = SHM_MAP_POSIX;
        } else if (plen == 13 && !memcmp(p, "/SYSV", 5) && all_hex(p + 5, 8)) {
                out->kind = SHM_MAP_SYSV;
                for (int i = 5; i < 13; i++)
                        out->sysv_key = out->sysv_key << 4 |
                                        (uint32_t)(isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
        }
        return (int)out->kind;
}

enum severity shm_limit_sev(uint64_t used, uint64_t limit, double warn_pct, double crit_pct)
{
        if (!limit) /* nothing can be created; harmless only while nothing is wanted */
                return used ? SEV_CRIT : SEV_WARN;
        double pct = 100.0 * (double)used / (double)limit;
        return pct >= crit_pct ? SEV_CRIT : pct >= warn_pct ? SEV_WARN : SEV_OK;
}

bool shm_sysv_orphaned(const struct sysv_shm *s, bool cpid_alive, bool lpid_alive)
{
        return s->nattch == 0 && !cpid_alive && !lpid_alive;
}

enum severity shm_orphan_sev(uint64_t size, uint64_t crit_bytes)
{
        return crit_bytes && size >= crit_bytes ? SEV_CRIT : SEV_WARN;
}

bool shm_mode_world_writable(mode_t mode)
{
        if (!(mode & S_IWOTH))
                return false;
        if (S_ISDIR(mode))
                return !(mode & S_ISVTX);
        /* A symlink's own mode is always 0777 and means nothing. */
        return !S_ISLNK(mode);
}

enum severity shm_usage_sev(double pct, double warn_pct, double crit_pct)
{
        return pct >= crit_pct ? SEV_CRIT : pct >= warn_pct ? SEV_WARN : SEV_OK;
}

uint64_t shm_pages(uint64_t size, uint64_t page_size)
{
        if (!page_size)
                return 0;
        return size / page_size + (size % page_size ? 1 : 0);
}

enum severity shm_orphan_verdict(const struct sysv_shm *s, bool cpid_alive, bool lpid_alive, uint64_t crit_bytes)
{
        return shm_sysv_orphaned(s, cpid_alive, lpid_alive) ? shm_orphan_sev(s->size, crit_bytes) : SEV_OK;
}

enum severity shm_tmpfs_verdict(const struct statvfs *sv, double warn_pct, double crit_pct, struct shm_tmpfs_use *u)
{
        *u = (struct shm_tmpfs_use){0};
        if (!sv->f_blocks)
                return SEV_INFO;
        uint64_t bs = sv->f_frsize ? sv->f_frsize : sv->f_bsize;
        u->total = (uint64_t)sv->f_blocks * bs;
        u->used = (uint64_t)(sv->f_blocks - sv->f_bfree) * bs;
        u->pct = 100.0 * (double)(sv->f_blocks - sv->f_bfree) / (double)sv->f_blocks;
        u->inodes = (uint64_t)sv->f_files;
        u->inodes_used = (uint64_t)(sv->f_files - sv->f_ffree);
        u->ipct = sv->f_files ? 100.0 * (double)(sv->f_files - sv->f_ffree) / (double)sv->f_files : 0;
        return shm_usage_sev(u->pct > u->ipct ? u->pct : u->ipct, warn_pct, crit_pct);
}
