#include "config.h"
#include "lib/cpulist.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>

#define WORD_BITS (8 * sizeof(unsigned long))
#define NWORDS (CPULIST_MAX / WORD_BITS)

void cpuset_zero(struct cpuset *s) { memset(s, 0, sizeof(*s)); }

void cpuset_set(struct cpuset *s, unsigned cpu)
{
        if (cpu < CPULIST_MAX)
                s->bits[cpu / WORD_BITS] |= 1UL << (cpu % WORD_BITS);
}

bool cpuset_isset(const struct cpuset *s, unsigned cpu)
{
        return cpu < CPULIST_MAX && (s->bits[cpu / WORD_BITS] >> (cpu % WORD_BITS)) & 1;
}

size_t cpuset_count(const struct cpuset *s)
{
        size_t n = 0;
        for (size_t i = 0; i < NWORDS; i++)
                n += (size_t)__builtin_popcountl(s->bits[i]);
        return n;
}

bool cpuset_empty(const struct cpuset *s) { return cpuset_count(s) == 0; }

#define SETOP(name, expr)                                                                      \
        void name(struct cpuset *out, const struct cpuset *a, const struct cpuset *b)         \
        {                                                                                      \
                for (size_t i = 0; i < NWORDS; i++)                                            \
                        out->bits[i] = (expr);                                                 \
        }
SETOP(cpuset_and, a->bits[i] & b->bits[i])
SETOP(cpuset_or, a->bits[i] | b->bits[i])
SETOP(cpuset_andnot, a->bits[i] & ~b->bits[i])
#undef SETOP

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
        return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < NWORDS; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

static int num(const char **p, unsigned *out)
{
        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        unsigned long v = 0;
        while (isdigit((unsigned char)**p)) {
                v = v * 10 + (unsigned long)(**p - '0');
                if (v >= CPULIST_MAX)
                        return -EINVAL;
                (*p)++;
        }
        *out = (unsigned)v;
        return 0;
}

int cpulist_parse(const char *s, struct cpuset *set)
{
        cpuset_zero(set);
        const char *p = s;
        while (isspace((unsigned char)*p))
                p++;
        while (*p && !isspace((unsigned char)*p)) {
                unsigned a, b, used = 1, group = 1;
                if (num(&p, &a) < 0)
                        goto bad;
                b = a;
                if (*p == '-') {
                        p++;
                        if (num(&p, &b) < 0 || b < a)
                                goto bad;
                        if (*p == ':') { /* a-b:used/group */
                                p++;
                                if (num(&p, &used) < 0 || *p != '/')
                                        goto bad;
                                p++;
                                if (num(&p, &group) < 0 || group == 0 || used == 0 || used > group)
                                        goto bad;
                        }
                }
                for (unsigned c = a; c <= b; c++)
                        if ((c - a) % group < used)
                                cpuset_set(set, c);
                if (*p == ',')
                        p++;
                else if (*p && !isspace((unsigned char)*p))
                        goto bad;
        }
        while (isspace((unsigned char)*p))
                p++;
        if (*p)
                goto bad;
        return 0;
bad:
        cpuset_zero(set);
        return -EINVAL;
}

char *cpulist_format(const struct cpuset *set)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        for (unsigned c = 0; c < CPULIST_MAX; c++) {
                if (!cpuset_isset(set, c))
                        continue;
                unsigned e = c;
                while (e + 1 < CPULIST_MAX && cpuset_isset(set, e + 1))
                        e++;
                if (b.len)
                        sb_putc(&b, ',');
                if (e == c)
                        sb_printf(&b, "%u", c);
                else
                        sb_printf(&b, "%u-%u", c, e);
                c = e;
        }
        return sb_steal(&b);
}

int cpumask_parse(const char *s, struct cpuset *set)
{
        cpuset_zero(set);
        /* Hex digits, most significant first, commas every 32 bits. */
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
                n--;
        while (n && isspace((unsigned char)*s)) {
                s++;
                n--;
        }
        if (!n)
                return -EINVAL;
        unsigned bit = 0;
        for (size_t i = n; i-- > 0;) {
                char ch = s[i];
                if (ch == ',')
                        continue;
                if (!isxdigit((unsigned char)ch))
                        goto bad;
                unsigned v = (unsigned)(isdigit((unsigned char)ch) ? ch - '0' : tolower((unsigned char)ch) - 'a' + 10);
                for (unsigned k = 0; k < 4; k++, bit++)
                        if (v & (1u << k)) {
                                if (bit >= CPULIST_MAX)
                                        goto bad;
                                cpuset_set(set, bit);
                        }
        }
        return 0;
bad:
        cpuset_zero(set);
        return -EINVAL;
}
