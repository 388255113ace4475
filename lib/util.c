#include "config.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
        static const char msg[] = "evodiag: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
        char *p = xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = 0;
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                oom();
        return s;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

static void sb_grow(struct strbuf *b, size_t extra)
{
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + extra + 1)
                cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
}

void sb_putn(struct strbuf *b, const char *s, size_t n)
{
        sb_grow(b, n);
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void sb_puts(struct strbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
void sb_putc(struct strbuf *b, char c) { sb_putn(b, &c, 1); }

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        sb_puts(b, s);
        free(s);
}

void sb_free(struct strbuf *b)
{
        free(b->s);
        *b = (struct strbuf){0};
}

char *sb_steal(struct strbuf *b)
{
        char *s = b->s ? b->s : xstrdup("");
        *b = (struct strbuf){0};
        return s;
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool strv_contains(const char *const *list, const char *s)
{
        for (; list && *list; list++)
                if (streq(*list, s))
                        return true;
        return false;
}

bool list_has_word(const char *list, const char *word)
{
        size_t wl = strlen(word);
        for (const char *p = list ? list : ""; *p;) {
                while (*p == ',' || isspace((unsigned char)*p))
                        p++;
                size_t n = strcspn(p, ",");
                size_t m = n;
                while (m && isspace((unsigned char)p[m - 1]))
                        m--;
                if (m && m == wl && !strncmp(p, word, m))
                        return true;
                p += n;
        }
        return false;
}

char *strstrip(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
                s[--n] = 0;
        return s;
}

char *next_line(char *buf, size_t *pos)
{
        char *p = buf + *pos;
        if (!*p)
                return NULL;
        char *nl = strchr(p, '\n');
        if (nl) {
                *nl = 0;
                *pos = (size_t)(nl - buf) + 1;
        } else {
                *pos += strlen(p);
        }
        return p;
}

int parse_u64(const char *s, uint64_t *out)
{
        while (isspace((unsigned char)*s))
                s++;
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        while (isspace((unsigned char)*end))
                end++;
        if (*end)
                return -EINVAL;
        *out = v;
        return 0;
}

int parse_i64(const char *s, int64_t *out)
{
        errno = 0;
        char *end;
        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -EINVAL;
        long long v = strtoll(s, &end, 10);
        if (errno)
                return -errno;
        while (isspace((unsigned char)*end))
                end++;
        if (end == s || *end)
                return -EINVAL;
        *out = v;
        return 0;
}

int parse_double(const char *s, double *out)
{
        errno = 0;
        char *end;
        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -EINVAL;
        double v = strtod(s, &end);
        if (errno)
                return -errno;
        while (isspace((unsigned char)*end))
                end++;
        if (end == s || *end || !isfinite(v))
                return -EINVAL;
        *out = v;
        return 0;
}

size_t next_field(const char **p, const char **f)
{
        const char *s = *p;
        while (*s == ' ' || *s == '\t')
                s++;
        *f = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n')
                s++;
        *p = s;
        return (size_t)(s - *f);
}

int parse_digits_u64(const char *s, size_t n, unsigned base, size_t max_digits, uint64_t *out)
{
        if (!n || n > max_digits || (base != 10 && base != 16))
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                           : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                           : base == 16 && c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : base;
                if (d >= base || __builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
                        return -EINVAL;
        }
        *out = v;
        return 0;
}

const char *fmt_bytes(uint64_t bytes, char buf[static 32])
{
        static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = (double)bytes;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, 32, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, 32, "%.1f %s", v, unit[u]);
        return buf;
}

/* One "<number><unit>" term of a duration; returns the milliseconds or -1. */
static double duration_term(const char **p)
{
        const char *s = *p;
        char *end;
        if (!isdigit((unsigned char)*s) && *s != '.')
                return -1;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !isfinite(v) || v < 0)
                return -1;
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"ms", 1}, {"min", 60000}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (startswith(end, units[i].unit)) {
                        *p = end + strlen(units[i].unit);
                        return v * units[i].ms;
                }
        *p = end;
        return *end ? -1 : v * 1000; /* a bare number (alone or last) is seconds */
}

int parse_duration_ms(const char *s, uint64_t *out_ms)
{
        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -EINVAL;
        double ms = 0;
        /* "1h2m", "1m30s", "1.5s", "500ms", "90" (seconds) */
        while (*s && !isspace((unsigned char)*s)) {
                double t = duration_term(&s);
                if (t < 0)
                        return -EINVAL;
                ms += t;
        }
        while (isspace((unsigned char)*s))
                s++;
        if (*s)
                return -EINVAL;
        if (ms > 1e15)
                return -ERANGE;
        *out_ms = (uint64_t)(ms + 0.5);
        return 0;
}

int parse_size(const char *s, uint64_t *out)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !isfinite(v) || v < 0 || v > 1e18)
                return -EINVAL;
        double m = 1;
        if (*end == 'k' || *end == 'K')
                m = 1024, end++;
        else if (*end == 'M' || *end == 'm')
                m = 1024.0 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
                m = 1024.0 * 1024 * 1024, end++;
        if (*end == 'i' && end[1] == 'B')
                end += 2;
        else if (*end == 'B')
                end++;
        if (*end)
                return -EINVAL;
        double bytes = v * m; /* up to 1e18 GiB: beyond any uint64_t */
        if (!(bytes < 18446744073709551616.0))
                return -ERANGE;
        *out = (uint64_t)bytes; /* a fraction of a byte is dropped */
        return 0;
}

static uint64_t clock_ms(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t now_ms_monotonic(void) { return clock_ms(CLOCK_MONOTONIC); }
uint64_t now_ms_realtime(void) { return clock_ms(CLOCK_REALTIME); }

bool self_has_cap(int cap)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
        memset(d, 0, sizeof(d));
        if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3 || syscall(SYS_capget, &h, d) < 0)
                return false;
        return (d[cap / 32].effective >> (cap % 32)) & 1u;
}

char *list_next(const char **p)
{
        while (**p) {
                size_t l = strcspn(*p, ",");
                char *one = xstrndup(*p, l);
                *p += l + ((*p)[l] == ',');
                char *item = strstrip(one);
                if (*item) {
                        if (item != one)
                                memmove(one, item, strlen(item) + 1);
                        return one;
                }
                free(one);
        }
        return NULL;
}
