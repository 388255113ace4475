/* The process table. On the live system it comes from libproc2; under --root (a
 * fixture tree or an unpacked bundle) from ROOT/proc, since libproc2 hard-codes
 * /proc. Both fill the same struct, so collectors do not care which. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/cpulist.h"

struct proc {
        int pid, ppid;
        unsigned euid;
        char comm[64];
        char *cmdline;      /* arguments joined by spaces; "" for kernel threads */
        char state;
        unsigned policy;    /* SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6 */
        unsigned rtprio;
        int nice;
        int nlwp;
        uint64_t rss, vmlck; /* bytes */
        bool kthread;
};

struct proctable {
        struct proc *v;
        size_t n;
};

/* Loads the table, sorted by pid. */
int proctable_load(struct proctable *t);
/* The process with this pid, or NULL (binary search). */
const struct proc *proctable_find(const struct proctable *t, int pid);
/* A run that starts several collectors reads /proc once (in a child, under a
 * deadline) and hands the table to them all: every later proctable_load() in
 * this process and its children returns a copy. Not used while tracing (bundle). */
void proctable_preload(const struct proctable *t);
struct json_object;
struct json_object *proctable_to_json(const struct proctable *t);
int proctable_from_json(struct json_object *a, struct proctable *t);
void proctable_free(struct proctable *t);
const char *sched_policy_name(unsigned policy);
bool sched_policy_is_rt(unsigned policy);

/* Per-process facts read on demand (root-aware); negative errno on failure. */
int proc_affinity(int pid, struct cpuset *set);
int proc_limit(int pid, const char *name, uint64_t *soft, uint64_t *hard);
/* Open fds, counted without a list (lib/dircount.h); *at_least (may be NULL) when
 * the count is only a lower bound. */
long proc_fd_count(int pid, bool *at_least);
long proc_map_count(int pid);
bool proc_exists(int pid);
/* Every user process's /proc/PID/maps, read once each (capped at max_bytes), line by
 * line: shm and evo both want to know who maps what. Kernel threads and processes that
 * exited meanwhile are skipped; unreadable and truncated ones are counted (the first
 * of each named), so a report can say what it did not see. `needle` (or NULL) skips
 * maps that cannot matter. on_line returns true when the line mapped something of
 * interest; `matching` counts processes with at least one such line. */
struct maps_walk {
        size_t scanned, unreadable, truncated, matching;
        int first_unreadable, first_unreadable_err, first_truncated;
};
void proc_maps_walk(const struct proctable *t, size_t max_bytes, const char *needle,
                    bool (*on_line)(const struct proc *p, char *line, void *arg), void *arg, struct maps_walk *w);
