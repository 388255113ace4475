/* isolation: what evodiag watch samples every interval (collectors/sample_util.h). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/isolation.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"

#include <inttypes.h>

#define WATCH_CPUS_MAX 256

struct iso_watch {
        unsigned cpus[WATCH_CPUS_MAX]; /* the isolated CPUs, from the last rescan */
        size_t ncpu;
        uint64_t prev_all[WATCH_CPUS_MAX], prev_dev[WATCH_CPUS_MAX];
        bool have_prev;
        struct sfile irq;
        char *buf;
        size_t cap;
};

static void iso_watch_rescan(struct iso_watch *w)
{
        struct iso_state *st = xcalloc(1, sizeof(*st));
        (void)iso_state_read(st); /* without /proc/cmdline, the kernel's own lists still say */
        size_t n = 0;
        unsigned cpus[WATCH_CPUS_MAX];
        for (unsigned c = 0; c < CPULIST_MAX && n < WATCH_CPUS_MAX; c++)
                if (cpuset_isset(&st->intended, c))
                        cpus[n++] = c;
        if (n != w->ncpu || memcmp(cpus, w->cpus, n * sizeof(*cpus)) != 0) {
                memcpy(w->cpus, cpus, n * sizeof(*cpus));
                w->ncpu = n;
                w->have_prev = false; /* other CPUs: no delta to take yet */
        }
        free(st);
}

/* Interrupts on each isolated CPU per interval, all and device IRQs (the numbered
 * lines); a device IRQ handled on an isolated CPU is the isolation.irq problem. */
void iso_sample(struct ctx *c, struct sample *s)
{
        struct iso_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c))
                iso_watch_rescan(w);
        if (!w->ncpu)
                return; /* no isolation: nothing to watch */
        /* The file grows with the host (CPUs x IRQs). */
        long r = sfile_read_grow(&w->irq, "/proc/interrupts", &w->buf, &w->cap, READ_MAX_DEFAULT);
        struct irq_table t;
        if (r < 0 || interrupts_parse(w->buf, &t) < 0) {
                sample_status(s, "isolation.irq", NULL, SEV_UNKNOWN, "cannot %s /proc/interrupts%s%s", r < 0 ? "read" : "parse",
                              r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
                w->have_prev = false;
                return;
        }
        for (size_t k = 0; k < w->ncpu; k++) {
                int col = -1;
                for (unsigned j = 0; j < t.ncpus; j++)
                        if (t.cpu_ids[j] == w->cpus[k])
                                col = (int)j;
                if (col < 0)
                        continue; /* offline */
                uint64_t all = 0, dev = 0;
                for (size_t i = 0; i < t.n; i++) {
                        all += t.v[i].count[col];
                        if (t.v[i].numeric)
                                dev += t.v[i].count[col];
                }
                char subj[32];
                snprintf(subj, sizeof(subj), "CPU %u", w->cpus[k]);
                if (w->have_prev && all >= w->prev_all[k] && dev >= w->prev_dev[k]) {
                        uint64_t da = all - w->prev_all[k], dd = dev - w->prev_dev[k];
                        sample_value(s, "isolation.irqs", subj, (double)da, "per interval");
                        sample_value(s, "isolation.device_irqs", subj, (double)dd, "per interval");
                        /* Handled there in the interval: its affinity allowed it. */
                        enum severity sev = iso_irq_verdict(true, dd);
                        if (sev != SEV_OK)
                                sample_status(s, "isolation.irq", subj, sev,
                                              "isolated %s handled %" PRIu64 " device interrupts in the last interval", subj, dd);
                        else
                                sample_status(s, "isolation.irq", subj, sev,
                                              "isolated %s: no device interrupt in the last interval (%" PRIu64 " others: timer, IPIs)", subj, da);
                }
                w->prev_all[k] = all;
                w->prev_dev[k] = dev;
        }
        w->have_prev = true;
        interrupts_free(&t);
}

void iso_free_state(void *state)
{
        struct iso_watch *w = state;
        sfile_close(&w->irq);
        free(w->buf);
        free(w);
}
