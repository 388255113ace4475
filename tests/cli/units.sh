#!/bin/bash
# units collector over D-Bus. systemd cannot run as PID 1 on a build host, so this test
# stands in for it: a private dbus-daemon (its own config: no service activation, a
# socket under the test's temp dir) and tests/helpers/fake_systemd, which owns
# org.freedesktop.systemd1 there and answers the Manager and Unit/Service properties
# evodiag reads, reached through [units] bus_address. Cases: active; failed with
# Result=exit-code; flapping (NRestarts 5, recently and long ago); LimitCORE=0; an RT
# unit's limits; another failed unit; a socket-activated service; MainPID feeding the
# broker's identity (lavinmq collector); no bus at all (one info line); a stand-in that
# accepts every call and never answers (the deadline is kept); the bundle's status
# text and unit file; watch events for a unit that fails and restarts.
# The bus daemon and the stand-in are stopped in every case (t_at_exit).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
export EVODIAG_CONFIG="$T_TMP/evodiag.conf"
FAKE="$TOP_BUILDDIR/tests/helpers/fake_systemd"
[ -x "$FAKE" ] || t_skip_all "tests/helpers/fake_systemd not built (make check builds it)"
command -v dbus-daemon >/dev/null || t_skip_all "dbus-daemon is needed (Debian package dbus-daemon, in .ci/packages)"
command -v jq >/dev/null || t_skip_all "jq is needed"

BUS="$T_TMP/bus"
ADDR="unix:path=$BUS"
UNITS="$T_TMP/units.txt"
BUS_PID="" SD_PID=""
cat >"$T_TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>$ADDR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

stop_sd() {
        [ -n "$SD_PID" ] && kill "$SD_PID" 2>/dev/null && wait "$SD_PID" 2>/dev/null
        SD_PID=""
}
stop_all() {
        stop_sd
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null && wait "$BUS_PID" 2>/dev/null
        BUS_PID=""
}
t_at_exit stop_all
wait_for() { # file regex: up to 10 s
        local i
        for i in $(seq 100); do
                grep -Eq "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}
dbus-daemon --config-file="$T_TMP/bus.conf" --nofork --print-address=1 >"$T_TMP/bus.addr" 2>"$T_TMP/bus.err" &
BUS_PID=$!
wait_for "$T_TMP/bus.addr" "^unix:" || t_skip_all "dbus-daemon did not start: $(head -3 "$T_TMP/bus.err")"

# The stand-in, serving $UNITS (re-read at every request) or, with --hang, answering nothing.
start_sd() {
        stop_sd
        : >"$T_TMP/sd.out"
        "$FAKE" "$ADDR" "$UNITS" "$@" >"$T_TMP/sd.out" 2>"$T_TMP/sd.err" &
        SD_PID=$!
        wait_for "$T_TMP/sd.out" "^ready" || t_fail "the stand-in did not start" "$(cat "$T_TMP/sd.err")"
}
conf() { printf '[units]\nbus_address = %s\n%s' "$ADDR" "${1:-}" >"$EVODIAG_CONFIG"; }
field() { # ID FIELD [SUBJECT]: a field of the first finding ID (for SUBJECT)
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or .subject == $s)) | .[$f] // ""] | first // ""'
}
sev_of() { # ID SUBJECT
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
nfind() { printf '%s' "$OUT" | jq -r '[.collectors[] | select(.name == "units") | .findings[]] | length'; }

# ---------------------------------------------------------------- active
conf
cat >"$UNITS" <<'EOF'
lavinmq.service Description=LavinMQ ActiveState=active SubState=running UnitFileState=enabled MainPID=4242 User=lavinmq ExecMainStartTimestamp=-7200s ActiveEnterTimestamp=-7200s LimitNOFILE=infinity LimitCORE=infinity
EOF
start_sd
t_run check --only units --json
t_is "$RC" 0 "active: exit 0"
t_like "$(field units.systemd summary)" "^systemd 252 \(evodiag test stand-in\) answers at unix:path=.*: 1 of 7 component units installed$" \
        "active: systemd answers on the configured bus; one component unit installed"
t_is "$(sev_of units.state lavinmq.service)" ok "active: units.state ok"
t_is "$(field units.state summary lavinmq.service)" "lavinmq.service: running (active/running)" "active: summary"
t_is "$(sev_of units.restarts lavinmq.service)" ok "active: no restarts"
t_is "$(sev_of units.limits lavinmq.service)" ok "active: limits fit"
t_is "$(field units.failed summary)" "no other failed units" "active: no failed units"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "units.state") | .subject] | join(",")')" "lavinmq.service" \
        "active: units that are not installed are not mentioned"

# ---------------------------------------------------------------- failed, Result=exit-code
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=failed SubState=failed Result=exit-code ExecMainCode=1 ExecMainStatus=3 UnitFileState=enabled MainPID=0 ExecMainStartTimestamp=-7200s
EOF
t_run check --only units --json
t_is "$RC" 2 "failed: exit 2"
t_is "$(sev_of units.state lavinmq.service)" crit "failed: units.state crit"
t_is "$(field units.state summary lavinmq.service)" "lavinmq.service failed (result exit-code, main process code 1 status 3)" "failed: result and exit status"
t_like "$(field units.state remedy lavinmq.service)" "^systemctl status lavinmq.service; journalctl -u lavinmq.service -n 50 --no-pager" \
        "failed: remedy is systemctl status and journalctl -u"

# The failed unit's last journal lines are quoted (its own and systemd's about it), from
# the root's journal here (a real journal file built with systemd-journal-remote).
if [ -x /lib/systemd/systemd-journal-remote ]; then
        jroot=$(fx_root journal)
        mkdir -p "$jroot/var/log/journal/0123456789abcdef0123456789abcdef"
        cat >"$T_TMP/unit.export" <<'EOF'
__REALTIME_TIMESTAMP=NOW-4000
_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01
_SYSTEMD_UNIT=lavinmq.service
PRIORITY=6
MESSAGE=an old line, before the last start

__REALTIME_TIMESTAMP=NOW-50
_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01
_SYSTEMD_UNIT=lavinmq.service
PRIORITY=3
MESSAGE=Unhandled exception: Disk full (/var/lib/lavinmq)

__REALTIME_TIMESTAMP=NOW-49
_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01
_SYSTEMD_UNIT=other.service
PRIORITY=3
MESSAGE=another unit's line

__REALTIME_TIMESTAMP=NOW-48
_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01
_SYSTEMD_UNIT=init.scope
UNIT=lavinmq.service
PRIORITY=4
MESSAGE=lavinmq.service: Failed with result 'exit-code'.
EOF
        sh "$TOP_SRCDIR/tests/helpers/mkjournal.sh" "$T_TMP/unit.export" \
                "$jroot/var/log/journal/0123456789abcdef0123456789abcdef/system.journal"
        cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=failed SubState=failed Result=exit-code ExecMainCode=1 ExecMainStatus=3 UnitFileState=enabled ExecMainStartTimestamp=-60s
EOF
        t_run check --root "$jroot" --only units --json
        t_like "$(field units.state actual lavinmq.service)" \
                "; last journal lines: \"Unhandled exception: Disk full \(/var/lib/lavinmq\)\"; \"lavinmq.service: Failed with result 'exit-code'.\"$" \
                "failed: the unit's last journal lines since its last start are quoted, its own and systemd's"
        t_unlike "$(field units.state actual lavinmq.service)" "old line|another unit" "failed: not lines before its start, not other units'"
else
        t_skip "systemd-journal-remote is needed to build a journal"
        t_skip "systemd-journal-remote is needed to build a journal"
fi

# ---------------------------------------------------------------- flapping
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running Result=success NRestarts=5 MainPID=4243 ExecMainStartTimestamp=-30s
EOF
t_run check --only units --json
t_is "$(sev_of units.restarts lavinmq.service)" warn "flapping: NRestarts 5, last start 30 s ago: warn"
t_like "$(field units.restarts summary lavinmq.service)" "^lavinmq.service restarted 5 times automatically, the last start [0-9]+s ago: it is flapping$" \
        "flapping: summary says how often and when"
t_like "$(field units.restarts remedy lavinmq.service)" "journalctl -u lavinmq.service -n 200" "flapping: remedy"
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running Result=success NRestarts=5 MainPID=4243 ExecMainStartTimestamp=-172800s
EOF
t_run check --only units --json
t_is "$(sev_of units.restarts lavinmq.service)" info "restarts two days ago (outside the 1h window): info"
conf "restart_window = 3d
"
t_run check --only units --json
t_is "$(sev_of units.restarts lavinmq.service)" warn "restart_window = 3d: the same restarts are recent: warn"
conf

# ---------------------------------------------------------------- limits, other units
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running MainPID=4242 User=lavinmq LimitCORE=0 LimitNOFILE=1024
rpcbind.socket ActiveState=active SubState=listening
rpcbind.service ActiveState=inactive SubState=dead UnitFileState=enabled TriggeredBy=rpcbind.socket
nfs-server.service ActiveState=inactive SubState=dead UnitFileState=disabled
evo-cu.service ActiveState=active SubState=running MainPID=4300 User=evo CPUSchedulingPolicy=1 CPUSchedulingPriority=80 LimitMEMLOCK=65536 LimitRTPRIO=0
other.service ActiveState=active SubState=running
data.mount ActiveState=failed SubState=failed
EOF
t_run check --only units --json
t_is "$(sev_of units.limits lavinmq.service)" warn "LimitCORE=0 and LimitNOFILE=1024 on the broker: warn"
t_is "$(field units.limits summary lavinmq.service)" "lavinmq.service: LimitCORE=0: a crash leaves no core; LimitNOFILE=1024 is below 65536" \
        "limits: both problems named"
t_like "$(field units.limits remedy lavinmq.service)" "^systemctl edit lavinmq.service   # add LimitCORE=infinity and LimitNOFILE=infinity under \[Service\]" \
        "limits: the drop-in remedy"
t_is "$(sev_of units.limits evo-cu.service)" warn "an RT EVO unit (evo_glob) run by a user with LimitMEMLOCK 64K, LimitRTPRIO 0: warn"
t_like "$(field units.limits summary evo-cu.service)" "LimitMEMLOCK=64.0 KiB is too low for an RT unit run by evo; LimitRTPRIO=0 is below its RT priority" \
        "RT limits: named"
t_is "$(sev_of units.state rpcbind.service)" ok "rpcbind.service inactive but its socket is active: ok"
t_is "$(sev_of units.state nfs-server.service)" info "nfs-server.service installed but disabled: info"
t_is "$(sev_of units.failed data.mount)" warn "another failed unit: warn"
t_like "$(field units.failed remedy data.mount)" "^systemctl status data.mount" "failed unit: remedy"
t_is "$(sev_of units.state other.service)" "" "a unit that is not a component is not checked"
conf "extra_units = other.service
"
t_run check --only units --json
t_is "$(sev_of units.state other.service)" ok "[units] extra_units adds a unit"
conf

# ---------------------------------------------------------------- MainPID feeding the broker's identity
# A process named lavinmq owned by uid 65534 (neither root nor the service user): an
# impostor, unless systemd says it is lavinmq.service's MainPID.
root=$(fx_root mainpid lavinmq-base)
fx_proc "$root" 777 lavinmq uid=65534 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
rm -f "$root/var/lib/lavinmq/.lock"
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running MainPID=777
EOF
: >"$EVODIAG_CONFIG"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.impostor)" warn "MainPID: without the bus the uid-65534 process is an impostor"
conf
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.impostor)" "" "MainPID: systemd names pid 777 as lavinmq.service's MainPID: no impostor"
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid 777" "MainPID: pid 777 is the broker"
t_like "$(field lavinmq.process actual)" "vouched for by the unit's MainPID" "MainPID: vouched for by the unit's MainPID"
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running MainPID=778
EOF
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.impostor)" warn "MainPID: another pid named by the unit vouches for nothing else"

# ---------------------------------------------------------------- bundle
mkdir -p "$T_TMP/unitfiles/lavinmq.service.d"
printf '[Unit]\nDescription=LavinMQ\n[Service]\nUser=lavinmq\nExecStart=/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini\n' \
        >"$T_TMP/unitfiles/lavinmq.service"
printf '[Service]\nEnvironment=AMQP_URL=amqp://guest:UnitSecret%s@localhost/\nLimitCORE=0\n' "$$" \
        >"$T_TMP/unitfiles/lavinmq.service.d/override.conf"
cat >"$UNITS" <<EOF
lavinmq.service Description=LavinMQ ActiveState=active SubState=running MainPID=4242 NRestarts=2 LimitCORE=0 FragmentPath=$T_TMP/unitfiles/lavinmq.service DropInPaths=$T_TMP/unitfiles/lavinmq.service.d/override.conf UnitFileState=enabled
EOF
t_run bundle --only units -o "$T_TMP/b.tar.zst"
t_is "$RC" 0 "bundle: exit 0"
mkdir -p "$T_TMP/x"
tar --zstd -xf "$T_TMP/b.tar.zst" -C "$T_TMP/x" 2>/dev/null
st=$(find "$T_TMP/x" -path '*collectors/units/units.txt' -exec cat {} + 2>/dev/null)
t_like "$st" "^\* lavinmq.service - LavinMQ" "bundle: a systemctl-status-like text per component unit"
t_like "$st" "Main PID: 4242" "bundle: the main pid"
t_like "$st" "Restarts: 2 automatic" "bundle: the restarts"
t_like "$st" "Limits: NOFILE infinity, CORE 0," "bundle: the limits"
t_like "$st" "Drop-In: $T_TMP/unitfiles/lavinmq.service.d/override.conf" "bundle: the drop-ins listed"
t_like "$(find "$T_TMP/x" -path "*$T_TMP/unitfiles/lavinmq.service" -exec cat {} + 2>/dev/null)" "ExecStart=/usr/bin/lavinmq" \
        "bundle: the unit file itself"
dropin=$(find "$T_TMP/x" -path "*$T_TMP/unitfiles/lavinmq.service.d/override.conf" -exec cat {} + 2>/dev/null)
t_like "$dropin" "LimitCORE=0" "bundle: the drop-in itself"
t_unlike "$(grep -ra "UnitSecret$$" "$T_TMP/x" 2>/dev/null)" "UnitSecret" "bundle: the password in the drop-in is redacted"

# ---------------------------------------------------------------- watch: a unit fails, then restarts
conf "poll = 200ms
"
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running MainPID=4242 NRestarts=0
EOF
out="$T_TMP/watch.jsonl"
timeout -k 5 60 "$EVODIAG" watch --only units --duration 4s --interval 200ms --json >"$out" 2>"$T_TMP/watch.err" &
wpid=$!
wait_for "$out" '"units.state"' || true
sleep 0.5
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=failed SubState=failed Result=exit-code MainPID=0 NRestarts=0
EOF
sleep 1
cat >"$UNITS" <<'EOF'
lavinmq.service ActiveState=active SubState=running MainPID=4250 NRestarts=1
EOF
wait $wpid
t_is "$?" 0 "watch: exits 0"
ev() { jq -c --arg id "$1" 'select(.type == "event" and .id == $id) | {subject, severity, previous}' "$out"; }
t_like "$(ev units.state)" '\{"subject":"lavinmq.service","severity":"crit","previous":"(ok|new)"\}' "watch: the unit failing is an event (crit)"
# "new" when watch had not seen that unit's restart count yet (issue 10), "ok" when it had
t_like "$(ev units.restarts)" '\{"subject":"lavinmq.service","severity":"warn","previous":"(ok|new)"\}' "watch: the unit restarting is an event (warn)"
t_like "$(jq -r 'select(.type == "event" and .id == "units.restarts") | .summary' "$out")" \
        "lavinmq.service restarted: NRestarts 0 -> 1, main pid 0 -> 4250|lavinmq.service restarted: NRestarts 0 -> 1" "watch: the restart's summary"

# ---------------------------------------------------------------- a systemd that never answers
start_sd --hang
conf "dbus_timeout = 1s
"
start=$(date +%s%N)
t_run check --only units --json
ms=$((($(date +%s%N) - start) / 1000000))
t_is "$(t_sev units.systemd)" unknown "hang: units.systemd unknown"
t_like "$(field units.systemd summary)" "^systemd did not answer over D-Bus within 1s: unit state unknown$" "hang: says the deadline"
t_is "$(t_sev units.timeout)" "" "hang: the collector kept its own deadline (not killed by the runner)"
t_is "$([ "$ms" -lt 4500 ] && echo fast)" fast "hang: the run took ${ms} ms (< 4.5 s with a 1 s deadline)"
t_is "$(nfind)" 1 "hang: one line, nothing else"
stop_sd
# A bus where nobody owns systemd's name: no systemd there.
conf
t_run check --only units --json
t_is "$(t_sev units.systemd)" info "a bus without systemd: info"
t_like "$(field units.systemd actual)" "org.freedesktop.DBus.Error.(ServiceUnknown|NameHasNoOwner)" "a bus without systemd: the bus says nobody owns the name"
# A socket that accepts the connection and never speaks D-Bus (a hung dbus-daemon): the
# handshake is under the same deadline (sd-bus's own would wait 90 s, and flushing the
# connection on close would wait forever).
if command -v python3 >/dev/null; then
        python3 -c 'import socket,sys,time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); print("ready", flush=True)
c = s.accept(); time.sleep(60)' "$T_TMP/mute" >"$T_TMP/mute.out" 2>&1 &
        MUTE_PID=$!
        t_at_exit "kill $MUTE_PID 2>/dev/null"
        wait_for "$T_TMP/mute.out" "^ready" || true
        printf '[units]\nbus_address = unix:path=%s/mute\ndbus_timeout = 1s\n' "$T_TMP" >"$EVODIAG_CONFIG"
        start=$(date +%s%N)
        t_run check --only units --json
        ms=$((($(date +%s%N) - start) / 1000000))
        t_is "$(t_sev units.systemd)" unknown "mute bus: units.systemd unknown"
        t_like "$(field units.systemd actual)" "^connecting to unix:path=.*/mute: no answer before the deadline$" "mute bus: the handshake timed out"
        t_is "$([ "$ms" -lt 4500 ] && echo fast)" fast "mute bus: the run took ${ms} ms (< 4.5 s with a 1 s deadline)"
        kill "$MUTE_PID" 2>/dev/null
else
        t_skip "python3 is needed for a mute socket"
        t_skip "python3 is needed for a mute socket"
        t_skip "python3 is needed for a mute socket"
fi

# ---------------------------------------------------------------- no bus at all
printf '[units]\nbus_address = unix:path=%s/no-such-bus\n' "$T_TMP" >"$EVODIAG_CONFIG"
t_run check --only units --json
t_is "$RC" 0 "no bus: exit 0"
t_is "$(t_sev units.systemd)" info "no bus: units.systemd info"
t_is "$(field units.systemd summary)" "no systemd: unit state unknown" "no bus: the one info line"
t_is "$(nfind)" 1 "no bus: nothing else"
: >"$EVODIAG_CONFIG"
if [ -d /run/systemd/system ]; then
        t_skip "PID 1 is systemd here: the no-systemd case needs a host without it"
        t_skip "PID 1 is systemd here"
else
        t_run check --only units --json
        t_is "$(field units.systemd actual)" "PID 1 is not systemd (no /run/systemd/system)" "no systemd (this host): says why"
        t_is "$(nfind)" 1 "no systemd (this host): one info line, nothing else"
fi
t_run check --root "$(fx_root empty)" --only units --json
t_is "$(field units.systemd summary)" "no systemd here (--root): unit state unknown" "--root without a bus: one info line"

t_done
