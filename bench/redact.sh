#!/bin/bash
# Redaction cost on the inputs that made the old regex rules quadratic (issue 8, section 6):
# a 64 KiB argument, 1 MiB lines of pathological repeats, 300 command lines with a
# 4,000-letter argument; with and without --obfuscate. Milliseconds, best of 3.
# Usage: bench/redact.sh [BUILDDIR]   (default: ./_build; builds bench/redact_bench there)
# For numbers without sanitizers, configure BUILDDIR without --enable-sanitizers.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/_build}
make -C "$build" -s bench/redact_bench >/dev/null
echo "== secrets"
"$build/bench/redact_bench"
echo "== secrets + --obfuscate (host name stand-ins, IPv4/IPv6/MAC)"
"$build/bench/redact_bench" --obfuscate
