/* Parsers for the /proc and /sys text formats the collectors read. Each takes the
 * file's text (already read through rootfs) and never trusts it: malformed lines
 * are skipped and counted, numbers are range-checked. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/cpulist.h"

#define LIMIT_UNLIMITED UINT64_MAX

/* "Key:   value kB" files: /proc/meminfo, /proc/PID/status, per-node meminfo. */
struct kv {
        char *key, *value;
};
struct kvlist {
        struct kv *v;
        size_t n, cap;
        size_t bad_lines;
};
int kv_parse(const char *text, char sep, struct kvlist *out);
/* The same, keeping only the lines whose key is one of keys (NULL-terminated): a
 * process table reads three of /proc/PID/status's ~55 lines, thousands of times. */
int kv_parse_keys(const char *text, char sep, const char *const *keys, struct kvlist *out);
const char *kv_get(const struct kvlist *l, const char *key);
/* The value's leading number, multiplied by 1024 when the unit is "kB". -ENOENT, -EINVAL. */
int kv_get_u64(const struct kvlist *l, const char *key, uint64_t *out);
void kv_free(struct kvlist *l);

/* The value of variable name in a NUL-separated /proc/PID/environ text (newly
 * allocated), or NULL when it is not set. */
char *environ_get(const char *env, size_t len, const char *name);

/* /proc/PID/limits: soft and hard of one limit ("Max open files"). */
int limits_get(const char *text, const char *name, uint64_t *soft, uint64_t *hard);

/* /proc/sysvipc/shm */
struct sysv_shm {
        int64_t key;
        int shmid;
        unsigned perms;
        uint64_t size;
        int cpid, lpid;
        uint64_t nattch;
        unsigned uid, gid, cuid, cgid;
        int64_t atime, dtime, ctime;
        uint64_t rss, swap;
};
/* Returns the number of segments (array in *out) or -EINVAL if the header is wrong. */
int sysvipc_shm_parse(const char *text, struct sysv_shm **out, size_t *bad_lines);

/* /proc/interrupts */
struct irq_line {
        char name[32];         /* "24", "NMI", "LOC" */
        bool numeric;
        uint64_t *count;       /* per CPU column */
        char *desc;            /* the rest: chip, hwirq, actions */
};
struct irq_table {
        unsigned ncpus;
        unsigned *cpu_ids;     /* CPU number of each column ("CPU0 CPU1 CPU3" after hotplug) */
        struct irq_line *v;
        size_t n;
        size_t bad_lines;
};
int interrupts_parse(const char *text, struct irq_table *out);
void interrupts_free(struct irq_table *t);

/* /proc/cmdline: the value of the last `name=value` (quotes removed); "" for a bare flag.
 * Returns 0, -ENOENT. */
int cmdline_param(const char *cmdline, const char *name, char **value);

/* isolcpus= value: optional flags (domain, managed_irq, nohz) before the CPU list. */
struct isolcpus {
        struct cpuset cpus;
        bool domain, managed_irq, nohz;
};
int isolcpus_parse(const char *value, struct isolcpus *out);

/* /proc/PID/stat fields (comm may hold spaces and parentheses). */
struct proc_stat {
        int pid, ppid;
        char comm[64];
        char state;
        int64_t nice;
        int64_t num_threads;
        uint64_t utime, stime, starttime, rss_pages;
        uint64_t vsize;  /* field 23: bytes of virtual memory (every map area is at least a page of it) */
        int processor;
        unsigned rt_priority, policy;
        uint64_t flags; /* field 9: PF_* */
};
int proc_stat_parse(const char *text, struct proc_stat *out);
/* /proc/PID/stat with the memory-layout fields the kernel shows only to a reader
 * that may ptrace the process (startcode, endcode, startstack, kstkesp, kstkeip and
 * start_data .. env_end: fields 26-30 and 45-51) set to 0, as every other reader sees
 * them: no check reads them, and they are where ASLR put each process. A new string
 * (*out_len bytes); *hidden: how many were not 0 already. NULL when the text is not
 * in the format (it is then left as it is). */
char *proc_stat_hide_layout(const char *text, size_t len, size_t *out_len, unsigned *hidden);
/* The one rule for a kernel thread: the kernel's own PF_KTHREAD flag (stat field 9),
 * not a guess from an empty command line or a parent pid. */
#define PF_KTHREAD 0x00200000u
static inline bool proc_flags_kthread(uint64_t flags) { return (flags & PF_KTHREAD) != 0; }

/* What scripts/mkcompile_h put into the kernel's version string (uname -v,
 * /proc/sys/kernel/version): whole words, "PREEMPT_RT" (or "PREEMPT RT" from the old
 * RT patches) wins over "PREEMPT_DYNAMIC", which wins over "PREEMPT". The one rule for
 * every check that asks whether the kernel is PREEMPT_RT (rt, hugepages). */
enum kflavour {
        KF_NONE,            /* "#1 SMP ...": none or voluntary, cannot tell which */
        KF_PREEMPT,         /* full preemption, fixed at build time */
        KF_PREEMPT_DYNAMIC, /* model chosen at boot (preempt=) or at run time */
        KF_PREEMPT_RT,
};
enum kflavour rt_flavour_from_version(const char *version);
const char *rt_flavour_name(enum kflavour f);
