/* Monitoring-plugins output: one status line naming the problems, perfdata after '|'.
 * Host values are made one line each and cannot start perfdata (lib/escape.h). */
#include "config.h"
#include "report/report.h"
#include "lib/escape.h"

/* Nagios 3 keeps 4 KiB of the first line: five summaries of this size and the perfdata fit. */
#define SUMMARY_MAX 400

static void perf(struct strbuf *b, const char *label, size_t v)
{
        sb_putc(b, ' ');
        esc_nagios_label(b, label);
        sb_printf(b, "=%zu;;;0", v);
}

void report_nagios(FILE *out, const struct report *rep)
{
        static const char *const status[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
        int code = report_exit_code(rep);
        size_t c[_SEV_MAX];
        report_count(rep, c);
        struct strbuf b = {0};
        sb_printf(&b, "EVODIAG %s - ", status[code]);
        size_t shown = 0;
        for (int s = SEV_CRIT; s >= SEV_UNKNOWN; s--)
                for (size_t i = 0; i < rep->n; i++)
                        for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                                const struct finding *f = &rep->r[i].fs.v[k];
                                if ((int)f->sev != s)
                                        continue;
                                if (shown < 5) {
                                        if (shown)
                                                sb_puts(&b, "; ");
                                        esc_nagios_text(&b, f->id, 0);
                                        sb_puts(&b, ": ");
                                        esc_nagios_text(&b, f->summary, SUMMARY_MAX);
                                }
                                shown++;
                        }
        if (shown > 5)
                sb_printf(&b, "; and %zu more", shown - 5);
        if (!shown)
                sb_printf(&b, "%zu checks ok", c[SEV_OK] + c[SEV_INFO]);
        sb_puts(&b, " |");
        perf(&b, "crit", c[SEV_CRIT]);
        perf(&b, "warn", c[SEV_WARN]);
        perf(&b, "unknown", c[SEV_UNKNOWN]);
        perf(&b, "ok", c[SEV_OK]);
        sb_puts(&b, " ");
        esc_nagios_label(&b, "duration");
        sb_printf(&b, "=%.3fs\n", (double)rep->duration_ms / 1000.0);
        fputs(b.s, out);
        sb_free(&b);
}
