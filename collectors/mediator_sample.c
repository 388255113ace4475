/* mediator: sample() for evodiag watch. Every interval: each VM's request and
 * response mtimes (two lstat()s per VM; the VM directories are listed again on the
 * rescan cadence), as the age of a pending request and a mediator.vm_stale status
 * with check()'s rule. Every [mediator] admin_interval: SHOW_HEALTH over the admin
 * socket (bounded by half an interval and admin_timeout); its verdict is repeated in
 * the samples between, so a change is one event. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/mediator.h"
#include "collectors/sample_util.h"
#include "lib/rootfs.h"
#include "lib/sample.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>

#define SAMPLE_VMS_MAX 256

struct mstate {
        char (*vm)[32];
        size_t nvm;
        bool phase1;
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
        free(st);
}

static void list_vms(struct ctx *c, struct mstate *st)
{
        const char *dir = conf_str(c, "shared_dir");
        st->nvm = 0;
        struct rootfs_dir *d = rootfs_opendir(dir);
        if (d) {
                struct dirent *de;
                unsigned id;
                while ((de = rootfs_readdir(d)) && st->nvm < SAMPLE_VMS_MAX) {
                        if (mx_vm_dir_id(de->d_name, &id) < 0)
                                continue;
                        if (!st->vm)
                                st->vm = xcalloc(SAMPLE_VMS_MAX, sizeof(*st->vm));
                        snprintf(st->vm[st->nvm++], 32, "%.31s", de->d_name);
                }
                rootfs_closedir(d);
        }
        char p[512];
        struct stat s;
        snprintf(p, sizeof(p), "%s/command.txt", dir);
        st->phase1 = rootfs_stat(p, &s, false) == 0;
}

static int64_t ms_of(const struct stat *s)
{
        return (int64_t)s->st_mtim.tv_sec * 1000 + s->st_mtim.tv_nsec / 1000000;
}

static void sample_vm(struct ctx *c, struct sample *s, const char *name, const char *req, const char *resp)
{
        uint64_t stale = mx_conf_ms(c, "stale_after", 10000);
        struct stat q, r;
        if (rootfs_stat(req, &q, true) < 0 || !S_ISREG(q.st_mode) || q.st_size == 0) {
                sample_value(s, "mediator.request_age_s", name, 0, "s");
                sample_status(s, "mediator.vm_stale", name, SEV_OK, "%s: no pending request", name);
                return;
        }
        bool have_resp = rootfs_stat(resp, &r, true) == 0;
        int64_t now = (int64_t)now_ms_realtime(), rq = ms_of(&q);
        bool pending = !have_resp || ms_of(&r) < rq;
        double age = pending && now > rq ? (double)(now - rq) / 1000.0 : 0;
        sample_value(s, "mediator.request_age_s", name, age, "s");
        if (pending && now - rq > (int64_t)stale)
                sample_status(s, "mediator.vm_stale", name, SEV_WARN, "%s: request %.0f s old, %s", name, age,
                              have_resp ? "response older" : "no response");
        else
                sample_status(s, "mediator.vm_stale", name, SEV_OK, "%s: %s", name,
                              pending ? "request pending" : "request answered");
}

static void sample_admin(struct ctx *c, struct mstate *st)
{
        const char *sock = conf_str(c, "admin_socket");
        struct stat sb;
        st->have_sock = rootfs_stat(sock, &sb, false) == 0;
        if (!st->have_sock)
                return;
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

void mediator_sample(struct ctx *c, struct sample *s)
{
        struct mstate *st = sample_state(c, sizeof(*st));
        if (sample_rescan_due(c))
                list_vms(c, st);
        const char *dir = conf_str(c, "shared_dir");
        char req[512], resp[512];
        for (size_t i = 0; i < st->nvm; i++) {
                snprintf(req, sizeof(req), "%s/%s/request.txt", dir, st->vm[i]);
                snprintf(resp, sizeof(resp), "%s/%s/response.txt", dir, st->vm[i]);
                sample_vm(c, s, st->vm[i], req, resp);
        }
        if (st->phase1) {
                snprintf(req, sizeof(req), "%s/command.txt", dir);
                snprintf(resp, sizeof(resp), "%s/response.txt", dir);
                sample_vm(c, s, "phase1", req, resp);
        }
        uint64_t now = now_ms_monotonic();
        if (!st->admin_done || now - st->last_admin_ms >= mx_conf_ms(c, "admin_interval", 30000)) {
                sample_admin(c, st);
                st->admin_done = true;
                st->last_admin_ms = now;
        }
        if (st->have_sock)
                sample_status(s, "mediator.admin", NULL, st->admin_sev, "%s", st->admin_msg);
}
