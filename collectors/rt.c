/* PLACEHOLDER: being written. */
#include "config.h"
#include "collectors/collector.h"
static const struct check_info checks[] = {{0}};
const struct collector rt_collector = {.name = "rt", .summary = "(in progress)", .checks = checks};
