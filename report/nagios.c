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

static void problem_text(struct strbuf *b, const struct finding *f, size_t max)
{
        esc_nagios_text(b, f->id, 0);
        if (f->subject && *f->subject) {
                sb_puts(b, " [");
                esc_nagios_text(b, f->subject, 200);
                sb_puts(b, "]");
        }
        sb_puts(b, ": ");
        esc_nagios_text(b, f->summary, max);
}

/* The first line names up to five problems, worst first; the long output after it has
 * one line per problem, all of them. Counts in the text and the perfdata are the same
 * numbers (report_count): "6 ok, 1 info" beside ok=6 info=1. */
void report_nagios(FILE *out, const struct report *rep)
{
        static const char *const status[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
        static const char *const tag[_SEV_MAX] = {[SEV_UNKNOWN] = "UNKNOWN", [SEV_WARN] = "WARNING", [SEV_CRIT] = "CRITICAL"};
        int code = report_exit_code(rep);
        size_t c[_SEV_MAX];
        report_count(rep, c);
        struct strbuf b = {0}, lng = {0};
        sb_printf(&b, "EVODIAG %s - ", status[code]);
        sb_puts(&lng, "");
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
                                        problem_text(&b, f, SUMMARY_MAX);
                                }
                                shown++;
                                sb_printf(&lng, "%s ", tag[s]);
                                problem_text(&lng, f, 0);
                                sb_putc(&lng, '\n');
                        }
        if (shown > 5)
                sb_printf(&b, "; and %zu more", shown - 5);
        if (!shown)
                sb_printf(&b, "%zu ok, %zu info, %zu skipped", c[SEV_OK], c[SEV_INFO], c[SEV_SKIPPED]);
        sb_puts(&b, " |");
        perf(&b, "crit", c[SEV_CRIT]);
        perf(&b, "warn", c[SEV_WARN]);
        perf(&b, "unknown", c[SEV_UNKNOWN]);
        perf(&b, "ok", c[SEV_OK]);
        perf(&b, "info", c[SEV_INFO]);
        perf(&b, "skipped", c[SEV_SKIPPED]);
        sb_puts(&b, " ");
        esc_nagios_label(&b, "duration");
        sb_printf(&b, "=%.3fs\n", (double)rep->duration_ms / 1000.0);
        fputs(b.s, out);
        fputs(lng.s, out);
        sb_free(&b);
        sb_free(&lng);
}
