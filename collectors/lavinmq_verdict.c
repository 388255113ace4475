/* The lavinmq verdicts (lavinmq.h): one function per check, pure, called by check()
 * (lavinmq_checks.c) and by sample() (lavinmq_watch.c) alike, so `evodiag check` and
 * `evodiag watch` reach the same verdict from the same numbers. Unit-tested in
 * tests/unit/test_lavinmq.c. */
#include "config.h"
#include "lib/procscan.h" /* usage_pct, usage_verdict, map_count_target: the per-process usage rule of fds/maps */
#include "collectors/lavinmq.h"
#include "lib/procfs.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

enum severity lavinmq_process_verdict(bool running, bool installed, bool lock_absent, size_t impostors)
{
        if (running)
                return SEV_OK;
        if (installed)
                return SEV_CRIT;
        /* A .lock left behind: warn. Nothing of LavinMQ here (impostors only, or just an API
         * evodiag's config names: the broker runs elsewhere): info. */
        return !lock_absent ? SEV_WARN : SEV_INFO;
}

enum severity lavinmq_api_verdict(enum lavinmq_api_state st, long http_status, bool broker_up, bool admin_missing)
{
        switch (st) {
        case API_NOT_LIVE:
                return SEV_SKIPPED;
        case API_NOT_CONFIGURED:
                return SEV_INFO;
        case API_OUT_OF_TIME:
                return SEV_UNKNOWN;
        case API_WITHHELD:
        case API_REFUSED:
                return SEV_WARN;
        case API_OK:
                return admin_missing ? SEV_INFO : SEV_OK;
        case API_HTTP_ERROR:
                if (http_status < 500)
                        return SEV_WARN;
                break;
        case API_DOWN:
        case API_BAD_REPLY:
                break;
        }
        return broker_up ? SEV_CRIT : SEV_INFO;
}

const char *lavinmq_fd_limit_source(const struct lavinmq_fd_in *in, uint64_t *soft, uint64_t *hard, char buf[static 64])
{
        *hard = 0;
        if (in->pid > 0 && in->limit_err == 0) {
                snprintf(buf, 64, "/proc/%d/limits", in->pid);
                *soft = in->soft, *hard = in->hard;
                return buf;
        }
        if (in->api_total > 0) {
                *soft = (uint64_t)in->api_total;
                return "/api/nodes fd_total";
        }
        if (isfinite(in->m_max) && in->m_max > 0) {
                *soft = (uint64_t)in->m_max;
                return "metrics process_max_fds";
        }
        return NULL;
}

enum severity lavinmq_fd_limit_verdict(uint64_t soft, uint64_t min)
{
        return soft < min ? SEV_WARN : SEV_OK;
}

static void use_set(struct lavinmq_use *u, const char *what, uint64_t used, uint64_t limit, bool at_least)
{
        snprintf(u->what, sizeof(u->what), "%s", what);
        u->used = used;
        u->limit = limit;
        u->at_least = at_least;
        u->pct = 0;
}

size_t lavinmq_fd_uses(const struct lavinmq_fd_in *in, struct lavinmq_use out[static 3])
{
        size_t n = 0;
        if (in->pid > 0 && in->fds >= 0 && in->limit_err == 0) {
                snprintf(out[n].src, sizeof(out[n].src), "/proc/%d/fd", in->pid);
                use_set(&out[n++], "open files", (uint64_t)in->fds, in->soft, in->fds_at_least);
        }
        if (in->api_used >= 0 && in->api_total > 0) {
                snprintf(out[n].src, sizeof(out[n].src), "/api/nodes fd_used/fd_total");
                use_set(&out[n++], "open files", (uint64_t)in->api_used, (uint64_t)in->api_total, false);
        }
        /* Metrics are whole numbers below 2^64 (lavinmq_metric_u64 checked them): casts are defined. */
        if (isfinite(in->m_open) && isfinite(in->m_max) && in->m_max > 0) {
                snprintf(out[n].src, sizeof(out[n].src), "metrics process_open_fds/process_max_fds");
                use_set(&out[n++], "open files", (uint64_t)in->m_open, (uint64_t)in->m_max, false);
        }
        return n;
}

size_t lavinmq_map_uses(const struct lavinmq_map_in *in, uint64_t max_map_count, struct lavinmq_use out[static 3])
{
        size_t n = 0;
        if (in->connections >= 0 && in->consumers >= 0 && in->queues >= 0) {
                snprintf(out[n].src, sizeof(out[n].src),
                         "predicted need (%" PRId64 " connections*2 + %" PRId64 " consumers*2 + %" PRId64 " queues*4)",
                         in->connections, in->consumers, in->queues);
                use_set(&out[n++], "predicted map need",
                        lavinmq_map_need((uint64_t)in->connections, (uint64_t)in->consumers, (uint64_t)in->queues),
                        max_map_count, false);
        }
        if (isfinite(in->mfile)) {
                snprintf(out[n].src, sizeof(out[n].src), "memory-mapped files (lavinmq_mfile_count)");
                use_set(&out[n++], "memory-mapped files", (uint64_t)in->mfile, max_map_count, false);
        }
        if (in->pid > 0 && in->maps >= 0) {
                snprintf(out[n].src, sizeof(out[n].src), "map areas in /proc/%d/maps", in->pid);
                use_set(&out[n++], "map areas", (uint64_t)in->maps, max_map_count, false);
        }
        return n;
}

const struct lavinmq_use *lavinmq_use_verdict(struct lavinmq_use *v, size_t n, double warn_pct, double crit_pct,
                                              enum severity *sev)
{
        const struct lavinmq_use *w = NULL;
        for (size_t i = 0; i < n; i++) {
                v[i].pct = usage_pct(v[i].used, v[i].limit);
                if (!w || v[i].pct > w->pct)
                        w = &v[i];
        }
        if (!w)
                return NULL;
        struct usage u = {.used = w->used, .limit = w->limit, .at_least = w->at_least};
        *sev = usage_verdict(&u, warn_pct, crit_pct);
        return w;
}

uint64_t lavinmq_map_target(uint64_t max_map_count, uint64_t used)
{
        uint64_t t = map_count_target(max_map_count, true);
        while (t < UINT64_MAX / 2 && t / 2 < used)
                t *= 2;
        return t;
}

enum severity lavinmq_disk_unmeasured(int statvfs_err, bool running)
{
        return statvfs_err == -ENOENT && !running ? SEV_INFO : SEV_UNKNOWN;
}

enum severity lavinmq_disk_severity(const struct lavinmq_disk_rule *r, const struct lavinmq_space *d, const char **why)
{
        double pct = d->total ? 100.0 * (double)d->free_ / (double)d->total : 100;
        *why = "";
        if (r->ini_min && d->free_ < r->ini_min)
                return *why = "below free_disk_min of lavinmq.ini", SEV_CRIT;
        if (d->free_ < r->crit_bytes || pct < r->crit_pct)
                return SEV_CRIT;
        if (r->ini_warn && d->free_ < r->ini_warn)
                return *why = "below free_disk_warn of lavinmq.ini", SEV_WARN;
        if (d->free_ < r->warn_bytes || pct < r->warn_pct)
                return SEV_WARN;
        return SEV_OK;
}

size_t lavinmq_disk_verdict(const struct lavinmq_disk_rule *r, const struct lavinmq_space *v, size_t n, bool alarm,
                            enum severity *sev, const char **why)
{
        size_t wi = 0;
        *sev = SEV_OK;
        *why = "";
        for (size_t i = 0; i < n; i++) {
                const char *w;
                enum severity s = lavinmq_disk_severity(r, &v[i], &w);
                if (i == 0 || s > *sev || (s == *sev && v[i].free_ < v[wi].free_))
                        wi = i, *sev = s, *why = w;
        }
        if (alarm)
                *sev = SEV_CRIT, *why = "the broker's disk_free_alarm is set";
        return wi;
}
