/* journal collector: what the logs say, read natively with sd-journal (lib/journal.h):
 * error-priority entries of the component units, and the kernel's and components'
 * known bad lines (the pattern table in journal_format.c), in a window found by
 * seeking. No journal: the kernel ring buffer. Component log files: their tails. */
#include "config.h"
#include "collectors/journal_private.h"
#include "collectors/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

static const struct check_info checks[] = {
        {"journal.source", "Journal read",
         "Which journal was read (the local system journal, --journal-dir/--journal-file, or\n"
         "/var/log/journal and /run/log/journal under --root or a bundle), the window (--since,\n"
         "default 1h for check and 24h for bundle; --until) and how many entries were read.\n"
         "The window's start is found with sd_journal_seek_realtime_usec on the journal's own\n"
         "index, and only the component units and the kernel are read (matches on\n"
         "_SYSTEMD_UNIT and _TRANSPORT=kernel), so the cost does not grow with the journal.\n"
         "Work is bounded by [journal] max_entries and max_bytes: when a bound is hit this says\n"
         "so, and the verdicts cover only what was read.\n"
         "skipped: there is no journal (no journald, no files): the kernel patterns are then\n"
         "looked for in the kernel ring buffer (journal.kmsg). unknown: journal files exist\n"
         "but none could be read (see journal.corrupt_file)."},
        {"journal.corrupt_file", "Unreadable journal file",
         "A journal file that sd-journal cannot open or read: corrupt, truncated (a crash or a\n"
         "full disk while journald wrote it), of an unknown format, or not a regular file. It\n"
         "is named and left out; every other file is still read, so the verdicts cover the\n"
         "rest. Files journald renamed to *.journal~ after an unclean shutdown are read too.\n"
         "Fix: journalctl --verify --file FILE; move the file away if it stays unreadable\n"
         "(journald does not need it)."},
        {"journal.kmsg", "Kernel ring buffer (fallback)",
         "Without a journal the kernel's own lines are still in its ring buffer: /dev/kmsg is\n"
         "read (non-blocking, root only) for the kernel patterns (OOM kills, Xid, hung tasks,\n"
         "...). skipped: not root, or not the live system (--root, a bundle).\n"
         "Fix: run as root, or install systemd-journald so the logs persist."},
        {"journal.unit_errors", "Error-priority entries of a component",
         "Entries of priority err or worse (PRIORITY <= 3) of each component unit ([journal]\n"
         "units: lavinmq.service, cerebellar-norse.service and the EVO units you list), and\n"
         "ERROR/CRITICAL/FATAL lines in the components' log files ([journal] log_files: the\n"
         "SNN's /var/log/cerebellar-norse/*.log; read from their end, [journal] log_tail bytes,\n"
         "without a time window). The vGPU mediator's log ([mediator] log, /tmp/mediator.log) is\n"
         "left out even when listed or matched: the mediator collector counts its [ERROR] and CUDA\n"
         "lines (mediator.log), and one line must not be two findings. Each gets the count, the\n"
         "first and last time and up to 3 sample lines (the bundle has them all).\n"
         "Fix: journalctl -u UNIT -p err --since '1 hour ago' and the component's guide."},
        {"journal.oom_kill", "OOM kill",
         "The kernel's OOM killer killed a process (\"Out of memory: Killed process PID (NAME)\"):\n"
         "the victim's name, pid and resident size. crit when the victim is a component\n"
         "([journal] components), warn otherwise. The memory ran out on the host or in the\n"
         "victim's cgroup (\"Memory cgroup out of memory\").\n"
         "Fix: find what grew (evodiag check --only memory), give the service a limit it fits in\n"
         "(cerebellar-norse: [performance] memory_limit), add memory."},
        {"journal.gpu_xid", "NVIDIA Xid error",
         "\"NVRM: Xid (PCI:...): N\": the NVIDIA driver reports GPU error N. The common ones:\n"
         "13 graphics engine exception, 31 GPU memory page fault, 43 GPU stopped processing,\n"
         "45 preemptive cleanup (application Xids: the application faulted); 48 double-bit ECC,\n"
         "62 micro-controller halt, 64 page retirement/row remap failure, 79 fallen off the bus,\n"
         "95 uncontained ECC, 119 GSP RPC timeout (crit: the GPU needs a reset or is gone);\n"
         "61 micro-controller warning, 63 page retirement recorded, 74 NVLink error, 92 high\n"
         "single-bit ECC rate, 94 contained ECC (warn).\n"
         "Fix: nvidia-smi -q, NVIDIA's Xid catalogue, nvidia-bug-report.sh; drain the node for\n"
         "hardware Xids."},
        {"journal.gpu_off_bus", "GPU fallen off the bus",
         "\"GPU has fallen off the bus\": the GPU stopped answering on PCIe. Everything using it\n"
         "fails until a reboot. Power, cooling, seating or a failing board.\n"
         "Fix: reboot, check power and thermals, nvidia-bug-report.sh, replace the board if it recurs."},
        {"journal.segfault", "Crash (segfault, trap)",
         "The kernel logged a process crash: \"NAME[PID]: segfault at ADDR ...\" or\n"
         "\"traps: NAME[PID] trap ...\". The subject is the binary.\n"
         "Fix: coredumpctl info NAME (evodiag bundle collects the core), debug symbols, gdb."},
        {"journal.hung_task", "Hung task",
         "\"INFO: task NAME:PID blocked for more than N seconds\": a task waited in the kernel\n"
         "(D state) that long, usually on storage or NFS.\n"
         "Fix: cat /proc/PID/stack; check the device or server it waits on."},
        {"journal.rt_throttling", "RT throttling activated",
         "\"sched: RT throttling activated\": real-time tasks used their whole budget\n"
         "(kernel.sched_rt_runtime_us of each sched_rt_period_us) and were stopped for the rest\n"
         "of the period: an RT loop missed its deadlines.\n"
         "Fix: evodiag check --only rt; find the RT task that spins."},
        {"journal.nfs_not_responding", "NFS server not responding",
         "\"nfs: server NAME not responding\": processes using that mount hang until it answers\n"
         "(the vGPU mediator's /var/vgpu can be on NFS).\n"
         "Fix: rpcinfo -p SERVER, the network to it, the server."},
        {"journal.hw_error", "Corrected hardware error (MCE/EDAC)",
         "Machine-check or EDAC reports of corrected memory/CPU errors. A few are normal over a\n"
         "long time, a stream means a part is failing.\n"
         "Fix: ras-mc-ctl --summary, edac-util -v; replace the DIMM named."},
        {"journal.hw_error_uncorrected", "Uncorrected hardware error",
         "EDAC \"UE\" or uncorrected memory errors: data was lost or corrupted.\n"
         "Fix: drain the node, ras-mc-ctl --errors, replace the part."},
        {"journal.cuda_error", "CUDA error in the SNN service",
         "CUDA_ERROR_* codes and OutOfMemory lines of the SNN service (cerebellar-norse): its\n"
         "GPU work failed (CUDA_ERROR_OUT_OF_MEMORY: the GPU's memory is full).\n"
         "Fix: nvidia-smi; lower the batch/network size or memory_limit (guides: cerebellar-norse.md)."},
        {"journal.lavinmq_exception", "LavinMQ unhandled exception",
         "\"Unhandled exception\" in LavinMQ's log: a fiber died on an error nobody handled; the\n"
         "next lines are its backtrace.\n"
         "Fix: journalctl -u lavinmq | grep -A 50 'Unhandled exception'; report it with the bundle."},
        {"journal.lavinmq_disk_full", "LavinMQ disk full",
         "\"No space left on device\" in LavinMQ's log: it could not write a message segment or\n"
         "its definitions; publishers are blocked.\n"
         "Fix: df -h /var/lib/lavinmq; free space, purge or shorten queues."},
        {"journal.framealloc", "framealloc diagnostic",
         "\"[framealloc][FAxxx] kind: msg\" on a component's stderr: framealloc's diagnostics\n"
         "(debug builds or the diagnostics feature), e.g. FA601 frame allocation in an async\n"
         "function, FA602 allocation in a hot loop, FA603 frame data crossing an await point.\n"
         "Fix: cargo fa explain FAxxx (guides: framealloc.md)."},
        {0},
};

static const struct config_key config[] = {
        CONF_STR("since", "1h", "window start: a duration back from now, 'YYYY-MM-DD HH:MM[:SS]', @EPOCH (check --since; bundle --since sets 24h)"),
        CONF_STR("until", "", "window end, same forms (empty: now)"),
        CONF_LIST("dirs", "", "journal directories to read instead of the system journal (--journal-dir)"),
        CONF_LIST("files", "", "journal files to read instead of the system journal (--journal-file)"),
        CONF_LIST("units", "lavinmq.service,cerebellar-norse.service", "component units whose error-priority entries count (add the EVO units)"),
        CONF_LIST("components", "lavinmq,cerebellar-norse,mediator,mediator_phase3,evo", "process names of components: an OOM kill of one is crit"),
        CONF_LIST("log_files", "/var/log/cerebellar-norse/*.log", "component log files read from their end ('*' in the name; never [mediator] log)"),
        CONF_SIZE("log_tail", "1M", "bytes read from the end of each component log file"),
        CONF_UINT("max_entries", "1000000", 1, 1e9, "entries read at most (the finding says when the bound is hit)"),
        CONF_SIZE("max_bytes", "512M", "bytes of entry data read at most"),
        CONF_UINT("max_matches", "20000", 1, 1e6, "matched entries kept as evidence at most"),
        CONF_UINT("samples", "3", 0, 20, "sample lines quoted per finding"),
        CONF_SIZE("bundle_text_max", "2M", "bundle: bytes of log text per unit and for the kernel"),
        {0},
};

/* ---- the scan: entries in, groups of hits out ---- */

#define UNIT_ERRORS ((size_t)-1)
#define MAX_GROUPS 256

struct jgroup {
        size_t pat; /* index in jpatterns, or UNIT_ERRORS */
        char subject[128];
        enum severity sev;
        uint64_t count, first_t, last_t;
        char first_cursor[256], last_cursor[256];
        char samples[3][320];
        unsigned nsamples;
        char detail[256];
};

struct jscan {
        const struct jconf *cf;
        struct jgroup *g;
        size_t ng;
        bool groups_cut;
        uint64_t matched, kept;
        bool evidence_cut;
        struct strbuf *ev; /* the evidence: JSON lines */
        bool kernel_read, component_read;
};

static struct strbuf evidence;
struct strbuf *journal_evidence(void) { return &evidence; }

static struct jgroup *group(struct jscan *s, size_t pat, const char *subject)
{
        for (size_t i = 0; i < s->ng; i++)
                if (s->g[i].pat == pat && streq(s->g[i].subject, subject))
                        return &s->g[i];
        if (s->ng >= MAX_GROUPS) {
                s->groups_cut = true;
                return NULL;
        }
        s->g = xrealloc(s->g, (s->ng + 1) * sizeof(*s->g));
        struct jgroup *g = &s->g[s->ng++];
        *g = (struct jgroup){.pat = pat, .sev = SEV_OK};
        snprintf(g->subject, sizeof(g->subject), "%s", subject);
        return g;
}

static void add_hit(struct jscan *s, size_t pat, const char *subject, enum severity sev, const char *detail,
                    const struct jentry *e)
{
        struct jgroup *g = group(s, pat, subject);
        if (!g)
                return;
        if (sev > g->sev)
                g->sev = sev;
        if (!g->count++) {
                g->first_t = e->t_us;
                snprintf(g->first_cursor, sizeof(g->first_cursor), "%s", e->cursor);
        }
        g->last_t = e->t_us;
        snprintf(g->last_cursor, sizeof(g->last_cursor), "%s", e->cursor);
        if (detail && detail[0])
                snprintf(g->detail, sizeof(g->detail), "%s", detail);
        unsigned max = s->cf->samples < 3 ? s->cf->samples : 3;
        if (g->nsamples < max)
                snprintf(g->samples[g->nsamples++], sizeof(g->samples[0]), "%.300s", e->msg);
}

/* One entry: the patterns that apply to its source, and error priority of a component. */
static int scan_entry(void *arg, const struct jentry *e)
{
        struct jscan *s = arg;
        unsigned scope = jentry_scope(e, s->cf->units);
        if (!scope)
                return 0;
        bool hit = false;
        for (int i = jpattern_next(e->msg, scope, 0); i >= 0; i = jpattern_next(e->msg, scope, (size_t)i + 1)) {
                struct jhit h;
                jpattern_hit(&jpatterns[i], e->msg, s->cf->components, &h);
                add_hit(s, (size_t)i, h.subject, h.sev, h.detail, e);
                hit = true;
        }
        if ((scope & JS_COMPONENT) && e->prio >= 0 && e->prio <= 3) {
                add_hit(s, UNIT_ERRORS, e->unit, SEV_WARN, NULL, e);
                hit = true;
        }
        if (hit) {
                s->matched++;
                if (s->kept < s->cf->max_matches && s->ev->len < JOURNAL_EVIDENCE_MAX - JMSG_MAX * 2) {
                        json_object *o = jentry_to_json(e);
                        sb_puts(s->ev, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        sb_putc(s->ev, '\n');
                        json_object_put(o);
                        s->kept++;
                } else {
                        s->evidence_cut = true;
                }
        }
        return 0;
}

/* ---- findings ---- */

static void fmt_time(char *buf, size_t n, uint64_t us)
{
        if (!us) {
                snprintf(buf, n, "?");
                return;
        }
        time_t t = (time_t)(us / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
                snprintf(buf, n, "@%" PRIu64, us / 1000000);
}

struct jsource {
        char *origin;     /* what was read */
        char *files;      /* the files, for evidence */
        char window[160]; /* "2026-... UTC .. now" */
};

static void emit_groups(struct jscan *s, const struct jsource *src, struct findings *fs)
{
        for (size_t i = 0; i < s->ng; i++) {
                struct jgroup *g = &s->g[i];
                bool ue = g->pat == UNIT_ERRORS;
                const char *id = ue ? "journal.unit_errors" : jpatterns[g->pat].id;
                const char *what = ue ? "error-priority entries" : jpatterns[g->pat].what;
                char t1[40], t2[40];
                fmt_time(t1, sizeof(t1), g->first_t);
                fmt_time(t2, sizeof(t2), g->last_t);
                struct finding *f;
                bool file = g->subject[0] == '/';
                if (ue)
                        f = fnd_add(fs, g->sev, id, "%s: %" PRIu64 " %s (err or worse) %s", g->subject, g->count, what,
                                    file ? "in its tail ([journal] log_tail)" : "in the window");
                else
                        f = fnd_add(fs, g->sev, id, "%" PRIu64 " × %s%s%s%s%s", g->count, what, g->subject[0] ? ": " : "",
                                    g->subject, g->detail[0] ? " — " : "", g->detail);
                if (g->subject[0])
                        fnd_subject(f, "%s", g->subject);
                fnd_expected(f, "no %s in %s", what, src->window);
                struct strbuf a = {0};
                if (g->first_t)
                        sb_printf(&a, "%" PRIu64 " from %s to %s", g->count, t1, t2);
                else
                        sb_printf(&a, "%" PRIu64 " lines of the file's tail", g->count);
                for (unsigned k = 0; k < g->nsamples; k++)
                        sb_printf(&a, "; \"%s\"", g->samples[k]);
                fnd_actual(f, "%s", a.s);
                sb_free(&a);
                if (ue && file)
                        fnd_remedy(f, "grep -nE 'ERROR|CRITICAL|FATAL' %s | tail; the component's guide", g->subject);
                else if (ue)
                        fnd_remedy(f, "journalctl -u %s -p err --since '%s'; the component's guide", g->subject, t1);
                else
                        fnd_remedy(f, "%s", jpatterns[g->pat].remedy);
                fnd_evidence(f, "%s; cursors %s .. %s", src->files, g->first_cursor, g->last_cursor);
        }
}

static bool has_group(const struct jscan *s, size_t pat)
{
        for (size_t i = 0; i < s->ng; i++)
                if (s->g[i].pat == pat)
                        return true;
        return false;
}

/* Checked and nothing found: one ok per check whose source was read. */
static void emit_oks(struct jscan *s, const struct jsource *src, struct findings *fs)
{
        for (size_t i = 0; i < jpatterns_n; i++) {
                bool kernel = jpatterns[i].scope & JS_KERNEL;
                if ((kernel && !s->kernel_read) || (!kernel && !s->component_read) || has_group(s, i))
                        continue;
                bool dup = false; /* one line per ID */
                for (size_t k = 0; k < i; k++)
                        dup |= streq(jpatterns[k].id, jpatterns[i].id);
                if (dup)
                        continue;
                struct finding *f = fnd_add(fs, SEV_OK, jpatterns[i].id, "no %s in %s", jpatterns[i].what, src->window);
                fnd_evidence(f, "%s", src->files);
        }
        if (s->component_read && !has_group(s, UNIT_ERRORS)) {
                struct finding *f = fnd_add(fs, SEV_OK, "journal.unit_errors", "no error-priority entries of %s in %s",
                                            s->cf->units, src->window);
                fnd_evidence(f, "%s", src->files);
        }
}

static void describe_window(const struct jconf *cf, struct jsource *src)
{
        char a[40], b[40] = "now";
        fmt_time(a, sizeof(a), cf->since_us);
        if (cf->until_us && !cf->until_bad)
                fmt_time(b, sizeof(b), cf->until_us);
        snprintf(src->window, sizeof(src->window), "%s .. %s", a, b);
}

/* The files, three named at most, for evidence. */
static char *files_text(struct journal *j)
{
        size_t n;
        const struct journal_file *f = journal_files(j, &n);
        struct strbuf b = {0};
        size_t shown = 0, good = 0;
        for (size_t i = 0; i < n; i++) {
                if (f[i].error)
                        continue;
                good++;
                if (shown < 3) {
                        sb_printf(&b, "%s%s", shown ? ", " : "journal ", f[i].path);
                        shown++;
                }
        }
        if (good > shown)
                sb_printf(&b, " and %zu more", good - shown);
        if (!good)
                sb_printf(&b, "%s", journal_origin(j));
        return sb_steal(&b);
}

/* The bundle's evidence as the source (check --from). */
static bool replay(struct jscan *s, struct jsource *src, struct findings *fs)
{
        char *buf = NULL;
        bool trunc = false;
        long n = rootfs_read(JOURNAL_EVIDENCE_PATH, JOURNAL_EVIDENCE_MAX, &buf, &trunc);
        if (n < 0)
                return false;
        size_t pos = 0;
        char *line;
        bool meta = false;
        unsigned bad = 0;
        while ((line = next_line(buf, &pos))) {
                if (!*line)
                        continue;
                json_object *o = json_tokener_parse(line);
                json_object *v;
                if (!meta && o && json_object_object_get_ex(o, "evodiag_journal", &v)) {
                        meta = true;
                        /* The findings the original check made about its sources, as they were. */
                        json_object *arr;
                        if (json_object_object_get_ex(o, "source_findings", &arr))
                                (void)findings_from_json(fs, arr);
                        if (json_object_object_get_ex(o, "window", &v) && json_object_is_type(v, json_type_string))
                                jcopy(src->window, sizeof(src->window), json_object_get_string(v), (size_t)json_object_get_string_len(v));
                        if (json_object_object_get_ex(o, "files", &v) && json_object_is_type(v, json_type_string)) {
                                free(src->files);
                                size_t l = (size_t)json_object_get_string_len(v);
                                src->files = xstrndup(json_object_get_string(v), l < 4096 ? l : 4096);
                        }
                        s->kernel_read = json_object_object_get_ex(o, "kernel_read", &v) && json_object_get_boolean(v);
                        s->component_read = json_object_object_get_ex(o, "component_read", &v) && json_object_get_boolean(v);
                } else {
                        struct jentry e;
                        if (o && jentry_from_json(o, &e) == 0)
                                (void)scan_entry(s, &e);
                        else
                                bad++;
                }
                json_object_put(o);
        }
        free(buf);
        if (!meta || bad || trunc) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "journal.source", "the bundle's journal evidence is damaged: %s%s%u bad lines",
                                            meta ? "" : "no header, ", trunc ? "cut, " : "", bad);
                fnd_evidence(f, "%s", JOURNAL_EVIDENCE_PATH);
        }
        return true;
}

/* The journal (or, without one, the kernel ring buffer) and the log files, read once. */
static void read_sources(struct ctx *c, struct jscan *s, struct jsource *src, struct findings *fs)
{
        const struct jconf *cf = s->cf;
        _cleanup_journal_ struct journal *j = NULL;
        if (jconf_open(cf, &j) < 0) {
                fnd_add(fs, SEV_UNKNOWN, "journal.source", "bad journal options ([journal] dirs/files)");
                return;
        }
        size_t nf, denied = 0;
        const struct journal_file *f = journal_files(j, &nf);
        for (size_t i = 0; i < nf; i++)
                denied += f[i].error == -EACCES || f[i].error == -EPERM;
        if (denied) { /* not damage: who may read the journal (one finding, not one per file) */
                struct finding *x = fnd_add(fs, SEV_SKIPPED, "journal.corrupt_file", "%zu journal files cannot be read: permission denied", denied);
                fnd_remedy(x, "run as root, or as a member of the systemd-journal group");
                fnd_subject(x, "permission denied");
        }
        for (size_t i = 0; i < nf; i++) {
                if (!f[i].error || f[i].error == -EACCES || f[i].error == -EPERM)
                        continue;
                struct finding *x = fnd_add(fs, SEV_WARN, "journal.corrupt_file", "journal file %s cannot be read (%s): left out, the rest was read",
                                            f[i].path, f[i].error == -ENODATA ? "empty or truncated" : rootfs_strerror(f[i].error));
                fnd_subject(x, "%s", f[i].path);
                fnd_expected(x, "a journal file sd-journal can read");
                fnd_actual(x, "%s, %" PRIu64 " bytes", rootfs_strerror(f[i].error), f[i].size);
                fnd_remedy(x, "journalctl --verify --file %s; move it away if it stays unreadable", f[i].path);
                fnd_evidence(x, "%s", f[i].path);
        }
        src->origin = xstrdup(journal_origin(j));
        src->files = files_text(j);
        if (journal_usable(j)) {
                jconf_match(cf, j);
                int r = journal_seek(j, &cf->w);
                struct jentry e;
                while (r >= 0 && (r = journal_next(j)) > 0) {
                        jentry_from_journal(j, &e);
                        unsigned scope = jentry_scope(&e, cf->units);
                        if (!scope)
                                continue;
                        /* The cursor only for what matches (it costs an allocation). */
                        bool want = (scope & JS_COMPONENT && e.prio >= 0 && e.prio <= 3) || jpattern_next(e.msg, scope, 0) >= 0;
                        if (!want)
                                continue;
                        _cleanup_free_ char *cur = journal_cursor(j);
                        snprintf(e.cursor, sizeof(e.cursor), "%s", cur ? cur : "");
                        scan_entry(s, &e);
                }
                s->kernel_read = s->component_read = true;
                enum journal_stop st = journal_stopped(j);
                bool cut = journal_cut(j);
                enum severity sev = st == JOURNAL_ERROR ? SEV_WARN : cut ? SEV_INFO : SEV_OK;
                struct finding *x = fnd_add(fs, sev, "journal.source", "read %" PRIu64 " entries of the component units and the kernel in %s%s%s",
                                            journal_entries_read(j), src->window,
                                            st == JOURNAL_ERROR ? ": stopped by a read error, the verdicts cover what came before" :
                                            cut ? ": stopped at the " : "",
                                            st == JOURNAL_ERROR ? "" : cut ? journal_stop_str(st) : "");
                fnd_expected(x, "the whole window read");
                fnd_actual(x, "%" PRIu64 " entries, %" PRIu64 " bytes of fields, %s%s%s", journal_entries_read(j), journal_bytes_read(j),
                           journal_stop_str(st), st == JOURNAL_ERROR ? ": " : "", st == JOURNAL_ERROR ? strerror(-journal_error(j)) : "");
                if (cut)
                        fnd_remedy(x, "narrow the window (--since) or raise [journal] max_entries / max_bytes / --collector-timeout");
                fnd_evidence(x, "%s", src->files);
        } else {
                bool none = nf == 0, all_denied = nf && denied == nf;
                struct finding *x = fnd_add(fs, none || all_denied ? SEV_SKIPPED : SEV_UNKNOWN, "journal.source",
                                            none         ? "no journal here: no journal files in %s"
                                            : all_denied ? "the journal files of %s cannot be read by this user"
                                                         : "no journal file of %s could be read",
                                            src->origin);
                fnd_remedy(x, none         ? "install systemd-journald (Storage=persistent) so the logs persist"
                              : all_denied ? "run as root, or as a member of the systemd-journal group"
                                           : "see journal.corrupt_file");
                fnd_evidence(x, "%s", src->origin);
                /* The kernel ring buffer instead, for the kernel patterns. */
                if (!rootfs_is_live()) {
                        fnd_add(fs, SEV_SKIPPED, "journal.kmsg", "no kernel ring buffer under --root or a bundle");
                } else if (!c->is_root) {
                        skip_not_root(fs, "journal.kmsg", "the kernel's lines in its ring buffer (/dev/kmsg)");
                } else {
                        long n = jkmsg_read(cf->since_us, cf->until_bad ? 0 : cf->until_us, cf->w.max_entries, scan_entry, s);
                        if (n < 0) {
                                struct finding *k = fnd_add(fs, SEV_UNKNOWN, "journal.kmsg", "/dev/kmsg cannot be read: %s", strerror((int)-n));
                                fnd_evidence(k, "/dev/kmsg");
                        } else {
                                s->kernel_read = true;
                                struct finding *k = fnd_add(fs, SEV_OK, "journal.kmsg", "read %ld kernel ring buffer records in %s (no journal)", n, src->window);
                                fnd_evidence(k, "/dev/kmsg");
                                free(src->files);
                                src->files = xstrdup("/dev/kmsg");
                        }
                }
        }
        /* Component log files: their tails. */
        struct strbuf lf = {0}, probs = {0};
        jlogs_read(cf, scan_entry, s, &lf, &probs);
        if (lf.len) {
                s->component_read = true;
                char *both = xasprintf("%s; %s", src->files, lf.s);
                free(src->files);
                src->files = both;
        }
        if (probs.len) {
                struct finding *x = fnd_add(fs, SEV_UNKNOWN, "journal.unit_errors", "component log files cannot be read: %s", probs.s);
                fnd_subject(x, "log files");
        }
        sb_free(&lf);
        sb_free(&probs);
}

static void journal_check(struct ctx *c, struct findings *fs)
{
        struct jconf cf;
        jconf_read(c, &cf);
        struct jscan s = {.cf = &cf, .ev = &evidence};
        struct jsource src = {0};
        sb_free(&evidence);
        describe_window(&cf, &src);
        struct findings srcf = {0};
        /* check --from: the entries the bundle's check saw, and its findings about its sources. */
        bool replayed = !rootfs_is_live() && rootfs_exists(JOURNAL_EVIDENCE_PATH) && replay(&s, &src, &srcf);
        if (!src.files)
                src.files = xstrdup(JOURNAL_EVIDENCE_PATH);
        if (!replayed) {
                if (cf.since_bad || cf.until_bad) {
                        struct finding *x = fnd_add(&srcf, SEV_UNKNOWN, "journal.source", "[journal] %s is not a time: %s",
                                                    cf.since_bad ? "since" : "until", cf.since_bad ? "the last hour is read instead" : "read up to now instead");
                        fnd_remedy(x, "since/until: 2h, 30m, 'YYYY-MM-DD HH:MM', @EPOCH");
                }
                free(src.files);
                src.files = NULL;
                read_sources(c, &s, &src, &srcf);
                if (!src.files)
                        src.files = xstrdup("no source");
                if (s.groups_cut)
                        fnd_add(&srcf, SEV_INFO, "journal.source", "more than %d different hits: the rest are counted in none", MAX_GROUPS);
                if (s.evidence_cut)
                        fnd_add(&srcf, SEV_INFO, "journal.source", "%" PRIu64 " matched entries, %" PRIu64 " kept as evidence ([journal] max_matches)",
                                s.matched, s.kept);
                /* The header of the evidence: the source findings (replayed as they were) and the window. */
                json_object *m = json_object_new_object();
                json_object_object_add(m, "evodiag_journal", json_object_new_int(1));
                json_object_object_add(m, "window", json_object_new_string(src.window));
                json_object_object_add(m, "files", json_object_new_string(src.files));
                json_object_object_add(m, "kernel_read", json_object_new_boolean(s.kernel_read));
                json_object_object_add(m, "component_read", json_object_new_boolean(s.component_read));
                json_object_object_add(m, "source_findings", findings_to_json(&srcf));
                struct strbuf all = {0};
                sb_puts(&all, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                sb_putc(&all, '\n');
                if (evidence.len)
                        sb_putn(&all, evidence.s, evidence.len);
                sb_free(&evidence);
                evidence = all;
                json_object_put(m);
        }
        findings_move(fs, &srcf);
        emit_groups(&s, &src, fs);
        emit_oks(&s, &src, fs);
        free(s.g);
        free(src.origin);
        free(src.files);
        jconf_free(&cf);
}

const struct collector journal_collector = {
        .name = "journal",
        .summary = "the logs: component errors, OOM kills, Xid, hung tasks, crashes, RT throttling (sd-journal)",
        .checks = checks,
        .config = config,
        .check = journal_check,
        .collect = journal_collect,
        .sample = journal_sample,
        .sampled = (const char *const[]){"journal.source", "journal.unit_errors", "journal.oom_kill", "journal.gpu_xid",
                                         "journal.gpu_off_bus", "journal.segfault", "journal.hung_task", "journal.rt_throttling",
                                         "journal.nfs_not_responding", "journal.hw_error", "journal.hw_error_uncorrected",
                                         "journal.cuda_error", "journal.lavinmq_exception", "journal.lavinmq_disk_full",
                                         "journal.framealloc", NULL},
        .free_state = journal_free_state,
};
