/* snn: the service's production.toml (read as TOML with toml++): where it is, the
 * device against the GPU, the guide's memory formula, memory_limit, learning_rate. */
#include "config.h"
#include "collectors/snn_private.h"
#include "lib/gpuprobe.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/toml.h"
#include "lib/trust.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The guide's formula against the GPU's memory, for device = "cuda" (the network lives
 * there): the largest device that answered; not compared, and said, when none did. */
static void gpu_memory_fit(struct ctx *c, const struct snn *s, const struct gpu_snapshot *gs, bool gpu_ok, const char *why,
                           struct findings *fs)
{
        const struct snn_conf *k = &s->conf;
        int64_t conns = k->connections_per_neuron > 0 ? k->connections_per_neuron : (int64_t)conf_uint(c, "connections_per_neuron");
        uint64_t need = snn_granule_bytes(k->granule_size, conns);
        const struct gpu_dev *best = NULL;
        for (size_t i = 0; gpu_ok && i < gs->ndev; i++)
                if (!gs->dev[i].lost && gs->dev[i].mem_total > 0 && (!best || gs->dev[i].mem_total > best->mem_total))
                        best = &gs->dev[i];
        char b1[32], b2[32];
        struct finding *f;
        if (!best)
                f = fnd_add(fs, SEV_SKIPPED, "snn.memory_fit", "granule_size needs %s; not compared with the GPU's memory: %s",
                            fmt_bytes(need, b1), !gpu_ok ? (why ? why : rootfs_is_live() ? "no GPU answered" : "not the live host: the GPU is asked on the live host only") : "the GPU did not report its memory");
        else {
                enum severity sev = need >= (uint64_t)best->mem_total ? SEV_WARN : SEV_OK;
                f = fnd_add(fs, sev, "snn.memory_fit", "granule_size %" PRId64 " x 4 bytes x %" PRId64 " connections = %s%s the GPU's memory %s",
                            k->granule_size, conns, fmt_bytes(need, b1), sev == SEV_WARN ? ", at or above" : ", below",
                            fmt_bytes((uint64_t)best->mem_total, b2));
                fnd_actual(f, "GPU %d: %s (the largest of %zu)", best->index, best->name, gs->ndev);
                fnd_expected(f, "granule_size * 4 bytes * connections_per_neuron < the GPU's memory (device = \"cuda\")");
                if (sev == SEV_WARN)
                        fnd_remedy(f, "lower [neural] granule_size in %s (the guide: 4000000 -> 2000000), or run on a GPU with more "
                                      "memory; nvidia-smi --query-gpu=memory.total,memory.used --format=csv",
                                   s->conf_path);
        }
        fnd_subject(f, "granule_size gpu");
        fnd_evidence(f, "%s, the GPU probe (NVML or nvidia-smi)", s->conf_path);
}

void snn_check_config(struct ctx *c, struct snn *s, struct findings *fs)
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

        /* device = "cuda" without a GPU; what the probe read serves snn.memory_fit too (one probe a run) */
        struct gpu_snapshot gs = {0};
        _cleanup_free_ char *gpu_why = NULL;
        bool cuda = k->device && strcasecmp(k->device, "cuda") == 0, gpu_ok = false;
        if (!k->device)
                f = fnd_add(fs, SEV_SKIPPED, "snn.device", "[performance] device not set");
        else if (strcasecmp(k->device, "cuda") != 0)
                f = fnd_add(fs, SEV_OK, "snn.device", "device = \"%s\": no GPU needed", k->device);
        else if (!rootfs_is_live())
                f = fnd_add(fs, SEV_SKIPPED, "snn.device", "device = \"cuda\": whether a GPU answers is asked on the live host only");
        else {
                uint64_t ms = 5000;
                (void)parse_duration_ms(conf_str(c, "gpu_deadline"), &ms);
                uint64_t t = ctx_budget_ms(c, ms, 1500);
                struct gpu_query_opts o = {.nvml_path = conf_str(c, "nvml_path"), .smi = conf_str(c, "nvidia_smi"), .timeout_ms = t ? t : 1};
                if (c->deadline_ms > 1500)
                        o.stop_ms = c->deadline_ms - 1000;
                const char *why;
                gpu_ok = gpu_usable_snapshot(&o, &gs, &gpu_why);
                why = gpu_why;
                if (gpu_ok) {
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
        if (k->granule_size > 0 && cuda)
                gpu_memory_fit(c, s, &gs, gpu_ok, gpu_why, fs);
        gpu_snapshot_free(&gs);
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
