/* memory: is there room? MemAvailable, swap, fragmentation (/proc/buddyinfo) and
 * the overcommit policy. From the EVO guide's "Allocation Failed" section. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/memory.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"

#include <inttypes.h>

static const struct check_info checks[] = {
        {"memory.available", "Memory available for new allocations",
         "MemAvailable from /proc/meminfo against MemTotal. When it runs low, new shared-memory\n"
         "segments and broker message segments fail to allocate (ShmError::AllocationFailed)\n"
         "and the OOM killer may pick an RT process.\n"
         "Fix: find the largest consumers (ps -eo pid,rss,comm --sort=-rss | head), stop or\n"
         "restart the leaking process, or add memory. Thresholds: [memory] warn_pct, crit_pct."},
        {"memory.swap", "Swap in use",
         "Swapped-out pages cost a major fault to touch again: milliseconds of latency in an RT\n"
         "loop. RT processes should mlockall(); heavy swap use means memory pressure.\n"
         "Fix: find who is swapped out (grep VmSwap /proc/*/status | sort -k2 -n | tail), make\n"
         "RT processes lock their memory, or add memory."},
        {"memory.fragmentation", "Free memory in large contiguous blocks",
         "/proc/buddyinfo counts free blocks per order in each zone. With no free blocks of\n"
         "order 9 or more (2 MiB with 4 KiB pages), huge pages cannot be allocated at run time\n"
         "and large allocations stall in compaction — jitter for RT tasks.\n"
         "Fix: echo 1 > /proc/sys/vm/compact_memory, or reserve huge pages at boot\n"
         "(hugepagesz=2M hugepages=N on the kernel command line), as the EVO guide advises."},
        {"memory.overcommit", "Overcommit policy and commit headroom",
         "vm.overcommit_memory: 0 heuristic (default), 1 always (allocations never fail, the OOM\n"
         "killer acts later), 2 strict (Committed_AS may not exceed CommitLimit). In strict mode\n"
         "being near CommitLimit makes every new mapping fail with ENOMEM.\n"
         "Fix: in strict mode raise vm.overcommit_ratio or add swap; sysctl -w vm.overcommit_memory=0\n"
         "returns to the default heuristic."},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("warn_pct", "10", "warn when MemAvailable is below this % of MemTotal"),
        CONF_PCT("crit_pct", "5", "crit when MemAvailable is below this % of MemTotal"),
        CONF_PCT("swap_warn_pct", "25", "warn when this % of swap is in use"),
        CONF_UINT("frag_min_order", "9", 1, 10, "lowest buddy order that counts as a large block (9 = 2 MiB)"),
        {0},
};

/* path's text, or an unknown finding `id` saying why it could not be read. */
static char *read_or_unknown(const char *path, const char *id, struct findings *fs)
{
        char *text = NULL;
        long r = rootfs_read(path, 64 << 10, &text, NULL);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, id, "cannot read %s: %s", path, strerror((int)-r));
                fnd_evidence(f, "%s", path);
        }
        return text;
}

static void check_available(struct ctx *c, const struct kvlist *mi, struct findings *fs)
{
        uint64_t total, avail;
        char a[32], t[32];
        if (kv_get_u64(mi, "MemTotal", &total) < 0 || kv_get_u64(mi, "MemAvailable", &avail) < 0 || !total) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "memory.available", "MemTotal/MemAvailable missing or unreadable");
                fnd_evidence(f, "/proc/meminfo");
                return;
        }
        double pct, w = conf_num(c, "warn_pct"), cr = conf_num(c, "crit_pct");
        enum severity s = memory_available_verdict(avail, total, w, cr, &pct);
        struct finding *f = fnd_add(fs, s, "memory.available", "%s available of %s (%.1f%%)", fmt_bytes(avail, a),
                                    fmt_bytes(total, t), pct);
        fnd_expected(f, "MemAvailable >= %.0f%% of MemTotal", w);
        fnd_actual(f, "%.1f%%", pct);
        fnd_evidence(f, "/proc/meminfo");
        if (s != SEV_OK)
                fnd_remedy(f, "ps -eo pid,rss,comm --sort=-rss | head   # then stop or restart the largest consumer");
}

static void check_swap(struct ctx *c, const struct kvlist *mi, struct findings *fs)
{
        uint64_t total, free_;
        if (kv_get_u64(mi, "SwapTotal", &total) < 0 || kv_get_u64(mi, "SwapFree", &free_) < 0)
                return;
        char u[32], t[32];
        if (!total) {
                struct finding *f = fnd_add(fs, SEV_OK, "memory.swap", "no swap configured");
                fnd_evidence(f, "/proc/meminfo");
                return;
        }
        uint64_t used;
        double pct;
        enum severity s = memory_swap_verdict(total, free_, conf_num(c, "swap_warn_pct"), &used, &pct);
        struct finding *f = fnd_add(fs, s, "memory.swap", "%s of %s swap in use (%.0f%%)", fmt_bytes(used, u),
                                    fmt_bytes(total, t), pct);
        fnd_expected(f, "< %.0f%% of swap in use", conf_num(c, "swap_warn_pct"));
        fnd_actual(f, "%.0f%%", pct);
        fnd_evidence(f, "/proc/meminfo");
        if (s != SEV_OK)
                fnd_remedy(f, "grep VmSwap /proc/[0-9]*/status | sort -k2 -n | tail   # who is swapped out");
}

static void check_fragmentation(struct ctx *c, struct findings *fs)
{
        _cleanup_free_ char *text = read_or_unknown("/proc/buddyinfo", "memory.fragmentation", fs);
        if (!text)
                return;
        unsigned min_order = (unsigned)conf_uint(c, "frag_min_order");
        uint64_t large;
        unsigned zones = memory_large_blocks(text, min_order, &large);
        if (!zones) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "memory.fragmentation", "/proc/buddyinfo has no zones");
                fnd_evidence(f, "/proc/buddyinfo");
                return;
        }
        struct finding *f = fnd_add(fs, memory_fragmentation_verdict(large), "memory.fragmentation",
                                    large ? "%" PRIu64 " free blocks of order >= %u" : "no free block (%" PRIu64 ") of order >= %u: memory is fragmented",
                                    large, min_order);
        if (!large)
                fnd_remedy(f, "echo 1 > /proc/sys/vm/compact_memory   # or reserve huge pages at boot: hugepagesz=2M hugepages=N");
        fnd_expected(f, "at least one free block of order >= %u", min_order);
        fnd_actual(f, "%" PRIu64, large);
        fnd_evidence(f, "/proc/buddyinfo");
}

static void check_overcommit(struct ctx *c, const struct kvlist *mi, struct findings *fs)
{
        uint64_t mode;
        if (rootfs_read_u64("/proc/sys/vm/overcommit_memory", &mode) < 0)
                return;
        struct finding *f;
        if (mode == 2) {
                uint64_t limit, committed;
                if (kv_get_u64(mi, "CommitLimit", &limit) < 0 || kv_get_u64(mi, "Committed_AS", &committed) < 0 || !limit)
                        return;
                double pct;
                enum severity s = memory_commit_verdict(committed, limit, &pct);
                f = fnd_add(fs, s, "memory.overcommit", "strict overcommit: %.0f%% of CommitLimit committed", pct);
                fnd_expected(f, "Committed_AS < 90%% of CommitLimit");
                fnd_actual(f, "%.0f%%", pct);
                if (s != SEV_OK)
                        fnd_remedy(f, "sysctl -w vm.overcommit_ratio=<higher>   # or add swap; new mappings fail with ENOMEM at the limit");
        } else {
                f = fnd_add(fs, mode == 1 ? SEV_INFO : SEV_OK, "memory.overcommit", "vm.overcommit_memory = %" PRIu64 " (%s)",
                            mode, mode == 0 ? "heuristic" : mode == 1 ? "always: the OOM killer acts instead of ENOMEM" : "unknown");
                if (mode == 1)
                        fnd_remedy(f, "sysctl -w vm.overcommit_memory=0   # the default heuristic");
        }
        fnd_evidence(f, "/proc/sys/vm/overcommit_memory, /proc/meminfo");
}

static void memory_check(struct ctx *c, struct findings *fs)
{
        _cleanup_free_ char *text = read_or_unknown("/proc/meminfo", "memory.available", fs);
        if (!text)
                return;
        struct kvlist mi;
        kv_parse(text, ':', &mi);
        check_available(c, &mi, fs);
        check_swap(c, &mi, fs);
        check_fragmentation(c, fs);
        check_overcommit(c, &mi, fs);
        kv_free(&mi);
}

/* ---- watch ---- */

struct memory_watch {
        struct sfile meminfo, loadavg; /* kept open: re-read each interval */
};

/* MemAvailable with the memory.available verdict, swap in use, and the load
 * average (1, 5, 15 min; runnable tasks) from /proc/loadavg. */
static void memory_sample(struct ctx *c, struct sample *s)
{
        struct memory_watch *st = sample_state(c, sizeof(*st));
        char buf[16384];
        long n = sfile_read(&st->meminfo, "/proc/meminfo", buf, sizeof(buf));
        if (n < 0) {
                sample_status(s, "memory.available", NULL, SEV_UNKNOWN, "cannot read /proc/meminfo: %s", strerror((int)-n));
        } else {
                struct kvlist mi;
                kv_parse(buf, ':', &mi);
                uint64_t total, avail, swt, swf;
                if (kv_get_u64(&mi, "MemTotal", &total) < 0 || kv_get_u64(&mi, "MemAvailable", &avail) < 0 || !total) {
                        sample_status(s, "memory.available", NULL, SEV_UNKNOWN, "MemTotal/MemAvailable missing or unreadable in /proc/meminfo");
                } else {
                        double pct;
                        enum severity sev = memory_available_verdict(avail, total, conf_num(c, "warn_pct"), conf_num(c, "crit_pct"), &pct);
                        char a[32], t[32];
                        sample_value(s, "memory.available_bytes", NULL, (double)avail, "bytes");
                        sample_value(s, "memory.available_pct", NULL, pct, "%");
                        sample_status(s, "memory.available", NULL, sev, "%s available of %s (%.1f%%)", fmt_bytes(avail, a),
                                      fmt_bytes(total, t), pct);
                }
                uint64_t swap_used;
                double swap_pct;
                if (kv_get_u64(&mi, "SwapTotal", &swt) == 0 && kv_get_u64(&mi, "SwapFree", &swf) == 0 && swt) {
                        (void)memory_swap_verdict(swt, swf, conf_num(c, "swap_warn_pct"), &swap_used, &swap_pct);
                        sample_value(s, "memory.swap_used_bytes", NULL, (double)swap_used, "bytes");
                }
                kv_free(&mi);
        }
        /* "0.52 0.58 0.59 2/389 12345": load over 1, 5, 15 min, runnable/all tasks. */
        double l1, l5, l15;
        unsigned run, all;
        if (sfile_read(&st->loadavg, "/proc/loadavg", buf, sizeof(buf)) > 0 &&
            sscanf(buf, "%lf %lf %lf %u/%u", &l1, &l5, &l15, &run, &all) == 5) {
                sample_value(s, "memory.loadavg_1m", NULL, l1, NULL);
                sample_value(s, "memory.loadavg_5m", NULL, l5, NULL);
                sample_value(s, "memory.loadavg_15m", NULL, l15, NULL);
                sample_value(s, "memory.tasks_runnable", NULL, run, NULL);
        }
}

static void memory_free_state(void *state)
{
        struct memory_watch *st = state;
        sfile_close(&st->meminfo);
        sfile_close(&st->loadavg);
        free(st);
}

const struct collector memory_collector = {
        .name = "memory",
        .summary = "available memory, swap, fragmentation, overcommit",
        .checks = checks,
        .config = config,
        .check = memory_check,
        .sample = memory_sample,
        .sampled = (const char *const[]){"memory.available", NULL},
        .free_state = memory_free_state,
};
