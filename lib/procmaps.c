/* /proc/PID/maps lines (lib/procmaps.h). */
#include "config.h"
#include "lib/procmaps.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>

/* "lo<sep>hi": two hex numbers of at most max digits each. */
static int parse_pair(const char *s, size_t n, char sep, size_t max, uint64_t *lo, uint64_t *hi)
{
        const char *m = memchr(s, sep, n);
        if (!m)
                return -EINVAL;
        size_t a = (size_t)(m - s);
        if (parse_digits_u64(s, a, 16, max, lo) < 0 || parse_digits_u64(m + 1, n - a - 1, 16, max, hi) < 0)
                return -EINVAL;
        return 0;
}

int procmaps_parse(const char *line, struct procmaps_entry *out)
{
        const char *p = line, *f[5];
        size_t len[5];
        uint64_t maj, min;
        *out = (struct procmaps_entry){.path = ""};
        for (int i = 0; i < 5; i++) {
                len[i] = next_field(&p, &f[i]);
                if (!len[i])
                        return -EINVAL;
        }
        if (parse_pair(f[0], len[0], '-', 16, &out->start, &out->end) < 0)
                return -EINVAL;
        static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};
        if (len[1] != 4)
                return -EINVAL;
        for (int i = 0; i < 4; i++)
                if (f[1][i] != allowed[i][0] && f[1][i] != allowed[i][1])
                        return -EINVAL;
        memcpy(out->perms, f[1], 4);
        out->perms[4] = 0;
        if (parse_digits_u64(f[2], len[2], 16, 16, &out->offset) < 0 || parse_pair(f[3], len[3], ':', 8, &maj, &min) < 0 ||
            parse_digits_u64(f[4], len[4], 10, 20, &out->inode) < 0)
                return -EINVAL;
        out->maj = (unsigned)maj;
        out->min = (unsigned)min;
        /* The path is the rest of the line: it may hold blanks of its own. */
        while (*p == ' ' || *p == '\t')
                p++;
        size_t plen = strcspn(p, "\n");
        while (plen && (p[plen - 1] == ' ' || p[plen - 1] == '\t' || p[plen - 1] == '\r'))
                plen--;
        static const char del[] = " (deleted)";
        if (plen >= sizeof(del) - 1 && !memcmp(p + plen - (sizeof(del) - 1), del, sizeof(del) - 1)) {
                out->deleted = true;
                plen -= sizeof(del) - 1;
        }
        out->path = p;
        out->path_len = plen;
        return 0;
}

bool procmaps_in_dir(const struct procmaps_entry *e, const char *dir, const char **name, size_t *len)
{
        size_t dl = strlen(dir);
        if (e->path_len <= dl + 1 || memcmp(e->path, dir, dl) || e->path[dl] != '/')
                return false;
        const char *n = e->path + dl + 1;
        size_t nl = e->path_len - dl - 1;
        if (memchr(n, '/', nl))
                return false;
        *name = n;
        *len = nl;
        return true;
}

bool procmaps_text_maps_shm(const char *text, size_t len, const char *also, long *lines)
{
        bool shm = false;
        long n = 0;
        size_t al = also ? strlen(also) : 0;
        for (size_t pos = 0; pos < len;) {
                const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
                size_t ll = nl ? (size_t)(nl - l) : len - pos;
                pos += ll + 1;
                n++;
                if (shm)
                        continue;
                /* "start-end perms ...": four permission letters, the last 'p' or 's'. */
                const char *sp = memchr(l, ' ', ll);
                if (!sp || (size_t)(sp - l) + 5 >= ll || sp[5] != ' ' || (sp[4] != 'p' && sp[4] != 's') ||
                    memmem(l, ll, "shm", 3) || memmem(l, ll, "SYSV", 4) || (al && memmem(l, ll, also, al)))
                        shm = true;
        }
        *lines = n;
        return shm;
}
