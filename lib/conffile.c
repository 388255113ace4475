#include "config.h"
#include "lib/conffile.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <ini.h>

#define CONFIG_MAX (1u << 20) /* a config file is a few KiB; anything near this is not one */

/* Debian's inih is built without INI_HANDLER_LINENO, so we count lines ourselves
 * in the reader: the handler runs right after the line that produced it. */
struct reader {
        const char *buf;
        size_t len, pos;
        struct config *cfg;
        int line;
};

static char *read_line(char *str, int num, void *stream)
{
        struct reader *r = stream;
        if (r->pos >= r->len || num < 2)
                return NULL;
        size_t n = 0;
        while (r->pos < r->len && n < (size_t)num - 1) {
                char ch = r->buf[r->pos++];
                str[n++] = ch;
                if (ch == '\n')
                        break;
        }
        str[n] = 0;
        r->line++;
        return str;
}

static void add_entry(struct config *cfg, const char *section, const char *key, const char *value, int line)
{
        if (cfg->n == cfg->cap) {
                cfg->cap = cfg->cap ? cfg->cap * 2 : 16;
                cfg->v = xrealloc(cfg->v, cfg->cap * sizeof(*cfg->v));
        }
        cfg->v[cfg->n++] = (struct config_entry){
                .section = xstrdup(section), .key = xstrdup(key), .value = xstrdup(value), .line = line,
        };
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
        struct reader *rd = user;
        if (!key) /* a bare [section] header (INI_CALL_HANDLER_ON_NEW_SECTION builds) */
                return 1;
        add_entry(rd->cfg, section, key, value, rd->line);
        return 1;
}

void config_set(struct config *cfg, const char *section, const char *key, const char *value)
{
        add_entry(cfg, section, key, value, 0);
}

/* The line of the first byte that is not text (NUL, or not UTF-8), or 0. */
static int binary_line(const char *buf, size_t len)
{
        int line = 1;
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char)buf[i];
                if (c == '\n')
                        line++;
                if (c == 0)
                        return line;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
                if (n == 0 || i + n > len)
                        return line;
                for (size_t k = 1; k < n; k++)
                        if (((unsigned char)buf[i + k] & 0xc0) != 0x80)
                                return line;
                i += n;
        }
        return 0;
}

int config_load(struct config *cfg, const char *path, char **err)
{
        *cfg = (struct config){.path = xstrdup(path)};
        *err = NULL;
        /* `--config /dev/null` (as `ssh -F /dev/null`): no settings, built-in defaults. */
        if (streq(path, "/dev/null"))
                return 0;
        /* O_NONBLOCK: a FIFO named as the config must not hang the run. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                if (e != ENOENT)
                        *err = xasprintf("%s: %s", path, strerror(e));
                return -e;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                *err = xasprintf("%s: %s", path, strerror(e));
                return -e;
        }
        if (S_ISDIR(st.st_mode)) {
                *err = xasprintf("%s: is a directory, not a config file", path);
                return -EISDIR;
        }
        if (!S_ISREG(st.st_mode)) {
                *err = xasprintf("%s: not a regular file", path);
                return -EINVAL;
        }
        _cleanup_free_ char *buf = xmalloc(CONFIG_MAX + 1);
        size_t len = 0;
        for (;;) {
                ssize_t r = read(fd, buf + len, CONFIG_MAX + 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = errno;
                        *err = xasprintf("%s: %s", path, strerror(e));
                        return -e;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
                if (len > CONFIG_MAX) {
                        *err = xasprintf("%s: larger than %u KiB: not a config file", path, CONFIG_MAX >> 10);
                        return -EFBIG;
                }
        }
        int bad = binary_line(buf, len);
        if (bad) {
                *err = xasprintf("%s:%d: binary data (NUL or invalid UTF-8): not a text config file", path, bad);
                return bad;
        }
        struct reader rd = {.buf = buf, .len = len, .cfg = cfg};
        int r = ini_parse_stream(read_line, &rd, on_entry, &rd);
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
