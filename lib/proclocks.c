/* /proc/locks: lib/proclocks.h. */
#include "config.h"
#include "lib/proclocks.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>

int proclocks_line(const char *line, struct proclock *out)
{
        const char *p = line, *f;
        size_t n;
        uint64_t v, maj, min;
        *out = (struct proclock){0};
        /* "N:" */
        n = next_field(&p, &f);
        if (n < 2 || f[n - 1] != ':' || parse_digits_u64(f, n - 1, 10, 20, &v) < 0)
                return -EINVAL;
        n = next_field(&p, &f);
        if (n == 2 && !memcmp(f, "->", 2)) {
                out->waiter = true;
                n = next_field(&p, &f);
        }
        if (!n || n >= sizeof(out->type))
                return -EINVAL;
        memcpy(out->type, f, n);
        out->type[n] = 0;
        if (!next_field(&p, &f)) /* ADVISORY / MANDATORY / ACTIVE / BREAKING */
                return -EINVAL;
        n = next_field(&p, &f);
        if (!n)
                return -EINVAL;
        out->write = n == 5 && !memcmp(f, "WRITE", 5);
        n = next_field(&p, &f);
        bool neg = n && f[0] == '-';
        if (parse_digits_u64(f + neg, n - neg, 10, 20, &v) < 0 || v > INT32_MAX)
                return -EINVAL;
        out->pid = neg ? -(int)v : (int)v;
        /* MAJ:MIN:INODE, majors and minors in hex, the inode in decimal */
        n = next_field(&p, &f);
        const char *c1 = memchr(f, ':', n), *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - f)) : NULL;
        if (!c2 || parse_digits_u64(f, (size_t)(c1 - f), 16, 8, &maj) < 0 ||
            parse_digits_u64(c1 + 1, (size_t)(c2 - c1 - 1), 16, 8, &min) < 0 ||
            parse_digits_u64(c2 + 1, n - (size_t)(c2 + 1 - f), 10, 20, &out->ino) < 0)
                return -EINVAL;
        out->maj = (unsigned)maj;
        out->min = (unsigned)min;
        return 0;
}

void proclocks_held(const char *text, struct proclock **v, size_t *n)
{
        size_t cap = 0, pos = 0;
        *v = NULL;
        *n = 0;
        if (!text)
                return;
        _cleanup_free_ char *buf = xstrdup(text);
        char *line;
        while ((line = next_line(buf, &pos)) && *n < PROCLOCKS_MAX) {
                struct proclock l;
                if (proclocks_line(line, &l) < 0 || l.waiter || !streq(l.type, "FLOCK"))
                        continue;
                if (*n == cap)
                        *v = xrealloc(*v, (cap = cap ? cap * 2 : 32) * sizeof(**v));
                (*v)[(*n)++] = l;
        }
}

const struct proclock *proclocks_holder(const struct proclock *v, size_t n, uint64_t ino, unsigned maj, unsigned min,
                                        bool match_dev)
{
        for (size_t k = 0; k < n; k++)
                if (v[k].ino == ino && (!match_dev || (v[k].maj == maj && v[k].min == min)))
                        return &v[k];
        return NULL;
}
