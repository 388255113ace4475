/* lib/toml (toml++ behind a C interface) and the snn collector's production.toml
 * reader: both documented layouts, invalid TOML with its line, hostile texts. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/snn.h"
#include "lib/toml.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>

static struct toml_doc *parse(const char *t, struct toml_error *e)
{
        return toml_doc_parse(t, strlen(t), e);
}

static void test_values(void **state)
{
        (void)state;
        struct toml_error e;
        struct toml_doc *d = parse("title = \"x\"\n[performance]\ndevice = \"cuda\" # comment\nbatch_size = 64\n"
                                   "ratio = 0.5\nflag = true\nlist = [1, 2]\npool = { size = \"20GB\" }\n"
                                   "text = '''\nmulti\nline'''\n",
                                   &e);
        assert_non_null(d);
        char *s = NULL;
        assert_int_equal(toml_get_string(d, "performance.device", &s), 0);
        assert_string_equal(s, "cuda");
        free(s);
        assert_int_equal(toml_get_string(d, "performance.text", &s), 0);
        assert_string_equal(s, "multi\nline");
        free(s);
        assert_int_equal(toml_get_string(d, "performance.pool.size", &s), 0);
        assert_string_equal(s, "20GB");
        free(s);
        int64_t i;
        assert_int_equal(toml_get_int(d, "performance.batch_size", &i), 0);
        assert_int_equal(i, 64);
        double x;
        assert_int_equal(toml_get_number(d, "performance.ratio", &x), 0);
        assert_true(x == 0.5);
        assert_int_equal(toml_get_number(d, "performance.batch_size", &x), 0);
        assert_true(x == 64);
        bool b;
        assert_int_equal(toml_get_bool(d, "performance.flag", &b), 0);
        assert_true(b);
        assert_int_equal(toml_kind_at(d, "performance.list"), TOML_ARRAY);
        assert_int_equal(toml_kind_at(d, "performance"), TOML_TABLE);
        assert_int_equal(toml_kind_at(d, "nope.nope"), TOML_NONE);
        assert_int_equal(toml_get_int(d, "performance.device", &i), -EINVAL);
        assert_int_equal(toml_get_string(d, "performance.batch_size", &s), -EINVAL);
        assert_int_equal(toml_get_bool(d, "performance.missing", &b), -ENOENT);
        size_t n;
        char *t = toml_tables(d, &n);
        assert_string_equal(t, "performance");
        assert_int_equal(n, 9); /* leaves: title, device, batch_size, ratio, flag, list 1 and 2, pool.size, text */
        free(t);
        toml_doc_free(d);
}

static void test_errors(void **state)
{
        (void)state;
        struct toml_error e;
        assert_null(parse("[neural]\ngranule_size = 4000000\nlearning_rate = = 0.1\n", &e));
        assert_int_equal(e.line, 3);
        assert_true(e.column > 0);
        assert_true(strlen(e.what) > 0);
        assert_null(parse("a = 1\na = 2\n", &e)); /* a key defined twice */
        assert_int_equal(e.line, 2);
        assert_null(parse("a = \"unterminated\n", &e));
        assert_int_equal(e.line, 1);
        assert_null(parse("n = 99999999999999999999\n", &e)); /* past int64 */
        assert_null(toml_doc_parse("a = 1\0b = 2\n", 12, &e)); /* a NUL inside */
        /* Nesting far past any config: refused (toml++'s depth limit), no stack overflow. */
        struct strbuf s = {0};
        sb_puts(&s, "a = ");
        for (int i = 0; i < 100000; i++)
                sb_putc(&s, '[');
        assert_null(parse(s.s, &e));
        sb_free(&s);
        sb_puts(&s, "a = ");
        for (int i = 0; i < 100000; i++)
                sb_puts(&s, "{b=");
        assert_null(parse(s.s, &e));
        sb_free(&s);
        /* An empty document is valid TOML. */
        struct toml_doc *d = parse("", &e);
        assert_non_null(d);
        char *t = toml_tables(d, NULL);
        assert_string_equal(t, "");
        free(t);
        toml_doc_free(d);
}

static void test_snn_conf(void **state)
{
        (void)state;
        struct snn_conf c;
        struct toml_error e;
        static const char deploy[] = "[neural]\ngranule_size = 4000000\nlearning_rate = 0.05\nconnections_per_neuron = 100\n"
                                     "[performance]\ndevice = \"cuda\"\nbatch_size = 64\ncuda_streams = 4\nmemory_limit = \"28GB\"\n"
                                     "[security]\napi_key = \"secret\"\n";
        assert_int_equal(snn_conf_parse(deploy, strlen(deploy), &c, &e), 0);
        assert_string_equal(c.device, "cuda");
        assert_int_equal(c.granule_size, 4000000);
        assert_int_equal(c.connections_per_neuron, 100);
        assert_true(c.learning_rate == 0.05);
        assert_int_equal(c.batch_size, 64);
        assert_int_equal(c.cuda_streams, 4);
        assert_true(c.memory_limit == 28ull << 30);
        assert_int_equal(c.port, -1);
        assert_null(c.bad);
        assert_string_equal(c.tables, "neural, performance, security");
        snn_conf_free(&c);
        static const char server[] = "[server]\nhost = \"127.0.0.1\"\nport = 8080\nmax_connections = 10000\n"
                                     "[performance]\nmemory_limit = 1073741824\n";
        assert_int_equal(snn_conf_parse(server, strlen(server), &c, &e), 0);
        assert_int_equal(c.port, 8080);
        assert_int_equal(c.max_connections, 10000);
        assert_true(c.memory_limit == 1073741824);
        assert_null(c.device);
        assert_true(isnan(c.learning_rate));
        snn_conf_free(&c);
        static const char wrong[] = "[neural]\ngranule_size = -5\n[performance]\ndevice = 1\n";
        assert_int_equal(snn_conf_parse(wrong, strlen(wrong), &c, &e), 0);
        assert_string_equal(c.bad, "[performance] device is not a text");
        assert_int_equal(c.granule_size, -1);
        snn_conf_free(&c);
        static const char ml[] = "[performance]\nmemory_limit = \"lots\"\n";
        assert_int_equal(snn_conf_parse(ml, strlen(ml), &c, &e), 0);
        assert_string_equal(c.bad, "[performance] memory_limit is not a size (\"28GB\")");
        snn_conf_free(&c);
        assert_int_equal(snn_conf_parse("[neural\n", 8, &c, &e), -EINVAL);
        assert_int_equal(e.line, 1);
        /* The guide's formula, saturating. */
        assert_true(snn_granule_bytes(10000000, 800) == 32000000000ull);
        assert_true(snn_granule_bytes(INT64_MAX, INT64_MAX) == UINT64_MAX);
        assert_true(snn_granule_bytes(-1, 5) == 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_snn_conf),
        };
        return cmocka_run_group_tests_name("toml", tests, NULL, NULL);
}
