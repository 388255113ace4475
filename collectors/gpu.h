/* gpu collector: the decisions it is made of (gpu_format.c), exported for the unit
 * tests, and what its files share. Reading the GPU is lib/gpuprobe.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/gpuprobe.h"

/* gpu.memory: warn when used/total exceeds warn_pct; SEV_SKIPPED when unknown. */
enum severity gpu_memory_verdict(const struct gpu_dev *d, double warn_pct);
/* gpu.temperature: warn within margin_c of the slowdown threshold; info when the
 * threshold is not reported; SEV_SKIPPED when the temperature is unknown. */
enum severity gpu_temp_verdict(const struct gpu_dev *d, unsigned margin_c);
/* gpu.throttle: warn on thermal, HW slowdown or power-brake reasons; info on SW
 * power capping alone; SEV_SKIPPED when unknown. */
enum severity gpu_throttle_verdict(const struct gpu_dev *d);
/* "HW Thermal Slowdown, SW Power Cap" for the reasons set in bits ("" when none). */
void gpu_throttle_names(int64_t bits, char *out, size_t n);
/* gpu.ecc: crit on uncorrected volatile errors, pending retired pages, pending
 * row remapping or a remapping failure; warn on aggregate (past) uncorrected
 * errors; SEV_SKIPPED when the GPU reports none of these (no ECC). */
enum severity gpu_ecc_verdict(const struct gpu_dev *d);
/* "pid 11345 ./gpu_burn 15.3 GiB, pid 11327 /root/tools/memhog 2.5 GiB" for GPU
 * gpu, largest first, at most max; components (comma list) marked. */
char *gpu_procs_text(const struct gpu_snapshot *s, int gpu, size_t max, const char *components);

struct ctx;
struct sample;
void gpu_sample(struct ctx *c, struct sample *s);
void gpu_free_state(void *state);
/* The collector's query options from its config ([gpu] nvml_path, nvidia_smi, deadline). */
void gpu_opts(const struct ctx *c, struct gpu_query_opts *o);
