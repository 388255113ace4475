/* The perf collector's parsers of text a host or a bundle controls: the context-switch
 * lines of /proc/PID/task/TID/status, and the [perf] pids and processes values of a
 * config file. The input goes through each. */
#include "tests/fuzz/fuzz.h"
#include "collectors/perf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        uint64_t v, iv;
        (void)perf_status_switches(s, &v, &iv);

        int pids[PERF_PIDS_MAX];
        char *why = NULL;
        int n = perf_parse_pids(s, pids, PERF_PIDS_MAX, &why);
        if (n < 0 && !why)
                abort(); /* every refusal says why */
        for (int i = 0; i < n; i++)
                if (pids[i] <= 0 || pids[i] > PERF_PID_MAX)
                        abort();
        free(why);

        char name[65], user[65];
        if (perf_process_entry(s, name, sizeof(name), user, sizeof(user)) == 0 && (!*name || strchr(name, ':') || strchr(user, ':')))
                abort();
        free(s);
        return 0;
}
