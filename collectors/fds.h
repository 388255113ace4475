/* fds collector: parsers and decisions, declared here so the unit tests can call
 * them. The per-process usage helpers it judges with are lib/procscan.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/procscan.h"

/* /proc/sys/fs/file-nr: "allocated unused max". */
struct file_nr {
        uint64_t allocated, unused, max;
};
/* 0, or -EINVAL unless the text is exactly three numbers (white space around them
 * is fine) and unused <= allocated. */
int file_nr_parse(const char *text, struct file_nr *out);

/* The fds.system verdict, in check and in watch alike: handles in use (allocated
 * minus unused) against fs.file-max (file_max; NULL when it could not be read:
 * file-nr's own third field, the same kernel variable, stands in). */
struct fds_system {
        uint64_t used, max;
        double pct;
};
enum severity fds_system_verdict(const struct file_nr *nr, const uint64_t *file_max, double warn_pct, double crit_pct,
                                 struct fds_system *out);
