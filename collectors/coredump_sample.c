/* coredump: what evodiag watch samples. The first sample remembers the core files
 * there are and puts the journal at its end; every later one lists the core
 * directories again and reads the journal's new systemd-coredump records. Each new
 * crash is a crit status (an event) with its top frames, kept in later samples so it
 * stays on the screen (the last CD_WATCH_KEEP of them). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/coredump_private.h"
#include "collectors/sample_util.h"
#include "lib/journal.h"

#include <errno.h>

#define CD_WATCH_KEEP 16
#define CD_KNOWN_MAX 20000
#define CD_RECORDS_PER_SAMPLE 100

struct cd_seen {
        char *subject, *summary, *id, *file;
};

struct cd_watch {
        bool started;
        struct journal *j;
        struct cd_writer writer;
        char **known; /* core files present at the start or already reported */
        size_t nknown;
        struct cd_seen seen[CD_WATCH_KEEP];
        size_t nseen, next;
};

static bool known(struct cd_watch *w, const char *path)
{
        for (size_t i = 0; i < w->nknown; i++)
                if (streq(w->known[i], path))
                        return true;
        return false;
}

static void remember(struct cd_watch *w, const char *path)
{
        if (!path || known(w, path) || w->nknown >= CD_KNOWN_MAX)
                return;
        w->known = xrealloc(w->known, (w->nknown + 1) * sizeof(*w->known));
        w->known[w->nknown++] = xstrdup(path);
}

static void report(struct ctx *c, struct cd_watch *w, struct cd_crash *cr, const struct cd_scan_opts *o)
{
        if (cr->core_path) {
                uint64_t now = now_ms_monotonic();
                uint64_t left = c->deadline_ms > now + 500 ? c->deadline_ms - now - 500 : 0;
                if (left >= 300)
                        cd_symbolize(cr, o, left < o->parse_timeout_ms ? left : o->parse_timeout_ms);
        }
        cd_classify(cr, o->components);
        struct strbuf top = {0};
        if (cr->bt.nthreads && cr->bt.threads[0].nframes)
                cd_bt_top(&cr->bt, CD_TOP_FRAMES, &top);
        else if (cr->message_top)
                sb_puts(&top, cr->message_top);
        else
                sb_puts(&top, cr->bt.error ? cr->bt.error : "no backtrace");
        char sb[16];
        struct cd_seen *s = &w->seen[w->next];
        free(s->subject), free(s->summary), free(s->id), free(s->file);
        s->subject = xasprintf("%s pid %d", cr->rec.comm ? cr->rec.comm : "?", cr->rec.pid);
        s->summary = xasprintf("%s%s crashed with %s: %s", cr->component ? "component " : "", s->subject,
                               cr->rec.signal ? cd_signal_name(cr->rec.signal, sb) : "an unknown signal", top.s);
        s->id = xstrdup(cr->component ? "coredump.component_crash" : "coredump.crash");
        s->file = cr->core_path ? xstrdup(cr->core_path) : cr->rec.filename ? xstrdup(cr->rec.filename) : NULL;
        w->next = (w->next + 1) % CD_WATCH_KEEP;
        if (w->nseen < CD_WATCH_KEEP)
                w->nseen++;
        remember(w, s->file);
        sb_free(&top);
}

static bool reported_file(const struct cd_watch *w, const char *file)
{
        for (size_t i = 0; file && i < w->nseen; i++)
                if (w->seen[i].file && streq(w->seen[i].file, file))
                        return true;
        return false;
}

static void start(struct cd_watch *w, struct cd_scan *files, const struct cd_journal_src *src)
{
        w->started = true;
        cd_writer_init(&w->writer);
        struct journal_opts jo;
        cd_journal_opts(src, &jo);
        if (journal_open(&jo, &w->j) == 0 && journal_usable(w->j) &&
            journal_match(w->j, "MESSAGE_ID", CD_MESSAGE_ID) == 0 && journal_seek_end(w->j) == 0) {
                /* positioned: only records written from now on follow */
        } else if (w->j) {
                journal_close(w->j);
                w->j = NULL;
        }
        for (size_t i = 0; i < files->n; i++)
                remember(w, files->v[i].core_path);
}

void coredump_sample(struct ctx *c, struct sample *s)
{
        struct cd_watch *w = sample_state(c, sizeof(*w));
        struct cd_scan_opts o;
        struct cd_journal_src src;
        cd_opts(c, &o, &src);
        o.since_us = 0;
        struct cd_scan files = {0};
        cd_scan_dirs(&files, &o);
        if (!w->started) {
                start(w, &files, &src);
        } else {
                /* New records first: they carry the unit, the executable and the signal. */
                if (w->j) {
                        (void)journal_process(w->j); /* see what was appended since */
                        journal_resume(w->j);
                        size_t n = 0;
                        while (n < CD_RECORDS_PER_SAMPLE && journal_next(w->j) > 0) {
                                struct cd_crash cr;
                                unsigned bad;
                                if (!cd_journal_crash(w->j, &w->writer, &cr, &bad))
                                        continue;
                                n++;
                                if (cr.rec.filename && (reported_file(w, cr.rec.filename) || known(w, cr.rec.filename))) {
                                        cd_crash_free(&cr);
                                        continue;
                                }
                                for (size_t i = 0; cr.rec.filename && i < files.n; i++)
                                        if (files.v[i].core_path && streq(files.v[i].core_path, cr.rec.filename)) {
                                                cr.core_path = xstrdup(cr.rec.filename);
                                                cr.core_size = files.v[i].core_size;
                                                cr.comp = files.v[i].comp;
                                        }
                                report(c, w, &cr, &o);
                                cd_crash_free(&cr);
                        }
                }
                for (size_t i = 0; i < files.n; i++) {
                        struct cd_crash *cr = &files.v[i];
                        if (!cr->core_path || known(w, cr->core_path))
                                continue;
                        report(c, w, cr, &o);
                }
        }
        size_t cores = 0;
        for (size_t i = 0; i < files.n; i++)
                cores += files.v[i].core_path != NULL;
        sample_value(s, "coredump.cores", NULL, (double)cores, NULL);
        for (size_t i = 0; i < w->nseen; i++)
                sample_status(s, w->seen[i].id, w->seen[i].subject, SEV_CRIT, "%s", w->seen[i].summary);
        cd_scan_free(&files);
        cd_journal_src_free(&src);
}

void coredump_free_state(void *state)
{
        struct cd_watch *w = state;
        if (!w)
                return;
        if (w->j)
                journal_close(w->j);
        for (size_t i = 0; i < w->nknown; i++)
                free(w->known[i]);
        free(w->known);
        for (size_t i = 0; i < CD_WATCH_KEEP; i++)
                free(w->seen[i].subject), free(w->seen[i].summary), free(w->seen[i].id), free(w->seen[i].file);
        free(w);
}
