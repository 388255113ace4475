/* evo: the EVO stack's shared-memory segments (/dev/shm/evo_*). Decodes the three
 * header layouts (P2P at HEAD, the legacy evo_shared_memory crate, and the
 * intermediate one), reads them with the writers' seqlock protocol, finds the
 * writer from /proc/locks (never by taking its lock) and the readers from
 * /proc/PID/maps, samples the heartbeat twice for a rate, and reports orphans,
 * stalls, torn writes, corruption, modes and readers that would get
 * PermissionDenied. Layouts: /work/shared/docs/COMPONENTS.md §1; symptoms and
 * remedies: the EVO shared-memory guide. evodiag never removes or changes a
 * segment: remedies name the exact files and commands.
 * This file: the checks' texts, the config keys, detect() and check(); the other
 * files of the collector are listed in collectors/evo_private.h. */
#include "config.h"
#include "collectors/evo_private.h"

static const struct check_info checks[] = {
        {"evo.segments", "EVO shared-memory segments",
         "Every /dev/shm/evo_* data object (the .lock and .meta companions are not segments),\n"
         "decoded from its header. Three layouts exist (COMPONENTS.md §1):\n"
         "  P2P (evo-core HEAD): /dev/shm/evo_<src>_<dst>, 64-byte header, magic EVO_P2P,\n"
         "    heartbeat +1 per commit, write_seq odd while a commit is in progress, and a\n"
         "    companion evo_<name>.lock the writer holds with flock for its whole life;\n"
         "  legacy (evo_shared_memory crate, removed 2026-02-18): /dev/shm/evo_<name>_<pid>,\n"
         "    128-byte header (magic EVO_SHM, seqlock version, writer_pid, reader_count) and a\n"
         "    /dev/shm/evo_<name>.meta JSON;\n"
         "  intermediate (commit 3682320): a legacy file with a P2P header at offset 128.\n"
         "Only the header bytes are read, with pread (never mmap: a truncated file cannot\n"
         "SIGBUS evodiag, a 4 GiB one is not read), retrying like the readers do while the\n"
         "sequence is odd or changes (at most [evo] seqlock_attempts times). Entries are opened\n"
         "with O_NOFOLLOW|O_NONBLOCK and must be regular files. The writer of a P2P segment is\n"
         "who holds the flock on evo_<name>.lock according to /proc/locks: evodiag never takes\n"
         "the lock itself (upstream's probe_writer does, and a writer starting at that moment\n"
         "then fails with WriterAlreadyExists). The legacy writer is writer_pid. Readers are the\n"
         "processes whose /proc/PID/maps name the segment. Legacy and intermediate segments are\n"
         "info: modules built from evo-core HEAD cannot read them (rebuild the writer).\n"
         "The subject is the file name in /dev/shm (evo_hal_cu, evo_evo_hal_sensors_4242).\n"
         "Look by hand: ls -la /dev/shm/evo_*; xxd -l 64 /dev/shm/evo_<name>;\n"
         "  grep \":$(stat -c %i /dev/shm/evo_<name>.lock) \" /proc/locks"},
        {"evo.not_segment", "Entries named evo_* that are not EVO segments",
         "An entry in /dev/shm named evo_* that is not an EVO segment: a symlink (never\n"
         "followed: evo_x -> /etc/shadow is reported, not read), a FIFO or socket (not opened\n"
         "in a way that could block), a directory, or a regular file with no EVO magic and\n"
         "nothing else that ties it to EVO (no evo_<name>.lock, no .meta, not a known segment\n"
         "name, nobody maps it). EVO readers that scan /dev/shm (SegmentDiscovery) skip or\n"
         "trip over such entries; a symlink there is also a classic attack on tools that\n"
         "follow it. Info. Fix: find who made it (ls -la; lsof) and remove or rename it."},
        {"evo.corrupt", "Corrupt EVO segments",
         "An EVO segment whose header is not what a writer leaves: no magic although it is tied\n"
         "to EVO (its .lock exists, a .meta names it, its name is a known segment, or a process\n"
         "maps it), a file shorter than its header, or shorter than header + payload_size (a\n"
         "reader that maps it gets SIGBUS past the end), write_seq not 2*heartbeat (or +1 mid-\n"
         "write), a legacy data size that is not a multiple of 4096 in 4 KiB..1 GiB, writer_pid\n"
         "0. Readers fail with an invalid-magic / version error or read garbage (the guide's\n"
         "\"Memory Corruption\"). Crit.\n"
         "Fix: stop the writer, remove the segment (rm /dev/shm/evo_<name> /dev/shm/evo_<name>.lock)\n"
         "and start the writer again; if it comes back corrupt, look for a second writer or a\n"
         "version mismatch between modules (the guide's \"Version Compatibility\")."},
        {"evo.unknown_name", "Segments with a name evo-core does not use",
         "A valid segment whose name is not one of the 15 P2P segments of evo-core HEAD\n"
         "(evo_common/src/shm/segments.rs: hal_cu, cu_hal, cu_mqt, hal_mqt, re_cu, re_hal,\n"
         "re_mqt, re_rpc, rpc_cu, rpc_hal, rpc_re, cu_re, cu_rpc, hal_rpc, hal_re) nor, for\n"
         "legacy files, one of the 15 legacy names (evo_hal_sensors, evo_control_state, ...).\n"
         "Readers open segments by name: a misspelt name is the guide's \"Segment Not Found\"\n"
         "(\"Segment name mismatch: check spelling and case sensitivity\"). Info: test and\n"
         "third-party segments are legitimate. Fix: compare the writer's and the readers'\n"
         "names (ls /dev/shm | grep evo_)."},
        {"evo.orphaned", "Segments whose writer is gone",
         "A segment whose writer no longer runs. P2P: nobody holds the flock on\n"
         "/dev/shm/evo_<name>.lock (/proc/locks has no FLOCK line for its inode), or the .lock is\n"
         "missing — the same rule as upstream's probe_writer, read without taking the lock.\n"
         "Legacy and intermediate: writer_pid (else the pid in the file name) has no /proc entry\n"
         "(upstream's cleanup also waits until the segment is 60 s old; a dead pid is dead, so\n"
         "evodiag does not). A writer that exits cleanly unlinks its files; a crashed one leaves\n"
         "them. Readers keep reading the last data with a frozen heartbeat, and the dead\n"
         "segment is what they attach to until the writer creates a new one. Crit.\n"
         "Fix (evodiag never deletes): make sure the writer is really gone, then remove exactly\n"
         "the files the finding names, e.g. rm /dev/shm/evo_x /dev/shm/evo_x.lock (legacy:\n"
         "rm /dev/shm/evo_<name>_<pid> /dev/shm/evo_<name>.meta), and restart the writer; readers\n"
         "that still map the old segment must re-attach (restart them). Upstream's\n"
         "SegmentDiscovery::cleanup_dead() does the same removal."},
        {"evo.leftovers", "Stale .lock and .meta files",
         "Companion files without their segment. evo_<name>.lock with no evo_<name>: harmless\n"
         "if nobody holds it (info: a writer that died between the two shm_open calls, or a\n"
         "segment removed by hand); if a process holds it, the writer runs but its segment is\n"
         "gone (removed while in use): readers get SegmentNotFound (warn). evo_<name>.meta with\n"
         "no evo_<name>_<pid>: the legacy writer creates .meta with create_new, so a leftover\n"
         "one makes the next writer fail to start (warn).\n"
         "Fix: rm the named file (and restart the writer that lost its segment)."},
        {"evo.never_committed", "Segments never written",
         "Heartbeat 0 (P2P, intermediate) or legacy version 0: the writer created the segment\n"
         "but never committed. Readers wait for it forever; the evo watchdog's\n"
         "wait_for_segment(\"hal_cu\") counts a segment as ready only when the heartbeat is > 0.\n"
         "Warn. Fix: look at the writer's log (journalctl -u <unit>, or its stdout) — it is\n"
         "usually stuck in its start-up (hardware, config) before its first cycle."},
        {"evo.stalled", "Heartbeat advancing",
         "The heartbeat is read twice, [evo] sample_ms apart (default 200 ms), and the rate\n"
         "shown in Hz. A live writer whose heartbeat did not move is stalled (crit): its RT loop\n"
         "is blocked, starved or spinning elsewhere, and readers act on stale data (upstream\n"
         "raises HeartbeatStale). Legacy segments are written when data changes, not each\n"
         "cycle: no write during the window is info. A writer committing slower than once per\n"
         "sample_ms looks stalled: raise [evo] sample_ms for it.\n"
         "Needs the live system (two samples): `check --from` does not re-judge it.\n"
         "Fix: find the writer (the finding names its pid): cat /proc/<pid>/stack, top -H -p <pid>,\n"
         "check its CPU is not shared with other RT work (evodiag check --only rt,isolation), then\n"
         "restart it.",
         .live = true},
        {"evo.expected_segment", "Declared segments exist, written by the declared module",
         "Each segment the config's [expect] evo_segments names must exist as /dev/shm/evo_<name>\n"
         "(a legacy evo_<name>_<pid> counts), and where [expect] evo_writers names its writer\n"
         "module (hal_cu:hal) the header's source module (P2P) or the live writer's process name\n"
         "(legacy) must be that one. A missing segment is crit: readers fail with\n"
         "SegmentNotFound. Usual causes (the EVO guide): the producer is not running; the name\n"
         "is spelt differently (names are case sensitive: the finding says when only the case\n"
         "differs); the segment is there but not readable.\n"
         "Fix: start the producer; check the name's spelling and case; ls -la /dev/shm/ | grep evo."},
        {"evo.expected_rate", "Declared heartbeat rates",
         "For each segment [expect] evo_heartbeat_min names (hal_cu:100), the heartbeat is read\n"
         "twice, [evo] sample_ms apart, and the rate must be at least the declared Hz. Slower\n"
         "is crit: the writer's loop does not keep its period (CPU contention, a blocked call).\n"
         "A missing segment is crit too. Needs the live system (two samples).\n"
         "Fix: top -H -p <writer pid>; evodiag check --only rt,isolation.",
         .live = true},
        {"evo.write_seq", "Writes left half-done",
         "write_seq (P2P) or the legacy seqlock version odd in both samples: a write began and\n"
         "never finished. If the writer is alive it is stuck mid-commit; if it is dead it died\n"
         "mid-write and the payload is torn. Readers retry 10 times and then fail with\n"
         "ReadContention / VersionConflict on every read. Crit.\n"
         "Needs the live system (two samples): `check --from` does not re-judge it.\n"
         "Fix: restart the writer (kill <pid>; if it is dead, remove the segment as for\n"
         "evo.orphaned first).",
         .live = true},
        {"evo.permissions", "Segment and lock modes",
         "Upstream creates both the data object and the .lock with mode 0600 (shm_open(...,\n"
         "S_IRUSR|S_IWUSR), comment \"// 0o600\"; legacy: .mode(0o600)). The guide's\n"
         "troubleshooting page instead says to expect -rw-rw-r-- and to run\n"
         "chmod 664 /dev/shm/evo_* && chown :evo /dev/shm/evo_*: that contradicts the code, and\n"
         "the glob also opens up the .lock files. Warn when:\n"
         "  a data object is world-writable (o+w): any local user can rewrite what the RT\n"
         "    loop acts on;\n"
         "  a P2P data object is group-writable (g+w): P2P readers open it O_RDONLY, only the\n"
         "    writer needs write (legacy readers do need it: they bump reader_count);\n"
         "  a .lock is readable or writable by others: anyone who can open it can take the\n"
         "    flock and keep the writer from starting (WriterAlreadyExists).\n"
         "Fix: for shared read access use group read, not write:\n"
         "  chmod 640 /dev/shm/evo_<name> && chown :evo /dev/shm/evo_<name>; chmod 600 /dev/shm/evo_<name>.lock\n"
         "(legacy: chmod 660). A new writer recreates the files with its own mode: make it\n"
         "create them that way (fchmod after shm_open) rather than fixing them by hand."},
        {"evo.crashed_readers", "Legacy reader_count against live readers",
         "The legacy header's reader_count is incremented when a reader attaches and\n"
         "decremented in its Drop: a reader that crashed never decrements it. A count larger\n"
         "than the processes that map the segment now (the writer excluded) means crashed\n"
         "readers. Info: the count is only bookkeeping, but tools that trust it (monitoring,\n"
         "cleanup that waits for 0 readers) are misled. Fix: restart the writer (a new segment\n"
         "starts at 0). Needs every process's maps: skipped as non-root."},
        {"evo.reader_access", "Readers that cannot open a segment (PermissionDenied)",
         "The guide's \"Permission Denied\" (ShmError::PermissionDenied), found before a reader\n"
         "hits it. A would-be reader of a segment is:\n"
         "  for a P2P name <src>_<dst> of known modules: a process of module <dst>, i.e. one that\n"
         "    holds the lock of a <dst>_* segment (its writer) or maps an *_<dst> segment it does\n"
         "    not write;\n"
         "  for other names: a process that maps another EVO segment it does not write (an EVO\n"
         "    reader).\n"
         "It is reported when it does not map this segment and its file-system uid/gid and\n"
         "groups (/proc/PID/status) do not pass the segment's mode bits for the access readers\n"
         "use: read for P2P, read-write for legacy (the reader bumps reader_count). uid 0 always\n"
         "passes; POSIX ACLs and capabilities are not evaluated. Warn.\n"
         "Fix (the guide's, narrowed): sudo chown :evo /dev/shm/evo_<name> && sudo chmod 640\n"
         "/dev/shm/evo_<name> (legacy 660), sudo usermod -a -G evo <reader user> (then restart it),\n"
         "and make the writer create it that way; or run the modules as one user.\n"
         "Needs every process's maps and status: skipped as non-root."},
        {"evo.mappers", "Who maps EVO segments (/proc/PID/maps scan)",
         "The scan of every process's /proc/PID/maps that finds each segment's readers. As\n"
         "non-root other users' maps are unreadable: readers, crashed readers and reader access\n"
         "are then unknown (skipped), not absent. Each maps file is read up to [evo]\n"
         "maps_max_kb. Fix: run as root (sudo evodiag check --only evo)."},
        {"evo.version", "The EVO modules' versions",
         "For bug reports (ISSUE.md's versions; the guide's bug report asks for the EVO version):\n"
         "the crate version each module logs when it starts (evo-core: \"EVO System Supervisor\n"
         "v0.1.0 starting...\", \"EVO Control Unit v...\", \"EVO HAL Core v...\"), the last such line\n"
         "in the journal (_COMM evo, evo_control_uni, evo_hal), believed only from root or the\n"
         "user that owns an EVO segment. The segments carry no version (only the payload's layout\n"
         "hash) and the binaries are not asked: an evo built before evo-core b7a9d87 parses no\n"
         "--version and would start a second supervisor. Info; skipped when no line is found\n"
         "(a module not run under systemd, or one older than the versioned startup line).",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_UINT("sample_ms", "200", 10, 600000, "interval between the two heartbeat samples (ms); slower writers look stalled"),
        CONF_UINT("seqlock_attempts", "10", 1, 1000, "reads of a header before giving up on a consistent copy (upstream: 10)"),
        CONF_UINT("scan_max", "1000", 1, 10000000, "examine at most this many /dev/shm/evo_* entries"),
        CONF_UINT("maps_max_kb", "2048", 1, 262144, "read at most this many KiB of each /proc/PID/maps"),
        {0},
};

static bool evo_detect(struct ctx *c)
{
        if (evo_expects_segments(c)) /* declared segments: their absence is the finding */
                return true;
        struct rootfs_dir *d = rootfs_opendir(SHM_DIR);
        if (!d)
                return false;
        struct dirent *de;
        bool any = false;
        while (!any && (de = rootfs_readdir(d)))
                any = evo_name_kind(de->d_name) != EVO_NAME_OTHER;
        rootfs_closedir(d);
        return any;
}

static void evo_check(struct ctx *c, struct findings *fs)
{
        struct scan sc = {0};
        evo_scan(c, &sc, true);
        evo_check_segments(c, &sc, fs);
        evo_check_expected(c, &sc, fs);
        if (sc.dir_err >= 0) {
                evo_check_not_segment(&sc, fs);
                evo_check_corrupt(c, &sc, fs);
                evo_check_unknown_names(c, &sc, fs);
                evo_check_orphans(&sc, fs);
                evo_check_leftovers(&sc, fs);
                evo_check_never(c, &sc, fs);
                evo_check_stalled(c, &sc, fs);
                evo_check_write_seq(c, &sc, fs);
                evo_check_permissions(&sc, fs);
                evo_check_crashed_readers(c, &sc, fs);
                evo_check_reader_access(c, &sc, fs);
                evo_check_mappers(c, &sc, fs, (size_t)conf_uint(c, "maps_max_kb"));
        }
        evo_check_version(c, &sc, fs);
        evo_scan_free(&sc);
}

const struct collector evo_collector = {
        .name = "evo",
        .summary = "EVO shm segments: layouts, writer (flock) and readers, heartbeat, orphans, modes",
        .checks = checks,
        .config = config,
        .detect = evo_detect,
        .absent = "no /dev/shm/evo_* segment, .lock or .meta file",
        .absent_remedy = "start the producer (the writer module); check the segment names' spelling and case (they are case "
                         "sensitive); ls -la /dev/shm/ | grep evo",
        .check = evo_check,
        .collect = evo_collect,
        .sample = evo_sample,
        .sampled = (const char *const[]){"evo.corrupt", "evo.never_committed", "evo.orphaned", "evo.segments", "evo.stalled", "evo.write_seq", NULL},
        .free_state = evo_watch_state_free,
};
