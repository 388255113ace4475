/* mediator: the pure parsers (exports, etab, per-VM request and response files, the
 * admin protocol's reply header, /proc/locks, the log, cuda_sanity's output). Every
 * input here is controlled by someone else (an operator's file, a VM, a server). */
#include "config.h"
#include "collectors/mediator.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- exports ---- */

static void add_export(struct mx_exports *x, const char *path, const char *host, size_t hlen, const char *defs,
                       const char *opts, size_t olen, unsigned line)
{
        if (x->n >= MX_EXPORTS_MAX) {
                x->cut++;
                return;
        }
        if (x->n == x->cap) {
                x->cap = x->cap ? x->cap * 2 : 4;
                x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
        }
        struct strbuf o = {0};
        if (defs && *defs)
                sb_puts(&o, defs);
        if (olen) {
                if (o.len)
                        sb_putc(&o, ',');
                sb_putn(&o, opts, olen);
        }
        x->v[x->n++] = (struct mx_export){
                .path = xstrdup(path),
                .host = xstrndup(host, hlen),
                .opts = o.s ? sb_steal(&o) : xstrdup(""),
                .line = line,
        };
}

static void bad_line(struct mx_exports *x, unsigned line)
{
        if (!x->bad++)
                x->first_bad = line;
}

/* The path word at *p: quoted ("...") or up to white space; \NNN octal undone. NULL
 * when it is not an absolute path (or is empty). */
static char *take_path(const char **p)
{
        const char *s = *p;
        struct strbuf b = {0};
        bool quoted = *s == '"';
        if (quoted)
                s++;
        while (*s && (quoted ? *s != '"' : !isspace((unsigned char)*s))) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        char c = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        if (c)
                                sb_putc(&b, c);
                        s += 4;
                        continue;
                }
                sb_putc(&b, *s++);
        }
        if (quoted) {
                if (*s != '"') {
                        sb_free(&b);
                        return NULL;
                }
                s++;
        }
        *p = s;
        if (!b.s || b.s[0] != '/') {
                sb_free(&b);
                return NULL;
        }
        return sb_steal(&b);
}

/* One logical exports line (continuations joined). */
static void exports_line(struct mx_exports *x, const char *l, unsigned lineno)
{
        while (isspace((unsigned char)*l))
                l++;
        if (!*l || *l == '#')
                return;
        _cleanup_free_ char *path = take_path(&l);
        if (!path || (*l && !isspace((unsigned char)*l))) {
                bad_line(x, lineno);
                return;
        }
        _cleanup_free_ char *defs = NULL;
        size_t before = x->n;
        for (;;) {
                while (isspace((unsigned char)*l))
                        l++;
                if (!*l || *l == '#')
                        break;
                const char *w = l;
                while (*l && !isspace((unsigned char)*l) && *l != '(')
                        l++;
                size_t hlen = (size_t)(l - w);
                const char *o = NULL;
                size_t olen = 0;
                if (*l == '(') {
                        o = ++l;
                        while (*l && *l != ')')
                                l++;
                        if (*l != ')') {
                                bad_line(x, lineno);
                                return;
                        }
                        olen = (size_t)(l - o);
                        l++;
                        if (*l && !isspace((unsigned char)*l)) {
                                bad_line(x, lineno);
                                return;
                        }
                }
                if (hlen && w[0] == '-' && !o) {
                        if (x->n == before) {
                                free(defs);
                                defs = xstrndup(w + 1, hlen - 1);
                                continue;
                        }
                }
                add_export(x, path, w, hlen, defs, o, olen, lineno);
        }
        if (x->n == before && !x->cut)
                /* A path with no client is exported to everyone with the defaults. */
                add_export(x, path, "*", 1, defs, NULL, 0, lineno);
}

void mx_exports_parse(const char *text, struct mx_exports *out)
{
        if (!text)
                return;
        struct strbuf cur = {0};
        unsigned lineno = 0, start = 0;
        const char *p = text;
        while (*p) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                lineno++;
                if (!cur.len)
                        start = lineno;
                bool cont = n && p[n - 1] == '\\';
                if (cur.len + n > MX_LINE_MAX) {
                        bad_line(out, start);
                        cur.len = 0;
                        /* skip the rest of a continued monster */
                        while (cont && e) {
                                p = e + 1;
                                e = strchr(p, '\n');
                                n = e ? (size_t)(e - p) : strlen(p);
                                lineno++;
                                cont = n && p[n - 1] == '\\';
                        }
                } else {
                        sb_putn(&cur, p, cont ? n - 1 : n);
                        if (cont)
                                sb_putc(&cur, ' ');
                        if (!cont || !e) {
                                exports_line(out, cur.s ? cur.s : "", start);
                                cur.len = 0;
                                if (cur.s)
                                        cur.s[0] = 0;
                        }
                }
                if (!e)
                        break;
                p = e + 1;
        }
        sb_free(&cur);
}

void mx_etab_parse(const char *text, struct mx_exports *out)
{
        if (!text)
                return;
        unsigned lineno = 0;
        const char *p = text;
        while (*p) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                lineno++;
                if (n > MX_LINE_MAX) {
                        bad_line(out, lineno);
                } else if (n) {
                        _cleanup_free_ char *l = xstrndup(p, n);
                        const char *s = l;
                        _cleanup_free_ char *path = take_path(&s);
                        const char *w = s;
                        while (*w == '\t' || *w == ' ')
                                w++;
                        const char *o = strchr(w, '(');
                        const char *c = o ? strrchr(o, ')') : NULL;
                        if (!path || w == s || !o || !c || c[1] || o == w)
                                bad_line(out, lineno);
                        else
                                add_export(out, path, w, (size_t)(o - w), NULL, o + 1, (size_t)(c - o - 1), lineno);
                }
                if (!e)
                        break;
                p = e + 1;
        }
}

void mx_exports_free(struct mx_exports *x)
{
        for (size_t i = 0; i < x->n; i++) {
                free(x->v[i].path);
                free(x->v[i].host);
                free(x->v[i].opts);
        }
        free(x->v);
        *x = (struct mx_exports){0};
}

bool mx_opt(const char *opts, const char *name, char *val, size_t valsz)
{
        size_t nl = strlen(name);
        const char *p = opts;
        while (p && *p) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n >= nl && !strncmp(p, name, nl) && (n == nl || p[nl] == '=')) {
                        if (val && valsz) {
                                size_t vl = n > nl ? n - nl - 1 : 0;
                                if (vl >= valsz)
                                        vl = valsz - 1;
                                memcpy(val, p + nl + (n > nl), vl);
                                val[vl] = 0;
                        }
                        return true;
                }
                p = e ? e + 1 : NULL;
        }
        return false;
}

/* Pairs exportfs shows either way: etab always spells one of each out. */
static const char *const opposite[][2] = {
        {"rw", "ro"}, {"sync", "async"}, {"root_squash", "no_root_squash"}, {"secure", "insecure"},
        {"subtree_check", "no_subtree_check"}, {"wdelay", "no_wdelay"}, {"hide", "nohide"},
        {"all_squash", "no_all_squash"},
};

size_t mx_opts_differ(const char *exports_opts, const char *etab_opts, struct strbuf *sb)
{
        size_t n = 0;
        const char *p = exports_opts;
        while (p && *p) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                char word[128], want[128], have[128];
                if (len && len < sizeof(word)) {
                        memcpy(word, p, len);
                        word[len] = 0;
                        char *eq = strchr(word, '=');
                        bool differs;
                        if (eq) {
                                *eq = 0;
                                snprintf(want, sizeof(want), "%s", eq + 1);
                                differs = !mx_opt(etab_opts, word, have, sizeof(have)) || strcmp(have, want);
                                *eq = '=';
                        } else {
                                /* Known pair: the opposite shown means it differs; unknown words
                                 * must be there themselves. */
                                const char *opp = NULL;
                                for (size_t i = 0; i < ARRAY_SIZE(opposite); i++) {
                                        if (streq(word, opposite[i][0]))
                                                opp = opposite[i][1];
                                        else if (streq(word, opposite[i][1]))
                                                opp = opposite[i][0];
                                }
                                differs = opp ? mx_opt(etab_opts, opp, NULL, 0) || !mx_opt(etab_opts, word, NULL, 0)
                                              : !mx_opt(etab_opts, word, NULL, 0);
                        }
                        if (differs) {
                                if (sb && n)
                                        sb_putc(sb, ',');
                                if (sb)
                                        sb_puts(sb, word);
                                n++;
                        }
                }
                p = e ? e + 1 : NULL;
        }
        return n;
}

bool mx_path_under(const char *path, const char *dir)
{
        /* Compare component by component, folding repeated and trailing slashes. */
        const char *a = path, *b = dir;
        for (;;) {
                while (*a == '/')
                        a++;
                while (*b == '/')
                        b++;
                if (!*b)
                        return true;
                size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
                if (la != lb || strncmp(a, b, la))
                        return false;
                a += la;
                b += lb;
        }
}

/* ---- per-VM files ---- */

int mx_vm_dir_id(const char *name, unsigned *id)
{
        uint64_t v;
        if (strncmp(name, "vm", 2) || !name[2] || parse_digits_u64(name + 2, strlen(name + 2), 10, 9, &v) < 0)
                return -EINVAL;
        *id = (unsigned)v;
        return 0;
}

static bool u32_field(const char *s, size_t n, unsigned *out)
{
        uint64_t v;
        if (!n || parse_digits_u64(s, n, 10, 10, &v) < 0 || v > UINT32_MAX)
                return false;
        *out = (unsigned)v;
        return true;
}

static bool int_field(const char *s, size_t n)
{
        if (n && (*s == '-' || *s == '+'))
                s++, n--;
        uint64_t v;
        return n && parse_digits_u64(s, n, 10, 19, &v) == 0;
}

/* One request line; false with why. */
static bool request_line(const char *l, size_t n, enum mx_layout layout, struct mx_request *r)
{
        if (layout == MX_LAYOUT_PHASE1) {
                if (!u32_field(l, n, &r->code)) {
                        snprintf(r->why, sizeof(r->why), "not an unsigned number (phase 1 command.txt holds \"%%u\")");
                        return false;
                }
                if (r->code > 2) {
                        snprintf(r->why, sizeof(r->why), "unknown command %u (0 NOP, 1 VECTOR_ADD, 2 GPU_INFO)", r->code);
                        return false;
                }
                r->kind = MX_REQ_COMMAND;
                return true;
        }
        const char *f[6];
        size_t fl[6], nf = 0;
        const char *p = l, *end = l + n;
        while (nf < 6) {
                const char *c = memchr(p, ':', (size_t)(end - p));
                f[nf] = p;
                fl[nf] = c ? (size_t)(c - p) : (size_t)(end - p);
                nf++;
                if (!c)
                        break;
                p = c + 1;
        }
        if (nf != 4 && nf != 5) {
                snprintf(r->why, sizeof(r->why), "%zu fields (pool:prio:vm:COMMAND or pool:prio:vm:num1:num2)", nf);
                return false;
        }
        if (fl[0] != 1 || (f[0][0] != 'A' && f[0][0] != 'B')) {
                snprintf(r->why, sizeof(r->why), "pool is not A or B");
                return false;
        }
        if (!u32_field(f[1], fl[1], &r->prio) || r->prio > 2) {
                snprintf(r->why, sizeof(r->why), "priority is not 0, 1 or 2");
                return false;
        }
        if (!u32_field(f[2], fl[2], &r->vm)) {
                snprintf(r->why, sizeof(r->why), "vm id is not a number");
                return false;
        }
        r->pool = f[0][0];
        if (nf == 5) {
                if (!int_field(f[3], fl[3]) || !int_field(f[4], fl[4])) {
                        snprintf(r->why, sizeof(r->why), "num1:num2 are not integers");
                        return false;
                }
                r->kind = MX_REQ_ASYNC;
                return true;
        }
        if (!fl[3] || fl[3] >= sizeof(r->command)) {
                snprintf(r->why, sizeof(r->why), "command is empty or longer than %zu", sizeof(r->command) - 1);
                return false;
        }
        for (size_t i = 0; i < fl[3]; i++)
                if (!isupper((unsigned char)f[3][i]) && !isdigit((unsigned char)f[3][i]) && f[3][i] != '_') {
                        snprintf(r->why, sizeof(r->why), "command is not an upper-case word");
                        return false;
                }
        memcpy(r->command, f[3], fl[3]);
        r->command[fl[3]] = 0;
        r->kind = MX_REQ_QUEUED;
        return true;
}

void mx_request_parse(const char *text, size_t len, enum mx_layout layout, struct mx_request *out)
{
        *out = (struct mx_request){.kind = MX_REQ_EMPTY};
        size_t pos = 0;
        unsigned lineno = 0;
        while (pos < len) {
                const char *l = text + pos;
                const char *e = memchr(l, '\n', len - pos);
                size_t n = e ? (size_t)(e - l) : len - pos;
                pos += n + (e != NULL);
                lineno++;
                if (n && l[n - 1] == '\r')
                        n--;
                while (n && (l[n - 1] == ' ' || l[n - 1] == '\t'))
                        n--;
                if (!n)
                        continue;
                out->lines++;
                if (memchr(l, 0, n)) {
                        out->kind = MX_REQ_BAD;
                        out->line = lineno;
                        snprintf(out->why, sizeof(out->why), "NUL byte in the line");
                        return;
                }
                struct mx_request one = {0};
                if (!request_line(l, n, layout, &one)) {
                        out->kind = MX_REQ_BAD;
                        out->line = lineno;
                        memcpy(out->why, one.why, sizeof(out->why));
                        return;
                }
                size_t lines = out->lines;
                *out = one;
                out->lines = lines;
        }
}

int mx_response_parse(const char *text, int *status, const char **msg, size_t *msglen)
{
        size_t n = strcspn(text, "\n");
        while (n && (text[n - 1] == '\r' || text[n - 1] == ' '))
                n--;
        const char *c = memchr(text, ':', n);
        if (!c) {
                if (!int_field(text, n))
                        return -EINVAL;
                *status = 1; /* mediator_async: the bare result */
                *msg = text;
                *msglen = n;
                return 0;
        }
        unsigned st;
        if (!u32_field(text, (size_t)(c - text), &st) || st > 2)
                return -EINVAL;
        *status = (int)st;
        *msg = c + 1;
        *msglen = n - (size_t)(c + 1 - text);
        return 0;
}

/* ---- admin protocol ---- */

int mx_admin_header(const void *buf, size_t len, size_t cap, struct mx_admin_hdr *out)
{
        if (len < sizeof(*out))
                return -EBADMSG;
        memcpy(out, buf, sizeof(*out));
        if (out->magic != MX_ADMIN_MAGIC)
                return -EPROTO;
        if (out->data_len > cap)
                return -EMSGSIZE;
        return 0;
}

void mx_admin_request(uint32_t command, uint8_t out[16])
{
        uint32_t v[4] = {MX_ADMIN_MAGIC, command, 0, 0};
        memcpy(out, v, sizeof(v));
}

static bool has_word_ci(const char *text, const char *w)
{
        size_t wl = strlen(w);
        for (const char *p = text; (p = strcasestr(p, w)); p += wl) {
                bool left = p == text || !isalpha((unsigned char)p[-1]);
                bool right = !isalpha((unsigned char)p[wl]);
                if (left && right)
                        return true;
        }
        return false;
}

bool mx_health_bad(const char *text)
{
        return has_word_ci(text, "unhealthy") || has_word_ci(text, "degraded") || has_word_ci(text, "quarantined") ||
               has_word_ci(text, "error");
}

/* ---- /proc/locks ---- */

int mx_lock_pid(const char *text, int *pid)
{
        size_t n = strcspn(text, "\n");
        while (n && (text[n - 1] == ' ' || text[n - 1] == '\r'))
                n--;
        const char *s = text;
        while (n && *s == ' ')
                s++, n--;
        unsigned v;
        if (!u32_field(s, n, &v) || !v || v > 4194304)
                return -EINVAL;
        *pid = (int)v;
        return 0;
}

/* ---- log and cuda_sanity ---- */

static void quote(char *dst, size_t dsz, const char *l, size_t n)
{
        if (n >= dsz)
                n = dsz - 1;
        for (size_t i = 0; i < n; i++)
                dst[i] = isprint((unsigned char)l[i]) ? l[i] : '?';
        dst[n] = 0;
}

static bool is_cuda_error(const char *l, size_t n)
{
        char buf[512];
        if (n >= sizeof(buf))
                n = sizeof(buf) - 1;
        memcpy(buf, l, n);
        buf[n] = 0;
        for (size_t i = 0; i < n; i++)
                if (!buf[i])
                        buf[i] = ' ';
        if (strcasestr(buf, "CUDA error") || strstr(buf, "cudaError") || strstr(buf, "CUDA_ERROR"))
                return true;
        return strcasestr(buf, "cuda") && strcasestr(buf, "failed");
}

void mx_log_scan(const char *text, size_t len, bool skip_first, struct mx_logscan *out)
{
        *out = (struct mx_logscan){0};
        size_t pos = 0;
        bool first = true;
        while (pos < len) {
                const char *l = text + pos;
                const char *e = memchr(l, '\n', len - pos);
                size_t n = e ? (size_t)(e - l) : len - pos;
                pos += n + (e != NULL);
                if (first && skip_first) {
                        first = false;
                        continue;
                }
                first = false;
                out->lines++;
                if (n >= 7 && memmem(l, n, "[ERROR]", 7)) {
                        out->errors++;
                        quote(out->last_error, sizeof(out->last_error), l, n);
                }
                if (is_cuda_error(l, n)) {
                        out->cuda++;
                        quote(out->last_cuda, sizeof(out->last_cuda), l, n);
                }
        }
}

enum mx_sanity mx_sanity_parse(const char *out, int exit_status, char *why, size_t whysz)
{
        if (whysz)
                why[0] = 0;
        const char *bad = out ? strstr(out, " failed: ") : NULL;
        if (!bad && out)
                bad = strstr(out, " failed");
        if (bad) {
                const char *s = bad;
                while (s > out && s[-1] != '\n')
                        s--;
                quote(why, whysz, s, strcspn(s, "\n"));
                return MX_SANITY_FAILED;
        }
        if (exit_status != 0) {
                snprintf(why, whysz, "exited with status %d", exit_status);
                return MX_SANITY_FAILED;
        }
        if (out && strstr(out, "CUDA sanity OK"))
                return MX_SANITY_OK;
        snprintf(why, whysz, "no \"CUDA sanity OK\" line in its output");
        return MX_SANITY_UNCLEAR;
}
