#!/bin/bash
# clock collector: the live kernel clock state (ntp_adjtime() is real here: the test
# reports what it says and checks the finding agrees with adjtimex's own view), and
# fixture roots for the time daemons (trusted by lib/trust's rules: root or the
# daemon's user; a process of another user with a daemon's name is ignored) and PTP
# hardware clocks (/sys/class/ptp, /dev/ptp*). The timex decisions themselves are
# unit-tested on fixtures (tests/unit/test_clock.c). The live-only checks are skipped
# by check --from.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
command -v jq >/dev/null || t_skip_all "jq is needed"

field() { # ID FIELD: a field of the first finding ID
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | first // ""'
}

# ---------------------------------------------------------------- live
t_run check --only clock --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.name == "clock") | .findings[] | .id] | sort | join(" ")')" \
        "clock.daemon clock.maxerror clock.ptp clock.sync" "live: every check reports"
sync=$(t_sev clock.sync)
echo "# live clock here: $(field clock.sync summary); $(field clock.sync actual)"
t_like "$(field clock.sync actual)" "^state TIME_[A-Z]+.*, status [A-Z|]+, offset -?[0-9]+ us, maxerror [0-9]+ us, esterror [0-9]+ us$" \
        "live: the kernel's state, status, offset, maxerror and esterror"
if printf '%s' "$(field clock.sync actual)" | grep -q UNSYNC; then
        t_like "$sync" "^(info|warn)$" "live: STA_UNSYNC set: not ok"
        t_is "$(t_sev clock.maxerror)" skipped "live: unsynced: maxerror not judged"
else
        t_is "$sync" ok "live: STA_UNSYNC clear: ok"
        t_like "$(t_sev clock.maxerror)" "^(ok|warn)$" "live: synced: maxerror judged"
fi

# ---------------------------------------------------------------- fixture roots
root=$(fx_root ptp)
fx_file "$root" sys/class/ptp/ptp0/clock_name "e1000e PTP"
fx_file "$root" etc/passwd "root:x:0:0:root:/root:/bin/bash
_chrony:x:104:110:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin"
t_run check --root "$root" --only clock --json
t_is "$(t_sev clock.sync)" skipped "--root: clock.sync is live only: skipped"
t_is "$(t_sev clock.ptp)" info "a PTP clock without ptp4l/phc2sys: info"
t_is "$(field clock.ptp summary)" "1 PTP hardware clock present, but neither ptp4l nor phc2sys runs" "ptp: summary"
t_is "$(field clock.ptp actual)" "ptp0 (e1000e PTP)" "ptp: its clock_name"
t_is "$(t_sev clock.daemon)" info "no daemon, sync state unknown (--root): info"

fx_proc "$root" 500 chronyd uid=104 cmdline="/usr/sbin/chronyd -F 1"
fx_proc "$root" 600 ptp4l uid=0 cmdline="ptp4l -i eth0 -m"
t_run check --root "$root" --only clock --json
t_is "$(t_sev clock.daemon)" ok "chronyd owned by _chrony: vouched for"
t_like "$(field clock.daemon summary)" "^time kept by chrony \(NTP\) pid 500, ptp4l \(PTP\) pid 600$" "daemon: both named with their pids"
t_is "$(t_sev clock.ptp)" ok "a PTP clock with ptp4l: ok"

root2=$(fx_root impostor)
fx_file "$root2" dev/ptp1 ""
fx_proc "$root2" 700 ptp4l uid=65534 cmdline="ptp4l -i eth0"
fx_proc "$root2" 701 chronyd uid=65534 cmdline="chronyd"
t_run check --root "$root2" --only clock --json
t_is "$(t_sev clock.daemon)" info "daemons run by uid 65534: not vouched for"
t_like "$(field clock.daemon actual)" "^none \(2 processes with a daemon's name not vouched for: ignored\)$" "impostors counted, ignored"
t_is "$(t_sev clock.ptp)" info "the impostor ptp4l does not count: info"
t_is "$(field clock.ptp actual)" "/dev/ptp1" "ptp: /dev/ptpN without sysfs"

# ---------------------------------------------------------------- bundle and check --from
t_run bundle --only clock -o "$T_TMP/c.tar.zst"
t_is "$RC" 0 "bundle: exit 0"
mkdir -p "$T_TMP/x"
tar --zstd -xf "$T_TMP/c.tar.zst" -C "$T_TMP/x" 2>/dev/null
td=$(find "$T_TMP/x" -path '*collectors/clock/timedatectl.txt' -exec cat {} + 2>/dev/null)
t_like "$td" "System clock synchronized: (yes|no)" "bundle: a timedatectl-like summary"
t_like "$td" "Maximum / estimated error: [0-9]+ us / [0-9]+ us" "bundle: the error bounds"
t_like "$td" "Time daemon: " "bundle: the daemon line"
t_run check --from "$T_TMP/c.tar.zst" --only clock --json
t_is "$(t_sev clock.sync)" skipped "check --from: the live-only clock.sync is skipped"
t_like "$(t_sev clock.ptp)" "^(ok|info)$" "check --from: clock.ptp replays"
# clock.daemon's warn/info follows the live sync state: not compared, so the re-check agrees
t_like "$ERR" "re-checked offline: 1 collectors agree with the bundle's recorded findings, 0 differ" "check --from: agrees with the bundle"

t_done
