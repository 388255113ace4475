#!/bin/bash
# Hostile sysroot corpus: every file `evodiag check --root T` reads, replaced in turn by what a
# local user or a broken host can put there. Each run must finish under its deadline, exit
# 0..3, print valid JSON, report no sanitizer error, and open nothing outside T except what
# evodiag itself needs to run (see ALLOWED below), as strace sees it.
#
# T: the rt-host-good, shm-base, lavinmq-base, evo-base, hugepages-healthy, fds-healthy,
# maps-healthy and coredump-base (a tiny ELF core of lavinmq) fixtures merged, with a broker, an EVO writer and reader and init as processes,
# and an SNN service (its production.toml) with a framealloc snapshot under its cwd.
# Also the vGPU mediator's exports, etab, lock, per-VM files and log.
# The files are those a baseline run opens inside T (strace -f -e trace=openat,openat2).
# Mutations (all on every file, except the two marked sampled, to keep the test near 3 minutes):
#   garbage     4 KiB of fixed pseudo-random bytes (NUL, escapes, invalid UTF-8)
#   bigline     one 100 MB line of digits, no newline (sampled: every 3rd file; one file,
#               hard-linked in place, so the disk holds it once)
#   nonl        the original without its trailing newlines
#   overflow    every digit run replaced by 99999999999999999999999
#   fifo        a FIFO nobody writes
#   socket      a unix socket (sampled: every 2nd file; opened like the FIFO: refused as not regular)
#   shadow      a symlink to /etc/shadow
#   dotdot      a symlink to ../..
#   dir         an empty directory
#   unreadable  mode 000 (root reads it anyway), and the same run again as nobody (strace -u;
#               run by a non-root user, both runs are that user's)
# "Every Nth file" counts in the files' sorted order (index % N == 0): deterministic.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

command -v strace >/dev/null || t_skip_all "strace not installed (Debian package strace)"
strace -qq -e trace=none true 2>/dev/null || t_skip_all "strace cannot trace here (ptrace not permitted)"
command -v python3 >/dev/null || t_skip_all "python3 not installed"

# ---- the root ----
chmod 711 "$T_TMP" # nobody must reach T for the unreadable-as-nobody runs
T=$(fx_root hostile rt-host-good shm-base lavinmq-base evo-base hugepages-healthy fds-healthy maps-healthy coredump-base gpu-fallback)
# The tiny core, renamed into the window (systemd-coredump's names carry the time): parsed.
for c in "$T"/var/lib/systemd/coredump/core.*.1000000; do mv "$c" "${c%.1000000}.$(date +%s%6N)"; done
fx_proc "$T" 1 systemd ppid=0 cmdline=/sbin/init
fx_proc "$T" 4242 lavinmq threads=9 fds=57 maps=300 nofile_soft=1048576 nofile_hard=1048576 \
        cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini"
fx_proc "$T" 4300 evo_hal
fx_file "$T" proc/sys/kernel/perf_event_paranoid 2 # the perf collector's sysctls
fx_file "$T" proc/sys/kernel/kptr_restrict 1
# the mediator collector's files: exports, etab, its lock, both per-VM layouts, its log
fx_file "$T" etc/exports '/var/vgpu *(rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure)'
fx_file "$T" var/lib/nfs/etab "$(printf '/var/vgpu\t*(rw,sync,no_root_squash,no_subtree_check,fsid=1)')"
fx_file "$T" var/vgpu/vm1/request.txt 'A:2:1:VECTOR_ADD'
fx_file "$T" var/vgpu/vm1/response.txt '1:Vector add completed on Pool A (vm=1, prio=2)'
fx_file "$T" var/vgpu/command.txt 1
fx_file "$T" var/vgpu/response.txt '2:Unknown command: 9'
fx_file "$T" var/run/mediator_phase3.lock 4300
fx_file "$T" tmp/mediator.log '[10:00:00] [ERROR] queue full'
fx_file "$T" sys/class/ptp/ptp0/clock_name "e1000e PTP" # the clock collector's PTP clock
fx_proc "$T" 4400 chronyd cmdline="/usr/sbin/chronyd -F 1" # and its time daemon
fx_proc "$T" 4301 evo_cu
cp "$TOP_SRCDIR/tests/fuzz/corpus/evo_header/p2p" "$T/dev/shm/evo_cu_hal" # a real writer's header
truncate -s 4096 "$T/dev/shm/evo_cu_hal"
: >"$T/dev/shm/evo_cu_hal.lock"
chmod 600 "$T/dev/shm/evo_cu_hal" "$T/dev/shm/evo_cu_hal.lock"
ino=$(stat -c %i "$T/dev/shm/evo_cu_hal")
printf '7f3a00000000-7f3a00001000 rw-s 00000000 00:1b %-26s/dev/shm/evo_cu_hal\n' "$ino" >>"$T/proc/4300/maps"
printf '7f3a00000000-7f3a00001000 r--s 00000000 00:1b %-26s/dev/shm/evo_cu_hal\n' "$ino" >>"$T/proc/4301/maps"
printf '1: FLOCK  ADVISORY  WRITE 4300 00:1b:%s 0 EOF\n' "$(stat -c %i "$T/dev/shm/evo_cu_hal.lock")" >"$T/proc/locks"
# The SNN service's config (read as TOML) and an app's framealloc snapshot (found under
# the app's working directory, /proc/PID/cwd).
mkdir -p "$T/etc/cerebellar-norse"
cp "$TOP_SRCDIR/tests/fixtures/snn/deployment.toml" "$T/etc/cerebellar-norse/production.toml"
fx_proc "$T" 4400 cerebellar-norse cmdline=/opt/cerebellar-norse/target/release/cerebellar-norse
mkdir -p "$T/srv/app/target/framealloc"
ln -sfn /srv/app "$T/proc/4400/cwd"
cp "$TOP_SRCDIR/tests/fuzz/corpus/framealloc/snapshot.json" "$T/srv/app/target/framealloc/snapshot_00000001.json"
# The journal collector's inputs: a real journal file (built here) and component log files.
if [ -x /lib/systemd/systemd-journal-remote ]; then
        mkdir -p "$T/var/log/journal/0123456789abcdef0123456789abcdef"
        sh "$TOP_SRCDIR/tests/helpers/mkjournal.sh" "$TOP_SRCDIR/tests/fixtures/journal/host.export" \
                "$T/var/log/journal/0123456789abcdef0123456789abcdef/system.journal"
fi
mkdir -p "$T/var/log/cerebellar-norse" "$T/tmp"
printf '{"level":"ERROR","message":"step failed: CUDA_ERROR_LAUNCH_FAILED"}\n' >"$T/var/log/cerebellar-norse/app.log"
printf '[12:00:01] [ERROR] request.txt: bad command\n' >"$T/tmp/mediator.log"
chmod -R a+rX "$T"
chmod 600 "$T/dev/shm/evo_cu_hal" "$T/dev/shm/evo_cu_hal.lock"
P="$T_TMP/pristine"
cp -a "$T" "$P"

W="$T_TMP/runs"
mkdir -p "$W"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 # LeakSanitizer cannot run under ptrace
STRACE=(strace --seccomp-bpf -f -ff -y -qq -e trace=openat,openat2,execve -e signal=none)
# run ID [strace options...]: one evodiag check of T under strace, deadline 5 s (2 s per
# collector), killed at 20 s
run() {
        local id=$1 t0 t1
        shift
        mkdir -p "$W/$id"
        t0=${EPOCHREALTIME/./}
        timeout -k 2 20 "${STRACE[@]}" -o "$W/$id/trace" "$@" "$EVODIAG" check --root "$T" --json --timeout 5s \
                --collector-timeout 2s >"$W/$id/out" 2>"$W/$id/err"
        echo $? >"$W/$id/rc"
        t1=${EPOCHREALTIME/./}
        echo $(((t1 - t0) / 1000)) >"$W/$id/ms"
}

# ---- what evodiag opens outside T, and why each is allowed ----
# lib:    the shared libraries of the binary (ldd), and /etc/ld.so.cache: the dynamic loader
# curl:   libcurl and its libraries, dlopen()ed on first HTTP use (lib/curl_api.c)
# locale: setlocale(LC_CTYPE, "") in main(): /usr/lib/locale/..., /usr/share/locale/locale.alias,
#         and glibc's charset converters (gconv) it may load
# tz:     /etc/localtime, glibc's localtime() for the times evodiag prints
# cpus:   /sys/devices/system/cpu/{online,isolated,nohz_full}: evodiag moves itself to the
#         housekeeping CPUs of the machine it runs on (lib/housekeeping.c), whatever --root says
# config: $EVODIAG_CONFIG, or the default [/usr/local]/etc/evodiag/evodiag.conf (evodiag's own config)
# self:   /proc/self/..., /proc/thread-self/... and /proc/<pid of evodiag or its children>/...
# null:   /dev/null (children's standard streams)
libs() { ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'; }
{
        libs "$EVODIAG"
        curl=$(ldconfig -p 2>/dev/null | sed -n 's/.*libcurl.so.4 .*=> \(.*\)/\1/p' | head -1)
        [ -n "$curl" ] && { echo "$curl"; libs "$curl"; }
} | sort -u >"$W/allowed-libs"

# ---- baseline: the files read ----
run baseline
base_rc=$(cat "$W/baseline/rc")
if [ "$base_rc" -le 3 ]; then t_pass "baseline run: exit $base_rc"; else t_fail "baseline run: exit $base_rc" "$(cat "$W/baseline/err")"; fi
# Regular files opened without error inside T (the fd's path, as the kernel resolved it).
cat "$W"/baseline/trace.* | sed -n 's/.* = [0-9][0-9]*<\([^>]*\)>$/\1/p' | grep "^$T/" | sed "s|^$T||" | sort -u |
        while read -r f; do [ -f "$P$f" ] && echo "$f"; done >"$W/files"
nfiles=$(wc -l <"$W/files")
if [ "$nfiles" -ge 40 ]; then t_pass "baseline reads $nfiles files inside T"; else t_fail "baseline reads only $nfiles files inside T" "$(cat "$W/files")"; fi

# ---- the mutations ----
python3 -c 'import random, sys; r = random.Random(8); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(4096)) + b"\x1b[2J\x1b]0;PWNED\x07\n\xff\xfe\x00x")' >"$W/garbage"
head -c 100000000 /dev/zero | tr '\0' '9' >"$W/bigline"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$W/socket"

mutate() { # FILE MUTATION: replaces T/FILE
        local f=$T$1 orig=$P$1
        rm -rf "$f"
        case $2 in
        garbage) cp "$W/garbage" "$f" ;;
        bigline) ln "$W/bigline" "$f" ;;
        nonl) perl -0777 -pe 's/\n+\z//' "$orig" >"$f" ;;
        overflow) sed -E 's/[0-9]+/99999999999999999999999/g' "$orig" >"$f" ;;
        fifo) mkfifo "$f" ;;
        socket) ln "$W/socket" "$f" ;;
        shadow) ln -s /etc/shadow "$f" ;;
        dotdot) ln -s ../.. "$f" ;;
        dir) mkdir "$f" ;;
        unreadable | unreadable-nobody) cp -a "$orig" "$f" && chmod 000 "$f" ;;
        esac
}
restore() { rm -rf "$T$1" && cp -a "$P$1" "$T$1"; }

i=0
n=0
while read -r f; do
        muts="garbage nonl overflow fifo shadow dotdot dir unreadable unreadable-nobody"
        [ $((i % 2)) -eq 0 ] && muts="$muts socket"
        [ $((i % 3)) -eq 0 ] && muts="$muts bigline"
        for m in $muts; do
                n=$((n + 1))
                mutate "$f" "$m"
                if [ "$m" = unreadable-nobody ] && [ "$(id -u)" = 0 ]; then run "r$n" -u nobody; else run "r$n"; fi
                restore "$f"
                printf '%s\t%s\t%s\n' "r$n" "$f" "$m" >>"$W/index"
        done
        i=$((i + 1))
done <"$W/files"
rm -f "$W/bigline"

# ---- judge every run: deadline, exit code, JSON, sanitizers, opens outside T ----
while IFS=$'\t' read -r verdict desc detail; do
        if [ "$verdict" = ok ]; then t_pass "$desc"; else t_fail "$desc" "$(printf '%b' "$detail")"; fi
done < <(python3 - "$W" "$T" "${EVODIAG_CONFIG:-}" <<'EOF'
import glob, json, os, re, sys

W, T, config = sys.argv[1:4]
libs = set(open(os.path.join(W, "allowed-libs")).read().split())
ALLOWED_EXACT = libs | {"/etc/ld.so.cache", "/etc/localtime", "/dev/null", config,
                        "/sys/devices/system/cpu/online", "/sys/devices/system/cpu/isolated",
                        "/sys/devices/system/cpu/nohz_full", "/usr/share/locale/locale.alias",
                        "/etc/evodiag/evodiag.conf", "/usr/local/etc/evodiag/evodiag.conf"} - {""}
ALLOWED_EXACT |= {os.path.realpath(p) for p in ALLOWED_EXACT}  # the system's own links (/lib -> usr/lib)
ALLOWED_PREFIX = ("/usr/lib/locale/", "/usr/lib/x86_64-linux-gnu/gconv/", "/proc/self/", "/proc/thread-self/")
CALL = re.compile(r'^(openat2?)\((-?\w+)(?:<([^>]*)>)?, "((?:[^"\\]|\\.)*)".*\) = (-?\d+)(?:<(.*)>)?(?: \w+ \(.*\))?$')

def inside(p):
    return p == T or p.startswith(T + "/")

def allowed(p, pids):
    if p in ALLOWED_EXACT or p.startswith(ALLOWED_PREFIX):
        return True
    m = re.match(r"/proc/(\d+)(/|$)", p)
    return bool(m and m.group(1) in pids)

def outside(run):
    """What a run opened (or tried to) outside T that evodiag does not need: a path asked
    for inside T (or relative to a directory inside T) must resolve inside T; any other
    path asked for, and where it resolved, must be on the allowed list."""
    files = glob.glob(os.path.join(W, run, "trace.*"))
    pids = {f.rsplit(".", 1)[1] for f in files}
    bad = set()
    for f in files:
        for line in open(f, errors="replace"):
            m = CALL.match(line.rstrip("\n"))
            if not m:
                continue
            dirpath, req = m.group(3) or "", m.group(4).encode().decode("unicode_escape")
            res = m.group(6) if int(m.group(5)) >= 0 else None
            res = res if res and res.startswith("/") else None
            # openat2 with RESOLVE_IN_ROOT/RESOLVE_BENEATH resolves even an absolute path under
            # its directory; otherwise an absolute path ignores the directory.
            in_dir = m.group(1) == "openat2" and re.search(r"RESOLVE_(IN_ROOT|BENEATH)", line)
            base = req if req.startswith("/") and not in_dir else os.path.join(dirpath, req.lstrip("/"))
            if inside(base):
                if res and not inside(res):
                    bad.add("%s -> %s" % (base, res))
            elif not allowed(base, pids) or (res and not allowed(res, pids)):
                bad.add(base + (" -> " + res if res and res != base else ""))
    return sorted(bad)

def reject(c):
    raise ValueError("not JSON: " + c)

def judge(run, desc):
    why = []
    d = os.path.join(W, run)
    rc = int(open(os.path.join(d, "rc")).read())
    ms = int(open(os.path.join(d, "ms")).read())
    err = open(os.path.join(d, "err"), "rb").read().decode("utf-8", "replace")
    if rc in (124, 137):
        why.append("killed by the outer 20 s timeout (ran %d ms)" % ms)
    elif rc > 3:
        why.append("exit %d" % rc)
    if ms > 7000:
        why.append("took %d ms, deadline 5 s" % ms)
    try:
        out = json.loads(open(os.path.join(d, "out"), "rb").read().decode("utf-8"), parse_constant=reject)
        if not isinstance(out, dict) or "collectors" not in out:
            why.append("JSON without collectors")
    except (ValueError, UnicodeDecodeError) as e:
        why.append("invalid JSON output: %s" % str(e)[:200])
    for s in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "Assertion"):
        if s in err:
            why.append("sanitizer/assert report: " + err[err.index(s):][:300].replace("\n", " | "))
            break
    bad = outside(run)
    if bad:
        why.append("opened outside the root: " + ", ".join(bad[:5]))
    desc = "%s (exit %d, %d ms)" % (desc, rc, ms)
    if why:
        print("fail\t%s\t%s" % (desc, "\\n".join(why).replace("\t", " ")))
    else:
        print("ok\t%s\t" % desc)

judge("baseline", "baseline: deadline, exit code, JSON, opens only inside the root")
for line in open(os.path.join(W, "index")):
    run, f, m = line.rstrip("\n").split("\t")
    judge(run, "%s as %s" % (f, m))
EOF
)
t_done
