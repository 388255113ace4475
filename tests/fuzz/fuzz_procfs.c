/* /proc text formats: Key: value files (status, meminfo), limits, sysvipc/shm,
 * interrupts, the kernel command line (and isolcpus=), PID/stat. Every input goes
 * through every parser, as any of these files can hold any bytes under --root. */
#include "tests/fuzz/fuzz.h"
#include "lib/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        uint64_t u, soft, hard;

        struct kvlist kv;
        kv_parse(s, ':', &kv);
        static const char *const keys[] = {"MemTotal", "MemAvailable", "VmLck", "VmRSS", "Threads", "Uid", "HugePages_Total", "Hugepagesize"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
                (void)kv_get(&kv, keys[i]);
                (void)kv_get_u64(&kv, keys[i], &u);
        }
        kv_free(&kv);
        kv_parse(s, '=', &kv); /* the same parser on KEY=value files */
        kv_free(&kv);

        static const char *const lims[] = {"Max open files", "Max locked memory", "Max realtime priority", "Max open"};
        for (size_t i = 0; i < sizeof(lims) / sizeof(*lims); i++)
                (void)limits_get(s, lims[i], &soft, &hard);

        struct sysv_shm *shm;
        size_t bad;
        if (sysvipc_shm_parse(s, &shm, &bad) >= 0)
                free(shm);

        struct irq_table t;
        if (interrupts_parse(s, &t) == 0)
                interrupts_free(&t);

        static const char *const params[] = {"isolcpus", "nohz_full", "rcu_nocbs", "irqaffinity", "quiet"};
        for (size_t i = 0; i < sizeof(params) / sizeof(*params); i++) {
                char *v = NULL;
                if (cmdline_param(s, params[i], &v) == 0) {
                        struct isolcpus iso;
                        (void)isolcpus_parse(v, &iso);
                }
                free(v);
        }

        struct proc_stat st;
        (void)proc_stat_parse(s, &st);
        free(s);
        return 0;
}
