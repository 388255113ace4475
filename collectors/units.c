/* units: the systemd units of the components, read natively over sd-bus (lib/sdunit):
 * every guide starts with `systemctl status X`. State, result, automatic restarts,
 * main pid, and the limits and placement the guides care about (LimitCORE for the
 * broker's core dumps, LimitNOFILE, LimitMEMLOCK/LimitRTPRIO of RT units), and every
 * failed unit. Where PID 1 is not systemd (containers, build hosts) or there is no
 * bus: one info line, nothing else. Every D-Bus call has a deadline ([units] dbus_timeout).
 * This file holds the checks and the bundle; units_format.c the decisions and the
 * status text, units_sample.c what evodiag watch samples. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/sink.h"
#include "collectors/units.h"
#include "lib/journal.h"
#include "lib/procfs.h"
#include "lib/proctable.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>

#define MAX_COMPONENT_UNITS 64

static const char *const fixed_units[] = {
        "lavinmq.service",   "cerebellar-norse.service", "nfs-server.service", "rpcbind.service",
        "rpcbind.socket",    "nfs-mountd.service",       "irqbalance.service", NULL,
};

static const struct check_info checks[] = {
        {"units.systemd", "systemd answers over D-Bus",
         "evodiag reads unit state from systemd over D-Bus (the system bus, or [units] bus_address),\n"
         "with a deadline on every call ([units] dbus_timeout). Where PID 1 is not systemd (containers,\n"
         "build hosts) or there is no bus, unit state is unknown and the other units checks are\n"
         "left out: one info line says so. unknown: the bus or systemd did not answer in time\n"
         "(a hung systemd or dbus-daemon: systemctl would hang too).\n"
         "Fix for unknown: systemctl status dbus; journalctl -u dbus -n 50; systemctl daemon-reexec.",
         true},
        {"units.state", "Component unit running",
         "The component units: lavinmq.service (and lavinmq@*.service), cerebellar-norse.service,\n"
         "nfs-server.service, rpcbind.service/.socket, nfs-mountd.service, irqbalance.service, the\n"
         "EVO units ([units] evo_glob), the mediator's ([units] mediator_unit) and [units]\n"
         "extra_units. crit: failed, or inactive while enabled (a unit started on demand by an\n"
         "active socket, like rpcbind.service by rpcbind.socket, is fine); warn: waiting for an\n"
         "automatic restart; info: installed but disabled, masked, starting or stopping. Units\n"
         "that are not installed are not mentioned. A failed or restarting unit's finding quotes\n"
         "its last journal lines since its last start (its own and systemd's about it).\n"
         "Fix: systemctl status X; journalctl -u X -n 50 --no-pager; fix the cause, then\n"
         "systemctl restart X (systemctl reset-failed X clears a failed state).",
         true},
        {"units.restarts", "Component unit restarting (flapping)",
         "NRestarts counts the automatic restarts (Restart=) since the unit was last started by\n"
         "hand; ExecMainStartTimestamp is the newest start. warn: it restarted and the newest start\n"
         "lies within [units] restart_window: its process keeps dying now. info: it restarted, but\n"
         "not recently. evodiag watch reports every restart (NRestarts grew, or a new main pid) as\n"
         "an event.\n"
         "Fix: journalctl -u X -n 200 --no-pager (why the process exits); coredumpctl list X.",
         true},
        {"units.limits", "Component unit limits",
         "The limits a unit gives its processes. LimitCORE=0: a crash leaves no core (the LavinMQ\n"
         "guide's core-dump section needs one). LimitNOFILE below [units] nofile_min on\n"
         "lavinmq.service: the broker needs a descriptor per connection and per queue segment\n"
         "(its shipped unit sets infinity). An RT unit (CPUSchedulingPolicy fifo/rr, or a main\n"
         "process running SCHED_FIFO/RR) whose User= is not root: LimitMEMLOCK below [units]\n"
         "memlock_min makes mlockall() fail, LimitRTPRIO below its priority makes the RT setup\n"
         "fail. All warn.\n"
         "Fix: systemctl edit X, add the lines under [Service] (LimitCORE=infinity,\n"
         "LimitNOFILE=infinity, LimitMEMLOCK=infinity, LimitRTPRIO=99), then systemctl restart X.",
         true},
        {"units.failed", "Other failed units",
         "Every unit systemd lists as failed that is not a component unit: warn (at most [units]\n"
         "max_failed are listed). A failed mount, a failed network or time service often explains\n"
         "what the components then do.\n"
         "Fix: systemctl --failed; systemctl status X; journalctl -u X -n 50.",
         true},
        {0},
};

static const struct config_key config[] = {
        CONF_STR("bus_address", "", "D-Bus address of systemd's bus (e.g. unix:path=/run/dbus/system_bus_socket); "
                                    "empty: the system bus where PID 1 is systemd"),
        CONF_DURATION("dbus_timeout", "3s", "deadline of all D-Bus calls of one check (connect included)"),
        CONF_LIST("evo_glob", "evo*.service,evo-*.service", "shell globs naming the EVO units"),
        CONF_STR("mediator_unit", "", "the vGPU mediator's unit, if it has one"),
        CONF_LIST("extra_units", "", "more units to check as components"),
        CONF_DURATION("restart_window", "1h", "a unit that restarted this recently is flapping"),
        CONF_UINT("nofile_min", "65536", 1, 1e12, "LimitNOFILE the broker needs at least"),
        CONF_SIZE("memlock_min", "1G", "LimitMEMLOCK an RT unit's non-root user needs at least"),
        CONF_UINT("max_failed", "20", 1, 10000, "at most this many other failed units are listed"),
        CONF_DURATION("poll", "5s", "evodiag watch: how often unit state is polled"),
        {0},
};

/* ---- the bus and the names ---- */

int units_open(struct ctx *c, struct sdunit_bus *b, uint64_t cap_ms, char **why)
{
        uint64_t ms = 3000;
        (void)parse_duration_ms(conf_str(c, "dbus_timeout"), &ms);
        if (cap_ms && cap_ms < ms)
                ms = cap_ms;
        if (c->deadline_ms) { /* leave the rest of the check time to report */
                uint64_t now = now_ms_monotonic();
                uint64_t left = c->deadline_ms > now + 300 ? c->deadline_ms - now - 300 : 1;
                if (left < ms)
                        ms = left;
        }
        return sdunit_open(b, conf_str(c, "bus_address"), ms, why);
}

static void add_name(char ***v, size_t *n, const char *name)
{
        if (!sdunit_name_valid(name) || *n >= MAX_COMPONENT_UNITS)
                return;
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], name))
                        return;
        *v = xrealloc(*v, (*n + 2) * sizeof(**v));
        (*v)[(*n)++] = xstrdup(name);
        (*v)[*n] = NULL;
}

static void add_list(char ***v, size_t *n, const char *list)
{
        _cleanup_free_ char *copy = xstrdup(list);
        char *save = NULL;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
                add_name(v, n, strstrip(w));
}

char **units_component_names(struct ctx *c, struct sdunit_bus *b)
{
        char **v = xcalloc(1, sizeof(*v));
        size_t n = 0;
        for (size_t i = 0; fixed_units[i]; i++)
                add_name(&v, &n, fixed_units[i]);
        add_name(&v, &n, conf_str(c, "mediator_unit"));
        add_list(&v, &n, conf_str(c, "extra_units"));
        /* The globs: lavinmq's template instances and the EVO units, as loaded now. */
        _cleanup_free_ char *globs = xstrdup(conf_str(c, "evo_glob"));
        const char *pat[17] = {"lavinmq@*.service"};
        size_t np = 1;
        char *save = NULL;
        for (char *w = strtok_r(globs, ",", &save); w && np < 16; w = strtok_r(NULL, ",", &save))
                if (*strstrip(w))
                        pat[np++] = strstrip(w);
        pat[np] = NULL;
        struct sdunit_brief *l = NULL;
        size_t nl = 0;
        bool cut;
        _cleanup_free_ char *why = NULL;
        if (sdunit_list(b, NULL, pat, &l, &nl, &cut, &why) == 0)
                for (size_t i = 0; i < nl; i++)
                        add_name(&v, &n, l[i].name);
        sdunit_list_free(l, nl);
        return v;
}

void units_names_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* ---- the checks ---- */

static bool any_trigger_active(struct sdunit_bus *b, const struct sdunit *u)
{
        for (size_t i = 0; i < u->ntriggered_by && i < 8; i++) {
                struct sdunit t;
                _cleanup_free_ char *why = NULL;
                if (sdunit_get(b, u->triggered_by[i], &t, &why) < 0)
                        continue;
                bool on = t.active_state && streq(t.active_state, "active");
                sdunit_free(&t);
                if (on)
                        return true;
        }
        return false;
}

/* SCHED_FIFO/RR by the unit's setting, or by what its main process runs. */
static bool unit_is_rt(const struct sdunit *u)
{
        if (u->sched_policy == 1 || u->sched_policy == 2)
                return true;
        if (!u->main_pid)
                return false;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%" PRIu32 "/stat", u->main_pid);
        _cleanup_free_ char *st = NULL;
        struct proc_stat ps;
        return rootfs_read(path, 4096, &st, NULL) >= 0 && proc_stat_parse(st, &ps) == 0 && sched_policy_is_rt(ps.policy);
}

#define TAIL_LINES 5
#define TAIL_LINE_MAX 300

/* The unit's last journal lines since its last start (else the last hour), what
 * `journalctl -u X -n 50` shows first: its own (_SYSTEMD_UNIT) and systemd's about it
 * (UNIT). lib/journal: the host's journal (under --root the root's), bounded by
 * entries, bytes and a second of the collector's time. NULL when there are none. */
static char *journal_tail(struct ctx *c, const struct sdunit *u)
{
        struct journal_opts jo = {0};
        struct journal *j = NULL;
        if (journal_open(&jo, &j) < 0)
                return NULL;
        _cleanup_journal_ struct journal *jj = j;
        if (!journal_usable(j) || journal_match(j, "_SYSTEMD_UNIT", u->id) < 0 || journal_or(j) < 0 ||
            journal_match(j, "UNIT", u->id) < 0)
                return NULL;
        uint64_t now = now_ms_realtime() * 1000, hour = 3600ull * 1000000;
        uint64_t start = u->exec_main_start_us > u->inactive_exit_us ? u->exec_main_start_us : u->inactive_exit_us;
        uint64_t since = start && start <= now && now - start < 24 * hour ? start - (start > 1000000 ? 1000000 : 0)
                                                                           : (now > hour ? now - hour : 0);
        uint64_t deadline = now_ms_monotonic() + 1000;
        if (c->deadline_ms && c->deadline_ms < deadline + 500)
                deadline = c->deadline_ms > now_ms_monotonic() + 500 ? c->deadline_ms - 500 : now_ms_monotonic();
        struct journal_window w = {.since_us = since, .max_entries = 20000, .max_bytes = 16u << 20, .deadline_ms = deadline};
        if (journal_seek(j, &w) < 0)
                return NULL;
        char ring[TAIL_LINES][TAIL_LINE_MAX];
        size_t n = 0;
        while (journal_next(j) > 0) {
                bool cut;
                if (journal_field(j, "MESSAGE", ring[n % TAIL_LINES], sizeof(ring[0]), &cut) >= 0)
                        n++;
        }
        if (!n)
                return NULL;
        struct strbuf b = {0};
        size_t first = n > TAIL_LINES ? n - TAIL_LINES : 0;
        for (size_t i = first; i < n; i++)
                sb_printf(&b, "%s\"%s\"", i > first ? "; " : "", ring[i % TAIL_LINES]);
        return sb_steal(&b);
}

static void check_state(struct ctx *c, struct sdunit_bus *b, struct findings *fs, const struct sdunit *u)
{
        const char *why;
        enum severity sev = units_state_verdict(u, false, &why);
        if (sev == SEV_CRIT && u->active_state && streq(u->active_state, "inactive") && any_trigger_active(b, u))
                sev = units_state_verdict(u, true, &why);
        if (sev == SEV_SKIPPED)
                return;
        struct finding *f;
        if (u->active_state && streq(u->active_state, "failed"))
                f = fnd_add(fs, sev, "units.state", "%s failed (result %s, main process code %" PRId32 " status %" PRId32 ")", u->id,
                            u->result ? u->result : "?", u->exec_main_code, u->exec_main_status);
        else
                f = fnd_add(fs, sev, "units.state", "%s: %s (%s/%s)", u->id, why, u->active_state ? u->active_state : "?",
                            u->sub_state ? u->sub_state : "?");
        fnd_subject(f, "%s", u->id);
        fnd_expected(f, "active (running)");
        _cleanup_free_ char *tail = sev >= SEV_WARN ? journal_tail(c, u) : NULL;
        fnd_actual(f, "ActiveState %s, SubState %s, Result %s, UnitFileState %s, MainPID %" PRIu32 "%s%s",
                   u->active_state ? u->active_state : "?", u->sub_state ? u->sub_state : "?", u->result ? u->result : "-",
                   u->unit_file_state && *u->unit_file_state ? u->unit_file_state : "?", u->main_pid,
                   tail ? "; last journal lines: " : "", tail ? tail : "");
        fnd_evidence(f, "systemd over D-Bus: properties of %s%s", u->id, tail ? "; the journal (_SYSTEMD_UNIT, UNIT)" : "");
        if (sev >= SEV_WARN)
                fnd_remedy(f, "systemctl status %s; journalctl -u %s -n 50 --no-pager; then, the cause fixed: systemctl restart %s",
                           u->id, u->id, u->id);
        else if (sev == SEV_INFO && u->unit_file_state && streq(u->unit_file_state, "disabled"))
                fnd_remedy(f, "only if this host should run it: systemctl enable --now %s", u->id);
}

static void check_restarts(struct ctx *c, struct findings *fs, const struct sdunit *u)
{
        if (!u->is_service || !u->have_nrestarts)
                return;
        uint64_t win_ms = 3600000;
        (void)parse_duration_ms(conf_str(c, "restart_window"), &win_ms);
        uint64_t now = now_ms_realtime() * 1000;
        enum severity sev = units_restart_verdict(u->nrestarts, u->exec_main_start_us, now, win_ms * 1000);
        char age[64];
        units_age_text(u->exec_main_start_us, now, age, sizeof(age));
        struct finding *f;
        if (sev == SEV_OK)
                f = fnd_add(fs, sev, "units.restarts", "%s: no automatic restarts since it was started", u->id);
        else
                f = fnd_add(fs, sev, "units.restarts", "%s restarted %" PRIu32 " time%s automatically, the last start %s%s", u->id,
                            u->nrestarts, u->nrestarts == 1 ? "" : "s", age,
                            sev == SEV_WARN ? ": it is flapping" : " (not within the restart window)");
        fnd_subject(f, "%s", u->id);
        fnd_expected(f, "NRestarts 0, or no restart within %s", conf_str(c, "restart_window"));
        fnd_actual(f, "NRestarts %" PRIu32 ", ExecMainStartTimestamp %s, Result %s", u->nrestarts, age, u->result ? u->result : "?");
        fnd_evidence(f, "systemd over D-Bus: NRestarts, ExecMainStartTimestamp of %s", u->id);
        if (sev != SEV_OK)
                fnd_remedy(f, "journalctl -u %s -n 200 --no-pager   # why its process exits; coredumpctl list %s", u->id, u->id);
}

/* One limit problem: its words for the summary, its [Service] line for the drop-in. */
static void add_fix(struct strbuf *what, struct strbuf *lines, struct strbuf *human, const char *line, const char *fmt, ...)
        PRINTF(5, 6);
static void add_fix(struct strbuf *what, struct strbuf *lines, struct strbuf *human, const char *line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *w = xvasprintf(fmt, ap);
        va_end(ap);
        sb_printf(what, "%s%s", what->len ? "; " : "", w);
        sb_printf(lines, "\\n%s", line);
        sb_printf(human, "%s%s", human->len ? " and " : "", line);
}

static void check_limits(struct ctx *c, struct findings *fs, const struct sdunit *u)
{
        if (!u->is_service || !u->have_limits)
                return;
        bool broker = startswith(u->id, "lavinmq.") || startswith(u->id, "lavinmq@");
        bool rt = unit_is_rt(u);
        uint64_t nofile_min = conf_uint(c, "nofile_min"), memlock_min = 1ull << 30;
        (void)parse_size(conf_str(c, "memlock_min"), &memlock_min);
        unsigned pr = units_limit_problems(u, broker, nofile_min, rt, memlock_min);
        char t1[32], t2[32], t3[32], t4[32];
        struct strbuf what = {0}, lines = {0}, human = {0};
        if (pr & UL_CORE0)
                add_fix(&what, &lines, &human, "LimitCORE=infinity", "LimitCORE=0: a crash leaves no core");
        if (pr & UL_NOFILE)
                add_fix(&what, &lines, &human, "LimitNOFILE=infinity", "LimitNOFILE=%s is below %" PRIu64,
                        sdunit_limit_text(u->limit_nofile, false, t1), nofile_min);
        if (pr & UL_MEMLOCK)
                add_fix(&what, &lines, &human, "LimitMEMLOCK=infinity", "LimitMEMLOCK=%s is too low for an RT unit run by %s",
                        sdunit_limit_text(u->limit_memlock, true, t2), u->user);
        if (pr & UL_RTPRIO)
                add_fix(&what, &lines, &human, "LimitRTPRIO=99", "LimitRTPRIO=%s is below its RT priority",
                        sdunit_limit_text(u->limit_rtprio, false, t3));
        struct finding *f;
        if (pr)
                f = fnd_add(fs, SEV_WARN, "units.limits", "%s: %s", u->id, what.s);
        else
                f = fnd_add(fs, SEV_OK, "units.limits", "%s: limits fit%s", u->id, rt ? " (an RT unit)" : "");
        fnd_subject(f, "%s", u->id);
        fnd_expected(f, "LimitCORE > 0%s%s", broker ? ", LimitNOFILE infinity or at least nofile_min" : "",
                     rt ? ", LimitMEMLOCK and LimitRTPRIO that let a non-root RT process lock memory and use its priority" : "");
        fnd_actual(f, "LimitNOFILE %s, LimitCORE %s, LimitMEMLOCK %s, LimitRTPRIO %s, User %s%s",
                   sdunit_limit_text(u->limit_nofile, false, t1), sdunit_limit_text(u->limit_core, true, t4),
                   sdunit_limit_text(u->limit_memlock, true, t2), sdunit_limit_text(u->limit_rtprio, false, t3),
                   u->user && *u->user ? u->user : "root", rt ? ", runs SCHED_FIFO/RR" : "");
        fnd_evidence(f, "systemd over D-Bus: Limit* of %s", u->id);
        if (pr)
                fnd_remedy(f, "systemctl edit %s   # add %s under [Service]; then: systemctl restart %s   (non-interactive: mkdir -p "
                              "/etc/systemd/system/%s.d && printf '[Service]%s\\n' > /etc/systemd/system/%s.d/evodiag-limits.conf "
                              "&& systemctl daemon-reload && systemctl restart %s)",
                           u->id, human.s, u->id, u->id, lines.s, u->id, u->id);
        sb_free(&what);
        sb_free(&human);
        sb_free(&lines);
}

static bool in_names(char **names, const char *s)
{
        for (size_t i = 0; names && names[i]; i++)
                if (streq(names[i], s))
                        return true;
        return false;
}

static void check_failed(struct ctx *c, struct sdunit_bus *b, struct findings *fs, char **names)
{
        static const char *const failed[] = {"failed", NULL};
        struct sdunit_brief *l = NULL;
        size_t n = 0, shown = 0, other = 0, max = (size_t)conf_uint(c, "max_failed");
        bool cut;
        _cleanup_free_ char *why = NULL;
        int r = sdunit_list(b, failed, NULL, &l, &n, &cut, &why);
        struct finding *f;
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "units.failed", "cannot list the failed units: %s", why);
                fnd_evidence(f, "systemd over D-Bus: ListUnitsFiltered");
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (in_names(names, l[i].name))
                        continue; /* units.state says it */
                other++;
                if (shown >= max)
                        continue;
                shown++;
                f = fnd_add(fs, SEV_WARN, "units.failed", "%s failed (%s)", l[i].name, l[i].sub_state);
                fnd_subject(f, "%s", l[i].name);
                fnd_actual(f, "%s: LoadState %s, ActiveState %s, SubState %s", l[i].description, l[i].load_state, l[i].active_state,
                           l[i].sub_state);
                fnd_expected(f, "no failed units");
                fnd_evidence(f, "systemd over D-Bus: ListUnitsFiltered([failed])");
                fnd_remedy(f, "systemctl status %s; journalctl -u %s -n 50 --no-pager; systemctl reset-failed %s once understood",
                           l[i].name, l[i].name, l[i].name);
        }
        if (other > shown || cut) {
                f = fnd_add(fs, SEV_WARN, "units.failed", "%zu more failed units%s (not listed)", other - shown, cut ? " and more" : "");
                fnd_subject(f, "more");
                fnd_remedy(f, "systemctl --failed");
        }
        if (!other) {
                f = fnd_add(fs, SEV_OK, "units.failed", "no other failed units");
                fnd_evidence(f, "systemd over D-Bus: ListUnitsFiltered([failed])");
        }
        sdunit_list_free(l, n);
}

/* The bus, or the one line that says why there is none. false: nothing else to say. */
static bool open_or_say(struct ctx *c, struct findings *fs, struct sdunit_bus *b, char **version)
{
        const char *addr = conf_str(c, "bus_address");
        struct finding *f;
        *version = NULL;
        if (!*addr && !rootfs_is_live()) {
                f = fnd_add(fs, SEV_INFO, "units.systemd", "no systemd here (--root): unit state unknown");
                fnd_actual(f, "unit state comes from the live host's systemd over D-Bus; [units] bus_address is not set");
                return false;
        }
        _cleanup_free_ char *why = NULL;
        int r = units_open(c, b, 0, &why);
        if (r >= 0)
                r = sdunit_version(b, version, &why);
        if (r >= 0)
                return true;
        if (b->bus)
                sdunit_close(b);
        if (r == -ETIMEDOUT) {
                f = fnd_add(fs, SEV_UNKNOWN, "units.systemd", "systemd did not answer over D-Bus within %s: unit state unknown",
                            conf_str(c, "dbus_timeout"));
                fnd_remedy(f, "systemctl status dbus; journalctl -u dbus -n 50 --no-pager");
        } else if (r == -ENOMEDIUM || r == -ENOENT || r == -ECONNREFUSED) {
                f = fnd_add(fs, SEV_INFO, "units.systemd", "no systemd: unit state unknown");
        } else { /* a bus that refuses us, or a systemd that answers with an error */
                f = fnd_add(fs, SEV_UNKNOWN, "units.systemd", "systemd could not be asked over D-Bus: unit state unknown");
                fnd_remedy(f, "systemctl status dbus; busctl status org.freedesktop.systemd1");
        }
        fnd_actual(f, "%s", why);
        fnd_evidence(f, "%s", *addr ? addr : "the system bus (/run/dbus/system_bus_socket), /run/systemd/system");
        return false;
}

static void units_check(struct ctx *c, struct findings *fs)
{
        struct sdunit_bus b;
        _cleanup_free_ char *version = NULL;
        if (!open_or_say(c, fs, &b, &version))
                return;
        char **names = units_component_names(c, &b);
        size_t installed = 0, total = 0;
        struct findings tmp = {0};
        for (size_t i = 0; names[i]; i++) {
                total++;
                struct sdunit u;
                _cleanup_free_ char *why = NULL;
                int r = sdunit_get(&b, names[i], &u, &why);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        struct finding *f = fnd_add(&tmp, SEV_UNKNOWN, "units.state", "%s: %s", names[i], why);
                        fnd_subject(f, "%s", names[i]);
                        continue;
                }
                if (!u.load_state || !streq(u.load_state, "not-found")) {
                        installed++;
                        check_state(c, &b, &tmp, &u);
                        check_restarts(c, &tmp, &u);
                        check_limits(c, &tmp, &u);
                }
                sdunit_free(&u);
        }
        struct finding *f = fnd_add(fs, SEV_OK, "units.systemd", "systemd %s answers at %s: %zu of %zu component units installed",
                                    version, *b.address ? b.address : "the system bus", installed, total);
        fnd_evidence(f, "%s", *b.address ? b.address : "the system bus");
        findings_move(fs, &tmp);
        findings_free(&tmp);
        check_failed(c, &b, fs, names);
        units_names_free(names);
        sdunit_close(&b);
}

/* ---- the bundle ---- */

/* A path systemd gave for a unit file (unit: its name ends like it) or a drop-in
 * (".conf"): absolute, no "..", nothing else; the bus is root's, this is a seat belt. */
static bool unit_file_path(const char *p, const char *unit)
{
        if (!p || p[0] != '/' || strstr(p, "/../") || strlen(p) >= 4096)
                return false;
        const char *want = unit ? strrchr(unit, '.') : ".conf";
        size_t n = strlen(p), w = want ? strlen(want) : 0;
        return want && n > w && streq(p + n - w, want);
}

static void units_collect(struct ctx *c, struct bundle_sink *s)
{
        struct sdunit_bus b;
        _cleanup_free_ char *why = NULL;
        if (!*conf_str(c, "bus_address") && !rootfs_is_live()) {
                sink_missing(s, "units.txt", "derived", "systemd over D-Bus", "skipped", "--root: no systemd to ask");
                return;
        }
        if (units_open(c, &b, 0, &why) < 0) {
                sink_missing(s, "units.txt", "derived", "systemd over D-Bus", "error", why);
                return;
        }
        char **names = units_component_names(c, &b);
        struct strbuf all = {0};
        uint64_t now = now_ms_realtime() * 1000;
        for (size_t i = 0; names[i]; i++) {
                struct sdunit u;
                _cleanup_free_ char *uwhy = NULL;
                if (sdunit_get(&b, names[i], &u, &uwhy) < 0 || (u.load_state && streq(u.load_state, "not-found"))) {
                        sdunit_free(&u); /* safe after a failed get too */
                        continue;
                }
                _cleanup_free_ char *txt = units_status_text(&u, now);
                sb_printf(&all, "%s\n", txt);
                /* The unit file and its drop-ins, as systemd names them (redacted by the sink). */
                if (unit_file_path(u.fragment_path, u.id))
                        sink_file(s, u.fragment_path);
                for (size_t k = 0; k < u.ndrop_ins && k < 32; k++)
                        if (unit_file_path(u.drop_ins[k], NULL))
                                sink_file(s, u.drop_ins[k]);
                sdunit_free(&u);
        }
        static const char *const failed[] = {"failed", NULL};
        struct sdunit_brief *l = NULL;
        size_t n = 0;
        bool cut;
        _cleanup_free_ char *lwhy = NULL;
        if (sdunit_list(&b, failed, NULL, &l, &n, &cut, &lwhy) == 0) {
                sb_printf(&all, "Failed units (%zu%s):\n", n, cut ? "+" : "");
                for (size_t i = 0; i < n; i++)
                        sb_printf(&all, "  %s  %s %s %s  %s\n", l[i].name, l[i].load_state, l[i].active_state, l[i].sub_state,
                                  l[i].description);
        } else {
                sb_printf(&all, "Failed units: unknown (%s)\n", lwhy);
        }
        sdunit_list_free(l, n);
        sink_text(s, "units.txt", "derived", "systemd over D-Bus (systemctl status)", all.s ? all.s : "", all.len);
        sb_free(&all);
        units_names_free(names);
        sdunit_close(&b);
}

const struct collector units_collector = {
        .name = "units",
        .summary = "systemd units of the components over D-Bus: state, restarts, limits; failed units",
        .checks = checks,
        .config = config,
        .check = units_check,
        .collect = units_collect,
        .sample = units_sample,
        .sampled = (const char *const[]){"units.systemd", "units.state", "units.restarts", NULL},
        .free_state = units_free_state,
};
