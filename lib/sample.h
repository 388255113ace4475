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
/* Units are spelled one way in every output: "bytes" (not "B"), "seconds", "Hz", "%";
 * sample_value() applies it. */
const char *unit_canonical(const char *unit);
void sample_status(struct sample *s, const char *id, const char *subject, enum severity sev, const char *fmt, ...)
        PRINTF(5, 6);
/* The sample as one JSON object {"values":[...],"statuses":[...]}; the caller owns it. */
json_object *sample_to_json(struct sample *s);

/* A value and a status once read (watch's parent, the recorder): the strings belong
 * to whatever holds the decoded form; subject and unit may be NULL. */
struct svalue {
        const char *key, *subject, *unit;
        double value;
};
struct sstatus {
        const char *id, *subject, *summary;
        enum severity sev;
};
/* The one JSON form of a value: {"key","subject","value","unit"} (no subject or unit
 * when NULL). sample_value() makes it, `watch --json` prints it, recorder_sample() reads it. */
json_object *svalue_to_json(const struct svalue *v);
/* Reads that form: false unless o is an object with a string "key" and a number "value". */
bool svalue_from_json(json_object *o, struct svalue *v);
