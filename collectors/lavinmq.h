/* lavinmq collector: parsers and decisions, declared here so the unit tests can
 * call them. Formats from COMPONENTS.md §2 (cloudamqp/lavinmq). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
                char value[48]; /* "1e+308", "-5", "NaN", "'many'" */
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

/* The value of metric `name` (no labels, or the first sample with labels) in
 * Prometheus text format. 0, -ENOENT, -EINVAL (a sample line with a bad value). */
int prom_value(const char *text, const char *name, double *out);

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
