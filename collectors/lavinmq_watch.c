/* lavinmq: sample() for evodiag watch. Every interval: the broker still there, its
 * open fds and map areas (cheap, from /proc); every [lavinmq] slow_every_ms: the API,
 * the metrics and the disk, each request bounded by half an interval. Every status
 * comes from the verdict check() uses (lavinmq_verdict.c), on the same kinds of
 * numbers: the slow part's are kept for the samples in between. */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "collectors/sample_util.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/sample.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sys/stat.h>

struct lstate {
        int pid;
        char comm[64];
        bool installed, lock_absent;
        size_t impostors;
        uint64_t last_find_ms, last_slow_ms;
        bool slow_done;
        struct lavinmq_conf conf;
        char *conf_path, *data_dir, *unit;
        /* the slow part's last verdicts, repeated every sample */
        enum severity disk_sev, api_sev;
        char *disk_msg, *api_msg;
        /* the slow part's numbers, for the verdicts of every sample (-1, NaN: not reported) */
        int64_t connections, consumers, queues, fd_used, fd_total;
        double mfile, m_fds, m_maxfds;
        struct pidwatch young; /* processes started since watch began: a restarted broker */
        /* the listeners (lavinmq.listening): looked at with the slow part, at once when the
         * broker or its config file changed (one stat of the file per interval) */
        struct lmq_listen listen[MAX_LISTENERS];
        size_t nlisten;
        int listen_err;
        char *listen_src;
        bool listen_due;
        struct stat conf_st;
        bool conf_known, conf_there;
};

void lavinmq_free_state(void *state)
{
        struct lstate *st = state;
        if (!st)
                return;
        lavinmq_conf_free(&st->conf);
        free(st->conf_path);
        free(st->data_dir);
        free(st->unit);
        free(st->disk_msg);
        free(st->api_msg);
        free(st->listen_src);
        pidwatch_free(&st->young);
        free(st); /* no fd is kept between samples but /proc/loadavg's */
}

/* Finds the broker and its config again (first sample, or the broker went away). */
static void sample_find(struct ctx *c, struct lstate *st)
{
        struct lmq *m = lmq_gather(c);
        st->pid = m->bp ? m->bp->pid : 0;
        snprintf(st->comm, sizeof(st->comm), "%s", m->bp ? m->bp->comm : "");
        st->installed = lmq_installed(m);
        st->lock_absent = m->lock_err == -ENOENT;
        st->impostors = m->nimp;
        lavinmq_conf_free(&st->conf);
        st->conf = m->conf;
        memset(&m->conf, 0, sizeof(m->conf));
        free(st->conf_path);
        free(st->data_dir);
        free(st->unit);
        st->conf_path = m->conf_path, m->conf_path = NULL;
        st->data_dir = m->data_dir, m->data_dir = NULL;
        st->unit = m->unit, m->unit = NULL;
        lmq_free(m);
        st->listen_due = true;
        st->conf_known = false; /* the config file (perhaps another) is learnt anew */
}

/* Whether the broker's config file changed since the last look (a listener added,
 * a port moved): its identity, size and time; the first look only learns it. */
static bool conf_changed(struct lstate *st)
{
        struct stat sb;
        bool there = st->conf_path && rootfs_stat(st->conf_path, &sb, true) == 0;
        bool changed = st->conf_known && (there != st->conf_there ||
                                          (there && (sb.st_ino != st->conf_st.st_ino || sb.st_size != st->conf_st.st_size ||
                                                     sb.st_mtim.tv_sec != st->conf_st.st_mtim.tv_sec ||
                                                     sb.st_mtim.tv_nsec != st->conf_st.st_mtim.tv_nsec)));
        st->conf_known = true;
        st->conf_there = there;
        if (there)
                st->conf_st = sb;
        return changed;
}

/* lavinmq.listening as check() says it (lavinmq_listeners.c), from the last look. */
static void sample_listening(struct lstate *st, struct sample *s)
{
        if (st->listen_due) {
                free(st->listen_src);
                st->listen_src = NULL; /* no broker: not set again, and freed at the next look */
                char *s6 = NULL;
                st->listen_err = st->pid ? lmq_listen_states(st->pid, &st->conf, st->listen, &st->nlisten, &st->listen_src, &s6) : 0;
                free(s6);
                st->listen_due = false;
        }
        if (!st->pid) {
                sample_status(s, "lavinmq.listening", NULL, SEV_INFO, "not checked: no lavinmq process on this host");
                return;
        }
        struct lavinmq_listener L[MAX_LISTENERS];
        if (!lavinmq_listeners(&st->conf, L, MAX_LISTENERS)) {
                sample_status(s, "lavinmq.listening", NULL, SEV_OK, "no TCP listener configured");
                return;
        }
        if (st->listen_err < 0) {
                sample_status(s, "lavinmq.listening", NULL, SEV_UNKNOWN, "cannot read %s: %s", st->listen_src ? st->listen_src : "/proc/net/tcp",
                              st->listen_err == -EINVAL ? "not the kernel's format" : strerror(-st->listen_err));
                return;
        }
        size_t missing = 0;
        struct strbuf ok = {0};
        for (size_t i = 0; i < st->nlisten; i++) {
                const struct lavinmq_listener *l = &st->listen[i].l;
                char subj[160];
                if (st->listen[i].listening) {
                        sb_printf(&ok, "%s%s %s:%d", ok.len ? ", " : "", l->name, l->bind, l->port);
                        continue;
                }
                missing++;
                snprintf(subj, sizeof(subj), "%s %s:%d", l->name, l->bind, l->port);
                sample_status(s, "lavinmq.listening", subj, SEV_WARN, "%s listener %s:%d is not listening%s", l->name, l->bind, l->port,
                              st->listen[i].other ? " (the port listens on another address)" : "");
        }
        if (!missing)
                sample_status(s, "lavinmq.listening", NULL, SEV_OK, "all %zu configured listeners listen: %s", st->nlisten, ok.s ? ok.s : "");
        sb_free(&ok);
}

static void set_msg(char **dst, char *msg)
{
        free(*dst);
        *dst = msg;
}

static void slow_api(struct lstate *st, const struct lmq *m, struct sample *s)
{
        const struct lavinmq_api *a = &m->a;
        st->api_sev = lavinmq_api_verdict(m->api, m->ov.r.status, st->pid, !a->admin_fields && !m->nodes_err);
        if (m->api == API_OK) {
                set_msg(&st->api_msg, xasprintf("API answers in %" PRIu64 " ms%s", m->ov.r.duration_ms,
                                                st->api_sev == SEV_OK ? "" : " (without the administrator's fields)"));
                sample_value(s, "lavinmq.api_ms", NULL, (double)m->ov.r.duration_ms, "ms");
                sample_value(s, "lavinmq.connections", NULL, (double)a->connections, NULL);
                sample_value(s, "lavinmq.queues", NULL, (double)a->queues, NULL);
                if (a->messages_ready >= 0) {
                        sample_value(s, "lavinmq.messages_ready", NULL, (double)a->messages_ready, NULL);
                        sample_value(s, "lavinmq.messages_unacked", NULL, (double)a->messages_unacked, NULL);
                }
        } else if (m->api == API_NOT_LIVE || m->api == API_NOT_CONFIGURED) {
                set_msg(&st->api_msg, xstrdup(m->api_err ? m->api_err : "not asked"));
        } else {
                set_msg(&st->api_msg, xasprintf("API: %s", m->api_err ? m->api_err : "no answer"));
        }
        st->connections = a->connections, st->consumers = a->consumers, st->queues = a->queues;
        st->fd_used = a->fd_used, st->fd_total = a->fd_total;
        st->mfile = m->m_mfile, st->m_fds = m->m_fds, st->m_maxfds = m->m_maxfds;
        if (isfinite(m->m_mfile))
                sample_value(s, "lavinmq.mfile_count", NULL, m->m_mfile, NULL);
}

static void slow_disk(struct lstate *st, const struct lmq *m, struct sample *s)
{
        if (!m->live) {
                st->disk_sev = SEV_SKIPPED;
                set_msg(&st->disk_msg, xstrdup("not measured under --root"));
                return;
        }
        struct lavinmq_space v[3];
        size_t n = lmq_disk_spaces(m, v);
        if (!n) {
                st->disk_sev = lavinmq_disk_unmeasured(m->vfs_err, st->pid);
                set_msg(&st->disk_msg, xasprintf("cannot statvfs %s: %s", st->data_dir, strerror(-m->vfs_err)));
                return;
        }
        struct lavinmq_disk_rule rule;
        const char *why;
        char b[32];
        lmq_disk_rule(m, &rule);
        const struct lavinmq_space *x = &v[lavinmq_disk_verdict(&rule, v, n, m->a.disk_alarm, &st->disk_sev, &why)];
        struct strbuf t = {0};
        sb_printf(&t, "%s free in %s", fmt_bytes(x->free_, b), st->data_dir);
        if (x != v || m->vfs_err) /* another source than statvfs decided */
                sb_printf(&t, " (%s)", x->src);
        if (*why)
                sb_printf(&t, ": %s", why);
        set_msg(&st->disk_msg, sb_steal(&t));
        if (!m->vfs_err)
                sample_value(s, "lavinmq.disk_free_bytes", st->data_dir, (double)m->vfs_free, "bytes");
}

/* API, metrics and disk: every slow_every_ms, each request bounded by the interval. */
static void sample_slow(struct ctx *c, struct lstate *st, struct sample *s)
{
        struct lmq *m = lmq_new(c);
        m->conf = st->conf;
        m->conf_path = xstrdup(st->conf_path);
        m->data_dir = xstrdup(st->data_dir);
        /* Requests get at most half an interval: a sample must never hold up the next. */
        m->timeout_cap_ms = c->interval_ms / 2 > 250 ? c->interval_ms / 2 : 250;
        lavinmq_api_init(&m->a);
        lmq_gather_api(m);
        if (m->live)
                lmq_statvfs(m);
        slow_api(st, m, s);
        slow_disk(st, m, s);
        memset(&m->conf, 0, sizeof(m->conf)); /* borrowed from the state */
        lmq_free(m);
}

/* The broker's open fds against its limit, and the limit itself. */
static void sample_fds(struct ctx *c, const struct lstate *st, const char *who, struct sample *s)
{
        struct lavinmq_fd_in in = {.api_used = st->fd_used, .api_total = st->fd_total, .m_open = st->m_fds, .m_max = st->m_maxfds};
        (void)lmq_read_fds(st->pid, &in);
        if (in.fds >= 0 && in.limit_err == 0) {
                sample_value(s, "lavinmq.open_fds", who, (double)in.fds, NULL);
                sample_value(s, "lavinmq.fd_limit", who, in.soft == LIMIT_UNLIMITED ? 0 : (double)in.soft, NULL);
        }
        struct lavinmq_use v[3];
        size_t n = lavinmq_fd_uses(&in, v);
        enum severity sev;
        const struct lavinmq_use *x = lavinmq_use_verdict(v, n, conf_num(c, "fd_warn_pct"), conf_num(c, "fd_crit_pct"), &sev);
        if (x) {
                const char *al = x->at_least ? "at least " : "", *src = startswith(x->src, "/proc/") ? "" : x->src;
                sample_status(s, "lavinmq.fd_usage", who, sev, "%s%" PRIu64 " of %" PRIu64 " open files (%s%.1f%%)%s%s%s", al, x->used,
                              x->limit, al, x->pct, *src ? " (" : "", src, *src ? ")" : "");
        }
        uint64_t soft, hard, min = conf_uint(c, "fd_limit_min");
        char srcbuf[64];
        if (lavinmq_fd_limit_source(&in, &soft, &hard, srcbuf)) {
                enum severity ls = lavinmq_fd_limit_verdict(soft, min);
                char lim[32];
                if (soft == LIMIT_UNLIMITED)
                        snprintf(lim, sizeof(lim), "unlimited");
                else
                        snprintf(lim, sizeof(lim), "%" PRIu64, soft);
                sample_status(s, "lavinmq.fd_limit", who, ls, "may open %s%s files%s", ls == SEV_OK ? "" : "only ", lim,
                              ls == SEV_OK ? "" : " (LavinMQ warns below 1025)");
        }
}

/* Its map areas against vm.max_map_count, with LavinMQ's own rule on the API's counts. */
static void sample_maps(struct ctx *c, const struct lstate *st, const char *who, struct sample *s)
{
        uint64_t max = 0;
        if (rootfs_read_u64(MAX_MAP_COUNT, &max) < 0 || !max)
                return;
        struct lavinmq_map_in in = {.pid = st->pid, .maps = proc_map_count(st->pid), .connections = st->connections,
                                    .consumers = st->consumers, .queues = st->queues, .mfile = st->mfile};
        if (in.maps >= 0)
                sample_value(s, "lavinmq.map_areas", who, (double)in.maps, NULL);
        struct lavinmq_use v[3];
        size_t n = lavinmq_map_uses(&in, max, v);
        enum severity sev;
        const struct lavinmq_use *x = lavinmq_use_verdict(v, n, conf_num(c, "map_warn_pct"), conf_num(c, "map_crit_pct"), &sev);
        if (x)
                sample_status(s, "lavinmq.map_headroom", who, sev, "%s %" PRIu64 " of vm.max_map_count %" PRIu64 " (%.1f%%)", x->what,
                              x->used, max, x->pct);
}

static void sample_rss(const struct lstate *st, const char *who, struct sample *s)
{
        char p[64];
        _cleanup_free_ char *status = NULL;
        snprintf(p, sizeof(p), "/proc/%d/status", st->pid);
        if (rootfs_read(p, 64 << 10, &status, NULL) <= 0)
                return;
        struct kvlist kv;
        uint64_t rss;
        kv_parse(status, ':', &kv);
        if (kv_get_u64(&kv, "VmRSS", &rss) == 0)
                sample_value(s, "lavinmq.rss_bytes", who, (double)rss, "bytes");
        kv_free(&kv);
}

void lavinmq_sample(struct ctx *c, struct sample *s)
{
        struct lstate *st = c->state;
        uint64_t now = now_ms_monotonic();
        if (!st) {
                st = c->state = xcalloc(1, sizeof(*st));
                lavinmq_conf_init(&st->conf);
                st->connections = st->consumers = st->queues = st->fd_used = st->fd_total = -1;
                st->mfile = st->m_fds = st->m_maxfds = NAN;
        }
        /* The broker: gone is seen at once (its pid); it is looked for again at once when a
         * process named like it started (restarted by systemd: the new processes watch hands
         * every sampler), else at each rescan (--rescan, 2 min): the look scans every process
         * (~40 ms of CPU with 1,500 of them); every 5 s it cost ~0.8 % of a core while the
         * broker was down. */
        int young[SAMPLE_YOUNG_MAX];
        size_t ny = pidwatch_young(&st->young, c, young);
        bool started = false;
        for (size_t i = 0; i < ny && !started && !(st->pid && proc_exists(st->pid)); i++) {
                struct proc p; /* looked at while young: a forked child gets the name at exec */
                started = sample_proc(young[i], &p) && component_name_match(p.comm, NULL, "lavinmq");
                if (started) /* one look for it: if it is not the broker, the rescan's holds */
                        pidwatch_drop(&st->young, young[i]);
        }
        bool reconfigured = conf_changed(st);
        if (reconfigured || ((!st->pid || !proc_exists(st->pid)) && (started || !st->last_find_ms || now - st->last_find_ms >= sampler_rescan_ms))) {
                sample_find(c, st);
                st->last_find_ms = now;
        } else if (st->pid && !proc_exists(st->pid)) {
                st->pid = 0;
        }
        uint64_t every = conf_uint(c, "slow_every_ms");
        if (!st->slow_done || now - st->last_slow_ms >= every) {
                sample_slow(c, st, s);
                st->slow_done = true;
                st->last_slow_ms = now;
                st->listen_due = true;
        }
        sample_listening(st, s);
        char who[96];
        snprintf(who, sizeof(who), "pid %d %s", st->pid, st->comm);
        enum severity ps = lavinmq_process_verdict(st->pid, st->installed, st->lock_absent, st->impostors);
        if (!st->pid) {
                sample_status(s, "lavinmq.process", NULL, ps, "lavinmq is not running");
        } else {
                sample_status(s, "lavinmq.process", who, ps, "lavinmq runs (pid %d)", st->pid);
                sample_fds(c, st, who, s);
                sample_maps(c, st, who, s);
                sample_rss(st, who, s);
        }
        if (st->api_msg)
                sample_status(s, "lavinmq.api", NULL, st->api_sev, "%s", st->api_msg);
        if (st->disk_msg)
                sample_status(s, "lavinmq.disk", st->data_dir, st->disk_sev, "%s", st->disk_msg);
}
