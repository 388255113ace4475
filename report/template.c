#include "config.h"
#include "report/template.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <ctype.h>

#define DEPTH_MAX 16

struct render {
        const char *base;         /* start of the template, for line numbers */
        json_object *stack[DEPTH_MAX];
        int index[DEPTH_MAX];     /* @index of each #each level */
        int depth;
        struct strbuf out, missing;
        char *err;
        /* A fenced code block the template opened (its literal text, never a value). */
        bool in_fence;
        char fence_char;     /* '`' or '~' */
        size_t fence_len;    /* as the template wrote it */
        size_t fence_at;     /* offset in out of the opening fence's first fence character */
        size_t content_at;   /* offset in out where the block's content starts */
};

static int line_of(const struct render *r, const char *p)
{
        int n = 1;
        for (const char *c = r->base; c < p; c++)
                n += *c == '\n';
        return n;
}

PRINTF(3, 4) static void fail(struct render *r, const char *at, const char *fmt, ...)
{
        if (r->err)
                return;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        r->err = xasprintf("line %d: %s", line_of(r, at), msg);
}

/* Resolves a dotted name in one scope. *state: 0 = its first part is not here,
 * 1 = resolved (maybe to null), 2 = first part here but the rest is not. */
static json_object *lookup_in(json_object *o, const char *name, int *state)
{
        *state = 0;
        if (streq(name, ".")) {
                *state = 1;
                return o;
        }
        _cleanup_free_ char *copy = xstrdup(name);
        char *save = NULL;
        bool first = true;
        for (char *part = strtok_r(copy, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
                if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, part, &o)) {
                        *state = first ? 0 : 2;
                        return NULL;
                }
                first = false;
        }
        *state = 1;
        return o;
}

/* Innermost scope first, like Mustache. */
static json_object *lookup(struct render *r, const char *name, bool *found)
{
        for (int d = r->depth; d >= 0; d--) {
                int state;
                json_object *v = lookup_in(r->stack[d], name, &state);
                if (state == 1) {
                        *found = true;
                        return v;
                }
                if (state == 2)
                        break; /* "os" is here but "os.arch" is not: do not look further out */
        }
        *found = false;
        return NULL;
}

static bool truthy(json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null: return false;
        case json_type_boolean: return json_object_get_boolean(v);
        case json_type_int: return json_object_get_int64(v) != 0;
        case json_type_double: return json_object_get_double(v) != 0;
        case json_type_string: return json_object_get_string_len(v) > 0;
        case json_type_array: return json_object_array_length(v) > 0;
        case json_type_object: return true;
        }
        return false;
}

static bool at_line_start(const struct render *r)
{
        return r->out.len == 0 || r->out.s[r->out.len - 1] == '\n';
}

/* The line being written starts a GFM table row. */
static bool in_table_row(const struct render *r)
{
        size_t i = r->out.len;
        while (i > 0 && r->out.s[i - 1] != '\n')
                i--;
        while (i < r->out.len && r->out.s[i] == ' ')
                i++;
        return i < r->out.len && r->out.s[i] == '|';
}

/* One line of the template's own text at the start of an output line: opens or
 * closes a fenced code block. On closing, the fence is made longer than any run
 * of its character that values put inside (CommonMark: a run at least as long
 * would close the block early). Returns true if it wrote the line itself. */
static bool fence_line(struct render *r, const char *line, size_t len)
{
        size_t ind = 0;
        while (ind < len && ind < 3 && line[ind] == ' ')
                ind++;
        char c = ind < len ? line[ind] : 0;
        if (c != '`' && c != '~')
                return false;
        size_t run = 0;
        while (ind + run < len && line[ind + run] == c)
                run++;
        if (run < 3)
                return false;
        if (!r->in_fence) {
                r->in_fence = true;
                r->fence_char = c;
                r->fence_len = run;
                r->fence_at = r->out.len + ind;
                r->content_at = r->out.len + len;
                return false;
        }
        if (c != r->fence_char || run < r->fence_len)
                return false;
        for (size_t k = ind + run; k < len; k++)
                if (line[k] != ' ' && line[k] != '\t' && line[k] != '\n' && line[k] != '\r')
                        return false; /* a closing fence has no info string */
        r->in_fence = false;
        size_t longest = md_longest_run(r->out.s + r->content_at, r->out.len - r->content_at, c);
        size_t extra = longest >= r->fence_len ? longest + 1 - r->fence_len : 0;
        if (!extra)
                return false;
        /* Lengthen the opening fence in place, then write the longer closing one. */
        for (size_t k = 0; k < extra; k++)
                sb_putc(&r->out, c);
        memmove(r->out.s + r->fence_at + extra, r->out.s + r->fence_at, r->out.len - extra - r->fence_at);
        memset(r->out.s + r->fence_at, c, extra);
        sb_putn(&r->out, line, ind);
        for (size_t k = 0; k < extra; k++)
                sb_putc(&r->out, c);
        sb_putn(&r->out, line + ind, len - ind);
        return true;
}

/* The template's own text: copied as is, watching for code fences. */
static void put_literal(struct render *r, const char *p, size_t n)
{
        while (n) {
                const char *nl = memchr(p, '\n', n);
                size_t len = nl ? (size_t)(nl - p) + 1 : n;
                if (!(at_line_start(r) && fence_line(r, p, len)))
                        sb_putn(&r->out, p, len);
                p += len;
                n -= len;
        }
}

enum tag { TAG_TEXT, TAG_CODE, TAG_RAW };

/* A value escaped for where it lands (lib/escape.h): inside a fenced code block
 * the template opened, in an inline code span ({{code x}}), or in Markdown text;
 * raw only for {{{x}}}. */
static void put_value(struct render *r, const char *name, enum tag tag)
{
        if (streq(name, "@index")) {
                sb_printf(&r->out, "%d", r->depth > 0 ? r->index[r->depth] + 1 : 0);
                return;
        }
        bool found;
        json_object *v = lookup(r, name, &found);
        if (!found || !v) {
                if (!found)
                        sb_printf(&r->missing, "%s%s", r->missing.len ? "," : "", name);
                sb_puts(&r->out, "(unknown)");
                return;
        }
        bool str = json_object_is_type(v, json_type_string);
        const char *s = str ? json_object_get_string(v) : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (tag == TAG_RAW) {
                sb_puts(&r->out, s);
                return;
        }
        /* Control characters (and a NUL inside the string) made visible first; the
         * context's own rule then treats lines and tabs. */
        struct strbuf t = {0};
        esc_text_n(&t, s, str ? (size_t)json_object_get_string_len(v) : strlen(s), ESC_KEEP_NL | ESC_KEEP_TAB);
        if (r->in_fence)
                esc_md_block(&r->out, t.s);
        else if (tag == TAG_CODE)
                esc_md_code(&r->out, t.s, in_table_row(r));
        else
                esc_md_text(&r->out, t.s, in_table_row(r), at_line_start(r));
        sb_free(&t);
}

/* Finds the {{/kind}} closing the section that starts at p (after its open tag);
 * *else_at gets a top-level {{else}} for #if. */
static const char *find_close(const char *p, const char *kind, const char **else_at)
{
        int level = 0;
        *else_at = NULL;
        while ((p = strstr(p, "{{"))) {
                if (startswith(p, "{{#if ") || startswith(p, "{{#each ")) {
                        level++;
                } else if (startswith(p, "{{/if}}") || startswith(p, "{{/each}}")) {
                        if (level == 0)
                                return startswith(p + 3, kind) ? p : NULL;
                        level--;
                } else if (startswith(p, "{{else}}") && level == 0) {
                        *else_at = p;
                }
                p += 2;
        }
        return NULL;
}

static void render(struct render *r, const char *p, const char *end);

static void section(struct render *r, const char **pp, const char *end, bool each)
{
        const char *p = *pp;
        const char *name_start = p + (each ? 8 : 6);
        const char *close_tag = strstr(name_start, "}}");
        if (!close_tag || close_tag > end) {
                fail(r, p, "unterminated %s tag", each ? "#each" : "#if");
                *pp = end;
                return;
        }
        _cleanup_free_ char *name = xstrndup(name_start, (size_t)(close_tag - name_start));
        const char *body = close_tag + 2, *else_at;
        const char *close = find_close(body, each ? "each" : "if", &else_at);
        if (!close || close > end) {
                fail(r, p, "no closing tag for {{%s}}", name);
                *pp = end;
                return;
        }
        if (else_at && each) {
                fail(r, else_at, "{{else}} belongs to #if, not #each");
                *pp = end;
                return;
        }
        bool found;
        json_object *v = lookup(r, strstrip(name), &found);
        if (!found)
                sb_printf(&r->missing, "%s%s", r->missing.len ? "," : "", name);
        if (each) {
                if (v && json_object_is_type(v, json_type_array) && r->depth + 1 < DEPTH_MAX) {
                        size_t n = json_object_array_length(v);
                        r->depth++;
                        for (size_t i = 0; i < n && !r->err; i++) {
                                r->stack[r->depth] = json_object_array_get_idx(v, i);
                                r->index[r->depth] = (int)i;
                                render(r, body, close);
                        }
                        r->depth--;
                }
        } else if (truthy(v)) {
                render(r, body, else_at ? else_at : close);
        } else if (else_at) {
                render(r, else_at + 8, close);
        }
        *pp = close + (each ? 9 : 7);
}

static void render(struct render *r, const char *p, const char *end)
{
        while (p < end && !r->err) {
                const char *t = strstr(p, "{{");
                if (!t || t >= end) {
                        put_literal(r, p, (size_t)(end - p));
                        return;
                }
                put_literal(r, p, (size_t)(t - p));
                if (startswith(t, "{{#each ")) {
                        p = t;
                        section(r, &p, end, true);
                } else if (startswith(t, "{{#if ")) {
                        p = t;
                        section(r, &p, end, false);
                } else if (startswith(t, "{{/") || startswith(t, "{{else}}")) {
                        fail(r, t, "unexpected %s", startswith(t, "{{/") ? "closing tag" : "{{else}}");
                        return;
                } else {
                        bool raw = startswith(t, "{{{");
                        const char *ns = t + (raw ? 3 : 2);
                        const char *ne = strstr(ns, raw ? "}}}" : "}}");
                        if (!ne || ne > end) {
                                fail(r, t, "unterminated {{ tag");
                                return;
                        }
                        _cleanup_free_ char *name = xstrndup(ns, (size_t)(ne - ns));
                        char *n = strstrip(name);
                        enum tag tag = raw ? TAG_RAW : TAG_TEXT;
                        if (!raw && startswith(n, "code ")) {
                                tag = TAG_CODE;
                                n = strstrip(n + 5);
                        }
                        if (!*n || strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@") != strlen(n)) {
                                fail(r, t, "bad name '%s'", n);
                                return;
                        }
                        put_value(r, n, tag);
                        p = ne + (raw ? 3 : 2);
                }
        }
}

char *template_render(const char *tmpl, json_object *ctx, char **missing, char **err)
{
        struct render r = {.base = tmpl};
        r.stack[0] = ctx;
        sb_puts(&r.out, "");
        render(&r, tmpl, tmpl + strlen(tmpl));
        if (r.err) {
                *err = r.err;
                sb_free(&r.out);
                sb_free(&r.missing);
                return NULL;
        }
        *err = NULL;
        if (missing)
                *missing = sb_steal(&r.missing);
        else
                sb_free(&r.missing);
        return sb_steal(&r.out);
}
