/* hugepages: are the huge page pools large segments need there, mounted and not used up,
 * and is transparent huge page (THP) behaviour safe for RT work? From the EVO guide's
 * "Huge Page Issues" (allocation failures for large segments).
 *
 * Sources, all through rootfs: /proc/meminfo (HugePages_*, Hugepagesize, Hugetlb),
 * /sys/kernel/mm/hugepages/hugepages-<N>kB/ (one pool per page size),
 * /sys/devices/system/node/node<N>/hugepages/ (the same pools per NUMA node),
 * /proc/mounts (hugetlbfs mounts and their pagesize=), and
 * /sys/kernel/mm/transparent_hugepage/{enabled,defrag}.
 *
 * "RT host" (for the THP check) is kept deliberately small. A host is RT when any of:
 *   1. /proc/sys/kernel/version says PREEMPT_RT (or "PREEMPT RT" on older RT kernels),
 *   2. /sys/kernel/realtime is 1,
 *   3. /proc/cmdline has isolcpus= or nohz_full= (CPUs set aside for RT work),
 *   4. a process other than a kernel thread runs SCHED_FIFO, SCHED_RR or SCHED_DEADLINE.
 * The process table is only read when THP is set to always (the only case it changes).
 *
 * This file reads the host and holds the checks; hugepages_format.c the parsers and
 * verdicts, hugepages_sample.c what evodiag watch samples. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/hugepages.h"
#include "lib/procfs.h"
#include "lib/satmath.h"
#include "lib/proctable.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define POOLS_MAX 64   /* a handful of page sizes exist on any architecture */
#define NODES_MAX 1024 /* MAX_NUMNODES on the largest configs */

static const struct check_info checks[] = {
        {"hugepages.pools", "Huge page pools configured",
         "Which huge page pools (one per page size, /sys/kernel/mm/hugepages/hugepages-<N>kB)\n"
         "have pages reserved (nr_hugepages) or may get them on demand (nr_overcommit_hugepages).\n"
         "No pool at all is fine: the EVO guide needs huge pages only for large segments.\n"
         "Info when hugetlbfs is mounted but no pool has pages (mappings there fail), or when only\n"
         "/proc/meminfo could be read (then only the default page size is visible).\n"
         "Fix (when large segments fail to allocate, EVO guide \"Huge Page Issues\"): reserve pages\n"
         "at boot with hugepagesz=2M hugepages=1024 on the kernel command line, or at run time\n"
         "with echo 1024 > /proc/sys/vm/nr_hugepages."},
        {"hugepages.pool_exhausted", "Huge page pool has free pages",
         "For each configured pool: pages a new mapping can still get = free_hugepages minus\n"
         "resv_hugepages (pages promised to mappings already made). At 0 the next segment or\n"
         "mmap(MAP_HUGETLB) fails (ShmError::AllocationFailed, ENOMEM, or SIGBUS on first touch):\n"
         "crit. Below [hugepages] warn_free_pct % of nr_hugepages: warn. When the persistent pages\n"
         "are used up but nr_overcommit_hugepages still allows surplus pages: warn (those come\n"
         "from free memory and fail when it is fragmented). On NUMA hosts a node with no free page\n"
         "while another still has some is named: processes bound to that node (numactl --membind)\n"
         "fail even though the pool as a whole has pages (info when the pool is otherwise fine).\n"
         "Fix: find who holds the pages (grep -H _Hugetlb /proc/[0-9]*/smaps_rollup | grep -v ' 0 kB';\n"
         "files left in a hugetlbfs mount hold pages too: ls -l /mnt/huge), then grow the pool:\n"
         "echo N > /proc/sys/vm/nr_hugepages (default size) or\n"
         "echo N > /sys/kernel/mm/hugepages/hugepages-<size>kB/nr_hugepages, and at boot\n"
         "hugepagesz=2M hugepages=N. Per node: echo N > /sys/devices/system/node/nodeX/hugepages/\n"
         "hugepages-<size>kB/nr_hugepages. Unknown when a pool's sysfs values cannot be read."},
        {"hugepages.no_mount", "hugetlbfs mounted for each configured pool",
         "Segments backed by huge pages are files on a hugetlbfs mount of the matching page size\n"
         "(pagesize= option; without it the default size). A configured pool with no mount of its\n"
         "size cannot be used that way (mmap(MAP_HUGETLB) and SHM_HUGETLB users do not need one).\n"
         "Fix (EVO guide): mkdir -p /mnt/huge && mount -t hugetlbfs -o pagesize=2M none /mnt/huge\n"
         "and make it permanent in /etc/fstab: none /mnt/huge hugetlbfs pagesize=2M 0 0"},
        {"hugepages.surplus", "Surplus huge pages in use",
         "Surplus pages are huge pages allocated on demand beyond nr_hugepages (allowed by\n"
         "nr_overcommit_hugepages, or left over after nr_hugepages was lowered while in use).\n"
         "They work, but each one needs a free, contiguous block when it is allocated, which\n"
         "fails on a fragmented host; the persistent pool is the reliable way. Info only.\n"
         "Fix: raise nr_hugepages by the surplus count so they become persistent pages."},
        {"hugepages.thp", "Transparent huge pages safe for RT work",
         "/sys/kernel/mm/transparent_hugepage/enabled (the active value is the one in [brackets]).\n"
         "With always, any anonymous memory may be collapsed into huge pages by khugepaged and\n"
         "page faults may stall in compaction: unpredictable latency for RT threads, so on an RT\n"
         "host (PREEMPT_RT kernel, /sys/kernel/realtime = 1, isolcpus=/nohz_full= on the kernel\n"
         "command line, or a SCHED_FIFO/RR/DEADLINE process that is not a kernel thread) it is a\n"
         "warning; elsewhere info. defrag=always on an RT host (THP not never) is info: madvised\n"
         "regions then compact synchronously on fault.\n"
         "Fix: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled, and persistently\n"
         "transparent_hugepage=madvise on the kernel command line;\n"
         "echo defer+madvise > /sys/kernel/mm/transparent_hugepage/defrag for defrag."},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("warn_free_pct", "10", "warn when a pool has fewer than this % of its pages free and unreserved"),
        {0},
};

/* ---- reading the host ---- */

/* Sysfs text into a message: garbage may be binary or huge. */
static char *printable(const char *s)
{
        size_t n = strlen(s);
        bool cut = n > 32;
        char *o = xstrndup(s, cut ? 32 : n);
        for (char *q = o; *q; q++)
                if (!isprint((unsigned char)*q))
                        *q = '?';
        if (cut) {
                char *r = xasprintf("%s...", o);
                free(o);
                return r;
        }
        return o;
}

/* Reads one number; on failure keeps the first reason in *err ("nr_hugepages: ..."). */
static bool read_num(const char *path, const char *label, uint64_t *out, char **err)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value(path, &v);
        if (r >= 0) {
                r = parse_u64(v, out);
                if (r >= 0)
                        return true;
        }
        if (err && !*err) {
                if (v && !*v) {
                        *err = xasprintf("%s: empty", label);
                } else if (v) {
                        _cleanup_free_ char *pv = printable(v);
                        *err = xasprintf("%s: '%s' is not a number", label, pv);
                } else {
                        *err = xasprintf("%s: %s", label, rootfs_strerror(-r));
                }
        }
        return false;
}

static void read_pool_fields(struct hp_pool *p)
{
        for (int f = 0; f < HP_NFIELDS; f++) {
                char path[128];
                snprintf(path, sizeof(path), POOLS_DIR "/hugepages-%" PRIu64 "kB/%s", p->size_kb, hp_field_file[f]);
                /* nr, free and resv come first, so p->err names a needed field when the
                 * verdict is unknown; a bad surplus or overcommit only drops those parts. */
                if (read_num(path, hp_field_file[f], &p->v[f], &p->err))
                        p->have |= 1u << f;
        }
}

static int by_size(const void *a, const void *b)
{
        const struct hp_pool *x = a, *y = b;
        return x->size_kb < y->size_kb ? -1 : x->size_kb > y->size_kb;
}

static int by_node(const void *a, const void *b)
{
        const struct hp_node *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

void hp_read_pools(struct hp_state *st)
{
        struct rootfs_dir *d = rootfs_opendir(POOLS_DIR);
        if (!d) {
                st->sysfs_err = -errno;
                return;
        }
        size_t cap = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d)) && st->npools < POOLS_MAX) {
                if (de->d_name[0] == '.')
                        continue;
                uint64_t kb;
                if (hp_pool_dir_kb(de->d_name, &kb) < 0) {
                        st->bad_dirs++;
                        continue;
                }
                if (st->npools == cap) {
                        cap = cap ? cap * 2 : 4;
                        st->pools = xrealloc(st->pools, cap * sizeof(*st->pools));
                }
                st->pools[st->npools++] = (struct hp_pool){.size_kb = kb};
        }
        rootfs_closedir(d);
        if (st->npools > 1)
                qsort(st->pools, st->npools, sizeof(*st->pools), by_size);
        for (size_t i = 0; i < st->npools; i++)
                read_pool_fields(&st->pools[i]);
}

/* The per-node view of every pool; nodes without that pool's directory are left out. */
void hp_read_nodes(struct hp_state *st)
{
        if (!st->npools)
                return;
        struct rootfs_dir *d = rootfs_opendir(NODES_DIR);
        if (!d)
                return; /* no NUMA information (bundle, or CONFIG_NUMA off): nothing to add */
        unsigned ids[NODES_MAX];
        size_t n = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d)) && n < NODES_MAX) {
                unsigned id;
                int end = 0;
                if (sscanf(de->d_name, "node%u%n", &id, &end) == 1 && de->d_name[end] == 0 &&
                    isdigit((unsigned char)de->d_name[4]))
                        ids[n++] = id;
        }
        rootfs_closedir(d);
        for (size_t i = 0; i < st->npools; i++) {
                struct hp_pool *p = &st->pools[i];
                for (size_t k = 0; k < n; k++) {
                        char dir[160], path[200];
                        snprintf(dir, sizeof(dir), NODES_DIR "/node%u/hugepages/hugepages-%" PRIu64 "kB", ids[k],
                                 p->size_kb);
                        if (!rootfs_exists(dir))
                                continue;
                        struct hp_node nd = {.id = ids[k]};
                        snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
                        bool ok = read_num(path, "nr_hugepages", &nd.nr, NULL);
                        snprintf(path, sizeof(path), "%s/free_hugepages", dir);
                        nd.valid = read_num(path, "free_hugepages", &nd.free, NULL) && ok;
                        p->nodes = xrealloc(p->nodes, (p->nnodes + 1) * sizeof(*p->nodes));
                        p->nodes[p->nnodes++] = nd;
                }
                if (p->nnodes > 1)
                        qsort(p->nodes, p->nnodes, sizeof(*p->nodes), by_node);
        }
}

void hp_read_meminfo(struct hp_state *st)
{
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/meminfo", 64 << 10, &text, NULL);
        if (r < 0) {
                st->meminfo_err = (int)r;
                return;
        }
        struct kvlist mi;
        kv_parse(text, ':', &mi);
        uint64_t total = 0, sz = 0;
        st->meminfo_huge = kv_get_u64(&mi, "HugePages_Total", &total) == 0;
        if (kv_get_u64(&mi, "Hugepagesize", &sz) == 0)
                st->default_kb = sz / 1024;
        st->have_hugetlb = kv_get_u64(&mi, "Hugetlb", &st->hugetlb) == 0;
        /* Without the sysfs pools (kernel without sysfs hugepages, or a bundle that did not
         * capture them) the default pool still shows in meminfo. */
        if (!st->npools && st->meminfo_huge && st->default_kb) {
                struct hp_pool p = {.size_kb = st->default_kb};
                hp_pool_from_meminfo(&mi, &p);
                if (read_num("/proc/sys/vm/nr_overcommit_hugepages", "nr_overcommit_hugepages", &p.v[HP_OVERCOMMIT], NULL))
                        p.have |= 1u << HP_OVERCOMMIT;
                st->pools = xmalloc(sizeof(*st->pools));
                st->pools[0] = p;
                st->npools = 1;
                st->from_meminfo = true;
        }
        kv_free(&mi);
}

static void read_mounts(struct hp_state *st)
{
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/mounts", 4 << 20, &text, NULL);
        if (r < 0) {
                st->mounts_err = (int)r;
                return;
        }
        st->nmounts = hp_mounts_parse(text, &st->mounts, &st->bad_mounts);
}

void hp_state_free(struct hp_state *st)
{
        for (size_t i = 0; i < st->npools; i++)
                hp_pool_free(&st->pools[i]);
        free(st->pools);
        hp_mounts_free(st->mounts, st->nmounts);
}

/* ---- findings ---- */

static const char *pool_dir(const struct hp_state *st, const struct hp_pool *p, char buf[static 96])
{
        if (st->from_meminfo)
                snprintf(buf, 96, "/proc/meminfo");
        else
                snprintf(buf, 96, POOLS_DIR "/hugepages-%" PRIu64 "kB", p->size_kb);
        return buf;
}

/* The mount of a pool's page size, or NULL. */
static const struct hp_mount *mount_for(const struct hp_state *st, uint64_t kb)
{
        for (size_t i = 0; i < st->nmounts; i++) {
                uint64_t m = st->mounts[i].pagesize_kb ? st->mounts[i].pagesize_kb : st->default_kb;
                if (m == kb)
                        return &st->mounts[i];
        }
        return NULL;
}

/* "echo N > ..." growing a pool: /proc/sys/vm/nr_hugepages for the default size, as the guide. */
static char *grow_cmd(const struct hp_state *st, const struct hp_pool *p, uint64_t n)
{
        char sz[24];
        hp_size_name(p->size_kb, sz);
        if (p->size_kb == st->default_kb || st->from_meminfo)
                return xasprintf("echo %" PRIu64 " > /proc/sys/vm/nr_hugepages   (at boot: hugepagesz=%s hugepages=%" PRIu64 ")",
                                 n, sz, n);
        return xasprintf("echo %" PRIu64 " > " POOLS_DIR "/hugepages-%" PRIu64 "kB/nr_hugepages   (at boot: hugepagesz=%s hugepages=%" PRIu64 ")",
                         n, p->size_kb, sz, n);
}

static void check_pools(struct hp_state *st, struct findings *fs)
{
        struct finding *f;
        if (!st->npools) {
                if (st->sysfs_err && st->sysfs_err != -ENOENT) {
                        f = fnd_add(fs, SEV_UNKNOWN, "hugepages.pools", "cannot list " POOLS_DIR ": %s", strerror(-st->sysfs_err));
                } else if (st->meminfo_err) {
                        f = fnd_add(fs, SEV_UNKNOWN, "hugepages.pools", "cannot read /proc/meminfo (%s) and no pool in " POOLS_DIR,
                                    strerror(-st->meminfo_err));
                } else if (!st->meminfo_huge) {
                        f = fnd_add(fs, SEV_OK, "hugepages.pools", "huge pages not supported by this kernel (no HugePages_Total in /proc/meminfo)");
                        fnd_actual(f, "no " POOLS_DIR ", no HugePages_* lines");
                } else {
                        /* HugePages_Total without Hugepagesize: no kernel writes that. */
                        f = fnd_add(fs, SEV_UNKNOWN, "hugepages.pools", "no pool in " POOLS_DIR " and no Hugepagesize in /proc/meminfo");
                        fnd_actual(f, "HugePages_Total present, Hugepagesize missing or not a number");
                }
                fnd_evidence(f, POOLS_DIR ", /proc/meminfo");
                return;
        }
        struct strbuf list = {0}, sizes = {0}, bad = {0};
        size_t configured = 0;
        if (st->bad_dirs)
                sb_printf(&bad, "; %zu unrecognised entr%s in " POOLS_DIR " ignored", st->bad_dirs, st->bad_dirs == 1 ? "y" : "ies");
        for (size_t i = 0; i < st->npools; i++) {
                const struct hp_pool *p = &st->pools[i];
                char sz[24], b[32];
                hp_size_name(p->size_kb, sz);
                sb_printf(&sizes, "%s%s", i ? ", " : "", sz);
                if (!HP_HAVE(p, HP_NR))
                        sb_printf(&bad, "; %s pool unreadable", sz);
                if (!hp_pool_known_configured(p))
                        continue;
                configured++;
                sb_printf(&list, "%s%s x %" PRIu64 " (%s)", list.len ? ", " : "", sz, p->v[HP_NR],
                          fmt_bytes(sat_mul_u64(p->v[HP_NR], sat_mul_u64(p->size_kb, 1024)), b));
                if (HP_HAVE(p, HP_OVERCOMMIT) && p->v[HP_OVERCOMMIT])
                        sb_printf(&list, " + up to %" PRIu64 " on demand", p->v[HP_OVERCOMMIT]);
        }
        if (configured) {
                f = fnd_add(fs, st->from_meminfo ? SEV_INFO : SEV_OK, "hugepages.pools", "%zu huge page pool%s configured: %s%s",
                            configured, configured == 1 ? "" : "s", list.s,
                            st->from_meminfo ? " (from /proc/meminfo: default size only)" : "");
                char b[32];
                fnd_actual(f, "pools: %s; Hugetlb %s%s%s", sizes.s, st->have_hugetlb ? fmt_bytes(st->hugetlb, b) : "unknown",
                           st->from_meminfo ? "; " POOLS_DIR " missing" : "", bad.len ? bad.s : "");
                if (st->from_meminfo)
                        fnd_remedy(f, "ls " POOLS_DIR "   # sysfs shows every page size: is /sys mounted (or in the bundle)?");
        } else {
                size_t unreadable = 0;
                const struct hp_pool *mp = NULL;
                const struct hp_mount *m = NULL;
                for (size_t i = 0; i < st->npools; i++) {
                        unreadable += !HP_HAVE(&st->pools[i], HP_NR);
                        for (size_t k = 0; k < st->nmounts && !m; k++)
                                if ((st->mounts[k].pagesize_kb ? st->mounts[k].pagesize_kb : st->default_kb) == st->pools[i].size_kb) {
                                        m = &st->mounts[k];
                                        mp = &st->pools[i];
                                }
                }
                if (m && HP_HAVE(mp, HP_NR)) {
                        char sz[24];
                        hp_size_name(mp->size_kb, sz);
                        f = fnd_add(fs, SEV_INFO, "hugepages.pools",
                                    "no huge page pool configured, but hugetlbfs is mounted at %s (%s): files there cannot get pages",
                                    m->dir, sz);
                        _cleanup_free_ char *g = grow_cmd(st, mp, 1024);
                        fnd_remedy(f, "%s, or umount %s if unused", g, m->dir);
                } else if (unreadable) {
                        f = fnd_add(fs, SEV_OK, "hugepages.pools", "no readable huge page pool configured (%zu pool%s unreadable)",
                                    unreadable, unreadable == 1 ? "" : "s");
                } else {
                        f = fnd_add(fs, SEV_OK, "hugepages.pools", "no huge page pool configured");
                }
                fnd_actual(f, "nr_hugepages = 0 for every %ssize (%s)%s%s", unreadable ? "readable " : "", sizes.s,
                           st->from_meminfo ? "; " POOLS_DIR " missing, read /proc/meminfo" : "", bad.len ? bad.s : "");
        }
        fnd_expected(f, "a pool where large segments use huge pages (optional)");
        fnd_evidence(f, "%s/proc/meminfo", st->from_meminfo ? "" : POOLS_DIR ", ");
        sb_free(&list);
        sb_free(&sizes);
        sb_free(&bad);
}

static void check_exhausted(struct ctx *c, struct hp_state *st, struct findings *fs)
{
        double warn_pct = conf_num(c, "warn_free_pct");
        for (size_t i = 0; i < st->npools; i++) {
                struct hp_pool *p = &st->pools[i];
                if (!hp_pool_configured(p))
                        continue;
                char sz[24], dir[96];
                hp_size_name(p->size_kb, sz);
                pool_dir(st, p, dir);
                enum severity s = hp_pool_verdict(p, warn_pct);
                struct finding *f;
                if (s == SEV_UNKNOWN) {
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool: cannot tell how many pages are free: %s", sz,
                                    p->err ? p->err : "values missing");
                        fnd_subject(f, "%s", sz);
                        fnd_evidence(f, "%s", dir);
                        if (st->from_meminfo)
                                fnd_remedy(f, "grep -i huge /proc/meminfo   # the kernel's values");
                        else
                                fnd_remedy(f, "grep . %s/*   # the kernel's values; a short or garbled file means a broken copy", dir);
                        continue;
                }
                uint64_t nr = p->v[HP_NR], avail = hp_pool_available(p), room = hp_overcommit_headroom(p);
                /* A node that never had pages only matters once the pool is short. */
                struct strbuf empty = {0};
                size_t nempty = hp_empty_nodes(p, s == SEV_OK || s == SEV_INFO, &empty);
                double pct = nr ? 100.0 * (double)avail / (double)nr : 0;
                const char *on = nempty ? "; no free page on " : "", *ns = nempty ? empty.s : "";
                if (nr == 0 && s == SEV_CRIT)
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool exhausted: on-demand pool at its overcommit limit (%" PRIu64 " surplus pages)%s%s",
                                    sz, HP_HAVE(p, HP_SURPLUS) ? p->v[HP_SURPLUS] : 0, on, ns);
                else if (nr == 0)
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool: on demand only, %" PRIu64 " more page%s allowed",
                                    sz, room, room == 1 ? "" : "s");
                else if (s == SEV_CRIT)
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool exhausted: 0 of %" PRIu64 " pages available%s%s", sz, nr,
                                    on, ns);
                else if (s == SEV_WARN && avail == 0)
                        f = fnd_add(fs, s, "hugepages.pool_exhausted",
                                    "%s pool used up: 0 of %" PRIu64 " pages left, %" PRIu64 " more only as surplus (fails when memory is fragmented)%s%s",
                                    sz, nr, room, on, ns);
                else if (s == SEV_WARN)
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool low: %" PRIu64 " of %" PRIu64 " pages available (%.1f%%)%s%s",
                                    sz, avail, nr, pct, on, ns);
                else
                        f = fnd_add(fs, s, "hugepages.pool_exhausted", "%s pool: %" PRIu64 " of %" PRIu64 " pages available%s%s", sz,
                                    avail, nr, on, ns);
                fnd_subject(f, "%s", sz);
                fnd_expected(f, ">= %.0f%% of nr_hugepages free and unreserved", warn_pct);
                struct strbuf a = {0};
                sb_printf(&a, "nr %" PRIu64 ", free %" PRIu64 ", reserved %" PRIu64, nr, p->v[HP_FREE], p->v[HP_RESV]);
                if (HP_HAVE(p, HP_SURPLUS))
                        sb_printf(&a, ", surplus %" PRIu64, p->v[HP_SURPLUS]);
                if (HP_HAVE(p, HP_OVERCOMMIT))
                        sb_printf(&a, ", overcommit %" PRIu64, p->v[HP_OVERCOMMIT]);
                for (size_t k = 0; k < p->nnodes && k < 16; k++)
                        if (p->nodes[k].valid)
                                sb_printf(&a, "; node %u: %" PRIu64 " of %" PRIu64 " free", p->nodes[k].id, p->nodes[k].free,
                                          p->nodes[k].nr);
                fnd_actual(f, "%s", a.s);
                if (s != SEV_OK) {
                        struct strbuf r = {0};
                        if (s == SEV_INFO) {
                                const struct hp_node *d = NULL;
                                for (size_t k = 0; k < p->nnodes && !d; k++)
                                        if (p->nodes[k].valid && !p->nodes[k].free && p->nodes[k].nr)
                                                d = &p->nodes[k];
                                sb_printf(&r, "echo %" PRIu64 " > " NODES_DIR "/node%u/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages   # more pages on that node",
                                          d ? sat_mul_u64(d->nr, 2) : 0, d ? d->id : 0, p->size_kb);
                        } else {
                                _cleanup_free_ char *g = grow_cmd(st, p, nr ? sat_mul_u64(nr, 2) : 1024);
                                const struct hp_mount *m = mount_for(st, p->size_kb);
                                sb_printf(&r, "%s; who holds them: grep -H _Hugetlb /proc/[0-9]*/smaps_rollup | grep -v ' 0 kB'", g);
                                if (m)
                                        sb_printf(&r, "; files in %s hold pages too: ls -l %s", m->dir, m->dir);
                        }
                        fnd_remedy(f, "%s", r.s);
                        sb_free(&r);
                }
                fnd_evidence(f, "%s%s", dir, p->nnodes ? ", " NODES_DIR "/node*/hugepages" : "");
                sb_free(&a);
                sb_free(&empty);
        }
}

static void check_mounts(struct hp_state *st, struct findings *fs)
{
        size_t configured = 0, missing = 0;
        struct strbuf ok = {0}, bad = {0};
        for (size_t i = 0; i < st->npools; i++)
                configured += hp_pool_known_configured(&st->pools[i]);
        if (!configured)
                return; /* hugepages.pools already said so */
        if (st->mounts_err) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "hugepages.no_mount", "cannot read /proc/mounts: %s", strerror(-st->mounts_err));
                fnd_evidence(f, "/proc/mounts");
                return;
        }
        if (st->bad_mounts)
                sb_printf(&bad, "; %zu malformed hugetlbfs line%s skipped", st->bad_mounts, st->bad_mounts == 1 ? "" : "s");
        for (size_t i = 0; i < st->npools; i++) {
                const struct hp_pool *p = &st->pools[i];
                if (!hp_pool_known_configured(p))
                        continue;
                char sz[24];
                hp_size_name(p->size_kb, sz);
                const struct hp_mount *m = mount_for(st, p->size_kb);
                if (m) {
                        sb_printf(&ok, "%s%s at %s", ok.len ? "; " : "", sz, m->dir);
                        for (const struct hp_mount *o = m + 1; o < st->mounts + st->nmounts; o++)
                                if ((o->pagesize_kb ? o->pagesize_kb : st->default_kb) == p->size_kb)
                                        sb_printf(&ok, ", %s", o->dir);
                        continue;
                }
                missing++;
                bool dflt = p->size_kb == st->default_kb;
                struct finding *f = fnd_add(fs, SEV_WARN, "hugepages.no_mount", "%s pool has no hugetlbfs mount of that page size", sz);
                fnd_subject(f, "%s", sz);
                fnd_expected(f, "a hugetlbfs mount with pagesize=%s", sz);
                fnd_actual(f, "%zu hugetlbfs mount%s, none of %s%s", st->nmounts, st->nmounts == 1 ? "" : "s", sz, bad.len ? bad.s : "");
                fnd_remedy(f, "mkdir -p /mnt/huge%s%s && mount -t hugetlbfs -o pagesize=%s none /mnt/huge%s%s; "
                           "echo 'none /mnt/huge%s%s hugetlbfs pagesize=%s 0 0' >> /etc/fstab",
                           dflt ? "" : "-", dflt ? "" : sz, sz, dflt ? "" : "-", dflt ? "" : sz,
                           dflt ? "" : "-", dflt ? "" : sz, sz);
                fnd_evidence(f, "/proc/mounts");
        }
        if (!missing) {
                struct finding *f = fnd_add(fs, SEV_OK, "hugepages.no_mount", "hugetlbfs mounted for every configured pool: %s", ok.s);
                fnd_expected(f, "a hugetlbfs mount per configured page size");
                fnd_actual(f, "%s%s", ok.s, bad.len ? bad.s : "");
                fnd_evidence(f, "/proc/mounts");
        }
        sb_free(&ok);
        sb_free(&bad);
}

static void check_surplus(struct hp_state *st, struct findings *fs)
{
        size_t configured = 0, with = 0;
        for (size_t i = 0; i < st->npools; i++) {
                const struct hp_pool *p = &st->pools[i];
                configured += hp_pool_known_configured(p);
                if (!HP_HAVE(p, HP_SURPLUS) || !p->v[HP_SURPLUS])
                        continue;
                with++;
                char sz[24], dir[96];
                hp_size_name(p->size_kb, sz);
                uint64_t nr = HP_HAVE(p, HP_NR) ? p->v[HP_NR] : 0;
                struct finding *f = fnd_add(fs, SEV_INFO, "hugepages.surplus", "%s pool: %" PRIu64 " surplus page%s in use beyond nr_hugepages = %" PRIu64,
                                            sz, p->v[HP_SURPLUS], p->v[HP_SURPLUS] == 1 ? "" : "s", nr);
                fnd_subject(f, "%s", sz);
                fnd_expected(f, "0 surplus pages (all pages persistent)");
                fnd_actual(f, "surplus %" PRIu64 ", nr_overcommit_hugepages %s", p->v[HP_SURPLUS],
                           HP_HAVE(p, HP_OVERCOMMIT) ? (p->v[HP_OVERCOMMIT] ? "> 0" : "0") : "unknown");
                _cleanup_free_ char *g = grow_cmd(st, p, sat_add_u64(nr, p->v[HP_SURPLUS]));
                fnd_remedy(f, "%s   # make them persistent pages", g);
                fnd_evidence(f, "%s", pool_dir(st, p, dir));
        }
        if (configured && !with) {
                struct finding *f = fnd_add(fs, SEV_OK, "hugepages.surplus", "no surplus huge pages in use");
                fnd_evidence(f, "%s", st->from_meminfo ? "/proc/meminfo" : POOLS_DIR "/*/surplus_hugepages");
        }
}

/* See the file comment: the four signs of an RT host. Writes the first one found to why. */
static bool rt_host(struct strbuf *why)
{
        _cleanup_free_ char *v = NULL, *rt = NULL, *cmdline = NULL;
        if (rootfs_read_value("/proc/sys/kernel/version", &v) == 0 && hp_version_is_rt(v)) {
                sb_printf(why, "PREEMPT_RT kernel (/proc/sys/kernel/version)");
                return true;
        }
        if (rootfs_read_value("/sys/kernel/realtime", &rt) == 0 && streq(rt, "1")) {
                sb_printf(why, "/sys/kernel/realtime = 1");
                return true;
        }
        if (rootfs_read("/proc/cmdline", 64 << 10, &cmdline, NULL) >= 0) {
                static const char *const params[] = {"isolcpus", "nohz_full"};
                for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
                        _cleanup_free_ char *val = NULL;
                        if (cmdline_param(cmdline, params[i], &val) == 0 && *val) {
                                _cleanup_free_ char *pv = printable(val);
                                sb_printf(why, "%s=%s on /proc/cmdline", params[i], pv);
                                return true;
                        }
                }
        }
        struct proctable t;
        if (proctable_load(&t) < 0)
                return false;
        bool found = false;
        for (size_t i = 0; i < t.n && !found; i++) {
                const struct proc *p = &t.v[i];
                if (p->kthread || !sched_policy_is_rt(p->policy))
                        continue;
                _cleanup_free_ char *comm = printable(p->comm);
                sb_printf(why, "pid %d %s runs %s", p->pid, comm, sched_policy_name(p->policy));
                found = true;
        }
        proctable_free(&t);
        return found;
}

/* The active value of a THP selector file; NULL with *err set when absent or unparsable. */
static char *thp_value(const char *path, int *err)
{
        _cleanup_free_ char *v = NULL;
        char word[32];
        *err = rootfs_read_value(path, &v);
        if (*err < 0)
                return NULL;
        if (hp_bracket_value(v, word, sizeof(word)) < 0) {
                *err = -EINVAL;
                return NULL;
        }
        return xstrdup(word);
}

static void check_thp(struct findings *fs)
{
        int e_en, e_df;
        _cleanup_free_ char *en = thp_value(THP_DIR "/enabled", &e_en);
        _cleanup_free_ char *df = thp_value(THP_DIR "/defrag", &e_df);
        struct finding *f;
        if (e_en == -ENOENT) {
                f = fnd_add(fs, SEV_OK, "hugepages.thp", "transparent huge pages not present in this kernel");
                fnd_evidence(f, THP_DIR "/enabled");
                return;
        }
        if (!en) {
                f = fnd_add(fs, SEV_UNKNOWN, "hugepages.thp", "cannot read " THP_DIR "/enabled: %s",
                            e_en == -EINVAL ? "no [active] value" : rootfs_strerror(-e_en));
                fnd_evidence(f, THP_DIR "/enabled");
                return;
        }
        struct strbuf why = {0};
        bool rt = false;
        /* Only always (or defrag=always) depends on the RT question: skip the process scan otherwise. */
        if (streq(en, "always") || (df && streq(df, "always") && !streq(en, "never")))
                rt = rt_host(&why);
        enum severity s = hp_thp_verdict(en, df, rt);
        const char *dfs = df ? df : "unknown";
        if (s == SEV_UNKNOWN)
                f = fnd_add(fs, s, "hugepages.thp", "THP enabled = '%s': not a value this check knows", en);
        else if (s == SEV_WARN)
                f = fnd_add(fs, s, "hugepages.thp", "THP enabled = always on an RT host (%s): khugepaged and compaction add latency", why.s);
        else if (streq(en, "always"))
                f = fnd_add(fs, s, "hugepages.thp", "THP enabled = always, defrag = %s (not an RT host)", dfs);
        else if (s == SEV_INFO)
                f = fnd_add(fs, s, "hugepages.thp", "THP enabled = %s, defrag = always on an RT host (%s): madvised regions compact on fault",
                            en, why.s);
        else
                f = fnd_add(fs, s, "hugepages.thp", "THP enabled = %s, defrag = %s", en, dfs);
        fnd_expected(f, "enabled = madvise or never on an RT host");
        fnd_actual(f, "enabled = %s, defrag = %s%s%s", en, dfs, why.len ? "; RT host: " : "", why.len ? why.s : "");
        if (s == SEV_WARN)
                fnd_remedy(f, "echo madvise > " THP_DIR "/enabled; add transparent_hugepage=madvise to the kernel command line");
        else if (s == SEV_INFO && !streq(en, "always"))
                fnd_remedy(f, "echo defer+madvise > " THP_DIR "/defrag");
        else if (s == SEV_INFO)
                fnd_remedy(f, "none needed here; on an RT host: echo madvise > " THP_DIR "/enabled");
        fnd_evidence(f, THP_DIR "/enabled, " THP_DIR "/defrag%s", why.len ? ", RT host signs (see explain)" : "");
        sb_free(&why);
}

static void hugepages_check(struct ctx *c, struct findings *fs)
{
        struct hp_state st = {0};
        hp_read_pools(&st);
        hp_read_meminfo(&st);
        hp_read_nodes(&st);
        read_mounts(&st);
        check_pools(&st, fs);
        check_exhausted(c, &st, fs);
        check_mounts(&st, fs);
        check_surplus(&st, fs);
        check_thp(fs);
        hp_state_free(&st);
}

const struct collector hugepages_collector = {
        .name = "hugepages",
        .summary = "huge page pools, hugetlbfs mounts, transparent huge pages",
        .checks = checks,
        .config = config,
        .check = hugepages_check,
        .sample = hugepages_sample,
        .sampled = (const char *const[]){"hugepages.pool_exhausted", NULL},
        .free_state = hugepages_free_state,
};
