/* hugepages: what evodiag watch samples every interval (collectors/sample_util.h). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/hugepages.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"

#include <inttypes.h>

/* A pool's NUMA node, read every sample as check reads it (hp_read_nodes). */
struct hp_wnode {
        unsigned id;
        struct sfile nr, free;
};

struct hp_watch {
        struct hp_pool *pools;             /* page sizes from the last rescan; values read each sample */
        struct sfile (*files)[HP_NFIELDS]; /* per pool, kept open */
        struct hp_wnode **nodes;           /* per pool, p->nnodes of them */
        size_t n;
        bool from_meminfo;
        struct sfile meminfo;
};

static void hp_watch_close(struct hp_watch *w)
{
        for (size_t i = 0; i < w->n; i++) {
                for (int f = 0; f < HP_NFIELDS; f++)
                        sfile_close(&w->files[i][f]);
                for (size_t k = 0; k < w->pools[i].nnodes; k++) {
                        sfile_close(&w->nodes[i][k].nr);
                        sfile_close(&w->nodes[i][k].free);
                }
                free(w->nodes[i]);
                hp_pool_free(&w->pools[i]);
        }
        free(w->pools);
        free(w->files);
        free(w->nodes);
        w->pools = NULL;
        w->files = NULL;
        w->nodes = NULL;
        w->n = 0;
}

static void hp_watch_rescan(struct hp_watch *w)
{
        hp_watch_close(w);
        struct hp_state st = {0};
        hp_read_pools(&st);
        hp_read_meminfo(&st);
        hp_read_nodes(&st);
        w->n = st.npools;
        w->pools = xcalloc(w->n + 1, sizeof(*w->pools));
        w->files = xcalloc(w->n + 1, sizeof(*w->files));
        w->nodes = xcalloc(w->n + 1, sizeof(*w->nodes));
        for (size_t i = 0; i < w->n; i++) {
                struct hp_pool *p = &w->pools[i];
                p->size_kb = st.pools[i].size_kb;
                p->nnodes = st.pools[i].nnodes;
                p->nodes = xcalloc(p->nnodes + 1, sizeof(*p->nodes));
                w->nodes[i] = xcalloc(p->nnodes + 1, sizeof(**w->nodes));
                for (size_t k = 0; k < p->nnodes; k++)
                        w->nodes[i][k].id = st.pools[i].nodes[k].id;
        }
        w->from_meminfo = st.from_meminfo;
        hp_state_free(&st);
}

static bool hp_watch_num(struct sfile *f, const char *path, uint64_t *v)
{
        char buf[64];
        return sfile_read(f, path, buf, sizeof(buf)) >= 0 && parse_u64(buf, v) == 0;
}

static void hp_watch_read(struct hp_watch *w, struct hp_pool *p, size_t i)
{
        p->have = 0;
        free(p->err);
        p->err = NULL;
        char buf[16384];
        if (w->from_meminfo) {
                long n = sfile_read(&w->meminfo, "/proc/meminfo", buf, sizeof(buf));
                if (n < 0) {
                        p->err = xasprintf("/proc/meminfo: %s", strerror((int)-n));
                        return;
                }
                struct kvlist mi;
                kv_parse(buf, ':', &mi);
                hp_pool_from_meminfo(&mi, p);
                kv_free(&mi);
                return;
        }
        for (int f = 0; f < HP_NFIELDS; f++) {
                char path[128];
                snprintf(path, sizeof(path), POOLS_DIR "/hugepages-%" PRIu64 "kB/%s", p->size_kb, hp_field_file[f]);
                long n = sfile_read(&w->files[i][f], path, buf, 64);
                if (n >= 0 && parse_u64(buf, &p->v[f]) == 0)
                        p->have |= 1u << f;
                else if (!p->err)
                        p->err = xasprintf("%s: %s", hp_field_file[f], n < 0 ? strerror((int)-n) : "not a number");
        }
        /* The nodes too: a node that ran out is the verdict's info, as in check. */
        for (size_t k = 0; k < p->nnodes; k++) {
                struct hp_wnode *wn = &w->nodes[i][k];
                struct hp_node *nd = &p->nodes[k];
                char path[200];
                snprintf(path, sizeof(path), NODES_DIR "/node%u/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages", wn->id, p->size_kb);
                bool ok = hp_watch_num(&wn->nr, path, &nd->nr);
                snprintf(path, sizeof(path), NODES_DIR "/node%u/hugepages/hugepages-%" PRIu64 "kB/free_hugepages", wn->id, p->size_kb);
                nd->id = wn->id;
                nd->valid = hp_watch_num(&wn->free, path, &nd->free) && ok;
        }
}

/* Each configured pool: pages total, free, available (free minus reserved),
 * surplus, and the hugepages.pool_exhausted verdict of check (hp_pool_verdict, with
 * the NUMA nodes as check reads them). The pool and node directories are listed
 * again at each rescan. */
void hugepages_sample(struct ctx *c, struct sample *s)
{
        struct hp_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c))
                hp_watch_rescan(w);
        double warn_pct = conf_num(c, "warn_free_pct");
        for (size_t i = 0; i < w->n; i++) {
                struct hp_pool *p = &w->pools[i];
                hp_watch_read(w, p, i);
                if (!hp_pool_configured(p))
                        continue;
                char sz[24];
                hp_size_name(p->size_kb, sz);
                enum severity sev = hp_pool_verdict(p, warn_pct);
                if (sev == SEV_UNKNOWN) {
                        sample_status(s, "hugepages.pool_exhausted", sz, sev, "%s pool: cannot tell how many pages are free: %s", sz,
                                      p->err ? p->err : "values missing");
                        continue;
                }
                uint64_t nr = p->v[HP_NR], avail = hp_pool_available(p);
                sample_value(s, "hugepages.total", sz, (double)nr, "pages");
                sample_value(s, "hugepages.free", sz, (double)p->v[HP_FREE], "pages");
                sample_value(s, "hugepages.available", sz, (double)avail, "pages");
                if (HP_HAVE(p, HP_SURPLUS))
                        sample_value(s, "hugepages.surplus", sz, (double)p->v[HP_SURPLUS], "pages");
                if (sev == SEV_CRIT)
                        sample_status(s, "hugepages.pool_exhausted", sz, sev, "%s pool exhausted: %" PRIu64 " of %" PRIu64 " pages available",
                                      sz, avail, nr);
                else if (sev == SEV_WARN)
                        sample_status(s, "hugepages.pool_exhausted", sz, sev, "%s pool low: %" PRIu64 " of %" PRIu64 " pages available%s",
                                      sz, avail, nr, avail ? "" : " (more only as surplus pages)");
                else if (sev == SEV_INFO) {
                        struct strbuf empty = {0};
                        (void)hp_empty_nodes(p, true, &empty);
                        sample_status(s, "hugepages.pool_exhausted", sz, sev, "%s pool: %" PRIu64 " of %" PRIu64 " pages available; no free page on %s",
                                      sz, avail, nr, empty.s ? empty.s : "a node");
                        sb_free(&empty);
                } else
                        sample_status(s, "hugepages.pool_exhausted", sz, sev, "%s pool: %" PRIu64 " of %" PRIu64 " pages available", sz,
                                      avail, nr);
        }
}

void hugepages_free_state(void *state)
{
        struct hp_watch *w = state;
        hp_watch_close(w);
        sfile_close(&w->meminfo);
        free(w);
}
