/* Unit tests: check --from's reader of manifest.json and findings.json. Hostile
 * documents get one clear error naming the field (never a crash), a recorded errno
 * is accepted only in 1..4095, arrays are bounded, and the child->parent transport
 * decodes only what it encoded: every truncation and every flipped byte of a real
 * result is refused or decoded within the tables' ranges, never a crash. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include "collectors/collector.h"
#include "lib/rootfs.h"
#include "report/manifest.h"

static int parse_m(const char *doc, char **err)
{
        struct manifest m;
        int r = manifest_parse(doc, strlen(doc), &m, err);
        if (r == 0)
                manifest_free(&m);
        return r;
}

static void expect_manifest_error(const char *doc, const char *want)
{
        char *err = NULL;
        int r = parse_m(doc, &err);
        if (r == 0 || !err || !strstr(err, want))
                fail_msg("for %s\n  want an error containing: %s\n  got (%d): %s", doc, want, r, err ? err : "(none)");
        free(err);
}

static void test_good_manifest(void **state)
{
        (void)state;
        const char *doc = "{\"schema\": 1, \"host\": \"cell-7\", \"complete\": true, \"extra\": [1, {\"x\": null}],\n"
                          " \"collectors\": [{\"name\": \"shm\", \"status\": \"ok\", \"duration_ms\": 3, \"timed_out\": false}],\n"
                          " \"artifacts\": [\n"
                          "  {\"path\": \"host/proc/1/maps\", \"kind\": \"file\", \"status\": \"error\", \"errno\": 13, \"absent\": true},\n"
                          "  {\"path\": \"host/dev/shm\", \"kind\": \"listing\", \"dir\": true, \"names\": [\"a\", \"b c\", \"\xc3\xa9\"]},\n"
                          "  {\"path\": \"host/dev/shm/a\", \"kind\": \"stat\", \"stat\": {\"mode\": 33188, \"uid\": 1000, \"gid\": 0,\n"
                          "    \"size\": 4096, \"nlink\": 1, \"ino\": -5, \"mtime\": 1700000000}},\n"
                          "  {\"path\": \"summary.txt\", \"bytes\": 12, \"sha256\": \"ab\"}\n"
                          " ]}  \n";
        struct manifest m;
        char *err = NULL;
        assert_int_equal(manifest_parse(doc, strlen(doc), &m, &err), 0);
        assert_null(err);
        assert_string_equal(m.host, "cell-7");
        assert_true(m.complete.set && m.complete.v);
        assert_int_equal(m.artifacts.n, 4);
        const struct manifest_artifact *a = m.artifacts.v;
        assert_true(a[0].err.set);
        assert_int_equal(a[0].err.v, 13);
        assert_true(a[1].names.set);
        assert_int_equal(a[1].names.n, 3);
        assert_memory_equal(a[1].names.buf, "a\0b c\0\xc3\xa9\0", a[1].names.len);
        assert_true(a[2].stat.set);
        assert_int_equal(a[2].stat.mode.v, 33188);
        assert_int_equal(a[2].stat.ino.v, -5);
        assert_false(a[3].stat.set);
        assert_int_equal(a[3].bytes.v, 12);
        manifest_free(&m);
}

static void test_bad_manifests(void **state)
{
        (void)state;
        /* The reproducers of the review, and their relatives. */
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\"}, {\"path\": \"host/b\"}, {\"path\": \"host/c\"}, {\"path\": null}]}",
                              "bundle manifest: artifacts[3].path: expected a string, not null");
        expect_manifest_error("{\"host\": null}", "bundle manifest: host: expected a string, not null");
        expect_manifest_error("{\"artifacts\": {\"path\": \"host/a\"}}", "bundle manifest: artifacts: expected an array, not an object");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": -5}]}",
                              "bundle manifest: artifacts[0].errno: -5 is out of range (1..4095)");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": 0}]}", "artifacts[0].errno: 0 is out of range");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": 4096}]}", "artifacts[0].errno: 4096 is out of range");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": \"5\"}]}",
                              "artifacts[0].errno: expected an integer, not a string");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": 5.5}]}",
                              "artifacts[0].errno: expected an integer, not a fractional number");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"errno\": 18446744073709551615}]}",
                              "artifacts[0].errno: 18446744073709551615 is out of range");
        expect_manifest_error("{\"artifacts\": [{\"path\": 5}]}", "artifacts[0].path: expected a string, not an integer");
        expect_manifest_error("{\"artifacts\": [{\"kind\": \"file\"}]}", "artifacts[0].path: missing");
        expect_manifest_error("{\"artifacts\": [\"host/a\"]}", "bundle manifest: artifacts[0]: expected an object, not a string");
        expect_manifest_error("{\"artifacts\": [null]}", "artifacts[0]: expected an object, not null");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"dir\": \"yes\"}]}", "artifacts[0].dir: expected true or false");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"names\": \"a\"}]}", "artifacts[0].names: expected an array");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"names\": [\"a\", null]}]}",
                              "artifacts[0].names[1]: expected a string, not null");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"names\": [\"a\", \"../../etc\"]}]}",
                              "artifacts[0].names[1]: '../../etc' is not a file name");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"names\": [\"\"]}]}", "artifacts[0].names[0]: '' is not a file name");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"names\": [\"a\\u0000b\"]}]}",
                              "artifacts[0].names[0]: a string with a NUL byte");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\\u0000/etc/shadow\"}]}", "artifacts[0].path: a string with a NUL byte");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"stat\": 7}]}", "artifacts[0].stat: expected an object, not an integer");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"stat\": {\"mode\": \"0644\"}}]}",
                              "bundle manifest: artifacts[0].stat.mode: expected an integer, not a string");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"stat\": {\"uid\": -1}}]}", "artifacts[0].stat.uid: -1 is out of range");
        expect_manifest_error("{\"artifacts\": [{\"path\": \"host/a\", \"stat\": {\"size\": -1}}]}", "artifacts[0].stat.size: -1 is out of range");
        expect_manifest_error("{\"collectors\": [{\"name\": null}]}", "collectors[0].name: expected a string, not null");
        expect_manifest_error("{\"schema\": 99}", "schema: 99 is out of range (1..1)");
        expect_manifest_error("{\"complete\": 1}", "complete: expected true or false, not an integer");
        expect_manifest_error("[]", "bundle manifest: expected a JSON object, not an array");
        expect_manifest_error("null", "bundle manifest: expected a JSON object, not null");
        expect_manifest_error("", "bundle manifest: not valid JSON");
        expect_manifest_error("{\"host\": \"a\"", "bundle manifest: not valid JSON");
        expect_manifest_error("{\"host\": \"a\"} {}", "something after the document");
        expect_manifest_error("{\"host\": \"a\"}\n\x01", "something after the document");
        char deep[200] = "";
        for (int i = 0; i < 60; i++)
                strcat(deep, "[");
        expect_manifest_error(deep, "not valid JSON");
}

static void test_huge_arrays(void **state)
{
        (void)state;
        /* One element more than any array may hold: refused before anything is built. */
        struct strbuf b = {0};
        sb_puts(&b, "{\"artifacts\": [");
        for (int i = 0; i <= MANIFEST_MAX_ELEMS; i++)
                sb_puts(&b, i ? ",0" : "0");
        sb_puts(&b, "]}");
        char *err = NULL;
        struct manifest m;
        assert_int_equal(manifest_parse(b.s, b.len, &m, &err), -EINVAL);
        assert_non_null(strstr(err, "artifacts: more than 1000000 elements"));
        free(err);
        sb_free(&b);
        /* And a document over the size bound is not even parsed. */
        assert_int_equal(manifest_parse("{}", MANIFEST_MAX_BYTES + 1ul, &m, &err), -EFBIG);
        assert_non_null(strstr(err, "larger than 64 MiB"));
        free(err);
        /* Nor one that would make json-c build a tree of gigabytes: 600,000 small
         * objects (8 MB of text, half a GiB of tree before the bound). Brackets and commas
         * inside strings do not count. */
        sb_puts(&b, "{\"host\": \"a,b:[{\\\"\", \"artifacts\": [");
        for (int i = 0; i < 600000; i++)
                sb_puts(&b, i ? ",{\"path\":\"a\"}" : "{\"path\":\"a\"}");
        sb_puts(&b, "]}");
        uint64_t t0 = now_ms_monotonic();
        assert_int_equal(manifest_parse(b.s, b.len, &m, &err), -EFBIG);
        assert_string_equal(err, "bundle manifest: more than 500000 objects and arrays or 8000000 values");
        assert_true(now_ms_monotonic() - t0 < 2000);
        free(err);
        sb_free(&b);
        const char *strs = "{\"host\": \"[[[[{{{{,,,,::::\\\"[[[[\"}";
        assert_int_equal(manifest_parse(strs, strlen(strs), &m, &err), 0);
        assert_string_equal(m.host, "[[[[{{{{,,,,::::\"[[[[");
        manifest_free(&m);
}

static void test_findings(void **state)
{
        (void)state;
        struct recorded r;
        char *err = NULL;
        const char *bad[][2] = {
                {"{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"findings\": [{\"id\": null}]}]}",
                 "bundle findings: collectors[0].findings[0].id: expected a string, not null"},
                {"{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"findings\": {}}]}",
                 "bundle findings: collectors[0].findings: expected an array, not an object"},
                {"{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"findings\": [{\"id\": \"a.b\", \"severity\": \"ok\"}]}]}",
                 "collectors[0].findings[0].summary: missing"},
                {"{\"collectors\": [{\"name\": \"memory\"}]}", "collectors[0].status: missing"},
                {"{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"duration_ms\": \"3\"}]}",
                 "collectors[0].duration_ms: expected an integer, not a string"},
                {"{\"summary\": {\"crit\": -1}}", "bundle findings: summary.crit: -1 is out of range"},
                {"{\"errors\": [1]}", "bundle findings: errors[0]: expected a string, not an integer"},
                {"{\"collectors\": null}", "collectors: expected an array, not null"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                int rc = recorded_parse(bad[i][0], strlen(bad[i][0]), &r, &err);
                if (rc == 0 || !err || !strstr(err, bad[i][1]))
                        fail_msg("for %s\n  want: %s\n  got: %s", bad[i][0], bad[i][1], err ? err : "(none)");
                free(err);
                err = NULL;
        }
        /* An unknown severity is refused when the recorded findings are compared. */
        const char *sev = "{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"findings\": "
                          "[{\"id\": \"memory.overcommit\", \"severity\": \"catastrophic\", \"summary\": \"x\"}]}]}";
        assert_int_equal(recorded_parse(sev, strlen(sev), &r, &err), 0);
        struct mf_array cols;
        assert_int_equal(recorded_to_collectors(&r, &cols, &err), -EINVAL);
        assert_non_null(strstr(err, "collectors[0].findings[0].severity: 'catastrophic' is not a severity"));
        free(err);
        struct bundle_info bi = {.collectors = cols};
        bundle_info_free(&bi);
        recorded_free(&r);
}

static void test_canon(void **state)
{
        (void)state;
        const char *doc = "{\"collectors\": [{\"name\": \"memory\", \"status\": \"ok\", \"findings\": ["
                          "{\"id\": \"z.last\", \"severity\": \"warn\", \"summary\": \"two\", \"subject\": \"s\"},"
                          "{\"id\": \"a.first\", \"severity\": \"crit\", \"summary\": \"one\"}]}]}";
        struct recorded r;
        char *err = NULL;
        assert_int_equal(recorded_parse(doc, strlen(doc), &r, &err), 0);
        struct mf_array cols;
        assert_int_equal(recorded_to_collectors(&r, &cols, &err), 0);
        const struct bundle_collector *bc = cols.v;
        assert_int_equal(cols.n, 1);
        assert_string_equal(bc[0].name, "memory");
        assert_string_equal(bc[0].canon, "a.first|crit||one\nz.last|warn|s|two\n");
        /* The same findings made here canonicalize the same way. */
        struct findings fs = {0};
        fnd_subject(fnd_add(&fs, SEV_WARN, "z.last", "two"), "s");
        fnd_add(&fs, SEV_CRIT, "a.first", "one");
        char *c = bundle_canon(&fs);
        assert_string_equal(c, bc[0].canon);
        free(c);
        findings_free(&fs);
        struct bundle_info bi = {.collectors = cols};
        bundle_info_free(&bi);
        recorded_free(&r);
}

static void make_info(struct bundle_info *bi, struct strbuf *enc)
{
        const char *doc = "{\"host\": \"cell\", \"artifacts\": ["
                          "{\"path\": \"host/proc/1/maps\", \"errno\": 13, \"absent\": true},"
                          "{\"path\": \"host/dev/shm\", \"dir\": true, \"names\": [\"a\", \"b\"]},"
                          "{\"path\": \"host/dev/shm/a\", \"stat\": {\"mode\": 33188, \"uid\": 7, \"size\": 10}}]}";
        struct manifest m;
        char *err = NULL;
        assert_int_equal(manifest_parse(doc, strlen(doc), &m, &err), 0);
        *bi = (struct bundle_info){.top = xstrdup("evodiag-x"), .host = xstrdup(m.host), .artifacts = m.artifacts};
        bi->has_host = (struct mf_bool){.set = true, .v = true};
        struct bundle_collector *bc = xcalloc(1, sizeof(*bc));
        *bc = (struct bundle_collector){.name = xstrdup("shm"), .status = xstrdup("ok"), .canon = xstrdup("a|ok||b\n")};
        bi->collectors = (struct mf_array){.n = 1, .v = bc};
        m.artifacts = (struct mf_array){0};
        manifest_free(&m);
        bundle_info_encode(bi, enc);
}

static void test_transport(void **state)
{
        (void)state;
        struct bundle_info bi, back;
        struct strbuf enc = {0};
        make_info(&bi, &enc);
        char *err = NULL;
        assert_int_equal(bundle_info_decode(enc.s, enc.len, &back, &err), 0);
        assert_string_equal(back.top, "evodiag-x");
        assert_string_equal(back.host, "cell");
        assert_true(back.has_host.v);
        assert_int_equal(back.artifacts.n, 3);
        const struct manifest_artifact *a = back.artifacts.v;
        assert_int_equal(a[0].err.v, 13);
        assert_memory_equal(a[1].names.buf, "a\0b\0", 4);
        assert_int_equal(a[2].stat.uid.v, 7);
        assert_string_equal(((struct bundle_collector *)back.collectors.v)[0].canon, "a|ok||b\n");
        bundle_info_free(&back);

        /* Every truncation is refused. */
        for (size_t n = 0; n < enc.len; n++) {
                assert_int_equal(bundle_info_decode(enc.s, n, &back, &err), -EPROTO);
                free(err);
        }
        /* Every single flipped byte: refused, or decoded within the tables' bounds. */
        for (size_t i = 0; i < enc.len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        enc.s[i] ^= (char)(1 << bit);
                        if (bundle_info_decode(enc.s, enc.len, &back, &err) == 0) {
                                const struct manifest_artifact *x = back.artifacts.v;
                                for (size_t k = 0; k < back.artifacts.n; k++)
                                        assert_true(!x[k].err.set || (x[k].err.v >= 1 && x[k].err.v <= 4095));
                                assert_null(strchr(back.top, '/'));
                                bundle_info_free(&back);
                        } else {
                                free(err);
                        }
                        enc.s[i] ^= (char)(1 << bit);
                }
        /* An errno out of range in the transport is refused too. */
        ((struct manifest_artifact *)bi.artifacts.v)[0].err.v = -5;
        sb_free(&enc);
        bundle_info_encode(&bi, &enc);
        assert_int_equal(bundle_info_decode(enc.s, enc.len, &back, &err), -EPROTO);
        assert_non_null(strstr(err, "out of range"));
        free(err);
        sb_free(&enc);
        bundle_info_free(&bi);
}

static void test_apply(void **state)
{
        (void)state;
        struct bundle_info bi;
        struct strbuf enc = {0};
        make_info(&bi, &enc);
        sb_free(&enc);
        rootfs_set("/nonexistent-root");
        manifest_apply(&bi);
        char *buf = NULL;
        assert_int_equal(rootfs_read("/proc/1/maps", 1024, &buf, NULL), -EACCES);
        assert_null(buf);
        struct stat st;
        assert_int_equal(rootfs_stat("/dev/shm/a", &st, false), 0);
        assert_int_equal(st.st_mode, 33188);
        assert_int_equal(st.st_uid, 7);
        struct rootfs_dir *d = rootfs_opendir("/dev/shm");
        assert_non_null(d);
        assert_string_equal(rootfs_readdir(d)->d_name, "a");
        assert_string_equal(rootfs_readdir(d)->d_name, "b");
        assert_null(rootfs_readdir(d));
        rootfs_closedir(d);
        /* An errno is never taken for a length, whoever injects it. */
        rootfs_inject_error("/proc/2/maps", -5);
        assert_int_equal(rootfs_read("/proc/2/maps", 1024, &buf, NULL), -ENOENT);
        bundle_info_free(&bi);
}

static void test_apply_is_linear(void **state)
{
        (void)state;
        /* 200,000 listings and stats replayed and looked up: well under a second
         * (it was quadratic: 80,000 took 16 s). */
        enum { N = 200000 };
        struct bundle_info bi = {0};
        struct manifest_artifact *a = xcalloc(N, sizeof(*a));
        for (size_t i = 0; i < N; i++) {
                a[i].path = xasprintf("host/proc/%zu/fd", i);
                a[i].names = (struct mf_names){.set = true, .n = 1, .len = 2, .buf = xstrdup("0")};
                a[i].stat.set = true;
                a[i].stat.mode = (struct mf_int){.set = true, .v = 040500};
        }
        bi.artifacts = (struct mf_array){.n = N, .v = a};
        uint64_t t0 = now_ms_monotonic();
        manifest_apply(&bi);
        struct stat st;
        for (size_t i = 0; i < N; i++) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/%zu/fd", i);
                assert_int_equal(rootfs_stat(p, &st, true), 0);
        }
        uint64_t ms = now_ms_monotonic() - t0;
        print_message("apply + lookup of %d paths: %llu ms\n", N, (unsigned long long)ms);
        assert_true(ms < 10000);
        bundle_info_free(&bi);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good_manifest),
                cmocka_unit_test(test_bad_manifests),
                cmocka_unit_test(test_huge_arrays),
                cmocka_unit_test(test_findings),
                cmocka_unit_test(test_canon),
                cmocka_unit_test(test_transport),
                cmocka_unit_test(test_apply),
                cmocka_unit_test(test_apply_is_linear),
        };
        return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
