/* evo: discovery. Lists /dev/shm/evo_*, reads each data object's header with the
 * writers' seqlock protocol (pread, never mmap), finds the writer from /proc/locks
 * (never by taking its lock) or the header's writer_pid, reads legacy .meta files,
 * finds the readers from every /proc/PID/maps, takes the second header sample for
 * the heartbeat rate, and classifies each entry once (evo_verdict.c's rules). The
 * checks (evo_check*.c) and the bundle (evo_collect.c) report from the result. */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/sysmacros.h>
#include <time.h>

uint64_t evo_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int by_fname(const void *a, const void *b) { return strcmp(((const struct seg *)a)->fname, ((const struct seg *)b)->fname); }

bool evo_listed(char **v, size_t n, const char *name)
{
        return n && bsearch(&name, v, n, sizeof(*v), cmp_str);
}

const struct proc *evo_proc(const struct scan *sc, int pid) { return proctable_find(&sc->procs, pid); }

/* A name that is not NUL-terminated (a slice of a maps line), for bsearch. */
struct name_key {
        const char *name;
        size_t len;
};

static int seg_by_key(const void *k, const void *e)
{
        const struct name_key *key = k;
        const char *m = ((const struct seg *)e)->fname;
        int c = strncmp(key->name, m, key->len);
        return c ? c : m[key->len] ? -1 : 0;
}

struct seg *evo_seg_find(struct scan *sc, const char *name, size_t len)
{
        struct name_key key = {name, len};
        return sc->n ? bsearch(&key, sc->v, sc->n, sizeof(*sc->v), seg_by_key) : NULL;
}

void evo_put_pid(const struct scan *sc, struct strbuf *b, int pid)
{
        const struct proc *p = evo_proc(sc, pid);
        _cleanup_free_ char *comm = p ? str_printable(p->comm) : NULL;
        sb_printf(b, "pid %d", pid);
        if (comm)
                sb_printf(b, " (%s)", comm);
}

char *evo_owner(const struct scan *sc, unsigned uid, unsigned gid) { return users_owner(sc->users, uid, gid); }

const char *evo_type_name(mode_t m)
{
        return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO"
             : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : "file of unknown type";
}

int evo_open_entry(const char *path, const struct stat *lst, int *fd_out)
{
        *fd_out = -1;
        int inj = rootfs_injected_error(path);
        if (inj)
                return -inj;
        int fd = rootfs_open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                rootfs_trace_failed(path, -fd);
                return fd;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            (rootfs_is_live() && lst && (st.st_ino != lst->st_ino || st.st_dev != lst->st_dev))) {
                close(fd);
                return -ESTALE;
        }
        *fd_out = fd;
        return 0;
}

static ssize_t fd_pread(void *arg, void *buf, size_t n, uint64_t off)
{
        int fd = *(int *)arg;
        ssize_t r;
        do
                r = pread(fd, buf, n, (off_t)off);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : r;
}

size_t evo_read_header(int fd, unsigned attempts, uint8_t hdr[EVO_HDR_MAX], enum evo_read *rs, unsigned *tries)
{
        ssize_t got = evo_read_full(fd_pread, &fd, hdr, EVO_HDR_MAX, 0);
        *tries = 1;
        if (got < 0) {
                *rs = EVO_READ_ERROR;
                return 0;
        }
        size_t need, off;
        unsigned width;
        enum evo_layout l = evo_layout_of(hdr, (size_t)got, &need);
        *rs = EVO_READ_SHORT;
        if (l == EVO_LAYOUT_NONE || (size_t)got < need)
                return (size_t)got; /* nothing to synchronise with: what is there is the evidence */
        evo_seq_field(l, &off, &width);
        uint8_t buf[EVO_HDR_MAX];
        *rs = evo_seqlock_read(fd_pread, &fd, off, width, buf, need, attempts, SEQ_PAUSE_US, tries);
        if (*rs == EVO_READ_STABLE || *rs == EVO_READ_ODD || *rs == EVO_READ_CONTENDED) {
                memcpy(hdr, buf, need);
                return need;
        }
        return (size_t)got;
}

/* In a bundle the bytes seen become the evidence (host/dev/shm/...), so `check --from`
 * decodes the same header. A snapshot already made (check() before collect()) wins. */
static void evidence(const char *path, uint8_t *buf, size_t *len, size_t max)
{
        char *d;
        size_t n;
        if (rootfs_snapshot_get(path, &d, &n)) {
                *len = n < max ? n : max;
                memcpy(buf, d, *len);
                free(d);
        } else if (rootfs_tracing()) {
                rootfs_snapshot_put(path, (const char *)buf, *len);
        } else {
                return;
        }
        if (rootfs_tracing()) {
                char *t = NULL;
                (void)rootfs_read(path, *len ? *len : 1, &t, NULL); /* records it */
                free(t);
        }
}

static void seg_read(struct seg *s, unsigned attempts)
{
        s->hdr_len = evo_read_header(s->fd, attempts, s->hdr, &s->rs, &s->tries);
        s->t1_ns = evo_now_ns();
        evidence(s->path, s->hdr, &s->hdr_len, EVO_HDR_MAX);
        s->dec = evo_decode(s->hdr, s->hdr_len, &s->h);
}

static void seg_free(struct seg *s)
{
        if (s->fd >= 0)
                close(s->fd);
        free(s->fname);
        free(s->path);
        free(s->base);
        free(s->link);
        free(s->lock_line);
        free(s->meta_fname);
        free(s->meta_raw);
        free(s->problem);
        free(s->m);
}

void evo_scan_free(struct scan *sc)
{
        for (size_t i = 0; i < sc->n; i++)
                seg_free(&sc->v[i]);
        free(sc->v);
        for (size_t i = 0; i < sc->nlocks; i++)
                free(sc->locks[i]);
        for (size_t i = 0; i < sc->nmetas; i++)
                free(sc->metas[i]);
        free(sc->locks);
        free(sc->metas);
        proctable_free(&sc->procs);
        users_free(sc->users);
        free(sc->lk);
        free(sc->locks_text);
        *sc = (struct scan){0};
}

static void list_dir(struct scan *sc, size_t scan_max)
{
        struct rootfs_dir *d = rootfs_opendir(SHM_DIR);
        if (!d) {
                sc->dir_err = -errno;
                return;
        }
        struct dirent *de;
        size_t seen = 0, lcap = 0, mcap = 0;
        while ((de = rootfs_readdir(d))) {
                enum evo_name_kind k = evo_name_kind(de->d_name);
                if (k == EVO_NAME_OTHER)
                        continue;
                if (seen++ >= scan_max) {
                        sc->capped = true;
                        break;
                }
                if (k == EVO_NAME_LOCK) {
                        if (sc->nlocks == lcap)
                                sc->locks = xrealloc(sc->locks, (lcap = lcap ? lcap * 2 : 16) * sizeof(char *));
                        sc->locks[sc->nlocks++] = xstrdup(de->d_name);
                        continue;
                }
                if (k == EVO_NAME_META) {
                        if (sc->nmetas == mcap)
                                sc->metas = xrealloc(sc->metas, (mcap = mcap ? mcap * 2 : 16) * sizeof(char *));
                        sc->metas[sc->nmetas++] = xstrdup(de->d_name);
                        continue;
                }
                if (sc->n == sc->cap)
                        sc->v = xrealloc(sc->v, (sc->cap = sc->cap ? sc->cap * 2 : 16) * sizeof(*sc->v));
                struct seg *s = &sc->v[sc->n++];
                *s = (struct seg){.fd = -1, .fname = xstrdup(de->d_name), .dec = -ENOENT /* not read */};
                s->path = xasprintf("%s/%s", SHM_DIR, de->d_name);
        }
        rootfs_closedir(d);
        if (sc->n)
                qsort(sc->v, sc->n, sizeof(*sc->v), by_fname);
        if (sc->nlocks)
                qsort(sc->locks, sc->nlocks, sizeof(char *), cmp_str);
        if (sc->nmetas)
                qsort(sc->metas, sc->nmetas, sizeof(char *), cmp_str);
}

static void open_segments(struct scan *sc, unsigned attempts)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                s->stat_err = rootfs_stat(s->path, &s->st, false);
                if (s->stat_err < 0)
                        continue;
                if (S_ISLNK(s->st.st_mode)) {
                        (void)rootfs_readlink(s->path, &s->link); /* the name only: never followed */
                        continue;
                }
                if (!S_ISREG(s->st.st_mode))
                        continue; /* FIFO, socket, directory: not opened at all */
                s->open_err = evo_open_entry(s->path, &s->st, &s->fd);
                if (s->open_err < 0)
                        continue;
                s->opened = true;
                seg_read(s, attempts);
        }
}

/* The layout the writer is found by: the header's, else what the files suggest. */
static enum evo_layout writer_layout(const struct scan *sc, const struct seg *s)
{
        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
        return evo_writer_layout(s->dec, &s->h, evo_listed(sc->locks, sc->nlocks, lock), s->name_pid);
}

static void load_locks(struct scan *sc)
{
        long r = rootfs_read("/proc/locks", READ_MAX_DEFAULT, &sc->locks_text, NULL);
        if (r < 0) {
                sc->locks_err = (int)r;
                return;
        }
        proclocks_held(sc->locks_text, &sc->lk, &sc->nlk);
}

/* The /proc/locks line of a lock, for the evidence. */
static char *locks_line_for(const struct scan *sc, const struct stat *st)
{
        if (!sc->locks_text)
                return NULL;
        _cleanup_free_ char *buf = xstrdup(sc->locks_text);
        size_t pos = 0;
        char *line;
        struct strbuf b = {0};
        while ((line = next_line(buf, &pos))) {
                struct proclock l;
                if (proclocks_line(line, &l) == 0 && l.ino == (uint64_t)st->st_ino && streq(l.type, "FLOCK"))
                        sb_printf(&b, "%s\n", line);
        }
        return b.len ? sb_steal(&b) : NULL;
}

static void find_writers(struct scan *sc)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                char *base = NULL;
                if (evo_name_legacy(s->fname, &base, &s->name_pid))
                        s->base = base;
                s->wlayout = writer_layout(sc, s);
                if (s->wlayout == EVO_LAYOUT_P2P) {
                        free(s->base);
                        s->base = xstrdup(s->fname + 4);
                        s->name_pid = 0;
                        _cleanup_free_ char *lock = xasprintf("%s.lock", s->path);
                        s->lock_exists = rootfs_stat(lock, &s->lock_st, false) == 0;
                        bool locks_read = sc->locks_err >= 0;
                        /* The device only means something on the live system. */
                        const struct proclock *l = s->lock_exists && locks_read
                                ? proclocks_holder(sc->lk, sc->nlk, (uint64_t)s->lock_st.st_ino, major(s->lock_st.st_dev),
                                                  minor(s->lock_st.st_dev), rootfs_is_live())
                                : NULL;
                        s->lock_held = l != NULL;
                        s->lock_pid = l ? l->pid : 0;
                        if (s->lock_exists && locks_read)
                                s->lock_line = locks_line_for(sc, &s->lock_st);
                        s->writer = evo_writer_verdict(&(struct evo_writer_facts){
                                .layout = EVO_LAYOUT_P2P, .lock_exists = s->lock_exists, .locks_read = locks_read,
                                .lock_held = s->lock_held});
                        s->wpid = s->lock_held && s->lock_pid > 0 ? s->lock_pid : 0;
                } else if (s->wlayout == EVO_LAYOUT_LEGACY || s->wlayout == EVO_LAYOUT_INTERMEDIATE) {
                        if (!s->base)
                                s->base = xstrdup(s->fname + 4);
                        s->wpid = evo_legacy_writer_pid(s->dec == 0 ? &s->h : NULL, s->name_pid);
                        s->writer = evo_writer_verdict(&(struct evo_writer_facts){
                                .layout = s->wlayout, .pid = s->wpid, .pids_known = sc->procs_ok,
                                .pid_alive = s->wpid > 0 && evo_proc(sc, s->wpid)});
                        if (s->base) {
                                s->meta_fname = xasprintf("evo_%s.meta", s->base);
                                if (!evo_listed(sc->metas, sc->nmetas, s->meta_fname)) {
                                        free(s->meta_fname);
                                        s->meta_fname = NULL;
                                }
                        }
                } else if (!s->base) {
                        s->base = xstrdup(s->fname + 4);
                }
        }
}

/* A legacy .meta: read like a segment (no symlink, no FIFO), parsed with json-c. */
static void read_metas(struct scan *sc)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (!s->meta_fname)
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, s->meta_fname);
                struct stat st;
                int fd;
                if (rootfs_stat(path, &st, false) < 0 || !S_ISREG(st.st_mode) || evo_open_entry(path, &st, &fd) < 0)
                        continue;
                uint8_t *buf = xmalloc(META_MAX);
                ssize_t n = evo_read_full(fd_pread, &fd, buf, META_MAX, 0);
                close(fd);
                size_t len = n > 0 ? (size_t)n : 0;
                evidence(path, buf, &len, META_MAX);
                s->meta_ok = evo_meta_parse((const char *)buf, len, &s->meta) == 0;
                free(s->meta_raw);
                s->meta_raw = xstrndup((const char *)buf, len);
                s->meta_len = len;
                free(buf);
        }
}

static void add_mapper(struct seg *s, int pid, bool writable, bool at_start)
{
        struct mapper *m = NULL;
        for (size_t i = 0; i < s->nm; i++)
                if (s->m[i].pid == pid)
                        m = &s->m[i];
        if (!m) {
                if (s->nm == s->mcap)
                        s->m = xrealloc(s->m, (s->mcap = s->mcap ? s->mcap * 2 : 4) * sizeof(*s->m));
                m = &s->m[s->nm++];
                *m = (struct mapper){.pid = pid};
        }
        m->writable |= writable;
        m->maps += at_start;
}

static bool map_line(const struct proc *p, char *line, void *arg)
{
        struct scan *sc = arg;
        struct procmaps_entry m;
        const char *name;
        size_t len;
        if (procmaps_parse(line, &m) < 0 || m.deleted || !evo_map_names_evo(&m, SHM_DIR, &name, &len))
                return false;
        struct seg *s = evo_seg_find(sc, name, len);
        /* Same name but another inode: an older generation of the segment; another
         * device: a /dev/shm of another mount namespace. */
        if (!s || (s->stat_err == 0 && s->st.st_ino && m.inode != (uint64_t)s->st.st_ino))
                return false;
        if (rootfs_is_live() && s->stat_err == 0 && (m.maj != major(s->st.st_dev) || m.min != minor(s->st.st_dev)))
                return false;
        add_mapper(s, p->pid, m.perms[1] == 'w', m.offset == 0);
        return true;
}

static void scan_maps(struct scan *sc, size_t max_bytes)
{
        sc->maps_scanned = true;
        proc_maps_walk(&sc->procs, max_bytes, SHM_DIR "/evo_", map_line, sc, &sc->mw);
}

/* Sleeps until `until_ns` (monotonic) without going past the deadline. */
static void sleep_until(uint64_t until_ns)
{
        for (;;) {
                uint64_t now = evo_now_ns();
                if (now >= until_ns)
                        return;
                uint64_t d = until_ns - now;
                struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
                if (nanosleep(&ts, NULL) == 0)
                        return;
        }
}

static void second_sample(struct ctx *c, struct scan *sc, unsigned attempts)
{
        uint64_t want = conf_uint(c, "sample_ms");
        uint64_t t1 = UINT64_MAX;
        for (size_t i = 0; i < sc->n; i++)
                if (sc->v[i].opened && sc->v[i].t1_ns < t1)
                        t1 = sc->v[i].t1_ns;
        if (t1 == UINT64_MAX)
                return;
        sc->second_tried = true;
        /* Keep a margin for reporting before the runner's deadline. */
        uint64_t now_ms = now_ms_monotonic(), margin = 500;
        if (c->deadline_ms && now_ms + margin >= c->deadline_ms) {
                sc->no_second = "no time left before the collector's deadline";
                return;
        }
        uint64_t left = c->deadline_ms ? c->deadline_ms - now_ms - margin : UINT64_MAX;
        uint64_t until = t1 + want * 1000000u;
        uint64_t now = evo_now_ns();
        if (until > now && (until - now) / 1000000u > left)
                until = now + left * 1000000u;
        if (want == 0)
                until = now;
        sleep_until(until);
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (!s->opened || s->dec != 0)
                        continue;
                uint8_t buf[EVO_HDR_MAX];
                unsigned tries;
                size_t n = evo_read_header(s->fd, attempts, buf, &s->rs2, &tries);
                s->t2_ns = evo_now_ns();
                s->dec2 = evo_decode(buf, n, &s->h2);
                s->sampled = s->dec2 == 0 && s->h2.layout == s->h.layout;
        }
        sc->window_ms = (evo_now_ns() - t1) / 1000000u;
}

/* What each entry is, decided once, after the maps scan (a mapper ties a file to EVO):
 * the checks and the bundle ask many times. */
static void classify_all(struct scan *sc)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (s->stat_err < 0) {
                        s->cls = C_GONE;
                } else if (!S_ISREG(s->st.st_mode)) {
                        s->cls = C_NOT_REGULAR;
                } else if (!s->opened) {
                        s->cls = s->open_err == -ESTALE || s->open_err == -ELOOP ? C_NOT_REGULAR : C_UNOPENED;
                } else {
                        char tb[128];
                        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
                        const char *tie = evo_tie(s->fname, evo_listed(sc->locks, sc->nlocks, lock), s->meta_fname != NULL, s->nm,
                                                  s->hdr, s->hdr_len, tb, sizeof(tb));
                        struct strbuf why = {0};
                        struct evo_header h;
                        int dec;
                        enum evo_hdr_class k = evo_header_class(s->hdr, s->hdr_len, s->rs, (uint64_t)s->st.st_size, tie, &h, &dec, &why);
                        s->cls = k == EVO_HDR_SOUND ? C_VALID : k == EVO_HDR_CORRUPT ? C_CORRUPT : C_FOREIGN;
                        s->problem = why.len ? sb_steal(&why) : NULL;
                        sb_free(&why);
                }
        }
}

enum seg_class evo_classify(const struct seg *s, struct strbuf *why)
{
        if (why && s->problem)
                sb_puts(why, s->problem);
        return s->cls;
}

const char *evo_module_str(uint8_t m, char buf[16])
{
        const char *n = evo_module_name(m);
        if (n)
                return n;
        snprintf(buf, 16, "module %u", m);
        return buf;
}

void evo_scan(struct ctx *c, struct scan *sc, bool two_samples)
{
        unsigned attempts = (unsigned)conf_uint(c, "seqlock_attempts");
        size_t scan_max = (size_t)conf_uint(c, "scan_max");
        size_t maps_max = (size_t)conf_uint(c, "maps_max_kb") * 1024;
        if (maps_max < 4096)
                maps_max = 4096;
        list_dir(sc, scan_max);
        if (sc->dir_err < 0)
                return;
        /* First the headers, so the second sample is taken while the rest is read. */
        open_segments(sc, attempts);
        sc->procs_ok = proctable_load(&sc->procs) == 0 && sc->procs.n > 0; /* sorted by pid */
        sc->users = users_load();
        load_locks(sc);
        find_writers(sc);
        read_metas(sc);
        if (sc->procs.n)
                scan_maps(sc, maps_max);
        classify_all(sc);
        if (two_samples && rootfs_is_live())
                second_sample(c, sc, attempts);
        else if (two_samples)
                sc->no_second = "it needs the live system (two samples), not --root evidence";
}
