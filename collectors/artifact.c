#include "config.h"
#include "collectors/artifact.h"

#include <limits.h>
#include <stddef.h>

static const struct mf_field stat_fields[] = {
        F_INT(struct manifest_stat, "mode", mode, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "uid", uid, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "gid", gid, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "size", size, 0, INT64_MAX),
        F_INT(struct manifest_stat, "nlink", nlink, 0, INT64_MAX),
        F_INT(struct manifest_stat, "ino", ino, INT64_MIN, INT64_MAX),
        F_INT(struct manifest_stat, "mtime", mtime, INT64_MIN, INT64_MAX),
};
static const struct mf_schema stat_schema = MF_SCHEMA(struct manifest_stat, stat_fields);

static const struct mf_field artifact_fields[] = {
        F_STR_REQ(struct manifest_artifact, "path", path, PATH_MAX),
        F_STR(struct manifest_artifact, "collector", collector, 256),
        F_STR(struct manifest_artifact, "kind", kind, 256),
        F_STR(struct manifest_artifact, "origin", origin, 0),
        F_STR(struct manifest_artifact, "status", status, 256),
        F_STR(struct manifest_artifact, "error", error, 0),
        F_INT(struct manifest_artifact, "duration_ms", duration_ms, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "redactions", redactions, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "errno", err, 1, 4095),
        F_OBJ(struct manifest_artifact, "stat", stat, stat_schema),
        F_INT(struct manifest_artifact, "lines", lines, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "count", count, 0, LONG_MAX),
        F_BOOL(struct manifest_artifact, "at_least", at_least),
        F_BOOL(struct manifest_artifact, "dir", dir),
        F_NAMES(struct manifest_artifact, "names", names),
        F_STR(struct manifest_artifact, "link", link, PATH_MAX),
        F_INT(struct manifest_artifact, "bytes", bytes, 0, INT64_MAX),
        F_STR(struct manifest_artifact, "sha256", sha256, 64),
        F_STR(struct manifest_artifact, "note", note, 0),
        F_BOOL(struct manifest_artifact, "absent", absent),
        F_BOOL(struct manifest_artifact, "excerpt", excerpt),
};
const struct mf_schema artifact_schema = MF_SCHEMA(struct manifest_artifact, artifact_fields);

json_object *artifact_to_json(const struct manifest_artifact *a) { return mf_to_json(&artifact_schema, a); }

int artifact_from_json(json_object *o, struct manifest_artifact *a, char **err)
{
        return mf_from_json(&artifact_schema, o, a, "artifact", err);
}

void artifact_free(struct manifest_artifact *a) { mf_free(&artifact_schema, a); }
