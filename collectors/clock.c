/* clock: can this host's clock be trusted? The one fact every cross-host bug report
 * assumes. The kernel's time-sync state (ntp_adjtime(): STA_UNSYNC, maxerror,
 * esterror, offset: live only), which daemon keeps the time (chronyd,
 * systemd-timesyncd, ntpd, ptp4l, phc2sys from the process table, believed only
 * where lib/trust vouches for the process), and the PTP hardware clocks (/dev/ptp*,
 * /sys/class/ptp, through rootfs). clock_format.c holds the decisions. */
#include "config.h"
#include "collectors/clock.h"
#include "collectors/collector.h"
#include "collectors/sink.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <sys/timex.h>
#include <time.h>

#define MAX_PTP 64

static const struct check_info checks[] = {
        {"clock.sync", "Clock synchronized",
         "The kernel's own view (ntp_adjtime(), what timedatectl's \"System clock synchronized\"\n"
         "shows): STA_UNSYNC set means no daemon has disciplined the clock recently. Journals,\n"
         "bundles and traces from several hosts cannot be lined up then, and RT and trading setups\n"
         "assume synced time. warn when components run on the host, info otherwise. Live only:\n"
         "a bundle cannot replay it.\n"
         "Fix: apt install chrony (or systemctl enable --now systemd-timesyncd); chronyc tracking;\n"
         "timedatectl timesync-status.",
         true},
        {"clock.maxerror", "Clock error bound",
         "maxerror is the kernel's bound on the clock's error (microseconds), which the time daemon\n"
         "keeps small; esterror its estimate. warn above [clock] maxerror_max: timestamps may be off\n"
         "by that much. Not judged while the clock is unsynchronized (the kernel lets it grow to\n"
         "16 s). Live only.\n"
         "Fix: chronyc sources -v (reachable sources?), chronyc tracking; a closer or more NTP servers,\n"
         "or PTP where microseconds matter.",
         true},
        {"clock.daemon", "Time daemon",
         "Which daemon keeps the time: chronyd, systemd-timesyncd, ntpd, ptp4l/phc2sys. A process\n"
         "counts only where lib/trust vouches for it (root or the daemon's own user owns it): a\n"
         "process anyone can start with that name says nothing. warn: none runs and the clock is not\n"
         "synchronized; info: none runs but the clock is synchronized (a hypervisor clock, or a\n"
         "daemon evodiag does not know); ok: one runs. The warn/info choice uses the kernel's sync\n"
         "state, which is read live only: a bundle's re-check (check --from) can say whether a daemon\n"
         "ran, not which of the two, so it is not compared with the recorded verdict.\n"
         "Fix: apt install chrony; systemctl enable --now chrony.",
         true},
        {"clock.ptp", "PTP hardware clock",
         "PTP hardware clocks (/sys/class/ptp/ptpN, /dev/ptpN: NICs with hardware timestamping).\n"
         "info: a PTP clock is present but neither ptp4l nor phc2sys runs: the host could have\n"
         "sub-microsecond time and does not use it (fine when NTP precision is enough).\n"
         "Fix: apt install linuxptp; ptp4l -i IFACE -m; phc2sys -s IFACE -w -m (or their units)."},
        {0},
};

static const struct config_key config[] = {
        CONF_DURATION("maxerror_max", "100ms", "warn when the kernel's maxerror is above this"),
        CONF_LIST("component_names", "lavinmq,cerebellar-norse,evo_control_unit,mediator_phase3,cuda_mediator",
                  "process names whose presence makes an unsynchronized clock a warning"),
        {0},
};

struct daemons {
        const struct clock_daemon *d[8];
        int pid[8];
        size_t n;
        size_t impostors;
        int err;
        bool components;
};

static void find_daemons(struct ctx *c, struct daemons *out)
{
        *out = (struct daemons){0};
        struct proctable pt;
        out->err = proctable_load(&pt);
        if (out->err < 0)
                return;
        const char *comps = conf_str(c, "component_names");
        for (size_t i = 0; i < pt.n; i++) {
                const struct proc *p = &pt.v[i];
                if (p->kthread || p->state == 'Z')
                        continue;
                if (!out->components && list_has_word(comps, p->comm))
                        out->components = true;
                bool named = false, trusted = false;
                for (size_t k = 0; clock_daemons[k].name && !trusted; k++) {
                        const struct clock_daemon *d = &clock_daemons[k];
                        if (!component_named(p, d->name))
                                continue;
                        named = true;
                        struct trust t;
                        trust_init(&t, d->name, d->user);
                        struct trust_proc tp;
                        trusted = trust_process(&t, p->pid, &tp);
                        trust_free(&t);
                        if (trusted && out->n < ARRAY_SIZE(out->d)) {
                                out->d[out->n] = d;
                                out->pid[out->n++] = p->pid;
                        }
                }
                if (named && !trusted)
                        out->impostors++;
        }
        proctable_free(&pt);
}

static bool ptp_name(const char *s)
{
        if (strncmp(s, "ptp", 3) || !s[3])
                return false;
        for (s += 3; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

/* "ptp0 (e1000e PTP), ptp1 (...)" from /sys/class/ptp, plus /dev/ptpN that sysfs
 * did not list. Returns how many. */
static size_t read_ptp(struct strbuf *b)
{
        size_t n = 0;
        struct rootfs_dir *d = rootfs_opendir("/sys/class/ptp");
        struct dirent *de;
        while (d && (de = rootfs_readdir(d)) && n < MAX_PTP) {
                if (!ptp_name(de->d_name))
                        continue;
                char path[300];
                snprintf(path, sizeof(path), "/sys/class/ptp/%s/clock_name", de->d_name);
                _cleanup_free_ char *name = NULL;
                bool have = rootfs_read_value(path, &name) == 0;
                sb_printf(b, "%s%s (%s)", n ? ", " : "", de->d_name, have ? name : "no clock_name");
                n++;
        }
        if (d)
                rootfs_closedir(d);
        if (n)
                return n;
        d = rootfs_opendir("/dev");
        while (d && (de = rootfs_readdir(d)) && n < MAX_PTP)
                if (ptp_name(de->d_name)) {
                        sb_printf(b, "%s/dev/%s", n ? ", " : "", de->d_name);
                        n++;
                }
        if (d)
                rootfs_closedir(d);
        return n;
}

static int read_timex(struct clock_timex *t)
{
        struct timex tx = {0}; /* modes 0: read only */
        int r = ntp_adjtime(&tx);
        if (r < 0)
                return -errno;
        *t = (struct clock_timex){.state = r, .status = tx.status, .offset = tx.offset, .maxerror = tx.maxerror,
                                  .esterror = tx.esterror, .freq = tx.freq, .tick = tx.tick};
        return 0;
}

static void daemons_text(const struct daemons *d, struct strbuf *b)
{
        for (size_t i = 0; i < d->n; i++)
                sb_printf(b, "%s%s pid %d", i ? ", " : "", d->d[i]->what, d->pid[i]);
        if (!d->n)
                sb_puts(b, "none");
        if (d->impostors)
                sb_printf(b, " (%zu process%s with a daemon's name not vouched for: ignored)", d->impostors,
                          d->impostors == 1 ? "" : "es");
}

static void check_timex(struct ctx *c, struct findings *fs, const struct daemons *d, int *synced)
{
        struct finding *f;
        *synced = -1;
        if (!rootfs_is_live()) {
                f = fnd_add(fs, SEV_SKIPPED, "clock.sync", "not the live system (--root): the kernel's clock state is read live only");
                f = fnd_add(fs, SEV_SKIPPED, "clock.maxerror", "not the live system (--root)");
                return;
        }
        struct clock_timex t;
        int r = read_timex(&t);
        if (r < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "clock.sync", "ntp_adjtime() failed: %s", strerror(-r));
                fnd_evidence(f, "ntp_adjtime()");
                return;
        }
        *synced = clock_synced(&t);
        char st[160];
        clock_status_text(t.status, st, sizeof(st));
        enum severity sev = clock_sync_verdict(&t, d->components);
        if (sev == SEV_OK)
                f = fnd_add(fs, sev, "clock.sync", "system clock synchronized (offset %.0f us, maxerror %ld us)", clock_offset_us(&t),
                            t.maxerror);
        else
                f = fnd_add(fs, sev, "clock.sync", "system clock not synchronized%s", d->components ? " on a host running components" : "");
        fnd_expected(f, "STA_UNSYNC clear (a time daemon disciplines the clock)");
        fnd_actual(f, "state %s, status %s, offset %.0f us, maxerror %ld us, esterror %ld us", clock_state_name(t.state), st,
                   clock_offset_us(&t), t.maxerror, t.esterror);
        fnd_evidence(f, "ntp_adjtime()");
        if (sev != SEV_OK)
                fnd_remedy(f, "apt install chrony && systemctl enable --now chrony; chronyc tracking   # or: systemctl enable --now "
                              "systemd-timesyncd; timedatectl timesync-status");
        uint64_t max_ms = 100;
        (void)parse_duration_ms(conf_str(c, "maxerror_max"), &max_ms);
        sev = clock_maxerror_verdict(&t, max_ms * 1000);
        if (sev == SEV_SKIPPED)
                f = fnd_add(fs, sev, "clock.maxerror", "not judged: the clock is not synchronized (maxerror %ld us)", t.maxerror);
        else
                f = fnd_add(fs, sev, "clock.maxerror", "maxerror %ld us%s (estimated error %ld us)", t.maxerror,
                            sev == SEV_WARN ? ": timestamps may be off that much" : "", t.esterror);
        fnd_expected(f, "maxerror at most %s", conf_str(c, "maxerror_max"));
        fnd_actual(f, "maxerror %ld us, esterror %ld us", t.maxerror, t.esterror);
        fnd_evidence(f, "ntp_adjtime()");
        if (sev == SEV_WARN)
                fnd_remedy(f, "chronyc sources -v; chronyc tracking   # reachable, close NTP sources; PTP where microseconds matter");
}

static void clock_check(struct ctx *c, struct findings *fs)
{
        struct daemons d;
        find_daemons(c, &d);
        int synced;
        check_timex(c, fs, &d, &synced);
        struct finding *f;
        struct strbuf b = {0};
        daemons_text(&d, &b);
        size_t ntime = 0;
        bool ptpd = false;
        for (size_t i = 0; i < d.n; i++)
                ptpd |= d.d[i]->ptp, ntime++;
        if (d.err < 0)
                f = fnd_add(fs, SEV_UNKNOWN, "clock.daemon", "cannot read the process table: %s", strerror(-d.err));
        else if (ntime)
                f = fnd_add(fs, SEV_OK, "clock.daemon", "time kept by %s", b.s);
        else if (synced == 0)
                f = fnd_add(fs, SEV_WARN, "clock.daemon", "no time daemon runs and the clock is not synchronized");
        else
                f = fnd_add(fs, SEV_INFO, "clock.daemon", "no time daemon evodiag knows runs%s",
                            synced == 1 ? " (the clock is synchronized: a hypervisor clock or another daemon?)" : "");
        fnd_expected(f, "one of chronyd, systemd-timesyncd, ntpd, ptp4l/phc2sys, run by root or its own user");
        fnd_actual(f, "%s", b.s);
        fnd_evidence(f, "/proc/*/stat, /proc/*/cmdline, /proc/*/status");
        if (f->sev == SEV_WARN)
                fnd_remedy(f, "apt install chrony && systemctl enable --now chrony");
        sb_free(&b);

        struct strbuf p = {0};
        size_t nptp = read_ptp(&p);
        struct stat sys_st;
        if (!nptp && rootfs_stat("/sys/class", &sys_st, false) < 0)
                /* nothing to look in (a copy without /sys): absence of evidence is not an ok */
                f = fnd_add(fs, SEV_SKIPPED, "clock.ptp", "/sys/class cannot be read: PTP hardware clocks unknown");
        else if (!nptp)
                f = fnd_add(fs, SEV_OK, "clock.ptp", "no PTP hardware clock");
        else if (ptpd)
                f = fnd_add(fs, SEV_OK, "clock.ptp", "%zu PTP hardware clock%s, ptp4l/phc2sys runs", nptp, nptp == 1 ? "" : "s");
        else {
                f = fnd_add(fs, SEV_INFO, "clock.ptp", "%zu PTP hardware clock%s present, but neither ptp4l nor phc2sys runs", nptp,
                            nptp == 1 ? "" : "s");
                fnd_remedy(f, "only if sub-microsecond time matters here: apt install linuxptp; ptp4l -i IFACE -m; phc2sys -s IFACE -w -m");
        }
        fnd_actual(f, "%s", nptp ? p.s : "none in /sys/class/ptp or /dev");
        fnd_evidence(f, "/sys/class/ptp, /dev/ptp*");
        sb_free(&p);
}

/* A `timedatectl`-like summary. */
static void clock_collect(struct ctx *c, struct bundle_sink *s)
{
        struct strbuf b = {0};
        char when[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
        sb_printf(&b, "               Universal time: %s\n", when);
        struct clock_timex t;
        if (!rootfs_is_live()) {
                sb_puts(&b, "System clock synchronized: unknown (not the live system)\n");
        } else if (read_timex(&t) == 0) {
                char st[160];
                sb_printf(&b, "System clock synchronized: %s\n", clock_synced(&t) ? "yes" : "no");
                sb_printf(&b, "                 Kernel state: %s, status %s\n", clock_state_name(t.state),
                          clock_status_text(t.status, st, sizeof(st)));
                sb_printf(&b, "                       Offset: %.3f us\n", clock_offset_us(&t));
                sb_printf(&b, "       Maximum / estimated error: %ld us / %ld us\n", t.maxerror, t.esterror);
                sb_printf(&b, "                    Frequency: %+.3f ppm\n", (double)t.freq / 65536.0);
        } else {
                sb_printf(&b, "System clock synchronized: unknown (ntp_adjtime: %s)\n", strerror(errno));
        }
        struct daemons d;
        find_daemons(c, &d);
        sb_puts(&b, "                  Time daemon: ");
        daemons_text(&d, &b);
        sb_puts(&b, "\n          PTP hardware clocks: ");
        struct strbuf p = {0};
        sb_puts(&b, read_ptp(&p) ? p.s : "none");
        sb_puts(&b, "\n");
        sb_free(&p);
        _cleanup_free_ char *tz = NULL;
        if (rootfs_read_value("/etc/timezone", &tz) == 0)
                sb_printf(&b, "                    Time zone: %s\n", tz);
        sink_text(s, "timedatectl.txt", "derived", "ntp_adjtime(), /proc, /sys/class/ptp", b.s, b.len);
        sb_free(&b);
}

const struct collector clock_collector = {
        .name = "clock",
        .summary = "clock synchronized (adjtimex), time daemon, PTP hardware clocks",
        .checks = checks,
        .config = config,
        .check = clock_check,
        .collect = clock_collect,
};
