#include "config.h"
#include "report/manifest.h"
#include "lib/dircount.h"
#include "collectors/collector.h"
#include "lib/escape.h"
#include "lib/rootfs.h"
#include "report/bundle.h"
#include "report/report.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

/* ---- the tables ---- */

enum mf_type {
        MF_STR,   /* char * */
        MF_INT,   /* struct mf_int, range min..max */
        MF_BOOL,  /* struct mf_bool */
        MF_NAMES, /* struct mf_names: file names (no '/', not "", ".", "..") */
        MF_STRS,  /* struct mf_names: any strings */
        MF_OBJ,   /* a nested struct whose first member is `bool set` */
        MF_ARR,   /* struct mf_array of objects */
};

struct mf_schema;
struct mf_field {
        const char *key;
        enum mf_type type;
        size_t off;
        bool required;
        int64_t min, max; /* MF_INT: the range; MF_STR: max length; MF_ARR/NAMES/STRS: max elements (0: defaults) */
        const struct mf_schema *sub;
};
struct mf_schema {
        size_t size;
        const struct mf_field *fields;
        size_t n;
};

#define STR_MAX_DEFAULT (1 << 20)
#define SCHEMA(T, f) {sizeof(T), f, ARRAY_SIZE(f)}
#define F_STR(T, k, m, len) {k, MF_STR, offsetof(T, m), false, 0, len, NULL}
#define F_STR_REQ(T, k, m, len) {k, MF_STR, offsetof(T, m), true, 0, len, NULL}
#define F_INT(T, k, m, lo, hi) {k, MF_INT, offsetof(T, m), false, lo, hi, NULL}
#define F_BOOL(T, k, m) {k, MF_BOOL, offsetof(T, m), false, 0, 0, NULL}
#define F_NAMES(T, k, m) {k, MF_NAMES, offsetof(T, m), false, 0, 0, NULL}
#define F_STRS(T, k, m) {k, MF_STRS, offsetof(T, m), false, 0, 0, NULL}
#define F_OBJ(T, k, m, s) {k, MF_OBJ, offsetof(T, m), false, 0, 0, &s}
#define F_ARR(T, k, m, s) {k, MF_ARR, offsetof(T, m), false, 0, 0, &s}

/* manifest.json (report/bundle.c and collectors/sink.c write it) */
static const struct mf_field stat_fields[] = {
        F_INT(struct manifest_stat, "mode", mode, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "uid", uid, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "gid", gid, 0, UINT32_MAX),
        F_INT(struct manifest_stat, "size", size, 0, INT64_MAX),
        F_INT(struct manifest_stat, "nlink", nlink, 0, INT64_MAX),
        F_INT(struct manifest_stat, "ino", ino, INT64_MIN, INT64_MAX),
        F_INT(struct manifest_stat, "mtime", mtime, INT64_MIN, INT64_MAX),
};
static const struct mf_schema stat_schema = SCHEMA(struct manifest_stat, stat_fields);

static const struct mf_field artifact_fields[] = {
        F_STR_REQ(struct manifest_artifact, "path", path, PATH_MAX),
        F_STR(struct manifest_artifact, "collector", collector, 256),
        F_STR(struct manifest_artifact, "kind", kind, 256),
        F_STR(struct manifest_artifact, "origin", origin, 0),
        F_STR(struct manifest_artifact, "status", status, 256),
        F_STR(struct manifest_artifact, "error", error, 0),
        F_STR(struct manifest_artifact, "link", link, PATH_MAX),
        F_STR(struct manifest_artifact, "sha256", sha256, 64),
        F_STR(struct manifest_artifact, "note", note, 0),
        F_INT(struct manifest_artifact, "errno", err, 1, 4095),
        F_INT(struct manifest_artifact, "lines", lines, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "count", count, 0, LONG_MAX),
        F_BOOL(struct manifest_artifact, "at_least", at_least),
        F_INT(struct manifest_artifact, "bytes", bytes, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "redactions", redactions, 0, INT64_MAX),
        F_INT(struct manifest_artifact, "duration_ms", duration_ms, 0, INT64_MAX),
        F_BOOL(struct manifest_artifact, "dir", dir),
        F_BOOL(struct manifest_artifact, "absent", absent),
        F_NAMES(struct manifest_artifact, "names", names),
        F_OBJ(struct manifest_artifact, "stat", stat, stat_schema),
};
static const struct mf_schema artifact_schema = SCHEMA(struct manifest_artifact, artifact_fields);

static const struct mf_field mcollector_fields[] = {
        F_STR_REQ(struct manifest_collector, "name", name, 256),
        F_STR(struct manifest_collector, "status", status, 256),
        F_STR(struct manifest_collector, "note", note, 0),
        F_INT(struct manifest_collector, "duration_ms", duration_ms, 0, INT64_MAX),
        F_INT(struct manifest_collector, "artifacts", artifacts, 0, INT64_MAX),
        F_BOOL(struct manifest_collector, "timed_out", timed_out),
};
static const struct mf_schema mcollector_schema = SCHEMA(struct manifest_collector, mcollector_fields);

static const struct mf_field manifest_fields[] = {
        F_INT(struct manifest, "schema", schema, 1, MANIFEST_SCHEMA),
        F_STR(struct manifest, "host", host, 4096),
        F_STR(struct manifest, "evodiag", evodiag, 256),
        F_STR(struct manifest, "root", root, 4096),
        F_STR(struct manifest, "command_line", command_line, 0),
        F_STR(struct manifest, "start", start, 64),
        F_STR(struct manifest, "end", end, 64),
        F_STR(struct manifest, "compression", compression, 64),
        F_BOOL(struct manifest, "complete", complete),
        F_BOOL(struct manifest, "redacted", redacted),
        F_BOOL(struct manifest, "obfuscated", obfuscated),
        F_ARR(struct manifest, "artifacts", artifacts, artifact_schema),
        F_ARR(struct manifest, "collectors", collectors, mcollector_schema),
};
static const struct mf_schema manifest_schema = SCHEMA(struct manifest, manifest_fields);

/* findings.json (report/json.c writes it) */
static const struct mf_field finding_fields[] = {
        F_STR_REQ(struct recorded_finding, "id", id, 256),
        F_STR_REQ(struct recorded_finding, "severity", severity, 32),
        F_STR_REQ(struct recorded_finding, "summary", summary, 0),
        F_STR(struct recorded_finding, "subject", subject, 0),
        F_STR(struct recorded_finding, "expected", expected, 0),
        F_STR(struct recorded_finding, "actual", actual, 0),
        F_STR(struct recorded_finding, "remedy", remedy, 0),
        F_STR(struct recorded_finding, "evidence", evidence, 0),
};
static const struct mf_schema finding_schema = SCHEMA(struct recorded_finding, finding_fields);

static const struct mf_field rcollector_fields[] = {
        F_STR_REQ(struct recorded_collector, "name", name, 256),
        F_STR_REQ(struct recorded_collector, "status", status, 256),
        F_STR(struct recorded_collector, "note", note, 0),
        F_STR(struct recorded_collector, "summary", summary, 0),
        F_INT(struct recorded_collector, "duration_ms", duration_ms, 0, INT64_MAX),
        F_ARR(struct recorded_collector, "findings", findings, finding_schema),
};
static const struct mf_schema rcollector_schema = SCHEMA(struct recorded_collector, rcollector_fields);

static const struct mf_field counts_fields[] = {
        F_INT(struct recorded_counts, "skipped", skipped, 0, INT64_MAX),
        F_INT(struct recorded_counts, "ok", ok, 0, INT64_MAX),
        F_INT(struct recorded_counts, "info", info, 0, INT64_MAX),
        F_INT(struct recorded_counts, "unknown", unknown, 0, INT64_MAX),
        F_INT(struct recorded_counts, "warn", warn, 0, INT64_MAX),
        F_INT(struct recorded_counts, "crit", crit, 0, INT64_MAX),
};
static const struct mf_schema counts_schema = SCHEMA(struct recorded_counts, counts_fields);

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
static const struct mf_schema recorded_schema = SCHEMA(struct recorded, recorded_fields);

/* child -> parent */
static const struct mf_field bcollector_fields[] = {
        F_STR_REQ(struct bundle_collector, "name", name, 256),
        F_STR(struct bundle_collector, "status", status, 256),
        F_STR(struct bundle_collector, "canon", canon, MANIFEST_MAX_BYTES),
};
static const struct mf_schema bcollector_schema = SCHEMA(struct bundle_collector, bcollector_fields);

static const struct mf_field info_fields[] = {
        F_STR_REQ(struct bundle_info, "top", top, NAME_MAX),
        F_BOOL(struct bundle_info, "unpacked", unpacked),
        F_BOOL(struct bundle_info, "has_host", has_host),
        F_STR(struct bundle_info, "host", host, 4096),
        F_STR(struct bundle_info, "findings_problem", findings_problem, 0),
        F_ARR(struct bundle_info, "artifacts", artifacts, artifact_schema),
        F_ARR(struct bundle_info, "collectors", collectors, bcollector_schema),
};
static const struct mf_schema info_schema = SCHEMA(struct bundle_info, info_fields);

/* ---- table walkers ---- */

#define AT(p, f) ((char *)(p) + (f)->off)

static size_t str_max(const struct mf_field *f) { return f->max ? (size_t)f->max : STR_MAX_DEFAULT; }
static size_t elems_max(const struct mf_field *f) { return f->max ? (size_t)f->max : MANIFEST_MAX_ELEMS; }

static bool file_name_ok(const char *s, size_t n)
{
        return n && !memchr(s, '/', n) && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

static void mf_free(const struct mf_schema *s, void *p)
{
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                switch (f->type) {
                case MF_STR: free(*(char **)AT(p, f)); break;
                case MF_NAMES:
                case MF_STRS: free(((struct mf_names *)AT(p, f))->buf); break;
                case MF_OBJ: mf_free(f->sub, AT(p, f)); break;
                case MF_ARR: {
                        struct mf_array *a = (struct mf_array *)AT(p, f);
                        for (size_t k = 0; k < a->n; k++)
                                mf_free(f->sub, (char *)a->v + k * f->sub->size);
                        free(a->v);
                        break;
                }
                case MF_INT:
                case MF_BOOL: break;
                }
        }
        memset(p, 0, s->size);
}

struct jctx {
        const char *doc; /* "bundle manifest" */
        struct strbuf where;
        char **err;
};

PRINTF(3, 4) static int jfail(struct jctx *c, const char *key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        *c->err = xasprintf("%s: %s%s: %s", c->doc, c->where.s ? c->where.s : "", key, what);
        return -EINVAL;
}

static const char *jtype(json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null: return "null";
        case json_type_boolean: return "a boolean";
        case json_type_double: return "a fractional number";
        case json_type_int: return "an integer";
        case json_type_object: return "an object";
        case json_type_array: return "an array";
        case json_type_string: return "a string";
        }
        return "something else";
}

static int mf_from_json(const struct mf_schema *s, json_object *o, void *p, struct jctx *c);

static int field_from_json(const struct mf_field *f, json_object *v, void *p, struct jctx *c)
{
        char *dst = AT(p, f);
        switch (f->type) {
        case MF_STR: {
                if (!json_object_is_type(v, json_type_string))
                        return jfail(c, f->key, "expected a string, not %s", jtype(v));
                size_t n = (size_t)json_object_get_string_len(v);
                const char *sv = json_object_get_string(v);
                if (memchr(sv, 0, n))
                        return jfail(c, f->key, "a string with a NUL byte");
                if (n > str_max(f))
                        return jfail(c, f->key, "longer than %zu bytes", str_max(f));
                *(char **)dst = xstrndup(sv, n);
                return 0;
        }
        case MF_INT: {
                if (!json_object_is_type(v, json_type_int))
                        return jfail(c, f->key, "expected an integer, not %s", jtype(v));
                int64_t x = json_object_get_int64(v);
                if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
                        return jfail(c, f->key, "%llu is out of range (%lld..%lld)", (unsigned long long)json_object_get_uint64(v),
                                     (long long)f->min, (long long)f->max);
                if (x < f->min || x > f->max)
                        return jfail(c, f->key, "%lld is out of range (%lld..%lld)", (long long)x, (long long)f->min, (long long)f->max);
                *(struct mf_int *)dst = (struct mf_int){.set = true, .v = x};
                return 0;
        }
        case MF_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return jfail(c, f->key, "expected true or false, not %s", jtype(v));
                *(struct mf_bool *)dst = (struct mf_bool){.set = true, .v = json_object_get_boolean(v)};
                return 0;
        case MF_NAMES:
        case MF_STRS: {
                if (!json_object_is_type(v, json_type_array))
                        return jfail(c, f->key, "expected an array, not %s", jtype(v));
                size_t n = json_object_array_length(v);
                if (n > elems_max(f))
                        return jfail(c, f->key, "more than %zu elements", elems_max(f));
                struct strbuf b = {0};
                sb_puts(&b, "");
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        const char *sv = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
                        size_t len = sv ? (size_t)json_object_get_string_len(e) : 0;
                        bool bad = !sv || memchr(sv, 0, len) || (f->type == MF_NAMES && !file_name_ok(sv, len));
                        _cleanup_free_ char *idx = bad ? xasprintf("%s[%zu]", f->key, i) : NULL;
                        int r = 0;
                        if (!bad)
                                ;
                        else if (!sv)
                                r = jfail(c, idx, "expected a string, not %s", jtype(e));
                        else if (memchr(sv, 0, len))
                                r = jfail(c, idx, "a string with a NUL byte");
                        else if (f->type == MF_NAMES && !file_name_ok(sv, len)) {
                                _cleanup_free_ char *shown = str_printable(sv);
                                r = jfail(c, idx, "'%.64s' is not a file name", shown);
                        }
                        if (r) {
                                sb_free(&b);
                                return r;
                        }
                        sb_putn(&b, sv, len + 1);
                }
                *(struct mf_names *)dst = (struct mf_names){.set = true, .n = n, .len = b.len, .buf = sb_steal(&b)};
                return 0;
        }
        case MF_OBJ: {
                if (!json_object_is_type(v, json_type_object))
                        return jfail(c, f->key, "expected an object, not %s", jtype(v));
                size_t mark = c->where.len;
                sb_printf(&c->where, "%s.", f->key);
                int r = mf_from_json(f->sub, v, dst, c);
                c->where.len = mark;
                c->where.s[mark] = 0;
                if (!r)
                        *(bool *)dst = true;
                return r;
        }
        case MF_ARR: {
                if (!json_object_is_type(v, json_type_array))
                        return jfail(c, f->key, "expected an array, not %s", jtype(v));
                size_t n = json_object_array_length(v);
                if (n > elems_max(f))
                        return jfail(c, f->key, "more than %zu elements", elems_max(f));
                struct mf_array *a = (struct mf_array *)dst;
                a->v = xcalloc(n ? n : 1, f->sub->size);
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        _cleanup_free_ char *idx = xasprintf("%s[%zu]", f->key, i);
                        if (!json_object_is_type(e, json_type_object))
                                return jfail(c, idx, "expected an object, not %s", jtype(e));
                        size_t mark = c->where.len;
                        sb_printf(&c->where, "%s.", idx);
                        int r = mf_from_json(f->sub, e, (char *)a->v + i * f->sub->size, c);
                        c->where.len = mark;
                        c->where.s[mark] = 0;
                        a->n = i + 1; /* what is filled is freed on failure too */
                        if (r)
                                return r;
                }
                return 0;
        }
        }
        return -EINVAL;
}

static int mf_from_json(const struct mf_schema *s, json_object *o, void *p, struct jctx *c)
{
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                json_object *v;
                if (!json_object_object_get_ex(o, f->key, &v)) {
                        if (f->required)
                                return jfail(c, f->key, "missing");
                        continue;
                }
                int r = field_from_json(f, v, p, c);
                if (r)
                        return r;
        }
        return 0;
}

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
        if (!json_object_is_type(o, json_type_object)) {
                *err = xasprintf("%s: expected a JSON object, not %s", doc, jtype(o));
                json_object_put(o);
                return -EINVAL;
        }
        struct jctx c = {.doc = doc, .err = err};
        sb_puts(&c.where, "");
        int r = mf_from_json(s, o, p, &c);
        sb_free(&c.where);
        json_object_put(o);
        if (r)
                mf_free(s, p);
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

/* ---- child -> parent: a length-checked binary form of the same tables ---- */

static void put_u8(struct strbuf *b, uint8_t v) { sb_putn(b, (const char *)&v, 1); }
static void put_u64(struct strbuf *b, uint64_t v)
{
        unsigned char x[8];
        for (int i = 0; i < 8; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        sb_putn(b, (const char *)x, 8);
}

static void mf_encode(const struct mf_schema *s, const void *p, struct strbuf *b)
{
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                const char *src = AT(p, f);
                switch (f->type) {
                case MF_STR: {
                        const char *v = *(char *const *)src;
                        put_u8(b, v != NULL);
                        if (v) {
                                put_u64(b, strlen(v));
                                sb_putn(b, v, strlen(v));
                        }
                        break;
                }
                case MF_INT: {
                        const struct mf_int *v = (const struct mf_int *)src;
                        put_u8(b, v->set);
                        if (v->set)
                                put_u64(b, (uint64_t)v->v);
                        break;
                }
                case MF_BOOL: {
                        const struct mf_bool *v = (const struct mf_bool *)src;
                        put_u8(b, v->set ? (v->v ? 2 : 1) : 0);
                        break;
                }
                case MF_NAMES:
                case MF_STRS: {
                        const struct mf_names *v = (const struct mf_names *)src;
                        put_u8(b, v->set);
                        if (v->set) {
                                put_u64(b, v->n);
                                put_u64(b, v->len);
                                sb_putn(b, v->buf, v->len);
                        }
                        break;
                }
                case MF_OBJ:
                        put_u8(b, *(const bool *)src);
                        if (*(const bool *)src)
                                mf_encode(f->sub, src, b);
                        break;
                case MF_ARR: {
                        const struct mf_array *a = (const struct mf_array *)src;
                        put_u64(b, a->n);
                        for (size_t k = 0; k < a->n; k++)
                                mf_encode(f->sub, (const char *)a->v + k * f->sub->size, b);
                        break;
                }
                }
        }
}

void bundle_info_encode(const struct bundle_info *bi, struct strbuf *out) { mf_encode(&info_schema, bi, out); }

struct rd {
        const unsigned char *p;
        size_t len, pos;
        const char *bad; /* what was wrong, first problem only */
};

static bool get_u8(struct rd *r, uint8_t *v)
{
        if (r->pos >= r->len)
                return r->bad = "it ends too early", false;
        *v = r->p[r->pos++];
        return true;
}

static bool get_u64(struct rd *r, uint64_t *v)
{
        if (r->len - r->pos < 8)
                return r->bad = "it ends too early", false;
        *v = 0;
        for (int i = 0; i < 8; i++)
                *v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
        r->pos += 8;
        return true;
}

static bool get_flag(struct rd *r, bool *v)
{
        uint8_t x;
        if (!get_u8(r, &x))
                return false;
        if (x > 1)
                return r->bad = "a bad flag", false;
        *v = x;
        return true;
}

static bool mf_decode(const struct mf_schema *s, struct rd *r, void *p, int depth)
{
        if (depth > 8)
                return r->bad = "nested too deep", false;
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                char *dst = AT(p, f);
                bool set;
                uint64_t n, len;
                switch (f->type) {
                case MF_STR:
                        if (!get_flag(r, &set))
                                return false;
                        if (!set) {
                                if (f->required)
                                        return r->bad = "a required string is missing", false;
                                break;
                        }
                        if (!get_u64(r, &len))
                                return false;
                        if (len > str_max(f) || len > r->len - r->pos)
                                return r->bad = "a string too long", false;
                        if (memchr(r->p + r->pos, 0, len))
                                return r->bad = "a string with a NUL byte", false;
                        *(char **)dst = xstrndup((const char *)r->p + r->pos, len);
                        r->pos += len;
                        break;
                case MF_INT: {
                        struct mf_int *v = (struct mf_int *)dst;
                        if (!get_flag(r, &v->set))
                                return false;
                        if (v->set && !get_u64(r, &n))
                                return false;
                        v->v = v->set ? (int64_t)n : 0;
                        if (v->set && (v->v < f->min || v->v > f->max))
                                return r->bad = "a number out of range", false;
                        break;
                }
                case MF_BOOL: {
                        uint8_t x;
                        if (!get_u8(r, &x))
                                return false;
                        if (x > 2)
                                return r->bad = "a bad boolean", false;
                        *(struct mf_bool *)dst = (struct mf_bool){.set = x != 0, .v = x == 2};
                        break;
                }
                case MF_NAMES:
                case MF_STRS: {
                        struct mf_names *v = (struct mf_names *)dst;
                        if (!get_flag(r, &set))
                                return false;
                        if (!set)
                                break;
                        if (!get_u64(r, &n) || !get_u64(r, &len))
                                return false;
                        if (n > elems_max(f) || len > r->len - r->pos)
                                return r->bad = "a list too long", false;
                        const char *q = (const char *)r->p + r->pos;
                        size_t count = 0;
                        for (size_t k = 0; k < len;) {
                                size_t l = strnlen(q + k, len - k);
                                if (l == len - k || (f->type == MF_NAMES && !file_name_ok(q + k, l)))
                                        return r->bad = "a bad name list", false;
                                k += l + 1;
                                count++;
                        }
                        if (count != n)
                                return r->bad = "a bad name count", false;
                        v->buf = xmalloc(len + 1);
                        memcpy(v->buf, q, len);
                        v->buf[len] = 0;
                        v->set = true;
                        v->n = n;
                        v->len = len;
                        r->pos += len;
                        break;
                }
                case MF_OBJ:
                        if (!get_flag(r, &set))
                                return false;
                        if (set && !mf_decode(f->sub, r, dst, depth + 1))
                                return false;
                        *(bool *)dst = set;
                        break;
                case MF_ARR: {
                        struct mf_array *a = (struct mf_array *)dst;
                        if (!get_u64(r, &n))
                                return false;
                        /* every element takes at least one byte per field */
                        if (n > elems_max(f) || n * f->sub->n > r->len - r->pos)
                                return r->bad = "an array too long", false;
                        a->v = xcalloc(n ? n : 1, f->sub->size);
                        for (size_t k = 0; k < n; k++) {
                                a->n = k + 1;
                                if (!mf_decode(f->sub, r, (char *)a->v + k * f->sub->size, depth + 1))
                                        return false;
                        }
                        break;
                }
                }
        }
        return true;
}

int bundle_info_decode(const void *buf, size_t len, struct bundle_info *bi, char **err)
{
        *err = NULL;
        memset(bi, 0, sizeof(*bi));
        struct rd r = {.p = buf, .len = len};
        if (!mf_decode(&info_schema, &r, bi, 0) || (r.pos != len && (r.bad = "bytes after the end")))
                goto bad;
        if (!*bi->top || strchr(bi->top, '/') || streq(bi->top, ".."))
                r.bad = "a bad top directory";
        if (r.bad)
                goto bad;
        return 0;
bad:
        *err = xasprintf("malformed result from the bundle reader: %s (at byte %zu)", r.bad, r.pos);
        bundle_info_free(bi);
        return -EPROTO;
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
