#include "config.h"
#include "lib/nvml_api.h"
#include "lib/util.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

/* The dlopen() dependency, declared where packaging tools read it (the
 * freedesktop.org "ELF dlopen metadata" note, as lib/curl_api.c does for libcurl). */
#define NVML_NOTE_JSON \
        "[{\"feature\":\"nvml\",\"description\":\"NVIDIA GPU state (gpu collector)\"," \
        "\"priority\":\"suggested\",\"soname\":[\"libnvidia-ml.so.1\"]}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
        uint32_t namesz, descsz, type;
        char name[4];
        char desc[(sizeof(NVML_NOTE_JSON) + 3) & ~3u];
} nvml_dlopen_note = {4, sizeof(NVML_NOTE_JSON), 0x407c0c0a, "FDO", NVML_NOTE_JSON};

const struct nvml_api *nvml_api(const char *path, const char **err)
{
        static struct nvml_api api;
        static int state; /* 0 untried, 1 loaded, -1 failed */
        static char *why;
        if (state == 1)
                return &api;
        if (state == -1) {
                *err = why;
                return NULL;
        }
        if (!path || !*path)
                path = NVML_DEFAULT_PATH;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                state = -1;
                const char *e = dlerror();
                *err = why = xasprintf("%s cannot be loaded: %s", path, e ? e : "unknown error");
                return NULL;
        }
        /* The member and the symbol name come from one token: they cannot disagree. */
#define SYM(name) {(void **)&api.name, "nvml" #name}
        struct {
                void **slot;
                const char *name;
        } syms[] = {
                SYM(Init_v2), SYM(Shutdown), SYM(ErrorString), SYM(SystemGetDriverVersion), SYM(DeviceGetCount_v2),
                SYM(DeviceGetHandleByIndex_v2), SYM(DeviceGetName),
                SYM(SystemGetCudaDriverVersion_v2), SYM(DeviceGetUUID), SYM(DeviceGetPciInfo_v3), SYM(DeviceGetTemperature),
                SYM(DeviceGetTemperatureThreshold), SYM(DeviceGetUtilizationRates), SYM(DeviceGetMemoryInfo),
                SYM(DeviceGetMemoryInfo_v2),
                SYM(DeviceGetPowerUsage), SYM(DeviceGetEnforcedPowerLimit), SYM(DeviceGetCurrentClocksThrottleReasons),
                SYM(DeviceGetTotalEccErrors), SYM(DeviceGetRetiredPagesPendingStatus), SYM(DeviceGetRemappedRows),
                SYM(DeviceGetPersistenceMode), SYM(DeviceGetComputeMode), SYM(DeviceGetMigMode),
                SYM(DeviceGetComputeRunningProcesses_v3),
        };
#undef SYM
        _Static_assert(sizeof(syms) / sizeof(syms[0]) * sizeof(void (*)(void)) == sizeof(api),
                       "every member of struct nvml_api is loaded");
        const size_t required = 7;
        for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
                *syms[i].slot = dlsym(h, syms[i].name);
                if (!*syms[i].slot && i < required) {
                        state = -1;
                        *err = why = xasprintf("%s lacks %s: not NVML, or a driver older than evodiag supports", path,
                                               syms[i].name);
                        dlclose(h);
                        return NULL;
                }
        }
        /* Drivers before 510 have the _v2 of the process list: the same arguments and struct. */
        if (!api.DeviceGetComputeRunningProcesses_v3)
                *(void **)&api.DeviceGetComputeRunningProcesses_v3 = dlsym(h, "nvmlDeviceGetComputeRunningProcesses_v2");
        state = 1;
        return &api;
}
