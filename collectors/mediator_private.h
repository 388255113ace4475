/* The mediator collector's own header, shared by its files and by nothing else:
 *   mediator.c          the collector: its checks, config keys, the daemon and its lock,
 *                       detect(), check() and collect()
 *   mediator_nfs.c      exports, etab, the NFS services, the NFS mounts (stat in a child)
 *   mediator_vm.c       the per-VM files, the shared directory and its modes
 *   mediator_runtime.c  admin socket, QEMU data sockets, log, cuda_sanity
 *   mediator_admin.c    the admin socket client (mediator.h)
 *   mediator_sample.c   sample() for evodiag watch
 *   mediator_format.c   the pure parsers (mediator.h) */
#pragma once
#include "collectors/collector.h"
#include "collectors/mediator.h"
#include "lib/mounts.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define EXPORTS "/etc/exports"
#define EXPORTS_D "/etc/exports.d"
#define ETAB "/var/lib/nfs/etab"
#define SHM_LINK "/dev/shm/vgpu"
#define VMS_MAX 1024
#define PATHSZ 512

struct bundle_sink;

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
        uint64_t lock_ino;
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

/* mediator_nfs.c */
void mx_read_exports(struct mx *m);
bool mx_is_vgpu_export(const struct mx *m, const char *path);
bool mx_root_squashed(const struct mx *m);
int mx_nfs_guard(const struct ctx *c, const struct mounts *mnt, const char *path);
void mx_check_tmpfs(struct mx *m, struct findings *fs);
void mx_check_root_squash(struct mx *m, struct findings *fs);
void mx_check_stale_exports(struct mx *m, struct findings *fs);
void mx_check_services(struct mx *m, struct findings *fs);
void mx_check_nfs_mounts(struct mx *m, struct findings *fs, struct strbuf *listing);

/* mediator_vm.c */
void mx_read_vms(struct mx *m);
void mx_check_vms(struct mx *m, struct findings *fs);
void mx_check_shared_dir(struct mx *m, struct findings *fs);
void mx_check_dir_mode(struct mx *m, struct findings *fs);

/* mediator_runtime.c */
void mx_check_admin(struct mx *m, struct findings *fs, struct bundle_sink *sink);
void mx_check_data_sockets(struct mx *m, struct findings *fs, struct strbuf *listing);
void mx_check_log(struct mx *m, struct findings *fs, struct bundle_sink *sink);
void mx_check_cuda_sanity(struct mx *m, struct findings *fs);
