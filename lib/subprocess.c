#include "config.h"
#include "lib/subprocess.h"
#include "lib/child.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int cmd_run(const char *const argv[], uint64_t timeout_ms, size_t max_out, struct cmd_result *r)
{
        *r = (struct cmd_result){.status = -1};
        int p[2], ep[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        /* exec failure is reported through a second CLOEXEC pipe: EOF means exec worked. */
        if (pipe2(ep, O_CLOEXEC) < 0) {
                close(p[0]);
                close(p[1]);
                return -errno;
        }
        uint64_t t0 = now_ms_monotonic();
        fflush(stdout);
        fflush(stderr);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]); close(p[1]); close(ep[0]); close(ep[1]);
                return -e;
        }
        if (pid == 0) {
                /* It dies with the thread that started it: a collector or sampler killed at
                 * its deadline (or at the end of watch) leaves no command running behind it
                 * (a hung nvidia-smi that ignores SIGTERM ran on orphaned before). */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                setpgid(0, 0); /* its own group, so a timeout kills its children too */
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                dup2(p[1], STDOUT_FILENO);
                dup2(p[1], STDERR_FILENO);
                signal(SIGPIPE, SIG_DFL);
                execvp(argv[0], (char *const *)argv);
                int e = errno;
                (void)write_all(ep[1], &e, sizeof(e));
                _exit(127);
        }
        setpgid(pid, pid);
        close(p[1]);
        close(ep[1]);
        int exec_errno = 0;
        if (read_full(ep[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
                exec_errno = 0;
        close(ep[0]);

        struct strbuf b = {0};
        sb_puts(&b, "");
        uint64_t deadline = t0 + timeout_ms;
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (now >= deadline) {
                        r->timed_out = true;
                        break;
                }
                struct pollfd pfd = {.fd = p[0], .events = POLLIN};
                int pr = poll(&pfd, 1, (int)(deadline - now));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        continue;
                char buf[16384];
                ssize_t n = read(p[0], buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size_t room = b.len < max_out ? max_out - b.len : 0;
                if ((size_t)n > room)
                        r->truncated = true;
                sb_putn(&b, buf, (size_t)n < room ? (size_t)n : room);
        }
        close(p[0]);
        if (r->timed_out)
                kill(-pid, SIGKILL);
        bool abandoned = false;
        r->status = child_reap(pid, r->timed_out, &abandoned);
        r->duration_ms = now_ms_monotonic() - t0;
        r->len = b.len;
        r->out = sb_steal(&b);
        if (exec_errno) {
                r->error = xasprintf("%s: %s", argv[0], exec_errno == ENOENT ? "not found" : strerror(exec_errno));
                r->status = -1;
                return -exec_errno;
        }
        if (r->timed_out) {
                r->error = xasprintf("%s: timed out after %llu ms; killed", argv[0], (unsigned long long)timeout_ms);
                return -ETIMEDOUT;
        }
        char *why = child_status_error(r->status);
        if (why) {
                r->error = xasprintf("%s: %s", argv[0], why);
                free(why);
                return -EIO;
        }
        return 0;
}

void cmd_result_free(struct cmd_result *r)
{
        free(r->out);
        free(r->error);
        *r = (struct cmd_result){0};
}
