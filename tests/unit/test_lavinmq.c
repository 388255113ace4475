/* lavinmq collector: INI, command line, .lock, API JSON (real-shaped and broken),
 * /proc/net/tcp, the map-need rule, the verdicts check() and sample() share, and
 * check() against sample() on a fixture root. (Its Prometheus text: test_prometheus_text.) */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/collector.h"
#include "collectors/lavinmq.h"
#include "lib/conffile.h"
#include "lib/procfs.h"
#include "lib/sample.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

extern const struct collector lavinmq_collector;

/* extras/lavinmq.ini as packaged upstream (cloudamqp/lavinmq). */
static const char packaged_ini[] =
        "[main]\n"
        "data_dir = /var/lib/lavinmq\n"
        "log_level = info\n"
        ";pidfile = /var/run/lavinmq.pid\n"
        ";tls_cert = /etc/lavinmq/cert.pem\n"
        "\n"
        "[mgmt]\n"
        "bind = ::\n"
        ";port = 15672\n"
        "\n"
        "[amqp]\n"
        "bind = ::\n"
        ";port = 5672\n"
        "\n"
        "[mqtt]\n"
        "bind = ::\n"
        ";port = 1883\n"
        "\n"
        "[clustering]\n"
        "enabled = false\n"
        "bind = ::\n";

static void test_conf_defaults(void **state)
{
        (void)state;
        struct lavinmq_conf c;
        lavinmq_conf_init(&c);
        assert_int_equal(lavinmq_conf_parse("", &c), 0);
        assert_string_equal(c.data_dir, "/var/lib/lavinmq");
        assert_string_equal(c.control_unix_path, "/tmp/lavinmqctl.sock");
        assert_string_equal(c.metrics_bind, "127.0.0.1");
        assert_int_equal(c.metrics_port, 15692);
        assert_int_equal(c.amqp_port, 5672);
        assert_int_equal(c.mgmt_port, 15672);
        struct lavinmq_listener L[8];
        /* Without [mqtt] and TLS: amqp, mgmt, metrics. */
        assert_int_equal(lavinmq_listeners(&c, L, 8), 3);
        assert_string_equal(L[0].name, "amqp");
        assert_string_equal(L[1].name, "mgmt");
        assert_string_equal(L[2].name, "metrics");
        assert_int_equal(L[2].port, 15692);
        lavinmq_conf_free(&c);
}

static void test_conf_packaged(void **state)
{
        (void)state;
        struct lavinmq_conf c;
        lavinmq_conf_init(&c);
        assert_int_equal(lavinmq_conf_parse(packaged_ini, &c), 0);
        assert_string_equal(c.amqp_bind, "::");
        assert_string_equal(c.mgmt_bind, "::");
        assert_true(c.mqtt_section);
        assert_false(c.clustering);
        assert_false(c.tls);
        assert_null(c.bad);
        assert_int_equal(c.keys, 7);
        struct lavinmq_listener L[8];
        size_t n = lavinmq_listeners(&c, L, 8);
        assert_int_equal(n, 4);
        assert_string_equal(L[2].name, "mqtt");
        assert_string_equal(L[2].bind, "::");
        assert_int_equal(L[2].port, 1883);
        lavinmq_conf_free(&c);
}

static void test_conf_custom(void **state)
{
        (void)state;
        struct lavinmq_conf c;
        lavinmq_conf_init(&c);
        const char *ini = "[main]\n"
                          "data_dir = /srv/mq\n"
                          "control_unix_path = /run/lavinmq/ctl.sock\n"
                          "metrics_http_port = -1\n"
                          "tls_cert = /etc/lavinmq/cert.pem\n"
                          "default_password_hash = +pHuxkR9fCyrrwXjOD4BP4XbzO3l8LJr8YkThMgJ0yVHFRE+\n"
                          "free_disk_min = 1073741824\n"
                          "[amqp]\nport = 5673\ntls_port = -1\n"
                          "[mgmt]\nbind = 0.0.0.0\nport = 15673\n"
                          "[clustering]\nenabled = true\nport = 5680\n"
                          "[oauth]\nissuer = https://x\n";
        assert_int_equal(lavinmq_conf_parse(ini, &c), 0);
        assert_string_equal(c.data_dir, "/srv/mq");
        assert_string_equal(c.control_unix_path, "/run/lavinmq/ctl.sock");
        assert_int_equal(c.metrics_port, -1);
        assert_true(c.tls);
        assert_true(c.password_hash_set);
        assert_int_equal(c.free_disk_min, 1073741824);
        assert_true(c.clustering);
        struct lavinmq_listener L[8];
        size_t n = lavinmq_listeners(&c, L, 8);
        /* amqp 5673, (amqps disabled), mgmt, mgmts (TLS), no metrics, clustering */
        assert_int_equal(n, 4);
        assert_string_equal(L[0].name, "amqp");
        assert_int_equal(L[0].port, 5673);
        assert_string_equal(L[1].name, "mgmt");
        assert_string_equal(L[1].bind, "0.0.0.0");
        assert_string_equal(L[2].name, "mgmts");
        assert_int_equal(L[2].port, 15671);
        assert_string_equal(L[3].name, "clustering");
        assert_int_equal(L[3].port, 5680);
        lavinmq_conf_free(&c);
}

static void test_conf_broken(void **state)
{
        (void)state;
        struct lavinmq_conf c;
        lavinmq_conf_init(&c);
        assert_int_equal(lavinmq_conf_parse("[amqp]\nport = fifty\n[mgmt]\nport = 99999\n", &c), 0);
        assert_string_equal(c.bad, "[amqp] port = 'fifty' is not a port (-1 disables)");
        assert_int_equal(c.amqp_port, 5672); /* the default stays */
        assert_int_equal(c.mgmt_port, 15672);
        lavinmq_conf_free(&c);

        lavinmq_conf_init(&c);
        assert_int_equal(lavinmq_conf_parse("[main]\ndata_dir = /a\nthis line is junk\n[mgmt\nport = 1\n", &c), 3);
        assert_int_equal(c.syntax_line, 3);
        assert_string_equal(c.data_dir, "/a"); /* read up to the error and beyond */
        lavinmq_conf_free(&c);

        lavinmq_conf_init(&c);
        static const char bin[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0";
        assert_true(lavinmq_conf_parse(bin, &c) >= 0);
        lavinmq_conf_free(&c);
}

static void test_cmdline(void **state)
{
        (void)state;
        char *cf, *dd;
        static const char a[] = "/usr/bin/lavinmq\0-c\0/etc/lavinmq/lavinmq.ini\0";
        lavinmq_cmdline(a, sizeof(a) - 1, &cf, &dd);
        assert_string_equal(cf, "/etc/lavinmq/lavinmq.ini");
        assert_null(dd);
        free(cf);

        static const char b[] = "lavinmq\0--config=/x.ini\0-D\0/data\0--data-dir=/data2";
        lavinmq_cmdline(b, sizeof(b) - 1, &cf, &dd); /* no final NUL: a truncated read */
        assert_string_equal(cf, "/x.ini");
        assert_string_equal(dd, "/data2");
        free(cf);
        free(dd);

        static const char c[] = "lavinmq\0-D/d\0-c/c.ini\0--\0-D\0/not\0";
        lavinmq_cmdline(c, sizeof(c) - 1, &cf, &dd);
        assert_string_equal(cf, "/c.ini");
        assert_string_equal(dd, "/d");
        free(cf);
        free(dd);

        static const char d[] = "lavinmq\0-c\0";
        lavinmq_cmdline(d, sizeof(d) - 1, &cf, &dd);
        assert_null(cf);
        assert_null(dd);
        lavinmq_cmdline("", 0, &cf, &dd);
        assert_null(cf);
}

static void test_lock(void **state)
{
        (void)state;
        int pid;
        char host[64];
        assert_int_equal(lavinmq_lock_parse("PID 1234 @ mq-1.example.com", &pid, host, sizeof(host)), 0);
        assert_int_equal(pid, 1234);
        assert_string_equal(host, "mq-1.example.com");
        assert_int_equal(lavinmq_lock_parse("PID 7 @ h\n", &pid, host, sizeof(host)), 0);
        assert_int_equal(lavinmq_lock_parse("PID -1 @ h", &pid, host, sizeof(host)), -EINVAL);
        assert_int_equal(lavinmq_lock_parse("PID 12 @ h extra", &pid, host, sizeof(host)), -EINVAL);
        assert_int_equal(lavinmq_lock_parse("", &pid, host, sizeof(host)), -EINVAL);
        assert_int_equal(lavinmq_lock_parse("\x01\x02garbage", &pid, host, sizeof(host)), -EINVAL);
}

/* What tests/helpers/fake_lavinmq.py (and LavinMQ's MainController) sends. */
static const char overview_json[] =
        "{\"lavinmq_version\": \"2.4.0\", \"product_name\": \"LavinMQ\", \"node\": \"vm\", \"uptime\": 102, "
        "\"object_totals\": {\"channels\": 4, \"connections\": 3, \"consumers\": 2, \"exchanges\": 8, \"queues\": 5, \"bindings\": 11}, "
        "\"queue_totals\": {\"messages\": 15, \"messages_ready\": 12, \"messages_unacknowledged\": 3}, "
        "\"message_stats\": {\"ack\": 0, \"ack_details\": {\"rate\": 0.0, \"log\": []}}, "
        "\"listeners\": [{\"ip_address\": \"127.0.0.1\", \"protocol\": \"amqp\", \"port\": 5672}]}";
static const char nodes_json[] =
        "[{\"uptime\": 102906, \"running\": true, \"name\": \"vm\", \"applications\": [{\"name\": \"lavinmq\"}], "
        "\"os_pid\": \"30617\", \"fd_total\": 1048576, \"fd_used\": 57, \"mem_limit\": 8589934592, \"mem_used\": 188743680, "
        "\"db_dir\": \"/var/lib/lavinmq\", \"disk_total\": 107374182400, \"disk_free\": 64424509440, \"followers\": [], "
        "\"messages_ready\": 12, \"messages_unacknowledged\": 3}]";

static void test_overview(void **state)
{
        (void)state;
        struct lavinmq_api a;
        char *err;
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_overview(overview_json, strlen(overview_json), &a, &err), 0);
        assert_null(err);
        assert_string_equal(a.product, "LavinMQ");
        assert_string_equal(a.version, "2.4.0");
        assert_string_equal(a.node, "vm");
        assert_int_equal(a.uptime_s, 102);
        assert_int_equal(a.connections, 3);
        assert_int_equal(a.consumers, 2);
        assert_int_equal(a.queues, 5);
        assert_int_equal(a.channels, 4);
        assert_int_equal(a.messages_ready, 12);
        assert_int_equal(a.messages_unacked, 3);
        assert_int_equal(a.fd_used, -1); /* not in the overview */

        /* RabbitMQ's management plugin: same routes, rabbitmq_version. */
        const char *rmq = "{\"management_version\":\"3.12.1\",\"rabbitmq_version\":\"3.12.1\",\"node\":\"rabbit@h\","
                          "\"object_totals\":{\"channels\":1,\"connections\":1,\"consumers\":0,\"exchanges\":7,\"queues\":2},"
                          "\"queue_totals\":{\"messages\":5,\"messages_ready\":5,\"messages_unacknowledged\":0}}";
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_overview(rmq, strlen(rmq), &a, &err), 0);
        assert_string_equal(a.product, "RabbitMQ");
        assert_string_equal(a.version, "3.12.1");
        assert_int_equal(a.messages_ready, 5);

        /* Doubles where integers are expected, and no queue_totals. */
        const char *dbl = "{\"object_totals\":{\"connections\":3.0,\"consumers\":\"2\",\"queues\":null}}";
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_overview(dbl, strlen(dbl), &a, &err), 0);
        assert_int_equal(a.connections, 3);
        assert_int_equal(a.consumers, 2);
        assert_int_equal(a.queues, -1);
        assert_int_equal(a.messages_ready, -1);
        assert_string_equal(a.product, "");
}

/* Numbers no broker can report are left out (-1) and named, never cast (1e308 was "0 B free"). */
static void test_api_impossible_numbers(void **state)
{
        struct lavinmq_api a;
        char *err = NULL;
        const char *ov = "{\"object_totals\":{\"connections\":\"many\",\"channels\":NaN,\"consumers\":1e308,"
                         "\"queues\":-5,\"exchanges\":2.5},\"queue_totals\":{\"messages_ready\":18446744073709551615,"
                         "\"messages_unacknowledged\":{}},\"uptime\":-Infinity}";
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_overview(ov, strlen(ov), &a, &err), 0);
        assert_true(a.connections == -1 && a.channels == -1 && a.consumers == -1 && a.queues == -1 && a.exchanges == -1);
        assert_true(a.messages_ready == -1 && a.messages_unacked == -1 && a.uptime_s == -1);
        assert_int_equal(a.ninvalid, 8);
        const char *want[][2] = {
                {"/api/overview uptime", "-inf"},
                {"/api/overview object_totals connections", "'many'"},
                {"/api/overview object_totals channels", "nan"},
                {"/api/overview object_totals consumers", "1e+308"},
                {"/api/overview object_totals queues", "-5"},
                {"/api/overview object_totals exchanges", "2.5"},
                {"/api/overview queue_totals messages_ready", "18446744073709551615"},
                {"/api/overview queue_totals messages_unacknowledged", "a JSON object"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                assert_string_equal(a.invalid[i].src, want[i][0]);
                assert_string_equal(a.invalid[i].value, want[i][1]);
        }
        const char *nodes = "[{\"name\":\"n\",\"fd_used\":-5,\"fd_total\":1024,\"disk_free\":1e308,\"disk_total\":null,"
                            "\"mem_used\":\"12\",\"mem_limit\":true}]";
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_nodes(nodes, strlen(nodes), &a, &err), 0);
        assert_true(a.fd_used == -1 && a.fd_total == 1024 && a.disk_free == -1 && a.disk_total == -1);
        assert_true(a.mem_used == 12 && a.mem_limit == -1);
        assert_int_equal(a.ninvalid, 3);
        assert_string_equal(a.invalid[1].src, "/api/nodes mem_limit");
        assert_string_equal(a.invalid[1].value, "a JSON boolean");
        assert_string_equal(a.invalid[2].src, "/api/nodes disk_free");
        assert_string_equal(a.invalid[2].value, "1e+308");
        /* Metrics: whole numbers below 2^64 only. */
        uint64_t u;
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_metric_u64(&a, "lavinmq_disk_space_available_bytes", 64424509440.0, &u), 0);
        assert_true(u == 64424509440ull);
        assert_int_equal(lavinmq_metric_u64(&a, "lavinmq_disk_space_available_bytes", 1e308, &u), -ERANGE);
        assert_int_equal(lavinmq_metric_u64(&a, "lavinmq_process_open_fds", NAN, &u), -ERANGE);
        assert_int_equal(lavinmq_metric_u64(&a, "lavinmq_mfile_count", -5, &u), -ERANGE);
        assert_int_equal(a.ninvalid, 3);
        assert_string_equal(a.invalid[0].src, "/metrics lavinmq_disk_space_available_bytes");
        assert_string_equal(a.invalid[0].value, "1e+308");
        /* More than the struct keeps: counted. */
        for (int k = 0; k < 10; k++)
                lavinmq_invalid(&a, "/metrics x", "-1");
        assert_int_equal(a.ninvalid, 13);
}

static void expect_bad_overview(const char *body, const char *want)
{
        struct lavinmq_api a;
        char *err = NULL;
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_overview(body, strlen(body), &a, &err), -EINVAL);
        assert_non_null(err);
        assert_string_equal(err, want);
        free(err);
}

static void test_overview_invalid(void **state)
{
        (void)state;
        /* fake_lavinmq.py --scenario invalid-json */
        expect_bad_overview("{\"broken\": ", "not JSON: the reply ends early (11 bytes)");
        expect_bad_overview("", "not JSON: the reply ends early (0 bytes)");
        expect_bad_overview("<html>502 Bad Gateway</html>", "not JSON: unexpected character at byte 0");
        expect_bad_overview("{\"a\":1} trailing", "not JSON: garbage after the value at byte 8");
        expect_bad_overview("[1,2]", "/api/overview is a JSON array, not an object");
        expect_bad_overview("{\"node\":\"x\"}", "/api/overview has no object_totals: not a LavinMQ/RabbitMQ management API");
        expect_bad_overview("{\"object_totals\": 5}", "/api/overview has no object_totals: not a LavinMQ/RabbitMQ management API");
}

static void test_nodes(void **state)
{
        (void)state;
        struct lavinmq_api a;
        char *err;
        lavinmq_api_init(&a);
        snprintf(a.node, sizeof(a.node), "vm");
        assert_int_equal(lavinmq_parse_nodes(nodes_json, strlen(nodes_json), &a, &err), 0);
        assert_int_equal(a.fd_used, 57);
        assert_int_equal(a.fd_total, 1048576);
        assert_int_equal(a.mem_used, 188743680);
        assert_int_equal(a.mem_limit, 8589934592LL);
        assert_int_equal(a.disk_free, 64424509440LL);
        assert_int_equal(a.disk_total, 107374182400LL);
        assert_int_equal(a.followers, 0);
        assert_true(a.admin_fields);
        assert_false(a.disk_alarm);

        /* A user without the administrator tag: only uptime, running, name. */
        const char *plain = "[{\"uptime\": 5, \"running\": true, \"name\": \"vm\", \"applications\": []}]";
        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_nodes(plain, strlen(plain), &a, &err), 0);
        assert_false(a.admin_fields);
        assert_int_equal(a.fd_used, -1);

        /* Several nodes: the overview's node is taken; RabbitMQ's alarms. */
        const char *two = "[{\"name\":\"a\",\"fd_used\":1,\"fd_total\":10},"
                          "{\"name\":\"rabbit@h\",\"fd_used\":9,\"fd_total\":10,\"disk_free_alarm\":true,\"mem_alarm\":false,"
                          "\"followers\":[{\"id\":1},{\"id\":2}]}]";
        lavinmq_api_init(&a);
        snprintf(a.node, sizeof(a.node), "rabbit@h");
        assert_int_equal(lavinmq_parse_nodes(two, strlen(two), &a, &err), 0);
        assert_int_equal(a.fd_used, 9);
        assert_true(a.disk_alarm);
        assert_false(a.mem_alarm);
        assert_int_equal(a.followers, 2);

        lavinmq_api_init(&a);
        assert_int_equal(lavinmq_parse_nodes("[]", 2, &a, &err), -EINVAL);
        assert_string_equal(err, "/api/nodes is an empty array");
        free(err);
        assert_int_equal(lavinmq_parse_nodes("{\"a\":1}", 7, &a, &err), -EINVAL);
        assert_string_equal(err, "/api/nodes is a JSON object, not an array");
        free(err);
        assert_int_equal(lavinmq_parse_nodes("[1]", 3, &a, &err), -EINVAL);
        assert_string_equal(err, "/api/nodes[0] is not an object");
        free(err);
        assert_int_equal(lavinmq_parse_nodes("[{", 2, &a, &err), -EINVAL);
        free(err);
}

/* /proc/net/tcp as the kernel prints it (copied from a Debian 12 host). */
static const char tcp4[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:9FE7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 167983 1 00000000b0bcefa2 100 0 0 10 0\n"
        "   1: 00000000:1628 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 264190 1 00000000a892e809 100 0 0 10 0\n"
        "   2: 0100007F:1628 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000   998        0 264187 1 0000000089a9ac6f 20 4 30 10 -1\n"
        "   3: garbage line\n"
        "   4: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        "\n";
static const char tcp6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:3D48 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 1 1 0 100 0 0 10 0\n"
        "   1: 0000000000000000FFFF00000100007F:075B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 2 1 0 100 0 0 10 0\n"
        "   2: 00000000000000000000000001000000:3D8C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 3 1 0 100 0 0 10 0\n";

static void test_tcp(void **state)
{
        (void)state;
        struct tcp_listen *v = NULL, *w = NULL;
        size_t bad;
        assert_int_equal(tcp_listeners_parse(tcp4, false, &v, &bad), 2);
        assert_int_equal(bad, 2);
        assert_int_equal(v[0].port, 0x9FE7);
        assert_int_equal(v[1].port, 5672);
        assert_int_equal(v[0].addr[0], 127);
        assert_int_equal(v[0].addr[3], 1);
        assert_true(tcp_listening(v, 2, "127.0.0.1", 5672));   /* 0.0.0.0 covers 127.0.0.1 */
        assert_true(tcp_listening(v, 2, "0.0.0.0", 0x9FE7));
        assert_true(tcp_listening(v, 2, "127.0.0.1", 0x9FE7));
        assert_false(tcp_listening(v, 2, "10.0.0.1", 0x9FE7)); /* another address */
        assert_false(tcp_listening(v, 2, "127.0.0.1", 15672));
        assert_true(tcp_listening(v, 2, "localhost", 5672));    /* a name: the port decides */

        assert_int_equal(tcp_listeners_parse(tcp6, true, &w, &bad), 3);
        assert_int_equal(bad, 0);
        assert_true(tcp_listening(w, 3, "::", 15688));
        assert_true(tcp_listening(w, 3, "127.0.0.1", 15688));   /* [::]:15688 is dual-stack */
        assert_true(tcp_listening(w, 3, "127.0.0.1", 1883));    /* ::ffff:127.0.0.1 */
        assert_false(tcp_listening(w, 3, "127.0.0.2", 1883));
        assert_true(tcp_listening(w, 3, "::1", 15756));
        assert_false(tcp_listening(w, 3, "::2", 15756));
        assert_false(tcp_listening(NULL, 0, "::", 1));
        free(v);
        free(w);

        assert_int_equal(tcp_listeners_parse("", false, &v, &bad), -EINVAL);
        assert_int_equal(tcp_listeners_parse("garbage\n0: 0100007F:1628 0 0A\n", false, &v, &bad), -EINVAL);
        /* A tcp6 line given as tcp: every line is malformed, none is trusted. */
        assert_int_equal(tcp_listeners_parse(tcp6, false, &v, &bad), 0);
        assert_int_equal(bad, 3);
        free(v);
        /* Header only. */
        assert_int_equal(tcp_listeners_parse("  sl  local_address rem_address   st\n", false, &v, &bad), 0);
        free(v);
}

static void test_map_need(void **state)
{
        (void)state;
        assert_int_equal(lavinmq_map_need(0, 0, 0), 0);
        assert_int_equal(lavinmq_map_need(3, 2, 5), 3 * 2 + 2 * 2 + 5 * 4);
        assert_int_equal(lavinmq_map_need(10000, 20000, 5000), 80000);
        assert_true(lavinmq_map_need(UINT64_MAX / 2, 1, 1) == UINT64_MAX);
        assert_true(lavinmq_map_need(1, 1, UINT64_MAX / 3) == UINT64_MAX);
}

/* ---- the verdicts check() and sample() share ---- */

static void test_verdict_process(void **state)
{
        (void)state;
        assert_int_equal(lavinmq_process_verdict(true, true, false, 3), SEV_OK);
        assert_int_equal(lavinmq_process_verdict(false, true, true, 0), SEV_CRIT);   /* installed, not running */
        assert_int_equal(lavinmq_process_verdict(false, false, false, 0), SEV_WARN); /* a .lock left behind */
        assert_int_equal(lavinmq_process_verdict(false, false, false, 2), SEV_WARN);
        assert_int_equal(lavinmq_process_verdict(false, false, true, 0), SEV_INFO);  /* nothing here: an API named elsewhere */
        assert_int_equal(lavinmq_process_verdict(false, false, true, 1), SEV_INFO);  /* only an impostor */
}

static void test_verdict_api(void **state)
{
        (void)state;
        assert_int_equal(lavinmq_api_verdict(API_NOT_LIVE, 0, true, false), SEV_SKIPPED);
        assert_int_equal(lavinmq_api_verdict(API_NOT_CONFIGURED, 0, true, false), SEV_INFO);
        assert_int_equal(lavinmq_api_verdict(API_OUT_OF_TIME, 0, true, false), SEV_UNKNOWN);
        assert_int_equal(lavinmq_api_verdict(API_WITHHELD, 0, true, false), SEV_WARN);
        assert_int_equal(lavinmq_api_verdict(API_OK, 200, true, false), SEV_OK);
        assert_int_equal(lavinmq_api_verdict(API_OK, 200, true, true), SEV_INFO); /* no administrator tag */
        assert_int_equal(lavinmq_api_verdict(API_REFUSED, 401, true, false), SEV_WARN);
        assert_int_equal(lavinmq_api_verdict(API_HTTP_ERROR, 404, true, false), SEV_WARN);
        assert_int_equal(lavinmq_api_verdict(API_HTTP_ERROR, 503, true, false), SEV_CRIT);
        assert_int_equal(lavinmq_api_verdict(API_HTTP_ERROR, 503, false, false), SEV_INFO);
        assert_int_equal(lavinmq_api_verdict(API_DOWN, 0, true, false), SEV_CRIT); /* runs, does not answer */
        assert_int_equal(lavinmq_api_verdict(API_DOWN, 0, false, false), SEV_INFO);
        assert_int_equal(lavinmq_api_verdict(API_BAD_REPLY, 200, true, false), SEV_CRIT);
}

static void test_verdict_fds(void **state)
{
        (void)state;
        struct lavinmq_use v[3];
        enum severity sev = _SEV_MAX;
        /* Every source: /proc 10 of 100, the API 57 of 1048576, the metrics 1003 of 1024 decides. */
        struct lavinmq_fd_in in = {.pid = 42, .fds = 10, .soft = 100, .hard = 200, .api_used = 57, .api_total = 1048576,
                                   .m_open = 1003, .m_max = 1024};
        assert_int_equal(lavinmq_fd_uses(&in, v), 3);
        assert_string_equal(v[0].src, "/proc/42/fd");
        assert_string_equal(v[1].src, "/api/nodes fd_used/fd_total");
        assert_string_equal(v[2].src, "metrics process_open_fds/process_max_fds");
        const struct lavinmq_use *x = lavinmq_use_verdict(v, 3, 80, 95, &sev);
        assert_ptr_equal(x, &v[2]);
        assert_int_equal(sev, SEV_CRIT);
        assert_true(v[0].pct == 10.0);
        /* No broker, no API, no metrics: nothing to judge. */
        struct lavinmq_fd_in none = {.api_used = -1, .api_total = -1, .m_open = NAN, .m_max = NAN};
        assert_int_equal(lavinmq_fd_uses(&none, v), 0);
        assert_null(lavinmq_use_verdict(v, 0, 80, 95, &sev));
        /* /proc unreadable (-EACCES) or its limit unknown: the API alone. */
        in = (struct lavinmq_fd_in){.pid = 42, .fds = -EACCES, .api_used = 850, .api_total = 1000, .m_open = NAN, .m_max = NAN};
        assert_int_equal(lavinmq_fd_uses(&in, v), 1);
        x = lavinmq_use_verdict(v, 1, 80, 95, &sev);
        assert_int_equal(sev, SEV_WARN);
        in = (struct lavinmq_fd_in){.pid = 42, .fds = 5, .limit_err = -ENOENT, .api_used = -1, .api_total = -1, .m_open = NAN, .m_max = NAN};
        assert_int_equal(lavinmq_fd_uses(&in, v), 0);
        /* A count that reached its bound under the threshold says nothing; over it, it does. */
        in = (struct lavinmq_fd_in){.pid = 42, .fds = 700, .fds_at_least = true, .soft = 1000, .api_used = -1, .api_total = -1,
                                    .m_open = NAN, .m_max = NAN};
        assert_int_equal(lavinmq_fd_uses(&in, v), 1);
        assert_true(v[0].at_least);
        lavinmq_use_verdict(v, 1, 80, 95, &sev);
        assert_int_equal(sev, SEV_UNKNOWN);
        in.fds = 960;
        lavinmq_fd_uses(&in, v);
        lavinmq_use_verdict(v, 1, 80, 95, &sev);
        assert_int_equal(sev, SEV_CRIT);
        /* No limit: never a problem. */
        in = (struct lavinmq_fd_in){.pid = 42, .fds = 1 << 20, .soft = LIMIT_UNLIMITED, .api_used = -1, .api_total = -1,
                                    .m_open = NAN, .m_max = NAN};
        lavinmq_fd_uses(&in, v);
        lavinmq_use_verdict(v, 1, 80, 95, &sev);
        assert_int_equal(sev, SEV_OK);

        /* The limit: /proc first, then the API, then the metrics. */
        uint64_t soft, hard;
        char buf[64];
        in = (struct lavinmq_fd_in){.pid = 42, .soft = 1024, .hard = 4096, .api_total = 2048, .m_max = 8192};
        assert_string_equal(lavinmq_fd_limit_source(&in, &soft, &hard, buf), "/proc/42/limits");
        assert_true(soft == 1024 && hard == 4096);
        assert_int_equal(lavinmq_fd_limit_verdict(soft, 1025), SEV_WARN);
        in.limit_err = -EACCES;
        assert_string_equal(lavinmq_fd_limit_source(&in, &soft, &hard, buf), "/api/nodes fd_total");
        assert_true(soft == 2048 && hard == 0);
        in.api_total = -1;
        assert_string_equal(lavinmq_fd_limit_source(&in, &soft, &hard, buf), "metrics process_max_fds");
        assert_true(soft == 8192);
        in.m_max = NAN;
        assert_null(lavinmq_fd_limit_source(&in, &soft, &hard, buf));
        assert_int_equal(lavinmq_fd_limit_verdict(1025, 1025), SEV_OK);
        assert_int_equal(lavinmq_fd_limit_verdict(LIMIT_UNLIMITED, 1025), SEV_OK);
}

static void test_verdict_maps(void **state)
{
        (void)state;
        struct lavinmq_use v[3];
        enum severity sev;
        /* LavinMQ's rule on the API's counts, its mapped files, its map areas. */
        struct lavinmq_map_in in = {.pid = 7, .maps = 500, .connections = 100, .consumers = 50, .queues = 200, .mfile = 40};
        assert_int_equal(lavinmq_map_uses(&in, 1000, v), 3);
        assert_string_equal(v[0].what, "predicted map need");
        assert_int_equal(v[0].used, 100 * 2 + 50 * 2 + 200 * 4);
        assert_string_equal(v[0].src, "predicted need (100 connections*2 + 50 consumers*2 + 200 queues*4)");
        assert_string_equal(v[1].what, "memory-mapped files");
        assert_string_equal(v[2].src, "map areas in /proc/7/maps");
        const struct lavinmq_use *x = lavinmq_use_verdict(v, 3, 75, 90, &sev);
        assert_ptr_equal(x, &v[0]); /* 1100 of 1000 */
        assert_int_equal(sev, SEV_CRIT);
        assert_true(lavinmq_map_target(1000, x->used) == 1000000);
        assert_true(lavinmq_map_target(65530, 1500000) == 4000000); /* doubled until the need is at most half */
        /* A tie goes to the first (the predicted need). */
        in = (struct lavinmq_map_in){.pid = 7, .maps = 20, .connections = 10, .consumers = 0, .queues = 0, .mfile = NAN};
        assert_int_equal(lavinmq_map_uses(&in, 1000, v), 2);
        x = lavinmq_use_verdict(v, 2, 75, 90, &sev);
        assert_string_equal(x->what, "predicted map need");
        assert_int_equal(sev, SEV_OK);
        /* Only /proc (no API under --root): its map areas. */
        in = (struct lavinmq_map_in){.pid = 7, .maps = 760, .connections = -1, .consumers = -1, .queues = -1, .mfile = NAN};
        assert_int_equal(lavinmq_map_uses(&in, 1000, v), 1);
        x = lavinmq_use_verdict(v, 1, 75, 90, &sev);
        assert_string_equal(x->what, "map areas");
        assert_int_equal(sev, SEV_WARN);
        in.maps = -EACCES;
        assert_int_equal(lavinmq_map_uses(&in, 1000, v), 0);
}

static void test_verdict_disk(void **state)
{
        (void)state;
        const struct lavinmq_disk_rule r = {.crit_bytes = 256u << 20, .warn_bytes = 1u << 30, .crit_pct = 5, .warn_pct = 10};
        struct lavinmq_space v[3] = {
                {"statvfs(/var/lib/lavinmq)", 50ull << 30, 100ull << 30},
                {"/api/nodes disk_free", 8ull << 30, 100ull << 30}, /* 8%: warn */
                {"metrics disk_space_available_bytes", 9ull << 30, 0},
        };
        enum severity sev;
        const char *why;
        assert_int_equal(lavinmq_disk_verdict(&r, v, 3, false, &sev, &why), 1);
        assert_int_equal(sev, SEV_WARN);
        assert_string_equal(why, "");
        assert_int_equal(lavinmq_disk_verdict(&r, v, 1, false, &sev, &why), 0);
        assert_int_equal(sev, SEV_OK);
        /* The broker's own alarm. */
        lavinmq_disk_verdict(&r, v, 1, true, &sev, &why);
        assert_int_equal(sev, SEV_CRIT);
        assert_string_equal(why, "the broker's disk_free_alarm is set");
        /* Equal severity: the least free decides. */
        v[0].free_ = 7ull << 30;
        assert_int_equal(lavinmq_disk_verdict(&r, v, 3, false, &sev, &why), 0);
        /* Bytes below the crit floor, and lavinmq.ini's own rules. */
        struct lavinmq_space low = {"statvfs(/d)", 100u << 20, 0};
        assert_int_equal(lavinmq_disk_severity(&r, &low, &why), SEV_CRIT);
        struct lavinmq_disk_rule ini = r;
        ini.ini_min = 60ull << 30;
        assert_int_equal(lavinmq_disk_severity(&ini, &v[1], &why), SEV_CRIT);
        assert_string_equal(why, "below free_disk_min of lavinmq.ini");
        ini.ini_min = 0, ini.ini_warn = 80ull << 30;
        struct lavinmq_space roomy = {"statvfs(/d)", 70ull << 30, 100ull << 30};
        assert_int_equal(lavinmq_disk_severity(&ini, &roomy, &why), SEV_WARN);
        assert_string_equal(why, "below free_disk_warn of lavinmq.ini");
        /* Nothing measured. */
        assert_int_equal(lavinmq_disk_unmeasured(-ENOENT, false), SEV_INFO);
        assert_int_equal(lavinmq_disk_unmeasured(-ENOENT, true), SEV_UNKNOWN);
        assert_int_equal(lavinmq_disk_unmeasured(-EIO, false), SEV_UNKNOWN);
}

/* ---- sample() on a fixture root ---- */

static char root[64];

static void put(const char *rel, const char *content)
{
        char path[512], cmd[600];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static const char *status_of(json_object *statuses, const char *id, const char **summary)
{
        for (size_t i = 0; i < json_object_array_length(statuses); i++) {
                json_object *o = json_object_array_get_idx(statuses, i), *v;
                json_object_object_get_ex(o, "id", &v);
                if (streq(json_object_get_string(v), id)) {
                        json_object_object_get_ex(o, "summary", &v);
                        *summary = json_object_get_string(v);
                        json_object_object_get_ex(o, "severity", &v);
                        return json_object_get_string(v);
                }
        }
        return NULL;
}

static bool has_value(json_object *values, const char *key, double *out)
{
        for (size_t i = 0; i < json_object_array_length(values); i++) {
                json_object *o = json_object_array_get_idx(values, i), *v;
                json_object_object_get_ex(o, "key", &v);
                if (streq(json_object_get_string(v), key)) {
                        json_object_object_get_ex(o, "value", &v);
                        *out = json_object_get_double(v);
                        return true;
                }
        }
        return false;
}

static void write_broker(int fds, int maps, const char *nofile)
{
        char buf[256];
        put("proc/4242/stat", "4242 (lavinmq) S 1 4242 4242 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 9 0 1000 10000000 2560 "
                              "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        put("proc/4242/status", "Name:\tlavinmq\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\nUid:\t998\t998\t998\t998\n"
                                "VmRSS:\t   10240 kB\nThreads:\t9\n");
        put("proc/4242/cmdline", "/usr/bin/lavinmq");
        snprintf(buf, sizeof(buf), "Limit                     Soft Limit           Hard Limit           Units     \n"
                                   "Max open files            %-21s%-21s files     \n", nofile, nofile);
        put("proc/4242/limits", buf);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/4242/fd' && mkdir -p '%s/proc/4242/fd'", root, root);
        assert_int_equal(system(cmd), 0);
        for (int i = 0; i < fds; i++) {
                snprintf(buf, sizeof(buf), "proc/4242/fd/%d", i);
                put(buf, "");
        }
        struct strbuf m = {0};
        for (int i = 0; i < maps; i++)
                sb_printf(&m, "%08x-%08x r--p 00000000 00:00 0\n", i * 4096, (i + 1) * 4096);
        put("proc/4242/maps", m.s ? m.s : "");
        sb_free(&m);
}

static void test_sample(void **state)
{
        (void)state;
        snprintf(root, sizeof(root), "/tmp/test_lavinmq.XXXXXX");
        assert_non_null(mkdtemp(root));
        rootfs_set(root);
        put("proc/sys/vm/max_map_count", "1000\n");
        put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nlavinmq:x:998:998::/var/lib/lavinmq:/usr/sbin/nologin\n"); /* uid 998 is the broker's */
        put("etc/lavinmq/lavinmq.ini", "[main]\ndata_dir = /var/lib/lavinmq\ncontrol_unix_path = none\nmetrics_http_port = -1\n"
                                       "[mgmt]\nport = -1\n");
        write_broker(10, 50, "100");

        struct config cfg = {0};
        struct ctx c = {.self = &lavinmq_collector, .cfg = &cfg, .is_root = true, .interval_ms = 1000};
        struct sample s;
        const char *sum;
        double v;
        sample_init(&s);
        lavinmq_collector.sample(&c, &s);
        assert_non_null(c.state);
        assert_string_equal(status_of(s.statuses, "lavinmq.process", &sum), "ok");
        assert_string_equal(sum, "lavinmq runs (pid 4242)");
        assert_string_equal(status_of(s.statuses, "lavinmq.fd_usage", &sum), "ok");
        assert_string_equal(sum, "10 of 100 open files (10.0%)");
        assert_string_equal(status_of(s.statuses, "lavinmq.map_headroom", &sum), "ok");
        assert_string_equal(sum, "map areas 50 of vm.max_map_count 1000 (5.0%)");
        /* --root: the API and statvfs are not the live system's. */
        assert_string_equal(status_of(s.statuses, "lavinmq.api", &sum), "skipped");
        assert_string_equal(status_of(s.statuses, "lavinmq.disk", &sum), "skipped");
        assert_true(has_value(s.values, "lavinmq.open_fds", &v));
        assert_true(v == 10);
        assert_true(has_value(s.values, "lavinmq.map_areas", &v));
        assert_true(v == 50);
        assert_true(has_value(s.values, "lavinmq.rss_bytes", &v));
        assert_true(v == 10240.0 * 1024);
        sample_free(&s);

        /* The broker nears its limits: the next sample says so. */
        write_broker(97, 950, "100");
        c.sample_no = 1;
        sample_init(&s);
        lavinmq_collector.sample(&c, &s);
        assert_string_equal(status_of(s.statuses, "lavinmq.fd_usage", &sum), "crit");
        assert_string_equal(status_of(s.statuses, "lavinmq.map_headroom", &sum), "crit");
        assert_string_equal(sum, "map areas 950 of vm.max_map_count 1000 (95.0%)");
        sample_free(&s);

        /* It goes away: crit, since it is installed (lavinmq.ini). */
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/4242'", root);
        assert_int_equal(system(cmd), 0);
        c.sample_no = 2;
        sample_init(&s);
        lavinmq_collector.sample(&c, &s);
        assert_string_equal(status_of(s.statuses, "lavinmq.process", &sum), "crit");
        assert_string_equal(sum, "lavinmq is not running");
        assert_null(status_of(s.statuses, "lavinmq.fd_usage", &sum));
        assert_false(has_value(s.values, "lavinmq.open_fds", &v));
        sample_free(&s);

        /* The sampler child stops: the collector frees what it kept (no fd is held). */
        assert_non_null(lavinmq_collector.free_state);
        lavinmq_collector.free_state(c.state);
        c.state = NULL;
        lavinmq_collector.free_state(NULL);

        rootfs_set(NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

/* check() and sample() on the same host reach the same verdict for every check watch
 * reports (each sample with a fresh state, so that nothing is left from before). */
static void expect_agree(const char *label)
{
        static const char *const ids[] = {"lavinmq.process", "lavinmq.fd_usage", "lavinmq.fd_limit",
                                          "lavinmq.map_headroom", "lavinmq.api", "lavinmq.disk"};
        struct config cfg = {0};
        struct ctx c = {.self = &lavinmq_collector, .cfg = &cfg, .is_root = true, .interval_ms = 1000};
        struct findings fs = {0};
        struct sample s;
        lavinmq_collector.check(&c, &fs);
        sample_init(&s);
        lavinmq_collector.sample(&c, &s);
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                const char *in_check = NULL, *in_watch, *sum;
                for (size_t k = 0; k < fs.n && !in_check; k++)
                        if (streq(fs.v[k].id, ids[i]))
                                in_check = severity_name(fs.v[k].sev);
                in_watch = status_of(s.statuses, ids[i], &sum);
                if (!in_watch && (streq(ids[i], "lavinmq.process") || streq(in_check ? in_check : "", "warn") ||
                                  streq(in_check ? in_check : "", "crit")))
                        fail_msg("%s: %s is %s in check, not in watch", label, ids[i], in_check ? in_check : "missing");
                if (in_watch && (!in_check || !streq(in_check, in_watch)))
                        fail_msg("%s: %s is %s in check but %s in watch (%s)", label, ids[i], in_check ? in_check : "missing",
                                 in_watch, sum);
        }
        sample_free(&s);
        findings_free(&fs);
        lavinmq_collector.free_state(c.state);
}

static void test_check_agrees_with_sample(void **state)
{
        (void)state;
        snprintf(root, sizeof(root), "/tmp/test_lavinmq.XXXXXX");
        assert_non_null(mkdtemp(root));
        rootfs_set(root);
        put("proc/sys/vm/max_map_count", "1000\n");
        put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nlavinmq:x:998:998::/var/lib/lavinmq:/usr/sbin/nologin\n");
        put("etc/lavinmq/lavinmq.ini", "[main]\ndata_dir = /var/lib/lavinmq\ncontrol_unix_path = none\nmetrics_http_port = -1\n"
                                       "[mgmt]\nport = -1\n");
        put("var/lib/lavinmq/.lock", "PID 4242 @ mq-1\n");
        write_broker(4, 50, "40");      /* 10% of the fds, 5% of the map areas; a low open-files limit */
        expect_agree("healthy");
        write_broker(33, 800, "40");    /* 82.5%, 80% */
        expect_agree("near the limits");
        write_broker(39, 950, "65536"); /* 0.06% of a limit that is fine; 95% of the map areas */
        expect_agree("maps near the limit");
        write_broker(39, 950, "40");    /* 97.5%, 95% */
        expect_agree("at the limits");
        write_broker(30, 50, "unlimited");
        expect_agree("no open-files limit");
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/4242'", root);
        assert_int_equal(system(cmd), 0);
        expect_agree("gone, installed");
        snprintf(cmd, sizeof(cmd), "rm -f '%s/etc/lavinmq/lavinmq.ini'", root);
        assert_int_equal(system(cmd), 0);
        expect_agree("gone, not installed, its .lock left");
        rootfs_set(NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conf_defaults),
                cmocka_unit_test(test_conf_packaged),
                cmocka_unit_test(test_conf_custom),
                cmocka_unit_test(test_conf_broken),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_lock),
                cmocka_unit_test(test_overview),
                cmocka_unit_test(test_overview_invalid),
                cmocka_unit_test(test_api_impossible_numbers),
                cmocka_unit_test(test_nodes),
                cmocka_unit_test(test_tcp),
                cmocka_unit_test(test_map_need),
                cmocka_unit_test(test_verdict_process),
                cmocka_unit_test(test_verdict_api),
                cmocka_unit_test(test_verdict_fds),
                cmocka_unit_test(test_verdict_maps),
                cmocka_unit_test(test_verdict_disk),
                cmocka_unit_test(test_sample),
                cmocka_unit_test(test_check_agrees_with_sample),
        };
        return cmocka_run_group_tests_name("lavinmq", tests, NULL, NULL);
}
