/* evodiag explain ID: what a check means, why it matters, how to fix it. */
#include "config.h"
#include "cmd/cmd.h"

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

int cmd_explain(int argc, char **argv)
{
        if (argc < 2)
                return usage_error("explain ", "which check? e.g. evodiag explain shm.orphaned");
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                fputs("Usage: evodiag explain ID...\n\nPrints what a check means, why it matters and how to fix it.\n"
                      "IDs are shown in every report and by 'evodiag list'.\n",
                      stdout);
                return 0;
        }
        int r = 0;
        for (int i = 1; i < argc; i++) {
                if (i > 1)
                        putchar('\n');
                int e = explain_one(argv[i]);
                if (e)
                        r = e;
        }
        return r;
}
