/* The Prometheus exposition format, for node_exporter's textfile collector: the one
 * writer of `check --format prometheus` (report_prometheus, report/report.h) and of
 * `watch --textfile` (below). Label values are escaped by lib/escape.h. */
#pragma once
#include <stdint.h>
#include <stdio.h>

struct watch;

/* watch's latest round: every sampler's latest values (one sample per label set),
 * the statuses, which samplers answer, the events so far and the round's time. */
void report_prometheus_watch(FILE *out, const struct watch *w, uint64_t events_total, uint64_t time_ms);

/* DIR/evodiag_watch.prom, replaced atomically each round. Two files keep their
 * inodes (.evodiag_watch.prom.a and .b): each round rewrites the one not published,
 * links it to a temporary name and renames that over evodiag_watch.prom, so a
 * reader always opens a whole file. (A new file per second cost more on ext4 than
 * the rest of the round: inode allocation scans for recently deleted ones.) */
struct prom_textfile {
        const char *dir;
        unsigned flip;
};
/* 0, or -errno with *why ("--textfile PATH: why"). */
int prom_textfile_write(struct prom_textfile *t, const struct watch *w, uint64_t events_total, uint64_t time_ms, char **why);
/* At exit only evodiag_watch.prom stays (a name of whichever buffer was last). */
void prom_textfile_done(struct prom_textfile *t);
