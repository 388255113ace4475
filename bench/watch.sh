#!/bin/bash
# CPU cost of `evodiag watch` at 1 Hz and the size of its recording per hour, on this
# machine as it is and again with 1,000 extra sleeping processes and 50 EVO segments
# (tests/helpers/evo_writer, ticking at 100 Hz, when it is built; else 50 POSIX
# shared-memory objects). watch runs as an operator would leave it: recording, with
# the Prometheus textfile, output to /dev/null. The CPU time counted is watch's and
# all its sampler children's (bash's `time` includes reaped children).
# Usage: bench/watch.sh [path/to/evodiag]   (use a release build: ./configure CFLAGS=-O2)
# DURATION (default 240 s: two rescans of the process table, every 2 min) sets each run's length.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
evodiag=$(realpath "${1:-$here/../evodiag}")
writer=$(dirname "$evodiag")/tests/helpers/evo_writer
dur=${DURATION:-240}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-watch.XXXXXX")
pids=()
cleanup() {
        kill "${pids[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -f /dev/shm/bench_watch_* /dev/shm/evo_bench_watch_*
        rm -rf "$tmp"
}
trap cleanup EXIT
export EVODIAG_CONFIG=/nonexistent

run() { # label
        local rec="$tmp/$1.rec" t
        mkdir -p "$tmp/prom-$1"
        TIMEFORMAT='%R %U %S'
        t=$({ time "$evodiag" watch --interval 1s --duration "${dur}s" --record "$rec" --record-max 1G \
                --textfile "$tmp/prom-$1" >/dev/null 2>"$tmp/$1.err"; } 2>&1)
        read -r wall user sys <<<"$t"
        local bytes=$(($(stat -c %s "$rec") + $(stat -c %s "$rec.1" 2>/dev/null || echo 0)))
        local samples values
        samples=$("$evodiag" watch --replay "$rec" --json 2>/dev/null | grep -c '"type":"sample"')
        values=$("$evodiag" watch --replay "$rec" --json 2>/dev/null | grep '"type":"sample"' | tail -1 | grep -o '"key"' | wc -l)
        awk -v l="$1" -v w="$wall" -v u="$user" -v s="$sys" -v b="$bytes" -v d="$dur" -v n="$samples" -v v="$values" \
                -v p="$(ls -d /proc/[0-9]* | wc -l)" 'BEGIN {
                printf "| %s | %d | %d | %.2f %% | %.2f ms | %.0f KiB (%.2f MiB) | %d |\n", l, p, v,
                        100 * (u + s) / w, 1000 * (u + s) / n, b * 3600 / d / 1024, b * 3600 / d / 1048576, b / n
        }'
}

echo "evodiag watch, 1 Hz, ${dur} s per run, $(nproc) CPUs, $(uname -r)"
echo
echo "| host | processes | values per sample | CPU (of one core) | CPU per sample | recording per hour | bytes per sample |"
echo "|---|---|---|---|---|---|---|"
run "as it is"

for i in $(seq 1 1000); do sleep 3600 & pids+=($!); done
if [ -x "$writer" ]; then
        segs="50 EVO segments (evo_writer, 100 Hz)"
        for i in $(seq 1 50); do "$writer" --name "bench_watch_$i" --rate 100 >/dev/null 2>&1 & pids+=($!); done
else
        segs="50 POSIX shm objects (no evo_writer built)"
        for i in $(seq 1 50); do head -c 65536 /dev/zero >"/dev/shm/bench_watch_$i"; done
fi
sleep 2
run "+1000 sleeping processes, $segs"
