/* gpu: NVIDIA GPU state that never hangs the run. NVML (dlopen()ed in a child with a
 * deadline), else nvidia-smi (with a deadline), else what the kernel shows
 * (/proc/driver/nvidia, PCI devices of vendor 0x10de). From the Cerebellar-Norse
 * guide (CUDA memory, CUDAMemoryHigh, nvidia-smi -L) and the vGPU mediator's error
 * log ("nvidia-smi hangs", "GPU has fallen off the bus").
 * Reading the GPU: lib/gpuprobe.c (shared with other collectors); decisions:
 * gpu_format.c; evodiag watch: gpu_sample.c. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/gpu.h"
#include "collectors/sink.h"
#include "lib/gpuprobe.h"
#include "lib/nvml_api.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#define REMEDY_HANG                                                                                                    \
        "dmesg | grep -i -E 'NVRM|Xid|fallen off' (Xid 79 = fallen off the bus); check temperature and power "          \
        "(nvidia-smi -q -d TEMPERATURE,POWER once it answers; PSU cables, airflow); stop the GPU processes and reset it " \
        "(nvidia-smi -r -i <index>), or reboot"
#define REMEDY_MISMATCH                                                                                                  \
        "the NVIDIA user-space libraries and the loaded kernel module differ (a driver package was upgraded under a "   \
        "running module): reboot, or stop every GPU user and reload the module (rmmod nvidia_uvm nvidia_drm "           \
        "nvidia_modeset nvidia && modprobe nvidia); cat /proc/driver/nvidia/version shows the loaded one"

static const struct check_info checks[] = {
        {"gpu.present", "NVIDIA GPUs on this host",
         "Which NVIDIA GPUs there are and who answers for them: NVML (libnvidia-ml.so.1, the library\n"
         "nvidia-smi is built on), else nvidia-smi, else the kernel's view (/proc/driver/nvidia and PCI\n"
         "devices of vendor 0x10de). info: the model, driver and CUDA version; or that there is no NVIDIA\n"
         "GPU here (a process that wants CUDA then falls back to the CPU or fails: the snn collector\n"
         "reports a `device = \"cuda\"` service on such a host).", true},
        {"gpu.responsive", "GPU driver answers in time",
         "NVML and nvidia-smi are asked with a deadline ([gpu] deadline, default 10 s); the NVML query runs\n"
         "in a child process that is killed on expiry (abandoned if it is stuck in the kernel), so the run\n"
         "finishes on time whatever the driver does. Bug-report scripts that run nvidia-smi without a\n"
         "timeout hang here.\n"
         "crit: it did not answer: the GPU may have fallen off the bus or the driver is wedged.\n"
         "Fix: " REMEDY_HANG ".", true},
        {"gpu.driver", "NVIDIA driver and library agree",
         "Whether NVML initialises and the driver answers for every GPU.\n"
         "crit: \"Failed to initialize NVML: Driver/library version mismatch\": " REMEDY_MISMATCH ".\n"
         "crit: \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\": the kernel\n"
         "module is not loaded (modprobe nvidia; dkms status: was it built for this kernel?).\n"
         "crit: a GPU is lost (\"GPU has fallen off the bus\", Xid 79): reset it or reboot, then check\n"
         "power and seating.\n"
         "unknown: nvidia-smi exited non-zero or printed output evodiag cannot read (shown as it is).", true},
        {"gpu.pci_missing", "Every PCI GPU is answered for by the driver",
         "The GPUs the kernel sees on the PCI bus (/sys/bus/pci/devices/*, vendor 0x10de, display class)\n"
         "against the ones NVML (or /proc/driver/nvidia/gpus) reports. crit: a GPU is on the bus but the\n"
         "driver does not report it: it failed to initialise, fell off the bus, or another driver\n"
         "(nouveau) holds it. info: it is bound to vfio-pci (passed through to a VM).\n"
         "Fix: dmesg | grep -i -E 'NVRM|Xid|fallen off'; lspci -k -s <bus id>; blacklist nouveau; reboot."},
        {"gpu.memory", "GPU memory use",
         "Used against total GPU memory per GPU (the SNN guide's CUDAMemoryHigh alert fires above 90%),\n"
         "with the processes that hold it, largest first. warn above [gpu] memory_warn_pct.\n"
         "A CUDA allocation beyond what is free fails (CUDA_ERROR_OUT_OF_MEMORY).\n"
         "Fix: stop or shrink the largest holder (SNN: lower cuda_streams or the batch size); nvidia-smi\n"
         "--query-compute-apps=pid,process_name,used_memory --format=csv lists them.", true},
        {"gpu.temperature", "GPU temperature against its slowdown threshold",
         "The GPU temperature against the driver's slowdown threshold (where the GPU cuts its clocks).\n"
         "warn within [gpu] temp_margin_c degrees of it; info when the GPU does not report a threshold.\n"
         "Fix: check airflow, fans and the data-centre inlet temperature; nvidia-smi -q -d TEMPERATURE.", true},
        {"gpu.throttle", "GPU clock throttling",
         "The clocks' throttle (event) reasons. warn: thermal slowdown (HW or SW), HW slowdown or the\n"
         "power brake (the PSU or the board asserted it) is active: the GPU runs far below its clocks.\n"
         "info: SW power cap (it runs at its power limit: normal under full load).\n"
         "Fix: cooling for thermal reasons; power supply and cabling for the power brake;\n"
         "nvidia-smi -q -d PERFORMANCE shows the reasons.", true},
        {"gpu.ecc", "GPU memory errors",
         "Uncorrected ECC errors and memory page retirement / row remapping.\n"
         "crit: uncorrected errors since the driver loaded (volatile), pages waiting to be retired or rows\n"
         "waiting to be remapped (only a GPU reset or reboot applies them), or a remapping failure.\n"
         "warn: uncorrected errors in the GPU's lifetime (aggregate). Skipped on GPUs without ECC.\n"
         "Fix: drain the GPU and reset it (nvidia-smi -r) or reboot so pending retirement/remapping takes\n"
         "effect; a remapping failure or recurring errors: RMA the board.", true},
        {"gpu.persistence", "GPU persistence mode",
         "Without persistence mode the driver tears the GPU state down whenever the last client exits\n"
         "and initialises it again on the next start (seconds of latency, lost settings). info when it is\n"
         "off on a host running a GPU component ([gpu] components).\n"
         "Fix: systemctl enable --now nvidia-persistenced (or nvidia-smi -pm 1).", true},
        {0},
};

static const struct config_key config[] = {
        CONF_STR("nvml_path", NVML_DEFAULT_PATH, "NVML library to dlopen() (a soname or a path); none: do not use NVML"),
        CONF_STR("nvidia_smi", "nvidia-smi", "nvidia-smi command (looked up in PATH) or path; none: do not run it"),
        CONF_DURATION("deadline", "10s", "how long NVML and each nvidia-smi run may take before they count as hung"),
        CONF_PCT("memory_warn_pct", "90", "warn when a GPU's memory use exceeds this %"),
        CONF_UINT("temp_margin_c", "5", 0, 100, "warn when the temperature is within this many degrees C of slowdown"),
        CONF_LIST("components", "cerebellar-norse", "process names of GPU components (persistence mode matters for them)"),
        CONF_DURATION("watch_interval", "5s", "evodiag watch: how often the GPUs are read (slower than the main loop)"),
        {0},
};

void gpu_opts(const struct ctx *c, struct gpu_query_opts *o)
{
        uint64_t ms = 10000;
        (void)parse_duration_ms(conf_str(c, "deadline"), &ms);
        *o = (struct gpu_query_opts){.nvml_path = conf_str(c, "nvml_path"), .smi = conf_str(c, "nvidia_smi"), .timeout_ms = ms};
        /* Leave the runner a second: the collector reports the hang itself. */
        if (c->deadline_ms > 1500)
                o->stop_ms = c->deadline_ms - 1000;
}

static char *components_running(struct ctx *c);

static bool gpu_detect(struct ctx *c)
{
        if (gpu_present(conf_str(c, "nvidia_smi")))
                return true;
        /* An NVML the operator named explicitly (or a test's stand-in). */
        const char *p = conf_str(c, "nvml_path");
        if (rootfs_is_live() && strchr(p, '/') && access(p, R_OK) == 0)
                return true;
        /* A GPU component without a GPU: worth the one line that says so. */
        _cleanup_free_ char *comps = components_running(c);
        return comps != NULL;
}

/* Components running here (by name, [gpu] components): "cerebellar-norse (pid 812)". */
static char *components_running(struct ctx *c)
{
        const char *list = conf_str(c, "components");
        if (!*list)
                return NULL;
        struct proctable pt;
        if (proctable_load(&pt) < 0)
                return NULL;
        struct strbuf b = {0};
        size_t n = 0;
        for (size_t i = 0; i < pt.n && n < 8; i++) {
                const char *p = list;
                while (*p) {
                        size_t l = strcspn(p, ",");
                        _cleanup_free_ char *name = xstrndup(p, l);
                        char *nm = strstrip(name);
                        if (*nm && component_named(&pt.v[i], nm)) {
                                sb_printf(&b, "%s%s (pid %d)", n ? ", " : "", nm, pt.v[i].pid);
                                n++;
                                break;
                        }
                        p += l + (p[l] == ',');
                }
        }
        proctable_free(&pt);
        return n ? sb_steal(&b) : (sb_free(&b), NULL);
}

/* The last snapshot, for collect() in the same bundle child (no second query). */
static struct gpu_snapshot last;
static bool have_last;

static const char *dev_label(const struct gpu_dev *d, char *buf, size_t n)
{
        snprintf(buf, n, "GPU %d%s%s", d->index, d->bus_id[0] ? " " : "", d->bus_id);
        return buf;
}

static void check_devices(struct ctx *c, struct findings *fs, const struct gpu_snapshot *s, const char *comps)
{
        double warn_pct = conf_num(c, "memory_warn_pct");
        unsigned margin = (unsigned)conf_uint(c, "temp_margin_c");
        const char *complist = conf_str(c, "components");
        const char *src = s->source == GPU_SRC_NVML ? "NVML" : "nvidia-smi";
        for (size_t i = 0; i < s->ndev; i++) {
                const struct gpu_dev *d = &s->dev[i];
                char lb[64];
                dev_label(d, lb, sizeof(lb));
                struct finding *f;
                if (d->lost)
                        continue; /* gpu.driver says so; its readings are gone */
                enum severity sev = gpu_memory_verdict(d, warn_pct);
                if (sev == SEV_SKIPPED)
                        f = fnd_add(fs, SEV_SKIPPED, "gpu.memory", "%s: memory use not reported by %s", lb, src);
                else {
                        char u[32], t[32];
                        double pct = (double)d->mem_used * 100.0 / (double)d->mem_total;
                        _cleanup_free_ char *procs = gpu_procs_text(s, (int)i, 5, complist);
                        f = fnd_add(fs, sev, "gpu.memory", "%s%s: %s of %s GPU memory used (%.0f%%)%s%s", lb,
                                    sev == SEV_WARN ? " memory high" : "", fmt_bytes((uint64_t)d->mem_used, u),
                                    fmt_bytes((uint64_t)d->mem_total, t), pct, procs ? "; held by " : "", procs ? procs : "");
                        fnd_expected(f, "at most %.0f%% used", warn_pct);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "stop or shrink the largest holder (SNN: lower cuda_streams / the batch size); "
                                              "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv");
                }
                fnd_subject(f, "%s", lb);
                sev = gpu_temp_verdict(d, margin);
                if (sev == SEV_SKIPPED)
                        f = fnd_add(fs, SEV_SKIPPED, "gpu.temperature", "%s: temperature not reported by %s", lb, src);
                else if (sev == SEV_INFO)
                        f = fnd_add(fs, SEV_INFO, "gpu.temperature", "%s: %" PRId64 " C (no slowdown threshold reported)", lb,
                                    d->temp_c);
                else {
                        f = fnd_add(fs, sev, "gpu.temperature", "%s: %" PRId64 " C, slowdown at %" PRId64 " C%s", lb, d->temp_c,
                                    d->slowdown_c, sev == SEV_WARN ? ": close to thermal slowdown" : "");
                        fnd_expected(f, "more than %u C below the slowdown threshold", margin);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "check airflow, fans and inlet temperature; nvidia-smi -q -d TEMPERATURE");
                }
                fnd_subject(f, "%s", lb);
                sev = gpu_throttle_verdict(d);
                char names[160];
                gpu_throttle_names(d->throttle, names, sizeof(names));
                if (sev == SEV_SKIPPED)
                        f = fnd_add(fs, SEV_SKIPPED, "gpu.throttle", "%s: throttle reasons not reported by %s", lb, src);
                else {
                        f = fnd_add(fs, sev, "gpu.throttle", "%s: %s%s", lb,
                                    sev == SEV_WARN ? "throttled: " : sev == SEV_INFO ? "at its power cap: " : "no throttling",
                                    sev == SEV_OK ? "" : names);
                        if (sev == SEV_WARN)
                                fnd_remedy(f, "thermal: cooling; power brake: the power supply and its cables; "
                                              "nvidia-smi -q -d PERFORMANCE");
                }
                fnd_subject(f, "%s", lb);
                sev = gpu_ecc_verdict(d);
                if (sev == SEV_SKIPPED)
                        f = fnd_add(fs, SEV_SKIPPED, "gpu.ecc", "%s: no ECC or page retirement reported (GPU without ECC)", lb);
                else {
                        struct strbuf b = {0};
                        if (d->ecc_volatile >= 0)
                                sb_printf(&b, "%" PRId64 " uncorrected ECC errors since the driver loaded", d->ecc_volatile);
                        if (d->ecc_aggregate >= 0)
                                sb_printf(&b, "%s%" PRId64 " in its lifetime", b.len ? ", " : "", d->ecc_aggregate);
                        if (d->retired_pending == 1)
                                sb_printf(&b, "%spages pending retirement", b.len ? "; " : "");
                        if (d->remap_pending == 1)
                                sb_printf(&b, "%srows pending remapping", b.len ? "; " : "");
                        if (d->remap_failure == 1)
                                sb_printf(&b, "%sa row remapping failed", b.len ? "; " : "");
                        if (!b.len)
                                sb_puts(&b, "no pending retirement or remapping");
                        _cleanup_free_ char *txt = sb_steal(&b);
                        f = fnd_add(fs, sev, "gpu.ecc", "%s: %s", lb, txt);
                        if (sev == SEV_CRIT)
                                fnd_remedy(f, "drain the GPU, then nvidia-smi -r -i %d or reboot (pending retirement/remapping "
                                              "only applies after a reset); recurring errors or a remap failure: RMA",
                                           d->index);
                }
                fnd_subject(f, "%s", lb);
                if (d->persistence < 0)
                        f = fnd_add(fs, SEV_SKIPPED, "gpu.persistence", "%s: persistence mode not reported", lb);
                else if (d->persistence == 1)
                        f = fnd_add(fs, SEV_OK, "gpu.persistence", "%s: persistence mode on", lb);
                else if (comps) {
                        f = fnd_add(fs, SEV_INFO, "gpu.persistence", "%s: persistence mode off while GPU components run: %s", lb,
                                    comps);
                        fnd_remedy(f, "systemctl enable --now nvidia-persistenced (or nvidia-smi -pm 1)");
                } else
                        f = fnd_add(fs, SEV_OK, "gpu.persistence", "%s: persistence mode off (no GPU component runs here)", lb);
                fnd_subject(f, "%s", lb);
        }
}

/* PCI GPUs the driver does not answer for. */
static void check_pci(struct findings *fs, const struct gpu_pci *pci, size_t np, int pci_err, const struct gpu_snapshot *s,
                      const struct gpu_driver_proc *dp)
{
        if (pci_err < 0) {
                fnd_add(fs, SEV_SKIPPED, "gpu.pci_missing", "PCI devices unreadable: %s", rootfs_strerror(pci_err));
                return;
        }
        bool from_snap = s->status == GPU_OK;
        if (!from_snap && !dp->loaded) {
                for (size_t i = 0; i < np; i++) {
                        struct finding *f;
                        if (streq(pci[i].driver, "vfio-pci"))
                                f = fnd_add(fs, SEV_INFO, "gpu.pci_missing", "PCI GPU %s (device 0x%04x) is bound to vfio-pci (passed through)",
                                            pci[i].bus_id, pci[i].device_id);
                        else if (s->status == GPU_TIMEOUT) {
                                f = fnd_add(fs, SEV_SKIPPED, "gpu.pci_missing", "PCI GPU %s: the driver did not answer in time",
                                            pci[i].bus_id);
                        } else {
                                f = fnd_add(fs, SEV_CRIT, "gpu.pci_missing",
                                            "PCI GPU %s (device 0x%04x%s%s) has no NVIDIA driver answering for it (/proc/driver/nvidia absent)",
                                            pci[i].bus_id, pci[i].device_id, pci[i].driver[0] ? ", bound to " : "", pci[i].driver);
                                fnd_remedy(f, "modprobe nvidia; dmesg | grep -i -E 'NVRM|Xid|fallen off'; lspci -k -s %s%s", pci[i].bus_id,
                                           streq(pci[i].driver, "nouveau") ? "; blacklist nouveau and reboot" : "");
                        }
                        fnd_subject(f, "%s", pci[i].bus_id);
                }
                if (!np)
                        fnd_add(fs, SEV_SKIPPED, "gpu.pci_missing", "no PCI GPU of vendor 0x10de and no driver to compare with");
                return;
        }
        const char *who = from_snap ? (s->source == GPU_SRC_NVML ? "NVML" : "nvidia-smi") : "/proc/driver/nvidia/gpus";
        size_t missing = 0, nobus = 0, unmatched = 0;
        for (size_t k = 0; from_snap && k < s->ndev; k++)
                nobus += !s->dev[k].bus_id[0] && !s->dev[k].lost;
        bool *seen = xcalloc(np + 1, sizeof(*seen));
        for (size_t i = 0; i < np; i++) {
                if (from_snap)
                        for (size_t k = 0; k < s->ndev && !seen[i]; k++)
                                seen[i] = streq(s->dev[k].bus_id, pci[i].bus_id) && !s->dev[k].lost;
                else
                        for (size_t k = 0; k < dp->ngpus && !seen[i]; k++)
                                seen[i] = streq(dp->gpus[k].bus_id, pci[i].bus_id);
                unmatched += !seen[i] && !streq(pci[i].driver, "vfio-pci");
        }
        if (unmatched && unmatched <= nobus) {
                /* The driver answered for as many GPUs without saying their bus ids: no proof of a missing one. */
                fnd_add(fs, SEV_SKIPPED, "gpu.pci_missing", "%zu GPU%s without a PCI bus id from %s: cannot match them to the bus",
                        nobus, nobus == 1 ? "" : "s", who);
                free(seen);
                return;
        }
        for (size_t i = 0; i < np; i++) {
                if (seen[i])
                        continue;
                missing++;
                struct finding *f;
                if (streq(pci[i].driver, "vfio-pci"))
                        f = fnd_add(fs, SEV_INFO, "gpu.pci_missing", "PCI GPU %s (device 0x%04x) is bound to vfio-pci (passed through)",
                                    pci[i].bus_id, pci[i].device_id);
                else {
                        f = fnd_add(fs, SEV_CRIT, "gpu.pci_missing", "PCI GPU %s (device 0x%04x%s%s) is not reported by %s", pci[i].bus_id,
                                    pci[i].device_id, pci[i].driver[0] ? ", bound to " : "", pci[i].driver, who);
                        fnd_expected(f, "every NVIDIA GPU on the PCI bus answered for by the driver");
                        fnd_remedy(f, "dmesg | grep -i -E 'NVRM|Xid|fallen off'; lspci -k -s %s; reset (nvidia-smi -r) or reboot%s",
                                   pci[i].bus_id, streq(pci[i].driver, "nouveau") ? "; blacklist nouveau" : "");
                }
                fnd_subject(f, "%s", pci[i].bus_id);
                fnd_evidence(f, "/sys/bus/pci/devices/%s", pci[i].bus_id);
        }
        free(seen);
        if (!missing) {
                /* Who answered goes in "found", not the summary: a bundle's re-check reads
                 * /proc/driver/nvidia where the live run asked NVML, and must still agree. */
                struct finding *f = np ? fnd_add(fs, SEV_OK, "gpu.pci_missing", "%zu PCI GPU%s, %sanswered for by the driver", np,
                                                 np == 1 ? "" : "s", np == 1 ? "" : "all ")
                                       : fnd_add(fs, SEV_OK, "gpu.pci_missing",
                                                 "no NVIDIA GPU on the PCI bus to compare with (no PCI view: a container?)");
                fnd_actual(f, "reported by %s", who);
        }
}

static void gpu_check(struct ctx *c, struct findings *fs)
{
        _cleanup_free_ struct gpu_pci *pci = NULL;
        size_t np = 0;
        int pci_err = gpu_pci_list(&pci, &np);
        if (pci_err == -ENOENT)
                pci_err = 0; /* no PCI bus in sysfs (containers): nothing to compare */
        struct gpu_driver_proc dp;
        (void)gpu_driver_proc_read(&dp);
        struct gpu_snapshot s = {.status = GPU_ABSENT};
        if (rootfs_is_live()) {
                struct gpu_query_opts o;
                gpu_opts(c, &o);
                (void)gpu_query(&o, &s);
        } else
                s.error = xstrdup("not the live host (--root): NVML and nvidia-smi describe this machine, not the root");
        _cleanup_free_ char *comps = components_running(c);
        struct finding *f;

        /* gpu.present */
        if (s.status == GPU_OK && s.ndev) {
                f = fnd_add(fs, SEV_INFO, "gpu.present", "%zu GPU%s via %s: %s%s; driver %s%s%s", s.ndev, s.ndev == 1 ? "" : "s",
                            s.source == GPU_SRC_NVML ? "NVML" : "nvidia-smi", s.dev[0].name[0] ? s.dev[0].name : "?",
                            s.ndev > 1 ? ", ..." : "", s.driver[0] ? s.driver : "?", s.cuda[0] ? ", CUDA " : "", s.cuda);
        } else if (dp.loaded || np) {
                f = fnd_add(fs, SEV_INFO, "gpu.present", "%zu PCI GPU%s, NVIDIA kernel module %s%s%s", np, np == 1 ? "" : "s",
                            dp.loaded ? "loaded" : "not loaded", dp.version[0] ? " " : "", dp.version);
                if (dp.ngpus)
                        fnd_actual(f, "/proc/driver/nvidia/gpus: %zu (%s)", dp.ngpus, dp.gpus[0].model[0] ? dp.gpus[0].model : "?");
        } else if (s.status != GPU_ABSENT && s.status != GPU_NO_DEVICES) {
                f = fnd_add(fs, SEV_INFO, "gpu.present", "NVIDIA software is installed but no GPU could be read (see gpu.driver)");
        } else {
                f = fnd_add(fs, SEV_INFO, "gpu.present", "no NVIDIA GPU on this host%s%s", comps ? "; GPU components run here: " : "",
                            comps ? comps : "");
        }
        if (s.error && s.status != GPU_OK && !dp.ngpus)
                fnd_actual(f, "%s", s.error);

        /* gpu.responsive, gpu.driver */
        if (s.status == GPU_TIMEOUT) {
                f = fnd_add(fs, SEV_CRIT, "gpu.responsive", "%s did not answer: the GPU may have fallen off the bus or the driver is wedged",
                            s.source == GPU_SRC_NVML ? "NVML" : "nvidia-smi");
                fnd_actual(f, "%s", s.error ? s.error : "timed out");
                fnd_expected(f, "an answer within the deadline ([gpu] deadline = %s)", conf_str(c, "deadline"));
                fnd_remedy(f, "%s", REMEDY_HANG);
                fnd_add(fs, SEV_UNKNOWN, "gpu.driver", "the driver did not answer in time (see gpu.responsive)");
        } else if (s.status == GPU_ABSENT) {
                fnd_add(fs, SEV_SKIPPED, "gpu.responsive", "nothing to ask: %s", s.error ? s.error : "no NVML, no nvidia-smi");
                if (dp.loaded) {
                        f = fnd_add(fs, SEV_INFO, "gpu.driver", "NVIDIA kernel module %s loaded; no NVML or nvidia-smi to ask",
                                    dp.version[0] ? dp.version : "(version unknown)");
                        if (dp.version_line)
                                fnd_actual(f, "%s", dp.version_line);
                        fnd_evidence(f, "/proc/driver/nvidia/version");
                } else
                        fnd_add(fs, SEV_SKIPPED, "gpu.driver", "no NVIDIA driver loaded%s", np ? " (see gpu.pci_missing)" : "");
        } else {
                f = fnd_add(fs, SEV_OK, "gpu.responsive", "%s answered in %" PRIu64 " ms", s.source == GPU_SRC_NVML ? "NVML" : "nvidia-smi",
                            s.duration_ms);
                if (s.status == GPU_MISMATCH) {
                        f = fnd_add(fs, SEV_CRIT, "gpu.driver", "Driver/library version mismatch: NVML cannot talk to the loaded kernel module");
                        fnd_actual(f, "%s%s%s", s.error ? s.error : "", dp.version_line ? "; loaded module: " : "",
                                   dp.version_line ? dp.version_line : "");
                        fnd_remedy(f, "%s", REMEDY_MISMATCH);
                } else if (s.status == GPU_DRIVER_FAILED) {
                        f = fnd_add(fs, SEV_CRIT, "gpu.driver", "NVIDIA-SMI has failed: the NVIDIA kernel driver does not answer");
                        fnd_actual(f, "%s", s.error ? s.error : "");
                        fnd_remedy(f, "modprobe nvidia (dkms status: was the module built for this kernel?); "
                                      "dmesg | grep -i -E 'NVRM|Xid|fallen off'; if the packages were just upgraded: reboot");
                } else if (s.status == GPU_ERROR) {
                        f = fnd_add(fs, SEV_UNKNOWN, "gpu.driver", "%s failed: %s", s.source == GPU_SRC_NVML ? "NVML" : "nvidia-smi",
                                    s.error ? s.error : "unreadable answer");
                } else if (s.status == GPU_NO_DEVICES) {
                        fnd_add(fs, np ? SEV_CRIT : SEV_INFO, "gpu.driver", "the driver %s answers but reports no GPU%s", s.driver,
                                np ? " although the PCI bus has some (see gpu.pci_missing)" : "");
                } else {
                        size_t lost = 0;
                        for (size_t i = 0; i < s.ndev; i++)
                                if (s.dev[i].lost) {
                                        char lb[64];
                                        lost++;
                                        f = fnd_add(fs, SEV_CRIT, "gpu.driver", "%s is lost: it has fallen off the bus",
                                                    dev_label(&s.dev[i], lb, sizeof(lb)));
                                        fnd_actual(f, "%s", s.dev[i].error[0] ? s.dev[i].error : "GPU is lost");
                                        fnd_remedy(f, "%s", REMEDY_HANG);
                                        fnd_subject(f, "%s", lb);
                                }
                        if (!lost) {
                                f = fnd_add(fs, SEV_OK, "gpu.driver", "driver %s answers for %zu GPU%s", s.driver[0] ? s.driver : "?",
                                            s.ndev, s.ndev == 1 ? "" : "s");
                                if (dp.version[0] && s.driver[0] && !streq(dp.version, s.driver))
                                        fnd_actual(f, "loaded kernel module: %s", dp.version);
                        }
                }
        }
        check_pci(fs, pci, np, pci_err, &s, &dp);
        if (s.status == GPU_OK)
                check_devices(c, fs, &s, comps);
        else {
                const char *why = s.status == GPU_TIMEOUT ? "the driver did not answer in time"
                                  : s.status == GPU_ABSENT ? "no NVML or nvidia-smi to read the GPU"
                                                           : "the driver did not answer properly (see gpu.driver)";
                if (np || dp.loaded)
                        for (const char *const *id = (const char *const[]){"gpu.memory", "gpu.temperature", "gpu.throttle",
                                                                          "gpu.ecc", "gpu.persistence", NULL};
                             *id; id++)
                                fnd_add(fs, SEV_SKIPPED, *id, "not read: %s", why);
        }
        gpu_driver_proc_free(&dp);
        gpu_snapshot_free(&last);
        last = s;
        have_last = true;
}

/* ---- bundle ---- */

static void pci_summary(struct bundle_sink *sk)
{
        _cleanup_free_ struct gpu_pci *pci = NULL;
        size_t np = 0;
        if (gpu_pci_list(&pci, &np) < 0 || !np)
                return;
        static const char *const attrs[] = {"vendor", "device", "subsystem_vendor", "subsystem_device", "class", "numa_node",
                                            "current_link_speed", "current_link_width", "max_link_speed", "max_link_width",
                                            "power_state", "enable"};
        struct strbuf b = {0};
        for (size_t i = 0; i < np; i++) {
                sb_printf(&b, "%s driver=%s\n", pci[i].bus_id, pci[i].driver[0] ? pci[i].driver : "(none)");
                for (size_t k = 0; k < ARRAY_SIZE(attrs); k++) {
                        char path[128];
                        _cleanup_free_ char *v = NULL;
                        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", pci[i].bus_id, attrs[k]);
                        if (rootfs_read_value(path, &v) == 0)
                                sb_printf(&b, "  %s=%.80s\n", attrs[k], v);
                }
        }
        sink_text(sk, "pci.txt", "derived", "/sys/bus/pci/devices (vendor 0x10de)", b.s, b.len);
        sb_free(&b);
}

static void gpu_collect(struct ctx *c, struct bundle_sink *sk)
{
        struct gpu_query_opts o;
        gpu_opts(c, &o);
        if (rootfs_is_live()) {
                if (!have_last) {
                        struct gpu_snapshot s;
                        (void)gpu_query(&o, &s);
                        last = s;
                        have_last = true;
                }
                json_object *j = gpu_snapshot_to_json(&last);
                sink_json(sk, "gpus.json", "derived", last.source == GPU_SRC_SMI ? "nvidia-smi --query-gpu" : "NVML", j);
                json_object_put(j);
                /* ISSUE.md's environment section: driver, CUDA, GPU models. */
                json_object *env = json_object_new_object();
                if (last.driver[0])
                        json_object_object_add(env, "driver", json_object_new_string(last.driver));
                if (last.cuda[0])
                        json_object_object_add(env, "cuda", json_object_new_string(last.cuda));
                json_object *models = json_object_new_array();
                for (size_t i = 0; i < last.ndev; i++)
                        json_object_array_add(models, json_object_new_string(last.dev[i].name));
                json_object_object_add(env, "gpus", models);
                json_object_object_add(env, "status", json_object_new_string(gpu_status_name(last.status)));
                sink_json(sk, "environment.json", "derived", "gpu collector", env);
                json_object_put(env);
                const char *smi = o.smi && *o.smi ? o.smi : "nvidia-smi";
                _cleanup_free_ char *path = streq(smi, "none") ? NULL : gpu_which(smi);
                /* A driver that hung for the check hangs -q too: not asked again. */
                if (path && last.status != GPU_TIMEOUT) {
                        const char *argv[] = {path, "-q", NULL};
                        uint64_t now = now_ms_monotonic();
                        uint64_t t = o.timeout_ms;
                        if (o.stop_ms && o.stop_ms > now && o.stop_ms - now < t)
                                t = o.stop_ms - now;
                        sink_command(sk, "nvidia-smi-q.txt", argv, t);
                } else
                        sink_missing(sk, "nvidia-smi-q.txt", "command", "nvidia-smi -q", path ? "skipped" : "missing",
                                     path ? "the driver did not answer the check in time" : "nvidia-smi not found");
        }
        sink_file(sk, "/proc/driver/nvidia/version");
        sink_file(sk, "/proc/driver/nvidia/params");
        struct rootfs_dir *d = rootfs_opendir("/proc/driver/nvidia/gpus");
        if (d) {
                struct dirent *de;
                size_t n = 0;
                while ((de = rootfs_readdir(d)) && n++ < GPU_MAX) {
                        char b[16], path[300];
                        if (gpu_bus_id_norm(de->d_name, b) < 0)
                                continue;
                        snprintf(path, sizeof(path), "/proc/driver/nvidia/gpus/%s/information", de->d_name);
                        sink_file(sk, path);
                }
                rootfs_closedir(d);
        }
        pci_summary(sk);
}

const struct collector gpu_collector = {
        .name = "gpu",
        .summary = "NVIDIA GPUs: driver, memory, temperature, throttling, ECC (NVML, nvidia-smi, /proc/driver/nvidia)",
        .needs = SLOW,
        .checks = checks,
        .config = config,
        .detect = gpu_detect,
        .absent = "no NVIDIA GPU (no /proc/driver/nvidia, no /dev/nvidia*, no NVIDIA PCI device, no nvidia-smi) and no GPU component running",
        .absent_remedy = "is the GPU visible to the host? lspci -nn | grep -i nvidia; is the driver loaded? lsmod | grep nvidia; "
                         "cat /proc/driver/nvidia/version",
        .check = gpu_check,
        .collect = gpu_collect,
        .sample = gpu_sample,
        .sampled = (const char *const[]){"gpu.responsive", "gpu.driver", "gpu.memory", "gpu.temperature", "gpu.throttle",
                                         "gpu.ecc", NULL},
        .free_state = gpu_free_state,
};
