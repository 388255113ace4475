/* A small libcurl wrapper for the component APIs evodiag reads (LavinMQ's
 * management API, metrics endpoints): one GET over TCP or a unix socket, always
 * with a connect and a total timeout, optional basic auth, a cap on the body. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The other end of a connection, for http_req.verify_peer. */
struct http_peer {
        int fd;            /* the connected socket */
        bool unix_socket;
        const char *ip;    /* the peer's address ("" on a unix socket) */
        int port;
        bool tls;          /* https:// */
};

struct http_req {
        const char *url;          /* "http://127.0.0.1:15672/api/overview"; with unix_socket the
                                     host part only goes into the Host header */
        const char *unix_socket;  /* NULL or "" = TCP */
        const char *user;         /* basic auth when user is set; never put into error texts */
        const char *password;
        uint64_t connect_timeout_ms; /* 0 = 1000 */
        uint64_t timeout_ms;         /* whole request; 0 = 3000 */
        size_t max_body;             /* 0 = 1 MiB */
        /* Called once connected, before a byte (credentials included) is sent: false
         * (with why filled in) closes the connection and nothing is sent. NULL = any peer. */
        bool (*verify_peer)(const struct http_peer *peer, void *arg, char *why, size_t whylen);
        void *verify_arg;
};

enum http_error {
        HTTP_OK,          /* an HTTP answer came (any status) */
        HTTP_E_CONNECT,   /* refused, no route, no such socket */
        HTTP_E_TIMEOUT,   /* connect or total timeout */
        HTTP_E_TOO_LARGE, /* the body went past max_body (body holds the first max_body bytes) */
        HTTP_E_PEER,      /* verify_peer refused the peer: nothing was sent */
        HTTP_E_OTHER,     /* protocol error, bad URL, out of memory ... */
};

struct http_resp {
        long status;         /* HTTP status code; 0 when no answer came */
        char *body;          /* NUL-terminated (may hold NULs inside: use len); never NULL after http_get */
        size_t len;
        char *content_type;  /* NULL when absent */
        uint64_t duration_ms;
        enum http_error err;
        char error[256];     /* "" when err == HTTP_OK; else what went wrong, for an operator */
};

/* Performs the GET. Returns 0 when an HTTP answer came (check resp->status), or a
 * negative value with resp->err and resp->error set. Always free with http_resp_free. */
int http_get(const struct http_req *req, struct http_resp *resp);
void http_resp_free(struct http_resp *resp);
/* The URL without any user:password@ part, for messages; newly allocated. */
char *http_url_public(const char *url);
/* "connect", "timeout", ... : a stable word for the error class (for JSON/samples). */
const char *http_error_name(enum http_error e);
