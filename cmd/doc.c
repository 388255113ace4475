/* Hidden verbs that print the lists the binary itself parses and judges, from the same
 * tables, so the man pages and the shell completions cannot drift from the code:
 *
 *   evodiag __doc verbs | options VERB | common VERB | about VERB | config | checks
 *       roff for the man pages (man/mkman.sh splices it into the man/ templates at build time)
 *   evodiag __complete verbs | options VERB | values VERB OPTION | collectors | ids
 *       tab-separated lines for completions/ (bash, zsh, fish)
 *
 * Neither is in `evodiag --help`: they are interfaces of the build and the shells. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "report/report.h"
#include "report/templates_builtin.h"

#include <ctype.h>

/* ---- roff ---- */

/* s as roff text, without a newline at the end: backslashes and hyphens escaped, non-ASCII as \[uXXXX] (groff and
 * mandoc read it whatever the locale), a line that would start with a control character
 * guarded. join: a '\n' is a space (option help continues on the next line); else each
 * line stays a line and an empty one starts a paragraph (`para`, ".PP" or ".IP"). */
static bool roff_raw(FILE *out, const char *s, bool join, const char *para)
{
        bool bol = true, indented = false;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '\n') {
                        if (join) {
                                fputc(' ', out);
                                continue;
                        }
                        if (bol) /* an empty line: a new paragraph */
                                fprintf(out, "%s", para);
                        /* an indented line (a command to type) stays a line of its own */
                        fputs(indented ? "\n.br\n" : "\n", out);
                        bol = true;
                        indented = false;
                        continue;
                }
                if (bol && !join) {
                        indented = c == ' ';
                        if (startswith(s, "Fix:")) /* the remedy starts a line */
                                fputs(".br\n", out);
                }
                if (bol && (c == '.' || c == '\''))
                        fputs("\\&", out);
                bol = false;
                if (c == '\\')
                        fputs("\\e", out);
                else if (c == '-')
                        fputs("\\-", out);
                else if (c < 0x80) {
                        fputc(c, out);
                        if ((c == ',' || c == '/') && s[1] && s[1] != ' ' && s[1] != '\n')
                                fputs("\\:", out); /* may break here: a long path or list still fits */
                } else {
                        int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
                        uint32_t cp = c & (0x3fu >> n);
                        for (int k = 1; k <= n; k++) {
                                if (((unsigned char)s[k] & 0xc0) != 0x80) { /* not UTF-8: never in our tables */
                                        n = 0;
                                        cp = '?';
                                        break;
                                }
                                cp = cp << 6 | ((unsigned char)s[k] & 0x3f);
                        }
                        fprintf(out, n ? "\\[u%04X]" : "%c", (unsigned)cp);
                        s += n;
                }
        }
        return bol;
}

/* roff_raw(), ending the last line. */
static void roff(FILE *out, const char *s, bool join, const char *para)
{
        if (!roff_raw(out, s, join, para))
                fputc('\n', out);
}

static const struct verb *verb_named(const char *name)
{
        for (size_t i = 0; verbs[i].name; i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        err("no command '%s'", name);
        return NULL;
}

/* A word of a tag line or a default value (ASCII): escaped as roff() does. */
static void roff_word(FILE *out, const char *s)
{
        roff_raw(out, s, true, "");
}

struct doc_opts {
        FILE *out;
        bool common;
};

/* One .TP entry: the option's forms and value, then its help (continuation lines joined). */
static void doc_opt(const struct opt *o, bool common, const char *def, void *arg)
{
        struct doc_opts *d = arg;
        if (common != d->common)
                return;
        fputs(".TP\n", d->out);
        if (o->key < 128 && isalnum(o->key))
                fprintf(d->out, "\\fB\\-%c\\fR, ", o->key);
        fputs("\\fB\\-\\-", d->out);
        roff_word(d->out, o->name);
        fputs("\\fR", d->out);
        if (o->arg) {
                fputs(" \\fI", d->out);
                roff_word(d->out, o->arg);
                fputs("\\fR", d->out);
        }
        fputc('\n', d->out);
        _cleanup_free_ char *h = xasprintf("%s%s", o->help, def);
        roff(d->out, h, true, "");
}

static void doc_key(FILE *out, const struct config_key *k)
{
        fputs(".TP\n\\fB", out);
        roff_word(out, k->key);
        fputs("\\fR\n", out);
        roff(out, k->help, true, "");
        fputs(".br\nType: ", out);
        roff_raw(out, conf_type_name(k->type), true, "");
        if (k->type == CONF_UINT)
                fprintf(out, " from %.0f to %.0f", k->min, k->max);
        fputs(".\n", out);
        if (k->def[0]) {
                fputs("Default: \\fB", out);
                roff_word(out, k->def);
                fputs("\\fR.\n", out);
        } else
                fputs("Default: none.\n", out);
}

/* Long lists and paths in defaults and explain texts: left-aligned, so a line broken
 * inside one is not stretched (groff -ww: "cannot adjust line"). */
static void doc_config(FILE *out)
{
        fputs(".ad l\n", out);
        for (const struct config_section *s = config_run_sections; s->name; s++) {
                fprintf(out, ".SS [%s]\n", s->name);
                for (const struct config_key *k = s->keys; k->key; k++)
                        doc_key(out, k);
        }
        for (size_t i = 0; collectors[i]; i++) {
                const struct collector *c = collectors[i];
                fprintf(out, ".SS [%s]\n", c->name);
                roff(out, c->summary, true, "");
                for (const struct config_key *k = c->config; k && k->key; k++)
                        doc_key(out, k);
                for (const struct config_key *k = collector_common; k->key; k++)
                        doc_key(out, k);
        }
        fputs(".ad\n", out);
}

/* One check: its ID (or "COLLECTOR.id" for the engine's), title, when it runs, explain text. */
static void doc_check(FILE *out, const struct collector *c, const struct check_info *ci, bool engine)
{
        fputs(".TP\n", out);
        if (engine)
                fputs("\\fIcollector\\fB.", out);
        else
                fputs("\\fB", out);
        roff_word(out, ci->id);
        fputs("\\fR\n\\fI", out);
        roff_raw(out, ci->title, true, "");
        fputs("\\fR\n", out);
        if (ci->live)
                fputs("(live: needs the running system; \\fBcheck \\-\\-from\\fR skips it)\n", out);
        if (c && collector_samples(c, ci->id))
                fputs("(sampled by \\fBwatch\\fR every interval)\n", out);
        fputs(".br\n", out);
        roff(out, ci->explain, false, ".IP");
}

static void doc_checks(FILE *out)
{
        fputs(".ad l\n", out);
        fprintf(out, ".SS \"%s \\(em %s\"\n", run_self.name, run_self.summary);
        for (const struct check_info *ci = run_self.checks; ci->id; ci++)
                doc_check(out, NULL, ci, false);
        for (size_t i = 0; collectors[i]; i++) {
                const struct collector *c = collectors[i];
                fprintf(out, ".SS \"%s \\(em ", c->name);
                roff_raw(out, c->summary, true, "");
                fputs("\"\n", out);
                for (const struct check_info *ci = c->checks; ci && ci->id; ci++)
                        doc_check(out, c, ci, false);
        }
        fputs(".SS \"Every collector\"\n"
              "The engine reports these for any collector, as \\fIcollector\\fR.\\fIid\\fR (\\fBmemory.timeout\\fR).\n",
              out);
        for (const struct check_info *ci = engine_checks; ci->id; ci++)
                doc_check(out, NULL, ci, true);
        fputs(".ad\n", out);
}

static int doc_usage(const char *verb)
{
        return usage_error(verb, "evodiag %s verbs | options VERB | common VERB | about VERB | config | checks", verb);
}

int cmd_doc(int argc, char **argv)
{
        if (argc < 2)
                return doc_usage("__doc");
        const char *what = argv[1];
        if (argc == 2 && streq(what, "verbs")) {
                for (size_t i = 0; verbs[i].name; i++) {
                        printf(".TP\n\\fB%s\\fR\n", verbs[i].name);
                        roff(stdout, verbs[i].summary, true, "");
                }
        } else if (argc == 2 && streq(what, "config"))
                doc_config(stdout);
        else if (argc == 2 && streq(what, "checks"))
                doc_checks(stdout);
        else if (argc == 3 && (streq(what, "options") || streq(what, "common") || streq(what, "about"))) {
                const struct verb *v = verb_named(argv[2]);
                if (!v)
                        return EXIT_USAGE;
                if (streq(what, "about")) {
                        if (v->spec->about)
                                roff(stdout, v->spec->about, false, ".PP");
                } else
                        opts_each(v->spec, doc_opt, &(struct doc_opts){stdout, streq(what, "common")});
        } else
                return doc_usage("__doc");
        return fflush(stdout) ? EXIT_USAGE : 0;
}

/* ---- completions ---- */

/* What an option's value is, for the shells: how to complete it. */
static const char *opt_kind(const struct opt *o)
{
        if (!o->arg)
                return "flag";
        if (streq(o->name, "replay"))
                return "recording";
        if (streq(o->name, "journal-file"))
                return "journal";
        if (streq(o->name, "format") || streq(o->name, "color") || streq(o->name, "component") ||
            strspn(o->arg, "abcdefghijklmnopqrstuvwxyz|") == strlen(o->arg))
                return "values";
        if (streq(o->arg, "A,B"))
                return "collectors";
        if (streq(o->arg, "ID"))
                return "ids";
        if (streq(o->arg, "ID,..."))
                return "idlist";
        if (streq(o->arg, "DIR"))
                return "dir";
        if (startswith(o->arg, "BUNDLE"))
                return "bundle";
        if (strstr(o->arg, "FILE") || strstr(o->arg, "PATH"))
                return "file";
        return "none";
}

/* The first line of the help, tabs and newlines out of the way. */
static void first_line(const char *s)
{
        printf("%.*s\n", (int)strcspn(s, "\n\t"), s);
}

static void complete_opt(const struct opt *o, bool common, const char *def, void *arg)
{
        const char *kind = opt_kind(o);
        if (o->key < 128 && isalnum(o->key)) {
                printf("-%c\t%s\t", o->key, kind);
                first_line(o->help);
        }
        printf("--%s\t%s\t", o->name, kind);
        first_line(o->help);
}

struct values_arg {
        const char *name;
        bool found;
};

static void complete_values(const struct opt *o, bool common, const char *def, void *arg)
{
        struct values_arg *va = arg;
        if (!streq(o->name, va->name) || !streq(opt_kind(o), "values"))
                return;
        va->found = true;
        if (streq(o->name, "format"))
                for (size_t i = 0; format_name(i); i++)
                        puts(format_name(i));
        else if (streq(o->name, "color"))
                for (size_t i = 0; color_whens[i]; i++)
                        puts(color_whens[i]);
        else if (streq(o->name, "component"))
                for (size_t i = 0; builtin_templates[i].name; i++)
                        puts(builtin_templates[i].name);
        else /* warn|crit */
                for (const char *s = o->arg; *s; s += *s == '|') {
                        size_t n = strcspn(s, "|");
                        printf("%.*s\n", (int)n, s);
                        s += n;
                }
}

static void complete_ids(void)
{
        for (const struct check_info *ci = run_self.checks; ci->id; ci++)
                printf("%s\t%s\n", ci->id, ci->title);
        for (size_t i = 0; collectors[i]; i++)
                for (const struct check_info *ci = collectors[i]->checks; ci && ci->id; ci++)
                        printf("%s\t%s\n", ci->id, ci->title);
        for (size_t i = 0; collectors[i]; i++)
                for (const struct check_info *ci = engine_checks; ci->id; ci++)
                        printf("%s.%s\t%s\n", collectors[i]->name, ci->id, ci->title);
}

int cmd_complete(int argc, char **argv)
{
        const char *what = argc > 1 ? argv[1] : "";
        if (argc == 2 && streq(what, "verbs")) {
                for (size_t i = 0; verbs[i].name; i++)
                        printf("%s\t%s\n", verbs[i].name, verbs[i].summary);
                printf("help\tdescribe a command and its options\n");
        } else if (argc == 2 && streq(what, "collectors")) {
                for (size_t i = 0; collectors[i]; i++)
                        printf("%s\t%s\n", collectors[i]->name, collectors[i]->summary);
        } else if (argc == 2 && streq(what, "ids"))
                complete_ids();
        else if (argc == 3 && streq(what, "options")) {
                const struct verb *v = verb_named(argv[2]);
                if (!v)
                        return EXIT_USAGE;
                opts_each(v->spec, complete_opt, NULL);
        } else if (argc == 4 && streq(what, "values")) {
                const struct verb *v = verb_named(argv[2]);
                if (!v)
                        return EXIT_USAGE;
                const char *name = argv[3];
                while (*name == '-')
                        name++;
                struct values_arg va = {name, false};
                opts_each(v->spec, complete_values, &va);
                if (!va.found)
                        return usage_error("__complete", "evodiag %s has no option --%s with a list of values", v->name, name);
        } else
                return usage_error("__complete", "evodiag __complete verbs | options VERB | values VERB OPTION | collectors | ids");
        return fflush(stdout) ? EXIT_USAGE : 0;
}
