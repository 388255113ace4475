/* Where a bundle's archive goes and what it is called (report/bundle_output.c):
 * report/bundle.c's helpers, and the name watch --bundle-on gives its bundles. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct redactor;

/* Where the archive goes (output: NULL for the current directory, a directory, a
 * file, or "-" for stdout): a temporary name in the target directory (*tmp, *fd,
 * locked), renamed to *final when whole (no *tmp for stdout). *stale: how many
 * temporaries of killed runs were removed there. 0, or -errno (said on stderr). */
int bundle_open_output(const char *output, const char *defname, char **final, char **tmp, int *fd, size_t *stale);
/* Loads (or makes and keeps) the key under state_dir and turns obfuscation on, host
 * among the names replaced. 0 or -EIO. */
int bundle_obfuscation_key(const char *state_dir, const char *host, struct redactor *red);
/* "evodiag-<host>-<UTC time>[-<tag>]": the top directory and file name of a bundle,
 * the host (and tag) as plain file-name characters. */
char *bundle_name(const char *host, uint64_t realtime_ms, const char *tag);
