/* evodiag bundle: one redacted, issue-ready archive. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/journal.h"
#include "lib/redact.h"
#include "report/bundle.h"
#include "report/issue.h"
#include "report/upload.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

enum { O_UNTIL = OPTS_OWN + 64, O_SINCE = OPTS_OWN, O_COMPONENT, O_MAXSIZE, O_ARTMAX, O_NOREDACT, O_OBF, O_GZIP, O_UPLOAD,
       O_INSECURE_HTTP, O_FULL, O_PERFDATA, O_TEMPLATES, O_CASE_ID, O_BATCH, O_INCLUDE_CORES };

#define CASE_ID_MAX 64

static const struct opt bundle_options[] = {
        {"output", 'o', "PATH", "file, directory, or - for stdout (default: evodiag-HOST-TIME.tar.zst in\n"
                                "/var/tmp as root, else in the current directory); checked before collecting"},
        {"case-id", O_CASE_ID, "ID", "a support case number: in the file name and ISSUE.md (letters, digits, . _ -)"},
        {"templates", O_TEMPLATES, "DIR", "ISSUE.md templates from DIR (default: the installed ones, else the ones\n"
                                          "built into evodiag)"},
        {"batch", O_BATCH, NULL, "no prompts (evodiag bundle never prompts; accepted for sos-like scripts)"},
        {"since", O_SINCE, "DUR", "how far back logs go (default 24h)"},
        {"until", O_UNTIL, "TIME", "journal window end: 30m (ago), 'YYYY-MM-DD HH:MM', @EPOCH"},
        {"component", O_COMPONENT, "NAME", "ISSUE.md template: evo, lavinmq, vgpu, snn, framealloc, general\n"
                                           "(default: the component with the worst findings)"},
        {"max-size", O_MAXSIZE, "SIZE", "total uncompressed budget (default 512M)"},
        {"artifact-max", O_ARTMAX, "SIZE", "budget of each file (default 16M)"},
        {"no-redact", O_NOREDACT, NULL, "keep secrets in the stored evidence (for a bundle that never\n"
                                        "leaves this host; findings and messages are always redacted)"},
        {"full", O_FULL, NULL, "all of /etc/passwd, /etc/group and every process's command line\n"
                               "(default: only the entries the checks looked up and the command\n"
                               "lines of processes the findings name)"},
        {"include-cores", O_INCLUDE_CORES, NULL, "also store the core files of the crashes in the window (streamed,\n"
                                                 "each capped by --artifact-max; default: only metadata and backtraces)"},
        {"obfuscate", O_OBF, NULL, "also replace host names, IP and MAC addresses (mapping kept in\n"
                                   "/var/lib/evodiag/obfuscate.map, never in the bundle)"},
        {"gzip", O_GZIP, NULL, "gzip instead of zstd"},
        {"include-perf-data", O_PERFDATA, NULL, "with --allow-intrusive: also the raw perf.data of the profile\n"
                                                "(large; by default only the perf report text)"},
        {"upload", O_UPLOAD, "URL", "then PUT it to an https:// URL or s3://bucket/prefix (credentials\n"
                                    "from the config's [upload] section or ~/.netrc, never argv)"},
        {"insecure-http", O_INSECURE_HTTP, NULL, "allow credentials over plain http:// to another host (refused\n"
                                                 "otherwise: only https://, or http:// to this host, carries them)"},
        {"quiet", 'q', NULL, "no progress, only the path"},
        {0},
};

const struct verb_spec bundle_verb = {
        .name = "bundle",
        .about = "Runs every check and collects the evidence a maintainer needs — the host files the\n"
                 "checks read, command outputs, API replies, logs — into one .tar.zst with ISSUE.md\n"
                 "already filled in from templates/, summary.txt, findings.json, manifest.json (every\n"
                 "file with its origin and SHA-256) and evodiag.log. Secrets are redacted while the data\n"
                 "streams in. The file appears under its final name only when it is whole.\n"
                 "-v says where evodiag runs and which config it read.\n",
        .opts = bundle_options,
        .common = COMMON_ONLY_SKIP | COMMON_ROOT | COMMON_CONFIG | COMMON_TIMEOUT | COMMON_COLLECTOR_TIMEOUT |
                  COMMON_ALLOW_INTRUSIVE | COMMON_VERBOSE | COMMON_PID | COMMON_JOURNAL,
        .timeout_ms = BUNDLE_TIMEOUT_MS,
        .collector_timeout_ms = BUNDLE_COLLECTOR_TIMEOUT_MS,
        .epilogue = "Exit status: 0 bundle written (complete), 1 written but incomplete (interrupted, or\n"
                    "a collector timed out or crashed), 3 nothing written (usage or I/O error); 4 upload failed.\n",
};

int cmd_bundle(int argc, char **argv)
{
        struct common c = {0};
        struct bundle_opts bo = {.redact = true, .max_size = 512ull << 20, .artifact_max = 16u << 20};
        uint64_t since = 24ull * 3600 * 1000;
        const char *upload = NULL, *templates = NULL;
        bool insecure_http = false;
        int o, r = 0;
        struct opts p;
        opts_init(&p, &bundle_verb, &c, argc, argv);
        while ((o = opts_next(&p)) > 0) {
                uint64_t v;
                switch (o) {
                case 'o': bo.output = p.arg; break;
                case O_SINCE:
                        if (parse_duration_ms(p.arg, &since) < 0) {
                                r = usage_error("bundle", "--since: '%s' is not a duration (e.g. 2h, 30m)", p.arg);
                                goto out;
                        }
                        c.since = p.arg;
                        break;
                case O_UNTIL: {
                        uint64_t t;
                        if (journal_parse_time(p.arg, now_ms_realtime() * 1000, &t) < 0) {
                                r = usage_error("bundle", "--until: '%s' is not a time (e.g. 30m, '2025-01-20 10:00')", p.arg);
                                goto out;
                        }
                        c.until = p.arg;
                        break;
                }
                case O_COMPONENT: bo.component = p.arg; break;
                case O_MAXSIZE:
                case O_ARTMAX:
                        if (parse_size(p.arg, &v) < 0 || v == 0) {
                                r = usage_error("bundle", "%s: '%s' is not a size (e.g. 64M, 1G)",
                                                o == O_MAXSIZE ? "--max-size" : "--artifact-max", p.arg);
                                goto out;
                        }
                        *(o == O_MAXSIZE ? &bo.max_size : &bo.artifact_max) = v;
                        break;
                case O_NOREDACT: bo.redact = false; break;
                case O_OBF: bo.obfuscate = true; break;
                case O_FULL: bo.full = true; break;
                case O_INCLUDE_CORES: bo.include_cores = true; break;
                case O_GZIP: bo.gzip = true; break;
                case O_PERFDATA: bo.include_perf_data = true; break;
                case O_UPLOAD: upload = p.arg; break;
                case O_INSECURE_HTTP: insecure_http = true; break;
                case 'q': bo.quiet = true; break;
                case O_TEMPLATES: templates = p.arg; break;
                case O_BATCH: break; /* never a prompt */
                case O_CASE_ID:
                        if (!*p.arg || strlen(p.arg) > CASE_ID_MAX ||
                            strspn(p.arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(p.arg)) {
                                r = usage_error("bundle", "--case-id: at most %d letters, digits, '.', '_' or '-'", CASE_ID_MAX);
                                goto out;
                        }
                        bo.case_id = p.arg;
                        break;
                }
        }
        if (o < 0) {
                r = p.rc;
                goto out;
        }
        if (upload && bo.output && streq(bo.output, "-")) {
                r = usage_error("bundle", "--upload needs a file: it cannot be combined with -o -");
                goto out;
        }
        if (upload && upload_check_url(upload) < 0) {
                _cleanup_free_ char *shown = redact_secrets(upload, NULL);
                r = usage_error("bundle", "--upload: '%s' is not an https://, http:// or s3:// URL", shown);
                goto out;
        }
        if (!c.since)
                c.since = "24h"; /* the journal window of a bundle */
        if ((r = common_setup(&c)))
                goto out;
        if (upload) { /* before minutes of collecting: a refused upload is known now */
                _cleanup_free_ char *why = NULL;
                if (upload_check_transport(&c.cfg, upload, insecure_http, &why) < 0) {
                        r = usage_error("bundle", "--upload: %s", why);
                        goto out;
                }
        }
        {
                _cleanup_free_ char *host = inspected_hostname(&c), *tdir = templates ? xstrdup(templates) : evodiag_templates_dir();
                struct stat tst;
                if (stat(tdir, &tst) < 0 || !S_ISDIR(tst.st_mode)) {
                        if (templates) {
                                r = usage_error("bundle", "--templates: %s is not a directory", templates);
                                goto out;
                        }
                        free(tdir); /* not installed: the templates built into evodiag */
                        tdir = NULL;
                }
                if (bo.component && !issue_has_template(tdir, bo.component)) {
                        r = usage_error("bundle", "--component: no template %s (evo, lavinmq, vgpu, snn, framealloc, general)", bo.component);
                        goto out;
                }
                struct strbuf cl = {0};
                for (int i = 0; i < argc; i++)
                        sb_printf(&cl, "%s%s", i ? " " : "evodiag ", argv[i]);
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
                                fprintf(stderr, "evodiag: bundle %s%s: %s, sha256 %s (also in %s.sha256)\n",
                                        res.complete ? "written" : "written INCOMPLETE", res.interrupted ? " (interrupted)" : "",
                                        fmt_bytes(res.bytes, sz), res.sha256, res.path);
                }
                if (!res.complete) /* even with -q: exit 1 alone is easy to miss */
                        fprintf(stderr, "evodiag: the bundle is INCOMPLETE: the top of its ISSUE.md and manifest.json \"incomplete\" say what is missing\n");
                r = res.complete ? 0 : 1;
                if (upload && upload_bundle(&c.cfg, upload, res.path, res.sha256, bo.quiet, insecure_http) < 0)
                        r = 4;
                bundle_result_free(&res);
        }
out:
        common_free(&c);
        return r;
}
