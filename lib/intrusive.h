/* The rule for every intrusive action evodiag takes on a component process (the
 * broker's SIGUSR1 dump today; a framealloc snapshot request or perf record later):
 * nothing is done blind, and what was done is reported.
 *
 *   1. Pin the process (intrusive_pin(): a pidfd, so a later process that got the
 *      pid is never hit) and vouch for it with the trust rules (lib/trust.h).
 *   2. intrusive_precheck(): it is the component by name (comm or argv[0]) AND by
 *      its executable or command line (the basename of /proc/PID/exe, of argv[0],
 *      or of argv[1] for a script run by its interpreter): a name alone is only a
 *      claim. For a signal, /proc/PID/status SigCgt must show it caught: a signal
 *      whose default action terminates the process is never sent to one that does
 *      not handle it. Any doubt refuses, with the reason.
 *   3. Act.
 *   4. intrusive_postcheck(): the process is still alive a moment after.
 *   5. Report both through the sink (collectors/sink.h: sink_intrusive()): every
 *      action lands in manifest.json "intrusive" and evodiag.log; a process that
 *      died is a crit finding <collector>.intrusive (the collector declares that
 *      check) and the bundle says so at the top of ISSUE.md.
 * Only for the live system: callers refuse under --root. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intrusive_target {
        int pid;
        const char *name; /* the component's process name: "lavinmq" */
        int sig;          /* the signal the action sends; 0 when it sends none */
};

/* Whether the SigCgt: line of a /proc/PID/status text has sig set. -EINVAL when the
 * line is missing or malformed (then: not caught, never signal). */
int intrusive_sigcgt_has(const char *status, int sig);
/* Whether the identity fits: comm or argv0 named `name`, and the executable's path
 * (may be NULL, " (deleted)" allowed) or argv[0] or argv[1] ends in /name or is name.
 * cmdline is the raw NUL-separated /proc/PID/cmdline (len bytes). Pure, for tests. */
bool intrusive_identity_fits(const char *name, const char *comm, const char *exe, const char *cmdline, size_t len);
/* A pidfd for pid (close it), or -errno (-ENOSYS on a kernel without pidfd_open). */
int intrusive_pin(int pid);
/* Step 2. 0 when the action may go ahead; -EPERM (not the component, or the signal
 * is not caught) or -ESRCH (gone) with *why (newly allocated). */
int intrusive_precheck(const struct intrusive_target *t, char **why);
/* Step 4: waits up to settle_ms for the process to die (a pidfd turns readable;
 * without one, /proc/PID/stat shows it gone or a zombie after settle_ms). 0 when it
 * is alive, -ESRCH with *why when it died. */
int intrusive_postcheck(int pidfd, int pid, uint64_t settle_ms, char **why);
/* Sends sig through the pidfd (or kill() when pidfd < 0). 0 or -errno. */
int intrusive_signal(int pidfd, int pid, int sig);
