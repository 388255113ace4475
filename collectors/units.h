/* units collector: the decisions it is made of (units_format.c, pure), exported for
 * the unit tests, and what its files share. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/sdunit.h"
#include "lib/util.h"

/* units.state of a component unit. trigger_active: a unit that starts it on demand
 * (rpcbind.socket for rpcbind.service) is active. SEV_SKIPPED: the unit is not
 * installed (LoadState not-found): nothing to say. *why: a short reason. */
enum severity units_state_verdict(const struct sdunit *u, bool trigger_active, const char **why);

/* units.restarts: NRestarts counts systemd's automatic restarts since the unit was
 * last started by hand; the newest start is ExecMainStartTimestamp. warn when it
 * restarted and the newest start lies within window_us of now (it is flapping now),
 * info when the restarts are older, ok when none. All times CLOCK_REALTIME usec. */
enum severity units_restart_verdict(uint32_t nrestarts, uint64_t last_start_us, uint64_t now_us, uint64_t window_us);

enum {
        UL_CORE0 = 1 << 0,   /* LimitCORE=0: a crash leaves no core */
        UL_NOFILE = 1 << 1,  /* LimitNOFILE below what the broker needs */
        UL_MEMLOCK = 1 << 2, /* an RT unit's non-root user cannot lock enough memory */
        UL_RTPRIO = 1 << 3,  /* an RT unit's non-root user may not use its RT priority */
};
/* The limit problems of a unit. needs_nofile: it is the broker (LimitNOFILE checked
 * against nofile_min); rt: it runs SCHED_FIFO/RR (CPUSchedulingPolicy or its main
 * process), then LimitMEMLOCK below memlock_min and LimitRTPRIO below its priority
 * (or 0) count for a non-root User=. Unknown limits (not reported) are no problem. */
unsigned units_limit_problems(const struct sdunit *u, bool needs_nofile, uint64_t nofile_min, bool rt, uint64_t memlock_min);

/* A `systemctl status`-like text of a unit: state, main pid, result, restarts,
 * limits, placement, unit file and drop-ins. now_us: CLOCK_REALTIME. */
char *units_status_text(const struct sdunit *u, uint64_t now_us);
/* "3min 20s ago" style age of a CLOCK_REALTIME usec timestamp. */
void units_age_text(uint64_t ts_us, uint64_t now_us, char *buf, size_t n);

/* ---- shared by the collector's files ---- */

struct ctx;
struct sample;
/* The component units to ask for: the fixed ones, [units] extra_units, the
 * mediator's, and the loaded units matching [units] evo_glob (from the bus). NULL-
 * terminated, names deduplicated. */
char **units_component_names(struct ctx *c, struct sdunit_bus *b);
void units_names_free(char **v);
/* Opens the bus from [units] bus_address under the collector's deadline. */
int units_open(struct ctx *c, struct sdunit_bus *b, uint64_t cap_ms, char **why);
void units_sample(struct ctx *c, struct sample *s);
void units_free_state(void *state);
