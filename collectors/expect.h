/* [expect] processes: the run's own check that each named process runs (collectors/expect.c). */
#pragma once
#include "collectors/runner.h"
#include "lib/conffile.h"

/* Does [expect] name processes? */
bool expect_processes_declared(const struct config *cfg);
/* evodiag.expected_process for each, read in a child under timeout_ms (and the run's
 * absolute deadline_ms, 0 = none), appended to *out. */
void expect_processes_check(const struct ctx *base, uint64_t timeout_ms, uint64_t deadline_ms, struct findings *out);
