/* fds: file descriptors. System-wide handles (fs.file-nr against fs.file-max), the
 * per-process ceiling fs.nr_open, and each process's open fds against its soft
 * RLIMIT_NOFILE. From the LavinMQ guide's "File Descriptors" section and
 * COMPONENTS.md §2 "mmap and FD needs"; running out stops LavinMQ accepting
 * connections and EVO modules opening segments. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/fds.h"
#include "collectors/sample_util.h"
#include "lib/child.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"
#include "lib/satmath.h"
#include "lib/trust.h"
#include "lib/users.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <sys/resource.h>

#define UNKNOWN_PER_PROCESS_MAX 10 /* a broken bundle must not bury the report */

static const struct check_info checks[] = {
        {"fds.system", "System-wide file handles (fs.file-nr against fs.file-max)",
         "/proc/sys/fs/file-nr holds the allocated file handles, the unused ones (always 0 on\n"
         "current kernels) and fs.file-max. When the handles in use reach fs.file-max, every\n"
         "open(), socket() and accept() on the host fails with ENFILE (\"Too many open files in\n"
         "system\"): LavinMQ stops accepting connections, EVO modules cannot open segments.\n"
         "Fix: raise the limit now and keep it across reboots:\n"
         "  sysctl -w fs.file-max=<n>\n"
         "  echo 'fs.file-max = <n>' > /etc/sysctl.d/99-file-max.conf\n"
         "then find who holds the handles (the fds.process findings; a leak keeps growing).\n"
         "Thresholds: [fds] system_warn_pct, system_crit_pct."},
        {"fds.nr_open", "Per-process ceiling of the open-files limit (fs.nr_open)",
         "fs.nr_open is the highest value RLIMIT_NOFILE (ulimit -n, LimitNOFILE=, limits.conf)\n"
         "can take; LimitNOFILE=infinity, as LavinMQ's lavinmq.service sets, means this value.\n"
         "Informational: it only matters when a process needs more open files than this.\n"
         "Fix (then): sysctl -w fs.nr_open=<n>; echo 'fs.nr_open = <n>' > /etc/sysctl.d/99-nr-open.conf"},
        {"fds.process", "Open fds of each process against its soft open-files limit",
         "A process can hold at most its soft RLIMIT_NOFILE (\"Max open files\" in\n"
         "/proc/PID/limits) file descriptors; beyond it open(), socket() and accept() fail with\n"
         "EMFILE. LavinMQ needs 1 fd per connection + 2 per durable queue + overhead (LavinMQ\n"
         "guide) and warns at start when its limit is below 1025; out of fds it can neither\n"
         "accept connections nor create queues.\n"
         "One finding per process at or above [fds] warn_pct / crit_pct of its limit (subject\n"
         "\"pid N comm\"), and one summary with the top consumers, so the headroom shows.\n"
         "As non-root, other users' /proc/PID/fd cannot be read: those processes are counted\n"
         "in a skipped finding, never reported as fine.\n"
         "Fix: now, without a restart: prlimit --pid <pid> --nofile=<n>:<n>. To keep it, raise\n"
         "it where the process is started: a systemd unit: systemctl edit <unit> ->\n"
         "[Service] LimitNOFILE=<n> (lavinmq.service ships LimitNOFILE=infinity), then restart;\n"
         "a script: ulimit -n <n> before starting; a login session: '<user> - nofile <n>' in\n"
         "/etc/security/limits.conf. If the count keeps growing, look for a leak:\n"
         "ls -l /proc/<pid>/fd. Tunables: [fds] warn_pct, crit_pct, top, max_procs, budget_ms."},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("system_warn_pct", "80", "warn when this % of fs.file-max is in use"),
        CONF_PCT("system_crit_pct", "95", "crit when this % of fs.file-max is in use"),
        CONF_PCT("warn_pct", "80", "warn when a process holds this % of its soft open-files limit"),
        CONF_PCT("crit_pct", "95", "crit when a process holds this % of its soft open-files limit"),
        CONF_UINT("top", "5", 1, 1000, "how many top consumers the fds.process summary lists"),
        CONF_UINT("max_procs", "0", 0, 10000000, "inspect at most this many processes (0 = all)"),
        CONF_UINT("budget_ms", "3000", 0, 600000, "stop inspecting processes after this long (0 = no limit; keep it below the collector timeout)"),
        {0},
};

/* ---- parsers and decisions (fds.h) ---- */

static int next_u64(const char **p, uint64_t *out)
{
        while (isspace((unsigned char)**p))
                (*p)++;
        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(*p, &end, 10);
        if (errno || (*end && !isspace((unsigned char)*end)))
                return -EINVAL;
        *out = v;
        *p = end;
        return 0;
}

int file_nr_parse(const char *text, struct file_nr *out)
{
        const char *p = text;
        struct file_nr n;
        if (!text || next_u64(&p, &n.allocated) < 0 || next_u64(&p, &n.unused) < 0 || next_u64(&p, &n.max) < 0)
                return -EINVAL;
        while (isspace((unsigned char)*p))
                p++;
        if (*p || n.unused > n.allocated)
                return -EINVAL;
        *out = n;
        return 0;
}

enum severity fds_system_verdict(const struct file_nr *nr, const uint64_t *file_max, double warn_pct, double crit_pct,
                                 struct fds_system *out)
{
        out->used = nr->allocated - nr->unused;
        out->max = file_max ? *file_max : nr->max;
        out->pct = usage_pct(out->used, out->max);
        return usage_severity(out->used, out->max, warn_pct, crit_pct);
}

/* ---- fds.system and fds.nr_open ---- */

static void check_system(struct ctx *c, struct findings *fs)
{
        _cleanup_free_ char *text = NULL;
        struct finding *f;
        long r = rootfs_read("/proc/sys/fs/file-nr", 4096, &text, NULL);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "fds.system", "cannot read /proc/sys/fs/file-nr: %s", strerror((int)-r));
                fnd_evidence(f, "/proc/sys/fs/file-nr");
                return;
        }
        struct file_nr nr;
        if (file_nr_parse(text, &nr) < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "fds.system",
                            "/proc/sys/fs/file-nr is malformed: expected three numbers (allocated, unused, max)");
                fnd_evidence(f, "/proc/sys/fs/file-nr");
                return;
        }
        /* file-max and file-nr's third field are the same kernel variable; file-max is
         * the one operators set, file-nr's is the fallback (a partial bundle). */
        uint64_t file_max;
        bool have_max = rootfs_read_u64("/proc/sys/fs/file-max", &file_max) == 0;
        double w = conf_num(c, "system_warn_pct"), cr = conf_num(c, "system_crit_pct");
        struct fds_system v;
        enum severity s = fds_system_verdict(&nr, have_max ? &file_max : NULL, w, cr, &v);
        uint64_t used = v.used, max = v.max;
        double pct = v.pct;
        f = fnd_add(fs, s, "fds.system", "%" PRIu64 " of %" PRIu64 " file handles in use on the host (%.1f%%)", used, max, pct);
        fnd_measure(f, "fds.system_used_ratio", pct / 100.0);
        fnd_expected(f, "< %.0f%% of fs.file-max in use", w);
        fnd_actual(f, "%" PRIu64 " allocated, %" PRIu64 " unused, fs.file-max %" PRIu64 " (%.1f%%)", nr.allocated,
                   nr.unused, max, pct);
        fnd_evidence(f, have_max ? "/proc/sys/fs/file-nr, /proc/sys/fs/file-max" : "/proc/sys/fs/file-nr");
        if (s != SEV_OK) {
                uint64_t t = sat_mul_u64(used > max ? used : max, 2);
                fnd_remedy(f, "sysctl -w fs.file-max=%" PRIu64 " && echo 'fs.file-max = %" PRIu64
                              "' > /etc/sysctl.d/99-file-max.conf   # then find who holds them: the fds.process findings",
                           t, t);
        }
}

/* Returns fs.nr_open, or 0 when it cannot be read. */
static uint64_t check_nr_open(struct findings *fs)
{
        uint64_t v;
        struct finding *f;
        int r = rootfs_read_u64("/proc/sys/fs/nr_open", &v);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "fds.nr_open", "cannot read /proc/sys/fs/nr_open: %s",
                            r == -EINVAL ? "not a number" : rootfs_strerror(-r));
                fnd_evidence(f, "/proc/sys/fs/nr_open");
                return 0;
        }
        f = fnd_add(fs, SEV_INFO, "fds.nr_open",
                    "fs.nr_open = %" PRIu64 ": the most any process's open-files limit can be (LimitNOFILE=infinity)", v);
        fnd_actual(f, "%" PRIu64, v);
        fnd_evidence(f, "/proc/sys/fs/nr_open");
        return v;
}

/* ---- fds.process ---- */

static char *nofile_remedy(const struct usage *u, unsigned euid, uint64_t nr_open, bool lavinmq)
{
        struct strbuf b = {0};
        char path[64];
        _cleanup_free_ char *cg = NULL, *unit = NULL;
        const char *user = NULL;
        _cleanup_users_ struct users *users = users_load();
        uint64_t t = nofile_target(u->limit, nr_open);
        bool ceiling = t == 0;
        if (ceiling) {
                /* Already at fs.nr_open: the ceiling must move first. */
                t = sat_mul_u64(u->limit, 2);
                sb_printf(&b, "sysctl -w fs.nr_open=%" PRIu64 " && ", t);
        }
        sb_printf(&b, "prlimit --pid %d --nofile=%" PRIu64 ":%" PRIu64 "   # now; to keep it: ", u->pid, t, t);
        snprintf(path, sizeof(path), "/proc/%d/cgroup", u->pid);
        if (rootfs_read(path, 64 << 10, &cg, NULL) >= 0)
                unit = unit_from_cgroup(cg);
        if (unit && lavinmq)
                sb_printf(&b, "systemctl edit %s -> [Service] LimitNOFILE=infinity (as upstream's lavinmq.service), then systemctl restart %s",
                          unit, unit);
        else if (unit)
                sb_printf(&b, "systemctl edit %s -> [Service] LimitNOFILE=%" PRIu64 ", then systemctl restart %s", unit, t, unit);
        else if ((user = users_name(users, euid)))
                sb_printf(&b, "ulimit -n %" PRIu64 " where it is started, or '%s - nofile %" PRIu64 "' in /etc/security/limits.conf",
                          t, user, t);
        else
                sb_printf(&b, "ulimit -n %" PRIu64 " where it is started, or '<user> - nofile %" PRIu64 "' in /etc/security/limits.conf",
                          t, t);
        if (ceiling)
                sb_puts(&b, "; persist fs.nr_open in /etc/sysctl.d/");
        if (lavinmq)
                sb_puts(&b, " (LavinMQ needs 1 fd per connection + 2 per durable queue + overhead)");
        return sb_steal(&b);
}

/* ---- fds.process ---- */

/* The soft and hard open-files limit of u->pid. 1 = got them, 0 = the process is
 * gone, -1 = reported as unknown (limits unreadable or malformed). */
static int read_nofile(const struct usage *p, struct usage *u, size_t *bad, struct findings *fs)
{
        char path[64];
        _cleanup_free_ char *text = NULL;
        snprintf(path, sizeof(path), "/proc/%d/limits", p->pid);
        long r = rootfs_read(path, 64 << 10, &text, NULL);
        int pr = r < 0 ? (int)r : limits_get(text, "Max open files", &u->limit, &u->hard);
        if (pr == 0)
                return 1;
        if (r < 0 && !proc_exists(p->pid))
                return 0;
        if (++*bad > UNKNOWN_PER_PROCESS_MAX)
                return -1;
        struct finding *f;
        if (r < 0)
                f = fnd_add(fs, SEV_UNKNOWN, "fds.process", "pid %d %s: cannot read %s: %s", p->pid, p->comm, path,
                            strerror((int)-r));
        else
                f = fnd_add(fs, SEV_UNKNOWN, "fds.process", "pid %d %s: %s in %s", p->pid, p->comm,
                            pr == -ENOENT ? "no 'Max open files' line" : "malformed 'Max open files' line", path);
        fnd_subject(f, "pid %d %s", p->pid, p->comm);
        fnd_expected(f, "a 'Max open files' line with soft and hard limits");
        fnd_evidence(f, "%s", path);
        return -1;
}

static void report_problem(const struct usage *u, enum severity sev, unsigned euid, double w, uint64_t nr_open,
                           bool lavinmq, struct findings *fs)
{
        const char *al = u->at_least ? "at least " : "";
        struct finding *f = fnd_add(fs, sev, "fds.process", "pid %d %s: %s%" PRIu64 " of %" PRIu64 " open files (%s%.1f%%)%s",
                                    u->pid, u->comm, al, u->used, u->limit, al, usage_pct(u->used, u->limit),
                                    u->at_least && sev == SEV_UNKNOWN ? ": the count stopped at a bound, the rest is not known" : "");
        fnd_subject(f, "pid %d %s", u->pid, u->comm);
        fnd_expected(f, "< %.0f%% of the soft open-files limit", w);
        if (u->hard == LIMIT_UNLIMITED)
                fnd_actual(f, "%s%" PRIu64 " fds open; soft limit %" PRIu64 ", hard unlimited", al, u->used, u->limit);
        else
                fnd_actual(f, "%s%" PRIu64 " fds open; soft limit %" PRIu64 ", hard %" PRIu64, al, u->used, u->limit, u->hard);
        fnd_evidence(f, "/proc/%d/fd, /proc/%d/limits", u->pid, u->pid);
        _cleanup_free_ char *rem = nofile_remedy(u, euid, nr_open, lavinmq);
        fnd_remedy(f, "%s", rem);
}

static void check_processes(struct ctx *c, uint64_t nr_open, struct findings *fs)
{
        struct proctable t;
        struct finding *f;
        int r = proctable_load(&t);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "fds.process", "cannot list processes: %s", rootfs_strerror(-r));
                fnd_evidence(f, "/proc");
                return;
        }
        struct scan s = {0};
        scan_procs_bounded(&(struct scan_opts){.section = c->self->name, .max_procs = (size_t)conf_uint(c, "max_procs"),
                                                .budget_ms = conf_uint(c, "budget_ms"), .deadline_ms = c->deadline_ms,
                                                .is_root = c->is_root},
                           &t, proc_fd_count, &s);
        /* Limits after the counts: cheap, and a process gone by now is dropped. */
        size_t kept = 0, bad = 0;
        for (size_t i = 0; i < s.n; i++) {
                struct usage u = s.v[i];
                if (read_nofile(&s.v[i], &u, &bad, fs) > 0)
                        s.v[kept++] = u;
        }
        s.n = kept;
        usage_sort(s.v, s.n); /* worst first: the report's order does not depend on readdir's */
        double w = conf_num(c, "warn_pct"), cr = conf_num(c, "crit_pct");
        size_t problems = 0;
        for (size_t i = 0; i < s.n; i++) {
                enum severity sev = usage_verdict(&s.v[i], w, cr);
                if (sev == SEV_OK)
                        continue;
                const struct proc *p = proctable_find(&t, s.v[i].pid);
                report_problem(&s.v[i], sev, p ? p->euid : 0, w, nr_open, p && component_named(p, "lavinmq"), fs);
                problems++;
        }
        if (bad > UNKNOWN_PER_PROCESS_MAX) {
                f = fnd_add(fs, SEV_UNKNOWN, "fds.process", "%zu more processes with an unreadable or malformed limits file",
                            bad - UNKNOWN_PER_PROCESS_MAX);
                fnd_evidence(f, "/proc/PID/limits");
        }
        scan_report_gaps(&s, "fds.process", "fd", fs);
        if (s.n || !bad)
                scan_report_summary(&s, "fds.process", problems, w, (size_t)conf_uint(c, "top"), "the soft open-files limit",
                                    "/proc/PID/fd, /proc/PID/limits", fs);
        scan_free(&s);
        proctable_free(&t);
}

static void fds_check(struct ctx *c, struct findings *fs)
{
        check_system(c, fs);
        uint64_t nr_open = check_nr_open(fs);
        check_processes(c, nr_open, fs);
}

/* ---- watch ---- */

#define WATCH_TOP 5       /* processes watched besides those already at warn_pct */
#define WATCH_MAX 16
#define WATCH_FEW_FDS 16  /* below this, a process's limit is not read at a rescan */

struct fds_wproc {
        struct sproc p;
        struct sfile limits, fd;
        uint64_t counted_ms; /* see sample_count_due */
        long used;
        uint64_t soft, hard;
};

struct fds_watch {
        struct sfile file_nr, file_max;
        struct fds_wproc *v;
        size_t n;
        struct pidwatch young; /* processes started since watch began */
        /* What the last scan saw, for the look between rescans when the host's handles
         * grow (fds_watch_grown): every process's count and limit (by pid), the least
         * handles in use on the host since, the smallest limit read. */
        struct usage *scan;
        uint64_t *scan_few; /* per scan entry without a limit read: its limit by prlimit() */
        size_t nscan;
        uint64_t scan_ms, host_min, min_limit;
        bool scanned;
        /* A scan the sample's time cut short goes on in the next samples from the pid
         * after resume_after (0: none in progress), adding to part: on a big, loaded host
         * the first scan may not reach every process, and waiting for the next rescan
         * (2 min) would leave a process already near its limit unseen that long. */
        struct usage *part;
        size_t npart, cappart;
        int resume_after;
};

#define GROWN_DEFAULT_LIMIT 1024 /* the usual soft limit, where no smaller one was read */
#define GROWN_EVERY 10           /* intervals: at most one look between rescans in this many */

static int usage_by_pid(const void *a, const void *b)
{
        int x = ((const struct usage *)a)->pid, y = ((const struct usage *)b)->pid;
        return x < y ? -1 : x > y;
}

static void wproc_close(void *entry)
{
        struct fds_wproc *p = entry;
        sproc_close(&p->p);
        sfile_close(&p->limits);
        sfile_close(&p->fd);
}
_Static_assert(offsetof(struct fds_wproc, p) == 0, "sample_watch_room: the sproc comes first");

/* The processes worth watching: the top consumers by share of their open-files
 * limit, and every one near warn_pct (at half of it or more: those are counted every
 * interval), at most WATCH_MAX. The scan grows with
 * the process table, so it runs only at a rescan and stops well before the
 * sample's deadline. */
static int pid_cmp(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return x < y ? -1 : x > y;
}

/* pid's soft and hard open-files limit with prlimit(): the live system, where /proc
 * shows our pid namespace, and a process we may ask (ours, or as root). false: not known. */
static bool nofile_by_syscall(int pid, uint64_t *soft, uint64_t *hard)
{
        struct rlimit rl;
        if (!sample_proc_is_ours() || prlimit(pid, RLIMIT_NOFILE, NULL, &rl) < 0)
                return false;
        *soft = rl.rlim_cur == RLIM_INFINITY ? LIMIT_UNLIMITED : (uint64_t)rl.rlim_cur;
        *hard = rl.rlim_max == RLIM_INFINITY ? LIMIT_UNLIMITED : (uint64_t)rl.rlim_max;
        return true;
}

static void fds_watch_rescan(struct ctx *c, struct fds_watch *w)
{
        size_t np;
        _cleanup_free_ int *pids = sample_pids(&np);
        qsort(pids, np, sizeof(*pids), pid_cmp); /* resume_after is a pid: scan in pid order */
        uint64_t stop = c->deadline_ms ? c->deadline_ms - (c->deadline_ms - now_ms_monotonic()) / 2 : 0;
        if (!w->resume_after)
                w->npart = 0; /* a new scan */
        if (w->cappart < w->npart + np + 1) {
                w->cappart = w->npart + np + 1;
                w->part = xrealloc(w->part, w->cappart * sizeof(*w->part));
        }
        struct usage *pu = w->part;
        size_t n = w->npart, at = 0;
        while (at < np && w->resume_after && pids[at] <= w->resume_after)
                at++;
        bool cut = false;
        /* Test builds: EVODIAG_FAULT=fds_scan:short looks at 20 pids per sample, as a
         * host too big for one sample's time would. */
        size_t first = at, most = fault_wanted("fds_scan", "short") ? 20 : SIZE_MAX;
        for (; at < np; at++) {
                if ((stop && now_ms_monotonic() > stop) || at - first >= most) {
                        cut = true;
                        break;
                }
                char path[64];
                struct sfile dir = {0};
                snprintf(path, sizeof(path), "/proc/%d/fd", pids[at]);
                long fds = sfile_count_dir(&dir, path);
                sfile_close(&dir);
                if (fds <= 0)
                        continue; /* kernel threads have none; gone or denied: nothing to watch */
                /* With few fds no sane limit is near: rank those by count, read the
                 * limit of the ones kept (a read per process saved on a big host). */
                pu[n] = (struct usage){.pid = pids[at], .used = (uint64_t)fds, .limit = LIMIT_UNLIMITED};
                if (fds >= WATCH_FEW_FDS && proc_limit(pids[at], "Max open files", &pu[n].limit, &pu[n].hard) < 0)
                        continue;
                n++;
        }
        w->npart = n;
        /* Cut short: what was seen so far is ranked now (and watched at once); the
         * next sample goes on after the last pid looked at. */
        if (cut) /* (-1: cut before the first pid; a pid is never <= -1) */
                w->resume_after = at > 0 ? pids[at - 1] : w->resume_after ? w->resume_after : -1;
        else
                w->resume_after = 0;
        struct usage *u = xcalloc(n + 1, sizeof(*u));
        memcpy(u, pu, n * sizeof(*u));
        usage_sort(u, n);
        double warn = conf_num(c, "warn_pct");
        w->min_limit = GROWN_DEFAULT_LIMIT;
        for (size_t i = 0; i < n; i++)
                if (u[i].limit != LIMIT_UNLIMITED && u[i].limit && u[i].limit < w->min_limit)
                        w->min_limit = u[i].limit;
        struct fds_wproc *v = xcalloc(WATCH_MAX, sizeof(*v));
        size_t k = 0;
        for (size_t i = 0; i < n && k < WATCH_MAX; i++) {
                if (k >= WATCH_TOP && usage_pct(u[i].used, u[i].limit) < warn / 2)
                        break;
                struct proc p;
                if (!sample_proc(u[i].pid, &p) || p.kthread || sample_is_self(&p))
                        continue;
                /* Keep what we know of a process watched before (its CPU counters). */
                bool kept = false;
                for (size_t j = 0; j < w->n && !kept; j++)
                        if (w->v[j].p.pid == u[i].pid && !w->v[j].p.gone) {
                                v[k++] = w->v[j];
                                w->v[j].p.pid = -1;
                                kept = true;
                        }
                if (!kept) {
                        sproc_init(&v[k].p, u[i].pid, 0, p.comm, NULL);
                        sfile_init(&v[k].limits);
                        sfile_init(&v[k].fd);
                        k++;
                }
        }
        for (size_t j = 0; j < w->n; j++)
                if (w->v[j].p.pid != -1)
                        wproc_close(&w->v[j]);
        free(w->v);
        w->v = v;
        w->n = k;
        qsort(u, n, sizeof(*u), usage_by_pid);
        free(w->scan);
        w->scan = u;
        w->nscan = n;
        /* For the look between rescans (fds_watch_grown) the limit of each process with
         * few fds too, where one syscall tells it (kept apart: the ranking and that look's
         * order stay what the counts chose): else that look must assume the smallest
         * limit seen for every such process and count them all whenever the host's
         * handles rise by that much. */
        free(w->scan_few);
        w->scan_few = xcalloc(n + 1, sizeof(*w->scan_few));
        for (size_t i = 0; i < n; i++) {
                uint64_t hard;
                if (u[i].limit != LIMIT_UNLIMITED || !nofile_by_syscall(u[i].pid, &w->scan_few[i], &hard))
                        w->scan_few[i] = LIMIT_UNLIMITED;
        }
        w->scan_ms = now_ms_monotonic();
        w->host_min = UINT64_MAX;
        w->scanned = true;
}

/* Starts watching pid (fds open, its limit) when there is room. */
static bool watch_add(struct fds_watch *w, int pid, const char *comm, long fds, uint64_t soft, uint64_t hard)
{
        if (!sample_watch_room(w->v, &w->n, sizeof(*w->v), WATCH_MAX * 2, wproc_close))
                return false; /* the next rescan ranks them all */
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        struct fds_wproc *n = &w->v[w->n++];
        *n = (struct fds_wproc){.used = fds, .soft = soft, .hard = hard, .counted_ms = now_ms_monotonic()};
        sproc_init(&n->p, pid, 0, comm, NULL);
        sfile_init(&n->limits);
        sfile_init(&n->fd);
        return true;
}

static bool watched(const struct fds_watch *w, int pid)
{
        for (size_t j = 0; j < w->n; j++)
                if (w->v[j].p.pid == pid && !w->v[j].p.gone)
                        return true;
        return false;
}

/* A process that ran when the last scan counted it far from its limit (below half of
 * warn_pct, so not watched) and then opens files fast: the host's handles in use
 * (fs.file-nr, read every interval anyway) rise with it. When they rose since the
 * last scan by as much as would take a process with the smallest limit seen from 0 to
 * half of warn_pct, the processes that could have got there by such a rise are counted
 * again (not those whose last count was too far from their limit: a big process far
 * from a large limit, the costly listing), and those now near are watched every
 * interval: an event within an interval or two, not at the next rescan (2 min). At
 * most one such look in GROWN_EVERY intervals. */
static void fds_watch_grown(struct ctx *c, struct fds_watch *w, uint64_t host_used)
{
        if (!w->scanned || !rootfs_is_live())
                return;
        if (host_used < w->host_min)
                w->host_min = host_used;
        double half = conf_num(c, "warn_pct") / 2;
        uint64_t rise = host_used - w->host_min, now = now_ms_monotonic();
        uint64_t need = (uint64_t)((double)w->min_limit * half / 100);
        if (rise < (need > 32 ? need : 32) || now - w->scan_ms < GROWN_EVERY * c->interval_ms)
                return;
        w->scan_ms = now;
        w->host_min = host_used;
        size_t np;
        _cleanup_free_ int *pids = sample_pids(&np);
        uint64_t stop = c->deadline_ms ? c->deadline_ms - (c->deadline_ms - now) / 2 : 0;
        /* First those whose limit is known (read at the scan: the few that held many fds),
         * then the rest, the newest first, until half the time to the deadline is spent;
         * of the rest, one that held few fds at the scan is judged by its own limit where
         * prlimit() told it, else (started since, not ours to ask) by the smallest seen. */
        for (size_t j = 0; j < 2 * np; j++) {
                size_t i = j < np ? j : 2 * np - 1 - j;
                if (stop && now_ms_monotonic() > stop)
                        break;
                const struct usage key = {.pid = pids[i]}, *k = bsearch(&key, w->scan, w->nscan, sizeof(key), usage_by_pid);
                bool known = k && k->limit != LIMIT_UNLIMITED;
                if (known != (j < np))
                        continue;
                uint64_t lim = known ? k->limit : w->min_limit, was = k ? k->used : 0;
                if (k && !known && w->scan_few[k - w->scan] != LIMIT_UNLIMITED)
                        lim = w->scan_few[k - w->scan]; /* few fds at the scan, its own limit known */
                if ((double)lim * half / 100 > (double)(was + rise) || watched(w, pids[i]))
                        continue; /* cannot be near by this rise, or counted every interval already */
                char path[64];
                struct sfile dir = {0};
                snprintf(path, sizeof(path), "/proc/%d/fd", pids[i]);
                long fds = sfile_count_dir(&dir, path);
                sfile_close(&dir);
                uint64_t soft, hard;
                struct proc p;
                if (fds < WATCH_FEW_FDS || proc_limit(pids[i], "Max open files", &soft, &hard) < 0 ||
                    usage_pct((uint64_t)fds, soft) < half || !sample_proc(pids[i], &p) || p.kthread || sample_is_self(&p))
                        continue;
                if (!watch_add(w, pids[i], p.comm, fds, soft, hard))
                        break;
        }
}

/* Processes started since watch began: each is counted every interval while it is
 * young, and watched from the moment it is near warn_pct (half of it or more), so a
 * new process that crosses a threshold is an event within two intervals. */
static void fds_watch_young(struct ctx *c, struct fds_watch *w)
{
        int young[SAMPLE_YOUNG_MAX];
        size_t ny = pidwatch_young(&w->young, c, young);
        double warn = conf_num(c, "warn_pct");
        for (size_t i = 0; i < ny; i++) {
                if (watched(w, young[i])) {
                        pidwatch_drop(&w->young, young[i]);
                        continue;
                }
                /* The count first: most new processes hold a few fds, and then no sane
                 * limit is near (one listing per look, no more). */
                char path[64];
                struct sfile dir = {0};
                snprintf(path, sizeof(path), "/proc/%d/fd", young[i]);
                long fds = sfile_count_dir(&dir, path);
                sfile_close(&dir);
                if (fds == -ENOENT || fds == -ESRCH)
                        pidwatch_drop(&w->young, young[i]); /* gone */
                if (fds < WATCH_FEW_FDS)
                        continue;
                struct proc p;
                if (!sample_proc(young[i], &p) || p.kthread || sample_is_self(&p)) {
                        pidwatch_drop(&w->young, young[i]);
                        continue;
                }
                uint64_t soft, hard;
                if (proc_limit(young[i], "Max open files", &soft, &hard) < 0 || usage_pct((uint64_t)fds, soft) < warn / 2)
                        continue; /* not near: looked at again while young */
                if (!watch_add(w, young[i], p.comm, fds, soft, hard))
                        break;
                pidwatch_drop(&w->young, young[i]);
        }
}

/* Host file handles (fs.file-nr against fs.file-max, the fds.system verdict)
 * and the watched processes' open fds against their soft limit (fds.process),
 * with their CPU, RSS and context switches. */
static void fds_sample(struct ctx *c, struct sample *s)
{
        struct fds_watch *w = sample_state(c, sizeof(*w));
        char buf[4096];
        struct file_nr nr;
        long r = sfile_read(&w->file_nr, "/proc/sys/fs/file-nr", buf, sizeof(buf));
        bool have_nr = r >= 0 && file_nr_parse(buf, &nr) == 0;
        if (!have_nr) {
                sample_status(s, "fds.system", NULL, SEV_UNKNOWN, "/proc/sys/fs/file-nr: %s",
                              r < 0 ? strerror((int)-r) : "malformed (expected three numbers)");
        } else {
                uint64_t file_max;
                bool have_max = sfile_read(&w->file_max, "/proc/sys/fs/file-max", buf, sizeof(buf)) >= 0 &&
                                parse_u64(buf, &file_max) == 0;
                struct fds_system v;
                enum severity sev = fds_system_verdict(&nr, have_max ? &file_max : NULL, conf_num(c, "system_warn_pct"),
                                                       conf_num(c, "system_crit_pct"), &v);
                sample_value(s, "fds.system_used", NULL, (double)v.used, "handles");
                sample_value(s, "fds.system_max", NULL, (double)v.max, "handles");
                sample_status(s, "fds.system", NULL, sev, "%" PRIu64 " of %" PRIu64 " file handles in use on the host (%.1f%%)",
                              v.used, v.max, v.pct);
        }
        if (sample_rescan_due(c) || w->resume_after)
                fds_watch_rescan(c, w);
        else if (have_nr)
                fds_watch_grown(c, w, nr.allocated - nr.unused);
        fds_watch_young(c, w);
        double warn = conf_num(c, "warn_pct"), crit = conf_num(c, "crit_pct");
        for (size_t i = 0; i < w->n; i++) {
                struct fds_wproc *p = &w->v[i];
                if (p->p.gone || !sproc_read(&p->p))
                        continue; /* gone: its status stops; the next rescan drops it */
                if (sample_count_due(&p->counted_ms, usage_pct((uint64_t)p->used, p->soft), warn)) {
                        char path[64];
                        snprintf(path, sizeof(path), "/proc/%d/fd", p->p.pid);
                        long n = sfile_count_dir(&p->fd, path);
                        snprintf(path, sizeof(path), "/proc/%d/limits", p->p.pid);
                        if (n < 0 || sfile_read(&p->limits, path, buf, sizeof(buf)) < 0 ||
                            limits_get(buf, "Max open files", &p->soft, &p->hard) < 0) {
                                p->counted_ms = 0;
                                continue;
                        }
                        p->used = n;
                }
                long used = p->used;
                uint64_t soft = p->soft;
                sample_value(s, "fds.open", p->p.subject, (double)used, "fds");
                if (soft != LIMIT_UNLIMITED)
                        sample_value(s, "fds.limit", p->p.subject, (double)soft, "fds");
                sproc_values(s, &p->p, "fds", false);
                enum severity sev = usage_verdict(&(struct usage){.used = (uint64_t)used, .limit = soft}, warn, crit);
                if (soft == LIMIT_UNLIMITED)
                        sample_status(s, "fds.process", p->p.subject, sev, "%s: %ld open files (no limit)", p->p.subject, used);
                else
                        sample_status(s, "fds.process", p->p.subject, sev, "%s: %ld of %" PRIu64 " open files (%.1f%%)", p->p.subject,
                                      used, soft, usage_pct((uint64_t)used, soft));
        }
}

static void fds_free_state(void *state)
{
        struct fds_watch *w = state;
        sfile_close(&w->file_nr);
        sfile_close(&w->file_max);
        for (size_t i = 0; i < w->n; i++)
                wproc_close(&w->v[i]);
        free(w->v);
        free(w->scan);
        free(w->scan_few);
        free(w->part);
        pidwatch_free(&w->young);
        free(w);
}

const struct collector fds_collector = {
        .name = "fds",
        .summary = "file handles: system-wide, fs.nr_open, per process against its open-files limit",
        .checks = checks,
        .config = config,
        .check = fds_check,
        .sample = fds_sample,
        .sampled = (const char *const[]){"fds.system", "fds.process", NULL},
        .free_state = fds_free_state,
};
