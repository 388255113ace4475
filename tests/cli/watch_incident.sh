#!/bin/bash
# evodiag watch during an incident: what appears after watch started is seen within
# two intervals (new processes crossing fds/maps thresholds, a new RT task, a live
# process started mid-run), an event about a subject never seen before says "new",
# not "was ok", and a verdict that needs two readings (evo.stalled) is part of the
# state at start, not an event one interval later.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_CONFIG=/dev/null

# Replaces a fixture file atomically, as a kernel value changes.
fx_set() {
        printf '%s\n' "$3" >"$1/$2.new" && mv "$1/$2.new" "$1/$2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# within_two FILE T_MS EVENT_TIME_MS: "yes" when the event came no later than the
# second round that started after T_MS (rounds, not seconds: a loaded host may
# stretch an interval, but an event may not wait for more rounds than two).
within_two() {
        local second
        second=$(jq -r --argjson t "$2" 'select(.type == "sample" and .time_ms > $t) | .time_ms' "$1" | sed -n 2p)
        # No second round yet (watch was stopped once the event came): within.
        [ -n "$3" ] && { [ -z "$second" ] || [ "$3" -le "$second" ]; } && echo yes ||
                echo "no (event at ${3:-none}, second round after $2 at ${second:-none})"
}

# ---- fixture host: processes that appear after watch started ----
root=$(fx_root host hugepages-healthy fds-healthy rt-host-good)
fx_file "$root" proc/sys/vm/max_map_count 1000
scratch=$(fx_root scratch)
fx_proc "$scratch" 501 hogfd nofile_soft=100 nofile_hard=100 fds=98
fx_proc "$scratch" 502 hogmap maps=960
fx_proc "$scratch" 503 rtnew policy=1 rtprio=70 vmlck_kb=4096
fx_proc "$scratch" 504 quiet fds=3 maps=10
out="$T_TMP/new.jsonl"
timeout -k 5 90 "$EVODIAG" watch --root "$root" --only fds,maps,rt --interval 500ms --duration 60s --json \
        --record "$T_TMP/new.rec" >"$out" 2>"$T_TMP/new.err" &
wpid=$!
t_at_exit "kill $wpid 2>/dev/null"
t_wait_lines "$out" 2 '"type":"sample"'
moved=$(now_ms)
# Each process appears at once (a directory renamed into /proc), as fork+exec would.
for p in 501 502 503 504; do mv "$scratch/proc/$p" "$root/proc/$p"; done
t_wait_lines "$out" 1 '"id":"fds.process","subject":"pid 501 hogfd"'
t_wait_lines "$out" 1 '"id":"maps.process","subject":"pid 502 hogmap"'
t_wait_lines "$out" 1 '"key":"rt.policy","subject":"pid 503 rtnew"'
# The new RT task loses its policy: an event about a task watch found after start.
fx_proc "$scratch" 503 rtnew policy=0 rtprio=0 vmlck_kb=4096
cp "$scratch/proc/503/stat" "$root/proc/503/stat.new" && mv "$root/proc/503/stat.new" "$root/proc/503/stat"
t_wait_lines "$out" 1 '"id":"rt.task_sched","subject":"pid 503 rtnew","severity":"warn"'
kill -INT $wpid
wait $wpid
t_is "$?" 0 "watch exits 0 on SIGINT"
ev() { jq -c --arg id "$1" --arg s "$2" 'select(.type == "event" and .id == $id and .subject == $s) | {severity, previous, baseline}' "$out"; }
evt() { jq -r --arg id "$1" --arg s "$2" 'select(.type == "event" and .id == $id and .subject == $s) | .time_ms' "$out" | head -1; }
t_is "$(ev fds.process "pid 501 hogfd")" '{"severity":"crit","previous":"new","baseline":false}' \
        "a process started after watch at 98% of its fd limit: crit, new (not 'was ok')"
t_is "$(within_two "$out" "$moved" "$(evt fds.process "pid 501 hogfd")")" yes "... within two rounds (no rescan: --rescan is 2 min)"
t_is "$(ev maps.process "pid 502 hogmap")" '{"severity":"crit","previous":"new","baseline":false}' \
        "a process started after watch with 960 of 1000 map areas: crit, new"
t_is "$(within_two "$out" "$moved" "$(evt maps.process "pid 502 hogmap")")" yes "... within two rounds"
t_is "$(jq -r 'select(.type == "sample") | .values[] | select(.key == "rt.policy" and .subject == "pid 503 rtnew") | .value' "$out" | head -1)" 1 \
        "a new RT task (SCHED_FIFO) is watched"
first_rt=$(jq -r 'select(.type == "sample" and (.values | map(select(.key == "rt.policy" and .subject == "pid 503 rtnew")) | length > 0)) | .time_ms' "$out" | head -1)
t_is "$(within_two "$out" "$moved" "$first_rt")" yes "... from within two rounds"
t_is "$(ev rt.task_sched "pid 503 rtnew")" '{"severity":"warn","previous":"ok","baseline":false}' \
        "the new RT task losing SCHED_FIFO is an event (was ok: watch saw it ok)"
t_is "$(jq -r 'select(.type == "sample") | .values[] | select(.subject == "pid 504 quiet") | .key' "$out" | sort -u)" "" \
        "a new process far from every threshold is not added to the watched ones"
t_run watch --replay "$T_TMP/new.rec"
t_like "$OUT" "CRIT +fds.process: pid 501 hogfd: 98 of 100 open files \(98.0%\) \(new\)" "replay: '(new)' for a subject never seen before"
t_unlike "$OUT" "pid 501 hogfd.*\(was ok\)" "replay: never '(was ok)' for it"

# ---- --replay: events by default, samples with --samples, --since/--until/--id ----
t_is "$(printf '%s\n' "$OUT" | grep -vcE '^[0-9-]{10}T[0-9:]{8}Z (---- session|(OK|INFO|WARN|CRIT|UNKNOWN|STOP|BUNDLE) )')" 0 \
        "replay: one line per event, note or session by default"
t_is "$(printf '%s\n' "$OUT" | grep -c ' sample [0-9]*:')" 0 "replay: no samples by default"
t_run watch --replay "$T_TMP/new.rec" --samples
t_like "$OUT" "Z sample [0-9]+: .*fds.open\[pid 501 hogfd\]=98 fds" "replay --samples: the full samples"
t_run watch --replay "$T_TMP/new.rec" --id maps.process
t_is "$(printf '%s\n' "$OUT" | grep -E ' (OK|INFO|WARN|CRIT|UNKNOWN) ' | grep -vc ' maps.process')" 0 "replay --id maps.process: only its events"
t_like "$OUT" "CRIT +maps.process: pid 502 hogmap" "... and it is there"
t_run watch --replay "$T_TMP/new.rec" --id rt
t_is "$(printf '%s\n' "$OUT" | grep -E ' (OK|INFO|WARN|CRIT|UNKNOWN) ' | grep -vc ' rt\.')" 0 "replay --id rt: the rt collector's events only"
t_like "$OUT" "WARN +rt.task_sched: pid 503 rtnew" "... its event is there"
evms=$(watch_ev_ms() { "$EVODIAG" watch --replay "$T_TMP/new.rec" --json 2>/dev/null |
        jq -r 'select(.type == "event" and .id == "fds.process" and .subject == "pid 501 hogfd") | .time_ms' | head -1; }; watch_ev_ms)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
t_run watch --replay "$T_TMP/new.rec" --since "$(iso $((evms / 1000)))"
t_like "$OUT" "pid 501 hogfd" "replay --since (the event's second): the event"
t_run watch --replay "$T_TMP/new.rec" --since "$(iso $((evms / 1000 + 1)))"
t_unlike "$OUT" "CRIT +fds.process: pid 501 hogfd" "replay --since (a second later): not the event"
t_run watch --replay "$T_TMP/new.rec" --until "$(iso $((evms / 1000 + 1)))"
t_like "$OUT" "CRIT +fds.process: pid 501 hogfd" "replay --until (a second later): the event"
t_run watch --replay "$T_TMP/new.rec" --until "$(iso $((evms / 1000 - 1)))"
t_unlike "$OUT" "pid 501 hogfd" "replay --until (a second before): not the event"
t_run watch --replay "$T_TMP/new.rec" --since 1h
t_like "$OUT" "---- session 1" "replay --since 1h: from the session start"
t_like "$OUT" "CRIT +fds.process: pid 501 hogfd" "... with the event"
t_run watch --replay "$T_TMP/new.rec" --since yesterday
t_is "$RC" 3 "replay --since: not a time is a usage error"
t_run watch --replay "$T_TMP/new.rec" --id nope.nope
t_is "$RC" 3 "replay --id: an unknown ID is a usage error"
t_run watch --only fds --duration 1s --samples
t_is "$RC" 3 "--samples without --replay is a usage error"

# ---- live: a real process started mid-run holds 98% of its fds ----
if command -v python3 >/dev/null; then
        lout="$T_TMP/live.jsonl"
        timeout -k 5 90 "$EVODIAG" watch --only fds --interval 500ms --duration 60s --json >"$lout" 2>"$T_TMP/live.err" &
        wpid=$!
        t_at_exit "kill $wpid 2>/dev/null"
        t_wait_lines "$lout" 2 '"type":"sample"'
        python3 -c '
import os, resource, time
resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))
fds = []
while len(os.listdir("/proc/self/fd")) < 295:
        fds.append(os.open("/dev/null", os.O_RDONLY))
print("ready", flush=True)
time.sleep(60)
' >"$T_TMP/hog.out" &
        hog=$!
        t_at_exit "kill $hog 2>/dev/null"
        t_wait_lines "$T_TMP/hog.out" 1 ready
        ready=$(now_ms)
        subj="pid $hog $(cat /proc/$hog/comm)"
        t_wait_lines "$lout" 1 "\"type\":\"event\".*\"id\":\"fds.process\",\"subject\":\"$subj\",\"severity\":\"crit\""
        kill -INT $wpid
        wait $wpid
        t_is "$?" 0 "live: watch exits 0"
        # Seen first while it opens them (ok or warn: then watched) or once it holds them:
        # its first event is new, or was ok when watch saw it ok, never anything it did not see.
        first=$(jq -c --arg s "$subj" 'select(.type == "event" and .id == "fds.process" and .subject == $s) | {severity, previous}' "$lout" | head -1)
        okseen=$(jq -r --arg s "$subj" 'select(.type == "sample") | .statuses[] | select(.id == "fds.process" and .subject == $s and .severity == "ok") | .id' "$lout" | head -1)
        t_like "$first$okseen" '^(\{"severity":"(warn|crit)","previous":"new"\}|\{"severity":"(warn|crit)","previous":"ok"\}fds.process)$' \
                "live: a hog started mid-run: its first event says new (or was ok, and a sample showed it ok)"
        t_is "$(within_two "$lout" "$ready" "$(jq -r --arg s "$subj" 'select(.type == "event" and .id == "fds.process" and .subject == $s and .severity == "crit") | .time_ms' "$lout" | head -1)")" \
                yes "live: crit (295 of 300 fds) within two rounds of it holding them"
        kill $hog 2>/dev/null
else
        t_skip "python3 not installed: no live hog"
        t_skip "python3 not installed: no live hog"
        t_skip "python3 not installed: no live hog"
fi

# ---- evo.stalled needs two readings: at start, it is part of the start ----
W="$TOP_BUILDDIR/tests/helpers/evo_writer"
if [ -x "$W" ]; then
        P="wi$$"
        t_at_exit "rm -f /dev/shm/evo_${P}_* 2>/dev/null"
        start() { # VAR ARGS...: a writer in the background, once it is ready
                local var=$1 i
                shift
                "$W" "$@" >"$T_TMP/$var.out" 2>"$T_TMP/$var.err" &
                eval "$var=$!"
                t_at_exit "kill $! 2>/dev/null"
                for i in $(seq 200); do grep -q '^ready' "$T_TMP/$var.out" 2>/dev/null && break; sleep 0.05; done
        }
        start STALL --name "${P}_stall" --mode stall
        eout="$T_TMP/evo.jsonl"
        timeout -k 5 90 "$EVODIAG" watch --only evo --interval 500ms --duration 60s --json >"$eout" 2>"$T_TMP/evo.err" &
        wpid=$!
        t_at_exit "kill $wpid 2>/dev/null"
        t_wait_lines "$eout" 3 '"type":"sample"'
        start LATE --name "${P}_late" --mode stall
        t_wait_lines "$eout" 1 "\"id\":\"evo.stalled\",\"subject\":\"evo_${P}_late\""
        kill -INT $wpid
        wait $wpid
        t_is "$?" 0 "evo: watch exits 0"
        t_is "$(jq -c --arg s "evo_${P}_stall" 'select(.type == "event" and .id == "evo.stalled" and .subject == $s) | {severity, baseline}' "$eout")" \
                '{"severity":"crit","baseline":true}' "evo: a segment stalled before watch started: at start, not an event one interval later"
        t_is "$(jq -c --arg s "evo_${P}_late" 'select(.type == "event" and .id == "evo.stalled" and .subject == $s) | {severity, previous, baseline}' "$eout")" \
                '{"severity":"crit","previous":"new","baseline":false}' "evo: a stalled segment that appeared later: new, not 'was ok'"
        kill "$STALL" "$LATE" 2>/dev/null
else
        t_skip "tests/helpers/evo_writer not built"
        t_skip "tests/helpers/evo_writer not built"
        t_skip "tests/helpers/evo_writer not built"
fi

# ---- --bundle-on crit: several crits at once are one bundle, which lists them ----
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
broot=$(fx_root bundle hugepages-healthy fds-healthy)
fx_file "$broot" proc/sys/kernel/hostname "evo-incident"
fx_file "$broot" proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
fx_proc "$broot" 601 leaky nofile_soft=100 nofile_hard=100 fds=99
fx_proc "$broot" 602 leakier nofile_soft=100 nofile_hard=100 fds=100
bd="$T_TMP/bundles"
mkdir -p "$bd"
bout="$T_TMP/bundle.jsonl"
timeout -k 5 90 "$EVODIAG" watch --root "$broot" --only fds --interval 200ms --duration 60s --json \
        --bundle-on crit --bundle-dir "$bd" >"$bout" 2>"$T_TMP/bundle.err" &
wpid=$!
t_at_exit "kill $wpid 2>/dev/null"
t_wait_lines "$bout" 1 '"type":"bundle".*"status":"(written|failed)"'
# Crits that come and go while it runs and after: no second bundle within the cooldown.
fx_set "$broot" proc/sys/fs/file-nr "$(printf '1000\t0\t2466193')"
t_wait_lines "$bout" 1 '"id":"fds.system","subject":null,"severity":"ok"'
fx_set "$broot" proc/sys/fs/file-nr "$(printf '2400000\t0\t2466193')"
t_wait_lines "$bout" 2 '"id":"fds.system","subject":null,"severity":"crit"'
t_wait_lines "$bout" 3 '"type":"sample"'
kill -INT $wpid
wait $wpid
t_is "$?" 0 "--bundle-on: watch exits 0"
t_is "$(jq -r 'select(.type == "event" and .severity == "crit") | .id' "$bout" | sort | tr '\n' ' ')" \
        "fds.process fds.process fds.system fds.system " "three crits at start, one more later"
t_is "$(jq -r 'select(.type == "bundle" and .status == "started") | "\(.trigger) \(.events)"' "$bout")" "fds.system 3" \
        "one bundle for the three crits at start (not one per check ID), none for the later one"
b=$(jq -r 'select(.type == "bundle" and .status == "written") | .path' "$bout")
t_like "$b" "^$bd/evodiag-evo-incident-[0-9]{8}T[0-9]{6}Z-fds.system.tar.zst$" "the bundle was written, named after the first worst event"
x="$T_TMP/bx"
mkdir -p "$x"
tar --zstd -xf "$b" -C "$x" 2>/dev/null
issue=$(cat "$x"/*/ISSUE.md 2>/dev/null)
trig=$(printf '%s\n' "$issue" | sed -n '/^## Why this bundle was made/,/^## /p')
t_is "$(printf '%s\n' "$trig" | grep -c '^- `.*Z CRIT ')" 3 "ISSUE.md lists the three events that triggered it"
t_like "$trig" 'CRIT +fds.system: 2400000 of 2466193 file handles in use on the host \(97.3%\) \(at start\)' "... with their text"
t_like "$trig" 'fds.process: pid 602 leakier: 100 of 100 open files' "... each of them"

# ---- watch and check agree; the checks watch does not sample come from its background check ----
croot=$(fx_root cmp hugepages-exhausted fds-exhausted rt-host-mistuned shm-orphan maps-low)
problems() { jq -r '.[] | select(.severity != "ok" and .severity != "skipped") | "\(.id)|\(.subject // "")|\(.severity)"' | sort; }
t_run check --root "$croot" --json
cprob=$(printf '%s\n' "$OUT" | jq '[.collectors[].findings[]]' | problems)
t_like "$cprob" "fds.nr_open" "check: its problems include a check watch does not sample (fds.nr_open)"
cout="$T_TMP/cmp.jsonl"
timeout -k 5 90 "$EVODIAG" watch --root "$croot" --interval 300ms --check-every 1s --duration 60s --json >"$cout" 2>"$T_TMP/cmp.err" &
wpid=$!
t_at_exit "kill $wpid 2>/dev/null"
# Two samples after the background check's first result came.
t_wait_lines "$cout" 1 '"type":"sample".*"id":"fds.nr_open"'
n=$(grep -c '"type":"sample"' "$cout")
t_wait_lines "$cout" $((n + 2)) '"type":"sample"'
kill -INT $wpid
wait $wpid
t_is "$?" 0 "agree: watch exits 0"
wprob=$(grep '"type":"sample"' "$cout" | tail -1 | jq '.statuses' | problems)
t_is "$wprob" "$cprob" "agree: watch's statuses show every problem check finds, with the same verdict"
t_is "$(jq -r 'select(.type == "event" and .id == "fds.nr_open") | "\(.severity) \(.baseline)"' "$cout")" "info true" \
        "agree: the background check's first result is part of the state at start"
t_run list
t_like "$OUT" "watch samples: fds.system fds.process" "list: which checks watch samples"
t_run watch --only fds --check-every 10ms --duration 1s
t_is "$RC" 3 "--check-every below 1s is a usage error"

# ---- the screen at 80x24: problems first, ok folded, a detail pane, help ----
if command -v tmux >/dev/null; then
        sock="evodiag-wi-$$"
        t_at_exit "tmux -L $sock kill-server 2>/dev/null"
        # units and clock are skipped: they judge this live host, not the fixture, and their lines would push the
        # folded ok counts off the 24 rows this test reads
        tmux -L "$sock" new-session -d -s s -x 80 -y 24 \
                "env TERM=xterm-256color NO_COLOR=1 $EVODIAG watch --root $croot --skip units,clock --interval 300ms --check-every 1s; echo \$? >$T_TMP/s.rc; sleep 60"
        screen() { tmux -L "$sock" capture-pane -p -t s; }
        wait_screen() { # REGEX: bounded (20 s)
                local i=0
                while ! screen | grep -qE -- "$1" && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
        }
        wait_screen '^INFO +fds.nr_open'
        s=$(screen)
        t_is "$(printf '%s\n' "$s" | wc -l)" 24 "tty 80x24: 24 rows"
        t_is "$(printf '%s\n' "$s" | awk 'length > 80' | wc -l)" 0 "tty 80x24: no row wider than 80 columns"
        t_like "$(printf '%s\n' "$s" | sed -n 3p)" "^CRIT +hugepages.pool_exhausted" "tty: problems first, worst first"
        t_is "$(printf '%s\n' "$s" | grep -cE '^OK ')" 1 "tty: the ok checks are one line"
        t_like "$s" "OK +[0-9]+ checks ok \((fds|hugepages|memory|shm|rt|isolation|evo|maps) [0-9]+" "... a count per collector"
        t_like "$s" "-- recent events" "tty: the events at the bottom"
        # Down to fds.nr_open (4th problem: crit, warn, unknown, then the info ones by ID), Enter.
        tmux -L "$sock" send-keys -t s Down Down Down Enter
        wait_screen '^-- about fds.nr_open'
        s=$(screen)
        t_like "$(printf '%s\n' "$s" | sed -n 3p)" "^INFO +fds.nr_open" "tty: Enter opens the selected problem's detail pane"
        t_like "$s" "(expected|found|remedy): " "tty: the detail pane says expected/found/remedy"
        t_like "$s" "-- about fds.nr_open \(evodiag explain fds.nr_open\)" "tty: ... and what the check is about"
        t_is "$(printf '%s\n' "$s" | awk 'length > 80' | wc -l)" 0 "tty: the pane fits 80 columns"
        tmux -L "$sock" send-keys -t s Escape
        wait_screen '^CRIT +hugepages.pool_exhausted'
        tmux -L "$sock" send-keys -t s '?'
        wait_screen 'Enter +details'
        t_like "$(screen)" "Enter +details: expected, found, remedy" "tty: ? shows the keys"
        tmux -L "$sock" send-keys -t s x
        wait_screen '^CRIT +hugepages.pool_exhausted'
        tmux -L "$sock" send-keys -t s q
        for _ in $(seq 100); do [ -s "$T_TMP/s.rc" ] && break; sleep 0.05; done
        t_is "$(cat "$T_TMP/s.rc" 2>/dev/null)" 0 "tty: q quits with exit 0"
        tmux -L "$sock" kill-server 2>/dev/null
else
        for i in $(seq 12); do t_skip "tmux not installed"; done
fi

t_done
