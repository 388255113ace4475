#!/bin/bash
# evo.version: the crate version EVO's modules log when they start (evo-core's
# "EVO System Supervisor v… starting...", "EVO Control Unit v…", "EVO HAL Core v…"), read
# from a real journal file under a --root fixture (built with systemd-journal-remote),
# believed only from root or the owner of an EVO segment; and ISSUE.md's versions line.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
MKJ="$TOP_SRCDIR/tests/helpers/mkjournal.sh"
[ -x /lib/systemd/systemd-journal-remote ] || t_skip_all "systemd-journal-remote not installed (Debian package systemd-journal-remote)"

ver() { printf '%s' "$OUT" | jq -r --arg f "$1" '[.collectors[].findings[] | select(.id == "evo.version") | .[$f] // ""] | join("\n")'; }

# A root with one P2P segment (owned by uid 4000: the modules' user) and its journal.
root=$(fx_root evover evo-base)
printf 'EVO_P2P\0' | cat - /dev/zero | head -c 4096 >"$root/dev/shm/evo_hal_cu"
chown 4000:4000 "$root/dev/shm/evo_hal_cu"
chmod 600 "$root/dev/shm/evo_hal_cu"
jdir="$root/var/log/journal/0123456789abcdef0123456789abcdef"
mkdir -p "$jdir"
entry() { # SECONDS_AGO COMM UID PID MESSAGE
        printf '__REALTIME_TIMESTAMP=NOW-%s\n_BOOT_ID=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01\n_TRANSPORT=stdout\n_COMM=%s\n_UID=%s\n_PID=%s\nPRIORITY=6\nMESSAGE=%s\n\n' "$@"
}
{
        entry 900 evo 0 100 "2026-11-30T10:00:00.000000Z  INFO evo: EVO System Supervisor v0.0.9 starting..."
        entry 600 evo 0 200 "2026-11-30T10:05:00.000000Z  INFO evo: EVO System Supervisor v0.1.0 starting..."
        entry 590 evo_control_uni 4000 201 "2026-11-30T10:05:10.000000Z  INFO evo_control_unit: EVO Control Unit v0.1.0 starting..."
        entry 580 evo_hal 1234 202 "2026-11-30T10:05:20.000000Z  INFO evo_hal: EVO HAL Core v6.6.6 starting..."
        entry 570 evo_control_uni 4000 201 "EVO Control Unit vX starting... (not a version)"
} >"$T_TMP/evo.export"
sh "$MKJ" "$T_TMP/evo.export" "$jdir/system.journal"

export EVODIAG_CONFIG=/dev/null
t_run check --root "$root" --only evo --json
t_is "$(ver severity)" "info" "evo.version: info when the modules' startup lines are in the journal"
t_is "$(ver actual)" "evo 0.1.0, evo_control_unit 0.1.0" \
        "the last line of each module; root's and the segment owner's only (uid 1234's evo_hal line is not believed)"
t_like "$(ver evidence)" "_COMM evo, _PID 200, _UID 0, 2026-" "the evidence names the journal entry"

# No line from a believed user: skipped, and says why.
{
        entry 600 evo_hal 1234 202 "EVO HAL Core v6.6.6 starting..."
} >"$T_TMP/evo.export"
sh "$MKJ" "$T_TMP/evo.export" "$jdir/system.journal"
t_run check --root "$root" --only evo --json
t_is "$(ver severity)" "skipped" "only an untrusted user's line: skipped"
t_like "$(ver summary)" "^not known: no startup line of an EVO module .*lines from other users were not believed" "and it says so"

# No journal at all.
rm -rf "$root/var/log/journal"
t_run check --root "$root" --only evo --json
t_is "$(ver severity)" "skipped" "no journal: skipped"

# ISSUE.md's versions line comes from the finding.
{
        entry 600 evo_control_uni 4000 201 "EVO Control Unit v0.1.0 starting..."
} >"$T_TMP/evo.export"
mkdir -p "$jdir"
sh "$MKJ" "$T_TMP/evo.export" "$jdir/system.journal"
t_run bundle --root "$root" --only evo -q -o "$T_TMP/b.tar.zst"
mkdir -p "$T_TMP/b"
tar --zstd -xf "$T_TMP/b.tar.zst" -C "$T_TMP/b"
t_like "$(cat "$T_TMP"/b/*/ISSUE.md)" "- EVO: evo\\\\_control\\\\_unit 0\.1\.0" "ISSUE.md names the EVO version (from evo.version)"
t_done
