/* Options of the verbs, the way git's parse-options and the kernel's tools/lib/subcmd
 * do it: a verb declares its own options in a table and names the common ones it takes;
 * one parser (getopt_long over the merged table) handles both, and the verb's --help is
 * generated from the same tables, so what --help lists is what the parser accepts. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>

struct common;

/* The common options (one table in cmd/options.c): what a verb that takes one means
 * by it is the same everywhere. -h, --help is taken by every verb. */
enum common_opt {
        COMMON_ONLY_SKIP = 1 << 0,         /* --only A,B and --skip A,B */
        COMMON_ROOT = 1 << 1,              /* --root DIR */
        COMMON_CONFIG = 1 << 2,            /* --config FILE */
        COMMON_TIMEOUT = 1 << 3,           /* --timeout DUR: the whole run */
        COMMON_COLLECTOR_TIMEOUT = 1 << 4, /* --collector-timeout DUR: each collector */
        COMMON_ALLOW_INTRUSIVE = 1 << 5,   /* --allow-intrusive */
        COMMON_COLOR = 1 << 6,             /* --color WHEN */
        COMMON_VERBOSE = 1 << 7,           /* -v, --verbose */
        COMMON_PID = 1 << 8,               /* --pid PID,...: the perf collector's processes */
        COMMON_JOURNAL = 1 << 9,           /* --journal-dir DIR, --journal-file FILE (repeatable) */
};

/* One option of a verb. `key` is what opts_next() returns for it: a letter is also the
 * short option (-o), a long-only option takes a value from OPTS_OWN up. */
struct opt {
        const char *name; /* long name, without "--" */
        int key;
        const char *arg;  /* what its value is, for --help ("DIR", "DUR"); NULL: a flag */
        const char *help; /* for --help; a '\n' continues on the next line */
};
#define OPTS_OWN 0x200

struct verb_spec {
        const char *name;
        const char *synopsis; /* after "Usage: evodiag NAME "; more forms: '\n' + NAME ... */
        const char *about;    /* --help: what the verb does, before the options */
        const struct opt *opts; /* its own options, terminated by {0}; may be NULL */
        unsigned common;        /* the COMMON_* it takes */
        bool args;              /* takes arguments after the options (explain's IDs) */
        uint64_t timeout_ms, collector_timeout_ms; /* its defaults, after the config's */
        const char *epilogue;   /* --help: after the options (exit status, examples) */
};

/* The deadlines a verb runs under when neither the command line nor the config sets them. */
static inline uint64_t common_timeout_ms(const struct verb_spec *v) { return v->timeout_ms ? v->timeout_ms : 30000; }
static inline uint64_t common_collector_timeout_ms(const struct verb_spec *v)
{
        return v->collector_timeout_ms ? v->collector_timeout_ms : 5000;
}

#define OPTS_MAX 48

struct opts {
        const struct verb_spec *verb;
        struct common *c;
        int argc;
        char **argv;
        const char *arg; /* the value of the option opts_next() returned, or NULL */
        int rc;          /* after opts_next() returned -1: the verb's exit code */
        int next_arg;    /* after opts_next() returned 0: argv index of the first argument */
        struct option lo[OPTS_MAX + 1];
        char so[2 * OPTS_MAX + 2];
};

/* Prepares parsing argv (argv[0] is the verb) for verb v; common options go into *c. */
void opts_init(struct opts *p, const struct verb_spec *v, struct common *c, int argc, char **argv);
/* The key of the verb's next own option (its value in p->arg), 0 when the options are
 * done (arguments start at p->next_arg), or -1 when the verb must return p->rc: --help
 * was printed (0) or a usage error was reported (3). Common options are stored in the
 * struct common and never returned. */
int opts_next(struct opts *p);
/* The verb's --help, generated from its table and the common table. */
void opts_help(const struct verb_spec *v, FILE *out);
/* Every option verb v takes, in --help's order: its own (common false), then the common
 * ones it takes, with def " (default 30s)" for the deadlines, else "". For the man pages
 * and the shell completions (cmd/doc.c), so they list what the parser accepts. */
void opts_each(const struct verb_spec *v, void (*fn)(const struct opt *o, bool common, const char *def, void *arg), void *arg);
/* --color's values, NULL-terminated. */
extern const char *const color_whens[];
