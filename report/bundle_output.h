/* Where a bundle's archive goes and what it is called (report/bundle_output.c):
 * report/bundle.c's helpers, and the name watch --bundle-on gives its bundles. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct redactor;

/* Where a bundle goes without -o: /var/tmp as root (like sos), else the current directory. */
const char *bundle_default_dir(void);
/* The room a small bundle needs in its directory before anything is collected. */
#define BUNDLE_MIN_FREE (1u << 20)
/* Where the archive goes (output: NULL for bundle_default_dir(), a directory, a
 * file, or "-" for stdout), checked before anything is collected: a path ending in
 * '/' must be an existing directory, a file path's directory must exist, be a
 * directory and writable, and have BUNDLE_MIN_FREE bytes free. Then a temporary name
 * beside the final one (*tmp, *fd, locked), renamed to *final when whole (no *tmp for
 * stdout). *stale: how many temporaries of killed runs were removed there. 0, or
 * -errno (said on stderr). */
int bundle_open_output(const char *output, const char *defname, char **final, char **tmp, int *fd, size_t *stale);
/* A temporary file for what the bundle need not hold in memory while it is made (the
 * snapshot of the host's small files, manifest.json): nameless (O_TMPFILE, else
 * unlinked at once) in tmp's directory, or for stdout in $TMPDIR, /var/tmp or /tmp.
 * An fd opened for reading and writing, or -errno (then memory it is). */
int bundle_spill_open(const char *tmp);
/* FINAL.sha256 beside the archive, in sha256sum(1)'s format ("HEX  NAME\n"). 0 or -errno. */
int bundle_write_sha256(const char *final, const char *sha256);
/* Loads (or makes and keeps) the key under state_dir and turns obfuscation on, host
 * among the names replaced. 0 or -EIO. */
int bundle_obfuscation_key(const char *state_dir, const char *host, struct redactor *red);
/* "evodiag-<host>-<UTC time>[-<tag>]": the top directory and file name of a bundle,
 * the host (and tag) as plain file-name characters. */
char *bundle_name(const char *host, uint64_t realtime_ms, const char *tag);
