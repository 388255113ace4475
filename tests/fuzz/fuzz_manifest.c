/* `check --from`'s reading of an untrusted bundle's manifest.json and findings.json
 * (open_bundle() and compare_with_recorded() in cmd/check.c, included here for its
 * static functions). The input is the manifest, then after a NUL the findings; both
 * are written into a private directory that is opened as an unpacked bundle. Then
 * the reads the manifest prepared (recorded errors, listings, stat results) are made
 * as collectors make them, and every collector's findings are compared as if it had
 * run and found nothing. */
#include "tests/fuzz/fuzz.h"
#include "cmd/check.c"

#include <ftw.h>

static char dir[] = "/tmp/fuzz_manifest.XXXXXX";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)ftw;
        return flag == FTW_DP ? rmdir(p) : unlink(p);
}
static void cleanup(void) { (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void put(const char *name, const char *s)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        if (!f)
                abort();
        fputs(s, f);
        fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                ready = true;
                if (!mkdtemp(dir))
                        abort();
                atexit(cleanup);
        }
        char *man, *fin;
        fz_split(data, size, &man, &fin);
        put("manifest.json", man);
        put("findings.json", fin);
        struct bundle_src s = {0};
        if (open_bundle(dir, &s) == 0) {
                rootfs_set(s.host_root);
                static const char *const paths[] = {"/proc/cmdline", "/proc/1/maps", "/etc/passwd", "/dev/shm/evo_hal_cu"};
                for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                        char *buf;
                        long n = rootfs_read(paths[i], 4096, &buf, NULL);
                        if (n >= 0 && !buf)
                                abort(); /* a length always comes with its bytes */
                        free(buf);
                        struct stat st;
                        (void)rootfs_stat(paths[i], &st, false);
                }
                struct rootfs_dir *d = rootfs_opendir("/proc");
                if (d) {
                        while (rootfs_readdir(d))
                                ;
                        rootfs_closedir(d);
                }
                rootfs_set(NULL);
                size_t n = 0;
                while (collectors[n])
                        n++;
                struct run_result *res = xcalloc(n, sizeof(*res));
                for (size_t i = 0; i < n; i++)
                        res[i] = (struct run_result){.c = collectors[i], .status = RUN_OK};
                struct report rep = {.r = res, .n = n};
                compare_with_recorded(&s, &rep, 1);
                free(res);
        }
        close_bundle(&s);
        free(man);
        free(fin);
        return 0;
}
