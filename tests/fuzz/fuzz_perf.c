/* The perf collector's parsers of text a host or a bundle controls: the context-switch
 * lines of /proc/PID/task/TID/status, the [perf] pids and processes values of a
 * config file, and the busy-loop verdict's progress indicator (a management API's
 * /api/overview, lib/progress: what a server answers). The input goes through each. */
#include "tests/fuzz/fuzz.h"
#include "collectors/perf.h"
#include "lib/progress.h"

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

        struct progress_reading a, b;
        int r = progress_parse_overview((const char *)data, size, &a);
        if ((r == 0) != a.ok || (r < 0 && !a.err) || a.rate < 0)
                abort(); /* a reading, or a refusal that says why */
        static const char one[] = "{\"message_stats\":{\"publish\":1}}";
        (void)progress_parse_overview(one, strlen(one), &b);
        if (!a.ok && (progress_moved(&a, &b) || progress_moved(&b, &a)))
                abort(); /* no reading never counts as progress */
        progress_reading_free(&a);
        progress_reading_free(&b);
        free(s);
        return 0;
}
