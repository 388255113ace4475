/* pidwatch (collectors/sample_util.h) on the live system: what started since the last
 * look is found whether the pids handed out since are probed or /proc is listed, a
 * thread is never taken for a process, what is gone is not reported, a pid handed
 * out again counts as new, and a process the pid cycle passed over does not. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/sample_util.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static bool has(const int *v, size_t n, int pid)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == pid)
                        return true;
        return false;
}

static pid_t sleeper(void)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        return pid;
}

static void stop(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t thread_tid;

static void *thread_main(void *arg)
{
        (void)arg;
        thread_tid = (pid_t)syscall(SYS_gettid);
        pthread_mutex_lock(&mu); /* until the test is done with it */
        pthread_mutex_unlock(&mu);
        return NULL;
}

/* A process started since the last look is new; one started and gone is not; a
 * thread started since is not; nothing new when nothing started. Each look goes the
 * way the host's pid traffic decides (probe or listing): the answer is the same. */
static void test_new_processes(void **state)
{
        (void)state;
        struct pidwatch pw = {0};
        int out[SAMPLE_YOUNG_MAX];
        (void)pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX); /* the first look only learns */
        pid_t a = sleeper(), gone = sleeper();
        stop(gone);
        pthread_t th;
        pthread_mutex_lock(&mu);
        assert_int_equal(pthread_create(&th, NULL, thread_main, NULL), 0);
        while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
                usleep(1000);
        size_t n = pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        assert_true(has(out, n, a));
        assert_false(has(out, n, gone));
        assert_false(has(out, n, thread_tid));
        assert_false(has(out, n, getpid()));
        /* Seen once: not new again. */
        n = pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        assert_false(has(out, n, a));
        pthread_mutex_unlock(&mu);
        pthread_join(th, NULL);
        stop(a);
        pidwatch_free(&pw);
}

/* The last look knew pid P (a process since gone); the kernel handed P out again: the
 * new process is new, though its pid is known. Made here by putting the child's pid
 * into what the last look knew, as a process that had it before would have. */
static void test_pid_handed_out_again(void **state)
{
        (void)state;
        struct pidwatch pw = {0};
        int out[SAMPLE_YOUNG_MAX];
        (void)pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        usleep(60000); /* its start time is after the last look's, beyond the margin */
        pid_t a = sleeper();
        pw.known = xrealloc(pw.known, (pw.nknown + 1) * sizeof(*pw.known));
        size_t at = 0;
        while (at < pw.nknown && pw.known[at] < a)
                at++;
        memmove(pw.known + at + 1, pw.known + at, (pw.nknown - at) * sizeof(*pw.known));
        pw.known[at] = a;
        pw.nknown++;
        size_t n = pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        assert_true(has(out, n, a));
        stop(a);
        pidwatch_free(&pw);
}

/* A process that ran at the last look and whose pid lies in the range handed out
 * since (the cycle wrapped and passed over it) is not new. Made by moving the last
 * look's last pid to just below this process's own pid. */
static void test_cycle_passes_over_old(void **state)
{
        (void)state;
        struct pidwatch pw = {0};
        int out[SAMPLE_YOUNG_MAX];
        pid_t old = sleeper();
        usleep(60000); /* it started before the look, beyond the margin */
        (void)pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        pid_t a = sleeper(); /* the last pid moves: a look is due */
        if (pw.last_pid > old)
                pw.last_pid = old - 1;
        size_t n = pidwatch_new(&pw, out, SAMPLE_YOUNG_MAX);
        assert_false(has(out, n, old));
        assert_true(a <= old || has(out, n, a)); /* (a pid below old: wrapped, not in the range) */
        stop(a);
        stop(old);
        pidwatch_free(&pw);
}

/* watch's parent: what lived an interval is handed on, what is gone is not. */
static void test_settled(void **state)
{
        (void)state;
        struct pidwatch pw = {0};
        int out[SAMPLE_YOUNG_MAX];
        (void)pidwatch_settled(&pw, out, SAMPLE_YOUNG_MAX);
        pid_t a = sleeper(), b = sleeper();
        size_t n = pidwatch_settled(&pw, out, SAMPLE_YOUNG_MAX);
        assert_false(has(out, n, a)); /* new at this look: handed on at the next */
        stop(b);
        pid_t c = sleeper(); /* the last pid moves */
        n = pidwatch_settled(&pw, out, SAMPLE_YOUNG_MAX);
        assert_true(has(out, n, a));
        assert_false(has(out, n, b));
        stop(a);
        stop(c);
        pidwatch_free(&pw);
}

int main(void)
{
        rootfs_set(NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_processes),
                cmocka_unit_test(test_pid_handed_out_again),
                cmocka_unit_test(test_cycle_passes_over_old),
                cmocka_unit_test(test_settled),
        };
        return cmocka_run_group_tests_name("pidwatch", tests, NULL, NULL);
}
