#!/bin/bash
# isolation collector on fixture sysroots: the well-tuned RT host, the mis-tuned one
# (with rt: exit 2), a plain host, variants of irqbalance and the command line, and
# broken inputs; live only where this machine has no isolation (one line expected).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

pairs() { printf '%s' "$OUT" | jq -r --arg c "$1" '.collectors[] | select(.name == $c) | .findings[] | "\(.id)=\(.severity)"'; }
count() { printf '%s' "$OUT" | jq -r --arg c "$1" '[.collectors[] | select(.name == $c) | .findings[]] | length'; }
field() { # ID FIELD [SUBJECT]
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" --arg s "${3:-}" \
                '[.collectors[].findings[] | select(.id == $id and ($s == "" or .subject == $s)) | .[$f] // ""][0] // ""'
}
subjects() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }

procs() { # the well-tuned host's processes: RT task on CPU 2, everything else on 0-1
        local r=$1
        fx_proc "$r" 1 systemd ppid=0 cpus=0-1 cmdline=/sbin/init
        fx_proc "$r" 2 kthreadd ppid=0 cmdline=
        fx_proc "$r" 18 migration/2 ppid=2 cmdline= policy=1 rtprio=99 cpus=2
        fx_proc "$r" 30 ksoftirqd/2 ppid=2 cmdline= cpus=2
        fx_proc "$r" 40 kworker/3:1 ppid=2 cmdline= cpus=3
        fx_proc "$r" 300 evo_control_unit policy=1 rtprio=80 cpus=2 vmlck_kb=65536
        fx_proc "$r" 310 lavinmq cpus=0-1 uid=112
        fx_proc "$r" 320 irqbalance cpus=0-1 cmdline="/usr/sbin/irqbalance --foreground"
}

# ---- well-tuned RT host ----
root=$(fx_root good rt-host-good)
procs "$root"
t_run check --root "$root" --only isolation --json
t_is "$RC" 0 "good host: exit 0"
t_is "$(pairs isolation | tr '\n' ' ')" \
        "isolation.cmdline=ok isolation.effective=ok isolation.irq=ok isolation.irqbalance=ok isolation.tasks=ok isolation.workqueue=ok " \
        "good host: every isolation check ok, once each"
t_is "$(t_ids_with warn)$(t_ids_with crit)$(t_ids_with unknown)" "" "good host: no warn, crit or unknown"
t_is "$(field isolation.cmdline summary)" "isolated CPUs 2-3: isolcpus=2-3 (domain) nohz_full=2-3 rcu_nocbs=2-3" "cmdline: the parameters, flags spelled out"
t_is "$(field isolation.effective summary)" "in effect as requested: isolated 2-3, nohz_full 2-3" "effective matches"
t_like "$(field isolation.irq actual)" '^1 IRQs with counts on isolated CPUs, none still allowed there$' \
        "IRQ 41 fired on CPU 2 at boot but is on 0-1 now: not a problem"
t_like "$(field isolation.irqbalance summary)" 'bans CPUs 2-3 \(IRQBALANCE_BANNED_CPULIST\)' "irqbalance banned list from /etc/default/irqbalance"
t_like "$(field isolation.tasks summary)" '^no non-RT task allowed on isolated CPUs 2-3 \(3 checked\)$' \
        "tasks: RT task and kernel threads on isolated CPUs are not counted"
t_is "$(field isolation.workqueue summary)" "unbound workqueues kept on CPUs 0-1 (cpumask 3)" "workqueue mask 3"

# With rt too: the spec's well-tuned host has no warning at all.
t_run check --root "$root" --only rt,isolation --json
t_is "$RC/$(t_ids_with warn)$(t_ids_with crit)" "0/" "good host, rt + isolation: exit 0, nothing to warn about"

# ---- mis-tuned RT host ----
root=$(fx_root mistuned rt-host-good rt-host-mistuned)
procs "$root"
rm "$root/sys/devices/system/cpu/nohz_full" # a kernel without CONFIG_NO_HZ_FULL
fx_proc "$root" 300 evo_control_unit policy=1 rtprio=80 cpus=2 vmlck_kb=0
fx_proc "$root" 310 lavinmq cpus=0-3 uid=112
fx_proc "$root" 330 bash cpus=2
t_run check --root "$root" --only isolation --json
t_is "$RC" 2 "mis-tuned host: exit 2"
t_is "$(pairs isolation | tr '\n' ' ')" \
        "isolation.cmdline=ok isolation.effective=crit isolation.effective=crit isolation.irq=warn isolation.irq=warn isolation.irqbalance=warn isolation.tasks=warn isolation.tasks=warn isolation.workqueue=warn " \
        "mis-tuned: effective crit x2, 2 IRQs, irqbalance, 2 tasks, workqueue warn"
t_is "$(field isolation.effective summary isolated)" \
        "isolcpus=2-3 on the command line, but /sys/devices/system/cpu/isolated is empty: CPUs 2-3 are not isolated" \
        "isolcpus=2-3 but isolated empty: crit"
t_like "$(field isolation.effective summary nohz_full)" 'no nohz_full support \(CONFIG_NO_HZ_FULL not set\)' "no nohz_full file: crit, says why"
t_is "$(subjects isolation.irq)" "IRQ 41 virtio3-rx,IRQ 43 virtio3-event" "one finding per IRQ, subject IRQ N <action>; 42 (moved) not"
t_is "$(field isolation.irq remedy 'IRQ 41 virtio3-rx')" "echo 0-1 > /proc/irq/41/smp_affinity_list" "IRQ remedy: the housekeeping list"
t_like "$(field isolation.irq actual 'IRQ 41 virtio3-rx')" '^smp_affinity_list 0-3; 812 interrupts on isolated CPUs 2 since boot$' "IRQ 41: affinity and counts"
t_like "$(field isolation.irq actual 'IRQ 43 virtio3-event')" '^smp_affinity 2-3; 19 interrupts on isolated CPUs 3' "IRQ 43: hex smp_affinity when there is no list"
t_like "$(field isolation.irqbalance summary)" 'runs without IRQBALANCE_BANNED_CPULIST: it may move IRQs onto isolated CPUs 2-3' "irqbalance without banned CPUs"
t_like "$(field isolation.irqbalance remedy)" 'systemctl stop irqbalance.*IRQBALANCE_BANNED_CPULIST=2-3' "irqbalance remedy from the guide"
t_is "$(subjects isolation.tasks)" "pid 330 bash,pid 310 lavinmq" "tasks entirely on isolated CPUs first; RT task and kthreads not"
t_like "$(field isolation.tasks summary 'pid 330 bash')" 'runs only on isolated CPUs' "bash: only on isolated CPUs"
t_like "$(field isolation.tasks remedy 'pid 310 lavinmq')" '^taskset -apc 0-1 310' "task remedy: taskset to housekeeping"
t_is "$(field isolation.workqueue remedy)" "echo 3 > /sys/devices/virtual/workqueue/cpumask   # CPUs 0-1; at every boot" "workqueue remedy: housekeeping mask"
t_run check --root "$root" --only isolation
t_like "$OUT" "  CRIT     isolation\.effective  isolcpus=2-3 on the command line, but /sys/devices/system/cpu/isolated is empty" "text: the crit line"
t_like "$OUT" '  WARN     isolation\.irq  IRQ 41 virtio3-rx: affinity 0-3 includes isolated CPUs, fired 812 times on 2' "text: the IRQ line"
t_like "$OUT" 'exit 2$' "text: summary says exit 2"
t_run check --root "$root" --only rt,isolation --json
t_is "$RC" 2 "mis-tuned host, rt + isolation: exit 2"
t_is "$(t_sev rt.throttling)" warn "mis-tuned host, rt + isolation: throttling on with an RT task"

# ---- plain host: no isolation ----
root=$(fx_root plain rt-host-plain)
fx_proc "$root" 1 systemd ppid=0 cpus=0-1
fx_proc "$root" 320 irqbalance cpus=0-1
t_run check --root "$root" --only isolation --json
t_is "$RC" 0 "plain host: exit 0"
t_is "$(pairs isolation)" "isolation.cmdline=info" "plain host: exactly one finding, info (irqbalance irrelevant)"
t_like "$(field isolation.cmdline summary)" '^no CPU isolation configured' "plain host: says so"
t_run check --root "$root" --only rt,isolation --json
t_is "$(count rt)/$(count isolation)/$RC" "1/1/0" "plain host, rt + isolation: one line each, exit 0"

# ---- irqbalance variants on the good host ----
root=$(fx_root irqb rt-host-good)
procs "$root"
fx_file "$root" etc/default/irqbalance "#IRQBALANCE_BANNED_CPULIST=2-3"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" info "no banned list, but the kernel's isolated/nohz_full cover all: irqbalance bans them itself (info)"
fx_file "$root" etc/default/irqbalance 'export IRQBALANCE_BANNED_CPUS="0000000c"'
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" ok "hex IRQBALANCE_BANNED_CPUS c covers 2-3: ok"
fx_file "$root" etc/default/irqbalance "IRQBALANCE_BANNED_CPULIST=3"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" warn "banned 3 only: warn"
t_like "$(field isolation.irqbalance summary)" 'bans only CPUs 3 \(IRQBALANCE_BANNED_CPULIST\), not all isolated CPUs 2-3' "says what is missing"
fx_file "$root" etc/default/irqbalance "IRQBALANCE_BANNED_CPULIST=two-three"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" warn "unparsable banned list: warn"
# The running daemon's environment wins over the file (file changed, no restart).
fx_file "$root" etc/default/irqbalance "IRQBALANCE_BANNED_CPULIST=2-3"
printf 'PATH=/usr/bin\0IRQBALANCE_ARGS=\0IRQBALANCE_BANNED_CPULIST=2\0' >"$root/proc/320/environ"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" warn "environ (banned 2) wins over the file (2-3)"
t_like "$(field isolation.irqbalance actual)" 'from /proc/320/environ' "names the environ as the source"
rm -r "$root/proc/320"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irqbalance)" ok "irqbalance not running: ok"
t_is "$(field isolation.irqbalance summary)" "irqbalance not running" "says not running"

# ---- command-line variants ----
root=$(fx_root cmd rt-host-good)
procs "$root"
fx_file "$root" proc/cmdline "ro quiet isolcpus=2-7 nohz_full=2-7 rcu_nocbs=2-7"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.effective)/$RC" "warn,warn/1" "CPUs 4-7 do not exist: warn per file, not crit"
t_like "$(field isolation.effective summary isolated)" 'names CPUs 4-7 this host does not have \(possible: 0-3\)' "names the missing CPUs"
fx_file "$root" proc/cmdline "ro quiet isolcpus=nohz,managed_irq,2-3 irqaffinity=0-2"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.cmdline)" warn "irqaffinity= naming an isolated CPU: warn"
t_like "$(field isolation.cmdline summary)" 'irqaffinity= includes isolated CPUs 2: new IRQs go there' "says which CPU"
t_unlike "$(field isolation.cmdline summary)" 'RCU callbacks|scheduler tick' "isolcpus=nohz gives tick and RCU isolation like nohz_full="
t_is "$(t_sev isolation.effective)" "info" "isolcpus without domain: kernel's isolated 2-3 is more than asked (info)"
fx_file "$root" proc/cmdline "ro quiet isolcpus=2-3"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.cmdline)" info "isolcpus alone: info (tick and RCU still there)"
t_like "$(field isolation.cmdline summary)" 'CPUs 2-3 still take the scheduler tick.*RCU callbacks still run on CPUs 2-3' "says what is missing"
t_like "$(field isolation.cmdline remedy)" 'isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0-1' "remedy: the guide's full set"
fx_file "$root" proc/cmdline "ro quiet isolcpus=lots nohz_full=2-3 rcu_nocbs"
t_run check --root "$root" --only isolation --json
t_like "$(field isolation.cmdline summary)" '^isolcpus=lots does not parse: the kernel ignores it' "bad isolcpus value: warn, named"
t_is "$(t_sev isolation.cmdline)" warn "bad isolcpus: warn"

# Isolation in effect that the command line does not ask for (e.g. a bundle from another boot).
fx_file "$root" proc/cmdline "ro quiet"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.cmdline)/$(t_sev isolation.effective)" "info/info,info" "effective isolation without parameters: info, not crit"
t_like "$(field isolation.cmdline summary)" 'yet the kernel isolates CPUs 2-3' "says where isolation comes from"

# ---- nohz_full only: every ordinary task may run on the nohz CPUs; listed up to max_tasks ----
root=$(fx_root many rt-host-good)
fx_file "$root" proc/cmdline "ro quiet nohz_full=2-3 rcu_nocbs=2-3"
fx_file "$root" sys/devices/system/cpu/isolated ""
for p in $(seq 1000 1011); do fx_proc "$root" "$p" "worker$p" cpus=0-3; done
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.tasks | tr ',' '\n' | grep -c warn)" 11 "12 tasks: 10 listed + 1 counting the rest"
t_like "$(field isolation.tasks summary more)" '^12 non-RT tasks in all may run on isolated CPUs 2-3; 2 not listed$' "the rest counted"
printf '[isolation]\nmax_tasks = 20\n' >"$T_TMP/iso.conf"
EVODIAG_CONFIG="$T_TMP/iso.conf" t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.tasks | tr ',' '\n' | grep -c warn)" 12 "max_tasks = 20: all 12 listed"

# ---- broken inputs ----
root=$(fx_root broken rt-host-good)
procs "$root"
fx_file "$root" proc/interrupts "$(head -c 4000 /dev/urandom | tr -d '\0')"
fx_file "$root" sys/devices/virtual/workqueue/cpumask "zz"
fx_file "$root" sys/devices/system/cpu/nohz_full "(null)"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irq)" unknown "garbage /proc/interrupts: unknown"
t_is "$(t_sev isolation.workqueue)" unknown "garbage workqueue cpumask: unknown"
t_like "$(field isolation.effective summary nohz_full)" 'nohz_full=2-3 on the command line, but /sys/devices/system/cpu/nohz_full is empty: CPUs 2-3 still take the scheduler tick' "(null) in nohz_full read as empty"
printf '           CPU0       CPU1       CPU2       CPU3\n 41:  1  2  3\n 77: 1 1 1 1 x\nbogus\n' >"$root/proc/interrupts"
fx_file "$root" proc/irq/41/smp_affinity_list "0-3"
t_run check --root "$root" --only isolation --json
t_is "$(t_sev isolation.irq)" warn "short rows parsed: IRQ 41 counted on CPU 2"
t_is "$(subjects isolation.irq)" "IRQ 41" "IRQ 77 has no /proc/irq/77: skipped, no crash"
rm "$root/proc/cmdline"
t_run check --root "$root" --only isolation --json
t_is "$(pairs isolation)/$RC" "isolation.cmdline=unknown/3" "no /proc/cmdline: one unknown, exit 3"

# ---- live: only meaningful where this machine has no isolation ----
if grep -qE '(^| )(isolcpus|nohz_full)=' /proc/cmdline || [ -n "$(cat /sys/devices/system/cpu/isolated 2>/dev/null)" ]; then
        t_skip "live: this machine has CPU isolation"
else
        t_run check --only isolation --json
        t_is "$(pairs isolation)/$RC" "isolation.cmdline=info/0" "live host without isolation: one info line, exit 0"
fi
t_done
