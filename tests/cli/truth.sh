#!/bin/bash
# check tells the whole truth (issue 10): never green when nothing was checked (empty or
# contradictory selections are usage errors; every asked-for collector not relevant is
# unknown, exit 3; an empty --root gives no ok finding at all), declared expectations
# ([expect]: a missing component, segment, writer, heartbeat rate or process is crit),
# [ignore], and the small edges of the command line.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_CONFIG="$T_TMP/none.conf" # a named config must exist: each test names its own
: >"$EVODIAG_CONFIG"

EMPTY="$T_TMP/empty"
mkdir -p "$EMPTY"

# ------------------------------------------------ never green when nothing was checked
# Selections that name nothing, or run and skip the same collector: usage errors.
for sel in "" "," " , "; do
        t_run check --only "$sel" --format nagios
        t_is "$RC" 3 "check --only '$sel': usage error (exit 3)"
        t_like "$OUT" "^EVODIAG UNKNOWN - --only: '$sel' names no collector" "check --only '$sel': says the list names no collector"
        t_unlike "$OUT" "EVODIAG OK" "check --only '$sel': never OK"
done
t_run check --only shm --skip shm
t_is "$RC" 3 "--only shm --skip shm: usage error"
t_like "$ERR" "--only names shm and --skip skips it" "--only shm --skip shm: says what contradicts"
t_run check --skip shm,hugepages,rt,isolation,fds,maps,memory,evo,lavinmq
t_is "$RC" 3 "--skip of every collector: usage error"
t_like "$ERR" "skips every collector" "--skip of every collector: says nothing would run"
printf '[evodiag]\nonly =\n' >"$T_TMP/only-empty.conf"
t_run check --config "$T_TMP/only-empty.conf" --format nagios
t_is "$RC" 3 "[evodiag] only = (empty): usage error"
t_like "$OUT" "^EVODIAG UNKNOWN - \[evodiag\] only: '' names no collector" "[evodiag] only =: the nagios line says why"
printf '[evodiag]\nskip = shm\n' >"$T_TMP/skip-shm.conf"
t_run check --config "$T_TMP/skip-shm.conf" --only shm
t_is "$RC" 3 "--only shm with [evodiag] skip = shm: usage error"
t_like "$ERR" "--only names shm and \[evodiag\] skip skips it" "the message names where each came from"

# Every asked-for collector not relevant: unknown, exit 3, and why (no segments, no broker).
t_run check --root "$EMPTY" --only evo --format nagios
t_is "$RC" 3 "--only evo without segments: exit 3"
t_like "$OUT" "^EVODIAG UNKNOWN - evodiag.nothing_checked: nothing was checked: evo asked for, none applies on this host" \
        "--only evo without segments: nagios UNKNOWN, not OK"
t_run check --root "$EMPTY" --only lavinmq,evo --json
t_is "$RC" 3 "--only lavinmq,evo without either: exit 3"
t_is "$(t_sev evodiag.nothing_checked)" unknown "evodiag.nothing_checked is unknown"
t_is "$(printf '%s' "$OUT" | jq -r .worst)" unknown "worst: unknown"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "evodiag.nothing_checked") | .actual')" \
        "^evo: not relevant on this host: no /dev/shm/evo_\* segment.*; lavinmq: not relevant on this host: no lavinmq process" \
        "the finding says, per collector, why none applied"
t_run check --root "$EMPTY" --only lavinmq
t_like "$OUT" "UNKNOWN +evodiag.nothing_checked +nothing was checked: lavinmq asked for" "text: the unknown line"
t_like "$OUT" "^UNKNOWN: 0 crit, 0 warn, 1 unknown, 0 ok" "text: the summary is UNKNOWN"
t_run explain evodiag.nothing_checked
t_is "$RC" 0 "explain evodiag.nothing_checked: known"
t_like "$OUT" "never ok" "explain: says a run with nothing checked is never ok"
# When something ran, the run adds nothing of its own.
t_run check --root "$EMPTY" --only memory,evo --json
t_is "$(t_sev evodiag.nothing_checked)" "" "memory ran: no nothing_checked finding"

# An empty --root (nothing readable): no check is ok, across every collector.
t_run check --root "$EMPTY" --json
t_is "$RC" 3 "empty --root: exit 3"
t_is "$(t_ids_with ok)" "" "empty --root: no ok finding at all"
t_is "$(t_sev shm.world_writable)" skipped "empty --root: shm.world_writable skipped (nothing read), not ok"
t_is "$(t_sev hugepages.thp)" skipped "empty --root: hugepages.thp skipped (no /sys/kernel), not 'not present in this kernel'"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "hugepages.thp") | .summary')" \
        "/sys/kernel is not there" "empty --root: thp says why"
# A root with the kernel interfaces but no THP: still "not present in this kernel" (ok).
r=$(fx_root nothp)
mkdir -p "$r/sys/kernel/mm"
t_run check --root "$r" --only hugepages --json
t_is "$(t_sev hugepages.thp)" ok "sysfs there, no THP directory: ok, not present in this kernel"
# With /dev/shm listed but no SysV table: ok only for what was read, and it says so.
r=$(fx_root shmonly)
t_run check --root "$r" --only shm --json
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "shm.world_writable") | .summary')" \
        "SysV segments not read" "shm.world_writable: says what it could not read"

t_done
