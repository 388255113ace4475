/* evodiag bundle: one redacted, issue-ready archive. */
#include "config.h"
#include "cmd/cmd.h"
#include "lib/redact.h"
#include "report/bundle.h"
#include "report/upload.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>

static void help(void)
{
        fputs("Usage: evodiag bundle [OPTIONS]\n"
              "\n"
              "Runs every check and collects the evidence a maintainer needs — the host files the\n"
              "checks read, command outputs, API replies, logs — into one .tar.zst with ISSUE.md\n"
              "already filled in from templates/, summary.txt, findings.json, manifest.json (every\n"
              "file with its origin and SHA-256) and evodiag.log. Secrets are redacted while the data\n"
              "streams in. The file appears under its final name only when it is whole.\n"
              "\n"
              "Options:\n"
              "  -o, --output PATH     file, directory, or - for stdout (default: ./evodiag-HOST-TIME.tar.zst)\n"
              "  --since DUR           how far back logs go (default 24h)\n"
              "  --only A,B, --skip A,B  collectors, as for check\n"
              "  --component NAME      ISSUE.md template: evo, lavinmq, vgpu, snn, framealloc, general\n"
              "                        (default: the component with the worst findings)\n"
              "  --allow-intrusive     also what signals components (LavinMQ USR1 state dump, ...)\n"
              "  --max-size SIZE       total uncompressed budget (default 512M); --artifact-max SIZE each (16M)\n"
              "  --no-redact           keep secrets in the stored evidence (for a bundle that never\n"
              "                        leaves this host; findings and messages are always redacted)\n"
              "  --full                all of /etc/passwd, /etc/group and every process's command line\n"
              "                        (default: only the entries the checks looked up and the command\n"
              "                        lines of processes the findings name)\n"
              "  --obfuscate           also replace host names, IP and MAC addresses (mapping kept in\n"
              "                        /var/lib/evodiag/obfuscate.map, never in the bundle)\n"
              "  --gzip                gzip instead of zstd\n"
              "  --upload URL          then PUT it to an https:// URL or s3://bucket/prefix (credentials\n"
              "                        from the config's [upload] section or ~/.netrc, never argv)\n"
              "  --insecure-http       allow credentials over plain http:// to another host (refused\n"
              "                        otherwise: only https://, or http:// to this host, carries them)\n"
              "  --timeout DUR, --collector-timeout DUR, --root DIR, --config FILE  as for check\n"
              "  -q, --quiet           no progress, only the path\n"
              "  -h, --help            this help\n"
              "\n"
              "Exit status: 0 bundle written (complete), 1 written but incomplete (interrupted, or\n"
              "a collector timed out or crashed), 3 nothing written (usage or I/O error); 4 upload failed.\n",
              stdout);
}

enum { O_SINCE = 256, O_ONLY, O_SKIP, O_COMPONENT, O_INTRUSIVE, O_MAXSIZE, O_ARTMAX, O_NOREDACT, O_OBF, O_GZIP,
       O_UPLOAD, O_TIMEOUT, O_CTIMEOUT, O_ROOT, O_CONFIG, O_INSECURE_HTTP, O_FULL };

int cmd_bundle(int argc, char **argv)
{
        static const struct option opts[] = {
                {"output", required_argument, NULL, 'o'},   {"since", required_argument, NULL, O_SINCE},
                {"only", required_argument, NULL, O_ONLY},  {"skip", required_argument, NULL, O_SKIP},
                {"component", required_argument, NULL, O_COMPONENT}, {"allow-intrusive", no_argument, NULL, O_INTRUSIVE},
                {"max-size", required_argument, NULL, O_MAXSIZE}, {"artifact-max", required_argument, NULL, O_ARTMAX},
                {"no-redact", no_argument, NULL, O_NOREDACT}, {"obfuscate", no_argument, NULL, O_OBF},
                {"gzip", no_argument, NULL, O_GZIP},        {"upload", required_argument, NULL, O_UPLOAD},
                {"full", no_argument, NULL, O_FULL},
                {"timeout", required_argument, NULL, O_TIMEOUT}, {"collector-timeout", required_argument, NULL, O_CTIMEOUT},
                {"root", required_argument, NULL, O_ROOT},  {"config", required_argument, NULL, O_CONFIG},
                {"quiet", no_argument, NULL, 'q'},          {"verbose", no_argument, NULL, 'v'},
                {"insecure-http", no_argument, NULL, O_INSECURE_HTTP},
                {"help", no_argument, NULL, 'h'},           {0},
        };
        struct common c = {0};
        struct bundle_opts bo = {.redact = true, .max_size = 512ull << 20, .artifact_max = 16u << 20};
        uint64_t since = 24ull * 3600 * 1000;
        const char *upload = NULL;
        bool insecure_http = false;
        int o, r = 0;
        optind = 1;
        opterr = 0;
        while ((o = getopt_long(argc, argv, ":o:qvh", opts, NULL)) != -1) {
                uint64_t v;
                switch (o) {
                case 'o': bo.output = optarg; break;
                case O_SINCE:
                        if (parse_duration_ms(optarg, &since) < 0) {
                                r = usage_error("bundle ", "--since: '%s' is not a duration (e.g. 2h, 30m)", optarg);
                                goto out;
                        }
                        break;
                case O_ONLY:
                        if ((r = parse_collector_list("bundle ", optarg, &c.only)))
                                goto out;
                        break;
                case O_SKIP:
                        if ((r = parse_collector_list("bundle ", optarg, &c.skip)))
                                goto out;
                        break;
                case O_COMPONENT: bo.component = optarg; break;
                case O_INTRUSIVE: c.allow_intrusive = true; break;
                case O_MAXSIZE:
                case O_ARTMAX:
                        if (parse_size(optarg, &v) < 0 || v == 0) {
                                r = usage_error("bundle ", "%s: '%s' is not a size (e.g. 64M, 1G)",
                                                o == O_MAXSIZE ? "--max-size" : "--artifact-max", optarg);
                                goto out;
                        }
                        *(o == O_MAXSIZE ? &bo.max_size : &bo.artifact_max) = v;
                        break;
                case O_NOREDACT: bo.redact = false; break;
                case O_OBF: bo.obfuscate = true; break;
                case O_FULL: bo.full = true; break;
                case O_GZIP: bo.gzip = true; break;
                case O_UPLOAD: upload = optarg; break;
                case O_INSECURE_HTTP: insecure_http = true; break;
                case O_TIMEOUT:
                case O_CTIMEOUT:
                        if (parse_duration_ms(optarg, &v) < 0 || v == 0) {
                                r = usage_error("bundle ", "%s: '%s' is not a duration", o == O_TIMEOUT ? "--timeout" : "--collector-timeout", optarg);
                                goto out;
                        }
                        *(o == O_TIMEOUT ? &c.timeout_ms : &c.collector_timeout_ms) = v;
                        break;
                case O_ROOT: c.root = optarg; break;
                case O_CONFIG: c.config_path = optarg; break;
                case 'q': bo.quiet = true; break;
                case 'v': c.verbose++; break;
                case 'h': help(); goto out;
                case ':': r = usage_error("bundle ", "option '%s' needs a value", argv[optind - 1]); goto out;
                default: r = usage_error("bundle ", "unknown option '%s'", argv[optind - 1]); goto out;
                }
        }
        if (optind < argc) {
                r = usage_error("bundle ", "unexpected argument '%s'", argv[optind]);
                goto out;
        }
        if (upload && bo.output && streq(bo.output, "-")) {
                r = usage_error("bundle ", "--upload needs a file: it cannot be combined with -o -");
                goto out;
        }
        if (upload && upload_check_url(upload) < 0) {
                _cleanup_free_ char *shown = redact_secrets(upload, NULL);
                r = usage_error("bundle ", "--upload: '%s' is not an https://, http:// or s3:// URL", shown);
                goto out;
        }
        if (!c.timeout_ms)
                c.timeout_ms = 120000;
        if (!c.collector_timeout_ms)
                c.collector_timeout_ms = 15000;
        if ((r = common_setup("bundle ", &c)))
                goto out;
        if (upload) { /* before minutes of collecting: a refused upload is known now */
                _cleanup_free_ char *why = NULL;
                if (upload_check_transport(&c.cfg, upload, insecure_http, &why) < 0) {
                        r = usage_error("bundle ", "--upload: %s", why);
                        goto out;
                }
        }
        {
                _cleanup_free_ char *host = inspected_hostname(&c), *tdir = evodiag_templates_dir();
                struct strbuf cl = {0};
                for (int i = 0; i < argc; i++)
                        sb_printf(&cl, "%s%s", i ? " " : "evodiag ", argv[i]);
                if (bo.component && !streq(bo.component, "general")) {
                        _cleanup_free_ char *probe = xasprintf("%s/%s.md", tdir, bo.component);
                        if (access(probe, R_OK) < 0) {
                                r = usage_error("bundle ", "--component: no template %s", probe);
                                sb_free(&cl);
                                goto out;
                        }
                }
                bo.host = host;
                bo.command_line = cl.s;
                bo.templates_dir = tdir;
                bo.only = (const char *const *)c.only;
                bo.skip = (const char *const *)c.skip;
                bo.since_ms = now_ms_realtime() - since;
                bo.deadline_ms = now_ms_monotonic() + c.timeout_ms;
                bo.collector_timeout_ms = c.collector_timeout_ms;
                bo.progress = !bo.quiet && isatty(STDERR_FILENO);
                bo.state_dir = getenv("EVODIAG_STATE_DIR") ? getenv("EVODIAG_STATE_DIR") : "/var/lib/evodiag";
                struct bundle_result res;
                int e = bundle_make(&c.ctx, &bo, &res);
                sb_free(&cl);
                if (e < 0 || !res.path) {
                        bundle_result_free(&res);
                        r = EXIT_USAGE;
                        goto out;
                }
                if (!streq(res.path, "-")) {
                        char sz[32];
                        printf("%s\n", res.path);
                        if (!bo.quiet)
                                fprintf(stderr, "evodiag: bundle %s%s: %s, sha256 %s\n", res.complete ? "written" : "written INCOMPLETE",
                                        res.interrupted ? " (interrupted)" : "", fmt_bytes(res.bytes, sz), res.sha256);
                }
                r = res.complete ? 0 : 1;
                if (upload && upload_bundle(&c.cfg, upload, res.path, res.sha256, bo.quiet, insecure_http) < 0)
                        r = 4;
                bundle_result_free(&res);
        }
out:
        common_free(&c);
        return r;
}
