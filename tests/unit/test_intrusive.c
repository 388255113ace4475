/* lib/intrusive.c: the pre-check of an intrusive action (SigCgt, identity by name AND
 * executable or command line) on texts and on real processes made here, and the
 * post-check on a child that survives and one that dies. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/intrusive.h"
#include "lib/util.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static void test_sigcgt(void **state)
{
        (void)state;
        /* SIGUSR1 is 10: bit 9 (0x200). */
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t0000000000000200\n", SIGUSR1), 1);
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t0000000000000000\n", SIGUSR1), 0);
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t0000000000004c02\n", SIGUSR1), 0);
        assert_int_equal(intrusive_sigcgt_has("SigCgt:\tffffffffffffffff", SIGUSR2), 1);
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigIgn:\t0000000000000200\n", SIGUSR1), -EINVAL); /* no SigCgt */
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t00000000000002zz\n", SIGUSR1), -EINVAL);
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t00000000000000000200\n", SIGUSR1), -EINVAL); /* > 64 bits */
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t\n", SIGUSR1), -EINVAL);
        assert_int_equal(intrusive_sigcgt_has("Name:\tx\nSigCgt:\t0000000000000200\n", 0), -EINVAL);
        assert_int_equal(intrusive_sigcgt_has(NULL, SIGUSR1), -EINVAL);
}

static void test_identity(void **state)
{
        (void)state;
        static const char broker[] = "/usr/bin/lavinmq\0-c\0/etc/lavinmq/lavinmq.ini";
        static const char script[] = "/bin/bash\0/opt/mq/lavinmq\0-D\0/srv";
        static const char py[] = "python3\0worker.py";
        /* name and executable */
        assert_true(intrusive_identity_fits("lavinmq", "lavinmq", "/usr/bin/lavinmq", broker, sizeof(broker)));
        assert_true(intrusive_identity_fits("lavinmq", "lavinmq", "/usr/bin/lavinmq (deleted)", broker, sizeof(broker)));
        /* name and a script's path on the interpreter's command line */
        assert_true(intrusive_identity_fits("lavinmq", "lavinmq", "/usr/bin/bash", script, sizeof(script)));
        /* name only: comm set by prctl, python3 executable and command line */
        assert_false(intrusive_identity_fits("lavinmq", "lavinmq", "/usr/bin/python3.11", py, sizeof(py)));
        /* no name: the executable alone is not enough either */
        assert_false(intrusive_identity_fits("lavinmq", "python3", "/usr/bin/lavinmq", py, sizeof(py)));
        /* lavinmqctl is not lavinmq */
        assert_false(intrusive_identity_fits("lavinmq", "lavinmqctl", "/usr/bin/lavinmqctl", "lavinmqctl\0status", 18));
        /* exe unreadable (not root): the command line must name it */
        assert_true(intrusive_identity_fits("lavinmq", "lavinmq", NULL, broker, sizeof(broker)));
        assert_false(intrusive_identity_fits("lavinmq", "lavinmq", NULL, NULL, 0));
        /* a cmdline without NUL at its end */
        assert_true(intrusive_identity_fits("lavinmq", "x", NULL, "/bin/lavinmq", 12));
}

static volatile sig_atomic_t got;
static void on_usr1(int sig)
{
        got = sig;
}

/* This test process: its comm is test_intrusive, its executable too. */
static void test_precheck_self(void **state)
{
        (void)state;
        char *why = NULL;
        struct intrusive_target t = {.pid = getpid(), .name = "test_intrusive", .sig = SIGUSR1};
        signal(SIGUSR1, SIG_DFL);
        assert_int_equal(intrusive_precheck(&t, &why), -EPERM);
        assert_non_null(strstr(why, "does not handle SIGUSR1 (SigCgt): its default action would terminate it"));
        free(why);
        signal(SIGUSR1, on_usr1);
        assert_int_equal(intrusive_precheck(&t, &why), 0);
        assert_null(why);
        /* The name alone, as prctl sets it, is not the executable. */
        prctl(PR_SET_NAME, "lavinmq", 0, 0, 0);
        t.name = "lavinmq";
        assert_int_equal(intrusive_precheck(&t, &why), -EPERM);
        assert_non_null(strstr(why, "is not lavinmq by both name and executable or command line (comm lavinmq"));
        free(why);
        prctl(PR_SET_NAME, "test_intrusive", 0, 0, 0);
        /* No signal: identity only. */
        t = (struct intrusive_target){.pid = getpid(), .name = "test_intrusive"};
        signal(SIGUSR1, SIG_DFL);
        assert_int_equal(intrusive_precheck(&t, &why), 0);
        /* Gone. */
        pid_t c = fork();
        if (c == 0)
                _exit(0);
        waitpid(c, NULL, 0);
        t.pid = c;
        assert_int_equal(intrusive_precheck(&t, &why), -ESRCH);
        free(why);
}

static void test_postcheck(void **state)
{
        (void)state;
        char *why = NULL;
        /* A child that handles USR1 and lives on. */
        pid_t c = fork();
        if (c == 0) {
                signal(SIGUSR1, on_usr1);
                for (;;)
                        pause();
        }
        int pfd = intrusive_pin(c);
        for (int i = 0; i < 100; i++) { /* until its handler is in place */
                struct intrusive_target t = {.pid = c, .name = "test_intrusive", .sig = SIGUSR1};
                if (intrusive_precheck(&t, &why) == 0)
                        break;
                free(why);
                why = NULL;
                usleep(10000);
        }
        assert_int_equal(intrusive_signal(pfd, c, SIGUSR1), 0);
        assert_int_equal(intrusive_postcheck(pfd, c, 200, &why), 0);
        assert_null(why);
        /* Without a pidfd: /proc says it is there. */
        assert_int_equal(intrusive_postcheck(-1, c, 0, &why), 0);
        /* Killed: the post-check sees it (a zombie until reaped) with and without the pidfd. */
        kill(c, SIGKILL);
        assert_int_equal(intrusive_postcheck(pfd, c, 2000, &why), -ESRCH);
        assert_non_null(strstr(why, "is gone"));
        free(why);
        assert_int_equal(intrusive_postcheck(-1, c, 2000, &why), -ESRCH);
        free(why);
        waitpid(c, NULL, 0);
        if (pfd >= 0)
                close(pfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sigcgt),
                cmocka_unit_test(test_identity),
                cmocka_unit_test(test_precheck_self),
                cmocka_unit_test(test_postcheck),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
