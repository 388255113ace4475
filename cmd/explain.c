/* evodiag explain ID: what a check means, why it matters, how to fix it. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/escape.h"

enum { OPT_JSON = OPTS_OWN };

static const struct opt explain_opts[] = {
        {"json", OPT_JSON, NULL, "one JSON document: {\"checks\":[{id, title, collector, explain}]}"},
        {0},
};

/* Unknown IDs: a usage error naming close ones. */
static int no_such(const char *id)
{
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

static int explain_one(const char *id, json_object *arr)
{
        const struct collector *owner = NULL;
        const struct check_info *ci = check_find(id, &owner);
        if (!ci)
                return no_such(id);
        if (arr) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "title", json_object_new_string(ci->title));
                json_object_object_add(o, "collector", json_object_new_string(owner->name));
                json_object_object_add(o, "collector_summary", json_object_new_string(owner->summary));
                json_object_object_add(o, "live", json_object_new_boolean(ci->live));
                json_object_object_add(o, "explain", json_object_new_string(ci->explain));
                json_object_array_add(arr, o);
                return 0;
        }
        /* the ID as asked: "memory.timeout" is the engine's "timeout" */
        _cleanup_free_ char *t = xasprintf("%s — %s\ncollector: %s (%s)\n\n%s\n", id, ci->title, owner->name, owner->summary,
                                           ci->explain);
        fputs_locale(t, stdout);
        return 0;
}

const struct verb_spec explain_verb = {
        .name = "explain",
        .synopsis = "ID...",
        .about = "Prints what a check means, why it matters and how to fix it.\n"
                 "IDs are shown in every report and by 'evodiag list'.\n",
        .opts = explain_opts,
        .args = true,
};

int cmd_explain(int argc, char **argv)
{
        struct common c = {0};
        struct opts p;
        bool json = false;
        int o;
        opts_init(&p, &explain_verb, &c, argc, argv);
        while ((o = opts_next(&p)) > 0)
                if (o == OPT_JSON)
                        json = true;
        if (o < 0)
                return p.rc;
        if (p.next_arg >= argc)
                return usage_error("explain", "which check? e.g. evodiag explain shm.orphaned");
        int r = 0;
        json_object *doc = NULL, *arr = NULL;
        if (json) {
                doc = json_object_new_object();
                arr = json_object_new_array();
                json_object_object_add(doc, "schema", json_object_new_int(1));
                json_object_object_add(doc, "tool", json_object_new_string("evodiag"));
                json_object_object_add(doc, "version", json_object_new_string(PACKAGE_VERSION));
        }
        for (int i = p.next_arg; i < argc; i++) {
                if (i > p.next_arg && !json)
                        putchar('\n');
                int e = explain_one(argv[i], arr);
                if (e)
                        r = e;
        }
        if (json) {
                json_object_object_add(doc, "checks", arr);
                if (json_object_array_length(arr)) { /* else the error document (errors_finish) */
                        _cleanup_free_ char *t = json_text(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
                        puts(t);
                        output_document_written();
                }
                json_object_put(doc);
        }
        return r;
}
