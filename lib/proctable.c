#include "config.h"
#include "lib/proctable.h"
#include "lib/dircount.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libproc2/pids.h>

#define PROCS_MAX 1000000 /* pid_max ceiling: never trust a tree to be small */

static void push(struct proctable *t, size_t *cap, const struct proc *p, pid_t self, pid_t parent)
{
        /* evodiag (this collector child and its parent) is not part of the host it diagnoses. */
        if (rootfs_is_live() && (p->pid == self || p->pid == parent)) {
                free(p->cmdline);
                return;
        }
        if (t->n == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                t->v = xrealloc(t->v, *cap * sizeof(*t->v));
        }
        t->v[t->n++] = *p;
}

/* argv is NUL-separated; show it the way ps does. */
static char *join_cmdline(const char *raw, long n)
{
        char *s = xmalloc((size_t)n + 1);
        for (long i = 0; i < n; i++)
                s[i] = raw[i] ? raw[i] : ' ';
        while (n > 0 && s[n - 1] == ' ')
                n--;
        s[n] = 0;
        return s;
}

/* libproc2: the live system. */
static int load_live(struct proctable *t)
{
        pid_t self = getpid(), parent = getppid();
        enum pids_item items[] = {PIDS_ID_PID,    PIDS_ID_PPID,     PIDS_ID_EUID, PIDS_CMD,
                                  PIDS_STATE,     PIDS_SCHED_CLASS, PIDS_PRIORITY_RT, PIDS_NICE,
                                  PIDS_NLWP,      PIDS_VM_RSS,      PIDS_VM_RSS_LOCKED, PIDS_FLAGS};
        enum { I_PID, I_PPID, I_EUID, I_CMD, I_STATE, I_POL, I_RTP, I_NICE, I_NLWP, I_RSS, I_LCK, I_FLAGS };
        struct pids_info *info = NULL;
        int r = procps_pids_new(&info, items, (int)ARRAY_SIZE(items));
        if (r < 0)
                return r;
        struct pids_fetch *f = procps_pids_reap(info, PIDS_FETCH_TASKS_ONLY);
        if (!f) {
                procps_pids_unref(&info);
                return -EIO;
        }
        size_t cap = 0;
        for (int i = 0; i < f->counts->total && t->n < PROCS_MAX; i++) {
                struct pids_stack *s = f->stacks[i];
                struct proc p = {0};
                p.pid = PIDS_VAL(I_PID, s_int, s, info);
                p.ppid = PIDS_VAL(I_PPID, s_int, s, info);
                p.euid = PIDS_VAL(I_EUID, u_int, s, info);
                snprintf(p.comm, sizeof(p.comm), "%s", PIDS_VAL(I_CMD, str, s, info));
                p.state = PIDS_VAL(I_STATE, s_ch, s, info);
                p.policy = (unsigned)PIDS_VAL(I_POL, s_int, s, info);
                p.rtprio = (unsigned)PIDS_VAL(I_RTP, s_int, s, info);
                p.nice = PIDS_VAL(I_NICE, s_int, s, info);
                p.nlwp = PIDS_VAL(I_NLWP, s_int, s, info);
                p.rss = (uint64_t)PIDS_VAL(I_RSS, ul_int, s, info) * 1024;
                p.vmlck = (uint64_t)PIDS_VAL(I_LCK, ul_int, s, info) * 1024;
                p.kthread = proc_flags_kthread(PIDS_VAL(I_FLAGS, ul_int, s, info));
                push(t, &cap, &p, self, parent);
        }
        procps_pids_unref(&info);
        /* The command line is read here, not through libproc2, so that a process
         * exiting between the two reads just has an empty one. */
        for (size_t i = 0; i < t->n; i++) {
                char path[64], *raw;
                snprintf(path, sizeof(path), "/proc/%d/cmdline", t->v[i].pid);
                long n = rootfs_read(path, 4096, &raw, NULL);
                t->v[i].cmdline = n > 0 ? join_cmdline(raw, n) : xstrdup("");
                free(raw);
        }
        return 0;
}

/* ROOT/proc: fixture trees and unpacked bundles. */
static int load_tree(struct proctable *t)
{
        pid_t self = getpid(), parent = getppid();
        struct rootfs_dir *d = rootfs_opendir("/proc");
        if (!d)
                return -errno;
        size_t cap = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d)) && t->n < PROCS_MAX) {
                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                char path[300];
                _cleanup_free_ char *stat = NULL, *status = NULL, *raw = NULL;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                struct proc_stat ps;
                if (rootfs_read(path, 4096, &stat, NULL) < 0 || proc_stat_parse(stat, &ps) < 0)
                        continue; /* vanished or garbage: not a process we can speak about */
                struct proc p = {.pid = ps.pid, .ppid = ps.ppid, .state = ps.state, .policy = ps.policy,
                                 .rtprio = ps.rt_priority, .nice = (int)ps.nice, .nlwp = (int)ps.num_threads,
                                 .kthread = proc_flags_kthread(ps.flags)};
                snprintf(p.comm, sizeof(p.comm), "%s", ps.comm);
                snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
                if (rootfs_read(path, 64 << 10, &status, NULL) >= 0) {
                        static const char *const keys[] = {"Uid", "VmRSS", "VmLck", NULL};
                        struct kvlist kv;
                        kv_parse_keys(status, ':', keys, &kv);
                        const char *uid = kv_get(&kv, "Uid");
                        unsigned ruid, euid;
                        if (uid && sscanf(uid, "%u %u", &ruid, &euid) == 2)
                                p.euid = euid;
                        (void)kv_get_u64(&kv, "VmRSS", &p.rss);
                        (void)kv_get_u64(&kv, "VmLck", &p.vmlck);
                        kv_free(&kv);
                }
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                long n = rootfs_read(path, 4096, &raw, NULL);
                p.cmdline = n > 0 ? join_cmdline(raw, n) : xstrdup("");
                push(t, &cap, &p, self, parent);
        }
        rootfs_closedir(d);
        return 0;
}

/* One snapshot of the process table for all collectors of a run (see proctable_preload). */
static struct proctable preloaded;
static bool have_preloaded;

static int by_pid(const void *a, const void *b)
{
        int x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
        return (x > y) - (x < y);
}

const struct proc *proctable_find(const struct proctable *t, int pid)
{
        struct proc key = {.pid = pid};
        return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), by_pid) : NULL;
}

static void copy_table(struct proctable *dst, const struct proctable *src)
{
        dst->n = src->n;
        dst->v = xcalloc(src->n + 1, sizeof(*dst->v));
        for (size_t i = 0; i < src->n; i++) {
                dst->v[i] = src->v[i];
                dst->v[i].cmdline = xstrdup(src->v[i].cmdline ? src->v[i].cmdline : "");
        }
}

void proctable_preload(const struct proctable *t)
{
        proctable_free(&preloaded);
        copy_table(&preloaded, t);
        have_preloaded = true;
}

json_object *proctable_to_json(const struct proctable *t)
{
        json_object *a = json_object_new_array_ext((int)t->n);
        for (size_t i = 0; i < t->n; i++) {
                const struct proc *p = &t->v[i];
                /* Positional, to keep a 1,000-process table small and quick to parse. */
                json_object *r = json_object_new_array_ext(13);
                json_object_array_add(r, json_object_new_int(p->pid));
                json_object_array_add(r, json_object_new_int(p->ppid));
                json_object_array_add(r, json_object_new_int64(p->euid));
                json_object_array_add(r, json_object_new_string(p->comm));
                json_object_array_add(r, json_object_new_string(p->cmdline ? p->cmdline : ""));
                json_object_array_add(r, json_object_new_int(p->state));
                json_object_array_add(r, json_object_new_int64(p->policy));
                json_object_array_add(r, json_object_new_int64(p->rtprio));
                json_object_array_add(r, json_object_new_int(p->nice));
                json_object_array_add(r, json_object_new_int(p->nlwp));
                json_object_array_add(r, json_object_new_int64((int64_t)p->rss));
                json_object_array_add(r, json_object_new_int64((int64_t)p->vmlck));
                json_object_array_add(r, json_object_new_boolean(p->kthread));
                json_object_array_add(a, r);
        }
        return a;
}

int proctable_from_json(json_object *a, struct proctable *t)
{
        *t = (struct proctable){0};
        if (!json_object_is_type(a, json_type_array))
                return -EINVAL;
        size_t n = json_object_array_length(a);
        t->v = xcalloc(n + 1, sizeof(*t->v));
        for (size_t i = 0; i < n; i++) {
                json_object *r = json_object_array_get_idx(a, i);
                if (!json_object_is_type(r, json_type_array) || json_object_array_length(r) != 13) {
                        proctable_free(t);
                        return -EINVAL;
                }
#define F(k) json_object_array_get_idx(r, k)
                struct proc *p = &t->v[t->n++];
                p->pid = json_object_get_int(F(0));
                p->ppid = json_object_get_int(F(1));
                p->euid = (unsigned)json_object_get_int64(F(2));
                snprintf(p->comm, sizeof(p->comm), "%s", json_object_get_string(F(3)) ? json_object_get_string(F(3)) : "");
                p->cmdline = xstrdup(json_object_get_string(F(4)) ? json_object_get_string(F(4)) : "");
                p->state = (char)json_object_get_int(F(5));
                p->policy = (unsigned)json_object_get_int64(F(6));
                p->rtprio = (unsigned)json_object_get_int64(F(7));
                p->nice = json_object_get_int(F(8));
                p->nlwp = json_object_get_int(F(9));
                p->rss = (uint64_t)json_object_get_int64(F(10));
                p->vmlck = (uint64_t)json_object_get_int64(F(11));
                p->kthread = json_object_get_boolean(F(12));
#undef F
        }
        return 0;
}

int proctable_load(struct proctable *t)
{
        *t = (struct proctable){0};
        if (have_preloaded && !rootfs_tracing()) {
                copy_table(t, &preloaded);
                return 0;
        }
        /* In a bundle (tracing), read /proc through rootfs like everything else: the
         * files go into the bundle and every collector sees the same snapshot. */
        int r = rootfs_is_live() && !rootfs_tracing() ? load_live(t) : load_tree(t);
        /* Sorted by pid, whatever order /proc listed them in: proctable_find bsearches. */
        if (r == 0 && t->n > 1)
                qsort(t->v, t->n, sizeof(*t->v), by_pid);
        return r;
}

void proctable_free(struct proctable *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->v[i].cmdline);
        free(t->v);
        *t = (struct proctable){0};
}

const char *sched_policy_name(unsigned policy)
{
        static const char *const n[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
                                        "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
        return policy < ARRAY_SIZE(n) ? n[policy] : "SCHED_UNKNOWN";
}

bool sched_policy_is_rt(unsigned policy)
{
        return policy == 1 || policy == 2 || policy == 6;
}

int proc_affinity(int pid, struct cpuset *set)
{
        char path[64];
        _cleanup_free_ char *status = NULL;
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        long r = rootfs_read(path, 64 << 10, &status, NULL);
        if (r < 0)
                return (int)r;
        struct kvlist kv;
        kv_parse(status, ':', &kv);
        const char *l = kv_get(&kv, "Cpus_allowed_list");
        int ret = l ? cpulist_parse(l, set) : -ENOENT;
        kv_free(&kv);
        return ret;
}

int proc_limit(int pid, const char *name, uint64_t *soft, uint64_t *hard)
{
        char path[64];
        _cleanup_free_ char *text = NULL;
        snprintf(path, sizeof(path), "/proc/%d/limits", pid);
        long r = rootfs_read(path, 64 << 10, &text, NULL);
        if (r < 0)
                return (int)r;
        return limits_get(text, name, soft, hard);
}

long proc_fd_count(int pid, bool *at_least)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", pid);
        return dir_count(path, at_least);
}

long proc_map_count(int pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/maps", pid);
        return rootfs_count_lines(path);
}

bool proc_exists(int pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", pid);
        return pid > 0 && rootfs_exists(path);
}

void proc_maps_walk(const struct proctable *t, size_t max_bytes, const char *needle,
                    bool (*on_line)(const struct proc *p, char *line, void *arg), void *arg, struct maps_walk *w)
{
        *w = (struct maps_walk){0};
        for (size_t i = 0; i < t->n; i++) {
                const struct proc *p = &t->v[i];
                if (p->kthread)
                        continue;
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
                _cleanup_free_ char *text = NULL;
                bool trunc = false;
                long r = rootfs_read(path, max_bytes, &text, &trunc);
                if (r == -ENOENT || r == -ESRCH)
                        continue; /* exited since the table was read */
                if (r < 0) {
                        if (!w->unreadable++) {
                                w->first_unreadable = p->pid;
                                w->first_unreadable_err = (int)r;
                        }
                        continue;
                }
                w->scanned++;
                if (trunc && !w->truncated++)
                        w->first_truncated = p->pid;
                if (needle && !strstr(text, needle))
                        continue;
                bool any = false;
                size_t pos = 0;
                char *line;
                while ((line = next_line(text, &pos))) {
                        if (trunc && !text[pos])
                                break; /* a line cut by the size cap is not a line to trust */
                        any |= on_line(p, line, arg);
                }
                w->matching += any;
        }
}
