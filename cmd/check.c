/* evodiag check: every relevant check, verdict + expected vs found + remedy. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "collectors/expect.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/escape.h"
#include "lib/expect.h"
#include "lib/journal.h"
#include "report/report.h"
#include "report/from.h"
#include "report/prometheus.h"

#include <errno.h>
#include <sys/stat.h>

enum { OPT_FROM = OPTS_OWN, OPT_FORMAT, OPT_JSON, OPT_SINCE, OPT_UNTIL, OPT_TEXTFILE, OPT_ID, OPT_PROBLEMS = 'q' };

static const struct opt check_opts[] = {
        {"from", OPT_FROM, "BUNDLE|DIR", "re-run every check offline on a bundle's evidence (unpacked\n"
                                         "safely to a private temp dir) and compare with its recorded findings"},
        {"format", OPT_FORMAT, "FMT", "text (default), json, nagios or prometheus"},
        {"json", OPT_JSON, NULL, "same as --format json"},
        {"problems", OPT_PROBLEMS, NULL, "print only the problems (crit, warn, unknown) and the summary"},
        {"id", OPT_ID, "ID", "judge only this check (as a monitoring plugin: one service per ID)"},
        {"textfile", OPT_TEXTFILE, "DIR", "also write DIR/evodiag.prom for node_exporter's textfile\n"
                                          "collector, replaced atomically (whatever the verdict)"},
        {"since", OPT_SINCE, "TIME", "journal window start: 2h (ago), 'YYYY-MM-DD HH:MM', @EPOCH\n"
                                     "(default 1h)"},
        {"until", OPT_UNTIL, "TIME", "journal window end (default now)"},
        {0},
};

const struct verb_spec check_verb = {
        .name = "check",
        .about = "Runs every check that applies to this host and prints, for each, the verdict,\n"
                 "what was expected, what was found and the remedy. Each collector runs in its\n"
                 "own child under a deadline, so a hung file system or a dead device cannot hang\n"
                 "the run. Nothing is signalled, locked or written unless --allow-intrusive.\n"
                 "The text report ends with the problems, worst first, above the summary line;\n"
                 "ok checks are folded into one count per collector. -v lists them, adds\n"
                 "durations and expected/found for every check.\n",
        .opts = check_opts,
        .common = COMMON_ONLY_SKIP | COMMON_ROOT | COMMON_CONFIG | COMMON_TIMEOUT | COMMON_COLLECTOR_TIMEOUT |
                  COMMON_ALLOW_INTRUSIVE | COMMON_COLOR | COMMON_VERBOSE | COMMON_PID | COMMON_JOURNAL,
        .epilogue = "Exit status: 0 all ok, 1 warning, 2 critical, 3 unknown (or usage error).\n"
                    "Durations: 500ms, 5s, 2m. 'evodiag explain ID' tells what a check means.\n"
                    "\n"
                    "Examples:\n"
                    "  evodiag check                      # the whole host\n"
                    "  evodiag check --only shm,hugepages # just these\n"
                    "  evodiag check --format nagios      # for a monitoring system\n"
                    "  evodiag check --format nagios --id fds.system   # one service per check ID\n"
                    "  evodiag check -q                   # the problems only: paste into a chat\n"
                    "  evodiag check --textfile /var/lib/prometheus/node-exporter >/dev/null\n",
};

/* ---- --from: a bundle's evidence as the root, its findings.json as the reference ---- */

/* Unpacked and parsed in a child under the run's deadline (report/from.c); here only
 * the checked result: the replayed reads, and which collectors ran. */
static int open_bundle(const char *from, uint64_t deadline_ms, struct from_bundle *fb, char ***ran)
{
        char *e = NULL;
        if (from_open(from, deadline_ms, fb, &e) < 0) {
                err("--from %s: %s", from, e);
                free(e);
                return EXIT_USAGE;
        }
        manifest_apply(&fb->info);
        /* By default re-run what the bundle ran: other collectors would judge missing evidence. */
        const struct bundle_collector *bc = fb->info.collectors.v;
        if (fb->info.findings_problem)
                return 0;
        size_t k = 0;
        *ran = xcalloc(fb->info.collectors.n + 1, sizeof(char *));
        for (size_t i = 0; i < fb->info.collectors.n; i++)
                if (bc[i].status && (streq(bc[i].status, "ok") || streq(bc[i].status, "not_applicable")) && collector_find(bc[i].name))
                        (*ran)[k++] = xstrdup(bc[i].name);
        return 0;
}

/* Every collector that ran in both: same findings? Into *out (the JSON document's
 * "from"); the details with -v on stderr. */
static void compare_with_recorded(const struct from_bundle *fb, const struct report *rep, int verbose, struct report_from *out)
{
        out->host = fb->info.host;
        out->captured = fb->info.captured;
        if (fb->info.findings_problem) {
                out->problem = fb->info.findings_problem;
                return;
        }
        const struct bundle_collector *bc = fb->info.collectors.v;
        size_t same = 0, differ = 0, nc = fb->info.collectors.n, nd = 0;
        out->differing = xcalloc(rep->n + 1, sizeof(char *));
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status != RUN_OK)
                        continue;
                for (size_t k = 0; k < nc; k++) {
                        if (!streq(bc[k].name, r->c->name) || !bc[k].status || !streq(bc[k].status, "ok"))
                                continue;
                        _cleanup_free_ char *b = bundle_canon(&r->fs);
                        const char *a = bc[k].canon ? bc[k].canon : "";
                        if (streq(a, b)) {
                                same++;
                        } else {
                                differ++;
                                if (nd < rep->n)
                                        out->differing[nd++] = xstrdup(r->c->name);
                                if (verbose) {
                                        struct strbuf ea = {0}, eb = {0};
                                        esc_text(&ea, a, ESC_KEEP_NL);
                                        esc_text(&eb, b, ESC_KEEP_NL);
                                        fprintf(stderr, "evodiag: %s recorded:\n%sevodiag: %s now:\n%s", r->c->name, ea.s, r->c->name, eb.s);
                                        sb_free(&ea);
                                        sb_free(&eb);
                                }
                        }
                }
        }
        out->agree = same;
        out->differ = differ;
}

/* One line on stderr for people (the JSON document carries it too). */
static void say_compared(const struct report_from *f)
{
        if (f->problem) {
                err("--from: %s", f->problem);
                return;
        }
        struct strbuf which = {0};
        for (char **p = f->differing; p && *p; p++)
                sb_printf(&which, " %s", *p);
        fprintf(stderr, "evodiag: re-checked offline: %zu collectors agree with the bundle's recorded findings, %zu differ%s%s\n",
                f->agree, f->differ, f->differ ? ":" : "", which.len ? which.s : "");
        sb_free(&which);
}

/* [ignore] findings: left out of the report and the verdict; returns how many. */
static bool ignored_one(const struct finding *f, void *arg)
{
        return ignore_match(arg, f->id, f->subject);
}

static size_t apply_ignore(const struct config *cfg, struct run_result *res, size_t n)
{
        const struct config_entry *e = config_get(cfg, "ignore", "findings");
        struct ignore_list il;
        _cleanup_free_ char *why = NULL;
        if (!e || ignore_parse(e->value, &il, &why) < 0) /* validated when the config was loaded */
                return 0;
        size_t ignored = 0;
        for (size_t i = 0; i < n; i++)
                ignored += findings_drop(&res[i].fs, ignored_one, &il);
        ignore_free(&il);
        return ignored;
}

struct check_out {
        enum format fmt;
        struct render_opts ro;
        const char *from, *textfile, *id;
};

/* --id: only that check's findings; none is unknown, saying why (never a silent ok). */
static void keep_only_id(struct report *rep, const char *id)
{
        const struct collector *owner = NULL;
        check_find(id, &owner);
        for (size_t i = 0; i < rep->n; i++) {
                struct run_result *r = &rep->r[i];
                if (findings_keep_id(&r->fs, id) || r->c != owner)
                        continue;
                const char *why = r->status == RUN_NOT_APPLICABLE ? "is not relevant on this host"
                                : r->status == RUN_NOT_SELECTED   ? "was not run"
                                : r->status == RUN_OK             ? "gave no verdict for it"
                                                                  : "did not finish";
                struct finding *f = fnd_add(&r->fs, SEV_UNKNOWN, id, "no verdict for %s: collector %s %s%s%s%s", id, owner->name,
                                            why, r->note ? " (" : "", r->note ? r->note : "", r->note ? ")" : "");
                fnd_remedy(f, "evodiag check --only %s -v   # the collector's whole report", owner->name);
        }
}

static void render_check_prom(FILE *f, const void *arg) { report_prometheus(f, arg); }

static int run_and_report(struct common *c, const struct check_out *o, struct from_bundle *src, uint64_t t0)
{
        _cleanup_free_ char *host = src ? xstrdup(src->info.host) : inspected_hostname(c);
        struct report rep = {.root = rootfs_get(), .started_ms = now_ms_realtime(), .host = host};
        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *res = xcalloc(n + 1, sizeof(*res)); /* + the run's own, when nothing was checked */
        struct run_opts ro = {
                .deadline_ms = t0 + c->timeout_ms, .default_timeout_ms = c->collector_timeout_ms, .parallel = c->parallel,
                .only = (const char *const *)c->only, .skip = (const char *const *)c->skip,
        };
        if (c->verbose)
                fprintf(stderr, "evodiag: collectors run %u at a time ([evodiag] parallel)\n", c->parallel);
        run_collectors(&c->ctx, &ro, res, &rep.n);
        /* The run's own findings: [expect] processes (a run not limited by --only), or
         * that nothing was checked at all. */
        struct run_result *self = &res[rep.n];
        *self = (struct run_result){.c = &run_self, .status = RUN_OK};
        if (!c->only && !src && expect_processes_declared(&c->cfg))
                expect_processes_check(&c->ctx, c->collector_timeout_ms, ro.deadline_ms, &self->fs);
        if (self->fs.n || run_nothing_checked(res, rep.n, self))
                rep.n++;
        rep.ignored = apply_ignore(&c->cfg, res, rep.n);
        rep.r = res;
        rep.duration_ms = now_ms_monotonic() - t0;
        if (o->id)
                keep_only_id(&rep, o->id);
        struct report_from rf = {.bundle = o->from};
        if (src) {
                compare_with_recorded(src, &rep, c->verbose, &rf);
                rep.from = &rf;
        }
        report_render(stdout, o->fmt, &rep, &o->ro);
        output_document_written();
        fflush(stdout);
        int r = report_exit_code(&rep);
        if (src)
                say_compared(&rf);
        if (o->textfile) {
                struct prom_textfile tf = {.dir = o->textfile, .name = "evodiag.prom", .host = rep.host};
                _cleanup_free_ char *why = NULL;
                if (prom_textfile_write_with(&tf, render_check_prom, &rep, &why) < 0) {
                        err("%s", why);
                        r = EXIT_USAGE; /* the monitoring system keeps nothing: unknown */
                }
                prom_textfile_done(&tf);
        }
        strv_free(rf.differing);
        run_results_free(res, rep.n);
        free(res);
        return r;
}

int cmd_check(int argc, char **argv)
{
        struct common c = {0};
        struct check_out co = {.fmt = FMT_TEXT};
        enum format fmt = FMT_TEXT;
        const char *from = NULL;
        struct from_bundle src = {0};
        char **ran = NULL;
        int o, r = 0;
        struct opts p;
        opts_init(&p, &check_verb, &c, argc, argv);
        while ((o = opts_next(&p)) > 0) {
                switch (o) {
                case OPT_FROM: from = p.arg; break;
                case OPT_FORMAT:
                        if (format_from_name(p.arg, &fmt) < 0) {
                                r = usage_error("check", "--format: '%s' is not one of text, json, nagios, prometheus", p.arg);
                                goto out;
                        }
                        break;
                case OPT_JSON: fmt = FMT_JSON; break;
                case OPT_PROBLEMS: co.ro.problems_only = true; break;
                case OPT_TEXTFILE: co.textfile = p.arg; break;
                case OPT_ID: co.id = p.arg; break;
                case OPT_SINCE:
                case OPT_UNTIL: {
                        uint64_t t;
                        if (journal_parse_time(p.arg, now_ms_realtime() * 1000, &t) < 0) {
                                r = usage_error("check", "%s: '%s' is not a time (e.g. 2h, 30m, '2025-01-20 10:00', @1700000000)",
                                                o == OPT_SINCE ? "--since" : "--until", p.arg);
                                goto out;
                        }
                        *(o == OPT_SINCE ? &c.since : &c.until) = p.arg;
                        break;
                }
                }
        }
        if (o < 0) {
                r = p.rc;
                goto out;
        }
        if (from && c.root) {
                r = usage_error("check", "--from and --root cannot be combined (--from sets the root)");
                goto out;
        }
        if (co.textfile) {
                struct stat st;
                int e = stat(co.textfile, &st) < 0 ? errno : 0;
                if (e || !S_ISDIR(st.st_mode)) {
                        r = usage_error("check", "--textfile %s: %s", co.textfile, e ? strerror(e) : "not a directory");
                        goto out;
                }
        }
        if (co.id) {
                const struct collector *owner = NULL;
                if (!check_find(co.id, &owner)) {
                        r = usage_error("check", "--id: no check '%s' (evodiag list shows every ID)", co.id);
                        goto out;
                }
                if (!c.only) { /* run only the collector that owns it */
                        c.only = xcalloc(2, sizeof(char *));
                        c.only[0] = xstrdup(owner->name);
                }
        }
        bool only_given = c.only != NULL;
        if ((r = common_setup(&c)))
                goto out;
        uint64_t t0 = now_ms_monotonic(); /* --timeout covers reading a bundle too */
        if (from && (r = open_bundle(from, t0 + c.timeout_ms, &src, &ran)))
                goto out;
        if (from) {
                c.root = src.host_root;
                if ((r = rootfs_set(c.root)) < 0) {
                        err("--from %s: %s: %s", from, c.root, strerror(-r));
                        r = EXIT_USAGE;
                        goto out;
                }
                if (!only_given && ran) { /* the bundle's list wins over the config's; common_free() frees it */
                        strv_free(c.only);
                        c.only = ran;
                        ran = NULL;
                }
        }

        co.fmt = fmt;
        co.from = from;
        co.ro.color = color_wanted(c.color, STDOUT_FILENO);
        co.ro.ascii = locale_ascii();
        co.ro.verbose = c.verbose;
        r = run_and_report(&c, &co, from ? &src : NULL, t0);
out:
        common_free(&c);
        from_close(&src);
        strv_free(ran);
        return r;
}
