#!/bin/bash
# evodiag bundle next to `sos report --batch` (Debian's sosreport) on the same machine:
# wall time, CPU time (user+sys, children included), archive size and entries, peak RSS
# (GNU time's %M: the largest single process of the run, for evodiag the parent or a
# collector child, whichever is larger), and what the host was doing meanwhile (load
# average, process count): on a loaded host both tools wait for a CPU, and evodiag reads
# every process's /proc files, so its time grows with the process count.
# Usage: bench/bundle.sh [path/to/evodiag [path/to/another/evodiag]]
#   With a second binary, the two run alternately (paired runs: before/after a change).
#   RUNS=N (default 5) runs of each evodiag; SOS=0 leaves sos out.
# Needs: /usr/bin/time; sosreport (optional).
set -u
here=$(cd "$(dirname "$0")" && pwd)
evodiag=${1:-$here/../evodiag}
other=${2:-}
runs=${RUNS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export EVODIAG_CONFIG=/dev/null EVODIAG_STATE_DIR=$out/state

host_state() {
        echo "host: load average $(cut -d' ' -f1-3 /proc/loadavg), $(ls -d /proc/[0-9]* 2>/dev/null | wc -l) processes, $(nproc) CPUs"
}

# One run: "<wall> <cpu> <rss KiB> <bytes> <entries>" on stdout.
one() {
        local bin=$1 file=$2
        /usr/bin/time -o "$out/time" -f "%e %U %S %M" "$bin" bundle -q -o "$file" >/dev/null 2>"$out/err" ||
                { echo "evodiag failed: $(tail -3 "$out/err")" >&2; }
        read -r wall user sys rss <"$out/time"
        echo "$wall $(echo "$user + $sys" | bc) $rss $(stat -c %s "$file" 2>/dev/null || echo 0) $(tar --zstd -tf "$file" 2>/dev/null | wc -l)"
}

stats() { # label, then lines of "wall cpu rss bytes entries"
        local label=$1
        sort -n | awk -v l="$label" '
                function lohi(v, k) { if (NR == 1 || v < lo[k]) lo[k] = v; if (NR == 1 || v > hi[k]) hi[k] = v }
                { w[NR]=$1; lohi($2, "c"); lohi($3, "r"); lohi($4, "b"); lohi($5, "e") }
                END { printf "%s: wall %.2f–%.2f s (median %.2f), CPU (user+sys) %.2f–%.2f s, peak RSS %.1f–%.1f MiB, archive %d–%d bytes, %d–%d entries\n",
                      l, w[1], w[NR], w[int((NR+1)/2)], lo["c"], hi["c"], lo["r"]/1024, hi["r"]/1024, lo["b"], hi["b"], lo["e"], hi["e"] }'
}

host_state
echo "== evodiag bundle ($runs runs$([ -n "$other" ] && echo " each, alternating with $other"))"
: >"$out/a"
: >"$out/b"
for i in $(seq "$runs"); do
        one "$evodiag" "$out/a$i.tar.zst" | tee -a "$out/a" | sed "s|^|  $(basename "$evodiag") run $i: wall/cpu/rssKiB/bytes/entries |"
        [ -n "$other" ] && one "$other" "$out/b$i.tar.zst" | tee -a "$out/b" | sed "s|^|  $(basename "$other") run $i: wall/cpu/rssKiB/bytes/entries |"
done
stats "$evodiag" <"$out/a"
[ -n "$other" ] && stats "$other" <"$out/b"
host_state

if [ "${SOS:-1}" = 1 ] && command -v sos >/dev/null; then
        echo "== sos report --batch (1 run, 10 min limit)"
        mkdir -p "$out/sos"
        /usr/bin/time -o "$out/sostime" -f "%e %U %S %M" timeout 600 sos report --batch -q --tmp-dir "$out/sos" >/dev/null 2>"$out/sos.err"
        read -r swall suser ssys srss <"$out/sostime"
        sfile=$(ls "$out"/sos/sosreport-*.tar.* 2>/dev/null | grep -v sha256 | head -1)
        sbytes=$(stat -c %s "$sfile" 2>/dev/null || echo 0)
        sentries=$(tar -tf "$sfile" 2>/dev/null | wc -l)
        printf "sos: wall %.2f s, CPU %.2f s, peak RSS %.1f MiB, archive %d bytes, %d entries\n" "$swall" \
                "$(echo "$suser + $ssys" | bc)" "$(echo "$srss / 1024" | bc -l)" "$sbytes" "$sentries"
        host_state
        med=$(sort -n "$out/a" | awk '{ w[NR]=$1 } END { print w[int((NR+1)/2)] }')
        big=$(sort -n -k4 "$out/a" | tail -1 | awk '{ print $4 }')
        cpu=$(sort -n -k2 "$out/a" | awk '{ c[NR]=$2 } END { print c[int((NR+1)/2)] }')
        awk -v s="$swall" -v m="$med" -v sb="$sbytes" -v b="$big" -v sc="$(echo "$suser + $ssys" | bc)" -v c="$cpu" 'BEGIN {
                printf "ratio (first evodiag: median wall, largest archive): %.1f× faster, 1/%.1f the size\n", s / m, (b ? sb / b : 0)
                printf "CPU ratio (median evodiag run): %.1f× less CPU time (what a loaded host does not change much)\n", sc / c }'
else
        echo "== sos left out (SOS=0, or not installed: apt-get install sosreport)"
fi
