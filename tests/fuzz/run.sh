#!/bin/sh
# Runs fuzz targets for a bounded time each: `make fuzz-smoke` (and tests/cli/fuzz.sh)
# for a short run, or by hand for a long one. New inputs are kept in
# OUTDIR/work/<target>/, crashes, leaks and slow inputs in OUTDIR/crashes/<target>-*.
# Usage: run.sh OUTDIR SECONDS [TARGET...]   (default: every target built)
# Env: FUZZ_RSS_MB (2048), FUZZ_UNIT_TIMEOUT (10 s per input), FUZZ_ARGS (more libFuzzer flags)
# tests/fuzz/fuzz_<target>.options, where present, holds flags that target always needs.
# Prints "fuzz_<target>: <execs> execs in <s> s, <corpus> inputs: ok|FAILED (...)";
# exits 1 if any target failed.
set -u
here=$(dirname "$0")
out=$1
secs=$2
shift 2
[ $# -gt 0 ] || set -- $(cd "$out/bin" && ls fuzz_* | sed 's/^fuzz_//')
mkdir -p "$out/work" "$out/crashes" "$out/logs"
rc=0
for t in "$@"; do
        mkdir -p "$out/work/$t"
        log="$out/logs/$t.log"
        # The fuzz targets write their scratch files under TMPDIR (a hostile bundle is unpacked there).
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/evodiag-fuzz.XXXXXX")
        opts=$(sed -e '/^#/d' "$here/fuzz_$t.options" 2>/dev/null)
        # shellcheck disable=SC2086
        TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                timeout -k 10 $((secs + 60)) "$out/bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
                -timeout="${FUZZ_UNIT_TIMEOUT:-10}" -print_final_stats=1 -close_fd_mask=3 \
                -artifact_prefix="$out/crashes/$t-" $opts ${FUZZ_ARGS:-} "$out/work/$t" "$out/seeds/$t" >"$log" 2>&1
        r=$?
        rm -rf "$tmp"
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        took=$(sed -n 's/.*Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
        if [ -z "$execs" ]; then # -fork: the parent's last status line
                execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
                took=$(sed -n 's/^INFO: exiting: .* time: \([0-9]*\)s.*/\1/p' "$log" | tail -1)
        fi
        n=$(ls "$out/work/$t" | wc -l)
        if [ "$r" -eq 0 ]; then
                echo "fuzz_$t: ${execs:-?} execs in ${took:-$secs} s, $n inputs: ok"
        else
                rc=1
                why=$(grep -m1 -E 'runtime error|ERROR: AddressSanitizer|Assertion .* failed|ERROR: libFuzzer|ALARM' "$log")
                at=$(grep -m1 -E '^ +#[0-9]+ .* in [^ ]+ [^ ]*/(lib|collectors|report|cmd|tests/fuzz)/[^ ]+\.c:' "$log" | sed 's/.* in \([^ ]*\) .*\/\([a-z]*\/[^/ ]*\.c:[0-9]*\).*/\1 \2/')
                why="$why${at:+ at $at}"
                art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
                echo "fuzz_$t: ${execs:-?} execs: FAILED (exit $r) ${why:-see $log}${art:+; input: $art}"
        fi
done
exit $rc
