/* shm: the parsers and verdicts, pure functions of their inputs (shm.h;
 * tests/unit/test_shm.c). check() in shm.c and sample() in shm_sample.c judge
 * with the same verdict functions, so check and watch cannot disagree. */
#include "config.h"
#include "collectors/shm.h"
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

/* "start-end perms offset dev inode   path": five fields, then the path (maybe none). */
int shm_maps_line(const char *line, const char *shm_dir, struct shm_map_ref *out)
{
        const char *f[5];
        size_t len[5];
        const char *p = line;
        *out = (struct shm_map_ref){0};
        for (int i = 0; i < 5; i++) {
                while (*p == ' ')
                        p++;
                f[i] = p;
                while (*p && *p != ' ' && *p != '\n')
                        p++;
                len[i] = (size_t)(p - f[i]);
                if (!len[i])
                        return -EINVAL;
        }
        const char *dash = memchr(f[0], '-', len[0]);
        const char *colon = memchr(f[3], ':', len[3]);
        if (!dash || !all_hex(f[0], (size_t)(dash - f[0])) || !all_hex(dash + 1, len[0] - (size_t)(dash - f[0]) - 1) ||
            len[1] != 4 || !all_hex(f[2], len[2]) || !colon || !all_hex(f[3], (size_t)(colon - f[3])) ||
            !all_hex(colon + 1, len[3] - (size_t)(colon - f[3]) - 1))
                return -EINVAL;
        uint64_t ino = 0;
        for (size_t i = 0; i < len[4]; i++) {
                if (!isdigit((unsigned char)f[4][i]) || ino > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                ino = ino * 10 + (uint64_t)(f[4][i] - '0');
        }
        out->inode = ino;
        while (*p == ' ' || *p == '\t')
                p++;
        size_t plen = strcspn(p, "\n");
        while (plen && (p[plen - 1] == ' ' || p[plen - 1] == '\t' || p[plen - 1] == '\r'))
                plen--;
        static const char del[] = " (deleted)";
        if (plen >= sizeof(del) - 1 && !memcmp(p + plen - (sizeof(del) - 1), del, sizeof(del) - 1)) {
                out->deleted = true;
                plen -= sizeof(del) - 1;
        }
        size_t dl = strlen(shm_dir);
        if (plen > dl + 1 && !memcmp(p, shm_dir, dl) && p[dl] == '/' && !memchr(p + dl + 1, '/', plen - dl - 1)) {
                out->kind = SHM_MAP_POSIX;
                out->name = p + dl + 1;
                out->name_len = plen - dl - 1;
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
