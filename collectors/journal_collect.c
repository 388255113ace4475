/* journal collector, bundle side: the entries the verdicts came from (JSON lines with
 * their cursors), and per component unit and for the kernel the window's entries as
 * text (journalctl -o short-iso-like), bounded; the components' log file tails. */
#include "config.h"
#include "collectors/journal_private.h"
#include "collectors/sink.h"

#include <errno.h>
#include <inttypes.h>

struct text {
        struct strbuf b;
        uint64_t max, lines;
        bool cut;
};

static int add_line(void *arg, const struct jentry *e)
{
        struct text *t = arg;
        if (t->b.len >= t->max) {
                t->cut = true;
                return -1;
        }
        jentry_short_iso(&t->b, e);
        t->lines++;
        return 0;
}

static void finish(struct bundle_sink *s, struct text *t, const char *name, const char *origin, const char *stop)
{
        if (t->cut)
                sb_printf(&t->b, "-- cut at %" PRIu64 " bytes ([journal] bundle_text_max): later entries are not here --\n", t->max);
        else if (stop)
                sb_printf(&t->b, "-- %" PRIu64 " entries; %s --\n", t->lines, stop);
        sink_text(s, name, "journal", origin, t->b.s ? t->b.s : "", t->b.len);
        sb_free(&t->b);
        *t = (struct text){.max = t->max};
}

/* One unit's (or the kernel's) window, streamed through the bounded buffer. */
static void window_text(struct bundle_sink *s, const struct jconf *cf, struct journal *j, const char *field, const char *value,
                        const char *name, uint64_t max)
{
        struct text t = {.max = max};
        journal_match_clear(j);
        _cleanup_free_ char *origin = xasprintf("sd-journal %s=%s, %s", field, value, journal_origin(j));
        if (journal_match(j, field, value) < 0 || journal_seek(j, &cf->w) < 0) {
                sink_missing(s, name, "journal", origin, "error", "the journal cannot be searched");
                return;
        }
        struct jentry e;
        while (journal_next(j) > 0) {
                jentry_from_journal(j, &e);
                if (add_line(&t, &e) < 0)
                        break;
        }
        finish(s, &t, name, origin, t.cut ? NULL : journal_stop_str(journal_stopped(j)));
}

static char *safe_name(const char *prefix, const char *path, const char *suffix)
{
        struct strbuf b = {0};
        sb_puts(&b, prefix);
        for (const char *p = path; *p && b.len < 160; p++)
                sb_putc(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                                        *p == '-' || *p == '_' || *p == '@'
                                ? *p
                                : '_');
        sb_puts(&b, suffix);
        return sb_steal(&b);
}

struct filetext {
        struct text t;
        char path[128];
        struct bundle_sink *s;
};

static int file_line(void *arg, const struct jentry *e)
{
        struct filetext *f = arg;
        if (!streq(f->path, e->unit)) { /* the next file: the last one is done */
                if (f->path[0]) {
                        _cleanup_free_ char *n = safe_name("files/", f->path, "");
                        finish(f->s, &f->t, n, f->path, NULL);
                }
                snprintf(f->path, sizeof(f->path), "%s", e->unit);
        }
        if (f->t.b.len >= f->t.max) {
                f->t.cut = true;
                return 0;
        }
        sb_printf(&f->t.b, "%s\n", e->msg);
        return 0;
}

void journal_collect(struct ctx *c, struct bundle_sink *s)
{
        struct jconf cf;
        jconf_read(c, &cf);
        uint64_t max = jconf_size(c, "bundle_text_max");
        struct strbuf *ev = journal_evidence();
        if (ev->len) {
                const char *what = "the entries the journal verdicts came from: JSON lines with cursors, the first the window and sources";
                sink_host_text(s, JOURNAL_EVIDENCE_PATH, "journal", what, ev->s, ev->len);
                sink_text(s, "matches.jsonl", "journal", what, ev->s, ev->len);
        }
        _cleanup_journal_ struct journal *j = NULL;
        if (jconf_open(&cf, &j) == 0 && journal_usable(j)) {
                char *u[65];
                jsplit_list(cf.units, u, 64);
                for (size_t i = 0; u[i]; i++) {
                        _cleanup_free_ char *unit = strchr(u[i], '.') ? xstrdup(u[i]) : xasprintf("%s.service", u[i]);
                        _cleanup_free_ char *name = safe_name("unit-", unit, ".log");
                        window_text(s, &cf, j, "_SYSTEMD_UNIT", unit, name, max);
                        free(u[i]);
                }
                window_text(s, &cf, j, "_TRANSPORT", "kernel", "kernel.log", max);
        } else if (rootfs_is_live() && c->is_root) {
                struct text t = {.max = max};
                long r = jkmsg_read(cf.since_us, cf.until_us, cf.w.max_entries, add_line, &t);
                if (r < 0)
                        sink_missing(s, "kernel.log", "journal", "/dev/kmsg", "error", strerror((int)-r));
                else
                        finish(s, &t, "kernel.log", "/dev/kmsg (no journal on this host)", "the kernel ring buffer");
        } else {
                sink_missing(s, "kernel.log", "journal", "journal", "skipped",
                             rootfs_is_live() ? "no journal, and /dev/kmsg needs root" : "no journal under the root");
        }
        struct filetext f = {.t = {.max = max}, .s = s};
        struct strbuf files = {0}, probs = {0};
        jlogs_read(&cf, file_line, &f, &files, &probs);
        if (f.path[0]) {
                _cleanup_free_ char *n = safe_name("files/", f.path, "");
                finish(s, &f.t, n, f.path, NULL);
        }
        sb_free(&f.t.b);
        sb_free(&files);
        sb_free(&probs);
        jconf_free(&cf);
}
