/* Renders the findings of a run. Collectors never print; everything a user sees
 * about findings goes through here. */
#pragma once
#include <stdio.h>
#include "collectors/runner.h"

#define REPORT_SCHEMA 1

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
};

enum format { FMT_TEXT, FMT_JSON, FMT_NAGIOS, FMT_PROMETHEUS };
int format_from_name(const char *name, enum format *out);

enum severity report_worst(const struct report *rep);
int report_exit_code(const struct report *rep);
void report_count(const struct report *rep, size_t counts[_SEV_MAX]);

void report_text(FILE *out, const struct report *rep, bool color, int verbose);
json_object *report_to_json(const struct report *rep);
void report_json(FILE *out, const struct report *rep);
void report_nagios(FILE *out, const struct report *rep);
void report_prometheus(FILE *out, const struct report *rep);
void report_render(FILE *out, enum format fmt, const struct report *rep, bool color, int verbose);

/* ISO 8601 UTC of a realtime ms timestamp. */
void format_utc(uint64_t ms, char buf[static 32]);
