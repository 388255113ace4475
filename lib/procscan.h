/* The process scan behind the per-process checks (fds.process, maps.process, the
 * broker's own fd and map use): one measure per user process, bounded by a process
 * count, a time budget and the runner's deadline; what could not be inspected is
 * counted, never silently dropped. And the usage helpers that judge a count against
 * a per-process limit, with the limit to suggest when one is near. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

struct proctable;

/* One process's use of a per-process limit (open fds, map areas). */
struct usage {
        int pid;
        char comm[64];
        uint64_t used;
        uint64_t limit; /* soft limit; LIMIT_UNLIMITED = none */
        uint64_t hard;  /* hard limit where there is one, else 0 */
        bool at_least;  /* used is a lower bound (a count that reached a bound) */
};
/* used as a percentage of limit: 0 for no limit, 100 for a zero limit that is used. */
double usage_pct(uint64_t used, uint64_t limit);
/* crit at >= crit_pct, warn at >= warn_pct, else ok. */
enum severity usage_severity(uint64_t used, uint64_t limit, double warn_pct, double crit_pct);
/* The verdict of a per-process check (fds.process, maps.process), in check and in
 * watch alike: usage_severity, but never ok when the count is only a lower bound
 * (unknown). */
enum severity usage_verdict(const struct usage *u, double warn_pct, double crit_pct);
/* Highest percentage first, then most used, then lowest pid. */
void usage_sort(struct usage *v, size_t n);
/* "pid 1 init 12/1024 (1.2%), ..." for the first k of v (sort it first). */
char *usage_list(const struct usage *v, size_t n, size_t k);

/* How far a scan may go. A collector fills it from its own config keys. */
struct scan_opts {
        const char *section;  /* the config section its keys live in, for messages: "fds" */
        size_t max_procs;     /* inspect at most this many processes; 0 = all */
        uint64_t budget_ms;   /* stop inspecting after this long; 0 = no limit */
        uint64_t deadline_ms; /* CLOCK_MONOTONIC ms when the runner kills the collector (0 =
                                 none): the scan stops SCAN_DEADLINE_MARGIN_MS before it */
        bool is_root;         /* a denied read then means an LSM or a container, not "needs root" */
};
#define SCAN_DEADLINE_MARGIN_MS 300
/* Whether a scan should stop now: deadline_ms (0 = none) is less than
 * SCAN_DEADLINE_MARGIN_MS away. Partial results beat being killed with none. */
bool scan_deadline_near(uint64_t deadline_ms);

/* A scan of the process table: one usage per process inspected (used = what
 * measure() counted, limit left 0), and what could not be inspected. */
struct scan {
        struct scan_opts opts;
        struct usage *v;
        size_t n, cap;
        size_t candidates;    /* user-space processes in the table */
        size_t not_inspected; /* left out by max_procs, budget_ms or the deadline */
        bool out_of_time;     /* budget_ms or the deadline stopped it */
        bool deadline_hit;    /* ... and it was the deadline */
        size_t denied;        /* EACCES/EPERM */
        int denied_pid;
        size_t failed;        /* other errors */
        int failed_pid, failed_err;
};
/* measure(pid) returns a count or -errno; -ENOENT/-ESRCH mean the process is gone
 * and it is skipped silently. Kernel threads are left out (evodiag's own processes
 * are not in the table). s must be zeroed; opts is copied into it. */
void scan_procs(const struct scan_opts *o, const struct proctable *t, long (*measure)(int pid), struct scan *s);
/* The same with a measure that can say its count is only a lower bound (usage.at_least). */
void scan_procs_bounded(const struct scan_opts *o, const struct proctable *t, long (*measure)(int pid, bool *at_least),
                        struct scan *s);
/* The findings for processes that could not be inspected (id skipped when denied,
 * unknown on other errors). file: "fd" or "maps". */
void scan_report_gaps(const struct scan *s, const char *id, const char *file, struct findings *fs);
/* The summary finding of a per-process check: how many were inspected, how many
 * at or above warn_pct, the top `top` consumers; none when nothing could be
 * inspected. Sorts s->v. */
void scan_report_summary(struct scan *s, const char *id, size_t problems, double warn_pct, size_t top,
                         const char *limit_name, const char *evidence, struct findings *fs);
void scan_free(struct scan *s);

/* The open-files limit to suggest for a process at soft: twice it, at least 65536,
 * at most nr_open (0 = unknown). 0 when soft is already at the ceiling. */
uint64_t nofile_target(uint64_t soft, uint64_t nr_open);
/* vm.max_map_count to suggest when a process nears cur: twice it, at least 262144;
 * for LavinMQ at least 1000000 (the LavinMQ guide's value). */
uint64_t map_count_target(uint64_t cur, bool lavinmq);
/* The systemd system unit ("lavinmq.service") a process runs in, from the text of
 * /proc/PID/cgroup; NULL when none (a login session, a user unit, no systemd). */
char *unit_from_cgroup(const char *text);
