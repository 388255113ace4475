/* node_exporter textfile-collector format: one schema (report/prometheus.h) for
 * check's findings and watch's rounds, one writer of the file. */
#include "config.h"
#include "report/prometheus.h"
#include "collectors/sampler.h"
#include "lib/escape.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* ---- the measured values: one table for check and watch ---- */

enum agg { AGG_MAX, AGG_MIN };

/* A gauge of a value a threshold compares. check: findings with measure `key`
 * (lib/finding.h fnd_measure); watch: sample values `wkey` (divided by `wden` of
 * the same subject, or of no subject, times `wscale`). `label`: the subject as a
 * label (a stable name: a pool size, a segment name); NULL: one series, the
 * worst (agg) of every subject: a pid never becomes a label. */
static const struct prom_gauge {
        const char *key, *label;
        enum agg agg;
        const char *help;
        const char *wkey, *wden;
        double wscale;
} prom_gauges[] = {
        {"fds.system_used_ratio", NULL, AGG_MAX, "Share of fs.file-max in use on the host (0-1).", "fds.system_used",
         "fds.system_max", 1},
        {"fds.process_max_used_ratio", NULL, AGG_MAX, "Highest share of its soft open-files limit a process uses (0-1).",
         "fds.open", "fds.limit", 1},
        {"maps.process_max_used_ratio", NULL, AGG_MAX, "Highest share of vm.max_map_count a process uses (0-1).",
         "maps.areas", "maps.max_map_count", 1},
        {"hugepages.available_pages", "pool", AGG_MIN, "Free and unreserved huge pages of each pool.",
         "hugepages.available", NULL, 1},
        {"evo.heartbeat_hertz", "segment", AGG_MIN, "Rate at which each EVO segment's heartbeat advances.",
         "evo.heartbeat_hz", NULL, 1},
        {"memory.available_bytes", NULL, AGG_MIN, "MemAvailable: memory available for new allocations.",
         "memory.available_bytes", NULL, 1},
        {"shm.tmpfs_used_ratio", NULL, AGG_MAX, "Share of /dev/shm's space in use (0-1).", "shm.tmpfs_used_pct", NULL,
         0.01},
        {"lavinmq.disk_free_bytes", NULL, AGG_MIN, "Free space for LavinMQ's data directory.",
         "lavinmq.disk_free_bytes", NULL, 1},
};

int prom_severity_value(enum severity s)
{
        switch (s) {
        case SEV_CRIT: return 2;
        case SEV_WARN: return 1;
        case SEV_UNKNOWN: return 3;
        case SEV_SKIPPED: return -1;
        default: return 0; /* ok, info */
        }
}

/* ---- what one document holds, from either source ---- */

struct pstatus {
        const char *id;
        enum severity sev;
};
struct pmeasure {
        size_t g;          /* index in prom_gauges */
        const char *label; /* NULL when the gauge has none */
        double v;
};
struct pcollector {
        const char *name;
        bool up;
        double seconds; /* < 0: not measured (watch) */
};
struct pdoc {
        const char *source, *host;
        struct pstatus *st;
        size_t nst, capst;
        struct pmeasure *m;
        size_t nm, capm;
        struct pcollector *col;
        size_t ncol, capcol;
        size_t counts[_SEV_MAX];
        int exit_code;
        bool have_events;
        uint64_t events_total;
        uint64_t time_ms;
};

#define GROW(arr, n, cap)                                                    \
        do {                                                                 \
                if ((n) == (cap)) {                                          \
                        (cap) = (cap) ? (cap) * 2 : 32;                      \
                        (arr) = xrealloc((arr), (cap) * sizeof(*(arr)));     \
                }                                                            \
        } while (0)

static void add_status(struct pdoc *d, const char *id, enum severity sev)
{
        GROW(d->st, d->nst, d->capst);
        d->st[d->nst++] = (struct pstatus){id, sev};
        if (sev < _SEV_MAX)
                d->counts[sev]++;
}

static void add_measure(struct pdoc *d, size_t g, const char *subject, double v)
{
        if (!isfinite(v))
                return;
        if (prom_gauges[g].label && !subject)
                return; /* a per-name gauge needs the name */
        GROW(d->m, d->nm, d->capm);
        d->m[d->nm++] = (struct pmeasure){g, prom_gauges[g].label ? subject : NULL, v};
}

static void add_collector(struct pdoc *d, const char *name, bool up, double seconds)
{
        GROW(d->col, d->ncol, d->capcol);
        d->col[d->ncol++] = (struct pcollector){name, up, seconds};
}

static void pdoc_free(struct pdoc *d)
{
        free(d->st);
        free(d->m);
        free(d->col);
}

/* ---- writing ---- */

/* Label values: any bytes from the host, one line, valid UTF-8, quotes escaped. */
static void label(FILE *out, const char *s)
{
        struct strbuf b = {0};
        esc_prom_label_value(&b, s);
        fputs(b.s, out);
        sb_free(&b);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{source="...",[lname="lval"]} */
static void series(FILE *out, const char *name, const struct pdoc *d, const char *lname, const char *lval)
{
        fputs(name, out);
        fputs("{source=\"", out);
        fputs(d->source, out);
        if (lname) {
                fprintf(out, "\",%s=\"", lname);
                label(out, lval);
        }
        fputs("\"} ", out);
}

/* Numbers in the exposition format, never in exponent notation. */
static void number(FILE *f, double v)
{
        if (v == floor(v) && fabs(v) < 1e15)
                fprintf(f, "%.0f\n", v);
        else
                fprintf(f, "%.6f\n", v);
}

static int by_id(const void *a, const void *b)
{
        return strcmp(((const struct pstatus *)a)->id, ((const struct pstatus *)b)->id);
}

static int by_gauge_label(const void *a, const void *b)
{
        const struct pmeasure *x = a, *y = b;
        if (x->g != y->g)
                return x->g < y->g ? -1 : 1;
        return strcmp(x->label ? x->label : "", y->label ? y->label : "");
}

/* "fds.system_used_ratio" -> "evodiag_fds_system_used_ratio" */
static void gauge_name(const char *key, char buf[static 96])
{
        snprintf(buf, 96, "evodiag_%s", key);
        for (char *p = buf; *p; p++)
                if (*p == '.')
                        *p = '_';
}

static void write_doc(FILE *out, struct pdoc *d)
{
        family(out, "evodiag_info", "gauge", "Always 1: the host evodiag inspected and evodiag's version.");
        fputs("evodiag_info{source=\"", out);
        fputs(d->source, out);
        fputs("\",host=\"", out);
        label(out, d->host ? d->host : "unknown");
        fputs("\",version=\"" PACKAGE_VERSION "\"} 1\n", out);

        family(out, "evodiag_check_status", "gauge",
               "Worst verdict of each check ID: 0 ok or info, 1 warn, 2 crit, 3 unknown, -1 skipped (not checked).");
        if (d->nst > 1) /* (qsort of a NULL array is undefined, even of none) */
                qsort(d->st, d->nst, sizeof(*d->st), by_id);
        for (size_t i = 0; i < d->nst;) {
                enum severity w = d->st[i].sev;
                size_t k = i + 1;
                for (; k < d->nst && streq(d->st[k].id, d->st[i].id); k++)
                        if (d->st[k].sev > w)
                                w = d->st[k].sev;
                series(out, "evodiag_check_status", d, "id", d->st[i].id);
                fprintf(out, "%d\n", prom_severity_value(w));
                i = k;
        }

        family(out, "evodiag_findings", "gauge", "Findings (watch: current statuses) per severity.");
        for (int s = 0; s < _SEV_MAX; s++) {
                series(out, "evodiag_findings", d, "severity", severity_name((enum severity)s));
                fprintf(out, "%zu\n", d->counts[s]);
        }

        family(out, "evodiag_collector_up", "gauge", "1 if the collector ran to completion (watch: its sampler answers), 0 if it timed out or crashed.");
        for (size_t i = 0; i < d->ncol; i++) {
                series(out, "evodiag_collector_up", d, "collector", d->col[i].name);
                fprintf(out, "%d\n", d->col[i].up);
        }
        bool timed = false;
        for (size_t i = 0; i < d->ncol; i++)
                timed |= d->col[i].seconds >= 0;
        if (timed) {
                family(out, "evodiag_collector_duration_seconds", "gauge", "Wall time of each collector.");
                for (size_t i = 0; i < d->ncol; i++)
                        if (d->col[i].seconds >= 0) {
                                series(out, "evodiag_collector_duration_seconds", d, "collector", d->col[i].name);
                                fprintf(out, "%.3f\n", d->col[i].seconds);
                        }
        }

        family(out, "evodiag_exit_code", "gauge", "Exit code of the verdict: 0 ok, 1 warn, 2 crit, 3 unknown.");
        series(out, "evodiag_exit_code", d, NULL, NULL);
        fprintf(out, "%d\n", d->exit_code);
        if (d->have_events) {
                family(out, "evodiag_events_total", "counter", "Severity changes seen since evodiag watch started.");
                series(out, "evodiag_events_total", d, NULL, NULL);
                fprintf(out, "%llu\n", (unsigned long long)d->events_total);
        }
        family(out, "evodiag_last_run_timestamp_seconds", "gauge", "When the check ran (watch: the last sample round).");
        series(out, "evodiag_last_run_timestamp_seconds", d, NULL, NULL);
        fprintf(out, "%.3f\n", (double)d->time_ms / 1000.0);

        /* The measured values: one family per gauge, every family always declared. */
        if (d->nm > 1)
                qsort(d->m, d->nm, sizeof(*d->m), by_gauge_label);
        size_t i = 0;
        for (size_t g = 0; g < ARRAY_SIZE(prom_gauges); g++) {
                const struct prom_gauge *pg = &prom_gauges[g];
                char name[96];
                gauge_name(pg->key, name);
                family(out, name, "gauge", pg->help);
                while (i < d->nm && d->m[i].g == g) {
                        double v = d->m[i].v;
                        size_t k = i + 1;
                        for (; k < d->nm && d->m[k].g == g && !by_gauge_label(&d->m[i], &d->m[k]); k++)
                                v = pg->agg == AGG_MAX ? fmax(v, d->m[k].v) : fmin(v, d->m[k].v);
                        series(out, name, d, pg->label, d->m[i].label);
                        number(out, v);
                        i = k;
                }
        }
}

/* ---- check ---- */

static size_t gauge_of_measure(const char *key)
{
        for (size_t g = 0; g < ARRAY_SIZE(prom_gauges); g++)
                if (streq(prom_gauges[g].key, key))
                        return g;
        return SIZE_MAX;
}

void report_prometheus(FILE *out, const struct report *rep)
{
        struct pdoc d = {.source = "check", .host = rep->host, .exit_code = report_exit_code(rep), .time_ms = rep->started_ms};
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status != RUN_NOT_SELECTED && r->status != RUN_NOT_APPLICABLE)
                        add_collector(&d, r->c->name, r->status == RUN_OK, (double)r->duration_ms / 1000.0);
                for (size_t k = 0; k < r->fs.n; k++) {
                        const struct finding *f = &r->fs.v[k];
                        add_status(&d, f->id, f->sev);
                        size_t g = f->measure ? gauge_of_measure(f->measure) : SIZE_MAX;
                        if (g != SIZE_MAX)
                                add_measure(&d, g, f->subject, f->value);
                }
        }
        write_doc(out, &d);
        pdoc_free(&d);
}

/* ---- watch ---- */

/* Denominators by subject (64-bit FNV-1a, open addressing): one pass over the
 * values, no allocation per value. A (practically impossible) collision only
 * drops a ratio, never makes the file invalid. */
struct den_map {
        uint64_t *h;
        double *v;
        size_t cap;
};

static uint64_t subject_hash(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *p = s ? s : ""; *p; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        return h | 1; /* 0 marks an empty slot */
}

static void den_put(struct den_map *m, const char *subject, double v)
{
        uint64_t h = subject_hash(subject);
        for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
                if (!m->h[i] || m->h[i] == h) {
                        m->h[i] = h;
                        m->v[i] = v;
                        return;
                }
}

static bool den_get(const struct den_map *m, const char *subject, double *v)
{
        uint64_t h = subject_hash(subject);
        for (size_t i = h & (m->cap - 1); m->h[i]; i = (i + 1) & (m->cap - 1))
                if (m->h[i] == h) {
                        *v = m->v[i];
                        return true;
                }
        return false;
}

static void watch_gauge(struct pdoc *d, size_t g, const struct sample_answer *a)
{
        const struct prom_gauge *pg = &prom_gauges[g];
        struct den_map m = {0};
        double global_den = NAN;
        if (pg->wden) {
                m.cap = 16;
                while (m.cap < a->nv * 2)
                        m.cap *= 2;
                m.h = xcalloc(m.cap, sizeof(*m.h));
                m.v = xcalloc(m.cap, sizeof(*m.v));
                for (size_t i = 0; i < a->nv; i++)
                        if (streq(a->v[i].key, pg->wden)) {
                                if (a->v[i].subject)
                                        den_put(&m, a->v[i].subject, a->v[i].value);
                                else
                                        global_den = a->v[i].value;
                        }
        }
        for (size_t i = 0; i < a->nv; i++) {
                const struct svalue *v = &a->v[i];
                if (!streq(v->key, pg->wkey))
                        continue;
                double x = v->value * pg->wscale;
                if (pg->wden) {
                        double den = global_den;
                        if (v->subject && !den_get(&m, v->subject, &den))
                                den = global_den;
                        if (!(den > 0))
                                continue; /* no limit known (or unlimited): no share */
                        x /= den;
                }
                add_measure(d, g, v->subject, x);
        }
        free(m.h);
        free(m.v);
}

void report_prometheus_watch(FILE *f, const struct watch *w, const char *host, uint64_t events_total, uint64_t time_ms)
{
        struct pdoc d = {.source = "watch", .host = host, .have_events = true, .events_total = events_total, .time_ms = time_ms};
        enum severity worst = SEV_SKIPPED;
        for (size_t i = 0; i < w->nst; i++) {
                add_status(&d, w->st[i].id, w->st[i].sev);
                if (w->st[i].sev > worst)
                        worst = w->st[i].sev;
        }
        d.exit_code = severity_exit_code(worst);
        for (size_t k = 0; k < w->n; k++) {
                const struct sampler *s = &w->s[k];
                if (s->state == SP_NOT_APPLICABLE)
                        continue;
                add_collector(&d, s->c->name, !s->problem, -1);
                size_t nl = strlen(s->c->name);
                for (size_t g = 0; g < ARRAY_SIZE(prom_gauges); g++)
                        if (!strncmp(prom_gauges[g].wkey, s->c->name, nl) && prom_gauges[g].wkey[nl] == '.')
                                watch_gauge(&d, g, &s->cur);
        }
        write_doc(f, &d);
        pdoc_free(&d);
}

struct watch_doc {
        const struct watch *w;
        const char *host;
        uint64_t events_total, time_ms;
};

static void render_watch(FILE *f, const void *arg)
{
        const struct watch_doc *wd = arg;
        report_prometheus_watch(f, wd->w, wd->host, wd->events_total, wd->time_ms);
}

int prom_textfile_write(struct prom_textfile *t, const struct watch *w, uint64_t events_total, uint64_t time_ms, char **why)
{
        struct watch_doc wd = {w, t->host, events_total, time_ms};
        return prom_textfile_write_with(t, render_watch, &wd, why);
}

/* ---- the file ---- */

static const char *tf_name(const struct prom_textfile *t) { return t->name ? t->name : "evodiag_watch.prom"; }

/* The lock that keeps two writers apart (a cron'd check overlapping the last, two
 * watches, watch and check in one directory): flock on the directory itself, so no
 * lock file is left behind; held from the rewrite to the rename, waited for up to 2 s. */
static int tf_lock(const struct prom_textfile *t, char **why)
{
        int fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                if (why)
                        *why = xasprintf("--textfile %s: %s", t->dir, strerror(e));
                return -e;
        }
        for (int i = 0; i < 100; i++) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return fd;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
        }
        int e = errno == EWOULDBLOCK ? EBUSY : errno;
        close(fd);
        if (why)
                *why = xasprintf("--textfile %s: another process holds its lock for more than 2 s", t->dir);
        return -e;
}

int prom_textfile_write_with(struct prom_textfile *t, void (*render)(FILE *f, const void *arg), const void *arg, char **why)
{
        *why = NULL;
        const char *name = tf_name(t);
        int lk = tf_lock(t, why);
        if (lk < 0)
                return lk;
        _cleanup_free_ char *final = xasprintf("%s/%s", t->dir, name);
        _cleanup_free_ char *buf = xasprintf("%s/.%s.%c", t->dir, name, t->flip++ & 1 ? 'b' : 'a');
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.new", t->dir, name);
        /* Not O_TRUNC: ext4 flushes a file truncated to 0 and rewritten at close
         * (auto_da_alloc); the tail is cut with ftruncate below instead. */
        int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        struct stat bs, fs;
        if (fd >= 0 && fstat(fd, &bs) == 0 && stat(final, &fs) == 0 && bs.st_ino == fs.st_ino && bs.st_dev == fs.st_dev) {
                /* Another writer of this name (a second check) published this buffer:
                 * rewriting it in place would tear what readers see. A new inode. */
                close(fd);
                (void)unlink(buf);
                fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        }
        if (fd < 0) {
                int e = errno;
                *why = xasprintf("--textfile %s: %s", buf, strerror(e));
                close(lk);
                return -e;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                int e = errno;
                close(fd);
                close(lk);
                *why = xasprintf("--textfile %s: %s", buf, strerror(e));
                return -e;
        }
        render(f, arg);
        (void)fchmod(fd, 0644); /* node_exporter usually runs as another user */
        errno = 0;
        bool ok = fflush(f) == 0 && !ferror(f) && ftruncate(fd, ftello(f)) == 0;
        fclose(f);
        (void)unlink(tmp); /* left by a crash between link and rename */
        if (!ok || link(buf, tmp) < 0 || rename(tmp, final) < 0) {
                int e = errno ? errno : EIO;
                *why = xasprintf("--textfile %s: %s", final, strerror(e));
                (void)unlink(tmp);
                close(lk);
                return -e;
        }
        close(lk);
        return 0;
}

void prom_textfile_done(struct prom_textfile *t)
{
        int lk = tf_lock(t, NULL);
        for (const char *x = "ab"; *x; x++) {
                _cleanup_free_ char *p = xasprintf("%s/.%s.%c", t->dir, tf_name(t), *x);
                (void)unlink(p);
        }
        if (lk >= 0)
                close(lk);
}
