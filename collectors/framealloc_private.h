/* The framealloc collector's own header, shared by its files and by nothing else:
 *   framealloc.c         the collector: checks, config keys, directories, snapshots,
 *                        FRAMEALLOC_STRICT, the snapshot request, collect() and watch
 *   framealloc_logs.c    [framealloc] diagnostics in the apps' log files and journal
 *   framealloc_format.c  the pure parsers (framealloc.h) */
#pragma once
#include "collectors/collector.h"

#include <stddef.h>

/* framealloc.diagnostics: [framealloc] logs, then the journal of [framealloc] units and
 * identifiers and of the units the apps (pids: those running in framealloc
 * directories) run in. */
void fa_check_logs(struct ctx *c, const int *pids, size_t npids, struct findings *fs);
