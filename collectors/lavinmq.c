/* lavinmq: the LavinMQ message broker. Is it running, does its management API
 * answer, how close is it to its limits (open files, memory map areas, disk where
 * the messages live), are its listeners up, are messages piling up. Facts from
 * COMPONENTS.md §2 (cloudamqp/lavinmq), symptoms and remedies from the LavinMQ
 * guide. The API is read over the control socket (no credentials) when there is
 * one, else over the management port with [lavinmq] user/password. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/lavinmq.h"
#include "collectors/sink.h"
#include "lib/http.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"
#include "lib/sample.h"
#include "lib/trust.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <systemd/sd-journal.h>

#define DEFAULT_CONF "/etc/lavinmq/lavinmq.ini"
#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"
#define API_BODY_MAX (4u << 20)
#define MAX_LISTENERS 8
#define MAX_IMPOSTORS 8

static const char *const unit_files[] = {
        "/etc/systemd/system/lavinmq.service",
        "/lib/systemd/system/lavinmq.service",
        "/usr/lib/systemd/system/lavinmq.service",
};

static const struct check_info checks[] = {
        {"lavinmq.process", "LavinMQ broker process running",
         "Is a lavinmq process running (comm \"lavinmq\" or argv[0] basename lavinmq; not\n"
         "lavinmqctl)? It is crit when LavinMQ is installed (lavinmq.service unit file or\n"
         "/etc/lavinmq/lavinmq.ini present) but no broker runs: every client is refused.\n"
         "The data directory's .lock holds \"PID <pid> @ <host>\" of the last broker that took it.\n"
         "Fix (LavinMQ guide, \"LavinMQ Won't Start\"):\n"
         "  systemctl status lavinmq.service\n"
         "  journalctl -u lavinmq --since \"5 minutes ago\"\n"
         "  ls -la /var/lib/lavinmq/.lock; ls -ld /var/lib/lavinmq\n"
         "  sudo chown -R lavinmq:lavinmq /var/lib/lavinmq; df -h /var/lib/lavinmq\n"
         "then systemctl start lavinmq."},
        {"lavinmq.impostor", "A process named lavinmq that is not the broker",
         "A process is taken for the broker only when root or the broker's service user\n"
         "([lavinmq] service_user, default lavinmq) owns it (its real, effective, saved and\n"
         "file-system uids), or it is the pid in the data directory's .lock (a lock that root\n"
         "or the service user owns, in a directory nobody else can write). Anyone can start a\n"
         "process called lavinmq (exec -a lavinmq ...) with -c /etc/shadow or -D /root in\n"
         "its arguments: evodiag runs as root, so such a process is reported here and never\n"
         "used: its -c and -D are not opened, its config is not read or bundled, its data\n"
         "directory is not listed, no credentials go to the ports its config names, and it\n"
         "is never signalled. A warning: someone runs a look-alike of the broker.\n"
         "Fix: ps -o user,pid,args -p <pid>  # who started it, and why?\n"
         "If it is the real broker running as another user, set [lavinmq] service_user to\n"
         "that user in /etc/evodiag/evodiag.conf."},
        {"lavinmq.config", "LavinMQ configuration file",
         "The broker's INI file (/etc/lavinmq/lavinmq.ini, or the -c file of the running\n"
         "broker, or [lavinmq] config): data_dir, listeners ([amqp] [mgmt] [mqtt] [clustering]\n"
         "bind/port/tls_port), metrics_http_bind/port, control_unix_path. A -c taken from the\n"
         "broker's command line is read only if the file and every directory on the way are\n"
         "owned by root or the service user and not writable by others (else: warn, not read);\n"
         "a relative one is taken from the broker's working directory. A line that is not\n"
         "`key = value` or `[section]`, or a port that is not a number, is a warning: LavinMQ\n"
         "may refuse to start or ignore it. An absent file means LavinMQ's built-in defaults\n"
         "(everything on 127.0.0.1; 5672, 15672, 1883, 15692), which is fine.\n"
         "Secrets in the file (default_password_hash) are never shown; bundles redact them.\n"
         "Fix: correct the line, then systemctl reload lavinmq (HUP re-reads the file)."},
        {"lavinmq.api", "Management API answers",
         "GET /api/overview and /api/nodes (and /metrics). evodiag prefers the control socket\n"
         "(control_unix_path, default /tmp/lavinmqctl.sock: no credentials, like lavinmqctl),\n"
         "else the management port with [lavinmq] user/password from evodiag's config (never\n"
         "on the command line, never shown). The password goes only to [lavinmq] api_url (not\n"
         "over plain http:// to another host), or to a loopback port whose listening socket\n"
         "root or the service user owns (/proc/net/tcp, tcp6); a control socket is used only\n"
         "when its server is root or the service user (SO_PEERCRED). Otherwise the request is\n"
         "not made and this check warns why. Every request has a connect and a total timeout\n"
         "([lavinmq] connect_timeout_ms, timeout_ms). A broker process that does not answer is\n"
         "crit: it is hung or overloaded, and clients are likely stuck too; an API that refuses\n"
         "evodiag's credentials (401/403) is a warning about evodiag's config.\n"
         "RabbitMQ's management plugin answers the same routes: evodiag reads its overview and\n"
         "nodes the same way (rabbitmq_version, disk_free_alarm, mem_alarm); it has no control\n"
         "socket and no mfile_count, and its Prometheus metrics use the rabbitmq_ prefix.\n"
         "Fix (LavinMQ guide):\n"
         "  systemctl status lavinmq; journalctl -u lavinmq --since \"10 minutes ago\"\n"
         "  kill -USR1 $(pidof lavinmq); journalctl -eu lavinmq   # GC stats and fibers: what is stuck\n"
         "  sudo perf top -p $(pidof lavinmq)                      # screenshot before restarting\n"
         "For 401: set [lavinmq] user and password (a user with the administrator tag) in\n"
         "/etc/evodiag/evodiag.conf, or use the control socket.",
         .live = true},
        {"lavinmq.fd_limit", "Open-files limit of the broker",
         "LavinMQ raises its soft RLIMIT_NOFILE to the hard limit at start and warns when it is\n"
         "below 1025: it needs one fd per connection, two per durable queue, and some more.\n"
         "The limit comes from /proc/PID/limits (else the API's fd_total).\n"
         "Fix: the packaged lavinmq.service sets LimitNOFILE=infinity:\n"
         "  systemctl edit lavinmq   ->  [Service] LimitNOFILE=infinity\n"
         "  systemctl restart lavinmq\n"
         "Started by hand: ulimit -n 1048576 before starting it. Right now, without a restart:\n"
         "  prlimit --pid $(pidof lavinmq) --nofile=1048576:1048576\n"
         "Tunable: [lavinmq] fd_limit_min."},
        {"lavinmq.fd_usage", "Open file descriptors against the limit",
         "Open fds of the broker against its soft limit, from /proc/PID/fd (root), the API's\n"
         "fd_used/fd_total and the metrics process_open_fds/process_max_fds; the worst source\n"
         "decides. At the limit LavinMQ can accept no connection and create no queue.\n"
         "Fix: find what holds them (LavinMQ guide, \"File Descriptors\", \"Using lsof\"):\n"
         "  sudo ls -l /proc/$(pidof lavinmq)/fd | wc -l\n"
         "  sudo lsof -p $(pidof lavinmq) -i | awk '{print $8}' | sort | uniq -c   # connection leak?\n"
         "and raise the limit (see lavinmq.fd_limit). Tunables: [lavinmq] fd_warn_pct, fd_crit_pct.",
         .live = true},
        {"lavinmq.map_headroom", "Memory map areas: need and use against vm.max_map_count",
         "LavinMQ mmaps every message segment and connection buffer. Its own rule: the limit\n"
         "should exceed connections*2 + consumers*2 + queues*4 (counts from /api/overview).\n"
         "This check compares that predicted need, the broker's open memory-mapped files\n"
         "(lavinmq_mfile_count) and its current map areas (/proc/PID/maps) with\n"
         "vm.max_map_count: at the limit mmap() fails, new connections and segments fail.\n"
         "(maps.lavinmq_limit reports the static rule \"limit >= 100000\".)\n"
         "Fix (LavinMQ guide, \"Memory Map Areas\"):\n"
         "  sysctl -w vm.max_map_count=1000000\n"
         "  echo vm.max_map_count=1000000 > /etc/sysctl.d/99-lavinmq.conf\n"
         "Tunables: [lavinmq] map_warn_pct, map_crit_pct.",
         .live = true},
        {"lavinmq.disk", "Free space where the messages are stored",
         "LavinMQ stores every message on disk in data_dir; a full disk stops it accepting\n"
         "messages. Free space from statvfs(data_dir) (live only), the API's disk_free and the\n"
         "metric disk_space_available_bytes; the worst decides. Warn below [lavinmq]\n"
         "disk_warn_pct (%) or disk_warn_bytes, crit below disk_crit_pct (%) or disk_crit_bytes\n"
         "(and below free_disk_warn/free_disk_min when lavinmq.ini sets them).\n"
         "Fix (LavinMQ guide, \"Disk Space\"):\n"
         "  df -h /var/lib/lavinmq\n"
         "  du -sh /var/lib/lavinmq/*/* | sort -h | tail -20          # the largest queues\n"
         "  find /var/lib/lavinmq -name \"msgs.*\" -exec ls -l {} \\; | sort -k5 -n | tail -20\n"
         "then consume or purge the backlog, or grow the file system.",
         .live = true},
        {"lavinmq.data_dir", "Data directory: lock and message segments",
         "The data directory (-D of the broker, else [main] data_dir, else /var/lib/lavinmq):\n"
         "its .lock (\"PID <pid> @ <host>\", held with flock by the running broker) and the\n"
         "message segments <vhost>/<queue>/msgs.* (each pre-grown to segment_size and mmapped:\n"
         "one map area each). A missing data directory while the broker runs means evodiag\n"
         "looks in the wrong place (the broker got -D or LAVINMQ_DATADIR): warn.\n"
         "Fix: ls -la /var/lib/lavinmq; ps -o args -p $(pidof lavinmq). Tunable: [lavinmq] walk_max."},
        {"lavinmq.listening", "Configured listeners are listening",
         "Each TCP listener the config asks for (AMQP 5672, management 15672, MQTT 1883 when\n"
         "[mqtt] is configured, Prometheus 15692, TLS ports when tls_cert is set, clustering\n"
         "5679 when enabled; port -1 disables one) should be in LISTEN state in the broker's\n"
         "/proc/PID/net/tcp or tcp6. One that is not: clients get \"connection refused\"; the\n"
         "log says why (address in use, bad bind address, missing certificate).\n"
         "Fix: journalctl -u lavinmq | grep -iE 'listen|bind|address'; ss -ltnp 'sport = :<port>'"},
        {"lavinmq.connect", "Listeners accept connections",
         "For every listener in LISTEN state, evodiag opens a TCP connection with a timeout\n"
         "([lavinmq] connect_timeout_ms) and closes it at once (live only). A listener that is\n"
         "listening but does not accept is overloaded (full accept backlog), firewalled, or in\n"
         "another network namespace.\n"
         "Fix: ss -ltn 'sport = :<port>' (Recv-Q at Send-Q = full backlog); sudo iptables -L -n | grep <port>",
         .live = true},
        {"lavinmq.invalid_value", "The API or the metrics report an impossible number",
         "A count or size from /api/overview, /api/nodes or /metrics that no broker can have:\n"
         "negative, fractional, NaN or infinite, 2^63 and beyond (1e308 bytes free). It is left\n"
         "out of every verdict (once such a value was taken as \"0 B free\": crit), and each one\n"
         "is reported as unknown with where it came from. Something answers in the broker's\n"
         "name that is not the broker, a proxy rewrites the replies, or the broker has a bug.\n"
         "Fix: curl the URL named in the finding; compare with lavinmqctl status; report it.",
         .live = true},
        {"lavinmq.messages", "Messages building up in queues",
         "queue_totals from /api/overview: messages ready (waiting for a consumer) and\n"
         "unacknowledged (delivered, not yet acked). A growing backlog fills the disk and the\n"
         "map areas (one per segment). Warn at [lavinmq] ready_warn / unacked_warn.\n"
         "Fix (LavinMQ guide, \"Queue Message Buildup\"):\n"
         "  kill -USR1 $(pidof lavinmq); journalctl -u lavinmq | grep -A 20 \"Queue <name>\"\n"
         "  lavinmqctl list_queues     # which queues; are consumers attached, what prefetch\n"
         "then add consumers or fix the stuck one (unacked: a consumer that never acks).",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_STR("config", "", "the broker's INI file (empty: the running broker's -c, else " DEFAULT_CONF ")"),
        CONF_STR("control_socket", "", "control socket (empty: control_unix_path from lavinmq.ini, else " LAVINMQ_DEFAULT_CTL_SOCK "; none: do not use)"),
        CONF_STR("api_url", "", "management API base URL (empty: http://<[mgmt] bind>:<[mgmt] port> from lavinmq.ini)"),
        CONF_STR("metrics_url", "", "Prometheus URL (empty: http://<metrics_http_bind>:<metrics_http_port>/metrics)"),
        CONF_STR("service_user", "lavinmq", "the broker's user: its processes, files and sockets (and root's) are trusted; others named lavinmq are impostors"),
        CONF_STR("user", "guest", "management API user (not needed over the control socket)"),
        CONF_STR("password", "guest", "management API password (never printed)"),
        CONF_UINT("connect_timeout_ms", "1000", 1, 600000, "connect timeout of each request and connection test"),
        CONF_UINT("timeout_ms", "3000", 1, 600000, "total timeout of each API request"),
        CONF_UINT("fd_limit_min", "1025", 0, 1073741824, "warn when the broker's open-files limit is below this (LavinMQ warns below 1025)"),
        CONF_PCT("fd_warn_pct", "80", "warn when the broker holds this % of its open-files limit"),
        CONF_PCT("fd_crit_pct", "95", "crit when the broker holds this % of its open-files limit"),
        CONF_PCT("map_warn_pct", "75", "warn when map need or use reaches this % of vm.max_map_count"),
        CONF_PCT("map_crit_pct", "90", "crit when map need or use reaches this % of vm.max_map_count"),
        CONF_PCT("disk_warn_pct", "10", "warn when less than this % of the data_dir file system is free"),
        CONF_PCT("disk_crit_pct", "5", "crit when less than this % of the data_dir file system is free"),
        CONF_UINT("disk_warn_bytes", "1073741824", 0, 1e18, "warn when less than this many bytes are free in data_dir"),
        CONF_UINT("disk_crit_bytes", "268435456", 0, 1e18, "crit when less than this many bytes are free in data_dir"),
        CONF_UINT("ready_warn", "1000000", 0, 1e15, "warn at this many ready messages in all queues"),
        CONF_UINT("unacked_warn", "100000", 0, 1e15, "warn at this many unacknowledged messages"),
        CONF_UINT("walk_max", "20000", 1, 10000000, "inspect at most this many entries of the data directory"),
        CONF_STR("unit", "lavinmq.service", "systemd unit whose journal holds the USR1 dump"),
        CONF_STR("journal_dir", "", "read the journal from this directory instead of the system journal"),
        CONF_UINT("journal_wait_ms", "3000", 0, 600000, "bundle --allow-intrusive: wait at most this long for the USR1 dump"),
        CONF_UINT("slow_every_ms", "10000", 0, 3600000, "watch: check the disk and the API at most this often"),
        {0},
};

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

enum api_state {
        API_NOT_LIVE,       /* --root: not this host's broker */
        API_NOT_CONFIGURED, /* no control socket and no management port */
        API_OUT_OF_TIME,
        API_OK,
        API_DOWN,           /* no connection, no answer in time */
        API_REFUSED,        /* 401/403: evodiag's credentials */
        API_HTTP_ERROR,     /* another non-2xx status */
        API_BAD_REPLY,      /* not JSON, wrong shape, too large */
        API_WITHHELD,       /* the peer is not vouched for: nothing was sent */
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
        enum api_state api;
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
};

/* Milliseconds a request may take: want, but never past the collector's deadline
 * (keeping reserve_ms to report afterwards); 0 = no time left. */
static uint64_t budget_ms(const struct ctx *c, uint64_t want, uint64_t reserve_ms)
{
        if (!c->deadline_ms)
                return want;
        uint64_t now = now_ms_monotonic();
        if (now + reserve_ms + 100 >= c->deadline_ms)
                return 0;
        uint64_t left = c->deadline_ms - now - reserve_ms;
        return want < left ? want : left;
}

static void reply_free(struct reply *r)
{
        free(r->origin);
        free(r->skipped);
        http_resp_free(&r->r);
        memset(r, 0, sizeof(*r));
}

static void lmq_free(struct lmq *m)
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
        reply_free(&m->ov);
        reply_free(&m->nodes);
        reply_free(&m->metrics);
        free(m->nodes_err);
        free(m->metrics_err);
        free(m);
}

/* "127.0.0.1", "[::1]": where to reach a listener bound to bind. */
static char *host_for(const char *bind)
{
        if (!bind || !*bind || streq(bind, "0.0.0.0") || streq(bind, "::") || streq(bind, "*") || streq(bind, "[::]"))
                return xstrdup("127.0.0.1");
        if (strchr(bind, ':') && bind[0] != '[')
                return xasprintf("[%s]", bind);
        return xstrdup(bind);
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
                if (m->dd_entries >= max_entries || !budget_ms(m->c, 1, 1500)) {
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

/* ---- the API ---- */

/* Is the peer one the request (with its credentials) may go to? Evaluated by lib/http
 * once connected, before anything is sent. */
static bool verify_peer(const struct http_peer *p, void *arg, char *why, size_t whylen)
{
        const struct peer_rule *pr = arg;
        if (p->unix_socket)
                return pr->named || trust_unix_peer(pr->t, p->fd, why, whylen) == 0;
        if (pr->named) { /* evodiag's own config names it; still never in clear text off the host */
                if (p->tls || trust_ip_loopback(p->ip))
                        return true;
                snprintf(why, whylen, "plain http:// to %s, which is not this host: credentials never travel unencrypted "
                                      "(use an https:// [lavinmq] api_url)", p->ip);
                return false;
        }
        return trust_tcp_peer(pr->t, p->ip, (unsigned)p->port, why, whylen) == 0;
}

/* rule: who may answer (NULL: anyone, for requests without credentials to ports the
 * broker's config names that answer only metrics). */
static void fetch(struct lmq *m, struct reply *rp, const char *sock, const char *base, const char *path, bool auth,
                  const struct peer_rule *rule)
{
        const struct ctx *c = m->c;
        reply_free(rp);
        _cleanup_free_ char *url = xasprintf("%s%s", base, path), *pub = http_url_public(url);
        rp->origin = sock ? xasprintf("GET %s on unix socket %s", path, sock) : xasprintf("GET %s", pub);
        uint64_t want = conf_uint(c, "timeout_ms");
        if (m->timeout_cap_ms && m->timeout_cap_ms < want)
                want = m->timeout_cap_ms;
        uint64_t t = budget_ms(c, want, m->timeout_cap_ms ? 0 : 700);
        if (!t) {
                rp->skipped = xstrdup("not asked: the collector's time was up");
                return;
        }
        uint64_t ct = conf_uint(c, "connect_timeout_ms");
        struct http_req rq = {
                .url = url, .unix_socket = sock,
                .user = auth ? conf_str(c, "user") : NULL, .password = auth ? conf_str(c, "password") : NULL,
                .connect_timeout_ms = ct < t ? ct : t, .timeout_ms = t, .max_body = API_BODY_MAX,
                .verify_peer = rule ? verify_peer : NULL, .verify_arg = (void *)rule,
        };
        rp->tried = true;
        rp->rc = http_get(&rq, &rp->r);
}

/* What a reply says about the API; sets m->api_err. */
static enum api_state classify(struct lmq *m, const struct reply *rp)
{
        free(m->api_err);
        m->api_err = NULL;
        if (!rp->tried) {
                m->api_err = xstrdup(rp->skipped ? rp->skipped : "not asked");
                return API_OUT_OF_TIME;
        }
        if (rp->rc < 0) {
                m->api_err = xstrdup(rp->r.error);
                return rp->r.err == HTTP_E_TOO_LARGE ? API_BAD_REPLY : rp->r.err == HTTP_E_PEER ? API_WITHHELD : API_DOWN;
        }
        long st = rp->r.status;
        if (st == 401 || st == 403) {
                m->api_err = xasprintf("HTTP %ld: the API refused evodiag's credentials ([lavinmq] user '%s')", st,
                                       conf_str(m->c, "user"));
                return API_REFUSED;
        }
        if (st < 200 || st > 299) {
                m->api_err = xasprintf("HTTP %ld to /api/overview", st);
                return API_HTTP_ERROR;
        }
        char *err = NULL;
        if (lavinmq_parse_overview(rp->r.body, rp->r.len, &m->a, &err) < 0) {
                m->api_err = err;
                return API_BAD_REPLY;
        }
        return API_OK;
}

static void read_metrics(struct lmq *m)
{
        static const char *const prefixes[] = {"lavinmq_", "rabbitmq_"};
        const char *body = m->metrics.r.body;
        struct {
                const char *name;
                double *dst;
        } want[] = {
                {"process_open_fds", &m->m_fds}, {"process_max_fds", &m->m_maxfds},
                {"mfile_count", &m->m_mfile}, {"disk_space_available_bytes", &m->m_disk},
                {"queue_messages_ready", &m->m_ready}, {"queue_messages_unacked", &m->m_unacked},
        };
        size_t found = 0;
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++) {
                        _cleanup_free_ char *n = xasprintf("%s%s", prefixes[p], want[i].name);
                        double d;
                        uint64_t u;
                        int r = prom_value(body, n, &d);
                        if (r == -EINVAL) { /* a sample whose value is not a number at all */
                                _cleanup_free_ char *src = xasprintf("/metrics %s", n);
                                lavinmq_invalid(&m->a, src, "not a number");
                        }
                        if (r == -ENOENT)
                                continue;
                        /* NaN, negative, fractional or beyond 2^64: invalid, left out (stays NaN).
                         * What is kept is a whole number below 2^64, so casts of it are defined. */
                        if (r == 0 && lavinmq_metric_u64(&m->a, n, d, &u) == 0)
                                *want[i].dst = d;
                        found++;
                        break;
                }
        if (!found)
                m->metrics_err = xstrdup("no lavinmq_/rabbitmq_ process metrics in the reply");
}

static void gather_api(struct lmq *m)
{
        const struct ctx *c = m->c;
        m->m_fds = m->m_maxfds = m->m_mfile = m->m_disk = m->m_ready = m->m_unacked = NAN;
        if (!m->live) {
                m->api = API_NOT_LIVE;
                return;
        }
        const char *ctl = conf_str(c, "control_socket");
        m->ctl_rule.named = *ctl;
        if (!*ctl)
                ctl = m->conf.control_unix_path;
        struct stat st;
        if (*ctl && !streq(ctl, "none") && rootfs_stat(ctl, &st, true) == 0 && S_ISSOCK(st.st_mode)) {
                fetch(m, &m->ov, ctl, "http://localhost", "/api/overview", false, &m->ctl_rule);
                if (m->ov.tried && m->ov.rc < 0 && (m->ov.r.err == HTTP_E_CONNECT || m->ov.r.err == HTTP_E_PEER)) {
                        /* A stale socket file from a crashed broker, or one someone else serves: try the port. */
                        m->ctl_note = xstrdup(m->ov.r.error);
                } else {
                        m->api_sock = xstrdup(ctl);
                        m->api_base = xstrdup("http://localhost");
                        m->api_label = xasprintf("the control socket %s", ctl);
                        m->api_rp = &m->ctl_rule;
                }
        }
        if (!m->api_sock) {
                const char *u = conf_str(c, "api_url");
                m->api_rule.named = *u;
                m->api_rp = &m->api_rule;
                if (*u) {
                        m->api_base = xstrdup(u);
                } else if (m->conf.mgmt_port > 0) {
                        _cleanup_free_ char *h = host_for(m->conf.mgmt_bind);
                        m->api_base = xasprintf("http://%s:%d", h, m->conf.mgmt_port);
                }
                size_t l = m->api_base ? strlen(m->api_base) : 0;
                while (l && m->api_base[l - 1] == '/')
                        m->api_base[--l] = 0;
                if (m->api_base) {
                        m->api_label = http_url_public(m->api_base);
                        fetch(m, &m->ov, NULL, m->api_base, "/api/overview", true, &m->api_rule);
                }
        }
        if (!m->api_base) {
                m->api = API_NOT_CONFIGURED;
                m->api_err = xasprintf("no control socket at %s and the management port is disabled ([mgmt] port = %d)",
                                       *ctl ? ctl : LAVINMQ_DEFAULT_CTL_SOCK, m->conf.mgmt_port);
        } else {
                m->api = classify(m, &m->ov);
        }
        if (m->api == API_OK) {
                fetch(m, &m->nodes, m->api_sock, m->api_base, "/api/nodes", !m->api_sock, m->api_rp);
                if (!m->nodes.tried)
                        m->nodes_err = xstrdup(m->nodes.skipped);
                else if (m->nodes.rc < 0)
                        m->nodes_err = xstrdup(m->nodes.r.error);
                else if (m->nodes.r.status != 200)
                        m->nodes_err = xasprintf("HTTP %ld", m->nodes.r.status);
                else
                        lavinmq_parse_nodes(m->nodes.r.body, m->nodes.r.len, &m->a, &m->nodes_err);
        }

        /* Metrics: the Prometheus port (no auth), else through the API's transport. */
        const char *mu = conf_str(c, "metrics_url");
        _cleanup_free_ char *murl = NULL;
        if (*mu) {
                murl = xstrdup(mu);
        } else if (m->conf.metrics_port > 0) {
                _cleanup_free_ char *h = host_for(m->conf.metrics_bind);
                murl = xasprintf("http://%s:%d/metrics", h, m->conf.metrics_port);
        }
        _cleanup_free_ char *first_err = NULL;
        if (murl) {
                fetch(m, &m->metrics, NULL, murl, "", false, NULL);
                if (m->metrics.tried && m->metrics.rc == 0 && m->metrics.r.status == 200)
                        goto parse;
                first_err = m->metrics.tried ? (m->metrics.rc < 0 ? xstrdup(m->metrics.r.error)
                                                                  : xasprintf("HTTP %ld from %s", m->metrics.r.status, murl))
                                             : xstrdup(m->metrics.skipped);
        }
        if (m->api == API_OK) {
                fetch(m, &m->metrics, m->api_sock, m->api_base, "/metrics", !m->api_sock, m->api_rp);
                if (m->metrics.tried && m->metrics.rc == 0 && m->metrics.r.status == 200)
                        goto parse;
        }
        if (m->metrics.tried || first_err)
                m->metrics_err = first_err ? xstrdup(first_err)
                                           : m->metrics.rc < 0 ? xstrdup(m->metrics.r.error)
                                                               : xasprintf("HTTP %ld", m->metrics.r.status);
        return;
parse:
        read_metrics(m);
}

static struct lmq *lmq_new(struct ctx *c)
{
        struct lmq *m = xcalloc(1, sizeof(*m));
        m->c = c;
        m->live = rootfs_is_live();
        trust_init(&m->tr, "lavinmq", conf_str(c, "service_user"));
        m->ctl_rule = (struct peer_rule){.t = &m->tr};
        m->api_rule = (struct peer_rule){.t = &m->tr};
        return m;
}

static struct lmq *gather(struct ctx *c)
{
        struct lmq *m = lmq_new(c);
        /* The lock at the default place first: it names the broker's pid. */
        m->data_dir = xstrdup(LAVINMQ_DEFAULT_DATA_DIR);
        read_lock(m);
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
        for (size_t i = 0; i < ARRAY_SIZE(unit_files) && !m->unit_file; i++)
                if (rootfs_exists(unit_files[i]))
                        m->unit_file = unit_files[i];
        lavinmq_api_init(&m->a);
        return m;
}

/* ======================================================================
 * Checks
 * ====================================================================== */

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
        if (m->bp) {
                const struct proc *p = m->bp;
                f = fnd_add(fs, SEV_OK, "lavinmq.process", "lavinmq runs: pid %d, RSS %s%s%s", p->pid, fmt_bytes(p->rss, rss),
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
        bool conf = m->conf_err == 0;
        bool installed = m->unit_file || conf;
        struct strbuf why = {0};
        if (m->unit_file)
                sb_printf(&why, "%s", m->unit_file);
        if (conf)
                sb_printf(&why, "%s%s", why.len ? " and " : "", m->conf_path);
        if (installed) {
                f = fnd_add(fs, SEV_CRIT, "lavinmq.process", "lavinmq is not running, but it is installed (%s)", why.s);
        } else if (m->lock_err != -ENOENT || !m->nimp) {
                f = fnd_add(fs, SEV_WARN, "lavinmq.process", "lavinmq is not running, but its data directory %s has a .lock",
                            m->data_dir);
        } else {
                f = fnd_add(fs, SEV_INFO, "lavinmq.process", "lavinmq is not running (%zu process%s named lavinmq %s not the broker: "
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
        switch (m->api) {
        case API_NOT_LIVE:
                fnd_add(fs, SEV_SKIPPED, "lavinmq.api", "not asked: --root is not the live system");
                return;
        case API_NOT_CONFIGURED:
                f = fnd_add(fs, SEV_INFO, "lavinmq.api", "not asked: %s", m->api_err);
                fnd_remedy(f, "set [lavinmq] api_url or control_socket in /etc/evodiag/evodiag.conf");
                return;
        case API_OUT_OF_TIME:
                f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.api", "%s (%s)", m->api_err, m->api_label);
                fnd_remedy(f, "raise [lavinmq] timeout in /etc/evodiag/evodiag.conf");
                return;
        case API_WITHHELD:
                f = fnd_add(fs, SEV_WARN, "lavinmq.api", "credentials withheld from %s: %s", m->api_label, m->api_err);
                fnd_expected(f, "the management API at an address evodiag's config names, or served by %s on this host",
                             trust_who(&m->tr));
                fnd_actual(f, "%s%s%s", m->api_err, m->ctl_note ? "; control socket: " : "", m->ctl_note ? m->ctl_note : "");
                fnd_remedy(f, "ss -ltnp   # who listens there? If it is the broker, set [lavinmq] service_user to its user; or name "
                              "the API in /etc/evodiag/evodiag.conf: [lavinmq] api_url (https:// off this host)");
                fnd_evidence(f, "%s, /proc/net/tcp, /proc/net/tcp6", m->api_label);
                return;
        case API_OK: {
                const struct lavinmq_api *a = &m->a;
                bool admin = a->admin_fields || m->nodes_err;
                f = fnd_add(fs, admin ? SEV_OK : SEV_INFO, "lavinmq.api",
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
                if (!admin)
                        fnd_remedy(f, "set [lavinmq] user to a user with the administrator tag (or use the control socket)");
                fnd_evidence(f, "%s%s%s", m->ov.origin, m->nodes.origin ? ", " : "", m->nodes.origin ? m->nodes.origin : "");
                sb_free(&b);
                return;
        }
        default:
                break;
        }
        /* It did not answer as it should. */
        enum severity s;
        if (m->api == API_REFUSED)
                s = SEV_WARN;
        else if (m->api == API_HTTP_ERROR && m->ov.r.status < 500)
                s = SEV_WARN;
        else
                s = up ? SEV_CRIT : SEV_INFO;
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

struct meas {
        char src[128];
        uint64_t used, limit;
        bool at_least; /* used is a lower bound: a count that reached a bound */
};

/* The measurement with the highest percentage. */
static const struct meas *worst_meas(const struct meas *v, size_t n)
{
        const struct meas *w = NULL;
        for (size_t i = 0; i < n; i++)
                if (!w || usage_pct(v[i].used, v[i].limit) > usage_pct(w->used, w->limit))
                        w = &v[i];
        return w;
}

static void meas_text(const struct meas *v, size_t n, struct strbuf *b)
{
        for (size_t i = 0; i < n; i++) {
                const char *al = v[i].at_least ? "at least " : "";
                if (v[i].limit == LIMIT_UNLIMITED)
                        sb_printf(b, "%s%s: %s%" PRIu64 " of unlimited", i ? "; " : "", v[i].src, al, v[i].used);
                else
                        sb_printf(b, "%s%s: %s%" PRIu64 " of %" PRIu64 " (%s%.1f%%)", i ? "; " : "", v[i].src, al, v[i].used,
                                  v[i].limit, al, usage_pct(v[i].used, v[i].limit));
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

static void check_fd_limit(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        char who[96];
        uint64_t min = conf_uint(m->c, "fd_limit_min"), soft = 0, hard = 0;
        const char *src = NULL;
        char srcbuf[64];
        int r = -ENOENT;
        if (m->bp && (r = proc_limit(m->bp->pid, "Max open files", &soft, &hard)) == 0) {
                snprintf(srcbuf, sizeof(srcbuf), "/proc/%d/limits", m->bp->pid);
                src = srcbuf;
        } else if (m->a.fd_total > 0) {
                soft = (uint64_t)m->a.fd_total, hard = 0;
                src = "/api/nodes fd_total";
        } else if (isfinite(m->m_maxfds) && m->m_maxfds > 0) {
                soft = (uint64_t)m->m_maxfds, hard = 0;
                src = "metrics process_max_fds";
        }
        if (!src) {
                if (!m->bp) {
                        fnd_add(fs, SEV_INFO, "lavinmq.fd_limit", "not measured: lavinmq is not running");
                } else {
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.fd_limit", "cannot read the open-files limit of pid %d: %s",
                                    m->bp->pid, strerror(-r));
                        fnd_evidence(f, "/proc/%d/limits", m->bp->pid);
                }
                return;
        }
        bool low = soft < min;
        char lim[32];
        if (soft == LIMIT_UNLIMITED)
                snprintf(lim, sizeof(lim), "unlimited");
        else
                snprintf(lim, sizeof(lim), "%" PRIu64, soft);
        f = fnd_add(fs, low ? SEV_WARN : SEV_OK, "lavinmq.fd_limit",
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
        struct meas v[3] = {0};
        size_t n = 0;
        int perr = 0;
        char who[96];
        if (m->bp) {
                uint64_t soft, hard;
                bool al = false;
                long cnt = proc_fd_count(m->bp->pid, &al);
                int r = cnt < 0 ? (int)cnt : proc_limit(m->bp->pid, "Max open files", &soft, &hard);
                if (r == 0) {
                        snprintf(v[n].src, sizeof(v[n].src), "/proc/%d/fd", m->bp->pid);
                        v[n].at_least = al;
                        v[n].used = (uint64_t)cnt, v[n++].limit = soft;
                } else {
                        perr = r;
                }
        }
        if (m->a.fd_used >= 0 && m->a.fd_total > 0) {
                snprintf(v[n].src, sizeof(v[n].src), "/api/nodes fd_used/fd_total");
                v[n].used = (uint64_t)m->a.fd_used, v[n++].limit = (uint64_t)m->a.fd_total;
        }
        if (isfinite(m->m_fds) && isfinite(m->m_maxfds) && m->m_maxfds > 0) {
                snprintf(v[n].src, sizeof(v[n].src), "metrics process_open_fds/process_max_fds");
                v[n].used = (uint64_t)m->m_fds, v[n++].limit = (uint64_t)m->m_maxfds;
        }
        struct finding *f;
        if (!n) {
                if (!m->bp)
                        fnd_add(fs, SEV_INFO, "lavinmq.fd_usage", "not measured: lavinmq is not running");
                else if ((perr == -EACCES || perr == -EPERM) && !m->c->is_root)
                        skip_not_root(fs, "lavinmq.fd_usage", "the broker's /proc/PID/fd (and the API did not report fd_used)");
                else {
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.fd_usage", "cannot count the open fds of pid %d: %s", m->bp->pid,
                                    strerror(-perr));
                        fnd_evidence(f, "/proc/%d/fd", m->bp->pid);
                }
                return;
        }
        double w = conf_num(m->c, "fd_warn_pct"), cr = conf_num(m->c, "fd_crit_pct");
        const struct meas *x = worst_meas(v, n);
        enum severity s = usage_severity(x->used, x->limit, w, cr);
        if (x->at_least && s == SEV_OK)
                s = SEV_UNKNOWN; /* a lower bound under the threshold says nothing */
        const char *al = x->at_least ? "at least " : "";
        if (x->limit == LIMIT_UNLIMITED)
                f = fnd_add(fs, s, "lavinmq.fd_usage", "lavinmq holds %s%" PRIu64 " open files (no limit, %s)", al, x->used, x->src);
        else
                f = fnd_add(fs, s, "lavinmq.fd_usage", "lavinmq holds %s%" PRIu64 " open files of %" PRIu64 " allowed (%s%.1f%%, %s)",
                            al, x->used, x->limit, al, usage_pct(x->used, x->limit), x->src);
        fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "< %.0f%% of the open-files limit", w);
        struct strbuf b = {0};
        meas_text(v, n, &b);
        if (perr)
                sb_printf(&b, "; /proc/%d/fd: %s", m->bp->pid, perr == -EACCES || perr == -EPERM ? "needs root" : strerror(-perr));
        fnd_actual(f, "%s", b.s);
        sb_free(&b);
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
                            r == -EINVAL ? "not a number" : strerror(-r));
                fnd_evidence(f, MAX_MAP_COUNT);
                return;
        }
        struct meas v[3] = {0};
        size_t n = 0;
        int perr = 0;
        const struct lavinmq_api *a = &m->a;
        if (a->connections >= 0 && a->consumers >= 0 && a->queues >= 0) {
                snprintf(v[n].src, sizeof(v[n].src),
                         "predicted need (%" PRId64 " connections*2 + %" PRId64 " consumers*2 + %" PRId64 " queues*4)",
                         a->connections, a->consumers, a->queues);
                v[n].used = lavinmq_map_need((uint64_t)a->connections, (uint64_t)a->consumers, (uint64_t)a->queues);
                v[n++].limit = max;
        }
        if (isfinite(m->m_mfile)) {
                snprintf(v[n].src, sizeof(v[n].src), "memory-mapped files (lavinmq_mfile_count)");
                v[n].used = (uint64_t)m->m_mfile, v[n++].limit = max;
        }
        if (m->bp) {
                long cnt = proc_map_count(m->bp->pid);
                if (cnt >= 0) {
                        snprintf(v[n].src, sizeof(v[n].src), "map areas in /proc/%d/maps", m->bp->pid);
                        v[n].used = (uint64_t)cnt, v[n++].limit = max;
                } else {
                        perr = (int)cnt;
                }
        }
        if (!n) {
                if (!m->bp)
                        fnd_add(fs, SEV_INFO, "lavinmq.map_headroom", "not measured: lavinmq is not running");
                else if ((perr == -EACCES || perr == -EPERM) && !m->c->is_root)
                        skip_not_root(fs, "lavinmq.map_headroom", "the broker's /proc/PID/maps (and the API gave no counts)");
                else {
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.map_headroom", "cannot count the map areas of pid %d: %s", m->bp->pid,
                                    strerror(-perr));
                        fnd_evidence(f, "/proc/%d/maps", m->bp->pid);
                }
                return;
        }
        double w = conf_num(m->c, "map_warn_pct"), cr = conf_num(m->c, "map_crit_pct");
        const struct meas *x = worst_meas(v, n);
        enum severity s = usage_severity(x->used, x->limit, w, cr);
        f = fnd_add(fs, s, "lavinmq.map_headroom", "%s: %" PRIu64 " of vm.max_map_count %" PRIu64 " (%.1f%%)", x->src, x->used, max,
                    usage_pct(x->used, max));
        if (m->bp)
                fnd_subject(f, "%s", pidstr(m, who));
        fnd_expected(f, "< %.0f%% of vm.max_map_count", w);
        struct strbuf b = {0};
        meas_text(v, n, &b);
        if (perr)
                sb_printf(&b, "; /proc/%d/maps: %s", m->bp->pid, perr == -EACCES || perr == -EPERM ? "needs root" : strerror(-perr));
        fnd_actual(f, "%s", b.s);
        sb_free(&b);
        if (s != SEV_OK) {
                uint64_t t = map_count_target(max, true);
                while (t < UINT64_MAX / 2 && t / 2 < x->used)
                        t *= 2;
                fnd_remedy(f, "sysctl -w vm.max_map_count=%" PRIu64 " && echo vm.max_map_count=%" PRIu64
                              " > /etc/sysctl.d/99-lavinmq.conf",
                           t, t);
        }
        fnd_evidence(f, "%s%s%s%s", MAX_MAP_COUNT, n && a->queues >= 0 ? ", /api/overview" : "",
                     isfinite(m->m_mfile) ? ", /metrics" : "", m->bp ? ", /proc/PID/maps" : "");
}

struct dmeas {
        char src[96];
        uint64_t free_, total; /* total 0 = unknown */
};

static enum severity disk_severity(const struct lmq *m, const struct dmeas *d, const char **why)
{
        const struct ctx *c = m->c;
        double pct = d->total ? 100.0 * (double)d->free_ / (double)d->total : 100;
        if (m->conf.free_disk_min && d->free_ < m->conf.free_disk_min)
                return *why = "below free_disk_min of lavinmq.ini", SEV_CRIT;
        if (d->free_ < conf_uint(c, "disk_crit_bytes") || pct < conf_num(c, "disk_crit_pct"))
                return *why = "", SEV_CRIT;
        if (m->conf.free_disk_warn && d->free_ < m->conf.free_disk_warn)
                return *why = "below free_disk_warn of lavinmq.ini", SEV_WARN;
        if (d->free_ < conf_uint(c, "disk_warn_bytes") || pct < conf_num(c, "disk_warn_pct"))
                return *why = "", SEV_WARN;
        return *why = "", SEV_OK;
}

static void gather_statvfs(struct lmq *m)
{
        struct statvfs sv;
        if (statvfs(m->data_dir, &sv) < 0) { /* live only (m->live): the host's own path */
                m->vfs_err = -errno;
                return;
        }
        m->vfs_free = (uint64_t)sv.f_bavail * sv.f_frsize;
        m->vfs_total = (uint64_t)sv.f_blocks * sv.f_frsize;
}

static void check_disk(struct lmq *m, struct findings *fs)
{
        struct finding *f;
        if (!m->live) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.disk", "not measured: statvfs and the API need the live system (--root)");
                return;
        }
        struct dmeas v[3];
        size_t n = 0;
        if (!m->vfs_err) {
                snprintf(v[n].src, sizeof(v[n].src), "statvfs(%s)", m->data_dir);
                v[n].free_ = m->vfs_free, v[n++].total = m->vfs_total;
        }
        if (m->a.disk_free >= 0) {
                snprintf(v[n].src, sizeof(v[n].src), "/api/nodes disk_free");
                v[n].free_ = (uint64_t)m->a.disk_free, v[n++].total = m->a.disk_total > 0 ? (uint64_t)m->a.disk_total : 0;
        }
        if (isfinite(m->m_disk)) {
                snprintf(v[n].src, sizeof(v[n].src), "metrics disk_space_available_bytes");
                v[n].free_ = (uint64_t)m->m_disk, v[n++].total = 0;
        }
        if (!n) {
                if (m->vfs_err == -ENOENT)
                        f = fnd_add(fs, m->bp ? SEV_UNKNOWN : SEV_INFO, "lavinmq.disk", "not measured: %s does not exist%s",
                                    m->data_dir, m->bp ? "" : " (lavinmq is not running)");
                else
                        f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.disk", "cannot statvfs %s: %s", m->data_dir, strerror(-m->vfs_err));
                fnd_evidence(f, "statvfs(%s)", m->data_dir);
                return;
        }
        size_t wi = 0;
        enum severity ws = SEV_OK;
        const char *wwhy = "";
        for (size_t i = 0; i < n; i++) {
                const char *why;
                enum severity s = disk_severity(m, &v[i], &why);
                if (i == 0 || s > ws || (s == ws && v[i].free_ < v[wi].free_))
                        wi = i, ws = s, wwhy = why;
        }
        if (m->a.disk_alarm)
                ws = SEV_CRIT, wwhy = "the broker's disk_free_alarm is set";
        char fb[32], tb[32], wb[32];
        const struct dmeas *x = &v[wi];
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

struct found_listener {
        struct lavinmq_listener l;
        bool listening;
};

static int read_tcp(const struct lmq *m, bool v6, struct tcp_listen **v, size_t *n, char **src)
{
        char p[64];
        _cleanup_free_ char *text = NULL;
        long r = -ENOENT;
        if (m->bp) {
                snprintf(p, sizeof(p), "/proc/%d/net/tcp%s", m->bp->pid, v6 ? "6" : "");
                r = rootfs_read(p, 16u << 20, &text, NULL);
        }
        if (r < 0) {
                snprintf(p, sizeof(p), "/proc/net/tcp%s", v6 ? "6" : "");
                r = rootfs_read(p, 16u << 20, &text, NULL);
        }
        *src = xstrdup(p);
        if (r < 0)
                return (int)r;
        size_t bad;
        int k = tcp_listeners_parse(text, v6, v, &bad);
        if (k < 0)
                return k;
        *n = (size_t)k;
        return 0;
}

static void check_listening(struct lmq *m, struct findings *fs, struct found_listener *out, size_t *nout)
{
        struct finding *f;
        *nout = 0;
        if (!m->bp) {
                fnd_add(fs, SEV_INFO, "lavinmq.listening", "not checked: lavinmq is not running");
                return;
        }
        struct lavinmq_listener L[MAX_LISTENERS];
        size_t nl = lavinmq_listeners(&m->conf, L, MAX_LISTENERS);
        if (!nl) {
                fnd_add(fs, SEV_OK, "lavinmq.listening", "no TCP listener configured");
                return;
        }
        struct tcp_listen *v4 = NULL, *v6 = NULL;
        size_t n4 = 0, n6 = 0;
        _cleanup_free_ char *s4 = NULL, *s6 = NULL;
        int r4 = read_tcp(m, false, &v4, &n4, &s4), r6 = read_tcp(m, true, &v6, &n6, &s6);
        if (r4 < 0 && r6 < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.listening", "cannot read %s: %s", s4,
                            r4 == -EINVAL ? "not the kernel's format" : strerror(-r4));
                fnd_evidence(f, "%s, %s", s4, s6);
                free(v4);
                free(v6);
                return;
        }
        size_t missing = 0;
        struct strbuf ok = {0};
        for (size_t i = 0; i < nl; i++) {
                bool on = tcp_listening(v4, n4, L[i].bind, (unsigned)L[i].port) || tcp_listening(v6, n6, L[i].bind, (unsigned)L[i].port);
                out[(*nout)++] = (struct found_listener){L[i], on};
                if (on) {
                        sb_printf(&ok, "%s%s %s:%d", ok.len ? ", " : "", L[i].name, L[i].bind, L[i].port);
                        continue;
                }
                missing++;
                bool other = false; /* something listens on the port, on another address */
                for (size_t k = 0; k < n4 && !other; k++)
                        other = v4[k].port == (unsigned)L[i].port;
                for (size_t k = 0; k < n6 && !other; k++)
                        other = v6[k].port == (unsigned)L[i].port;
                f = fnd_add(fs, SEV_WARN, "lavinmq.listening", "%s listener %s:%d is not listening%s", L[i].name, L[i].bind,
                            L[i].port, other ? " (the port listens on another address)" : "");
                fnd_subject(f, "%s %s:%d", L[i].name, L[i].bind, L[i].port);
                fnd_expected(f, "a LISTEN socket on %s:%d", L[i].bind, L[i].port);
                fnd_actual(f, "none in %s or %s", s4, s6);
                fnd_remedy(f, "journalctl -u lavinmq | grep -iE 'listen|bind|address'; ss -ltnp 'sport = :%d'", L[i].port);
                fnd_evidence(f, "%s, %s, %s", s4, s6, m->conf_path);
        }
        if (!missing) {
                f = fnd_add(fs, SEV_OK, "lavinmq.listening", "all %zu configured listeners listen: %s", nl, ok.s);
                fnd_evidence(f, "%s, %s", s4, s6);
        }
        sb_free(&ok);
        free(v4);
        free(v6);
}

/* A TCP connect with a timeout; 0 or -errno (-ETIMEDOUT). */
static int try_connect(const char *host, int port, uint64_t timeout_ms)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        char h[INET6_ADDRSTRLEN + 2];
        snprintf(h, sizeof(h), "%s", host);
        if (h[0] == '[') {
                memmove(h, h + 1, strlen(h));
                h[strcspn(h, "]")] = 0;
        }
        if (streq(h, "localhost"))
                snprintf(h, sizeof(h), "127.0.0.1");
        if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port), len = sizeof(*a4);
        } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port), len = sizeof(*a6);
        } else {
                return -EAFNOSUPPORT; /* a host name: not resolved here (DNS could hang) */
        }
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&ss, len) == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -errno;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, (int)timeout_ms);
        if (r == 0)
                return -ETIMEDOUT;
        if (r < 0)
                return -errno;
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                return -errno;
        return -err;
}

static void check_connect(struct lmq *m, struct findings *fs, const struct found_listener *L, size_t n)
{
        struct finding *f;
        if (!m->live) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.connect", "not tried: connecting needs the live system (--root)");
                return;
        }
        if (!m->bp) {
                fnd_add(fs, SEV_INFO, "lavinmq.connect", "not tried: lavinmq is not running");
                return;
        }
        size_t tried = 0, failed = 0;
        struct strbuf ok = {0};
        for (size_t i = 0; i < n; i++) {
                if (!L[i].listening)
                        continue;
                uint64_t t = budget_ms(m->c, conf_uint(m->c, "connect_timeout_ms"), 500);
                if (!t)
                        break;
                _cleanup_free_ char *h = host_for(L[i].l.bind);
                int r = try_connect(h, L[i].l.port, t);
                if (r < 0 && streq(h, "127.0.0.1") && L[i].l.bind && strchr(L[i].l.bind, ':')) {
                        /* "::" with IPV6_V6ONLY: only ::1 reaches it. */
                        free(h);
                        h = xstrdup("[::1]");
                        r = try_connect(h, L[i].l.port, t);
                }
                if (r == -EAFNOSUPPORT)
                        continue;
                tried++;
                if (r == 0) {
                        sb_printf(&ok, "%s%s %s:%d", ok.len ? ", " : "", L[i].l.name, h, L[i].l.port);
                        continue;
                }
                failed++;
                f = fnd_add(fs, SEV_WARN, "lavinmq.connect", "%s listener %s:%d listens but a connection failed: %s", L[i].l.name, h,
                            L[i].l.port, r == -ETIMEDOUT ? "no answer in time (full accept backlog? firewall?)" : strerror(-r));
                fnd_subject(f, "%s %s:%d", L[i].l.name, L[i].l.bind, L[i].l.port);
                fnd_expected(f, "a TCP connection within %" PRIu64 " ms", t);
                fnd_actual(f, "%s", r == -ETIMEDOUT ? "timed out" : strerror(-r));
                fnd_remedy(f, "ss -ltn 'sport = :%d'   # Recv-Q at Send-Q: the accept backlog is full; sudo iptables -L -n | grep %d",
                           L[i].l.port, L[i].l.port);
                fnd_evidence(f, "connect(%s:%d)", h, L[i].l.port);
        }
        if (!failed && tried)
                fnd_add(fs, SEV_OK, "lavinmq.connect", "%zu listeners accept connections: %s", tried, ok.s);
        else if (!failed)
                fnd_add(fs, SEV_INFO, "lavinmq.connect", "not tried: no listener is listening");
        sb_free(&ok);
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

/* The last check's results, for collect() in the same child (bundle): the evidence
 * stored is what the checks saw, and the API is not asked twice. */
static struct lmq *last;

static void lavinmq_check(struct ctx *c, struct findings *fs)
{
        struct lmq *m = gather(c);
        if (!m->dd_err)
                walk_dir(m, m->data_dir, "", 0, conf_uint(c, "walk_max"));
        gather_api(m);
        if (m->live)
                gather_statvfs(m);
        check_process(m, fs);
        check_impostors(m, fs);
        check_config(m, fs);
        check_api(m, fs);
        check_invalid(m, fs);
        check_fd_limit(m, fs);
        check_fd_usage(m, fs);
        check_map_headroom(m, fs);
        check_disk(m, fs);
        check_data_dir(m, fs);
        struct found_listener L[MAX_LISTENERS];
        size_t nl;
        check_listening(m, fs, L, &nl);
        check_connect(m, fs, L, nl);
        check_messages(m, fs);
        if (last)
                lmq_free(last);
        last = m;
}

static bool lavinmq_detect(struct ctx *c)
{
        const char *k = conf_str(c, "config");
        if (rootfs_exists(*k ? k : DEFAULT_CONF) || rootfs_exists(LAVINMQ_DEFAULT_DATA_DIR "/.lock"))
                return true;
        for (size_t i = 0; i < ARRAY_SIZE(unit_files); i++)
                if (rootfs_exists(unit_files[i]))
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

/* ======================================================================
 * Bundle: API replies, the data dir listing, the USR1 dump
 * ====================================================================== */

static void put_reply(struct bundle_sink *s, const char *name, const struct reply *r)
{
        if (!r->origin)
                return; /* never asked */
        if (!r->tried) {
                sink_missing(s, name, "http", r->origin, "skipped", r->skipped);
                return;
        }
        if (r->rc < 0 && r->r.err != HTTP_E_TOO_LARGE) {
                sink_missing(s, name, "http", r->origin, r->r.err == HTTP_E_TIMEOUT ? "timeout" : "error", r->r.error);
                return;
        }
        _cleanup_free_ char *origin = xasprintf("%s -> HTTP %ld in %" PRIu64 " ms%s", r->origin, r->r.status, r->r.duration_ms,
                                                r->rc < 0 ? " (cut off: too large)" : "");
        sink_text(s, name, "http", origin, r->r.body, r->r.len);
}

static void iso_time(uint64_t usec, char buf[static 40])
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, 40 - n, ".%06uZ", (unsigned)(usec % 1000000));
}

/* The journal to read: journal_dir, else the system's. NULL with *why when there is none. */
static sd_journal *journal_open(const char *dir, char **why)
{
        sd_journal *j = NULL;
        int r = *dir ? sd_journal_open_directory(&j, dir, 0) : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0) {
                *why = xasprintf("cannot open the journal%s%s: %s", *dir ? " in " : "", dir, strerror(-r));
                return NULL;
        }
        uint64_t usage = 0;
        if (sd_journal_get_usage(j, &usage) < 0 || !usage) {
                *why = *dir ? xasprintf("no journal files in %s ([lavinmq] journal_dir)", dir)
                            : xstrdup("no journal files in /var/log/journal or /run/log/journal: systemd-journald does not run "
                                      "on this host, so the broker's stdout (where USR1 prints) is not in a journal");
                sd_journal_close(j);
                return NULL;
        }
        return j;
}

/* After the signal: the broker's journal lines since t0, until quiet or the wait ends. */
static void journal_capture(struct ctx *c, struct bundle_sink *s, sd_journal *j, const char *unit, int pid, uint64_t t0_us,
                            const char *origin)
{
        uint64_t wait = budget_ms(c, conf_uint(c, "journal_wait_ms"), 500), end = now_ms_monotonic() + wait, last_new = 0;
        struct strbuf out = {0};
        size_t lines = 0;
        char m1[128], m2[32];
        snprintf(m1, sizeof(m1), "_SYSTEMD_UNIT=%s", unit);
        snprintf(m2, sizeof(m2), "_PID=%d", pid);
        int r = sd_journal_add_match(j, m1, 0);
        if (r >= 0)
                r = sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sd_journal_add_match(j, m2, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, t0_us);
        while (r >= 0) {
                r = sd_journal_next(j);
                if (r > 0) {
                        uint64_t ts = 0;
                        const void *d;
                        size_t l;
                        if (sd_journal_get_realtime_usec(j, &ts) < 0 || ts < t0_us)
                                continue;
                        if (sd_journal_get_data(j, "MESSAGE", &d, &l) < 0 || l < 8)
                                continue;
                        if (out.len > s->artifact_max)
                                continue; /* keep draining, stop storing */
                        char t[40];
                        iso_time(ts, t);
                        sb_printf(&out, "%s %.*s\n", t, (int)(l - 8), (const char *)d + 8); /* strip "MESSAGE=" */
                        lines++;
                        last_new = now_ms_monotonic();
                        continue;
                }
                if (r < 0)
                        break;
                uint64_t now = now_ms_monotonic();
                /* The dump is printed at once: a short quiet spell after the first lines ends it. */
                if ((lines && now - last_new >= 700) || now >= end)
                        break;
                uint64_t step = end - now < 200 ? end - now : 200;
                r = sd_journal_wait(j, step * 1000);
        }
        _cleanup_free_ char *o = xasprintf("%s (%zu lines)", origin, lines);
        if (r < 0)
                sink_missing(s, "usr1-dump.txt", "journal", origin, "error", strerror(-r));
        else if (!lines) {
                _cleanup_free_ char *w = xasprintf("no line from the broker in the journal within %" PRIu64 " ms after USR1 "
                                                   "([lavinmq] journal_wait_ms); is its stdout in the journal? ls -l /proc/%d/fd/1",
                                                   wait, pid);
                sink_missing(s, "usr1-dump.txt", "journal", origin, "timeout", w);
        }
        else
                sink_text(s, "usr1-dump.txt", "journal", o, out.s, out.len);
        sb_free(&out);
}

/* stdout is a regular file: what the broker appends to it after the signal. */
static void file_capture(struct ctx *c, struct bundle_sink *s, int fd, off_t from, const char *origin)
{
        uint64_t wait = budget_ms(c, conf_uint(c, "journal_wait_ms"), 500), end = now_ms_monotonic() + wait, last_change = 0;
        off_t size = from;
        struct stat st;
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (fstat(fd, &st) == 0 && st.st_size != size) {
                        size = st.st_size;
                        last_change = now;
                }
                if ((last_change && now - last_change >= 700) || now >= end)
                        break;
                (void)poll(NULL, 0, 100);
        }
        if (size <= from) {
                sink_missing(s, "usr1-dump.txt", "file", origin, "timeout", "the broker wrote nothing to its stdout after USR1");
                return;
        }
        size_t len = (size_t)(size - from);
        if (len > s->artifact_max)
                len = s->artifact_max;
        char *buf = xmalloc(len + 1);
        ssize_t r = pread(fd, buf, len, from);
        if (r < 0)
                sink_missing(s, "usr1-dump.txt", "file", origin, "error", strerror(errno));
        else
                sink_text(s, "usr1-dump.txt", "file", origin, buf, (size_t)r);
        free(buf);
}

/* Still the broker? The pid could have been reused since the check: named lavinmq and
 * vouched for (root or the service user owns it, or the lock file names it). */
static bool still_lavinmq(const struct lmq *m, int pid)
{
        char p[64];
        _cleanup_free_ char *comm = NULL, *raw = NULL;
        snprintf(p, sizeof(p), "/proc/%d/comm", pid);
        if (rootfs_read_value(p, &comm) < 0)
                return false;
        snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
        (void)rootfs_read(p, 4096, &raw, NULL);
        struct trust_proc tp;
        return component_name_match(comm, raw, "lavinmq") && trust_process(&m->tr, pid, &tp);
}

/* A pidfd pins the process the checks saw: the signal cannot reach a later one that got
 * its pid. -errno when the kernel has none (< 5.3): then kill() after one more look. */
static int pidfd_of(int pid)
{
#ifdef SYS_pidfd_open
        long fd = syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : (int)fd;
#else
        (void)pid;
        return -ENOSYS;
#endif
}

static bool pidfd_exited(int pfd)
{
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        return poll(&p, 1, 0) > 0; /* a pidfd is readable once its process has exited */
}

static int signal_broker(int pfd, int pid, int sig)
{
#ifdef SYS_pidfd_send_signal
        if (pfd >= 0)
                return syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0 ? -errno : 0;
#endif
        (void)pfd;
        return kill(pid, sig) < 0 ? -errno : 0;
}

static void collect_usr1(struct ctx *c, struct bundle_sink *s, const struct lmq *m)
{
        const char *name = "usr1-dump.txt";
        if (!c->allow_intrusive) {
                sink_missing(s, name, "journal", "kill -USR1 <lavinmq>", "skipped",
                             "needs --allow-intrusive: evodiag signals the broker only when asked");
                return;
        }
        if (!m->live || !m->bp) {
                sink_missing(s, name, "journal", "kill -USR1 <lavinmq>", "skipped",
                             !m->live ? "not the live system (--root)" : "lavinmq is not running");
                return;
        }
        int pid = m->bp->pid;
        /* Pin it, then make sure it is still the broker evodiag vouched for, before its
         * stdout is opened or it is signalled. */
        _cleanup_close_ int pfd = pidfd_of(pid);
        if ((pfd < 0 && pfd != -ENOSYS) || !still_lavinmq(m, pid) || (pfd >= 0 && pidfd_exited(pfd))) {
                sink_missing(s, name, "journal", "kill -USR1", "skipped",
                             "the broker process went away before the signal (or its pid is no longer the broker)");
                return;
        }
        char fdp[64];
        snprintf(fdp, sizeof(fdp), "/proc/%d/fd/1", pid);
        _cleanup_free_ char *target = NULL, *why = NULL;
        (void)rootfs_readlink(fdp, &target);
        _cleanup_close_ int ofd = -1;
        struct stat st;
        const char *jdir = conf_str(c, "journal_dir");
        sd_journal *j = NULL;
        /* Where its stdout goes decides where the dump will be: a file we can read from
         * the end, else the journal (a socket to journald). Opened before the signal. */
        if (!*jdir && (ofd = open(fdp, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) >= 0 &&
            (fstat(ofd, &st) < 0 || !S_ISREG(st.st_mode))) {
                close(ofd);
                ofd = -1;
        }
        if (ofd < 0 && !(j = journal_open(jdir, &why))) {
                _cleanup_free_ char *w = xasprintf("USR1 not sent: %s; its stdout is %s. Send it yourself: kill -USR1 %d, "
                                                   "and read the output where its stdout goes",
                                                   why, target ? target : "unknown (needs root)", pid);
                sink_missing(s, name, "journal", "kill -USR1", "skipped", w);
                return;
        }
        if ((pfd >= 0 && pidfd_exited(pfd)) || (pfd < 0 && !still_lavinmq(m, pid))) {
                sink_missing(s, name, "journal", "kill -USR1", "skipped", "the broker process went away before the signal");
                if (j)
                        sd_journal_close(j);
                return;
        }
        uint64_t t0_us = now_ms_realtime() * 1000;
        off_t from = ofd >= 0 ? lseek(ofd, 0, SEEK_END) : 0;
        int kr = signal_broker(pfd, pid, SIGUSR1); /* never USR2: that forces a GC in production */
        if (kr < 0) {
                _cleanup_free_ char *w = xasprintf("kill -USR1 %d: %s", pid, strerror(-kr));
                sink_missing(s, name, "journal", "kill -USR1", "error", w);
                if (j)
                        sd_journal_close(j);
                return;
        }
        sink_log(s, "sent SIGUSR1 to pid %d (GC statistics and fibers)", pid);
        char t[40];
        iso_time(t0_us, t);
        if (ofd >= 0) {
                _cleanup_free_ char *o = xasprintf("%s (stdout of pid %d), appended after kill -USR1 at %s", target ? target : fdp, pid, t);
                file_capture(c, s, ofd, from, o);
        } else {
                const char *unit = m->unit ? m->unit : conf_str(c, "unit");
                _cleanup_free_ char *o = xasprintf("journal%s%s: _SYSTEMD_UNIT=%s or _PID=%d since %s (kill -USR1 %d)", *jdir ? " " : "",
                                                   jdir, unit, pid, t, pid);
                journal_capture(c, s, j, unit, pid, t0_us, o);
                sd_journal_close(j);
        }
}

static void lavinmq_collect(struct ctx *c, struct bundle_sink *s)
{
        struct lmq *m = last;
        if (!m) {
                sink_log(s, "no check results to store");
                return;
        }
        /* lavinmq.ini and the data dir's .lock are stored already: check() read them
         * through rootfs (redacted, at host/<path>, or with the errno of the failed read). */
        if (m->unit_file)
                sink_file(s, m->unit_file);
        put_reply(s, "api-overview.json", &m->ov);
        put_reply(s, "api-nodes.json", &m->nodes);
        put_reply(s, "metrics.txt", &m->metrics);
        if (!m->dd_err) {
                struct strbuf b = {0};
                sb_printf(&b, "# %s: message segments (msgs.*) per queue directory%s\n# %-81s %6s %14s\n%s", m->data_dir,
                          m->dd_partial ? " (partial: stopped early)" : "", "directory", "msgs", "bytes",
                          m->dd_listing.s ? m->dd_listing.s : "");
                sb_printf(&b, "# total: %zu segments, %" PRIu64 " bytes in %zu directories\n", m->dd_segments, m->dd_bytes, m->dd_dirs);
                sink_text(s, "data_dir.txt", "derived", m->data_dir, b.s, b.len);
                sb_free(&b);
        }
        collect_usr1(c, s, m);
        lmq_free(m);
        last = NULL;
}

/* ======================================================================
 * Watch
 * ====================================================================== */

struct lstate {
        int pid;
        char comm[64];
        bool installed;
        uint64_t last_find_ms, last_slow_ms;
        bool slow_done;
        struct lavinmq_conf conf;
        char *conf_path, *data_dir, *unit;
        /* the slow part's last verdicts, repeated every sample */
        enum severity disk_sev, api_sev;
        char *disk_msg, *api_msg;
        int64_t connections, consumers, queues;
        double mfile;
};

/* Finds the broker and its config again (first sample, or the broker went away). */
static void sample_find(struct ctx *c, struct lstate *st)
{
        struct lmq *m = gather(c);
        st->pid = m->bp ? m->bp->pid : 0;
        snprintf(st->comm, sizeof(st->comm), "%s", m->bp ? m->bp->comm : "");
        st->installed = m->unit_file || m->conf_err == 0;
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
}

static void set_msg(char **dst, char *msg)
{
        free(*dst);
        *dst = msg;
}

/* Disk and API: every slow_every_ms, each request bounded by the interval. */
static void sample_slow(struct ctx *c, struct lstate *st, struct sample *s)
{
        struct lmq *m = lmq_new(c);
        m->conf = st->conf;
        m->conf_path = xstrdup(st->conf_path);
        m->data_dir = xstrdup(st->data_dir);
        /* Requests get at most half an interval: a sample must never hold up the next. */
        m->timeout_cap_ms = c->interval_ms / 2 > 250 ? c->interval_ms / 2 : 250;
        lavinmq_api_init(&m->a);
        gather_api(m);
        if (m->live)
                gather_statvfs(m);
        char b[32];
        /* API */
        if (m->api == API_OK) {
                st->api_sev = SEV_OK;
                set_msg(&st->api_msg, xasprintf("API answers in %" PRIu64 " ms", m->ov.r.duration_ms));
                sample_value(s, "lavinmq.api_ms", NULL, (double)m->ov.r.duration_ms, "ms");
                sample_value(s, "lavinmq.connections", NULL, (double)m->a.connections, NULL);
                sample_value(s, "lavinmq.queues", NULL, (double)m->a.queues, NULL);
                if (m->a.messages_ready >= 0) {
                        sample_value(s, "lavinmq.messages_ready", NULL, (double)m->a.messages_ready, NULL);
                        sample_value(s, "lavinmq.messages_unacked", NULL, (double)m->a.messages_unacked, NULL);
                }
        } else if (m->api == API_NOT_LIVE || m->api == API_NOT_CONFIGURED) {
                st->api_sev = SEV_SKIPPED;
                set_msg(&st->api_msg, xstrdup(m->api_err ? m->api_err : "not asked"));
        } else {
                st->api_sev = m->api == API_REFUSED ? SEV_WARN : st->pid ? SEV_CRIT : SEV_INFO;
                set_msg(&st->api_msg, xasprintf("API: %s", m->api_err ? m->api_err : "no answer"));
        }
        st->connections = m->a.connections, st->consumers = m->a.consumers, st->queues = m->a.queues;
        st->mfile = m->m_mfile;
        if (isfinite(m->m_mfile))
                sample_value(s, "lavinmq.mfile_count", NULL, m->m_mfile, NULL);
        /* Disk */
        struct dmeas d = {.free_ = m->vfs_free, .total = m->vfs_total};
        if (m->live && !m->vfs_err) {
                const char *why;
                st->disk_sev = disk_severity(m, &d, &why);
                set_msg(&st->disk_msg, xasprintf("%s free in %s%s%s", fmt_bytes(d.free_, b), st->data_dir, *why ? ": " : "", why));
                sample_value(s, "lavinmq.disk_free_bytes", st->data_dir, (double)d.free_, "B");
        } else {
                st->disk_sev = SEV_SKIPPED;
                set_msg(&st->disk_msg, m->live ? xasprintf("cannot statvfs %s: %s", st->data_dir, strerror(-m->vfs_err))
                                               : xstrdup("not measured under --root"));
        }
        memset(&m->conf, 0, sizeof(m->conf)); /* borrowed from the state */
        lmq_free(m);
}

static void lavinmq_sample(struct ctx *c, struct sample *s)
{
        struct lstate *st = c->state;
        uint64_t now = now_ms_monotonic();
        if (!st) {
                st = c->state = xcalloc(1, sizeof(*st));
                lavinmq_conf_init(&st->conf);
                st->connections = st->consumers = st->queues = -1;
                st->mfile = NAN;
        }
        /* The broker: look again when it went away, at most every 5 s (a process scan is not free). */
        if ((!st->pid || !proc_exists(st->pid)) && (!st->last_find_ms || now - st->last_find_ms >= 5000)) {
                sample_find(c, st);
                st->last_find_ms = now;
        } else if (st->pid && !proc_exists(st->pid)) {
                st->pid = 0;
        }
        char who[96];
        snprintf(who, sizeof(who), "pid %d %s", st->pid, st->comm);
        if (!st->pid) {
                sample_status(s, "lavinmq.process", NULL, st->installed ? SEV_CRIT : SEV_INFO, "lavinmq is not running");
        } else {
                sample_status(s, "lavinmq.process", who, SEV_OK, "lavinmq runs (pid %d)", st->pid);
                uint64_t soft = 0, hard = 0, max = 0;
                bool al = false;
                long fds = proc_fd_count(st->pid, &al);
                if (fds >= 0 && proc_limit(st->pid, "Max open files", &soft, &hard) == 0) {
                        sample_value(s, "lavinmq.open_fds", who, (double)fds, NULL);
                        sample_value(s, "lavinmq.fd_limit", who, soft == LIMIT_UNLIMITED ? 0 : (double)soft, NULL);
                        enum severity sev = usage_severity((uint64_t)fds, soft, conf_num(c, "fd_warn_pct"), conf_num(c, "fd_crit_pct"));
                        if (al && sev == SEV_OK)
                                sev = SEV_UNKNOWN;
                        sample_status(s, "lavinmq.fd_usage", who, sev, "%s%ld of %" PRIu64 " open files (%s%.1f%%)", al ? "at least " : "",
                                      fds, soft, al ? "at least " : "", usage_pct((uint64_t)fds, soft));
                }
                long maps = proc_map_count(st->pid);
                if (rootfs_read_u64(MAX_MAP_COUNT, &max) == 0 && max) {
                        uint64_t used = maps > 0 ? (uint64_t)maps : 0;
                        const char *what = "map areas";
                        if (st->queues >= 0 && st->connections >= 0 && st->consumers >= 0) {
                                uint64_t need = lavinmq_map_need((uint64_t)st->connections, (uint64_t)st->consumers, (uint64_t)st->queues);
                                if (need > used)
                                        used = need, what = "predicted map need";
                        }
                        if (isfinite(st->mfile) && (uint64_t)st->mfile > used)
                                used = (uint64_t)st->mfile, what = "memory-mapped files";
                        if (maps >= 0)
                                sample_value(s, "lavinmq.map_areas", who, (double)maps, NULL);
                        if (maps >= 0 || used)
                                sample_status(s, "lavinmq.map_headroom", who,
                                              usage_severity(used, max, conf_num(c, "map_warn_pct"), conf_num(c, "map_crit_pct")),
                                              "%s %" PRIu64 " of vm.max_map_count %" PRIu64 " (%.1f%%)", what, used, max,
                                              usage_pct(used, max));
                }
                char p[64];
                _cleanup_free_ char *status = NULL;
                snprintf(p, sizeof(p), "/proc/%d/status", st->pid);
                if (rootfs_read(p, 64 << 10, &status, NULL) > 0) {
                        struct kvlist kv;
                        uint64_t rss;
                        kv_parse(status, ':', &kv);
                        if (kv_get_u64(&kv, "VmRSS", &rss) == 0)
                                sample_value(s, "lavinmq.rss_bytes", who, (double)rss, "B");
                        kv_free(&kv);
                }
        }
        uint64_t every = conf_uint(c, "slow_every_ms");
        if (!st->slow_done || now - st->last_slow_ms >= every) {
                sample_slow(c, st, s);
                st->slow_done = true;
                st->last_slow_ms = now;
        }
        if (st->api_msg)
                sample_status(s, "lavinmq.api", NULL, st->api_sev, "%s", st->api_msg);
        if (st->disk_msg)
                sample_status(s, "lavinmq.disk", st->data_dir, st->disk_sev, "%s", st->disk_msg);
}

const struct collector lavinmq_collector = {
        .name = "lavinmq",
        .summary = "LavinMQ broker: process, config, API, fd/map headroom, data_dir space, listeners, backlog",
        .needs = SLOW,
        .checks = checks,
        .config = config,
        .detect = lavinmq_detect,
        .check = lavinmq_check,
        .collect = lavinmq_collect,
        .sample = lavinmq_sample,
};
