/* The verbs. cmd/main.c holds the one table; each verb lives in cmd/<verb>.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "collectors/collector.h"
#include "lib/conffile.h"

#define EXIT_USAGE 3
/* A bundle's deadlines unless the command line or the config says otherwise:
 * evodiag bundle's and those watch --bundle-on makes. */
#define BUNDLE_TIMEOUT_MS 120000
#define BUNDLE_COLLECTOR_TIMEOUT_MS 15000

int cmd_check(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* Hidden verbs (cmd/doc.c): roff for the man pages, lists for the shell completions. */
int cmd_doc(int argc, char **argv);
int cmd_complete(int argc, char **argv);

/* The verbs' option tables (cmd/<verb>.c), and the one table of verbs (cmd/main.c),
 * terminated by {0}: --help, the man pages and the completions come from them. */
struct verb_spec;
extern const struct verb_spec check_verb, bundle_verb, watch_verb, list_verb, explain_verb, version_verb;
struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
        const struct verb_spec *spec;
};
extern const struct verb verbs[];

/* Errors follow the output format: main() scans argv for --json / --format first, and
 * at exit prints the first error as a JSON document or an "EVODIAG UNKNOWN - why" line
 * when the verb wrote no document of its own (output_document_written). */
void errors_follow_format(int argc, char **argv);
void output_document_written(void);
int errors_finish(int rc);

/* Errors on stderr as "evodiag: <what>: <why>". */
void err(const char *fmt, ...) PRINTF(1, 2);
/* A usage error: the message, a pointer to the verb's --help, exit code 3. */
int usage_error(const char *verb, const char *fmt, ...) PRINTF(2, 3);

struct verb_spec; /* cmd/options.h: a verb's options and defaults */

/* What every verb that runs collectors shares: the common options (cmd/options.h)
 * and what common_setup() makes of them. */
struct common {
        const struct verb_spec *verb;
        char **only, **skip;  /* NULL-terminated, or NULL */
        const char *only_from, *skip_from; /* where they came from ("--only", "[evodiag] skip"), for messages */
        const char *root;
        const char *config_path;
        bool config_given;
        uint64_t timeout_ms;           /* whole run */
        uint64_t collector_timeout_ms; /* each collector */
        unsigned parallel;             /* collectors at once ([evodiag] parallel) */
        int verbose;
        bool allow_intrusive;
        const char *color;             /* --color: "auto", "always", "never"; NULL: auto */
        const char *pids;              /* --pid: [perf] pids from the command line */
        struct config cfg;
        struct ctx ctx;
        /* The journal collector's sources and window from the command line: set as
         * [journal] dirs, files, since, until (they win over the config file). */
        struct strbuf journal_dirs, journal_files;
        const char *since, *until;
};

/* --color WHEN (NULL: auto): "auto" means colour only on a terminal whose TERM is
 * set and not "dumb", and only when NO_COLOR is unset or empty (no-color.org). */
bool color_wanted(const char *when, int fd);

/* Splits "a,b,c" into a NULL-terminated vector, checking every name is a collector;
 * a list that names none ("", ",") is a usage error. `what` ("--only", "[evodiag] only")
 * is named in the messages. */
int parse_collector_list(const char *verb, const char *what, const char *arg, char ***out);
/* Frees a NULL-terminated vector such as parse_collector_list's (NULL is fine). */
void strv_free(char **v);
/* Loads and validates the config, applies [evodiag] defaults, then the verb's own
 * (the command line wins over both), sets the root, moves to housekeeping CPUs.
 * Returns 0 or an exit code. */
int common_setup(struct common *c);
void common_free(struct common *c);
/* Where ISSUE.md templates are: $EVODIAG_TEMPLATES, the source tree's for a binary
 * still in its build tree, else the installed ones. */
char *evodiag_templates_dir(void);
/* The host name of the inspected system (root-aware): read in a child under the
 * collector timeout (bounded by --timeout), regular files only; "unknown" when
 * there is none or it took too long. */
char *inspected_hostname(const struct common *c);
