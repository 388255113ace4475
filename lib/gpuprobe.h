/* "Is there a usable NVIDIA GPU here, and what state is it in": shared by the gpu
 * collector (collectors/gpu*.c) and any collector that needs the same answer (the
 * snn collector's `device = "cuda"` check) without including the gpu collector.
 *
 * Sources, in order: NVML (lib/nvml_api.h) queried in a forked child with a
 * deadline, `nvidia-smi` with a deadline, then what the kernel shows:
 * /proc/driver/nvidia and PCI devices of vendor 0x10de (through lib/rootfs, so
 * --root fixtures work). The parsers of nvidia-smi's output are pure functions
 * (fuzzed: tests/fuzz/fuzz_gpu_csv.c, fuzz_gpu_q.c). */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvml_api;

#define GPU_MAX 64          /* devices kept; more is not a host evodiag was made for */
#define GPU_PROCS_MAX 1024  /* compute processes kept over all devices */
#define GPU_SMI_OUT_MAX (4u << 20)

/* A reading that is unknown (not supported, N/A, not asked) is -1. */
struct gpu_dev {
        int index;
        char name[96], uuid[96];
        char bus_id[16];         /* "0000:01:00.0", lower case, as sysfs names it */
        bool lost;               /* "GPU is lost": fallen off the bus */
        char error[128];         /* why this device could not be read, "" if it could */
        int64_t temp_c, slowdown_c, shutdown_c;
        int64_t util_gpu, util_mem;      /* % */
        int64_t mem_used, mem_total;     /* bytes */
        int64_t power_mw, power_limit_mw;
        int64_t throttle;                /* NVML_THR_* bits (lib/nvml_api.h) */
        int64_t ecc_volatile, ecc_aggregate; /* uncorrected */
        int retired_pending, remap_pending, remap_failure; /* -1, 0, 1 */
        int persistence, mig;            /* -1, 0 off, 1 on */
        int compute_mode;                /* -1, 0 Default, 1 Exclusive_Thread, 2 Prohibited, 3 Exclusive_Process */
};

struct gpu_proc {
        int gpu; /* index into gpu_snapshot.dev */
        int pid;
        int64_t used_bytes;
        char name[128];
};

enum gpu_source { GPU_SRC_NONE, GPU_SRC_NVML, GPU_SRC_SMI };
enum gpu_status {
        GPU_OK,
        GPU_ABSENT,        /* no NVML library / no nvidia-smi */
        GPU_TIMEOUT,       /* it did not answer within the deadline: wedged driver, GPU off the bus */
        GPU_MISMATCH,      /* Driver/library version mismatch */
        GPU_DRIVER_FAILED, /* "NVIDIA-SMI has failed": the kernel driver is not loaded / not answering */
        GPU_NO_DEVICES,    /* the driver answers and reports no GPU */
        GPU_ERROR,         /* anything else: non-zero exit, garbage output */
};
const char *gpu_status_name(enum gpu_status s);

struct gpu_snapshot {
        enum gpu_source source;
        enum gpu_status status;
        char *error;      /* what went wrong, in words; NULL when OK */
        char driver[80];  /* "590.48.01" */
        char cuda[16];    /* "13.1" */
        struct gpu_dev *dev;
        size_t ndev;
        struct gpu_proc *proc;
        size_t nproc;
        bool procs_cut;   /* more than GPU_PROCS_MAX */
        uint64_t duration_ms;
};
void gpu_snapshot_free(struct gpu_snapshot *s);
/* A new device with every reading unknown (-1); NULL when GPU_MAX are there. */
struct gpu_dev *gpu_dev_add(struct gpu_snapshot *s);
/* The device with this bus id ("00000000:01:00.0" or "0000:01:00.0"), or NULL. */
struct gpu_dev *gpu_dev_by_bus(struct gpu_snapshot *s, const char *bus_id);

/* "00000000:0C:00.0" (NVML, nvidia-smi) or "0000:0c:00.0" (sysfs) -> "0000:0c:00.0".
 * -EINVAL when it is not domain:bus:device.function. */
int gpu_bus_id_norm(const char *in, char out[static 16]);

/* nvidia-smi --query-gpu=... --format=csv: the header names the columns (units in
 * brackets are stripped: "memory.used [MiB]"), so any subset and order of fields is
 * read, and values with units ("19818 MiB", "629.45 W") or without. Fills s->dev
 * (and s->driver). 0, or -EINVAL when it is not such a table (the header is missing,
 * no row has the columns it names). */
int gpu_csv_parse(const char *text, struct gpu_snapshot *s);
/* nvidia-smi --query-compute-apps=gpu_uuid|gpu_bus_id,pid,process_name,used_memory
 * --format=csv: the processes, matched to s->dev by UUID or bus id. 0 or -EINVAL. */
int gpu_apps_csv_parse(const char *text, struct gpu_snapshot *s);
/* nvidia-smi -q: driver and CUDA versions, and per GPU (matched by bus id, added if
 * new) the readings it has that s lacks: slowdown/shutdown thresholds, ECC, retired
 * and remapped rows, throttle reasons, processes. 0 or -EINVAL (not -q output). */
int gpu_q_parse(const char *text, struct gpu_snapshot *s);
/* What nvidia-smi's output says went wrong: GPU_MISMATCH, GPU_DRIVER_FAILED,
 * GPU_NO_DEVICES, or GPU_OK when it says none of these. */
enum gpu_status gpu_smi_error(const char *out);

json_object *gpu_snapshot_to_json(const struct gpu_snapshot *s);
int gpu_snapshot_from_json(json_object *o, struct gpu_snapshot *s);

/* ---- reading the host ---- */

struct gpu_query_opts {
        const char *nvml_path;  /* "" or NULL: libnvidia-ml.so.1; "none": do not use NVML */
        const char *smi;        /* "nvidia-smi" (looked up in PATH) or a path; "none": do not run it */
        uint64_t timeout_ms;    /* per source */
        uint64_t stop_ms;       /* CLOCK_MONOTONIC ms no query runs past (the caller's own
                                   deadline); 0: none */
};
/* NVML in a forked child (it may block forever in nvmlInit): the child writes the
 * snapshot as JSON; past timeout_ms it is killed (abandoned if it cannot be reaped).
 * Always fills s (status says how it went); returns 0 when status is GPU_OK. */
int gpu_query_nvml(const struct gpu_query_opts *o, struct gpu_snapshot *s);
/* nvidia-smi --query-gpu, --query-compute-apps and -q (for the thresholds), each
 * with the deadline; stops at the first that times out or fails. Same return. */
int gpu_query_smi(const struct gpu_query_opts *o, struct gpu_snapshot *s);
/* NVML, then nvidia-smi when NVML is absent (not when it hung or failed: the same
 * driver is behind both). The live host only. */
int gpu_query(const struct gpu_query_opts *o, struct gpu_snapshot *s);
/* Reads the open NVML into s (already initialised). Used by the child above and by
 * the gpu collector's watch sampler, which keeps the library loaded. */
void gpu_nvml_read(const struct nvml_api *n, struct gpu_snapshot *s);

/* argv0 as execvp would find it (PATH), or NULL. */
char *gpu_which(const char *argv0);

/* PCI functions of vendor 0x10de with a display class (0x03xxxx): the GPUs the
 * kernel sees, whatever the driver does. Through rootfs. */
struct gpu_pci {
        char bus_id[16];
        unsigned device_id;
        char driver[32]; /* bound driver ("nvidia", "nouveau", "vfio-pci"), "" if none */
};
int gpu_pci_list(struct gpu_pci **v, size_t *n);

/* /proc/driver/nvidia: the kernel module's version line and the GPUs it attached. */
struct gpu_procinfo {
        char bus_id[16];
        char model[96];
        char uuid[96];
};
struct gpu_driver_proc {
        bool loaded;          /* /proc/driver/nvidia exists */
        char version[64];     /* "590.48.01" from the NVRM version line, "" if unknown */
        char *version_line;   /* the whole first line */
        struct gpu_procinfo *gpus;
        size_t ngpus;
};
/* "Model: \t\t Tesla K80\nBus Location: \t 0000:00:04.0\n..." -> g. 0 or -EINVAL. */
int gpu_procinfo_parse(const char *text, struct gpu_procinfo *g);
/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  515.76  Mon Sep ..." -> "515.76". */
int gpu_nvrm_version(const char *text, char *out, size_t n);
int gpu_driver_proc_read(struct gpu_driver_proc *d);
void gpu_driver_proc_free(struct gpu_driver_proc *d);

/* Any sign of an NVIDIA GPU: /dev/nvidia*, /proc/driver/nvidia, a PCI GPU of vendor
 * 0x10de (through rootfs); on the live host also nvidia-smi on PATH. */
bool gpu_present(const char *smi);

/* The one answer other collectors need: a GPU answered NVML or nvidia-smi within
 * the deadline and reports at least one device. *why (allocated) says why not, or
 * names the GPUs. On the live host only (under --root: false, "not the live host"). */
bool gpu_usable(const struct gpu_query_opts *o, char **why);
/* The same, keeping what the probe read in *s (always filled; gpu_snapshot_free it):
 * a caller that also needs the devices' memory asks the GPU once. */
bool gpu_usable_snapshot(const struct gpu_query_opts *o, struct gpu_snapshot *s, char **why);
/* The same, with what the probe found, for a caller that must tell "no GPU here"
 * (GPU_ABSENT, GPU_NO_DEVICES) from "the driver is wedged" (GPU_TIMEOUT, or every
 * device lost) from "a GPU answers" (the return value). */
struct gpu_verdict {
        enum gpu_status status;
        size_t ndev, lost;     /* devices reported; of them "GPU is lost" */
        uint64_t duration_ms;  /* how long the probe took */
};
bool gpu_usable_status(const struct gpu_query_opts *o, struct gpu_verdict *v, char **why);
