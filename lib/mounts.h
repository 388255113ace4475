/* Mount tables (/proc/mounts text, root-aware when read through lib/rootfs), parsed by
 * libc's getmntent_r (it undoes the \040-style escapes), options by hasmntopt. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct mount_entry {
        char *src, *dir, *type, *opts;
};
struct mounts {
        struct mount_entry *v;
        size_t n;
        size_t bad; /* lines with fewer than three fields (opts may be "") */
};

#define MOUNTS_MAX 100000 /* a table longer than this is not a real one */

/* Parses a whole table. Never fails: malformed lines are counted in out->bad. */
void mounts_parse(const char *text, struct mounts *out);
void mounts_free(struct mounts *m);
/* The entry mounted at dir: the last one, since a later mount hides an earlier one. */
const struct mount_entry *mounts_find(const struct mounts *m, const char *dir);
/* Whether the comma-separated options contain `name` ("ro") or "name=..."; *val (may
 * be NULL) gets the value, newly allocated (NULL when the option has none). */
bool mount_opt(const char *opts, const char *name, char **val);
