#include "config.h"
#include "lib/redact.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>

#define MASK "<redacted>"

struct mapping {
        char *from, *to;
};

struct redactor {
        regex_t url_cred, bearer, aws_key, flag_value, auth_header, pem_begin, pem_end;
        regex_t ipv4, ipv6, mac;
        bool obfuscate;
        uint8_t key[32];
        char **hostnames;
        struct mapping *map;
        size_t nmap, capmap;
};

/* Key names that say "secret". Matched as substrings of the lower-cased key. */
static const char *const secret_words[] = {
        "password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key",
        "credential", "private_key", "privatekey", "access_key", "accesskey", "auth", "cookie", NULL,
};

static bool secret_name(const char *name, size_t n)
{
        char low[128];
        if (n == 0 || n >= sizeof(low))
                return false;
        for (size_t i = 0; i < n; i++)
                low[i] = (char)tolower((unsigned char)name[i]);
        low[n] = 0;
        for (const char *const *w = secret_words; *w; w++)
                if (strstr(low, *w))
                        return true;
        /* "key", "tls_key", "SECRET_KEY", "signing.key": a name that ends in key. */
        return (n >= 3 && streq(low + n - 3, "key") && (n == 3 || !isalpha((unsigned char)low[n - 4]))) ||
               streq(low, "pwd") || streq(low, "pass");
}

static void compile(regex_t *re, const char *pat, int flags)
{
        int r = regcomp(re, pat, REG_EXTENDED | flags);
        if (r) {
                fprintf(stderr, "evodiag: internal error: bad redaction pattern %s\n", pat);
                abort();
        }
}

struct redactor *redactor_new(void)
{
        struct redactor *r = xcalloc(1, sizeof(*r));
        compile(&r->url_cred, "([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@:[:space:]]*):([^/@[:space:]]+)@", 0);
        compile(&r->bearer, "(bearer|basic|token)[[:space:]]+[A-Za-z0-9._~+/=-]{8,}", REG_ICASE);
        compile(&r->aws_key, "(AKIA|ASIA)[0-9A-Z]{16}", 0);
        compile(&r->flag_value,
                "(--?[A-Za-z0-9_.-]*(password|passwd|secret|token|api[_-]?key|apikey|credential|access[_-]?key)[A-Za-z0-9_.-]*)(=|[[:space:]]+)([^[:space:]]+)",
                REG_ICASE);
        compile(&r->auth_header, "((proxy-)?authorization|x-api-key|cookie)[[:space:]]*:[[:space:]]*[^[:space:]].*", REG_ICASE);
        compile(&r->pem_begin, "-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", 0);
        compile(&r->pem_end, "-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", 0);
        compile(&r->ipv4, "(^|[^0-9.])(([0-9]{1,3}\\.){3}[0-9]{1,3})([^0-9.]|$)", 0);
        /* Loose here, strict in code: "::" or eight groups (so 22:39:07 is a time, not an address). */
        compile(&r->ipv6, "(^|[^0-9A-Fa-f:.])([0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7})([^0-9A-Fa-f:.]|$)", 0);
        compile(&r->mac, "([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", 0);
        return r;
}

void redactor_obfuscate(struct redactor *r, const uint8_t key[32], const char *const *hostnames)
{
        r->obfuscate = true;
        memcpy(r->key, key, 32);
        size_t n = 0;
        while (hostnames && hostnames[n])
                n++;
        r->hostnames = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r->hostnames[i] = xstrdup(hostnames[i]);
}

void redactor_free(struct redactor *r)
{
        if (!r)
                return;
        regfree(&r->url_cred); regfree(&r->bearer); regfree(&r->aws_key); regfree(&r->flag_value);
        regfree(&r->auth_header); regfree(&r->pem_begin); regfree(&r->pem_end);
        regfree(&r->ipv4); regfree(&r->ipv6); regfree(&r->mac);
        for (size_t i = 0; r->hostnames && r->hostnames[i]; i++)
                free(r->hostnames[i]);
        free(r->hostnames);
        for (size_t i = 0; i < r->nmap; i++) {
                free(r->map[i].from);
                free(r->map[i].to);
        }
        free(r->map);
        free(r);
}

enum kind { K_HOST, K_IPV4, K_IPV6, K_MAC };

/* The consistent stand-in of a value: the same input always maps to the same output
 * under one key, in a range that is clearly not real (RFC 2544 / RFC 3849 / local MAC). */
static const char *stand_in(struct redactor *r, enum kind k, const char *v, size_t n)
{
        _cleanup_free_ char *from = xstrndup(v, n);
        for (size_t i = 0; i < r->nmap; i++)
                if (streq(r->map[i].from, from))
                        return r->map[i].to;
        uint8_t h[32];
        hmac_sha256(r->key, 32, from, n, h);
        char *to;
        switch (k) {
        case K_IPV4: to = xasprintf("198.%u.%u.%u", 18 + (h[0] & 1), h[1], h[2]); break;
        case K_IPV6: to = xasprintf("2001:db8::%02x%02x:%02x%02x", h[0], h[1], h[2], h[3]); break;
        case K_MAC: to = xasprintf("02:00:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3]); break;
        default: to = xasprintf("host-%02x%02x%02x%02x", h[0], h[1], h[2], h[3]); break;
        }
        if (r->nmap == r->capmap) {
                r->capmap = r->capmap ? r->capmap * 2 : 16;
                r->map = xrealloc(r->map, r->capmap * sizeof(*r->map));
        }
        r->map[r->nmap++] = (struct mapping){.from = xstrdup(from), .to = to};
        return to;
}

/* Replaces match group `g` of every match of re in *line. */
static unsigned replace_all(struct redactor *r, regex_t *re, int g, char **line, const char *with, enum kind obf)
{
        unsigned n = 0;
        struct strbuf out = {0};
        const char *p = *line;
        regmatch_t m[8];
        sb_puts(&out, "");
        while (*p && regexec(re, p, 8, m, p == *line ? 0 : REG_NOTBOL) == 0 && m[g].rm_so >= 0) {
                const char *rep = with;
                size_t adv = m[g].rm_eo > 0 ? (size_t)m[g].rm_eo : 1;
                if (startswith(p + m[g].rm_so, MASK)) { /* redacted by an earlier rule */
                        sb_putn(&out, p, adv);
                        p += adv;
                        continue;
                }
                if (!rep) {
                        /* Obfuscation: skip what is not sensitive (loopback, unspecified, bad octets). */
                        _cleanup_free_ char *v = xstrndup(p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
                        bool keep = false;
                        if (obf == K_IPV4) {
                                unsigned a, b, c, d;
                                keep = sscanf(v, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 ||
                                       c > 255 || d > 255 || a == 127 || a == 0 || streq(v, "255.255.255.255");
                        } else if (obf == K_IPV6) {
                                size_t colons = 0;
                                for (const char *c = v; *c; c++)
                                        colons += *c == ':';
                                const char *dbl = strstr(v, "::");
                                bool shape = (dbl && !strstr(dbl + 1, "::")) || (!dbl && colons == 7);
                                keep = !shape || streq(v, "::1") || streq(v, "::") || strlen(v) < 3;
                        }
                        if (keep) {
                                sb_putn(&out, p, adv);
                                p += adv;
                                continue;
                        }
                        rep = stand_in(r, obf, p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
                }
                sb_putn(&out, p, (size_t)m[g].rm_so);
                sb_puts(&out, rep);
                p += m[g].rm_eo;
                n++;
                if (m[0].rm_eo == 0)
                        break;
        }
        sb_puts(&out, p);
        free(*line);
        *line = sb_steal(&out);
        return n;
}

/* key = value, key: value, export KEY=value, "key": "value". */
static unsigned redact_assignment(char **line)
{
        char *s = *line;
        char *p = s;
        while (*p == ' ' || *p == '\t')
                p++;
        if (startswith(p, "export "))
                p += 7;
        char quote = (*p == '"' || *p == '\'') ? *p++ : 0;
        char *name = p;
        while (*p && (isalnum((unsigned char)*p) || strchr("_.-", *p)))
                p++;
        size_t nl = (size_t)(p - name);
        if (quote && *p == quote)
                p++;
        while (*p == ' ' || *p == '\t')
                p++;
        if ((*p != '=' && *p != ':') || !secret_name(name, nl))
                return 0;
        p++;
        while (*p == ' ' || *p == '\t')
                p++;
        if (!*p || startswith(p, MASK) || streq(p, "\"\"") || streq(p, "''"))
                return 0;
        struct strbuf out = {0};
        sb_putn(&out, s, (size_t)(p - s));
        if (*p == '"' || *p == '\'') {
                /* Keep the quotes and whatever follows them (a JSON comma). */
                char q = *p;
                const char *e = p + 1;
                while (*e && *e != q)
                        e += (*e == '\\' && e[1]) ? 2 : 1;
                sb_putc(&out, q);
                sb_puts(&out, MASK);
                sb_puts(&out, *e ? e : "\"");
        } else {
                sb_puts(&out, MASK);
        }
        free(*line);
        *line = sb_steal(&out);
        return 1;
}

/* name=value words inside a line (kernel command lines, "k=v k=v" logs). */
static unsigned redact_inline_assignments(char **line)
{
        unsigned n = 0;
        struct strbuf out = {0};
        const char *p = *line;
        sb_puts(&out, "");
        while (*p) {
                const char *w = p;
                while (*p && !isspace((unsigned char)*p))
                        p++;
                const char *eq = memchr(w, '=', (size_t)(p - w));
                const char *name = w;
                while (name < (eq ? eq : w) && (*name == '-' || *name == '"' || *name == '\''))
                        name++;
                if (eq && eq > name && eq + 1 < p && !startswith(eq + 1, MASK) && secret_name(name, (size_t)(eq - name))) {
                        sb_putn(&out, w, (size_t)(eq + 1 - w));
                        sb_puts(&out, MASK);
                        n++;
                } else {
                        sb_putn(&out, w, (size_t)(p - w));
                }
                while (*p && isspace((unsigned char)*p))
                        sb_putc(&out, *p++);
        }
        free(*line);
        *line = sb_steal(&out);
        return n;
}

/* A flag alone in its argument ("--password") makes the next argument secret. */
static bool secret_flag(const char *arg)
{
        if (arg[0] != '-' || strchr(arg, '=') || strchr(arg, ' '))
                return false;
        while (*arg == '-')
                arg++;
        return secret_name(arg, strlen(arg)) && !strstr(arg, "file");
}

struct state {
        bool in_pem;
        bool next_secret;
};

static unsigned redact_line(struct redactor *r, struct state *st, char **line)
{
        unsigned n = 0;
        if (st->in_pem) {
                if (regexec(&r->pem_end, *line, 0, NULL, 0) == 0) {
                        st->in_pem = false;
                        return 0;
                }
                free(*line);
                *line = xstrdup(MASK);
                return 0; /* counted once at BEGIN */
        }
        if (regexec(&r->pem_begin, *line, 0, NULL, 0) == 0) {
                st->in_pem = regexec(&r->pem_end, *line, 0, NULL, 0) != 0;
                return 1;
        }
        if (st->next_secret && **line) {
                st->next_secret = false;
                free(*line);
                *line = xstrdup(MASK);
                return 1;
        }
        st->next_secret = secret_flag(*line);
        n += redact_assignment(line);
        n += redact_inline_assignments(line);
        n += replace_all(r, &r->url_cred, 3, line, MASK, K_HOST);
        n += replace_all(r, &r->auth_header, 0, line, "Authorization: " MASK, K_HOST);
        n += replace_all(r, &r->bearer, 0, line, MASK, K_HOST);
        n += replace_all(r, &r->aws_key, 0, line, MASK, K_HOST);
        /* --password=x / --token x inside a longer line; group 4 is the value. */
        n += replace_all(r, &r->flag_value, 4, line, MASK, K_HOST);
        if (r->obfuscate) {
                n += replace_all(r, &r->mac, 0, line, NULL, K_MAC);
                n += replace_all(r, &r->ipv4, 2, line, NULL, K_IPV4);
                n += replace_all(r, &r->ipv6, 2, line, NULL, K_IPV6);
                for (size_t i = 0; r->hostnames && r->hostnames[i]; i++) {
                        const char *h = r->hostnames[i];
                        char *hit;
                        while (*h && (hit = strstr(*line, h))) {
                                struct strbuf out = {0};
                                sb_putn(&out, *line, (size_t)(hit - *line));
                                sb_puts(&out, stand_in(r, K_HOST, h, strlen(h)));
                                sb_puts(&out, hit + strlen(h));
                                free(*line);
                                *line = sb_steal(&out);
                                n++;
                        }
                }
        }
        return n;
}

char *redact(struct redactor *r, const char *in, size_t len, size_t *out_len, unsigned *count)
{
        struct strbuf out = {0};
        struct state st = {0};
        unsigned n = 0;
        size_t i = 0;
        sb_puts(&out, "");
        while (i < len) {
                size_t j = i;
                while (j < len && in[j] != '\n' && in[j] != '\0')
                        j++;
                char *line = xstrndup(in + i, j - i);
                n += redact_line(r, &st, &line);
                sb_puts(&out, line);
                free(line);
                if (j < len)
                        sb_putc(&out, in[j]); /* keep the separator, \n or \0 */
                i = j + 1;
        }
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

size_t redactor_mapping_count(const struct redactor *r) { return r->nmap; }
bool redactor_obfuscating(const struct redactor *r) { return r->obfuscate; }

const char *redactor_mapping(const struct redactor *r, size_t i, const char **to)
{
        *to = r->map[i].to;
        return r->map[i].from;
}

void redactor_add_mapping(struct redactor *r, const char *from, const char *to)
{
        for (size_t i = 0; i < r->nmap; i++)
                if (streq(r->map[i].from, from))
                        return;
        if (r->nmap == r->capmap) {
                r->capmap = r->capmap ? r->capmap * 2 : 16;
                r->map = xrealloc(r->map, r->capmap * sizeof(*r->map));
        }
        r->map[r->nmap++] = (struct mapping){.from = xstrdup(from), .to = xstrdup(to)};
}

int redactor_save_mapping(struct redactor *r, const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return -errno;
        }
        fprintf(f, "# evodiag --obfuscate mapping: original<TAB>stand-in. Keep on this host.\n");
        for (size_t i = 0; i < r->nmap; i++)
                fprintf(f, "%s\t%s\n", r->map[i].from, r->map[i].to);
        return fclose(f) == 0 ? 0 : -errno;
}
