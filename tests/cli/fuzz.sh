#!/bin/bash
# The libFuzzer harnesses (tests/fuzz/): a short bounded run of each target over its
# seed corpus (the fixtures and the committed regression inputs), under ASan+UBSan.
# One TAP line per target; each skips with the reason where clang/libFuzzer is absent.
# EVODIAG_FUZZ_SECONDS (default 10) sets the time per target.
# Then, with or without clang, every crash the fuzzers found in `check --from`'s manifest
# reader (tests/fuzz/corpus/manifest/crash-*: manifest.json, NUL, findings.json) goes
# through the real binary as an unpacked bundle: no crash, exit 0..3, valid JSON.
. "$TOP_SRCDIR/tests/lib/tap.sh"

fz="$TOP_BUILDDIR/tests/fuzz"
secs=${EVODIAG_FUZZ_SECONDS:-10}
for h in "$TOP_SRCDIR"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$h" .c)
        t=${t#fuzz_}
        if [ -f "$fz/unavailable" ]; then
                t_skip "fuzz_$t: $(cat "$fz/unavailable")"
                continue
        fi
        if [ ! -x "$fz/bin/fuzz_$t" ]; then
                t_fail "fuzz_$t: not built (make fuzz)"
                continue
        fi
        line=$(sh "$TOP_SRCDIR/tests/fuzz/run.sh" "$fz" "$secs" "$t")
        if [ $? -eq 0 ]; then
                t_pass "$line"
        else
                t_fail "$line" "$(tail -40 "$fz/logs/$t.log")"
        fi
done

for f in "$TOP_SRCDIR"/tests/fuzz/corpus/manifest/crash-*; do
        n=$(basename "$f")
        d="$T_TMP/$n"
        mkdir -p "$d/host/proc"
        echo "BOOT_IMAGE=/vmlinuz quiet" >"$d/host/proc/cmdline"
        python3 -c 'import sys; m, _, f = open(sys.argv[1], "rb").read().partition(b"\0")
open(sys.argv[2] + "/manifest.json", "wb").write(m); open(sys.argv[2] + "/findings.json", "wb").write(f)' "$f" "$d"
        t_run check --from "$d" --json
        why=""
        [ "$RC" -le 3 ] || why="exit $RC"
        printf '%s' "$ERR" | grep -qE 'AddressSanitizer|runtime error|Assertion' && why="$why; $(printf '%s' "$ERR" | grep -m1 -E 'AddressSanitizer|runtime error|Assertion')"
        printf '%s' "$OUT" | python3 -c 'import json, sys; json.load(sys.stdin)' 2>/dev/null || why="$why; invalid JSON"
        if [ -z "$why" ]; then t_pass "check --from a bundle with manifest $n: exit $RC, valid JSON"; else t_fail "check --from a bundle with manifest $n" "$why"; fi
done
t_done
