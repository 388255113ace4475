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
        unsigned esc; /* esc_text flags: ESC_ASCII on a terminal that is not UTF-8 */
        const char *dash;
};

static const char *col(const struct pen *p, int c) { return p->color ? ansi[c] : ""; }

/* Values come from the host (names, argv, replies): control characters shown
 * escaped, so the only escape sequences on the terminal are our colours. */
static void put(const struct pen *p, const char *s)
{
        struct strbuf b = {0};
        esc_text(&b, s, p->esc);
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

static void tag(const struct pen *p, enum severity s)
{
        char t[16];
        upper(severity_name(s), t);
        fprintf(p->out, "  %s%-8s%s ", col(p, sev_color(s)), t, col(p, C_RESET));
}

static bool is_problem(const struct finding *f) { return f->sev >= SEV_UNKNOWN; }

static void one(const struct pen *p, const struct finding *f, int verbose)
{
        tag(p, f->sev);
        fputs(col(p, C_BOLD), p->out);
        put(p, f->id);
        fprintf(p->out, "%s  ", col(p, C_RESET));
        put(p, f->summary);
        fputc('\n', p->out);
        bool problem = is_problem(f);
        if (problem || verbose) {
                detail(p, "expected:", f->expected);
                detail(p, "found:", f->actual);
        }
        if (problem || f->sev == SEV_INFO || f->sev == SEV_SKIPPED || verbose)
                detail(p, "remedy:", f->remedy);
        if (problem || verbose)
                detail(p, "evidence:", f->evidence);
}

/* Worst first; equal severities keep their order (insertion sort: stable, n is small). */
static void sort_worst_first(const struct finding **v, size_t n)
{
        for (size_t a = 1; a < n; a++)
                for (size_t b = a; b > 0 && v[b - 1]->sev < v[b]->sev; b--) {
                        const struct finding *t = v[b];
                        v[b] = v[b - 1];
                        v[b - 1] = t;
                }
}

static void group(const struct pen *p, const struct run_result *r, int verbose)
{
        FILE *out = p->out;
        fprintf(out, "%s%s%s %s ", col(p, C_BOLD), r->c->name, col(p, C_RESET), p->dash);
        put(p, r->c->summary);
        if (verbose)
                fprintf(out, " %s(%llu ms)%s", col(p, C_DIM), (unsigned long long)r->duration_ms, col(p, C_RESET));
        fputc('\n', out);
        const struct finding **v = xcalloc(r->fs.n + 1, sizeof(*v));
        size_t n = 0, ok = 0;
        for (size_t k = 0; k < r->fs.n; k++) {
                if (r->fs.v[k].sev == SEV_OK && !verbose)
                        ok++; /* folded into one line: the problems are what the eye must find */
                else
                        v[n++] = &r->fs.v[k];
        }
        sort_worst_first(v, n);
        for (size_t k = 0; k < n; k++)
                one(p, v[k], verbose);
        if (ok) {
                tag(p, SEV_OK);
                fprintf(out, "%zu check%s ok %s(-v lists them)%s\n", ok, ok == 1 ? "" : "s", col(p, C_DIM), col(p, C_RESET));
        }
        if (!r->fs.n && (r->status == RUN_TIMEOUT || r->status == RUN_CRASHED)) { /* not "no findings": none were made */
                fprintf(out, "  %s(not finished: ", col(p, C_DIM));
                put(p, r->note ? r->note : run_status_name(r->status));
                fprintf(out, ")%s\n", col(p, C_RESET));
        } else if (!r->fs.n) {
                fprintf(out, "  %s(no findings)%s\n", col(p, C_DIM), col(p, C_RESET));
        }
        free(v);
        fputc('\n', out);
}

/* "Problems": every crit, warn and unknown, worst first, one line each (ID,
 * subject, what) and its remedy's first line: what an operator pastes into a chat. */
static void problems(const struct pen *p, const struct report *rep)
{
        size_t n = 0;
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++)
                        n += is_problem(&rep->r[i].fs.v[k]);
        if (!n)
                return;
        const struct finding **v = xcalloc(n, sizeof(*v));
        size_t m = 0;
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++)
                        if (is_problem(&rep->r[i].fs.v[k]))
                                v[m++] = &rep->r[i].fs.v[k];
        sort_worst_first(v, m);
        fprintf(p->out, "%sProblems%s (%zu, worst first):\n", col(p, C_BOLD), col(p, C_RESET), n);
        for (size_t k = 0; k < m; k++) {
                const struct finding *f = v[k];
                tag(p, f->sev);
                fputs(col(p, C_BOLD), p->out);
                put(p, f->id);
                fputs(col(p, C_RESET), p->out);
                if (f->subject && *f->subject && !startswith(f->summary, f->subject)) { /* else it says it already */
                        fputs(" [", p->out);
                        put(p, f->subject);
                        fputc(']', p->out);
                }
                fputs(": ", p->out);
                put(p, f->summary);
                fputc('\n', p->out);
                if (f->remedy && *f->remedy) {
                        size_t len = strcspn(f->remedy, "\n");
                        bool more = f->remedy[len] != 0;
                        if (len > 200) {
                                len = 200;
                                more = true;
                        }
                        struct strbuf b = {0};
                        esc_text_n(&b, f->remedy, len, p->esc);
                        fprintf(p->out, "            %sfix:%s %s%s\n", col(p, C_DIM), col(p, C_RESET), b.s, more ? " ..." : "");
                        sb_free(&b);
                }
        }
        free(v);
        fputc('\n', p->out);
}

void report_text_ex(FILE *out, const struct report *rep, const struct render_opts *o)
{
        struct pen p = {out, o->color, o->ascii ? ESC_ASCII : 0, o->ascii ? "-" : "\u2014"};
        int verbose = o->verbose;
        struct strbuf na = {0}, ns = {0};
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_APPLICABLE) {
                        sb_printf(&na, "%s%s", na.len ? ", " : "", r->c->name);
                        continue;
                }
                if (r->status == RUN_NOT_SELECTED) {
                        sb_printf(&ns, "%s%s (", ns.len ? ", " : "", r->c->name);
                        esc_text(&ns, r->note, p.esc);
                        sb_putc(&ns, ')');
                        continue;
                }
                if (!o->problems_only)
                        group(&p, r, verbose);
        }
        if (na.len && !o->problems_only)
                fprintf(out, "%snot relevant on this host: %s%s\n\n", col(&p, C_DIM), na.s, col(&p, C_RESET));
        if (ns.len && verbose && !o->problems_only)
                fprintf(out, "%snot run: %s%s\n\n", col(&p, C_DIM), ns.s, col(&p, C_RESET));
        sb_free(&na);
        sb_free(&ns);
        problems(&p, rep);

        size_t c[_SEV_MAX];
        report_count(rep, c);
        enum severity w = report_worst(rep);
        char t[16];
        upper(w >= SEV_UNKNOWN ? severity_name(w) : "ok", t);
        char ign[48] = "";
        if (rep->ignored)
                snprintf(ign, sizeof(ign), ", %zu ignored", rep->ignored);
        fprintf(out, "%s%s%s: %zu crit, %zu warn, %zu unknown, %zu ok, %zu info, %zu skipped%s in %llu ms %s exit %d\n",
                col(&p, sev_color(w >= SEV_UNKNOWN ? w : SEV_OK)), t, col(&p, C_RESET), c[SEV_CRIT], c[SEV_WARN],
                c[SEV_UNKNOWN], c[SEV_OK], c[SEV_INFO], c[SEV_SKIPPED], ign, (unsigned long long)rep->duration_ms, p.dash,
                report_exit_code(rep));
}

void report_text(FILE *out, const struct report *rep, bool color, int verbose)
{
        report_text_ex(out, rep, &(struct render_opts){.color = color, .verbose = verbose});
}
