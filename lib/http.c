#include "config.h"
#include "lib/http.h"
#include "lib/curl_api.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct body {
        struct strbuf b;
        size_t max;
        bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
        struct body *bd = arg;
        size_t len = size * n;
        if (bd->b.len + len > bd->max) {
                /* Keep what fits (evidence of what was coming), then stop the transfer:
                 * a broken component must not fill our memory. */
                sb_putn(&bd->b, p, bd->max - bd->b.len);
                bd->too_large = true;
                return 0;
        }
        sb_putn(&bd->b, p, len);
        return len;
}

const char *http_error_name(enum http_error e)
{
        switch (e) {
        case HTTP_OK: return "ok";
        case HTTP_E_CONNECT: return "connect";
        case HTTP_E_TIMEOUT: return "timeout";
        case HTTP_E_TOO_LARGE: return "too_large";
        case HTTP_E_PEER: return "untrusted_peer";
        case HTTP_E_OTHER: break;
        }
        return "error";
}

char *http_url_public(const char *url)
{
        if (!url)
                return xstrdup("");
        const char *scheme = strstr(url, "://");
        const char *host = scheme ? scheme + 3 : url;
        size_t hostlen = strcspn(host, "/?#");
        const char *at = memchr(host, '@', hostlen);
        for (const char *p = at; p && p < host + hostlen; p++) /* the last @ ends the userinfo */
                if (*p == '@')
                        at = p;
        if (!at)
                return xstrdup(url);
        return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

/* "127.0.0.1:15672" or "unix socket /tmp/x.sock": where we tried to go. */
static char *target(const struct http_req *req)
{
        if (req->unix_socket && *req->unix_socket)
                return xasprintf("unix socket %s", req->unix_socket);
        _cleanup_free_ char *pub = http_url_public(req->url);
        const char *h = strstr(pub, "://");
        h = h ? h + 3 : pub;
        return xasprintf("%.*s", (int)strcspn(h, "/?#"), h);
}

/* libcurl through the dlopen()ed table (lib/curl_api.h), initialised once. */
static const struct curl_api *curl_once(const char **why)
{
        static bool done;
        const struct curl_api *cu = curl_api(why);
        if (cu && !done) {
                cu->global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
        return cu;
}

struct prereq {
        const struct http_req *req;
        int fds[8]; /* the sockets libcurl made for this request (happy eyeballs: several) */
        size_t nfds;
        bool called, refused;
        char why[200];
};

/* CURLOPT_SOCKOPTFUNCTION: remembers each socket, to find the connected one later. */
static int on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
        struct prereq *pq = arg;
        if (purpose == CURLSOCKTYPE_IPCXN) {
                if (pq->nfds == ARRAY_SIZE(pq->fds)) {
                        memmove(pq->fds, pq->fds + 1, sizeof(pq->fds) - sizeof(pq->fds[0]));
                        pq->nfds--;
                }
                pq->fds[pq->nfds++] = (int)fd;
        }
        return CURL_SOCKOPT_OK;
}

/* The socket connected to ip:port (or, on a unix socket, the connected one). */
static int connected_fd(const struct prereq *pq, bool unix_sock, const char *ip, int port)
{
        for (size_t i = pq->nfds; i-- > 0;) {
                struct sockaddr_storage ss;
                socklen_t l = sizeof(ss);
                if (getpeername(pq->fds[i], (struct sockaddr *)&ss, &l) < 0)
                        continue;
                if (unix_sock) {
                        if (ss.ss_family == AF_UNIX)
                                return pq->fds[i];
                        continue;
                }
                char a[INET6_ADDRSTRLEN] = "";
                int p = 0;
                if (ss.ss_family == AF_INET) {
                        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
                        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
                        p = ntohs(s4->sin_port);
                } else if (ss.ss_family == AF_INET6) {
                        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
                        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
                        p = ntohs(s6->sin6_port);
                }
                if (p == port && streq(a, ip))
                        return pq->fds[i];
        }
        return -1;
}

/* CURLOPT_PREREQFUNCTION: connected, nothing sent yet. */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
        (void)local_ip;
        (void)local_port;
        struct prereq *pq = arg;
        pq->called = true;
        const struct http_req *rq = pq->req;
        bool unix_sock = rq->unix_socket && *rq->unix_socket;
        struct http_peer peer = {
                .fd = connected_fd(pq, unix_sock, primary_ip ? primary_ip : "", primary_port),
                .unix_socket = unix_sock,
                .ip = primary_ip ? primary_ip : "",
                .port = primary_port,
                .tls = startswith(rq->url, "https://"),
        };
        if (!peer.unix_socket && !*peer.ip) {
                pq->refused = true;
                snprintf(pq->why, sizeof(pq->why), "the peer's address is unknown");
                return CURL_PREREQFUNC_ABORT;
        }
        if (!rq->verify_peer(&peer, rq->verify_arg, pq->why, sizeof(pq->why))) {
                pq->refused = true;
                if (!pq->why[0])
                        snprintf(pq->why, sizeof(pq->why), "the peer is not trusted");
                return CURL_PREREQFUNC_ABORT;
        }
        return CURL_PREREQFUNC_OK;
}

int http_get(const struct http_req *req, struct http_resp *resp)
{
        memset(resp, 0, sizeof(*resp));
        uint64_t cto = req->connect_timeout_ms ? req->connect_timeout_ms : 1000;
        uint64_t tto = req->timeout_ms ? req->timeout_ms : 3000;
        if (cto > tto)
                cto = tto;
        struct body bd = {.max = req->max_body ? req->max_body : (1u << 20)};
        sb_puts(&bd.b, ""); /* body is never NULL */
        bool unix_sock = req->unix_socket && *req->unix_socket;
        _cleanup_free_ char *where = target(req);

        const char *why = NULL;
        const struct curl_api *cu = curl_once(&why);
        CURL *h = cu ? cu->easy_init() : NULL;
        if (!h) {
                resp->err = HTTP_E_OTHER;
                snprintf(resp->error, sizeof(resp->error), "cannot use libcurl: %s", why ? why : "curl_easy_init failed");
                resp->body = sb_steal(&bd.b);
                return -ENOMEM;
        }
        char errbuf[CURL_ERROR_SIZE] = "";
        cu->easy_setopt(h, CURLOPT_URL, req->url);
        cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
        cu->easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)tto);
        cu->easy_setopt(h, CURLOPT_PROXY, "");          /* a proxy from the environment must not see local APIs */
        cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* and credentials never follow a redirect */
        cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        cu->easy_setopt(h, CURLOPT_USERAGENT, "evodiag/" PACKAGE_VERSION);
        cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        cu->easy_setopt(h, CURLOPT_WRITEDATA, &bd);
        cu->easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)bd.max + 1);
        if (unix_sock)
                cu->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
        if (req->user && *req->user) {
                cu->easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                cu->easy_setopt(h, CURLOPT_USERNAME, req->user);
                cu->easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
        }

        struct prereq pq = {.req = req};
        if (req->verify_peer) {
                cu->easy_setopt(h, CURLOPT_SOCKOPTDATA, &pq);
                cu->easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_socket);
                cu->easy_setopt(h, CURLOPT_PREREQDATA, &pq);
                /* Without the hook (libcurl < 7.80) nothing is sent at all: fail closed. */
                if (cu->easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK) {
                        cu->easy_cleanup(h);
                        resp->err = HTTP_E_PEER;
                        snprintf(resp->error, sizeof(resp->error), "nothing sent to %s: this libcurl cannot verify the peer "
                                 "(CURLOPT_PREREQFUNCTION needs libcurl 7.80)", where);
                        resp->body = sb_steal(&bd.b);
                        return -EPERM;
                }
        }

        uint64_t t0 = now_ms_monotonic();
        CURLcode rc = cu->easy_perform(h);
        resp->duration_ms = now_ms_monotonic() - t0;
        long os_errno = 0;
        curl_off_t connect_us = 0;
        char *ctype = NULL;
        cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        cu->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        cu->easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (cu->easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
                resp->content_type = xstrdup(ctype);

        int ret = 0;
        if (pq.refused || (req->verify_peer && rc == CURLE_OK && !pq.called)) {
                resp->err = HTTP_E_PEER;
                resp->status = 0;
                snprintf(resp->error, sizeof(resp->error), "nothing sent to %s: %s", where,
                         pq.refused ? pq.why : "the peer could not be verified");
                ret = -EPERM;
        } else if (bd.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
                resp->err = HTTP_E_TOO_LARGE;
                snprintf(resp->error, sizeof(resp->error), "the answer from %s is larger than %zu bytes (cut off)", where, bd.max);
                ret = -EFBIG;
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                resp->err = HTTP_E_TIMEOUT;
                if (!connect_us && !resp->status)
                        snprintf(resp->error, sizeof(resp->error), "no connection to %s within %" PRIu64 " ms", where, cto);
                else
                        snprintf(resp->error, sizeof(resp->error), "no complete answer from %s within %" PRIu64 " ms", where, tto);
                ret = -ETIMEDOUT;
        } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
                resp->err = HTTP_E_CONNECT;
                const char *cause = os_errno ? strerror((int)os_errno) : errbuf[0] ? errbuf : cu->easy_strerror(rc);
                snprintf(resp->error, sizeof(resp->error), "cannot connect to %s: %s", where, cause);
                ret = -ECONNREFUSED;
        } else if (rc != CURLE_OK) {
                resp->err = HTTP_E_OTHER;
                snprintf(resp->error, sizeof(resp->error), "request to %s failed: %s", where,
                         errbuf[0] ? errbuf : cu->easy_strerror(rc));
                ret = -EPROTO;
        }
        cu->easy_cleanup(h);
        resp->len = bd.b.len;
        resp->body = sb_steal(&bd.b);
        return ret;
}

void http_resp_free(struct http_resp *resp)
{
        free(resp->body);
        free(resp->content_type);
        resp->body = resp->content_type = NULL;
}
