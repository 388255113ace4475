#include "config.h"
#include "lib/procscan.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/satmath.h"
#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>

/* ---- usage ---- */

double usage_pct(uint64_t used, uint64_t limit)
{
        if (limit == LIMIT_UNLIMITED)
                return 0;
        if (limit == 0)
                return used ? 100 : 0;
        return 100.0 * (double)used / (double)limit;
}

enum severity usage_severity(uint64_t used, uint64_t limit, double warn_pct, double crit_pct)
{
        double pct = usage_pct(used, limit);
        if (limit == LIMIT_UNLIMITED)
                return SEV_OK;
        return pct >= crit_pct ? SEV_CRIT : pct >= warn_pct ? SEV_WARN : SEV_OK;
}

enum severity usage_verdict(const struct usage *u, double warn_pct, double crit_pct)
{
        enum severity s = usage_severity(u->used, u->limit, warn_pct, crit_pct);
        return u->at_least && s == SEV_OK ? SEV_UNKNOWN : s;
}

static int usage_cmp(const void *a, const void *b)
{
        const struct usage *x = a, *y = b;
        double px = usage_pct(x->used, x->limit), py = usage_pct(y->used, y->limit);
        if (px != py)
                return px > py ? -1 : 1;
        if (x->used != y->used)
                return x->used > y->used ? -1 : 1;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

void usage_sort(struct usage *v, size_t n)
{
        if (n > 1)
                qsort(v, n, sizeof(*v), usage_cmp);
}

char *usage_list(const struct usage *v, size_t n, size_t k)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        for (size_t i = 0; i < n && i < k; i++) {
                sb_printf(&b, "%spid %d %s %s%" PRIu64 "/", i ? ", " : "", v[i].pid, v[i].comm, v[i].at_least ? "at least " : "",
                          v[i].used);
                if (v[i].limit == LIMIT_UNLIMITED)
                        sb_puts(&b, "unlimited");
                else
                        sb_printf(&b, "%" PRIu64 " (%.1f%%)", v[i].limit, usage_pct(v[i].used, v[i].limit));
        }
        return sb_steal(&b);
}

/* ---- the scan ---- */

static const char *plural(size_t n) { return n == 1 ? "" : "es"; }

bool scan_deadline_near(uint64_t deadline_ms)
{
        return deadline_ms && now_ms_monotonic() + SCAN_DEADLINE_MARGIN_MS >= deadline_ms;
}

static void scan_any(const struct scan_opts *o, const struct proctable *t, long (*measure)(int pid),
                     long (*measure_bounded)(int pid, bool *at_least), struct scan *s)
{
        s->opts = *o;
        uint64_t budget_end = o->budget_ms ? now_ms_monotonic() + o->budget_ms : 0;
        size_t tried = 0;
        for (size_t i = 0; i < t->n; i++) {
                const struct proc *p = &t->v[i];
                /* Kernel threads have no files or address space of their own; evodiag's own
                 * processes are already left out of the table (lib/proctable.c). */
                if (p->kthread)
                        continue;
                s->candidates++;
                if ((o->max_procs && tried >= o->max_procs) || s->out_of_time) {
                        s->not_inspected++;
                        continue;
                }
                /* Stop within the budget, and before the runner's deadline kills us:
                 * partial results beat none. */
                if (scan_deadline_near(o->deadline_ms))
                        s->deadline_hit = true;
                if (s->deadline_hit || (budget_end && now_ms_monotonic() > budget_end)) {
                        s->out_of_time = true;
                        s->not_inspected++;
                        continue;
                }
                tried++;
                bool at_least = false;
                long n = measure ? measure(p->pid) : measure_bounded(p->pid, &at_least);
                if (n == -ENOENT || n == -ESRCH)
                        continue; /* exited while we looked */
                if (n == -EACCES || n == -EPERM) {
                        if (!s->denied++)
                                s->denied_pid = p->pid;
                        continue;
                }
                if (n < 0) {
                        if (!s->failed++) {
                                s->failed_pid = p->pid;
                                s->failed_err = (int)-n;
                        }
                        continue;
                }
                if (s->n == s->cap) {
                        s->cap = s->cap ? s->cap * 2 : 256;
                        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
                }
                struct usage *u = &s->v[s->n++];
                *u = (struct usage){.pid = p->pid, .used = (uint64_t)n, .at_least = at_least};
                snprintf(u->comm, sizeof(u->comm), "%s", p->comm);
        }
}

void scan_procs(const struct scan_opts *o, const struct proctable *t, long (*measure)(int pid), struct scan *s)
{
        scan_any(o, t, measure, NULL, s);
}

void scan_procs_bounded(const struct scan_opts *o, const struct proctable *t, long (*measure)(int pid, bool *at_least),
                        struct scan *s)
{
        scan_any(o, t, NULL, measure, s);
}

void scan_report_gaps(const struct scan *s, const char *id, const char *file, struct findings *fs)
{
        struct finding *f;
        if (s->denied && !s->opts.is_root) {
                f = fnd_add(fs, SEV_SKIPPED, id, "needs root: %zu of %zu process%s belong to other users; their /proc/PID/%s cannot be read (first: pid %d)",
                            s->denied, s->candidates, plural(s->candidates), file, s->denied_pid);
                fnd_remedy(f, "run evodiag as root (sudo evodiag check)");
        } else if (s->denied) {
                /* Root without ptrace rights over them: a container without CAP_SYS_PTRACE,
                 * an LSM. Not the host's fault, so skipped, but never silent. */
                f = fnd_add(fs, SEV_SKIPPED, id, "%zu of %zu process%s could not be inspected: /proc/PID/%s is denied even to root (first: pid %d)",
                            s->denied, s->candidates, plural(s->candidates), file, s->denied_pid);
                fnd_actual(f, "permission denied on /proc/%d/%s", s->denied_pid, file);
                fnd_evidence(f, "/proc/%d/%s", s->denied_pid, file);
                fnd_remedy(f, "run evodiag as root in the host's namespaces with CAP_SYS_PTRACE (not inside a restricted container)");
        }
        if (s->failed) {
                f = fnd_add(fs, SEV_UNKNOWN, id, "%zu process%s could not be inspected: /proc/PID/%s: %s (first: pid %d)", s->failed,
                            plural(s->failed), file, strerror(s->failed_err), s->failed_pid);
                fnd_evidence(f, "/proc/%d/%s", s->failed_pid, file);
        }
}

void scan_report_summary(struct scan *s, const char *id, size_t problems, double warn_pct, size_t top,
                         const char *limit_name, const char *evidence, struct findings *fs)
{
        struct finding *f;
        const char *sec = s->opts.section ? s->opts.section : "?";
        _cleanup_free_ char *left = !s->not_inspected ? xstrdup("")
                : s->deadline_hit ? xasprintf("; %zu not inspected (the collector's deadline was near)", s->not_inspected)
                : xasprintf("; %zu not inspected ([%s] %s)", s->not_inspected, sec, s->out_of_time ? "budget_ms reached" : "max_procs");
        if (s->n == 0 && (s->denied || s->failed))
                return; /* nothing inspected: the gap findings say why, no verdict to give */
        if (s->n == 0) {
                f = fnd_add(fs, s->not_inspected ? SEV_INFO : SEV_OK, id, "no user-space process to inspect%s", left);
                fnd_evidence(f, "/proc");
                return;
        }
        usage_sort(s->v, s->n);
        _cleanup_free_ char *list = usage_list(s->v, s->n, top ? top : 1);
        _cleanup_free_ char *first = usage_list(s->v, s->n, 1);
        /* The summary speaks only of the processes inspected; info, not ok, when some
         * are above the threshold (their own findings carry the verdict) or when the
         * time budget left some out. */
        enum severity sev = problems || s->out_of_time ? SEV_INFO : SEV_OK;
        if (problems)
                f = fnd_add(fs, sev, id, "%zu process%s inspected, %zu at >= %.0f%% of %s%s", s->n, plural(s->n), problems,
                            warn_pct, limit_name, left);
        else
                f = fnd_add(fs, sev, id, "%zu process%s inspected, none at >= %.0f%% of %s; highest: %s%s", s->n, plural(s->n),
                            warn_pct, limit_name, first, left);
        /* The highest share, for monitoring: "fds.process" -> "fds.process_max_used_ratio". */
        _cleanup_free_ char *key = xasprintf("%s_max_used_ratio", id);
        fnd_measure(f, key, usage_pct(s->v[0].used, s->v[0].limit) / 100.0);
        fnd_expected(f, "every process < %.0f%% of %s", warn_pct, limit_name);
        fnd_actual(f, "top by share of limit: %s", list);
        fnd_evidence(f, "%s", evidence);
}

void scan_free(struct scan *s)
{
        free(s->v);
        *s = (struct scan){0};
}

/* ---- the limit to suggest ---- */

uint64_t nofile_target(uint64_t soft, uint64_t nr_open)
{
        uint64_t t = sat_mul_u64(soft, 2);
        if (t < 65536)
                t = 65536;
        if (nr_open && t > nr_open)
                t = nr_open;
        return t > soft ? t : 0;
}

uint64_t map_count_target(uint64_t cur, bool lavinmq)
{
        uint64_t t = sat_mul_u64(cur, 2);
        if (t < 262144)
                t = 262144;
        if (lavinmq && t < 1000000)
                t = 1000000;
        return t;
}

/* The last ".service" component of a cgroup path, unless it is a user's unit. */
static char *unit_of_path(const char *path)
{
        if (strstr(path, "/user.slice/") || startswith(path, "user.slice/"))
                return NULL;
        char *unit = NULL;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                size_t n = strcspn(p, "/\n");
                if (n > 8 && strncmp(p + n - 8, ".service", 8) == 0) {
                        free(unit);
                        unit = xstrndup(p, n);
                }
                p += n;
                if (*p == '\n')
                        break;
        }
        return unit;
}

char *unit_from_cgroup(const char *text)
{
        /* cgroup v2 ("0::/system.slice/x.service") first, then v1's name=systemd line. */
        for (int pass = 0; pass < 2; pass++) {
                for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        const char *path = NULL, *c = strchr(l, ':'), *nl = strchr(l, '\n');
                        if (pass == 0 && startswith(l, "0::"))
                                path = l + 3;
                        else if (pass == 1 && c && (!nl || c < nl) && startswith(c + 1, "name=systemd:"))
                                path = c + 1 + strlen("name=systemd:");
                        char *u = path ? unit_of_path(path) : NULL;
                        if (u)
                                return u;
                }
        }
        return NULL;
}
