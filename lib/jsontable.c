#include "config.h"
#include "lib/jsontable.h"
#include "lib/escape.h"

#include <errno.h>

/* ---- table walkers ---- */

#define AT(p, f) ((char *)(p) + (f)->off)
#define CAT(p, f) ((const char *)(p) + (f)->off)

static size_t str_max(const struct mf_field *f) { return f->max ? (size_t)f->max : MF_STR_MAX_DEFAULT; }
static size_t elems_max(const struct mf_field *f) { return f->max ? (size_t)f->max : MF_ELEMS_MAX_DEFAULT; }

static bool file_name_ok(const char *s, size_t n)
{
        return n && !memchr(s, '/', n) && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

void mf_free(const struct mf_schema *s, void *p)
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

const char *mf_json_type(json_object *v)
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

static int obj_from_json(const struct mf_schema *s, json_object *o, void *p, struct jctx *c);

static int field_from_json(const struct mf_field *f, json_object *v, void *p, struct jctx *c)
{
        char *dst = AT(p, f);
        switch (f->type) {
        case MF_STR: {
                if (!json_object_is_type(v, json_type_string))
                        return jfail(c, f->key, "expected a string, not %s", mf_json_type(v));
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
                        return jfail(c, f->key, "expected an integer, not %s", mf_json_type(v));
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
                        return jfail(c, f->key, "expected true or false, not %s", mf_json_type(v));
                *(struct mf_bool *)dst = (struct mf_bool){.set = true, .v = json_object_get_boolean(v)};
                return 0;
        case MF_NAMES:
        case MF_STRS: {
                if (!json_object_is_type(v, json_type_array))
                        return jfail(c, f->key, "expected an array, not %s", mf_json_type(v));
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
                                r = jfail(c, idx, "expected a string, not %s", mf_json_type(e));
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
                        return jfail(c, f->key, "expected an object, not %s", mf_json_type(v));
                size_t mark = c->where.len;
                sb_printf(&c->where, "%s.", f->key);
                int r = obj_from_json(f->sub, v, dst, c);
                c->where.len = mark;
                c->where.s[mark] = 0;
                if (!r)
                        *(bool *)dst = true;
                return r;
        }
        case MF_ARR: {
                if (!json_object_is_type(v, json_type_array))
                        return jfail(c, f->key, "expected an array, not %s", mf_json_type(v));
                size_t n = json_object_array_length(v);
                if (n > elems_max(f))
                        return jfail(c, f->key, "more than %zu elements", elems_max(f));
                struct mf_array *a = (struct mf_array *)dst;
                a->v = xcalloc(n ? n : 1, f->sub->size);
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        _cleanup_free_ char *idx = xasprintf("%s[%zu]", f->key, i);
                        if (!json_object_is_type(e, json_type_object))
                                return jfail(c, idx, "expected an object, not %s", mf_json_type(e));
                        size_t mark = c->where.len;
                        sb_printf(&c->where, "%s.", idx);
                        int r = obj_from_json(f->sub, e, (char *)a->v + i * f->sub->size, c);
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

static int obj_from_json(const struct mf_schema *s, json_object *o, void *p, struct jctx *c)
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

int mf_from_json(const struct mf_schema *s, json_object *o, void *p, const char *doc, char **err)
{
        *err = NULL;
        memset(p, 0, s->size);
        struct jctx c = {.doc = doc, .err = err};
        sb_puts(&c.where, "");
        int r;
        if (json_object_is_type(o, json_type_object)) {
                r = obj_from_json(s, o, p, &c);
        } else {
                *err = xasprintf("%s: expected a JSON object, not %s", doc, mf_json_type(o));
                r = -EINVAL;
        }
        sb_free(&c.where);
        if (r)
                mf_free(s, p);
        return r;
}

/* ---- writing ---- */

json_object *mf_to_json(const struct mf_schema *s, const void *p)
{
        json_object *o = json_object_new_object();
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                const char *src = CAT(p, f);
                json_object *v = NULL;
                switch (f->type) {
                case MF_STR: {
                        const char *str = *(char *const *)src;
                        if (str)
                                v = json_object_new_string(str);
                        break;
                }
                case MF_INT: {
                        const struct mf_int *x = (const struct mf_int *)src;
                        if (x->set)
                                v = json_object_new_int64(x->v);
                        break;
                }
                case MF_BOOL: {
                        const struct mf_bool *x = (const struct mf_bool *)src;
                        if (x->set)
                                v = json_object_new_boolean(x->v);
                        break;
                }
                case MF_NAMES:
                case MF_STRS: {
                        const struct mf_names *x = (const struct mf_names *)src;
                        if (!x->set)
                                break;
                        v = json_object_new_array_ext((int)x->n);
                        for (size_t pos = 0; x->buf && pos < x->len;) {
                                size_t l = strnlen(x->buf + pos, x->len - pos);
                                json_object_array_add(v, json_object_new_string_len(x->buf + pos, (int)l));
                                pos += l + 1;
                        }
                        break;
                }
                case MF_OBJ:
                        if (*(const bool *)src)
                                v = mf_to_json(f->sub, src);
                        break;
                case MF_ARR: {
                        const struct mf_array *a = (const struct mf_array *)src;
                        v = json_object_new_array_ext((int)a->n);
                        for (size_t k = 0; k < a->n; k++)
                                json_object_array_add(v, mf_to_json(f->sub, (const char *)a->v + k * f->sub->size));
                        break;
                }
                }
                if (v)
                        json_object_object_add(o, f->key, v);
        }
        return o;
}

struct mf_names mf_names_of(const char *buf, size_t len, bool file_names)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        size_t n = 0;
        for (size_t pos = 0; buf && pos < len;) {
                size_t l = strnlen(buf + pos, len - pos);
                if (!file_names || file_name_ok(buf + pos, l)) {
                        sb_putn(&b, buf + pos, l);
                        sb_putc(&b, 0);
                        n++;
                }
                pos += l + 1;
        }
        return (struct mf_names){.set = true, .n = n, .len = b.len, .buf = sb_steal(&b)};
}

static bool unset_at(const struct mf_schema *s, const void *p, struct strbuf *where)
{
        for (size_t i = 0; i < s->n; i++) {
                const struct mf_field *f = &s->fields[i];
                const char *src = CAT(p, f);
                size_t mark = where->len;
                bool set = true;
                switch (f->type) {
                case MF_STR: set = *(char *const *)src != NULL; break;
                case MF_INT: set = ((const struct mf_int *)src)->set; break;
                case MF_BOOL: set = ((const struct mf_bool *)src)->set; break;
                case MF_NAMES:
                case MF_STRS: set = ((const struct mf_names *)src)->set; break;
                case MF_OBJ:
                        if (!*(const bool *)src)
                                break;
                        sb_printf(where, "%s.", f->key);
                        if (unset_at(f->sub, src, where))
                                return true;
                        where->len = mark;
                        where->s[mark] = 0;
                        continue;
                case MF_ARR: {
                        const struct mf_array *a = (const struct mf_array *)src;
                        set = a->n > 0;
                        for (size_t k = 0; k < a->n; k++) {
                                sb_printf(where, "%s[%zu].", f->key, k);
                                if (unset_at(f->sub, (const char *)a->v + k * f->sub->size, where))
                                        return true;
                                where->len = mark;
                                where->s[mark] = 0;
                        }
                        break;
                }
                }
                if (!set) {
                        sb_puts(where, f->key);
                        return true;
                }
        }
        return false;
}

char *mf_first_unset(const struct mf_schema *s, const void *p)
{
        struct strbuf where = {0};
        sb_puts(&where, "");
        if (unset_at(s, p, &where))
                return sb_steal(&where);
        sb_free(&where);
        return NULL;
}

/* ---- the binary form ---- */

static void put_u8(struct strbuf *b, uint8_t v) { sb_putn(b, (const char *)&v, 1); }
static void put_u64(struct strbuf *b, uint64_t v)
{
        unsigned char x[8];
        for (int i = 0; i < 8; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        sb_putn(b, (const char *)x, 8);
}

void mf_encode(const struct mf_schema *s, const void *p, struct strbuf *b)
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

static bool decode(const struct mf_schema *s, struct rd *r, void *p, int depth)
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
                        if (set && !decode(f->sub, r, dst, depth + 1))
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
                                if (!decode(f->sub, r, (char *)a->v + k * f->sub->size, depth + 1))
                                        return false;
                        }
                        break;
                }
                }
        }
        return true;
}

int mf_decode(const struct mf_schema *s, const void *buf, size_t len, void *p, const char **bad, size_t *at)
{
        memset(p, 0, s->size);
        struct rd r = {.p = buf, .len = len};
        if (!decode(s, &r, p, 0) || (r.pos != len && (r.bad = "bytes after the end"))) {
                *bad = r.bad;
                *at = r.pos;
                mf_free(s, p);
                return -EPROTO;
        }
        return 0;
}
