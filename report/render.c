/* The output formats: one table of {name, renderer}. Renderers share the counting in
 * summary.c; only this table knows them all, so nothing calls back up into it. */
#include "config.h"
#include "report/report.h"

#include <errno.h>

static void render_text(FILE *out, const struct report *rep, const struct render_opts *o) { report_text_ex(out, rep, o); }
static void render_json(FILE *out, const struct report *rep, const struct render_opts *o) { report_json(out, rep); }
static void render_nagios(FILE *out, const struct report *rep, const struct render_opts *o) { report_nagios(out, rep); }
static void render_prometheus(FILE *out, const struct report *rep, const struct render_opts *o)
{
        report_prometheus(out, rep);
}

static const struct renderer {
        const char *name;
        enum format fmt;
        void (*render)(FILE *out, const struct report *rep, const struct render_opts *o);
} renderers[] = {
        {"text", FMT_TEXT, render_text},
        {"json", FMT_JSON, render_json},
        {"nagios", FMT_NAGIOS, render_nagios},
        {"prometheus", FMT_PROMETHEUS, render_prometheus},
};

int format_from_name(const char *name, enum format *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(renderers); i++)
                if (streq(name, renderers[i].name)) {
                        *out = renderers[i].fmt;
                        return 0;
                }
        return -EINVAL;
}

const char *format_name(size_t i)
{
        return i < ARRAY_SIZE(renderers) ? renderers[i].name : NULL;
}

void report_render(FILE *out, enum format fmt, const struct report *rep, const struct render_opts *o)
{
        for (size_t i = 0; i < ARRAY_SIZE(renderers); i++)
                if (renderers[i].fmt == fmt) {
                        renderers[i].render(out, rep, o);
                        return;
                }
}
