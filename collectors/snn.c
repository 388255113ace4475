/* snn: the Cerebellar-Norse spiking-neural-network service (COMPONENTS.md §3, the
 * cerebellar-norse guide). Is it there (unit, process, config, listener), what does
 * its HTTP exporter say (/health in the code's and the docs' shapes, /info, /metrics
 * and /neural/metrics), is its inference latency within the guide's 10 µs budget,
 * how many errors, how full is its CUDA memory. No credential is ever sent: the
 * exporter's routes need none, and the config's api_key is never read out. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/sink.h"
#include "collectors/snn_private.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"
#include "lib/trust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
         "MemTotal (/proc/meminfo): at or above it is a warning; with device = \"cuda\" also with\n"
         "the GPU's memory (the largest GPU the probe behind snn.device found, asked once),\n"
         "or said not to be possible when no GPU answered. [performance] memory_limit\n"
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
         "first four is a warning; errors alone are info. The unit's journal ([snn] unit) is\n"
         "scanned the same way.\n"
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
        {"snn.rss", "The service's RSS growth (leak suspect)",
         "VmRSS of each process of the service (vouched for as in snn.process) read from\n"
         "/proc/PID/status when the check starts and again until [snn] rss_window (default 2s)\n"
         "has passed; the least-squares slope over the readings, per minute. Growth at or above\n"
         "[snn] rss_growth_warn (10M per minute) that rose at three quarters of the steps or\n"
         "more is a warning, at or above rss_growth_crit crit: the guide's \"Memory Leaks\".\n"
         "Growth as fast but not steady (one allocation) is info. evodiag watch follows the\n"
         "slope over its whole session (snn.rss, snn.rss_bytes); a bundle stores the readings\n"
         "taken while it ran (rss.csv). Not on --root (one reading tells nothing).\n"
         "Fix: while true; do ps -o pid,vsz,rss,comm -p $(pgrep cerebellar-norse); sleep 60; done;\n"
         "valgrind --tool=massif on a test instance; restart the service meanwhile.",
         .live = true},
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
        CONF_DURATION("rss_window", "2s", "check: how long the service's RSS is followed (/proc/PID/status)"),
        CONF_SIZE("rss_growth_warn", "10M", "warn when the service's RSS grows steadily by this much per minute (leak suspect)"),
        CONF_SIZE("rss_growth_crit", "100M", "crit when it grows steadily by this much per minute (0: never crit)"),
        {0},
};

static const char *const process_names[] = {"cerebellar-norse", "metrics-exporter", NULL};

static void snn_free(struct snn *s)
{
        if (!s)
                return;
        free(s->url);
        free(s->url_pub);
        snn_reply_free(&s->health);
        snn_reply_free(&s->info);
        snn_reply_free(&s->metrics);
        snn_reply_free(&s->neural);
        snn_conf_free(&s->conf);
        free(s->conf_path);
        for (size_t i = 0; i < s->nlogs; i++) {
                free(s->log_path[i]);
                free(s->log_tail[i]);
        }
        free(s);
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

bool snn_unit_installed(void)
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

int snn_service_pid(struct ctx *c)
{
        struct proctable pt;
        if (proctable_load(&pt) < 0)
                return 0;
        struct trust t;
        trust_init(&t, "cerebellar-norse", conf_str(c, "service_user"));
        int pid = 0;
        for (size_t i = 0; i < pt.n && !pid; i++) {
                struct trust_proc tp;
                if (named_snn(&pt.v[i]) && trust_process(&t, pt.v[i].pid, &tp))
                        pid = pt.v[i].pid;
        }
        trust_free(&t);
        proctable_free(&pt);
        return pid;
}

static bool snn_detect(struct ctx *c)
{
        const char *cf = conf_str(c, "config");
        if (snn_unit_installed() || rootfs_exists(SNN_CONFIG_DEFAULT) || (*cf && rootfs_exists(cf)))
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
                        if (s->live && s->nrss < sizeof(s->rss) / sizeof(s->rss[0]))
                                s->rss[s->nrss++].pid = p->pid;
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
                        snn_unit_installed() ? " (the unit " SNN_UNIT " is installed)" : " (it may run in a container)");
        snn_rss_read_all(s); /* the first readings of snn.rss */
        trust_free(&t);
        proctable_free(&pt);
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
        snn_check_config(c, s, fs);
        snn_check_logs(c, s, fs);
        snn_check_resources(c, s, fs);
        if (!s->live) {
                static const char *const ids[] = {"snn.health", "snn.info", "snn.metrics", "snn.latency", "snn.errors",
                                                  "snn.cuda_memory", NULL};
                for (size_t i = 0; ids[i]; i++)
                        fnd_add(fs, SEV_SKIPPED, ids[i], "not the live host: the service's HTTP routes are not asked");
        } else {
                snn_fetch(c, s, &s->health, "/health");
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
                                snn_fetch(c, s, rest[i], paths[i]);
                }
                snn_check_health(s, fs);
                snn_check_info(s, fs);
                snn_check_metrics(c, s, fs);
        }
        snn_check_rss(c, s, fs);
        snn_free(last);
        last = s;
}

static void snn_collect(struct ctx *c, struct bundle_sink *bs)
{
        (void)c;
        if (!last) {
                sink_log(bs, "no check results to store");
                return;
        }
        if (last->live) {
                snn_store_reply(bs, last, &last->health, "health.json");
                snn_store_reply(bs, last, &last->info, "info.json");
                snn_store_reply(bs, last, &last->metrics, "metrics.txt");
                snn_store_reply(bs, last, &last->neural, "neural-metrics.txt");
        }
        if (last->nrss) { /* the readings taken while the bundle ran, one more now */
                snn_rss_read_all(last);
                struct strbuf b = {0};
                sb_puts(&b, "pid,ms,vmrss_bytes\n");
                for (size_t i = 0; i < last->nrss; i++)
                        for (size_t k = 0; k < last->rss[i].n; k++)
                                sb_printf(&b, "%d,%" PRIu64 ",%" PRIu64 "\n", last->rss[i].pid,
                                          last->rss[i].t_ms[k] - last->rss[i].t_ms[0], last->rss[i].rss[k]);
                sink_text(bs, "rss.csv", "derived", "/proc/PID/status VmRSS", b.s, b.len);
                sb_free(&b);
        }
        for (size_t i = 0; i < last->nlogs; i++) {
                const char *base = strrchr(last->log_path[i], '/');
                _cleanup_free_ char *name = xasprintf("log-tail-%s", base ? base + 1 : last->log_path[i]);
                sink_text(bs, name, "derived", last->log_path[i], last->log_tail[i], last->log_len[i]);
        }
        snn_free(last);
        last = NULL;
}

const struct collector snn_collector = {
        .name = "snn",
        .summary = "Cerebellar-Norse service: process, /health (both shapes), /info, metrics, p95 latency, errors, CUDA memory",
        .needs = 0,
        .checks = checks,
        .config = config,
        .detect = snn_detect,
        .absent = "no cerebellar-norse process or unit, no production.toml ($CEREBELLAR_CONFIG_PATH), and no listener where "
                  "[snn] url points (a listener on the default port 8080 alone does not count: set [snn] url to the service's "
                  "address to have it checked)",
        .absent_remedy = "start the service: systemctl start cerebellar-norse (or the binary); if it runs elsewhere (a container), "
                         "set [snn] url = http://HOST:PORT (and [snn] config)",
        .check = snn_check,
        .collect = snn_collect,
        .sample = snn_sample,
        .sampled = (const char *const[]){"snn.health", "snn.latency", "snn.rss", NULL},
        .free_state = free, /* the state is one flat allocation */
};
