/* evodiag list: every collector, whether it applies here, and its check IDs. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "collectors/runner.h"
#include "lib/escape.h"

static json_object *detect_in_child(void *arg)
{
        struct ctx *c = arg;
        return json_object_new_boolean(!c->self->detect || c->self->detect(c));
}

enum { OPT_JSON = OPTS_OWN };

static const struct opt list_opts[] = {
        {"json", OPT_JSON, NULL, "one JSON document: every collector, whether it applies, its checks\n"
                                 "and config keys (for scripts and shell completions)"},
        {0},
};

static json_object *collector_json(const struct collector *col, const struct job *j)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(col->name));
        json_object_object_add(o, "summary", json_object_new_string(col->summary));
        /* true, false, or null when detection itself did not finish */
        json_object_object_add(o, "applies", j->status != JOB_DONE ? NULL : json_object_new_boolean(json_object_get_boolean(j->result)));
        if (j->status == JOB_DONE && !json_object_get_boolean(j->result) && col->absent) /* why not, and what would make it apply */
                json_object_object_add(o, "absent", json_object_new_string(col->absent));
        json_object *needs = json_object_new_array();
        if (col->needs & NEEDS_ROOT)
                json_object_array_add(needs, json_object_new_string("root"));
        if (col->needs & INTRUSIVE)
                json_object_array_add(needs, json_object_new_string("intrusive"));
        if (col->needs & SLOW)
                json_object_array_add(needs, json_object_new_string("slow"));
        json_object_object_add(o, "needs", needs);
        json_object_object_add(o, "watch", json_object_new_boolean(col->sample != NULL));
        json_object *checks = json_object_new_array();
        for (const struct check_info *ci = col->checks; ci && ci->id; ci++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "id", json_object_new_string(ci->id));
                json_object_object_add(c, "title", json_object_new_string(ci->title));
                json_object_object_add(c, "live", json_object_new_boolean(ci->live));
                json_object_array_add(checks, c);
        }
        json_object_object_add(o, "checks", checks);
        json_object *conf = json_object_new_array();
        for (const struct config_key *k = col->config; k && k->key; k++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "key", json_object_new_string(k->key));
                json_object_object_add(c, "default", json_object_new_string(k->def));
                json_object_object_add(c, "type", json_object_new_string(conf_type_name(k->type)));
                if (k->type == CONF_UINT) {
                        json_object_object_add(c, "min", json_object_new_double(k->min));
                        json_object_object_add(c, "max", json_object_new_double(k->max));
                }
                json_object_object_add(c, "help", json_object_new_string(k->help));
                json_object_array_add(conf, c);
        }
        json_object_object_add(o, "config", conf);
        return o;
}

/* The run's own checks (evodiag.*) and those every collector has from the engine
 * (<collector>.timeout, .crashed, ...): IDs a report and watch can show, not a
 * collector's own, so they are listed apart. */
static json_object *run_checks_json(void)
{
        json_object *o = json_object_new_object(), *own = json_object_new_array(), *per = json_object_new_array();
        json_object_object_add(o, "name", json_object_new_string(run_self.name));
        json_object_object_add(o, "summary", json_object_new_string(run_self.summary));
        for (const struct check_info *ci = run_self.checks; ci && ci->id; ci++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "id", json_object_new_string(ci->id));
                json_object_object_add(c, "title", json_object_new_string(ci->title));
                json_object_array_add(own, c);
        }
        for (const struct check_info *ci = engine_checks; ci->id; ci++) {
                json_object *c = json_object_new_object();
                _cleanup_free_ char *id = xasprintf("<collector>.%s", ci->id);
                json_object_object_add(c, "id", json_object_new_string(id));
                json_object_object_add(c, "suffix", json_object_new_string(ci->id));
                json_object_object_add(c, "title", json_object_new_string(ci->title));
                json_object_array_add(per, c);
        }
        json_object_object_add(o, "checks", own);
        json_object_object_add(o, "every_collector", per);
        return o;
}

static void run_checks_text(void)
{
        /* Not a collector's line (those start with its name: scripts take the first word). */
        printf("%-21s checks:", "(the run itself)");
        for (const struct check_info *ci = run_self.checks; ci && ci->id; ci++)
                printf(" %s", ci->id);
        putchar('\n');
        printf("%-21s of every collector:", "");
        for (const struct check_info *ci = engine_checks; ci->id; ci++)
                printf(" <collector>.%s", ci->id);
        printf(" (e.g. 'evodiag explain memory.timeout')\n");
}

const struct verb_spec list_verb = {
        .name = "list",
        .about = "Lists every collector with its summary, whether it applies on this host\n"
                 "(yes / no / ? when detection itself timed out; for no, what it looked for and\n"
                 "what would make it apply), and the IDs of its checks.\n"
                 "'watch samples' names the checks 'evodiag watch' judges every interval; it\n"
                 "re-runs the others in a background check every --check-every (default 5m).\n"
                 "Last, the run's own checks (evodiag.*) and those every collector has\n"
                 "(<collector>.timeout, .crashed, ...): 'evodiag explain' knows them all.\n"
                 "With -v also each collector's config keys with defaults.\n",
        .opts = list_opts,
        .common = COMMON_ROOT | COMMON_CONFIG | COMMON_VERBOSE,
};

int cmd_list(int argc, char **argv)
{
        struct common c = {0};
        int r = 0, o;
        bool json = false;
        struct opts p;
        opts_init(&p, &list_verb, &c, argc, argv);
        while ((o = opts_next(&p)) > 0)
                if (o == OPT_JSON)
                        json = true;
        if (o < 0) {
                r = p.rc;
                goto out;
        }
        int v = c.verbose;
        c.verbose = 0; /* the housekeeping line is noise here */
        if ((r = common_setup(&c)))
                goto out;
        size_t n = 0;
        while (collectors[n])
                n++;
        struct job *jobs = xcalloc(n, sizeof(*jobs));
        struct ctx *ctxs = xcalloc(n, sizeof(*ctxs));
        for (size_t i = 0; i < n; i++) {
                ctxs[i] = c.ctx;
                ctxs[i].self = collectors[i];
                jobs[i] = (struct job){.name = collectors[i]->name, .fn = detect_in_child, .arg = &ctxs[i],
                                       .timeout_ms = collector_timeout_ms(&c.ctx, collectors[i], 2000)};
        }
        struct job_opts jo = {.deadline_ms = now_ms_monotonic() + 10000, .parallel = c.parallel};
        jobs_run(jobs, n, &jo);
        if (json) {
                json_object *doc = json_object_new_object(), *arr = json_object_new_array();
                json_object_object_add(doc, "schema", json_object_new_int(1));
                json_object_object_add(doc, "tool", json_object_new_string("evodiag"));
                json_object_object_add(doc, "version", json_object_new_string(PACKAGE_VERSION));
                _cleanup_free_ char *host = inspected_hostname(&c); /* "applies" is this host's answer */
                json_object_object_add(doc, "host", json_string_utf8(host));
                for (size_t i = 0; i < n; i++) {
                        json_object_array_add(arr, collector_json(collectors[i], &jobs[i]));
                        job_clear(&jobs[i]);
                }
                json_object_object_add(doc, "collectors", arr);
                json_object_object_add(doc, "run", run_checks_json());
                _cleanup_free_ char *t = json_text(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
                puts(t);
                output_document_written();
                json_object_put(doc);
                free(jobs);
                free(ctxs);
                goto out;
        }
        printf("%-12s %-8s %s\n", "COLLECTOR", "APPLIES", "SUMMARY");
        for (size_t i = 0; i < n; i++) {
                const struct collector *col = collectors[i];
                const char *applies = jobs[i].status != JOB_DONE ? "?" : json_object_get_boolean(jobs[i].result) ? "yes" : "no";
                printf("%-12s %-8s %s%s%s%s\n", col->name, applies, col->summary,
                       col->needs & NEEDS_ROOT ? " [root]" : "", col->needs & INTRUSIVE ? " [intrusive]" : "",
                       col->needs & SLOW ? " [slow]" : "");
                if (jobs[i].status == JOB_DONE && !json_object_get_boolean(jobs[i].result) && col->absent)
                        printf("%-21s not here: %s\n", "", col->absent);
                printf("%-21s checks:", "");
                for (const struct check_info *ci = col->checks; ci && ci->id; ci++)
                        printf(" %s", ci->id);
                putchar('\n');
                printf("%-21s watch samples:", "");
                for (size_t k = 0; col->sample && col->sampled && col->sampled[k]; k++)
                        printf(" %s", col->sampled[k]);
                printf("%s\n", col->sample && col->sampled && col->sampled[0] ? "" : " none (its checks run in watch's background check)");
                if (v)
                        for (const struct config_key *k = col->config; k && k->key; k++) {
                                char range[64] = "";
                                if (k->type == CONF_UINT)
                                        snprintf(range, sizeof(range), " %.15g..%.15g", k->min, k->max);
                                printf("%-21s [%s] %s = %s  # %s (%s%s)\n", "", col->name, k->key, k->def, k->help,
                                       conf_type_name(k->type), range);
                        }
                job_clear(&jobs[i]);
        }
        run_checks_text();
        free(jobs);
        free(ctxs);
out:
        common_free(&c);
        return r;
}
