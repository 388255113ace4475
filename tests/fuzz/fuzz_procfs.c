/* /proc and /etc text formats: Key: value files (status, meminfo), limits,
 * sysvipc/shm, interrupts, the kernel command line (and isolcpus=), PID/stat, mount
 * tables, passwd/group. Every input goes through every parser, as any of these files
 * can hold any bytes under --root. */
#include "tests/fuzz/fuzz.h"
#include "lib/mounts.h"
#include "lib/procfs.h"
#include "lib/users.h"

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

        struct mounts m;
        mounts_parse(s, &m);
        for (size_t i = 0; i < m.n; i++) {
                char *val = NULL;
                (void)mount_opt(m.v[i].opts, "size", &val);
                free(val);
                (void)mount_opt(m.v[i].opts, "ro", NULL);
        }
        (void)mounts_find(&m, "/dev/shm");
        mounts_free(&m);

        struct users *us = users_parse(s, s);
        unsigned uid;
        (void)users_name(us, 0);
        (void)users_group(us, 998);
        (void)users_uid(us, "lavinmq", &uid);
        free(users_owner(us, 0, 65534));
        users_free(us);
        free(s);
        return 0;
}
