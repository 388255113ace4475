#!/bin/bash
# shm collector: fixture sysroots (--root) for every verdict, bad input, and live
# SysV + POSIX segments made by tests/helpers/shm_attach (attachers, orphan after exit).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

HELPER="$TOP_BUILDDIR/tests/helpers/shm_attach"

# Severities of finding ID about SUBJECT ("" if none).
sub_sev() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
# FIELD (summary, remedy, actual...) of finding ID about SUBJECT.
sub_field() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" --arg f "$3" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .[$f] // ""] | join("\n")'
}
# FIELD of all findings with ID.
id_field() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join("\n")'
}
# Appends a shared mapping to ROOT/proc/PID/maps, as the kernel prints it.
maps_line() { # root pid path inode
        printf '7f3a00000000-7f3a00010000 rw-s 00000000 00:1b %-26s%s\n' "$4" "$3" >>"$1/proc/$2/maps"
}
sysv_path() { printf '/SYSV%08x (deleted)' "$1"; }
cfg() { printf '[shm]\n%s\n' "$@" >"$T_TMP/shm.conf"; }
json_ok() { printf '%s' "$OUT" | jq -e '.collectors[] | select(.name == "shm") | .status == "ok"' >/dev/null && echo yes; }

# ---------------------------------------------------------------- healthy
root=$(fx_root healthy shm-base)
H=$(head -1 "$root/proc/sysvipc/shm")
F='%10d %10d %5s %21d %5d %5d %6d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n'
{ printf '%s\n' "$H"; printf "$F" 1162167624 5 660 65536 4242 4242 1 1000 1000 1000 1000 1795300000 0 1795300000 65536 0; } \
        >"$root/proc/sysvipc/shm"
fx_proc "$root" 4242 evo_cu uid=1000
head -c 4160 /dev/zero >"$root/dev/shm/evo_hal_cu"
: >"$root/dev/shm/evo_hal_cu.lock"
chmod 600 "$root/dev/shm/evo_hal_cu" "$root/dev/shm/evo_hal_cu.lock"
chown 1000:1000 "$root/dev/shm/evo_hal_cu" 2>/dev/null && owned=yes || owned=no
ln -s /var/vgpu "$root/dev/shm/vgpu"
maps_line "$root" 4242 /dev/shm/evo_hal_cu "$(stat -c %i "$root/dev/shm/evo_hal_cu")"
maps_line "$root" 4242 "$(sysv_path 1162167624)" 5
maps_line "$root" 4242 /dev/shm/evo_hal_cu "$(stat -c %i "$root/dev/shm/evo_hal_cu")" # mapped twice: one mapper

t_run check --root "$root" --only shm --json
t_is "$RC" 0 "healthy: exit 0"
t_is "$(json_ok)" yes "healthy: the collector ran to completion"
t_is "$(t_ids_with warn)|$(t_ids_with crit)|$(t_ids_with unknown)" "||" "healthy: no warn, crit or unknown"
t_is "$(t_sev shm.orphaned),$(t_sev shm.shmmni),$(t_sev shm.shmall),$(t_sev shm.shmmax)" ok,ok,ok,ok "healthy: orphans and limits ok"
t_is "$(t_sev shm.world_writable),$(t_sev shm.mappers),$(t_sev shm.tmpfs)" ok,ok,ok "healthy: modes, mapper scan, tmpfs ok"
t_is "$(t_sev shm.tmpfs_usage)" skipped "under --root how full /dev/shm is is skipped (nothing live is read)"
t_like "$(id_field shm.tmpfs_usage summary)" "needs the live system.*not --root evidence" "and it says why"
t_is "$(sub_sev shm.sysv_segments 'shmid 5')" ok "SysV segment shmid 5 listed"
t_like "$(sub_field shm.sysv_segments 'shmid 5' summary)" "key 0x45454548: 64.0 KiB, mode 0660, owner evo:evo, nattch 1, attached by pid 4242 \(evo_cu\); creator pid 4242 alive" \
        "its key, size, mode, owner, attacher and creator"
t_is "$(sub_sev shm.posix_objects /dev/shm/evo_hal_cu)" ok "POSIX object listed"
t_like "$(sub_field shm.posix_objects /dev/shm/evo_hal_cu summary)" "^/dev/shm/evo_hal_cu: 4.1 KiB, mode 0600, owner .*, mapped by pid 4242 \(evo_cu\)$" \
        "with size, mode and its one mapper (mapped twice, named once)"
if [ "$owned" = yes ]; then
        t_like "$(sub_field shm.posix_objects /dev/shm/evo_hal_cu summary)" "owner evo:evo" "owner names come from ROOT/etc/passwd and group"
else
        t_skip "owner names (chown needs root)"
fi
t_like "$(sub_field shm.posix_objects /dev/shm/evo_hal_cu.lock summary)" "mapped by no process$" "an unmapped object says so"
t_like "$(sub_field shm.posix_objects /dev/shm/vgpu summary)" "symlink to /var/vgpu \(not followed\)" "a symlink is listed, not followed"
t_like "$(id_field shm.mappers summary)" "maps of 1 process scanned: 1 map shared memory" "the maps scan counts the mapper"
t_like "$(id_field shm.shmall summary)" "SysV segments hold 16 pages \(64.0 KiB\) of kernel.shmall = unlimited" "shmall in pages, the default shown as unlimited"

t_run check --root "$root" --only shm -v # -v: ok lines listed, not folded into a count
t_is "$RC" 0 "healthy text: exit 0"
t_like "$OUT" "  OK +shm.tmpfs +/dev/shm is tmpfs \(writable tmpfs\)" "text: the tmpfs line"
t_like "$OUT" "  SKIPPED +shm.tmpfs_usage " "text: usage skipped under --root"

# /dev/shm behind a symlink (old Debian: /run/shm): followed inside the root only.
root2=$(fx_root runshm shm-base)
rmdir "$root2/dev/shm"
mkdir -p "$root2/run/shm"
ln -s /run/shm "$root2/dev/shm"
: >"$root2/run/shm/seg"
sed -i 's| /dev/shm | /run/shm |' "$root2/proc/mounts"
t_run check --root "$root2" --only shm --json
t_is "$(t_sev shm.tmpfs)" ok "/dev/shm -> /run/shm: the mount of /run/shm counts"
t_is "$(sub_sev shm.tmpfs '/dev/shm -> /run/shm')" ok "and the subject says where it points"
t_is "$(sub_sev shm.posix_objects /run/shm/seg)" ok "objects are listed from ROOT/run/shm, not the host's"

# ---------------------------------------------------------------- orphaned SysV segment
root=$(fx_root orphan shm-orphan) # a complete sysroot on its own
fx_proc "$root" 4242 evo_cu
maps_line "$root" 4242 "$(sysv_path 1162167624)" 5
t_run check --root "$root" --only shm --json
t_is "$RC" 1 "orphan: exit 1 (warn)"
t_is "$(t_ids_with warn)" shm.orphaned "orphan: shm.orphaned is the only warning"
t_is "$(t_ids_with crit)" "" "orphan: nothing crit"
t_is "$(t_sev shm.orphaned)" warn "exactly one shm.orphaned finding"
t_is "$(sub_sev shm.orphaned 'shmid 32769')" warn "it is shmid 32769 (4 MiB, creator 31337 has no /proc entry)"
t_like "$(sub_field shm.orphaned 'shmid 32769' summary)" "shmid 32769 \(key IPC_PRIVATE, 4.0 MiB\) is orphaned: nattch 0, creator pid 31337 gone" "summary names the id, size and creator"
t_like "$(sub_field shm.orphaned 'shmid 32769' actual)" "last pid 31338 gone, last detach 2026-" "found: the last attacher too, and when"
t_like "$(sub_field shm.orphaned 'shmid 32769' remedy)" "ipcs -m -i 32769 .*ipcrm -m 32769$" "remedy: ipcrm -m with the exact shmid"
t_is "$(sub_sev shm.orphaned 'shmid 98306')" "" "nattch 0 with a living creator (98306) is not an orphan"
t_is "$(sub_sev shm.sysv_segments 'shmid 98306')" ok "but it is listed"
t_like "$(sub_field shm.sysv_segments 'shmid 32769' summary)" "nattch 0; creator pid 31337 gone, last pid 31338 gone" "the inventory says who is gone"
t_like "$(sub_field shm.sysv_segments 'shmid 5' summary)" "attached by pid 4242 \(evo_cu\)" "the attached one names its attacher"

t_run check --root "$root" --only shm
t_like "$OUT" "  WARN +shm.orphaned +shmid 32769 \(key IPC_PRIVATE, 4.0 MiB\) is orphaned" "text: the orphan line"
t_like "$OUT" "remedy: +ipcs -m -i 32769 +# make sure nothing needs it, then: ipcrm -m 32769" "text: the remedy line"
t_like "$OUT" "exit 1$" "text: summary line says exit 1"

cfg "orphan_crit_mb = 4"
t_run check --root "$root" --only shm --json --config "$T_TMP/shm.conf"
t_is "$(sub_sev shm.orphaned 'shmid 32769')" crit "[shm] orphan_crit_mb = 4: a 4 MiB orphan is crit"
t_is "$RC" 2 "and the exit code is 2"
cfg "orphan_crit_mb = 5"
t_run check --root "$root" --only shm --json --config "$T_TMP/shm.conf"
t_is "$(sub_sev shm.orphaned 'shmid 32769')" warn "orphan_crit_mb = 5: still warn"

# Evidence without a process table: liveness is unknown, never a false orphan.
rm -rf "$root/proc/4242"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.orphaned)" info,info "no /proc/PID in the evidence: nattch-0 segments are info, not orphans"
t_like "$(sub_field shm.orphaned 'shmid 32769' summary)" "not in the evidence" "and it says so"
t_is "$(t_sev shm.mappers)" skipped "mappers: skipped without a process table"
t_is "$RC" 0 "exit 0"

# ---------------------------------------------------------------- limits near exhaustion
root=$(fx_root limits shm-base shm-limits)
fx_proc "$root" 4242 evo_cu
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.shmmni)" warn "9 of shmmni 10 segments (90%): warn"
t_is "$(t_sev shm.shmall)" crit "643 of shmall 643 pages (100%, the next shmget fails): crit"
t_is "$(t_sev shm.shmmax)" warn "largest 972 KiB of shmmax 1 MiB (94.9%): warn"
t_is "$(t_sev shm.orphaned)" ok "all attached: no orphans"
t_is "$RC" 2 "limits: exit 2"
t_like "$(id_field shm.shmmni summary)" "^9 SysV segments of kernel.shmmni = 10 \(90.0%\)$" "shmmni summary"
t_like "$(id_field shm.shmall summary)" "hold 643 pages \(2.5 MiB\) of kernel.shmall = 643 pages \(100.0%\)" "shmall summary"
t_like "$(id_field shm.shmmax summary)" "largest SysV segment 972.0 KiB \(shmid 9\) of kernel.shmmax = 1.0 MiB \(94.9%\)" "shmmax summary names the segment"
t_like "$(id_field shm.shmall remedy)" "^sysctl -w kernel.shmall=16777216 && echo 'kernel.shmall = 16777216' >> /etc/sysctl.conf" "shmall remedy: the guide's sysctl + persistence"
t_like "$(id_field shm.shmmax remedy)" "^sysctl -w kernel.shmmax=68719476736 && echo 'kernel.shmmax = 68719476736' >> /etc/sysctl.conf" "shmmax remedy: the guide's 64 GiB"
t_like "$(id_field shm.shmmni remedy)" "^sysctl -w kernel.shmmni=4096 .*ipcrm -m" "shmmni remedy: raise, after removing orphans"
cfg "limit_warn_pct = 95" "limit_crit_pct = 101"
t_run check --root "$root" --only shm --json --config "$T_TMP/shm.conf"
t_is "$(t_sev shm.shmmni),$(t_sev shm.shmall),$(t_sev shm.shmmax)" ok,warn,ok "thresholds are configurable (95/101)"
t_is "$RC" 1 "and the exit code follows"
echo 9 >"$root/proc/sys/kernel/shmmni"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.shmmni)" crit "shmmni lowered below the segments in use: crit"
rm -rf "$root/proc/4242"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.orphaned)" ok "no process table, but every segment attached: still no orphans (ok)"

# ---------------------------------------------------------------- /dev/shm not a tmpfs
root=$(fx_root nomount shm-base shm-nomount)
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" crit "/dev/shm missing from /proc/mounts: crit"
t_is "$(t_ids_with crit)" shm.tmpfs "and it is the only crit"
t_is "$RC" 2 "exit 2"
t_like "$(id_field shm.tmpfs remedy)" "^mount -t tmpfs -o rw,nosuid,nodev,mode=1777 tmpfs /dev/shm && echo 'tmpfs /dev/shm tmpfs .*' >> /etc/fstab$" "remedy: mount it and persist in fstab"
t_run check --root "$root" --only shm
t_like "$OUT" "  CRIT +shm.tmpfs +/dev/shm is not a mount point: nothing is mounted on it" "text: the crit line"

fx_file "$root" proc/mounts "/dev/sda1 / ext4 rw 0 0
/dev/sda3 /dev/shm ext4 rw,relatime 0 0"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" crit "ext4 on /dev/shm: crit"
t_like "$(id_field shm.tmpfs summary)" "/dev/shm is ext4 \(it is not tmpfs" "it names the file system"
fx_file "$root" proc/mounts "tmpfs /dev/shm tmpfs ro,nosuid,nodev 0 0"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" crit "read-only tmpfs: crit"
fx_file "$root" proc/mounts "none /dev/shm ramfs rw 0 0"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" warn "ramfs: warn (no size limit)"
fx_file "$root" proc/mounts "/dev/sda3 /dev/shm ext4 rw 0 0
tmpfs /dev/shm tmpfs rw,size=65536k 0 0"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" ok "a tmpfs mounted over another: the last line counts"
t_like "$(id_field shm.tmpfs_usage summary)" "mounted with size=65536k" "usage under --root: the size= from the evidence"
rm -rf "$root/dev/shm"
fx_file "$root" proc/mounts "/dev/sda1 / ext4 rw 0 0"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.tmpfs)" crit "no /dev/shm at all: crit"
t_like "$(id_field shm.tmpfs actual)" "the directory does not exist" "it says the directory is missing"
t_is "$(t_sev shm.posix_objects)" skipped "objects: skipped, not unknown"
t_is "$RC" 2 "exit 2"

# ---------------------------------------------------------------- world-writable
root=$(fx_root world shm-base shm-world)
fx_proc "$root" 4242 evo_cu
: >"$root/dev/shm/evo_open"
chmod 666 "$root/dev/shm/evo_open"
mkdir "$root/dev/shm/dropbox" "$root/dev/shm/sticky"
chmod 777 "$root/dev/shm/dropbox"
chmod 1777 "$root/dev/shm/sticky"
: >"$root/dev/shm/evo_ok"
chmod 664 "$root/dev/shm/evo_ok"
ln -s /var/vgpu "$root/dev/shm/vgpu"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.world_writable)" warn,warn,warn "three world-writable findings"
t_is "$(sub_sev shm.world_writable 'shmid 7')" warn "SysV segment with mode 0666"
t_is "$(sub_sev shm.world_writable /dev/shm/evo_open)" warn "/dev/shm file with mode 0666"
t_is "$(sub_sev shm.world_writable /dev/shm/dropbox)" warn "a 0777 directory without the sticky bit"
t_is "$(sub_sev shm.world_writable /dev/shm/sticky)|$(sub_sev shm.world_writable /dev/shm/vgpu)|$(sub_sev shm.world_writable /dev/shm/evo_ok)" "||" \
        "not: a sticky 1777 directory, a symlink, a 0664 file"
t_is "$(sub_field shm.world_writable /dev/shm/evo_open remedy)" "chmod 664 /dev/shm/evo_open && chown :evo /dev/shm/evo_open   # and create it without o+w (shm_open(..., 0660))" \
        "file remedy: the guide's chmod 664 + chown :evo"
t_like "$(sub_field shm.world_writable 'shmid 7' remedy)" "IPC_CREAT\|0660.*ipcrm -m 7$" "SysV remedy: mode 0660, recreate with the exact shmid"
t_is "$RC" 1 "world-writable: exit 1"
t_is "$(t_ids_with warn)" shm.world_writable "and nothing else warns"

# ---------------------------------------------------------------- bad input
root=$(fx_root bad shm-base)
printf 'this is not /proc/sysvipc/shm\n1 2 3\n' >"$root/proc/sysvipc/shm"
t_run check --root "$root" --only shm --json
t_is "$(t_sev shm.sysv_segments)" unknown "garbage /proc/sysvipc/shm: unknown"
t_like "$(id_field shm.sysv_segments summary)" "cannot read /proc/sysvipc/shm: not in the kernel's format" "says which file and why"
t_is "$(t_sev shm.orphaned)$(t_sev shm.shmmni)" "" "one unknown, not one per dependent check"
t_is "$(t_sev shm.tmpfs)" ok "the other checks still run"
t_is "$RC" 3 "exit 3"
rm "$root/proc/sysvipc/shm"
t_run check --root "$root" --only shm --json
t_like "$(id_field shm.sysv_segments summary)" "cannot read /proc/sysvipc/shm: No such file or directory" "missing file: unknown, says so"
t_is "$RC" 3 "exit 3"

{ cat "$FIXTURES/shm-base/proc/sysvipc/shm"
  printf '%s\n' "         0      12 600 4096 1 1" "$(printf '\001\002\377 binary')"
  printf "$F" 0 13 600 4096 1 1 1 0 0 0 0 0 0 0 0 0; } >"$root/proc/sysvipc/shm"
head -c 3000 /dev/urandom >"$root/proc/sys/kernel/shmmax"
echo abc >"$root/proc/sys/kernel/shmall"
fx_proc "$root" 1 init
printf 'garbage\n\n1-2 rw-s 0 00:1b 1x /dev/shm/a\n' >>"$root/proc/1/maps"
mkfifo "$root/dev/shm/a_fifo"
: >"$root/dev/shm/$(printf 'bad\nname')"
t_run check --root "$root" --only shm --json
t_is "$(json_ok)" yes "truncated lines, binary garbage, a FIFO, a name with a newline: the collector finishes"
t_like "$(id_field shm.sysv_segments summary)" "2 malformed line\(s\) in /proc/sysvipc/shm skipped" "malformed lines are counted"
t_is "$(sub_sev shm.sysv_segments 'shmid 13')" ok "the good line is still used"
t_is "$(t_sev shm.shmmax),$(t_sev shm.shmall)" unknown,unknown "binary or non-numeric limit files: unknown each"
t_like "$(id_field shm.shmall summary)" "cannot read /proc/sys/kernel/shmall: not a number" "and says which"
t_is "$(t_sev shm.shmmni)" ok "the readable limit is still checked"
t_like "$(sub_field shm.posix_objects /dev/shm/a_fifo summary)" "FIFO, mode" "a FIFO is listed by lstat, never opened"
t_like "$(id_field shm.posix_objects summary)" '/dev/shm/bad\\nname: ' "control characters in names are not printed raw"
t_is "$RC" 3 "exit 3"

# Caps: entries examined, maps bytes per process, items listed.
root=$(fx_root caps shm-base shm-orphan)
fx_proc "$root" 4242 evo_cu maps=200
for i in 1 2 3 4 5 6; do : >"$root/dev/shm/obj$i"; done
maps_line "$root" 4242 /dev/shm/obj1 11
maps_line "$root" 4242 /dev/shm/evo_gone 99
sed -i '$ s/$/ (deleted)/' "$root/proc/4242/maps"
t_run check --root "$root" --only shm --json
t_is "$(sub_sev shm.posix_objects '/dev/shm/evo_gone (deleted)')" info "an unlinked object still mapped is found from maps (info)"
t_like "$(sub_field shm.posix_objects '/dev/shm/evo_gone (deleted)' summary)" "unlinked but still mapped by pid 4242 \(evo_cu\)" "and says who holds it"
t_like "$(sub_field shm.posix_objects /dev/shm/obj1 summary)" "mapped by pid 4242" "without caps obj1's mapper is found"
cfg "scan_max = 3" "maps_max_kb = 1" "list_max = 1"
t_run check --root "$root" --only shm --json --config "$T_TMP/shm.conf"
t_like "$(sub_field shm.posix_objects /dev/shm summary)" "has more than 3 entries: only the first 3 were examined" "scan_max: the cap is reported"
t_is "$(sub_sev shm.posix_objects /dev/shm)" info "as info"
t_like "$(id_field shm.mappers summary)" "maps of 1 process longer than 1 KiB, read only in part \(first: pid 4242 evo_cu\)" "maps_max_kb: a long maps file is read in part, and said"
t_like "$(id_field shm.sysv_segments summary)" "2 more SysV segments not listed one by one" "list_max = 1: the rest is counted"
t_is "$(printf '%s' "$OUT" | jq '[.collectors[].findings[] | select(.id == "shm.posix_objects" and (.subject // "" | startswith("/dev/shm/")))] | length')" 1 \
        "list_max = 1: one object listed"
t_is "$RC" 1 "caps: exit 1 (the orphan of this fixture)"

# ---------------------------------------------------------------- live
if [ ! -x "$HELPER" ]; then
        t_skip_rest "live: $HELPER not built"
        t_done
        exit
fi
# Waits for the helper's "ready shmid N" line; prints N.
wait_ready() {
        local i
        for i in $(seq 1 100); do
                if grep -q '^ready shmid ' "$1" 2>/dev/null; then
                        sed -n 's/^ready shmid \([0-9]*\)$/\1/p' "$1"
                        return 0
                fi
                sleep 0.1
        done
        return 1
}
name="evodiag-test-$$"
mkfifo "$T_TMP/in1"
"$HELPER" --posix "$name" --size 65536 <"$T_TMP/in1" >"$T_TMP/att1" 2>&1 &
pid1=$!
exec 8>"$T_TMP/in1"
t_at_exit "kill $pid1 2>/dev/null; rm -f /dev/shm/$name"
id1=$(wait_ready "$T_TMP/att1")
if [ -z "$id1" ]; then
        t_fail "live: shm_attach did not get ready" "$(cat "$T_TMP/att1")"
        t_done
        exit
fi
t_at_exit "ipcrm -m $id1 2>/dev/null"
# Other tests may create segments and objects at the same time: list them all.
cfg "list_max = 1000000" "scan_max = 10000000"
# Generous deadlines: what is tested here is what the collector finds, not how fast, and a
# starved host (stress-ng, a thousand other processes) can take seconds to list every maps file.
live=(check --only shm --json --config "$T_TMP/shm.conf" --collector-timeout 60s --timeout 100s)
export T_TIMEOUT=120

t_run "${live[@]}"
if [ "$(json_ok)" = yes ]; then t_pass "live: the collector ran"; else t_fail "live: the collector ran" "exit $RC" "$ERR"; fi
t_is "$RC" "$(printf '%s' "$OUT" | jq -r .exit_code)" "live: exit code matches the worst verdict"
t_is "$(sub_sev shm.sysv_segments "shmid $id1")" ok "live: the SysV segment (shmid $id1) is listed"
t_like "$(sub_field shm.sysv_segments "shmid $id1" summary)" "64.0 KiB, mode 0600, owner .*, nattch 1, attached by pid $pid1 \(shm_attach\); creator pid $pid1 alive" \
        "live: with its attacher pid (from /proc/$pid1/maps)"
t_is "$(sub_sev shm.posix_objects "/dev/shm/$name")" ok "live: the POSIX object is listed"
t_like "$(sub_field shm.posix_objects "/dev/shm/$name" summary)" "8.0 KiB, mode 0600, .*mapped by pid $pid1 \(shm_attach\)$" "live: with its mapper pid"
t_is "$(sub_sev shm.orphaned "shmid $id1")" "" "live: an attached segment is not orphaned"
t_is "$(t_sev shm.tmpfs_usage)" ok "live: /dev/shm usage read by statvfs (this host's is nearly empty)"

# Not root: other users' maps are unreadable; that is said, never "no mappers".
# nobody cannot read $T_TMP: its config (list everything, as above) lives beside it.
ncfg=$(mktemp /tmp/evodiag-shm-nobody.XXXXXX)
t_at_exit "rm -f $ncfg"
printf '[shm]\nlist_max = 1000000\n' >"$ncfg"
chmod 644 "$ncfg"
nobody_run() { timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$EVODIAG" "$@" --config "$ncfg" >"$T_TMP/out" 2>"$T_TMP/err"; RC=$?; OUT=$(cat "$T_TMP/out"); }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups "$EVODIAG" version >/dev/null 2>&1; then
        nobody_run check --only shm --json
        t_is "$(t_sev shm.mappers | tr ',' '\n' | grep -c skipped)" 1 "non-root: shm.mappers is skipped"
        t_like "$(id_field shm.mappers summary)" "needs root: maps of [0-9]+ process(es)? of other users not readable" "and says why"
        t_like "$(sub_field shm.sysv_segments "shmid $id1" summary)" "nattch 1, attachers unknown \(other users' maps not readable\)" "non-root: attachers unknown, not none"
        t_like "$(sub_field shm.posix_objects "/dev/shm/$name" summary)" "mappers unknown \(other users' maps not readable\)$" "non-root: mappers unknown, not none"
else
        t_skip "non-root run (needs root and setpriv, and the build readable by nobody)"
fi

# The helper exits without IPC_RMID: its segment is now an orphan.
exec 8>&-
wait "$pid1"
t_is "$?" 0 "live: shm_attach exited on stdin EOF"
if [ "$(cat /proc/sys/kernel/shm_rmid_forced 2>/dev/null)" = 1 ]; then
        t_skip "live orphan: kernel.shm_rmid_forced=1 removes the segment at exit"
else
        t_like "$(cat /proc/sysvipc/shm)" " $id1 +600 +65536 " "live: the segment outlived its creator"
        t_run "${live[@]}"
        t_is "$(sub_sev shm.orphaned "shmid $id1")" warn "live: reported as shm.orphaned (warn) with the exact shmid"
        t_like "$(sub_field shm.orphaned "shmid $id1" remedy)" "ipcrm -m $id1$" "live: remedy ipcrm -m $id1"
        t_like "$(sub_field shm.orphaned "shmid $id1" summary)" "creator pid $pid1 gone" "live: the creator is gone"
        t_is "$(sub_sev shm.posix_objects "/dev/shm/$name")" "" "live: the POSIX object was unlinked at exit"
        t_is "$([ "$RC" -ge 1 ] && echo yes)" yes "live: exit code at least 1"
        ipcrm -m "$id1"
        t_run "${live[@]}"
        t_is "$(sub_sev shm.orphaned "shmid $id1")" "" "live: gone after ipcrm"
fi

# World-writable, live: mode 0666 on both; SIGTERM and --rmid leave nothing behind.
name2="evodiag-test-ww-$$"
mkfifo "$T_TMP/in2"
"$HELPER" --posix "$name2" --mode 0666 --rmid <"$T_TMP/in2" >"$T_TMP/att2" 2>&1 &
pid2=$!
exec 9>"$T_TMP/in2"
t_at_exit "kill $pid2 2>/dev/null; rm -f /dev/shm/$name2"
id2=$(wait_ready "$T_TMP/att2")
t_at_exit "ipcrm -m ${id2:-none} 2>/dev/null"
t_run "${live[@]}"
t_is "$(sub_sev shm.world_writable "shmid $id2")" warn "live: a 0666 SysV segment is world-writable (warn)"
t_is "$(sub_sev shm.world_writable "/dev/shm/$name2")" warn "live: a 0666 /dev/shm object is world-writable (warn)"
kill -TERM "$pid2"
wait "$pid2"
t_is "$?" 0 "live: shm_attach exited 0 on SIGTERM"
exec 9>&-
t_unlike "$(cat /proc/sysvipc/shm)" "^ +[0-9-]+ +$id2 " "live: --rmid left no segment"
t_is "$([ -e "/dev/shm/$name2" ] && echo left)" "" "live: and no /dev/shm object"

t_done
