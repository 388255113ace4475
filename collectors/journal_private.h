/* journal collector: what its parts (check, bundle, watch) share. */
#pragma once
#include "collectors/collector.h"
#include "collectors/journal.h"
#include "lib/journal.h"

/* Where a bundle stores the entries the verdicts came from (under host/, so that
 * `check --from` finds them under its root) and, for people, in collectors/journal/. */
#define JOURNAL_EVIDENCE_PATH "/var/log/journal/evodiag-evidence.jsonl"
#define JOURNAL_EVIDENCE_MAX (8u << 20)

/* The collector's settings, read once from its config keys. */
struct jconf {
        const char *units;      /* comma list of component units */
        const char *components; /* comma list of component process names (OOM victims) */
        const char *log_files;  /* comma list of paths, '*' allowed in the last component */
        const char *owned_log;  /* [mediator] log: the mediator collector reads and counts it, not this one */
        uint64_t log_tail;      /* bytes read from the end of each log file */
        uint64_t since_us, until_us;
        bool since_bad, until_bad;
        struct journal_window w;
        uint64_t max_matches;
        unsigned samples;
        char *dirs[33], *files[33]; /* NULL-terminated, from the comma lists */
};
/* "a, b,c" into out (allocated strings, NULL-terminated), max words at most. */
void jsplit_list(const char *list, char **out, size_t max);
void jconf_read(struct ctx *c, struct jconf *cf);
/* A CONF_SIZE key in bytes. */
uint64_t jconf_size(struct ctx *c, const char *key);
void jconf_free(struct jconf *cf);
/* Opens the journal the settings name (lib/journal.h). */
int jconf_open(const struct jconf *cf, struct journal **j);
/* Adds the matches: every configured unit, OR the kernel. */
void jconf_match(const struct jconf *cf, struct journal *j);

/* The sources a line is from, for the pattern table (enum jscope); 0: none of ours. */
unsigned jentry_scope(const struct jentry *e, const char *units);
/* Reads the current journal entry into e (no cursor). */
void jentry_from_journal(struct journal *j, struct jentry *e);
/* The kernel ring buffer (/dev/kmsg, non-blocking, live system, root): fn per record
 * in the window, up to max records. Returns the records read, or -errno. With
 * from_end the fd is left at the end and returned in *keep_fd for watch. */
long jkmsg_read(uint64_t since_us, uint64_t until_us, uint64_t max, int (*fn)(void *, const struct jentry *), void *arg);

/* The checked verdicts and evidence of the last check() in this process: the bundle's
 * collect() stores what check() saw. */
struct strbuf *journal_evidence(void);
/* Component log file i of the configured list: path(s) expanded through the root. */
typedef int (*jline_fn)(void *arg, const struct jentry *e);
/* Tail-reads every configured log file (log_tail bytes each), fn per line. Adds a
 * problem line per file to *problems (unreadable, not a regular file). */
void jlogs_read(const struct jconf *cf, jline_fn fn, void *arg, struct strbuf *files, struct strbuf *problems);

void journal_collect(struct ctx *c, struct bundle_sink *s);
void journal_sample(struct ctx *c, struct sample *s);
void journal_free_state(void *state);
