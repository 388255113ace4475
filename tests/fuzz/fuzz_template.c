/* The ISSUE.md template renderer: a template (templates/ may be replaced by the
 * operator, --component picks one) and, after a NUL, the JSON context it renders
 * (values from the host). Without a NUL a fixed context is used. */
#include "tests/fuzz/fuzz.h"
#include "report/template.h"

static const char ctx_default[] =
        "{\"host\":\"cell-7\",\"os\":{\"kernel\":\"6.1.0-rt\"},\"empty\":\"\",\"n\":0,"
        "\"problems\":[{\"id\":\"shm.orphaned\",\"remedy\":\"ipcrm -m 5\"},{\"id\":\"rt.throttling\"}],"
        "\"names\":[\"a\",\"b\"],\"nested\":[{\"xs\":[1,2]},{\"xs\":[3]}],\"md\":\"a*b_c <x> | `y`\",\"nul\":null}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *tmpl, *ctxs;
        fz_split(data, size, &tmpl, &ctxs);
        json_object *ctx = json_tokener_parse(*ctxs ? ctxs : ctx_default);
        char *missing = NULL, *err = NULL;
        char *out = template_render(tmpl, ctx, &missing, &err);
        if (!out == !err)
                abort(); /* either a text or a reason */
        free(out);
        free(missing);
        free(err);
        json_object_put(ctx);
        free(tmpl);
        free(ctxs);
        return 0;
}
