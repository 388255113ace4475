/* mediator: the admin socket client (COMPONENTS.md §4, phase 3). Only the read-only
 * SHOW_HEALTH and SHOW_METRICS are ever sent; RELOAD_CONFIG and (UN)QUARANTINE_VM
 * change the mediator and are not evodiag's to send.
 *
 * The socket lives in /var/vgpu, which the guide makes world-writable (chmod 777):
 * anyone may have put a socket there. So before a byte is sent the peer's owner
 * (SO_PEERCRED) must be root or the configured service user (lib/trust). The path is
 * resolved inside the root (rootfs_open O_PATH) and connected through /proc/self/fd,
 * so --root fixture trees with a test's server work the same way. Every step runs
 * against one total deadline; a reply's data_len beyond the cap is an error, never an
 * allocation. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/mediator.h"
#include "lib/trust.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>


uint64_t mx_conf_ms(const struct ctx *c, const char *key, uint64_t def)
{
        uint64_t v;
        return parse_duration_ms(conf_str(c, key), &v) == 0 && v ? v : def;
}

uint64_t mx_conf_bytes(const struct ctx *c, const char *key, uint64_t def)
{
        uint64_t v;
        return parse_size(conf_str(c, key), &v) == 0 && v ? v : def;
}

/* Waits for ev on fd until end (monotonic ms). 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short ev, uint64_t end)
{
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (now >= end)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = ev};
                int r = poll(&p, 1, (int)(end - now));
                if (r > 0)
                        return 0;
                if (r == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Reads exactly n bytes before end. Bytes read (fewer at EOF) or -errno. */
static long read_until(int fd, void *buf, size_t n, uint64_t end)
{
        size_t got = 0;
        while (got < n) {
                int w = wait_fd(fd, POLLIN, end);
                if (w < 0)
                        return w;
                ssize_t r = read(fd, (char *)buf + got, n - got);
                if (r == 0)
                        break;
                if (r < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                got += (size_t)r;
        }
        return (long)got;
}

static int fail(char **err, int r, const char *fmt, ...) PRINTF(3, 4);
static int fail(char **err, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        *err = xvasprintf(fmt, ap);
        va_end(ap);
        return r;
}

static int connect_at(const char *sock_path, uint64_t end, char **err)
{
        _cleanup_close_ int pfd = rootfs_open(sock_path, O_PATH);
        if (pfd < 0)
                return fail(err, pfd, "%s: %s", sock_path, rootfs_strerror(pfd));
        struct stat st;
        if (fstat(pfd, &st) < 0)
                return fail(err, -errno, "%s: %s", sock_path, strerror(errno));
        if (!S_ISSOCK(st.st_mode))
                return fail(err, -ENOTSOCK, "%s is not a socket", sock_path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return fail(err, -errno, "socket: %s", strerror(errno));
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d", pfd);
        for (;;) {
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
                        return fd;
                int e = errno;
                if (e == EINTR)
                        continue;
                if (e == EAGAIN || e == EINPROGRESS) {
                        /* The listen backlog is full: a mediator that stopped accepting. */
                        int w = wait_fd(fd, POLLOUT, end);
                        if (w == 0 && now_ms_monotonic() < end) {
                                usleep(10000);
                                continue;
                        }
                        close(fd);
                        return fail(err, -ETIMEDOUT, "connect to %s: timed out (backlog full: not accepting)",
                                    sock_path);
                }
                close(fd);
                return fail(err, -e, "connect to %s: %s", sock_path, strerror(e));
        }
}

int mx_admin_ask(const char *sock_path, const char *service_user, uint32_t command, uint64_t timeout_ms,
                 size_t cap, uint32_t *status, char **text, char **err)
{
        *text = NULL;
        *err = NULL;
        if (command != MX_CMD_SHOW_HEALTH && command != MX_CMD_SHOW_METRICS)
                return fail(err, -EPERM, "command 0x%x is not read-only", command);
        uint64_t end = now_ms_monotonic() + timeout_ms;
        _cleanup_close_ int fd = connect_at(sock_path, end, err);
        if (fd < 0)
                return fd;
        struct trust tr;
        trust_init(&tr, "mediator", service_user);
        char why[256];
        int r = trust_unix_peer(&tr, fd, why, sizeof(why));
        trust_free(&tr);
        if (r < 0)
                return fail(err, r, "%s: not asked: %s", sock_path, why);
        uint8_t req[16];
        mx_admin_request(command, req);
        r = wait_fd(fd, POLLOUT, end);
        if (r < 0 || send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
                return fail(err, r < 0 ? r : -EIO, "%s: sending the request failed", sock_path);
        uint8_t hdr[sizeof(struct mx_admin_hdr)];
        long n = read_until(fd, hdr, sizeof(hdr), end);
        if (n == -ETIMEDOUT)
                return fail(err, -ETIMEDOUT, "%s: no reply within %" PRIu64 " ms", sock_path, timeout_ms);
        if (n < 0)
                return fail(err, (int)n, "%s: reading the reply: %s", sock_path, strerror((int)-n));
        struct mx_admin_hdr h;
        r = mx_admin_header(hdr, (size_t)n, cap, &h);
        if (r == -EBADMSG)
                return fail(err, r, "%s: short reply (%ld of 12 header bytes)", sock_path, n);
        if (r == -EPROTO)
                return fail(err, r, "%s: bad magic 0x%08x in the reply (want 0x%08x)", sock_path, h.magic, MX_ADMIN_MAGIC);
        if (r == -EMSGSIZE)
                return fail(err, r, "%s: reply announces %u bytes, more than the %zu accepted", sock_path, h.data_len,
                            cap);
        char *buf = xmalloc((size_t)h.data_len + 1);
        n = read_until(fd, buf, h.data_len, end);
        if (n < 0 || (size_t)n < h.data_len) {
                free(buf);
                if (n == -ETIMEDOUT)
                        return fail(err, -ETIMEDOUT, "%s: reply text not complete within %" PRIu64 " ms", sock_path,
                                    timeout_ms);
                return fail(err, -EBADMSG, "%s: short reply (%ld of %u text bytes)", sock_path, n < 0 ? 0 : n,
                            h.data_len);
        }
        buf[n] = 0;
        *text = buf;
        *status = h.status;
        return 0;
}
