# TAP helpers for the CLI tests. Source it; every test script prints TAP.
#   t_run ARGS...        runs $EVODIAG, sets OUT, ERR, RC
#   t_is GOT WANT DESC   t_like TEXT REGEX DESC   t_ok CMD... (desc in T_DESC)
#   t_sev ID             severities of finding ID in $OUT (JSON), comma-joined
#   t_done               prints the plan; exits 1 if anything failed
set -u
# Text output follows the locale (ASCII only where it is not UTF-8): tests that read
# it expect UTF-8 whatever the caller's environment; a test wanting ASCII sets LC_ALL=C.
export LC_ALL=C.UTF-8
: "${EVODIAG:?run through make check (EVODIAG is the binary under test)}"
: "${TOP_SRCDIR:?}"
FIXTURES="$TOP_SRCDIR/tests/fixtures"
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/evodiag-test.XXXXXX")
T_CLEANUP=""
trap 't_cleanup' EXIT
t_cleanup() {
        [ -n "$T_CLEANUP" ] && eval "$T_CLEANUP"
        rm -rf "$T_TMP"
}
t_at_exit() { T_CLEANUP="${T_CLEANUP:+$T_CLEANUP; }$*"; }
# t_wait_lines FILE N REGEX: waits (bounded: 30 s) until FILE has N lines matching REGEX (grep -E).
t_wait_lines() {
        local i=0 n
        while [ $i -lt 600 ]; do
                n=$(grep -cE -- "$3" "$1" 2>/dev/null)
                [ "${n:-0}" -ge "$2" ] && return 0
                sleep 0.05
                i=$((i + 1))
        done
        return 1
}
t_now_ms() { echo $(($(date +%s%N) / 1000000)); }

t_pass() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
t_fail() {
        T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $1"
        shift
        for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
t_is() {
        if [ "$1" = "$2" ]; then t_pass "$3"; else t_fail "$3" "got:  '$1'" "want: '$2'"; fi
}
t_like() {
        if printf '%s' "$1" | grep -Eq -- "$2"; then t_pass "$3"; else t_fail "$3" "no match for /$2/ in:" "$(printf '%s' "$1" | head -40)"; fi
}
t_unlike() {
        if printf '%s' "$1" | grep -Eq -- "$2"; then t_fail "$3" "unexpected match for /$2/ in:" "$(printf '%s' "$1" | grep -E -- "$2" | head -10)"; else t_pass "$3"; fi
}
t_skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $1"; }
# Test builds compile the EVODIAG_FAULT hook (configure --enable-test-hooks); without it a
# block that needs a misbehaving collector reports one skip per assertion (stable counts).
t_have_hooks() {
        [ "${EVODIAG_TEST_HOOKS:-no}" = yes ] && return 0
        for _ in $(seq "$1"); do t_skip "needs the EVODIAG_FAULT hook (configure --enable-test-hooks)"; done
        return 1
}
# Skips every assertion from the caller's line to the end of the script, one skip each,
# so a block that cannot run here (no root, no helper) keeps the suite's count stable.
t_skip_rest() {
        local n
        n=$(tail -n +"${BASH_LINENO[0]}" "$0" | grep -cE '^[[:space:]]*t_(is|like|unlike)[[:space:]]')
        for _ in $(seq "$n"); do t_skip "$1"; done
}
t_skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# Runs evodiag with a deadline: a hung evodiag is a failed test, never a hung suite.
t_run() {
        timeout -k 5 "${T_TIMEOUT:-60}" "$EVODIAG" "$@" >"$T_TMP/.t_stdout" 2>"$T_TMP/.t_stderr"
        RC=$?
        OUT=$(cat "$T_TMP/.t_stdout")
        ERR=$(cat "$T_TMP/.t_stderr")
}
# The last t_run's exit code and stderr as TAP comments (after a failed assertion about it).
t_diag_run() { { echo "exit $RC"; printf '%s\n' "$ERR" | tail -20; } | sed 's/^/#   /'; }
# Severities of a finding ID in the JSON report in $OUT ("" if absent).
t_sev() {
        printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .severity] | join(",")'
}
# Summaries of a finding ID in the JSON report in $OUT, joined by " | " ("" if absent).
t_sum() {
        printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .summary] | join(" | ")'
}
# The IDs of all findings with a severity in $OUT (JSON), sorted, space-separated.
t_ids_with() {
        printf '%s' "$OUT" | jq -r --arg s "$1" '[.collectors[].findings[] | select(.severity == $s) | .id] | sort | unique | join(" ")'
}
t_done() {
        echo "1..$T_N"
        [ "$T_FAILED" -eq 0 ]
}
