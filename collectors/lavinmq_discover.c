/* lavinmq: discovery and identity. The broker is a process named lavinmq
 * (component_named) that lib/trust vouches for (root or the service user owns it, or
 * the data directory's .lock names it); anyone else's is an impostor and never used.
 * Its -c and -D, its config and its data directory are read under trust's path rule. */
#include "config.h"
#include "lib/procscan.h" /* unit_from_cgroup */
#include "collectors/lavinmq_private.h"
#include "lib/rootfs.h"
#include "lib/sdunit.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sys/statvfs.h>

const char *const lmq_unit_files[3] = {
        "/etc/systemd/system/lavinmq.service",
        "/lib/systemd/system/lavinmq.service",
        "/usr/lib/systemd/system/lavinmq.service",
};

uint64_t lmq_budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms)
{
        /* What comes after needs more on a loaded host: keep a quarter of what is left
         * when that is more than the fixed reserve. */
        uint64_t now = now_ms_monotonic();
        if (c->deadline_ms && now < c->deadline_ms && (c->deadline_ms - now) / 4 > reserve_ms)
                reserve_ms = (c->deadline_ms - now) / 4;
        return ctx_budget_ms(c, want, reserve_ms);
}

void lmq_free(struct lmq *m)
{
        proctable_free(&m->pt);
        trust_free(&m->tr);
        free(m->conf_why);
        free(m->lock_why);
        free(m->dd_why);
        free(m->unit);
        free(m->cmd_config);
        free(m->cmd_data_dir);
        free(m->conf_path);
        lavinmq_conf_free(&m->conf);
        free(m->data_dir);
        free(m->dd_top);
        sb_free(&m->dd_listing);
        free(m->api_label);
        free(m->api_sock);
        free(m->api_base);
        free(m->api_err);
        free(m->ctl_note);
        lmq_reply_free(&m->ov);
        lmq_reply_free(&m->nodes);
        lmq_reply_free(&m->metrics);
        free(m->nodes_err);
        free(m->metrics_err);
        free(m);
}

/* ---- the process ---- */

static void add_impostor(struct lmq *m, const struct proc *p, const struct trust_proc *tp)
{
        if (m->nimp < MAX_IMPOSTORS) {
                struct impostor *im = &m->imp[m->nimp];
                im->pid = p->pid;
                im->uid_known = tp->uids_known;
                im->uid = tp->uids_known ? tp->bad_uid : p->euid;
                snprintf(im->comm, sizeof(im->comm), "%s", p->comm);
        }
        m->nimp++;
}

/* A path the broker named (-c, -D): relative ones are relative to its working directory. */
static char *broker_path(int pid, char *arg, char **why)
{
        if (!arg)
                return NULL;
        char *abs = trust_resolve_relative(pid, arg, why);
        if (!abs)
                return arg; /* kept for the message; *why says it is not used */
        free(arg);
        return abs;
}

/* The unit's MainPID vouches for the broker whoever owns it (lib/trust's identity
 * rule): asked of systemd over D-Bus ([units] bus_address, else the system bus where
 * PID 1 is systemd), within a second of the collector's time. Under --root only a
 * configured bus is asked (the fixture's stand-in), never the live host's. */
static void ask_main_pid(struct lmq *m)
{
        const char *addr = sdunit_config_address(m->c->cfg);
        if (!m->live && !*addr)
                return;
        uint64_t ms = lmq_budget_ms(m->c, 1000, 500);
        if (!ms)
                return;
        int pid = 0;
        char *why = NULL;
        m->main_pid_err = sdunit_main_pid(addr, "lavinmq.service", ms, &pid, &why);
        free(why);
        if (m->main_pid_err == 0)
                trust_set_main_pid(&m->tr, pid);
}

/* Only a process that root or the service user owns (or the lock file or the unit
 * names) is the broker; anyone can start one called lavinmq. */
static void find_broker(struct lmq *m)
{
        m->pt_err = proctable_load(&m->pt);
        if (m->pt_err < 0)
                return;
        const struct proc *best = NULL;
        enum trust_by best_by = TRUST_NOT;
        for (size_t i = 0; i < m->pt.n; i++) {
                const struct proc *p = &m->pt.v[i];
                if (p->kthread || p->state == 'Z' || p->state == 'X' || !component_named(p, "lavinmq"))
                        continue; /* a zombie is not a running broker */
                struct trust_proc tp;
                if (!trust_process(&m->tr, p->pid, &tp)) {
                        add_impostor(m, p, &tp);
                        continue;
                }
                m->nbroker++;
                /* The one named in the data dir's .lock, else the oldest (lowest pid). */
                if (!best || (m->lock_pid && p->pid == m->lock_pid && best->pid != m->lock_pid) ||
                    (best->pid != m->lock_pid && p->pid < best->pid))
                        best = p, best_by = tp.by;
        }
        if (!best)
                return;
        char path[64];
        _cleanup_free_ char *raw = NULL, *cg = NULL;
        snprintf(path, sizeof(path), "/proc/%d/cmdline", best->pid);
        long r = rootfs_read(path, 64 << 10, &raw, NULL);
        /* Asked again after its command line was read: that was still the process vouched for. */
        struct trust_proc tp;
        if (!trust_process(&m->tr, best->pid, &tp)) {
                add_impostor(m, best, &tp);
                m->nbroker--;
                return;
        }
        m->bp = best;
        m->bp_by = best_by;
        if (r > 0)
                lavinmq_cmdline(raw, (size_t)r, &m->cmd_config, &m->cmd_data_dir);
        char *why = NULL;
        m->cmd_config = broker_path(best->pid, m->cmd_config, &why);
        if (why)
                m->conf_why = why, why = NULL;
        m->cmd_data_dir = broker_path(best->pid, m->cmd_data_dir, &why);
        if (why)
                m->dd_why = why;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", best->pid);
        if (rootfs_read(path, 64 << 10, &cg, NULL) > 0)
                m->unit = unit_from_cgroup(cg);
}

/* The data dir's .lock: read under the path rule, it vouches for the pid it names. */
static void read_lock(struct lmq *m)
{
        _cleanup_free_ char *p = xasprintf("%s/.lock", m->data_dir), *text = NULL, *why = NULL;
        long r = trust_read(&m->tr, p, 4096, &text, NULL, &why);
        free(m->lock_why);
        m->lock_why = NULL;
        if (r < 0) {
                m->lock_err = (int)r;
                if (r == -EPERM)
                        m->lock_why = why, why = NULL;
                return;
        }
        m->lock_bad = lavinmq_lock_parse(text, &m->lock_pid, m->lock_host, sizeof(m->lock_host)) < 0;
        if (!m->lock_bad)
                trust_set_lock_pid(&m->tr, m->lock_pid);
}

/* ---- the config ---- */

static void read_config(struct lmq *m)
{
        const char *k = conf_str(m->c, "config");
        bool from_broker = false;
        if (*k)
                m->conf_path = xstrdup(k), m->conf_from = "[lavinmq] config";
        else if (m->cmd_config)
                m->conf_path = xstrdup(m->cmd_config), m->conf_from = "the broker's -c", from_broker = true;
        else
                m->conf_path = xstrdup(DEFAULT_CONF), m->conf_from = "default";
        lavinmq_conf_init(&m->conf);
        _cleanup_free_ char *text = NULL;
        long r;
        if (from_broker && m->conf_why) {
                r = -EPERM; /* a relative -c whose base is unknown */
        } else if (from_broker) {
                /* A path from the process: the path rule decides whether it is opened at all. */
                char *why = NULL;
                r = trust_read(&m->tr, m->conf_path, 1 << 20, &text, NULL, &why);
                if (r == -EPERM)
                        m->conf_why = why;
                else
                        free(why);
        } else {
                r = rootfs_read(m->conf_path, 1 << 20, &text, NULL); /* named by evodiag's config or its default */
        }
        m->conf_err = r < 0 ? (int)r : 0;
        if (r >= 0)
                lavinmq_conf_parse(text, &m->conf);
        /* Precedence as LavinMQ's: command line, then the file, then the default. */
        if (m->cmd_data_dir)
                m->data_dir = xstrdup(m->cmd_data_dir), m->data_dir_from = "the broker's -D";
        else
                m->data_dir = xstrdup(m->conf.data_dir), m->data_dir_from = r >= 0 ? "[main] data_dir" : "default";
        size_t l = strlen(m->data_dir);
        while (l > 1 && m->data_dir[l - 1] == '/')
                m->data_dir[--l] = 0;
        if (m->data_dir[0] != '/' && m->bp) { /* relative to the broker's working directory, as for LavinMQ */
                char *why = NULL, *abs = trust_resolve_relative(m->bp->pid, m->data_dir, &why);
                if (abs) {
                        free(m->data_dir);
                        m->data_dir = abs;
                }
                free(why);
        }
}

/* ---- the data directory ---- */

/* A subdirectory is entered only when no one but root or the service user could have
 * put it there or swapped it (the data dir itself passed the path rule). */
static bool dir_trusted(const struct lmq *m, const struct stat *st)
{
        return trust_uid(&m->tr, st->st_uid) && !(st->st_mode & S_IWOTH) && (!(st->st_mode & S_IWGRP) || st->st_gid == 0);
}

static void walk_dir(struct lmq *m, const char *dir, const char *rel, int depth, uint64_t max_entries)
{
        struct rootfs_dir *d = rootfs_opendir(dir);
        if (!d) {
                if (depth == 0)
                        m->dd_err = -errno;
                return;
        }
        size_t segs = 0;
        uint64_t bytes = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                if (m->dd_entries >= max_entries || !lmq_budget_ms(m->c, 1, 1500)) {
                        m->dd_partial = true;
                        break;
                }
                m->dd_entries++;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (rootfs_stat(p, &st, false) < 0)
                        continue;
                if (S_ISREG(st.st_mode) && startswith(de->d_name, "msgs.")) {
                        segs++;
                        bytes += (uint64_t)st.st_size;
                } else if (S_ISDIR(st.st_mode) && depth < 2 && dir_trusted(m, &st)) {
                        _cleanup_free_ char *r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
                        walk_dir(m, p, r, depth + 1, max_entries);
                }
        }
        rootfs_closedir(d);
        if (!segs)
                return;
        m->dd_dirs++;
        m->dd_segments += segs;
        m->dd_bytes += bytes;
        if (bytes >= m->dd_top_bytes) {
                free(m->dd_top);
                m->dd_top = xstrdup(rel);
                m->dd_top_bytes = bytes;
                m->dd_top_segments = segs;
        }
        if (m->dd_dirs <= 1000)
                sb_printf(&m->dd_listing, "%-83s %6zu %14" PRIu64 "\n", *rel ? rel : ".", segs, bytes);
}

void lmq_walk_data_dir(struct lmq *m)
{
        if (!m->dd_err)
                walk_dir(m, m->data_dir, "", 0, conf_uint(m->c, "walk_max"));
}

void lmq_statvfs(struct lmq *m)
{
        struct statvfs sv;
        if (statvfs(m->data_dir, &sv) < 0) { /* live only (m->live): the host's own path */
                m->vfs_err = -errno;
                return;
        }
        m->vfs_free = (uint64_t)sv.f_bavail * sv.f_frsize;
        m->vfs_total = (uint64_t)sv.f_blocks * sv.f_frsize;
}

/* ---- measurements check() and sample() take alike ---- */

int lmq_read_fds(int pid, struct lavinmq_fd_in *in)
{
        in->pid = pid;
        in->fds = proc_fd_count(pid, &in->fds_at_least);
        in->limit_err = proc_limit(pid, "Max open files", &in->soft, &in->hard);
        return in->fds < 0 ? (int)in->fds : in->limit_err;
}

void lmq_measure_fds(struct lmq *m)
{
        m->fd = (struct lavinmq_fd_in){.api_used = m->a.fd_used, .api_total = m->a.fd_total, .m_open = m->m_fds, .m_max = m->m_maxfds};
        m->fd_err = m->bp ? lmq_read_fds(m->bp->pid, &m->fd) : 0;
}

size_t lmq_disk_spaces(const struct lmq *m, struct lavinmq_space v[static 3])
{
        size_t n = 0;
        if (m->live && !m->vfs_err) {
                snprintf(v[n].src, sizeof(v[n].src), "statvfs(%s)", m->data_dir);
                v[n].free_ = m->vfs_free, v[n++].total = m->vfs_total;
        }
        if (m->a.disk_free >= 0) {
                snprintf(v[n].src, sizeof(v[n].src), "/api/nodes disk_free");
                v[n].free_ = (uint64_t)m->a.disk_free, v[n++].total = m->a.disk_total > 0 ? (uint64_t)m->a.disk_total : 0;
        }
        if (isfinite(m->m_disk)) { /* a whole number below 2^64: read_metrics checked it */
                snprintf(v[n].src, sizeof(v[n].src), "metrics disk_space_available_bytes");
                v[n].free_ = (uint64_t)m->m_disk, v[n++].total = 0;
        }
        return n;
}

void lmq_disk_rule(const struct lmq *m, struct lavinmq_disk_rule *r)
{
        const struct ctx *c = m->c;
        *r = (struct lavinmq_disk_rule){
                .ini_min = m->conf.free_disk_min,
                .ini_warn = m->conf.free_disk_warn,
                .crit_bytes = conf_uint(c, "disk_crit_bytes"),
                .warn_bytes = conf_uint(c, "disk_warn_bytes"),
                .crit_pct = conf_num(c, "disk_crit_pct"),
                .warn_pct = conf_num(c, "disk_warn_pct"),
        };
}

/* ---- one run ---- */

struct lmq *lmq_new(struct ctx *c)
{
        struct lmq *m = xcalloc(1, sizeof(*m));
        m->c = c;
        m->live = rootfs_is_live();
        trust_init(&m->tr, "lavinmq", conf_str(c, "service_user"));
        m->ctl_rule = (struct peer_rule){.t = &m->tr};
        m->api_rule = (struct peer_rule){.t = &m->tr};
        return m;
}

struct lmq *lmq_gather(struct ctx *c)
{
        struct lmq *m = lmq_new(c);
        /* The lock at the default place first: it names the broker's pid. */
        m->data_dir = xstrdup(LAVINMQ_DEFAULT_DATA_DIR);
        read_lock(m);
        ask_main_pid(m);
        find_broker(m);
        free(m->data_dir);
        m->data_dir = NULL;
        read_config(m);
        /* The data dir (the broker's -D, its config's, the default) is listed, and its
         * .lock read, only if it passes the path rule. */
        char *why = NULL;
        int r = m->dd_why ? -EPERM : trust_check_dir(&m->tr, m->data_dir, &why);
        if (r < 0) {
                m->dd_err = r;
                if (!m->dd_why)
                        m->dd_why = why, why = NULL;
                m->lock_err = r;
                m->lock_pid = 0;
                m->lock_bad = false;
                m->lock_host[0] = 0;
        } else if (!streq(m->data_dir, LAVINMQ_DEFAULT_DATA_DIR)) {
                m->lock_err = m->lock_pid = 0;
                m->lock_bad = false;
                m->lock_host[0] = 0;
                read_lock(m);
        }
        free(why);
        for (size_t i = 0; i < ARRAY_SIZE(lmq_unit_files) && !m->unit_file; i++)
                if (rootfs_exists(lmq_unit_files[i]))
                        m->unit_file = lmq_unit_files[i];
        lavinmq_api_init(&m->a);
        return m;
}

bool lavinmq_detect(struct ctx *c)
{
        /* An API evodiag's config names: the operator says a broker answers there. */
        if (*conf_str(c, "api_url"))
                return true;
        const char *k = conf_str(c, "config");
        if (rootfs_exists(*k ? k : DEFAULT_CONF) || rootfs_exists(LAVINMQ_DEFAULT_DATA_DIR "/.lock"))
                return true;
        for (size_t i = 0; i < ARRAY_SIZE(lmq_unit_files); i++)
                if (rootfs_exists(lmq_unit_files[i]))
                        return true;
        struct proctable t;
        if (proctable_load(&t) < 0)
                return false;
        bool found = false;
        for (size_t i = 0; i < t.n && !found; i++)
                found = !t.v[i].kthread && t.v[i].state != 'Z' && component_named(&t.v[i], "lavinmq");
        proctable_free(&t);
        return found;
}
