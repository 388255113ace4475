/* `check --from`'s readers of an untrusted bundle (report/manifest.c): manifest.json,
 * then after a NUL findings.json, through the typed parsers as the sandboxed child
 * runs them (report/from.c), then the child->parent transport: what the child
 * encodes must decode to the same, and the parent's decoder also gets the raw input
 * (a compromised child). Whatever passes holds only checked values. */
#include "tests/fuzz/fuzz.h"
#include "report/manifest.h"

static void check_info(const struct bundle_info *bi)
{
        const struct manifest_artifact *a = bi->artifacts.v;
        for (size_t i = 0; i < bi->artifacts.n; i++)
                if (!a[i].path || (a[i].err.set && (a[i].err.v < 1 || a[i].err.v > 4095)))
                        abort(); /* a path is required; an errno is 1..4095 */
        const struct bundle_collector *c = bi->collectors.v;
        for (size_t i = 0; i < bi->collectors.n; i++)
                if (!c[i].name)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *z = memchr(data, 0, size);
        size_t ml = z ? (size_t)(z - data) : size;
        struct bundle_info bi = {0};
        char *err = NULL;
        struct manifest m;
        if (manifest_parse((const char *)data, ml, &m, &err) == 0) {
                bi.artifacts = m.artifacts;
                m.artifacts = (struct mf_array){0};
                bi.host = xstrdup(m.host ? m.host : "unknown");
                manifest_free(&m);
        } else if (!err) {
                abort(); /* a refusal says why */
        }
        free(err);
        err = NULL;
        if (z) {
                struct recorded r;
                if (recorded_parse((const char *)z + 1, size - ml - 1, &r, &err) == 0) {
                        (void)recorded_to_collectors(&r, &bi.collectors, &err);
                        recorded_free(&r);
                } else if (!err) {
                        abort();
                }
                free(err);
                err = NULL;
        }
        bi.top = xstrdup(".");
        check_info(&bi);

        struct strbuf enc = {0}, again = {0};
        bundle_info_encode(&bi, &enc);
        struct bundle_info back;
        if (bundle_info_decode(enc.s, enc.len, &back, &err) < 0)
                abort(); /* the parent must accept what a sound child sends */
        check_info(&back);
        bundle_info_encode(&back, &again);
        if (again.len != enc.len || memcmp(again.s, enc.s, enc.len) != 0)
                abort(); /* and read it as it was sent */
        bundle_info_free(&back);
        sb_free(&enc);
        sb_free(&again);
        bundle_info_free(&bi);

        if (bundle_info_decode(data, size, &back, &err) == 0) {
                check_info(&back);
                bundle_info_free(&back);
        }
        free(err);
        return 0;
}
