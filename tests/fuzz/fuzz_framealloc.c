/* framealloc snapshots (JSON an app writes by hand, unescaped) and the diagnostics
 * lines in an app's logs: what any app (or its user) puts in its directory and logs. */
#include "tests/fuzz/fuzz.h"
#include "collectors/framealloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fa_snapshot s;
        char *err = NULL;
        if (fa_snapshot_parse((const char *)data, size, &s, &err) == 0)
                (void)fa_peak_verdict(s.peak_bytes, 1000, 90);
        free(err);
        struct fa_diags d = {0};
        fa_diags_scan((const char *)data, size, &d);
        for (size_t i = 0; i < d.n; i++)
                (void)fa_code_meaning(d.v[i].code);
        char *name = fz_str(data, size < 64 ? size : 64);
        (void)fa_snapshot_frame(name);
        free(name);
        return 0;
}
