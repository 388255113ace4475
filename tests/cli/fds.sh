#!/bin/bash
# fds collector: fixture sysroots (exhaustion, healthy, garbage, thresholds, not root)
# and live processes this test starts itself (an fd hog, the run as nobody).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

# Severities of the findings ID about SUBJECT in $OUT ("" = none).
sev_of() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
# Field F of the finding ID about SUBJECT ("-" = the one without a subject that is not
# a skipped note: the summary, or a system-wide verdict).
field_of() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" --arg f "$3" \
                '[.collectors[].findings[] | select(.id == $id and (.subject // "-") == $s and
                  ($s != "-" or .severity != "skipped")) | .[$f] // ""] | join("|")'
}
# Every subject of the findings of ID, sorted.
subjects() {
        printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id and .subject) | .subject] | sort | join(",")'
}

# ---- FD exhaustion: a broker at its limit, a module near it, the host near file-max ----
root=$(fx_root exhausted fds-exhausted)
fx_proc "$root" 1 init cmdline=/sbin/init
fx_proc "$root" 2 kthreadd ppid=0 cmdline= fds=0
fx_proc "$root" 4242 lavinmq uid=999 fds=1000 nofile_soft=1024 nofile_hard=1024 \
        cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
fx_file "$root" /proc/4242/cgroup "0::/system.slice/lavinmq.service"
fx_proc "$root" 5000 evo_hal uid=1000 fds=850 nofile_soft=1024
fx_proc "$root" 5001 evo_re uid=1000 fds=700 nofile_soft=1024
t_run check --root "$root" --only fds --json
t_is "$RC" 2 "exhaustion: exit 2 (crit)"
t_is "$(t_sev fds.system)" warn "exhaustion: fds.system warn at 85% of file-max"
t_is "$(t_sev fds.nr_open)" info "exhaustion: fds.nr_open is info"
t_is "$(t_sev fds.process)" "crit,warn,info" "exhaustion: fds.process crit, warn, then the info summary"
t_is "$(sev_of fds.process 'pid 4242 lavinmq')" crit "exhaustion: 1000 of 1024 fds is crit"
t_is "$(sev_of fds.process 'pid 5000 evo_hal')" warn "exhaustion: 850 of 1024 fds is warn"
t_is "$(subjects fds.process)" "pid 4242 lavinmq,pid 5000 evo_hal" "exhaustion: no finding for the process at 68% or the kernel thread"
t_is "$(field_of fds.process 'pid 4242 lavinmq' summary)" "pid 4242 lavinmq: 1000 of 1024 open files (97.7%)" "exhaustion: crit summary"
t_is "$(field_of fds.process 'pid 4242 lavinmq' actual)" "1000 fds open; soft limit 1024, hard 1024" "exhaustion: crit actual"
rem=$(field_of fds.process 'pid 4242 lavinmq' remedy)
t_like "$rem" '^prlimit --pid 4242 --nofile=65536:65536 ' "exhaustion: remedy raises the running broker's limit"
t_like "$rem" 'systemctl edit lavinmq\.service -> \[Service\] LimitNOFILE=infinity' "exhaustion: remedy names the broker's unit (from its cgroup)"
t_like "$rem" '1 fd per connection \+ 2 per durable queue' "exhaustion: remedy quotes the LavinMQ guide"
t_like "$(field_of fds.process 'pid 5000 evo_hal' remedy)" "'evo - nofile 65536' in /etc/security/limits.conf" \
        "exhaustion: no unit -> limits.conf with the owner's name from etc/passwd"
t_is "$(field_of fds.process - summary)" "4 processes inspected, 2 at >= 80% of the soft open-files limit" \
        "exhaustion: summary counts the user-space processes"
t_is "$(field_of fds.process - actual)" \
        "top by share of limit: pid 4242 lavinmq 1000/1024 (97.7%), pid 5000 evo_hal 850/1024 (83.0%), pid 5001 evo_re 700/1024 (68.4%), pid 1 init 4/1024 (0.4%)" \
        "exhaustion: summary lists the top consumers by share"
t_like "$(field_of fds.system - remedy)" '^sysctl -w fs\.file-max=4932386 && echo .fs\.file-max = 4932386. > /etc/sysctl\.d/99-file-max\.conf' \
        "exhaustion: fds.system remedy raises and persists file-max"
t_is "$(field_of fds.system - actual)" "2100000 allocated, 0 unused, fs.file-max 2466193 (85.2%)" "exhaustion: fds.system actual"
t_run check --root "$root" --only fds
t_is "$RC" 2 "exhaustion text: exit 2"
t_like "$OUT" '^  CRIT +fds\.process  pid 4242 lavinmq: 1000 of 1024 open files \(97\.7%\)$' "exhaustion text: the crit line"
t_like "$OUT" '^  WARN +fds\.system  2100000 of 2466193 file handles in use on the host \(85\.2%\)$' "exhaustion text: the system line"
t_like "$OUT" 'remedy: +prlimit --pid 4242' "exhaustion text: remedy shown"

# ---- the host at file-max: crit ----
root=$(fx_root sysfull fds-healthy)
fx_file "$root" /proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
fx_proc "$root" 1 init
t_run check --root "$root" --only fds --json
t_is "$RC" 2 "file-max nearly reached: exit 2"
t_is "$(t_sev fds.system)" crit "file-max nearly reached: fds.system crit at 97%"
t_is "$(t_sev fds.process)" ok "file-max nearly reached: processes themselves fine"

# ---- a process already at fs.nr_open: the ceiling has to move first ----
fx_file "$root" /proc/sys/fs/nr_open 1024
fx_proc "$root" 600 evo_rpc fds=1000 nofile_soft=1024 nofile_hard=1024
t_run check --root "$root" --only fds --json
t_is "$(sev_of fds.process 'pid 600 evo_rpc')" crit "at fs.nr_open: crit"
t_like "$(field_of fds.process 'pid 600 evo_rpc' remedy)" \
        '^sysctl -w fs\.nr_open=2048 && prlimit --pid 600 --nofile=2048:2048 .*persist fs\.nr_open in /etc/sysctl\.d/' \
        "at fs.nr_open: remedy raises fs.nr_open before the limit"

# ---- healthy ----
root=$(fx_root healthy fds-healthy)
fx_proc "$root" 1 init cmdline=/sbin/init
fx_proc "$root" 2 kthreadd ppid=0 cmdline= fds=0
fx_proc "$root" 812 lavinmq uid=999 fds=57 nofile_soft=1048576 nofile_hard=1048576 cmdline=/usr/bin/lavinmq
fx_proc "$root" 900 evo_hal fds=12 nofile_soft=1024
t_run check --root "$root" --only fds --json
t_is "$RC" 0 "healthy: exit 0"
t_is "$(t_ids_with crit)$(t_ids_with warn)$(t_ids_with unknown)$(t_ids_with skipped)" "" "healthy: no crit, warn, unknown or skipped"
t_is "$(t_sev fds.system)" ok "healthy: fds.system ok"
t_is "$(t_sev fds.nr_open)" info "healthy: fds.nr_open info"
t_is "$(t_sev fds.process)" ok "healthy: one ok fds.process summary"
t_is "$(field_of fds.process - summary)" \
        "3 processes inspected, none at >= 80% of the soft open-files limit; highest: pid 900 evo_hal 12/1024 (1.2%)" \
        "healthy: summary shows the headroom"
t_is "$(field_of fds.nr_open - summary)" \
        "fs.nr_open = 1048576: the most any process's open-files limit can be (LimitNOFILE=infinity)" "healthy: nr_open summary"
t_run check --root "$root" --only fds -v # -v: ok lines listed, not folded into a count
t_like "$OUT" '^  OK +fds\.process  3 processes inspected, none' "healthy text: ok line"
t_like "$OUT" '^OK: 0 crit, 0 warn, 0 unknown' "healthy text: summary line"

# ---- thresholds and the process cap come from the config ----
printf '[fds]\nwarn_pct = 50\ncrit_pct = 60\nsystem_warn_pct = 90\n' >"$T_TMP/thr.conf"
root=$(fx_root thr fds-exhausted)
fx_proc "$root" 5000 evo_hal uid=1000 fds=550 nofile_soft=1024
fx_proc "$root" 5001 evo_re uid=1000 fds=700 nofile_soft=1024
t_run check --root "$root" --only fds --json --config "$T_TMP/thr.conf"
t_is "$(sev_of fds.process 'pid 5001 evo_re')" crit "config: 68% is crit with crit_pct = 60"
t_is "$(sev_of fds.process 'pid 5000 evo_hal')" warn "config: 54% is warn with warn_pct = 50"
t_is "$(t_sev fds.system)" ok "config: 85% of file-max is ok with system_warn_pct = 90"
printf '[fds]\nmax_procs = 1\n' >"$T_TMP/cap.conf"
t_run check --root "$root" --only fds --json --config "$T_TMP/cap.conf"
t_like "$(field_of fds.process - summary)" '^1 process inspected, .*; 1 not inspected \(\[fds\] max_procs\)$' \
        "config: max_procs caps the scan and says so"

# ---- garbage: never a crash, unknown findings that name the file ----
root=$(fx_root garbage fds-garbage)
fx_proc "$root" 300 badlim
printf 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            lots                 many                 files     \n' \
        >"$root/proc/300/limits"
fx_proc "$root" 301 nolim
printf 'Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \n' \
        >"$root/proc/301/limits"
fx_proc "$root" 302 binlim
printf '\x00\xff\x01Max open files\x00\n\xfe' >"$root/proc/302/limits"
fx_proc "$root" 303 fine fds=3
fx_proc "$root" 304 gone fds=900 nofile_soft=1000
i=0
while [ $i -lt 12 ]; do # more broken limits files than are reported one by one
        fx_proc "$root" $((400 + i)) many
        printf 'Max open files            x                    y                    files\n' >"$root/proc/$((400 + i))/limits"
        i=$((i + 1))
done
rm -rf "$root/proc/304/fd" # exited between the table and the fd count
t_run check --root "$root" --only fds --json
t_is "$RC" 3 "garbage: exit 3 (unknown)"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "fds") | .status')" ok "garbage: the collector ran to completion"
t_is "$(t_sev fds.system)" unknown "garbage file-nr: fds.system unknown"
t_like "$(field_of fds.system - summary)" '^/proc/sys/fs/file-nr is malformed' "garbage file-nr: says which file"
t_is "$(t_sev fds.nr_open)" unknown "garbage nr_open: unknown"
t_is "$(field_of fds.nr_open - summary)" "cannot read /proc/sys/fs/nr_open: not a number" "garbage nr_open: says why"
t_is "$(sev_of fds.process 'pid 300 badlim')" unknown "garbage limits: unknown"
t_is "$(field_of fds.process 'pid 300 badlim' summary)" "pid 300 badlim: malformed 'Max open files' line in /proc/300/limits" "garbage limits: says which file"
t_is "$(field_of fds.process 'pid 301 nolim' summary)" "pid 301 nolim: no 'Max open files' line in /proc/301/limits" "limits without the line: unknown"
t_is "$(sev_of fds.process 'pid 302 binlim')" unknown "binary limits: unknown"
t_unlike "$OUT" 'gone|"pid 304' "vanished process: skipped silently"
t_is "$(printf '%s' "$OUT" | jq '[.collectors[].findings[] | select(.id == "fds.process" and .severity == "unknown")] | length')" 11 \
        "garbage: at most 10 unknowns one by one, then one for the rest"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "fds.process" and .severity == "unknown" and .subject == null) | .summary')" \
        "5 more processes with an unreadable or malformed limits file" "garbage: the rest counted in one finding"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "fds.process" and .severity == "ok") | .summary')" \
        "1 process inspected, none at >= 80% of the soft open-files limit; highest: pid 303 fine 3/1024 (0.3%)" \
        "garbage: the good process is still judged"

# ---- missing files: unknown naming the file ----
root=$(fx_root empty)
t_run check --root "$root" --only fds --json
t_is "$RC" 3 "no /proc/sys: exit 3"
t_is "$(field_of fds.system - summary)" "cannot read /proc/sys/fs/file-nr: No such file or directory" "no file-nr: unknown naming it"
t_is "$(field_of fds.process - summary)" "no user-space process to inspect" "no processes: said so, ok"
t_is "$(t_sev fds.process)" ok "no processes: ok"

# ---- not root (fixture): other users' fd dirs unreadable -> skipped, never ok or crit about them ----
can_nobody() {
        [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
                setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$EVODIAG"
}
if can_nobody; then
        chmod 755 "$T_TMP"
        root=$(fx_root nonroot fds-healthy)
        fx_proc "$root" 100 mine uid=65534 fds=10
        fx_proc "$root" 200 theirs uid=0 fds=1000 nofile_soft=1024
        chmod 700 "$root/proc/200/fd"
        OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups env EVODIAG_CONFIG=/dev/null \
                timeout -k 5 60 "$EVODIAG" check --root "$root" --only fds --json 2>/dev/null)
        RC=$?
        t_is "$RC" 0 "not root: exit 0"
        t_is "$(t_sev fds.process)" "skipped,ok" "not root: ok about the inspected one, skipped for the other"
        t_is "$(field_of fds.process - summary)" "1 process inspected, none at >= 80% of the soft open-files limit; highest: pid 100 mine 10/1024 (1.0%)" \
                "not root: the ok speaks only of the process it could read"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.severity == "skipped") | .summary')" \
                '^needs root: 1 of 2 processes belong to other users; their /proc/PID/fd cannot be read' "not root: skipped says how many"
        t_is "$(sev_of fds.process 'pid 200 theirs')" "" "not root: no verdict about the unreadable process"
else
        t_skip "not root (fixture): needs root, setpriv, and $EVODIAG executable by nobody"
fi

# ---- live: processes this test starts, each holding many fds under a soft limit of 256 ----
hog() { # N: a process with N fds open (fds 3..N-1 on /dev/null) and soft RLIMIT_NOFILE 256
        bash -c 'ulimit -Sn 256 || exit 1; i=3; while [ $i -lt '"$1"' ]; do eval "exec $i</dev/null"; i=$((i + 1)); done; exec sleep 300' \
                </dev/null >/dev/null 2>&1 &
        echo $!
}
wait_sleep() { # PID: until bash has exec'd sleep (all fds open)
        local n=0
        while [ "$(cat "/proc/$1/comm" 2>/dev/null)" != sleep ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}
crit_pid=$(hog 250)
warn_pid=$(hog 215)
t_at_exit "kill $crit_pid $warn_pid 2>/dev/null"
wait_sleep "$crit_pid"
wait_sleep "$warn_pid"
# Counted, not assumed: the hogs also inherit whatever fds this test's parent leaked.
crit_n=$(ls "/proc/$crit_pid/fd" | wc -l)
warn_n=$(ls "/proc/$warn_pid/fd" | wc -l)
pct() { awk -v n="$1" 'BEGIN { printf "%.1f", n * 100 / 256 }'; }
t_like "$crit_n $warn_n" '^(24[4-9]|25[0-6]) (20[5-9]|2[1-3][0-9]|24[0-2])$' "live: the hogs hold >= 95% and 80-95% of 256 fds"
# Other processes on a busy host may hold a larger share: list them all (top = 1000) and
# assert on this test's own hogs, in their order, never on the whole table's.
# No inspection budget and a generous deadline: a busy host has many processes to read
# before these (a correctness test, not a benchmark).
printf '[fds]\ntop = 1000\nbudget_ms = 0\n' >"$T_TMP/fds-top.conf"
T_TIMEOUT=120 t_run check --only fds --json --config "$T_TMP/fds-top.conf" --collector-timeout 60s --timeout 90s
t_is "$(sev_of fds.process "pid $crit_pid sleep")" crit "live: $crit_n of 256 fds is crit, reported with its pid"
t_is "$(sev_of fds.process "pid $warn_pid sleep")" warn "live: $warn_n of 256 fds is warn"
t_is "$(field_of fds.process "pid $crit_pid sleep" actual)" "$crit_n fds open; soft limit 256, hard $(awk '/^Max open files/ {print $5}' "/proc/$crit_pid/limits")" \
        "live: actual has the count and both limits"
t_like "$(field_of fds.process "pid $crit_pid sleep" remedy)" "^prlimit --pid $crit_pid --nofile=65536:65536 " "live: remedy for that pid"
t_like "$(field_of fds.process - summary)" "^[0-9]+ processes inspected, [0-9]+ at >= 80%" "live: summary counts them"
t_like "$(field_of fds.process - actual)" "^top by share of limit: .*pid $crit_pid sleep $crit_n/256 \($(pct "$crit_n")%\), (.*, )?pid $warn_pid sleep $warn_n/256 \($(pct "$warn_n")%\)" \
        "live: the hogs are listed by share of their limit, the fuller first"
t_unlike "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[].summary')" 'evodiag' "live: evodiag does not report its own processes"

# ---- live, not root: root's processes (the hogs among them) are skipped, never a false alarm ----
if can_nobody; then
        OUT=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env EVODIAG_CONFIG=/dev/null \
                timeout -k 5 60 "$EVODIAG" check --only fds --json 2>/dev/null)
        RC=$?
        t_like "$(t_sev fds.process)" 'skipped' "live not root: fds.process skipped"
        t_unlike "$(t_sev fds.process)" 'warn|crit' "live not root: no false alarm"
        t_is "$(sev_of fds.process "pid $crit_pid sleep")" "" "live not root: no verdict about root's hog"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "fds.process" and .severity == "skipped") | .summary')" \
                '^needs root: [0-9]+ of [0-9]+ processes belong to other users' "live not root: says how many"
        t_is "$(t_sev fds.system)" "$(jq -rn --argjson u "$(awk '{print $1 - $2}' /proc/sys/fs/file-nr)" --argjson m "$(cat /proc/sys/fs/file-max)" \
                'if $u * 100 >= $m * 95 then "crit" elif $u * 100 >= $m * 80 then "warn" else "ok" end')" \
                "live not root: fds.system still judged"
else
        t_skip "live not root: needs root, setpriv, and $EVODIAG executable by nobody"
fi

t_done
