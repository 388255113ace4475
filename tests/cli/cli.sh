#!/bin/bash
# The command line itself: verbs, help, usage errors, exit codes, output formats.
. "$TOP_SRCDIR/tests/lib/tap.sh"

t_run
t_is "$RC" 3 "no verb: usage error, exit 3"
t_like "$ERR" "Usage: evodiag <command>" "no verb: usage on stderr"

t_run --help
t_is "$RC" 0 "--help exits 0"
for v in check list explain version; do
        t_like "$OUT" "^  $v " "--help lists $v"
done

t_run frobnicate
t_is "$RC" 3 "unknown verb: exit 3"
t_like "$ERR" "evodiag: unknown command 'frobnicate'" "unknown verb: says which"

for v in check list explain; do
        t_run "$v" --help
        t_is "$RC" 0 "$v --help exits 0"
        t_like "$OUT" "Usage: evodiag $v" "$v --help prints its usage"
done

t_run check --bogus
t_is "$RC" 3 "check: unknown option exits 3"
t_like "$ERR" "unknown option '--bogus'" "check: unknown option named"
t_like "$ERR" "Try 'evodiag check --help'" "check: points to --help"
t_run check --only
t_is "$RC" 3 "check --only without a value: exit 3"
t_run check --only nosuch
t_is "$RC" 3 "check --only with an unknown collector: exit 3"
t_like "$ERR" "unknown collector 'nosuch' \(known: shm, " "unknown collector: lists the known ones"
t_run check --format xml
t_is "$RC" 3 "bad --format: exit 3"
t_run check --timeout soon
t_is "$RC" 3 "bad --timeout: exit 3"
t_run check --root /nonexistent/dir
t_is "$RC" 3 "--root that does not exist: exit 3"
t_like "$ERR" "evodiag: --root /nonexistent/dir: No such file" "--root error says why"
t_run check extra-arg
t_is "$RC" 3 "stray argument: exit 3"

t_run --version
t_like "$OUT" '^evodiag [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
t_run version -v
t_like "$OUT" "libarchive" "version -v names the libraries"

# list: every collector, whether it applies, its IDs.
t_run list
t_is "$RC" 0 "list exits 0"
for c in shm hugepages rt isolation fds maps memory; do
        t_like "$OUT" "^$c +(yes|no|\?) " "list shows $c with applies"
done
t_like "$OUT" "checks: .*memory.available" "list shows check IDs"

# explain: every ID that list shows has a text; unknown IDs fail with a suggestion.
ids=$(printf '%s\n' "$OUT" | sed -n 's/^ *checks: //p' | tr ' ' '\n' | sed '/^$/d')
missing=""
for id in $ids; do
        "$EVODIAG" explain "$id" >"$T_TMP/x" 2>&1 || missing="$missing $id"
        grep -q "^$id — " "$T_TMP/x" || missing="$missing $id"
done
t_is "$missing" "" "explain works for every listed ID ($(echo $ids | wc -w) IDs)"
t_run explain memory.timeout
t_is "$RC" 0 "explain knows the runner's <collector>.timeout"
t_like "$OUT" "did not finish in time" "timeout explanation"
t_run explain memory.crashed
t_is "$RC" 0 "explain knows <collector>.crashed"
t_run explain memory.avail
t_is "$RC" 3 "explain of an unknown ID exits 3"
t_like "$ERR" "did you mean: memory.available" "explain suggests close IDs"
t_run explain
t_is "$RC" 3 "explain without an ID exits 3"

# Formats on a fixture root whose verdicts we know (low memory: crit).
root="$T_TMP/root"
mkdir -p "$root/proc/sys/vm"
printf 'MemTotal:       1000000 kB\nMemFree:          20000 kB\nMemAvailable:     30000 kB\nSwapTotal:            0 kB\nSwapFree:             0 kB\n' >"$root/proc/meminfo"
printf 'Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      3\nNode 0, zone    Normal    100     50     20     10      5      2      1      1      1      1      2\n' >"$root/proc/buddyinfo"
echo 0 >"$root/proc/sys/vm/overcommit_memory"

t_run check --root "$root" --only memory
t_is "$RC" 2 "text: exit 2 on a crit finding"
t_like "$OUT" "CRIT +memory.available +29.3 MiB available of 976.6 MiB \(3.0%\)" "text: the crit line with numbers"
t_like "$OUT" "remedy: +ps -eo pid,rss,comm" "text: remedy under the problem"
t_like "$OUT" "^CRIT: 1 crit, 0 warn, 0 unknown, 3 ok, 0 info, 0 skipped in [0-9]+ ms — exit 2$" "text: summary line last"
t_unlike "$OUT" $'\033\\[' "text: no colour when not a TTY / NO_COLOR"

t_run check --root "$root" --only memory --json
t_is "$RC" 2 "json: same exit code"
t_is "$(printf '%s' "$OUT" | jq -r '.schema')" 1 "json: schema version"
t_is "$(printf '%s' "$OUT" | jq -r '.worst + " " + (.exit_code|tostring)')" "crit 2" "json: worst and exit_code"
t_is "$(t_sev memory.available)" crit "json: memory.available is crit"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="shm") | .status')" not_selected "json: collectors outside --only are not_selected"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | .findings[0] | [.expected, .found, .evidence] | join("|")')" \
        "MemAvailable >= 10% of MemTotal|3.0%|/proc/meminfo" "json: expected, found, evidence"

t_run check --root "$root" --only memory --format nagios
t_is "$RC" 2 "nagios: exit 2"
t_like "$OUT" '^EVODIAG CRITICAL - memory.available: .* \| crit=1;;;0 warn=0;;;0 unknown=0;;;0 ok=3;;;0 info=0;;;0 skipped=0;;;0 duration=[0-9.]+s$' "nagios: one status line with perfdata"
t_like "$(printf '%s\n' "$OUT" | tail -n +2)" '^CRITICAL memory.available: 29.3 MiB' "nagios: then the long output"
t_is "$(printf '%s\n' "$OUT" | wc -l)" 2 "nagios: the status line and one long-output line per problem"

t_run check --root "$root" --only memory --format prometheus
t_like "$OUT" 'evodiag_check_status\{source="check",id="memory.available"\} 2' "prometheus: status sample"
t_like "$OUT" 'evodiag_exit_code\{source="check"\} 2' "prometheus: exit code gauge"
bad=$(printf '%s\n' "$OUT" | grep -Ev '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+)$')
t_is "$bad" "" "prometheus: every line is valid exposition format"

t_run check --root "$root" --only memory --color always
t_like "$OUT" $'\033\\[31mCRIT' "--color always colours crit red"

# Shell completion: verbs, options, collector names and check IDs from `evodiag list`.
if [ -r /usr/share/bash-completion/bash_completion ]; then
        comp() { # words... -> the completions bash would offer for the last word
                PATH="$(dirname "$EVODIAG"):$PATH" bash -c '
                        . /usr/share/bash-completion/bash_completion
                        . "$1/completions/evodiag"
                        shift
                        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                        _evodiag evodiag "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                        printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP_SRCDIR" "$@" 2>/dev/null | sort | tr '\n' ' '
        }
        t_like "$(comp evodiag "")" "bundle check explain help list version watch" "bash completion: the verbs"
        t_like "$(comp evodiag check --on)" "^--only $" "bash completion: check's options"
        t_like "$(comp evodiag check --only mem)" "^memory $" "bash completion: collector names for --only"
        t_like "$(comp evodiag explain memory.av)" "^memory.available $" "bash completion: check IDs for explain"
        t_like "$(comp evodiag check --id memory.av)" "^memory.available $" "bash completion: check IDs for check --id"
        t_is "$(comp evodiag watch --rec)" "--record --record-max " "bash completion: watch's options, from its --help"
        t_is "$(comp evodiag list --)" "--config --help --json --root --verbose " "bash completion: list's options, from its --help"
else
        t_skip "bash-completion is not installed"
        t_skip "bash-completion is not installed"
        t_skip "bash-completion is not installed"
        t_skip "bash-completion is not installed"
fi
# Errors follow the output format: a script reading --json, or a monitoring system reading
# a Nagios line, gets the error on stdout in that format, not an empty document.
t_run check --json --only nosuch
t_is "$RC" 3 "--json usage error: exit 3"
t_is "$(printf '%s' "$OUT" | jq -r .error)" "unknown collector 'nosuch' (known: $(printf '%s' "$OUT" | jq -r .error | sed 's/.*(known: //;s/)$//'))" "--json usage error: a JSON document with the error"
t_is "$(printf '%s' "$OUT" | jq -r .schema)" 1 "--json usage error: the document has the schema"
t_run check --format nagios --config "$T_TMP"
t_is "$RC" 3 "nagios config error: exit 3"
t_is "$OUT" "EVODIAG UNKNOWN - $T_TMP: is a directory, not a config file" "nagios config error: one UNKNOWN line on stdout"
t_run check --format=json --timeout 0
t_like "$(printf '%s' "$OUT" | jq -r .error)" "^--timeout: '0'" "--format=json: bad option value as JSON"
t_run check --format nagios --only "$(printf 'x\nEVODIAG OK - spoofed')"
t_is "$(printf '%s\n' "$OUT" | wc -l):$(printf '%s' "$OUT" | grep -c '^EVODIAG OK')" "1:0" "nagios error: a newline in the message cannot forge a second status line"
t_run check --only nosuch
t_is "$OUT" "" "text mode: errors stay on stderr only"

# libcurl is dlopen()ed, not linked (start-up cost), and the dependency is declared in an
# ELF .note.dlopen (freedesktop.org dlopen metadata) where packaging tools read it.
if command -v readelf >/dev/null; then
        t_unlike "$(readelf -d "$EVODIAG" | grep NEEDED)" "libcurl" "libcurl is not linked (NEEDED)"
        t_like "$(objcopy -O binary --only-section=.note.dlopen "$EVODIAG" /dev/stdout 2>/dev/null | tr -d '\0' | sed 's/^.*FDO//')" \
                '^\[\{"feature":"curl".*"soname":\["libcurl\.so\.4"\]\}\]' "the dlopen()ed libcurl.so.4 is declared in .note.dlopen"
else
        t_skip "binutils missing: NEEDED not checked"
        t_skip "binutils missing: .note.dlopen not checked"
fi

t_done
