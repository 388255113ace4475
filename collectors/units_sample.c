/* units: what evodiag watch samples. The component units are polled over D-Bus every
 * [units] poll (at least every interval): a unit that changes state or restarts (its
 * NRestarts grew, or it has a new main pid) is a change of units.state or
 * units.restarts, which watch shows as an event. Between polls the last statuses
 * are repeated, so a quiet unit makes no event. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/sample_util.h"
#include "collectors/units.h"

#include <errno.h>
#include <inttypes.h>

struct wunit {
        char *name;
        bool seen;
        uint32_t nrestarts, main_pid;
        char active[32];
};

struct units_watch {
        struct sdunit_bus b;
        bool open;
        char **names;
        struct wunit *v;
        size_t n;
        uint64_t last_ms;
        json_object *last; /* the statuses of the last poll, repeated until the next */
};

static void watch_close(struct units_watch *w)
{
        if (w->open)
                sdunit_close(&w->b);
        w->open = false;
}

static struct wunit *wunit_of(struct units_watch *w, const char *name)
{
        for (size_t i = 0; i < w->n; i++)
                if (streq(w->v[i].name, name))
                        return &w->v[i];
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        w->v[w->n] = (struct wunit){.name = xstrdup(name)};
        return &w->v[w->n++];
}

static void poll_units(struct ctx *c, struct units_watch *w, struct sample *s)
{
        /* A poll may take at most the interval, and 1 s when that is shorter (a loaded
         * host answers D-Bus calls in hundreds of ms): watch never waits long on a hung
         * systemd, and a slow answer is not reported as none. */
        uint64_t cap = c->interval_ms > 1000 ? c->interval_ms : 1000;
        _cleanup_free_ char *why = NULL;
        if (!w->open) {
                if (units_open(c, &w->b, cap, &why) < 0) {
                        sample_status(s, "units.systemd", NULL, why && strstr(why, "deadline") ? SEV_UNKNOWN : SEV_INFO,
                                      "no systemd: unit state unknown (%s)", why ? why : "?");
                        return;
                }
                w->open = true;
        } else {
                w->b.deadline_ms = now_ms_monotonic() + cap;
        }
        if (!w->names || sample_rescan_due(c)) {
                units_names_free(w->names);
                w->names = units_component_names(c, &w->b);
        }
        size_t up = 0;
        for (size_t i = 0; w->names[i]; i++) {
                struct sdunit u;
                char *uwhy = NULL;
                int r = sdunit_get(&w->b, w->names[i], &u, &uwhy);
                if (r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN) {
                        sample_status(s, "units.systemd", NULL, SEV_UNKNOWN, "systemd did not answer: %s", uwhy);
                        free(uwhy);
                        sdunit_free(&u);
                        watch_close(w); /* reconnect at the next poll */
                        return;
                }
                free(uwhy);
                if (r < 0 || (u.load_state && streq(u.load_state, "not-found"))) {
                        sdunit_free(&u);
                        continue;
                }
                up++;
                const char *vwhy;
                enum severity sev = units_state_verdict(&u, false, &vwhy);
                struct wunit *wu = wunit_of(w, u.id);
                const char *act = u.active_state ? u.active_state : "?";
                if (wu->seen && strcmp(wu->active, act))
                        sample_status(s, "units.state", u.id, sev, "%s: %s -> %s (%s)", u.id, wu->active, act,
                                      u.sub_state ? u.sub_state : "?");
                else
                        sample_status(s, "units.state", u.id, sev, "%s: %s (%s)", u.id, act, u.sub_state ? u.sub_state : "?");
                if (u.is_service) {
                        bool restarted = wu->seen && (u.nrestarts > wu->nrestarts ||
                                                      (u.main_pid && wu->main_pid && u.main_pid != wu->main_pid));
                        if (restarted)
                                sample_status(s, "units.restarts", u.id, SEV_WARN, "%s restarted: NRestarts %" PRIu32 " -> %" PRIu32
                                              ", main pid %" PRIu32 " -> %" PRIu32, u.id, wu->nrestarts, u.nrestarts,
                                              wu->main_pid, u.main_pid);
                        else
                                sample_status(s, "units.restarts", u.id, SEV_OK, "%s: NRestarts %" PRIu32 ", main pid %" PRIu32,
                                              u.id, u.nrestarts, u.main_pid);
                        sample_value(s, "units.nrestarts", u.id, u.nrestarts, "restarts");
                        wu->nrestarts = u.nrestarts;
                        wu->main_pid = u.main_pid;
                }
                snprintf(wu->active, sizeof(wu->active), "%s", act);
                wu->seen = true;
                sdunit_free(&u);
        }
        sample_status(s, "units.systemd", NULL, SEV_OK, "systemd answers: %zu component units installed", up);
}

void units_sample(struct ctx *c, struct sample *s)
{
        struct units_watch *w = sample_state(c, sizeof(*w));
        uint64_t poll = 5000, now = now_ms_monotonic();
        (void)parse_duration_ms(conf_str(c, "poll"), &poll);
        if (w->last && c->sample_no && now - w->last_ms < poll) {
                /* Between polls: the last statuses again (no change, no event). */
                size_t n = json_object_array_length(w->last);
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(s->statuses, json_object_get(json_object_array_get_idx(w->last, i)));
                return;
        }
        w->last_ms = now;
        size_t before = json_object_array_length(s->statuses);
        poll_units(c, w, s);
        json_object_put(w->last);
        w->last = json_object_new_array();
        for (size_t i = before; i < json_object_array_length(s->statuses); i++)
                json_object_array_add(w->last, json_object_get(json_object_array_get_idx(s->statuses, i)));
}

void units_free_state(void *state)
{
        struct units_watch *w = state;
        watch_close(w);
        units_names_free(w->names);
        for (size_t i = 0; i < w->n; i++)
                free(w->v[i].name);
        free(w->v);
        json_object_put(w->last);
        free(w);
}
