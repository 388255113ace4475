/* A stand-in libnvidia-ml.so.1 for tests/cli/gpu.sh, compiled by the test
 * (cc -shared -fPIC) and loaded through [gpu] nvml_path. It answers with the values
 * nvidia-smi -q recorded for an NVIDIA GeForce RTX 2080 SUPER under load, driver
 * 595.71.05 (tests/fixtures/gpu/rtx2080s-load.q.txt: source in that directory's
 * README.md); the environment changes them to provoke each finding:
 *   FAKE_NVML_MODE     ok | hang (nvmlInit_v2 never returns, ignoring SIGTERM) |
 *                      mismatch (NVML_ERROR_LIB_RM_VERSION_MISMATCH) | lost (GPU_IS_LOST)
 *   FAKE_NVML_MEM_USED_MIB, FAKE_NVML_TEMP, FAKE_NVML_THROTTLE (hex), FAKE_NVML_ECC_VOLATILE,
 *   FAKE_NVML_PERSISTENCE, FAKE_NVML_PIDS ("pid:MiB,pid:MiB": the compute processes)
 *   FAKE_NVML_MEM_V2=0  no nvmlDeviceGetMemoryInfo_v2 (a driver before 510): v1 only
 *   FAKE_NVML_HANG_AFTER  hang in the Nth nvmlDeviceGetCount_v2 call (watch: the
 *                      driver wedges after a few good samples)
 *   FAKE_NVML_TRACE    a file that gets one "init" line per nvmlInit_v2 call (whether
 *                      NVML was asked at all)
 *   FAKE_NVML_MODE=nodevices  the driver answers and reports no GPU
 * Only the NVML functions evodiag uses exist, declared by lib/nvml_api.h (compile with
 * -I the source tree). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/nvml_api.h" /* the prototypes evodiag calls: each function below is checked against them */

#define OK NVML_SUCCESS
#define NOT_SUPPORTED NVML_ERROR_NOT_SUPPORTED
#define INSUFFICIENT_SIZE NVML_ERROR_INSUFFICIENT_SIZE
#define GPU_IS_LOST NVML_ERROR_GPU_IS_LOST
#define MISMATCH NVML_ERROR_LIB_RM_VERSION_MISMATCH
#define MIB (1024ULL * 1024ULL)

static struct nvmlDevice_st {
        int dummy;
} dev0;

static const char *mode(void)
{
        const char *m = getenv("FAKE_NVML_MODE");
        return m ? m : "ok";
}

static long env_num(const char *name, long def, int base)
{
        const char *v = getenv(name);
        return v && *v ? strtol(v, NULL, base) : def;
}

static void hang(void)
{
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        for (;;)
                pause();
}

nvmlReturn_t nvmlInit_v2(void)
{
        const char *trace = getenv("FAKE_NVML_TRACE");
        FILE *t = trace && *trace ? fopen(trace, "a") : NULL;
        if (t) {
                fputs("init\n", t);
                fclose(t);
        }
        if (!strcmp(mode(), "hang"))
                hang();
        return !strcmp(mode(), "mismatch") ? MISMATCH : OK;
}
nvmlReturn_t nvmlShutdown(void) { return OK; }
const char *nvmlErrorString(nvmlReturn_t r)
{
        switch (r) {
        case OK: return "Success";
        case NOT_SUPPORTED: return "Not Supported";
        case GPU_IS_LOST: return "GPU is lost";
        case MISMATCH: return "Driver/library version mismatch";
        default: return "Unknown Error";
        }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int n)
{
        snprintf(v, n, "595.71.05");
        return OK;
}
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v)
{
        *v = 13020; /* "CUDA Version : 13.2" */
        return OK;
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n)
{
        static long calls;
        long after = env_num("FAKE_NVML_HANG_AFTER", 0, 10);
        if (after && ++calls >= after)
                hang();
        *n = strcmp(mode(), "nodevices") ? 1 : 0;
        return OK;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d)
{
        if (i)
                return 2;
        *d = &dev0;
        return OK;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int n)
{
        snprintf(name, n, "NVIDIA GeForce RTX 2080 SUPER");
        return OK;
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int n)
{
        snprintf(uuid, n, "GPU-00000000-0000-0000-0000-000000000000");
        return OK;
}
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *p)
{
        memset(p, 0, sizeof(*p));
        snprintf(p->busId, sizeof(p->busId), "00000000:0C:00.0");
        p->bus = 0x0c;
        p->pciDeviceId = 0x1E8110DE;
        p->pciSubSystemId = 0x40051458;
        return OK;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t)
{
        if (!strcmp(mode(), "lost"))
                return GPU_IS_LOST;
        *t = (unsigned)env_num("FAKE_NVML_TEMP", 45, 10);
        return OK;
}
nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, int type, unsigned int *t)
{
        *t = type == 1 ? 97 : 100; /* slowdown 97 C, shutdown 100 C */
        return OK;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u)
{
        u->gpu = 8;
        u->memory = 3;
        return OK;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m)
{
        if (!strcmp(mode(), "lost"))
                return GPU_IS_LOST;
        /* v1 counts the driver's reserved memory as used (total - free), as real NVML does */
        m->total = 8192 * MIB;
        m->used = ((unsigned long long)env_num("FAKE_NVML_MEM_USED_MIB", 819, 10) + 408) * MIB;
        m->free = m->total - m->used;
        return OK;
}
/* The recording's FB Memory Usage: Total 8192, Reserved 408, Used 819, Free 6967 MiB.
 * FAKE_NVML_MEM_V2=0: a driver without v2 (before 510). */
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m)
{
        if (!strcmp(mode(), "lost"))
                return GPU_IS_LOST;
        if (!env_num("FAKE_NVML_MEM_V2", 1, 10))
                return NVML_ERROR_FUNCTION_NOT_FOUND;
        if (m->version != (40u | 2u << 24)) /* nvmlMemory_v2: sizeof(nvmlMemory_v2_t) | 2 << 24, from nvml.h */
                return 25;                  /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
        m->total = 8192 * MIB;
        m->reserved = 408 * MIB;
        m->used = (unsigned long long)env_num("FAKE_NVML_MEM_USED_MIB", 819, 10) * MIB;
        m->free = m->total - m->reserved - m->used;
        return OK;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw)
{
        *mw = 98550; /* Instantaneous Power Draw : 98.55 W */
        return OK;
}
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw)
{
        *mw = 250000;
        return OK;
}
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long *r)
{
        *r = (unsigned long long)env_num("FAKE_NVML_THROTTLE", 0, 16);
        return OK;
}
nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int type, int counter, unsigned long long *n)
{
        long v = env_num("FAKE_NVML_ECC_VOLATILE", -1, 10);
        if (v < 0)
                return NOT_SUPPORTED; /* a GeForce board has no ECC */
        *n = counter == 0 ? (unsigned long long)v : (unsigned long long)v;
        return OK;
}
nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t d, int *p)
{
        return NOT_SUPPORTED;
}
nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t d, unsigned int *c, unsigned int *u, unsigned int *p, unsigned int *f)
{
        return NOT_SUPPORTED;
}
nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t d, int *m)
{
        *m = (int)env_num("FAKE_NVML_PERSISTENCE", 0, 10); /* Persistence Mode : Disabled */
        return OK;
}
nvmlReturn_t nvmlDeviceGetComputeMode(nvmlDevice_t d, int *m)
{
        *m = 0;
        return OK;
}
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *cur, unsigned int *pending)
{
        return NOT_SUPPORTED;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos)
{
        /* recorded: ffmpeg 5268 370 MiB, ffmpeg 5267 230 MiB (query-compute-apps) */
        nvmlProcessInfo_t v[16] = {{5268, 370 * MIB, 0, 0}, {5267, 230 * MIB, 0, 0}};
        unsigned n = 2;
        const char *pids = getenv("FAKE_NVML_PIDS");
        if (pids) {
                n = 0;
                for (const char *p = pids; *p && n < 16;) {
                        char *end;
                        v[n].pid = (unsigned)strtoul(p, &end, 10);
                        v[n].usedGpuMemory = *end == ':' ? strtoull(end + 1, &end, 10) * MIB : 0;
                        n++;
                        p = *end == ',' ? end + 1 : end + strlen(end);
                }
        }
        if (*count < n) {
                *count = n;
                return INSUFFICIENT_SIZE;
        }
        memcpy(infos, v, n * sizeof(*v));
        *count = n;
        return OK;
}
