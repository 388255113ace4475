/* framealloc: "[framealloc][FAxxx]" diagnostics (stderr, debug builds or the diagnostics
 * feature) and "[framealloc] Leak report" lines (stdout, the debug feature) where an
 * app's output goes: bounded tails of its log files, and the journal (through
 * lib/journal) of its systemd unit or SYSLOG_IDENTIFIER. */
#include "config.h"
#include "collectors/framealloc.h"
#include "collectors/framealloc_private.h"
#include "lib/journal.h"
#include "lib/procscan.h"
#include "lib/rootfs.h"
#include "lib/tail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FA_MATCHES_MAX 16

/* One finding per code found in what was read from where (a path, "journal of x"). */
static void report_diags(struct findings *fs, const char *where, const struct fa_diags *d, const char *evidence)
{
        for (size_t i = 0; i < d->n; i++) {
                const char *m = fa_code_meaning(d->v[i].code);
                bool leak = streq(d->v[i].code, "leak");
                struct finding *f = fnd_add(fs, SEV_WARN, "framealloc.diagnostics", "%s: %s %zu times%s%s", where,
                                            leak ? "[framealloc] Leak report" : d->v[i].code, d->v[i].count, m ? ": " : "",
                                            m ? m : "");
                fnd_actual(f, "first: %s", d->v[i].example);
                if (leak)
                        fnd_remedy(f, "read the leak report's backtraces; framealloc guide, \"Memory Leaks\"");
                else
                        fnd_remedy(f, "cargo fa explain %s", d->v[i].code);
                fnd_subject(f, "%s %s", where, d->v[i].code);
                fnd_evidence(f, "%s", evidence);
        }
        if (d->other)
                fnd_add(fs, SEV_WARN, "framealloc.diagnostics", "%s: %zu more diagnostics of other codes", where, d->other);
}

static size_t log_files(struct ctx *c, uint64_t tail, struct findings *fs)
{
        size_t files = 0;
        const char *p = conf_str(c, "logs");
        for (char *path; (path = list_next(&p)); free(path)) {
                files++;
                _cleanup_free_ char *text = NULL;
                long n = file_tail(path, tail, &text, NULL);
                struct finding *f;
                if (n < 0) {
                        f = fnd_add(fs, n == -ENOENT ? SEV_SKIPPED : SEV_UNKNOWN, "framealloc.diagnostics", "%s cannot be read: %s",
                                    path, rootfs_strerror((int)n));
                        fnd_subject(f, "%s", path);
                        continue;
                }
                struct fa_diags d = {0};
                fa_diags_scan(text, (size_t)n, &d);
                if (!d.n && !d.other) {
                        f = fnd_add(fs, SEV_OK, "framealloc.diagnostics", "%s: no [framealloc] diagnostics in the last %ld bytes",
                                    path, n);
                        fnd_subject(f, "%s", path);
                        continue;
                }
                _cleanup_free_ char *ev = xasprintf("%s (last %ld bytes)", path, n);
                report_diags(fs, path, &d, ev);
        }
        return files;
}

/* Adds FIELD=value to m (n of them) unless there or full. */
static void match_add(char **m, size_t *n, const char *field, const char *value)
{
        _cleanup_free_ char *s = xasprintf("%s=%s", field, value);
        for (size_t i = 0; i < *n; i++)
                if (streq(m[i], s))
                        return;
        if (*n < FA_MATCHES_MAX)
                m[(*n)++] = xstrdup(s);
}

static void list_matches(const char *list, const char *field, char **m, size_t *n)
{
        for (const char *p = list; *p;) {
                size_t l = strcspn(p, ",");
                _cleanup_free_ char *one = xstrndup(p, l);
                char *v = strstrip(one);
                p += l + (p[l] == ',');
                if (*v)
                        match_add(m, n, field, v);
        }
}

static void journal_diags(struct ctx *c, const int *pids, size_t npids, uint64_t tail, struct findings *fs)
{
        struct finding *f;
        char *m[FA_MATCHES_MAX + 1] = {0};
        size_t n = 0;
        list_matches(conf_str(c, "units"), "_SYSTEMD_UNIT", m, &n);
        list_matches(conf_str(c, "identifiers"), "SYSLOG_IDENTIFIER", m, &n);
        for (size_t i = 0; i < npids; i++) { /* the units the apps found run in */
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/cgroup", pids[i]);
                _cleanup_free_ char *cg = NULL, *unit = NULL;
                if (rootfs_read(p, 64u << 10, &cg, NULL) >= 0 && (unit = unit_from_cgroup(cg)))
                        match_add(m, &n, "_SYSTEMD_UNIT", unit);
        }
        struct strbuf who = {0};
        for (size_t i = 0; i < n; i++)
                sb_printf(&who, "%s%s", i ? ", " : "", strchr(m[i], '=') + 1);
        if (!n) {
                f = fnd_add(fs, SEV_SKIPPED, "framealloc.diagnostics",
                            "the journal not read: no app's unit known (set [framealloc] units or identifiers)");
        } else {
                uint64_t back = 3600000;
                (void)parse_duration_ms(conf_str(c, "journal_since"), &back);
                uint64_t now_us = now_ms_realtime() * 1000;
                size_t len, entries;
                _cleanup_free_ char *why = NULL;
                _cleanup_free_ char *text =
                        journal_messages(conf_str(c, "journal_dir"), (const char *const *)m,
                                         back * 1000 < now_us ? now_us - back * 1000 : 0, tail,
                                         c->deadline_ms > 1500 ? c->deadline_ms - 1000 : 0, &len, &entries, &why);
                struct fa_diags d = {0};
                if (text)
                        fa_diags_scan(text, len, &d);
                _cleanup_free_ char *where = xasprintf("journal of %s", who.s);
                if (!text)
                        f = fnd_add(fs, SEV_SKIPPED, "framealloc.diagnostics", "%s not read: %s", where, why);
                else if (!entries)
                        f = fnd_add(fs, SEV_SKIPPED, "framealloc.diagnostics", "no journal entries of %s in the last %s", who.s,
                                    conf_str(c, "journal_since"));
                else if (!d.n && !d.other)
                        f = fnd_add(fs, SEV_OK, "framealloc.diagnostics", "%s: %zu entries, no [framealloc] diagnostics", where,
                                    entries);
                else {
                        _cleanup_free_ char *ev = xasprintf("the journal of %s, the last %s (%zu entries)", who.s,
                                                            conf_str(c, "journal_since"), entries);
                        report_diags(fs, where, &d, ev);
                        f = NULL;
                }
                if (f)
                        fnd_evidence(f, "the journal of %s", who.s);
        }
        if (f)
                fnd_subject(f, "journal");
        sb_free(&who);
        for (size_t i = 0; i < n; i++)
                free(m[i]);
}

void fa_check_logs(struct ctx *c, const int *pids, size_t npids, struct findings *fs)
{
        uint64_t tail = 1u << 20;
        (void)parse_size(conf_str(c, "log_tail"), &tail);
        if (tail > (256u << 20))
                tail = 256u << 20;
        if (!log_files(c, tail, fs))
                fnd_add(fs, SEV_SKIPPED, "framealloc.diagnostics", "no app logs configured ([framealloc] logs)");
        if (!streq(conf_str(c, "units"), "none"))
                journal_diags(c, pids, npids, tail, fs);
}
