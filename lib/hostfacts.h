/* Host facts for reports (ISSUE.md's environment and configuration): what the host is
 * (OS, kernel, architecture, CPUs, memory) and how it is set up (kernel command line,
 * sysctls, limits), read through rootfs so --root works. Raw values only: what is decided
 * from them (PREEMPT_RT or not, whether a limit is too low) is a collector's finding,
 * decided there once. hostfacts_read() reads the host: run it in a child under a
 * deadline, like every other read of the host. */
#pragma once
#include <json-c/json.h>

#define OSRELEASE_MAX (64u << 10)

/* The value of KEY in an os-release(5) text (KEY=value lines, shell quoting: '...' kept
 * literally, "..." and unquoted values with backslash escapes). Returns 0 with a new
 * string in *out, -ENOENT when KEY is not set, -EINVAL when its line is malformed. */
int osrelease_value(const char *text, const char *key, char **out);

/* {"os": {pretty_name, kernel_release, kernel_version, machine, cpus, cpus_online, memory},
 *  "config": {cmdline, isolated, nohz_full, rt_runtime_us, shmmax, shmall, shmmni,
 *             max_map_count, file_max, hugepages, thp, limits},
 *  "disks": [{path, df}]}: df of /dev/shm and / ("not measured" under --root)
 * Every key is present; null where the host did not say. */
json_object *hostfacts_read(void);
