/* clock: the decisions, pure functions of what adjtimex() returned (clock.h;
 * tests/unit/test_clock.c on timex fixtures). */
#include "config.h"
#include "collectors/clock.h"
#include "lib/util.h"

#include <sys/timex.h>

const struct clock_daemon clock_daemons[] = {
        {"chronyd", "_chrony", "chrony (NTP)", false},
        {"systemd-timesyncd", "systemd-timesync", "systemd-timesyncd (SNTP)", false},
        {"ntpd", "ntp", "ntpd (NTP)", false},
        {"ntpd", "ntpsec", "ntpsec (NTP)", false},
        {"ptp4l", "", "ptp4l (PTP)", true},
        {"phc2sys", "", "phc2sys (PTP clock to system clock)", true},
        {0},
};

bool clock_synced(const struct clock_timex *t)
{
        return !(t->status & STA_UNSYNC) && t->state != TIME_ERROR;
}

double clock_offset_us(const struct clock_timex *t)
{
        return (t->status & STA_NANO) ? (double)t->offset / 1000.0 : (double)t->offset;
}

enum severity clock_sync_verdict(const struct clock_timex *t, bool components)
{
        if (clock_synced(t))
                return SEV_OK;
        return components ? SEV_WARN : SEV_INFO;
}

enum severity clock_maxerror_verdict(const struct clock_timex *t, uint64_t max_us)
{
        if (!clock_synced(t))
                return SEV_SKIPPED;
        return t->maxerror >= 0 && (uint64_t)t->maxerror > max_us ? SEV_WARN : SEV_OK;
}

const char *clock_state_name(int state)
{
        switch (state) {
        case TIME_OK: return "TIME_OK";
        case TIME_INS: return "TIME_INS (leap second to insert)";
        case TIME_DEL: return "TIME_DEL (leap second to delete)";
        case TIME_OOP: return "TIME_OOP (leap second in progress)";
        case TIME_WAIT: return "TIME_WAIT (leap second done)";
        case TIME_ERROR: return "TIME_ERROR (not synchronized)";
        default: return "unknown";
        }
}

const char *clock_status_text(int status, char *buf, size_t n)
{
        static const struct {
                int bit;
                const char *name;
        } bits[] = {
                {STA_PLL, "PLL"},         {STA_PPSFREQ, "PPSFREQ"}, {STA_PPSTIME, "PPSTIME"}, {STA_FLL, "FLL"},
                {STA_INS, "INS"},         {STA_DEL, "DEL"},         {STA_UNSYNC, "UNSYNC"},   {STA_FREQHOLD, "FREQHOLD"},
                {STA_PPSSIGNAL, "PPSSIGNAL"}, {STA_PPSJITTER, "PPSJITTER"}, {STA_PPSWANDER, "PPSWANDER"},
                {STA_PPSERROR, "PPSERROR"}, {STA_CLOCKERR, "CLOCKERR"}, {STA_NANO, "NANO"},
                {STA_MODE, "MODE"},       {STA_CLK, "CLK"},
        };
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; i < ARRAY_SIZE(bits) && len < n; i++)
                if (status & bits[i].bit) {
                        int k = snprintf(buf + len, n - len, "%s%s", len ? "|" : "", bits[i].name);
                        if (k < 0)
                                break;
                        len += (size_t)k;
                }
        if (!buf[0])
                snprintf(buf, n, "none");
        return buf;
}
