#!/bin/bash
# mediator collector (vGPU mediator, COMPONENTS.md §4): fixture sysroots built here for the
# NFS checks (tmpfs export, missing no_root_squash, etab differing, services), per-VM dirs
# with times set by touch -d (stale, answered, status 2:, unparseable, too big, shared by
# hard link and symlink, a FIFO as response.txt, phase 1 layout), an NFS mount whose stat()
# never returns (the EVODIAG_FAULT hook hangs the stat child: no NFS in this kernel, see
# below), then the live system: a process named mediator_phase3 holding its lock with flock,
# an impostor, and tests/helpers/mediator_admin speaking the admin protocol (good,
# unhealthy, bad magic, short reply, huge data_len, never replies, served by nobody).
#
# A real NFS export to 127.0.0.1 is not tested: this kernel has neither nfs nor nfsd in
# /proc/filesystems and no modules to load (no /lib/modules), so nfs-kernel-server cannot
# run here; the hung-mount case uses the stat child's fault hook instead.
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

HELPER="$TOP_BUILDDIR/tests/helpers/mediator_admin"
md() { t_run check --root "$1" --only mediator --json "${@:2}"; }
t_subj() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .subject // ""] | join(",")'; }

# A host with the guide's good setup: /var/vgpu exported with no_root_squash and in etab,
# nfsd threads, rpcbind (_rpc... here root) and rpc.mountd running, /dev/shm/vgpu -> /var/vgpu.
good_root() {
        local r
        r=$(fx_root "$1")
        mkdir -p "$r/var/vgpu/vm1" "$r/var/vgpu/vm2" "$r/var/lib/nfs" "$r/var/run" "$r/tmp"
        chmod 777 "$r/var/vgpu" "$r/var/vgpu/vm1" "$r/var/vgpu/vm2"
        chmod 1777 "$r/tmp"
        ln -s /var/vgpu "$r/dev/shm/vgpu"
        fx_file "$r" etc/exports '/var/vgpu *(rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure)'
        printf '/var/vgpu\t*(rw,sync,wdelay,hide,nocrossmnt,insecure,no_root_squash,no_all_squash,no_subtree_check,secure_locks,acl,fsid=1,anonuid=65534,anongid=65534,sec=sys,rw,insecure,no_root_squash,no_all_squash)\n' >"$r/var/lib/nfs/etab"
        printf 'rootfs / ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n' >"$r/proc/mounts"
        fx_proc "$r" 1 systemd ppid=0 cmdline=/sbin/init
        fx_proc "$r" 2 kthreadd ppid=0
        fx_proc "$r" 300 nfsd ppid=2
        fx_proc "$r" 301 rpcbind cmdline="/sbin/rpcbind -f -w"
        fx_proc "$r" 302 rpc.mountd cmdline="/usr/sbin/rpc.mountd"
        fx_proc "$r" 400 mediator cmdline="./mediator" # phase 2: no lock file, no admin socket
        printf 'A:2:1:VECTOR_ADD\n' >"$r/var/vgpu/vm1/request.txt"
        printf '1:Vector add completed on Pool A (vm=1, prio=2)\n' >"$r/var/vgpu/vm1/response.txt"
        touch -d '2 minutes ago' "$r/var/vgpu/vm1/request.txt"
        touch -d '1 minute ago' "$r/var/vgpu/vm1/response.txt"
        : >"$r/var/vgpu/vm2/request.txt"
        printf '0:Ready\n' >"$r/var/vgpu/vm2/response.txt"
        printf '[10:00:00] [ENQUEUE] vm=1\n[10:00:01] [RESPONSE] vm=1\n' >"$r/tmp/mediator.log"
        printf '%s\n' "$r"
}

# ---- the good host ----
root=$(good_root good)
md "$root"
t_is "$RC" 0 "good: exit 0"
t_is "$(t_ids_with warn)|$(t_ids_with crit)|$(t_ids_with unknown)" "||" "good: no warn, crit or unknown"
for id in exports_tmpfs root_squash exports_stale nfs_services dir_mode shared_dir vm_stale vm_error vm_request vm_shared vm_files log process; do
        [ "$id" = dir_mode ] && continue
        t_is "$(t_sev mediator.$id)" ok "good: mediator.$id ok"
done
t_like "$(t_sum mediator.dir_mode)" "world-writable" "good: 777 directories noted as a security risk"
t_is "$(t_ids_with info)" "mediator.dir_mode" "good: the only info is the world-writable note"
t_like "$(t_sum mediator.process)" "^mediator running \(pid 400" "good: the daemon by name, trusted (root)"
# phase 3 named: then its lock file and admin socket are expected
fx_proc "$root" 401 mediator_phase3 cmdline="./mediator_phase3"
md "$root"
t_is "$(t_sev mediator.lock)" warn "phase 3 without its lock file: warn"
t_like "$(t_sum mediator.admin)" "no admin socket /var/vgpu/admin.sock while mediator_phase3 runs" "phase 3 without admin socket: warn"
# the lock file under --root: the holder comes from the root's /proc/locks
echo 401 >"$root/var/run/mediator_phase3.lock"
printf '1: FLOCK  ADVISORY  WRITE 401 00:1a:%s 0 EOF\n' "$(stat -c %i "$root/var/run/mediator_phase3.lock")" >"$root/proc/locks"
md "$root"
t_is "$(t_sev mediator.lock)" ok "fixture lock: held by the pid it names"
printf '1: FLOCK  ADVISORY  WRITE 999 00:1a:%s 0 EOF\n' "$(stat -c %i "$root/var/run/mediator_phase3.lock")" >"$root/proc/locks"
md "$root"
t_like "$(t_sum mediator.lock)" "names pid 401 but pid 999 holds it" "fixture lock: another holder named"
# pid 0: the kernel's way of saying the holder is not visible from this pid namespace
printf '1: FLOCK  ADVISORY  WRITE 0 00:1a:%s 0 EOF\n' "$(stat -c %i "$root/var/run/mediator_phase3.lock")" >"$root/proc/locks"
md "$root"
t_like "$(t_sum mediator.lock)" "names pid 401 but a process outside this pid namespace holds it" "fixture lock: holder in another pid namespace"

# ---- NFS: tmpfs export, no_root_squash missing, etab differing, services stopped ----
root=$(good_root nfs)
fx_file "$root" etc/exports '/dev/shm *(rw,sync,no_root_squash)
/var/vgpu *(rw,sync,no_subtree_check,fsid=1)'
printf '/var/vgpu\t*(rw,sync,no_root_squash,no_subtree_check,fsid=2)\n' >"$root/var/lib/nfs/etab"
rm -rf "$root/proc/300" "$root/proc/302"
md "$root"
t_is "$RC" 2 "nfs: exit 2"
t_is "$(t_sev mediator.exports_tmpfs)" crit "nfs: /dev/shm export crit"
t_like "$(t_sum mediator.exports_tmpfs)" "exports /dev/shm, a tmpfs" "nfs: names the tmpfs export"
t_is "$(t_sev mediator.nfs_services)" crit "nfs: services missing crit"
t_like "$(t_sum mediator.nfs_services)" "nfsd \(kernel threads\), rpc.mountd$" "nfs: names nfsd and mountd (rpcbind runs)"
t_is "$(t_sev mediator.exports_stale)" warn,warn "nfs: two entries differ from etab"
t_like "$(t_sum mediator.exports_stale)" "/var/vgpu to \* exported with other options than /etc/exports says \(fsid=1\)" \
        "nfs: the changed option named"
t_like "$(t_sum mediator.exports_stale)" "/dev/shm to \* is in /etc/exports but not exported" "nfs: the unexported entry"
# etab says no_root_squash: the effective options count; the file alone would be missing it
t_is "$(t_sev mediator.root_squash)" ok "nfs: effective options (etab) have no_root_squash"
printf '/var/vgpu\t*(rw,sync,root_squash,no_subtree_check,fsid=1)\n' >"$root/var/lib/nfs/etab"
chmod 755 "$root/var/vgpu/vm2"
md "$root"
t_is "$(t_sev mediator.root_squash)" warn "no_root_squash missing: warn"
t_like "$(t_sum mediator.root_squash)" "without no_root_squash: VM writes get Permission denied" "no_root_squash: says why"
t_like "$(t_sum mediator.dir_mode)" "/var/vgpu/vm2 \(mode 0755\) is not writable by the VMs: root is squashed" \
        "dir_mode: a 755 VM directory under root_squash"
# a tmpfs mount (not /dev/shm) exported
root=$(good_root tmpfsmount)
mkdir -p "$root/srv/ram"
printf '/srv/ram *(rw,no_root_squash)\n' >>"$root/etc/exports"
printf 'tmpfs /srv/ram tmpfs rw 0 0\n' >>"$root/proc/mounts"
md "$root"
t_like "$(t_sum mediator.exports_tmpfs)" "exports /srv/ram, a tmpfs" "tmpfs mount exported: crit"
# /dev/shm/vgpu as a real directory
root=$(good_root shmdir)
rm "$root/dev/shm/vgpu" && mkdir "$root/dev/shm/vgpu"
md "$root"
t_is "$(t_sev mediator.shared_dir)" warn "/dev/shm/vgpu real directory: warn"

# ---- per-VM files ----
root=$(good_root vms)
mkdir -p "$root/var/vgpu/vm3" "$root/var/vgpu/vm4" "$root/var/vgpu/vm5" "$root/var/vgpu/vm6" "$root/var/vgpu/vm7"
# vm1: request newer than its response, 3 minutes old -> stale
touch -d '5 minutes ago' "$root/var/vgpu/vm1/response.txt"
touch -d '3 minutes ago' "$root/var/vgpu/vm1/request.txt"
# vm2: an error response
printf '2:Unknown command: 9\n' >"$root/var/vgpu/vm2/response.txt"
# vm3: a request that does not parse; vm4: asks for another vm; vm5: too big
printf 'A:2:3:VECTOR_ADD\nhello world\n' >"$root/var/vgpu/vm3/request.txt"
printf 'A:1:9:GPU_INFO\n' >"$root/var/vgpu/vm4/request.txt"
head -c 6000 /dev/zero | tr '\0' 'x' >"$root/var/vgpu/vm5/request.txt"
# vm6 and vm7 share one response file (hard link), vm7's request is a symlink to vm3's
printf '0:Ready\n' >"$root/var/vgpu/vm6/response.txt"
ln "$root/var/vgpu/vm6/response.txt" "$root/var/vgpu/vm7/response.txt"
ln -s ../vm3/request.txt "$root/var/vgpu/vm7/request.txt"
for f in vm3/response.txt vm4/response.txt vm5/response.txt; do printf '0:Ready\n' >"$root/var/vgpu/$f"; done
touch -d '1 minute ago' "$root"/var/vgpu/vm[3-7]/request.txt
md "$root"
t_is "$RC" 2 "vms: exit 2 (shared files)"
t_is "$(t_sev mediator.vm_stale)" warn "vms: one stale request"
t_is "$(t_subj mediator.vm_stale)" vm1 "vms: vm1 is stale"
t_like "$(t_sum mediator.vm_stale)" "^vm1: request 1[0-9][0-9] s old, response older: the mediator is not answering" \
        "vms: stale age from touch -d"
t_is "$(t_sum mediator.vm_error)" "vm2: error: Unknown command: 9" "vms: status 2 quoted"
t_like "$(t_sum mediator.vm_request)" "vm3/request.txt line 2 does not parse" "vms: unparseable line"
t_like "$(t_sum mediator.vm_request)" "vm4/request.txt asks for vm 9: the response goes to the wrong VM" "vms: wrong vm id"
t_like "$(t_sum mediator.vm_request)" "vm5/request.txt is 6000 bytes, more than 4096" "vms: size bound"
t_like "$(t_sum mediator.vm_shared)" "vm6/response.txt and .*vm7/response.txt are one file \(hard link\)" "vms: hard link crit"
t_like "$(t_sum mediator.vm_shared)" "vm3/request.txt and .*vm7/request.txt are one file \(symlink\)" "vms: symlink crit"
t_is "$(t_sev mediator.vm_shared)" crit,crit "vms: two shared files, both crit"
# A bundle of it reaches the same verdicts offline (vm_stale, which depends on the clock, is live).
t_run bundle --root "$root" --only mediator -o "$T_TMP/vms.tar.gz"
t_run check --from "$T_TMP/vms.tar.gz" --only mediator
t_like "$ERR" "re-checked offline: 1 collectors agree with the bundle's recorded findings, 0 differ" "vms: check --from agrees"
# stale_after from the config: 10 minutes makes vm1 fresh
printf '[mediator]\nstale_after = 10m\nrequest_max = 8k\n' >"$T_TMP/md.conf"
EVODIAG_CONFIG="$T_TMP/md.conf" md "$root"
t_is "$(t_sev mediator.vm_stale)" ok "stale_after=10m: nothing stale"
t_unlike "$(t_sum mediator.vm_request)" "6000 bytes" "request_max=8k: 6000 bytes is fine"

# A FIFO in place of response.txt: refused at once, never blocks.
root=$(good_root fifo)
rm "$root/var/vgpu/vm2/response.txt" && mkfifo "$root/var/vgpu/vm2/response.txt"
t0=${EPOCHREALTIME/./}
T_TIMEOUT=20 md "$root"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
t_is "$RC" 1 "fifo: exit 1 (not a hang: the run returned)"
t_like "$(t_sum mediator.vm_files)" "vm2/response.txt: not a regular file" "fifo: refused as not a regular file"
if [ "$ms" -lt 10000 ]; then t_pass "fifo: finished in $ms ms"; else t_fail "fifo: took $ms ms"; fi
T_TIMEOUT=20 t_run bundle --root "$root" --only mediator -o "$T_TMP/fifo.tar.gz"
t_is "$RC" 0 "fifo: bundle exit 0 (not a hang)"
t_run check --from "$T_TMP/fifo.tar.gz" --only mediator
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "fifo: check --from agrees"

# A symlink out of the shared directory (a VM's root can make one over no_root_squash): never read.
root=$(good_root outside)
fx_file "$root" etc/secret '2:the secret'
rm "$root/var/vgpu/vm2/response.txt" && ln -s ../../../etc/secret "$root/var/vgpu/vm2/response.txt"
ln -sf /etc/secret "$root/var/vgpu/vm1/response.txt"
mkdir -p "$root/etc/vmx" && printf '2:the secret\n' >"$root/etc/vmx/response.txt"
ln -s /etc/vmx "$root/var/vgpu/vm9"
md "$root"
t_like "$(t_sum mediator.vm_files)" "vm9/response.txt leads \(by a symlink\) to /etc/vmx, outside /var/vgpu: not read" "outside link (the vm directory): not read"
t_like "$(t_sum mediator.vm_files)" "vm1/response.txt leads \(by a symlink\) to /etc/secret, outside /var/vgpu: not read" "outside link (absolute): not read"
t_like "$(t_sum mediator.vm_files)" "vm2/response.txt leads \(by a symlink\) to /etc/secret, outside /var/vgpu: not read" "outside link (relative): not read"
t_unlike "$OUT" "the secret" "outside link: its content appears nowhere"
t_run bundle --root "$root" --only mediator -o "$T_TMP/outside.tar.gz"
t_unlike "$(tar -xzOf "$T_TMP/outside.tar.gz" 2>/dev/null | tr -d '\0')" "the secret" "outside link: not in the bundle"

# Phase 1 layout: command.txt + response.txt at the top.
root=$(good_root phase1)
rm -rf "$root/var/vgpu/vm1" "$root/var/vgpu/vm2"
printf '7\n' >"$root/var/vgpu/command.txt"
printf '1:GPU: NVIDIA H100\n' >"$root/var/vgpu/response.txt"
touch -d '3 minutes ago' "$root/var/vgpu/response.txt"
touch -d '2 minutes ago' "$root/var/vgpu/command.txt"
md "$root"
t_like "$(t_sum mediator.vm_request)" "command.txt line 1 does not parse: unknown command 7" "phase 1: unknown command"
t_is "$(t_subj mediator.vm_stale)" phase1 "phase 1: stale command"

# ---- logs ----
root=$(good_root log)
printf 'cut off [ERROR] partial\n[10:00:00] [ERROR] queue full\n[10:00:01] [PROCESS] vm=1\n[10:00:02] [ERROR] vm 3 response write failed\n' >"$root/tmp/mediator.log"
md "$root"
t_is "$(t_sev mediator.log)" warn "log: [ERROR] lines warn"
t_like "$(t_sum mediator.log)" "^3 \[ERROR\] line\(s\) in the last 4 lines .*last: \[10:00:02\] \[ERROR\] vm 3 response write failed" \
        "log: counted and the last quoted"
# One line, one finding: the journal collector leaves the mediator's log to this one.
t_run check --root "$root" --only mediator,journal --json
t_is "$(t_sev mediator.log)" warn "log: counted by the mediator collector"
t_unlike "$(t_subj journal.unit_errors)" "mediator.log" "log: not counted again by the journal collector"
printf 'CUDA error: an illegal memory access was encountered\n' >>"$root/tmp/mediator.log"
md "$root"
t_is "$(t_sev mediator.log)" crit "log: CUDA error crit"
# A log someone else owns (anyone can create /tmp/mediator.log first): not read.
cp -a "$root" "$T_TMP/root-logowner"
chown 65534 "$T_TMP/root-logowner/tmp/mediator.log"
md "$T_TMP/root-logowner"
t_like "$(t_sev mediator.log):$(t_sum mediator.log)" "^warn:/tmp/mediator.log not read: trust's path rule refuses it" "log owned by nobody: not read, warn"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "mediator.log") | .actual')" "owned by uid 65534" "log owned by nobody: says who owns it"
t_run bundle --root "$T_TMP/root-logowner" --only mediator -o "$T_TMP/logowner.tar.gz"
t_run check --from "$T_TMP/logowner.tar.gz" --only mediator
t_like "$ERR" "1 collectors agree with the bundle's recorded findings, 0 differ" "log owned by nobody: check --from agrees"
printf '[mediator]\nlog_tail = 60\n' >"$T_TMP/tail.conf"
EVODIAG_CONFIG="$T_TMP/tail.conf" md "$root"
t_like "$(t_sum mediator.log)" "in the last 1 lines" "log_tail bounds the window (the cut first line skipped)"

# ---- QEMU data sockets: listed with whether they exist, never connected to ----
root=$(good_root qemu)
mkdir -p "$root/srv/vm1/tmp" "$root/srv/vm2/tmp"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$root/srv/vm1/tmp/vgpu-mediator.sock"
fx_proc "$root" 501 qemu-system-x86 cmdline="qemu-system-x86_64 -m 4096 -chroot /srv/vm1 -name vm1"
fx_proc "$root" 502 qemu-system-x86 cmdline="qemu-system-x86_64 -run-with chroot=/srv/vm2,user=qemu"
md "$root"
t_is "$(t_sev mediator.data_sockets)" info "qemu: one data socket missing: info"
t_like "$(t_sum mediator.data_sockets)" "QEMU pid 502 has no mediator data socket /srv/vm2/tmp/vgpu-mediator.sock" "qemu: the missing one named"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$root/srv/vm2/tmp/vgpu-mediator.sock"
md "$root"
t_like "$(t_sev mediator.data_sockets):$(t_sum mediator.data_sockets)" "^ok:2 QEMU chroot" "qemu: both present: ok"

# ---- not relevant without any trace of it ----
root=$(fx_root none)
md "$root"
t_is "$(printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "mediator") | .status')" not_applicable "no mediator: not relevant"

# ---- an NFS mount that never answers: evodiag finishes within its deadline ----
root=$(good_root nfsdead)
mkdir -p "$root/mnt/vgpu"
printf '10.0.0.1:/var/vgpu /mnt/vgpu nfs rw,relatime,vers=3,hard,actimeo=30,addr=10.0.0.1 0 0\n' >>"$root/proc/mounts"
md "$root"
t_is "$(t_sev mediator.nfs_mount)" info "nfs mount: actimeo=30 info"
t_like "$(t_sum mediator.nfs_mount)" "/mnt/vgpu \(hard from 10.0.0.1:/var/vgpu\) caches attributes up to 30 s" "nfs mount: options"
if t_have_hooks 6; then
        t0=${EPOCHREALTIME/./}
        EVODIAG_FAULT=mediator_nfs_stat:hang md "$root" --collector-timeout 6s
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        t_is "$(t_sev mediator.nfs_mount)" crit "dead NFS server: crit"
        t_like "$(t_sum mediator.nfs_mount)" "does not answer within 2000 ms: NFS server dead" "dead NFS server: says so"
        if [ "$ms" -lt 6000 ]; then t_pass "dead NFS server: finished in $ms ms (< 6 s deadline)"; else t_fail "dead NFS server: $ms ms"; fi
        # The shared directory on the dead mount (the VM side): never read in the collector itself.
        printf '[mediator]\nshared_dir = /mnt/vgpu\n' >"$T_TMP/vmside.conf"
        t0=${EPOCHREALTIME/./}
        EVODIAG_CONFIG="$T_TMP/vmside.conf" EVODIAG_FAULT=mediator_nfs_stat:hang md "$root" --collector-timeout 8s
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        t_like "$(t_sum mediator.vm_stale)" "^/mnt/vgpu is on an NFS mount that does not answer: not read" "dead shared dir: not read"
        t_is "$(t_sev mediator.vm_files)" unknown "dead shared dir: per-VM checks unknown"
        if [ "$ms" -lt 8000 ]; then t_pass "dead shared dir: finished in $ms ms (< 8 s deadline)"; else t_fail "dead shared dir: $ms ms"; fi
fi

# ---- watch on a shared directory whose NFS server died: the stat()s run in a child ----
# (the same hook hangs watch's stat child: before, watch lstat()ed in the sampler itself)
root=$(good_root nfswatch)
mkdir -p "$root/mnt/vgpu/vm1"
printf 'A:2:1:VECTOR_ADD\n' >"$root/mnt/vgpu/vm1/request.txt"
printf '10.0.0.1:/var/vgpu /mnt/vgpu nfs rw,relatime,vers=3,hard,actimeo=1,addr=10.0.0.1 0 0\n' >>"$root/proc/mounts"
printf '[mediator]\nshared_dir = /mnt/vgpu\nnfs_stat_timeout = 400ms\n' >"$T_TMP/wnfs.conf"
wnfs() { EVODIAG_CONFIG="$T_TMP/wnfs.conf" t_run watch --root "$root" --only mediator --duration "$1" --interval 300ms --check-every off --json; }
wsel() { printf '%s\n' "$OUT" | jq -c "$1"; }
wnfs 1s
t_is "$(wsel 'select(.type == "sample") | .statuses[] | select(.id == "mediator.vm_stale") | .subject' | sort -u)" '"vm1"' \
        "watch nfs: answering, vm1 sampled through the child"
if t_have_hooks 5; then
        t0=${EPOCHREALTIME/./}
        EVODIAG_FAULT=mediator_nfs_stat:hang wnfs 3s
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        last=$(wsel 'select(.type == "sample")' | tail -1)
        t_like "$(printf '%s' "$last" | jq -r '.statuses[] | select(.id == "mediator.vm_stale" and .subject == null) | .severity + ":" + .summary')" \
                "^unknown:/mnt/vgpu is on an NFS mount that does not answer: not read \(no answer within 400 ms\)" \
                "watch nfs hung: the directory's status says so"
        t_is "$(wsel 'select(.type == "event" and .id == "mediator.vm_stale")' | wc -l)" 1 "watch nfs hung: one event, not one per sample"
        t_is "$(wsel 'select(.type == "sample") | .statuses[] | select(.id == "mediator.timeout")' | wc -l)" 0 \
                "watch nfs hung: the sampler itself never missed its deadline"
        n=$(wsel 'select(.type == "sample")' | wc -l)
        if [ "$n" -ge 6 ]; then t_pass "watch nfs hung: $n samples in 3 s at 300 ms (cadence kept)"; else t_fail "watch nfs hung: only $n samples"; fi
        if [ "$ms" -lt 9000 ]; then t_pass "watch nfs hung: done in $ms ms"; else t_fail "watch nfs hung: $ms ms"; fi
fi

# ---- watch: staleness per VM ----
root=$(good_root watch)
touch -d '5 minutes ago' "$root/var/vgpu/vm1/response.txt"
t_run watch --root "$root" --only mediator --duration 1s --interval 300ms --json
last=$(printf '%s\n' "$OUT" | jq -c 'select(.type == "sample")' | tail -1)
t_is "$(printf '%s' "$last" | jq -r '.statuses[] | select(.id == "mediator.vm_stale" and .subject == "vm1") | .severity')" warn \
        "watch: vm1 stale"
t_is "$(printf '%s' "$last" | jq -r '.statuses[] | select(.id == "mediator.vm_stale" and .subject == "vm2") | .severity')" ok \
        "watch: vm2 fine"

# ---- live: the lock, the daemon, an impostor, the admin socket ----
if [ "$(id -u)" != 0 ] || ! command -v flock >/dev/null || ! command -v setpriv >/dev/null; then
        t_skip_rest "live part needs root, flock and setpriv"
        t_done
        exit
fi
L="$T_TMP/live"
mkdir -p "$L/vgpu/vm1"
chmod 755 "$T_TMP" "$L"
chmod 777 "$L/vgpu" "$L/vgpu/vm1"
cat >"$T_TMP/live.conf" <<EOF
[mediator]
lock_file = $L/mediator_phase3.lock
shared_dir = $L/vgpu
admin_socket = $L/vgpu/admin.sock
log = $L/mediator.log
admin_timeout = 1500ms
EOF
live() { EVODIAG_CONFIG="$T_TMP/live.conf" t_run check --only mediator --json "$@"; }
# A process named mediator_phase3 that takes the lock with flock and writes its pid in it.
# flock(1) renamed by exec -a takes the lock itself (-o: its child sleep does not hold it).
(echo "$BASHPID" >"$L/mediator_phase3.lock" && exec -a mediator_phase3 flock -o -x "$L/mediator_phase3.lock" sleep 300) &
mpid=$!
t_at_exit "kill $mpid 2>/dev/null"
for _ in $(seq 50); do grep -q "FLOCK .* $mpid " /proc/locks && break; sleep 0.1; done
live
t_is "$(t_sev mediator.lock)" ok "live lock: held by the pid it names"
t_like "$(t_sum mediator.lock)" "held by pid $mpid, the pid it names" "live lock: holder from /proc/locks"
t_like "$(printf '%s' "$OUT" | jq -r '[.collectors[].findings[] | select(.id == "mediator.process" and .severity == "ok") | .summary] | join("")')" \
        "running \(pid $mpid" "live: the flock holder is the daemon"
flock -n "$L/mediator_phase3.lock" true && t_fail "evodiag or the test left the lock free" || t_pass "live: the lock is still held (never taken by evodiag)"
# An impostor run by nobody.
setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'exec -a mediator sleep 300' &
ipid=$!
t_at_exit "kill $ipid 2>/dev/null"
sleep 0.3
live
t_like "$(t_sum mediator.process)" "not trusted: pid $ipid" "live: impostor named, not trusted"
kill "$ipid"
# The holder dies: the file still names it, nobody holds the lock.
kids=$(cat "/proc/$mpid/task/$mpid/children" 2>/dev/null)
kill "$mpid" $kids
wait "$mpid" 2>/dev/null
live
t_is "$(t_sev mediator.lock)" warn "live lock: stale after the holder died"
t_like "$(t_sum mediator.lock)" "stale lock: .* names pid $mpid but nobody holds it \(that pid is gone" "live lock: says stale"

# The admin socket, each server mode.
admin() { # MODE [setpriv args...]: starts the helper, waits until it listens
        rm -f "$L/vgpu/admin.sock" "$L/admin.log"
        local mode=$1
        shift
        coproc ADM { exec "$@" "$HELPER" "$L/vgpu/admin.sock" "$mode" "$L/admin.log"; }
        apid=$ADM_PID
        t_at_exit "kill $apid 2>/dev/null"
        read -r -t 5 _ <&"${ADM[0]}"
}
stop_admin() { kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; }
admin good
live
t_is "$(t_sev mediator.admin)" ok "admin good: ok"
t_like "$(t_sum mediator.admin)" "SHOW_HEALTH: status 0: healthy: 2 VMs connected" "admin good: the health text"
t_is "$(cat "$L/admin.log")" 0x11 "admin: only SHOW_HEALTH was sent"
# watch asks at admin_interval (30 s): once in a 1.2 s run of 300 ms samples, its verdict repeated
# (--check-every off: the background full check would ask once more)
: >"$L/admin.log"
EVODIAG_CONFIG="$T_TMP/live.conf" t_run watch --only mediator --duration 1200ms --interval 300ms --check-every off --json
t_is "$(sort -u "$L/admin.log" | tr '\n' ' ')" "0x11 " "watch: only SHOW_HEALTH sent"
t_is "$(wc -l <"$L/admin.log")" 1 "watch: admin asked once (slower cadence)"
t_is "$(printf '%s\n' "$OUT" | jq -r 'select(.type == "sample") | .statuses[] | select(.id == "mediator.admin") | .severity' | sort -u)" ok \
        "watch: admin health in every sample, ok"
stop_admin
admin unhealthy
live
t_is "$(t_sev mediator.admin)" crit "admin unhealthy: crit"
stop_admin
admin badmagic
live
t_like "$(t_sev mediator.admin):$(t_sum mediator.admin)" "^warn:.*bad magic 0xdeadbeef" "admin bad magic: warn, named"
stop_admin
admin short
live
t_like "$(t_sum mediator.admin)" "short reply \(5 of 12 header bytes\)" "admin short reply: named"
stop_admin
admin huge
live
t_like "$(t_sum mediator.admin)" "reply announces 4294967280 bytes, more than the 1048576 accepted" "admin huge data_len: refused"
stop_admin
admin silent
t0=${EPOCHREALTIME/./}
live
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
t_like "$(t_sum mediator.admin)" "no reply within 1500 ms" "admin never replies: timed out"
if [ "$ms" -lt 8000 ]; then t_pass "admin never replies: check done in $ms ms"; else t_fail "admin never replies: $ms ms"; fi
stop_admin
admin good setpriv --reuid=65534 --regid=65534 --clear-groups
live
t_like "$(t_sum mediator.admin)" "not asked: the socket is served by uid 65534" "admin served by nobody: not asked"
t_is "$(cat "$L/admin.log" 2>/dev/null)" "" "admin served by nobody: no request sent"
stop_admin

# cuda_sanity, only with --allow-intrusive: fake test binaries (root-owned, in a 755 directory).
mkdir -p "$L/bin"
chmod 755 "$L/bin"
printf '#!/bin/sh\necho "CUDA devices: 1"\necho "CUDA sanity OK"\n' >"$L/bin/ok"
printf '#!/bin/sh\necho "cudaGetDeviceCount failed: no CUDA-capable device is detected"\nexit 1\n' >"$L/bin/fail"
printf '#!/bin/sh\nexec sleep 300\n' >"$L/bin/hang"
cp "$L/bin/ok" "$L/bin/writable"
chmod 755 "$L"/bin/*
chmod 777 "$L/bin/writable"
# The GPU probe that explains a failure asks where [gpu] says: no NVML, no nvidia-smi
# here unless a test sets GPU (a real GPU on the test host must not answer instead).
sanity() { # BINARY [TIMEOUT]
        printf '[mediator]\nlock_file = %s\nshared_dir = %s\nlog = %s\ncuda_sanity = %s\ncuda_sanity_timeout = %s\n' \
                "$L/none.lock" "$L/vgpu" "$L/mediator.log" "$1" "${2:-10s}" >"$T_TMP/sanity.conf"
        printf '[gpu]\nnvml_path = %s\nnvidia_smi = none\ndeadline = %s\n' "${GPU_NVML:-$L/absent-nvml.so}" \
                "${GPU_DEADLINE:-2s}" >>"$T_TMP/sanity.conf"
        EVODIAG_CONFIG="$T_TMP/sanity.conf" t_run check --only mediator --json --allow-intrusive --collector-timeout 10s
}
t_rem() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .remedy // ""] | join(" | ")'; }
t_act() { printf '%s' "$OUT" | jq -r --arg id "$1" '[.collectors[].findings[] | select(.id == $id) | .actual // ""] | join(" | ")'; }
EVODIAG_CONFIG="$T_TMP/live.conf" t_run check --only mediator --json
t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" "^skipped:needs --allow-intrusive" "cuda_sanity: not without --allow-intrusive"
sanity "$L/bin/ok"
t_is "$(t_sev mediator.cuda_sanity)" ok "cuda_sanity OK: ok"
sanity "$L/bin/fail"
t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" "^crit:.*cudaGetDeviceCount failed: no CUDA-capable device" \
        "cuda_sanity failing: crit with its line"
t_like "$(printf '%s' "$OUT" | jq -r '.collectors[].findings[] | select(.id == "mediator.cuda_sanity") | .remedy')" "Plan B" \
        "cuda_sanity failing: the guide's Plan B"
t_like "$(t_sum mediator.cuda_sanity)" "no GPU: no NVIDIA driver answers here" "cuda_sanity failing, no NVML/nvidia-smi: says no GPU"
t_like "$(t_act mediator.cuda_sanity)" "^GPU probe \([0-9]+ ms\): absent" "cuda_sanity failing: the GPU probe's answer"
t0=${EPOCHREALTIME/./}
sanity "$L/bin/hang" 1s
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" "^crit:.*did not finish within 1000 ms \(killed\)" "cuda_sanity hanging: killed, crit"
if [ "$ms" -lt 8000 ]; then t_pass "cuda_sanity hanging: done in $ms ms"; else t_fail "cuda_sanity hanging: $ms ms"; fi
# With the stand-in NVML (tests/helpers/fake_nvml.c, as tests/cli/gpu.sh builds it) through [gpu] nvml_path:
# the probe tells a usable GPU, no devices, a wedged driver and a version mismatch apart.
# (A compiler that is there but fails is a failure, not a skip: a missing -I once hid this block.)
nvml_built=no
if command -v "${CC:-cc}" >/dev/null; then
        "${CC:-cc}" -shared -fPIC -O1 -I "$TOP_SRCDIR" -o "$L/libnvidia-ml.so.1" "$TOP_SRCDIR/tests/helpers/fake_nvml.c" && nvml_built=yes
        t_is "$nvml_built" yes "the stand-in NVML builds"
fi
if [ "$nvml_built" = yes ]; then
        export FAKE_NVML_TRACE="$L/nvml.trace"
        : >"$FAKE_NVML_TRACE"
        GPU_NVML="$L/libnvidia-ml.so.1" sanity "$L/bin/ok"
        t_is "$(t_sev mediator.cuda_sanity):$(wc -l <"$FAKE_NVML_TRACE")" "ok:0" "cuda_sanity OK: the GPU is not asked (no cost when it passes)"
        GPU_NVML="$L/libnvidia-ml.so.1" sanity "$L/bin/fail"
        t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" \
                "^crit:.*cudaGetDeviceCount failed.*the GPU answers NVML, so the test itself fails with a usable GPU" \
                "cuda_sanity failing with a usable GPU: says the test fails, not the GPU"
        t_like "$(t_act mediator.cuda_sanity)" "1 GPU \(NVIDIA GeForce RTX 2080 SUPER\), driver 595.71.05" "usable GPU: named"
        t_like "$(t_rem mediator.cuda_sanity)" "^ldd $L/bin/fail .*CUDA driver version is insufficient" "usable GPU: remedy is the CUDA runtime and driver version"
        t_is "$(wc -l <"$FAKE_NVML_TRACE")" 1 "cuda_sanity failing: the GPU asked once"
        FAKE_NVML_MODE=nodevices GPU_NVML="$L/libnvidia-ml.so.1" sanity "$L/bin/fail"
        t_like "$(t_sum mediator.cuda_sanity)" "no GPU: the driver answers and reports none" "no devices: says no GPU"
        t_like "$(t_rem mediator.cuda_sanity)" "Plan B" "no devices: the guide's Plan B"
        FAKE_NVML_MODE=mismatch GPU_NVML="$L/libnvidia-ml.so.1" sanity "$L/bin/fail"
        t_like "$(t_sum mediator.cuda_sanity)" "kernel module and library versions differ" "version mismatch: named"
        t_like "$(t_rem mediator.cuda_sanity)" "^reboot" "version mismatch: reboot"
        t0=${EPOCHREALTIME/./}
        FAKE_NVML_MODE=hang GPU_NVML="$L/libnvidia-ml.so.1" GPU_DEADLINE=1s sanity "$L/bin/fail"
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" "^crit:.*the driver is wedged" "NVML hangs: driver wedged"
        t_like "$(t_rem mediator.cuda_sanity)" "dmesg \| grep -i -e xid .*reboot \(guide error 8\)" "driver wedged: the guide's error 8"
        if [ "$ms" -lt 10000 ]; then t_pass "driver wedged: done in $ms ms"; else t_fail "driver wedged: $ms ms"; fi
        # cuda_sanity itself hangs, and so does the driver: both bounded, the cause named
        t0=${EPOCHREALTIME/./}
        FAKE_NVML_MODE=hang GPU_NVML="$L/libnvidia-ml.so.1" GPU_DEADLINE=1s sanity "$L/bin/hang" 1s
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        t_like "$(t_sum mediator.cuda_sanity)" "did not finish within 1000 ms \(killed\): the driver is wedged" "cuda_sanity and NVML hang: wedged"
        if [ "$ms" -lt 12000 ]; then t_pass "cuda_sanity and NVML hang: done in $ms ms"; else t_fail "both hang: $ms ms"; fi
        GPU_NVML="$L/libnvidia-ml.so.1" sanity "$L/bin/hang" 1s
        t_like "$(t_sum mediator.cuda_sanity)" "did not finish within 1000 ms \(killed\): the GPU answers NVML" "cuda_sanity hangs with a usable GPU: the test's fault"
        unset FAKE_NVML_TRACE
else
        for _ in $(seq 16); do t_skip "no stand-in NVML (no C compiler): the GPU probe's cases"; done
fi
sanity "$L/bin/writable"
t_like "$(t_sev mediator.cuda_sanity):$(t_sum mediator.cuda_sanity)" "^warn:.*writable/?.* not run: " "cuda_sanity world-writable: not run"
sanity "$L/bin/absent"
t_is "$(t_sev mediator.cuda_sanity)" skipped "cuda_sanity absent: skipped"

# Bundle: the admin replies (health and metrics), the listings and the log tail.
admin good
printf '[10:00:00] [ERROR] something\n' >"$L/mediator.log"
printf 'A:2:1:VECTOR_ADD\n' >"$L/vgpu/vm1/request.txt"
t0=${EPOCHREALTIME/./}
EVODIAG_CONFIG="$T_TMP/live.conf" t_run bundle --only mediator -o "$T_TMP/b.tar.gz"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
if [ "$RC" = 0 ]; then t_pass "bundle: exit 0 ($ms ms)"; else t_fail "bundle: exit $RC after $ms ms" "$ERR"; fi
list=$(tar -tzf "$T_TMP/b.tar.gz" 2>/dev/null)
for a in admin-health.txt admin-metrics.txt log-tail.txt vm-files.txt nfs-mounts.txt; do
        t_like "$list" "collectors/mediator/$a" "bundle: $a"
done
t_like "$(tar -xzOf "$T_TMP/b.tar.gz" --wildcards '*/collectors/mediator/admin-metrics.txt')" "requests_total 42" "bundle: metrics text"
t_is "$(sort "$L/admin.log" | uniq | tr '\n' ' ')" "0x10 0x11 " "bundle: only SHOW_METRICS and SHOW_HEALTH sent"
stop_admin

t_done
