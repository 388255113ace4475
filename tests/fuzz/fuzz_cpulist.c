/* CPU lists ("0-3,8,10-15:2/4", isolated, nohz_full, smp_affinity_list) and hex
 * masks (smp_affinity): parse, format back, and the formatted list parses to the same set. */
#include "tests/fuzz/fuzz.h"
#include "lib/cpulist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct cpuset a, b;
        if (cpulist_parse(s, &a) == 0) {
                char *f = cpulist_format(&a);
                if (cpulist_parse(f, &b) != 0 || !cpuset_equal(&a, &b))
                        abort(); /* the shortest form must read back as the same set */
                free(f);
        }
        if (cpumask_parse(s, &a) == 0) {
                char *f = cpulist_format(&a);
                if (cpulist_parse(f, &b) != 0 || !cpuset_equal(&a, &b))
                        abort();
                free(f);
                (void)cpuset_count(&a);
        }
        free(s);
        return 0;
}
