#include "config.h"
#include "lib/child.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

int write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

long read_full(int fd, void *buf, size_t n)
{
        size_t got = 0;
        while (got < n) {
                ssize_t r = read(fd, (char *)buf + got, n - got);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                got += (size_t)r;
        }
        return (long)got;
}

#ifdef EVODIAG_TEST_HOOKS
/* Test builds only (configure --enable-test-hooks): EVODIAG_FAULT=<name>:crash|hang|garbage. */
static void fault_hook(const char *name, int wfd)
{
        const char *fault = getenv("EVODIAG_FAULT");
        size_t n = strlen(name);
        if (!fault || strncmp(fault, name, n) != 0 || fault[n] != ':')
                return;
        const char *what = fault + n + 1;
        if (streq(what, "crash")) {
                signal(SIGSEGV, SIG_DFL); /* past any sanitizer's handler */
                raise(SIGSEGV);
        }
        if (streq(what, "hang"))
                for (;;)
                        pause();
        if (streq(what, "garbage")) {
                (void)write_all(wfd, "{not json", 9);
                _exit(0);
        }
}
#else
static void fault_hook(const char *name, int wfd)
{
}
#endif

#ifdef EVODIAG_TEST_HOOKS
void fault_pause(const char *point)
{
        const char *fault = getenv("EVODIAG_FAULT");
        size_t n = strlen(point);
        if (!fault || strncmp(fault, point, n) != 0 || fault[n] != ':' || !streq(fault + n + 1, "pause"))
                return;
        fprintf(stderr, "evodiag: fault hook: paused at %s\n", point);
        fflush(stderr);
        struct timespec ts = {30, 0};
        (void)nanosleep(&ts, NULL); /* EINTR: a handled signal arrived */
}

bool fault_wanted(const char *name, const char *what)
{
        const char *fault = getenv("EVODIAG_FAULT");
        size_t n = strlen(name);
        return fault && strncmp(fault, name, n) == 0 && fault[n] == ':' && streq(fault + n + 1, what);
}
#else
void fault_pause(const char *point)
{
}

bool fault_wanted(const char *name, const char *what)
{
        return false;
}
#endif

/* A pipe, then fork() with stdio flushed (the child must not write our buffers twice).
 * Returns the pid (0 in the child), or -errno with nothing left open. */
static pid_t fork_with_pipe(int p[2])
{
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return -e;
        }
        return pid;
}

int child_start(struct child *c, const char *name, void (*fn)(void *arg, int wfd), void *arg)
{
        int p[2];
        pid_t pid = fork_with_pipe(p);
        if (pid < 0)
                return (int)pid;
        if (pid == 0) {
                close(p[0]);
                /* Die with the parent: an abandoned run must not leave collectors behind. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                signal(SIGPIPE, SIG_IGN);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                fault_hook(name, p[1]);
                fn(arg, p[1]);
                _exit(0); /* never exit(): the parent's stdio buffers are not ours to flush */
        }
        close(p[1]);
        *c = (struct child){.pid = pid, .fd = p[0]};
        return 0;
}

int child_reap(pid_t pid, bool kill_it, bool *abandoned)
{
        int status = 0;
        if (kill_it)
                kill(pid, SIGKILL);
        /* A child in D state ignores SIGKILL until its I/O returns: give it 20 ms,
         * then leave it behind rather than hang with it. A child that closed its
         * pipe but lingers gets 2 s before it is killed too. */
        for (int i = 0; i < (kill_it ? 20 : 1000); i++) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return 0;
                usleep(kill_it ? 1000 : 2000);
        }
        if (!kill_it)
                return child_reap(pid, true, abandoned);
        *abandoned = true;
        return -1;
}

char *child_status_error(int status)
{
        if (status == -1)
                return xstrdup("could not be reaped (stuck in the kernel): abandoned");
        if (WIFSIGNALED(status))
                return xasprintf("killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                return xasprintf("exited with status %d", WEXITSTATUS(status));
        return NULL;
}

int child_on_exit(void (*fn)(void *arg), void *arg)
{
        int p[2];
        pid_t pid = fork_with_pipe(p);
        if (pid < 0)
                return (int)pid;
        if (pid == 0) {
                /* Outlive the parent: no PDEATHSIG, a session of its own (a signal to the
                 * terminal's or the caller's process group is not for it), deaf to the
                 * usual signals, and holding none of the parent's files (a caller
                 * reading our stdout must see its end when the parent exits). */
                (void)setsid();
                signal(SIGINT, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                if (dup2(p[0], 3) < 0)
                        _exit(1);
                (void)close_range(4, ~0u, 0);
                char c;
                /* EOF once every holder of the write end (the parent and the children
                 * it forked since, which die with it) is gone. */
                while (read(3, &c, 1) < 0 && errno == EINTR)
                        ;
                fn(arg);
                _exit(0);
        }
        close(p[0]); /* the write end stays open, unused, until this process ends */
        return 0;
}
