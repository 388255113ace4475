/* The one table of collectors. Adding a collector = one file + one line here
 * (+ its file in Makefile.am). Order is the order of the report. */
#include "config.h"
#include "collectors/collector.h"

extern const struct collector shm_collector;
extern const struct collector hugepages_collector;
extern const struct collector rt_collector;
extern const struct collector isolation_collector;
extern const struct collector fds_collector;
extern const struct collector maps_collector;
extern const struct collector memory_collector;
extern const struct collector evo_collector;
extern const struct collector lavinmq_collector;
extern const struct collector perf_collector;
extern const struct collector gpu_collector;
extern const struct collector journal_collector;
extern const struct collector coredump_collector;
extern const struct collector mediator_collector;
extern const struct collector snn_collector;
extern const struct collector framealloc_collector;
extern const struct collector units_collector;
extern const struct collector clock_collector;

const struct collector *const collectors[] = {
        &shm_collector,
        &hugepages_collector,
        &rt_collector,
        &isolation_collector,
        &fds_collector,
        &maps_collector,
        &memory_collector,
        &evo_collector,
        &lavinmq_collector,
        &perf_collector,
        &gpu_collector,
        &journal_collector,
        &coredump_collector,
        &mediator_collector,
        &snn_collector,
        &framealloc_collector,
        &units_collector,
        &clock_collector,
        NULL,
};

const struct collector *collector_find(const char *name)
{
        for (size_t i = 0; collectors[i]; i++)
                if (streq(collectors[i]->name, name))
                        return collectors[i];
        return NULL;
}

const struct check_info engine_checks[] = {
        {"timeout", "A collector did not finish in time",
         "The collector's child process did not answer within its deadline and was killed.\n"
         "Why it matters: something it reads is blocking: a hung NFS mount (vGPU /var/vgpu), a GPU\n"
         "driver that stopped answering, a process stuck in D state whose /proc files block.\n"
         "Its checks could not be made, so the verdict is unknown, not ok.\n"
         "Fix: run 'evodiag check -v --only NAME' to see how long it takes; look for D-state\n"
         "processes (ps -eo pid,stat,wchan:32,comm | awk '$2 ~ /D/') and hung mounts;\n"
         "raise the deadline with --collector-timeout or [NAME] timeout = 10s in the config."},
        {"crashed", "A collector crashed",
         "The collector's child died from a signal, exited with an error or sent results that\n"
         "cannot be trusted: unreadable frames, or a finding under a check ID the collector does\n"
         "not declare. None of what it sent is shown. The rest of the run is unaffected, but this\n"
         "collector's checks are unknown.\n"
         "Fix: this is a bug in evodiag; report it with the output of\n"
         "'evodiag check -v --only NAME' and, if one was written, the core dump."},
        {"expected", "An expected component is not there",
         "The config's [expect] components names this component, so it must be on this host,\n"
         "but what shows it is there (its process, unit, config, segments) was not found.\n"
         "Without the declaration the collector would only be \"not relevant on this host\";\n"
         "with it, the absence is the finding: crit. The guides' first symptom is often just\n"
         "this (EVO's SegmentNotFound: the producer is not running; LavinMQ will not start).\n"
         "Fix: the remedy names the component's first steps (start the producer, check the\n"
         "segment names' spelling and case, ls -la /dev/shm/ | grep evo; for LavinMQ its\n"
         "service status and log), or remove it from [expect] components if it moved away."},
        {"findings_cut", "A collector reported more findings than a run keeps",
         "A run keeps at most 100,000 findings (128 MiB) per collector; the rest were left out\n"
         "and this finding says how many there were. Why it matters: the report is not\n"
         "complete, and so many findings usually mean one cause repeated: a writer that\n"
         "leaks /dev/shm segments, a fork bomb, a runaway process.\n"
         "Fix: count the findings by ID (the remedy's jq line), remove the cause, run again."},
        {0},
};

/* "memory.timeout" -> the engine's "timeout" when memory is a collector. */
static const struct check_info *engine_check(const char *id, const struct collector **owner)
{
        const char *dot = strrchr(id, '.');
        if (!dot)
                return NULL;
        for (size_t i = 0; collectors[i]; i++) {
                size_t n = strlen(collectors[i]->name);
                if ((size_t)(dot - id) != n || strncmp(id, collectors[i]->name, n) != 0)
                        continue;
                for (const struct check_info *ci = engine_checks; ci->id; ci++)
                        if (streq(ci->id, dot + 1)) {
                                if (owner)
                                        *owner = collectors[i];
                                return ci;
                        }
        }
        return NULL;
}

static const struct check_info run_checks[] = {
        {"evodiag.nothing_checked", "No check ran",
         "Every collector the run was asked for was not relevant on this host (evo without\n"
         "/dev/shm/evo_* segments, lavinmq without a broker), so nothing was checked. A report\n"
         "with no findings is not a healthy host: the verdict is unknown (exit 3), never ok.\n"
         "The finding names the collectors asked for and why each did not apply.\n"
         "Fix: is the component meant to run here? Start it; or run without --only (and\n"
         "[evodiag] only) to check the rest of the host; declare what must run in [expect]\n"
         "(components = evo, lavinmq) so its absence is a crit finding of its own."},
        {"evodiag.expected_process", "Declared processes run",
         "Each process the config's [expect] processes names (evo_hal, lavinmq) must run: a\n"
         "process whose comm or argv[0] is that name (exactly). A missing one is crit: the\n"
         "guides' first symptom is often that the thing is simply not there (EVO's\n"
         "SegmentNotFound when the producer does not run). Checked when the run is not limited\n"
         "by --only.\n"
         "Fix: start it (systemctl start <unit> where systemd runs it, else its init script,\n"
         "supervisor or container); ps -eo pid,comm,args to see whether it runs under another name."},
        {0},
};

const struct collector run_self = {
        .name = "evodiag",
        .summary = "the run itself",
        .checks = run_checks,
};

const struct check_info *check_find(const char *id, const struct collector **owner)
{
        for (const struct check_info *ci = run_checks; ci->id; ci++)
                if (streq(ci->id, id)) {
                        if (owner)
                                *owner = &run_self;
                        return ci;
                }
        for (size_t i = 0; collectors[i]; i++)
                for (const struct check_info *ci = collectors[i]->checks; ci && ci->id; ci++)
                        if (streq(ci->id, id)) {
                                if (owner)
                                        *owner = collectors[i];
                                return ci;
                        }
        return engine_check(id, owner);
}

bool collector_declares(const struct collector *c, const char *id)
{
        for (const struct check_info *ci = c->checks; ci && ci->id; ci++)
                if (streq(ci->id, id))
                        return true;
        size_t n = strlen(c->name);
        return strncmp(id, c->name, n) == 0 && streq(id + n, ".findings_cut");
}

bool collector_samples(const struct collector *c, const char *id)
{
        size_t n = strlen(c->name);
        if (strncmp(id, c->name, n) == 0 && streq(id + n, ".findings_cut"))
                return c->sample != NULL; /* the engine's, when a child cuts what it reports */
        return c->sample && c->sampled && strv_contains(c->sampled, id);
}
