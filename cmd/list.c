/* evodiag list: every collector, whether it applies here, and its check IDs. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "collectors/runner.h"

static json_object *detect_in_child(void *arg)
{
        struct ctx *c = arg;
        return json_object_new_boolean(!c->self->detect || c->self->detect(c));
}

static const struct verb_spec list_verb = {
        .name = "list",
        .about = "Lists every collector with its summary, whether it applies on this host\n"
                 "(yes / no / ? when detection itself timed out), and the IDs of its checks.\n"
                 "'watch samples' names the checks 'evodiag watch' judges every interval; it\n"
                 "re-runs the others in a background check every --check-every (default 1m).\n"
                 "With -v also each collector's config keys with defaults.\n",
        .common = COMMON_ROOT | COMMON_CONFIG | COMMON_VERBOSE,
};

int cmd_list(int argc, char **argv)
{
        struct common c = {0};
        int r = 0;
        struct opts p;
        opts_init(&p, &list_verb, &c, argc, argv);
        if (opts_next(&p) < 0) { /* common options only: it has none of its own */
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
        printf("%-12s %-8s %s\n", "COLLECTOR", "APPLIES", "SUMMARY");
        for (size_t i = 0; i < n; i++) {
                const struct collector *col = collectors[i];
                const char *applies = jobs[i].status != JOB_DONE ? "?" : json_object_get_boolean(jobs[i].result) ? "yes" : "no";
                printf("%-12s %-8s %s%s%s%s\n", col->name, applies, col->summary,
                       col->needs & NEEDS_ROOT ? " [root]" : "", col->needs & INTRUSIVE ? " [intrusive]" : "",
                       col->needs & SLOW ? " [slow]" : "");
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
        free(jobs);
        free(ctxs);
out:
        common_free(&c);
        return r;
}
