/* framealloc collector: the parsers and decisions (framealloc_format.c), exported for
 * the unit tests and the fuzz target. Facts from COMPONENTS.md §5 (YelenaTor/framealloc
 * src/api/snapshot.rs, src/diagnostics/emit.rs, src/debug/backtrace.rs). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

/* One snapshot_<frame>.json (SnapshotEmitter::emit). Numbers -1 when absent. */
struct fa_snapshot {
        int64_t version;
        char timestamp[40];
        int64_t frame;
        int64_t frame_bytes, pool_bytes, heap_bytes, total_bytes, peak_bytes; /* summary{} */
        size_t threads;          /* threads[] */
        int64_t budget_percent;  /* the highest threads[].budget.percent; -1 none */
        char budget_thread[64];  /* its name */
        size_t diagnostics;      /* diagnostics[] */
        char first_diag[96];     /* "FA602: ..." of the first, "" none */
};
/* 0, or -EINVAL with *err (newly allocated): not JSON (framealloc writes its JSON by
 * hand and does not escape names), not an object, no summary{total_bytes}. */
int fa_snapshot_parse(const char *text, size_t len, struct fa_snapshot *s, char **err);
/* "snapshot_00000042.json" -> 42 (any number of digits); -1 when not such a name. */
int64_t fa_snapshot_frame(const char *name);

/* Total bytes across the snapshots on disk, oldest first: true when it grew at every
 * step over at least min_steps steps (the guide's leak symptom: memory that only grows). */
bool fa_growing(const int64_t *totals, size_t n, size_t min_steps);
/* peak against a budget: warn at or above warn_pct of it; ok below; SEV_SKIPPED when no
 * budget (0) or no peak. */
enum severity fa_peak_verdict(int64_t peak, uint64_t budget, double warn_pct);

/* A "[framealloc][FA602] ..." diagnostic or a "[framealloc] Leak report" line. */
struct fa_diag_count {
        char code[8];      /* "FA602"; "leak" for the leak report */
        size_t count;
        char example[160]; /* the first line seen, cut */
};
#define FA_DIAG_CODES 16
struct fa_diags {
        struct fa_diag_count v[FA_DIAG_CODES];
        size_t n;
        size_t lines;   /* matching lines in all */
        size_t other;   /* lines of codes past FA_DIAG_CODES */
};
/* Counts the diagnostic lines in a text (a log tail). */
void fa_diags_scan(const char *text, size_t len, struct fa_diags *d);
/* The guide's words for a code ("Frame allocation in async function"), or NULL. */
const char *fa_code_meaning(const char *code);
