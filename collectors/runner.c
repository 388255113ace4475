#include "config.h"
#include "collectors/runner.h"
#include "lib/expect.h"
#include "collectors/frame.h"
#include "lib/child.h"
#include "lib/conffile.h"
#include "lib/proctable.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#define JOB_OUTPUT_MAX (16u << 20) /* one-document jobs (the process table) never need more */

struct slot {
        pid_t pid;
        struct frame_reader rd;
        uint64_t started, deadline;
        bool global_bound; /* the run's --timeout, not the collector's own, set the deadline */
        char *bad;         /* why the child's output cannot be trusted (it is killed) */
        char *cut;         /* the stream ended inside a frame */
        bool overflow;     /* a one-document job's result over JOB_OUTPUT_MAX */
};

static void child_main(void *arg, int wfd)
{
        struct job *j = arg;
        if (j->stream) {
                j->stream(j->arg, wfd);
                return;
        }
        json_object *r = j->fn(j->arg);
        int e = frame_send_result(wfd, r);
        json_object_put(r);
        if (e < 0)
                _exit(2);
}

static int spawn(struct job *j, struct slot *s, uint64_t now, uint64_t global)
{
        struct child c;
        int r = child_start(&c, j->name, child_main, j);
        if (r < 0)
                return r;
        *s = (struct slot){.pid = c.pid, .started = now};
        frame_reader_init(&s->rd, c.fd, j->stream ? 0 : JOB_OUTPUT_MAX);
        s->deadline = now + j->timeout_ms;
        if (global && global < s->deadline) {
                s->deadline = global;
                s->global_bound = true;
        }
        return 0;
}

/* A one-document job's answer: its payload as JSON (any value). */
static void take_result(struct job *j, struct slot *s, const struct frame *f)
{
        if (j->result || !f->type || !streq(f->type, "result")) {
                s->bad = xstrdup("a frame of the wrong shape");
                return;
        }
        _cleanup_free_ char *text = xstrndup(f->payload, (size_t)f->size);
        enum json_tokener_error jerr;
        j->result = json_tokener_parse_verbose(text, &jerr);
        if (!j->result)
                s->bad = xstrdup(json_tokener_error_desc(jerr));
}

/* Hands every whole frame to the job. Returns true when the child is done with: the
 * stream ended, or its output cannot be trusted (s->bad: a bad header, a header over
 * FRAME_HEADER_MAX, a payload where check frames have none, a frame the job refuses). */
static bool take_frames(struct job *j, struct slot *s)
{
        struct frame f;
        int k;
        while ((k = frame_next(&s->rd, &f)) > 0) {
                if (!j->stream)
                        take_result(j, s, &f);
                else if (j->on_frame(j->frame_arg, f.hdr, f.line_len) < 0)
                        s->bad = xstrdup("a frame of the wrong shape");
                if (s->bad)
                        return true;
        }
        if (k == 0)
                return false;
        if (k == -EBADMSG)
                s->cut = xstrdup(s->rd.why);
        else if (k == -EFBIG && !j->stream)
                s->overflow = true;
        else if (k != -EPIPE)
                s->bad = xstrdup(s->rd.why);
        return true;
}

static void finish(struct job *j, struct slot *s, bool kill_it, uint64_t now)
{
        bool untrusted = s->bad || s->overflow;
        bool timed_out = kill_it && !untrusted;
        kill_it |= untrusted;
        j->duration_ms = now - s->started;
        int status = child_reap(s->pid, kill_it, &j->abandoned);
        close(s->rd.fd);
        if (timed_out) {
                j->status = JOB_TIMEOUT;
                j->run_deadline = s->global_bound;
                j->error = xasprintf("no answer within %llu ms%s; killed%s",
                                     (unsigned long long)(s->deadline - s->started),
                                     s->global_bound ? " (the run's --timeout)" : "",
                                     j->abandoned ? " (unkillable, likely stuck in the kernel: abandoned)" : "");
        } else if (s->overflow) {
                j->status = JOB_CRASHED;
                j->error = xasprintf("sent more than %u bytes of results", JOB_OUTPUT_MAX);
        } else if (s->bad) {
                j->status = JOB_CRASHED;
                j->error = xasprintf("sent unreadable results (%s)", s->bad);
        } else if ((j->error = child_status_error(status))) {
                j->status = JOB_CRASHED;
        } else if (s->cut) {
                j->status = JOB_CRASHED;
                j->error = xasprintf("sent unreadable results (%s)", s->cut);
        } else if (!j->stream && !j->result) {
                j->status = JOB_CRASHED;
                j->error = xstrdup("sent unreadable results (no result)");
        } else {
                j->status = JOB_DONE;
        }
        if (j->status != JOB_DONE && j->result) {
                json_object_put(j->result);
                j->result = NULL;
        }
        frame_reader_free(&s->rd);
        free(s->bad);
        free(s->cut);
        s->bad = s->cut = NULL;
        s->pid = -1;
}

void jobs_run(struct job *jobs, size_t n, const struct job_opts *o)
{
        unsigned par = o->parallel ? o->parallel : 4;
        struct slot *slots = xcalloc(n, sizeof(*slots));
        struct pollfd *pfd = xcalloc(n, sizeof(*pfd));
        size_t *idx = xcalloc(n, sizeof(*idx));
        size_t next = 0, running = 0;
        for (size_t i = 0; i < n; i++)
                slots[i].pid = -1;

        while (next < n || running) {
                uint64_t now = now_ms_monotonic();
                while (next < n && running < par) {
                        struct job *j = &jobs[next];
                        if (o->deadline_ms && now >= o->deadline_ms) {
                                j->status = JOB_NOT_RUN;
                                j->run_deadline = true;
                                j->error = xstrdup("not started: the run's --timeout had passed");
                        } else if (spawn(j, &slots[next], now, o->deadline_ms) < 0) {
                                j->status = JOB_CRASHED;
                                j->error = xasprintf("cannot start a child: %s", strerror(errno));
                        } else {
                                running++;
                        }
                        next++;
                }
                if (!running)
                        continue;
                size_t np = 0;
                uint64_t soonest = UINT64_MAX;
                for (size_t i = 0; i < next; i++)
                        if (slots[i].pid > 0) {
                                pfd[np] = (struct pollfd){.fd = slots[i].rd.fd, .events = POLLIN};
                                idx[np++] = i;
                                if (slots[i].deadline < soonest)
                                        soonest = slots[i].deadline;
                        }
                int wait = soonest > now ? (int)(soonest - now) : 0;
                int r = poll(pfd, np, wait);
                if (r < 0 && errno != EINTR)
                        break;
                now = now_ms_monotonic();
                for (size_t k = 0; k < np; k++) {
                        struct slot *s = &slots[idx[k]];
                        if (pfd[k].revents) {
                                long got = frame_reader_fill(&s->rd);
                                if (got == -EAGAIN)
                                        continue;
                                struct job *j = &jobs[idx[k]];
                                /* Whole frames go to the job; at the end of the stream, a read
                                 * error or untrusted output: done with it. */
                                if (got > 0 && !take_frames(j, s))
                                        continue;
                                if (got == 0)
                                        (void)take_frames(j, s);
                                finish(j, s, false, now);
                                running--;
                        } else if (now >= s->deadline) {
                                finish(&jobs[idx[k]], s, true, now);
                                running--;
                        }
                }
        }
        free(slots);
        free(pfd);
        free(idx);
}

void job_clear(struct job *j)
{
        if (j->result)
                json_object_put(j->result);
        free(j->error);
        j->result = NULL;
        j->error = NULL;
}

/* ---- collectors ---- */

static const char *const run_status_names[] = {
        [RUN_OK] = "ok", [RUN_NOT_APPLICABLE] = "not_applicable", [RUN_NOT_SELECTED] = "not_selected",
        [RUN_TIMEOUT] = "timeout", [RUN_CRASHED] = "crashed",
};

const char *run_status_name(enum run_status s) { return run_status_names[s]; }

struct check_arg {
        struct ctx ctx;
        uint64_t timeout_ms, global_ms;
};

static void check_in_child(void *arg, int wfd)
{
        struct check_arg *a = arg;
        const struct collector *c = a->ctx.self;
        a->ctx.deadline_ms = now_ms_monotonic() + a->timeout_ms;
        if (a->global_ms && a->global_ms < a->ctx.deadline_ms)
                a->ctx.deadline_ms = a->global_ms;
        bool applies = !c->detect || c->detect(&a->ctx);
        struct findings fs = {0};
        if (applies && c->check)
                c->check(&a->ctx, &fs);
        int r = frame_send_findings(wfd, c->name, applies, &fs);
        findings_free(&fs);
        if (r < 0)
                _exit(2);
}

/* Check children send nothing but findings frames. */
static int check_frame(void *arg, json_object *hdr, size_t len)
{
        return frame_is_findings(hdr) ? findings_rx_frame(arg, hdr, len) : -EPROTO;
}

static json_object *proctable_job(void *arg)
{
        struct proctable t;
        if (proctable_load(&t) < 0)
                return json_object_new_null();
        json_object *o = proctable_to_json(&t);
        proctable_free(&t);
        return o;
}

/* Several collectors want the process table: read /proc once, in a child under the
 * usual deadline; if that fails each collector reads it itself, as before. */
static void preload_proctable(const struct run_opts *o)
{
        struct job j = {.name = "proctable", .fn = proctable_job, .timeout_ms = o->default_timeout_ms};
        struct job_opts jo = {.deadline_ms = o->deadline_ms, .parallel = 1};
        jobs_run(&j, 1, &jo);
        struct proctable t;
        if (j.status == JOB_DONE && proctable_from_json(j.result, &t) == 0) {
                proctable_preload(&t);
                proctable_free(&t);
        }
        job_clear(&j);
}

uint64_t collector_timeout_ms(const struct ctx *base, const struct collector *c, uint64_t def_ms)
{
        const struct config_entry *e = config_get(base->cfg, c->name, "timeout");
        uint64_t ms;
        if (e && parse_duration_ms(e->value, &ms) == 0)
                return ms;
        return (c->needs & SLOW) ? def_ms * 4 : def_ms;
}

/* Does [expect] components name c? (Validated when the config was loaded.) */
static bool expected(const struct ctx *base, const struct collector *c)
{
        const struct config_entry *e = base->cfg ? config_get(base->cfg, "expect", "components") : NULL;
        struct expect_list l;
        _cleanup_free_ char *why = NULL;
        if (!e || expect_parse(e->value, EXPECT_NO_VALUE, &l, &why) < 0)
                return false;
        bool yes = expect_find(&l, c->name) != NULL;
        expect_free(&l);
        return yes;
}

static void run_result_missing(struct run_result *r)
{
        const struct collector *c = r->c;
        _cleanup_free_ char *id = xasprintf("%s.expected", c->name);
        struct finding *f = fnd_add(&r->fs, SEV_CRIT, id, "%s is expected on this host ([expect] components) but is not there: %s",
                                    c->name, c->absent ? c->absent : "its detection found nothing");
        fnd_subject(f, "%s", c->name);
        fnd_expected(f, "%s present and running ([expect] components = %s)", c->name, c->name);
        fnd_actual(f, "%s", c->absent ? c->absent : "not detected");
        fnd_remedy(f, "%s", c->absent_remedy ? c->absent_remedy : "start it, or remove it from [expect] components");
        fnd_evidence(f, "%s's detection", c->name);
}

void run_collectors(struct ctx *base, const struct run_opts *o, struct run_result *out, size_t *n_out)
{
        size_t n = 0;
        while (collectors[n])
                n++;
        struct job *jobs = xcalloc(n, sizeof(*jobs));
        struct check_arg *args = xcalloc(n, sizeof(*args));
        struct findings_rx *rx = xcalloc(n, sizeof(*rx));
        size_t *job_of = xcalloc(n, sizeof(*job_of));
        size_t nj = 0;

        for (size_t i = 0; i < n; i++) {
                const struct collector *c = collectors[i];
                out[i] = (struct run_result){.c = c};
                if ((o->only && !strv_contains(o->only, c->name)) || strv_contains(o->skip, c->name)) {
                        out[i].status = RUN_NOT_SELECTED;
                        out[i].note = xstrdup(o->only && !strv_contains(o->only, c->name) ? "not in --only" : "in --skip");
                        continue;
                }
                if ((c->needs & INTRUSIVE) && !base->allow_intrusive) {
                        out[i].status = RUN_NOT_SELECTED;
                        out[i].note = xstrdup("intrusive: needs --allow-intrusive");
                        continue;
                }
                args[nj].ctx = *base;
                args[nj].ctx.self = c;
                args[nj].timeout_ms = collector_timeout_ms(base, c, o->default_timeout_ms);
                args[nj].global_ms = o->deadline_ms;
                jobs[nj] = (struct job){
                        .name = c->name, .stream = check_in_child, .arg = &args[nj], .on_frame = check_frame,
                        .frame_arg = &rx[nj], .timeout_ms = collector_timeout_ms(base, c, o->default_timeout_ms),
                };
                rx[nj].c = c; /* only IDs it declares */
                job_of[nj++] = i;
        }

        struct job_opts jo = {.deadline_ms = o->deadline_ms, .parallel = o->parallel};
        if (nj >= 2)
                preload_proctable(o);
        jobs_run(jobs, nj, &jo);

        for (size_t k = 0; k < nj; k++) {
                struct job *j = &jobs[k];
                struct run_result *r = &out[job_of[k]];
                const char *name = r->c->name;
                r->duration_ms = j->duration_ms;
                _cleanup_free_ char *why = NULL;
                if (j->status == JOB_DONE && findings_rx_finish(&rx[k], name, &why) == 0) {
                        if (!rx[k].applies && expected(base, r->c)) {
                                /* [expect] components names it: its absence is the finding. */
                                r->status = RUN_OK;
                                run_result_missing(r);
                        } else if (!rx[k].applies) {
                                r->status = RUN_NOT_APPLICABLE;
                                r->note = r->c->absent ? xasprintf("not relevant on this host: %s", r->c->absent)
                                                       : xstrdup("not relevant on this host");
                        } else {
                                r->status = RUN_OK;
                                findings_move(&r->fs, &rx[k].fs);
                        }
                } else if (j->status == JOB_DONE) {
                        r->status = RUN_CRASHED;
                        r->note = xstrdup(why);
                } else if (j->status == JOB_TIMEOUT || j->status == JOB_NOT_RUN) {
                        r->status = RUN_TIMEOUT;
                        r->note = xstrdup(j->error);
                } else {
                        r->status = RUN_CRASHED;
                        r->note = xstrdup(j->error ? j->error : "sent results of the wrong shape");
                }
                if (r->status == RUN_TIMEOUT || r->status == RUN_CRASHED) {
                        findings_free(&r->fs);
                        run_result_failed(r, jobs[k].run_deadline ? 0 : jobs[k].timeout_ms);
                }
                job_clear(j);
                findings_rx_free(&rx[k]);
        }
        free(jobs);
        free(args);
        free(rx);
        free(job_of);
        *n_out = n;
}

void run_result_failed(struct run_result *r, uint64_t timeout_ms)
{
        const char *name = r->c->name;
        bool timeout = r->status == RUN_TIMEOUT;
        _cleanup_free_ char *id = xasprintf("%s.%s", name, timeout ? "timeout" : "crashed");
        struct finding *f = fnd_add(&r->fs, SEV_UNKNOWN, id, "the %s collector %s: %s", name, timeout ? "timed out" : "crashed",
                                    r->note);
        if (timeout && !timeout_ms)
                fnd_expected(f, "collector finishes before the run's deadline (--timeout)");
        else if (timeout)
                fnd_expected(f, "collector finishes within %llu ms", (unsigned long long)timeout_ms);
        else
                fnd_expected(f, "collector runs to completion");
        fnd_actual(f, "%s", r->note);
        if (timeout && !timeout_ms)
                fnd_remedy(f, "raise the run's deadline: evodiag check --timeout 60s (or [evodiag] timeout in the config)");
        else if (timeout)
                fnd_remedy(f, "raise its deadline: --collector-timeout 20s or [%s] timeout = 20s in the config; if it never "
                              "finishes, look for what blocks it: ps -eo pid,stat,wchan:32,comm | awk '$2 ~ /D/' and hung mounts",
                           name);
        else
                fnd_remedy(f, "evodiag check -v --only %s   # then attach the output to a bug report", name);
}

bool run_nothing_checked(const struct run_result *r, size_t n, struct run_result *out)
{
        struct strbuf asked = {0}, why = {0};
        size_t nasked = 0;
        for (size_t i = 0; i < n; i++) {
                if (r[i].status != RUN_NOT_APPLICABLE && r[i].status != RUN_NOT_SELECTED) {
                        sb_free(&asked);
                        sb_free(&why);
                        return false;
                }
                if (r[i].status == RUN_NOT_APPLICABLE) {
                        sb_printf(&asked, "%s%s", nasked++ ? ", " : "", r[i].c->name);
                        sb_printf(&why, "%s%s: %s", why.len ? "; " : "", r[i].c->name, r[i].note ? r[i].note : "not relevant");
                }
        }
        *out = (struct run_result){.c = &run_self, .status = RUN_OK};
        struct finding *f;
        if (nasked)
                f = fnd_add(&out->fs, SEV_UNKNOWN, "evodiag.nothing_checked",
                            "nothing was checked: %s asked for, none applies on this host", asked.s);
        else
                f = fnd_add(&out->fs, SEV_UNKNOWN, "evodiag.nothing_checked", "nothing was checked: no collector was selected");
        fnd_expected(f, "at least one check runs");
        fnd_actual(f, "%s", why.len ? why.s : "every collector left out (--only, --skip, or intrusive without --allow-intrusive)");
        fnd_remedy(f, "start the component if it should run here, or run without --only to check the rest of the host; "
                      "declare what must run in [expect] components (evodiag explain evodiag.nothing_checked)");
        sb_free(&asked);
        sb_free(&why);
        return true;
}

void run_results_free(struct run_result *r, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                findings_free(&r[i].fs);
                free(r[i].note);
        }
}

uint64_t ctx_budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms)
{
        if (!c->deadline_ms)
                return want;
        uint64_t now = now_ms_monotonic();
        if (now + reserve_ms + 100 >= c->deadline_ms)
                return 0;
        uint64_t left = c->deadline_ms - now - reserve_ms;
        return want < left ? want : left;
}
