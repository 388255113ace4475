/* hugepages: the parsers and decisions, pure functions of their inputs (hugepages.h;
 * tests/unit/test_hugepages.c). check() in hugepages.c and sample() in
 * hugepages_sample.c judge a pool with the same hp_pool_verdict. */
#include "config.h"
#include "collectors/hugepages.h"
#include "lib/mounts.h"
#include "lib/procfs.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

const char *const hp_field_file[HP_NFIELDS] = {
        [HP_NR] = "nr_hugepages",           [HP_FREE] = "free_hugepages",
        [HP_RESV] = "resv_hugepages",       [HP_SURPLUS] = "surplus_hugepages",
        [HP_OVERCOMMIT] = "nr_overcommit_hugepages",
};

/* ---- parsers ---- */

int hp_bracket_value(const char *text, char *out, size_t outsz)
{
        const char *open = strchr(text, '[');
        if (!open)
                return -EINVAL;
        const char *close = strchr(open + 1, ']');
        if (!close || close == open + 1 || strchr(close + 1, '['))
                return -EINVAL;
        for (const char *p = open + 1; p < close; p++)
                if (!isgraph((unsigned char)*p) || *p == '[')
                        return -EINVAL;
        size_t n = (size_t)(close - open - 1);
        if (n >= outsz)
                return -ENOSPC;
        memcpy(out, open + 1, n);
        out[n] = 0;
        return 0;
}

int hp_pool_dir_kb(const char *name, uint64_t *kb)
{
        if (!startswith(name, "hugepages-"))
                return -EINVAL;
        const char *p = name + strlen("hugepages-");
        size_t n = strspn(p, "0123456789");
        if (!n || !streq(p + n, "kB"))
                return -EINVAL;
        _cleanup_free_ char *digits = xstrndup(p, n);
        uint64_t v;
        if (parse_u64(digits, &v) < 0 || !v)
                return -EINVAL;
        *kb = v;
        return 0;
}

int hp_size_to_kb(const char *s, uint64_t *kb)
{
        /* memparse(): base 0 (so 0x200000 works as the kernel reads it), then K/M/G/T/P/E. */
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno)
                return -ERANGE;
        unsigned shift = 0;
        switch (*end) {
        case 'E': case 'e': shift += 10; /* fall through */
        case 'P': case 'p': shift += 10; /* fall through */
        case 'T': case 't': shift += 10; /* fall through */
        case 'G': case 'g': shift += 10; /* fall through */
        case 'M': case 'm': shift += 10; /* fall through */
        case 'K': case 'k': shift += 10; end++; break;
        default: break;
        }
        if (*end)
                return -EINVAL;
        if (shift >= 10) {
                shift -= 10; /* the result is in kB */
                if (shift && v > (UINT64_MAX >> shift))
                        return -ERANGE;
                *kb = v << shift;
        } else {
                if (v % 1024)
                        return -EINVAL;
                *kb = v / 1024;
        }
        return *kb ? 0 : -EINVAL;
}

int hp_mount_pagesize_kb(const char *opts, uint64_t *kb)
{
        *kb = 0;
        _cleanup_free_ char *v = NULL;
        if (!mount_opt(opts, "pagesize", &v) || !v)
                return 0; /* absent (a bare "pagesize" says no size either) */
        return hp_size_to_kb(v, kb);
}

size_t hp_mounts_parse(const char *text, struct hp_mount **out, size_t *bad)
{
        struct mounts m;
        size_t n = 0, cap = 0;
        *out = NULL;
        if (bad)
                *bad = 0;
        mounts_parse(text, &m);
        for (size_t i = 0; i < m.n && n < MOUNTS_MAX; i++) {
                const struct mount_entry *e = &m.v[i];
                if (!streq(e->type, "hugetlbfs"))
                        continue;
                uint64_t kb;
                if (!*e->opts || hp_mount_pagesize_kb(e->opts, &kb) < 0) {
                        if (bad)
                                (*bad)++;
                        continue;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 4;
                        *out = xrealloc(*out, cap * sizeof(**out));
                }
                (*out)[n++] = (struct hp_mount){.dir = xstrdup(e->dir), .pagesize_kb = kb};
        }
        mounts_free(&m);
        return n;
}

void hp_mounts_free(struct hp_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(m[i].dir);
        free(m);
}

const char *hp_size_name(uint64_t kb, char buf[static 24])
{
        if (kb && kb % (1024 * 1024) == 0)
                snprintf(buf, 24, "%" PRIu64 "G", kb / (1024 * 1024));
        else if (kb && kb % 1024 == 0)
                snprintf(buf, 24, "%" PRIu64 "M", kb / 1024);
        else
                snprintf(buf, 24, "%" PRIu64 "K", kb);
        return buf;
}

bool hp_version_is_rt(const char *version)
{
        return rt_flavour_from_version(version) == KF_PREEMPT_RT;
}

/* ---- decisions ---- */

uint64_t hp_pool_available(const struct hp_pool *p)
{
        uint64_t f = HP_HAVE(p, HP_FREE) ? p->v[HP_FREE] : 0, r = HP_HAVE(p, HP_RESV) ? p->v[HP_RESV] : 0;
        return f > r ? f - r : 0;
}

bool hp_pool_configured(const struct hp_pool *p)
{
        if (!HP_HAVE(p, HP_NR))
                return true;
        return p->v[HP_NR] > 0 || (HP_HAVE(p, HP_OVERCOMMIT) && p->v[HP_OVERCOMMIT] > 0);
}

/* Configured for sure (nr_hugepages read): the pools the mount and surplus checks look at. */
bool hp_pool_known_configured(const struct hp_pool *p)
{
        return HP_HAVE(p, HP_NR) && hp_pool_configured(p);
}

uint64_t hp_overcommit_headroom(const struct hp_pool *p)
{
        if (!HP_HAVE(p, HP_OVERCOMMIT))
                return 0;
        uint64_t s = HP_HAVE(p, HP_SURPLUS) ? p->v[HP_SURPLUS] : 0;
        return p->v[HP_OVERCOMMIT] > s ? p->v[HP_OVERCOMMIT] - s : 0;
}

size_t hp_empty_nodes(const struct hp_pool *p, bool only_configured, struct strbuf *sb)
{
        bool some_free = false;
        for (size_t i = 0; i < p->nnodes; i++)
                if (p->nodes[i].valid && p->nodes[i].free > 0)
                        some_free = true;
        if (!some_free || p->nnodes < 2)
                return 0;
        size_t n = 0;
        for (size_t i = 0; i < p->nnodes; i++) {
                const struct hp_node *d = &p->nodes[i];
                if (!d->valid || d->free > 0 || (only_configured && d->nr == 0))
                        continue;
                if (sb)
                        sb_printf(sb, "%snode %u (0 of %" PRIu64 " free)", n ? ", " : "", d->id, d->nr);
                n++;
        }
        return n;
}

enum severity hp_pool_verdict(const struct hp_pool *p, double warn_pct)
{
        if (!HP_HAVE(p, HP_NR) || !HP_HAVE(p, HP_FREE) || !HP_HAVE(p, HP_RESV))
                return SEV_UNKNOWN;
        uint64_t nr = p->v[HP_NR], avail = hp_pool_available(p), room = hp_overcommit_headroom(p);
        if (nr == 0) /* an on-demand pool: fine while overcommit allows more */
                return room ? SEV_OK : SEV_CRIT;
        if (avail == 0)
                return room ? SEV_WARN : SEV_CRIT;
        if (100.0 * (double)avail / (double)nr < warn_pct)
                return SEV_WARN;
        if (hp_empty_nodes(p, true, NULL))
                return SEV_INFO;
        return SEV_OK;
}

enum severity hp_thp_verdict(const char *enabled, const char *defrag, bool rt_host)
{
        if (!enabled)
                return SEV_UNKNOWN;
        if (streq(enabled, "always"))
                return rt_host ? SEV_WARN : SEV_INFO;
        if (!streq(enabled, "madvise") && !streq(enabled, "never"))
                return SEV_UNKNOWN;
        if (rt_host && streq(enabled, "madvise") && defrag && streq(defrag, "always"))
                return SEV_INFO;
        return SEV_OK;
}

void hp_pool_free(struct hp_pool *p)
{
        free(p->err);
        free(p->nodes);
        p->err = NULL;
        p->nodes = NULL;
        p->nnodes = 0;
}

void hp_pool_from_meminfo(const struct kvlist *mi, struct hp_pool *p)
{
        static const char *const key[] = {[HP_NR] = "HugePages_Total", [HP_FREE] = "HugePages_Free",
                                          [HP_RESV] = "HugePages_Rsvd", [HP_SURPLUS] = "HugePages_Surp"};
        for (int f = 0; f < HP_OVERCOMMIT; f++) {
                int e = kv_get_u64(mi, key[f], &p->v[f]);
                if (e == 0)
                        p->have |= 1u << f;
                else if (!p->err)
                        p->err = xasprintf("%s in /proc/meminfo: %s", key[f], e == -ENOENT ? "missing" : "not a number");
        }
}
