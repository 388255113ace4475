/* journal collector, watch side: new error-priority lines of the component units and
 * new kernel pattern hits become statuses (so events) in the interval they appear.
 * The journal stays open in the sampler child: on the live system its inotify fd
 * (sd_journal_get_fd) is polled without waiting and sd_journal_process() run; files
 * named on the command line are re-read from where the last sample stopped. Without
 * a journal, /dev/kmsg is kept open at its end (root). Never a loop that waits. */
#include "config.h"
#include "collectors/journal_private.h"
#include "collectors/sample_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <time.h>

#define NEW_MAX 10000 /* entries read per sample at most */
#define HITS_MAX 64   /* statuses per sample at most */

struct jwatch {
        struct jconf cf;
        bool opened;
        struct journal *j;
        int kmsg; /* /dev/kmsg at its end, or -1 */
        uint64_t boot_us;
};

struct hit {
        const char *id;
        char subject[128];
        enum severity sev;
        unsigned n;
        char last[200];
};

struct round {
        struct jwatch *w;
        struct hit h[HITS_MAX];
        size_t nh;
        unsigned entries;
};

static void note(struct round *r, const char *id, const char *subject, enum severity sev, const char *text)
{
        struct hit *h = NULL;
        for (size_t i = 0; i < r->nh && !h; i++)
                if (r->h[i].id == id && streq(r->h[i].subject, subject))
                        h = &r->h[i];
        if (!h) {
                if (r->nh == HITS_MAX)
                        return;
                h = &r->h[r->nh++];
                *h = (struct hit){.id = id, .sev = sev};
                snprintf(h->subject, sizeof(h->subject), "%s", subject);
        }
        if (sev > h->sev)
                h->sev = sev;
        h->n++;
        snprintf(h->last, sizeof(h->last), "%.190s", text);
}

static int new_entry(void *arg, const struct jentry *e)
{
        struct round *r = arg;
        unsigned scope = jentry_scope(e, r->w->cf.units);
        if (!scope)
                return 0;
        r->entries++;
        for (int i = jpattern_next(e->msg, scope, 0); i >= 0; i = jpattern_next(e->msg, scope, (size_t)i + 1)) {
                struct jhit h;
                jpattern_hit(&jpatterns[i], e->msg, r->w->cf.components, &h);
                note(r, jpatterns[i].id, h.subject[0] ? h.subject : e->kernel ? "kernel" : e->unit, h.sev, h.detail[0] ? h.detail : e->msg);
        }
        if ((scope & JS_COMPONENT) && e->prio >= 0 && e->prio <= 3)
                note(r, "journal.unit_errors", e->unit, SEV_WARN, e->msg);
        return 0;
}

static void open_sources(struct ctx *c, struct jwatch *w)
{
        w->opened = true;
        w->kmsg = -1;
        jconf_read(c, &w->cf);
        if (jconf_open(&w->cf, &w->j) == 0 && journal_usable(w->j)) {
                jconf_match(&w->cf, w->j);
                (void)journal_seek_end(w->j); /* watch's window starts now */
                return;
        }
        if (w->j) {
                journal_close(w->j);
                w->j = NULL;
        }
        if (rootfs_is_live() && c->is_root) {
                w->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (w->kmsg >= 0)
                        (void)lseek(w->kmsg, 0, SEEK_END); /* only what comes from now on */
                struct timespec rt, mono;
                clock_gettime(CLOCK_REALTIME, &rt);
                clock_gettime(CLOCK_MONOTONIC, &mono);
                w->boot_us = (uint64_t)rt.tv_sec * 1000000 + (uint64_t)rt.tv_nsec / 1000 -
                             ((uint64_t)mono.tv_sec * 1000000 + (uint64_t)mono.tv_nsec / 1000);
        }
}

static void read_journal(struct jwatch *w, struct round *r)
{
        int fd = journal_watch_fd(w->j); /* asked each time: a reopen changes it */
        if (fd >= 0) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 0) > 0) /* never waits: the sampler's interval paces us */
                        (void)journal_process(w->j);
        } else {
                (void)journal_process(w->j);
        }
        journal_resume(w->j);
        struct jentry e;
        while (r->entries < NEW_MAX && journal_next(w->j) > 0) {
                jentry_from_journal(w->j, &e);
                new_entry(r, &e);
        }
}

static void read_kmsg(struct jwatch *w, struct round *r)
{
        char rec[8192];
        for (unsigned n = 0; n < NEW_MAX; n++) {
                ssize_t k = read(w->kmsg, rec, sizeof(rec) - 1);
                if (k < 0 && (errno == EPIPE || errno == EINTR))
                        continue;
                if (k <= 0)
                        break; /* EAGAIN: nothing new */
                struct jentry e;
                if (jparse_kmsg(rec, (size_t)k, w->boot_us, &e) == 0)
                        new_entry(r, &e);
        }
}

void journal_sample(struct ctx *c, struct sample *s)
{
        struct jwatch *w = sample_state(c, sizeof(*w));
        if (!w->opened)
                open_sources(c, w);
        struct round r = {.w = w};
        if (w->j)
                read_journal(w, &r);
        else if (w->kmsg >= 0)
                read_kmsg(w, &r);
        else {
                sample_status(s, "journal.source", NULL, SEV_SKIPPED, "no journal to follow%s",
                              rootfs_is_live() && !c->is_root ? " (and /dev/kmsg needs root)" : "");
                return;
        }
        sample_value(s, "journal.new_entries", NULL, r.entries, NULL);
        for (size_t i = 0; i < r.nh; i++)
                sample_status(s, r.h[i].id, r.h[i].subject, r.h[i].sev, "%u new: %s", r.h[i].n, r.h[i].last);
}

void journal_free_state(void *state)
{
        struct jwatch *w = state;
        if (!w)
                return;
        if (w->j)
                journal_close(w->j);
        if (w->kmsg >= 0 && w->opened)
                close(w->kmsg);
        if (w->opened)
                jconf_free(&w->cf);
        free(w);
}
