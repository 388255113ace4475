/* The Prometheus text exposition format (version 0.0.4: what node_exporter, LavinMQ's
 * and RabbitMQ's /metrics and the SNN service serve), parsed strictly and within limits.
 * Debian has no C library that reads it (prometheus-cpp only writes it), so this is
 * the one reader; every collector that scrapes metrics uses it.
 *
 * A line is empty, a comment ("# TYPE name counter|gauge|histogram|summary|untyped",
 * "# HELP name text", any other "# ..."), or a sample:
 *     name [{label="value", ...}] value [timestamp_ms]
 * with name [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, label values
 * with the escapes \\ \" \n only, the value a decimal float or NaN/Inf/+Inf/-Inf (any
 * case, as Go's ParseFloat: Prometheus reads them so), the timestamp a whole number.
 * Blanks (spaces, tabs) may stand between tokens; a trailing \r is ignored.
 * A line that breaks a rule or a limit is not a sample: it is listed in `bad` with
 * its number, the metric name where the line starts with one, and why. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum prom_type { PROM_UNTYPED = 0, PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY };

struct prom_label {
        const char *name;
        const char *value; /* unescaped */
};

struct prom_series {
        const char *name;
        const struct prom_label *labels;
        size_t nlabels;
        double value;          /* NaN and +-Inf as written */
        bool has_timestamp;
        int64_t timestamp_ms;
        enum prom_type type;   /* from the family's # TYPE line (name, or name_bucket/_sum/_count) */
        size_t line;           /* 1-based */
};

struct prom_bad {
        size_t line;
        const char *name; /* the metric name the line starts with; NULL when it does not */
        const char *why;  /* "not a number", "unterminated label value", ... (static text) */
};

struct prom_limits {
        size_t line_max;        /* bytes in one line (without its newline) */
        size_t series_max;      /* samples kept; later sample lines are counted in `cut` */
        size_t labels_max;      /* labels of one sample */
        size_t label_value_max; /* bytes of one label value, unescaped */
};
/* 16 KiB lines, 100,000 series, 64 labels, 4 KiB label values. */
extern const struct prom_limits prom_limits_default;

struct prom_text {
        struct prom_series *v; /* in the text's order */
        size_t n;
        struct prom_bad *bad;  /* the first series_max bad lines, in order */
        size_t nbad;
        size_t bad_total;      /* all of them */
        size_t cut;            /* sample lines past series_max, not parsed */
        size_t lines;
        /* storage the pointers above point into */
        char *buf_;
        struct prom_label *labels_;
};

/* Parses len bytes of text (NULs inside are bad lines, never the end). lim NULL means
 * prom_limits_default. Always fills *out (free it with prom_text_free); returns 0, or
 * -EINVAL when a limit is 0. */
int prom_text_parse(const char *text, size_t len, const struct prom_limits *lim, struct prom_text *out);
void prom_text_free(struct prom_text *t);

/* The next series called name after *pos (start with *pos = 0), or NULL. */
const struct prom_series *prom_text_next(const struct prom_text *t, const char *name, size_t *pos);
/* The value of a label, or NULL. */
const char *prom_label_value(const struct prom_series *s, const char *label);
/* The first line that names `name`, with or without labels: 0 and its value when it is
 * a sample; -EINVAL with *why when it is a bad line (a value that is not a number, a
 * broken label); -ENOENT when no line names it. why may be NULL. */
int prom_text_value(const struct prom_text *t, const char *name, double *out, const char **why);
const char *prom_type_name(enum prom_type type);

/* histogram_quantile(q, sum by (le) (name_bucket)) as PromQL computes it: the
 * name_bucket series are summed per upper bound `le` over every other label, sorted,
 * made monotonic, and the q-quantile (0 <= q <= 1) is interpolated linearly within
 * its bucket (from 0 in the first bucket; the +Inf bucket gives the highest finite
 * bound). At most PROM_BUCKETS_MAX distinct bounds. Returns 0 with *out (NaN when
 * there are no observations, like PromQL); -ENOENT when there is no name_bucket
 * series; -EINVAL (with *why, static text) when the buckets cannot give a quantile:
 * an le that is not a number, no +Inf bucket, fewer than two bounds, too many.
 * *count (may be NULL) gets the observations (the +Inf bucket). why may be NULL. */
#define PROM_BUCKETS_MAX 4096
int prom_histogram_quantile(const struct prom_text *t, const char *name, double q, double *out, double *count,
                            const char **why);
