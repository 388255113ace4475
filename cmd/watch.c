/* PLACEHOLDER: being written (issue 4). */
#include "config.h"
#include "cmd/cmd.h"
int cmd_watch(int argc, char **argv) { return usage_error("watch ", "not built yet"); }
