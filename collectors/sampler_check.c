/* evodiag watch's background check (collectors/sampler.h, struct watch_check): every
 * --check-every, the checks no sampler reports are re-run by a full check in a child
 * with a deadline, polled like a sampler; its result becomes statuses in watch_round(). */
#include "config.h"
#include "collectors/sampler.h"
#include "collectors/sampler_private.h"
#include "collectors/frame.h"
#include "collectors/runner.h"
#include "lib/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* ---- the background check ---- */

#define CHECK_RESULT_MAX (16u << 20)

struct check_arg {
        struct ctx ctx;
        const struct watch_check *chk;
};

/* The child: every selected collector's check(), as 'evodiag check' runs them; the
 * findings of the checks no sampler reports go back as one document. */
static void check_main(void *arg, int wfd)
{
        struct check_arg *a = arg;
        signal(SIGINT, SIG_IGN); /* watch decides when it stops */
        rootfs_close_fds_except(wfd, -1);
        /* Nothing of it may reach watch's screen: what matters comes back on the pipe. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                close(null);
        }
        size_t total = 0;
        while (collectors[total])
                total++;
        /* Only the collectors with a check no sampler reports: a full check costs (the
         * process table, every process's maps), and what is sampled needs no second look. */
        const char **only = xcalloc(total + 1, sizeof(*only));
        for (size_t i = 0, k = 0; i < total; i++) {
                const struct collector *c = collectors[i];
                bool unsampled = false;
                for (const struct check_info *ci = c->checks; ci && ci->id && !unsampled; ci++)
                        unsampled = !collector_samples(c, ci->id);
                if (unsampled && (!a->chk->only || strv_contains(a->chk->only, c->name)))
                        only[k++] = c->name;
        }
        struct run_result *res = xcalloc(total + 1, sizeof(*res));
        size_t n = 0;
        struct run_opts ro = {.deadline_ms = now_ms_monotonic() + a->chk->timeout_ms, .default_timeout_ms = a->chk->timeout_ms,
                              .parallel = 1, .only = only, .skip = a->chk->skip};
        run_collectors(&a->ctx, &ro, res, &n);
        json_object *doc = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < res[i].fs.n; k++) {
                        const struct finding *f = &res[i].fs.v[k];
                        if (res[i].c->sample && res[i].c->sampled && strv_contains(res[i].c->sampled, f->id))
                                continue; /* its sampler judges it every interval */
                        json_object *x = json_object_new_array_ext(7);
                        json_object_array_add(x, json_object_new_string(f->id));
                        json_object_array_add(x, f->subject ? json_object_new_string(f->subject) : NULL);
                        json_object_array_add(x, json_object_new_string(severity_name(f->sev)));
                        json_object_array_add(x, json_object_new_string(f->summary ? f->summary : ""));
                        json_object_array_add(x, f->expected ? json_object_new_string(f->expected) : NULL);
                        json_object_array_add(x, f->actual ? json_object_new_string(f->actual) : NULL);
                        json_object_array_add(x, f->remedy ? json_object_new_string(f->remedy) : NULL);
                        json_object_array_add(doc, x);
                }
        int e = frame_send_result(wfd, doc);
        json_object_put(doc);
        run_results_free(res, n);
        free(res);
        free(only);
        _exit(e < 0 ? 3 : 0);
}

void watch_check_every(struct watch *w, uint64_t every_ms, uint64_t timeout_ms, const char *const *only, const char *const *skip)
{
        w->chk.every_ms = every_ms;
        w->chk.timeout_ms = timeout_ms;
        w->chk.only = only;
        w->chk.skip = skip;
}

void watch_check_start(struct watch *w, uint64_t now)
{
        struct watch_check *k = &w->chk;
        struct check_arg a = {.ctx = w->base, .chk = k};
        a.ctx.state = NULL;
        struct child ch;
        k->next_ms = now + k->every_ms;
        int r = child_start(&ch, "check", check_main, &a);
        if (r < 0) {
                free(k->problem);
                k->problem = xasprintf("the background check cannot start: %s", strerror(-r));
                k->failures++;
                return;
        }
        (void)fcntl(ch.fd, F_SETFL, O_NONBLOCK);
        k->pid = ch.pid;
        frame_reader_init(&k->rd, ch.fd, CHECK_RESULT_MAX);
        k->started_ms = now;
        k->deadline_ms = now + k->timeout_ms + 2000; /* the runner's own deadline first */
}

/* The child is done (result taken, or failed: why): reap it, or leave it behind when
 * it is stuck in the kernel. */
void watch_check_done(struct watch *w, const char *why)
{
        struct watch_check *k = &w->chk;
        bool abandoned = false;
        if (k->pid > 0)
                (void)child_reap(k->pid, why != NULL, &abandoned);
        if (k->rd.fd >= 0)
                close(k->rd.fd);
        k->rd.fd = -1;
        frame_reader_free(&k->rd);
        k->pid = -1;
        k->runs++;
        if (why) {
                k->failures++;
                free(k->problem);
                k->problem = xasprintf("the background check %s%s", why, abandoned ? " (stuck in the kernel: abandoned)" : "");
        }
}

void watch_check_take(struct watch *w)
{
        struct watch_check *k = &w->chk;
        long got = frame_reader_fill(&k->rd);
        if (got == -EAGAIN)
                return;
        struct frame f;
        int r;
        while ((r = frame_next(&k->rd, &f)) > 0) {
                json_object *doc = NULL;
                if (f.type && streq(f.type, "result") && f.size < INT32_MAX) {
                        json_tokener_reset(k->rd.tok);
                        doc = json_tokener_parse_ex(k->rd.tok, f.payload, (int)f.size);
                        if (json_tokener_get_error(k->rd.tok) != json_tokener_success) {
                                json_object_put(doc);
                                doc = NULL;
                        }
                }
                if (!doc || !json_object_is_type(doc, json_type_array)) {
                        json_object_put(doc);
                        watch_check_done(w, "sent an unreadable result");
                        return;
                }
                json_object_put(k->pending);
                k->pending = doc;
                free(k->problem);
                k->problem = NULL;
                watch_check_done(w, NULL);
                return;
        }
        if (r == 0 && got > 0)
                return;
        watch_check_done(w, "ended without a result");
}

