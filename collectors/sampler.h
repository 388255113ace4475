/* evodiag watch: the long-lived sampler children (one per collector with a
 * sample()), the per-round merge of their answers, and the events (a change of
 * a status's severity). Also the small helpers a collector's sample() uses to
 * stay cheap: files kept open between samples, bounded process watching.
 *
 * Protocol: the parent writes "N\n" (the sample number) on the child's request
 * pipe; the child runs sample() and answers one JSON line
 * {"n":N,"applies":true,"v":[["key","subject",value,"unit"],...],
 *  "s":[["id","subject","severity","summary"],...]}.
 * Every request has a deadline; a child that misses it is killed (abandoned when
 * it cannot be reaped) and started again later; meanwhile its collector shows the
 * unknown status "<name>.timeout". The parent never blocks on a child. */
#pragma once
#include <poll.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "collectors/collector.h"
#include "lib/sample.h"

/* ---- for collectors' sample() ---- */

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
 * no allocation per entry. -errno on failure. */
long sfile_count_dir(struct sfile *f, const char *path);

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
/* A process table read from /proc/PID/stat alone (one small read per process, not
 * libproc2's three): pid, ppid, comm, state, policy, rtprio, nice, threads and
 * kernel-thread flag; cmdline empty, no euid or memory. Leaves out evodiag's own
 * processes. 0 or -errno. */
int sample_proctable(struct proctable *t);
/* pid's stat as a struct proc (same fields); false when it is gone or garbled. */
bool sample_proc(int pid, struct proc *out);

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

/* ---- the parent: samplers and rounds ---- */

enum sampler_state {
        SP_STOPPED,   /* not running: before the first start, or waiting to be restarted */
        SP_IDLE,      /* running, no request outstanding */
        SP_BUSY,      /* a request is outstanding */
        SP_NOT_APPLICABLE, /* detect() said no: stopped for good */
};

struct sampler {
        const struct collector *c;
        enum sampler_state state;
        pid_t pid;
        int req_fd, resp_fd;
        uint64_t sent_ms, deadline_ms, respawn_ms;
        uint64_t next_no;       /* the next sample number for this child */
        uint64_t timeout_ms;    /* per request after the first */
        struct strbuf in;       /* partial answer */
        json_object *answer;    /* latest answer not yet merged (values, statuses) */
        bool answered;          /* `answer` is new since the last round */
        bool baselined;         /* its first answer has been merged */
        unsigned failures;      /* in a row; sets the restart back-off */
        char *problem;          /* why it is down: "timeout", "crashed" + text */
        bool problem_timeout;
        uint64_t answers, timeouts, crashes, abandoned;
        json_object *values;    /* latest values (array) */
};

struct watch_status {
        char *id, *subject, *summary;
        enum severity sev;
        size_t owner;      /* index of the sampler that reports it */
        uint64_t since_ms; /* when its severity last changed */
};

struct watch_event {
        uint64_t time_ms;
        char *id, *subject, *summary;
        enum severity sev, prev;
        bool baseline; /* in the collector's first sample */
        bool gone;     /* no longer reported: it went away or the condition passed */
};

struct watch {
        struct ctx base;
        uint64_t interval_ms;
        struct sampler *s;
        size_t n;
        struct watch_status *st;
        size_t nst, capst;
        uint64_t *seen;     /* per status: the round it was last reported in */
        json_object *index; /* "id\037subject" -> position in st */
        uint64_t round;
        struct json_tokener *tok; /* one parser for every answer: no allocation per answer */
};

/* The samplers of the selected collectors that have sample(). The collector
 * timeout ([name] timeout, else def_timeout_ms) caps every request's deadline. */
void watch_init(struct watch *w, const struct ctx *base, uint64_t interval_ms, const char *const *only,
                const char *const *skip, uint64_t def_timeout_ms);
/* Starts stopped samplers whose restart time has come and sends a request to
 * every idle one. */
void watch_request(struct watch *w, uint64_t now);
/* The pollfds to wait on (at most w->n) and the earliest deadline (UINT64_MAX if none). */
size_t watch_pollfds(struct watch *w, struct pollfd *pfd, size_t *which, uint64_t *deadline);
/* Reads what is readable and kills children past their deadline. */
void watch_service(struct watch *w, const struct pollfd *pfd, const size_t *which, size_t np, uint64_t now);
/* True when no request is outstanding. */
bool watch_settled(const struct watch *w);
/* Merges the answers that came since the last round into the statuses; returns
 * the events (caller frees with watch_events_free) and, in *fresh, the values of
 * the collectors that answered (a new array in the samplers' compact form, see
 * watch_value_get; caller puts it). */
struct watch_event *watch_round(struct watch *w, uint64_t time_ms, size_t *nev, json_object **fresh);
void watch_events_free(struct watch_event *e, size_t n);
/* A value as the samplers send it (["key","subject",value,"unit"]) or as
 * lib/sample.h makes it (an object): its parts; false when it is neither. */
bool watch_value_get(json_object *v, const char **key, const char **subject, double *value, const char **unit);
/* The lib/sample.h object shape of a value (new), or NULL; and of a whole array. */
json_object *watch_value_object(json_object *v);
json_object *watch_values_objects(json_object *values);
/* All current statuses as a JSON array, worst first. */
json_object *watch_statuses_json(const struct watch *w);
/* All latest values (also of collectors that did not answer this round), as objects. */
json_object *watch_values_json(const struct watch *w);
/* Kills and reaps every child. */
void watch_stop(struct watch *w);
void watch_free(struct watch *w);
/* The event as a JSON line object ({"type":"event",...}). */
json_object *watch_event_json(const struct watch_event *e);
/* "2026-11-21T23:00:00Z" (seconds) or with milliseconds. */
void watch_time(uint64_t ms, bool millis, char buf[static 40]);
