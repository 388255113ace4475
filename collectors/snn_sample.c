/* snn: sample() for evodiag watch. */
#include "config.h"
#include "collectors/sample_util.h"
#include "collectors/snn_private.h"
#include "lib/prometheus_text.h"
#include "lib/rootfs.h"
#include "lib/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- watch: /health and p95 at [snn] watch_interval; between, the last verdicts ---- */

struct snn_watch {
        uint64_t last_ms, interval_ms;
        bool have;
        enum severity health_sev, lat_sev;
        char health[320], lat[200];
        double p95_us;
        /* snn.rss: the service's VmRSS every sample, its slope over the session */
        int pid;
        uint64_t next_find_ms;
        struct snn_rss_series rss;
};

/* Every sample: VmRSS of the service's process (looked for again at watch_interval
 * while there is none) and the trend since the first reading of it. */
static void sample_rss(struct ctx *c, struct snn_watch *w, uint64_t now, struct sample *smp)
{
        if (!w->pid && now >= w->next_find_ms) {
                w->next_find_ms = now + w->interval_ms;
                w->pid = snn_service_pid(c);
                memset(&w->rss, 0, sizeof(w->rss));
                w->rss.pid = w->pid;
        }
        if (!w->pid)
                return;
        uint64_t b;
        if (snn_read_rss(w->pid, &b) < 0) {
                sample_status(smp, "snn.rss", NULL, SEV_UNKNOWN, "pid %d exited: its RSS is no longer followed", w->pid);
                w->pid = 0;
                return;
        }
        snn_rss_add(&w->rss, now, b);
        sample_value(smp, "snn.rss_bytes", NULL, (double)b, "bytes");
        struct snn_rss_trend t;
        if (snn_rss_trend(&w->rss, &t) < 0)
                return;
        uint64_t warn = 10u << 20, crit = 100u << 20;
        (void)parse_size(conf_str(c, "rss_growth_warn"), &warn);
        (void)parse_size(conf_str(c, "rss_growth_crit"), &crit);
        enum severity sev = snn_rss_verdict(&t, warn, crit);
        char r[32];
        sample_status(smp, "snn.rss", NULL, sev, "pid %d RSS %s over %.0f s%s", w->pid, snn_fmt_rate(t.per_min, r),
                      (double)t.span_ms / 1000.0, sev >= SEV_WARN ? ": growing steadily, leak suspect" : "");
}

void snn_sample(struct ctx *c, struct sample *smp)
{
        struct snn_watch *w = sample_state(c, sizeof(*w));
        if (!w->interval_ms) {
                w->interval_ms = 10000;
                (void)parse_duration_ms(conf_str(c, "watch_interval"), &w->interval_ms);
        }
        uint64_t now = now_ms_monotonic();
        if (rootfs_is_live() && (!w->last_ms || now - w->last_ms >= w->interval_ms)) {
                w->last_ms = now;
                struct snn s = {0};
                const char *url = conf_str(c, "url");
                size_t l = strlen(url);
                while (l && url[l - 1] == '/')
                        l--;
                s.url = xstrndup(url, l);
                s.url_pub = http_url_public(s.url);
                snn_fetch(c, &s, &s.health, "/health");
                struct snn_health h;
                _cleanup_free_ char *err = NULL;
                if (s.health.rc < 0 && s.health.r.err != HTTP_E_TOO_LARGE) {
                        w->health_sev = SEV_CRIT;
                        snprintf(w->health, sizeof(w->health), "no answer: %s", s.health.r.error);
                } else if (!s.health.tried) {
                        w->health_sev = SEV_UNKNOWN;
                        snprintf(w->health, sizeof(w->health), "not asked");
                } else if (s.health.rc < 0 || snn_health_parse(s.health.r.body, s.health.r.len, &h, &err) < 0) {
                        w->health_sev = SEV_WARN;
                        snprintf(w->health, sizeof(w->health), "HTTP %ld, not the health JSON", s.health.r.status);
                } else {
                        w->health_sev = snn_health_verdict(&h);
                        if (s.health.r.status >= 500 && w->health_sev < SEV_CRIT)
                                w->health_sev = SEV_CRIT;
                        _cleanup_free_ char *failing = snn_failing_checks(&h);
                        snprintf(w->health, sizeof(w->health), "%s%s%s", h.status_text, failing ? ": " : "",
                                 failing ? failing : "");
                }
                w->lat_sev = SEV_SKIPPED;
                w->p95_us = NAN;
                snprintf(w->lat, sizeof(w->lat), "no latency histogram");
                if (w->health_sev != SEV_CRIT) {
                        snn_fetch(c, &s, &s.metrics, "/metrics");
                        struct prom_text t = {0};
                        if (s.metrics.rc == 0 && s.metrics.r.status == 200) {
                                (void)prom_text_parse(s.metrics.r.body, s.metrics.r.len, NULL, &t);
                                static const char *const hists[] = {"neural_inference_latency_seconds", "processing_duration_seconds"};
                                for (size_t i = 0; i < 2; i++) {
                                        struct snn_latency lt;
                                        snn_latency_of(&t, hists[i], &lt);
                                        enum severity v = snn_latency_verdict(&lt, (double)conf_uint(c, "latency_warn_us") * 1e-6,
                                                                              (double)conf_uint(c, "latency_crit_us") * 1e-6);
                                        if (v == SEV_SKIPPED)
                                                continue;
                                        char a[32];
                                        w->lat_sev = v;
                                        w->p95_us = lt.p95 * 1e6;
                                        snprintf(w->lat, sizeof(w->lat), "%s p95 %s", hists[i], snn_fmt_seconds(lt.p95, a));
                                        break;
                                }
                        }
                        prom_text_free(&t);
                }
                free(s.url);
                free(s.url_pub);
                snn_reply_free(&s.health);
                snn_reply_free(&s.metrics);
                w->have = true;
        }
        if (rootfs_is_live())
                sample_rss(c, w, now, smp);
        if (!w->have)
                return;
        sample_status(smp, "snn.health", NULL, w->health_sev, "%s", w->health);
        sample_status(smp, "snn.latency", NULL, w->lat_sev, "%s", w->lat);
        if (!isnan(w->p95_us))
                sample_value(smp, "snn.p95_latency_us", NULL, w->p95_us, "us");
}
