#!/bin/bash
# Outputs people and monitoring systems read (issue 10): the text report's problems
# list and folded ok lines, -q, check --textfile, one Prometheus schema for check and
# watch (promtool, no churning labels), Nagios counts and long output, --id, JSON
# fields, list/explain --json, colour and ASCII rules.
. "$TOP_SRCDIR/tests/lib/tap.sh"

# A root whose verdicts we know: memory.available crit, memory.swap warn, fds.system
# and fds.nr_open unknown (unreadable), memory.fragmentation and fds.process ok.
root="$T_TMP/root"
mkdir -p "$root/proc/sys/vm" "$root/etc"
echo outhost >"$root/etc/hostname"
printf 'MemTotal:       1000000 kB\nMemFree:          20000 kB\nMemAvailable:     30000 kB\nSwapTotal:      1000000 kB\nSwapFree:        300000 kB\n' >"$root/proc/meminfo"
printf 'Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      3\nNode 0, zone    Normal    100     50     20     10      5      2      1      1      1      1      2\n' >"$root/proc/buddyinfo"
echo 2 >"$root/proc/sys/vm/overcommit_memory"

# ---- problems first ----
t_run check --root "$root" --only memory,fds
t_is "$RC" 2 "text: exit 2"
last=$(printf '%s\n' "$OUT" | tail -1)
t_like "$last" "^CRIT: 1 crit, 1 warn, 2 unknown, " "text: the summary line is last"
probs=$(printf '%s\n' "$OUT" | sed -n '/^Problems (/,$p')
t_like "$(printf '%s\n' "$probs" | head -1)" "^Problems \(4, worst first\):$" "text: a Problems list after the groups"
t_is "$(printf '%s\n' "$probs" | grep -oE '^  (CRIT|WARN|UNKNOWN) +[a-z_.]+' | awk '{print $1 ":" $2}' | tr '\n' ' ')" \
        "CRIT:memory.available WARN:memory.swap UNKNOWN:fds.system UNKNOWN:fds.nr_open " "text: every problem, worst first"
t_like "$probs" "fix: ps -eo pid,rss,comm --sort=-rss \| head" "text: the problem's remedy on one line"
t_like "$(printf '%s\n' "$OUT" | sed -n '/^Problems (/,$!p')" "^fds " "text: the per-collector groups come before it"
t_like "$OUT" "  OK +1 check ok \(-v lists them\)" "text: ok lines folded into one count per collector"
t_unlike "$OUT" "OK +memory.fragmentation" "text: an ok check is not listed without -v"
t_run check --root "$root" --only memory,fds -v
t_like "$OUT" "OK +memory.fragmentation" "text -v: ok checks listed"
t_unlike "$OUT" "checks? ok \(-v lists them\)" "text -v: nothing folded"
t_run check --root "$root" --only memory,fds -q
t_is "$RC" 2 "-q: same exit code"
t_is "$(printf '%s\n' "$OUT" | head -1)" "Problems (4, worst first):" "-q: starts with the problems"
t_unlike "$OUT" "^(memory|fds) " "-q: no per-collector groups"
t_like "$(printf '%s\n' "$OUT" | tail -1)" "^CRIT: 1 crit" "-q: the summary line last"
t_run check --root "$root" --only memory,fds --problems
t_is "$(printf '%s\n' "$OUT" | head -1)" "Problems (4, worst first):" "--problems is -q"

# ---- Nagios: text and perfdata agree, long output, --id ----
perf() { printf '%s\n' "$1" | head -1 | sed 's/.*| //' | tr ' ' '\n' | sed -n "s/^$2=\([0-9]*\);.*/\1/p"; }
t_run check --root "$root" --only memory,fds --format nagios
t_like "$(printf '%s\n' "$OUT" | head -1)" "^EVODIAG CRITICAL - memory.available: " "nagios: status line, worst first"
t_is "$(perf "$OUT" crit):$(perf "$OUT" warn):$(perf "$OUT" unknown):$(perf "$OUT" ok):$(perf "$OUT" info):$(perf "$OUT" skipped)" \
        "1:1:2:2:0:0" "nagios: perfdata counts every severity"
t_is "$(printf '%s\n' "$OUT" | tail -n +2 | awk '{print $1}' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
        "CRITICAL=1 UNKNOWN=2 WARNING=1 " "nagios: long output, one line per problem, as many as perfdata says"
t_like "$OUT" '^WARNING memory.swap: 683.6 MiB of 976.6 MiB swap in use' "nagios: a long-output line"
t_run check --root "$root" --only memory,fds --format nagios --id memory.fragmentation
t_is "$RC" 0 "nagios --id: the one check's verdict (ok)"
t_is "$OUT" "$(printf '%s' "$OUT" | head -1)" "nagios --id ok: one line"
t_like "$OUT" "^EVODIAG OK - 1 ok, 0 info, 0 skipped \| crit=0;;;0 warn=0;;;0 unknown=0;;;0 ok=1;;;0 info=0;;;0 skipped=0;;;0 " \
        "nagios: the text's counts are the perfdata's"
t_run check --root "$root" --format nagios --id memory.swap
t_is "$RC:$(printf '%s\n' "$OUT" | head -1 | cut -c1-40)" "1:EVODIAG WARNING - memory.swap: 683.6 MiB" "nagios --id: runs the owning collector, judges that ID"
t_run check --root "$root" --format nagios --id lavinmq.api
t_is "$RC" 3 "--id of a check whose collector is not relevant: unknown, never ok"
t_like "$OUT" "^EVODIAG UNKNOWN - lavinmq.api: no verdict for lavinmq.api: collector lavinmq is not relevant" "--id: says why there is no verdict"
t_run check --id memory.nosuch
t_is "$RC" 3 "--id of an unknown check: usage error"

# ---- JSON ----
t_run check --root "$root" --only memory,fds --json
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id=="memory.available") | .found] | join("")')" "3.0%" \
        "json: 'found' as the text labels it"
t_is "$(printf '%s' "$OUT" | jq '[.collectors[].findings[] | select(has("actual") and .actual != .found)] | length')" 0 \
        "json: 'actual', schema 1's name, kept and the same"
t_is "$(printf '%s' "$OUT" | jq -r '.host + " " + (.version | test("^[0-9]+\\.[0-9]+") | tostring)')" "outhost true" "json: host and version"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id=="memory.available") | .measure.key] | join("")')" \
        "memory.available_bytes" "json: the measured value behind the verdict"
t_run check --json --only nosuch
t_is "$(printf '%s' "$OUT" | jq -r '[.tool, (.version | length > 0), (.host | length > 0), .exit_code] | map(tostring) | join(" ")')" \
        "evodiag true true 3" "json error document: tool, version, host"
t_run bundle --root "$root" --only memory -q -o "$T_TMP/b.tar.zst"
t_is "$RC" 0 "a bundle to re-check"
t_run check --from "$T_TMP/b.tar.zst" --json
t_is "$(printf '%s' "$OUT" | jq -r '[.from.host, .from.result, (.from.agree|tostring), (.from.captured | test("^20[0-9][0-9]-") | tostring)] | join(" ")')" \
        "outhost agree 1 true" "check --from --json: the bundle's host, capture time and agree/differ"

# ---- list --json, explain --json ----
t_run list --json --root "$root"
t_is "$RC" 0 "list --json exits 0"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name=="memory") | [(.checks | map(.id) | index("memory.available") != null), (.config | length > 0)] | map(tostring) | join(" ")')" \
        "true true" "list --json: checks and config keys"
t_is "$(printf '%s' "$OUT" | jq -r '.host')" outhost "list --json: the host whose 'applies' it is"
t_run explain --json memory.available
t_is "$RC:$(printf '%s' "$OUT" | jq -r '.checks[0].id + " " + .checks[0].collector')" "0:memory.available memory" "explain --json is an option, not an ID"
t_run explain memory.available --json memory.swap
t_is "$(printf '%s' "$OUT" | jq -r '[.checks[].id] | join(" ")')" "memory.available memory.swap" "explain --json: several IDs in one document"

# ---- colour and ASCII ----
tty_run() { # env... -- args: evodiag on a pseudo-terminal (script(1)), output in $OUT
        local envs=()
        while [ "$1" != -- ]; do envs+=("$1"); shift; done
        shift
        OUT=$(env -u NO_COLOR "${envs[@]}" script -qec "$(printf '%q ' "$EVODIAG" "$@")" /dev/null </dev/null 2>&1)
}
if command -v script >/dev/null; then
        tty_run TERM=xterm -- check --root "$root" --only memory
        t_like "$OUT" $'\033\\[' "a terminal: colour"
        tty_run TERM=dumb -- check --root "$root" --only memory
        t_unlike "$OUT" $'\033\\[' "TERM=dumb: no colour"
        tty_run TERM=xterm NO_COLOR=1 -- check --root "$root" --only memory
        t_unlike "$OUT" $'\033\\[' "NO_COLOR: no colour"
else
        t_skip "script(1) missing"; t_skip "script(1) missing"; t_skip "script(1) missing"
fi
t_run check --root "$root" --only memory
t_unlike "$OUT" $'\033\\[' "not a terminal: no colour"
nonascii() { LC_ALL=C grep -c $'[\x80-\xff]' "$@" || true; }
LC_ALL=C "$EVODIAG" check --root "$root" --only memory,fds -v >"$T_TMP/c.txt" 2>&1
t_is "$(nonascii "$T_TMP/c.txt")" 0 "LC_ALL=C: check prints ASCII only"
t_like "$(cat "$T_TMP/c.txt")" "^memory - available memory" "LC_ALL=C: the heading's dash in ASCII"
LC_ALL=C "$EVODIAG" explain memory.available >"$T_TMP/e.txt" 2>&1
LC_ALL=C "$EVODIAG" bundle --help >>"$T_TMP/e.txt" 2>&1
t_is "$(nonascii "$T_TMP/e.txt")" 0 "LC_ALL=C: explain and --help print ASCII only"
t_run check --root "$root" --only memory
t_like "$OUT" "^memory — " "a UTF-8 locale keeps the em dash"

# ---- Prometheus: one schema, check --textfile, watch --textfile ----
have_promtool=no
command -v promtool >/dev/null && have_promtool=yes
promcheck() { # FILE DESC
        if [ $have_promtool = yes ]; then
                local o
                o=$(promtool check metrics <"$1" 2>&1)
                t_is "$?:$o" "0:" "$2"
        else
                t_skip "promtool (Debian package prometheus) is not installed"
        fi
}
series() { grep -v '^#' "$1" | sed 's/ [^ ]*$//' | sort; }

tf="$T_TMP/textfile"
mkdir -p "$tf"
t_run check --root "$root" --only memory,fds --textfile "$tf"
t_is "$RC" 2 "check --textfile: the verdict's exit code"
t_is "$(ls -A "$tf")" "evodiag.prom" "check --textfile: evodiag.prom published on exit 2, no temporary file left"
t_like "$OUT" "^Problems" "check --textfile: the report still on stdout"
P="$tf/evodiag.prom"
promcheck "$P" "check --textfile: promtool check metrics passes"
t_like "$(cat "$P")" '^evodiag_check_status\{source="check",id="memory.available"\} 2$' "prometheus: one series per check ID, worst severity as value"
t_like "$(cat "$P")" '^evodiag_check_status\{source="check",id="memory.fragmentation"\} 0$' "prometheus: ok is 0"
t_like "$(cat "$P")" '^evodiag_findings\{source="check",severity="unknown"\} 2$' "prometheus: counts per severity"
t_like "$(cat "$P")" '^evodiag_memory_available_bytes\{source="check"\} 30720000$' "prometheus: the measured value as a gauge with its unit"
t_like "$(cat "$P")" 'evodiag_info\{source="check",host="outhost",version="[0-9.]+"\} 1' "prometheus: host and version"
t_is "$(grep -cE 'subject=|^evodiag_check_status.*severity=' "$P")" 0 "prometheus: no subject label, no severity label on a verdict"
# A link planted where the writer keeps its buffer is never followed.
mkdir -p "$T_TMP/tf2"
echo precious >"$T_TMP/victim"
ln -s "$T_TMP/victim" "$T_TMP/tf2/.evodiag.prom.a"
t_run check --root "$root" --only memory --textfile "$T_TMP/tf2"
t_is "$RC:$(cat "$T_TMP/victim")" "3:precious" "check --textfile: a planted link is refused, its target untouched"
t_run check --root "$root" --only memory --textfile "$T_TMP/nonexistent"
t_is "$RC" 3 "check --textfile: a directory that does not exist is a usage error"

# Live, with no measured gauge in the document (rt has none; an empty list once crashed the writer).
mkdir -p "$T_TMP/tflive"
t_run watch --only rt --interval 100ms --duration 1s --textfile "$T_TMP/tflive"
t_is "$RC:$(ls -A "$T_TMP/tflive")" "0:evodiag_watch.prom" "watch --textfile live: runs to the end, one file left"
promcheck "$T_TMP/tflive/evodiag_watch.prom" "watch --textfile live: promtool check metrics passes"

# The same schema from watch: same families, same HELP, source="watch".
t_run watch --root "$root" --only memory --interval 200ms --duration 1s --textfile "$tf"
t_is "$RC:$(ls -A "$tf" | tr '\n' ' ')" "0:evodiag.prom evodiag_watch.prom " "watch --textfile: its file beside check's, nothing else"
W="$tf/evodiag_watch.prom"
promcheck "$W" "watch --textfile: promtool check metrics passes"
t_like "$(cat "$W")" '^evodiag_check_status\{source="watch",id="memory.available"\} 2$' "watch: the same status series as check"
t_like "$(cat "$W")" '^evodiag_memory_available_bytes\{source="watch"\} 30720000$' "watch: the same measured gauge as check"
t_is "$(comm -12 <(grep '^# HELP' "$P" | sort) <(grep '^# HELP' "$W" | sort) | wc -l)" "$(grep -c '^# HELP' "$W" | awk '{print $1 - 1}')" \
        "watch and check: every family but events_total declared alike (one schema)"
cat "$P" "$W" >"$T_TMP/both.prom"
# node_exporter merges the directory: no series may appear twice.
t_is "$(series "$T_TMP/both.prom" | uniq -d | head -3)" "" "check's and watch's files together: no duplicate series"

# Live: two runs, each with a different process near its fd limit (different pids):
# the series set is the same (a pid never becomes a label).
fdhog() { # -> a process with 60 of 64 fds open (once $T_TMP/ready-N exists), its pid in $!
        rm -f "$T_TMP/ready"
        python3 -c '
import os, resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(60 - len(os.listdir("/proc/self/fd")))]
open(sys.argv[1], "w").close()
time.sleep(30)' "$T_TMP/ready" &
}
ready() { for _ in $(seq 100); do [ -e "$T_TMP/ready" ] && return; sleep 0.1; done; }
# No inspection budget and a generous deadline: on a busy host (hundreds of processes, a
# loaded CPU) the default 3 s budget can end before the scan reaches the test's own hog.
printf '[fds]\nbudget_ms = 0\n' >"$T_TMP/fds-nobudget.conf"
fdhog; h1=$!
t_at_exit "kill $h1 2>/dev/null"
ready
"$EVODIAG" check --only fds --config "$T_TMP/fds-nobudget.conf" --timeout 60s --collector-timeout 60s --format prometheus >"$T_TMP/run1.prom" 2>/dev/null
kill "$h1"; wait "$h1" 2>/dev/null
fdhog; h2=$!
t_at_exit "kill $h2 2>/dev/null"
ready
"$EVODIAG" check --only fds --config "$T_TMP/fds-nobudget.conf" --timeout 60s --collector-timeout 60s --format prometheus >"$T_TMP/run2.prom" 2>/dev/null
kill "$h2"; wait "$h2" 2>/dev/null
t_is "$([ "$h1" != "$h2" ] && echo differ)" differ "the two runs had different pids"
t_is "$(diff <(series "$T_TMP/run1.prom") <(series "$T_TMP/run2.prom"))" "" "prometheus: the same series in both runs"
t_unlike "$(cat "$T_TMP/run1.prom" "$T_TMP/run2.prom")" "pid $h1|pid $h2|\"$h1\"|\"$h2\"" "prometheus: no pid in any label"
t_is "$(awk '/^evodiag_fds_process_max_used_ratio\{source="check"\} / { print ($2 >= 0.9) ? "high" : $2 }' "$T_TMP/run1.prom")" high \
        "prometheus: the highest fd share as one gauge (the 60-of-64 process)"
promcheck "$T_TMP/run1.prom" "check --format prometheus (live): promtool check metrics passes"

t_done
