/* Escaping per output context: lib/escape.h states the rules. */
#include "config.h"
#include "lib/escape.h"

#include <ctype.h>
#include <langinfo.h>
#include <strings.h>

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
        if (n == 0)
                return 0;
        unsigned char c = s[0];
        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        size_t len;
        uint32_t v;
        unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte (Unicode Table 3-7) */
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                v = c & 0x0f;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                v = c & 0x07;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* > U+10FFFF */
        } else {
                return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
        }
        if (n < len)
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        v = (v << 6) | (s[1] & 0x3f);
        for (size_t i = 2; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                v = (v << 6) | (s[i] & 0x3f);
        }
        *cp = v;
        return len;
}

bool utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_decode(p + i, n - i, &cp);
                if (!l)
                        return false;
                i += l;
        }
        return true;
}

bool codepoint_is_control(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
               (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static const char hexd[] = "0123456789abcdef";

static void put_hex_byte(struct strbuf *b, unsigned char c)
{
        char e[4] = {'\\', 'x', hexd[c >> 4], hexd[c & 15]};
        sb_putn(b, e, 4);
}

/* ESC_ASCII: what our own texts use, in ASCII; anything else as \uNNNN. */
static void put_ascii(struct strbuf *b, uint32_t cp)
{
        static const struct {
                uint32_t cp;
                const char *ascii;
        } fold[] = {
                {0x2014, "--"}, {0x2013, "-"}, {0x2026, "..."}, {0x00a6, "|"}, {0x00a7, "S"}, {0x2018, "'"},
                {0x2019, "'"},  {0x201c, "\""}, {0x201d, "\""}, {0x2192, "->"}, {0x00d7, "x"}, {0x2265, ">="},
                {0x2264, "<="}, {0x00b5, "u"}, {0x00a0, " "}, {0x2212, "-"}, {0x00b0, " deg"},
        };
        for (size_t k = 0; k < ARRAY_SIZE(fold); k++)
                if (fold[k].cp == cp) {
                        sb_puts(b, fold[k].ascii);
                        return;
                }
        sb_printf(b, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
}

bool locale_ascii(void)
{
        const char *cs = nl_langinfo(CODESET);
        return !cs || (strcasecmp(cs, "UTF-8") && strcasecmp(cs, "utf8"));
}

void fputs_locale(const char *s, FILE *out)
{
        if (!locale_ascii()) {
                fputs(s, out);
                return;
        }
        struct strbuf b = {0};
        esc_text(&b, s, ESC_ASCII | ESC_KEEP_NL | ESC_KEEP_TAB);
        fputs(b.s, out);
        sb_free(&b);
}

void esc_text_n(struct strbuf *b, const char *s, size_t n, unsigned flags)
{
        sb_puts(b, ""); /* an empty value still gives a string */
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;
        while (i < n) {
                /* Plain printable ASCII runs straight through. */
                size_t j = i;
                while (j < n && p[j] >= 0x20 && p[j] < 0x7f && !(p[j] == '\\' && (flags & ESC_BACKSLASH)))
                        j++;
                if (j > i) {
                        sb_putn(b, s + i, j - i);
                        i = j;
                        continue;
                }
                if (p[i] == '\\') { /* ESC_BACKSLASH */
                        sb_puts(b, "\\\\");
                        i++;
                        continue;
                }
                if (p[i] >= 0x80 && (flags & ESC_KEEP_8BIT)) {
                        sb_putc(b, (char)p[i]);
                        i++;
                        continue;
                }
                uint32_t cp;
                size_t l = utf8_decode(p + i, n - i, &cp);
                if (!l) {
                        put_hex_byte(b, p[i]);
                        i++;
                        continue;
                }
                if (!codepoint_is_control(cp)) {
                        if (flags & ESC_ASCII)
                                put_ascii(b, cp);
                        else
                                sb_putn(b, s + i, l);
                } else if (cp == '\n' && (flags & ESC_KEEP_NL)) {
                        sb_putc(b, '\n');
                } else if ((cp == '\n' || cp == '\r') && (flags & ESC_NL_SPACE)) {
                        sb_putc(b, ' ');
                } else if (cp == '\t' && (flags & ESC_KEEP_TAB)) {
                        sb_putc(b, '\t');
                } else if (cp < 0x20) {
                        char name = 0;
                        switch (cp) {
                        case '\a': name = 'a'; break;
                        case '\b': name = 'b'; break;
                        case '\t': name = 't'; break;
                        case '\n': name = 'n'; break;
                        case '\v': name = 'v'; break;
                        case '\f': name = 'f'; break;
                        case '\r': name = 'r'; break;
                        case 0x1b: name = 'e'; break;
                        }
                        if (name) {
                                char e[2] = {'\\', name};
                                sb_putn(b, e, 2);
                        } else {
                                put_hex_byte(b, (unsigned char)cp);
                        }
                } else if (cp == 0x7f) {
                        put_hex_byte(b, 0x7f);
                } else {
                        sb_printf(b, "\\u%04x", (unsigned)cp);
                }
                i += l;
        }
}

void esc_text(struct strbuf *b, const char *s, unsigned flags)
{
        esc_text_n(b, s ? s : "", s ? strlen(s) : 0, flags);
}

char *esc_text_dup(const char *s)
{
        struct strbuf b = {0};
        esc_text(&b, s, 0);
        return sb_steal(&b);
}

/* ---- names in findings, words in remedies ---- */

char *str_printable(const char *s)
{
        struct strbuf b = {0};
        esc_text(&b, s, ESC_KEEP_8BIT);
        return sb_steal(&b);
}

char *shell_quote(const char *s)
{
        _cleanup_free_ char *p = str_printable(s);
        if (!streq(p, s) || !utf8_valid(s, strlen(s))) {
                /* Control characters or bytes that are not UTF-8: bash's $'...' takes the
                 * same escapes (\n, \e, \xNN, \uNNNN), so the command names the real file. */
                struct strbuf b = {0};
                struct strbuf t = {0};
                esc_text(&t, s, ESC_BACKSLASH);
                sb_puts(&b, "$'");
                for (const char *q = t.s; *q; q++) {
                        if (*q == '\'')
                                sb_putc(&b, '\\');
                        sb_putc(&b, *q);
                }
                sb_putc(&b, '\'');
                sb_free(&t);
                return sb_steal(&b);
        }
        bool plain = *p != 0;
        for (const char *q = p; *q; q++)
                if (!isalnum((unsigned char)*q) && !strchr("/._-+:,=@%", *q))
                        plain = false;
        if (plain)
                return xstrdup(p);
        struct strbuf b = {0};
        sb_putc(&b, '\'');
        for (const char *q = p; *q; q++)
                if (*q == '\'')
                        sb_puts(&b, "'\\''");
                else
                        sb_putc(&b, *q);
        sb_putc(&b, '\'');
        return sb_steal(&b);
}

/* ---- Nagios ---- */

void esc_nagios_text(struct strbuf *b, const char *s, size_t max_bytes)
{
        struct strbuf t = {0};
        esc_text(&t, s, 0);
        size_t start = b->len;
        for (size_t i = 0; i < t.len; i++) {
                if (max_bytes && b->len - start >= max_bytes) {
                        /* cut at a character boundary: drop a last character that is not whole */
                        size_t k = b->len;
                        while (k > start && ((unsigned char)b->s[k - 1] & 0xc0) == 0x80)
                                k--;
                        uint32_t cp;
                        if (k > start && (unsigned char)b->s[k - 1] >= 0xc0 &&
                            !utf8_decode((const unsigned char *)b->s + k - 1, b->len - (k - 1), &cp))
                                b->len = k - 1;
                        b->s[b->len] = 0;
                        sb_puts(b, "…");
                        break;
                }
                if (t.s[i] == '|')
                        sb_puts(b, "\u00a6");
                else
                        sb_putc(b, t.s[i]);
        }
        sb_free(&t);
}

void esc_nagios_label(struct strbuf *b, const char *label)
{
        /* Guidelines: 'label'=value; the quotes are needed for spaces, '' is a quote;
         * '=' cannot appear in a label at all, and '|' would start perfdata again. */
        struct strbuf t = {0};
        esc_text(&t, label, 0);
        bool plain = t.len > 0;
        for (size_t i = 0; i < t.len; i++)
                if (!isalnum((unsigned char)t.s[i]) && !strchr("_-./:%", t.s[i]))
                        plain = false;
        if (!plain)
                sb_putc(b, '\'');
        for (size_t i = 0; i < t.len; i++) {
                if (t.s[i] == '\'')
                        sb_puts(b, "''");
                else if (t.s[i] == '=' || t.s[i] == '|')
                        sb_putc(b, '_');
                else
                        sb_putc(b, t.s[i]);
        }
        if (!plain)
                sb_putc(b, '\'');
        sb_free(&t);
}

/* ---- Prometheus ---- */

void esc_prom_label_value(struct strbuf *b, const char *s)
{
        /* Backslashes doubled first: two different names never make one label value
         * (a duplicate series would make node_exporter drop the whole file). */
        struct strbuf t = {0};
        esc_text(&t, s, ESC_BACKSLASH);
        for (size_t i = 0; i < t.len; i++) {
                if (t.s[i] == '\\' || t.s[i] == '"')
                        sb_putc(b, '\\');
                sb_putc(b, t.s[i]);
        }
        sb_puts(b, "");
        sb_free(&t);
}

/* ---- Markdown ---- */

size_t md_longest_run(const char *s, size_t n, char c)
{
        size_t best = 0, cur = 0;
        for (size_t i = 0; i < n; i++) {
                cur = s[i] == c ? cur + 1 : 0;
                if (cur > best)
                        best = cur;
        }
        return best;
}

static bool mention_char(char c)
{
        return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '/' || c == '.';
}

void esc_md_text(struct strbuf *b, const char *s, bool table, bool line_start)
{
        (void)table; /* '|' is escaped everywhere: "\|" is a valid escape outside tables too */
        struct strbuf t = {0};
        esc_text(&t, s, ESC_NL_SPACE);
        sb_puts(b, "");
        size_t i = 0;
        if (line_start && t.len) {
                /* Block starts a value could make at the start of a line: lists, setext
                 * underlines, ordered lists ("1." / "1)"); '#', '>' and '<' are escaped below. */
                if (strchr("-+=", t.s[0])) {
                        sb_putc(b, '\\');
                } else if (isdigit((unsigned char)t.s[0])) {
                        size_t d = strspn(t.s, "0123456789");
                        if (t.s[d] == '.' || t.s[d] == ')') {
                                sb_putn(b, t.s, d);
                                sb_putc(b, '\\');
                                i = d;
                        }
                }
        }
        for (; i < t.len; i++) {
                char c = t.s[i];
                switch (c) {
                case '<': sb_puts(b, "&lt;"); break;
                case '>': sb_puts(b, "&gt;"); break;
                case '&': sb_puts(b, "&amp;"); break;
                case '@': {
                        /* "@team" would notify people and "a@b.c" becomes a mail link: a
                         * code span shows the same characters and is neither. */
                        size_t j = i + 1;
                        while (j < t.len && mention_char(t.s[j]))
                                j++;
                        sb_putc(b, '`');
                        sb_putn(b, t.s + i, j - i);
                        sb_putc(b, '`');
                        i = j - 1;
                        break;
                }
                default:
                        if (strchr("\\`*_[]|#~", c))
                                sb_putc(b, '\\');
                        sb_putc(b, c);
                }
        }
        sb_free(&t);
}

void esc_md_code(struct strbuf *b, const char *s, bool table)
{
        struct strbuf t = {0};
        esc_text(&t, s, ESC_NL_SPACE);
        sb_puts(b, "");
        if (!t.len) {
                sb_free(&t);
                return;
        }
        size_t fence = md_longest_run(t.s, t.len, '`') + 1;
        bool all_space = strspn(t.s, " ") == t.len;
        /* CommonMark strips one space at each end when both are there (and the content
         * is not all spaces): pad when the content begins or ends with a backtick, or
         * would lose its own spaces. */
        bool pad = t.s[0] == '`' || t.s[t.len - 1] == '`' || (!all_space && t.s[0] == ' ' && t.s[t.len - 1] == ' ');
        for (size_t k = 0; k < fence; k++)
                sb_putc(b, '`');
        if (pad)
                sb_putc(b, ' ');
        for (size_t i = 0; i < t.len; i++) {
                /* In a GFM table the row is split at '|' before inline parsing, code
                 * spans included; "\|" keeps it in the cell and renders as '|'. */
                if (table && t.s[i] == '|')
                        sb_putc(b, '\\');
                sb_putc(b, t.s[i]);
        }
        if (pad)
                sb_putc(b, ' ');
        for (size_t k = 0; k < fence; k++)
                sb_putc(b, '`');
        sb_free(&t);
}

void esc_md_block(struct strbuf *b, const char *s)
{
        esc_text(b, s, ESC_KEEP_NL | ESC_KEEP_TAB);
}

/* ---- JSON ---- */

char *utf8_sanitize(const char *s, size_t n)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_decode(p + i, n - i, &cp);
                if (l) {
                        sb_putn(&b, s + i, l);
                        i += l;
                } else {
                        /* Latin-1: byte 0xNN is U+00NN, two bytes in UTF-8 */
                        char e[2] = {(char)(0xc0 | (p[i] >> 6)), (char)(0x80 | (p[i] & 0x3f))};
                        sb_putn(&b, e, 2);
                        i++;
                }
        }
        return sb_steal(&b);
}

json_object *json_string_utf8(const char *s)
{
        if (!s)
                return NULL;
        size_t n = strlen(s);
        if (utf8_valid(s, n))
                return json_object_new_string_len(s, (int)n);
        _cleanup_free_ char *t = utf8_sanitize(s, n);
        return json_object_new_string(t);
}

#define JSON_DEPTH_MAX 256

static void sanitize(json_object *o, int depth)
{
        if (!o || depth > JSON_DEPTH_MAX)
                return;
        switch (json_object_get_type(o)) {
        case json_type_string: {
                const char *s = json_object_get_string(o);
                int n = json_object_get_string_len(o);
                if (n > 0 && !utf8_valid(s, (size_t)n)) {
                        _cleanup_free_ char *t = utf8_sanitize(s, (size_t)n);
                        json_object_set_string(o, t);
                }
                break;
        }
        case json_type_array: {
                size_t n = json_object_array_length(o);
                for (size_t i = 0; i < n; i++)
                        sanitize(json_object_array_get_idx(o, i), depth + 1);
                break;
        }
        case json_type_object: {
                size_t bad = 0;
                json_object_object_foreach(o, k, v) {
                        sanitize(v, depth + 1);
                        bad += !utf8_valid(k, strlen(k));
                }
                if (!bad)
                        break;
                /* Keys cannot be renamed in place: take the bad ones out and put them back. */
                char **keys = xcalloc(bad, sizeof(*keys));
                size_t m = 0;
                json_object_object_foreach(o, k2, v2) {
                        (void)v2;
                        if (m < bad && !utf8_valid(k2, strlen(k2)))
                                keys[m++] = xstrdup(k2);
                }
                for (size_t i = 0; i < m; i++) {
                        json_object *val = json_object_get(json_object_object_get(o, keys[i]));
                        json_object_object_del(o, keys[i]);
                        _cleanup_free_ char *nk = utf8_sanitize(keys[i], strlen(keys[i]));
                        json_object_object_add(o, nk, val);
                        free(keys[i]);
                }
                free(keys);
                break;
        }
        default: break;
        }
}

void json_sanitize(json_object *o)
{
        sanitize(o, 0);
}

char *json_text(json_object *o, int flags)
{
        json_sanitize(o);
        const char *s = json_object_to_json_string_ext(o, flags);
        size_t n = strlen(s);
        struct strbuf b = {0};
        sb_puts(&b, "");
        const unsigned char *p = (const unsigned char *)s;
        /* The document is valid UTF-8 now and its structure is ASCII, so any control
         * code point json-c left raw (DEL, C1, bidi, U+2028/9) is inside a string,
         * where \uNNNN means the same. */
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_decode(p + i, n - i, &cp);
                if (!l) { /* cannot happen after json_sanitize; never emit it raw */
                        sb_puts(&b, "\\ufffd");
                        i++;
                } else if (cp >= 0x7f && codepoint_is_control(cp)) {
                        sb_printf(&b, "\\u%04x", (unsigned)cp);
                        i += l;
                } else {
                        sb_putn(&b, s + i, l);
                        i += l;
                }
        }
        return sb_steal(&b);
}

/* What json_text_spliced hands an element: its text indented to its depth. */
struct indent_put {
        json_put_fn *put;
        void *arg;
        size_t spaces;
        struct strbuf buf;
};

static void indent_put(void *arg, const char *text, size_t len)
{
        struct indent_put *ip = arg;
        ip->buf.len = 0;
        sb_puts(&ip->buf, "");
        for (const char *p = text, *end = text + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
                sb_putn(&ip->buf, p, n);
                if (nl) /* (a newline inside a string is written \n: each one here is the document's) */
                        for (size_t k = 0; k < ip->spaces; k++)
                                sb_putc(&ip->buf, ' ');
                p += n;
        }
        ip->put(ip->arg, ip->buf.s, ip->buf.len);
}

bool json_text_spliced(json_object *o, int flags, const char *key, size_t n,
                       void (*elem)(void *arg, size_t i, json_put_fn *put, void *put_arg), void *arg, json_put_fn *put,
                       void *put_arg)
{
        if (!(flags & JSON_C_TO_STRING_PRETTY))
                return false;
        _cleanup_free_ char *text = json_text(o, flags);
        /* `"key":[` + newline + the key's indentation + `]`: a quote of a string value
         * would be escaped, so this is the key itself. */
        _cleanup_free_ char *mark = xasprintf("\"%s\":%s[\n", key, flags & JSON_C_TO_STRING_SPACED ? " " : "");
        const char *at = strstr(text, mark);
        if (!at)
                return false;
        const char *line = at;
        while (line > text && line[-1] == ' ')
                line--;
        size_t indent = (size_t)(at - line);
        const char *close = at + strlen(mark);
        if (strspn(close, " ") != indent || close[indent] != ']')
                return false; /* not an empty array */
        put(put_arg, text, (size_t)(close - text));
        struct indent_put ip = {.put = put, .arg = put_arg, .spaces = indent + 2};
        for (size_t i = 0; i < n; i++) {
                char lead[64];
                size_t l = ip.spaces < sizeof(lead) - 3 ? ip.spaces : sizeof(lead) - 3;
                size_t k = 0;
                if (i) {
                        lead[k++] = ',';
                        lead[k++] = '\n';
                }
                memset(lead + k, ' ', l);
                put(put_arg, lead, k + l);
                elem(arg, i, indent_put, &ip);
        }
        sb_free(&ip.buf);
        if (n)
                put(put_arg, "\n", 1);
        put(put_arg, close, strlen(close));
        return true;
}
