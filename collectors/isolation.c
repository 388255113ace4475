/* PLACEHOLDER: being written. */
#include "config.h"
#include "collectors/collector.h"
static const struct check_info checks[] = {{0}};
const struct collector isolation_collector = {.name = "isolation", .summary = "(in progress)", .checks = checks};
