/* A finding: one verdict of one check, with what was expected, what was found,
 * the remedy and the evidence it came from. Collectors add them; report/ renders. */
#pragma once
#include <json-c/json.h>
#include <stddef.h>
#include "lib/util.h"

/* Ordered by how bad they are: the enum value is the rank for "worst first". */
enum severity {
        SEV_SKIPPED,
        SEV_OK,
        SEV_INFO,
        SEV_UNKNOWN,
        SEV_WARN,
        SEV_CRIT,
        _SEV_MAX,
};

struct finding {
        char *id;        /* stable dotted ID: "shm.orphaned" */
        enum severity sev;
        char *summary;   /* one line, what is the matter */
        char *expected;
        char *actual;
        char *remedy;    /* a command where one exists */
        char *evidence;  /* file or source it came from */
        char *subject;   /* what it is about (segment, pid, IRQ): lets one ID fire for several things */
        char *measure;   /* the value the check's threshold compared, for monitoring systems: a
                            gauge key of report/prometheus.c ("fds.system_used_ratio"), or NULL */
        double value;    /* its value (in the unit the key names) */
};

struct findings {
        struct finding *v;
        size_t n, cap;
};

const char *severity_name(enum severity s);
int severity_from_name(const char *name, enum severity *out);
/* Monitoring-plugins exit code of the worst severity: crit 2, warn 1, unknown 3, else 0. */
int severity_exit_code(enum severity worst);

/* Adds a finding and returns it so the optional fields can be set. */
struct finding *fnd_add(struct findings *fs, enum severity sev, const char *id,
                        const char *fmt, ...) PRINTF(4, 5);
void fnd_expected(struct finding *f, const char *fmt, ...) PRINTF(2, 3);
void fnd_actual(struct finding *f, const char *fmt, ...) PRINTF(2, 3);
void fnd_remedy(struct finding *f, const char *fmt, ...) PRINTF(2, 3);
void fnd_evidence(struct finding *f, const char *fmt, ...) PRINTF(2, 3);
void fnd_subject(struct finding *f, const char *fmt, ...) PRINTF(2, 3);
/* The measured value behind the verdict (key: "<collector>.<what>_<unit>", lower case,
 * digits and '_'); a value that is not finite is not recorded. */
void fnd_measure(struct finding *f, const char *key, double value);
/* A measure key as fnd_measure takes it: [a-z][a-z0-9_]*.[a-z0-9_]+, at most 64 bytes. */
bool measure_key_valid(const char *key);

enum severity findings_worst(const struct findings *fs);
/* Keeps only the findings with this ID (frees the others); returns how many remain. */
size_t findings_keep_id(struct findings *fs, const char *id);
void findings_free(struct findings *fs);
/* Removes (and frees) the findings drop() says yes to, keeping the others in order;
 * returns how many went. */
size_t findings_drop(struct findings *fs, bool (*drop)(const struct finding *f, void *arg), void *arg);
/* Moves every finding of src to the end of dst. */
void findings_move(struct findings *dst, struct findings *src);

json_object *finding_to_json(const struct finding *f);
json_object *findings_to_json(const struct findings *fs);
/* Appends the findings of a JSON array made by findings_to_json; -EINVAL on a bad shape. */
int findings_from_json(struct findings *fs, json_object *arr);
