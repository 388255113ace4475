/* The Prometheus exposition format, for node_exporter's textfile collector: the one
 * schema and the one writer of `check --format prometheus`, `check --textfile` and
 * `watch --textfile`. Label values are escaped by lib/escape.h.
 *
 * The schema (README "Prometheus"): no label whose value churns. Every sample has
 * source="check"|"watch" (both files may sit in one textfile directory);
 *   evodiag_info{host,version}                       1
 *   evodiag_check_status{id}                         worst severity of the check ID (prom_severity_value)
 *   evodiag_findings{severity}                       findings (watch: statuses) per severity, all six
 *   evodiag_collector_up{collector}                  1 ran / sampler answers, 0 timed out or crashed
 *   evodiag_collector_duration_seconds{collector}    check only
 *   evodiag_exit_code                                0 ok, 1 warn, 2 crit, 3 unknown
 *   evodiag_events_total                             watch only: severity changes since it started
 *   evodiag_last_run_timestamp_seconds
 *   evodiag_<collector>_<what>_<unit>                the values thresholds compare (prom_gauges[]),
 *                                                    labelled only by a stable name (pool, segment) */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "lib/finding.h"

struct watch;

/* The value of a severity in evodiag_check_status: 0 ok or info, 1 warn, 2 crit,
 * 3 unknown (the monitoring-plugins codes), -1 skipped (not checked). */
int prom_severity_value(enum severity s);

/* watch's latest round in the schema above. */
void report_prometheus_watch(FILE *out, const struct watch *w, const char *host, uint64_t events_total, uint64_t time_ms);

/* DIR/NAME, replaced atomically: two files keep their inodes (.NAME.a and .NAME.b);
 * each write rewrites the one not published, links it to a temporary name and
 * renames that over NAME, so a reader always opens a whole file. (A new file per
 * second cost watch more on ext4 than the rest of its round: inode allocation scans
 * for recently deleted ones.) A lock on DIR (flock) keeps two writers apart. */
struct prom_textfile {
        const char *dir;
        const char *name; /* NULL: evodiag_watch.prom */
        const char *host; /* for evodiag_info; NULL: "unknown" */
        unsigned flip;
};
/* Writes render(f, arg) to DIR/NAME: 0, or -errno with *why ("--textfile PATH: why"). */
int prom_textfile_write_with(struct prom_textfile *t, void (*render)(FILE *f, const void *arg), const void *arg,
                             char **why);
/* watch's round (report_prometheus_watch) through prom_textfile_write_with. */
int prom_textfile_write(struct prom_textfile *t, const struct watch *w, uint64_t events_total, uint64_t time_ms, char **why);
/* At exit only NAME stays (a name of whichever buffer was last). */
void prom_textfile_done(struct prom_textfile *t);
