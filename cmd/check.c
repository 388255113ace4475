/* evodiag check: every relevant check, verdict + expected vs found + remedy. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/escape.h"
#include "lib/journal.h"
#include "report/report.h"
#include "report/from.h"

#include <errno.h>

enum { OPT_FROM = OPTS_OWN, OPT_FORMAT, OPT_JSON, OPT_SINCE, OPT_UNTIL };

static const struct opt check_opts[] = {
        {"from", OPT_FROM, "BUNDLE|DIR", "re-run every check offline on a bundle's evidence (unpacked\n"
                                         "safely to a private temp dir) and compare with its recorded findings"},
        {"format", OPT_FORMAT, "FMT", "text (default), json, nagios or prometheus"},
        {"json", OPT_JSON, NULL, "same as --format json"},
        {"since", OPT_SINCE, "TIME", "journal window start: 2h (ago), 'YYYY-MM-DD HH:MM', @EPOCH\n"
                                     "(default 1h)"},
        {"until", OPT_UNTIL, "TIME", "journal window end (default now)"},
        {0},
};

static const struct verb_spec check_verb = {
        .name = "check",
        .about = "Runs every check that applies to this host and prints, for each, the verdict,\n"
                 "what was expected, what was found and the remedy. Each collector runs in its\n"
                 "own child under a deadline, so a hung file system or a dead device cannot hang\n"
                 "the run. Nothing is signalled, locked or written unless --allow-intrusive.\n"
                 "-v adds durations and expected/found for every check.\n",
        .opts = check_opts,
        .common = COMMON_ONLY_SKIP | COMMON_ROOT | COMMON_CONFIG | COMMON_TIMEOUT | COMMON_COLLECTOR_TIMEOUT |
                  COMMON_ALLOW_INTRUSIVE | COMMON_COLOR | COMMON_VERBOSE | COMMON_PID | COMMON_JOURNAL,
        .epilogue = "Exit status: 0 all ok, 1 warning, 2 critical, 3 unknown (or usage error).\n"
                    "Durations: 500ms, 5s, 2m. 'evodiag explain ID' tells what a check means.\n"
                    "\n"
                    "Examples:\n"
                    "  evodiag check                      # the whole host\n"
                    "  evodiag check --only shm,hugepages # just these\n"
                    "  evodiag check --format nagios      # for a monitoring system\n",
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

/* Every collector that ran in both: same findings? One line on stderr, details with -v. */
static void compare_with_recorded(const struct from_bundle *fb, const struct report *rep, int verbose)
{
        if (fb->info.findings_problem) {
                err("--from: %s", fb->info.findings_problem);
                return;
        }
        const struct bundle_collector *bc = fb->info.collectors.v;
        size_t same = 0, differ = 0, nc = fb->info.collectors.n;
        struct strbuf which = {0};
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
                                sb_printf(&which, " %s", r->c->name);
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
        fprintf(stderr, "evodiag: re-checked offline: %zu collectors agree with the bundle's recorded findings, %zu differ%s%s\n",
                same, differ, differ ? ":" : "", which.len ? which.s : "");
        sb_free(&which);
}

static int run_and_report(struct common *c, enum format fmt, bool use_color, struct from_bundle *src, uint64_t t0)
{
        _cleanup_free_ char *host = src ? xstrdup(src->info.host) : inspected_hostname(c);
        struct report rep = {.root = rootfs_get(), .started_ms = now_ms_realtime(), .host = host};
        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *res = xcalloc(n, sizeof(*res));
        struct run_opts ro = {
                .deadline_ms = t0 + c->timeout_ms, .default_timeout_ms = c->collector_timeout_ms, .parallel = c->parallel,
                .only = (const char *const *)c->only, .skip = (const char *const *)c->skip,
        };
        if (c->verbose)
                fprintf(stderr, "evodiag: collectors run %u at a time ([evodiag] parallel)\n", c->parallel);
        run_collectors(&c->ctx, &ro, res, &rep.n);
        rep.r = res;
        rep.duration_ms = now_ms_monotonic() - t0;
        report_render(stdout, fmt, &rep, use_color, c->verbose);
        output_document_written();
        fflush(stdout);
        int r = report_exit_code(&rep);
        if (src)
                compare_with_recorded(src, &rep, c->verbose);
        run_results_free(res, rep.n);
        free(res);
        return r;
}

int cmd_check(int argc, char **argv)
{
        struct common c = {0};
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

        const char *color = c.color ? c.color : "auto";
        bool use_color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
        r = run_and_report(&c, fmt, use_color, from ? &src : NULL, t0);
out:
        common_free(&c);
        from_close(&src);
        strv_free(ran);
        return r;
}
