/* maps: memory map areas. Each process's map count (lines of /proc/PID/maps, one
 * per VMA) against vm.max_map_count, and LavinMQ's own rule: it mmaps every
 * message segment and connection buffer and warns at start when
 * vm.max_map_count is below 100000 (LavinMQ guide "Memory Map Areas",
 * COMPONENTS.md §2 "mmap and FD needs"). At the limit mmap() fails with ENOMEM. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/maps.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

static const struct check_info checks[] = {
        {"maps.process", "Memory map areas of each process against vm.max_map_count",
         "vm.max_map_count caps the memory map areas (VMAs, one line each in /proc/PID/maps)\n"
         "a process may have. At the cap mmap(), mprotect() and even malloc() of large blocks\n"
         "fail with ENOMEM; LavinMQ, which maps 1 area per connection + 1 per message segment,\n"
         "can then accept no connection and create no segment.\n"
         "One finding per process at or above [maps] warn_pct / crit_pct of the limit (subject\n"
         "\"pid N comm\"), and one summary with the top consumers. As non-root, other users'\n"
         "/proc/PID/maps cannot be read: those processes are counted in a skipped finding.\n"
         "Fix: raise the limit now and keep it across reboots:\n"
         "  sysctl -w vm.max_map_count=<n>\n"
         "  echo vm.max_map_count=<n> > /etc/sysctl.d/99-max-map-count.conf\n"
         "(for LavinMQ: 1000000, in /etc/sysctl.d/99-lavinmq.conf). If one process keeps\n"
         "growing, look for a mapping leak: pmap -x <pid> | tail.\n"
         "Tunables: [maps] warn_pct, crit_pct, top, max_procs, budget_ms."},
        {"maps.lavinmq_limit", "vm.max_map_count high enough for LavinMQ",
         "LavinMQ reads /proc/sys/vm/max_map_count at start and warns below 100000: the limit\n"
         "should exceed connections*2 + consumers*2 + queues*4 (its launcher says so). The kernel\n"
         "default, 65530, is too low for a busy broker. Fires only when a lavinmq process runs\n"
         "(comm \"lavinmq\" or argv[0] basename lavinmq); otherwise it says so as ok.\n"
         "Fix (LavinMQ guide):\n"
         "  sysctl -w vm.max_map_count=1000000\n"
         "  echo vm.max_map_count=1000000 > /etc/sysctl.d/99-lavinmq.conf\n"
         "Tunable: [maps] lavinmq_min."},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("warn_pct", "80", "warn when a process uses this % of vm.max_map_count"),
        CONF_PCT("crit_pct", "95", "crit when a process uses this % of vm.max_map_count"),
        CONF_UINT("lavinmq_min", "100000", 0, 2147483647, "lowest vm.max_map_count that is fine with lavinmq running (LavinMQ warns below 100000)"),
        CONF_UINT("top", "5", 1, 1000, "how many top consumers the maps.process summary lists"),
        CONF_UINT("max_procs", "0", 0, 10000000, "inspect at most this many processes (0 = all)"),
        CONF_UINT("budget_ms", "3000", 0, 600000, "stop inspecting processes after this long (0 = no limit; keep it below the collector timeout)"),
        {0},
};

/* ---- decisions (maps.h) ---- */

enum severity maps_lavinmq_limit_verdict(uint64_t max_map_count, uint64_t min)
{
        return max_map_count < min ? SEV_WARN : SEV_OK;
}

static void remedy_sysctl(struct finding *f, uint64_t t, bool lavinmq, int pid)
{
        if (lavinmq)
                fnd_remedy(f, "sysctl -w vm.max_map_count=%" PRIu64 " && echo vm.max_map_count=%" PRIu64
                              " > /etc/sysctl.d/99-lavinmq.conf",
                           t, t);
        else
                fnd_remedy(f, "sysctl -w vm.max_map_count=%" PRIu64 " && echo vm.max_map_count=%" PRIu64
                              " > /etc/sysctl.d/99-max-map-count.conf   # if it keeps growing, a mapping leak: pmap -x %d | tail",
                           t, t, pid);
}

/* ---- maps.process ---- */

static void check_processes(struct ctx *c, const struct proctable *t, int mr, uint64_t max, struct findings *fs)
{
        struct finding *f;
        if (mr < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "maps.process", "cannot read %s: %s; per-process map counts cannot be judged",
                            MAX_MAP_COUNT, mr == -EINVAL ? "not a number" : strerror(-mr));
                fnd_evidence(f, MAX_MAP_COUNT);
                return;
        }
        struct scan s = {0};
        /* proc_map_count streams the file: near the limit it is many megabytes. */
        scan_procs(&(struct scan_opts){.section = c->self->name, .max_procs = (size_t)conf_uint(c, "max_procs"),
                                        .budget_ms = conf_uint(c, "budget_ms"), .deadline_ms = c->deadline_ms,
                                        .is_root = c->is_root},
                   t, proc_map_count, &s);
        for (size_t i = 0; i < s.n; i++)
                s.v[i].limit = max;
        usage_sort(s.v, s.n); /* worst first: the report's order does not depend on readdir's */
        double w = conf_num(c, "warn_pct"), cr = conf_num(c, "crit_pct");
        size_t problems = 0;
        for (size_t i = 0; i < s.n; i++) {
                const struct usage *u = &s.v[i];
                enum severity sev = usage_verdict(u, w, cr);
                if (sev == SEV_OK)
                        continue;
                problems++;
                const struct proc *p = proctable_find(t, u->pid);
                bool lav = p && component_named(p, "lavinmq");
                f = fnd_add(fs, sev, "maps.process", "pid %d %s: %" PRIu64 " of %" PRIu64 " memory map areas (%.1f%%)", u->pid,
                            u->comm, u->used, max, usage_pct(u->used, max));
                fnd_subject(f, "pid %d %s", u->pid, u->comm);
                fnd_expected(f, "< %.0f%% of vm.max_map_count", w);
                fnd_actual(f, "%" PRIu64 " map areas; vm.max_map_count %" PRIu64 "%s", u->used, max,
                           lav ? " (LavinMQ maps 1 area per connection + 1 per message segment)" : "");
                fnd_evidence(f, "/proc/%d/maps, %s", u->pid, MAX_MAP_COUNT);
                remedy_sysctl(f, map_count_target(max, lav), lav, u->pid);
        }
        scan_report_gaps(&s, "maps.process", "maps", fs);
        _cleanup_free_ char *name = xasprintf("vm.max_map_count %" PRIu64, max);
        scan_report_summary(&s, "maps.process", problems, w, (size_t)conf_uint(c, "top"), name, "/proc/PID/maps, " MAX_MAP_COUNT,
                            fs);
        scan_free(&s);
}

/* ---- maps.lavinmq_limit ---- */

static void check_lavinmq(struct ctx *c, const struct proctable *t, int mr, uint64_t max, struct findings *fs)
{
        struct strbuf pids = {0}, ev = {0};
        size_t n = 0;
        const struct proc *first = NULL;
        for (size_t i = 0; i < t->n; i++) {
                if (!component_named(&t->v[i], "lavinmq"))
                        continue;
                if (!n++)
                        first = &t->v[i];
                if (n <= 8) {
                        sb_printf(&pids, "%s%d", n > 1 ? ", " : "", t->v[i].pid);
                        sb_printf(&ev, ", /proc/%d/cmdline", t->v[i].pid);
                }
        }
        if (n > 8)
                sb_printf(&pids, " and %zu more", n - 8);
        struct finding *f;
        if (!n) {
                f = fnd_add(fs, SEV_OK, "maps.lavinmq_limit", "no lavinmq process running: LavinMQ's map-count rule does not apply");
                fnd_evidence(f, "/proc/PID/comm, /proc/PID/cmdline");
        } else if (mr < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "maps.lavinmq_limit", "lavinmq runs (pid %s) but %s cannot be read: %s", pids.s,
                            MAX_MAP_COUNT, mr == -EINVAL ? "not a number" : strerror(-mr));
                fnd_subject(f, "pid %d %s", first->pid, first->comm);
                fnd_evidence(f, "%s%s", MAX_MAP_COUNT, ev.s);
        } else {
                uint64_t min = conf_uint(c, "lavinmq_min");
                enum severity sev = maps_lavinmq_limit_verdict(max, min);
                bool low = sev != SEV_OK;
                f = fnd_add(fs, sev, "maps.lavinmq_limit",
                            low ? "vm.max_map_count = %" PRIu64 " is below %" PRIu64 " with lavinmq running (pid %s)"
                                : "vm.max_map_count = %" PRIu64 " (>= %" PRIu64 ") for lavinmq (pid %s)",
                            max, min, pids.s);
                fnd_subject(f, "pid %d %s", first->pid, first->comm);
                fnd_expected(f, "vm.max_map_count >= %" PRIu64 " (LavinMQ warns below 100000)", min);
                fnd_actual(f, "%" PRIu64 "; lavinmq: pid %s", max, pids.s);
                fnd_evidence(f, "%s%s", MAX_MAP_COUNT, ev.s);
                if (low)
                        remedy_sysctl(f, map_count_target(max, true), true, first->pid);
        }
        sb_free(&pids);
        sb_free(&ev);
}

static void maps_check(struct ctx *c, struct findings *fs)
{
        struct proctable t;
        uint64_t max = 0;
        int r = proctable_load(&t);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "maps.process", "cannot list processes: %s", rootfs_strerror(-r));
                fnd_evidence(f, "/proc");
                f = fnd_add(fs, SEV_UNKNOWN, "maps.lavinmq_limit", "cannot tell whether lavinmq runs: cannot list processes: %s",
                            rootfs_strerror(-r));
                fnd_evidence(f, "/proc");
                return;
        }
        int mr = rootfs_read_u64(MAX_MAP_COUNT, &max);
        check_processes(c, &t, mr, max, fs);
        check_lavinmq(c, &t, mr, max, fs);
        proctable_free(&t);
}

/* ---- watch ---- */

#define WATCH_TOP 5   /* processes watched besides those already at warn_pct and LavinMQ */
#define WATCH_MAX 16

struct maps_wproc {
        struct sproc p;
        bool lavinmq;
        uint64_t counted_ms; /* see sample_count_due */
        long count;
};

struct maps_watch {
        struct sfile max;
        struct maps_wproc *v;
        size_t n;
        unsigned rescans;
        struct pidwatch young; /* processes started since watch began */
};

/* Reading every process's maps costs about 90 ms of CPU per 1,000 processes (the
 * kernel formats each area): the full scan runs at every WATCH_RESCAN_EVERY-th
 * rescan (10 min by default); LavinMQ and processes near the limit are
 * followed every interval meanwhile. */
#define WATCH_RESCAN_EVERY 5

static void wproc_close(void *entry)
{
        sproc_close(&((struct maps_wproc *)entry)->p);
}
_Static_assert(offsetof(struct maps_wproc, p) == 0, "sample_watch_room: the sproc comes first");

static bool watched_before(struct maps_watch *w, int pid, struct maps_wproc *out)
{
        for (size_t j = 0; j < w->n; j++)
                if (w->v[j].p.pid == pid && !w->v[j].p.gone) {
                        *out = w->v[j];
                        w->v[j].p.pid = -1; /* moved */
                        return true;
                }
        return false;
}

/* The processes worth watching: LavinMQ, the top map consumers and every one
 * near warn_pct (half of it or more: counted every interval). Counting maps grows with the whole host, so this runs only
 * at a rescan and stops well before the sample's deadline. */
static void maps_watch_rescan(struct ctx *c, struct maps_watch *w, uint64_t max)
{
        size_t np;
        _cleanup_free_ int *pids = sample_pids(&np);
        uint64_t stop = c->deadline_ms ? c->deadline_ms - (c->deadline_ms - now_ms_monotonic()) / 2 : 0;
        struct usage *u = xcalloc(np + 1, sizeof(*u));
        bool *lav = xcalloc(np + 1, sizeof(*lav));
        size_t n = 0;
        for (size_t i = 0; i < np; i++) {
                if (stop && now_ms_monotonic() > stop)
                        break;
                struct proc p;
                if (!sample_proc(pids[i], &p) || p.kthread || sample_is_self(&p))
                        continue;
                long m = proc_map_count(p.pid);
                if (m <= 0)
                        continue;
                u[n] = (struct usage){.pid = p.pid, .used = (uint64_t)m, .limit = max};
                snprintf(u[n].comm, sizeof(u[n].comm), "%s", p.comm);
                n++;
        }
        usage_sort(u, n);
        for (size_t i = 0; i < n; i++)
                lav[i] = component_name_match(u[i].comm, NULL, "lavinmq");
        double warn = conf_num(c, "warn_pct");
        struct maps_wproc *v = xcalloc(WATCH_MAX + 1, sizeof(*v));
        size_t k = 0;
        for (size_t i = 0; i < n && k < WATCH_MAX; i++) {
                if (i >= WATCH_TOP && !lav[i] && usage_pct(u[i].used, max) < warn / 2)
                        continue;
                if (!watched_before(w, u[i].pid, &v[k]))
                        sproc_init(&v[k].p, u[i].pid, 0, u[i].comm, NULL);
                v[k++].lavinmq = lav[i];
        }
        for (size_t j = 0; j < w->n; j++)
                if (w->v[j].p.pid != -1)
                        sproc_close(&w->v[j].p);
        free(w->v);
        w->v = v;
        w->n = k;
        free(u);
        free(lav);
}

/* Processes started since watch began (a LavinMQ restarted by systemd, a client
 * that maps and maps): counted every interval while young, watched from the moment
 * they are LavinMQ or near warn_pct, so one that crosses a threshold is an event
 * within two intervals. */
static void maps_watch_young(struct ctx *c, struct maps_watch *w, uint64_t max)
{
        int young[SAMPLE_YOUNG_MAX];
        size_t ny = pidwatch_young(&w->young, c, young);
        double warn = conf_num(c, "warn_pct");
        for (size_t i = 0; i < ny; i++) {
                bool watched = false;
                for (size_t j = 0; j < w->n && !watched; j++)
                        watched = w->v[j].p.pid == young[i] && !w->v[j].p.gone;
                struct proc p;
                uint64_t vsize;
                if (watched || !sample_proc_vsize(young[i], &p, &vsize) || p.kthread || sample_is_self(&p)) {
                        pidwatch_drop(&w->young, young[i]);
                        continue;
                }
                bool lav = component_name_match(p.comm, NULL, "lavinmq");
                /* Every area is at least a page: a small process cannot be near, and its
                 * maps (read at a cost per area) need no reading. */
                if (!lav && usage_pct(vsize / 4096, max) < warn / 2)
                        continue;
                long m = proc_map_count(young[i]);
                if (m <= 0 || (!lav && usage_pct((uint64_t)m, max) < warn / 2))
                        continue; /* not near: looked at again while young */
                if (!sample_watch_room(w->v, &w->n, sizeof(*w->v), WATCH_MAX * 2, wproc_close))
                        break; /* the next rescan ranks them all */
                pidwatch_drop(&w->young, young[i]);
                w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
                struct maps_wproc *n = &w->v[w->n++];
                *n = (struct maps_wproc){.lavinmq = lav, .count = m, .counted_ms = now_ms_monotonic()};
                sproc_init(&n->p, young[i], 0, p.comm, NULL);
        }
}

/* vm.max_map_count, and the watched processes' map areas against it
 * (maps.process), with their CPU, RSS and context switches; LavinMQ's limit rule
 * (maps.lavinmq_limit) while it runs. */
static void maps_sample(struct ctx *c, struct sample *s)
{
        struct maps_watch *w = sample_state(c, sizeof(*w));
        char buf[64];
        uint64_t max;
        long r = sfile_read(&w->max, MAX_MAP_COUNT, buf, sizeof(buf));
        if (r < 0 || parse_u64(buf, &max) < 0) {
                sample_status(s, "maps.process", NULL, SEV_UNKNOWN, "cannot read %s: %s", MAX_MAP_COUNT,
                              r < 0 ? strerror((int)-r) : "not a number");
                return;
        }
        sample_value(s, "maps.max_map_count", NULL, (double)max, "areas");
        if (sample_rescan_due(c) && w->rescans++ % WATCH_RESCAN_EVERY == 0)
                maps_watch_rescan(c, w, max);
        maps_watch_young(c, w, max);
        double warn = conf_num(c, "warn_pct"), crit = conf_num(c, "crit_pct");
        const struct maps_wproc *lav = NULL;
        for (size_t i = 0; i < w->n; i++) {
                struct maps_wproc *p = &w->v[i];
                if (p->p.gone || !sproc_read(&p->p))
                        continue; /* gone: its status stops; the next rescan drops it */
                if (sample_count_due(&p->counted_ms, p->lavinmq ? 100 : usage_pct((uint64_t)p->count, max), warn)) {
                        long m = proc_map_count(p->p.pid);
                        if (m < 0) {
                                p->counted_ms = 0;
                                continue;
                        }
                        p->count = m;
                }
                long m = p->count;
                if (p->lavinmq && !lav)
                        lav = p;
                sample_value(s, "maps.areas", p->p.subject, (double)m, "areas");
                sproc_values(s, &p->p, "maps", false);
                sample_status(s, "maps.process", p->p.subject, usage_verdict(&(struct usage){.used = (uint64_t)m, .limit = max}, warn, crit),
                              "%s: %ld of %" PRIu64 " memory map areas (%.1f%%)", p->p.subject, m, max, usage_pct((uint64_t)m, max));
        }
        if (lav) {
                uint64_t min = conf_uint(c, "lavinmq_min");
                sample_status(s, "maps.lavinmq_limit", lav->p.subject, maps_lavinmq_limit_verdict(max, min),
                              "vm.max_map_count = %" PRIu64 " %s %" PRIu64 " with lavinmq running", max, max < min ? "is below" : ">=", min);
        }
}

static void maps_free_state(void *state)
{
        struct maps_watch *w = state;
        sfile_close(&w->max);
        for (size_t i = 0; i < w->n; i++)
                sproc_close(&w->v[i].p);
        free(w->v);
        pidwatch_free(&w->young);
        free(w);
}

const struct collector maps_collector = {
        .name = "maps",
        .summary = "memory map areas per process against vm.max_map_count; LavinMQ's map-count rule",
        .checks = checks,
        .config = config,
        .check = maps_check,
        .sample = maps_sample,
        .sampled = (const char *const[]){"maps.process", "maps.lavinmq_limit", NULL},
        .free_state = maps_free_state,
};
