#include "config.h"
#include "collectors/sampler.h"
#include "collectors/sampler_private.h"
#include "collectors/frame.h"
#include "collectors/runner.h"
#include "lib/child.h"
#include "lib/procfs.h"
#include "lib/proctable.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#if defined(EVODIAG_TEST_HOOKS) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define BACKOFF_MAX_MS 60000    /* a sampler that keeps failing is retried at least once a minute */

/* ---------------- the sampler child ---------------- */

struct child_arg {
        struct ctx ctx;
        int req_rd, req_wr;
        uint64_t timeout_ms, first_timeout_ms;
};

/* A forked child holds every descriptor of the parent, including the other
 * samplers' pipes: keep only ours (and the root's), or a sampler's end of file never comes. */
static void close_others(int a, int b)
{
        rootfs_close_fds_except(a, b);
}

/* Test builds under AddressSanitizer: EVODIAG_LEAK_CHECK=1 makes a stopping sampler
 * check, once its state is freed, that nothing it allocated is left (LeakSanitizer),
 * and say so on stderr; EVODIAG_FAULT=<collector>:leak drops the state without
 * freeing it (the check must then report it). */
static bool leak_check_wanted(void)
{
#if defined(EVODIAG_TEST_HOOKS)
        const char *want = getenv("EVODIAG_LEAK_CHECK");
        return want && streq(want, "1");
#else
        return false;
#endif
}

/* LeakSanitizer scans stacks conservatively: a copy of the state's address left in a
 * dead slot of sample()'s frames would count as a reference once the leak check's
 * own frames cover that region. Called where those frames are gone, it zeroes them. */
__attribute__((noinline)) static void scrub_stack(void)
{
        volatile char area[256u << 10];
        for (size_t i = 0; i < sizeof(area); i++)
                area[i] = 0;
}

/* The sampler stops (watch closed its request pipe): what sample() kept goes.
 * Returns whether a leak check can tell anything: the state was freed, dropped on
 * request, or there was none. */
__attribute__((noinline)) static bool release_state(struct ctx *c, bool drop)
{
        bool kept = c->state != NULL, freed = false;
        if (kept && c->self->free_state && !drop) {
                c->self->free_state(c->state);
                freed = true;
        }
        c->state = NULL; /* whatever free_state missed is unreachable now: a leak */
        return !kept || freed || drop;
}

__attribute__((noinline)) static void leak_check(const struct collector *c, bool checkable)
{
#if defined(EVODIAG_TEST_HOOKS) && defined(__SANITIZE_ADDRESS__)
        if (!checkable) {
                fprintf(stderr, "evodiag: leak check: %s: no free_state, not checked\n", c->name);
                return;
        }
        int leaks = __lsan_do_recoverable_leak_check();
        fprintf(stderr, "evodiag: leak check: %s: %s\n", c->name, leaks ? "LEAKS (reported above)" : "nothing left");
#else
        fprintf(stderr, "evodiag: leak check: %s: not in this build (needs --enable-sanitizers)\n", c->name);
#endif
}

/* Answers requests until the parent closes the pipe (0) or sends garbage (<0). */
__attribute__((noinline)) static int serve(struct ctx *c, struct frame_reader *rd, int wfd, const struct child_arg *a)
{
        bool applies = !c->self->detect || c->self->detect(c);
        uint64_t no;
        int k, pids[SAMPLE_YOUNG_MAX];
        size_t np;
        bool known;
        /* What this child sent last: it answers with what changed since (collectors/frame.h);
         * a new child (a restart) starts with nothing, so its first answer is whole. */
        struct sample_answer sent = {0};
        while ((k = frame_take_request_pids(rd, &no, pids, SAMPLE_YOUNG_MAX, &np, &known)) > 0) {
                c->sample_no = no;
                c->new_pids = pids;
                c->n_new_pids = np;
                c->new_pids_known = known;
                c->deadline_ms = now_ms_monotonic() + (no ? a->timeout_ms : a->first_timeout_ms);
                struct sample s;
                sample_init(&s);
                if (applies)
                        c->self->sample(c, &s);
                if (fault_wanted(c->self->name, "forge")) /* test builds: another collector's check */
                        sample_status(&s, "shm.orphaned", NULL, SEV_CRIT, "forged by EVODIAG_FAULT=%s:forge", c->self->name);
                int w = frame_send_sample_since(wfd, no, applies, &s, &sent);
                sample_free(&s);
                if (w < 0 || !applies) {
                        sample_answer_free(&sent);
                        return 0;
                }
        }
        sample_answer_free(&sent);
        return k;
}

static void sampler_main(void *arg, int wfd)
{
        struct child_arg *a = arg;
        /* ^C on the terminal reaches the whole process group: watch decides when its
         * samplers stop (it closes their pipe), so none dies first and looks crashed. */
        signal(SIGINT, SIG_IGN);
        close(a->req_wr);
        close_others(a->req_rd, wfd);
        struct frame_reader rd;
        frame_reader_init(&rd, a->req_rd, 0);
        int k = serve(&a->ctx, &rd, wfd, a);
        frame_reader_free(&rd);
        bool checkable = release_state(&a->ctx, fault_wanted(a->ctx.self->name, "leak"));
        if (leak_check_wanted()) {
                /* No copy of the state's address may survive in the dead frames below
                 * (sample()'s, release_state's) where the check's own frames will lie. */
                scrub_stack();
                leak_check(a->ctx.self, checkable);
        }
        _exit(k < 0 ? 3 : 0); /* the parent is gone or done with us, or asked for garbage */
}

/* ---------------- the parent ---------------- */

void watch_init(struct watch *w, const struct ctx *base, uint64_t interval_ms, const char *const *only,
                const char *const *skip, uint64_t def_timeout_ms)
{
        *w = (struct watch){.base = *base, .interval_ms = interval_ms, .index = json_object_new_object(), .chk = {.pid = -1, .rd.fd = -1}};
        size_t total = 0;
        while (collectors[total])
                total++;
        w->s = xcalloc(total ? total : 1, sizeof(*w->s));
        for (size_t i = 0; i < total; i++) {
                const struct collector *c = collectors[i];
                if (!c->sample || (only && !strv_contains(only, c->name)) || strv_contains(skip, c->name) ||
                    ((c->needs & INTRUSIVE) && !base->allow_intrusive))
                        continue;
                struct sampler *sp = &w->s[w->n++];
                uint64_t cap = collector_timeout_ms(base, c, def_timeout_ms);
                /* An answer is due before the next tick is much overdue; a slow host gets
                 * at least a second, and the collector's own timeout caps it. */
                uint64_t t = interval_ms > 1000 ? interval_ms : 1000;
                *sp = (struct sampler){.c = c, .state = SP_STOPPED, .pid = -1, .req_fd = -1, .rd.fd = -1,
                                       .timeout_ms = t < cap ? t : cap};
        }
}

static uint64_t first_timeout(const struct sampler *sp)
{
        return sp->timeout_ms * 2; /* the first sample also detects and scans */
}

static int spawn(struct watch *w, struct sampler *sp)
{
        int rq[2];
        if (pipe2(rq, O_CLOEXEC) < 0)
                return -errno;
        struct child_arg a = {.ctx = w->base, .req_rd = rq[0], .req_wr = rq[1], .timeout_ms = sp->timeout_ms,
                              .first_timeout_ms = first_timeout(sp)};
        a.ctx.self = sp->c;
        a.ctx.interval_ms = w->interval_ms;
        a.ctx.state = NULL;
        a.ctx.sample_no = 0;
        struct child ch;
        int r = child_start(&ch, sp->c->name, sampler_main, &a);
        close(rq[0]);
        if (r < 0) {
                close(rq[1]);
                return r;
        }
        (void)fcntl(rq[1], F_SETFL, O_NONBLOCK);
        (void)fcntl(ch.fd, F_SETFL, O_NONBLOCK);
        sp->pid = ch.pid;
        sp->req_fd = rq[1];
        frame_reader_init(&sp->rd, ch.fd, SAMPLE_PAYLOAD_MAX);
        sp->state = SP_IDLE;
        sp->next_no = 0;
        sp->npend = 0; /* a new child starts with a full scan */
        sample_answer_free(&sp->cur); /* and its first answer is whole */
        return 0;
}

static void close_pipes(struct sampler *sp)
{
        if (sp->req_fd >= 0)
                close(sp->req_fd);
        if (sp->rd.fd >= 0)
                close(sp->rd.fd);
        frame_reader_free(&sp->rd); /* fd -1 */
        sp->req_fd = -1;
        sp->pid = -1;
}

/* The child is done for now: reap it (or leave it behind when it is stuck in the
 * kernel) and schedule a restart with a growing back-off. */
static void down(struct watch *w, struct sampler *sp, bool timeout, const char *why, uint64_t now)
{
        bool abandoned = false;
        int status = 0;
        if (sp->pid > 0) {
                /* One that closed its pipe is exiting: give it a moment so its own exit
                 * status (a crash signal) is what gets reported, then kill. */
                pid_t got = 0;
                for (int i = 0; !timeout && i < 50 && got == 0; i++) {
                        got = waitpid(sp->pid, &status, WNOHANG);
                        if (got == 0)
                                usleep(1000);
                }
                if (got != sp->pid)
                        status = child_reap(sp->pid, true, &abandoned);
        }
        close_pipes(sp);
        sp->failures++;
        uint64_t step = w->interval_ms * 5 > 2000 ? w->interval_ms * 5 : 2000;
        uint64_t backoff = step * sp->failures;
        if (backoff > BACKOFF_MAX_MS)
                backoff = BACKOFF_MAX_MS;
        sp->respawn_ms = now + backoff;
        sp->state = SP_STOPPED;
        sp->problem_timeout = timeout;
        if (timeout)
                sp->timeouts++;
        else
                sp->crashes++;
        if (abandoned)
                sp->abandoned++;
        _cleanup_free_ char *st = !timeout && !why ? child_status_error(status) : NULL;
        free(sp->problem);
        if (timeout)
                sp->problem = xasprintf("the %s sampler did not answer within %llu ms: killed%s; restarting in %llu s", sp->c->name,
                                        (unsigned long long)(sp->deadline_ms - sp->sent_ms),
                                        abandoned ? " (unkillable, stuck in the kernel: abandoned)" : "",
                                        (unsigned long long)(backoff / 1000));
        else
                sp->problem = xasprintf("the %s sampler failed: %s; restarting in %llu s", sp->c->name,
                                        why ? why : st ? st : "exited", (unsigned long long)(backoff / 1000));
        /* Its values are no longer known; its statuses stay until it answers again (the
         * restarted child's first answer is whole: what it no longer reports is gone). */
        sample_answer_free(&sp->cur);
        sp->answered = false;
}

static void send_request(struct watch *w, struct sampler *sp, uint64_t now)
{
        int e = frame_send_request_pids(sp->req_fd, sp->next_no, sp->pend, sp->npend);
        sp->npend = 0;
        if (e < 0) {
                down(w, sp, false, NULL, now); /* it died: its exit status says how */
                return;
        }
        sp->sent_ms = now;
        sp->deadline_ms = now + (sp->next_no ? sp->timeout_ms : first_timeout(sp));
        sp->next_no++;
        sp->state = SP_BUSY;
}

/* The processes started before the last round that are still there, once for every
 * sampler: each keeps what it has not been sent yet (the newest SAMPLE_YOUNG_MAX). */
static void share_new_pids(struct watch *w)
{
        int fresh[SAMPLE_YOUNG_MAX];
        size_t nf = pidwatch_settled(&w->pids, fresh, SAMPLE_YOUNG_MAX);
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                for (size_t k = 0; k < nf; k++) {
                        if (sp->npend == SAMPLE_YOUNG_MAX) {
                                memmove(sp->pend, sp->pend + 1, (SAMPLE_YOUNG_MAX - 1) * sizeof(*sp->pend));
                                sp->npend--;
                        }
                        sp->pend[sp->npend++] = fresh[k];
                }
        }
}

void watch_request(struct watch *w, uint64_t now)
{
        if (w->chk.every_ms && w->chk.pid <= 0 && now >= w->chk.next_ms)
                watch_check_start(w, now);
        share_new_pids(w);
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                if (sp->state == SP_STOPPED && now >= sp->respawn_ms) {
                        int r = spawn(w, sp);
                        if (r < 0) {
                                _cleanup_free_ char *why = xasprintf("cannot start a child: %s", strerror(-r));
                                down(w, sp, false, why, now);
                                continue;
                        }
                }
                if (sp->state == SP_IDLE)
                        send_request(w, sp, now);
        }
}

size_t watch_pollfds(struct watch *w, struct pollfd *pfd, size_t *which, uint64_t *deadline)
{
        size_t np = 0;
        *deadline = UINT64_MAX;
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                if (sp->state != SP_IDLE && sp->state != SP_BUSY)
                        continue;
                pfd[np] = (struct pollfd){.fd = sp->rd.fd, .events = POLLIN};
                which[np++] = i;
                if (sp->state == SP_BUSY && sp->deadline_ms < *deadline)
                        *deadline = sp->deadline_ms;
        }
        if (w->chk.pid > 0) {
                pfd[np] = (struct pollfd){.fd = w->chk.rd.fd, .events = POLLIN};
                which[np++] = w->n;
                if (w->chk.deadline_ms < *deadline)
                        *deadline = w->chk.deadline_ms;
        }
        return np;
}

static void take_answer(struct watch *w, struct sampler *sp, const struct frame *f, uint64_t now)
{
        _cleanup_free_ char *why = NULL;
        if (sp->state != SP_BUSY) {
                down(w, sp, false, "sent an answer nobody asked for", now);
                return;
        }
        /* The answer is what changed since the child's last one: applied to what the
         * parent holds of it at once (the events come at the next round's merge). */
        if (sample_answer_apply(&sp->cur, f, sp->rd.tok, sp->c, &why) < 0) {
                down(w, sp, false, why, now);
                return;
        }
        if (sp->cur.n + 1 != sp->next_no) {
                down(w, sp, false, "sent an answer to another request", now);
                return;
        }
        if (!sp->cur.applies) {
                sample_answer_free(&sp->cur);
                bool ab = false;
                (void)child_reap(sp->pid, false, &ab);
                close_pipes(sp);
                sp->state = SP_NOT_APPLICABLE;
                return;
        }
        sp->answered = true;
        sp->answers++;
        sp->failures = 0;
        free(sp->problem);
        sp->problem = NULL;
        sp->state = SP_IDLE;
}

static bool running(const struct sampler *sp)
{
        return sp->state == SP_IDLE || sp->state == SP_BUSY;
}

/* What came on a readable answer pipe: whole answers, or the end of the child. */
static void take_frames(struct watch *w, struct sampler *sp, uint64_t now)
{
        long got = frame_reader_fill(&sp->rd);
        if (got == -EAGAIN)
                return;
        struct frame f;
        int k = 0;
        while (running(sp) && (k = frame_next(&sp->rd, &f)) > 0)
                take_answer(w, sp, &f, now);
        if (!running(sp) || (k == 0 && got > 0))
                return;
        /* The end of the stream (its exit status says why), or a bad frame. */
        down(w, sp, false, k == -EFBIG ? "sent an oversized answer" : k == -EPIPE || got < 0 ? NULL : "sent an unreadable answer", now);
}

void watch_service(struct watch *w, const struct pollfd *pfd, const size_t *which, size_t np, uint64_t now)
{
        for (size_t k = 0; k < np; k++) {
                if (which[k] == w->n) {
                        if (pfd[k].revents)
                                watch_check_take(w);
                        continue;
                }
                struct sampler *sp = &w->s[which[k]];
                if (!running(sp))
                        continue;
                if (pfd[k].revents)
                        take_frames(w, sp, now);
                else if (sp->state == SP_BUSY && now >= sp->deadline_ms)
                        down(w, sp, true, NULL, now);
        }
        if (w->chk.pid > 0 && now >= w->chk.deadline_ms) {
                _cleanup_free_ char *why = xasprintf("did not finish within %llu ms: killed",
                                                     (unsigned long long)(w->chk.deadline_ms - w->chk.started_ms));
                watch_check_done(w, why);
        }
        /* Children not polled this time (none) still have deadlines. */
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                if (sp->state == SP_BUSY && now >= sp->deadline_ms)
                        down(w, sp, true, NULL, now);
        }
}

bool watch_settled(const struct watch *w)
{
        for (size_t i = 0; i < w->n; i++)
                if (w->s[i].state == SP_BUSY)
                        return false;
        return true;
}

void watch_stop(struct watch *w)
{
        if (w->chk.pid > 0) {
                bool ab = false;
                (void)child_reap(w->chk.pid, true, &ab);
                w->chk.pid = -1;
        }
        if (w->chk.rd.fd >= 0)
                close(w->chk.rd.fd);
        w->chk.rd.fd = -1;
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                if (sp->pid > 0) {
                        bool ab = false;
                        /* Closing the request pipe ends it cleanly; one that is stuck gets SIGKILL.
                         * Under the leak check a busy one gets child_reap's 2 s to finish its
                         * sample and check: killed mid-sample, it says nothing (a loaded host). */
                        if (sp->req_fd >= 0)
                                close(sp->req_fd);
                        sp->req_fd = -1;
                        (void)child_reap(sp->pid, sp->state == SP_BUSY && !leak_check_wanted(), &ab);
                }
                close_pipes(sp);
                sp->state = SP_STOPPED;
        }
}

void watch_free(struct watch *w)
{
        for (size_t i = 0; i < w->n; i++) {
                sample_answer_free(&w->s[i].cur);
                frame_reader_free(&w->s[i].rd);
                free(w->s[i].problem);
        }
        free(w->s);
        pidwatch_free(&w->pids);
        frame_reader_free(&w->chk.rd);
        json_object_put(w->chk.pending);
        free(w->chk.problem);
        for (size_t i = 0; i < w->nst; i++) {
                free(w->st[i].id);
                free(w->st[i].subject);
                free(w->st[i].summary);
                free(w->st[i].expected);
                free(w->st[i].actual);
                free(w->st[i].remedy);
        }
        free(w->st);
        json_object_put(w->index);
        free(w->seen);
        *w = (struct watch){0};
}

