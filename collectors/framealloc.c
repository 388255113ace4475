/* framealloc: apps that use the framealloc allocator (COMPONENTS.md §5, the framealloc
 * guide). framealloc is in-process; what a separate process can see is what the app
 * opted into: snapshot_<frame>.json files a SnapshotEmitter writes (default
 * target/framealloc under the app's working directory; at most 30), the
 * snapshot.request file that asks it for one, "[framealloc][FAxxx]" diagnostics and
 * "[framealloc] Leak report" lines in its logs, and FRAMEALLOC_STRICT. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/framealloc.h"
#include "collectors/framealloc_private.h"
#include "collectors/sample_util.h"
#include "collectors/sink.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/rootfs.h"
#include "lib/sample.h"
#include "lib/trust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FA_SNAP_MAX (4u << 20) /* bytes of one snapshot read */
#define FA_DIRS_MAX 32
#define FA_KEEP 64             /* snapshot names kept per directory (framealloc keeps 30) */

static const struct check_info checks[] = {
        {"framealloc.dirs", "Where framealloc writes its snapshots",
         "Directories looked in: [framealloc] dirs, and target/framealloc under the working\n"
         "directory (/proc/PID/cwd) of every process where it exists. A directory learned from a\n"
         "process is used only when it and every directory on the way are owned by root or\n"
         "[framealloc] service_user and not writable by others (the trust rule for paths taken\n"
         "from processes). Info: which directories, and which process runs in each.\n"
         "Fix: none needed; to get snapshots, create a SnapshotEmitter in the app and call\n"
         "maybe_emit() each frame (framealloc guide)."},
        {"framealloc.snapshot", "framealloc snapshots: memory and its growth",
         "The newest snapshot_<frame>.json (json-c): version, timestamp, frame, summary\n"
         "{frame_bytes, pool_bytes, heap_bytes, total_bytes, peak_bytes}, threads[] and their\n"
         "budgets. Info with the numbers; warn when peak_bytes reaches [framealloc]\n"
         "peak_warn_pct of [framealloc] budget, when total_bytes grew at every step across the\n"
         "snapshots on disk (at least [framealloc] growth_steps steps: the guide's memory-leak\n"
         "symptom), or when the newest snapshot is not valid JSON.\n"
         "Fix (framealloc guide, \"Memory Leaks\", \"High Memory Usage\"): enable the debug\n"
         "feature's leak report; check for frame allocations promoted to the heap and pools\n"
         "that are never returned; cargo fa --dirtymem"},
        {"framealloc.diagnostics", "framealloc diagnostics in the app's logs",
         "\"[framealloc][FAxxx] kind: message\" lines (debug builds or the diagnostics feature)\n"
         "and \"[framealloc] Leak report\" lines (debug feature) in the last [framealloc]\n"
         "log_tail bytes of each file in [framealloc] logs, and in the MESSAGEs of the journal\n"
         "(the last [framealloc] journal_since) of the units in [framealloc] units, the\n"
         "SYSLOG_IDENTIFIERs in [framealloc] identifiers and the units the apps found in\n"
         "framealloc directories run in (/proc/PID/cgroup). Each code is a warning with the\n"
         "guide's explanation: FA601 frame allocation in an async function, FA602 allocation in\n"
         "a hot loop, FA603 frame data crossing an await point.\n"
         "Fix: cargo fa explain FA601 (the code); cargo fa --async-safety"},
        {"framealloc.strict", "FRAMEALLOC_STRICT in an app's environment",
         "FRAMEALLOC_STRICT (0/warn, 1/error, 2/warning) in /proc/PID/environ of an app that\n"
         "runs where a framealloc directory is (root only: another user's environment is not\n"
         "readable). It takes effect only if the app calls diagnostics::init_from_env(). Info.",
         .live = true},
        {"framealloc.request", "Snapshot on request (--allow-intrusive)",
         "With --allow-intrusive: in each directory where an app runs, evodiag creates\n"
         "snapshot.request and waits (at most [framealloc] request_wait) for a new snapshot;\n"
         "the app deletes the request when it answers. Pre-check: the directory exists and an\n"
         "app runs there (else nothing is created). Post-check: the request file is gone; when\n"
         "no snapshot came in time evodiag removes the file itself and says so (warn): the app\n"
         "does not call maybe_emit() or turned check_request_file off.\n"
         "Fix: SnapshotConfig::default().with_request_file(true); emitter.maybe_emit() each frame.",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_LIST("dirs", "", "snapshot directories to look in (besides target/framealloc under apps' working directories)"),
        CONF_STR("service_user", "", "the apps' user: directories it owns are trusted (root's always are)"),
        CONF_LIST("logs", "", "log files of the apps to scan for [framealloc] diagnostics"),
        CONF_SIZE("log_tail", "1M", "bytes read from the end of each log file"),
        CONF_SIZE("budget", "0", "warn when a snapshot's peak_bytes reaches peak_warn_pct of this (0: no budget)"),
        CONF_PCT("peak_warn_pct", "90", "percent of budget at which peak_bytes warns"),
        CONF_UINT("growth_steps", "3", 1, 30, "warn when total_bytes grew at every one of at least this many steps"),
        CONF_DURATION("request_wait", "5s", "--allow-intrusive: how long to wait for a requested snapshot"),
        CONF_UINT("max_procs", "4096", 1, 1000000, "look at the working directory of at most this many processes"),
        CONF_LIST("units", "", "systemd units whose journal is scanned for diagnostics, besides the units of the apps found (none: no journal)"),
        CONF_LIST("identifiers", "", "SYSLOG_IDENTIFIERs whose journal entries are scanned for diagnostics"),
        CONF_STR("journal_dir", "", "read the journal from this directory instead of the host's"),
        CONF_DURATION("journal_since", "1h", "how far back the journal is scanned"),
        {0},
};

struct fa_dir {
        char *path;
        int pid;     /* a process running there (its cwd/target/framealloc), 0 when none */
        bool from_config;
};

struct fa_state {
        struct fa_dir d[FA_DIRS_MAX];
        size_t n;
        char *snap_paths[FA_DIRS_MAX]; /* the newest snapshot of each, for the bundle */
        size_t refused; /* directories under processes' cwd the trust rule refused */
};

static void state_free(struct fa_state *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->d[i].path);
                free(s->snap_paths[i]);
        }
        free(s);
}

static char *strip_slashes(const char *p)
{
        size_t l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
                l--;
        return xstrndup(p, l);
}

static struct fa_dir *dir_add(struct fa_state *s, const char *path, int pid, bool from_config)
{
        _cleanup_free_ char *p = strip_slashes(path);
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->d[i].path, p)) {
                        if (!s->d[i].pid)
                                s->d[i].pid = pid;
                        return &s->d[i];
                }
        if (s->n == FA_DIRS_MAX)
                return NULL;
        s->d[s->n] = (struct fa_dir){.path = xstrdup(p), .pid = pid, .from_config = from_config};
        return &s->d[s->n++];
}

/* Configured dirs, and target/framealloc under processes' cwd that pass the trust rule.
 * refused (may be NULL) collects why a process's directory was not used. */
static struct fa_state *discover(struct ctx *c, struct strbuf *refused)
{
        struct fa_state *s = xcalloc(1, sizeof(*s));
        const char *list = conf_str(c, "dirs");
        for (const char *p = list; *p;) {
                size_t l = strcspn(p, ",");
                _cleanup_free_ char *one = xstrndup(p, l);
                char *w = strstrip(one);
                if (*w == '/')
                        dir_add(s, w, 0, true);
                p += l + (p[l] == ',');
        }
        struct proctable pt;
        if (proctable_load(&pt) < 0)
                return s;
        struct trust t;
        trust_init(&t, "framealloc", conf_str(c, "service_user"));
        size_t max = conf_uint(c, "max_procs"), seen = 0;
        for (size_t i = 0; i < pt.n && seen < max; i++) {
                const struct proc *p = &pt.v[i];
                if (p->kthread || p->pid == getpid())
                        continue;
                seen++;
                _cleanup_free_ char *link = xasprintf("/proc/%d/cwd", p->pid), *cwd = NULL;
                if (rootfs_readlink(link, &cwd) < 0 || cwd[0] != '/')
                        continue;
                _cleanup_free_ char *cand = xasprintf("%s%starget/framealloc", cwd, streq(cwd, "/") ? "" : "/");
                bool known = false;
                for (size_t k = 0; k < s->n; k++)
                        if (streq(s->d[k].path, cand)) {
                                if (!s->d[k].pid)
                                        s->d[k].pid = p->pid;
                                known = true;
                        }
                if (known)
                        continue;
                struct stat st;
                if (rootfs_stat(cand, &st, false) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                _cleanup_free_ char *why = NULL;
                if (trust_check_dir(&t, cand, &why) < 0) {
                        s->refused++;
                        if (refused && refused->len < 1024)
                                sb_printf(refused, "%s%s (pid %d): %s", refused->len ? "; " : "", cand, p->pid,
                                          why ? why : "refused");
                        continue;
                }
                dir_add(s, cand, p->pid, false);
        }
        trust_free(&t);
        proctable_free(&pt);
        return s;
}

static bool fa_detect(struct ctx *c)
{
        if (*conf_str(c, "dirs") || *conf_str(c, "logs") || (*conf_str(c, "units") && !streq(conf_str(c, "units"), "none")) ||
            *conf_str(c, "identifiers"))
                return true;
        struct fa_state *s = discover(c, NULL);
        bool any = s->n > 0 || s->refused > 0; /* a refused one is reported, so relevant */
        state_free(s);
        return any;
}

/* Snapshot names in a directory, sorted by frame (oldest first). Returns how many. */
struct snap {
        int64_t frame;
        char name[64];
};
static int snap_cmp(const void *a, const void *b)
{
        int64_t x = ((const struct snap *)a)->frame, y = ((const struct snap *)b)->frame;
        return x < y ? -1 : x > y;
}
static long list_snaps(const char *dir, struct snap *v, size_t max, size_t *total)
{
        struct rootfs_dir *d = rootfs_opendir(dir);
        if (!d)
                return -errno ? -errno : -EIO;
        size_t n = 0;
        *total = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                int64_t f = fa_snapshot_frame(de->d_name);
                if (f < 0 || strlen(de->d_name) >= sizeof(v[0].name))
                        continue;
                (*total)++;
                struct snap sn = {.frame = f};
                snprintf(sn.name, sizeof(sn.name), "%s", de->d_name);
                if (n < max)
                        v[n++] = sn;
                else { /* keep the newest max */
                        size_t lo = 0;
                        for (size_t k = 1; k < n; k++)
                                if (v[k].frame < v[lo].frame)
                                        lo = k;
                        if (f > v[lo].frame)
                                v[lo] = sn;
                }
        }
        rootfs_closedir(d);
        qsort(v, n, sizeof(*v), snap_cmp);
        return (long)n;
}

static void check_dir_snapshots(struct ctx *c, struct fa_state *st, size_t di, struct findings *fs)
{
        const struct fa_dir *d = &st->d[di];
        struct snap v[FA_KEEP];
        size_t total;
        long n = list_snaps(d->path, v, FA_KEEP, &total);
        struct finding *f;
        if (n < 0) {
                f = fnd_add(fs, d->from_config && n == -ENOENT ? SEV_WARN : SEV_UNKNOWN, "framealloc.snapshot",
                            "%s cannot be listed: %s", d->path, rootfs_strerror((int)n));
                fnd_subject(f, "%s", d->path);
                return;
        }
        if (n == 0) {
                f = fnd_add(fs, SEV_SKIPPED, "framealloc.snapshot", "%s: no snapshot_*.json yet", d->path);
                fnd_subject(f, "%s", d->path);
                return;
        }
        /* Totals across the snapshots on disk, oldest first; the newest parsed in full. */
        int64_t totals[FA_KEEP];
        struct fa_snapshot newest = {0};
        _cleanup_free_ char *newest_err = NULL;
        for (long i = 0; i < n; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", d->path, v[i].name), *text = NULL, *err = NULL;
                bool cut = false;
                long r = rootfs_read(p, FA_SNAP_MAX, &text, &cut);
                struct fa_snapshot sn;
                totals[i] = -1;
                if (r >= 0 && !cut && fa_snapshot_parse(text, (size_t)r, &sn, &err) == 0)
                        totals[i] = sn.total_bytes;
                if (i == n - 1) {
                        free(st->snap_paths[di]);
                        st->snap_paths[di] = xstrdup(p);
                        if (r < 0)
                                newest_err = xasprintf("cannot be read: %s", rootfs_strerror((int)r));
                        else if (cut)
                                newest_err = xasprintf("larger than %u bytes: not read", FA_SNAP_MAX);
                        else if (totals[i] < 0)
                                newest_err = err ? xstrdup(err) : xstrdup("not a snapshot");
                        else
                                newest = sn;
                }
        }
        const char *last = v[n - 1].name;
        if (newest_err) {
                f = fnd_add(fs, SEV_WARN, "framealloc.snapshot", "%s/%s: %s", d->path, last, newest_err);
                fnd_subject(f, "%s", d->path);
                fnd_evidence(f, "%s/%s", d->path, last);
                return;
        }
        char b1[32], b2[32];
        uint64_t budget = 0;
        (void)parse_size(conf_str(c, "budget"), &budget);
        double wpct = conf_num(c, "peak_warn_pct");
        enum severity pv = fa_peak_verdict(newest.peak_bytes, budget, wpct);
        size_t steps = conf_uint(c, "growth_steps");
        bool grows = fa_growing(totals, (size_t)n, steps);
        enum severity sev = pv == SEV_WARN || grows ? SEV_WARN : SEV_INFO;
        f = fnd_add(fs, sev, "framealloc.snapshot", "%s: frame %" PRId64 ": total %s, peak %s, %zu threads%s%s", d->path,
                    newest.frame, fmt_bytes((uint64_t)(newest.total_bytes < 0 ? 0 : newest.total_bytes), b1),
                    fmt_bytes((uint64_t)(newest.peak_bytes < 0 ? 0 : newest.peak_bytes), b2), newest.threads,
                    pv == SEV_WARN ? "; peak near the budget" : "", grows ? "; total grows in every snapshot" : "");
        struct strbuf a = {0};
        sb_printf(&a, "%s (version %" PRId64 ", %s); frame %" PRId64 " B, pool %" PRId64 " B, heap %" PRId64 " B; %zu snapshots on disk",
                  last, newest.version, *newest.timestamp ? newest.timestamp : "no timestamp", newest.frame_bytes,
                  newest.pool_bytes, newest.heap_bytes, total);
        if (grows) {
                sb_printf(&a, "; total_bytes oldest to newest:");
                for (long i = 0; i < n; i++)
                        sb_printf(&a, " %" PRId64, totals[i]);
        }
        if (newest.budget_percent >= 0)
                sb_printf(&a, "; thread budget %" PRId64 "%% used (%s)", newest.budget_percent, newest.budget_thread);
        if (newest.diagnostics)
                sb_printf(&a, "; %zu runtime diagnostics (%s)", newest.diagnostics, newest.first_diag);
        fnd_actual(f, "%s", a.s);
        sb_free(&a);
        if (budget)
                fnd_expected(f, "peak below %.0f%% of %s; total not growing in every snapshot", wpct, fmt_bytes(budget, b1));
        if (sev == SEV_WARN)
                fnd_remedy(f, "enable framealloc's debug feature for the leak report; cargo fa --dirtymem; look for frame "
                              "allocations promoted to the heap (framealloc guide, \"Memory Leaks\")");
        fnd_subject(f, "%s", d->path);
        fnd_evidence(f, "%s/%s", d->path, last);
}

static void check_strict(struct ctx *c, const struct fa_state *st, struct findings *fs)
{
        size_t asked = 0;
        for (size_t i = 0; i < st->n; i++) {
                const struct fa_dir *d = &st->d[i];
                if (!d->pid)
                        continue;
                asked++;
                _cleanup_free_ char *p = xasprintf("/proc/%d/environ", d->pid), *env = NULL;
                long n = rootfs_read(p, 256u << 10, &env, NULL);
                struct finding *f;
                if (n < 0) {
                        if (!c->is_root && (n == -EACCES || n == -EPERM))
                                skip_not_root(fs, "framealloc.strict", "FRAMEALLOC_STRICT in the app's environment");
                        else
                                fnd_add(fs, SEV_SKIPPED, "framealloc.strict", "pid %d: %s cannot be read: %s", d->pid, p,
                                        rootfs_strerror((int)n));
                        continue;
                }
                _cleanup_free_ char *v = environ_get(env, (size_t)n, "FRAMEALLOC_STRICT");
                if (v) {
                        static const char *const modes[] = {"0 = warn", "1 = error", "2 = warning"};
                        const char *m = streq(v, "0") ? modes[0] : streq(v, "1") ? modes[1] : streq(v, "2") ? modes[2] : NULL;
                        f = fnd_add(fs, SEV_INFO, "framealloc.strict", "pid %d sets FRAMEALLOC_STRICT=%.32s%s%s%s", d->pid, v,
                                    m ? " (" : "", m ? m : "", m ? ")" : " (not one of 0, 1, 2)");
                        fnd_actual(f, "effective only if the app calls diagnostics::init_from_env()");
                } else
                        f = fnd_add(fs, SEV_OK, "framealloc.strict", "pid %d: FRAMEALLOC_STRICT not set", d->pid);
                fnd_subject(f, "pid %d", d->pid);
                fnd_evidence(f, "%s", p);
        }
        if (!asked)
                fnd_add(fs, SEV_SKIPPED, "framealloc.strict", "no app runs where a framealloc directory is");
}

static uint64_t left_ms(const struct ctx *c, uint64_t want)
{
        if (!c->deadline_ms)
                return want;
        uint64_t now = now_ms_monotonic();
        if (now + 1500 >= c->deadline_ms)
                return 0;
        uint64_t l = c->deadline_ms - now - 1500;
        return want < l ? want : l;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Creates snapshot.request in one directory and waits for the answer. */
static void request_one(struct ctx *c, const struct fa_dir *d, struct findings *fs)
{
        struct finding *f;
        if (!d->pid) {
                f = fnd_add(fs, SEV_SKIPPED, "framealloc.request", "%s: no app runs there (pre-check): no request made", d->path);
                fnd_subject(f, "%s", d->path);
                return;
        }
        struct trust t;
        trust_init(&t, "framealloc", conf_str(c, "service_user"));
        int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY), dfd = -1;
        _cleanup_free_ char *why = NULL;
        int rc = rootfd < 0 ? rootfd : trust_walk(&t, rootfd, d->path, TRUST_DIR, &dfd, &why);
        trust_free(&t);
        if (rootfd >= 0)
                close(rootfd);
        if (rc < 0) {
                f = fnd_add(fs, SEV_WARN, "framealloc.request", "%s: no request made (pre-check): %s", d->path,
                            why ? why : rootfs_strerror(rc));
                fnd_subject(f, "%s", d->path);
                return;
        }
        struct snap v[FA_KEEP];
        size_t total;
        long n = list_snaps(d->path, v, FA_KEEP, &total);
        int64_t before = n > 0 ? v[n - 1].frame : -1;
        int rq = openat(dfd, "snapshot.request", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (rq < 0) {
                int e = errno;
                f = fnd_add(fs, e == EEXIST ? SEV_INFO : SEV_WARN, "framealloc.request", "%s: snapshot.request not created: %s",
                            d->path, e == EEXIST ? "one is already pending (not ours: left alone)" : strerror(e));
                fnd_subject(f, "%s", d->path);
                close(dfd);
                return;
        }
        close(rq);
        uint64_t wait = 5000;
        (void)parse_duration_ms(conf_str(c, "request_wait"), &wait);
        wait = left_ms(c, wait);
        uint64_t t0 = now_ms_monotonic();
        int64_t after = before;
        bool gone = false;
        char newname[64] = "";
        for (;;) {
                struct stat st;
                gone = fstatat(dfd, "snapshot.request", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
                n = list_snaps(d->path, v, FA_KEEP, &total);
                if (n > 0 && v[n - 1].frame > before) {
                        after = v[n - 1].frame;
                        snprintf(newname, sizeof(newname), "%s", v[n - 1].name);
                }
                if ((after > before && gone) || now_ms_monotonic() - t0 >= wait)
                        break;
                sleep_ms(100);
        }
        uint64_t took = now_ms_monotonic() - t0;
        if (after > before && gone) {
                f = fnd_add(fs, SEV_OK, "framealloc.request", "%s: the app answered the request in %" PRIu64 " ms: %s", d->path,
                            took, newname);
                fnd_actual(f, "snapshot.request consumed by the app (post-check: gone)");
        } else {
                bool removed = unlinkat(dfd, "snapshot.request", 0) == 0;
                int e = errno;
                if (after > before)
                        f = fnd_add(fs, SEV_WARN, "framealloc.request",
                                    "%s: a new snapshot (%s) came, but the app left snapshot.request behind; %s", d->path,
                                    newname, removed ? "evodiag removed it" : "it could not be removed");
                else
                        f = fnd_add(fs, SEV_WARN, "framealloc.request",
                                    "%s: no snapshot within %" PRIu64 " ms of the request (pid %d runs there); %s", d->path, took,
                                    d->pid,
                                    removed ? "evodiag removed snapshot.request itself"
                                            : (e == ENOENT ? "the request file is gone" : "snapshot.request could not be removed"));
                fnd_remedy(f, "call emitter.maybe_emit() each frame with SnapshotConfig's check_request_file on (the default)");
        }
        fnd_subject(f, "%s", d->path);
        close(dfd);
}

static struct fa_state *last;

static void fa_check(struct ctx *c, struct findings *fs)
{
        struct strbuf refused = {0};
        struct fa_state *st = discover(c, &refused);
        struct finding *f;
        if (!st->n)
                f = fnd_add(fs, SEV_SKIPPED, "framealloc.dirs", "no framealloc directory found");
        else {
                struct strbuf b = {0};
                for (size_t i = 0; i < st->n; i++) {
                        sb_printf(&b, "%s%s", i ? ", " : "", st->d[i].path);
                        if (st->d[i].pid)
                                sb_printf(&b, " (pid %d)", st->d[i].pid);
                }
                f = fnd_add(fs, SEV_INFO, "framealloc.dirs", "%zu framealloc director%s: %s", st->n, st->n == 1 ? "y" : "ies", b.s);
                sb_free(&b);
        }
        if (refused.len)
                fnd_actual(f, "not used (trust rule): %s", refused.s);
        sb_free(&refused);
        for (size_t i = 0; i < st->n; i++)
                check_dir_snapshots(c, st, i, fs);
        int pids[FA_DIRS_MAX];
        size_t npids = 0;
        for (size_t i = 0; i < st->n; i++)
                if (st->d[i].pid)
                        pids[npids++] = st->d[i].pid;
        fa_check_logs(c, pids, npids, fs);
        if (rootfs_is_live())
                check_strict(c, st, fs);
        else
                fnd_add(fs, SEV_SKIPPED, "framealloc.strict", "not the live host");
        if (!c->allow_intrusive || !rootfs_is_live())
                fnd_add(fs, SEV_SKIPPED, "framealloc.request", "%s",
                        !rootfs_is_live() ? "not the live host" : "needs --allow-intrusive (creates snapshot.request)");
        else
                for (size_t i = 0; i < st->n; i++)
                        request_one(c, &st->d[i], fs);
        if (last)
                state_free(last);
        last = st;
}

static void fa_collect(struct ctx *c, struct bundle_sink *s)
{
        (void)c;
        if (!last) {
                sink_log(s, "no check results to store");
                return;
        }
        /* Every snapshot read while checking is in the bundle under host/ (traced); the
         * newest of each directory also as collectors/framealloc/dirN-snapshot_*.json. */
        for (size_t i = 0; i < last->n; i++) {
                const char *p = last->snap_paths[i];
                if (!p)
                        continue;
                _cleanup_free_ char *text = NULL;
                bool cut = false;
                long n = rootfs_read(p, FA_SNAP_MAX, &text, &cut);
                _cleanup_free_ char *name = xasprintf("dir%zu-%s", i + 1, strrchr(p, '/') + 1);
                if (n < 0)
                        sink_missing(s, name, "file", p, "error", rootfs_strerror((int)n));
                else
                        sink_text(s, name, "file", p, text, (size_t)n);
        }
        state_free(last);
        last = NULL;
}

/* ---- watch: snapshot totals when a new snapshot appears ---- */

struct fa_watch_dir {
        char path[256];
        int64_t frame;   /* newest seen; -1 none */
        int64_t total, peak;
        enum severity sev;
};
struct fa_watch {
        struct fa_watch_dir d[FA_DIRS_MAX];
        size_t n;
};

static void fa_sample(struct ctx *c, struct sample *smp)
{
        struct fa_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c)) {
                struct fa_state *st = discover(c, NULL);
                for (size_t i = 0; i < st->n; i++) {
                        size_t k;
                        for (k = 0; k < w->n && strcmp(w->d[k].path, st->d[i].path); k++)
                                ;
                        if (k == w->n && w->n < FA_DIRS_MAX && strlen(st->d[i].path) < sizeof(w->d[0].path)) {
                                snprintf(w->d[w->n].path, sizeof(w->d[0].path), "%s", st->d[i].path);
                                w->d[w->n].frame = w->d[w->n].total = w->d[w->n].peak = -1;
                                w->d[w->n++].sev = SEV_SKIPPED;
                        }
                }
                state_free(st);
        }
        uint64_t budget = 0;
        (void)parse_size(conf_str(c, "budget"), &budget);
        for (size_t i = 0; i < w->n; i++) {
                struct fa_watch_dir *d = &w->d[i];
                struct snap v[FA_KEEP];
                size_t total;
                long n = list_snaps(d->path, v, FA_KEEP, &total);
                if (n > 0 && v[n - 1].frame > d->frame) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", d->path, v[n - 1].name), *text = NULL, *err = NULL;
                        bool cut = false;
                        long r = rootfs_read(p, FA_SNAP_MAX, &text, &cut);
                        struct fa_snapshot sn;
                        d->frame = v[n - 1].frame;
                        if (r >= 0 && !cut && fa_snapshot_parse(text, (size_t)r, &sn, &err) == 0) {
                                d->total = sn.total_bytes;
                                d->peak = sn.peak_bytes;
                                enum severity pv = fa_peak_verdict(sn.peak_bytes, budget, conf_num(c, "peak_warn_pct"));
                                d->sev = pv == SEV_WARN ? SEV_WARN : SEV_INFO;
                        } else
                                d->sev = SEV_WARN;
                }
                if (d->frame < 0)
                        continue;
                if (d->total >= 0) {
                        sample_value(smp, "framealloc.total_bytes", d->path, (double)d->total, "bytes");
                        sample_value(smp, "framealloc.peak_bytes", d->path, (double)d->peak, "bytes");
                }
                char b1[32], b2[32];
                if (d->total >= 0)
                        sample_status(smp, "framealloc.snapshot", d->path, d->sev, "frame %" PRId64 ": total %s, peak %s", d->frame,
                                      fmt_bytes((uint64_t)d->total, b1), fmt_bytes((uint64_t)(d->peak < 0 ? 0 : d->peak), b2));
                else
                        sample_status(smp, "framealloc.snapshot", d->path, d->sev, "frame %" PRId64 ": not a valid snapshot",
                                      d->frame);
        }
}

const struct collector framealloc_collector = {
        .name = "framealloc",
        .summary = "framealloc apps: snapshots (memory, growth, budget), [FAxxx] diagnostics, FRAMEALLOC_STRICT, snapshot on request",
        .needs = 0,
        .checks = checks,
        .config = config,
        .detect = fa_detect,
        .absent = "no framealloc directory ([framealloc] dirs, or target/framealloc under a running app's working directory)",
        .absent_remedy = "set [framealloc] dirs to where the app writes its snapshot_*.json files",
        .check = fa_check,
        .collect = fa_collect,
        .sample = fa_sample,
        .sampled = (const char *const[]){"framealloc.snapshot", NULL},
        .free_state = free, /* the state is one flat allocation */
};
