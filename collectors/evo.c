/* evo: the EVO stack's shared-memory segments (/dev/shm/evo_*). Decodes the three
 * header layouts (P2P at HEAD, the legacy evo_shared_memory crate, and the
 * intermediate one), reads them with the writers' seqlock protocol, finds the
 * writer from /proc/locks (never by taking its lock) and the readers from
 * /proc/PID/maps, samples the heartbeat twice for a rate, and reports orphans,
 * stalls, torn writes, corruption, modes and readers that would get
 * PermissionDenied. Layouts: /work/shared/docs/COMPONENTS.md §1; symptoms and
 * remedies: the EVO shared-memory guide. evodiag never removes or changes a
 * segment: remedies name the exact files and commands. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/evo.h"
#include "collectors/sink.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/procmaps.h"
#include "lib/proctable.h"
#include "lib/users.h"
#include "lib/sample.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/sysmacros.h>
#include <time.h>

static const struct check_info checks[] = {
        {"evo.segments", "EVO shared-memory segments",
         "Every /dev/shm/evo_* data object (the .lock and .meta companions are not segments),\n"
         "decoded from its header. Three layouts exist (COMPONENTS.md §1):\n"
         "  P2P (evo-core HEAD): /dev/shm/evo_<src>_<dst>, 64-byte header, magic EVO_P2P,\n"
         "    heartbeat +1 per commit, write_seq odd while a commit is in progress, and a\n"
         "    companion evo_<name>.lock the writer holds with flock for its whole life;\n"
         "  legacy (evo_shared_memory crate, removed 2026-02-18): /dev/shm/evo_<name>_<pid>,\n"
         "    128-byte header (magic EVO_SHM, seqlock version, writer_pid, reader_count) and a\n"
         "    /dev/shm/evo_<name>.meta JSON;\n"
         "  intermediate (commit 3682320): a legacy file with a P2P header at offset 128.\n"
         "Only the header bytes are read, with pread (never mmap: a truncated file cannot\n"
         "SIGBUS evodiag, a 4 GiB one is not read), retrying like the readers do while the\n"
         "sequence is odd or changes (at most [evo] seqlock_attempts times). Entries are opened\n"
         "with O_NOFOLLOW|O_NONBLOCK and must be regular files. The writer of a P2P segment is\n"
         "who holds the flock on evo_<name>.lock according to /proc/locks: evodiag never takes\n"
         "the lock itself (upstream's probe_writer does, and a writer starting at that moment\n"
         "then fails with WriterAlreadyExists). The legacy writer is writer_pid. Readers are the\n"
         "processes whose /proc/PID/maps name the segment. Legacy and intermediate segments are\n"
         "info: modules built from evo-core HEAD cannot read them (rebuild the writer).\n"
         "The subject is the file name in /dev/shm (evo_hal_cu, evo_evo_hal_sensors_4242).\n"
         "Look by hand: ls -la /dev/shm/evo_*; xxd -l 64 /dev/shm/evo_<name>;\n"
         "  grep \":$(stat -c %i /dev/shm/evo_<name>.lock) \" /proc/locks"},
        {"evo.not_segment", "Entries named evo_* that are not EVO segments",
         "An entry in /dev/shm named evo_* that is not an EVO segment: a symlink (never\n"
         "followed: evo_x -> /etc/shadow is reported, not read), a FIFO or socket (not opened\n"
         "in a way that could block), a directory, or a regular file with no EVO magic and\n"
         "nothing else that ties it to EVO (no evo_<name>.lock, no .meta, not a known segment\n"
         "name, nobody maps it). EVO readers that scan /dev/shm (SegmentDiscovery) skip or\n"
         "trip over such entries; a symlink there is also a classic attack on tools that\n"
         "follow it. Info. Fix: find who made it (ls -la; lsof) and remove or rename it."},
        {"evo.corrupt", "Corrupt EVO segments",
         "An EVO segment whose header is not what a writer leaves: no magic although it is tied\n"
         "to EVO (its .lock exists, a .meta names it, its name is a known segment, or a process\n"
         "maps it), a file shorter than its header, or shorter than header + payload_size (a\n"
         "reader that maps it gets SIGBUS past the end), write_seq not 2*heartbeat (or +1 mid-\n"
         "write), a legacy data size that is not a multiple of 4096 in 4 KiB..1 GiB, writer_pid\n"
         "0. Readers fail with an invalid-magic / version error or read garbage (the guide's\n"
         "\"Memory Corruption\"). Crit.\n"
         "Fix: stop the writer, remove the segment (rm /dev/shm/evo_<name> /dev/shm/evo_<name>.lock)\n"
         "and start the writer again; if it comes back corrupt, look for a second writer or a\n"
         "version mismatch between modules (the guide's \"Version Compatibility\")."},
        {"evo.unknown_name", "Segments with a name evo-core does not use",
         "A valid segment whose name is not one of the 15 P2P segments of evo-core HEAD\n"
         "(evo_common/src/shm/segments.rs: hal_cu, cu_hal, cu_mqt, hal_mqt, re_cu, re_hal,\n"
         "re_mqt, re_rpc, rpc_cu, rpc_hal, rpc_re, cu_re, cu_rpc, hal_rpc, hal_re) nor, for\n"
         "legacy files, one of the 15 legacy names (evo_hal_sensors, evo_control_state, ...).\n"
         "Readers open segments by name: a misspelt name is the guide's \"Segment Not Found\"\n"
         "(\"Segment name mismatch: check spelling and case sensitivity\"). Info: test and\n"
         "third-party segments are legitimate. Fix: compare the writer's and the readers'\n"
         "names (ls /dev/shm | grep evo_)."},
        {"evo.orphaned", "Segments whose writer is gone",
         "A segment whose writer no longer runs. P2P: nobody holds the flock on\n"
         "/dev/shm/evo_<name>.lock (/proc/locks has no FLOCK line for its inode), or the .lock is\n"
         "missing — the same rule as upstream's probe_writer, read without taking the lock.\n"
         "Legacy and intermediate: writer_pid (else the pid in the file name) has no /proc entry\n"
         "(upstream's cleanup also waits until the segment is 60 s old; a dead pid is dead, so\n"
         "evodiag does not). A writer that exits cleanly unlinks its files; a crashed one leaves\n"
         "them. Readers keep reading the last data with a frozen heartbeat, and the dead\n"
         "segment is what they attach to until the writer creates a new one. Crit.\n"
         "Fix (evodiag never deletes): make sure the writer is really gone, then remove exactly\n"
         "the files the finding names, e.g. rm /dev/shm/evo_x /dev/shm/evo_x.lock (legacy:\n"
         "rm /dev/shm/evo_<name>_<pid> /dev/shm/evo_<name>.meta), and restart the writer; readers\n"
         "that still map the old segment must re-attach (restart them). Upstream's\n"
         "SegmentDiscovery::cleanup_dead() does the same removal."},
        {"evo.leftovers", "Stale .lock and .meta files",
         "Companion files without their segment. evo_<name>.lock with no evo_<name>: harmless\n"
         "if nobody holds it (info: a writer that died between the two shm_open calls, or a\n"
         "segment removed by hand); if a process holds it, the writer runs but its segment is\n"
         "gone (removed while in use): readers get SegmentNotFound (warn). evo_<name>.meta with\n"
         "no evo_<name>_<pid>: the legacy writer creates .meta with create_new, so a leftover\n"
         "one makes the next writer fail to start (warn).\n"
         "Fix: rm the named file (and restart the writer that lost its segment)."},
        {"evo.never_committed", "Segments never written",
         "Heartbeat 0 (P2P, intermediate) or legacy version 0: the writer created the segment\n"
         "but never committed. Readers wait for it forever; the evo watchdog's\n"
         "wait_for_segment(\"hal_cu\") counts a segment as ready only when the heartbeat is > 0.\n"
         "Warn. Fix: look at the writer's log (journalctl -u <unit>, or its stdout) — it is\n"
         "usually stuck in its start-up (hardware, config) before its first cycle."},
        {"evo.stalled", "Heartbeat advancing",
         "The heartbeat is read twice, [evo] sample_ms apart (default 200 ms), and the rate\n"
         "shown in Hz. A live writer whose heartbeat did not move is stalled (crit): its RT loop\n"
         "is blocked, starved or spinning elsewhere, and readers act on stale data (upstream\n"
         "raises HeartbeatStale). Legacy segments are written when data changes, not each\n"
         "cycle: no write during the window is info. A writer committing slower than once per\n"
         "sample_ms looks stalled: raise [evo] sample_ms for it.\n"
         "Needs the live system (two samples): `check --from` does not re-judge it.\n"
         "Fix: find the writer (the finding names its pid): cat /proc/<pid>/stack, top -H -p <pid>,\n"
         "check its CPU is not shared with other RT work (evodiag check --only rt,isolation), then\n"
         "restart it.",
         .live = true},
        {"evo.write_seq", "Writes left half-done",
         "write_seq (P2P) or the legacy seqlock version odd in both samples: a write began and\n"
         "never finished. If the writer is alive it is stuck mid-commit; if it is dead it died\n"
         "mid-write and the payload is torn. Readers retry 10 times and then fail with\n"
         "ReadContention / VersionConflict on every read. Crit.\n"
         "Needs the live system (two samples): `check --from` does not re-judge it.\n"
         "Fix: restart the writer (kill <pid>; if it is dead, remove the segment as for\n"
         "evo.orphaned first).",
         .live = true},
        {"evo.permissions", "Segment and lock modes",
         "Upstream creates both the data object and the .lock with mode 0600 (shm_open(...,\n"
         "S_IRUSR|S_IWUSR), comment \"// 0o600\"; legacy: .mode(0o600)). The guide's\n"
         "troubleshooting page instead says to expect -rw-rw-r-- and to run\n"
         "chmod 664 /dev/shm/evo_* && chown :evo /dev/shm/evo_*: that contradicts the code, and\n"
         "the glob also opens up the .lock files. Warn when:\n"
         "  a data object is world-writable (o+w): any local user can rewrite what the RT\n"
         "    loop acts on;\n"
         "  a P2P data object is group-writable (g+w): P2P readers open it O_RDONLY, only the\n"
         "    writer needs write (legacy readers do need it: they bump reader_count);\n"
         "  a .lock is readable or writable by others: anyone who can open it can take the\n"
         "    flock and keep the writer from starting (WriterAlreadyExists).\n"
         "Fix: for shared read access use group read, not write:\n"
         "  chmod 640 /dev/shm/evo_<name> && chown :evo /dev/shm/evo_<name>; chmod 600 /dev/shm/evo_<name>.lock\n"
         "(legacy: chmod 660). A new writer recreates the files with its own mode: make it\n"
         "create them that way (fchmod after shm_open) rather than fixing them by hand."},
        {"evo.crashed_readers", "Legacy reader_count against live readers",
         "The legacy header's reader_count is incremented when a reader attaches and\n"
         "decremented in its Drop: a reader that crashed never decrements it. A count larger\n"
         "than the processes that map the segment now (the writer excluded) means crashed\n"
         "readers. Info: the count is only bookkeeping, but tools that trust it (monitoring,\n"
         "cleanup that waits for 0 readers) are misled. Fix: restart the writer (a new segment\n"
         "starts at 0). Needs every process's maps: skipped as non-root."},
        {"evo.reader_access", "Readers that cannot open a segment (PermissionDenied)",
         "The guide's \"Permission Denied\" (ShmError::PermissionDenied), found before a reader\n"
         "hits it. A would-be reader of a segment is:\n"
         "  for a P2P name <src>_<dst> of known modules: a process of module <dst>, i.e. one that\n"
         "    holds the lock of a <dst>_* segment (its writer) or maps an *_<dst> segment it does\n"
         "    not write;\n"
         "  for other names: a process that maps another EVO segment it does not write (an EVO\n"
         "    reader).\n"
         "It is reported when it does not map this segment and its file-system uid/gid and\n"
         "groups (/proc/PID/status) do not pass the segment's mode bits for the access readers\n"
         "use: read for P2P, read-write for legacy (the reader bumps reader_count). uid 0 always\n"
         "passes; POSIX ACLs and capabilities are not evaluated. Warn.\n"
         "Fix (the guide's, narrowed): sudo chown :evo /dev/shm/evo_<name> && sudo chmod 640\n"
         "/dev/shm/evo_<name> (legacy 660), sudo usermod -a -G evo <reader user> (then restart it),\n"
         "and make the writer create it that way; or run the modules as one user.\n"
         "Needs every process's maps and status: skipped as non-root."},
        {"evo.mappers", "Who maps EVO segments (/proc/PID/maps scan)",
         "The scan of every process's /proc/PID/maps that finds each segment's readers. As\n"
         "non-root other users' maps are unreadable: readers, crashed readers and reader access\n"
         "are then unknown (skipped), not absent. Each maps file is read up to [evo]\n"
         "maps_max_kb. Fix: run as root (sudo evodiag check --only evo)."},
        {0},
};

static const struct config_key config[] = {
        CONF_UINT("sample_ms", "200", 10, 600000, "interval between the two heartbeat samples (ms); slower writers look stalled"),
        CONF_UINT("seqlock_attempts", "10", 1, 1000, "reads of a header before giving up on a consistent copy (upstream: 10)"),
        CONF_UINT("scan_max", "1000", 1, 10000000, "examine at most this many /dev/shm/evo_* entries"),
        CONF_UINT("maps_max_kb", "2048", 1, 262144, "read at most this many KiB of each /proc/PID/maps"),
        {0},
};

#define SHM_DIR "/dev/shm"
#define SEQ_PAUSE_US 100
#define READERS_SHOWN 6
#define META_MAX (64u << 10)

/* ---------------- collection ---------------- */

struct mapper {
        int pid;
        bool writable;
        unsigned maps; /* mappings that start at file offset 0: one per mmap() */
};

enum writer_state { W_UNKNOWN, W_ALIVE, W_DEAD };

struct seg {
        char *fname; /* evo_hal_cu: the subject */
        char *path;  /* /dev/shm/evo_hal_cu */
        char *base;  /* hal_cu; legacy and intermediate: without _<pid> */
        int name_pid;
        struct stat st;
        int stat_err;
        char *link;   /* symlink target */
        int fd;
        int open_err; /* -errno from open, -ESTALE replaced meanwhile */
        bool opened;
        uint8_t hdr[EVO_HDR_MAX];
        size_t hdr_len;
        enum evo_read rs;
        unsigned tries;
        struct evo_header h;
        int dec;
        bool bad;      /* decoded, but not what a writer leaves */
        char why[192];
        /* the second sample */
        bool sampled;
        struct evo_header h2;
        int dec2;
        enum evo_read rs2;
        uint64_t t1_ns, t2_ns;
        /* writer */
        enum evo_layout wlayout; /* the layout the writer is looked up by */
        bool lock_exists;
        struct stat lock_st;
        bool lock_held;
        int lock_pid;
        char *lock_line;
        int wpid;
        enum writer_state writer;
        /* legacy .meta */
        char *meta_fname;
        bool meta_ok;
        struct evo_meta meta;
        char *meta_raw;    /* the bytes read through open_entry(): all a bundle may store */
        size_t meta_len;
        /* readers */
        struct mapper *m;
        size_t nm, mcap;
};

struct scan {
        struct seg *v;
        size_t n, cap;
        char **locks, **metas; /* companion names in /dev/shm, sorted */
        size_t nlocks, nmetas;
        bool capped;
        int dir_err;
        struct proctable procs;
        bool procs_ok;
        struct users *users; /* ROOT/etc/passwd and group */
        int locks_err;
        struct evo_lock *lk;
        size_t nlk;
        char *locks_text;
        bool maps_scanned;
        struct maps_walk mw; /* the /proc/PID/maps scan */
        bool second_tried;
        const char *no_second; /* why there is no second sample */
        uint64_t window_ms;
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A count from the config: negative or NaN is 0, huge is capped. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int by_fname(const void *a, const void *b) { return strcmp(((const struct seg *)a)->fname, ((const struct seg *)b)->fname); }
static int by_pid(const void *a, const void *b)
{
        const struct proc *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static bool name_listed(char **v, size_t n, const char *name)
{
        return n && bsearch(&name, v, n, sizeof(*v), cmp_str);
}

static const struct proc *proc_find(const struct scan *sc, int pid) { return proctable_find(&sc->procs, pid); }

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

static struct seg *seg_find(struct scan *sc, const char *name, size_t len)
{
        struct name_key key = {name, len};
        return sc->n ? bsearch(&key, sc->v, sc->n, sizeof(*sc->v), seg_by_key) : NULL;
}

/* "pid 42 (evo_hal)" */
static void put_pid(const struct scan *sc, struct strbuf *b, int pid)
{
        const struct proc *p = proc_find(sc, pid);
        _cleanup_free_ char *comm = p ? str_printable(p->comm) : NULL;
        sb_printf(b, "pid %d", pid);
        if (comm)
                sb_printf(b, " (%s)", comm);
}

static char *owner(const struct scan *sc, unsigned uid, unsigned gid) { return users_owner(sc->users, uid, gid); }

static const char *type_name(mode_t m)
{
        return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO"
             : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : "file of unknown type";
}

/* Opens an entry of /dev/shm without following a symlink or blocking on a FIFO, and
 * keeps it only if it is the regular file lstat saw (not swapped in the meantime). */
static int open_entry(const char *path, const struct stat *lst, int *fd_out)
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

/* The header, by the seqlock protocol once its layout is known; only these bytes are
 * ever read. Returns the number of bytes in hdr. */
static size_t read_header(int fd, unsigned attempts, uint8_t hdr[EVO_HDR_MAX], enum evo_read *rs, unsigned *tries)
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
        const char *d;
        size_t n;
        if (rootfs_snapshot_get(path, &d, &n)) {
                *len = n < max ? n : max;
                memcpy(buf, d, *len);
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

static void seg_read(struct scan *sc, struct seg *s, unsigned attempts)
{
        (void)sc;
        s->hdr_len = read_header(s->fd, attempts, s->hdr, &s->rs, &s->tries);
        s->t1_ns = now_ns();
        evidence(s->path, s->hdr, &s->hdr_len, EVO_HDR_MAX);
        s->dec = evo_decode(s->hdr, s->hdr_len, &s->h);
        if (s->dec == 0 && s->rs == EVO_READ_STABLE)
                s->bad = evo_header_problem(&s->h, s->why, sizeof(s->why));
        else if (s->dec == 0 && s->h.layout != EVO_LAYOUT_P2P)
                s->bad = evo_header_problem(&s->h, s->why, sizeof(s->why)) && !startswith(s->why, "write_seq");
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
        free(s->m);
}

static void scan_free(struct scan *sc)
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
                s->open_err = open_entry(s->path, &s->st, &s->fd);
                if (s->open_err < 0)
                        continue;
                s->opened = true;
                seg_read(sc, s, attempts);
        }
}

/* The layout the writer is found by: the header's, else what the files suggest. */
static enum evo_layout writer_layout(const struct scan *sc, const struct seg *s)
{
        if (s->dec == 0 || s->dec == -ENODATA)
                return s->h.layout;
        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
        if (name_listed(sc->locks, sc->nlocks, lock))
                return EVO_LAYOUT_P2P;
        if (s->name_pid)
                return EVO_LAYOUT_LEGACY;
        return EVO_LAYOUT_NONE;
}

static void load_locks(struct scan *sc)
{
        long r = rootfs_read("/proc/locks", READ_MAX_DEFAULT, &sc->locks_text, NULL);
        if (r < 0) {
                sc->locks_err = (int)r;
                return;
        }
        size_t cap = 0, pos = 0;
        _cleanup_free_ char *buf = xstrdup(sc->locks_text);
        char *line;
        while ((line = next_line(buf, &pos))) {
                struct evo_lock l;
                if (evo_locks_line(line, &l) < 0 || l.waiter || !streq(l.type, "FLOCK"))
                        continue;
                if (sc->nlk == cap)
                        sc->lk = xrealloc(sc->lk, (cap = cap ? cap * 2 : 32) * sizeof(*sc->lk));
                sc->lk[sc->nlk++] = l;
        }
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
                struct evo_lock l;
                if (evo_locks_line(line, &l) == 0 && l.ino == (uint64_t)st->st_ino && streq(l.type, "FLOCK"))
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
                        if (!s->lock_exists) {
                                s->writer = W_DEAD;
                                continue;
                        }
                        if (sc->locks_err < 0) {
                                s->writer = W_UNKNOWN;
                                continue;
                        }
                        for (size_t k = 0; k < sc->nlk; k++) {
                                const struct evo_lock *l = &sc->lk[k];
                                if (l->ino != (uint64_t)s->lock_st.st_ino)
                                        continue;
                                /* The device only means something on the live system. */
                                if (rootfs_is_live() && (l->maj != major(s->lock_st.st_dev) || l->min != minor(s->lock_st.st_dev)))
                                        continue;
                                s->lock_held = true;
                                s->lock_pid = l->pid;
                                break;
                        }
                        s->lock_line = locks_line_for(sc, &s->lock_st);
                        s->writer = s->lock_held ? W_ALIVE : W_DEAD;
                        s->wpid = s->lock_held && s->lock_pid > 0 ? s->lock_pid : 0;
                } else if (s->wlayout == EVO_LAYOUT_LEGACY || s->wlayout == EVO_LAYOUT_INTERMEDIATE) {
                        if (!s->base)
                                s->base = xstrdup(s->fname + 4);
                        s->wpid = s->dec == 0 && s->h.legacy.writer_pid && s->h.legacy.writer_pid <= INT32_MAX
                                          ? (int)s->h.legacy.writer_pid : s->name_pid;
                        if (!s->wpid || !sc->procs_ok)
                                s->writer = W_UNKNOWN;
                        else
                                s->writer = proc_find(sc, s->wpid) ? W_ALIVE : W_DEAD;
                        if (s->base) {
                                s->meta_fname = xasprintf("evo_%s.meta", s->base);
                                if (!name_listed(sc->metas, sc->nmetas, s->meta_fname)) {
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
                if (rootfs_stat(path, &st, false) < 0 || !S_ISREG(st.st_mode) || open_entry(path, &st, &fd) < 0)
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
        struct seg *s = seg_find(sc, name, len);
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
                uint64_t now = now_ns();
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
        uint64_t now = now_ns();
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
                size_t n = read_header(s->fd, attempts, buf, &s->rs2, &tries);
                s->t2_ns = now_ns();
                s->dec2 = evo_decode(buf, n, &s->h2);
                s->sampled = s->dec2 == 0 && s->h2.layout == s->h.layout;
        }
        sc->window_ms = (now_ns() - t1) / 1000000u;
}

static void scan(struct ctx *c, struct scan *sc, bool two_samples)
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
        sc->procs_ok = proctable_load(&sc->procs) == 0 && sc->procs.n > 0;
        if (sc->procs.n)
                qsort(sc->procs.v, sc->procs.n, sizeof(*sc->procs.v), by_pid);
        sc->users = users_load();
        load_locks(sc);
        find_writers(sc);
        read_metas(sc);
        if (sc->procs.n)
                scan_maps(sc, maps_max);
        if (two_samples && rootfs_is_live())
                second_sample(c, sc, attempts);
        else if (two_samples)
                sc->no_second = "it needs the live system (two samples), not --root evidence";
}

/* ---------------- findings ---------------- */

enum seg_class { C_GONE, C_NOT_REGULAR, C_UNOPENED, C_FOREIGN, C_CORRUPT, C_VALID };

/* What ties a file without a readable EVO header to EVO, or NULL. */
static const char *ties(const struct scan *sc, const struct seg *s, char *buf, size_t n)
{
        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
        if (name_listed(sc->locks, sc->nlocks, lock)) {
                snprintf(buf, n, "%s exists", lock);
                return buf;
        }
        if (s->meta_fname) {
                snprintf(buf, n, "%s exists", s->meta_fname);
                return buf;
        }
        if (s->base && (evo_name_known(s->base, EVO_LAYOUT_LEGACY) || evo_name_known(s->fname + 4, EVO_LAYOUT_P2P))) {
                snprintf(buf, n, "its name is an evo-core segment's");
                return buf;
        }
        if (s->nm) {
                snprintf(buf, n, "%zu process%s map%s it", s->nm, s->nm == 1 ? "" : "es", s->nm == 1 ? "s" : "");
                return buf;
        }
        if (s->hdr_len >= 4 && (!memcmp(s->hdr, "EVO_", 4) || !memcmp(s->hdr, "\0MHS", 4))) {
                snprintf(buf, n, "it starts like an EVO magic");
                return buf;
        }
        return NULL;
}

static enum seg_class classify(const struct scan *sc, const struct seg *s, struct strbuf *why)
{
        char tb[128];
        if (s->stat_err < 0)
                return C_GONE;
        if (!S_ISREG(s->st.st_mode))
                return C_NOT_REGULAR;
        if (!s->opened)
                return s->open_err == -ESTALE || s->open_err == -ELOOP ? C_NOT_REGULAR : C_UNOPENED;
        uint64_t size = (uint64_t)s->st.st_size;
        if (s->dec == -EBADMSG) {
                const char *t = ties(sc, s, tb, sizeof(tb));
                if (why) {
                        if (s->hdr_len < 8)
                                sb_printf(why, "%" PRIu64 " bytes: too short for any EVO header", size);
                        else
                                sb_printf(why, "no EVO magic (first bytes %02x %02x %02x %02x %02x %02x %02x %02x)", s->hdr[0], s->hdr[1],
                                          s->hdr[2], s->hdr[3], s->hdr[4], s->hdr[5], s->hdr[6], s->hdr[7]);
                        if (t)
                                sb_printf(why, ", but %s", t);
                }
                return t ? C_CORRUPT : C_FOREIGN;
        }
        if (s->dec == -ENODATA) {
                size_t need;
                (void)evo_layout_of(s->hdr, s->hdr_len, &need);
                if (why)
                        sb_printf(why, "%" PRIu64 " bytes: shorter than the %zu-byte %s header its magic announces", size, need,
                                  evo_layout_name(s->h.layout));
                return C_CORRUPT;
        }
        if (s->bad) {
                if (why)
                        sb_puts(why, s->why);
                return C_CORRUPT;
        }
        uint64_t min = evo_min_size(&s->h);
        if (size < min) {
                if (why)
                        sb_printf(why, "%" PRIu64 " bytes, but its header declares %" PRIu64 ": readers that map it get SIGBUS past the end",
                                  size, min);
                return C_CORRUPT;
        }
        return C_VALID;
}

static bool is_evo(enum seg_class k) { return k == C_VALID || k == C_CORRUPT; }

static const char *module_str(uint8_t m, char buf[16])
{
        const char *n = evo_module_name(m);
        if (n)
                return n;
        snprintf(buf, 16, "module %u", m);
        return buf;
}

/* "read by pid 43 (cu), pid 44 (mqt)" / what the maps scan can say about none. */
static void put_readers(const struct scan *sc, const struct seg *s, struct strbuf *b)
{
        size_t shown = 0, readers = 0;
        for (size_t i = 0; i < s->nm; i++)
                readers += s->m[i].pid != s->wpid;
        if (!readers) {
                if (!sc->maps_scanned)
                        sb_puts(b, "readers unknown (no process table)");
                else if (sc->mw.unreadable)
                        sb_printf(b, "no reader found (maps of %zu %s not readable)", sc->mw.unreadable, sc->mw.unreadable == 1 ? "process" : "processes");
                else
                        sb_puts(b, "no reader maps it");
                return;
        }
        sb_puts(b, "read by ");
        for (size_t i = 0; i < s->nm; i++) {
                if (s->m[i].pid == s->wpid)
                        continue;
                if (shown == READERS_SHOWN) {
                        sb_printf(b, " and %zu more", readers - shown);
                        break;
                }
                if (shown++)
                        sb_puts(b, ", ");
                put_pid(sc, b, s->m[i].pid);
        }
}

static void put_writer(const struct scan *sc, const struct seg *s, struct strbuf *b)
{
        if (s->wlayout == EVO_LAYOUT_P2P) {
                if (!s->lock_exists)
                        sb_printf(b, "no %s.lock (writer gone)", s->fname);
                else if (s->writer == W_UNKNOWN)
                        sb_puts(b, "writer unknown (/proc/locks not readable)");
                else if (!s->lock_held)
                        sb_puts(b, "nobody holds its .lock (writer gone)");
                else if (s->lock_pid > 0) {
                        sb_puts(b, "writer ");
                        put_pid(sc, b, s->lock_pid);
                        sb_puts(b, " holds the lock");
                } else {
                        sb_puts(b, "its .lock is held by a process outside evodiag's pid namespace");
                }
                return;
        }
        if (!s->wpid) {
                sb_puts(b, "writer unknown (writer_pid 0)");
                return;
        }
        sb_puts(b, "writer ");
        put_pid(sc, b, s->wpid);
        sb_puts(b, s->writer == W_ALIVE ? " alive" : s->writer == W_DEAD ? " gone" : " (liveness not in the evidence)");
}


/* Segments that could not be opened (0600 of another user, as non-root). */
static size_t unopened(const struct scan *sc)
{
        size_t n = 0;
        for (size_t i = 0; i < sc->n; i++)
                n += classify(sc, &sc->v[i], NULL) == C_UNOPENED;
        return n;
}

/* The ok line of a header check: skipped when no header could be read at all, and
 * otherwise it says how many were not read. Returns NULL when it added a skip. */
static struct finding *ok_or_skipped(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, size_t checked,
                                     const char *fmt, ...) PRINTF(6, 7);
static struct finding *ok_or_skipped(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, size_t checked,
                                     const char *fmt, ...)
{
        size_t un = unopened(sc);
        if (!checked && un) {
                struct finding *f = fnd_add(fs, c->is_root ? SEV_UNKNOWN : SEV_SKIPPED, id, "%s%zu %s could not be read: not checked",
                                            c->is_root ? "" : "needs root: ", un, un == 1 ? "segment" : "segments");
                if (!c->is_root)
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                fnd_evidence(f, "%s/evo_*", SHM_DIR);
                return NULL;
        }
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        struct finding *f = fnd_add(fs, SEV_OK, id, "%s%s", msg, un ? " (segments not readable without root left out)" : "");
        return f;
}

static void report_segments(struct ctx *c, struct scan *sc, struct findings *fs)
{
        struct finding *f;
        if (sc->dir_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "evo.segments", "cannot list %s: %s", SHM_DIR, strerror(-sc->dir_err));
                fnd_evidence(f, "%s", SHM_DIR);
                return;
        }
        if (sc->capped) {
                f = fnd_add(fs, SEV_INFO, "evo.segments", "more than %.0f evo_* entries in %s: only the first were examined",
                            conf_num(c, "scan_max"), SHM_DIR);
                fnd_remedy(f, "ls %s | grep -c '^evo_'   # a writer that leaks segments? or raise [evo] scan_max", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        size_t valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = classify(sc, s, NULL);
                _cleanup_free_ char *name = str_printable(s->fname);
                if (k == C_UNOPENED) {
                        _cleanup_free_ char *own = owner(sc, s->st.st_uid, s->st.st_gid);
                        bool need_root = !c->is_root && s->open_err == -EACCES;
                        f = fnd_add(fs, need_root ? SEV_SKIPPED : SEV_UNKNOWN, "evo.segments", "%s%s: cannot open it (%s; mode %04o, owner %s): header not read",
                                    need_root ? "needs root: " : "", name, strerror(-s->open_err), (unsigned)(s->st.st_mode & 07777), own);
                        fnd_subject(f, "%s", name);
                        if (need_root)
                                fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                        fnd_evidence(f, "%s", s->path);
                        continue;
                }
                if (k != C_VALID)
                        continue; /* evo.not_segment and evo.corrupt say what it is */
                valid++;
                char sz[32], m1[16], m2[16];
                struct strbuf b = {0};
                const struct evo_header *h = &s->h;
                if (h->layout == EVO_LAYOUT_LEGACY)
                        sb_printf(&b, "legacy segment '%s', %s, data %" PRIu64 " B, %" PRIu64 " writes (version %" PRIu64 "); ",
                                  s->base, fmt_bytes((uint64_t)s->st.st_size, sz), h->legacy.size, h->legacy.version / 2, h->legacy.version);
                else
                        sb_printf(&b, "%s %s->%s, %s, payload %" PRIu32 " B, heartbeat %" PRIu64 "; ",
                                  h->layout == EVO_LAYOUT_P2P ? "P2P" : "intermediate (legacy file, P2P header at 128)",
                                  module_str(h->p2p.source, m1), module_str(h->p2p.dest, m2), fmt_bytes((uint64_t)s->st.st_size, sz),
                                  h->p2p.payload_size, h->p2p.heartbeat);
                put_writer(sc, s, &b);
                sb_puts(&b, "; ");
                put_readers(sc, s, &b);
                if (h->layout != EVO_LAYOUT_P2P)
                        sb_puts(&b, "; written by a pre-P2P build: HEAD modules cannot read it");
                _cleanup_free_ char *summary = sb_steal(&b);
                f = fnd_add(fs, h->layout == EVO_LAYOUT_P2P ? SEV_OK : SEV_INFO, "evo.segments", "%s: %s", name, summary);
                fnd_subject(f, "%s", name);
                _cleanup_free_ char *own = owner(sc, s->st.st_uid, s->st.st_gid);
                struct strbuf a = {0};
                sb_printf(&a, "mode %04o, owner %s, inode %" PRIu64, (unsigned)(s->st.st_mode & 07777), own, (uint64_t)s->st.st_ino);
                if (h->layout != EVO_LAYOUT_LEGACY) {
                        uint32_t al = evo_version_hash_align(h->p2p.version_hash, h->layout == EVO_LAYOUT_P2P ? h->p2p.payload_size
                                                                                                               : h->p2p.payload_size + EVO_P2P_HDR);
                        sb_printf(&a, ", version_hash 0x%08" PRIx32, h->p2p.version_hash);
                        if (al)
                                sb_printf(&a, " (payload align %" PRIu32 ")", al);
                        else
                                sb_puts(&a, " (matches no alignment of its size)");
                        sb_printf(&a, ", write_seq %" PRIu32, h->p2p.write_seq);
                }
                if (h->layout != EVO_LAYOUT_P2P) {
                        sb_printf(&a, ", reader_count %" PRIu32 ", writer_pid %" PRIu32, h->legacy.reader_count, h->legacy.writer_pid);
                        if (s->name_pid && (uint32_t)s->name_pid != h->legacy.writer_pid)
                                sb_printf(&a, " (file name says %d)", s->name_pid);
                        time_t t = (time_t)(h->legacy.created_ts / 1000000000u);
                        struct tm tm;
                        char ts[40];
                        if (h->legacy.created_ts && gmtime_r(&t, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm))
                                sb_printf(&a, ", created %s", ts);
                        if (s->meta_fname)
                                sb_printf(&a, ", %s %s", s->meta_fname, s->meta_ok ? "read" : "unreadable or not JSON");
                }
                if (s->rs != EVO_READ_STABLE)
                        sb_printf(&a, ", header read %s after %u tries", evo_read_name(s->rs), s->tries);
                _cleanup_free_ char *actual = sb_steal(&a);
                fnd_actual(f, "%s", actual);
                fnd_evidence(f, "%s (header), /proc/locks, /proc/*/maps", s->path);
        }
        if (!sc->n) {
                f = fnd_add(fs, SEV_OK, "evo.segments", "no EVO data segments in %s (only .lock/.meta files)", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        } else if (!valid && !sc->capped && !unopened(sc)) {
                /* Everything is in the other checks; say the inventory was taken. */
                f = fnd_add(fs, SEV_INFO, "evo.segments", "%zu evo_* %s in %s, none a readable EVO segment", sc->n,
                            sc->n == 1 ? "entry" : "entries", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
}

static void report_not_segment(struct scan *sc, struct findings *fs)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                struct strbuf why = {0};
                enum seg_class k = classify(sc, s, &why);
                _cleanup_free_ char *name = str_printable(s->fname), *own = s->stat_err == 0 ? owner(sc, s->st.st_uid, s->st.st_gid) : NULL;
                struct finding *f = NULL;
                if (k == C_NOT_REGULAR && s->stat_err == 0 && S_ISLNK(s->st.st_mode)) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is a symlink, not an EVO segment (not followed)", name);
                } else if (k == C_NOT_REGULAR && s->stat_err == 0 && !S_ISREG(s->st.st_mode)) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is a %s, not an EVO segment (not opened)", name, type_name(s->st.st_mode));
                } else if (k == C_NOT_REGULAR) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s changed while it was examined (%s): not read",
                                    name, s->open_err == -ELOOP ? "it became a symlink" : "replaced or not a regular file");
                } else if (k == C_FOREIGN) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is not an EVO segment: %s; no .lock or .meta, unknown name, "
                                    "nobody maps it", name, why.s);
                }
                if (f) {
                        fnd_subject(f, "%s", name);
                        if (s->link) {
                                /* The target stays out of the summary: a bundle keeps absolute
                                 * link targets in its manifest only, so --from cannot read it. */
                                _cleanup_free_ char *t = str_printable(s->link);
                                fnd_actual(f, "symlink to %s, owner %s", t, own);
                        } else if (own) {
                                fnd_actual(f, "%s, mode %04o, owner %s, %" PRIu64 " bytes", type_name(s->st.st_mode),
                                           (unsigned)(s->st.st_mode & 07777), own, (uint64_t)s->st.st_size);
                        }
                        _cleanup_free_ char *w = shell_quote(s->path);
                        fnd_remedy(f, "ls -la %s; lsof %s   # find who made it, then remove or rename it", w, w);
                        fnd_evidence(f, "%s (lstat%s)", s->path, k == C_FOREIGN ? ", header bytes" : "");
                }
                sb_free(&why);
        }
}

/* "rm /dev/shm/evo_x /dev/shm/evo_x.lock" — exactly the files that exist. */
static char *rm_command(const struct scan *sc, const struct seg *s)
{
        struct strbuf b = {0};
        _cleanup_free_ char *w = shell_quote(s->path);
        sb_printf(&b, "rm %s", w);
        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
        if (name_listed(sc->locks, sc->nlocks, lock)) {
                _cleanup_free_ char *lp = xasprintf("%s/%s", SHM_DIR, lock), *lw = shell_quote(lp);
                sb_printf(&b, " %s", lw);
        }
        /* The .meta belongs to this generation only if it names this writer. */
        if (s->meta_fname && (!s->meta_ok || !s->meta.has_pid || s->meta.writer_pid == s->wpid)) {
                _cleanup_free_ char *mp = xasprintf("%s/%s", SHM_DIR, s->meta_fname), *mw = shell_quote(mp);
                sb_printf(&b, " %s", mw);
        }
        return sb_steal(&b);
}

static void report_corrupt(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, checked = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                struct strbuf why = {0};
                enum seg_class k = classify(sc, s, &why);
                checked += is_evo(k);
                if (k != C_CORRUPT) {
                        sb_free(&why);
                        continue;
                }
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *rm = rm_command(sc, s);
                struct finding *f = fnd_add(fs, SEV_CRIT, "evo.corrupt", "%s is corrupt: %s", name, why.s);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "EVO magic, the whole header, header + payload within the file");
                char sz[32];
                fnd_actual(f, "%s, %s header bytes read (%s)", fmt_bytes((uint64_t)s->st.st_size, sz),
                           s->hdr_len ? "" : "no", evo_layout_name(s->h.layout));
                if (s->writer == W_ALIVE && s->wpid > 0)
                        fnd_remedy(f, "kill %d   # stop its writer, then: %s, and start the writer again", s->wpid, rm);
                else
                        fnd_remedy(f, "%s   # then start the writer again; readers must re-attach", rm);
                fnd_evidence(f, "%s (header bytes, lstat)", s->path);
                sb_free(&why);
        }
        struct finding *f;
        if (!n && (f = ok_or_skipped(c, sc, fs, "evo.corrupt", checked, "%zu EVO %s with a sound header", checked,
                                     checked == 1 ? "segment" : "segments"))) {
                fnd_expected(f, "EVO magic, the whole header, header + payload within the file");
                fnd_evidence(f, "%s/evo_* (headers)", SHM_DIR);
        }
}

static void report_unknown_names(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (classify(sc, s, NULL) != C_VALID)
                        continue;
                valid++;
                if (evo_name_known(s->base, s->h.layout))
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *base = str_printable(s->base);
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.unknown_name", "%s: '%s' is not a segment name evo-core uses", name, base);
                fnd_subject(f, "%s", name);
                fnd_expected(f, s->h.layout == EVO_LAYOUT_P2P ? "one of the 15 P2P names (hal_cu, cu_hal, cu_mqt, ...)"
                                                              : "one of the 15 legacy names (evo_hal_sensors, ...) or a P2P name");
                fnd_actual(f, "%s (%s)", base, evo_layout_name(s->h.layout));
                fnd_remedy(f, "ls %s | grep evo_   # compare with the name the readers open (spelling, case)", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        struct finding *f;
        if (!n && (f = ok_or_skipped(c, sc, fs, "evo.unknown_name", valid, "%zu segment %s evo-core's", valid,
                                     valid == 1 ? "name is" : "names are")))
                fnd_evidence(f, "%s", SHM_DIR);
}

static void report_orphans(struct scan *sc, struct findings *fs)
{
        struct finding *f;
        size_t n = 0, checked = 0, unknown = 0;
        if (sc->locks_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "evo.orphaned", "cannot read /proc/locks: %s — P2P writers' liveness unknown",
                            strerror(-sc->locks_err));
                fnd_evidence(f, "/proc/locks");
        }
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = classify(sc, s, NULL);
                /* Unreadable without root, but a .lock or a pid in the name still tells. */
                if ((!is_evo(k) && k != C_UNOPENED) || s->wlayout == EVO_LAYOUT_NONE)
                        continue;
                checked++;
                _cleanup_free_ char *name = str_printable(s->fname);
                if (s->writer == W_UNKNOWN) {
                        unknown++;
                        if (s->wlayout != EVO_LAYOUT_P2P && s->wpid && !sc->procs_ok) {
                                f = fnd_add(fs, SEV_INFO, "evo.orphaned", "%s: whether writer pid %d lives is not in the evidence", name, s->wpid);
                                fnd_subject(f, "%s", name);
                                fnd_evidence(f, "%s (no /proc/PID entries under the root)", s->path);
                        }
                        continue;
                }
                if (s->writer != W_DEAD)
                        continue;
                n++;
                _cleanup_free_ char *rm = rm_command(sc, s);
                struct strbuf b = {0};
                if (s->wlayout == EVO_LAYOUT_P2P)
                        sb_printf(&b, "%s is orphaned: %s", name, s->lock_exists ? "nobody holds the flock on its .lock (its writer is gone)"
                                                                                : "its .lock is missing (its writer is gone)");
                else
                        sb_printf(&b, "%s is orphaned: its writer pid %d is gone", name, s->wpid);
                _cleanup_free_ char *summary = sb_steal(&b);
                f = fnd_add(fs, SEV_CRIT, "evo.orphaned", "%s", summary);
                fnd_subject(f, "%s", name);
                fnd_expected(f, s->wlayout == EVO_LAYOUT_P2P ? "a FLOCK line in /proc/locks for its .lock" : "the writer's /proc/PID");
                struct strbuf a = {0};
                if (s->wlayout == EVO_LAYOUT_P2P && s->lock_exists)
                        sb_printf(&a, "%s.lock inode %" PRIu64 " not locked; ", name, (uint64_t)s->lock_st.st_ino);
                else if (s->wlayout != EVO_LAYOUT_P2P)
                        sb_printf(&a, "no /proc/%d; ", s->wpid);
                if (s->dec == 0)
                        sb_printf(&a, "last %s %" PRIu64 "; ", s->h.layout == EVO_LAYOUT_LEGACY ? "version" : "heartbeat",
                                  s->h.layout == EVO_LAYOUT_LEGACY ? s->h.legacy.version : s->h.p2p.heartbeat);
                put_readers(sc, s, &a);
                _cleanup_free_ char *actual = sb_steal(&a);
                fnd_actual(f, "%s", actual);
                size_t readers = 0;
                for (size_t j = 0; j < s->nm; j++)
                        readers += s->m[j].pid != s->wpid;
                if (readers)
                        fnd_remedy(f, "%s   # evodiag never deletes; then restart the writer, and the readers still mapping it", rm);
                else
                        fnd_remedy(f, "%s   # evodiag never deletes; then restart the writer", rm);
                fnd_evidence(f, s->wlayout == EVO_LAYOUT_P2P ? "/proc/locks, %s.lock (lstat)" : "%s header writer_pid, /proc", s->path);
        }
        if (!n && sc->locks_err >= 0) {
                f = fnd_add(fs, SEV_OK, "evo.orphaned", "%zu of %zu EVO %s have a live writer%s", checked - unknown, checked,
                            checked == 1 ? "segment" : "segments", unknown ? " (the others: unknown)" : "");
                fnd_expected(f, "P2P: its .lock flocked; legacy: writer_pid alive");
                fnd_evidence(f, "/proc/locks, /proc");
        }
}

static void report_leftovers(struct scan *sc, struct findings *fs)
{
        size_t n = 0;
        for (size_t i = 0; i < sc->nlocks; i++) {
                const char *lock = sc->locks[i];
                size_t dl = strlen(lock) - 5;
                if (seg_find(sc, lock, dl))
                        continue;
                n++;
                _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, lock), *name = str_printable(lock), *w = shell_quote(path);
                struct stat st;
                bool have = rootfs_stat(path, &st, false) == 0;
                const struct evo_lock *held = NULL;
                for (size_t k = 0; have && sc->locks_err >= 0 && k < sc->nlk; k++)
                        if (sc->lk[k].ino == (uint64_t)st.st_ino &&
                            (!rootfs_is_live() || (sc->lk[k].maj == major(st.st_dev) && sc->lk[k].min == minor(st.st_dev))))
                                held = &sc->lk[k];
                struct finding *f;
                if (held) {
                        struct strbuf b = {0};
                        put_pid(sc, &b, held->pid);
                        _cleanup_free_ char *who = sb_steal(&b);
                        f = fnd_add(fs, SEV_WARN, "evo.leftovers", "%s is held by %s but its segment %.*s is gone: readers get SegmentNotFound",
                                    name, who, (int)dl, name);
                        fnd_remedy(f, "kill %d   # restart that writer so it creates the segment again", held->pid);
                } else {
                        f = fnd_add(fs, SEV_INFO, "evo.leftovers", "%s is left over: no segment %.*s, nobody holds it", name, (int)dl, name);
                        fnd_remedy(f, "rm %s", w);
                }
                fnd_subject(f, "%s", name);
                fnd_evidence(f, "%s, /proc/locks", SHM_DIR);
        }
        for (size_t i = 0; i < sc->nmetas; i++) {
                const char *meta = sc->metas[i];
                size_t bl = strlen(meta) - 5;
                bool used = false;
                for (size_t k = 0; k < sc->n && !used; k++)
                        used = sc->v[k].meta_fname && streq(sc->v[k].meta_fname, meta);
                if (used)
                        continue;
                n++;
                _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, meta), *name = str_printable(meta), *w = shell_quote(path);
                struct finding *f = fnd_add(fs, SEV_WARN, "evo.leftovers",
                                            "%s is left over: no %.*s_<pid> segment; the next legacy writer cannot create it and fails to start",
                                            name, (int)bl, name);
                fnd_subject(f, "%s", name);
                fnd_remedy(f, "rm %s", w);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "evo.leftovers", "no stale .lock or .meta files (%zu .lock, %zu .meta)", sc->nlocks, sc->nmetas);
                fnd_evidence(f, "%s", SHM_DIR);
        }
}

static void report_never(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (classify(sc, s, NULL) != C_VALID)
                        continue;
                valid++;
                bool legacy = s->h.layout == EVO_LAYOUT_LEGACY;
                if ((legacy ? s->h.legacy.version : s->h.p2p.heartbeat) != 0)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname);
                struct strbuf b = {0};
                put_writer(sc, s, &b);
                _cleanup_free_ char *w = sb_steal(&b);
                struct finding *f = fnd_add(fs, SEV_WARN, "evo.never_committed", "%s: %s 0, never %s (%s)", name,
                                            legacy ? "version" : "heartbeat", legacy ? "written" : "committed", w);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "%s > 0 (the watchdog waits for it)", legacy ? "version" : "heartbeat");
                fnd_actual(f, "%s 0", legacy ? "version" : "heartbeat");
                if (s->writer == W_ALIVE && s->wpid > 0)
                        fnd_remedy(f, "cat /proc/%d/stack; journalctl _PID=%d   # the writer is stuck before its first cycle", s->wpid, s->wpid);
                else
                        fnd_remedy(f, "journalctl -e   # the writer's log: why it never reached its first cycle");
                fnd_evidence(f, "%s (header)", s->path);
        }
        struct finding *f;
        if (!n && (f = ok_or_skipped(c, sc, fs, "evo.never_committed", valid, "%zu %s written at least once", valid,
                                     valid == 1 ? "segment" : "segments")))
                fnd_evidence(f, "%s/evo_* (headers)", SHM_DIR);
}

static double rate_hz(const struct seg *s)
{
        uint64_t a = evo_progress(&s->h), b = evo_progress(&s->h2);
        double dt = (double)(s->t2_ns - s->t1_ns) / 1e9;
        return b > a && dt > 0 ? (double)(b - a) / dt : 0;
}

static bool live_skipped(struct scan *sc, struct findings *fs, const char *id, const char *what)
{
        if (sc->second_tried && !sc->no_second)
                return false;
        if (!sc->no_second)
                return false; /* nothing to sample */
        struct finding *f = fnd_add(fs, rootfs_is_live() ? SEV_UNKNOWN : SEV_SKIPPED, id, "%s not judged: %s", what, sc->no_second);
        fnd_evidence(f, "%s/evo_* (two samples)", SHM_DIR);
        return true;
}

static void report_stalled(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (live_skipped(sc, fs, "evo.stalled", "heartbeat progress"))
                return;
        size_t sampled = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (classify(sc, s, NULL) != C_VALID || !s->sampled || s->writer != W_ALIVE)
                        continue;
                uint64_t a = evo_progress(&s->h), b = evo_progress(&s->h2);
                if (!a && !b)
                        continue; /* never committed: evo.never_committed */
                sampled++;
                _cleanup_free_ char *name = str_printable(s->fname);
                uint64_t ms = (s->t2_ns - s->t1_ns) / 1000000u;
                bool legacy = s->h.layout == EVO_LAYOUT_LEGACY;
                struct finding *f;
                /* One finding per segment, also when it is fine: the rate is the measurement. */
                if (b == a) {
                        struct strbuf w = {0};
                        put_pid(sc, &w, s->wpid);
                        _cleanup_free_ char *who = sb_steal(&w);
                        if (legacy) {
                                f = fnd_add(fs, SEV_INFO, "evo.stalled", "%s: no write in %" PRIu64 " ms by writer %s (legacy segments are written on change)",
                                            name, ms, who);
                        } else {
                                f = fnd_add(fs, SEV_CRIT, "evo.stalled", "%s: heartbeat stuck at %" PRIu64 " for %" PRIu64 " ms while writer %s is alive: stalled writer",
                                            name, a, ms, who);
                                fnd_remedy(f, "cat /proc/%d/stack; top -H -p %d   # what the writer's RT loop waits for; then restart it", s->wpid, s->wpid);
                        }
                } else {
                        f = fnd_add(fs, SEV_OK, "evo.stalled", "%s: %s advancing at %.1f Hz", name, legacy ? "version" : "heartbeat", rate_hz(s));
                }
                fnd_subject(f, "%s", name);
                fnd_expected(f, "%s advancing between two samples", legacy ? "version" : "heartbeat");
                fnd_actual(f, "%" PRIu64 " -> %" PRIu64 " in %" PRIu64 " ms", a, b, ms);
                fnd_evidence(f, "%s (header, twice)", s->path);
        }
        struct finding *f;
        if (!sampled && (f = ok_or_skipped(c, sc, fs, "evo.stalled", 0, "no committed segment with a live writer to sample")))
                fnd_evidence(f, "%s/evo_* (header, twice)", SHM_DIR);
}

static void report_write_seq(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (live_skipped(sc, fs, "evo.write_seq", "half-done writes"))
                return;
        size_t n = 0, sampled = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (!is_evo(classify(sc, s, NULL)) || s->dec != 0 || !s->sampled)
                        continue;
                sampled++;
                if (!evo_seq_odd(&s->h) || !evo_seq_odd(&s->h2))
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname);
                uint64_t ms = (s->t2_ns - s->t1_ns) / 1000000u;
                const char *field = s->h.layout == EVO_LAYOUT_P2P ? "write_seq" : "seqlock version";
                uint64_t v = s->h.layout == EVO_LAYOUT_P2P ? s->h2.p2p.write_seq : s->h2.legacy.version;
                struct finding *f;
                if (s->writer == W_ALIVE) {
                        struct strbuf w = {0};
                        put_pid(sc, &w, s->wpid);
                        _cleanup_free_ char *who = sb_steal(&w);
                        f = fnd_add(fs, SEV_CRIT, "evo.write_seq", "%s: %s %" PRIu64 " odd in both samples %" PRIu64 " ms apart: writer %s is stuck mid-write",
                                    name, field, v, ms, who);
                        fnd_remedy(f, "cat /proc/%d/stack   # then restart the writer (kill %d)", s->wpid, s->wpid);
                } else {
                        _cleanup_free_ char *rm = rm_command(sc, s);
                        f = fnd_add(fs, SEV_CRIT, "evo.write_seq", "%s: %s %" PRIu64 " odd in both samples %" PRIu64 " ms apart: the writer died mid-write, the payload is torn",
                                    name, field, v, ms);
                        fnd_remedy(f, "%s   # then restart the writer", rm);
                }
                fnd_subject(f, "%s", name);
                fnd_expected(f, "an even %s (odd only while a write is in progress)", field);
                fnd_actual(f, "%s %" PRIu64 " in both samples (header read %s)", field, v, evo_read_name(s->rs2));
                fnd_evidence(f, "%s (header, twice)", s->path);
        }
        struct finding *f;
        if (!n && (f = ok_or_skipped(c, sc, fs, "evo.write_seq", sampled, "no write left half-done (%zu %s sampled twice)", sampled,
                                     sampled == 1 ? "segment" : "segments"))) {
                fnd_expected(f, "write_seq / version even in at least one of two samples");
                fnd_evidence(f, "%s/evo_* (header, twice)", SHM_DIR);
        }
}

static void report_permissions(struct scan *sc, struct findings *fs)
{
        size_t n = 0, checked = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = classify(sc, s, NULL);
                if (!is_evo(k) && k != C_UNOPENED)
                        continue;
                checked++;
                enum evo_layout l = s->dec == 0 || s->dec == -ENODATA ? s->h.layout : s->wlayout;
                const char *dp = evo_mode_problem(s->st.st_mode, l);
                const char *lp = s->lock_exists ? evo_lock_mode_problem(s->lock_st.st_mode) : NULL;
                if (!dp && !lp)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *w = shell_quote(s->path), *own = owner(sc, s->st.st_uid, s->st.st_gid);
                struct finding *f;
                if (dp && lp)
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s (mode %04o) is %s; and %s (mode %04o)", name,
                                    (unsigned)(s->st.st_mode & 07777), dp, lp, (unsigned)(s->lock_st.st_mode & 07777));
                else if (dp)
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s (mode %04o) is %s", name, (unsigned)(s->st.st_mode & 07777), dp);
                else
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s: %s (mode %04o)", name, lp, (unsigned)(s->lock_st.st_mode & 07777));
                fnd_subject(f, "%s", name);
                fnd_expected(f, "0600 as evo-core creates it (shared reading: 0640 with group evo; legacy 0660); .lock 0600");
                fnd_actual(f, "mode %04o, owner %s%s", (unsigned)(s->st.st_mode & 07777), own, s->lock_exists ? "" : ", no .lock");
                struct strbuf r = {0};
                if (dp)
                        sb_printf(&r, "chmod %s %s", l == EVO_LAYOUT_P2P ? "640" : "660", w);
                if (lp) {
                        _cleanup_free_ char *lpth = xasprintf("%s.lock", s->path), *lw = shell_quote(lpth);
                        sb_printf(&r, "%schmod 600 %s", r.len ? " && " : "", lw);
                }
                sb_puts(&r, "   # and make the writer create it so: a new writer recreates it with its own mode");
                _cleanup_free_ char *rem = sb_steal(&r);
                fnd_remedy(f, "%s", rem);
                fnd_evidence(f, "%s (lstat)%s", s->path, s->lock_exists ? ", its .lock (lstat)" : "");
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "evo.permissions", "%zu %s: no data writable beyond owner%s, no .lock open to every user",
                                            checked, checked == 1 ? "segment" : "segments", " (and group for legacy)");
                fnd_expected(f, "no o+w; P2P no g+w; .lock not o+r/o+w");
                fnd_evidence(f, "%s/evo_* (lstat)", SHM_DIR);
        }
}

static bool maps_complete(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, const char *what)
{
        if (!sc->maps_scanned) {
                struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "%s: no process table, nobody's maps read", what);
                fnd_evidence(f, "%s/proc", rootfs_get());
                return false;
        }
        if (sc->mw.unreadable && !c->is_root) {
                struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "needs root: %s needs every process's maps (%zu not readable)", what, sc->mw.unreadable);
                fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                fnd_evidence(f, "/proc/PID/maps");
                return false;
        }
        return true;
}

static void report_crashed_readers(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t legacy = 0, n = 0;
        for (size_t i = 0; i < sc->n; i++)
                legacy += classify(sc, &sc->v[i], NULL) == C_VALID && sc->v[i].h.layout != EVO_LAYOUT_P2P;
        if (legacy && !maps_complete(c, sc, fs, "evo.crashed_readers", "comparing reader_count with live readers"))
                return;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (classify(sc, s, NULL) != C_VALID || s->h.layout == EVO_LAYOUT_P2P)
                        continue;
                unsigned live = 0;
                for (size_t k = 0; k < s->nm; k++)
                        if (s->m[k].pid != s->wpid)
                                live += s->m[k].maps ? s->m[k].maps : 1;
                if (s->h.legacy.reader_count <= live)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname);
                struct strbuf b = {0};
                put_readers(sc, s, &b);
                _cleanup_free_ char *rd = sb_steal(&b);
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.crashed_readers",
                                            "%s: reader_count %" PRIu32 " but %u live %s: %" PRIu32 " crashed without detaching",
                                            name, s->h.legacy.reader_count, live, live == 1 ? "reader" : "readers",
                                            s->h.legacy.reader_count - live);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "reader_count <= processes mapping it (writer excluded)");
                fnd_actual(f, "reader_count %" PRIu32 "; %s", s->h.legacy.reader_count, rd);
                fnd_remedy(f, "restart the writer (pid %d) when convenient: a new segment starts at 0 readers", s->wpid);
                fnd_evidence(f, "%s (header), /proc/*/maps", s->path);
        }
        if (!n) {
                struct finding *f;
                if (legacy)
                        f = fnd_add(fs, SEV_OK, "evo.crashed_readers", "reader_count matches the live readers of %zu legacy %s", legacy,
                                    legacy == 1 ? "segment" : "segments");
                else
                        f = fnd_add(fs, SEV_OK, "evo.crashed_readers", "no legacy segments (no reader_count to compare)");
                fnd_evidence(f, "%s/evo_* (headers), /proc/*/maps", SHM_DIR);
        }
}

/* ---- reader access (the guide's PermissionDenied) ---- */

struct pidset {
        int *v;
        size_t n, cap;
};

static void pidset_add(struct pidset *p, int pid)
{
        if (pid <= 0)
                return;
        for (size_t i = 0; i < p->n; i++)
                if (p->v[i] == pid)
                        return;
        if (p->n == p->cap)
                p->v = xrealloc(p->v, (p->cap = p->cap ? p->cap * 2 : 8) * sizeof(int));
        p->v[p->n++] = pid;
}

static bool maps_pid(const struct seg *s, int pid)
{
        for (size_t k = 0; k < s->nm; k++)
                if (s->m[k].pid == pid)
                        return true;
        return false;
}

/* Who would read s (see the explain text of evo.reader_access). */
static void would_be_readers(struct scan *sc, struct seg *s, struct pidset *out)
{
        char src[8], dst[8], s2[8], d2[8];
        bool modules = s->h.layout != EVO_LAYOUT_LEGACY && evo_name_modules(s->base, src, dst);
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *t = &sc->v[i];
                if (t == s || classify(sc, t, NULL) != C_VALID)
                        continue;
                if (modules) {
                        if (!evo_name_modules(t->base, s2, d2))
                                continue;
                        if (streq(s2, dst) && t->writer == W_ALIVE)
                                pidset_add(out, t->wpid); /* writes as module <dst> */
                        if (streq(d2, dst))
                                for (size_t k = 0; k < t->nm; k++)
                                        if (t->m[k].pid != t->wpid)
                                                pidset_add(out, t->m[k].pid); /* reads as module <dst> */
                } else {
                        for (size_t k = 0; k < t->nm; k++)
                                if (t->m[k].pid != t->wpid)
                                        pidset_add(out, t->m[k].pid); /* an EVO reader */
                }
        }
}

static void report_reader_access(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (!maps_complete(c, sc, fs, "evo.reader_access", "finding readers that cannot open a segment"))
                return;
        size_t n = 0, judged = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                /* A dead writer's segment is replaced when it restarts, with its own mode. */
                if (classify(sc, s, NULL) != C_VALID || s->writer == W_DEAD)
                        continue;
                struct pidset cand = {0};
                would_be_readers(sc, s, &cand);
                bool rw = s->h.layout != EVO_LAYOUT_P2P;
                struct strbuf b = {0};
                size_t denied = 0;
                int first = 0;
                for (size_t k = 0; k < cand.n; k++) {
                        int pid = cand.v[k];
                        if (pid == s->wpid || maps_pid(s, pid))
                                continue;
                        char path[64];
                        snprintf(path, sizeof(path), "/proc/%d/status", pid);
                        _cleanup_free_ char *status = NULL;
                        struct evo_creds cr;
                        if (rootfs_read(path, 64 << 10, &status, NULL) < 0 || evo_status_creds(status, &cr) < 0)
                                continue;
                        judged++;
                        if (evo_can_open(&cr, s->st.st_uid, s->st.st_gid, s->st.st_mode, rw))
                                continue;
                        if (!denied++)
                                first = pid;
                        if (denied <= READERS_SHOWN) {
                                if (denied > 1)
                                        sb_puts(&b, ", ");
                                put_pid(sc, &b, pid);
                                _cleanup_free_ char *who = owner(sc, cr.uid, cr.gid);
                                sb_printf(&b, " as %s", who);
                        }
                }
                free(cand.v);
                if (!denied) {
                        sb_free(&b);
                        continue;
                }
                n++;
                if (denied > READERS_SHOWN)
                        sb_printf(&b, " and %zu more", denied - READERS_SHOWN);
                _cleanup_free_ char *who = sb_steal(&b), *name = str_printable(s->fname), *own = owner(sc, s->st.st_uid, s->st.st_gid);
                _cleanup_free_ char *w = shell_quote(s->path);
                struct finding *f = fnd_add(fs, SEV_WARN, "evo.reader_access", "%s (mode %04o, owner %s) cannot be opened %s by %s: "
                                            "PermissionDenied when %s attach%s",
                                            name, (unsigned)(s->st.st_mode & 07777), own, rw ? "read-write" : "for reading", who,
                                            denied == 1 ? "it" : "they", denied == 1 ? "es" : "");
                fnd_subject(f, "%s", name);
                fnd_expected(f, "every EVO reader of it passes its mode bits (%s)", rw ? "read-write: legacy readers bump reader_count" : "read");
                fnd_actual(f, "mode %04o owner %s; first: pid %d", (unsigned)(s->st.st_mode & 07777), own, first);
                fnd_remedy(f, "chown :evo %s && chmod %s %s && usermod -a -G evo <reader's user>   # then restart the reader; "
                              "make the writer create it so", w, rw ? "660" : "640", w);
                fnd_evidence(f, "%s (lstat), /proc/*/maps, /proc/PID/status", s->path);
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "evo.reader_access", "every EVO reader can open the segments it would read (%zu %s checked)",
                                            judged, judged == 1 ? "reader/segment pair" : "reader/segment pairs");
                fnd_evidence(f, "/proc/*/maps, /proc/PID/status, %s/evo_* (lstat)", SHM_DIR);
        }
}

static void report_mappers(struct ctx *c, struct scan *sc, struct findings *fs, size_t max_kb)
{
        struct finding *f;
        if (!sc->maps_scanned) {
                f = fnd_add(fs, SEV_SKIPPED, "evo.mappers", "no process table: who maps the segments is unknown");
                fnd_evidence(f, "%s/proc", rootfs_get());
                return;
        }
        if (sc->mw.unreadable) {
                const struct proc *p = proc_find(sc, sc->mw.first_unreadable);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                if (!c->is_root) {
                        f = fnd_add(fs, SEV_SKIPPED, "evo.mappers", "needs root: maps of %zu processes of other users not readable (first: pid %d %s); "
                                    "readers shown come from the %zu readable ones", sc->mw.unreadable, sc->mw.first_unreadable, comm, sc->mw.scanned);
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                } else {
                        f = fnd_add(fs, SEV_INFO, "evo.mappers", "maps of %zu %s not readable even as root (first: pid %d %s: %s); "
                                    "a reader among them is not seen", sc->mw.unreadable, sc->mw.unreadable == 1 ? "process" : "processes",
                                    sc->mw.first_unreadable, comm, strerror(-sc->mw.first_unreadable_err));
                }
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (sc->mw.truncated) {
                f = fnd_add(fs, SEV_INFO, "evo.mappers", "maps of %zu processes longer than %zu KiB, read only in part (first: pid %d)",
                            sc->mw.truncated, max_kb, sc->mw.first_truncated);
                fnd_remedy(f, "raise [evo] maps_max_kb");
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (!sc->mw.unreadable && !sc->mw.truncated) {
                struct pidset all = {0};
                for (size_t i = 0; i < sc->n; i++)
                        for (size_t k = 0; k < sc->v[i].nm; k++)
                                pidset_add(&all, sc->v[i].m[k].pid);
                f = fnd_add(fs, SEV_OK, "evo.mappers", "maps of %zu processes scanned: %zu map EVO segments", sc->mw.scanned, all.n);
                fnd_evidence(f, "/proc/PID/maps");
                free(all.v);
        }
}

static bool evo_detect(struct ctx *c)
{
        (void)c;
        struct rootfs_dir *d = rootfs_opendir(SHM_DIR);
        if (!d)
                return false;
        struct dirent *de;
        bool any = false;
        while (!any && (de = rootfs_readdir(d)))
                any = evo_name_kind(de->d_name) != EVO_NAME_OTHER;
        rootfs_closedir(d);
        return any;
}

static void evo_check(struct ctx *c, struct findings *fs)
{
        struct scan sc = {0};
        scan(c, &sc, true);
        report_segments(c, &sc, fs);
        if (sc.dir_err >= 0) {
                report_not_segment(&sc, fs);
                report_corrupt(c, &sc, fs);
                report_unknown_names(c, &sc, fs);
                report_orphans(&sc, fs);
                report_leftovers(&sc, fs);
                report_never(c, &sc, fs);
                report_stalled(c, &sc, fs);
                report_write_seq(c, &sc, fs);
                report_permissions(&sc, fs);
                report_crashed_readers(c, &sc, fs);
                report_reader_access(c, &sc, fs);
                report_mappers(c, &sc, fs, (size_t)conf_uint(c, "maps_max_kb"));
        }
        scan_free(&sc);
}

/* ---------------- bundle ---------------- */

static char *artifact_name(const char *fname, const char *suffix)
{
        char *n = xasprintf("%s%s", fname, suffix);
        for (char *p = n; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
                        *p = '_';
        return n;
}

static json_object *jstr(const char *s) { return json_object_new_string(s); }
static json_object *ju64(uint64_t v) { return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v); }

static json_object *p2p_json(const struct evo_p2p *p)
{
        json_object *o = json_object_new_object();
        char hex[16], m[16];
        snprintf(hex, sizeof(hex), "0x%08" PRIx32, p->version_hash);
        json_object_object_add(o, "magic", jstr("EVO_P2P\\0"));
        json_object_object_add(o, "version_hash", jstr(hex));
        json_object_object_add(o, "version_hash_align", ju64(evo_version_hash_align(p->version_hash, p->payload_size)));
        json_object_object_add(o, "heartbeat", ju64(p->heartbeat));
        json_object_object_add(o, "source_module", ju64(p->source));
        json_object_object_add(o, "source", jstr(module_str(p->source, m)));
        json_object_object_add(o, "dest_module", ju64(p->dest));
        json_object_object_add(o, "dest", jstr(module_str(p->dest, m)));
        json_object_object_add(o, "payload_size", ju64(p->payload_size));
        json_object_object_add(o, "write_seq", ju64(p->write_seq));
        json_object_object_add(o, "write_in_progress", json_object_new_boolean(p->write_seq & 1));
        json_object_object_add(o, "padding_zero", json_object_new_boolean(p->padding_zero));
        return o;
}

static json_object *legacy_json(const struct evo_legacy *l)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "magic", jstr("EVO_SHM\\0"));
        json_object_object_add(o, "version", ju64(l->version));
        json_object_object_add(o, "writer_pid", ju64(l->writer_pid));
        json_object_object_add(o, "reader_count", ju64(l->reader_count));
        json_object_object_add(o, "size", ju64(l->size));
        json_object_object_add(o, "created_ts_ns", ju64(l->created_ts));
        json_object_object_add(o, "last_write_ts_ns", ju64(l->last_write_ts));
        json_object_object_add(o, "checksum", ju64(l->checksum));
        return o;
}

static json_object *header_json(const struct scan *sc, const struct seg *s)
{
        json_object *o = json_object_new_object();
        struct strbuf why = {0};
        enum seg_class k = classify(sc, s, &why);
        static const char *const cls[] = {"gone", "not_regular", "unopened", "not_evo", "corrupt", "valid"};
        json_object_object_add(o, "file", jstr(s->path));
        json_object_object_add(o, "class", jstr(cls[k]));
        if (why.len)
                json_object_object_add(o, "problem", jstr(why.s));
        sb_free(&why);
        if (s->stat_err == 0) {
                char mode[8];
                snprintf(mode, sizeof(mode), "%04o", (unsigned)(s->st.st_mode & 07777));
                json_object_object_add(o, "type", jstr(type_name(s->st.st_mode)));
                json_object_object_add(o, "mode", jstr(mode));
                json_object_object_add(o, "uid", ju64(s->st.st_uid));
                json_object_object_add(o, "gid", ju64(s->st.st_gid));
                json_object_object_add(o, "size", ju64((uint64_t)s->st.st_size));
                json_object_object_add(o, "inode", ju64((uint64_t)s->st.st_ino));
        }
        if (s->link)
                json_object_object_add(o, "symlink_to", jstr(s->link));
        if (s->open_err)
                json_object_object_add(o, "open_error", jstr(strerror(-s->open_err)));
        if (s->opened) {
                json_object_object_add(o, "layout", jstr(evo_layout_name(s->h.layout)));
                json_object_object_add(o, "header_bytes_read", ju64(s->hdr_len));
                json_object_object_add(o, "read", jstr(evo_read_name(s->rs)));
                json_object_object_add(o, "read_attempts", ju64(s->tries));
                if (s->dec == 0 || s->dec == -ENODATA) {
                        json_object_object_add(o, "min_size", ju64(evo_min_size(&s->h)));
                        if (s->h.layout != EVO_LAYOUT_P2P)
                                json_object_object_add(o, "legacy", legacy_json(&s->h.legacy));
                        if (s->h.layout != EVO_LAYOUT_LEGACY)
                                json_object_object_add(o, "p2p", p2p_json(&s->h.p2p));
                }
        }
        json_object *w = json_object_new_object();
        static const char *const ws[] = {"unknown", "alive", "gone"};
        json_object_object_add(w, "state", jstr(ws[s->writer]));
        if (s->wpid) {
                json_object_object_add(w, "pid", ju64((uint64_t)s->wpid));
                const struct proc *p = proc_find(sc, s->wpid);
                if (p)
                        json_object_object_add(w, "comm", jstr(p->comm));
        }
        if (s->wlayout == EVO_LAYOUT_P2P) {
                _cleanup_free_ char *lock = xasprintf("%s.lock", s->path);
                json_object_object_add(w, "lock", jstr(lock));
                json_object_object_add(w, "lock_exists", json_object_new_boolean(s->lock_exists));
                if (s->lock_exists)
                        json_object_object_add(w, "lock_inode", ju64((uint64_t)s->lock_st.st_ino));
                json_object_object_add(w, "lock_held", json_object_new_boolean(s->lock_held));
        } else if (s->wlayout != EVO_LAYOUT_NONE) {
                json_object_object_add(w, "from", jstr(s->dec == 0 && s->h.legacy.writer_pid ? "writer_pid" : "file name"));
                if (s->name_pid)
                        json_object_object_add(w, "file_name_pid", ju64((uint64_t)s->name_pid));
        }
        json_object_object_add(o, "writer", w);
        if (s->meta_fname) {
                json_object *m = json_object_new_object();
                json_object_object_add(m, "file", jstr(s->meta_fname));
                json_object_object_add(m, "parsed", json_object_new_boolean(s->meta_ok));
                if (s->meta_ok) {
                        json_object_object_add(m, "name", jstr(s->meta.name));
                        json_object_object_add(m, "size", ju64(s->meta.size));
                        json_object_object_add(m, "writer_pid", ju64((uint64_t)(s->meta.has_pid ? s->meta.writer_pid : 0)));
                        json_object_object_add(m, "reader_count", ju64(s->meta.reader_count));
                        if (s->meta.has_created)
                                json_object_object_add(m, "created_secs", ju64(s->meta.created_secs));
                }
                json_object_object_add(o, "meta", m);
        }
        return o;
}

static json_object *mappers_json(const struct scan *sc, const struct seg *s)
{
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        for (size_t i = 0; i < s->nm; i++) {
                json_object *m = json_object_new_object();
                const struct proc *p = proc_find(sc, s->m[i].pid);
                json_object_object_add(m, "pid", ju64((uint64_t)s->m[i].pid));
                if (p)
                        json_object_object_add(m, "comm", jstr(p->comm));
                json_object_object_add(m, "writable", json_object_new_boolean(s->m[i].writable));
                json_object_object_add(m, "mappings", ju64(s->m[i].maps));
                json_object_object_add(m, "role", jstr(s->m[i].pid == s->wpid ? "writer" : "reader"));
                json_object_array_add(a, m);
        }
        json_object_object_add(o, "segment", jstr(s->path));
        json_object_object_add(o, "mappers", a);
        json_object_object_add(o, "maps_scanned", ju64(sc->mw.scanned));
        json_object_object_add(o, "maps_unreadable", ju64(sc->mw.unreadable));
        return o;
}

static void evo_collect(struct ctx *c, struct bundle_sink *sink)
{
        struct scan sc = {0};
        scan(c, &sc, false);
        for (size_t i = 0; i < sc.n && !sink->broken; i++) {
                const struct seg *s = &sc.v[i];
                _cleanup_free_ char *hj = artifact_name(s->fname, ".header.json"), *hx = artifact_name(s->fname, ".hexdump.txt");
                _cleanup_free_ char *lk = artifact_name(s->fname, ".locks.txt"), *mp = artifact_name(s->fname, ".mappers.json");
                json_object *o = header_json(&sc, s);
                sink_json(sink, hj, "derived", s->path, o);
                json_object_put(o);
                if (s->opened) {
                        struct strbuf b = {0};
                        evo_hexdump(s->hdr, s->hdr_len, &b);
                        sink_text(sink, hx, "derived", s->path, b.s ? b.s : "", b.len);
                        sb_free(&b);
                } else {
                        sink_missing(sink, hx, "derived", s->path, "skipped",
                                     s->stat_err < 0 ? "vanished" : !S_ISREG(s->st.st_mode) ? "not a regular file: not opened"
                                                                                             : strerror(-s->open_err));
                }
                if (s->lock_line)
                        sink_text(sink, lk, "derived", "/proc/locks", s->lock_line, strlen(s->lock_line));
                else if (s->wlayout == EVO_LAYOUT_P2P)
                        sink_missing(sink, lk, "derived", "/proc/locks", "skipped",
                                     s->lock_exists ? "no FLOCK line for its .lock: nobody holds it" : "no .lock file");
                o = mappers_json(&sc, s);
                sink_json(sink, mp, "derived", "/proc/*/maps", o);
                json_object_put(o);
                if (s->meta_fname) {
                        /* Only the bytes read_metas() read through open_entry() (O_NOFOLLOW, the
                         * inode lstat saw), which are the snapshot: whoever made the .meta can
                         * swap its name for a symlink to /etc/shadow between an lstat and a read
                         * by path, and /dev/shm is anyone's. */
                        _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, s->meta_fname);
                        _cleanup_free_ char *dest = xasprintf("host%s", path);
                        const char *d;
                        size_t dn;
                        if (!rootfs_snapshot_get(path, &d, &dn) && s->meta_raw)
                                rootfs_snapshot_put(path, s->meta_raw, s->meta_len); /* sink_file reads the snapshot */
                        if (rootfs_snapshot_get(path, &d, &dn))
                                sink_file(sink, path);
                        else
                                sink_missing(sink, dest, "file", path, "skipped",
                                             "not a regular file when it was opened (never read by its name)");
                }
        }
        scan_free(&sc);
}

/* ---------------- watch ---------------- */

struct wseg {
        char *fname;
        int fd;
        ino_t ino;
        dev_t dev;
        bool have_prev, prev_odd, seen;
        uint64_t prev_prog, prev_ns, changed_ns;
};

struct wstate {
        struct wseg *v;
        size_t n, cap;
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
        w->have_prev = w->prev_odd = false;
}

/* Writer of a watched segment: lock holder (P2P) or writer_pid alive (legacy). */
static enum writer_state watch_writer(const char *fname, const struct evo_header *h, const char *locks, int *pid)
{
        *pid = 0;
        if (h->layout != EVO_LAYOUT_P2P) {
                char *base;
                int npid;
                bool named = evo_name_legacy(fname, &base, &npid);
                free(base);
                *pid = h->legacy.writer_pid && h->legacy.writer_pid <= INT32_MAX ? (int)h->legacy.writer_pid : named ? npid : 0;
                return !*pid ? W_UNKNOWN : proc_exists(*pid) ? W_ALIVE : W_DEAD;
        }
        _cleanup_free_ char *lock = xasprintf("%s/%s.lock", SHM_DIR, fname);
        struct stat st;
        if (rootfs_stat(lock, &st, false) < 0)
                return W_DEAD;
        if (!locks)
                return W_UNKNOWN;
        _cleanup_free_ char *buf = xstrdup(locks);
        size_t pos = 0;
        char *line;
        while ((line = next_line(buf, &pos))) {
                struct evo_lock l;
                if (evo_locks_line(line, &l) < 0 || l.waiter || !streq(l.type, "FLOCK") || l.ino != (uint64_t)st.st_ino)
                        continue;
                if (rootfs_is_live() && (l.maj != major(st.st_dev) || l.min != minor(st.st_dev)))
                        continue;
                *pid = l.pid > 0 ? l.pid : 0;
                return W_ALIVE;
        }
        return W_DEAD;
}

static void watch_one(struct ctx *c, struct sample *out, struct wseg *w, const char *locks)
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
                int r = open_entry(path, &st, &w->fd);
                if (r < 0) {
                        sample_status(out, "evo.segments", name, r == -EACCES && !c->is_root ? SEV_SKIPPED : SEV_UNKNOWN,
                                      "cannot open: %s", strerror(-r));
                        return;
                }
                w->ino = st.st_ino;
                w->dev = st.st_dev;
        }
        uint8_t buf[EVO_HDR_MAX];
        enum evo_read rs;
        unsigned tries;
        size_t n = read_header(w->fd, 3, buf, &rs, &tries);
        uint64_t t = now_ns();
        struct evo_header h;
        int dec = evo_decode(buf, n, &h);
        if (dec == -EBADMSG)
                return; /* not an EVO segment: check says what it is */
        if (dec < 0 || (uint64_t)st.st_size < evo_min_size(&h)) {
                sample_status(out, "evo.corrupt", name, SEV_CRIT, "%s header or file too short", evo_layout_name(h.layout));
                w->have_prev = false;
                return;
        }
        int pid;
        enum writer_state ws = watch_writer(w->fname, &h, locks, &pid);
        uint64_t prog = evo_progress(&h);
        bool odd = evo_seq_odd(&h);
        sample_value(out, "evo.heartbeat", name, (double)prog, NULL);
        if (ws == W_ALIVE)
                sample_status(out, "evo.orphaned", name, SEV_OK, "writer pid %d alive", pid);
        else if (ws == W_DEAD)
                sample_status(out, "evo.orphaned", name, SEV_CRIT, h.layout == EVO_LAYOUT_P2P ? "writer gone: nobody holds its .lock"
                                                                                       : "writer gone: pid %d exited", pid);
        else
                sample_status(out, "evo.orphaned", name, SEV_UNKNOWN, "writer unknown");
        sample_status(out, "evo.never_committed", name, prog ? SEV_OK : SEV_WARN, prog ? "written" : "never committed (heartbeat 0)");
        if (w->have_prev) {
                uint64_t dt = t - w->prev_ns;
                if (prog != w->prev_prog)
                        w->changed_ns = t;
                double hz = prog > w->prev_prog && dt ? (double)(prog - w->prev_prog) * 1e9 / (double)dt : 0;
                sample_value(out, "evo.heartbeat_hz", name, hz, "Hz");
                if (ws == W_ALIVE && prog) {
                        uint64_t still = (t - w->changed_ns) / 1000000u;
                        if (prog != w->prev_prog)
                                sample_status(out, "evo.stalled", name, SEV_OK, "advancing at %.1f Hz", hz);
                        else
                                sample_status(out, "evo.stalled", name, h.layout == EVO_LAYOUT_LEGACY ? SEV_INFO : SEV_CRIT,
                                              "heartbeat not advancing for %" PRIu64 " ms (stuck at %" PRIu64 ")", still, prog);
                }
                sample_status(out, "evo.write_seq", name, odd && w->prev_odd ? SEV_CRIT : SEV_OK,
                              odd && w->prev_odd ? "write left half-done (odd sequence in two samples)" : "no write left half-done");
        } else {
                w->changed_ns = t;
        }
        w->have_prev = true;
        w->prev_prog = prog;
        w->prev_ns = t;
        w->prev_odd = odd;
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
        free(ws);
}

static void evo_sample(struct ctx *c, struct sample *out)
{
        struct wstate *ws = c->state;
        if (!ws)
                c->state = ws = xcalloc(1, sizeof(*ws));
        for (size_t i = 0; i < ws->n; i++)
                ws->v[i].seen = false;
        _cleanup_free_ char *locks = NULL;
        if (rootfs_read("/proc/locks", READ_MAX_DEFAULT, &locks, NULL) < 0) {
                free(locks);
                locks = NULL;
        }
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
                watch_one(c, out, w, locks);
        }
        bool complete = d && !de;
        rootfs_closedir(d);
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

const struct collector evo_collector = {
        .name = "evo",
        .summary = "EVO shm segments: layouts, writer (flock) and readers, heartbeat, orphans, modes",
        .checks = checks,
        .config = config,
        .detect = evo_detect,
        .check = evo_check,
        .collect = evo_collect,
        .sample = evo_sample,
};
