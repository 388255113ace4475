/* framealloc collector: snapshots as SnapshotEmitter writes them, names, growth,
 * budgets, diagnostics lines. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/framealloc.h"
#include "lib/procfs.h"
#include "lib/util.h"

#include <errno.h>

/* src/api/snapshot.rs to_json(), with one thread that has a budget and one diagnostic. */
static const char snap[] =
        "{\n  \"version\": 1,\n  \"timestamp\": \"2026-11-30T10:00:00Z\",\n  \"frame\": 42,\n  \"duration_us\": 160,\n"
        "  \"summary\": {\n    \"frame_bytes\": 4096,\n    \"pool_bytes\": 8192,\n    \"heap_bytes\": 512,\n"
        "    \"total_bytes\": 12800,\n    \"peak_bytes\": 65536\n  },\n"
        "  \"threads\": [\n    {\n      \"id\": \"ThreadId(1)\",\n      \"name\": \"main\",\n      \"frame_bytes\": 1,\n"
        "      \"pool_bytes\": 2,\n      \"heap_bytes\": 3,\n      \"peak_bytes\": 4,\n      \"budget\": null\n    },\n"
        "    {\n      \"id\": \"ThreadId(2)\",\n      \"name\": \"render\",\n      \"frame_bytes\": 1,\n      \"pool_bytes\": 2,\n"
        "      \"heap_bytes\": 3,\n      \"peak_bytes\": 4,\n      \"budget\": {\n        \"limit\": 100,\n        \"used\": 97,\n"
        "        \"percent\": 97\n      }\n    }\n  ],\n  \"tags\": [\n  ],\n"
        "  \"promotions\": {\n    \"to_pool\": 0,\n    \"to_heap\": 0,\n    \"failed\": 0\n  },\n"
        "  \"diagnostics\": [\n    {\n      \"code\": \"FA602\",\n      \"tag\": null,\n      \"message\": \"hot loop\"\n    }\n  ]\n}\n";

static void test_snapshot(void **state)
{
        (void)state;
        struct fa_snapshot s;
        char *err = NULL;
        assert_int_equal(fa_snapshot_parse(snap, strlen(snap), &s, &err), 0);
        assert_int_equal(s.version, 1);
        assert_string_equal(s.timestamp, "2026-11-30T10:00:00Z");
        assert_int_equal(s.frame, 42);
        assert_int_equal(s.total_bytes, 12800);
        assert_int_equal(s.peak_bytes, 65536);
        assert_int_equal(s.heap_bytes, 512);
        assert_int_equal(s.threads, 2);
        assert_int_equal(s.budget_percent, 97);
        assert_string_equal(s.budget_thread, "render");
        assert_int_equal(s.diagnostics, 1);
        assert_string_equal(s.first_diag, "FA602: hot loop");
        /* What goes wrong: unescaped quotes in a tag name, cut files, other JSON. */
        static const char *const bad[] = {"{\"tags\": [{\"path\": \"a\"b\"}]}", "{\n  \"version\": 1,\n", "[]", "{}",
                                          "{\"summary\": {\"total_bytes\": -1}}", "{\"summary\": 5}", "", NULL};
        for (size_t i = 0; bad[i]; i++) {
                err = NULL;
                assert_int_equal(fa_snapshot_parse(bad[i], strlen(bad[i]), &s, &err), -EINVAL);
                assert_non_null(err);
                free(err);
        }
}

static void test_names(void **state)
{
        (void)state;
        assert_int_equal(fa_snapshot_frame("snapshot_00000042.json"), 42);
        assert_int_equal(fa_snapshot_frame("snapshot_0000000000001000.json"), 1000);
        assert_int_equal(fa_snapshot_frame("snapshot_.json"), -1);
        assert_int_equal(fa_snapshot_frame("snapshot_12.json.tmp"), -1);
        assert_int_equal(fa_snapshot_frame("snapshot.request"), -1);
        assert_int_equal(fa_snapshot_frame("snapshot_1234567890123456789.json"), -1); /* 19 digits */
        assert_int_equal(fa_snapshot_frame("snapshot_-1.json"), -1);
}

static void test_growth_budget(void **state)
{
        (void)state;
        int64_t up[] = {1, 2, 3, 4}, flat[] = {1, 2, 2, 3}, bad[] = {1, -1, 3, 4};
        assert_true(fa_growing(up, 4, 3));
        assert_false(fa_growing(up, 3, 3)); /* 2 steps only */
        assert_false(fa_growing(flat, 4, 1));
        assert_false(fa_growing(bad, 4, 1));
        assert_false(fa_growing(up, 1, 1));
        assert_int_equal(fa_peak_verdict(95, 100, 90), SEV_WARN);
        assert_int_equal(fa_peak_verdict(89, 100, 90), SEV_OK);
        assert_int_equal(fa_peak_verdict(89, 0, 90), SEV_SKIPPED);
        assert_int_equal(fa_peak_verdict(-1, 100, 90), SEV_SKIPPED);
}

static void test_diags(void **state)
{
        (void)state;
        static const char log[] = "noise\n"
                                  "2026-11-30T10:00:00Z ERROR [framealloc][FA601] async: frame allocation in async fn\n"
                                  "  note: something\n"
                                  "[framealloc][FA602] hot loop\n[framealloc][FA602] hot loop again\n"
                                  "[framealloc] Leak report: 3 allocations\n"
                                  "[framealloc][FAxyz] not a code\n[framealloc][FA60] short\n"
                                  "[framealloc][FA999] new \x1b[31mred\n"
                                  "[framealloc][FA603] last line without newline";
        struct fa_diags d = {0};
        fa_diags_scan(log, strlen(log), &d);
        assert_int_equal(d.n, 5);
        assert_int_equal(d.lines, 6);
        assert_string_equal(d.v[0].code, "FA601");
        assert_string_equal(d.v[1].code, "FA602");
        assert_int_equal(d.v[1].count, 2);
        assert_string_equal(d.v[2].code, "leak");
        assert_string_equal(d.v[3].code, "FA999");
        assert_string_equal(d.v[3].example, "[framealloc][FA999] new ?[31mred"); /* no escape reaches a terminal */
        assert_string_equal(d.v[4].code, "FA603");
        assert_string_equal(fa_code_meaning("FA603"), "frame data crossing an await point");
        assert_null(fa_code_meaning("FA999"));
        /* More codes than kept: counted. */
        struct strbuf b = {0};
        for (int i = 0; i < 40; i++)
                sb_printf(&b, "[framealloc][FA%03d] x\n", i);
        struct fa_diags e = {0};
        fa_diags_scan(b.s, b.len, &e);
        sb_free(&b);
        assert_int_equal(e.n, FA_DIAG_CODES);
        assert_int_equal(e.other, 40 - FA_DIAG_CODES);
        /* FRAMEALLOC_STRICT in an environ text (lib/procfs). */
        static const char env[] = "PATH=/bin\0FRAMEALLOC_STRICT=2\0FRAMEALLOC_STRICTX=9";
        char *v = environ_get(env, sizeof(env) - 1, "FRAMEALLOC_STRICT");
        assert_string_equal(v, "2");
        free(v);
        assert_null(environ_get(env, sizeof(env) - 1, "HOME"));
        assert_null(environ_get("FRAMEALLOC_STRICT", 17, "FRAMEALLOC_STRICT"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snapshot),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_growth_budget),
                cmocka_unit_test(test_diags),
        };
        return cmocka_run_group_tests_name("framealloc", tests, NULL, NULL);
}
