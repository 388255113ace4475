/* Renders the findings of a run. Collectors never print; everything a user sees
 * about findings goes through here. */
#pragma once
#include <stdio.h>
#include "collectors/runner.h"
#include "lib/escape.h"

#define REPORT_SCHEMA 1

/* check --from: the bundle the run re-checked, and how its findings compare. */
struct report_from {
        const char *bundle;     /* as given */
        const char *host;       /* the bundle's host */
        const char *captured;   /* when the bundle was made (its manifest's start) */
        const char *problem;    /* its findings could not be compared: why; NULL otherwise */
        size_t agree, differ;   /* collectors whose findings are the same / differ */
        char **differing;       /* the names of those that differ, NULL-terminated */
};

struct report {
        const char *host;
        const char *root;      /* "/" or --root / --from directory */
        uint64_t started_ms;   /* realtime */
        uint64_t duration_ms;
        struct run_result *r;
        size_t n;
        char **errors;         /* run-level errors (also printed on stderr) */
        size_t nerr;
        size_t ignored;        /* findings [ignore] left out (not in r[], not in the verdict) */
        const struct report_from *from; /* check --from, else NULL */
};

/* How a report is shown: colour (cmd/ decides: --color, NO_COLOR, TERM, a TTY),
 * ASCII only (a locale that is not UTF-8), -v, -q (the problems and the summary). */
struct render_opts {
        bool color, ascii, problems_only;
        int verbose;
};

enum format { FMT_TEXT, FMT_JSON, FMT_NAGIOS, FMT_PROMETHEUS };
int format_from_name(const char *name, enum format *out);

enum severity report_worst(const struct report *rep);
int report_exit_code(const struct report *rep);
void report_count(const struct report *rep, size_t counts[_SEV_MAX]);

void report_text(FILE *out, const struct report *rep, bool color, int verbose);
void report_text_ex(FILE *out, const struct report *rep, const struct render_opts *o);
json_object *report_to_json(const struct report *rep);
/* The same document as json_text(report_to_json(rep) + extra's keys, flags) (with
 * JSON_C_TO_STRING_PRETTY), handed to put piece by piece: one finding's tree in memory
 * at a time (a bundle of 10,000 findings: findings.json). */
void report_json_write(const struct report *rep, json_object *extra, int flags, json_put_fn *put, void *put_arg);
void report_json(FILE *out, const struct report *rep);
void report_nagios(FILE *out, const struct report *rep);
void report_prometheus(FILE *out, const struct report *rep);
/* The i-th format's name ("text", "json", ...), NULL past the last: --format's values. */
const char *format_name(size_t i);
void report_render(FILE *out, enum format fmt, const struct report *rep, const struct render_opts *o);

/* ISO 8601 UTC of a realtime ms timestamp. */
void format_utc(uint64_t ms, char buf[static 32]);
