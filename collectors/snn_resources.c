/* snn: host limits the guide names for the service: somaxconn and the open-files
 * limit against [server] max_connections, CPU frequency caps and thermal throttling. */
#include "config.h"
#include "collectors/snn_private.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

/* CPUs whose frequency is capped or that throttled: "cpu0 2.0/3.5 GHz", counts. */
static void cpu_caps(size_t *capped, size_t *cpus, char *first, size_t fl, uint64_t *throttles)
{
        *capped = *cpus = 0;
        *throttles = 0;
        first[0] = 0;
        for (int i = 0; i < 4096; i++) {
                char p[128];
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d", i);
                if (!rootfs_exists(p))
                        break;
                uint64_t smax, cmax, t;
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_max_freq", i);
                bool have = rootfs_read_u64(p, &smax) == 0;
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq", i);
                if (have && rootfs_read_u64(p, &cmax) == 0) {
                        (*cpus)++;
                        if (smax < cmax) {
                                if (!*capped)
                                        snprintf(first, fl, "cpu%d scaling_max_freq %" PRIu64 " kHz < cpuinfo_max_freq %" PRIu64 " kHz",
                                                 i, smax, cmax);
                                (*capped)++;
                        }
                }
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/thermal_throttle/core_throttle_count", i);
                if (rootfs_read_u64(p, &t) == 0)
                        *throttles += t;
        }
}

void snn_check_resources(struct ctx *c, struct snn *s, struct findings *fs)
{
        (void)c;
        struct finding *f;
        int64_t maxc = s->have_conf ? s->conf.max_connections : -1;
        uint64_t somax = 0;
        if (maxc > 0) {
                int rc = rootfs_read_u64("/proc/sys/net/core/somaxconn", &somax);
                if (rc < 0)
                        f = fnd_add(fs, SEV_UNKNOWN, "snn.resources", "net.core.somaxconn cannot be read: %s", rootfs_strerror(rc));
                else {
                        enum severity sev = somax < (uint64_t)maxc ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, sev, "snn.resources", "net.core.somaxconn %" PRIu64 " %s [server] max_connections %" PRId64,
                                    somax, sev == SEV_WARN ? "is below" : ">=", maxc);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "sysctl -w net.core.somaxconn=%" PRId64 "; echo net.core.somaxconn=%" PRId64
                                              " > /etc/sysctl.d/99-cerebellar-norse.conf",
                                           maxc, maxc);
                }
                fnd_subject(f, "somaxconn");
                fnd_evidence(f, "/proc/sys/net/core/somaxconn, %s", s->conf_path);
                for (size_t i = 0; i < s->npids; i++) {
                        uint64_t soft, hard;
                        if (proc_limit(s->pids[i], "Max open files", &soft, &hard) < 0)
                                continue;
                        enum severity sev = soft != LIMIT_UNLIMITED && soft < (uint64_t)maxc ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, sev, "snn.resources", "pid %d may open %" PRIu64 " files %s max_connections %" PRId64,
                                    s->pids[i], soft, sev == SEV_WARN ? "<" : ">=", maxc);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "systemctl edit cerebellar-norse -> [Service] LimitNOFILE=%" PRId64 "; or prlimit "
                                              "--pid %d --nofile=%" PRId64,
                                           maxc * 2, s->pids[i], maxc * 2);
                        fnd_subject(f, "pid %d nofile", s->pids[i]);
                        fnd_evidence(f, "/proc/%d/limits", s->pids[i]);
                }
        }
        size_t capped, cpus;
        uint64_t thr;
        char first[160];
        cpu_caps(&capped, &cpus, first, sizeof(first), &thr);
        if (cpus) {
                enum severity sev = capped || thr ? SEV_WARN : SEV_OK;
                if (capped)
                        f = fnd_add(fs, sev, "snn.resources", "%zu of %zu CPUs capped below their maximum frequency: %s%s", capped,
                                    cpus, first, thr ? "; thermal throttling events counted" : "");
                else
                        f = fnd_add(fs, sev, "snn.resources", "%zu CPUs may run at their maximum frequency%s", cpus,
                                    thr ? ", but thermal throttling events are counted" : "");
                if (thr)
                        fnd_actual(f, "%" PRIu64 " core throttle events", thr);
                if (sev == SEV_WARN)
                        fnd_remedy(f, "cpupower frequency-set -g performance; sensors  # cooling? (the guide's \"High Latency\")");
                fnd_subject(f, "cpufreq");
                fnd_evidence(f, "/sys/devices/system/cpu/cpu*/cpufreq");
        }
        if (maxc <= 0 && !cpus)
                fnd_add(fs, SEV_SKIPPED, "snn.resources", "no [server] max_connections and no cpufreq to compare");
}

/* ---- RSS growth across the window (the guide's "Memory Leaks": ps -o rss in a loop) ---- */

int snn_read_rss(int pid, uint64_t *bytes)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/status", pid);
        _cleanup_free_ char *text = NULL;
        long n = rootfs_read(p, 64u << 10, &text, NULL);
        if (n < 0)
                return (int)n;
        struct kvlist kv = {0};
        int r = kv_parse(text, ':', &kv);
        if (r == 0)
                r = kv_get_u64(&kv, "VmRSS", bytes);
        kv_free(&kv);
        return r < 0 ? r : 0;
}

void snn_rss_read_all(struct snn *s)
{
        uint64_t now = now_ms_monotonic();
        for (size_t i = 0; i < s->nrss; i++) {
                uint64_t b;
                if (s->rss_gone[i])
                        continue;
                if (snn_read_rss(s->rss[i].pid, &b) < 0)
                        s->rss_gone[i] = true;
                else
                        snn_rss_add(&s->rss[i], now, b);
        }
}

const char *snn_fmt_rate(double per_min, char buf[static 32])
{
        char b[32];
        snprintf(buf, 32, "%s%s/min", per_min < 0 ? "-" : "+", fmt_bytes((uint64_t)fabs(per_min), b));
        return buf;
}

static void sleep_ms(uint64_t ms)
{
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

void snn_check_rss(struct ctx *c, struct snn *s, struct findings *fs)
{
        if (!s->live) {
                fnd_add(fs, SEV_SKIPPED, "snn.rss", "not the live host: RSS growth needs readings over time");
                return;
        }
        if (!s->nrss) {
                fnd_add(fs, SEV_SKIPPED, "snn.rss", "no process of the service runs: no RSS to follow");
                return;
        }
        uint64_t win = 2000;
        (void)parse_duration_ms(conf_str(c, "rss_window"), &win);
        uint64_t t0 = s->rss[0].n ? s->rss[0].t_ms[0] : now_ms_monotonic(), step = win / 8 < 100 ? 100 : win / 8;
        bool cut = false;
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (now >= t0 + win)
                        break;
                uint64_t left = ctx_budget_ms(c, t0 + win - now, 300);
                if (!left) {
                        cut = true;
                        break;
                }
                sleep_ms(left < step ? left : step);
                snn_rss_read_all(s);
        }
        uint64_t warn = 10u << 20, crit = 100u << 20;
        (void)parse_size(conf_str(c, "rss_growth_warn"), &warn);
        (void)parse_size(conf_str(c, "rss_growth_crit"), &crit);
        for (size_t i = 0; i < s->nrss; i++) {
                const struct snn_rss_series *r = &s->rss[i];
                struct snn_rss_trend t;
                struct finding *f;
                char a[32], b[32], d[32], w[32];
                if (snn_rss_trend(r, &t) < 0) {
                        f = fnd_add(fs, SEV_UNKNOWN, "snn.rss", "pid %d: fewer than two RSS readings (%s)", r->pid,
                                    s->rss_gone[i] ? "it exited" : cut ? "the collector's time was up" : "[snn] rss_window is too short");
                } else {
                        enum severity sev = snn_rss_verdict(&t, warn, crit);
                        f = fnd_add(fs, sev, "snn.rss", "pid %d RSS %s -> %s in %.1f s (%s)%s", r->pid, fmt_bytes(r->rss[0], a),
                                    fmt_bytes(r->rss[r->n - 1], b), (double)t.span_ms / 1000.0, snn_fmt_rate(t.per_min, d),
                                    sev >= SEV_WARN ? ": growing steadily, leak suspect" : sev == SEV_INFO ? ": grew, but not steadily" : "");
                        fnd_actual(f, "%zu readings, RSS rose at %zu of %zu steps%s%s", r->n, t.rises, t.steps,
                                   s->rss_gone[i] ? "; the process exited meanwhile" : "", cut ? "; the window was cut short by the collector's time" : "");
                        fnd_expected(f, "RSS growth below %s", snn_fmt_rate((double)warn, w));
                        if (sev >= SEV_WARN)
                                fnd_remedy(f, "while true; do ps -o pid,vsz,rss,comm -p %d; sleep 60; done  # still growing? "
                                              "(the guide's \"Memory Leaks\"); evodiag watch --only snn follows it; "
                                              "valgrind --tool=massif on a test instance",
                                           r->pid);
                }
                fnd_subject(f, "pid %d", r->pid);
                fnd_evidence(f, "/proc/%d/status VmRSS", r->pid);
        }
}
