/* evodiag explain ID: what a check means, why it matters, how to fix it. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"

static int explain_one(const char *id)
{
        const struct collector *owner = NULL;
        const struct check_info *ci = check_find(id, &owner);
        if (ci) { /* the ID as asked: "memory.timeout" is the engine's "timeout" */
                printf("%s — %s\ncollector: %s (%s)\n\n%s\n", id, ci->title, owner->name, owner->summary, ci->explain);
                return 0;
        }
        const char *dot = strrchr(id, '.');
        struct strbuf b = {0};
        for (size_t i = 0; collectors[i]; i++)
                for (const struct check_info *c = collectors[i]->checks; c && c->id; c++)
                        if (strstr(c->id, id) || (dot && startswith(c->id, id)))
                                sb_printf(&b, " %s", c->id);
        if (b.len)
                err("no check '%s'; did you mean:%s", id, b.s);
        else
                err("no check '%s' (evodiag list shows every ID)", id);
        sb_free(&b);
        return EXIT_USAGE;
}

static const struct verb_spec explain_verb = {
        .name = "explain",
        .synopsis = "ID...",
        .about = "Prints what a check means, why it matters and how to fix it.\n"
                 "IDs are shown in every report and by 'evodiag list'.\n",
        .args = true,
};

int cmd_explain(int argc, char **argv)
{
        struct common c = {0};
        struct opts p;
        opts_init(&p, &explain_verb, &c, argc, argv);
        if (opts_next(&p) < 0) /* -h only: it has no options of its own */
                return p.rc;
        if (p.next_arg >= argc)
                return usage_error("explain", "which check? e.g. evodiag explain shm.orphaned");
        int r = 0;
        for (int i = p.next_arg; i < argc; i++) {
                if (i > p.next_arg)
                        putchar('\n');
                int e = explain_one(argv[i]);
                if (e)
                        r = e;
        }
        return r;
}
