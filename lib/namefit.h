/* Names evodiag makes from what a host offers (a segment's name plus ".mappers.json",
 * a host name in the bundle's top directory) must fit file systems and tar: every
 * component at most NAME_COMPONENT_MAX bytes (NAME_MAX). A legal 243-byte /dev/shm
 * name once made an artifact name of 256 bytes, and `check --from` could not unpack
 * any bundle of that host. */
#pragma once
#include <stddef.h>

#define NAME_COMPONENT_MAX 255

/* name itself when it has at most max bytes; else its first bytes, "~", 16 hex
 * digits of its SHA-256 and its last bytes (the extension), max bytes in all, cut
 * at UTF-8 character boundaries. The same name always gives the same result. */
char *name_fit(const char *name, size_t max);
/* Every '/'-separated component of path through name_fit(…, NAME_COMPONENT_MAX). */
char *path_fit(const char *path);
/* s (or `empty` when s is NULL or "") as a plain file-name part: letters, digits,
 * '.', '-' and '_' kept, every other byte '_', then name_fit(…, max). */
char *name_plain(const char *s, const char *empty, size_t max);
