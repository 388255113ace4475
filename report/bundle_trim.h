/* What a bundle leaves out unless --full (report/bundle.c decides with it): the
 * command lines of processes no finding names, and of /etc/passwd and /etc/group
 * all but the entries the checks looked up (the union over the collectors). */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include "collectors/artifact.h"
#include "lib/finding.h"
#include "lib/util.h"

struct bundle_trim {
        bool full;                /* --full: nothing is left out */
        json_object *pids;        /* the pids findings name: their command lines are kept */
        json_object *left_out;    /* the command lines left out (paths) */
        struct trim_iddb {
                struct strbuf text;
                json_object *lines;
                struct manifest_artifact meta;
        } iddb[2];                /* host/etc/passwd, host/etc/group */
};

void trim_init(struct bundle_trim *t, bool full);
void trim_free(struct bundle_trim *t);
/* The pids a collector's findings name (in any field): "pid 123", "pids 1, 2, 3",
 * "PID=5", "/proc/123/...". */
void trim_note_findings(struct bundle_trim *t, const struct findings *fs);
/* Whether a finding noted so far names the process (not with --full: then every pid). */
bool trim_names_pid(const struct bundle_trim *t, int pid);
/* Is path host/proc/PID/cmdline of a process no finding names? Then it is left out
 * (and counted). */
bool trim_drop_cmdline(struct bundle_trim *t, const char *path);
/* 0 for host/etc/passwd, 1 for host/etc/group (kept as the union of what was looked
 * up), -1 for every other path or with --full. */
int trim_iddb_of(const struct bundle_trim *t, const char *path);
/* One collector's copy of it (header h, text): its lines are added once each, in
 * the order first seen. */
void trim_iddb_add(struct bundle_trim *t, int db, const char *collector, const struct manifest_artifact *h, const char *text,
                   size_t len);
/* The union to store: its manifest entry (path, kind, origin, status, note; the
 * caller adds bytes and sha256) and text, both taken over. false when no collector
 * sent it. */
bool trim_iddb_take(struct bundle_trim *t, int db, struct manifest_artifact *m, struct strbuf *text);
/* How many command lines were left out for good (held(arg, path): a later collector
 * stored it). */
size_t trim_cmdlines_left_out(const struct bundle_trim *t, bool (*held)(const void *arg, const char *path), const void *arg);
