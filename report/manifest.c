#include "config.h"
#include "report/manifest.h"
#include "lib/dircount.h"
#include "collectors/collector.h"
#include "lib/escape.h"
#include "lib/rootfs.h"
#include "report/report.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

/* ---- the tables ---- */

/* manifest.json: report/bundle.c writes it with these tables (its artifacts with
 * collectors/artifact.c's, which the sink writes too); check --from reads it. */
static const struct mf_field mcollector_fields[] = {
        F_STR_REQ(struct manifest_collector, "name", name, 256),
        F_STR(struct manifest_collector, "status", status, 256),
        F_INT(struct manifest_collector, "duration_ms", duration_ms, 0, INT64_MAX),
        F_BOOL(struct manifest_collector, "timed_out", timed_out),
        F_INT(struct manifest_collector, "artifacts", artifacts, 0, INT64_MAX),
        F_STR(struct manifest_collector, "note", note, 0),
};
static const struct mf_schema mcollector_schema = MF_SCHEMA(struct manifest_collector, mcollector_fields);

static const struct mf_field manifest_fields[] = {
        F_INT(struct manifest, "schema", schema, 1, MANIFEST_SCHEMA),
        F_STR(struct manifest, "evodiag", evodiag, 256),
        F_STR(struct manifest, "command_line", command_line, 0),
        F_STR(struct manifest, "host", host, 4096),
        F_STR(struct manifest, "start", start, 64),
        F_STR(struct manifest, "end", end, 64),
        F_BOOL(struct manifest, "complete", complete),
        F_BOOL(struct manifest, "redacted", redacted),
        F_BOOL(struct manifest, "obfuscated", obfuscated),
        F_STRS(struct manifest, "incomplete", incomplete),
        F_STRS(struct manifest, "intrusive", intrusive),
        F_STR(struct manifest, "compression", compression, 64),
        F_STR(struct manifest, "root", root, 4096),
        F_ARR(struct manifest, "collectors", collectors, mcollector_schema),
        F_ARR(struct manifest, "artifacts", artifacts, artifact_schema),
};
const struct mf_schema manifest_schema = MF_SCHEMA(struct manifest, manifest_fields);

/* findings.json (report/json.c writes it) */
static const struct mf_field finding_fields[] = {
        F_STR_REQ(struct recorded_finding, "id", id, 256),
        F_STR_REQ(struct recorded_finding, "severity", severity, 32),
        F_STR_REQ(struct recorded_finding, "summary", summary, 0),
        F_STR(struct recorded_finding, "subject", subject, 0),
        F_STR(struct recorded_finding, "expected", expected, 0),
        F_STR(struct recorded_finding, "found", found, 0),
        F_STR(struct recorded_finding, "actual", actual, 0), /* bundles before "found" */
        F_STR(struct recorded_finding, "remedy", remedy, 0),
        F_STR(struct recorded_finding, "evidence", evidence, 0),
};
static const struct mf_schema finding_schema = MF_SCHEMA(struct recorded_finding, finding_fields);

static const struct mf_field rcollector_fields[] = {
        F_STR_REQ(struct recorded_collector, "name", name, 256),
        F_STR_REQ(struct recorded_collector, "status", status, 256),
        F_STR(struct recorded_collector, "note", note, 0),
        F_STR(struct recorded_collector, "summary", summary, 0),
        F_INT(struct recorded_collector, "duration_ms", duration_ms, 0, INT64_MAX),
        F_ARR(struct recorded_collector, "findings", findings, finding_schema),
};
static const struct mf_schema rcollector_schema = MF_SCHEMA(struct recorded_collector, rcollector_fields);

static const struct mf_field counts_fields[] = {
        F_INT(struct recorded_counts, "skipped", skipped, 0, INT64_MAX),
        F_INT(struct recorded_counts, "ok", ok, 0, INT64_MAX),
        F_INT(struct recorded_counts, "info", info, 0, INT64_MAX),
        F_INT(struct recorded_counts, "unknown", unknown, 0, INT64_MAX),
        F_INT(struct recorded_counts, "warn", warn, 0, INT64_MAX),
        F_INT(struct recorded_counts, "crit", crit, 0, INT64_MAX),
};
static const struct mf_schema counts_schema = MF_SCHEMA(struct recorded_counts, counts_fields);

static const struct mf_field recorded_fields[] = {
        F_INT(struct recorded, "schema", schema, 1, INT32_MAX),
        F_STR(struct recorded, "tool", tool, 256),
        F_STR(struct recorded, "version", version, 256),
        F_STR(struct recorded, "host", host, 4096),
        F_STR(struct recorded, "root", root, 4096),
        F_STR(struct recorded, "started", started, 64),
        F_INT(struct recorded, "duration_ms", duration_ms, 0, INT64_MAX),
        F_STR(struct recorded, "worst", worst, 32),
        F_INT(struct recorded, "exit_code", exit_code, 0, 255),
        F_OBJ(struct recorded, "summary", summary, counts_schema),
        F_STRS(struct recorded, "errors", errors),
        F_BOOL(struct recorded, "complete", complete),
        F_ARR(struct recorded, "collectors", collectors, rcollector_schema),
};
static const struct mf_schema recorded_schema = MF_SCHEMA(struct recorded, recorded_fields);

/* child -> parent */
static const struct mf_field bcollector_fields[] = {
        F_STR_REQ(struct bundle_collector, "name", name, 256),
        F_STR(struct bundle_collector, "status", status, 256),
        F_STR(struct bundle_collector, "canon", canon, MANIFEST_MAX_BYTES),
};
static const struct mf_schema bcollector_schema = MF_SCHEMA(struct bundle_collector, bcollector_fields);

static const struct mf_field info_fields[] = {
        F_STR_REQ(struct bundle_info, "top", top, NAME_MAX),
        F_BOOL(struct bundle_info, "unpacked", unpacked),
        F_BOOL(struct bundle_info, "has_host", has_host),
        F_STR(struct bundle_info, "host", host, 4096),
        F_STR(struct bundle_info, "captured", captured, 64),
        F_STR(struct bundle_info, "findings_problem", findings_problem, 0),
        F_ARR(struct bundle_info, "artifacts", artifacts, artifact_schema),
        F_ARR(struct bundle_info, "collectors", collectors, bcollector_schema),
};
static const struct mf_schema info_schema = MF_SCHEMA(struct bundle_info, info_fields);

/* Counts what json-c would build, without building it. */
static int prescan(const char *doc, const char *buf, size_t len, char **err)
{
        size_t containers = 0, values = 1;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char ch = buf[i];
                if (in_str) {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_str = false;
                } else if (ch == '"') {
                        in_str = true;
                } else if (ch == '{' || ch == '[') {
                        containers++;
                } else if (ch == ',' || ch == ':') {
                        values++;
                }
        }
        if (containers > MANIFEST_MAX_CONTAINERS || values > MANIFEST_MAX_VALUES) {
                *err = xasprintf("%s: more than %u objects and arrays or %u values", doc, MANIFEST_MAX_CONTAINERS,
                                 MANIFEST_MAX_VALUES);
                return -EFBIG;
        }
        return 0;
}

static int parse_doc(const char *doc, const struct mf_schema *s, const char *buf, size_t len, void *p, char **err)
{
        *err = NULL;
        memset(p, 0, s->size);
        if (len > MANIFEST_MAX_BYTES) {
                *err = xasprintf("%s: larger than %u MiB", doc, MANIFEST_MAX_BYTES >> 20);
                return -EFBIG;
        }
        int pr = prescan(doc, buf, len, err);
        if (pr < 0)
                return pr;
        struct json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        if (!o && je == json_tokener_continue && end == len) {
                /* A document that is a bare literal ("null", "5") ends at the end of input. */
                o = json_tokener_parse_ex(tok, "", 1);
                je = json_tokener_get_error(tok);
        }
        json_tokener_free(tok);
        if (je != json_tokener_success) { /* (o is NULL for a valid "null" too) */
                *err = xasprintf("%s: not valid JSON: %s (at byte %zu)", doc,
                                 je == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(je), end);
                json_object_put(o);
                return -EINVAL;
        }
        for (size_t i = end; i < len; i++)
                if (!strchr(" \t\r\n", buf[i]) || !buf[i]) {
                        *err = xasprintf("%s: not valid JSON: something after the document (at byte %zu)", doc, i);
                        json_object_put(o);
                        return -EINVAL;
                }
        int r = mf_from_json(s, o, p, doc, err);
        json_object_put(o);
        return r;
}

int manifest_parse(const char *buf, size_t len, struct manifest *m, char **err)
{
        return parse_doc("bundle manifest", &manifest_schema, buf, len, m, err);
}

int recorded_parse(const char *buf, size_t len, struct recorded *r, char **err)
{
        return parse_doc("bundle findings", &recorded_schema, buf, len, r, err);
}

void manifest_free(struct manifest *m) { mf_free(&manifest_schema, m); }

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

struct mw {
        void (*get)(void *arg, size_t i, struct manifest_artifact *a);
        void *arg;
};

static void write_artifact(void *arg, size_t i, json_put_fn *put, void *put_arg)
{
        struct mw *w = arg;
        struct manifest_artifact a;
        w->get(w->arg, i, &a);
        json_object *o = artifact_to_json(&a);
        artifact_free(&a);
        _cleanup_free_ char *t = json_text(o, JSON_FLAGS);
        json_object_put(o);
        put(put_arg, t, strlen(t));
}

void manifest_write(const struct manifest *m, size_t n, void (*get)(void *arg, size_t i, struct manifest_artifact *a),
                    void (*put)(void *arg, const char *text, size_t len), void *arg)
{
        struct manifest top = *m;
        top.artifacts = (struct mf_array){0};
        json_object *o = manifest_to_json(&top); /* "artifacts": [] (an array is always written) */
        struct mw w = {.get = get, .arg = arg};
        bool ok = json_text_spliced(o, JSON_FLAGS, "artifacts", n, write_artifact, &w, put, arg);
        json_object_put(o);
        if (!ok)
                abort(); /* the table writes "artifacts": a bug here */
}

json_object *manifest_to_json(const struct manifest *m) { return mf_to_json(&manifest_schema, m); }
void recorded_free(struct recorded *r) { mf_free(&recorded_schema, r); }
void bundle_info_free(struct bundle_info *bi) { mf_free(&info_schema, bi); }

/* ---- canonical findings ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char *bundle_canon(const struct findings *fs)
{
        char **v = xcalloc(fs->n + 1, sizeof(*v));
        size_t m = 0;
        for (size_t i = 0; i < fs->n; i++) {
                const struct finding *f = &fs->v[i];
                const struct check_info *ci = check_find(f->id, NULL);
                if (ci && ci->live)
                        continue;
                /* findings.json holds valid UTF-8 (lib/escape.h): compare like with like. */
                _cleanup_free_ char *id = utf8_sanitize(f->id, strlen(f->id));
                _cleanup_free_ char *subject = f->subject ? utf8_sanitize(f->subject, strlen(f->subject)) : xstrdup("");
                _cleanup_free_ char *summary = utf8_sanitize(f->summary, strlen(f->summary));
                v[m++] = xasprintf("%s|%s|%s|%s", id, severity_name(f->sev), subject, summary);
        }
        qsort(v, m, sizeof(*v), cmp_str);
        struct strbuf out = {0};
        sb_puts(&out, "");
        for (size_t i = 0; i < m; i++) {
                sb_printf(&out, "%s\n", v[i]);
                free(v[i]);
        }
        free(v);
        return sb_steal(&out);
}

int recorded_to_collectors(const struct recorded *r, struct mf_array *out, char **err)
{
        const struct recorded_collector *rc = r->collectors.v;
        struct bundle_collector *bc = xcalloc(r->collectors.n ? r->collectors.n : 1, sizeof(*bc));
        *out = (struct mf_array){.n = 0, .v = bc};
        for (size_t i = 0; i < r->collectors.n; i++) {
                struct findings fs = {0};
                const struct recorded_finding *rf = rc[i].findings.v;
                for (size_t k = 0; k < rc[i].findings.n; k++) {
                        enum severity sev;
                        if (severity_from_name(rf[k].severity, &sev) < 0) {
                                _cleanup_free_ char *s = str_printable(rf[k].severity);
                                *err = xasprintf("bundle findings: collectors[%zu].findings[%zu].severity: '%.32s' is not a severity", i,
                                                 k, s);
                                findings_free(&fs);
                                return -EINVAL;
                        }
                        struct finding *f = fnd_add(&fs, sev, rf[k].id, "%s", rf[k].summary);
                        f->subject = rf[k].subject ? xstrdup(rf[k].subject) : NULL;
                }
                bc[i] = (struct bundle_collector){.name = xstrdup(rc[i].name), .status = xstrdup(rc[i].status),
                                                  .canon = bundle_canon(&fs)};
                out->n = i + 1;
                findings_free(&fs);
        }
        return 0;
}

/* ---- child -> parent: the tables' binary form ---- */

void bundle_info_encode(const struct bundle_info *bi, struct strbuf *out) { mf_encode(&info_schema, bi, out); }


int bundle_info_decode(const void *buf, size_t len, struct bundle_info *bi, char **err)
{
        *err = NULL;
        const char *bad = NULL;
        size_t at = 0;
        if (mf_decode(&info_schema, buf, len, bi, &bad, &at) < 0) {
                *err = xasprintf("malformed result from the bundle reader: %s (at byte %zu)", bad, at);
                return -EPROTO;
        }
        if (!*bi->top || strchr(bi->top, '/') || streq(bi->top, "..")) {
                *err = xasprintf("malformed result from the bundle reader: a bad top directory (at byte %zu)", len);
                bundle_info_free(bi);
                return -EPROTO;
        }
        return 0;
}

/* ---- what check --from replays ---- */

void manifest_apply(const struct bundle_info *bi)
{
        const struct manifest_artifact *a = bi->artifacts.v;
        for (size_t i = 0; i < bi->artifacts.n; i++) {
                if (!startswith(a[i].path, "host/"))
                        continue;
                const char *path = a[i].path + 4; /* "/proc/..." */
                /* Reads that failed on the host (EACCES...) fail the same way here;
                 * directory listings and stat results are what the host showed. */
                if (a[i].err.set)
                        rootfs_inject_error(path, (int)a[i].err.v);
                /* What the host showed beyond the stored bytes: link targets (absolute ones
                 * are in the manifest only), line counts of counted files, files stored cut. */
                if (a[i].link)
                        rootfs_inject_link(path, a[i].link);
                if (a[i].lines.set)
                        rootfs_inject_count(path, (long)a[i].lines.v);
                if (a[i].count.set)
                        dir_count_inject(path, (long)a[i].count.v, a[i].at_least.set && a[i].at_least.v);
                if (a[i].status && streq(a[i].status, "truncated"))
                        rootfs_inject_truncated(path);
                if (a[i].names.set)
                        rootfs_snapshot_put_dir(path, a[i].names.buf, a[i].names.len);
                /* A file of which only the line count was kept (collectors/sink.c): its lines
                 * that matter to the checks are none, as in the live run's later collectors. */
                if (a[i].excerpt.set && a[i].excerpt.v && a[i].absent.set && a[i].absent.v && !a[i].err.set)
                        rootfs_snapshot_put(path, "", 0);
                if (a[i].stat.set) {
                        const struct manifest_stat *s = &a[i].stat;
                        struct stat sb = {0};
                        sb.st_mode = (mode_t)(s->mode.set ? s->mode.v : 0);
                        sb.st_uid = (uid_t)(s->uid.set ? s->uid.v : 0);
                        sb.st_gid = (gid_t)(s->gid.set ? s->gid.v : 0);
                        sb.st_size = (off_t)(s->size.set ? s->size.v : 0);
                        sb.st_nlink = (nlink_t)(s->nlink.set ? s->nlink.v : 1);
                        sb.st_ino = (ino_t)(s->ino.set ? s->ino.v : 0);
                        sb.st_mtime = (time_t)(s->mtime.set ? s->mtime.v : 0);
                        rootfs_inject_stat(path, &sb);
                }
        }
}
