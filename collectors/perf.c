/* perf: what perf_event_open can measure here (perf_event_paranoid, kptr_restrict,
 * nmi_watchdog, which event kinds open), counters on the component processes over a
 * short window (task-clock, context switches, migrations, page faults; IPC and
 * cache-miss rate where there is a PMU) with the RT jitter and busy-loop suspects
 * they reveal, and for bundles a profile (perf_profile.c) when --allow-intrusive.
 * The LavinMQ, Cerebellar-Norse and EVO guides' `perf top -p`, `perf record -g`.
 * This file holds the checks; perf_format.c the parsers and verdicts, perf_count.c
 * the counting, perf_sample.c watch. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "collectors/sink.h"
#include "lib/conffile.h"
#include "lib/procscan.h"
#include "lib/progress.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <errno.h>
#include <linux/capability.h>
#include <inttypes.h>
#include <time.h>

#define CHECK_WINDOW_MAX_MS 200 /* check never counts longer than this */

static const struct check_info checks[] = {
        {"perf.paranoid", "perf_event_paranoid allows counting",
         "kernel.perf_event_paranoid decides what users without CAP_PERFMON may measure with\n"
         "perf_event_open: -1 everything, 0 CPU-wide events, 1 a process's own events, kernel\n"
         "included, 2 user space only (context switches, migrations and page faults happen in\n"
         "the kernel and count 0), 3 and above (Debian, Ubuntu) nothing at all. Root passes any level.\n"
         "skipped: evodiag runs as a user the level keeps from counting; ok otherwise.\n"
         "Fix: run evodiag as root, or sysctl -w kernel.perf_event_paranoid=1 (persist it in\n"
         "/etc/sysctl.d/); trade-off: users can then count their own processes' kernel events."},
        {"perf.kptr_restrict", "Kernel symbols in profiles",
         "kernel.kptr_restrict hides kernel addresses: 1 from users without CAP_SYSLOG, 2 from\n"
         "everyone. Kernel frames of a profile then show as bare addresses, which makes a hang in\n"
         "a system call hard to read in the perf report the guides ask for. info when it hides them\n"
         "from the user evodiag runs as.\n"
         "Fix (only while profiling): sysctl -w kernel.kptr_restrict=0, then back to its old value."},
        {"perf.nmi_watchdog", "NMI watchdog holds a hardware counter",
         "With kernel.nmi_watchdog = 1 the hard-lockup detector keeps one hardware counter of\n"
         "every CPU busy (perf stat warns about it), so fewer are left for measurements and they are\n"
         "multiplexed (scaled estimates). On an RT host it also costs jitter (see rt.nmi_watchdog).\n"
         "info when on and hardware counters exist.\n"
         "Fix: sysctl -w kernel.nmi_watchdog=0 while measuring (trade-off: lockups go undetected)."},
        {"perf.events", "Which perf event kinds open here",
         "evodiag opens each kind once on itself with perf_event_open: the software task-clock,\n"
         "context switches, page faults, and the hardware cycles, instructions, cache-misses and\n"
         "branch-misses. A virtual machine without a virtual PMU (this kind of host) has no hardware\n"
         "counters: info, IPC and cache-miss rates are then not measured. skipped when the\n"
         "paranoid level forbids counting for this user; unknown when even software events fail.\n"
         "Fix: for hardware counters in a VM enable the virtual PMU (KVM: -cpu host, libvirt\n"
         "<cpu mode='host-passthrough'/>, VMware: virtual CPU performance counters).", true},
        {"perf.counters", "Counters of the component processes",
         "task-clock (CPU time), context switches (voluntary and involuntary from\n"
         "/proc/PID/task/TID/status), CPU migrations, page faults major and minor, and IPC and\n"
         "cache-miss rate where hardware counters exist, of every thread of the component processes\n"
         "(lavinmq, the EVO modules, the vGPU mediator, named in [perf] processes and vouched for by\n"
         "lib/trust: owned by root or the service user) or of --pid / [perf] pids, over a short window\n"
         "(check: at most 200 ms; bundle: [perf] bundle_window, 2 s). Counting only: the measured\n"
         "task is never interrupted. info with the numbers; the bundle keeps the per-thread table.\n"
         "What is not a component (a same-named process of another user) is named, not measured.", true},
        {"perf.rt_jitter", "RT tasks preempted or migrated (jitter suspect)",
         "A SCHED_FIFO or SCHED_RR thread of a component that was switched out involuntarily\n"
         "(something of higher or equal priority, an interrupt thread, took its CPU) or moved to\n"
         "another CPU during the counting window. Either adds latency the EVO control loop feels\n"
         "as jitter (the EVO guide's High Jitter section).\n"
         "Fix: isolate the RT CPUs (isolcpus=/nohz_full= and irqaffinity= on the kernel command\n"
         "line), pin the RT thread to one of them (taskset -pc CPU TID; evo_control_unit's rt_setup\n"
         "pins itself), keep other RT tasks and IRQ threads off it or below its priority (chrt -p),\n"
         "then check again.", true},
        {"perf.busy_loop", "Component at 100 % of a CPU (busy loop suspect)",
         "A thread of a component that used at least [perf] busy_pct % (default 95) of a CPU for\n"
         "the whole counting window. A polling RT loop does that by design; a broker or a mediator\n"
         "that does it while clients see no progress is spinning (the LavinMQ guide's hang advice:\n"
         "take a profile before restarting it). Where the process has a progress indicator\n"
         "([perf] progress: LavinMQ's /api/overview message counters and rates, read before and\n"
         "after the window) it decides: CPU high and the indicator moved is ok (working hard);\n"
         "not moved, or the API did not answer, is info (busy loop suspect). Elsewhere the CPU\n"
         "share alone is info, and says that no progress was read.\n"
         "Fix: evodiag bundle --allow-intrusive --only perf (a perf report of the process), or\n"
         "perf top -p PID; send the report with the bundle.", true},
        {0},
};

static const struct config_key config[] = {
        CONF_LIST("processes",
                  "lavinmq:lavinmq,evo,evo_control_unit,evo_hal_core,evo_recipe_executor,evo_api,evo_grpc,evo_mqtt,mediator_phase3",
                  "component processes to count: name or name:service_user (trusted owner besides root)"),
        CONF_STR("pids", "", "count these process ids instead of the components (comma-separated, at most 64)"),
        CONF_DURATION("window", "200ms", "counting window of check (at most 200ms are used)"),
        CONF_DURATION("bundle_window", "2s", "counting window of bundle"),
        CONF_DURATION("profile_duration", "10s", "bundle --allow-intrusive: how long the profile samples"),
        CONF_STR("profiler", "auto", "auto (perf where installed, else native), perf, or native"),
        CONF_UINT("max_tasks", "512", 1, 100000, "threads counted at most (each holds up to 9 counters)"),
        CONF_PCT("busy_pct", "95", "perf.busy_loop: a thread at this % of a CPU for the whole window"),
        CONF_LIST("progress", "lavinmq=http://127.0.0.1:15672/api/overview",
                  "perf.busy_loop: NAME=URL of a process's progress indicator (a management API /api/overview: "
                  "message counters and rates; [lavinmq] user/password)"),
        {0},
};

/* What check measured, for collect() in the same bundle child (no second window). */
static char *last_table;

static bool perf_detect(struct ctx *c)
{
        (void)c;
        return rootfs_exists("/proc/sys/kernel/perf_event_paranoid");
}

static bool sleep_ms(uint64_t ms)
{
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0)
                if (errno != EINTR)
                        return false;
        return true;
}

static uint64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- capability ---- */

struct perf_caps {
        int paranoid_err;
        int64_t paranoid;
        enum perf_access access;
        int sw_err;   /* task-clock */
        int hw_err;   /* cycles */
};

static void check_paranoid(struct ctx *c, struct findings *fs, struct perf_caps *cp)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value("/proc/sys/kernel/perf_event_paranoid", &v);
        if (r == 0)
                r = parse_i64(v, &cp->paranoid);
        cp->paranoid_err = r;
        const char *priv = perf_privilege(c->is_root);
        struct finding *f;
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "perf.paranoid", "cannot read kernel.perf_event_paranoid: %s", rootfs_strerror(r));
                cp->access = priv ? PERF_ACCESS_FULL : PERF_ACCESS_NONE;
        } else {
                cp->access = perf_access_for(cp->paranoid, priv != NULL);
                if (c->is_root)
                        f = fnd_add(fs, SEV_OK, "perf.paranoid", "kernel.perf_event_paranoid = %" PRId64 "; evodiag runs as root, which passes any level",
                                    cp->paranoid);
                else if (priv)
                        f = fnd_add(fs, SEV_OK, "perf.paranoid",
                                    "kernel.perf_event_paranoid = %" PRId64 "; evodiag holds %s, which passes any level (counting another "
                                    "user's process needs ptrace access to it too)",
                                    cp->paranoid, priv);
                else if (cp->access == PERF_ACCESS_FULL)
                        f = fnd_add(fs, SEV_OK, "perf.paranoid", "kernel.perf_event_paranoid = %" PRId64 " lets this user count its own processes",
                                    cp->paranoid);
                else {
                        f = fnd_add(fs, SEV_SKIPPED, "perf.paranoid",
                                    "kernel.perf_event_paranoid = %" PRId64 " keeps this user from counting (%s): counters skipped",
                                    cp->paranoid,
                                    cp->access == PERF_ACCESS_USER_ONLY ? "user space only, kernel events count 0" : "nothing without CAP_PERFMON");
                        fnd_remedy(f, "%s", PERF_PARANOID_REMEDY);
                }
                fnd_expected(f, "root or CAP_PERFMON, or kernel.perf_event_paranoid <= %d", PERF_PARANOID_NEEDED);
                fnd_actual(f, "%" PRId64 " as %s", cp->paranoid, c->is_root ? "root" : priv ? priv : "a user without CAP_PERFMON");
        }
        fnd_evidence(f, "/proc/sys/kernel/perf_event_paranoid, capget(2)");
}

static void check_kptr(struct ctx *c, struct findings *fs)
{
        uint64_t v;
        int r = rootfs_read_u64("/proc/sys/kernel/kptr_restrict", &v);
        struct finding *f;
        if (r == -ENOENT)
                return;
        if (r < 0)
                f = fnd_add(fs, SEV_UNKNOWN, "perf.kptr_restrict", "cannot read kernel.kptr_restrict: %s", rootfs_strerror(r));
        else if (v >= 2 || (v == 1 && !c->is_root && !self_has_cap(CAP_SYSLOG))) {
                f = fnd_add(fs, SEV_INFO, "perf.kptr_restrict", "kernel.kptr_restrict = %" PRIu64 ": kernel frames of a profile show as addresses%s",
                            v, v >= 2 ? " (hidden even from root)" : " for this user");
                fnd_remedy(f, "only while profiling: sysctl -w kernel.kptr_restrict=0, afterwards back to %" PRIu64, v);
        } else
                f = fnd_add(fs, SEV_OK, "perf.kptr_restrict", "kernel.kptr_restrict = %" PRIu64 ": kernel symbols readable%s", v,
                            v == 1 ? " by root" : "");
        if (r == 0)
                fnd_actual(f, "%" PRIu64, v);
        fnd_evidence(f, "/proc/sys/kernel/kptr_restrict");
}

static void check_nmi(struct findings *fs, const struct perf_caps *cp, bool live)
{
        uint64_t v;
        int r = rootfs_read_u64("/proc/sys/kernel/nmi_watchdog", &v);
        struct finding *f;
        if (r == -ENOENT)
                return;
        if (r < 0)
                f = fnd_add(fs, SEV_UNKNOWN, "perf.nmi_watchdog", "cannot read kernel.nmi_watchdog: %s", rootfs_strerror(r));
        else if (!v)
                f = fnd_add(fs, SEV_OK, "perf.nmi_watchdog", "kernel.nmi_watchdog = 0: every hardware counter is free");
        else if (live && cp->hw_err)
                f = fnd_add(fs, SEV_OK, "perf.nmi_watchdog", "kernel.nmi_watchdog = %" PRIu64 ", but there are no hardware counters here to hold", v);
        else {
                f = fnd_add(fs, SEV_INFO, "perf.nmi_watchdog",
                            "kernel.nmi_watchdog = %" PRIu64 ": the lockup detector holds one hardware counter per CPU", v);
                fnd_remedy(f, "while measuring: sysctl -w kernel.nmi_watchdog=0   # trade-off: hard lockups go undetected");
        }
        if (r == 0)
                fnd_actual(f, "%" PRIu64, v);
        fnd_evidence(f, "/proc/sys/kernel/nmi_watchdog");
}

static void check_events(struct ctx *c, struct findings *fs, struct perf_caps *cp)
{
        (void)c;
        static const enum perf_ev sw[] = {PEV_TASK_CLOCK, PEV_CS, PEV_MINFLT};
        static const enum perf_ev hw[] = {PEV_CYCLES, PEV_INSNS, PEV_CACHE_MISSES, PEV_BRANCH_MISSES};
        struct strbuf b = {0};
        int sw_err = 0, hw_err = 0;
        size_t hw_ok = 0;
        for (size_t i = 0; i < ARRAY_SIZE(sw); i++) {
                int r = perf_probe_event(sw[i]);
                sb_printf(&b, "%s%s: %s", b.len ? "; " : "", perf_ev_names[sw[i]], perf_open_error(r, false));
                if (r < 0 && !sw_err)
                        sw_err = r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(hw); i++) {
                int r = perf_probe_event(hw[i]);
                sb_printf(&b, "; %s: %s", perf_ev_names[hw[i]], perf_open_error(r, true));
                if (r < 0 && !hw_err)
                        hw_err = r;
                hw_ok += r == 0;
        }
        struct finding *f;
        cp->sw_err = sw_err;
        cp->hw_err = hw_err;
        if (sw_err == -EACCES || sw_err == -EPERM) {
                f = fnd_add(fs, SEV_SKIPPED, "perf.events", "perf_event_open is not allowed for this user: %s",
                            perf_open_error(sw_err, false));
                fnd_remedy(f, "%s", PERF_PARANOID_REMEDY);
        } else if (sw_err)
                f = fnd_add(fs, SEV_UNKNOWN, "perf.events", "software perf events do not open: %s", perf_open_error(sw_err, false));
        else if (hw_err == -ENOENT || hw_err == -EOPNOTSUPP || hw_err == -ENODEV) {
                f = fnd_add(fs, SEV_INFO, "perf.events", "software events open; hardware counters unavailable (virtual machine or no PMU)%s",
                            hw_ok ? " for some events" : ": IPC and cache-miss rate not measured");
                fnd_remedy(f, "in a VM, enable the virtual PMU (KVM: -cpu host; libvirt: <cpu mode='host-passthrough'/>)");
        } else if (hw_err)
                f = fnd_add(fs, SEV_INFO, "perf.events", "software events open; hardware counters do not: %s", perf_open_error(hw_err, true));
        else
                f = fnd_add(fs, SEV_OK, "perf.events", "software and hardware events open");
        fnd_expected(f, "software events (task-clock, context switches) open; hardware counters where there is a PMU");
        fnd_actual(f, "%s", b.s);
        fnd_evidence(f, "perf_event_open(2) on evodiag itself");
        sb_free(&b);
}

/* ---- counting ---- */

/* ---- progress indicators (perf.busy_loop) ---- */

struct progress_pair {
        bool have;      /* the process has one ([perf] progress names its comm) */
        char *url;
        struct progress_reading a, b;
};

/* The URL [perf] progress gives the process named comm; NULL when none. */
static char *progress_url_for(const struct ctx *c, const char *comm)
{
        _cleanup_free_ char *list = xstrdup(conf_str(c, "progress"));
        char *save = NULL;
        for (char *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
                char *eq = strchr(w, '=');
                if (eq && eq > w && (size_t)(eq - w) == strlen(comm) && !strncmp(w, comm, (size_t)(eq - w)) && eq[1])
                        return xstrdup(eq + 1);
        }
        return NULL;
}

static void progress_take(const struct ctx *c, const struct perf_target *t, struct progress_pair *pp, bool second)
{
        if (!pp->have)
                return;
        const struct config_entry *u = c->cfg ? config_get(c->cfg, "lavinmq", "user") : NULL;
        const struct config_entry *pw = c->cfg ? config_get(c->cfg, "lavinmq", "password") : NULL;
        struct trust tr;
        trust_init(&tr, t->comm, t->user);
        struct progress_src src = {
                .url = pp->url, .user = u ? u->value : "guest", .password = pw ? pw->value : "guest",
                .named = c->cfg && config_get(c->cfg, "perf", "progress") != NULL, .t = &tr, .timeout_ms = 500,
        };
        progress_read(&src, second ? &pp->b : &pp->a);
        trust_free(&tr);
}

static void busy_finding(struct findings *fs, const struct perf_target *t, const struct perf_task *k, const char *label,
                         uint64_t window_ns, double busy_pct, const struct progress_pair *pp)
{
        double pct = 100.0 * (double)k->d[PEV_TASK_CLOCK] / (double)window_ns, ms = (double)window_ns / 1e6;
        struct finding *f;
        bool moved = pp && pp->have && progress_moved(&pp->a, &pp->b);
        const struct progress_reading *bad = !pp || !pp->have ? NULL : !pp->a.ok ? &pp->a : !pp->b.ok ? &pp->b : NULL;
        if (moved) {
                f = fnd_add(fs, SEV_OK, "perf.busy_loop", "%s ran %.0f%% of a CPU for the whole %.0f ms window, and it is working: "
                                                          "its message counters went from %" PRIu64 " to %" PRIu64 ", %.1f msg/s",
                            label, pct, ms, pp->a.total, pp->b.total, pp->b.rate);
        } else if (pp && pp->have && !bad) {
                f = fnd_add(fs, SEV_INFO, "perf.busy_loop", "%s ran %.0f%% of a CPU for the whole %.0f ms window while its progress "
                                                            "indicator did not move (message counters %" PRIu64 ", rates 0): busy loop "
                                                            "suspect, take a profile",
                            label, pct, ms, pp->b.total);
        } else if (bad) {
                f = fnd_add(fs, SEV_INFO, "perf.busy_loop", "%s ran %.0f%% of a CPU for the whole %.0f ms window and its progress "
                                                            "indicator cannot be read (%s): busy loop suspect, take a profile",
                            label, pct, ms, bad->err ? bad->err : "?");
        } else {
                f = fnd_add(fs, SEV_INFO, "perf.busy_loop", "%s ran %.0f%% of a CPU for the whole %.0f ms window: busy loop suspect, "
                                                            "take a profile (CPU share only: no progress indicator for %s in [perf] progress)",
                            label, pct, ms, t->comm);
        }
        fnd_subject(f, "%s tid %d", t->subject, k->tid);
        fnd_expected(f, "below %.0f%% of a CPU, or its progress indicator moving, unless it is a polling RT loop", busy_pct);
        if (pp && pp->have)
                fnd_actual(f, "task-clock %.1f ms of %.0f ms; progress %s: %s", (double)k->d[PEV_TASK_CLOCK] / 1e6, ms, pp->url,
                           moved ? "moved" : bad ? "unknown" : "not moved");
        if (!moved)
                fnd_remedy(f, "evodiag bundle --allow-intrusive --only perf   # or: perf top -p %d (before restarting it)", t->pid);
        fnd_evidence(f, "perf_event_open task-clock of tid %d%s%s", k->tid, pp && pp->have ? ", " : "", pp && pp->have ? pp->url : "");
}

static void report_target(struct ctx *c, struct findings *fs, const struct perf_target *t, uint64_t window_ns, bool *rt_seen,
                          size_t *jitter, size_t *busy, const struct progress_pair *pp)
{
        uint64_t tc = 0, cs = 0, migr = 0, maj = 0, min = 0, ivcs = 0, cyc = 0, ins = 0, cref = 0, cmiss = 0;
        bool have_ivcs = false, have_hw = false, have_cache = false;
        size_t counted = 0;
        double busy_pct = conf_num(c, "busy_pct");
        for (size_t j = 0; j < t->n; j++) {
                const struct perf_task *k = &t->t[j];
                if (!k->have_d)
                        continue;
                counted++;
                tc += k->d[PEV_TASK_CLOCK];
                cs += k->d[PEV_CS];
                migr += k->d[PEV_MIGRATIONS];
                maj += k->d[PEV_MAJFLT];
                min += k->d[PEV_MINFLT];
                if (k->have_dcs) {
                        ivcs += k->divcs;
                        have_ivcs = true;
                }
                if (k->fd[PEV_CYCLES] >= 0 && k->fd[PEV_INSNS] >= 0) {
                        cyc += k->d[PEV_CYCLES];
                        ins += k->d[PEV_INSNS];
                        have_hw = true;
                }
                if (k->fd[PEV_CACHE_REFS] >= 0 && k->fd[PEV_CACHE_MISSES] >= 0) {
                        cref += k->d[PEV_CACHE_REFS];
                        cmiss += k->d[PEV_CACHE_MISSES];
                        have_cache = true;
                }
                char label[200];
                snprintf(label, sizeof(label), "%s tid %d %s", t->subject, k->tid, k->comm);
                if (sched_policy_is_rt(k->policy) && k->policy != 6) {
                        *rt_seen = true;
                        uint64_t iv = k->have_dcs ? k->divcs : 0;
                        if (perf_jitter_verdict(k->policy, iv, k->d[PEV_MIGRATIONS]) == SEV_WARN) {
                                (*jitter)++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "perf.rt_jitter",
                                                            "%s (%s %u): %" PRIu64 " involuntary context switch%s and %" PRIu64
                                                            " migration%s in %.0f ms: RT jitter suspect",
                                                            label, sched_policy_name(k->policy), k->rtprio, iv, iv == 1 ? "" : "es",
                                                            k->d[PEV_MIGRATIONS], k->d[PEV_MIGRATIONS] == 1 ? "" : "s", (double)window_ns / 1e6);
                                fnd_subject(f, "%s tid %d", t->subject, k->tid);
                                fnd_expected(f, "no involuntary switch and no migration of an RT thread");
                                fnd_actual(f, "involuntary switches %" PRIu64 ", migrations %" PRIu64 ", task-clock %.1f ms", iv,
                                           k->d[PEV_MIGRATIONS], (double)k->d[PEV_TASK_CLOCK] / 1e6);
                                fnd_remedy(f, "isolate the RT CPUs (isolcpus=/nohz_full=/irqaffinity= on the kernel command line), pin "
                                              "the thread: taskset -pc CPU %d, and keep other RT tasks and IRQ threads off that CPU or "
                                              "below priority %u (chrt -p)",
                                           k->tid, k->rtprio);
                                fnd_evidence(f, "perf_event_open cpu-migrations, /proc/%d/task/%d/status nonvoluntary_ctxt_switches", t->pid,
                                             k->tid);
                        }
                }
                if (perf_busy(k->d[PEV_TASK_CLOCK], window_ns, busy_pct)) {
                        (*busy)++;
                        busy_finding(fs, t, k, label, window_ns, busy_pct, pp);
                }
        }
        struct finding *f;
        if (!counted) {
                f = fnd_add(fs, SEV_UNKNOWN, "perf.counters", "%s (%s): not counted: %s", t->subject, t->by,
                            t->gone ? "the process is gone" : perf_open_error(t->open_err, false));
                if (t->open_err == -EACCES || t->open_err == -EPERM)
                        fnd_remedy(f, "%s", PERF_PARANOID_REMEDY);
        } else {
                struct strbuf b = {0};
                sb_printf(&b, "%s (%s): task-clock %.1f ms (%.0f%% of one CPU), %" PRIu64 " context switches", t->subject, t->by,
                          (double)tc / 1e6, 100.0 * (double)tc / (double)window_ns, cs);
                if (have_ivcs)
                        sb_printf(&b, " (%" PRIu64 " involuntary)", ivcs);
                sb_printf(&b, ", %" PRIu64 " migrations, page faults %" PRIu64 " major / %" PRIu64 " minor", migr, maj, min);
                if (have_hw && cyc)
                        sb_printf(&b, ", IPC %.2f", (double)ins / (double)cyc);
                if (have_cache && cref)
                        sb_printf(&b, ", cache-miss rate %.1f%%", 100.0 * (double)cmiss / (double)cref);
                if (!have_hw)
                        sb_puts(&b, "; no hardware counters");
                sb_printf(&b, "; %zu thread%s in %.0f ms", counted, counted == 1 ? "" : "s", (double)window_ns / 1e6);
                if (t->tasks_cut)
                        sb_puts(&b, " (more threads than [perf] max_tasks or the open-file limit allow: the rest not counted)");
                f = fnd_add(fs, SEV_INFO, "perf.counters", "%s", b.s);
                sb_free(&b);
                fnd_actual(f, "task_clock_ns=%" PRIu64 " context_switches=%" PRIu64 " involuntary=%" PRIu64 " migrations=%" PRIu64
                              " major_faults=%" PRIu64 " minor_faults=%" PRIu64,
                           tc, cs, ivcs, migr, maj, min);
        }
        fnd_subject(f, "%s", t->subject);
        fnd_evidence(f, "perf_event_open per thread of pid %d; /proc/%d/task/*/status", t->pid, t->pid);
}

static void check_counting(struct ctx *c, struct findings *fs, const struct perf_caps *cp)
{
        struct perf_set s;
        _cleanup_free_ char *why = NULL;
        int r = perf_targets(c, &s, &why);
        struct finding *f;
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "perf.counters", "%s", why ? why : strerror(-r));
                fnd_evidence(f, "[perf] pids, /proc");
                perf_set_free(&s);
                return;
        }
        if (s.impostors) {
                f = fnd_add(fs, SEV_WARN, "perf.counters", "named like a component but not vouched for, not measured: %s", s.impostors);
                fnd_subject(f, "impostors");
                fnd_remedy(f, "check who started them: ps -o pid,user,cmd -p PID; a component runs as root or its service user");
                fnd_evidence(f, "/proc/PID/status Uid");
        }
        if (!s.n) {
                f = fnd_add(fs, SEV_INFO, "perf.counters", "no process to count: none of %s runs here", s.looked_for ? s.looked_for : "?");
                fnd_remedy(f, "to count other processes: evodiag check --pid PID,PID (or [perf] pids in the config)");
                fnd_evidence(f, "/proc");
                perf_set_free(&s);
                return;
        }
        s.want_hw = cp->hw_err == 0;
        uint64_t win_ms;
        if (parse_duration_ms(conf_str(c, rootfs_tracing() ? "bundle_window" : "window"), &win_ms) < 0)
                win_ms = CHECK_WINDOW_MAX_MS;
        if (!rootfs_tracing() && win_ms > CHECK_WINDOW_MAX_MS)
                win_ms = CHECK_WINDOW_MAX_MS;
        /* Leave the child a second to report before the runner's deadline. */
        uint64_t now = now_ms_monotonic();
        if (c->deadline_ms) {
                uint64_t left = c->deadline_ms > now + 1000 ? c->deadline_ms - now - 1000 : 0;
                if (win_ms > left)
                        win_ms = left;
        }
        if (!win_ms) {
                f = fnd_add(fs, SEV_UNKNOWN, "perf.counters", "not counted: no time left before the collector's deadline");
                fnd_remedy(f, "raise the deadline: --collector-timeout 10s, or [perf] timeout = 10s in the config");
                fnd_evidence(f, "perf_event_open(2)");
                perf_set_free(&s);
                return;
        }
        perf_set_open(&s);
        struct progress_pair *pp = xcalloc(s.n, sizeof(*pp));
        for (size_t i = 0; i < s.n; i++) {
                pp[i].url = progress_url_for(c, s.v[i].comm);
                pp[i].have = pp[i].url != NULL;
                progress_take(c, &s.v[i], &pp[i], false);
        }
        perf_set_read(&s, true);
        uint64_t t0 = mono_ns();
        sleep_ms(win_ms);
        perf_set_read(&s, false);
        uint64_t window_ns = mono_ns() - t0;
        for (size_t i = 0; i < s.n; i++)
                progress_take(c, &s.v[i], &pp[i], true);
        bool rt_seen = false;
        size_t jitter = 0, busy = 0;
        for (size_t i = 0; i < s.n; i++) {
                report_target(c, fs, &s.v[i], window_ns, &rt_seen, &jitter, &busy, &pp[i]);
                progress_reading_free(&pp[i].a);
                progress_reading_free(&pp[i].b);
                free(pp[i].url);
        }
        free(pp);
        if (!jitter) {
                if (rt_seen)
                        f = fnd_add(fs, SEV_OK, "perf.rt_jitter", "no RT thread of the measured processes was preempted or migrated in %.0f ms",
                                    (double)window_ns / 1e6);
                else
                        f = fnd_add(fs, SEV_OK, "perf.rt_jitter", "no SCHED_FIFO/RR thread in the measured processes");
                fnd_evidence(f, "/proc/PID/task/*/stat, perf_event_open cpu-migrations");
        }
        if (!busy) {
                f = fnd_add(fs, SEV_OK, "perf.busy_loop", "no thread of the measured processes ran %.0f%% of a CPU for the whole window",
                            conf_num(c, "busy_pct"));
                fnd_evidence(f, "perf_event_open task-clock");
        }
        free(last_table);
        last_table = perf_set_table(&s, window_ns);
        perf_set_free(&s);
}

static void perf_check(struct ctx *c, struct findings *fs)
{
        struct perf_caps cp = {0};
        check_paranoid(c, fs, &cp);
        check_kptr(c, fs);
        bool live = rootfs_is_live();
        if (!live) {
                check_nmi(fs, &cp, false);
                struct finding *f = fnd_add(fs, SEV_SKIPPED, "perf.events", "not the live system (--root): perf_event_open measures this host");
                fnd_evidence(f, "perf_event_open(2)");
                f = fnd_add(fs, SEV_SKIPPED, "perf.counters", "not the live system (--root): nothing to count");
                fnd_evidence(f, "perf_event_open(2)");
                return;
        }
        if (cp.access != PERF_ACCESS_FULL) {
                check_nmi(fs, &cp, false);
                const char *why = cp.access == PERF_ACCESS_USER_ONLY ? "user space only" : "nothing without CAP_PERFMON";
                struct finding *f = fnd_add(fs, SEV_SKIPPED, "perf.events",
                                            "kernel.perf_event_paranoid = %" PRId64 " allows this user %s: not probed", cp.paranoid, why);
                fnd_remedy(f, "%s", PERF_PARANOID_REMEDY);
                fnd_evidence(f, "/proc/sys/kernel/perf_event_paranoid");
                f = fnd_add(fs, SEV_SKIPPED, "perf.counters", "kernel.perf_event_paranoid = %" PRId64 " allows this user %s: not counted",
                            cp.paranoid, why);
                fnd_remedy(f, "%s", PERF_PARANOID_REMEDY);
                fnd_evidence(f, "/proc/sys/kernel/perf_event_paranoid");
                return;
        }
        check_events(c, fs, &cp);
        check_nmi(fs, &cp, true);
        if (cp.sw_err) {
                struct finding *f = fnd_add(fs, cp.sw_err == -EACCES || cp.sw_err == -EPERM ? SEV_SKIPPED : SEV_UNKNOWN, "perf.counters",
                                            "not counted: software perf events do not open (%s)", perf_open_error(cp.sw_err, false));
                fnd_evidence(f, "perf_event_open(2)");
                return;
        }
        check_counting(c, fs, &cp);
}

static void perf_collect(struct ctx *c, struct bundle_sink *sink)
{
        if (last_table)
                sink_text(sink, "counters.txt", "derived", "perf_event_open counting per thread", last_table, strlen(last_table));
        else
                sink_missing(sink, "counters.txt", "derived", "perf_event_open counting per thread", "skipped",
                             "nothing was counted (see the perf.* findings)");
        perf_profile(c, sink);
}

const struct collector perf_collector = {
        .name = "perf",
        .summary = "perf_event_open capability, counters of the component processes, RT jitter, busy loops, profile",
        .needs = SLOW,
        .checks = checks,
        .config = config,
        .detect = perf_detect,
        .absent = "no /proc/sys/kernel/perf_event_paranoid (a kernel without perf events, or a copy without /proc)",
        .check = perf_check,
        .collect = perf_collect,
        .sample = perf_sample,
        .free_state = perf_free_state,
};
