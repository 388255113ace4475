/* nvidia-smi's CSV (--query-gpu, --query-compute-apps) and the driver's
 * /proc/driver/nvidia files: whatever a wedged or foreign nvidia-smi prints, or a
 * hostile --root holds. The snapshot they build also goes through its JSON form
 * (what the NVML child sends its parent). */
#include "tests/fuzz/fuzz.h"
#include "collectors/gpu.h"
#include "lib/gpuprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct gpu_snapshot g = {0};
        (void)gpu_csv_parse(s, &g);
        (void)gpu_apps_csv_parse(s, &g);
        (void)gpu_smi_error(s);
        for (size_t i = 0; i < g.ndev; i++) {
                (void)gpu_memory_verdict(&g.dev[i], 90);
                (void)gpu_temp_verdict(&g.dev[i], 5);
                char names[160];
                gpu_throttle_names(g.dev[i].throttle, names, sizeof(names));
                free(gpu_procs_text(&g, (int)i, 5, "ffmpeg"));
        }
        json_object *j = gpu_snapshot_to_json(&g);
        struct gpu_snapshot back;
        if (gpu_snapshot_from_json(j, &back) == 0)
                gpu_snapshot_free(&back);
        json_object_put(j);
        gpu_snapshot_free(&g);
        struct gpu_procinfo pi;
        (void)gpu_procinfo_parse(s, &pi);
        char ver[64], b[16];
        (void)gpu_nvrm_version(s, ver, sizeof(ver));
        (void)gpu_bus_id_norm(s, b);
        free(s);
        return 0;
}
