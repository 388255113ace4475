/* PLACEHOLDER: being written. */
#include "config.h"
#include "collectors/collector.h"
static const struct check_info checks[] = {{0}};
const struct collector maps_collector = {.name = "maps", .summary = "(in progress)", .checks = checks};
