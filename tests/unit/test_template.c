/* Unit tests: the ISSUE.md template renderer. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "report/template.h"
#include "lib/util.h"

static json_object *ctx(void)
{
        return json_tokener_parse("{\"host\":\"cell-7\",\"os\":{\"kernel\":\"6.1.0-rt\"},\"empty\":\"\","
                                  "\"n\":0,\"problems\":[{\"id\":\"shm.orphaned\",\"remedy\":\"ipcrm -m 5\"},"
                                  "{\"id\":\"rt.throttling\",\"remedy\":\"sysctl -w kernel.sched_rt_runtime_us=-1\"}],"
                                  "\"names\":[\"a\",\"b\"],\"nested\":[{\"xs\":[1,2]},{\"xs\":[3]}],"
                                  "\"md\":\"a*b_c <x> | `y`\",\"fence\":\"```\\nrm -rf /\\n```\",\"nul\":null}");
}

static char *R(const char *t, char **missing, char **err)
{
        json_object *c = ctx();
        char *o = template_render(t, c, missing, err);
        json_object_put(c);
        return o;
}

static void test_values(void **state)
{
        char *err, *missing;
        char *o = R("Host {{host}} on {{ os.kernel }}.", &missing, &err);
        assert_string_equal(o, "Host cell-7 on 6.1.0-rt.");
        assert_string_equal(missing, "");
        free(o);
        free(missing);
}

static void test_missing(void **state)
{
        char *err, *missing;
        char *o = R("{{nope}} and {{os.arch}} and {{nul}}", &missing, &err);
        assert_string_equal(o, "(unknown) and (unknown) and (unknown)");
        assert_string_equal(missing, "nope,os.arch"); /* null is known-but-empty, not missing */
        free(o);
        free(missing);
}

static void test_each(void **state)
{
        char *err;
        char *o = R("{{#each problems}}{{@index}}. {{id}}: `{{{remedy}}}` on {{host}}\n{{/each}}", NULL, &err);
        assert_string_equal(o, "1. shm.orphaned: `ipcrm -m 5` on cell-7\n"
                               "2. rt.throttling: `sysctl -w kernel.sched_rt_runtime_us=-1` on cell-7\n");
        free(o);
        o = R("{{#each names}}[{{.}}]{{/each}}|{{#each nested}}({{#each xs}}{{.}}{{/each}}){{/each}}", NULL, &err);
        assert_string_equal(o, "[a][b]|(12)(3)"); /* template text is not escaped, values are */
        free(o);
        o = R("{{#each nope}}x{{/each}}{{#each host}}y{{/each}}end", NULL, &err);
        assert_string_equal(o, "end"); /* missing or not a list: nothing */
        free(o);
}

static void test_if(void **state)
{
        char *err;
        char *o = R("{{#if problems}}P{{else}}none{{/if}} {{#if empty}}E{{else}}e{{/if}} {{#if n}}N{{/if}}"
                    "{{#if host}}{{#if nul}}x{{else}}nested-else{{/if}}{{/if}}",
                    NULL, &err);
        assert_string_equal(o, "P e nested-else");
        free(o);
}

static void test_escaping(void **state)
{
        char *err;
        /* text: Markdown and HTML neutralised; in a block the template opened: kept as
         * code, and the fence made longer than the run a value put inside */
        char *o = R("{{md}}\n```\n{{fence}}\n```", NULL, &err);
        assert_string_equal(o, "a\\*b\\_c &lt;x&gt; \\| \\`y\\`\n````\n```\nrm -rf /\n```\n````");
        free(o);
        o = R("~~~\n{{fence}}\n~~~\n", NULL, &err); /* a ``` run does not close a ~~~ fence */
        assert_string_equal(o, "~~~\n```\nrm -rf /\n```\n~~~\n");
        free(o);
        /* {{code x}}: the renderer writes the span and its fence */
        o = R("run {{code md}} or {{code host}}", NULL, &err);
        assert_string_equal(o, "run `` a*b_c <x> | `y` `` or `cell-7`");
        free(o);
}

/* The reproducers: a segment name that would escape its code span, split the table,
 * inject HTML and mention a team; a process name that steers the terminal. */
static void test_hostile(void **state)
{
        json_object *c = json_tokener_parse("{\"problems\":[{\"sev\":\"warn\",\"summary\":\"/dev/shm/evo_x`y | <img src=x> @security-team is "
                                            "world-writable\",\"remedy\":\"chmod 664 '/dev/shm/evo_x`y | <img src=x> @security-team'\"}],"
                                            "\"limits\":\"Max open files 1024\\n\\u001b[2J\\u001b]0;PWNED\\u0007\\n```\\n<b>x</b>\"}");
        char *err;
        char *o = template_render("| | what | remedy |\n|---|---|---|\n{{#each problems}}| {{sev}} | {{summary}} | {{code remedy}} |\n{{/each}}"
                                  "\n```\n{{limits}}\n```\nafter {{code limits}}\n",
                                  c, NULL, &err);
        json_object_put(c);
        assert_non_null(o);
        assert_string_equal(o, "| | what | remedy |\n|---|---|---|\n"
                               "| warn | /dev/shm/evo\\_x\\`y \\| &lt;img src=x&gt; `@security-team` is world-writable | "
                               "``chmod 664 '/dev/shm/evo_x`y \\| <img src=x> @security-team'`` |\n"
                               "\n````\nMax open files 1024\n\\e[2J\\e]0;PWNED\\a\n```\n<b>x</b>\n````\n"
                               "after ````Max open files 1024 \\e[2J\\e]0;PWNED\\a ``` <b>x</b>````\n");
        assert_null(strchr(o, '\033'));
        assert_null(strchr(o, '\a'));
        free(o);
}

static void test_malformed(void **state)
{
        char *err = NULL;
        assert_null(R("ok\n{{#each problems}}no end", NULL, &err));
        assert_string_equal(err, "line 2: no closing tag for {{problems}}");
        free(err);
        assert_null(R("{{host", NULL, &err));
        assert_string_equal(err, "line 1: unterminated {{ tag");
        free(err);
        assert_null(R("a\nb\n{{/if}}", NULL, &err));
        assert_string_equal(err, "line 3: unexpected closing tag");
        free(err);
        assert_null(R("{{#each names}}{{else}}{{/each}}", NULL, &err));
        free(err);
        assert_null(R("{{bad name!}}", NULL, &err));
        assert_string_equal(err, "line 1: bad name 'bad name!'");
        free(err);
}

/* Every shipped template, filled with hostile values everywhere: no control byte, no
 * HTML tag or @mention outside code, every table row 4 cells, no raw {{{ }}} tag. */
static void test_shipped_templates(void **state)
{
        static const char *const names[] = {"general", "evo", "lavinmq", "vgpu", "snn", "framealloc"};
#define H "x`y | <img src=x> @team \\u001b[2J\\n```\\n~~~ \\u0007"
        json_object *c = json_tokener_parse(
                "{\"title\":\"" H "\",\"host\":\"" H "\",\"generated\":\"" H "\",\"evodiag_version\":\"1\","
                "\"summary\":{\"worst\":\"crit\",\"crit\":1,\"warn\":1,\"unknown\":0,\"ok\":2},"
                "\"problems\":[{\"id\":\"" H "\",\"severity\":\"crit\",\"summary\":\"" H "\",\"remedy\":\"" H "\"},"
                "{\"id\":\"b\",\"severity\":\"warn\",\"summary\":\"" H "\",\"remedy\":\"`\"}],"
                "\"os\":{\"pretty_name\":\"" H "\",\"kernel_release\":\"" H "\",\"kernel_version\":\"" H "\",\"machine\":\"" H "\"},"
                "\"config\":{\"cmdline\":\"" H "\",\"limits\":\"" H "\",\"isolated\":\"" H "\",\"preempt\":\"" H "\"},"
                "\"versions\":[{\"name\":\"" H "\",\"version\":\"" H "\"}],\"errors\":[{\"line\":\"" H "\"}],"
                "\"crash\":{\"process\":\"" H "\",\"pid\":1,\"signal\":\"" H "\",\"time\":\"" H "\",\"frames\":[{\"frame\":\"" H "\"}]},"
                "\"attachment_count\":3,\"missing\":[{\"path\":\"" H "\",\"status\":\"" H "\",\"why\":\"" H "\"}],"
                "\"component\":{\"name\":\"" H "\",\"label\":\"" H "\"},\"command_line\":\"" H "\"}");
#undef H
        assert_non_null(c);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                _cleanup_free_ char *path = xasprintf("%s/templates/%s.md", EVODIAG_SRCDIR, names[i]);
                FILE *f = fopen(path, "re");
                assert_non_null(f);
                char buf[65536];
                size_t n = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                buf[n] = 0;
                /* raw only for the blocks report/issue.c renders (and escapes) itself */
                for (const char *r = strstr(buf, "{{{"); r; r = strstr(r + 3, "{{{"))
                        assert_true(startswith(r, "{{{status}}}") || startswith(r, "{{{evidence}}}"));
                assert_null(strstr(buf, "`{{"));
                char *err = NULL;
                _cleanup_free_ char *o = template_render(buf, c, NULL, &err);
                assert_non_null(o);
                for (const unsigned char *p = (const unsigned char *)o; *p; p++)
                        assert_true(*p >= 0x20 || *p == '\n');
                /* walk the Markdown: outside code spans and fenced blocks, no tag and no mention;
                 * table rows have 4 cells (pipes not escaped by a backslash) */
                bool fence = false;
                char *save = NULL;
                for (char *line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        size_t run = strspn(line, "`");
                        if (run >= 3 || startswith(line, "~~~")) {
                                fence = !fence;
                                continue;
                        }
                        if (fence)
                                continue;
                        size_t pipes = 0, open = 0;
                        for (char *p = line; *p; p++) {
                                if (*p == '\\' && p[1]) {
                                        p++;
                                        continue;
                                }
                                if (*p == '`') {
                                        size_t k = strspn(p, "`");
                                        if (open == 0)
                                                open = k;
                                        else if (open == k)
                                                open = 0;
                                        p += k - 1;
                                        continue;
                                }
                                pipes += *p == '|';
                                if (!open) {
                                        assert_false(*p == '<' && p[1] != '!' && p[1] != '/' && !startswith(p, "<details") && !startswith(p, "<summary"));
                                        assert_false(*p == '@');
                                }
                        }
                        assert_int_equal(open, 0);
                        if (line[0] == '|')
                                assert_int_equal(pipes, 5);
                }
                assert_false(fence);
        }
        json_object_put(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values), cmocka_unit_test(test_missing), cmocka_unit_test(test_each),
                cmocka_unit_test(test_if),     cmocka_unit_test(test_escaping), cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_hostile), cmocka_unit_test(test_shipped_templates),
        };
        return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
