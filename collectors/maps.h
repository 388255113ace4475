/* maps collector: decisions, declared here so the unit tests can call them. The
 * per-process usage helpers (and map_count_target) are lib/procscan.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/procscan.h"

/* The maps.lavinmq_limit verdict, in check and in watch alike (with lavinmq
 * running): warn when vm.max_map_count is below min ([maps] lavinmq_min). */
enum severity maps_lavinmq_limit_verdict(uint64_t max_map_count, uint64_t min);
