#!/bin/bash
# evodiag watch: events as a fixture host changes under it, a live process with many
# fds, the textfile, the recorder (replay, torn tail, corruption, ring bound), bundles
# on crit, SIGINT, a hung sampler, and the screen in a real terminal (tmux).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

# Replaces a fixture file the way a kernel value changes: atomically, so a sampler
# never reads it half written.
fx_set() {
        printf '%s\n' "$3" >"$1/$2.new" && mv "$1/$2.new" "$1/$2"
}

# ---- usage ----
t_run watch --help
t_is "$RC" 0 "--help exits 0"
t_like "$OUT" "--record FILE" "--help describes the recorder"
t_like "$OUT" "Exit status" "--help gives the exit status"
for bad in "--interval 0" "--interval 10ms" "--interval soon" "--duration x" "--bundle-on maybe" "--record-max 1K --record $T_TMP/r" \
        "--record-max 1M" "--nope" "extra"; do
        t_run watch $bad
        t_is "$RC" 3 "usage error: $bad"
done
t_like "$ERR" "Try 'evodiag watch --help'" "usage errors point to --help"
t_run watch --replay "$T_TMP/x" --interval 1s
t_is "$RC" 3 "--replay takes no sampling options"
t_run watch --textfile "$T_TMP/none" --duration 1s
t_is "$RC" 3 "--textfile must be a directory"

# ---- a fixture host that changes under watch ----
root=$(fx_root host hugepages-healthy fds-healthy rt-host-good)
fx_file "$root" proc/sys/kernel/hostname "evo-watch-1"
fx_proc "$root" 300 evo_cu policy=1 rtprio=80 vmlck_kb=4096 cpus=2
scratch=$(fx_root scratch)
fx_proc "$scratch" 300 evo_cu policy=0 rtprio=0 vmlck_kb=4096 cpus=2
tf="$T_TMP/textfile"
mkdir -p "$tf"
rec="$T_TMP/rec/host.rec"
mkdir -p "$T_TMP/rec"
out="$T_TMP/watch.jsonl"
start_ms=$(($(date +%s%N) / 1000000))
# (the samplers only: the background check, which adds what check says, is tested in watch_incident.sh)
timeout -k 5 60 "$EVODIAG" watch --root "$root" --only hugepages,fds,memory,isolation,rt --duration 3s --interval 200ms --check-every off \
        --json --textfile "$tf" --record "$rec" >"$out" 2>"$T_TMP/watch.err" &
wpid=$!
t_wait_lines "$out" 2 '"type":"sample"'
# Hugepages run out, file handles cross the limit, a device IRQ lands on isolated
# CPU 2, and the RT task loses its policy.
fx_set "$root" sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 10
fx_set "$root" proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
awk '$1 == "41:" { $4 = $4 + 500 } { print }' "$root/proc/interrupts" >"$root/proc/interrupts.new" && mv "$root/proc/interrupts.new" "$root/proc/interrupts"
cp "$scratch/proc/300/stat" "$root/proc/300/stat.new" && mv "$root/proc/300/stat.new" "$root/proc/300/stat"
wait $wpid
RC=$?
t_is "$RC" 0 "watch --duration 3s exits 0"
t_is "$(jq -e . "$out" >/dev/null 2>&1 && echo valid)" valid "--json: every line is JSON"
t_is "$(jq -r 'select(.type != "sample" and .type != "event" and .type != "note") | .type' "$out" | sort -u)" "" \
        "--json: only sample, event and note lines"
t_like "$(jq -r 'select(.type == "sample") | .round' "$out" | head -2 | tr '\n' ' ')" "^1 2 $" "samples are numbered from 1"
ev() { jq -c --arg id "$1" 'select(.type == "event" and .id == $id) | {subject, severity, previous, baseline}' "$out"; }
t_like "$(ev hugepages.pool_exhausted)" '\{"subject":"2M","severity":"crit","previous":"ok","baseline":false\}' \
        "event: the 2M pool runs out (crit, was ok)"
t_like "$(ev fds.system)" '\{"subject":null,"severity":"crit","previous":"ok","baseline":false\}' "event: file handles crit"
t_like "$(ev isolation.irq)" '\{"subject":"CPU 2","severity":"warn","previous":"ok","baseline":false\}' \
        "event: device interrupts on isolated CPU 2"
t_like "$(ev rt.task_sched)" '\{"subject":"pid 300 evo_cu","severity":"warn","previous":"ok","baseline":false\}' \
        "event: the RT task lost SCHED_FIFO"
t_unlike "$(ev isolation.irq)" '"subject":"CPU [013]"' "no IRQ event for the other CPUs"
t_is "$(jq -r 'select(.type == "event" and .id == "fds.system") | .time' "$out" | grep -cE "$ISO")" 1 "the event has an ISO-8601 timestamp"
first=$(jq -r 'select(.type == "sample") | .time_ms' "$out" | head -1)
evt=$(jq -r 'select(.type == "event" and .id == "fds.system") | .time_ms' "$out")
t_is "$([ "$first" -ge "$start_ms" ] && [ "$evt" -gt "$first" ] && echo ordered)" ordered "the event is timed after the first sample"
t_is "$(jq -r 'select(.type == "event" and .id == "fds.system") | .summary' "$out")" \
        "2400000 of 2466193 file handles in use on the host (97.3%)" "event summary"
t_is "$(jq -r 'select(.type == "sample") | .values[] | select(.key == "hugepages.available" and .subject == "2M") | .value' "$out" |
        sed -n '1p;$p' | tr '\n' ' ')" "990 0 " "hugepages.available of 2M: 990 at first, 0 at the end"
t_is "$(jq -r 'select(.type == "sample") | .values[] | select(.key == "rt.policy") | .value' "$out" | sed -n '1p;$p' | tr '\n' ' ')" \
        "1 0 " "rt.policy of the RT task: 1 then 0"
t_is "$(tail -1 "$out" | jq -r .type)" note "the last line notes the stop"
last=$(jq -c 'select(.type == "sample")' "$out" | tail -1)
t_is "$(printf '%s' "$last" | jq -r '[.statuses[] | select(.severity == "crit") | .id] | sort | join(",")')" \
        "fds.system,hugepages.pool_exhausted" "the last sample's statuses: crit ones"
t_is "$(printf '%s' "$last" | jq -r '.statuses[0].severity')" crit "statuses worst first"
t_is "$(jq -r 'select(.type == "event" and .baseline) | .id' "$out" | sort -u | tr '\n' ' ')" "" \
        "a healthy fixture start: no baseline events"

# ---- textfile ----
prom="$tf/evodiag_watch.prom"
t_is "$([ -s "$prom" ] && echo yes)" yes "--textfile writes evodiag_watch.prom"
t_is "$(ls -A "$tf" | grep -v '^evodiag_watch.prom$')" "" "no temporary file left in the textfile directory"
P=$(cat "$prom")
bad=$(printf '%s\n' "$P" | grep -Ev '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+)$')
t_is "$bad" "" "textfile: every line is valid exposition format"
t_like "$P" 'evodiag_check_status\{source="watch",id="fds.system"\} 2' "textfile: status gauge"
t_like "$P" 'evodiag_hugepages_available_pages\{source="watch",pool="2M"\} 0' "textfile: value gauge"
t_like "$P" 'evodiag_collector_up\{source="watch",collector="fds"\} 1' "textfile: sampler up"
t_is "$(printf '%s\n' "$P" | grep -c '^# TYPE evodiag_hugepages_available_pages gauge$')" 1 "textfile: one TYPE line per metric"

# ---- replay ----
t_run watch --replay "$rec"
t_is "$RC" 0 "--replay exits 0"
t_like "$OUT" "^[0-9-]{10}T[0-9:]{8}Z ---- session 1 on evo-watch-1, interval 200 ms" "replay: the session"
t_like "$OUT" "[0-9]Z CRIT +fds.system: 2400000 of 2466193 file handles in use on the host \(97.3%\) \(was ok\)" "replay: the event line"
t_like "$ERR" "records in 1 segment" "replay: a summary on stderr"
t_run watch --replay "$rec" --samples
# (any round: on a loaded host a round may pass before the samplers answered)
t_like "$OUT" "Z sample [0-9]+: .*hugepages.available\[2M\]=990 pages" "replay --samples: sample values"
t_run watch --replay "$rec" --json
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "event") | .id' | sort -u | tr '\n' ' ')" \
        "fds.system hugepages.pool_exhausted isolation.irq rt.task_sched " "replay --json: the events"
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .round' | wc -l)" \
        "$(jq -r 'select(.type == "sample") | .round' "$out" | wc -l)" "replay --json: every sample recorded"
items=$(printf '%s\n' "$OUT" | grep -vc '"type":"damage"')

# A kill -9 mid-write: the last record cut short.
cp "$rec" "$T_TMP/torn.rec"
truncate -s -3 "$T_TMP/torn.rec"
t_run watch --replay "$T_TMP/torn.rec" --json
t_is "$RC" 0 "torn tail: replay exits 0"
t_is "$(printf '%s\n' "$OUT" | grep -vc '"type":"damage"')" $((items - 1)) "torn tail: every whole record replayed"
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "damage") | .what')" torn "torn tail: reported in the timeline"
t_like "$ERR" "torn last record in .*torn.rec at offset [0-9]+ \([0-9]+ bytes\) skipped" "torn tail: reported on stderr"

# A damaged byte in the middle: that record is skipped, the ones after it read.
# The byte is flipped inside the payload of the middle sample record (found by walking
# the record headers: magic, CRC, length, type), so exactly one output line is lost
# whatever the recording's size; a byte in a definition record would lose none.
cp "$rec" "$T_TMP/bad.rec"
python3 - "$T_TMP/bad.rec" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
off, samples = 0, []
while off + 13 <= len(b) and b[off:off + 4] == b"EVR1":
    length, kind = struct.unpack_from("<IB", b, off + 8)
    if kind == 3:
        samples.append(off)
    off += 13 + length
mid = samples[len(samples) // 2]
b[mid + 13] ^= 0xFF
open(p, "wb").write(b)
PY
t_run watch --replay "$T_TMP/bad.rec" --json
t_is "$RC" 1 "corruption: replay exits 1"
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "damage") | .what')" corrupt "corruption: the damaged record is reported"
t_is "$(printf '%s\n' "$OUT" | tail -1 | jq -r .kind)" stop "corruption: records after it still read"
t_is "$(printf '%s\n' "$OUT" | grep -vc '"type":"damage"')" "$((items - 1))" "corruption: one record lost, no more"
t_like "$ERR" "1 damaged stretch" "corruption: reported on stderr"
printf 'not a recording\n' >"$T_TMP/notes.txt"
t_run watch --replay "$T_TMP/notes.txt"
t_is "$RC" 3 "replay of a file that is not a recording: exit 3"
t_run watch --root "$root" --only memory --duration 200ms --record "$T_TMP/notes.txt"
t_is "$RC" 3 "recording into a file that is not a recording is refused"
t_is "$(cat "$T_TMP/notes.txt")" "not a recording" "... and the file is left alone"

# ---- the ring stays within --record-max ----
ring="$T_TMP/ring/r.rec"
mkdir -p "$T_TMP/ring"
rroot=$(fx_root ring hugepages-healthy fds-healthy)
fx_file "$rroot" proc/sys/vm/max_map_count 65530
for p in 401 402 403 404 405; do fx_proc "$rroot" $p worker$p fds=$((p - 300)) maps=50; done
# 15 s: enough rounds for two rotations even when a loaded host stretches the 50 ms interval
t_run watch --root "$rroot" --only hugepages,fds,memory,maps --interval 50ms --duration 15s --record "$ring" --record-max 16K --json
t_is "$RC" 0 "ring run exits 0"
total=$(($(stat -c %s "$ring") + $(stat -c %s "$ring.1" 2>/dev/null || echo 0)))
t_is "$([ "$total" -le 16384 ] && echo within)" within "ring: FILE + FILE.1 = $total bytes <= --record-max 16K"
t_is "$([ -s "$ring.1" ] && echo rotated)" rotated "ring: the older half is FILE.1"
t_run watch --replay "$ring" --json
t_is "$RC" 0 "ring: replay exits 0"
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "damage")' | wc -l)" 0 "ring: no damage"
rounds=$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .round')
t_is "$(printf '%s\n' "$rounds" | awk 'NR > 1 && $1 != p + 1 { bad = 1 } { p = $1 } END { print bad ? "gap" : "contiguous" }')" \
        contiguous "ring: the rounds kept are contiguous, the oldest dropped"
t_like "$(printf '%s\n' "$rounds" | head -1)" "^([2-9]|[1-9][0-9]+)$" "ring: round 1 was dropped"

# ---- --bundle-on crit ----
broot=$(fx_root bundle hugepages-healthy fds-healthy)
fx_file "$broot" proc/sys/kernel/hostname "evo-watch-2"
fx_set "$broot" proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
bd="$T_TMP/bundles"
mkdir -p "$bd"
bout="$T_TMP/bundle.jsonl"
timeout -k 5 90 "$EVODIAG" watch --root "$broot" --only fds,hugepages,memory --duration 3s --interval 200ms --json \
        --record "$T_TMP/rec/b.rec" --bundle-on crit --bundle-dir "$bd" >"$bout" 2>"$T_TMP/bundle.err" &
wpid=$!
t_wait_lines "$bout" 3 '"type":"sample"'
fx_set "$broot" sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 0
fx_set "$broot" proc/sys/fs/file-nr "$(printf '1000\t0\t2466193')"
t_wait_lines "$bout" 1 '"id":"fds.system","subject":null,"severity":"ok"'
fx_set "$broot" proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
wait $wpid
t_is "$?" 0 "--bundle-on: watch exits 0"
t_is "$(jq -r 'select(.type == "event" and .id == "fds.system") | .severity' "$bout" | tr '\n' ' ')" "crit ok crit " \
        "fds.system went crit, ok, crit again"
t_is "$(jq -r 'select(.type == "bundle" and .status == "started") | .trigger' "$bout" | sort | tr '\n' ' ')" \
        "fds.system " "one bundle per cooldown for the whole watch (the later crits are held back)"
t_is "$(jq -r 'select(.type == "bundle" and .status == "written") | .trigger' "$bout" | sort | tr '\n' ' ')" \
        "fds.system " "the bundle written; watch reaped it"
t_is "$(sed -n '/"status":"started"/,$p' "$bout" | grep -c '"type":"sample"' | awk '{ print ($1 > 0) ? "yes" : "no" }')" yes \
        "sampling went on after a bundle started"
b=$(jq -r 'select(.type == "bundle" and .status == "written" and .trigger == "fds.system") | .path' "$bout")
t_like "$b" "^$bd/evodiag-evo-watch-2-[0-9]{8}T[0-9]{6}Z-fds.system.tar.zst$" "the bundle's path is printed"
x="$T_TMP/bx"
mkdir -p "$x"
tar --zstd -xf "$b" -C "$x" 2>/dev/null
top=$(ls "$x" | head -1)
t_is "$(jq -r '.complete' "$x/$top/manifest.json" 2>/dev/null)" true "the bundle is complete"
t_like "$(cat "$x/$top/watch/recording.txt" 2>/dev/null)" "CRIT +fds.system: 2400000 of 2466193" "the bundle holds the recording up to the event"
t_run watch --replay "$T_TMP/rec/b.rec"
t_like "$OUT" "BUNDLE +written $bd/evodiag-evo-watch-2-.*fds.system.tar.zst" "the bundle's path is recorded"

# ---- evodiag bundle includes the newest recording of the state dir ----
mkdir -p "$EVODIAG_STATE_DIR/watch"
cp "$rec" "$EVODIAG_STATE_DIR/watch/host.rec"
t_run bundle --root "$root" --only memory -o "$T_TMP/b2" -q
mkdir -p "$T_TMP/b2x" && tar --zstd -xf "$OUT" -C "$T_TMP/b2x" 2>/dev/null
top=$(ls "$T_TMP/b2x" | head -1)
t_like "$(cat "$T_TMP/b2x/$top/watch/recording.txt" 2>/dev/null)" "CRIT +hugepages.pool_exhausted: 2M pool exhausted: 0 of 1024" "evodiag bundle adds watch/recording.txt"
t_is "$(jq -r '.artifacts[] | select(.path == "watch/recording.jsonl") | .sha256' "$T_TMP/b2x/$top/manifest.json")" \
        "$(sha256sum "$T_TMP/b2x/$top/watch/recording.jsonl" | cut -d' ' -f1)" "... and recording.jsonl, in the manifest with its sha256"
t_like "$(cat "$T_TMP/b2x/$top/evodiag.log")" "\[watch\] recording .*host.rec: [0-9]+ items" "the bundle log names the recording"

# ---- SIGINT: exit 0, recording flushed ----
sout="$T_TMP/sigint.jsonl"
"$EVODIAG" watch --root "$root" --only memory,fds --interval 100ms --json --record "$T_TMP/rec/int.rec" >"$sout" 2>"$T_TMP/sigint.err" &
wpid=$!
t_wait_lines "$sout" 3 '"type":"sample"'
kill -INT $wpid
wait $wpid
t_is "$?" 0 "SIGINT: exit 0"
n=$(jq -r 'select(.type == "sample") | .round' "$sout" | wc -l)
t_run watch --replay "$T_TMP/rec/int.rec" --json
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .round' | wc -l)" "$n" "SIGINT: every sample printed is in the recording"
t_is "$(printf '%s\n' "$OUT" | tail -1 | jq -r .text)" "stopped (SIGINT) after $n samples" "SIGINT: the recording ends with the stop"
t_like "$(cat "$T_TMP/sigint.err")" "recording .*int.rec: [0-9.]+ (B|KiB)" "SIGINT: the recording's size on stderr"

if [ "${EVODIAG_TEST_HOOKS:-no}" = yes ]; then
        # ---- a sampler that hangs does not stop the loop ----
        # A 1 s interval: the point is that the hang does not stop the other sampler, not how
        # fast a starved host schedules it (at load 25 a 200 ms round can pass unanswered).
        EVODIAG_FAULT=memory:hang T_TIMEOUT=90 t_run watch --root "$root" --only fds,memory --duration 6s --interval 1s --json
        t_is "$RC" 0 "hung sampler: watch still exits 0"
        t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "event" and .id == "memory.timeout") | .severity')" unknown \
                "hung sampler: memory.timeout unknown"
        t_like "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "event" and .id == "memory.timeout") | .summary')" \
                "did not answer within [0-9]+ ms: killed" "hung sampler: killed, says so"
        after=$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample" and (.statuses | map(.id) | index("memory.timeout"))) | [.values[] | select(.key == "fds.system_used")] | length' | sort -u)
        t_is "$after" 1 "hung sampler: the other collector keeps sampling (fds values in every round after it)"
        t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .values[] | select(.key | startswith("memory."))' | wc -l)" 0 \
                "hung sampler: no memory values"
        EVODIAG_FAULT=memory:crash t_run watch --root "$root" --only fds,memory --duration 1s --interval 200ms
        t_like "$OUT" "UNKNOWN memory.crashed: the memory sampler failed: killed by signal 11" "crashing sampler: memory.crashed, with the signal"
        t_like "$OUT" "[0-9]Z CRIT +fds.system: 2400000 of 2466193 file handles in use on the host \(97.3%\) \(at start\)" \
                "text mode: one line per event"
        t_is "$(printf '%s\n' "$OUT" | grep -vcE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z (OK|INFO|WARN|CRIT|UNKNOWN) +[a-z_]+\.[a-z_]+( \[[^]]*\])?: .+ \((at start|new|was [a-z]+)\)$')" 0 \
                "text mode: every line is '<time> <SEV> <id> [subject]: summary (was ...)'"
else
        for i in $(seq 8); do t_skip "fault hook not compiled (configure --enable-test-hooks)"; done
fi

# ---- live: a real process that holds many fds ----
if command -v python3 >/dev/null; then
        trig="$T_TMP/more-fds"
        python3 -c '
import os, resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))
fds = []
while len(os.listdir("/proc/self/fd")) < 90:
        fds.append(os.open("/dev/null", os.O_RDONLY))
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
        time.sleep(0.05)
try:
        while True:
                fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
        pass
time.sleep(60)
' "$trig" >"$T_TMP/py.out" &
        ppid_=$!
        t_at_exit "kill $ppid_ 2>/dev/null"
        t_wait_lines "$T_TMP/py.out" 1 ready
        pycomm=$(cat /proc/$ppid_/comm)
        lout="$T_TMP/live.jsonl"
        # 15 s: on a loaded host with hundreds of processes the first rescan that reaches the
        # hog, and the samples after it grows, can take seconds.
        timeout -k 5 90 "$EVODIAG" watch --only fds --duration 15s --interval 300ms --json >"$lout" 2>/dev/null &
        wpid=$!
        # Grow it only once a sample has seen it at 90% (on a loaded host the first
        # samples may come before the fds sampler answered).
        t_wait_lines "$lout" 1 "\"type\":\"sample\".*\"pid $ppid_ "
        touch "$trig"
        wait $wpid
        t_is "$?" 0 "live: watch exits 0"
        subj="pid $ppid_ $pycomm"
        # (at start, or a round later when a loaded host cut the first scan short: new either way, never "was ok")
        t_like "$(jq -r --arg s "$subj" 'select(.type == "event" and .id == "fds.process" and .subject == $s) | "\(.severity) \(.baseline) \(.previous)"' "$lout" | tr '\n' ' ')" \
                "^warn (true|false) new crit false warn $" "live: the process shows up at 90% (warn, new: never seen ok), then crit at its limit"
        t_is "$(jq -r --arg s "$subj" 'select(.type == "sample") | .values[] | select(.key == "fds.open" and .subject == $s) | .value' "$lout" | tail -1)" \
                "$(ls /proc/$ppid_/fd | wc -l)" "live: fds.open of the process is what ls /proc/PID/fd counts"
        t_is "$(jq -r --arg s "$subj" 'select(.type == "sample") | .values[] | select(.key == "fds.limit" and .subject == $s) | .value' "$lout" | tail -1)" \
                100 "live: fds.limit of the process is 100"
        kill $ppid_ 2>/dev/null
else
        t_skip "python3 not installed: no live fd test"
fi

# ---- the screen, in a real terminal ----
if command -v tmux >/dev/null; then
        sock="evodiag-test-$$"
        t_at_exit "tmux -L $sock kill-server 2>/dev/null"
        run_tty() { # NAME ARGS... : starts watch in a detached 100x30 tmux window
                local name=$1
                shift
                tmux -L "$sock" new-session -d -s "$name" -x 100 -y 30 \
                        "env TERM=xterm-256color NO_COLOR=1 $EVODIAG watch $*; echo \$? >$T_TMP/$name.rc; sleep 60"
        }
        screen() { tmux -L "$sock" capture-pane -p -t "$1"; }
        wait_screen() { # NAME REGEX
                local i=0
                while ! screen "$1" | grep -qE -- "$2" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        }
        run_tty q --root "$root" --only fds,hugepages,memory --interval 200ms --record "$T_TMP/rec/tty.rec"
        wait_screen q "recent events"
        s=$(screen q)
        t_like "$(printf '%s\n' "$s" | head -1)" "^evodiag watch  evo-watch-1  every 200 ms  sample [0-9]+" "tty: the title line on top"
        t_like "$(printf '%s\n' "$s" | sed -n 3p)" "^CRIT +(fds.system|hugepages.pool_exhausted)" "tty: worst first"
        t_like "$s" "-- latest values" "tty: the values"
        t_like "$(printf '%s\n' "$s" | tail -3)" "Z CRIT +fds.system: 2400000 of 2466193" "tty: recent events at the bottom"
        t_unlike "$(printf '%s\n' "$s" | sed -n '1,14p')" "recent events" "tty: (30 rows: the events start below row 14)"
        tmux -L "$sock" resize-window -t q -x 60 -y 14
        # The old screen also says "recent events": wait for the redraw itself (title on
        # top of a 14-row screen that shows the events), not for any matching text.
        for _ in $(seq 100); do
                s=$(screen q)
                [ "$(printf '%s\n' "$s" | wc -l)" = 14 ] && printf '%s\n' "$s" | head -1 | grep -q '^evodiag watch' &&
                        printf '%s' "$s" | grep -q -- '-- recent events' && break
                sleep 0.1
        done
        t_is "$(printf '%s\n' "$s" | wc -l)" 14 "tty: the window is now 14 rows"
        t_like "$(printf '%s\n' "$s" | head -1)" "^evodiag watch  evo-watch-1" "tty: redrawn for the new size: title on top"
        t_like "$s" "-- recent events" "tty: redrawn for the new size: events within the 14 rows"
        tmux -L "$sock" send-keys -t q q
        for i in $(seq 100); do [ -s "$T_TMP/q.rc" ] && break; sleep 0.05; done
        t_is "$(cat "$T_TMP/q.rc" 2>/dev/null)" 0 "tty: q quits with exit 0"
        t_is "$(tmux -L "$sock" display -p -t q '#{alternate_on}')" 0 "tty: the terminal is restored (alternate screen off)"
        run_tty c --root "$root" --only memory --interval 200ms
        wait_screen c "recent events"
        tmux -L "$sock" send-keys -t c C-c
        for i in $(seq 100); do [ -s "$T_TMP/c.rc" ] && break; sleep 0.05; done
        t_is "$(cat "$T_TMP/c.rc" 2>/dev/null)" 0 "tty: Ctrl-C exits 0"
        t_is "$(tmux -L "$sock" display -p -t c '#{alternate_on}')" 0 "tty: Ctrl-C restores the terminal"
        tmux -L "$sock" kill-server 2>/dev/null
else
        t_skip "tmux not installed: the terminal screen is not tested (it is in .ci/packages)"
fi

t_done
