#!/bin/bash
# The parent never blocks and never crashes on host data: the inspected host name is
# read in a child under the collector deadline (bounded by --timeout), regular files
# only, for check, bundle and watch; watch --replay never waits on a FIFO.
# (tests/cli/rootfs.sh has the FIFO, socket and /dev/stdin hostnames under --root.)
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
crashed() { printf '%s' "$1" | grep -Eq "AddressSanitizer|double free|runtime error" && echo crashed; }

# Live: an empty kernel host name and no /etc/hostname, in a private UTS and mount
# namespace (`hostname ''` refuses an empty name; sethostname(2) does not). Was a
# double free in the parent (exit 134, or an ASan report).
if [ "$(id -u)" = 0 ] && unshare -u -m true 2>/dev/null; then
        mkdir -p "$T_TMP/empty-etc"
        unshare -u -m sh -c 'python3 -c "import socket; socket.sethostname(\"\")" || exit 97
                [ -z "$(cat /proc/sys/kernel/hostname)" ] || exit 98
                mount --bind "$1" /etc || exit 99
                exec timeout -k 5 60 "$2" check --only memory --json' sh "$T_TMP/empty-etc" "$EVODIAG" >"$T_TMP/live.out" 2>"$T_TMP/live.err"
        rc=$?
        t_unlike "$rc" "^(97|98|99|134|124)$" "live empty hostname, no /etc/hostname: evodiag ran and did not abort (rc $rc)"
        t_is "$(crashed "$(cat "$T_TMP/live.err")")" "" "live empty hostname: no double free"
        t_is "$(jq -r .host "$T_TMP/live.out")" unknown "live empty hostname: host 'unknown'"
else
        t_skip "needs root and unshare -u -m"
        t_skip "needs root and unshare -u -m"
        t_skip "needs root and unshare -u -m"
fi

# A hung read of the host name (a hung mount; the test hook makes the child hang):
# check, bundle and watch go on after the deadline, with host 'unknown'.
if t_have_hooks 10; then
        start=$(date +%s%N)
        EVODIAG_FAULT=hostname:hang t_run check --only memory --collector-timeout 1s --json
        ms=$(ms_since "$start")
        t_is "$(printf '%s' "$OUT" | jq -r .host)" unknown "check: a hung host name read gives 'unknown'"
        t_like "$ERR" "the host name could not be read within 1000 ms: using 'unknown'" "check: and says so"
        t_is "$([ "$ms" -lt 8000 ] && echo bounded)" bounded "check: the run goes on (${ms} ms)"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .status')" ok "check: the collectors still ran"

        start=$(date +%s%N)
        EVODIAG_FAULT=hostname:hang t_run check --only memory --timeout 1s --json
        ms=$(ms_since "$start")
        t_is "$([ "$ms" -lt 6000 ] && echo bounded)" bounded "check --timeout 1s bounds the host name read too (${ms} ms)"

        start=$(date +%s%N)
        EVODIAG_FAULT=hostname:hang t_run bundle --only memory --collector-timeout 1s -o "$T_TMP" -q
        ms=$(ms_since "$start")
        t_like "$OUT" "/evodiag-unknown-[0-9]{8}T[0-9]{6}Z\.tar\.zst$" "bundle: a hung host name read: the bundle is made, for host 'unknown'"
        t_is "$([ "$ms" -lt 15000 ] && echo bounded)" bounded "bundle: the run goes on (${ms} ms)"

        start=$(date +%s%N)
        EVODIAG_FAULT=hostname:hang t_run watch --only memory --duration 1s --json --collector-timeout 1s
        ms=$(ms_since "$start")
        t_is "$RC" 0 "watch: a hung host name read: watch runs and stops normally"
        t_is "$([ "$ms" -lt 8000 ] && echo bounded)" bounded "watch: bounded (${ms} ms for 1 s of hostname deadline and 1 s of watching)"
fi

# watch --root with a FIFO as the host name: no wait at all.
w=$(fx_root watchfifo hugepages-healthy)
mkdir -p "$w/proc/sys/kernel" "$w/proc/sys/vm"
echo 0 >"$w/proc/sys/vm/overcommit_memory"
mkfifo "$w/proc/sys/kernel/hostname"
start=$(date +%s%N)
T_TIMEOUT=20 t_run watch --root "$w" --only memory --duration 1s --json
ms=$(ms_since "$start")
t_is "$RC" 0 "watch --root with a FIFO host name: runs and stops normally"
t_is "$([ "$ms" -lt 5000 ] && echo bounded)" bounded "watch --root with a FIFO host name: no wait (${ms} ms for --duration 1s)"

# watch --replay reads FILE.1 first: a FIFO there is refused at once too.
t_run watch --only memory --duration 300ms --interval 100ms --record "$T_TMP/rec.rec" --json
t_is "$RC" 0 "a recording to replay"
mkfifo "$T_TMP/rec.rec.1"
start=$(date +%s%N)
T_TIMEOUT=10 t_run watch --replay "$T_TMP/rec.rec"
ms=$(ms_since "$start")
t_is "$RC" 0 "watch --replay with a FIFO as FILE.1: the FIFO is skipped, FILE replayed"
t_like "$ERR" "records in 1 segment" "watch --replay: one segment read"
t_is "$([ "$ms" -lt 3000 ] && echo bounded)" bounded "watch --replay with a FIFO as FILE.1: no wait (${ms} ms)"

t_done
