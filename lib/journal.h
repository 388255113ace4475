/* The sd-journal reader every part of evodiag shares (the journal collector, the
 * coredump collector): which journal files to read, a window found by seeking (never
 * a scan from the start), matches on the journal's own indexes, iteration bounded by
 * entries and bytes, fields copied out safely, cursors, and files that are corrupt,
 * truncated or unreadable named instead of failing the whole read.
 *
 * sd_journal_get_data() returns "FIELD=value", not NUL-terminated, possibly binary:
 * journal_field() hands out the value only, NUL-terminated, cut to the caller's bound.
 *
 * This API is stable (the coredump collector uses it): add to it, do not change it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where to read. Neither dirs nor files: the host's journal, i.e. on the live system
 * the local journal (sd_journal_open, SD_JOURNAL_LOCAL_ONLY), under --root (or a
 * bundle) <root>/var/log/journal and <root>/run/log/journal, read through lib/rootfs
 * (regular files only, nothing outside the root). dirs/files (--journal-dir,
 * --journal-file) are paths the user named: opened as given. */
struct journal_opts {
        const char *const *dirs;  /* NULL-terminated, or NULL */
        const char *const *files; /* NULL-terminated, or NULL */
        size_t max_files;         /* at most this many journal files (0: JOURNAL_MAX_FILES) */
        size_t field_max;         /* longest field value kept (0: JOURNAL_FIELD_MAX); longer ones are cut */
};
#define JOURNAL_MAX_FILES 1024
#define JOURNAL_FIELD_MAX 65536

/* One journal file found. error 0: read; else -errno why not: -EBADMSG, -EPROTONOSUPPORT,
 * -ENODATA (corrupt, unknown format, truncated), -EACCES, -ROOTFS_ENOTREG, ... */
struct journal_file {
        char *path; /* as on the inspected host (or as the user gave it) */
        int error;
        uint64_t size;
};

/* Why iteration stopped. */
enum journal_stop {
        JOURNAL_MORE = 0,  /* not stopped yet */
        JOURNAL_END,       /* no more entries (the window's end, or the journal's) */
        JOURNAL_UNTIL,     /* the next entry is after the --until bound */
        JOURNAL_ENTRIES,   /* the entry bound was hit */
        JOURNAL_BYTES,     /* the byte bound was hit */
        JOURNAL_DEADLINE,  /* the deadline passed */
        JOURNAL_ERROR,     /* sd-journal failed (journal_error() says how) */
};

struct journal;

/* Finds the journal files and opens the readable ones. Returns 0 with *out set, even
 * when no file could be read (journal_usable() is then false: journal_files() says
 * which files there were and why each failed; none at all: no journal here). -EINVAL
 * for bad options, -ENOMEM. */
int journal_open(const struct journal_opts *o, struct journal **out);
void journal_close(struct journal *j);
static inline void journal_closep(struct journal **j)
{
        if (*j)
                journal_close(*j);
}
#define _cleanup_journal_ __attribute__((cleanup(journal_closep)))

/* At least one file could be opened. */
bool journal_usable(const struct journal *j);
/* The files found (read or not), in the order found. */
const struct journal_file *journal_files(const struct journal *j, size_t *n);
/* Files that could not be read (error != 0). */
size_t journal_bad_files(const struct journal *j);
/* Where the files came from, for messages: "/var/log/journal and /run/log/journal"
 * (live or under --root alike), "--journal-dir /x", "--journal-file /y", ... */
const char *journal_origin(const struct journal *j);
/* Bytes of the open files (sd_journal_get_usage). */
uint64_t journal_usage(const struct journal *j);

/* Matches, on the journal's indexes (sd_journal_add_match): entries with FIELD=value.
 * field: [A-Z0-9_], not starting with a digit, at most 64 characters; value at most
 * 4096 bytes. Matches on different fields are ANDed, on the same field ORed;
 * journal_or() starts a new alternative (sd_journal_add_disjunction). Returns 0 or
 * -EINVAL/-errno. Call before journal_seek(). */
int journal_match(struct journal *j, const char *field, const char *value);
int journal_or(struct journal *j);
int journal_and(struct journal *j);
void journal_match_clear(struct journal *j);

/* The window and bounds of the iteration. since_us/until_us: CLOCK_REALTIME µs, 0 =
 * open-ended. max_entries/max_bytes: 0 = unbounded (bytes are those of the fields
 * read). deadline_ms: CLOCK_MONOTONIC ms, 0 = none. */
struct journal_window {
        uint64_t since_us, until_us;
        uint64_t max_entries, max_bytes;
        uint64_t deadline_ms;
};
/* Positions before the first entry at or after since_us (sd_journal_seek_realtime_usec;
 * since_us 0: the head) and sets the bounds; resets the counters. 0 or -errno. */
int journal_seek(struct journal *j, const struct journal_window *w);
/* Positions after the last entry (for watch: only new entries follow). */
int journal_seek_end(struct journal *j);
/* Positions after the entry with this cursor (a later run continues there). */
int journal_seek_after_cursor(struct journal *j, const char *cursor);

/* The next matching entry in the window: 1, or 0 when iteration stopped
 * (journal_stopped() says why), -errno on an error (also journal_stopped() ==
 * JOURNAL_ERROR). Entries out of order before since_us are skipped. */
int journal_next(struct journal *j);
enum journal_stop journal_stopped(const struct journal *j);
/* "end of the window", "entry bound (N) hit", ... */
const char *journal_stop_str(enum journal_stop s);
/* A bound (entries, bytes, deadline) cut the iteration. */
bool journal_cut(const struct journal *j);
int journal_error(const struct journal *j);
uint64_t journal_entries_read(const struct journal *j);
uint64_t journal_bytes_read(const struct journal *j);

/* The current entry. */
uint64_t journal_realtime_us(struct journal *j);
/* The value of FIELD (its bytes after "FIELD="), NUL-terminated, into buf (size > 0):
 * returns its length (cut to size-1 and *cut set; NUL bytes in it become ' '), or
 * -ENOENT when the entry has no such field, -errno. */
long journal_field(struct journal *j, const char *field, char *buf, size_t size, bool *cut);
/* The same, allocated (at most the field_max bound); NULL when absent. */
char *journal_field_dup(struct journal *j, const char *field);
/* A field as a number; -ENOENT, -EINVAL. */
int journal_field_u64(struct journal *j, const char *field, uint64_t *out);
/* Every field of the entry: fn(arg, name, namelen, value, valuelen) for each (value not
 * NUL-terminated, may be binary); fn returning < 0 stops. Returns 0 or fn's/-errno. */
int journal_fields(struct journal *j, int (*fn)(void *arg, const char *name, size_t nlen, const char *val, size_t vlen),
                   void *arg);
/* The entry's cursor (allocated), or NULL. */
char *journal_cursor(struct journal *j);

/* Watch: an fd to poll(2) for changes, or -errno where the files were opened by name
 * or fd (then call journal_process() at each interval: new entries are still seen).
 * Ask again before each poll: a long read reopens the journal (to unmap what it read),
 * which changes the fd.
 * journal_process(): 0 nothing new, > 0 something changed, -errno. */
int journal_watch_fd(struct journal *j);
int journal_process(struct journal *j);
/* sd-journal keeps what it read mapped (up to 64 windows of 8 MiB): journal_next()
 * closes and reopens the journal at the same entry (matches kept) after every `bytes`
 * of fields read, so a long read stays small. 0: the default, JOURNAL_RECYCLE. */
#define JOURNAL_RECYCLE (4u << 20)
#define JOURNAL_RECYCLE_ENTRIES 4096 /* also after this many entries stepped over */
void journal_set_recycle(struct journal *j, uint64_t bytes);

/* Clears the stop state so journal_next() continues after new entries arrived,
 * keeping the bounds but resetting the counters. */
void journal_resume(struct journal *j);

/* --since/--until values: a duration back from now ("1h", "30m", "2d"), "now",
 * "@SECONDS" since the epoch, or a local time "YYYY-MM-DD[ T]HH:MM[:SS]" or a date
 * "YYYY-MM-DD" (its midnight). now_us: CLOCK_REALTIME µs. 0 and *out_us, or -EINVAL. */
int journal_parse_time(const char *s, uint64_t now_us, uint64_t *out_us);

/* The MESSAGEs of the entries with any of the FIELD=value matches (ORed, e.g.
 * "_SYSTEMD_UNIT=x.service", "SYSLOG_IDENTIFIER=x") since since_us (CLOCK_REALTIME µs),
 * one a line, at most max bytes (when more came, the newest are kept, cut at a line),
 * read within deadline_ms (CLOCK_MONOTONIC ms, 0: none) and at most 50000 entries.
 * dir: a journal directory, or NULL/"" for the host's journal. Returns the text
 * (allocated, "" when no entry matched) with *len and *entries, or NULL with *why
 * (allocated) when no journal could be read or searched. */
char *journal_messages(const char *dir, const char *const *matches, uint64_t since_us, size_t max, uint64_t deadline_ms,
                       size_t *len, size_t *entries, char **why);
