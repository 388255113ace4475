/* evodiag watch: the long-lived sampler children (one per collector with a
 * sample()), the per-round merge of their answers, and the events (a change of
 * a status's severity). The parent's side of the engine only.
 *
 * Protocol (collectors/frame.h): the parent sends a request frame with the sample
 * number on the child's request pipe; the child runs sample() and answers with a
 * sample frame that says what changed since its last answer, which the parent applies
 * to what it holds of that child (struct sample_answer: lib/sample.h values and
 * statuses), checking every new status ID against the collector's checks; a round
 * merges only the statuses that changed or went away, a new child's first answer whole.
 * Every request has a deadline; a child that misses it is killed (abandoned when
 * it cannot be reaped) and started again later; meanwhile its collector shows the
 * unknown status "<name>.timeout". The parent never blocks on a child.
 * What a collector's sample() uses is in collectors/sample_util.h. */
#pragma once
#include <poll.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "collectors/collector.h"
#include "collectors/frame.h"
#include "lib/sample.h"
#include "collectors/sample_util.h" /* sampler_rescan_ms */

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
        int req_fd;
        struct frame_reader rd; /* the answer pipe */
        uint64_t sent_ms, deadline_ms, respawn_ms;
        uint64_t next_no;       /* the next sample number for this child */
        uint64_t timeout_ms;    /* per request after the first */
        bool answered;          /* it answered since the last round (cur changed) */
        bool baselined;         /* its first answer has been merged */
        unsigned merged;        /* answers merged (counted up to 2) */
        unsigned failures;      /* in a row; sets the restart back-off */
        char *problem;          /* why it is down: "timeout", "crashed" + text */
        bool problem_timeout;
        uint64_t answers, timeouts, crashes, abandoned;
        struct sample_answer cur; /* what it reported: latest values (cur.v, cur.nv) and statuses,
                                     with what changed since the last round's merge */
        int pend[SAMPLE_YOUNG_MAX]; /* processes started since its last request, not sent yet */
        size_t npend;
};

struct watch_status {
        char *id, *subject, *summary;
        char *expected, *actual, *remedy; /* the background check's, where it says them; else NULL */
        enum severity sev;
        size_t owner;      /* index of the sampler that reports it */
        uint64_t since_ms; /* when its severity last changed */
};

struct watch_event {
        uint64_t time_ms;
        char *id, *subject, *summary;
        enum severity sev, prev;
        bool baseline; /* in the collector's first sample, or first reported in its second
                          (what needs two readings: rates, heartbeats) */
        bool fresh;    /* a subject watch had not seen: prev is no earlier verdict ("new") */
        bool gone;     /* no longer reported: it went away or the condition passed */
};

/* The background check: the checks no sampler reports (collector.sampled) are
 * re-run by every selected collector's check() in a child, every every_ms, with a
 * deadline; its findings become statuses like the samplers' (a sampler's own status
 * for the same ID and subject wins), so the screen never shows fewer problems than
 * 'evodiag check' would. The child never blocks sampling: it is polled like a sampler. */
struct watch_check {
        uint64_t every_ms, timeout_ms; /* every_ms 0: off */
        const char *const *only, *const *skip;
        pid_t pid;                     /* -1: not running */
        struct frame_reader rd;
        uint64_t started_ms, deadline_ms, next_ms;
        json_object *pending;          /* a result not merged yet: [[id, subject, sev, summary], ...] */
        unsigned runs, failures;
        char *problem;                 /* why the last run failed, until one succeeds */
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
        struct watch_check chk; /* its statuses' owner is n (after the samplers) */
        struct pidwatch pids;   /* /proc listed once per round for every sampler (new processes) */
};

/* The samplers of the selected collectors that have sample(). The collector
 * timeout ([name] timeout, else def_timeout_ms) caps every request's deadline. */
void watch_init(struct watch *w, const struct ctx *base, uint64_t interval_ms, const char *const *only,
                const char *const *skip, uint64_t def_timeout_ms);
/* Turns the background check on: every every_ms (0: off), each run bounded by
 * timeout_ms; only/skip select the collectors as for check (kept by pointer). */
void watch_check_every(struct watch *w, uint64_t every_ms, uint64_t timeout_ms, const char *const *only, const char *const *skip);
/* Starts stopped samplers whose restart time has come and sends a request to
 * every idle one; starts the background check when it is due. */
void watch_request(struct watch *w, uint64_t now);
/* The pollfds to wait on (at most w->n + 1: the samplers, the background check; which[]
 * is n for the check) and the earliest deadline (UINT64_MAX if none). */
size_t watch_pollfds(struct watch *w, struct pollfd *pfd, size_t *which, uint64_t *deadline);
/* Reads what is readable and kills children past their deadline. */
void watch_service(struct watch *w, const struct pollfd *pfd, const size_t *which, size_t np, uint64_t now);
/* True when no request is outstanding. */
bool watch_settled(const struct watch *w);
/* Merges the answers that came since the last round into the statuses; returns
 * the events (caller frees with watch_events_free) and, in *fresh (*nfresh), the
 * values of the collectors that answered: an array the caller frees, whose strings
 * stay valid until the next watch_service() or watch_round(). */
struct watch_event *watch_round(struct watch *w, uint64_t time_ms, size_t *nev, struct svalue **fresh, size_t *nfresh);
void watch_events_free(struct watch_event *e, size_t n);
/* All current statuses as a JSON array, worst first. */
json_object *watch_statuses_json(const struct watch *w);
/* All latest values (also of collectors that did not answer this round), as
 * lib/sample.h objects. */
json_object *watch_values_json(const struct watch *w);
/* Kills and reaps every child. */
void watch_stop(struct watch *w);
void watch_free(struct watch *w);
/* The event as a JSON line object ({"type":"event",...}). */
json_object *watch_event_json(const struct watch_event *e);
/* "2026-11-21T23:00:00Z" (seconds) or with milliseconds. */
void watch_time(uint64_t ms, bool millis, char buf[static 40]);
