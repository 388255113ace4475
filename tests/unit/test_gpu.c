/* lib/gpuprobe parsers on recorded nvidia-smi output (tests/fixtures/gpu, sources in its
 * README.md) and broken copies of it; the gpu collector's verdicts. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/gpu.h"
#include "lib/gpuprobe.h"
#include "lib/nvml_api.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>

static char *fixture(const char *name)
{
        _cleanup_free_ char *path = xasprintf("%s/tests/fixtures/gpu/%s", EVODIAG_SRCDIR, name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        struct strbuf b = {0};
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                sb_putn(&b, buf, n);
        fclose(f);
        sb_puts(&b, "");
        return sb_steal(&b);
}

static void bus_ids(void **state)
{
        char b[16];
        assert_int_equal(gpu_bus_id_norm("00000000:0C:00.0", b), 0);
        assert_string_equal(b, "0000:0c:00.0");
        assert_int_equal(gpu_bus_id_norm("0000:3b:00.1", b), 0);
        assert_string_equal(b, "0000:3b:00.1");
        assert_int_equal(gpu_bus_id_norm("0000:3b:00", b), -EINVAL);
        assert_int_equal(gpu_bus_id_norm("0000:3b:00.8", b), -EINVAL);
        assert_int_equal(gpu_bus_id_norm("1ffff:00:00.0", b), -EINVAL);
        assert_int_equal(gpu_bus_id_norm("000000000:00:00.0", b), -EINVAL);
        assert_int_equal(gpu_bus_id_norm("", b), -EINVAL);
        assert_int_equal(gpu_bus_id_norm("0000:00:04.0 trailing", b), -EINVAL);
}

static void csv_h100(void **state)
{
        _cleanup_free_ char *t = fixture("h100-load.query-gpu.csv");
        struct gpu_snapshot s = {0};
        assert_int_equal(gpu_csv_parse(t, &s), 0);
        assert_int_equal(s.ndev, 1);
        const struct gpu_dev *d = &s.dev[0];
        assert_string_equal(d->name, "NVIDIA H100 80GB HBM3");
        assert_string_equal(d->bus_id, "0000:00:09.0");
        assert_string_equal(s.driver, "590.48.01");
        assert_int_equal(d->temp_c, 59);
        assert_int_equal(d->mem_used, 19818LL << 20);
        assert_int_equal(d->mem_total, 81559LL << 20);
        assert_int_equal(d->util_gpu, 100);
        assert_int_equal(d->power_mw, 631950);
        assert_int_equal(d->power_limit_mw, 700000);
        assert_int_equal(d->throttle, 0);       /* clocks_event_reasons.active 0x0000000000000000 */
        assert_int_equal(d->ecc_volatile, 0);
        assert_int_equal(d->persistence, 1);
        assert_int_equal(d->compute_mode, 0);
        assert_int_equal(d->mig, 0);
        assert_int_equal(d->slowdown_c, -1);    /* not a CSV field */
        _cleanup_free_ char *a = fixture("h100-load.compute-apps.csv");
        assert_int_equal(gpu_apps_csv_parse(a, &s), 0);
        assert_int_equal(s.nproc, 3);
        assert_int_equal(s.proc[2].pid, 11345);
        assert_string_equal(s.proc[2].name, "./gpu_burn");
        assert_int_equal(s.proc[2].used_bytes, 15690LL << 20);
        assert_int_equal(s.proc[2].gpu, 0);
        gpu_snapshot_free(&s);
}

static void q_h100_tlimit(void **state)
{
        _cleanup_free_ char *t = fixture("h100-load.q.txt");
        struct gpu_snapshot s = {0};
        assert_int_equal(gpu_q_parse(t, &s), 0);
        assert_string_equal(s.driver, "590.48.01");
        assert_string_equal(s.cuda, "13.1");
        assert_int_equal(s.ndev, 1);
        const struct gpu_dev *d = &s.dev[0];
        assert_string_equal(d->name, "NVIDIA H100 80GB HBM3");
        assert_int_equal(d->temp_c, 59);
        /* GPU T.Limit Temp 26 C, GPU Slowdown T.Limit Temp -2 C: 59 + 26 + 2 */
        assert_int_equal(d->slowdown_c, 87);
        assert_int_equal(d->mem_used, 19818LL << 20);
        assert_int_equal(d->ecc_volatile, 0);
        assert_int_equal(d->ecc_aggregate, 0);
        assert_int_equal(d->remap_pending, 0);
        assert_int_equal(d->remap_failure, 0);
        assert_int_equal(d->retired_pending, -1); /* N/A on Hopper: rows are remapped instead */
        assert_int_equal(d->throttle, 0);
        assert_int_equal(d->persistence, 1);
        assert_int_equal(d->power_mw, 629450);
        assert_int_equal(s.nproc, 3);
        assert_string_equal(s.proc[0].name, "/root/tools/memhog");
        assert_int_equal(s.proc[0].used_bytes, 2566LL << 20);
        gpu_snapshot_free(&s);
}

static void q_rtx_absolute(void **state)
{
        _cleanup_free_ char *t = fixture("rtx2080s-load.q.txt");
        struct gpu_snapshot s = {0};
        assert_int_equal(gpu_q_parse(t, &s), 0);
        const struct gpu_dev *d = &s.dev[0];
        assert_string_equal(d->bus_id, "0000:0c:00.0");
        assert_int_equal(d->slowdown_c, 97);
        assert_int_equal(d->shutdown_c, 100);
        assert_int_equal(d->persistence, 0);
        assert_int_equal(d->ecc_volatile, -1);
        assert_int_equal(d->power_mw, 98550);  /* Average N/A: the instantaneous reading */
        assert_int_equal(gpu_ecc_verdict(d), SEV_SKIPPED);
        gpu_snapshot_free(&s);
}

/* CSV, apps and -q of one GPU merge into one device: -q fills only what is missing. */
static void merged(void **state)
{
        _cleanup_free_ char *c = fixture("rtx2080s-load.query-gpu.csv"), *a = fixture("rtx2080s-load.compute-apps.csv"),
                            *q = fixture("rtx2080s-load.q.txt");
        struct gpu_snapshot s = {0};
        assert_int_equal(gpu_csv_parse(c, &s), 0);
        assert_int_equal(gpu_apps_csv_parse(a, &s), 0);
        assert_int_equal(gpu_q_parse(q, &s), 0);
        assert_int_equal(s.ndev, 1);
        assert_int_equal(s.dev[0].slowdown_c, 97);
        assert_int_equal(s.nproc, 4); /* 2 compute (csv) + 2 graphics (-q); the compute ones not twice */
        _cleanup_free_ char *txt = gpu_procs_text(&s, 0, 3, "ffmpeg");
        assert_string_equal(txt, "pid 5268 ffmpeg (component) 370.0 MiB, pid 5267 ffmpeg (component) 230.0 MiB, "
                                 "pid 1696 /usr/bin/gnome-shell 176.0 MiB and 1 more");
        json_object *j = gpu_snapshot_to_json(&s);
        struct gpu_snapshot back;
        assert_int_equal(gpu_snapshot_from_json(j, &back), 0);
        assert_int_equal(back.ndev, 1);
        assert_int_equal(back.nproc, 4);
        assert_int_equal(back.dev[0].slowdown_c, 97);
        assert_int_equal(back.dev[0].mem_total, s.dev[0].mem_total);
        assert_string_equal(back.dev[0].bus_id, "0000:0c:00.0");
        assert_int_equal(back.dev[0].persistence, 0);
        json_object_put(j);
        gpu_snapshot_free(&back);
        gpu_snapshot_free(&s);
}

static void broken_input(void **state)
{
        struct gpu_snapshot s = {0};
        assert_int_equal(gpu_csv_parse("", &s), -EINVAL);
        assert_int_equal(gpu_csv_parse("garbage\n", &s), -EINVAL);
        assert_int_equal(gpu_csv_parse("index, name\n0, a, b, c\n", &s), -EINVAL); /* no row fits the header */
        assert_int_equal(gpu_csv_parse("foo, bar\n1, 2\n", &s), -EINVAL);          /* names no GPU column */
        assert_int_equal(s.ndev, 0);
        assert_int_equal(gpu_q_parse("\x89PNG\r\n\x1a\n", &s), -EINVAL);
        assert_int_equal(gpu_apps_csv_parse("pid, process_name\n1, x\n", &s), -EINVAL);
        /* [N/A], deprecated and out-of-range values are unknown, never 0 */
        assert_int_equal(gpu_csv_parse("pci.bus_id, temperature.gpu, memory.used [MiB], memory.total [MiB], clocks_throttle_reasons.active\n"
                                       "00000000:01:00.0, [N/A], 99999999999999999999 MiB, [Requested functionality has been deprecated], 0xZZ\n",
                                       &s),
                         0);
        assert_int_equal(s.dev[0].temp_c, -1);
        assert_int_equal(s.dev[0].mem_used, -1);
        assert_int_equal(s.dev[0].mem_total, -1);
        assert_int_equal(s.dev[0].throttle, -1);
        assert_int_equal(gpu_memory_verdict(&s.dev[0], 90), SEV_SKIPPED);
        gpu_snapshot_free(&s);
        /* a lost GPU in the CSV */
        assert_int_equal(gpu_csv_parse("pci.bus_id, name, temperature.gpu\n00000000:02:00.0, NVIDIA A100, [GPU is lost]\n", &s), 0);
        assert_true(s.dev[0].lost);
        gpu_snapshot_free(&s);
        /* more GPUs than GPU_MAX: kept at the bound */
        struct strbuf b = {0};
        sb_puts(&b, "pci.bus_id, name\n");
        for (int i = 0; i < GPU_MAX + 10; i++)
                sb_printf(&b, "0000:%02x:00.0, g\n", i);
        assert_int_equal(gpu_csv_parse(b.s, &s), 0);
        assert_int_equal(s.ndev, GPU_MAX);
        gpu_snapshot_free(&s);
        sb_free(&b);
}

static void smi_errors(void **state)
{
        _cleanup_free_ char *m = fixture("error-version-mismatch.txt"), *f = fixture("error-smi-failed.txt");
        assert_int_equal(gpu_smi_error(m), GPU_MISMATCH);
        assert_int_equal(gpu_smi_error(f), GPU_DRIVER_FAILED);
        assert_int_equal(gpu_smi_error("No devices were found\n"), GPU_NO_DEVICES);
        assert_int_equal(gpu_smi_error("index, name\n"), GPU_OK);
}

static void proc_driver(void **state)
{
        _cleanup_free_ char *v = fixture("proc-driver-nvidia-version.txt"), *i = fixture("proc-gpu-information.txt");
        char ver[64];
        assert_int_equal(gpu_nvrm_version(v, ver, sizeof(ver)), 0);
        assert_string_equal(ver, "515.76");
        assert_int_equal(gpu_nvrm_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.57.08  Release Build  (dvs-builder@U16)",
                                          ver, sizeof(ver)),
                         0);
        assert_string_equal(ver, "575.57.08");
        assert_int_equal(gpu_nvrm_version("GCC version: 12\n", ver, sizeof(ver)), -EINVAL);
        struct gpu_procinfo g;
        assert_int_equal(gpu_procinfo_parse(i, &g), 0);
        assert_string_equal(g.model, "Tesla K80");
        assert_string_equal(g.bus_id, "0000:00:04.0");
        assert_string_equal(g.uuid, "GPU-c6398fd0-9366-8e15-5d6a-369da852f85b");
        assert_int_equal(gpu_procinfo_parse("nothing here\n", &g), -EINVAL);
}

static void verdicts(void **state)
{
        struct gpu_snapshot s = {0};
        struct gpu_dev *d = gpu_dev_add(&s);
        assert_int_equal(gpu_memory_verdict(d, 90), SEV_SKIPPED);
        d->mem_total = 100;
        d->mem_used = 90;
        assert_int_equal(gpu_memory_verdict(d, 90), SEV_OK);
        d->mem_used = 91;
        assert_int_equal(gpu_memory_verdict(d, 90), SEV_WARN);
        assert_int_equal(gpu_temp_verdict(d, 5), SEV_SKIPPED);
        d->temp_c = 80;
        assert_int_equal(gpu_temp_verdict(d, 5), SEV_INFO);
        d->slowdown_c = 85;
        assert_int_equal(gpu_temp_verdict(d, 5), SEV_WARN);
        assert_int_equal(gpu_temp_verdict(d, 4), SEV_OK);
        assert_int_equal(gpu_throttle_verdict(d), SEV_SKIPPED);
        d->throttle = (int64_t)(NVML_THR_GPU_IDLE | NVML_THR_SYNC_BOOST);
        assert_int_equal(gpu_throttle_verdict(d), SEV_OK);
        d->throttle = (int64_t)NVML_THR_SW_POWER_CAP;
        assert_int_equal(gpu_throttle_verdict(d), SEV_INFO);
        d->throttle = (int64_t)(NVML_THR_SW_POWER_CAP | NVML_THR_SW_THERMAL);
        assert_int_equal(gpu_throttle_verdict(d), SEV_WARN);
        char names[80];
        gpu_throttle_names(d->throttle, names, sizeof(names));
        assert_string_equal(names, "SW Thermal Slowdown, SW Power Cap");
        gpu_throttle_names(-1, names, sizeof(names));
        assert_string_equal(names, "");
        assert_int_equal(gpu_ecc_verdict(d), SEV_SKIPPED);
        d->ecc_aggregate = 4;
        assert_int_equal(gpu_ecc_verdict(d), SEV_WARN);
        d->remap_pending = 1;
        assert_int_equal(gpu_ecc_verdict(d), SEV_CRIT);
        d->remap_pending = 0;
        d->ecc_aggregate = 0;
        d->retired_pending = 1;
        assert_int_equal(gpu_ecc_verdict(d), SEV_CRIT);
        gpu_snapshot_free(&s);
}

/* What another collector (snn) asks, and the kernel's view through rootfs. */
static void usable_and_kernel_view(void **state)
{
        struct gpu_query_opts o = {.nvml_path = "none", .smi = "none", .timeout_ms = 1000};
        char *why = NULL;
        assert_int_equal(rootfs_set("/"), 0);
        assert_false(gpu_usable(&o, &why));
        assert_non_null(strstr(why, "absent: NVML not used"));
        free(why);
        assert_int_equal(rootfs_set(EVODIAG_SRCDIR "/tests/fixtures/gpu-fallback"), 0);
        assert_false(gpu_usable(&o, &why));
        assert_non_null(strstr(why, "not the live host"));
        free(why);
        assert_true(gpu_present("none"));
        struct gpu_pci *pci;
        size_t n;
        assert_int_equal(gpu_pci_list(&pci, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(pci[0].bus_id, "0000:00:04.0");
        assert_int_equal(pci[0].device_id, 0x102d);
        assert_string_equal(pci[0].driver, "");
        free(pci);
        struct gpu_driver_proc dp;
        assert_int_equal(gpu_driver_proc_read(&dp), 0);
        assert_true(dp.loaded);
        assert_string_equal(dp.version, "515.76");
        assert_int_equal(dp.ngpus, 1);
        assert_string_equal(dp.gpus[0].model, "Tesla K80");
        gpu_driver_proc_free(&dp);
        assert_int_equal(rootfs_set(EVODIAG_SRCDIR "/tests/fixtures/gpu"), 0); /* no GPU sign in there */
        assert_false(gpu_present("nvidia-smi"));
        assert_int_equal(rootfs_set("/"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bus_ids),     cmocka_unit_test(csv_h100),     cmocka_unit_test(q_h100_tlimit),
                cmocka_unit_test(q_rtx_absolute), cmocka_unit_test(merged),    cmocka_unit_test(broken_input),
                cmocka_unit_test(smi_errors),  cmocka_unit_test(proc_driver), cmocka_unit_test(verdicts),
                cmocka_unit_test(usable_and_kernel_view),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
