#!/bin/bash
# Issue 9's hermeticity check: the whole suite three times in a row under
# `stress-ng --cpu 2` with 300 unrelated processes holding 200 fds each.
# Run as root in a clone on an otherwise idle machine (about 3 x the suite's time).
# Prints one "rc=… N passed, N failed" line per run.
set -u
cd "$(dirname "$0")/.."
stress-ng --cpu 2 --timeout 14400s >/dev/null 2>&1 &
pids=($!)
for _ in $(seq 300); do
        bash -c 'i=3; while [ $i -lt 203 ]; do eval "exec $i</dev/null"; i=$((i+1)); done; exec sleep 14400' \
                </dev/null >/dev/null 2>&1 &
        pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
for r in 1 2 3; do
        echo "== run $r $(date +%T)"
        tests/run-all >"stress-run$r.log" 2>&1
        echo "rc=$? $(tail -1 "stress-run$r.log") $(date +%T)"
done
