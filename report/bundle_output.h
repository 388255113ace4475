/* report/bundle.c's helpers for where the archive goes (report/bundle_output.c). */
#pragma once
#include <stddef.h>
#include "report/bundle.h"

struct redactor;

/* Where the archive goes: a temporary name in the target directory (*tmp, *fd,
 * locked), renamed to *final when whole; "-" is stdout (no *tmp). *stale: how many
 * temporaries of killed runs were removed there. 0, or -errno (said on stderr). */
int bundle_open_output(const struct bundle_opts *o, const char *defname, char **final, char **tmp, int *fd, size_t *stale);
/* Loads (or makes and keeps) the key under o->state_dir and turns obfuscation on. 0 or -EIO. */
int bundle_obfuscation_key(const struct bundle_opts *o, struct redactor *red);
