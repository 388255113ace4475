/* lib/http.c against real sockets made here: a closed port, a missing unix socket,
 * listeners that never accept (timeouts), and a forked one-shot server for status
 * codes, basic auth and the body cap. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/http.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

/* A TCP listener on 127.0.0.1 (any free port); never accepts unless told to. */
static int tcp_listener(int *port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(fd, 16), 0);
        socklen_t l = sizeof(a);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

static char sockdir[64];

static int unix_listener(char path[static 108])
{
        snprintf(sockdir, sizeof(sockdir), "/tmp/test_http.XXXXXX");
        assert_non_null(mkdtemp(sockdir));
        snprintf(path, 108, "%s/s.sock", sockdir);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(fd, 16), 0);
        return fd;
}

static void unix_cleanup(const char *path)
{
        unlink(path);
        rmdir(sockdir);
}

/* Forks a server that answers one request with `resp` (or, when auth is set, with
 * 200 only if the request carries exactly that Authorization header, else 401). */
static pid_t serve_once(int lfd, const char *resp, size_t len, const char *auth)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid)
                return pid;
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
                _exit(1);
        char req[4096];
        size_t n = 0;
        while (n < sizeof(req) - 1) { /* read the request head */
                ssize_t r = read(c, req + n, sizeof(req) - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                req[n] = 0;
                if (strstr(req, "\r\n\r\n"))
                        break;
        }
        req[n] = 0;
        if (auth) {
                char want[256];
                snprintf(want, sizeof(want), "Authorization: %s\r\n", auth);
                const char *ok = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}";
                const char *no = "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n{\"error\":\"access_refused\"}";
                resp = strstr(req, want) ? ok : no;
                len = strlen(resp);
        }
        size_t off = 0;
        while (off < len) {
                ssize_t w = write(c, resp + off, len - off);
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        close(c);
        _exit(0);
}

static void reap(pid_t pid)
{
        int st;
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
}

/* verify_peer: called once connected with the real socket and address; when it says
 * no, the request (and the credentials in it) never leave: the server reads EOF. */
struct seen {
        int calls;
        bool fd_ok, unix_sock;
        char ip[64];
        int port;
        bool answer;
};

static bool peer_cb(const struct http_peer *p, void *arg, char *why, size_t whylen)
{
        struct seen *s = arg;
        s->calls++;
        struct sockaddr_storage ss;
        socklen_t l = sizeof(ss);
        s->fd_ok = p->fd >= 0 && getpeername(p->fd, (struct sockaddr *)&ss, &l) == 0;
        s->unix_sock = p->unix_socket;
        snprintf(s->ip, sizeof(s->ip), "%s", p->ip);
        s->port = p->port;
        if (!s->answer)
                snprintf(why, whylen, "not this one");
        return s->answer;
}

/* What arrived on one accepted connection before EOF (at most 4 KiB, 2 s). */
static size_t drain(int lfd, char *buf, size_t max)
{
        int c = accept(lfd, NULL, NULL);
        assert_true(c >= 0);
        struct timeval tv = {.tv_sec = 2};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        size_t n = 0;
        for (;;) {
                ssize_t r = read(c, buf + n, max - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = 0;
        close(c);
        return n;
}

static void test_verify_peer_refuses(void **state)
{
        (void)state;
        int port;
        int lfd = tcp_listener(&port);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/overview", port);
        struct seen s = {.answer = false};
        struct http_req rq = {.url = url, .user = "evo", .password = "Secret-Pw", .connect_timeout_ms = 1000, .timeout_ms = 2000,
                              .verify_peer = peer_cb, .verify_arg = &s};
        struct http_resp r;
        assert_int_equal(http_get(&rq, &r), -EPERM);
        assert_int_equal(r.err, HTTP_E_PEER);
        assert_string_equal(http_error_name(r.err), "untrusted_peer");
        char want[128];
        snprintf(want, sizeof(want), "nothing sent to 127.0.0.1:%d: not this one", port);
        assert_string_equal(r.error, want);
        assert_int_equal(s.calls, 1);
        assert_true(s.fd_ok);
        assert_false(s.unix_sock);
        assert_string_equal(s.ip, "127.0.0.1");
        assert_int_equal(s.port, port);
        http_resp_free(&r);
        char got[4096];
        assert_int_equal(drain(lfd, got, sizeof(got)), 0); /* not a byte, no Authorization */
        close(lfd);
}

static void test_verify_peer_accepts(void **state)
{
        (void)state;
        int port;
        int lfd = tcp_listener(&port);
        const char *resp = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}";
        pid_t srv = serve_once(lfd, resp, strlen(resp), NULL);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
        struct seen s = {.answer = true};
        struct http_req rq = {.url = url, .connect_timeout_ms = 1000, .timeout_ms = 2000, .verify_peer = peer_cb, .verify_arg = &s};
        struct http_resp r;
        assert_int_equal(http_get(&rq, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(s.calls, 1);
        http_resp_free(&r);
        reap(srv);
        close(lfd);
        /* A unix socket: the peer's fd is there for SO_PEERCRED. */
        char path[108];
        lfd = unix_listener(path);
        srv = serve_once(lfd, resp, strlen(resp), NULL);
        s = (struct seen){.answer = true};
        struct http_req ru = {.url = "http://localhost/x", .unix_socket = path, .connect_timeout_ms = 1000, .timeout_ms = 2000,
                              .verify_peer = peer_cb, .verify_arg = &s};
        assert_int_equal(http_get(&ru, &r), 0);
        assert_int_equal(s.calls, 1);
        assert_true(s.unix_sock);
        assert_true(s.fd_ok);
        http_resp_free(&r);
        reap(srv);
        close(lfd);
        unix_cleanup(path);
}

static void test_refused(void **state)
{
        (void)state;
        int port;
        int fd = tcp_listener(&port);
        close(fd); /* nothing listens there now */
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/overview", port);
        struct http_req rq = {.url = url, .connect_timeout_ms = 500, .timeout_ms = 1000};
        struct http_resp r;
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_CONNECT);
        assert_int_equal(r.status, 0);
        assert_non_null(r.body);
        assert_int_equal(r.len, 0);
        char want[96];
        snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d: Connection refused", port);
        assert_string_equal(r.error, want);
        assert_string_equal(http_error_name(r.err), "connect");
        http_resp_free(&r);
}

static void test_bad_unix_path(void **state)
{
        (void)state;
        struct http_req rq = {.url = "http://localhost/api/overview", .unix_socket = "/nonexistent/dir/lavinmqctl.sock",
                              .connect_timeout_ms = 500, .timeout_ms = 1000};
        struct http_resp r;
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_CONNECT);
        assert_string_equal(r.error, "cannot connect to unix socket /nonexistent/dir/lavinmqctl.sock: No such file or directory");
        http_resp_free(&r);
}

static void test_timeout_tcp(void **state)
{
        (void)state;
        int port;
        int fd = tcp_listener(&port); /* the kernel completes the handshake; nobody answers */
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/overview", port);
        struct http_req rq = {.url = url, .connect_timeout_ms = 200, .timeout_ms = 300};
        struct http_resp r;
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_TIMEOUT);
        char want[96];
        snprintf(want, sizeof(want), "no complete answer from 127.0.0.1:%d within 300 ms", port);
        assert_string_equal(r.error, want);
        assert_string_equal(http_error_name(r.err), "timeout");
        http_resp_free(&r);
        close(fd);
}

static void test_timeout_unix(void **state)
{
        (void)state;
        char path[108], want[200];
        int fd = unix_listener(path);
        struct http_req rq = {.url = "http://localhost/api/overview", .unix_socket = path, .timeout_ms = 300};
        struct http_resp r;
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_TIMEOUT);
        snprintf(want, sizeof(want), "no complete answer from unix socket %s within 300 ms", path);
        assert_string_equal(r.error, want);
        http_resp_free(&r);
        close(fd);
        unix_cleanup(path);
}

static void test_status_and_body(void **state)
{
        (void)state;
        int port;
        int fd = tcp_listener(&port);
        const char *resp = "HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"error\":\"not_found\"}";
        pid_t pid = serve_once(fd, resp, strlen(resp), NULL);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/nope", port);
        struct http_req rq = {.url = url};
        struct http_resp r;
        assert_int_equal(http_get(&rq, &r), 0); /* an answer, whatever its status */
        assert_int_equal(r.err, HTTP_OK);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "{\"error\":\"not_found\"}");
        assert_int_equal(r.len, strlen(r.body));
        assert_string_equal(r.content_type, "application/json");
        assert_string_equal(r.error, "");
        http_resp_free(&r);
        reap(pid);
        close(fd);
}

static void test_unix_answer(void **state)
{
        (void)state;
        char path[108];
        int fd = unix_listener(path);
        const char *resp = "HTTP/1.0 200 OK\r\n\r\n[1,2,3]";
        pid_t pid = serve_once(fd, resp, strlen(resp), NULL);
        struct http_req rq = {.url = "http://localhost/api/nodes", .unix_socket = path};
        struct http_resp r;
        assert_int_equal(http_get(&rq, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "[1,2,3]");
        assert_null(r.content_type);
        http_resp_free(&r);
        reap(pid);
        close(fd);
        unix_cleanup(path);
}

static void test_basic_auth(void **state)
{
        (void)state;
        int port;
        char url[64];
        struct http_resp r;
        int fd = tcp_listener(&port);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/overview", port);
        /* "guest:s3cr3t-Pw" */
        pid_t pid = serve_once(fd, NULL, 0, "Basic Z3Vlc3Q6czNjcjN0LVB3");
        struct http_req rq = {.url = url, .user = "guest", .password = "s3cr3t-Pw"};
        assert_int_equal(http_get(&rq, &r), 0);
        assert_int_equal(r.status, 200);
        http_resp_free(&r);
        reap(pid);

        pid = serve_once(fd, NULL, 0, "Basic Z3Vlc3Q6czNjcjN0LVB3");
        rq.password = "wrong-Pw";
        assert_int_equal(http_get(&rq, &r), 0);
        assert_int_equal(r.status, 401);
        assert_null(strstr(r.error, "wrong-Pw"));
        http_resp_free(&r);
        reap(pid);

        pid = serve_once(fd, NULL, 0, "Basic Z3Vlc3Q6czNjcjN0LVB3");
        rq.user = NULL; /* no auth at all */
        assert_int_equal(http_get(&rq, &r), 0);
        assert_int_equal(r.status, 401);
        http_resp_free(&r);
        reap(pid);
        close(fd);
}

static void test_body_cap(void **state)
{
        (void)state;
        int port;
        int fd = tcp_listener(&port);
        struct strbuf b = {0};
        sb_puts(&b, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        for (int i = 0; i < 5000; i++)
                sb_puts(&b, "0123456789");
        pid_t pid = serve_once(fd, b.s, b.len, NULL);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
        struct http_req rq = {.url = url, .max_body = 1000};
        struct http_resp r;
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_TOO_LARGE);
        assert_int_equal(r.len, 1000);
        assert_int_equal(strlen(r.body), 1000);
        assert_int_equal(memcmp(r.body, "0123456789", 10), 0);
        char want[96];
        snprintf(want, sizeof(want), "the answer from 127.0.0.1:%d is larger than 1000 bytes (cut off)", port);
        assert_string_equal(r.error, want);
        http_resp_free(&r);
        reap(pid);
        sb_free(&b);
        close(fd);
}

static void test_other_errors(void **state)
{
        (void)state;
        struct http_resp r;
        struct http_req rq = {.url = "ftp://127.0.0.1/x", .timeout_ms = 500};
        assert_true(http_get(&rq, &r) < 0);
        assert_int_equal(r.err, HTTP_E_OTHER);
        assert_true(startswith(r.error, "request to 127.0.0.1 failed: "));
        http_resp_free(&r);

        /* Not HTTP at all: a server that talks garbage. */
        int port;
        int fd = tcp_listener(&port);
        const char *junk = "SSH-2.0-OpenSSH_9.2\r\n\x01\x02\x03";
        pid_t pid = serve_once(fd, junk, strlen(junk), NULL);
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
        struct http_req rq2 = {.url = url, .timeout_ms = 1000};
        assert_true(http_get(&rq2, &r) < 0);
        assert_int_equal(r.err, HTTP_E_OTHER);
        http_resp_free(&r);
        reap(pid);
        close(fd);
}

static void test_url_public(void **state)
{
        (void)state;
        char *s;
        assert_string_equal(s = http_url_public("http://admin:Pa55@127.0.0.1:15672/api/overview"), "http://127.0.0.1:15672/api/overview");
        free(s);
        assert_string_equal(s = http_url_public("http://a@b:c@host/x"), "http://host/x");
        free(s);
        assert_string_equal(s = http_url_public("http://host:1/path@notuser"), "http://host:1/path@notuser");
        free(s);
        assert_string_equal(s = http_url_public("http://localhost/api"), "http://localhost/api");
        free(s);
        assert_string_equal(s = http_url_public(NULL), "");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_bad_unix_path),
                cmocka_unit_test(test_timeout_tcp),
                cmocka_unit_test(test_timeout_unix),
                cmocka_unit_test(test_status_and_body),
                cmocka_unit_test(test_unix_answer),
                cmocka_unit_test(test_basic_auth),
                cmocka_unit_test(test_body_cap),
                cmocka_unit_test(test_other_errors),
                cmocka_unit_test(test_url_public),
                cmocka_unit_test(test_verify_peer_refuses),
                cmocka_unit_test(test_verify_peer_accepts),
        };
        return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
