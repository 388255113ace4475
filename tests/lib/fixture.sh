# Builds fake sysroots for `evodiag --root`. Source after tap.sh.
#   fx_root NAME [STATIC_DIR...]  -> prints a fresh root under $T_TMP, seeded with copies of
#                                    tests/fixtures/STATIC_DIR trees (later ones win)
#   fx_file ROOT PATH CONTENT      -> writes ROOT/PATH (creating directories)
#   fx_proc ROOT PID COMM [key=value...]  -> a /proc/PID entry in the kernel's real formats.
# fx_proc keys (defaults in brackets): ppid[1] state[S] uid[0] policy[0] rtprio[0] nice[0]
#   threads[1] rss_kb[1024] vmlck_kb[0] cpus[0-3] cmdline[COMM] nofile_soft[1024]
#   nofile_hard[524288] memlock_soft[8388608] memlock_hard[8388608] rtprio_soft[0] rtprio_hard[0]
#   fds[4] (entries in fd/) maps[20] (lines in maps) processor[0]
fx_root() {
        local name=$1 d
        shift
        d="$T_TMP/root-$name"
        rm -rf "$d"
        mkdir -p "$d/proc" "$d/sys" "$d/etc" "$d/dev/shm"
        for s in "$@"; do cp -a "$FIXTURES/$s/." "$d/"; done
        printf '%s\n' "$d"
}
fx_file() {
        mkdir -p "$(dirname "$1/$2")"
        printf '%s\n' "$3" >"$1/$2"
}
fx_lim() { # soft hard -> kernel /proc/PID/limits value columns
        local s=$1 h=$2
        [ "$s" = -1 ] && s=unlimited
        [ "$h" = -1 ] && h=unlimited
        printf '%-21s%-21s' "$s" "$h"
}
fx_proc() {
        local root=$1 pid=$2 comm=$3
        shift 3
        local ppid=1 state=S uid=0 policy=0 rtprio=0 nice=0 threads=1 rss_kb=1024 vmlck_kb=0 cpus=0-3
        local cmdline=$comm nofile_soft=1024 nofile_hard=524288 memlock_soft=8388608 memlock_hard=8388608
        local rtprio_soft=0 rtprio_hard=0 fds=4 maps=20 processor=0 flags= kv
        for kv in "$@"; do
                case ${kv%%=*} in
                ppid | state | uid | policy | rtprio | nice | threads | rss_kb | vmlck_kb | cpus | cmdline | \
                        nofile_soft | nofile_hard | memlock_soft | memlock_hard | rtprio_soft | rtprio_hard | fds | maps | processor | flags)
                        eval "${kv%%=*}=\${kv#*=}" ;;
                *) echo "fx_proc: unknown key ${kv%%=*}" >&2; return 1 ;;
                esac
        done
        # stat field 9, as the kernel sets it: PF_KTHREAD (0x200000) for kthreadd and its children
        # (a real kthreadd shows 2129984), PF_RANDOMIZE|PF_FORKNOEXEC-like 4194560 for a user process.
        if [ -z "$flags" ]; then
                if [ "$pid" = 2 ] || [ "$ppid" = 2 ]; then flags=2129984; else flags=4194560; fi
        fi
        local d="$root/proc/$pid" prio=$((20 + nice)) i
        [ "$policy" != 0 ] && prio=$((-1 - rtprio))
        mkdir -p "$d/fd"
        # stat: 52 fields as in proc(5); 3 state 4 ppid 18 priority 19 nice 20 threads 24 rss 39 cpu 40 rt_priority 41 policy
        printf '%s (%s) %s %s %s %s 0 -1 %s 100 0 0 0 10 5 0 0 %s %s %s 0 1000 10000000 %s 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 %s %s %s 0 0 0 0 0 0 0 0 0 0 0\n' \
                "$pid" "$comm" "$state" "$ppid" "$pid" "$pid" "$flags" "$prio" "$nice" "$threads" $((rss_kb / 4)) "$processor" "$rtprio" "$policy" >"$d/stat"
        cat >"$d/status" <<EOS
Name:	$comm
Umask:	0022
State:	$state (sleeping)
Tgid:	$pid
Pid:	$pid
PPid:	$ppid
Uid:	$uid	$uid	$uid	$uid
Gid:	$uid	$uid	$uid	$uid
FDSize:	64
VmPeak:	   20000 kB
VmSize:	   20000 kB
VmLck:	$(printf '%8s' "$vmlck_kb") kB
VmRSS:	$(printf '%8s' "$rss_kb") kB
VmSwap:	       0 kB
Threads:	$threads
Cpus_allowed_list:	$cpus
voluntary_ctxt_switches:	100
nonvoluntary_ctxt_switches:	5
EOS
        printf '%s' "$cmdline" | tr ' ' '\0' >"$d/cmdline"
        {
                printf '%-26s%-21s%-21s%-10s\n' "Limit" "Soft Limit" "Hard Limit" "Units"
                printf '%-26s%s%-10s\n' "Max cpu time" "$(fx_lim -1 -1)" "seconds"
                printf '%-26s%s%-10s\n' "Max open files" "$(fx_lim "$nofile_soft" "$nofile_hard")" "files"
                printf '%-26s%s%-10s\n' "Max locked memory" "$(fx_lim "$memlock_soft" "$memlock_hard")" "bytes"
                printf '%-26s%s%-10s\n' "Max realtime priority" "$(fx_lim "$rtprio_soft" "$rtprio_hard")" ""
        } >"$d/limits"
        i=0
        while [ "$i" -lt "$fds" ]; do : >"$d/fd/$i"; i=$((i + 1)); done
        awk -v n="$maps" 'BEGIN { for (i = 0; i < n; i++) printf "%08x-%08x r--p 00000000 00:00 0\n", i * 4096, (i + 1) * 4096 }' >"$d/maps"
}
