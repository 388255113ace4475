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
        INTRUSIVE = 1 << 1,  /* signals, requests or locks: only with --allow-intrusive */
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

/* A tunable of a collector, settable in the config file under [<collector>]. */
struct config_key {
        const char *key;
        const char *def;  /* default, as text */
        const char *help;
};

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
        void *state;          /* watch: kept between sample() calls in the sampler child */
        uint64_t interval_ms; /* watch: the sampling interval */
        uint64_t sample_no;   /* watch: 0 for the first sample, then 1, 2, ... */
};

struct collector {
        const char *name, *summary;
        unsigned needs;
        const struct check_info *checks;    /* terminated by {0} */
        const struct config_key *config;    /* terminated by {0}; may be NULL */
        bool (*detect)(struct ctx *);       /* relevant here? NULL = always */
        void (*check)(struct ctx *, struct findings *);
        void (*collect)(struct ctx *, struct bundle_sink *);
        void (*sample)(struct ctx *, struct sample *);
};

extern const struct collector *const collectors[];
const struct collector *collector_find(const char *name);
/* The check_info of a finding ID (any collector), or NULL. */
const struct check_info *check_find(const char *id, const struct collector **owner);

/* The collector's tunable `key`: the config file's value, else the declared default.
 * Asking for an undeclared key is a programming error (aborts in tests). */
const char *conf_str(const struct ctx *c, const char *key);
double conf_num(const struct ctx *c, const char *key);

/* The usual not-root finding: `id` skipped, saying what root would have shown. */
void skip_not_root(struct findings *fs, const char *id, const char *what);
