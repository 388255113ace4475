/* LavinMQ's formats as pure functions: lavinmq.ini (inih), the command line, the
 * data directory's .lock, /api/overview and /api/nodes (json-c), /proc/net/tcp
 * listeners, and LavinMQ's own mmap-need rule (COMPONENTS.md §2); the Prometheus text
 * is lib/prometheus_text's. The other lavinmq_*.c gather the inputs;
 * tests/unit/test_lavinmq.c feeds them. */
#include "config.h"
#include "collectors/lavinmq.h"
#include "lib/jsonparse.h"
#include "lib/satmath.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <json-c/json.h>
#include <strings.h>

/* ======================================================================
 * Parsers (lavinmq.h)
 * ====================================================================== */

static void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = xstrdup(v);
}

void lavinmq_conf_init(struct lavinmq_conf *c)
{
        memset(c, 0, sizeof(*c));
        c->data_dir = xstrdup(LAVINMQ_DEFAULT_DATA_DIR);
        c->control_unix_path = xstrdup(LAVINMQ_DEFAULT_CTL_SOCK);
        c->metrics_bind = xstrdup("127.0.0.1");
        c->amqp_bind = xstrdup("127.0.0.1");
        c->mgmt_bind = xstrdup("127.0.0.1");
        c->mqtt_bind = xstrdup("127.0.0.1");
        c->clustering_bind = xstrdup("127.0.0.1");
        c->metrics_port = 15692;
        c->amqp_port = 5672;
        c->amqps_port = 5671;
        c->mgmt_port = 15672;
        c->mgmts_port = 15671;
        c->mqtt_port = 1883;
        c->mqtts_port = 8883;
        c->clustering_port = 5679;
}

void lavinmq_conf_free(struct lavinmq_conf *c)
{
        free(c->data_dir);
        free(c->control_unix_path);
        free(c->metrics_bind);
        free(c->amqp_bind);
        free(c->mgmt_bind);
        free(c->mqtt_bind);
        free(c->clustering_bind);
        free(c->bad);
        memset(c, 0, sizeof(*c));
}

static bool ini_true(const char *v)
{
        return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 || streq(v, "1");
}

static void conf_port(struct lavinmq_conf *c, const char *sec, const char *key, const char *v, int *dst)
{
        int64_t n;
        if (parse_i64(v, &n) == 0 && n >= -1 && n <= 65535) {
                *dst = (int)n;
                return;
        }
        if (!c->bad)
                c->bad = xasprintf("[%s] %s = '%.40s' is not a port (-1 disables)", sec, key, v);
}

static void conf_bytes(struct lavinmq_conf *c, const char *sec, const char *key, const char *v, uint64_t *dst)
{
        int64_t n;
        if (parse_i64(v, &n) == 0) {
                *dst = n > 0 ? (uint64_t)n : 0;
                return;
        }
        if (!c->bad)
                c->bad = xasprintf("[%s] %s = '%.40s' is not a number of bytes", sec, key, v);
}

static int conf_handler(void *user, const char *sec, const char *key, const char *v)
{
        struct lavinmq_conf *c = user;
        if (!key) /* a section header (INI_CALL_HANDLER_ON_NEW_SECTION builds) */
                return 1;
        c->keys++;
        if (streq(sec, "main")) {
                if (streq(key, "data_dir"))
                        set_str(&c->data_dir, v);
                else if (streq(key, "control_unix_path"))
                        set_str(&c->control_unix_path, v);
                else if (streq(key, "metrics_http_bind"))
                        set_str(&c->metrics_bind, v);
                else if (streq(key, "metrics_http_port"))
                        conf_port(c, sec, key, v, &c->metrics_port);
                else if (streq(key, "tls_cert"))
                        c->tls = *v != 0;
                else if (streq(key, "default_password_hash") || streq(key, "default_password"))
                        c->password_hash_set = *v != 0; /* the value is a secret: only whether it is set */
                else if (streq(key, "free_disk_min"))
                        conf_bytes(c, sec, key, v, &c->free_disk_min);
                else if (streq(key, "free_disk_warn"))
                        conf_bytes(c, sec, key, v, &c->free_disk_warn);
        } else if (streq(sec, "amqp")) {
                if (streq(key, "bind"))
                        set_str(&c->amqp_bind, v);
                else if (streq(key, "port"))
                        conf_port(c, sec, key, v, &c->amqp_port);
                else if (streq(key, "tls_port"))
                        conf_port(c, sec, key, v, &c->amqps_port);
                else if (streq(key, "tls_cert")) /* deprecated place, still honoured */
                        c->tls |= *v != 0;
        } else if (streq(sec, "mgmt")) {
                if (streq(key, "bind"))
                        set_str(&c->mgmt_bind, v);
                else if (streq(key, "port"))
                        conf_port(c, sec, key, v, &c->mgmt_port);
                else if (streq(key, "tls_port"))
                        conf_port(c, sec, key, v, &c->mgmts_port);
                else if (streq(key, "tls_cert"))
                        c->tls |= *v != 0;
        } else if (streq(sec, "mqtt")) {
                c->mqtt_section = true;
                if (streq(key, "bind"))
                        set_str(&c->mqtt_bind, v);
                else if (streq(key, "port"))
                        conf_port(c, sec, key, v, &c->mqtt_port);
                else if (streq(key, "tls_port"))
                        conf_port(c, sec, key, v, &c->mqtts_port);
        } else if (streq(sec, "clustering")) {
                if (streq(key, "enabled"))
                        c->clustering = ini_true(v);
                else if (streq(key, "bind"))
                        set_str(&c->clustering_bind, v);
                else if (streq(key, "port"))
                        conf_port(c, sec, key, v, &c->clustering_port);
        }
        return 1; /* unknown keys are LavinMQ's business, not an error here */
}

int lavinmq_conf_parse(const char *text, struct lavinmq_conf *c)
{
        int r = ini_parse_string(text, conf_handler, c);
        if (r > 0 && !c->syntax_line)
                c->syntax_line = r;
        return r > 0 ? r : 0;
}

size_t lavinmq_listeners(const struct lavinmq_conf *c, struct lavinmq_listener *out, size_t max)
{
        const struct lavinmq_listener all[] = {
                {"amqp", c->amqp_bind, c->amqp_port},
                {"amqps", c->amqp_bind, c->tls ? c->amqps_port : -1},
                {"mgmt", c->mgmt_bind, c->mgmt_port},
                {"mgmts", c->mgmt_bind, c->tls ? c->mgmts_port : -1},
                /* MQTT came with LavinMQ 2: expect it only where the config mentions it. */
                {"mqtt", c->mqtt_bind, c->mqtt_section ? c->mqtt_port : -1},
                {"mqtts", c->mqtt_bind, c->mqtt_section && c->tls ? c->mqtts_port : -1},
                {"metrics", c->metrics_bind, c->metrics_port},
                {"clustering", c->clustering_bind, c->clustering ? c->clustering_port : -1},
        };
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(all) && n < max; i++)
                if (all[i].port > 0)
                        out[n++] = all[i];
        return n;
}

void lavinmq_cmdline(const char *raw, size_t len, char **conf_file, char **data_dir)
{
        *conf_file = *data_dir = NULL;
        /* A NUL-terminated copy: the last argument may lack its NUL (truncated read). */
        _cleanup_free_ char *buf = xmalloc(len + 1);
        memcpy(buf, raw, len);
        buf[len] = 0;
        const char *argv[512];
        size_t argc = 0;
        for (size_t i = 0; i < len && argc < ARRAY_SIZE(argv); i += strlen(buf + i) + 1)
                argv[argc++] = buf + i;
        for (size_t i = 1; i < argc; i++) { /* argv[0] is the program */
                const char *a = argv[i], *val = NULL;
                char **dst = NULL;
                if (streq(a, "--"))
                        break;
                if (streq(a, "-c") || streq(a, "--config") || streq(a, "-D") || streq(a, "--data-dir")) {
                        dst = a[1] == 'c' || a[2] == 'c' ? conf_file : data_dir;
                        val = i + 1 < argc ? argv[++i] : NULL;
                } else if (startswith(a, "--config=")) {
                        dst = conf_file, val = a + 9;
                } else if (startswith(a, "--data-dir=")) {
                        dst = data_dir, val = a + 11;
                } else if (startswith(a, "-c") && a[2]) {
                        dst = conf_file, val = a + 2;
                } else if (startswith(a, "-D") && a[2]) {
                        dst = data_dir, val = a + 2;
                }
                if (dst && val && *val) { /* the last one wins, as with any option parser */
                        free(*dst);
                        *dst = xstrdup(val);
                }
        }
}

int lavinmq_lock_parse(const char *text, int *pid, char *host, size_t hostlen)
{
        char h[256];
        int p, off = 0;
        if (sscanf(text, "PID %d @ %255s%n", &p, h, &off) != 2 || p <= 0)
                return -EINVAL;
        for (const char *s = text + off; *s; s++)
                if (!isspace((unsigned char)*s))
                        return -EINVAL;
        *pid = p;
        snprintf(host, hostlen, "%s", h);
        return 0;
}

void lavinmq_api_init(struct lavinmq_api *a)
{
        memset(a, 0, sizeof(*a));
        a->uptime_s = a->connections = a->channels = a->consumers = a->queues = a->exchanges = -1;
        a->messages_ready = a->messages_unacked = -1;
        a->fd_used = a->fd_total = a->mem_used = a->mem_limit = a->disk_free = a->disk_total = -1;
        a->followers = -1;
}

void lavinmq_invalid(struct lavinmq_api *a, const char *src, const char *value)
{
        if (a->ninvalid < LAVINMQ_INVALID_MAX) {
                snprintf(a->invalid[a->ninvalid].src, sizeof(a->invalid[0].src), "%s", src);
                snprintf(a->invalid[a->ninvalid].value, sizeof(a->invalid[0].value), "%s", value);
        }
        a->ninvalid++;
}

int lavinmq_metric_u64(struct lavinmq_api *a, const char *name, double d, uint64_t *out)
{
        int r = num_to_u64(d, out);
        if (r < 0) {
                char src[80], v[48];
                snprintf(src, sizeof(src), "/metrics %s", name);
                snprintf(v, sizeof(v), "%g", d);
                lavinmq_invalid(a, src, v);
        }
        return r;
}

/* A count or a size (int, whole double, or a numeric string as os_pid is): >= 0, or
 * -1 when absent or null. Anything else no broker can report (negative, fractional,
 * NaN, 1e308, a word, an object): -1 as well, and noted in a->invalid. */
static int64_t jnum(json_object *o, const char *key, const char *where, struct lavinmq_api *a)
{
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return -1;
        char shown[48];
        int64_t n = -1;
        switch (json_object_get_type(v)) {
        case json_type_int: {
                int64_t i = json_object_get_int64(v);
                /* json-c keeps integers above INT64_MAX as unsigned and clamps them here. */
                bool huge = i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX;
                if (i >= 0 && !huge)
                        return i;
                snprintf(shown, sizeof(shown), "%s", json_object_to_json_string(v));
                break;
        }
        case json_type_double: {
                double d = json_object_get_double(v);
                uint64_t u;
                if (num_to_u64(d, &u) == 0 && u <= (uint64_t)INT64_MAX)
                        return (int64_t)u;
                snprintf(shown, sizeof(shown), "%g", d);
                break;
        }
        case json_type_string: {
                const char *s = json_object_get_string(v);
                if (parse_i64(s, &n) == 0 && n >= 0)
                        return n;
                /* Kept as sent (cut): the renderers escape what they print. */
                snprintf(shown, sizeof(shown), "'%.32s%s'", s, strlen(s) > 32 ? "…" : "");
                break;
        }
        default:
                snprintf(shown, sizeof(shown), "a JSON %s", json_type_to_name(json_object_get_type(v)));
                break;
        }
        char src[80];
        snprintf(src, sizeof(src), "%s %s", where, key);
        lavinmq_invalid(a, src, shown);
        return -1;
}

static void jstr(json_object *o, const char *key, char *dst, size_t n)
{
        json_object *v;
        if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                snprintf(dst, n, "%s", json_object_get_string(v));
}

static bool jbool(json_object *o, const char *key)
{
        json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

int lavinmq_parse_overview(const char *body, size_t len, struct lavinmq_api *a, char **err)
{
        *err = NULL;
        json_object *o = json_parse_whole(body, len, err);
        if (!o)
                return -EINVAL;
        if (!json_object_is_type(o, json_type_object)) {
                *err = xasprintf("/api/overview is a JSON %s, not an object", json_type_to_name(json_object_get_type(o)));
                json_object_put(o);
                return -EINVAL;
        }
        json_object *ot = NULL, *qt = NULL;
        json_object_object_get_ex(o, "object_totals", &ot);
        json_object_object_get_ex(o, "queue_totals", &qt);
        if (!ot || !json_object_is_type(ot, json_type_object)) {
                *err = xstrdup("/api/overview has no object_totals: not a LavinMQ/RabbitMQ management API");
                json_object_put(o);
                return -EINVAL;
        }
        jstr(o, "lavinmq_version", a->version, sizeof(a->version));
        if (a->version[0])
                snprintf(a->product, sizeof(a->product), "LavinMQ");
        else {
                jstr(o, "rabbitmq_version", a->version, sizeof(a->version));
                if (a->version[0])
                        snprintf(a->product, sizeof(a->product), "RabbitMQ");
        }
        jstr(o, "product_name", a->product, sizeof(a->product));
        jstr(o, "node", a->node, sizeof(a->node));
        a->uptime_s = jnum(o, "uptime", "/api/overview", a);
        a->connections = jnum(ot, "connections", "/api/overview object_totals", a);
        a->channels = jnum(ot, "channels", "/api/overview object_totals", a);
        a->consumers = jnum(ot, "consumers", "/api/overview object_totals", a);
        a->queues = jnum(ot, "queues", "/api/overview object_totals", a);
        a->exchanges = jnum(ot, "exchanges", "/api/overview object_totals", a);
        if (qt && json_object_is_type(qt, json_type_object)) {
                a->messages_ready = jnum(qt, "messages_ready", "/api/overview queue_totals", a);
                a->messages_unacked = jnum(qt, "messages_unacknowledged", "/api/overview queue_totals", a);
        }
        json_object_put(o);
        return 0;
}

int lavinmq_parse_nodes(const char *body, size_t len, struct lavinmq_api *a, char **err)
{
        *err = NULL;
        json_object *o = json_parse_whole(body, len, err);
        if (!o)
                return -EINVAL;
        if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) == 0) {
                *err = json_object_is_type(o, json_type_array) ? xstrdup("/api/nodes is an empty array")
                                                               : xasprintf("/api/nodes is a JSON %s, not an array",
                                                                           json_type_to_name(json_object_get_type(o)));
                json_object_put(o);
                return -EINVAL;
        }
        /* This node: the one the overview named, else the first. */
        json_object *n = json_object_array_get_idx(o, 0);
        for (size_t i = 0; a->node[0] && i < json_object_array_length(o); i++) {
                char name[128] = "";
                jstr(json_object_array_get_idx(o, i), "name", name, sizeof(name));
                if (streq(name, a->node))
                        n = json_object_array_get_idx(o, i);
        }
        if (!json_object_is_type(n, json_type_object)) {
                *err = xstrdup("/api/nodes[0] is not an object");
                json_object_put(o);
                return -EINVAL;
        }
        a->fd_used = jnum(n, "fd_used", "/api/nodes", a);
        a->fd_total = jnum(n, "fd_total", "/api/nodes", a);
        a->mem_used = jnum(n, "mem_used", "/api/nodes", a);
        a->mem_limit = jnum(n, "mem_limit", "/api/nodes", a);
        a->disk_free = jnum(n, "disk_free", "/api/nodes", a);
        a->disk_total = jnum(n, "disk_total", "/api/nodes", a);
        a->admin_fields = a->fd_used >= 0 || a->disk_free >= 0;
        a->disk_alarm = jbool(n, "disk_free_alarm");
        a->mem_alarm = jbool(n, "mem_alarm");
        json_object *fl;
        if (json_object_object_get_ex(n, "followers", &fl) && json_object_is_type(fl, json_type_array))
                a->followers = (int64_t)json_object_array_length(fl);
        json_object_put(o);
        return 0;
}

static int hexval(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* "0100007F:1538": the address as the kernel prints it (32-bit words in host
 * order, so the bytes come out right when read back on the same host). */
static int parse_sockaddr(const char *s, bool v6, struct tcp_listen *t)
{
        size_t words = v6 ? 4 : 1;
        for (size_t w = 0; w < words; w++) {
                uint32_t x = 0;
                for (int i = 0; i < 8; i++) {
                        int h = hexval(s[w * 8 + i]);
                        if (h < 0)
                                return -EINVAL;
                        x = x << 4 | (uint32_t)h;
                }
                memcpy(t->addr + w * 4, &x, 4);
        }
        s += words * 8;
        if (*s != ':')
                return -EINVAL;
        unsigned port = 0;
        int i;
        for (i = 1; i <= 4; i++) {
                int h = hexval(s[i]);
                if (h < 0)
                        return -EINVAL;
                port = port << 4 | (unsigned)h;
        }
        if (s[i] && !isspace((unsigned char)s[i]))
                return -EINVAL;
        t->port = port;
        t->v6 = v6;
        return 0;
}

int tcp_listeners_parse(const char *text, bool v6, struct tcp_listen **out, size_t *bad)
{
        *out = NULL;
        *bad = 0;
        const char *nl = strchr(text, '\n');
        if (!nl || !strstr(text, "local_address") || strstr(text, "local_address") > nl)
                return -EINVAL;
        size_t n = 0, cap = 0;
        struct tcp_listen *v = NULL;
        for (const char *l = nl + 1; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
                char sl[16], local[64], rem[64], st[8];
                if (*l == '\n')
                        continue;
                if (sscanf(l, "%15s %63s %63s %7s", sl, local, rem, st) != 4 || sl[strlen(sl) - 1] != ':') {
                        (*bad)++;
                        continue;
                }
                struct tcp_listen t = {0};
                if (strlen(local) != (v6 ? 37u : 13u) || parse_sockaddr(local, v6, &t) < 0 || strlen(st) != 2) {
                        (*bad)++;
                        continue;
                }
                if (strcasecmp(st, "0A") != 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        v = xrealloc(v, cap * sizeof(*v));
                }
                v[n++] = t;
        }
        *out = v;
        return (int)n;
}

static bool addr_any(const struct tcp_listen *t)
{
        static const unsigned char zero[16];
        return !memcmp(t->addr, zero, t->v6 ? 16 : 4);
}

bool tcp_listening(const struct tcp_listen *v, size_t n, const char *bind, unsigned port)
{
        unsigned char a4[4], a6[16];
        bool is4 = bind && inet_pton(AF_INET, bind, a4) == 1;
        bool is6 = !is4 && bind && inet_pton(AF_INET6, bind, a6) == 1;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const unsigned char zero[16];
        bool bind_any = (is4 && !memcmp(a4, zero, 4)) || (is6 && !memcmp(a6, zero, 16));
        for (size_t i = 0; i < n; i++) {
                const struct tcp_listen *t = &v[i];
                if (t->port != port)
                        continue;
                /* A host name as bind (not resolved here), a wildcard on either side: the port decides. */
                if ((!is4 && !is6) || bind_any || addr_any(t))
                        return true;
                if (is4 && !t->v6 && !memcmp(t->addr, a4, 4))
                        return true;
                if (is4 && t->v6 && !memcmp(t->addr, mapped, 12) && !memcmp(t->addr + 12, a4, 4))
                        return true;
                if (is6 && t->v6 && !memcmp(t->addr, a6, 16))
                        return true;
        }
        return false;
}

uint64_t lavinmq_map_need(uint64_t connections, uint64_t consumers, uint64_t queues)
{
        uint64_t a = sat_mul_u64(connections, 2), b = sat_mul_u64(consumers, 2), q = sat_mul_u64(queues, 4);
        uint64_t s = a + b;
        if (s < a)
                return UINT64_MAX;
        return s + q < s ? UINT64_MAX : s + q;
}

