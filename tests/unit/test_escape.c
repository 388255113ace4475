/* Unit tests: escaping per output context (lib/escape.h). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/escape.h"
#include "lib/util.h"

/* The hostile process name of the reproducer: clear screen, set the title, bell. */
#define PWNED "\033[2J\033]0;PWNED\a"

static char *T(const char *s, unsigned flags)
{
        struct strbuf b = {0};
        esc_text(&b, s, flags);
        return sb_steal(&b);
}

/* No byte a terminal acts on: C0 but the allowed ones, DEL, raw C1 (0x80-0x9f
 * outside a valid sequence is caught by utf8_valid). */
static void assert_inert(const char *s, const char *allowed)
{
        assert_true(utf8_valid(s, strlen(s)));
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        assert_non_null(strchr(allowed, *p));
        /* UTF-8 C1 (C2 80..9F) is a control too */
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

static void test_utf8(void **state)
{
        uint32_t cp;
        assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
        assert_int_equal(cp, 0xe9);
        assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
        assert_int_equal(cp, 0x20ac);
        assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
        assert_int_equal(cp, 0x1f600);
        /* invalid: overlong, surrogate, above U+10FFFF, lone continuation, cut, F5+ */
        assert_int_equal(utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82", 2, &cp), 0);
        assert_int_equal(utf8_decode((const unsigned char *)"\xff", 1, &cp), 0);
        assert_true(utf8_valid("plain ascii, é, €", strlen("plain ascii, é, €")));
        assert_false(utf8_valid("a\xff", 2));
}

static void test_text(void **state)
{
        char *o = T(PWNED, 0);
        assert_string_equal(o, "\\e[2J\\e]0;PWNED\\a");
        assert_inert(o, "");
        free(o);
        o = T("a\nb\tc\rd\be\ff\vg\x01h\x7fi\x00", 0);
        assert_string_equal(o, "a\\nb\\tc\\rd\\be\\ff\\vg\\x01h\\x7fi");
        free(o);
        /* invalid bytes as \xNN; valid UTF-8 passes; UTF-8 C1 (CSI U+009B) and bidi
         * overrides as \uNNNN */
        o = T("caf\xc3\xa9 \xff\xfe \xc2\x9b" "31m \xe2\x80\xae" "evil \xe2\x80\xa8", 0);
        assert_string_equal(o, "café \\xff\\xfe \\u009b31m \\u202eevil \\u2028");
        assert_inert(o, "");
        free(o);
        /* a sequence cut by the end of the string is bytes, not a character */
        o = T("x\xe2\x82", 0);
        assert_string_equal(o, "x\\xe2\\x82");
        free(o);
        /* flags: keep lines / tabs; lines as spaces; backslashes doubled */
        o = T("a\nb\tc\r", ESC_KEEP_NL | ESC_KEEP_TAB);
        assert_string_equal(o, "a\nb\tc\\r");
        free(o);
        o = T("a\r\nb", ESC_NL_SPACE);
        assert_string_equal(o, "a  b");
        free(o);
        o = T("a\\e\033", ESC_BACKSLASH);
        assert_string_equal(o, "a\\\\e\\e");
        free(o);
        o = T(NULL, 0);
        assert_string_equal(o, "");
        free(o);
        /* idempotent: escaping escaped text changes nothing */
        char *once = T(PWNED "\xff\xc2\x9b\n", 0), *twice = T(once, 0);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
}

static void test_nagios(void **state)
{
        struct strbuf b = {0};
        esc_nagios_text(&b, "/x\nEVODIAG OK - spoofed | a=1;;;0", 0);
        assert_string_equal(b.s, "/x\\nEVODIAG OK - spoofed \xc2\xa6 a=1;;;0");
        assert_null(strchr(b.s, '\n'));
        assert_null(strchr(b.s, '|'));
        sb_free(&b);
        /* bounded, cut on a character boundary */
        esc_nagios_text(&b, "ééééé", 5);
        assert_string_equal(b.s, "éé…");
        sb_free(&b);
        esc_nagios_label(&b, "crit");
        sb_puts(&b, " ");
        esc_nagios_label(&b, "disk /var");
        sb_puts(&b, " ");
        esc_nagios_label(&b, "it's=x|y\n");
        assert_string_equal(b.s, "crit 'disk /var' 'it''s_x_y\\n'");
        sb_free(&b);
}

static void test_prometheus(void **state)
{
        struct strbuf b = {0};
        esc_prom_label_value(&b, "a\"b\\c\nd" PWNED);
        assert_string_equal(b.s, "a\\\"b\\\\\\\\c\\\\nd\\\\e[2J\\\\e]0;PWNED\\\\a");
        assert_inert(b.s, "");
        sb_free(&b);
        /* distinct names stay distinct (a duplicate series invalidates the file) */
        struct strbuf x = {0}, y = {0};
        esc_prom_label_value(&x, "a\033");
        esc_prom_label_value(&y, "a\\e");
        assert_string_not_equal(x.s, y.s);
        sb_free(&x);
        sb_free(&y);
}

static char *MD(const char *s, bool table, bool line_start)
{
        struct strbuf b = {0};
        esc_md_text(&b, s, table, line_start);
        return sb_steal(&b);
}

static char *CODE(const char *s, bool table)
{
        struct strbuf b = {0};
        esc_md_code(&b, s, table);
        return sb_steal(&b);
}

static void test_markdown_text(void **state)
{
        char *o = MD("evo_x`y | <img src=x> @security-team", true, false);
        assert_string_equal(o, "evo\\_x\\`y \\| &lt;img src=x&gt; `@security-team`");
        free(o);
        o = MD("a*b_c [l](u) #h ~s~ \\ & mail me@example.com", false, false);
        assert_string_equal(o, "a\\*b\\_c \\[l\\](u) \\#h \\~s\\~ \\\\ &amp; mail me`@example.com`");
        free(o);
        o = MD("line1\nline2" PWNED, false, false);
        assert_string_equal(o, "line1 line2\\\\e\\[2J\\\\e\\]0;PWNED\\\\a");
        assert_inert(o, "");
        free(o);
        /* at the start of a line: no list, no setext heading, no ordered list */
        o = MD("- item", false, true);
        assert_string_equal(o, "\\- item");
        free(o);
        o = MD("===", false, true);
        assert_string_equal(o, "\\===");
        free(o);
        o = MD("12. x", false, true);
        assert_string_equal(o, "12\\. x");
        free(o);
        o = MD("12. x", false, false);
        assert_string_equal(o, "12. x");
        free(o);
}

static void test_markdown_code(void **state)
{
        char *o = CODE("ipcrm -m 5", false);
        assert_string_equal(o, "`ipcrm -m 5`");
        free(o);
        /* the fence is longer than any backtick run inside */
        o = CODE("a`b``c", false);
        assert_string_equal(o, "```a`b``c```");
        free(o);
        /* padded when it starts or ends with a backtick (CommonMark strips one space) */
        o = CODE("`x`", false);
        assert_string_equal(o, "`` `x` ``");
        free(o);
        o = CODE(" x ", false);
        assert_string_equal(o, "`  x  `");
        free(o);
        o = CODE("   ", false);
        assert_string_equal(o, "`   `");
        free(o);
        o = CODE("", false);
        assert_string_equal(o, "");
        free(o);
        /* in a table row '|' must not end the cell; newlines never end the span */
        o = CODE("a|b\\|c\nd", true);
        assert_string_equal(o, "`a\\|b\\\\|c d`");
        free(o);
        o = CODE("a|b", false);
        assert_string_equal(o, "`a|b`");
        free(o);
        o = CODE("rm '/dev/shm/" PWNED "'", false);
        assert_string_equal(o, "`rm '/dev/shm/\\e[2J\\e]0;PWNED\\a'`");
        free(o);
        struct strbuf b = {0};
        esc_md_block(&b, "l1\n\tl2\r" PWNED);
        assert_string_equal(b.s, "l1\n\tl2\\r\\e[2J\\e]0;PWNED\\a");
        sb_free(&b);
        assert_int_equal(md_longest_run("a```b````c", 10, '`'), 4);
        assert_int_equal(md_longest_run("abc", 3, '`'), 0);
}

static void test_json(void **state)
{
        _cleanup_free_ char *s = utf8_sanitize("ok \xff\x9b \xc3\xa9", 8);
        assert_string_equal(s, "ok \xc3\xbf\xc2\x9b \xc3\xa9"); /* Latin-1: 0xff -> U+00FF, 0x9b -> U+009B */
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string("evo_\xff" PWNED));
        json_object_object_add(o, "bad\xfekey", json_object_new_string("v"));
        json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_string("\xe2\x80\xae\x7f\xc0"));
        json_object_array_add(a, json_string_utf8("x\xff"));
        json_object_array_add(a, json_object_new_int(5));
        json_object_object_add(o, "list", a);
        _cleanup_free_ char *t = json_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        assert_string_equal(t, "{\"name\":\"evo_\xc3\xbf\\u001b[2J\\u001b]0;PWNED\\u0007\",\"list\":[\"\\u202e\\u007f\xc3\x80\","
                               "\"x\xc3\xbf\",5],\"bad\xc3\xbekey\":\"v\"}");
        assert_inert(t, "");
        /* and a parser reads back the same characters */
        json_object *back = json_tokener_parse(t);
        assert_non_null(back);
        json_object *x;
        assert_true(json_object_object_get_ex(back, "name", &x));
        assert_string_equal(json_object_get_string(x), "evo_\xc3\xbf" PWNED);
        json_object_put(back);
        json_object_put(o);
        /* sanitising is idempotent */
        _cleanup_free_ char *s2 = utf8_sanitize(s, strlen(s));
        assert_string_equal(s, s2);
        assert_null(json_string_utf8(NULL));
}

static void test_printable_and_quote(void **state)
{
        char *p = str_printable("evo_\x1b[31mx\ny");
        assert_string_equal(p, "evo_\\e[31mx\\ny");
        free(p);
        p = str_printable("a\xff\xc2\x9b\x7f"); /* 8-bit bytes are the renderers' business */
        assert_string_equal(p, "a\xff\xc2\x9b\\x7f");
        free(p);
        /* a remedy must name the real file: bash's $'...' with the same escapes */
        p = shell_quote("/dev/shm/evo_\x1b[2J\nit's\xff\\");
        assert_string_equal(p, "$'/dev/shm/evo_\\e[2J\\nit\\'s\\xff\\\\'");
        free(p);
        char *q = shell_quote("/dev/shm/evo_hal_cu");
        assert_string_equal(q, "/dev/shm/evo_hal_cu");
        free(q);
        q = shell_quote("/dev/shm/it's here");
        assert_string_equal(q, "'/dev/shm/it'\\''s here'");
        free(q);
        q = shell_quote("");
        assert_string_equal(q, "''");
        free(q);
}

/* json_text_spliced(): the same text as the whole tree, the array written element
 * by element at its depth (nested spliced arrays too), for both PRETTY layouts. */
static void put_sb(void *arg, const char *text, size_t len) { sb_putn(arg, text, len); }

static json_object *inner(size_t i)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "i", json_object_new_int64((int64_t)i));
        json_object_object_add(o, "s", json_object_new_string("two\nlines \x01 \xff \"q\":[\n"));
        return o;
}

static void elem_inner(void *arg, size_t i, json_put_fn *put, void *put_arg)
{
        int flags = *(int *)arg;
        json_object *o = inner(i);
        char *t = json_text(o, flags);
        put(put_arg, t, strlen(t));
        free(t);
        json_object_put(o);
}

static json_object *outer(size_t i, bool filled)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string("c"));
        json_object *q = json_object_new_array();
        for (size_t k = 0; filled && k < i; k++)
                json_object_array_add(q, inner(k));
        json_object_object_add(o, "q", q);
        json_object_object_add(o, "after", json_object_new_boolean(true));
        return o;
}

static void elem_outer(void *arg, size_t i, json_put_fn *put, void *put_arg)
{
        json_object *o = outer(i, false);
        assert_true(json_text_spliced(o, *(int *)arg, "q", i, elem_inner, arg, put, put_arg));
        json_object_put(o);
}

static void test_json_spliced(void **state)
{
        (void)state;
        int layouts[] = {JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
                         JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE};
        for (size_t l = 0; l < 2; l++)
                for (size_t n = 0; n <= 3; n++) {
                        int flags = layouts[l];
                        json_object *whole = json_object_new_object(), *doc = json_object_new_object();
                        json_object *arr = json_object_new_array();
                        for (size_t i = 0; i < n; i++)
                                json_object_array_add(arr, outer(i, true));
                        json_object_object_add(whole, "head", json_object_new_string("h"));
                        json_object_object_add(whole, "list", arr);
                        json_object_object_add(whole, "tail", json_object_new_array());
                        json_object_object_add(doc, "head", json_object_new_string("h"));
                        json_object_object_add(doc, "list", json_object_new_array());
                        json_object_object_add(doc, "tail", json_object_new_array());
                        char *want = json_text(whole, flags);
                        struct strbuf got = {0};
                        assert_true(json_text_spliced(doc, flags, "list", n, elem_outer, &flags, put_sb, &got));
                        assert_string_equal(got.s, want);
                        free(want);
                        sb_free(&got);
                        json_object_put(whole);
                        json_object_put(doc);
                }
        /* No such key, an array that is not empty, no PRETTY: nothing written. */
        json_object *o = outer(2, true);
        struct strbuf got = {0};
        int flags = JSON_C_TO_STRING_PRETTY;
        assert_false(json_text_spliced(o, flags, "nope", 1, elem_inner, &flags, put_sb, &got));
        assert_false(json_text_spliced(o, flags, "q", 1, elem_inner, &flags, put_sb, &got));
        flags = JSON_C_TO_STRING_PLAIN;
        assert_false(json_text_spliced(o, flags, "q", 1, elem_inner, &flags, put_sb, &got));
        assert_null(got.s);
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8),          cmocka_unit_test(test_text),          cmocka_unit_test(test_nagios),
                cmocka_unit_test(test_prometheus),    cmocka_unit_test(test_markdown_text), cmocka_unit_test(test_markdown_code),
                cmocka_unit_test(test_json),          cmocka_unit_test(test_printable_and_quote),
                cmocka_unit_test(test_json_spliced),
        };
        return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
