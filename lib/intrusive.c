#include "config.h"
#include "lib/intrusive.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#define STATUS_MAX (64u << 10)
#define CMDLINE_MAX (64u << 10)

int intrusive_sigcgt_has(const char *status, int sig)
{
        if (!status || sig < 1 || sig > 64)
                return -EINVAL;
        const char *p = strstr(status, "\nSigCgt:");
        if (!p && startswith(status, "SigCgt:"))
                p = status - 1;
        if (!p)
                return -EINVAL;
        p += 8;
        while (*p == ' ' || *p == '\t')
                p++;
        size_t n = strspn(p, "0123456789abcdefABCDEF");
        if (n == 0 || n > 16 || (p[n] && p[n] != '\n'))
                return -EINVAL;
        uint64_t mask;
        if (parse_digits_u64(p, n, 16, 16, &mask) < 0)
                return -EINVAL;
        return (mask >> (sig - 1)) & 1;
}

static bool base_is(const char *path, size_t len, const char *name)
{
        const char *slash = memrchr(path, '/', len);
        const char *b = slash ? slash + 1 : path;
        size_t bl = len - (size_t)(b - path), nl = strlen(name);
        return bl == nl && memcmp(b, name, nl) == 0;
}

bool intrusive_identity_fits(const char *name, const char *comm, const char *exe, const char *cmdline, size_t len)
{
        /* argv[0] and argv[1], NUL-separated */
        const char *a0 = cmdline && len ? cmdline : NULL, *a1 = NULL;
        size_t l0 = a0 ? strnlen(a0, len) : 0, l1 = 0;
        if (a0 && l0 + 1 < len) {
                a1 = a0 + l0 + 1;
                l1 = strnlen(a1, len - l0 - 1);
        }
        bool named = (comm && streq(comm, name)) || (a0 && l0 && base_is(a0, l0, name));
        if (!named)
                return false;
        if (exe) {
                size_t el = strlen(exe);
                if (el > 10 && streq(exe + el - 10, " (deleted)"))
                        el -= 10;
                if (el && base_is(exe, el, name))
                        return true;
        }
        /* The executable is another (an interpreter, a wrapper): the command line names it. */
        return (a0 && l0 && base_is(a0, l0, name)) || (a1 && l1 && base_is(a1, l1, name));
}

int intrusive_pin(int pid)
{
#ifdef SYS_pidfd_open
        long fd = syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : (int)fd;
#else
        (void)pid;
        return -ENOSYS;
#endif
}

int intrusive_precheck(const struct intrusive_target *t, char **why)
{
        *why = NULL;
        char p[64];
        _cleanup_free_ char *comm = NULL, *cmd = NULL, *exe = NULL, *status = NULL;
        snprintf(p, sizeof(p), "/proc/%d/comm", t->pid);
        int r = rootfs_read_value(p, &comm);
        if (r < 0) {
                *why = xasprintf("pid %d is gone (%s)", t->pid, rootfs_strerror(r));
                return -ESRCH;
        }
        snprintf(p, sizeof(p), "/proc/%d/cmdline", t->pid);
        long len = rootfs_read(p, CMDLINE_MAX, &cmd, NULL);
        snprintf(p, sizeof(p), "/proc/%d/exe", t->pid);
        (void)rootfs_readlink(p, &exe);
        if (!intrusive_identity_fits(t->name, comm, exe, len > 0 ? cmd : NULL, len > 0 ? (size_t)len : 0)) {
                _cleanup_free_ char *a0 = len > 0 ? xstrndup(cmd, strnlen(cmd, (size_t)len)) : NULL;
                *why = xasprintf("pid %d is not %s by both name and executable or command line (comm %s, executable %s, argv[0] %s)",
                                 t->pid, t->name, comm, exe ? exe : "unreadable", a0 ? a0 : "unreadable");
                return -EPERM;
        }
        if (!t->sig)
                return 0;
        snprintf(p, sizeof(p), "/proc/%d/status", t->pid);
        r = (int)rootfs_read(p, STATUS_MAX, &status, NULL);
        if (r < 0) {
                *why = xasprintf("cannot read /proc/%d/status to see whether it handles SIG%s: %s", t->pid, sigabbrev_np(t->sig),
                                 rootfs_strerror(r));
                return r == -ENOENT ? -ESRCH : -EPERM;
        }
        int caught = intrusive_sigcgt_has(status, t->sig);
        if (caught <= 0) {
                *why = caught < 0 ? xasprintf("/proc/%d/status has no readable SigCgt line: whether it handles SIG%s is unknown",
                                              t->pid, sigabbrev_np(t->sig))
                                  : xasprintf("pid %d does not handle SIG%s (SigCgt): its default action would %s it", t->pid,
                                              sigabbrev_np(t->sig), t->sig == SIGCHLD || t->sig == SIGWINCH || t->sig == SIGURG ? "ignore" : "terminate");
                return -EPERM;
        }
        return 0;
}

int intrusive_signal(int pidfd, int pid, int sig)
{
#ifdef SYS_pidfd_send_signal
        if (pidfd >= 0)
                return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
#endif
        (void)pidfd;
        return kill(pid, sig) < 0 ? -errno : 0;
}

/* Gone, or a zombie (it exited; its parent has not reaped it yet). */
static bool proc_gone(int pid)
{
        char p[64];
        _cleanup_free_ char *stat = NULL;
        snprintf(p, sizeof(p), "/proc/%d/stat", pid);
        if (rootfs_read(p, 4096, &stat, NULL) < 0)
                return true;
        const char *rp = strrchr(stat, ')');
        return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

int intrusive_postcheck(int pidfd, int pid, uint64_t settle_ms, char **why)
{
        *why = NULL;
        bool died;
        if (pidfd >= 0) {
                struct pollfd pf = {.fd = pidfd, .events = POLLIN};
                int r;
                uint64_t end = now_ms_monotonic() + settle_ms;
                do {
                        uint64_t now = now_ms_monotonic();
                        r = poll(&pf, 1, now >= end ? 0 : (int)(end - now));
                } while (r < 0 && errno == EINTR);
                died = r > 0;
        } else {
                uint64_t end = now_ms_monotonic() + settle_ms;
                while (!(died = proc_gone(pid)) && now_ms_monotonic() < end)
                        (void)poll(NULL, 0, 50);
        }
        if (!died)
                return 0;
        *why = xasprintf("pid %d is gone %s the action", pid, settle_ms ? "shortly after" : "after");
        return -ESRCH;
}
