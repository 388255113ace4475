/* The bundle side of a collector: what collect() calls to add evidence. It runs in
 * the collector's child; every artifact is redacted there (text kinds) and framed
 * over the pipe to the parent, which streams it into the archive.
 *
 * Frames (collectors/frame.h): one JSON header line, then exactly "size" payload bytes:
 *   {"t":"findings","applies":true,"findings":[...]} ... {"t":"findings_end","count":N}
 *   {"t":"artifact",<the artifact's record, collectors/artifact.h>,"size":1234}
 *      e.g. "path":"host/proc/meminfo","kind":"file","origin":"/proc/meminfo","status":"ok",
 *      "redactions":0,"duration_ms":0[,"error":"..."]: the fields of its manifest entry
 *   {"t":"artifact",...,"dir":true,"size":N}   the names, NUL-separated, as payload
 *   {"t":"log","msg":"..."}  {"t":"mapping","from":"...","to":"..."}
 *   {"t":"intrusive",...}  (sink_intrusive) */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include "collectors/collector.h"

struct redactor;

struct bundle_sink {
        int fd;
        const char *collector;
        struct redactor *red;    /* NULL = --no-redact */
        size_t artifact_max;     /* per-artifact budget, bytes */
        uint64_t since_ms;       /* --since: how far back logs go (realtime ms) */
        bool full;               /* --full: all of /etc/passwd and /etc/group, not the entries looked up */
        bool include_perf_data;  /* --include-perf-data: the raw perf.data of a profile */
        bool include_cores;      /* --include-cores: core files themselves (streamed, capped) */
        bool broken;             /* the parent went away: stop sending */
        /* The bundle's rule for what it leaves out (report/bundle_trim.h), asked here in
         * the child: told the collector's findings, then asked per file its checks read
         * that an earlier collector sent already (the snapshot): one the parent would
         * drop again is not redacted and sent again. NULL: such files are sent. */
        void (*note_findings)(void *arg, const struct findings *fs);
        bool (*leaves_out)(void *arg, const char *path);
        /* Whether a finding noted so far names the process: its maps are kept whole. */
        bool (*names_pid)(void *arg, int pid);
        void *trim;
        uint64_t snapshot_mark;  /* the parent's snapshot when the child started (rootfs.h) */
};

/* A host file at its original path under host/ (redacted, capped). */
void sink_file(struct bundle_sink *s, const char *path);
/* Text produced by the collector, at collectors/<collector>/<name>. kind: command,
 * journal, http, socket, derived. origin: where it came from (a URL, a command). */
void sink_text(struct bundle_sink *s, const char *name, const char *kind, const char *origin, const char *text, size_t len);
void sink_json(struct bundle_sink *s, const char *name, const char *kind, const char *origin, json_object *o);
/* Text the collector derived from the host that `check --from` must find under its root:
 * stored at host<path> (redacted, capped), e.g. the journal entries its verdicts came from. */
void sink_host_text(struct bundle_sink *s, const char *path, const char *kind, const char *origin, const char *text, size_t len);
/* Runs a command with a deadline; its output (or why there is none) becomes an artifact. */
void sink_command(struct bundle_sink *s, const char *name, const char *const argv[], uint64_t timeout_ms);
/* Large binary evidence (cores, perf.data): streamed, not redacted, capped. */
void sink_binary(struct bundle_sink *s, const char *name, const char *kind, const char *path);
/* Something that should be here but is not: recorded, so nothing is silently absent. */
void sink_missing(struct bundle_sink *s, const char *name, const char *kind, const char *origin, const char *status,
                  const char *why);
void sink_log(struct bundle_sink *s, const char *fmt, ...) PRINTF(2, 3);
/* An intrusive action on a component process (lib/intrusive.h has the rule): what was
 * done or refused. outcome: "refused" (the pre-check said no: nothing was done),
 * "done" (the post-check found it alive), "died" (it is gone after the action: the
 * parent makes that a crit finding <collector>.intrusive), "failed" (the action
 * itself failed). why: the pre- or post-check's words. Frame:
 *   {"t":"intrusive","action":"kill -USR1 1234","pid":1234,"outcome":"done"[,"why":"..."]} */
void sink_intrusive(struct bundle_sink *s, const char *action, int pid, const char *outcome, const char *why);


/* The child body of `evodiag bundle` for one collector: check with tracing, send the
 * findings and the files they read, then the collector's own collect(). */
struct bundle_child_arg {
        struct ctx ctx;
        struct bundle_sink sink;
        size_t trace_max;
};
void bundle_child(void *arg, int wfd);

