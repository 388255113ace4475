/* lavinmq: the LavinMQ message broker. Is it running, does its management API
 * answer, how close is it to its limits (open files, memory map areas, disk where
 * the messages live), are its listeners up, are messages piling up. Facts from
 * COMPONENTS.md §2 (cloudamqp/lavinmq), symptoms and remedies from the LavinMQ
 * guide. The API is read over the control socket (no credentials) when there is
 * one, else over the management port with [lavinmq] user/password. */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "collectors/sink.h"

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
        {"lavinmq.version", "The broker's version",
         "For bug reports (ISSUE.md's environment): the version /api/overview reports, else the\n"
         "first line of `lavinmq --version` run from the running broker's own binary\n"
         "(/proc/PID/exe, only when it is a lavinmq binary that passes the path rule: owned by\n"
         "root or the service user, not writable by others), under a deadline. Info; skipped\n"
         "when neither source is there.",
         .live = true},
        {"lavinmq.intrusive", "The broker survived what bundle --allow-intrusive did to it",
         "Only `evodiag bundle --allow-intrusive` acts on the broker: it sends SIGUSR1 (the GC\n"
         "statistics and fibers dump) after a pre-check, and only when the process is the broker\n"
         "by name and executable (or command line) and /proc/PID/status SigCgt shows USR1 caught;\n"
         "otherwise it sends nothing and the manifest says why. A moment after the signal it\n"
         "checks that the broker is still alive. Crit: the broker died after the signal (a\n"
         "handler that exits, or a process that stopped handling USR1 in between).\n"
         "Fix: start the broker again (systemctl start lavinmq) and read its last lines\n"
         "(journalctl -u lavinmq -n 100); report it with the bundle.",
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

/* The last check's results, for collect() in the same child (bundle): the evidence
 * stored is what the checks saw, and the API is not asked twice. */
static struct lmq *last;

static void lavinmq_check(struct ctx *c, struct findings *fs)
{
        struct lmq *m = lmq_gather(c);
        lmq_walk_data_dir(m);
        lmq_gather_api(m);
        if (m->live)
                lmq_statvfs(m);
        lmq_measure_fds(m);
        for (size_t i = 0; lmq_checks[i]; i++)
                lmq_checks[i](m, fs);
        if (last)
                lmq_free(last);
        last = m;
}

static void lavinmq_collect(struct ctx *c, struct bundle_sink *s)
{
        if (!last) {
                sink_log(s, "no check results to store");
                return;
        }
        lmq_collect(c, s, last);
        lmq_free(last);
        last = NULL;
}

const struct collector lavinmq_collector = {
        .name = "lavinmq",
        .summary = "LavinMQ broker: process, config, API, fd/map headroom, data_dir space, listeners, backlog",
        .needs = SLOW,
        .checks = checks,
        .config = config,
        .detect = lavinmq_detect,
        .absent = "no lavinmq process, lavinmq.service, /etc/lavinmq/lavinmq.ini or /var/lib/lavinmq/.lock",
        .absent_remedy = "install and start LavinMQ: systemctl start lavinmq; journalctl -u lavinmq --since \"5 minutes ago\" "
                         "(without systemd: start lavinmq -c /etc/lavinmq/lavinmq.ini and read what it prints); "
                         "ls -la /var/lib/lavinmq/.lock; df -h /var/lib/lavinmq",
        .check = lavinmq_check,
        .collect = lavinmq_collect,
        .sample = lavinmq_sample,
        .sampled = (const char *const[]){"lavinmq.process", "lavinmq.api", "lavinmq.disk", "lavinmq.fd_limit", "lavinmq.fd_usage", "lavinmq.map_headroom", "lavinmq.listening", NULL},
        .free_state = lavinmq_free_state,
};
