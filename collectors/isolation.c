/* isolation: are the RT CPUs really isolated? The kernel command line (isolcpus,
 * nohz_full, rcu_nocbs, irqaffinity) against what the kernel put in effect, IRQs that
 * fire on isolated CPUs, irqbalance, ordinary tasks and unbound workqueues allowed
 * there. From the EVO guide's "High Jitter" section (CPU isolation, interrupt routing).
 * This file reads the host and holds the checks; isolation_format.c the parsers and
 * verdicts, isolation_sample.c what evodiag watch samples. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/isolation.h"
#include "lib/procfs.h"
#include "lib/procscan.h"
#include "lib/proctable.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#define WQ_MASK "/sys/devices/virtual/workqueue/cpumask"

static const struct check_info checks[] = {
        {"isolation.cmdline", "CPU isolation on the kernel command line",
         "isolcpus= (flags domain, nohz, managed_irq), nohz_full=, rcu_nocbs= and irqaffinity= in\n"
         "/proc/cmdline. The EVO guide isolates RT CPUs with all three: isolcpus=2-7\n"
         "nohz_full=2-7 rcu_nocbs=2-7 — isolcpus keeps the scheduler from placing other tasks\n"
         "there, nohz_full stops the periodic tick, rcu_nocbs moves RCU callbacks away. A CPU in\n"
         "one list but not the others still gets that source of jitter (info). irqaffinity=\n"
         "naming isolated CPUs sends new IRQs to them (warn); a parameter that does not parse is\n"
         "ignored by the kernel (warn). No isolation at all is reported once, as info.\n"
         "Fix: set the parameters in GRUB_CMDLINE_LINUX of /etc/default/grub, update-grub, reboot."},
        {"isolation.effective", "Isolation in effect vs the command line",
         "/sys/devices/system/cpu/isolated and .../nohz_full show what the kernel actually did.\n"
         "A CPU requested on the command line but not in effect (crit) means the RT tasks run on\n"
         "a CPU that is not isolated at all: a typo, a kernel without CONFIG_NO_HZ_FULL (no\n"
         "nohz_full file), a boot entry without the parameters, or all CPUs requested (the kernel\n"
         "keeps one for housekeeping). CPUs that do not exist are dropped by the kernel (warn).\n"
         "Fix: dmesg | grep -i -E 'isolcpus|nohz|housekeeping' for the kernel's reason; correct\n"
         "the parameters in /etc/default/grub, update-grub, reboot."},
        {"isolation.irq", "IRQs on isolated CPUs",
         "An IRQ whose affinity (/proc/irq/N/smp_affinity_list) includes isolated CPUs and that\n"
         "has fired on one of them (/proc/interrupts counts in the isolated CPU columns) runs its\n"
         "handler in the middle of the RT loop: microseconds of jitter per interrupt. Only IRQs\n"
         "with counts on isolated CPUs are looked at; past counts alone (affinity already moved)\n"
         "are not a problem. Managed IRQs (per-queue NVMe, virtio) refuse a new affinity (EIO):\n"
         "for those add the managed_irq flag, isolcpus=managed_irq,domain,2-7.\n"
         "Fix (EVO guide, interrupt routing): echo <housekeeping CPUs> > /proc/irq/N/smp_affinity_list\n"
         "for each IRQ, irqaffinity=<housekeeping CPUs> on the command line for new ones."},
        {"isolation.irqbalance", "irqbalance and isolated CPUs",
         "irqbalance moves IRQs between CPUs every 10 s. It must not move them onto isolated CPUs:\n"
         "IRQBALANCE_BANNED_CPULIST (or the older hex IRQBALANCE_BANNED_CPUS) in\n"
         "/etc/default/irqbalance (Debian) or /etc/sysconfig/irqbalance must cover them. Without\n"
         "it, irqbalance bans the kernel's isolated and nohz_full CPUs itself — enough when those\n"
         "cover every isolated CPU (info), not when isolation is only on the command line or\n"
         "comes from elsewhere (warn). The running process's environment (/proc/PID/environ, root\n"
         "only) wins over the file: a changed file needs a restart.\n"
         "Fix (EVO guide): systemctl stop irqbalance (and disable it), or\n"
         "echo 'IRQBALANCE_BANNED_CPULIST=<isolated CPUs>' >> /etc/default/irqbalance and\n"
         "systemctl restart irqbalance."},
        {"isolation.tasks", "Ordinary tasks allowed on isolated CPUs",
         "A non-RT user task (SCHED_OTHER/BATCH/IDLE) whose CPU affinity includes isolated CPUs can\n"
         "be scheduled there and preempt or delay the RT task, and with nohz_full it restarts\n"
         "the tick. With isolcpus (domain) new tasks stay off isolated CPUs by default; with\n"
         "nohz_full alone, or after an explicit taskset, they do not. Kernel threads and RT tasks\n"
         "are excluded (RT tasks belong there). Tasks only on isolated CPUs are listed first;\n"
         "at most [isolation] max_tasks are listed, the rest counted.\n"
         "Fix: taskset -apc <housekeeping CPUs> PID (all its threads), and start services with\n"
         "CPUAffinity=<housekeeping CPUs> (systemd) or taskset -c."},
        {"isolation.workqueue", "Unbound workqueues on isolated CPUs",
         "/sys/devices/virtual/workqueue/cpumask (hex) limits where unbound kernel work items\n"
         "run. Covering isolated CPUs lets kernel work (writeback, crypto, ...) run on them.\n"
         "Fix: echo <housekeeping mask> > /sys/devices/virtual/workqueue/cpumask (at every boot,\n"
         "e.g. from a systemd unit or tuned)."},
        {0},
};

static const struct config_key config[] = {
        CONF_UINT("max_tasks", "10", 1, 100000, "at most this many per-task isolation.tasks findings (the rest are counted)"),
        CONF_UINT("max_irqs", "20", 1, 100000, "at most this many per-IRQ isolation.irq findings (the rest are counted)"),
        {0},
};

/* ---- reading the host ---- */

static int read_cpulist(const char *path, struct cpuset *out)
{
        _cleanup_free_ char *v = NULL;
        cpuset_zero(out);
        int r = rootfs_read_value(path, &v);
        if (r < 0)
                return r;
        return iso_parse_effective(v, out);
}

static char *list_or_none(const struct cpuset *s)
{
        if (cpuset_empty(s))
                return xstrdup("(none)");
        return cpulist_format(s);
}

int iso_state_read(struct iso_state *st)
{
        *st = (struct iso_state){0};
        _cleanup_free_ char *cmdline = NULL;
        int r = rootfs_read_value("/proc/cmdline", &cmdline);
        if (r == 0)
                iso_cmdline_parse(cmdline, &st->cmd);
        iso_expected_isolated(&st->cmd, &st->exp_isolated);
        iso_expected_nohz(&st->cmd, &st->exp_nohz);
        st->r_isolated = read_cpulist(SYSCPU "/isolated", &st->eff_isolated);
        st->r_nohz = read_cpulist(SYSCPU "/nohz_full", &st->eff_nohz);
        (void)read_cpulist(SYSCPU "/possible", &st->possible);
        iso_intended(&st->cmd, &st->eff_isolated, &st->eff_nohz, &st->intended);
        return r;
}

/* ---- the checks ---- */

static void check_cmdline(struct iso_state *st, struct findings *fs)
{
        const struct iso_cmdline *c = &st->cmd;
        struct strbuf probs = {0}, params = {0};
        enum severity sev = SEV_OK;
        _cleanup_free_ char *il = cpulist_format(&c->isolcpus.cpus);
        if (c->has_isolcpus) /* flags spelled out, the implied domain too */
                sb_printf(&params, "isolcpus=%s (%s%s%s) ", il, c->isolcpus.domain ? "domain," : "",
                          c->isolcpus.nohz ? "nohz," : "", c->isolcpus.managed_irq ? "managed_irq," : "");
        if (c->has_nohz_full) {
                _cleanup_free_ char *l = cpulist_format(&c->nohz_full);
                sb_printf(&params, "nohz_full=%s ", l);
        }
        if (c->has_rcu_nocbs) {
                _cleanup_free_ char *l = cpulist_format(&c->rcu_nocbs);
                sb_printf(&params, "rcu_nocbs%s%s ", c->rcu_nocbs_all ? "" : "=", c->rcu_nocbs_all ? "" : l);
        }
        if (c->has_irqaffinity) {
                _cleanup_free_ char *l = cpulist_format(&c->irqaffinity);
                sb_printf(&params, "irqaffinity=%s ", l);
        }
        for (char *q; params.s && (q = strstr(params.s, ",)"));) {
                memmove(q, q + 1, strlen(q)); /* with the NUL */
                params.len--;
        }
        while (params.s && params.len && params.s[params.len - 1] == ' ')
                params.s[--params.len] = 0;
        if (*c->bad) {
                sb_printf(&probs, "%s does not parse: the kernel ignores it", c->bad);
                sev = SEV_WARN;
        }
        struct cpuset req_iso, tmp;
        cpuset_zero(&req_iso);
        if (c->has_isolcpus)
                cpuset_or(&req_iso, &req_iso, &c->isolcpus.cpus);
        if (c->has_nohz_full)
                cpuset_or(&req_iso, &req_iso, &c->nohz_full);
        if (c->has_irqaffinity && cpuset_intersects(&c->irqaffinity, &req_iso)) {
                cpuset_and(&tmp, &c->irqaffinity, &req_iso);
                _cleanup_free_ char *l = cpulist_format(&tmp);
                sb_printf(&probs, "%sirqaffinity= includes isolated CPUs %s: new IRQs go there", probs.len ? "; " : "", l);
                sev = SEV_WARN;
        }
        /* The guide's set: isolcpus + nohz_full + rcu_nocbs on the same CPUs. */
        cpuset_andnot(&tmp, &req_iso, &st->exp_nohz);
        if (!cpuset_empty(&tmp)) {
                _cleanup_free_ char *l = cpulist_format(&tmp);
                sb_printf(&probs, "%sCPUs %s still take the scheduler tick (not in nohz_full=)", probs.len ? "; " : "", l);
                if (sev < SEV_INFO)
                        sev = SEV_INFO;
        }
        if (!c->rcu_nocbs_all) {
                struct cpuset rcu;
                cpuset_or(&rcu, &c->rcu_nocbs, &st->exp_nohz); /* nohz_full implies rcu_nocbs */
                cpuset_andnot(&tmp, &req_iso, &rcu);
                if (!cpuset_empty(&tmp)) {
                        _cleanup_free_ char *l = cpulist_format(&tmp);
                        sb_printf(&probs, "%sRCU callbacks still run on CPUs %s (not in rcu_nocbs=)", probs.len ? "; " : "", l);
                        if (sev < SEV_INFO)
                                sev = SEV_INFO;
                }
        }
        if (c->has_nohz_full) {
                struct cpuset dom;
                iso_expected_isolated(c, &dom);
                cpuset_andnot(&tmp, &c->nohz_full, &dom);
                if (!cpuset_empty(&tmp)) {
                        _cleanup_free_ char *l = cpulist_format(&tmp);
                        sb_printf(&probs, "%snohz_full CPUs %s are not in isolcpus=: the scheduler may put other tasks there",
                                  probs.len ? "; " : "", l);
                        if (sev < SEV_INFO)
                                sev = SEV_INFO;
                }
        }
        struct finding *f;
        if (sev == SEV_OK && !iso_cmdline_any(c))
                f = fnd_add(fs, SEV_INFO, "isolation.cmdline",
                            "no isolcpus= or nohz_full= on the command line, yet the kernel isolates CPUs %s", st->iso_list);
        else if (sev == SEV_OK)
                f = fnd_add(fs, SEV_OK, "isolation.cmdline", "isolated CPUs %s: %s", st->iso_list, params.s ? params.s : "");
        else
                f = fnd_add(fs, sev, "isolation.cmdline", "%s", probs.s);
        fnd_expected(f, "isolcpus=L nohz_full=L rcu_nocbs=L on the same CPU list L, irqaffinity= outside L");
        fnd_actual(f, "%s", params.len ? params.s : "(no isolation parameters)");
        fnd_evidence(f, "/proc/cmdline");
        if (sev != SEV_OK) {
                _cleanup_free_ char *l = list_or_none(&st->intended);
                fnd_remedy(f, "GRUB_CMDLINE_LINUX in /etc/default/grub: isolcpus=%s nohz_full=%s rcu_nocbs=%s%s%s, then "
                              "update-grub && reboot",
                           l, l, l, st->hk_list ? " irqaffinity=" : "", st->hk_list ? st->hk_list : "");
        }
        sb_free(&probs);
        sb_free(&params);
}

/* One effective file against what the command line asked for; true if it matched.
 * param is how the request reads on the command line ("isolcpus=2-3"). */
static bool check_one_effective(struct iso_state *st, struct findings *fs, const char *file, const char *param,
                                const char *not_what, const struct cpuset *req, const struct cpuset *eff, int r)
{
        char path[96];
        snprintf(path, sizeof(path), SYSCPU "/%s", file);
        _cleanup_free_ char *rl = list_or_none(req), *el = list_or_none(eff);
        struct finding *f;
        if (r < 0) {
                if (cpuset_empty(req))
                        return true; /* nothing asked, nothing to compare */
                if (r == -ENOENT && streq(file, "nohz_full")) {
                        f = fnd_add(fs, SEV_CRIT, "isolation.effective",
                                    "%s on the command line, but the kernel has no nohz_full support (CONFIG_NO_HZ_FULL not set): "
                                    "CPUs %s %s",
                                    param, rl, not_what);
                        fnd_remedy(f, "boot a kernel with CONFIG_NO_HZ_FULL=y (Debian: linux-image-rt-amd64 has it)");
                        fnd_actual(f, "no %s", path);
                } else {
                        f = fnd_add(fs, SEV_UNKNOWN, "isolation.effective", "cannot read %s: %s", path, rootfs_strerror(-r));
                }
                fnd_subject(f, "%s", file);
                fnd_expected(f, "%s = %s (from %s)", file, rl, param);
                fnd_evidence(f, "/proc/cmdline, %s", path);
                return false;
        }
        struct iso_diff d;
        iso_compare(req, eff, &st->possible, &d);
        if (!cpuset_empty(&d.missing)) {
                _cleanup_free_ char *ml = cpulist_format(&d.missing);
                f = fnd_add(fs, SEV_CRIT, "isolation.effective", "%s on the command line, but %s is %s: CPUs %s %s", param, path,
                            cpuset_empty(eff) ? "empty" : el, ml, not_what);
                fnd_remedy(f, "dmesg | grep -i -E 'isolcpus|nohz|housekeeping'   # why the kernel refused; then fix the "
                              "parameter in /etc/default/grub, update-grub && reboot");
        } else if (!cpuset_empty(&d.nonexistent)) {
                _cleanup_free_ char *nl = cpulist_format(&d.nonexistent), *pl = cpulist_format(&st->possible);
                f = fnd_add(fs, SEV_WARN, "isolation.effective", "%s names CPUs %s this host does not have (possible: %s)", param, nl, pl);
                fnd_remedy(f, "name only existing CPUs (/etc/default/grub, update-grub && reboot)");
        } else if (!cpuset_empty(&d.extra)) {
                _cleanup_free_ char *xl = cpulist_format(&d.extra);
                f = fnd_add(fs, SEV_INFO, "isolation.effective", "%s has CPUs %s that the command line does not ask for", path, xl);
        } else {
                return true;
        }
        fnd_subject(f, "%s", file);
        fnd_expected(f, "%s = %s (from %s)", file, rl, param);
        fnd_actual(f, "%s = %s", file, el);
        fnd_evidence(f, "/proc/cmdline, %s", path);
        return false;
}

static void check_effective(struct iso_state *st, struct findings *fs)
{
        const struct iso_cmdline *c = &st->cmd;
        _cleanup_free_ char *il = cpulist_format(&st->exp_isolated), *nl = cpulist_format(&st->exp_nohz);
        _cleanup_free_ char *ip = c->has_isolcpus ? xasprintf("isolcpus=%s", il) : xstrdup("no isolcpus=");
        _cleanup_free_ char *np = c->has_nohz_full ? xasprintf("nohz_full=%s", nl)
                                  : c->has_isolcpus && c->isolcpus.nohz ? xasprintf("isolcpus=nohz,%s", nl)
                                                                        : xstrdup("no nohz_full=");
        bool a = check_one_effective(st, fs, "isolated", ip, "are not isolated", &st->exp_isolated, &st->eff_isolated,
                                     st->r_isolated);
        bool b = check_one_effective(st, fs, "nohz_full", np, "still take the scheduler tick", &st->exp_nohz, &st->eff_nohz,
                                     st->r_nohz);
        if (!a || !b)
                return;
        _cleanup_free_ char *el = list_or_none(&st->eff_isolated), *enl = list_or_none(&st->eff_nohz);
        struct finding *f = fnd_add(fs, SEV_OK, "isolation.effective", "in effect as requested: isolated %s, nohz_full %s", el, enl);
        fnd_expected(f, "the kernel's isolated and nohz_full lists = the command line's");
        fnd_actual(f, "isolated %s, nohz_full %s", el, enl);
        fnd_evidence(f, "/proc/cmdline, " SYSCPU "/isolated, " SYSCPU "/nohz_full");
}

static int read_irq_affinity(const char *irq, struct cpuset *aff, const char **src)
{
        char path[96];
        _cleanup_free_ char *v = NULL;
        snprintf(path, sizeof(path), "/proc/irq/%s/smp_affinity_list", irq);
        if (rootfs_read_value(path, &v) == 0 && cpulist_parse(v, aff) == 0) {
                *src = "smp_affinity_list";
                return 0;
        }
        free(v);
        v = NULL;
        snprintf(path, sizeof(path), "/proc/irq/%s/smp_affinity", irq);
        int r = rootfs_read_value(path, &v);
        if (r < 0)
                return r;
        *src = "smp_affinity";
        return cpumask_parse(v, aff);
}

static void check_irqs(struct ctx *c, struct iso_state *st, struct findings *fs)
{
        _cleanup_free_ char *text = NULL;
        long r = rootfs_read("/proc/interrupts", READ_MAX_DEFAULT, &text, NULL);
        struct irq_table t;
        if (r < 0 || interrupts_parse(text, &t) < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "isolation.irq", "cannot %s /proc/interrupts%s%s",
                                            r < 0 ? "read" : "parse", r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
                fnd_evidence(f, "/proc/interrupts");
                return;
        }
        size_t max = (size_t)conf_uint(c, "max_irqs"), shown = 0, bad = 0, looked = 0;
        const char *hk = st->hk_list ? st->hk_list : "<housekeeping CPUs>";
        for (size_t i = 0; i < t.n; i++) {
                const struct irq_line *l = &t.v[i];
                struct cpuset on, aff;
                unsigned long long n;
                if (!l->numeric || !irq_fired_on(&t, l, &st->intended, &on, &n))
                        continue;
                looked++;
                const char *src;
                if (read_irq_affinity(l->name, &aff, &src) < 0)
                        continue; /* freed since /proc/interrupts was read */
                if (iso_irq_verdict(cpuset_intersects(&aff, &st->intended), n) == SEV_OK)
                        continue;
                bad++;
                if (shown >= max)
                        continue;
                shown++;
                char act[48], who[96];
                irq_action(l->desc, act, sizeof(act));
                snprintf(who, sizeof(who), "IRQ %s%s%s", l->name, *act ? " " : "", act);
                _cleanup_free_ char *al = cpulist_format(&aff), *ol = cpulist_format(&on);
                struct finding *f = fnd_add(fs, SEV_WARN, "isolation.irq", "%s: affinity %s includes isolated CPUs, fired %llu times on %s",
                                            who, al, n, ol);
                fnd_subject(f, "%s", who);
                fnd_expected(f, "affinity within housekeeping CPUs %s", hk);
                fnd_actual(f, "%s %s; %llu interrupts on isolated CPUs %s since boot", src, al, n, ol);
                fnd_remedy(f, "echo %s > /proc/irq/%s/smp_affinity_list", hk, l->name);
                fnd_evidence(f, "/proc/interrupts, /proc/irq/%s/%s", l->name, src);
        }
        if (bad > shown) {
                struct finding *f = fnd_add(fs, SEV_WARN, "isolation.irq", "%zu more IRQs on isolated CPUs (not listed)", bad - shown);
                fnd_subject(f, "more");
                fnd_remedy(f, "for i in /proc/irq/[0-9]*; do echo %s > $i/smp_affinity_list; done 2>/dev/null", hk);
                fnd_evidence(f, "/proc/interrupts");
        }
        if (!bad) {
                struct finding *f = fnd_add(fs, SEV_OK, "isolation.irq", "no IRQ with affinity on isolated CPUs %s has fired there (%zu IRQs)",
                                            st->iso_list, t.n);
                fnd_expected(f, "no device IRQ handled on isolated CPUs");
                fnd_actual(f, "%zu IRQs with counts on isolated CPUs, none still allowed there", looked);
                fnd_evidence(f, "/proc/interrupts, /proc/irq/*/smp_affinity_list");
        }
        interrupts_free(&t);
}

static void check_irqbalance(struct ctx *c, struct iso_state *st, const struct proctable *pt, struct findings *fs)
{
        (void)c;
        const struct proc *p = NULL;
        for (size_t i = 0; i < pt->n && !p; i++)
                if (!pt->v[i].kthread && streq(pt->v[i].comm, "irqbalance"))
                        p = &pt->v[i];
        struct finding *f;
        if (!p) {
                f = fnd_add(fs, SEV_OK, "isolation.irqbalance", "irqbalance not running");
                fnd_evidence(f, "/proc/*/stat");
                return;
        }
        struct cpuset banned, autob;
        const char *which = NULL;
        int br = -ENOENT;
        char src[96];
        _cleanup_free_ char *env = NULL, *file = NULL;
        snprintf(src, sizeof(src), "/proc/%d/environ", p->pid);
        long n = rootfs_read(src, 1 << 20, &env, NULL);
        if (n >= 0) {
                /* What the running daemon really has; the file may have changed since. */
                br = irqbalance_banned(env, (size_t)n, &banned, &which);
        } else {
                const char *files[] = {"/etc/default/irqbalance", "/etc/sysconfig/irqbalance"};
                snprintf(src, sizeof(src), "%s", files[0]);
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        long m = rootfs_read(files[i], 1 << 20, &file, NULL);
                        if (m < 0)
                                continue;
                        snprintf(src, sizeof(src), "%s", files[i]);
                        br = irqbalance_banned(file, (size_t)m, &banned, &which);
                        break;
                }
        }
        cpuset_or(&autob, &st->eff_isolated, &st->eff_nohz);
        enum severity s = irqbalance_verdict(br, &banned, &st->intended, &autob);
        _cleanup_free_ char *bl = br == 0 ? list_or_none(&banned) : NULL, *al = list_or_none(&autob);
        if (br == 0 && s == SEV_OK)
                f = fnd_add(fs, s, "isolation.irqbalance", "irqbalance (pid %d) bans CPUs %s (%s): isolated CPUs %s covered", p->pid, bl,
                            which, st->iso_list);
        else if (br == 0)
                f = fnd_add(fs, s, "isolation.irqbalance", "irqbalance (pid %d) bans only CPUs %s (%s), not all isolated CPUs %s",
                            p->pid, bl, which, st->iso_list);
        else if (br == -EINVAL)
                f = fnd_add(fs, s, "isolation.irqbalance", "irqbalance (pid %d): %s in %s does not parse", p->pid, which, src);
        else if (s == SEV_INFO)
                f = fnd_add(fs, s, "isolation.irqbalance", "irqbalance (pid %d) runs without IRQBALANCE_BANNED_CPULIST; it bans the "
                                                             "kernel's isolated/nohz_full CPUs %s itself",
                            p->pid, al);
        else
                f = fnd_add(fs, s, "isolation.irqbalance", "irqbalance (pid %d) runs without IRQBALANCE_BANNED_CPULIST: it may move IRQs "
                                                             "onto isolated CPUs %s",
                            p->pid, st->iso_list);
        fnd_expected(f, "irqbalance stopped, or its banned CPUs covering %s", st->iso_list);
        if (br == 0)
                fnd_actual(f, "%s = %s (from %s)", which, bl, src);
        else
                fnd_actual(f, "no banned CPUs in %s%s; kernel isolated/nohz_full: %s", src,
                           n < 0 ? " (its environ is not readable)" : "", al);
        if (s != SEV_OK)
                fnd_remedy(f, "systemctl stop irqbalance && systemctl disable irqbalance   # or: echo "
                              "'IRQBALANCE_BANNED_CPULIST=%s' >> /etc/default/irqbalance && systemctl restart irqbalance",
                           st->iso_list);
        fnd_evidence(f, "/proc/%d/stat, %s", p->pid, src);
}

struct cand {
        int pid;
        char comm[64];
        bool entirely;
        char *cpus;
        unsigned policy;
};

static int cand_cmp(const void *a, const void *b)
{
        const struct cand *x = a, *y = b;
        if (x->entirely != y->entirely)
                return x->entirely ? -1 : 1;
        return x->pid - y->pid;
}

static void check_tasks(struct ctx *c, struct iso_state *st, const struct proctable *pt, struct findings *fs)
{
        struct cand *v = NULL;
        size_t n = 0, checked = 0;
        bool stopped = false;
        for (size_t i = 0; i < pt->n; i++) {
                /* Report what was seen rather than be killed with nothing. */
                if (!(i % 64) && scan_deadline_near(c->deadline_ms)) {
                        stopped = true;
                        break;
                }
                const struct proc *p = &pt->v[i];
                if (p->kthread || sched_policy_is_rt(p->policy))
                        continue;
                struct cpuset aff, on;
                if (proc_affinity(p->pid, &aff) < 0)
                        continue; /* exited */
                checked++;
                cpuset_and(&on, &aff, &st->intended);
                if (cpuset_empty(&on))
                        continue;
                struct cpuset rest;
                cpuset_andnot(&rest, &aff, &st->intended);
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n] = (struct cand){.pid = p->pid, .entirely = cpuset_empty(&rest), .cpus = cpulist_format(&aff), .policy = p->policy};
                snprintf(v[n].comm, sizeof(v[n].comm), "%s", p->comm);
                n++;
        }
        if (n)
                qsort(v, n, sizeof(*v), cand_cmp);
        size_t max = (size_t)conf_uint(c, "max_tasks");
        const char *hk = st->hk_list ? st->hk_list : "<housekeeping CPUs>";
        for (size_t i = 0; i < n && i < max; i++) {
                struct finding *f = fnd_add(fs, SEV_WARN, "isolation.tasks", "pid %d %s (%s) %s isolated CPUs (allowed CPUs %s)", v[i].pid,
                                            v[i].comm, sched_policy_name(v[i].policy), v[i].entirely ? "runs only on" : "may run on",
                                            v[i].cpus);
                fnd_subject(f, "pid %d %s", v[i].pid, v[i].comm);
                fnd_expected(f, "non-RT tasks on housekeeping CPUs %s only", hk);
                fnd_actual(f, "Cpus_allowed_list %s; isolated CPUs %s", v[i].cpus, st->iso_list);
                fnd_remedy(f, "taskset -apc %s %d   # services: CPUAffinity=%s in the unit", hk, v[i].pid, hk);
                fnd_evidence(f, "/proc/%d/status", v[i].pid);
        }
        struct finding *f;
        if (n > max) {
                f = fnd_add(fs, SEV_WARN, "isolation.tasks", "%zu non-RT tasks in all may run on isolated CPUs %s; %zu not listed", n,
                            st->iso_list, n - max);
                fnd_subject(f, "more");
                fnd_remedy(f, "ps -eo pid,psr,cls,comm | awk 'NR == 1 || $3 == \"TS\"'   # then taskset -apc %s PID; "
                              "[isolation] max_tasks lists more",
                           hk);
                fnd_evidence(f, "/proc/*/status");
        } else if (!n) {
                f = fnd_add(fs, SEV_OK, "isolation.tasks", "no non-RT task allowed on isolated CPUs %s (%zu checked%s)", st->iso_list,
                            checked, stopped ? ", scan stopped at the deadline" : "");
                fnd_expected(f, "non-RT tasks on housekeeping CPUs %s only", hk);
                fnd_evidence(f, "/proc/*/status");
        }
        for (size_t i = 0; i < n; i++)
                free(v[i].cpus);
        free(v);
}

static void check_workqueue(struct iso_state *st, struct findings *fs)
{
        _cleanup_free_ char *v = NULL;
        int r = rootfs_read_value(WQ_MASK, &v);
        struct finding *f;
        struct cpuset m, on;
        if (r == -ENOENT) {
                f = fnd_add(fs, SEV_OK, "isolation.workqueue", "workqueue cpumask not present (kernel without CONFIG_WQ_SYSFS)");
        } else if (r < 0 || cpumask_parse(v, &m) < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "isolation.workqueue", "cannot %s " WQ_MASK "%s%s", r < 0 ? "read" : "parse",
                            r < 0 ? ": " : "", r < 0 ? rootfs_strerror(-r) : "");
        } else {
                cpuset_and(&on, &m, &st->intended);
                _cleanup_free_ char *ml = list_or_none(&m), *hkm = cpumask_format_hex(&st->hk);
                if (cpuset_empty(&on)) {
                        f = fnd_add(fs, SEV_OK, "isolation.workqueue", "unbound workqueues kept on CPUs %s (cpumask %s)", ml, v);
                } else {
                        _cleanup_free_ char *ol = cpulist_format(&on);
                        f = fnd_add(fs, SEV_WARN, "isolation.workqueue", "unbound workqueues may run on isolated CPUs %s (cpumask %s)", ol, v);
                        if (st->hk_list)
                                fnd_remedy(f, "echo %s > " WQ_MASK "   # CPUs %s; at every boot", hkm, st->hk_list);
                }
                fnd_expected(f, "cpumask outside isolated CPUs %s", st->iso_list);
                fnd_actual(f, "%s = CPUs %s", v, ml);
        }
        fnd_evidence(f, WQ_MASK);
}

static void iso_check(struct ctx *c, struct findings *fs)
{
        struct iso_state *st = xcalloc(1, sizeof(*st)); /* several KiB of CPU sets: not on the stack */
        int r = iso_state_read(st);
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "isolation.cmdline", "cannot read /proc/cmdline: %s", rootfs_strerror(r));
                fnd_evidence(f, "/proc/cmdline");
                free(st);
                return;
        }

        if (cpuset_empty(&st->intended) && !*st->cmd.bad) {
                struct finding *f = fnd_add(fs, SEV_INFO, "isolation.cmdline",
                                            "no CPU isolation configured (no isolcpus= or nohz_full= on the kernel command line)");
                fnd_expected(f, "isolcpus=, nohz_full=, rcu_nocbs= for the RT CPUs on hosts running RT tasks");
                fnd_actual(f, "isolated: none, nohz_full: none");
                fnd_remedy(f, "only for RT hosts (EVO guide): isolcpus=2-7 nohz_full=2-7 rcu_nocbs=2-7 in GRUB_CMDLINE_LINUX, "
                              "update-grub && reboot");
                fnd_evidence(f, "/proc/cmdline, " SYSCPU "/isolated, " SYSCPU "/nohz_full");
                free(st);
                return;
        }
        struct cpuset online;
        if (read_cpulist(SYSCPU "/online", &online) < 0 || cpuset_empty(&online))
                online = st->possible;
        cpuset_andnot(&st->hk, &online, &st->intended);
        st->iso_list = list_or_none(&st->intended);
        st->hk_list = cpuset_empty(&st->hk) ? NULL : cpulist_format(&st->hk);

        check_cmdline(st, fs);
        check_effective(st, fs);
        if (!cpuset_empty(&st->intended)) {
                check_irqs(c, st, fs);
                struct proctable pt;
                int pr = proctable_load(&pt);
                if (pr < 0) {
                        struct finding *f = fnd_add(fs, SEV_UNKNOWN, "isolation.tasks", "cannot read the process table: %s", strerror(-pr));
                        fnd_evidence(f, "/proc");
                } else {
                        check_irqbalance(c, st, &pt, fs);
                        check_tasks(c, st, &pt, fs);
                        proctable_free(&pt);
                }
                check_workqueue(st, fs);
        }
        free(st->iso_list);
        free(st->hk_list);
        free(st);
}

const struct collector isolation_collector = {
        .name = "isolation",
        .summary = "isolcpus/nohz_full/rcu_nocbs in effect, IRQs, irqbalance, tasks and workqueues on isolated CPUs",
        .checks = checks,
        .config = config,
        .check = iso_check,
        .sample = iso_sample,
        .sampled = (const char *const[]){"isolation.irq", NULL},
        .free_state = iso_free_state,
};
