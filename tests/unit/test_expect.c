/* Unit tests: the [expect] and [ignore] lists (lib/expect.c). */
#include "config.h"
#include "lib/expect.h"
#include "lib/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void test_names(void **state)
{
        struct expect_list l;
        char *why = NULL;
        assert_int_equal(expect_parse(" hal_cu , cu_hal,,", EXPECT_NO_VALUE, &l, &why), 0);
        assert_null(why);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.v[0].name, "hal_cu");
        assert_null(l.v[0].value);
        assert_non_null(expect_find(&l, "cu_hal"));
        assert_null(expect_find(&l, "Cu_Hal")); /* names are case sensitive */
        expect_free(&l);
        assert_int_equal(expect_parse("", EXPECT_NO_VALUE, &l, &why), 0); /* nothing expected */
        assert_int_equal(l.n, 0);
}

static void test_pairs(void **state)
{
        struct expect_list l;
        char *why = NULL;
        assert_int_equal(expect_parse("hal_cu : hal, cu_hal:cu", EXPECT_VALUE_REQUIRED, &l, &why), 0);
        assert_string_equal(l.v[0].name, "hal_cu");
        assert_string_equal(l.v[0].value, "hal");
        expect_free(&l);
        double hz;
        assert_int_equal(expect_rate("100", &hz), 0);
        assert_true(hz == 100);
        assert_int_equal(expect_rate("0.5", &hz), 0);
        assert_int_equal(expect_rate("0", &hz), -EINVAL);
        assert_int_equal(expect_rate("-3", &hz), -EINVAL);
        assert_int_equal(expect_rate("nan", &hz), -EINVAL);
        assert_int_equal(expect_rate("1e7", &hz), -EINVAL);
        assert_int_equal(expect_rate(NULL, &hz), -EINVAL);
}

static void refused(const char *text, enum expect_value v, const char *why_has)
{
        struct expect_list l;
        char *why = NULL;
        assert_int_equal(expect_parse(text, v, &l, &why), -EINVAL);
        assert_int_equal(l.n, 0);
        assert_non_null(why);
        if (!strstr(why, why_has))
                fail_msg("'%s': '%s' does not say '%s'", text, why, why_has);
        free(why);
}

static void test_refused(void **state)
{
        refused("a, a", EXPECT_NO_VALUE, "named twice");
        refused("a:b", EXPECT_NO_VALUE, "plain name");
        refused("a", EXPECT_VALUE_REQUIRED, "needs a value");
        refused("a:", EXPECT_VALUE_REQUIRED, "empty");
        refused("a:b c", EXPECT_VALUE_REQUIRED, "not one word");
        refused("two words", EXPECT_NO_VALUE, "not a name");
        refused("a\tb", EXPECT_NO_VALUE, "not a name");
        char *many = xstrdup("");
        for (int i = 0; i <= EXPECT_MAX; i++) {
                char *n = xasprintf("%s%sn%d", many, i ? "," : "", i);
                free(many);
                many = n;
        }
        refused(many, EXPECT_NO_VALUE, "more than");
        free(many);
        char *long_name = xcalloc(EXPECT_NAME_MAX + 2, 1);
        memset(long_name, 'x', EXPECT_NAME_MAX + 1);
        refused(long_name, EXPECT_NO_VALUE, "not a name");
        free(long_name);
}

static void test_ignore(void **state)
{
        struct ignore_list l;
        char *why = NULL;
        assert_int_equal(ignore_parse("fds.nr_open, evo.unknown_name: evo_test 1 ,", &l, &why), 0);
        assert_int_equal(l.n, 2);
        assert_true(ignore_match(&l, "fds.nr_open", NULL));
        assert_true(ignore_match(&l, "fds.nr_open", "anything"));
        assert_true(ignore_match(&l, "evo.unknown_name", "evo_test 1"));
        assert_false(ignore_match(&l, "evo.unknown_name", "evo_test 2"));
        assert_false(ignore_match(&l, "evo.unknown_name", NULL));
        assert_false(ignore_match(&l, "rt.kernel", NULL));
        ignore_free(&l);
        assert_int_equal(ignore_parse("nodot", &l, &why), -EINVAL);
        free(why);
        assert_int_equal(ignore_parse("fds.x:", &l, &why), -EINVAL);
        free(why);
        assert_int_equal(ignore_parse("", &l, &why), 0);
        assert_int_equal(l.n, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_pairs),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_ignore),
        };
        return cmocka_run_group_tests_name("expect", tests, NULL, NULL);
}
