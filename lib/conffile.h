/* The config file (INI, read with inih): [evodiag] for the run, [<collector>] for
 * each collector's tunables. Validation against what collectors declare lives in
 * collectors/conf.c, which knows the registry. */
#pragma once
#include <stddef.h>

#define CONFIG_DEFAULT_PATH "/etc/evodiag/evodiag.conf"

struct config_entry {
        char *section, *key, *value;
        int line;
};

struct config {
        char *path;
        struct config_entry *v;
        size_t n, cap;
};

/* Loads path into cfg ("/dev/null": no settings). Only a regular text file of at
 * most 1 MiB is read (a FIFO, directory or binary file is an error, never a hang).
 * Returns 0; -ENOENT when the file is absent (and cfg stays
 * empty); another -errno, or a positive line number on a syntax error, with a
 * message "file:line: why" in *err. */
int config_load(struct config *cfg, const char *path, char **err);
const struct config_entry *config_get(const struct config *cfg, const char *section, const char *key);
void config_free(struct config *cfg);
/* A setting from the command line (--pid sets [perf] pids): added after the file's,
 * so config_get() returns it (the last one wins). line is 0. */
void config_set(struct config *cfg, const char *section, const char *key, const char *value);
