#include "config.h"
#include "lib/pathmap.h"
#include "lib/util.h"

#include <stdint.h>
#include <string.h>

size_t pm_hash(const char *s)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return (size_t)(h ^ (h >> 32));
}

static struct pm_node *pm_node(const struct pathmap *m, const char *path)
{
        if (!m->nb)
                return NULL;
        for (struct pm_node *e = m->b[pm_hash(path) & (m->nb - 1)]; e; e = e->next)
                if (streq(e->path, path))
                        return e;
        return NULL;
}

void *pm_get(const struct pathmap *m, const char *path)
{
        const struct pm_node *e = pm_node(m, path);
        return e ? e->val : NULL;
}

void pm_put(struct pathmap *m, const char *path, void *val)
{
        struct pm_node *e = pm_node(m, path);
        if (e) {
                free(e->val);
                e->val = val;
                return;
        }
        if (m->n >= m->nb / 4 * 3) {
                size_t nb = m->nb ? m->nb * 2 : 64;
                struct pm_node **b = xcalloc(nb, sizeof(*b));
                for (size_t i = 0; i < m->nb; i++)
                        for (struct pm_node *x = m->b[i], *next; x; x = next) {
                                next = x->next;
                                size_t k = pm_hash(x->path) & (nb - 1);
                                x->next = b[k];
                                b[k] = x;
                        }
                free(m->b);
                m->b = b;
                m->nb = nb;
        }
        size_t len = strlen(path);
        e = xmalloc(sizeof(*e) + len + 1);
        memcpy(e->path, path, len + 1);
        e->val = val;
        size_t k = pm_hash(path) & (m->nb - 1);
        e->next = m->b[k];
        m->b[k] = e;
        m->n++;
}
