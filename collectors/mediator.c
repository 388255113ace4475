/* mediator: the vGPU mediator (COMPONENTS.md §4) and its NFS-shared request files,
 * admin socket and log, after the guide vgpu-mediator-errors.txt (errors 1-10).
 *
 * Sources, all through lib/rootfs (so --root and bundles see the same): the process
 * table (mediator_phase3, cuda_mediator, mediator, mediator_async; rpcbind,
 * rpc.mountd and the nfsd kernel threads), /var/run/mediator_phase3.lock (read under
 * trust's path rule, never locked; its holder from /proc/locks), /var/vgpu and the
 * /dev/shm/vgpu link, /etc/exports, /etc/exports.d/ *.exports, /var/lib/nfs/etab,
 * /proc/mounts (NFS mounts: each stat()ed in a child under the deadline, so a dead
 * server never hangs evodiag), the per-VM files (plain open/read/close with a size
 * cap, O_NONBLOCK and regular files only: a FIFO in their place never blocks), the
 * admin socket (mediator_admin.c), the QEMU data sockets (listed, not connected),
 * /tmp/mediator.log (a bounded tail) and, with --allow-intrusive, cuda_sanity.
 *
 * Not yet wired: lib/gpuprobe (the gpu collector's "usable NVIDIA GPU" probe, merged
 * after this collector was written) belongs in check_cuda_sanity()'s failing branch: a
 * failing sanity test with GPU_ABSENT/GPU_NO_DEVICES says "no GPU", with GPU_TIMEOUT
 * "driver wedged" (guide error 8), rather than only "CUDA broken". */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/mediator.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/mounts.h"
#include "lib/proctable.h"
#include "lib/subprocess.h"
#include "lib/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#define EXPORTS "/etc/exports"
#define EXPORTS_D "/etc/exports.d"
#define ETAB "/var/lib/nfs/etab"
#define SHM_LINK "/dev/shm/vgpu"
#define VMS_MAX 1024
#define PATHSZ 512

static const struct check_info checks[] = {
        {"mediator.process", "vGPU mediator running",
         "The mediator daemon, by its names (mediator_phase3, cuda_mediator, mediator, mediator_async;\n"
         "[mediator] names). A process is only the mediator when root or [mediator] service_user owns\n"
         "it, or the lock file names it (lib/trust): anyone can start a program called mediator.\n"
         "Warn when none runs while its shared directory or exports exist (VM requests go\n"
         "unanswered), and for impostors. The finding names the binary (/proc/PID/exe) so a core\n"
         "dump of it can be recognised (a crash is the coredump collector's finding, guide error 10).\n"
         "Fix: cd /root/phase3 && nohup ./mediator_phase3 >> /tmp/mediator.log 2>&1 &"},
        {"mediator.lock", "Single-instance lock held by the running mediator",
         "/var/run/mediator_phase3.lock holds the PID of the mediator, which keeps it flock()ed.\n"
         "evodiag reads it (under trust's path rule) and never takes the lock; who holds it comes\n"
         "from /proc/locks. Warn when the file names a pid that does not hold it (a stale lock\n"
         "left by a crash) or when someone else holds it. Fix: stop the stray holder; a stale\n"
         "file is harmless to the next start, which rewrites it."},
        {"mediator.shared_dir", "Shared directory and /dev/shm/vgpu link",
         "Dom0 keeps the request files in /var/vgpu ([mediator] shared_dir), exported over NFS,\n"
         "and /dev/shm/vgpu is a symlink to it (guide error 2). Warn when /dev/shm/vgpu is a real\n"
         "directory (tmpfs: the VMs never see what is written there) or a link elsewhere; unknown\n"
         "when the directory cannot be read.\n"
         "Fix: mkdir -p /var/vgpu; rm -rf /dev/shm/vgpu; ln -s /var/vgpu /dev/shm/vgpu"},
        {"mediator.exports_tmpfs", "No tmpfs exported over NFS",
         "NFS cannot export a tmpfs (guide error 2: \"exportfs: /dev/shm does not support NFS\n"
         "export\", VM mounts hang or fail). Crit for an export of /dev/shm (or below it) or of a\n"
         "directory on a tmpfs mount, in /etc/exports, /etc/exports.d or etab.\n"
         "Fix: export the real directory: /var/vgpu *(rw,sync,no_root_squash,no_subtree_check,fsid=1,\n"
         "insecure), ln -s /var/vgpu /dev/shm/vgpu, exportfs -rav."},
        {"mediator.root_squash", "vGPU export has no_root_squash",
         "The VMs write their request files as root; without no_root_squash the server maps them\n"
         "to nobody and they get \"Permission denied\" (guide error 6). Warn for each client of the\n"
         "shared directory's export without no_root_squash (etab's effective options where\n"
         "exported). Fix: add no_root_squash to the line in /etc/exports, then exportfs -rav."},
        {"mediator.exports_stale", "/etc/exports and etab agree",
         "/var/lib/nfs/etab is what exportfs made effective. An entry of /etc/exports (or\n"
         "exports.d) missing there, exported with other options, or an etab entry no longer in\n"
         "the files means the files were edited without refreshing (guide error 1: \"access\n"
         "denied by server\"). Warn. Fix: exportfs -rav, then exportfs -v."},
        {"mediator.nfs_services", "NFS server, rpcbind and mountd running",
         "With exports configured, the nfsd kernel threads, rpcbind and rpc.mountd must run\n"
         "(guide error 1). Judged by process presence through lib/trust (rpcbind owned by root or\n"
         "[mediator] rpcbind_user, rpc.mountd by root), which works with and without systemd.\n"
         "Crit when one is missing. Fix: systemctl start rpcbind nfs-server (or service\n"
         "nfs-kernel-server start), then exportfs -rav."},
        {"mediator.dir_mode", "Shared directories writable by the VMs",
         "The VMs create and rewrite files in /var/vgpu and /var/vgpu/vmN. With root squashed they\n"
         "write as nobody and need write permission for others (the guide's chmod 777); with\n"
         "no_root_squash the owner's write bit is enough. Warn when the VMs cannot write;\n"
         "world-writable is noted as info: any local user can then plant or swap request files.\n"
         "Fix: chmod 777 /var/vgpu/vmN (development) or chown to the mapped user and chmod 770."},
        {"mediator.nfs_mount", "NFS mounts answer and cache briefly",
         "Every NFS mount in /proc/mounts (a VM's /mnt/vgpu) is stat()ed in a child under the\n"
         "collector's deadline ([mediator] nfs_stat_timeout): crit when it does not answer (dead\n"
         "server; a hard mount blocks every reader). Its options are reported; actimeo (or\n"
         "acregmax) above 1 s is info: the other side's updates show late (guide error 7).\n"
         "Fix: restart the server, or umount -f -l the mount; mount -o actimeo=1 for freshness.",
         true},
        {"mediator.vm_stale", "VM requests answered",
         "Per VM (vmN/request.txt vs response.txt, or phase 1 command.txt vs response.txt): a\n"
         "non-empty request newer than its response by more than [mediator] stale_after means the\n"
         "mediator is not answering (not running, stuck, or not seeing updates over NFS: guide\n"
         "error 7). Warn. Fix: check the mediator (mediator.process, its log), then the mount's\n"
         "attribute caching (actimeo=1).",
         true},
        {"mediator.vm_error", "VM responses without errors",
         "response.txt holds \"status:message\"; status 2 is an error (\"2:Unknown command: N\").\n"
         "Warn with the message. Fix: what the message says; unknown commands come from a client\n"
         "newer or older than the mediator."},
        {"mediator.vm_request", "VM request files well-formed",
         "Phase 1 command.txt is one unsigned number (0 NOP, 1 VECTOR_ADD, 2 GPU_INFO); per-VM\n"
         "request.txt lines are pool:prio:vm:COMMAND (mediator) or pool:prio:vm:num1:num2\n"
         "(mediator_async). Warn for a line that does not parse, a vm id that is not the\n"
         "directory's (responses go to the wrong VM, guide error 3), or a file larger than\n"
         "[mediator] request_max (read only up to it). Fix: the VM client that wrote it."},
        {"mediator.vm_shared", "No file shared between VMs",
         "Two VMs' directories sharing one request or response file (a hard link, or a symlink\n"
         "to the other's) mix their commands and responses: the guide's corruption cause\n"
         "(error 3). Crit. Fix: rm the link and let each VM's client create its own file."},
        {"mediator.vm_files", "VM files readable",
         "The request and response files must be regular files: a FIFO, socket or device in\n"
         "their place is refused without blocking (a reader would hang), and an unreadable one\n"
         "is reported. Warn. Fix: remove the object and let the client recreate the file."},
        {"mediator.admin", "Mediator admin health",
         "SHOW_HEALTH over /var/vgpu/admin.sock ([mediator] admin_socket), binary protocol of\n"
         "COMPONENTS.md, only after the socket's server is shown to be root or the service user\n"
         "(SO_PEERCRED). Crit when it answers with a non-zero status or reports unhealthy,\n"
         "degraded, quarantined or error; warn when it does not answer properly (timeout, bad\n"
         "magic, short reply, data_len beyond [mediator] admin_reply_max). Only read-only commands\n"
         "are sent (SHOW_HEALTH, SHOW_METRICS). Fix: vgpu-admin show-health; restart the mediator.",
         true},
        {"mediator.data_sockets", "QEMU data sockets",
         "Each QEMU started with -chroot DIR (/proc/PID/cmdline) should have the mediator's data\n"
         "socket DIR/tmp/vgpu-mediator.sock. Listed with whether it exists; never connected to.\n"
         "Info when one is missing. Fix: restart the mediator (it creates them at start)."},
        {"mediator.log", "Mediator log without errors",
         "The last [mediator] log_tail bytes of /tmp/mediator.log ([mediator] log): lines with\n"
         "[ERROR] and CUDA errors (\"CUDA error\", cudaError, \"cuda... failed\") counted, the last\n"
         "ones quoted. Warn for errors, crit for CUDA errors (GPU hang or driver crash, guide error\n"
         "8: nvidia-smi -q | grep -i -e temp -e xid; dmesg | grep -i xid)."},
        {"mediator.cuda_sanity", "CUDA sanity test",
         "With --allow-intrusive only: runs cuda_sanity ([mediator] cuda_sanity) under a deadline,\n"
         "after checking the binary is root-owned and not writable by others (trust's path rule).\n"
         "\"CUDA sanity OK\" is ok; \"cudaGetDeviceCount failed\", \"cudaMalloc failed\" or a non-zero\n"
         "exit is crit (guide error 5): do not force CUDA in Dom0; Plan B: a GPU worker VM with\n"
         "passthrough, the mediator as orchestrator only. A run past its deadline is killed: crit.",
         true},
        {0},
};

static const struct config_key config[] = {
        CONF_LIST("names", "mediator_phase3,cuda_mediator,mediator,mediator_async", "process names of the mediator"),
        CONF_STR("service_user", "", "user the mediator runs as besides root (\"\" = root only)"),
        CONF_STR("rpcbind_user", "_rpc", "user rpcbind runs as besides root"),
        CONF_STR("lock_file", "/var/run/mediator_phase3.lock", "the mediator's single-instance lock file"),
        CONF_STR("shared_dir", "/var/vgpu", "the directory exported to the VMs"),
        CONF_STR("admin_socket", "/var/vgpu/admin.sock", "the mediator's admin socket"),
        CONF_DURATION("admin_timeout", "2s", "connect plus reply deadline of one admin request"),
        CONF_SIZE("admin_reply_max", "1M", "largest admin reply text accepted"),
        CONF_DURATION("admin_interval", "30s", "watch: how often admin health is asked"),
        CONF_DURATION("stale_after", "10s", "a request newer than its response by more than this is unanswered"),
        CONF_SIZE("request_max", "4k", "request files larger than this are reported and read only this far"),
        CONF_DURATION("nfs_stat_timeout", "2s", "deadline of the stat() of one NFS mount"),
        CONF_STR("log", "/tmp/mediator.log", "the mediator's log"),
        CONF_SIZE("log_tail", "256k", "how much of the log's end is scanned and bundled"),
        CONF_STR("cuda_sanity", "/root/phase3/cuda_sanity", "the CUDA sanity test binary (--allow-intrusive)"),
        CONF_DURATION("cuda_sanity_timeout", "30s", "deadline of the CUDA sanity test"),
        {0},
};

/* ---- state ---- */

struct vmfile {
        char path[PATHSZ];
        char rpath[PATHSZ]; /* what is read: path, or a link's target resolved by hand */
        bool outside;       /* a link out of the shared directory: never read */
        int err;          /* 0, -ENOENT, or why it could not be read */
        struct stat st;   /* lstat */
        bool have_target; /* stat (links followed) worked */
        struct stat tst;
        char *text;
        long len;
        bool truncated;
};
struct vm {
        char name[32];
        unsigned id;
        bool has_id;
        struct vmfile req, resp;
};
struct mx {
        struct ctx *c;
        const char *shared;
        struct proctable pt;
        int pt_err;
        struct trust tr;
        /* the daemon */
        const struct proc *daemon;
        enum trust_by by;
        bool phase3, daemon_p3; /* a trusted mediator_phase3 runs; m->daemon is one */
        size_t ndaemon, nimp;
        int imp_pid;
        unsigned imp_uid;
        char imp_comm[64];
        char *exe;
        /* its lock */
        int lock_err, lock_pid, holder;
        bool lock_bad, locks_read;
        char *lock_why;
        /* NFS */
        struct mx_exports ex, et;
        int ex_err, et_err;
        struct strbuf ex_files;
        struct mounts mnt;
        int mnt_err;
        /* per-VM */
        enum mx_layout layout;
        int dir_err;
        struct stat dir_st;
        struct vm *vms;
        size_t nvm, vm_cut;
};

static void mx_free(struct mx *m)
{
        proctable_free(&m->pt);
        trust_free(&m->tr);
        free(m->exe);
        free(m->lock_why);
        mx_exports_free(&m->ex);
        mx_exports_free(&m->et);
        sb_free(&m->ex_files);
        mounts_free(&m->mnt);
        for (size_t i = 0; i < m->nvm; i++) {
                free(m->vms[i].req.text);
                free(m->vms[i].resp.text);
        }
        free(m->vms);
}

static bool named_mediator(const struct mx *m, const struct proc *p)
{
        const char *list = conf_str(m->c, "names");
        char name[64];
        for (const char *s = list; *s;) {
                size_t n = strcspn(s, ",");
                if (n && n < sizeof(name)) {
                        memcpy(name, s, n);
                        name[n] = 0;
                        if (component_named(p, strstrip(name)))
                                return true;
                }
                s += n + (s[n] == ',');
        }
        return false;
}

/* ---- the daemon and its lock ---- */

static void read_lock(struct mx *m)
{
        const char *path = conf_str(m->c, "lock_file");
        _cleanup_free_ char *text = NULL, *why = NULL;
        long r = trust_read(&m->tr, path, 64, &text, NULL, &why);
        if (r < 0) {
                m->lock_err = (int)r;
                m->lock_why = why, why = NULL;
                return;
        }
        if (mx_lock_pid(text, &m->lock_pid) < 0) {
                m->lock_bad = true;
                return;
        }
        trust_set_lock_pid(&m->tr, m->lock_pid);
        struct stat st;
        if (rootfs_stat(path, &st, true) < 0)
                return;
        _cleanup_free_ char *locks = NULL;
        if (rootfs_read("/proc/locks", 4u << 20, &locks, NULL) < 0)
                return;
        m->locks_read = true;
        m->holder = mx_lock_holder(locks, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev), rootfs_is_live());
}

static void find_daemon(struct mx *m)
{
        m->pt_err = proctable_load(&m->pt);
        if (m->pt_err < 0)
                return;
        for (size_t i = 0; i < m->pt.n; i++) {
                const struct proc *p = &m->pt.v[i];
                if (p->kthread || p->state == 'Z' || p->state == 'X' || !named_mediator(m, p))
                        continue;
                struct trust_proc tp;
                if (!trust_process(&m->tr, p->pid, &tp)) {
                        if (!m->nimp++) {
                                m->imp_pid = p->pid;
                                m->imp_uid = tp.uids_known ? tp.bad_uid : p->euid;
                                snprintf(m->imp_comm, sizeof(m->imp_comm), "%s", p->comm);
                        }
                        continue;
                }
                m->ndaemon++;
                bool p3 = component_named(p, "mediator_phase3");
                m->phase3 |= p3;
                /* the one the lock names, else phase 3's, else the first */
                if (!m->daemon || p->pid == m->lock_pid || (p3 && !m->daemon_p3 && m->daemon->pid != m->lock_pid))
                        m->daemon = p, m->by = tp.by, m->daemon_p3 = p3;
        }
        if (m->daemon) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/exe", m->daemon->pid);
                (void)rootfs_readlink(path, &m->exe);
        }
}

static void check_process(struct mx *m, struct findings *fs)
{
        struct finding *f;
        if (m->pt_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "mediator.process", "process table unreadable: %s", rootfs_strerror(m->pt_err));
                return;
        }
        if (m->daemon) {
                f = fnd_add(fs, SEV_OK, "mediator.process", "%s running (pid %d, vouched for by %s)", m->daemon->comm,
                            m->daemon->pid, trust_by_name(m->by));
                fnd_subject(f, "pid %d", m->daemon->pid);
                if (m->exe)
                        fnd_actual(f, "binary %s; %zu mediator process(es)", m->exe, m->ndaemon);
        } else {
                f = fnd_add(fs, SEV_WARN, "mediator.process", "no vGPU mediator running: VM requests go unanswered");
                fnd_expected(f, "one of %s, owned by %s", conf_str(m->c, "names"), trust_who(&m->tr));
                fnd_remedy(f, "cd /root/phase3 && nohup ./mediator_phase3 >> /tmp/mediator.log 2>&1 &");
        }
        if (m->nimp) {
                f = fnd_add(fs, SEV_WARN, "mediator.process",
                            "%zu process(es) named like the mediator not trusted: pid %d %s (uid %u)", m->nimp,
                            m->imp_pid, m->imp_comm, m->imp_uid);
                fnd_subject(f, "pid %d", m->imp_pid);
                fnd_expected(f, "owned by %s", trust_who(&m->tr));
                fnd_remedy(f, "find out who started it: ps -o pid,user,args -p %d", m->imp_pid);
        }
}

static void check_lock(struct mx *m, struct findings *fs)
{
        const char *path = conf_str(m->c, "lock_file");
        struct finding *f;
        if (m->lock_err == -ENOENT) {
                bool p3 = m->phase3;
                f = fnd_add(fs, p3 ? SEV_WARN : SEV_SKIPPED, "mediator.lock", "%s absent%s", path,
                            p3 ? " while mediator_phase3 runs" : "");
                return;
        }
        if (m->lock_err < 0) {
                f = fnd_add(fs, m->lock_err == -EPERM ? SEV_WARN : SEV_UNKNOWN, "mediator.lock", "%s not read: %s", path,
                            m->lock_why ? m->lock_why : rootfs_strerror(m->lock_err));
                fnd_evidence(f, "%s", path);
                return;
        }
        if (m->lock_bad) {
                f = fnd_add(fs, SEV_WARN, "mediator.lock", "%s holds no pid", path);
                fnd_evidence(f, "%s", path);
                return;
        }
        if (!m->locks_read) {
                f = fnd_add(fs, SEV_UNKNOWN, "mediator.lock", "%s names pid %d; /proc/locks unreadable", path,
                            m->lock_pid);
                return;
        }
        if (m->holder == m->lock_pid) {
                f = fnd_add(fs, SEV_OK, "mediator.lock", "%s held by pid %d, the pid it names", path, m->holder);
        } else if (m->holder == 0) {
                f = fnd_add(fs, SEV_WARN, "mediator.lock", "stale lock: %s names pid %d but nobody holds it%s", path,
                            m->lock_pid, proc_exists(m->lock_pid) ? "" : " (that pid is gone: the mediator died)");
                fnd_remedy(f, "cd /root/phase3 && nohup ./mediator_phase3 >> /tmp/mediator.log 2>&1 &");
        } else {
                f = fnd_add(fs, SEV_WARN, "mediator.lock", "%s names pid %d but pid %d holds it", path, m->lock_pid,
                            m->holder);
                fnd_remedy(f, "ps -o pid,user,args -p %d", m->holder > 0 ? m->holder : m->lock_pid);
        }
        fnd_evidence(f, "%s, /proc/locks", path);
}

/* ---- NFS ---- */

static void read_exports(struct mx *m)
{
        _cleanup_free_ char *t = NULL;
        m->ex_err = (int)rootfs_read(EXPORTS, 1u << 20, &t, NULL);
        if (m->ex_err >= 0) {
                mx_exports_parse(t, &m->ex);
                sb_puts(&m->ex_files, EXPORTS);
        }
        struct rootfs_dir *d = rootfs_opendir(EXPORTS_D);
        if (d) {
                struct dirent *de;
                size_t nf = 0;
                while ((de = rootfs_readdir(d)) && nf < 256) {
                        size_t l = strlen(de->d_name);
                        if (l < 9 || strcmp(de->d_name + l - 8, ".exports") || de->d_name[0] == '.')
                                continue;
                        char p[PATHSZ];
                        snprintf(p, sizeof(p), EXPORTS_D "/%s", de->d_name);
                        _cleanup_free_ char *x = NULL;
                        if (rootfs_read(p, 1u << 20, &x, NULL) >= 0) {
                                mx_exports_parse(x, &m->ex);
                                sb_printf(&m->ex_files, "%s%s", m->ex_files.len ? ", " : "", p);
                                nf++;
                                if (m->ex_err == -ENOENT)
                                        m->ex_err = 0;
                        }
                }
                rootfs_closedir(d);
        }
        _cleanup_free_ char *e = NULL;
        m->et_err = (int)rootfs_read(ETAB, 1u << 20, &e, NULL);
        if (m->et_err >= 0)
                mx_etab_parse(e, &m->et);
        _cleanup_free_ char *mt = NULL;
        m->mnt_err = (int)rootfs_read("/proc/mounts", 8u << 20, &mt, NULL);
        if (m->mnt_err >= 0)
                mounts_parse(mt, &m->mnt);
}

/* The mount a path lies on: the longest mount point that is a prefix of it. */
static const struct mount_entry *mount_of(const struct mx *m, const char *path)
{
        const struct mount_entry *best = NULL;
        size_t bl = 0;
        for (size_t i = 0; i < m->mnt.n; i++) {
                const struct mount_entry *e = &m->mnt.v[i];
                size_t l = strlen(e->dir);
                if (mx_path_under(path, e->dir) && (!best || l >= bl))
                        best = e, bl = l;
        }
        return best;
}

static bool is_vgpu_export(const struct mx *m, const char *path)
{
        return mx_path_under(path, m->shared) && mx_path_under(m->shared, path);
}

static void check_tmpfs(struct mx *m, struct findings *fs)
{
        size_t bad = 0;
        const struct mx_exports *lists[2] = {&m->ex, &m->et};
        const char *names[2] = {"/etc/exports", ETAB};
        for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < lists[k]->n; i++) {
                        const struct mx_export *e = &lists[k]->v[i];
                        if (i && streq(e->path, lists[k]->v[i - 1].path))
                                continue;
                        const struct mount_entry *me = mount_of(m, e->path);
                        bool shm = mx_path_under(e->path, "/dev/shm");
                        if (!shm && !(me && streq(me->type, "tmpfs")))
                                continue;
                        bad++;
                        struct finding *f = fnd_add(fs, SEV_CRIT, "mediator.exports_tmpfs",
                                                    "%s exports %s, a tmpfs: NFS cannot export it", names[k], e->path);
                        fnd_subject(f, "%s", e->path);
                        fnd_actual(f, "%s line %u%s%s", names[k], e->line, me ? ", mounted " : "", me ? me->type : "");
                        fnd_remedy(f, "export the real directory: mkdir -p %s; ln -s %s %s; in /etc/exports: %s "
                                   "*(rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure); exportfs -rav",
                                   m->shared, m->shared, SHM_LINK, m->shared);
                        fnd_evidence(f, "%s, /proc/mounts", names[k]);
                }
        if (!bad && (m->ex.n || m->et.n))
                fnd_add(fs, SEV_OK, "mediator.exports_tmpfs", "no tmpfs among %zu exported entries", m->ex.n + m->et.n);
        else if (!bad)
                fnd_add(fs, SEV_SKIPPED, "mediator.exports_tmpfs", "no NFS exports configured");
}

static const struct mx_export *find_export(const struct mx_exports *x, const char *path, const char *host)
{
        for (size_t i = 0; i < x->n; i++)
                if (streq(x->v[i].path, path) && (!host || streq(x->v[i].host, host)))
                        return &x->v[i];
        return NULL;
}

static void check_root_squash(struct mx *m, struct findings *fs)
{
        size_t seen = 0, bad = 0;
        const struct mx_exports *src = m->et.n ? &m->et : &m->ex;
        const char *srcname = m->et.n ? ETAB : "/etc/exports";
        for (size_t i = 0; i < src->n; i++) {
                const struct mx_export *e = &src->v[i];
                if (!is_vgpu_export(m, e->path))
                        continue;
                seen++;
                if (mx_opt(e->opts, "no_root_squash", NULL, 0) && !mx_opt(e->opts, "all_squash", NULL, 0))
                        continue;
                bad++;
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.root_squash",
                                            "%s exported to %s without no_root_squash: VM writes get Permission denied",
                                            e->path, *e->host ? e->host : "(everyone)");
                fnd_subject(f, "%s %s", e->path, e->host);
                fnd_actual(f, "%s line %u: %s(%s)", srcname, e->line, e->host, e->opts);
                fnd_expected(f, "%s *(rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure)", m->shared);
                fnd_remedy(f, "add no_root_squash to %s in /etc/exports; exportfs -rav", e->path);
                fnd_evidence(f, "%s", srcname);
        }
        if (!seen)
                fnd_add(fs, SEV_SKIPPED, "mediator.root_squash", "%s is not exported", m->shared);
        else if (!bad)
                fnd_add(fs, SEV_OK, "mediator.root_squash", "%s exported with no_root_squash", m->shared);
}

static void check_stale_exports(struct mx *m, struct findings *fs)
{
        if (m->ex_err < 0 && m->ex_err != -ENOENT) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.exports_stale", "%s unreadable: %s", EXPORTS, rootfs_strerror(m->ex_err));
                return;
        }
        if (!m->ex.n && !m->et.n) {
                fnd_add(fs, SEV_SKIPPED, "mediator.exports_stale", "no NFS exports configured");
                return;
        }
        if (m->et_err < 0 && m->et_err != -ENOENT) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.exports_stale", "%s unreadable: %s", ETAB, rootfs_strerror(m->et_err));
                return;
        }
        size_t bad = 0;
        for (size_t i = 0; i < m->ex.n; i++) {
                const struct mx_export *e = &m->ex.v[i];
                const struct mx_export *t = find_export(&m->et, e->path, e->host);
                struct strbuf d = {0};
                if (t && !mx_opts_differ(e->opts, t->opts, &d))
                        continue;
                bad++;
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.exports_stale",
                                            t ? "%s to %s exported with other options than /etc/exports says (%s)"
                                              : "%s to %s is in /etc/exports but not exported%s",
                                            e->path, *e->host ? e->host : "(everyone)", t ? d.s : "");
                fnd_subject(f, "%s %s", e->path, e->host);
                fnd_expected(f, "%s(%s)", e->host, e->opts);
                fnd_actual(f, t ? "etab: %s(%s)" : "etab has no entry%s", t ? t->host : "", t ? t->opts : "");
                fnd_remedy(f, "exportfs -rav; exportfs -v");
                fnd_evidence(f, "%s, %s", m->ex_files.s ? m->ex_files.s : EXPORTS, ETAB);
                sb_free(&d);
        }
        for (size_t i = 0; i < m->et.n; i++) {
                const struct mx_export *t = &m->et.v[i];
                if (find_export(&m->ex, t->path, t->host))
                        continue;
                bad++;
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.exports_stale",
                                            "%s to %s is exported but no longer in /etc/exports", t->path,
                                            *t->host ? t->host : "(everyone)");
                fnd_subject(f, "%s %s", t->path, t->host);
                fnd_remedy(f, "exportfs -rav; exportfs -v");
                fnd_evidence(f, "%s", ETAB);
        }
        if (m->ex.bad) {
                bad++;
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.exports_stale",
                                            "%zu line(s) of the exports files do not parse (first: line %u)", m->ex.bad,
                                            m->ex.first_bad);
                fnd_remedy(f, "exportfs -rav shows exportfs's own complaint about them");
        }
        if (!bad)
                fnd_add(fs, SEV_OK, "mediator.exports_stale", "%zu export(s) in /etc/exports match etab", m->ex.n);
}

/* A process named `name` vouched for by trust (root or user); kernel threads only when kthread. */
static bool service_running(struct mx *m, const char *name, const char *user, bool kthread)
{
        for (size_t i = 0; i < m->pt.n; i++) {
                const struct proc *p = &m->pt.v[i];
                if (p->state == 'Z' || p->kthread != kthread)
                        continue;
                if (kthread ? !streq(p->comm, name) : !component_named(p, name))
                        continue;
                if (kthread)
                        return true;
                struct trust tr;
                trust_init(&tr, name, user);
                struct trust_proc tp;
                bool ok = trust_process(&tr, p->pid, &tp);
                trust_free(&tr);
                if (ok)
                        return true;
        }
        return false;
}

static void check_services(struct mx *m, struct findings *fs)
{
        if (!m->ex.n && !m->et.n) {
                fnd_add(fs, SEV_SKIPPED, "mediator.nfs_services", "no NFS exports configured");
                return;
        }
        if (m->pt_err < 0) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.nfs_services", "process table unreadable: %s",
                        rootfs_strerror(m->pt_err));
                return;
        }
        struct strbuf miss = {0};
        if (!service_running(m, "nfsd", "", true))
                sb_puts(&miss, "nfsd (kernel threads)");
        if (!service_running(m, "rpcbind", conf_str(m->c, "rpcbind_user"), false))
                sb_printf(&miss, "%srpcbind", miss.len ? ", " : "");
        if (!service_running(m, "rpc.mountd", "", false))
                sb_printf(&miss, "%srpc.mountd", miss.len ? ", " : "");
        if (miss.len) {
                struct finding *f = fnd_add(fs, SEV_CRIT, "mediator.nfs_services",
                                            "NFS exports configured but not running: %s", miss.s);
                fnd_expected(f, "nfsd threads, rpcbind and rpc.mountd running");
                fnd_remedy(f, "systemctl start rpcbind nfs-server; exportfs -rav");
                fnd_evidence(f, "/proc/*/stat");
        } else {
                fnd_add(fs, SEV_OK, "mediator.nfs_services", "nfsd, rpcbind and rpc.mountd running");
        }
        sb_free(&miss);
}

static bool root_squashed(const struct mx *m)
{
        const struct mx_exports *src = m->et.n ? &m->et : &m->ex;
        for (size_t i = 0; i < src->n; i++)
                if (is_vgpu_export(m, src->v[i].path) &&
                    (!mx_opt(src->v[i].opts, "no_root_squash", NULL, 0) || mx_opt(src->v[i].opts, "all_squash", NULL, 0)))
                        return true;
        return false;
}

static void dir_mode_one(struct mx *m, struct findings *fs, const char *path, const struct stat *st, bool squash,
                         size_t *bad)
{
        mode_t mode = st->st_mode & 07777;
        struct finding *f = NULL;
        if (squash && !(mode & S_IWOTH)) {
                f = fnd_add(fs, SEV_WARN, "mediator.dir_mode",
                            "%s (mode %04o) is not writable by the VMs: root is squashed to nobody", path, mode);
                fnd_remedy(f, "chmod 777 %s (or add no_root_squash to the export)", path);
        } else if (!squash && !(mode & S_IWUSR)) {
                f = fnd_add(fs, SEV_WARN, "mediator.dir_mode", "%s (mode %04o) is not writable even by its owner", path,
                            mode);
                fnd_remedy(f, "chmod u+w %s", path);
        } else if ((mode & S_IWOTH) && !(mode & S_ISVTX)) {
                f = fnd_add(fs, SEV_INFO, "mediator.dir_mode",
                            "%s is world-writable (mode %04o): any local user can plant or swap request files", path,
                            mode);
                fnd_remedy(f, "once the export has no_root_squash: chmod 755 %s", path);
        }
        if (f) {
                fnd_subject(f, "%s", path);
                (*bad)++;
        }
}

/* ---- per-VM files ---- */

static int stat_deadline(const char *path, uint64_t timeout_ms, struct stat *st);
static bool is_nfs(const char *type);

/* The shared directory may itself be an NFS mount (a VM's /mnt/vgpu): its mount is
 * stat()ed in a child under the deadline first, and a mount that does not answer is
 * never touched in this process. 0, or -ETIMEDOUT. */
static int nfs_guard(const struct ctx *c, const struct mounts *mnt, const char *path)
{
        const struct mount_entry *best = NULL;
        for (size_t i = 0; mnt && i < mnt->n; i++)
                if (mx_path_under(path, mnt->v[i].dir) && (!best || strlen(mnt->v[i].dir) >= strlen(best->dir)))
                        best = &mnt->v[i];
        if (!best || !is_nfs(best->type))
                return 0;
        struct stat st;
        uint64_t t = mx_budget_ms(c, mx_conf_ms(c, "nfs_stat_timeout", 2000), 1500);
        int r = t ? stat_deadline(best->dir, t, &st) : -ETIMEDOUT;
        return r == -ETIMEDOUT ? r : 0;
}

/* "/a/./b/../c" -> "/a/c", in place (".." stops at "/"). */
static void norm_path(char *p)
{
        char *out = p, *in = p;
        while (*in) {
                while (*in == '/')
                        in++;
                size_t n = strcspn(in, "/");
                if (!n)
                        break;
                if (n == 1 && in[0] == '.') {
                } else if (n == 2 && in[0] == '.' && in[1] == '.') {
                        while (out > p && *--out != '/')
                                ;
                } else {
                        *out++ = '/';
                        memmove(out, in, n);
                        out += n;
                }
                in += n;
        }
        if (out == p)
                *out++ = '/';
        *out = 0;
}

static void read_vmfile(struct mx *m, struct vmfile *vf, size_t cap)
{
        int r = rootfs_stat(vf->path, &vf->st, false);
        if (r < 0) {
                vf->err = r;
                return;
        }
        snprintf(vf->rpath, PATHSZ, "%s", vf->path);
        /* What a link names, resolved by hand from its text (one level): a bundle records
         * the link's text and the target's lstat, never a stat through the link. */
        vf->tst = vf->st;
        vf->have_target = true;
        if (S_ISLNK(vf->st.st_mode)) {
                _cleanup_free_ char *t = NULL, *abs = NULL;
                vf->have_target = false;
                if (rootfs_readlink(vf->path, &t) >= 0) {
                        const char *slash = strrchr(vf->path, '/');
                        abs = t[0] == '/' ? xstrdup(t)
                                          : xasprintf("%.*s/%s", (int)(slash ? slash - vf->path : 0), vf->path, t);
                        norm_path(abs);
                        snprintf(vf->rpath, PATHSZ, "%s", abs);
                        /* A VM (root over no_root_squash) or a local user can point it anywhere:
                         * evodiag reads nothing outside the shared directory for them. */
                        if (!mx_path_under(abs, m->shared)) {
                                vf->outside = true;
                                vf->err = -EPERM;
                                return;
                        }
                        vf->have_target = rootfs_stat(abs, &vf->tst, false) == 0 && !S_ISLNK(vf->tst.st_mode);
                }
                if (!vf->have_target && rootfs_stat(vf->path, &vf->tst, true) < 0) {
                        vf->err = -ENOENT;
                        return;
                }
                vf->have_target = true;
        }
        /* rootfs_read: O_NONBLOCK open, regular files only, plain read() up to cap. */
        vf->len = rootfs_read(vf->rpath, cap, &vf->text, &vf->truncated);
        if (vf->len < 0)
                vf->err = (int)vf->len;
}

static int by_vm_id(const void *a, const void *b)
{
        const struct vm *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id ? 1 : strcmp(x->name, y->name);
}

static void read_vms(struct mx *m)
{
        size_t cap = (size_t)mx_conf_bytes(m->c, "request_max", 4096);
        if (nfs_guard(m->c, &m->mnt, m->shared) < 0) {
                m->dir_err = -ETIMEDOUT;
                return;
        }
        if (rootfs_stat(m->shared, &m->dir_st, true) < 0) {
                m->dir_err = -errno;
                if (!m->dir_err)
                        m->dir_err = -ENOENT;
        }
        struct rootfs_dir *d = rootfs_opendir(m->shared);
        if (!d) {
                m->dir_err = -errno;
                return;
        }
        size_t cap_vm = 0;
        struct dirent *de;
        while ((de = rootfs_readdir(d))) {
                unsigned id;
                if (mx_vm_dir_id(de->d_name, &id) < 0)
                        continue;
                if (m->nvm >= VMS_MAX) {
                        m->vm_cut++;
                        continue;
                }
                if (m->nvm == cap_vm) {
                        cap_vm = cap_vm ? cap_vm * 2 : 8;
                        m->vms = xrealloc(m->vms, cap_vm * sizeof(*m->vms));
                }
                struct vm *v = &m->vms[m->nvm++];
                *v = (struct vm){.id = id, .has_id = true};
                snprintf(v->name, sizeof(v->name), "%.31s", de->d_name);
                snprintf(v->req.path, PATHSZ, "%s/%s/request.txt", m->shared, de->d_name);
                snprintf(v->resp.path, PATHSZ, "%s/%s/response.txt", m->shared, de->d_name);
        }
        rootfs_closedir(d);
        if (m->nvm > 1)
                qsort(m->vms, m->nvm, sizeof(*m->vms), by_vm_id); /* listing order is the filesystem's */
        m->layout = m->nvm ? MX_LAYOUT_PERVM : MX_LAYOUT_NONE;
        char p[PATHSZ];
        snprintf(p, sizeof(p), "%s/command.txt", m->shared);
        struct stat st;
        if (rootfs_stat(p, &st, false) == 0 && m->nvm < VMS_MAX + 1) {
                /* Phase 1: one command.txt + response.txt at the top. */
                m->vms = xrealloc(m->vms, (m->nvm + 1) * sizeof(*m->vms));
                struct vm *v = &m->vms[m->nvm++];
                *v = (struct vm){0};
                snprintf(v->name, sizeof(v->name), "phase1");
                snprintf(v->req.path, PATHSZ, "%s", p);
                snprintf(v->resp.path, PATHSZ, "%s/response.txt", m->shared);
                if (m->layout == MX_LAYOUT_NONE)
                        m->layout = MX_LAYOUT_PHASE1;
        }
        for (size_t i = 0; i < m->nvm; i++) {
                struct vm *v = &m->vms[i];
                char dp[PATHSZ];
                struct stat ds;
                _cleanup_free_ char *t = NULL;
                snprintf(dp, sizeof(dp), "%s/%s", m->shared, v->name);
                /* vmN itself a link out of the shared directory: nothing in it is read. */
                if (v->has_id && rootfs_stat(dp, &ds, false) == 0 && S_ISLNK(ds.st_mode) && rootfs_readlink(dp, &t) >= 0) {
                        _cleanup_free_ char *abs = t[0] == '/' ? xstrdup(t) : xasprintf("%s/%s", m->shared, t);
                        norm_path(abs);
                        if (!mx_path_under(abs, m->shared)) {
                                struct vmfile *fv[2] = {&v->req, &v->resp};
                                for (int k = 0; k < 2; k++) {
                                        fv[k]->outside = true;
                                        fv[k]->err = -EPERM;
                                        snprintf(fv[k]->rpath, PATHSZ, "%s", abs);
                                }
                                continue;
                        }
                }
                read_vmfile(m, &v->req, cap);
                read_vmfile(m, &v->resp, 4096);
        }
}

static int64_t mtime_ms(const struct stat *st)
{
        return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static void check_vms(struct mx *m, struct findings *fs)
{
        if (m->dir_err == -ETIMEDOUT) {
                const char *ids[] = {"mediator.vm_stale", "mediator.vm_error", "mediator.vm_request",
                                     "mediator.vm_shared", "mediator.vm_files"};
                for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
                        fnd_add(fs, SEV_UNKNOWN, ids[i], "%s is on an NFS mount that does not answer: not read",
                                m->shared);
                return;
        }
        if (m->dir_err < 0) {
                enum severity s = m->dir_err == -ENOENT ? SEV_SKIPPED : SEV_UNKNOWN;
                const char *ids[] = {"mediator.vm_stale", "mediator.vm_error", "mediator.vm_request",
                                     "mediator.vm_shared", "mediator.vm_files"};
                for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
                        fnd_add(fs, s, ids[i], "%s: %s", m->shared, rootfs_strerror(m->dir_err));
                return;
        }
        uint64_t stale = mx_conf_ms(m->c, "stale_after", 10000);
        size_t cap = (size_t)mx_conf_bytes(m->c, "request_max", 4096);
        size_t n_stale = 0, n_err = 0, n_req = 0, n_shared = 0, n_files = 0;
        for (size_t i = 0; i < m->nvm; i++) {
                struct vm *v = &m->vms[i];
                enum mx_layout lay = v->has_id ? MX_LAYOUT_PERVM : MX_LAYOUT_PHASE1;
                struct vmfile *fsv[2] = {&v->req, &v->resp};
                for (int k = 0; k < 2; k++) {
                        struct vmfile *vf = fsv[k];
                        if (vf->outside) {
                                n_files++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_files",
                                                            "%s leads (by a symlink) to %s, outside %s: not read", vf->path,
                                                            vf->rpath, m->shared);
                                fnd_subject(f, "%s", v->name);
                                fnd_remedy(f, "rm %s (and find out who made it: a VM's root can, over no_root_squash)",
                                           vf->path);
                        } else if (vf->err < 0 && vf->err != -ENOENT) {
                                n_files++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_files", "%s: %s", vf->path,
                                                            rootfs_strerror(vf->err));
                                fnd_subject(f, "%s", v->name);
                                fnd_remedy(f, "rm %s (the VM's client recreates it)", vf->path);
                        }
                }
                /* request */
                if (v->req.err == 0 && v->req.text) {
                        struct mx_request rq;
                        mx_request_parse(v->req.text, (size_t)v->req.len, lay, &rq);
                        if (rq.kind == MX_REQ_BAD) {
                                n_req++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_request",
                                                            "%s line %u does not parse: %s", v->req.path, rq.line, rq.why);
                                fnd_subject(f, "%s", v->name);
                                fnd_evidence(f, "%s", v->req.path);
                        } else if (v->has_id && rq.kind != MX_REQ_EMPTY && rq.vm != v->id) {
                                n_req++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_request",
                                                            "%s asks for vm %u: the response goes to the wrong VM",
                                                            v->req.path, rq.vm);
                                fnd_subject(f, "%s", v->name);
                        }
                }
                if (v->req.err == 0 && (uint64_t)v->req.st.st_size > cap) {
                        n_req++;
                        struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_request",
                                                    "%s is %" PRIu64 " bytes, more than %zu (read only that far)",
                                                    v->req.path, (uint64_t)v->req.st.st_size, cap);
                        fnd_subject(f, "%s", v->name);
                }
                /* response */
                if (v->resp.err == 0 && v->resp.text && v->resp.len > 0) {
                        int st;
                        const char *msg;
                        size_t ml;
                        if (mx_response_parse(v->resp.text, &st, &msg, &ml) < 0) {
                                n_req++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_request",
                                                            "%s is not \"status:message\"", v->resp.path);
                                fnd_subject(f, "%s", v->name);
                        } else if (st == 2) {
                                n_err++;
                                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.vm_error", "%s: error: %.*s",
                                                            v->name, (int)(ml > 200 ? 200 : ml), msg);
                                fnd_subject(f, "%s", v->name);
                                fnd_evidence(f, "%s", v->resp.path);
                        }
                }
                /* staleness: a pending request, and no response to it for stale_after */
                bool pending = v->req.err == 0 && v->req.text && v->req.len > 0;
                if (pending) {
                        int64_t rq = mtime_ms(&v->req.st);
                        int64_t rs = v->resp.err == 0 ? mtime_ms(&v->resp.st) : 0;
                        int64_t now = (int64_t)now_ms_realtime();
                        bool unanswered = rs < rq && now - rq > (int64_t)stale;
                        if (unanswered) {
                                n_stale++;
                                struct finding *f = fnd_add(
                                        fs, SEV_WARN, "mediator.vm_stale",
                                        "%s: request %" PRId64 " s old, %s", v->name, (now - rq) / 1000,
                                        v->resp.err == 0 ? "response older: the mediator is not answering"
                                                         : "no response file: the mediator is not answering");
                                fnd_subject(f, "%s", v->name);
                                fnd_expected(f, "a response within %" PRIu64 " ms of the request", stale);
                                fnd_remedy(f, "check the mediator (evodiag explain mediator.vm_stale); on the VM: "
                                              "mount -o remount,actimeo=1 /mnt/vgpu");
                                fnd_evidence(f, "%s, %s", v->req.path, v->resp.path);
                        }
                }
        }
        /* files shared between VMs: same inode (links followed) in two VM entries */
        for (size_t i = 0; i < m->nvm; i++)
                for (int a = 0; a < 2; a++) {
                        struct vmfile *x = a ? &m->vms[i].resp : &m->vms[i].req;
                        if (!x->have_target)
                                continue;
                        for (size_t j = i + 1; j < m->nvm; j++)
                                for (int b = 0; b < 2; b++) {
                                        struct vmfile *y = b ? &m->vms[j].resp : &m->vms[j].req;
                                        if (!y->have_target || x->tst.st_ino != y->tst.st_ino ||
                                            x->tst.st_dev != y->tst.st_dev)
                                                continue;
                                        n_shared++;
                                        bool link = S_ISLNK(x->st.st_mode) || S_ISLNK(y->st.st_mode);
                                        struct finding *f = fnd_add(
                                                fs, SEV_CRIT, "mediator.vm_shared",
                                                "%s and %s are one file (%s): their commands and responses mix",
                                                x->path, y->path, link ? "symlink" : "hard link");
                                        fnd_subject(f, "%s,%s", m->vms[i].name, m->vms[j].name);
                                        fnd_remedy(f, "rm %s (the VM's client recreates its own)",
                                                   S_ISLNK(x->st.st_mode) ? x->path : y->path);
                                }
                }
        const char *where = m->layout == MX_LAYOUT_PHASE1 ? "phase 1 command.txt" : "VM directories";
        if (!m->nvm) {
                const char *ids[] = {"mediator.vm_stale", "mediator.vm_error", "mediator.vm_request",
                                     "mediator.vm_shared", "mediator.vm_files"};
                for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
                        fnd_add(fs, SEV_SKIPPED, ids[i], "no vmN directory or command.txt in %s", m->shared);
                return;
        }
        if (!n_stale)
                fnd_add(fs, SEV_OK, "mediator.vm_stale", "no unanswered request in %zu %s", m->nvm, where);
        if (!n_err)
                fnd_add(fs, SEV_OK, "mediator.vm_error", "no error response in %zu %s", m->nvm, where);
        if (!n_req)
                fnd_add(fs, SEV_OK, "mediator.vm_request", "request files well-formed in %zu %s", m->nvm, where);
        if (!n_shared)
                fnd_add(fs, SEV_OK, "mediator.vm_shared", "no file shared between %zu %s", m->nvm, where);
        if (!n_files)
                fnd_add(fs, SEV_OK, "mediator.vm_files", "request and response files are regular files");
        if (m->vm_cut)
                fnd_add(fs, SEV_INFO, "mediator.vm_files", "%zu more VM directories not looked at (bound %d)",
                        m->vm_cut, VMS_MAX);
}

/* ---- shared directory and its modes ---- */

static const char *dir_why(const struct mx *m)
{
        return m->dir_err == -ETIMEDOUT ? "on an NFS mount that does not answer" : rootfs_strerror(m->dir_err);
}

static void check_shared_dir(struct mx *m, struct findings *fs)
{
        struct finding *f;
        if (m->dir_err < 0) {
                f = fnd_add(fs, m->dir_err == -ENOENT ? SEV_WARN : SEV_UNKNOWN, "mediator.shared_dir", "%s: %s",
                            m->shared, dir_why(m));
                fnd_remedy(f, "mkdir -p %s; chmod 777 %s; ln -s %s %s", m->shared, m->shared, m->shared, SHM_LINK);
                return;
        }
        struct stat st;
        if (rootfs_stat(SHM_LINK, &st, false) < 0) {
                f = fnd_add(fs, SEV_INFO, "mediator.shared_dir", "%s present; no %s link (Dom0 programs that use it fail)",
                            m->shared, SHM_LINK);
                fnd_remedy(f, "ln -s %s %s", m->shared, SHM_LINK);
                return;
        }
        if (!S_ISLNK(st.st_mode)) {
                f = fnd_add(fs, SEV_WARN, "mediator.shared_dir",
                            "%s is a real directory on tmpfs, not a link to %s: the VMs never see it", SHM_LINK, m->shared);
                fnd_remedy(f, "mv %s/* %s/; rm -rf %s; ln -s %s %s", SHM_LINK, m->shared, SHM_LINK, m->shared, SHM_LINK);
                return;
        }
        _cleanup_free_ char *target = NULL;
        struct stat ts;
        bool text_same = rootfs_readlink(SHM_LINK, &target) >= 0 && target[0] == '/' &&
                         mx_path_under(target, m->shared) && mx_path_under(m->shared, target);
        /* On the live system a relative or indirect link counts when it reaches the same
         * directory; a bundle's copy has other inodes, so there the target's text decides. */
        bool same = text_same || (rootfs_is_live() && rootfs_stat(SHM_LINK, &ts, true) == 0 &&
                                  ts.st_ino == m->dir_st.st_ino && ts.st_dev == m->dir_st.st_dev);
        if (!same) {
                f = fnd_add(fs, SEV_WARN, "mediator.shared_dir", "%s points to %s, not to %s", SHM_LINK,
                            target ? target : "(unreadable)", m->shared);
                fnd_remedy(f, "ln -sfn %s %s", m->shared, SHM_LINK);
                return;
        }
        fnd_add(fs, SEV_OK, "mediator.shared_dir", "%s present, %s links to it", m->shared, SHM_LINK);
}

static void check_dir_mode(struct mx *m, struct findings *fs)
{
        if (m->dir_err < 0) {
                fnd_add(fs, m->dir_err == -ENOENT ? SEV_SKIPPED : SEV_UNKNOWN, "mediator.dir_mode", "%s: %s", m->shared,
                        dir_why(m));
                return;
        }
        bool squash = root_squashed(m);
        size_t bad = 0;
        dir_mode_one(m, fs, m->shared, &m->dir_st, squash, &bad);
        for (size_t i = 0; i < m->nvm; i++) {
                if (!m->vms[i].has_id)
                        continue;
                char p[PATHSZ];
                struct stat st;
                snprintf(p, sizeof(p), "%s/%s", m->shared, m->vms[i].name);
                if (rootfs_stat(p, &st, true) == 0 && S_ISDIR(st.st_mode))
                        dir_mode_one(m, fs, p, &st, squash, &bad);
        }
        if (!bad)
                fnd_add(fs, SEV_OK, "mediator.dir_mode", "%s and its VM directories writable by the VMs (root %s)",
                        m->shared, squash ? "squashed" : "not squashed");
}

/* ---- NFS mounts: stat() in a child under the deadline ---- */

struct stat_job {
        const char *path;
};
struct stat_reply {
        int r;
        struct stat st;
};

static void stat_child(void *arg, int wfd)
{
        struct stat_job *j = arg;
        struct stat_reply rep = {0};
        rep.r = rootfs_stat(j->path, &rep.st, true);
        (void)write_all(wfd, &rep, sizeof(rep));
}

/* 0 with *st; -ETIMEDOUT when the child did not answer before timeout_ms (it is killed,
 * or abandoned in D state); another -errno from stat. */
static int stat_deadline(const char *path, uint64_t timeout_ms, struct stat *st)
{
        struct stat_job j = {.path = path};
        struct child ch;
        int r = child_start(&ch, "mediator_nfs_stat", stat_child, &j);
        if (r < 0)
                return r;
        struct pollfd p = {.fd = ch.fd, .events = POLLIN};
        uint64_t end = now_ms_monotonic() + timeout_ms;
        int pr;
        do {
                uint64_t now = now_ms_monotonic();
                pr = now >= end ? 0 : poll(&p, 1, (int)(end - now));
        } while (pr < 0 && errno == EINTR);
        struct stat_reply rep;
        long n = pr > 0 ? read_full(ch.fd, &rep, sizeof(rep)) : 0;
        close(ch.fd);
        bool abandoned = false;
        (void)child_reap(ch.pid, n != (long)sizeof(rep), &abandoned);
        if (n != (long)sizeof(rep))
                return -ETIMEDOUT;
        if (rep.r == 0)
                *st = rep.st;
        return rep.r;
}

static bool is_nfs(const char *type)
{
        return streq(type, "nfs") || streq(type, "nfs4");
}

static void check_nfs_mounts(struct mx *m, struct findings *fs, struct strbuf *listing)
{
        if (m->mnt_err < 0) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.nfs_mount", "/proc/mounts unreadable: %s", rootfs_strerror(m->mnt_err));
                return;
        }
        uint64_t to = mx_conf_ms(m->c, "nfs_stat_timeout", 2000);
        size_t seen = 0;
        for (size_t i = 0; i < m->mnt.n && seen < 64; i++) {
                const struct mount_entry *e = &m->mnt.v[i];
                if (!is_nfs(e->type))
                        continue;
                seen++;
                char ac[32] = "", acr[32] = "";
                bool has_ac = mx_opt(e->opts, "actimeo", ac, sizeof(ac));
                bool has_acr = mx_opt(e->opts, "acregmax", acr, sizeof(acr));
                const char *mode = mx_opt(e->opts, "soft", NULL, 0) ? "soft" : "hard";
                uint64_t t = mx_budget_ms(m->c, to, 1500);
                struct stat st;
                int r = t ? stat_deadline(e->dir, t, &st) : -ETIMEDOUT;
                if (listing)
                        sb_printf(listing, "%s on %s type %s (%s): %s\n", e->src, e->dir, e->type, e->opts,
                                  r == 0 ? "answers" : r == -ETIMEDOUT ? "NOT ANSWERING" : rootfs_strerror(r));
                struct finding *f;
                if (r == -ETIMEDOUT) {
                        f = fnd_add(fs, SEV_CRIT, "mediator.nfs_mount",
                                    "%s (%s from %s) does not answer within %" PRIu64 " ms: NFS server dead or unreachable",
                                    e->dir, mode, e->src, t);
                        fnd_remedy(f, "check the server (showmount -e %.*s); umount -f -l %s to unblock readers",
                                   (int)strcspn(e->src, ":"), e->src, e->dir);
                } else if (r < 0) {
                        f = fnd_add(fs, SEV_WARN, "mediator.nfs_mount", "%s (from %s): %s", e->dir, e->src,
                                    rootfs_strerror(r));
                } else {
                        uint64_t sec = 0;
                        bool slow = (has_ac && parse_u64(ac, &sec) == 0 && sec > 1) ||
                                    (!has_ac && has_acr && parse_u64(acr, &sec) == 0 && sec > 1) ||
                                    (!has_ac && !has_acr && (sec = 60));
                        if (slow) {
                                f = fnd_add(fs, SEV_INFO, "mediator.nfs_mount",
                                            "%s (%s from %s) caches attributes up to %" PRIu64 " s: request and response "
                                            "updates show late",
                                            e->dir, mode, e->src, sec);
                                fnd_remedy(f, "mount -o remount,actimeo=1 %s", e->dir);
                        } else {
                                f = fnd_add(fs, SEV_OK, "mediator.nfs_mount", "%s (%s from %s) answers, actimeo %s",
                                            e->dir, mode, e->src, has_ac ? ac : acr);
                        }
                }
                fnd_subject(f, "%s", e->dir);
                fnd_actual(f, "%s", e->opts);
                fnd_evidence(f, "/proc/mounts");
        }
        if (!seen)
                fnd_add(fs, SEV_SKIPPED, "mediator.nfs_mount", "no NFS mount on this host");
}

/* ---- admin socket ---- */

static void check_admin(struct mx *m, struct findings *fs, struct bundle_sink *sink)
{
        const char *sock = conf_str(m->c, "admin_socket");
        struct stat st;
        if (rootfs_stat(sock, &st, false) < 0) {
                bool p3 = m->phase3;
                struct finding *f = fnd_add(fs, p3 ? SEV_WARN : SEV_SKIPPED, "mediator.admin", "no admin socket %s%s",
                                            sock, p3 ? " while mediator_phase3 runs" : "");
                if (p3)
                        fnd_remedy(f, "restart the mediator: it creates %s at start", sock);
                return;
        }
        uint64_t t = mx_budget_ms(m->c, mx_conf_ms(m->c, "admin_timeout", 2000), 1000);
        size_t cap = (size_t)mx_conf_bytes(m->c, "admin_reply_max", 1u << 20);
        uint32_t status = 0;
        _cleanup_free_ char *text = NULL, *err = NULL;
        int r = t ? mx_admin_ask(sock, conf_str(m->c, "service_user"), MX_CMD_SHOW_HEALTH, t, cap, &status, &text, &err)
                  : -ETIMEDOUT;
        struct finding *f;
        if (r < 0) {
                f = fnd_add(fs, SEV_WARN, "mediator.admin", "SHOW_HEALTH: %s",
                            err ? err : "no time left in the collector's deadline");
                fnd_remedy(f, "vgpu-admin show-health; restart the mediator if it does not answer");
        } else {
                size_t l = strcspn(text, "\n");
                bool bad = status != 0 || mx_health_bad(text);
                f = fnd_add(fs, bad ? SEV_CRIT : SEV_OK, "mediator.admin", "SHOW_HEALTH: status %u: %.*s", status,
                            (int)(l > 160 ? 160 : l), text);
                if (bad)
                        fnd_remedy(f, "vgpu-admin show-health; the mediator's log %s", conf_str(m->c, "log"));
        }
        fnd_evidence(f, "%s", sock);
        if (sink) {
                if (text)
                        sink_text(sink, "admin-health.txt", "socket", sock, text, strlen(text));
                else
                        sink_missing(sink, "admin-health.txt", "socket", sock, "error", err ? err : "no time");
                _cleanup_free_ char *mt = NULL, *merr = NULL;
                uint32_t ms;
                t = mx_budget_ms(m->c, mx_conf_ms(m->c, "admin_timeout", 2000), 1000);
                if (r == 0 && t && mx_admin_ask(sock, conf_str(m->c, "service_user"), MX_CMD_SHOW_METRICS, t, cap, &ms,
                                                &mt, &merr) == 0)
                        sink_text(sink, "admin-metrics.txt", "socket", sock, mt, strlen(mt));
                else
                        sink_missing(sink, "admin-metrics.txt", "socket", sock, "error", merr ? merr : "not asked");
        }
}

/* ---- QEMU data sockets ---- */

/* The -chroot DIR (or -run-with chroot=DIR) of a NUL-separated cmdline. */
static char *qemu_chroot(const char *cmd, size_t len)
{
        const char *prev = NULL;
        for (size_t i = 0; i < len;) {
                const char *a = cmd + i;
                size_t n = strnlen(a, len - i);
                if (prev && (streq(prev, "-chroot") || streq(prev, "--chroot")))
                        return xstrndup(a, n);
                if (prev && streq(prev, "-run-with")) {
                        const char *c = strstr(a, "chroot=");
                        if (c && (c == a || c[-1] == ','))
                                return xstrndup(c + 7, strcspn(c + 7, ","));
                }
                prev = a;
                i += n + 1;
        }
        return NULL;
}

static void check_data_sockets(struct mx *m, struct findings *fs, struct strbuf *listing)
{
        size_t seen = 0, missing = 0;
        for (size_t i = 0; i < m->pt.n && seen < 256; i++) {
                const struct proc *p = &m->pt.v[i];
                if (p->kthread || strncmp(p->comm, "qemu", 4))
                        continue;
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
                _cleanup_free_ char *cmd = NULL, *root = NULL;
                long n = rootfs_read(path, 256u << 10, &cmd, NULL);
                if (n <= 0 || !(root = qemu_chroot(cmd, (size_t)n)) || root[0] != '/')
                        continue;
                seen++;
                char sp[PATHSZ];
                snprintf(sp, sizeof(sp), "%s/tmp/vgpu-mediator.sock", strcmp(root, "/") ? root : "");
                struct stat st;
                bool ok = rootfs_stat(sp, &st, false) == 0 && S_ISSOCK(st.st_mode);
                if (listing)
                        sb_printf(listing, "pid %d %s: %s %s\n", p->pid, p->comm, sp, ok ? "present" : "MISSING");
                if (!ok) {
                        missing++;
                        struct finding *f = fnd_add(fs, SEV_INFO, "mediator.data_sockets",
                                                    "QEMU pid %d has no mediator data socket %s", p->pid, sp);
                        fnd_subject(f, "pid %d", p->pid);
                        fnd_remedy(f, "restart the mediator (it creates the socket in each QEMU chroot at start)");
                }
        }
        if (!seen)
                fnd_add(fs, SEV_SKIPPED, "mediator.data_sockets", "no QEMU process with -chroot");
        else if (!missing)
                fnd_add(fs, SEV_OK, "mediator.data_sockets", "%zu QEMU chroot(s) have the mediator's data socket", seen);
}

/* ---- log ---- */

/* The last `tail` bytes of the log (plain pread of a regular file). The log sits in
 * /tmp, where anyone may leave a file or link of that name: it is opened under trust's
 * path rule (root or the service user owns it and every directory on the way; links
 * only when root made them), never by following what a user planted. */
static long log_tail(struct mx *m, const char *path, size_t tail, char **out, bool *cut, int *err, char **why)
{
        *out = NULL;
        _cleanup_close_ int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY);
        int fd = -1, inj = rootfs_injected_error(path); /* check --from: failed the same way */
        int r = inj ? -inj : rootfd < 0 ? rootfd : path[0] != '/' ? -EINVAL : trust_walk(&m->tr, rootfd, path, TRUST_FILE, &fd, why);
        if (r < 0) {
                if (rootfs_tracing())
                        rootfs_trace_failed(path, -r);
                *err = r;
                return r;
        }
        _cleanup_close_ int fdc = fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                *err = -errno;
                return *err;
        }
        off_t off = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
        *cut = off > 0;
        char *buf = xmalloc(tail + 1);
        size_t got = 0;
        while (got < tail) {
                ssize_t k = pread(fd, buf + got, tail - got, off + (off_t)got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t)k;
        }
        buf[got] = 0;
        if (*cut) {
                /* Start at a whole line: the window is the same when a bundle's copy is read again. */
                char *nl = memchr(buf, '\n', got);
                size_t drop = nl ? (size_t)(nl - buf) + 1 : got;
                memmove(buf, buf + drop, got - drop + 1);
                got -= drop;
        }
        if (rootfs_tracing()) {
                /* A bundle: these bytes are what is stored (and what check --from reads). */
                rootfs_snapshot_put(path, buf, got);
                free(buf);
                return rootfs_read(path, tail, out, NULL);
        }
        *out = buf;
        return (long)got;
}

static void check_log(struct mx *m, struct findings *fs, struct bundle_sink *sink)
{
        const char *path = conf_str(m->c, "log");
        size_t tail = (size_t)mx_conf_bytes(m->c, "log_tail", 256u << 10);
        _cleanup_free_ char *text = NULL, *why = NULL;
        bool cut = false;
        int err = 0;
        long n = log_tail(m, path, tail, &text, &cut, &err, &why);
        if (n < 0) {
                const char *msg = why ? why : rootfs_strerror(err);
                struct finding *f = fnd_add(fs, err == -ENOENT ? SEV_SKIPPED : err == -EPERM ? SEV_WARN : SEV_UNKNOWN,
                                            "mediator.log", "%s%s%s", path,
                                            err == -EPERM ? " not read: trust's path rule refuses it" : ": ",
                                            err == -EPERM ? "" : rootfs_strerror(err));
                if (why)
                        fnd_actual(f, "%s", why);
                if (err == -EPERM)
                        fnd_remedy(f, "ls -l %s: the mediator (root) writes it; remove what someone else left there",
                                   path);
                if (sink)
                        sink_missing(sink, "log-tail.txt", "file", path, "error", msg);
                return;
        }
        if (sink)
                sink_text(sink, "log-tail.txt", "file", path, text, (size_t)n);
        struct mx_logscan ls;
        mx_log_scan(text, (size_t)n, false, &ls);
        struct finding *f;
        if (ls.cuda) {
                f = fnd_add(fs, SEV_CRIT, "mediator.log", "%zu CUDA error line(s) in the last %zu lines of %s; last: %s",
                            ls.cuda, ls.lines, path, ls.last_cuda);
                fnd_remedy(f, "nvidia-smi -q | grep -i -e temp -e xid; dmesg | grep -i xid (guide error 8)");
        } else if (ls.errors) {
                f = fnd_add(fs, SEV_WARN, "mediator.log", "%zu [ERROR] line(s) in the last %zu lines of %s; last: %s",
                            ls.errors, ls.lines, path, ls.last_error);
                fnd_remedy(f, "tail -n 100 %s", path);
        } else {
                f = fnd_add(fs, SEV_OK, "mediator.log", "no [ERROR] or CUDA error in the last %zu lines of %s", ls.lines,
                            path);
        }
        if (ls.cuda && ls.errors)
                fnd_actual(f, "%zu [ERROR] lines; last: %s", ls.errors, ls.last_error);
        fnd_evidence(f, "%s (last %zu bytes)", path, tail);
}

/* ---- cuda_sanity (--allow-intrusive) ---- */

static void check_cuda_sanity(struct mx *m, struct findings *fs)
{
        const char *bin = conf_str(m->c, "cuda_sanity");
        if (!m->c->allow_intrusive) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "needs --allow-intrusive (runs %s on the GPU)", bin);
                return;
        }
        if (!rootfs_is_live()) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "not on the live system");
                return;
        }
        /* Pre-check: the binary passes trust's path rule (root-owned, not writable by
         * others, nor any directory on the way). */
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int bfd = -1;
        _cleanup_close_ int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY);
        int r = bin[0] != '/' ? -EINVAL : rootfd < 0 ? rootfd : trust_walk(&m->tr, rootfd, bin, TRUST_FILE, &bfd, &why);
        if (r == -ENOENT) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "%s not present", bin);
                return;
        }
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.cuda_sanity", "%s not run: %s", bin,
                                            why ? why : "not an absolute path");
                fnd_remedy(f, "chown root %s; chmod go-w %s", bin, bin);
                return;
        }
        uint64_t t = mx_budget_ms(m->c, mx_conf_ms(m->c, "cuda_sanity_timeout", 30000), 1500);
        if (!t) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.cuda_sanity", "no time left in the collector's deadline to run %s", bin);
                return;
        }
        const char *argv[] = {bin, NULL};
        struct cmd_result res = {0};
        (void)cmd_run(argv, t, 64 << 10, &res);
        /* Post-check: a run past its deadline was killed with its process group. */
        struct finding *f;
        char line[160];
        if (res.timed_out) {
                f = fnd_add(fs, SEV_CRIT, "mediator.cuda_sanity", "%s did not finish within %" PRIu64 " ms (killed): GPU or driver hung",
                            bin, t);
                fnd_remedy(f, "nvidia-smi -q | grep -i xid; if CUDA cannot work in Dom0: Plan B, a GPU worker VM with "
                              "passthrough and the mediator as orchestrator only");
        } else {
                int ex = res.status >= 0 && WIFEXITED(res.status) ? WEXITSTATUS(res.status) : 255;
                enum mx_sanity s = mx_sanity_parse(res.out, ex, line, sizeof(line));
                if (s == MX_SANITY_OK) {
                        f = fnd_add(fs, SEV_OK, "mediator.cuda_sanity", "%s: CUDA sanity OK", bin);
                } else {
                        f = fnd_add(fs, s == MX_SANITY_FAILED ? SEV_CRIT : SEV_UNKNOWN, "mediator.cuda_sanity", "%s: %s",
                                    bin, line);
                        fnd_remedy(f, "do not force CUDA in Dom0; Plan B: a GPU worker VM with passthrough, the "
                                      "mediator as orchestrator only (guide error 5)");
                }
        }
        fnd_evidence(f, "%s (%" PRIu64 " ms)", bin, res.duration_ms);
        cmd_result_free(&res);
}

/* ---- the collector ---- */

static void mx_load(struct mx *m, struct ctx *c)
{
        *m = (struct mx){.c = c, .shared = conf_str(c, "shared_dir")};
        trust_init(&m->tr, "mediator", conf_str(c, "service_user"));
        read_lock(m);
        find_daemon(m);
        read_exports(m);
        read_vms(m);
}

static bool mediator_detect(struct ctx *c)
{
        struct stat st;
        if (rootfs_stat(SHM_LINK, &st, false) == 0 || rootfs_stat(conf_str(c, "lock_file"), &st, false) == 0)
                return true;
        _cleanup_free_ char *mt = NULL;
        struct mounts mnt = {0};
        if (rootfs_read("/proc/mounts", 8u << 20, &mt, NULL) >= 0)
                mounts_parse(mt, &mnt);
        int g = nfs_guard(c, &mnt, conf_str(c, "shared_dir"));
        mounts_free(&mnt);
        if (g < 0 || rootfs_stat(conf_str(c, "shared_dir"), &st, false) == 0)
                return true; /* a dead NFS mount at the shared directory is the mediator's business */
        struct mx m = {.c = c, .shared = conf_str(c, "shared_dir")};
        bool found = false;
        _cleanup_free_ char *t = NULL;
        if (rootfs_read(EXPORTS, 1u << 20, &t, NULL) >= 0) {
                mx_exports_parse(t, &m.ex);
                for (size_t i = 0; i < m.ex.n && !found; i++)
                        found = is_vgpu_export(&m, m.ex.v[i].path) || strstr(m.ex.v[i].path, "vgpu");
        }
        mx_exports_free(&m.ex);
        if (found)
                return true;
        struct proctable pt = {0};
        if (proctable_load(&pt) >= 0)
                for (size_t i = 0; i < pt.n && !found; i++)
                        found = !pt.v[i].kthread && named_mediator(&m, &pt.v[i]);
        proctable_free(&pt);
        return found;
}

static void run_checks(struct ctx *c, struct findings *fs, struct bundle_sink *sink)
{
        struct mx m;
        mx_load(&m, c);
        if (!sink) {
                check_process(&m, fs);
                check_lock(&m, fs);
                check_shared_dir(&m, fs);
                check_tmpfs(&m, fs);
                check_root_squash(&m, fs);
                check_stale_exports(&m, fs);
                check_services(&m, fs);
                check_dir_mode(&m, fs);
                check_vms(&m, fs);
        }
        struct strbuf nfs = {0}, socks = {0};
        check_nfs_mounts(&m, fs, sink ? &nfs : NULL);
        check_admin(&m, fs, sink);
        check_data_sockets(&m, fs, sink ? &socks : NULL);
        check_log(&m, fs, sink);
        if (!sink)
                check_cuda_sanity(&m, fs); /* intrusive and slow: once, in check */
        if (sink) {
                sink_text(sink, "nfs-mounts.txt", "derived", "/proc/mounts", nfs.s ? nfs.s : "", nfs.len);
                sink_text(sink, "data-sockets.txt", "derived", "/proc/*/cmdline", socks.s ? socks.s : "", socks.len);
                struct strbuf l = {0};
                sb_printf(&l, "layout: %s\n", m.layout == MX_LAYOUT_PERVM ? "per-VM (phase 2/3)"
                                              : m.layout == MX_LAYOUT_PHASE1 ? "phase 1 command.txt"
                                                                             : "none");
                for (size_t i = 0; i < m.nvm; i++) {
                        struct vmfile *fv[2] = {&m.vms[i].req, &m.vms[i].resp};
                        for (int k = 0; k < 2; k++) {
                                struct vmfile *v = fv[k];
                                if (v->err < 0) {
                                        sb_printf(&l, "%s: %s\n", v->path, rootfs_strerror(v->err));
                                        continue;
                                }
                                char tb[32];
                                struct tm tm;
                                time_t t = v->st.st_mtim.tv_sec;
                                strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
                                sb_printf(&l, "%s: mode %04o uid %u links %lu size %lld mtime %s.%03ld%s%.*s\n", v->path,
                                          (unsigned)(v->st.st_mode & 07777), (unsigned)v->st.st_uid,
                                          (unsigned long)v->st.st_nlink, (long long)v->st.st_size, tb,
                                          v->st.st_mtim.tv_nsec / 1000000, k && v->text ? ": " : "",
                                          k && v->text ? (int)strcspn(v->text, "\n") : 0, k && v->text ? v->text : "");
                        }
                }
                sink_text(sink, "vm-files.txt", "derived", m.shared, l.s ? l.s : "", l.len);
                sb_free(&l);
        }
        sb_free(&nfs);
        sb_free(&socks);
        mx_free(&m);
}

static void mediator_check(struct ctx *c, struct findings *fs)
{
        run_checks(c, fs, NULL);
}

/* Bundle: check() already ran traced (exports, etab, lock, per-VM files, mounts are
 * stored as read); the listings, admin replies (SHOW_HEALTH and SHOW_METRICS) and the
 * log tail are added here; their findings were sent by check() and are dropped. */
static void mediator_collect(struct ctx *c, struct bundle_sink *s)
{
        struct findings fs = {0};
        run_checks(c, &fs, s);
        findings_free(&fs);
        sink_file(s, conf_str(c, "lock_file"));
}

const struct collector mediator_collector = {
        .name = "mediator",
        .summary = "vGPU mediator: NFS exports, per-VM request files, admin socket, log",
        .needs = NEEDS_ROOT,
        .checks = checks,
        .config = config,
        .detect = mediator_detect,
        .absent = "no mediator process, no /var/run/mediator_phase3.lock, no /dev/shm/vgpu link, no /var/vgpu and no vGPU export",
        .absent_remedy = "start the mediator (./mediator_phase3 or its unit); check [mediator] shared_dir and lock_file if it "
                         "lives elsewhere",
        .check = mediator_check,
        .collect = mediator_collect,
        .sample = mediator_sample,
        .sampled = (const char *const[]){"mediator.vm_stale", "mediator.admin", NULL},
        .free_state = mediator_free_state,
};
