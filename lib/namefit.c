#include "config.h"
#include "lib/namefit.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <ctype.h>

#define HASH_HEX 16
#define TAIL_MAX 32 /* ".mappers.json", ".header.json": the kind of file stays visible */

static bool continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

char *name_fit(const char *name, size_t max)
{
        size_t n = strlen(name);
        if (n <= max)
                return xstrdup(name);
        struct sha256 sh;
        char hex[65];
        sha256_init(&sh);
        sha256_update(&sh, name, n);
        sha256_hex(&sh, hex);
        size_t room = max > HASH_HEX + 1 ? max - HASH_HEX - 1 : 0;
        size_t tail = room >= 2 * TAIL_MAX ? TAIL_MAX : room / 4;
        while (tail && continuation((unsigned char)name[n - tail]))
                tail--; /* start the tail on a character */
        size_t head = room - tail;
        while (head && continuation((unsigned char)name[head]))
                head--; /* end the head before a character */
        struct strbuf b = {0};
        sb_putn(&b, name, head);
        if (max > HASH_HEX) {
                sb_putc(&b, '~');
                sb_putn(&b, hex, max - head - tail - 1 < HASH_HEX ? max - head - tail - 1 : HASH_HEX);
        } else {
                sb_putn(&b, hex, max);
        }
        sb_putn(&b, name + n - tail, tail);
        return sb_steal(&b);
}

char *path_fit(const char *path)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        for (const char *p = path;;) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *comp = xstrndup(p, n), *fit = name_fit(comp, NAME_COMPONENT_MAX);
                sb_puts(&b, fit);
                if (!p[n])
                        break;
                sb_putc(&b, '/');
                p += n + 1;
        }
        return sb_steal(&b);
}

char *name_plain(const char *s, const char *empty, size_t max)
{
        _cleanup_free_ char *p = xstrdup(s && *s ? s : empty);
        for (char *c = p; *c; c++)
                if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '-' || *c == '_'))
                        *c = '_';
        return name_fit(p, max);
}
