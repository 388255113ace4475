/* lavinmq: the management API (/api/overview, /api/nodes) and the Prometheus metrics.
 * The control socket first (no credentials, like lavinmqctl), else the management port
 * with [lavinmq] user/password. Credentials go only where lib/trust allows: an endpoint
 * evodiag's config names (never plain http:// off this host), or a loopback port or a
 * unix socket whose server root or the service user runs. */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "lib/prometheus_text.h"
#include "lib/rootfs.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

void lmq_reply_free(struct reply *r)
{
        free(r->origin);
        free(r->skipped);
        http_resp_free(&r->r);
        memset(r, 0, sizeof(*r));
}

/* "127.0.0.1", "[::1]": where to reach a listener bound to bind. */
char *lmq_host_for(const char *bind)
{
        if (!bind || !*bind || streq(bind, "0.0.0.0") || streq(bind, "::") || streq(bind, "*") || streq(bind, "[::]"))
                return xstrdup("127.0.0.1");
        if (strchr(bind, ':') && bind[0] != '[')
                return xasprintf("[%s]", bind);
        return xstrdup(bind);
}

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
        lmq_reply_free(rp);
        _cleanup_free_ char *url = xasprintf("%s%s", base, path), *pub = http_url_public(url);
        rp->origin = sock ? xasprintf("GET %s on unix socket %s", path, sock) : xasprintf("GET %s", pub);
        uint64_t want = conf_uint(c, "timeout_ms");
        if (m->timeout_cap_ms && m->timeout_cap_ms < want)
                want = m->timeout_cap_ms;
        uint64_t t = lmq_budget_ms(c, want, m->timeout_cap_ms ? 0 : 700);
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
static enum lavinmq_api_state classify(struct lmq *m, const struct reply *rp)
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

/* The metrics evodiag uses, from the strict parser (lib/prometheus_text): a line that
 * names one of them but is not a valid sample is an invalid value, with why. */
static void read_metrics(struct lmq *m)
{
        static const char *const prefixes[] = {"lavinmq_", "rabbitmq_"};
        struct {
                const char *name;
                double *dst;
        } want[] = {
                {"process_open_fds", &m->m_fds}, {"process_max_fds", &m->m_maxfds},
                {"mfile_count", &m->m_mfile}, {"disk_space_available_bytes", &m->m_disk},
                {"queue_messages_ready", &m->m_ready}, {"queue_messages_unacked", &m->m_unacked},
        };
        struct prom_text pt;
        (void)prom_text_parse(m->metrics.r.body, m->metrics.r.len, NULL, &pt);
        size_t found = 0;
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++) {
                        _cleanup_free_ char *n = xasprintf("%s%s", prefixes[p], want[i].name);
                        double d;
                        uint64_t u;
                        const char *why = NULL;
                        int r = prom_text_value(&pt, n, &d, &why);
                        if (r == -EINVAL) { /* its line is not a sample: "not a number", a broken label */
                                _cleanup_free_ char *src = xasprintf("/metrics %s", n);
                                lavinmq_invalid(&m->a, src, why);
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
        prom_text_free(&pt);
        if (!found)
                m->metrics_err = xstrdup("no lavinmq_/rabbitmq_ process metrics in the reply");
}

void lmq_gather_api(struct lmq *m)
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
                        _cleanup_free_ char *h = lmq_host_for(m->conf.mgmt_bind);
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
                _cleanup_free_ char *h = lmq_host_for(m->conf.metrics_bind);
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
