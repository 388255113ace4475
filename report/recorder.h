/* The watch flight recorder: an append-only file of records, each
 *
 *     magic "EVR1" (4) | CRC-32 (u32 LE) | length (u32 LE) | type (1) | payload (length)
 *
 * with the CRC over length, type and payload (the bytes after it), so a torn or damaged record is
 * detected and skipped and the reader resynchronises on the next valid header.
 * The recording is a ring of two segment files, FILE (current) and FILE.1
 * (previous), each at most --record-max/2: when FILE is full it is renamed to
 * FILE.1 (replacing the oldest half) and a new FILE begins. Every segment starts
 * with a session record and defines the series it uses (key, subject, unit ->
 * number) before the samples that use them, so each segment decodes on its own
 * and a kill -9 at any moment leaves, at worst, one torn record at the end of
 * FILE. Opening an existing recording cuts such a torn tail off and appends.
 *
 * Durability: every record is written with one write() as soon as it is made
 * (what the kernel has survives a kill -9 of evodiag); fdatasync() follows any
 * event, at most every REC_SYNC_MS (10 s) otherwise, at a rotation and at close,
 * bounding what a power loss or kernel crash can take to the last 10 s of
 * samples. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define REC_MAGIC "EVR1"
#define REC_HEADER 13
#define REC_PAYLOAD_MAX (4u << 20)
#define REC_SYNC_MS 10000
#define REC_MIN_MAX (16u << 10)   /* smallest --record-max */
#define REC_DEFAULT_MAX (64u << 20)
#define REC_KEYFRAME_ROUNDS 60     /* all non-ok statuses again every N samples */

enum rec_type {
        REC_SESSION = 1, /* a writer (re)started or a segment began */
        REC_DEF = 2,     /* series number -> key, subject, unit */
        REC_SAMPLE = 3,  /* one round of values */
        REC_EVENT = 4,   /* a severity change */
        REC_STATUS = 5,  /* the non-ok statuses (keyframe) */
        REC_NOTE = 6,    /* a bundle made, the end of a session, ... */
};

uint32_t rec_crc32(const void *data, size_t len);

/* ---- writing ---- */
struct recorder;
/* Opens (creating or continuing) the recording at path. Refuses a file that is
 * not a recording. */
struct recorder *recorder_open(const char *path, uint64_t max_bytes, const char *host, uint64_t interval_ms, char **err);
/* One round's values: as read (watch), or as lib/sample.h value objects. */
struct svalue;
int recorder_sample_values(struct recorder *r, uint64_t time_ms, uint64_t round, const struct svalue *v, size_t n);
int recorder_sample(struct recorder *r, uint64_t time_ms, uint64_t round, json_object *values);
/* ev: a watch event object (sampler.h watch_event_json). */
int recorder_event(struct recorder *r, json_object *ev);
/* statuses: an array of {"id","subject","severity","summary"}; only non-ok ones are kept. */
int recorder_statuses(struct recorder *r, uint64_t time_ms, json_object *statuses);
int recorder_note(struct recorder *r, uint64_t time_ms, const char *kind, const char *text);
/* fdatasync when due (see above), or now when force. */
int recorder_sync(struct recorder *r, bool force);
/* Bytes in both segments now. */
uint64_t recorder_size(const struct recorder *r);
const char *recorder_path(const struct recorder *r);
/* Records not written because one was larger than half of --record-max, and write errors. */
uint64_t recorder_dropped(const struct recorder *r);
void recorder_close(struct recorder *r);

/* ---- reading ---- */
struct rec_stats {
        uint64_t records, bytes;
        uint64_t damaged;        /* damaged stretches skipped in the middle */
        uint64_t damaged_bytes;
        bool torn;               /* the last record of a segment is incomplete */
        uint64_t torn_offset, torn_bytes;
        char torn_file[512];
        uint64_t lost_values;    /* samples whose series definitions were lost */
        uint64_t first_ms, last_ms;
        unsigned segments;
};
/* Calls fn for every item in time order (FILE.1, then FILE), each a JSON object
 * of the shape `watch --json` prints: {"type":"session"|"sample"|"event"|"statuses"|
 * "note"|"damage", "time", "time_ms", ...}. since_ms > 0 leaves out items before it
 * (the statuses keyframe just before the window is kept). fn returns <0 to stop.
 * Returns 0, or -errno when neither segment can be read, -EINVAL when path is not a
 * recording. */
int recorder_read(const char *path, uint64_t since_ms, int (*fn)(void *arg, json_object *item), void *arg,
                  struct rec_stats *st);
/* Same on one segment's bytes (unit tests); file names the segment in damage items. */
int recorder_read_buffer(const char *file, const unsigned char *buf, size_t len, uint64_t since_ms,
                         int (*fn)(void *arg, json_object *item), void *arg, struct rec_stats *st);
/* One item as a line of text (the replay timeline), host values escaped for a
 * terminal (lib/escape.h); "" for items not shown. */
char *recorder_item_text(json_object *item);
/* What watch --replay prints. Text: the timeline's one-line items (sessions, events,
 * notes, damage), and the samples and status keyframes too with `samples`; JSON lines:
 * every item. since/until (realtime ms, 0: open) and ids (check IDs, or collector
 * names for all of theirs; NULL: all) narrow it: ids keeps only those events. */
struct replay_filter {
        bool samples;
        uint64_t since_ms, until_ms;
        const char *const *ids;
};
/* watch --replay: the items of the recording the filter keeps (NULL: the text or JSON
 * default) to out, then what was read (records, segments, damage) on stderr. 0, 1 when
 * damaged records were skipped, or -errno (-EINVAL: not a recording) with nothing printed. */
int recorder_replay(const char *path, bool json, const struct replay_filter *f, FILE *out);

/* ---- bundles ---- */
/* The recording the current process writes (watch sets it, so a bundle made by
 * --bundle-on in a child includes it). */
void recorder_set_current(const char *path);
/* The recording to include in a bundle: the current one, else the newest *.rec
 * in [watch] record_dir (default <state_dir>/watch). NULL when there is none. */
struct config;
char *recorder_find(const struct config *cfg, const char *state_dir);
/* The last [watch] bundle_window (default 15 min) of the recording, for a bundle's
 * watch/recording.txt (*text: the timeline) and watch/recording.jsonl (*items), with
 * where they came from (*origin); a line for evodiag.log goes to log. Returns the
 * number of items, 0 when there is nothing to add. Called once by report/bundle.c. */
struct strbuf;
size_t recorder_bundle_window(const struct config *cfg, const char *state_dir, struct strbuf *text, struct strbuf *items,
                              char **origin, struct strbuf *log);
