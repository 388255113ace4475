/* NVML (libnvidia-ml.so.1, the library nvidia-smi itself is built on), loaded with
 * dlopen() from the path the caller names: evodiag never links it, so a host
 * without the NVIDIA driver runs evodiag all the same.
 *
 * Debian main ships no nvml.h (it comes with the non-free CUDA toolkit), so the
 * few declarations evodiag uses are written out here: the types, constants and
 * prototypes of NVML's public C API exactly as its documentation gives them (the
 * ABI of the versioned symbols below is stable across drivers). Each member of
 * struct nvml_api has the type of the prototype (typeof), so every call through
 * the table is type-checked like a direct call.
 *
 * Usage (only in a child process that may be killed: nvmlInit can block forever
 * on a wedged driver): const struct nvml_api *n = nvml_api(path, &err); n->Init(). */
#pragma once
#include <stdbool.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
enum {
        NVML_SUCCESS = 0,
        NVML_ERROR_UNINITIALIZED = 1,
        NVML_ERROR_NOT_SUPPORTED = 3,
        NVML_ERROR_NO_PERMISSION = 4,
        NVML_ERROR_INSUFFICIENT_SIZE = 7,
        NVML_ERROR_DRIVER_NOT_LOADED = 9,
        NVML_ERROR_TIMEOUT = 10,
        NVML_ERROR_IRQ_ISSUE = 11,
        NVML_ERROR_LIBRARY_NOT_FOUND = 12,
        NVML_ERROR_FUNCTION_NOT_FOUND = 13,
        NVML_ERROR_CORRUPTED_INFOROM = 14,
        NVML_ERROR_GPU_IS_LOST = 15,
        NVML_ERROR_RESET_REQUIRED = 16,
        NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
        NVML_ERROR_UNKNOWN = 999,
};
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
enum { NVML_TEMPERATURE_GPU = 0 };
enum { NVML_TEMPERATURE_THRESHOLD_SHUTDOWN = 0, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1 };
enum { NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1 };
enum { NVML_VOLATILE_ECC = 0, NVML_AGGREGATE_ECC = 1 };
/* nvmlClocksThrottleReasons (nvmlClocksEventReasons since driver 535: same bits) */
#define NVML_THR_GPU_IDLE 0x1ULL
#define NVML_THR_APP_CLOCKS 0x2ULL
#define NVML_THR_SW_POWER_CAP 0x4ULL
#define NVML_THR_HW_SLOWDOWN 0x8ULL
#define NVML_THR_SYNC_BOOST 0x10ULL
#define NVML_THR_SW_THERMAL 0x20ULL
#define NVML_THR_HW_THERMAL 0x40ULL
#define NVML_THR_HW_POWER_BRAKE 0x80ULL
#define NVML_THR_DISPLAY_CLOCKS 0x100ULL

typedef struct {
        char busIdLegacy[16];
        unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
        char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;
typedef struct {
        unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
        unsigned long long total, free, used;
} nvmlMemory_t;
/* nvmlMemory_v2_t (drivers >= 510): "used" without the driver's reserved memory, as
 * nvidia-smi shows it (v1's used = total - free counts the ~600 MiB the driver keeps). */
typedef struct {
        unsigned int version;
        unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))
/* nvmlProcessInfo_v2_t, what nvmlDeviceGetComputeRunningProcesses_v2 and _v3 fill */
typedef struct {
        unsigned int pid;
        unsigned long long usedGpuMemory;
        unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlShutdown(void);
const char *nvmlErrorString(nvmlReturn_t r);
nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length);
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci);
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensorType, unsigned int *temp);
nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, int thresholdType, unsigned int *temp);
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization);
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory);
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory);
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power);
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit);
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons);
nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType, unsigned long long *eccCounts);
nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, int *isPending);
nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows, unsigned int *uncRows, unsigned int *isPending,
                                       unsigned int *failureOccurred);
nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, int *mode);
nvmlReturn_t nvmlDeviceGetComputeMode(nvmlDevice_t device, int *mode);
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount, nvmlProcessInfo_t *infos);

#define NVML_API_FN(name) __typeof__(nvml##name) *name
struct nvml_api {
        /* required: without these the library is not NVML */
        NVML_API_FN(Init_v2);
        NVML_API_FN(Shutdown);
        NVML_API_FN(ErrorString);
        NVML_API_FN(SystemGetDriverVersion);
        NVML_API_FN(DeviceGetCount_v2);
        NVML_API_FN(DeviceGetHandleByIndex_v2);
        NVML_API_FN(DeviceGetName);
        /* optional: an older driver lacks some; the reading is then "not available" */
        NVML_API_FN(SystemGetCudaDriverVersion_v2);
        NVML_API_FN(DeviceGetUUID);
        NVML_API_FN(DeviceGetPciInfo_v3);
        NVML_API_FN(DeviceGetTemperature);
        NVML_API_FN(DeviceGetTemperatureThreshold);
        NVML_API_FN(DeviceGetUtilizationRates);
        NVML_API_FN(DeviceGetMemoryInfo);
        NVML_API_FN(DeviceGetMemoryInfo_v2);
        NVML_API_FN(DeviceGetPowerUsage);
        NVML_API_FN(DeviceGetEnforcedPowerLimit);
        NVML_API_FN(DeviceGetCurrentClocksThrottleReasons);
        NVML_API_FN(DeviceGetTotalEccErrors);
        NVML_API_FN(DeviceGetRetiredPagesPendingStatus);
        NVML_API_FN(DeviceGetRemappedRows);
        NVML_API_FN(DeviceGetPersistenceMode);
        NVML_API_FN(DeviceGetComputeMode);
        NVML_API_FN(DeviceGetMigMode);
        NVML_API_FN(DeviceGetComputeRunningProcesses_v3);
};

#define NVML_DEFAULT_PATH "libnvidia-ml.so.1"
/* Loads NVML from path (a soname looked up by the dynamic linker, or a file) once
 * per process; later calls return the same table (path is then ignored). NULL with
 * *err (a static or process-lifetime string) when it cannot be loaded or lacks a
 * required function. Nothing is initialised: call Init_v2() yourself. */
const struct nvml_api *nvml_api(const char *path, const char **err);
