/* lib/prometheus_text: the exposition format as Prometheus documents it, as node_exporter
 * and LavinMQ serve it, and broken copies of it (garbage, over-long lines, limits). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/prometheus_text.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>

/* The example of Prometheus's exposition_formats.md ("Text format example"), verbatim. */
static const char doc_example[] =
        "# HELP http_requests_total The total number of HTTP requests.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
        "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
        "\n"
        "# Escaping in label values:\n"
        "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
        "\n"
        "# Minimalistic line:\n"
        "metric_without_timestamp_and_labels 12.47\n"
        "\n"
        "# A weird metric from before the epoch:\n"
        "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
        "\n"
        "# A histogram, which has a pretty complex representation in the text format:\n"
        "# HELP http_request_duration_seconds A histogram of the request duration.\n"
        "# TYPE http_request_duration_seconds histogram\n"
        "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
        "http_request_duration_seconds_bucket{le=\"0.1\"} 33444\n"
        "http_request_duration_seconds_bucket{le=\"0.2\"} 100392\n"
        "http_request_duration_seconds_bucket{le=\"0.5\"} 129389\n"
        "http_request_duration_seconds_bucket{le=\"1\"} 133988\n"
        "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
        "http_request_duration_seconds_sum 53423\n"
        "http_request_duration_seconds_count 144320\n"
        "\n"
        "# Finally a summary, which has a complex representation, too:\n"
        "# HELP rpc_duration_seconds A summary of the RPC duration in seconds.\n"
        "# TYPE rpc_duration_seconds summary\n"
        "rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
        "rpc_duration_seconds{quantile=\"0.05\"} 3272\n"
        "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
        "rpc_duration_seconds{quantile=\"0.9\"} 9001\n"
        "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
        "rpc_duration_seconds_sum 1.7560473e+07\n"
        "rpc_duration_seconds_count 2693\n";

static const struct prom_series *nth(const struct prom_text *t, const char *name, size_t k)
{
        size_t pos = 0;
        const struct prom_series *s = NULL;
        for (size_t i = 0; i <= k; i++)
                s = prom_text_next(t, name, &pos);
        return s;
}

static void test_doc_example(void **state)
{
        (void)state;
        struct prom_text t;
        assert_int_equal(prom_text_parse(doc_example, strlen(doc_example), NULL, &t), 0);
        assert_int_equal(t.n, 20);
        assert_int_equal(t.bad_total, 0);
        assert_int_equal(t.cut, 0);
        assert_int_equal(t.lines, 36);

        /* A counter with labels and a timestamp; blanks before the value. */
        const struct prom_series *s = nth(&t, "http_requests_total", 1);
        assert_non_null(s);
        assert_int_equal(s->type, PROM_COUNTER);
        assert_string_equal(prom_type_name(s->type), "counter");
        assert_int_equal(s->nlabels, 2);
        assert_string_equal(s->labels[0].name, "method");
        assert_string_equal(prom_label_value(s, "code"), "400");
        assert_null(prom_label_value(s, "handler"));
        assert_true(s->value == 3);
        assert_true(s->has_timestamp);
        assert_true(s->timestamp_ms == 1395066363000LL);
        assert_int_equal(s->line, 4);

        /* Escaped label values: \\, \n and \" come out as the characters. */
        s = nth(&t, "msdos_file_access_time_seconds", 0);
        assert_non_null(s);
        assert_string_equal(prom_label_value(s, "path"), "C:\\DIR\\FILE.TXT");
        assert_string_equal(prom_label_value(s, "error"), "Cannot find file:\n\"FILE.TXT\"");
        assert_true(s->value == 1.458255915e9);
        assert_int_equal(s->type, PROM_UNTYPED);

        s = nth(&t, "metric_without_timestamp_and_labels", 0);
        assert_int_equal(s->nlabels, 0);
        assert_null(s->labels);
        assert_false(s->has_timestamp);
        assert_true(s->value == 12.47);

        /* +Inf as a value, a negative timestamp. */
        s = nth(&t, "something_weird", 0);
        assert_true(isinf(s->value) && s->value > 0);
        assert_true(s->timestamp_ms == -3982045);

        /* Histogram buckets, +Inf included; _sum and _count belong to the family. */
        size_t pos = 0, k = 0;
        double last = -1;
        while ((s = prom_text_next(&t, "http_request_duration_seconds_bucket", &pos))) {
                assert_int_equal(s->type, PROM_HISTOGRAM);
                assert_true(s->value >= last);
                last = s->value;
                k++;
        }
        assert_int_equal(k, 6);
        s = nth(&t, "http_request_duration_seconds_bucket", 5);
        assert_string_equal(prom_label_value(s, "le"), "+Inf");
        assert_true(s->value == 144320);
        assert_int_equal(nth(&t, "http_request_duration_seconds_sum", 0)->type, PROM_HISTOGRAM);
        assert_int_equal(nth(&t, "http_request_duration_seconds_count", 0)->type, PROM_HISTOGRAM);

        /* Summary: quantiles, _sum, _count. */
        s = nth(&t, "rpc_duration_seconds", 4);
        assert_string_equal(prom_label_value(s, "quantile"), "0.99");
        assert_int_equal(s->type, PROM_SUMMARY);
        assert_true(nth(&t, "rpc_duration_seconds_sum", 0)->value == 1.7560473e+07);
        assert_int_equal(nth(&t, "rpc_duration_seconds_count", 0)->type, PROM_SUMMARY);
        assert_null(nth(&t, "rpc_duration_seconds", 5));
        prom_text_free(&t);
}

/* Families as node_exporter serves them (names, labels, number formats); the NaN and -Inf
 * values are put in for the test. */
static const char node_exporter[] =
        "# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n"
        "# TYPE go_gc_duration_seconds summary\n"
        "go_gc_duration_seconds{quantile=\"0\"} 2.3062e-05\n"
        "go_gc_duration_seconds{quantile=\"1\"} 0.000146041\n"
        "go_gc_duration_seconds_sum 0.004330166\n"
        "go_gc_duration_seconds_count 87\n"
        "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
        "# TYPE node_cpu_seconds_total counter\n"
        "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 18227.27\n"
        "node_cpu_seconds_total{cpu=\"0\",mode=\"iowait\"} 4.43\n"
        "# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.\n"
        "# TYPE node_filesystem_avail_bytes gauge\n"
        "node_filesystem_avail_bytes{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} 4.2078932992e+10\n"
        "# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)\n"
        "# TYPE node_hwmon_temp_celsius gauge\n"
        "node_hwmon_temp_celsius{chip=\"platform_coretemp_0\",sensor=\"temp1\"} NaN\n"
        "# HELP node_scrape_collector_duration_seconds node_exporter: Duration of a collector scrape.\n"
        "# TYPE node_scrape_collector_duration_seconds gauge\n"
        "node_scrape_collector_duration_seconds{collector=\"arp\"} -Inf\n";

static void test_node_exporter(void **state)
{
        (void)state;
        struct prom_text t;
        assert_int_equal(prom_text_parse(node_exporter, strlen(node_exporter), NULL, &t), 0);
        assert_int_equal(t.n, 9);
        assert_int_equal(t.bad_total, 0);
        const struct prom_series *s = nth(&t, "node_filesystem_avail_bytes", 0);
        assert_int_equal(s->type, PROM_GAUGE);
        assert_string_equal(prom_label_value(s, "mountpoint"), "/");
        assert_true(s->value == 4.2078932992e+10);
        assert_true(nth(&t, "go_gc_duration_seconds", 0)->value == 2.3062e-05);
        double d;
        assert_int_equal(prom_text_value(&t, "node_hwmon_temp_celsius", &d, NULL), 0);
        assert_true(isnan(d));
        assert_int_equal(prom_text_value(&t, "node_scrape_collector_duration_seconds", &d, NULL), 0);
        assert_true(isinf(d) && d < 0);
        assert_int_equal(prom_text_value(&t, "node_cpu_seconds_total", &d, NULL), 0);
        assert_true(d == 18227.27); /* the first series of the name */
        prom_text_free(&t);
}

/* LavinMQ's PrometheusWriter: # TYPE before # HELP, labels separated by ", "; then lines
 * that are not samples. (This text tested lavinmq_format.c's prom_value before.) */
static const char lavinmq_text[] =
        "# TYPE lavinmq_identity_info gauge\n"
        "# HELP lavinmq_identity_info System information\n"
        "lavinmq_identity_info{lavinmq_version=\"2.4.0\", lavinmq_cluster=\"vm\"} 1\n"
        "# TYPE lavinmq_process_open_fds gauge\n"
        "lavinmq_process_open_fds 57\n"
        "lavinmq_process_max_fds 1048576\n"
        "lavinmq_queue_messages_ready 12\n"
        "lavinmq_queue_messages 15\n"
        "lavinmq_mfile_count 40\n"
        "lavinmq_disk_space_available_bytes 6.442450944e+10\n"
        "telemetry_scrape_duration_seconds 0.0001\n"
        "lavinmq_detailed{queue=\"a}b\", vhost=\"/\"} 7 1700000000000\n"
        "lavinmq_nan NaN\n"
        "lavinmq_bad 12abc\n"
        "lavinmq_badlabel{x=\"unterminated 3\n";

static void test_lavinmq_text(void **state)
{
        (void)state;
        struct prom_text t;
        double d;
        const char *why = NULL;
        assert_int_equal(prom_text_parse(lavinmq_text, strlen(lavinmq_text), NULL, &t), 0);
        assert_int_equal(t.n, 10);
        assert_int_equal(t.bad_total, 2);
        assert_int_equal(prom_text_value(&t, "lavinmq_process_open_fds", &d, NULL), 0);
        assert_true(d == 57);
        assert_int_equal(nth(&t, "lavinmq_process_open_fds", 0)->type, PROM_GAUGE);
        assert_int_equal(nth(&t, "lavinmq_process_max_fds", 0)->type, PROM_UNTYPED); /* no # TYPE of its own */
        assert_int_equal(prom_text_value(&t, "lavinmq_mfile_count", &d, NULL), 0);
        assert_true(d == 40);
        /* A name that is a prefix of another: the exact name only. */
        assert_int_equal(prom_text_value(&t, "lavinmq_queue_messages", &d, NULL), 0);
        assert_true(d == 15);
        assert_int_equal(prom_text_value(&t, "lavinmq_disk_space_available_bytes", &d, NULL), 0);
        assert_true(d == 64424509440.0);
        assert_int_equal(prom_text_value(&t, "lavinmq_identity_info", &d, NULL), 0);
        assert_true(d == 1);
        assert_string_equal(prom_label_value(nth(&t, "lavinmq_identity_info", 0), "lavinmq_cluster"), "vm");
        /* A quoted } in a label, and a timestamp after the value. */
        assert_int_equal(prom_text_value(&t, "lavinmq_detailed", &d, NULL), 0);
        assert_true(d == 7);
        assert_string_equal(prom_label_value(nth(&t, "lavinmq_detailed", 0), "queue"), "a}b");
        assert_int_equal(prom_text_value(&t, "lavinmq_nan", &d, NULL), 0);
        assert_true(isnan(d));
        assert_int_equal(prom_text_value(&t, "lavinmq_uptime", &d, NULL), -ENOENT);
        assert_int_equal(prom_text_value(&t, "lavinmq", &d, NULL), -ENOENT);
        assert_int_equal(prom_text_value(&t, "lavinmq_bad", &d, &why), -EINVAL);
        assert_string_equal(why, "not a number");
        assert_int_equal(prom_text_value(&t, "lavinmq_badlabel", &d, &why), -EINVAL);
        assert_string_equal(why, "unterminated label value");
        assert_int_equal(t.bad[0].line, 14);
        assert_string_equal(t.bad[0].name, "lavinmq_bad");
        assert_int_equal(t.bad[1].line, 15);
        prom_text_free(&t);

        assert_int_equal(prom_text_parse("", 0, NULL, &t), 0);
        assert_int_equal(t.n + t.bad_total, 0);
        assert_int_equal(prom_text_value(&t, "x", &d, NULL), -ENOENT);
        prom_text_free(&t);
        /* JSON where metrics were expected: one bad line, nothing found. */
        assert_int_equal(prom_text_parse("{\"broken\": ", 11, NULL, &t), 0);
        assert_int_equal(t.n, 0);
        assert_int_equal(t.bad_total, 1);
        assert_null(t.bad[0].name);
        assert_int_equal(prom_text_value(&t, "lavinmq_mfile_count", &d, NULL), -ENOENT);
        prom_text_free(&t);
}

/* Every rule, each broken once: the line is listed with why, the good lines around it stay. */
static void test_garbage(void **state)
{
        (void)state;
        static const struct {
                const char *line, *name, *why;
        } cases[] = {
                {"x 12abc", "x", "not a number"},
                {"x 0x1p3", "x", "not a number"},
                {"x 1e400", "x", "a number too large for a double"},
                {"x +nan", "x", "not a number"},
                {"x", "x", "no value"},
                {"x{} ", "x", "no value"},
                {"x 1 2 3", "x", "more after the timestamp"},
                {"x 1 1.5", "x", "a timestamp that is not a whole number of milliseconds"},
                {"x 1 99999999999999999999", "x", "a timestamp that is not a whole number of milliseconds"},
                {"x-y 1", "x", "a metric name with a character no name may have"},
                {"x{a=\"1\"}2", "x", "no blank between the labels and the value"},
                {"x{a=\"1\" 2", "x", "no , or } after a label"},
                {"x{a=1} 2", "x", "a label value not in double quotes"},
                {"x{a} 2", "x", "no = after a label name"},
                {"x{9a=\"1\"} 2", "x", "not a label name"},
                {"x{a:b=\"1\"} 2", "x", "no = after a label name"},
                {"x{a=\"1\",a=\"2\"} 3", "x", "a label given twice"},
                {"x{a=\"\\t\"} 1", "x", "an escape other than \\\\, \\\" or \\n in a label value"},
                {"x{a=\"1\\", "x", "unterminated label value"},
                {"x{a=\"1\",", "x", "unterminated label set"},
                {"9x 1", NULL, "neither a sample nor a comment"},
                {"{a=\"1\"} 1", NULL, "neither a sample nor a comment"},
                {"<html>", NULL, "neither a sample nor a comment"},
                {"# TYPE x bogus", NULL, "# TYPE with an unknown metric type"},
                {"# TYPE x counter extra", NULL, "# TYPE with more after the metric type"},
                {"# TYPE", NULL, "# TYPE without a metric name"},
                {"# HELP 9x text", NULL, "# HELP without a metric name"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *text = xasprintf("good 1\n%s\nafter{b=\"2\"} 2\n", cases[i].line);
                struct prom_text t;
                assert_int_equal(prom_text_parse(text, strlen(text), NULL, &t), 0);
                if (t.nbad != 1 || t.n != 2)
                        fail_msg("'%s': %zu bad, %zu series", cases[i].line, t.nbad, t.n);
                assert_int_equal(t.bad[0].line, 2);
                if (cases[i].name)
                        assert_string_equal(t.bad[0].name, cases[i].name);
                else
                        assert_null(t.bad[0].name);
                assert_string_equal(t.bad[0].why, cases[i].why);
                /* The bad line's labels are not pinned on the next series. */
                const struct prom_series *s = nth(&t, "after", 0);
                assert_int_equal(s->nlabels, 1);
                assert_string_equal(s->labels[0].name, "b");
                prom_text_free(&t);
        }

        /* Blanks wherever tokens meet, a trailing comma, CRLF, other comments: all fine. */
        static const char loose[] = "  x { a = \"1\" , b=\"2\", } \t 5 \t 17 \r\n#just a comment\n# EOF\n\t\ny{} -Inf\r\nz Infinity\n";
        struct prom_text t;
        assert_int_equal(prom_text_parse(loose, strlen(loose), NULL, &t), 0);
        assert_int_equal(t.bad_total, 0);
        assert_int_equal(t.n, 3);
        assert_string_equal(prom_label_value(&t.v[0], "b"), "2");
        assert_true(t.v[0].value == 5 && t.v[0].timestamp_ms == 17);
        assert_true(isinf(t.v[1].value) && t.v[1].value < 0);
        assert_true(isinf(t.v[2].value) && t.v[2].value > 0);
        prom_text_free(&t);

        /* A NUL byte inside a line: that line is bad, the rest is read. */
        static const char nul[] = "a 1\nb\0 2\nc 3\n";
        assert_int_equal(prom_text_parse(nul, sizeof(nul) - 1, NULL, &t), 0);
        assert_int_equal(t.n, 2);
        assert_int_equal(t.bad_total, 1);
        assert_string_equal(t.bad[0].why, "a NUL byte");
        assert_string_equal(t.v[1].name, "c");
        prom_text_free(&t);
}

/* Each limit: what passes it is kept, what breaks it is a bad line (or counted as cut). */
static void test_limits(void **state)
{
        (void)state;
        struct prom_limits lim = {.line_max = 64, .series_max = 3, .labels_max = 2, .label_value_max = 5};
        struct prom_text t;
        struct strbuf b = {0};
        sb_printf(&b, "long{a=\"%s\"} 1\n", "0123456789012345678901234567890123456789012345678901234567890");
        sb_puts(&b, "ok{a=\"12345\",b=\"x\"} 1\n");          /* at the limits */
        sb_puts(&b, "v{a=\"123456\"} 1\n");                 /* a label value one byte too long */
        sb_puts(&b, "l{a=\"1\",b=\"2\",c=\"3\"} 1\n");      /* one label too many */
        sb_puts(&b, "s2 2\n# a comment is not a series\ns3 3\ns4 4\ns5 5\n");
        assert_int_equal(prom_text_parse(b.s, b.len, &lim, &t), 0);
        assert_int_equal(t.n, 3);
        assert_string_equal(t.v[0].name, "ok");
        assert_string_equal(t.v[2].name, "s3");
        assert_int_equal(t.cut, 2);
        assert_int_equal(t.bad_total, 3);
        assert_string_equal(t.bad[0].why, "a line longer than the limit");
        assert_string_equal(t.bad[0].name, "long");
        assert_string_equal(t.bad[1].why, "a label value longer than the limit");
        assert_string_equal(t.bad[2].why, "more labels than the limit");
        prom_text_free(&t);
        sb_free(&b);

        /* An over-long line with the default limits (16 KiB): bad, named, and the next line is read. */
        char *big = xmalloc(40000);
        memcpy(big, "huge{a=\"", 8);
        memset(big + 8, 'x', 20000);
        size_t n = 8 + 20000;
        n += (size_t)snprintf(big + n, 40000 - n, "\"} 1\nnext 2\n");
        assert_int_equal(prom_text_parse(big, n, NULL, &t), 0);
        assert_int_equal(t.bad_total, 1);
        assert_string_equal(t.bad[0].why, "a line longer than the limit");
        double d;
        const char *why;
        assert_int_equal(prom_text_value(&t, "huge", &d, &why), -EINVAL);
        assert_int_equal(prom_text_value(&t, "next", &d, NULL), 0);
        assert_true(d == 2);
        prom_text_free(&t);
        free(big);

        /* Bad lines past series_max are counted, not kept. */
        struct prom_limits one = {.line_max = 100, .series_max = 1, .labels_max = 1, .label_value_max = 1};
        assert_int_equal(prom_text_parse("a x\nb y\nc z\n", 12, &one, &t), 0);
        assert_int_equal(t.nbad, 1);
        assert_int_equal(t.bad_total, 3);
        prom_text_free(&t);

        struct prom_limits zero = {0};
        assert_int_equal(prom_text_parse("a 1\n", 4, &zero, &t), -EINVAL);
        prom_text_free(&t);
}

/* The first line that names a metric decides: a bad one before a good one is an error. */
static void test_value_order(void **state)
{
        (void)state;
        struct prom_text t;
        double d;
        static const char a[] = "m{x=\"1\"} oops\nm 5\n";
        assert_int_equal(prom_text_parse(a, strlen(a), NULL, &t), 0);
        assert_int_equal(prom_text_value(&t, "m", &d, NULL), -EINVAL);
        prom_text_free(&t);
        static const char b[] = "m 5\nm{x=\"1\"} oops\n";
        assert_int_equal(prom_text_parse(b, strlen(b), NULL, &t), 0);
        assert_int_equal(prom_text_value(&t, "m", &d, NULL), 0);
        assert_true(d == 5);
        prom_text_free(&t);
        /* Names that take turns (not grouped as they should be): every series is found. */
        static const char turns[] = "a 1\nb 2\nb 3\na 4\nb 5\n";
        assert_int_equal(prom_text_parse(turns, strlen(turns), NULL, &t), 0);
        size_t pos = 0;
        double seen = 0;
        const struct prom_series *s;
        while ((s = prom_text_next(&t, "a", &pos)))
                seen = seen * 10 + s->value;
        assert_true(seen == 14);
        pos = 0, seen = 0;
        while ((s = prom_text_next(&t, "b", &pos)))
                seen = seen * 10 + s->value;
        assert_true(seen == 235);
        prom_text_free(&t);
        /* A broken # TYPE line names no sample. */
        static const char c[] = "# TYPE m nonsense\nm 6\n";
        assert_int_equal(prom_text_parse(c, strlen(c), NULL, &t), 0);
        assert_int_equal(prom_text_value(&t, "m", &d, NULL), 0);
        assert_true(d == 6);
        assert_int_equal(t.v[0].type, PROM_UNTYPED);
        prom_text_free(&t);
}

/* Random text made of the format's own characters: never a crash (ASan watches), every
 * series well formed, every line accounted for. */
static void test_random_text(void **state)
{
        (void)state;
        static const char alphabet[] = "ab_:09{}=\",\\n #\t.eE+-INfa\r\0x";
        uint32_t seed = 12345;
        struct prom_limits lim = {.line_max = 40, .series_max = 8, .labels_max = 3, .label_value_max = 6};
        for (int round = 0; round < 3000; round++) {
                char text[256];
                seed = seed * 1103515245u + 12345u;
                size_t len = (seed >> 16) % sizeof(text);
                for (size_t i = 0; i < len; i++) {
                        seed = seed * 1103515245u + 12345u;
                        text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
                }
                struct prom_text t;
                assert_int_equal(prom_text_parse(text, len, round % 2 ? &lim : NULL, &t), 0);
                assert_true(t.n + t.bad_total + t.cut <= t.lines);
                for (size_t i = 0; i < t.n; i++) {
                        const struct prom_series *s = &t.v[i];
                        assert_true(*s->name && s->line >= 1 && s->line <= t.lines);
                        for (size_t k = 0; k < s->nlabels; k++)
                                assert_non_null(prom_label_value(s, s->labels[k].name));
                }
                prom_text_free(&t);
        }
}

static double quantile(const char *text, const char *name, double q, int *rc, double *count, const char **why)
{
        struct prom_text t;
        assert_int_equal(prom_text_parse(text, strlen(text), NULL, &t), 0);
        double v = -12345;
        *rc = prom_histogram_quantile(&t, name, q, &v, count, why);
        prom_text_free(&t);
        return v;
}

/* The values PromQL's histogram_quantile gives for the same buckets (hand-computed
 * with promql/quantile.go's bucketQuantile). */
static void test_histogram_quantile(void **state)
{
        (void)state;
        int rc;
        double cnt = 0;
        const char *why = NULL;
        /* Prometheus's own example: p50 inside (0.1, 0.2]; p95 lands in +Inf -> 1. */
        double v = quantile(doc_example, "http_request_duration_seconds", 0.5, &rc, &cnt, &why);
        assert_int_equal(rc, 0);
        assert_true(fabs(v - (0.1 + 0.1 * (72160.0 - 33444.0) / (100392.0 - 33444.0))) < 1e-12);
        assert_true(cnt == 144320);
        v = quantile(doc_example, "http_request_duration_seconds", 0.95, &rc, NULL, NULL);
        assert_int_equal(rc, 0);
        assert_true(v == 1);
        /* The first bucket interpolates from 0; series with other labels are summed per
         * le (sum by (le)), in any order; a count that goes down is made monotonic. */
        static const char summed[] = "# TYPE lat histogram\n"
                                     "lat_bucket{c=\"a\",le=\"+Inf\"} 10\n"
                                     "lat_bucket{c=\"a\",le=\"1e-05\"} 5\n"
                                     "lat_bucket{c=\"a\",le=\"2e-05\"} 4\n"
                                     "lat_bucket{c=\"b\",le=\"1e-05\"} 5\n"
                                     "lat_bucket{c=\"b\",le=\"2e-05\"} 10\n"
                                     "lat_bucket{c=\"b\",le=\"+Inf\"} 10\n"
                                     "lat_sum 1\nlat_count 20\n";
        /* le 1e-05: 10, 2e-05: 14 (monotonic: c=a's 4 is below its 5, kept as summed), +Inf 20 */
        v = quantile(summed, "lat", 0.25, &rc, &cnt, NULL);
        assert_int_equal(rc, 0);
        assert_true(cnt == 20);
        assert_true(fabs(v - 0.5e-05) < 1e-15);
        v = quantile(summed, "lat", 0.6, &rc, NULL, NULL); /* rank 12: 1e-05 + 1e-05 * 2/4 */
        assert_true(fabs(v - 1.5e-05) < 1e-15);
        v = quantile(summed, "lat", 0.99, &rc, NULL, NULL);
        assert_true(v == 2e-05);
        v = quantile(summed, "lat", 1.5, &rc, NULL, NULL);
        assert_true(isinf(v) && v > 0);
        v = quantile(summed, "lat", -1, &rc, NULL, NULL);
        assert_true(isinf(v) && v < 0);
        static const char mono[] = "m_bucket{le=\"1\"} 8\nm_bucket{le=\"2\"} 4\nm_bucket{le=\"+Inf\"} 10\n";
        v = quantile(mono, "m", 0.9, &rc, NULL, NULL); /* 2 -> 8: rank 9 is in +Inf */
        assert_true(v == 2);
        /* No observations: NaN, as PromQL. */
        v = quantile("z_bucket{le=\"1\"} 0\nz_bucket{le=\"+Inf\"} 0\n", "z", 0.5, &rc, &cnt, NULL);
        assert_int_equal(rc, 0);
        assert_true(isnan(v) && cnt == 0);
        /* What cannot give a quantile. */
        quantile(doc_example, "no_such", 0.5, &rc, NULL, NULL);
        assert_int_equal(rc, -ENOENT);
        quantile("x_bucket{le=\"1\"} 3\nx_bucket{le=\"2\"} 4\n", "x", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(why, "no +Inf bucket");
        quantile("x_bucket{le=\"+Inf\"} 4\n", "x", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(why, "fewer than two buckets");
        quantile("x_bucket{le=\"one\"} 3\nx_bucket{le=\"+Inf\"} 4\n", "x", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        quantile("x_bucket 3\nx_bucket{le=\"+Inf\"} 4\n", "x", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        quantile("x_bucket{le=\"1\"} NaN\nx_bucket{le=\"+Inf\"} 4\n", "x", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        quantile(summed, "lat", NAN, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        /* More distinct bounds than kept. */
        struct strbuf b = {0};
        for (int i = 0; i <= PROM_BUCKETS_MAX; i++)
                sb_printf(&b, "big_bucket{le=\"%d\"} %d\n", i, i);
        sb_printf(&b, "big_bucket{le=\"+Inf\"} 1e6\n");
        _cleanup_free_ char *big = sb_steal(&b);
        quantile(big, "big", 0.5, &rc, NULL, &why);
        assert_int_equal(rc, -EINVAL);
        assert_string_equal(why, "more buckets than evodiag reads");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_doc_example),
                cmocka_unit_test(test_node_exporter),
                cmocka_unit_test(test_lavinmq_text),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_value_order),
                cmocka_unit_test(test_random_text),
                cmocka_unit_test(test_histogram_quantile),
        };
        return cmocka_run_group_tests_name("prometheus_text", tests, NULL, NULL);
}
