/* clock collector: the decisions (clock_format.c, pure), exported for the unit tests. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "lib/finding.h"

/* What adjtimex()/ntp_adjtime() says, in the units the kernel uses (offset in ns
 * when STA_NANO, else us; maxerror and esterror always us). */
struct clock_timex {
        int state;  /* the return value: TIME_OK .. TIME_ERROR (5) */
        int status; /* STA_* bits */
        long offset, maxerror, esterror, freq;
        long tick;
};
/* Whether the kernel considers the clock synchronized: STA_UNSYNC clear and the
 * state is not TIME_ERROR (which ntp_adjtime returns while unsynchronized). */
bool clock_synced(const struct clock_timex *t);
/* The offset in microseconds whatever STA_NANO says. */
double clock_offset_us(const struct clock_timex *t);
/* clock.sync: ok when synced; unsynced: warn when components run here (their logs and
 * bundles from several hosts cannot be lined up), else info. */
enum severity clock_sync_verdict(const struct clock_timex *t, bool components);
/* clock.maxerror: warn above max_us, ok below; SEV_SKIPPED when unsynchronized
 * (then the kernel lets maxerror grow to 16 s and it says nothing more). */
enum severity clock_maxerror_verdict(const struct clock_timex *t, uint64_t max_us);
/* "TIME_OK", "TIME_ERROR", ... */
const char *clock_state_name(int state);
/* The STA_* flags set, "PLL|UNSYNC|NANO" style, into buf. */
const char *clock_status_text(int status, char *buf, size_t n);

/* The time daemons evodiag knows, their process names and service users. */
struct clock_daemon {
        const char *name, *user, *what;
        bool ptp; /* ptp4l, phc2sys: PTP, not NTP */
};
extern const struct clock_daemon clock_daemons[];
