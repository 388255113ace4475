/* shm: shared memory as the EVO stack uses it. SysV segments (/proc/sysvipc/shm)
 * and POSIX objects (/dev/shm), who maps them (/proc/PID/maps), orphans, modes,
 * use against kernel.shm{mni,all,max}, and /dev/shm itself (tmpfs, how full).
 * From the EVO guide's "Segment Not Found", "Permission Denied", "SHM limits
 * exceeded" and "Tmpfs not mounted". evodiag never removes or changes anything:
 * remedies name the exact command (ipcrm -m <shmid>, chmod, sysctl).
 * This file holds the checks; shm_scan.c reads the host, shm_format.c holds the
 * parsers and verdicts, shm_sample.c what evodiag watch samples. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/shm.h"
#include "lib/escape.h"
#include "lib/procfs.h"
#include "lib/proctable.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/statvfs.h>
#include <time.h>

static const struct check_info checks[] = {
        {"shm.sysv_segments", "SysV shared-memory segments",
         "Every segment in /proc/sysvipc/shm (what `ipcs -m -p` shows): key, shmid, owner, mode,\n"
         "size, how many attachments (nattch) and which processes map it (from /proc/PID/maps,\n"
         "where a segment shows as /SYSV<key> with the shmid as inode), and whether its creator\n"
         "and last attacher are alive. An inventory: the problems are the other shm.* checks.\n"
         "Only segments of evodiag's IPC namespace are visible (run it in the host namespace).\n"
         "Unreadable /proc/sysvipc/shm (kernel without CONFIG_SYSVIPC, or missing evidence) is\n"
         "unknown: orphans and shmmni/shmall/shmmax use were then not checked.\n"
         "Look by hand: ipcs -m -p; ipcs -m -i <shmid>. Listing size: [shm] list_max."},
        {"shm.orphaned", "Orphaned SysV segments",
         "A segment nobody has attached (nattch 0) whose creator and last attacher have exited.\n"
         "The kernel keeps it, and its memory, until someone removes it: it leaks RAM (or swap)\n"
         "and counts against kernel.shmmni and kernel.shmall, until new segments fail with ENOSPC\n"
         "(ShmError::AllocationFailed). It is what a crashed writer leaves behind (the guide's\n"
         "\"Cleanup after crash\"). Warn; crit when it is at least [shm] orphan_crit_mb MiB.\n"
         "Fix: check nothing still needs it (ipcs -m -i <shmid>), then remove it:\n"
         "  ipcrm -m <shmid>\n"
         "evodiag never removes it itself. Setting kernel.shm_rmid_forced=1 makes the kernel\n"
         "remove a segment when its last user exits (only for programs that never re-attach)."},
        {"shm.shmmni", "SysV segment count against kernel.shmmni",
         "How many SysV segments exist against kernel.shmmni (the `ipcs -lm` \"max number of\n"
         "segments\"). At the limit shmget() fails with ENOSPC and EVO modules fail to start\n"
         "with AllocationFailed. Warn at [shm] limit_warn_pct (90%), crit at limit_crit_pct (100%).\n"
         "Fix: remove orphaned segments first (shm.orphaned: ipcrm -m <shmid>), else raise it:\n"
         "  sysctl -w kernel.shmmni=8192\n"
         "  echo 'kernel.shmmni = 8192' >> /etc/sysctl.conf    # persists across reboots"},
        {"shm.shmall", "SysV shared memory in use against kernel.shmall",
         "Pages held by all SysV segments (each rounded up to whole pages, as the kernel counts\n"
         "them; `ipcs -u` \"pages allocated\") against kernel.shmall, which is in pages. At the\n"
         "limit shmget() fails with ENOSPC (the guide's \"SHM limits exceeded\"). Warn at\n"
         "[shm] limit_warn_pct, crit at limit_crit_pct. Fix (the guide's values: 64 GiB):\n"
         "  sysctl -w kernel.shmall=16777216                   # 64 GiB in 4 KiB pages\n"
         "  echo 'kernel.shmall = 16777216' >> /etc/sysctl.conf\n"
         "and remove orphaned segments (shm.orphaned)."},
        {"shm.shmmax", "Largest SysV segment against kernel.shmmax",
         "The largest segment against kernel.shmmax, the most one shmget() may ask for. A segment\n"
         "at or over it (the limit was lowered after it was made) cannot be created again after\n"
         "a restart: shmget() fails with EINVAL and the module reports AllocationFailed. Warn at\n"
         "[shm] limit_warn_pct, crit at limit_crit_pct. Fix (the guide's \"SHM limits exceeded\"):\n"
         "  sysctl -w kernel.shmmax=68719476736                # 64 GiB\n"
         "  echo 'kernel.shmmax = 68719476736' >> /etc/sysctl.conf"},
        {"shm.posix_objects", "POSIX shared-memory objects in /dev/shm",
         "Every entry in /dev/shm (what shm_open() creates): size, owner, mode, and which\n"
         "processes map it (from /proc/PID/maps). Objects unlinked while still mapped show as\n"
         "\"(deleted)\": they hold memory that no longer appears in /dev/shm until the last\n"
         "mapper exits. Entries are examined with lstat only: never opened, symlinks not\n"
         "followed, at most [shm] scan_max of them. A process holding an object only by file\n"
         "descriptor (an EVO .lock file) does not map it: see lsof /dev/shm/<name>.\n"
         "Look by hand: ls -la /dev/shm; grep /dev/shm/ /proc/[0-9]*/maps."},
        {"shm.world_writable", "Shared memory writable by every user",
         "A SysV segment with o+w in its mode, or a /dev/shm entry with o+w (a directory without\n"
         "the sticky bit): any local user can overwrite the data EVO modules exchange, or a\n"
         "broker's segments. The guide's shared-access mode is 0664 with group evo.\n"
         "Fix for /dev/shm: chmod 664 /dev/shm/<name> && chown :evo /dev/shm/<name>, and give the\n"
         "creator a mode without o+w (shm_open(..., 0660)) or a udev/tmpfiles rule.\n"
         "Fix for SysV: create it with mode 0660 (shmget(key, size, IPC_CREAT|0660)); an existing\n"
         "segment keeps its mode, so stop its users and remove it (ipcrm -m <shmid>) to recreate."},
        {"shm.mappers", "Who maps shared memory (/proc/PID/maps scan)",
         "The scan of every process's /proc/PID/maps that tells who maps each /dev/shm object\n"
         "and SysV segment. As non-root the maps of other users' processes cannot be read: the\n"
         "scan is then skipped for them, and \"no mapper found\" means unknown, not unused.\n"
         "Each maps file is read up to [shm] maps_max_kb KiB; a longer one is scanned in part.\n"
         "Fix: run as root (sudo evodiag check --only shm)."},
        {"shm.tmpfs", "/dev/shm is a tmpfs mount",
         "POSIX shared memory lives in /dev/shm, which must be a writable tmpfs (/proc/mounts:\n"
         "tmpfs /dev/shm tmpfs rw,...). Not mounted, mounted read-only, or another file system:\n"
         "shm_open() fails, or the segments land on disk (the guide's \"Tmpfs not mounted\").\n"
         "ramfs works but has no size limit (warn). Fix:\n"
         "  mount -t tmpfs -o rw,nosuid,nodev,mode=1777 tmpfs /dev/shm\n"
         "  echo 'tmpfs /dev/shm tmpfs rw,nosuid,nodev,mode=1777 0 0' >> /etc/fstab   # persists"},
        {"shm.tmpfs_usage", "How full /dev/shm is",
         "Space and inodes used in /dev/shm (statvfs, what `df -h /dev/shm` and `df -i` show).\n"
         "When it is full, creating or growing a segment fails (ENOSPC, or SIGBUS on first touch\n"
         "of a page). Warn at [shm] tmpfs_warn_pct (90%), crit at tmpfs_crit_pct (98%). Read only\n"
         "on the live system: under --root the evidence holds no usage, so it is skipped.\n"
         "Fix: find what is large (du -ah /dev/shm | sort -h | tail), remove stale objects whose\n"
         "writer is gone (rm /dev/shm/<name>), or grow it:\n"
         "  mount -o remount,size=50% /dev/shm    # and size=50% in the /etc/fstab line",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_PCT("limit_warn_pct", "90", "warn when SysV use reaches this % of shmmni/shmall/shmmax"),
        CONF_UINT("limit_crit_pct", "100", 1, 101, "crit when SysV use reaches this % (100: the next shmget fails; 101: never crit)"),
        CONF_UINT("orphan_crit_mb", "1024", 0, 1000000000, "an orphaned SysV segment of at least this many MiB is crit, not warn (0: never)"),
        CONF_PCT("tmpfs_warn_pct", "90", "warn when /dev/shm space or inodes reach this % used"),
        CONF_PCT("tmpfs_crit_pct", "98", "crit when /dev/shm space or inodes reach this % used"),
        CONF_UINT("scan_max", "10000", 1, 10000000, "examine at most this many /dev/shm entries"),
        CONF_UINT("maps_max_kb", "2048", 1, 262144, "read at most this many KiB of each /proc/PID/maps"),
        CONF_UINT("list_max", "50", 1, 1000000, "list at most this many segments and objects one by one"),
        {0},
};

/* kernel.shmall/shmmax defaults are ULONG_MAX - 2^24: print them as unlimited. */
#define EFFECTIVELY_UNLIMITED (UINT64_C(1) << 62)

static char *key_str(int64_t key)
{
        return key == 0 ? xstrdup("IPC_PRIVATE") : xasprintf("0x%08" PRIx32, (uint32_t)key);
}

static char *date_str(int64_t t)
{
        if (t <= 0)
                return xstrdup("never");
        struct tm tm;
        time_t tt = (time_t)t;
        char buf[64];
        if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
                return xasprintf("%" PRId64, t);
        return xstrdup(buf);
}

static void report_sysv(struct shm_state *st, struct findings *fs, size_t list_max)
{
        if (st->sysv_err < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "shm.sysv_segments",
                                            "cannot read /proc/sysvipc/shm: %s — SysV segments, orphans and "
                                            "shmmni/shmall/shmmax use not checked",
                                            st->sysv_err == -EINVAL ? "not in the kernel's format" : strerror(-st->sysv_err));
                fnd_expected(f, "/proc/sysvipc/shm readable, header with shmid and nattch");
                fnd_evidence(f, "/proc/sysvipc/shm");
                return;
        }
        if (st->sysv_bad) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.sysv_segments", "%zu malformed line(s) in /proc/sysvipc/shm skipped",
                                            st->sysv_bad);
                fnd_subject(f, "/proc/sysvipc/shm");
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
        if (!st->nsegs) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.sysv_segments", "no SysV shared-memory segments");
                fnd_evidence(f, "/proc/sysvipc/shm");
                return;
        }
        for (size_t i = 0; i < st->nsegs && i < list_max; i++) {
                const struct shm_seg *g = &st->segs[i];
                const struct sysv_shm *s = &g->s;
                char sz[32];
                _cleanup_free_ char *key = key_str(s->key), *own = shm_owner(st, s->uid, s->gid);
                struct strbuf b = {0};
                sb_printf(&b, "shmid %d key %s: %s, mode %04o, owner %s, nattch %" PRIu64, s->shmid, key,
                          fmt_bytes(s->size, sz), s->perms & 0777, own, s->nattch);
                if (g->att.n) {
                        sb_puts(&b, ", attached by ");
                        shm_put_pids(st, &b, &g->att);
                } else if (s->nattch) {
                        sb_printf(&b, ", %s", st->mw.unreadable ? "attachers unknown (other users' maps not readable)"
                                                             : "attachers not found in /proc/*/maps");
                }
                bool ca = shm_pid_alive(s->cpid), la = shm_pid_alive(s->lpid);
                sb_printf(&b, "; creator pid %d %s", s->cpid, ca ? "alive" : "gone");
                if (s->lpid != s->cpid)
                        sb_printf(&b, ", last pid %d %s", s->lpid, s->lpid <= 0 ? "(none)" : la ? "alive" : "gone");
                if (s->perms & 01000)
                        sb_puts(&b, "; marked for removal (freed at last detach)");
                if (s->perms & 02000)
                        sb_puts(&b, "; locked in RAM (SHM_LOCK)");
                _cleanup_free_ char *summary = sb_steal(&b);
                struct finding *f = fnd_add(fs, SEV_OK, "shm.sysv_segments", "%s", summary);
                fnd_subject(f, "shmid %d", s->shmid);
                char rss[32], swp[32];
                _cleanup_free_ char *at = date_str(s->atime), *dt = date_str(s->dtime);
                fnd_actual(f, "rss %s, swap %s, creator uid %u gid %u, last attach %s, last detach %s", fmt_bytes(s->rss, rss),
                           fmt_bytes(s->swap, swp), s->cuid, s->cgid, at, dt);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/*/maps");
        }
        if (st->nsegs > list_max) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.sysv_segments", "%zu more SysV segments not listed one by one",
                                            st->nsegs - list_max);
                fnd_remedy(f, "ipcs -m -p   # all of them; or raise [shm] list_max");
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
}

static void check_orphans(struct ctx *c, struct shm_state *st, struct findings *fs)
{
        if (st->sysv_err < 0)
                return;
        uint64_t crit_bytes = conf_uint(c, "orphan_crit_mb") * 1048576;
        /* Under --root without a process table nothing tells whether a creator lives. */
        bool procs_known = st->procs.n > 0;
        size_t orphans = 0, unattached = 0;
        for (size_t i = 0; i < st->nsegs; i++) {
                const struct sysv_shm *s = &st->segs[i].s;
                if (s->nattch)
                        continue;
                unattached++;
                bool ca = shm_pid_alive(s->cpid), la = shm_pid_alive(s->lpid);
                char sz[32];
                _cleanup_free_ char *key = key_str(s->key), *dt = date_str(s->dtime);
                if (!procs_known) {
                        struct finding *f = fnd_add(fs, SEV_INFO, "shm.orphaned",
                                                    "shmid %d (%s) has nattch 0; whether pid %d lives is not in the evidence",
                                                    s->shmid, fmt_bytes(s->size, sz), s->cpid);
                        fnd_subject(f, "shmid %d", s->shmid);
                        fnd_evidence(f, "/proc/sysvipc/shm (no /proc/PID entries under the root)");
                        continue;
                }
                enum severity sev = shm_orphan_verdict(s, ca, la, crit_bytes);
                if (sev == SEV_OK)
                        continue;
                orphans++;
                struct finding *f = fnd_add(fs, sev, "shm.orphaned",
                                            "shmid %d (key %s, %s) is orphaned: nattch 0, creator pid %d gone", s->shmid, key,
                                            fmt_bytes(s->size, sz), s->cpid);
                fnd_subject(f, "shmid %d", s->shmid);
                fnd_expected(f, "every segment attached, or its creator alive");
                if (s->lpid > 0 && s->lpid != s->cpid)
                        fnd_actual(f, "nattch 0, creator pid %d gone, last pid %d gone, last detach %s", s->cpid, s->lpid, dt);
                else
                        fnd_actual(f, "nattch 0, creator pid %d gone, last detach %s", s->cpid, dt);
                fnd_remedy(f, "ipcs -m -i %d   # make sure nothing needs it, then: ipcrm -m %d", s->shmid, s->shmid);
                fnd_evidence(f, "/proc/sysvipc/shm; /proc/%d absent", s->cpid);
        }
        /* Attached segments are never orphans, process table or not. */
        if (!orphans && (procs_known || !unattached)) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.orphaned", "no orphaned SysV segments (%zu %s, %zu unattached)",
                                            st->nsegs, st->nsegs == 1 ? "segment" : "segments", unattached);
                fnd_expected(f, "no segment with nattch 0 whose creator and last attacher are gone");
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/PID");
        }
}

static int read_limit(const char *name, uint64_t *v, struct findings *fs, const char *id)
{
        _cleanup_free_ char *path = xasprintf("/proc/sys/kernel/%s", name);
        int r = rootfs_read_u64(path, v);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, id, "cannot read %s: %s", path,
                                            r == -EINVAL || r == -ERANGE ? "not a number" : rootfs_strerror(-r));
                fnd_evidence(f, "%s", path);
        }
        return r;
}

static const char *limit_str(uint64_t v, const char *unit, char buf[static 64])
{
        if (v >= EFFECTIVELY_UNLIMITED) /* the exact number is in the finding's "found" */
                snprintf(buf, 64, "unlimited");
        else
                snprintf(buf, 64, "%" PRIu64 "%s", v, unit);
        return buf;
}

/* "sysctl -w k=v && echo 'k = v' >> /etc/sysctl.conf": the guide's temporary + permanent pair. */
static void sysctl_remedy(struct finding *f, const char *key, uint64_t v, const char *comment)
{
        fnd_remedy(f, "sysctl -w %s=%" PRIu64 " && echo '%s = %" PRIu64 "' >> /etc/sysctl.conf   # %s", key, v, key, v, comment);
}

static void check_limits(struct ctx *c, struct shm_state *st, struct findings *fs)
{
        if (st->sysv_err < 0)
                return;
        double w = conf_num(c, "limit_warn_pct"), cr = conf_num(c, "limit_crit_pct");
        uint64_t mni, all, max;
        char lb[64], a[32], b[32];

        if (read_limit("shmmni", &mni, fs, "shm.shmmni") == 0) {
                uint64_t n = st->nsegs;
                enum severity s = shm_limit_sev(n, mni, w, cr);
                double pct = mni ? 100.0 * (double)n / (double)mni : 100.0;
                struct finding *f = fnd_add(fs, s, "shm.shmmni", "%" PRIu64 " SysV %s of kernel.shmmni = %s (%.1f%%)", n,
                                            n == 1 ? "segment" : "segments", limit_str(mni, "", lb), pct);
                fnd_expected(f, "< %.0f%% of kernel.shmmni", w);
                fnd_actual(f, "%" PRIu64 " in use, shmmni %" PRIu64, n, mni);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmmni");
                if (s != SEV_OK) {
                        uint64_t want = n * 2 > 4096 ? n * 2 : 4096;
                        if (want > 32768) /* IPCMNI without the ipcmni_extend boot option */
                                want = 32768;
                        sysctl_remedy(f, "kernel.shmmni", want, "after removing orphans (shm.orphaned: ipcrm -m <shmid>)");
                }
        }
        if (read_limit("shmall", &all, fs, "shm.shmall") == 0) {
                uint64_t pages = 0;
                for (size_t i = 0; i < st->nsegs; i++)
                        pages += shm_pages(st->segs[i].s.size, st->page);
                enum severity s = shm_limit_sev(pages, all, w, cr);
                double pct = all ? 100.0 * (double)pages / (double)all : 100.0;
                struct finding *f = fnd_add(fs, s, "shm.shmall", "SysV segments hold %" PRIu64 " %s (%s) of kernel.shmall = %s (%.1f%%)",
                                            pages, pages == 1 ? "page" : "pages", fmt_bytes(pages * st->page, a), limit_str(all, " pages", lb), pct);
                fnd_expected(f, "< %.0f%% of kernel.shmall", w);
                fnd_actual(f, "%" PRIu64 " pages of %" PRIu64 " B, shmall %" PRIu64 " pages", pages, st->page, all);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmall");
                if (s != SEV_OK) {
                        uint64_t want = pages * 2 > 16777216 ? pages * 2 : 16777216;
                        sysctl_remedy(f, "kernel.shmall", want, "pages; and remove orphans (shm.orphaned)");
                }
        }
        if (read_limit("shmmax", &max, fs, "shm.shmmax") == 0) {
                const struct sysv_shm *big = NULL;
                for (size_t i = 0; i < st->nsegs; i++)
                        if (!big || st->segs[i].s.size > big->size)
                                big = &st->segs[i].s;
                uint64_t sz = big ? big->size : 0;
                enum severity s = big ? shm_limit_sev(sz, max, w, cr) : SEV_OK;
                double pct = max ? 100.0 * (double)sz / (double)max : 100.0;
                struct finding *f;
                if (big)
                        f = fnd_add(fs, s, "shm.shmmax", "largest SysV segment %s (shmid %d) of kernel.shmmax = %s (%.1f%%)",
                                    fmt_bytes(sz, a), big->shmid, max >= EFFECTIVELY_UNLIMITED ? limit_str(max, "", lb) : fmt_bytes(max, b),
                                    pct);
                else
                        f = fnd_add(fs, s, "shm.shmmax", "no SysV segments; kernel.shmmax = %s", limit_str(max, " B", lb));
                fnd_expected(f, "largest segment < %.0f%% of kernel.shmmax", w);
                fnd_actual(f, "largest %" PRIu64 " B, shmmax %" PRIu64 " B", sz, max);
                fnd_evidence(f, "/proc/sysvipc/shm, /proc/sys/kernel/shmmax");
                if (s != SEV_OK) {
                        uint64_t want = UINT64_C(68719476736);
                        if (sz > want / 2)
                                want = sz * 2;
                        sysctl_remedy(f, "kernel.shmmax", want, "bytes; a segment this large must be creatable again after a restart");
                }
        }
}

static const char *type_name(mode_t m)
{
        return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO"
             : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : "unknown type";
}

static void report_posix(struct shm_state *st, struct findings *fs, size_t list_max, size_t scan_max)
{
        if (st->dir_err < 0) {
                /* A missing /dev/shm is shm.tmpfs's crit; anything else is unknown here. */
                bool missing = st->dir_err == -ENOENT;
                struct finding *f = fnd_add(fs, missing ? SEV_SKIPPED : SEV_UNKNOWN, "shm.posix_objects",
                                            "cannot list %s: %s", st->dir, strerror(-st->dir_err));
                fnd_evidence(f, "%s", st->dir);
                return;
        }
        if (st->capped) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.posix_objects",
                                            "%s has more than %zu entries: only the first %zu were examined", st->dir, scan_max,
                                            scan_max);
                fnd_subject(f, "%s", st->dir);
                fnd_remedy(f, "ls -f %s | wc -l   # so many objects usually means a writer leaks them; or raise [shm] scan_max",
                           st->dir);
                fnd_evidence(f, "%s", st->dir);
        }
        if (!st->nobjs) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.posix_objects", "no POSIX shared-memory objects in %s", st->dir);
                fnd_evidence(f, "%s", st->dir);
                return;
        }
        size_t listed = 0;
        for (size_t i = 0; i < st->nobjs; i++) {
                const struct shm_obj *o = &st->objs[i];
                if (listed >= list_max)
                        break;
                listed++;
                _cleanup_free_ char *name = str_printable(o->raw);
                struct strbuf b = {0};
                enum severity sev = SEV_OK;
                if (o->deleted) {
                        sev = SEV_INFO;
                        sb_printf(&b, "%s/%s (deleted): unlinked but still mapped by ", st->dir, name);
                        shm_put_pids(st, &b, &o->map);
                        sb_puts(&b, "; its memory is freed when they unmap it");
                } else if (!o->have_stat) {
                        sb_printf(&b, "%s/%s: %s", st->dir, name, o->stat_err == -ENOENT ? "vanished while listed" : strerror(-o->stat_err));
                } else {
                        char sz[32];
                        _cleanup_free_ char *own = shm_owner(st, o->st.st_uid, o->st.st_gid);
                        sb_printf(&b, "%s/%s: ", st->dir, name);
                        if (S_ISLNK(o->st.st_mode)) {
                                _cleanup_free_ char *t = o->link ? str_printable(o->link) : NULL;
                                sb_printf(&b, "symlink to %s (not followed), owner %s", t ? t : "?", own);
                        } else {
                                if (!S_ISREG(o->st.st_mode))
                                        sb_printf(&b, "%s, ", type_name(o->st.st_mode));
                                else
                                        sb_printf(&b, "%s, ", fmt_bytes((uint64_t)o->st.st_size, sz));
                                sb_printf(&b, "mode %04o, owner %s", (unsigned)(o->st.st_mode & 07777), own);
                                if (S_ISREG(o->st.st_mode)) {
                                        sb_puts(&b, ", ");
                                        if (o->map.n) {
                                                sb_puts(&b, "mapped by ");
                                                shm_put_pids(st, &b, &o->map);
                                        } else {
                                                sb_puts(&b, shm_nobody_seen(st));
                                        }
                                }
                        }
                }
                _cleanup_free_ char *summary = sb_steal(&b);
                struct finding *f = fnd_add(fs, sev, "shm.posix_objects", "%s", summary);
                fnd_subject(f, "%s/%s%s", st->dir, name, o->deleted ? " (deleted)" : "");
                if (o->have_stat)
                        fnd_actual(f, "%s, %" PRIu64 " B allocated, inode %" PRIu64, type_name(o->st.st_mode),
                                   (uint64_t)o->st.st_blocks * 512, (uint64_t)o->st.st_ino);
                fnd_evidence(f, o->deleted ? "/proc/*/maps" : "%s (lstat), /proc/*/maps", st->dir);
        }
        if (st->nobjs > listed) {
                struct finding *f = fnd_add(fs, SEV_INFO, "shm.posix_objects", "%zu more entries of %s not listed one by one",
                                            st->nobjs - listed, st->dir);
                fnd_remedy(f, "ls -la %s   # all of them; or raise [shm] list_max", st->dir);
                fnd_evidence(f, "%s", st->dir);
        }
}

static void check_world_writable(struct shm_state *st, struct findings *fs)
{
        size_t n = 0;
        for (size_t i = 0; st->sysv_err >= 0 && i < st->nsegs; i++) {
                const struct sysv_shm *s = &st->segs[i].s;
                if (!(s->perms & 0002))
                        continue;
                n++;
                _cleanup_free_ char *own = shm_owner(st, s->uid, s->gid);
                struct finding *f = fnd_add(fs, SEV_WARN, "shm.world_writable", "SysV segment shmid %d is writable by every user (mode %04o)",
                                            s->shmid, s->perms & 0777);
                fnd_subject(f, "shmid %d", s->shmid);
                fnd_expected(f, "no o+w (0660 with a shared group)");
                fnd_actual(f, "mode %04o, owner %s, creator pid %d", s->perms & 0777, own, s->cpid);
                fnd_remedy(f, "create it with mode 0660 (shmget(key, size, IPC_CREAT|0660)); to recreate, stop its users, then: ipcrm -m %d",
                           s->shmid);
                fnd_evidence(f, "/proc/sysvipc/shm");
        }
        for (size_t i = 0; st->dir_err >= 0 && i < st->nlisted; i++) {
                const struct shm_obj *o = &st->objs[i];
                if (!o->have_stat || !shm_mode_world_writable(o->st.st_mode))
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(o->raw), *path = xasprintf("%s/%s", st->dir, o->raw);
                _cleanup_free_ char *word = shell_quote(path), *own = shm_owner(st, o->st.st_uid, o->st.st_gid);
                bool dir = S_ISDIR(o->st.st_mode);
                unsigned mode = (unsigned)(o->st.st_mode & 07777);
                struct finding *f = fnd_add(fs, SEV_WARN, "shm.world_writable", "%s/%s is writable by every user (mode %04o)", st->dir,
                                            name, mode);
                fnd_subject(f, "%s/%s", st->dir, name);
                fnd_expected(f, dir ? "no o+w, or the sticky bit (1777)" : "no o+w (the guide: 0664, group evo)");
                fnd_actual(f, "%s, mode %04o, owner %s", type_name(o->st.st_mode), mode, own);
                if (dir)
                        fnd_remedy(f, "chmod o-w %s   # or chmod +t %s so users cannot remove each other's files", word, word);
                else
                        fnd_remedy(f, "chmod 664 %s && chown :evo %s   # and create it without o+w (shm_open(..., 0660))", word, word);
                fnd_evidence(f, "%s (lstat)", st->dir);
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "shm.world_writable", "no world-writable SysV segment or %s entry",
                                            st->dir ? st->dir : SHM_DIR);
                fnd_expected(f, "no o+w on shared memory");
                fnd_evidence(f, "/proc/sysvipc/shm, %s", st->dir ? st->dir : SHM_DIR);
        }
}

static const char *procs_word(size_t n) { return n == 1 ? "process" : "processes"; }

static void check_mappers(struct ctx *c, struct shm_state *st, struct findings *fs, size_t max_bytes)
{
        struct finding *f;
        if (!st->procs.n) {
                f = fnd_add(fs, SEV_SKIPPED, "shm.mappers", "no process table: who maps shared memory is unknown");
                fnd_evidence(f, "%s/proc", rootfs_get());
                return;
        }
        if (st->mw.unreadable) {
                const struct proc *p = shm_proc(st, st->mw.first_unreadable);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                if (!c->is_root) {
                        f = fnd_add(fs, SEV_SKIPPED, "shm.mappers",
                                    "needs root: maps of %zu %s of other users not readable (first: pid %d %s); "
                                    "mappers shown come from the %zu readable ones only",
                                    st->mw.unreadable, procs_word(st->mw.unreadable), st->mw.first_unreadable, comm, st->mw.scanned);
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only shm)");
                } else {
                        /* Root and still refused: an LSM, or a process of a more privileged container. */
                        f = fnd_add(fs, SEV_INFO, "shm.mappers", "maps of %zu %s not readable even as root (first: pid %d %s: %s)",
                                    st->mw.unreadable, procs_word(st->mw.unreadable), st->mw.first_unreadable, comm,
                                    strerror(-st->mw.first_unreadable_err));
                }
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (st->mw.truncated) {
                const struct proc *p = shm_proc(st, st->mw.first_truncated);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                f = fnd_add(fs, SEV_INFO, "shm.mappers", "maps of %zu %s longer than %zu KiB, read only in part (first: pid %d %s)",
                            st->mw.truncated, procs_word(st->mw.truncated), max_bytes / 1024, st->mw.first_truncated, comm);
                fnd_remedy(f, "raise [shm] maps_max_kb");
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (!st->mw.unreadable && !st->mw.truncated) {
                f = fnd_add(fs, SEV_OK, "shm.mappers", "maps of %zu %s scanned: %zu map shared memory", st->mw.scanned,
                            procs_word(st->mw.scanned), st->mw.matching);
                fnd_evidence(f, "/proc/PID/maps");
        }
}

static void check_tmpfs(struct shm_state *st, struct findings *fs, struct shm_mount *m, bool *mounted)
{
        *mounted = false;
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/mounts", READ_MAX_DEFAULT, &text, NULL);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "shm.tmpfs", "cannot read /proc/mounts: %s", strerror((int)-r));
                fnd_evidence(f, "/proc/mounts");
                return;
        }
        const char *dir = st->dir ? st->dir : SHM_DIR;
        size_t bad;
        *mounted = shm_mounts_find(text, dir, m, &bad) == 0;
        const char *why;
        enum severity s = shm_mount_sev(*mounted ? m : NULL, &why);
        struct finding *f;
        if (*mounted) {
                _cleanup_free_ char *size = NULL;
                (void)shm_mount_opt(m->opts, "size", &size);
                f = fnd_add(fs, s, "shm.tmpfs", "%s is %s (%s%s%s)", dir, m->type, why, size ? ", size=" : "", size ? size : "");
                fnd_actual(f, "%s %s %s %s", m->src, m->dir, m->type, m->opts);
        } else {
                f = fnd_add(fs, s, "shm.tmpfs", "%s is not a mount point: %s", dir, why);
                fnd_actual(f, "no %s line in /proc/mounts%s", dir,
                           st->dir_err == -ENOENT ? ", and the directory does not exist" : "");
        }
        if (!streq(dir, SHM_DIR))
                fnd_subject(f, "%s -> %s", SHM_DIR, dir);
        fnd_expected(f, "tmpfs %s tmpfs rw,...", dir);
        if (s != SEV_OK)
                fnd_remedy(f, "mount -t tmpfs -o rw,nosuid,nodev,mode=1777 tmpfs %s && "
                              "echo 'tmpfs %s tmpfs rw,nosuid,nodev,mode=1777 0 0' >> /etc/fstab",
                           dir, dir);
        fnd_evidence(f, "/proc/mounts%s", bad ? " (malformed lines skipped)" : "");
}

static void check_tmpfs_usage(struct ctx *c, struct shm_state *st, struct findings *fs, const struct shm_mount *m, bool mounted)
{
        const char *dir = st->dir ? st->dir : SHM_DIR;
        struct finding *f;
        if (!rootfs_is_live()) {
                _cleanup_free_ char *size = NULL;
                if (mounted)
                        (void)shm_mount_opt(m->opts, "size", &size);
                f = fnd_add(fs, SEV_SKIPPED, "shm.tmpfs_usage", "how full %s is was not read: it needs the live system (statvfs), not --root evidence%s%s",
                            dir, size ? "; mounted with size=" : "", size ? size : "");
                fnd_evidence(f, "/proc/mounts under --root %s", rootfs_get());
                return;
        }
        if (st->dir_err < 0)
                return; /* shm.tmpfs says it is missing */
        struct statvfs sv;
        if (statvfs(dir, &sv) < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "shm.tmpfs_usage", "statvfs %s: %s", dir, strerror(errno));
                fnd_evidence(f, "statvfs(%s)", dir);
                return;
        }
        double w = conf_num(c, "tmpfs_warn_pct"), cr = conf_num(c, "tmpfs_crit_pct");
        struct shm_tmpfs_use use;
        enum severity s = shm_tmpfs_verdict(&sv, w, cr, &use);
        if (!sv.f_blocks) {
                f = fnd_add(fs, s, "shm.tmpfs_usage", "%s reports no size: no limit (size=0)", dir);
                fnd_evidence(f, "statvfs(%s)", dir);
                return;
        }
        char u[32], t[32];
        f = fnd_add(fs, s, "shm.tmpfs_usage", "%s: %s of %s used (%.1f%%), inodes %.1f%%", dir, fmt_bytes(use.used, u),
                    fmt_bytes(use.total, t), use.pct, use.ipct);
        fnd_expected(f, "space and inodes < %.0f%% used", w);
        fnd_actual(f, "%.1f%% space, %.1f%% inodes (%" PRIu64 " of %" PRIu64 ")", use.pct, use.ipct, use.inodes_used, use.inodes);
        fnd_evidence(f, "statvfs(%s)", dir);
        if (s != SEV_OK)
                fnd_remedy(f, "du -ah %s | sort -h | tail   # remove stale objects (rm %s/<name>), or grow it: "
                              "mount -o remount,size=50%% %s and put size=50%% in its /etc/fstab line",
                           dir, dir, dir);
}

static void shm_check(struct ctx *c, struct findings *fs)
{
        size_t list_max = (size_t)conf_uint(c, "list_max");
        size_t scan_max = (size_t)conf_uint(c, "scan_max");
        /* A floor so a maps file is never read as nothing; a ceiling so a config typo
         * cannot make one process's maps cost gigabytes. */
        size_t maps_max = (size_t)conf_uint(c, "maps_max_kb") * 1024;
        if (maps_max < 1024)
                maps_max = 1024;

        struct shm_state st;
        shm_state_load(&st, scan_max, maps_max);

        report_sysv(&st, fs, list_max);
        check_orphans(c, &st, fs);
        check_limits(c, &st, fs);
        report_posix(&st, fs, list_max, scan_max);
        check_world_writable(&st, fs);
        check_mappers(c, &st, fs, maps_max);
        struct shm_mount m = {0};
        bool mounted;
        check_tmpfs(&st, fs, &m, &mounted);
        check_tmpfs_usage(c, &st, fs, &m, mounted);
        shm_mount_free(&m);

        shm_state_free(&st);
}

const struct collector shm_collector = {
        .name = "shm",
        .summary = "SysV segments and /dev/shm: orphans, modes, mappers, limits, tmpfs",
        .checks = checks,
        .config = config,
        .check = shm_check,
        .sample = shm_sample,
        .sampled = (const char *const[]){"shm.orphaned", "shm.shmmni", "shm.sysv_segments", "shm.tmpfs_usage", NULL},
        .free_state = shm_free_state,
};
