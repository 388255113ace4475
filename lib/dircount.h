/* Counting a directory's entries without keeping their names: the /proc/PID/fd of
 * a broker with 150,000 open fds is one number, not 150,000 strings (and not a
 * listing cut at a bound, which once reported such a broker at 62.5 %).
 *
 * Live, the entries are counted with getdents64 as they come. Under --root the
 * listing is read through rootfs (bounded by ROOTFS_DIR_MAX). A bundle records
 * the counts it made (dir_count_traced) and `check --from` injects them back, so
 * offline verdicts are the host's. Whenever a bound is reached the count is only
 * a lower bound: *at_least says so, and a verdict on it must say "at least N". */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define DIR_COUNT_MAX (1L << 26) /* entries counted live before the count is a lower bound */

/* Entries of path (on the inspected host) but "." and "..", or -errno.
 * *at_least (may be NULL) is set when the true count may be higher. */
long dir_count(const char *path, bool *at_least);

/* A count the host showed (bundle snapshot, check --from): used instead of looking. */
void dir_count_inject(const char *path, long n, bool at_least);

/* While rootfs tracing is on (bundles), every count made is remembered. */
struct dir_count_rec {
        char *path;
        long n;
        bool at_least;
};
const struct dir_count_rec *dir_count_traced(size_t *n);
