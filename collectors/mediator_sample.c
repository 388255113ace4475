/* mediator: sample() for evodiag watch. Every interval: each VM's request and
 * response mtimes, as the age of a pending request and a mediator.vm_stale status
 * with check()'s rule. The shared directory can be an NFS mount whose server died
 * (a VM's /mnt/vgpu, or /var/vgpu itself): every file system access of a sample (the
 * lstat()s, the listing of the VM directories on the rescan cadence, the admin
 * socket's stat) happens in one child under a deadline, never in the sampler. A
 * child that does not answer costs one status (mediator.vm_stale for the directory:
 * unknown, "does not answer", as check() says it), the VMs keep their last verdicts,
 * and no new child is started while the stuck one lives or for a back-off after it,
 * so the samples keep their cadence. Every [mediator] admin_interval: SHOW_HEALTH over
 * the admin socket (bounded by half an interval and admin_timeout); its verdict is
 * repeated in the samples between, so a change is one event. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/mediator.h"
#include "collectors/sample_util.h"
#include "lib/child.h"
#include "lib/rootfs.h"
#include "lib/sample.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SAMPLE_VMS_MAX 256
#define SAMPLE_ENTRIES (SAMPLE_VMS_MAX + 1) /* the VMs, then phase 1's command.txt */
#define RETRY_MIN_MS 2000                   /* after a stat child that did not answer */

/* What the stat child found: one entry per VM (and phase 1). */
struct fsent {
        int32_t req_r, resp_r;  /* 0 or -errno of the lstat() */
        uint32_t req_mode;
        int64_t req_size, req_ms, resp_ms;
};
struct fsreply {
        uint32_t nvm;
        uint8_t listed, phase1, have_sock, pad;
        char vm[SAMPLE_VMS_MAX][32];
        struct fsent e[SAMPLE_ENTRIES];
};

struct vmlast {
        enum severity sev;
        char msg[160];
        bool known;
};

struct mstate {
        char (*vm)[32];
        size_t nvm;
        bool phase1, listed, need_list;
        struct vmlast *last; /* SAMPLE_ENTRIES: each VM's last verdict, repeated while NFS hangs */
        struct fsreply *rep;
        pid_t stuck;         /* a stat child that could not be reaped (D state), or 0 */
        uint64_t retry_ms;   /* no stat child before this (monotonic) */
        bool hung;
        char hung_msg[200];
        uint64_t last_admin_ms;
        bool admin_done, have_sock;
        enum severity admin_sev;
        char admin_msg[200];
};

void mediator_free_state(void *state)
{
        struct mstate *st = state;
        if (!st)
                return;
        free(st->vm);
        free(st->last);
        free(st->rep);
        free(st);
}

/* ---- the stat child ---- */

struct fsjob {
        struct ctx *c;
        const struct mstate *st;
        bool relist;
};

static int64_t ms_of(const struct stat *s)
{
        return (int64_t)s->st_mtim.tv_sec * 1000 + s->st_mtim.tv_nsec / 1000000;
}

static void list_vms(const char *dir, struct fsreply *r)
{
        r->listed = 1;
        struct rootfs_dir *d = rootfs_opendir(dir);
        if (d) {
                struct dirent *de;
                unsigned id;
                while ((de = rootfs_readdir(d)) && r->nvm < SAMPLE_VMS_MAX) {
                        if (mx_vm_dir_id(de->d_name, &id) < 0)
                                continue;
                        snprintf(r->vm[r->nvm++], 32, "%.31s", de->d_name);
                }
                rootfs_closedir(d);
        }
        char p[512];
        struct stat s;
        snprintf(p, sizeof(p), "%s/command.txt", dir);
        r->phase1 = rootfs_stat(p, &s, false) == 0;
}

static void stat_pair(const char *req, const char *resp, struct fsent *e)
{
        struct stat q, r;
        *e = (struct fsent){0};
        e->req_r = rootfs_stat(req, &q, true);
        if (e->req_r == 0) {
                e->req_mode = q.st_mode;
                e->req_size = q.st_size;
                e->req_ms = ms_of(&q);
        }
        e->resp_r = rootfs_stat(resp, &r, true);
        if (e->resp_r == 0)
                e->resp_ms = ms_of(&r);
}

static void fs_child(void *arg, int wfd)
{
        const struct fsjob *j = arg;
        const char *dir = conf_str(j->c, "shared_dir");
        struct fsreply *r = xcalloc(1, sizeof(*r));
        if (j->relist) {
                list_vms(dir, r);
        } else {
                r->nvm = (uint32_t)j->st->nvm;
                r->phase1 = j->st->phase1;
                for (size_t i = 0; i < j->st->nvm; i++)
                        memcpy(r->vm[i], j->st->vm[i], 32);
        }
        char req[512], resp[512];
        for (size_t i = 0; i < r->nvm; i++) {
                snprintf(req, sizeof(req), "%s/%s/request.txt", dir, r->vm[i]);
                snprintf(resp, sizeof(resp), "%s/%s/response.txt", dir, r->vm[i]);
                stat_pair(req, resp, &r->e[i]);
        }
        if (r->phase1) {
                snprintf(req, sizeof(req), "%s/command.txt", dir);
                snprintf(resp, sizeof(resp), "%s/response.txt", dir);
                stat_pair(req, resp, &r->e[SAMPLE_VMS_MAX]);
        }
        struct stat sb;
        r->have_sock = rootfs_stat(conf_str(j->c, "admin_socket"), &sb, false) == 0;
        (void)write_all(wfd, r, sizeof(*r));
        free(r);
}

/* Runs the child: 0 with st->rep filled; -ETIMEDOUT when it did not answer within
 * timeout_ms (killed; st->stuck when it could not be reaped); another -errno. */
static int fs_sample(struct ctx *c, struct mstate *st, bool relist, uint64_t timeout_ms)
{
        struct fsjob j = {.c = c, .st = st, .relist = relist};
        struct child ch;
        /* The hook name is the NFS stat child's: EVODIAG_FAULT=mediator_nfs_stat:hang
         * makes it hang as a stat() on a dead hard mount does. */
        int r = child_start(&ch, "mediator_nfs_stat", fs_child, &j);
        if (r < 0)
                return r;
        if (!st->rep)
                st->rep = xmalloc(sizeof(*st->rep));
        uint64_t end = now_ms_monotonic() + timeout_ms;
        size_t got = 0;
        while (got < sizeof(*st->rep)) {
                uint64_t now = now_ms_monotonic();
                if (now >= end)
                        break;
                struct pollfd p = {.fd = ch.fd, .events = POLLIN};
                int pr = poll(&p, 1, (int)(end - now));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        break;
                ssize_t n = read(ch.fd, (char *)st->rep + got, sizeof(*st->rep) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close(ch.fd);
        bool whole = got == sizeof(*st->rep), abandoned = false;
        (void)child_reap(ch.pid, !whole, &abandoned);
        if (abandoned)
                st->stuck = ch.pid;
        return whole ? 0 : -ETIMEDOUT;
}

/* ---- the verdicts ---- */

static void judge_vm(struct ctx *c, struct sample *s, struct vmlast *last, const char *name, const struct fsent *e)
{
        uint64_t stale = mx_conf_ms(c, "stale_after", 10000);
        last->known = true;
        if (e->req_r < 0 || !S_ISREG(e->req_mode) || e->req_size == 0) {
                sample_value(s, "mediator.request_age_s", name, 0, "s");
                last->sev = SEV_OK;
                snprintf(last->msg, sizeof(last->msg), "%s: no pending request", name);
        } else {
                bool have_resp = e->resp_r == 0;
                int64_t now = (int64_t)now_ms_realtime(), rq = e->req_ms;
                bool pending = !have_resp || e->resp_ms < rq;
                double age = pending && now > rq ? (double)(now - rq) / 1000.0 : 0;
                sample_value(s, "mediator.request_age_s", name, age, "s");
                if (pending && now - rq > (int64_t)stale) {
                        last->sev = SEV_WARN;
                        snprintf(last->msg, sizeof(last->msg), "%s: request %.0f s old, %s", name, age,
                                 have_resp ? "response older" : "no response");
                } else {
                        last->sev = SEV_OK;
                        snprintf(last->msg, sizeof(last->msg), "%s: %s", name,
                                 pending ? "request pending" : "request answered");
                }
        }
        sample_status(s, "mediator.vm_stale", name, last->sev, "%s", last->msg);
}

/* The shared directory did not answer: one status for it; the VMs keep their last
 * verdicts (as last read), so the hang is one event, not one per VM. */
static void report_hung(struct mstate *st, struct sample *s)
{
        sample_status(s, "mediator.vm_stale", NULL, SEV_UNKNOWN, "%s", st->hung_msg);
        for (size_t i = 0; i < st->nvm + (st->phase1 ? 1 : 0); i++) {
                size_t k = i < st->nvm ? i : SAMPLE_VMS_MAX;
                if (st->last[k].known)
                        sample_status(s, "mediator.vm_stale", i < st->nvm ? st->vm[i] : "phase1", st->last[k].sev,
                                      "%s (as last read)", st->last[k].msg);
        }
}

static void sample_admin(struct ctx *c, struct mstate *st)
{
        const char *sock = conf_str(c, "admin_socket");
        uint64_t t = mx_conf_ms(c, "admin_timeout", 2000);
        if (c->interval_ms && t > c->interval_ms / 2)
                t = c->interval_ms / 2 ? c->interval_ms / 2 : 1;
        uint32_t status = 0;
        _cleanup_free_ char *text = NULL, *err = NULL;
        int r = mx_admin_ask(sock, conf_str(c, "service_user"), MX_CMD_SHOW_HEALTH, t,
                             (size_t)mx_conf_bytes(c, "admin_reply_max", 1u << 20), &status, &text, &err);
        if (r < 0) {
                st->admin_sev = SEV_WARN;
                snprintf(st->admin_msg, sizeof(st->admin_msg), "SHOW_HEALTH: %s", err ? err : "failed");
                return;
        }
        size_t l = strcspn(text, "\n");
        st->admin_sev = status != 0 || mx_health_bad(text) ? SEV_CRIT : SEV_OK;
        snprintf(st->admin_msg, sizeof(st->admin_msg), "SHOW_HEALTH: status %u: %.*s", status, (int)(l > 150 ? 150 : l),
                 text);
}

/* The stat child's deadline: [mediator] nfs_stat_timeout, at most half of what is left
 * of this sample's deadline (the rest is the admin request's and the answer's). */
static uint64_t stat_timeout(const struct ctx *c)
{
        uint64_t t = mx_conf_ms(c, "nfs_stat_timeout", 2000), now = now_ms_monotonic();
        if (c->deadline_ms > now && (c->deadline_ms - now) / 2 < t)
                t = (c->deadline_ms - now) / 2;
        return t ? t : 1;
}

void mediator_sample(struct ctx *c, struct sample *s)
{
        struct mstate *st = sample_state(c, sizeof(*st));
        if (!st->last)
                st->last = xcalloc(SAMPLE_ENTRIES, sizeof(*st->last));
        if (sample_rescan_due(c))
                st->need_list = true; /* until a listing succeeds */
        bool relist = st->need_list || !st->listed;
        uint64_t now = now_ms_monotonic();
        if (st->stuck && waitpid(st->stuck, NULL, WNOHANG) == st->stuck)
                st->stuck = 0; /* its stat() returned at last */
        bool fresh = false;
        if (!st->stuck && now >= st->retry_ms) {
                uint64_t t = stat_timeout(c);
                int r = fs_sample(c, st, relist, t);
                if (r == 0) {
                        fresh = true;
                        st->hung = false;
                } else {
                        st->hung = true;
                        st->retry_ms = now_ms_monotonic() + (c->interval_ms * 4 > RETRY_MIN_MS ? c->interval_ms * 4 : RETRY_MIN_MS);
                        if (r == -ETIMEDOUT)
                                snprintf(st->hung_msg, sizeof(st->hung_msg),
                                         "%s is on an NFS mount that does not answer: not read (no answer within %" PRIu64 " ms)",
                                         conf_str(c, "shared_dir"), t);
                        else
                                snprintf(st->hung_msg, sizeof(st->hung_msg), "%s not read: cannot start the stat child: %s",
                                         conf_str(c, "shared_dir"), strerror(-r));
                }
        }
        if (!fresh) {
                report_hung(st, s); /* stuck, backing off, or it just failed */
        } else {
                struct fsreply *rep = st->rep;
                if (rep->listed) {
                        if (!st->vm && rep->nvm)
                                st->vm = xcalloc(SAMPLE_VMS_MAX, sizeof(*st->vm));
                        for (size_t i = 0; i < rep->nvm && i < SAMPLE_VMS_MAX; i++)
                                memcpy(st->vm[i], rep->vm[i], 32);
                        st->nvm = rep->nvm < SAMPLE_VMS_MAX ? rep->nvm : SAMPLE_VMS_MAX;
                        st->phase1 = rep->phase1;
                        st->listed = true;
                        st->need_list = false;
                }
                for (size_t i = 0; i < st->nvm; i++) {
                        st->vm[i][31] = 0;
                        judge_vm(c, s, &st->last[i], st->vm[i], &rep->e[i]);
                }
                if (st->phase1)
                        judge_vm(c, s, &st->last[SAMPLE_VMS_MAX], "phase1", &rep->e[SAMPLE_VMS_MAX]);
                st->have_sock = rep->have_sock;
        }
        now = now_ms_monotonic();
        /* The admin socket lives in the shared directory: not asked while it hangs. */
        if (st->have_sock && !st->hung &&
            (!st->admin_done || now - st->last_admin_ms >= mx_conf_ms(c, "admin_interval", 30000))) {
                sample_admin(c, st);
                st->admin_done = true;
                st->last_admin_ms = now;
        }
        if (st->have_sock && st->admin_done)
                sample_status(s, "mediator.admin", NULL, st->admin_sev, "%s", st->admin_msg);
}
