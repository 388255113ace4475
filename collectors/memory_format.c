/* memory: the parsers and verdicts, pure functions of their inputs (memory.h;
 * tests/unit/test_memory.c). */
#include "config.h"
#include "collectors/memory.h"
#include "lib/satmath.h"
#include "lib/util.h"

#include <stdio.h>

enum severity memory_available_verdict(uint64_t avail, uint64_t total, double warn_pct, double crit_pct, double *pct)
{
        *pct = 0;
        if (!total)
                return SEV_UNKNOWN;
        *pct = 100.0 * (double)avail / (double)total;
        return *pct < crit_pct ? SEV_CRIT : *pct < warn_pct ? SEV_WARN : SEV_OK;
}

enum severity memory_swap_verdict(uint64_t total, uint64_t free, double warn_pct, uint64_t *used, double *pct)
{
        *used = total > free ? total - free : 0;
        *pct = total ? 100.0 * (double)*used / (double)total : 0;
        if (!total)
                return SEV_OK;
        return *pct >= warn_pct ? SEV_WARN : *used ? SEV_INFO : SEV_OK;
}

/* "Node 0, zone   Normal   1  2  3 ..." — free blocks per order 0, 1, 2, ... */
unsigned memory_large_blocks(const char *buddyinfo, unsigned min_order, uint64_t *large)
{
        *large = 0;
        unsigned zones = 0;
        _cleanup_free_ char *text = xstrdup(buddyinfo ? buddyinfo : "");
        size_t pos = 0;
        char *line;
        while ((line = next_line(text, &pos))) {
                int node, off = 0;
                char zone[32];
                if (sscanf(line, "Node %d, zone %31s %n", &node, zone, &off) < 2 || !off)
                        continue;
                if (streq(zone, "DMA"))
                        continue;
                zones++;
                char *p = line + off;
                for (unsigned order = 0; *p; order++) {
                        char *end;
                        unsigned long long n = strtoull(p, &end, 10);
                        if (end == p)
                                break;
                        p = end;
                        if (order < min_order)
                                continue;
                        /* A garbled line can have any number of columns: never shift by 64 or more. */
                        unsigned shift = order - min_order;
                        uint64_t blocks = shift < 64 ? sat_mul_u64(n, UINT64_C(1) << shift) : n ? UINT64_MAX : 0;
                        *large = sat_add_u64(*large, blocks);
                }
        }
        return zones;
}

enum severity memory_fragmentation_verdict(uint64_t large)
{
        return large ? SEV_OK : SEV_WARN;
}

enum severity memory_commit_verdict(uint64_t committed, uint64_t limit, double *pct)
{
        *pct = 0;
        if (!limit)
                return SEV_UNKNOWN;
        *pct = 100.0 * (double)committed / (double)limit;
        return *pct >= 95 ? SEV_CRIT : *pct >= 90 ? SEV_WARN : SEV_OK;
}
