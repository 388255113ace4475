/* mediator: the per-VM request and response files in the shared directory, the shared
 * directory itself and the modes of it and its VM directories (COMPONENTS.md §4). */
#include "config.h"
#include "collectors/mediator_private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

/* ---- per-VM files ---- */

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

void mx_read_vms(struct mx *m)
{
        size_t cap = (size_t)mx_conf_bytes(m->c, "request_max", 4096);
        if (mx_nfs_guard(m->c, &m->mnt, m->shared) < 0) {
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

void mx_check_vms(struct mx *m, struct findings *fs)
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

static const char *dir_why(const struct mx *m)
{
        return m->dir_err == -ETIMEDOUT ? "on an NFS mount that does not answer" : rootfs_strerror(m->dir_err);
}

void mx_check_shared_dir(struct mx *m, struct findings *fs)
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

void mx_check_dir_mode(struct mx *m, struct findings *fs)
{
        if (m->dir_err < 0) {
                fnd_add(fs, m->dir_err == -ENOENT ? SEV_SKIPPED : SEV_UNKNOWN, "mediator.dir_mode", "%s: %s", m->shared,
                        dir_why(m));
                return;
        }
        bool squash = mx_root_squashed(m);
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
