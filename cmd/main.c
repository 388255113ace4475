/* evodiag: find out what is wrong on a host of the EVO real-time stack, and file
 * a bug report maintainers can act on. The one table of verbs is here. */
#include "config.h"
#include "cmd/cmd.h"

#include <locale.h>
#include <signal.h>

const struct verb verbs[] = {
        {"check", cmd_check, "run every relevant check: verdict, expected vs found, remedy", &check_verb},
        {"bundle", cmd_bundle, "one redacted, issue-ready .tar.zst: evidence, ISSUE.md, manifest", &bundle_verb},
        {"watch", cmd_watch, "live view and recorder during an incident", &watch_verb},
        {"list", cmd_list, "list collectors, whether they apply here, and their check IDs", &list_verb},
        {"explain", cmd_explain, "explain a check ID: what it means and how to fix it", &explain_verb},
        {"version", cmd_version, "print the version (-v: library versions too)", &version_verb},
        {0},
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: evodiag <command> [options]\n\n"
                     "Diagnoses hosts of the EVO real-time stack (EVO shared memory, LavinMQ,\n"
                     "vGPU mediator, Cerebellar-Norse, framealloc) and the host settings they need.\n\n"
                     "Commands:\n");
        for (size_t i = 0; verbs[i].name; i++)
                fprintf(out, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(out, "\n'evodiag <command> --help' describes a command's options.\n"
                     "Exit status: 0 ok, 1 warning, 2 critical, 3 unknown or usage error.\n");
}

int main(int argc, char **argv)
{
        setlocale(LC_CTYPE, "");
        /* A reader closing our output (| head) must not kill the run mid-way. */
        signal(SIGPIPE, SIG_IGN);
        if (argc < 2) {
                usage(stderr);
                return EXIT_USAGE;
        }
        const char *v = argv[1];
        if (streq(v, "help") && argc > 2) { /* "evodiag help check" = "evodiag check --help" */
                for (size_t i = 0; verbs[i].name; i++)
                        if (streq(argv[2], verbs[i].name)) {
                                char *hv[] = {argv[2], (char *)"--help", NULL};
                                return verbs[i].fn(2, hv);
                        }
                err("help: unknown command '%s'", argv[2]);
                usage(stderr);
                return EXIT_USAGE;
        }
        if (streq(v, "-h") || streq(v, "--help") || streq(v, "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(v, "--version") || streq(v, "-V"))
                return cmd_version(1, argv);
        /* Hidden: the man pages' and the shell completions' lists (cmd/doc.c). */
        if (streq(v, "__doc"))
                return cmd_doc(argc - 1, argv + 1);
        if (streq(v, "__complete"))
                return cmd_complete(argc - 1, argv + 1);
        errors_follow_format(argc, argv);
        for (size_t i = 0; verbs[i].name; i++)
                if (streq(v, verbs[i].name))
                        return errors_finish(verbs[i].fn(argc - 1, argv + 1));
        err("unknown command '%s'", v);
        usage(stderr);
        return errors_finish(EXIT_USAGE);
}
