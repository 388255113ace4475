/* perf: what evodiag watch samples every interval. The counters of the component
 * processes stay open in the sampler child between samples (perf_free_state closes
 * them); only a rescan (sample 0, then every sampler_rescan_ms) finds the processes
 * again and reopens. Per process: CPU % (task-clock), involuntary context switches
 * per second (/proc/PID/task/TID/status) and migrations per second. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "collectors/sample_util.h"

#include <inttypes.h>
#include <time.h>

struct perf_watch {
        struct perf_set s;
        uint64_t prev_ns;
        bool have_prev;
};

static uint64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rescan(struct ctx *c, struct perf_watch *w)
{
        perf_set_free(&w->s);
        _cleanup_free_ char *why = NULL;
        if (perf_targets(c, &w->s, &why) < 0)
                return;
        w->s.want_hw = false; /* watch keeps to the software events: cheap and always there */
        perf_set_open(&w->s);
        perf_set_read(&w->s, true);
        w->prev_ns = mono_ns();
        w->have_prev = true;
}

void perf_sample(struct ctx *c, struct sample *s)
{
        if (!rootfs_is_live())
                return; /* perf_event_open measures this host, not a --root tree */
        struct perf_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c)) {
                rescan(c, w);
                sample_value(s, "perf.processes_watched", NULL, (double)w->s.n, "processes");
                return; /* rates from the next sample on */
        }
        sample_value(s, "perf.processes_watched", NULL, (double)w->s.n, "processes");
        if (!w->have_prev)
                return;
        perf_set_read(&w->s, false);
        uint64_t now = mono_ns(), dt = now - w->prev_ns;
        w->prev_ns = now;
        if (!dt)
                return;
        double secs = (double)dt / 1e9;
        for (size_t i = 0; i < w->s.n; i++) {
                struct perf_target *t = &w->s.v[i];
                uint64_t tc = 0, migr = 0, ivcs = 0;
                size_t live = 0;
                for (size_t j = 0; j < t->n; j++) {
                        struct perf_task *k = &t->t[j];
                        if (k->have_d && k->r1.v[PEV_TASK_CLOCK]) {
                                live++;
                                tc += k->d[PEV_TASK_CLOCK];
                                migr += k->d[PEV_MIGRATIONS];
                                ivcs += k->have_dcs ? k->divcs : 0;
                        }
                        k->r0 = k->r1; /* the next interval starts here */
                }
                if (!live)
                        continue;
                sample_value(s, "perf.cpu_pct", t->subject, 100.0 * (double)tc / (double)dt, "%");
                sample_value(s, "perf.ctxsw_involuntary_per_s", t->subject, (double)ivcs / secs, "1/s");
                sample_value(s, "perf.migrations_per_s", t->subject, (double)migr / secs, "1/s");
        }
}

void perf_free_state(void *state)
{
        struct perf_watch *w = state;
        perf_set_free(&w->s);
        free(w);
}
