#!/bin/bash
# evo collector: headers written byte for byte into --root fixtures (every verdict,
# exact exit codes and text), live segments made by tests/helpers/evo_writer in
# /dev/shm (tick, stall, odd, odd-exit, orphan, never, legacy, intermediate, modes,
# readers), hostile /dev/shm entries, a private /dev/shm for exact live exit codes,
# and the bundle round trip (check --from).
. "$TOP_SRCDIR/tests/lib/tap.sh"
. "$TOP_SRCDIR/tests/lib/fixture.sh"

W="$TOP_BUILDDIR/tests/helpers/evo_writer"
[ -x "$W" ] || t_skip_all "tests/helpers/evo_writer not built (make check builds it)"

# Severities / a field of finding ID about SUBJECT ("" if none).
sub_sev() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .severity] | join(",")'
}
sub_field() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg s "$2" --arg f "$3" \
                '[.collectors[].findings[] | select(.id == $id and .subject == $s) | .[$f] // ""] | join("\n")'
}
id_field() {
        printf '%s' "$OUT" | jq -r --arg id "$1" --arg f "$2" '[.collectors[].findings[] | select(.id == $id) | .[$f] // ""] | join("\n")'
}
# All findings about SUBJECT as "id=severity" lines, sorted.
about() {
        printf '%s' "$OUT" | jq -r --arg s "$1" '[.collectors[].findings[] | select(.subject == $s) | "\(.id)=\(.severity)"] | sort | join(" ")'
}
evo_status() { printf '%s' "$OUT" | jq -r '.collectors[] | select(.name == "evo") | .status'; }

# ---- writing headers byte for byte (COMPONENTS.md §1), little endian ----
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
le64() { le32 $(($1 & 0xffffffff)); le32 $((($1 >> 32) & 0xffffffff)); }
zeros() { head -c "$1" /dev/zero; }
# p2p_hdr HEARTBEAT SRC DST PAYLOAD [WRITE_SEQ]: the 64-byte P2pSegmentHeader
p2p_hdr() {
        local hb=$1 src=$2 dst=$3 payload=$4 ws=${5:-$(($1 * 2))}
        printf 'EVO_P2P\0'
        printf "$(le32 $(((payload * 0x9E3779B9 ^ 8 * 0x517CC1B7) & 0xffffffff)))"
        zeros 4
        printf "$(le64 "$hb")"
        printf "$(printf '\\x%02x\\x%02x' "$src" "$dst")"
        zeros 2
        printf "$(le32 "$payload")$(le32 $((ws & 0xffffffff)))"
        zeros 28
}
# legacy_hdr VERSION WRITER_PID READERS SIZE: the 128-byte SegmentHeader
legacy_hdr() {
        printf '\0\x4d\x48\x53\x5f\x4f\x56\x45'
        printf "$(le64 "$1")$(le32 "$2")$(le32 "$3")$(le64 "$4")"
        printf "$(le64 1700000000000000000)$(le64 1700000001000000000)"
        zeros 80
}
# file PATH SIZE: pad (or cut) what stdin gives to SIZE bytes
file() { cat >"$1"; truncate -s "$2" "$1"; }
ino() { stat -c %i "$1"; }
# lock PATH: a .lock as the writer makes it (shm_open(..., 0600))
lock() { : >"$1"; chmod 600 "$1"; }
# maps_line ROOT PID PATH PERMS: a shared mapping of a /dev/shm object, as the kernel prints it
maps_line() {
        printf '7f3a00000000-7f3a00001000 %s 00000000 00:1b %-26s%s\n' "$4" "$(ino "$1$3")" "$3" >>"$1/proc/$2/maps"
}
# flock ROOT PID LOCKPATH: the writer's FLOCK line in ROOT/proc/locks
flock_line() { printf '%s: FLOCK  ADVISORY  WRITE %s 00:1b:%s 0 EOF\n' "$(($(wc -l <"$1/proc/locks") + 1))" "$2" "$(ino "$1$3")" >>"$1/proc/locks"; }

# A healthy P2P pair: HAL writes hal_cu (pid 4242, uid 0), CU (pid 4243) reads it.
healthy_root() {
        local r
        r=$(fx_root "$1" evo-base)
        : >"$r/proc/locks"
        p2p_hdr 5 1 0 64 | file "$r/dev/shm/evo_hal_cu" 4096
        : >"$r/dev/shm/evo_hal_cu.lock"
        chmod 600 "$r/dev/shm/evo_hal_cu" "$r/dev/shm/evo_hal_cu.lock"
        fx_proc "$r" 4242 evo_hal
        fx_proc "$r" 4243 evo_cu
        maps_line "$r" 4242 /dev/shm/evo_hal_cu rw-s
        maps_line "$r" 4243 /dev/shm/evo_hal_cu r--s
        flock_line "$r" 4242 /dev/shm/evo_hal_cu.lock
        printf '%s\n' "$r"
}

# ================================================================ fixtures (--root)
root=$(healthy_root healthy)
t_run check --root "$root" --only evo --json
t_is "$RC" 0 "healthy P2P segment: exit 0"
t_is "$(evo_status)" ok "the collector ran to completion"
t_is "$(t_ids_with warn)|$(t_ids_with crit)|$(t_ids_with unknown)|$(t_ids_with info)" "|||" "healthy: no warn, crit, unknown or info"
t_is "$(about evo_hal_cu)" "evo.segments=ok" "healthy: the only finding about evo_hal_cu is its inventory line"
t_is "$(sub_field evo.segments evo_hal_cu summary)" \
        "evo_hal_cu: P2P hal->cu, 4.0 KiB, payload 64 B, heartbeat 5; writer pid 4242 (evo_hal) holds the lock; read by pid 4243 (evo_cu)" \
        "inventory: layout, modules, size, payload, heartbeat, writer from /proc/locks, reader from maps"
t_like "$(sub_field evo.segments evo_hal_cu actual)" "mode 0600, owner root:root, inode [0-9]+, version_hash 0x063863f8 \(payload align 8\), write_seq 10$" \
        "inventory details: mode, owner name from ROOT/etc/passwd, version_hash and its alignment, write_seq"
for id in corrupt unknown_name orphaned leftovers never_committed permissions crashed_readers reader_access mappers; do
        t_is "$(t_sev "evo.$id")" ok "healthy: evo.$id ok"
done
t_is "$(t_sev evo.stalled),$(t_sev evo.write_seq)" skipped,skipped "two-sample checks are skipped under --root"
t_like "$(id_field evo.stalled summary)" "needs the live system \(two samples\), not --root evidence" "and say why"
t_like "$(id_field evo.orphaned summary)" "^1 of 1 EVO segment have a live writer" "orphaned ok counts the segment"
t_like "$(id_field evo.reader_access summary)" "every EVO reader can open" "reader access ok"

t_run check --root "$root" --only evo -v # -v: ok lines listed, not folded into a count
t_is "$RC" 0 "healthy text: exit 0"
t_like "$OUT" "  OK +evo.segments +evo_hal_cu: P2P hal->cu, 4.0 KiB" "text: the inventory line"
t_like "$OUT" "  SKIPPED +evo.stalled +heartbeat progress not judged" "text: the skipped live check"

# ---------------- orphan: nobody holds the lock
root=$(healthy_root orphan)
: >"$root/proc/locks"
rm -rf "$root/proc/4242" # the writer crashed: the kernel dropped its flock
t_run check --root "$root" --only evo --json
t_is "$RC" 2 "orphaned P2P segment: exit 2"
t_is "$(t_ids_with crit)" evo.orphaned "orphan: evo.orphaned is the only crit"
t_is "$(sub_sev evo.orphaned evo_hal_cu)" crit "evo_hal_cu is orphaned"
t_is "$(sub_field evo.orphaned evo_hal_cu summary)" "evo_hal_cu is orphaned: nobody holds the flock on its .lock (its writer is gone)" "summary"
t_like "$(sub_field evo.orphaned evo_hal_cu remedy)" "^rm /dev/shm/evo_hal_cu /dev/shm/evo_hal_cu.lock   # evodiag never deletes" \
        "remedy names exactly the data and lock files"
t_like "$(sub_field evo.orphaned evo_hal_cu remedy)" "and the readers still mapping it" "and says the reader must re-attach"
t_like "$(sub_field evo.orphaned evo_hal_cu actual)" "evo_hal_cu.lock inode [0-9]+ not locked; last heartbeat 5; read by pid 4243 \(evo_cu\)" "found: lock inode, heartbeat, readers"
t_is "$(sub_sev evo.segments evo_hal_cu)" ok "it is still decoded"
# A waiter on the lock is not a holder; neither is another inode's flock.
printf '1: -> FLOCK  ADVISORY  WRITE 4242 00:1b:%s 0 EOF\n2: FLOCK  ADVISORY  WRITE 4242 00:1b:%s 0 EOF\n' \
        "$(ino "$root/dev/shm/evo_hal_cu.lock")" "$(($(ino "$root/dev/shm/evo_hal_cu.lock") + 100000))" >"$root/proc/locks"
t_run check --root "$root" --only evo --json
t_is "$(sub_sev evo.orphaned evo_hal_cu)" crit "a blocked waiter or another inode's lock does not make a writer"
rm "$root/dev/shm/evo_hal_cu.lock"
t_run check --root "$root" --only evo --json
t_is "$(sub_field evo.orphaned evo_hal_cu summary)" "evo_hal_cu is orphaned: its .lock is missing (its writer is gone)" "no .lock at all: orphaned too"
t_is "$(sub_field evo.orphaned evo_hal_cu remedy | cut -d'#' -f1)" "rm /dev/shm/evo_hal_cu   " "and the remedy removes only what exists"
rm "$root/proc/locks"
lock "$root/dev/shm/evo_hal_cu.lock"
t_run check --root "$root" --only evo --json
t_is "$(t_sev evo.orphaned)" unknown "/proc/locks unreadable: liveness unknown, no false orphan"
t_like "$(id_field evo.orphaned summary)" "cannot read /proc/locks: No such file or directory" "and it says which file"
t_is "$RC" 3 "exit 3 (unknown)"

t_run check --root "$(healthy_root orphan-text)" --only evo # a sanity run, then the text of an orphan
root=$(healthy_root orphan2)
: >"$root/proc/locks"
t_run check --root "$root" --only evo
t_like "$OUT" "  CRIT +evo.orphaned +evo_hal_cu is orphaned: nobody holds the flock on its .lock" "text: the orphan line"
t_like "$OUT" "remedy: +rm /dev/shm/evo_hal_cu /dev/shm/evo_hal_cu.lock" "text: the remedy line"
t_like "$OUT" "exit 2$" "text: summary says exit 2"

# ---------------- never committed, write in progress, unknown name
root=$(healthy_root never)
p2p_hdr 0 1 0 64 | file "$root/dev/shm/evo_hal_cu" 4096
t_run check --root "$root" --only evo --json
t_is "$RC" 1 "heartbeat 0: exit 1"
t_is "$(about evo_hal_cu)" "evo.never_committed=warn evo.segments=ok" "heartbeat 0: never_committed warn"
t_is "$(sub_field evo.never_committed evo_hal_cu summary)" "evo_hal_cu: heartbeat 0, never committed (writer pid 4242 (evo_hal) holds the lock)" "its summary"
t_like "$(sub_field evo.never_committed evo_hal_cu remedy)" "cat /proc/4242/stack" "remedy looks at the writer"
p2p_hdr 7 1 0 64 15 | file "$root/dev/shm/evo_hal_cu" 4096 # mid-commit: write_seq 2*7+1
t_run check --root "$root" --only evo --json
t_is "$RC" 0 "one odd write_seq is a commit in progress, not corruption"
cp -a "$root/dev/shm/evo_hal_cu" "$root/dev/shm/evo_foo_bar"
lock "$root/dev/shm/evo_foo_bar.lock"
flock_line "$root" 4242 /dev/shm/evo_foo_bar.lock
t_run check --root "$root" --only evo --json
t_is "$(sub_sev evo.unknown_name evo_foo_bar)" info "foo_bar is not an evo-core segment name: info"
t_is "$(sub_sev evo.unknown_name evo_hal_cu)" "" "hal_cu is"
t_is "$RC" 0 "an unknown name alone: exit 0"

# ---------------- corrupt
root=$(healthy_root corrupt)
p2p_hdr 5 1 0 8192 | file "$root/dev/shm/evo_hal_cu" 4096 # header declares 64 + 8192
zeros 4096 >"$root/dev/shm/evo_cu_hal"                      # no magic, but its .lock exists
: >"$root/dev/shm/evo_cu_hal.lock"
printf 'EVO' >"$root/dev/shm/evo_re_cu"                     # 3 bytes, a known name
p2p_hdr 5 1 0 64 | head -c 40 >"$root/dev/shm/evo_hal_re"   # magic, header cut
p2p_hdr 5 1 0 64 8 | file "$root/dev/shm/evo_hal_mqt" 4096  # write_seq no commit produces
t_run check --root "$root" --only evo --json
t_is "$RC" 2 "corrupt segments: exit 2"
t_is "$(sub_sev evo.corrupt evo_hal_cu),$(sub_sev evo.corrupt evo_cu_hal),$(sub_sev evo.corrupt evo_re_cu),$(sub_sev evo.corrupt evo_hal_re),$(sub_sev evo.corrupt evo_hal_mqt)" \
        crit,crit,crit,crit,crit "each corrupt segment is crit"
t_like "$(sub_field evo.corrupt evo_hal_cu summary)" "4096 bytes, but its header declares 8256: readers that map it get SIGBUS past the end" "file shorter than header + payload"
t_like "$(sub_field evo.corrupt evo_cu_hal summary)" "no EVO magic \(first bytes 00 00 00 00 00 00 00 00\), but evo_cu_hal.lock exists" "no magic, tied by its .lock"
t_like "$(sub_field evo.corrupt evo_re_cu summary)" "3 bytes: too short for any EVO header, but its name is an evo-core segment's" "3 bytes with a known name"
t_like "$(sub_field evo.corrupt evo_hal_re summary)" "40 bytes: shorter than the 64-byte p2p header its magic announces" "magic, header cut short"
t_like "$(sub_field evo.corrupt evo_hal_mqt summary)" "write_seq 8 does not belong to heartbeat 5 \(want 10 or 11\)" "write_seq no writer produces"
t_like "$(sub_field evo.corrupt evo_hal_cu remedy)" "^kill 4242   # stop its writer, then: rm /dev/shm/evo_hal_cu /dev/shm/evo_hal_cu.lock" \
        "remedy: stop the live writer, remove exactly its files"
t_is "$(sub_sev evo.segments evo_hal_cu)" "" "a corrupt segment gets no inventory line"
t_is "$(sub_sev evo.not_segment evo_re_cu)" "" "and is not called 'not a segment'"
t_run check --root "$root" --only evo
t_like "$OUT" "  CRIT +evo.corrupt +evo_hal_cu is corrupt: 4096 bytes, but its header declares 8256" "text: the corrupt line"

# ---------------- not EVO segments: symlink, FIFO, directory, random bytes
root=$(healthy_root foreign)
ln -s /etc/shadow "$root/dev/shm/evo_x"
mkfifo "$root/dev/shm/evo_y"
mkdir "$root/dev/shm/evo_dir"
head -c 4096 /dev/urandom | tr -d 'E\0' >"$root/dev/shm/evo_rand" # no magic, not even its first byte
t_run check --root "$root" --only evo --json
t_is "$RC" 0 "entries that are not segments are info: exit 0"
t_is "$(sub_sev evo.not_segment evo_x),$(sub_sev evo.not_segment evo_y),$(sub_sev evo.not_segment evo_dir),$(sub_sev evo.not_segment evo_rand)" \
        info,info,info,info "symlink, FIFO, directory, random bytes: evo.not_segment info"
t_is "$(sub_field evo.not_segment evo_x summary)" "evo_x is a symlink, not an EVO segment (not followed)" "the symlink is not followed"
t_like "$(sub_field evo.not_segment evo_x actual)" "^symlink to /etc/shadow, owner " "found: where it points"
t_is "$(sub_field evo.not_segment evo_y summary)" "evo_y is a FIFO, not an EVO segment (not opened)" "the FIFO is not opened"
t_like "$(sub_field evo.not_segment evo_rand summary)" "evo_rand is not an EVO segment: no EVO magic \(first bytes [0-9a-f ]+\); no .lock or .meta, unknown name, nobody maps it" \
        "random bytes: no magic, nothing ties it to EVO"
t_is "$(sub_sev evo.segments evo_hal_cu)" ok "the real segment beside them is fine"
t_run check --root "$root" --only evo
t_like "$OUT" "  INFO +evo.not_segment +evo_x is a symlink, not an EVO segment \(not followed\)" "text: the symlink line"
printf '[evo]\nscan_max = 2\n' >"$T_TMP/evo.conf"
t_run check --root "$root" --only evo --json --config "$T_TMP/evo.conf"
t_like "$(id_field evo.segments summary)" "more than 2 evo_\* entries in /dev/shm: only the first were examined" "[evo] scan_max caps the entries examined"

# ---------------- legacy: header, .meta, crashed readers, dead writer
root=$(healthy_root legacy)
L=evo_evo_hal_sensors_4250
legacy_hdr 24 4250 3 4096 | file "$root/dev/shm/$L" 4224
printf '{\n  "name": "evo_hal_sensors",\n  "size": 4096,\n  "writer_pid": 4250,\n  "created_at": {"secs_since_epoch": 1700000000, "nanos_since_epoch": 0},\n  "reader_count": 0\n}' \
        >"$root/dev/shm/evo_evo_hal_sensors.meta"
fx_proc "$root" 4250 hal_sensors
fx_proc "$root" 4251 monitor
maps_line "$root" 4250 "/dev/shm/$L" rw-s
maps_line "$root" 4251 "/dev/shm/$L" rw-s
t_run check --root "$root" --only evo --json
t_is "$RC" 0 "legacy segment with a live writer: exit 0"
t_is "$(about "$L")" "evo.crashed_readers=info evo.segments=info" "legacy: inventory info, crashed readers info"
t_is "$(sub_field evo.segments "$L" summary)" \
        "$L: legacy segment 'evo_hal_sensors', 4.1 KiB, data 4096 B, 12 writes (version 24); writer pid 4250 (hal_sensors) alive; read by pid 4251 (monitor); written by a pre-P2P build: HEAD modules cannot read it" \
        "legacy inventory: name without the pid, writes from the seqlock version, writer_pid alive, reader"
t_like "$(sub_field evo.segments "$L" actual)" "reader_count 3, writer_pid 4250, created 2023-11-14 22:13:20 UTC, evo_evo_hal_sensors.meta read" \
        "details: reader_count, writer_pid, created_ts, the .meta parsed"
t_is "$(sub_field evo.crashed_readers "$L" summary)" "$L: reader_count 3 but 1 live reader: 2 crashed without detaching" "reader_count 3, one live mapper"
t_is "$(sub_sev evo.unknown_name "$L")" "" "evo_hal_sensors is a legacy name evo-core used"
rm -rf "$root/proc/4250"
t_run check --root "$root" --only evo --json
t_is "$RC" 2 "legacy writer gone: exit 2"
t_is "$(sub_field evo.orphaned "$L" summary)" "$L is orphaned: its writer pid 4250 is gone" "legacy orphan from writer_pid"
t_like "$(sub_field evo.orphaned "$L" remedy)" "^rm /dev/shm/$L /dev/shm/evo_evo_hal_sensors.meta   #" "remedy: the data file and its .meta"
rm -rf "$root/proc"
mkdir "$root/proc"
: >"$root/proc/locks"
t_run check --root "$root" --only evo --json
t_is "$(sub_sev evo.orphaned "$L")" info "no process table in the evidence: liveness info, not a false orphan"
t_is "$(t_sev evo.mappers),$(t_sev evo.crashed_readers),$(t_sev evo.reader_access)" skipped,skipped,skipped "and the maps-based checks are skipped"

# ---------------- leftovers
root=$(healthy_root leftovers)
: >"$root/dev/shm/evo_gone.lock"
: >"$root/dev/shm/evo_held.lock"
flock_line "$root" 4242 /dev/shm/evo_held.lock
: >"$root/dev/shm/evo_old.meta"
t_run check --root "$root" --only evo --json
t_is "$RC" 1 "leftovers: exit 1"
t_is "$(sub_sev evo.leftovers evo_gone.lock),$(sub_sev evo.leftovers evo_held.lock),$(sub_sev evo.leftovers evo_old.meta)" info,warn,warn \
        "a free stale .lock is info; a held .lock without segment and a stale .meta are warn"
t_is "$(sub_field evo.leftovers evo_gone.lock remedy)" "rm /dev/shm/evo_gone.lock" "remedy removes the stale lock"
t_like "$(sub_field evo.leftovers evo_held.lock summary)" "held by pid 4242 \(evo_hal\) but its segment evo_held is gone: readers get SegmentNotFound" "held lock without its segment"
t_like "$(sub_field evo.leftovers evo_old.meta summary)" "the next legacy writer cannot create it and fails to start" "stale .meta blocks the legacy writer"
t_run check --root "$root" --only evo
t_like "$OUT" "  WARN +evo.leftovers +evo_old.meta is left over" "text: the leftover line"

# ---------------- permissions (the guide's chmod 664 evo_*)
root=$(healthy_root perms)
chmod 664 "$root/dev/shm/evo_hal_cu" "$root/dev/shm/evo_hal_cu.lock"
t_run check --root "$root" --only evo --json
t_is "$RC" 1 "group-writable P2P segment and open lock: exit 1"
t_is "$(sub_sev evo.permissions evo_hal_cu)" warn "permissions warn"
t_like "$(sub_field evo.permissions evo_hal_cu summary)" "mode 0664\) is writable by its group \(g\+w\).*; and its .lock can be opened by every user" "g+w data and world-readable lock"
t_is "$(sub_field evo.permissions evo_hal_cu remedy | cut -d'#' -f1)" "chmod 640 /dev/shm/evo_hal_cu && chmod 600 /dev/shm/evo_hal_cu.lock   " "remedy: 640 and 600"
chmod 600 "$root/dev/shm/evo_hal_cu.lock"
chmod 602 "$root/dev/shm/evo_hal_cu"
t_run check --root "$root" --only evo --json
t_like "$(sub_field evo.permissions evo_hal_cu summary)" "mode 0602\) is writable by every user \(o\+w\)" "world-writable"

# ---------------- reader access (PermissionDenied)
root=$(healthy_root access)
# CU (pid 4300, uid 1002) writes cu_hal, so it is module cu: the reader of hal_cu. It does not map hal_cu.
p2p_hdr 9 0 1 64 | file "$root/dev/shm/evo_cu_hal" 4096
lock "$root/dev/shm/evo_cu_hal.lock"
fx_proc "$root" 4300 evo_cu2 uid=1002
flock_line "$root" 4300 /dev/shm/evo_cu_hal.lock
maps_line "$root" 4300 /dev/shm/evo_cu_hal rw-s
maps_line "$root" 4242 /dev/shm/evo_cu_hal r--s # HAL (uid 0) reads cu_hal: root passes any mode
t_run check --root "$root" --only evo --json
t_is "$RC" 1 "a module that cannot open its input: exit 1"
t_is "$(sub_sev evo.reader_access evo_hal_cu),$(sub_sev evo.reader_access evo_cu_hal)" "warn," "hal_cu is unreadable for CU; cu_hal is fine for root HAL"
t_like "$(sub_field evo.reader_access evo_hal_cu summary)" \
        "^evo_hal_cu \(mode 0600, owner [^)]*\) cannot be opened for reading by pid 4300 \(evo_cu2\) as evo-cu:evo-cu: PermissionDenied when it attaches$" \
        "names the process, its user, the mode"
t_like "$(sub_field evo.reader_access evo_hal_cu remedy)" "chown :evo /dev/shm/evo_hal_cu && chmod 640 /dev/shm/evo_hal_cu && usermod -a -G evo" "remedy: group evo, 0640"
chmod 644 "$root/dev/shm/evo_hal_cu"
t_run check --root "$root" --only evo --json
t_is "$(t_sev evo.reader_access)" ok "0644: CU can read it now"
t_is "$RC" 0 "exit 0"

# ================================================================ live segments in /dev/shm
[ -d /dev/shm ] && [ -w /dev/shm ] || { t_skip_rest "live segments: /dev/shm not writable"; t_done; exit $?; }
PY=/usr/bin/python3 # the system's: other users (nobody) can run it
[ -x "$PY" ] || { t_skip_rest "live segments: $PY (the readers) missing"; t_done; exit $?; }
P="t$$" # every name of this run starts with evo_${P}_: never another run's segment
PIDS=""
cleanup() {
        local p
        for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
        for p in $PIDS; do wait "$p" 2>/dev/null; done
        rm -rf /dev/shm/evo_"${P}"_*
}
t_at_exit cleanup
# start VAR ARGS...: a writer in the background; waits for its "ready" line; VAR=its pid
start() {
        local var=$1 i pid
        shift
        "$W" "$@" >"$T_TMP/$var.out" 2>"$T_TMP/$var.err" &
        pid=$!
        PIDS="$PIDS $pid"
        for i in $(seq 200); do
                grep -q '^ready' "$T_TMP/$var.out" 2>/dev/null && break
                sleep 0.05
        done
        grep -q '^ready' "$T_TMP/$var.out" || echo "# writer $* not ready: $(cat "$T_TMP/$var.err")"
        printf -v "$var" '%s' "$pid"
}
# reader VAR PATH MODE [USER]: a process that mmaps PATH (MODE r or rw), optionally as USER,
# until cleanup kills it (no helper process of its own that could outlive the test)
reader() {
        local var=$1 path=$2 mode=$3 user=${4:-} i pid
        local py='import mmap,os,sys
rw=sys.argv[2]=="rw"
fd=os.open(sys.argv[1],os.O_RDWR if rw else os.O_RDONLY)
m=mmap.mmap(fd,0,prot=mmap.PROT_READ|(mmap.PROT_WRITE if rw else 0))
print("ready",flush=True)
import signal
signal.pause()'
        if [ -n "$user" ]; then
                setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups "$PY" -c "$py" "$path" "$mode" \
                        </dev/null >"$T_TMP/$var.out" 2>&1 &
        else
                "$PY" -c "$py" "$path" "$mode" </dev/null >"$T_TMP/$var.out" 2>&1 &
        fi
        pid=$!
        PIDS="$PIDS $pid"
        for i in $(seq 200); do
                grep -q '^ready' "$T_TMP/$var.out" 2>/dev/null && break
                sleep 0.05
        done
        printf -v "$var" '%s' "$pid"
}
legacy_path() { awk '{print $2}' "$T_TMP/$1.out"; }

start OK --name "${P}_ok" --rate 200
start STALL --name "${P}_stall" --mode stall
start ODD --name "${P}_odd" --mode odd
start ODDX --name "${P}_oddx" --mode odd-exit
start ORPH --name "${P}_orph" --mode orphan
start NEVER --name "${P}_never" --mode never
start LEG --name "${P}_leg" --mode legacy --readers 3
start MID --name "${P}_mid" --mode intermediate
start WW --name "${P}_ww" --mode-bits 0666
LEGF=$(basename "$(legacy_path LEG)")
MIDF=$(basename "$(legacy_path MID)")
reader RD "/dev/shm/evo_${P}_ok" r
reader RL "/dev/shm/$LEGF" rw
# hostile entries
printf 'abc' >"/dev/shm/evo_${P}_short"
head -c 4096 /dev/urandom | tr -d 'E\0' >"/dev/shm/evo_${P}_rand"
ln -s /etc/shadow "/dev/shm/evo_${P}_x"
mkfifo "/dev/shm/evo_${P}_y"
truncate -s 4G "/dev/shm/evo_${P}_big"

# A generous deadline: a FIFO that blocked would still hang past it; a loaded host with
# hundreds of processes (whose maps the collector reads for readers) needs more than 5 s.
T_TIMEOUT=120 t_run check --only evo --json --collector-timeout 60s --timeout 100s
t_is "$(evo_status)" ok "live: the collector finished (FIFO not blocking, 4 GiB file not read, symlink not followed)"
t_is "$RC" 2 "live: exit 2 (there are crit segments)"
t_is "$(about "evo_${P}_ok")" "evo.segments=ok evo.stalled=ok evo.unknown_name=info" "tick: inventory, its rate, and a test name evo-core does not use"
t_like "$(sub_field evo.segments "evo_${P}_ok" summary)" \
        "^evo_${P}_ok: P2P cu->cu, 4.0 KiB, payload 64 B, heartbeat [1-9][0-9]*; writer pid $OK \(evo_writer\) holds the lock; read by pid $RD \(python3\)$" \
        "tick: writer from /proc/locks, reader from /proc/$RD/maps"
t_like "$(sub_field evo.stalled "evo_${P}_ok" summary)" "^evo_${P}_ok: heartbeat advancing at [0-9.]+ Hz$" "tick: its rate in Hz"
t_is "$(about "evo_${P}_stall")" "evo.segments=ok evo.stalled=crit evo.unknown_name=info" "stall: evo.stalled crit"
t_like "$(sub_field evo.stalled "evo_${P}_stall" summary)" "heartbeat stuck at 3 for [0-9]+ ms while writer pid $STALL \(evo_writer\) is alive: stalled writer" "stall: summary"
t_is "$(about "evo_${P}_odd")" "evo.segments=ok evo.stalled=crit evo.unknown_name=info evo.write_seq=crit" "odd: write_seq crit (and its heartbeat is stuck)"
t_like "$(sub_field evo.write_seq "evo_${P}_odd" summary)" "write_seq 7 odd in both samples [0-9]+ ms apart: writer pid $ODD \(evo_writer\) is stuck mid-write" "odd: stuck mid-write"
t_is "$(about "evo_${P}_oddx")" "evo.orphaned=crit evo.segments=ok evo.unknown_name=info evo.write_seq=crit" "odd-exit: orphaned and write_seq crit"
t_like "$(sub_field evo.write_seq "evo_${P}_oddx" summary)" "the writer died mid-write, the payload is torn" "odd-exit: died mid-write"
t_is "$(about "evo_${P}_orph")" "evo.orphaned=crit evo.segments=ok evo.unknown_name=info" "orphan: evo.orphaned crit"
t_like "$(sub_field evo.orphaned "evo_${P}_orph" remedy)" "^rm /dev/shm/evo_${P}_orph /dev/shm/evo_${P}_orph.lock   # evodiag never deletes" "orphan: exact files to remove"
t_is "$([ -e "/dev/shm/evo_${P}_orph" ] && [ -e "/dev/shm/evo_${P}_orph.lock" ] && echo kept)" kept "evodiag removed nothing"
t_is "$(about "evo_${P}_never")" "evo.never_committed=warn evo.segments=ok evo.unknown_name=info" "never: never_committed warn, not stalled"
t_is "$(about "$LEGF")" "evo.crashed_readers=info evo.segments=info evo.stalled=ok evo.unknown_name=info" "legacy: info inventory, crashed readers info"
t_is "$(sub_field evo.crashed_readers "$LEGF" summary)" "$LEGF: reader_count 3 but 1 live reader: 2 crashed without detaching" "legacy --readers 3 with one live reader"
t_like "$(sub_field evo.segments "$LEGF" summary)" "legacy segment '${P}_leg', .*writer pid $LEG \(evo_writer\) alive; read by pid $RL \(python3\)" "legacy: writer_pid, reader"
t_is "$(about "$MIDF")" "evo.segments=info evo.stalled=ok evo.unknown_name=info" "intermediate: decoded, nothing wrong"
t_like "$(sub_field evo.segments "$MIDF" summary)" "intermediate \(legacy file, P2P header at 128\) cu->cu, .*heartbeat [1-9]" "intermediate: the P2P header at 128"
t_like "$(sub_field evo.stalled "$MIDF" summary)" "heartbeat advancing at [0-9.]+ Hz" "intermediate: its P2P heartbeat ticks"
t_is "$(about "evo_${P}_ww")" "evo.permissions=warn evo.segments=ok evo.stalled=ok evo.unknown_name=info" "world-writable: permissions warn"
t_is "$(sub_sev evo.not_segment "evo_${P}_short"),$(sub_sev evo.not_segment "evo_${P}_rand"),$(sub_sev evo.not_segment "evo_${P}_x"),$(sub_sev evo.not_segment "evo_${P}_y"),$(sub_sev evo.not_segment "evo_${P}_big")" \
        info,info,info,info,info "3 bytes, random, symlink, FIFO, 4 GiB sparse: not EVO segments (info)"
t_like "$(sub_field evo.not_segment "evo_${P}_x" actual)" "symlink to /etc/shadow" "the symlink's target is named, not read"
t_like "$(sub_field evo.not_segment "evo_${P}_big" actual)" "4294967296 bytes" "the 4 GiB file is seen by its size"

T_TIMEOUT=120 t_run check --only evo --collector-timeout 60s --timeout 100s
t_like "$OUT" "  CRIT +evo.orphaned +evo_${P}_orph is orphaned: nobody holds the flock on its .lock \(its writer is gone\)" "live text: the orphan line"
t_like "$OUT" "  CRIT +evo.stalled +evo_${P}_stall: heartbeat stuck at 3" "live text: the stall line"

# As another user: what needs root is skipped, never a false alarm; the orphan is still
# found (the .lock and /proc/locks need no root).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups test -x "$EVODIAG"; then
        OUT=$(timeout 120 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$EVODIAG" check --only evo --json --collector-timeout 60s --timeout 100s 2>/dev/null)
        RC=$?
        t_is "$(evo_status)" ok "as nobody: the collector ran"
        t_is "$(sub_sev evo.segments "evo_${P}_ok")" skipped "as nobody: root's 0600 segment is skipped (needs root)"
        t_like "$(sub_field evo.segments "evo_${P}_ok" summary)" "^needs root: evo_${P}_ok: cannot open it \(Permission denied; mode 0600" "and says why"
        t_is "$(sub_sev evo.orphaned "evo_${P}_orph")" crit "as nobody: the orphan is still found"
        t_is "$(sub_sev evo.segments "evo_${P}_ww")" ok "as nobody: a 0666 segment is read"
        t_is "$(t_sev evo.mappers),$(t_sev evo.reader_access)" skipped,skipped "as nobody: the maps scan and reader access are skipped"
        t_is "$(sub_sev evo.stalled "evo_${P}_stall")" "" "as nobody: no stall judged on a header it cannot read"
else
        t_skip "as nobody: needs root, setpriv, and a build directory nobody can reach"
fi

# The writer dies (SIGKILL: no cleanup): the segment becomes an orphan.
kill -9 "$LEG"
wait "$LEG" 2>/dev/null
T_TIMEOUT=120 t_run check --only evo --json --collector-timeout 60s --timeout 100s
t_is "$(sub_field evo.orphaned "$LEGF" summary)" "$LEGF is orphaned: its writer pid $LEG is gone" "legacy writer killed: orphaned"
t_like "$(sub_field evo.orphaned "$LEGF" remedy)" "^rm /dev/shm/$LEGF /dev/shm/evo_${P}_leg.meta   #" "remedy: its data file and .meta"

# PermissionDenied: a reader running as nobody maps one segment (0644) and would read a 0600 one.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        start PUB --name "${P}_pub" --mode-bits 0644
        reader RN "/dev/shm/evo_${P}_pub" r nobody
        T_TIMEOUT=120 t_run check --only evo --json --collector-timeout 60s --timeout 100s
        t_is "$(sub_sev evo.reader_access "evo_${P}_ok")" warn "nobody's reader cannot open the 0600 segment: warn"
        t_like "$(sub_field evo.reader_access "evo_${P}_ok" summary)" "cannot be opened for reading by pid $RN \(python3\) as nobody:" "it names the reader and its user"
        t_is "$(sub_sev evo.reader_access "evo_${P}_pub")" "" "the segment it maps is not reported"
        t_is "$(sub_sev evo.reader_access "evo_${P}_orph")" "" "nor an orphan (a restarted writer recreates it)"
else
        t_skip "PermissionDenied live: needs root and setpriv to run a reader as nobody"
fi

# ---------------- bundle: the decoded header and hex dump, and check --from agrees
out="$T_TMP/bundle"
mkdir -p "$out"
if command -v zstd >/dev/null; then
        # a generous deadline: a loaded host must not make the bundle incomplete
        T_TIMEOUT=120 t_run bundle --only evo -o "$out" -q --collector-timeout 60s --timeout 100s
        t_is "$RC" 0 "bundle --only evo: exit 0"
        file=$(ls "$out"/evodiag-*.tar.zst 2>/dev/null | head -1)
        x="$T_TMP/x"
        mkdir -p "$x"
        tar --zstd -xf "$file" -C "$x"
        top="$x/$(ls "$x")"
        h="$top/collectors/evo/evo_${P}_ok.header.json"
        t_is "$(jq -r '[.layout, .class, .p2p.magic, .p2p.payload_size, .writer.state, .writer.pid] | join(" ")' "$h")" \
                "p2p valid EVO_P2P\\0 64 alive $OK" "bundle: the decoded header as JSON"
        t_like "$(jq -r '.p2p.heartbeat' "$h")" "^[1-9][0-9]*$" "bundle: with its heartbeat"
        t_like "$(head -1 "$top/collectors/evo/evo_${P}_ok.hexdump.txt")" "^00000000  45 56 4f 5f 50 32 50 00  " "bundle: the hex dump of the header"
        t_like "$(cat "$top/collectors/evo/evo_${P}_ok.locks.txt")" "FLOCK +ADVISORY +WRITE $OK " "bundle: the /proc/locks line"
        t_is "$(jq -r '[.mappers[] | "\(.pid) \(.role)"] | join(",")' "$top/collectors/evo/evo_${P}_ok.mappers.json")" "$OK writer,$RD reader" "bundle: the mappers"
        t_is "$(stat -c %s "$top/host/dev/shm/evo_${P}_ok")" 64 "bundle: host/dev/shm keeps only the header bytes"
        t_is "$(stat -c %s "$top/host/dev/shm/evo_${P}_big" 2>/dev/null || echo none)" 192 "bundle: of the 4 GiB file only the first bytes"
        t_is "$([ -e "$top/host/etc/shadow" ] && echo leaked)" "" "bundle: the symlink's target is not collected"
        t_is "$(jq -r '.artifacts[] | select(.path == "host/dev/shm/evo_'"$P"'_leg.meta" and .kind == "file") | .status' "$top/manifest.json")" ok "bundle: the .meta file"
        T_TIMEOUT=120 t_run check --from "$file" --json --collector-timeout 60s --timeout 100s
        t_like "$ERR" "re-checked offline: 1 collectors agree with the bundle's recorded findings, 0 differ" "check --from agrees (non-live checks)"
        t_is "$(sub_sev evo.orphaned "evo_${P}_orph")" crit "check --from: the orphan from the bundled /proc/locks"
        t_is "$(t_sev evo.stalled)" skipped "check --from: stalled needs the live system"
else
        t_skip "bundle: zstd not installed"
fi

# ================================================================ exact live exit codes: a private /dev/shm
# Other tests may make evo_* segments at the same time: in a new mount namespace with
# its own tmpfs on /dev/shm only this test's segments exist, under evo-core's real names.
private() { # SCRIPT -> runs it with a private /dev/shm; OUT, RC of evodiag; the writers die with it
        unshare -m bash -c '
                mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 99
                W=$1; E=$2; T=$3
                # (one output file per writer: a shared one, truncated by the next writer, hid its "ready")
                go() { N=$((N + 1)); "$W" "$@" >"$T/p$N.out" 2>&1 & PIDS="$PIDS $!"
                       for i in $(seq 400); do grep -q ^ready "$T/p$N.out" && break; sleep 0.05; done; }
                '"$1"'
                timeout 120 "$E" check --only evo --json --collector-timeout 60s --timeout 100s >"$T/p.json"; echo $? >"$T/p.rc"
                for p in $PIDS; do kill -9 $p; done; wait' _ "$W" "$EVODIAG" "$T_TMP"
}
if unshare -m true 2>/dev/null; then
        private 'go --name hal_cu --rate 200; go --name cu_hal --rate 200'
        OUT=$(cat "$T_TMP/p.json")
        t_is "$(cat "$T_TMP/p.rc")" 0 "private /dev/shm, hal_cu and cu_hal ticking: exit 0"
        t_is "$(t_ids_with warn)|$(t_ids_with crit)|$(t_ids_with unknown)" "||" "healthy live pair: no warn, crit or unknown"
        t_is "$(t_sev evo.segments)" ok,ok "both decoded, no info (known names, P2P)"
        t_is "$(t_sev evo.stalled)" ok,ok "both advancing"
        private 'go --name hal_cu --mode never'
        OUT=$(cat "$T_TMP/p.json")
        t_is "$(cat "$T_TMP/p.rc"):$(t_ids_with warn):$(t_ids_with crit)" "1:evo.never_committed:" "private: never committed alone: exit 1"
        private 'go --name hal_cu --mode stall'
        OUT=$(cat "$T_TMP/p.json")
        t_is "$(cat "$T_TMP/p.rc"):$(t_ids_with crit)" "2:evo.stalled" "private: a stalled writer alone: exit 2"
        private 'go --name hal_cu --mode orphan'
        OUT=$(cat "$T_TMP/p.json")
        t_is "$(cat "$T_TMP/p.rc"):$(t_ids_with crit)" "2:evo.orphaned" "private: an orphan alone: exit 2"
else
        t_skip "private /dev/shm: unshare -m not permitted"
fi
t_done
