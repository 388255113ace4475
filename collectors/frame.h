/* The one framing between a child and its parent: check (runner.c), bundle (sink.c ->
 * report/bundle.c), watch (sampler.c, both directions) and one-document jobs.
 *
 * Frame = one JSON header line of at most FRAME_HEADER_MAX bytes, then exactly
 * "size" payload bytes (0 when absent). Every parent reads frames with the one
 * reader below (struct frame_reader): bounded header lines, a bounded payload, a
 * deadline, and the same words for what was wrong.
 *
 * Findings never travel as one document: a host with 10,000 junk segments makes
 * 10,000 findings, so they go in frames of about FINDINGS_FRAME_BYTES each, closed
 * by a count the parent checks:
 *   {"t":"findings","applies":true,"findings":[...]}   (one or more)
 *   {"t":"findings_end","count":N}
 * A collector keeps at most FINDINGS_MAX findings (FINDINGS_BYTES_MAX serialized);
 * past that the rest are replaced by one "<collector>.findings_cut" finding that
 * says so, on either side: a child that ignores the bound is cut by the parent.
 * Every finding ID must be one the collector declares (its checks[], or the engine's
 * <collector>.findings_cut): a child that sends another is not trusted.
 *
 * watch: the parent asks {"t":"request","n":N}; the sampler answers
 *   {"t":"sample","n":N,"applies":true,"size":L} + L bytes {"v":[...],"s":[...]}
 * with only what changed since its last answer: the child keeps the values and
 * statuses it sent last, the parent those it received (struct sample_answer), and
 * "v" and "s" are edit scripts from the last list to the new one, in order, covering
 * every old entry exactly once:
 *   k (k > 0)                          the next k old entries, unchanged
 *   -k                                 the next k old entries are gone (a subject
 *                                      that went away: its "gone" event)
 *   [value] / ["severity","summary"]   the next old entry, with a new value / verdict
 *   ["key","subject",value,"unit"] / ["id","subject","severity","summary"]
 *                                      a new entry here (null for no subject or unit)
 * A value is matched by key, subject and unit, a status by ID and subject. A child's
 * first answer (a new child: at start, and after a restart for a missed deadline or a
 * crash) has no old entries, so it is whole: only new entries, which the parent merges
 * as the whole state (what the child no longer reports is gone). On a host with 50
 * EVO segments most of ~300 entries are unchanged in an interval: the child writes
 * and the parent parses a few bytes for them instead of the whole answer. This array
 * form exists only on this pipe: the parent decodes it into struct svalue and struct
 * sstatus (lib/sample.h), whose one JSON form is lib/sample.h's objects.
 *
 * One-document jobs (runner.h, job.fn): {"t":"result","size":L} + L bytes of JSON. */
#pragma once
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collectors/collector.h"
#include "lib/finding.h"
#include "lib/sample.h"

#define FRAME_HEADER_MAX (1u << 20)
#define FINDINGS_FRAME_BYTES (256u << 10)
#define FINDINGS_MAX 100000
#define FINDINGS_BYTES_MAX (128u << 20)
/* One finding's fields are cut to this (each) when its JSON would not fit a frame. */
#define FINDING_FIELD_MAX (8u << 10)
#define SAMPLE_PAYLOAD_MAX (8u << 20) /* one watch answer never needs more */

/* Writes hdr (consumed; "size" is set to len) as one line, then len payload bytes.
 * 0 or -errno; -E2BIG when the header line would exceed FRAME_HEADER_MAX. */
int frame_write(int fd, json_object *hdr, const void *data, size_t len);
/* Only the header, declaring `size` payload bytes the caller streams after it. */
int frame_write_header(int fd, json_object *hdr, uint64_t size);

/* A header line (n bytes, no newline) as a JSON object; NULL unless the whole line
 * is exactly one object. */
json_object *frame_parse_header(const char *line, size_t n);

/* Child side: applies and the findings, in bounded frames, then findings_end. 0 or -errno. */
int frame_send_findings(int fd, const char *collector, bool applies, const struct findings *fs);

/* Parent side: collects the findings frames of one child. */
struct findings_rx {
        const struct collector *c; /* when set, every ID must be one c declares */
        struct findings fs;
        bool applies;
        bool begun, ended;
        size_t received;  /* findings that arrived (kept or dropped) */
        size_t dropped;   /* past FINDINGS_MAX / FINDINGS_BYTES_MAX: not kept */
        size_t declared;  /* the count findings_end announced */
        uint64_t bytes;   /* header bytes of findings frames */
        char *undeclared; /* the first ID c does not declare */
};
/* Is this header one of the findings frames? */
bool frame_is_findings(json_object *hdr);
/* Takes a findings or findings_end header (line_len: its size on the wire).
 * 0, or -EPROTO when it has the wrong shape (then the child is not to be trusted). */
int findings_rx_frame(struct findings_rx *rx, json_object *hdr, size_t line_len);
/* When the child is done. 0 when the stream was whole (adding the findings_cut
 * finding when the parent had to drop some); -EPROTO when findings_end never came,
 * disagrees with what arrived or a finding had an undeclared ID, with *why (newly
 * allocated: "sent incomplete results: ...", "sent an undeclared check ID '...'"). */
int findings_rx_finish(struct findings_rx *rx, const char *collector, char **why);
void findings_rx_free(struct findings_rx *rx);

/* The finding that says findings were cut (child or parent side). */
void findings_add_cut(struct findings *fs, const char *collector, size_t kept, size_t total, bool total_known);

/* ---- reading frames: the one reader ---- */

struct frame {
        json_object *hdr;    /* the header (the reader's: valid until its next call) */
        const char *type;    /* its "t", or NULL */
        size_t line_len;     /* the header's bytes on the wire, newline included */
        uint64_t size;       /* payload bytes */
        const char *payload; /* frame_next: the whole payload (until the reader's next call);
                                frame_read: NULL, the payload follows (frame_read_payload) */
};

struct frame_reader {
        int fd;
        uint64_t payload_max;        /* a larger declared payload is refused (-EFBIG) */
        uint64_t deadline_ms;        /* frame_read*: CLOCK_MONOTONIC ms; 0 = no deadline */
        volatile sig_atomic_t *stop; /* frame_read*: when *stop is set the wait ends (-EINTR) */
        char *why;                   /* after -EPROTO, -EFBIG or -EBADMSG: what was wrong */
        int err;                     /* frame_read*: the last error, 0 while there was none */
        json_tokener *tok;           /* the reader's parser: callers may reuse it for payloads */
        /* private */
        char *buf;
        size_t cap, start, end;
        json_object *hdr;
        size_t line_len;
        bool pending;     /* frame_next: hdr parsed, its payload not all here yet */
        bool delivered;   /* frame_next: hdr and its payload were handed out */
        uint64_t left;    /* payload bytes of the current frame not taken */
        uint64_t consume; /* frame_next: the delivered payload, dropped at the next call */
        bool eof;
};
void frame_reader_init(struct frame_reader *r, int fd, uint64_t payload_max);
void frame_reader_free(struct frame_reader *r);

/* Poll loops (runner, watch): once the descriptor is readable, frame_reader_fill()
 * reads once (>0 bytes, 0 at end of file, -EAGAIN, -errno), then frame_next() hands
 * out every whole frame, header and payload: 1 with *f filled; 0 when more bytes are
 * needed; -EPIPE at a clean end of the stream; -EBADMSG when the stream ended inside
 * a frame; -EPROTO (a header over FRAME_HEADER_MAX, not one JSON object, a size that
 * is not a byte count) or -EFBIG (a payload over payload_max); r->why says which. */
long frame_reader_fill(struct frame_reader *r);
int frame_next(struct frame_reader *r, struct frame *f);

/* One stream at a time (bundle, the sampler child): waits for the next header until
 * deadline_ms or *stop. 1 with *f (the payload is read with frame_read_payload; what
 * is left of it is skipped by the next frame_read); 0 at a clean end of the stream;
 * -ETIMEDOUT, -EINTR, -EBADMSG, -EPROTO, -EFBIG (r->why), -errno. */
int frame_read(struct frame_reader *r, struct frame *f);
/* The next piece of the current payload: its length (> 0) with *chunk pointing at it
 * (valid until the reader's next call), 0 when the payload is all taken, -EPIPE when
 * the stream ended inside it, -ETIMEDOUT, -EINTR. */
long frame_read_payload(struct frame_reader *r, const char **chunk);

/* ---- watch: requests and answers ---- */

/* Parent: asks for sample number n. */
int frame_send_request(int fd, uint64_t n);
/* The same, with the processes that started since the last request ("new": the parent
 * lists /proc once per interval for every sampler; see sample_util.h's pidwatch). */
int frame_send_request_pids(int fd, uint64_t n, const int *pids, size_t np);
/* Child: the number asked for (1), 0 when the parent closed the pipe, <0 on garbage. */
int frame_take_request(struct frame_reader *r, uint64_t *n);
/* The same, and the new pids (at most max into pids, *np of them; *known false when
 * the request has none: the child then lists /proc itself). */
int frame_take_request_pids(struct frame_reader *r, uint64_t *n, int *pids, size_t max, size_t *np, bool *known);
/* The values and statuses of one sampler's answers (lib/sample.h's, strings owned): the
 * child's memory of what it sent last, the parent's of what it received, with what
 * changed since the parent last merged them (watch_round). */
struct sample_answer {
        uint64_t n;
        bool applies;
        struct svalue *v;
        size_t nv;
        struct sstatus *s;
        size_t ns;
        /* the parent's: since sample_answer_merged() */
        bool *dirty;         /* per status: new or changed */
        struct sstatus *gone; /* statuses no longer reported */
        size_t ngone, capgone;
        bool whole;          /* the first answer applied: the whole state */
        uint64_t answers;    /* answers applied */
};

/* Child: one answer, s against *last (what this child sent before; zeroed for a new
 * child), which becomes s; s is ignored unless applies. */
int frame_send_sample_since(int fd, uint64_t n, bool applies, const struct sample *s, struct sample_answer *last);
/* The same, whole (against nothing). */
int frame_send_sample(int fd, uint64_t n, bool applies, const struct sample *s);

/* Parent: one answer (f: a "sample" frame) applied to the state *a: every op must fit
 * the state, every value ["key",subject,number,unit], every status
 * [id,subject,"severity",summary] with an id c declares and samples. 0, or -EPROTO with
 * *why ("sent an unreadable answer", "sent an undeclared check ID '...'") and *a
 * emptied. */
int sample_answer_apply(struct sample_answer *a, const struct frame *f, json_tokener *tok, const struct collector *c, char **why);
/* One answer on its own (*a zeroed first, as for a new child's first answer). */
int sample_answer_take(struct sample_answer *a, const struct frame *f, json_tokener *tok, const struct collector *c, char **why);
/* The changes were merged: clears dirty, gone and whole. */
void sample_answer_merged(struct sample_answer *a);
void sample_answer_free(struct sample_answer *a);

/* ---- one-document jobs ---- */
int frame_send_result(int fd, json_object *doc);
