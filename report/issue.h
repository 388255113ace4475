/* ISSUE.md: the chosen template (templates/), filled with the run's findings, the
 * host's environment and configuration, component versions and what was attached. */
#pragma once
#include <json-c/json.h>
#include "report/report.h"

struct issue_input {
        const struct report *rep;
        json_object *artifacts;     /* the manifest's artifact list */
        const char *component;      /* template name; NULL = by worst findings */
        const char *templates_dir;
        const char *command_line;
};

/* Names of the templates a component collector can pick. */
bool issue_has_template(const char *templates_dir, const char *name);
/* The rendered ISSUE.md, or NULL with *err. *missing lists names without a value. */
char *issue_render(const struct issue_input *in, char **missing, char **err);
/* The context the template sees (exposed for tests). */
json_object *issue_context(const struct issue_input *in, const char **template_name);
