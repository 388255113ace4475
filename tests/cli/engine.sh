#!/bin/bash
# The engine between collectors' children and the parent (collectors/frame.c,
# runner.c, sampler.c, report/bundle.c): a child that claims a check its collector
# does not declare is not believed (check, watch, bundle); the engine's own IDs are
# explained; a sampler that stops frees its state (LeakSanitizer, test builds).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"

root=$(fx_root host hugepages-healthy fds-healthy rt-host-good maps-healthy shm-base evo-base)
fx_file "$root" proc/sys/kernel/hostname "evo-engine-1"
head -c 4096 /dev/zero >"$root/dev/shm/evo_engine" # the evo collector applies (and keeps watch state)
: >"$root/proc/locks"
fx_file "$root" proc/meminfo "$(cat "$FIXTURES/hugepages-healthy/proc/meminfo")"
fx_proc "$root" 300 evo_cu policy=1 rtprio=80 vmlck_kb=4096 cpus=2

# ---- the engine's IDs are declared where explain finds them ----
for id in memory.timeout memory.crashed fds.findings_cut; do
        t_run explain "$id"
        t_is "$RC" 0 "explain $id"
done
t_like "$OUT" "^fds.findings_cut — A collector reported more findings than a run keeps" "explain names the ID asked for"
t_run explain memory.crashed
t_like "$OUT" "a finding under a check ID the collector does" "explain: crashed covers a child that sends an undeclared ID"
t_run explain nosuch.timeout
t_is "$RC" 3 "no engine ID for a collector that does not exist"

# ---- a child that claims another collector's check (EVODIAG_FAULT=<c>:forge) ----
if t_have_hooks 14; then
        EVODIAG_FAULT=memory:forge t_run check --root "$root" --only memory,fds --json
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "memory") | .status')" crashed \
                "check: a child sending an undeclared ID is reported crashed"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "memory") | .note')" \
                "sent an undeclared check ID 'shm.orphaned'" "check: the note names the ID"
        t_is "$(t_sev shm.orphaned)" "" "check: the forged finding is not shown"
        t_is "$(t_sev memory.crashed)" unknown "check: memory.crashed, unknown"
        t_is "$(t_sev memory.available)" "" "check: nothing else it sent is shown either"
        t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "fds") | .status')" ok "check: the other collector is unaffected"
        t_is "$RC" 3 "check: exit 3 (unknown)"

        EVODIAG_FAULT=memory:forge t_run watch --root "$root" --only memory,fds --duration 1s --interval 200ms --json
        t_is "$RC" 0 "watch: runs on"
        t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .statuses[] | select(.id == "shm.orphaned") | .id' | head -1)" "" \
                "watch: the forged status is never shown"
        t_like "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "event" and .id == "memory.crashed") | .summary' | head -1)" \
                "^the memory sampler failed: sent an undeclared check ID 'shm.orphaned'" "watch: memory.crashed says why"
        t_like "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .statuses[].id' | sort -u | tr '\n' ' ')" "fds.system" \
                "watch: the other sampler goes on"

        EVODIAG_FAULT=memory:forge t_run bundle --root "$root" --only memory,fds -q -o "$T_TMP/forged.tar.zst"
        t_is "$RC" 1 "bundle: written, incomplete (exit 1)"
        man=$(tar --zstd -xOf "$T_TMP/forged.tar.zst" --wildcards '*/manifest.json')
        t_is "$(printf '%s' "$man" | jq -r '.collectors[] | select(.name == "memory") | "\(.status) \(.artifacts) \(.note)"')" \
                "crashed 0 sent an undeclared check ID 'shm.orphaned'" "bundle: crashed, none of its evidence kept"
        t_is "$(tar --zstd -xOf "$T_TMP/forged.tar.zst" --wildcards '*/findings.json' | jq -r '[.collectors[].findings[] | select(.id == "shm.orphaned")] | length')" \
                0 "bundle: the forged finding is not in findings.json"
fi

# ---- a sampler that stops frees its state: LeakSanitizer in the child ----
# EVODIAG_LEAK_CHECK=1 (test builds with AddressSanitizer): each sampler, when watch
# closes its pipe, calls its collector's free_state and asks LeakSanitizer whether
# anything it allocated is left. One assertion per collector that samples: skipped
# while the collector has no free_state.
leak_watch() { # collector [fault] -> stderr of a short watch in $ERR
        ASAN_OPTIONS=detect_leaks=1:leak_check_at_exit=0:abort_on_error=0 EVODIAG_LEAK_CHECK=1 EVODIAG_FAULT=${2:-} \
                t_run watch --root "$root" --only "$1" --duration 1s --interval 200ms --json
}
samplers="shm hugepages rt isolation fds maps memory evo lavinmq"
n_leak=$(($(echo $samplers | wc -w) + 2))
if t_have_hooks $n_leak; then
        leak_watch memory memory:leak
        if printf '%s' "$ERR" | grep -q "not in this build"; then
                for _ in $(seq $n_leak); do t_skip "the leak check needs AddressSanitizer (configure --enable-sanitizers)"; done
                t_done
                exit $?
        fi
        t_like "$ERR" "leak check: memory: LEAKS" "a state dropped without freeing is found (the check can fail)"
        t_like "$ERR" "ERROR: LeakSanitizer: detected memory leaks" "LeakSanitizer reports it"
        for c in $samplers; do
                leak_watch "$c"
                line=$(printf '%s\n' "$ERR" | grep "evodiag: leak check: $c:")
                case $line in
                *"no free_state"*) t_skip "$c: no free_state yet" ;;
                *) t_is "$line" "evodiag: leak check: $c: nothing left" "$c: a stopped sampler leaves nothing allocated" ;;
                esac
        done
fi
t_done
