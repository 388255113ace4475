/* Unit tests: number/duration parsing, string buffer, CPU lists and masks. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include "lib/cpulist.h"
#include "lib/namefit.h"
#include "lib/satmath.h"
#include "lib/util.h"

static void test_parse_u64(void **state)
{
        uint64_t v;
        assert_int_equal(parse_u64("42", &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(parse_u64("  7\n", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_true(parse_u64("18446744073709551616", &v) < 0); /* overflow */
        assert_true(parse_u64("-1", &v) < 0);
        assert_true(parse_u64("", &v) < 0);
        assert_true(parse_u64("12abc", &v) < 0);
        assert_true(parse_u64("abc", &v) < 0);
}

static void test_parse_duration(void **state)
{
        uint64_t ms;
        assert_int_equal(parse_duration_ms("5", &ms), 0);
        assert_int_equal(ms, 5000);
        assert_int_equal(parse_duration_ms("500ms", &ms), 0);
        assert_int_equal(ms, 500);
        assert_int_equal(parse_duration_ms("1.5s", &ms), 0);
        assert_int_equal(ms, 1500);
        assert_int_equal(parse_duration_ms("2m", &ms), 0);
        assert_int_equal(ms, 120000);
        assert_int_equal(parse_duration_ms("1h", &ms), 0);
        assert_int_equal(ms, 3600000);
        assert_true(parse_duration_ms("5x", &ms) < 0);
        assert_true(parse_duration_ms("-1s", &ms) < 0);
        assert_true(parse_duration_ms("", &ms) < 0);
        assert_true(parse_duration_ms("nan", &ms) < 0);
        assert_true(parse_duration_ms("1e300d", &ms) < 0);
}

static void test_strbuf(void **state)
{
        struct strbuf b = {0};
        for (int i = 0; i < 1000; i++)
                sb_printf(&b, "%d,", i);
        assert_int_equal(b.len, strlen(b.s));
        assert_true(startswith(b.s, "0,1,2,"));
        char *s = sb_steal(&b);
        assert_null(b.s);
        free(s);
        s = sb_steal(&b); /* empty buffer still gives a string */
        assert_string_equal(s, "");
        free(s);
}

static void test_next_line(void **state)
{
        char buf[] = "a\nbb\n\nccc";
        size_t pos = 0;
        assert_string_equal(next_line(buf, &pos), "a");
        assert_string_equal(next_line(buf, &pos), "bb");
        assert_string_equal(next_line(buf, &pos), "");
        assert_string_equal(next_line(buf, &pos), "ccc");
        assert_null(next_line(buf, &pos));
}

static void test_fmt_bytes(void **state)
{
        char b[32];
        assert_string_equal(fmt_bytes(512, b), "512 B");
        assert_string_equal(fmt_bytes(1536, b), "1.5 KiB");
        assert_string_equal(fmt_bytes(2ULL << 30, b), "2.0 GiB");
}

static void test_cpulist(void **state)
{
        struct cpuset s;
        assert_int_equal(cpulist_parse("0-3,8,10-11", &s), 0);
        assert_int_equal(cpuset_count(&s), 7);
        assert_true(cpuset_isset(&s, 0) && cpuset_isset(&s, 3) && cpuset_isset(&s, 8) && cpuset_isset(&s, 11));
        assert_false(cpuset_isset(&s, 4) || cpuset_isset(&s, 9));
        char *f = cpulist_format(&s);
        assert_string_equal(f, "0-3,8,10-11");
        free(f);
        assert_int_equal(cpulist_parse("", &s), 0); /* an empty isolated file */
        assert_true(cpuset_empty(&s));
        assert_int_equal(cpulist_parse("2-7\n", &s), 0);
        assert_int_equal(cpuset_count(&s), 6);
        assert_int_equal(cpulist_parse("0-15:2/4", &s), 0); /* kernel stride syntax */
        f = cpulist_format(&s);
        assert_string_equal(f, "0-1,4-5,8-9,12-13");
        free(f);
}

static void test_cpulist_malformed(void **state)
{
        struct cpuset s;
        assert_true(cpulist_parse("3-1", &s) < 0);
        assert_true(cpuset_empty(&s));
        assert_true(cpulist_parse("a-b", &s) < 0);
        assert_true(cpulist_parse("1,,x", &s) < 0);
        assert_true(cpulist_parse("1-", &s) < 0);
        assert_true(cpulist_parse("99999", &s) < 0); /* beyond CPULIST_MAX */
        assert_true(cpulist_parse("0-3:0/4", &s) < 0);
        assert_true(cpulist_parse("0-3 junk", &s) < 0);
}

static void test_cpumask(void **state)
{
        struct cpuset s;
        assert_int_equal(cpumask_parse("f0\n", &s), 0);
        char *f = cpulist_format(&s);
        assert_string_equal(f, "4-7");
        free(f);
        assert_int_equal(cpumask_parse("1,00000001", &s), 0); /* commas every 32 bits */
        f = cpulist_format(&s);
        assert_string_equal(f, "0,32");
        free(f);
        assert_true(cpumask_parse("xyz", &s) < 0);
        assert_true(cpumask_parse("", &s) < 0);
}

static void test_cpuset_ops(void **state)
{
        struct cpuset a, b, c;
        cpulist_parse("0-7", &a);
        cpulist_parse("2-3", &b);
        cpuset_andnot(&c, &a, &b);
        char *f = cpulist_format(&c);
        assert_string_equal(f, "0-1,4-7");
        free(f);
        assert_true(cpuset_intersects(&a, &b));
        assert_false(cpuset_intersects(&c, &b));
        cpuset_or(&c, &c, &b);
        assert_true(cpuset_equal(&c, &a));
}

/* Numbers from outside never reach an undefined double-to-integer conversion. */
static void test_num_to_int(void **state)
{
        uint64_t u = 7;
        int64_t i = 7;
        assert_int_equal(num_to_u64(0, &u), 0);
        assert_true(u == 0);
        assert_int_equal(num_to_u64(-0.0, &u), 0);
        assert_int_equal(num_to_u64(64424509440.0, &u), 0);
        assert_true(u == 64424509440ull);
        assert_int_equal(num_to_u64(18446744073709549568.0, &u), 0); /* the largest double below 2^64 */
        assert_true(u == 18446744073709549568ull);
        u = 7;
        assert_int_equal(num_to_u64(1e308, &u), -ERANGE);
        assert_int_equal(num_to_u64(18446744073709551616.0, &u), -ERANGE);
        assert_int_equal(num_to_u64(-5, &u), -ERANGE);
        assert_int_equal(num_to_u64(NAN, &u), -ERANGE);
        assert_int_equal(num_to_u64(INFINITY, &u), -ERANGE);
        assert_int_equal(num_to_u64(-INFINITY, &u), -ERANGE);
        assert_int_equal(num_to_u64(1.5, &u), -EDOM);
        assert_true(u == 7); /* untouched on error */
        assert_int_equal(num_to_i64(-5, &i), 0);
        assert_true(i == -5);
        assert_int_equal(num_to_i64(-9223372036854775808.0, &i), 0);
        assert_true(i == INT64_MIN);
        assert_int_equal(num_to_i64(9223372036854775808.0, &i), -ERANGE);
        assert_int_equal(num_to_i64(-1e308, &i), -ERANGE);
        assert_int_equal(num_to_i64(NAN, &i), -ERANGE);
        assert_int_equal(num_to_i64(0.25, &i), -EDOM);
        /* Sizes: beyond 2^64 bytes is an error, not a wrapped number. */
        assert_int_equal(parse_size("1e18G", &u), -ERANGE);
        assert_int_equal(parse_size("16E", &u), -EINVAL);
        assert_int_equal(parse_size("1.5k", &u), 0);
        assert_true(u == 1536);
        assert_true(sat_add_u64(UINT64_MAX, 1) == UINT64_MAX);
        assert_true(sat_mul_u64(UINT64_MAX / 2, 3) == UINT64_MAX);
}

/* Generated names fit NAME_MAX, stay apart and keep their kind. */
static void test_name_fit(void **state)
{
        char name[300];
        memset(name, 'n', sizeof(name));
        memcpy(name, "evo_", 4);
        memcpy(name + 243, ".mappers.json", 14); /* a legal 243-byte segment name + suffix */
        char *a = name_fit(name, NAME_COMPONENT_MAX);
        assert_true(strlen(a) <= NAME_COMPONENT_MAX);
        assert_true(startswith(a, "evo_nnnn"));
        assert_non_null(strstr(a, ".mappers.json"));
        assert_non_null(strchr(a, '~'));
        name[100] = 'x'; /* another name with the same head and tail: another result */
        char *b = name_fit(name, NAME_COMPONENT_MAX);
        assert_true(strlen(b) <= NAME_COMPONENT_MAX);
        assert_string_not_equal(a, b);
        char *again = name_fit(name, NAME_COMPONENT_MAX);
        assert_string_equal(b, again); /* deterministic */
        char *same = name_fit("short.json", 255);
        assert_string_equal(same, "short.json");
        free(same);
        /* Multi-byte characters are never cut in half. */
        struct strbuf u = {0};
        for (int k = 0; k < 200; k++)
                sb_puts(&u, "é");
        char *c = name_fit(u.s, 255);
        assert_true(strlen(c) <= 255);
        for (const unsigned char *p = (const unsigned char *)c; *p; p++)
                if (*p == 0xc3)
                        assert_int_equal(p[1], 0xa9);
        const unsigned char *last = (const unsigned char *)c + strlen(c) - 1;
        assert_true(*last == 0xa9 || *last < 0x80);
        char *p = path_fit("collectors/evo/x");
        assert_string_equal(p, "collectors/evo/x");
        free(a), free(b), free(again), free(c), free(p);
        sb_free(&u);
}

static void test_fields(void **state)
{
        (void)state;
        const char *p = "  1: FLOCK\tADVISORY  \n next", *f;
        assert_int_equal(next_field(&p, &f), 2);
        assert_memory_equal(f, "1:", 2);
        assert_int_equal(next_field(&p, &f), 5);
        assert_memory_equal(f, "FLOCK", 5);
        assert_int_equal(next_field(&p, &f), 8); /* a tab separates too */
        assert_int_equal(next_field(&p, &f), 0); /* the newline ends the text */
        uint64_t v = 7;
        assert_int_equal(parse_digits_u64("1234x", 4, 10, 20, &v), 0);
        assert_int_equal(v, 1234);
        assert_int_equal(parse_digits_u64("fFa0", 4, 16, 8, &v), 0);
        assert_int_equal(v, 0xffa0);
        assert_int_equal(parse_digits_u64("18446744073709551615", 20, 10, 20, &v), 0);
        assert_int_equal(v, UINT64_MAX);
        assert_int_equal(parse_digits_u64("ffffffffffffffff", 16, 16, 16, &v), 0);
        assert_int_equal(v, UINT64_MAX);
        v = 7;
        static const struct {
                const char *s;
                unsigned base;
                size_t max;
        } bad[] = {
                {"", 10, 20}, {"18446744073709551616", 10, 20}, /* 2^64 */
                {"123", 10, 2}, {"-1", 10, 20}, {"+1", 10, 20}, {" 1", 10, 20}, {"1a", 10, 20},
                {"0x1", 16, 8}, {"g", 16, 8}, {"10000000000000000", 16, 17}, {"7", 8, 20},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                if (parse_digits_u64(bad[i].s, strlen(bad[i].s), bad[i].base, bad[i].max, &v) != -EINVAL)
                        fail_msg("accepted '%s' in base %u", bad[i].s, bad[i].base);
                assert_int_equal(v, 7);
        }
}

/* The one membership test for NULL-terminated lists (was in_list in four files), and
 * the one for comma-separated config words. */
static void test_lists(void **state)
{
        (void)state;
        static const char *const l[] = {"cu", "hal", "re", NULL};
        assert_true(strv_contains(l, "cu"));
        assert_true(strv_contains(l, "re"));
        assert_false(strv_contains(l, "r"));
        assert_false(strv_contains(l, "cux"));
        assert_false(strv_contains(l, ""));
        assert_false(strv_contains(NULL, "cu")); /* no --only given */
        assert_false(strv_contains((const char *const[]){NULL}, "cu"));

        assert_true(list_has_word("evo_cu,lavinmq", "evo_cu"));
        assert_true(list_has_word(" evo_cu , lavinmq ", "lavinmq"));
        assert_true(list_has_word(",,x,,", "x"));
        const char *lp = " /a.log, ,/b c.log ,,";
        char *it = list_next(&lp);
        assert_string_equal(it, "/a.log");
        free(it);
        it = list_next(&lp);
        assert_string_equal(it, "/b c.log");
        free(it);
        assert_null(list_next(&lp));
        lp = "";
        assert_null(list_next(&lp));
        assert_false(list_has_word("evo_cu", "evo"));
        assert_false(list_has_word("evo", "evo_cu"));
        assert_false(list_has_word("a b,c", "a"));
        assert_true(list_has_word("a b,c", "a b"));
        assert_false(list_has_word("", "x"));
        assert_false(list_has_word(NULL, "x"));
        assert_false(list_has_word(",, ,", ""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_u64),    cmocka_unit_test(test_parse_duration),
                cmocka_unit_test(test_strbuf),       cmocka_unit_test(test_next_line),
                cmocka_unit_test(test_fmt_bytes),    cmocka_unit_test(test_cpulist),
                cmocka_unit_test(test_cpulist_malformed), cmocka_unit_test(test_cpumask),
                cmocka_unit_test(test_cpuset_ops),
                cmocka_unit_test(test_num_to_int),          cmocka_unit_test(test_name_fit),
                cmocka_unit_test(test_fields),
                cmocka_unit_test(test_lists),
        };
        return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
