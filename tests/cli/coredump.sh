#!/bin/bash
# coredump collector on real cores: tests/helpers/cd_threads (known nested functions, two
# threads, or 1000) gcore'd here, one zstd-compressed under a fixture
# /var/lib/systemd/coredump with its systemd-coredump journal record (a real .journal
# built by systemd-journal-remote); and a hostile core directory (truncated core, core.123
# that is not ELF, a .zst expanding past the cap, a removed executable, 1000 threads, a
# FIFO, a symlink out of the root, a forged journal record).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

HELPER="$TOP_BUILDDIR/tests/helpers/cd_threads"
MKJ="$TOP_SRCDIR/tests/helpers/mkjournal.sh"
command -v gcore >/dev/null || t_skip_all "gcore not found (Debian package gdb)"
command -v zstd >/dev/null || t_skip_all "zstd not found"
[ -x /lib/systemd/systemd-journal-remote ] || t_skip_all "systemd-journal-remote not found"
[ -x "$HELPER" ] || t_skip_all "$HELPER not built"
T_TIMEOUT=120

# make_core BIN NTHREADS OUT ROOT: runs BIN, gcores it into OUT once every thread is in
# place, kills it; copies every file it mapped into ROOT at the same path (libdwfl reads
# the modules under --root). Sets CORE_PID.
make_core() {
        local bin=$1 n=$2 out=$3 root=$4 ready="$T_TMP/ready.$RANDOM" i f
        "$bin" "$n" >"$ready" 2>/dev/null &
        CORE_PID=$!
        t_at_exit "kill -9 $CORE_PID 2>/dev/null"
        for i in $(seq 1000); do grep -q ready "$ready" 2>/dev/null && break; sleep 0.01; done
        if [ -n "$root" ]; then
                for f in $(awk '$6 ~ /^\// {print $6}' "/proc/$CORE_PID/maps" | sort -u); do
                        [ -f "$f" ] && mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"
                done
        fi
        timeout 120 gcore -o "$out" "$CORE_PID" >/dev/null 2>&1
        kill -9 "$CORE_PID" 2>/dev/null
        wait "$CORE_PID" 2>/dev/null
        mv "$out.$CORE_PID" "$out" 2>/dev/null || : >"$out"
}
# Findings of the coredump collector in $OUT (JSON).
field() { # ID FIELD [SUBJECT-REGEX]
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or ((.subject // "") | test($s)))) | .[$f] // ""][0] // ""'
}
sevs() { # ID [SUBJECT-REGEX]
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "${2:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or ((.subject // "") | test($s)))) | .severity] | join(",")'
}
BOOT=5b3f3a8e2f6d4c1c9a8a0e4b7d6c5a01

# ---- a component crash: zstd core + journal record ----
root=$(fx_root cd-good)
fx_file "$root" proc/sys/kernel/core_pattern "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h"
fx_file "$root" lib/systemd/systemd-coredump ""
fx_file "$root" run/systemd/coredump ""
printf 'root:x:0:0:root:/root:/bin/sh\nsystemd-coredump:x:998:998::/:/usr/sbin/nologin\n' >"$root/etc/passwd"
make_core "$HELPER" 1 "$T_TMP/core.good" "$root"
pid=$CORE_PID
[ -s "$T_TMP/core.good" ] || t_skip_all "gcore could not attach to a process here (ptrace not permitted: kernel.yama.ptrace_scope?)"
now=$(date +%s%6N)
usec=$((now - 120000000))
name="core.cd_threads.0.$BOOT.$pid.$usec.zst"
mkdir -p "$root/var/lib/systemd/coredump"
zstd -q -f "$T_TMP/core.good" -o "$root/var/lib/systemd/coredump/$name"
mkdir -p "$root/var/log/journal/0123456789abcdef0123456789abcdef"
cat >"$T_TMP/cd.export" <<EOF
__REALTIME_TIMESTAMP=NOW-119
_BOOT_ID=$BOOT
_TRANSPORT=journal
_UID=0
_PID=4242
_COMM=systemd-coredum
PRIORITY=2
MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1
MESSAGE=Process $pid (cd_threads) of user 0 dumped core.
COREDUMP_PID=$pid
COREDUMP_UID=0
COREDUMP_SIGNAL=11
COREDUMP_COMM=cd_threads
COREDUMP_EXE=$HELPER
COREDUMP_UNIT=cd_threads.service
COREDUMP_TIMESTAMP=$usec
COREDUMP_FILENAME=/var/lib/systemd/coredump/$name

__REALTIME_TIMESTAMP=NOW-100
_BOOT_ID=$BOOT
_TRANSPORT=journal
_UID=1000
_PID=5555
PRIORITY=2
MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1
MESSAGE=Process 1 (lavinmq) of user 0 dumped core.
COREDUMP_PID=1
COREDUMP_UID=0
COREDUMP_SIGNAL=11
COREDUMP_COMM=lavinmq
COREDUMP_EXE=/usr/bin/lavinmq

__REALTIME_TIMESTAMP=NOW-90000
_BOOT_ID=$BOOT
_TRANSPORT=journal
_UID=0
PRIORITY=2
MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1
MESSAGE=Process 77 (cd_threads) of user 0 dumped core.
COREDUMP_PID=77
COREDUMP_UID=0
COREDUMP_SIGNAL=6
COREDUMP_COMM=cd_threads

EOF
sh "$MKJ" "$T_TMP/cd.export" "$root/var/log/journal/0123456789abcdef0123456789abcdef/system.journal" "$now"
# A record whose core was not kept, with systemd-coredump's own stack trace in a multi-line
# MESSAGE (the export format's binary field form), appended by systemd-journal-remote.
python3 - "$now" "$BOOT" <<'PY' | /lib/systemd/systemd-journal-remote -o "$root/var/log/journal/0123456789abcdef0123456789abcdef/system.journal" - 2>/dev/null
import struct, sys
now, boot = int(sys.argv[1]), sys.argv[2].encode()
msg = (b"Process 88 (otherproc) of user 1000 dumped core.\n\nStack trace of thread 88:\n"
       b"#0  0x00007f0000001234 raise (libc.so.6 + 0x1234)\n#1  0x0000550000001000 other_main (otherproc + 0x1000)\n")
f = lambda k, v: k + b"=" + v + b"\n"
e = (f(b"__REALTIME_TIMESTAMP", str(now - 60000000).encode()) + f(b"_BOOT_ID", boot) + f(b"_TRANSPORT", b"journal") +
     f(b"_UID", b"998") + f(b"PRIORITY", b"2") + f(b"MESSAGE_ID", b"fc2e22bc6ee647b6b90729ab34a250b1") +
     b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n" +
     f(b"COREDUMP_PID", b"88") + f(b"COREDUMP_UID", b"1000") + f(b"COREDUMP_SIGNAL", b"6") + f(b"COREDUMP_COMM", b"otherproc") + b"\n")
sys.stdout.buffer.write(e)
PY
printf '[coredump]\ncomponents = cd_threads\n' >"$T_TMP/cd.conf"

EVODIAG_CONFIG="$T_TMP/cd.conf" t_run check --root "$root" --only coredump --json
t_is "$RC" 2 "component crash: exit 2 (crit)"
t_is "$(sevs coredump.component_crash)" crit "component crash: crit"
sum=$(field coredump.component_crash summary)
t_like "$sum" "^cd_threads \(cd_threads pid $pid\) crashed with SIGSEGV at " "component crash: component, pid and signal from the record"
t_like "$sum" "pause \(libc.so.6\+0x[0-9a-f]+\) <- evo_cd_innermost \(cd_threads\+0x[0-9a-f]+\) <- evo_cd_middle \(cd_threads\+0x" \
        "component crash: the crashing thread's top frames, symbolized from the zstd core"
t_like "$(field coredump.component_crash evidence)" "journal record fc2e22bc6ee647b6b90729ab34a250b1, /var/lib/systemd/coredump/$name" \
        "component crash: evidence names the record and the core"
t_like "$(field coredump.crash summary 'forged')" "^1 coredump record\(s\) not written by systemd-coredump ignored \(written by uid 1000\)" \
        "a record logged by uid 1000 is not believed"
t_unlike "$OUT" "lavinmq pid 1 crashed" "the forged lavinmq crash is not reported"
t_unlike "$OUT" "pid 77" "a record older than the window is left out"
t_is "$(sevs coredump.crash otherproc)" warn "another process's crash (record by the systemd-coredump user): warn"
t_like "$(field coredump.crash summary otherproc)" "^otherproc pid 88 crashed with SIGABRT at .*: raise \(libc.so.6 \+ 0x1234\) <- other_main \(otherproc \+ 0x1000\) \(from systemd-coredump's record\)" \
        "no core kept: the top frames of systemd-coredump's own MESSAGE"
t_is "$(sevs coredump.cores_lost)" ok "systemd-coredump installed and its socket there: cores kept"
t_like "$(sevs coredump.storage)" "^(ok|warn)$" "storage checked (statvfs of the fixture's file system)"

out="$T_TMP/b.tar.zst"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run bundle --root "$root" --only coredump -o "$out" -q
t_is "$RC" 0 "bundle: written"
x="$T_TMP/bx"
mkdir -p "$x"
tar --zstd -xf "$out" -C "$x"
bt=$(cat "$x"/*/collectors/coredump/backtrace-*-pid$pid.txt 2>/dev/null)
t_is "$(printf '%s\n' "$bt" | grep -c '^Stack trace of thread')" 2 "bundle: both threads' backtraces"
# Every thread names the three nested functions, in order.
ok="no thread"
[ -n "$bt" ] && ok=yes
for t in $(printf '%s\n' "$bt" | awk '/^Stack trace of thread/ {print $5}' | tr -d ':'); do
        blk=$(printf '%s\n' "$bt" | awk -v t="$t" '/^Stack trace of thread/ {on = ($5 == t || $5 == t":")} on')
        printf '%s' "$blk" | tr '\n' ' ' | grep -Eq 'evo_cd_innermost .*evo_cd_middle .*evo_cd_outer ' || ok="no: thread $t"
done
t_is "$ok" yes "bundle: every thread's backtrace names evo_cd_innermost, evo_cd_middle, evo_cd_outer"
t_like "$bt" "evo_cd_innermost \(cd_threads \+ 0x[0-9a-f]+\) at .*cd_threads.c:[0-9]+" "bundle: file:line from DWARF"
t_like "$bt" "cd_threads build-id [0-9a-f]{40}" "bundle: the modules' build-ids"
t_like "$(cat "$x"/*/collectors/coredump/crashes.json)" "\"signal\": *11," "bundle: crashes.json metadata"
t_is "$(tar --zstd -tf "$out" | grep -c 'collectors/coredump/core-')" 0 "bundle: no core without --include-cores"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run bundle --root "$root" --only coredump -o "$T_TMP/bc.tar.zst" -q --include-cores
t_is "$(tar --zstd -tf "$T_TMP/bc.tar.zst" | grep -Ec "collectors/coredump/core-[0-9]+-pid$pid.zst")" 1 "--include-cores: the core is stored"
t_is "$(tar --zstd -xOf "$T_TMP/bc.tar.zst" --wildcards "*/collectors/coredump/core-*-pid$pid.zst" | cmp - "$root/var/lib/systemd/coredump/$name" && echo same)" same \
        "--include-cores: stored whole, byte for byte"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run bundle --root "$root" --only coredump -o "$T_TMP/bs.tar.zst" -q --include-cores --artifact-max 64k
t_is "$(tar --zstd -tf "$T_TMP/bs.tar.zst" | grep -Ec "collectors/coredump/core-")" 0 "--include-cores: a core past --artifact-max is not stored cut"
t_like "$(tar --zstd -xOf "$T_TMP/bs.tar.zst" --wildcards '*/manifest.json')" "larger than --artifact-max" "--include-cores: the manifest says why it is missing"

# ---- nothing to look at: skipped, never "no crash" ----
eroot=$(fx_root cd-empty)
fx_file "$eroot" proc/sys/kernel/core_pattern "core"
t_run check --root "$eroot" --only coredump --json
t_is "$(sevs coredump.component_crash),$(sevs coredump.crash),$(sevs coredump.storage)" skipped,skipped,skipped \
        "no journal, no core directory: skipped, not ok"
t_is "$(sevs coredump.cores_lost)" info "core_pattern 'core', no component running: info, not ok"
t_like "$(field coredump.cores_lost summary)" "^kernel.core_pattern 'core' is relative: a crash writes its core into the crashing process's working directory, and no component runs now" \
        "core_pattern 'core', no component running: whether its cwd takes a core is not known, said"
t_like "$(field coredump.cores_lost remedy)" "kernel.core_pattern=/var/crash/core.%e.%p.*systemd-coredump" "relative core_pattern: remedy names an absolute pattern or systemd-coredump"

# ---- a relative core_pattern and no journal (this kind of host): the core directory that is
# there is not where a crash would go, so "no crash" is not claimed ----
rroot=$(fx_root cd-relative)
fx_file "$rroot" proc/sys/kernel/core_pattern "core"
mkdir -p "$rroot/var/lib/systemd/coredump"
t_run check --root "$rroot" --only coredump --json
t_is "$(sevs coredump.component_crash),$(sevs coredump.crash)" info,info "relative core_pattern, no journal: the crash checks are info, not ok"
t_like "$(field coredump.crash summary)" "^no crash found, but not every crash would show: kernel.core_pattern 'core' is relative: cores land in each crashing process's working directory, which is not searched" \
        "relative core_pattern: the blind spot named"
t_like "$(field coredump.component_crash summary)" "working directory, which is searched only for components running now \(none runs here\)" \
        "relative core_pattern: components' working directories searched, none running: said"
t_like "$(field coredump.crash remedy)" "apt-get install systemd-coredump.*core_pattern=/var/crash/core.%e.%p.*\[coredump\] core_dirs" \
        "relative core_pattern: remedy (systemd-coredump, an absolute pattern, core_dirs)"
# [coredump] core_dirs names where cores go: then the absence of a core there is a verdict.
mkdir -p "$rroot/srv/cores"
printf '[coredump]\ncore_dirs = /srv/cores\n' >"$T_TMP/cdirs.conf"
EVODIAG_CONFIG="$T_TMP/cdirs.conf" t_run check --root "$rroot" --only coredump --json
t_is "$(sevs coredump.component_crash),$(sevs coredump.crash)" ok,ok "relative core_pattern with [coredump] core_dirs: ok"
# An absolute pattern into a directory that is not there: no core is written, nothing to list.
aroot=$(fx_root cd-absent-dir)
fx_file "$aroot" proc/sys/kernel/core_pattern "/var/crash/core.%p"
mkdir -p "$aroot/var/lib/systemd/coredump"
t_run check --root "$aroot" --only coredump --json
t_is "$(sevs coredump.cores_lost),$(sevs coredump.crash)" warn,info "core_pattern into an absent directory: cores lost (warn), no crash claimed (info)"
t_like "$(field coredump.cores_lost summary)" "^kernel.core_pattern writes into /var/crash, which does not exist: a crash writes no core" \
        "core_pattern into an absent directory: said"
# A directory per process (%e in the path): not one directory to list.
fx_file "$aroot" proc/sys/kernel/core_pattern "/cores/%e/core"
t_run check --root "$aroot" --only coredump --json
t_like "$(sevs coredump.component_crash):$(field coredump.crash summary)" "^info:.*'/cores/%e/core' writes into a directory that depends on the crashing process, which is not searched" \
        "core_pattern with a per-process directory: info, the blind spot named"
t_like "$(field coredump.cores_lost summary)" "^cores are written to a directory that depends on the crashing process" "per-process directory: not called the working directory"
# A component whose working directory is / and whose user is not root: its cores are lost.
printf 'root:x:0:0:root:/root:/bin/sh\nlavinmq:x:999:999::/var/lib/lavinmq:/usr/sbin/nologin\n' >"$rroot/etc/passwd"
fx_proc "$rroot" 310 lavinmq uid=999
ln -s / "$rroot/proc/310/cwd"
t_run check --root "$rroot" --only coredump --json
t_is "$(sevs coredump.cores_lost 'lavinmq pid 310')" warn "relative core_pattern, component user 999 in /: warn"
t_like "$(field coredump.cores_lost summary 'lavinmq pid 310')" "^lavinmq pid 310 runs in /, which its uid 999 cannot write \(owner uid 0, mode 0755\): with kernel.core_pattern 'core' \(relative\) its crash writes no core" \
        "relative core_pattern: the unwritable working directory named"
t_like "$(field coredump.cores_lost remedy 'lavinmq pid 310')" "WorkingDirectory=" "relative core_pattern: remedy names WorkingDirectory= too"
rm -rf "$rroot/proc/310"
fx_proc "$rroot" 310 lavinmq uid=999
mkdir -p "$rroot/var/lib/lavinmq"
chown 999 "$rroot/var/lib/lavinmq"
ln -s /var/lib/lavinmq "$rroot/proc/310/cwd"
t_run check --root "$rroot" --only coredump --json
t_is "$(sevs coredump.cores_lost)" ok "relative core_pattern, the component's own working directory: ok"
t_is "$(sevs coredump.component_crash)" ok "relative core_pattern: the running component's working directory searched, no core: ok"
t_like "$(field coredump.component_crash evidence)" "/var/lib/lavinmq \(working directory of lavinmq pid 310\)" \
        "relative core_pattern: the component's working directory is named as searched"
t_is "$(sevs coredump.crash)" info "relative core_pattern: other processes' crashes still unseen: info"
# A component's core in its working directory is found (kernel's names only: not its other files).
croot=$(fx_root cd-cwd)
cp -a "$root/." "$croot/" # the helper's modules
rm -rf "$croot/var/lib/systemd/coredump" "$croot/var/log/journal"
fx_file "$croot" proc/sys/kernel/core_pattern "core"
fx_proc "$croot" 320 cd_threads uid=0
mkdir -p "$croot/srv/app"
ln -s /srv/app "$croot/proc/320/cwd"
cp "$T_TMP/core.good" "$croot/srv/app/core.$pid"
printf 'not a core\n' >"$croot/srv/app/core_settings.json"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run check --root "$croot" --only coredump --json
t_is "$(sevs coredump.component_crash)" crit "relative core_pattern: a component's core in its working directory is a crit crash"
t_like "$(field coredump.component_crash summary)" "^cd_threads \(cd_threads pid $pid\) crashed with .*evo_cd_innermost" \
        "relative core_pattern: the core in the working directory symbolized"
t_unlike "$OUT" "core_settings" "a component's working directory: only the kernel's core names are cores"
# Attacks on the working-directory search: a core planted where a user controls it is never a
# component's crash. (1) An impostor: a process with the component's name run by uid 1000
# (not root, not the service user) in its own directory.
aroot=$(fx_root cd-cwd-impostor)
cp -a "$croot/." "$aroot/"
rm -rf "$aroot/proc/320"
fx_proc "$aroot" 320 cd_threads uid=1000
mkdir -p "$aroot/home/mallory"
chown 1000 "$aroot/home/mallory"
rm -f "$aroot/srv/app/core.$pid"
cp "$T_TMP/core.good" "$aroot/home/mallory/core.$pid"
ln -s /home/mallory "$aroot/proc/320/cwd"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run check --root "$aroot" --only coredump --json
t_unlike "$(sevs coredump.component_crash)" crit "attack: an impostor's working directory is not searched: no component crash"
t_unlike "$OUT" "/home/mallory/core" "attack: the impostor's planted core is not read"
# (2) A real component (root) whose working directory is world-writable: anyone could have
# put the core there, so the path rule refuses the directory.
rm -rf "$aroot/proc/320" "$aroot/home/mallory"
fx_proc "$aroot" 320 cd_threads uid=0
mkdir -p "$aroot/tmp"
chmod 0777 "$aroot/tmp"
cp "$T_TMP/core.good" "$aroot/tmp/core.$pid"
ln -s /tmp "$aroot/proc/320/cwd"
EVODIAG_CONFIG="$T_TMP/cd.conf" t_run check --root "$aroot" --only coredump --json
t_unlike "$(sevs coredump.component_crash)" crit "attack: a core in a world-writable working directory is not a component crash"
t_like "$(field coredump.component_crash summary)" "not every crash would show|not searched|refused|writable" \
        "attack: the refused working directory is a blind spot, not ok"

# --journal-dir (the journal collector's option, [journal] dirs): the coredump records are read there too.
if "$EVODIAG" check --help 2>/dev/null | grep -q -- '--journal-dir'; then
        mkdir -p "$T_TMP/jd"
        cp "$root"/var/log/journal/*/system.journal "$T_TMP/jd/"
        EVODIAG_CONFIG="$T_TMP/cd.conf" t_run check --root "$eroot" --journal-dir "$T_TMP/jd" --only coredump --json
        t_like "$(field coredump.component_crash summary)" "^cd_threads \(cd_threads pid $pid\) crashed with SIGSEGV" \
                "--journal-dir: the records of that directory"
else
        t_skip "--journal-dir not in this build (the journal collector's option)"
fi

# ---- watch: a core appearing during the run is a crit event with its top frames ----
wroot=$(fx_root cd-watch)
cp -a "$root/." "$wroot/" # the helper's modules
rm -rf "$wroot/var/lib/systemd/coredump" "$wroot/var/log/journal"
fx_file "$wroot" proc/sys/kernel/core_pattern "/var/crash/core.%p"
mkdir -p "$wroot/var/crash"
cp "$T_TMP/core.good" "$wroot/var/crash/core.old" # there before watch starts: not an event
timeout -k 5 60 "$EVODIAG" watch --root "$wroot" --only coredump --duration 4s --interval 500ms --json \
        >"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
wpid=$!
sleep 1.5
cp "$T_TMP/core.good" "$wroot/var/crash/.tmp" && mv "$wroot/var/crash/.tmp" "$wroot/var/crash/core.$pid"
wait "$wpid"
t_is "$?" 0 "watch: exits 0 after --duration"
ev=$(jq -c 'select(.type == "event")' "$T_TMP/watch.out" 2>/dev/null)
t_is "$(printf '%s\n' "$ev" | grep -c 'coredump\.')" 1 "watch: exactly one crash event (the core there at the start is not one)"
t_like "$ev" '"severity":"crit"' "watch: the new core is a crit event"
t_like "$ev" "cd_threads pid $pid crashed with .*evo_cd_innermost \(cd_threads\+0x" "watch: the event names the process and its top frames"

# watch: a new systemd-coredump record (its core not kept) is a crit event with the record's frames.
jdir="$wroot/var/log/journal/0123456789abcdef0123456789abcdef"
mkdir -p "$jdir"
sh "$MKJ" "$T_TMP/cd.export" "$jdir/system.journal" "$now" # records from before watch starts: no events
timeout -k 5 60 "$EVODIAG" watch --root "$wroot" --only coredump --duration 4s --interval 500ms --json \
        >"$T_TMP/watch2.out" 2>"$T_TMP/watch2.err" &
wpid=$!
sleep 1.5
printf '__REALTIME_TIMESTAMP=%s\n_BOOT_ID=%s\n_TRANSPORT=journal\n_UID=0\nMESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1\nMESSAGE=Process 99 (lavinmq) of user 0 dumped core.\nCOREDUMP_PID=99\nCOREDUMP_UID=0\nCOREDUMP_SIGNAL=6\nCOREDUMP_COMM=lavinmq\n\n' \
        "$(date +%s%6N)" "$BOOT" | /lib/systemd/systemd-journal-remote -o "$jdir/system.journal" - 2>/dev/null
wait "$wpid"
ev=$(jq -c 'select(.type == "event")' "$T_TMP/watch2.out" 2>/dev/null)
t_is "$(printf '%s\n' "$ev" | grep -c 'coredump\.')" 1 "watch: one event for the one new record (older records and the old core are not events)"
t_like "$ev" '"id":"coredump.component_crash".*"severity":"crit".*component lavinmq pid 99 crashed with SIGABRT' \
        "watch: a new record of a component is a crit component_crash event"

# ---- hostile core directory ----
root=$(fx_root cd-hostile)
fx_file "$root" proc/sys/kernel/core_pattern "/var/crash/core.%p"
mkdir -p "$root/var/crash" "$root/var/lib/systemd/coredump"
printf 'this is not an ELF core\n' >"$root/var/crash/core.123"
head -c 200000 "$T_TMP/core.good" >"$root/var/crash/core.trunc"
mkfifo "$root/var/crash/core.fifo"
ln -s /etc/shadow "$root/var/crash/core.link"
head -c 8000000 /dev/zero | zstd -q >"$root/var/lib/systemd/coredump/core.big.0.$BOOT.9.$now.zst"
# A "lavinmq" that uid 1000 ran (the name is in the core and the file name; the uid in the file name).
cp "$FIXTURES"/coredump-base/var/lib/systemd/coredump/core.lavinmq.* "$root/var/lib/systemd/coredump/core.lavinmq.1000.$BOOT.4242.$now"
cp "$HELPER" "$T_TMP/cd_gone"
make_core "$T_TMP/cd_gone" 1 "$root/var/crash/core.gone" ""
rm -f "$T_TMP/cd_gone"
make_core "$HELPER" 1000 "$root/var/crash/core.many" "$root"
fx_proc "$root" 300 lavinmq uid=0
fx_file "$root" etc/systemd/system/cerebellar-norse.service.d/50-core.conf "[Service]
LimitCORE=0"
printf 'old\n' >"$root/var/crash/core.999"
touch -d '3 days ago' "$root/var/crash/core.999"
printf '%-26s%-21s%-21s%-10s\n' "Max core file size" 0 unlimited bytes >>"$root/proc/300/limits"
printf '[coredump]\nmax_core_size = 1M\nbacktraces = 10\nold_cores_warn_size = 1\n' >"$T_TMP/h.conf"
EVODIAG_CONFIG="$T_TMP/h.conf" t_run check --root "$root" --only coredump --json
t_like "$RC" "^[012]$" "hostile: the run ends normally"
t_unlike "$OUT" "coredump.(timeout|crashed)" "hostile: the collector neither times out nor crashes"
t_like "$(field coredump.crash summary 'core.123')" "core.123 is named like a core but is not one: not an ELF file" "core.123 not ELF: said, not a crash"
t_is "$(sevs coredump.crash 'core.123')" info "core.123 not ELF: info"
t_like "$(field coredump.crash summary '^core\.big|^big')" "expands past the 1.0 MiB cap \\(max_core_size" "zst expanding past the cap: refused, said"
t_like "$(field coredump.crash summary 'core.trunc')" "^/var/crash/core.trunc crashed with an unknown signal at .*: no backtrace: cannot read the core's threads" \
        "truncated core: said, named by its file"
t_like "$(field coredump.crash summary '^cd_gone')" "\?\? \(cd_gone\+0x[0-9a-f]+\)" "removed executable: ?? frames with module+offset"
t_unlike "$OUT" "core\.(fifo|link)" "FIFO and symlink out of the root: not cores"
t_is "$(sevs coredump.crash '^lavinmq pid 4242')" warn "a user's own 'lavinmq' crash: warn, not a component crash"
t_like "$(field coredump.crash summary '^lavinmq pid 4242')" "crashed with SIGSEGV at .* \(named like a component, run by another user\)" \
        "impostor crash: said so; the signal read from the core's NT_PRSTATUS"
t_is "$(sevs coredump.component_crash)" ok "hostile: no component crashed"
t_like "$(field coredump.cores_lost summary)" "lavinmq pid 300 runs with RLIMIT_CORE 0 \(ulimit -c 0\): a crash writes no core" \
        "cores_lost: RLIMIT_CORE 0 of a component with a plain core_pattern"
t_like "$(field coredump.cores_lost remedy)" "LimitCORE=.*ulimit -c 2097152.*ulimit -c 0" "cores_lost: LimitCORE/ulimit remedy and the reset"
t_like "$(field coredump.cores_lost summary 'cerebellar')" "^cerebellar-norse.service sets LimitCORE=0: the component's crashes leave no core" \
        "cores_lost: a component unit's LimitCORE=0 drop-in"
t_like "$(field coredump.cores_lost evidence 'cerebellar')" "/etc/systemd/system/cerebellar-norse.service.d/50-core.conf" "cores_lost: names the drop-in"
t_is "$(sevs coredump.storage /var/crash)" warn "storage: cores older than the window past old_cores_warn_size"
t_like "$(field coredump.storage summary /var/crash)" "^1 cores older than the window take 4 B in /var/crash" "storage: counts the old core"
EVODIAG_CONFIG="$T_TMP/h.conf" t_run bundle --root "$root" --only coredump -o "$T_TMP/h.tar.zst" -q
t_like "$RC" "^[01]$" "hostile bundle: written"
mkdir -p "$T_TMP/hx"
tar --zstd -xf "$T_TMP/h.tar.zst" -C "$T_TMP/hx"
many=$(grep -l "threads shown" "$T_TMP"/hx/*/collectors/coredump/backtrace-* 2>/dev/null | head -1)
t_like "$(cat "$many" 2>/dev/null)" "\(64 of 1001 threads shown: at most 64\)" "1000 threads: 64 threads kept, the cut said"
t_is "$(grep -c '^Stack trace of thread' "$many" 2>/dev/null)" 64 "1000 threads: exactly 64 unwound"
t_is "$(grep -c 'evo_cd_innermost' "$many" 2>/dev/null)" 64 "1000 threads: each of the 64 symbolized"

t_done
