/* evo: watch (evodiag watch). Every interval, each /dev/shm/evo_* data object's header
 * is read through an fd kept open between samples (a new inode — the writer started
 * again — starts over) and compared with the previous sample's: the heartbeat and its
 * rate, whether the writer lives (/proc/locks, writer_pid), whether it stalled or left a
 * write half-done. Every verdict is evo_verdict.c's, the one check() asks, on the facts
 * watch can gather each interval: it does not scan every process's maps, so a file
 * without EVO magic that only a mapper ties to EVO is corrupt for check, not for watch. */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/escape.h"
#include "lib/sample.h"
#include "collectors/sample_util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/sysmacros.h>

struct wseg {
        char *fname;
        int fd;
        ino_t ino;
        dev_t dev;
        bool have_prev, seen;
        struct evo_header prev; /* the previous sample's header (decoded) */
        uint64_t prev_ns, changed_ns;
};

struct wstate {
        struct wseg *v;
        size_t n, cap;
        struct sfile locks; /* /proc/locks, kept open (re-read with pread: no open, no growing copy) */
        char *lkbuf;
        size_t lkcap;
};

/* What one sample reads once for all segments. */
struct wround {
        struct proclock *lk; /* the FLOCKs held */
        size_t nlk;
        bool locks_read;
        int pids_known; /* -1: not looked at yet */
};

static struct wseg *wseg_get(struct wstate *ws, const char *fname)
{
        for (size_t i = 0; i < ws->n; i++)
                if (streq(ws->v[i].fname, fname))
                        return &ws->v[i];
        if (ws->n == ws->cap)
                ws->v = xrealloc(ws->v, (ws->cap = ws->cap ? ws->cap * 2 : 16) * sizeof(*ws->v));
        struct wseg *w = &ws->v[ws->n++];
        *w = (struct wseg){.fname = xstrdup(fname), .fd = -1};
        return w;
}

static void wseg_reset(struct wseg *w)
{
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
        w->have_prev = false;
}

/* Whether processes can be looked up at all (check: a process table): always on the
 * live system; under --root only if its /proc lists a process. */
static bool pids_known(struct wround *r)
{
        if (r->pids_known < 0) {
                r->pids_known = rootfs_is_live();
                struct rootfs_dir *d = r->pids_known ? NULL : rootfs_opendir("/proc");
                struct dirent *de;
                while (d && !r->pids_known && (de = rootfs_readdir(d)))
                        r->pids_known = isdigit((unsigned char)de->d_name[0]);
                if (d)
                        rootfs_closedir(d);
        }
        return r->pids_known;
}

/* The writer of a watched segment, from the facts check() uses (evo_writer_verdict);
 * *layout: how it was looked up, *pid: its pid (0: not known). */
static enum evo_writer watch_writer(struct wround *r, const char *fname, int dec, const struct evo_header *h,
                                    enum evo_layout *layout, int *pid)
{
        *pid = 0;
        char *base = NULL;
        int name_pid = 0;
        (void)evo_name_legacy(fname, &base, &name_pid);
        free(base);
        /* The .lock decides only for a P2P header, or when no header tells. */
        struct stat st;
        bool decoded = dec == 0 || dec == -ENODATA, lock_exists = false;
        if (!decoded || h->layout == EVO_LAYOUT_P2P) {
                _cleanup_free_ char *lock = xasprintf("%s/%s.lock", SHM_DIR, fname);
                lock_exists = rootfs_stat(lock, &st, false) == 0;
        }
        struct evo_writer_facts f = {.layout = *layout = evo_writer_layout(dec, h, lock_exists, name_pid)};
        if (f.layout == EVO_LAYOUT_P2P) {
                const struct proclock *l = lock_exists && r->locks_read
                        ? proclocks_holder(r->lk, r->nlk, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev), rootfs_is_live())
                        : NULL;
                f.lock_exists = lock_exists;
                f.locks_read = r->locks_read;
                f.lock_held = l != NULL;
                *pid = l && l->pid > 0 ? l->pid : 0;
        } else if (f.layout != EVO_LAYOUT_NONE) {
                f.pid = *pid = evo_legacy_writer_pid(dec == 0 ? h : NULL, name_pid);
                f.pids_known = pids_known(r);
                f.pid_alive = f.pid > 0 && proc_exists(f.pid);
        }
        return evo_writer_verdict(&f);
}

/* What ties a file without EVO magic to EVO, as far as watch looks (no maps scan). */
static const char *watch_tie(const char *fname, const uint8_t *hdr, size_t n, char *buf, size_t bn)
{
        struct stat st;
        _cleanup_free_ char *lock = xasprintf("%s/%s.lock", SHM_DIR, fname);
        bool lock_exists = rootfs_stat(lock, &st, false) == 0, meta_exists = false;
        char *base = NULL;
        int pid;
        if (evo_name_legacy(fname, &base, &pid)) {
                _cleanup_free_ char *meta = xasprintf("%s/evo_%s.meta", SHM_DIR, base);
                meta_exists = rootfs_stat(meta, &st, false) == 0;
        }
        free(base);
        return evo_tie(fname, lock_exists, meta_exists, 0, hdr, n, buf, bn);
}

static void watch_one(struct ctx *c, struct sample *out, struct wseg *w, struct wround *r)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, w->fname), *name = str_printable(w->fname);
        struct stat st;
        if (rootfs_stat(path, &st, false) < 0 || !S_ISREG(st.st_mode)) {
                wseg_reset(w);
                return;
        }
        if (w->fd >= 0 && (st.st_ino != w->ino || st.st_dev != w->dev))
                wseg_reset(w); /* a new generation (writer restarted): start over */
        if (w->fd < 0) {
                int e = evo_open_entry(path, &st, &w->fd);
                if (e < 0) {
                        sample_status(out, "evo.segments", name, evo_unopened_sev(e, c->is_root), "cannot open: %s", rootfs_strerror(-e));
                        return;
                }
                w->ino = st.st_ino;
                w->dev = st.st_dev;
        }
        uint8_t buf[EVO_HDR_MAX];
        enum evo_read rs;
        unsigned tries;
        size_t n = evo_read_header(w->fd, 3, buf, &rs, &tries), need;
        uint64_t t = evo_now_ns();
        char tb[128];
        const char *tie = evo_layout_of(buf, n, &need) == EVO_LAYOUT_NONE ? watch_tie(w->fname, buf, n, tb, sizeof(tb)) : NULL;
        struct strbuf why = {0};
        struct evo_header h;
        int dec;
        enum evo_hdr_class k = evo_header_class(buf, n, rs, (uint64_t)st.st_size, tie, &h, &dec, &why);
        if (k == EVO_HDR_NOT_EVO) {
                sb_free(&why);
                wseg_reset(w); /* no fd kept for it: thousands of them must not exhaust ours */
                return; /* not an EVO segment: check says what it is */
        }
        if (k == EVO_HDR_CORRUPT)
                sample_status(out, "evo.corrupt", name, SEV_CRIT, "%s", why.s);
        sb_free(&why);

        int pid;
        enum evo_layout wl;
        enum evo_writer wr = watch_writer(r, w->fname, dec, &h, &wl, &pid);
        enum severity sev = evo_orphaned_sev(wr);
        if (wr == EVO_WRITER_ALIVE)
                sample_status(out, "evo.orphaned", name, sev, "writer pid %d alive", pid);
        else if (wr == EVO_WRITER_DEAD && wl == EVO_LAYOUT_P2P)
                sample_status(out, "evo.orphaned", name, sev, "writer gone: nobody holds its .lock");
        else if (wr == EVO_WRITER_DEAD)
                sample_status(out, "evo.orphaned", name, sev, "writer gone: pid %d exited", pid);
        else
                sample_status(out, "evo.orphaned", name, sev, "writer unknown");
        if (dec != 0) {
                w->have_prev = false;
                return;
        }

        uint64_t prog = evo_progress(&h);
        bool legacy = h.layout == EVO_LAYOUT_LEGACY;
        sample_value(out, "evo.heartbeat", name, (double)prog, NULL);
        if (evo_never_committed_sev(k, &h, &sev))
                sample_status(out, "evo.never_committed", name, sev, sev == SEV_OK ? "written" : legacy ? "never written (version 0)"
                                                                                              : "never committed (heartbeat 0)");
        if (w->have_prev) {
                uint64_t before = evo_progress(&w->prev);
                if (prog != before)
                        w->changed_ns = t;
                double hz = evo_rate_hz(&w->prev, &h, t - w->prev_ns);
                sample_value(out, "evo.heartbeat_hz", name, hz, "Hz");
                if (evo_stalled_sev(k, &w->prev, &h, wr, &sev)) {
                        if (sev == SEV_OK)
                                sample_status(out, "evo.stalled", name, sev, "advancing at %.1f Hz", hz);
                        else
                                sample_status(out, "evo.stalled", name, sev, "heartbeat not advancing for %" PRIu64 " ms (stuck at %" PRIu64 ")",
                                              (t - w->changed_ns) / 1000000u, prog);
                }
                if (evo_write_seq_sev(&w->prev, &h, &sev))
                        sample_status(out, "evo.write_seq", name, sev, sev == SEV_OK ? "no write left half-done"
                                                                                     : "write left half-done (odd sequence in two samples)");
        } else {
                w->changed_ns = t;
        }
        w->have_prev = true;
        w->prev = h;
        w->prev_ns = t;
}

void evo_watch_state_free(void *state)
{
        struct wstate *ws = state;
        if (!ws)
                return;
        for (size_t i = 0; i < ws->n; i++) {
                wseg_reset(&ws->v[i]);
                free(ws->v[i].fname);
        }
        free(ws->v);
        sfile_close(&ws->locks);
        free(ws->lkbuf);
        free(ws);
}

void evo_sample(struct ctx *c, struct sample *out)
{
        struct wstate *ws = c->state;
        if (!ws)
                c->state = ws = xcalloc(1, sizeof(*ws));
        for (size_t i = 0; i < ws->n; i++)
                ws->v[i].seen = false;
        struct wround r = {.pids_known = -1};
        r.locks_read = sfile_read_grow(&ws->locks, "/proc/locks", &ws->lkbuf, &ws->lkcap, READ_MAX_DEFAULT) >= 0;
        if (r.locks_read)
                proclocks_held(ws->lkbuf, &r.lk, &r.nlk);
        struct rootfs_dir *d = rootfs_opendir(SHM_DIR);
        struct dirent *de;
        size_t count = 0, max = (size_t)conf_uint(c, "scan_max");
        while (d && (de = rootfs_readdir(d)) && count < max) {
                if (evo_name_kind(de->d_name) != EVO_NAME_DATA)
                        continue;
                /* Cheap, but never past the deadline: what was sampled is reported. */
                if (c->deadline_ms && now_ms_monotonic() + 20 >= c->deadline_ms)
                        break;
                count++;
                struct wseg *w = wseg_get(ws, de->d_name);
                w->seen = true;
                watch_one(c, out, w, &r);
        }
        bool complete = d && !de;
        rootfs_closedir(d);
        free(r.lk);
        /* Segments gone since the last sample: a clean exit unlinks them. */
        for (size_t i = 0; complete && i < ws->n;) {
                struct wseg *w = &ws->v[i];
                if (w->seen) {
                        i++;
                        continue;
                }
                _cleanup_free_ char *name = str_printable(w->fname);
                sample_status(out, "evo.orphaned", name, SEV_INFO, "segment removed (its writer exited cleanly, or it was deleted)");
                wseg_reset(w);
                free(w->fname);
                ws->v[i] = ws->v[--ws->n];
        }
}
