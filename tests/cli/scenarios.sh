#!/bin/bash
# Whole-host scenarios: every host collector at once on a sysroot built from the
# per-collector fixtures, as an operator would run it (no --only). Exact IDs,
# severities and exit codes, in JSON and text. The component collectors (evo,
# lavinmq) have their own tests and are skipped here.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

HOST="shm-base hugepages-nopools rt-host-plain fds-healthy maps-healthy"

host() { # name extra-fixture... -> a full host root
        local r
        r=$(fx_root "$@")
        for f in $HOST; do cp -an "$FIXTURES/$f/." "$r/"; done
        fx_file "$r" proc/buddyinfo "Node 0, zone   Normal   100 50 20 10 5 2 1 1 1 1 2"
        fx_file "$r" proc/sys/vm/overcommit_memory 0
        fx_file "$r" proc/sys/kernel/hostname "$1"
        # an ordinary userland: init, sshd, a shell
        fx_proc "$r" 1 systemd cmdline="/sbin/init" fds=60 maps=120 nofile_soft=1048576
        fx_proc "$r" 2 kthreadd ppid=0 cmdline=""
        fx_proc "$r" 700 sshd fds=8 maps=80
        fx_proc "$r" 900 bash ppid=700 fds=4 maps=40
        echo "$r"
}
run() { t_run check --root "$1" --skip evo,lavinmq --json; }
problems() { printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.severity == "warn" or .severity == "crit" or .severity == "unknown") | .id + "=" + .severity] | unique | join(" ")'; }

# 1. A clean, ordinary (non-RT) host: nothing to report, exit 0.
r=$(host clean)
run "$r"
t_is "$RC" 0 "clean host: exit 0"
t_is "$(problems)" "" "clean host: no warn, crit or unknown"
t_is "$(printf '%s' "$OUT" | jq -r '[.collectors[] | select(.status == "ok") | .name] | join(",")')" \
        "shm,hugepages,rt,isolation,fds,maps,memory,journal,units,clock" "clean host: every host collector ran"
t_is "$(t_sev rt.kernel)" info "clean host: one info line says it is not an RT kernel"
t_run check --root "$r" --skip evo,lavinmq
t_like "$OUT" "^OK: 0 crit, 0 warn, 0 unknown, [0-9]+ ok, [0-9]+ info, [0-9]+ skipped in [0-9]+ ms — exit 0$" "clean host: text summary line"

# 2. A well-tuned RT host: PREEMPT_RT, isolated CPUs 2-3, an RT task with locked memory.
r=$(host rt-good rt-host-good)
fx_proc "$r" 1200 evo_cu policy=1 rtprio=80 cpus=2 vmlck_kb=20480 memlock_soft=-1 memlock_hard=-1 rtprio_soft=99 rtprio_hard=99
fx_proc "$r" 1201 evo_hal policy=1 rtprio=80 cpus=3 vmlck_kb=20480 memlock_soft=-1 memlock_hard=-1 rtprio_soft=99 rtprio_hard=99
for p in 1 700 900; do sed -i 's/^Cpus_allowed_list:.*/Cpus_allowed_list:\t0-1/' "$r/proc/$p/status"; done
fx_file "$r" sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
run "$r"
t_is "$(problems)" "" "well-tuned RT host: no warn, crit or unknown"
t_is "$RC" 0 "well-tuned RT host: exit 0"
t_is "$(t_sev rt.kernel)" ok "well-tuned RT host: PREEMPT_RT recognised"

# 3. The same host mis-tuned: throttling on, an IRQ firing on an isolated CPU,
#    irqbalance without banned CPUs, isolcpus on the command line but not in effect.
r=$(host rt-bad rt-host-good)
cp -a "$FIXTURES/rt-host-mistuned/." "$r/"
fx_proc "$r" 1200 evo_cu policy=1 rtprio=80 cpus=2 vmlck_kb=20480 memlock_soft=-1 memlock_hard=-1
fx_proc "$r" 650 irqbalance cmdline="/usr/sbin/irqbalance --foreground"
run "$r"
t_is "$RC" 2 "mis-tuned RT host: exit 2"
t_is "$(t_sev isolation.effective)" crit "mis-tuned: command line vs effective isolation is crit"
t_is "$(t_sev rt.throttling)" warn "mis-tuned: RT throttling on with RT tasks"
t_like "$(t_sev isolation.irq)" "warn" "mis-tuned: an IRQ fires on an isolated CPU"
# irqbalance bans the CPUs the kernel reports as isolated or nohz_full by itself; here
# nohz_full still covers them, so the missing banned list is info (see evodiag explain).
t_is "$(t_sev isolation.irqbalance)" info "mis-tuned: irqbalance without banned CPUs is reported"
t_run check --root "$r" --skip evo,lavinmq
t_like "$OUT" "CRIT +isolation.effective" "mis-tuned: text shows the crit line"
t_like "$OUT" "remedy: +sysctl -w kernel.sched_rt_runtime_us=-1" "mis-tuned: the throttling remedy"

# 4. FD exhaustion.
r=$(host fds fds-exhausted)
fx_proc "$r" 1500 lavinmq_like fds=1000 nofile_soft=1024
run "$r"
t_is "$RC" 2 "FD exhaustion: exit 2"
t_like "$(t_sev fds.process)" "crit" "FD exhaustion: the process is crit"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id=="fds.process" and .severity=="crit") | .subject')" "pid 1500" "FD exhaustion: names the pid"

# 5. Low vm.max_map_count on a host running LavinMQ.
r=$(host maps maps-low)
fx_proc "$r" 1600 lavinmq cmdline="/usr/bin/lavinmq -c /etc/lavinmq/lavinmq.ini" maps=3000
run "$r"
t_is "$(problems)" "maps.lavinmq_limit=warn" "low max_map_count with lavinmq: exactly that warning"
t_is "$RC" 1 "low max_map_count with lavinmq: exit 1"
t_run check --root "$r" --skip evo,lavinmq
t_like "$OUT" "remedy: +sysctl -w vm.max_map_count=1000000" "the remedy is LavinMQ's own"

# 6. Exhausted huge pages.
r=$(host hp hugepages-exhausted)
run "$r"
t_like "$(t_sev hugepages.pool_exhausted)" "crit" "exhausted hugepages: crit"
t_is "$RC" 2 "exhausted hugepages: exit 2"

# 7. An orphaned SysV segment.
r=$(host orphan shm-orphan)
run "$r"
t_like "$(t_sev shm.orphaned)" "(warn|crit)" "orphaned SysV segment reported"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id=="shm.orphaned" and .severity!="ok") | .remedy')" "ipcrm -m [0-9]+" \
        "the remedy names the shmid"

# Every scenario's JSON is one valid document with the schema field.
t_is "$(printf '%s' "$OUT" | jq -r .schema)" 1 "JSON documents carry the schema version"
t_done
