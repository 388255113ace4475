/* evodiag explain ID: what a check means, why it matters, how to fix it. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"

static const struct check_info run_checks[] = {
        {"timeout", "A collector did not finish in time",
         "The collector's child process did not answer within its deadline and was killed.\n"
         "Why it matters: something it reads is blocking: a hung NFS mount (vGPU /var/vgpu), a GPU\n"
         "driver that stopped answering, a process stuck in D state whose /proc files block.\n"
         "Its checks could not be made, so the verdict is unknown, not ok.\n"
         "Fix: run 'evodiag check -v --only NAME' to see how long it takes; look for D-state\n"
         "processes (ps -eo pid,stat,wchan:32,comm | awk '$2 ~ /D/') and hung mounts;\n"
         "raise the deadline with --collector-timeout or [NAME] timeout = 10s in the config."},
        {"crashed", "A collector crashed",
         "The collector's child died from a signal, exited with an error or sent unreadable\n"
         "results. The rest of the run is unaffected, but this collector's checks are unknown.\n"
         "Fix: this is a bug in evodiag; report it with the output of\n"
         "'evodiag check -v --only NAME' and, if one was written, the core dump."},
        {"findings_cut", "A collector reported more findings than a run keeps",
         "A run keeps at most 100,000 findings (128 MiB) per collector; the rest were left out\n"
         "and this finding says how many there were. Why it matters: the report is not\n"
         "complete, and so many findings usually mean one cause repeated: a writer that\n"
         "leaks /dev/shm segments, a fork bomb, a runaway process.\n"
         "Fix: count the findings by ID (the remedy's jq line), remove the cause, run again."},
        {0},
};

static int explain_one(const char *id)
{
        const struct collector *owner = NULL;
        const struct check_info *ci = check_find(id, &owner);
        if (ci) {
                printf("%s — %s\ncollector: %s (%s)\n\n%s\n", ci->id, ci->title, owner->name, owner->summary, ci->explain);
                return 0;
        }
        const char *dot = strrchr(id, '.');
        if (dot) {
                _cleanup_free_ char *name = xstrndup(id, (size_t)(dot - id));
                const struct collector *col = collector_find(name);
                for (const struct check_info *rc = run_checks; col && rc->id; rc++)
                        if (streq(dot + 1, rc->id)) {
                                printf("%s — %s\ncollector: %s (%s)\n\n%s\n", id, rc->title, col->name, col->summary, rc->explain);
                                return 0;
                        }
        }
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
