/* Helpers for collectors' sample(): see collectors/sample_util.h. */
#include "config.h"
#include "collectors/sample_util.h"
#include "lib/dircount.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t sampler_rescan_ms = 120000; /* 2 min: with 1,000 processes a rescan costs ~0.2 s of CPU */


void sfile_init(struct sfile *f)
{
        *f = (struct sfile){.fd = -1};
}

long sfile_read(struct sfile *f, const char *path, char *buf, size_t size)
{
        if (size < 2)
                return -EINVAL;
        if (!rootfs_is_live()) {
                /* A fixture tree or bundle: through rootfs like every other read, so a
                 * file the test replaced is seen and injected errors apply. */
                char *text = NULL;
                long n = rootfs_read(path, size - 1, &text, NULL);
                if (n >= 0)
                        memcpy(buf, text, (size_t)n + 1);
                free(text);
                return n;
        }
        if (!f->opened) {
                int fd = rootfs_open_file(path, 0); /* a regular file, or refused at once */
                if (fd < 0)
                        return fd;
                f->fd = fd;
                f->opened = true;
        }
        ssize_t n;
        do
                n = pread(f->fd, buf, size - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int e = errno;
                sfile_close(f); /* reopened next time, unless the process is gone */
                return -e;
        }
        buf[n] = 0;
        return n;
}

/* Calls fn(name, arg) for every entry of the open directory fd, listed with getdents64
 * into a 64 KiB buffer: no DIR, no copy of the names, no allocation per entry (the
 * live /proc). 0 or -errno. */
static long dir_each(int fd, void (*fn)(const char *name, void *arg), void *arg)
{
        char buf[65536] __attribute__((aligned(8)));
        for (;;) {
                long got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
                if (got < 0)
                        return -errno;
                if (got == 0)
                        return 0;
                for (long off = 0; off < got;) {
                        struct {
                                uint64_t ino;
                                int64_t off;
                                unsigned short reclen;
                                unsigned char type;
                                char name[];
                        } *d = (void *)(buf + off);
                        fn(d->name, arg);
                        off += d->reclen;
                }
        }
}

static void count_entry(const char *name, void *arg)
{
        if (!(name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))))
                ++*(long *)arg;
}

long sfile_count_dir(struct sfile *f, const char *path)
{
        if (!rootfs_is_live()) {
                /* A listing cut at its bound is no count: an error (unknown), never a
                 * smaller number that could read as ok. */
                bool at_least = false;
                long n = dir_count(path, &at_least);
                return n >= 0 && at_least ? -EFBIG : n;
        }
        if (!f->opened) {
                f->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (f->fd < 0)
                        return -errno;
                f->opened = true;
        }
        if (lseek(f->fd, 0, SEEK_SET) < 0) {
                int e = errno;
                sfile_close(f);
                return -e;
        }
        long n = 0, e = dir_each(f->fd, count_entry, &n);
        if (e < 0) {
                sfile_close(f);
                return e;
        }
        return n;
}

void sfile_close(struct sfile *f)
{
        if (f->opened && f->fd >= 0)
                close(f->fd);
        sfile_init(f);
}

long sfile_read_grow(struct sfile *f, const char *path, char **buf, size_t *cap, size_t max)
{
        if (!*cap) {
                *cap = 64 << 10;
                *buf = xmalloc(*cap);
        }
        for (;;) {
                long n = sfile_read(f, path, *buf, *cap);
                if (n < 0 || (size_t)n < *cap - 1 || *cap >= max)
                        return n;
                *cap *= 2;
                *buf = xrealloc(*buf, *cap);
        }
}

void *sample_state(struct ctx *c, size_t size)
{
        if (!c->state)
                c->state = xcalloc(1, size);
        return c->state;
}

bool sample_count_due(uint64_t *last_ms, double pct, double warn_pct)
{
        uint64_t now = now_ms_monotonic();
        if (*last_ms && rootfs_is_live() && pct < warn_pct / 2 && now - *last_ms < SAMPLE_SLOW_MS)
                return false;
        *last_ms = now;
        return true;
}

bool sample_rescan_due(const struct ctx *c)
{
        uint64_t every = c->interval_ms ? sampler_rescan_ms / c->interval_ms : 1;
        return c->sample_no == 0 || every <= 1 || c->sample_no % every == 0;
}

bool sample_proc_is_ours(void)
{
        static int ours; /* 0: not decided yet */
        if (!rootfs_is_live())
                return false;
        if (!ours) {
                char self[32];
                ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
                char *end = NULL;
                if (n > 0)
                        self[n] = 0;
                ours = n > 0 && strtol(self, &end, 10) == (long)getpid() && !*end ? 1 : -1;
        }
        return ours > 0;
}

bool sample_is_self(const struct proc *p)
{
        if (!rootfs_is_live())
                return false;
        pid_t parent = getppid();
        return p->pid == getpid() || p->pid == parent || p->ppid == parent;
}

struct pidlist {
        int *v;
        size_t n, cap;
};

static void pid_entry(const char *name, void *arg)
{
        struct pidlist *l = arg;
        if (*name < '1' || *name > '9')
                return;
        long pid = 0;
        while (*name >= '0' && *name <= '9' && pid <= INT32_MAX)
                pid = pid * 10 + (*name++ - '0');
        if (*name || pid > INT32_MAX)
                return;
        if (l->n == l->cap)
                l->v = xrealloc(l->v, (l->cap *= 2) * sizeof(*l->v));
        l->v[l->n++] = (int)pid;
}

int *sample_pids(size_t *n)
{
        *n = 0;
        size_t cap = 256;
        int *v = xmalloc(cap * sizeof(*v));
        if (rootfs_is_live()) {
                /* getdents64 into one buffer: no rootfs copy of the names */
                struct pidlist l = {.v = v, .cap = cap};
                int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)dir_each(fd, pid_entry, &l);
                        close(fd);
                }
                *n = l.n;
                return l.v;
        }
        struct rootfs_dir *d = rootfs_opendir("/proc");
        if (!d)
                return v;
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0 || pid > INT32_MAX)
                        continue;
                if (*n == cap)
                        v = xrealloc(v, (cap *= 2) * sizeof(*v));
                v[(*n)++] = (int)pid;
        }
        rootfs_closedir(d);
        return v;
}

static int int_cmp(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return x < y ? -1 : x > y;
}

static void young_add(struct pidwatch *pw, int pid, uint64_t now, uint64_t first)
{
        if (pw->nyoung == SAMPLE_YOUNG_MAX) { /* the oldest goes: the newest matter most */
                memmove(pw->young, pw->young + 1, (SAMPLE_YOUNG_MAX - 1) * sizeof(*pw->young));
                memmove(pw->young_since, pw->young_since + 1, (SAMPLE_YOUNG_MAX - 1) * sizeof(*pw->young_since));
                memmove(pw->young_next, pw->young_next + 1, (SAMPLE_YOUNG_MAX - 1) * sizeof(*pw->young_next));
                pw->nyoung--;
        }
        pw->young[pw->nyoung] = pid;
        pw->young_next[pw->nyoung] = now + first;
        pw->young_since[pw->nyoung++] = now;
}

void pidwatch_drop(struct pidwatch *pw, int pid)
{
        for (size_t i = 0; i < pw->nyoung; i++)
                if (pw->young[i] == pid) {
                        memmove(pw->young + i, pw->young + i + 1, (pw->nyoung - i - 1) * sizeof(*pw->young));
                        memmove(pw->young_since + i, pw->young_since + i + 1, (pw->nyoung - i - 1) * sizeof(*pw->young_since));
                        memmove(pw->young_next + i, pw->young_next + i + 1, (pw->nyoung - i - 1) * sizeof(*pw->young_next));
                        pw->nyoung--;
                        return;
                }
}

/* The kernel's last pid from /proc/loadavg's last field, or 0 when it cannot be read. */
static long loadavg_last_pid(struct pidwatch *pw)
{
        char buf[128];
        if (sfile_read(&pw->loadavg, "/proc/loadavg", buf, sizeof(buf)) <= 0)
                return 0;
        const char *last = strrchr(buf, ' ');
        if (!last)
                return 0;
        char *end;
        errno = 0;
        long pid = strtol(last + 1, &end, 10);
        if (errno || end == last + 1 || (*end && *end != '\n') || pid <= 0 || pid > INT32_MAX)
                return 0;
        return pid;
}

static uint64_t now_ticks(void)
{
        struct timespec ts;
        long hz = sysconf(_SC_CLK_TCK);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * (uint64_t)hz + (uint64_t)ts.tv_nsec / (1000000000u / (uint64_t)hz);
}

/* pid was handed out in the cycle's range (from, to]: after `from`, up to `to`,
 * wrapping at pid_max when to < from. */
static bool in_range(int pid, long from, long to)
{
        return to >= from ? pid > from && pid <= to : pid > from || pid <= to;
}

/* A known pid in the range handed out since the last look: the process the last
 * look saw (the cycle passed over it), or a new one with its pid. Its start time
 * (clock ticks since boot; monotonic ticks are at most boot time ones, so a new
 * process never looks older than the last look) says which. Gone: not new. */
/* /proc/PID/stat, parsed (one read, no file kept open). */
static bool pid_stat(int pid, struct proc_stat *ps)
{
        char path[64], buf[4096];
        struct sfile f = {0};
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        long r = sfile_read(&f, path, buf, sizeof(buf));
        sfile_close(&f);
        return r > 0 && proc_stat_parse(buf, ps) == 0;
}

static bool started_since(int pid, uint64_t since_ticks)
{
        struct proc_stat ps;
        return pid_stat(pid, &ps) && ps.starttime + 2 >= since_ticks;
}

/* Appends pid to out (max entries, the newest kept). */
static void keep_newest(int *out, size_t *k, size_t max, int pid)
{
        if (!max)
                return;
        if (*k == max) {
                memmove(out, out + 1, (max - 1) * sizeof(*out));
                (*k)--;
        }
        out[(*k)++] = pid;
}

/* The listing itself: the pids listed now that were not known, or were known but are
 * in the range (from, to] handed out since the last look and started since its time
 * (clock ticks; from 0: no range). */
static size_t list_new(struct pidwatch *pw, int *out, size_t max, long from, long to, uint64_t since)
{
        size_t k = 0;
        size_t n;
        int *pids = sample_pids(&n);
        bool sorted = true; /* the live /proc lists pids in order: no sort needed */
        for (size_t i = 1; i < n && sorted; i++)
                sorted = pids[i - 1] < pids[i];
        if (!sorted)
                qsort(pids, n, sizeof(*pids), int_cmp);
        /* Both sorted: what is in the new listing and not in the old one started since. */
        for (size_t i = 0, j = 0; pw->primed && i < n; i++) {
                while (j < pw->nknown && pw->known[j] < pids[i])
                        j++;
                if (j == pw->nknown || pw->known[j] != pids[i] ||
                    (from && in_range(pids[i], from, to) && started_since(pids[i], since)))
                        keep_newest(out, &k, max, pids[i]);
        }
        free(pw->known);
        pw->known = pids;
        pw->nknown = n;
        pw->probed = 0;
        pw->primed = true;
        return k;
}

#define PROBE_KNOWN_MAX 4096 /* pids added to known by probes before /proc is listed again */

/* Whether pids can be probed here instead of listed: the live system, pidfd_open(),
 * and /proc showing this process's own pid namespace (the one /proc/loadavg and
 * pidfd_open() count in). Decided once. */
static bool probe_works(struct pidwatch *pw)
{
        if (pw->probe)
                return pw->probe > 0;
        pw->probe = -1;
#ifdef SYS_pidfd_open
        if (!sample_proc_is_ours())
                return false;
        int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (fd < 0)
                return false;
        close(fd);
        pw->probe = 1;
#endif
        return pw->probe > 0;
}

/* The pids handed out in (from, to] that are processes now (not threads, not gone)
 * and new: not known, or known and started since the last look. Adds them to known.
 * -1 when a probe was refused (then list instead). */
static long probe_new(struct pidwatch *pw, long from, long to, uint64_t since, int *out, size_t max)
{
#ifdef SYS_pidfd_open
        size_t k = 0, nadd = 0;
        int add[256];
        for (long pid = from + 1; pid <= to; pid++) {
                int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
                if (fd < 0) {
                        /* gone, exiting (recent kernels say ENOENT), or a thread (no thread group leader) */
                        if (errno == ESRCH || errno == ENOENT || errno == EINVAL)
                                continue;
                        if (errno == ENOSYS || errno == EPERM) /* refused here (seccomp): list from now on */
                                pw->probe = -1;
                        return -1; /* out of fds or memory: list this time */
                }
                close(fd);
                int p = (int)pid;
                bool known = bsearch(&p, pw->known, pw->nknown, sizeof(*pw->known), int_cmp) != NULL;
                if (known && !started_since(p, since))
                        continue; /* the cycle passed over it: it ran before */
                keep_newest(out, &k, max, p);
                if (known)
                        continue;
                if (nadd == sizeof(add) / sizeof(*add)) { /* into known, in order, in batches */
                        pw->known = xrealloc(pw->known, (pw->nknown + nadd) * sizeof(*pw->known));
                        memcpy(pw->known + pw->nknown, add, nadd * sizeof(*add));
                        pw->nknown += nadd;
                        qsort(pw->known, pw->nknown, sizeof(*pw->known), int_cmp);
                        nadd = 0;
                }
                add[nadd++] = p;
                pw->probed++;
        }
        if (nadd) {
                pw->known = xrealloc(pw->known, (pw->nknown + nadd) * sizeof(*pw->known));
                memcpy(pw->known + pw->nknown, add, nadd * sizeof(*add));
                pw->nknown += nadd;
                qsort(pw->known, pw->nknown, sizeof(*pw->known), int_cmp);
        }
        return (long)k;
#else
        (void)pw, (void)from, (void)to, (void)since, (void)out, (void)max;
        return -1;
#endif
}

/* What started since the last look (pidwatch_new); *how: 0 nothing may have started
 * (the last pid did not move), 1 probed, 2 listed. The look's time is taken when it
 * is done: a process a listing saw (its pid may be past the last pid read) started
 * before it, so the next look does not count it again. */
static size_t look_new(struct pidwatch *pw, int *out, size_t max, int *how)
{
        *how = 2;
        if (!rootfs_is_live()) /* fixture trees: always listed, no range */
                return list_new(pw, out, max, 0, 0, 0);
        long from = pw->last_pid, to = loadavg_last_pid(pw);
        if (pw->primed && to && to == from) {
                *how = 0;
                return 0;
        }
        pw->last_pid = to;
        size_t k;
        long r = -1;
        if (pw->primed && from && to && to > from && (unsigned long)(to - from) <= pw->nknown &&
            pw->probed < PROBE_KNOWN_MAX && probe_works(pw))
                r = probe_new(pw, from, to, pw->look_ticks, out, max);
        if (r >= 0) {
                *how = 1;
                k = (size_t)r;
        } else if (!pw->primed || !from || !to) { /* the first look, or /proc/loadavg unreadable */
                k = list_new(pw, out, max, 0, 0, 0);
        } else {
                k = list_new(pw, out, max, from, to, pw->look_ticks);
        }
        pw->look_ticks = now_ticks();
        return k;
}

size_t pidwatch_new(struct pidwatch *pw, int *out, size_t max)
{
        int how;
        return look_new(pw, out, max, &how);
}

size_t pidwatch_settled(struct pidwatch *pw, int *out, size_t max)
{
        int fresh[SAMPLE_YOUNG_MAX], how;
        size_t nf = look_new(pw, fresh, SAMPLE_YOUNG_MAX, &how);
        size_t k = 0;
        for (size_t i = 0; i < pw->ncand && k < max; i++) {
                /* Not listed again (no process started): no new listing says it is gone.
                 * Probed: known holds the gone too, ask the kernel. */
                bool there = how == 0 ||
                             (how == 2 ? bsearch(&pw->cand[i], pw->known, pw->nknown, sizeof(*pw->known), int_cmp) != NULL
                                       : kill(pw->cand[i], 0) == 0 || errno == EPERM);
                if (there)
                        out[k++] = pw->cand[i];
        }
        memcpy(pw->cand, fresh, nf * sizeof(*fresh));
        pw->ncand = nf;
        return k;
}

size_t pidwatch_young(struct pidwatch *pw, const struct ctx *c, int *out)
{
        uint64_t now = now_ms_monotonic();
        int fresh[SAMPLE_YOUNG_MAX];
        size_t nf;
        /* The first look comes an interval after it was listed: most new processes
         * (a shell's commands, a compiler's passes) are gone by then and cost nothing.
         * watch's parent sends only those that lived that long (pidwatch_settled):
         * looked at now, as old as an interval. */
        uint64_t first = c->interval_ms ? c->interval_ms * 3 / 4 : 0;
        if (c->new_pids_known) {
                nf = c->n_new_pids < SAMPLE_YOUNG_MAX ? c->n_new_pids : SAMPLE_YOUNG_MAX;
                memcpy(fresh, c->new_pids + (c->n_new_pids - nf), nf * sizeof(*fresh));
                for (size_t i = 0; i < nf; i++)
                        young_add(pw, fresh[i], now > c->interval_ms ? now - c->interval_ms : 0, c->interval_ms);
        } else {
                nf = pidwatch_new(pw, fresh, SAMPLE_YOUNG_MAX);
                for (size_t i = 0; i < nf; i++)
                        young_add(pw, fresh[i], now, first);
        }
        /* A young pid that is gone is dropped by the collector when it cannot read it. */
        size_t k = 0;
        for (size_t i = 0; i < pw->nyoung;) {
                uint64_t age = now - pw->young_since[i];
                if (age > SAMPLE_YOUNG_MS) {
                        pidwatch_drop(pw, pw->young[i]);
                        continue;
                }
                if (now >= pw->young_next[i]) { /* the older, the less often: at twice its age */
                        out[k++] = pw->young[i];
                        pw->young_next[i] = now + age;
                }
                i++;
        }
        return k;
}

void pidwatch_free(struct pidwatch *pw)
{
        sfile_close(&pw->loadavg);
        free(pw->known);
        pw->known = NULL;
        pw->nknown = pw->nyoung = pw->probed = 0;
        pw->last_pid = 0;
        pw->primed = false;
}

bool sample_proc(int pid, struct proc *out)
{
        uint64_t vsize;
        return sample_proc_vsize(pid, out, &vsize);
}

bool sample_proc_vsize(int pid, struct proc *out, uint64_t *vsize)
{
        struct proc_stat ps;
        if (!pid_stat(pid, &ps))
                return false;
        *out = (struct proc){.pid = ps.pid, .ppid = ps.ppid, .state = ps.state, .policy = ps.policy, .rtprio = ps.rt_priority,
                             .nice = (int)ps.nice, .nlwp = (int)ps.num_threads};
        snprintf(out->comm, sizeof(out->comm), "%s", ps.comm);
        out->kthread = proc_flags_kthread(ps.flags);
        *vsize = ps.vsize;
        return true;
}

int sample_proctable(struct proctable *t)
{
        *t = (struct proctable){0};
        size_t n;
        _cleanup_free_ int *pids = sample_pids(&n);
        t->v = xcalloc(n + 1, sizeof(*t->v));
        for (size_t i = 0; i < n; i++) {
                struct proc p;
                if (!sample_proc(pids[i], &p) || sample_is_self(&p))
                        continue;
                p.cmdline = xstrdup("");
                t->v[t->n++] = p;
        }
        return 0;
}

void sproc_init(struct sproc *p, int pid, int tid, const char *comm, const char *tcomm)
{
        *p = (struct sproc){.pid = pid, .tid = tid ? tid : pid};
        sfile_init(&p->stat);
        sfile_init(&p->status);
        snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "?");
        if (p->tid != pid)
                snprintf(p->subject, sizeof(p->subject), "pid %d %s tid %d %s", pid, p->comm, p->tid, tcomm ? tcomm : "?");
        else
                snprintf(p->subject, sizeof(p->subject), "pid %d %s", pid, p->comm);
}

static uint64_t status_u64(const char *text, const char *key)
{
        const char *p = text;
        size_t kl = strlen(key);
        while (p && *p) {
                if (strncmp(p, key, kl) == 0 && p[kl] == ':')
                        return strtoull(p + kl + 1, NULL, 10);
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return 0;
}

bool sproc_read(struct sproc *p)
{
        char path[96], buf[4096], st[8192];
        if (p->tid != p->pid || p->task_path)
                snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", p->pid, p->tid);
        else
                snprintf(path, sizeof(path), "/proc/%d/stat", p->pid);
        struct proc_stat ps;
        if (sfile_read(&p->stat, path, buf, sizeof(buf)) < 0 || proc_stat_parse(buf, &ps) < 0 || ps.state == 'Z' ||
            ps.state == 'X') {
                p->gone = true;
                return false;
        }
        if (p->tid != p->pid || p->task_path)
                snprintf(path, sizeof(path), "/proc/%d/task/%d/status", p->pid, p->tid);
        else
                snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
        uint64_t vcs = 0, ivcs = 0;
        p->vmlck = 0;
        if (sfile_read(&p->status, path, st, sizeof(st)) >= 0) {
                vcs = status_u64(st, "voluntary_ctxt_switches");
                ivcs = status_u64(st, "nonvoluntary_ctxt_switches");
                p->vmlck = status_u64(st, "VmLck") * 1024;
        }
        long pg = sysconf(_SC_PAGESIZE), hz = sysconf(_SC_CLK_TCK);
        uint64_t now = now_ms_monotonic(), ticks = ps.utime + ps.stime;
        p->rss = ps.rss_pages * (uint64_t)(pg > 0 ? pg : 4096);
        p->policy = ps.policy;
        p->rtprio = ps.rt_priority;
        p->cpu_pct = 0;
        p->vcs_delta = p->ivcs_delta = 0;
        if (p->have_prev && now > p->prev_ms && ticks >= p->prev_ticks) {
                double cpu_ms = (double)(ticks - p->prev_ticks) * 1000.0 / (double)(hz > 0 ? hz : 100);
                p->cpu_pct = 100.0 * cpu_ms / (double)(now - p->prev_ms);
                p->vcs_delta = vcs >= p->prev_vcs ? vcs - p->prev_vcs : 0;
                p->ivcs_delta = ivcs >= p->prev_ivcs ? ivcs - p->prev_ivcs : 0;
        }
        p->prev_ticks = ticks;
        p->prev_vcs = vcs;
        p->prev_ivcs = ivcs;
        p->prev_ms = now;
        p->have_rate = p->have_prev;
        p->have_prev = true;
        p->gone = false;
        return true;
}

void sproc_values(struct sample *s, const struct sproc *p, const char *prefix, bool sched)
{
        char key[96];
        if (p->gone)
                return;
        snprintf(key, sizeof(key), "%s.rss_bytes", prefix);
        sample_value(s, key, p->subject, (double)p->rss, "bytes");
        if (sched || p->policy || p->rtprio) {
                snprintf(key, sizeof(key), "%s.policy", prefix);
                sample_value(s, key, p->subject, (double)p->policy, NULL);
                snprintf(key, sizeof(key), "%s.rt_priority", prefix);
                sample_value(s, key, p->subject, (double)p->rtprio, NULL);
        }
        if (!p->have_rate) /* rates need two readings */
                return;
        snprintf(key, sizeof(key), "%s.cpu_pct", prefix);
        sample_value(s, key, p->subject, p->cpu_pct, "%");
        snprintf(key, sizeof(key), "%s.ctxsw_voluntary", prefix);
        sample_value(s, key, p->subject, (double)p->vcs_delta, "per interval");
        snprintf(key, sizeof(key), "%s.ctxsw_involuntary", prefix);
        sample_value(s, key, p->subject, (double)p->ivcs_delta, "per interval");
}

void sproc_close(struct sproc *p)
{
        sfile_close(&p->stat);
        sfile_close(&p->status);
}


bool sample_watch_room(void *v, size_t *n, size_t size, size_t max, void (*close_fn)(void *entry))
{
        char *base = v;
        for (size_t j = 0; *n >= max && j < *n;) {
                char *e = base + j * size;
                if (((const struct sproc *)(void *)e)->gone) {
                        close_fn(e);
                        if (j != --*n)
                                memcpy(e, base + *n * size, size);
                } else {
                        j++;
                }
        }
        return *n < max;
}
