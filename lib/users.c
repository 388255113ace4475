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

const char *users_name(const struct users *u, unsigned uid) { return lookup(u->user, u->nuser, uid); }
const char *users_group(const struct users *u, unsigned gid) { return lookup(u->group, u->ngroup, gid); }

int users_uid(const struct users *u, const char *name, unsigned *uid)
{
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
