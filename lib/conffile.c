#include "config.h"
#include "lib/conffile.h"
#include "lib/util.h"

#include <errno.h>
#include <ini.h>

/* Debian's inih is built without INI_HANDLER_LINENO, so we count lines ourselves
 * in the reader: the handler runs right after the line that produced it. */
struct reader {
        FILE *f;
        struct config *cfg;
        int line;
};

static char *read_line(char *str, int num, void *stream)
{
        struct reader *r = stream;
        char *s = fgets(str, num, r->f);
        if (s)
                r->line++;
        return s;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
        struct reader *rd = user;
        struct config *cfg = rd->cfg;
        int line = rd->line;
        if (!key) /* a bare [section] header (INI_CALL_HANDLER_ON_NEW_SECTION builds) */
                return 1;
        if (cfg->n == cfg->cap) {
                cfg->cap = cfg->cap ? cfg->cap * 2 : 16;
                cfg->v = xrealloc(cfg->v, cfg->cap * sizeof(*cfg->v));
        }
        cfg->v[cfg->n++] = (struct config_entry){
                .section = xstrdup(section), .key = xstrdup(key), .value = xstrdup(value), .line = line,
        };
        return 1;
}

int config_load(struct config *cfg, const char *path, char **err)
{
        *cfg = (struct config){.path = xstrdup(path)};
        *err = NULL;
        FILE *f = fopen(path, "re");
        if (!f) {
                int e = errno;
                if (e != ENOENT)
                        *err = xasprintf("%s: %s", path, strerror(e));
                return -e;
        }
        struct reader rd = {.f = f, .cfg = cfg};
        int r = ini_parse_stream(read_line, &rd, on_entry, &rd);
        fclose(f);
        if (r > 0) {
                *err = xasprintf("%s:%d: syntax error (expected [section] or key = value)", path, r);
                return r;
        }
        if (r < 0) {
                *err = xasprintf("%s: cannot be parsed", path);
                return -EIO;
        }
        return 0;
}

const struct config_entry *config_get(const struct config *cfg, const char *section, const char *key)
{
        if (!cfg)
                return NULL;
        /* Last one wins, like most INI readers. */
        for (size_t i = cfg->n; i-- > 0;)
                if (streq(cfg->v[i].section, section) && streq(cfg->v[i].key, key))
                        return &cfg->v[i];
        return NULL;
}

void config_free(struct config *cfg)
{
        for (size_t i = 0; i < cfg->n; i++) {
                free(cfg->v[i].section);
                free(cfg->v[i].key);
                free(cfg->v[i].value);
        }
        free(cfg->v);
        free(cfg->path);
        *cfg = (struct config){0};
}
