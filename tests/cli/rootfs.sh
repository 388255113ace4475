#!/bin/bash
# Paths stay inside the root (--root, check --from): absolute and climbing links
# resolve inside it, never to the host's /etc/shadow; FIFOs, sockets and /dev/stdin
# are refused at once, in collectors and in the parent; check --from replays what
# the host showed beyond the stored bytes (absolute /dev/shm links, maps longer than
# the cap, ENOTDIR on /proc/PID/fd) and agrees with the recorded verdicts.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
command -v zstd >/dev/null || t_skip_all "zstd not installed"

now() { date +%s.%N; }
faster() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { exit !(b - a < m) }' && echo yes || echo "no ($(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f s", b - a }'))"; }

# What an escape would read: the host's /etc/shadow (its first line, where readable)
# and a file of ours outside the root with a marker.
outside="$T_TMP/outside"
mkdir -p "$outside"
marker="EVODIAG-OUTSIDE-$$-MARKER"
printf 'isolcpus=3 nohz_full=3 %s\n' "$marker" >"$outside/secret"
shadow=""
[ -r /etc/shadow ] && shadow=$(head -1 /etc/shadow)
leaks() { # DIR-or-FILE...: which markers appear
        local l=""
        grep -rqaF -- "$marker" "$@" 2>/dev/null && l="$l marker"
        [ -n "$shadow" ] && grep -rqaF -- "$shadow" "$@" 2>/dev/null && l="$l shadow"
        printf '%s' "$l"
}

# ---- 1. links that try to leave a --root tree ----
root=$(fx_root escape fds-healthy)
up="../../../../../../../../../../../../../.."
rm -f "$root/proc/sys/fs/file-nr" "$root/proc/sys/fs/nr_open"
ln -s /etc/shadow "$root/proc/sys/fs/file-nr"                       # absolute
ln -s "$up$outside/secret" "$root/proc/sys/fs/nr_open"              # climbing, relative
ln -s "./././$up/etc/shadow" "$root/proc/meminfo"                   # ././ form
ln -s "//..//..//..//..//..//..//..//..//$outside//secret" "$root/proc/cmdline" # // form
mkdir -p "$root/proc/sys/vm" "$root/x"
ln -s ../x/hop1 "$root/proc/buddyinfo"                              # a chain
ln -s /x/hop2 "$root/x/hop1"
ln -s "$up/$outside/secret" "$root/x/hop2"
ln -s "$up/etc" "$root/proc/sys/kernel"                             # a directory that climbs
ln -s /etc/shadow "$root/etc/passwd"
printf 'inside-root-host\n' >"$root/etc/hostname"
fx_proc "$root" 100 app
rm -f "$root/proc/100/cmdline"
ln -s "$outside/secret" "$root/proc/100/cmdline"

t_run check --root "$root" --json -v
t_is "$(leaks "$T_TMP/.t_stdout" "$T_TMP/.t_stderr")" "" "check --root: no byte from outside the root in the output"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="fds") | .findings[] | select(.id=="fds.system") | .summary')" \
        "cannot read /proc/sys/fs/file-nr: No such file" "file-nr -> /etc/shadow is ROOT/etc/shadow: absent"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="isolation") | .findings[] | select(.id=="isolation.cmdline") | .summary')" \
        "cannot read /proc/cmdline: No such file" "the // form stays inside the root"
t_is "$(printf '%s' "$OUT" | jq -r .host)" "inside-root-host" "proc/sys/kernel -> ../../etc is ROOT/etc (ROOT/etc/hostname, not the host's)"

out="$T_TMP/out"
mkdir -p "$out"
t_run bundle --root "$root" -o "$out/escape.tar.zst" -q
t_is "$([ -f "$out/escape.tar.zst" ] && echo yes)" yes "bundle --root of the hostile tree is written"
x="$T_TMP/x"
mkdir -p "$x"
tar --zstd -xf "$out/escape.tar.zst" -C "$x"
t_is "$(leaks "$x")" "" "bundle --root: no byte from outside the root in any file of the archive"
t_is "$(leaks "$T_TMP/.t_stdout" "$T_TMP/.t_stderr")" "" "bundle --root: nor on stdout/stderr"
t_like "$(ls "$x")" "^evodiag-inside-root-host-" "the bundle is named after the root's host name"

# check --from a directory whose links point out of it (an unpacked bundle edited by hand,
# or one unpacked by another tool): resolved inside its host/ tree too.
top="$x/$(ls "$x")"
mkdir -p "$top/host/proc/sys/fs" "$top/host/proc/sys/kernel"
rm -rf "$top/host/proc/cmdline" "$top/host/proc/sys/fs/file-nr" "$top/host/etc"
ln -s "$outside/secret" "$top/host/proc/cmdline"
ln -s /etc/shadow "$top/host/proc/sys/fs/file-nr"
ln -s "$up/etc" "$top/host/etc"
t_run check --from "$top" --json -v
t_is "$(leaks "$T_TMP/.t_stdout" "$T_TMP/.t_stderr")" "" "check --from DIR: no byte from outside the bundle"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="isolation") | .findings[] | select(.id=="isolation.cmdline") | .summary')" \
        "cannot read /proc/cmdline" "check --from: host/proc/cmdline -> /abs is read inside the bundle (absent)"

# ---- 2. FIFOs, sockets, /dev/stdin: refused at once, in collectors and in the parent ----
nr=$(fx_root nonreg fds-healthy)
mkfifo "$nr/proc/cmdline"
mkdir -p "$nr/proc/sys/kernel"
mkfifo "$nr/proc/sys/kernel/hostname"
printf 'nonreg-host\n' >"$nr/etc/hostname"
# A read that blocked on a FIFO would last until the collector's deadline (30 s here):
# finishing well before it shows nothing blocked, even on a heavily loaded host.
T_TIMEOUT=90
t0=$(now)
t_run check --root "$nr" --only isolation,fds --json --collector-timeout 30s --timeout 60s
t1=$(now)
t_is "$(faster "$t0" "$t1" 15)" yes "a FIFO as /proc/cmdline and as kernel/hostname: check finishes in < 15 s (the collector deadline is 30 s)"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="isolation") | .status')" ok "the isolation collector answers (no timeout)"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="isolation") | .findings[] | select(.id=="isolation.cmdline") | .summary')" \
        "cannot read /proc/cmdline: not a regular file" "the finding says the file is not a regular file"
t_is "$(printf '%s' "$OUT" | jq -r .host)" "nonreg-host" "a FIFO hostname: the parent falls back to etc/hostname at once"

t0=$(now)
t_run bundle --root "$nr" --only isolation,fds -o "$out/nonreg.tar.zst" -q --collector-timeout 30s --timeout 60s
t1=$(now)
t_is "$RC" 0 "bundle with FIFOs in the tree: complete (exit 0)"
t_is "$(faster "$t0" "$t1" 15)" yes "bundle with FIFOs in the tree: < 15 s (the collector deadline is 30 s)"
t_is "$(tar --zstd -xOf "$out/nonreg.tar.zst" --wildcards '*/manifest.json' | jq -r '.artifacts[] | select(.path=="host/proc/cmdline") | .error')" \
        "not a regular file (a FIFO, socket or device)" "the manifest records why /proc/cmdline is missing"
t_run check --from "$out/nonreg.tar.zst"
t_like "$ERR" "2 collectors agree with the bundle's recorded findings, 0 differ" "check --from replays the refusal"

# An empty hostname and no etc/hostname: was a double free in the parent (exit 134).
hn=$(fx_root hostname)
mkdir -p "$hn/proc/sys/kernel"
: >"$hn/proc/sys/kernel/hostname"
t_run check --root "$hn" --only memory --json
t_is "$RC:$(printf '%s' "$OUT" | jq -r .host)" "3:unknown" "an empty hostname and no etc/hostname: host 'unknown', no crash"

# watch --replay on a FIFO: refused at once.
mkfifo "$T_TMP/replay.fifo"
t0=$(now)
t_run watch --replay "$T_TMP/replay.fifo"
t1=$(now)
t_is "$RC:$(faster "$t0" "$t1" 2)" "3:yes" "watch --replay on a FIFO: refused at once (exit 3)"

# A socket, and a link to /dev/stdin while stdin is a pipe nobody writes.
so=$(fx_root sock fds-healthy)
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$so/proc/cmdline"
mkdir -p "$so/proc/sys/kernel"
ln -s /dev/stdin "$so/proc/sys/kernel/hostname"
printf 'sock-host\n' >"$so/etc/hostname"
mkfifo "$T_TMP/hold"
exec 7<>"$T_TMP/hold" # a writer that never writes: a read from it blocks forever
t0=$(now)
timeout -k 2 10 "$EVODIAG" check --root "$so" --only isolation --json <"$T_TMP/hold" >"$T_TMP/sock.out" 2>"$T_TMP/sock.err"
rc=$?
t1=$(now)
exec 7>&-
t_is "$([ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && faster "$t0" "$t1" 2)" yes "a /dev/stdin link as kernel/hostname does not read evodiag's stdin (< 2 s, rc $rc)"
t_is "$(jq -r .host "$T_TMP/sock.out")" "sock-host" "/dev/stdin means ROOT/dev/stdin: absent, so etc/hostname"
t_like "$(jq -r '.collectors[] | select(.name=="isolation") | .findings[] | select(.id=="isolation.cmdline") | .summary' "$T_TMP/sock.out")" \
        "not a regular file" "a socket as /proc/cmdline: not a regular file"
if mknod "$so/proc/zero" c 1 5 2>/dev/null; then
        rm -f "$so/proc/cmdline"
        ln -s /proc/zero "$so/proc/cmdline"
        t_run check --root "$so" --only isolation --json
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="isolation") | .findings[] | select(.id=="isolation.cmdline") | .summary')" \
                "not a regular file" "a character device as /proc/cmdline: not a regular file"
else
        t_skip "mknod not permitted here (character device case)"
fi

# ---- 3. check --from agrees where the stored bytes are not all the host showed ----
# ENOTDIR on /proc/PID/fd (a fixture case).
nd=$(fx_root enotdir fds-healthy)
fx_proc "$nd" 100 myapp fds=10
fx_proc "$nd" 200 other fds=10
rm -rf "$nd/proc/100/fd"
echo x >"$nd/proc/100/fd"
t_run bundle --root "$nd" --only fds -o "$out/enotdir.tar.zst" -q
t_run check --from "$out/enotdir.tar.zst" --json
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "ENOTDIR on /proc/PID/fd: check --from agrees"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id=="fds.process") | .summary')" "Not a directory" \
        "and says so as on the host"
t_is "$RC" 3 "check --from: the exit status of the recorded findings (unknown)"

# Live: an absolute symlink in /dev/shm and a process whose maps are longer than the
# 2 MiB cap. In a private mount namespace with its own /dev/shm where possible, so
# that other tests' segments do not change between the bundle and its re-check.
live_case() {
        local dir=$1 hog ready
        ln -s "/var/lib/evodiag-absent-target-$tag" /dev/shm/evo_rootfs$tag
        python3 - "$dir/hog.ready" <<'PY' &
import mmap, sys, time
keep = []
for i in range(40000):  # alternate protections so that no two mappings merge
    keep.append(mmap.mmap(-1, 4096, prot=mmap.PROT_READ if i % 2 else mmap.PROT_READ | mmap.PROT_WRITE))
open(sys.argv[1], "w").write("ready")
time.sleep(120)
PY
        hog=$!
        # a pid inside a private pid namespace means nothing outside it: t_at_exit
        # kills only a host pid (the namespace's processes die with its init)
        echo "$hog" >"$dir/hog.${2:-pid}"
        for _ in $(seq 200); do [ -s "$dir/hog.ready" ] && break; sleep 0.05; done
        wc -c </proc/$hog/maps >"$dir/maps.size"
        "$EVODIAG" bundle --only shm,maps,evo -o "$dir/live.tar.zst" -q --collector-timeout 60s --timeout 100s >/dev/null 2>"$dir/bundle.err"
        "$EVODIAG" check --from "$dir/live.tar.zst" --json --timeout 100s >"$dir/from.out" 2>"$dir/from.err"
        echo $? >"$dir/from.rc"
        kill "$hog"
        wait "$hog" 2>/dev/null
        rm -f /dev/shm/evo_rootfs$tag
}
lv="$T_TMP/live"
mkdir -p "$lv"
export -f live_case
tag=$$
export EVODIAG lv tag
t_at_exit 'kill $(cat "$lv/hog.pid" 2>/dev/null) 2>/dev/null; rm -f /dev/shm/evo_rootfs'$$
# Private pid and IPC namespaces too: the bundle sees only this test's processes, so a
# busy host's churn between a collector's look and the stored copy cannot change it.
unshare -m -i -p -f --mount-proc bash -c 'mount --make-rprivate / && mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 99; live_case "$lv" nspid' 2>/dev/null
[ $? = 0 ] || live_case "$lv" # no private mount namespace here: the shared /dev/shm
if [ "$(cat "$lv/maps.size" 2>/dev/null || echo 0)" -gt $((2 << 20)) ]; then
        m=$(tar --zstd -xOf "$lv/live.tar.zst" --wildcards '*/manifest.json')
        hog=$(cat "$lv/hog.nspid" 2>/dev/null || cat "$lv/hog.pid")
        t_is "$(printf '%s' "$m" | jq -r --arg p "host/proc/$hog/maps" '.artifacts[] | select(.path==$p) | .status' | sort -u | head -1)" truncated \
                "the manifest says the long maps file is stored cut"
        t_like "$(printf '%s' "$m" | jq -r --arg p "host/proc/$hog/maps" '.artifacts[] | select(.path==$p) | .lines' | grep -v null)" "^[0-9]{5}$" \
                "and records the lines the maps collector counted"
        t_is "$(printf '%s' "$m" | jq -r '.artifacts[] | select(.path | endswith("/dev/shm/evo_rootfs'$$'")) | .link // empty' | sort -u)" \
                "/var/lib/evodiag-absent-target-$$" "the manifest records the absolute /dev/shm link's target"
        t_like "$(cat "$lv/from.err")" "3 collectors agree with the bundle's recorded findings, 0 differ" \
                "live: absolute /dev/shm link and maps > 2 MiB: check --from agrees"
        rec=$(tar --zstd -xOf "$lv/live.tar.zst" --wildcards '*/findings.json' | jq -r '[.collectors[].findings[].severity] |
                if any(. == "crit") then 2 elif any(. == "warn") then 1 elif any(. == "unknown") then 3 else 0 end')
        t_is "$(cat "$lv/from.rc")" "$rec" "live: check --from exits with the recorded findings' status"
else
        t_skip "could not make a process with > 2 MiB of maps ($(cat "$lv/maps.size" 2>/dev/null) bytes)"
fi

t_done
