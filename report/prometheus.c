/* node_exporter textfile-collector format. */
#include "config.h"
#include "report/report.h"
#include "lib/escape.h"

/* Label values: any bytes from the host, one line, valid UTF-8, quotes escaped. */
static void label(FILE *out, const char *s)
{
        struct strbuf b = {0};
        esc_prom_label_value(&b, s);
        fputs(b.s, out);
        sb_free(&b);
}

static int status_value(enum severity s)
{
        return s == SEV_CRIT ? 2 : s == SEV_WARN ? 1 : s == SEV_UNKNOWN ? 3 : 0;
}

void report_prometheus(FILE *out, const struct report *rep)
{
        fputs("# HELP evodiag_check_status Verdict of one evodiag check: 0 ok/info/skipped, 1 warn, 2 crit, 3 unknown.\n"
              "# TYPE evodiag_check_status gauge\n", out);
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                        const struct finding *f = &rep->r[i].fs.v[k];
                        fputs("evodiag_check_status{collector=\"", out);
                        label(out, rep->r[i].c->name);
                        fputs("\",id=\"", out);
                        label(out, f->id);
                        fputs("\",subject=\"", out);
                        label(out, f->subject ? f->subject : "");
                        fprintf(out, "\",severity=\"%s\"} %d\n", severity_name(f->sev), status_value(f->sev));
                }
        fputs("# HELP evodiag_collector_up 1 if the collector ran to completion, 0 if it timed out or crashed.\n"
              "# TYPE evodiag_collector_up gauge\n", out);
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_SELECTED || r->status == RUN_NOT_APPLICABLE)
                        continue;
                fputs("evodiag_collector_up{collector=\"", out);
                label(out, r->c->name);
                fprintf(out, "\"} %d\n", r->status == RUN_OK);
        }
        fputs("# HELP evodiag_collector_duration_seconds Wall time of each collector.\n"
              "# TYPE evodiag_collector_duration_seconds gauge\n", out);
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_SELECTED || r->status == RUN_NOT_APPLICABLE)
                        continue;
                fputs("evodiag_collector_duration_seconds{collector=\"", out);
                label(out, r->c->name);
                fprintf(out, "\"} %.3f\n", (double)r->duration_ms / 1000.0);
        }
        size_t c[_SEV_MAX];
        report_count(rep, c);
        fputs("# HELP evodiag_findings Number of findings per severity.\n# TYPE evodiag_findings gauge\n", out);
        for (int s = 0; s < _SEV_MAX; s++)
                fprintf(out, "evodiag_findings{severity=\"%s\"} %zu\n", severity_name((enum severity)s), c[s]);
        fprintf(out, "# HELP evodiag_exit_code Exit code of the run (0 ok, 1 warn, 2 crit, 3 unknown).\n"
                     "# TYPE evodiag_exit_code gauge\nevodiag_exit_code %d\n", report_exit_code(rep));
        fprintf(out, "# HELP evodiag_last_run_timestamp_seconds When the run started.\n"
                     "# TYPE evodiag_last_run_timestamp_seconds gauge\nevodiag_last_run_timestamp_seconds %.3f\n",
                (double)rep->started_ms / 1000.0);
}
