/* A hashed table from paths to malloc'ed values (owned by the table): rootfs's
 * --from injections, its trace index and the bundle snapshot look paths up in it. */
#pragma once
#include <stddef.h>

/* Hashed: a bundle's manifest injects tens of thousands of entries, and every read
 * looks its path up. Values are malloc'ed and owned by the table. */
struct pm_node {
        struct pm_node *next;
        void *val;
        char path[];
};
struct pathmap {
        struct pm_node **b;
        size_t n, nb; /* nb: a power of two */
};

/* FNV-1a of a path, folded: the bucket of a power-of-two table is hash & (n - 1). */
size_t pm_hash(const char *s);
void *pm_get(const struct pathmap *m, const char *path);
/* Sets path's value; the latest wins (the old value is freed). */
void pm_put(struct pathmap *m, const char *path, void *val);
