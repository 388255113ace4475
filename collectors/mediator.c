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
 * /tmp/mediator.log (a bounded tail) and, with --allow-intrusive, cuda_sanity; when it
 * fails or hangs, lib/gpuprobe (the gpu collector's "usable NVIDIA GPU" probe, where
 * [gpu] nvml_path and nvidia_smi say) tells "no GPU" from "driver wedged" from "the test
 * fails with a usable GPU". */
#include "config.h"
#include "collectors/mediator_private.h"
#include "collectors/sink.h"
#include "lib/proclocks.h"
#include "lib/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

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
         "error 7). Warn. A shared directory on an NFS mount that does not answer is unknown (not\n"
         "read; watch stat()s in a child under nfs_stat_timeout and keeps the VMs' last verdicts).\n"
         "Fix: check the mediator (mediator.process, its log), then the mount's\n"
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
         "passthrough, the mediator as orchestrator only. A run past its deadline is killed: crit.\n"
         "A failing or hung run (only then) asks the GPU, as the gpu collector does ([gpu] nvml_path,\n"
         "nvidia_smi, deadline), and says which case it is: no GPU (Plan B), the driver wedged (guide\n"
         "error 8: dmesg Xid, reboot), a driver/library mismatch (reboot), the driver not loaded, or\n"
         "a usable GPU, so the test itself fails (ldd cuda_sanity: the CUDA runtime; driver version).",
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
        _cleanup_free_ struct proclock *lk = NULL;
        size_t nlk;
        proclocks_held(locks, &lk, &nlk);
        const struct proclock *l = proclocks_holder(lk, nlk, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev),
                                                    rootfs_is_live());
        m->holder = !l ? 0 : l->pid > 0 ? l->pid : -1; /* -1: a pid outside this pid namespace */
        m->lock_ino = (uint64_t)st.st_ino;
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
        } else if (m->holder < 0) {
                f = fnd_add(fs, SEV_WARN, "mediator.lock",
                            "%s names pid %d but a process outside this pid namespace holds it", path, m->lock_pid);
                fnd_remedy(f, "run evodiag in the host's pid namespace; there: grep \":%llu \" /proc/locks",
                           (unsigned long long)m->lock_ino);
        } else {
                f = fnd_add(fs, SEV_WARN, "mediator.lock", "%s names pid %d but pid %d holds it", path, m->lock_pid,
                            m->holder);
                fnd_remedy(f, "ps -o pid,user,args -p %d", m->holder);
        }
        fnd_evidence(f, "%s, /proc/locks", path);
}

/* ---- the collector ---- */

static void mx_load(struct mx *m, struct ctx *c)
{
        *m = (struct mx){.c = c, .shared = conf_str(c, "shared_dir")};
        trust_init(&m->tr, "mediator", conf_str(c, "service_user"));
        read_lock(m);
        find_daemon(m);
        mx_read_exports(m);
        mx_read_vms(m);
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
        int g = mx_nfs_guard(c, &mnt, conf_str(c, "shared_dir"));
        mounts_free(&mnt);
        if (g < 0 || rootfs_stat(conf_str(c, "shared_dir"), &st, false) == 0)
                return true; /* a dead NFS mount at the shared directory is the mediator's business */
        struct mx m = {.c = c, .shared = conf_str(c, "shared_dir")};
        bool found = false;
        _cleanup_free_ char *t = NULL;
        if (rootfs_read(EXPORTS, 1u << 20, &t, NULL) >= 0) {
                mx_exports_parse(t, &m.ex);
                for (size_t i = 0; i < m.ex.n && !found; i++)
                        found = mx_is_vgpu_export(&m, m.ex.v[i].path) || strstr(m.ex.v[i].path, "vgpu");
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
                mx_check_shared_dir(&m, fs);
                mx_check_tmpfs(&m, fs);
                mx_check_root_squash(&m, fs);
                mx_check_stale_exports(&m, fs);
                mx_check_services(&m, fs);
                mx_check_dir_mode(&m, fs);
                mx_check_vms(&m, fs);
        }
        struct strbuf nfs = {0}, socks = {0};
        mx_check_nfs_mounts(&m, fs, sink ? &nfs : NULL);
        mx_check_admin(&m, fs, sink);
        mx_check_data_sockets(&m, fs, sink ? &socks : NULL);
        mx_check_log(&m, fs, sink);
        if (!sink)
                mx_check_cuda_sanity(&m, fs); /* intrusive and slow: once, in check */
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
