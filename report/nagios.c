/* Monitoring-plugins output: one status line naming the problems, perfdata after '|'. */
#include "config.h"
#include "report/report.h"

void report_nagios(FILE *out, const struct report *rep)
{
        static const char *const status[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
        int code = report_exit_code(rep);
        size_t c[_SEV_MAX];
        report_count(rep, c);
        fprintf(out, "EVODIAG %s - ", status[code]);
        size_t shown = 0;
        for (int s = SEV_CRIT; s >= SEV_UNKNOWN; s--)
                for (size_t i = 0; i < rep->n; i++)
                        for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                                const struct finding *f = &rep->r[i].fs.v[k];
                                if ((int)f->sev != s)
                                        continue;
                                if (shown < 5) {
                                        /* '|' would start perfdata: keep it out of the text. */
                                        fprintf(out, "%s%s: ", shown ? "; " : "", f->id);
                                        for (const char *p = f->summary; *p; p++)
                                                fputc(*p == '|' ? '/' : *p, out);
                                }
                                shown++;
                        }
        if (shown > 5)
                fprintf(out, "; and %zu more", shown - 5);
        if (!shown)
                fprintf(out, "%zu checks ok", c[SEV_OK] + c[SEV_INFO]);
        fprintf(out, " | crit=%zu;;;0 warn=%zu;;;0 unknown=%zu;;;0 ok=%zu;;;0 duration=%.3fs\n", c[SEV_CRIT],
                c[SEV_WARN], c[SEV_UNKNOWN], c[SEV_OK], (double)rep->duration_ms / 1000.0);
}
