/* The manifest's artifact entries while a bundle is written (report/bundle.c): each
 * entry in its table's binary form (lib/jsontable.h: mf_encode) in one arena, and the
 * paths stored in the archive hashed, instead of a struct of two dozen fields and a
 * dozen small allocations per entry plus a json-c object per path. A bundle of a host
 * with 1,500 processes holds ~8,000 entries; one of 10,000 EVO segments 50,000.
 * Entries are read back one at a time (artstore_get: a decoded copy). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collectors/artifact.h"
#include "lib/util.h"

struct artstore {
        struct strbuf rec;   /* the records, one after another */
        struct strbuf paths; /* each entry's path, NUL-terminated */
        struct art_at {
                uint64_t off;      /* its record in rec (a changed entry is written again at the end) */
                uint64_t path_off; /* its path in paths */
                size_t len;
        } *v;
        size_t n, cap;
        uint32_t *slot; /* open addressing: index + 1 of an entry whose path is held (0: empty) */
        size_t nslot, held;
};

/* Adds a copy of *a; returns its index. */
size_t artstore_add(struct artstore *s, const struct manifest_artifact *a);
/* Entry i, decoded into *a (the caller frees it with artifact_free). */
void artstore_get(const struct artstore *s, size_t i, struct manifest_artifact *a);
/* Replaces entry i by *a (a copy). */
void artstore_set(struct artstore *s, size_t i, const struct manifest_artifact *a);
const char *artstore_path(const struct artstore *s, size_t i);
/* Whether path is held (artstore_hold), and by which entry. */
bool artstore_find(const struct artstore *s, const char *path, size_t *i);
/* Entry i's path is held: later entries with the same path are duplicates. */
void artstore_hold(struct artstore *s, size_t i);
void artstore_free(struct artstore *s);
