/* What a collector's sample() (evodiag watch) uses to stay cheap every interval:
 * files kept open between samples, bounded process watching, the rescan cadence.
 * The sampler engine itself (children, rounds, events) is collectors/sampler.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collectors/collector.h"
#include "lib/sample.h"

/* A /proc or /sys file read every interval. On the live system it stays open and
 * is re-read with pread() from offset 0, which makes the kernel regenerate it (no
 * open/close per interval); under --root (fixture trees a test rewrites) it is
 * opened each time so a replaced file is seen. */
struct sfile {
        int fd;
        bool opened; /* fd is valid only when set, so a zeroed struct is a closed file */
};
void sfile_init(struct sfile *f);
/* Reads up to size-1 bytes of path into buf, NUL-terminated. Returns the length
 * or -errno (-ESRCH when a /proc/PID file's process is gone). */
long sfile_read(struct sfile *f, const char *path, char *buf, size_t size);
void sfile_close(struct sfile *f);
/* Entries of a directory (not "." and ".."), e.g. /proc/PID/fd: on the live system
 * the directory stays open and is listed again with getdents64 into a fixed buffer,
 * no allocation per entry, no bound. -errno on failure; under --root -EFBIG when the
 * listing reached its bound (a lower bound is never passed off as the count). */
long sfile_count_dir(struct sfile *f, const char *path);

/* sfile_read into *buf (allocated on the first call), doubling it from 64 KiB up to
 * max bytes while the file fills it: /proc files whose size grows with the host
 * (/proc/interrupts, /proc/sysvipc/shm). */
long sfile_read_grow(struct sfile *f, const char *path, char **buf, size_t *cap, size_t max);

/* The collector's watch state: ctx->state, allocated zeroed (every sfile in it closed)
 * on the first call. The collector's free_state releases it. */
void *sample_state(struct ctx *c, size_t size);

/* Counting a process's fds or map areas costs per fd or area (the kernel builds
 * each entry): a watched process far from its limit is counted again every
 * SAMPLE_SLOW_MS, one at half the warn threshold or more every interval. Under
 * --root (fixture files, cheap) always. pct: its share at the last count. */
#define SAMPLE_SLOW_MS 5000
bool sample_count_due(uint64_t *last_ms, double pct, double warn_pct);

/* Whether this sample should redo the scans whose cost grows with the host (the
 * process table, pool directories): on sample 0 and then every
 * sampler_rescan_ms (default 2 min) worth of intervals. */
bool sample_rescan_due(const struct ctx *c);
extern uint64_t sampler_rescan_ms;

struct proc;
struct proctable;

/* The pids under /proc from the directory listing alone: what a rescan walks when
 * it needs one cheap measure per process (fd count, map count) and the identity
 * only of the few it keeps. */
int *sample_pids(size_t *n);
/* Processes that start while watch runs (a broker restarted by systemd, a new RT
 * task, a leaking client). Each interval the pids under /proc are listed (on the
 * live system only when /proc/loadavg's last pid moved: no process started, no
 * listing; when it moved by fewer pids than were listed, only the pids handed out
 * since are probed, see pidwatch_new) and compared with the last listing; a process
 * that appeared is "young"
 * for SAMPLE_YOUNG_MS and the collector inspects it meanwhile: an interval after it
 * was listed (most new processes are gone by then and cost nothing), and again each
 * time its age has doubled (at 1 Hz: at about 1, 2, 4, 8 and 16 s), so one that
 * crosses a threshold as it starts is an event within two intervals of being listed
 * instead of at the next rescan. Bounded: at most SAMPLE_YOUNG_MAX young
 * pids (the newest kept; a fork storm's rest waits for the rescan). The first call
 * only learns what runs. */
#define SAMPLE_YOUNG_MS 30000
#define SAMPLE_YOUNG_MAX 128
struct pidwatch {
        struct sfile loadavg;
        long last_pid;      /* /proc/loadavg's last pid at the last look (0: not known) */
        uint64_t look_ticks; /* CLOCK_MONOTONIC in clock ticks at the last look */
        int *known;         /* the last listing and the pids found new since, sorted */
        size_t nknown;
        size_t probed;      /* pids added to known by probes since the last listing */
        int probe;          /* 0: not decided yet, 1: probing works here, -1: list always */
        int young[SAMPLE_YOUNG_MAX];
        uint64_t young_since[SAMPLE_YOUNG_MAX], young_next[SAMPLE_YOUNG_MAX];
        size_t nyoung;
        int cand[SAMPLE_YOUNG_MAX]; /* pidwatch_settled: new at the last listing */
        size_t ncand;
        bool primed;
};
/* The young pids due for a look now, into out (SAMPLE_YOUNG_MAX entries): the new ones
 * come from c->new_pids (watch's one listing per interval: those that lived an
 * interval, looked at at once), else from a listing here (looked at an interval on). */
size_t pidwatch_young(struct pidwatch *pw, const struct ctx *c, int *out);
/* The pids listed in /proc now that were not at the last call (none at the first),
 * at most max, the newest kept: watch's parent, once per interval, for every sampler.
 * On the live system the kernel hands out pids in a cycle and /proc/loadavg names the
 * last one: what started since the last call has a pid in (last then, last now].
 * When that range holds fewer pids than the last listing, each of them is probed
 * with pidfd_open() (a process, a thread, or gone) instead of listing /proc, whose
 * cost grows with every process on the host; else, when the cycle wrapped, and where
 * pidfd_open() is refused, /proc is listed. Either way a pid in that range that was
 * known before counts as new when its stat's start time is since the last call (a
 * pid handed out again). More than one wrap of the cycle within one call (pid_max
 * processes started in an interval) is not told apart from none. */
size_t pidwatch_new(struct pidwatch *pw, int *out, size_t max);
/* The pids that were new at the last call and are still listed now (at most max):
 * what lived an interval. watch's parent sends only these to the samplers, once per
 * interval: on a host where processes start every second, most (a shell's commands,
 * a compiler's passes) are gone within the interval, and no sampler looks at them. */
size_t pidwatch_settled(struct pidwatch *pw, int *out, size_t max);
/* Stops following pid (the collector watches it now, or it is no candidate). */
void pidwatch_drop(struct pidwatch *pw, int pid);
void pidwatch_free(struct pidwatch *pw);

/* A process table read from /proc/PID/stat alone (one small read per process, not
 * libproc2's three): pid, ppid, comm, state, policy, rtprio, nice, threads and
 * kernel-thread flag; cmdline empty, no euid or memory. Leaves out evodiag's own
 * processes. 0 or -errno. */
int sample_proctable(struct proctable *t);
/* pid's stat as a struct proc (same fields); false when it is gone or garbled. */
bool sample_proc(int pid, struct proc *out);
/* The same, and its virtual memory size in bytes (an upper bound on its map areas:
 * each is at least a page). */
bool sample_proc_vsize(int pid, struct proc *out, uint64_t *vsize);

/* Whether the pids under /proc are this process's own pid namespace's, the ones
 * syscalls taking a pid (pidfd_open, prlimit) name: the live system and /proc/self
 * naming getpid(). Decided once per process. */
bool sample_proc_is_ours(void);

/* evodiag's own processes (this sampler, watch, the other samplers and bundle
 * children: all children of watch) are not what an operator watches. */
bool sample_is_self(const struct proc *p);

/* One watched process (or thread): CPU %, RSS, voluntary and involuntary context
 * switches per interval, policy and priority, read from /proc/PID[/task/TID]/stat
 * and status kept open. Bounded by whoever keeps the list. */
struct sproc {
        int pid, tid;
        bool task_path;   /* read /proc/PID/task/TID even for the main thread (its own CPU,
                             not the whole process's, in a multi-threaded process) */
        char comm[64];
        char subject[96]; /* "pid 12 lavinmq" or "pid 12 evo tid 14 ctl" */
        struct sfile stat, status;
        bool have_prev, have_rate;
        uint64_t prev_ticks, prev_vcs, prev_ivcs, prev_ms;
        /* the last reading */
        bool gone;
        double cpu_pct;
        uint64_t rss, vmlck, vcs_delta, ivcs_delta;
        unsigned policy, rtprio;
};
void sproc_init(struct sproc *p, int pid, int tid, const char *comm, const char *tcomm);
/* Reads the process; false when it is gone (p->gone set). */
bool sproc_read(struct sproc *p);
/* Adds "<prefix>.cpu_pct", ".rss_bytes", ".ctxsw_voluntary", ".ctxsw_involuntary"
 * (per interval, from the second sample on) and ".policy" (SCHED_OTHER 0, FIFO 1,
 * RR 2, DEADLINE 6), ".rt_priority" (always when sched, else only for RT ones)
 * for the process, subject p->subject. */
void sproc_values(struct sample *s, const struct sproc *p, const char *prefix, bool sched);
void sproc_close(struct sproc *p);

/* Room for one more entry in a collector's list of watched processes (n entries of
 * size bytes at v, each starting with its struct sproc): while *n has reached max,
 * the exited ones (sproc.gone) go first, closed by close_fn and replaced by the last
 * entry. False when max live entries are watched (the next rescan ranks them all);
 * else the caller appends the new entry. */
bool sample_watch_room(void *v, size_t *n, size_t size, size_t max, void (*close_fn)(void *entry));

