/* evodiag watch: the live view during an incident and the flight recorder that
 * explains it afterwards. Every collector with a sample() runs in a long-lived
 * sampler child (collectors/sampler.c); each interval the parent asks them all,
 * merges the answers, turns severity changes into events and hands the round to
 * the outputs: a screen (ncurses, on a TTY), event lines, JSON lines, a
 * Prometheus textfile, the recording, and background bundles on crit/warn. */
#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "collectors/sampler.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "report/bundle.h"
#include "report/bundle_output.h"
#include "report/prometheus.h"
#include "report/recorder.h"
#include "report/report.h"
#include "report/watchview.h"
#include "cmd/watch_private.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define BUNDLE_COOLDOWN_MS (10ull * 60 * 1000)

enum { O_INTERVAL = OPTS_OWN, O_DURATION, O_JSON, O_RECORD, O_RECMAX, O_TEXTFILE, O_BUNDLE_ON, O_BUNDLE_DIR, O_COOLDOWN,
       O_RESCAN, O_REPLAY, O_SAMPLES, O_SINCE, O_UNTIL, O_ID, O_CHECK_EVERY };

static const struct opt watch_options[] = {
        {"interval", O_INTERVAL, "DUR", "time between samples (default 1s; 50ms to 1h)"},
        {"duration", O_DURATION, "DUR", "stop after this long (default: until q, Ctrl-C or SIGTERM)"},
        {"json", O_JSON, NULL, "JSON lines instead of the screen or event lines"},
        {"record", O_RECORD, "FILE|DIR/", "keep a crash-safe recording: FILE and FILE.1, together at most\n"
                                          "--record-max; the oldest half is dropped when full. A directory\n"
                                          "(existing, or ending in /) gets DIR/watch.rec; 'evodiag bundle'\n"
                                          "includes the last 15 minutes of the newest *.rec in\n"
                                          "/var/lib/evodiag/watch ([watch] record_dir), so record there."},
        {"record-max", O_RECMAX, "SIZE", "bound of the recording (default 64M, at least 16K)"},
        {"textfile", O_TEXTFILE, "DIR", "write DIR/evodiag_watch.prom each interval, atomically (temp +\n"
                                        "rename), for node_exporter's textfile collector"},
        {"bundle-on", O_BUNDLE_ON, "warn|crit", "on an event of that severity or worse, make a bundle in the\n"
                                                "background (sampling goes on), as 'evodiag bundle' would (all\n"
                                                "collectors but --skip ones, with the recording so far); one at a\n"
                                                "time and at most one per cooldown for the whole watch; its ISSUE.md\n"
                                                "lists the events that triggered it; its path is printed and recorded"},
        {"bundle-dir", O_BUNDLE_DIR, "DIR", "where those bundles go (default: the current directory)"},
        {"bundle-cooldown", O_COOLDOWN, "DUR", "at most one bundle in this time (default 10m)"},
        {"check-every", O_CHECK_EVERY, "DUR", "re-run the checks watch does not sample (see 'evodiag list') by a\n"
                                              "full check in the background this often (default 5m; 'off': never);\n"
                                              "their findings are statuses and events like the samplers'"},
        {"rescan", O_RESCAN, "DUR", "how often samplers redo the scans that grow with the host, such\n"
                                    "as the process table for the top fd consumers (default 2m)"},
        {"replay", O_REPLAY, "FILE", "print the timeline of a recording, one line per event, note\n"
                                     "(bundles, stops) and session; torn or damaged records are\n"
                                     "skipped and reported. With --json: every record as JSON lines"},
        {"samples", O_SAMPLES, NULL, "--replay: the full samples (every value) and status keyframes too"},
        {"since", O_SINCE, "TIME", "--replay: from TIME on: 2026-11-21T23:00:00Z (UTC; seconds and Z\n"
                                   "optional) or a duration before now (10m)"},
        {"until", O_UNTIL, "TIME", "--replay: up to TIME (as --since)"},
        {"id", O_ID, "ID,...", "--replay: only the events of these check IDs or collectors"},
        {0},
};

const struct verb_spec watch_verb = {
        .name = "watch",
        .synopsis = "[OPTIONS]\n--replay FILE [--json] [--samples] [--since TIME] [--until TIME] [--id ID,...]",
        .about = "One screen for an incident instead of `watch free`, `watch ipcs`, `top -p` and\n"
                 "`journalctl -f` in four terminals, and a flight recorder that explains it later.\n"
                 "Every collector that can sample (see 'evodiag list') reports cheap values and\n"
                 "verdicts each interval from its own long-lived child; a child that does not answer\n"
                 "in time is killed and restarted later and shows as '<collector>.timeout' meanwhile,\n"
                 "so the loop never stops. Any change of a verdict's severity is an EVENT with a\n"
                 "timestamp; the first sample reports what is already wrong. watch runs at low\n"
                 "priority on the housekeeping CPUs and never signals or locks a component.\n"
                 "\n"
                 "Output: on a terminal, a screen redrawn in place (worst first, recent events at the\n"
                 "bottom; q or Ctrl-C quits). Otherwise one line per event:\n"
                 "  2026-11-21T23:00:00Z CRIT    fds.system: 2400000 of 2466193 file handles in use on the host (97.3%) (was ok)\n"
                 "With --json, JSON lines: {\"type\":\"sample\",...} per round, {\"type\":\"event\",...}\n"
                 "per event, {\"type\":\"bundle\",...} when a bundle is made.\n"
                 "-v says which collectors sample and where watch runs; --color is the screen's.\n",
        .opts = watch_options,
        .common = COMMON_ONLY_SKIP | COMMON_ROOT | COMMON_CONFIG | COMMON_COLLECTOR_TIMEOUT | COMMON_ALLOW_INTRUSIVE |
                  COMMON_COLOR | COMMON_VERBOSE | COMMON_PID | COMMON_JOURNAL,
        .epilogue = "The recording survives kill -9: every record is length-prefixed and checksummed,\n"
                    "a torn last record is skipped on reading and cut off when recording resumes.\n"
                    "Records are written as they happen; fdatasync follows every event and bundle note\n"
                    "and runs at least every 10 s otherwise, at rotation and at exit.\n"
                    "\n"
                    "Exit status: 0 stopped normally (duration, q, SIGINT, SIGTERM); 3 usage error or\n"
                    "the recording cannot be opened. --replay: 0 replayed (a torn last record, normal\n"
                    "after a crash, is reported on stderr), 1 damaged records were skipped, 3 unreadable.\n"
                    "\n"
                    "Examples:\n"
                    "  evodiag watch                                  # the screen\n"
                    "  evodiag watch --record /var/lib/evodiag/watch/ --bundle-on crit\n"
                    "  evodiag watch --json --interval 200ms --duration 1m > incident.jsonl\n"
                    "  evodiag watch --replay /var/lib/evodiag/watch/watch.rec | less\n",
};

/* ---- signals ---- */

static volatile sig_atomic_t stop_sig;
static int wake[2] = {-1, -1};

static void on_stop(int sig)
{
        int e = errno;
        stop_sig = sig;
        if (wake[1] >= 0)
                (void)!write(wake[1], "x", 1);
        errno = e;
}

static void remember_line(struct run *r, char *text, enum severity sev)
{
        if (r->nev == EVENTS_KEPT) {
                free(r->evline[0]);
                memmove(r->evline, r->evline + 1, (EVENTS_KEPT - 1) * sizeof(char *));
                memmove(r->evsev, r->evsev + 1, (EVENTS_KEPT - 1) * sizeof(enum severity));
                r->nev--;
        }
        r->evline[r->nev] = text;
        r->evsev[r->nev++] = sev;
}

static void print_json(json_object *o)
{
        _cleanup_free_ char *t = json_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        fputs(t, stdout);
        fputc('\n', stdout);
}

/* A line for everyone who reads: the screen's event list, stdout, or JSON. */
void emit_item(struct run *r, json_object *item, enum severity sev)
{
        if (r->json) {
                print_json(item);
                return;
        }
        char *text = recorder_item_text(item);
        if (r->view) {
                remember_line(r, text, sev);
                return;
        }
        printf("%s\n", text);
        free(text);
}

void problem(struct run *r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        if (r->problems && streq(r->problems, msg)) {
                free(msg);
                return;
        }
        free(r->problems);
        r->problems = msg;
        if (!r->view)
                err("%s", msg);
}

/* ---- notes: bundles, stops ---- */

void note(struct run *r, uint64_t t, const char *kind, json_object *extra, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *text = xvasprintf(fmt, ap);
        va_end(ap);
        char ts[40];
        watch_time(t, true, ts);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string(r->json && streq(kind, "bundle") ? "bundle" : "note"));
        json_object_object_add(o, "time", json_object_new_string(ts));
        json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)t));
        json_object_object_add(o, "kind", json_object_new_string(kind));
        json_object_object_add(o, "text", json_object_new_string(text));
        if (extra) {
                json_object_object_foreach(extra, k, v)
                        json_object_object_add(o, k, json_object_get(v));
        }
        if (r->rec && recorder_note(r->rec, t, kind, text) < 0)
                problem(r, "--record %s: cannot write", recorder_path(r->rec));
        emit_item(r, o, SEV_INFO);
        json_object_put(o);
}

/* ---- one round ---- */

static void draw(struct run *r, uint64_t t)
{
        char ts[40];
        watch_time(t, false, ts);
        struct strbuf title = {0};
        sb_printf(&title, "evodiag watch  %s  every %llu ms  sample %llu  %s", r->host, (unsigned long long)r->w.interval_ms,
                  (unsigned long long)r->w.round, ts);
        if (r->rec) {
                char sz[32];
                sb_printf(&title, "  rec %s (%s)", recorder_path(r->rec), fmt_bytes(recorder_size(r->rec), sz));
        }
        if (r->njobs)
                sb_printf(&title, "  %zu bundle%s running", r->njobs, r->njobs == 1 ? "" : "s");
        if (r->problems)
                sb_printf(&title, "  !! %s", r->problems);
        json_object *sts = watch_statuses_json(&r->w), *vals = watch_values_json(&r->w);
        wv_draw(r->view, title.s, sts, vals, r->evline, r->evsev, r->nev);
        json_object_put(sts);
        json_object_put(vals);
        sb_free(&title);
}

static void finish_round(struct run *r, uint64_t t)
{
        size_t nev, nfresh;
        struct svalue *fresh;
        struct watch_event *ev = watch_round(&r->w, t, &nev, &fresh, &nfresh);
        r->events_total += nev;
        if (r->rec) {
                int e = recorder_sample_values(r->rec, t, r->w.round, fresh, nfresh);
                for (size_t i = 0; i < nev && e >= 0; i++) {
                        json_object *o = watch_event_json(&ev[i]);
                        e = recorder_event(r->rec, o);
                        json_object_put(o);
                }
                if (e >= 0 && (r->w.round % REC_KEYFRAME_ROUNDS == 1)) {
                        json_object *sts = watch_statuses_json(&r->w);
                        e = recorder_statuses(r->rec, t, sts);
                        json_object_put(sts);
                }
                if (e < 0 && e != -E2BIG)
                        problem(r, "--record %s: %s", recorder_path(r->rec), strerror(-e));
                (void)recorder_sync(r->rec, false);
        }
        if (r->json) {
                char ts[40];
                watch_time(t, true, ts);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "type", json_object_new_string("sample"));
                json_object_object_add(o, "time", json_object_new_string(ts));
                json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)t));
                json_object_object_add(o, "round", json_object_new_int64((int64_t)r->w.round));
                json_object *vals = json_object_new_array_ext((int)nfresh);
                for (size_t i = 0; i < nfresh; i++)
                        json_object_array_add(vals, svalue_to_json(&fresh[i]));
                json_object_object_add(o, "values", vals);
                json_object_object_add(o, "statuses", watch_statuses_json(&r->w));
                json_object *late = json_object_new_array();
                for (size_t i = 0; i < r->w.n; i++)
                        if (r->w.s[i].state == SP_BUSY || r->w.s[i].problem)
                                json_object_array_add(late, json_object_new_string(r->w.s[i].c->name));
                json_object_object_add(o, "missing", late);
                print_json(o);
                json_object_put(o);
        }
        for (size_t i = 0; i < nev; i++) {
                json_object *o = watch_event_json(&ev[i]);
                emit_item(r, o, ev[i].sev == SEV_OK && ev[i].gone ? SEV_OK : ev[i].sev);
                json_object_put(o);
        }
        maybe_bundle(r, ev, nev);
        if (r->w.chk.problem)
                problem(r, "%s", r->w.chk.problem);
        _cleanup_free_ char *why = NULL;
        if (r->textfile && prom_textfile_write(&r->tf, &r->w, r->events_total, t, &why) < 0)
                problem(r, "%s", why);
        if (r->view)
                draw(r, t);
        /* A reader that went away (| head) ends the run like SIGINT would. */
        if (fflush(stdout) != 0 || ferror(stdout))
                stop_sig = SIGPIPE;
        watch_events_free(ev, nev);
        free(fresh);
}

/* ---- the loop ---- */

static int loop(struct run *r, uint64_t duration_ms)
{
        uint64_t start = now_ms_monotonic(), next_tick = start, end = duration_ms ? start + duration_ms : 0;
        uint64_t round_t = 0;
        bool open_round = false;
        size_t maxfds = r->w.n + 3; /* samplers, the background check, wake, stdin */
        struct pollfd *pfd = xcalloc(maxfds, sizeof(*pfd));
        size_t *which = xcalloc(maxfds, sizeof(*which));
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (stop_sig)
                        break;
                if (open_round && (watch_settled(&r->w) || now >= next_tick)) {
                        finish_round(r, round_t);
                        open_round = false;
                }
                if (end && now >= end && !open_round)
                        break;
                if (!open_round && now >= next_tick && !(end && now >= end)) {
                        round_t = now_ms_realtime();
                        watch_request(&r->w, now);
                        open_round = true;
                        next_tick += r->w.interval_ms;
                        if (next_tick <= now) /* we fell behind (suspended?): no burst of rounds */
                                next_tick = now + r->w.interval_ms;
                        continue;
                }
                reap_bundles(r, false);
                uint64_t dl;
                size_t np = watch_pollfds(&r->w, pfd, which, &dl);
                size_t nw = np;
                pfd[np++] = (struct pollfd){.fd = wake[0], .events = POLLIN};
                if (r->view)
                        pfd[np++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
                uint64_t until = next_tick;
                if (dl < until)
                        until = dl;
                if (end && end < until)
                        until = end;
                if (r->njobs && now + 200 < until)
                        until = now + 200; /* notice finished bundles soon */
                int timeout = until > now ? (int)(until - now) : 0;
                int pr = poll(pfd, np, timeout);
                if (pr < 0 && errno != EINTR)
                        break;
                now = now_ms_monotonic();
                if (pr < 0) {
                        for (size_t i = 0; i < np; i++)
                                pfd[i].revents = 0;
                }
                watch_service(&r->w, pfd, which, nw, now);
                if (pfd[nw].revents) {
                        char buf[64];
                        (void)!read(wake[0], buf, sizeof(buf));
                }
                if (r->view) {
                        int k = wv_input(r->view);
                        if (k == 'q')
                                break;
                        if (k == 'r')
                                draw(r, round_t ? round_t : now_ms_realtime());
                }
        }
        free(pfd);
        free(which);
        return 0;
}

/* ---- the command ---- */

static char *record_path(const char *arg, char **err)
{
        struct stat st;
        size_t n = strlen(arg);
        if (n && arg[n - 1] == '/') {
                /* mkdir -p for the recording's directory: it is ours. */
                _cleanup_free_ char *d = xstrdup(arg);
                for (char *p = d + 1; *p; p++)
                        if (*p == '/') {
                                *p = 0;
                                (void)mkdir(d, 0750);
                                *p = '/';
                        }
                if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        *err = xasprintf("--record %s: %s", arg, strerror(errno ? errno : ENOTDIR));
                        return NULL;
                }
                return xasprintf("%swatch.rec", arg);
        }
        if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
                return xasprintf("%s/watch.rec", arg);
        return xstrdup(arg);
}

int cmd_watch(int argc, char **argv)
{
        struct common c = {0};
        struct run r = {.c = &c, .bundle_on = SEV_SKIPPED, .bundle_dir = ".", .cooldown_ms = 0, .argc = argc, .argv = argv};
        uint64_t interval = 0, duration = 0, rec_max = 0, rescan = 0, check_every = 300000;
        const char *record = NULL, *replay_path = NULL;
        _cleanup_free_ char *host = NULL, *recfile = NULL; /* before any goto out */
        bool cooldown_given = false;
        struct replay_filter rf = {0};
        char **rf_ids = NULL;
        bool replay_opt = false;
        int o, ret = 0;
        struct opts p;
        opts_init(&p, &watch_verb, &c, argc, argv);
        while ((o = opts_next(&p)) > 0) {
                uint64_t v;
                switch (o) {
                case O_INTERVAL:
                case O_DURATION:
                case O_COOLDOWN:
                case O_RESCAN:
                        if (parse_duration_ms(p.arg, &v) < 0 || v == 0) {
                                ret = usage_error("watch", "--%s: '%s' is not a duration (e.g. 200ms, 1s, 5m)",
                                                  o == O_INTERVAL ? "interval" : o == O_DURATION ? "duration"
                                                  : o == O_COOLDOWN ? "bundle-cooldown" : "rescan", p.arg);
                                goto out;
                        }
                        if (o == O_INTERVAL && (v < 50 || v > 3600000)) {
                                ret = usage_error("watch", "--interval: %s is outside 50ms..1h", p.arg);
                                goto out;
                        }
                        if (o == O_INTERVAL) interval = v;
                        else if (o == O_DURATION) duration = v;
                        else if (o == O_COOLDOWN) r.cooldown_ms = v, cooldown_given = true;
                        else rescan = v;
                        break;
                case O_CHECK_EVERY:
                        if (streq(p.arg, "off")) {
                                check_every = 0;
                        } else if (parse_duration_ms(p.arg, &check_every) < 0 || check_every < 1000) {
                                ret = usage_error("watch", "--check-every: '%s' is not a duration of at least 1s, or off", p.arg);
                                goto out;
                        }
                        break;
                case O_JSON: r.json = true; break;
                case O_RECORD: record = p.arg; break;
                case O_RECMAX:
                        if (parse_size(p.arg, &rec_max) < 0 || rec_max < REC_MIN_MAX) {
                                ret = usage_error("watch", "--record-max: '%s' is not a size of at least 16K (e.g. 64M)", p.arg);
                                goto out;
                        }
                        break;
                case O_TEXTFILE: r.textfile = p.arg; break;
                case O_BUNDLE_ON:
                        if (streq(p.arg, "crit"))
                                r.bundle_on = SEV_CRIT;
                        else if (streq(p.arg, "warn"))
                                r.bundle_on = SEV_WARN;
                        else {
                                ret = usage_error("watch", "--bundle-on: '%s' is not warn or crit", p.arg);
                                goto out;
                        }
                        break;
                case O_BUNDLE_DIR: r.bundle_dir = p.arg; break;
                case O_REPLAY: replay_path = p.arg; break;
                case O_SAMPLES: rf.samples = replay_opt = true; break;
                case O_SINCE:
                case O_UNTIL:
                        if (watch_parse_when(p.arg, o == O_SINCE ? &rf.since_ms : &rf.until_ms) < 0) {
                                ret = usage_error("watch", "--%s: '%s' is no time (2026-11-21T23:00:00Z) or duration (10m)",
                                                  o == O_SINCE ? "since" : "until", p.arg);
                                goto out;
                        }
                        replay_opt = true;
                        break;
                case O_ID:
                        strv_free(rf_ids);
                        rf_ids = NULL;
                        if ((ret = watch_parse_ids(p.arg, &rf_ids)))
                                goto out;
                        replay_opt = true;
                        break;
                }
        }
        if (o < 0) {
                ret = p.rc;
                goto out;
        }
        if (replay_path) {
                if (record || r.textfile || r.bundle_on != SEV_SKIPPED || duration || interval) {
                        ret = usage_error("watch", "--replay only reads a recording: it takes no sampling options (only --json)");
                        goto out;
                }
                rf.ids = (const char *const *)rf_ids;
                ret = watch_replay(replay_path, r.json, &rf);
                goto out;
        }
        if (replay_opt) {
                ret = usage_error("watch", "--samples, --since, --until and --id are --replay's");
                goto out;
        }
        if (rec_max && !record) {
                ret = usage_error("watch", "--record-max needs --record");
                goto out;
        }
        struct stat sb;
        if (r.textfile && (stat(r.textfile, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
                ret = usage_error("watch", "--textfile %s: not a directory", r.textfile);
                goto out;
        }
        if (r.bundle_on != SEV_SKIPPED && (stat(r.bundle_dir, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
                ret = usage_error("watch", "--bundle-dir %s: not a directory", r.bundle_dir);
                goto out;
        }
        if ((ret = common_setup(&c)))
                goto out;
        {
                /* [watch] settings, where the config has them; the command line wins. */
                const struct config_entry *e;
                if (!cooldown_given && (e = config_get(&c.cfg, "watch", "bundle_cooldown")))
                        (void)parse_duration_ms(e->value, &r.cooldown_ms);
                if (!interval && (e = config_get(&c.cfg, "watch", "interval")))
                        (void)parse_duration_ms(e->value, &interval);
                if (!rec_max && (e = config_get(&c.cfg, "watch", "record_max")) && parse_size(e->value, &rec_max) == 0 &&
                    rec_max < REC_MIN_MAX)
                        rec_max = REC_MIN_MAX;
        }
        if (!interval || interval < 50)
                interval = 1000;
        if (!r.cooldown_ms)
                r.cooldown_ms = BUNDLE_COOLDOWN_MS;
        if (rescan)
                sampler_rescan_ms = rescan;
        host = inspected_hostname(&c);
        r.host = host;

        watch_init(&r.w, &c.ctx, interval, (const char *const *)c.only, (const char *const *)c.skip,
                   c.collector_timeout_ms ? c.collector_timeout_ms : 5000);
        if (check_every) {
                uint64_t ct = check_every * 3 / 4;
                watch_check_every(&r.w, check_every, ct < 10000 ? 10000 : ct > 300000 ? 300000 : ct, (const char *const *)c.only,
                                  (const char *const *)c.skip);
        }
        if (!r.w.n) {
                struct strbuf b = {0};
                for (size_t i = 0; collectors[i]; i++)
                        if (collectors[i]->sample)
                                sb_printf(&b, "%s%s", b.len ? ", " : "", collectors[i]->name);
                ret = usage_error("watch", "none of the selected collectors samples (those that do: %s)", b.s ? b.s : "none");
                sb_free(&b);
                watch_free(&r.w);
                goto out;
        }
        if (c.verbose) {
                struct strbuf b = {0};
                for (size_t i = 0; i < r.w.n; i++)
                        sb_printf(&b, "%s%s", i ? ", " : "", r.w.s[i].c->name);
                fprintf(stderr, "evodiag: watching %s every %llu ms\n", b.s, (unsigned long long)interval);
                sb_free(&b);
        }
        if (record) {
                char *e = NULL;
                recfile = record_path(record, &e);
                if (recfile)
                        r.rec = recorder_open(recfile, rec_max ? rec_max : REC_DEFAULT_MAX, host, interval, &e);
                if (!r.rec) {
                        err("%s", e);
                        free(e);
                        watch_free(&r.w);
                        ret = EXIT_USAGE;
                        goto out;
                }
                recorder_set_current(recfile);
        }
        r.tf.dir = r.textfile;
        r.tf.host = host;
        r.tty = !r.json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && getenv("TERM") && !streq(getenv("TERM"), "dumb");

        if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
                err("pipe: %s", strerror(errno));
                ret = EXIT_USAGE;
                goto done;
        }
        struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        if (r.tty) {
                char *e = NULL;
                bool col = color_wanted(c.color, STDOUT_FILENO);
                r.view = wv_open(col, &e);
                if (!r.view) {
                        err("%s; printing event lines instead", e);
                        free(e);
                }
        }
        loop(&r, duration);
        int sig = stop_sig;
        uint64_t t = now_ms_realtime();
        if (r.view) {
                wv_close(r.view);
                r.view = NULL;
        }
        watch_stop(&r.w);
        if (r.textfile)
                prom_textfile_done(&r.tf);
        if (r.njobs) {
                fprintf(stderr, "evodiag: waiting for %zu bundle%s to finish (Ctrl-C again leaves %s running)\n", r.njobs,
                        r.njobs == 1 ? "" : "s", r.njobs == 1 ? "it" : "them");
                stop_sig = 0;
                while (r.njobs && !stop_sig) {
                        reap_bundles(&r, false);
                        if (r.njobs)
                                usleep(50000);
                }
        }
        if (r.rec) {
                note(&r, t, "stop", NULL, "stopped (%s) after %llu samples",
                     sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGPIPE ? "output closed" : duration ? "--duration" : "q",
                     (unsigned long long)r.w.round);
                char sz[32];
                (void)recorder_sync(r.rec, true);
                fprintf(stderr, "evodiag: recording %s: %s%s\n", recorder_path(r.rec), fmt_bytes(recorder_size(r.rec), sz),
                        recorder_dropped(r.rec) ? " (some records could not be written)" : "");
        }
        fflush(stdout);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
done:
        recorder_close(r.rec);
        recorder_set_current(NULL);
        watch_free(&r.w);
        for (size_t i = 0; i < r.nev; i++)
                free(r.evline[i]);
        for (size_t i = 0; i < r.njobs; i++) {
                free(r.jobs[i].id);
                free(r.jobs[i].path);
                if (r.jobs[i].why_fd >= 0)
                        close(r.jobs[i].why_fd);
        }
        free(r.jobs);
        free(r.problems);
        if (wake[0] >= 0) {
                close(wake[0]);
                close(wake[1]);
                wake[0] = wake[1] = -1;
        }
out:
        strv_free(rf_ids);
        common_free(&c);
        return ret;
}
