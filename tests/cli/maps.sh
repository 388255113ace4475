#!/bin/bash
# maps collector: fixture sysroots (LavinMQ with a low vm.max_map_count, a broker near
# the limit, healthy, garbage, not root) and live processes this test starts itself.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

sev_of() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
# Field F of the finding ID about SUBJECT ("-" = without a subject and not a skipped note).
field_of() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" --arg f "$3" \
                '[.collectors[].findings[] | select(.id == $id and (.subject // "-") == $s and
                  ($s != "-" or .severity != "skipped")) | .[$f] // ""] | join("|")'
}
subjects() {
        printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id and .subject) | .subject] | sort | join(",")'
}
LAVINMQ_REMEDY='sysctl -w vm.max_map_count=1000000 && echo vm.max_map_count=1000000 > /etc/sysctl.d/99-lavinmq.conf'

# ---- the kernel default 65530 with LavinMQ running: warn ----
root=$(fx_root low maps-low)
fx_proc "$root" 1 init cmdline=/sbin/init
fx_proc "$root" 2 kthreadd ppid=0 cmdline= maps=0
fx_proc "$root" 4242 lavinmq uid=999 maps=3000 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
t_run check --root "$root" --only maps --json
t_is "$RC" 1 "low limit + lavinmq: exit 1"
t_is "$(t_sev maps.lavinmq_limit)" warn "low limit + lavinmq: maps.lavinmq_limit warn"
t_is "$(t_sev maps.process)" ok "low limit + lavinmq: no process near the limit"
t_is "$(field_of maps.lavinmq_limit 'pid 4242 lavinmq' summary)" \
        "vm.max_map_count = 65530 is below 100000 with lavinmq running (pid 4242)" "low limit + lavinmq: summary"
t_is "$(field_of maps.lavinmq_limit 'pid 4242 lavinmq' remedy)" "$LAVINMQ_REMEDY" "low limit + lavinmq: the LavinMQ guide's remedy, persisted"
t_is "$(field_of maps.lavinmq_limit 'pid 4242 lavinmq' expected)" "vm.max_map_count >= 100000 (LavinMQ warns below 100000)" \
        "low limit + lavinmq: expected"
t_is "$(field_of maps.process - summary)" \
        "2 processes inspected, none at >= 80% of vm.max_map_count 65530; highest: pid 4242 lavinmq 3000/65530 (4.6%)" \
        "low limit + lavinmq: summary skips the kernel thread, shows the headroom"
t_run check --root "$root" --only maps
t_is "$RC" 1 "low limit text: exit 1"
t_like "$OUT" '^  WARN +maps\.lavinmq_limit  vm\.max_map_count = 65530 is below 100000 with lavinmq running \(pid 4242\)$' \
        "low limit text: the warn line"
t_like "$OUT" "remedy: +sysctl -w vm\.max_map_count=1000000 && echo vm\.max_map_count=1000000 > /etc/sysctl\.d/99-lavinmq\.conf" \
        "low limit text: remedy shown"

# ---- LavinMQ found by argv[0] (comm differs), lavinmqctl is not LavinMQ ----
root=$(fx_root argv0 maps-low)
fx_proc "$root" 700 main cmdline="/opt/lavinmq/bin/lavinmq -D /var/lib/lavinmq"
fx_proc "$root" 701 lavinmqctl cmdline="/usr/bin/lavinmqctl status"
t_run check --root "$root" --only maps --json
t_is "$(sev_of maps.lavinmq_limit 'pid 700 main')" warn "argv[0] basename lavinmq: matched"
t_like "$(field_of maps.lavinmq_limit 'pid 700 main' actual)" '^65530; lavinmq: pid 700$' "argv[0]: only the broker, not lavinmqctl"
root=$(fx_root ctl maps-low)
fx_proc "$root" 701 lavinmqctl cmdline="/usr/bin/lavinmqctl status"
fx_proc "$root" 702 perf cmdline="/usr/bin/lavinmqperf throughput"
t_run check --root "$root" --only maps --json
t_is "$RC" 0 "no lavinmq (only lavinmqctl, lavinmqperf): exit 0"
t_is "$(t_sev maps.lavinmq_limit)" ok "no lavinmq: ok, not a warning"
t_is "$(field_of maps.lavinmq_limit - summary)" "no lavinmq process running: LavinMQ's map-count rule does not apply" "no lavinmq: said so"

# ---- a broker near the limit: crit; another process at 85%: warn ----
root=$(fx_root near maps-low)
fx_proc "$root" 1 init
fx_proc "$root" 4242 lavinmq uid=999 maps=63000
fx_proc "$root" 5000 java maps=55700
t_run check --root "$root" --only maps --json
t_is "$RC" 2 "near the limit: exit 2"
t_is "$(t_sev maps.process)" "crit,warn,info" "near the limit: crit, warn, then the info summary"
t_is "$(sev_of maps.process 'pid 4242 lavinmq')" crit "near the limit: lavinmq at 96% is crit"
t_is "$(sev_of maps.process 'pid 5000 java')" warn "near the limit: 85% is warn"
t_is "$(subjects maps.process)" "pid 4242 lavinmq,pid 5000 java" "near the limit: nothing about the healthy one"
t_is "$(field_of maps.process 'pid 4242 lavinmq' summary)" "pid 4242 lavinmq: 63000 of 65530 memory map areas (96.1%)" "near the limit: crit summary"
t_is "$(field_of maps.process 'pid 4242 lavinmq' remedy)" "$LAVINMQ_REMEDY" "near the limit: lavinmq gets the LavinMQ remedy"
t_like "$(field_of maps.process 'pid 5000 java' remedy)" \
        '^sysctl -w vm\.max_map_count=262144 && echo vm\.max_map_count=262144 > /etc/sysctl\.d/99-max-map-count\.conf .*pmap -x 5000' \
        "near the limit: others get a general remedy and the leak hint"
t_is "$(t_sev maps.lavinmq_limit)" warn "near the limit: the lavinmq rule fires too"
t_is "$(field_of maps.process - actual)" \
        "top by share of limit: pid 4242 lavinmq 63000/65530 (96.1%), pid 5000 java 55700/65530 (85.0%), pid 1 init 20/65530 (0.0%)" \
        "near the limit: top consumers"
t_run check --root "$root" --only maps
t_like "$OUT" '^  CRIT +maps\.process  pid 4242 lavinmq: 63000 of 65530 memory map areas \(96\.1%\)$' "near the limit text: the crit line"

# ---- healthy: lavinmq with a raised limit ----
root=$(fx_root healthy maps-healthy)
fx_proc "$root" 1 init
fx_proc "$root" 2 kthreadd ppid=0 cmdline= maps=0
fx_proc "$root" 812 lavinmq uid=999 maps=500 cmdline=/usr/bin/lavinmq
t_run check --root "$root" --only maps --json
t_is "$RC" 0 "healthy: exit 0"
t_is "$(t_ids_with crit)$(t_ids_with warn)$(t_ids_with unknown)$(t_ids_with skipped)" "" "healthy: no crit, warn, unknown or skipped"
t_is "$(t_sev maps.lavinmq_limit)" ok "healthy: lavinmq limit ok"
t_is "$(field_of maps.lavinmq_limit 'pid 812 lavinmq' summary)" "vm.max_map_count = 1048576 (>= 100000) for lavinmq (pid 812)" "healthy: says the value"
t_is "$(t_sev maps.process)" ok "healthy: one ok summary"
t_run check --root "$root" --only maps -v # -v: ok lines listed, not folded into a count
t_like "$OUT" '^  OK +maps\.process  2 processes inspected, none at >= 80% of vm\.max_map_count 1048576' "healthy text: ok line"

# ---- config: the LavinMQ threshold and the per-process thresholds ----
printf '[maps]\nlavinmq_min = 60000\nwarn_pct = 3\n' >"$T_TMP/maps.conf"
root=$(fx_root conf maps-low)
fx_proc "$root" 4242 lavinmq maps=3000
t_run check --root "$root" --only maps --json --config "$T_TMP/maps.conf"
t_is "$(t_sev maps.lavinmq_limit)" ok "config: lavinmq_min = 60000 accepts 65530"
t_is "$(sev_of maps.process 'pid 4242 lavinmq')" warn "config: warn_pct = 3 makes 4.6% a warning"

# ---- garbage: never a crash ----
root=$(fx_root garbage maps-garbage)
fx_proc "$root" 4242 lavinmq
t_run check --root "$root" --only maps --json
t_is "$RC" 3 "garbage max_map_count: exit 3"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "maps") | .status')" ok "garbage: the collector ran to completion"
t_is "$(field_of maps.process - summary)" \
        "cannot read /proc/sys/vm/max_map_count: not a number; per-process map counts cannot be judged" "garbage: maps.process unknown, naming the file"
t_is "$(t_sev maps.process)" unknown "garbage: maps.process unknown"
t_is "$(t_sev maps.lavinmq_limit)" unknown "garbage + lavinmq: maps.lavinmq_limit unknown, not ok"
root=$(fx_root badmaps maps-low)
fx_proc "$root" 10 binary maps=0
printf '\x00\xff\x01garbage without a newline' >"$root/proc/10/maps"
fx_proc "$root" 11 gone maps=64000
rm -f "$root/proc/11/maps" # exited between the table and the count
fx_proc "$root" 12 nocmd cmdline= ppid=1 maps=5
t_run check --root "$root" --only maps --json
t_is "$RC" 0 "binary maps, vanished process: exit 0"
t_is "$(field_of maps.process - summary)" \
        "2 processes inspected, none at >= 80% of vm.max_map_count 65530; highest: pid 12 nocmd 5/65530 (0.0%)" \
        "binary maps counted as one line; the vanished one skipped silently"
t_unlike "$OUT" '"pid 11 ' "vanished process: no finding"

# ---- not root (fixture): other users' maps unreadable -> skipped; the LavinMQ rule still works ----
can_nobody() {
        [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
                setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$EVODIAG"
}
as_nobody() {
        OUT=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env EVODIAG_CONFIG=/dev/null \
                timeout -k 5 60 "$EVODIAG" "$@" 2>/dev/null)
        RC=$?
}
if can_nobody; then
        chmod 755 "$T_TMP"
        root=$(fx_root nonroot maps-low)
        fx_proc "$root" 100 mine uid=65534 maps=40
        fx_proc "$root" 4242 lavinmq uid=999 maps=64000
        chmod 600 "$root/proc/4242/maps"
        as_nobody check --root "$root" --only maps --json
        t_is "$RC" 1 "not root: exit 1 (the lavinmq rule), no crit for the unreadable broker"
        t_is "$(t_sev maps.process)" "skipped,ok" "not root: skipped for the unreadable one, ok about the readable one"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "maps.process" and .severity == "skipped") | .summary')" \
                '^needs root: 1 of 2 processes belong to other users; their /proc/PID/maps cannot be read' "not root: says how many"
        t_is "$(field_of maps.process - summary)" \
                "1 process inspected, none at >= 80% of vm.max_map_count 65530; highest: pid 100 mine 40/65530 (0.1%)" \
                "not root: the ok speaks only of the process it could read"
        t_is "$(t_sev maps.lavinmq_limit)" warn "not root: comm and cmdline are readable, so the LavinMQ rule still applies"
else
        t_skip "not root (fixture): needs root, setpriv, and $EVODIAG executable by nobody"
fi

# ---- live: a LavinMQ found by comm and one by argv[0] ----
mmc=$(cat /proc/sys/vm/max_map_count)
cp "$(command -v sleep)" "$T_TMP/lavinmq"
"$T_TMP/lavinmq" 300 </dev/null >/dev/null 2>&1 &
by_comm=$!
bash -c 'exec -a lavinmq sleep 300' </dev/null >/dev/null 2>&1 &
by_argv0=$!
t_at_exit "kill $by_comm $by_argv0 2>/dev/null"
n=0
while [ "$(cat "/proc/$by_argv0/comm" 2>/dev/null)" != sleep ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
t_run check --only maps --json
want=ok
[ "$mmc" -lt 100000 ] && want=warn
t_is "$(t_sev maps.lavinmq_limit)" "$want" "live: vm.max_map_count $mmc with lavinmq running is $want"
actual=$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "maps.lavinmq_limit") | .actual')
t_like "$actual" "^$mmc; lavinmq: pid .*\\b$by_comm\\b" "live: found by comm (pid $by_comm)"
t_like "$actual" "^$mmc; lavinmq: pid .*\\b$by_argv0\\b" "live: found by argv[0] (pid $by_argv0, comm sleep)"
kill "$by_comm" "$by_argv0" 2>/dev/null
wait "$by_comm" "$by_argv0" 2>/dev/null

# ---- live: a process holding ~88% of vm.max_map_count in real mappings ----
py=$(command -v /usr/bin/python3 python3 | head -1)
if [ -z "$py" ]; then
        t_skip "live maps hog: no python3"
elif [ "$mmc" -gt 300000 ]; then
        t_skip "live maps hog: vm.max_map_count $mmc is too high to approach cheaply"
else
        # Shared anonymous mappings never merge: one VMA each, no memory touched.
        "$py" -c '
import mmap, sys, time
want = int(sys.argv[1]) * 88 // 100
base = sum(1 for _ in open("/proc/self/maps"))
keep = [mmap.mmap(-1, 4096) for _ in range(want - base)]
print("ready", flush=True)
time.sleep(300)
' "$mmc" >"$T_TMP/hog.out" 2>&1 </dev/null &
        hog=$!
        t_at_exit "kill $hog 2>/dev/null"
        n=0
        while ! grep -q ready "$T_TMP/hog.out" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
        count=$(wc -l <"/proc/$hog/maps")
        comm=$(cat "/proc/$hog/comm")
        t_like "$(awk -v c="$count" -v m="$mmc" 'BEGIN { print (c * 100 >= m * 80 && c * 100 < m * 95) ? "band" : "out" }')" '^band$' \
                "live hog: $count of $mmc maps is in the warn band"
        # A busy host has many processes to read before this one: no inspection budget,
        # a generous deadline (a correctness test, not a benchmark).
        printf '[maps]\nbudget_ms = 0\n' >"$T_TMP/maps-nobudget.conf"
        T_TIMEOUT=120 t_run check --only maps --json --config "$T_TMP/maps-nobudget.conf" --collector-timeout 60s --timeout 90s
        t_is "$(sev_of maps.process "pid $hog $comm")" warn "live hog: reported as warn with its pid"
        t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "maps.process" and .subject == "pid '"$hog $comm"'") | .actual')" \
                "^$count map areas; vm.max_map_count $mmc" "live hog: the streamed count matches wc -l"
        kill "$hog" 2>/dev/null
fi

t_done
