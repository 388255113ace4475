/* The end of a log file, bounded: what collectors scan for a component's recent
 * errors without reading a multi-gigabyte log. Through lib/rootfs (--root, regular
 * files only, O_NONBLOCK: a FIFO is refused, never waited on). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The last max bytes of path from the first complete line in them (NUL-terminated in
 * *out). Returns the bytes kept or -errno; *cut (may be NULL) when the file was longer. */
long file_tail(const char *path, size_t max, char **out, bool *cut);
