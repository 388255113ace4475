#!/bin/bash
# The common options are one table (cmd/options.c): every verb takes the ones it declares,
# rejects the others with a usage error, and its --help (generated from the tables) lists
# exactly what its parser accepts.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state" # bundles read no recording of the host's

verbs="check bundle watch list explain version"
common="--only --skip --root --config --timeout --collector-timeout --allow-intrusive --color --verbose --journal-dir --journal-file --help"
# The contract: which common options each verb takes.
declare -A takes=(
        [check]="--only --skip --root --config --timeout --collector-timeout --allow-intrusive --color --verbose --journal-dir --journal-file --help"
        [bundle]="--only --skip --root --config --timeout --collector-timeout --allow-intrusive --verbose --journal-dir --journal-file --help"
        [watch]="--only --skip --root --config --collector-timeout --allow-intrusive --color --verbose --journal-dir --journal-file --help"
        [list]="--root --config --verbose --help"
        [explain]="--help"
        [version]="--verbose --help"
)

# The options a verb's --help lists: "--name ARG" (ARG empty for a flag), one per line.
help_opts() {
        "$EVODIAG" "$1" --help | sed -nE 's/^  (-[a-zA-Z], )?(--[a-z][a-z-]*)( ([^ ]+))?  .*/\2 \4/p'
}
# A value the parser accepts for an option whose --help calls it $1.
value_for() {
        case $1 in
        DUR) echo 1s ;;
        SIZE) echo 1M ;;
        FMT) echo json ;;
        TIME) echo 1h ;;
        WHEN) echo never ;;
        A,B) echo memory ;;
        'warn|crit') echo crit ;;
        NAME) echo general ;;
        ID) echo CASE-1 ;;
        PID,...) echo 1 ;;
        TIME) echo 10m ;;
        'ID,...') echo memory.available ;;
        *) echo "$T_TMP/x" ;;
        esac
}
only_common() { tr ' ' '\n' | grep -xF -f <(tr ' ' '\n' <<<"$common") | sort | tr '\n' ' '; }

all=""
for v in $verbs; do
        help_opts "$v" >"$T_TMP/$v.opts"
        all="$all $(cut -d' ' -f1 "$T_TMP/$v.opts" | tr '\n' ' ')"
done
all=$(tr ' ' '\n' <<<"$all" | sed '/^$/d' | sort -u | tr '\n' ' ')

for v in $verbs; do
        listed=$(cut -d' ' -f1 "$T_TMP/$v.opts" | tr '\n' ' ')
        t_is "$(only_common <<<"$listed")" "$(only_common <<<"${takes[$v]}")" "$v --help lists the common options it takes"

        # Every option --help lists is accepted (then --help stops the run: a parser check only).
        bad=""
        while read -r opt arg; do
                if [ -n "$arg" ]; then
                        "$EVODIAG" "$v" "$opt" "$(value_for "$arg")" --help >"$T_TMP/o" 2>&1 || bad="$bad $opt"
                else
                        "$EVODIAG" "$v" "$opt" --help >"$T_TMP/o" 2>&1 || bad="$bad $opt"
                fi
                grep -q "^Usage: evodiag $v" "$T_TMP/o" || bad="$bad $opt(no help)"
        done <"$T_TMP/$v.opts"
        t_is "$bad" "" "$v accepts every option its --help lists ($(wc -l <"$T_TMP/$v.opts") options)"

        # Every option some verb has and this one's --help does not list is a usage error.
        bad=""
        n=0
        for opt in $all; do
                grep -q "^$opt " "$T_TMP/$v.opts" && continue
                n=$((n + 1))
                timeout -k 5 30 "$EVODIAG" "$v" "$opt" x >"$T_TMP/o" 2>"$T_TMP/e"
                rc=$?
                # stdout: nothing, or with --json the error as a JSON document (errors follow the format)
                out=$(cat "$T_TMP/o")
                [ "$opt" = --json ] && out=$(jq -r '.error | select(startswith("unknown option '"'--json'"'")) | empty' "$T_TMP/o" 2>&1)
                [ "$rc" = 3 ] && grep -q "unknown option '$opt'" "$T_TMP/e" && [ -z "$out" ] || bad="$bad $opt($rc)"
        done
        t_is "$bad" "" "$v rejects the $n options it does not take: exit 3, 'unknown option', no report"
done

# Short forms from the same tables.
t_run check -v -h
t_is "$RC" 0 "check: -v and -h"
t_run bundle -q -o "$T_TMP/b" -h
t_is "$RC" 0 "bundle: -q and -o PATH"
t_run explain -v memory.available
t_is "$RC:$ERR" "3:evodiag: unknown option '-v'
Try 'evodiag explain --help' for more information." "explain has no -v: a usage error, not an ID '-v'"
t_run version --bogus
t_is "$RC" 3 "version: an unknown option is a usage error (it was ignored)"
t_run version extra
t_is "$RC" 3 "version: a stray argument is a usage error"
t_run version -v
t_like "$OUT" "^evodiag [0-9.]+
libarchive " "version -v: the libraries"
t_run explain memory.available --help
t_like "$OUT" "^Usage: evodiag explain ID" "explain ID --help: the help, wherever --help is"
t_run watch --timeout 5s
t_like "$ERR" "unknown option '--timeout' \(evodiag watch does not take --timeout\)" "a common option the verb does not take: says so"

# One message for a bad duration, whichever verb.
for v in check bundle watch; do
        t_run "$v" --collector-timeout soon
        t_is "$RC:$(head -1 <<<"$ERR")" "3:evodiag: --collector-timeout: 'soon' is not a duration (e.g. 500ms, 5s, 2m)" "$v: the common duration message"
done

# The common options work, not only parse: each verb on a fixture root with them.
root=$(fx_root opts hugepages-healthy)
fx_file "$root" proc/sys/kernel/hostname "opts-host"
fx_file "$root" proc/buddyinfo "Node 0, zone   Normal   10 10 10 10 10 10 10 10 10 10 10"
fx_file "$root" proc/sys/vm/overcommit_memory 0
cfg="$T_TMP/evodiag.conf"
printf '[memory]\nwarn_pct = 20\n' >"$cfg"
t_run check --root "$root" --config "$cfg" --only memory,fds --skip fds --timeout 20s --collector-timeout 5s \
        --allow-intrusive --color never -v --json
t_is "$RC:$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | join(",")')" "0:memory" \
        "check: --root, --config, --only, --skip, --timeout, --collector-timeout, --allow-intrusive, --color, -v"
t_like "$ERR" "config $cfg \(1 settings\)" "check -v: says which config it read"
t_run list --root "$root" --config "$cfg" -v
t_like "$OUT" "\[memory\] warn_pct = 10" "list --root --config -v: the config keys"
t_run watch --root "$root" --config "$cfg" --only memory --skip fds --collector-timeout 5s --allow-intrusive --color never -v \
        --duration 400ms --interval 200ms --json
t_is "$RC:$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .round' | head -1)" "0:1" "watch: its common options"
t_like "$ERR" "watching memory every 200 ms" "watch -v: says what it watches"
t_run bundle --root "$root" --config "$cfg" --only memory --skip fds --timeout 60s --collector-timeout 10s --allow-intrusive \
        -v -q -o "$T_TMP/opts.tar.gz"
t_is "$RC:$(tar -xzOf "$T_TMP/opts.tar.gz" --wildcards '*/manifest.json' | jq -r '[.collectors[].name] | join(",")')" "0:memory" \
        "bundle: its common options"

# The last --only wins, as for every option; the one before is not leaked (LeakSanitizer
# in sanitizer builds, which the suite otherwise runs with detect_leaks=0).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 t_run check --root "$root" --only fds --only memory --json
t_is "$RC:$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status != "not_selected") | .name] | join(",")')" "0:memory" \
        "--only twice: the last one wins"
t_unlike "$ERR" "LeakSanitizer" "--only twice: the first list is freed"

# bundle reads [evodiag] timeouts from the config as check and watch do (it used to ignore
# them behind its own defaults); the command line still wins.
if t_have_hooks 3; then
        printf '[evodiag]\ncollector_timeout = 1s\n' >"$T_TMP/ct.conf"
        EVODIAG_FAULT=memory:hang t_run bundle --root "$root" --config "$T_TMP/ct.conf" --only memory -q -o "$T_TMP/ct.tar.gz"
        t_like "$(tar -xzOf "$T_TMP/ct.tar.gz" --wildcards '*/manifest.json' | jq -r '.collectors[0].note')" "^no answer within 1000 ms" \
                "bundle: [evodiag] collector_timeout applies"
        EVODIAG_FAULT=memory:hang t_run bundle --root "$root" --config "$T_TMP/ct.conf" --collector-timeout 2s --only memory -q \
                -o "$T_TMP/ct2.tar.gz"
        t_like "$(tar -xzOf "$T_TMP/ct2.tar.gz" --wildcards '*/manifest.json' | jq -r '.collectors[0].note')" "^no answer within 2000 ms" \
                "bundle: --collector-timeout wins over the config"
        t_run bundle --help
        t_like "$OUT" "--collector-timeout DUR  deadline for each collector \(default 15s\)" "bundle --help: its own default"
fi

t_done
