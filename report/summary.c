/* What every renderer shares: counting, the worst severity, the exit code. */
#include "config.h"
#include "report/report.h"

#include <time.h>

void report_count(const struct report *rep, size_t counts[_SEV_MAX])
{
        memset(counts, 0, sizeof(size_t) * _SEV_MAX);
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++)
                        counts[rep->r[i].fs.v[k].sev]++;
}

enum severity report_worst(const struct report *rep)
{
        enum severity w = SEV_SKIPPED;
        for (size_t i = 0; i < rep->n; i++) {
                enum severity s = findings_worst(&rep->r[i].fs);
                if (s > w)
                        w = s;
        }
        return w;
}

int report_exit_code(const struct report *rep)
{
        return severity_exit_code(report_worst(rep));
}

void format_utc(uint64_t ms, char buf[static 32])
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
