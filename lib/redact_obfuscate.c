/* --obfuscate: keyed, consistent stand-ins for host names, IPv4/IPv6 and MAC
 * addresses (the mapping stays on the host), and the redactor object itself. */
#include "config.h"
#include "lib/redact.h"
#include "lib/redact_private.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>

/* ---------------- 5. obfuscation ---------------- */

enum kind { K_HOST, K_IPV4, K_IPV6, K_MAC };

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
        return h;
}

static void map_rehash(struct redactor *r)
{
        free(r->slots);
        r->nslots = r->nslots ? r->nslots * 2 : 64;
        r->slots = xcalloc(r->nslots, sizeof(*r->slots));
        for (size_t i = 0; i < r->nmap; i++) {
                size_t h = (size_t)fnv1a(r->map[i].from, strlen(r->map[i].from)) & (r->nslots - 1);
                while (r->slots[h])
                        h = (h + 1) & (r->nslots - 1);
                r->slots[h] = i + 1;
        }
}

static const char *map_find(const struct redactor *r, const char *from, size_t n)
{
        if (!r->nslots)
                return NULL;
        size_t h = (size_t)fnv1a(from, n) & (r->nslots - 1);
        while (r->slots[h]) {
                const struct mapping *m = &r->map[r->slots[h] - 1];
                if (strlen(m->from) == n && memcmp(m->from, from, n) == 0)
                        return m->to;
                h = (h + 1) & (r->nslots - 1);
        }
        return NULL;
}

static void map_add(struct redactor *r, char *from, char *to)
{
        if (r->nmap == r->capmap) {
                r->capmap = r->capmap ? r->capmap * 2 : 16;
                r->map = xrealloc(r->map, r->capmap * sizeof(*r->map));
        }
        r->map[r->nmap++] = (struct mapping){.from = from, .to = to};
        if (r->nmap * 2 > r->nslots) {
                map_rehash(r);
                return;
        }
        size_t h = (size_t)fnv1a(from, strlen(from)) & (r->nslots - 1);
        while (r->slots[h])
                h = (h + 1) & (r->nslots - 1);
        r->slots[h] = r->nmap;
}

/* The consistent stand-in of a value: the same input always maps to the same output
 * under one key, in a range that is clearly not real (RFC 2544 / RFC 3849 / local MAC). */
static const char *stand_in(struct redactor *r, enum kind k, const char *v, size_t n)
{
        const char *have = map_find(r, v, n);
        if (have)
                return have;
        uint8_t h[32];
        hmac_sha256(r->key, 32, v, n, h);
        char *to;
        switch (k) {
        case K_IPV4: to = xasprintf("198.%u.%u.%u", 18 + (h[0] & 1), h[1], h[2]); break;
        case K_IPV6: to = xasprintf("2001:db8::%02x%02x:%02x%02x", h[0], h[1], h[2], h[3]); break;
        case K_MAC: to = xasprintf("02:00:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3]); break;
        default: to = xasprintf("host-%02x%02x%02x%02x", h[0], h[1], h[2], h[3]); break;
        }
        map_add(r, xstrndup(v, n), to);
        return to;
}

static bool is_hex(char c) { return isxdigit((unsigned char)c); }

/* xx:xx:xx:xx:xx:xx anywhere. */
unsigned obf_mac(struct redactor *r, const char *s, size_t n, struct strbuf *out)
{
        unsigned count = 0;
        size_t i = 0, done = 0;
        while (i + 17 <= n) {
                bool ok = true;
                for (size_t k = 0; k < 17 && ok; k++)
                        ok = k % 3 == 2 ? s[i + k] == ':' : is_hex(s[i + k]);
                if (!ok) {
                        i++;
                        continue;
                }
                sb_putn(out, s + done, i - done);
                sb_puts(out, stand_in(r, K_MAC, s + i, 17));
                count++;
                i += 17;
                done = i;
        }
        sb_putn(out, s + done, n - done);
        return count;
}

/* Runs of [0-9.] that are exactly a dotted quad; loopback, 0/8 and broadcast stay. */
unsigned obf_ipv4(struct redactor *r, const char *s, size_t n, struct strbuf *out)
{
        unsigned count = 0;
        size_t i = 0, done = 0;
        while (i < n) {
                if (!isdigit((unsigned char)s[i]) && s[i] != '.') {
                        i++;
                        continue;
                }
                size_t a = i;
                while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
                        i++;
                unsigned oct[4] = {0}, no = 0, digits = 0;
                bool ok = true;
                for (size_t k = a; k < i && ok; k++) {
                        if (s[k] == '.') {
                                ok = digits > 0 && ++no <= 3;
                                digits = 0;
                        } else if (++digits > 3) {
                                ok = false;
                        } else {
                                oct[no] = oct[no] * 10 + (unsigned)(s[k] - '0');
                        }
                }
                if (!ok || no != 3 || digits == 0)
                        continue;
                bool keep = oct[0] > 255 || oct[1] > 255 || oct[2] > 255 || oct[3] > 255 || oct[0] == 127 || oct[0] == 0 ||
                            (oct[0] == 255 && oct[1] == 255 && oct[2] == 255 && oct[3] == 255);
                if (keep)
                        continue;
                sb_putn(out, s + done, a - done);
                sb_puts(out, stand_in(r, K_IPV4, s + a, i - a));
                count++;
                done = i;
        }
        sb_putn(out, s + done, n - done);
        return count;
}

/* Runs of [0-9A-Fa-f:.] that are hex groups of up to 4 with 2..7 colons, and either
 * one "::" or eight groups (so 22:39:07 is a time, not an address). */
unsigned obf_ipv6(struct redactor *r, const char *s, size_t n, struct strbuf *out)
{
        unsigned count = 0;
        size_t i = 0, done = 0;
        while (i < n) {
                if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.') {
                        i++;
                        continue;
                }
                size_t a = i;
                while (i < n && (is_hex(s[i]) || s[i] == ':' || s[i] == '.'))
                        i++;
                size_t colons = 0, dbl = 0, group = 0;
                bool ok = true;
                for (size_t k = a; k < i && ok; k++) {
                        if (s[k] == '.')
                                ok = false;
                        else if (s[k] == ':') {
                                colons++;
                                dbl += k > a && s[k - 1] == ':';
                                group = 0;
                        } else if (++group > 4)
                                ok = false;
                }
                size_t len = i - a;
                ok = ok && colons >= 2 && colons <= 7 && ((dbl == 1) || (dbl == 0 && colons == 7));
                /* "::1", "::" and ":::"-like runs say nothing about the site. */
                if (!ok || len < 3 || (len == 3 && memcmp(s + a, "::1", 3) == 0))
                        continue;
                sb_putn(out, s + done, a - done);
                sb_puts(out, stand_in(r, K_IPV6, s + a, len));
                count++;
                done = i;
        }
        sb_putn(out, s + done, n - done);
        return count;
}

/* Every occurrence of each host name (memmem: linear), one pass per name. */
unsigned obf_host(struct redactor *r, const char *h, const char *s, size_t n, struct strbuf *out)
{
        unsigned count = 0;
        size_t hl = strlen(h), done = 0;
        const char *hit;
        while (hl && done < n && (hit = memmem(s + done, n - done, h, hl))) {
                size_t at = (size_t)(hit - s);
                sb_putn(out, s + done, at - done);
                sb_puts(out, stand_in(r, K_HOST, h, hl));
                count++;
                done = at + hl;
        }
        sb_putn(out, s + done, n - done);
        return count;
}

/* ---------------- the redactor object ---------------- */

struct redactor *redactor_new(void)
{
        return xcalloc(1, sizeof(struct redactor));
}

void redactor_obfuscate(struct redactor *r, const uint8_t key[32], const char *const *hostnames)
{
        r->obfuscate = true;
        memcpy(r->key, key, 32);
        size_t n = 0;
        while (hostnames && hostnames[n])
                n++;
        r->hostnames = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0, k = 0; i < n; i++)
                if (*hostnames[i])
                        r->hostnames[k++] = xstrdup(hostnames[i]);
}

void redactor_free(struct redactor *r)
{
        if (!r)
                return;
        for (size_t i = 0; r->hostnames && r->hostnames[i]; i++)
                free(r->hostnames[i]);
        free(r->hostnames);
        for (size_t i = 0; i < r->nmap; i++) {
                free(r->map[i].from);
                free(r->map[i].to);
        }
        free(r->map);
        free(r->slots);
        free(r);
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
        if (map_find(r, from, strlen(from)))
                return;
        map_add(r, xstrdup(from), xstrdup(to));
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
