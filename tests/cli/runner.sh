#!/bin/bash
# Never hang, never crash: a blocking file, a crashing collector, the global deadline.
. "$TOP_SRCDIR/tests/lib/tap.sh"

root="$T_TMP/root"
mkdir -p "$root/proc/sys/vm" "$root/proc/sys/fs"
echo 0 >"$root/proc/sys/vm/overcommit_memory"
echo "1024 0 100000" >"$root/proc/sys/fs/file-nr"
if t_have_hooks 8; then
        # A collector that never answers (test hook: the memory child blocks in pause()).
        export EVODIAG_FAULT=memory:hang

        t_run check --root "$root" --only memory,fds --collector-timeout 500ms --json
        t_is "$(t_sev memory.timeout)" unknown "a blocked collector times out (unknown)"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .note')" "no answer within 500 ms; killed" "the note says it was killed"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="fds") | .status')" ok "the other collector still reports"
        t_is "$RC" 3 "worst is unknown: exit 3"

        t_run check --root "$root" --only memory --collector-timeout 500ms
        t_like "$OUT" "UNKNOWN +memory.timeout +the memory collector timed out" "text shows the timeout"

        # The global deadline is honoured even when each collector would get longer.
        start=$(date +%s)
        t_run check --root "$root" --only memory --collector-timeout 60s --timeout 1s --json
        end=$(date +%s)
        t_is "$(t_sev memory.timeout)" unknown "--timeout cuts a collector with a longer deadline"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .note')" "no answer within [0-9]+ ms \\(the run's --timeout\\)" "the run's deadline applied"
        t_is "$([ $((end - start)) -lt 30 ] && echo bounded)" bounded "the run ended (sanity bound, not a benchmark)"
        unset EVODIAG_FAULT
fi

if [ "${EVODIAG_TEST_HOOKS:-no}" = yes ]; then
        # A collector that crashes (test hook: the child raises SIGSEGV) is reported; the run finishes.
        EVODIAG_FAULT=memory:crash t_run check --only memory,maps --json
        t_is "$(t_sev memory.crashed)" unknown "a crashing collector becomes memory.crashed"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .note')" "signal 11" "it names the signal"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="maps") | .status')" ok "the others still ran"

        EVODIAG_FAULT=memory:garbage t_run check --only memory --json
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .note')" "unreadable results" "garbage from a child is reported, not trusted"

        # Ten collectors all hanging at once: bounded by one deadline, not ten.
        EVODIAG_FAULT=shm:hang t_run check --only shm,memory --collector-timeout 300ms --json
        t_is "$(t_sev shm.timeout)" unknown "a hung collector (fault hook) times out"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .status')" ok "while another finishes"
else
        for i in $(seq 6); do t_skip "fault hook not compiled (configure --enable-test-hooks)"; done
fi

t_done
