#!/bin/bash
# Median wall time of `evodiag check` on this machine, then with 1,000 extra sleeping
# processes and 200 shared-memory segments (100 SysV + 100 POSIX), next to the guides'
# manual commands (bench/manual-guides.sh). Needs hyperfine (apt-get install hyperfine).
# Usage: bench/check.sh [path/to/evodiag]   Results: bench/results/check-*.md
set -eu
here=$(cd "$(dirname "$0")" && pwd)
evodiag=${1:-$here/../evodiag}
out=$here/results
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

run() { # label
        # -N: no shell in between; -i: evodiag's exit code reports findings (orphaned
        # segments below are a warning), not a failure.
        hyperfine -N -i --warmup 3 --runs "${RUNS:-30}" --export-json "$out/check-$1.json" \
                -n "evodiag check" "$evodiag check --format json" \
                -n "manual commands" "sh $here/manual-guides.sh" >/dev/null 2>&1
        python3 - "$out/check-$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
e, m = r[0], r[1]
print(f"  evodiag check    median {e['median']*1000:7.1f} ms  (mean {e['mean']*1000:.1f}, min {e['min']*1000:.1f}, max {e['max']*1000:.1f})")
print(f"  manual commands  median {m['median']*1000:7.1f} ms  (mean {m['mean']*1000:.1f}, min {m['min']*1000:.1f}, max {m['max']*1000:.1f})")
print(f"  ratio of medians: {m['median']/e['median']:.1f}x")
PY
}

echo "== this machine ($(nproc) CPUs, $(ls -d /proc/[0-9]* | wc -l) processes)"
EVODIAG_CONFIG=/dev/null run idle

echo "== with 1000 extra sleeping processes and 200 segments"
pids=()
cleanup() {
        kill "${pids[@]}" 2>/dev/null || true
        for i in $(seq 1 100); do rm -f "/dev/shm/bench_evodiag_$i"; done
        ipcs -m | awk '$1 ~ /^0x6265/ { print $2 }' | xargs -r -n1 ipcrm -m 2>/dev/null || true
}
trap cleanup EXIT
for i in $(seq 1 1000); do sleep 3600 & pids+=($!); done
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for i in range(100):
    # key 0x6265xxxx ("be"nch) so cleanup can find them; 64 KiB each, left unattached
    libc.shmget(0x62650000 + i, 65536, 0o1600)
    fd = os.open(f"/dev/shm/bench_evodiag_{i+1}", os.O_CREAT | os.O_RDWR, 0o600)
    os.ftruncate(fd, 65536); os.close(fd)
PY
EVODIAG_CONFIG=/dev/null run loaded
