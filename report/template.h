/* A small template language for ISSUE.md (templates/README.md documents it).
 * Every value is escaped for where it lands (lib/escape.h), by default:
 *   {{a.b}}       Markdown text; inside a fenced code block the template opened,
 *                 code-block content (the fence is lengthened past any run inside)
 *   {{code a.b}}  an inline code span, its backtick fence chosen by the renderer
 *   {{{a.b}}}     raw: only for text evodiag generated and escaped itself
 *   {{#each xs}}…{{/each}}   once per array item; names resolve in the item first,
 *                            {{.}} is the item, {{@index}} counts from 1
 *   {{#if x}}…{{else}}…{{/if}}  x non-empty / true / non-zero
 * Missing values render as "(unknown)" and are listed in *missing; malformed
 * templates fail with the line number. Values come from a json-c object. */
#pragma once
#include <json-c/json.h>

/* Returns the rendered text (caller frees), or NULL with *err "line N: why".
 * *missing (may be NULL) receives the comma-separated names that had no value. */
char *template_render(const char *tmpl, json_object *ctx, char **missing, char **err);
