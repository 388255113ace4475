/* CPU lists as the kernel writes them ("0-3,8,10-11", isolcpus flags aside). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define CPULIST_MAX 8192 /* CONFIG_NR_CPUS upper bound on x86-64 */

struct cpuset {
        unsigned long bits[CPULIST_MAX / (8 * sizeof(unsigned long))];
};

/* Parses "0-3,8,10-11" (also "", "0-15:2/4" strides per the kernel's bitmap_parselist).
 * Returns 0 or -EINVAL; on error *set is left empty. */
int cpulist_parse(const char *s, struct cpuset *set);
/* Formats back to the shortest list form into a new string. */
char *cpulist_format(const struct cpuset *set);
/* Parses a hex mask as in /proc/irq/N/smp_affinity ("ff,ffffffff"). */
int cpumask_parse(const char *s, struct cpuset *set);

void cpuset_zero(struct cpuset *s);
void cpuset_set(struct cpuset *s, unsigned cpu);
bool cpuset_isset(const struct cpuset *s, unsigned cpu);
size_t cpuset_count(const struct cpuset *s);
bool cpuset_empty(const struct cpuset *s);
void cpuset_and(struct cpuset *out, const struct cpuset *a, const struct cpuset *b);
void cpuset_or(struct cpuset *out, const struct cpuset *a, const struct cpuset *b);
void cpuset_andnot(struct cpuset *out, const struct cpuset *a, const struct cpuset *b);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b);
