/* ISSUE.md: the chosen template (templates/), filled with the run's findings, the
 * host's environment and configuration, component versions and what was attached.
 * It reads only what the run produced: findings (versions, errors, the kernel's
 * preemption verdict from rt.kernel), the manifest, and the host facts the run read
 * (lib/hostfacts.h); it reads nothing of the host itself. */
#pragma once
#include <json-c/json.h>
#include "report/report.h"

struct issue_input {
        const struct report *rep;
        json_object *artifacts;     /* the manifest's artifact list */
        const char *component;      /* template name; NULL = by worst findings */
        const char *templates_dir;
        const char *command_line;
        json_object *facts;         /* hostfacts_read()'s, or NULL when they could not be read */
        const char *const *trigger_events; /* watch --bundle-on's event lines, NULL-terminated; NULL: none */
};

/* Names of the templates a component collector can pick. */
bool issue_has_template(const char *templates_dir, const char *name);
/* The rendered ISSUE.md, or NULL with *err. *missing lists names without a value. */
char *issue_render(const struct issue_input *in, char **missing, char **err);
/* The context the template sees (exposed for tests). */
json_object *issue_context(const struct issue_input *in, const char **template_name);
