/* evodiag check: every relevant check, verdict + expected vs found + remedy. */
#include "config.h"
#include "cmd/cmd.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/escape.h"
#include "lib/dircount.h"
#include "report/report.h"
#include "report/unpack.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>

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

struct bundle_src {
        char *tmp;       /* what we unpacked into (removed at the end) */
        char *top;       /* the directory holding manifest.json */
        char *host_root; /* top/host */
        char *host;      /* the host the bundle was made on */
        json_object *recorded;
        char **ran; /* collectors that ran in the bundle */
};

static char *find_top(const char *dir)
{
        _cleanup_free_ char *m = xasprintf("%s/manifest.json", dir);
        if (access(m, R_OK) == 0)
                return xstrdup(dir);
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        char *found = NULL;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s/manifest.json", dir, de->d_name);
                if (access(sub, R_OK) == 0)
                        found = xasprintf("%s/%s", dir, de->d_name);
        }
        closedir(d);
        return found;
}

static int open_bundle(const char *from, struct bundle_src *s)
{
        struct stat st;
        if (stat(from, &st) < 0) {
                err("--from %s: %s", from, strerror(errno));
                return EXIT_USAGE;
        }
        if (S_ISDIR(st.st_mode)) {
                s->top = find_top(from);
        } else {
                char *e = NULL;
                if (unpack_bundle(from, &s->tmp, &e) < 0) {
                        err("--from %s: %s", from, e);
                        free(e);
                        return EXIT_USAGE;
                }
                s->top = find_top(s->tmp);
        }
        if (!s->top) {
                err("--from %s: no manifest.json: not an evodiag bundle", from);
                return EXIT_USAGE;
        }
        s->host_root = xasprintf("%s/host", s->top);
        if (access(s->host_root, R_OK) < 0)
                (void)mkdir(s->host_root, 0700); /* a bundle with no host evidence: every check says unknown */
        _cleanup_free_ char *mp = xasprintf("%s/manifest.json", s->top), *fp = xasprintf("%s/findings.json", s->top);
        json_object *man = json_object_from_file(mp), *h, *arts;
        if (man && json_object_object_get_ex(man, "host", &h))
                s->host = xstrdup(json_object_get_string(h));
        /* Reads that failed on the host (EACCES...) fail the same way here; directory
         * listings and stat results are what the host showed. */
        if (man && json_object_object_get_ex(man, "artifacts", &arts))
                for (size_t i = 0; i < json_object_array_length(arts); i++) {
                        json_object *a = json_object_array_get_idx(arts, i), *p, *e, *sj;
                        if (!json_object_object_get_ex(a, "path", &p) || !startswith(json_object_get_string(p), "host/"))
                                continue;
                        const char *path = json_object_get_string(p) + 4;
                        if (json_object_object_get_ex(a, "errno", &e))
                                rootfs_inject_error(path, json_object_get_int(e));
                        /* What the host showed beyond the stored bytes: absolute link targets,
                         * line counts of counted files, files stored cut. */
                        if (json_object_object_get_ex(a, "link", &e) && json_object_is_type(e, json_type_string))
                                rootfs_inject_link(path, json_object_get_string(e));
                        if (json_object_object_get_ex(a, "lines", &e) && json_object_is_type(e, json_type_int))
                                rootfs_inject_count(path, (long)json_object_get_int64(e));
                        if (json_object_object_get_ex(a, "status", &e) && json_object_is_type(e, json_type_string) &&
                            streq(json_object_get_string(e), "truncated"))
                                rootfs_inject_truncated(path);
                        if (json_object_object_get_ex(a, "count", &e) && json_object_is_type(e, json_type_int) &&
                            json_object_get_int64(e) >= 0 && json_object_get_int64(e) <= LONG_MAX) {
                                json_object *al;
                                dir_count_inject(path, (long)json_object_get_int64(e),
                                                 json_object_object_get_ex(a, "at_least", &al) && json_object_get_boolean(al));
                        }
                        if (json_object_object_get_ex(a, "names", &e)) {
                                size_t len;
                                _cleanup_free_ char *buf = names_from_json(e, &len);
                                rootfs_snapshot_put_dir(path, buf, len);
                        }
                        if (json_object_object_get_ex(a, "stat", &sj)) {
                                struct stat sb = {0};
                                json_object *v;
                                sb.st_mode = json_object_object_get_ex(sj, "mode", &v) ? (mode_t)json_object_get_int64(v) : 0;
                                sb.st_uid = json_object_object_get_ex(sj, "uid", &v) ? (uid_t)json_object_get_int64(v) : 0;
                                sb.st_gid = json_object_object_get_ex(sj, "gid", &v) ? (gid_t)json_object_get_int64(v) : 0;
                                sb.st_size = json_object_object_get_ex(sj, "size", &v) ? (off_t)json_object_get_int64(v) : 0;
                                sb.st_nlink = json_object_object_get_ex(sj, "nlink", &v) ? (nlink_t)json_object_get_int64(v) : 1;
                                sb.st_ino = json_object_object_get_ex(sj, "ino", &v) ? (ino_t)json_object_get_int64(v) : 0;
                                sb.st_mtime = json_object_object_get_ex(sj, "mtime", &v) ? (time_t)json_object_get_int64(v) : 0;
                                rootfs_inject_stat(path, &sb);
                        }
                }
        json_object_put(man);
        s->recorded = json_object_from_file(fp);
        /* By default re-run what the bundle ran: other collectors would judge missing evidence. */
        json_object *cols, *cst, *nm;
        if (s->recorded && json_object_object_get_ex(s->recorded, "collectors", &cols)) {
                size_t n = json_object_array_length(cols), k = 0;
                s->ran = xcalloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++) {
                        json_object *c = json_object_array_get_idx(cols, i);
                        if (json_object_object_get_ex(c, "status", &cst) && json_object_object_get_ex(c, "name", &nm) &&
                            (streq(json_object_get_string(cst), "ok") || streq(json_object_get_string(cst), "not_applicable")) &&
                            collector_find(json_object_get_string(nm)))
                                s->ran[k++] = xstrdup(json_object_get_string(nm));
                }
        }
        return 0;
}

static void close_bundle(struct bundle_src *s)
{
        if (s->tmp) {
                remove_tree(s->tmp);
                free(s->tmp);
        }
        free(s->top);
        free(s->host_root);
        free(s->host);
        json_object_put(s->recorded);
        for (size_t i = 0; s->ran && s->ran[i]; i++)
                free(s->ran[i]);
        free(s->ran);
        *s = (struct bundle_src){0};
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The findings of one collector as sorted "id|severity|subject|summary" lines,
 * leaving out checks that need the live system. */
static char *canon(json_object *arr)
{
        /* findings.json holds valid UTF-8 (lib/escape.h): compare like with like. */
        json_sanitize(arr);
        size_t n = arr ? json_object_array_length(arr) : 0, m = 0;
        char **v = xcalloc(n + 1, sizeof(*v));
        for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(arr, i), *x;
                const struct check_info *ci = json_object_object_get_ex(f, "id", &x) ? check_find(json_object_get_string(x), NULL) : NULL;
                if (ci && ci->live)
                        continue;
                const char *k[4] = {"id", "severity", "subject", "summary"};
                struct strbuf b = {0};
                for (int j = 0; j < 4; j++)
                        sb_printf(&b, "%s%s", j ? "|" : "", json_object_object_get_ex(f, k[j], &x) ? json_object_get_string(x) : "");
                v[m++] = sb_steal(&b);
        }
        qsort(v, m, sizeof(*v), cmp_str);
        struct strbuf out = {0};
        sb_puts(&out, "");
        for (size_t i = 0; i < m; i++) {
                sb_printf(&out, "%s\n", v[i]);
                free(v[i]);
        }
        free(v);
        return sb_steal(&out);
}

/* Every collector that ran in both: same findings? One line on stderr, details with -v. */
static void compare_with_recorded(const struct bundle_src *s, const struct report *rep, int verbose)
{
        json_object *cols;
        if (!s->recorded || !json_object_object_get_ex(s->recorded, "collectors", &cols)) {
                err("--from: the bundle has no readable findings.json: nothing to compare with");
                return;
        }
        size_t same = 0, differ = 0, nc = json_object_array_length(cols);
        struct strbuf which = {0};
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status != RUN_OK)
                        continue;
                for (size_t k = 0; k < nc; k++) {
                        json_object *col = json_object_array_get_idx(cols, k), *name, *st, *fa;
                        if (!json_object_object_get_ex(col, "name", &name) || !streq(json_object_get_string(name), r->c->name) ||
                            !json_object_object_get_ex(col, "status", &st) || !streq(json_object_get_string(st), "ok"))
                                continue;
                        json_object_object_get_ex(col, "findings", &fa);
                        json_object *now = findings_to_json(&r->fs);
                        _cleanup_free_ char *a = canon(fa), *b = canon(now);
                        json_object_put(now);
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

static int run_and_report(struct common *c, enum format fmt, bool use_color, struct bundle_src *src)
{
        uint64_t t0 = now_ms_monotonic();
        _cleanup_free_ char *host = src && src->host ? xstrdup(src->host) : inspected_hostname();
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
        struct bundle_src src = {0};
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
        if (from && (r = open_bundle(from, &src)))
                goto out;
        if (from) {
                c.root = src.host_root;
                if (!c.only && src.ran) { /* common_free() frees c.only: hand it over */
                        c.only = src.ran;
                        src.ran = NULL;
                }
        }
        if ((r = common_setup("check ", &c)))
                goto out;

        bool use_color = streq(color, "always") || (streq(color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
        r = run_and_report(&c, fmt, use_color, from ? &src : NULL);
out:
        common_free(&c);
        close_bundle(&src);
        return r;
}
