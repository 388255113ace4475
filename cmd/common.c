#include "config.h"
#include "cmd/cmd.h"
#include "lib/housekeeping.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <sys/stat.h>

PRINTF(1, 0) static void verr(const char *fmt, va_list ap)
{
        fputs("evodiag: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
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
        fprintf(stderr, "Try 'evodiag %s--help' for more information.\n", verb ? verb : "");
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

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static bool is_number(const char *s)
{
        double d;
        return parse_double(s, &d) == 0;
}

/* Sections that are not collectors, and their keys. */
static const struct {
        const char *section;
        const char *keys[10];
} run_sections[] = {
        {"evodiag", {"timeout", "collector_timeout", "only", "skip", "parallel"}},
        {"watch", {"interval", "record_dir", "record_max", "bundle_cooldown", "bundle_window"}},
        {"upload", {"user", "password", "ca_file", "s3_endpoint", "s3_region", "s3_access_key", "s3_secret_key"}},
};

/* Every section must be [evodiag], [upload] or a collector; every key declared; numbers numeric. */
static int config_validate(const struct config *cfg)
{
        for (size_t i = 0; i < cfg->n; i++) {
                const struct config_entry *e = &cfg->v[i];
                bool known_section = false, known_key = false;
                for (size_t s = 0; s < ARRAY_SIZE(run_sections); s++)
                        if (streq(e->section, run_sections[s].section)) {
                                known_section = true;
                                for (size_t k = 0; run_sections[s].keys[k]; k++)
                                        known_key |= streq(e->key, run_sections[s].keys[k]);
                        }
                if (known_section) {
                        if (!known_key) {
                                err("%s:%d: unknown key '%s' in [%s]", cfg->path, e->line, e->key, e->section);
                                return EXIT_USAGE;
                        }
                        uint64_t ms;
                        if ((streq(e->key, "timeout") || streq(e->key, "collector_timeout")) &&
                            (parse_duration_ms(e->value, &ms) < 0 || ms == 0)) {
                                err("%s:%d: %s: '%s' is not a duration (e.g. 5s, 500ms)", cfg->path, e->line, e->key, e->value);
                                return EXIT_USAGE;
                        }
                        continue;
                }
                const struct collector *c = collector_find(e->section);
                if (!c) {
                        err("%s:%d: unknown section [%s] (expected [evodiag], [upload] or a collector name; see evodiag list)",
                            cfg->path, e->line, e->section);
                        return EXIT_USAGE;
                }
                if (streq(e->key, "timeout")) {
                        uint64_t ms;
                        if (parse_duration_ms(e->value, &ms) < 0 || ms == 0) {
                                err("%s:%d: timeout: '%s' is not a duration (e.g. 5s, 500ms)", cfg->path, e->line, e->value);
                                return EXIT_USAGE;
                        }
                        continue;
                }
                const struct config_key *k = c->config;
                while (k && k->key && !streq(k->key, e->key))
                        k++;
                if (!k || !k->key) {
                        err("%s:%d: unknown key '%s' in [%s] (see evodiag list -v)", cfg->path, e->line, e->key, e->section);
                        return EXIT_USAGE;
                }
                if (is_number(k->def) && !is_number(e->value)) {
                        err("%s:%d: %s.%s: '%s' is not a number", cfg->path, e->line, e->section, e->key, e->value);
                        return EXIT_USAGE;
                }
        }
        return 0;
}

int common_setup(const char *verb, struct common *c)
{
        if (!c->config_path)
                c->config_path = getenv("EVODIAG_CONFIG") ? getenv("EVODIAG_CONFIG") : CONFIG_DEFAULT_PATH;
        else
                c->config_given = true;
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
        if ((r = config_validate(&c->cfg)))
                return r;
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
                c->timeout_ms = 30000;
        if (!c->collector_timeout_ms)
                c->collector_timeout_ms = 5000;

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
}

char *inspected_hostname(void)
{
        char *h = NULL;
        if (rootfs_read_value("/proc/sys/kernel/hostname", &h) == 0 && *h)
                return h;
        free(h);
        if (rootfs_read_value("/etc/hostname", &h) == 0 && *h)
                return h;
        free(h);
        char buf[256];
        if (rootfs_is_live() && gethostname(buf, sizeof(buf)) == 0) {
                buf[sizeof(buf) - 1] = 0;
                return xstrdup(buf);
        }
        return xstrdup("unknown");
}

int parse_size_arg(const char *s, uint64_t *out)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !isfinite(v) || v < 0 || v > 1e18)
                return -EINVAL;
        double m = 1;
        if (*end == 'k' || *end == 'K')
                m = 1024, end++;
        else if (*end == 'M' || *end == 'm')
                m = 1024.0 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
                m = 1024.0 * 1024 * 1024, end++;
        if (*end == 'i' && end[1] == 'B')
                end += 2;
        else if (*end == 'B')
                end++;
        if (*end)
                return -EINVAL;
        *out = (uint64_t)(v * m);
        return 0;
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
