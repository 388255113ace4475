/* The Prometheus text format reader (see prometheus_text.h). The text is copied once;
 * names and label values are cut out of that copy in place (unescaping only shrinks),
 * so a parse costs three allocations however many series there are. */
#include "config.h"
#include "lib/prometheus_text.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct prom_limits prom_limits_default = {
        .line_max = 16384,
        .series_max = 100000,
        .labels_max = 64,
        .label_value_max = 4096,
};

static const char *const type_names[] = {
        [PROM_UNTYPED] = "untyped", [PROM_COUNTER] = "counter",     [PROM_GAUGE] = "gauge",
        [PROM_HISTOGRAM] = "histogram", [PROM_SUMMARY] = "summary",
};

const char *prom_type_name(enum prom_type type)
{
        return (unsigned)type < ARRAY_SIZE(type_names) ? type_names[type] : "untyped";
}

struct parser {
        struct prom_text *t;
        const struct prom_limits *lim;
        size_t cap, bad_cap;
        bool has_nul;              /* the text holds a NUL: lines are checked for one */
        struct prom_label *labels; /* all series' labels, one after the other */
        size_t nlabels, labels_cap;
        size_t line_mark;          /* nlabels when the current line began */
        size_t *label_off;         /* per series: its first label in labels[] */
        const char *family;        /* the last # TYPE line's metric */
        size_t family_len;
        enum prom_type family_type;
        const char *last_name;     /* the last series' name: a family's samples share one copy */
};

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

static char *skip_blanks(char *p)
{
        while (blank(*p))
                p++;
        return p;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Past the run of digits at p; NULL when there is none. */
static const char *skip_digits(const char *p)
{
        if (!is_digit(*p))
                return NULL;
        while (is_digit(*p))
                p++;
        return p;
}

/* Metric names may hold ':' (colon true), label names may not. */
static bool name_start(char c, bool colon)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

/* Where the name at p ends; p itself when no name starts there. */
static char *name_end(char *p, bool colon)
{
        if (!name_start(*p, colon))
                return p;
        while (name_start(*p, colon) || is_digit(*p))
                p++;
        return p;
}

/* The end of the token at p (up to a blank or the end of the line). */
static char *token_end(char *p)
{
        while (*p && !blank(*p))
                p++;
        return p;
}

/* Notes a line that is not a sample; returns -EINVAL. */
static int bad(struct parser *ps, size_t line, const char *name, const char *why)
{
        struct prom_text *t = ps->t;
        ps->nlabels = ps->line_mark; /* the labels of a bad line are not kept */
        t->bad_total++;
        if (t->nbad >= ps->lim->series_max)
                return -EINVAL;
        if (t->nbad == ps->bad_cap) {
                ps->bad_cap = ps->bad_cap ? ps->bad_cap * 2 : 8;
                t->bad = xrealloc(t->bad, ps->bad_cap * sizeof(*t->bad));
        }
        t->bad[t->nbad++] = (struct prom_bad){.line = line, .name = name, .why = why};
        return -EINVAL;
}

/* A sample value as Go's strconv.ParseFloat reads it (which Prometheus uses), decimal
 * only: [+-]digits[.digits][(e|E)[+-]digits], NaN, [+-]Inf or [+-]Infinity in any case.
 * -ERANGE when the number is too large for a double. */
static int parse_value(const char *s, double *out)
{
        const char *p = s + (*s == '+' || *s == '-');
        if (*p == 'i' || *p == 'I' || *p == 'n' || *p == 'N') {
                if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
                        *out = *s == '-' ? -INFINITY : INFINITY;
                        return 0;
                }
                if (strcasecmp(s, "nan") == 0) {
                        *out = NAN;
                        return 0;
                }
                return -EINVAL;
        }
        size_t digits = 0;
        for (; is_digit(*p); p++)
                digits++;
        if (*p == '.')
                for (p++; is_digit(*p); p++)
                        digits++;
        if (!digits)
                return -EINVAL;
        if ((*p == 'e' || *p == 'E') && !(p = skip_digits(p + 1 + (p[1] == '+' || p[1] == '-'))))
                return -EINVAL;
        if (*p)
                return -EINVAL;
        errno = 0;
        char *end;
        double d = strtod(s, &end); /* LC_NUMERIC stays "C": evodiag sets LC_CTYPE only */
        if (end != p)
                return -EINVAL;
        if (errno == ERANGE && isinf(d))
                return -ERANGE;
        *out = d;
        return 0;
}

/* A timestamp: milliseconds since the epoch, a whole number (may be negative). */
static int parse_timestamp(const char *s, int64_t *out)
{
        const char *p = skip_digits(s + (*s == '-'));
        if (!p || *p)
                return -EINVAL;
        return parse_i64(s, out);
}

static int comment(struct parser *ps, char *p, size_t line)
{
        p = skip_blanks(p);
        char *w = token_end(p);
        bool is_type = w - p == 4 && !strncmp(p, "TYPE", 4), is_help = w - p == 4 && !strncmp(p, "HELP", 4);
        if (!is_type && !is_help)
                return 0; /* any other comment */
        p = skip_blanks(w);
        char *ne = name_end(p, true);
        if (ne == p || (*ne && !blank(*ne)))
                return bad(ps, line, NULL, is_type ? "# TYPE without a metric name" : "# HELP without a metric name");
        if (is_help)
                return 0; /* the docstring is free text */
        char c = *ne;
        *ne = 0;
        char *ty = c ? skip_blanks(ne + 1) : ne, *te = token_end(ty);
        char tc = *te;
        *te = 0;
        size_t k = 0;
        while (k < ARRAY_SIZE(type_names) && !streq(ty, type_names[k]))
                k++;
        if (k == ARRAY_SIZE(type_names))
                return bad(ps, line, NULL, "# TYPE with an unknown metric type");
        if (tc && *skip_blanks(te + 1))
                return bad(ps, line, NULL, "# TYPE with more after the metric type");
        ps->family = p;
        ps->family_len = strlen(p);
        ps->family_type = (enum prom_type)k;
        return 0;
}

/* The type of a sample: its family's, when the last # TYPE line named it (histograms
 * and summaries also own name_sum and name_count, histograms name_bucket). */
static enum prom_type type_of(const struct parser *ps, const char *name)
{
        if (!ps->family || strncmp(name, ps->family, ps->family_len) != 0)
                return PROM_UNTYPED;
        const char *rest = name + ps->family_len;
        if (!*rest)
                return ps->family_type;
        bool hs = ps->family_type == PROM_HISTOGRAM || ps->family_type == PROM_SUMMARY;
        if ((hs && (streq(rest, "_sum") || streq(rest, "_count"))) || (ps->family_type == PROM_HISTOGRAM && streq(rest, "_bucket")))
                return ps->family_type;
        return PROM_UNTYPED;
}

static void add_label(struct parser *ps, const char *name, const char *value)
{
        if (ps->nlabels == ps->labels_cap) {
                ps->labels_cap = ps->labels_cap ? ps->labels_cap * 2 : 32;
                ps->labels = xrealloc(ps->labels, ps->labels_cap * sizeof(*ps->labels));
        }
        ps->labels[ps->nlabels++] = (struct prom_label){.name = name, .value = value};
}

/* {name="value", ...}: p is just after the '{'. Returns just after the '}', or NULL
 * after calling bad(). */
static char *parse_labels(struct parser *ps, char *p, size_t line, const char *metric)
{
        const struct prom_limits *lim = ps->lim;
        for (;;) {
                p = skip_blanks(p);
                if (*p == '}')
                        return p + 1;
                char *le = name_end(p, false);
                if (le == p)
                        return bad(ps, line, metric, *p ? "not a label name" : "unterminated label set"), NULL;
                char *lname = p, *r = skip_blanks(le);
                if (*r != '=')
                        return bad(ps, line, metric, "no = after a label name"), NULL;
                *le = 0;
                r = skip_blanks(r + 1);
                if (*r != '"')
                        return bad(ps, line, metric, "a label value not in double quotes"), NULL;
                char *val = ++r, *w = val;
                while (*r != '"') {
                        if (!*r)
                                return bad(ps, line, metric, "unterminated label value"), NULL;
                        if (*r != '\\') {
                                *w++ = *r++;
                                continue;
                        }
                        r++;
                        if (*r == '\\' || *r == '"')
                                *w++ = *r++;
                        else if (*r == 'n')
                                *w++ = '\n', r++;
                        else
                                return bad(ps, line, metric, *r ? "an escape other than \\\\, \\\" or \\n in a label value"
                                                                : "unterminated label value"), NULL;
                }
                *w = 0; /* w <= r: the closing quote or before it */
                if ((size_t)(w - val) > lim->label_value_max)
                        return bad(ps, line, metric, "a label value longer than the limit"), NULL;
                for (size_t k = ps->line_mark; k < ps->nlabels; k++)
                        if (streq(ps->labels[k].name, lname))
                                return bad(ps, line, metric, "a label given twice"), NULL;
                if (ps->nlabels - ps->line_mark >= lim->labels_max)
                        return bad(ps, line, metric, "more labels than the limit"), NULL;
                add_label(ps, lname, val);
                p = skip_blanks(r + 1);
                if (*p == ',')
                        p++;
                else if (*p != '}')
                        return bad(ps, line, metric, *p ? "no , or } after a label" : "unterminated label set"), NULL;
        }
}

static int sample(struct parser *ps, char *p, size_t line)
{
        struct prom_text *t = ps->t;
        char *ne = name_end(p, true);
        if (ne == p)
                return bad(ps, line, NULL, "neither a sample nor a comment");
        char c = *ne, *brace = c == '{' ? ne : blank(c) ? skip_blanks(ne + 1) : NULL;
        if (brace && *brace != '{')
                brace = NULL; /* blanks may stand before the labels too */
        *ne = 0;
        const char *name = p;
        if (brace) {
                p = parse_labels(ps, brace + 1, line, name);
                if (!p)
                        return -EINVAL;
                if (*p && !blank(*p))
                        return bad(ps, line, name, "no blank between the labels and the value");
        } else if (c && !blank(c)) {
                return bad(ps, line, name, "a metric name with a character no name may have");
        } else {
                p = c ? ne + 1 : ne;
        }
        p = skip_blanks(p);
        if (!*p)
                return bad(ps, line, name, "no value");
        char *ve = token_end(p), vc = *ve;
        *ve = 0;
        double d;
        int r = parse_value(p, &d);
        if (r < 0)
                return bad(ps, line, name, r == -ERANGE ? "a number too large for a double" : "not a number");
        p = vc ? skip_blanks(ve + 1) : ve;
        struct prom_series s = {.name = name, .value = d, .line = line, .type = type_of(ps, name)};
        if (*p) {
                char *te = token_end(p), tc = *te;
                *te = 0;
                if (parse_timestamp(p, &s.timestamp_ms) < 0)
                        return bad(ps, line, name, "a timestamp that is not a whole number of milliseconds");
                s.has_timestamp = true;
                if (tc && *skip_blanks(te + 1))
                        return bad(ps, line, name, "more after the timestamp");
        }
        if (t->n == ps->cap) {
                ps->cap = ps->cap ? ps->cap * 2 : 32;
                t->v = xrealloc(t->v, ps->cap * sizeof(*t->v));
                ps->label_off = xrealloc(ps->label_off, ps->cap * sizeof(*ps->label_off));
        }
        if (ps->last_name && streq(ps->last_name, name))
                s.name = ps->last_name; /* the same pointer: lookups skip the family at once */
        ps->last_name = s.name;
        s.nlabels = ps->nlabels - ps->line_mark;
        ps->label_off[t->n] = ps->line_mark;
        t->v[t->n++] = s;
        return 0;
}

static int parse_line(struct parser *ps, char *line, size_t len, size_t no)
{
        const struct prom_limits *lim = ps->lim;
        ps->line_mark = ps->nlabels;
        if (len && line[len - 1] == '\r')
                line[--len] = 0;
        char *p = skip_blanks(line);
        if (ps->has_nul && strlen(line) != len) {
                char *ne = name_end(p, true);
                *ne = 0;
                return bad(ps, no, ne != p ? p : NULL, "a NUL byte");
        }
        if (!*p)
                return 0;
        if (len > lim->line_max) {
                char *ne = name_end(p, true);
                bool named = ne != p && (*ne == '{' || blank(*ne));
                *ne = 0;
                return bad(ps, no, named ? p : NULL, "a line longer than the limit");
        }
        if (*p == '#')
                return comment(ps, p + 1, no);
        if (ps->t->n >= lim->series_max) {
                ps->t->cut++;
                return 0;
        }
        return sample(ps, p, no);
}

int prom_text_parse(const char *text, size_t len, const struct prom_limits *lim, struct prom_text *out)
{
        *out = (struct prom_text){0};
        if (!lim)
                lim = &prom_limits_default;
        if (!lim->line_max || !lim->series_max || !lim->labels_max || !lim->label_value_max)
                return -EINVAL;
        char *buf = out->buf_ = xmalloc(len + 1);
        if (len)
                memcpy(buf, text, len);
        buf[len] = 0;
        struct parser ps = {.t = out, .lim = lim, .has_nul = len && memchr(buf, 0, len)};
        for (size_t pos = 0; pos < len;) {
                char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - line) : len - pos;
                line[l] = 0;
                pos += l + 1;
                (void)parse_line(&ps, line, l, ++out->lines);
        }
        out->labels_ = ps.labels;
        for (size_t i = 0; i < out->n; i++)
                out->v[i].labels = out->v[i].nlabels ? ps.labels + ps.label_off[i] : NULL;
        free(ps.label_off);
        return 0;
}

void prom_text_free(struct prom_text *t)
{
        free(t->v);
        free(t->bad);
        free(t->buf_);
        free(t->labels_);
        *t = (struct prom_text){0};
}

const struct prom_series *prom_text_next(const struct prom_text *t, const char *name, size_t *pos)
{
        const char *miss = NULL; /* a name already compared: the series of one family share it */
        for (size_t i = *pos; i < t->n; i++) {
                if (t->v[i].name == miss)
                        continue;
                if (streq(t->v[i].name, name)) {
                        *pos = i + 1;
                        return &t->v[i];
                }
                miss = t->v[i].name;
        }
        *pos = t->n;
        return NULL;
}

const char *prom_label_value(const struct prom_series *s, const char *label)
{
        for (size_t i = 0; i < s->nlabels; i++)
                if (streq(s->labels[i].name, label))
                        return s->labels[i].value;
        return NULL;
}

int prom_text_value(const struct prom_text *t, const char *name, double *out, const char **why)
{
        size_t pos = 0;
        const struct prom_series *s = prom_text_next(t, name, &pos);
        for (size_t i = 0; i < t->nbad; i++) {
                const struct prom_bad *b = &t->bad[i];
                if (s && b->line > s->line)
                        break;
                if (b->name && streq(b->name, name)) {
                        if (why)
                                *why = b->why;
                        return -EINVAL;
                }
        }
        if (!s)
                return -ENOENT;
        *out = s->value;
        return 0;
}

struct bucket {
        double le, count;
};

static int bucket_cmp(const void *a, const void *b)
{
        double x = ((const struct bucket *)a)->le, y = ((const struct bucket *)b)->le;
        return x < y ? -1 : x > y;
}

int prom_histogram_quantile(const struct prom_text *t, const char *name, double q, double *out, double *count,
                            const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = NULL;
        _cleanup_free_ char *bname = xasprintf("%s_bucket", name);
        _cleanup_free_ struct bucket *b = NULL;
        size_t n = 0, pos = 0;
        const struct prom_series *s;
        while ((s = prom_text_next(t, bname, &pos))) {
                const char *les = prom_label_value(s, "le");
                char *end;
                if (!les || !*les) {
                        *why = "a bucket without an le label";
                        return -EINVAL;
                }
                errno = 0;
                double le = strtod(les, &end);
                if (*end || isnan(le) || isnan(s->value)) {
                        *why = "a bucket whose le or count is not a number";
                        return -EINVAL;
                }
                size_t i;
                for (i = 0; i < n && b[i].le != le; i++)
                        ;
                if (i == n) {
                        if (n == PROM_BUCKETS_MAX) {
                                *why = "more buckets than evodiag reads";
                                return -EINVAL;
                        }
                        if (!b)
                                b = xcalloc(PROM_BUCKETS_MAX, sizeof(*b));
                        b[n++] = (struct bucket){.le = le};
                }
                b[i].count += s->value;
        }
        if (!n)
                return -ENOENT;
        qsort(b, n, sizeof(*b), bucket_cmp);
        if (!isinf(b[n - 1].le) || b[n - 1].le < 0) {
                *why = "no +Inf bucket";
                return -EINVAL;
        }
        if (n < 2) {
                *why = "fewer than two buckets";
                return -EINVAL;
        }
        for (size_t i = 1; i < n; i++) /* ensureMonotonic */
                if (b[i].count < b[i - 1].count)
                        b[i].count = b[i - 1].count;
        double obs = b[n - 1].count;
        if (count)
                *count = obs;
        if (isnan(q)) {
                *why = "the quantile is not a number";
                return -EINVAL;
        }
        if (q < 0) {
                *out = -INFINITY;
                return 0;
        }
        if (q > 1) {
                *out = INFINITY;
                return 0;
        }
        if (obs == 0) {
                *out = NAN;
                return 0;
        }
        double rank = q * obs;
        size_t k = 0;
        while (k < n - 1 && b[k].count < rank)
                k++;
        if (k == n - 1) {
                *out = b[n - 2].le;
                return 0;
        }
        if (k == 0 && b[0].le <= 0) {
                *out = b[0].le;
                return 0;
        }
        double start = 0, end = b[k].le, c = b[k].count;
        if (k > 0) {
                start = b[k - 1].le;
                c -= b[k - 1].count;
                rank -= b[k - 1].count;
        }
        *out = start + (end - start) * (rank / c);
        return 0;
}
