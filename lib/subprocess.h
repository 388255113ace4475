/* External commands (nvidia-smi, perf, ipcs...) always run with a deadline: a
 * command that hangs is killed with its whole process group. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cmd_result {
        char *out;        /* stdout and stderr, interleaved, NUL-terminated */
        size_t len;
        int status;       /* wait status; -1 if it could not be started or reaped */
        bool timed_out;
        bool truncated;   /* more than max_out bytes */
        uint64_t duration_ms;
        char *error;      /* "not found", "timed out after 2000 ms", "exited with status 1" */
};

/* Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, capturing up to
 * max_out bytes, killed after timeout_ms. Returns 0 if it ran and exited 0. */
int cmd_run(const char *const argv[], uint64_t timeout_ms, size_t max_out, struct cmd_result *r);
void cmd_result_free(struct cmd_result *r);
