/* The collector interface. A collector is one `const struct collector` in
 * collectors/<name>.c, listed once in collectors/registry.c. It reads the host
 * through lib/rootfs.h (so --root and bundles work), reports through findings,
 * and never prints: report/ owns every output format. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/rootfs.h"
#include "lib/util.h"

enum collector_needs {
        NEEDS_ROOT = 1 << 0, /* most of its checks need root; as non-root they are skipped */
        INTRUSIVE = 1 << 1,  /* signals, requests or locks: only with --allow-intrusive, each action
                                through lib/intrusive.h's pre- and post-check, reported with sink_intrusive() */
        SLOW = 1 << 2,       /* may take seconds (gets a longer default deadline) */
};

/* One check a collector can report: its ID and the long text `evodiag explain ID` prints. */
struct check_info {
        const char *id;
        const char *title;
        const char *explain; /* what it means, why it matters, how to fix it */
        bool live;           /* needs the running system (statvfs, sockets, signals): a
                                bundle's evidence cannot reproduce it, `check --from` skips it */
};

/* The type of a tunable: its value is checked against it (and its range) when the
 * config file is loaded, so a collector never sees a value it cannot use. */
enum conf_type {
        CONF_STRING = 1, /* free text (paths, URLs, names) */
        CONF_UINT,       /* a whole number in [min, max] */
        CONF_PERCENT,    /* a number in [0, 100] */
        CONF_LIST,       /* comma-separated words */
        CONF_DURATION,   /* "500ms", "3s", "2m", "1h2m"; > 0 */
        CONF_SIZE,       /* "64M", "1.5G", "512k" or bytes */
};

/* A tunable of a collector, settable in the config file under [<collector>]. */
struct config_key {
        const char *key;
        const char *def; /* default, as text (it passes its own type and range: a unit test checks) */
        const char *help;
        enum conf_type type;
        double min, max; /* CONF_UINT: the accepted range */
        /* More than the type: what the value must say (NULL: the type is all). Returns 0,
         * or -EINVAL with why in *why. */
        int (*check)(const char *value, char **why);
};
#define CONF_STR(k, d, h) {.key = (k), .def = (d), .help = (h), .type = CONF_STRING}
#define CONF_LIST(k, d, h) {.key = (k), .def = (d), .help = (h), .type = CONF_LIST}
#define CONF_PCT(k, d, h) {.key = (k), .def = (d), .help = (h), .type = CONF_PERCENT, .min = 0, .max = 100}
#define CONF_UINT(k, d, lo, hi, h) {.key = (k), .def = (d), .help = (h), .type = CONF_UINT, .min = (lo), .max = (hi)}
#define CONF_DURATION(k, d, h) {.key = (k), .def = (d), .help = (h), .type = CONF_DURATION}
#define CONF_SIZE(k, d, h) {.key = (k), .def = (d), .help = (h), .type = CONF_SIZE}

struct config;
struct bundle_sink; /* the bundle writer (evodiag bundle): collectors/sink.h */
struct sample;      /* one watch sample (evodiag watch): lib/sample.h */

struct ctx {
        const struct collector *self; /* the collector running in this child */
        const struct config *cfg;
        bool is_root;         /* effective uid 0 */
        bool allow_intrusive; /* --allow-intrusive */
        int verbose;
        uint64_t deadline_ms; /* CLOCK_MONOTONIC ms when the runner kills this child:
                                 long scans stop before it and report what they saw */
        void *state;          /* watch: kept between sample() calls in the sampler child;
                                 the collector's free_state releases it */
        uint64_t interval_ms; /* watch: the sampling interval */
        uint64_t sample_no;   /* watch: 0 for the first sample, then 1, 2, ... */
        const int *new_pids;  /* watch: processes started since the last sample, as watch listed
                                 /proc once for every sampler (sample_util.h's pidwatch) */
        size_t n_new_pids;
        bool new_pids_known;  /* false: none given, pidwatch lists /proc itself */
};

struct collector {
        const char *name, *summary;
        unsigned needs;
        const struct check_info *checks;    /* terminated by {0} */
        const struct config_key *config;    /* terminated by {0}; may be NULL */
        bool (*detect)(struct ctx *);       /* relevant here? NULL = always */
        const char *absent;                 /* with detect: what its absence looks like ("no /dev/shm/evo_*
                                               entry"), said when it is not relevant or expected and missing */
        const char *absent_remedy;          /* with detect: what to do when [expect] components names it and
                                               it is not there (the component's guide) */
        void (*check)(struct ctx *, struct findings *);
        void (*collect)(struct ctx *, struct bundle_sink *);
        void (*sample)(struct ctx *, struct sample *);
        /* The check IDs sample() reports, NULL-terminated: watch judges these every
         * interval (with check()'s verdict functions), and re-runs check() in the
         * background for the rest; 'evodiag list' says which. A sampler that reports
         * another ID is refused. */
        const char *const *sampled;
        /* Frees ctx->state (what sample() kept: open files, tables); the sampler child
         * calls it when watch stops it. NULL when sample() keeps nothing. */
        void (*free_state)(void *state);
};

extern const struct collector *const collectors[];
/* The run itself ("evodiag"): not in collectors[], never run; it owns the findings about
 * the run as a whole (evodiag.nothing_checked), so they can be explained like any other. */
extern const struct collector run_self;
const struct collector *collector_find(const char *name);
/* The engine's own checks, which every collector has as "<collector>.<id>": timeout,
 * crashed (also: sent results that cannot be trusted), findings_cut. */
extern const struct check_info engine_checks[];
/* The check_info of a finding ID: a collector's check, or an engine check of a
 * collector ("memory.timeout"); NULL when neither. */
const struct check_info *check_find(const char *id, const struct collector **owner);
/* May c's child report this ID? One of c->checks, or "<c>.findings_cut" (the child
 * cuts its own findings); timeout and crashed are the parent's to say. */
bool collector_declares(const struct collector *c, const char *id);
/* Does c's sample() report this check ID (c->sampled, or "<c>.findings_cut")? */
bool collector_samples(const struct collector *c, const char *id);

/* What is left of the child's deadline for one wait (a request, a command), keeping
 * reserve_ms (+100 ms) for what comes after: min(want, left), 0 when nothing is left;
 * want when the child has no deadline. */
uint64_t ctx_budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms);

/* The collector's tunable `key`: the config file's value, else the declared default.
 * Asking for an undeclared key is a programming error (aborts in tests). */
const char *conf_str(const struct ctx *c, const char *key);
double conf_num(const struct ctx *c, const char *key);
/* A CONF_UINT (or CONF_PERCENT) value: already checked to lie in the key's range. */
uint64_t conf_uint(const struct ctx *c, const char *key);
/* Another collector's tunable as that collector sees it (the config file's value, else
 * its declared default), for a collector that must ask the same thing the same way (the
 * mediator probes the GPU where [gpu] says); NULL when no collector declares it. */
const char *conf_str_of(const struct ctx *c, const char *collector, const char *key);

/* Checks one value against its key's type and range; on failure returns -EINVAL and
 * says why in *why ("must be a whole number from 1 to 100"). */
int conf_value_check(const struct config_key *k, const char *value, char **why);
/* "whole number 1..1000", "percent", "duration", ... for `evodiag list -v` and the docs. */
const char *conf_type_name(enum conf_type t);

/* Sections of the config file that are not collectors ([evodiag], [watch], [upload]). */
struct config_section {
        const char *name;
        const struct config_key *keys; /* terminated by {0} */
};
/* [evodiag], [watch], [upload], [expect], [ignore]: the sections that are not collectors. */
extern const struct config_section config_run_sections[];
/* The keys every collector's section takes besides its own ([<collector>] timeout). */
extern const struct config_key collector_common[];
struct config;
/* Every section must be one of `extra` or a collector, every key declared once, every
 * value of its type and range. Returns 0, or -EINVAL with "file:line: why" in *err. */
int config_validate(const struct config *cfg, const struct config_section *extra, char **err);

/* The usual not-root finding: `id` skipped, saying what root would have shown. */
void skip_not_root(struct findings *fs, const char *id, const char *what);
