#!/bin/bash
# ISSUE.md says about the host what the run found: the preemption verdict is rt.kernel's
# finding (report/issue.c used to re-derive it from the version string with strstr and
# said "PREEMPT" where rt said PREEMPT_RT), OS, kernel, CPUs and memory are the facts
# the run read (lib/hostfacts.c), under --root the root's.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"
. "$TOP_SRCDIR/tests/lib/issue.sh"
export EVODIAG_STATE_DIR="$T_TMP/state"
export EVODIAG_TEMPLATES="$TOP_SRCDIR/templates"

# A mistuned RT host whose kernel an old RT patch built: "PREEMPT RT" in uname -v.
root=$(fx_root issue rt-host-mistuned)
fx_file "$root" etc/os-release "$(printf '%s\n' "NAME=EVO" "PRETTY_NAME='EVO Linux 3 \"Cell\"'")"
fx_file "$root" proc/sys/kernel/osrelease "4.19.0-rt-amd64"
fx_file "$root" proc/sys/kernel/version "#1 SMP PREEMPT RT Debian 4.19.37-5"
fx_file "$root" proc/sys/kernel/arch "aarch64"
fx_file "$root" proc/sys/kernel/hostname "issue-host"
fx_file "$root" sys/devices/system/cpu/online "0-3,6"
fx_file "$root" proc/meminfo "$(printf 'MemTotal:       16384000 kB\nMemFree:         8000000 kB\nMemAvailable:    9000000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB')"
fx_file "$root" proc/buddyinfo "Node 0, zone   Normal   10 10 10 10 10 10 10 10 10 10 10"
fx_file "$root" proc/sys/vm/overcommit_memory 0
fx_file "$root" proc/cmdline "BOOT_IMAGE=/vmlinuz isolcpus=2-3"

unpack() { # bundle -> its top directory, extracted
        local d="$T_TMP/x.$RANDOM"
        mkdir -p "$d" && tar -xzf "$1" -C "$d" && printf '%s\n' "$d"/*
}
# A finding's summary from findings.json.
summary() { jq -r --arg id "$2" '.collectors[].findings[] | select(.id == $id) | .summary' "$1/findings.json"; }
# An ISSUE.md line with its Markdown undone (code spans' backticks, text escapes such as
# \_), to compare with the finding or file it came from (none of them has a backtick).
md_line() { sed -n "s/^- $2: //p" "$1/ISSUE.md" | sed 's/`//g; s/\\\([][\\*_|#~<>]\)/\1/g'; }

t_run bundle --root "$root" --only rt,memory,isolation -q -o "$T_TMP/general.tar.gz"
t_is "$RC" 0 "bundle on the fixture root: written, complete"
x=$(unpack "$T_TMP/general.tar.gz")
rt_kernel=$(summary "$x" rt.kernel)
t_like "$rt_kernel" "^PREEMPT_RT kernel" "rt decides: an old RT patch's 'PREEMPT RT' is PREEMPT_RT"
t_is "$(md_line "$x" Preemption | sed 's/; isolated CPUs: .*//')" "$rt_kernel" "ISSUE.md: the preemption is rt.kernel's verdict, word for word"
t_is "$(md_line "$x" OS)" "EVO Linux 3 \"Cell\" (aarch64)" "ISSUE.md: OS from the root's os-release (single quotes), machine from its kernel.arch"
t_is "$(md_line "$x" Kernel)" "4.19.0-rt-amd64 #1 SMP PREEMPT RT Debian 4.19.37-5" "ISSUE.md: the root's kernel release and version"
mem=$(summary "$x" memory.available | sed -n 's/.* available of \(.*\) (.*/\1/p')
t_is "$(md_line "$x" CPUs)" "5 online (0-3,6); memory: $mem" "ISSUE.md: CPUs online, and memory as memory.available says it ($mem)"
t_is "$(md_line "$x" 'Kernel command line')" "BOOT_IMAGE=/vmlinuz isolcpus=2-3" "ISSUE.md: the root's command line"
t_like "$(md_line "$x" 'RT throttling (`kernel.sched_rt_runtime_us`)')" "^950000$" "ISSUE.md: RT throttling from the root"
t_unlike "$(cat "$x/evodiag.log")" "host facts" "evodiag.log: the host facts were read"

# The evo template says the same ("Kernel type").
t_run bundle --root "$root" --only rt,memory -q --component evo -o "$T_TMP/evo.tar.gz"
x=$(unpack "$T_TMP/evo.tar.gz")
t_is "$(md_line "$x" 'Kernel type')" "$(summary "$x" rt.kernel)" "ISSUE.md (evo): Kernel type is rt.kernel's verdict"

# A kernel whose version string says PREEMPT_DYNAMIC but whose config says PREEMPT_RT:
# rt weighs every signal; ISSUE.md says what rt says, not what the version string says.
fx_file "$root" proc/sys/kernel/version "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0-1"
fx_file "$root" sys/kernel/realtime 1
t_run bundle --root "$root" --only rt -q -o "$T_TMP/dyn.tar.gz"
x=$(unpack "$T_TMP/dyn.tar.gz")
t_like "$(summary "$x" rt.kernel)" "^PREEMPT_RT kernel" "rt: /sys/kernel/realtime = 1 makes it PREEMPT_RT"
t_is "$(md_line "$x" Preemption | sed 's/; isolated CPUs: .*//')" "$(summary "$x" rt.kernel)" "ISSUE.md agrees with rt, not with the version string"

# Every template on the fixture: only true sentences (file counts, attached = in the archive,
# not collected = what the manifest marks, once each, tables whole under cmark-gfm).
for tn in general evo lavinmq vgpu snn framealloc; do
        t_run bundle --root "$root" --only rt,memory,isolation,lavinmq,shm -q --component "$tn" -o "$T_TMP/t-$tn.tar.gz"
        x=$(unpack "$T_TMP/t-$tn.tar.gz")
        issue_truth "$x" "$T_TMP/t-$tn.tar.gz" "$tn.md"
done
t_like "$(cat "$x/ISSUE.md")" "- the shm collector.s checks and evidence: not run|Not collected" "framealloc.md: a Not collected section"
x=$(unpack "$T_TMP/t-snn.tar.gz")
t_like "$(cat "$x/ISSUE.md")" "- production\.toml and the /health, /info, /metrics replies: not collected \(no evodiag collector gathers it yet" \
        "snn.md: what the guide wants and no collector gathers is listed as not collected, with the reason"
t_unlike "$(cat "$x/ISSUE.md")" "production.toml.*attached|nvidia-smi. output" "snn.md: no claim that they are attached"
x=$(unpack "$T_TMP/t-lavinmq.tar.gz")
t_like "$(cat "$x/ISSUE.md")" "- the broker.s USR1 dump \(GC statistics and fibers\): not collected \(" "lavinmq.md: the USR1 dump not collected, with the reason"
t_like "$(sed -n 's|^- Disk (`/dev/shm`): ||p' "$x/ISSUE.md")" "^not measured: statvfs needs the live system \(--root\)$" "--root: /dev/shm's df is not measured, and said so"
t_unlike "$(cat "$x/ISSUE.md")" "No crash" "no crash claim nobody checked"

# rt not run: ISSUE.md says so instead of guessing.
t_run bundle --root "$root" --only memory -q -o "$T_TMP/norm.tar.gz"
x=$(unpack "$T_TMP/norm.tar.gz")
t_is "$(md_line "$x" Preemption | sed 's/; isolated CPUs: .*//')" "not checked (the rt collector was not run)" "rt not run: ISSUE.md says so"
t_is "$(md_line "$x" OS)" "EVO Linux 3 \"Cell\" (aarch64)" "rt not run: the host facts are still there"

# The facts are read in a child under the collector deadline: one that hangs or sends
# garbage costs the bundle nothing but those lines (and says so in evodiag.log).
if t_have_hooks 6; then
        start=$(date +%s%N)
        EVODIAG_FAULT=host-facts:hang t_run bundle --root "$root" --only rt --collector-timeout 1s -q -o "$T_TMP/hang.tar.gz"
        ms=$((($(date +%s%N) - start) / 1000000))
        t_is "$RC" 0 "host facts hang: the bundle is written, complete"
        t_is "$([ "$ms" -lt 20000 ] && echo bounded)" bounded "host facts hang: bounded by --collector-timeout (${ms} ms)"
        x=$(unpack "$T_TMP/hang.tar.gz")
        t_like "$(cat "$x/evodiag.log")" "host facts for ISSUE.md: no answer within 1000 ms; killed" "host facts hang: evodiag.log says so"
        t_is "$(md_line "$x" OS)" "(unknown) ((unknown))" "host facts hang: ISSUE.md says unknown, guesses nothing"
        t_is "$(md_line "$x" Preemption | sed 's/; isolated CPUs: .*//')" "$(summary "$x" rt.kernel)" "host facts hang: the verdict is still rt's"
        EVODIAG_FAULT=host-facts:garbage t_run bundle --root "$root" --only rt -q -o "$T_TMP/garbage.tar.gz"
        x=$(unpack "$T_TMP/garbage.tar.gz")
        t_like "$(cat "$x/evodiag.log")" "host facts for ISSUE.md: sent unreadable results" "host facts garbage: not used, said"
fi

# Live: this host's facts, as uname and os-release say them.
t_run bundle --only memory -q -o "$T_TMP/live.tar.gz"
x=$(unpack "$T_TMP/live.tar.gz")
pretty=$( (. /etc/os-release 2>/dev/null || . /usr/lib/os-release; printf '%s' "${PRETTY_NAME:-$NAME}") )
t_is "$(md_line "$x" OS)" "$pretty ($(cat /proc/sys/kernel/arch 2>/dev/null || uname -m))" "live: OS and machine"
t_is "$(md_line "$x" Kernel)" "$(uname -r) $(uname -v)" "live: kernel release and version"
t_like "$(md_line "$x" CPUs)" "^$(getconf _NPROCESSORS_ONLN) online \($(cat /sys/devices/system/cpu/online)\); memory: [0-9.]+ [KMGT]iB$" "live: CPUs and memory"
t_like "$(sed -n 's|^- Disk (`/dev/shm`): ||p' "$x/ISSUE.md")" "^[0-9.]+ [KMGT]?i?B free of [0-9.]+ [KMGT]?i?B \([0-9]+% used\)$" "live: df of /dev/shm"
issue_truth "$x" "$T_TMP/live.tar.gz" "live"

t_done
