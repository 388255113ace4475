/* The EVO collector's text inputs: /proc/PID/maps lines (/proc/locks: fuzz_proclocks), a legacy
 * .meta JSON, /proc/PID/status credentials and /dev/shm names. */
#include "tests/fuzz/fuzz.h"
#include "collectors/evo.h"
#include "lib/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct evo_meta m;
        (void)evo_meta_parse((const char *)data, size, &m);
        struct evo_creds c;
        if (evo_status_creds(s, &c) == 0)
                (void)evo_can_open(&c, 1000, 1000, 0660, true);
        /* line by line, as the collector walks the files */
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct procmaps_entry mp;
                if (procmaps_parse(line, &mp) == 0) {
                        const char *name;
                        size_t len;
                        (void)procmaps_in_dir(&mp, "/dev/shm", &name, &len);
                }
                const char *slash = strrchr(line, '/');
                const char *fname = slash ? slash + 1 : line;
                (void)evo_name_kind(fname);
                char *base = NULL;
                int pid;
                if (evo_name_legacy(fname, &base, &pid)) {
                        (void)evo_name_known(base, EVO_LAYOUT_LEGACY);
                        free(base);
                }
                char src[8], dst[8];
                (void)evo_name_modules(fname, src, dst);
                (void)evo_name_known(fname, EVO_LAYOUT_P2P);
        }
        free(s);
        return 0;
}
