#!/bin/bash
# memory collector on fixture roots: healthy, low, fragmented, swapping, strict overcommit, broken files.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

mk() { # name avail_kb swaptotal swapfree overcommit buddy_normal [committed limit]
        local r
        r=$(fx_root "$1")
        cat >"$r/proc/meminfo" <<EOM
MemTotal:       16000000 kB
MemFree:         1000000 kB
MemAvailable:   $(printf '%8s' "$2") kB
SwapTotal:      $(printf '%8s' "$3") kB
SwapFree:       $(printf '%8s' "$4") kB
CommitLimit:    ${8:-20000000} kB
Committed_AS:   ${7:-5000000} kB
EOM
        fx_file "$r" proc/sys/vm/overcommit_memory "$5"
        fx_file "$r" proc/buddyinfo "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3
Node 0, zone    DMA32      4      3      2      1      1      1      1      1      1      1      0
Node 0, zone   Normal $6"
        echo "$r"
}

r=$(mk healthy 12000000 0 0 0 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$RC" 0 "healthy: exit 0"
t_is "$(t_ids_with warn)$(t_ids_with crit)" "" "healthy: no warn or crit"
t_is "$(t_sev memory.available),$(t_sev memory.swap),$(t_sev memory.fragmentation),$(t_sev memory.overcommit)" "ok,ok,ok,ok" "healthy: all four checks ok"

r=$(mk low 1200000 0 0 0 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.available)" warn "7.5% available: warn"
t_is "$RC" 1 "exit 1"
r=$(mk verylow 400000 0 0 0 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.available)" crit "2.5% available: crit"
t_is "$RC" 2 "exit 2"

# Only order < 9 blocks left in DMA32/Normal (DMA's big blocks do not count).
r=$(mk frag 12000000 0 0 0 "9000 5000 2000 100 10 3 1 0 0 0 0")
sed -i 's/DMA32      4      3      2      1      1      1      1      1      1      1      0/DMA32      4      3      2      1      1      1      1      1      0      0      0/' "$r/proc/buddyinfo"
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.fragmentation)" warn "no block of order >= 9 outside DMA: fragmentation warn"
t_run check --root "$r" --only memory
t_like "$OUT" "remedy: +echo 1 > /proc/sys/vm/compact_memory" "fragmentation remedy"

r=$(mk swap 12000000 4000000 1000000 0 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.swap)" warn "75% swap used: warn"
r=$(mk someswap 12000000 4000000 3900000 0 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.swap)" info "a little swap used: info"

r=$(mk strict 12000000 0 0 2 "100 50 20 10 5 2 1 1 1 1 2" 19500000 20000000)
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.overcommit)" crit "strict overcommit at 97.5% of CommitLimit: crit"
r=$(mk always 12000000 0 0 1 "100 50 20 10 5 2 1 1 1 1 2")
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.overcommit)" info "overcommit_memory=1: info"

# Broken inputs: garbage, truncation, missing files. Never a crash, always a finding.
r=$(mk garbage 12000000 0 0 0 "x y z")
printf '\x00\xff\xfe garbage\nMemTotal: lots\n' >"$r/proc/meminfo"
printf 'Node 0, zone\n' >"$r/proc/buddyinfo"
t_run check --root "$r" --only memory --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .status')" ok "garbage: the collector finishes"
t_is "$(t_sev memory.available)" unknown "garbage meminfo: memory.available unknown"
t_is "$(t_sev memory.fragmentation)" unknown "buddyinfo without zones: unknown"
# A buddyinfo line with 80 columns (a garbled or hostile bundle): it used to shift by 64
# and more, and the collector died under UBSan. Large counts saturate instead.
r=$(mk wide 12000000 0 0 0 "$(seq 1 80 | tr '\n' ' ')")
t_run check --root "$r" --only memory --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .status')" ok "80 buddyinfo columns: the collector finishes"
t_is "$(t_sev memory.fragmentation)" ok "80 buddyinfo columns: large blocks counted"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id=="memory.fragmentation") | .summary')" \
        "^18446744073709551615 free blocks of order >= 9$" "80 buddyinfo columns: the count saturates"
r=$(fx_root empty)
t_run check --root "$r" --only memory --json
t_is "$(t_sev memory.available)" unknown "missing /proc/meminfo: unknown"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id=="memory.available") | .summary')" "cannot read /proc/meminfo: No such file" "and it says which file and why"
t_is "$RC" 3 "exit 3"

# The live host: whatever it has, every check gives a verdict.
t_run check --only memory --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.name=="memory") | .findings[].id] | sort | join(" ")')" \
        "memory.available memory.fragmentation memory.overcommit memory.swap" "live: all four checks reported"
t_done
