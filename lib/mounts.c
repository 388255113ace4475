#include "config.h"
#include "lib/mounts.h"
#include "lib/util.h"

#include <mntent.h>
#include <stdio.h>

void mounts_parse(const char *text, struct mounts *out)
{
        *out = (struct mounts){0};
        if (!text || !*text)
                return;
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        if (!f)
                return;
        size_t cap = 0;
        struct mntent me;
        char buf[8192]; /* a longer line is cut by getmntent_r and counted as read */
        while (out->n < MOUNTS_MAX && getmntent_r(f, &me, buf, sizeof(buf))) {
                if (!*me.mnt_dir || !*me.mnt_type) { /* no options is the caller's call */
                        out->bad++;
                        continue;
                }
                if (out->n == cap) {
                        cap = cap ? cap * 2 : 32;
                        out->v = xrealloc(out->v, cap * sizeof(*out->v));
                }
                out->v[out->n++] = (struct mount_entry){
                        .src = xstrdup(me.mnt_fsname), .dir = xstrdup(me.mnt_dir),
                        .type = xstrdup(me.mnt_type), .opts = xstrdup(me.mnt_opts),
                };
        }
        fclose(f);
}

void mounts_free(struct mounts *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].src);
                free(m->v[i].dir);
                free(m->v[i].type);
                free(m->v[i].opts);
        }
        free(m->v);
        *m = (struct mounts){0};
}

const struct mount_entry *mounts_find(const struct mounts *m, const char *dir)
{
        for (size_t i = m->n; i-- > 0;)
                if (streq(m->v[i].dir, dir))
                        return &m->v[i];
        return NULL;
}

bool mount_opt(const char *opts, const char *name, char **val)
{
        if (val)
                *val = NULL;
        struct mntent me = {.mnt_opts = (char *)opts};
        const char *p = hasmntopt(&me, name);
        if (!p)
                return false;
        p += strlen(name);
        if (val && *p == '=') {
                const char *end = strchr(p + 1, ',');
                *val = end ? xstrndup(p + 1, (size_t)(end - p - 1)) : xstrdup(p + 1);
        }
        return true;
}
