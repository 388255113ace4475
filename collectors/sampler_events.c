/* evodiag watch: the statuses (one per check ID and subject, owned by the sampler
 * that reports it or by the background check), the events (a change of a status's
 * severity, a new subject, one that went away), the per-round merge of the answers,
 * and their JSON. See collectors/sampler.h. */
#include "config.h"
#include "collectors/sampler.h"

#include <time.h>

/* ---- statuses and events ---- */

/* "id\037subject" into buf (cut at its size: ids and subjects are short). */
static const char *status_key(char buf[static 512], const char *id, const char *subject)
{
        snprintf(buf, 512, "%s\037%s", id, subject ? subject : "");
        return buf;
}

struct evlist {
        struct watch_event *v;
        size_t n, cap;
};

static void add_event(struct evlist *l, uint64_t t, const struct watch_status *s, enum severity prev, bool baseline, bool gone,
                      bool fresh)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 8;
                l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = (struct watch_event){
                .time_ms = t, .id = xstrdup(s->id), .subject = s->subject ? xstrdup(s->subject) : NULL,
                .summary = xstrdup(gone ? "no longer reported (the condition passed or its subject went away)" : s->summary),
                .sev = gone ? SEV_OK : s->sev, .prev = prev, .baseline = baseline, .gone = gone, .fresh = fresh,
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
                if (owner == w->n && s->owner != w->n)
                        return; /* a sampler reports it: its verdict, every interval, wins */
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
                        add_event(ev, t, s, prev, false, false, false);
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
        if (noteworthy(sev)) /* never seen before: "new", not "was ok" */
                add_event(ev, t, &w->st[i], SEV_OK, baseline, false, true);
}

static void remove_status(struct watch *w, size_t i)
{
        struct watch_status *s = &w->st[i];
        char kb[512];
        json_object_object_del(w->index, status_key(kb, s->id, s->subject));
        free(s->id);
        free(s->subject);
        free(s->summary);
        free(s->expected);
        free(s->actual);
        free(s->remedy);
        size_t last = --w->nst;
        if (i != last) {
                w->st[i] = w->st[last];
                w->seen[i] = w->seen[last];
                json_object_object_add(w->index, status_key(kb, w->st[i].id, w->st[i].subject),
                                       json_object_new_int64((int64_t)i));
        }
}

struct watch_event *watch_round(struct watch *w, uint64_t t, size_t *nev, struct svalue **fresh, size_t *nfresh)
{
        struct evlist ev = {0};
        w->round++;
        size_t nf = 0;
        for (size_t k = 0; k < w->n; k++)
                nf += w->s[k].answered ? w->s[k].cur.nv : 0;
        *fresh = xcalloc(nf ? nf : 1, sizeof(**fresh));
        *nfresh = 0;
        for (size_t k = 0; k < w->n; k++) {
                struct sampler *sp = &w->s[k];
                if (sp->answered) {
                        /* What a collector first reports in its first two answers is the state
                         * at start: a verdict that needs two readings (a heartbeat's progress,
                         * a rate) can only come with the second. */
                        bool baseline = sp->merged < 2;
                        if (sp->merged < 2)
                                sp->merged++;
                        sp->answered = false;
                        struct sample_answer *a = &sp->cur;
                        if (a->whole) {
                                /* A new child's whole state: its statuses update the table, and
                                 * what its collector reported before and not now has passed (or
                                 * its subject is gone). */
                                for (size_t i = 0; i < a->ns; i++)
                                        upsert(w, &ev, k, a->s[i].id, a->s[i].subject, a->s[i].sev, a->s[i].summary, t, baseline);
                                for (size_t i = w->nst; i-- > 0;)
                                        if (w->st[i].owner == k && w->seen[i] != w->round) {
                                                if (noteworthy(w->st[i].sev))
                                                        add_event(&ev, t, &w->st[i], w->st[i].sev, false, true, false);
                                                remove_status(w, i);
                                        }
                        } else {
                                /* Only what changed: new and changed statuses, then those gone. */
                                for (size_t i = 0; i < a->ns; i++)
                                        if (a->dirty[i])
                                                upsert(w, &ev, k, a->s[i].id, a->s[i].subject, a->s[i].sev, a->s[i].summary, t, baseline);
                                for (size_t g = 0; g < a->ngone; g++) {
                                        char kb[512];
                                        json_object *pos;
                                        if (!json_object_object_get_ex(w->index, status_key(kb, a->gone[g].id, a->gone[g].subject), &pos))
                                                continue;
                                        size_t i = (size_t)json_object_get_int64(pos);
                                        if (w->st[i].owner != k)
                                                continue;
                                        if (noteworthy(w->st[i].sev))
                                                add_event(&ev, t, &w->st[i], w->st[i].sev, false, true, false);
                                        remove_status(w, i);
                                }
                        }
                        sample_answer_merged(a);
                        memcpy(*fresh + *nfresh, a->v, a->nv * sizeof(**fresh));
                        *nfresh += a->nv;
                        sp->baselined = true;
                } else if (sp->problem) {
                        _cleanup_free_ char *id = xasprintf("%s.%s", sp->c->name, sp->problem_timeout ? "timeout" : "crashed");
                        upsert(w, &ev, k, id, NULL, SEV_UNKNOWN, sp->problem, t, !sp->baselined);
                }
        }
        if (w->chk.pending) {
                /* The background check's result: like a sampler's answer, owner n. Its
                 * first result is part of the state at start. */
                json_object *doc = w->chk.pending;
                bool baseline = w->chk.runs <= 1 && !w->chk.failures;
                for (size_t i = 0; i < json_object_array_length(doc); i++) {
                        json_object *x = json_object_array_get_idx(doc, i);
                        const char *id = json_object_get_string(json_object_array_get_idx(x, 0));
                        json_object *subj = json_object_array_get_idx(x, 1);
                        enum severity sev;
                        if (!id || severity_from_name(json_object_get_string(json_object_array_get_idx(x, 2)), &sev) < 0)
                                continue;
                        const char *sj = subj ? json_object_get_string(subj) : NULL;
                        upsert(w, &ev, w->n, id, sj, sev,
                               json_object_get_string(json_object_array_get_idx(x, 3)) ? json_object_get_string(json_object_array_get_idx(x, 3)) : "",
                               t, baseline);
                        char kb[512];
                        json_object *pos;
                        if (json_object_object_get_ex(w->index, status_key(kb, id, sj), &pos)) {
                                struct watch_status *s = &w->st[json_object_get_int64(pos)];
                                if (s->owner != w->n)
                                        continue;
                                char **d[3] = {&s->expected, &s->actual, &s->remedy};
                                for (int j = 0; j < 3; j++) {
                                        const char *v = json_object_get_string(json_object_array_get_idx(x, 4 + j));
                                        free(*d[j]);
                                        *d[j] = v ? xstrdup(v) : NULL;
                                }
                        }
                }
                for (size_t i = w->nst; i-- > 0;)
                        if (w->st[i].owner == w->n && w->seen[i] != w->round) {
                                if (noteworthy(w->st[i].sev))
                                        add_event(&ev, t, &w->st[i], w->st[i].sev, false, true, false);
                                remove_status(w, i);
                        }
                json_object_put(doc);
                w->chk.pending = NULL;
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
                if (v[i]->expected)
                        json_object_object_add(o, "expected", json_object_new_string(v[i]->expected));
                if (v[i]->actual)
                        json_object_object_add(o, "found", json_object_new_string(v[i]->actual));
                if (v[i]->remedy)
                        json_object_object_add(o, "remedy", json_object_new_string(v[i]->remedy));
                json_object_array_add(a, o);
        }
        free(v);
        return a;
}

json_object *watch_values_json(const struct watch *w)
{
        json_object *a = json_object_new_array();
        for (size_t k = 0; k < w->n; k++)
                for (size_t i = 0; i < w->s[k].cur.nv; i++)
                        json_object_array_add(a, svalue_to_json(&w->s[k].cur.v[i]));
        return a;
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
        json_object_object_add(o, "previous", json_object_new_string(e->fresh ? "new" : severity_name(e->prev)));
        json_object_object_add(o, "summary", json_object_new_string(e->summary));
        json_object_object_add(o, "baseline", json_object_new_boolean(e->baseline));
        json_object_object_add(o, "gone", json_object_new_boolean(e->gone));
        return o;
}
