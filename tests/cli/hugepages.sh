#!/bin/bash
# hugepages collector: fixture sysroots (tests/fixtures/hugepages-*) for every verdict,
# variants built at test time, then the live host (read-only, a private hugetlbfs mount,
# and a real 2M pool the test creates, fills and gives back).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

hp() { t_run check --root "$1" --only hugepages --json "${@:2}"; }
# Summaries / subjects of a finding ID in $OUT, joined by " | ".
t_subj() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }
t_field() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join(" | ")'; }
bad_ids() { echo "$(t_ids_with warn)|$(t_ids_with crit)|$(t_ids_with unknown)"; }

# ---- healthy: 2M pool, 990 of 1024 available over two nodes, mounted twice; THP madvise ----
root=$(fx_root healthy hugepages-healthy)
hp "$root"
t_is "$RC" 0 "healthy: exit 0"
t_is "$(bad_ids)" "||" "healthy: no warn, crit or unknown"
t_is "$(t_sev hugepages.pools)" ok "healthy: pools ok"
t_is "$(t_sev hugepages.pool_exhausted)" ok "healthy: one pool_exhausted finding, ok (the unused 1G pool is not checked)"
t_is "$(t_subj hugepages.pool_exhausted)" 2M "healthy: pool_exhausted subject is the page size"
t_is "$(t_sum hugepages.pool_exhausted)" "2M pool: 990 of 1024 pages available" "healthy: free minus reserved"
t_is "$(t_sev hugepages.no_mount)" ok "healthy: no_mount ok"
t_like "$(t_sum hugepages.no_mount)" "2M at /dev/hugepages, /mnt/huge$" "healthy: both 2M mounts named"
t_is "$(t_sev hugepages.surplus)" ok "healthy: surplus ok"
t_is "$(t_sev hugepages.thp)" ok "healthy: THP madvise ok"
t_like "$(t_field hugepages.pool_exhausted actual)" "node 0: 498 of 512 free; node 1: 502 of 512 free" "healthy: per-node counts"
t_like "$(t_sum hugepages.pools)" "^1 huge page pool configured: 2M x 1024 \(2.0 GiB\)$" "healthy: pool summary"
t_run check --root "$root" --only hugepages -v # -v: ok lines listed, not folded into a count
t_is "$RC" 0 "healthy text: exit 0"
t_like "$OUT" "OK +hugepages.pool_exhausted +2M pool: 990 of 1024 pages available" "healthy text: pool line"
t_like "$OUT" "OK: 0 crit, 0 warn, 0 unknown, 5 ok, 0 info" "healthy text: summary line"

# warn_free_pct from the config file: 96.7% available is below 99%.
printf '[hugepages]\nwarn_free_pct = 99\n' >"$T_TMP/hp.conf"
EVODIAG_CONFIG="$T_TMP/hp.conf" hp "$root"
t_is "$RC" 1 "warn_free_pct=99: exit 1"
t_is "$(t_sev hugepages.pool_exhausted)" warn "warn_free_pct=99: pool low"
t_like "$(t_sum hugepages.pool_exhausted)" "^2M pool low: 990 of 1024 pages available \(96.7%\)" "warn_free_pct=99: numbers"

# ---- exhausted: free 12, reserved 12; node 1 has no free page ----
root=$(fx_root exhausted hugepages-exhausted)
hp "$root"
t_is "$RC" 2 "exhausted: exit 2"
t_is "$(t_sev hugepages.pool_exhausted)" crit "exhausted: crit"
t_is "$(t_subj hugepages.pool_exhausted)" 2M "exhausted: subject 2M"
t_like "$(t_sum hugepages.pool_exhausted)" "^2M pool exhausted: 0 of 1024 pages available; no free page on node 1 \(0 of 512 free\)$" "exhausted: names the empty node"
t_like "$(t_field hugepages.pool_exhausted remedy)" "^echo 2048 > /proc/sys/vm/nr_hugepages .*hugepagesz=2M hugepages=2048.*smaps_rollup.*ls -l /mnt/huge" "exhausted: remedy grows the pool and finds holders"
t_is "$(t_ids_with crit)" "hugepages.pool_exhausted" "exhausted: the only crit"
t_is "$(t_sev hugepages.no_mount),$(t_sev hugepages.pools),$(t_sev hugepages.thp)" "ok,ok,ok" "exhausted: other checks ok"
t_run check --root "$root" --only hugepages
t_like "$OUT" "CRIT +hugepages.pool_exhausted +2M pool exhausted" "exhausted text: crit line"
t_like "$OUT" "remedy: +echo 2048 > /proc/sys/vm/nr_hugepages" "exhausted text: remedy shown"

# Same pool, nr_overcommit_hugepages allows 8 surplus pages: used up, but not dead yet.
root=$(fx_root overcommit hugepages-exhausted)
fx_file "$root" sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages 8
hp "$root"
t_is "$RC:$(t_sev hugepages.pool_exhausted)" "1:warn" "overcommit headroom: warn, exit 1"
t_like "$(t_sum hugepages.pool_exhausted)" "8 more only as surplus" "overcommit headroom: says how many"

# Per-node imbalance alone: pool fine overall, node 1 ran out -> info.
root=$(fx_root imbalance hugepages-healthy)
fx_file "$root" sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages 0
fx_file "$root" sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 498
hp "$root"
t_is "$RC:$(t_sev hugepages.pool_exhausted)" "0:info" "node imbalance only: info, exit 0"
t_like "$(t_sum hugepages.pool_exhausted)" "no free page on node 1 \(0 of 512 free\)" "node imbalance: node named"
t_like "$(t_field hugepages.pool_exhausted remedy)" "node1/hugepages/hugepages-2048kB/nr_hugepages" "node imbalance: per-node remedy"
# watch judges the pool with the same verdict, nodes included: check and watch agree.
t_run watch --root "$root" --only hugepages --duration 1s --interval 200ms --json
last=$(printf '%s\n' "$OUT" | jq -c 'select(.type == "sample")' | tail -1)
t_is "$(printf '%s' "$last" | jq -r '.statuses[] | select(.id == "hugepages.pool_exhausted" and .subject == "2M") | .severity')" info \
        "node imbalance: watch says info, as check does"
t_like "$(printf '%s' "$last" | jq -r '.statuses[] | select(.id == "hugepages.pool_exhausted") | .summary')" \
        "no free page on node 1 \(0 of 512 free\)" "node imbalance: watch names the node"

# ---- nomount: 2M pool without a mount; 1G mounted (pagesize=1024M, escaped space) with surplus ----
root=$(fx_root nomount hugepages-nomount)
hp "$root"
t_is "$RC" 1 "nomount: exit 1"
t_is "$(t_sev hugepages.no_mount)" warn "nomount: exactly one no_mount finding, warn"
t_is "$(t_subj hugepages.no_mount)" 2M "nomount: for the 2M pool, not the mounted 1G one"
t_like "$(t_field hugepages.no_mount remedy)" "^mkdir -p /mnt/huge && mount -t hugetlbfs -o pagesize=2M none /mnt/huge; .*/etc/fstab" "nomount: guide's remedy"
t_is "$(t_sev hugepages.pool_exhausted)" "ok,ok" "nomount: both pools have pages"
t_is "$(t_subj hugepages.pool_exhausted)" "2M,1G" "nomount: pools in size order"
t_is "$(t_sev hugepages.surplus)" info "nomount: surplus pages are info"
t_is "$(t_subj hugepages.surplus)" 1G "nomount: surplus on the 1G pool"
t_like "$(t_field hugepages.surplus remedy)" "^echo 6 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages" "nomount: surplus remedy uses the sysfs path of a non-default size"
t_is "$(t_ids_with warn)" "hugepages.no_mount" "nomount: the only warn"
t_run check --root "$root" --only hugepages
t_like "$OUT" "WARN +hugepages.no_mount +2M pool has no hugetlbfs mount of that page size" "nomount text: warn line"
# Only the 1G pool mounted as /mnt/huge 1G: a mount without pagesize= is the default (2M) size.
fx_file "$root" proc/mounts "none /mnt/huge hugetlbfs rw,relatime 0 0
nodev /mnt/huge\\0401G hugetlbfs rw,relatime,pagesize=1024M 0 0"
hp "$root"
t_is "$RC:$(t_sev hugepages.no_mount)" "0:ok" "mount without pagesize= counts for the default size"
t_like "$(t_sum hugepages.no_mount)" "2M at /mnt/huge; 1G at /mnt/huge 1G" "mount points unescaped"

# ---- rt: THP always on a PREEMPT_RT kernel ----
root=$(fx_root rt hugepages-rt)
hp "$root"
t_is "$RC" 1 "rt: exit 1"
t_is "$(t_sev hugepages.thp)" warn "rt: THP always warns"
t_like "$(t_sum hugepages.thp)" "PREEMPT_RT kernel" "rt: says why the host is RT"
t_like "$(t_field hugepages.thp remedy)" "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled; add transparent_hugepage=madvise" "rt: remedy"
t_is "$(t_sev hugepages.pools)" ok "rt: no pools is still ok"
t_run check --root "$root" --only hugepages
t_like "$OUT" "WARN +hugepages.thp +THP enabled = always on an RT host" "rt text: warn line"

# ---- nopools: THP always on an ordinary host ----
root=$(fx_root nopools hugepages-nopools)
hp "$root"
t_is "$RC" 0 "nopools: exit 0"
t_is "$(t_sev hugepages.pools)" ok "nopools: pools ok"
t_is "$(t_sum hugepages.pools)" "no huge page pool configured" "nopools: the one line"
t_is "$(t_sev hugepages.pool_exhausted)$(t_sev hugepages.no_mount)$(t_sev hugepages.surplus)" "" "nopools: no per-pool findings"
t_is "$(t_sev hugepages.thp)" info "nopools: THP always on a non-RT host is info"
t_is "$(bad_ids)" "||" "nopools: no warn, crit or unknown"

# The other RT signs, each alone on the nopools tree (THP always).
for sign in isolcpus nohz_full realtime fifo; do
        root=$(fx_root "rt-$sign" hugepages-nopools)
        case $sign in
        isolcpus) fx_file "$root" proc/cmdline "BOOT_IMAGE=/vmlinuz ro quiet isolcpus=managed_irq,domain,2-3" ;;
        nohz_full) fx_file "$root" proc/cmdline "BOOT_IMAGE=/vmlinuz ro nohz_full=1-3 rcu_nocbs=1-3" ;;
        realtime) fx_file "$root" sys/kernel/realtime 1 ;;
        fifo) fx_proc "$root" 4242 evo_ctrl policy=1 rtprio=80 ;;
        esac
        hp "$root"
        t_is "$RC:$(t_sev hugepages.thp)" "1:warn" "RT sign $sign: THP always warns"
done
t_like "$(t_sum hugepages.thp)" "pid 4242 evo_ctrl runs SCHED_FIFO" "RT sign fifo: names the process"
# Kernel threads at SCHED_FIFO (every host has them) and SCHED_OTHER users do not make a host RT.
root=$(fx_root rt-kthread hugepages-nopools)
fx_proc "$root" 2 kthreadd ppid=0 cmdline=
fx_proc "$root" 18 migration/0 ppid=2 policy=1 rtprio=99 cmdline=
fx_proc "$root" 900 lavinmq nice=-5
hp "$root"
t_is "$RC:$(t_sev hugepages.thp)" "0:info" "FIFO kernel thread only: not an RT host"
# isolcpus= with an empty value is not isolation.
fx_file "$root" proc/cmdline "ro quiet isolcpus= nohz_full"
hp "$root"
t_is "$(t_sev hugepages.thp)" info "empty isolcpus=/bare nohz_full: not an RT host"
# defrag=always with THP madvise on an RT host: info; THP never: ok.
root=$(fx_root rt-defrag hugepages-rt)
fx_file "$root" sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
fx_file "$root" sys/kernel/mm/transparent_hugepage/defrag "[always] defer defer+madvise madvise never"
hp "$root"
t_is "$RC:$(t_sev hugepages.thp)" "0:info" "RT host, madvise + defrag always: info"
fx_file "$root" sys/kernel/mm/transparent_hugepage/enabled "always madvise [never]"
hp "$root"
t_is "$(t_sev hugepages.thp)" ok "RT host, THP never: ok"
rm -rf "$root/sys/kernel/mm/transparent_hugepage"
hp "$root"
t_is "$(t_sev hugepages.thp)" ok "no THP in the kernel: ok"
t_like "$(t_sum hugepages.thp)" "not present" "no THP: says not present"

# hugetlbfs mounted but no pool: info, not a warning.
root=$(fx_root mounted-empty hugepages-nopools)
echo "none /mnt/huge hugetlbfs rw,relatime,pagesize=2M 0 0" >>"$root/proc/mounts"
hp "$root"
t_is "$RC:$(t_sev hugepages.pools)" "0:info" "mount without pool: info"
t_like "$(t_sum hugepages.pools)" "mounted at /mnt/huge \(2M\)" "mount without pool: names the mount"

# ---- garbage: unparsable values, stray directories, malformed mounts, THP without [] ----
root=$(fx_root garbage hugepages-garbage)
hp "$root"
t_is "$RC" 3 "garbage: exit 3 (unknown), no crash"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "hugepages") | .status')" ok "garbage: collector finished"
t_is "$(t_sev hugepages.pool_exhausted)" "unknown,unknown,unknown" "garbage: each broken pool unknown"
t_is "$(t_subj hugepages.pool_exhausted)" "64K,2M,1G" "garbage: per pool"
t_like "$(t_sum hugepages.pool_exhausted)" "64K pool: .*nr_hugepages: empty" "garbage: empty file named"
t_like "$(t_sum hugepages.pool_exhausted)" "2M pool: .*nr_hugepages: '12ab' is not a number" "garbage: bad number shown"
t_like "$(t_sum hugepages.pool_exhausted)" "1G pool: .*free_hugepages: '\?\?' is not a number" "garbage: binary made printable"
t_is "$(t_sev hugepages.thp)" unknown "garbage: THP without brackets unknown"
t_like "$(t_field hugepages.pools actual)" "2 unrecognised entries" "garbage: stray pool dirs counted, not fatal"
t_is "$(t_sev hugepages.no_mount)" ok "garbage: the readable 1G pool has its mount"
t_like "$(t_field hugepages.no_mount actual)" "2 malformed hugetlbfs lines skipped" "garbage: bad mount lines counted"
t_run check --root "$root" --only hugepages
t_like "$OUT" "UNKNOWN +hugepages.pool_exhausted +2M pool: cannot tell" "garbage text: unknown line"
# Huge numbers: no overflow in the messages.
root=$(fx_root huge-values hugepages-healthy)
fx_file "$root" sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 18446744073709551615
fx_file "$root" sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages 18446744073709551615
hp "$root"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "hugepages") | .status'):$(t_sev hugepages.pool_exhausted)" "ok:warn" "2^64-1 pages: no crash, pool low"
t_like "$(t_field hugepages.surplus remedy)" "^echo 18446744073709551615 " "2^64-1: remedy saturates instead of wrapping"

# ---- nosysfs: no /sys/kernel/mm/hugepages at all ----
root=$(fx_root nosysfs hugepages-nosysfs)
hp "$root"
t_is "$RC:$(t_sev hugepages.pools)" "0:ok" "no sysfs pools, meminfo says 0: ok"
t_is "$(t_sum hugepages.pools)" "no huge page pool configured" "no sysfs: no pool configured"
t_like "$(t_field hugepages.pools actual)" "/sys/kernel/mm/hugepages missing" "no sysfs: says so"
# ... with a used-up default pool in meminfo: judged from meminfo alone.
sed -i -e 's/^HugePages_Total:.*/HugePages_Total:     256/' -e 's/^HugePages_Free:.*/HugePages_Free:        0/' "$root/proc/meminfo"
hp "$root"
t_is "$RC" 2 "no sysfs, meminfo pool exhausted: exit 2"
t_is "$(t_sev hugepages.pools):$(t_sev hugepages.pool_exhausted):$(t_sev hugepages.no_mount)" "info:crit:warn" "no sysfs: meminfo pool judged"
t_like "$(t_sum hugepages.pools)" "from /proc/meminfo: default size only" "no sysfs: limited view said"
# ... no HugePages lines: kernel without hugetlbfs.
grep -v '^Huge' "$FIXTURES/hugepages-nosysfs/proc/meminfo" >"$root/proc/meminfo"
hp "$root"
t_is "$RC:$(t_sev hugepages.pools)" "0:ok" "no hugetlb in kernel: ok"
t_like "$(t_sum hugepages.pools)" "not supported by this kernel" "no hugetlb: says not supported"
# ... and no meminfo either: unknown, naming the file.
rm "$root/proc/meminfo"
hp "$root"
t_is "$RC:$(t_sev hugepages.pools)" "3:unknown" "nothing readable: unknown"
t_like "$(t_sum hugepages.pools)" "cannot read /proc/meminfo" "nothing readable: names the file"
# /proc/mounts missing while a pool is configured: unknown, not a false no_mount warning.
root=$(fx_root nomounts-file hugepages-healthy)
rm "$root/proc/mounts"
hp "$root"
t_is "$(t_sev hugepages.no_mount)" unknown "no /proc/mounts: no_mount unknown"

# ---- the live host ----
hp /
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "hugepages") | .status')" ok "live: collector finished"
want_thp=$(sed -n 's/.*\[\([^]]*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
if [ -n "$want_thp" ]; then
        t_like "$(t_sum hugepages.thp)" "THP enabled = $want_thp" "live: THP value is the bracketed one ($want_thp)"
else
        t_skip "live: no THP in this kernel"
fi
configured=0
for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
        [ -d "$d" ] || continue
        if [ "$(cat "$d/nr_hugepages")" != 0 ] || [ "$(cat "$d/nr_overcommit_hugepages")" != 0 ]; then
                configured=$((configured + 1))
        fi
done
n_pool=$(printf '%s' "$OUT" | jq '[.collectors[].findings[] | select(.id == "hugepages.pool_exhausted")] | length')
t_is "$n_pool" "$configured" "live: one pool_exhausted finding per configured pool ($configured)"
if [ "$configured" = 0 ]; then
        t_like "$(t_sum hugepages.pools)" "^no huge page pool configured" "live: no pool here, said as ok/info"
        t_unlike "$(t_ids_with warn) $(t_ids_with crit)" "hugepages.(pools|no_mount|pool_exhausted)" "live: no pool is not a problem"
else
        t_skip "live: this host has pools configured"
        t_skip "live: this host has pools configured"
fi

# Live hugetlbfs mount in a private mount namespace (the host's mount table is untouched).
if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
        t_skip_rest "live mount and pool: needs root and unshare -m"
        t_done
        exit
fi
mkdir -p "$T_TMP/huge"
in_ns() { # in_ns CMD: runs with $T_TMP/huge mounted (2M), then evodiag, JSON into $T_TMP/ns.json
        unshare -m --propagation private sh -c "mount -t hugetlbfs -o pagesize=2M none '$T_TMP/huge' && $1
                timeout -k 5 60 '$EVODIAG' check --only hugepages --json >'$T_TMP/ns.json' 2>/dev/null; echo \$? >'$T_TMP/ns.rc'"
        OUT=$(cat "$T_TMP/ns.json")
        RC=$(cat "$T_TMP/ns.rc")
}
in_ns ":"
t_like "$(t_sum hugepages.pools) $(t_sum hugepages.no_mount)" "$T_TMP/huge" "live mount: the private hugetlbfs mount is seen"

# A real 2M pool: created, filled through a hugetlbfs file, given back. Only when the host
# has none of its own, and serialised so two test runs never share it.
P=/sys/kernel/mm/hugepages/hugepages-2048kB
exec 9>/tmp/evodiag-test-hugepages.lock
if [ ! -w "$P/nr_hugepages" ] || ! flock -w 120 9; then
        t_skip "live pool: no writable 2M pool"
elif [ "$(cat $P/nr_hugepages)" != 0 ] || [ "$(cat $P/nr_overcommit_hugepages)" != 0 ] || [ "$(cat $P/surplus_hugepages)" != 0 ]; then
        t_skip "live pool: this host uses its 2M pool, not touching it"
else
        # tap.sh's t_at_exit builds "; cmd", which eval rejects when it is the first one: seed it.
        T_CLEANUP=${T_CLEANUP:-:}
        t_at_exit "echo 0 > $P/nr_hugepages"
        echo 4 >"$P/nr_hugepages"
        if [ "$(cat $P/nr_hugepages)" != 4 ]; then
                t_skip "live pool: kernel could not allocate 4 huge pages (fragmented)"
        else
                in_ns ":"
                t_is "$RC:$(t_sev hugepages.pool_exhausted):$(t_sev hugepages.no_mount)" "0:ok:ok" "live pool: 4 fresh pages, mounted: ok"
                t_like "$(t_sum hugepages.pool_exhausted)" "^2M pool: 4 of 4 pages available" "live pool: counts from the kernel"
                in_ns "fallocate -l 8M '$T_TMP/huge/seg' &&"
                t_is "$RC:$(t_sev hugepages.pool_exhausted)" "2:crit" "live pool: a file holding all 4 pages makes it crit"
                t_like "$(t_field hugepages.pool_exhausted remedy)" "ls -l $T_TMP/huge" "live pool: remedy points at the mount holding them"
                echo 0 >"$P/nr_hugepages"
                t_is "$(cat $P/nr_hugepages)" 0 "live pool: pages given back"
        fi
fi
t_done
