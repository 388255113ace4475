#include "config.h"
#include "report/artstore.h"
#include "lib/pathmap.h"

#include <stdlib.h>
#include <string.h>

static void encode(struct artstore *s, size_t i, const struct manifest_artifact *a)
{
        size_t start = s->rec.len;
        mf_encode(&artifact_schema, a, &s->rec);
        s->v[i].off = start;
        s->v[i].len = s->rec.len - start;
}

size_t artstore_add(struct artstore *s, const struct manifest_artifact *a)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 256;
                s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
        }
        size_t i = s->n++;
        s->v[i].path_off = s->paths.len;
        const char *p = a->path ? a->path : "";
        sb_putn(&s->paths, p, strlen(p) + 1);
        encode(s, i, a);
        return i;
}

void artstore_get(const struct artstore *s, size_t i, struct manifest_artifact *a)
{
        const char *bad = NULL;
        size_t at = 0;
        /* Our own bytes, encoded above: they decode (a failure would be a bug here). */
        if (mf_decode(&artifact_schema, s->rec.s + s->v[i].off, s->v[i].len, a, &bad, &at) < 0)
                abort();
}

void artstore_set(struct artstore *s, size_t i, const struct manifest_artifact *a) { encode(s, i, a); }

const char *artstore_path(const struct artstore *s, size_t i) { return s->paths.s + s->v[i].path_off; }

bool artstore_find(const struct artstore *s, const char *path, size_t *i)
{
        if (!s->nslot)
                return false;
        for (size_t k = pm_hash(path) & (s->nslot - 1);; k = (k + 1) & (s->nslot - 1)) {
                uint32_t x = s->slot[k];
                if (!x)
                        return false;
                if (streq(artstore_path(s, x - 1), path)) {
                        *i = x - 1;
                        return true;
                }
        }
}

static void put_slot(uint32_t *slot, size_t nslot, const char *path, size_t i)
{
        size_t k = pm_hash(path) & (nslot - 1);
        while (slot[k])
                k = (k + 1) & (nslot - 1);
        slot[k] = (uint32_t)(i + 1);
}

void artstore_hold(struct artstore *s, size_t i)
{
        if ((s->held + 1) * 2 > s->nslot) { /* at most half full */
                size_t nslot = s->nslot ? s->nslot * 2 : 1024;
                uint32_t *slot = xcalloc(nslot, sizeof(*slot));
                for (size_t k = 0; k < s->nslot; k++)
                        if (s->slot[k])
                                put_slot(slot, nslot, artstore_path(s, s->slot[k] - 1), s->slot[k] - 1);
                free(s->slot);
                s->slot = slot;
                s->nslot = nslot;
        }
        put_slot(s->slot, s->nslot, artstore_path(s, i), i);
        s->held++;
}

void artstore_free(struct artstore *s)
{
        sb_free(&s->rec);
        sb_free(&s->paths);
        free(s->v);
        free(s->slot);
        *s = (struct artstore){0};
}
