/* node_exporter textfile-collector format: check's findings and watch's rounds. */
#include "config.h"
#include "report/prometheus.h"
#include "collectors/sampler.h"
#include "lib/escape.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

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

/* The value of a verdict, the same in check and watch. */
static int status_value(enum severity s)
{
        return s == SEV_CRIT ? 2 : s == SEV_WARN ? 1 : s == SEV_UNKNOWN ? 3 : 0;
}

/* A verdict's sample: NAME{[collector="...",]id="...",subject="...",severity="..."} N */
static void status_sample(FILE *out, const char *name, const char *collector, const char *id, const char *subject, enum severity sev)
{
        fprintf(out, "%s{", name);
        if (collector) {
                fputs("collector=\"", out);
                label(out, collector);
                fputs("\",", out);
        }
        fputs("id=\"", out);
        label(out, id);
        fputs("\",subject=\"", out);
        label(out, subject ? subject : "");
        fprintf(out, "\",severity=\"%s\"} %d\n", severity_name(sev), status_value(sev));
}

/* Numbers in the exposition format, never in exponent notation. */
static void number(FILE *f, double v)
{
        if (v == floor(v) && fabs(v) < 1e15)
                fprintf(f, "%.0f", v);
        else
                fprintf(f, "%.6f", v);
}

/* ---- check ---- */

void report_prometheus(FILE *out, const struct report *rep)
{
        family(out, "evodiag_check_status", "gauge", "Verdict of one evodiag check: 0 ok/info/skipped, 1 warn, 2 crit, 3 unknown.");
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                        const struct finding *f = &rep->r[i].fs.v[k];
                        status_sample(out, "evodiag_check_status", rep->r[i].c->name, f->id, f->subject, f->sev);
                }
        family(out, "evodiag_collector_up", "gauge", "1 if the collector ran to completion, 0 if it timed out or crashed.");
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_SELECTED || r->status == RUN_NOT_APPLICABLE)
                        continue;
                fputs("evodiag_collector_up{collector=\"", out);
                label(out, r->c->name);
                fprintf(out, "\"} %d\n", r->status == RUN_OK);
        }
        family(out, "evodiag_collector_duration_seconds", "gauge", "Wall time of each collector.");
        for (size_t i = 0; i < rep->n; i++) {
                const struct run_result *r = &rep->r[i];
                if (r->status == RUN_NOT_SELECTED || r->status == RUN_NOT_APPLICABLE)
                        continue;
                fputs("evodiag_collector_duration_seconds{collector=\"", out);
                label(out, r->c->name);
                fprintf(out, "\"} %.3f\n", (double)r->duration_ms / 1000.0);
        }
        size_t c[_SEV_MAX];
        report_count(rep, c);
        family(out, "evodiag_findings", "gauge", "Number of findings per severity.");
        for (int s = 0; s < _SEV_MAX; s++)
                fprintf(out, "evodiag_findings{severity=\"%s\"} %zu\n", severity_name((enum severity)s), c[s]);
        family(out, "evodiag_exit_code", "gauge", "Exit code of the run (0 ok, 1 warn, 2 crit, 3 unknown).");
        fprintf(out, "evodiag_exit_code %d\n", report_exit_code(rep));
        family(out, "evodiag_last_run_timestamp_seconds", "gauge", "When the run started.");
        fprintf(out, "evodiag_last_run_timestamp_seconds %.3f\n", (double)rep->started_ms / 1000.0);
}

/* ---- watch ---- */

/* The label sets written so far (64-bit FNV-1a of key and subject, open
 * addressing): no allocation per value, and a (practically impossible) hash
 * collision only drops one value from the file, never makes it invalid. */
struct seen_set {
        uint64_t *h;
        size_t cap;
};

static struct seen_set seen_new(size_t n)
{
        size_t cap = 64;
        while (cap < n * 2)
                cap *= 2;
        return (struct seen_set){.h = xcalloc(cap, sizeof(uint64_t)), .cap = cap};
}

static bool seen_add(struct seen_set *s, const char *key, const char *subject)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *p = key; *p; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        h = (h ^ 0x1f) * 0x100000001b3ull;
        for (const char *p = subject ? subject : ""; *p; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        h |= 1; /* 0 marks an empty slot */
        for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
                if (s->h[i] == h)
                        return false;
                if (!s->h[i]) {
                        s->h[i] = h;
                        return true;
                }
        }
}

void report_prometheus_watch(FILE *f, const struct watch *w, uint64_t events_total, uint64_t time_ms)
{
        /* Straight from the samplers' latest values and the status table: no copies. */
        size_t nvals = 0;
        for (size_t k = 0; k < w->n; k++)
                nvals += w->s[k].cur.nv;
        struct seen_set seen = seen_new(nvals);
        family(f, "evodiag_watch_value", "gauge", "Latest value sampled by evodiag watch (key: <collector>.<what>).");
        for (size_t k = 0; k < w->n; k++)
                for (size_t i = 0; i < w->s[k].cur.nv; i++) {
                        const struct svalue *v = &w->s[k].cur.v[i];
                        if (!isfinite(v->value) || !seen_add(&seen, v->key, v->subject))
                                continue; /* one sample per label set, or the file is invalid */
                        fputs("evodiag_watch_value{key=\"", f);
                        label(f, v->key);
                        fputs("\",subject=\"", f);
                        label(f, v->subject ? v->subject : "");
                        fputs("\"} ", f);
                        number(f, v->value);
                        fputc('\n', f);
                }
        free(seen.h);
        family(f, "evodiag_watch_status", "gauge", "Severity of a watched status: 0 ok/info/skipped, 1 warn, 2 crit, 3 unknown.");
        for (size_t i = 0; i < w->nst; i++)
                status_sample(f, "evodiag_watch_status", NULL, w->st[i].id, w->st[i].subject, w->st[i].sev);
        family(f, "evodiag_watch_sampler_up", "gauge", "1 while the collector's sampler answers, 0 when it timed out or crashed.");
        for (size_t i = 0; i < w->n; i++)
                if (w->s[i].state != SP_NOT_APPLICABLE)
                        fprintf(f, "evodiag_watch_sampler_up{collector=\"%s\"} %d\n", w->s[i].c->name, w->s[i].problem ? 0 : 1);
        family(f, "evodiag_watch_events_total", "counter", "Severity changes seen since evodiag watch started.");
        fprintf(f, "evodiag_watch_events_total %llu\n", (unsigned long long)events_total);
        family(f, "evodiag_watch_last_sample_timestamp_seconds", "gauge", "When the last sample round was taken.");
        fprintf(f, "evodiag_watch_last_sample_timestamp_seconds %.3f\n", (double)time_ms / 1000.0);
}

int prom_textfile_write(struct prom_textfile *t, const struct watch *w, uint64_t events_total, uint64_t time_ms, char **why)
{
        *why = NULL;
        _cleanup_free_ char *final = xasprintf("%s/evodiag_watch.prom", t->dir);
        _cleanup_free_ char *buf = xasprintf("%s/.evodiag_watch.prom.%c", t->dir, t->flip++ & 1 ? 'b' : 'a');
        _cleanup_free_ char *tmp = xasprintf("%s/.evodiag_watch.prom.new", t->dir);
        /* Not O_TRUNC: ext4 flushes a file truncated to 0 and rewritten at close
         * (auto_da_alloc); the tail is cut with ftruncate below instead. */
        int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                int e = errno;
                *why = xasprintf("--textfile %s: %s", buf, strerror(e));
                return -e;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                int e = errno;
                close(fd);
                *why = xasprintf("--textfile %s: %s", buf, strerror(e));
                return -e;
        }
        report_prometheus_watch(f, w, events_total, time_ms);
        (void)fchmod(fd, 0644); /* node_exporter usually runs as another user */
        bool ok = fflush(f) == 0 && !ferror(f) && ftruncate(fd, ftello(f)) == 0;
        fclose(f);
        (void)unlink(tmp); /* left by a crash between link and rename */
        if (!ok || link(buf, tmp) < 0 || rename(tmp, final) < 0) {
                int e = errno ? errno : EIO;
                *why = xasprintf("--textfile %s: %s", final, strerror(e));
                (void)unlink(tmp);
                return -e;
        }
        return 0;
}

void prom_textfile_done(struct prom_textfile *t)
{
        for (const char *x = "ab"; *x; x++) {
                _cleanup_free_ char *p = xasprintf("%s/.evodiag_watch.prom.%c", t->dir, *x);
                (void)unlink(p);
        }
}
