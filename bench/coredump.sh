#!/bin/bash
# Time to symbolize a ~10 MB and a ~200 MB core (every thread, file:line) the way the
# coredump collector does it (bench/coredump_bench: cd_backtrace, sandboxed child), next
# to `eu-stack -s -m --core` on the same files; and the same cores zstd-compressed (the
# collector expands them first). Cores: tests/helpers/cd_threads with 4 threads and 8 or
# 200 MiB of heap, gcore'd here. Milliseconds (the driver: best and median of 5; eu-stack:
# best of 5).
# Then the peak RSS of `evodiag bundle --include-cores` with a ~1 GiB core (GNU time's
# maximum resident set: the largest process of the run), which streams the core.
# Usage: bench/coredump.sh [BUILDDIR]   (default ./_build; for numbers without sanitizers
# configure BUILDDIR without --enable-sanitizers)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/_build}
make -C "$build" -s bench/coredump_bench tests/helpers/cd_threads evodiag >/dev/null
command -v gcore >/dev/null || { echo "gcore not found (Debian package gdb)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evodiag-bench-core.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
best_ms() { # CMD...: best of 5 wall times, ms
        local best= t0 t1 i
        for i in 1 2 3 4 5; do
                t0=${EPOCHREALTIME/./}
                "$@" >/dev/null 2>&1 || true
                t1=${EPOCHREALTIME/./}
                t1=$(((t1 - t0) / 1000))
                if [ -z "$best" ] || [ "$t1" -lt "$best" ]; then best=$t1; fi
        done
        echo "$best"
}
for mib in 8 200; do
        "$build/tests/helpers/cd_threads" 4 "$mib" >"$tmp/ready" &
        pid=$!
        pids+=("$pid")
        for _ in $(seq 3000); do grep -q ready "$tmp/ready" && break; sleep 0.01; done
        gcore -o "$tmp/core" "$pid" >/dev/null 2>&1
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        core="$tmp/core.$pid"
        size=$(stat -c %s "$core")
        zstd -q -T0 "$core" -o "$core.zst"
        zsize=$(stat -c %s "$core.zst")
        echo "== core of $((size / 1048576)) MiB (zstd: $((zsize / 1048576)) MiB), 5 threads"
        echo "evodiag (plain):    $("$build/bench/coredump_bench" "$core")"
        echo "evodiag (.zst):     $("$build/bench/coredump_bench" "$core.zst")"
        echo "eu-stack -s -m --core: best $(best_ms eu-stack -s -m --core "$core") ms"
        rm -f "$core" "$core.zst"
done

echo "== evodiag bundle --include-cores, ~1 GiB core"
root="$tmp/root"
mkdir -p "$root/proc/sys/kernel" "$root/var/crash" "$root/etc"
echo "/var/crash/core.%p" >"$root/proc/sys/kernel/core_pattern"
"$build/tests/helpers/cd_threads" 4 1000 >"$tmp/ready" &
pid=$!
pids+=("$pid")
for _ in $(seq 6000); do grep -q ready "$tmp/ready" && break; sleep 0.01; done
gcore -o "$root/var/crash/core" "$pid" >/dev/null 2>&1
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo "core: $(($(stat -c %s "$root/var/crash/core.$pid") / 1048576)) MiB"
/usr/bin/time -f "peak RSS %M KiB, %e s" "$build/evodiag" bundle --root "$root" --only coredump --include-cores \
        --artifact-max 2G --max-size 3G -o "$tmp/b.tar.zst" -q 2>&1 | tail -1
echo "stored: $(tar --zstd -tvf "$tmp/b.tar.zst" | grep 'collectors/coredump/core-' | awk '{print $3}') bytes of core"
