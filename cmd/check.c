/* evodiag check: every relevant check, verdict + expected vs found + remedy. */
#include "config.h"
#include "cmd/cmd.h"
#include "collectors/runner.h"
#include "report/report.h"

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

enum { OPT_ONLY = 256, OPT_SKIP, OPT_ROOT, OPT_FORMAT, OPT_JSON, OPT_TIMEOUT, OPT_CTIMEOUT, OPT_CONFIG, OPT_COLOR, OPT_INTRUSIVE };

static int run_and_report(struct common *c, enum format fmt, bool use_color)
{
        uint64_t t0 = now_ms_monotonic();
        _cleanup_free_ char *host = inspected_hostname();
        struct report rep = {.root = rootfs_get(), .started_ms = now_ms_realtime(), .host = host};
        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *res = xcalloc(n, sizeof(*res));
        struct run_opts ro = {
                .deadline_ms = t0 + c->timeout_ms, .default_timeout_ms = c->collector_timeout_ms, .parallel = 8,
                .only = (const char *const *)c->only, .skip = (const char *const *)c->skip,
        };
        run_collectors(&c->ctx, &ro, res, &rep.n);
        rep.r = res;
        rep.duration_ms = now_ms_monotonic() - t0;
        report_render(stdout, fmt, &rep, use_color, c->verbose);
        fflush(stdout);
        int r = report_exit_code(&rep);
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
        if ((r = common_setup("check ", &c)))
                goto out;

        bool use_color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
        r = run_and_report(&c, fmt, use_color);
out:
        common_free(&c);
        return r;
}
