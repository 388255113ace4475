/* lavinmq collector: parsers and decisions, declared here so the unit tests can
 * call them. Formats from COMPONENTS.md §2 (cloudamqp/lavinmq). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"

/* LavinMQ's built-in defaults (COMPONENTS.md §2). */
#define LAVINMQ_DEFAULT_DATA_DIR "/var/lib/lavinmq"
#define LAVINMQ_DEFAULT_CTL_SOCK "/tmp/lavinmqctl.sock"

/* ---- /etc/lavinmq/lavinmq.ini ---- */

/* What evodiag needs from the broker's config. Ports: -1 (or 0) = disabled. Secrets
 * (default_password_hash, TLS keys) are never kept, only whether they are set. */
struct lavinmq_conf {
        char *data_dir;          /* [main] data_dir, default /var/lib/lavinmq */
        char *control_unix_path; /* [main] control_unix_path, default /tmp/lavinmqctl.sock */
        char *metrics_bind;      /* [main] metrics_http_bind, default 127.0.0.1 */
        int metrics_port;        /* [main] metrics_http_port, default 15692 */
        char *amqp_bind, *mgmt_bind, *mqtt_bind, *clustering_bind; /* default 127.0.0.1 */
        int amqp_port, amqps_port;   /* 5672, 5671 (TLS only with a certificate) */
        int mgmt_port, mgmts_port;   /* 15672, 15671 */
        int mqtt_port, mqtts_port;   /* 1883, 8883 */
        int clustering_port;         /* 5679 */
        bool clustering;             /* [clustering] enabled */
        bool mqtt_section;           /* an [mqtt] section or key is present */
        bool tls;                    /* [main] tls_cert set: the TLS listeners are bound */
        bool password_hash_set;      /* [main] default_password_hash (or the deprecated default_password) */
        uint64_t free_disk_min, free_disk_warn; /* [main], bytes; 0 = unset */
        int syntax_line;             /* first line inih could not parse; 0 = none */
        char *bad;                   /* first invalid value, "[amqp] port = 'x' is not a port"; NULL = none */
        unsigned keys;               /* keys read */
};
void lavinmq_conf_init(struct lavinmq_conf *c); /* LavinMQ's built-in defaults */
/* Parses the text over the defaults. Returns 0, or the first line with a syntax
 * error (the rest is still read, as LavinMQ would). */
int lavinmq_conf_parse(const char *text, struct lavinmq_conf *c);
void lavinmq_conf_free(struct lavinmq_conf *c);

/* The TCP listeners the broker should have with this config. */
struct lavinmq_listener {
        const char *name; /* "amqp", "amqps", "mgmt", "mgmts", "mqtt", "mqtts", "metrics", "clustering" */
        const char *bind;
        int port;
};
size_t lavinmq_listeners(const struct lavinmq_conf *c, struct lavinmq_listener *out, size_t max);

/* -c/--config and -D/--data-dir from a NUL-separated /proc/PID/cmdline; NULL when absent. */
void lavinmq_cmdline(const char *raw, size_t len, char **conf_file, char **data_dir);

/* "PID 123 @ host" (the data dir's .lock). 0 or -EINVAL. */
int lavinmq_lock_parse(const char *text, int *pid, char *host, size_t hostlen);

/* ---- HTTP API and Prometheus ---- */

#define LAVINMQ_INVALID_MAX 8

/* Numbers from the API; -1 = not reported. */
struct lavinmq_api {
        char product[32];      /* "LavinMQ", "RabbitMQ" */
        char version[32];
        char node[128];
        int64_t uptime_s;
        int64_t connections, channels, consumers, queues, exchanges;
        int64_t messages_ready, messages_unacked;
        int64_t fd_used, fd_total, mem_used, mem_limit, disk_free, disk_total;
        int64_t followers;     /* LavinMQ clustering: followers connected */
        bool admin_fields;     /* /api/nodes had fd_used & co (administrator tag) */
        bool disk_alarm, mem_alarm; /* RabbitMQ: disk_free_alarm, mem_alarm */
        /* Values no broker can report (a negative count, 1e308 bytes, NaN, a word): left
         * out of every verdict (the field reads -1, as if not reported) and named here. */
        struct {
                char src[80];   /* "/api/nodes disk_free", "/metrics lavinmq_mfile_count" */
                char value[64]; /* "1e+308", "-5", "NaN", "'many'", "not a number" */
        } invalid[LAVINMQ_INVALID_MAX];
        unsigned ninvalid; /* all of them, also past LAVINMQ_INVALID_MAX */
};
void lavinmq_api_init(struct lavinmq_api *a);
/* Notes an impossible value (see lavinmq_api.invalid). */
void lavinmq_invalid(struct lavinmq_api *a, const char *src, const char *value);
/* A count or size from the metrics: 0 with *out set, or -ERANGE/-EDOM (NaN, negative,
 * fractional, 2^64 and more) after noting it as invalid ("/metrics NAME"). */
int lavinmq_metric_u64(struct lavinmq_api *a, const char *name, double d, uint64_t *out);
/* 0, or -EINVAL with *err (newly allocated) saying what is wrong with the reply. */
int lavinmq_parse_overview(const char *body, size_t len, struct lavinmq_api *a, char **err);
int lavinmq_parse_nodes(const char *body, size_t len, struct lavinmq_api *a, char **err);

/* ---- /proc/net/tcp, /proc/net/tcp6 ---- */

struct tcp_listen {
        bool v6;
        unsigned char addr[16]; /* network order; v4 in the first 4 bytes */
        unsigned port;
};
/* The sockets in state LISTEN (0A). Returns how many (array in *out, free it), or
 * -EINVAL when the header is not the kernel's. *bad counts lines skipped. */
int tcp_listeners_parse(const char *text, bool v6, struct tcp_listen **out, size_t *bad);
/* Does one of v listen on port at bind (a literal address; wildcards match any)? */
bool tcp_listening(const struct tcp_listen *v, size_t n, const char *bind, unsigned port);

/* ---- decisions ---- */

/* LavinMQ's rule for the map areas it needs: connections*2 + consumers*2 + queues*4. */
uint64_t lavinmq_map_need(uint64_t connections, uint64_t consumers, uint64_t queues);

/* ---- verdicts: one function per check, called by check() and by sample() for watch,
 * so that the two can never disagree on the same numbers ---- */

/* lavinmq.process: ok while it runs; crit when it is installed (a unit file or its
 * config) but does not run; warn when its data directory keeps a .lock (or no process
 * named lavinmq is around to explain it); info when only impostors are. */
enum severity lavinmq_process_verdict(bool running, bool installed, bool lock_absent, size_t impostors);

/* The management API's state after a request (lavinmq.api). */
enum lavinmq_api_state {
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
/* lavinmq.api. http_status: the overview's status (API_HTTP_ERROR: below 500 is a warning
 * about evodiag's config, not a broken broker); broker_up: a broker process runs (an API
 * that does not answer it is crit); admin_missing: /api/nodes answered without the
 * administrator's fields (info). */
enum severity lavinmq_api_verdict(enum lavinmq_api_state st, long http_status, bool broker_up, bool admin_missing);

/* lavinmq.fd_limit's source: /proc/PID/limits, else the API's fd_total, else the
 * metrics' process_max_fds (struct lavinmq_fd_in below). Returns its name (in buf or
 * static; NULL when none reports a limit), the limit in *soft and *hard (0: unknown). */
struct lavinmq_fd_in;
const char *lavinmq_fd_limit_source(const struct lavinmq_fd_in *in, uint64_t *soft, uint64_t *hard, char buf[static 64]);
/* lavinmq.fd_limit: the soft open-files limit against the least LavinMQ wants (it warns
 * at start below 1025; [lavinmq] fd_limit_min). LIMIT_UNLIMITED is no limit. */
enum severity lavinmq_fd_limit_verdict(uint64_t soft, uint64_t min);

/* A use against a limit (open fds, memory map areas), as one source reports it. */
struct lavinmq_use {
        char src[128];  /* "/proc/42/fd", "/api/nodes fd_used/fd_total" */
        char what[32];  /* the short name watch shows: "map areas", "predicted map need" */
        uint64_t used;
        uint64_t limit; /* LIMIT_UNLIMITED: none */
        bool at_least;  /* used is a lower bound (a count that reached a bound) */
        double pct;     /* set by lavinmq_use_verdict */
};
/* What lavinmq.fd_usage measures: the broker's /proc/PID/fd against its soft limit,
 * the API's fd_used/fd_total, the metrics' process_open_fds/process_max_fds. */
struct lavinmq_fd_in {
        int pid;               /* 0: no broker process */
        long fds;              /* entries in /proc/PID/fd, or -errno */
        bool fds_at_least;
        int limit_err;         /* reading /proc/PID/limits: 0 or -errno */
        uint64_t soft, hard;   /* its open-files limits */
        int64_t api_used, api_total; /* -1: not reported */
        double m_open, m_max;  /* NaN: not reported */
};
/* The uses of lavinmq.fd_usage, in this order: /proc, API, metrics. Returns how many (<= 3). */
size_t lavinmq_fd_uses(const struct lavinmq_fd_in *in, struct lavinmq_use out[static 3]);
/* What lavinmq.map_headroom measures against vm.max_map_count: LavinMQ's own rule on the
 * API's counts, its memory-mapped files (metrics), its map areas (/proc/PID/maps). */
struct lavinmq_map_in {
        int pid;                             /* 0: no broker process */
        long maps;                           /* lines of /proc/PID/maps, or -errno */
        int64_t connections, consumers, queues; /* -1: not known */
        double mfile;                        /* lavinmq_mfile_count; NaN: not known */
};
/* The uses of lavinmq.map_headroom, in this order: predicted need, mfile, /proc. */
size_t lavinmq_map_uses(const struct lavinmq_map_in *in, uint64_t max_map_count, struct lavinmq_use out[static 3]);
/* lavinmq.fd_usage and lavinmq.map_headroom: the use with the highest percentage decides
 * (the first on a tie): crit at >= crit_pct, warn at >= warn_pct; a lower bound that is
 * below warn_pct says nothing (unknown). Sets every pct; returns the deciding use, NULL
 * when n is 0. */
const struct lavinmq_use *lavinmq_use_verdict(struct lavinmq_use *v, size_t n, double warn_pct, double crit_pct,
                                              enum severity *sev);
/* vm.max_map_count to suggest when `used` map areas are needed: LavinMQ's 1000000 at
 * least, doubled until used is at most half of it. */
uint64_t lavinmq_map_target(uint64_t max_map_count, uint64_t used);

/* The thresholds of lavinmq.disk. */
struct lavinmq_disk_rule {
        uint64_t ini_min, ini_warn;      /* lavinmq.ini's free_disk_min, free_disk_warn; 0: unset */
        uint64_t crit_bytes, warn_bytes; /* [lavinmq] disk_crit_bytes, disk_warn_bytes */
        double crit_pct, warn_pct;       /* [lavinmq] disk_crit_pct, disk_warn_pct */
};
/* Free space where the messages are, as one source reports it. */
struct lavinmq_space {
        char src[96];    /* "statvfs(/var/lib/lavinmq)", "/api/nodes disk_free" */
        uint64_t free_;
        uint64_t total;  /* 0: unknown */
};
/* lavinmq.disk when no source measured it: unknown, or info when the data directory
 * does not exist and no broker runs. */
enum severity lavinmq_disk_unmeasured(int statvfs_err, bool running);
/* One source against the thresholds; *why names the rule of lavinmq.ini that decided ("" else). */
enum severity lavinmq_disk_severity(const struct lavinmq_disk_rule *r, const struct lavinmq_space *d, const char **why);
/* lavinmq.disk: the worst source decides (most severe, then least free); the broker's
 * own disk alarm makes it crit. Returns the index of the deciding source (n > 0). */
size_t lavinmq_disk_verdict(const struct lavinmq_disk_rule *r, const struct lavinmq_space *v, size_t n, bool alarm,
                            enum severity *sev, const char **why);
