#include "config.h"
#include "report/bundle.h"
#include "report/bundle_private.h"
#include "report/bundle_output.h"
#include "report/bundle_trim.h"
#include "collectors/frame.h"
#include "collectors/runner.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/dircount.h"
#include "lib/hostfacts.h"
#include "lib/namefit.h"
#include "lib/redact.h"
#include "lib/sha256.h"
#include "report/archive.h"
#include "report/issue.h"
#include "report/manifest.h"
#include "report/recorder.h"
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

volatile sig_atomic_t bundle_interrupted;

static void on_signal(int sig)
{
        bundle_interrupted = sig;
}

void bundle_incomplete(struct bundle *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *line = esc_text_dup(raw);
        sb_putn(&b->incomplete, line, strlen(line) + 1);
}

size_t bundle_keep_artifact(struct bundle *b, struct manifest_artifact *a)
{
        size_t i = artstore_add(&b->arts, a);
        artifact_free(a);
        *a = (struct manifest_artifact){0};
        return i;
}

void bundle_log(struct bundle *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *msg = esc_text_dup(raw); /* host names in it: one line, no control characters */
        uint64_t ms = now_ms_monotonic() - b->t0;
        sb_printf(&b->log, "[%4llu.%03llus] %s\n", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000), msg);
}

static void progress(struct bundle *b, size_t i, size_t n, const char *name)
{
        if (!b->o->progress)
                return;
        char sz[32];
        fprintf(stderr, "\revodiag: [%zu/%zu] %-12s %zu files, %s   ", i, n, name, b->files, fmt_bytes(b->payload, sz));
        fflush(stderr);
}

/* Redacts a document of ours (at a path under the top directory) and adds it; its
 * SHA-256 goes to the manifest, unless kind is NULL (the manifest itself). */
static void add_doc_len(struct bundle *b, const char *name, const char *text, size_t len, const char *kind, const char *origin)
{
        unsigned n = 0;
        if (!text)
                text = "";
        char *red = b->red ? redact(b->red, text, len, &len, &n) : NULL;
        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, name);
        char sha[65];
        archive_out_buffer(b->ar, full, red ? red : text, len, now_ms_realtime() / 1000, sha);
        b->payload += len;
        b->files++;
        if (kind) {
                struct manifest_artifact m = {
                        .path = xstrdup(name), .kind = xstrdup(kind), .origin = xstrdup(origin), .status = xstrdup("ok"),
                        .bytes = num((int64_t)len), .sha256 = xstrdup(sha), .redactions = num(n),
                };
                bundle_keep_artifact(b, &m);
        }
        free(red);
}

static void add_doc(struct bundle *b, const char *name, const char *text, const char *kind)
{
        add_doc_len(b, name, text, strlen(text), kind, "evodiag");
}

static char *render_text_report(const struct report *rep)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        report_text(f, rep, false, 1);
        fclose(f);
        return buf;
}

/* Nothing silently absent: what was not collected, and why, at the end of summary.txt. */
static void missing_section(struct bundle *b, struct strbuf *s, const struct report *rep, bool complete)
{
        sb_puts(s, "\n== Missing data\n");
        size_t n = 0;
        if (!complete) {
                sb_puts(s, "- the bundle is INCOMPLETE:\n");
                for (size_t at = 0; at < b->incomplete.len; at += strlen(b->incomplete.s + at) + 1)
                        sb_printf(s, "  - %s\n", b->incomplete.s + at); /* escaped when added */
                n++;
        }
        (void)rep;
        for (size_t i = 0; i < b->arts.n; i++) {
                struct manifest_artifact a;
                artstore_get(&b->arts, i, &a);
                const struct manifest_artifact *m = &a;
                const char *st = m->status;
                if (st && !streq(st, "ok")) {
                        /* paths, origins and errors name host files: escaped like the report above */
                        _cleanup_free_ char *raw = xasprintf("- %s (%s): %s%s%s", m->path, m->origin ? m->origin : "", st,
                                                             m->error ? ": " : "", m->error ? m->error : "");
                        esc_text(s, raw, 0);
                        sb_putc(s, '\n');
                        n++;
                }
                artifact_free(&a);
        }
        if (!n)
                sb_puts(s, "nothing: every collector finished and every artifact is whole\n");
}

#define LIMITS_SHOWN 4 /* component processes whose limits ISSUE.md shows */

/* The limits of the component processes (ISSUE.md), not evodiag's own: each process
 * whose /proc/PID/limits a finding names as its evidence, as the bundle stored it (the
 * snapshot of what the checks read: rootfs.h). */
static json_object *component_limits(const struct report *rep)
{
        json_object *out = json_object_new_array(), *seen = json_object_new_object();
        for (size_t i = 0; i < rep->n; i++)
                for (size_t k = 0; k < rep->r[i].fs.n; k++) {
                        const char *ev = rep->r[i].fs.v[k].evidence;
                        for (const char *p = ev; p && (p = strstr(p, "/proc/")); p += 6) {
                                size_t d = strspn(p + 6, "0123456789");
                                if (!d || d > 9 || !startswith(p + 6 + d, "/limits"))
                                        continue;
                                _cleanup_free_ char *pid = xstrndup(p + 6, d);
                                _cleanup_free_ char *lp = xasprintf("/proc/%s/limits", pid), *cp = xasprintf("/proc/%s/comm", pid);
                                _cleanup_free_ char *text = NULL, *comm = NULL;
                                size_t tl, cl;
                                if (json_object_object_get_ex(seen, pid, NULL) || json_object_array_length(out) >= LIMITS_SHOWN ||
                                    !rootfs_snapshot_get(lp, &text, &tl))
                                        continue;
                                json_object_object_add(seen, pid, NULL);
                                json_object *e = json_object_new_object();
                                _cleanup_free_ char *name = rootfs_snapshot_get(cp, &comm, &cl) ? xstrndup(comm, strcspn(comm, "\n"))
                                                                                                : xstrdup(rep->r[i].c->name);
                                json_object_object_add(e, "process", json_object_new_string(name));
                                json_object_object_add(e, "pid", json_object_new_string(pid));
                                json_object_object_add(e, "text", json_object_new_string_len(text, (int)(tl < (1u << 16) ? tl : 1u << 16)));
                                json_object_array_add(out, e);
                        }
                }
        json_object_put(seen);
        return out;
}

/* NUL-separated lines as a JSON array of strings. */
static json_object *lines_json(const struct strbuf *lines)
{
        json_object *a = json_object_new_array();
        for (size_t at = 0; at < lines->len; at += strlen(lines->s + at) + 1)
                json_object_array_add(a, json_object_new_string(lines->s + at));
        return a;
}

static json_object *host_facts_job(void *arg)
{
        (void)arg;
        return hostfacts_read();
}

/* What ISSUE.md says about the host (lib/hostfacts.h): read in a child under the
 * collector deadline, like every read of the host; NULL (and a log line) if it failed. */
static json_object *read_host_facts(struct bundle *b)
{
        struct job j = {.name = "host-facts", .fn = host_facts_job,
                        .timeout_ms = b->o->collector_timeout_ms ? b->o->collector_timeout_ms : 5000};
        struct job_opts jo = {.deadline_ms = b->o->deadline_ms, .parallel = 1};
        jobs_run(&j, 1, &jo);
        json_object *facts = j.status == JOB_DONE ? json_object_get(j.result) : NULL;
        if (!facts)
                bundle_log(b, "host facts for ISSUE.md: %s", j.error ? j.error : "not read");
        job_clear(&j);
        return facts;
}

/* What ISSUE.md needs of each manifest entry (report/issue.h): its strings in one
 * buffer, not a json-c object per entry. */
static struct issue_artifact *issue_artifacts(const struct artstore *s, struct strbuf *text)
{
        struct issue_artifact *v = xcalloc(s->n ? s->n : 1, sizeof(*v));
        sb_puts(text, "");
        size_t (*at)[4] = xcalloc(s->n ? s->n : 1, sizeof(*at)); /* offset + 1 of each string, 0: none */
        for (size_t i = 0; i < s->n; i++) {
                struct manifest_artifact a;
                artstore_get(s, i, &a);
                const char *str[4] = {a.path, a.kind, a.status, a.error};
                for (int k = 0; k < 4; k++)
                        if (str[k]) {
                                at[i][k] = text->len + 1;
                                sb_putn(text, str[k], strlen(str[k]) + 1);
                        }
                v[i].stored = a.sha256 != NULL;
                artifact_free(&a);
        }
        for (size_t i = 0; i < s->n; i++) { /* the buffer does not move any more */
                const char **dst[4] = {&v[i].path, &v[i].kind, &v[i].status, &v[i].error};
                for (int k = 0; k < 4; k++)
                        *dst[k] = at[i][k] ? text->s + at[i][k] - 1 : NULL;
        }
        free(at);
        return v;
}

/* A document of ours written piece by piece (manifest.json, findings.json), redacted
 * piece by piece into a temporary file (memory if there is none), then streamed into
 * the archive: never whole in memory. */
#define DOC_BUF (64u << 10) /* written to the temporary file in pieces of this size */

struct doc_out {
        struct bundle *b;
        int fd;
        uint64_t len, flushed;
        int err;
        unsigned redactions;
        struct strbuf mem; /* the document (no file), or what is not written yet */
};

static void doc_flush(struct doc_out *d)
{
        for (size_t done = 0; !d->err && done < d->mem.len;) {
                ssize_t w = pwrite(d->fd, d->mem.s + done, d->mem.len - done, (off_t)(d->flushed + done));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        d->err = w < 0 ? errno : EIO;
                else
                        done += (size_t)w;
        }
        d->flushed += d->mem.len;
        d->mem.len = 0;
}

static void doc_put(void *arg, const char *text, size_t len)
{
        struct doc_out *d = arg;
        unsigned n = 0;
        _cleanup_free_ char *red = d->b->red ? redact(d->b->red, text, len, &len, &n) : NULL;
        d->redactions += n;
        sb_putn(&d->mem, red ? red : text, len);
        d->len += len;
        if (d->fd >= 0 && d->mem.len >= DOC_BUF)
                doc_flush(d);
}

/* emit(b, arg, put, put_arg) writes the document; kind NULL: no manifest entry (the manifest itself). */
static void add_doc_streamed(struct bundle *b, const char *name, const char *kind, const char *tmp,
                             void (*emit)(struct bundle *b, void *arg, json_put_fn *put, void *put_arg), void *arg)
{
        struct doc_out d = {.b = b, .fd = bundle_spill_open(tmp)};
        emit(b, arg, doc_put, &d);
        if (d.fd >= 0)
                doc_flush(&d);
        if (d.err) { /* the temporary file failed (ENOSPC): in memory after all */
                bundle_log(b, "%s: temporary file: %s; written from memory", name, strerror(d.err));
                close(d.fd);
                sb_free(&d.mem);
                d = (struct doc_out){.b = b, .fd = -1};
                emit(b, arg, doc_put, &d);
        }
        _cleanup_free_ char *full = xasprintf("%s/%s", b->top, name);
        char sha[65];
        if (d.fd < 0) {
                archive_out_buffer(b->ar, full, d.mem.s ? d.mem.s : "", d.mem.len, now_ms_realtime() / 1000, sha);
        } else {
                archive_out_begin(b->ar, full, d.len, 0600, now_ms_realtime() / 1000);
                char buf[65536];
                for (uint64_t at = 0; at < d.len;) {
                        ssize_t got = pread(d.fd, buf, d.len - at < sizeof(buf) ? (size_t)(d.len - at) : sizeof(buf), (off_t)at);
                        if (got < 0 && errno == EINTR)
                                continue;
                        if (got <= 0)
                                break; /* archive_out_end pads it */
                        (void)archive_out_data(b->ar, buf, (size_t)got);
                        at += (uint64_t)got;
                }
                if (archive_out_end(b->ar, sha))
                        bundle_log(b, "%s: its temporary file could not be read back whole", name);
                close(d.fd);
        }
        b->payload += d.len;
        b->files++;
        if (kind) {
                struct manifest_artifact m = {
                        .path = xstrdup(name), .kind = xstrdup(kind), .origin = xstrdup("evodiag"), .status = xstrdup("ok"),
                        .bytes = num((int64_t)d.len), .sha256 = xstrdup(sha), .redactions = num(d.redactions),
                };
                bundle_keep_artifact(b, &m);
        }
        sb_free(&d.mem);
}

static void manifest_get(void *arg, size_t i, struct manifest_artifact *a)
{
        struct doc_out *d = arg; /* (manifest_write hands get and put the same argument) */
        artstore_get(&d->b->arts, i, a);
}

static void write_manifest(struct bundle *b, void *arg, json_put_fn *put, void *put_arg)
{
        (void)arg;
        manifest_write(&b->man, b->arts.n, manifest_get, put, put_arg);
}

static void write_findings(struct bundle *b, void *arg, json_put_fn *put, void *put_arg)
{
        (void)b;
        const struct report *rep = ((void **)arg)[0];
        json_object *extra = ((void **)arg)[1];
        report_json_write(rep, extra, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, put, put_arg);
}

static int make(struct ctx *base, const struct bundle_opts *o, struct bundle_result *res)
{
        *res = (struct bundle_result){0};
        struct bundle b = {.o = o, .t0 = now_ms_monotonic()};
        uint64_t started = now_ms_realtime();
        b.top = bundle_name(o->host, started, o->case_id);
        b.red = o->redact || o->obfuscate ? redactor_new() : NULL;
        if (o->obfuscate && bundle_obfuscation_key(o->state_dir, o->host, b.red) < 0) {
                redactor_free(b.red);
                free(b.top);
                return -EIO;
        }
        bool want_gzip = o->gzip || (o->output && strlen(o->output) > 7 && streq(o->output + strlen(o->output) - 7, ".tar.gz"));
        _cleanup_free_ char *defname = xasprintf("%s.tar.%s", b.top, want_gzip ? "gz" : "zst");
        char *final, *tmp;
        size_t stale;
        int fd, r = bundle_open_output(o->output, defname, &final, &tmp, &fd, &stale);
        if (r < 0) {
                redactor_free(b.red);
                free(b.top);
                return r;
        }
        bool gz;
        char *err = NULL;
        b.ar = archive_out_open(fd, want_gzip, &gz, &err);
        if (!b.ar) {
                fprintf(stderr, "evodiag: %s\n", err);
                free(err);
                if (tmp)
                        unlink(tmp);
                free(tmp);
                free(final);
                redactor_free(b.red);
                free(b.top);
                return -EIO;
        }
        if (gz && !want_gzip && !o->output) { /* no zstd in this libarchive: say so in the name */
                free(final);
                final = xasprintf("%s/%s.tar.gz", bundle_default_dir(), b.top);
        }
        /* The snapshot of the host's small files (lib/rootfs.h) goes to a temporary file
         * beside the output, not into this process's memory (nor every collector child's:
         * they are its forks); findings.json and manifest.json get one each. */
        int spill = bundle_spill_open(tmp);
        if (spill >= 0)
                rootfs_snapshot_spill(spill);
        trim_init(&b.trim, o->full);
        bundle_log(&b, "evodiag %s bundle on %s: %s", PACKAGE_VERSION, o->host, o->command_line);
        if (spill < 0)
                bundle_log(&b, "no temporary file for the snapshot of host files (%s): kept in memory", strerror(-spill));
        if (stale)
                bundle_log(&b, "removed %zu stale temporary file%s of an earlier run (killed before it finished)", stale, stale == 1 ? "" : "s");

        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *rr = xcalloc(n, sizeof(*rr));
        b.man.collectors.v = xcalloc(n ? n : 1, sizeof(struct manifest_collector));
        json_object *facts = read_host_facts(&b);
        archive_out_dir(b.ar, b.top, started / 1000);
        for (size_t i = 0; i < n; i++) {
                const struct collector *c = collectors[i];
                bool in_only = !o->only, in_skip = false;
                for (const char *const *p = o->only; p && *p; p++)
                        in_only |= streq(*p, c->name);
                for (const char *const *p = o->skip; p && *p; p++)
                        in_skip |= streq(*p, c->name);
                if (!in_only || in_skip || ((c->needs & INTRUSIVE) && !base->allow_intrusive)) {
                        rr[i] = (struct run_result){.c = c, .status = RUN_NOT_SELECTED,
                                                    .note = xstrdup(!in_only ? "not in --only" : in_skip ? "in --skip" : "intrusive: needs --allow-intrusive")};
                        continue;
                }
                progress(&b, i + 1, n, c->name);
                bundle_run_one(&b, base, c, &rr[i]);
        }
        if (o->progress)
                fputc('\n', stderr);
        bundle_write_iddbs(&b);
        /* The last minutes of evodiag watch's recording, when there is one (report/recorder.c). */
        struct strbuf rec_text = {0}, rec_items = {0};
        _cleanup_free_ char *rec_origin = NULL;
        if (recorder_bundle_window(base->cfg, o->state_dir, &rec_text, &rec_items, &rec_origin, &b.log)) {
                add_doc_len(&b, "watch/recording.txt", rec_text.s, rec_text.len, "derived", rec_origin);
                add_doc_len(&b, "watch/recording.jsonl", rec_items.s, rec_items.len, "derived", rec_origin);
        }
        sb_free(&rec_text);
        sb_free(&rec_items);
        /* Complete means complete: every selected collector finished, nothing was cut at
         * --max-size, the run was neither interrupted nor out of time, nothing was harmed. */
        if (bundle_interrupted)
                bundle_incomplete(&b, "interrupted by %s: the collectors after it were not run", strsignal(bundle_interrupted));
        else if (o->deadline_ms && now_ms_monotonic() >= o->deadline_ms)
                bundle_incomplete(&b, "the run's --timeout passed");
        for (size_t i = 0; i < n; i++)
                if (rr[i].status == RUN_TIMEOUT || rr[i].status == RUN_CRASHED)
                        bundle_incomplete(&b, "collector %s: %s", rr[i].c->name, rr[i].note ? rr[i].note : run_status_name(rr[i].status));
        if (b.budget_cut) {
                char sz[32];
                bundle_incomplete(&b, "%zu artifact%s cut or left out at the total size budget (--max-size %s)", b.budget_cut,
                           b.budget_cut == 1 ? "" : "s", fmt_bytes(o->max_size, sz));
        }
        if (bundle_interrupted)
                bundle_log(&b, "interrupted by %s: the remaining collectors were not run", strsignal(bundle_interrupted));
        if (b.duplicates)
                bundle_log(&b, "%zu files were read by more than one collector and stored once", b.duplicates);

        struct report rep = {.host = o->host, .root = rootfs_get(), .started_ms = started,
                             .duration_ms = now_ms_monotonic() - b.t0, .r = rr, .n = n};
        res->worst_exit = report_exit_code(&rep);

        /* The documents: summary, findings, ISSUE.md, log, manifest (last, it lists the rest).
         * ISSUE.md is rendered first: when it cannot be, the bundle is not complete, and
         * every document says so. */
        struct strbuf arts_text = {0};
        struct issue_artifact *arts_view = issue_artifacts(&b.arts, &arts_text);
        size_t files_total = b.files + 5; /* + summary.txt, findings.json, ISSUE.md, evodiag.log, manifest.json */
        json_object *why_incomplete = lines_json(&b.incomplete), *intrusive = lines_json(&b.intrusive), *limits = component_limits(&rep);
        struct issue_input ii = {.rep = &rep, .artifacts = arts_view, .n_artifacts = b.arts.n, .component = o->component,
                                 .templates_dir = o->templates_dir, .command_line = o->command_line, .facts = facts,
                                 .complete = b.incomplete.len == 0, .incomplete = why_incomplete, .intrusive = intrusive,
                                 .files = files_total, .case_id = o->case_id, .trigger = o->trigger, .limits = limits};
        char *missing = NULL, *issue_err = NULL, *issue_note = NULL;
        char *issue = issue_render_note(&ii, &missing, &issue_err, &issue_note);
        if (issue_note) {
                bundle_log(&b, "ISSUE.md: %s", issue_note);
                if (!o->quiet)
                        fprintf(stderr, "evodiag: ISSUE.md: %s\n", issue_note);
                free(issue_note);
        }
        json_object_put(facts);
        free(arts_view);
        sb_free(&arts_text);
        json_object_put(why_incomplete);
        json_object_put(intrusive);
        json_object_put(limits);
        if (!issue) {
                bundle_log(&b, "ISSUE.md could not be written: %s", issue_err);
                fprintf(stderr, "evodiag: ISSUE.md could not be written: %s\n", issue_err);
                bundle_incomplete(&b, "ISSUE.md could not be written: %s", issue_err);
                files_total--;
        }
        bool complete = b.incomplete.len == 0;

        _cleanup_free_ char *text = render_text_report(&rep);
        struct strbuf summary = {0};
        sb_puts(&summary, text);
        missing_section(&b, &summary, &rep, complete);
        add_doc(&b, "summary.txt", summary.s, "derived");
        sb_free(&summary);

        json_object *fextra = json_object_new_object();
        json_object_object_add(fextra, "complete", json_object_new_boolean(complete));
        void *fargs[2] = {&rep, fextra};
        add_doc_streamed(&b, "findings.json", "derived", tmp, write_findings, fargs);
        json_object_put(fextra);

        if (issue) {
                add_doc(&b, "ISSUE.md", issue, "derived");
                if (missing && *missing)
                        bundle_log(&b, "ISSUE.md: no value for %s", missing);
        }
        free(issue);
        free(missing);
        free(issue_err);

        bundle_log(&b, "%zu files in the archive (manifest.json included), %llu bytes before compression; complete: %s", files_total,
             (unsigned long long)b.payload, complete ? "yes" : "no");
        for (size_t at = 0; at < b.incomplete.len; at += strlen(b.incomplete.s + at) + 1)
                bundle_log(&b, "incomplete: %s", b.incomplete.s + at);
        add_doc(&b, "evodiag.log", b.log.s, "derived");

        char ts[32];
        struct mf_bool no = {.set = true}, yes = {.set = true, .v = true};
        b.man.schema = num(MANIFEST_SCHEMA);
        b.man.evodiag = xstrdup(PACKAGE_VERSION);
        b.man.command_line = xstrdup(o->command_line);
        b.man.host = xstrdup(o->host);
        format_utc(started, ts);
        b.man.start = xstrdup(ts);
        format_utc(now_ms_realtime(), ts);
        b.man.end = xstrdup(ts);
        b.man.complete = complete ? yes : no;
        b.man.redacted = o->redact ? yes : no;
        b.man.obfuscated = o->obfuscate ? yes : no;
        if (b.incomplete.len)
                b.man.incomplete = mf_names_of(b.incomplete.s, b.incomplete.len, false);
        if (b.intrusive.len)
                b.man.intrusive = mf_names_of(b.intrusive.s, b.intrusive.len, false);
        b.man.compression = xstrdup(gz ? "gzip" : "zstd");
        b.man.root = xstrdup(b.top);
        add_doc_streamed(&b, "manifest.json", NULL, tmp, write_manifest, NULL);
        manifest_free(&b.man);
        artstore_free(&b.arts);
        trim_free(&b.trim);
        rootfs_snapshot_spill(-1);
        if (spill >= 0)
                close(spill);

        bool stopped = bundle_interrupted != 0;
        r = archive_out_close(b.ar, &err);
        /* The bundle is whole from here: a signal now must not lose it (bundle_make
         * keeps the handlers until after the rename). */
        fault_pause("bundle-finish");
        if (r == 0 && tmp && fsync(fd) < 0)
                r = -errno;
        if (tmp) {
                struct sha256 sh;
                sha256_init(&sh);
                char buf[65536];
                ssize_t got;
                if (lseek(fd, 0, SEEK_SET) == 0)
                        while ((got = read(fd, buf, sizeof(buf))) > 0) {
                                sha256_update(&sh, buf, (size_t)got);
                                res->bytes += (uint64_t)got;
                        }
                sha256_hex(&sh, res->sha256);
                close(fd);
        }
        if (r < 0 || (tmp && rename(tmp, final) < 0)) {
                if (r >= 0)
                        r = -errno;
                fprintf(stderr, "evodiag: cannot finish %s: %s\n", final, err ? err : strerror(-r));
                if (tmp)
                        unlink(tmp);
                free(final);
                final = NULL;
        } else if (tmp) {
                int sr = bundle_write_sha256(final, res->sha256);
                if (sr < 0)
                        fprintf(stderr, "evodiag: cannot write %s.sha256: %s\n", final, strerror(-sr));
        }
        if (o->obfuscate && b.red) {
                _cleanup_free_ char *mp = xasprintf("%s/obfuscate.map", o->state_dir);
                if (redactor_save_mapping(b.red, mp) < 0)
                        fprintf(stderr, "evodiag: cannot save the obfuscation mapping to %s\n", mp);
                else if (!o->quiet)
                        fprintf(stderr, "evodiag: obfuscation mapping (stays on this host): %s\n", mp);
        }
        free(err);
        free(tmp);
        run_results_free(rr, n);
        free(rr);
        redactor_free(b.red);
        sb_free(&b.log);
        struct strbuf why = {0};
        for (size_t at = 0; at < b.incomplete.len; at += strlen(b.incomplete.s + at) + 1)
                sb_printf(&why, "%s%s", why.len ? "; " : "", b.incomplete.s + at);
        res->why_incomplete = why.len ? sb_steal(&why) : NULL;
        sb_free(&b.incomplete);
        sb_free(&b.intrusive);
        free(b.top);
        res->path = final;
        res->complete = complete;
        res->interrupted = stopped;
        if (final && bundle_interrupted && !stopped && !o->quiet)
                fprintf(stderr, "evodiag: %s arrived while the bundle was being finished: it was finished first\n", strsignal(bundle_interrupted));
        return r < 0 ? r : 0;
}

int bundle_make(struct ctx *base, const struct bundle_opts *o, struct bundle_result *res)
{
        /* SIGINT/SIGTERM from before the temporary file exists until after the rename:
         * a stopped run ends with a valid bundle marked incomplete, and one that is
         * finishing (fsync, SHA-256, rename) is finished, never lost. */
        struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        bundle_interrupted = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        int r = make(base, o, res);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return r;
}

void bundle_result_free(struct bundle_result *r)
{
        free(r->path);
        r->path = NULL;
        free(r->why_incomplete);
        r->why_incomplete = NULL;
}
