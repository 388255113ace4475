#!/bin/bash
# The config file: absent is fine, errors name file:line, values reach the collectors.
. "$TOP_SRCDIR/tests/lib/tap.sh"

root="$T_TMP/root"
mkdir -p "$root/proc/sys/vm"
printf 'MemTotal:       1000000 kB\nMemAvailable:    150000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n' >"$root/proc/meminfo"
printf 'Node 0, zone    Normal    100     50     20     10      5      2      1      1      1      1      2\n' >"$root/proc/buddyinfo"
echo 0 >"$root/proc/sys/vm/overcommit_memory"

# Tests run with EVODIAG_CONFIG=/nonexistent: the built-in defaults apply silently.
t_run check --root "$root" --only memory --json
t_is "$RC" 0 "absent default config: built-in defaults, exit 0"
t_is "$ERR" "" "absent default config: nothing on stderr"
t_is "$(t_sev memory.available)" ok "15% available is ok with the default warn_pct=10"

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
t_like "$ERR" "^evodiag: $cfg:2: memory.warn_pct: 'lots' is not a number" "non-numeric value: file:line"

printf '[evodiag]\ntimeout = forever\n' >"$cfg"
t_run check --config "$cfg"
t_like "$ERR" "^evodiag: $cfg:2: timeout: 'forever' is not a duration" "bad duration: file:line"

printf '[evodiag]\nonly = memory,nosuch\n' >"$cfg"
t_run check --config "$cfg"
t_is "$RC" 3 "unknown collector in [evodiag] only: exit 3"

printf '[evodiag]\nonly = memory\n' >"$cfg"
t_run check --root "$root" --config "$cfg" --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | join(",")')" memory "[evodiag] only = memory limits the run"
t_run check --root "$root" --config "$cfg" --only memory,fds --json
t_like "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | join(",")')" "fds" "the command line's --only wins over the file"

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
