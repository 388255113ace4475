/* The run's own checks of [expect] processes: each named process must run. Read in a
 * child under the collector deadline like every read of the host (collectors/runner.h),
 * reported under the run itself (run_self: evodiag.expected_process). */
#include "config.h"
#include "collectors/expect.h"
#include "lib/conffile.h"
#include "lib/escape.h"
#include "lib/expect.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <errno.h>

#define PIDS_SHOWN 5

static int load_processes(const struct config *cfg, struct expect_list *l)
{
        const struct config_entry *e = cfg ? config_get(cfg, "expect", "processes") : NULL;
        _cleanup_free_ char *why = NULL;
        *l = (struct expect_list){0};
        if (!e || expect_parse(e->value, EXPECT_NO_VALUE, l, &why) < 0)
                return -ENOENT;
        return l->n ? 0 : -ENOENT;
}

bool expect_processes_declared(const struct config *cfg)
{
        struct expect_list l;
        bool yes = load_processes(cfg, &l) == 0;
        expect_free(&l);
        return yes;
}

static void one(const struct proctable *t, const char *name, struct findings *fs)
{
        _cleanup_free_ char *pname = str_printable(name);
        struct strbuf pids = {0};
        size_t n = 0;
        for (size_t i = 0; i < t->n; i++) {
                const struct proc *p = &t->v[i];
                if (p->kthread || p->state == 'Z' || !component_named(p, name))
                        continue;
                if (n++ < PIDS_SHOWN)
                        sb_printf(&pids, "%s%d", pids.len ? ", " : "", p->pid);
        }
        struct finding *f;
        if (n) {
                f = fnd_add(fs, SEV_OK, "evodiag.expected_process", "%s runs: pid %s%s", pname, pids.s,
                            n > PIDS_SHOWN ? " and more" : "");
                fnd_actual(f, "%zu process%s named %s", n, n == 1 ? "" : "es", pname);
        } else {
                f = fnd_add(fs, SEV_CRIT, "evodiag.expected_process", "%s is not running ([expect] processes)", pname);
                fnd_actual(f, "no process named %s (comm or argv[0])", pname);
                fnd_remedy(f, "start it: systemctl start <its unit> where systemd runs it, else however this host starts it (its "
                              "init script, supervisor or container); ps -eo pid,comm,args | grep -i %s   # a different name?",
                           pname);
        }
        fnd_subject(f, "%s", pname);
        fnd_expected(f, "a process named %s", pname);
        fnd_evidence(f, "/proc/*/comm, /proc/*/cmdline");
        sb_free(&pids);
}

static json_object *processes_job(void *arg)
{
        const struct config *cfg = arg;
        struct expect_list l;
        struct findings fs = {0};
        if (load_processes(cfg, &l) < 0)
                return findings_to_json(&fs);
        struct proctable t;
        int r = proctable_load(&t);
        if (r < 0) {
                for (size_t i = 0; i < l.n; i++) {
                        _cleanup_free_ char *pname = str_printable(l.v[i].name);
                        struct finding *f = fnd_add(&fs, SEV_UNKNOWN, "evodiag.expected_process",
                                                    "cannot tell whether %s runs: cannot list processes: %s", pname, rootfs_strerror(r));
                        fnd_subject(f, "%s", pname);
                        fnd_evidence(f, "/proc");
                }
        } else {
                for (size_t i = 0; i < l.n; i++)
                        one(&t, l.v[i].name, &fs);
                proctable_free(&t);
        }
        expect_free(&l);
        json_object *o = findings_to_json(&fs);
        findings_free(&fs);
        return o;
}

void expect_processes_check(const struct ctx *base, uint64_t timeout_ms, uint64_t deadline_ms, struct findings *out)
{
        struct job j = {.name = "expect", .fn = processes_job, .arg = (void *)base->cfg, .timeout_ms = timeout_ms};
        struct job_opts jo = {.deadline_ms = deadline_ms, .parallel = 1};
        jobs_run(&j, 1, &jo);
        struct findings fs = {0};
        /* What the child sends is checked like any collector's: only this ID. */
        bool good = j.status == JOB_DONE && findings_from_json(&fs, j.result) == 0;
        for (size_t i = 0; good && i < fs.n; i++)
                good = streq(fs.v[i].id, "evodiag.expected_process");
        if (good) {
                findings_move(out, &fs);
        } else {
                struct finding *f = fnd_add(out, SEV_UNKNOWN, "evodiag.expected_process", "[expect] processes not checked: %s",
                                            j.status == JOB_TIMEOUT ? "the process list took too long" : j.error ? j.error : "the check failed");
                fnd_remedy(f, "evodiag check -v   # then attach the output to a bug report");
        }
        findings_free(&fs);
        job_clear(&j);
}
