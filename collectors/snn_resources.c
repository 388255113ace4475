/* snn: host limits the guide names for the service: somaxconn and the open-files
 * limit against [server] max_connections, CPU frequency caps and thermal throttling. */
#include "config.h"
#include "collectors/snn_private.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"

#include <inttypes.h>
#include <stdio.h>

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
