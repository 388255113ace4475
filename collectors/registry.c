/* The one table of collectors. Adding a collector = one file + one line here
 * (+ its file in Makefile.am). Order is the order of the report. */
#include "config.h"
#include "collectors/collector.h"

extern const struct collector shm_collector;
extern const struct collector hugepages_collector;
extern const struct collector rt_collector;
extern const struct collector isolation_collector;
extern const struct collector fds_collector;
extern const struct collector maps_collector;
extern const struct collector memory_collector;
extern const struct collector evo_collector;
extern const struct collector lavinmq_collector;

const struct collector *const collectors[] = {
        &shm_collector,
        &hugepages_collector,
        &rt_collector,
        &isolation_collector,
        &fds_collector,
        &maps_collector,
        &memory_collector,
        &evo_collector,
        &lavinmq_collector,
        NULL,
};

const struct collector *collector_find(const char *name)
{
        for (size_t i = 0; collectors[i]; i++)
                if (streq(collectors[i]->name, name))
                        return collectors[i];
        return NULL;
}

const struct check_info *check_find(const char *id, const struct collector **owner)
{
        for (size_t i = 0; collectors[i]; i++)
                for (const struct check_info *ci = collectors[i]->checks; ci && ci->id; ci++)
                        if (streq(ci->id, id)) {
                                if (owner)
                                        *owner = collectors[i];
                                return ci;
                        }
        return NULL;
}
