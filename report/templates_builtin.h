/* The ISSUE.md templates built into the binary: templates/NAME.md at build time
 * (report/embed-templates.sh writes templates_builtin.c), so a binary copied to a
 * host without `make install` still writes ISSUE.md. An installed or --templates
 * copy overrides them (report/issue.c). */
#pragma once
#include <stddef.h>

struct builtin_template {
        const char *name; /* "general": templates/general.md */
        const char *text; /* NUL-terminated */
        size_t len;
};
extern const struct builtin_template builtin_templates[]; /* ends with {0} */
