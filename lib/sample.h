/* evodiag watch: what a collector's sample() reports each interval. Values are
 * numbers to plot and record (MemAvailable, heartbeat Hz); statuses are verdicts
 * like findings, and a change of a status's severity is an event. */
#pragma once
#include <json-c/json.h>
#include "lib/finding.h"

struct sample {
        json_object *values;   /* [{"key","subject","value","unit"}] */
        json_object *statuses; /* [{"id","subject","severity","summary"}] */
};

void sample_init(struct sample *s);
void sample_free(struct sample *s);
/* key: dotted like a check ID ("memory.available_bytes"); subject may be NULL. */
void sample_value(struct sample *s, const char *key, const char *subject, double value, const char *unit);
void sample_status(struct sample *s, const char *id, const char *subject, enum severity sev, const char *fmt, ...)
        PRINTF(5, 6);
/* The sample as one JSON object {"values":[...],"statuses":[...]}; the caller owns it. */
json_object *sample_to_json(struct sample *s);
