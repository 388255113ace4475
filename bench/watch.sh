#!/bin/bash
# CPU cost of `evodiag watch` at 1 Hz and the size of its recording per hour, on this
# machine as it is and again with 1,000 extra sleeping processes and 50 EVO segments
# (tests/helpers/evo_writer, ticking at 100 Hz, when it is built; else 50 POSIX
# shared-memory objects). watch runs as an operator would leave it: recording, with
# the Prometheus textfile, output to /dev/null. CPU time is watch's and all its
# sampler children's (bash's `time` counts reaped children).
#   steady: (long run - short run) / (difference in seconds): what watch costs once it
#           runs, rescans of the process table (every 2 min) included;
#   whole:  the long run including start-up (exec, forks, the first full scans).
# Each row is measured with every collector, then with only the host collectors of
# issue 4 (--skip evo,lavinmq), to show what each part costs.
# Usage: bench/watch.sh [path/to/evodiag]   (use a release build: ./configure CFLAGS=-O2)
# DURATION (default 240 s: two rescans) is the long run, SHORT (default 10 s) the short one.
# CASES=loaded runs only the two rows with 1,000 extra processes and 50 segments.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
evodiag=$(realpath "${1:-$here/../evodiag}")
writer=$(dirname "$evodiag")/tests/helpers/evo_writer
dur=${DURATION:-240}
short=${SHORT:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-watch.XXXXXX")
pids=()
cleanup() {
        kill "${pids[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -f /dev/shm/bench_watch_* /dev/shm/evo_bench_watch_*
        rm -rf "$tmp"
}
trap cleanup EXIT
export EVODIAG_CONFIG=/dev/null

cpu() { # seconds extra-args... -> "user+sys" seconds of one watch run
        local d=$1 t
        shift
        rm -f "$tmp/r.rec" "$tmp/r.rec.1"
        TIMEFORMAT='%3U %3S'
        t=$({ time "$evodiag" watch --interval 1s --duration "${d}s" --record "$tmp/r.rec" --record-max 1G \
                --textfile "$tmp/prom" "$@" >/dev/null 2>"$tmp/err"; } 2>&1)
        echo "$t" | awk '{ print $1 + $2 }'
}

run() { # label extra-args...
        local label=$1 long short_cpu values bytes samples
        shift
        mkdir -p "$tmp/prom"
        short_cpu=$(cpu "$short" "$@")
        long=$(cpu "$dur" "$@")
        bytes=$(($(stat -c %s "$tmp/r.rec") + $(stat -c %s "$tmp/r.rec.1" 2>/dev/null || echo 0)))
        samples=$("$evodiag" watch --replay "$tmp/r.rec" --json 2>/dev/null | grep -c '"type":"sample"')
        values=$("$evodiag" watch --replay "$tmp/r.rec" --json 2>/dev/null | grep '"type":"sample"' | tail -1 | grep -o '"key"' | wc -l)
        awk -v l="$label" -v s="$short_cpu" -v L="$long" -v sd="$short" -v d="$dur" -v b="$bytes" -v n="$samples" -v v="$values" \
                -v p="$(ls -d /proc/[0-9]* | wc -l)" 'BEGIN {
                steady = (L - s) / (d - sd)
                printf "| %s | %d | %d | %.2f %% (%.2f ms/s) | %.2f %% | %.0f KiB (%.2f MiB) | %d |\n", l, p, v,
                        100 * steady, 1000 * steady, 100 * L / d, b * 3600 / d / 1024, b * 3600 / d / 1048576, b / n
        }'
}

echo "evodiag watch, 1 Hz, ${dur} s runs (steady = minus a ${short} s run), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| host, collectors | processes | values per sample | CPU steady (of one core) | CPU whole run | recording per hour | bytes per sample |"
echo "|---|---|---|---|---|---|---|"
if [ "${CASES:-all}" != loaded ]; then
        run "as it is, all collectors"
        run "as it is, host collectors (--skip evo,lavinmq)" --skip evo,lavinmq
fi

for i in $(seq 1 1000); do sleep 7200 & pids+=($!); done
if [ -x "$writer" ]; then
        segs="50 EVO segments"
        for i in $(seq 1 50); do "$writer" --name "bench_watch_$i" --rate 100 >/dev/null 2>&1 & pids+=($!); done
else
        segs="50 POSIX shm objects"
        for i in $(seq 1 50); do head -c 65536 /dev/zero >"/dev/shm/bench_watch_$i"; done
fi
sleep 2
run "+1000 sleeping processes, $segs, all collectors"
run "+1000 sleeping processes, $segs, host collectors (--skip evo,lavinmq)" --skip evo,lavinmq
