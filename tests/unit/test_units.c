/* Unit tests of the units collector's decisions and lib/sdunit's pure helpers. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/units.h"
#include "lib/sdunit.h"

#include <errno.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

static struct sdunit unit(const char *load, const char *active, const char *sub, const char *file_state)
{
        struct sdunit u = {0};
        u.id = (char *)"x.service";
        u.load_state = (char *)load;
        u.active_state = (char *)active;
        u.sub_state = (char *)sub;
        u.unit_file_state = (char *)file_state;
        u.limit_nofile = u.limit_core = u.limit_memlock = u.limit_rtprio = u.memory_max = SDUNIT_INFINITY;
        u.sched_policy = u.sched_priority = -1;
        return u;
}

static void state_verdicts(void **state)
{
        (void)state;
        const char *why;
        struct sdunit u = unit("loaded", "active", "running", "enabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_OK);
        u = unit("loaded", "failed", "failed", "enabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_CRIT);
        u = unit("loaded", "inactive", "dead", "enabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_CRIT);
        /* rpcbind.service, started on demand by an active rpcbind.socket */
        assert_int_equal(units_state_verdict(&u, true, &why), SEV_OK);
        /* installed but disabled: not meant to run here */
        u = unit("loaded", "inactive", "dead", "disabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_INFO);
        /* crash loop: waiting for the next automatic restart */
        u = unit("loaded", "activating", "auto-restart", "enabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_WARN);
        u = unit("loaded", "activating", "start", "enabled");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_INFO);
        /* not installed: nothing to say */
        u = unit("not-found", "inactive", "dead", NULL);
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_SKIPPED);
        u = unit("masked", "inactive", "dead", "masked");
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_INFO);
        u = unit("error", "inactive", "dead", NULL);
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_CRIT);
        u = unit("loaded", NULL, NULL, NULL);
        assert_int_equal(units_state_verdict(&u, false, &why), SEV_UNKNOWN);
        u = unit("loaded", "weird", "x", NULL);
        assert_int_equal(units_state_verdict(&u, false, NULL), SEV_UNKNOWN);
}

static void restart_verdicts(void **state)
{
        (void)state;
        uint64_t now = 1700000000ull * 1000000, hour = 3600ull * 1000000;
        assert_int_equal(units_restart_verdict(0, now - 10, now, hour), SEV_OK);
        /* flapping: 5 restarts, the last 30 s ago */
        assert_int_equal(units_restart_verdict(5, now - 30 * 1000000ull, now, hour), SEV_WARN);
        /* restarted, but two days ago */
        assert_int_equal(units_restart_verdict(5, now - 48 * hour, now, hour), SEV_INFO);
        /* never started (timestamp 0): restarts counted but no time: not recent */
        assert_int_equal(units_restart_verdict(2, 0, now, hour), SEV_INFO);
        /* a start "in the future" (the clock went back): treated as recent */
        assert_int_equal(units_restart_verdict(1, now + hour, now, hour), SEV_WARN);
}

static void limit_problems(void **state)
{
        (void)state;
        struct sdunit u = unit("loaded", "active", "running", "enabled");
        u.have_limits = true;
        assert_int_equal(units_limit_problems(&u, true, 65536, false, 1 << 30), 0);
        u.limit_core = 0;
        assert_int_equal(units_limit_problems(&u, false, 65536, false, 1 << 30), UL_CORE0);
        u.limit_core = SDUNIT_INFINITY;
        u.limit_nofile = 1024;
        assert_int_equal(units_limit_problems(&u, true, 65536, false, 1 << 30), UL_NOFILE);
        /* only the broker's LimitNOFILE is judged */
        assert_int_equal(units_limit_problems(&u, false, 65536, false, 1 << 30), 0);
        u.limit_nofile = SDUNIT_INFINITY;
        /* an RT unit run by a user: memlock 64 KiB and rtprio 0 are too low */
        u.limit_memlock = 65536;
        u.limit_rtprio = 0;
        u.sched_priority = 80;
        u.user = (char *)"evo";
        assert_int_equal(units_limit_problems(&u, false, 65536, true, 1 << 30), UL_MEMLOCK | UL_RTPRIO);
        u.limit_rtprio = 80;
        assert_int_equal(units_limit_problems(&u, false, 65536, true, 1 << 30), UL_MEMLOCK);
        /* the same unit run by root: CAP_IPC_LOCK and CAP_SYS_NICE, no problem */
        u.user = (char *)"";
        assert_int_equal(units_limit_problems(&u, false, 65536, true, 1 << 30), 0);
        u.user = (char *)"root";
        assert_int_equal(units_limit_problems(&u, false, 65536, true, 1 << 30), 0);
        /* not RT: memlock does not matter */
        u.user = (char *)"evo";
        assert_int_equal(units_limit_problems(&u, false, 65536, false, 1 << 30), 0);
        /* limits not reported: nothing judged */
        u.have_limits = false;
        u.limit_core = 0;
        assert_int_equal(units_limit_problems(&u, true, 65536, true, 1 << 30), 0);
        /* a limit systemd did not report (unknown) is no problem */
        u = unit("loaded", "active", "running", "enabled");
        u.have_limits = true;
        u.limit_core = SDUNIT_INFINITY - 1;
        assert_int_equal(units_limit_problems(&u, true, 65536, false, 1 << 30), 0);
}

static void status_text(void **state)
{
        (void)state;
        uint64_t now = 1700000000ull * 1000000;
        struct sdunit u = unit("loaded", "failed", "failed", "enabled");
        u.id = (char *)"lavinmq.service";
        u.description = (char *)"LavinMQ";
        u.fragment_path = (char *)"/lib/systemd/system/lavinmq.service";
        char *drop[] = {(char *)"/etc/systemd/system/lavinmq.service.d/limits.conf"};
        u.drop_ins = drop;
        u.ndrop_ins = 1;
        u.is_service = true;
        u.result = (char *)"exit-code";
        u.exec_main_code = 1;
        u.exec_main_status = 3;
        u.exec_main_start_us = now - 90 * 1000000ull;
        u.nrestarts = 5;
        u.main_pid = 0;
        u.limit_core = 0;
        u.limit_nofile = 1024;
        u.cpu_affinity = (char *)"0-3";
        u.sched_policy = 1;
        u.sched_priority = 80;
        char *t = units_status_text(&u, now);
        assert_non_null(strstr(t, "* lavinmq.service - LavinMQ\n"));
        assert_non_null(strstr(t, "Loaded: loaded (/lib/systemd/system/lavinmq.service; enabled)"));
        assert_non_null(strstr(t, "Drop-In: /etc/systemd/system/lavinmq.service.d/limits.conf"));
        assert_non_null(strstr(t, "Active: failed (failed)"));
        assert_non_null(strstr(t, "Main PID: 0 (none)"));
        assert_non_null(strstr(t, "Result: exit-code; last main process: code 1, status 3, started 1min 30s ago"));
        assert_non_null(strstr(t, "Restarts: 5 automatic"));
        assert_non_null(strstr(t, "Limits: NOFILE 1024, CORE 0, MEMLOCK infinity, RTPRIO infinity"));
        assert_non_null(strstr(t, "CPUAffinity 0-3, CPUSchedulingPolicy fifo, priority 80"));
        free(t);
}

static void ages(void **state)
{
        (void)state;
        char b[64];
        uint64_t now = 1700000000ull * 1000000;
        units_age_text(0, now, b, sizeof(b));
        assert_string_equal(b, "never");
        units_age_text(now - 5000000, now, b, sizeof(b));
        assert_string_equal(b, "5s ago");
        units_age_text(now - 3 * 86400ull * 1000000 - 7200ull * 1000000, now, b, sizeof(b));
        assert_string_equal(b, "3 days 2h ago");
        units_age_text(now + 1, now, b, sizeof(b));
        assert_non_null(strstr(b, "future"));
}

static void sdunit_helpers(void **state)
{
        (void)state;
        char b[32];
        assert_string_equal(sdunit_limit_text(SDUNIT_INFINITY, false, b), "infinity");
        assert_string_equal(sdunit_limit_text(SDUNIT_INFINITY - 1, false, b), "?");
        assert_string_equal(sdunit_limit_text(1024, false, b), "1024");
        const uint8_t mask[] = {0x0f, 0x01};
        char *a = sdunit_affinity_text(mask, sizeof(mask));
        assert_string_equal(a, "0-3,8");
        free(a);
        const uint8_t none[] = {0, 0};
        assert_null(sdunit_affinity_text(none, sizeof(none)));
        assert_null(sdunit_affinity_text(NULL, 0));
        assert_true(sdunit_name_valid("lavinmq.service"));
        assert_true(sdunit_name_valid("lavinmq@main.service"));
        assert_true(sdunit_name_valid("dev-disk-by\\x2duuid.device"));
        assert_false(sdunit_name_valid(""));
        assert_false(sdunit_name_valid("lavinmq"));
        assert_false(sdunit_name_valid("a b.service"));
        assert_false(sdunit_name_valid("x/y.service"));
        assert_false(sdunit_name_valid(".service"));
        assert_false(sdunit_name_valid("x."));
        char longname[SDUNIT_NAME_MAX + 8];
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + SDUNIT_NAME_MAX - 4, ".service");
        assert_false(sdunit_name_valid(longname));
}

/* No systemd: the system bus is not even tried where PID 1 is not systemd (this
 * build host, containers), and an address with no bus fails at once. */
static void sdunit_no_bus(void **state)
{
        (void)state;
        struct sdunit_bus b;
        char *why = NULL;
        int r = sdunit_open(&b, "unix:path=/nonexistent/evodiag-test-bus", 1000, &why);
        assert_true(r == -ENOENT || r == -ECONNREFUSED);
        assert_non_null(why);
        assert_non_null(strstr(why, "/nonexistent/evodiag-test-bus"));
        free(why);
        int pid = -1;
        r = sdunit_main_pid("unix:path=/nonexistent/evodiag-test-bus", "lavinmq.service", 1000, &pid, &why);
        assert_true(r < 0);
        assert_int_equal(pid, 0);
        free(why);
}

/* A GetAll reply as a hostile bus could make it: wrong types are skipped, lists capped. */
static void parse_props(void **state)
{
        (void)state;
        sd_bus *b = NULL;
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(sd_bus_new(&b), 0);
        assert_int_equal(sd_bus_set_fd(b, sv[0], sv[0]), 0);
        assert_int_equal(sd_bus_start(b), 0);
        sd_bus_message *m = NULL;
        assert_int_equal(sd_bus_message_new_method_call(b, &m, "org.freedesktop.systemd1", "/x", "org.freedesktop.DBus.Properties",
                                                        "GetAll"),
                         0);
        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        assert_true(sd_bus_message_append(m, "{sv}", "MainPID", "u", 4242) >= 0);
        assert_true(sd_bus_message_append(m, "{sv}", "NRestarts", "s", "5") >= 0);  /* wrong type: skipped */
        assert_true(sd_bus_message_append(m, "{sv}", "LimitCORE", "t", (uint64_t)0) >= 0);
        assert_true(sd_bus_message_append(m, "{sv}", "ActiveState", "s", "failed") >= 0);
        assert_true(sd_bus_message_append(m, "{sv}", "Foo", "a{sv}", 1, "x", "u", 1) >= 0); /* unknown: skipped */
        assert_true(sd_bus_message_append(m, "{sv}", "CPUAffinity", "ay", 2, 0x0f, 0x01) >= 0);
        assert_true(sd_bus_message_open_container(m, 'e', "sv") >= 0);
        assert_true(sd_bus_message_append_basic(m, 's', "DropInPaths") >= 0);
        assert_true(sd_bus_message_open_container(m, 'v', "as") >= 0);
        assert_true(sd_bus_message_open_container(m, 'a', "s") >= 0);
        for (int i = 0; i < 300; i++)
                assert_true(sd_bus_message_append_basic(m, 's', "/etc/x.conf") >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
        assert_true(sd_bus_message_rewind(m, 1) >= 0);
        struct sdunit u;
        sdunit_init(&u);
        assert_int_equal(sdunit_parse_props(m, &u), 0);
        assert_int_equal(u.main_pid, 4242);
        assert_false(u.have_nrestarts);
        assert_true(u.have_limits);
        assert_int_equal(u.limit_core, 0);
        assert_int_equal(u.limit_nofile, SDUNIT_INFINITY - 1); /* not reported: unknown */
        assert_string_equal(u.active_state, "failed");
        assert_string_equal(u.cpu_affinity, "0-3,8");
        assert_int_equal(u.ndrop_ins, 256);
        assert_true(u.is_service);
        sdunit_free(&u);
        sd_bus_message_unref(m);
        sd_bus_close_unref(b);
        close(sv[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(state_verdicts),  cmocka_unit_test(restart_verdicts), cmocka_unit_test(limit_problems),
                cmocka_unit_test(status_text),     cmocka_unit_test(ages),             cmocka_unit_test(sdunit_helpers),
                cmocka_unit_test(sdunit_no_bus),   cmocka_unit_test(parse_props),
        };
        return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
