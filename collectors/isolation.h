/* isolation collector: the parsers and decisions it is made of, exported for the unit tests. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/cpulist.h"
#include "lib/finding.h"
#include "lib/procfs.h"

/* The isolation parameters of /proc/cmdline. */
struct iso_cmdline {
        bool has_isolcpus, has_nohz_full, has_rcu_nocbs, has_irqaffinity;
        struct isolcpus isolcpus;      /* CPUs and flags (domain, nohz, managed_irq) */
        struct cpuset nohz_full, rcu_nocbs, irqaffinity;
        bool rcu_nocbs_all;            /* bare "rcu_nocbs": every CPU (kernel >= 5.17) */
        char bad[128];                 /* first parameter that does not parse ("isolcpus=x"), "" if none */
};
void iso_cmdline_parse(const char *cmdline, struct iso_cmdline *out);
bool iso_cmdline_any(const struct iso_cmdline *c);
/* What the kernel should show in /sys/devices/system/cpu/isolated (isolcpus with the
 * domain flag, the default) and .../nohz_full (nohz_full= plus isolcpus=nohz,...). */
void iso_expected_isolated(const struct iso_cmdline *c, struct cpuset *out);
void iso_expected_nohz(const struct iso_cmdline *c, struct cpuset *out);
/* Every CPU meant to be isolated: the command line's and the kernel's, united. */
void iso_intended(const struct iso_cmdline *c, const struct cpuset *eff_isolated, const struct cpuset *eff_nohz,
                  struct cpuset *out);

/* An effective cpulist file (isolated, nohz_full): "" and "(null)" (older kernels) are empty. */
int iso_parse_effective(const char *text, struct cpuset *out);

/* Requested vs effective: missing = requested CPUs that exist but are not in effect (crit),
 * nonexistent = requested CPUs beyond the possible ones, extra = in effect but not requested. */
struct iso_diff {
        struct cpuset missing, nonexistent, extra;
};
void iso_compare(const struct cpuset *requested, const struct cpuset *effective, const struct cpuset *possible,
                 struct iso_diff *d);

/* An IRQ that matters: its affinity reaches isolated CPUs AND it fired on one of them.
 * *on_iso gets the isolated CPUs it fired on, *count their total. */
bool irq_fired_on(const struct irq_table *t, const struct irq_line *l, const struct cpuset *iso, struct cpuset *on_iso,
                  unsigned long long *count);
bool irq_hits_isolated(const struct cpuset *affinity, const struct cpuset *iso, const struct cpuset *fired_on_iso);
/* The isolation.irq verdict, in check and in watch alike: warn for a device IRQ that
 * may run on isolated CPUs (its affinity reaches them) and was handled there (since
 * boot for check, in the last interval for watch); else ok. */
enum severity iso_irq_verdict(bool allowed_on_isolated, uint64_t handled_on_isolated);
/* The action name of a /proc/interrupts description ("IO-APIC  4-edge  ttyS0" -> "ttyS0"). */
const char *irq_action(const char *desc, char *buf, size_t n);

/* IRQBALANCE_BANNED_CPUS (hex mask) or IRQBALANCE_BANNED_CPULIST in an environment file
 * (/etc/default/irqbalance) or a NUL-separated environ. Returns 0 (set found, *which names
 * the variable), -ENOENT (neither set), -EINVAL (set but unparsable). */
int irqbalance_banned(const char *text, size_t len, struct cpuset *out, const char **which);

/* irqbalance running with isolation: ok when its banned CPUs (explicit, banned_r == 0)
 * cover the intended isolated CPUs; without an explicit setting irqbalance bans the
 * kernel's isolated and nohz_full CPUs itself (auto), so that is info if they cover the
 * intended set and warn if not; an explicit set that misses CPUs, or a bad one, is warn. */
enum severity irqbalance_verdict(int banned_r, const struct cpuset *banned, const struct cpuset *intended,
                                 const struct cpuset *auto_banned);

/* A CPU set as the kernel's hex mask ("3", "ff,ffffffff"). */
char *cpumask_format_hex(const struct cpuset *s);

/* ---- shared by the collector's files ---- */

#define SYSCPU "/sys/devices/system/cpu"

struct iso_state {
        struct iso_cmdline cmd;
        struct cpuset exp_isolated, exp_nohz;
        struct cpuset eff_isolated, eff_nohz;
        int r_isolated, r_nohz;      /* reading the effective files: 0 or -errno */
        struct cpuset possible;      /* empty if unknown */
        struct cpuset intended;      /* every CPU meant to be isolated */
        struct cpuset hk;            /* housekeeping: online minus intended */
        char *iso_list, *hk_list;
};

/* /proc/cmdline and the kernel's isolated, nohz_full and possible CPU lists, and what
 * follows from them (expected and intended sets). Returns 0, or the -errno of reading
 * /proc/cmdline (the kernel's own lists are read even then). */
int iso_state_read(struct iso_state *st);

struct ctx;
struct sample;
void iso_sample(struct ctx *c, struct sample *s);
void iso_free_state(void *state);
