/* The operator's view: grouped by collector, worst first, remedies under each
 * problem, the summary line last. */
#include "config.h"
#include "report/report.h"
#include "lib/escape.h"

enum { C_RESET, C_BOLD, C_DIM, C_RED, C_YELLOW, C_MAGENTA, C_GREEN, C_CYAN };
static const char *const ansi[] = {"\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[33m", "\033[35m", "\033[32m", "\033[36m"};

struct pen {
        FILE *out;
        bool color;
};

static const char *col(const struct pen *p, int c) { return p->color ? ansi[c] : ""; }

/* Values come from the host (names, argv, replies): control characters shown
 * escaped, so the only escape sequences on the terminal are our colours. */
static void put(const struct pen *p, const char *s)
{
        struct strbuf b = {0};
        esc_text(&b, s, 0);
        fputs(b.s, p->out);
        sb_free(&b);
}

static int sev_color(enum severity s)
{
        switch (s) {
        case SEV_CRIT: return C_RED;
        case SEV_WARN: return C_YELLOW;
        case SEV_UNKNOWN: return C_MAGENTA;
        case SEV_OK: return C_GREEN;
        case SEV_INFO: return C_CYAN;
        default: return C_DIM;
        }
}

static void upper(const char *s, char buf[static 16])
{
        size_t i = 0;
        for (; s[i] && i < 15; i++)
                buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
        buf[i] = 0;
}

static void detail(const struct pen *p, const char *label, const char *val)
{
        if (val && *val) {
                fprintf(p->out, "            %s%-9s%s ", col(p, C_DIM), label, col(p, C_RESET));
                put(p, val);
                fputc('\n', p->out);
        }
}

static void one(const struct pen *p, const struct finding *f, int verbose)
{
        char tag[16];
        upper(severity_name(f->sev), tag);
        fprintf(p->out, "  %s%-8s%s %s", col(p, sev_color(f->sev)), tag, col(p, C_RESET), col(p, C_BOLD));
        put(p, f->id);
        fprintf(p->out, "%s  ", col(p, C_RESET));
        put(p, f->summary);
        fputc('\n', p->out);
        bool problem = f->sev >= SEV_UNKNOWN;
        if (problem || verbose) {
                detail(p, "expected:", f->expected);
                detail(p, "found:", f->actual);
        }
        if (problem || f->sev == SEV_INFO || f->sev == SEV_SKIPPED || verbose)
                detail(p, "remedy:", f->remedy);
        if (problem || verbose)
                detail(p, "evidence:", f->evidence);
}

static int by_severity_desc(const void *a, const void *b)
{
        const struct finding *x = *(const struct finding *const *)a, *y = *(const struct finding *const *)b;
        return (int)y->sev - (int)x->sev;
}

void report_text(FILE *out, const struct report *rep, bool color, int verbose)
{
        struct pen p = {out, color};
        struct strbuf na = {0}, ns = {0};
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_APPLICABLE) {
                        sb_printf(&na, "%s%s", na.len ? ", " : "", r->c->name);
                        continue;
                }
                if (r->status == RUN_NOT_SELECTED) {
                        sb_printf(&ns, "%s%s (", ns.len ? ", " : "", r->c->name);
                        esc_text(&ns, r->note, 0);
                        sb_putc(&ns, ')');
                        continue;
                }
                fprintf(out, "%s%s%s — %s", col(&p, C_BOLD), r->c->name, col(&p, C_RESET), r->c->summary);
                if (verbose)
                        fprintf(out, " %s(%llu ms)%s", col(&p, C_DIM), (unsigned long long)r->duration_ms, col(&p, C_RESET));
                fputc('\n', out);
                /* Stable sort by severity: qsort on pointers with index tiebreak. */
                const struct finding **v = xcalloc(r->fs.n, sizeof(*v));
                for (size_t k = 0; k < r->fs.n; k++)
                        v[k] = &r->fs.v[k];
                for (size_t a = 1; a < r->fs.n; a++) /* insertion sort: stable, n is small */
                        for (size_t b = a; b > 0 && by_severity_desc(&v[b - 1], &v[b]) > 0; b--) {
                                const struct finding *t = v[b];
                                v[b] = v[b - 1];
                                v[b - 1] = t;
                        }
                for (size_t k = 0; k < r->fs.n; k++)
                        one(&p, v[k], verbose);
                if (!r->fs.n && (r->status == RUN_TIMEOUT || r->status == RUN_CRASHED)) { /* not "no findings": none were made */
                        fprintf(out, "  %s(not finished: ", col(&p, C_DIM));
                        put(&p, r->note ? r->note : run_status_name(r->status));
                        fprintf(out, ")%s\n", col(&p, C_RESET));
                } else if (!r->fs.n) {
                        fprintf(out, "  %s(no findings)%s\n", col(&p, C_DIM), col(&p, C_RESET));
                }
                free(v);
                fputc('\n', out);
        }
        if (na.len)
                fprintf(out, "%snot relevant on this host: %s%s\n", col(&p, C_DIM), na.s, col(&p, C_RESET));
        if (ns.len && verbose)
                fprintf(out, "%snot run: %s%s\n", col(&p, C_DIM), ns.s, col(&p, C_RESET));
        sb_free(&na);
        sb_free(&ns);

        size_t c[_SEV_MAX];
        report_count(rep, c);
        enum severity w = report_worst(rep);
        char tag[16];
        upper(w >= SEV_UNKNOWN ? severity_name(w) : "ok", tag);
        fprintf(out, "%s%s%s: %zu crit, %zu warn, %zu unknown, %zu ok, %zu info, %zu skipped in %llu ms — exit %d\n",
                col(&p, sev_color(w >= SEV_UNKNOWN ? w : SEV_OK)), tag, col(&p, C_RESET), c[SEV_CRIT], c[SEV_WARN],
                c[SEV_UNKNOWN], c[SEV_OK], c[SEV_INFO], c[SEV_SKIPPED], (unsigned long long)rep->duration_ms,
                report_exit_code(rep));
}
