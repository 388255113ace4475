/* coredump collector: what its host-reading files share (coredump_scan.c finds the
 * crashes, coredump.c checks and bundles them, coredump_sample.c watches for new ones). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "collectors/coredump.h"

#define CD_MESSAGE_ID "fc2e22bc6ee647b6b90729ab34a250b1" /* systemd-coredump's records */
#define CD_SYSTEMD_DIR "/var/lib/systemd/coredump"

/* One crash: a journal record, a core file, or both (joined by COREDUMP_FILENAME). */
struct cd_crash {
        struct cd_record rec;
        bool from_journal;
        bool odd_name;     /* in the systemd directory, but not named as systemd-coredump names cores */
        char *core_path;   /* the core file, as on the host; NULL when there is none */
        char *core_why;    /* why there is none */
        uint64_t core_size;
        enum cd_comp comp;
        char *component;   /* the component it is (named so, and root's or the service user's) */
        bool impostor;     /* named like a component, but run by another user */
        char *message_top; /* top frames of systemd-coredump's own MESSAGE, when no core */
        struct cd_bt bt;
        bool bt_done;      /* cd_symbolize ran (bt holds frames or bt.error) */
};

enum cd_dir_from { CD_DIR_SYSTEMD, CD_DIR_PATTERN, CD_DIR_CONFIGURED, CD_DIR_CWD };
struct cd_dir {
        char *path;
        enum cd_dir_from from;
        char *cwd_of;  /* CD_DIR_CWD: "lavinmq pid 300", whose working directory it is */
        bool systemd, exists, cut;
        int err;
        char *error;
        size_t files, old_files;
        uint64_t bytes, old_bytes;
};

#define CD_JOURNAL_PATHS_MAX 32
/* Which journal to read: the system's, or what --journal-dir/--journal-file named
 * (they reach the config as [journal] dirs and files, comma lists: every reader of
 * the journal follows them). */
struct cd_journal_src {
        char *dirs[CD_JOURNAL_PATHS_MAX + 1], *files[CD_JOURNAL_PATHS_MAX + 1];
};

struct cd_scan_opts {
        uint64_t since_us;        /* the window: realtime µs */
        uint64_t deadline_ms;     /* monotonic: work stops before it */
        size_t backtraces;        /* cores symbolized */
        uint64_t max_size, parse_timeout_ms;
        const char *tmp_dir, *core_dirs, *components;
        const struct cd_journal_src *journal;
};

struct cd_scan {
        uint64_t since_us;
        struct cd_crash *v; /* newest first */
        size_t n, cap;
        bool journal_read;
        char *journal_why;  /* why no records could be read */
        char *journal_cut;  /* a bound cut the reading: which */
        size_t untrusted;   /* records not written by systemd-coredump: ignored */
        unsigned *untrusted_uids;
        size_t nuntrusted_uids;
        struct cd_dir *dirs;
        size_t ndirs;
        struct cd_pattern pattern;
        char *pattern_text; /* kernel.core_pattern as read, for messages */
        int pattern_err;
        char *cwd_note;     /* a relative pattern: why a component's working directory was not searched */
};

void cd_scan(struct cd_scan *s, const struct cd_scan_opts *o);
/* Only the core files (and core_pattern): what watch lists every interval (cd_scan also
 * lists, for a relative core_pattern, the working directories of the running components
 * lib/trust vouches for, at most CD_CWD_DIRS_MAX of them). */
#define CD_CWD_DIRS_MAX 8
void cd_scan_dirs(struct cd_scan *s, const struct cd_scan_opts *o);
/* Sets c->component (or c->impostor) from its names and uid. */
void cd_classify(struct cd_crash *c, const char *components);
/* Who may write coredump records: root, and the systemd-coredump user where it exists. */
struct cd_writer {
        bool have_uid;
        unsigned uid;
};
void cd_writer_init(struct cd_writer *w);
/* The journal's current entry as a crash; false (with *bad_uid, (unsigned)-1 when
 * unknown) when someone other than systemd-coredump wrote it. */
struct journal;
bool cd_journal_crash(struct journal *j, const struct cd_writer *w, struct cd_crash *c, unsigned *bad_uid);
void cd_scan_free(struct cd_scan *s);
void cd_crash_free(struct cd_crash *c);
/* The backtrace of c's core (once), within timeout_ms. */
void cd_symbolize(struct cd_crash *c, const struct cd_scan_opts *o, uint64_t timeout_ms);

/* The options from the collector's config and the run; src is filled and pointed to
 * (free it with cd_journal_src_free). */
struct ctx;
void cd_opts(const struct ctx *c, struct cd_scan_opts *o, struct cd_journal_src *src);
void cd_journal_src_free(struct cd_journal_src *src);
/* The journal_opts of src (NULL: the system journal). */
struct journal_opts;
void cd_journal_opts(const struct cd_journal_src *src, struct journal_opts *jo);

struct sample;
void coredump_sample(struct ctx *c, struct sample *s);
void coredump_free_state(void *state);
