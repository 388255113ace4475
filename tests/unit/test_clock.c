/* Unit tests of the clock collector's decisions, on timex fixtures: what
 * ntp_adjtime() returns on a host chrony keeps in sync, on one nothing keeps in sync
 * (the kernel's defaults after boot), and on one whose error bound grew. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/timex.h>
#include "collectors/clock.h"

/* chronyd, synced: PLL|NANO, offset 1234 ns, maxerror 12 ms, esterror 150 us. */
static const struct clock_timex synced = {.state = TIME_OK, .status = STA_PLL | STA_NANO, .offset = 1234,
                                          .maxerror = 12000, .esterror = 150, .freq = -1234567, .tick = 10000};
/* After boot with no daemon: UNSYNC, state TIME_ERROR, maxerror at the kernel's 16 s. */
static const struct clock_timex unsynced = {.state = TIME_ERROR, .status = STA_UNSYNC, .offset = 0,
                                            .maxerror = 16000000, .esterror = 16000000, .tick = 10000};
/* Synced, but the sources went away for a while: maxerror has grown to 1.5 s. */
static const struct clock_timex large_maxerror = {.state = TIME_OK, .status = STA_PLL, .offset = -80,
                                                  .maxerror = 1500000, .esterror = 4000, .tick = 10000};

static void sync_verdicts(void **state)
{
        (void)state;
        assert_true(clock_synced(&synced));
        assert_false(clock_synced(&unsynced));
        assert_true(clock_synced(&large_maxerror));
        assert_int_equal(clock_sync_verdict(&synced, true), SEV_OK);
        assert_int_equal(clock_sync_verdict(&unsynced, true), SEV_WARN);
        assert_int_equal(clock_sync_verdict(&unsynced, false), SEV_INFO);
        /* TIME_ERROR alone (STA_UNSYNC clear, as while a PPS signal is lost) is not synced */
        struct clock_timex t = synced;
        t.state = TIME_ERROR;
        assert_false(clock_synced(&t));
        /* UNSYNC alone with TIME_OK: not synced either */
        t = synced;
        t.status |= STA_UNSYNC;
        assert_int_equal(clock_sync_verdict(&t, true), SEV_WARN);
        /* a leap second pending is still synced */
        t = synced;
        t.state = TIME_INS;
        t.status |= STA_INS;
        assert_int_equal(clock_sync_verdict(&t, true), SEV_OK);
}

static void maxerror_verdicts(void **state)
{
        (void)state;
        assert_int_equal(clock_maxerror_verdict(&synced, 100000), SEV_OK);
        assert_int_equal(clock_maxerror_verdict(&large_maxerror, 100000), SEV_WARN);
        assert_int_equal(clock_maxerror_verdict(&large_maxerror, 2000000), SEV_OK);
        /* exactly at the bound is fine */
        assert_int_equal(clock_maxerror_verdict(&large_maxerror, 1500000), SEV_OK);
        /* unsynced: maxerror says nothing more */
        assert_int_equal(clock_maxerror_verdict(&unsynced, 100000), SEV_SKIPPED);
}

static void offset_units(void **state)
{
        (void)state;
        assert_true(clock_offset_us(&synced) > 1.233 && clock_offset_us(&synced) < 1.235); /* ns -> us */
        assert_true(clock_offset_us(&large_maxerror) == -80.0);                             /* already us */
}

static void names(void **state)
{
        (void)state;
        char b[160];
        assert_string_equal(clock_status_text(synced.status, b, sizeof(b)), "PLL|NANO");
        assert_string_equal(clock_status_text(unsynced.status, b, sizeof(b)), "UNSYNC");
        assert_string_equal(clock_status_text(0, b, sizeof(b)), "none");
        /* a short buffer is cut, never overrun */
        char s[6];
        clock_status_text(STA_PLL | STA_UNSYNC | STA_NANO, s, sizeof(s));
        assert_true(strlen(s) < sizeof(s));
        assert_string_equal(clock_state_name(TIME_OK), "TIME_OK");
        assert_string_equal(clock_state_name(TIME_ERROR), "TIME_ERROR (not synchronized)");
        assert_string_equal(clock_state_name(42), "unknown");
}

static void daemons_known(void **state)
{
        (void)state;
        bool chrony = false, ptp4l = false;
        for (size_t i = 0; clock_daemons[i].name; i++) {
                chrony |= !strcmp(clock_daemons[i].name, "chronyd") && !strcmp(clock_daemons[i].user, "_chrony");
                ptp4l |= !strcmp(clock_daemons[i].name, "ptp4l") && clock_daemons[i].ptp && !*clock_daemons[i].user;
        }
        assert_true(chrony);
        assert_true(ptp4l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sync_verdicts),
                cmocka_unit_test(maxerror_verdicts),
                cmocka_unit_test(offset_units),
                cmocka_unit_test(names),
                cmocka_unit_test(daemons_known),
        };
        return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
