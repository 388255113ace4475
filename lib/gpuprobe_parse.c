/* The pure parts of lib/gpuprobe.h: nvidia-smi's CSV and -q output, the driver's
 * /proc files, and the snapshot's JSON form. Untrusted input (a wedged or foreign
 * nvidia-smi prints anything): every field is bounded, nothing is trusted to be
 * well-formed. */
#include "config.h"
#include "lib/gpuprobe.h"
#include "lib/nvml_api.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#define CSV_COLS_MAX 512
#define Q_DEPTH_MAX 8

const char *gpu_status_name(enum gpu_status s)
{
        static const char *const n[] = {
                [GPU_OK] = "ok", [GPU_ABSENT] = "absent", [GPU_TIMEOUT] = "timeout", [GPU_MISMATCH] = "version_mismatch",
                [GPU_DRIVER_FAILED] = "driver_failed", [GPU_NO_DEVICES] = "no_devices", [GPU_ERROR] = "error",
        };
        return (unsigned)s < ARRAY_SIZE(n) ? n[s] : "error";
}

void gpu_snapshot_free(struct gpu_snapshot *s)
{
        free(s->error);
        free(s->dev);
        free(s->proc);
        *s = (struct gpu_snapshot){0};
}

struct gpu_dev *gpu_dev_add(struct gpu_snapshot *s)
{
        if (s->ndev >= GPU_MAX)
                return NULL;
        s->dev = xrealloc(s->dev, (s->ndev + 1) * sizeof(*s->dev));
        struct gpu_dev *d = &s->dev[s->ndev];
        *d = (struct gpu_dev){.index = (int)s->ndev, .temp_c = -1, .slowdown_c = -1, .shutdown_c = -1, .util_gpu = -1,
                              .util_mem = -1, .mem_used = -1, .mem_total = -1, .power_mw = -1, .power_limit_mw = -1,
                              .throttle = -1, .ecc_volatile = -1, .ecc_aggregate = -1, .retired_pending = -1,
                              .remap_pending = -1, .remap_failure = -1, .persistence = -1, .mig = -1, .compute_mode = -1};
        s->ndev++;
        return d;
}

int gpu_bus_id_norm(const char *in, char out[static 16])
{
        unsigned long v[4];
        const char *p = in;
        const char seps[] = {':', ':', '.', '\0'};
        for (int i = 0; i < 4; i++) {
                size_t n = 0;
                while (isxdigit((unsigned char)p[n]) && n < 9)
                        n++;
                if (n == 0 || n > 8 || p[n] != seps[i])
                        return -EINVAL;
                v[i] = strtoul(p, NULL, 16);
                p += n + (seps[i] ? 1 : 0);
        }
        if (v[0] > 0xffff || v[1] > 0xff || v[2] > 0x1f || v[3] > 7)
                return -EINVAL;
        snprintf(out, 16, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
        return 0;
}

struct gpu_dev *gpu_dev_by_bus(struct gpu_snapshot *s, const char *bus_id)
{
        char b[16];
        if (gpu_bus_id_norm(bus_id, b) < 0)
                return NULL;
        for (size_t i = 0; i < s->ndev; i++)
                if (streq(s->dev[i].bus_id, b))
                        return &s->dev[i];
        return NULL;
}

static void copy_str(char *dst, size_t n, const char *src)
{
        size_t i = 0;
        for (; src[i] && i + 1 < n; i++)
                dst[i] = (unsigned char)src[i] < 0x20 ? '?' : src[i];
        dst[i] = 0;
}

/* "[N/A]", "N/A", "[Not Supported]", "[Requested functionality has been deprecated]",
 * "[Unknown Error]", "": no reading. */
static bool value_na(const char *v)
{
        return !*v || *v == '[' || streq(v, "N/A") || streq(v, "Not Supported") || startswith(v, "Requested functionality");
}

/* A number with an optional unit: "19818 MiB", "629.45 W", "59", "100 %", "45 C". */
static bool value_num(const char *v, double *out)
{
        if (value_na(v))
                return false;
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (end == v || errno || !isfinite(d) || d < -1e15 || d > 1e15)
                return false;
        while (*end == ' ')
                end++;
        *out = d;
        return true;
}

static int64_t value_int(const char *v)
{
        double d;
        return value_num(v, &d) && d >= 0 ? (int64_t)d : -1;
}

/* Bytes from "19818 MiB" or a bare number in MiB (nounits). */
static int64_t value_mib(const char *v)
{
        int64_t n = value_int(v);
        return n < 0 || n > (INT64_MAX >> 20) ? -1 : n << 20;
}

static int64_t value_mw(const char *v)
{
        double d;
        return value_num(v, &d) && d >= 0 ? (int64_t)llround(d * 1000) : -1;
}

static int value_bool(const char *v)
{
        if (value_na(v))
                return -1;
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "enabled") || !strcasecmp(v, "active") || !strcasecmp(v, "pending") ||
            streq(v, "1"))
                return 1;
        if (!strcasecmp(v, "no") || !strcasecmp(v, "disabled") || !strcasecmp(v, "not active") ||
            !strcasecmp(v, "not pending") || streq(v, "0"))
                return 0;
        return -1;
}

static int value_compute_mode(const char *v)
{
        static const char *const m[] = {"Default", "Exclusive_Thread", "Prohibited", "Exclusive_Process"};
        for (int i = 0; i < 4; i++)
                if (!strcasecmp(v, m[i]))
                        return i;
        return -1;
}

/* ---- CSV ---- */

/* Splits one line at commas (nvidia-smi writes ", " and never quotes); trims each
 * field. Returns the number of fields (at most max), -E2BIG beyond. */
static int csv_split(char *line, char **f, int max)
{
        int n = 0;
        for (char *p = line;;) {
                if (n == max)
                        return -E2BIG;
                char *c = strchr(p, ',');
                if (c)
                        *c = 0;
                f[n++] = strstrip(p);
                if (!c)
                        return n;
                p = c + 1;
        }
}

/* "memory.used [MiB]" -> "memory.used" */
static void header_name(char *h)
{
        char *b = strchr(h, '[');
        if (b)
                *b = 0;
        strstrip(h);
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ')
                h[--n] = 0;
}

static int col_of(char **hdr, int n, const char *name)
{
        for (int i = 0; i < n; i++)
                if (streq(hdr[i], name))
                        return i;
        return -1;
}

static void set_throttle_hex(struct gpu_dev *d, const char *v)
{
        uint64_t x;
        if (startswith(v, "0x") && strlen(v) <= 18 && parse_digits_u64(v + 2, strlen(v + 2), 16, 16, &x) == 0)
                d->throttle = (int64_t)(x & 0x7fffffffffffffffULL);
}

int gpu_csv_parse(const char *text, struct gpu_snapshot *s)
{
        _cleanup_free_ char *buf = xstrdup(text);
        _cleanup_free_ char **hdr = xcalloc(CSV_COLS_MAX, sizeof(char *));
        _cleanup_free_ char **f = xcalloc(CSV_COLS_MAX, sizeof(char *));
        size_t pos = 0;
        char *line;
        int nh = -1, rows = 0;
        int c_idx = -1, c_name = -1, c_uuid = -1, c_bus = -1, c_drv = -1, c_temp = -1, c_ug = -1, c_um = -1, c_mu = -1,
            c_mt = -1, c_pd = -1, c_pl = -1, c_thr = -1, c_ev = -1, c_ea = -1, c_rp = -1, c_rmp = -1, c_rmf = -1, c_pm = -1,
            c_cm = -1, c_mig = -1;
        while ((line = next_line(buf, &pos))) {
                if (!*strstrip(line))
                        continue;
                if (nh < 0) {
                        nh = csv_split(line, hdr, CSV_COLS_MAX);
                        if (nh < 2)
                                return -EINVAL;
                        for (int i = 0; i < nh; i++)
                                header_name(hdr[i]);
                        c_idx = col_of(hdr, nh, "index");
                        c_name = col_of(hdr, nh, "name");
                        c_uuid = col_of(hdr, nh, "uuid");
                        c_bus = col_of(hdr, nh, "pci.bus_id");
                        c_drv = col_of(hdr, nh, "driver_version");
                        c_temp = col_of(hdr, nh, "temperature.gpu");
                        c_ug = col_of(hdr, nh, "utilization.gpu");
                        c_um = col_of(hdr, nh, "utilization.memory");
                        c_mu = col_of(hdr, nh, "memory.used");
                        c_mt = col_of(hdr, nh, "memory.total");
                        c_pd = col_of(hdr, nh, "power.draw");
                        c_pl = col_of(hdr, nh, "enforced.power.limit");
                        if (c_pl < 0)
                                c_pl = col_of(hdr, nh, "power.limit");
                        c_thr = col_of(hdr, nh, "clocks_throttle_reasons.active");
                        if (c_thr < 0)
                                c_thr = col_of(hdr, nh, "clocks_event_reasons.active");
                        c_ev = col_of(hdr, nh, "ecc.errors.uncorrected.volatile.total");
                        c_ea = col_of(hdr, nh, "ecc.errors.uncorrected.aggregate.total");
                        c_rp = col_of(hdr, nh, "retired_pages.pending");
                        c_rmp = col_of(hdr, nh, "remapped_rows.pending");
                        c_rmf = col_of(hdr, nh, "remapped_rows.failure");
                        c_pm = col_of(hdr, nh, "persistence_mode");
                        c_cm = col_of(hdr, nh, "compute_mode");
                        c_mig = col_of(hdr, nh, "mig.mode.current");
                        /* A table of GPUs names them: by bus id, UUID or name. */
                        if (c_bus < 0 && c_uuid < 0 && c_name < 0)
                                return -EINVAL;
                        continue;
                }
                int n = csv_split(line, f, CSV_COLS_MAX);
                if (n != nh)
                        continue; /* a value with a comma in it, or a cut line: not guessed at */
                struct gpu_dev *d = NULL;
                char b[16];
                if (c_bus >= 0 && gpu_bus_id_norm(f[c_bus], b) == 0)
                        d = gpu_dev_by_bus(s, b);
                if (!d && !(d = gpu_dev_add(s)))
                        break;
                rows++;
                if (c_bus >= 0 && gpu_bus_id_norm(f[c_bus], b) == 0)
                        memcpy(d->bus_id, b, sizeof(b));
                if (c_idx >= 0 && value_int(f[c_idx]) >= 0 && value_int(f[c_idx]) < 65536)
                        d->index = (int)value_int(f[c_idx]);
                if (c_name >= 0 && !value_na(f[c_name]))
                        copy_str(d->name, sizeof(d->name), f[c_name]);
                if (c_uuid >= 0 && !value_na(f[c_uuid]))
                        copy_str(d->uuid, sizeof(d->uuid), f[c_uuid]);
                if (c_drv >= 0 && !value_na(f[c_drv]))
                        copy_str(s->driver, sizeof(s->driver), f[c_drv]);
                for (int i = 0; i < n; i++)
                        if (strstr(f[i], "GPU is lost"))
                                d->lost = true;
#define NUM(col, field, conv) if ((col) >= 0) d->field = conv(f[col])
                NUM(c_temp, temp_c, value_int);
                NUM(c_ug, util_gpu, value_int);
                NUM(c_um, util_mem, value_int);
                NUM(c_mu, mem_used, value_mib);
                NUM(c_mt, mem_total, value_mib);
                NUM(c_pd, power_mw, value_mw);
                NUM(c_pl, power_limit_mw, value_mw);
                NUM(c_ev, ecc_volatile, value_int);
                NUM(c_ea, ecc_aggregate, value_int);
                NUM(c_rp, retired_pending, value_bool);
                NUM(c_rmp, remap_pending, value_bool);
                NUM(c_rmf, remap_failure, value_bool);
                NUM(c_pm, persistence, value_bool);
                NUM(c_cm, compute_mode, value_compute_mode);
                NUM(c_mig, mig, value_bool);
#undef NUM
                if (c_thr >= 0)
                        set_throttle_hex(d, f[c_thr]);
        }
        return nh < 0 || rows == 0 ? -EINVAL : 0;
}

static struct gpu_proc *proc_add(struct gpu_snapshot *s)
{
        if (s->nproc >= GPU_PROCS_MAX) {
                s->procs_cut = true;
                return NULL;
        }
        s->proc = xrealloc(s->proc, (s->nproc + 1) * sizeof(*s->proc));
        struct gpu_proc *p = &s->proc[s->nproc++];
        *p = (struct gpu_proc){.gpu = -1, .pid = -1, .used_bytes = -1};
        return p;
}

int gpu_apps_csv_parse(const char *text, struct gpu_snapshot *s)
{
        _cleanup_free_ char *buf = xstrdup(text);
        char *hdr[64], *f[64];
        size_t pos = 0;
        char *line;
        int nh = -1, c_uuid = -1, c_bus = -1, c_pid = -1, c_name = -1, c_mem = -1;
        while ((line = next_line(buf, &pos))) {
                if (!*strstrip(line))
                        continue;
                if (nh < 0) {
                        nh = csv_split(line, hdr, 64);
                        if (nh < 2)
                                return -EINVAL;
                        for (int i = 0; i < nh; i++)
                                header_name(hdr[i]);
                        c_uuid = col_of(hdr, nh, "gpu_uuid");
                        c_bus = col_of(hdr, nh, "gpu_bus_id");
                        c_pid = col_of(hdr, nh, "pid");
                        c_name = col_of(hdr, nh, "process_name");
                        c_mem = col_of(hdr, nh, "used_gpu_memory");
                        if (c_mem < 0)
                                c_mem = col_of(hdr, nh, "used_memory");
                        if (c_pid < 0 || (c_uuid < 0 && c_bus < 0))
                                return -EINVAL;
                        continue;
                }
                if (startswith(line, "No running"))
                        continue;
                int n = csv_split(line, f, 64);
                if (n != nh)
                        continue;
                int64_t pid = value_int(f[c_pid]);
                if (pid <= 0 || pid > INT32_MAX)
                        continue;
                int gpu = -1;
                for (size_t i = 0; i < s->ndev && gpu < 0; i++) {
                        char b[16];
                        if ((c_uuid >= 0 && s->dev[i].uuid[0] && streq(s->dev[i].uuid, f[c_uuid])) ||
                            (c_bus >= 0 && gpu_bus_id_norm(f[c_bus], b) == 0 && streq(s->dev[i].bus_id, b)))
                                gpu = (int)i;
                }
                struct gpu_proc *p = proc_add(s);
                if (!p)
                        break;
                p->gpu = gpu;
                p->pid = (int)pid;
                p->used_bytes = c_mem >= 0 ? value_mib(f[c_mem]) : -1;
                if (c_name >= 0)
                        copy_str(p->name, sizeof(p->name), f[c_name]);
        }
        return nh < 0 ? -EINVAL : 0;
}

/* ---- nvidia-smi -q ---- */

static const struct {
        const char *name;
        uint64_t bit;
} thr_names[] = {
        {"Idle", NVML_THR_GPU_IDLE}, {"Applications Clocks Setting", NVML_THR_APP_CLOCKS},
        {"SW Power Cap", NVML_THR_SW_POWER_CAP}, {"HW Slowdown", NVML_THR_HW_SLOWDOWN},
        {"HW Thermal Slowdown", NVML_THR_HW_THERMAL}, {"HW Power Brake Slowdown", NVML_THR_HW_POWER_BRAKE},
        {"Sync Boost", NVML_THR_SYNC_BOOST}, {"SW Thermal Slowdown", NVML_THR_SW_THERMAL},
        {"Display Clock Setting", NVML_THR_DISPLAY_CLOCKS},
};

/* Per GPU block of -q: what is only known at its end. Drivers since ~535 give the
 * thresholds relative to T.Limit ("GPU T.Limit Temp : 26 C" is the headroom left,
 * "GPU Slowdown T.Limit Temp : -2 C" where slowdown starts on that scale): the
 * slowdown temperature is then temp + (headroom - slowdown offset). */
struct q_block {
        struct gpu_proc *cur;
        bool ecc_v, ecc_a, have_tl, have_tls;
        double tl, tls;
};

static void q_block_end(struct gpu_dev *d, struct q_block *b)
{
        if (d && d->slowdown_c < 0 && d->temp_c >= 0 && b->have_tl && b->have_tls && b->tl - b->tls > -200 && b->tl - b->tls < 300) {
                double sd = (double)d->temp_c + b->tl - b->tls;
                if (sd > 0 && sd < 1000)
                        d->slowdown_c = (int64_t)sd;
        }
        *b = (struct q_block){0};
}

/* One "Key : Value" of a GPU's block; path is "Section/Sub/Key". */
static void q_field(struct gpu_snapshot *s, struct gpu_dev *d, const char *path, const char *v, struct q_block *blk)
{
        struct gpu_proc **cur = &blk->cur;
        bool *ecc_v_seen = &blk->ecc_v, *ecc_a_seen = &blk->ecc_a;
        const char *key = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (streq(path, "Product Name") && !d->name[0] && !value_na(v))
                copy_str(d->name, sizeof(d->name), v);
        else if (streq(path, "GPU UUID") && !d->uuid[0] && !value_na(v))
                copy_str(d->uuid, sizeof(d->uuid), v);
        else if (streq(path, "Persistence Mode") && d->persistence < 0)
                d->persistence = value_bool(v);
        else if (streq(path, "MIG Mode/Current") && d->mig < 0)
                d->mig = value_bool(v);
        else if (streq(path, "Compute Mode") && d->compute_mode < 0)
                d->compute_mode = value_compute_mode(v);
        else if (streq(path, "FB Memory Usage/Total") && d->mem_total < 0)
                d->mem_total = value_mib(v);
        else if (streq(path, "FB Memory Usage/Used") && d->mem_used < 0)
                d->mem_used = value_mib(v);
        else if (streq(path, "Utilization/GPU") && d->util_gpu < 0)
                d->util_gpu = value_int(v);
        else if (streq(path, "Utilization/Memory") && d->util_mem < 0)
                d->util_mem = value_int(v);
        else if (streq(path, "Temperature/GPU Current Temp") && d->temp_c < 0)
                d->temp_c = value_int(v);
        else if (streq(path, "Temperature/GPU Slowdown Temp") && d->slowdown_c < 0)
                d->slowdown_c = value_int(v);
        else if (streq(path, "Temperature/GPU Shutdown Temp") && d->shutdown_c < 0)
                d->shutdown_c = value_int(v);
        else if (streq(path, "Temperature/GPU T.Limit Temp"))
                blk->have_tl = value_num(v, &blk->tl);
        else if (streq(path, "Temperature/GPU Slowdown T.Limit Temp"))
                blk->have_tls = value_num(v, &blk->tls);
        else if ((streq(path, "GPU Power Readings/Power Draw") || streq(path, "GPU Power Readings/Average Power Draw") ||
                  streq(path, "GPU Power Readings/Instantaneous Power Draw") ||
                  streq(path, "Power Readings/Power Draw")) &&
                 d->power_mw < 0)
                d->power_mw = value_mw(v);
        else if ((streq(path, "GPU Power Readings/Current Power Limit") || streq(path, "GPU Power Readings/Enforced Power Limit") ||
                  streq(path, "Power Readings/Enforced Power Limit")) &&
                 d->power_limit_mw < 0)
                d->power_limit_mw = value_mw(v);
        else if (startswith(path, "Clocks Event Reasons/") || startswith(path, "Clocks Throttle Reasons/") ||
                 startswith(path, "Clocks Throttle Reasons/HW Slowdown/") || startswith(path, "Clocks Event Reasons/HW Slowdown/")) {
                int b = value_bool(v);
                for (size_t i = 0; i < ARRAY_SIZE(thr_names) && b >= 0; i++)
                        if (streq(key, thr_names[i].name)) {
                                if (d->throttle < 0)
                                        d->throttle = 0;
                                if (b)
                                        d->throttle |= (int64_t)thr_names[i].bit;
                        }
        } else if (startswith(path, "ECC Errors/Volatile/") || startswith(path, "ECC Errors/Aggregate/")) {
                /* Uncorrectable counts: "DRAM Uncorrectable", "SRAM Uncorrectable Parity",
                 * older drivers "Double Bit/Total". Summed per counter. */
                bool vol = startswith(path, "ECC Errors/Volatile/");
                if (!strstr(key, "Uncorrectable") && !strstr(path, "Double Bit/Total"))
                        return;
                int64_t n = value_int(v);
                if (n < 0)
                        return;
                int64_t *t = vol ? &d->ecc_volatile : &d->ecc_aggregate;
                bool *seen = vol ? ecc_v_seen : ecc_a_seen;
                if (!*seen || *t < 0)
                        *t = 0;
                *seen = true;
                if (*t <= INT64_MAX - n)
                        *t += n;
        } else if ((streq(path, "Retired Pages/Pending Page Blacklist") || streq(path, "Retired Pages/Pending Page Retirement") ||
                    streq(path, "Retired Pages/Pending")) &&
                   d->retired_pending < 0)
                d->retired_pending = value_bool(v);
        else if (streq(path, "Remapped Rows/Pending") && d->remap_pending < 0)
                d->remap_pending = value_bool(v);
        else if (streq(path, "Remapped Rows/Remapping Failure Occurred") && d->remap_failure < 0)
                d->remap_failure = value_bool(v);
        else if (streq(path, "Processes/Process ID")) {
                *cur = NULL;
                int64_t pid = value_int(v);
                if (pid <= 0 || pid > INT32_MAX)
                        return;
                for (size_t i = 0; i < s->nproc; i++)
                        if (s->proc[i].pid == pid && s->proc[i].gpu == (int)(d - s->dev))
                                return; /* already known (from --query-compute-apps) */
                if ((*cur = proc_add(s))) {
                        (*cur)->gpu = (int)(d - s->dev);
                        (*cur)->pid = (int)pid;
                }
        } else if (*cur && streq(path, "Processes/Process ID/Name"))
                copy_str((*cur)->name, sizeof((*cur)->name), v);
        else if (*cur && streq(path, "Processes/Process ID/Used GPU Memory"))
                (*cur)->used_bytes = value_mib(v);
}

int gpu_q_parse(const char *text, struct gpu_snapshot *s)
{
        _cleanup_free_ char *buf = xstrdup(text);
        size_t pos = 0;
        char *line;
        bool valid = false;
        struct gpu_dev *d = NULL;
        struct q_block blk = {0};
        char stack[Q_DEPTH_MAX][64];
        int depth_of_block = 0;
        while ((line = next_line(buf, &pos))) {
                size_t sp = strspn(line, " ");
                char *t = line + sp;
                size_t len = strlen(t);
                while (len && (t[len - 1] == ' ' || t[len - 1] == '\r'))
                        t[--len] = 0;
                if (!len)
                        continue;
                if (strstr(t, "NVSMI LOG"))
                        valid = true;
                char *colon = strstr(t, " : ");
                if (!colon && len && t[len - 1] == ':' && len >= 2 && t[len - 2] == ' ')
                        colon = t + len - 2; /* "Key :" with an empty value */
                char *key = t, *val = NULL;
                if (colon) {
                        *colon = 0;
                        val = strstrip(colon + 3 <= t + len ? colon + 3 : colon + 2);
                        key = strstrip(key);
                        size_t kl = strlen(key);
                        while (kl && key[kl - 1] == ' ')
                                key[--kl] = 0;
                }
                if (sp == 0) {
                        /* Top level: the header, the versions, or "GPU 00000000:01:00.0". */
                        q_block_end(d, &blk);
                        if (val && streq(key, "Driver Version")) {
                                copy_str(s->driver, sizeof(s->driver), val);
                                valid = true;
                        } else if (val && streq(key, "CUDA Version") && !value_na(val))
                                copy_str(s->cuda, sizeof(s->cuda), val);
                        else if (!val && startswith(t, "GPU ")) {
                                char b[16];
                                d = NULL;
                                if (gpu_bus_id_norm(t + 4, b) == 0) {
                                        d = gpu_dev_by_bus(s, b);
                                        if (!d && (d = gpu_dev_add(s)))
                                                memcpy(d->bus_id, b, sizeof(b));
                                }
                                depth_of_block = 1;
                        } else
                                d = NULL;
                        continue;
                }
                if (!d)
                        continue;
                int depth = (int)(sp / 4) - depth_of_block;
                if (depth < 0 || depth >= Q_DEPTH_MAX)
                        continue;
                snprintf(stack[depth], sizeof(stack[depth]), "%s", key);
                if (!val)
                        continue; /* a section: its name is on the stack */
                char path[Q_DEPTH_MAX * 64 + Q_DEPTH_MAX];
                size_t pl = 0;
                path[0] = 0;
                for (int i = 0; i <= depth; i++)
                        pl += (size_t)snprintf(path + pl, sizeof(path) - pl, "%s%s", i ? "/" : "", stack[i]);
                if (strstr(val, "GPU is lost"))
                        d->lost = true;
                q_field(s, d, path, val, &blk);
        }
        q_block_end(d, &blk);
        return valid ? 0 : -EINVAL;
}

enum gpu_status gpu_smi_error(const char *out)
{
        if (strstr(out, "version mismatch"))
                return GPU_MISMATCH;
        if (strstr(out, "NVIDIA-SMI has failed") || strstr(out, "couldn't communicate with the NVIDIA driver") ||
            strstr(out, "Driver Not Loaded"))
                return GPU_DRIVER_FAILED;
        if (strstr(out, "No devices were found"))
                return GPU_NO_DEVICES;
        return GPU_OK;
}

/* ---- /proc/driver/nvidia ---- */

int gpu_procinfo_parse(const char *text, struct gpu_procinfo *g)
{
        *g = (struct gpu_procinfo){0};
        _cleanup_free_ char *buf = xstrdup(text);
        size_t pos = 0;
        char *line;
        bool any = false;
        while ((line = next_line(buf, &pos))) {
                char *c = strchr(line, ':');
                if (!c)
                        continue;
                *c = 0;
                char *k = strstrip(line), *v = strstrip(c + 1);
                size_t kl = strlen(k);
                while (kl && isspace((unsigned char)k[kl - 1]))
                        k[--kl] = 0;
                if (streq(k, "Model")) {
                        copy_str(g->model, sizeof(g->model), v);
                        any = true;
                } else if (streq(k, "GPU UUID"))
                        copy_str(g->uuid, sizeof(g->uuid), v);
        }
        /* Bus Location has colons: read it again whole. */
        const char *bl = strstr(text, "Bus Location:");
        if (bl) {
                bl += strlen("Bus Location:");
                while (*bl == ' ' || *bl == '\t')
                        bl++;
                char tmp[32];
                size_t n = strcspn(bl, " \t\r\n");
                if (n < sizeof(tmp)) {
                        memcpy(tmp, bl, n);
                        tmp[n] = 0;
                        if (gpu_bus_id_norm(tmp, g->bus_id) == 0)
                                any = true;
                }
        }
        return any ? 0 : -EINVAL;
}

int gpu_nvrm_version(const char *text, char *out, size_t n)
{
        /* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  515.76  Mon Sep ..." or "... Open
         * Kernel Module for x86_64  575.57.08  Release Build ...": the first word made of
         * digits and dots with a dot in it. */
        if (n)
                out[0] = 0;
        if (!startswith(text, "NVRM version:"))
                return -EINVAL;
        const char *eol = strchr(text, '\n');
        for (const char *p = text + 13; *p && (!eol || p < eol);) {
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t w = strcspn(p, " \t\n");
                size_t digits = strspn(p, "0123456789.");
                if (w && digits == w && isdigit((unsigned char)*p) && memchr(p, '.', w) && w < n) {
                        memcpy(out, p, w);
                        out[w] = 0;
                        return 0;
                }
                p += w;
        }
        return -EINVAL;
}

/* ---- JSON ---- */

static void add_int(json_object *o, const char *k, int64_t v)
{
        if (v >= 0)
                json_object_object_add(o, k, json_object_new_int64(v));
}

json_object *gpu_snapshot_to_json(const struct gpu_snapshot *s)
{
        json_object *o = json_object_new_object();
        static const char *const src[] = {"none", "nvml", "nvidia-smi"};
        json_object_object_add(o, "source", json_object_new_string(src[s->source <= GPU_SRC_SMI ? s->source : 0]));
        json_object_object_add(o, "status", json_object_new_string(gpu_status_name(s->status)));
        if (s->error)
                json_object_object_add(o, "error", json_object_new_string(s->error));
        if (s->driver[0])
                json_object_object_add(o, "driver_version", json_object_new_string(s->driver));
        if (s->cuda[0])
                json_object_object_add(o, "cuda_version", json_object_new_string(s->cuda));
        json_object_object_add(o, "duration_ms", json_object_new_int64((int64_t)s->duration_ms));
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->ndev; i++) {
                const struct gpu_dev *d = &s->dev[i];
                json_object *g = json_object_new_object();
                json_object_object_add(g, "index", json_object_new_int(d->index));
                json_object_object_add(g, "name", json_object_new_string(d->name));
                json_object_object_add(g, "uuid", json_object_new_string(d->uuid));
                json_object_object_add(g, "pci_bus_id", json_object_new_string(d->bus_id));
                if (d->lost)
                        json_object_object_add(g, "lost", json_object_new_boolean(1));
                if (d->error[0])
                        json_object_object_add(g, "error", json_object_new_string(d->error));
#define I(k, f) add_int(g, k, d->f)
                I("temperature_c", temp_c); I("slowdown_c", slowdown_c); I("shutdown_c", shutdown_c);
                I("utilization_gpu_pct", util_gpu); I("utilization_memory_pct", util_mem);
                I("memory_used_bytes", mem_used); I("memory_total_bytes", mem_total);
                I("power_mw", power_mw); I("power_limit_mw", power_limit_mw); I("throttle_reasons", throttle);
                I("ecc_uncorrected_volatile", ecc_volatile); I("ecc_uncorrected_aggregate", ecc_aggregate);
                I("retired_pages_pending", retired_pending); I("remapped_rows_pending", remap_pending);
                I("remapped_rows_failure", remap_failure); I("persistence_mode", persistence); I("mig_mode", mig);
                I("compute_mode", compute_mode);
#undef I
                json_object_array_add(a, g);
        }
        json_object_object_add(o, "gpus", a);
        a = json_object_new_array();
        for (size_t i = 0; i < s->nproc; i++) {
                const struct gpu_proc *p = &s->proc[i];
                json_object *g = json_object_new_object();
                json_object_object_add(g, "gpu", json_object_new_int(p->gpu));
                json_object_object_add(g, "pid", json_object_new_int(p->pid));
                json_object_object_add(g, "name", json_object_new_string(p->name));
                add_int(g, "used_bytes", p->used_bytes);
                json_object_array_add(a, g);
        }
        json_object_object_add(o, "processes", a);
        if (s->procs_cut)
                json_object_object_add(o, "processes_cut", json_object_new_boolean(1));
        return o;
}

static int64_t get_int(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        int64_t n = json_object_get_int64(v);
        return n < 0 ? -1 : n;
}

static void get_str(json_object *o, const char *k, char *dst, size_t n)
{
        json_object *v;
        if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
                copy_str(dst, n, json_object_get_string(v));
}

int gpu_snapshot_from_json(json_object *o, struct gpu_snapshot *s)
{
        *s = (struct gpu_snapshot){0};
        json_object *v, *a;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "status", &v) ||
            !json_object_is_type(v, json_type_string))
                return -EINVAL;
        s->status = GPU_ERROR;
        for (int i = GPU_OK; i <= GPU_ERROR; i++)
                if (streq(json_object_get_string(v), gpu_status_name(i)))
                        s->status = i;
        s->source = GPU_SRC_NVML;
        if (json_object_object_get_ex(o, "error", &v) && json_object_is_type(v, json_type_string))
        {
                const char *e = json_object_get_string(v);
                s->error = xstrndup(e, strnlen(e, 1024));
        }
        get_str(o, "driver_version", s->driver, sizeof(s->driver));
        get_str(o, "cuda_version", s->cuda, sizeof(s->cuda));
        if (json_object_object_get_ex(o, "gpus", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *g = json_object_array_get_idx(a, i);
                        struct gpu_dev *d;
                        if (!json_object_is_type(g, json_type_object) || !(d = gpu_dev_add(s)))
                                break;
                        int64_t idx = get_int(g, "index");
                        d->index = idx >= 0 && idx < 65536 ? (int)idx : (int)i;
                        get_str(g, "name", d->name, sizeof(d->name));
                        get_str(g, "uuid", d->uuid, sizeof(d->uuid));
                        char b[32] = "";
                        get_str(g, "pci_bus_id", b, sizeof(b));
                        if (gpu_bus_id_norm(b, d->bus_id) < 0)
                                d->bus_id[0] = 0;
                        get_str(g, "error", d->error, sizeof(d->error));
                        d->lost = json_object_object_get_ex(g, "lost", &v) && json_object_get_boolean(v);
#define I(k, f) d->f = get_int(g, k)
#define B(k, f) d->f = (int)(get_int(g, k) > 3 ? -1 : get_int(g, k))
                        I("temperature_c", temp_c); I("slowdown_c", slowdown_c); I("shutdown_c", shutdown_c);
                        I("utilization_gpu_pct", util_gpu); I("utilization_memory_pct", util_mem);
                        I("memory_used_bytes", mem_used); I("memory_total_bytes", mem_total);
                        I("power_mw", power_mw); I("power_limit_mw", power_limit_mw); I("throttle_reasons", throttle);
                        I("ecc_uncorrected_volatile", ecc_volatile); I("ecc_uncorrected_aggregate", ecc_aggregate);
                        B("retired_pages_pending", retired_pending); B("remapped_rows_pending", remap_pending);
                        B("remapped_rows_failure", remap_failure); B("persistence_mode", persistence); B("mig_mode", mig);
                        B("compute_mode", compute_mode);
#undef I
#undef B
                }
        if (json_object_object_get_ex(o, "processes", &a) && json_object_is_type(a, json_type_array))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *g = json_object_array_get_idx(a, i);
                        struct gpu_proc *p;
                        if (!json_object_is_type(g, json_type_object) || !(p = proc_add(s)))
                                break;
                        int64_t gi = get_int(g, "gpu"), pid = get_int(g, "pid");
                        p->gpu = gi >= 0 && (size_t)gi < s->ndev ? (int)gi : -1;
                        p->pid = pid > 0 && pid <= INT32_MAX ? (int)pid : -1;
                        p->used_bytes = get_int(g, "used_bytes");
                        get_str(g, "name", p->name, sizeof(p->name));
                }
        s->procs_cut = json_object_object_get_ex(o, "processes_cut", &v) && json_object_get_boolean(v);
        return 0;
}
