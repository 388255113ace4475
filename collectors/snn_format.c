/* snn collector: the pure parsers and decisions (/health in both shapes, /info,
 * latency quantiles), shared by check, watch, the unit tests and the fuzz targets. */
#include "config.h"
#include "collectors/snn.h"
#include "lib/jsonparse.h"
#include "lib/prometheus_text.h"
#include "lib/toml.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

static void copy_str(json_object *o, const char *key, char *dst, size_t n)
{
        json_object *v;
        dst[0] = 0;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                snprintf(dst, n, "%s", json_object_get_string(v));
}

static double get_num(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v))
                return -1;
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
                return -1;
        double d = json_object_get_double(v);
        return isfinite(d) && d >= 0 ? d : -1;
}

static json_object *parse_object(const char *body, size_t len, const char *what, char **err)
{
        char *e = NULL;
        json_object *o = json_parse_whole(body, len, &e);
        if (!o) {
                *err = xasprintf("%s: %s", what, e);
                free(e);
                return NULL;
        }
        if (!json_object_is_type(o, json_type_object)) {
                *err = xasprintf("%s: not a JSON object", what);
                json_object_put(o);
                return NULL;
        }
        return o;
}

int snn_health_parse(const char *body, size_t len, struct snn_health *h, char **err)
{
        memset(h, 0, sizeof(*h));
        h->uptime_s = -1;
        json_object *o = parse_object(body, len, "/health", err);
        if (!o)
                return -EINVAL;
        json_object *st, *checks;
        if (!json_object_object_get_ex(o, "status", &st) || !json_object_is_type(st, json_type_string)) {
                *err = xstrdup("/health: no \"status\" text in the reply");
                json_object_put(o);
                return -EINVAL;
        }
        const char *s = json_object_get_string(st);
        snprintf(h->status_text, sizeof(h->status_text), "%s", s);
        h->status = streq(s, "healthy") ? SNN_HEALTHY : streq(s, "degraded") ? SNN_DEGRADED
                  : streq(s, "unhealthy")                 ? SNN_UNHEALTHY
                                                          : SNN_STATUS_OTHER;
        copy_str(o, "version", h->version, sizeof(h->version));
        h->uptime_s = get_num(o, "uptime_seconds");
        bool has_checks = json_object_object_get_ex(o, "checks", &checks);
        h->shape = has_checks || h->uptime_s >= 0 || json_object_object_get_ex(o, "neural_metrics", NULL)
                           ? SNN_SHAPE_DOCS
                           : SNN_SHAPE_CODE;
        if (has_checks && json_object_is_type(checks, json_type_array)) {
                size_t n = json_object_array_length(checks);
                h->checks_total = n;
                for (size_t i = 0; i < n; i++) {
                        json_object *c = json_object_array_get_idx(checks, i);
                        if (!json_object_is_type(c, json_type_object))
                                continue;
                        char name[64], cst[16];
                        copy_str(c, "name", name, sizeof(name));
                        copy_str(c, "status", cst, sizeof(cst));
                        if (!streq(cst, "pass"))
                                h->failing++;
                        if (h->nchecks == SNN_HCHECKS_MAX)
                                continue;
                        struct snn_hcheck *k = &h->checks[h->nchecks++];
                        memcpy(k->name, name, sizeof(name));
                        memcpy(k->status, cst, sizeof(cst));
                        copy_str(c, "message", k->message, sizeof(k->message));
                        k->duration_ms = get_num(c, "duration_ms");
                }
        }
        json_object_put(o);
        return 0;
}

enum severity snn_health_verdict(const struct snn_health *h)
{
        switch (h->status) {
        case SNN_HEALTHY:
                return h->failing ? SEV_WARN : SEV_OK;
        case SNN_UNHEALTHY:
                return SEV_CRIT;
        default:
                return SEV_WARN;
        }
}

char *snn_failing_checks(const struct snn_health *h)
{
        struct strbuf b = {0};
        size_t shown = 0;
        for (size_t i = 0; i < h->nchecks; i++) {
                const struct snn_hcheck *k = &h->checks[i];
                if (streq(k->status, "pass"))
                        continue;
                sb_printf(&b, "%s%s: %s", shown++ ? ", " : "", *k->name ? k->name : "(unnamed)",
                          *k->status ? k->status : "(no status)");
                if (*k->message)
                        sb_printf(&b, " (%s)", k->message);
        }
        if (h->failing > shown)
                sb_printf(&b, "%s%zu more", shown ? ", and " : "", h->failing - shown);
        return b.len ? sb_steal(&b) : (sb_free(&b), NULL);
}

int snn_info_parse(const char *body, size_t len, struct snn_info *in, char **err)
{
        memset(in, 0, sizeof(*in));
        json_object *o = parse_object(body, len, "/info", err);
        if (!o)
                return -EINVAL;
        copy_str(o, "service", in->service, sizeof(in->service));
        copy_str(o, "version", in->version, sizeof(in->version));
        copy_str(o, "build_timestamp", in->build, sizeof(in->build));
        copy_str(o, "commit_hash", in->commit, sizeof(in->commit));
        copy_str(o, "rust_version", in->rust, sizeof(in->rust));
        json_object_put(o);
        return 0;
}

void snn_latency_of(const struct prom_text *t, const char *metric, struct snn_latency *l)
{
        *l = (struct snn_latency){.metric = metric, .p50 = NAN, .p95 = NAN, .p99 = NAN, .count = 0};
        l->rc = prom_histogram_quantile(t, metric, 0.5, &l->p50, &l->count, &l->why);
        if (l->rc < 0)
                return;
        (void)prom_histogram_quantile(t, metric, 0.95, &l->p95, NULL, NULL);
        (void)prom_histogram_quantile(t, metric, 0.99, &l->p99, NULL, NULL);
}

enum severity snn_latency_verdict(const struct snn_latency *l, double warn_s, double crit_s)
{
        if (l->rc < 0 || !(l->count > 0) || isnan(l->p95))
                return SEV_SKIPPED;
        if (l->p95 >= crit_s)
                return SEV_CRIT;
        if (l->p95 >= warn_s)
                return SEV_WARN;
        return SEV_OK;
}

const char *snn_fmt_seconds(double s, char buf[static 32])
{
        if (isnan(s))
                snprintf(buf, 32, "n/a");
        else if (isinf(s))
                snprintf(buf, 32, "%s", s > 0 ? "+Inf" : "-Inf");
        else if (fabs(s) < 1e-3)
                snprintf(buf, 32, "%.1f µs", s * 1e6);
        else if (fabs(s) < 1)
                snprintf(buf, 32, "%.2f ms", s * 1e3);
        else
                snprintf(buf, 32, "%.2f s", s);
        return buf;
}

enum severity snn_cuda_memory_verdict(double used, double total, double warn_pct, double *pct)
{
        *pct = NAN;
        if (!isfinite(used) || !isfinite(total) || total <= 0 || used < 0)
                return SEV_SKIPPED;
        *pct = used * 100.0 / total;
        return *pct > warn_pct ? SEV_WARN : SEV_OK;
}

int snn_conf_parse(const char *text, size_t len, struct snn_conf *c, struct toml_error *err)
{
        *c = (struct snn_conf){.granule_size = -1, .connections_per_neuron = -1, .learning_rate = NAN, .batch_size = -1,
                               .cuda_streams = -1, .port = -1, .max_connections = -1};
        struct toml_doc *d = toml_doc_parse(text, len, err);
        if (!d)
                return -EINVAL;
        c->tables = toml_tables(d, &c->nvalues);
        struct strbuf bad = {0};
#define WRONG(path, kind)                                                                                                 \
        do {                                                                                                          \
                if (!bad.len) {                                                                                       \
                        const char *dot_ = strchr(path, '.');                                                        \
                        sb_printf(&bad, "[%.*s] %s is not %s", (int)(dot_ - (path)), path, dot_ + 1, kind);          \
                }                                                                                                     \
        } while (0)
        if (toml_get_string(d, "performance.device", &c->device) == -EINVAL)
                WRONG("performance.device", "a text");
        struct {
                const char *path;
                int64_t *dst;
        } ints[] = {
                {"neural.granule_size", &c->granule_size}, {"neural.connections_per_neuron", &c->connections_per_neuron},
                {"performance.batch_size", &c->batch_size}, {"performance.cuda_streams", &c->cuda_streams},
                {"server.port", &c->port},                   {"server.max_connections", &c->max_connections},
        };
        for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
                int64_t v;
                int rc = toml_get_int(d, ints[i].path, &v);
                if (rc == 0 && v >= 0)
                        *ints[i].dst = v;
                else if (rc == -EINVAL || (rc == 0 && v < 0))
                        WRONG(ints[i].path, "a whole number >= 0");
        }
        double lr;
        int rc = toml_get_number(d, "neural.learning_rate", &lr);
        if (rc == 0 && isfinite(lr))
                c->learning_rate = lr;
        else if (rc == 0 || rc == -EINVAL)
                WRONG("neural.learning_rate", "a number");
        char *ml = NULL;
        int64_t mli;
        if (toml_get_string(d, "performance.memory_limit", &ml) == 0) {
                if (parse_size(ml, &c->memory_limit) < 0 || !c->memory_limit)
                        WRONG("performance.memory_limit", "a size (\"28GB\")");
                free(ml);
        } else if (toml_get_int(d, "performance.memory_limit", &mli) == 0 && mli > 0)
                c->memory_limit = (uint64_t)mli;
        else if (toml_kind_at(d, "performance.memory_limit") != TOML_NONE)
                WRONG("performance.memory_limit", "a size (\"28GB\")");
#undef WRONG
        c->bad = bad.len ? sb_steal(&bad) : (sb_free(&bad), NULL);
        toml_doc_free(d);
        return 0;
}

void snn_conf_free(struct snn_conf *c)
{
        free(c->tables);
        free(c->device);
        free(c->bad);
        memset(c, 0, sizeof(*c));
}

uint64_t snn_granule_bytes(int64_t granule_size, int64_t connections)
{
        if (granule_size <= 0 || connections <= 0)
                return 0;
        uint64_t g = (uint64_t)granule_size, k = (uint64_t)connections;
        if (g > UINT64_MAX / 4 / k)
                return UINT64_MAX;
        return g * 4 * k;
}

const char *snn_cuda_error_meaning(const char *name, int *code)
{
        static const struct {
                const char *name, *text;
                int code;
        } m[] = {
                {"CUDA_ERROR_OUT_OF_MEMORY", "out of GPU memory", 2},
                {"CUDA_ERROR_INVALID_DEVICE", "invalid device (no such GPU, or the driver does not see it)", 101},
                {"CUDA_ERROR_LAUNCH_FAILED", "kernel launch failed", 719},
        };
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
                if (streq(m[i].name, name)) {
                        *code = m[i].code;
                        return m[i].text;
                }
        return NULL;
}

static void log_count(struct snn_log_scan *s, const char *what, const char *line, size_t ll)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i].what, what)) {
                        s->v[i].count++;
                        return;
                }
        if (s->n == SNN_LOG_KINDS)
                return;
        size_t i = s->n++;
        snprintf(s->v[i].what, sizeof(s->v[i].what), "%s", what);
        s->v[i].count = 1;
        size_t k = ll < sizeof(s->v[i].example) - 1 ? ll : sizeof(s->v[i].example) - 1;
        for (size_t j = 0; j < k; j++)
                s->v[i].example[j] = isprint((unsigned char)line[j]) ? line[j] : '?';
        s->v[i].example[k] = 0;
}

static const char *find_ci(const char *h, size_t hl, const char *n)
{
        size_t nl = strlen(n);
        for (size_t i = 0; i + nl <= hl; i++)
                if (!strncasecmp(h + i, n, nl))
                        return h + i;
        return NULL;
}

static bool word_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/* A whole word (any case), e.g. ERROR but not the one inside CUDA_ERROR_X. */
static bool has_word_ci(const char *h, size_t hl, const char *w)
{
        size_t wl = strlen(w);
        for (size_t i = 0; i + wl <= hl; i++)
                if (!strncasecmp(h + i, w, wl) && (i == 0 || !word_char(h[i - 1])) && (i + wl == hl || !word_char(h[i + wl])))
                        return true;
        return false;
}

#define SNN_JSON_LINES_MAX 20000 /* JSON lines parsed per scan: bounded CPU */

void snn_log_scan(const char *text, size_t len, double budget_ns, struct snn_log_scan *s)
{
        memset(s, 0, sizeof(*s));
        s->max_processing_ns = NAN;
        for (size_t i = 0; i < len;) {
                const char *line = text + i;
                const char *nl = memchr(line, '\n', len - i);
                size_t ll = nl ? (size_t)(nl - line) : len - i;
                i += ll + 1;
                if (!ll)
                        continue;
                s->lines++;
                const char *lvl = NULL;
                if (line[0] == '{' && s->json_lines < SNN_JSON_LINES_MAX && ll < 65536) {
                        char *jerr = NULL;
                        json_object *o = json_parse_whole(line, ll, &jerr);
                        free(jerr);
                        if (o && json_object_is_type(o, json_type_object)) {
                                s->json_lines++;
                                json_object *v, *fl, *pt;
                                if (json_object_object_get_ex(o, "level", &v) && json_object_is_type(v, json_type_string))
                                        lvl = strcasecmp(json_object_get_string(v), "error") == 0 ? "e"
                                              : !strncasecmp(json_object_get_string(v), "warn", 4) ? "w"
                                                                                                    : ""; /* its level decides */
                                if (json_object_object_get_ex(o, "fields", &fl) &&
                                    json_object_object_get_ex(fl, "processing_time_ns", &pt) &&
                                    (json_object_is_type(pt, json_type_int) || json_object_is_type(pt, json_type_double))) {
                                        double ns = json_object_get_double(pt);
                                        if (isfinite(ns) && ns >= 0) {
                                                if (isnan(s->max_processing_ns) || ns > s->max_processing_ns)
                                                        s->max_processing_ns = ns;
                                                if (budget_ns > 0 && ns >= budget_ns)
                                                        s->over_budget++;
                                        }
                                }
                        }
                        json_object_put(o);
                }
                if (!lvl)
                        lvl = has_word_ci(line, ll, "ERROR") ? "e"
                              : has_word_ci(line, ll, "WARN") || has_word_ci(line, ll, "WARNING") ? "w"
                                                                                                   : NULL;
                if (lvl && *lvl == 'e')
                        s->errors++;
                else if (lvl && *lvl == 'w')
                        s->warnings++;
                const char *c = memmem(line, ll, "CUDA_ERROR_", 11);
                if (c) {
                        char name[40];
                        size_t k = 0;
                        while (k < sizeof(name) - 1 && c + k < line + ll && (isupper((unsigned char)c[k]) || c[k] == '_'))
                                name[k] = c[k], k++;
                        name[k] = 0;
                        log_count(s, name, line, ll);
                }
                if (memmem(line, ll, "OutOfMemory", 11))
                        log_count(s, "OutOfMemory", line, ll);
                if (find_ci(line, ll, "allocation failed"))
                        log_count(s, "allocation failed", line, ll);
                const char *lat = find_ci(line, ll, "latency");
                if (lat && find_ci(lat, ll - (size_t)(lat - line), "exceeded"))
                        log_count(s, "latency exceeded", line, ll);
        }
}

/* ---- RSS series ---- */

void snn_rss_add(struct snn_rss_series *s, uint64_t t_ms, uint64_t rss)
{
        if (s->n == SNN_RSS_MAX) {
                size_t k = 0;
                for (size_t i = 0; i < SNN_RSS_MAX; i += 2, k++) {
                        s->t_ms[k] = s->t_ms[i];
                        s->rss[k] = s->rss[i];
                }
                s->n = k;
        }
        s->t_ms[s->n] = t_ms;
        s->rss[s->n++] = rss;
}

int snn_rss_trend(const struct snn_rss_series *s, struct snn_rss_trend *t)
{
        memset(t, 0, sizeof(*t));
        if (s->n < 2 || s->t_ms[s->n - 1] <= s->t_ms[0])
                return -EINVAL;
        double n = (double)s->n, st = 0, sr = 0, stt = 0, str = 0;
        for (size_t i = 0; i < s->n; i++) {
                double x = (double)(s->t_ms[i] - s->t_ms[0]), y = (double)s->rss[i];
                st += x, sr += y, stt += x * x, str += x * y;
                if (i) {
                        t->steps++;
                        t->rises += s->rss[i] > s->rss[i - 1];
                }
        }
        double den = n * stt - st * st;
        t->per_min = den > 0 ? (n * str - st * sr) / den * 60000.0 : 0;
        t->growth = (int64_t)(s->rss[s->n - 1] - s->rss[0]);
        t->span_ms = s->t_ms[s->n - 1] - s->t_ms[0];
        return 0;
}

enum severity snn_rss_verdict(const struct snn_rss_trend *t, uint64_t warn_per_min, uint64_t crit_per_min)
{
        if (!t->steps || t->per_min < (double)warn_per_min || t->growth <= 0)
                return SEV_OK;
        if (t->rises * 4 < t->steps * 3)
                return SEV_INFO;
        return crit_per_min && t->per_min >= (double)crit_per_min ? SEV_CRIT : SEV_WARN;
}
