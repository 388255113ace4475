/* lavinmq: bundle evidence. What the checks saw (the API replies, the data dir listing;
 * lavinmq.ini and the .lock were stored when check() read them) and, only with
 * --allow-intrusive, the broker's USR1 dump (GC statistics and fibers) from where its
 * stdout goes: a file, or the journal. */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "collectors/sink.h"
#include "lib/intrusive.h"
#include "lib/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <systemd/sd-journal.h>
#include <time.h>

static void put_reply(struct bundle_sink *s, const char *name, const struct reply *r)
{
        if (!r->origin)
                return; /* never asked */
        if (!r->tried) {
                sink_missing(s, name, "http", r->origin, "skipped", r->skipped);
                return;
        }
        if (r->rc < 0 && r->r.err != HTTP_E_TOO_LARGE) {
                sink_missing(s, name, "http", r->origin, r->r.err == HTTP_E_TIMEOUT ? "timeout" : "error", r->r.error);
                return;
        }
        _cleanup_free_ char *origin = xasprintf("%s -> HTTP %ld in %" PRIu64 " ms%s", r->origin, r->r.status, r->r.duration_ms,
                                                r->rc < 0 ? " (cut off: too large)" : "");
        sink_text(s, name, "http", origin, r->r.body, r->r.len);
}

static void iso_time(uint64_t usec, char buf[static 40])
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, 40 - n, ".%06uZ", (unsigned)(usec % 1000000));
}

/* The journal to read: journal_dir, else the system's. NULL with *why when there is none. */
static sd_journal *journal_open(const char *dir, char **why)
{
        sd_journal *j = NULL;
        int r = *dir ? sd_journal_open_directory(&j, dir, 0) : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0) {
                *why = xasprintf("cannot open the journal%s%s: %s", *dir ? " in " : "", dir, strerror(-r));
                return NULL;
        }
        uint64_t usage = 0;
        if (sd_journal_get_usage(j, &usage) < 0 || !usage) {
                *why = *dir ? xasprintf("no journal files in %s ([lavinmq] journal_dir)", dir)
                            : xstrdup("no journal files in /var/log/journal or /run/log/journal: systemd-journald does not run "
                                      "on this host, so the broker's stdout (where USR1 prints) is not in a journal");
                sd_journal_close(j);
                return NULL;
        }
        return j;
}

/* After the signal: the broker's journal lines since t0, until quiet or the wait ends. */
static void journal_capture(struct ctx *c, struct bundle_sink *s, sd_journal *j, const char *unit, int pid, uint64_t t0_us,
                            const char *origin)
{
        uint64_t wait = lmq_budget_ms(c, conf_uint(c, "journal_wait_ms"), 500), end = now_ms_monotonic() + wait, last_new = 0;
        struct strbuf out = {0};
        size_t lines = 0;
        char m1[128], m2[32];
        snprintf(m1, sizeof(m1), "_SYSTEMD_UNIT=%s", unit);
        snprintf(m2, sizeof(m2), "_PID=%d", pid);
        int r = sd_journal_add_match(j, m1, 0);
        if (r >= 0)
                r = sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sd_journal_add_match(j, m2, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, t0_us);
        while (r >= 0) {
                r = sd_journal_next(j);
                if (r > 0) {
                        uint64_t ts = 0;
                        const void *d;
                        size_t l;
                        if (sd_journal_get_realtime_usec(j, &ts) < 0 || ts < t0_us)
                                continue;
                        if (sd_journal_get_data(j, "MESSAGE", &d, &l) < 0 || l < 8)
                                continue;
                        if (out.len > s->artifact_max)
                                continue; /* keep draining, stop storing */
                        char t[40];
                        iso_time(ts, t);
                        sb_printf(&out, "%s %.*s\n", t, (int)(l - 8), (const char *)d + 8); /* strip "MESSAGE=" */
                        lines++;
                        last_new = now_ms_monotonic();
                        continue;
                }
                if (r < 0)
                        break;
                uint64_t now = now_ms_monotonic();
                /* The dump is printed at once: a short quiet spell after the first lines ends it. */
                if ((lines && now - last_new >= 700) || now >= end)
                        break;
                uint64_t step = end - now < 200 ? end - now : 200;
                r = sd_journal_wait(j, step * 1000);
        }
        _cleanup_free_ char *o = xasprintf("%s (%zu lines)", origin, lines);
        if (r < 0)
                sink_missing(s, "usr1-dump.txt", "journal", origin, "error", strerror(-r));
        else if (!lines) {
                _cleanup_free_ char *w = xasprintf("no line from the broker in the journal within %" PRIu64 " ms after USR1 "
                                                   "([lavinmq] journal_wait_ms); is its stdout in the journal? ls -l /proc/%d/fd/1",
                                                   wait, pid);
                sink_missing(s, "usr1-dump.txt", "journal", origin, "timeout", w);
        }
        else
                sink_text(s, "usr1-dump.txt", "journal", o, out.s, out.len);
        sb_free(&out);
}

/* stdout is a regular file: what the broker appends to it after the signal. */
static void file_capture(struct ctx *c, struct bundle_sink *s, int fd, off_t from, const char *origin)
{
        uint64_t wait = lmq_budget_ms(c, conf_uint(c, "journal_wait_ms"), 500), end = now_ms_monotonic() + wait, last_change = 0;
        off_t size = from;
        struct stat st;
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (fstat(fd, &st) == 0 && st.st_size != size) {
                        size = st.st_size;
                        last_change = now;
                }
                if ((last_change && now - last_change >= 700) || now >= end)
                        break;
                (void)poll(NULL, 0, 100);
        }
        if (size <= from) {
                sink_missing(s, "usr1-dump.txt", "file", origin, "timeout", "the broker wrote nothing to its stdout after USR1");
                return;
        }
        size_t len = (size_t)(size - from);
        if (len > s->artifact_max)
                len = s->artifact_max;
        char *buf = xmalloc(len + 1);
        ssize_t r = pread(fd, buf, len, from);
        if (r < 0)
                sink_missing(s, "usr1-dump.txt", "file", origin, "error", strerror(errno));
        else
                sink_text(s, "usr1-dump.txt", "file", origin, buf, (size_t)r);
        free(buf);
}

/* Still the broker evodiag vouched for (root or the service user owns it, or the lock
 * file names it: the pid could have been reused since the check), and the broker by
 * name and executable, handling USR1 (lib/intrusive.h). 0, or -errno with *why. */
static int usr1_precheck(const struct lmq *m, int pid, char **why)
{
        struct trust_proc tp;
        struct intrusive_target t = {.pid = pid, .name = "lavinmq", .sig = SIGUSR1};
        int r = intrusive_precheck(&t, why);
        if (r < 0)
                return r;
        if (!trust_process(&m->tr, pid, &tp)) {
                *why = xasprintf("pid %d is no longer vouched for as the broker (owned by neither %s)", pid, trust_who(&m->tr));
                return -EPERM;
        }
        return 0;
}

static void collect_usr1(struct ctx *c, struct bundle_sink *s, const struct lmq *m)
{
        const char *name = "usr1-dump.txt";
        if (!c->allow_intrusive) {
                sink_missing(s, name, "journal", "kill -USR1 <lavinmq>", "skipped",
                             "needs --allow-intrusive: evodiag signals the broker only when asked");
                return;
        }
        if (!m->live || !m->bp) {
                sink_missing(s, name, "journal", "kill -USR1 <lavinmq>", "skipped",
                             !m->live ? "not the live system (--root)" : "lavinmq is not running");
                return;
        }
        int pid = m->bp->pid;
        _cleanup_free_ char *action = xasprintf("kill -USR1 %d", pid), *pre = NULL;
        /* Pin it, then make sure it is still the broker evodiag vouched for and that it
         * handles USR1 (its default action terminates), before its stdout is opened or it
         * is signalled. */
        _cleanup_close_ int pfd = intrusive_pin(pid);
        int pr = pfd < 0 && pfd != -ENOSYS ? -ESRCH : usr1_precheck(m, pid, &pre);
        if (pr < 0) {
                _cleanup_free_ char *w = pr == -ESRCH || !pre ? xstrdup("the broker process went away before the signal")
                                                              : xasprintf("USR1 not sent: %s", pre);
                sink_missing(s, name, "journal", "kill -USR1", "skipped", w);
                sink_intrusive(s, action, pid, "refused", w);
                return;
        }
        char fdp[64];
        snprintf(fdp, sizeof(fdp), "/proc/%d/fd/1", pid);
        _cleanup_free_ char *target = NULL, *why = NULL;
        (void)rootfs_readlink(fdp, &target);
        _cleanup_close_ int ofd = -1;
        struct stat st;
        const char *jdir = conf_str(c, "journal_dir");
        sd_journal *j = NULL;
        /* Where its stdout goes decides where the dump will be: a file we can read from
         * the end, else the journal (a socket to journald). Opened before the signal. */
        if (!*jdir && (ofd = open(fdp, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) >= 0 &&
            (fstat(ofd, &st) < 0 || !S_ISREG(st.st_mode))) {
                close(ofd);
                ofd = -1;
        }
        if (ofd < 0 && !(j = journal_open(jdir, &why))) {
                _cleanup_free_ char *w = xasprintf("USR1 not sent: %s; its stdout is %s. Send it yourself: kill -USR1 %d, "
                                                   "and read the output where its stdout goes",
                                                   why, target ? target : "unknown (needs root)", pid);
                sink_missing(s, name, "journal", "kill -USR1", "skipped", w);
                sink_intrusive(s, action, pid, "refused", w);
                return;
        }
        _cleanup_free_ char *again = NULL;
        if (pfd >= 0 ? intrusive_postcheck(pfd, pid, 0, &again) < 0 : usr1_precheck(m, pid, &again) < 0) {
                sink_missing(s, name, "journal", "kill -USR1", "skipped", "the broker process went away before the signal");
                sink_intrusive(s, action, pid, "refused", "the broker process went away before the signal");
                if (j)
                        sd_journal_close(j);
                return;
        }
        uint64_t t0_us = now_ms_realtime() * 1000;
        off_t from = ofd >= 0 ? lseek(ofd, 0, SEEK_END) : 0;
        int kr = intrusive_signal(pfd, pid, SIGUSR1); /* never USR2: that forces a GC in production */
        if (kr < 0) {
                _cleanup_free_ char *w = xasprintf("kill -USR1 %d: %s", pid, strerror(-kr));
                sink_missing(s, name, "journal", "kill -USR1", "error", w);
                sink_intrusive(s, action, pid, "failed", w);
                if (j)
                        sd_journal_close(j);
                return;
        }
        sink_log(s, "sent SIGUSR1 to pid %d (GC statistics and fibers)", pid);
        char t[40];
        iso_time(t0_us, t);
        if (ofd >= 0) {
                _cleanup_free_ char *o = xasprintf("%s (stdout of pid %d), appended after kill -USR1 at %s", target ? target : fdp, pid, t);
                file_capture(c, s, ofd, from, o);
        } else {
                const char *unit = m->unit ? m->unit : conf_str(c, "unit");
                _cleanup_free_ char *o = xasprintf("journal%s%s: _SYSTEMD_UNIT=%s or _PID=%d since %s (kill -USR1 %d)", *jdir ? " " : "",
                                                   jdir, unit, pid, t, pid);
                journal_capture(c, s, j, unit, pid, t0_us, o);
                sd_journal_close(j);
        }
        /* The capture waited for the dump; one more moment for a handler that exits. */
        _cleanup_free_ char *post = NULL;
        if (intrusive_postcheck(pfd, pid, 300, &post) < 0) {
                _cleanup_free_ char *w = xasprintf("%s: the broker died after evodiag sent it SIGUSR1", post);
                sink_intrusive(s, action, pid, "died", w);
        } else {
                sink_intrusive(s, action, pid, "done", "pre-check: the broker by name and executable, SigCgt has USR1; post-check: alive");
        }
}

void lmq_collect(struct ctx *c, struct bundle_sink *s, const struct lmq *m)
{
        /* lavinmq.ini and the data dir's .lock are stored already: check() read them
         * through rootfs (redacted, at host/<path>, or with the errno of the failed read). */
        if (m->unit_file)
                sink_file(s, m->unit_file);
        put_reply(s, "api-overview.json", &m->ov);
        put_reply(s, "api-nodes.json", &m->nodes);
        put_reply(s, "metrics.txt", &m->metrics);
        if (!m->dd_err) {
                struct strbuf b = {0};
                sb_printf(&b, "# %s: message segments (msgs.*) per queue directory%s\n# %-81s %6s %14s\n%s", m->data_dir,
                          m->dd_partial ? " (partial: stopped early)" : "", "directory", "msgs", "bytes",
                          m->dd_listing.s ? m->dd_listing.s : "");
                sb_printf(&b, "# total: %zu segments, %" PRIu64 " bytes in %zu directories\n", m->dd_segments, m->dd_bytes, m->dd_dirs);
                sink_text(s, "data_dir.txt", "derived", m->data_dir, b.s, b.len);
                sb_free(&b);
        }
        collect_usr1(c, s, m);
}
