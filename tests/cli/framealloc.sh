#!/bin/bash
# framealloc collector: snapshot directories found under apps' working directories
# (processes started here) and from the config; snapshot fixtures (growth, budget,
# malformed JSON); [FAxxx] diagnostics and leak reports in log files; FRAMEALLOC_STRICT
# in an app's environment; the snapshot.request round trip with --allow-intrusive
# against an app that answers and one that never does.
# Run in a pid namespace of its own (as root): the apps started here are the only
# processes whose working directories evodiag looks in.
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_PIDNS:-}" ] && unshare -p -f -m --mount-proc --propagation private true 2>/dev/null; then
        EVODIAG_TEST_PIDNS=1 exec unshare -p -f -m --mount-proc --propagation private bash "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
export EVODIAG_CONFIG="$T_TMP/evodiag.conf"
APP_HELPER="$(cd "$TOP_SRCDIR" && pwd)/tests/helpers/fake_framealloc_app.py"
# "absent" or "present": the request file in an existing directory ("no directory" else).
req() { if [ ! -d "$1" ]; then echo "no directory"; elif [ -e "$1/snapshot.request" ]; then echo present; else echo absent; fi; }

field() { # id field [subject]
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or .subject == $s)) | .[$f] // ""] | first // ""'
}
conf() { { echo "[framealloc]"; for kv in "$@"; do echo "$kv"; done; } >"$EVODIAG_CONFIG"; }
# snapshot DIR FRAME TOTAL [PEAK]: the JSON SnapshotEmitter writes
snapshot() {
        printf '{\n  "version": 1,\n  "timestamp": "2026-11-30T09:%02d:00Z",\n  "frame": %d,\n  "duration_us": 120,\n  "summary": {\n    "frame_bytes": 1024,\n    "pool_bytes": 2048,\n    "heap_bytes": 256,\n    "total_bytes": %d,\n    "peak_bytes": %d\n  },\n  "threads": [\n    {\n      "id": "ThreadId(1)",\n      "name": "main",\n      "frame_bytes": 1024,\n      "pool_bytes": 2048,\n      "heap_bytes": 256,\n      "peak_bytes": 4096,\n      "budget": {\n        "limit": 8192,\n        "used": 7000,\n        "percent": 85\n      }\n    }\n  ],\n  "tags": [\n  ],\n  "diagnostics": [\n    {\n      "code": "FA602",\n      "tag": null,\n      "message": "allocation in hot loop"\n    }\n  ]\n}\n' \
                "$(($2 % 60))" "$2" "$3" "${4:-$3}" >"$1/$(printf 'snapshot_%08d.json' "$2")"
}

# ---- nothing here: not relevant ----
conf
t_run check --only framealloc --json
t_like "$OUT" '"not_relevant"|not relevant|"applies": *false' "no app with a framealloc directory: not relevant"

# ---- a configured directory with growing snapshots ----
D="$T_TMP/snaps"
mkdir -p "$D"
snapshot "$D" 100 10000 20000
snapshot "$D" 200 20000 30000
snapshot "$D" 300 30000 40000
snapshot "$D" 1000 40000 50000 # frame 1000 sorts after 300 by number, not by name length
conf "dirs = $D"
t_run check --only framealloc --json
t_is "$(field framealloc.snapshot severity)" warn "growing total across 4 snapshots: warn (leak symptom)"
t_is "$(field framealloc.snapshot summary)" "$D: frame 1000: total 39.1 KiB, peak 48.8 KiB, 1 threads; total grows in every snapshot" \
        "the newest snapshot by frame number, its numbers"
t_like "$(field framealloc.snapshot actual)" "^snapshot_00001000\.json \(version 1, 2026-11-30T09:40:00Z\); frame 1024 B, pool 2048 B, heap 256 B; 4 snapshots on disk; total_bytes oldest to newest: 10000 20000 30000 40000; thread budget 85% used \(main\); 1 runtime diagnostics \(FA602: allocation in hot loop\)$" \
        "the totals, the thread budget and the runtime diagnostics"
t_is "$(field framealloc.dirs summary)" "1 framealloc directory: $D" "dirs: the configured one"
# Not growing, with a budget the peak nearly reaches.
snapshot "$D" 1100 35000 95000
conf "dirs = $D" "budget = 100000" "peak_warn_pct = 90"
t_run check --only framealloc --json
t_is "$(field framealloc.snapshot summary)" "$D: frame 1100: total 34.2 KiB, peak 92.8 KiB, 1 threads; peak near the budget" \
        "peak at 95% of the budget: warn; total no longer growing"
t_is "$(field framealloc.snapshot expected)" "peak below 90% of 97.7 KiB; total not growing in every snapshot" "budget: expected"
conf "dirs = $D" "budget = 1M"
t_run check --only framealloc --json
t_is "$(field framealloc.snapshot severity)" info "peak well below the budget, not growing: info with the numbers"
# A newest snapshot that is not JSON (framealloc writes its JSON by hand, unescaped).
printf '{\n  "version": 1,\n  "tags": [ { "path": "a"b" } ]\n' >"$D/snapshot_00002000.json"
t_run check --only framealloc --json
t_is "$(field framealloc.snapshot severity)" warn "malformed newest snapshot: warn"
t_like "$(field framealloc.snapshot summary)" "^$D/snapshot_00002000\.json: not JSON: " "malformed: says why, names the file"
rm "$D/snapshot_00002000.json"
# A FIFO named like a snapshot: no hang.
mkfifo "$D/snapshot_00003000.json"
T_TIMEOUT=20 t_run check --only framealloc --json
t_like "$(field framealloc.snapshot summary)" "snapshot_00003000\.json: cannot be read: " "FIFO as the newest snapshot: reported, no hang"
rm "$D/snapshot_00003000.json"

# ---- watch: a new snapshot's totals appear ----
# frame 1100 peaks at 86 % of the budget, frame 1200 at 90 %
conf "dirs = $D" "budget = 110000"
timeout -k 5 60 "$EVODIAG" watch --only framealloc --interval 200ms --duration 3s --json >"$T_TMP/w.jsonl" 2>"$T_TMP/w.err" &
WATCH=$!
sleep 1.2
snapshot "$D" 1200 36000 99000
wait "$WATCH"
t_is "$?" 0 "watch: exit 0"
W=$(cat "$T_TMP/w.jsonl")
t_is "$(printf '%s\n' "$W" | jq -r 'select(.type == "sample") | .values[]? | select(.key == "framealloc.total_bytes") | .value' | sort -un | tr '\n' ' ')" \
        "35000 36000 " "watch: total_bytes of the newest snapshot, then of the new one"
t_like "$(printf '%s\n' "$W" | jq -r 'select(.type == "event" and .id == "framealloc.snapshot") | .severity + " " + .summary' | tail -1)" \
        "^warn frame 1200: total 35\.2 KiB, peak 96\.7 KiB$" "watch: the new snapshot's peak near the budget is an event"

# ---- diagnostics in log files ----
L="$T_TMP/app.log"
{
        echo 'INFO starting'
        echo '[framealloc][FA602] hot loop: allocation inside a loop of 10000 iterations'
        echo '  help: hoist the allocation'
        echo '[framealloc][FA601] async: frame allocation in async fn handle()'
        echo '[framealloc][FA602] hot loop: again'
        echo '[framealloc] Leak report: 3 allocations (1.5 KiB) not freed'
} >"$L"
conf "dirs = $D" "logs = $L, $T_TMP/absent.log"
t_run check --only framealloc --json
t_is "$(field framealloc.diagnostics summary "$L FA602")" "$L: FA602 2 times: allocation in a hot loop" "FA602 counted, the guide's meaning"
t_is "$(field framealloc.diagnostics remedy "$L FA602")" "cargo fa explain FA602" "FA602: cargo fa explain"
t_is "$(field framealloc.diagnostics summary "$L FA601")" "$L: FA601 1 times: frame allocation in an async function" "FA601 counted"
t_is "$(field framealloc.diagnostics severity "$L leak")" warn "leak report: warn"
t_is "$(field framealloc.diagnostics actual "$L leak")" "first: [framealloc] Leak report: 3 allocations (1.5 KiB) not freed" "leak report: the line"
t_like "$(field framealloc.diagnostics summary "$T_TMP/absent.log")" "cannot be read" "an absent log: said"
# A 5 MB log: only the tail is read.
{ for _ in $(seq 70000); do echo 'noise line noise line noise line noise line noise line noise line'; done
  echo '[framealloc][FA603] await: frame data held across .await'; } >"$L"
conf "dirs = $D" "logs = $L" "log_tail = 64k"
t_run check --only framealloc --json
t_is "$(field framealloc.diagnostics summary "$L FA603")" "$L: FA603 1 times: frame data crossing an await point" "big log: the tail read, FA603 found"
t_like "$(field framealloc.diagnostics evidence "$L FA603")" "last 6[0-9]{4} bytes" "big log: bounded tail"

# ---- diagnostics in the journal (a real journal file built here): the app's unit, a SYSLOG_IDENTIFIER ----
conf "dirs = $D"
t_run check --only framealloc --json
t_is "$(field framealloc.diagnostics summary journal):$(field framealloc.diagnostics severity journal)" \
        "the journal not read: no app's unit known (set [framealloc] units or identifiers):skipped" "journal: no unit known, said"
if [ -x /lib/systemd/systemd-journal-remote ]; then
        mkdir -p "$T_TMP/journal"
        sh "$TOP_SRCDIR/tests/helpers/mkjournal.sh" "$TOP_SRCDIR/tests/fixtures/framealloc/journal.export" "$T_TMP/journal/system.journal"
        conf "dirs = $D" "units = game.service" "journal_dir = $T_TMP/journal"
        t_run check --only framealloc --json
        t_is "$(field framealloc.diagnostics summary "journal of game.service FA601"):$(field framealloc.diagnostics severity "journal of game.service FA601")" \
                "journal of game.service: FA601 1 times: frame allocation in an async function:warn" "journal: the unit's FA601 counted"
        t_is "$(field framealloc.diagnostics remedy "journal of game.service FA601")" "cargo fa explain FA601" "journal: cargo fa explain"
        t_is "$(field framealloc.diagnostics summary "journal of game.service FA603")" "" "journal: an entry before journal_since is not read"
        conf "dirs = $D" "identifiers = fa-tool" "journal_dir = $T_TMP/journal"
        t_run check --only framealloc --json
        t_is "$(field framealloc.diagnostics actual "journal of fa-tool leak")" \
                "first: [framealloc] Leak report: 2 allocations (512 B) not freed" "journal: the leak report of a SYSLOG_IDENTIFIER"
        conf "dirs = $D" "units = quiet.service" "journal_dir = $T_TMP/journal"
        t_run check --only framealloc --json
        t_is "$(field framealloc.diagnostics summary journal):$(field framealloc.diagnostics severity journal)" \
                "journal of quiet.service: 1 entries, no [framealloc] diagnostics:ok" "journal: a quiet unit is ok"
        conf "dirs = $D" "units = game.service" "journal_dir = $T_TMP/journal" "journal_since = 5m"
        t_run check --only framealloc --json
        t_is "$(field framealloc.diagnostics summary journal)" "no journal entries of game.service in the last 5m" "journal: the window bounds it"
        # No unit configured: the unit of the app found in a framealloc directory (its /proc/PID/cgroup), under --root.
        R="$T_TMP/faroot"
        fx_proc "$R" 700 game cmdline=/opt/game/bin/game
        mkdir -p "$R/opt/game/target/framealloc"
        snapshot "$R/opt/game/target/framealloc" 100 10000
        ln -sfn /opt/game "$R/proc/700/cwd"
        fx_file "$R" proc/700/cgroup "0::/system.slice/game.service"
        conf "journal_dir = $T_TMP/journal"
        t_run check --root "$R" --only framealloc --json
        t_is "$(field framealloc.dirs summary)" "1 framealloc directory: /opt/game/target/framealloc (pid 700)" "journal: the app found under --root"
        t_is "$(field framealloc.diagnostics summary "journal of game.service FA601")" \
                "journal of game.service: FA601 1 times: frame allocation in an async function" "journal: the unit the app runs in (its cgroup), read"
else
        for _ in 1 2 3 4 5 6 7 8; do t_skip "systemd-journal-remote missing"; done
fi

# ---- apps: directories under their working directory, FRAMEALLOC_STRICT, requests ----
command -v python3 >/dev/null || { t_skip_rest "python3 is missing"; t_done; exit; }
start_app() { # dir mode [env...]
        local dir=$1 mode=$2 i
        shift 2
        mkdir -p "$dir"
        (cd "$dir" && exec env "$@" python3 "$APP_HELPER" --mode "$mode" >"$dir/.out" 2>&1) &
        APP=$!
        t_at_exit "kill $APP 2>/dev/null"
        for i in $(seq 100); do grep -q ready "$dir/.out" 2>/dev/null && break; sleep 0.1; done
}
A1="$T_TMP/app1"
start_app "$A1" answer FRAMEALLOC_STRICT=1
APP1=$APP
snapshot "$A1/target/framealloc" 4000 5000
conf
t_run check --only framealloc --json
t_is "$(field framealloc.dirs summary)" "1 framealloc directory: $A1/target/framealloc (pid $APP1)" "found under the app's working directory"
t_is "$(field framealloc.snapshot severity)" info "app's snapshot: info"
if [ "$(id -u)" = 0 ]; then
        t_is "$(field framealloc.strict summary)" "pid $APP1 sets FRAMEALLOC_STRICT=1 (1 = error)" "FRAMEALLOC_STRICT from the app's environment"
else
        t_skip "FRAMEALLOC_STRICT of another process needs root"
fi
t_is "$(field framealloc.request summary)" "needs --allow-intrusive (creates snapshot.request)" "no request without --allow-intrusive"
t_is "$(req "$A1/target/framealloc")" absent "no request file without --allow-intrusive"
# The round trip: the app answers, deletes the request.
t_run check --only framealloc --allow-intrusive --json
t_is "$(field framealloc.request severity)" ok "request answered: ok"
t_like "$(field framealloc.request summary)" "^$A1/target/framealloc: the app answered the request in [0-9]+ ms: snapshot_0000[0-9]{4}\.json$" \
        "request answered: the new snapshot named"
t_is "$(field framealloc.request actual)" "snapshot.request consumed by the app (post-check: gone)" "request answered: post-check"
t_is "$(req "$A1/target/framealloc")" absent "request answered: no request file left"
kill "$APP1"; wait "$APP1" 2>/dev/null
# An app that never answers: we remove the request ourselves, and say so.
A2="$T_TMP/app2"
start_app "$A2" never
APP2=$APP
conf "request_wait = 700ms"
t_run check --only framealloc --allow-intrusive --json
t_is "$(field framealloc.request severity)" warn "never answered: warn"
t_like "$(field framealloc.request summary)" "^$A2/target/framealloc: no snapshot within [0-9]+ ms of the request \(pid $APP2 runs there\); evodiag removed snapshot.request itself$" \
        "never answered: the request file removed by evodiag, said"
t_is "$(req "$A2/target/framealloc")" absent "never answered: no request file left"
# A request someone else left pending is not ours: left alone.
touch "$A2/target/framealloc/snapshot.request"
t_run check --only framealloc --allow-intrusive --json
t_like "$(field framealloc.request summary)" "one is already pending \(not ours: left alone\)" "a pending request: not touched"
t_is "$(req "$A2/target/framealloc")" present "a pending request: still there"
rm -f "$A2/target/framealloc/snapshot.request"
kill "$APP2"; wait "$APP2" 2>/dev/null
# Pre-check: a configured directory where no app runs gets no request.
conf "dirs = $D"
t_run check --only framealloc --allow-intrusive --json
t_is "$(field framealloc.request summary)" "$D: no app runs there (pre-check): no request made" "pre-check: no app, no request"
t_is "$(req "$D")" absent "pre-check: no request file created"

# ---- bundle: the newest snapshot of each directory as an artifact ----
conf "dirs = $D"
t_run bundle --only framealloc -o "$T_TMP/b.tar.zst" -q
t_is "$RC" 0 "bundle: exit 0"
mkdir -p "$T_TMP/b"
tar --zstd -xf "$T_TMP/b.tar.zst" -C "$T_TMP/b"
t_like "$(cat "$(find "$T_TMP/b" -path '*collectors/framealloc/dir1-snapshot_00001200.json' | head -1)" 2>/dev/null)" '"frame": 1200' \
        "bundle: the newest snapshot stored"

# ---- the trust rule: a directory another user can write is not used ----
if [ "$(id -u)" = 0 ]; then
        A3="$T_TMP/app3"
        start_app "$A3" never
        chmod 777 "$A3/target/framealloc"
        conf
        t_run check --only framealloc --allow-intrusive --json
        t_like "$(field framealloc.dirs actual)" "^not used \(trust rule\): $A3/target/framealloc \(pid $APP\): " "a world-writable directory: refused, said"
        t_is "$(req "$A3/target/framealloc")" absent "a refused directory: no request file created"
        kill "$APP"
else
        t_skip "trust rule test needs root"; t_skip "trust rule test needs root"
fi
t_done
