#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/escape.h"
#include "lib/child.h"
#include "lib/housekeeping.h"
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <sys/stat.h>

#define HOSTNAME_MAX 255

/* Errors follow the output format (bpftool's p_err): with --json or --format nagios a
 * script or a monitoring system reads stdout, so a usage or config error must reach it
 * there too. The first error is kept; main() prints it in the format at exit. */
static enum format error_format = FMT_TEXT;
static char *first_error;
static bool document_written;

void errors_follow_format(int argc, char **argv)
{
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++) {
                const char *v = NULL;
                if (streq(argv[i], "--json"))
                        error_format = FMT_JSON;
                else if (streq(argv[i], "--format") && i + 1 < argc)
                        v = argv[++i];
                else if (startswith(argv[i], "--format="))
                        v = argv[i] + strlen("--format=");
                enum format f;
                if (v && format_from_name(v, &f) == 0)
                        error_format = f;
        }
}

void output_document_written(void) { document_written = true; }

int errors_finish(int rc)
{
        if (!first_error || document_written || rc == 0)
                return rc;
        if (error_format == FMT_JSON) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "schema", json_object_new_int(1));
                json_object_object_add(o, "error", json_object_new_string(first_error));
                json_object_object_add(o, "exit_code", json_object_new_int(rc));
                _cleanup_free_ char *t = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
                puts(t);
                json_object_put(o);
        } else if (error_format == FMT_NAGIOS) {
                /* One line, as a plugin must: no newline of the message may start a second. */
                struct strbuf b = {0};
                esc_nagios_text(&b, first_error, 0);
                printf("EVODIAG UNKNOWN - %s\n", b.s);
                sb_free(&b);
                rc = EXIT_USAGE;
        }
        fflush(stdout);
        return rc;
}

PRINTF(1, 0) static void verr(const char *fmt, va_list ap)
{
        va_list copy;
        va_copy(copy, ap);
        if (!first_error)
                first_error = xvasprintf(fmt, copy);
        va_end(copy);
        /* Messages name paths, hosts and bundle contents: one line, control characters
         * escaped (lib/escape.h) before they reach the terminal. */
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        _cleanup_free_ char *msg = esc_text_dup(raw);
        fprintf(stderr, "evodiag: %s\n", msg);
}

void err(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        verr(fmt, ap);
        va_end(ap);
}

int usage_error(const char *verb, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        verr(fmt, ap);
        va_end(ap);
        fprintf(stderr, "Try 'evodiag %s%s--help' for more information.\n", verb ? verb : "", verb ? " " : "");
        return EXIT_USAGE;
}

static void known_names(struct strbuf *b)
{
        for (size_t i = 0; collectors[i]; i++)
                sb_printf(b, "%s%s", i ? ", " : "", collectors[i]->name);
}

int parse_collector_list(const char *verb, const char *arg, char ***out)
{
        size_t n = 0;
        char **v = xcalloc(strlen(arg) / 2 + 2, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(arg);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                tok = strstrip(tok);
                if (!*tok)
                        continue;
                if (!collector_find(tok)) {
                        struct strbuf b = {0};
                        known_names(&b);
                        int r = usage_error(verb, "unknown collector '%s' (known: %s)", tok, b.s);
                        sb_free(&b);
                        for (size_t i = 0; i < n; i++)
                                free(v[i]);
                        free(v);
                        return r;
                }
                v[n++] = xstrdup(tok);
        }
        v[n] = NULL;
        *out = v;
        return 0;
}

void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int common_setup(struct common *c)
{
        const char *verb = c->verb->name;
        if (!c->config_path)
                c->config_path = getenv("EVODIAG_CONFIG");
        /* Named by --config or $EVODIAG_CONFIG: it must exist. Only the default may be absent. */
        c->config_given = c->config_path != NULL;
        if (!c->config_path)
                c->config_path = CONFIG_DEFAULT_PATH;
        char *msg = NULL;
        int r = config_load(&c->cfg, c->config_path, &msg);
        if (r == -ENOENT && !c->config_given) {
                r = 0; /* built-in defaults */
        } else if (r == -ENOENT) {
                err("%s: no such file", c->config_path);
                return EXIT_USAGE;
        }
        if (r != 0) {
                err("%s", msg);
                free(msg);
                return EXIT_USAGE;
        }
        if (config_validate(&c->cfg, config_run_sections, &msg) < 0) {
                err("%s", msg);
                free(msg);
                return EXIT_USAGE;
        }
        if (c->pids) /* checked by the option parser; wins over the file's */
                config_set(&c->cfg, "perf", "pids", c->pids);
        /* [evodiag] gives defaults; the command line wins. */
        const struct config_entry *e;
        if (!c->timeout_ms && (e = config_get(&c->cfg, "evodiag", "timeout")))
                (void)parse_duration_ms(e->value, &c->timeout_ms);
        if (!c->collector_timeout_ms && (e = config_get(&c->cfg, "evodiag", "collector_timeout")))
                (void)parse_duration_ms(e->value, &c->collector_timeout_ms);
        if (!c->only && (e = config_get(&c->cfg, "evodiag", "only")) && (r = parse_collector_list(verb, e->value, &c->only)))
                return r;
        if (!c->skip && (e = config_get(&c->cfg, "evodiag", "skip")) && (r = parse_collector_list(verb, e->value, &c->skip)))
                return r;
        if (!c->timeout_ms)
                c->timeout_ms = common_timeout_ms(c->verb);
        if (!c->collector_timeout_ms)
                c->collector_timeout_ms = common_collector_timeout_ms(c->verb);
        c->parallel = 8;
        if ((e = config_get(&c->cfg, "evodiag", "parallel")))
                c->parallel = (unsigned)strtoul(e->value, NULL, 10); /* validated: 1..64 */

        if (c->root) {
                struct stat st;
                if (stat(c->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        err("--root %s: %s", c->root, stat(c->root, &st) < 0 ? strerror(errno) : "not a directory");
                        return EXIT_USAGE;
                }
        }
        if ((r = rootfs_set(c->root)) < 0) {
                err("--root %s: %s", c->root, strerror(-r));
                return EXIT_USAGE;
        }
        _cleanup_free_ char *hk = housekeeping_enter();
        if (c->verbose)
                fprintf(stderr, "evodiag: %s\n", hk);
        if (c->verbose && c->cfg.n)
                fprintf(stderr, "evodiag: config %s (%zu settings)\n", c->config_path, c->cfg.n);
        else if (c->verbose)
                fprintf(stderr, "evodiag: no config file at %s: built-in defaults\n", c->config_path);

        if (c->journal_dirs.len)
                config_set(&c->cfg, "journal", "dirs", c->journal_dirs.s);
        if (c->journal_files.len)
                config_set(&c->cfg, "journal", "files", c->journal_files.s);
        if (c->since)
                config_set(&c->cfg, "journal", "since", c->since);
        if (c->until)
                config_set(&c->cfg, "journal", "until", c->until);
        c->ctx = (struct ctx){
                .cfg = &c->cfg, .is_root = geteuid() == 0, .allow_intrusive = c->allow_intrusive, .verbose = c->verbose,
        };
        return 0;
}

void common_free(struct common *c)
{
        strv_free(c->only);
        strv_free(c->skip);
        config_free(&c->cfg);
        sb_free(&c->journal_dirs);
        sb_free(&c->journal_files);
}

/* rootfs refuses what is not a regular file (a FIFO there would block, a device never end). */
static char *hostname_from(const char *path)
{
        char *h = NULL;
        if (rootfs_read_value(path, &h) < 0)
                return NULL;
        h[strcspn(h, "\n")] = 0;
        if (*h && strlen(h) <= HOSTNAME_MAX)
                return h;
        free(h);
        return NULL;
}

static json_object *hostname_job(void *arg)
{
        (void)arg;
        char *h = hostname_from("/proc/sys/kernel/hostname");
        if (!h)
                h = hostname_from("/etc/hostname");
        char buf[HOSTNAME_MAX + 1];
        if (!h && rootfs_is_live() && gethostname(buf, sizeof(buf)) == 0) {
                buf[sizeof(buf) - 1] = 0;
                h = *buf ? xstrdup(buf) : NULL;
        }
        json_object *o = h ? json_object_new_string(h) : json_object_new_null();
        free(h);
        return o;
}

char *inspected_hostname(const struct common *c)
{
        /* Host data: read in a child under a deadline, like every other read of the host. */
        uint64_t ms = c->collector_timeout_ms ? c->collector_timeout_ms : 5000;
        if (c->timeout_ms && c->timeout_ms < ms)
                ms = c->timeout_ms;
        struct job j = {.name = "hostname", .fn = hostname_job, .timeout_ms = ms};
        struct job_opts jo = {.parallel = 1};
        jobs_run(&j, 1, &jo);
        if (j.status == JOB_TIMEOUT)
                err("the host name could not be read within %llu ms: using 'unknown'", (unsigned long long)ms);
        /* What the child says is checked like any host data: a name, no NUL byte in it. */
        const char *h = j.status == JOB_DONE && json_object_is_type(j.result, json_type_string) ? json_object_get_string(j.result) : NULL;
        size_t n = h ? (size_t)json_object_get_string_len(j.result) : 0;
        char *name = h && n && n <= HOSTNAME_MAX && !memchr(h, 0, n) ? xstrdup(h) : xstrdup("unknown");
        job_clear(&j);
        return name;
}

/* Installed templates; for a binary still in its build tree, the source tree's. */
char *evodiag_templates_dir(void)
{
        const char *env = getenv("EVODIAG_TEMPLATES");
        if (env)
                return xstrdup(env);
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = 0;
                char *slash = strrchr(exe, '/');
                if (slash && (*slash = 0, streq(exe, EVODIAG_BUILDDIR)))
                        return xstrdup(EVODIAG_SRCDIR "/templates");
        }
        return xstrdup(PKGDATADIR "/templates");
}
