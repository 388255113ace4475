/* perf: counting. Which processes (the components lib/trust vouches for, or the pids
 * the operator names), one counter per event per thread with perf_event_open
 * (inherit: threads a thread starts later count into it), counting only: no sampling,
 * nothing that interrupts the measured task. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>

const char *const perf_ev_names[PEV_N] = {
        [PEV_TASK_CLOCK] = "task-clock",     [PEV_CS] = "context-switches", [PEV_MIGRATIONS] = "cpu-migrations",
        [PEV_MAJFLT] = "major-faults",       [PEV_MINFLT] = "minor-faults", [PEV_CYCLES] = "cycles",
        [PEV_INSNS] = "instructions",        [PEV_CACHE_REFS] = "cache-references",
        [PEV_CACHE_MISSES] = "cache-misses", [PEV_BRANCH_MISSES] = "branch-misses",
};

static void ev_attr(enum perf_ev e, struct perf_event_attr *a)
{
        static const struct {
                uint32_t type;
                uint64_t config;
        } ev[PEV_N] = {
                [PEV_TASK_CLOCK] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
                [PEV_CS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
                [PEV_MIGRATIONS] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
                [PEV_MAJFLT] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
                [PEV_MINFLT] = {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
                [PEV_CYCLES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
                [PEV_INSNS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
                [PEV_CACHE_REFS] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
                [PEV_CACHE_MISSES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
                [PEV_BRANCH_MISSES] = {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
        };
        memset(a, 0, sizeof(*a));
        a->size = sizeof(*a);
        a->type = ev[e].type;
        a->config = ev[e].config;
        a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        a->exclude_hv = 1;
}

int perf_open_counter(enum perf_ev e, int tid, bool inherit)
{
        struct perf_event_attr a;
        ev_attr(e, &a);
        a.inherit = inherit;
        long fd = syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        return fd < 0 ? -errno : (int)fd;
}

int perf_probe_event(enum perf_ev e)
{
        int fd = perf_open_counter(e, 0, false);
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

uint64_t perf_starttime(int pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        _cleanup_free_ char *st = NULL;
        struct proc_stat ps;
        if (rootfs_read(path, 4096, &st, NULL) < 0 || proc_stat_parse(st, &ps) < 0)
                return 0;
        return ps.starttime;
}

/* ---- which processes ---- */

static void add_target(struct perf_set *s, int pid, const char *comm, const char *by, const char *user)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].pid == pid)
                        return;
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        struct perf_target *t = &s->v[s->n++];
        *t = (struct perf_target){.pid = pid};
        _cleanup_free_ char *pc = str_printable(comm);
        snprintf(t->comm, sizeof(t->comm), "%s", pc);
        snprintf(t->subject, sizeof(t->subject), "pid %d %s", pid, t->comm);
        snprintf(t->by, sizeof(t->by), "%s", by);
        snprintf(t->user, sizeof(t->user), "%s", user);
        t->starttime = perf_starttime(pid);
}

int perf_targets(struct ctx *c, struct perf_set *s, char **why)
{
        *s = (struct perf_set){.task_budget = (size_t)conf_uint(c, "max_tasks")};
        *why = NULL;
        const char *pids = conf_str(c, "pids");
        int pv[PERF_PIDS_MAX];
        int n = perf_parse_pids(pids, pv, PERF_PIDS_MAX, why);
        if (n < 0)
                return n;
        if (n > 0) {
                for (int i = 0; i < n; i++) {
                        char path[64];
                        snprintf(path, sizeof(path), "/proc/%d/comm", pv[i]);
                        _cleanup_free_ char *comm = NULL;
                        if (rootfs_read_value(path, &comm) < 0)
                                continue; /* gone: perf.counters says which were not found */
                        add_target(s, pv[i], comm, "named by --pid or [perf] pids", "");
                }
                s->looked_for = xasprintf("pids %s", pids);
                return 0;
        }
        /* The components: every entry "name[:service_user]" of [perf] processes. */
        const char *list = conf_str(c, "processes");
        struct proctable pt;
        int r = proctable_load(&pt);
        if (r < 0) {
                *why = xasprintf("cannot read the process table: %s", strerror(-r));
                return r;
        }
        struct strbuf looked = {0}, imp = {0};
        _cleanup_free_ char *copy = xstrdup(list);
        char *save = NULL;
        for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
                char name[65], user[65];
                if (perf_process_entry(e, name, sizeof(name), user, sizeof(user)) < 0)
                        continue;
                sb_printf(&looked, "%s%s", looked.len ? ", " : "", name);
                struct trust tr;
                trust_init(&tr, name, user);
                for (size_t i = 0; i < pt.n; i++) {
                        const struct proc *p = &pt.v[i];
                        if (p->kthread || p->state == 'Z' || p->state == 'X' || p->pid == getpid() || !component_named(p, name))
                                continue;
                        struct trust_proc tp;
                        if (!trust_process(&tr, p->pid, &tp)) {
                                if (imp.len < 1024)
                                        sb_printf(&imp, "%spid %d %s (uid %u, not %s)", imp.len ? "; " : "", p->pid, name, tp.bad_uid,
                                                  trust_who(&tr));
                                continue;
                        }
                        char by[160];
                        snprintf(by, sizeof(by), "%s: %s", name, trust_by_name(tp.by));
                        add_target(s, p->pid, p->comm, by, user);
                        if (s->n >= PERF_PIDS_MAX)
                                break;
                }
                trust_free(&tr);
                if (s->n >= PERF_PIDS_MAX)
                        break;
        }
        proctable_free(&pt);
        s->looked_for = sb_steal(&looked);
        s->impostors = imp.len ? sb_steal(&imp) : (sb_free(&imp), NULL);
        return 0;
}

/* ---- counters ---- */

static void task_close(struct perf_task *t)
{
        for (int e = 0; e < PEV_N; e++)
                if (t->fd[e] >= 0) {
                        close(t->fd[e]);
                        t->fd[e] = -1;
                }
}

static void target_open(struct perf_target *t, bool hw, size_t *budget)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
        struct rootfs_dir *d = rootfs_opendir(path);
        if (!d) {
                t->gone = true;
                t->open_err = -ESRCH;
                return;
        }
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                if (!*budget) {
                        t->tasks_cut = true;
                        break;
                }
                uint64_t tid;
                if (parse_u64(de->d_name, &tid) < 0 || tid == 0 || tid > PERF_PID_MAX)
                        continue;
                t->t = xrealloc(t->t, (t->n + 1) * sizeof(*t->t));
                struct perf_task *k = &t->t[t->n];
                *k = (struct perf_task){.tid = (int)tid};
                for (int e = 0; e < PEV_N; e++)
                        k->fd[e] = -1;
                char sp[96];
                snprintf(sp, sizeof(sp), "/proc/%d/task/%d/stat", t->pid, k->tid);
                _cleanup_free_ char *st = NULL;
                struct proc_stat ps;
                if (rootfs_read(sp, 4096, &st, NULL) >= 0 && proc_stat_parse(st, &ps) == 0) {
                        _cleanup_free_ char *pc = str_printable(ps.comm);
                        snprintf(k->comm, sizeof(k->comm), "%s", pc);
                        k->policy = ps.policy;
                        k->rtprio = ps.rt_priority;
                }
                int opened = 0;
                for (int e = 0; e < (hw ? PEV_N : PEV_SW_N); e++) {
                        int fd = perf_open_counter((enum perf_ev)e, k->tid, true);
                        if (fd < 0) {
                                if (!t->open_err && e < PEV_SW_N)
                                        t->open_err = fd;
                                if (fd == -EMFILE || fd == -ENFILE)
                                        break;
                                continue;
                        }
                        k->fd[e] = fd;
                        opened++;
                }
                if (!opened)
                        continue; /* the thread exited meanwhile, or not allowed */
                t->n++;
                (*budget)--;
        }
        rootfs_closedir(d);
}

/* Each thread holds up to PEV_N counters: raise the soft RLIMIT_NOFILE of this child
 * towards the hard one as needed, and count no more threads than the fds allow. */
static void fit_budget(struct perf_set *s)
{
        size_t per = s->want_hw ? PEV_N : PEV_SW_N, reserve = 64;
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        rlim_t want = (rlim_t)(s->task_budget * per + reserve);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
                rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
                (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur != RLIM_INFINITY) {
                size_t fit = rl.rlim_cur > reserve ? (size_t)(rl.rlim_cur - reserve) / per : 0;
                if (fit < s->task_budget)
                        s->task_budget = fit;
        }
}

void perf_set_open(struct perf_set *s)
{
        fit_budget(s);
        for (size_t i = 0; i < s->n; i++)
                target_open(&s->v[i], s->want_hw, &s->task_budget);
}

static void task_read(int pid, struct perf_task *k, struct perf_reading *r)
{
        for (int e = 0; e < PEV_N; e++) {
                if (k->fd[e] < 0)
                        continue;
                uint64_t buf[3];
                if (read(k->fd[e], buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
                        r->v[e] = buf[0];
                        r->enabled[e] = buf[1];
                        r->running[e] = buf[2];
                }
        }
        char path[96];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, k->tid);
        _cleanup_free_ char *st = NULL;
        r->have_cs = rootfs_read(path, 64 << 10, &st, NULL) >= 0 && perf_status_switches(st, &r->vcs, &r->ivcs) == 0;
}

void perf_set_read(struct perf_set *s, bool first)
{
        for (size_t i = 0; i < s->n; i++) {
                struct perf_target *t = &s->v[i];
                for (size_t j = 0; j < t->n; j++) {
                        struct perf_task *k = &t->t[j];
                        if (first) {
                                task_read(t->pid, k, &k->r0);
                                continue;
                        }
                        task_read(t->pid, k, &k->r1);
                        for (int e = 0; e < PEV_N; e++) {
                                uint64_t dv = k->r1.v[e] - k->r0.v[e], den = k->r1.enabled[e] - k->r0.enabled[e],
                                         dru = k->r1.running[e] - k->r0.running[e];
                                k->d[e] = k->r1.v[e] >= k->r0.v[e] ? perf_scale(dv, den, dru) : 0;
                        }
                        k->have_d = true;
                        k->have_dcs = k->r0.have_cs && k->r1.have_cs && k->r1.ivcs >= k->r0.ivcs && k->r1.vcs >= k->r0.vcs;
                        if (k->have_dcs) {
                                k->dvcs = k->r1.vcs - k->r0.vcs;
                                k->divcs = k->r1.ivcs - k->r0.ivcs;
                        }
                }
        }
}

void perf_set_free(struct perf_set *s)
{
        for (size_t i = 0; i < s->n; i++) {
                for (size_t j = 0; j < s->v[i].n; j++)
                        task_close(&s->v[i].t[j]);
                free(s->v[i].t);
        }
        free(s->v);
        free(s->impostors);
        free(s->looked_for);
        *s = (struct perf_set){0};
}

char *perf_set_table(const struct perf_set *s, uint64_t window_ns)
{
        struct strbuf b = {0};
        sb_printf(&b, "# perf counters over %.3f s per thread (perf_event_open, counting only, inherit)\n", (double)window_ns / 1e9);
        sb_printf(&b, "# %-7s %-7s %-16s %-6s %4s %12s %6s %8s %8s %8s %6s %8s %12s %12s %10s %10s %11s\n", "pid", "tid", "comm", "policy",
                  "prio", "task-clock", "cpu%", "cs", "invol", "migr", "majflt", "minflt", "cycles", "instructions", "cache-ref",
                  "cache-miss", "branch-miss");
        for (size_t i = 0; i < s->n; i++) {
                const struct perf_target *t = &s->v[i];
                for (size_t j = 0; j < t->n; j++) {
                        const struct perf_task *k = &t->t[j];
                        if (!k->have_d)
                                continue;
                        char hw[5][24];
                        for (int e = PEV_CYCLES; e < PEV_N; e++)
                                if (k->fd[e] >= 0)
                                        snprintf(hw[e - PEV_CYCLES], sizeof(hw[0]), "%" PRIu64, k->d[e]);
                                else
                                        snprintf(hw[e - PEV_CYCLES], sizeof(hw[0]), "-");
                        char iv[24];
                        if (k->have_dcs)
                                snprintf(iv, sizeof(iv), "%" PRIu64, k->divcs);
                        else
                                snprintf(iv, sizeof(iv), "?");
                        sb_printf(&b, "  %-7d %-7d %-16s %-6s %4u %9.3f ms %5.1f%% %8" PRIu64 " %8s %8" PRIu64 " %6" PRIu64
                                      " %8" PRIu64 " %12s %12s %10s %10s %11s\n",
                                  t->pid, k->tid, k->comm, sched_policy_name(k->policy), k->rtprio, (double)k->d[PEV_TASK_CLOCK] / 1e6,
                                  window_ns ? 100.0 * (double)k->d[PEV_TASK_CLOCK] / (double)window_ns : 0.0, k->d[PEV_CS], iv,
                                  k->d[PEV_MIGRATIONS], k->d[PEV_MAJFLT], k->d[PEV_MINFLT], hw[0], hw[1], hw[2], hw[3], hw[4]);
                }
                if (t->tasks_cut)
                        sb_printf(&b, "  (pid %d: more threads than [perf] max_tasks or the open-file limit allow; the rest not counted)\n", t->pid);
                if (!t->n)
                        sb_printf(&b, "  pid %d %s: not counted: %s\n", t->pid, t->comm, perf_open_error(t->open_err, false));
        }
        return sb_steal(&b);
}

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
const char *perf_privilege(bool is_root)
{
        if (is_root)
                return "root";
        if (self_has_cap(CAP_PERFMON))
                return "CAP_PERFMON";
        if (self_has_cap(CAP_SYS_ADMIN))
                return "CAP_SYS_ADMIN";
        return NULL;
}
