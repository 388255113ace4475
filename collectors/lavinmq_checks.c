/* lavinmq: the findings of the checks, from what lmq_gather() and lmq_gather_api()
 * found. The verdicts themselves are lavinmq_verdict.c's, shared with watch. */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>

static const char *pidstr(const struct lmq *m, char buf[static 96])
{
        if (m->bp)
                snprintf(buf, 96, "pid %d %s", m->bp->pid, m->bp->comm);
        else
                snprintf(buf, 96, "lavinmq");
        return buf;
}

static void check_process(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char rss[32], who[96];
        if (m->pt_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.process", "cannot list processes: %s", strerror(-m->pt_err));
                fnd_evidence(f, "/proc");
                return;
        }
        struct strbuf lock = {0};
        if (!m->lock_err && !m->lock_bad)
                sb_printf(&lock, "%s/.lock: PID %d @ %s", m->data_dir, m->lock_pid, m->lock_host);
        bool conf = m->conf_err == 0;
        enum severity sev = lavinmq_process_verdict(m->bp, lmq_installed(m), m->lock_err == -ENOENT, m->nimp);
        if (m->bp) {
                const struct proc *p = m->bp;
                f = fnd_add(fs, sev, "lavinmq.process", "lavinmq runs: pid %d, RSS %s%s%s", p->pid, fmt_bytes(p->rss, rss),
                            m->unit ? ", unit " : "", m->unit ? m->unit : "");
                fnd_subject(f, "%s", pidstr(m, who));
                fnd_expected(f, "a running lavinmq");
                fnd_actual(f, "pid %d (%s), vouched for by %s%s%s%s%s", p->pid, p->cmdline && *p->cmdline ? p->cmdline : p->comm,
                           trust_by_name(m->bp_by), m->nbroker > 1 ? "; " : "",
                           m->nbroker > 1 ? "more lavinmq processes run, this one is checked" : "", lock.len ? "; " : "",
                           lock.len ? lock.s : "");
                fnd_evidence(f, "/proc/%d/stat, /proc/%d/cmdline, /proc/%d/cgroup", p->pid, p->pid, p->pid);
                sb_free(&lock);
                return;
        }
        struct strbuf why = {0};
        if (m->unit_file)
                sb_printf(&why, "%s", m->unit_file);
        if (conf)
                sb_printf(&why, "%s%s", why.len ? " and " : "", m->conf_path);
        if (sev == SEV_CRIT) {
                f = fnd_add(fs, sev, "lavinmq.process", "lavinmq is not running, but it is installed (%s)", why.s);
        } else if (sev == SEV_WARN) {
                f = fnd_add(fs, sev, "lavinmq.process", "lavinmq is not running, but its data directory %s has a .lock",
                            m->data_dir);
        } else {
                f = fnd_add(fs, sev, "lavinmq.process", "lavinmq is not running (%zu process%s named lavinmq %s not the broker: "
                            "see lavinmq.impostor)", m->nimp, m->nimp > 1 ? "es" : "", m->nimp > 1 ? "are" : "is");
        }
        fnd_expected(f, "a running lavinmq");
        _cleanup_free_ char *imp = m->nimp ? xasprintf("; %zu process%s named lavinmq not owned by %s (impostors, not used)", m->nimp,
                                                       m->nimp > 1 ? "es" : "", trust_who(&m->tr))
                                           : xstrdup("");
        if (lock.len)
                fnd_actual(f, "no lavinmq process; %s (%s)%s", lock.s,
                           proc_exists(m->lock_pid) ? "that pid runs, but it is not lavinmq" : "not running: stopped or crashed", imp);
        else
                fnd_actual(f, "no lavinmq process%s", imp);
        fnd_remedy(f, "systemctl status lavinmq.service; journalctl -u lavinmq --since \"5 minutes ago\"; ls -la %s/.lock; "
                      "ls -ld %s; df -h %s   # then: systemctl start lavinmq",
                   m->data_dir, m->data_dir, m->data_dir);
        fnd_evidence(f, "/proc%s%s%s%s, %s/.lock", m->unit_file ? ", " : "", m->unit_file ? m->unit_file : "",
                     conf ? ", " : "", conf ? m->conf_path : "", m->data_dir);
        sb_free(&why);
        sb_free(&lock);
}

/* Processes named lavinmq that nobody vouches for: reported, never used. */
static void check_impostors(struct lmq *m, struct findings *fs)
{
        for (size_t i = 0; i < m->nimp && i < MAX_IMPOSTORS; i++) {
                const struct impostor *im = &m->imp[i];
                struct finding *f;
                if (im->uid_known)
                        f = fnd_add(fs, SEV_WARN, "lavinmq.impostor", "a process named lavinmq owned by uid %u is not the broker (pid %d)",
                                    im->uid, im->pid);
                else
                        f = fnd_add(fs, SEV_WARN, "lavinmq.impostor",
                                    "a process named lavinmq whose owner cannot be read is not the broker (pid %d)", im->pid);
                fnd_subject(f, "pid %d %s", im->pid, im->comm);
                fnd_expected(f, "a broker owned by %s (the user is [lavinmq] service_user), or named by the unit's MainPID or "
                                "the data directory's .lock", trust_who(&m->tr));
                fnd_actual(f, "pid %d (comm %s) runs as uid %u%s: its command line, config and data directory are not used, "
                              "no credentials are sent to the ports it names, it is never signalled",
                           im->pid, im->comm, im->uid, im->uid_known ? "" : " (from /proc/PID/stat; /proc/PID/status unreadable)");
                fnd_remedy(f, "ps -o user,pid,args -p %d   # who started it, and why? If it is the real broker, set "
                              "[lavinmq] service_user to its user in /etc/evodiag/evodiag.conf",
                           im->pid);
                fnd_evidence(f, "/proc/%d/status, /proc/%d/comm, /proc/%d/cmdline", im->pid, im->pid, im->pid);
        }
        if (m->nimp > MAX_IMPOSTORS) {
                struct finding *f = fnd_add(fs, SEV_WARN, "lavinmq.impostor", "%zu more processes named lavinmq are not the broker",
                                            m->nimp - MAX_IMPOSTORS);
                fnd_expected(f, "no process named lavinmq but the broker");
                fnd_remedy(f, "ps -o user,pid,args -C lavinmq");
                fnd_evidence(f, "/proc/*/status");
        }
}

static void listeners_text(const struct lavinmq_conf *cf, struct strbuf *b)
{
        struct lavinmq_listener L[MAX_LISTENERS];
        size_t n = lavinmq_listeners(cf, L, MAX_LISTENERS);
        for (size_t i = 0; i < n; i++)
                sb_printf(b, "%s%s %s:%d", i ? ", " : "", L[i].name, L[i].bind, L[i].port);
        if (!n)
                sb_puts(b, "no TCP listener");
}

static void check_config(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        const char *p = m->conf_path;
        if (m->conf_err == -ENOENT && streq(m->conf_from, "default")) {
                f = fnd_add(fs, SEV_INFO, "lavinmq.config", "no %s: LavinMQ's built-in defaults apply", p);
                struct strbuf l = {0};
                listeners_text(&m->conf, &l);
                fnd_actual(f, "data_dir %s; %s; control socket %s", m->data_dir, l.s, m->conf.control_unix_path);
                fnd_evidence(f, "%s", p);
                sb_free(&l);
                return;
        }
        if (m->conf_err == -EPERM && m->conf_why) {
                /* The summary names the rule, not the detail: `check --from` replays the refusal. */
                f = fnd_add(fs, SEV_WARN, "lavinmq.config", "%s (%s) not read: it fails evodiag's ownership rule", p, m->conf_from);
                fnd_expected(f, "the file and every directory on the way owned by %s, not writable by others",
                             trust_who(&m->tr));
                fnd_actual(f, "%s; LavinMQ's built-in defaults are assumed", m->conf_why);
                fnd_remedy(f, "namei -l %s   # fix the owner or mode named above (chown root:, chmod go-w), or set [lavinmq] "
                              "config in /etc/evodiag/evodiag.conf",
                           p);
                fnd_evidence(f, "%s", p);
                return;
        }
        if ((m->conf_err == -EACCES || m->conf_err == -EPERM) && !m->c->is_root) {
                skip_not_root(fs, "lavinmq.config", "lavinmq.ini is readable by root and the lavinmq group only");
                return;
        }
        if (m->conf_err < 0) {
                f = fnd_add(fs, m->conf_err == -ENOENT ? SEV_WARN : SEV_UNKNOWN, "lavinmq.config",
                            "cannot read %s (%s): %s", p, m->conf_from, strerror(-m->conf_err));
                if (m->conf_err == -ENOENT)
                        fnd_remedy(f, "ls -l %s   # the broker or evodiag's [lavinmq] config names a file that does not exist", p);
                fnd_evidence(f, "%s", p);
                return;
        }
        enum severity s = m->conf.syntax_line || m->conf.bad ? SEV_WARN : SEV_OK;
        if (m->conf.syntax_line)
                f = fnd_add(fs, s, "lavinmq.config", "%s line %d is neither `key = value` nor `[section]`", p, m->conf.syntax_line);
        else if (m->conf.bad)
                f = fnd_add(fs, s, "lavinmq.config", "%s: %s", p, m->conf.bad);
        else
                f = fnd_add(fs, s, "lavinmq.config", "%s read: data_dir %s, %u settings", p, m->data_dir, m->conf.keys);
        struct strbuf l = {0};
        listeners_text(&m->conf, &l);
        fnd_expected(f, "a valid INI file");
        fnd_actual(f, "data_dir %s (%s); listeners %s; control socket %s%s", m->data_dir, m->data_dir_from, l.s,
                   m->conf.control_unix_path, m->conf.password_hash_set ? "; default_password_hash set (not shown)" : "");
        if (s != SEV_OK)
                fnd_remedy(f, "fix %s, then: systemctl reload lavinmq   # HUP re-reads the config", p);
        fnd_evidence(f, "%s", p);
        sb_free(&l);
}

static void check_api(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char who[96], b1[32], b2[32], b3[32];
        bool up = m->bp != NULL;
        const struct lavinmq_api *a = &m->a;
        enum severity s = lavinmq_api_verdict(m->api, m->ov.r.status, up, !a->admin_fields && !m->nodes_err);
        switch (m->api) {
        case API_NOT_LIVE:
                fnd_add(fs, s, "lavinmq.api", "not asked: --root is not the live system");
                return;
        case API_NOT_CONFIGURED:
                f = fnd_add(fs, s, "lavinmq.api", "not asked: %s", m->api_err);
                fnd_remedy(f, "set [lavinmq] api_url or control_socket in /etc/evodiag/evodiag.conf");
                return;
        case API_OUT_OF_TIME:
                f = fnd_add(fs, s, "lavinmq.api", "%s (%s)", m->api_err, m->api_label);
                fnd_remedy(f, "raise [lavinmq] timeout in /etc/evodiag/evodiag.conf");
                return;
        case API_WITHHELD:
                f = fnd_add(fs, s, "lavinmq.api", "credentials withheld from %s: %s", m->api_label, m->api_err);
                fnd_expected(f, "the management API at an address evodiag's config names, or served by %s on this host",
                             trust_who(&m->tr));
                fnd_actual(f, "%s%s%s", m->api_err, m->ctl_note ? "; control socket: " : "", m->ctl_note ? m->ctl_note : "");
                fnd_remedy(f, "ss -ltnp   # who listens there? If it is the broker, set [lavinmq] service_user to its user; or name "
                              "the API in /etc/evodiag/evodiag.conf: [lavinmq] api_url (https:// off this host)");
                fnd_evidence(f, "%s, /proc/net/tcp, /proc/net/tcp6", m->api_label);
                return;
        case API_OK: {
                f = fnd_add(fs, s, "lavinmq.api",
                            "%s %s answers over %s in %" PRIu64 " ms: %" PRId64 " connections, %" PRId64 " consumers, %" PRId64 " queues",
                            a->product[0] ? a->product : "the API", a->version, m->api_label, m->ov.r.duration_ms, a->connections,
                            a->consumers, a->queues);
                struct strbuf b = {0};
                sb_printf(&b, "node %s, up %" PRId64 " s", a->node[0] ? a->node : "?", a->uptime_s);
                if (m->nodes_err)
                        sb_printf(&b, "; /api/nodes: %s", m->nodes_err);
                else if (!a->admin_fields)
                        sb_puts(&b, "; /api/nodes without fd/memory/disk fields: the user lacks the administrator tag");
                else
                        sb_printf(&b, "; fds %" PRId64 "/%" PRId64 ", memory %s of %s, disk free %s, %" PRId64 " followers",
                                  a->fd_used, a->fd_total, fmt_bytes(a->mem_used > 0 ? (uint64_t)a->mem_used : 0, b1),
                                  fmt_bytes(a->mem_limit > 0 ? (uint64_t)a->mem_limit : 0, b2),
                                  fmt_bytes(a->disk_free > 0 ? (uint64_t)a->disk_free : 0, b3), a->followers < 0 ? 0 : a->followers);
                if (a->mem_alarm)
                        sb_puts(&b, "; memory alarm set");
                if (a->disk_alarm)
                        sb_puts(&b, "; disk alarm set");
                sb_printf(&b, "; metrics: %s", m->metrics_err ? m->metrics_err : "read");
                if (m->ctl_note)
                        sb_printf(&b, "; control socket not usable (%s), used the management port", m->ctl_note);
                fnd_expected(f, "/api/overview answers within %s ms", conf_str(m->c, "timeout_ms"));
                fnd_actual(f, "%s", b.s);
                if (s != SEV_OK)
                        fnd_remedy(f, "set [lavinmq] user to a user with the administrator tag (or use the control socket)");
                fnd_evidence(f, "%s%s%s", m->ov.origin, m->nodes.origin ? ", " : "", m->nodes.origin ? m->nodes.origin : "");
                sb_free(&b);
                return;
        }
        default:
                break;
        }
        /* It did not answer as it should. */
        if (up && s == SEV_CRIT)
                f = fnd_add(fs, s, "lavinmq.api", "lavinmq (pid %d) runs but its API does not answer: %s", m->bp->pid, m->api_err);
        else if (s == SEV_INFO)
                f = fnd_add(fs, s, "lavinmq.api", "API not reachable (lavinmq is not running: see lavinmq.process): %s", m->api_err);
        else
                f = fnd_add(fs, s, "lavinmq.api", "the API at %s: %s", m->api_label, m->api_err);
        if (up)
                fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "/api/overview answers with JSON within %s ms", conf_str(m->c, "timeout_ms"));
        fnd_actual(f, "%s%s%s", m->api_err, m->ctl_note ? "; control socket: " : "", m->ctl_note ? m->ctl_note : "");
        if (m->api == API_REFUSED)
                fnd_remedy(f, "set [lavinmq] user and password (an administrator) in /etc/evodiag/evodiag.conf, or run as a "
                              "user that can open %s", m->conf.control_unix_path);
        else if (m->api == API_HTTP_ERROR && s == SEV_WARN)
                fnd_remedy(f, "is %s the LavinMQ management port? set [lavinmq] api_url in /etc/evodiag/evodiag.conf", m->api_label);
        else if (up)
                fnd_remedy(f, "journalctl -u lavinmq --since \"10 minutes ago\"; kill -USR1 %d; journalctl -eu lavinmq   "
                              "# GC and fiber dump: what is stuck; sudo perf top -p %d (screenshot before restarting)",
                           m->bp->pid, m->bp->pid);
        fnd_evidence(f, "%s", m->ov.origin ? m->ov.origin : m->api_label ? m->api_label : "");
}

/* Impossible numbers from the API or the metrics: each an unknown finding; the
 * verdicts use the other sources (statvfs, /proc) or say they could not measure. */
static void check_invalid(struct lmq *m, struct findings *fs)
{
        const struct lavinmq_api *a = &m->a;
        for (unsigned i = 0; i < a->ninvalid && i < LAVINMQ_INVALID_MAX; i++) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.invalid_value", "invalid value from %s: %s (left out of every verdict)",
                                            a->invalid[i].src, a->invalid[i].value);
                fnd_subject(f, "%s", a->invalid[i].src);
                fnd_expected(f, "a count or a size: a whole number from 0 to 2^63");
                fnd_actual(f, "%s", a->invalid[i].value);
                fnd_remedy(f, "curl -s %s | head -c 4000   # what the broker (or a proxy in between) answers; attach it to a bug report",
                           startswith(a->invalid[i].src, "/metrics") ? "<metrics URL>" : "<API URL>");
                fnd_evidence(f, "%s", a->invalid[i].src);
        }
        if (a->ninvalid > LAVINMQ_INVALID_MAX) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.invalid_value", "%u more invalid values from the API and the metrics",
                                            a->ninvalid - LAVINMQ_INVALID_MAX);
                fnd_evidence(f, "/api/overview, /api/nodes, /metrics");
        }
}

static void uses_text(const struct lavinmq_use *v, size_t n, struct strbuf *b)
{
        for (size_t i = 0; i < n; i++) {
                const char *al = v[i].at_least ? "at least " : "";
                if (v[i].limit == LIMIT_UNLIMITED)
                        sb_printf(b, "%s%s: %s%" PRIu64 " of unlimited", i ? "; " : "", v[i].src, al, v[i].used);
                else
                        sb_printf(b, "%s%s: %s%" PRIu64 " of %" PRIu64 " (%s%.1f%%)", i ? "; " : "", v[i].src, al, v[i].used,
                                  v[i].limit, al, v[i].pct);
        }
}

static char *nofile_remedy(const struct lmq *m)
{
        int pid = m->bp ? m->bp->pid : 0;
        if (m->unit)
                return xasprintf("systemctl edit %s -> [Service] LimitNOFILE=infinity (as the packaged lavinmq.service), then "
                                 "systemctl restart %s; now, without a restart: prlimit --pid %d --nofile=1048576:1048576",
                                 m->unit, m->unit, pid);
        return xasprintf("ulimit -n 1048576 where lavinmq is started (systemd: LimitNOFILE=infinity); now, without a restart: "
                         "prlimit --pid %d --nofile=1048576:1048576",
                         pid);
}

/* lavinmq.fd_usage and lavinmq.map_headroom: uses against a limit. */
struct use_check {
        const char *id;
        const char *file;     /* what /proc/PID/<file> counts: "fd", "maps" */
        const char *what;     /* "open fds", "map areas" */
        const char *not_root; /* what root would have shown */
        const char *warn_key, *crit_key;
};
static const struct use_check fd_check = {"lavinmq.fd_usage", "fd", "open fds",
                                          "the broker's /proc/PID/fd (and the API did not report fd_used)", "fd_warn_pct", "fd_crit_pct"};
static const struct use_check map_check = {"lavinmq.map_headroom", "maps", "map areas",
                                           "the broker's /proc/PID/maps (and the API gave no counts)", "map_warn_pct", "map_crit_pct"};

/* The deciding use and its verdict (lavinmq_use_verdict), *warn_pct the threshold; NULL
 * when nothing was measured, after the finding that says why: not running, not root,
 * or /proc/PID/<file> could not be counted (perr). */
static const struct lavinmq_use *judge_uses(struct lmq *m, struct findings *fs, const struct use_check *uc, struct lavinmq_use *v,
                                            size_t n, int perr, enum severity *sev, double *warn_pct)
{
        if (n) {
                *warn_pct = conf_num(m->c, uc->warn_key);
                return lavinmq_use_verdict(v, n, *warn_pct, conf_num(m->c, uc->crit_key), sev);
        }
        if (!m->bp) {
                fnd_add(fs, SEV_INFO, uc->id, "not measured: lavinmq is not running");
        } else if ((perr == -EACCES || perr == -EPERM) && !m->c->is_root) {
                skip_not_root(fs, uc->id, uc->not_root);
        } else {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, uc->id, "cannot count the %s of pid %d: %s", uc->what, m->bp->pid,
                                            strerror(-perr));
                fnd_evidence(f, "/proc/%d/%s", m->bp->pid, uc->file);
        }
        return NULL;
}

/* Every use of a check, and why /proc/PID/<file> is not among them (perr). */
static void uses_actual(const struct lmq *m, struct finding *f, const struct use_check *uc, const struct lavinmq_use *v, size_t n,
                        int perr)
{
        struct strbuf b = {0};
        uses_text(v, n, &b);
        if (perr)
                sb_printf(&b, "; /proc/%d/%s: %s", m->bp->pid, uc->file, perr == -EACCES || perr == -EPERM ? "needs root" : strerror(-perr));
        fnd_actual(f, "%s", b.s);
        sb_free(&b);
}

static void check_fd_limit(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char who[96];
        uint64_t min = conf_uint(m->c, "fd_limit_min"), soft = 0, hard = 0;
        char srcbuf[64];
        const char *src = lavinmq_fd_limit_source(&m->fd, &soft, &hard, srcbuf);
        if (!src) {
                if (!m->bp) {
                        fnd_add(fs, SEV_INFO, "lavinmq.fd_limit", "not measured: lavinmq is not running");
                } else {
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.fd_limit", "cannot read the open-files limit of pid %d: %s",
                                    m->bp->pid, strerror(-m->fd.limit_err));
                        fnd_evidence(f, "/proc/%d/limits", m->bp->pid);
                }
                return;
        }
        enum severity sev = lavinmq_fd_limit_verdict(soft, min);
        bool low = sev != SEV_OK;
        char lim[32];
        if (soft == LIMIT_UNLIMITED)
                snprintf(lim, sizeof(lim), "unlimited");
        else
                snprintf(lim, sizeof(lim), "%" PRIu64, soft);
        f = fnd_add(fs, sev, "lavinmq.fd_limit",
                    low ? "lavinmq may open only %s files (below %" PRIu64 "): LavinMQ itself warns at start"
                        : "lavinmq may open %s files (>= %" PRIu64 ")",
                    lim, min);
        fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "soft open-files limit >= %" PRIu64 " (one per connection, two per durable queue, and some more)", min);
        if (hard)
                fnd_actual(f, "soft %s, hard %" PRIu64 " (%s)", lim, hard, src);
        else
                fnd_actual(f, "%s (%s)", lim, src);
        if (low) {
                _cleanup_free_ char *rem = nofile_remedy(m);
                fnd_remedy(f, "%s", rem);
        }
        fnd_evidence(f, "%s", src);
}

static void check_fd_usage(struct lmq *m, struct findings *fs)
{
        int perr = m->fd_err;
        char who[96];
        struct lavinmq_use v[3];
        size_t n = lavinmq_fd_uses(&m->fd, v);
        struct finding *f;
        enum severity s;
        double w;
        const struct lavinmq_use *x = judge_uses(m, fs, &fd_check, v, n, perr, &s, &w);
        if (!x)
                return;
        const char *al = x->at_least ? "at least " : "";
        if (x->limit == LIMIT_UNLIMITED)
                f = fnd_add(fs, s, "lavinmq.fd_usage", "lavinmq holds %s%" PRIu64 " open files (no limit, %s)", al, x->used, x->src);
        else
                f = fnd_add(fs, s, "lavinmq.fd_usage", "lavinmq holds %s%" PRIu64 " open files of %" PRIu64 " allowed (%s%.1f%%, %s)",
                            al, x->used, x->limit, al, x->pct, x->src);
        fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "< %.0f%% of the open-files limit", w);
        uses_actual(m, f, &fd_check, v, n, perr);
        if (s != SEV_OK) {
                _cleanup_free_ char *rem = nofile_remedy(m);
                int pid = m->bp ? m->bp->pid : 0;
                fnd_remedy(f, "sudo ls -l /proc/%d/fd | wc -l; sudo lsof -p %d -i | awk '{print $8}' | sort | uniq -c   "
                              "# a connection leak?; raise the limit: %s",
                           pid, pid, rem);
        }
        struct strbuf ev = {0};
        for (size_t i = 0; i < n; i++)
                sb_printf(&ev, "%s%s", i ? ", " : "", v[i].src);
        fnd_evidence(f, "%s", ev.s);
        sb_free(&ev);
}

static void check_map_headroom(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char who[96];
        uint64_t max = 0;
        int r = rootfs_read_u64(MAX_MAP_COUNT, &max);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.map_headroom", "cannot read %s: %s", MAX_MAP_COUNT,
                            r == -EINVAL ? "not a number" : rootfs_strerror(-r));
                fnd_evidence(f, MAX_MAP_COUNT);
                return;
        }
        const struct lavinmq_api *a = &m->a;
        struct lavinmq_map_in in = {.connections = a->connections, .consumers = a->consumers, .queues = a->queues, .mfile = m->m_mfile};
        if (m->bp) {
                in.pid = m->bp->pid;
                in.maps = proc_map_count(in.pid);
        }
        int perr = in.pid && in.maps < 0 ? (int)in.maps : 0;
        struct lavinmq_use v[3];
        size_t n = lavinmq_map_uses(&in, max, v);
        enum severity s;
        double w;
        const struct lavinmq_use *x = judge_uses(m, fs, &map_check, v, n, perr, &s, &w);
        if (!x)
                return;
        f = fnd_add(fs, s, "lavinmq.map_headroom", "%s: %" PRIu64 " of vm.max_map_count %" PRIu64 " (%.1f%%)", x->src, x->used, max,
                    x->pct);
        if (m->bp)
                fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "< %.0f%% of vm.max_map_count", w);
        uses_actual(m, f, &map_check, v, n, perr);
        if (s != SEV_OK) {
                uint64_t t = lavinmq_map_target(max, x->used);
                fnd_remedy(f, "sysctl -w vm.max_map_count=%" PRIu64 " && echo vm.max_map_count=%" PRIu64
                              " > /etc/sysctl.d/99-lavinmq.conf",
                           t, t);
        }
        fnd_evidence(f, "%s%s%s%s", MAX_MAP_COUNT, n && a->queues >= 0 ? ", /api/overview" : "",
                     isfinite(m->m_mfile) ? ", /metrics" : "", m->bp ? ", /proc/PID/maps" : "");
}

static void check_disk(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        if (!m->live) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.disk", "not measured: statvfs and the API need the live system (--root)");
                return;
        }
        struct lavinmq_space v[3];
        size_t n = lmq_disk_spaces(m, v);
        if (!n) {
                enum severity s = lavinmq_disk_unmeasured(m->vfs_err, m->bp);
                if (m->vfs_err == -ENOENT)
                        f = fnd_add(fs, s, "lavinmq.disk", "not measured: %s does not exist%s", m->data_dir,
                                    m->bp ? "" : " (lavinmq is not running)");
                else
                        f = fnd_add(fs, s, "lavinmq.disk", "cannot statvfs %s: %s", m->data_dir, strerror(-m->vfs_err));
                fnd_evidence(f, "statvfs(%s)", m->data_dir);
                return;
        }
        struct lavinmq_disk_rule rule;
        enum severity ws;
        const char *wwhy;
        lmq_disk_rule(m, &rule);
        const struct lavinmq_space *x = &v[lavinmq_disk_verdict(&rule, v, n, m->a.disk_alarm, &ws, &wwhy)];
        char fb[32], tb[32], wb[32];
        if (x->total)
                f = fnd_add(fs, ws, "lavinmq.disk", "%s free of %s (%.1f%%) for %s (%s)%s%s", fmt_bytes(x->free_, fb),
                            fmt_bytes(x->total, tb), 100.0 * (double)x->free_ / (double)x->total, m->data_dir, x->src,
                            *wwhy ? ": " : "", wwhy);
        else
                f = fnd_add(fs, ws, "lavinmq.disk", "%s free for %s (%s)%s%s", fmt_bytes(x->free_, fb), m->data_dir, x->src,
                            *wwhy ? ": " : "", wwhy);
        fnd_expected(f, ">= %s%% and >= %s free", conf_str(m->c, "disk_warn_pct"), fmt_bytes(conf_uint(m->c, "disk_warn_bytes"), wb));
        struct strbuf b = {0};
        for (size_t i = 0; i < n; i++) {
                sb_printf(&b, "%s%s: %s free", i ? "; " : "", v[i].src, fmt_bytes(v[i].free_, fb));
                if (v[i].total)
                        sb_printf(&b, " of %s", fmt_bytes(v[i].total, tb));
        }
        if (m->dd_segments)
                sb_printf(&b, "; %zu message segments use %s", m->dd_segments, fmt_bytes(m->dd_bytes, fb));
        fnd_actual(f, "%s", b.s);
        sb_free(&b);
        if (ws != SEV_OK)
                fnd_remedy(f, "df -h %s; du -sh %s/*/* | sort -h | tail -20; find %s -name \"msgs.*\" -exec ls -l {} \\; | sort -k5 -n "
                              "| tail -20   # then consume or purge the backlog, or grow the file system",
                           m->data_dir, m->data_dir, m->data_dir);
        fnd_evidence(f, "statvfs(%s)%s%s", m->data_dir, m->a.disk_free >= 0 ? ", /api/nodes" : "", isfinite(m->m_disk) ? ", /metrics" : "");
}

static void check_data_dir(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char b1[32], b2[32];
        const char *d = m->data_dir;
        if (m->dd_err == -EPERM && m->dd_why) {
                f = fnd_add(fs, SEV_WARN, "lavinmq.data_dir", "%s (%s) not listed: it fails evodiag's ownership rule", d,
                            m->data_dir_from);
                fnd_expected(f, "the directory and every one on the way owned by %s, not writable by others", trust_who(&m->tr));
                fnd_actual(f, "%s", m->dd_why);
                fnd_remedy(f, "namei -l %s   # fix the owner or mode named above: a data directory others can write lets them "
                              "tamper with the broker's messages",
                           d);
                fnd_evidence(f, "%s", d);
                return;
        }
        if (m->dd_err) {
                if ((m->dd_err == -EACCES || m->dd_err == -EPERM) && !m->c->is_root) {
                        skip_not_root(fs, "lavinmq.data_dir", "the data directory is not readable");
                        return;
                }
                if (m->dd_err == -ENOENT) {
                        f = fnd_add(fs, m->bp ? SEV_WARN : SEV_INFO, "lavinmq.data_dir", "%s (%s) does not exist%s", d,
                                    m->data_dir_from, m->bp ? ", but lavinmq runs: it uses another data directory" : "");
                        if (m->bp)
                                fnd_remedy(f, "ps -o args -p %d   # -D? else LAVINMQ_DATADIR/STATE_DIRECTORY in its environment; "
                                              "set [lavinmq] config to its lavinmq.ini",
                                           m->bp->pid);
                } else {
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.data_dir", "cannot list %s: %s", d, strerror(-m->dd_err));
                }
                fnd_evidence(f, "%s", d);
                return;
        }
        struct strbuf lock = {0};
        enum severity s = SEV_OK;
        _cleanup_free_ char *host = NULL;
        (void)rootfs_read_value("/proc/sys/kernel/hostname", &host);
        if (m->lock_err == -ENOENT)
                sb_puts(&lock, "no .lock");
        else if (m->lock_err == -EPERM && m->lock_why)
                sb_puts(&lock, ".lock not read: it fails evodiag's ownership rule"), s = SEV_WARN;
        else if (m->lock_err)
                sb_printf(&lock, ".lock unreadable: %s", strerror(-m->lock_err));
        else if (m->lock_bad)
                sb_puts(&lock, ".lock does not hold \"PID <pid> @ <host>\""), s = SEV_INFO;
        else {
                sb_printf(&lock, ".lock: PID %d @ %s", m->lock_pid, m->lock_host);
                if (host && *host && !streq(host, m->lock_host))
                        sb_printf(&lock, " (another host than %s: a shared or copied data directory?)", host), s = SEV_INFO;
                else if (m->bp && m->lock_pid != m->bp->pid)
                        sb_printf(&lock, " (not the running broker, pid %d: it runs without data_dir_lock or elsewhere)", m->bp->pid),
                                s = SEV_INFO;
                else if (!m->bp && !proc_exists(m->lock_pid))
                        sb_puts(&lock, " (not running: left by a broker that stopped or crashed)");
        }
        f = fnd_add(fs, s, "lavinmq.data_dir", "%s: %zu message segments (%s) in %zu queue directories; %s%s", d, m->dd_segments,
                    fmt_bytes(m->dd_bytes, b1), m->dd_dirs, lock.s, m->dd_partial ? " (partial: stopped early)" : "");
        if (m->dd_top)
                fnd_actual(f, "largest: %s/%s, %zu segments (%s); %zu entries inspected", d, m->dd_top, m->dd_top_segments,
                           fmt_bytes(m->dd_top_bytes, b2), m->dd_entries);
        else
                fnd_actual(f, "%zu entries inspected%s%s", m->dd_entries, m->lock_why ? "; " : "", m->lock_why ? m->lock_why : "");
        if (m->lock_why)
                fnd_remedy(f, "namei -l %s/.lock   # fix the owner or mode named in the details", d);
        fnd_evidence(f, "%s, %s/.lock", d, d);
        sb_free(&lock);
}

static void check_messages(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        if (m->api == API_NOT_LIVE) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.messages", "not measured: the API is not asked under --root");
                return;
        }
        int64_t ready = m->a.messages_ready, unacked = m->a.messages_unacked;
        const char *src = "/api/overview queue_totals";
        if ((ready < 0 || unacked < 0) && isfinite(m->m_ready) && isfinite(m->m_unacked)) {
                /* Whole and below 2^64 (read_metrics), but maybe not below 2^63. */
                ready = m->m_ready < 9.2e18 ? (int64_t)m->m_ready : INT64_MAX;
                unacked = m->m_unacked < 9.2e18 ? (int64_t)m->m_unacked : INT64_MAX;
                src = "metrics queue_messages_ready/unacked";
        }
        if (ready < 0 || unacked < 0) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.messages", "not measured: the API did not answer (see lavinmq.api)");
                return;
        }
        uint64_t rw = conf_uint(m->c, "ready_warn"), uw = conf_uint(m->c, "unacked_warn");
        bool br = (uint64_t)ready >= rw, bu = (uint64_t)unacked >= uw;
        enum severity s = br || bu ? SEV_WARN : SEV_OK;
        char cons[48] = "";
        if (m->a.consumers >= 0)
                snprintf(cons, sizeof(cons), ", %" PRId64 " consumers", m->a.consumers);
        f = fnd_add(fs, s, "lavinmq.messages", "%" PRId64 " messages ready, %" PRId64 " unacknowledged%s%s", ready, unacked, cons,
                    br && bu ? ": both building up" : br ? ": ready messages building up" : bu ? ": unacknowledged messages building up" : "");
        fnd_expected(f, "< %" PRIu64 " ready and < %" PRIu64 " unacknowledged", rw, uw);
        fnd_actual(f, "%" PRId64 " ready, %" PRId64 " unacknowledged (%s)%s", ready, unacked, src,
                   m->a.consumers == 0 && ready > 0 ? "; no consumer is connected" : "");
        if (s != SEV_OK)
                fnd_remedy(f, "kill -USR1 %d; journalctl -u lavinmq | grep -A 20 \"Queue <name>\"; lavinmqctl list_queues   "
                              "# add consumers, or fix the one that does not ack",
                           m->bp ? m->bp->pid : 0);
        fnd_evidence(f, "%s", src);
}

#define VERSION_OUT_MAX 4096

/* The broker's version, as its guide's bug report asks: the API's, else what the
 * binary of the running pid says to --version (bounded; only a file that passes the
 * path rule of lib/trust.h and is a lavinmq binary, never an interpreter it runs under). */
static void check_version(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        if (m->api == API_OK && m->a.version[0]) {
                f = fnd_add(fs, SEV_INFO, "lavinmq.version", "%s %s (the API's /api/overview)", m->a.product[0] ? m->a.product : "LavinMQ",
                            m->a.version);
                fnd_actual(f, "%s %s (/api/overview)", m->a.product[0] ? m->a.product : "LavinMQ", m->a.version);
                fnd_evidence(f, "%s", m->ov.origin ? m->ov.origin : "/api/overview");
                return;
        }
        if (!m->live || !m->bp) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.version", "not known: %s", !m->live ? "--root is not the live system" : "lavinmq is not running");
                return;
        }
        int pid = m->bp->pid;
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/exe", pid);
        _cleanup_free_ char *exe = NULL, *why = NULL;
        int r = rootfs_readlink(p, &exe);
        const char *base = exe ? strrchr(exe, '/') : NULL;
        if (r < 0 || !base || exe[0] != '/' || strstr(exe, " (deleted)") || !streq(base + 1, "lavinmq")) {
                f = fnd_add(fs, SEV_SKIPPED, "lavinmq.version", "not known: the API did not say it, and the broker's executable %s%s",
                            r < 0 ? "cannot be read: " : exe ? exe : "", r < 0 ? rootfs_strerror(r) : " is not a lavinmq binary to ask");
                return;
        }
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
        if (root < 0 || trust_walk(&m->tr, root, exe, TRUST_FILE, &fd, &why) < 0) {
                f = fnd_add(fs, SEV_SKIPPED, "lavinmq.version", "not known: %s --version not run: %s", exe, why ? why : strerror(errno));
                return;
        }
        uint64_t t = lmq_budget_ms(m->c, 2000, 200);
        struct cmd_result cr = {0};
        const char *argv[] = {exe, "--version", NULL};
        if (!t || cmd_run(argv, t, VERSION_OUT_MAX, &cr) < 0 || !cr.out || !*cr.out) {
                f = fnd_add(fs, SEV_SKIPPED, "lavinmq.version", "not known: %s --version: %s", exe,
                            !t ? "no time left" : cr.error ? cr.error : "no output");
                cmd_result_free(&cr);
                return;
        }
        _cleanup_free_ char *line = xstrndup(cr.out, strcspn(cr.out, "\n"));
        f = fnd_add(fs, SEV_INFO, "lavinmq.version", "%s (%s --version, pid %d's binary)", strstrip(line), exe, pid);
        fnd_actual(f, "%s", strstrip(line));
        fnd_evidence(f, "%s --version", exe);
        cmd_result_free(&cr);
}

lmq_check_fn *const lmq_checks[] = {
        check_process,  check_impostors,    check_config, check_api,      check_invalid,       check_fd_limit,
        check_fd_usage, check_map_headroom, check_disk,   check_data_dir, lmq_check_listeners, check_messages,
        check_version,  NULL,
};
