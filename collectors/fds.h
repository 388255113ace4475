/* fds collector: parsers and decisions. Declared here so the unit tests can call
 * them; maps.c shares the per-process usage helpers. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

/* /proc/sys/fs/file-nr: "allocated unused max". */
struct file_nr {
        uint64_t allocated, unused, max;
};
/* 0, or -EINVAL unless the text is exactly three numbers (white space around them
 * is fine) and unused <= allocated. */
int file_nr_parse(const char *text, struct file_nr *out);

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
/* The same for a usage, but never ok when its count is only a lower bound: unknown. */
enum severity usage_verdict(const struct usage *u, double warn_pct, double crit_pct);
/* Highest percentage first, then most used, then lowest pid. */
void usage_sort(struct usage *v, size_t n);
/* "pid 1 init 12/1024 (1.2%), ..." for the first k of v (sort it first). */
char *usage_list(const struct usage *v, size_t n, size_t k);

/* A scan of the process table: one usage per process inspected (used = what
 * measure() counted, limit left 0), and what could not be inspected. */
struct scan {
        struct usage *v;
        size_t n, cap;
        size_t candidates;    /* user-space processes in the table */
        size_t not_inspected; /* left out by [<collector>] max_procs or budget_ms */
        bool out_of_time;
        size_t denied;        /* EACCES/EPERM */
        int denied_pid;
        size_t failed;        /* other errors */
        int failed_pid, failed_err;
};
struct ctx;
struct proctable;
/* measure(pid) returns a count or -errno; -ENOENT/-ESRCH mean the process is gone
 * and it is skipped silently. Kernel threads and evodiag's own processes are left
 * out. Honours the collector's max_procs and budget_ms keys. */
void scan_procs(const struct ctx *c, const struct proctable *t, long (*measure)(int pid), struct scan *s);
/* The same with a measure that can say its count is only a lower bound (usage.at_least). */
void scan_procs_bounded(const struct ctx *c, const struct proctable *t, long (*measure)(int pid, bool *at_least),
                        struct scan *s);
/* The findings for processes that could not be inspected (id skipped when denied,
 * unknown on other errors). file: "fd" or "maps". */
void scan_report_gaps(const struct ctx *c, const struct scan *s, const char *id, const char *file, struct findings *fs);
/* The summary finding of a per-process check: how many were inspected, how many
 * at or above warn_pct, the top consumers; none when nothing could be inspected. */
void scan_report_summary(const struct ctx *c, struct scan *s, const char *id, size_t problems, double warn_pct,
                         const char *limit_name, const char *evidence, struct findings *fs);
void scan_free(struct scan *s);

/* The open-files limit to suggest for a process at soft: twice it, at least 65536,
 * at most nr_open (0 = unknown). 0 when soft is already at the ceiling. */
uint64_t nofile_target(uint64_t soft, uint64_t nr_open);
/* The systemd system unit ("lavinmq.service") a process runs in, from the text of
 * /proc/PID/cgroup; NULL when none (a login session, a user unit, no systemd). */
char *unit_from_cgroup(const char *text);
