/* Safe unpacking of a bundle for `check --from`: into a private temporary directory,
 * refusing absolute paths, "..", links that leave the tree, devices and FIFOs, and
 * anything past a size and entry budget. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define UNPACK_MAX_BYTES (4ull << 30)
#define UNPACK_MAX_ENTRIES 500000

/* Unpacks `archive` into a new directory under $TMPDIR; *dir gets it. On refusal
 * nothing is left behind and *err says which entry and why. */
int unpack_bundle(const char *archive, char **dir, char **err);
/* Removes a tree without following links. */
void remove_tree(const char *dir);
