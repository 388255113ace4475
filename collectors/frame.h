/* The one framing between a collector's child and the parent, for check (runner.c)
 * and bundle (sink.c, report/bundle.c).
 *
 * Frame = one JSON header line of at most FRAME_HEADER_MAX bytes, then exactly
 * "size" payload bytes (0 when absent). Findings never travel as one document: a
 * host with 10,000 junk segments makes 10,000 findings, so they go in frames of
 * about FINDINGS_FRAME_BYTES each, closed by a count the parent checks:
 *   {"t":"findings","applies":true,"findings":[...]}   (one or more)
 *   {"t":"findings_end","count":N}
 * A collector keeps at most FINDINGS_MAX findings (FINDINGS_BYTES_MAX serialized);
 * past that the rest are replaced by one "<collector>.findings_cut" finding that
 * says so, on either side: a child that ignores the bound is cut by the parent. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

#define FRAME_HEADER_MAX (1u << 20)
#define FINDINGS_FRAME_BYTES (256u << 10)
#define FINDINGS_MAX 100000
#define FINDINGS_BYTES_MAX (128u << 20)
/* One finding's fields are cut to this (each) when its JSON would not fit a frame. */
#define FINDING_FIELD_MAX (8u << 10)

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
        struct findings fs;
        bool applies;
        bool begun, ended;
        size_t received;  /* findings that arrived (kept or dropped) */
        size_t dropped;   /* past FINDINGS_MAX / FINDINGS_BYTES_MAX: not kept */
        size_t declared;  /* the count findings_end announced */
        uint64_t bytes;   /* header bytes of findings frames */
};
/* Is this header one of the findings frames? */
bool frame_is_findings(json_object *hdr);
/* Takes a findings or findings_end header (line_len: its size on the wire).
 * 0, or -EPROTO when it has the wrong shape (then the child is not to be trusted). */
int findings_rx_frame(struct findings_rx *rx, json_object *hdr, size_t line_len);
/* When the child is done. 0 when the stream was whole (adding the findings_cut
 * finding when the parent had to drop some); -EPROTO when findings_end never came
 * or disagrees with what arrived, with *why (newly allocated) saying which. */
int findings_rx_finish(struct findings_rx *rx, const char *collector, char **why);
void findings_rx_free(struct findings_rx *rx);

/* The finding that says findings were cut (child or parent side). */
void findings_add_cut(struct findings *fs, const char *collector, size_t kept, size_t total, bool total_known);
