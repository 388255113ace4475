#!/bin/sh
# Assembles the seed corpus of every fuzz target from the test fixtures (the real
# formats, as the CLI tests use them), the templates, and the small committed
# seeds and regression inputs in tests/fuzz/corpus/<target>/.
# Usage: seeds.sh SRCDIR OUTDIR   -> OUTDIR/<target>/<sha1 of the content>
set -eu
src=$1
out=$2
fx="$src/tests/fixtures"

# target: fixture globs (relative to the source tree), besides tests/fuzz/corpus/<target>/
globs() {
        case $1 in
        procfs) echo "tests/fixtures/*/proc/meminfo tests/fixtures/*/proc/sysvipc/shm tests/fixtures/*/proc/interrupts
                tests/fixtures/*/proc/cmdline tests/fixtures/*/proc/mounts tests/fixtures/*/etc/passwd tests/fixtures/*/etc/group" ;;
        cpulist) echo "tests/fixtures/*/sys/devices/system/cpu/isolated tests/fixtures/*/sys/devices/system/cpu/nohz_full
                tests/fixtures/*/sys/devices/system/cpu/online tests/fixtures/*/sys/devices/system/cpu/possible
                tests/fixtures/*/sys/devices/system/cpu/present tests/fixtures/*/sys/devices/system/node/online
                tests/fixtures/*/proc/irq/*/smp_affinity tests/fixtures/*/proc/irq/*/smp_affinity_list
                tests/fixtures/*/proc/irq/default_smp_affinity tests/fixtures/*/sys/devices/virtual/workqueue/cpumask" ;;
        lavinmq_conf) echo "tests/fixtures/*/etc/lavinmq/lavinmq.ini" ;;
        lavinmq_proc) echo "tests/fixtures/*/proc/net/tcp tests/fixtures/*/proc/net/tcp6 tests/fixtures/*/var/lib/lavinmq/.lock" ;;
        redact) echo "tests/fixtures/*/etc/lavinmq/lavinmq.ini tests/fixtures/*/proc/cmdline tests/fixtures/*/lib/systemd/system/*.service" ;;
        template) echo "templates/*.md" ;;
        gpu_csv) echo "tests/fixtures/gpu/*.csv tests/fixtures/gpu/error-*.txt tests/fixtures/gpu/proc-*.txt" ;;
        gpu_q) echo "tests/fixtures/gpu/*.q.txt" ;;
        journal) echo "tests/fixtures/journal/*.export" ;;
        *) echo "" ;;
        esac
}

for h in "$src"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$h" .c)
        t=${t#fuzz_}
        d="$out/$t"
        rm -rf "$d"
        mkdir -p "$d"
        for g in $(globs "$t") "tests/fuzz/corpus/$t/*"; do
                for f in "$src"/$g; do
                        [ -f "$f" ] || continue
                        cp "$f" "$d/$(sha1sum <"$f" | cut -c1-40)"
                done
        done
        [ -n "$(ls "$d")" ] || { echo "seeds.sh: no seed for $t" >&2; exit 1; }
done
