/* evodiag watch's command (cmd/watch.c) and its parts: the background bundles
 * (cmd/watch_bundle.c) and --replay's option parsing (cmd/watch_replay.c). */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cmd/cmd.h"
#include "collectors/sampler.h"
#include "report/prometheus.h"
#include "report/recorder.h"

#define EVENTS_KEPT 200         /* event lines the screen keeps */

struct watchview;

/* A bundle made in the background (--bundle-on). */
struct bundle_job {
        pid_t pid;
        char *id, *path;
        enum severity sev;
        int why_fd; /* the child writes why the bundle is incomplete here, -1 when none */
};

/* The state of one run. */
struct run {
        struct common *c;
        struct watch w;
        const char *host;
        bool json, tty;
        struct watchview *view;
        struct recorder *rec;
        const char *textfile;
        struct prom_textfile tf; /* report/prometheus.c writes it */
        enum severity bundle_on; /* SEV_SKIPPED: off */
        const char *bundle_dir;
        uint64_t cooldown_ms;
        uint64_t last_bundle_ms;  /* monotonic, when the last bundle started; 0: none yet */
        struct bundle_job *jobs;
        size_t njobs;
        uint64_t events_total;
        char *evline[EVENTS_KEPT];
        enum severity evsev[EVENTS_KEPT];
        size_t nev;
        char **argv;
        int argc;
        char *problems; /* the last recording/textfile error, shown once */
};

/* cmd/watch.c: a line for everyone who reads (the screen's event list, stdout, or
 * JSON); a recording/textfile problem, shown once; a note (bundle, stop) recorded
 * and shown like an event. */
void emit_item(struct run *r, json_object *item, enum severity sev);
void problem(struct run *r, const char *fmt, ...) PRINTF(2, 3);
void note(struct run *r, uint64_t t, const char *kind, json_object *extra, const char *fmt, ...) PRINTF(5, 6);

/* cmd/watch_bundle.c: on the round's events worth a bundle, one in the background
 * (one at a time, one per cooldown); reaping the finished ones (wait_all: at exit). */
void maybe_bundle(struct run *r, const struct watch_event *ev, size_t nev);
void reap_bundles(struct run *r, bool wait_all);

/* cmd/watch_replay.c: --since/--until (an ISO 8601 time in UTC, or a duration before
 * now), --id (check IDs, collectors, a sampler's own "<collector>.timeout|crashed"),
 * and the replay itself (its exit status). */
int watch_parse_when(const char *arg, uint64_t *ms);
int watch_parse_ids(const char *arg, char ***out);
int watch_replay(const char *path, bool json, const struct replay_filter *f);
