/* memory collector: its parsers and verdicts (memory_format.c), exported for
 * tests/unit/test_memory.c. check() and sample() judge with the same functions, so
 * check and watch cannot disagree. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/finding.h"

/* memory.available: MemAvailable as a share of MemTotal (*pct); crit below crit_pct,
 * warn below warn_pct, else ok. unknown when MemTotal is 0. */
enum severity memory_available_verdict(uint64_t avail, uint64_t total, double warn_pct, double crit_pct, double *pct);
/* memory.swap: *used = total - free (0 when free > total), *pct of total; warn at or
 * above warn_pct, info while any is used, ok when none is (or there is no swap). */
enum severity memory_swap_verdict(uint64_t total, uint64_t free, double warn_pct, uint64_t *used, double *pct);
/* /proc/buddyinfo: free blocks of order >= min_order, each counted in blocks of
 * min_order (saturating; orders past 63 are counted as huge), into *large. DMA zones
 * are left out (tiny, reserved for old devices). Returns how many zones were read. */
unsigned memory_large_blocks(const char *buddyinfo, unsigned min_order, uint64_t *large);
/* memory.fragmentation: warn when no large block is free. */
enum severity memory_fragmentation_verdict(uint64_t large);
/* memory.overcommit in strict mode (vm.overcommit_memory = 2): Committed_AS as a
 * share of CommitLimit (*pct); crit at >= 95%, warn at >= 90%. unknown when the limit is 0. */
enum severity memory_commit_verdict(uint64_t committed, uint64_t limit, double *pct);
