/* rt: what evodiag watch samples every interval (collectors/sample_util.h). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/rt.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"
#include "lib/proctable.h"

#include <inttypes.h>
#include <stddef.h>

struct rt_wtask {
        struct sproc p;
        unsigned policy0, prio0; /* when first seen */
        struct sfile cpustat;    /* its cgroup's cpu.stat, "" when none */
        char *cpustat_path;
        uint64_t prev_thr;
        bool have_thr;
};

struct rt_watch {
        struct rt_wtask *v;
        size_t n;
        struct sfile runtime, period;
        struct pidwatch young; /* processes started since watch began */
};

/* cgroup v2 "0::/system.slice/x.service" -> /sys/fs/cgroup/system.slice/x.service/cpu.stat */
static char *cpustat_of(int pid)
{
        char path[64];
        _cleanup_free_ char *cg = NULL;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
        if (rootfs_read(path, 64 << 10, &cg, NULL) < 0)
                return NULL;
        for (char *l = cg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (!startswith(l, "0::/"))
                        continue;
                size_t n = strcspn(l + 3, "\n");
                _cleanup_free_ char *rel = xstrndup(l + 3, n);
                if (strstr(rel, ".."))
                        return NULL;
                char *p = xasprintf("/sys/fs/cgroup%s%scpu.stat", rel, streq(rel, "/") ? "" : "/");
                if (rootfs_exists(p))
                        return p;
                free(p);
                return NULL;
        }
        return NULL;
}

static void wtask_close(void *entry)
{
        struct rt_wtask *t = entry;
        sproc_close(&t->p);
        sfile_close(&t->cpustat);
        free(t->cpustat_path);
        t->cpustat_path = NULL;
}
_Static_assert(offsetof(struct rt_wtask, p) == 0, "sample_watch_room: the sproc comes first");

/* A task first seen now: what it runs as now is what it must keep. */
static void wtask_start(struct rt_wtask *v, const struct rt_task *t, const struct proctable *pt)
{
        sproc_init(&v->p, t->pid, t->tid, t->comm, t->tcomm);
        /* The RT main thread of a process with more threads: its own CPU use. */
        for (size_t j = 0; j < pt->n; j++)
                if (pt->v[j].pid == t->pid) {
                        v->p.task_path = t->tid == t->pid && pt->v[j].nlwp > 1;
                        break;
                }
        v->policy0 = t->policy;
        v->prio0 = t->rtprio;
        v->cpustat_path = cpustat_of(t->pid);
}

static void rt_watch_rescan(struct ctx *c, struct rt_watch *w)
{
        struct proctable pt;
        if (sample_proctable(&pt) < 0) /* stat only: policy, threads; the RT ones get the rest */
                return;
        struct rt_task *tasks = NULL;
        size_t n = 0;
        (void)rt_collect_tasks(c, &pt, &tasks, &n);
        size_t max = (size_t)conf_uint(c, "max_tasks"), k = 0;
        struct rt_wtask *v = xcalloc((n < max ? n : max) + 1, sizeof(*v));
        for (size_t i = 0; i < n && k < max; i++) {
                const struct rt_task *t = &tasks[i];
                bool kept = false;
                for (size_t j = 0; j < w->n && !kept; j++)
                        if (w->v[j].p.pid == t->pid && w->v[j].p.tid == t->tid && !w->v[j].p.gone) {
                                v[k++] = w->v[j];
                                w->v[j].p.pid = -1;
                                kept = true;
                        }
                if (!kept)
                        wtask_start(&v[k++], t, &pt);
        }
        for (size_t j = 0; j < w->n; j++)
                if (w->v[j].p.pid != -1)
                        wtask_close(&w->v[j]);
        free(w->v);
        w->v = v;
        w->n = k;
        rt_tasks_free(tasks, n);
        proctable_free(&pt);
}

/* Processes started since watch began: their RT tasks (the process's or its
 * threads') are looked for every interval while they are young, so a new RT task
 * is watched within two intervals instead of at the next rescan. */
static void rt_watch_young(struct ctx *c, struct rt_watch *w)
{
        int young[SAMPLE_YOUNG_MAX];
        size_t ny = pidwatch_young(&w->young, c, young);
        if (!ny)
                return;
        struct proctable pt = {.v = xcalloc(ny, sizeof(struct proc))};
        for (size_t i = 0; i < ny; i++) {
                struct proc p;
                if (!sample_proc(young[i], &p) || p.kthread || sample_is_self(&p)) {
                        pidwatch_drop(&w->young, young[i]);
                        continue;
                }
                p.cmdline = xstrdup("");
                pt.v[pt.n++] = p;
        }
        struct rt_task *tasks = NULL;
        size_t n = 0;
        (void)rt_collect_tasks(c, &pt, &tasks, &n);
        size_t max = (size_t)conf_uint(c, "max_tasks");
        for (size_t i = 0; i < n; i++) {
                bool watched = false;
                for (size_t j = 0; j < w->n && !watched; j++)
                        watched = w->v[j].p.pid == tasks[i].pid && w->v[j].p.tid == tasks[i].tid && !w->v[j].p.gone;
                if (watched)
                        continue; /* still young: threads it starts later are looked for too */
                if (!sample_watch_room(w->v, &w->n, sizeof(*w->v), max, wtask_close))
                        break; /* the next rescan takes them in order */
                w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
                w->v[w->n] = (struct rt_wtask){0};
                wtask_start(&w->v[w->n++], &tasks[i], &pt);
        }
        rt_tasks_free(tasks, n);
        proctable_free(&pt);
}

/* The user RT tasks (found at each rescan, at most [rt] max_tasks): policy and
 * priority (rt.task_sched), CPU %, RSS and context switches, whether RT throttling
 * is stopping them (rt.throttled), and nr_throttled of their cgroup's cpu.stat
 * (cgroup v2; that is CPU-quota throttling of the task's ordinary threads). */
void rt_sample(struct ctx *c, struct sample *s)
{
        struct rt_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c))
                rt_watch_rescan(c, w);
        rt_watch_young(c, w);
        char buf[4096];
        int64_t runtime = -1, period = 0;
        if (sfile_read(&w->runtime, "/proc/sys/kernel/sched_rt_runtime_us", buf, sizeof(buf)) >= 0 && parse_i64(buf, &runtime) == 0 &&
            sfile_read(&w->period, "/proc/sys/kernel/sched_rt_period_us", buf, sizeof(buf)) >= 0 && parse_i64(buf, &period) == 0)
                sample_value(s, "rt.sched_rt_runtime_us", NULL, (double)runtime, "us");
        else
                runtime = -1;
        double share = rt_throttle_share(runtime, period);
        sample_value(s, "rt.tasks_watched", NULL, (double)w->n, "tasks");
        for (size_t i = 0; i < w->n; i++) {
                struct rt_wtask *t = &w->v[i];
                const char *subj = t->p.subject;
                bool gone = t->p.gone || !sproc_read(&t->p);
                enum severity sev = rt_task_sched_verdict(gone, t->prio0, t->p.policy, t->p.rtprio);
                if (gone) {
                        sample_status(s, "rt.task_sched", subj, sev, "%s (was %s %u) exited", subj, sched_policy_name(t->policy0),
                                      t->prio0);
                        continue;
                }
                sproc_values(s, &t->p, "rt", true);
                if (!sched_policy_is_rt(t->p.policy))
                        sample_status(s, "rt.task_sched", subj, sev, "%s now runs %s (was %s %u): it lost its RT scheduling", subj,
                                      sched_policy_name(t->p.policy), sched_policy_name(t->policy0), t->prio0);
                else if (sev == SEV_INFO)
                        sample_status(s, "rt.task_sched", subj, sev, "%s: %s %u (was priority %u)", subj,
                                      sched_policy_name(t->p.policy), t->p.rtprio, t->prio0);
                else
                        sample_status(s, "rt.task_sched", subj, sev, "%s: %s %u", subj, sched_policy_name(t->p.policy), t->p.rtprio);
                if (share >= 0 && t->p.have_rate && sched_policy_is_rt(t->p.policy))
                        sample_status(s, "rt.throttled", subj, rt_throttled_verdict(t->p.cpu_pct, share),
                                      "%s used %.0f%% CPU; RT throttling stops RT tasks at %.0f%%", subj, t->p.cpu_pct, share);
                uint64_t thr;
                if (t->cpustat_path && sfile_read(&t->cpustat, t->cpustat_path, buf, sizeof(buf)) >= 0) {
                        char *p = strstr(buf, "nr_throttled ");
                        if (p && parse_u64(strndupa(p + 13, strcspn(p + 13, "\n")), &thr) == 0) {
                                if (t->have_thr)
                                        sample_value(s, "rt.cgroup_nr_throttled", subj, (double)(thr >= t->prev_thr ? thr - t->prev_thr : 0),
                                                     "per interval");
                                t->prev_thr = thr;
                                t->have_thr = true;
                        }
                }
        }
}

void rt_free_state(void *state)
{
        struct rt_watch *w = state;
        for (size_t i = 0; i < w->n; i++)
                wtask_close(&w->v[i]);
        free(w->v);
        sfile_close(&w->runtime);
        sfile_close(&w->period);
        pidwatch_free(&w->young);
        free(w);
}
