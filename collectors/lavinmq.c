/* PLACEHOLDER: being written (issue 5). */
#include "config.h"
#include "collectors/collector.h"
static const struct check_info checks[] = {{0}};
static bool never(struct ctx *c) { return false; }
const struct collector lavinmq_collector = {.name = "lavinmq", .summary = "(in progress)", .checks = checks, .detect = never};
