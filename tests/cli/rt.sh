#!/bin/bash
# rt collector on fixture sysroots (well-tuned RT host, mis-tuned RT host, plain host,
# broken inputs) and once live with an RT task the test starts itself.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

# Findings of one collector in $OUT: "id=severity" lines, in report order.
pairs() { printf '%s' "$OUT" | jq -r --arg c "$1" '.collectors[] | select(.name == $c) | .findings[] | "\(.id)=\(.severity)"'; }
count() { printf '%s' "$OUT" | jq -r --arg c "$1" '[.collectors[] | select(.name == $c) | .findings[]] | length'; }
field() { # ID FIELD [SUBJECT]: that field of the (first) finding
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or .subject == $s)) | .[$f] // ""][0] // ""'
}
subjects() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }

# Kernel threads every host has: FIFO ones among them must never count as RT tasks.
kthreads() {
        fx_proc "$1" 2 kthreadd ppid=0 cmdline=
        fx_proc "$1" 18 migration/0 ppid=2 cmdline= policy=1 rtprio=99 cpus=0
        fx_proc "$1" 21 migration/1 ppid=2 cmdline= policy=1 rtprio=99 cpus=1
        fx_proc "$1" 50 irq/24-ACPI:Ged ppid=2 cmdline= policy=1 rtprio=50 cpus=0-1
        fx_proc "$1" 60 ksoftirqd/0 ppid=2 cmdline= cpus=0
}

# The well-tuned host's processes: an RT task pinned to CPU 2 with memory locked, and a
# service whose RT thread (tid 402, FIFO 70, CPU 3) sits next to ordinary threads.
good_procs() {
        local r=$1 scratch="$T_TMP/threads-$RANDOM"
        kthreads "$r"
        fx_proc "$r" 1 systemd ppid=0 cpus=0-1 cmdline="/sbin/init"
        fx_proc "$r" 300 evo_control_unit policy=1 rtprio=80 cpus=2 vmlck_kb=65536 memlock_soft=-1 memlock_hard=-1 \
                rtprio_soft=95 rtprio_hard=95 cmdline="/usr/bin/evo_control_unit --cpu 2"
        fx_proc "$r" 310 lavinmq cpus=0-1 uid=112
        fx_proc "$r" 320 irqbalance cpus=0-1 cmdline="/usr/sbin/irqbalance --foreground"
        fx_proc "$r" 400 evo_writer threads=3 cpus=0-1 vmlck_kb=4096 uid=1000 memlock_soft=-1 memlock_hard=-1
        mkdir -p "$r/proc/400/task"
        fx_proc "$scratch" 400 evo_writer cpus=0-1
        fx_proc "$scratch" 401 tokio-worker cpus=0-1
        fx_proc "$scratch" 402 cycle policy=1 rtprio=70 cpus=3
        mv "$scratch/proc/400" "$scratch/proc/401" "$scratch/proc/402" "$r/proc/400/task/"
}

# ---- well-tuned RT host ----
root=$(fx_root good rt-host-good)
good_procs "$root"
t_run check --root "$root" --only rt --json
t_is "$RC" 0 "good RT host: exit 0"
t_is "$(pairs rt | tr '\n' ' ')" "rt.kernel=ok rt.throttling=ok rt.tasks=ok rt.timer_migration=ok rt.governor=ok rt.nmi_watchdog=ok " \
        "good RT host: every rt check ok, in order"
t_is "$(t_ids_with warn)$(t_ids_with crit)$(t_ids_with unknown)" "" "good RT host: no warn, crit or unknown"
t_like "$(field rt.kernel summary)" '^PREEMPT_RT kernel, preemption model full$' "model from /sys/kernel/debug/sched/preempt"
t_like "$(field rt.kernel actual)" 'uname -v: PREEMPT_RT; /sys/kernel/realtime: 1; CONFIG_PREEMPT_RT=y \(/boot/config-6.1.0-41-rt-amd64\)' \
        "all three RT signals reported, config from /boot/config-<release>"
t_like "$(field rt.tasks summary)" '^2 RT tasks, memory locked$' "2 user RT tasks (kernel threads excluded), both locked"
t_like "$(field rt.tasks actual)" 'pid 300 evo_control_unit: SCHED_FIFO 80, CPUs 2, VmLck 64.0 MiB, RLIMIT_MEMLOCK unlimited/unlimited, RLIMIT_RTPRIO 95/95' \
        "RT task facts: policy, priority, affinity, VmLck, limits"
t_like "$(field rt.tasks actual)" 'pid 400 evo_writer tid 402 cycle: SCHED_FIFO 70, CPUs 3' "RT thread inside a non-RT process found"
t_like "$(field rt.governor summary)" 'all 4 CPUs with cpufreq use the performance governor' "governor performance on all 4 CPUs"

# ---- mis-tuned RT host ----
root=$(fx_root mistuned rt-host-good rt-host-mistuned)
good_procs "$root"
rm "$root/sys/kernel/realtime" "$root/sys/kernel/debug/sched/preempt" "$root/boot/config-6.1.0-41-rt-amd64"
gzip -n -c "$FIXTURES/rt-host-good/boot/config-6.1.0-41-rt-amd64" >"$root/proc/config.gz"
# No mlockall; and a non-root RT task that has locked all its RLIMIT_MEMLOCK allows.
fx_proc "$root" 300 evo_control_unit policy=1 rtprio=80 cpus=2 vmlck_kb=0 uid=1000 memlock_soft=65536 memlock_hard=65536
fx_proc "$root" 301 evo_hal policy=2 rtprio=60 cpus=3 vmlck_kb=8192 uid=1000 memlock_soft=8388608 memlock_hard=8388608
t_run check --root "$root" --only rt --json
t_is "$RC" 1 "mis-tuned RT host (rt only): exit 1"
t_is "$(pairs rt | tr '\n' ' ')" "rt.kernel=ok rt.throttling=warn rt.tasks=warn rt.tasks=warn rt.timer_migration=info rt.governor=warn rt.nmi_watchdog=info " \
        "mis-tuned: throttling, 2 tasks, governor warn; timer migration, NMI watchdog info"
t_like "$(field rt.kernel actual)" 'CONFIG_PREEMPT_RT=y \(/proc/config.gz\); preemption model full \(kernel config\)' \
        "CONFIG_PREEMPT_RT=y read from a real /proc/config.gz"
t_is "$(subjects rt.tasks)" "pid 300 evo_control_unit,pid 301 evo_hal" "one rt.tasks finding per task, by subject"
t_like "$(field rt.tasks summary 'pid 300 evo_control_unit')" 'no memory locked' "pid 300: no memory locked"
t_like "$(field rt.tasks remedy 'pid 300 evo_control_unit')" 'mlockall\(MCL_CURRENT\|MCL_FUTURE\).*LimitMEMLOCK=infinity' \
        "non-root task with a finite limit: remedy names mlockall and the limit"
t_like "$(field rt.tasks summary 'pid 301 evo_hal')" 'SCHED_RR 60\): 8.0 MiB locked, at RLIMIT_MEMLOCK 8.0 MiB' "pid 301: at RLIMIT_MEMLOCK"
t_like "$(field rt.throttling remedy)" 'sysctl -w kernel.sched_rt_runtime_us=-1 .*/etc/sysctl.d/.*trade-off' "throttling remedy persists and names the trade-off"
t_like "$(field rt.governor summary)" '^2 of 4 CPUs not on the performance governor \(powersave on 2-3\)$' "governor: which CPUs, which governor"
t_run check --root "$root" --only rt
t_like "$OUT" '  WARN     rt\.throttling  RT throttling on: RT tasks get at most 950000 of every 1000000 us \(95%\)' "text: throttling line"
t_like "$OUT" 'remedy: +sysctl -w kernel.sched_rt_runtime_us=-1' "text: remedy under the warning"
t_like "$OUT" '  INFO     rt\.nmi_watchdog  kernel.nmi_watchdog = 1' "text: NMI watchdog info"

# RT throttling that leaves RT tasks nothing is crit.
fx_file "$root" proc/sys/kernel/sched_rt_runtime_us 0
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.throttling)/$RC" "crit/2" "sched_rt_runtime_us 0 with RT tasks: crit, exit 2"

# ---- plain non-RT host ----
root=$(fx_root plain rt-host-plain)
kthreads "$root"
fx_proc "$root" 1 systemd ppid=0 cpus=0-1
fx_proc "$root" 500 sshd cpus=0-1
t_run check --root "$root" --only rt --json
t_is "$RC" 0 "plain host: exit 0"
t_is "$(count rt)" 1 "plain host: exactly one rt finding"
t_is "$(pairs rt)" "rt.kernel=info" "plain host: it is rt.kernel info"
t_is "$(field rt.kernel summary)" "not a PREEMPT_RT kernel (PREEMPT_DYNAMIC, preemption model voluntary); no RT tasks" \
        "plain host: says what the kernel is, FIFO kernel threads not counted"
t_run check --root "$root" --only rt
t_like "$OUT" '  INFO     rt\.kernel  not a PREEMPT_RT kernel \(PREEMPT_DYNAMIC' "plain host: the text line"
t_unlike "$OUT" 'WARN|CRIT|rt\.(throttling|governor|tasks)' "plain host: no page of warnings"

# preempt= on the command line chooses the model of a PREEMPT_DYNAMIC kernel.
fx_file "$root" proc/cmdline "BOOT_IMAGE=/boot/vmlinuz ro preempt=full"
t_run check --root "$root" --only rt --json
t_like "$(field rt.kernel actual)" 'preemption model full \(preempt= on the kernel command line\)' "model from preempt="

# ---- an RT task on a kernel that is not PREEMPT_RT ----
fx_proc "$root" 600 evo_control_unit policy=1 rtprio=80 cpus=1 vmlck_kb=0 uid=1000
t_run check --root "$root" --only rt --json
t_is "$RC" 1 "RT task on a non-RT kernel: exit 1"
t_is "$(t_sev rt.kernel)" warn "RT task on a non-RT kernel: rt.kernel warn"
t_like "$(field rt.kernel summary)" '^1 RT task on a kernel that is not PREEMPT_RT' "says how many RT tasks"
t_like "$(field rt.kernel remedy)" 'apt install linux-image-rt-amd64' "remedy from the EVO guide"
t_is "$(t_sev rt.tasks)" warn "and the task itself lacks locked memory"
t_is "$(t_sev rt.throttling)" warn "throttling on matters now"
t_is "$(field rt.governor summary)" "cpufreq not present (clock not scaled by the kernel)" "no cpufreq: ok, not present"
t_is "$(t_sev rt.governor)" ok "no cpufreq is not a problem"

# The operator can exclude a task by name.
printf '[rt]\nignore_tasks = sshd, evo_control_unit\n' >"$T_TMP/ignore.conf"
EVODIAG_CONFIG="$T_TMP/ignore.conf" t_run check --root "$root" --only rt --json
t_is "$(pairs rt)" "rt.kernel=info" "ignore_tasks: the ignored RT task no longer counts"

# ---- the signals one by one ----
root=$(fx_root gzonly)
gzip -n -c "$FIXTURES/rt-host-good/boot/config-6.1.0-41-rt-amd64" >"$root/proc/config.gz"
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.kernel)" ok "only /proc/config.gz with CONFIG_PREEMPT_RT=y: RT kernel"
gzip -n -c "$FIXTURES/rt-host-plain/boot/config-6.1.0-41-amd64" >"$root/proc/config.gz"
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.kernel)/$(count rt)" "info/1" "only a non-RT /proc/config.gz: not RT, one info"
gzip -n -c "$FIXTURES/rt-host-good/boot/config-6.1.0-41-rt-amd64" | head -c 150 >"$root/proc/config.gz"
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.kernel)/$RC" "unknown/3" "truncated config.gz and nothing else: unknown, exit 3"
printf 'CONFIG_PREEMPT_RT=y\n' >"$root/proc/config.gz"
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.kernel)" unknown "config.gz that is not gzip is not believed"
fx_file "$root" sys/kernel/realtime 1
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.kernel)" ok "/sys/kernel/realtime = 1 alone: RT kernel"

root=$(fx_root empty)
t_run check --root "$root" --only rt --json
t_is "$(pairs rt | tr '\n' ' ')" "rt.kernel=unknown " "empty root: one unknown, no crash"
t_like "$(field rt.kernel summary)" 'cannot tell whether the kernel is PREEMPT_RT' "empty root: says why"

# ---- malformed inputs on the good host ----
root=$(fx_root broken rt-host-good)
good_procs "$root"
fx_file "$root" proc/sys/kernel/sched_rt_runtime_us "lots"
fx_file "$root" proc/sys/kernel/version "$(head -c 3000 /dev/urandom | tr -d '\0')"
fx_file "$root" sys/kernel/debug/sched/preempt "none voluntary full"
fx_file "$root" sys/devices/system/cpu/cpu1/cpufreq/scaling_governor ""
printf 'garbage\0\0\0' >"$root/proc/400/task/401/stat"
printf '300 (evo_control_unit' >"$root/proc/300/stat"
t_run check --root "$root" --only rt --json
t_is "$(t_sev rt.throttling)" unknown "unparsable sched_rt_runtime_us: unknown"
t_is "$(t_sev rt.kernel)" ok "binary version string: the other signals still decide"
t_like "$(field rt.kernel actual)" 'preemption model full \(kernel config\)' "debugfs without a marked model: falls back to the config"
t_like "$(field rt.governor summary)" '1 of 4 CPUs not on the performance governor \(\(empty\) on 1\)' "empty governor file counted, named"
t_like "$(field rt.tasks summary)" '^1 RT task, memory locked$' "truncated stat: that process skipped, thread still found"
t_is "$(t_ids_with crit)" "" "malformed input: no crit"

# ---- live: an RT task this test starts ----
if [ "$(id -u)" != 0 ] || ! command -v chrt >/dev/null; then
        t_skip "live RT task: needs root and chrt"
else
        chrt -f 10 sleep 300 &
        pid=$!
        # t_at_exit, without its leading "; " (an eval syntax error when it is the first one)
        T_CLEANUP="${T_CLEANUP:+$T_CLEANUP; }kill $pid 2>/dev/null"
        for _ in $(seq 50); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = sleep ] && break; sleep 0.1; done
        if [ "$(chrt -p $pid 2>/dev/null | grep -c SCHED_FIFO)" = 0 ]; then
                t_skip "live RT task: chrt -f did not take effect here"
        else
                # (generous deadlines: a starved host can take seconds to read every task's sched)
                T_TIMEOUT=120 t_run check --only rt --json --collector-timeout 60s --timeout 100s
                t_is "$(field rt.tasks severity "pid $pid sleep")" warn "live: our FIFO sleep is found, without locked memory"
                [ "$(field rt.tasks severity "pid $pid sleep")" = warn ] || t_diag_run
                t_like "$(field rt.tasks actual "pid $pid sleep")" 'SCHED_FIFO 10' "live: its policy and priority"
                if uname -v | grep -q PREEMPT_RT; then want=ok; else want=warn; fi
                t_is "$(t_sev rt.kernel)" "$want" "live: rt.kernel $want for this kernel with an RT task"
        fi
        kill $pid 2>/dev/null
        wait $pid 2>/dev/null
        T_TIMEOUT=120 t_run check --only rt --json --collector-timeout 60s --timeout 100s
        t_unlike "$(subjects rt.tasks)" "pid $pid " "live: gone once the task ends"
fi
t_done
