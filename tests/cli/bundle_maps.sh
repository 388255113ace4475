#!/bin/bash
# bundle: a process's /proc/PID/maps is kept whole only where it tells something (it
# maps shared memory, is a component, a finding names it, or it is near the map-count
# limit); of every other process only its line count goes into the manifest (an
# "excerpt" entry, nothing in the archive). check --from re-derives shm.mappers and
# maps.process from that as the live run did; --full keeps every maps file.
# Live, in private pid, IPC and mount namespaces (own /proc, own /dev/shm): the processes
# are this test's own, a mapper of a POSIX object and a SysV segment and 20 sleepers.
. "$TOP_SRCDIR/tests/lib/tap.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"
export EVODIAG_CONFIG=/dev/null
command -v zstd >/dev/null || t_skip_all "zstd not installed"
HELPER="$TOP_BUILDDIR/tests/helpers/shm_attach"
[ -x "$HELPER" ] || t_skip_all "$HELPER not built"
unshare -m -i -p -f --mount-proc true 2>/dev/null || t_skip_all "no private pid/IPC/mount namespaces here (needs root)"

out="$T_TMP/out"
mkdir -p "$out"
# In the namespaces: pid 1 is this script; when it exits every process it started dies
# with it, and the IPC namespace takes the SysV segment along.
inside='set -e
mount --make-rprivate / && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
o=$1
sleep 600 | "$HELPER" --posix evodiag-maps-test --size 65536 >"$o/helper" 2>&1 &
for i in $(seq 100); do grep -q "^ready" "$o/helper" && break; sleep 0.1; done
pidof shm_attach >"$o/mapper"
for i in $(seq 20); do sleep 600 & echo $! >>"$o/sleepers"; done
(exec -a /usr/bin/lavinmq sleep 600) & echo $! >"$o/component"
cp "$(command -v sleep)" "$o/cuda_mediator"
"$o/cuda_mediator" 600 & echo $! >"$o/mediator"
"$EVODIAG" bundle --only shm,maps -o "$o/b.tar.zst" -q || echo "bundle exit $?" >>"$o/err"
"$EVODIAG" bundle --only shm,maps --full -o "$o/full.tar.zst" -q || echo "full exit $?" >>"$o/err"
'
export EVODIAG HELPER
unshare -m -i -p -f --mount-proc bash -c "$inside" bash "$out" >"$out/log" 2>&1
t_is "$(cat "$out/err" 2>/dev/null)" "" "both bundles made (exit 0)"
mapper=$(cat "$out/mapper")
t_like "$mapper" "^[0-9]+$" "the mapper ran"
[ -n "$mapper" ] || { cat "$out/log" | sed 's/^/# /'; t_done; exit; }

manifest() { tar --zstd -xOf "$1" --wildcards '*/manifest.json'; }
manifest "$out/b.tar.zst" >"$out/m.json"
maps_in_archive() { tar --zstd -tf "$1" | grep -cE '/host/proc/[0-9]+/maps$'; }

# The mapper's maps whole, with its shared memory; nothing of the sleepers' but their counts.
t_is "$(maps_in_archive "$out/b.tar.zst")" 3 "three maps files in the archive: the process that maps shared memory, the two components"
t_like "$(tar --zstd -xOf "$out/b.tar.zst" --wildcards "*/host/proc/$mapper/maps")" "/dev/shm/evodiag-maps-test" \
        "the mapper's maps, whole: its POSIX object"
t_like "$(tar --zstd -xOf "$out/b.tar.zst" --wildcards "*/host/proc/$mapper/maps")" "/SYSV[0-9a-f]{8}" "and its SysV segment"
t_is "$(jq -r --arg p "host/proc/$mapper/maps" '.artifacts[] | select(.path == $p) | "\(.excerpt // false) \(.sha256 != null)"' "$out/m.json")" \
        "false true" "the mapper's manifest entry: stored, not an excerpt"
bad=0
for p in $(cat "$out/sleepers"); do
        e=$(jq -c --arg p "host/proc/$p/maps" '.artifacts[] | select(.path == $p) |
                [.kind, .status, .excerpt, .absent, (.lines > 5), .sha256, (.note | test("only the line count"))]' "$out/m.json")
        [ "$e" = '["file","ok",true,true,true,null,true]' ] || { bad=$((bad + 1)); echo "# pid $p: $e"; }
done
component=$(cat "$out/component")
t_like "$(tar --zstd -xOf "$out/b.tar.zst" --wildcards "*/host/proc/$component/maps")" "sleep" \
        "a component's maps (argv[0] lavinmq) whole, though it maps no shared memory"
t_like "$(tar --zstd -xOf "$out/b.tar.zst" --wildcards "*/host/proc/$(cat "$out/mediator")/maps")" "cuda_mediator" \
        "the vGPU mediator's maps (comm cuda_mediator) whole too"
t_is "$bad" 0 "each of the 20 sleepers: an excerpt entry (file, ok, its line count, nothing stored, says why)"
t_is "$(jq '[.artifacts[] | select(.excerpt == true) | select(.path | test("/maps$") | not)] | length' "$out/m.json")" 0 \
        "only maps files become excerpts"
# The manifest tells the truth: every entry with a SHA-256 is in the archive, and no other.
t_is "$(jq -r '.artifacts[] | select(.sha256 != null and (.path | startswith("host/"))) | .path' "$out/m.json" | sort | md5sum)" \
        "$(tar --zstd -tf "$out/b.tar.zst" | sed -n 's|^[^/]*/\(host/.*[^/]\)$|\1|p' | sort | md5sum)" \
        "the host files in the archive are exactly the manifest's stored entries"

# check --from reaches the live findings from the counts.
t_run check --from "$out/b.tar.zst" --json
t_like "$ERR" "re-checked offline: 2 collectors agree with the bundle's recorded findings, 0 differ" "check --from agrees"
summary() { jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id and .severity == "ok") | .summary] | join("|")'; }
live_mappers=$(tar --zstd -xOf "$out/b.tar.zst" --wildcards '*/findings.json' | summary shm.mappers)
t_like "$live_mappers" "^maps of [0-9]+ processes scanned: 1 map shared memory$" "live: every process scanned, one maps shared memory"
t_is "$(printf '%s' "$OUT" | summary shm.mappers)" "$live_mappers" "check --from: shm.mappers the same, from the excerpts"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "shm") | .findings[] | select(.id == "shm.posix_objects") | .summary')" \
        "mapped by pid $mapper " "check --from: the object's mapper named"
t_is "$(printf '%s' "$OUT" | summary maps.process)" \
        "$(tar --zstd -xOf "$out/b.tar.zst" --wildcards '*/findings.json' | summary maps.process)" \
        "check --from: maps.process the same, from the line counts"

# --full keeps every process's maps.
n=$(( $(wc -l <"$out/sleepers") + 2 ))
t_run check --from "$out/full.tar.zst"
t_like "$ERR" "2 collectors agree" "--full: check --from agrees"
full_maps=$(maps_in_archive "$out/full.tar.zst")
[ "$full_maps" -gt "$n" ] && t_pass "--full: every process's maps in the archive ($full_maps)" ||
        t_fail "--full: every process's maps in the archive" "$full_maps of more than $n"
t_is "$(manifest "$out/full.tar.zst" | jq '[.artifacts[] | select(.excerpt == true)] | length')" 0 "--full: no excerpts"
t_done
