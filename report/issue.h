/* ISSUE.md: the chosen template (templates/, built into the binary; an installed or
 * --templates copy overrides), filled with the run's findings, the host's environment
 * and configuration, component versions and what was attached.
 * It reads only what the run produced: findings (versions, the kernel's preemption
 * verdict from rt.kernel), the manifest, the host facts the run read (lib/hostfacts.h)
 * and what the bundle stored; it reads nothing of the host itself.
 *
 * Every sentence about the bundle is generated from the manifest: what is attached
 * (with its status), and what is not, with the reason. The evidence part is one table
 * in issue.c (issue_sections[]: a title, a finding-ID prefix, an artifact path prefix):
 * a new collector gets its section of ISSUE.md with one line there. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include "report/report.h"

/* What ISSUE.md says of one manifest entry. */
struct issue_artifact {
        const char *path, *kind, *status, *error; /* kind, status, error: NULL when absent */
        bool stored; /* in the archive as a file: it has a SHA-256 (whole or cut) */
};

struct issue_input {
        const struct report *rep;
        const struct issue_artifact *artifacts; /* the manifest's artifact list */
        size_t n_artifacts;
        const char *component;      /* template name; NULL = by worst findings */
        const char *templates_dir;  /* an installed or --templates copy; NULL = the built-in ones only */
        const char *command_line;
        json_object *facts;         /* hostfacts_read()'s, or NULL when they could not be read */
        bool complete;              /* the bundle's "complete" */
        json_object *incomplete;    /* strings: why it is not complete (NULL = none) */
        json_object *intrusive;     /* strings: what --allow-intrusive did ("<collector>: <action>: <outcome>: why") */
        size_t files;               /* regular files in the archive, manifest.json included */
        const char *case_id;        /* --case-id, or NULL */
        json_object *limits;        /* [{process, pid, text}]: the /proc/PID/limits of the processes findings name */
        /* watch --bundle-on: the events that triggered this bundle, as strings (NULL =
         * made by hand). Shown at the top of ISSUE.md under "Why this bundle was made". */
        json_object *trigger;
};

/* Whether a template NAME exists (in dir, when given, or built in). */
bool issue_has_template(const char *templates_dir, const char *name);
/* The rendered ISSUE.md, or NULL with *err. *missing lists names without a value.
 * A template of templates_dir that is missing or does not render falls back to the
 * built-in one (*note says so; may be NULL). */
char *issue_render(const struct issue_input *in, char **missing, char **err);
char *issue_render_note(const struct issue_input *in, char **missing, char **err, char **note);
/* The context the template sees (exposed for tests). */
json_object *issue_context(const struct issue_input *in, const char **template_name);
/* The built-in template NAME (templates/NAME.md at build time), or NULL. */
const char *issue_builtin_template(const char *name);
