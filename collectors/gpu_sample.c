/* gpu: what evodiag watch samples. The GPUs are read at [gpu] watch_interval (default
 * 5 s, slower than the main loop) by a worker thread of the sampler child that keeps
 * NVML loaded and initialised between samples (no process per sample). sample()
 * waits for the worker only briefly: a driver that hangs leaves the worker stuck,
 * not the sampler, so the hang is reported as gpu.responsive (an event) while this
 * and every other collector keep answering on time. When NVML is absent the worker
 * asks nvidia-smi instead (with its deadline). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/gpu.h"
#include "collectors/sample_util.h"
#include "lib/gpuprobe.h"
#include "lib/nvml_api.h"
#include "lib/sample.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

struct gpu_watch {
        pthread_mutex_t mu;
        pthread_cond_t cv;      /* worker: a request; sampler: an answer */
        bool started, want, busy, done; /* under mu */
        uint64_t busy_since;
        struct gpu_query_opts o;
        char *nvml_path, *smi;  /* owned copies: the worker outlives any one ctx */
        struct gpu_snapshot result; /* written by the worker, taken under mu */
        /* the sampler's side */
        struct gpu_snapshot shown;
        bool have_shown;
        uint64_t last_ms, interval_ms;
        double warn_pct;
        unsigned margin;
        /* the worker's: NVML stays loaded and initialised (the flags also read by the sampler: atomics) */
        const struct nvml_api *api;
        bool nvml_ready, nvml_absent;
};

static void worker_read(struct gpu_watch *w, struct gpu_snapshot *s)
{
        *s = (struct gpu_snapshot){.source = GPU_SRC_NVML};
        uint64_t t0 = now_ms_monotonic();
        if (!w->nvml_ready && !w->nvml_absent) {
                const char *err = NULL;
                if (streq(w->nvml_path, "none") || !(w->api = nvml_api(w->nvml_path, &err))) {
                        __atomic_store_n(&w->nvml_absent, true, __ATOMIC_RELEASE);
                } else {
                        nvmlReturn_t r = w->api->Init_v2();
                        if (r != NVML_SUCCESS) {
                                s->status = r == NVML_ERROR_LIB_RM_VERSION_MISMATCH ? GPU_MISMATCH
                                            : r == NVML_ERROR_DRIVER_NOT_LOADED    ? GPU_DRIVER_FAILED
                                                                                   : GPU_ERROR;
                                s->error = xasprintf("nvmlInit: %s", w->api->ErrorString(r));
                                s->duration_ms = now_ms_monotonic() - t0;
                                return; /* tried again next time */
                        }
                        __atomic_store_n(&w->nvml_ready, true, __ATOMIC_RELEASE);
                }
        }
        if (w->nvml_ready)
                gpu_nvml_read(w->api, s);
        else
                (void)gpu_query_smi(&w->o, s);
        s->duration_ms = now_ms_monotonic() - t0;
}

static void *worker(void *arg)
{
        struct gpu_watch *w = arg;
        pthread_mutex_lock(&w->mu);
        for (;;) {
                while (!w->want)
                        pthread_cond_wait(&w->cv, &w->mu);
                w->want = false;
                pthread_mutex_unlock(&w->mu);
                struct gpu_snapshot s;
                worker_read(w, &s);
                pthread_mutex_lock(&w->mu);
                gpu_snapshot_free(&w->result);
                w->result = s;
                w->done = true;
                w->busy = false;
                pthread_cond_broadcast(&w->cv);
        }
        return NULL;
}

static bool watch_start(struct ctx *c, struct gpu_watch *w)
{
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, &ca);
        pthread_condattr_destroy(&ca);
        gpu_opts(c, &w->o);
        w->o.stop_ms = 0; /* the worker's own deadline per nvidia-smi run; sample() never waits for it */
        w->nvml_path = xstrdup(w->o.nvml_path ? w->o.nvml_path : "");
        w->smi = xstrdup(w->o.smi ? w->o.smi : "nvidia-smi");
        w->o.nvml_path = w->nvml_path;
        w->o.smi = w->smi;
        w->interval_ms = 5000;
        (void)parse_duration_ms(conf_str(c, "watch_interval"), &w->interval_ms);
        w->warn_pct = conf_num(c, "memory_warn_pct");
        w->margin = (unsigned)conf_uint(c, "temp_margin_c");
        pthread_t th;
        if (pthread_create(&th, NULL, worker, w) != 0)
                return false;
        pthread_detach(th);
        w->started = true;
        return true;
}

static void report(struct sample *smp, const struct gpu_watch *w, const struct gpu_snapshot *s, bool fresh)
{
        if (s->status != GPU_OK) {
                sample_status(smp, "gpu.driver", NULL, s->status == GPU_ABSENT ? SEV_SKIPPED : s->status == GPU_ERROR ? SEV_UNKNOWN : SEV_CRIT,
                              "%s: %s", gpu_status_name(s->status), s->error ? s->error : "no answer");
                return;
        }
        sample_status(smp, "gpu.driver", NULL, SEV_OK, "driver %s answers for %zu GPU%s", s->driver[0] ? s->driver : "?", s->ndev,
                      s->ndev == 1 ? "" : "s");
        for (size_t i = 0; i < s->ndev; i++) {
                const struct gpu_dev *d = &s->dev[i];
                char subj[48];
                snprintf(subj, sizeof(subj), "GPU %d%s%s", d->index, d->bus_id[0] ? " " : "", d->bus_id);
                if (d->lost) {
                        sample_status(smp, "gpu.driver", subj, SEV_CRIT, "%s is lost: it has fallen off the bus", subj);
                        continue;
                }
                if (fresh) {
                        if (d->util_gpu >= 0)
                                sample_value(smp, "gpu.utilization_pct", subj, (double)d->util_gpu, "%");
                        if (d->mem_used >= 0)
                                sample_value(smp, "gpu.memory_used_bytes", subj, (double)d->mem_used, "bytes");
                        if (d->mem_total > 0)
                                sample_value(smp, "gpu.memory_total_bytes", subj, (double)d->mem_total, "bytes");
                        if (d->temp_c >= 0)
                                sample_value(smp, "gpu.temperature_c", subj, (double)d->temp_c, "C");
                        if (d->power_mw >= 0)
                                sample_value(smp, "gpu.power_w", subj, (double)d->power_mw / 1000.0, "W");
                        if (d->throttle >= 0)
                                sample_value(smp, "gpu.throttle_reasons", subj, (double)d->throttle, "bits");
                }
                enum severity sev = gpu_memory_verdict(d, w->warn_pct);
                if (sev != SEV_SKIPPED)
                        sample_status(smp, "gpu.memory", subj, sev, "%s: %.0f%% of GPU memory used", subj,
                                      (double)d->mem_used * 100.0 / (double)d->mem_total);
                sev = gpu_temp_verdict(d, w->margin);
                if (sev == SEV_OK || sev == SEV_WARN)
                        sample_status(smp, "gpu.temperature", subj, sev, "%s: %" PRId64 " C, slowdown at %" PRId64 " C", subj, d->temp_c,
                                      d->slowdown_c);
                sev = gpu_throttle_verdict(d);
                if (sev != SEV_SKIPPED) {
                        char names[160];
                        gpu_throttle_names(d->throttle, names, sizeof(names));
                        sample_status(smp, "gpu.throttle", subj, sev, "%s: %s", subj, sev == SEV_OK ? "no throttling" : names);
                }
                sev = gpu_ecc_verdict(d);
                if (sev != SEV_SKIPPED)
                        sample_status(smp, "gpu.ecc", subj, sev, "%s: %" PRId64 " uncorrected ECC errors (volatile)%s", subj,
                                      d->ecc_volatile > 0 ? d->ecc_volatile : 0,
                                      d->retired_pending == 1 || d->remap_pending == 1 ? ", retirement/remapping pending" : "");
        }
}

void gpu_sample(struct ctx *c, struct sample *smp)
{
        if (!rootfs_is_live())
                return; /* a fixture tree has no GPU to ask */
        struct gpu_watch *w = sample_state(c, sizeof(*w));
        if (!w->started && !watch_start(c, w)) {
                sample_status(smp, "gpu.responsive", NULL, SEV_UNKNOWN, "cannot start the GPU reader thread");
                return;
        }
        uint64_t now = now_ms_monotonic();
        bool asked = false, fresh = false, hung = false;
        uint64_t hung_ms = 0;
        pthread_mutex_lock(&w->mu);
        if (!w->busy && (!w->last_ms || now - w->last_ms >= w->interval_ms)) {
                w->want = w->busy = true;
                w->busy_since = w->last_ms = now;
                asked = true;
                pthread_cond_broadcast(&w->cv);
        }
        /* Wait for the answer, but never past the sampler's deadline nor the GPU deadline. */
        uint64_t until = now + (w->o.timeout_ms < 2000 ? w->o.timeout_ms : 2000);
        if (c->deadline_ms && c->deadline_ms > now + 300 && c->deadline_ms - 300 < until)
                until = c->deadline_ms - 300;
        while (asked && w->busy && !w->done) {
                uint64_t t = now_ms_monotonic();
                if (t >= until)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t wait = until - t;
                ts.tv_sec += (time_t)(wait / 1000);
                ts.tv_nsec += (long)(wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        if (w->done) {
                gpu_snapshot_free(&w->shown);
                w->shown = w->result;
                w->result = (struct gpu_snapshot){0};
                w->done = false;
                w->have_shown = fresh = true;
        }
        if (w->busy) {
                hung_ms = now_ms_monotonic() - w->busy_since;
                hung = hung_ms >= w->o.timeout_ms;
        }
        pthread_mutex_unlock(&w->mu);
        if (hung) {
                sample_status(smp, "gpu.responsive", NULL, SEV_CRIT,
                              "%s has not answered for %.1f s: the GPU may have fallen off the bus or the driver is wedged",
                              __atomic_load_n(&w->nvml_absent, __ATOMIC_ACQUIRE) ? "nvidia-smi" : "NVML",
                              (double)hung_ms / 1000.0);
                return;
        }
        if (!w->have_shown)
                return; /* the first answer is still on its way (within the deadline) */
        const char *src = w->shown.source == GPU_SRC_SMI ? "nvidia-smi" : "NVML";
        if (w->shown.status == GPU_TIMEOUT) {
                /* nvidia-smi hung and was killed at its deadline: the worker is free, the driver is not */
                sample_status(smp, "gpu.responsive", NULL, SEV_CRIT,
                              "%s did not answer: the GPU may have fallen off the bus or the driver is wedged (%s)", src,
                              w->shown.error ? w->shown.error : "timed out");
                return;
        }
        sample_status(smp, "gpu.responsive", NULL, SEV_OK, "%s answered in %" PRIu64 " ms", src, w->shown.duration_ms);
        report(smp, w, &w->shown, fresh);
}

void gpu_free_state(void *state)
{
        struct gpu_watch *w = state;
        if (w->started) {
                pthread_mutex_lock(&w->mu);
                bool busy = w->busy;
                pthread_mutex_unlock(&w->mu);
                /* A worker stuck in the driver still holds w: leave it; the process is ending. */
                if (busy)
                        return;
                if (w->nvml_ready)
                        w->api->Shutdown();
        }
        gpu_snapshot_free(&w->result);
        gpu_snapshot_free(&w->shown);
        if (!w->started) {
                free(w);
                return;
        }
        /* The idle worker waits on w->cv forever; the process exits right after this. */
}
