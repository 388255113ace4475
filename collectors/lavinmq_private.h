/* The lavinmq collector's own header, shared by its files and by nothing else:
 *   lavinmq.c            the collector: its checks, tunables, check() and collect()
 *   lavinmq_discover.c   the broker process (by name, vouched for by lib/trust), its
 *                        lock, config and data directory
 *   lavinmq_api.c        the management API and the metrics, over the control socket
 *                        or a port whose owner is vouched for
 *   lavinmq_checks.c     the findings of the checks
 *   lavinmq_listeners.c  listeners: configured, listening, accepting
 *   lavinmq_verdict.c    the verdicts check() and sample() share (lavinmq.h)
 *   lavinmq_bundle.c     bundle evidence: API replies, the data dir listing, the USR1 dump
 *   lavinmq_watch.c      sample() for evodiag watch
 *   lavinmq_format.c     the pure parsers (lavinmq.h) */
#pragma once
#include "collectors/collector.h"
#include "collectors/lavinmq.h"
#include "lib/http.h"
#include "lib/proctable.h"
#include "lib/trust.h"
#include "lib/util.h"

#include <sys/stat.h>

#define DEFAULT_CONF "/etc/lavinmq/lavinmq.ini"
#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"
#define API_BODY_MAX (4u << 20)
#define MAX_LISTENERS 8
#define MAX_IMPOSTORS 8

struct bundle_sink;
struct sample;

/* Where a packaged lavinmq.service may be. */
extern const char *const lmq_unit_files[3];

/* ======================================================================
 * What one run gathers: the process, the config, the API, the data dir
 * ====================================================================== */

struct reply {
        bool tried;
        char *origin;      /* "GET http://127.0.0.1:15672/api/overview", "GET /api/overview on unix socket X" */
        struct http_resp r;
        int rc;            /* http_get's return */
        char *skipped;     /* why it was not tried */
};

/* Who may receive a request (and the credentials in it): see verify_peer(). */
struct peer_rule {
        const struct trust *t;
        bool named; /* evodiag's own config names the endpoint */
};

struct impostor {
        int pid;
        unsigned uid;
        bool uid_known;
        char comm[64];
};

struct lmq {
        struct ctx *c;
        bool live;
        uint64_t timeout_cap_ms; /* watch: a request may take at most this long (0 = [lavinmq] timeout_ms) */
        /* the broker process */
        struct proctable pt;
        int pt_err;
        struct trust tr;
        int main_pid_err;      /* asking systemd for lavinmq.service's MainPID: 0 or -errno */
        const struct proc *bp; /* NULL: not running */
        enum trust_by bp_by;   /* what vouches for it */
        size_t nbroker;
        struct impostor imp[MAX_IMPOSTORS];
        size_t nimp;           /* all impostors seen; imp[] holds the first ones */
        char *unit;            /* systemd unit from /proc/PID/cgroup */
        char *cmd_config, *cmd_data_dir;
        const char *unit_file; /* an installed lavinmq.service, or NULL */
        /* config */
        char *conf_path;
        const char *conf_from;
        int conf_err;
        char *conf_why;        /* conf_err from the path rule (or a relative -c): why */
        struct lavinmq_conf conf;
        char *data_dir;
        const char *data_dir_from;
        /* data dir */
        int lock_err, lock_pid;
        char *lock_why;
        bool lock_bad;
        char lock_host[256];
        int dd_err;
        char *dd_why;          /* dd_err from the path rule: why */
        size_t dd_dirs, dd_segments, dd_entries;
        uint64_t dd_bytes, dd_top_bytes;
        size_t dd_top_segments;
        char *dd_top;
        bool dd_partial;
        struct strbuf dd_listing; /* per queue directory, for the bundle */
        /* API */
        enum lavinmq_api_state api;
        char *api_label;    /* "the control socket /tmp/lavinmqctl.sock", "http://127.0.0.1:15672" */
        char *api_sock, *api_base;
        struct peer_rule ctl_rule, api_rule;
        const struct peer_rule *api_rp; /* the rule of the transport in use */
        char *api_err;      /* what went wrong, for the findings */
        char *ctl_note;     /* the control socket was tried and refused */
        struct reply ov, nodes, metrics;
        char *nodes_err, *metrics_err;
        struct lavinmq_api a;
        /* From /metrics: NaN = not reported (or invalid, see a.invalid); else a whole
         * number below 2^64 (read_metrics checks), so (uint64_t) of it is defined. */
        double m_fds, m_maxfds, m_mfile, m_disk, m_ready, m_unacked;
        /* statvfs */
        int vfs_err;
        uint64_t vfs_free, vfs_total;
        /* open fds and their limit: /proc, the API, the metrics (lmq_measure_fds) */
        struct lavinmq_fd_in fd;
        int fd_err; /* what left /proc out */
};

/* ---- lavinmq_discover.c ---- */

/* Installed: a lavinmq.service unit file or the broker's config is there. */
static inline bool lmq_installed(const struct lmq *m)
{
        return m->unit_file || m->conf_err == 0;
}

struct lmq *lmq_new(struct ctx *c);
void lmq_free(struct lmq *m);
/* The broker (by name, vouched for), its lock, its config and data directory, the
 * unit file: what check() and sample() start from. */
struct lmq *lmq_gather(struct ctx *c);
/* The data directory's message segments per queue directory (check, bundle). */
void lmq_walk_data_dir(struct lmq *m);
/* statvfs(data_dir): the live system only. */
void lmq_statvfs(struct lmq *m);
/* m->fd and m->fd_err, after lmq_gather_api(). */
void lmq_measure_fds(struct lmq *m);
/* The broker's open fds and open-files limits from /proc (pid, fds, fds_at_least,
 * limit_err, soft, hard of *in). Returns 0, or the -errno that left the /proc use out. */
int lmq_read_fds(int pid, struct lavinmq_fd_in *in);
/* The sources of lavinmq.disk, in this order: statvfs (live), the API, the metrics. */
size_t lmq_disk_spaces(const struct lmq *m, struct lavinmq_space v[static 3]);
/* The thresholds of lavinmq.disk: [lavinmq] keys and lavinmq.ini's free_disk_*. */
void lmq_disk_rule(const struct lmq *m, struct lavinmq_disk_rule *r);
/* Milliseconds a request may take: want, but never past the collector's deadline
 * (keeping reserve_ms to report afterwards); 0 = no time left. */
uint64_t lmq_budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms);
bool lavinmq_detect(struct ctx *c);

/* ---- lavinmq_api.c ---- */

/* /api/overview, /api/nodes and /metrics, each request under the peer rule. */
void lmq_gather_api(struct lmq *m);
void lmq_reply_free(struct reply *r);
/* "127.0.0.1", "[::1]": where to reach a listener bound to bind. */
char *lmq_host_for(const char *bind);

/* ---- lavinmq_checks.c, lavinmq_listeners.c ---- */

/* One check's findings from what lmq_gather(), lmq_gather_api() and lmq_measure_fds() found. */
typedef void lmq_check_fn(struct lmq *m, struct findings *fs);
/* Every check, in the order check() reports them; NULL-terminated. */
extern lmq_check_fn *const lmq_checks[];
/* The listeners conf asks for, and whether each is in LISTEN state in pid's
 * /proc/PID/net/tcp{,6} (else /proc/net/tcp{,6}; other: the port listens on another
 * address): at most MAX_LISTENERS into out. src4/src6 (caller frees): the tables read.
 * 0, or -errno when neither table could be read. check() and watch's sample() both. */
struct lmq_listen {
        struct lavinmq_listener l;
        bool listening, other;
};
int lmq_listen_states(int pid, const struct lavinmq_conf *conf, struct lmq_listen *out, size_t *n, char **src4, char **src6);
/* lavinmq.listening, then lavinmq.connect for the listeners that listen. */
lmq_check_fn lmq_check_listeners;

/* ---- lavinmq_bundle.c, lavinmq_watch.c ---- */

/* Stores what the checks saw (m from the check() just before) and, when allowed, the USR1 dump. */
void lmq_collect(struct ctx *c, struct bundle_sink *s, const struct lmq *m);
void lavinmq_sample(struct ctx *c, struct sample *s);
void lavinmq_free_state(void *state);
