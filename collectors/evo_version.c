/* evo collector: evo.version, the crate version each EVO module says it is in its own
 * startup line (evo_startup_version), read from the journal. Nothing is run: a module's
 * binary is never asked (`evo --version`): an `evo` built before evo-core b7a9d87 parses
 * no arguments and would start a second supervisor. The segments carry no version
 * (only the payload's layout hash), and a path crate leaves no version in the binary. */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/journal.h"

#include <errno.h>
#include <time.h>

#define VERSION_ENTRIES_MAX 200000 /* journal entries of the modules read at most */
#define VERSION_MS_MAX 2000

struct seen {
        const char *crate;
        char ver[48];
        uint64_t pid, uid, t_us;
};

static bool uid_trusted(const struct scan *sc, uint64_t uid)
{
        if (uid == 0)
                return true;
        for (size_t i = 0; i < sc->n; i++)
                if (sc->v[i].cls == C_VALID && sc->v[i].stat_err == 0 && sc->v[i].st.st_uid == uid)
                        return true;
        return false;
}

static void put_time(struct strbuf *b, uint64_t us)
{
        time_t t = (time_t)(us / 1000000);
        struct tm tm;
        char buf[32];
        if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
                sb_puts(b, buf);
}

void evo_check_version(struct ctx *c, struct scan *sc, struct findings *fs)
{
        _cleanup_journal_ struct journal *j = NULL;
        struct journal_opts o = {0};
        int r = journal_open(&o, &j);
        if (r < 0 || !journal_usable(j)) {
                fnd_add(fs, SEV_SKIPPED, "evo.version", "not known: no readable journal (%s) to find the modules' startup lines in",
                        r < 0 ? strerror(-r) : journal_origin(j));
                return;
        }
        /* _COMM is set by journald (trusted), cut to 15 characters. */
        static const char *const comms[] = {"evo", "evo_control_uni", "evo_hal"};
        for (size_t i = 0; i < ARRAY_SIZE(comms); i++)
                journal_match(j, "_COMM", comms[i]);
        uint64_t now = now_ms_monotonic(), dl = now + VERSION_MS_MAX;
        if (c->deadline_ms && c->deadline_ms < dl + 500)
                dl = c->deadline_ms > now + 500 ? c->deadline_ms - 500 : now;
        struct journal_window w = {.max_entries = VERSION_ENTRIES_MAX, .deadline_ms = dl};
        struct seen last[3] = {{0}};
        size_t foreign = 0;
        char msg[1024], ver[48];
        if (journal_seek(j, &w) == 0)
                while (journal_next(j) > 0) {
                        bool cut;
                        if (journal_field(j, "MESSAGE", msg, sizeof(msg), &cut) < 0)
                                continue;
                        const char *crate = evo_startup_version(msg, ver, sizeof(ver));
                        uint64_t uid = UINT64_MAX, pid = 0;
                        if (!crate)
                                continue;
                        (void)journal_field_u64(j, "_PID", &pid);
                        if (journal_field_u64(j, "_UID", &uid) < 0 || !uid_trusted(sc, uid)) {
                                foreign++; /* anyone may name a program evo: only root's or the segments' owner's */
                                continue;
                        }
                        size_t k = streq(crate, "evo") ? 0 : streq(crate, "evo_control_unit") ? 1 : 2;
                        last[k] = (struct seen){.crate = crate, .pid = pid, .uid = uid, .t_us = journal_realtime_us(j)};
                        snprintf(last[k].ver, sizeof(last[k].ver), "%s", ver);
                }
        struct strbuf names = {0}, ev = {0};
        for (size_t k = 0; k < ARRAY_SIZE(last); k++) {
                if (!last[k].crate)
                        continue;
                sb_printf(&names, "%s%s %s", names.len ? ", " : "", last[k].crate, last[k].ver);
                sb_printf(&ev, "%sjournal (%s): _COMM %s, _PID %llu, _UID %llu, ", ev.len ? "; " : "", journal_origin(j),
                          last[k].crate, (unsigned long long)last[k].pid, (unsigned long long)last[k].uid);
                put_time(&ev, last[k].t_us);
        }
        _cleanup_free_ char *why = journal_cut(j) ? xasprintf(" (the read stopped: %s)", journal_stop_str(journal_stopped(j))) : NULL;
        if (!names.len) {
                struct finding *f = fnd_add(fs, SEV_SKIPPED, "evo.version",
                                            "not known: no startup line of an EVO module (evo, evo_control_unit, evo_hal) in %s%s%s",
                                            journal_origin(j), why ? why : "",
                                            foreign ? "; lines from other users were not believed" : "");
                if (foreign)
                        fnd_actual(f, "%zu startup line%s from a user that neither is root nor owns an EVO segment", foreign,
                                   foreign == 1 ? "" : "s");
        } else {
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.version", "%s (the modules' last startup lines in the journal)%s",
                                            names.s, why ? why : "");
                fnd_actual(f, "%s", names.s);
                fnd_evidence(f, "%s", ev.s);
        }
        sb_free(&names);
        sb_free(&ev);
}
