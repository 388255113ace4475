/* snn: the service's HTTP routes (/health in both shapes, /info, /metrics and
 * /neural/metrics: latency, errors, CUDA memory), each with a connect and a total
 * timeout inside the collector's deadline. No credential is ever sent. */
#include "config.h"
#include "collectors/sink.h"
#include "collectors/snn_private.h"
#include "lib/prometheus_text.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void snn_reply_free(struct reply *r)
{
        free(r->skipped);
        http_resp_free(&r->r);
}

void snn_fetch(const struct ctx *c, const struct snn *s, struct reply *rp, const char *path)
{
        rp->path = path;
        uint64_t t = ctx_budget_ms(c, conf_uint(c, "timeout_ms"), 500);
        if (!t) {
                rp->skipped = xstrdup("not asked: the collector's time was up");
                return;
        }
        uint64_t ct = conf_uint(c, "connect_timeout_ms"), max = 4u << 20;
        (void)parse_size(conf_str(c, "body_max"), &max);
        _cleanup_free_ char *url = xasprintf("%s%s", s->url, path);
        struct http_req rq = {
                .url = url, .connect_timeout_ms = ct < t ? ct : t, .timeout_ms = t, .max_body = max ? max : 1,
        };
        rp->tried = true;
        rp->rc = http_get(&rq, &rp->r);
}

static const char *snn_origin(const struct snn *s, const struct reply *r, char *buf, size_t n)
{
        snprintf(buf, n, "GET %s%s", s->url_pub, r->path);
        return buf;
}

void snn_check_health(const struct snn *s, struct findings *fs)
{
        const struct reply *r = &s->health;
        char o[512];
        snn_origin(s, r, o, sizeof(o));
        struct finding *f;
        if (!r->tried) {
                f = fnd_add(fs, SEV_UNKNOWN, "snn.health", "/health %s", r->skipped);
                fnd_evidence(f, "%s", o);
                return;
        }
        if (r->rc < 0 && r->r.err != HTTP_E_TOO_LARGE) {
                f = fnd_add(fs, SEV_CRIT, "snn.health", "the service does not answer at %s: %s", s->url_pub, r->r.error);
                fnd_expected(f, "an answer to GET /health within the timeout");
                fnd_remedy(f, "systemctl status cerebellar-norse; journalctl -u cerebellar-norse -n 100; "
                              "ss -tlnp   # is it listening where [snn] url points?");
                fnd_evidence(f, "%s", o);
                return;
        }
        if (r->rc < 0) {
                f = fnd_add(fs, SEV_WARN, "snn.health", "/health answers with more than %zu bytes: not the health JSON",
                            r->r.len);
                fnd_actual(f, "%s", r->r.error);
                fnd_evidence(f, "%s", o);
                return;
        }
        struct snn_health h;
        _cleanup_free_ char *err = NULL;
        int prc = snn_health_parse(r->r.body, r->r.len, &h, &err);
        if (prc < 0) {
                enum severity sev = r->r.status >= 500 ? SEV_CRIT : SEV_WARN;
                f = fnd_add(fs, sev, "snn.health", "/health answers HTTP %ld, but not with the health JSON: %s", r->r.status,
                            err);
                fnd_expected(f, "{\"status\":\"healthy\",...}");
                fnd_remedy(f, "curl -s %s/health; is [snn] url the service's exporter?", s->url_pub);
                fnd_evidence(f, "%s", o);
                return;
        }
        enum severity sev = snn_health_verdict(&h);
        if (r->r.status < 200 || r->r.status > 299) {
                if (sev < SEV_WARN)
                        sev = SEV_WARN;
                if (r->r.status >= 500 && sev < SEV_CRIT)
                        sev = SEV_CRIT;
        }
        _cleanup_free_ char *failing = snn_failing_checks(&h);
        const char *shape = h.shape == SNN_SHAPE_CODE ? "the exporter's shape" : "the documented API's shape";
        if (sev == SEV_OK)
                f = fnd_add(fs, sev, "snn.health", "%s: %s in %" PRIu64 " ms (%s)", s->url_pub, h.status_text,
                            r->r.duration_ms, shape);
        else
                f = fnd_add(fs, sev, "snn.health", "%s: %s%s%s (HTTP %ld)", s->url_pub, h.status_text,
                            failing ? ", failing checks: " : "", failing ? failing : "", r->r.status);
        struct strbuf a = {0};
        if (*h.version)
                sb_printf(&a, "version %s; ", h.version);
        if (h.uptime_s >= 0)
                sb_printf(&a, "up %.0f s; ", h.uptime_s);
        if (h.checks_total)
                sb_printf(&a, "%zu checks, %zu not passing; ", h.checks_total, h.failing);
        if (h.shape == SNN_SHAPE_CODE)
                sb_printf(&a, "the exporter's /health is always healthy: it proves only that the process answers; ");
        if (a.len > 2) {
                a.s[a.len - 2] = 0;
                fnd_actual(f, "%s", a.s);
        }
        sb_free(&a);
        fnd_expected(f, "healthy");
        if (sev >= SEV_WARN)
                fnd_remedy(f, "curl -s %s/health | jq .; journalctl -u cerebellar-norse -n 200 | grep -iE 'error|CUDA_ERROR'",
                           s->url_pub);
        fnd_evidence(f, "%s", o);
}

void snn_check_info(const struct snn *s, struct findings *fs)
{
        const struct reply *r = &s->info;
        char o[512];
        snn_origin(s, r, o, sizeof(o));
        struct finding *f;
        if (!r->tried) {
                f = fnd_add(fs, SEV_SKIPPED, "snn.info", "/info %s", r->skipped);
                return;
        }
        struct snn_info in;
        _cleanup_free_ char *err = NULL;
        if (r->rc < 0)
                f = fnd_add(fs, SEV_SKIPPED, "snn.info", "/info not read: %s", r->r.error);
        else if (r->r.status != 200)
                f = fnd_add(fs, SEV_SKIPPED, "snn.info", "/info not served (HTTP %ld)", r->r.status);
        else if (snn_info_parse(r->r.body, r->r.len, &in, &err) < 0)
                f = fnd_add(fs, SEV_WARN, "snn.info", "%s", err);
        else {
                f = fnd_add(fs, SEV_INFO, "snn.info", "%s %s", *in.service ? in.service : "service",
                            *in.version ? in.version : "(no version)");
                fnd_actual(f, "version %s, build %s, commit %s, rust %s", *in.version ? in.version : "-",
                           *in.build ? in.build : "-", *in.commit ? in.commit : "-", *in.rust ? in.rust : "-");
        }
        fnd_evidence(f, "%s", o);
}

/* One metrics reply parsed, or why not (then *t is empty). */
static enum severity parse_metrics(const struct snn *s, const struct reply *r, struct prom_text *t, struct strbuf *what)
{
        memset(t, 0, sizeof(*t));
        if (!r->tried) {
                sb_printf(what, "%s %s; ", r->path, r->skipped);
                return SEV_UNKNOWN;
        }
        if (r->rc < 0 && r->r.err == HTTP_E_TOO_LARGE) {
                sb_printf(what, "%s: %s (not parsed); ", r->path, r->r.error);
                return SEV_WARN;
        }
        if (r->rc < 0) {
                sb_printf(what, "%s: %s; ", r->path, r->r.error);
                return SEV_UNKNOWN;
        }
        if (r->r.status == 404) {
                sb_printf(what, "%s: not served (HTTP 404); ", r->path);
                return SEV_OK;
        }
        if (r->r.status != 200) {
                sb_printf(what, "%s: HTTP %ld; ", r->path, r->r.status);
                return SEV_WARN;
        }
        (void)s;
        (void)prom_text_parse(r->r.body, r->r.len, NULL, t);
        sb_printf(what, "%s: %zu series", r->path, t->n);
        if (t->bad_total) {
                sb_printf(what, ", %zu bad lines (line %zu: %s)", t->bad_total, t->bad[0].line, t->bad[0].why);
                sb_puts(what, "; ");
                return SEV_WARN;
        }
        if (t->cut)
                sb_printf(what, ", %zu more not read", t->cut);
        sb_puts(what, "; ");
        return t->cut ? SEV_WARN : SEV_OK;
}

static void strip_sep(struct strbuf *b)
{
        if (b->len >= 2 && b->s[b->len - 2] == ';') {
                b->len -= 2;
                b->s[b->len] = 0;
        }
}

/* The value of the first series `name` in either text; NAN when absent or bad. */
static double metric(const struct prom_text *a, const struct prom_text *b, const char *name)
{
        double v;
        if (prom_text_value(a, name, &v, NULL) == 0 || prom_text_value(b, name, &v, NULL) == 0)
                return v;
        return NAN;
}

void snn_check_metrics(struct ctx *c, const struct snn *s, struct findings *fs)
{
        struct prom_text m, n;
        struct strbuf what = {0};
        enum severity sm = parse_metrics(s, &s->metrics, &m, &what);
        enum severity sn = parse_metrics(s, &s->neural, &n, &what);
        strip_sep(&what);
        enum severity sev = sm > sn ? sm : sn;
        bool any = m.n || n.n;
        if (!any && sev < SEV_UNKNOWN)
                sev = SEV_UNKNOWN;
        struct finding *f = fnd_add(fs, sev, "snn.metrics", "%s", what.s ? what.s : "no metrics");
        fnd_evidence(f, "GET %s/metrics, %s/neural/metrics", s->url_pub, s->url_pub);
        if (sev == SEV_WARN)
                fnd_remedy(f, "curl -s %s/metrics | promtool check metrics", s->url_pub);
        sb_free(&what);

        /* latency */
        static const char *const hists[] = {"neural_inference_latency_seconds", "processing_duration_seconds", NULL};
        double warn_s = (double)conf_uint(c, "latency_warn_us") * 1e-6, crit_s = (double)conf_uint(c, "latency_crit_us") * 1e-6;
        size_t reported = 0;
        for (size_t i = 0; hists[i]; i++) {
                struct snn_latency l;
                snn_latency_of(&m, hists[i], &l);
                if (l.rc == -ENOENT)
                        snn_latency_of(&n, hists[i], &l);
                if (l.rc == -ENOENT)
                        continue;
                reported++;
                char a[32], b[32], d[32], w[32];
                if (l.rc < 0) {
                        f = fnd_add(fs, SEV_UNKNOWN, "snn.latency", "%s: no quantile: %s", l.metric, l.why);
                } else {
                        enum severity lv = snn_latency_verdict(&l, warn_s, crit_s);
                        if (lv == SEV_SKIPPED)
                                f = fnd_add(fs, SEV_SKIPPED, "snn.latency", "%s: no observations yet", l.metric);
                        else
                                f = fnd_add(fs, lv, "snn.latency", "%s p95 %s (p50 %s, p99 %s) over %.0f observations%s",
                                            l.metric, snn_fmt_seconds(l.p95, a), snn_fmt_seconds(l.p50, b),
                                            snn_fmt_seconds(l.p99, d), l.count, lv >= SEV_WARN ? ": over the budget" : "");
                        fnd_expected(f, "p95 below %s", snn_fmt_seconds(warn_s, w));
                        if (lv >= SEV_WARN)
                                fnd_remedy(f, "cpupower frequency-info; grep MHz /proc/cpuinfo; pin the service to isolated "
                                              "cores; use device = \"cuda\" on a GPU host; lower [performance] batch_size");
                }
                fnd_subject(f, "%s", l.metric);
                fnd_evidence(f, "GET %s/metrics", s->url_pub);
        }
        double ns = metric(&m, &n, "neural_inference_latency_ns");
        if (!reported) {
                if (isfinite(ns)) {
                        char a[32], w[32];
                        enum severity lv = ns * 1e-9 >= crit_s ? SEV_CRIT : ns * 1e-9 >= warn_s ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, lv, "snn.latency", "neural_inference_latency_ns %s (no histogram served)",
                                    snn_fmt_seconds(ns * 1e-9, a));
                        fnd_expected(f, "below %s", snn_fmt_seconds(warn_s, w));
                } else
                        f = fnd_add(fs, any ? SEV_SKIPPED : SEV_UNKNOWN, "snn.latency", "no latency metric %s",
                                    any ? "served" : "read");
        }

        /* errors */
        double rate = metric(&m, &n, "neural_error_rate_percent"), total = metric(&m, &n, "neural_errors_total");
        double rwarn = conf_num(c, "error_rate_warn_pct");
        if (isfinite(rate)) {
                f = fnd_add(fs, rate >= rwarn ? SEV_WARN : SEV_OK, "snn.errors", "error rate %.2f%% (neural_error_rate_percent)",
                            rate);
                if (isfinite(total))
                        fnd_actual(f, "neural_errors_total %.0f", total);
                fnd_expected(f, "below %.2f%%", rwarn);
                if (rate >= rwarn)
                        fnd_remedy(f, "journalctl -u cerebellar-norse | grep -iE 'error|CUDA_ERROR' | tail -50");
        } else if (isfinite(total))
                f = fnd_add(fs, total > 0 ? SEV_INFO : SEV_OK, "snn.errors", "neural_errors_total %.0f (no rate served)", total);
        else
                f = fnd_add(fs, any ? SEV_SKIPPED : SEV_UNKNOWN, "snn.errors", "no error metric %s", any ? "served" : "read");

        /* CUDA memory */
        double used = metric(&m, &n, "cuda_memory_used_bytes"), tot = metric(&m, &n, "cuda_memory_total_bytes");
        double util = metric(&m, &n, "neural_gpu_utilization_percent"), pct;
        double cwarn = conf_num(c, "cuda_memory_warn_pct");
        enum severity cv = snn_cuda_memory_verdict(used, tot, cwarn, &pct);
        char bs[24] = "not set", cs[24] = "not set";
        if (s->have_conf && s->conf.batch_size >= 0)
                snprintf(bs, sizeof(bs), "%" PRId64, s->conf.batch_size);
        if (s->have_conf && s->conf.cuda_streams >= 0)
                snprintf(cs, sizeof(cs), "%" PRId64, s->conf.cuda_streams);
        if (cv == SEV_SKIPPED)
                f = fnd_add(fs, SEV_SKIPPED, "snn.cuda_memory", "no CUDA memory metrics (cuda_memory_used_bytes, cuda_memory_total_bytes) %s",
                            any ? "served" : "read");
        else {
                char u[32], t[32];
                f = fnd_add(fs, cv, "snn.cuda_memory", "CUDA memory %s of %s used (%.1f%%)", fmt_bytes((uint64_t)used, u),
                            fmt_bytes((uint64_t)tot, t), pct);
                fnd_expected(f, "at most %.0f%%", cwarn);
                if (cv >= SEV_WARN)
                        fnd_remedy(f, "reduce [performance] batch_size (now %s) and cuda_streams (now %s) in %s, then "
                                      "restart the service (guide: \"CUDA Out of Memory\")",
                                   bs, cs, s->conf_path ? s->conf_path : "production.toml");
        }
        if (isfinite(util))
                fnd_actual(f, "GPU utilization %.0f%%", util);
        prom_text_free(&m);
        prom_text_free(&n);
}

void snn_store_reply(struct bundle_sink *bs, const struct snn *s, const struct reply *r, const char *name)
{
        char o[512];
        snn_origin(s, r, o, sizeof(o));
        if (!r->tried)
                sink_missing(bs, name, "http", o, "skipped", r->skipped);
        else if (r->rc < 0 && r->r.err != HTTP_E_TOO_LARGE)
                sink_missing(bs, name, "http", o, http_error_name(r->r.err), r->r.error);
        else
                sink_text(bs, name, "http", o, r->r.body, r->r.len);
}
