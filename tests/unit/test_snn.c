/* snn collector: /health in the code's and the docs' shapes, /info, verdicts. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/snn.h"
#include "lib/prometheus_text.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>

static int health(const char *text, struct snn_health *h, char **err)
{
        *err = NULL;
        return snn_health_parse(text, strlen(text), h, err);
}

static void test_health_code_shape(void **state)
{
        (void)state;
        struct snn_health h;
        char *err;
        /* metrics_exporter.rs's health route, verbatim in shape. */
        assert_int_equal(health("{\"status\":\"healthy\",\"timestamp\":1764493200000,\"version\":\"0.3.1\"}", &h, &err), 0);
        assert_int_equal(h.shape, SNN_SHAPE_CODE);
        assert_int_equal(h.status, SNN_HEALTHY);
        assert_string_equal(h.version, "0.3.1");
        assert_true(h.uptime_s < 0);
        assert_int_equal(snn_health_verdict(&h), SEV_OK);
        assert_null(snn_failing_checks(&h));
}

static void test_health_docs_shape(void **state)
{
        (void)state;
        struct snn_health h;
        char *err;
        /* openapi HealthResponse, degraded. */
        assert_int_equal(health("{\"status\":\"degraded\",\"timestamp\":\"2026-11-30T09:00:00Z\",\"uptime_seconds\":3600,"
                                "\"checks\":[{\"name\":\"neural\",\"status\":\"pass\",\"message\":\"ok\",\"duration_ms\":2},"
                                "{\"name\":\"gpu\",\"status\":\"fail\",\"message\":\"CUDA_ERROR_OUT_OF_MEMORY\",\"duration_ms\":9},"
                                "{\"name\":\"disk\",\"status\":\"warn\"}]}",
                                &h, &err),
                         0);
        assert_int_equal(h.shape, SNN_SHAPE_DOCS);
        assert_int_equal(h.status, SNN_DEGRADED);
        assert_int_equal(h.nchecks, 3);
        assert_int_equal(h.failing, 2);
        assert_true(h.uptime_s == 3600);
        assert_true(h.checks[1].duration_ms == 9 && h.checks[2].duration_ms < 0);
        assert_int_equal(snn_health_verdict(&h), SEV_WARN);
        char *f = snn_failing_checks(&h);
        assert_string_equal(f, "gpu: fail (CUDA_ERROR_OUT_OF_MEMORY), disk: warn");
        free(f);
        /* getting-started.md's shape: no checks, neural_metrics. */
        assert_int_equal(health("{\"status\":\"healthy\",\"timestamp\":\"x\",\"uptime_seconds\":5,"
                                "\"neural_metrics\":{\"total_neurons\":1000,\"memory_usage_bytes\":5}}",
                                &h, &err),
                         0);
        assert_int_equal(h.shape, SNN_SHAPE_DOCS);
        assert_int_equal(snn_health_verdict(&h), SEV_OK);
        /* unhealthy: crit; a status nobody documents: warn; healthy with a failing check: warn. */
        assert_int_equal(health("{\"status\":\"unhealthy\",\"checks\":[]}", &h, &err), 0);
        assert_int_equal(snn_health_verdict(&h), SEV_CRIT);
        assert_int_equal(health("{\"status\":\"starting\"}", &h, &err), 0);
        assert_int_equal(snn_health_verdict(&h), SEV_WARN);
        assert_int_equal(health("{\"status\":\"healthy\",\"checks\":[{\"name\":\"db\",\"status\":\"fail\"}]}", &h, &err), 0);
        assert_int_equal(snn_health_verdict(&h), SEV_WARN);
}

static void test_health_bounds(void **state)
{
        (void)state;
        struct snn_health h;
        char *err;
        /* More checks than kept: counted, the rest summarised. */
        struct strbuf b = {0};
        sb_puts(&b, "{\"status\":\"degraded\",\"checks\":[");
        for (int i = 0; i < 100; i++)
                sb_printf(&b, "%s{\"name\":\"c%d\",\"status\":\"fail\",\"message\":\"%0300d\"}", i ? "," : "", i, 0);
        sb_puts(&b, "]}");
        assert_int_equal(health(b.s, &h, &err), 0);
        sb_free(&b);
        assert_int_equal(h.nchecks, SNN_HCHECKS_MAX);
        assert_int_equal(h.checks_total, 100);
        assert_int_equal(h.failing, 100);
        assert_int_equal(strlen(h.checks[0].message), sizeof(h.checks[0].message) - 1);
        char *f = snn_failing_checks(&h);
        assert_non_null(strstr(f, ", and 68 more"));
        free(f);
}

static void test_health_bad(void **state)
{
        (void)state;
        struct snn_health h;
        char *err;
        static const char *const bad[] = {"", "{\"status\": \"healthy\", ", "<html>", "[1,2]", "{\"status\":1}",
                                          "{\"healthy\":true}", "{\"status\":\"healthy\"} trailing", NULL};
        for (size_t i = 0; bad[i]; i++) {
                assert_int_equal(health(bad[i], &h, &err), -EINVAL);
                assert_non_null(err);
                assert_true(startswith(err, "/health: "));
                free(err);
        }
        /* NULs inside the body are not the end of it. */
        assert_int_equal(snn_health_parse("{\"status\":\"healthy\"}\0junk", 26, &h, &err), -EINVAL);
        free(err);
}

static void test_info(void **state)
{
        (void)state;
        struct snn_info in;
        char *err = NULL;
        static const char j[] = "{\"service\":\"cerebellar-norse-metrics-exporter\",\"version\":\"0.3.1\",\"build_timestamp\":"
                                "\"2026-11-02\",\"commit_hash\":\"856a8f66\",\"rust_version\":\"1.82.0\",\"endpoints\":[]}";
        assert_int_equal(snn_info_parse(j, strlen(j), &in, &err), 0);
        assert_string_equal(in.service, "cerebellar-norse-metrics-exporter");
        assert_string_equal(in.commit, "856a8f66");
        assert_string_equal(in.rust, "1.82.0");
        assert_int_equal(snn_info_parse("{\"version\":3}", 13, &in, &err), 0);
        assert_string_equal(in.version, "");
        assert_int_equal(snn_info_parse("nope", 4, &in, &err), -EINVAL);
        assert_string_equal(err, "/info: not JSON: null expected at byte 1");
        free(err);
}

static void test_latency(void **state)
{
        (void)state;
        static const char t[] = "processing_duration_seconds_bucket{le=\"1e-05\"} 100\n"
                                "processing_duration_seconds_bucket{le=\"4e-05\"} 900\n"
                                "processing_duration_seconds_bucket{le=\"6e-05\"} 1000\n"
                                "processing_duration_seconds_bucket{le=\"+Inf\"} 1000\n";
        struct prom_text p;
        assert_int_equal(prom_text_parse(t, strlen(t), NULL, &p), 0);
        struct snn_latency l;
        snn_latency_of(&p, "processing_duration_seconds", &l);
        assert_int_equal(l.rc, 0);
        assert_true(fabs(l.p95 - 5e-05) < 1e-15);
        assert_true(fabs(l.p50 - 2.5e-05) < 1e-15);
        assert_true(fabs(l.p99 - 5.8e-05) < 1e-15);
        assert_int_equal(snn_latency_verdict(&l, 10e-6, 100e-6), SEV_WARN);
        assert_int_equal(snn_latency_verdict(&l, 10e-6, 50e-6), SEV_CRIT);
        assert_int_equal(snn_latency_verdict(&l, 60e-6, 100e-6), SEV_OK);
        snn_latency_of(&p, "neural_inference_latency_seconds", &l);
        assert_int_equal(l.rc, -ENOENT);
        assert_int_equal(snn_latency_verdict(&l, 10e-6, 100e-6), SEV_SKIPPED);
        prom_text_free(&p);
        char b[32];
        assert_string_equal(snn_fmt_seconds(4.76e-6, b), "4.8 µs");
        assert_string_equal(snn_fmt_seconds(0.0012, b), "1.20 ms");
        assert_string_equal(snn_fmt_seconds(NAN, b), "n/a");
}

static void test_cuda_memory(void **state)
{
        (void)state;
        double pct;
        assert_int_equal(snn_cuda_memory_verdict(95, 100, 90, &pct), SEV_WARN);
        assert_true(pct == 95);
        assert_int_equal(snn_cuda_memory_verdict(90, 100, 90, &pct), SEV_OK);
        assert_int_equal(snn_cuda_memory_verdict(NAN, 100, 90, &pct), SEV_SKIPPED);
        assert_int_equal(snn_cuda_memory_verdict(5, 0, 90, &pct), SEV_SKIPPED);
        assert_int_equal(snn_cuda_memory_verdict(-5, 10, 90, &pct), SEV_SKIPPED);
}

static void test_log_scan(void **state)
{
        (void)state;
        static const char log[] = "INFO start\n"
                                  "ERROR CUDA_ERROR_INVALID_DEVICE: no GPU 3\n"
                                  "{\"level\":\"error\",\"fields\":{\"processing_time_ns\":25000}}\n"
                                  "{\"level\":\"info\",\"fields\":{\"message\":\"ERROR in text, level info\",\"processing_time_ns\":5000.5}}\n"
                                  "{\"level\":\"info\",\"fields\":{\"processing_time_ns\":-3}}\n"
                                  "{broken json ERROR\n"
                                  "warning: Latency budget EXCEEDED by 5us\n"
                                  "CUDA_ERROR_\n"
                                  "last line CUDA_ERROR_INVALID_DEVICE";
        struct snn_log_scan sc;
        snn_log_scan(log, strlen(log), 10000, &sc);
        assert_int_equal(sc.lines, 9);
        assert_int_equal(sc.json_lines, 3);
        assert_int_equal(sc.errors, 3); /* the plain ERROR, the JSON error, the broken JSON line's word */
        assert_int_equal(sc.warnings, 1);
        assert_true(sc.max_processing_ns == 25000);
        assert_int_equal(sc.over_budget, 1);
        assert_int_equal(sc.n, 3);
        assert_string_equal(sc.v[0].what, "CUDA_ERROR_INVALID_DEVICE");
        assert_int_equal(sc.v[0].count, 2);
        assert_string_equal(sc.v[1].what, "latency exceeded");
        assert_string_equal(sc.v[2].what, "CUDA_ERROR_");
        int code = 0;
        assert_string_equal(snn_cuda_error_meaning("CUDA_ERROR_LAUNCH_FAILED", &code), "kernel launch failed");
        assert_int_equal(code, 719);
        assert_non_null(snn_cuda_error_meaning("CUDA_ERROR_OUT_OF_MEMORY", &code));
        assert_int_equal(code, 2);
        assert_null(snn_cuda_error_meaning("CUDA_ERROR_", &code));
        /* Nothing: no NaN reaches a message as a number. */
        snn_log_scan("", 0, 10000, &sc);
        assert_int_equal(sc.lines, 0);
        assert_true(isnan(sc.max_processing_ns));
}

/* The RSS trend: least-squares slope per minute, steady or not, and the verdict. */
static void test_rss_trend(void **state)
{
        (void)state;
        struct snn_rss_series s = {.pid = 42};
        struct snn_rss_trend t;
        assert_int_equal(snn_rss_trend(&s, &t), -EINVAL);
        snn_rss_add(&s, 1000, 100u << 20);
        assert_int_equal(snn_rss_trend(&s, &t), -EINVAL); /* one reading tells nothing */
        /* 1 MiB every 250 ms: 240 MiB a minute, rising at every step */
        for (int i = 1; i <= 8; i++)
                snn_rss_add(&s, 1000 + 250 * (uint64_t)i, (100u << 20) + ((uint64_t)i << 20));
        assert_int_equal(snn_rss_trend(&s, &t), 0);
        assert_true(fabs(t.per_min - 240.0 * (1 << 20)) < 1.0);
        assert_int_equal(t.growth, 8 << 20);
        assert_int_equal(t.span_ms, 2000);
        assert_int_equal(t.steps, 8);
        assert_int_equal(t.rises, 8);
        assert_int_equal(snn_rss_verdict(&t, 10u << 20, 100u << 20), SEV_CRIT);
        assert_int_equal(snn_rss_verdict(&t, 10u << 20, 0), SEV_WARN);       /* crit 0: never crit */
        assert_int_equal(snn_rss_verdict(&t, 300u << 20, 400u << 20), SEV_OK); /* below warn */
        /* one allocation of 8 MiB, flat before and after: as fast, but not steady */
        struct snn_rss_series one = {.pid = 43};
        for (int i = 0; i <= 8; i++)
                snn_rss_add(&one, 1000 + 250 * (uint64_t)i, (100u << 20) + (i >= 4 ? 8u << 20 : 0));
        assert_int_equal(snn_rss_trend(&one, &t), 0);
        assert_int_equal(t.rises, 1);
        assert_int_equal(snn_rss_verdict(&t, 10u << 20, 100u << 20), SEV_INFO);
        /* shrinking: ok */
        struct snn_rss_series down = {.pid = 44};
        for (int i = 0; i <= 8; i++)
                snn_rss_add(&down, 1000 + 250 * (uint64_t)i, (200u << 20) - ((uint64_t)i << 20));
        assert_int_equal(snn_rss_trend(&down, &t), 0);
        assert_true(t.per_min < 0);
        assert_int_equal(snn_rss_verdict(&t, 10u << 20, 100u << 20), SEV_OK);
        /* a long watch: bounded, spanning the whole session (the first reading kept) */
        struct snn_rss_series w = {.pid = 45};
        for (uint64_t i = 0; i < 1000; i++)
                snn_rss_add(&w, i * 1000, 1000 + i);
        assert_true(w.n <= SNN_RSS_MAX);
        assert_int_equal(w.t_ms[0], 0);
        assert_int_equal(w.t_ms[w.n - 1], 999000);
        assert_int_equal(snn_rss_trend(&w, &t), 0);
        assert_true(fabs(t.per_min - 60.0) < 0.01);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_health_code_shape), cmocka_unit_test(test_health_docs_shape),
                cmocka_unit_test(test_health_bounds),     cmocka_unit_test(test_health_bad),
                cmocka_unit_test(test_info),              cmocka_unit_test(test_latency),
                cmocka_unit_test(test_cuda_memory),       cmocka_unit_test(test_log_scan),
                cmocka_unit_test(test_rss_trend),
        };
        return cmocka_run_group_tests_name("snn", tests, NULL, NULL);
}
