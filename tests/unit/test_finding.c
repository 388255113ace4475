/* Unit tests: findings, their JSON round trip (the pipe format between collector
 * children and the parent) and the severity → exit code rule. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "lib/finding.h"
#include "lib/escape.h"
#include "lib/sample.h"

static void test_exit_codes(void **state)
{
        assert_int_equal(severity_exit_code(SEV_OK), 0);
        assert_int_equal(severity_exit_code(SEV_INFO), 0);
        assert_int_equal(severity_exit_code(SEV_SKIPPED), 0);
        assert_int_equal(severity_exit_code(SEV_WARN), 1);
        assert_int_equal(severity_exit_code(SEV_CRIT), 2);
        assert_int_equal(severity_exit_code(SEV_UNKNOWN), 3);
}

static void test_worst(void **state)
{
        struct findings fs = {0};
        assert_int_equal(findings_worst(&fs), SEV_SKIPPED);
        fnd_add(&fs, SEV_OK, "a.ok", "fine");
        fnd_add(&fs, SEV_UNKNOWN, "a.unknown", "?");
        assert_int_equal(findings_worst(&fs), SEV_UNKNOWN);
        fnd_add(&fs, SEV_WARN, "a.warn", "hm");
        assert_int_equal(findings_worst(&fs), SEV_WARN); /* a real problem outranks not knowing */
        fnd_add(&fs, SEV_CRIT, "a.crit", "bad");
        assert_int_equal(findings_worst(&fs), SEV_CRIT);
        findings_free(&fs);
}

static void test_round_trip(void **state)
{
        struct findings fs = {0};
        struct finding *f = fnd_add(&fs, SEV_CRIT, "shm.orphaned", "segment %d has no owner", 5);
        fnd_expected(f, "creator alive or nattch > 0");
        fnd_actual(f, "creator %d gone, nattch %d", 1234, 0);
        fnd_remedy(f, "ipcrm -m %d", 5);
        fnd_evidence(f, "/proc/sysvipc/shm");
        fnd_subject(f, "shmid 5");
        fnd_add(&fs, SEV_OK, "shm.limits", "quotes \" and \\ and\nnewlines survive");
        json_object *j = findings_to_json(&fs);
        const char *text = json_object_to_json_string(j);
        json_object *back = json_tokener_parse(text);
        struct findings out = {0};
        assert_int_equal(findings_from_json(&out, back), 0);
        assert_int_equal(out.n, 2);
        assert_string_equal(out.v[0].id, "shm.orphaned");
        assert_int_equal(out.v[0].sev, SEV_CRIT);
        assert_string_equal(out.v[0].summary, "segment 5 has no owner");
        assert_string_equal(out.v[0].actual, "creator 1234 gone, nattch 0");
        assert_string_equal(out.v[0].remedy, "ipcrm -m 5");
        assert_string_equal(out.v[0].subject, "shmid 5");
        assert_string_equal(out.v[0].expected, "creator alive or nattch > 0");
        assert_string_equal(out.v[0].evidence, "/proc/sysvipc/shm");
        assert_int_equal(out.v[1].sev, SEV_OK);
        assert_string_equal(out.v[1].id, "shm.limits");
        assert_null(out.v[1].subject);
        assert_null(out.v[1].expected);
        assert_null(out.v[1].remedy);
        assert_string_equal(out.v[1].summary, "quotes \" and \\ and\nnewlines survive");
        json_object_put(j);
        json_object_put(back);
        findings_free(&fs);
        findings_free(&out);
}

/* JSON says "found", as the text report's label; bundles that said "actual" still read. */
static void test_found_and_measure(void **state)
{
        (void)state;
        struct findings fs = {0};
        struct finding *f = fnd_add(&fs, SEV_WARN, "fds.system", "x");
        fnd_actual(f, "97%%");
        fnd_measure(f, "fds.system_used_ratio", 0.97);
        f = fnd_add(&fs, SEV_OK, "fds.system", "y");
        fnd_measure(f, "Bad Key", 1);           /* not a key: not recorded */
        fnd_measure(f, "fds.nan_ratio", 0.0 / 0.0); /* not finite: not recorded */
        json_object *j = findings_to_json(&fs);
        json_object *o = json_object_array_get_idx(j, 0), *v;
        assert_true(json_object_object_get_ex(o, "found", &v));
        assert_string_equal(json_object_get_string(v), "97%");
        assert_true(json_object_object_get_ex(o, "actual", &v)); /* schema 1's name, kept */
        assert_string_equal(json_object_get_string(v), "97%");
        assert_true(json_object_object_get_ex(o, "measure", &v));
        assert_false(json_object_object_get_ex(json_object_array_get_idx(j, 1), "measure", &v));
        struct findings back = {0};
        assert_int_equal(findings_from_json(&back, j), 0);
        assert_string_equal(back.v[0].actual, "97%");
        assert_string_equal(back.v[0].measure, "fds.system_used_ratio");
        assert_true(back.v[0].value > 0.969 && back.v[0].value < 0.971);
        assert_null(back.v[1].measure);
        json_object *old = json_tokener_parse("[{\"id\":\"a.b\",\"severity\":\"ok\",\"summary\":\"s\",\"actual\":\"old\"}]");
        struct findings o2 = {0};
        assert_int_equal(findings_from_json(&o2, old), 0);
        assert_string_equal(o2.v[0].actual, "old");
        assert_int_equal(findings_keep_id(&back, "nosuch"), 0);
        json_object_put(old);
        json_object_put(j);
        findings_free(&fs);
        findings_free(&back);
        findings_free(&o2);
}

/* Units are spelled one way: "bytes", never "B". */
static void test_units(void **state)
{
        (void)state;
        assert_string_equal(unit_canonical("B"), "bytes");
        assert_string_equal(unit_canonical("bytes"), "bytes");
        assert_string_equal(unit_canonical("Hz"), "Hz");
        assert_null(unit_canonical(NULL));
        struct sample s;
        sample_init(&s);
        sample_value(&s, "lavinmq.rss_bytes", NULL, 5, "B");
        json_object *o = sample_to_json(&s), *vals, *u;
        assert_true(json_object_object_get_ex(o, "values", &vals));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(vals, 0), "unit", &u));
        assert_string_equal(json_object_get_string(u), "bytes");
        json_object_put(o);
        sample_free(&s);
}

/* LC_ALL=C: our punctuation in ASCII, other code points escaped, ASCII passes. */
static void test_ascii(void **state)
{
        (void)state;
        struct strbuf b = {0};
        esc_text(&b, "shm \u2014 ok\u2026 caf\u00e9 \xff", ESC_ASCII);
        assert_string_equal(b.s, "shm -- ok... caf\\u00e9 \\xff");
        sb_free(&b);
}

static void test_from_bad_json(void **state)
{
        struct findings out = {0};
        json_object *o = json_tokener_parse("{\"id\":\"x\"}");
        assert_int_equal(findings_from_json(&out, o), -EINVAL); /* not an array */
        json_object_put(o);
        o = json_tokener_parse("[{\"id\":\"x\",\"severity\":\"catastrophic\",\"summary\":\"s\"}]");
        assert_int_equal(findings_from_json(&out, o), -EINVAL); /* unknown severity */
        json_object_put(o);
        o = json_tokener_parse("[{\"id\":\"x\",\"severity\":\"ok\"}]");
        assert_int_equal(findings_from_json(&out, o), -EINVAL); /* no summary */
        json_object_put(o);
        o = json_tokener_parse("[{\"id\":5,\"severity\":\"ok\",\"summary\":\"s\"}]");
        assert_int_equal(findings_from_json(&out, o), -EINVAL); /* id of the wrong type */
        json_object_put(o);
        findings_free(&out);
}

static void test_move(void **state)
{
        struct findings a = {0}, b = {0};
        for (int i = 0; i < 40; i++)
                fnd_add(&b, SEV_INFO, "x.y", "%d", i);
        fnd_add(&a, SEV_OK, "a.b", "first");
        findings_move(&a, &b);
        assert_int_equal(a.n, 41);
        assert_int_equal(b.n, 0);
        assert_string_equal(a.v[40].summary, "39");
        findings_free(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_codes), cmocka_unit_test(test_worst),
                cmocka_unit_test(test_round_trip), cmocka_unit_test(test_from_bad_json),
                cmocka_unit_test(test_move), cmocka_unit_test(test_found_and_measure),
                cmocka_unit_test(test_units), cmocka_unit_test(test_ascii),
        };
        return cmocka_run_group_tests_name("finding", tests, NULL, NULL);
}
