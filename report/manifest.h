/* A bundle's manifest.json (written by report/bundle.c) and check --from's reader of
 * it and of findings.json, both through one field table per record (lib/jsontable.h;
 * the artifact record is collectors/artifact.h, which the sink writes too). What is
 * read is untrusted: every field the offline re-check uses is type- and range-checked
 * against the table, with errors such as
 *   bundle manifest: artifacts[3].path: expected a string
 * What passes is handed from the sandboxed child (report/from.c) to the parent in a
 * small binary form that the parent decodes with the same tables: the parent never
 * parses a bundle's JSON.
 *
 * To add a field: a member in the struct here, one line in its table in manifest.c
 * (key, type, offset, range); writing, parsing, checking, the child->parent
 * transport and freeing follow from the table. What check --from does with it: manifest_apply(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collectors/artifact.h"
#include "lib/finding.h"
#include "lib/jsontable.h"
#include "lib/util.h"

#define MANIFEST_SCHEMA 1 /* manifest.json's "schema" */
#define MANIFEST_MAX_MIB 64
#define MANIFEST_MAX_BYTES ((unsigned)MANIFEST_MAX_MIB << 20) /* manifest.json, findings.json (~160,000 artifacts of a real bundle) */
#define MANIFEST_MAX_ELEMS MF_ELEMS_MAX_DEFAULT /* any one array: artifacts, names, findings */
/* json-c's tree takes 20 to 900 times the text (an object of one key: ~900 bytes), so
 * the text is counted before the tree is built: at most this many objects and arrays,
 * and values (',' and ':' outside strings). The worst documents within these bounds
 * took 0.6-0.8 GiB (a 58 MB manifest of 4.5 million tiny objects took 5.4 GiB before). */
#define MANIFEST_MAX_CONTAINERS 500000
#define MANIFEST_MAX_VALUES 8000000

struct manifest_collector {
        char *name, *status, *note;
        struct mf_int duration_ms, artifacts;
        struct mf_bool timed_out;
};
struct manifest {
        struct mf_int schema;
        char *host, *evodiag, *root, *command_line, *start, *end, *compression;
        struct mf_bool complete, redacted, obfuscated;
        struct mf_names incomplete; /* why complete is false: each thing missing, one line each */
        struct mf_names intrusive;  /* what --allow-intrusive did or refused (lib/intrusive.h), one line each */
        struct mf_array artifacts;  /* struct manifest_artifact */
        struct mf_array collectors; /* struct manifest_collector */
};

/* findings.json */
struct recorded_finding {
        char *id, *severity, *summary; /* required; severity one of severity_name()'s */
        char *subject, *expected, *actual, *remedy, *evidence;
        char *found; /* "actual" since the text's "found:" label named it so */
};
struct recorded_collector {
        char *name, *status; /* required */
        char *note, *summary;
        struct mf_int duration_ms;
        struct mf_array findings; /* struct recorded_finding */
};
struct recorded_counts {
        bool set;
        struct mf_int skipped, ok, info, unknown, warn, crit;
};
struct recorded {
        struct mf_int schema, duration_ms, exit_code;
        char *tool, *version, *host, *root, *started, *worst;
        struct mf_bool complete;
        struct recorded_counts summary;
        struct mf_names errors;
        struct mf_array collectors; /* struct recorded_collector */
};

/* What the child hands the parent: only what check --from uses, all checked. */
struct bundle_collector {
        char *name, *status;
        char *canon; /* its recorded findings, canonical (bundle_canon) */
};
struct bundle_info {
        char *top;        /* "." or the one subdirectory that holds manifest.json */
        struct mf_bool unpacked; /* top is in the temp dir (an archive), not in --from DIR */
        struct mf_bool has_host; /* top/host is a directory */
        char *host;       /* the manifest's host, else the tree's hostname, else "unknown" */
        char *captured;   /* the manifest's start (ISO 8601 UTC), or NULL */
        char *findings_problem;  /* why there is nothing to compare with, or NULL */
        struct mf_array artifacts;  /* struct manifest_artifact */
        struct mf_array collectors; /* struct bundle_collector */
};

/* Pure parsers (fuzzing entry points): 0, or -EINVAL with *err as above. buf need
 * not be NUL-terminated. On success the caller frees with *_free. */
int manifest_parse(const char *buf, size_t len, struct manifest *m, char **err);
int recorded_parse(const char *buf, size_t len, struct recorded *r, char **err);
void manifest_free(struct manifest *m);
/* The manifest as written into a bundle: every field that is set, in table order. */
json_object *manifest_to_json(const struct manifest *m);
/* The same text as json_text(manifest_to_json(m), PRETTY | NOSLASHESCAPE) with m's
 * artifacts replaced by n entries that get(arg, i, &a) fills (artifact_free()d after
 * each), handed to put(arg, text, len) piece by piece (the document, then one piece
 * per entry): never more than one entry's json-c tree in memory. */
void manifest_write(const struct manifest *m, size_t n, void (*get)(void *arg, size_t i, struct manifest_artifact *a),
                    void (*put)(void *arg, const char *text, size_t len), void *arg);
/* Its table (tests: every field makes the round trip). */
extern const struct mf_schema manifest_schema;
void recorded_free(struct recorded *r);

/* A collector's findings as sorted "id|severity|subject|summary" lines, leaving out
 * checks that need the live system: what check --from compares. */
char *bundle_canon(const struct findings *fs);
/* findings.json's collectors -> bundle_info's (name, status, canon); -EINVAL with
 * *err for a finding with an unknown severity. */
int recorded_to_collectors(const struct recorded *r, struct mf_array *out, char **err);

/* The child->parent transport. encode appends to out; decode checks every length,
 * count and range again (the parent trusts no byte of it) and fails with *err. */
void bundle_info_encode(const struct bundle_info *bi, struct strbuf *out);
int bundle_info_decode(const void *buf, size_t len, struct bundle_info *bi, char **err);
void bundle_info_free(struct bundle_info *bi);

/* check --from: the host/ artifacts' recorded errno, listings and stat results
 * become what rootfs replays (lib/rootfs.h), so offline checks see what the host
 * showed. Linear in the number of artifacts. */
void manifest_apply(const struct bundle_info *bi);
