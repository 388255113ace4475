#include "config.h"
#include "lib/housekeeping.h"
#include "lib/cpulist.h"
#include "lib/util.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

#define EVODIAG_NICE 10

static int read_list(const char *path, struct cpuset *set)
{
        char buf[4096];
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        return cpulist_parse(buf, set);
}

char *housekeeping_enter(void)
{
        struct strbuf b = {0};
        struct cpuset online, isolated, nohz, hk;
        cpuset_zero(&isolated);
        cpuset_zero(&nohz);
        if (read_list("/sys/devices/system/cpu/online", &online) < 0) {
                sb_puts(&b, "CPU affinity unchanged (cannot read /sys/devices/system/cpu/online)");
        } else {
                (void)read_list("/sys/devices/system/cpu/isolated", &isolated);
                (void)read_list("/sys/devices/system/cpu/nohz_full", &nohz);
                cpuset_andnot(&hk, &online, &isolated);
                cpuset_andnot(&hk, &hk, &nohz);
                _cleanup_free_ char *l = cpulist_format(&hk);
                if (cpuset_empty(&hk)) {
                        sb_puts(&b, "CPU affinity unchanged (every CPU is isolated)");
                } else {
                        cpu_set_t *set = CPU_ALLOC(CPULIST_MAX);
                        size_t sz = CPU_ALLOC_SIZE(CPULIST_MAX);
                        CPU_ZERO_S(sz, set);
                        for (unsigned c = 0; c < CPULIST_MAX; c++)
                                if (cpuset_isset(&hk, c))
                                        CPU_SET_S(c, sz, set);
                        if (sched_setaffinity(0, sz, set) == 0)
                                sb_printf(&b, "running on housekeeping CPUs %s", l);
                        else
                                sb_printf(&b, "could not move to housekeeping CPUs %s: %s", l, strerror(errno));
                        CPU_FREE(set);
                }
        }
        /* Started from an RT shell? Drop to SCHED_OTHER so we never preempt RT work. */
        struct sched_param sp = {0};
        if (sched_getscheduler(0) != SCHED_OTHER)
                (void)sched_setscheduler(0, SCHED_OTHER, &sp);
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, 0);
        if (errno == 0 && cur < EVODIAG_NICE)
                (void)setpriority(PRIO_PROCESS, 0, EVODIAG_NICE);
        errno = 0;
        cur = getpriority(PRIO_PROCESS, 0);
        sb_printf(&b, ", SCHED_OTHER at nice %d", cur);
        return sb_steal(&b);
}
