/* `check --from BUNDLE`'s safe unpacking (report/unpack.c) of an untrusted archive
 * (tar, any compression libarchive reads): whatever it accepts lands inside its
 * private directory, which is removed again. */
#include "tests/fuzz/fuzz.h"
#include "lib/util.h"
#include "report/unpack.h"

#include <stdio.h>

static char dir[] = "/tmp/fuzz_unpack.XXXXXX";
static char *archive;

static void cleanup(void) { remove_tree(dir); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!archive) {
                if (!mkdtemp(dir))
                        abort();
                atexit(cleanup);
                setenv("TMPDIR", dir, 1); /* unpack_bundle makes its directory there */
                archive = xasprintf("%s/in.tar", dir);
        }
        FILE *f = fopen(archive, "w");
        if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
                abort();
        char *out = NULL, *err = NULL;
        int r = unpack_bundle(archive, &out, &err);
        if (r == 0) {
                if (!out || strncmp(out, dir, strlen(dir)) != 0)
                        abort();
                remove_tree(out);
        } else if (!err || out) {
                abort(); /* a refusal says why and leaves nothing */
        }
        free(out);
        free(err);
        return 0;
}
