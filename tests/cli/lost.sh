#!/bin/bash
# Nothing is lost: many findings stream in bounded frames (10,000 junk /dev/shm
# segments), generated names fit NAME_MAX, fd counts are not capped, a signal in
# the final phase keeps the bundle, stale temp files are cleaned, impossible numbers
# are findings.
# 10,000 files in the host's /dev/shm would fill every other test's view of it: as root,
# run in a private mount namespace with a /dev/shm of our own.
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_PRIVSHM:-}" ] && unshare -m --propagation private true 2>/dev/null; then
        EVODIAG_TEST_PRIVSHM=1 exec unshare -m --propagation private bash -c \
                'mount -t tmpfs -o size=256m,mode=1777 evodiag-test-shm /dev/shm && exec bash "$0" "$@"' "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

P=$$
shm_cleanup() { find /dev/shm -maxdepth 1 -name "evo_t${P}_*" -delete 2>/dev/null; }
t_at_exit shm_cleanup
# evo findings about our own junk segments, in $OUT (JSON) or a findings.json
mine() { jq --arg p "evo_t${P}_" '[.collectors[] | select(.name == "evo") | .findings[] | select((.subject // "") | startswith($p))] | length' "$@"; }

# ---- 10,000 junk segments: every finding reaches the bundle and the report ----
# (Once all findings went as one header line and a collector past the 1 MiB frame
# limit was dropped: "evo: crashed ... sent unreadable frames", manifest complete.)
printf '[evo]\nscan_max = 20000\n' >"$T_TMP/evo.conf"
for i in $(seq 1 10000); do : >"/dev/shm/evo_t${P}_$i"; done
# Generous deadlines: this is about completeness, not speed (sanitizer builds are slow).
T_TIMEOUT=900 t_run bundle --config "$T_TMP/evo.conf" --only evo --collector-timeout 600s --timeout 800s -q -o "$T_TMP"
t_is "$RC" 0 "10,000 segments: bundle exit 0 (complete)"
mkdir -p "$T_TMP/x1" && tar -xf "$OUT" -C "$T_TMP/x1" 2>/dev/null
top=$(ls "$T_TMP/x1" | head -1)
t_is "$(jq -r '.complete' "$T_TMP/x1/$top/manifest.json")" true "10,000 segments: manifest complete"
t_is "$(jq -r '.collectors[] | select(.name == "evo") | .status' "$T_TMP/x1/$top/manifest.json")" ok "10,000 segments: the evo collector ok"
t_is "$(mine "$T_TMP/x1/$top/findings.json")" 10000 "10,000 segments: one finding each in findings.json"
t_is "$(jq '[.artifacts[] | select(.path | startswith("collectors/evo/evo_t'"$P"'_")) | select(.path | endswith(".header.json"))] | length' "$T_TMP/x1/$top/manifest.json")" \
        10000 "10,000 segments: a decoded header each in the bundle"
T_TIMEOUT=300 t_run check --config "$T_TMP/evo.conf" --only evo --collector-timeout 200s --timeout 250s --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "evo") | .status')" ok "10,000 segments: check: evo ok"
t_is "$(printf '%s' "$OUT" | mine)" 10000 "10,000 segments: check reports every one"
rm -rf "$T_TMP/x1" "$T_TMP"/*.tar.zst
shm_cleanup

# A collector that crashed left no evidence: the bundle says it is incomplete.
if t_have_hooks 2; then
        EVODIAG_FAULT=memory:crash t_run bundle --only memory,fds -q -o "$T_TMP"
        t_is "$RC" 1 "a crashed collector: exit 1 (written, incomplete)"
        t_is "$(tar --zstd -xOf "$OUT" --wildcards '*/manifest.json' | jq -r '.complete, (.collectors[] | select(.name == "memory") | .status)' | tr '\n' ' ')" \
                "false crashed " "a crashed collector: manifest complete false, the collector crashed"
        rm -f "$T_TMP"/*.tar.zst
fi

# ---- fd counts are not capped: 150,000 open fds of a soft limit of 160,000 ----
# (Once a listing stopped at 100,000 names and such a process was "ok at 62.5%".)
fd_of() { # FIELD [SUBJECT]: of the fds.process finding about $subj
        printf '%s' "$OUT" | jq -r --arg s "$subj" --arg f "$1" '[.collectors[].findings[] | select(.id == "fds.process" and .subject == $s) | .[$f]] | join(",")'
}
# Raising the hard open-files limit needs CAP_SYS_RESOURCE, not only uid 0 (containers drop it).
if [ "$(cat /proc/sys/fs/nr_open)" -ge 200000 ] && python3 -c 'import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (160000, 200000))' 2>/dev/null; then
        python3 -c '
import os, resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (160000, 200000))
fd = os.open("/dev/null", os.O_RDONLY)
for _ in range(150000 - 1):
    os.dup(fd)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(300)
' >"$T_TMP/hog.out" 2>&1 </dev/null &
        HOG=$!
        t_at_exit "kill $HOG 2>/dev/null"
        n=0
        while ! grep -q ready "$T_TMP/hog.out" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
        held=$(ls "/proc/$HOG/fd" | wc -l)
        pct=$(awk -v n="$held" 'BEGIN { printf "%.1f", n * 100 / 160000 }')
        subj="pid $HOG $(cat "/proc/$HOG/comm")"
        t_like "$held" '^1500[0-9][0-9]$' "fds live: the helper holds about 150,000 fds ($held)"
        T_TIMEOUT=120 t_run check --only fds --json --collector-timeout 60s
        t_is "$(fd_of severity)" warn "fds live: $held of 160000 is warn (not ok at a capped 62.5%)"
        t_is "$(fd_of summary)" "$subj: $held of 160000 open files ($pct%)" "fds live: the summary has the whole count"
        t_like "$(fd_of actual)" "^$held fds open; soft limit 160000, hard 200000" "fds live: actual too"
        # The bundle records the count, not 150,000 names; check --from judges the same.
        T_TIMEOUT=300 t_run bundle --only fds -q -o "$T_TMP" --collector-timeout 120s
        t_is "$RC" 0 "fds live: bundle complete"
        b=$OUT
        t_like "$(tar --zstd -xOf "$b" --wildcards '*/manifest.json' | jq -c --arg p "host/proc/$HOG/fd" '.artifacts[] | select(.path == $p) | {kind, count}')" \
                '^\{"kind":"listing","count":1500[0-9][0-9]\}$' "fds live: the manifest has the count of the helper's fds"
        T_TIMEOUT=120 t_run check --from "$b" --only fds --json
        t_like "$(fd_of summary)" "^$subj: 1500[0-9][0-9] of 160000 open files \\(93\\.[0-9]%\\)$" "fds live: check --from judges the recorded count"
        t_is "$(fd_of severity)" warn "fds live: check --from warn too"
        rm -f "$b"
        kill $HOG 2>/dev/null
        wait $HOG 2>/dev/null
else
        for _ in $(seq 8); do t_skip "fds live at 150,000: needs fs.nr_open >= 200000 and CAP_SYS_RESOURCE to raise RLIMIT_NOFILE"; done
fi

# A listing that reaches its bound (--root: 100,001 entries in a tree's /proc/PID/fd)
# gives "at least N" and never ok: fds.process, and LavinMQ's own fd count of its broker.
root=$(fx_root fdmany lavinmq-base)
fx_file "$root" proc/sys/fs/file-nr "1000 0 9223372036854775807"
fx_file "$root" proc/sys/fs/nr_open "1048576"
fx_proc "$root" 4242 lavinmq uid=998 nofile_soft=160000 nofile_hard=200000 fds=0 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
fx_file "$root" proc/4242/cgroup "0::/system.slice/lavinmq.service"
fx_proc "$root" 1 systemd cmdline="/sbin/init"
python3 -c 'import os, sys
d = sys.argv[1]
for i in range(100001):
    os.close(os.open(os.path.join(d, str(i)), os.O_CREAT | os.O_WRONLY, 0o600))' "$root/proc/4242/fd"
subj="pid 4242 lavinmq"
T_TIMEOUT=120 t_run check --root "$root" --only fds --json
t_is "$(fd_of severity)" unknown "fds at a bound: unknown, not ok"
t_is "$(fd_of summary)" "$subj: at least 100000 of 160000 open files (at least 62.5%): the count stopped at a bound, the rest is not known" \
        "fds at a bound: says at least"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "fds.process" and .subject == null) | .actual')" \
        "pid 4242 lavinmq at least 100000/160000" "fds at a bound: the summary's list says at least too"
T_TIMEOUT=120 t_run check --root "$root" --only lavinmq --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "lavinmq.fd_usage") | "\(.severity): \(.summary)"')" \
        "unknown: lavinmq holds at least 100000 open files of 160000 allowed (at least 62.5%, /proc/4242/fd)" "lavinmq.fd_usage at a bound: at least, unknown"
T_TIMEOUT=300 t_run bundle --root "$root" --only fds -q -o "$T_TMP" --collector-timeout 120s
t_is "$RC" 0 "fds at a bound: bundle complete (100,001 names are no longer one oversized frame)"
b=$OUT
T_TIMEOUT=120 t_run check --from "$b" --only fds --json
t_is "$(fd_of severity)" unknown "fds at a bound: check --from agrees"
rm -rf "$b" "$root"

# ---- a legal 243-byte /dev/shm name: generated names fit NAME_MAX, check --from works ----
# (Once "<name>.mappers.json" was 256 bytes and no bundle of that host could be unpacked.)
pad=$((243 - ${#P} - 6))
long="evo_t${P}_$(head -c "$pad" /dev/zero | tr '\0' n)"
: >"/dev/shm/$long"
t_is "${#long}" 243 "long name: the segment's name has 243 bytes"
T_TIMEOUT=300 t_run bundle --only evo -q -o "$T_TMP" --collector-timeout 120s
t_is "$RC" 0 "long name: bundle exit 0"
b=$OUT
t_is "$(tar --zstd -tf "$b" | awk -F/ '{ for (i = 1; i <= NF; i++) if (length($i) > 255) print }' | wc -l)" 0 \
        "long name: every path component in the archive fits NAME_MAX"
t_like "$(tar --zstd -tf "$b" | grep "/collectors/evo/evo_t${P}_n" | grep 'mappers')" \
        "/collectors/evo/evo_t${P}_n+~[0-9a-f]{16}n*\\.mappers\\.json$" "long name: shortened with a hash, the kind kept"
t_is "$(tar --zstd -tf "$b" | grep "/collectors/evo/evo_t${P}_n" | grep -oE '\.(header|mappers)\.json$' | sort | tr '\n' ' ')" \
        ".header.json .mappers.json " "long name: its decoded header and mappers are there"
sev=$(tar --zstd -xOf "$b" --wildcards '*/findings.json' | jq -r --arg s "$long" '[.collectors[].findings[] | select(.subject == $s) | "\(.id)=\(.severity)"] | sort | join(" ")')
t_like "$sev" "evo\\.[a-z_]+=" "long name: the bundle has findings about it"
T_TIMEOUT=120 t_run check --from "$b" --only evo --json --timeout 100s # (12,000 entries: seconds on a loaded host)
t_unlike "$ERR" "evodiag: --from" "long name: check --from unpacks the bundle"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "evo") | .status')" ok "long name: check --from runs evo"
t_is "$(printf '%s' "$OUT" | jq -r --arg s "$long" '[.collectors[].findings[] | select(.subject == $s) | "\(.id)=\(.severity)"] | sort | join(" ")')" \
        "$sev" "long name: check --from reaches the recorded verdicts"
rm -f "$b" "/dev/shm/$long"

# ---- SIGTERM/SIGINT while the bundle is being finished (fsync, SHA-256, rename): kept ----
# (The hook pauses there until a signal comes, so the signal lands in that phase.)
if t_have_hooks 10; then
        for sig in TERM INT; do
                f="$T_TMP/fin-$sig.tar.zst"
                : >"$T_TMP/fin.err"
                EVODIAG_FAULT=bundle-finish:pause "$EVODIAG" bundle --only memory -o "$f" >"$T_TMP/fin.out" 2>"$T_TMP/fin.err" &
                pid=$!
                n=0
                while ! grep -q 'paused at bundle-finish' "$T_TMP/fin.err" && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
                kill -$sig $pid
                wait $pid
                rc=$?
                t_is "$rc" 0 "SIG$sig in the final phase: exit 0"
                t_is "$(cat "$T_TMP/fin.out")" "$f" "SIG$sig in the final phase: the path is printed"
                t_is "$(tar --zstd -xOf "$f" --wildcards '*/manifest.json' 2>/dev/null | jq -r .complete)" true "SIG$sig in the final phase: the bundle is whole"
                t_is "$(ls -A "$T_TMP" | grep -c "^\.fin-$sig\.tar\.zst\.")" 0 "SIG$sig in the final phase: no temporary file left"
                t_like "$(cat "$T_TMP/fin.err")" "arrived while the bundle was being finished: it was finished first" "SIG$sig in the final phase: said so"
                rm -f "$f"
        done
fi

# ---- stale temporary files of a killed run: removed by name, owner, age; nothing else ----
d="$T_TMP/out"
mkdir -p "$d"
ours=".evodiag-h-20260101T000000Z.tar.zst.evodiag-tmp-Ab12Cd"
touch -d '2 hours ago' "$d/$ours"
touch "$d/.evodiag-h-20260101T000001Z.tar.zst.evodiag-tmp-Ef34Gh" # fresh: a run may be writing it
touch -d '2 hours ago' "$d/.evodiag-h.tar.zst.Ab12Cd" "$d/.bashrc.backup" "$d/notes.evodiag-tmp-Xy12Zw" "$d/target"
ln -s target "$d/.l.tar.zst.evodiag-tmp-Zz99Yy"
touch -h -d '2 hours ago' "$d/.l.tar.zst.evodiag-tmp-Zz99Yy"
mkdir "$d/.dir.tar.zst.evodiag-tmp-Qq11Ww"
touch -d '2 hours ago' "$d/.dir.tar.zst.evodiag-tmp-Qq11Ww"
touch -d '2 hours ago' "$d/.theirs.tar.zst.evodiag-tmp-Nb0dy1"
chown 65534:65534 "$d/.theirs.tar.zst.evodiag-tmp-Nb0dy1" 2>/dev/null
touch -d '2 hours ago' "$d/.busy.tar.zst.evodiag-tmp-Bu5y00"
flock -n "$d/.busy.tar.zst.evodiag-tmp-Bu5y00" sleep 60 &
LOCKER=$!
t_at_exit "kill $LOCKER 2>/dev/null"
sleep 0.3
touch -d '2 hours ago' "$d/.busy.tar.zst.evodiag-tmp-Bu5y00"
T_TIMEOUT=120 t_run bundle --only memory -q -o "$d"
t_is "$RC" 0 "stale temps: bundle exit 0"
t_is "$([ -e "$d/$ours" ] && echo kept || echo removed)" removed "stale temps: an hour-old temporary archive of ours is removed"
left=$(ls -A "$d" | grep -v '^evodiag-' | sort | tr '\n' ' ')
want=".bashrc.backup .busy.tar.zst.evodiag-tmp-Bu5y00 .dir.tar.zst.evodiag-tmp-Qq11Ww .evodiag-h-20260101T000001Z.tar.zst.evodiag-tmp-Ef34Gh .evodiag-h.tar.zst.Ab12Cd .l.tar.zst.evodiag-tmp-Zz99Yy "
[ "$(stat -c %u "$d/.theirs.tar.zst.evodiag-tmp-Nb0dy1")" = 65534 ] && want="$want.theirs.tar.zst.evodiag-tmp-Nb0dy1 "
want="${want}notes.evodiag-tmp-Xy12Zw target "
t_is "$left" "$want" "stale temps: fresh, locked, other names, links, directories and other owners' files are kept"
t_like "$(tar --zstd -xOf "$OUT" --wildcards '*/evodiag.log')" "removed 1 stale temporary file of an earlier run" "stale temps: the log says so"
kill $LOCKER 2>/dev/null

t_done
