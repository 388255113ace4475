#!/bin/bash
# lavinmq collector: fixture roots (process, config, limits, map need, listeners,
# data dir), then live runs against the real fake server (tests/helpers/fake_lavinmq.py)
# on 127.0.0.1 and on a unix socket, with a process named lavinmq started here:
# healthy, near limits, low disk (tmpfs), API down, API slow, invalid JSON, backlog,
# credentials, bundles with secrets, the USR1 dump from a file and from a real journal.
# Run in a pid namespace of its own (as root): the processes named lavinmq started here
# are the only ones evodiag sees, whatever else runs on this host (another test's broker),
# and none outlives the test.
if [ "$(id -u)" = 0 ] && [ -z "${EVODIAG_TEST_PIDNS:-}" ] && unshare -p -f -m --mount-proc --propagation private true 2>/dev/null; then
        EVODIAG_TEST_PIDNS=1 exec unshare -p -f -m --mount-proc --propagation private bash "$0" "$@"
fi
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"

# Severity of finding ID for one subject.
sev_of() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
# A field of the (first) finding ID.
field() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" \
                '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | first // ""'
}
ids_of() { # every lavinmq finding as id=severity, in report order
        printf '%s' "$OUT" | jq -r '[.collectors[] | select(.name == "lavinmq") | .findings[] | "\(.id)=\(.severity)"] | join(" ")'
}

# ---------------------------------------------------------------- fixtures
# A broker as upstream packages it: lavinmq.service, lavinmq.ini (listeners on ::),
# pid 4242 named in the data dir's .lock, 4 message segments in 2 queues.
healthy_root() {
        local r
        r=$(fx_root "$1" lavinmq-base)
        fx_proc "$r" 4242 lavinmq uid=998 rss_kb=184320 threads=9 fds=57 maps=300 nofile_soft=1048576 nofile_hard=1048576 \
                cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
        fx_file "$r" proc/4242/cgroup "0::/system.slice/lavinmq.service"
        fx_proc "$r" 1 systemd cmdline="/sbin/init"
        printf '%s\n' "$r"
}

root=$(healthy_root healthy)
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 0 "healthy fixture: exit 0"
t_is "$(ids_of)" "lavinmq.process=ok lavinmq.config=ok lavinmq.api=skipped lavinmq.fd_limit=ok lavinmq.fd_usage=ok lavinmq.map_headroom=ok lavinmq.disk=skipped lavinmq.data_dir=ok lavinmq.listening=ok lavinmq.connect=skipped lavinmq.messages=skipped lavinmq.version=skipped" \
        "healthy fixture: every check, in order, ok or skipped (live-only ones under --root)"
t_is "$(t_ids_with warn)$(t_ids_with crit)$(t_ids_with unknown)" "" "healthy fixture: no warn, crit or unknown"
t_is "$(field lavinmq.process summary)" "lavinmq runs: pid 4242, RSS 180.0 MiB, unit lavinmq.service" "process: pid, RSS and unit from cgroup"
t_like "$(field lavinmq.process actual)" "/var/lib/lavinmq/.lock: PID 4242 @ mq-host" "process: the .lock names it"
t_is "$(field lavinmq.config summary)" "/etc/lavinmq/lavinmq.ini read: data_dir /var/lib/lavinmq, 8 settings" "config: read, found via the broker's -c"
t_is "$(field lavinmq.config actual)" \
        "data_dir /var/lib/lavinmq ([main] data_dir); listeners amqp :::5672, mgmt :::15672, mqtt :::1883, metrics 127.0.0.1:15692; control socket /tmp/lavinmqctl.sock; default_password_hash set (not shown)" \
        "config: data dir, listeners and control socket; the hash is not shown"
t_unlike "$OUT" "TopSecretHash" "config: the password hash appears nowhere in the report"
t_is "$(field lavinmq.fd_limit summary)" "lavinmq may open 1048576 files (>= 1025)" "fd_limit ok from /proc/PID/limits"
t_is "$(field lavinmq.fd_usage summary)" "lavinmq holds 57 open files of 1048576 allowed (0.0%, /proc/4242/fd)" "fd_usage from /proc/PID/fd"
t_is "$(field lavinmq.map_headroom summary)" "map areas in /proc/4242/maps: 300 of vm.max_map_count 1000000 (0.0%)" "map_headroom from /proc/PID/maps"
t_is "$(field lavinmq.data_dir summary)" "/var/lib/lavinmq: 4 message segments (65 B) in 2 queue directories; .lock: PID 4242 @ mq-host" \
        "data_dir: segments counted and summed, the lock read"
t_like "$(field lavinmq.data_dir actual)" "largest: /var/lib/lavinmq/42099b4af021e53fd8fd4e056c2568d7c2e3ffa8/9658403816409e66eba2175f8eff8b53a9681573, 3 segments \(60 B\)" \
        "data_dir: the largest queue directory"
t_is "$(field lavinmq.listening summary)" "all 4 configured listeners listen: amqp :::5672, mgmt :::15672, mqtt :::1883, metrics 127.0.0.1:15692" \
        "listening: all from /proc/net/tcp and tcp6"
t_is "$(field lavinmq.api summary)" "not asked: --root is not the live system" "api: not asked under --root"
t_run check --root "$root" --only lavinmq
t_like "$OUT" "OK +lavinmq.map_headroom +map areas in /proc/4242/maps: 300 of vm.max_map_count 1000000" "text output: the map headroom line"
t_like "$OUT" "OK: 0 crit, 0 warn, 0 unknown, 7 ok, 0 info, 5 skipped" "text output: the summary line"

# Installed, not running.
root=$(fx_root stopped lavinmq-base)
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 2 "stopped: exit 2"
t_is "$(t_sev lavinmq.process)" crit "stopped: lavinmq.process crit"
t_is "$(field lavinmq.process summary)" "lavinmq is not running, but it is installed (/lib/systemd/system/lavinmq.service and /etc/lavinmq/lavinmq.ini)" \
        "stopped: says what shows it is installed"
t_is "$(field lavinmq.process actual)" "no lavinmq process; /var/lib/lavinmq/.lock: PID 4242 @ mq-host (not running: stopped or crashed)" \
        "stopped: the .lock's pid is not running"
t_like "$(field lavinmq.process remedy)" "^systemctl status lavinmq.service; journalctl -u lavinmq --since \"5 minutes ago\"; ls -la /var/lib/lavinmq/.lock" \
        "stopped: remedy from the guide"
t_is "$(t_sev lavinmq.fd_usage),$(t_sev lavinmq.map_headroom),$(t_sev lavinmq.listening)" "info,info,info" "stopped: per-process checks say not running (info)"

# Only a stale .lock: a warning.
root=$(fx_root lockonly)
mkdir -p "$root/var/lib/lavinmq"
printf 'PID 77 @ old-host' >"$root/var/lib/lavinmq/.lock"
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 1 "lock only: exit 1"
t_is "$(t_sev lavinmq.process)" warn "lock only: lavinmq.process warn"
t_is "$(t_sev lavinmq.config)" info "lock only: no lavinmq.ini is info (built-in defaults)"
t_is "$(field lavinmq.data_dir summary)" "/var/lib/lavinmq: 0 message segments (0 B) in 0 queue directories; .lock: PID 77 @ old-host (not running: left by a broker that stopped or crashed)" \
        "lock only: the lock's pid is not running"
fx_file "$root" proc/sys/kernel/hostname "mq-host"
t_run check --root "$root" --only lavinmq --json
t_is "$(field lavinmq.data_dir summary)" "/var/lib/lavinmq: 0 message segments (0 B) in 0 queue directories; .lock: PID 77 @ old-host (another host than mq-host: a shared or copied data directory?)" \
        "lock only: a lock written by another host is pointed out"
t_is "$(t_sev lavinmq.data_dir)" info "lock only: ... as info"

# Nothing of LavinMQ here.
root=$(fx_root empty)
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 0 "no LavinMQ: exit 0"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "lavinmq") | .status')" "not_applicable" "no LavinMQ: not applicable"

# Low open-files limit and nearly exhausted.
root=$(fx_root fds lavinmq-base)
fx_proc "$root" 4242 lavinmq fds=990 nofile_soft=1000 nofile_hard=1000 maps=300 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
fx_file "$root" proc/4242/cgroup "0::/system.slice/lavinmq.service"
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 2 "fds: exit 2"
t_is "$(t_sev lavinmq.fd_limit)" warn "fds: limit 1000 < 1025 is warn"
t_is "$(field lavinmq.fd_limit summary)" "lavinmq may open only 1000 files (below 1025): LavinMQ itself warns at start" "fds: limit summary"
t_like "$(field lavinmq.fd_limit remedy)" "^systemctl edit lavinmq.service -> \[Service\] LimitNOFILE=infinity" "fds: remedy names the unit"
t_is "$(t_sev lavinmq.fd_usage)" crit "fds: 990 of 1000 is crit"
t_is "$(field lavinmq.fd_usage subject)" "pid 4242 lavinmq" "fds: subject is the broker"
t_like "$(field lavinmq.fd_usage remedy)" "lsof -p 4242 -i" "fds: remedy lists connections with lsof"
rm -rf "$root/proc/4242/fd"
fx_proc "$root" 4242 lavinmq fds=850 nofile_soft=1000 nofile_hard=1000 maps=300 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.fd_usage)" warn "fds: 850 of 1000 (85%) is warn"
fx_proc "$root" 4242 lavinmq fds=850 nofile_soft=1025 nofile_hard=1025 maps=300
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.fd_limit)" ok "fds: a limit of exactly 1025 is fine"

# Map areas near vm.max_map_count.
root=$(healthy_root maps)
fx_file "$root" proc/sys/vm/max_map_count 65530
fx_proc "$root" 4242 lavinmq fds=57 nofile_soft=1048576 maps=60000 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 2 "maps: exit 2"
t_is "$(t_sev lavinmq.map_headroom)" crit "maps: 60000 of 65530 (91.6%) is crit"
t_is "$(field lavinmq.map_headroom remedy)" "sysctl -w vm.max_map_count=1000000 && echo vm.max_map_count=1000000 > /etc/sysctl.d/99-lavinmq.conf" \
        "maps: remedy as the guide"
fx_proc "$root" 4242 lavinmq fds=57 nofile_soft=1048576 maps=50000
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.map_headroom)" warn "maps: 50000 of 65530 (76.3%) is warn"

# A listener that is not listening.
root=$(healthy_root listen)
grep -v ':1628 ' "$FIXTURES/lavinmq-base/proc/net/tcp6" >"$root/proc/net/tcp6"
t_run check --root "$root" --only lavinmq --json
t_is "$RC" 1 "listener down: exit 1"
t_is "$(sev_of lavinmq.listening "amqp :::5672")" warn "listener down: amqp warn, subject amqp :::5672"
t_is "$(t_sev lavinmq.listening)" warn "listener down: no ok summary beside the warning"
t_is "$(field lavinmq.listening summary)" "amqp listener :::5672 is not listening" "listener down: summary"
t_like "$(field lavinmq.listening remedy)" "ss -ltnp 'sport = :5672'" "listener down: remedy"
# The broker's own network namespace is read first.
mkdir -p "$root/proc/4242/net"
cp "$FIXTURES/lavinmq-base/proc/net/tcp" "$FIXTURES/lavinmq-base/proc/net/tcp6" "$root/proc/4242/net/"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.listening)" ok "listener: /proc/PID/net/tcp6 (the broker's namespace) wins over /proc/net"

# Garbage everywhere: no crash, clear findings.
root=$(healthy_root garbage)
printf '[main]\ndata_dir = /var/lib/lavinmq\nthis is not ini\n[amqp]\nport = many\n' >"$root/etc/lavinmq/lavinmq.ini"
head -c 3000 /dev/urandom >"$root/proc/net/tcp"
head -c 3000 /dev/urandom >"$root/proc/net/tcp6"
printf '\001\002\003garbage' >"$root/var/lib/lavinmq/.lock"
fx_file "$root" proc/sys/vm/max_map_count "lots"
rm -f "$root/proc/4242/maps"
t_run check --root "$root" --only lavinmq --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "lavinmq") | .status')" ok "garbage: the collector finishes"
t_is "$(t_sev lavinmq.config)" warn "garbage: a bad line in lavinmq.ini is warn"
t_is "$(field lavinmq.config summary)" "/etc/lavinmq/lavinmq.ini line 3 is neither \`key = value\` nor \`[section]\`" "garbage: the line number"
t_is "$(t_sev lavinmq.listening)" unknown "garbage: unparsable /proc/net/tcp is unknown"
t_is "$(t_sev lavinmq.map_headroom)" unknown "garbage: vm.max_map_count not a number is unknown"
t_is "$(field lavinmq.map_headroom summary)" "cannot read /proc/sys/vm/max_map_count: not a number" "garbage: says which file"
t_is "$(t_sev lavinmq.data_dir)" info "garbage: a .lock without PID @ host is info"
t_is "$(t_sev lavinmq.process)" ok "garbage: the process is still found"

# Data dir missing while the broker runs: evodiag looks in the wrong place.
root=$(healthy_root nodata)
rm -rf "$root/var/lib/lavinmq"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.data_dir)" warn "no data dir while running: warn"
t_like "$(field lavinmq.data_dir remedy)" "ps -o args -p 4242" "no data dir: remedy shows how to find the real one"
# -D on the command line wins over lavinmq.ini.
fx_proc "$root" 4242 lavinmq fds=57 nofile_soft=1048576 maps=300 cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini -D /srv/mq"
mkdir -p "$root/srv/mq"
t_run check --root "$root" --only lavinmq --json
t_is "$(t_sev lavinmq.data_dir)" ok "-D /srv/mq: the data dir from the command line"
t_like "$(field lavinmq.config actual)" "data_dir /srv/mq \(the broker's -D\)" "-D: config says where the data dir came from"

# ---------------------------------------------------------------- live
# The real fake server on 127.0.0.1 and a unix socket, and a process named lavinmq:
# a bash script (comm "lavinmq") that, like LavinMQ, prints a dump on USR1 — to its
# stdout, or into a real journal file (systemd-journal-remote) when LMQ_JOURNAL is set.
live_ok=yes
command -v python3 >/dev/null || live_ok="python3 is missing"
ps -eo stat=,comm= | awk '$1 !~ /^Z/ && $2 == "lavinmq" { f = 1 } END { exit !f }' && live_ok="a lavinmq process already runs on this host"
if [ "$live_ok" != yes ]; then
        t_skip_rest "live tests: $live_ok"
        t_done
        exit
fi
L="$T_TMP/live"
mkdir -p "$L/data" "$L/bin" "$L/seed" "$L/journal" "$L/sleepbin"
FAKE="$TOP_SRCDIR/tests/helpers/fake_lavinmq.py"
API_PW="Api-Pw-$RANDOM-Secret"
HASH_SECRET="HashSecret$RANDOM+pHuxkR9fCyrrwXjOD4BP4Xbz"
OLD_PW="OldPw-$RANDOM-Secret"
MAX_MAP=$(cat /proc/sys/vm/max_map_count)
HOST=$(cat /proc/sys/kernel/hostname)
export EVODIAG_CONFIG="$L/evodiag.conf"
cat >"$L/bin/lavinmq" <<'EOS'
#!/bin/bash
# A stand-in broker: on USR1 it prints what LavinMQ's dump_debug_info prints.
dump() {
        local lines=("GC" "  heap size: 512kiB" "  free bytes: 64kiB" "  garbage collection cycle number: 7" "Fibers:"
                "#<Fiber:0x7f0000001000: main>")
        if [ -n "${LMQ_JOURNAL:-}" ]; then
                local ts l
                ts=$(date +%s%6N)
                {
                        for l in "${lines[@]}"; do
                                printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n' "$ts" "$ts"
                                printf '_SYSTEMD_UNIT=lavinmq.service\n_PID=%s\nMESSAGE=%s\n\n' "$$" "$l"
                                ts=$((ts + 1))
                        done
                        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n' "$ts" "$ts"
                        printf '_SYSTEMD_UNIT=other.service\n_PID=1\nMESSAGE=noise from another unit\n\n'
                } | /lib/systemd/systemd-journal-remote -o "$LMQ_JOURNAL" - 2>/dev/null
        else
                printf '%s\n' "${lines[@]}"
        fi
}
trap dump USR1
while :; do sleep 0.2; done
EOS
chmod +x "$L/bin/lavinmq"

BROKER=
# The soft open-files limit to give it: at most the hard limit we have.
nofile() {
        local h
        h=$(ulimit -Hn)
        if [ "$h" != unlimited ] && [ "$1" -gt "$h" ]; then echo "$h"; else echo "$1"; fi
}
start_broker() { # nofile [stdout]
        ( ulimit -Sn "$(nofile "$1")" && exec "$L/bin/lavinmq" -c "$L/lavinmq.ini" -D "$L/data" >"${2:-/dev/null}" 2>&1 ) &
        BROKER=$!
        t_at_exit "kill $BROKER 2>/dev/null"
        local i
        for i in $(seq 50); do [ "$(cat "/proc/$BROKER/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
        # The data dir's .lock, as the broker writes it (kept in the seed: the tmpfs runs copy it).
        printf 'PID %s @ %s' "$BROKER" "$HOST" >"$L/seed/.lock"
        cp -a "$L/seed/." "$L/data/"
}
stop_broker() {
        kill "$BROKER" 2>/dev/null
        wait "$BROKER" 2>/dev/null
        BROKER=
}
FAKE_PID=
start_fake() { # scenario [more options]
        local scen=$1 i
        shift
        rm -f "$L/fake.out"
        python3 "$FAKE" --scenario "$scen" --tcp 127.0.0.1:0 --metrics 127.0.0.1:0 --unix "$L/ctl.sock" \
                --user evo --password "$API_PW" "$@" >"$L/fake.out" 2>"$L/fake.err" &
        FAKE_PID=$!
        t_at_exit "kill $FAKE_PID 2>/dev/null"
        for i in $(seq 100); do [ "$(grep -c '^listening' "$L/fake.out" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
        TCP_PORT=$(awk '$2 == "tcp" {print $4}' "$L/fake.out")
        METRICS_PORT=$(awk '$2 == "metrics" {print $4}' "$L/fake.out")
}
stop_fake() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
        FAKE_PID=
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The broker's lavinmq.ini (evodiag finds it through the broker's -c).
write_ini() {
        cat >"$L/lavinmq.ini" <<EOS
[main]
data_dir = $L/data
control_unix_path = ${CTL_SOCK:-$L/ctl.sock}
metrics_http_port = $METRICS_PORT
default_password_hash = $HASH_SECRET
default_password = $OLD_PW
[mgmt]
port = $TCP_PORT
[amqp]
port = ${AMQP_PORT:--1}
EOS
}
# evodiag's config: [lavinmq] key = value lines.
write_conf() {
        { echo "[lavinmq]"; for kv in "$@"; do echo "$kv"; done; } >"$L/evodiag.conf"
}
# evodiag with its data_dir on a private tmpfs of SIZE (a copy of the seed on it),
# so free space is what the test says, not what this host has.
TMPFS=
[ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null && TMPFS=yes
cat >"$L/wrap" <<'EOS'
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount -t tmpfs -o size="$TMPFS_SIZE" tmpfs "$DATA_DIR" && cp -a "$SEED/." "$DATA_DIR/" && exec "$REAL_EVODIAG" "$@"' sh "$@"
EOS
chmod +x "$L/wrap"
live() { # SIZE evodiag-args...   (SIZE "" or no root: the data dir as it is)
        local size=$1
        shift
        if [ -n "$size" ] && [ -n "$TMPFS" ]; then
                export TMPFS_SIZE="$size" DATA_DIR="$L/data" SEED="$L/seed" REAL_EVODIAG="$EVODIAG"
                local real=$EVODIAG
                EVODIAG="$L/wrap"
                t_run "$@"
                EVODIAG=$real
        else
                t_run "$@"
        fi
}
mkdir -p "$L/seed/42099b4af021e53fd8fd4e056c2568d7c2e3ffa8/9658403816409e66eba2175f8eff8b53a9681573"
printf '\004\000\000\000message' >"$L/seed/42099b4af021e53fd8fd4e056c2568d7c2e3ffa8/9658403816409e66eba2175f8eff8b53a9681573/msgs.0000000001"

# Healthy, over the control socket (no credentials).
start_fake healthy
write_ini
write_conf
start_broker 65536
live 100G check --only lavinmq --json
t_is "$RC" 0 "live healthy: exit 0"
t_is "$(ids_of)" "lavinmq.process=ok lavinmq.config=ok lavinmq.api=ok lavinmq.fd_limit=ok lavinmq.fd_usage=ok lavinmq.map_headroom=ok lavinmq.disk=ok lavinmq.data_dir=ok lavinmq.listening=ok lavinmq.connect=ok lavinmq.messages=ok lavinmq.version=info" \
        "live healthy: every check ok"
t_like "$(field lavinmq.api summary)" "^LavinMQ 2\.4\.0 answers over the control socket $L/ctl\.sock in [0-9]+ ms: 3 connections, 2 consumers, 5 queues$" \
        "live healthy: the API over the control socket"
t_like "$(field lavinmq.api actual)" "fds 57/1048576, memory 180\.0 MiB of 8\.0 GiB, disk free 60\.0 GiB, 0 followers; metrics: read$" \
        "live healthy: /api/nodes and /metrics read"
t_is "$(field lavinmq.process summary)" "$(printf 'lavinmq runs: pid %s, RSS %s' "$BROKER" "$(jq -r '.collectors[].findings[] | select(.id == "lavinmq.process") | .summary' <<<"$OUT" | sed 's/.*RSS //')")" \
        "live healthy: the process started here"
t_is "$(field lavinmq.fd_limit summary)" "lavinmq may open $(nofile 65536) files (>= 1025)" "live healthy: its limit from /proc"
t_like "$(field lavinmq.map_headroom actual)" "^predicted need \(3 connections\*2 \+ 2 consumers\*2 \+ 5 queues\*4\): 30 of $MAX_MAP .*; memory-mapped files \(lavinmq_mfile_count\): 40 of $MAX_MAP .*; map areas in /proc/$BROKER/maps: [0-9]+ of $MAX_MAP" \
        "live healthy: need, mfile_count and /proc/PID/maps all measured"
t_is "$(field lavinmq.data_dir summary)" "$L/data: 1 message segments (11 B) in 1 queue directories; .lock: PID $BROKER @ $HOST" "live healthy: data dir and lock"
t_is "$(field lavinmq.listening summary)" "all 2 configured listeners listen: mgmt 127.0.0.1:$TCP_PORT, metrics 127.0.0.1:$METRICS_PORT" \
        "live healthy: listeners from the broker's /proc/PID/net"
t_is "$(field lavinmq.connect summary)" "2 listeners accept connections: mgmt 127.0.0.1:$TCP_PORT, metrics 127.0.0.1:$METRICS_PORT" "live healthy: connections accepted"
t_is "$(field lavinmq.messages summary)" "12 messages ready, 3 unacknowledged, 2 consumers" "live healthy: queue totals"
if [ -n "$TMPFS" ]; then
        t_like "$(field lavinmq.disk actual)" "^statvfs\($L/data\): 100\.0 GiB free of 100\.0 GiB; /api/nodes disk_free: 60\.0 GiB free of 100\.0 GiB; metrics disk_space_available_bytes: 60\.0 GiB free" \
                "live healthy: statvfs, API and metrics for the disk"
else
        t_skip "disk on tmpfs needs root and unshare"
fi
live 100G check --only lavinmq
t_like "$OUT" "OK +lavinmq\.api +LavinMQ 2\.4\.0 answers over the control socket" "live healthy: text output"

# Over the management port with credentials from evodiag's config.
CTL_SOCK="$L/no-such.sock" write_ini
write_conf "user = evo" "password = $API_PW"
live 100G check --only lavinmq --json
t_is "$(t_sev lavinmq.api)" ok "tcp: the API with basic auth"
t_like "$(field lavinmq.api summary)" "answers over http://127\.0\.0\.1:$TCP_PORT in" "tcp: over the management port"
t_unlike "$OUT$ERR" "$API_PW" "tcp: the API password is nowhere in the output"
write_conf "user = evo" "password = wrong-$RANDOM"
live 100G check --only lavinmq --json
t_is "$RC" 1 "tcp, wrong password: exit 1"
t_is "$(t_sev lavinmq.api)" warn "tcp, wrong password: api warn"
t_is "$(field lavinmq.api summary)" "the API at http://127.0.0.1:$TCP_PORT: HTTP 401: the API refused evodiag's credentials ([lavinmq] user 'evo')" \
        "tcp, wrong password: says so"
t_is "$(field lavinmq.messages actual)" "12 ready, 3 unacknowledged (metrics queue_messages_ready/unacked)" "tcp, wrong password: messages from the metrics port (no auth)"
t_is "$(t_sev lavinmq.fd_usage)" ok "tcp, wrong password: /proc still measured"
# A stale control socket (nothing listens): the management port is used instead.
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$L/stale.sock"
CTL_SOCK="$L/stale.sock" write_ini
write_conf "user = evo" "password = $API_PW"
live 100G check --only lavinmq --json
t_is "$(t_sev lavinmq.api)" ok "stale control socket: the port answers"
t_like "$(field lavinmq.api actual)" "control socket not usable \(cannot connect to unix socket $L/stale\.sock: Connection refused\), used the management port" \
        "stale control socket: said"

# A listener that is configured but not listening.
AMQP_PORT=$(free_port)
AMQP_PORT=$AMQP_PORT write_ini
write_conf
live 100G check --only lavinmq --json
t_is "$RC" 1 "amqp not listening: exit 1"
t_is "$(sev_of lavinmq.listening "amqp 127.0.0.1:$AMQP_PORT")" warn "amqp not listening: warn for that listener"
t_is "$(t_sev lavinmq.connect)" ok "amqp not listening: the others accept"
write_ini

# Near the fd and map limits (the API's numbers).
stop_fake
start_fake near-limits --max-map-count "$MAX_MAP"
write_ini
live 100G check --only lavinmq --json
t_is "$RC" 2 "near limits: exit 2"
t_is "$(field lavinmq.fd_usage summary)" "lavinmq holds 1003 open files of 1024 allowed (97.9%, /api/nodes fd_used/fd_total)" "near limits: fd_usage crit from the API"
t_is "$(t_sev lavinmq.fd_usage)" crit "near limits: fd_usage crit"
mf=$((MAX_MAP * 97 / 100))
t_is "$(field lavinmq.map_headroom summary)" "memory-mapped files (lavinmq_mfile_count): $mf of vm.max_map_count $MAX_MAP ($(awk -v a="$mf" -v b="$MAX_MAP" 'BEGIN { printf "%.1f", 100 * a / b }')%)" \
        "near limits: map_headroom from mfile_count"
t_is "$(t_sev lavinmq.map_headroom)" crit "near limits: map_headroom crit"
t_like "$(field lavinmq.map_headroom remedy)" "^sysctl -w vm\.max_map_count=[0-9]+ && echo vm\.max_map_count=[0-9]+ > /etc/sysctl\.d/99-lavinmq\.conf$" "near limits: sysctl remedy"
t_is "$(t_sev lavinmq.fd_limit)" ok "near limits: the process's own limit ($(nofile 65536)) is fine"

# Low disk: the API says so, then statvfs on a small tmpfs.
stop_fake
start_fake low-disk
write_ini
live 100G check --only lavinmq --json
t_is "$RC" 2 "low disk (API): exit 2"
t_is "$(field lavinmq.disk summary)" "64.0 MiB free of 100.0 GiB (0.1%) for $L/data (/api/nodes disk_free)" "low disk (API): crit from disk_free"
t_is "$(t_sev lavinmq.disk)" crit "low disk (API): crit"
t_like "$(field lavinmq.disk remedy)" "^df -h $L/data; du -sh $L/data/\*/\* \| sort -h" "low disk: remedy from the guide"
stop_fake
start_fake healthy
write_ini
if [ -n "$TMPFS" ]; then
        live 2M check --only lavinmq --json
        t_is "$(t_sev lavinmq.disk)" crit "low disk (statvfs, 2 MiB tmpfs): crit"
        t_like "$(field lavinmq.disk summary)" "^[0-9.]+ [KM]iB free of 2\.0 MiB \(.*\) for $L/data \(statvfs\($L/data\)\)$" "low disk (statvfs): the summary names statvfs"
        live 512M check --only lavinmq --json
        t_is "$(t_sev lavinmq.disk)" warn "512 MiB free (< 1 GiB): warn"
        write_conf "disk_warn_bytes = 104857600"
        live 512M check --only lavinmq --json
        t_is "$(t_sev lavinmq.disk)" ok "disk_warn_bytes tunable: 512 MiB is fine at 100 MiB"
        write_conf
else
        t_skip "low disk via statvfs needs root (tmpfs in a mount namespace)"
fi

# Backlog.
stop_fake
start_fake backlog
write_ini
live 100G check --only lavinmq --json
t_is "$RC" 1 "backlog: exit 1"
t_is "$(field lavinmq.messages summary)" "2500000 messages ready, 150000 unacknowledged, 0 consumers: both building up" "backlog: messages warn"
t_like "$(field lavinmq.messages actual)" "no consumer is connected" "backlog: no consumer"
t_like "$(field lavinmq.messages remedy)" "kill -USR1 $BROKER; journalctl -u lavinmq \| grep -A 20 \"Queue <name>\"" "backlog: remedy from the guide"

# Impossible numbers (1e308 bytes free, negative counts, NaN) from the API and the metrics:
# each an unknown lavinmq.invalid_value, never a verdict ("0 B free": crit, once).
stop_fake
start_fake impossible
AMQP_PORT= write_ini # no amqp listener: nothing but these numbers may raise a verdict
live 100G check --only lavinmq --json
inv() { printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "lavinmq.invalid_value") | "\(.subject)=\(.actual)"] | sort | join("; ")'; }
t_is "$(inv)" "/api/nodes disk_free=1e+308; /api/nodes fd_used=-5; /api/nodes mem_used=nan; /api/overview object_totals queues=-5; /metrics lavinmq_disk_space_available_bytes=1e+308; /metrics lavinmq_mfile_count=-5; /metrics lavinmq_process_open_fds=nan" \
        "impossible numbers: each one named with its source"
t_like "$(t_sev lavinmq.invalid_value)" "^unknown(,unknown)*$" "impossible numbers: unknown"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "lavinmq.invalid_value" and .subject == "/api/nodes disk_free") | .summary')" \
        "invalid value from /api/nodes disk_free: 1e+308 (left out of every verdict)" "impossible numbers: the summary says so"
t_unlike "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.severity == "crit") | .id')" "." "impossible numbers: no crit from them"
if [ -n "$TMPFS" ]; then
        t_is "$(t_sev lavinmq.disk)" ok "impossible numbers: the disk verdict from statvfs alone"
        t_unlike "$(field lavinmq.disk actual)" "api|metrics" "impossible numbers: the invalid sources are not in it"
else
        t_skip "impossible numbers: disk via statvfs needs root (tmpfs in a mount namespace)"
        t_skip "impossible numbers: disk sources"
fi
t_like "$(field lavinmq.fd_usage actual)" "^/proc/$BROKER/fd: [0-9]+ of [0-9]+" "impossible numbers: fds from /proc only"
t_is "$(t_ids_with warn)$(t_ids_with crit)" "" "impossible numbers: no warn or crit"
t_is "$RC" 3 "impossible numbers: exit 3 (unknown)"

# Invalid JSON.
stop_fake
start_fake invalid-json
write_ini
live 100G check --only lavinmq --json
t_is "$RC" 2 "invalid JSON: exit 2"
t_is "$(field lavinmq.api summary)" "lavinmq (pid $BROKER) runs but its API does not answer: not JSON: the reply ends early (11 bytes)" "invalid JSON: api crit"
t_is "$(field lavinmq.messages summary)" "12 messages ready, 3 unacknowledged" "invalid JSON: messages from the metrics instead"
t_is "$(t_sev lavinmq.map_headroom)" ok "invalid JSON: /metrics and /proc still measured"

# API slow: the request times out, the run finishes and reports.
stop_fake
start_fake api-slow --delay 30
write_ini
write_conf "timeout_ms = 1000"
live 100G check --only lavinmq --json
t_is "$RC" 2 "api slow: exit 2, the run finished"
t_is "$(field lavinmq.api summary)" "lavinmq (pid $BROKER) runs but its API does not answer: no complete answer from unix socket $L/ctl.sock within 1000 ms" \
        "api slow: timeout after [lavinmq] timeout_ms"
t_is "$(t_sev lavinmq.map_headroom)" ok "api slow: metrics (not delayed) still read"
# The collector's own deadline caps a request that would take longer.
write_conf "timeout = 6s" "timeout_ms = 60000"
live 100G check --only lavinmq --json
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "lavinmq") | .status')" ok "api slow, 6 s collector timeout: not killed"
t_like "$(field lavinmq.api summary)" "no complete answer from unix socket $L/ctl\.sock within [0-9]+ ms$" "api slow: the request stopped before the deadline"
write_conf
stop_fake

# API down; the broker is a copy of sleep named lavinmq (no -c: [lavinmq] config).
stop_broker
cp /bin/sleep "$L/sleepbin/lavinmq"
( ulimit -Sn "$(nofile 65536)" && exec "$L/sleepbin/lavinmq" 600 ) &
SLEEPER=$!
t_at_exit "kill $SLEEPER 2>/dev/null"
write_conf "config = $L/lavinmq.ini"
live 100G check --only lavinmq --json
t_is "$RC" 2 "api down: exit 2"
t_like "$(field lavinmq.process summary)" "^lavinmq runs: pid $SLEEPER," "api down: the sleep copy is the broker"
t_is "$(field lavinmq.api summary)" "lavinmq (pid $SLEEPER) runs but its API does not answer: cannot connect to 127.0.0.1:$TCP_PORT: Connection refused" \
        "api down: crit, the port refused"
t_like "$(field lavinmq.api remedy)" "journalctl -u lavinmq --since \"10 minutes ago\"; kill -USR1 $SLEEPER" "api down: remedy"
t_is "$(sev_of lavinmq.listening "mgmt 127.0.0.1:$TCP_PORT")" warn "api down: the management listener is not listening"
t_is "$(field lavinmq.messages summary)" "not measured: the API did not answer (see lavinmq.api)" "api down: messages not measured (skipped)"
t_is "$(t_sev lavinmq.messages)" skipped "api down: messages skipped"
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null

# Fd limit below 1025.
start_fake healthy
write_ini
write_conf
start_broker 1000
live 100G check --only lavinmq --json
t_is "$(t_sev lavinmq.fd_limit)" warn "ulimit -n 1000: fd_limit warn"
t_like "$(field lavinmq.fd_limit remedy)" "prlimit --pid $BROKER --nofile=1048576:1048576" "ulimit -n 1000: remedy"
stop_broker

# Bundles: secrets nowhere; API replies, metrics and the data dir listing stored.
start_broker 65536 "$L/broker.log"
write_conf "user = evo" "password = $API_PW"
out="$T_TMP/bundles"
mkdir -p "$out"
live 100G bundle --only lavinmq -o "$out/plain.tar.zst" -q
t_is "$RC" 0 "bundle: exit 0"
x="$T_TMP/x1"
mkdir -p "$x"
tar --zstd -xf "$out/plain.tar.zst" -C "$x"
top=$(ls "$x")
m="$x/$top/manifest.json"
leak=""
for s in "$HASH_SECRET" "$OLD_PW" "$API_PW"; do
        grep -rqaF -- "$s" "$x" && leak="$leak $s"
        printf '%s' "$ERR" | grep -qaF -- "$s" && leak="$leak $s(stderr)"
done
t_is "$leak" "" "bundle: no secret (password hash, old password, API password) anywhere in the archive"
t_like "$(cat "$x/$top/host$L/lavinmq.ini")" "default_password_hash = <redacted>" "bundle: lavinmq.ini stored, redacted in place"
art() { jq -r --arg p "$1" '.artifacts[] | select(.path == $p) | [.kind, .status] | join(" ")' "$m"; }
t_is "$(art collectors/lavinmq/api-overview.json)" "http ok" "bundle: /api/overview reply"
t_is "$(jq -r .lavinmq_version "$x/$top/collectors/lavinmq/api-overview.json")" "2.4.0" "bundle: the reply is the API's JSON"
t_is "$(art collectors/lavinmq/api-nodes.json)" "http ok" "bundle: /api/nodes reply"
t_is "$(art collectors/lavinmq/metrics.txt)" "http ok" "bundle: metrics"
t_like "$(cat "$x/$top/collectors/lavinmq/metrics.txt")" "lavinmq_mfile_count 40" "bundle: the Prometheus text"
t_is "$(art collectors/lavinmq/data_dir.txt)" "derived ok" "bundle: the data dir listing"
t_like "$(cat "$x/$top/collectors/lavinmq/data_dir.txt")" "# total: 1 segments, 11 bytes in 1 directories" "bundle: listing totals"
t_is "$(art collectors/lavinmq/usr1-dump.txt)" "journal skipped" "bundle: no USR1 without --allow-intrusive"
t_is "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | .error' "$m")" \
        "needs --allow-intrusive: evodiag signals the broker only when asked" "bundle: says why"
# ISSUE.md of a bundle with the broker's evidence: only true sentences; what is attached
# is listed from the manifest; the broker's own limits, version and data dir df.
. "$TOP_SRCDIR/tests/lib/issue.sh"
issue_truth "$x/$top" "$out/plain.tar.zst" "bundle ISSUE.md"
t_like "$(cat "$x/$top/ISSUE.md")" "- \`collectors/lavinmq/api-overview\.json\` \(http\)" "ISSUE.md: the API reply listed as attached (it is in the archive)"
t_like "$(cat "$x/$top/ISSUE.md")" "- \`collectors/lavinmq/usr1-dump\.txt\`: skipped \(needs --allow-intrusive" "ISSUE.md: the USR1 dump not collected, and why"
t_like "$(cat "$x/$top/ISSUE.md")" "- LavinMQ: LavinMQ 2\.4\.0 \(/api/overview\)" "ISSUE.md: the broker's version (lavinmq.version, from the API)"
t_like "$(cat "$x/$top/ISSUE.md")" "<summary>Limits of lavinmq \(pid $BROKER, <code>/proc/$BROKER/limits</code>\)</summary>" \
        "ISSUE.md: the broker's own limits, not evodiag's"
t_like "$(sed -n '/Limits of lavinmq/,/<\/details>/p' "$x/$top/ISSUE.md")" "Max open files +$(nofile 65536) " "ISSUE.md: the broker's open-files limit as its /proc/PID/limits says"
t_like "$(cat "$x/$top/ISSUE.md")" "- Disk \(\`lavinmq\.disk\`\): .* free .*for $L/data" "ISSUE.md: df of the broker's data directory"
t_run check --from "$out/plain.tar.zst" --only lavinmq
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "check --from: the bundle reproduces the findings"

# USR1: the broker's stdout is a file; the dump appended after the signal is stored.
: >"$L/broker.log"
live 100G bundle --only lavinmq --allow-intrusive -o "$out/usr1.tar.zst" -q
t_is "$RC" 0 "usr1 (stdout file): exit 0"
x="$T_TMP/x2"
mkdir -p "$x"
tar --zstd -xf "$out/usr1.tar.zst" -C "$x"
top=$(ls "$x")
t_is "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | [.kind, .status] | join(" ")' "$x/$top/manifest.json")" "file ok" \
        "usr1 (stdout file): stored"
t_is "$(cat "$x/$top/collectors/lavinmq/usr1-dump.txt")" "$(printf 'GC\n  heap size: 512kiB\n  free bytes: 64kiB\n  garbage collection cycle number: 7\nFibers:\n#<Fiber:0x7f0000001000: main>')" \
        "usr1 (stdout file): exactly the lines printed after the signal"
t_like "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | .origin' "$x/$top/manifest.json")" "^$L/broker\.log \(stdout of pid $BROKER\), appended after kill -USR1 at " \
        "usr1 (stdout file): origin"
t_like "$(cat "$x/$top/evodiag.log")" "lavinmq: sent SIGUSR1 to pid $BROKER" "usr1: the log says a signal was sent"
t_like "$(jq -r '.intrusive[]' "$x/$top/manifest.json")" "^lavinmq: kill -USR1 $BROKER: done: pre-check: the broker by name and executable, SigCgt has USR1; post-check: alive$" \
        "usr1: manifest.json intrusive records the pre- and post-check"
issue_truth "$x/$top" "$out/usr1.tar.zst" "usr1 ISSUE.md"
t_is "$(kill -0 "$BROKER" 2>/dev/null && echo alive)" alive "usr1: the broker is still running (never USR2, never killed)"
stop_broker

# USR1 into a real journal file (systemd-journal-remote), read with sd-journal.
if [ -x /lib/systemd/systemd-journal-remote ]; then
        J="$L/journal/remote.journal"
        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=lavinmq.service\nMESSAGE=an older line\n\n' \
                "$(($(date +%s%6N) - 60000000))" | /lib/systemd/systemd-journal-remote -o "$J" - 2>/dev/null
        LMQ_JOURNAL="$J" start_broker 65536 /dev/null
        write_conf "journal_dir = $L/journal"
        live 100G bundle --only lavinmq --allow-intrusive -o "$out/journal.tar.zst" -q
        x="$T_TMP/x3"
        mkdir -p "$x"
        tar --zstd -xf "$out/journal.tar.zst" -C "$x"
        top=$(ls "$x")
        t_is "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | [.kind, .status] | join(" ")' "$x/$top/manifest.json")" "journal ok" \
                "usr1 (journal): stored"
        t_is "$(sed 's/^[0-9T:.-]*Z //' "$x/$top/collectors/lavinmq/usr1-dump.txt")" \
                "$(printf 'GC\n  heap size: 512kiB\n  free bytes: 64kiB\n  garbage collection cycle number: 7\nFibers:\n#<Fiber:0x7f0000001000: main>')" \
                "usr1 (journal): the unit's lines since the signal; not older ones, not another unit's"
        t_like "$(head -1 "$x/$top/collectors/lavinmq/usr1-dump.txt")" "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z GC$" "usr1 (journal): each line with its time"
        t_like "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | .origin' "$x/$top/manifest.json")" \
                "^journal $L/journal: _SYSTEMD_UNIT=lavinmq.service or _PID=$BROKER since .* \(kill -USR1 $BROKER\) \(6 lines\)$" "usr1 (journal): origin"
        stop_broker
else
        t_skip "systemd-journal-remote is not installed"
fi

# Never harm the component (lib/intrusive.h). Each of these fails on the code before
# the pre-/post-check: a name was enough to send USR1.
unpack_to() { # archive dir -> the top directory
        mkdir -p "$2" && tar --zstd -xf "$1" -C "$2" && printf '%s\n' "$2"/*
}
# 1. A copy of sleep named lavinmq: it does not catch USR1 (the default action kills it).
write_conf "journal_wait_ms = 500"
( exec "$L/sleepbin/lavinmq" 600 ) &
SLEEPER=$!
t_at_exit "kill $SLEEPER 2>/dev/null"
for i in $(seq 50); do [ "$(cat "/proc/$SLEEPER/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
live 100G bundle --only lavinmq --allow-intrusive -o "$out/nohandler.tar.zst" -q
sleep 0.3
t_is "$(kill -0 "$SLEEPER" 2>/dev/null && echo alive)" alive "no USR1 handler: the process survives bundle --allow-intrusive"
x=$(unpack_to "$out/nohandler.tar.zst" "$T_TMP/x5")
t_is "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | [.status, .error] | join(" ")' "$x/manifest.json")" \
        "skipped USR1 not sent: pid $SLEEPER does not handle SIGUSR1 (SigCgt): its default action would terminate it" \
        "no USR1 handler: not signalled, and the manifest says why"
t_like "$(jq -r '.intrusive[]' "$x/manifest.json")" "^lavinmq: kill -USR1 $SLEEPER: refused: USR1 not sent: pid $SLEEPER does not handle SIGUSR1" \
        "no USR1 handler: manifest.json intrusive records the refusal"
t_like "$(cat "$x/ISSUE.md")" "collectors/lavinmq/usr1-dump\.txt.*: skipped \(USR1 not sent: pid $SLEEPER does not handle SIGUSR1" \
        "no USR1 handler: ISSUE.md says why under Not collected"
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null

# 2. A python process that only calls itself lavinmq (comm), catching USR1: name alone is a claim.
if python3 -c 'import ctypes; ctypes.CDLL(None).prctl' 2>/dev/null; then
        python3 -c '
import ctypes, signal, sys, time
ctypes.CDLL(None).prctl(15, b"lavinmq", 0, 0, 0)
signal.signal(signal.SIGUSR1, lambda *a: open(sys.argv[1], "w").write("signalled"))
while True: time.sleep(0.1)' "$L/impostor.mark" &
        IMP=$!
        t_at_exit "kill $IMP 2>/dev/null"
        for i in $(seq 50); do [ "$(cat "/proc/$IMP/comm" 2>/dev/null)" = lavinmq ] && break; sleep 0.1; done
        live 100G bundle --only lavinmq --allow-intrusive -o "$out/impostor.tar.zst" -q
        sleep 0.3
        t_is "$(cat "$L/impostor.mark" 2>/dev/null)" "" "name only (comm lavinmq, python3 executable and command line): never signalled"
        x=$(unpack_to "$out/impostor.tar.zst" "$T_TMP/x6")
        t_like "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | .error' "$x/manifest.json")" \
                "^USR1 not sent: pid $IMP is not lavinmq by both name and executable or command line \(comm lavinmq, executable [^,]*python3" \
                "name only: the reason names the executable"
        kill "$IMP"
        wait "$IMP" 2>/dev/null
else
        t_skip "python3 has no ctypes prctl"
        t_skip "python3 has no ctypes prctl"
fi

# 3. A broker whose USR1 handler exits (a script: comm lavinmq, argv[1] .../lavinmq): the
# post-check sees it die; crit, incomplete, exit 1, said loudly.
mkdir -p "$L/dies"
cat >"$L/dies/lavinmq" <<'EOS'
#!/usr/bin/python3
import os, signal, time
signal.signal(signal.SIGUSR1, lambda *a: os._exit(3))
while True: time.sleep(0.1)
EOS
chmod +x "$L/dies/lavinmq"
( exec "$L/dies/lavinmq" >"$L/dies.log" 2>&1 ) &
DIES=$!
t_at_exit "kill $DIES 2>/dev/null"
for i in $(seq 50); do
        cgt=$(sed -n 's/^SigCgt:\s*//p' "/proc/$DIES/status" 2>/dev/null)
        [ -n "$cgt" ] && [ "$(( (0x$cgt >> 9) & 1 ))" = 1 ] && break
        sleep 0.1
done
live 100G bundle --only lavinmq --allow-intrusive -o "$out/dies.tar.zst" -q
t_is "$RC" 1 "handler exits: the bundle is written but incomplete, exit 1"
t_like "$ERR" "INCOMPLETE" "handler exits: stderr says INCOMPLETE even with -q"
wait "$DIES" 2>/dev/null
t_is "$?" 3 "handler exits: (the stand-in did exit on USR1, from its handler)"
x=$(unpack_to "$out/dies.tar.zst" "$T_TMP/x7")
t_is "$(jq -r '.collectors[].findings[] | select(.id == "lavinmq.intrusive") | .severity' "$x/findings.json")" crit \
        "handler exits: crit finding lavinmq.intrusive"
t_is "$(jq -r .complete "$x/manifest.json")" false "handler exits: manifest complete false"
t_like "$(jq -r '.incomplete[]' "$x/manifest.json")" "lavinmq: pid $DIES died after kill -USR1 $DIES" "handler exits: manifest says why"
t_like "$(sed -n 3,6p "$x/ISSUE.md")" "evodiag harmed a process it inspected" "handler exits: ISSUE.md says so at the top"
t_like "$(cat "$x/evodiag.log")" "HARMED: lavinmq: kill -USR1 $DIES: died" "handler exits: evodiag.log says so"

# No journal and stdout not a file: no signal, and a clear reason.
if ls /var/log/journal/*/*.journal /run/log/journal/*/*.journal >/dev/null 2>&1; then
        t_skip "this host has a systemd journal"
else
        start_broker 65536 /dev/null
        write_conf
        live 100G bundle --only lavinmq --allow-intrusive -o "$out/nojournal.tar.zst" -q
        x="$T_TMP/x4"
        mkdir -p "$x"
        tar --zstd -xf "$out/nojournal.tar.zst" -C "$x"
        top=$(ls "$x")
        t_like "$(jq -r '.artifacts[] | select(.path == "collectors/lavinmq/usr1-dump.txt") | [.status, .error] | join(" ")' "$x/$top/manifest.json")" \
                "^skipped USR1 not sent: no journal files in /var/log/journal or /run/log/journal: systemd-journald does not run on this host.*its stdout is /dev/null\. Send it yourself: kill -USR1 $BROKER" \
                "no journal: not sent, and why"
        stop_broker
fi
stop_fake

t_done
