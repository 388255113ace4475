/* One piece of bundle evidence, as the sink sends it (its frame header, collectors/
 * sink.c), as report/bundle.c stores it in manifest.json and as check --from reads
 * it back (report/manifest.c): one struct and one field table (lib/jsontable.h),
 * so a field's name, type and bounds exist in one place. */
#pragma once
#include <json-c/json.h>
#include "lib/jsontable.h"

/* What stat() said of a file the checks only looked at (kind "stat"). */
struct manifest_stat {
        bool set; /* first member of every nested object */
        struct mf_int mode, uid, gid, size, nlink, ino, mtime;
};

struct manifest_artifact {
        char *path; /* required: host/<path on the host> or collectors/<collector>/<name> */
        char *collector, *kind, *origin, *status, *error;
        struct mf_int duration_ms, redactions;
        struct mf_int err;       /* "errno": 1..4095, a read that failed on the host */
        struct manifest_stat stat;
        struct mf_int lines;     /* a counted file's lines on the host (its stored copy may be cut) */
        struct mf_int count;     /* a counted directory's entries on the host (/proc/PID/fd) */
        struct mf_bool at_least; /* the count stopped at a bound: it is a lower bound */
        struct mf_bool dir;      /* a directory listing: its names follow (the sink's payload) */
        struct mf_names names;
        char *link;              /* a symbolic link's target */
        struct mf_int bytes;     /* stored in the archive (the parent counts them) */
        char *sha256, *note;
        struct mf_bool absent;   /* nothing stored: a listing, a stat, an error, a link */
        struct mf_bool excerpt;  /* a file of which the bundle keeps only what the checks need: its
                                    line count ("lines"), and no bytes when "absent" (a process's
                                    maps that map no shared memory); check --from reads it so */
};

extern const struct mf_schema artifact_schema;

/* The record as JSON (a new object; the sink adds the frame's "t" and "size"). */
json_object *artifact_to_json(const struct manifest_artifact *a);
/* A frame header or manifest entry, checked against the table: 0, or -EINVAL with
 * *err ("artifact: errno: 0 is out of range (1..4095)"). */
int artifact_from_json(json_object *o, struct manifest_artifact *a, char **err);
void artifact_free(struct manifest_artifact *a);
