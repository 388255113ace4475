/* evodiag check: every relevant check, verdict + expected vs found + remedy. */
#include "config.h"
#include "cmd/cmd.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/escape.h"
#include "report/report.h"
#include "report/from.h"

#include <errno.h>
#include <getopt.h>

static void help(void)
{
        fputs("Usage: evodiag check [OPTIONS]\n"
              "\n"
              "Runs every check that applies to this host and prints, for each, the verdict,\n"
              "what was expected, what was found and the remedy. Each collector runs in its\n"
              "own child under a deadline, so a hung file system or a dead device cannot hang\n"
              "the run. Nothing is signalled, locked or written unless --allow-intrusive.\n"
              "\n"
              "Options:\n"
              "  --only A,B            run only these collectors (see 'evodiag list')\n"
              "  --skip A,B            do not run these collectors\n"
              "  --root DIR            read /proc, /sys, /etc, /dev/shm, /var under DIR\n"
              "                        (a copy of another host's files, or a test tree)\n"
              "  --from BUNDLE|DIR     re-run every check offline on a bundle's evidence (unpacked\n"
              "                        safely to a private temp dir) and compare with its recorded findings\n"
              "  --format FMT          text (default), json, nagios or prometheus\n"
              "  --json                same as --format json\n"
              "  --timeout DUR         deadline for the whole run (default 30s)\n"
              "  --collector-timeout DUR  deadline for each collector (default 5s)\n"
              "  --config FILE         config file (default /etc/evodiag/evodiag.conf; absent is fine)\n"
              "  --color WHEN          auto (default: on a TTY unless NO_COLOR is set), always, never\n"
              "  --allow-intrusive     also run checks that signal or query components\n"
              "  -v, --verbose         more detail: durations, expected/found for every check\n"
              "  -h, --help            this help\n"
              "\n"
              "Exit status: 0 all ok, 1 warning, 2 critical, 3 unknown (or usage error).\n"
              "Durations: 500ms, 5s, 2m. 'evodiag explain ID' tells what a check means.\n"
              "\n"
              "Examples:\n"
              "  evodiag check                      # the whole host\n"
              "  evodiag check --only shm,hugepages # just these\n"
              "  evodiag check --format nagios      # for a monitoring system\n",
              stdout);
}

enum { OPT_FROM = 300 };
enum { OPT_ONLY = 256, OPT_SKIP, OPT_ROOT, OPT_FORMAT, OPT_JSON, OPT_TIMEOUT, OPT_CTIMEOUT, OPT_CONFIG, OPT_COLOR, OPT_INTRUSIVE };

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
        static const struct option opts[] = {
                {"only", required_argument, NULL, OPT_ONLY},
                {"skip", required_argument, NULL, OPT_SKIP},
                {"root", required_argument, NULL, OPT_ROOT},
                {"from", required_argument, NULL, OPT_FROM},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"json", no_argument, NULL, OPT_JSON},
                {"timeout", required_argument, NULL, OPT_TIMEOUT},
                {"collector-timeout", required_argument, NULL, OPT_CTIMEOUT},
                {"config", required_argument, NULL, OPT_CONFIG},
                {"color", required_argument, NULL, OPT_COLOR},
                {"allow-intrusive", no_argument, NULL, OPT_INTRUSIVE},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct common c = {0};
        enum format fmt = FMT_TEXT;
        const char *color = "auto";
        const char *from = NULL;
        struct from_bundle src = {0};
        char **ran = NULL;
        int o, r = 0;
        optind = 1;
        opterr = 0;
        while ((o = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
                switch (o) {
                case OPT_ONLY:
                        if ((r = parse_collector_list("check ", optarg, &c.only)))
                                goto out;
                        break;
                case OPT_SKIP:
                        if ((r = parse_collector_list("check ", optarg, &c.skip)))
                                goto out;
                        break;
                case OPT_ROOT: c.root = optarg; break;
                case OPT_FROM: from = optarg; break;
                case OPT_FORMAT:
                        if (format_from_name(optarg, &fmt) < 0) {
                                r = usage_error("check ", "--format: '%s' is not one of text, json, nagios, prometheus", optarg);
                                goto out;
                        }
                        break;
                case OPT_JSON: fmt = FMT_JSON; break;
                case OPT_TIMEOUT:
                case OPT_CTIMEOUT: {
                        uint64_t ms;
                        if (parse_duration_ms(optarg, &ms) < 0 || ms == 0) {
                                r = usage_error("check ", "%s: '%s' is not a duration (e.g. 5s, 500ms)",
                                                o == OPT_TIMEOUT ? "--timeout" : "--collector-timeout", optarg);
                                goto out;
                        }
                        *(o == OPT_TIMEOUT ? &c.timeout_ms : &c.collector_timeout_ms) = ms;
                        break;
                }
                case OPT_CONFIG: c.config_path = optarg; break;
                case OPT_COLOR:
                        if (!streq(optarg, "auto") && !streq(optarg, "always") && !streq(optarg, "never")) {
                                r = usage_error("check ", "--color: '%s' is not auto, always or never", optarg);
                                goto out;
                        }
                        color = optarg;
                        break;
                case OPT_INTRUSIVE: c.allow_intrusive = true; break;
                case 'v': c.verbose++; break;
                case 'h': help(); goto out;
                case ':': r = usage_error("check ", "option '%s' needs a value", argv[optind - 1]); goto out;
                default: r = usage_error("check ", "unknown option '%s'", argv[optind - 1]); goto out;
                }
        }
        if (optind < argc) {
                r = usage_error("check ", "unexpected argument '%s'", argv[optind]);
                goto out;
        }
        if (from && c.root) {
                r = usage_error("check ", "--from and --root cannot be combined (--from sets the root)");
                goto out;
        }
        bool only_given = c.only != NULL;
        if ((r = common_setup("check ", &c)))
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
                        for (size_t i = 0; c.only && c.only[i]; i++)
                                free(c.only[i]);
                        free(c.only);
                        c.only = ran;
                        ran = NULL;
                }
        }

        bool use_color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
        r = run_and_report(&c, fmt, use_color, from ? &src : NULL, t0);
out:
        common_free(&c);
        from_close(&src);
        for (size_t i = 0; ran && ran[i]; i++)
                free(ran[i]);
        free(ran);
        return r;
}
