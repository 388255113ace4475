/* evodiag watch --bundle-on: bundles made in the background, as 'evodiag bundle'
 * would, while sampling goes on; one at a time, one per cooldown for the whole
 * watch; each one's end (written, incomplete and why, failed) is a note. */
#include "config.h"
#include "cmd/watch_private.h"
#include "lib/child.h"
#include "report/bundle.h"
#include "report/bundle_output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: a bundle like `evodiag bundle`, in its own process group (a Ctrl-C
 * meant for watch must not cut it short), with nothing of watch's open. */
#define WHY_MAX 2048 /* why a bundle is incomplete, as the note says it (a pipe holds it all) */

static void bundle_child(struct run *r, const char *path, const char *id, const char *const *why, int why_fd)
{
        (void)setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                if (r->view)
                        dup2(null, STDERR_FILENO); /* the screen is not ours to write on */
        }
        rootfs_close_fds_except(why_fd, -1); /* all but --root's directory and the reason's pipe */
        _cleanup_free_ char *tdir = evodiag_templates_dir();
        struct strbuf cl = {0};
        sb_puts(&cl, "evodiag");
        for (int i = 0; i < r->argc; i++)
                sb_printf(&cl, " %s", r->argv[i]);
        sb_printf(&cl, "   # --bundle-on: %s", id);
        struct bundle_opts bo = {
                .output = path, .host = r->host, .command_line = cl.s, .templates_dir = tdir,
                .skip = (const char *const *)r->c->skip, .since_ms = now_ms_realtime() - 24ull * 3600 * 1000,
                .deadline_ms = now_ms_monotonic() + BUNDLE_TIMEOUT_MS, .collector_timeout_ms = BUNDLE_COLLECTOR_TIMEOUT_MS,
                .max_size = 512ull << 20, .artifact_max = 16u << 20, .redact = true, .quiet = true,
                .state_dir = getenv("EVODIAG_STATE_DIR") ? getenv("EVODIAG_STATE_DIR") : "/var/lib/evodiag",
        };
        json_object *trigger = json_object_new_array();
        for (size_t i = 0; why && why[i]; i++)
                json_object_array_add(trigger, json_object_new_string(why[i]));
        bo.trigger = trigger;
        struct bundle_result res;
        int e = bundle_make(&r->c->ctx, &bo, &res);
        int code = e < 0 || !res.path ? 3 : res.complete ? 0 : 1;
        if (code == 1 && res.why_incomplete) {
                size_t n = strnlen(res.why_incomplete, WHY_MAX - 1);
                (void)!write(why_fd, res.why_incomplete, n);
        }
        _exit(code);
}

static bool bundle_worthy(const struct run *r, const struct watch_event *e)
{
        return r->bundle_on != SEV_SKIPPED && !e->gone && e->sev >= r->bundle_on && e->sev != SEV_UNKNOWN;
}

/* One bundle at a time, at most one per cooldown for the whole watch (several crits
 * at once are one incident, not one bundle each); it is named after the worst of the
 * round's events that call for it, and its ISSUE.md lists them all. */
void maybe_bundle(struct run *r, const struct watch_event *ev, size_t nev)
{
        const struct watch_event *e = NULL;
        size_t n = 0;
        for (size_t i = 0; i < nev; i++)
                if (bundle_worthy(r, &ev[i])) {
                        n++;
                        if (!e || ev[i].sev > e->sev)
                                e = &ev[i];
                }
        uint64_t now = now_ms_monotonic();
        if (!e || r->njobs || (r->last_bundle_ms && now - r->last_bundle_ms < r->cooldown_ms))
                return;
        r->last_bundle_ms = now;
        char **why = xcalloc(n + 1, sizeof(*why));
        for (size_t i = 0, k = 0; i < nev; i++)
                if (bundle_worthy(r, &ev[i])) {
                        json_object *o = watch_event_json(&ev[i]);
                        why[k++] = recorder_item_text(o);
                        json_object_put(o);
                }
        _cleanup_free_ char *name = bundle_name(r->host, e->time_ms, e->id);
        char *path = xasprintf("%s/%s.tar.zst", r->bundle_dir, name);
        if (r->rec)
                (void)recorder_sync(r->rec, true); /* the bundle includes the recording up to now */
        fflush(stdout);
        fflush(stderr);
        int wp[2] = {-1, -1};
        if (pipe2(wp, O_CLOEXEC) < 0)
                wp[0] = wp[1] = -1; /* the note then says "incomplete" without the reasons */
        pid_t pid = fork();
        if (pid < 0) {
                problem(r, "--bundle-on: cannot fork: %s", strerror(errno));
                free(path);
                strv_free(why);
                if (wp[0] >= 0) {
                        close(wp[0]);
                        close(wp[1]);
                }
                return;
        }
        if (pid == 0) {
                if (wp[0] >= 0)
                        close(wp[0]);
                bundle_child(r, path, e->id, (const char *const *)why, wp[1]);
        }
        if (wp[1] >= 0)
                close(wp[1]);
        if (wp[0] >= 0)
                (void)fcntl(wp[0], F_SETFL, O_NONBLOCK);
        strv_free(why);
        r->jobs = xrealloc(r->jobs, (r->njobs + 1) * sizeof(*r->jobs));
        r->jobs[r->njobs++] = (struct bundle_job){.pid = pid, .id = xstrdup(e->id), .path = path, .sev = e->sev, .why_fd = wp[0]};
        json_object *x = json_object_new_object();
        json_object_object_add(x, "status", json_object_new_string("started"));
        json_object_object_add(x, "path", json_object_new_string(path));
        json_object_object_add(x, "trigger", json_object_new_string(e->id));
        json_object_object_add(x, "events", json_object_new_int64((int64_t)n));
        if (n > 1)
                note(r, now_ms_realtime(), "bundle", x, "started %s (for %s %s and %zu more events)", path, e->id,
                     severity_name(e->sev), n - 1);
        else
                note(r, now_ms_realtime(), "bundle", x, "started %s (for %s %s)", path, e->id, severity_name(e->sev));
        json_object_put(x);
}

/* Reaps finished bundle children without waiting; wait_all blocks (at exit). */
void reap_bundles(struct run *r, bool wait_all)
{
        for (size_t i = 0; i < r->njobs;) {
                struct bundle_job *j = &r->jobs[i];
                int status;
                pid_t p = waitpid(j->pid, &status, wait_all ? 0 : WNOHANG);
                if (p == 0 || (p < 0 && errno == EINTR)) {
                        i++;
                        continue;
                }
                bool ok = p == j->pid && WIFEXITED(status) && WEXITSTATUS(status) <= 1 && access(j->path, F_OK) == 0;
                bool partial = ok && WEXITSTATUS(status) == 1;
                char why[WHY_MAX] = "";
                if (j->why_fd >= 0) {
                        ssize_t n = partial ? read(j->why_fd, why, sizeof(why) - 1) : 0;
                        why[n > 0 ? n : 0] = 0;
                        close(j->why_fd);
                        j->why_fd = -1;
                }
                json_object *x = json_object_new_object();
                json_object_object_add(x, "status", json_object_new_string(ok ? "written" : "failed"));
                json_object_object_add(x, "path", json_object_new_string(j->path));
                json_object_object_add(x, "trigger", json_object_new_string(j->id));
                if (ok)
                        json_object_object_add(x, "complete", json_object_new_boolean(!partial));
                if (partial && *why)
                        json_object_object_add(x, "incomplete", json_object_new_string(why));
                if (partial) /* why: a collector timed out or crashed, the run was stopped or ran
                                out of time, artifacts were cut at the size budget (manifest.json) */
                        note(r, now_ms_realtime(), "bundle", x, "written %s (incomplete: %s) (for %s)", j->path,
                             *why ? why : "manifest.json \"incomplete\" says why", j->id);
                else if (ok)
                        note(r, now_ms_realtime(), "bundle", x, "written %s (for %s)", j->path, j->id);
                else
                        note(r, now_ms_realtime(), "bundle", x, "FAILED %s (for %s): exit status %d", j->path, j->id,
                             p == j->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                json_object_put(x);
                free(j->id);
                free(j->path);
                r->jobs[i] = r->jobs[--r->njobs];
        }
}

