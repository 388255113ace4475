/* gpu: the pure decisions (no host access), exported in gpu.h for the unit tests. */
#include "config.h"
#include "collectors/gpu.h"
#include "lib/nvml_api.h"
#include "lib/util.h"

#include <stdio.h>

enum severity gpu_memory_verdict(const struct gpu_dev *d, double warn_pct)
{
        if (d->mem_used < 0 || d->mem_total <= 0)
                return SEV_SKIPPED;
        return (double)d->mem_used * 100.0 / (double)d->mem_total > warn_pct ? SEV_WARN : SEV_OK;
}

enum severity gpu_temp_verdict(const struct gpu_dev *d, unsigned margin_c)
{
        if (d->temp_c < 0)
                return SEV_SKIPPED;
        if (d->slowdown_c <= 0)
                return SEV_INFO;
        return d->temp_c + (int64_t)margin_c >= d->slowdown_c ? SEV_WARN : SEV_OK;
}

#define THR_BAD (NVML_THR_HW_SLOWDOWN | NVML_THR_HW_THERMAL | NVML_THR_SW_THERMAL | NVML_THR_HW_POWER_BRAKE)

enum severity gpu_throttle_verdict(const struct gpu_dev *d)
{
        if (d->throttle < 0)
                return SEV_SKIPPED;
        if ((uint64_t)d->throttle & THR_BAD)
                return SEV_WARN;
        if ((uint64_t)d->throttle & NVML_THR_SW_POWER_CAP)
                return SEV_INFO;
        return SEV_OK;
}

void gpu_throttle_names(int64_t bits, char *out, size_t n)
{
        static const struct {
                uint64_t bit;
                const char *name;
        } names[] = {
                {NVML_THR_HW_THERMAL, "HW Thermal Slowdown"}, {NVML_THR_SW_THERMAL, "SW Thermal Slowdown"},
                {NVML_THR_HW_POWER_BRAKE, "HW Power Brake Slowdown"}, {NVML_THR_HW_SLOWDOWN, "HW Slowdown"},
                {NVML_THR_SW_POWER_CAP, "SW Power Cap"}, {NVML_THR_SYNC_BOOST, "Sync Boost"},
                {NVML_THR_APP_CLOCKS, "Applications Clocks Setting"}, {NVML_THR_DISPLAY_CLOCKS, "Display Clock Setting"},
                {NVML_THR_GPU_IDLE, "Idle"},
        };
        size_t len = 0;
        if (n)
                out[0] = 0;
        for (size_t i = 0; i < ARRAY_SIZE(names) && bits > 0; i++)
                if ((uint64_t)bits & names[i].bit) {
                        int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", names[i].name);
                        if (w < 0 || (size_t)w >= n - len)
                                return;
                        len += (size_t)w;
                }
}

enum severity gpu_ecc_verdict(const struct gpu_dev *d)
{
        if (d->ecc_volatile > 0 || d->retired_pending == 1 || d->remap_pending == 1 || d->remap_failure == 1)
                return SEV_CRIT;
        if (d->ecc_aggregate > 0)
                return SEV_WARN;
        if (d->ecc_volatile < 0 && d->ecc_aggregate < 0 && d->retired_pending < 0 && d->remap_pending < 0 && d->remap_failure < 0)
                return SEV_SKIPPED;
        return SEV_OK;
}

static int by_used_desc(const void *a, const void *b)
{
        const struct gpu_proc *x = *(const struct gpu_proc *const *)a, *y = *(const struct gpu_proc *const *)b;
        return x->used_bytes < y->used_bytes ? 1 : x->used_bytes > y->used_bytes ? -1 : x->pid - y->pid;
}

char *gpu_procs_text(const struct gpu_snapshot *s, int gpu, size_t max, const char *components)
{
        _cleanup_free_ const struct gpu_proc **v = xcalloc(s->nproc + 1, sizeof(*v));
        size_t n = 0;
        for (size_t i = 0; i < s->nproc; i++)
                if (s->proc[i].gpu == gpu)
                        v[n++] = &s->proc[i];
        if (!n)
                return NULL;
        qsort(v, n, sizeof(*v), by_used_desc);
        struct strbuf b = {0};
        for (size_t i = 0; i < n && i < max; i++) {
                char sz[32];
                const char *base = strrchr(v[i]->name, '/') ? strrchr(v[i]->name, '/') + 1 : v[i]->name;
                bool comp = components && *base && list_has_word(components, base);
                sb_printf(&b, "%spid %d %s%s %s", i ? ", " : "", v[i]->pid, v[i]->name[0] ? v[i]->name : "?",
                          comp ? " (component)" : "", v[i]->used_bytes >= 0 ? fmt_bytes((uint64_t)v[i]->used_bytes, sz) : "?");
        }
        if (n > max)
                sb_printf(&b, " and %zu more", n - max);
        return sb_steal(&b);
}
