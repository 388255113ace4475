/* [expect] lists (lib/expect.h). */
#include "config.h"
#include "lib/expect.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>

static bool word_ok(const char *w, size_t len)
{
        if (!len || len > EXPECT_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)w[i];
                if (ch <= 0x20 || ch == 0x7f || ch == ',' || ch == ':')
                        return false;
        }
        return true;
}

void expect_free(struct expect_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].value);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

const struct expect_item *expect_find(const struct expect_list *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i].name, name))
                        return &l->v[i];
        return NULL;
}

static int fail(struct expect_list *out, char **why, char *msg)
{
        expect_free(out);
        *why = msg;
        return -EINVAL;
}

int expect_parse(const char *text, enum expect_value value, struct expect_list *out, char **why)
{
        *out = (struct expect_list){0};
        *why = NULL;
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                tok = strstrip(tok);
                if (!*tok)
                        continue;
                if (out->n >= EXPECT_MAX)
                        return fail(out, why, xasprintf("more than %d items", EXPECT_MAX));
                char *colon = strchr(tok, ':');
                const char *val = NULL;
                if (colon) {
                        *colon = 0;
                        val = strstrip(colon + 1);
                        char *end = strstrip(tok);
                        tok = end;
                }
                if (!word_ok(tok, strlen(tok)))
                        return fail(out, why, xasprintf("'%s' is not a name (1 to %d characters, no blanks, commas or ':')",
                                                        tok, EXPECT_NAME_MAX));
                if (colon && value == EXPECT_NO_VALUE)
                        return fail(out, why, xasprintf("'%s:%s': a plain name is expected here, without ':'", tok, val));
                if (!colon && value == EXPECT_VALUE_REQUIRED)
                        return fail(out, why, xasprintf("'%s' needs a value: %s:VALUE", tok, tok));
                if (colon && !word_ok(val, strlen(val)))
                        return fail(out, why, xasprintf("'%s:%s': the value after ':' is empty or not one word", tok, val));
                if (expect_find(out, tok))
                        return fail(out, why, xasprintf("'%s' is named twice", tok));
                out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
                out->v[out->n++] = (struct expect_item){.name = xstrdup(tok), .value = colon ? xstrdup(val) : NULL};
        }
        return 0; /* "" expects nothing, as the key left out */
}

int expect_rate(const char *value, double *hz)
{
        double d;
        if (!value || parse_double(value, &d) < 0 || !isfinite(d) || d <= 0 || d > 1e6)
                return -EINVAL;
        *hz = d;
        return 0;
}

void ignore_free(struct ignore_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].id);
                free(l->v[i].subject);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int ignore_parse(const char *text, struct ignore_list *out, char **why)
{
        *out = (struct ignore_list){0};
        *why = NULL;
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                tok = strstrip(tok);
                if (!*tok)
                        continue;
                if (out->n >= EXPECT_MAX) {
                        ignore_free(out);
                        *why = xasprintf("more than %d items", EXPECT_MAX);
                        return -EINVAL;
                }
                char *colon = strchr(tok, ':');
                const char *subject = NULL;
                if (colon) {
                        *colon = 0;
                        subject = strstrip(colon + 1);
                        tok = strstrip(tok);
                }
                if (!word_ok(tok, strlen(tok)) || !strchr(tok, '.') || (subject && (!*subject || strlen(subject) > EXPECT_NAME_MAX))) {
                        *why = subject ? xasprintf("'%s:%s' is not ID:SUBJECT (a check ID such as fds.nr_open, a subject as the "
                                                   "report shows it)", tok, subject)
                                       : xasprintf("'%s' is not a check ID (such as fds.nr_open)", tok);
                        ignore_free(out);
                        return -EINVAL;
                }
                out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
                out->v[out->n++] = (struct ignore_item){.id = xstrdup(tok), .subject = subject ? xstrdup(subject) : NULL};
        }
        return 0;
}

bool ignore_match(const struct ignore_list *l, const char *id, const char *subject)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i].id, id) && (!l->v[i].subject || (subject && streq(l->v[i].subject, subject))))
                        return true;
        return false;
}
