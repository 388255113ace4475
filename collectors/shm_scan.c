/* shm: reading what there is. The SysV segments (/proc/sysvipc/shm), the POSIX
 * objects in /dev/shm (lstat only: never opened, links not followed), and every
 * process's /proc/PID/maps for who maps which of them. shm.c judges it. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/shm.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/users.h"

#include <errno.h>
#include <unistd.h>
#include <inttypes.h>

#define MAPPERS_SHOWN 8

static void pids_add(struct shm_pids *l, int pid)
{
        if (l->n && l->v[l->n - 1] == pid) /* one process, several mappings */
                return;
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 4;
                l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = pid;
}

const struct proc *shm_proc(const struct shm_state *st, int pid) { return proctable_find(&st->procs, pid); }

static int by_shmid(const void *a, const void *b)
{
        const struct shm_seg *x = a, *y = b;
        return (x->s.shmid > y->s.shmid) - (x->s.shmid < y->s.shmid);
}

static int by_name(const void *a, const void *b)
{
        const struct shm_obj *x = a, *y = b;
        return strcmp(x->raw, y->raw);
}

char *shm_owner(const struct shm_state *st, unsigned uid, unsigned gid) { return users_owner(st->users, uid, gid); }

/* "pid 12 (evo_cu), pid 40 (lavinmq) and 3 more" */
void shm_put_pids(const struct shm_state *st, struct strbuf *b, const struct shm_pids *l)
{
        for (size_t i = 0; i < l->n && i < MAPPERS_SHOWN; i++) {
                const struct proc *p = shm_proc(st, l->v[i]);
                _cleanup_free_ char *comm = p ? str_printable(p->comm) : NULL;
                sb_printf(b, "%spid %d", i ? ", " : "", l->v[i]);
                if (comm)
                        sb_printf(b, " (%s)", comm);
        }
        if (l->n > MAPPERS_SHOWN)
                sb_printf(b, " and %zu more", l->n - MAPPERS_SHOWN);
}

/* What the scan can say about an object nobody was seen mapping. */
const char *shm_nobody_seen(const struct shm_state *st)
{
        if (st->mw.unreadable) /* as root it is not about other users: an LSM, another namespace, a refused file */
                return geteuid() == 0 ? "mappers unknown (some processes' maps not readable, even as root: see shm.mappers)"
                                      : "mappers unknown (other users' maps not readable)";
        if (st->mw.truncated)
                return "no mapper found (some maps read only in part)";
        return "mapped by no process";
}

static void load_sysv(struct shm_state *st)
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
char *shm_resolve_dir(const char *path, int *err)
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

static struct shm_obj *obj_new(struct shm_state *st)
{
        if (st->nobjs == st->objs_cap) {
                st->objs_cap = st->objs_cap ? st->objs_cap * 2 : 32;
                st->objs = xrealloc(st->objs, st->objs_cap * sizeof(*st->objs));
        }
        struct shm_obj *o = &st->objs[st->nobjs++];
        *o = (struct shm_obj){0};
        return o;
}

static void load_posix(struct shm_state *st, size_t scan_max)
{
        st->dir = shm_resolve_dir(SHM_DIR, &st->dir_err);
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
                struct shm_obj *o = obj_new(st);
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
        const char *m = ((const struct shm_obj *)e)->raw;
        int c = strncmp(key->name, m, key->len);
        return c ? c : m[key->len] ? -1 : 0;
}

static struct shm_obj *obj_find(struct shm_state *st, const char *name, size_t len, bool deleted, uint64_t ino)
{
        if (!deleted) {
                struct name_key key = {name, len};
                return st->nlisted ? bsearch(&key, st->objs, st->nlisted, sizeof(*st->objs), obj_by_key) : NULL;
        }
        /* Unlinked objects are few: a linear search, and a new entry for each one. */
        for (size_t i = st->nlisted; i < st->nobjs; i++) {
                struct shm_obj *o = &st->objs[i];
                if (o->ino == ino && strlen(o->raw) == len && !memcmp(o->raw, name, len))
                        return o;
        }
        struct shm_obj *o = obj_new(st);
        o->raw = xstrndup(name, len);
        o->deleted = true;
        o->ino = ino;
        return o;
}

static int seg_by_shmid(const void *k, const void *e)
{
        uint64_t want = *(const uint64_t *)k, id = (uint64_t)(int64_t)((const struct shm_seg *)e)->s.shmid;
        return (want > id) - (want < id);
}

static struct shm_seg *seg_find(struct shm_state *st, uint64_t shmid)
{
        return st->nsegs ? bsearch(&shmid, st->segs, st->nsegs, sizeof(*st->segs), seg_by_shmid) : NULL;
}

static bool map_line(const struct proc *p, char *line, void *arg)
{
        struct shm_state *st = arg;
        struct shm_map_ref ref;
        int k = shm_maps_line(line, st->dir ? st->dir : SHM_DIR, &ref);
        if (k == SHM_MAP_POSIX) {
                struct shm_obj *o = obj_find(st, ref.name, ref.name_len, ref.deleted, ref.inode);
                if (o) {
                        pids_add(&o->map, p->pid);
                        return true;
                }
        } else if (k == SHM_MAP_SYSV) {
                struct shm_seg *s = seg_find(st, ref.inode);
                if (s) {
                        pids_add(&s->att, p->pid);
                        return true;
                }
        }
        return false;
}

/* Every process's maps: who maps which /dev/shm object and SysV segment. Always
 * done, because objects unlinked while mapped are only visible here. */
static void scan_maps(struct shm_state *st, size_t max_bytes)
{
        proc_maps_walk(&st->procs, max_bytes, NULL, map_line, st, &st->mw);
}

bool shm_pid_alive(int pid)
{
        return pid > 0 && proc_exists(pid);
}

void shm_state_load(struct shm_state *st, size_t scan_max, size_t maps_max)
{
        *st = (struct shm_state){0};
        long pg = sysconf(_SC_PAGESIZE);
        st->page = pg > 0 ? (uint64_t)pg : 4096;
        if (proctable_load(&st->procs) < 0)
                proctable_free(&st->procs); /* then no liveness or mappers: said as such */
        st->users = users_load();
        load_sysv(st);
        load_posix(st, scan_max);
        scan_maps(st, maps_max);
}

void shm_state_free(struct shm_state *st)
{
        for (size_t i = 0; i < st->nsegs; i++)
                free(st->segs[i].att.v);
        free(st->segs);
        for (size_t i = 0; i < st->nobjs; i++) {
                free(st->objs[i].raw);
                free(st->objs[i].link);
                free(st->objs[i].map.v);
        }
        free(st->objs);
        free(st->dir);
        users_free(st->users);
        proctable_free(&st->procs);
        *st = (struct shm_state){0};
}
