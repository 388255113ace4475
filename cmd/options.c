/* One parser and one --help for every verb: its own options plus the common ones it
 * takes, from one table each (see options.h). */
#include "config.h"
#include "cmd/options.h"
#include "cmd/cmd.h"
#include "lib/escape.h"
#include "collectors/perf.h"

#include <ctype.h>

enum { CO_ONLY = 0x100, CO_SKIP, CO_ROOT, CO_CONFIG, CO_TIMEOUT, CO_CTIMEOUT, CO_INTRUSIVE, CO_COLOR, CO_PID, CO_JDIR, CO_JFILE };

static const struct common_opt_def {
        unsigned flag; /* 0: every verb */
        struct opt o;
} common_opts[] = {
        {COMMON_ONLY_SKIP, {"only", CO_ONLY, "A,B", "run only these collectors (see 'evodiag list')"}},
        {COMMON_ONLY_SKIP, {"skip", CO_SKIP, "A,B", "do not run these collectors"}},
        {COMMON_ROOT, {"root", CO_ROOT, "DIR", "read /proc, /sys, /etc, /dev/shm, /var under DIR\n"
                                                 "(a copy of another host's files, or a test tree)"}},
        {COMMON_CONFIG, {"config", CO_CONFIG, "FILE", "config file (default " CONFIG_DEFAULT_PATH "; absent is fine)"}},
        {COMMON_TIMEOUT, {"timeout", CO_TIMEOUT, "DUR", "deadline for the whole run"}},
        {COMMON_COLLECTOR_TIMEOUT, {"collector-timeout", CO_CTIMEOUT, "DUR", "deadline for each collector"}},
        {COMMON_ALLOW_INTRUSIVE, {"allow-intrusive", CO_INTRUSIVE, NULL,
                                  "also run what signals or queries components\n"
                                  "(LavinMQ's USR1 state dump, ...)"}},
        {COMMON_COLOR, {"color", CO_COLOR, "WHEN", "auto (default: on a terminal unless NO_COLOR is set),\n"
                                                   "always, never"}},
        {COMMON_PID, {"pid", CO_PID, "PID,...", "perf: count (and profile) these processes instead of the\n"
                                              "component processes ([perf] pids)"}},
        {COMMON_VERBOSE, {"verbose", 'v', NULL, "more detail (what it adds: see above)"}},
        {COMMON_JOURNAL, {"journal-dir", CO_JDIR, "DIR", "read the journal files in DIR instead of the system\n"
                                                        "journal (repeatable)"}},
        {COMMON_JOURNAL, {"journal-file", CO_JFILE, "FILE", "read this journal file (repeatable)"}},
        {0, {"help", 'h', NULL, "this help"}},
};

const char *const color_whens[] = {"auto", "always", "never", NULL};

static bool takes(const struct verb_spec *v, const struct common_opt_def *d)
{
        return !d->flag || (v->common & d->flag);
}

static void add(struct opts *p, size_t *n, size_t *ns, const struct opt *o)
{
        if (*n >= OPTS_MAX)
                abort(); /* a verb's table outgrew OPTS_MAX: a programming error */
        p->lo[(*n)++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
        if (o->key < 128 && isalnum(o->key)) {
                p->so[(*ns)++] = (char)o->key;
                if (o->arg)
                        p->so[(*ns)++] = ':';
        }
}

void opts_init(struct opts *p, const struct verb_spec *v, struct common *c, int argc, char **argv)
{
        *p = (struct opts){.verb = v, .c = c, .argc = argc, .argv = argv};
        c->verb = v;
        size_t n = 0, ns = 0;
        p->so[ns++] = ':'; /* report a missing value as ':' */
        for (const struct opt *o = v->opts; o && o->name; o++)
                add(p, &n, &ns, o);
        for (size_t i = 0; i < ARRAY_SIZE(common_opts); i++)
                if (takes(v, &common_opts[i]))
                        add(p, &n, &ns, &common_opts[i].o);
        p->lo[n] = (struct option){0};
        p->so[ns] = 0;
        optind = 1;
        opterr = 0;
}

static int fail(struct opts *p, const char *fmt, ...) PRINTF(2, 3);
static int fail(struct opts *p, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        p->rc = usage_error(p->verb->name, "%s", msg);
        return -1;
}

/* A common option this verb does not take: say so rather than "unknown". */
static const char *common_not_taken(const struct verb_spec *v, const char *arg)
{
        if (!startswith(arg, "--"))
                return NULL;
        size_t len = strcspn(arg + 2, "=");
        for (size_t i = 0; i < ARRAY_SIZE(common_opts); i++)
                if (!takes(v, &common_opts[i]) && strlen(common_opts[i].o.name) == len &&
                    !strncmp(common_opts[i].o.name, arg + 2, len))
                        return common_opts[i].o.name;
        return NULL;
}

int opts_next(struct opts *p)
{
        struct common *c = p->c;
        const char *verb = p->verb->name;
        int o;
        p->arg = NULL;
        while ((o = getopt_long(p->argc, p->argv, p->so, p->lo, NULL)) != -1) {
                uint64_t ms;
                switch (o) {
                case CO_ONLY:
                case CO_SKIP: {
                        char ***list = o == CO_ONLY ? &c->only : &c->skip, **v = NULL;
                        const char *what = o == CO_ONLY ? "--only" : "--skip";
                        if ((p->rc = parse_collector_list(verb, what, optarg, &v)))
                                return -1;
                        strv_free(*list); /* the last one given wins, as for every option */
                        *list = v;
                        *(o == CO_ONLY ? &c->only_from : &c->skip_from) = what;
                        break;
                }
                case CO_ROOT: c->root = optarg; break;
                case CO_CONFIG: c->config_path = optarg; break;
                case CO_TIMEOUT:
                case CO_CTIMEOUT:
                        if (parse_duration_ms(optarg, &ms) < 0)
                                return fail(p, "%s: '%s' is not a duration (e.g. 500ms, 5s, 2m)",
                                            o == CO_TIMEOUT ? "--timeout" : "--collector-timeout", optarg);
                        if (ms == 0)
                                return fail(p, "%s: '%s': must be > 0 (e.g. 500ms, 5s, 2m)",
                                            o == CO_TIMEOUT ? "--timeout" : "--collector-timeout", optarg);
                        *(o == CO_TIMEOUT ? &c->timeout_ms : &c->collector_timeout_ms) = ms;
                        break;
                case CO_INTRUSIVE: c->allow_intrusive = true; break;
                case CO_PID: {
                        int pids[PERF_PIDS_MAX];
                        _cleanup_free_ char *why = NULL;
                        if (perf_parse_pids(optarg, pids, PERF_PIDS_MAX, &why) <= 0)
                                return fail(p, "--pid: %s", why ? why : "no process id given");
                        c->pids = optarg;
                        break;
                }
                case CO_COLOR:
                        if (!strv_contains(color_whens, optarg))
                                return fail(p, "--color: '%s' is not auto, always or never", optarg);
                        c->color = optarg;
                        break;
                case 'v': c->verbose++; break;
                case CO_JDIR:
                case CO_JFILE: {
                        /* Handed to the journal collector as [journal] dirs/files (comma lists). */
                        struct strbuf *b = o == CO_JDIR ? &c->journal_dirs : &c->journal_files;
                        if (!optarg[0] || strchr(optarg, ','))
                                return fail(p, "%s: '%s': a path must be non-empty and without commas",
                                            o == CO_JDIR ? "--journal-dir" : "--journal-file", optarg);
                        sb_printf(b, "%s%s", b->len ? "," : "", optarg);
                        break;
                }
                case 'h':
                        opts_help(p->verb, stdout);
                        p->rc = 0;
                        return -1;
                case ':': return fail(p, "option '%s' needs a value", p->argv[optind - 1]);
                case '?': {
                        const char *a = p->argv[optind - 1];
                        const char *name = common_not_taken(p->verb, a);
                        if (name)
                                return fail(p, "unknown option '%s' (evodiag %s does not take --%s)", a, verb, name);
                        return fail(p, "unknown option '%s'", a);
                }
                default:
                        p->arg = optarg;
                        return o;
                }
        }
        if (optind < p->argc && !p->verb->args)
                return fail(p, "unexpected argument '%s'", p->argv[optind]);
        p->next_arg = optind;
        return 0;
}

/* "30s", "2m", "500ms" */
static void fmt_default(char *buf, size_t n, uint64_t ms)
{
        if (ms % 60000 == 0)
                snprintf(buf, n, "%llum", (unsigned long long)(ms / 60000));
        else if (ms % 1000 == 0)
                snprintf(buf, n, "%llus", (unsigned long long)(ms / 1000));
        else
                snprintf(buf, n, "%llums", (unsigned long long)ms);
}

/* "  -o, --output PATH     text", continuation lines under the text. */
static void help_line(FILE *out, const struct opt *o, const char *extra)
{
        char left[64];
        if (o->key < 128 && isalnum(o->key))
                snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else
                snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        int w = (int)strlen(left);
        fprintf(out, "  %s%*s", left, w < 20 ? 22 - w : 2, "");
        for (const char *s = o->help; *s;) {
                size_t len = strcspn(s, "\n");
                fprintf(out, "%.*s", (int)len, s);
                s += len;
                if (*s == '\n' && *++s)
                        fprintf(out, "\n%24s", "");
        }
        fprintf(out, "%s\n", extra ? extra : "");
}

void opts_each(const struct verb_spec *v, void (*fn)(const struct opt *o, bool common, const char *def, void *arg), void *arg)
{
        for (const struct opt *o = v->opts; o && o->name; o++)
                fn(o, false, "", arg);
        for (size_t i = 0; i < ARRAY_SIZE(common_opts); i++) {
                const struct common_opt_def *d = &common_opts[i];
                if (!takes(v, d))
                        continue;
                char def[64] = "", t[32];
                if (d->flag & (COMMON_TIMEOUT | COMMON_COLLECTOR_TIMEOUT)) {
                        fmt_default(t, sizeof(t), d->flag == COMMON_TIMEOUT ? common_timeout_ms(v) : common_collector_timeout_ms(v));
                        snprintf(def, sizeof(def), " (default %s)", t);
                }
                fn(&d->o, true, def, arg);
        }
}

static void help_common(const struct opt *o, bool common, const char *def, void *out)
{
        if (common)
                help_line(out, o, def);
}

void opts_help(const struct verb_spec *v, FILE *out)
{
        const char *syn = v->synopsis ? v->synopsis : "[OPTIONS]";
        fprintf(out, "Usage: evodiag %s ", v->name);
        for (const char *s = syn; *s; s++) {
                fputc(*s, out);
                if (*s == '\n')
                        fprintf(out, "       evodiag %s ", v->name);
        }
        fputc('\n', out);
        if (v->about) {
                fputc('\n', out);
                fputs_locale(v->about, out); /* ASCII where the locale is not UTF-8 */
        }
        if (v->opts && v->opts->name) {
                fputs("\nOptions:\n", out);
                for (const struct opt *o = v->opts; o->name; o++)
                        help_line(out, o, NULL);
        }
        fputs(v->opts && v->opts->name ? "\nCommon options:\n" : "\nOptions:\n", out);
        opts_each(v, help_common, out);
        if (v->epilogue) {
                fputc('\n', out);
                fputs_locale(v->epilogue, out);
        }
}
