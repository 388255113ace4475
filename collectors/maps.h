/* maps collector: decisions, declared here so the unit tests (and fds.c, for its
 * LavinMQ remedy) can call them. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct proc;

/* LavinMQ is the process whose comm is "lavinmq" or whose argv[0] has the basename
 * "lavinmq" (not lavinmqctl, lavinmqperf). argv0 may be NULL. */
bool lavinmq_match(const char *comm, const char *argv0);
/* lavinmq_match on a process, reading its argv[0] from /proc/PID/cmdline (root-aware). */
bool proc_is_lavinmq(const struct proc *p);
/* vm.max_map_count to suggest when a process nears cur: twice it, at least 262144;
 * for LavinMQ at least 1000000 (the LavinMQ guide's value). */
uint64_t map_count_target(uint64_t cur, bool lavinmq);
