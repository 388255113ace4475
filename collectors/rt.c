/* rt: is this a real-time host, and are its RT tasks set up the way the EVO stack
 * needs? PREEMPT_RT from several signals, RT throttling, the RT tasks themselves
 * (memory locked like evo_control_unit's rt_setup does), timer migration, cpufreq
 * governor and NMI watchdog. From the EVO guide's "High Jitter" and "RT kernel not
 * available" sections. A host that is neither RT kernel nor runs RT tasks gets one
 * info line: nothing else here matters for it.
 * This file reads the host and holds the checks; rt_format.c the parsers and
 * verdicts, rt_sample.c what evodiag watch samples. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/rt.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>

#define CONFIG_GZ_MAX (4u << 20)   /* compressed; real ones are ~60 KiB */
#define CONFIG_TEXT_MAX (16u << 20) /* decompressed; real ones are ~300 KiB */
#define RT_TASKS_MAX 4096           /* more is a broken host; we stop collecting */
#define THREADS_SCAN_MAX 200000     /* per run, over all processes */

static const struct check_info checks[] = {
        {"rt.kernel", "PREEMPT_RT kernel",
         "Whether the running kernel is PREEMPT_RT, decided from every signal there is: the\n"
         "version string (uname -v shows PREEMPT_RT), /sys/kernel/realtime = 1, and\n"
         "CONFIG_PREEMPT_RT=y in /proc/config.gz or /boot/config-$(uname -r). The preemption\n"
         "model comes from /sys/kernel/debug/sched/preempt when readable, else preempt= on the\n"
         "command line, the kernel config or the version string.\n"
         "Only PREEMPT_RT bounds scheduling latency to microseconds; on a PREEMPT_DYNAMIC or\n"
         "voluntary kernel an RT task can wait milliseconds behind kernel code (jitter far above\n"
         "the EVO target of < 50 ns P99.9). info: not RT and no RT tasks (nothing to do);\n"
         "warn: RT tasks run on a kernel that is not PREEMPT_RT.\n"
         "Fix: sudo apt install linux-image-rt-amd64, reboot into it, check uname -v | grep PREEMPT_RT."},
        {"rt.throttling", "RT throttling",
         "kernel.sched_rt_runtime_us / kernel.sched_rt_period_us: RT tasks together may use at\n"
         "most runtime out of every period (default 950000/1000000 us = 95%); then the kernel\n"
         "stops them for the rest of the period: a 50 ms stall of the RT loop whenever RT tasks\n"
         "use more than that (a busy-polling loop does). -1 turns throttling off.\n"
         "Trade-off: throttling is the safety net against a runaway SCHED_FIFO task; with -1 a\n"
         "FIFO task that spins forever owns its CPU and nothing else (not even a shell) runs\n"
         "there. On hosts with isolated CPUs for the RT tasks that is the usual setting.\n"
         "Fix: sysctl -w kernel.sched_rt_runtime_us=-1 and persist it:\n"
         "echo 'kernel.sched_rt_runtime_us = -1' >> /etc/sysctl.d/90-evo-rt.conf"},
        {"rt.tasks", "User RT tasks (SCHED_FIFO/RR/DEADLINE)",
         "Every user process or thread with a real-time policy (kernel threads such as\n"
         "ksoftirqd, migration or irq/N run FIFO legitimately and are excluded). An RT task must\n"
         "lock its memory: evo_control_unit's rt_setup calls mlockall(MCL_CURRENT|MCL_FUTURE),\n"
         "prefaults its stack, pins itself to one CPU and sets SCHED_FIFO 80 (only when built\n"
         "with the cargo feature `rt`). VmLck 0 kB means page faults (and swap-ins) can stall\n"
         "the RT loop. Locked memory at RLIMIT_MEMLOCK makes further allocations fail.\n"
         "Shown per task: policy, priority, allowed CPUs, VmLck, RLIMIT_MEMLOCK, RLIMIT_RTPRIO.\n"
         "Fix: build with the `rt` feature / call mlockall at start-up; for non-root services\n"
         "raise the limit (LimitMEMLOCK=infinity in the systemd unit, or memlock in\n"
         "/etc/security/limits.conf). Tasks to ignore: [rt] ignore_tasks = comm,comm."},
        {"rt.timer_migration", "Timer migration",
         "kernel.timer_migration = 1 lets the kernel move timers armed on one CPU to another to\n"
         "save power; on an RT host timers should fire where they were armed, predictably.\n"
         "Fix: sysctl -w kernel.timer_migration=0; persist in /etc/sysctl.d/90-evo-rt.conf."},
        {"rt.governor", "CPU frequency governor",
         "scaling_governor of every CPU with cpufreq. Any governor but `performance` changes the\n"
         "clock under load: the RT loop's cycle time varies with it and frequency transitions\n"
         "add latency. Without cpufreq (VMs, firmware-controlled) there is nothing to set.\n"
         "Fix: cpupower frequency-set -g performance (or write performance to\n"
         "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; persist with cpufrequtils or\n"
         "a tuned profile)."},
        {"rt.nmi_watchdog", "NMI watchdog",
         "kernel.nmi_watchdog = 1 fires a non-maskable interrupt on every CPU every few seconds\n"
         "to detect hard lockups: microseconds of jitter an RT loop cannot mask.\n"
         "Fix: sysctl -w kernel.nmi_watchdog=0 (persist in /etc/sysctl.d) or nmi_watchdog=0 on the\n"
         "kernel command line. Trade-off: hard lockups are then no longer detected."},
        {"rt.task_sched", "RT task keeps its scheduling (evodiag watch)",
         "evodiag watch follows the user RT tasks (SCHED_FIFO/RR/DEADLINE, found as for rt.tasks,\n"
         "at most [rt] max_tasks) every interval: policy, priority, CPU %, RSS, voluntary and\n"
         "involuntary context switches. warn when a task that was RT now runs SCHED_OTHER (its RT\n"
         "setup was lost: restarted without rt_setup, or changed with chrt) or when it exited (an RT\n"
         "control loop that dies is an incident); info when its priority changed.\n"
         "Fix: restart the component so it sets its policy again (evo_control_unit: built with\n"
         "--features rt, run with CAP_SYS_NICE or as root), or chrt -f -p <prio> <pid>; if it\n"
         "exited, see its log and core (evodiag bundle)."},
        {"rt.throttled", "RT task being throttled (evodiag watch)",
         "With RT throttling on (kernel.sched_rt_runtime_us not -1), RT tasks on a CPU may run for\n"
         "at most runtime out of every period (95% by default); then the kernel stops them for the\n"
         "rest of the period, a stall of up to 50 ms. The kernel keeps no counter of it outside\n"
         "debugfs, so evodiag watch infers it: a watched RT task whose CPU use in the interval\n"
         "reaches the throttling share (within 2 points) is being throttled: warn.\n"
         "Fix: sysctl -w kernel.sched_rt_runtime_us=-1 (see rt.throttling for the trade-off), or\n"
         "make the task sleep or yield instead of spinning."},
        {0},
};

static const struct config_key config[] = {
        CONF_UINT("max_tasks", "20", 1, 100000, "at most this many per-task rt.tasks findings (the rest are counted)"),
        CONF_PCT("memlock_near_pct", "90", "warn when a non-root RT task has locked this % of RLIMIT_MEMLOCK"),
        CONF_LIST("ignore_tasks", "", "comma-separated process names whose RT setup is not checked"),
        {0},
};

/* ---- reading the host ---- */

static bool cpu_dir_name(const char *s)
{
        if (strncmp(s, "cpu", 3) || !s[3])
                return false;
        for (s += 3; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

static unsigned first_cpu(const struct cpuset *s)
{
        unsigned c = 0;
        while (c < CPULIST_MAX && !cpuset_isset(s, c))
                c++;
        return c;
}

void rt_read_governors(struct governors *g)
{
        *g = (struct governors){0};
        struct rootfs_dir *d = rootfs_opendir("/sys/devices/system/cpu");
        if (!d)
                return;
        /* Group CPUs by governor: "powersave on 0-3; schedutil on 5". */
        struct gov {
                char name[32];
                struct cpuset cpus;
        } *bad = NULL;
        size_t nbadgov = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                if (!cpu_dir_name(de->d_name))
                        continue;
                unsigned cpu = (unsigned)strtoul(de->d_name + 3, NULL, 10);
                char path[512];
                snprintf(path, sizeof(path), "/sys/devices/system/cpu/%s/cpufreq/scaling_governor", de->d_name);
                _cleanup_free_ char *v = NULL;
                if (rootfs_read_value(path, &v) < 0)
                        continue; /* no cpufreq for this CPU */
                g->ncpus++;
                if (streq(v, "performance"))
                        continue;
                g->nbad++;
                char name[32];
                snprintf(name, sizeof(name), "%s", *v ? v : "(empty)");
                size_t i;
                for (i = 0; i < nbadgov && !streq(bad[i].name, name); i++)
                        ;
                if (i == nbadgov) {
                        if (nbadgov >= 16)
                                continue; /* garbage names: the count is still right */
                        bad = xrealloc(bad, (nbadgov + 1) * sizeof(*bad));
                        snprintf(bad[i].name, sizeof(bad[i].name), "%s", name);
                        cpuset_zero(&bad[i].cpus);
                        nbadgov++;
                }
                cpuset_set(&bad[i].cpus, cpu);
        }
        rootfs_closedir(d);
        /* readdir order is arbitrary: list the groups by their lowest CPU. */
        for (size_t i = 1; i < nbadgov; i++)
                for (size_t j = i; j > 0 && first_cpu(&bad[j - 1].cpus) > first_cpu(&bad[j].cpus); j--) {
                        struct gov t = bad[j];
                        bad[j] = bad[j - 1];
                        bad[j - 1] = t;
                }
        if (nbadgov) {
                struct strbuf b = {0};
                for (size_t i = 0; i < nbadgov; i++) {
                        _cleanup_free_ char *l = cpulist_format(&bad[i].cpus);
                        sb_printf(&b, "%s%s on %s", i ? "; " : "", bad[i].name, l);
                }
                g->bad = sb_steal(&b);
        }
        free(bad);
}

void governors_free(struct governors *g)
{
        free(g->bad);
        *g = (struct governors){0};
}

static int read_i64(const char *path, int64_t *out)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value(path, &v);
        return r < 0 ? r : parse_i64(v, out);
}

/* /proc/config.gz, else /boot/config-<release>. */
static void read_kconfig(struct rt_kernel *k, char **text)
{
        *text = NULL;
        _cleanup_free_ char *gz = NULL;
        long n = rootfs_read("/proc/config.gz", CONFIG_GZ_MAX, &gz, NULL);
        if (n > 0 && rt_gunzip(gz, (size_t)n, CONFIG_TEXT_MAX, text) >= 0) {
                snprintf(k->config_src, sizeof(k->config_src), "/proc/config.gz");
                return;
        }
        _cleanup_free_ char *rel = NULL;
        if (rootfs_read_value("/proc/sys/kernel/osrelease", &rel) < 0 || !*rel || strchr(rel, '/'))
                return;
        char path[sizeof(k->config_src)];
        snprintf(path, sizeof(path), "/boot/config-%s", rel);
        if (rootfs_read(path, CONFIG_TEXT_MAX, text, NULL) >= 0)
                snprintf(k->config_src, sizeof(k->config_src), "%s", path);
}

static void read_kernel(struct rt_kernel *k)
{
        *k = (struct rt_kernel){.realtime = -1, .config_rt = -1};
        _cleanup_free_ char *ver = NULL, *cfg = NULL, *dbg = NULL, *cmdline = NULL, *pre = NULL;
        if (rootfs_read_value("/proc/sys/kernel/version", &ver) == 0) {
                k->have_version = true;
                k->flavour = rt_flavour_from_version(ver);
        }
        uint64_t rtv;
        if (rootfs_read_u64("/sys/kernel/realtime", &rtv) == 0)
                k->realtime = rtv == 1;
        read_kconfig(k, &cfg);
        if (cfg)
                k->config_rt = kconfig_is_y(cfg, "PREEMPT_RT") || kconfig_is_y(cfg, "PREEMPT_RT_FULL");

        /* The model actually in force, best source first. */
        bool dynamic = k->flavour == KF_PREEMPT_DYNAMIC || (cfg && kconfig_is_y(cfg, "PREEMPT_DYNAMIC"));
        if (rootfs_read_value("/sys/kernel/debug/sched/preempt", &dbg) == 0 &&
            rt_preempt_from_debugfs(dbg, k->model, sizeof(k->model)) == 0) {
                k->model_src = "/sys/kernel/debug/sched/preempt";
                return;
        }
        if (dynamic && rootfs_read_value("/proc/cmdline", &cmdline) == 0 && cmdline_param(cmdline, "preempt", &pre) == 0 &&
            (streq(pre, "none") || streq(pre, "voluntary") || streq(pre, "full") || streq(pre, "lazy"))) {
                snprintf(k->model, sizeof(k->model), "%s", pre);
                k->model_src = "preempt= on the kernel command line";
                return;
        }
        const char *m = cfg ? kconfig_preempt_model(cfg) : NULL;
        if (m) {
                snprintf(k->model, sizeof(k->model), "%s", m);
                k->model_src = dynamic ? "boot default from the kernel config" : "kernel config";
                return;
        }
        if (k->have_version && k->flavour != KF_PREEMPT_DYNAMIC) {
                snprintf(k->model, sizeof(k->model), "%s",
                         k->flavour == KF_NONE ? "none or voluntary" : "full");
                k->model_src = "version string";
        }
}

static void kernel_signals(const struct rt_kernel *k, struct strbuf *b)
{
        sb_printf(b, "uname -v: %s", k->have_version ? rt_flavour_name(k->flavour) : "unreadable");
        sb_printf(b, "; /sys/kernel/realtime: %s", k->realtime < 0 ? "absent" : k->realtime ? "1" : "not 1");
        if (k->config_rt < 0)
                sb_puts(b, "; kernel config: not found");
        else
                sb_printf(b, "; CONFIG_PREEMPT_RT%s (%s)", k->config_rt ? "=y" : " not set", k->config_src);
        if (*k->model)
                sb_printf(b, "; preemption model %s (%s)", k->model, k->model_src);
}

static const char *model_text(const struct rt_kernel *k)
{
        return *k->model ? k->model : "unknown";
}

static void add_task(struct rt_task **v, size_t *n, const struct proc *p, int tid, const struct proc_stat *ts)
{
        if (*n >= RT_TASKS_MAX)
                return;
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        struct rt_task *t = &(*v)[(*n)++];
        *t = (struct rt_task){.pid = p->pid, .tid = tid, .policy = ts ? ts->policy : p->policy,
                              .rtprio = ts ? ts->rt_priority : p->rtprio, .euid = p->euid, .vmlck = p->vmlck};
        snprintf(t->comm, sizeof(t->comm), "%s", p->comm);
        if (ts)
                snprintf(t->tcomm, sizeof(t->tcomm), "%s", ts->comm);
        t->have_limits = proc_limit(p->pid, "Max locked memory", &t->memlock_soft, &t->memlock_hard) == 0;
        if (proc_limit(p->pid, "Max realtime priority", &t->rtprio_soft, &t->rtprio_hard) < 0)
                t->rtprio_soft = t->rtprio_hard = UINT64_MAX - 1; /* unknown */
        /* The thread's own affinity: rt_setup pins the thread, not the process. */
        char path[96];
        if (tid == p->pid)
                snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
        else
                snprintf(path, sizeof(path), "/proc/%d/task/%d/status", p->pid, tid);
        _cleanup_free_ char *status = NULL;
        if (rootfs_read(path, 64 << 10, &status, NULL) >= 0) {
                struct kvlist kv;
                kv_parse(status, ':', &kv);
                const char *l = kv_get(&kv, "Cpus_allowed_list");
                struct cpuset s;
                if (l && cpulist_parse(l, &s) == 0)
                        t->cpus = cpulist_format(&s);
                kv_free(&kv);
        }
}

/* RT threads inside processes whose main thread is not RT: the usual shape of an
 * RT service (a control thread next to ordinary ones). */
static void scan_threads(const struct proc *p, struct rt_task **v, size_t *n, size_t *budget)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
        struct rootfs_dir *d = rootfs_opendir(path);
        if (!d)
                return; /* exited, or a fixture without task/ */
        struct dirent *de;
        while ((de = rootfs_readdir(d)) && *budget) {
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                int tid = atoi(de->d_name);
                if (tid == p->pid || tid <= 0)
                        continue;
                (*budget)--;
                char sp[96];
                snprintf(sp, sizeof(sp), "/proc/%d/task/%d/stat", p->pid, tid);
                _cleanup_free_ char *st = NULL;
                struct proc_stat ps;
                if (rootfs_read(sp, 4096, &st, NULL) < 0 || proc_stat_parse(st, &ps) < 0)
                        continue;
                if (sched_policy_is_rt(ps.policy))
                        add_task(v, n, p, tid, &ps);
        }
        rootfs_closedir(d);
}

/* Returns false when the scan stopped early (thread budget or the runner's deadline). */
bool rt_collect_tasks(struct ctx *c, const struct proctable *pt, struct rt_task **v, size_t *n)
{
        const char *ignore = conf_str(c, "ignore_tasks");
        size_t budget = THREADS_SCAN_MAX;
        for (size_t i = 0; i < pt->n; i++) {
                /* Report what was seen rather than be killed with nothing. */
                if (!(i % 64) && scan_deadline_near(c->deadline_ms))
                        return false;
                const struct proc *p = &pt->v[i];
                if (p->kthread || rt_task_ignored(p->comm, ignore))
                        continue;
                if (sched_policy_is_rt(p->policy))
                        add_task(v, n, p, p->pid, NULL);
                else if (p->nlwp > 1)
                        scan_threads(p, v, n, &budget);
        }
        return budget > 0 && *n < RT_TASKS_MAX;
}

void rt_tasks_free(struct rt_task *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].cpus);
        free(v);
}

static void task_label(const struct rt_task *t, char *buf, size_t n)
{
        if (t->tid != t->pid)
                snprintf(buf, n, "pid %d %s tid %d %s", t->pid, t->comm, t->tid, t->tcomm);
        else
                snprintf(buf, n, "pid %d %s", t->pid, t->comm);
}

static void limit_text(struct strbuf *b, uint64_t v, bool bytes)
{
        char tmp[32];
        if (v == LIMIT_UNLIMITED)
                sb_puts(b, "unlimited");
        else if (v == UINT64_MAX - 1)
                sb_puts(b, "?");
        else if (bytes)
                sb_puts(b, fmt_bytes(v, tmp));
        else
                sb_printf(b, "%" PRIu64, v);
}

static char *task_facts(const struct rt_task *t)
{
        struct strbuf b = {0};
        char lk[32];
        sb_printf(&b, "%s %u, CPUs %s, VmLck %s", sched_policy_name(t->policy), t->rtprio, t->cpus ? t->cpus : "?",
                  fmt_bytes(t->vmlck, lk));
        if (t->have_limits) {
                sb_puts(&b, ", RLIMIT_MEMLOCK ");
                limit_text(&b, t->memlock_soft, true);
                sb_puts(&b, "/");
                limit_text(&b, t->memlock_hard, true);
                sb_puts(&b, ", RLIMIT_RTPRIO ");
                limit_text(&b, t->rtprio_soft, false);
                sb_puts(&b, "/");
                limit_text(&b, t->rtprio_hard, false);
        }
        sb_printf(&b, ", euid %u", t->euid);
        return sb_steal(&b);
}

/* ---- the checks ---- */

static void check_throttling(struct findings *fs, size_t ntasks)
{
        int64_t runtime, period;
        int r1 = read_i64("/proc/sys/kernel/sched_rt_runtime_us", &runtime);
        int r2 = read_i64("/proc/sys/kernel/sched_rt_period_us", &period);
        struct finding *f;
        if (r1 < 0 || r2 < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "rt.throttling", "cannot read %s: %s",
                            r1 < 0 ? "/proc/sys/kernel/sched_rt_runtime_us" : "/proc/sys/kernel/sched_rt_period_us",
                            strerror(-(r1 < 0 ? r1 : r2)));
                fnd_evidence(f, "/proc/sys/kernel/sched_rt_runtime_us, /proc/sys/kernel/sched_rt_period_us");
                return;
        }
        enum severity s = rt_throttling_sev(runtime, period, ntasks > 0);
        double pct = rt_throttle_share(runtime, period);
        if (s == SEV_OK)
                f = fnd_add(fs, s, "rt.throttling", "RT throttling off (kernel.sched_rt_runtime_us = -1)");
        else if (s == SEV_UNKNOWN)
                f = fnd_add(fs, s, "rt.throttling", "kernel.sched_rt_period_us = %" PRId64 " makes no sense", period);
        else if (s == SEV_CRIT)
                f = fnd_add(fs, s, "rt.throttling", "RT throttling leaves RT tasks no CPU time (sched_rt_runtime_us = 0) with %zu RT task%s",
                            ntasks, ntasks == 1 ? "" : "s");
        else
                f = fnd_add(fs, s, "rt.throttling", "RT throttling on: RT tasks get at most %" PRId64 " of every %" PRId64 " us (%.0f%%)%s",
                            runtime, period, pct, ntasks ? "" : "; no RT tasks run now");
        fnd_expected(f, "kernel.sched_rt_runtime_us = -1 where RT tasks run");
        fnd_actual(f, "sched_rt_runtime_us %" PRId64 ", sched_rt_period_us %" PRId64 ", %zu RT task%s", runtime, period, ntasks,
                   ntasks == 1 ? "" : "s");
        fnd_evidence(f, "/proc/sys/kernel/sched_rt_runtime_us, /proc/sys/kernel/sched_rt_period_us");
        if (s == SEV_WARN || s == SEV_CRIT || s == SEV_INFO)
                fnd_remedy(f, "sysctl -w kernel.sched_rt_runtime_us=-1 && echo 'kernel.sched_rt_runtime_us = -1' >> "
                              "/etc/sysctl.d/90-evo-rt.conf   # trade-off: a runaway FIFO task then owns its CPU");
}

static void check_tasks(struct ctx *c, struct findings *fs, const struct rt_task *v, size_t n, bool truncated)
{
        double near = conf_num(c, "memlock_near_pct");
        size_t max = (size_t)conf_uint(c, "max_tasks"), shown = 0, bad = 0;
        for (size_t i = 0; i < n; i++) {
                const struct rt_task *t = &v[i];
                unsigned pr = rt_task_problems(t, near);
                if (!pr)
                        continue;
                bad++;
                if (shown >= max)
                        continue;
                shown++;
                char label[200], lk[32], lim[32];
                task_label(t, label, sizeof(label));
                struct finding *f;
                if (pr & RTP_NO_MLOCK) {
                        f = fnd_add(fs, SEV_WARN, "rt.tasks", "%s (%s %u): no memory locked — page faults can stall the RT loop",
                                    label, sched_policy_name(t->policy), t->rtprio);
                        fnd_expected(f, "VmLck > 0 (mlockall(MCL_CURRENT|MCL_FUTURE) as evo_control_unit rt_setup does)");
                        if (t->euid != 0 && t->have_limits && t->memlock_soft != LIMIT_UNLIMITED)
                                fnd_remedy(f, "call mlockall(MCL_CURRENT|MCL_FUTURE) at start-up (evo_control_unit: build with "
                                              "--features rt) and raise RLIMIT_MEMLOCK: LimitMEMLOCK=infinity in its unit");
                        else
                                fnd_remedy(f, "call mlockall(MCL_CURRENT|MCL_FUTURE) at start-up (evo_control_unit: build with "
                                              "--features rt)");
                } else {
                        f = fnd_add(fs, SEV_WARN, "rt.tasks", "%s (%s %u): %s locked, at RLIMIT_MEMLOCK %s — further allocations fail",
                                    label, sched_policy_name(t->policy), t->rtprio, fmt_bytes(t->vmlck, lk),
                                    fmt_bytes(t->memlock_soft, lim));
                        fnd_expected(f, "VmLck below %.0f%% of RLIMIT_MEMLOCK", near);
                        fnd_remedy(f, "LimitMEMLOCK=infinity in its systemd unit (or memlock unlimited in "
                                      "/etc/security/limits.conf), then restart it");
                }
                fnd_subject(f, "%s", label);
                _cleanup_free_ char *facts = task_facts(t);
                fnd_actual(f, "%s", facts);
                if (t->tid != t->pid)
                        fnd_evidence(f, "/proc/%d/task/%d/stat, /proc/%d/status, /proc/%d/limits", t->pid, t->tid, t->pid, t->pid);
                else
                        fnd_evidence(f, "/proc/%d/stat, /proc/%d/status, /proc/%d/limits", t->pid, t->pid, t->pid);
        }
        if (bad > shown) {
                struct finding *f = fnd_add(fs, SEV_WARN, "rt.tasks", "%zu more RT tasks with the same problems (not listed)", bad - shown);
                fnd_subject(f, "more");
                fnd_remedy(f, "ps -eLo pid,tid,cls,rtprio,comm | awk '$3 ~ /^(FF|RR|DLN)$/'   # list them; raise [rt] max_tasks to see each");
        }
        if (bad)
                return;
        struct finding *f;
        if (!n) {
                f = fnd_add(fs, SEV_OK, "rt.tasks", "no user RT tasks running (kernel threads excluded)%s",
                            truncated ? " (scan stopped early)" : "");
        } else {
                f = fnd_add(fs, SEV_OK, "rt.tasks", "%zu RT task%s%s, memory locked", n, n == 1 ? "" : "s",
                            truncated ? " (scan stopped early: more may exist)" : "");
                struct strbuf b = {0};
                for (size_t i = 0; i < n && i < 5; i++) {
                        char label[200];
                        task_label(&v[i], label, sizeof(label));
                        _cleanup_free_ char *facts = task_facts(&v[i]);
                        sb_printf(&b, "%s%s: %s", i ? "; " : "", label, facts);
                }
                if (n > 5)
                        sb_printf(&b, "; and %zu more", n - 5);
                fnd_actual(f, "%s", b.s);
                sb_free(&b);
        }
        fnd_expected(f, "every RT task with memory locked");
        fnd_evidence(f, "/proc/*/stat, /proc/*/task/*/stat, /proc/*/status, /proc/*/limits");
}

static void check_sysctl01(struct findings *fs, const char *id, const char *path, const char *sysctl, const char *on_text,
                           const char *remedy)
{
        uint64_t v;
        int r = rootfs_read_u64(path, &v);
        struct finding *f;
        if (r == -ENOENT) {
                f = fnd_add(fs, SEV_OK, id, "%s not present in this kernel", sysctl);
        } else if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, id, "cannot read %s: %s", path, rootfs_strerror(-r));
        } else {
                f = fnd_add(fs, v ? SEV_INFO : SEV_OK, id, "%s = %" PRIu64 "%s%s", sysctl, v, v ? ": " : "", v ? on_text : "");
                fnd_expected(f, "%s = 0 on an RT host", sysctl);
                fnd_actual(f, "%" PRIu64, v);
                if (v)
                        fnd_remedy(f, "%s", remedy);
        }
        fnd_evidence(f, "%s", path);
}

static void check_governor(struct findings *fs)
{
        struct governors g;
        rt_read_governors(&g);
        struct finding *f;
        if (!g.ncpus)
                f = fnd_add(fs, SEV_OK, "rt.governor", "cpufreq not present (clock not scaled by the kernel)");
        else if (!g.nbad)
                f = fnd_add(fs, SEV_OK, "rt.governor", "all %u CPUs with cpufreq use the performance governor", g.ncpus);
        else {
                f = fnd_add(fs, SEV_WARN, "rt.governor", "%u of %u CPUs not on the performance governor (%s)", g.nbad, g.ncpus, g.bad);
                fnd_remedy(f, "cpupower frequency-set -g performance   # or: for g in "
                              "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo performance > $g; done");
                fnd_actual(f, "%s", g.bad);
        }
        fnd_expected(f, "scaling_governor = performance on every CPU");
        fnd_evidence(f, "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor");
        governors_free(&g);
}

static void rt_check(struct ctx *c, struct findings *fs)
{
        struct rt_kernel k;
        read_kernel(&k);
        bool is_rt = rt_kernel_is_rt(&k);

        struct proctable pt;
        int pr = proctable_load(&pt);
        struct rt_task *tasks = NULL;
        size_t ntasks = 0;
        bool truncated = pr == 0 && !rt_collect_tasks(c, &pt, &tasks, &ntasks);

        struct strbuf sig = {0};
        kernel_signals(&k, &sig);
        struct finding *f;
        const char *evidence = "/proc/sys/kernel/version, /sys/kernel/realtime, /proc/config.gz or /boot/config-$(uname -r), "
                               "/sys/kernel/debug/sched/preempt";
        if (!rt_kernel_known(&k)) {
                f = fnd_add(fs, SEV_UNKNOWN, "rt.kernel", "cannot tell whether the kernel is PREEMPT_RT: no version string, "
                                                           "no /sys/kernel/realtime, no kernel config");
        } else if (is_rt) {
                f = fnd_add(fs, SEV_OK, "rt.kernel", "PREEMPT_RT kernel, preemption model %s", model_text(&k));
        } else if (!ntasks) {
                f = fnd_add(fs, SEV_INFO, "rt.kernel", "not a PREEMPT_RT kernel (%s, preemption model %s); no RT tasks",
                            k.have_version ? rt_flavour_name(k.flavour) : "no version string", model_text(&k));
                fnd_remedy(f, "only if this host should run EVO RT tasks: apt install linux-image-rt-amd64, then reboot into it");
        } else {
                f = fnd_add(fs, SEV_WARN, "rt.kernel", "%zu RT task%s on a kernel that is not PREEMPT_RT (%s, preemption model %s)",
                            ntasks, ntasks == 1 ? "" : "s", k.have_version ? rt_flavour_name(k.flavour) : "no version string",
                            model_text(&k));
                fnd_remedy(f, "apt install linux-image-rt-amd64, reboot into it, check: uname -v | grep PREEMPT_RT");
        }
        fnd_expected(f, "PREEMPT_RT kernel where RT tasks run");
        fnd_actual(f, "%s", sig.s);
        fnd_evidence(f, "%s", evidence);
        sb_free(&sig);

        if (pr < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "rt.tasks", "cannot read the process table: %s", strerror(-pr));
                fnd_evidence(f, "/proc");
        }
        /* Neither an RT kernel nor RT tasks: the rest would be advice for a host that does not need it. */
        if (!is_rt && !ntasks) {
                rt_tasks_free(tasks, ntasks);
                proctable_free(&pt);
                return;
        }
        check_throttling(fs, ntasks);
        if (pr == 0)
                check_tasks(c, fs, tasks, ntasks, truncated);
        check_sysctl01(fs, "rt.timer_migration", "/proc/sys/kernel/timer_migration", "kernel.timer_migration",
                       "timers may move between CPUs",
                       "sysctl -w kernel.timer_migration=0 && echo 'kernel.timer_migration = 0' >> /etc/sysctl.d/90-evo-rt.conf");
        check_governor(fs);
        check_sysctl01(fs, "rt.nmi_watchdog", "/proc/sys/kernel/nmi_watchdog", "kernel.nmi_watchdog",
                       "an NMI on every CPU every few seconds",
                       "sysctl -w kernel.nmi_watchdog=0 && echo 'kernel.nmi_watchdog = 0' >> /etc/sysctl.d/90-evo-rt.conf"
                       "   # trade-off: hard lockups go undetected");
        rt_tasks_free(tasks, ntasks);
        proctable_free(&pt);
}

const struct collector rt_collector = {
        .name = "rt",
        .summary = "PREEMPT_RT kernel, RT throttling, RT tasks, timer migration, governor, NMI watchdog",
        .checks = checks,
        .config = config,
        .check = rt_check,
        .sample = rt_sample,
        .sampled = (const char *const[]){"rt.task_sched", "rt.throttled", NULL},
        .free_state = rt_free_state,
};
