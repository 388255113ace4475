#include "config.h"
#include "collectors/runner.h"
#include "lib/child.h"
#include "lib/conffile.h"
#include "lib/proctable.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#define JOB_OUTPUT_MAX (16u << 20) /* a collector's findings never need more */

struct slot {
        pid_t pid;
        int fd;
        uint64_t started, deadline;
        bool global_bound; /* the run's --timeout, not the collector's own, set the deadline */
        struct strbuf out;
        bool overflow;
};

static void child_main(void *arg, int wfd)
{
        struct job *j = arg;
        json_object *r = j->fn(j->arg);
        const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
        if (write_all(wfd, s, strlen(s)) < 0)
                _exit(2);
}

static int spawn(struct job *j, struct slot *s, uint64_t now, uint64_t global)
{
        struct child c;
        int r = child_start(&c, j->name, child_main, j);
        if (r < 0)
                return r;
        *s = (struct slot){.pid = c.pid, .fd = c.fd, .started = now};
        s->deadline = now + j->timeout_ms;
        if (global && global < s->deadline) {
                s->deadline = global;
                s->global_bound = true;
        }
        return 0;
}

static void finish(struct job *j, struct slot *s, bool kill_it, uint64_t now)
{
        bool timed_out = kill_it && !s->overflow;
        j->duration_ms = now - s->started;
        int status = child_reap(s->pid, kill_it, &j->abandoned);
        close(s->fd);
        s->fd = -1;
        if (timed_out) {
                j->status = JOB_TIMEOUT;
                j->error = xasprintf("no answer within %llu ms%s; killed%s",
                                     (unsigned long long)(s->deadline - s->started),
                                     s->global_bound ? " (the run's --timeout)" : "",
                                     j->abandoned ? " (unkillable, likely stuck in the kernel: abandoned)" : "");
        } else if (s->overflow) {
                j->status = JOB_CRASHED;
                j->error = xasprintf("sent more than %u bytes of results", JOB_OUTPUT_MAX);
        } else if ((j->error = child_status_error(status))) {
                j->status = JOB_CRASHED;
        } else {
                enum json_tokener_error jerr;
                j->result = json_tokener_parse_verbose(s->out.s ? s->out.s : "", &jerr);
                if (!j->result) {
                        j->status = JOB_CRASHED;
                        j->error = xasprintf("sent unreadable results (%s)", json_tokener_error_desc(jerr));
                } else {
                        j->status = JOB_DONE;
                }
        }
        sb_free(&s->out);
}

void jobs_run(struct job *jobs, size_t n, const struct job_opts *o)
{
        unsigned par = o->parallel ? o->parallel : 4;
        struct slot *slots = xcalloc(n, sizeof(*slots));
        struct pollfd *pfd = xcalloc(n, sizeof(*pfd));
        size_t *idx = xcalloc(n, sizeof(*idx));
        size_t next = 0, running = 0;
        for (size_t i = 0; i < n; i++)
                slots[i].fd = -1;

        while (next < n || running) {
                uint64_t now = now_ms_monotonic();
                while (next < n && running < par) {
                        struct job *j = &jobs[next];
                        if (o->deadline_ms && now >= o->deadline_ms) {
                                j->status = JOB_NOT_RUN;
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
                        if (slots[i].fd >= 0) {
                                pfd[np] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
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
                                char buf[65536];
                                ssize_t got = read(s->fd, buf, sizeof(buf));
                                if (got < 0 && errno == EINTR)
                                        continue;
                                if (got > 0 && s->out.len + (size_t)got > JOB_OUTPUT_MAX)
                                        s->overflow = true;
                                else if (got > 0) {
                                        sb_putn(&s->out, buf, (size_t)got);
                                        continue;
                                }
                                /* EOF, a read error, or too much output: done with it. */
                                finish(&jobs[idx[k]], s, s->overflow, now);
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

static bool in_list(const char *const *list, const char *name)
{
        for (; list && *list; list++)
                if (streq(*list, name))
                        return true;
        return false;
}

struct check_arg {
        struct ctx ctx;
        uint64_t timeout_ms, global_ms;
};

static json_object *check_in_child(void *arg)
{
        struct check_arg *a = arg;
        const struct collector *c = a->ctx.self;
        a->ctx.deadline_ms = now_ms_monotonic() + a->timeout_ms;
        if (a->global_ms && a->global_ms < a->ctx.deadline_ms)
                a->ctx.deadline_ms = a->global_ms;
        json_object *o = json_object_new_object();
        bool applies = !c->detect || c->detect(&a->ctx);
        json_object_object_add(o, "applies", json_object_new_boolean(applies));
        struct findings fs = {0};
        if (applies && c->check)
                c->check(&a->ctx, &fs);
        json_object_object_add(o, "findings", findings_to_json(&fs));
        findings_free(&fs);
        return o;
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

void run_collectors(struct ctx *base, const struct run_opts *o, struct run_result *out, size_t *n_out)
{
        size_t n = 0;
        while (collectors[n])
                n++;
        struct job *jobs = xcalloc(n, sizeof(*jobs));
        struct check_arg *args = xcalloc(n, sizeof(*args));
        size_t *job_of = xcalloc(n, sizeof(*job_of));
        size_t nj = 0;

        for (size_t i = 0; i < n; i++) {
                const struct collector *c = collectors[i];
                out[i] = (struct run_result){.c = c};
                if ((o->only && !in_list(o->only, c->name)) || in_list(o->skip, c->name)) {
                        out[i].status = RUN_NOT_SELECTED;
                        out[i].note = xstrdup(o->only && !in_list(o->only, c->name) ? "not in --only" : "in --skip");
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
                        .name = c->name, .fn = check_in_child, .arg = &args[nj],
                        .timeout_ms = collector_timeout_ms(base, c, o->default_timeout_ms),
                };
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
                json_object *applies, *fa;
                if (j->status == JOB_DONE && json_object_object_get_ex(j->result, "applies", &applies)) {
                        if (!json_object_get_boolean(applies)) {
                                r->status = RUN_NOT_APPLICABLE;
                                r->note = xstrdup("not relevant on this host");
                        } else if (json_object_object_get_ex(j->result, "findings", &fa) &&
                                   findings_from_json(&r->fs, fa) == 0) {
                                r->status = RUN_OK;
                        } else {
                                r->status = RUN_CRASHED;
                                r->note = xstrdup("sent results of the wrong shape");
                        }
                } else if (j->status == JOB_TIMEOUT || j->status == JOB_NOT_RUN) {
                        r->status = RUN_TIMEOUT;
                        r->note = xstrdup(j->error);
                } else {
                        r->status = RUN_CRASHED;
                        r->note = xstrdup(j->error ? j->error : "sent results of the wrong shape");
                }
                if (r->status == RUN_TIMEOUT || r->status == RUN_CRASHED) {
                        findings_free(&r->fs);
                        _cleanup_free_ char *id = xasprintf("%s.%s", name, r->status == RUN_TIMEOUT ? "timeout" : "crashed");
                        struct finding *f = fnd_add(&r->fs, SEV_UNKNOWN, id, "the %s collector %s: %s", name,
                                                    r->status == RUN_TIMEOUT ? "timed out" : "crashed", r->note);
                        if (r->status == RUN_TIMEOUT)
                                fnd_expected(f, "collector finishes within %llu ms", (unsigned long long)jobs[k].timeout_ms);
                        else
                                fnd_expected(f, "collector runs to completion");
                        fnd_actual(f, "%s", r->note);
                        fnd_remedy(f, "evodiag check -v --only %s   # then attach the output to a bug report", name);
                }
                job_clear(j);
        }
        free(jobs);
        free(args);
        free(job_of);
        *n_out = n;
}

void run_results_free(struct run_result *r, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                findings_free(&r[i].fs);
                free(r[i].note);
        }
}
