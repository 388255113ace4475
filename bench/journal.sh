#!/bin/bash
# The journal collector's cost does not grow with the journal: a 1-hour window in journals
# of 100k and 1M entries, built here with systemd-journal-remote at the same rate (RATE
# entries per hour: 10 h and 100 h of history), 70% an unrelated unit, 20% lavinmq.service
# (1% of those at err), 10% the kernel (an OOM kill now and then). `evodiag check --only
# journal --since 1h` next to `journalctl --since "1 hour ago" -u lavinmq -p err | wc -l` on
# the same files. Then the peak RSS (the whole process tree) of `evodiag bundle --only
# journal` on a ~BIG_MB journal (incompressible messages). journal-remote rotates its
# output at ~50 MB, so each journal is a directory (--journal-dir, journalctl -D).
# Usage: bench/journal.sh [path/to/evodiag]
#   SIZES="100000 1000000"; RATE=10000; BIG_MB=1024 (0: no big journal); RUNS=5
#   BIG_DIR=DIR: use this journal directory as the big one (built before) instead
#   TMPDIR: where the journals are built (needs ~BIG_MB + 1 GiB free)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
evodiag=$(realpath "${1:-$here/../evodiag}")
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || { echo "bench: needs $remote (apt-get install systemd-journal-remote)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }
runs=${RUNS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evodiag-jbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export EVODIAG_CONFIG=/dev/null

# gen N PAD: N entries, RATE an hour, ending now, as journal export text; PAD bytes of
# filler per message (random characters from a pool: journald compresses each message).
gen() {
        awk -v n="$1" -v pad="$2" -v rate="${RATE:-10000}" -v now="$(date +%s%6N)" 'BEGIN {
                srand(42); c = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
                for (k = 0; k < 61; k++) { p[k] = ""; for (i = 0; i < pad; i++) p[k] = p[k] substr(c, int(rand() * 64) + 1, 1) }
                step = 3600 * 1000000 / rate
                for (i = 0; i < n; i++) {
                        t = now - (n - i) * step; r = i % 100; f = p[i % 61]
                        printf "__REALTIME_TIMESTAMP=%.0f\n_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01\n", t
                        if (r < 70) printf "_TRANSPORT=stdout\n_SYSTEMD_UNIT=app.service\nSYSLOG_IDENTIFIER=app\n_PID=100\nPRIORITY=6\nMESSAGE=request %d served %s\n\n", i, f
                        else if (r < 90) printf "_TRANSPORT=stdout\n_SYSTEMD_UNIT=lavinmq.service\nSYSLOG_IDENTIFIER=lavinmq\n_PID=812\nPRIORITY=%d\nMESSAGE=%s %d %s\n\n", (i % 500 == 70 ? 3 : 6), (i % 500 == 70 ? "Unhandled exception in fiber" : "Published message"), i, f
                        else printf "_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=%d\nMESSAGE=%s %s\n\n", (i % 10000 == 95 ? 3 : 6), (i % 10000 == 95 ? "Out of memory: Killed process " i " (worker) total-vm:1000kB, anon-rss:500kB, file-rss:0kB, shmem-rss:0kB" : "eth0: rx " i), f
                }
        }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# timed LABEL CMD...: median wall ms and max RSS KiB of RUNS runs
timed() {
        local label=$1 i
        shift
        : >"$tmp/t"
        for i in $(seq "$runs"); do
                /usr/bin/time -f "%e %M" -o "$tmp/one" "$@" >/dev/null 2>&1 || true
                tail -1 "$tmp/one" >>"$tmp/t"
        done
        printf '  %-58s median %7.0f ms   peak RSS %6.1f MiB\n' "$label" \
                "$(awk '{print $1 * 1000}' "$tmp/t" | median)" "$(awk '{print $2}' "$tmp/t" | sort -n | tail -1 | awk '{print $1 / 1024}')"
}

for n in ${SIZES:-100000 1000000}; do
        d="$tmp/j$n"
        mkdir "$d"
        t0=$(date +%s)
        gen "$n" 20 | "$remote" -o "$d/j.journal" - 2>/dev/null
        echo "== $n entries ($((n / ${RATE:-10000})) h at ${RATE:-10000}/h): $(du -sh "$d" | cut -f1) in $(ls "$d" | wc -l) files (built in $(($(date +%s) - t0)) s)"
        echo "   entries: $(journalctl -D "$d" -q | wc -l); lavinmq err in the last hour: $(journalctl -D "$d" --since "1 hour ago" -u lavinmq -p err -q | wc -l)"
        timed "evodiag check --only journal --since 1h" "$evodiag" check --only journal --journal-dir "$d" --since 1h --format json
        timed "journalctl --since '1 hour ago' -u lavinmq -p err | wc -l" sh -c "journalctl -D '$d' --since '1 hour ago' -u lavinmq -p err -q | wc -l"
        timed "journalctl --since '1 hour ago' -k | wc -l" sh -c "journalctl -D '$d' --since '1 hour ago' -k -q | wc -l"
        rm -rf "$d"
done

big=${BIG_MB:-1024}
if [ "$big" -gt 0 ]; then
        # ~1 KiB per entry on disk with 700 random characters: BIG_MB * 1000 entries
        d=${BIG_DIR:-$tmp/big}
        t0=$(date +%s)
        if [ -z "${BIG_DIR:-}" ]; then
                mkdir "$d"
                gen $((big * 1000)) 700 | "$remote" -o "$d/j.journal" - 2>/dev/null
        fi
        echo "== big journal: $(du -sh "$d" | cut -f1) in $(ls "$d" | wc -l) files${BIG_DIR:+ (given)}, $((big * 1000)) entries (built in $(($(date +%s) - t0)) s)"
        timed "evodiag check --only journal --since 1h" "$evodiag" check --only journal --journal-dir "$d" --since 1h --format json
        timed "evodiag bundle --only journal --since 24h" "$evodiag" bundle --only journal --journal-dir "$d" --since 24h -o "$tmp/b.tar.zst"
        timed "evodiag bundle --only journal --since 200h (all of it)" "$evodiag" bundle --only journal --journal-dir "$d" --since 200h -o "$tmp/b2.tar.zst"
        echo "   bundle: $(du -h "$tmp/b.tar.zst" | cut -f1), journal artifacts: $(tar -tf "$tmp/b.tar.zst" | grep -c collectors/journal/)"
fi
