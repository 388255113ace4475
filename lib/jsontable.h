/* Records that live as JSON objects, described once by a field table: the table
 * says each field's key, type, place in a C struct and bounds, and from it follow a
 * checked read of untrusted JSON (errors such as "bundle manifest: artifacts[3].path:
 * expected a string"), the write back to JSON, a length-checked binary form for
 * handing a record from a sandboxed child to its parent, and freeing. The bundle's
 * manifest (collectors/artifact.h, report/manifest.h) is the user.
 *
 * To add a field: a member in the struct, one line in its table. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/util.h"

#define MF_STR_MAX_DEFAULT (1u << 20) /* a string field without its own bound */
#define MF_ELEMS_MAX_DEFAULT 1000000  /* an array without its own bound */

/* Value holders the tables fill; `set` says the key was present. */
struct mf_int {
        bool set;
        int64_t v;
};
struct mf_bool {
        bool set, v;
};
struct mf_names { /* an array of strings, NUL-separated in buf (len bytes) */
        bool set;
        size_t n, len;
        char *buf;
};
struct mf_array {
        size_t n;
        void *v; /* n elements of the element struct */
};

enum mf_type {
        MF_STR,   /* char *: NULL when absent */
        MF_INT,   /* struct mf_int, range min..max */
        MF_BOOL,  /* struct mf_bool */
        MF_NAMES, /* struct mf_names: file names (no '/', not "", ".", "..") */
        MF_STRS,  /* struct mf_names: any strings */
        MF_OBJ,   /* a nested struct whose first member is `bool set` */
        MF_ARR,   /* struct mf_array of objects: always written, [] when empty */
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

#define MF_SCHEMA(T, f) {sizeof(T), f, ARRAY_SIZE(f)}
#define F_STR(T, k, m, len) {k, MF_STR, offsetof(T, m), false, 0, len, NULL}
#define F_STR_REQ(T, k, m, len) {k, MF_STR, offsetof(T, m), true, 0, len, NULL}
#define F_INT(T, k, m, lo, hi) {k, MF_INT, offsetof(T, m), false, lo, hi, NULL}
#define F_BOOL(T, k, m) {k, MF_BOOL, offsetof(T, m), false, 0, 0, NULL}
#define F_NAMES(T, k, m) {k, MF_NAMES, offsetof(T, m), false, 0, 0, NULL}
#define F_STRS(T, k, m) {k, MF_STRS, offsetof(T, m), false, 0, 0, NULL}
#define F_OBJ(T, k, m, s) {k, MF_OBJ, offsetof(T, m), false, 0, 0, &s}
#define F_ARR(T, k, m, s) {k, MF_ARR, offsetof(T, m), false, 0, 0, &s}

/* Reads object o into *p (zeroed first) checking every field's type and bounds;
 * unknown keys are ignored. 0, or -EINVAL with *err ("<doc>: <where><key>: why")
 * and *p freed. */
int mf_from_json(const struct mf_schema *s, json_object *o, void *p, const char *doc, char **err);
/* The record as a new JSON object: every field that is set (strings non-NULL), in
 * table order. */
json_object *mf_to_json(const struct mf_schema *s, const void *p);
/* The binary form (appended to out) and back: decode checks every length, count and
 * range again and fails with *bad (a static text) and *at (the byte). */
void mf_encode(const struct mf_schema *s, const void *p, struct strbuf *out);
int mf_decode(const struct mf_schema *s, const void *buf, size_t len, void *p, const char **bad, size_t *at);
void mf_free(const struct mf_schema *s, void *p);
/* NUL-separated strings as an mf_names (a new copy); with file_names, what is not a
 * file name ("", ".", "..", with '/') is left out, as MF_NAMES requires. */
struct mf_names mf_names_of(const char *buf, size_t len, bool file_names);
/* The first field (depth first, "artifacts[2].stat.mode") of *p that is not set,
 * or NULL: for tests that every field makes the round trip. */
char *mf_first_unset(const struct mf_schema *s, const void *p);
/* "a string", "an integer", ... for messages about untrusted JSON. */
const char *mf_json_type(json_object *v);
