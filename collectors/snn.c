/* snn: the Cerebellar-Norse spiking-neural-network service (COMPONENTS.md §3, the
 * cerebellar-norse guide). Is it there (unit, process, config, listener), what does
 * its HTTP exporter say (/health in the code's and the docs' shapes, /info, /metrics
 * and /neural/metrics), is its inference latency within the guide's 10 µs budget,
 * how many errors, how full is its CUDA memory. No credential is ever sent: the
 * exporter's routes need none, and the config's api_key is never read out. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/sample_util.h"
#include "collectors/sink.h"
#include "collectors/snn.h"
#include "lib/gpuprobe.h"
#include "lib/http.h"
#include "lib/journal.h"
#include "lib/procfs.h"
#include "lib/prometheus_text.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"
#include "lib/sample.h"
#include "lib/tail.h"
#include "lib/toml.h"
#include "lib/trust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SNN_UNIT "cerebellar-norse.service"
#define SNN_CONFIG_DEFAULT "/etc/cerebellar-norse/production.toml"
#define SNN_URL_DEFAULT "http://127.0.0.1:8080"

static const struct check_info checks[] = {
        {"snn.process", "Cerebellar-Norse process",
         "Is a process named cerebellar-norse (the docs' binary) or metrics-exporter (the\n"
         "exporter the code's Dockerfile builds) running? It counts as the service only when\n"
         "root or the service user ([snn] service_user, default cerebellar, the docs' User=)\n"
         "owns it, or it is the unit's main pid; anyone can name a process cerebellar-norse,\n"
         "so another owner is reported (warn) and nothing it says is used.\n"
         "None running is info: the code is a library, the service may run in a container;\n"
         "the HTTP checks say whether it answers.\n"
         "Fix: systemctl status cerebellar-norse; journalctl -u cerebellar-norse -n 100"},
        {"snn.health", "The service's /health",
         "GET <[snn] url>/health with a connect and a total timeout. Two shapes exist: the\n"
         "code's exporter answers {\"status\":\"healthy\",\"timestamp\",\"version\"} (always healthy:\n"
         "it only proves the process answers), the docs' API answers {status: healthy|degraded|\n"
         "unhealthy, checks[{name,status pass|warn|fail,message,duration_ms}], uptime_seconds}.\n"
         "healthy: ok; degraded: warn, naming the failing checks; unhealthy, no answer, or no\n"
         "answer in time: crit; a reply that is not the health JSON (or larger than [snn]\n"
         "body_max): warn.\n"
         "Fix (cerebellar-norse guide, \"Service Won't Start\" / \"Health Check\"):\n"
         "  systemctl status cerebellar-norse; journalctl -u cerebellar-norse -n 100\n"
         "  curl -s http://localhost:8080/health | jq .\n"
         "  ss -tlnp | grep 8080   # is something else on the port?",
         .live = true},
        {"snn.info", "The service's /info (version, build, commit)",
         "GET <[snn] url>/info: service, version, build_timestamp, commit_hash, rust_version\n"
         "(the exporter's build facts; quote them in a bug report). Info when read; skipped\n"
         "when the service does not serve it.",
         .live = true},
        {"snn.metrics", "Prometheus metrics: /metrics and /neural/metrics",
         "GET <[snn] url>/metrics and /neural/metrics, read by evodiag's strict Prometheus text\n"
         "parser (line length, series and label limits). Lines that are not valid samples, or a\n"
         "reply larger than [snn] body_max, are a warning: Prometheus would reject the scrape\n"
         "too, and the latency and error checks then have nothing to go on.\n"
         "Fix: curl -s http://localhost:8080/metrics | promtool check metrics",
         .live = true},
        {"snn.latency", "Inference latency against the 10 µs budget",
         "p50, p95 and p99 of the histograms neural_inference_latency_seconds (the code) and\n"
         "processing_duration_seconds (the docs' alert rules), computed from their buckets the\n"
         "way PromQL's histogram_quantile does (linear interpolation inside the bucket). p95 at\n"
         "or above [snn] latency_warn_us (default 10, the guide's budget) is a warning, at or\n"
         "above latency_crit_us crit. /neural/metrics' gauge neural_inference_latency_ns is\n"
         "shown too.\n"
         "Fix (cerebellar-norse guide, \"High Latency\"): check CPU frequency scaling and\n"
         "thermal throttling, pin the service to isolated cores, use device = \"cuda\" with a GPU,\n"
         "lower batch_size; perf top -p $(pidof cerebellar-norse)",
         .live = true},
        {"snn.errors", "Neural processing errors",
         "neural_errors_total (/metrics) and neural_error_rate_percent (/neural/metrics). A\n"
         "rate at or above [snn] error_rate_warn_pct is a warning; errors counted without a\n"
         "rate are info.\n"
         "Fix: journalctl -u cerebellar-norse | grep -iE 'error|CUDA_ERROR'; see the\n"
         "cerebellar-norse guide, \"Neural Processing Errors\".",
         .live = true},
        {"snn.cuda_memory", "CUDA memory of the service",
         "cuda_memory_used_bytes / cuda_memory_total_bytes (the docs' CUDAMemoryHigh alert) above\n"
         "[snn] cuda_memory_warn_pct (default 90) is a warning: the next allocation fails with\n"
         "CUDA_ERROR_OUT_OF_MEMORY (2). neural_gpu_utilization_percent is shown with it.\n"
         "Fix (guide, \"CUDA Out of Memory\"): reduce [performance] batch_size and cuda_streams\n"
         "in production.toml; nvidia-smi --query-compute-apps=pid,used_memory --format=csv",
         .live = true},
        {"snn.config", "The service's production.toml",
         "The config file: [snn] config, else CEREBELLAR_CONFIG_PATH in the environment of the\n"
         "running service (a path taken from a process is read only when root or the service\n"
         "user owns it and every directory on the way), else /etc/cerebellar-norse/production.toml\n"
         "(deployment.md). It is read as TOML with toml++ (both documented layouts: [neural]\n"
         "[performance] [security] [logging] [monitoring], and [server] [training]). A file that\n"
         "is not TOML is a warning with toml++'s line and column: the service would refuse it;\n"
         "a value of the wrong type (device = 1) is a warning too. Secrets (api_key, the key\n"
         "files' contents) are never read out; the bundle's copy is redacted.\n"
         "Fix: cerebellar-norse --config /etc/cerebellar-norse/production.toml --validate-only"},
        {"snn.device", "device = \"cuda\" without a usable GPU",
         "[performance] device = \"cuda\" on a host where no NVIDIA GPU answers (NVML or\n"
         "nvidia-smi within a deadline, lib/gpuprobe: the same probe as the gpu collector) is\n"
         "crit: the guide's \"Device Mismatch\"; the service fails or falls back to the CPU, far\n"
         "over its latency budget.\n"
         "Fix: nvidia-smi || echo \"No GPU available, using CPU\"; set device = \"cpu\", or fix\n"
         "the driver (see the gpu collector's findings).",
         .live = true},
        {"snn.memory_fit", "Network size and memory_limit against the host's memory",
         "The guide's formula: granule_size * 4 bytes (f32) * connections_per_neuron must stay\n"
         "below the available memory (connections_per_neuron from [neural], else [snn]\n"
         "connections_per_neuron: 800, the guide's \"10000000 requires > 32GB\"). Compared with\n"
         "MemTotal (/proc/meminfo): at or above it is a warning. [performance] memory_limit\n"
         "above MemTotal is a warning too (the guide leaves 4 GB for the system).\n"
         "Fix: lower [neural] granule_size (the guide: 4000000 -> 2000000), or memory_limit."},
        {"snn.learning_rate", "Learning rate above 0.01",
         "[neural] learning_rate above 0.01: the guide's \"Learning Rate Too High\" (training\n"
         "loss not decreasing, erratic spikes). Info, not a fault.\n"
         "Fix: [neural] learning_rate = 0.0001"},
        {"snn.logs", "The service's log files",
         "The last [snn] log_tail bytes of each of [snn] logs (the docs name both\n"
         "/var/log/cerebellar-norse/application.log and app.log), plain or JSON lines (\"level\",\n"
         "\"fields.processing_time_ns\"). Counted: CUDA_ERROR_* (OUT_OF_MEMORY 2, INVALID_DEVICE\n"
         "101, LAUNCH_FAILED 719), OutOfMemory, \"allocation failed\", \"latency ... exceeded\",\n"
         "error and warning lines, processing times at or above the latency budget. Any of the\n"
         "first four is a warning; errors alone are info. The unit's journal is not read here.\n"
         "Fix (guide, \"CUDA Errors\"): nvidia-smi --query-gpu=memory.free --format=csv; lower\n"
         "granule_size or batch_size for OUT_OF_MEMORY; nvidia-smi -L for INVALID_DEVICE;\n"
         "dmesg | grep NVRM and rebuild the kernels for LAUNCH_FAILED."},
        {"snn.resources", "Host limits the guide names for the service",
         "net.core.somaxconn (/proc/sys/net/core/somaxconn) below [server] max_connections: a burst\n"
         "of connections overflows the accept queue (the guide's \"API Timeouts\"): warn. The\n"
         "service's open-files limit (/proc/PID/limits) below max_connections: warn. CPU frequency\n"
         "capped: scaling_max_freq below cpuinfo_max_freq on any CPU\n"
         "(/sys/devices/system/cpu/cpu*/cpufreq), or thermal throttling events counted in\n"
         "thermal_throttle/*_throttle_count: warn, the latency budget cannot hold.\n"
         "Fix: sysctl -w net.core.somaxconn=<max_connections>; LimitNOFILE= in the unit;\n"
         "cpupower frequency-set -g performance; check cooling (sensors)."},
        {0},
};

static const struct config_key config[] = {
        CONF_STR("url", SNN_URL_DEFAULT, "base URL of the service's HTTP exporter (no credentials are sent)"),
        CONF_STR("service_user", "cerebellar", "the service's user: its processes (and root's) are the service"),
        CONF_UINT("connect_timeout_ms", "1000", 1, 600000, "connect timeout of each request"),
        CONF_UINT("timeout_ms", "3000", 1, 600000, "total timeout of each request"),
        CONF_SIZE("body_max", "4M", "largest reply read; a larger one is cut there and reported"),
        CONF_UINT("latency_warn_us", "10", 0, 1e12, "warn when p95 inference latency reaches this (µs; the guide's budget)"),
        CONF_UINT("latency_crit_us", "100", 0, 1e12, "crit when p95 inference latency reaches this (µs)"),
        CONF_PCT("error_rate_warn_pct", "1", "warn when neural_error_rate_percent reaches this"),
        CONF_PCT("cuda_memory_warn_pct", "90", "warn when CUDA memory use is above this % (the docs' CUDAMemoryHigh)"),
        CONF_STR("config", "", "the service's production.toml (empty: CEREBELLAR_CONFIG_PATH of the service, else " SNN_CONFIG_DEFAULT ")"),
        CONF_UINT("connections_per_neuron", "800", 1, 1e9, "for the guide's memory formula when [neural] does not say"),
        CONF_DURATION("gpu_deadline", "5s", "how long the GPU probe (NVML, nvidia-smi) may take for snn.device"),
        CONF_STR("nvml_path", "", "NVML library for the GPU probe (empty: libnvidia-ml.so.1; none: do not use)"),
        CONF_STR("nvidia_smi", "nvidia-smi", "nvidia-smi for the GPU probe (a path, or none)"),
        CONF_LIST("logs", "/var/log/cerebellar-norse/application.log,/var/log/cerebellar-norse/app.log",
                  "the service's log files (both names the docs use)"),
        CONF_SIZE("log_tail", "1M", "bytes read from the end of each log file"),
        CONF_STR("unit", SNN_UNIT, "the systemd unit whose journal snn.logs reads (none: do not read the journal)"),
        CONF_STR("journal_dir", "", "read the journal from this directory instead of the host's"),
        CONF_DURATION("journal_since", "1h", "how far back snn.logs reads the unit's journal"),
        CONF_DURATION("watch_interval", "10s", "watch: how often /health and /metrics are asked (slower than the sampling)"),
        {0},
};

static const char *const process_names[] = {"cerebellar-norse", "metrics-exporter", NULL};

struct reply {
        const char *path;
        bool tried;
        char *skipped; /* why not asked */
        int rc;
        struct http_resp r;
};

struct snn {
        char *url;     /* without a trailing / */
        char *url_pub; /* for messages */
        bool live;
        struct reply health, info, metrics, neural;
        int pids[8];   /* the service's processes (vouched for) */
        size_t npids;
        bool have_conf;
        struct snn_conf conf;
        char *conf_path;
        char *log_path[4], *log_tail[4];
        size_t log_len[4], nlogs;
};

static void reply_free(struct reply *r)
{
        free(r->skipped);
        http_resp_free(&r->r);
}

static void snn_free(struct snn *s)
{
        if (!s)
                return;
        free(s->url);
        free(s->url_pub);
        reply_free(&s->health);
        reply_free(&s->info);
        reply_free(&s->metrics);
        reply_free(&s->neural);
        snn_conf_free(&s->conf);
        free(s->conf_path);
        for (size_t i = 0; i < s->nlogs; i++) {
                free(s->log_path[i]);
                free(s->log_tail[i]);
        }
        free(s);
}

/* What is left of the collector's time for one request, keeping reserve_ms. */
static uint64_t budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms)
{
        if (!c->deadline_ms)
                return want;
        uint64_t now = now_ms_monotonic();
        if (now + reserve_ms + 100 >= c->deadline_ms)
                return 0;
        uint64_t left = c->deadline_ms - now - reserve_ms;
        return want < left ? want : left;
}

static void fetch(const struct ctx *c, const struct snn *s, struct reply *rp, const char *path)
{
        rp->path = path;
        uint64_t t = budget_ms(c, conf_uint(c, "timeout_ms"), 500);
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

/* ---- detection ---- */

/* host and port of an http:// URL with a numeric IPv4/IPv6 host or localhost. */
static int url_addr(const char *url, int *family, unsigned char addr[16], unsigned *port)
{
        const char *p = url;
        unsigned def = 80;
        if (startswith(p, "http://"))
                p += 7;
        else if (startswith(p, "https://"))
                p += 8, def = 443;
        else
                return -EINVAL;
        const char *at = strchr(p, '@'), *slash = strchr(p, '/');
        if (at && (!slash || at < slash))
                p = at + 1;
        char host[64];
        const char *end;
        if (*p == '[') {
                end = strchr(p, ']');
                if (!end || (size_t)(end - p - 1) >= sizeof(host))
                        return -EINVAL;
                memcpy(host, p + 1, (size_t)(end - p - 1));
                host[end - p - 1] = 0;
                end++;
        } else {
                size_t l = strcspn(p, ":/");
                if (l >= sizeof(host))
                        return -EINVAL;
                memcpy(host, p, l);
                host[l] = 0;
                end = p + l;
        }
        *port = def;
        if (*end == ':') {
                uint64_t v;
                _cleanup_free_ char *ps = xstrndup(end + 1, strcspn(end + 1, "/"));
                if (parse_u64(ps, &v) < 0 || v == 0 || v > 65535)
                        return -EINVAL;
                *port = (unsigned)v;
        }
        if (streq(host, "localhost"))
                snprintf(host, sizeof(host), "127.0.0.1");
        if (inet_pton(AF_INET, host, addr) == 1)
                *family = AF_INET;
        else if (inet_pton(AF_INET6, host, addr) == 1)
                *family = AF_INET6;
        else
                return -EINVAL;
        return 0;
}

/* Does something listen where [snn] url points (/proc/net/tcp, tcp6)? */
static bool url_listening(const char *url)
{
        int family;
        unsigned char addr[16];
        unsigned port, uids[4];
        if (url_addr(url, &family, addr, &port) < 0)
                return false;
        static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *text = NULL;
                if (rootfs_read(files[i], 8u << 20, &text, NULL) < 0)
                        continue;
                if (trust_tcp_listen_uids(text, i == 1, family, addr, port, uids, 4) > 0)
                        return true;
        }
        return false;
}

static bool unit_installed(void)
{
        static const char *const dirs[] = {"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
                                           "/lib/systemd/system", NULL};
        for (size_t i = 0; dirs[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/" SNN_UNIT, dirs[i]);
                if (rootfs_exists(p))
                        return true;
        }
        return false;
}

/* The name p goes by ("cerebellar-norse", "metrics-exporter"), or NULL. */
static const char *named_snn(const struct proc *p)
{
        for (size_t i = 0; process_names[i]; i++)
                if (component_named(p, process_names[i]))
                        return process_names[i];
        return NULL;
}

static bool snn_detect(struct ctx *c)
{
        const char *cf = conf_str(c, "config");
        if (unit_installed() || rootfs_exists(SNN_CONFIG_DEFAULT) || (*cf && rootfs_exists(cf)))
                return true;
        const char *env = rootfs_is_live() ? getenv("CEREBELLAR_CONFIG_PATH") : NULL;
        if (env && *env)
                return true;
        struct proctable pt;
        if (proctable_load(&pt) == 0) {
                bool found = false;
                for (size_t i = 0; i < pt.n && !found; i++)
                        found = named_snn(&pt.v[i]) != NULL;
                proctable_free(&pt);
                if (found)
                        return true;
        }
        /* A listener on the port of a URL the operator configured (the default port 8080
         * is too common to mean this service by itself). */
        const char *url = conf_str(c, "url");
        return !streq(url, SNN_URL_DEFAULT) && url_listening(url);
}

/* ---- checks ---- */

static void check_process(struct ctx *c, struct snn *s, struct findings *fs)
{
        struct proctable pt;
        if (proctable_load(&pt) < 0) {
                fnd_add(fs, SEV_UNKNOWN, "snn.process", "the process table cannot be read");
                return;
        }
        struct trust t;
        trust_init(&t, "cerebellar-norse", conf_str(c, "service_user"));
        size_t ok = 0;
        for (size_t i = 0; i < pt.n; i++) {
                const struct proc *p = &pt.v[i];
                const char *name = named_snn(p);
                if (!name)
                        continue;
                struct trust_proc tp;
                struct finding *f;
                if (trust_process(&t, p->pid, &tp)) {
                        char rss[32];
                        f = fnd_add(fs, SEV_OK, "snn.process", "%s runs: pid %d, RSS %s", name, p->pid,
                                    fmt_bytes(p->rss, rss));
                        fnd_actual(f, "vouched for by %s", trust_by_name(tp.by));
                        ok++;
                        if (s->npids < sizeof(s->pids) / sizeof(s->pids[0]))
                                s->pids[s->npids++] = p->pid;
                } else {
                        f = fnd_add(fs, SEV_WARN, "snn.process", "pid %d is named %s but is not the service: uid %u is not %s",
                                    p->pid, name, tp.bad_uid, trust_who(&t));
                        fnd_remedy(f, "ps -o user,pid,args -p %d  # who started it? If the service runs as another user, "
                                      "set [snn] service_user",
                                   p->pid);
                }
                fnd_subject(f, "pid %d", p->pid);
                fnd_evidence(f, "/proc/%d/status", p->pid);
        }
        if (!ok)
                fnd_add(fs, SEV_INFO, "snn.process",
                        "no cerebellar-norse or metrics-exporter process of %s runs here%s", trust_who(&t),
                        unit_installed() ? " (the unit " SNN_UNIT " is installed)" : " (it may run in a container)");
        trust_free(&t);
        proctable_free(&pt);
}

static const char *origin(const struct snn *s, const struct reply *r, char *buf, size_t n)
{
        snprintf(buf, n, "GET %s%s", s->url_pub, r->path);
        return buf;
}

static void check_health(const struct snn *s, struct findings *fs)
{
        const struct reply *r = &s->health;
        char o[512];
        origin(s, r, o, sizeof(o));
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

static void check_info(const struct snn *s, struct findings *fs)
{
        const struct reply *r = &s->info;
        char o[512];
        origin(s, r, o, sizeof(o));
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

static void check_metrics(struct ctx *c, const struct snn *s, struct findings *fs)
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

/* ---- production.toml ---- */

#define SNN_CONF_MAX (1u << 20)

/* Finds and reads the config. Returns the text (NULL with a finding made when it
 * could not be read, or is absent). */
static char *read_config(struct ctx *c, struct snn *s, struct findings *fs, size_t *len)
{
        const char *how = "[snn] config";
        _cleanup_free_ char *path = NULL;
        bool from_process = false;
        int from_pid = 0;
        if (*conf_str(c, "config"))
                path = xstrdup(conf_str(c, "config"));
        for (size_t i = 0; !path && i < s->npids; i++) {
                _cleanup_free_ char *p = xasprintf("/proc/%d/environ", s->pids[i]), *env = NULL;
                long n = rootfs_read(p, 256u << 10, &env, NULL);
                if (n > 0 && (path = environ_get(env, (size_t)n, "CEREBELLAR_CONFIG_PATH"))) {
                        if (!*path) {
                                free(path);
                                path = NULL;
                                continue;
                        }
                        from_process = true;
                        from_pid = s->pids[i];
                }
        }
        _cleanup_free_ char *howbuf = NULL;
        if (from_process) {
                howbuf = xasprintf("CEREBELLAR_CONFIG_PATH of pid %d", from_pid);
                how = howbuf;
                if (path[0] != '/') {
                        _cleanup_free_ char *why = NULL;
                        char *abs = trust_resolve_relative(from_pid, path, &why);
                        if (!abs) {
                                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "snn.config", "%s (%s): %s", path, how, why);
                                fnd_evidence(f, "/proc/%d/environ", from_pid);
                                return NULL;
                        }
                        free(path);
                        path = abs;
                }
        }
        if (!path && rootfs_is_live() && getenv("CEREBELLAR_CONFIG_PATH") && *getenv("CEREBELLAR_CONFIG_PATH")) {
                path = xstrdup(getenv("CEREBELLAR_CONFIG_PATH"));
                how = "CEREBELLAR_CONFIG_PATH of evodiag";
        }
        if (!path) {
                path = xstrdup(SNN_CONFIG_DEFAULT);
                how = "the documented default";
        }
        char *text = NULL;
        bool cut = false;
        long n;
        _cleanup_free_ char *why = NULL;
        if (from_process) {
                struct trust t;
                trust_init(&t, "cerebellar-norse", conf_str(c, "service_user"));
                n = trust_read(&t, path, SNN_CONF_MAX, &text, &cut, &why);
                trust_free(&t);
        } else
                n = rootfs_read(path, SNN_CONF_MAX, &text, &cut);
        struct finding *f;
        if (n < 0) {
                if (n == -ENOENT && !from_process && !*conf_str(c, "config"))
                        f = fnd_add(fs, SEV_SKIPPED, "snn.config", "no %s (%s): the service's built-in settings apply", path, how);
                else if (n == -EPERM && why)
                        f = fnd_add(fs, SEV_WARN, "snn.config", "%s (%s) not read: %s", path, how, why);
                else
                        f = fnd_add(fs, n == -ENOENT ? SEV_WARN : SEV_UNKNOWN, "snn.config", "%s (%s) cannot be read: %s", path,
                                    how, rootfs_strerror((int)n));
                fnd_evidence(f, "%s", path);
                return NULL;
        }
        if (cut) {
                f = fnd_add(fs, SEV_WARN, "snn.config", "%s (%s) is larger than %u bytes: not read", path, how, SNN_CONF_MAX);
                fnd_evidence(f, "%s", path);
                free(text);
                return NULL;
        }
        s->conf_path = xstrdup(path);
        *len = (size_t)n;
        return text;
}

static void check_config(struct ctx *c, struct snn *s, struct findings *fs)
{
        size_t len = 0;
        _cleanup_free_ char *text = read_config(c, s, fs, &len);
        if (!text)
                return;
        struct toml_error err;
        struct finding *f;
        if (snn_conf_parse(text, len, &s->conf, &err) < 0) {
                f = fnd_add(fs, SEV_WARN, "snn.config", "%s is not valid TOML: line %u, column %u: %s", s->conf_path, err.line,
                            err.column, err.what);
                fnd_remedy(f, "fix line %u of %s; cerebellar-norse --config %s --validate-only", err.line, s->conf_path,
                           s->conf_path);
                fnd_evidence(f, "%s", s->conf_path);
                return;
        }
        s->have_conf = true;
        const struct snn_conf *k = &s->conf;
        if (k->bad) {
                f = fnd_add(fs, SEV_WARN, "snn.config", "%s: %s", s->conf_path, k->bad);
                fnd_remedy(f, "cerebellar-norse --config %s --validate-only", s->conf_path);
        } else
                f = fnd_add(fs, SEV_OK, "snn.config", "%s read: %zu values in [%s]", s->conf_path, k->nvalues,
                            *k->tables ? k->tables : "no tables");
        struct strbuf a = {0};
        if (k->device)
                sb_printf(&a, "device %s, ", k->device);
        if (k->granule_size >= 0)
                sb_printf(&a, "granule_size %" PRId64 ", ", k->granule_size);
        if (k->batch_size >= 0)
                sb_printf(&a, "batch_size %" PRId64 ", ", k->batch_size);
        if (k->cuda_streams >= 0)
                sb_printf(&a, "cuda_streams %" PRId64 ", ", k->cuda_streams);
        if (k->port >= 0)
                sb_printf(&a, "[server] port %" PRId64 ", ", k->port);
        if (a.len > 2) {
                a.s[a.len - 2] = 0;
                fnd_actual(f, "%s", a.s);
        }
        sb_free(&a);
        fnd_evidence(f, "%s", s->conf_path);

        /* device = "cuda" without a GPU */
        if (!k->device)
                f = fnd_add(fs, SEV_SKIPPED, "snn.device", "[performance] device not set");
        else if (strcasecmp(k->device, "cuda") != 0)
                f = fnd_add(fs, SEV_OK, "snn.device", "device = \"%s\": no GPU needed", k->device);
        else if (!rootfs_is_live())
                f = fnd_add(fs, SEV_SKIPPED, "snn.device", "device = \"cuda\": whether a GPU answers is asked on the live host only");
        else {
                uint64_t ms = 5000;
                (void)parse_duration_ms(conf_str(c, "gpu_deadline"), &ms);
                uint64_t t = budget_ms(c, ms, 1500);
                struct gpu_query_opts o = {.nvml_path = conf_str(c, "nvml_path"), .smi = conf_str(c, "nvidia_smi"), .timeout_ms = t ? t : 1};
                if (c->deadline_ms > 1500)
                        o.stop_ms = c->deadline_ms - 1000;
                _cleanup_free_ char *why = NULL;
                if (gpu_usable(&o, &why)) {
                        f = fnd_add(fs, SEV_OK, "snn.device", "device = \"cuda\" and a GPU answers");
                        fnd_actual(f, "%s", why ? why : "");
                } else {
                        f = fnd_add(fs, SEV_CRIT, "snn.device", "device = \"cuda\" but no usable NVIDIA GPU here: %s",
                                    why ? why : "none found");
                        fnd_expected(f, "a GPU that answers NVML or nvidia-smi, or device = \"cpu\"");
                        fnd_remedy(f, "nvidia-smi || echo \"No GPU available, using CPU\"; set [performance] device = \"cpu\" "
                                      "in %s, or fix the driver (evodiag check --only gpu)",
                                   s->conf_path);
                }
        }
        fnd_evidence(f, "%s", s->conf_path);

        /* memory: the guide's formula, memory_limit */
        uint64_t memtotal = 0;
        _cleanup_free_ char *mi = NULL;
        struct kvlist kv = {0};
        if (rootfs_read("/proc/meminfo", 64u << 10, &mi, NULL) >= 0 && kv_parse(mi, ':', &kv) == 0)
                (void)kv_get_u64(&kv, "MemTotal", &memtotal);
        kv_free(&kv);
        char b1[32], b2[32];
        if (k->granule_size > 0) {
                int64_t conns = k->connections_per_neuron > 0 ? k->connections_per_neuron : (int64_t)conf_uint(c, "connections_per_neuron");
                uint64_t need = snn_granule_bytes(k->granule_size, conns);
                if (!memtotal)
                        f = fnd_add(fs, SEV_UNKNOWN, "snn.memory_fit", "granule_size needs %s; MemTotal unknown", fmt_bytes(need, b1));
                else {
                        enum severity sev = need >= memtotal ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, sev, "snn.memory_fit", "granule_size %" PRId64 " x 4 bytes x %" PRId64
                                    " connections = %s%s MemTotal %s", k->granule_size, conns, fmt_bytes(need, b1),
                                    sev == SEV_WARN ? ", at or above" : ", below", fmt_bytes(memtotal, b2));
                        fnd_expected(f, "granule_size * 4 bytes * connections_per_neuron < available memory");
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "lower [neural] granule_size in %s (the guide: 4000000 -> 2000000)", s->conf_path);
                        fnd_actual(f, "connections per neuron from %s",
                                   k->connections_per_neuron > 0 ? "[neural] connections_per_neuron" : "[snn] connections_per_neuron");
                }
                fnd_subject(f, "granule_size");
                fnd_evidence(f, "%s, /proc/meminfo", s->conf_path);
        }
        if (k->memory_limit && memtotal) {
                enum severity sev = k->memory_limit > memtotal ? SEV_WARN : SEV_OK;
                f = fnd_add(fs, sev, "snn.memory_fit", "memory_limit %s %s MemTotal %s", fmt_bytes(k->memory_limit, b1),
                            sev == SEV_WARN ? "is above" : "within", fmt_bytes(memtotal, b2));
                if (sev == SEV_WARN)
                        fnd_remedy(f, "set [performance] memory_limit below MemTotal, leaving 4 GB for the system (the guide)");
                fnd_subject(f, "memory_limit");
                fnd_evidence(f, "%s, /proc/meminfo", s->conf_path);
        }
        if (k->granule_size <= 0 && !k->memory_limit)
                fnd_add(fs, SEV_SKIPPED, "snn.memory_fit", "neither granule_size nor memory_limit set");

        if (isnan(k->learning_rate))
                fnd_add(fs, SEV_SKIPPED, "snn.learning_rate", "[neural] learning_rate not set");
        else {
                f = fnd_add(fs, k->learning_rate > 0.01 ? SEV_INFO : SEV_OK, "snn.learning_rate", "learning_rate %g%s",
                            k->learning_rate, k->learning_rate > 0.01 ? ": above 0.01, training may not converge" : "");
                if (k->learning_rate > 0.01)
                        fnd_remedy(f, "[neural] learning_rate = 0.0001 (the guide: \"Learning Rate Too High\")");
                fnd_evidence(f, "%s", s->conf_path);
        }
}

/* The unit's journal messages of the last journal_since, newline-separated, at most max
 * bytes (the newest window kept when cut). NULL with *why when it cannot be read. */
static char *unit_journal(struct ctx *c, size_t max, size_t *len, size_t *entries, char **why)
{
        const char *unit = conf_str(c, "unit");
        *len = *entries = 0;
        const char *dir = conf_str(c, "journal_dir");
        const char *dirs[] = {dir, NULL};
        struct journal_opts o = {.dirs = *dir ? dirs : NULL};
        _cleanup_journal_ struct journal *j = NULL;
        int r = journal_open(&o, &j);
        if (r < 0 || !journal_usable(j)) {
                *why = xasprintf("no readable journal (%s)", r < 0 ? strerror(-r) : j ? journal_origin(j) : "?");
                return NULL;
        }
        uint64_t back = 3600000;
        (void)parse_duration_ms(conf_str(c, "journal_since"), &back);
        uint64_t now_us = now_ms_realtime() * 1000;
        struct journal_window w = {.since_us = back * 1000 < now_us ? now_us - back * 1000 : 0, .max_entries = 50000,
                                   .max_bytes = (uint64_t)max * 2,
                                   .deadline_ms = c->deadline_ms > 1500 ? c->deadline_ms - 1000 : 0};
        if (journal_match(j, "_SYSTEMD_UNIT", unit) < 0 || journal_seek(j, &w) < 0) {
                *why = xasprintf("%s: the journal cannot be searched", unit);
                return NULL;
        }
        struct strbuf b = {0};
        char msg[4096];
        while (journal_next(j) > 0) {
                bool cut;
                long n = journal_field(j, "MESSAGE", msg, sizeof(msg), &cut);
                if (n < 0)
                        continue;
                (*entries)++;
                sb_putn(&b, msg, (size_t)n);
                sb_putc(&b, '\n');
                if (b.len > max) { /* keep the newest half */
                        size_t drop = b.len - max / 2;
                        char *nl = memchr(b.s + drop, '\n', b.len - drop);
                        drop = nl ? (size_t)(nl - b.s) + 1 : b.len;
                        memmove(b.s, b.s + drop, b.len - drop + 1);
                        b.len -= drop;
                }
        }
        *len = b.len;
        return b.s ? sb_steal(&b) : xstrdup("");
}

/* "CUDA_ERROR_OUT_OF_MEMORY x3 (2: out of memory), ..." for a log scan: log files and
 * the journal are summarised alike. */
static void log_scan_summary(struct strbuf *b, const struct snn_log_scan *sc)
{
        for (size_t i = 0; i < sc->n; i++) {
                int code = 0;
                const char *m = snn_cuda_error_meaning(sc->v[i].what, &code);
                sb_printf(b, "%s%s x%zu", i ? ", " : "", sc->v[i].what, sc->v[i].count);
                if (m)
                        sb_printf(b, " (%d: %s)", code, m);
        }
}

static void check_logs(struct ctx *c, struct snn *s, struct findings *fs)
{
        uint64_t tail = 1u << 20;
        (void)parse_size(conf_str(c, "log_tail"), &tail);
        if (tail > (256u << 20))
                tail = 256u << 20;
        double budget_ns = (double)conf_uint(c, "latency_warn_us") * 1e3;
        size_t absent = 0, files = 0;
        struct finding *f;
        for (const char *p = conf_str(c, "logs"); *p;) {
                size_t l = strcspn(p, ",");
                _cleanup_free_ char *one = xstrndup(p, l);
                char *path = strstrip(one);
                p += l + (p[l] == ',');
                if (!*path)
                        continue;
                files++;
                char *text = NULL;
                bool cut = false;
                long n = file_tail(path, tail, &text, &cut);
                if (n < 0) {
                        if (n == -ENOENT)
                                absent++;
                        else {
                                f = fnd_add(fs, SEV_UNKNOWN, "snn.logs", "%s cannot be read: %s", path, rootfs_strerror((int)n));
                                fnd_subject(f, "%s", path);
                        }
                        continue;
                }
                if (s->nlogs < 4) {
                        s->log_path[s->nlogs] = xstrdup(path);
                        s->log_tail[s->nlogs] = text;
                        s->log_len[s->nlogs++] = (size_t)n;
                }
                struct snn_log_scan sc;
                snn_log_scan(text, (size_t)n, budget_ns, &sc);
                if (s->nlogs == 0 || s->log_tail[s->nlogs - 1] != text)
                        free(text);
                enum severity sev = sc.n ? SEV_WARN : sc.errors ? SEV_INFO : SEV_OK;
                struct strbuf b = {0};
                log_scan_summary(&b, &sc);
                if (sc.n)
                        f = fnd_add(fs, sev, "snn.logs", "%s: %s", path, b.s);
                else
                        f = fnd_add(fs, sev, "snn.logs", "%s: %zu lines, %zu errors, %zu warnings; no CUDA, memory or latency errors",
                                    path, sc.lines, sc.errors, sc.warnings);
                sb_free(&b);
                struct strbuf a = {0};
                sb_printf(&a, "%s%zu lines (%zu JSON), %zu errors, %zu warnings", cut ? "last " : "", sc.lines, sc.json_lines,
                          sc.errors, sc.warnings);
                if (!isnan(sc.max_processing_ns))
                        sb_printf(&a, "; processing_time_ns max %.0f, %zu at or above the %.0f ns budget", sc.max_processing_ns,
                                  sc.over_budget, budget_ns);
                if (sc.n)
                        sb_printf(&a, "; first: %s", sc.v[0].example);
                fnd_actual(f, "%s", a.s);
                sb_free(&a);
                if (sc.n)
                        fnd_remedy(f, "grep -nE 'CUDA_ERROR|OutOfMemory|allocation failed|exceeded' %s | tail -20; nvidia-smi "
                                      "--query-gpu=memory.free --format=csv (the guide's \"CUDA Errors\")",
                                   path);
                fnd_subject(f, "%s", path);
                fnd_evidence(f, "%s (last %ld bytes)", path, n);
        }
        if (!files || absent == files)
                fnd_add(fs, SEV_SKIPPED, "snn.logs", "no log file of the service%s", files ? " exists" : " configured");
        if (streq(conf_str(c, "unit"), "none"))
                return;
        size_t jlen, entries;
        _cleanup_free_ char *why = NULL;
        _cleanup_free_ char *jt = unit_journal(c, tail, &jlen, &entries, &why);
        if (!jt) {
                f = fnd_add(fs, SEV_SKIPPED, "snn.logs", "the unit's journal not read: %s", why);
                fnd_subject(f, "journal");
                return;
        }
        if (!entries) {
                f = fnd_add(fs, SEV_SKIPPED, "snn.logs", "no journal entries of %s in the last %s", conf_str(c, "unit"),
                            conf_str(c, "journal_since"));
                fnd_subject(f, "journal");
                return;
        }
        struct snn_log_scan sc;
        snn_log_scan(jt, jlen, budget_ns, &sc);
        struct strbuf b = {0};
        log_scan_summary(&b, &sc);
        if (sc.n)
                f = fnd_add(fs, SEV_WARN, "snn.logs", "journal of %s: %s", conf_str(c, "unit"), b.s);
        else
                f = fnd_add(fs, sc.errors ? SEV_INFO : SEV_OK, "snn.logs",
                            "journal of %s: %zu entries, %zu errors; no CUDA, memory or latency errors", conf_str(c, "unit"),
                            entries, sc.errors);
        sb_free(&b);
        if (sc.n) {
                fnd_actual(f, "%zu entries in the last %s; first: %s", entries, conf_str(c, "journal_since"), sc.v[0].example);
                fnd_remedy(f, "journalctl -u %s --since -%s | grep -E 'CUDA_ERROR|OutOfMemory|allocation failed|exceeded'",
                           conf_str(c, "unit"), conf_str(c, "journal_since"));
        }
        fnd_subject(f, "journal");
        fnd_evidence(f, "the journal of %s", conf_str(c, "unit"));
}

/* CPUs whose frequency is capped or that throttled: "cpu0 2.0/3.5 GHz", counts. */
static void cpu_caps(size_t *capped, size_t *cpus, char *first, size_t fl, uint64_t *throttles)
{
        *capped = *cpus = 0;
        *throttles = 0;
        first[0] = 0;
        for (int i = 0; i < 4096; i++) {
                char p[128];
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d", i);
                if (!rootfs_exists(p))
                        break;
                uint64_t smax, cmax, t;
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_max_freq", i);
                bool have = rootfs_read_u64(p, &smax) == 0;
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq", i);
                if (have && rootfs_read_u64(p, &cmax) == 0) {
                        (*cpus)++;
                        if (smax < cmax) {
                                if (!*capped)
                                        snprintf(first, fl, "cpu%d scaling_max_freq %" PRIu64 " kHz < cpuinfo_max_freq %" PRIu64 " kHz",
                                                 i, smax, cmax);
                                (*capped)++;
                        }
                }
                snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/thermal_throttle/core_throttle_count", i);
                if (rootfs_read_u64(p, &t) == 0)
                        *throttles += t;
        }
}

static void check_resources(struct ctx *c, struct snn *s, struct findings *fs)
{
        (void)c;
        struct finding *f;
        int64_t maxc = s->have_conf ? s->conf.max_connections : -1;
        uint64_t somax = 0;
        if (maxc > 0) {
                int rc = rootfs_read_u64("/proc/sys/net/core/somaxconn", &somax);
                if (rc < 0)
                        f = fnd_add(fs, SEV_UNKNOWN, "snn.resources", "net.core.somaxconn cannot be read: %s", rootfs_strerror(rc));
                else {
                        enum severity sev = somax < (uint64_t)maxc ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, sev, "snn.resources", "net.core.somaxconn %" PRIu64 " %s [server] max_connections %" PRId64,
                                    somax, sev == SEV_WARN ? "is below" : ">=", maxc);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "sysctl -w net.core.somaxconn=%" PRId64 "; echo net.core.somaxconn=%" PRId64
                                              " > /etc/sysctl.d/99-cerebellar-norse.conf",
                                           maxc, maxc);
                }
                fnd_subject(f, "somaxconn");
                fnd_evidence(f, "/proc/sys/net/core/somaxconn, %s", s->conf_path);
                for (size_t i = 0; i < s->npids; i++) {
                        uint64_t soft, hard;
                        if (proc_limit(s->pids[i], "Max open files", &soft, &hard) < 0)
                                continue;
                        enum severity sev = soft != LIMIT_UNLIMITED && soft < (uint64_t)maxc ? SEV_WARN : SEV_OK;
                        f = fnd_add(fs, sev, "snn.resources", "pid %d may open %" PRIu64 " files %s max_connections %" PRId64,
                                    s->pids[i], soft, sev == SEV_WARN ? "<" : ">=", maxc);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "systemctl edit cerebellar-norse -> [Service] LimitNOFILE=%" PRId64 "; or prlimit "
                                              "--pid %d --nofile=%" PRId64,
                                           maxc * 2, s->pids[i], maxc * 2);
                        fnd_subject(f, "pid %d nofile", s->pids[i]);
                        fnd_evidence(f, "/proc/%d/limits", s->pids[i]);
                }
        }
        size_t capped, cpus;
        uint64_t thr;
        char first[160];
        cpu_caps(&capped, &cpus, first, sizeof(first), &thr);
        if (cpus) {
                enum severity sev = capped || thr ? SEV_WARN : SEV_OK;
                if (capped)
                        f = fnd_add(fs, sev, "snn.resources", "%zu of %zu CPUs capped below their maximum frequency: %s%s", capped,
                                    cpus, first, thr ? "; thermal throttling events counted" : "");
                else
                        f = fnd_add(fs, sev, "snn.resources", "%zu CPUs may run at their maximum frequency%s", cpus,
                                    thr ? ", but thermal throttling events are counted" : "");
                if (thr)
                        fnd_actual(f, "%" PRIu64 " core throttle events", thr);
                if (sev == SEV_WARN)
                        fnd_remedy(f, "cpupower frequency-set -g performance; sensors  # cooling? (the guide's \"High Latency\")");
                fnd_subject(f, "cpufreq");
                fnd_evidence(f, "/sys/devices/system/cpu/cpu*/cpufreq");
        }
        if (maxc <= 0 && !cpus)
                fnd_add(fs, SEV_SKIPPED, "snn.resources", "no [server] max_connections and no cpufreq to compare");
}

static struct snn *last;

static void snn_check(struct ctx *c, struct findings *fs)
{
        struct snn *s = xcalloc(1, sizeof(*s));
        const char *url = conf_str(c, "url");
        size_t l = strlen(url);
        while (l && url[l - 1] == '/')
                l--;
        s->url = xstrndup(url, l);
        s->url_pub = http_url_public(s->url);
        s->live = rootfs_is_live();
        check_process(c, s, fs);
        check_config(c, s, fs);
        check_logs(c, s, fs);
        check_resources(c, s, fs);
        if (!s->live) {
                static const char *const ids[] = {"snn.health", "snn.info", "snn.metrics", "snn.latency", "snn.errors",
                                                  "snn.cuda_memory", NULL};
                for (size_t i = 0; ids[i]; i++)
                        fnd_add(fs, SEV_SKIPPED, ids[i], "not the live host: the service's HTTP routes are not asked");
        } else {
                fetch(c, s, &s->health, "/health");
                /* No connection or no answer in time: the other routes would only wait as long. */
                bool down = s->health.tried && s->health.rc < 0 &&
                            (s->health.r.err == HTTP_E_CONNECT || s->health.r.err == HTTP_E_TIMEOUT);
                struct reply *rest[] = {&s->info, &s->metrics, &s->neural};
                static const char *const paths[] = {"/info", "/metrics", "/neural/metrics"};
                for (size_t i = 0; i < 3; i++) {
                        if (down) {
                                rest[i]->path = paths[i];
                                rest[i]->skipped = xstrdup("not asked: /health got no answer");
                        } else
                                fetch(c, s, rest[i], paths[i]);
                }
                check_health(s, fs);
                check_info(s, fs);
                check_metrics(c, s, fs);
        }
        snn_free(last);
        last = s;
}

static void store_reply(struct bundle_sink *bs, const struct snn *s, const struct reply *r, const char *name)
{
        char o[512];
        origin(s, r, o, sizeof(o));
        if (!r->tried)
                sink_missing(bs, name, "http", o, "skipped", r->skipped);
        else if (r->rc < 0 && r->r.err != HTTP_E_TOO_LARGE)
                sink_missing(bs, name, "http", o, http_error_name(r->r.err), r->r.error);
        else
                sink_text(bs, name, "http", o, r->r.body, r->r.len);
}

static void snn_collect(struct ctx *c, struct bundle_sink *bs)
{
        (void)c;
        if (!last) {
                sink_log(bs, "no check results to store");
                return;
        }
        if (last->live) {
                store_reply(bs, last, &last->health, "health.json");
                store_reply(bs, last, &last->info, "info.json");
                store_reply(bs, last, &last->metrics, "metrics.txt");
                store_reply(bs, last, &last->neural, "neural-metrics.txt");
        }
        for (size_t i = 0; i < last->nlogs; i++) {
                const char *base = strrchr(last->log_path[i], '/');
                _cleanup_free_ char *name = xasprintf("log-tail-%s", base ? base + 1 : last->log_path[i]);
                sink_text(bs, name, "derived", last->log_path[i], last->log_tail[i], last->log_len[i]);
        }
        snn_free(last);
        last = NULL;
}

/* ---- watch: /health and p95 at [snn] watch_interval; between, the last verdicts ---- */

struct snn_watch {
        uint64_t last_ms, interval_ms;
        bool have;
        enum severity health_sev, lat_sev;
        char health[320], lat[200];
        double p95_us;
};

static void snn_sample(struct ctx *c, struct sample *smp)
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
                fetch(c, &s, &s.health, "/health");
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
                        fetch(c, &s, &s.metrics, "/metrics");
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
                reply_free(&s.health);
                reply_free(&s.metrics);
                w->have = true;
        }
        if (!w->have)
                return;
        sample_status(smp, "snn.health", NULL, w->health_sev, "%s", w->health);
        sample_status(smp, "snn.latency", NULL, w->lat_sev, "%s", w->lat);
        if (!isnan(w->p95_us))
                sample_value(smp, "snn.p95_latency_us", NULL, w->p95_us, "us");
}

const struct collector snn_collector = {
        .name = "snn",
        .summary = "Cerebellar-Norse service: process, /health (both shapes), /info, metrics, p95 latency, errors, CUDA memory",
        .needs = 0,
        .checks = checks,
        .config = config,
        .detect = snn_detect,
        .absent = "no cerebellar-norse process or unit, no production.toml ($CEREBELLAR_CONFIG_PATH) and no [snn] url",
        .absent_remedy = "start the service: systemctl start cerebellar-norse (or the binary); set [snn] url and config if it "
                         "listens or keeps its config elsewhere",
        .check = snn_check,
        .collect = snn_collect,
        .sample = snn_sample,
        .sampled = (const char *const[]){"snn.health", "snn.latency", NULL},
        .free_state = free, /* the state is one flat allocation */
};
