#!/bin/bash
# evodiag bundle next to `sos report --batch` (Debian's sosreport) on the same machine:
# wall time, archive size and peak RSS (max over the process tree is not what GNU time
# reports: it reports the largest single process, which for evodiag is the parent or a
# collector child, whichever is larger).
# Usage: bench/bundle.sh [path/to/evodiag]    Needs: sosreport (optional), /usr/bin/time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
evodiag=${1:-$here/../evodiag}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export EVODIAG_CONFIG=/dev/null EVODIAG_STATE_DIR=$out/state

echo "== evodiag bundle (5 runs)"
for i in 1 2 3 4 5; do
        /usr/bin/time -f "%e s wall, %M KiB peak RSS" "$evodiag" bundle -q -o "$out/b$i.tar.zst" 2>&1 >/dev/null | tail -1
done
ls -l "$out"/b1.tar.zst | awk '{ printf "archive: %d bytes\n", $5 }'
echo "files: $(tar --zstd -tf "$out/b1.tar.zst" | wc -l)"

if command -v sos >/dev/null; then
        echo "== sos report --batch (1 run, 10 min limit)"
        mkdir -p "$out/sos"
        /usr/bin/time -f "%e s wall, %M KiB peak RSS" timeout 600 sos report --batch -q --tmp-dir "$out/sos" >/dev/null 2>"$out/sos.err"
        tail -1 "$out/sos.err"
        ls -l "$out"/sos/sosreport-* 2>/dev/null | awk '/tar/ { printf "archive: %d bytes\n", $5 }'
else
        echo "== sos not installed (apt-get install sosreport)"
fi
