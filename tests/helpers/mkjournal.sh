#!/bin/sh
# mkjournal.sh FIXTURE.export OUT.journal [NOW_US]
# Builds a real journal file from export-format text with systemd-journal-remote.
# "__REALTIME_TIMESTAMP=NOW-S" in the fixture becomes NOW_US (default: now) minus S
# seconds; "NOW+S" likewise. The output is deleted first (journal-remote appends),
# unless MKJOURNAL_APPEND=1 (a journal that grows). An entry ends at an empty line: one
# is added at the end, or journal-remote drops the last entry.
set -eu
fix=$1 out=$2
now=${3:-$(date +%s%6N)}
remote=${JOURNAL_REMOTE:-/lib/systemd/systemd-journal-remote}
[ -x "$remote" ] || { echo "mkjournal: $remote not found (package systemd-journal-remote)" >&2; exit 77; }
[ "${MKJOURNAL_APPEND:-0}" = 1 ] || rm -f "$out"
awk -v now="$now" '
/^__REALTIME_TIMESTAMP=NOW[-+][0-9]+$/ {
        s = substr($0, 26); sign = substr($0, 25, 1)
        t = (sign == "-") ? now - s * 1000000 : now + s * 1000000
        printf "__REALTIME_TIMESTAMP=%.0f\n", t; next }
{ print }
END { print "" }' "$fix" | "$remote" -o "$out" - 2>/dev/null
