/* report/bundle.c and report/bundle_collect.c: the bundle being written. bundle.c
 * makes it (the output, the collectors in turn, the documents, the manifest);
 * bundle_collect.c runs one collector's child and stores what its frames carry. */
#pragma once
#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>
#include "collectors/collector.h"
#include "collectors/runner.h"
#include "report/artstore.h"
#include "report/bundle_trim.h"
#include "report/manifest.h"
#include "lib/util.h"

struct archive_out;
struct bundle_opts; /* report/bundle.h */
struct redactor;

/* ---- the bundle being written ---- */

struct bundle {
        const struct bundle_opts *o;
        struct archive_out *ar;
        char *top;
        struct redactor *red;
        struct manifest man;  /* manifest.json but its artifacts (report/manifest.h's tables write it) */
        struct artstore arts; /* its artifacts; the paths the archive holds (a later copy is a duplicate) */
        struct strbuf log;
        uint64_t t0;
        uint64_t payload; /* uncompressed bytes written so far */
        size_t files, duplicates;
        uint64_t snapshot_bytes;
        struct bundle_trim trim; /* what is left out unless --full */
        struct strbuf incomplete; /* why the bundle is not complete: NUL-separated lines (manifest "incomplete") */
        struct strbuf intrusive;  /* what --allow-intrusive did: NUL-separated lines (manifest "intrusive") */
        size_t budget_cut;        /* artifacts cut or left out at --max-size */
};

/* SIGINT/SIGTERM arrived (bundle_make's handler): the collectors after it are not run. */
extern volatile sig_atomic_t bundle_interrupted;

static inline void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = v ? xstrdup(v) : NULL;
}

static inline struct mf_int num(int64_t v) { return (struct mf_int){.set = true, .v = v}; }

/* One reason the bundle is not complete (manifest.json "incomplete", the top of
 * ISSUE.md, summary.txt's "Missing data"). */
void bundle_incomplete(struct bundle *b, const char *fmt, ...) PRINTF(2, 3);
/* A line of evodiag.log, with the time since the start. */
void bundle_log(struct bundle *b, const char *fmt, ...) PRINTF(2, 3);
/* Adds a manifest entry (taken over: *a is zeroed); returns its index. */
size_t bundle_keep_artifact(struct bundle *b, struct manifest_artifact *a);

/* report/bundle_collect.c: one collector (check with tracing, findings, evidence,
 * collect()) in a child, its frames into the archive and the manifest; res filled. */
void bundle_run_one(struct bundle *b, struct ctx *base, const struct collector *c, struct run_result *res);
/* After the collectors: /etc/passwd and /etc/group as the union of what they looked up. */
void bundle_write_iddbs(struct bundle *b);
