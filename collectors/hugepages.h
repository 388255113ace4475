/* hugepages collector: the parsers and decisions (hugepages_format.c, exported for
 * tests/unit/test_hugepages.c), and what its files share. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/procfs.h"
#include "lib/util.h"

/* The active choice of a sysfs selector such as "always [madvise] never": the one word in
 * [brackets], copied to out. -EINVAL when there is not exactly one bracketed word,
 * -ENOSPC when it does not fit. */
int hp_bracket_value(const char *text, char *out, size_t outsz);

/* Page size in kB of a pool directory name, "hugepages-2048kB" -> 2048. -EINVAL otherwise. */
int hp_pool_dir_kb(const char *name, uint64_t *kb);

/* A size the way the kernel's memparse() reads hugetlbfs pagesize= and hugepagesz=:
 * "2M", "1G", "64k", "2097152" (bytes). Result in kB; -EINVAL, -ERANGE, or -EINVAL when
 * not a whole number of kB. */
int hp_size_to_kb(const char *s, uint64_t *kb);

/* The pagesize= option of a hugetlbfs mount's option string ("rw,relatime,pagesize=2M").
 * 0 with *kb = 0 when the option is absent (the mount uses the default huge page size). */
int hp_mount_pagesize_kb(const char *opts, uint64_t *kb);

/* The hugetlbfs mounts of a /proc/mounts text. Lines that are not hugetlbfs, or are
 * malformed, are skipped; *bad counts the malformed hugetlbfs ones. */
struct hp_mount {
        char *dir;            /* mount point, octal escapes (\040) undone */
        uint64_t pagesize_kb; /* 0 = default size (no pagesize= shown) */
};
size_t hp_mounts_parse(const char *text, struct hp_mount **out, size_t *bad);
void hp_mounts_free(struct hp_mount *m, size_t n);

/* One huge page pool (/sys/kernel/mm/hugepages/hugepages-<N>kB). */
enum hp_field { HP_NR, HP_FREE, HP_RESV, HP_SURPLUS, HP_OVERCOMMIT, HP_NFIELDS };
struct hp_node {
        unsigned id;
        bool valid; /* nr and free read and parsed */
        uint64_t nr, free;
};
struct hp_pool {
        uint64_t size_kb;
        uint64_t v[HP_NFIELDS];
        unsigned have;    /* bit (1 << field): v[field] was read and is a number */
        char *err;        /* first problem reading a field, for the unknown finding */
        struct hp_node *nodes;
        size_t nnodes;
};
#define HP_HAVE(p, f) (((p)->have >> (f)) & 1u)

/* The files of a pool directory, by field: "nr_hugepages", ... */
extern const char *const hp_field_file[HP_NFIELDS];
/* The default pool as /proc/meminfo shows it: HugePages_Total, _Free, _Rsvd, _Surp into
 * nr, free, resv and surplus (p->have), the first missing or malformed one in p->err.
 * nr_overcommit_hugepages is not in meminfo. */
void hp_pool_from_meminfo(const struct kvlist *mi, struct hp_pool *p);

/* Pages a new mapping can still get from the persistent pool: free minus reserved. */
uint64_t hp_pool_available(const struct hp_pool *p);
/* Has pages or may get them on demand (nr_hugepages > 0 or nr_overcommit_hugepages > 0).
 * A pool whose nr_hugepages cannot be read counts as configured: it must be looked at. */
bool hp_pool_configured(const struct hp_pool *p);
/* Configured for sure (nr_hugepages read): the pools the mount and surplus checks look at. */
bool hp_pool_known_configured(const struct hp_pool *p);
/* Surplus pages nr_overcommit_hugepages still allows (0 when unknown). */
uint64_t hp_overcommit_headroom(const struct hp_pool *p);
/* The pool_exhausted verdict, in check and in watch alike: unknown when a needed field is missing; crit when no page is
 * available and none can be overcommitted; warn when none is available but surplus pages
 * may still come, or fewer than warn_pct % of nr are available; info when the pool is fine
 * but one NUMA node that had pages has none free; else ok. */
enum severity hp_pool_verdict(const struct hp_pool *p, double warn_pct);
/* Nodes with no free page while another node still has some, as "node 1 (0 of 512 free)"
 * into sb (comma-separated). Returns how many; only_configured counts only nodes with
 * nr > 0 (the ones that ran out rather than never had pages). */
size_t hp_empty_nodes(const struct hp_pool *p, bool only_configured, struct strbuf *sb);
void hp_pool_free(struct hp_pool *p);

/* "2M", "1G", "64K": the size as hugepagesz= and pagesize= spell it. */
const char *hp_size_name(uint64_t kb, char buf[static 24]);

/* The RT-host test (see hugepages.c). This part: the kernel version string of a
 * PREEMPT_RT kernel ("#1 SMP PREEMPT_RT ..."; older ones print "PREEMPT RT"). */
bool hp_version_is_rt(const char *version);
/* THP verdict from the active values of enabled and defrag (either may be NULL = unknown):
 * warn for enabled=always on an RT host, info for always elsewhere or for defrag=always
 * on an RT host with THP on, ok for madvise/never, unknown for anything else. */
enum severity hp_thp_verdict(const char *enabled, const char *defrag, bool rt_host);

/* ---- shared by the collector's files ---- */

#define POOLS_DIR "/sys/kernel/mm/hugepages"
#define NODES_DIR "/sys/devices/system/node"

struct hp_state {
        struct hp_pool *pools;
        size_t npools;
        int sysfs_err;        /* listing POOLS_DIR: 0 or -errno */
        size_t bad_dirs;      /* entries that are not hugepages-<N>kB */
        bool from_meminfo;    /* the one pool came from /proc/meminfo */
        int meminfo_err;
        bool meminfo_huge;    /* meminfo has HugePages_Total (kernel has hugetlb) */
        uint64_t default_kb;  /* Hugepagesize; 0 = unknown */
        uint64_t hugetlb;     /* bytes, meminfo Hugetlb */
        bool have_hugetlb;
        struct hp_mount *mounts;
        size_t nmounts, bad_mounts;
        int mounts_err;
};

/* The pools in POOLS_DIR (sorted by page size) with their values. */
void hp_read_pools(struct hp_state *st);
/* Each pool's per-NUMA-node view (sorted by node), where sysfs has one. */
void hp_read_nodes(struct hp_state *st);
/* /proc/meminfo: Hugepagesize, Hugetlb, and the default pool when sysfs has none. */
void hp_read_meminfo(struct hp_state *st);
void hp_state_free(struct hp_state *st);

struct ctx;
struct sample;
void hugepages_sample(struct ctx *c, struct sample *s);
void hugepages_free_state(void *state);
