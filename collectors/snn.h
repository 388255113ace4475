/* snn collector (the Cerebellar-Norse service): the parsers and decisions it is made
 * of, exported for the unit tests and the fuzz targets. Facts from COMPONENTS.md §3:
 * the code's exporter and the docs disagree, so both shapes of /health are read. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

struct prom_text;

/* ---- /health ---- */

#define SNN_HCHECKS_MAX 32
enum snn_shape {
        SNN_SHAPE_CODE, /* metrics_exporter.rs: {"status":"healthy","timestamp":<ms>,"version":"..."} (always healthy) */
        SNN_SHAPE_DOCS, /* openapi HealthResponse: {status, timestamp, checks[{name,status,message,duration_ms}],
                           uptime_seconds}; getting-started.md: {status, timestamp, uptime_seconds, neural_metrics} */
};
enum snn_status { SNN_HEALTHY, SNN_DEGRADED, SNN_UNHEALTHY, SNN_STATUS_OTHER };
struct snn_hcheck {
        char name[64];
        char status[16];   /* pass | warn | fail (anything else kept as written, cut) */
        char message[200];
        double duration_ms; /* -1: not given */
};
struct snn_health {
        enum snn_shape shape;
        enum snn_status status;
        char status_text[32];  /* as written (cut) */
        char version[64];      /* "" when absent */
        double uptime_s;       /* -1: not given */
        struct snn_hcheck checks[SNN_HCHECKS_MAX];
        size_t nchecks;        /* kept */
        size_t checks_total;   /* in the reply */
        size_t failing;        /* checks whose status is not "pass" (all of them) */
};
/* 0, or -EINVAL with *err (newly allocated): not JSON, not an object, no "status" string. */
int snn_health_parse(const char *body, size_t len, struct snn_health *h, char **err);
/* healthy: ok (warn when a check of it fails: the service contradicts itself);
 * degraded: warn; unhealthy: crit; another status: warn. */
enum severity snn_health_verdict(const struct snn_health *h);
/* "gpu: fail (CUDA out of memory), db: warn (slow)"; NULL when no check fails. */
char *snn_failing_checks(const struct snn_health *h);

/* ---- /info ---- */

struct snn_info {
        char service[96], version[64], build[64], commit[64], rust[64]; /* "" when absent */
};
int snn_info_parse(const char *body, size_t len, struct snn_info *in, char **err);

/* ---- metrics ---- */

/* p50/p95/p99 of a latency histogram (seconds), from lib/prometheus_text's
 * PromQL-compatible histogram_quantile. */
struct snn_latency {
        const char *metric;  /* "neural_inference_latency_seconds", "processing_duration_seconds" */
        int rc;              /* 0, -ENOENT (not served), -EINVAL (why) */
        const char *why;
        double p50, p95, p99, count;
};
void snn_latency_of(const struct prom_text *t, const char *metric, struct snn_latency *l);
/* snn.latency for one histogram: p95 against the budget (seconds): ok below warn,
 * warn at or above warn_s, crit at or above crit_s; SEV_SKIPPED without observations. */
enum severity snn_latency_verdict(const struct snn_latency *l, double warn_s, double crit_s);
/* "12.3 µs", "1.20 ms", "2.50 s" */
const char *snn_fmt_seconds(double s, char buf[static 32]);
/* snn.cuda_memory: used/total in %, warn above warn_pct; SEV_SKIPPED when unknown
 * (NaN, total 0 or negative). */
enum severity snn_cuda_memory_verdict(double used, double total, double warn_pct, double *pct);

/* ---- production.toml (deployment.md's layout: [neural] [performance] [security]
 * [logging] [monitoring]; getting-started.md's and troubleshooting.md's: [server]
 * host/port/workers/max_connections, [training]) ---- */

struct toml_error;
struct snn_conf {
        char *tables;          /* "logging, monitoring, neural, performance, security" */
        size_t nvalues;
        char *device;          /* [performance] device; NULL when absent */
        int64_t granule_size;  /* [neural]; -1 when absent */
        int64_t connections_per_neuron; /* [neural] (only in the guide's formula); -1 */
        double learning_rate;  /* [neural]; NaN when absent */
        int64_t batch_size, cuda_streams; /* [performance]; -1 */
        uint64_t memory_limit; /* [performance] memory_limit ("28GB" or bytes); 0 when absent */
        int64_t port, max_connections; /* [server]; -1 */
        char *bad;             /* the first value of the wrong type, "[performance] device is not a text"; NULL */
};
/* 0, or -EINVAL with *err (line and column from toml++) when the text is not TOML. */
int snn_conf_parse(const char *text, size_t len, struct snn_conf *c, struct toml_error *err);
void snn_conf_free(struct snn_conf *c);
/* The guide's "granule_size * 4 bytes (f32) * connections_per_neuron": bytes, saturated. */
uint64_t snn_granule_bytes(int64_t granule_size, int64_t connections);

/* ---- logs: application.log / app.log (plain or JSON lines) ---- */

#define SNN_LOG_KINDS 8
struct snn_log_scan {
        struct {
                char what[40];   /* "CUDA_ERROR_OUT_OF_MEMORY", "OutOfMemory", "allocation failed", "latency exceeded" */
                size_t count;
                char example[160];
        } v[SNN_LOG_KINDS];
        size_t n;
        size_t lines, json_lines, errors, warnings; /* level error / warn(ing) (JSON "level", or the word) */
        double max_processing_ns; /* the highest fields.processing_time_ns; NaN when none */
        size_t over_budget;       /* JSON lines whose processing_time_ns >= the budget given */
};
/* Scans a log tail. budget_ns: fields.processing_time_ns at or above it counts as over. */
void snn_log_scan(const char *text, size_t len, double budget_ns, struct snn_log_scan *s);
/* "out of memory" for CUDA_ERROR_OUT_OF_MEMORY (2), "invalid device" (101), "launch
 * failed" (719); NULL for other texts. *code gets the number. */
const char *snn_cuda_error_meaning(const char *name, int *code);

/* ---- the service's RSS over a window (leak suspect) ---- */

#define SNN_RSS_MAX 64
/* Readings of one process's VmRSS. When full, every other reading is dropped (the first
 * and the newest kept), so a long watch session stays bounded and spans its whole time. */
struct snn_rss_series {
        int pid;
        size_t n;
        uint64_t t_ms[SNN_RSS_MAX]; /* CLOCK_MONOTONIC */
        uint64_t rss[SNN_RSS_MAX];  /* bytes */
};
void snn_rss_add(struct snn_rss_series *s, uint64_t t_ms, uint64_t rss);
struct snn_rss_trend {
        double per_min;   /* least-squares slope, bytes per minute */
        int64_t growth;   /* last - first, bytes */
        uint64_t span_ms; /* last - first reading */
        size_t steps, rises; /* steps between readings; of them, those where RSS rose */
};
/* 0, or -EINVAL with fewer than two readings or no time between them. */
int snn_rss_trend(const struct snn_rss_series *s, struct snn_rss_trend *t);
/* Steady growth (it rose at three quarters of the steps or more, and overall) at or
 * above crit_per_min bytes/minute: crit; at or above warn_per_min: warn; growth that
 * fast but not steady (one allocation): info; else ok. */
enum severity snn_rss_verdict(const struct snn_rss_trend *t, uint64_t warn_per_min, uint64_t crit_per_min);
