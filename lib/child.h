/* Forked children for collector work: the one place that forks, applies the
 * EVODIAG_FAULT test hook, and reaps (or abandons) a child. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct child {
        pid_t pid;
        int fd; /* read end of the child's output pipe */
};

/* Forks; the child runs fn(arg, wfd) and exits 0. `name` selects the fault hook:
 * EVODIAG_FAULT=<name>:crash|hang|garbage makes the child misbehave instead. */
int child_start(struct child *c, const char *name, void (*fn)(void *arg, int wfd), void *arg);
/* Test builds only (--enable-test-hooks), a hook for a point outside the children:
 * EVODIAG_FAULT=<point>:pause says so on
 * stderr ("evodiag: fault hook: paused at <point>") and waits for a signal (at most
 * 30 s), so a test can time a signal into that exact moment. */
void fault_pause(const char *point);
/* Test builds only: whether EVODIAG_FAULT is exactly "<name>:<what>" (a misbehaviour
 * other than crash|hang|garbage that the code at `name` acts out itself). Always
 * false in release builds. */
bool fault_wanted(const char *name, const char *what);
/* SIGKILLs first when kill_it. Returns the wait status, or -1 when the child could
 * not be reaped in time (D state) and was abandoned (*abandoned set). */
int child_reap(pid_t pid, bool kill_it, bool *abandoned);
/* "killed by signal 11 (Segmentation fault)", "exited with status 2", or NULL for exit 0. */
char *child_status_error(int status);
int write_all(int fd, const void *buf, size_t n);
/* Reads exactly n bytes unless EOF; returns bytes read or -errno. */
long read_full(int fd, void *buf, size_t n);
/* Runs fn(arg) in a separate process once this process and the children it forks
 * afterwards have all exited, however they end (return, signal, SIGKILL): for
 * removing a temporary directory. The helper holds no file of ours. */
int child_on_exit(void (*fn)(void *arg), void *arg);
