/* Reading the GPU state from the host: NVML in a child with a deadline, nvidia-smi
 * with a deadline, and the kernel's view (/proc/driver/nvidia, PCI). See gpuprobe.h. */
#include "config.h"
#include "lib/gpuprobe.h"
#include "lib/child.h"
#include "lib/nvml_api.h"
#include "lib/rootfs.h"
#include "lib/subprocess.h"
#include "lib/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NVML_JSON_MAX (8u << 20)

static char *take(char **p)
{
        char *r = *p;
        *p = NULL;
        return r;
}

static void dev_error(struct gpu_dev *d, const struct nvml_api *n, const char *what, nvmlReturn_t r)
{
        if (r == NVML_ERROR_GPU_IS_LOST)
                d->lost = true;
        if (!d->error[0])
                snprintf(d->error, sizeof(d->error), "%s: %s", what, n->ErrorString(r));
}

/* A process's argv[0] (as nvidia-smi shows it; comm is cut at 15 bytes), else its comm. */
static void proc_name(unsigned pid, char *out, size_t n)
{
        char path[64];
        _cleanup_free_ char *txt = NULL;
        snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
        if (rootfs_read(path, 64 << 10, &txt, NULL) > 0 && txt[0]) {
                snprintf(out, n, "%s", txt);
        } else {
                free(txt);
                txt = NULL;
                snprintf(path, sizeof(path), "/proc/%u/comm", pid);
                if (rootfs_read_value(path, &txt) == 0)
                        snprintf(out, n, "%s", txt);
        }
        for (char *c = out; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        *c = '?';
}

/* Optional readings: an absent function or NOT_SUPPORTED leaves -1; GPU_IS_LOST is noted. */
#define OPT(fn, ...) (n->fn ? n->fn(__VA_ARGS__) : NVML_ERROR_FUNCTION_NOT_FOUND)

void gpu_nvml_read(const struct nvml_api *n, struct gpu_snapshot *s)
{
        char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
        if (n->SystemGetDriverVersion(buf, sizeof(buf)) == NVML_SUCCESS) {
                buf[sizeof(buf) - 1] = 0;
                snprintf(s->driver, sizeof(s->driver), "%s", buf);
        }
        int cuda = 0;
        if (OPT(SystemGetCudaDriverVersion_v2, &cuda) == NVML_SUCCESS && cuda > 0)
                snprintf(s->cuda, sizeof(s->cuda), "%d.%d", cuda / 1000, cuda % 1000 / 10);
        unsigned count = 0;
        nvmlReturn_t r = n->DeviceGetCount_v2(&count);
        if (r != NVML_SUCCESS) {
                s->status = r == NVML_ERROR_LIB_RM_VERSION_MISMATCH ? GPU_MISMATCH : GPU_ERROR;
                s->error = xasprintf("nvmlDeviceGetCount: %s", n->ErrorString(r));
                return;
        }
        s->status = count ? GPU_OK : GPU_NO_DEVICES;
        for (unsigned i = 0; i < count && i < GPU_MAX; i++) {
                struct gpu_dev *d = gpu_dev_add(s);
                d->index = (int)i;
                nvmlDevice_t h;
                if ((r = n->DeviceGetHandleByIndex_v2(i, &h)) != NVML_SUCCESS) {
                        dev_error(d, n, "nvmlDeviceGetHandleByIndex", r);
                        continue;
                }
                char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
                if ((r = n->DeviceGetName(h, name, sizeof(name))) == NVML_SUCCESS) {
                        name[sizeof(name) - 1] = 0;
                        snprintf(d->name, sizeof(d->name), "%s", name);
                } else
                        dev_error(d, n, "nvmlDeviceGetName", r);
                char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
                if (OPT(DeviceGetUUID, h, uuid, sizeof(uuid)) == NVML_SUCCESS) {
                        uuid[sizeof(uuid) - 1] = 0;
                        snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
                }
                nvmlPciInfo_t pci = {0};
                if (OPT(DeviceGetPciInfo_v3, h, &pci) == NVML_SUCCESS) {
                        pci.busId[sizeof(pci.busId) - 1] = 0;
                        if (gpu_bus_id_norm(pci.busId, d->bus_id) < 0)
                                d->bus_id[0] = 0;
                }
                unsigned u;
                if ((r = OPT(DeviceGetTemperature, h, NVML_TEMPERATURE_GPU, &u)) == NVML_SUCCESS)
                        d->temp_c = u;
                else if (r == NVML_ERROR_GPU_IS_LOST)
                        dev_error(d, n, "nvmlDeviceGetTemperature", r);
                if (OPT(DeviceGetTemperatureThreshold, h, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN, &u) == NVML_SUCCESS)
                        d->slowdown_c = u;
                if (OPT(DeviceGetTemperatureThreshold, h, NVML_TEMPERATURE_THRESHOLD_SHUTDOWN, &u) == NVML_SUCCESS)
                        d->shutdown_c = u;
                nvmlUtilization_t ut;
                if (OPT(DeviceGetUtilizationRates, h, &ut) == NVML_SUCCESS) {
                        d->util_gpu = ut.gpu;
                        d->util_mem = ut.memory;
                }
                /* v2 first: its "used" leaves out the driver's reserved memory, so the
                 * numbers are nvidia-smi's (an H200 idles at 0 MiB used, 616 MiB reserved;
                 * v1 says 615 MiB used). v1 where the driver lacks v2. */
                nvmlMemory_v2_t m2 = {.version = NVML_MEMORY_V2_VERSION};
                nvmlMemory_t m;
                if ((r = OPT(DeviceGetMemoryInfo_v2, h, &m2)) == NVML_SUCCESS)
                        m = (nvmlMemory_t){.total = m2.total, .free = m2.free, .used = m2.used};
                else if (r != NVML_ERROR_GPU_IS_LOST)
                        r = OPT(DeviceGetMemoryInfo, h, &m);
                if (r == NVML_SUCCESS && m.total <= INT64_MAX && m.used <= m.total) {
                        d->mem_total = (int64_t)m.total;
                        d->mem_used = (int64_t)m.used;
                } else if (r == NVML_ERROR_GPU_IS_LOST)
                        dev_error(d, n, "nvmlDeviceGetMemoryInfo", r);
                if (OPT(DeviceGetPowerUsage, h, &u) == NVML_SUCCESS)
                        d->power_mw = u;
                if (OPT(DeviceGetEnforcedPowerLimit, h, &u) == NVML_SUCCESS)
                        d->power_limit_mw = u;
                unsigned long long ull;
                if (OPT(DeviceGetCurrentClocksThrottleReasons, h, &ull) == NVML_SUCCESS)
                        d->throttle = (int64_t)(ull & 0x7fffffffffffffffULL);
                if (OPT(DeviceGetTotalEccErrors, h, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &ull) == NVML_SUCCESS)
                        d->ecc_volatile = (int64_t)(ull & 0x7fffffffffffffffULL);
                if (OPT(DeviceGetTotalEccErrors, h, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC, &ull) == NVML_SUCCESS)
                        d->ecc_aggregate = (int64_t)(ull & 0x7fffffffffffffffULL);
                int e;
                if (OPT(DeviceGetRetiredPagesPendingStatus, h, &e) == NVML_SUCCESS)
                        d->retired_pending = e != 0;
                unsigned corr, unc, pend, fail;
                if (OPT(DeviceGetRemappedRows, h, &corr, &unc, &pend, &fail) == NVML_SUCCESS) {
                        d->remap_pending = pend != 0;
                        d->remap_failure = fail != 0;
                }
                if (OPT(DeviceGetPersistenceMode, h, &e) == NVML_SUCCESS)
                        d->persistence = e != 0;
                if (OPT(DeviceGetComputeMode, h, &e) == NVML_SUCCESS && e >= 0 && e <= 3)
                        d->compute_mode = e;
                unsigned cur, pending;
                if (OPT(DeviceGetMigMode, h, &cur, &pending) == NVML_SUCCESS)
                        d->mig = cur != 0;
                if (n->DeviceGetComputeRunningProcesses_v3) {
                        nvmlProcessInfo_t pi[64];
                        unsigned np = ARRAY_SIZE(pi);
                        r = n->DeviceGetComputeRunningProcesses_v3(h, &np, pi);
                        if (r == NVML_ERROR_INSUFFICIENT_SIZE)
                                s->procs_cut = true;
                        for (unsigned k = 0; r == NVML_SUCCESS && k < np && k < ARRAY_SIZE(pi); k++) {
                                if (s->nproc >= GPU_PROCS_MAX) {
                                        s->procs_cut = true;
                                        break;
                                }
                                s->proc = xrealloc(s->proc, (s->nproc + 1) * sizeof(*s->proc));
                                struct gpu_proc *p = &s->proc[s->nproc++];
                                /* NVML reports "not available" memory as ~0ULL (NVML_VALUE_NOT_AVAILABLE) */
                                *p = (struct gpu_proc){.gpu = (int)(s->ndev - 1), .pid = (int)pi[k].pid,
                                                       .used_bytes = pi[k].usedGpuMemory <= INT64_MAX ? (int64_t)pi[k].usedGpuMemory : -1};
                                proc_name(pi[k].pid, p->name, sizeof(p->name));
                        }
                }
                if (d->lost)
                        s->status = GPU_OK; /* the others answered; the lost one is reported by name */
        }
}

struct nvml_child_arg {
        const char *path;
};

static void nvml_child(void *arg, int wfd)
{
        const struct nvml_child_arg *a = arg;
        struct gpu_snapshot s = {.source = GPU_SRC_NVML};
        const char *err = NULL;
        const struct nvml_api *n = nvml_api(a->path, &err);
        if (!n) {
                s.status = GPU_ABSENT;
                s.error = xstrdup(err);
        } else {
                nvmlReturn_t r = n->Init_v2();
                if (r != NVML_SUCCESS) {
                        s.status = r == NVML_ERROR_LIB_RM_VERSION_MISMATCH ? GPU_MISMATCH
                                   : r == NVML_ERROR_DRIVER_NOT_LOADED    ? GPU_DRIVER_FAILED
                                                                          : GPU_ERROR;
                        s.error = xasprintf("nvmlInit: %s", n->ErrorString(r));
                } else {
                        gpu_nvml_read(n, &s);
                        n->Shutdown();
                }
        }
        json_object *o = gpu_snapshot_to_json(&s);
        const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        (void)write_all(wfd, txt, strlen(txt));
        json_object_put(o);
        gpu_snapshot_free(&s);
}

int gpu_query_nvml(const struct gpu_query_opts *o, struct gpu_snapshot *s)
{
        *s = (struct gpu_snapshot){.source = GPU_SRC_NVML};
        uint64_t t0 = now_ms_monotonic(), deadline = t0 + o->timeout_ms;
        if (o->stop_ms && o->stop_ms < deadline)
                deadline = o->stop_ms;
        if (o->nvml_path && streq(o->nvml_path, "none")) {
                s->status = GPU_ABSENT;
                s->error = xstrdup("NVML not used ([gpu] nvml_path = none)");
                return -ENOENT;
        }
        struct nvml_child_arg a = {.path = o->nvml_path};
        struct child c;
        int r = child_start(&c, "gpu_nvml", nvml_child, &a);
        if (r < 0) {
                s->status = GPU_ERROR;
                s->error = xasprintf("cannot start the NVML child: %s", strerror(-r));
                return r;
        }
        struct strbuf b = {0};
        sb_puts(&b, "");
        bool timed_out = false, cut = false;
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                struct pollfd p = {.fd = c.fd, .events = POLLIN};
                int pr = poll(&p, 1, (int)(deadline - now));
                if (pr <= 0)
                        continue; /* EINTR or the deadline: checked above */
                char buf[16384];
                ssize_t nr = read(c.fd, buf, sizeof(buf));
                if (nr < 0 && errno == EINTR)
                        continue;
                if (nr <= 0)
                        break;
                if (b.len + (size_t)nr > NVML_JSON_MAX) {
                        cut = true;
                        break;
                }
                sb_putn(&b, buf, (size_t)nr);
        }
        close(c.fd);
        bool abandoned = false;
        int status = child_reap(c.pid, timed_out || cut, &abandoned);
        s->duration_ms = now_ms_monotonic() - t0;
        _cleanup_free_ char *txt = sb_steal(&b);
        if (timed_out) {
                s->status = GPU_TIMEOUT;
                s->error = xasprintf("NVML (%s) did not answer within %llu ms; its process was killed%s",
                                     o->nvml_path && *o->nvml_path ? o->nvml_path : NVML_DEFAULT_PATH,
                                     (unsigned long long)(deadline - t0),
                                     abandoned ? " but cannot be reaped (stuck in the kernel, D state): abandoned" : "");
                return -ETIMEDOUT;
        }
        json_object *j = cut ? NULL : json_tokener_parse(txt);
        struct gpu_snapshot got;
        if (!j || gpu_snapshot_from_json(j, &got) < 0) {
                if (j)
                        json_object_put(j);
                _cleanup_free_ char *why = child_status_error(status);
                s->status = GPU_ERROR;
                s->error = xasprintf("the NVML child %s without an answer", why ? why : "ended");
                return -EIO;
        }
        json_object_put(j);
        got.source = GPU_SRC_NVML;
        got.duration_ms = s->duration_ms;
        *s = got;
        return s->status == GPU_OK ? 0 : -EIO;
}

/* PATH lookup, as execvp does it, to say "nvidia-smi is not installed" before running. */
char *gpu_which(const char *argv0)
{
        if (strchr(argv0, '/'))
                return access(argv0, X_OK) == 0 ? xstrdup(argv0) : NULL;
        const char *path = getenv("PATH");
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *full = xasprintf("%.*s/%s", (int)n, n ? p : ".", argv0);
                struct stat st;
                if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
                        return take(&full);
                p += n + (p[n] == ':');
        }
        return NULL;
}

/* One nvidia-smi run: *out gets its output; the status says how it went. */
static enum gpu_status smi_run(const struct gpu_query_opts *o, const char *const argv[], uint64_t deadline, char **out,
                               char **err)
{
        uint64_t now = now_ms_monotonic();
        if (o->stop_ms && o->stop_ms < deadline)
                deadline = o->stop_ms;
        uint64_t left = deadline > now ? deadline - now : 1;
        struct cmd_result r;
        int rc = cmd_run(argv, left, GPU_SMI_OUT_MAX, &r);
        enum gpu_status st = gpu_smi_error(r.out ? r.out : "");
        if (rc == -ETIMEDOUT)
                st = GPU_TIMEOUT;
        else if (rc == -ENOENT)
                st = GPU_ABSENT;
        else if (st == GPU_OK && rc < 0)
                st = GPU_ERROR;
        if (st != GPU_OK) {
                /* the first line nvidia-smi printed says what it could not do */
                const char *o1 = r.out ? r.out : "";
                size_t n = strcspn(o1, "\n");
                *err = xasprintf("%s%s%.*s%s", r.error ? r.error : "nvidia-smi", n ? ": \"" : "", (int)(n < 200 ? n : 200), o1,
                                 n ? "\"" : "");
        }
        *out = take(&r.out);
        cmd_result_free(&r);
        return st;
}

#define SMI_FIELDS                                                                                                \
        "index,name,uuid,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,utilization.memory,memory.used," \
        "memory.total,power.draw,enforced.power.limit,clocks_throttle_reasons.active,"                           \
        "ecc.errors.uncorrected.volatile.total,ecc.errors.uncorrected.aggregate.total,retired_pages.pending,"     \
        "remapped_rows.pending,remapped_rows.failure,persistence_mode,compute_mode,mig.mode.current"
/* What every driver evodiag may meet knows (an unknown field fails the whole query). */
#define SMI_FIELDS_MIN "index,name,uuid,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,memory.used,memory.total,persistence_mode"

int gpu_query_smi(const struct gpu_query_opts *o, struct gpu_snapshot *s)
{
        *s = (struct gpu_snapshot){.source = GPU_SRC_SMI};
        uint64_t t0 = now_ms_monotonic();
        const char *smi = o->smi && *o->smi ? o->smi : "nvidia-smi";
        if (streq(smi, "none")) {
                s->status = GPU_ABSENT;
                s->error = xstrdup("nvidia-smi not used ([gpu] nvidia_smi = none)");
                return -ENOENT;
        }
        _cleanup_free_ char *out = NULL, *err = NULL;
        const char *argv[] = {smi, "--query-gpu=" SMI_FIELDS, "--format=csv", NULL};
        s->status = smi_run(o, argv, t0 + o->timeout_ms, &out, &err);
        if (s->status == GPU_ERROR && out && strstr(out, "is not a valid field")) {
                free(out);
                free(err);
                out = err = NULL;
                argv[1] = "--query-gpu=" SMI_FIELDS_MIN;
                s->status = smi_run(o, argv, t0 + o->timeout_ms, &out, &err);
        }
        if (s->status == GPU_OK && gpu_csv_parse(out, s) < 0) {
                s->status = GPU_ERROR;
                err = xasprintf("nvidia-smi --query-gpu printed no table evodiag can read: \"%.*s\"",
                                (int)(strcspn(out, "\n") < 200 ? strcspn(out, "\n") : 200), out);
        }
        if (s->status == GPU_OK) {
                /* Processes and thresholds: each with its own deadline; a failure here
                 * loses those readings, not the table. */
                free(out);
                out = NULL;
                _cleanup_free_ char *e2 = NULL;
                const char *apps[] = {smi, "--query-compute-apps=gpu_uuid,gpu_bus_id,pid,process_name,used_memory", "--format=csv",
                                      NULL};
                enum gpu_status st = smi_run(o, apps, now_ms_monotonic() + o->timeout_ms, &out, &e2);
                if (st == GPU_OK)
                        (void)gpu_apps_csv_parse(out, s);
                else if (st == GPU_TIMEOUT) {
                        s->status = st;
                        err = take(&e2);
                }
                if (s->status == GPU_OK) {
                        free(out);
                        out = NULL;
                        free(e2);
                        e2 = NULL;
                        const char *q[] = {smi, "-q", NULL};
                        st = smi_run(o, q, now_ms_monotonic() + o->timeout_ms, &out, &e2);
                        if (st == GPU_OK)
                                (void)gpu_q_parse(out, s);
                        else if (st == GPU_TIMEOUT) {
                                s->status = st;
                                err = take(&e2);
                        }
                }
        }
        s->error = take(&err);
        s->duration_ms = now_ms_monotonic() - t0;
        return s->status == GPU_OK ? 0 : -EIO;
}

int gpu_query(const struct gpu_query_opts *o, struct gpu_snapshot *s)
{
        int r = gpu_query_nvml(o, s);
        if (s->status != GPU_ABSENT)
                return r;
        _cleanup_free_ char *why = take(&s->error);
        gpu_snapshot_free(s);
        r = gpu_query_smi(o, s);
        if (s->status == GPU_ABSENT && why) {
                char *both = xasprintf("%s; %s", why, s->error ? s->error : "nvidia-smi not found");
                free(s->error);
                s->error = both;
        }
        return r;
}

/* ---- the kernel's view ---- */

/* A sysfs "0x10de" value. */
static int read_hex(const char *path, uint64_t *out)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value(path, &v);
        if (r < 0)
                return r;
        if (!startswith(v, "0x") || !v[2] || strlen(v + 2) > 8)
                return -EINVAL;
        return parse_digits_u64(v + 2, strlen(v + 2), 16, 8, out);
}

int gpu_pci_list(struct gpu_pci **v, size_t *n)
{
        *v = NULL;
        *n = 0;
        struct rootfs_dir *d = rootfs_opendir("/sys/bus/pci/devices");
        if (!d)
                return -errno ? -errno : -ENOENT;
        struct dirent *de;
        while ((de = rootfs_readdir(d)) && *n < GPU_MAX) {
                char b[16], path[300];
                if (gpu_bus_id_norm(de->d_name, b) < 0)
                        continue;
                uint64_t vendor, cls, dev = 0;
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
                if (read_hex(path, &vendor) < 0 || vendor != 0x10de)
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", de->d_name);
                if (read_hex(path, &cls) < 0 || (cls >> 16) != 0x03)
                        continue; /* the GPU's HDMI audio or USB-C functions are not GPUs */
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
                (void)read_hex(path, &dev);
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                struct gpu_pci *g = &(*v)[(*n)++];
                *g = (struct gpu_pci){.device_id = (unsigned)(dev & 0xffff)};
                memcpy(g->bus_id, b, sizeof(b));
                snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", de->d_name);
                _cleanup_free_ char *link = NULL;
                if (rootfs_readlink(path, &link) == 0) {
                        const char *base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
                        snprintf(g->driver, sizeof(g->driver), "%s", base);
                }
        }
        rootfs_closedir(d);
        return 0;
}

int gpu_driver_proc_read(struct gpu_driver_proc *d)
{
        *d = (struct gpu_driver_proc){0};
        struct stat st;
        if (rootfs_stat("/proc/driver/nvidia", &st, true) < 0 || !S_ISDIR(st.st_mode))
                return -ENOENT;
        d->loaded = true;
        _cleanup_free_ char *v = NULL;
        if (rootfs_read("/proc/driver/nvidia/version", 64 << 10, &v, NULL) >= 0) {
                d->version_line = xstrndup(v, strcspn(v, "\n"));
                (void)gpu_nvrm_version(v, d->version, sizeof(d->version));
        }
        struct rootfs_dir *dir = rootfs_opendir("/proc/driver/nvidia/gpus");
        if (!dir)
                return 0;
        struct dirent *de;
        while ((de = rootfs_readdir(dir)) && d->ngpus < GPU_MAX) {
                char b[16], path[300];
                if (gpu_bus_id_norm(de->d_name, b) < 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/driver/nvidia/gpus/%s/information", de->d_name);
                _cleanup_free_ char *txt = NULL;
                struct gpu_procinfo g = {0};
                if (rootfs_read(path, 64 << 10, &txt, NULL) < 0 || gpu_procinfo_parse(txt, &g) < 0)
                        g = (struct gpu_procinfo){0};
                memcpy(g.bus_id, b, sizeof(b)); /* the directory's name is the bus id */
                d->gpus = xrealloc(d->gpus, (d->ngpus + 1) * sizeof(*d->gpus));
                d->gpus[d->ngpus++] = g;
        }
        rootfs_closedir(dir);
        return 0;
}

void gpu_driver_proc_free(struct gpu_driver_proc *d)
{
        free(d->version_line);
        free(d->gpus);
        *d = (struct gpu_driver_proc){0};
}

bool gpu_present(const char *smi)
{
        if (rootfs_exists("/proc/driver/nvidia"))
                return true;
        struct rootfs_dir *d = rootfs_opendir("/dev");
        if (d) {
                struct dirent *de;
                bool dev = false;
                while (!dev && (de = rootfs_readdir(d)))
                        dev = startswith(de->d_name, "nvidia");
                rootfs_closedir(d);
                if (dev)
                        return true;
        }
        _cleanup_free_ struct gpu_pci *pci = NULL;
        size_t np = 0;
        if (gpu_pci_list(&pci, &np) == 0 && np)
                return true;
        if (rootfs_is_live() && smi && !streq(smi, "none")) {
                _cleanup_free_ char *p = gpu_which(*smi ? smi : "nvidia-smi");
                return p != NULL;
        }
        return false;
}

bool gpu_usable_snapshot(const struct gpu_query_opts *o, struct gpu_snapshot *s, char **why)
{
        *why = NULL;
        memset(s, 0, sizeof(*s));
        if (!rootfs_is_live()) {
                *why = xstrdup("not the live host (--root): the GPU cannot be asked");
                return false;
        }
        (void)gpu_query(o, s);
        bool ok = s->status == GPU_OK && s->ndev > 0;
        size_t good = 0;
        for (size_t i = 0; i < s->ndev; i++)
                good += !s->dev[i].lost;
        ok = ok && good > 0;
        if (ok)
                *why = xasprintf("%zu GPU%s (%s%s), driver %s", s->ndev, s->ndev == 1 ? "" : "s", s->dev[0].name,
                                 s->ndev > 1 ? ", ..." : "", s->driver[0] ? s->driver : "?");
        else
                *why = xasprintf("%s: %s", gpu_status_name(s->status), s->error ? s->error : "no GPU answered");
        return ok;
}

bool gpu_usable_status(const struct gpu_query_opts *o, struct gpu_verdict *v, char **why)
{
        struct gpu_snapshot s;
        if (v)
                *v = (struct gpu_verdict){.status = GPU_ERROR};
        bool ok = gpu_usable_snapshot(o, &s, why);
        if (v && rootfs_is_live()) {
                size_t good = 0;
                for (size_t i = 0; i < s.ndev; i++)
                        good += !s.dev[i].lost;
                *v = (struct gpu_verdict){.status = s.status, .ndev = s.ndev, .lost = s.ndev - good,
                                          .duration_ms = s.duration_ms};
        }
        gpu_snapshot_free(&s);
        return ok;
}

bool gpu_usable(const struct gpu_query_opts *o, char **why)
{
        struct gpu_snapshot s;
        bool ok = gpu_usable_snapshot(o, &s, why);
        gpu_snapshot_free(&s);
        return ok;
}
