/* Runs collector work in forked children, each under its own deadline, results
 * back over a pipe in frames (collectors/frame.h). A child that overruns is killed;
 * one that cannot be reaped (D state: hung NFS, dead GPU) is abandoned, never waited for. */
#pragma once
#include <json-c/json.h>
#include <stdint.h>
#include "collectors/collector.h"

enum job_status {
        JOB_DONE,      /* child exited 0 with a JSON document (or, framed, with whole frames) */
        JOB_TIMEOUT,   /* past its deadline, killed (or abandoned) */
        JOB_CRASHED,   /* died by a signal, exited non-zero, or sent garbage */
        JOB_NOT_RUN,   /* the global deadline passed before it could start */
};

struct job {
        /* in */
        const char *name;
        json_object *(*fn)(void *arg); /* runs in the child: one JSON document back (a result frame) */
        void *arg;
        uint64_t timeout_ms;
        /* Or framed (collectors/frame.h): the child runs stream(arg, wfd) and writes
         * header-only frames; the parent hands each header to on_frame (<0: the child
         * is not to be trusted: killed, JOB_CRASHED). Memory stays at one frame. */
        void (*stream)(void *arg, int wfd);
        int (*on_frame)(void *frame_arg, json_object *hdr, size_t len);
        void *frame_arg;
        /* out */
        enum job_status status;
        json_object *result; /* JOB_DONE only; caller owns */
        uint64_t duration_ms;
        bool abandoned;      /* still unreaped when we moved on */
        bool run_deadline;   /* TIMEOUT/NOT_RUN because of the run's deadline, not its own timeout_ms */
        char *error;         /* human text for TIMEOUT/CRASHED/NOT_RUN */
};

struct job_opts {
        uint64_t deadline_ms; /* absolute CLOCK_MONOTONIC ms; 0 = none */
        unsigned parallel;    /* children at once */
};

void jobs_run(struct job *jobs, size_t n, const struct job_opts *o);
void job_clear(struct job *j);

/* ---- collectors on top of jobs ---- */
enum run_status {
        RUN_OK,
        RUN_NOT_APPLICABLE, /* detect() said no */
        RUN_NOT_SELECTED,   /* --only/--skip, or intrusive without --allow-intrusive */
        RUN_TIMEOUT,
        RUN_CRASHED,
};

struct run_result {
        const struct collector *c;
        enum run_status status;
        uint64_t duration_ms;
        struct findings fs;
        char *note; /* why not applicable / not selected / crashed */
};

struct run_opts {
        uint64_t deadline_ms;       /* absolute, 0 = none */
        uint64_t default_timeout_ms;
        unsigned parallel;
        const char *const *only;    /* NULL-terminated names, or NULL */
        const char *const *skip;
};

const char *run_status_name(enum run_status s);
/* Runs every registered collector; out has one entry per registry entry. */
void run_collectors(struct ctx *base, const struct run_opts *o, struct run_result *out, size_t *n_out);
void run_results_free(struct run_result *r, size_t n);
/* When no collector ran (each one asked for was not relevant here or not selected):
 * fills *out with the run's own result (run_self) holding evodiag.nothing_checked
 * (unknown: never "ok" when nothing was checked), naming what was asked for and why
 * none applied, and returns true. False (out untouched) when any collector ran. */
bool run_nothing_checked(const struct run_result *r, size_t n, struct run_result *out);
/* r timed out or crashed (r->status, r->note): its one finding, <name>.timeout or
 * <name>.crashed (engine_checks), unknown, added to r->fs. timeout_ms: the collector's
 * own deadline, or 0 when the run's deadline (--timeout) cut it short. */
void run_result_failed(struct run_result *r, uint64_t timeout_ms);
/* Timeout for a collector: [name] timeout in the config, else the run default (SLOW: 4x). */
uint64_t collector_timeout_ms(const struct ctx *base, const struct collector *c, uint64_t def_ms);
