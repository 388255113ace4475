# What NVML says, through NVIDIA's own Python binding (nvidia-ml-py), for the
# same calls lib/gpuprobe.c makes: the reference evodiag's readings are compared with.
import json, pynvml as N
def q(f, *a):
    try:
        v = f(*a)
        if isinstance(v, bytes): v = v.decode()
        return v
    except N.NVMLError as e:
        return {"error": str(e)}
N.nvmlInit()
out = {"driver": q(N.nvmlSystemGetDriverVersion), "nvml": q(N.nvmlSystemGetNVMLVersion), "devices": []}
for i in range(N.nvmlDeviceGetCount()):
    h = N.nvmlDeviceGetHandleByIndex(i)
    d = {"index": i, "name": q(N.nvmlDeviceGetName, h), "uuid": q(N.nvmlDeviceGetUUID, h)}
    p = q(N.nvmlDeviceGetPciInfo, h); d["pci"] = p.busId.decode() if hasattr(p, "busId") and isinstance(p.busId, bytes) else getattr(p, "busId", p)
    d["temp_c"] = q(N.nvmlDeviceGetTemperature, h, N.NVML_TEMPERATURE_GPU)
    d["slowdown_c"] = q(N.nvmlDeviceGetTemperatureThreshold, h, N.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN)
    d["shutdown_c"] = q(N.nvmlDeviceGetTemperatureThreshold, h, N.NVML_TEMPERATURE_THRESHOLD_SHUTDOWN)
    u = q(N.nvmlDeviceGetUtilizationRates, h); d["util"] = [u.gpu, u.memory] if hasattr(u, "gpu") else u
    m = q(N.nvmlDeviceGetMemoryInfo, h); d["mem"] = [m.used, m.total] if hasattr(m, "used") else m
    m = q(N.nvmlDeviceGetMemoryInfo, h, N.nvmlMemory_v2); d["mem_v2"] = [m.used, m.reserved, m.free, m.total] if hasattr(m, "used") else m
    d["power_mw"] = q(N.nvmlDeviceGetPowerUsage, h)
    d["power_limit_mw"] = q(N.nvmlDeviceGetEnforcedPowerLimit, h)
    d["throttle"] = q(N.nvmlDeviceGetCurrentClocksThrottleReasons, h)
    d["ecc_unc_volatile"] = q(N.nvmlDeviceGetTotalEccErrors, h, N.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, N.NVML_VOLATILE_ECC)
    d["ecc_unc_aggregate"] = q(N.nvmlDeviceGetTotalEccErrors, h, N.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, N.NVML_AGGREGATE_ECC)
    d["retired_pending"] = q(N.nvmlDeviceGetRetiredPagesPendingStatus, h)
    d["remapped_rows"] = q(N.nvmlDeviceGetRemappedRows, h)
    d["persistence"] = q(N.nvmlDeviceGetPersistenceMode, h)
    d["compute_mode"] = q(N.nvmlDeviceGetComputeMode, h)
    d["mig"] = q(N.nvmlDeviceGetMigMode, h)
    ps = q(N.nvmlDeviceGetComputeRunningProcesses, h)
    d["procs"] = [[p.pid, p.usedGpuMemory] for p in ps] if isinstance(ps, list) else ps
    out["devices"].append(d)
N.nvmlShutdown()
print(json.dumps(out, indent=1, default=str))
