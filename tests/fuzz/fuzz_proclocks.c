/* lib/proclocks: /proc/locks as a --root tree or a bundle presents it (the evo and
 * mediator collectors ask it who holds their lock files). The whole text, then each
 * line; a holder found must be a FLOCK that is not a waiter, on the inode asked for. */
#include "tests/fuzz/fuzz.h"
#include "lib/proclocks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct proclock *v;
        size_t n;
        proclocks_held(s, &v, &n);
        if (n > PROCLOCKS_MAX)
                abort();
        for (size_t i = 0; i < n; i++)
                if (v[i].waiter || strcmp(v[i].type, "FLOCK"))
                        abort();
        uint64_t ino = n ? v[size % n].ino : 5678;
        const struct proclock *l = proclocks_holder(v, n, ino, 0, 0x1b, size & 1);
        if (l && l->ino != ino)
                abort();
        free(v);
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct proclock lk;
                if (proclocks_line(line, &lk) == 0 && lk.type[0] == 0)
                        abort();
        }
        free(s);
        return 0;
}
