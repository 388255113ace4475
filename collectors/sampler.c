#include "config.h"
#include "collectors/sampler.h"
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

#define ANSWER_MAX (8u << 20)   /* one sample never needs more */
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

/* On the pipe a value is ["key","subject",value,"unit"] and a status
 * ["id","subject","severity","summary"] (null for no subject or unit): arrays
 * cost the parent a fraction of what objects do to parse (json-c gives every
 * object its own hash table), and it parses every answer of every interval. */
static const char *const value_keys[4] = {"key", "subject", "value", "unit"};
static const char *const status_keys[4] = {"id", "subject", "severity", "summary"};

static json_object *compact(json_object *objs, const char *const keys[4])
{
        size_t n = objs ? json_object_array_length(objs) : 0;
        json_object *a = json_object_new_array_ext((int)n);
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(objs, i), *x = json_object_new_array_ext(4), *f;
                for (int k = 0; k < 4; k++)
                        json_object_array_add(x, json_object_object_get_ex(o, keys[k], &f) ? json_object_get(f) : NULL);
                json_object_array_add(a, x);
        }
        return a;
}

bool watch_value_get(json_object *v, const char **key, const char **subject, double *value, const char **unit)
{
        json_object *k, *s, *x, *u;
        if (json_object_is_type(v, json_type_array)) {
                if (json_object_array_length(v) != 4)
                        return false;
                k = json_object_array_get_idx(v, 0);
                s = json_object_array_get_idx(v, 1);
                x = json_object_array_get_idx(v, 2);
                u = json_object_array_get_idx(v, 3);
        } else {
                if (!json_object_object_get_ex(v, "key", &k) || !json_object_object_get_ex(v, "value", &x))
                        return false;
                if (!json_object_object_get_ex(v, "subject", &s))
                        s = NULL;
                if (!json_object_object_get_ex(v, "unit", &u))
                        u = NULL;
        }
        if (!json_object_is_type(k, json_type_string) || !(json_object_is_type(x, json_type_double) || json_object_is_type(x, json_type_int)))
                return false;
        *key = json_object_get_string(k);
        *subject = json_object_is_type(s, json_type_string) ? json_object_get_string(s) : NULL;
        *value = json_object_get_double(x);
        *unit = json_object_is_type(u, json_type_string) ? json_object_get_string(u) : NULL;
        return true;
}

json_object *watch_value_object(json_object *v)
{
        const char *key, *subject, *unit;
        double d;
        if (!watch_value_get(v, &key, &subject, &d, &unit))
                return NULL;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        if (subject)
                json_object_object_add(o, "subject", json_object_new_string(subject));
        json_object_object_add(o, "value", json_object_new_double(d));
        if (unit)
                json_object_object_add(o, "unit", json_object_new_string(unit));
        return o;
}

json_object *watch_values_objects(json_object *compact_values)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; compact_values && i < json_object_array_length(compact_values); i++) {
                json_object *o = watch_value_object(json_object_array_get_idx(compact_values, i));
                if (o)
                        json_object_array_add(a, o);
        }
        return a;
}

static void sampler_main(void *arg, int wfd)
{
        struct child_arg *a = arg;
        /* ^C on the terminal reaches the whole process group: watch decides when its
         * samplers stop (it closes their pipe), so none dies first and looks crashed. */
        signal(SIGINT, SIG_IGN);
        close(a->req_wr);
        close_others(a->req_rd, wfd);
        struct ctx *c = &a->ctx;
        bool applies = !c->self->detect || c->self->detect(c);
        char line[64];
        size_t n = 0;
        for (;;) {
                char ch;
                ssize_t r = read(a->req_rd, &ch, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        _exit(0); /* the parent is gone or done with us */
                if (ch != '\n') {
                        if (n < sizeof(line) - 1)
                                line[n++] = ch;
                        continue;
                }
                line[n] = 0;
                n = 0;
                uint64_t no;
                if (parse_u64(line, &no) < 0)
                        _exit(3);
                c->sample_no = no;
                c->deadline_ms = now_ms_monotonic() + (no ? a->timeout_ms : a->first_timeout_ms);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "n", json_object_new_int64((int64_t)no));
                json_object_object_add(o, "applies", json_object_new_boolean(applies));
                if (applies) {
                        struct sample s;
                        sample_init(&s);
                        c->self->sample(c, &s);
                        json_object_object_add(o, "v", compact(s.values, value_keys));
                        json_object_object_add(o, "s", compact(s.statuses, status_keys));
                        sample_free(&s);
                }
                const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                int w = write_all(wfd, txt, strlen(txt));
                if (w == 0)
                        w = write_all(wfd, "\n", 1);
                json_object_put(o);
                if (w < 0 || !applies)
                        _exit(0);
        }
}

/* ---------------- the parent ---------------- */

void watch_init(struct watch *w, const struct ctx *base, uint64_t interval_ms, const char *const *only,
                const char *const *skip, uint64_t def_timeout_ms)
{
        *w = (struct watch){.base = *base, .interval_ms = interval_ms, .index = json_object_new_object()};
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
                *sp = (struct sampler){.c = c, .state = SP_STOPPED, .pid = -1, .req_fd = -1, .resp_fd = -1,
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
        sp->resp_fd = ch.fd;
        sp->state = SP_IDLE;
        sp->next_no = 0;
        sb_free(&sp->in);
        return 0;
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
        if (sp->req_fd >= 0)
                close(sp->req_fd);
        if (sp->resp_fd >= 0)
                close(sp->resp_fd);
        sp->req_fd = sp->resp_fd = -1;
        sp->pid = -1;
        sb_free(&sp->in);
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
        /* Its values are no longer known; its statuses stay until it answers again. */
        json_object_put(sp->values);
        sp->values = NULL;
}

static void send_request(struct watch *w, struct sampler *sp, uint64_t now)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)sp->next_no);
        ssize_t r = write(sp->req_fd, buf, (size_t)n);
        if (r != n) {
                down(w, sp, false, NULL, now); /* it died: its exit status says how */
                return;
        }
        sp->sent_ms = now;
        sp->deadline_ms = now + (sp->next_no ? sp->timeout_ms : first_timeout(sp));
        sp->next_no++;
        sp->state = SP_BUSY;
}

void watch_request(struct watch *w, uint64_t now)
{
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
                pfd[np] = (struct pollfd){.fd = sp->resp_fd, .events = POLLIN};
                which[np++] = i;
                if (sp->state == SP_BUSY && sp->deadline_ms < *deadline)
                        *deadline = sp->deadline_ms;
        }
        return np;
}

static void take_answer(struct watch *w, struct sampler *sp, char *line, uint64_t now)
{
        if (!w->tok)
                w->tok = json_tokener_new();
        json_tokener_reset(w->tok);
        json_object *o = json_tokener_parse_ex(w->tok, line, (int)strlen(line) + 1), *ap;
        if (o && json_tokener_get_error(w->tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "applies", &ap)) {
                json_object_put(o);
                down(w, sp, false, "sent an unreadable answer", now);
                return;
        }
        if (!json_object_get_boolean(ap)) {
                json_object_put(o);
                bool ab = false;
                (void)child_reap(sp->pid, false, &ab);
                close(sp->req_fd);
                close(sp->resp_fd);
                sp->req_fd = sp->resp_fd = -1;
                sp->pid = -1;
                sp->state = SP_NOT_APPLICABLE;
                return;
        }
        json_object_put(sp->answer);
        sp->answer = o;
        sp->answered = true;
        sp->answers++;
        sp->failures = 0;
        free(sp->problem);
        sp->problem = NULL;
        sp->state = SP_IDLE;
}

void watch_service(struct watch *w, const struct pollfd *pfd, const size_t *which, size_t np, uint64_t now)
{
        for (size_t k = 0; k < np; k++) {
                struct sampler *sp = &w->s[which[k]];
                if (sp->state != SP_IDLE && sp->state != SP_BUSY)
                        continue;
                if (pfd[k].revents) {
                        char buf[65536];
                        ssize_t got = read(sp->resp_fd, buf, sizeof(buf));
                        if (got < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (got <= 0) {
                                down(w, sp, false, sp->in.len ? "sent an unreadable answer" : NULL, now);
                                continue;
                        }
                        if (sp->in.len + (size_t)got > ANSWER_MAX) {
                                down(w, sp, false, "sent an oversized answer", now);
                                continue;
                        }
                        size_t had = sp->in.len;
                        sb_putn(&sp->in, buf, (size_t)got);
                        char *nl = memchr(sp->in.s + had, '\n', (size_t)got);
                        if (nl) {
                                *nl = 0;
                                /* The buffer keeps its size for the next answer. */
                                sp->in.len = 0;
                                if (sp->state == SP_BUSY)
                                        take_answer(w, sp, sp->in.s, now);
                        }
                } else if (sp->state == SP_BUSY && now >= sp->deadline_ms) {
                        down(w, sp, true, NULL, now);
                }
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

/* ---- statuses and events ---- */

/* "id\037subject" into buf (cut at its size: ids and subjects are short). */
static const char *status_key(char buf[static 512], const char *id, const char *subject)
{
        snprintf(buf, 512, "%s\037%s", id, subject ? subject : "");
        return buf;
}

static const char *astr(json_object *a, size_t i)
{
        json_object *v = json_object_array_get_idx(a, i);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

struct evlist {
        struct watch_event *v;
        size_t n, cap;
};

static void add_event(struct evlist *l, uint64_t t, const struct watch_status *s, enum severity prev, bool baseline, bool gone)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 8;
                l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = (struct watch_event){
                .time_ms = t, .id = xstrdup(s->id), .subject = s->subject ? xstrdup(s->subject) : NULL,
                .summary = xstrdup(gone ? "no longer reported (the condition passed or its subject went away)" : s->summary),
                .sev = gone ? SEV_OK : s->sev, .prev = prev, .baseline = baseline, .gone = gone,
        };
}

static bool noteworthy(enum severity s)
{
        return s != SEV_OK && s != SEV_SKIPPED;
}

static void upsert(struct watch *w, struct evlist *ev, size_t owner, const char *id, const char *subject, enum severity sev,
                   const char *summary, uint64_t t, bool baseline)
{
        char kb[512];
        const char *key = status_key(kb, id, subject);
        json_object *pos;
        if (json_object_object_get_ex(w->index, key, &pos)) {
                size_t i = (size_t)json_object_get_int64(pos);
                struct watch_status *s = &w->st[i];
                w->seen[i] = w->round;
                s->owner = owner;
                if (!streq(s->summary, summary)) {
                        free(s->summary);
                        s->summary = xstrdup(summary);
                }
                if (s->sev != sev) {
                        enum severity prev = s->sev;
                        s->sev = sev;
                        s->since_ms = t;
                        add_event(ev, t, s, prev, false, false);
                }
                return;
        }
        if (w->nst == w->capst) {
                w->capst = w->capst ? w->capst * 2 : 64;
                w->st = xrealloc(w->st, w->capst * sizeof(*w->st));
                w->seen = xrealloc(w->seen, w->capst * sizeof(*w->seen));
        }
        size_t i = w->nst++;
        w->st[i] = (struct watch_status){.id = xstrdup(id), .subject = subject ? xstrdup(subject) : NULL,
                                         .summary = xstrdup(summary), .sev = sev, .owner = owner, .since_ms = t};
        w->seen[i] = w->round;
        json_object_object_add(w->index, key, json_object_new_int64((int64_t)i));
        if (noteworthy(sev))
                add_event(ev, t, &w->st[i], SEV_OK, baseline, false);
}

static void remove_status(struct watch *w, size_t i)
{
        struct watch_status *s = &w->st[i];
        char kb[512];
        json_object_object_del(w->index, status_key(kb, s->id, s->subject));
        free(s->id);
        free(s->subject);
        free(s->summary);
        size_t last = --w->nst;
        if (i != last) {
                w->st[i] = w->st[last];
                w->seen[i] = w->seen[last];
                json_object_object_add(w->index, status_key(kb, w->st[i].id, w->st[i].subject),
                                       json_object_new_int64((int64_t)i));
        }
}

struct watch_event *watch_round(struct watch *w, uint64_t t, size_t *nev, json_object **fresh)
{
        struct evlist ev = {0};
        w->round++;
        *fresh = json_object_new_array();
        for (size_t k = 0; k < w->n; k++) {
                struct sampler *sp = &w->s[k];
                if (sp->answered) {
                        bool baseline = !sp->baselined;
                        json_object *sts, *vals;
                        if (json_object_object_get_ex(sp->answer, "s", &sts) && json_object_is_type(sts, json_type_array))
                                for (size_t i = 0; i < json_object_array_length(sts); i++) {
                                        json_object *o = json_object_array_get_idx(sts, i);
                                        if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 4)
                                                continue;
                                        const char *id = astr(o, 0), *sv = astr(o, 2);
                                        enum severity sev;
                                        if (!id || !sv || severity_from_name(sv, &sev) < 0)
                                                continue;
                                        upsert(w, &ev, k, id, astr(o, 1), sev, astr(o, 3) ? astr(o, 3) : "", t, baseline);
                                }
                        /* What it reported before and not now has passed (or its subject is gone). */
                        for (size_t i = w->nst; i-- > 0;)
                                if (w->st[i].owner == k && w->seen[i] != w->round) {
                                        if (noteworthy(w->st[i].sev))
                                                add_event(&ev, t, &w->st[i], w->st[i].sev, false, true);
                                        remove_status(w, i);
                                }
                        json_object_put(sp->values);
                        sp->values = NULL;
                        if (json_object_object_get_ex(sp->answer, "v", &vals) && json_object_is_type(vals, json_type_array)) {
                                sp->values = json_object_get(vals);
                                for (size_t i = 0; i < json_object_array_length(vals); i++)
                                        json_object_array_add(*fresh, json_object_get(json_object_array_get_idx(vals, i)));
                        }
                        json_object_put(sp->answer);
                        sp->answer = NULL;
                        sp->answered = false;
                        sp->baselined = true;
                } else if (sp->problem) {
                        _cleanup_free_ char *id = xasprintf("%s.%s", sp->c->name, sp->problem_timeout ? "timeout" : "crashed");
                        upsert(w, &ev, k, id, NULL, SEV_UNKNOWN, sp->problem, t, !sp->baselined);
                }
        }
        *nev = ev.n;
        return ev.v;
}

void watch_events_free(struct watch_event *e, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(e[i].id);
                free(e[i].subject);
                free(e[i].summary);
        }
        free(e);
}

static int worst_first(const void *a, const void *b)
{
        const struct watch_status *x = *(const struct watch_status *const *)a, *y = *(const struct watch_status *const *)b;
        if (x->sev != y->sev)
                return x->sev > y->sev ? -1 : 1;
        int c = strcmp(x->id, y->id);
        if (c)
                return c;
        return strcmp(x->subject ? x->subject : "", y->subject ? y->subject : "");
}

json_object *watch_statuses_json(const struct watch *w)
{
        const struct watch_status **v = xcalloc(w->nst + 1, sizeof(*v));
        for (size_t i = 0; i < w->nst; i++)
                v[i] = &w->st[i];
        qsort(v, w->nst, sizeof(*v), worst_first);
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < w->nst; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "id", json_object_new_string(v[i]->id));
                if (v[i]->subject)
                        json_object_object_add(o, "subject", json_object_new_string(v[i]->subject));
                json_object_object_add(o, "severity", json_object_new_string(severity_name(v[i]->sev)));
                json_object_object_add(o, "summary", json_object_new_string(v[i]->summary));
                json_object_object_add(o, "since_ms", json_object_new_int64((int64_t)v[i]->since_ms));
                json_object_array_add(a, o);
        }
        free(v);
        return a;
}

json_object *watch_values_json(const struct watch *w)
{
        json_object *a = json_object_new_array();
        for (size_t k = 0; k < w->n; k++)
                for (size_t i = 0; w->s[k].values && i < json_object_array_length(w->s[k].values); i++) {
                        json_object *o = watch_value_object(json_object_array_get_idx(w->s[k].values, i));
                        if (o)
                                json_object_array_add(a, o);
                }
        return a;
}

void watch_stop(struct watch *w)
{
        for (size_t i = 0; i < w->n; i++) {
                struct sampler *sp = &w->s[i];
                if (sp->pid > 0) {
                        bool ab = false;
                        /* Closing the request pipe ends it cleanly; one that is stuck gets SIGKILL. */
                        if (sp->req_fd >= 0)
                                close(sp->req_fd);
                        (void)child_reap(sp->pid, sp->state == SP_BUSY, &ab);
                }
                if (sp->resp_fd >= 0)
                        close(sp->resp_fd);
                sp->req_fd = sp->resp_fd = -1;
                sp->pid = -1;
                sp->state = SP_STOPPED;
        }
}

void watch_free(struct watch *w)
{
        for (size_t i = 0; i < w->n; i++) {
                json_object_put(w->s[i].answer);
                json_object_put(w->s[i].values);
                sb_free(&w->s[i].in);
                free(w->s[i].problem);
        }
        free(w->s);
        for (size_t i = 0; i < w->nst; i++) {
                free(w->st[i].id);
                free(w->st[i].subject);
                free(w->st[i].summary);
        }
        free(w->st);
        json_object_put(w->index);
        if (w->tok)
                json_tokener_free(w->tok);
        free(w->seen);
        *w = (struct watch){0};
}

void watch_time(uint64_t ms, bool millis, char buf[static 40])
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char b[32];
        strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
        if (millis)
                snprintf(buf, 40, "%s.%03uZ", b, (unsigned)(ms % 1000));
        else
                snprintf(buf, 40, "%sZ", b);
}

json_object *watch_event_json(const struct watch_event *e)
{
        char ts[40];
        watch_time(e->time_ms, true, ts);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("event"));
        json_object_object_add(o, "time", json_object_new_string(ts));
        json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)e->time_ms));
        json_object_object_add(o, "id", json_object_new_string(e->id));
        json_object_object_add(o, "subject", e->subject ? json_object_new_string(e->subject) : NULL);
        json_object_object_add(o, "severity", json_object_new_string(severity_name(e->sev)));
        json_object_object_add(o, "previous", json_object_new_string(severity_name(e->prev)));
        json_object_object_add(o, "summary", json_object_new_string(e->summary));
        json_object_object_add(o, "baseline", json_object_new_boolean(e->baseline));
        json_object_object_add(o, "gone", json_object_new_boolean(e->gone));
        return o;
}
