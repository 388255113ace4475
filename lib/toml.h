/* TOML for C: the component configs evodiag reads in TOML (the Cerebellar-Norse
 * service's production.toml) go through toml++ (Debian libtomlplusplus-dev, C++17),
 * behind this C interface (lib/toml.cc). There is no C TOML library in Debian 12,
 * inih cannot read TOML (quoted strings, arrays, inline tables, multi-line values),
 * and a hand-written parser is not an option. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct toml_doc;

struct toml_error {
        unsigned line, column; /* 1-based; 0 when unknown */
        char what[256];        /* toml++'s description */
};

/* Parses len bytes (NULs inside are an error, as TOML says). Returns the document, or
 * NULL with *err filled in (invalid TOML, or out of memory: line 0). */
struct toml_doc *toml_doc_parse(const char *text, size_t len, struct toml_error *err);
void toml_doc_free(struct toml_doc *d);

enum toml_kind { TOML_NONE, TOML_STRING, TOML_INT, TOML_FLOAT, TOML_BOOL, TOML_TABLE, TOML_ARRAY, TOML_DATETIME };
/* The kind of the value at a dotted path ("performance.device"); TOML_NONE when absent. */
enum toml_kind toml_kind_at(const struct toml_doc *d, const char *path);
/* The value at path: 0; -ENOENT when absent; -EINVAL when it is of another kind. */
int toml_get_string(const struct toml_doc *d, const char *path, char **out); /* newly allocated */
int toml_get_int(const struct toml_doc *d, const char *path, int64_t *out);
int toml_get_number(const struct toml_doc *d, const char *path, double *out); /* an integer or a float */
int toml_get_bool(const struct toml_doc *d, const char *path, bool *out);
/* The names of the top-level tables sorted by name, ", "-separated ("" when
 * none); newly allocated. *nkeys (may be NULL): the values in the whole document. */
char *toml_tables(const struct toml_doc *d, size_t *nkeys);

#ifdef __cplusplus
}
#endif
