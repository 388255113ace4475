/* mediator: the NFS side (COMPONENTS.md §4): /etc/exports, /etc/exports.d and
 * /var/lib/nfs/etab (tmpfs, root_squash, stale exports), the NFS services, and the
 * NFS mounts of /proc/mounts, each stat()ed in a child under the deadline. */
#include "config.h"
#include "collectors/mediator_private.h"
#include "lib/child.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* ---- NFS ---- */

void mx_read_exports(struct mx *m)
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

bool mx_is_vgpu_export(const struct mx *m, const char *path)
{
        return mx_path_under(path, m->shared) && mx_path_under(m->shared, path);
}

void mx_check_tmpfs(struct mx *m, struct findings *fs)
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

void mx_check_root_squash(struct mx *m, struct findings *fs)
{
        size_t seen = 0, bad = 0;
        const struct mx_exports *src = m->et.n ? &m->et : &m->ex;
        const char *srcname = m->et.n ? ETAB : "/etc/exports";
        for (size_t i = 0; i < src->n; i++) {
                const struct mx_export *e = &src->v[i];
                if (!mx_is_vgpu_export(m, e->path))
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

void mx_check_stale_exports(struct mx *m, struct findings *fs)
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

void mx_check_services(struct mx *m, struct findings *fs)
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

bool mx_root_squashed(const struct mx *m)
{
        const struct mx_exports *src = m->et.n ? &m->et : &m->ex;
        for (size_t i = 0; i < src->n; i++)
                if (mx_is_vgpu_export(m, src->v[i].path) &&
                    (!mx_opt(src->v[i].opts, "no_root_squash", NULL, 0) || mx_opt(src->v[i].opts, "all_squash", NULL, 0)))
                        return true;
        return false;
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

void mx_check_nfs_mounts(struct mx *m, struct findings *fs, struct strbuf *listing)
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
                uint64_t t = ctx_budget_ms(m->c, to, 1500);
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
/* The shared directory may itself be an NFS mount (a VM's /mnt/vgpu): its mount is
 * stat()ed in a child under the deadline first, and a mount that does not answer is
 * never touched in this process. 0, or -ETIMEDOUT. */
int mx_nfs_guard(const struct ctx *c, const struct mounts *mnt, const char *path)
{
        const struct mount_entry *best = NULL;
        for (size_t i = 0; mnt && i < mnt->n; i++)
                if (mx_path_under(path, mnt->v[i].dir) && (!best || strlen(mnt->v[i].dir) >= strlen(best->dir)))
                        best = &mnt->v[i];
        if (!best || !is_nfs(best->type))
                return 0;
        struct stat st;
        uint64_t t = ctx_budget_ms(c, mx_conf_ms(c, "nfs_stat_timeout", 2000), 1500);
        int r = t ? stat_deadline(best->dir, t, &st) : -ETIMEDOUT;
        return r == -ETIMEDOUT ? r : 0;
}
