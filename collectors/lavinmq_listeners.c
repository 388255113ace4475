/* lavinmq: its listeners. Every TCP listener the config asks for should be in LISTEN
 * state in the broker's /proc/PID/net/tcp{,6} (lavinmq.listening), and accept a
 * connection, closed at once (lavinmq.connect, live only). */
#include "config.h"
#include "collectors/lavinmq_private.h"
#include "lib/rootfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int read_tcp(int pid, bool v6, struct tcp_listen **v, size_t *n, char **src)
{
        char p[64];
        _cleanup_free_ char *text = NULL;
        long r = -ENOENT;
        if (pid > 0) {
                snprintf(p, sizeof(p), "/proc/%d/net/tcp%s", pid, v6 ? "6" : "");
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

int lmq_listen_states(int pid, const struct lavinmq_conf *conf, struct lmq_listen *out, size_t *nout, char **src4, char **src6)
{
        struct lavinmq_listener L[MAX_LISTENERS];
        size_t nl = lavinmq_listeners(conf, L, MAX_LISTENERS);
        struct tcp_listen *v4 = NULL, *v6 = NULL;
        size_t n4 = 0, n6 = 0;
        *nout = 0;
        *src4 = *src6 = NULL;
        int r4 = read_tcp(pid, false, &v4, &n4, src4), r6 = read_tcp(pid, true, &v6, &n6, src6);
        if (r4 < 0 && r6 < 0) {
                free(v4);
                free(v6);
                return r4;
        }
        for (size_t i = 0; i < nl; i++) {
                bool on = tcp_listening(v4, n4, L[i].bind, (unsigned)L[i].port) || tcp_listening(v6, n6, L[i].bind, (unsigned)L[i].port);
                bool other = false; /* something listens on the port, on another address */
                for (size_t k = 0; k < n4 && !other && !on; k++)
                        other = v4[k].port == (unsigned)L[i].port;
                for (size_t k = 0; k < n6 && !other && !on; k++)
                        other = v6[k].port == (unsigned)L[i].port;
                out[(*nout)++] = (struct lmq_listen){L[i], on, other};
        }
        free(v4);
        free(v6);
        return 0;
}

static void check_listening(struct lmq *m, struct findings *fs, struct lmq_listen *out, size_t *nout)
{
        struct finding *f;
        *nout = 0;
        if (!m->bp) {
                fnd_add(fs, SEV_INFO, "lavinmq.listening", "not checked: no lavinmq process on this host");
                return;
        }
        struct lavinmq_listener L[MAX_LISTENERS];
        if (!lavinmq_listeners(&m->conf, L, MAX_LISTENERS)) {
                fnd_add(fs, SEV_OK, "lavinmq.listening", "no TCP listener configured");
                return;
        }
        _cleanup_free_ char *s4 = NULL, *s6 = NULL;
        int r = lmq_listen_states(m->bp->pid, &m->conf, out, nout, &s4, &s6);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "lavinmq.listening", "cannot read %s: %s", s4,
                            r == -EINVAL ? "not the kernel's format" : strerror(-r));
                fnd_evidence(f, "%s, %s", s4, s6);
                return;
        }
        size_t missing = 0;
        struct strbuf ok = {0};
        for (size_t i = 0; i < *nout; i++) {
                const struct lavinmq_listener *l = &out[i].l;
                if (out[i].listening) {
                        sb_printf(&ok, "%s%s %s:%d", ok.len ? ", " : "", l->name, l->bind, l->port);
                        continue;
                }
                missing++;
                f = fnd_add(fs, SEV_WARN, "lavinmq.listening", "%s listener %s:%d is not listening%s", l->name, l->bind,
                            l->port, out[i].other ? " (the port listens on another address)" : "");
                fnd_subject(f, "%s %s:%d", l->name, l->bind, l->port);
                fnd_expected(f, "a LISTEN socket on %s:%d", l->bind, l->port);
                fnd_actual(f, "none in %s or %s", s4, s6);
                fnd_remedy(f, "journalctl -u lavinmq | grep -iE 'listen|bind|address' (without journald: the broker's stdout or log "
                              "file); ss -ltnp 'sport = :%d'", l->port);
                fnd_evidence(f, "%s, %s, %s", s4, s6, m->conf_path);
        }
        if (!missing) {
                f = fnd_add(fs, SEV_OK, "lavinmq.listening", "all %zu configured listeners listen: %s", *nout, ok.s);
                fnd_evidence(f, "%s, %s", s4, s6);
        }
        sb_free(&ok);
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

static void check_connect(struct lmq *m, struct findings *fs, const struct lmq_listen *L, size_t n)
{
        struct finding *f;
        if (!m->live) {
                fnd_add(fs, SEV_SKIPPED, "lavinmq.connect", "not tried: connecting needs the live system (--root)");
                return;
        }
        if (!m->bp) {
                fnd_add(fs, SEV_INFO, "lavinmq.connect", "not tried: no lavinmq process on this host");
                return;
        }
        size_t tried = 0, failed = 0;
        struct strbuf ok = {0};
        for (size_t i = 0; i < n; i++) {
                if (!L[i].listening)
                        continue;
                uint64_t t = lmq_budget_ms(m->c, conf_uint(m->c, "connect_timeout_ms"), 500);
                if (!t)
                        break;
                _cleanup_free_ char *h = lmq_host_for(L[i].l.bind);
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

void lmq_check_listeners(struct lmq *m, struct findings *fs)
{
        struct lmq_listen L[MAX_LISTENERS];
        size_t nl;
        check_listening(m, fs, L, &nl);
        check_connect(m, fs, L, nl);
}
