#include "config.h"
#include "lib/users.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>

#define USERS_FILE_MAX (1u << 20)

struct id_name {
        unsigned id;
        char *name;
        size_t order; /* position in the file: the first entry of an id wins */
};

struct users {
        struct id_name *user, *group;
        size_t nuser, ngroup;
};

static int by_id(const void *a, const void *b)
{
        const struct id_name *x = a, *y = b;
        if (x->id != y->id)
                return (x->id > y->id) - (x->id < y->id);
        return (x->order > y->order) - (x->order < y->order);
}

static int id_key(const void *k, const void *e)
{
        unsigned id = *(const unsigned *)k, o = ((const struct id_name *)e)->id;
        return (id > o) - (id < o);
}

static bool usable(const char *name) { return name && *name && *name != '#' && *name != '+' && *name != '-'; }

static void push(struct id_name **v, size_t *n, size_t *cap, unsigned id, const char *name)
{
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *v = xrealloc(*v, *cap * sizeof(**v));
        }
        (*v)[*n] = (struct id_name){.id = id, .name = xstrdup(name), .order = *n};
        (*n)++;
}

/* fgetpwent/fgetgrent skip lines they cannot parse (a uid of "10x", too few fields). */
static void parse(const char *text, bool groups, struct id_name **v, size_t *n)
{
        size_t cap = 0;
        if (!text || !*text)
                return;
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        if (!f)
                return;
        for (;;) {
                errno = 0;
                if (groups) {
                        struct group *g = fgetgrent(f);
                        if (!g)
                                break;
                        if (usable(g->gr_name))
                                push(v, n, &cap, (unsigned)g->gr_gid, g->gr_name);
                } else {
                        struct passwd *p = fgetpwent(f);
                        if (!p)
                                break;
                        if (usable(p->pw_name))
                                push(v, n, &cap, (unsigned)p->pw_uid, p->pw_name);
                }
        }
        fclose(f);
        if (*n > 1)
                qsort(*v, *n, sizeof(**v), by_id);
}

struct users *users_parse(const char *passwd, const char *group)
{
        struct users *u = xcalloc(1, sizeof(*u));
        parse(passwd, false, &u->user, &u->nuser);
        parse(group, true, &u->group, &u->ngroup);
        return u;
}

struct users *users_load(void)
{
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        if (rootfs_read("/etc/passwd", USERS_FILE_MAX, &passwd, NULL) < 0)
                passwd = (free(passwd), NULL);
        if (rootfs_read("/etc/group", USERS_FILE_MAX, &group, NULL) < 0)
                group = (free(group), NULL);
        return users_parse(passwd, group);
}

void users_free(struct users *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->nuser; i++)
                free(u->user[i].name);
        for (size_t i = 0; i < u->ngroup; i++)
                free(u->group[i].name);
        free(u->user);
        free(u->group);
        free(u);
}

/* ---- lookups, remembered for bundles ---- */

#define LOOKUPS_MAX 4096 /* distinct ids or names per file; past that a bundle keeps the file */

/* A small open-addressing set of ids and names (FNV-1a), linear in what goes in. */
struct keyset {
        struct key {
                bool used;
                unsigned id;
                char *name; /* NULL: an id */
        } *v;
        size_t n, cap;
};

static uint64_t key_hash(unsigned id, const char *name)
{
        uint64_t h = 1469598103934665603ull;
        if (name)
                for (const char *p = name; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ull;
        else
                for (int i = 0; i < 4; i++)
                        h = (h ^ ((id >> (8 * i)) & 0xff)) * 1099511628211ull;
        return h;
}

static struct key *ks_slot(const struct keyset *k, unsigned id, const char *name)
{
        size_t i = (size_t)key_hash(id, name) & (k->cap - 1);
        while (k->v[i].used && !(name ? k->v[i].name && streq(k->v[i].name, name) : !k->v[i].name && k->v[i].id == id))
                i = (i + 1) & (k->cap - 1);
        return &k->v[i];
}

static bool ks_has(const struct keyset *k, unsigned id, const char *name)
{
        return k->cap && ks_slot(k, id, name)->used;
}

static void ks_add(struct keyset *k, unsigned id, const char *name)
{
        if ((k->n + 1) * 2 > k->cap) {
                struct keyset old = *k;
                k->cap = k->cap ? k->cap * 2 : 64;
                k->v = xcalloc(k->cap, sizeof(*k->v));
                k->n = 0;
                for (size_t i = 0; i < old.cap; i++)
                        if (old.v[i].used)
                                *ks_slot(k, old.v[i].id, old.v[i].name) = old.v[i], k->n++;
                free(old.v);
        }
        struct key *s = ks_slot(k, id, name);
        if (s->used)
                return;
        *s = (struct key){.used = true, .id = id, .name = name ? xstrdup(name) : NULL};
        k->n++;
}

static void ks_free(struct keyset *k)
{
        for (size_t i = 0; i < k->cap; i++)
                free(k->v[i].name);
        free(k->v);
        *k = (struct keyset){0};
}

static struct {
        struct keyset keys;
        bool overflow;
} looked[2]; /* [0] passwd, [1] group */

static void remember(int db, unsigned id, const char *name)
{
        if (looked[db].overflow || ks_has(&looked[db].keys, id, name))
                return;
        if (looked[db].keys.n >= LOOKUPS_MAX) {
                looked[db].overflow = true;
                return;
        }
        ks_add(&looked[db].keys, id, name);
}

void users_lookups_reset(void)
{
        for (int db = 0; db < 2; db++) {
                ks_free(&looked[db].keys);
                looked[db].overflow = false;
        }
}

struct line {
        unsigned id;
        char *name;
        size_t off, len;
        bool keep;
};

char *users_filter(bool groups, const char *text, size_t len, size_t *out_len)
{
        int db = groups ? 1 : 0;
        struct strbuf out = {0};
        sb_puts(&out, "");
        len = strnlen(text, len); /* users_parse stops at a NUL too */
        if (looked[db].overflow) {
                sb_putn(&out, text, len);
                *out_len = out.len;
                return sb_steal(&out);
        }
        /* The entries as users_parse sees them, each with its line (ftell after it). */
        struct line *v = NULL;
        size_t n = 0, cap = 0;
        FILE *f = len ? fmemopen((void *)text, len, "r") : NULL;
        while (f) {
                const char *name;
                unsigned id;
                if (groups) {
                        struct group *g = fgetgrent(f);
                        if (!g)
                                break;
                        name = g->gr_name, id = (unsigned)g->gr_gid;
                } else {
                        struct passwd *p = fgetpwent(f);
                        if (!p)
                                break;
                        name = p->pw_name, id = (unsigned)p->pw_uid;
                }
                long end = ftell(f);
                if (!usable(name) || end <= 0 || (size_t)end > len)
                        continue;
                size_t e = (size_t)end, b = e;
                if (b > 0 && text[b - 1] == '\n')
                        b--;
                size_t stop = b;
                while (b > 0 && text[b - 1] != '\n')
                        b--;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        v = xrealloc(v, cap * sizeof(*v));
                }
                v[n++] = (struct line){.id = id, .name = xstrdup(name), .off = b, .len = stop - b};
        }
        if (f)
                fclose(f);
        /* The first entry of each id and name looked up, as users_name/users_uid answer. */
        struct keyset firsts = {0}, later = {0};
        for (size_t i = 0; i < n; i++) {
                bool by_id = ks_has(&looked[db].keys, v[i].id, NULL) && !ks_has(&firsts, v[i].id, NULL);
                bool by_name = ks_has(&looked[db].keys, 0, v[i].name) && !ks_has(&firsts, 0, v[i].name);
                v[i].keep = by_id || by_name;
                ks_add(&firsts, v[i].id, NULL);
                ks_add(&firsts, 0, v[i].name);
        }
        /* Closure: an earlier entry that shares an id or a name with a kept one is kept too. */
        for (size_t i = n; i-- > 0;) {
                if (!v[i].keep && (ks_has(&later, v[i].id, NULL) || ks_has(&later, 0, v[i].name)))
                        v[i].keep = true;
                if (v[i].keep) {
                        ks_add(&later, v[i].id, NULL);
                        ks_add(&later, 0, v[i].name);
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (v[i].keep) {
                        sb_putn(&out, text + v[i].off, v[i].len);
                        sb_putc(&out, '\n');
                }
                free(v[i].name);
        }
        free(v);
        ks_free(&firsts);
        ks_free(&later);
        *out_len = out.len;
        return sb_steal(&out);
}

/* bsearch may land on any entry of a repeated id: step back to the first. */
static const char *lookup(const struct id_name *v, size_t n, unsigned id)
{
        const struct id_name *e = n ? bsearch(&id, v, n, sizeof(*v), id_key) : NULL;
        if (!e)
                return NULL;
        while (e > v && e[-1].id == id)
                e--;
        return e->name;
}

const char *users_name(const struct users *u, unsigned uid)
{
        remember(0, uid, NULL);
        return lookup(u->user, u->nuser, uid);
}

const char *users_group(const struct users *u, unsigned gid)
{
        remember(1, gid, NULL);
        return lookup(u->group, u->ngroup, gid);
}

int users_uid(const struct users *u, const char *name, unsigned *uid)
{
        remember(0, 0, name);
        /* The first line that names the user, as getpwnam() would. */
        const struct id_name *best = NULL;
        for (size_t i = 0; i < u->nuser; i++)
                if (streq(u->user[i].name, name) && (!best || u->user[i].order < best->order))
                        best = &u->user[i];
        if (!best)
                return -ENOENT;
        *uid = best->id;
        return 0;
}

char *users_owner(const struct users *u, unsigned uid, unsigned gid)
{
        const char *un = users_name(u, uid), *gn = users_group(u, gid);
        char ub[16], gb[16];
        snprintf(ub, sizeof(ub), "%u", uid);
        snprintf(gb, sizeof(gb), "%u", gid);
        return xasprintf("%s:%s", un ? un : ub, gn ? gn : gb);
}
