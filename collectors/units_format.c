/* units: the decisions and the status text, pure functions of a unit's properties
 * (units.h; tests/unit/test_units.c). */
#include "config.h"
#include "collectors/units.h"

#include <inttypes.h>

static bool is(const char *s, const char *want) { return s && streq(s, want); }

enum severity units_state_verdict(const struct sdunit *u, bool trigger_active, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = "";
        if (u->load_state && !is(u->load_state, "loaded")) {
                if (is(u->load_state, "masked")) {
                        *why = "masked: it cannot be started";
                        return SEV_INFO;
                }
                if (is(u->load_state, "not-found")) {
                        *why = "not installed";
                        return SEV_SKIPPED;
                }
                *why = "systemd could not load its unit file";
                return SEV_CRIT;
        }
        const char *a = u->active_state;
        if (!a) {
                *why = "systemd did not report its state";
                return SEV_UNKNOWN;
        }
        if (is(a, "active") || is(a, "reloading")) {
                *why = "running";
                return SEV_OK;
        }
        if (is(a, "failed")) {
                *why = "failed";
                return SEV_CRIT;
        }
        if (is(a, "activating")) {
                if (is(u->sub_state, "auto-restart")) {
                        *why = "waiting to be restarted after its process exited";
                        return SEV_WARN;
                }
                *why = "starting";
                return SEV_INFO;
        }
        if (is(a, "deactivating")) {
                *why = "stopping";
                return SEV_INFO;
        }
        if (is(a, "inactive")) {
                if (trigger_active) {
                        *why = "not running; started on demand by its active socket/timer";
                        return SEV_OK;
                }
                if (is(u->unit_file_state, "disabled") || is(u->unit_file_state, "masked")) {
                        *why = "installed, but not enabled and not running";
                        return SEV_INFO;
                }
                *why = "not running";
                return SEV_CRIT;
        }
        *why = "in a state systemd does not document";
        return SEV_UNKNOWN;
}

enum severity units_restart_verdict(uint32_t nrestarts, uint64_t last_start_us, uint64_t now_us, uint64_t window_us)
{
        if (!nrestarts)
                return SEV_OK;
        if (last_start_us && last_start_us <= now_us && now_us - last_start_us <= window_us)
                return SEV_WARN;
        if (last_start_us > now_us) /* a clock that went back: recent as far as we can tell */
                return SEV_WARN;
        return SEV_INFO;
}

static bool known(uint64_t v) { return v != SDUNIT_INFINITY - 1; }

unsigned units_limit_problems(const struct sdunit *u, bool needs_nofile, uint64_t nofile_min, bool rt, uint64_t memlock_min)
{
        unsigned pr = 0;
        if (!u->have_limits)
                return 0;
        if (known(u->limit_core) && u->limit_core == 0)
                pr |= UL_CORE0;
        if (needs_nofile && known(u->limit_nofile) && u->limit_nofile != SDUNIT_INFINITY && u->limit_nofile < nofile_min)
                pr |= UL_NOFILE;
        /* root has CAP_IPC_LOCK and CAP_SYS_NICE: the limits do not bind it. */
        bool nonroot = u->user && *u->user && !streq(u->user, "root") && !streq(u->user, "0");
        if (rt && nonroot) {
                if (known(u->limit_memlock) && u->limit_memlock != SDUNIT_INFINITY && u->limit_memlock < memlock_min)
                        pr |= UL_MEMLOCK;
                uint64_t need = u->sched_priority > 0 ? (uint64_t)u->sched_priority : 1;
                if (known(u->limit_rtprio) && u->limit_rtprio != SDUNIT_INFINITY && u->limit_rtprio < need)
                        pr |= UL_RTPRIO;
        }
        return pr;
}

void units_age_text(uint64_t ts_us, uint64_t now_us, char *buf, size_t n)
{
        if (!ts_us) {
                snprintf(buf, n, "never");
                return;
        }
        if (ts_us > now_us) {
                snprintf(buf, n, "in the future (clock went back?)");
                return;
        }
        uint64_t s = (now_us - ts_us) / 1000000;
        if (s < 60)
                snprintf(buf, n, "%" PRIu64 "s ago", s);
        else if (s < 3600)
                snprintf(buf, n, "%" PRIu64 "min %" PRIu64 "s ago", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, n, "%" PRIu64 "h %" PRIu64 "min ago", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, n, "%" PRIu64 " days %" PRIu64 "h ago", s / 86400, s % 86400 / 3600);
}

static const char *policy_name(int32_t p)
{
        switch (p) {
        case 0: return "other";
        case 1: return "fifo";
        case 2: return "rr";
        case 3: return "batch";
        case 5: return "idle";
        default: return "?";
        }
}

char *units_status_text(const struct sdunit *u, uint64_t now_us)
{
        struct strbuf b = {0};
        char age[64], t1[32], t2[32], t3[32], t4[32], t5[32];
        sb_printf(&b, "* %s - %s\n", u->id ? u->id : "?", u->description ? u->description : "");
        sb_printf(&b, "     Loaded: %s (%s; %s)\n", u->load_state ? u->load_state : "?",
                  u->fragment_path && *u->fragment_path ? u->fragment_path : "no unit file",
                  u->unit_file_state && *u->unit_file_state ? u->unit_file_state : "?");
        for (size_t i = 0; i < u->ndrop_ins; i++)
                sb_printf(&b, "    Drop-In: %s\n", u->drop_ins[i]);
        uint64_t since = u->active_state && streq(u->active_state, "active") ? u->active_enter_us : u->inactive_exit_us;
        units_age_text(since, now_us, age, sizeof(age));
        sb_printf(&b, "     Active: %s (%s)%s%s\n", u->active_state ? u->active_state : "?", u->sub_state ? u->sub_state : "?",
                  since ? " since " : "", since ? age : "");
        for (size_t i = 0; i < u->ntriggered_by; i++)
                sb_printf(&b, "TriggeredBy: %s\n", u->triggered_by[i]);
        if (u->is_service) {
                units_age_text(u->exec_main_start_us, now_us, age, sizeof(age));
                sb_printf(&b, "   Main PID: %" PRIu32 "%s\n", u->main_pid, u->main_pid ? "" : " (none)");
                sb_printf(&b, "     Result: %s; last main process: code %" PRId32 ", status %" PRId32 ", started %s\n",
                          u->result ? u->result : "?", u->exec_main_code, u->exec_main_status, age);
                sb_printf(&b, "   Restarts: %" PRIu32 " automatic (NRestarts)\n", u->nrestarts);
                sb_printf(&b, "       User: %s\n", u->user && *u->user ? u->user : "root");
                sb_printf(&b, "     Limits: NOFILE %s, CORE %s, MEMLOCK %s, RTPRIO %s\n",
                          sdunit_limit_text(u->limit_nofile, false, t1), sdunit_limit_text(u->limit_core, true, t2),
                          sdunit_limit_text(u->limit_memlock, true, t3), sdunit_limit_text(u->limit_rtprio, false, t4));
                sb_printf(&b, "  Placement: CPUAffinity %s, CPUSchedulingPolicy %s, priority %" PRId32 ", MemoryMax %s\n",
                          u->cpu_affinity ? u->cpu_affinity : "all", policy_name(u->sched_policy), u->sched_priority,
                          sdunit_limit_text(u->memory_max, true, t5));
        }
        return sb_steal(&b);
}
