/* shm: what evodiag watch samples every interval (collectors/sample_util.h). */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/sample_util.h"
#include "collectors/shm.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/statvfs.h>

struct shm_watch {
        struct sfile sysv, mni;
        char *buf;
        size_t cap;
        char *dir; /* /dev/shm after symlinks, from the last rescan */
        int dir_err;
        bool procs_known; /* a process table to look creators up in (as check's: live, or /proc lists one) */
};

/* SysV segments (count, bytes, unattached; shm.orphaned per segment on the live
 * system; shm.shmmni) from /proc/sysvipc/shm, whose size grows with the segments
 * watched, and the POSIX objects in /dev/shm with how full it is
 * (shm.tmpfs_usage, live only). */
void shm_sample(struct ctx *c, struct sample *s)
{
        struct shm_watch *w = sample_state(c, sizeof(*w));
        if (sample_rescan_due(c)) {
                free(w->dir);
                w->dir = shm_resolve_dir(SHM_DIR, &w->dir_err);
                w->procs_known = true;
                if (!rootfs_is_live()) {
                        size_t np = 0;
                        free(sample_pids(&np));
                        w->procs_known = np > 0;
                }
        }
        long r = sfile_read_grow(&w->sysv, "/proc/sysvipc/shm", &w->buf, &w->cap, READ_MAX_DEFAULT);
        struct sysv_shm *v = NULL;
        size_t bad = 0;
        int n = r >= 0 ? sysvipc_shm_parse(w->buf, &v, &bad) : (int)r;
        if (n < 0) {
                sample_status(s, "shm.sysv_segments", NULL, SEV_UNKNOWN, "cannot %s /proc/sysvipc/shm%s%s", r < 0 ? "read" : "parse",
                              r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
        } else {
                uint64_t bytes = 0, unattached = 0, crit = conf_uint(c, "orphan_crit_mb") * 1048576;
                for (int i = 0; i < n; i++) {
                        bytes += v[i].size;
                        if (v[i].nattch)
                                continue;
                        unattached++;
                        char subj[32], sz[32];
                        snprintf(subj, sizeof(subj), "shmid %d", v[i].shmid);
                        /* As check says it: without a process table whether the creator lives is unknown. */
                        if (!w->procs_known) {
                                sample_status(s, "shm.orphaned", subj, SEV_INFO,
                                              "shmid %d (%s) has nattch 0; whether pid %d lives is not in the evidence", v[i].shmid,
                                              fmt_bytes(v[i].size, sz), v[i].cpid);
                                continue;
                        }
                        enum severity sev = shm_orphan_verdict(&v[i], shm_pid_alive(v[i].cpid), shm_pid_alive(v[i].lpid), crit);
                        if (sev != SEV_OK) {
                                sample_status(s, "shm.orphaned", subj, sev,
                                              "shmid %d (%s) is orphaned: nattch 0, creator pid %d gone", v[i].shmid,
                                              fmt_bytes(v[i].size, sz), v[i].cpid);
                        }
                }
                sample_value(s, "shm.sysv_segments", NULL, n, "segments");
                sample_value(s, "shm.sysv_bytes", NULL, (double)bytes, "bytes");
                sample_value(s, "shm.sysv_unattached", NULL, (double)unattached, "segments");
                char buf[64];
                uint64_t mni;
                if (sfile_read(&w->mni, "/proc/sys/kernel/shmmni", buf, sizeof(buf)) >= 0 && parse_u64(buf, &mni) == 0)
                        sample_status(s, "shm.shmmni", NULL,
                                      shm_limit_sev((uint64_t)n, mni, conf_num(c, "limit_warn_pct"), conf_num(c, "limit_crit_pct")),
                                      "%d SysV %s of kernel.shmmni = %" PRIu64, n, n == 1 ? "segment" : "segments", mni);
        }
        free(v);
        if (w->dir_err < 0)
                return;
        size_t objs = 0, max = (size_t)conf_uint(c, "scan_max");
        struct rootfs_dir *d = rootfs_opendir(w->dir);
        if (d) {
                while (rootfs_readdir(d) && objs < max)
                        objs++;
                rootfs_closedir(d);
                sample_value(s, "shm.posix_objects", NULL, (double)objs, "objects");
        }
        struct statvfs sv;
        if (rootfs_is_live() && statvfs(w->dir, &sv) == 0 && sv.f_blocks) {
                struct shm_tmpfs_use u;
                enum severity sev = shm_tmpfs_verdict(&sv, conf_num(c, "tmpfs_warn_pct"), conf_num(c, "tmpfs_crit_pct"), &u);
                sample_value(s, "shm.tmpfs_used_pct", NULL, u.pct, "%");
                sample_status(s, "shm.tmpfs_usage", NULL, sev, "%s: %.1f%% of its space and %.1f%% of its inodes used", w->dir,
                              u.pct, u.ipct);
        }
}

void shm_free_state(void *state)
{
        struct shm_watch *w = state;
        sfile_close(&w->sysv);
        sfile_close(&w->mni);
        free(w->buf);
        free(w->dir);
        free(w);
}
