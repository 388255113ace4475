/* coredump: which component crashed, where, with what signal — from the evidence
 * `coredumpctl info`, `coredumpctl gdb` + `bt` and the core itself give an operator
 * (the LavinMQ guide's crash section; the vGPU mediator's "core dump generated, run
 * gdb"), read natively: systemd-coredump's journal records through lib/journal.h, the
 * cores in /var/lib/systemd/coredump (zstd, lz4, xz or plain), where
 * kernel.core_pattern writes plain files, and in [coredump] core_dirs; every thread's
 * symbolized backtrace from the core alone with libdwfl, in a sandboxed child
 * (coredump_bt.c). And whether the next crash would leave a core at all: core_pattern,
 * the helper it pipes to, RLIMIT_CORE of the running components (/proc/PID/limits of
 * processes lib/trust vouches for), LimitCORE= of their units; and the cores' storage.
 *
 * This file holds the checks and the bundle; coredump_scan.c finds the crashes. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/coredump_private.h"
#include "collectors/sink.h"
#include "lib/conffile.h"
#include "lib/journal.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#define BUNDLE_CRASHES_MAX 20 /* crashes a bundle describes */
#define CRASH_JSON_FRAMES 16  /* top frames of the crashing thread in crashes.json */
#define LIMIT_REMEDY                                                                                              \
        "systemctl edit UNIT -> [Service] LimitCORE=infinity (or a size, e.g. 2G), then systemctl restart UNIT; "   \
        "started from a shell: ulimit -c 2097152 before starting it. Reset it after debugging (ulimit -c 0; "     \
        "remove the drop-in): cores fill the disk (LavinMQ guide, \"Enabling Core Dumps\")"

static const struct check_info checks[] = {
        {"coredump.component_crash", "No component crashed",
         "A component (lavinmq, cerebellar-norse, an EVO module, the vGPU mediator: [coredump]\n"
         "components) dumped core inside the window ([coredump] window, or the bundle's --since).\n"
         "Sources: systemd-coredump's journal records (MESSAGE_ID fc2e22bc6ee647b6b90729ab34a250b1,\n"
         "only those written by root or the systemd-coredump user: anyone can log a forged one),\n"
         "and core files in /var/lib/systemd/coredump, where kernel.core_pattern writes, and in\n"
         "[coredump] core_dirs. A crash counts as the component's when its command or executable\n"
         "is named like it AND it ran as root or the component's service user (a user's own\n"
         "program called lavinmq is not the service: that is coredump.crash).\n"
         "The finding names the signal and the crashing thread's top frames; the bundle holds\n"
         "every thread's symbolized backtrace (function, module+offset, file:line where DWARF\n"
         "has it), made from the core alone with libdwfl in a sandboxed child, as systemd-coredump\n"
         "and eu-stack --core make it (at most 64 threads x 64 frames, 1 MiB of text per core).\n"
         "No crash found is info, not ok, where a crash would not have shown: core_pattern relative\n"
         "(cores in each process's cwd; only running components' cwds are searched), piped to another\n"
         "helper, or empty, without [coredump] core_dirs.\n"
         "Crit. Fix: read the backtrace (evodiag bundle; coredumpctl info NAME; coredumpctl gdb NAME\n"
         "then bt), report it to the component's maintainers with the bundle."},
        {"coredump.crash", "No other process crashed",
         "A process that is not a component dumped core inside the window (same sources as\n"
         "coredump.component_crash). Warn: it may be a helper the components rely on, or a\n"
         "symptom of the same cause (memory, a bad library). Info for a file that looks like a\n"
         "core by its name but is not one (not ELF, or an ELF file that is not a core).\n"
         "Fix: coredumpctl info PID; remove old cores once read (coredumpctl, or rm)."},
        {"coredump.cores_lost", "The next crash leaves a core",
         "Whether a crash now would leave evidence: kernel.core_pattern (/proc/sys/kernel/\n"
         "core_pattern) empty; piping to a helper that is not installed; piping to\n"
         "systemd-coredump while its socket (/run/systemd/coredump) is absent; a component\n"
         "process whose soft RLIMIT_CORE is 0 (/proc/PID/limits, \"Max core file size\": the\n"
         "kernel writes no file, and systemd-coredump honours the limit and keeps only the\n"
         "record); a component unit with LimitCORE=0; a relative core_pattern and a component whose\n"
         "working directory its user cannot write (/, systemd's default). Warn; info when the\n"
         "pattern is relative and no component runs to show where its core would go.\n"
         "Fix: systemctl edit UNIT -> [Service] LimitCORE=infinity; from a shell ulimit -c 2097152\n"
         "before starting; then reproduce. Afterwards reset it (ulimit -c 0) so cores do not\n"
         "fill the disk (LavinMQ guide)."},
        {"coredump.storage", "Core storage has room",
         "The file systems holding cores (/var/lib/systemd/coredump, core_pattern's directory,\n"
         "[coredump] core_dirs): warn when one is [coredump] storage_warn_pct % full or more, or\n"
         "when cores older than the window take [coredump] old_cores_warn_size or more (they\n"
         "were read, or never will be, and the next core may not fit).\n"
         "Fix: coredumpctl list; remove old cores (rm /var/lib/systemd/coredump/core.*, or\n"
         "systemd-tmpfiles --clean); bound them in /etc/systemd/coredump.conf (MaxUse=, KeepFree=).",
         .live = true},
        {0},
};

static const struct config_key config[] = {
        CONF_DURATION("window", "24h", "how far back a crash counts (check; a bundle uses its --since)"),
        CONF_LIST("components", "lavinmq,cerebellar-norse,evo,evo_control_unit,evo_hal,evo_mqt,evo_rpc,evo_re,"
                                "vgpu-mediator,mediator",
                  "process names (comm or executable's base name) that are components"),
        CONF_UINT("backtraces", "3", 0, 32, "how many of the newest cores are symbolized"),
        CONF_SIZE("max_core_size", "4G", "a compressed core expanding past this is not decompressed"),
        CONF_DURATION("parse_timeout", "20s", "deadline of one core's decompression and parse"),
        CONF_STR("tmp_dir", "/var/tmp", "where a decompressed core goes (a private, unnamed temp file)"),
        CONF_LIST("core_dirs", "", "more directories holding plain core files"),
        CONF_PCT("storage_warn_pct", "90", "warn when a core file system is this % full"),
        CONF_SIZE("old_cores_warn_size", "1G", "warn when cores older than the window take this much"),
        {0},
};

static void split_paths(const char *list, char **out)
{
        size_t n = 0;
        if (list) {
                _cleanup_free_ char *l = xstrdup(list);
                char *save = NULL;
                for (char *w = strtok_r(l, ",", &save); w && n < CD_JOURNAL_PATHS_MAX; w = strtok_r(NULL, ",", &save))
                        if (*strstrip(w))
                                out[n++] = xstrdup(strstrip(w));
        }
        out[n] = NULL;
}

void cd_journal_opts(const struct cd_journal_src *src, struct journal_opts *jo)
{
        *jo = (struct journal_opts){0};
        if (src && src->dirs[0])
                jo->dirs = (const char *const *)src->dirs;
        if (src && src->files[0])
                jo->files = (const char *const *)src->files;
}

void cd_journal_src_free(struct cd_journal_src *src)
{
        for (size_t i = 0; src->dirs[i]; i++)
                free(src->dirs[i]);
        for (size_t i = 0; src->files[i]; i++)
                free(src->files[i]);
        *src = (struct cd_journal_src){0};
}

void cd_opts(const struct ctx *c, struct cd_scan_opts *o, struct cd_journal_src *src)
{
        const struct config_entry *d = c->cfg ? config_get(c->cfg, "journal", "dirs") : NULL;
        const struct config_entry *f = c->cfg ? config_get(c->cfg, "journal", "files") : NULL;
        split_paths(d ? d->value : NULL, src->dirs);
        split_paths(f ? f->value : NULL, src->files);
        uint64_t win = 0, pt = 0, max = 0;
        (void)parse_duration_ms(conf_str(c, "window"), &win);
        (void)parse_duration_ms(conf_str(c, "parse_timeout"), &pt);
        (void)parse_size(conf_str(c, "max_core_size"), &max);
        uint64_t now = now_ms_realtime();
        *o = (struct cd_scan_opts){
                .since_us = (now > win ? now - win : 0) * 1000u,
                .deadline_ms = c->deadline_ms ? c->deadline_ms : now_ms_monotonic() + 60000,
                .backtraces = (size_t)conf_uint(c, "backtraces"),
                .max_size = max,
                .parse_timeout_ms = pt,
                .tmp_dir = conf_str(c, "tmp_dir"),
                .core_dirs = conf_str(c, "core_dirs"),
                .components = conf_str(c, "components"),
                .journal = src,
        };
}

static bool coredump_detect(struct ctx *c)
{
        return rootfs_exists("/proc/sys/kernel/core_pattern") || rootfs_exists(CD_SYSTEMD_DIR);
}

/* ---- crashes ---- */

static const char *when(uint64_t us, char buf[static 32])
{
        time_t t = (time_t)(us / 1000000u);
        struct tm tm;
        if (!us || !gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
                snprintf(buf, 32, "an unknown time");
        return buf;
}

/* "lavinmq (pid 123, uid 0)" */
static void crash_subject(const struct cd_crash *c, struct strbuf *sb)
{
        /* Nothing names the process (a truncated core without its notes): the file does. */
        sb_printf(sb, "%s", c->rec.comm ? c->rec.comm : c->rec.exe ? c->rec.exe : c->core_path ? c->core_path : "unknown process");
        if (c->rec.pid)
                sb_printf(sb, " pid %d", c->rec.pid);
}

static bool not_a_core(const struct cd_crash *c)
{
        return c->bt.not_core && !c->from_journal;
}

static void crash_finding(struct findings *fs, const struct cd_crash *c)
{
        struct strbuf subj = {0}, top = {0};
        crash_subject(c, &subj);
        char sb[16], tb[32];
        const char *sig = c->rec.signal ? cd_signal_name(c->rec.signal, sb) : "an unknown signal";
        if (c->bt.nthreads && c->bt.threads[0].nframes)
                cd_bt_top(&c->bt, CD_TOP_FRAMES, &top);
        else if (c->message_top)
                sb_printf(&top, "%s (from systemd-coredump's record)", c->message_top);
        else if (c->bt.error)
                sb_printf(&top, "no backtrace: %s", c->bt.error);
        else if (c->core_why)
                sb_printf(&top, "no core: %s", c->core_why);
        else
                sb_puts(&top, "not symbolized (only the newest [coredump] backtraces cores are)");
        struct finding *f;
        if (c->component)
                f = fnd_add(fs, SEV_CRIT, "coredump.component_crash", "%s (%s) crashed with %s at %s: %s", c->component,
                            subj.s, sig, when(c->rec.time_us, tb), top.s);
        else
                f = fnd_add(fs, SEV_WARN, "coredump.crash", "%s crashed with %s at %s%s: %s", subj.s, sig,
                            when(c->rec.time_us, tb), c->impostor ? " (named like a component, run by another user)" : "",
                            top.s);
        fnd_subject(f, "%s", subj.s);
        fnd_expected(f, "no crash in the window");
        char ub[16];
        snprintf(ub, sizeof(ub), "%u", (unsigned)c->rec.uid);
        fnd_actual(f, "%s%s%s%s%s, uid %s", sig, c->rec.exe ? ", executable " : "", c->rec.exe ? c->rec.exe : "",
                   c->rec.unit ? ", unit " : "", c->rec.unit ? c->rec.unit : "", c->rec.have_uid ? ub : "unknown");
        if (c->rec.pid && c->from_journal)
                fnd_remedy(f, "coredumpctl info %d; coredumpctl gdb %d, then bt full and thread apply all bt", c->rec.pid,
                           c->rec.pid);
        else if (c->core_path)
                fnd_remedy(f, "eu-stack --core %s (or gdb EXECUTABLE %s, then thread apply all bt)", c->core_path,
                           c->core_path);
        if (c->from_journal)
                fnd_evidence(f, "journal record %s%s%s", CD_MESSAGE_ID, c->core_path ? ", " : "",
                             c->core_path ? c->core_path : "");
        else
                fnd_evidence(f, "%s", c->core_path ? c->core_path : "?");
        sb_free(&subj);
        sb_free(&top);
}

#define BLIND_REMEDY                                                                                              \
        "apt-get install systemd-coredump (crashes become journal records, cores go to /var/lib/systemd/coredump), "  \
        "or an absolute pattern: mkdir -p /var/crash && sysctl -w kernel.core_pattern=/var/crash/core.%e.%p "       \
        "(persist it in /etc/sysctl.d/), or name the directories cores go to in [coredump] core_dirs"

/* Would a crash in the window have left something evodiag read? Where core_pattern sends
 * cores decides which source records one: systemd-coredump's journal records and its
 * directory, the pattern's absolute directory, [coredump] core_dirs; for components also
 * the working directories of the running ones (a relative pattern). When not, *blind
 * says where a crash would have gone unseen. */
static bool crash_covered(const struct cd_scan *s, bool component, struct strbuf *blind)
{
        bool cwd = false, configured = false, pattern_dir = false, systemd_dir = false;
        for (size_t i = 0; i < s->ndirs; i++) {
                const struct cd_dir *d = &s->dirs[i];
                if (!d->exists)
                        continue;
                cwd |= d->from == CD_DIR_CWD;
                configured |= d->from == CD_DIR_CONFIGURED;
                pattern_dir |= d->from == CD_DIR_PATTERN;
                systemd_dir |= d->from == CD_DIR_SYSTEMD;
        }
        if (configured)
                return true; /* the operator named where cores go */
        const struct cd_pattern *p = &s->pattern;
        const char *pt = s->pattern_text ? s->pattern_text : "";
        if (s->pattern_err)
                return s->journal_read || systemd_dir || cwd; /* where cores go is not known: what was read */
        switch (p->kind) {
        case CD_PAT_SYSTEMD:
                if (s->journal_read || systemd_dir)
                        return true;
                sb_printf(blind, "kernel.core_pattern pipes to systemd-coredump, but neither its journal records nor %s "
                                 "can be read: a crash would go unseen", CD_SYSTEMD_DIR);
                return false;
        case CD_PAT_PIPE:
                sb_printf(blind, "kernel.core_pattern pipes cores to %s, whose records evodiag does not read: a crash there "
                                 "would go unseen", p->helper);
                return false;
        case CD_PAT_EMPTY:
                sb_puts(blind, "kernel.core_pattern is empty: the kernel writes no core, so a crash leaves nothing to find");
                return false;
        case CD_PAT_FILE:
                if (p->dir && pattern_dir)
                        return true;
                if (p->dir)
                        sb_printf(blind, "kernel.core_pattern '%s' writes into %s, which cannot be listed here", pt, p->dir);
                else if (component && cwd)
                        return true;
                else if (p->relative)
                        sb_printf(blind, "kernel.core_pattern '%s' is relative: cores land in each crashing process's "
                                         "working directory, which %s",
                                  pt, !component ? "is not searched"
                                      : s->cwd_note ? "is searched only for components running now, and theirs could not be"
                                                    : "is searched only for components running now (none runs here)");
                else
                        sb_printf(blind, "kernel.core_pattern '%s' writes into a directory that depends on the crashing process, "
                                         "which is not searched", pt);
                if (component && s->cwd_note)
                        sb_printf(blind, " (%s)", s->cwd_note);
                return false;
        }
        return false;
}

static void no_crash_finding(struct findings *fs, const char *id, const char *what, bool covered, const char *blind,
                             const char *since, const char *src)
{
        struct finding *f;
        if (covered) {
                f = fnd_add(fs, SEV_OK, id, "%s since %s", what, since);
        } else {
                f = fnd_add(fs, SEV_INFO, id, "no crash found, but not every crash would show: %s", blind ? blind : "?");
                fnd_expected(f, "a source that records every crash (systemd-coredump, or an absolute core_pattern) read");
                fnd_actual(f, "read: %s", src);
                fnd_remedy(f, "%s", BLIND_REMEDY);
        }
        fnd_evidence(f, "%s, /proc/sys/kernel/core_pattern", src);
}

static void check_crashes(struct cd_scan *s, struct findings *fs)
{
        size_t comp = 0, other = 0, odd = 0;
        for (size_t i = 0; i < s->n; i++) {
                const struct cd_crash *c = &s->v[i];
                if (c->rec.time_us < s->since_us)
                        continue;
                if (not_a_core(c)) {
                        struct finding *f = fnd_add(fs, SEV_INFO, "coredump.crash", "%s is named like a core but is not one: %s",
                                                    c->core_path, c->bt.error ? c->bt.error : "?");
                        fnd_subject(f, "%s", c->core_path);
                        fnd_evidence(f, "%s", c->core_path);
                        fnd_remedy(f, "file %s; remove it if nothing needs it", c->core_path);
                        odd++;
                        continue;
                }
                crash_finding(fs, c);
                if (c->component)
                        comp++;
                else
                        other++;
        }
        struct strbuf src = {0};
        if (s->journal_read)
                sb_puts(&src, "journal records of systemd-coredump");
        else
                sb_printf(&src, "no journal records (%s)", s->journal_why ? s->journal_why : "?");
        for (size_t i = 0; i < s->ndirs; i++)
                sb_printf(&src, ", %s%s%s%s%s", s->dirs[i].path, s->dirs[i].cwd_of ? " (working directory of " : "",
                          s->dirs[i].cwd_of ? s->dirs[i].cwd_of : "", s->dirs[i].cwd_of ? ")" : "",
                          s->dirs[i].exists ? "" : s->dirs[i].error ? " (unreadable)" : " (absent)");
        char wb[32];
        /* Nothing to look at (no journal, no core directory readable): not "no crash". */
        bool seen = s->journal_read, dir_error = false;
        for (size_t i = 0; i < s->ndirs; i++) {
                seen |= s->dirs[i].exists;
                dir_error |= s->dirs[i].error != NULL;
        }
        struct strbuf blind[2] = {{0}, {0}};
        bool covered[2] = {crash_covered(s, true, &blind[0]), crash_covered(s, false, &blind[1])};
        if (!seen && !comp && !other && !odd) {
                static const char *const ids[] = {"coredump.component_crash", "coredump.crash"};
                for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                        struct finding *f = fnd_add(fs, dir_error ? SEV_UNKNOWN : SEV_SKIPPED, ids[i],
                                                    "no crash record or core can be seen here: %s%s%s", src.s,
                                                    blind[i].len ? "; " : "", blind[i].len ? blind[i].s : "");
                        fnd_remedy(f, "%s", BLIND_REMEDY);
                        fnd_evidence(f, "%s", src.s);
                }
                goto out;
        }
        if (!comp)
                no_crash_finding(fs, "coredump.component_crash", "no component crashed", covered[0], blind[0].s,
                                 when(s->since_us, wb), src.s);
        if (!other && !odd)
                no_crash_finding(fs, "coredump.crash", "no other crash", covered[1], blind[1].s, when(s->since_us, wb), src.s);
        if (s->untrusted) {
                struct strbuf u = {0};
                for (size_t i = 0; i < s->nuntrusted_uids; i++)
                        sb_printf(&u, "%s%u", i ? ", " : "", s->untrusted_uids[i]);
                struct finding *f = fnd_add(fs, SEV_INFO, "coredump.crash",
                                            "%zu coredump record(s) not written by systemd-coredump ignored (written by uid %s)",
                                            s->untrusted, u.len ? u.s : "unknown");
                fnd_subject(f, "forged records");
                fnd_evidence(f, "journal, MESSAGE_ID=%s, _UID", CD_MESSAGE_ID);
                sb_free(&u);
        }
out:
        sb_free(&blind[0]);
        sb_free(&blind[1]);
        sb_free(&src);
}

/* ---- cores lost ---- */

/* The last LimitCORE= of a unit and its drop-ins, in systemd's order of directories
 * (/etc over /run over /lib); NULL when none sets it. */
static char *unit_limit_core(const char *unit, char **where)
{
        static const char *const dirs[] = {"/lib/systemd/system", "/usr/lib/systemd/system", "/run/systemd/system",
                                           "/etc/systemd/system"};
        char *val = NULL;
        for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
                for (int dropin = 0; dropin < 2; dropin++) {
                        _cleanup_free_ char *path = dropin ? xasprintf("%s/%s.d", dirs[d], unit)
                                                           : xasprintf("%s/%s", dirs[d], unit);
                        char *files[32];
                        size_t nf = 0;
                        if (!dropin) {
                                files[nf++] = xstrdup(path);
                        } else {
                                struct rootfs_dir *rd = rootfs_opendir(path);
                                struct dirent *de;
                                while (rd && (de = rootfs_readdir(rd)) && nf < ARRAY_SIZE(files))
                                        if (strlen(de->d_name) > 5 && streq(de->d_name + strlen(de->d_name) - 5, ".conf"))
                                                files[nf++] = xasprintf("%s/%s", path, de->d_name);
                                if (rd)
                                        rootfs_closedir(rd);
                        }
                        for (size_t i = 0; i < nf; i++) {
                                _cleanup_free_ char *text = NULL;
                                if (rootfs_read(files[i], 256 << 10, &text, NULL) >= 0) {
                                        size_t pos = 0;
                                        char *line;
                                        while ((line = next_line(text, &pos))) {
                                                line = strstrip(line);
                                                if (startswith(line, "LimitCORE=")) {
                                                        free(val);
                                                        val = xstrdup(strstrip(line + 10));
                                                        free(*where);
                                                        *where = xstrdup(files[i]);
                                                }
                                        }
                                }
                                free(files[i]);
                        }
                }
        }
        return val;
}

static void lost_finding(struct findings *fs, const char *subject, const char *remedy, const char *evidence,
                         const char *msg)
{
        struct finding *f = fnd_add(fs, SEV_WARN, "coredump.cores_lost", "%s", msg);
        fnd_subject(f, "%s", subject);
        fnd_expected(f, "a crash leaves a core");
        if (remedy)
                fnd_remedy(f, "%s", remedy);
        fnd_evidence(f, "%s", evidence);
}

#define RELATIVE_REMEDY                                                                                           \
        "mkdir -p /var/crash && sysctl -w kernel.core_pattern=/var/crash/core.%e.%p (persist it in /etc/sysctl.d/), "  \
        "or apt-get install systemd-coredump; or give the unit a WorkingDirectory= its user can write"

/* A relative core_pattern: the kernel writes the core into the crashing process's
 * working directory as the process's fsuid, so a service user whose cwd is / (systemd's
 * default) or another directory it cannot write loses every core. Warns only where it
 * is certain: not root, not the owner with write permission, not group- or
 * world-writable. */
static size_t check_cwd_writable(const struct cd_scan *s, const char *w, int pid, const struct trust_proc *tp,
                                 struct findings *fs)
{
        char link[64];
        snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
        _cleanup_free_ char *cwd = NULL;
        struct stat st;
        if (!tp->uids_known || tp->uid[3] == 0 || rootfs_readlink(link, &cwd) < 0 || cwd[0] != '/' ||
            rootfs_stat(cwd, &st, true) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        bool can = (st.st_uid == tp->uid[3] && (st.st_mode & S_IWUSR)) || (st.st_mode & (S_IWGRP | S_IWOTH));
        if (can)
                return 0;
        _cleanup_free_ char *subj = xasprintf("%s pid %d", w, pid);
        _cleanup_free_ char *msg = xasprintf("%s pid %d runs in %s, which its uid %u cannot write (owner uid %u, mode %04o): "
                                             "with kernel.core_pattern '%s' (relative) its crash writes no core",
                                             w, pid, cwd, tp->uid[3], (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                                             s->pattern_text ? s->pattern_text : "");
        _cleanup_free_ char *ev = xasprintf("/proc/sys/kernel/core_pattern, %s -> %s, /proc/%d/status", link, cwd, pid);
        lost_finding(fs, subj, RELATIVE_REMEDY, ev, msg);
        return 1;
}

static size_t check_component_limits(struct cd_scan *s, const char *components, struct findings *fs, size_t *nseen)
{
        size_t warned = 0, seen = 0;
        struct proctable t;
        if (proctable_load(&t) < 0)
                return 0;
        _cleanup_free_ char *list = xstrdup(components);
        char *save = NULL;
        for (char *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
                struct trust tr;
                trust_init(&tr, w, w);
                for (size_t i = 0; i < t.n && seen < 256; i++) {
                        const struct proc *p = &t.v[i];
                        if (p->kthread || p->state == 'Z' || !component_named(p, w))
                                continue;
                        struct trust_proc tp;
                        if (!trust_process(&tr, p->pid, &tp))
                                continue; /* an impostor's limits say nothing about the component */
                        seen++;
                        if (s->pattern.kind == CD_PAT_FILE && s->pattern.relative)
                                warned += check_cwd_writable(s, w, p->pid, &tp, fs);
                        char path[64];
                        snprintf(path, sizeof(path), "/proc/%d/limits", p->pid);
                        _cleanup_free_ char *text = NULL;
                        uint64_t soft, hard;
                        if (rootfs_read(path, 64 << 10, &text, NULL) < 0 ||
                            limits_get(text, "Max core file size", &soft, &hard) < 0 || soft != 0)
                                continue;
                        bool piped = s->pattern.kind == CD_PAT_SYSTEMD;
                        _cleanup_free_ char *subj = xasprintf("%s pid %d", w, p->pid);
                        _cleanup_free_ char *msg = xasprintf(
                                "%s pid %d runs with RLIMIT_CORE 0 (ulimit -c 0): %s", w, p->pid,
                                piped ? "systemd-coredump keeps only the record, no core" : "a crash writes no core");
                        lost_finding(fs, subj, LIMIT_REMEDY, path, msg);
                        warned++;
                }
                /* The unit's own setting, even when the component is not running now. */
                _cleanup_free_ char *unit = xasprintf("%s.service", w), *where = NULL;
                _cleanup_free_ char *lc = unit_limit_core(unit, &where);
                if (lc && (streq(lc, "0") || streq(lc, "0:0") || startswith(lc, "0:"))) {
                        _cleanup_free_ char *msg = xasprintf("%s sets LimitCORE=%s: the component's crashes leave no core", unit, lc);
                        lost_finding(fs, unit, LIMIT_REMEDY, where, msg);
                        warned++;
                }
                trust_free(&tr);
        }
        proctable_free(&t);
        *nseen = seen;
        return warned;
}

static void check_lost(struct cd_scan *s, const char *components, struct findings *fs)
{
        const char *ev = "/proc/sys/kernel/core_pattern";
        if (s->pattern_err) {
                struct finding *f = fnd_add(fs, SEV_UNKNOWN, "coredump.cores_lost", "cannot read %s: %s", ev,
                                            s->pattern_err == -EINVAL ? "not a core pattern" : rootfs_strerror(s->pattern_err));
                fnd_evidence(f, "%s", ev);
                return;
        }
        size_t warned = 0;
        const struct cd_pattern *p = &s->pattern;
        if (p->kind == CD_PAT_EMPTY) {
                lost_finding(fs, "core_pattern", "sysctl -w kernel.core_pattern=core (or install systemd-coredump)", ev,
                             "kernel.core_pattern is empty: the kernel writes no core at all");
                warned++;
        } else if ((p->kind == CD_PAT_SYSTEMD || p->kind == CD_PAT_PIPE) && !rootfs_exists(p->helper)) {
                _cleanup_free_ char *m = xasprintf("kernel.core_pattern pipes to %s, which is not installed: cores are lost",
                                                   p->helper);
                lost_finding(fs, "core_pattern",
                             p->kind == CD_PAT_SYSTEMD ? "apt-get install systemd-coredump" : "install the helper, or sysctl -w kernel.core_pattern=core",
                             ev, m);
                warned++;
        } else if (p->kind == CD_PAT_SYSTEMD && !rootfs_exists("/run/systemd/coredump")) {
                lost_finding(fs, "core_pattern", "systemctl enable --now systemd-coredump.socket", "/run/systemd/coredump",
                             "kernel.core_pattern pipes to systemd-coredump, but its socket /run/systemd/coredump "
                                   "is absent (systemd-coredump.socket not running): cores are lost");
                warned++;
        } else if (p->kind == CD_PAT_FILE && p->dir) {
                struct stat st;
                int r = rootfs_stat(p->dir, &st, true);
                if (r == -ENOENT || (r == 0 && !S_ISDIR(st.st_mode))) {
                        _cleanup_free_ char *m = xasprintf("kernel.core_pattern writes into %s, which %s: a crash writes no core",
                                                           p->dir, r < 0 ? "does not exist" : "is not a directory");
                        _cleanup_free_ char *rem = xasprintf("mkdir -p %s (writable by the components' users), or "
                                                             "apt-get install systemd-coredump", p->dir);
                        lost_finding(fs, "core_pattern", rem, ev, m);
                        warned++;
                }
        }
        size_t procs = 0;
        warned += check_component_limits(s, components, fs, &procs);
        if (!warned && p->kind == CD_PAT_FILE && p->relative && !procs) {
                _cleanup_free_ char *m = xasprintf(
                        "kernel.core_pattern '%s' is relative: a crash writes its core into the crashing process's working "
                        "directory, and no component runs now to show that it can write there (systemd starts services in /, "
                        "which a service user cannot write: such a crash leaves no core)", s->pattern_text ? s->pattern_text : "");
                struct finding *f = fnd_add(fs, SEV_INFO, "coredump.cores_lost", "%s", m);
                fnd_subject(f, "core_pattern");
                fnd_expected(f, "an absolute core_pattern or systemd-coredump: a core is written whatever the working directory");
                fnd_remedy(f, "%s", RELATIVE_REMEDY);
                fnd_evidence(f, "%s, /proc/PID/cwd of the components", ev);
                return;
        }
        if (!warned) {
                char lim[96];
                if (procs)
                        snprintf(lim, sizeof(lim), "none of the %zu component processes runs with RLIMIT_CORE 0", procs);
                else
                        snprintf(lim, sizeof(lim), "no component process runs now (their limits are checked while they run)");
                const char *how = p->kind == CD_PAT_SYSTEMD ? "systemd-coredump" : p->kind == CD_PAT_PIPE ? p->helper : NULL;
                struct finding *f;
                if (how)
                        f = fnd_add(fs, SEV_OK, "coredump.cores_lost", "cores go to %s; %s", how, lim);
                else
                        f = fnd_add(fs, SEV_OK, "coredump.cores_lost", "cores are written to %s%s%s; %s",
                                    p->dir ? p->dir : p->relative ? "the crashing process's working directory"
                                                                  : "a directory that depends on the crashing process",
                                    p->dir && !streq(p->dir, "/") ? "/" : "", p->dir ? p->prefix : "", lim);
                fnd_evidence(f, "%s, /proc/PID/limits of the components", ev);
        }
}

/* ---- storage ---- */

static void check_storage(const struct ctx *ctx, struct cd_scan *s, struct findings *fs)
{
        double warn_pct = conf_num(ctx, "storage_warn_pct");
        uint64_t old_max = 0;
        (void)parse_size(conf_str(ctx, "old_cores_warn_size"), &old_max);
        size_t checked = 0;
        for (size_t i = 0; i < s->ndirs; i++) {
                struct cd_dir *d = &s->dirs[i];
                if (!d->exists)
                        continue;
                char b1[32], b2[32];
                struct finding *f;
                _cleanup_close_ int fd = rootfs_open(d->path, O_RDONLY | O_DIRECTORY);
                struct statvfs sv;
                if (fd < 0 || fstatvfs(fd, &sv) < 0 || !sv.f_blocks) {
                        f = fnd_add(fs, SEV_UNKNOWN, "coredump.storage", "cannot see how full %s's file system is", d->path);
                        fnd_subject(f, "%s", d->path);
                        fnd_evidence(f, "statvfs %s", d->path);
                        continue;
                }
                checked++;
                double used = 100.0 * (double)(sv.f_blocks - sv.f_bfree) / (double)sv.f_blocks;
                uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
                if (used >= warn_pct)
                        f = fnd_add(fs, SEV_WARN, "coredump.storage", "%s is on a file system %.0f%% full (%s free): the next core may not fit",
                                    d->path, used, fmt_bytes(avail, b1));
                else if (d->old_bytes >= old_max && d->old_files)
                        f = fnd_add(fs, SEV_WARN, "coredump.storage", "%zu cores older than the window take %s in %s",
                                    d->old_files, fmt_bytes(d->old_bytes, b1), d->path);
                else
                        f = fnd_add(fs, SEV_OK, "coredump.storage", "%s: %zu core files, %s; file system %.0f%% full", d->path, d->files,
                                    fmt_bytes(d->bytes, b2), used);
                fnd_subject(f, "%s", d->path);
                fnd_expected(f, "file system below %.0f%% full; old cores below %s", warn_pct, fmt_bytes(old_max, b1));
                fnd_actual(f, "%.0f%% full, %zu cores (%s), %zu older than the window (%s)%s", used, d->files,
                           fmt_bytes(d->bytes, b2), d->old_files, fmt_bytes(d->old_bytes, b1),
                           d->cut ? "; listing cut at 10000 files" : "");
                if (f->sev == SEV_WARN)
                        fnd_remedy(f, "coredumpctl list; rm the cores already read from %s; bound them with MaxUse= and KeepFree= "
                                      "in /etc/systemd/coredump.conf",
                                   d->path);
                fnd_evidence(f, "%s (listing, statvfs)", d->path);
        }
        if (!checked)
                fnd_add(fs, SEV_SKIPPED, "coredump.storage", "no core directory exists here (%s absent)", CD_SYSTEMD_DIR);
}

static void coredump_check(struct ctx *c, struct findings *fs)
{
        struct cd_scan_opts o;
        struct cd_journal_src src;
        cd_opts(c, &o, &src);
        struct cd_scan s;
        cd_scan(&s, &o);
        check_crashes(&s, fs);
        check_lost(&s, o.components, fs);
        check_storage(c, &s, fs);
        cd_scan_free(&s);
        cd_journal_src_free(&src);
}

/* ---- bundle ---- */

static json_object *crash_json(const struct cd_crash *c)
{
        json_object *o = json_object_new_object();
#define S(k, v) if (v) json_object_object_add(o, k, json_object_new_string(v))
        S("component", c->component);
        S("comm", c->rec.comm);
        S("exe", c->rec.exe);
        S("unit", c->rec.unit);
        S("cmdline", c->rec.cmdline);
        S("core", c->core_path);
        S("no_core", c->core_why);
        S("journal_cursor", c->rec.cursor);
        S("backtrace_error", c->bt.error);
#undef S
        json_object_object_add(o, "pid", json_object_new_int(c->rec.pid));
        json_object_object_add(o, "signal", json_object_new_int(c->rec.signal));
        if (c->rec.have_uid)
                json_object_object_add(o, "uid", json_object_new_int64(c->rec.uid));
        json_object_object_add(o, "time_us", json_object_new_uint64(c->rec.time_us));
        /* What ISSUE.md's crash section shows (templates/README.md: process, pid, signal,
         * time, frames[]): the names, and the crashing thread's top frames as text. */
        char sb[16], tb[32];
        json_object_object_add(o, "process", json_object_new_string(c->rec.comm ? c->rec.comm : c->rec.exe ? c->rec.exe : "?"));
        json_object_object_add(o, "signal_name", json_object_new_string(c->rec.signal ? cd_signal_name(c->rec.signal, sb) : "unknown"));
        json_object_object_add(o, "time", json_object_new_string(when(c->rec.time_us, tb)));
        json_object *fr = json_object_new_array();
        if (c->bt.nthreads)
                for (size_t k = 0; k < c->bt.threads[0].nframes && k < CRASH_JSON_FRAMES; k++) {
                        struct strbuf f = {0};
                        sb_printf(&f, "#%zu ", k);
                        cd_frame_format(&c->bt.threads[0].frames[k], &f);
                        json_object_array_add(fr, json_object_new_string(f.s));
                        sb_free(&f);
                }
        else if (c->message_top)
                json_object_array_add(fr, json_object_new_string(c->message_top));
        json_object_object_add(o, "frames", fr);
        json_object_object_add(o, "core_size", json_object_new_uint64(c->core_size));
        json_object *m = json_object_new_array();
        for (size_t i = 0; i < c->bt.nmodules; i++) {
                json_object *mo = json_object_new_object();
                json_object_object_add(mo, "name", json_object_new_string(c->bt.modules[i].name ? c->bt.modules[i].name : "?"));
                if (c->bt.modules[i].build_id)
                        json_object_object_add(mo, "build_id", json_object_new_string(c->bt.modules[i].build_id));
                json_object_array_add(m, mo);
        }
        json_object_object_add(o, "modules", m);
        json_object_object_add(o, "threads", json_object_new_uint64(c->bt.threads_total));
        return o;
}

static void coredump_collect(struct ctx *c, struct bundle_sink *sink)
{
        struct cd_scan_opts o;
        struct cd_journal_src src;
        cd_opts(c, &o, &src);
        if (sink->since_ms)
                o.since_us = sink->since_ms * 1000u;
        struct cd_scan s;
        cd_scan(&s, &o);
        json_object *all = json_object_new_array();
        size_t n = 0;
        for (size_t i = 0; i < s.n && n < BUNDLE_CRASHES_MAX; i++) {
                struct cd_crash *cr = &s.v[i];
                if (cr->rec.time_us < o.since_us)
                        continue;
                n++;
                json_object_array_add(all, crash_json(cr));
                if (!cr->bt_done)
                        continue;
                struct strbuf t = {0};
                char sb[16], tb[32];
                sb_printf(&t, "Crash of %s (pid %d) with %s at %s\nExecutable: %s\nCore: %s\n\n",
                          cr->rec.comm ? cr->rec.comm : "?", cr->rec.pid,
                          cr->rec.signal ? cd_signal_name(cr->rec.signal, sb) : "an unknown signal", when(cr->rec.time_us, tb),
                          cr->rec.exe ? cr->rec.exe : "?", cr->core_path ? cr->core_path : "none");
                cd_bt_format(&cr->bt, &t);
                _cleanup_free_ char *name = xasprintf("backtrace-%zu-pid%d.txt", n, cr->rec.pid);
                sink_text(sink, name, "derived", cr->core_path ? cr->core_path : "journal", t.s, t.len);
                sb_free(&t);
                if (sink->include_cores && cr->core_path) {
                        _cleanup_free_ char *cn = xasprintf("core-%zu-pid%d%s", n, cr->rec.pid,
                                                            cr->comp == CD_ZST ? ".zst" : cr->comp == CD_LZ4 ? ".lz4"
                                                            : cr->comp == CD_XZ ? ".xz" : "");
                        /* A cut core is of no use to gdb: one past the budget is left out, and said. */
                        if (cr->core_size > sink->artifact_max) {
                                char b1[32], b2[32];
                                _cleanup_free_ char *why = xasprintf("the core (%s) is larger than --artifact-max (%s): raise "
                                                                     "--artifact-max and --max-size to include it",
                                                                     fmt_bytes(cr->core_size, b1), fmt_bytes(sink->artifact_max, b2));
                                sink_missing(sink, cn, "core", cr->core_path, "skipped", why);
                        } else {
                                sink_binary(sink, cn, "core", cr->core_path);
                        }
                }
        }
        sink_json(sink, "crashes.json", "derived", "journal records and core files", all);
        json_object_put(all);
        cd_scan_free(&s);
        cd_journal_src_free(&src);
}

const struct collector coredump_collector = {
        .name = "coredump",
        .summary = "crashes: which component, which signal, every thread's backtrace; will the next one leave a core",
        .needs = SLOW,
        .checks = checks,
        .config = config,
        .detect = coredump_detect,
        .absent = "no /proc/sys/kernel/core_pattern and no /var/lib/systemd/coredump (a copy of a host without /proc?)",
        .check = coredump_check,
        .collect = coredump_collect,
        .sample = coredump_sample,
        .sampled = (const char *const[]){"coredump.component_crash", "coredump.crash", NULL},
        .free_state = coredump_free_state,
};
