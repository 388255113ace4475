#include "config.h"
#include "lib/procfs.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

int kv_parse(const char *text, char sep, struct kvlist *out)
{
        *out = (struct kvlist){0};
        _cleanup_free_ char *buf = xstrdup(text);
        size_t pos = 0;
        char *line;
        while ((line = next_line(buf, &pos))) {
                char *c = strchr(line, sep);
                if (!c || c == line) {
                        if (*strstrip(line))
                                out->bad_lines++;
                        continue;
                }
                *c = 0;
                if (out->n == out->cap) {
                        out->cap = out->cap ? out->cap * 2 : 64;
                        out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
                }
                out->v[out->n++] = (struct kv){.key = xstrdup(strstrip(line)), .value = xstrdup(strstrip(c + 1))};
        }
        return 0;
}

int kv_parse_keys(const char *text, char sep, const char *const *keys, struct kvlist *out)
{
        *out = (struct kvlist){0};
        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);
                const char *c = memchr(l, sep, (size_t)(end - l));
                const char *k = l;
                while (k < end && isspace((unsigned char)*k))
                        k++;
                if (c && c > l) {
                        const char *ke = c;
                        while (ke > k && isspace((unsigned char)ke[-1]))
                                ke--;
                        for (size_t i = 0; keys[i]; i++) {
                                if (strlen(keys[i]) != (size_t)(ke - k) || memcmp(keys[i], k, (size_t)(ke - k)))
                                        continue;
                                if (out->n == out->cap) {
                                        out->cap = out->cap ? out->cap * 2 : 8;
                                        out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
                                }
                                _cleanup_free_ char *v = xstrndup(c + 1, (size_t)(end - c - 1));
                                out->v[out->n++] = (struct kv){.key = xstrdup(keys[i]), .value = xstrdup(strstrip(v))};
                                break;
                        }
                }
                l = nl ? nl + 1 : end;
        }
        return 0;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i].key, key))
                        return l->v[i].value;
        return NULL;
}

int kv_get_u64(const struct kvlist *l, const char *key, uint64_t *out)
{
        const char *v = kv_get(l, key);
        if (!v)
                return -ENOENT;
        if (!isdigit((unsigned char)*v))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno)
                return -EINVAL;
        while (*end == ' ')
                end++;
        if (streq(end, "kB")) {
                if (n > UINT64_MAX / 1024)
                        return -EINVAL;
                n *= 1024;
        } else if (*end) {
                return -EINVAL;
        }
        *out = n;
        return 0;
}

void kv_free(struct kvlist *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].value);
        }
        free(l->v);
        *l = (struct kvlist){0};
}

static int limit_value(const char *s, uint64_t *out)
{
        if (*s == '-') /* strtoull would wrap -1 to "unlimited" */
                return -EINVAL;
        if (startswith(s, "unlimited")) {
                *out = LIMIT_UNLIMITED;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        *out = v;
        return 0;
}

int limits_get(const char *text, const char *name, uint64_t *soft, uint64_t *hard)
{
        /* The kernel prints "%-25s %-20s %-20s %-10s": names hold spaces, so the name is
         * the first 26 columns, trimmed; "Max open" must not match "Max open files". */
        size_t nl = strlen(name);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, name, nl) != 0)
                        continue;
                const char *q = p + nl;
                while (*q == ' ')
                        q++;
                if (q - p < 26)
                        continue; /* a longer name ("Max open" vs "Max open files"), or truncated */
                if (*q == '\n' || !*q)
                        return -EINVAL;
                if (limit_value(q, soft) < 0)
                        return -EINVAL;
                while (*q && *q != ' ' && *q != '\n')
                        q++;
                while (*q == ' ')
                        q++;
                return limit_value(q, hard);
        }
        return -ENOENT;
}

int sysvipc_shm_parse(const char *text, struct sysv_shm **out, size_t *bad_lines)
{
        *out = NULL;
        *bad_lines = 0;
        _cleanup_free_ char *buf = xstrdup(text);
        size_t pos = 0, n = 0, cap = 0;
        char *line = next_line(buf, &pos);
        if (!line || !strstr(line, "shmid") || !strstr(line, "nattch"))
                return -EINVAL;
        struct sysv_shm *v = NULL;
        while ((line = next_line(buf, &pos))) {
                struct sysv_shm s = {0};
                long long key, atime, dtime, ctime;
                unsigned long long size, nattch, rss = 0, swap = 0;
                int got = sscanf(line, "%lld %d %o %llu %d %d %llu %u %u %u %u %lld %lld %lld %llu %llu", &key,
                                 &s.shmid, &s.perms, &size, &s.cpid, &s.lpid, &nattch, &s.uid, &s.gid, &s.cuid,
                                 &s.cgid, &atime, &dtime, &ctime, &rss, &swap);
                if (got < 14) {
                        if (*strstrip(line))
                                (*bad_lines)++;
                        continue;
                }
                s.key = key;
                s.size = size;
                s.nattch = nattch;
                s.atime = atime;
                s.dtime = dtime;
                s.ctime = ctime;
                s.rss = rss;
                s.swap = swap;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        v = xrealloc(v, cap * sizeof(*v));
                }
                v[n++] = s;
        }
        *out = v;
        return (int)n;
}

int interrupts_parse(const char *text, struct irq_table *t)
{
        *t = (struct irq_table){0};
        _cleanup_free_ char *buf = xstrdup(text);
        size_t pos = 0;
        char *line = next_line(buf, &pos);
        if (!line)
                return -EINVAL;
        /* Header: "           CPU0       CPU1 ..." */
        size_t cap_cpus = 0;
        for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
                unsigned id;
                if (!startswith(tok, "CPU") || sscanf(tok + 3, "%u", &id) != 1) {
                        interrupts_free(t);
                        return -EINVAL;
                }
                if (t->ncpus == cap_cpus) {
                        cap_cpus = cap_cpus ? cap_cpus * 2 : 8;
                        t->cpu_ids = xrealloc(t->cpu_ids, cap_cpus * sizeof(*t->cpu_ids));
                }
                t->cpu_ids[t->ncpus++] = id;
        }
        if (!t->ncpus) {
                interrupts_free(t);
                return -EINVAL;
        }
        size_t cap = 0;
        while ((line = next_line(buf, &pos))) {
                char *colon = strchr(line, ':');
                char *name = strstrip(line);
                if (!colon || !*name) {
                        if (*name)
                                t->bad_lines++;
                        continue;
                }
                *colon = 0;
                name = strstrip(name);
                if (!*name || strlen(name) >= sizeof(((struct irq_line *)0)->name)) {
                        t->bad_lines++;
                        continue;
                }
                struct irq_line l = {0};
                snprintf(l.name, sizeof(l.name), "%s", name);
                l.numeric = isdigit((unsigned char)name[0]);
                l.count = xcalloc(t->ncpus, sizeof(uint64_t));
                char *p = colon + 1;
                unsigned i;
                for (i = 0; i < t->ncpus; i++) {
                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (!isdigit((unsigned char)*p))
                                break; /* ERR/MIS have a single column */
                        l.count[i] = strtoull(p, &p, 10);
                }
                l.desc = xstrdup(strstrip(p));
                if (t->n == cap) {
                        cap = cap ? cap * 2 : 64;
                        t->v = xrealloc(t->v, cap * sizeof(*t->v));
                }
                t->v[t->n++] = l;
        }
        return 0;
}

void interrupts_free(struct irq_table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].count);
                free(t->v[i].desc);
        }
        free(t->v);
        free(t->cpu_ids);
        *t = (struct irq_table){0};
}

int cmdline_param(const char *cmdline, const char *name, char **value)
{
        *value = NULL;
        size_t nl = strlen(name);
        const char *p = cmdline;
        int found = -ENOENT;
        while (*p) {
                while (isspace((unsigned char)*p))
                        p++;
                if (!*p)
                        break;
                /* A word may hold quoted spaces: key="a b". */
                const char *start = p;
                bool q = false;
                while (*p && (q || !isspace((unsigned char)*p))) {
                        if (*p == '"')
                                q = !q;
                        p++;
                }
                size_t wl = (size_t)(p - start);
                if (wl == 2 && start[0] == '-' && start[1] == '-')
                        break; /* the rest belongs to init, not the kernel */
                if (wl >= nl && strncmp(start, name, nl) == 0 && (wl == nl || start[nl] == '=')) {
                        free(*value);
                        struct strbuf b = {0};
                        sb_puts(&b, "");
                        for (const char *c = start + nl + (wl > nl); c < p; c++)
                                if (*c != '"')
                                        sb_putc(&b, *c);
                        *value = sb_steal(&b);
                        found = 0;
                }
        }
        return found;
}

int isolcpus_parse(const char *value, struct isolcpus *out)
{
        *out = (struct isolcpus){0};
        const char *p = value;
        /* Flags come first, comma separated, each a word: "nohz,domain,managed_irq,2-7". */
        for (;;) {
                size_t n = strcspn(p, ",");
                if (n == 6 && strncmp(p, "domain", 6) == 0)
                        out->domain = true;
                else if (n == 11 && strncmp(p, "managed_irq", 11) == 0)
                        out->managed_irq = true;
                else if (n == 4 && strncmp(p, "nohz", 4) == 0)
                        out->nohz = true;
                else
                        break;
                p += n;
                if (*p == ',')
                        p++;
        }
        if (!out->nohz && !out->managed_irq)
                out->domain = true; /* no flags means "domain" (kernel-parameters.txt) */
        return cpulist_parse(p, &out->cpus);
}

int proc_stat_parse(const char *text, struct proc_stat *o)
{
        *o = (struct proc_stat){0};
        const char *lp = strchr(text, '(');
        const char *rp = strrchr(text, ')');
        if (!lp || !rp || rp < lp || sscanf(text, "%d", &o->pid) != 1)
                return -EINVAL;
        size_t cl = (size_t)(rp - lp - 1);
        if (cl >= sizeof(o->comm))
                cl = sizeof(o->comm) - 1;
        memcpy(o->comm, lp + 1, cl);
        o->comm[cl] = 0;
        /* After ") ": field 3 (state) onwards. */
        const char *p = rp + 1;
        long long f[64] = {0};
        char state = 0;
        int i = 3;
        while (*p == ' ')
                p++;
        if (!*p)
                return -EINVAL;
        state = *p++;
        for (i = 4; i < 64 && *p; i++) {
                while (*p == ' ')
                        p++;
                if (!*p || *p == '\n')
                        break;
                char *end;
                f[i] = strtoll(p, &end, 10);
                if (end == p)
                        return -EINVAL;
                p = end;
        }
        if (i <= 41) /* need up to policy (41) */
                return -EINVAL;
        o->state = state;
        o->ppid = (int)f[4];
        o->flags = f[9] < 0 ? 0 : (uint64_t)f[9];
        o->utime = (uint64_t)f[14];
        o->stime = (uint64_t)f[15];
        o->nice = f[19];
        o->num_threads = f[20];
        o->starttime = (uint64_t)f[22];
        o->rss_pages = (uint64_t)f[24];
        o->vsize = f[23] < 0 ? 0 : (uint64_t)f[23];
        o->processor = (int)f[39];
        o->rt_priority = (unsigned)f[40];
        o->policy = (unsigned)f[41];
        return 0;
}

char *proc_stat_hide_layout(const char *text, size_t len, size_t *out_len, unsigned *hidden)
{
        *hidden = 0;
        const char *rp = memrchr(text, ')', len);
        if (!rp || (size_t)(rp - text) + 2 > len || rp[1] != ' ')
                return NULL;
        struct strbuf b = {0};
        sb_putn(&b, text, (size_t)(rp - text) + 2); /* "pid (comm) " */
        const char *p = rp + 2, *end = text + len;
        for (int field = 3; p < end; field++) {
                const char *sp = memchr(p, ' ', (size_t)(end - p));
                const char *fe = sp ? sp : end;
                size_t fl = (size_t)(fe - p);
                if (fl && p[fl - 1] == '\n')
                        fl--;
                bool layout = (field >= 26 && field <= 30) || (field >= 45 && field <= 51);
                if (layout && fl && strspn(p, "0123456789") == fl) {
                        if (!(fl == 1 && *p == '0'))
                                (*hidden)++;
                        sb_putn(&b, "0", 1);
                        sb_putn(&b, p + fl, (size_t)(fe - p) - fl); /* a newline after it */
                } else {
                        sb_putn(&b, p, (size_t)(fe - p));
                }
                if (!sp)
                        break;
                sb_putn(&b, " ", 1);
                p = sp + 1;
        }
        *out_len = b.len;
        return sb_steal(&b);
}

enum kflavour rt_flavour_from_version(const char *v)
{
        enum kflavour f = KF_NONE;
        bool prev_preempt = false;
        const char *p = v ? v : "";
        while (*p) {
                while (isspace((unsigned char)*p))
                        p++;
                size_t n = 0;
                while (p[n] && !isspace((unsigned char)p[n]))
                        n++;
                if (!n)
                        break;
                /* Old RT patches (before 5.x) wrote "PREEMPT RT". */
                if ((n == 10 && !strncmp(p, "PREEMPT_RT", 10)) || (prev_preempt && n == 2 && !strncmp(p, "RT", 2)))
                        f = KF_PREEMPT_RT;
                else if (n == 15 && !strncmp(p, "PREEMPT_DYNAMIC", 15) && f < KF_PREEMPT_DYNAMIC)
                        f = KF_PREEMPT_DYNAMIC;
                else if (n == 7 && !strncmp(p, "PREEMPT", 7) && f < KF_PREEMPT)
                        f = KF_PREEMPT;
                prev_preempt = n == 7 && !strncmp(p, "PREEMPT", 7);
                p += n;
        }
        return f;
}

const char *rt_flavour_name(enum kflavour f)
{
        switch (f) {
        case KF_PREEMPT: return "PREEMPT";
        case KF_PREEMPT_DYNAMIC: return "PREEMPT_DYNAMIC";
        case KF_PREEMPT_RT: return "PREEMPT_RT";
        default: return "no PREEMPT flag";
        }
}

char *environ_get(const char *env, size_t len, const char *name)
{
        size_t nl = strlen(name);
        for (size_t i = 0; i < len;) {
                size_t l = strnlen(env + i, len - i);
                if (l > nl && !memcmp(env + i, name, nl) && env[i + nl] == '=')
                        return xstrndup(env + i + nl + 1, l - nl - 1);
                i += l + 1;
        }
        return NULL;
}
