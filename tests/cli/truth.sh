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
t_like "$ERR" "--only names shm and --skip skips it: nothing would be checked" "--only shm --skip shm: says what contradicts"
t_run check --only shm,evo --skip evo,shm,rt
t_is "$RC" 3 "--only shm,evo --skip evo,shm,rt: usage error"
t_like "$ERR" "--only names shm,evo and --skip skips them all" "--only A,B --skip B,A: says it"
ALL=$("$EVODIAG" list --root "$EMPTY" | awk 'NR > 1 && /^[a-z]/ {print $1}' | paste -sd, -)
t_like "$ALL" "^shm,.*,lavinmq" "every collector's name, from evodiag list"
t_run check --skip "$ALL"
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


# ------------------------------------------------ declared expectations: [expect]
# Bad declarations are config errors with the line and why.
bad_expect() { # DESC KEY VALUE PATTERN
        printf '[expect]\n%s = %s\n' "$2" "$3" >"$T_TMP/bad.conf"
        t_run check --config "$T_TMP/bad.conf" --root "$EMPTY"
        t_is "$RC" 3 "[expect] $1: config error (exit 3)"
        t_like "$ERR" "bad.conf:2: \[expect\] $2: .*$4" "[expect] $1: says why"
}
bad_expect "unknown component" components "evo, rabbit" "'rabbit' is not a component \(one of evo, lavinmq"
bad_expect "a non-detecting collector" components "shm" "'shm' is not a component"
bad_expect "writer without module" evo_writers "hal_cu" "'hal_cu' needs a value: hal_cu:VALUE"
bad_expect "rate not a number" evo_heartbeat_min "hal_cu:fast" "the rate is not a number of Hz above 0"
bad_expect "rate zero" evo_heartbeat_min "hal_cu:0" "the rate is not a number of Hz above 0"
bad_expect "a name twice" processes "a, a" "'a' is named twice"
bad_expect "a value where none goes" evo_segments "hal_cu:hal" "a plain name is expected here"

# Expected components that are not there: crit, never "not relevant on this host".
printf '[expect]\ncomponents = evo, lavinmq\n' >"$T_TMP/comp.conf"
t_run check --config "$T_TMP/comp.conf" --root "$EMPTY" --only evo,lavinmq --json
t_is "$RC" 2 "[expect] components, neither there: exit 2"
t_is "$(t_sev evo.expected)" crit "evo expected, absent: evo.expected crit"
t_is "$(t_sev lavinmq.expected)" crit "lavinmq expected, absent: lavinmq.expected crit"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "evo.expected") | .remedy')" \
        "start the producer.*spelling and case.*ls -la /dev/shm/ \| grep evo" "evo.expected: the guide's remedy"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "lavinmq.expected") | .remedy')" \
        "without systemd" "lavinmq.expected: says what to do without systemd"
t_is "$(t_sev evodiag.nothing_checked)" "" "expected components checked: not 'nothing checked'"
t_run check --config "$T_TMP/comp.conf" --root "$EMPTY" --only evo,lavinmq
t_unlike "$OUT" "not relevant" "text: an expected component is never 'not relevant on this host'"
t_like "$OUT" "CRIT +lavinmq.expected +lavinmq is expected on this host \(\[expect\] components\) but is not there" "text: the crit line"
t_run explain lavinmq.expected
t_is "$RC" 0 "explain lavinmq.expected"

# Expected segments on a fixture root: missing (and a case-only difference), wrong writer.
r=$(fx_root expseg)
hdr() { # SRC DST: a committed P2P header (heartbeat 5), 4 KiB
        printf 'EVO_P2P\0\0\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0'
        printf "$(printf '\\x%02x\\x%02x' "$1" "$2")"'\0\0\x40\0\0\0\x0a\0\0\0'
        head -c 28 /dev/zero
}
hdr 1 0 >"$r/dev/shm/evo_hal_cu"
truncate -s 4096 "$r/dev/shm/evo_hal_cu"
hdr 0 1 >"$r/dev/shm/evo_Cu_Hal"
truncate -s 4096 "$r/dev/shm/evo_Cu_Hal"
: >"$r/dev/shm/evo_hal_cu.lock"
: >"$r/proc/locks"
printf '[expect]\nevo_segments = hal_cu, cu_hal, sensor_data\nevo_writers = hal_cu:cu\n' >"$T_TMP/seg.conf"
t_run check --config "$T_TMP/seg.conf" --root "$r" --only evo --json
sub_sev() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'; }
sub_sum() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .summary] | join(",")'; }
t_is "$RC" 2 "[expect] evo_segments with missing ones: exit 2"
t_is "$(sub_sev evo.expected_segment sensor_data)" crit "sensor_data missing: crit"
t_like "$(sub_sum evo.expected_segment sensor_data)" "expected segment is missing \(SegmentNotFound\)" "sensor_data: says SegmentNotFound"
t_is "$(sub_sev evo.expected_segment cu_hal)" crit "cu_hal missing (there is evo_Cu_Hal): crit"
t_like "$(sub_sum evo.expected_segment cu_hal)" "there is evo_Cu_Hal: the case differs" "cu_hal: points at the case difference"
t_is "$(sub_sev evo.expected_segment hal_cu)" crit "hal_cu written by hal, declared cu: crit"
t_like "$(sub_sum evo.expected_segment hal_cu)" "written by hal, not by cu" "hal_cu: names both writers"
printf '[expect]\nevo_segments = hal_cu\nevo_writers = hal_cu:hal\n' >"$T_TMP/seg-ok.conf"
t_run check --config "$T_TMP/seg-ok.conf" --root "$r" --only evo --json
t_is "$(sub_sev evo.expected_segment hal_cu)" ok "hal_cu present, written by hal: ok"
# evo is relevant when segments are expected, even with no evo_* entry at all.
t_run check --config "$T_TMP/seg.conf" --root "$(fx_root noseg)" --only evo --json
t_is "$(sub_sev evo.expected_segment sensor_data)" crit "no evo_* at all, segments expected: crit, not 'not relevant'"

# Live: a declared heartbeat rate against a writer ticking at 50 Hz (this test's own segment).
W="$TOP_BUILDDIR/tests/helpers/evo_writer"
if [ -x "$W" ]; then
        SEG="w10t$$"
        "$W" --name "$SEG" --rate 50 >"$T_TMP/writer.out" 2>&1 &
        WPID=$!
        t_at_exit "kill $WPID 2>/dev/null; wait $WPID 2>/dev/null; rm -f /dev/shm/evo_${SEG} /dev/shm/evo_${SEG}.lock"
        for _ in $(seq 100); do grep -q '^ready' "$T_TMP/writer.out" && break; sleep 0.05; done
        printf '[expect]\nevo_heartbeat_min = %s:1000\nevo_writers = %s:hal\n' "$SEG" "$SEG" >"$T_TMP/rate.conf"
        T_TIMEOUT=120 t_run check --config "$T_TMP/rate.conf" --only evo --json --collector-timeout 60s --timeout 100s
        t_is "$(sub_sev evo.expected_rate "$SEG")" crit "50 Hz writer, 1000 Hz declared: evo.expected_rate crit"
        t_like "$(sub_sum evo.expected_rate "$SEG")" "heartbeat [0-9.]+ Hz, below the declared minimum 1000 Hz" "the rate and the minimum"
        t_is "$(sub_sev evo.expected_segment "$SEG")" crit "written by cu (its name is no module pair), declared hal: crit"
        printf '[expect]\nevo_heartbeat_min = %s:5\n' "$SEG" >"$T_TMP/rate.conf"
        T_TIMEOUT=120 t_run check --config "$T_TMP/rate.conf" --only evo --json --collector-timeout 60s --timeout 100s
        t_is "$(sub_sev evo.expected_rate "$SEG")" ok "50 Hz writer, 5 Hz declared: ok"
else
        t_skip "evo_writer not built"; t_skip "evo_writer not built"; t_skip "evo_writer not built"; t_skip "evo_writer not built"
fi

# Expected processes: a live one (this test's own, named uniquely) and a missing one.
PNAME="truth$$"
cp "$(command -v sleep)" "$T_TMP/$PNAME"
"$T_TMP/$PNAME" 300 &
SPID=$!
t_at_exit "kill $SPID 2>/dev/null"
printf '[expect]\nprocesses = %s, missing%s\n' "$PNAME" "$$" >"$T_TMP/proc.conf"
for _ in $(seq 50); do [ "$(cat /proc/$SPID/comm 2>/dev/null)" = "$PNAME" ] && break; sleep 0.05; done
t_run check --config "$T_TMP/proc.conf" --json
t_is "$(sub_sev evodiag.expected_process "$PNAME")" ok "a running expected process: ok"
t_like "$(sub_sum evodiag.expected_process "$PNAME")" "$PNAME runs: pid $SPID" "the ok names its pid"
t_is "$(sub_sev evodiag.expected_process "missing$$")" crit "a missing expected process: crit"
t_like "$(printf '%s' "$OUT" | jq -r --arg s "missing$$" '.collectors[].findings[] | select(.subject == $s) | .remedy')" \
        "systemctl start .* else however this host starts it" "missing process: a remedy with and without systemd"
t_is "$(printf '%s' "$OUT" | jq -r '.exit_code')" 2 "a missing expected process: exit 2"

# evo.leftovers never says "no stale .lock" beside evo.orphaned's crit for that .lock.
t_run check --config "$T_TMP/seg-ok.conf" --root "$r" --only evo --json
t_is "$(sub_sev evo.orphaned evo_hal_cu)" crit "the segment whose .lock nobody holds: evo.orphaned crit"
t_unlike "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "evo.leftovers") | .summary')" "no stale" \
        "evo.leftovers does not call that .lock fresh"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "evo.leftovers") | .summary')" \
        "the .lock of each orphaned segment: see evo.orphaned" "evo.leftovers points at evo.orphaned"

# ------------------------------------------------ [ignore]
printf '[ignore]\nfindings = memory.swap, fds.nr_open, evodiag.expected_process:missing%s\n[expect]\nprocesses = missing%s\n' "$$" "$$" \
        >"$T_TMP/ign.conf"
t_run check --config "$T_TMP/ign.conf" --only memory,fds --json
t_is "$(t_sev memory.swap)$(t_sev fds.nr_open)" "" "[ignore]: the ignored IDs are not in the report"
t_is "$(printf '%s' "$OUT" | jq -r .summary.ignored)" 2 "[ignore]: the JSON summary counts them"
t_run check --config "$T_TMP/ign.conf" --only memory,fds
t_like "$OUT" ", 2 ignored in [0-9]+ ms" "[ignore]: the summary line says 'n ignored'"
# A fixture host where only the expected process is missing: crit, unless ignored.
r=$(fx_root ignhost)
fx_proc "$r" 1 systemd
ALL_BUT_EVO=$(printf '%s' "$ALL" | tr , '\n' | grep -vx evo | paste -sd, -)
t_run check --config "$T_TMP/ign.conf" --root "$r" --skip "$ALL_BUT_EVO" --json
t_is "$(t_sev evodiag.expected_process)" "" "[ignore] ID:SUBJECT: that subject's finding is left out"
t_is "$(printf '%s' "$OUT" | jq -r '"\(.summary.crit) \(.exit_code) \(.summary.ignored)"')" "0 0 1" "an ignored crit is not in the verdict"
printf '[expect]\nprocesses = missing%s\n' "$$" >"$T_TMP/noign.conf"
t_run check --config "$T_TMP/noign.conf" --root "$r" --skip "$ALL_BUT_EVO" --json
t_is "$(printf '%s' "$OUT" | jq -r '"\(.worst) \(.exit_code)"')" "crit 2" "the same host without [ignore]: crit, exit 2"
printf '[ignore]\nfindings = fds.bogus\n' >"$T_TMP/ign-bad.conf"
t_run check --config "$T_TMP/ign-bad.conf"
t_is "$RC" 3 "[ignore] an unknown ID: config error"
t_like "$ERR" "'fds.bogus' is not a check ID" "[ignore] an unknown ID: says so"

# ------------------------------------------------ small edges
t_run check --timeout 0
t_is "$RC:$ERR" "3:evodiag: --timeout: '0': must be > 0 (e.g. 500ms, 5s, 2m)
Try 'evodiag check --help' for more information." "--timeout 0: must be > 0"
t_run check --root "$EMPTY" --only memory --timeout 1h2m --json
t_is "$RC" 3 "--timeout 1h2m is a duration (the empty root makes memory unknown)"
t_run version --bogus
t_is "$RC" 3 "version --bogus: usage error"
t_run version extra
t_is "$RC" 3 "version extra: usage error"
t_run version --help
t_like "$RC:$OUT" "^0:Usage: evodiag version" "version --help: its help"
t_run help check
t_like "$RC:$OUT" "^0:Usage: evodiag check" "evodiag help check: check's help"
t_run help bogus
t_is "$RC" 3 "evodiag help bogus: usage error"
t_run version -v
t_is "$(grep -o libarchive <<<"$OUT" | wc -l)" 1 "version -v: the word libarchive once"
t_like "$OUT" "^libarchive [0-9]" "version -v: 'libarchive X.Y.Z'"
t_like "$OUT" "^commit ([0-9a-f]{7,}|unknown)$" "version -v: the source commit"
# A run cut by --timeout: the finding says to raise it, not to file a bug.
t_run check --root "$EMPTY" --only memory,fds --timeout 1ms --json
t_like "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "memory.timeout") | .remedy] | first')" \
        "raise the run's deadline: evodiag check --timeout" "--timeout 1ms: the remedy raises the timeout"
t_unlike "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "memory.timeout") | .expected, .remedy] | join(" ")')" \
        "within 5000 ms|bug report" "--timeout 1ms: no 'within 5000 ms', no bug report"
# Remedies that assume systemd say what to do without it.
r=$(fx_root stopped lavinmq-base)
t_run check --root "$r" --only lavinmq --json
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "lavinmq.process") | .remedy')" \
        "systemctl start lavinmq \(without systemd: start lavinmq -c" "lavinmq.process: the remedy without systemd too"
# Root's own unreadable pid 1 is not "other users' maps".
if [ "$(id -u)" = 0 ]; then
        r=$(fx_root pid1)
        fx_proc "$r" 1 systemd
        rm -f "$r/proc/1/maps"
        mkfifo "$r/proc/1/maps"
        printf 'x' >"$r/dev/shm/seg$$"
        t_run check --root "$r" --only shm --json
        t_unlike "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | .summary, .actual] | join(" ")')" "other users" \
                "root, pid 1's maps unreadable: not called other users' maps"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "shm.mappers") | .summary')" \
                "not readable even as root \(first: pid 1 systemd: not a regular file" "shm.mappers: root, pid 1, and why"
else
        t_skip "pid 1 wording: needs root"
        t_skip "pid 1 wording: needs root"
fi

# The installed example config: every commented key, uncommented, is a valid config.
sed -E 's/^# ([a-z_]+ = )/\1/' "$TOP_SRCDIR/contrib/evodiag.conf.example" >"$T_TMP/example.conf"
t_is "$(grep -cE '^[a-z_]+ = ' "$T_TMP/example.conf")" "$(grep -cE '^# [a-z_]+ = ' "$TOP_SRCDIR/contrib/evodiag.conf.example")" \
        "example config: every commented key uncommented"
t_run list -v --config "$T_TMP/example.conf"
t_is "$RC:$ERR" "0:" "example config: every key, uncommented, loads and validates"

t_done
