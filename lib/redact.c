/* Redaction as hand-written single-pass scanners: every rule looks at each byte a
 * bounded number of times, so the cost is linear in the input whatever it holds
 * (regex engines, glibc's regexec included, are superlinear on long arguments).
 *
 * The input is cut into segments at '\n' (lines) and '\0' (arguments of a
 * /proc/PID/cmdline). Per segment, in order:
 *   1. PEM private key blocks (state across lines);
 *   2. a value owed by the previous argument ("--password" then "PW");
 *   3. a whole-line assignment: key = value, key: value, export KEY=value, "key": "value";
 *   4. the word scanner: command-line flags (argv-aware, tool-specific short flags),
 *      HTTP headers, Bearer tokens, and inside each word URL userinfo, name=value
 *      pairs (query strings, option lists), compact JSON pairs, known token formats;
 *   5. with --obfuscate: MAC, IPv4, IPv6 addresses and host names. */
#include "config.h"
#include "lib/redact.h"
#include "lib/redact_private.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>

#define MASK "<redacted>"
#define MASK_LEN (sizeof(MASK) - 1)


/* ---------------- small scanning helpers ---------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
static bool is_name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-'; }
static bool is_quote(char c) { return c == '"' || c == '\'' || c == '`'; }
static bool is_token_char(char c) { return isalnum((unsigned char)c) || strchr("._~+/=-", c); }
static bool masked_at(const char *s, size_t n) { return n >= MASK_LEN && memcmp(s, MASK, MASK_LEN) == 0; }

static bool eq_nocase(const char *s, size_t n, const char *lit)
{
        return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Where a value ends in JSON text: at a '"' that is not escaped and closes a string
 * (followed by , } ] : or the end). Redacting manifest.json and findings.json as text
 * must keep them JSON; a quote inside a password elsewhere (ab"cd) is not one. */
static bool json_close(const char *s, size_t i, size_t n)
{
        if (s[i] != '"' || (i + 1 < n && !strchr(",}]:", s[i + 1])))
                return false;
        size_t bs = 0; /* an odd run of backslashes escapes it (looked at up to 64 back) */
        while (bs < i && bs < 64 && s[i - 1 - bs] == '\\')
                bs++;
        return bs % 2 == 0;
}

static size_t json_stop(const char *s, size_t a, size_t e)
{
        for (size_t i = a; i < e; i++)
                if (json_close(s, i, e))
                        return i;
        return e;
}

/* "8080", "127.0.0.1:8080:80/tcp", "/run/x.pid", "./file": what -p/-P mean in most tools. */
static bool port_or_path(const char *s, size_t n)
{
        if (n && (s[0] == '/' || s[0] == '~' || (s[0] == '.' && n > 1 && (s[1] == '/' || s[1] == '.'))))
                return true;
        bool digit = false;
        for (size_t i = 0; i < n; i++) {
                if (isdigit((unsigned char)s[i]))
                        digit = true;
                else if (s[i] == '/' && (eq_nocase(s + i, n - i, "/tcp") || eq_nocase(s + i, n - i, "/udp")))
                        break;
                else if (!strchr(".:-[]", s[i]))
                        return false;
        }
        return digit;
}

/* ---------------- 3. whole-line assignments ---------------- */

/* key = value, key: value, export KEY=value, "key": "value" (INI, TOML, env, YAML, JSON). */
static unsigned line_assignment(const char *s, size_t n, struct strbuf *out)
{
        size_t p = 0;
        while (p < n && (s[p] == ' ' || s[p] == '\t'))
                p++;
        if (n - p > 7 && memcmp(s + p, "export ", 7) == 0)
                p += 7;
        char quote = p < n && (s[p] == '"' || s[p] == '\'') ? s[p++] : 0;
        size_t name = p;
        while (p < n && is_name_char(s[p]))
                p++;
        size_t nl = p - name;
        if (quote && p < n && s[p] == quote)
                p++;
        while (p < n && (s[p] == ' ' || s[p] == '\t'))
                p++;
        if (p >= n || (s[p] != '=' && s[p] != ':') || !secret_name(s + name, nl))
                return 0;
        p++;
        while (p < n && (s[p] == ' ' || s[p] == '\t'))
                p++;
        if (p >= n || masked_at(s + p, n - p) || (n - p == 2 && (memcmp(s + p, "\"\"", 2) == 0 || memcmp(s + p, "''", 2) == 0)))
                return 0;
        sb_putn(out, s, p);
        if (s[p] == '"' || s[p] == '\'') {
                /* Keep the quotes and whatever follows them (a JSON comma). */
                char q = s[p];
                size_t e = p + 1;
                while (e < n && s[e] != q)
                        e += (s[e] == '\\' && e + 1 < n) ? 2 : 1;
                sb_putc(out, q);
                sb_puts(out, MASK);
                if (e < n)
                        sb_putn(out, s + e, n - e);
                else
                        sb_putc(out, q);
        } else {
                /* "port": 5672, / "token": 12345, in JSON: the comma stays. */
                size_t e = n;
                while (e > p && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
                        e--;
                if (quote && e > p + 1 && s[e - 1] == ',')
                        e--;
                else
                        e = n;
                sb_puts(out, quote ? "\"" MASK "\"" : MASK); /* "token": 12345 stays JSON */
                sb_putn(out, s + e, n - e);
        }
        return 1;
}

/* ---------------- 4. words ---------------- */

/* Known token formats anywhere: AWS access key IDs, GitHub, GitLab, Slack tokens.
 * Returns the token's length at s (0: none). */
static size_t token_at(const char *s, size_t n)
{
        if (n >= 20 && (memcmp(s, "AKIA", 4) == 0 || memcmp(s, "ASIA", 4) == 0)) {
                size_t i = 4;
                while (i < 20 && (isdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])))
                        i++;
                if (i == 20)
                        return 20;
        }
        static const struct {
                const char *prefix;
                const char *extra; /* allowed besides alnum */
                size_t min;
        } fmt[] = {
                {"ghp_", "", 20}, {"gho_", "", 20}, {"ghu_", "", 20}, {"ghs_", "", 20}, {"ghr_", "", 20},
                {"github_pat_", "_", 20}, {"glpat-", "_-", 20}, {"xoxb-", "-", 10}, {"xoxp-", "-", 10},
                {"xoxa-", "-", 10}, {"xoxr-", "-", 10}, {"xoxs-", "-", 10},
        };
        for (size_t f = 0; f < ARRAY_SIZE(fmt); f++) {
                size_t pl = strlen(fmt[f].prefix);
                if (n < pl || memcmp(s, fmt[f].prefix, pl) != 0)
                        continue;
                size_t i = pl;
                while (i < n && (isalnum((unsigned char)s[i]) || (s[i] && strchr(fmt[f].extra, s[i]))))
                        i++;
                return i - pl >= fmt[f].min ? i : 0;
        }
        return 0;
}

static bool ssh_scheme(const char *s, size_t n)
{
        return eq_nocase(s, n, "ssh") || eq_nocase(s, n, "sftp") || eq_nocase(s, n, "scp") ||
               eq_nocase(s, n, "git+ssh") || eq_nocase(s, n, "ssh+git");
}

/* Where a word ends when a quoted value in it closed at e (maybe past the word's end
 * n): just after that quote, so that what follows is a word of its own again. */
static size_t word_end(size_t e, size_t lim, size_t n)
{
        if (e < n)
                return n;
        return e < lim ? e + 1 : lim;
}

/* Inside one word s[0..n): URL userinfo, name=value pairs, compact JSON pairs, token
 * formats. A quoted value may run past the word, up to lim (the segment's end): the
 * word then ends after its closing quote. Copies the word to out with secrets masked
 * and returns where it ended in *end. */
static unsigned scan_word(const char *s, size_t n, size_t lim, struct strbuf *out, size_t *end)
{
        unsigned count = 0;
        size_t i = 0, done = 0;  /* s[done..i) is still to be copied */
        size_t scheme = 0;       /* start of the current run of scheme characters */
        size_t tok = 0;          /* start of the current run of name characters */
        bool query = false;      /* after a '?' in this word: '&' and '#' end values */
        char lead = n && is_quote(s[0]) ? s[0] : 0;

#define FLUSH(upto)                                          \
        do {                                                 \
                sb_putn(out, s + done, (upto) - done);       \
                done = (upto);                               \
        } while (0)
#define MASK_SPAN(from, to)                                  \
        do {                                                 \
                FLUSH(from);                                 \
                sb_puts(out, MASK);                          \
                done = (to);                                 \
                count++;                                     \
        } while (0)

        while (i < n) {
                char c = s[i];
                bool at_start = i == 0 || !isalnum((unsigned char)s[i - 1]);
                size_t t;
                if (at_start && (s[i] == 'A' || s[i] == 'g' || s[i] == 'x') && (t = token_at(s + i, n - i))) {
                        MASK_SPAN(i, i + t);
                        i += t;
                        scheme = tok = i;
                        continue;
                }
                if (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/' && scheme < i) {
                        /* scheme://userinfo@host: the authority ends at the first / ? #;
                         * userinfo is up to its last '@' (a password may hold '@'). */
                        size_t a = i + 3, e = a, at = 0;
                        while (e < n && !strchr("/?#\\\"'<>`", s[e])) {
                                if (s[e] == '@')
                                        at = e;
                                e++;
                        }
                        if (at && !masked_at(s + a, at - a)) {
                                size_t colon = a;
                                while (colon < at && s[colon] != ':')
                                        colon++;
                                if (colon < at && colon + 1 < at && !masked_at(s + colon + 1, at - colon - 1))
                                        MASK_SPAN(colon + 1, at);
                                else if (colon == at && at > a && !ssh_scheme(s + scheme, i - scheme))
                                        MASK_SPAN(a, at); /* a token as user name: https://ghp_…@github.com */
                                i = at + 1;
                        } else {
                                i = a;
                        }
                        scheme = tok = i;
                        continue;
                }
                if (c == '=' && tok < i) {
                        size_t name = tok;
                        char before = name > 0 ? s[name - 1] : 0;
                        bool delimited = name == 0 || strchr("?&;,\"'{(", before);
                        if (delimited && secret_name(s + name, i - name)) {
                                size_t v = i + 1, e = v;
                                const char *stop = query || before == '&' ? "&#" : before == ',' ? "," : before == ';' ? ";"
                                                   : before == '(' ? ")" : before == '{' ? "}," : "";
                                if (before == '"' || before == '\'') {
                                        while (e < lim && s[e] != before)
                                                e++;
                                        n = word_end(e, lim, n);
                                } else
                                        while (e < n && !strchr(stop, s[e]) && !json_close(s, e, n))
                                                e++;
                                if (e == n && lead && e > v && s[e - 1] == lead)
                                        e--; /* 'password=x': the closing quote stays */
                                else if (e > v + 1 && !*stop && strchr(")]}", s[e - 1]))
                                        e--; /* (DB_PASS=x) */
                                if (e > v && !masked_at(s + v, e - v))
                                        MASK_SPAN(v, e);
                                i = e;
                                scheme = tok = i;
                                continue;
                        }
                }
                if (c == '"' && (i == 0 || strchr("{,[", s[i - 1]))) {
                        /* {"password":"x"}: a quoted key, ':', the value up to its quote or , } */
                        size_t k = i + 1;
                        while (k < n && is_name_char(s[k]) && k - i <= 64)
                                k++;
                        if (k + 1 < n && s[k] == '"' && s[k + 1] == ':' && secret_name(s + i + 1, k - i - 1)) {
                                size_t v = k + 2, e;
                                if (v < n && s[v] == '"') {
                                        e = ++v;
                                        while (e < lim && s[e] != '"')
                                                e += (s[e] == '\\' && e + 1 < lim) ? 2 : 1;
                                        e = e < lim ? e : lim;
                                        n = word_end(e, lim, n);
                                } else {
                                        e = v;
                                        while (e < n && s[e] != ',' && s[e] != '}')
                                                e++;
                                }
                                if (e > v && !masked_at(s + v, e - v)) {
                                        if (s[v - 1] == '"') {
                                                MASK_SPAN(v, e);
                                        } else { /* a bare value: a string now, still JSON */
                                                FLUSH(v);
                                                sb_puts(out, "\"" MASK "\"");
                                                done = e;
                                                count++;
                                        }
                                }
                                i = e;
                                scheme = tok = i;
                                continue;
                        }
                }
                if (c == '?')
                        query = true;
                i++;
                if (!(isalnum((unsigned char)c) || c == '+' || c == '.' || c == '-'))
                        scheme = i;
                if (!is_name_char(c))
                        tok = i;
        }
        FLUSH(n);
        *end = n;
#undef FLUSH
#undef MASK_SPAN
        return count;
}

struct state {
        bool in_pem;
        bool carry;           /* the previous argument owes its value to this one */
        enum part carry_part;
        const struct tool *tool; /* the command this line runs, for its short flags */
};

struct pending {
        bool on;
        enum part part;
        size_t word;          /* index of the word that asked, for "alone in its argument" */
};

/* How much of value v (n bytes) is secret under part; returns its start and length. */
static bool secret_part(const char *v, size_t n, enum part part, size_t *off, size_t *len)
{
        size_t a = 0, e = n;
        if (n && is_quote(v[0])) {
                a = 1;
                if (e > a && v[e - 1] == v[0])
                        e--;
        }
        e = json_stop(v, a, e);
        if (e > a + 1 && strchr(")]}", v[e - 1]))
                e--; /* "(app --token=X)": the bracket closes the text around it */
        if (e <= a)
                return false;
        switch (part) {
        case P_COLON:
        case P_PERCENT:
        case P_COMMA: {
                char sep = part == P_COLON ? ':' : part == P_PERCENT ? '%' : ',';
                const char *c = memchr(v + a, sep, e - a);
                if (!c || (size_t)(c - v) + 1 >= e)
                        return false; /* "-u admin": curl will prompt, nothing to hide */
                a = (size_t)(c - v) + 1;
                break;
        }
        case P_TOKEN:
                if (e - a < 8)
                        return false;
                for (size_t i = a; i < e; i++)
                        if (!is_token_char(v[i]))
                                return false;
                break;
        case P_GUARDED:
                if (v[0] == '-' || port_or_path(v + a, e - a))
                        return false;
                break;
        case P_JSON:
                if (a == 0) { /* 1234, true}: up to the , } or ] */
                        size_t k = 0;
                        while (k < e && !strchr(",}]", v[k]))
                                k++;
                        e = k;
                        if (e == 0)
                                return false;
                }
                break;
        case P_ALL:
                break;
        }
        if (masked_at(v + a, e - a))
                return false;
        *off = a;
        *len = e - a;
        return true;
}

/* A value owed by a flag, unless it is the next long option ("--password --port 1"). */
static bool owed_value(const char *v, size_t n)
{
        return !(n > 2 && v[0] == '-' && v[1] == '-');
}

/* Masks the secret part of word w into out; what follows it in the word (the rest
 * of a JSON line, another pair) is scanned as any word. Returns the masks made. */
static unsigned mask_value(const char *w, size_t n, enum part part, struct strbuf *out)
{
        size_t off, len, end;
        if (!secret_part(w, n, part, &off, &len))
                return scan_word(w, n, n, out, &end);
        sb_putn(out, w, off);
        /* A bare JSON value (a number, true) becomes a string: the document stays JSON. */
        sb_puts(out, part == P_JSON && off == 0 ? "\"" MASK "\"" : MASK);
        return 1 + scan_word(w + off + len, n - off - len, n - off - len, out, &end);
}

/* A flag word (leading quotes stripped: f, fn bytes). Either masks an attached
 * value into out (returns true, *count updated) or arms *pend for the next word. */
static bool flag_word(struct state *st, const char *f, size_t fn, struct pending *pend, struct strbuf *out,
                      const char *w, size_t wn, unsigned *count)
{
        size_t lead = (size_t)(f - w);
        if (fn >= 3 && f[1] == '-') {
                const char *eq = memchr(f, '=', fn);
                const char *name = f + 2;
                size_t nl = eq ? (size_t)(eq - name) : fn - 2;
                enum part part = P_ALL;
                bool secret = false;
                for (size_t k = 0; st->tool && k < ARRAY_SIZE(st->tool->flags); k++) {
                        const struct toolflag *tf = &st->tool->flags[k];
                        if (tf->longname && eq_nocase(name, nl, tf->longname)) {
                                secret = true;
                                part = tf->part;
                        }
                }
                secret = secret || secret_name(name, nl);
                if (!secret)
                        return false;
                if (eq) {
                        size_t vo = (size_t)(eq + 1 - w);
                        sb_putn(out, w, vo);
                        *count += mask_value(w + vo, wn - vo, part, out);
                        return true;
                }
                if (part != P_ALL || !boolean_flag(name, nl))
                        *pend = (struct pending){.on = true, .part = part};
                return false;
        }
        if (fn < 2 || f[1] == '-')
                return false;
        char letter = f[1];
        for (size_t k = 0; st->tool && k < ARRAY_SIZE(st->tool->flags); k++) {
                const struct toolflag *tf = &st->tool->flags[k];
                if (!tf->letter || tf->letter != letter)
                        continue;
                if (fn > 2 && (tf->how & F_ATTACHED)) { /* -pPW */
                        sb_putn(out, w, lead + 2);
                        *count += mask_value(w + lead + 2, wn - lead - 2, tf->part, out);
                        return true;
                }
                if (fn == 2 && (tf->how & F_NEXT))
                        *pend = (struct pending){.on = true, .part = tf->part};
                return false;
        }
        /* -P PW in any command, unless it is a port or a path (scp -P 2222, cp -P /x). */
        if (fn == 2 && letter == 'P') {
                *pend = (struct pending){.on = true, .part = P_GUARDED};
                return false;
        }
        /* Single-dash long options (-password PW, -token=X, Java's -Dx.password=Y). */
        const char *eq = memchr(f, '=', fn);
        if (!eq && fn > 3 && secret_name(f + 1, fn - 1) && !boolean_flag(f + 1, fn - 1))
                *pend = (struct pending){.on = true, .part = P_ALL};
        return false;
}

/* The closing quote q at or after from (n: none), skipping \" escapes. Queries come
 * with from never decreasing, so remembering the last answer per quote kind keeps
 * the search linear over the segment however many values go unmasked. */
struct quotes {
        size_t pos[3];
        bool valid[3];
};

static size_t closing_quote(struct quotes *qc, const char *s, size_t n, size_t from, char q)
{
        int k = q == '"' ? 0 : q == '\'' ? 1 : 2;
        for (;;) {
                size_t e;
                if (qc->valid[k] && qc->pos[k] >= from) {
                        e = qc->pos[k];
                } else {
                        e = from;
                        while (e < n && s[e] != q)
                                e++;
                        qc->pos[k] = e;
                        qc->valid[k] = true;
                }
                if (e < n && e > from && s[e - 1] == '\\') {
                        from = e + 1;
                        continue;
                }
                return e;
        }
}

static const char *const header_words[] = {"authorization:", "proxy-authorization:", "x-api-key:", "cookie:",
                                           "set-cookie:", "x-auth-token:", NULL};

/* The word scanner over one segment: s[0..n). sep: the byte that ends it ('\n', '\0', or 0 at the end). */
static unsigned scan_words(struct state *st, const char *s, size_t n, char sep, struct strbuf *out)
{
        unsigned count = 0;
        struct pending pend = {0};
        struct quotes qc = {{0}, {false}};
        size_t i = 0, words = 0;
        while (i < n) {
                size_t sp = i;
                while (i < n && is_space(s[i]))
                        i++;
                sb_putn(out, s + sp, i - sp);
                if (i >= n)
                        break;
                size_t w = i;
                while (i < n && !is_space(s[i]))
                        i++;
                size_t wn = i - w;
                const char *word = s + w;
                words++;
                if (pend.on) {
                        /* The value a flag owes: this word, or a quoted span over several. */
                        struct pending p = pend;
                        pend.on = false;
                        size_t vq = i, off, len;
                        if (is_quote(word[0]) && !masked_at(word + 1, wn - 1)) {
                                size_t e = closing_quote(&qc, s, n, w + 1, word[0]);
                                vq = e < n ? e + 1 : n;
                        }
                        if (owed_value(s + w, vq - w) && secret_part(s + w, vq - w, p.part, &off, &len)) {
                                size_t end = vq;
                                while (end < n && !is_space(s[end]))
                                        end++;
                                size_t rest;
                                count += mask_value(s + w, vq - w, p.part, out);
                                count += scan_word(s + vq, end - vq, end - vq, out, &rest);
                                i = end;
                                continue;
                        }
                }
                /* Compact JSON glues keys to values ({"a":"x","cmd":"mysql -pX …"}): what
                 * precedes the last value is scanned as a word of its own, the value is
                 * the word. Unless that value's key says secret: then the whole word
                 * is one JSON text and scan_word masks the value, spaces and all. */
                size_t glue = 0;
                for (size_t k = 0; k + 3 < wn; k++)
                        if (word[k] == '"' && word[k + 1] == ':' && word[k + 2] == '"')
                                glue = k + 3;
                if (glue) {
                        size_t key = glue - 3;
                        while (key > 0 && word[key - 1] != '"')
                                key--;
                        size_t end;
                        if (secret_name(word + key, glue - 3 - key)) {
                                count += scan_word(word, wn, n - w, out, &end);
                                i = w + end;
                                continue;
                        }
                        count += scan_word(word, glue, glue, out, &end);
                        word += glue;
                        wn -= glue;
                        w += glue;
                }
                /* Leading quotes of sh -c '…' arguments, and brackets of "(pid 1 (app …)"
                 * text, are not part of the word. */
                size_t q = 0;
                while (q < wn && (is_quote(word[q]) || strchr("([{", word[q])))
                        q++;
                const char *f = word + q;
                size_t fn = wn - q;
                if (!fn) { /* only quotes and brackets: nothing to look at (f is past the word) */
                        sb_putn(out, word, wn);
                        continue;
                }
                bool header = false;
                for (const char *const *h = header_words; *h && !header; h++)
                        header = eq_nocase(f, fn, *h);
                if (header) {
                        /* Authorization: <anything> up to its closing quote ('Authorization: …'),
                         * the end of its JSON string, else the end of the argument or line. */
                        sb_putn(out, word, wn);
                        size_t v = i, e;
                        while (v < n && is_space(s[v]))
                                v++;
                        sb_putn(out, s + i, v - i);
                        char oq = 0;
                        for (size_t k = 0; k < q; k++)
                                oq = is_quote(word[k]) ? word[k] : oq;
                        e = oq ? closing_quote(&qc, s, n, v, oq) : json_stop(s, v, n);
                        if (e > v && !masked_at(s + v, e - v)) {
                                sb_puts(out, MASK);
                                count++;
                        } else {
                                sb_putn(out, s + v, e - v);
                        }
                        i = e;
                        continue;
                }
                if (eq_nocase(f, fn, "bearer") || eq_nocase(f, fn, "basic") || eq_nocase(f, fn, "token")) {
                        pend = (struct pending){.on = true, .part = P_TOKEN, .word = words};
                        goto plain;
                }
                if (fn >= 3 && f[fn - 1] == ':' && f[fn - 2] == '"' && secret_name(f, fn - 2)) {
                        pend = (struct pending){.on = true, .part = P_JSON, .word = words}; /* "password": "x" */
                        goto plain;
                }
                if (fn == 1 && strchr(";|&", f[0]))
                        st->tool = NULL;
                else if (fn == 2 && (memcmp(f, "&&", 2) == 0 || memcmp(f, "||", 2) == 0))
                        st->tool = NULL;
                const struct tool *t = tool_named(f, fn);
                if (t)
                        st->tool = t;
                else if (f[0] == '-') {
                        if (flag_word(st, f, fn, &pend, out, word, wn, &count))
                                continue;
                        if (pend.on) {
                                pend.word = words;
                                if (!memchr(f, '=', fn))
                                        goto plain;
                        }
                }
                size_t end;
                count += scan_word(word, wn, n - w, out, &end);
                i = w + end;
                continue;
plain:
                sb_putn(out, word, wn);
        }
        /* A flag that ends the argument (cmdline) or is alone on its line: the value is next. */
        if (pend.on && pend.part != P_TOKEN && (sep == '\0' || (words == 1 && pend.word == 1))) {
                st->carry = true;
                st->carry_part = pend.part;
        }
        return count;
}

/* ---------------- 1. PEM blocks ---------------- */

/* "-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----" (or END) somewhere in s. */
static bool pem_marker(const char *s, size_t n, const char *what)
{
        size_t wl = strlen(what);
        for (size_t i = 0; i + wl <= n; i++) {
                if (s[i] != '-' || memcmp(s + i, what, wl) != 0)
                        continue;
                size_t e = i + wl;
                while (e < n && (isupper((unsigned char)s[e]) || isdigit((unsigned char)s[e]) || s[e] == ' '))
                        e++;
                size_t run = e - (i + wl);
                const char *r = s + i + wl;
                bool key = (run >= 11 && memcmp(r + run - 11, "PRIVATE KEY", 11) == 0) ||
                           (run >= 17 && memcmp(r + run - 17, "PRIVATE KEY BLOCK", 17) == 0);
                if (key && n - e >= 5 && memcmp(s + e, "-----", 5) == 0)
                        return true;
                i = e > i ? e - 1 : i; /* the run holds no '-': skip it */
        }
        return false;
}

/* ---------------- the driver ---------------- */

struct scratch {
        struct strbuf a, b;
};

/* One segment, all rules; appends the result to out. */
static unsigned redact_segment(struct redactor *r, struct state *st, struct scratch *sc, const char *s, size_t n,
                               char sep, struct strbuf *out)
{
        unsigned count = 0;
        if (st->in_pem) {
                if (pem_marker(s, n, "-----END ")) {
                        st->in_pem = false;
                        sb_putn(out, s, n);
                } else {
                        sb_puts(out, MASK); /* counted once, at BEGIN */
                }
                return 0;
        }
        if (pem_marker(s, n, "-----BEGIN ")) {
                st->in_pem = !pem_marker(s, n, "-----END ");
                sb_putn(out, s, n);
                return 1;
        }
        if (st->carry) {
                st->carry = false;
                size_t off, len;
                if (n && owed_value(s, n) && secret_part(s, n, st->carry_part, &off, &len)) {
                        sb_putn(out, s, off);
                        sb_puts(out, MASK);
                        sb_putn(out, s + off + len, n - off - len);
                        return 1;
                }
        }
        sc->a.len = sc->b.len = 0;
        sb_puts(&sc->a, "");
        unsigned c = line_assignment(s, n, &sc->a);
        if (c) {
                count += c;
                s = sc->a.s;
                n = sc->a.len;
        }
        struct strbuf *dst = r->obfuscate ? &sc->b : out;
        if (dst == &sc->b)
                sb_puts(dst, "");
        count += scan_words(st, s, n, sep, dst);
        if (!r->obfuscate)
                return count;
        /* Obfuscation passes: b -> a -> b ..., the last one into out. */
        struct strbuf *from = &sc->b, *to = &sc->a;
        size_t nh = 0;
        while (r->hostnames && r->hostnames[nh])
                nh++;
        size_t passes = 3 + nh;
        for (size_t p = 0; p < passes; p++) {
                struct strbuf *dest = p + 1 == passes ? out : to;
                if (dest != out) {
                        dest->len = 0;
                        sb_puts(dest, "");
                }
                const char *fs = from->s ? from->s : "";
                if (p == 0)
                        count += obf_mac(r, fs, from->len, dest);
                else if (p == 1)
                        count += obf_ipv4(r, fs, from->len, dest);
                else if (p == 2)
                        count += obf_ipv6(r, fs, from->len, dest);
                else
                        count += obf_host(r, r->hostnames[p - 3], fs, from->len, dest);
                struct strbuf *tmp = from;
                from = to;
                to = tmp;
        }
        return count;
}

char *redact(struct redactor *r, const char *in, size_t len, size_t *out_len, unsigned *count)
{
        struct strbuf out = {0};
        struct scratch sc = {{0}, {0}};
        struct state st = {0};
        unsigned n = 0;
        size_t i = 0;
        sb_puts(&out, "");
        while (i < len) {
                size_t j = i;
                while (j < len && in[j] != '\n' && in[j] != '\0')
                        j++;
                char sep = j < len ? in[j] : 0;
                n += redact_segment(r, &st, &sc, in + i, j - i, sep, &out);
                if (j < len)
                        sb_putc(&out, in[j]); /* keep the separator, \n or \0 */
                if (sep == '\n') {            /* a new line is a new command */
                        st.tool = NULL;
                }
                i = j + 1;
        }
        sb_free(&sc.a);
        sb_free(&sc.b);
        if (count)
                *count = n;
        *out_len = out.len;
        return sb_steal(&out);
}

char *redact_str(struct redactor *r, const char *s, unsigned *count)
{
        size_t n;
        return redact(r, s, strlen(s), &n, count);
}

char *redact_secrets(const char *s, unsigned *count)
{
        struct redactor r = {0};
        size_t n;
        return redact(&r, s ? s : "", s ? strlen(s) : 0, &n, count);
}
