#include "config.h"
#include "report/bundle_trim.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static const char *const iddb_paths[2] = {"host/etc/passwd", "host/etc/group"};

void trim_init(struct bundle_trim *t, bool full)
{
        *t = (struct bundle_trim){.full = full, .pids = json_object_new_object(), .left_out = json_object_new_object()};
}

void trim_free(struct bundle_trim *t)
{
        json_object_put(t->pids);
        json_object_put(t->left_out);
        for (int db = 0; db < 2; db++) {
                json_object_put(t->iddb[db].lines);
                sb_free(&t->iddb[db].text);
                artifact_free(&t->iddb[db].meta);
        }
        *t = (struct bundle_trim){0};
}

/* Remembers the process ids a text names: "pid 123", "pids 1, 2, 3", "PID=5", "/proc/123/…". */
static void note_pids(json_object *set, const char *t)
{
        for (const char *p = t; p && *p; p++) {
                const char *d = NULL;
                bool list = false;
                if ((p == t || !isalnum((unsigned char)p[-1])) && strncasecmp(p, "pid", 3) == 0) {
                        const char *q = p + 3;
                        if (*q == 's' || *q == 'S')
                                q++;
                        if (isalnum((unsigned char)*q) || *q == '_')
                                continue; /* "pidfile" */
                        while (*q == ' ' || *q == '=' || *q == ':' || *q == '#')
                                q++;
                        d = q;
                        list = true;
                } else if (strncmp(p, "/proc/", 6) == 0) {
                        d = p + 6;
                }
                while (d && isdigit((unsigned char)*d)) {
                        const char *e = d;
                        while (isdigit((unsigned char)*e))
                                e++;
                        if (e - d < 12 && !isalpha((unsigned char)*e)) {
                                char key[16];
                                snprintf(key, sizeof(key), "%.*s", (int)(e - d), d);
                                json_object_object_add(set, key, NULL);
                        }
                        if (!list || *e != ',')
                                break;
                        for (d = e + 1; *d == ' ';)
                                d++;
                }
        }
}

void trim_note_findings(struct bundle_trim *t, const struct findings *fs)
{
        for (size_t i = 0; i < fs->n; i++) {
                const struct finding *f = &fs->v[i];
                const char *s[] = {f->summary, f->subject, f->expected, f->actual, f->remedy, f->evidence};
                for (size_t k = 0; k < ARRAY_SIZE(s); k++)
                        note_pids(t->pids, s[k]);
        }
}

bool trim_names_pid(const struct bundle_trim *t, int pid)
{
        char key[16];
        snprintf(key, sizeof(key), "%d", pid);
        return t->full || json_object_object_get_ex(t->pids, key, NULL);
}

bool trim_drop_cmdline(struct bundle_trim *t, const char *path)
{
        if (t->full || !startswith(path, "host/proc/"))
                return false;
        const char *d = path + 10, *e = d;
        while (isdigit((unsigned char)*e))
                e++;
        if (e == d || e - d > 11 || !streq(e, "/cmdline"))
                return false;
        char key[16];
        snprintf(key, sizeof(key), "%.*s", (int)(e - d), d);
        if (json_object_object_get_ex(t->pids, key, NULL))
                return false;
        json_object_object_add(t->left_out, path, NULL);
        return true;
}

int trim_iddb_of(const struct bundle_trim *t, const char *path)
{
        if (t->full)
                return -1;
        for (int db = 0; db < 2; db++)
                if (streq(path, iddb_paths[db]))
                        return db;
        return -1;
}

static void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = v ? xstrdup(v) : NULL;
}

void trim_iddb_add(struct bundle_trim *t, int db, const char *collector, const struct manifest_artifact *h, const char *text,
                   size_t len)
{
        struct trim_iddb *d = &t->iddb[db];
        if (!d->lines) {
                d->lines = json_object_new_object();
                set_str(&d->meta.collector, collector);
                set_str(&d->meta.origin, h->origin);
        }
        d->meta.redactions = h->redactions;
        if (h->status && !streq(h->status, "ok")) { /* cut at --artifact-max: say so */
                set_str(&d->meta.status, h->status);
                set_str(&d->meta.error, h->error);
        }
        for (size_t pos = 0; text && pos < len;) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
                _cleanup_free_ char *line = xstrndup(text + pos, l);
                if (*line && !json_object_object_get_ex(d->lines, line, NULL)) {
                        json_object_object_add(d->lines, line, NULL);
                        sb_printf(&d->text, "%s\n", line);
                }
                pos += l + 1;
        }
}

bool trim_iddb_take(struct bundle_trim *t, int db, struct manifest_artifact *m, struct strbuf *text)
{
        struct trim_iddb *d = &t->iddb[db];
        if (!d->lines)
                return false;
        *m = d->meta;
        d->meta = (struct manifest_artifact){0};
        set_str(&m->path, iddb_paths[db]);
        set_str(&m->kind, "file");
        if (!m->status)
                set_str(&m->status, "ok");
        set_str(&m->note, "only the entries the checks looked up (--full keeps the file)");
        *text = d->text;
        d->text = (struct strbuf){0};
        json_object_put(d->lines);
        d->lines = NULL;
        return true;
}

size_t trim_cmdlines_left_out(const struct bundle_trim *t, bool (*held)(const void *arg, const char *path), const void *arg)
{
        size_t gone = 0;
        json_object_object_foreach(t->left_out, path, unused)
        {
                (void)unused;
                gone += !held(arg, path); /* a later collector named it */
        }
        return gone;
}
