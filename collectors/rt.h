/* rt collector: the parsers and decisions it is made of, exported for the unit tests. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/procfs.h"

/* The kernel's flavour from its version string (rt_flavour_from_version, KF_*) is
 * lib/procfs.h: hugepages' RT-host test reads it the same way. */

/* /sys/kernel/debug/sched/preempt: "none voluntary (full) lazy" -> "full".
 * Returns 0 or -EINVAL when no model is marked. */
int rt_preempt_from_debugfs(const char *text, char *out, size_t n);

/* Decompresses gzip data held in memory (libarchive: raw format + gzip filter).
 * Returns the length (text NUL-terminated in *out), -EINVAL when the data is not
 * gzip or is corrupt/truncated, -EFBIG when the result would exceed max. */
long rt_gunzip(const void *data, size_t len, size_t max, char **out);

/* The value of CONFIG_<sym> in a kernel .config text ("y", "m", "250", "\"str\"");
 * "n" for "# CONFIG_<sym> is not set". Returns 0 or -ENOENT. sym has no CONFIG_ prefix. */
int kconfig_get(const char *text, const char *sym, char **value);
bool kconfig_is_y(const char *text, const char *sym);
/* The preemption model a config selects ("rt", "lazy", "full", "voluntary", "none") or NULL. */
const char *kconfig_preempt_model(const char *text);

/* Every signal about the kernel, then one decision. */
struct rt_kernel {
        bool have_version;
        enum kflavour flavour; /* from /proc/sys/kernel/version */
        int realtime;          /* /sys/kernel/realtime: -1 absent, else its value */
        int config_rt;         /* -1 no config found, 0 no, 1 CONFIG_PREEMPT_RT=y (or old _FULL) */
        char config_src[96];   /* "/proc/config.gz", "/boot/config-6.1.0-rt-amd64" */
        char model[32];        /* "full", "none", ...; "" unknown */
        const char *model_src; /* where the model came from */
};
bool rt_kernel_is_rt(const struct rt_kernel *k);
/* Whether anything at all could be read (else the verdict is unknown). */
bool rt_kernel_known(const struct rt_kernel *k);

/* cpufreq governors of all CPUs (through rootfs). ncpus = CPUs that have cpufreq. */
struct governors {
        unsigned ncpus, nbad;
        char *bad; /* "powersave on 0-3; schedutil on 5", NULL when none */
};
void rt_read_governors(struct governors *g);
void governors_free(struct governors *g);

/* RT throttling (kernel.sched_rt_runtime_us / sched_rt_period_us). runtime -1 = off. */
enum severity rt_throttling_sev(int64_t runtime_us, int64_t period_us, bool rt_tasks);
/* The share of each period RT tasks may run (runtime/period as %), as rt.throttling
 * reports it and rt.throttled (watch) measures against it; -1 when throttling is off
 * (runtime -1) or the period makes no sense. */
double rt_throttle_share(int64_t runtime_us, int64_t period_us);
/* rt.throttled (watch): warn when a watched RT task's CPU use in the interval reaches
 * the throttling share (within 2 points); ok when it stays below or throttling is off. */
enum severity rt_throttled_verdict(double cpu_pct, double share);
/* rt.task_sched (watch): warn when the task exited or no longer runs an RT policy,
 * info when its RT priority changed from prio0 (when first seen), else ok. */
enum severity rt_task_sched_verdict(bool gone, unsigned prio0, unsigned policy, unsigned prio);

/* One user RT task (process, or thread of a process) and what is wrong with it. */
struct rt_task {
        int pid, tid;         /* tid == pid for the process itself */
        char comm[64];        /* process name */
        char tcomm[64];       /* thread name when tid != pid */
        unsigned policy, rtprio, euid;
        uint64_t vmlck;       /* bytes, per process */
        bool have_limits;
        uint64_t memlock_soft, memlock_hard, rtprio_soft, rtprio_hard;
        char *cpus;           /* allowed CPUs as a list, NULL if unknown */
};
enum {
        RTP_NO_MLOCK = 1 << 0,       /* VmLck 0: page faults in the RT loop */
        RTP_MEMLOCK_LIMIT = 1 << 1,  /* locked memory at RLIMIT_MEMLOCK: further mlock fails */
};
unsigned rt_task_problems(const struct rt_task *t, double near_pct);
/* Kernel threads run FIFO legitimately; also the operator's ignore list (comma separated comms). */
bool rt_task_ignored(const char *comm, const char *ignore_list);

/* ---- shared by the collector's files ---- */

struct ctx;
struct proctable;
struct sample;
/* The user RT tasks (processes, and RT threads of processes that are not): kernel
 * threads and [rt] ignore_tasks left out. Returns false when the scan stopped early
 * (thread budget, task cap or the runner's deadline). */
bool rt_collect_tasks(struct ctx *c, const struct proctable *pt, struct rt_task **v, size_t *n);
void rt_tasks_free(struct rt_task *v, size_t n);
void rt_sample(struct ctx *c, struct sample *s);
void rt_free_state(void *state);
