/* perf collector: the parsers and decisions it is made of (perf_format.c, exported for
 * the unit tests and the fuzz target), and what its files share: counting with
 * perf_event_open per task (perf_count.c), the profile (perf_profile.c) and watch
 * (perf_sample.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

#define PERF_PIDS_MAX 64       /* --pid / [perf] pids: at most this many */
#define PERF_PID_MAX 4194304   /* the kernel's PID_MAX_LIMIT */

/* "12, 34,56" (a [perf] pids value) -> pids, duplicates dropped. Returns how many, or
 * -EINVAL (with *why, newly allocated) for anything but positive pids up to
 * PERF_PID_MAX, -E2BIG for more than max. An empty or blank list gives 0. */
int perf_parse_pids(const char *list, int *pids, size_t max, char **why);

/* The two context-switch lines of a /proc/PID[/task/TID]/status text. Both must be
 * there, each a whole number. 0 or -EINVAL. */
int perf_status_switches(const char *status, uint64_t *voluntary, uint64_t *involuntary);

/* What kernel.perf_event_paranoid allows the current user for counting the events of
 * another process (kernel and user time, per task). Root (CAP_PERFMON) passes any level. */
enum perf_access {
        PERF_ACCESS_FULL,      /* counting and profiling, kernel included */
        PERF_ACCESS_USER_ONLY, /* 2: user-space only; context switches, migrations and
                                  faults happen in the kernel and would count 0 */
        PERF_ACCESS_NONE,      /* 3 and above (Debian, Ubuntu): nothing without CAP_PERFMON */
};
enum perf_access perf_access_for(int64_t paranoid, bool privileged);
/* What makes evodiag privileged for perf_event_open (the kernel's perfmon_capable()):
 * "root", else "CAP_PERFMON" or "CAP_SYS_ADMIN" when in its effective set (a user
 * started with setpriv/capsh --ambient-caps +perfmon, or a unit's AmbientCapabilities=);
 * NULL for an unprivileged user. */
const char *perf_privilege(bool is_root);
/* The sysctl value that lets a non-root user count, and the remedy text. */
#define PERF_PARANOID_NEEDED 1
#define PERF_PARANOID_REMEDY                                                                                          \
        "run evodiag as root, or: sysctl -w kernel.perf_event_paranoid=1   # lets users count their own processes, " \
        "kernel part included"

/* The value of a counter that was multiplexed (hardware counters shared in turns):
 * scaled by enabled/running time. 0 when it never ran. */
uint64_t perf_scale(uint64_t value, uint64_t enabled, uint64_t running);

/* perf.rt_jitter: an RT task (SCHED_FIFO 1, SCHED_RR 2) that was preempted
 * (involuntary switches) or moved (migrations) during the window: warn; else ok. */
enum severity perf_jitter_verdict(unsigned policy, uint64_t involuntary, uint64_t migrations);
/* perf.busy_loop: a thread that ran at least busy_pct % of the window. */
bool perf_busy(uint64_t task_clock_ns, uint64_t window_ns, double busy_pct);

/* What a perf_event_open errno means for a kind of event. */
const char *perf_open_error(int err, bool hardware);

/* "name" or "name:user" entries of [perf] processes: the name, and the service user
 * ("" when none). Returns 0 or -EINVAL (empty name, more than one colon, name longer
 * than 64). */
int perf_process_entry(const char *entry, char *name, size_t namelen, char *user, size_t userlen);

/* ---- counting (perf_count.c) ---- */

enum perf_ev {
        PEV_TASK_CLOCK,
        PEV_CS,
        PEV_MIGRATIONS,
        PEV_MAJFLT,
        PEV_MINFLT,
        PEV_CYCLES,
        PEV_INSNS,
        PEV_CACHE_REFS,
        PEV_CACHE_MISSES,
        PEV_BRANCH_MISSES,
        PEV_N,
};
#define PEV_SW_N PEV_CYCLES /* the software events come first */
extern const char *const perf_ev_names[PEV_N];

struct perf_reading {
        uint64_t v[PEV_N], enabled[PEV_N], running[PEV_N];
        uint64_t vcs, ivcs; /* /proc/.../status */
        bool have_cs;
};

struct perf_task {
        int tid;
        char comm[64];
        unsigned policy, rtprio;
        int fd[PEV_N];           /* -1 when not open */
        struct perf_reading r0, r1;
        uint64_t d[PEV_N];       /* r1 - r0, scaled */
        uint64_t dvcs, divcs;
        bool have_d, have_dcs;
};

struct perf_target {
        int pid;
        char comm[64];
        char subject[96];        /* "pid 12 lavinmq" */
        char by[160];            /* why it is measured: "lavinmq: owner", "named in [perf] pids" */
        char user[65];           /* its service user for lib/trust ("" = root only) */
        uint64_t starttime;      /* /proc/PID/stat: the same process at the post-check */
        struct perf_task *t;
        size_t n;
        bool tasks_cut;          /* more threads than the budget */
        int open_err;            /* the first perf_event_open error, 0 */
        bool gone;
};

struct perf_set {
        struct perf_target *v;
        size_t n;
        bool want_hw;      /* try hardware events (the probe found them) */
        size_t task_budget;
        char *impostors;   /* "pid 9 lavinmq (uid 1000)": named like a component, not vouched for */
        char *looked_for;  /* "lavinmq, evo_control_unit, ..." */
};

struct ctx;
/* The processes to measure: [perf] pids when set (the operator named them), else the
 * component processes that lib/trust vouches for. 0 or -errno (with *why). */
int perf_targets(struct ctx *c, struct perf_set *s, char **why);
/* Opens the counters of every thread of every target (inherit: threads started later
 * count into the thread that started them). Stops at the task budget. */
void perf_set_open(struct perf_set *s);
/* Reads every counter (and the threads' context-switch lines): into r0 (first=true) or
 * r1, then the deltas. */
void perf_set_read(struct perf_set *s, bool first);
void perf_set_free(struct perf_set *s);
/* The per-thread table (text) for the bundle and -v. */
char *perf_set_table(const struct perf_set *s, uint64_t window_ns);
/* One probe of an event kind on evodiag itself: 0 or -errno. */
int perf_probe_event(enum perf_ev e);
int perf_open_counter(enum perf_ev e, int tid, bool inherit);
/* /proc/PID/stat's starttime; 0 when unreadable. */
uint64_t perf_starttime(int pid);

/* ---- shared by the collector's files ---- */

struct sample;
struct bundle_sink;
void perf_sample(struct ctx *c, struct sample *s);
void perf_free_state(void *state);
void perf_profile(struct ctx *c, struct bundle_sink *sink);
