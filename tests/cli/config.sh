#!/bin/bash
# The config file: absent is fine, errors name file:line, values reach the collectors.
. "$TOP_SRCDIR/tests/lib/tap.sh"

root="$T_TMP/root"
mkdir -p "$root/proc/sys/vm"
printf 'MemTotal:       1000000 kB\nMemAvailable:    150000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n' >"$root/proc/meminfo"
printf 'Node 0, zone    Normal    100     50     20     10      5      2      1      1      1      1      2\n' >"$root/proc/buddyinfo"
echo 0 >"$root/proc/sys/vm/overcommit_memory"

# Tests run with EVODIAG_CONFIG=/dev/null (as `ssh -F /dev/null`): no settings, built-in defaults.
t_run check --root "$root" --only memory --json
t_is "$RC" 0 "EVODIAG_CONFIG=/dev/null: built-in defaults, exit 0"
t_is "$ERR" "" "EVODIAG_CONFIG=/dev/null: nothing on stderr"
t_is "$(t_sev memory.available)" ok "15% available is ok with the default warn_pct=10"
# Without --config or $EVODIAG_CONFIG only the default path may be absent.
if [ ! -e /etc/evodiag/evodiag.conf ]; then
        RC=$(env -u EVODIAG_CONFIG "$EVODIAG" check --root "$root" --only memory >/dev/null 2>&1; echo $?)
        t_is "$RC" 0 "absent default config (/etc/evodiag/evodiag.conf): built-in defaults"
else
        t_skip "this host has /etc/evodiag/evodiag.conf: the absent-default case cannot be shown"
fi

cfg="$T_TMP/evodiag.conf"
printf '[evodiag]\ncollector_timeout = 2s\n\n; operators tune thresholds per collector\n[memory]\nwarn_pct = 20\n' >"$cfg"
t_run check --root "$root" --only memory --json --config "$cfg"
t_is "$(t_sev memory.available)" warn "[memory] warn_pct = 20 turns 15% into a warning"
t_is "$RC" 1 "and the exit code follows"
EVODIAG_CONFIG="$cfg" t_run check --root "$root" --only memory --json
t_is "$(t_sev memory.available)" warn "EVODIAG_CONFIG points at the file too"

t_run check --config "$T_TMP/missing.conf"
t_is "$RC" 3 "an explicit --config that is missing: exit 3"
t_like "$ERR" "evodiag: $T_TMP/missing.conf: no such file" "and it says so"
EVODIAG_CONFIG="$T_TMP/missing.conf" t_run check --root "$root" --only memory
t_is "$RC" 3 "a missing \$EVODIAG_CONFIG is the same error as a missing --config"
t_like "$ERR" "evodiag: $T_TMP/missing.conf: no such file" "and says the same"
t_run check --config "$T_TMP"
t_is "$RC" 3 "a directory as --config: exit 3"
t_like "$ERR" "evodiag: $T_TMP: is a directory" "a directory as --config: says so"
mkfifo "$T_TMP/fifo.conf"
T_TIMEOUT=10 t_run check --root "$root" --only memory --config "$T_TMP/fifo.conf"
t_is "$RC" 3 "a FIFO as --config: refused at once, no hang"
t_like "$ERR" "fifo.conf: not a regular file" "a FIFO as --config: says so"
head -c 300 /bin/sh >"$T_TMP/garbage.conf"
t_run check --root "$root" --only memory --config "$T_TMP/garbage.conf"
t_is "$RC" 3 "binary garbage as --config: exit 3"
t_like "$ERR" "garbage.conf:1: binary data" "binary garbage: file:line: why"

printf '[memory]\nwarn_pct = 20\nthis is not ini\n' >"$cfg"
t_run check --config "$cfg"
t_is "$RC" 3 "syntax error: exit 3"
t_like "$ERR" "^evodiag: $cfg:3: syntax error" "syntax error: file:line: why"

printf '[memory]\n\nwarn_pct = 20\nwarn_pcnt = 20\n' >"$cfg"
t_run check --config "$cfg"
t_is "$RC" 3 "unknown key: exit 3"
t_like "$ERR" "^evodiag: $cfg:4: unknown key 'warn_pcnt' in \[memory\]" "unknown key: file:line"

printf '[memroy]\nwarn_pct = 20\n' >"$cfg"
t_run check --config "$cfg"
t_like "$ERR" "^evodiag: $cfg:2: unknown section \[memroy\]" "unknown section: file:line"

printf '[memory]\nwarn_pct = lots\n' >"$cfg"
t_run check --config "$cfg"
t_like "$ERR" "^evodiag: $cfg:2: \[memory\] warn_pct: 'lots' is not a percentage" "non-numeric value: file:line"

# Every value is checked against its key's type and range (each was accepted before).
bad() { # section key value regex desc
        printf '[%s]\n%s = %s\n' "$1" "$2" "$3" >"$cfg"
        t_run check --root "$root" --only memory --config "$cfg"
        t_is "$RC:$(printf '%s' "$ERR" | grep -cE -- "^evodiag: $cfg:2: \[$1\] $2: $4")" "3:1" "$5"
}
bad memory frag_min_order -3 "'-3' is not a whole number from 1 to 10" "frag_min_order = -3: out of range (was undefined behaviour)"
bad memory frag_min_order 0 "'0' is not a whole number from 1 to 10" "frag_min_order = 0: out of range (was a shift by 64)"
bad fds warn_pct 150 "'150' is not a percentage from 0 to 100" "warn_pct = 150: not a percentage"
bad fds warn_pct 1e300 "'1e300' is not a percentage" "warn_pct = 1e300: not a percentage"
bad fds top 2.5 "'2.5' is not a whole number" "[fds] top = 2.5: not a whole number"
bad evodiag parallel 0 "'0' is not a whole number from 1 to 64" "[evodiag] parallel = 0: out of range"
printf '[memory]\nwarn_pct = 20\nwarn_pct = 30\n' >"$cfg"
t_run check --root "$root" --only memory --config "$cfg"
t_is "$RC" 3 "a key set twice: exit 3"
t_like "$ERR" "^evodiag: $cfg:3: \[memory\] warn_pct is set twice \(first on line 2\)" "a key set twice: file:line: why"
printf '[evodiag]\nparallel = 1\n' >"$cfg"
t_run check --root "$root" --only memory,hugepages --config "$cfg" --json -v
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status == "ok")] | length')" "2" "[evodiag] parallel = 1: the run completes"
t_like "$ERR" "collectors run 1 at a time" "[evodiag] parallel = 1 is used, not ignored (-v says so)"

printf '[evodiag]\ntimeout = forever\n' >"$cfg"
t_run check --config "$cfg"
t_like "$ERR" "^evodiag: $cfg:2: \[evodiag\] timeout: 'forever' is not a duration" "bad duration: file:line"
printf '[evodiag]\ntimeout = 1h2m\n' >"$cfg"
t_run check --root "$root" --only memory --config "$cfg"
t_is "$RC" 0 "1h2m is a valid duration"

printf '[evodiag]\nonly = memory,nosuch\n' >"$cfg"
t_run check --config "$cfg"
t_is "$RC" 3 "unknown collector in [evodiag] only: exit 3"

printf '[evodiag]\nonly = memory\n' >"$cfg"
t_run check --root "$root" --config "$cfg" --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | join(",")')" memory "[evodiag] only = memory limits the run"
t_run check --root "$root" --config "$cfg" --only memory,fds --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | sort | join(",")')" "fds,memory" "the command line's --only wins over the file"

printf '[watch]\nrecord_dir = /var/lib/evodiag/watch\nrecord_max = 64M\n' >"$cfg"
t_run check --root "$root" --only memory --config "$cfg"
t_is "$RC" 0 "a [watch] section is valid config"
printf '[watch]\nrecord_dir2 = x\n' >"$cfg"
t_run check --config "$cfg"
t_like "$ERR" "^evodiag: $cfg:2: unknown key 'record_dir2' in \[watch\]" "unknown [watch] key: file:line"

chmod 000 "$cfg"
if [ "$(id -u)" != 0 ]; then
        t_run check --config "$cfg"
        t_like "$ERR" "Permission denied" "unreadable config: says why"
else
        t_skip "unreadable config: root reads everything"
fi
t_done
