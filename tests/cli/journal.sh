#!/bin/bash
# journal collector: real journal files built at test time from the export-format
# fixtures in tests/fixtures/journal (systemd-journal-remote), read with --journal-file,
# --journal-dir and under --root; the window; empty, corrupt and FIFO journal files; a
# host without a journal; component log files; the bundle's texts and evidence, and
# check --from on it; watch following a journal that grows.
. "$TOP_SRCDIR/tests/lib/tap.sh"

MK="$TOP_SRCDIR/tests/helpers/mkjournal.sh"
FX="$TOP_SRCDIR/tests/fixtures/journal"
[ -x /lib/systemd/systemd-journal-remote ] || t_skip_all "systemd-journal-remote is not installed (.ci/packages)"
J="$T_TMP/host.journal"
NOW_US=$(date +%s%6N) # the fixture's "NOW": absolute bounds below do not drift with a slow run
sh "$MK" "$FX/host.export" "$J" "$NOW_US" || t_skip_all "cannot build a journal file"

jr() { t_run check --only journal --json "$@"; }
t_subj() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }
t_field() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join(" | ")'; }
t_sevof() { printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'; }

# ---- one journal file, the default window (1h) ----
jr --journal-file "$J"
t_is "$RC" 2 "host journal: exit 2 (crit findings)"
t_is "$(t_sev journal.source)" ok "the window was read"
t_like "$(t_sum journal.source)" "^read 16 entries of the component units and the kernel" "16 entries in the last hour (not the 2 h old one, not sshd's)"
t_is "$(t_sev journal.oom_kill)" crit "OOM kill of a component: crit"
t_is "$(t_subj journal.oom_kill)" cerebellar-norse "OOM victim named"
t_like "$(t_sum journal.oom_kill)" "victim cerebellar-norse, pid 4242, RSS 25.0 GiB \(a component\)" "OOM victim, pid and RSS"
t_is "$(t_subj journal.gpu_xid)" "Xid 79,Xid 13" "two Xids, by number"
t_is "$(t_sevof journal.gpu_xid 'Xid 79')" crit "Xid 79: crit"
t_is "$(t_sevof journal.gpu_xid 'Xid 13')" warn "Xid 13: warn"
t_like "$(t_sum journal.gpu_xid)" "Xid 79 on PCI:0000:3b:00: GPU has fallen off the bus" "Xid 79's meaning"
t_like "$(t_sum journal.gpu_xid)" "Xid 13 on PCI:0000:3b:00: graphics engine exception" "Xid 13's meaning"
t_is "$(t_sev journal.gpu_off_bus)" crit "fallen off the bus: crit"
t_is "$(t_subj journal.unit_errors)" "lavinmq.service,cerebellar-norse.service" "error-priority entries per unit"
t_like "$(t_sum journal.unit_errors)" "^lavinmq.service: 3 error-priority entries .*\| cerebellar-norse.service: 1 error-priority" "counted per unit"
t_like "$(t_field journal.unit_errors actual)" '"Unhandled exception in spawn\(name: consumer\)' "sample lines quoted"
t_unlike "$(t_field journal.unit_errors actual)" "old error before the window" "the entry before --since is not counted"
t_like "$(t_field journal.unit_errors evidence)" "^journal $J; cursors s=[0-9a-f]+;i=3;.* \.\. s=[0-9a-f]+;i=5;" "evidence: the file and the cursor range"
t_is "$(t_sev journal.lavinmq_disk_full)" crit "LavinMQ no space: crit"
t_is "$(t_sev journal.lavinmq_exception)" warn "LavinMQ unhandled exception"
t_is "$(t_sev journal.cuda_error)" warn "CUDA_ERROR in the SNN unit"
t_is "$(t_subj journal.framealloc)" FA602 "framealloc code"
t_is "$(t_subj journal.segfault)" mediator_phase3 "segfault names the binary"
t_is "$(t_subj journal.hung_task)" evo-writer "hung task named"
t_is "$(t_sev journal.rt_throttling)" warn "RT throttling"
t_is "$(t_subj journal.nfs_not_responding)" fileserver "NFS server named"
t_is "$(t_sev journal.hw_error)" warn "EDAC corrected error"
t_is "$(t_sev journal.hw_error_uncorrected)" ok "no uncorrected error: ok"

# ---- the window: --since, --until ----
jr --journal-file "$J" --since 3h
t_like "$(t_sum journal.unit_errors)" "^lavinmq.service: 4 error-priority" "--since 3h: the old entry counts"
jr --journal-file "$J" --since 3h --until "@$((NOW_US / 1000000 - 2850))"
t_like "$(t_sum journal.unit_errors)" "^lavinmq.service: 2 error-priority" "--until (2850 s before the fixture's now): the later ones do not"
t_is "$(t_sev journal.oom_kill)" ok "--until: no OOM kill before then"
jr --journal-file "$J" --since 20m
t_is "$(t_sev journal.unit_errors)" ok "--since 20m: no unit errors"
t_like "$(t_sum journal.unit_errors)" "^no error-priority entries of lavinmq.service,cerebellar-norse.service" "ok says what was checked"
t_run check --only journal --since yesterday-ish
t_is "$RC" 3 "a bad --since is a usage error"
t_like "$ERR" "--since: 'yesterday-ish' is not a time" "and says why"
printf '[journal]\nmax_entries = 5\n' >"$T_TMP/bound.conf"
EVODIAG_CONFIG="$T_TMP/bound.conf" jr --journal-file "$J"
t_is "$(t_sev journal.source)" info "entry bound hit: info"
t_like "$(t_sum journal.source)" "read 5 entries .*stopped at the entry bound hit" "the bound is said"

# ---- empty, corrupt and FIFO journal files ----
: >"$T_TMP/empty.journal"
jr --journal-file "$T_TMP/empty.journal"
t_is "$(t_sev journal.corrupt_file)" warn "empty journal file: named"
t_like "$(t_sum journal.corrupt_file)" "journal file $T_TMP/empty.journal cannot be read \(empty or truncated\)" "says empty"
t_is "$(t_sev journal.source)" unknown "nothing readable: unknown, not ok"
mkdir "$T_TMP/jdir"
head -c 65536 /dev/urandom >"$T_TMP/jdir/corrupt.journal"
printf 'LPKSHHRH' | dd of="$T_TMP/jdir/corrupt.journal" conv=notrunc status=none
head -c 5000 "$J" >"$T_TMP/jdir/truncated.journal"
cp "$J" "$T_TMP/jdir/system.journal"
mkfifo "$T_TMP/jdir/fifo.journal"
jr --journal-dir "$T_TMP/jdir"
t_is "$(t_subj journal.corrupt_file)" "$T_TMP/jdir/corrupt.journal,$T_TMP/jdir/fifo.journal,$T_TMP/jdir/truncated.journal" "corrupt, FIFO and truncated files named"
t_is "$(t_sev journal.source)" ok "the good file still read"
t_is "$(t_sev journal.oom_kill)" crit "and its verdicts reached"

# Journal files this user may not read: skipped (run as root), not damage, not unknown.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 711 "$T_TMP"
        mkdir -m 755 "$T_TMP/priv" && cp "$J" "$T_TMP/priv/a.journal" && chmod 600 "$T_TMP/priv/a.journal"
        OUT=$(timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$EVODIAG" check --only journal --json --journal-dir "$T_TMP/priv" 2>/dev/null)
        t_is "$(t_sev journal.source):$(t_sev journal.corrupt_file)" "skipped:skipped" "not readable by this user: skipped"
        t_like "$(t_sum journal.corrupt_file)" "^1 journal files cannot be read: permission denied" "one finding for the denied files"
else
        t_skip "needs root and setpriv to run as another user"
        t_skip "needs root and setpriv"
fi

# ---- under --root; a root without a journal ----
R="$T_TMP/root"
mkdir -p "$R/var/log/journal/0123456789abcdef0123456789abcdef" "$R/run/log/journal" "$R/var/log/cerebellar-norse"
cp "$J" "$R/var/log/journal/0123456789abcdef0123456789abcdef/system.journal"
printf '{"level":"INFO","message":"started"}\n{"level":"ERROR","message":"step failed: CUDA_ERROR_LAUNCH_FAILED"}\n' >"$R/var/log/cerebellar-norse/app.log"
jr --root "$R"
t_like "$(t_field journal.hw_error_uncorrected evidence)" "^journal /var/log/journal/0123456789abcdef0123456789abcdef/system.journal; /var/log/cerebellar-norse/app.log \(last [0-9]+ bytes\)$" "--root: the root's journal and log file"
t_is "$(t_sev journal.oom_kill)" crit "--root: same verdicts"
t_like "$(t_subj journal.unit_errors)" "/var/log/cerebellar-norse/app.log" "an ERROR line of a component log file"
t_like "$(t_sum journal.cuda_error)" "CUDA error" "CUDA error from the log file"
# The mediator's log is the mediator collector's (mediator.log counts its [ERROR] and CUDA lines):
# never counted here too, whether listed by name or matched by a pattern; another file is.
mkdir -p "$R/tmp"
printf '[10:00:00] [ERROR] queue full\n' >"$R/tmp/mediator.log"
printf '[journal]\nlog_files = /var/log/cerebellar-norse/*.log,/tmp/mediator.log,/tmp/*.log\n' >"$T_TMP/mlog.conf"
EVODIAG_CONFIG="$T_TMP/mlog.conf" jr --root "$R"
t_unlike "$(t_subj journal.unit_errors)" "mediator.log" "the mediator's log (listed and matched) is left to the mediator collector"
t_like "$(t_subj journal.unit_errors)" "/var/log/cerebellar-norse/app.log" "the other log files are still read"
printf '[journal]\nlog_files = /tmp/mediator.log\n[mediator]\nlog = /var/log/vgpu/mediator.log\n' >"$T_TMP/mlog2.conf"
EVODIAG_CONFIG="$T_TMP/mlog2.conf" jr --root "$R"
t_like "$(t_subj journal.unit_errors)" "/tmp/mediator.log" "a file that is not [mediator] log is read"
mkdir -p "$T_TMP/bare"
jr --root "$T_TMP/bare"
t_is "$(t_sev journal.source)" skipped "no journal: skipped"
t_like "$(t_sum journal.source)" "^no journal here" "and says why"
t_is "$(t_sev journal.kmsg)" skipped "no ring buffer under --root"
t_is "$RC" 0 "no journal is not a failure"

# ---- the live host without a journal: the kernel ring buffer (root only) ----
if ls /var/log/journal/*/*.journal /run/log/journal/*/*.journal /var/log/journal/*.journal >/dev/null 2>&1; then
        t_skip "this host has a journal: the no-journal fallback is tested where there is none"
        t_skip "this host has a journal"
else
        jr
        t_is "$(t_sev journal.source)" skipped "live, no journal: skipped"
        if [ "$(id -u)" = 0 ] && [ -r /dev/kmsg ]; then
                t_like "$(t_sev journal.kmsg)" "^(ok|unknown)$" "root: /dev/kmsg read as the fallback (never a hang)"
        else
                t_is "$(t_sev journal.kmsg)" skipped "not root: /dev/kmsg skipped"
        fi
fi

# ---- bundle: texts per unit and the kernel, evidence with cursors; check --from agrees ----
t_run bundle --only journal --journal-file "$J" --since 1h -o "$T_TMP/b.tar.zst"
t_is "$RC" 0 "bundle made"
mkdir "$T_TMP/b" && tar -C "$T_TMP/b" -xf "$T_TMP/b.tar.zst"
B=$(ls -d "$T_TMP"/b/*/ | head -1)
t_like "$(cat "$B/collectors/journal/unit-lavinmq.service.log")" "T[0-9:]+\+0000 lavinmq\[812\]: Unhandled exception in spawn" "lavinmq's window as short-iso text"
t_unlike "$(cat "$B/collectors/journal/unit-lavinmq.service.log")" "old error before the window" "the window's entries only"
t_like "$(cat "$B/collectors/journal/kernel.log")" "kernel: Out of memory: Killed process 4242" "the kernel's window"
t_is "$(jq -r 'select(.msg != null) | .cursor' "$B/collectors/journal/matches.jsonl" | grep -c '^s=')" 14 "14 matched entries, each with its cursor"
t_like "$(head -1 "$B/collectors/journal/matches.jsonl")" '"evodiag_journal":1' "the evidence starts with its header"
t_run check --from "$T_TMP/b.tar.zst" --json
t_like "$ERR" "re-checked offline: 1 collectors agree with the bundle's recorded findings, 0 differ" "check --from: same journal verdicts"
t_is "$(t_sev journal.oom_kill)" crit "check --from: the OOM kill"
t_like "$(t_sum journal.unit_errors)" "^lavinmq.service: 3 error-priority" "check --from: the per-unit count"

# ---- watch: a journal that grows is followed; events within two intervals ----
W="$T_TMP/watch.journal"
sh "$MK" "$FX/quiet.export" "$W"
out="$T_TMP/watch.out"
timeout -k 5 30 "$EVODIAG" watch --only journal --journal-file "$W" --interval 1s --duration 5s --json >"$out" 2>"$T_TMP/watch.err" &
wpid=$!
t_at_exit "kill $wpid 2>/dev/null"
sleep 2
MKJOURNAL_APPEND=1 sh "$MK" "$FX/grow.export" "$W"
grown=$(date +%s%3N) # the entries are in the file
wait $wpid
t_is "$?" 0 "watch ran its 5 s"
ev() { jq -c --arg id "$1" 'select(.type == "event" and .id == $id and .gone == false) | {subject, severity}' "$out"; }
t_is "$(ev journal.unit_errors)" '{"subject":"lavinmq.service","severity":"warn"}' "event: a new error line of lavinmq"
t_is "$(ev journal.oom_kill)" '{"subject":"lavinmq","severity":"crit"}' "event: a new OOM kill of a component"
t_is "$(ev journal.lavinmq_exception)" '{"subject":"lavinmq.service","severity":"warn"}' "event: a new unhandled exception"
first=$(jq -r 'select(.type == "event" and .gone == false) | .time_ms' "$out" | sort -n | head -1)
t_is "$([ -n "$first" ] && [ $((first - grown)) -le 2000 ] && echo yes)" yes "the first event within two intervals of the growth ($((${first:-0} - grown)) ms)"
t_is "$(jq -r 'select(.type == "event" and .baseline == true) | .id' "$out")" "" "nothing from before watch started"

t_done
