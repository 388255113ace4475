/* shm: shared memory as the EVO stack uses it. SysV segments (/proc/sysvipc/shm)
 * and POSIX objects (/dev/shm), who maps them (/proc/PID/maps), orphans, modes,
 * use against kernel.shm{mni,all,max}, and /dev/shm itself (tmpfs, how full).
 * From the EVO guide's "Segment Not Found", "Permission Denied", "SHM limits
 * exceeded" and "Tmpfs not mounted". evodiag never removes or changes anything:
 * remedies name the exact command (ipcrm -m <shmid>, chmod, sysctl). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/shm.h"
#include "collectors/sample_util.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/mounts.h"
#include "lib/procmaps.h"
#include "lib/users.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/statvfs.h>
#include <time.h>

static const struct check_info checks[] = {
        {"shm.sysv_segments", "SysV shared-memory segments",
         "Every segment in /proc/sysvipc/shm (what `ipcs -m -p` shows): key, shmid, owner, mode,\n"
         "size, how many attachments (nattch) and which processes map it (from /proc/PID/maps,\n"
         "where a segment shows as /SYSV<key> with the shmid as inode), and whether its creator\n"
         "and last attacher are alive. An inventory: the problems are the other shm.* checks.\n"
         "Only segments of evodiag's IPC namespace are visible (run it in the host namespace).\n"
         "Unreadable /proc/sysvipc/shm (kernel without CONFIG_SYSVIPC, or missing evidence) is\n"
         "unknown: orphans and shmmni/shmall/shmmax use were then not checked.\n"
         "Look by hand: ipcs -m -p; ipcs -m -i <shmid>. Listing size: [shm] list_max."},
        {"shm.orphaned", "Orphaned SysV segments",
         "A segment nobody has attached (nattch 0) whose creator and last attacher have exited.\n"
         "The kernel keeps it, and its memory, until someone removes it: it leaks RAM (or swap)\n"
         "and counts against kernel.shmmni and kernel.shmall, until new segments fail with ENOSPC\n"
         "(ShmError::AllocationFailed). It is what a crashed writer leaves behind (the guide's\n"
         "\"Cleanup after crash\"). Warn; crit when it is at least [shm] orphan_crit_mb MiB.\n"
         "Fix: check nothing still needs it (ipcs -m -i <shmid>), then remove it:\n"
         "  ipcrm -m <shmid>\n"
         "evodiag never removes it itself. Setting kernel.shm_rmid_forced=1 makes the kernel\n"
         "remove a segment when its last user exits (only for programs that never re-attach)."},
        {"shm.shmmni", "SysV segment count against kernel.shmmni",
         "How many SysV segments exist against kernel.shmmni (the `ipcs -lm` \"max number of\n"
         "segments\"). At the limit shmget() fails with ENOSPC and EVO modules fail to start\n"
         "with AllocationFailed. Warn at [shm] limit_warn_pct (90%), crit at limit_crit_pct (100%).\n"
         "Fix: remove orphaned segments first (shm.orphaned: ipcrm -m <shmid>), else raise it:\n"
         "  sysctl -w kernel.shmmni=8192\n"
         "  echo 'kernel.shmmni = 8192' >> /etc/sysctl.conf    # persists across reboots"},
        {"shm.shmall", "SysV shared memory in use against kernel.shmall",
         "Pages held by all SysV segments (each rounded up to whole pages, as the kernel counts\n"
         "them; `ipcs -u` \"pages allocated\") against kernel.shmall, which is in pages. At the\n"
         "limit shmget() fails with ENOSPC (the guide's \"SHM limits exceeded\"). Warn at\n"
         "[shm] limit_warn_pct, crit at limit_crit_pct. Fix (the guide's values: 64 GiB):\n"
         "  sysctl -w kernel.shmall=16777216                   # 64 GiB in 4 KiB pages\n"
         "  echo 'kernel.shmall = 16777216' >> /etc/sysctl.conf\n"
         "and remove orphaned segments (shm.orphaned)."},
        {"shm.shmmax", "Largest SysV segment against kernel.shmmax",
         "The largest segment against kernel.shmmax, the most one shmget() may ask for. A segment\n"
         "at or over it (the limit was lowered after it was made) cannot be created again after\n"
         "a restart: shmget() fails with EINVAL and the module reports AllocationFailed. Warn at\n"
         "[shm] limit_warn_pct, crit at limit_crit_pct. Fix (the guide's \"SHM limits exceeded\"):\n"
         "  sysctl -w kernel.shmmax=68719476736                # 64 GiB\n"
         "  echo 'kernel.shmmax = 68719476736' >> /etc/sysctl.conf"},
        {"shm.posix_objects", "POSIX shared-memory objects in /dev/shm",
         "Every entry in /dev/shm (what shm_open() creates): size, owner, mode, and which\n"
         "processes map it (from /proc/PID/maps). Objects unlinked while still mapped show as\n"
         "\"(deleted)\": they hold memory that no longer appears in /dev/shm until the last\n"
         "mapper exits. Entries are examined with lstat only: never opened, symlinks not\n"
         "followed, at most [shm] scan_max of them. A process holding an object only by file\n"
         "descriptor (an EVO .lock file) does not map it: see lsof /dev/shm/<name>.\n"
         "Look by hand: ls -la /dev/shm; grep /dev/shm/ /proc/[0-9]*/maps."},
        {"shm.world_writable", "Shared memory writable by every user",
         "A SysV segment with o+w in its mode, or a /dev/shm entry with o+w (a directory without\n"
         "the sticky bit): any local user can overwrite the data EVO modules exchange, or a\n"
         "broker's segments. The guide's shared-access mode is 0664 with group evo.\n"
         "Fix for /dev/shm: chmod 664 /dev/shm/<name> && chown :evo /dev/shm/<name>, and give the\n"
         "creator a mode without o+w (shm_open(..., 0660)) or a udev/tmpfiles rule.\n"
         "Fix for SysV: create it with mode 0660 (shmget(key, size, IPC_CREAT|0660)); an existing\n"
         "segment keeps its mode, so stop its users and remove it (ipcrm -m <shmid>) to recreate."},
        {"shm.mappers", "Who maps shared memory (/proc/PID/maps scan)",
         "The scan of every process's /proc/PID/maps that tells who maps each /dev/shm object\n"
         "and SysV segment. As non-root the maps of other users' processes cannot be read: the\n"
         "scan is then skipped for them, and \"no mapper found\" means unknown, not unused.\n"
         "Each maps file is read up to [shm] maps_max_kb KiB; a longer one is scanned in part.\n"
         "Fix: run as root (sudo evodiag check --only shm)."},
        {"shm.tmpfs", "/dev/shm is a tmpfs mount",
         "POSIX shared memory lives in /dev/shm, which must be a writable tmpfs (/proc/mounts:\n"
         "tmpfs /dev/shm tmpfs rw,...). Not mounted, mounted read-only, or another file system:\n"
         "shm_open() fails, or the segments land on disk (the guide's \"Tmpfs not mounted\").\n"
         "ramfs works but has no size limit (warn). Fix:\n"
         "  mount -t tmpfs -o rw,nosuid,nodev,mode=1777 tmpfs /dev/shm\n"
         "  echo 'tmpfs /dev/shm tmpfs rw,nosuid,nodev,mode=1777 0 0' >> /etc/fstab   # persists"},
        {"shm.tmpfs_usage", "How full /dev/shm is",
         "Space and inodes used in /dev/shm (statvfs, what `df -h /dev/shm` and `df -i` show).\n"
         "When it is full, creating or growing a segment fails (ENOSPC, or SIGBUS on first touch\n"
         "of a page). Warn at [shm] tmpfs_warn_pct (90%), crit at tmpfs_crit_pct (98%). Read only\n"
         "on the live system: under --root the evidence holds no usage, so it is skipped.\n"
         "Fix: find what is large (du -ah /dev/shm | sort -h | tail), remove stale objects whose\n"
         "writer is gone (rm /dev/shm/<name>), or grow it:\n"
         "  mount -o remount,size=50% /dev/shm    # and size=50% in the /etc/fstab line",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("limit_warn_pct", "90", "warn when SysV use reaches this % of shmmni/shmall/shmmax"),
        CONF_UINT("limit_crit_pct", "100", 1, 101, "crit when SysV use reaches this % (100: the next shmget fails; 101: never crit)"),
        CONF_UINT("orphan_crit_mb", "1024", 0, 1000000000, "an orphaned SysV segment of at least this many MiB is crit, not warn (0: never)"),
        CONF_PCT("tmpfs_warn_pct", "90", "warn when /dev/shm space or inodes reach this % used"),
        CONF_PCT("tmpfs_crit_pct", "98", "crit when /dev/shm space or inodes reach this % used"),
        CONF_UINT("scan_max", "10000", 1, 10000000, "examine at most this many /dev/shm entries"),
        CONF_UINT("maps_max_kb", "2048", 1, 262144, "read at most this many KiB of each /proc/PID/maps"),
        CONF_UINT("list_max", "50", 1, 1000000, "list at most this many segments and objects one by one"),
        {0},
};

#define SHM_DIR "/dev/shm"
#define MAPPERS_SHOWN 8
/* kernel.shmall/shmmax defaults are ULONG_MAX - 2^24: print them as unlimited. */
#define EFFECTIVELY_UNLIMITED (UINT64_C(1) << 62)

/* ---------------- parsers and decisions (unit-tested) ---------------- */

static void mount_copy(const struct mount_entry *e, struct shm_mount *out)
{
        *out = (struct shm_mount){
                .src = xstrdup(e->src), .dir = xstrdup(e->dir), .type = xstrdup(e->type), .opts = xstrdup(e->opts),
        };
}

int shm_mount_parse(const char *line, struct shm_mount *out)
{
        struct mounts m;
        *out = (struct shm_mount){0};
        mounts_parse(line, &m);
        int r = m.n == 1 && *m.v[0].opts ? 0 : -EINVAL; /* all four fields */
        if (r == 0)
                mount_copy(&m.v[0], out);
        mounts_free(&m);
        return r;
}

void shm_mount_free(struct shm_mount *m)
{
        free(m->src);
        free(m->dir);
        free(m->type);
        free(m->opts);
        *m = (struct shm_mount){0};
}

int shm_mounts_find(const char *text, const char *dir, struct shm_mount *out, size_t *bad)
{
        struct mounts m;
        *out = (struct shm_mount){0};
        mounts_parse(text, &m);
        *bad = m.bad;
        for (size_t i = 0; i < m.n; i++)
                *bad += !*m.v[i].opts;
        const struct mount_entry *e = mounts_find(&m, dir);
        int r = e && *e->opts ? 0 : -ENOENT;
        if (r == 0)
                mount_copy(e, out);
        mounts_free(&m);
        return r;
}

bool shm_mount_opt(const char *opts, const char *name, char **val) { return mount_opt(opts, name, val); }

enum severity shm_mount_sev(const struct shm_mount *m, const char **why)
{
        if (!m) {
                *why = "nothing is mounted on it";
                return SEV_CRIT;
        }
        if (streq(m->type, "ramfs")) {
                *why = "ramfs has no size limit: a runaway writer can fill RAM";
                return SEV_WARN;
        }
        if (!streq(m->type, "tmpfs")) {
                *why = "it is not tmpfs: segments would live on that file system";
                return SEV_CRIT;
        }
        if (shm_mount_opt(m->opts, "ro", NULL)) {
                *why = "it is mounted read-only: shm_open(O_CREAT) fails";
                return SEV_CRIT;
        }
        *why = "writable tmpfs";
        return SEV_OK;
}

static bool all_hex(const char *s, size_t n)
{
        if (!n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* The line's fields by lib/procmaps; here only what it maps. */
int shm_maps_line(const char *line, const char *shm_dir, struct shm_map_ref *out)
{
        struct procmaps_entry e;
        *out = (struct shm_map_ref){0};
        if (procmaps_parse(line, &e) < 0)
                return -EINVAL;
        out->inode = e.inode;
        out->deleted = e.deleted;
        const char *p = e.path;
        size_t plen = e.path_len;
        if (procmaps_in_dir(&e, shm_dir, &out->name, &out->name_len)) {
                out->kind = SHM_MAP_POSIX;
        } else if (plen == 13 && !memcmp(p, "/SYSV", 5) && all_hex(p + 5, 8)) {
                out->kind = SHM_MAP_SYSV;
                for (int i = 5; i < 13; i++)
                        out->sysv_key = out->sysv_key << 4 |
                                        (uint32_t)(isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
        }
        return (int)out->kind;
}

enum severity shm_limit_sev(uint64_t used, uint64_t limit, double warn_pct, double crit_pct)
{
        if (!limit) /* nothing can be created; harmless only while nothing is wanted */
                return used ? SEV_CRIT : SEV_WARN;
        double pct = 100.0 * (double)used / (double)limit;
        return pct >= crit_pct ? SEV_CRIT : pct >= warn_pct ? SEV_WARN : SEV_OK;
}

bool shm_sysv_orphaned(const struct sysv_shm *s, bool cpid_alive, bool lpid_alive)
{
        return s->nattch == 0 && !cpid_alive && !lpid_alive;
}

enum severity shm_orphan_sev(uint64_t size, uint64_t crit_bytes)
{
        return crit_bytes && size >= crit_bytes ? SEV_CRIT : SEV_WARN;
}

bool shm_mode_world_writable(mode_t mode)
{
        if (!(mode & S_IWOTH))
                return false;
        if (S_ISDIR(mode))
                return !(mode & S_ISVTX);
        /* A symlink's own mode is always 0777 and means nothing. */
        return !S_ISLNK(mode);
}

enum severity shm_usage_sev(double pct, double warn_pct, double crit_pct)
{
        return pct >= crit_pct ? SEV_CRIT : pct >= warn_pct ? SEV_WARN : SEV_OK;
}

uint64_t shm_pages(uint64_t size, uint64_t page_size)
{
        if (!page_size)
                return 0;
        return size / page_size + (size % page_size ? 1 : 0);
}

/* ---------------- collection ---------------- */

struct pids {
        int *v;
        size_t n, cap;
};

static void pids_add(struct pids *l, int pid)
{
        if (l->n && l->v[l->n - 1] == pid) /* one process, several mappings */
                return;
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 4;
                l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = pid;
}

struct seg {
        struct sysv_shm s;
        struct pids att;
};

struct obj {
        char *raw;      /* the name as in the directory (matched against maps) */
        struct stat st;
        bool have_stat;
        int stat_err;
        char *link;     /* symlink target */
        bool deleted;   /* only seen in maps, unlinked */
        uint64_t ino;   /* deleted: the inode, to tell two unlinked generations apart */
        struct pids map;
};

struct state {
        struct proctable procs;
        struct users *users; /* ROOT/etc/passwd and group */
        uint64_t page;

        /* SysV */
        int sysv_err; /* <0: /proc/sysvipc/shm unreadable or malformed */
        struct seg *segs;
        size_t nsegs, sysv_bad;

        /* /dev/shm */
        char *dir;      /* where POSIX objects live, after following /dev/shm symlinks */
        int dir_err;
        struct obj *objs;
        size_t nobjs, objs_cap;
        size_t nlisted; /* entries in the directory listing (objs after it are deleted ones) */
        bool capped;

        /* maps scan */
        struct maps_walk mw; /* the /proc/PID/maps scan */
};

static const struct proc *proc_find(const struct state *st, int pid) { return proctable_find(&st->procs, pid); }

static int by_pid(const void *a, const void *b)
{
        const struct proc *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static int by_shmid(const void *a, const void *b)
{
        const struct seg *x = a, *y = b;
        return (x->s.shmid > y->s.shmid) - (x->s.shmid < y->s.shmid);
}

static int by_name(const void *a, const void *b)
{
        const struct obj *x = a, *y = b;
        return strcmp(x->raw, y->raw);
}

static char *owner(const struct state *st, unsigned uid, unsigned gid) { return users_owner(st->users, uid, gid); }

static char *key_str(int64_t key)
{
        return key == 0 ? xstrdup("IPC_PRIVATE") : xasprintf("0x%08" PRIx32, (uint32_t)key);
}

static char *date_str(int64_t t)
{
        if (t <= 0)
                return xstrdup("never");
        struct tm tm;
        time_t tt = (time_t)t;
        char buf[64];
        if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
                return xasprintf("%" PRId64, t);
        return xstrdup(buf);
}

/* "pid 12 (evo_cu), pid 40 (lavinmq) and 3 more" */
static void put_pids(const struct state *st, struct strbuf *b, const struct pids *l)
{
        for (size_t i = 0; i < l->n && i < MAPPERS_SHOWN; i++) {
                const struct proc *p = proc_find(st, l->v[i]);
                _cleanup_free_ char *comm = p ? str_printable(p->comm) : NULL;
                sb_printf(b, "%spid %d", i ? ", " : "", l->v[i]);
                if (comm)
                        sb_printf(b, " (%s)", comm);
        }
        if (l->n > MAPPERS_SHOWN)
                sb_printf(b, " and %zu more", l->n - MAPPERS_SHOWN);
}

/* What the scan can say about an object nobody was seen mapping. */
static const char *nobody_seen(const struct state *st)
{
        if (st->mw.unreadable)
                return "mappers unknown (other users' maps not readable)";
        if (st->mw.truncated)
                return "no mapper found (some maps read only in part)";
        return "mapped by no process";
}

static void load_sysv(struct state *st)
{
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/sysvipc/shm", READ_MAX_DEFAULT, &text, NULL);
        if (r < 0) {
                st->sysv_err = (int)r;
                return;
        }
        struct sysv_shm *v;
        int n = sysvipc_shm_parse(text, &v, &st->sysv_bad);
        if (n < 0) {
                st->sysv_err = n;
                return;
        }
        st->segs = xcalloc((size_t)n + 1, sizeof(*st->segs));
        for (int i = 0; i < n; i++)
                st->segs[i].s = v[i];
        st->nsegs = (size_t)n;
        free(v);
        if (st->nsegs)
                qsort(st->segs, st->nsegs, sizeof(*st->segs), by_shmid);
}

/* /dev/shm may be a symlink (to /run/shm on old systems): follow it through rootfs,
 * so that under --root an absolute target stays inside the root. */
static char *resolve_dir(const char *path, int *err)
{
        char *cur = xstrdup(path);
        for (int depth = 0; depth < 8; depth++) {
                struct stat sb;
                int r = rootfs_stat(cur, &sb, false);
                if (r < 0) {
                        *err = r;
                        return cur;
                }
                if (!S_ISLNK(sb.st_mode)) {
                        *err = S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
                        return cur;
                }
                char *target;
                if ((r = rootfs_readlink(cur, &target)) < 0) {
                        *err = r;
                        return cur;
                }
                char *next;
                if (target[0] == '/') {
                        next = target;
                } else {
                        char *slash = strrchr(cur, '/');
                        next = xasprintf("%.*s/%s", (int)(slash ? slash - cur : 0), cur, target);
                        free(target);
                }
                free(cur);
                cur = next;
        }
        *err = -ELOOP;
        return cur;
}

static struct obj *obj_new(struct state *st)
{
        if (st->nobjs == st->objs_cap) {
                st->objs_cap = st->objs_cap ? st->objs_cap * 2 : 32;
                st->objs = xrealloc(st->objs, st->objs_cap * sizeof(*st->objs));
        }
        struct obj *o = &st->objs[st->nobjs++];
        *o = (struct obj){0};
        return o;
}

static void load_posix(struct state *st, size_t scan_max)
{
        st->dir = resolve_dir(SHM_DIR, &st->dir_err);
        if (st->dir_err < 0)
                return;
        struct rootfs_dir *d = rootfs_opendir(st->dir);
        if (!d) {
                st->dir_err = -errno;
                return;
        }
        struct dirent *de;
        size_t seen = 0;
        while ((de = rootfs_readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (seen++ >= scan_max) {
                        st->capped = true;
                        break;
                }
                struct obj *o = obj_new(st);
                o->raw = xstrdup(de->d_name);
                _cleanup_free_ char *path = xasprintf("%s/%s", st->dir, de->d_name);
                /* lstat only: the object is never opened (a FIFO would block) nor followed. */
                int r = rootfs_stat(path, &o->st, false);
                o->have_stat = r == 0;
                o->stat_err = r;
                if (o->have_stat && S_ISLNK(o->st.st_mode))
                        (void)rootfs_readlink(path, &o->link);
        }
        rootfs_closedir(d);
        st->nlisted = st->nobjs;
        if (st->nobjs)
                qsort(st->objs, st->nobjs, sizeof(*st->objs), by_name);
}

/* A name that is not NUL-terminated (a slice of a maps line), for bsearch. */
struct name_key {
        const char *name;
        size_t len;
};

static int obj_by_key(const void *k, const void *e)
{
        const struct name_key *key = k;
        const char *m = ((const struct obj *)e)->raw;
        int c = strncmp(key->name, m, key->len);
        return c ? c : m[key->len] ? -1 : 0;
}

static struct obj *obj_find(struct state *st, const char *name, size_t len, bool deleted, uint64_t ino)
{
        if (!deleted) {
                struct name_key key = {name, len};
                return st->nlisted ? bsearch(&key, st->objs, st->nlisted, sizeof(*st->objs), obj_by_key) : NULL;
        }
        /* Unlinked objects are few: a linear search, and a new entry for each one. */
        for (size_t i = st->nlisted; i < st->nobjs; i++) {
                struct obj *o = &st->objs[i];
                if (o->ino == ino && strlen(o->raw) == len && !memcmp(o->raw, name, len))
                        return o;
        }
        struct obj *o = obj_new(st);
        o->raw = xstrndup(name, len);
        o->deleted = true;
        o->ino = ino;
        return o;
}

static int seg_by_shmid(const void *k, const void *e)
{
        uint64_t want = *(const uint64_t *)k, id = (uint64_t)(int64_t)((const struct seg *)e)->s.shmid;
        return (want > id) - (want < id);
}

static struct seg *seg_find(struct state *st, uint64_t shmid)
{
        return st->nsegs ? bsearch(&shmid, st->segs, st->nsegs, sizeof(*st->segs), seg_by_shmid) : NULL;
}

static bool map_line(const struct proc *p, char *line, void *arg)
{
        struct state *st = arg;
        struct shm_map_ref ref;
        int k = shm_maps_line(line, st->dir ? st->dir : SHM_DIR, &ref);
        if (k == SHM_MAP_POSIX) {
                struct obj *o = obj_find(st, ref.name, ref.name_len, ref.deleted, ref.inode);
                if (o) {
                        pids_add(&o->map, p->pid);
                        return true;
                }
        } else if (k == SHM_MAP_SYSV) {
                struct seg *s = seg_find(st, ref.inode);
                if (s) {
                        pids_add(&s->att, p->pid);
                        return true;
                }
        }
        return false;
}

/* Every process's maps: who maps which /dev/shm object and SysV segment. Always
 * done, because objects unlinked while mapped are only visible here. */
static void scan_maps(struct state *st, size_t max_bytes)
{
        proc_maps_walk(&st->procs, max_bytes, NULL, map_line, st, &st->mw);
}

/* ---------------- findings ---------------- */

/* A count or size from the config: negative or NaN is 0, huge is capped, so the
 * conversion from double is always defined. */
static bool pid_alive(int pid)
{
        return pid > 0 && proc_exists(pid);
}

static void report_sysv(struct state *st, struct findings *fs, size_t list_max)
{
        if (st->sysv_err < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "shm.sysv_segments",
                                            "cannot read /proc/sysvipc/shm: %s — SysV segments, orphans and "
                                            "shmmni/shmall/shmmax use not checked",
                                            st->sysv_err == -EINVAL ? "not in the kernel's format" : strerror(-st->sysv_err));
                fnd_expected(f, "/proc/sysvipc/shm readable, header with shmid and nattch");
                fnd_evidence(f, "/proc/sysvipc/shm");
                return;
        }
        if (st->sysv_bad) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.sysv_segments", "%zu malformed line(s) in /proc/sysvipc/shm skipped",
                                            st->sysv_bad);
                fnd_subject(f, "/proc/sysvipc/shm");
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
        if (!st->nsegs) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.sysv_segments", "no SysV shared-memory segments");
                fnd_evidence(f, "/proc/sysvipc/shm");
                return;
        }
        for (size_t i = 0; i < st->nsegs && i < list_max; i++) {
                const struct seg *g = &st->segs[i];
                const struct sysv_shm *s = &g->s;
                char sz[32];
                _cleanup_free_ char *key = key_str(s->key), *own = owner(st, s->uid, s->gid);
                struct strbuf b = {0};
                sb_printf(&b, "shmid %d key %s: %s, mode %04o, owner %s, nattch %" PRIu64, s->shmid, key,
                          fmt_bytes(s->size, sz), s->perms & 0777, own, s->nattch);
                if (g->att.n) {
                        sb_puts(&b, ", attached by ");
                        put_pids(st, &b, &g->att);
                } else if (s->nattch) {
                        sb_printf(&b, ", %s", st->mw.unreadable ? "attachers unknown (other users' maps not readable)"
                                                             : "attachers not found in /proc/*/maps");
                }
                bool ca = pid_alive(s->cpid), la = pid_alive(s->lpid);
                sb_printf(&b, "; creator pid %d %s", s->cpid, ca ? "alive" : "gone");
                if (s->lpid != s->cpid)
                        sb_printf(&b, ", last pid %d %s", s->lpid, s->lpid <= 0 ? "(none)" : la ? "alive" : "gone");
                if (s->perms & 01000)
                        sb_puts(&b, "; marked for removal (freed at last detach)");
                if (s->perms & 02000)
                        sb_puts(&b, "; locked in RAM (SHM_LOCK)");
                _cleanup_free_ char *summary = sb_steal(&b);
                struct finding *f = fnd_add(fs, SEV_OK, "shm.sysv_segments", "%s", summary);
                fnd_subject(f, "shmid %d", s->shmid);
                char rss[32], swp[32];
                _cleanup_free_ char *at = date_str(s->atime), *dt = date_str(s->dtime);
                fnd_actual(f, "rss %s, swap %s, creator uid %u gid %u, last attach %s, last detach %s", fmt_bytes(s->rss, rss),
                           fmt_bytes(s->swap, swp), s->cuid, s->cgid, at, dt);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/*/maps");
        }
        if (st->nsegs > list_max) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.sysv_segments", "%zu more SysV segments not listed one by one",
                                            st->nsegs - list_max);
                fnd_remedy(f, "ipcs -m -p   # all of them; or raise [shm] list_max");
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
}

static void check_orphans(struct ctx *c, struct state *st, struct findings *fs)
{
        if (st->sysv_err < 0)
                return;
        uint64_t crit_bytes = conf_uint(c, "orphan_crit_mb") * 1048576;
        /* Under --root without a process table nothing tells whether a creator lives. */
        bool procs_known = st->procs.n > 0;
        size_t orphans = 0, unattached = 0;
        for (size_t i = 0; i < st->nsegs; i++) {
                const struct sysv_shm *s = &st->segs[i].s;
                if (s->nattch)
                        continue;
                unattached++;
                bool ca = pid_alive(s->cpid), la = pid_alive(s->lpid);
                char sz[32];
                _cleanup_free_ char *key = key_str(s->key), *dt = date_str(s->dtime);
                if (!procs_known) {
                        struct finding *f = fnd_add(fs, SEV_INFO, "shm.orphaned",
                                                    "shmid %d (%s) has nattch 0; whether pid %d lives is not in the evidence",
                                                    s->shmid, fmt_bytes(s->size, sz), s->cpid);
                        fnd_subject(f, "shmid %d", s->shmid);
                        fnd_evidence(f, "/proc/sysvipc/shm (no /proc/PID entries under the root)");
                        continue;
                }
                if (!shm_sysv_orphaned(s, ca, la))
                        continue;
                orphans++;
                enum severity sev = shm_orphan_sev(s->size, crit_bytes);
                struct finding *f = fnd_add(fs, sev, "shm.orphaned",
                                            "shmid %d (key %s, %s) is orphaned: nattch 0, creator pid %d gone", s->shmid, key,
                                            fmt_bytes(s->size, sz), s->cpid);
                fnd_subject(f, "shmid %d", s->shmid);
                fnd_expected(f, "every segment attached, or its creator alive");
                if (s->lpid > 0 && s->lpid != s->cpid)
                        fnd_actual(f, "nattch 0, creator pid %d gone, last pid %d gone, last detach %s", s->cpid, s->lpid, dt);
                else
                        fnd_actual(f, "nattch 0, creator pid %d gone, last detach %s", s->cpid, dt);
                fnd_remedy(f, "ipcs -m -i %d   # make sure nothing needs it, then: ipcrm -m %d", s->shmid, s->shmid);
                fnd_evidence(f, "/proc/sysvipc/shm; /proc/%d absent", s->cpid);
        }
        /* Attached segments are never orphans, process table or not. */
        if (!orphans && (procs_known || !unattached)) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.orphaned", "no orphaned SysV segments (%zu %s, %zu unattached)",
                                            st->nsegs, st->nsegs == 1 ? "segment" : "segments", unattached);
                fnd_expected(f, "no segment with nattch 0 whose creator and last attacher are gone");
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/PID");
        }
}

static int read_limit(const char *name, uint64_t *v, struct findings *fs, const char *id)
{
        _cleanup_free_ char *path = xasprintf("/proc/sys/kernel/%s", name);
        int r = rootfs_read_u64(path, v);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, id, "cannot read %s: %s", path,
                                            r == -EINVAL || r == -ERANGE ? "not a number" : strerror(-r));
                fnd_evidence(f, "%s", path);
        }
        return r;
}

static const char *limit_str(uint64_t v, const char *unit, char buf[static 64])
{
        if (v >= EFFECTIVELY_UNLIMITED) /* the exact number is in the finding's "found" */
                snprintf(buf, 64, "unlimited");
        else
                snprintf(buf, 64, "%" PRIu64 "%s", v, unit);
        return buf;
}

/* "sysctl -w k=v && echo 'k = v' >> /etc/sysctl.conf": the guide's temporary + permanent pair. */
static void sysctl_remedy(struct finding *f, const char *key, uint64_t v, const char *comment)
{
        fnd_remedy(f, "sysctl -w %s=%" PRIu64 " && echo '%s = %" PRIu64 "' >> /etc/sysctl.conf   # %s", key, v, key, v, comment);
}

static void check_limits(struct ctx *c, struct state *st, struct findings *fs)
{
        if (st->sysv_err < 0)
                return;
        double w = conf_num(c, "limit_warn_pct"), cr = conf_num(c, "limit_crit_pct");
        uint64_t mni, all, max;
        char lb[64], a[32], b[32];

        if (read_limit("shmmni", &mni, fs, "shm.shmmni") == 0) {
                uint64_t n = st->nsegs;
                enum severity s = shm_limit_sev(n, mni, w, cr);
                double pct = mni ? 100.0 * (double)n / (double)mni : 100.0;
                struct finding *f = fnd_add(fs, s, "shm.shmmni", "%" PRIu64 " SysV %s of kernel.shmmni = %s (%.1f%%)", n,
                                            n == 1 ? "segment" : "segments", limit_str(mni, "", lb), pct);
                fnd_expected(f, "< %.0f%% of kernel.shmmni", w);
                fnd_actual(f, "%" PRIu64 " in use, shmmni %" PRIu64, n, mni);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmmni");
                if (s != SEV_OK) {
                        uint64_t want = n * 2 > 4096 ? n * 2 : 4096;
                        if (want > 32768) /* IPCMNI without the ipcmni_extend boot option */
                                want = 32768;
                        sysctl_remedy(f, "kernel.shmmni", want, "after removing orphans (shm.orphaned: ipcrm -m <shmid>)");
                }
        }
        if (read_limit("shmall", &all, fs, "shm.shmall") == 0) {
                uint64_t pages = 0;
                for (size_t i = 0; i < st->nsegs; i++)
                        pages += shm_pages(st->segs[i].s.size, st->page);
                enum severity s = shm_limit_sev(pages, all, w, cr);
                double pct = all ? 100.0 * (double)pages / (double)all : 100.0;
                struct finding *f = fnd_add(fs, s, "shm.shmall", "SysV segments hold %" PRIu64 " %s (%s) of kernel.shmall = %s (%.1f%%)",
                                            pages, pages == 1 ? "page" : "pages", fmt_bytes(pages * st->page, a), limit_str(all, " pages", lb), pct);
                fnd_expected(f, "< %.0f%% of kernel.shmall", w);
                fnd_actual(f, "%" PRIu64 " pages of %" PRIu64 " B, shmall %" PRIu64 " pages", pages, st->page, all);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmall");
                if (s != SEV_OK) {
                        uint64_t want = pages * 2 > 16777216 ? pages * 2 : 16777216;
                        sysctl_remedy(f, "kernel.shmall", want, "pages; and remove orphans (shm.orphaned)");
                }
        }
        if (read_limit("shmmax", &max, fs, "shm.shmmax") == 0) {
                const struct sysv_shm *big = NULL;
                for (size_t i = 0; i < st->nsegs; i++)
                        if (!big || st->segs[i].s.size > big->size)
                                big = &st->segs[i].s;
                uint64_t sz = big ? big->size : 0;
                enum severity s = big ? shm_limit_sev(sz, max, w, cr) : SEV_OK;
                double pct = max ? 100.0 * (double)sz / (double)max : 100.0;
                struct finding *f;
                if (big)
                        f = fnd_add(fs, s, "shm.shmmax", "largest SysV segment %s (shmid %d) of kernel.shmmax = %s (%.1f%%)",
                                    fmt_bytes(sz, a), big->shmid, max >= EFFECTIVELY_UNLIMITED ? limit_str(max, "", lb) : fmt_bytes(max, b),
                                    pct);
                else
                        f = fnd_add(fs, s, "shm.shmmax", "no SysV segments; kernel.shmmax = %s", limit_str(max, " B", lb));
                fnd_expected(f, "largest segment < %.0f%% of kernel.shmmax", w);
                fnd_actual(f, "largest %" PRIu64 " B, shmmax %" PRIu64 " B", sz, max);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmmax");
                if (s != SEV_OK) {
                        uint64_t want = UINT64_C(68719476736);
                        if (sz > want / 2)
                                want = sz * 2;
                        sysctl_remedy(f, "kernel.shmmax", want, "bytes; a segment this large must be creatable again after a restart");
                }
        }
}

static const char *type_name(mode_t m)
{
        return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO"
             : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : "unknown type";
}

static void report_posix(struct state *st, struct findings *fs, size_t list_max, size_t scan_max)
{
        if (st->dir_err < 0) {
                /* A missing /dev/shm is shm.tmpfs's crit; anything else is unknown here. */
                bool missing = st->dir_err == -ENOENT;
                struct finding *f = fnd_add(fs, missing ? SEV_SKIPPED : SEV_UNKNOWN, "shm.posix_objects",
                                            "cannot list %s: %s", st->dir, strerror(-st->dir_err));
                fnd_evidence(f, "%s", st->dir);
                return;
        }
        if (st->capped) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.posix_objects",
                                            "%s has more than %zu entries: only the first %zu were examined", st->dir, scan_max,
                                            scan_max);
                fnd_subject(f, "%s", st->dir);
                fnd_remedy(f, "ls -f %s | wc -l   # so many objects usually means a writer leaks them; or raise [shm] scan_max",
                           st->dir);
                fnd_evidence(f, "%s", st->dir);
        }
        if (!st->nobjs) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.posix_objects", "no POSIX shared-memory objects in %s", st->dir);
                fnd_evidence(f, "%s", st->dir);
                return;
        }
        size_t listed = 0;
        for (size_t i = 0; i < st->nobjs; i++) {
                const struct obj *o = &st->objs[i];
                if (listed >= list_max)
                        break;
                listed++;
                _cleanup_free_ char *name = str_printable(o->raw);
                struct strbuf b = {0};
                enum severity sev = SEV_OK;
                if (o->deleted) {
                        sev = SEV_INFO;
                        sb_printf(&b, "%s/%s (deleted): unlinked but still mapped by ", st->dir, name);
                        put_pids(st, &b, &o->map);
                        sb_puts(&b, "; its memory is freed when they unmap it");
                } else if (!o->have_stat) {
                        sb_printf(&b, "%s/%s: %s", st->dir, name, o->stat_err == -ENOENT ? "vanished while listed" : strerror(-o->stat_err));
                } else {
                        char sz[32];
                        _cleanup_free_ char *own = owner(st, o->st.st_uid, o->st.st_gid);
                        sb_printf(&b, "%s/%s: ", st->dir, name);
                        if (S_ISLNK(o->st.st_mode)) {
                                _cleanup_free_ char *t = o->link ? str_printable(o->link) : NULL;
                                sb_printf(&b, "symlink to %s (not followed), owner %s", t ? t : "?", own);
                        } else {
                                if (!S_ISREG(o->st.st_mode))
                                        sb_printf(&b, "%s, ", type_name(o->st.st_mode));
                                else
                                        sb_printf(&b, "%s, ", fmt_bytes((uint64_t)o->st.st_size, sz));
                                sb_printf(&b, "mode %04o, owner %s", (unsigned)(o->st.st_mode & 07777), own);
                                if (S_ISREG(o->st.st_mode)) {
                                        sb_puts(&b, ", ");
                                        if (o->map.n) {
                                                sb_puts(&b, "mapped by ");
                                                put_pids(st, &b, &o->map);
                                        } else {
                                                sb_puts(&b, nobody_seen(st));
                                        }
                                }
                        }
                }
                _cleanup_free_ char *summary = sb_steal(&b);
                struct finding *f = fnd_add(fs, sev, "shm.posix_objects", "%s", summary);
                fnd_subject(f, "%s/%s%s", st->dir, name, o->deleted ? " (deleted)" : "");
                if (o->have_stat)
                        fnd_actual(f, "%s, %" PRIu64 " B allocated, inode %" PRIu64, type_name(o->st.st_mode),
                                   (uint64_t)o->st.st_blocks * 512, (uint64_t)o->st.st_ino);
                fnd_evidence(f, o->deleted ? "/proc/*/maps" : "%s (lstat), /proc/*/maps", st->dir);
        }
        if (st->nobjs > listed) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.posix_objects", "%zu more entries of %s not listed one by one",
                                            st->nobjs - listed, st->dir);
                fnd_remedy(f, "ls -la %s   # all of them; or raise [shm] list_max", st->dir);
                fnd_evidence(f, "%s", st->dir);
        }
}

static void check_world_writable(struct state *st, struct findings *fs)
{
        size_t n = 0;
        for (size_t i = 0; st->sysv_err >= 0 && i < st->nsegs; i++) {
                const struct sysv_shm *s = &st->segs[i].s;
                if (!(s->perms & 0002))
                        continue;
                n++;
                _cleanup_free_ char *own = owner(st, s->uid, s->gid);
                struct finding *f = fnd_add(fs, SEV_WARN, "shm.world_writable", "SysV segment shmid %d is writable by every user (mode %04o)",
                                            s->shmid, s->perms & 0777);
                fnd_subject(f, "shmid %d", s->shmid);
                fnd_expected(f, "no o+w (0660 with a shared group)");
                fnd_actual(f, "mode %04o, owner %s, creator pid %d", s->perms & 0777, own, s->cpid);
                fnd_remedy(f, "create it with mode 0660 (shmget(key, size, IPC_CREAT|0660)); to recreate, stop its users, then: ipcrm -m %d",
                           s->shmid);
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
        for (size_t i = 0; st->dir_err >= 0 && i < st->nlisted; i++) {
                const struct obj *o = &st->objs[i];
                if (!o->have_stat || !shm_mode_world_writable(o->st.st_mode))
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(o->raw), *path = xasprintf("%s/%s", st->dir, o->raw);
                _cleanup_free_ char *word = shell_quote(path), *own = owner(st, o->st.st_uid, o->st.st_gid);
                bool dir = S_ISDIR(o->st.st_mode);
                unsigned mode = (unsigned)(o->st.st_mode & 07777);
                struct finding *f = fnd_add(fs, SEV_WARN, "shm.world_writable", "%s/%s is writable by every user (mode %04o)", st->dir,
                                            name, mode);
                fnd_subject(f, "%s/%s", st->dir, name);
                fnd_expected(f, dir ? "no o+w, or the sticky bit (1777)" : "no o+w (the guide: 0664, group evo)");
                fnd_actual(f, "%s, mode %04o, owner %s", type_name(o->st.st_mode), mode, own);
                if (dir)
                        fnd_remedy(f, "chmod o-w %s   # or chmod +t %s so users cannot remove each other's files", word, word);
                else
                        fnd_remedy(f, "chmod 664 %s && chown :evo %s   # and create it without o+w (shm_open(..., 0660))", word, word);
                fnd_evidence(f, "%s (lstat)", st->dir);
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.world_writable", "no world-writable SysV segment or %s entry",
                                            st->dir ? st->dir : SHM_DIR);
                fnd_expected(f, "no o+w on shared memory");
                fnd_evidence(f, "/proc/sysvipc/shm, %s", st->dir ? st->dir : SHM_DIR);
        }
}

static const char *procs_word(size_t n) { return n == 1 ? "process" : "processes"; }

static void check_mappers(struct ctx *c, struct state *st, struct findings *fs, size_t max_bytes)
{
        struct finding *f;
        if (!st->procs.n) {
                f = fnd_add(fs, SEV_SKIPPED, "shm.mappers", "no process table: who maps shared memory is unknown");
                fnd_evidence(f, "%s/proc", rootfs_get());
                return;
        }
        if (st->mw.unreadable) {
                const struct proc *p = proc_find(st, st->mw.first_unreadable);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                if (!c->is_root) {
                        f = fnd_add(fs, SEV_SKIPPED, "shm.mappers",
                                    "needs root: maps of %zu %s of other users not readable (first: pid %d %s); "
                                    "mappers shown come from the %zu readable ones only",
                                    st->mw.unreadable, procs_word(st->mw.unreadable), st->mw.first_unreadable, comm, st->mw.scanned);
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only shm)");
                } else {
                        /* Root and still refused: an LSM, or a process of a more privileged container. */
                        f = fnd_add(fs, SEV_INFO, "shm.mappers", "maps of %zu %s not readable even as root (first: pid %d %s: %s)",
                                    st->mw.unreadable, procs_word(st->mw.unreadable), st->mw.first_unreadable, comm,
                                    strerror(-st->mw.first_unreadable_err));
                }
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (st->mw.truncated) {
                const struct proc *p = proc_find(st, st->mw.first_truncated);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                f = fnd_add(fs, SEV_INFO, "shm.mappers", "maps of %zu %s longer than %zu KiB, read only in part (first: pid %d %s)",
                            st->mw.truncated, procs_word(st->mw.truncated), max_bytes / 1024, st->mw.first_truncated, comm);
                fnd_remedy(f, "raise [shm] maps_max_kb");
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (!st->mw.unreadable && !st->mw.truncated) {
                f = fnd_add(fs, SEV_OK, "shm.mappers", "maps of %zu %s scanned: %zu map shared memory", st->mw.scanned,
                            procs_word(st->mw.scanned), st->mw.matching);
                fnd_evidence(f, "/proc/PID/maps");
        }
}

static void check_tmpfs(struct state *st, struct findings *fs, struct shm_mount *m, bool *mounted)
{
        *mounted = false;
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/mounts", READ_MAX_DEFAULT, &text, NULL);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "shm.tmpfs", "cannot read /proc/mounts: %s", strerror((int)-r));
                fnd_evidence(f, "/proc/mounts");
                return;
        }
        const char *dir = st->dir ? st->dir : SHM_DIR;
        size_t bad;
        *mounted = shm_mounts_find(text, dir, m, &bad) == 0;
        const char *why;
        enum severity s = shm_mount_sev(*mounted ? m : NULL, &why);
        struct finding *f;
        if (*mounted) {
                _cleanup_free_ char *size = NULL;
                (void)shm_mount_opt(m->opts, "size", &size);
                f = fnd_add(fs, s, "shm.tmpfs", "%s is %s (%s%s%s)", dir, m->type, why, size ? ", size=" : "", size ? size : "");
                fnd_actual(f, "%s %s %s %s", m->src, m->dir, m->type, m->opts);
        } else {
                f = fnd_add(fs, s, "shm.tmpfs", "%s is not a mount point: %s", dir, why);
                fnd_actual(f, "no %s line in /proc/mounts%s", dir,
                           st->dir_err == -ENOENT ? ", and the directory does not exist" : "");
        }
        if (!streq(dir, SHM_DIR))
                fnd_subject(f, "%s -> %s", SHM_DIR, dir);
        fnd_expected(f, "tmpfs %s tmpfs rw,...", dir);
        if (s != SEV_OK)
                fnd_remedy(f, "mount -t tmpfs -o rw,nosuid,nodev,mode=1777 tmpfs %s && "
                              "echo 'tmpfs %s tmpfs rw,nosuid,nodev,mode=1777 0 0' >> /etc/fstab",
                           dir, dir);
        fnd_evidence(f, "/proc/mounts%s", bad ? " (malformed lines skipped)" : "");
}

static void check_tmpfs_usage(struct ctx *c, struct state *st, struct findings *fs, const struct shm_mount *m, bool mounted)
{
        const char *dir = st->dir ? st->dir : SHM_DIR;
        struct finding *f;
        if (!rootfs_is_live()) {
                _cleanup_free_ char *size = NULL;
                if (mounted)
                        (void)shm_mount_opt(m->opts, "size", &size);
                f = fnd_add(fs, SEV_SKIPPED, "shm.tmpfs_usage", "how full %s is was not read: it needs the live system (statvfs), not --root evidence%s%s",
                            dir, size ? "; mounted with size=" : "", size ? size : "");
                fnd_evidence(f, "/proc/mounts under --root %s", rootfs_get());
                return;
        }
        if (st->dir_err < 0)
                return; /* shm.tmpfs says it is missing */
        struct statvfs sv;
        if (statvfs(dir, &sv) < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "shm.tmpfs_usage", "statvfs %s: %s", dir, strerror(errno));
                fnd_evidence(f, "statvfs(%s)", dir);
                return;
        }
        if (!sv.f_blocks) {
                f = fnd_add(fs, SEV_INFO, "shm.tmpfs_usage", "%s reports no size: no limit (size=0)", dir);
                fnd_evidence(f, "statvfs(%s)", dir);
                return;
        }
        uint64_t bs = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        uint64_t total = (uint64_t)sv.f_blocks * bs, used = (uint64_t)(sv.f_blocks - sv.f_bfree) * bs;
        double pct = 100.0 * (double)(sv.f_blocks - sv.f_bfree) / (double)sv.f_blocks;
        double ipct = sv.f_files ? 100.0 * (double)(sv.f_files - sv.f_ffree) / (double)sv.f_files : 0;
        double w = conf_num(c, "tmpfs_warn_pct"), cr = conf_num(c, "tmpfs_crit_pct");
        enum severity s = shm_usage_sev(pct > ipct ? pct : ipct, w, cr);
        char u[32], t[32];
        f = fnd_add(fs, s, "shm.tmpfs_usage", "%s: %s of %s used (%.1f%%), inodes %.1f%%", dir, fmt_bytes(used, u), fmt_bytes(total, t),
                    pct, ipct);
        fnd_expected(f, "space and inodes < %.0f%% used", w);
        fnd_actual(f, "%.1f%% space, %.1f%% inodes (%" PRIu64 " of %" PRIu64 ")", pct, ipct, (uint64_t)(sv.f_files - sv.f_ffree),
                   (uint64_t)sv.f_files);
        fnd_evidence(f, "statvfs(%s)", dir);
        if (s != SEV_OK)
                fnd_remedy(f, "du -ah %s | sort -h | tail   # remove stale objects (rm %s/<name>), or grow it: "
                              "mount -o remount,size=50%% %s and put size=50%% in its /etc/fstab line",
                           dir, dir, dir);
}

static void shm_check(struct ctx *c, struct findings *fs)
{
        struct state st = {0};
        long pg = sysconf(_SC_PAGESIZE);
        st.page = pg > 0 ? (uint64_t)pg : 4096;
        size_t list_max = (size_t)conf_uint(c, "list_max");
        size_t scan_max = (size_t)conf_uint(c, "scan_max");
        /* A floor so a maps file is never read as nothing; a ceiling so a config typo
         * cannot make one process's maps cost gigabytes. */
        size_t maps_max = (size_t)conf_uint(c, "maps_max_kb") * 1024;
        if (maps_max < 1024)
                maps_max = 1024;

        if (proctable_load(&st.procs) < 0)
                proctable_free(&st.procs); /* then no liveness or mappers: said as such */
        if (st.procs.n)
                qsort(st.procs.v, st.procs.n, sizeof(*st.procs.v), by_pid);
        st.users = users_load();

        load_sysv(&st);
        load_posix(&st, scan_max);
        scan_maps(&st, maps_max);

        report_sysv(&st, fs, list_max);
        check_orphans(c, &st, fs);
        check_limits(c, &st, fs);
        report_posix(&st, fs, list_max, scan_max);
        check_world_writable(&st, fs);
        check_mappers(c, &st, fs, maps_max);
        struct shm_mount m = {0};
        bool mounted;
        check_tmpfs(&st, fs, &m, &mounted);
        check_tmpfs_usage(c, &st, fs, &m, mounted);
        shm_mount_free(&m);

        for (size_t i = 0; i < st.nsegs; i++)
                free(st.segs[i].att.v);
        free(st.segs);
        for (size_t i = 0; i < st.nobjs; i++) {
                free(st.objs[i].raw);
                free(st.objs[i].link);
                free(st.objs[i].map.v);
        }
        free(st.objs);
        free(st.dir);
        users_free(st.users);
        proctable_free(&st.procs);
}

/* ---- watch ---- */

struct shm_watch {
        struct sfile sysv, mni;
        char *buf;
        size_t cap;
        char *dir; /* /dev/shm after symlinks, from the last rescan */
        int dir_err;
};

/* SysV segments (count, bytes, unattached; shm.orphaned per segment on the live
 * system; shm.shmmni) from /proc/sysvipc/shm, whose size grows with the segments
 * watched, and the POSIX objects in /dev/shm with how full it is
 * (shm.tmpfs_usage, live only). */
static void shm_sample(struct ctx *c, struct sample *s)
{
        struct shm_watch *w = c->state;
        if (!w)
                w = c->state = xcalloc(1, sizeof(*w));
        if (sample_rescan_due(c)) {
                free(w->dir);
                w->dir = resolve_dir(SHM_DIR, &w->dir_err);
        }
        if (!w->cap) {
                w->cap = 64 << 10;
                w->buf = xmalloc(w->cap);
        }
        long r;
        while ((r = sfile_read(&w->sysv, "/proc/sysvipc/shm", w->buf, w->cap)) >= 0 && (size_t)r == w->cap - 1 &&
               w->cap < READ_MAX_DEFAULT) {
                w->cap *= 2;
                w->buf = xrealloc(w->buf, w->cap);
        }
        struct sysv_shm *v = NULL;
        size_t bad = 0;
        int n = r >= 0 ? sysvipc_shm_parse(w->buf, &v, &bad) : (int)r;
        if (n < 0) {
                sample_status(s, "shm.sysv_segments", NULL, SEV_UNKNOWN, "cannot %s /proc/sysvipc/shm%s%s", r < 0 ? "read" : "parse",
                              r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
        } else {
                uint64_t bytes = 0, unattached = 0, crit = conf_uint(c, "orphan_crit_mb") * 1048576;
                for (int i = 0; i < n; i++) {
                        bytes += v[i].size;
                        if (v[i].nattch)
                                continue;
                        unattached++;
                        /* Whether the creator lives is only known on the live system. */
                        if (rootfs_is_live() && shm_sysv_orphaned(&v[i], pid_alive(v[i].cpid), pid_alive(v[i].lpid))) {
                                char subj[32], sz[32];
                                snprintf(subj, sizeof(subj), "shmid %d", v[i].shmid);
                                sample_status(s, "shm.orphaned", subj, shm_orphan_sev(v[i].size, crit),
                                              "shmid %d (%s) is orphaned: nattch 0, creator pid %d gone", v[i].shmid,
                                              fmt_bytes(v[i].size, sz), v[i].cpid);
                        }
                }
                sample_value(s, "shm.sysv_segments", NULL, n, "segments");
                sample_value(s, "shm.sysv_bytes", NULL, (double)bytes, "bytes");
                sample_value(s, "shm.sysv_unattached", NULL, (double)unattached, "segments");
                char buf[64];
                uint64_t mni;
                if (sfile_read(&w->mni, "/proc/sys/kernel/shmmni", buf, sizeof(buf)) >= 0 && parse_u64(buf, &mni) == 0)
                        sample_status(s, "shm.shmmni", NULL,
                                      shm_limit_sev((uint64_t)n, mni, conf_num(c, "limit_warn_pct"), conf_num(c, "limit_crit_pct")),
                                      "%d SysV %s of kernel.shmmni = %" PRIu64, n, n == 1 ? "segment" : "segments", mni);
        }
        free(v);
        if (w->dir_err < 0)
                return;
        size_t objs = 0, max = (size_t)conf_uint(c, "scan_max");
        struct rootfs_dir *d = rootfs_opendir(w->dir);
        if (d) {
                while (rootfs_readdir(d) && objs < max)
                        objs++;
                rootfs_closedir(d);
                sample_value(s, "shm.posix_objects", NULL, (double)objs, "objects");
        }
        struct statvfs sv;
        if (rootfs_is_live() && statvfs(w->dir, &sv) == 0 && sv.f_blocks) {
                double pct = 100.0 * (double)(sv.f_blocks - sv.f_bfree) / (double)sv.f_blocks;
                double ipct = sv.f_files ? 100.0 * (double)(sv.f_files - sv.f_ffree) / (double)sv.f_files : 0;
                double worst = pct > ipct ? pct : ipct;
                sample_value(s, "shm.tmpfs_used_pct", NULL, pct, "%");
                sample_status(s, "shm.tmpfs_usage", NULL, shm_usage_sev(worst, conf_num(c, "tmpfs_warn_pct"), conf_num(c, "tmpfs_crit_pct")),
                              "%s: %.1f%% of its space and %.1f%% of its inodes used", w->dir, pct, ipct);
        }
}

const struct collector shm_collector = {
        .name = "shm",
        .summary = "SysV segments and /dev/shm: orphans, modes, mappers, limits, tmpfs",
        .checks = checks,
        .config = config,
        .check = shm_check,
        .sample = shm_sample,
};
