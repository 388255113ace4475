/* coredump collector: finding the crashes. systemd-coredump's journal records
 * (MESSAGE_ID fc2e22bc6ee647b6b90729ab34a250b1, read through lib/journal.h) and the
 * core files in /var/lib/systemd/coredump, in the directory kernel.core_pattern
 * writes to, and in the configured directories, joined by file name; which of them is
 * a component; and the symbolized backtraces of the newest ones. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/coredump_private.h"
#include "lib/journal.h"
#include "lib/proctable.h"
#include "lib/trust.h"
#include "lib/users.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>

#define RECORDS_MAX 10000 /* journal records read per run */
#define DIR_FILES_MAX 10000

void cd_crash_free(struct cd_crash *c)
{
        cd_record_free(&c->rec);
        free(c->core_path);
        free(c->core_why);
        free(c->component);
        free(c->message_top);
        cd_bt_free(&c->bt);
}

void cd_scan_free(struct cd_scan *s)
{
        for (size_t i = 0; i < s->n; i++)
                cd_crash_free(&s->v[i]);
        free(s->v);
        free(s->journal_why);
        free(s->untrusted_uids);
        free(s->pattern_text);
        free(s->cwd_note);
        for (size_t i = 0; i < s->ndirs; i++)
                free(s->dirs[i].path), free(s->dirs[i].error), free(s->dirs[i].cwd_of);
        free(s->dirs);
        cd_pattern_free(&s->pattern);
        *s = (struct cd_scan){0};
}

static struct cd_crash *add_crash(struct cd_scan *s)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 16;
                s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
        }
        struct cd_crash *c = &s->v[s->n++];
        *c = (struct cd_crash){0};
        return c;
}

/* ---- journal records ---- */

static int field_cb(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
        (void)cd_record_field(arg, name, nlen, val, vlen);
        return 0;
}

/* systemd-coredump writes its records as root, or as its own user (it drops to
 * "systemd-coredump" to process the core). Anyone else logging this MESSAGE_ID is
 * forging a crash. */
static bool writer_trusted(const struct cd_record *r, bool have_cd_uid, unsigned cd_uid)
{
        if (!r->have_entry_uid)
                return false;
        return r->entry_uid == 0 || (have_cd_uid && r->entry_uid == cd_uid);
}

bool cd_journal_crash(struct journal *j, const struct cd_writer *w, struct cd_crash *c, unsigned *bad_uid)
{
        *c = (struct cd_crash){0};
        (void)journal_fields(j, field_cb, &c->rec);
        if (!writer_trusted(&c->rec, w->have_uid, w->uid)) {
                *bad_uid = c->rec.have_entry_uid ? c->rec.entry_uid : (unsigned)-1;
                cd_record_free(&c->rec);
                return false;
        }
        if (!c->rec.time_us)
                c->rec.time_us = journal_realtime_us(j);
        c->rec.cursor = journal_cursor(j);
        c->from_journal = true;
        _cleanup_free_ char *msg = journal_field_dup(j, "MESSAGE");
        if (msg)
                c->message_top = cd_message_top(msg, CD_TOP_FRAMES);
        return true;
}

void cd_writer_init(struct cd_writer *w)
{
        _cleanup_users_ struct users *u = users_load();
        w->have_uid = u && users_uid(u, "systemd-coredump", &w->uid) == 0;
}

static void read_journal(struct cd_scan *s, const struct cd_scan_opts *o)
{
        struct journal_opts jo;
        cd_journal_opts(o->journal, &jo);
        _cleanup_journal_ struct journal *j = NULL;
        int r = journal_open(&jo, &j);
        if (r < 0) {
                s->journal_why = xasprintf("cannot open the journal: %s", strerror(-r));
                return;
        }
        if (!journal_usable(j)) {
                size_t nf;
                journal_files(j, &nf);
                s->journal_why = nf ? xasprintf("no journal file of %s could be read", journal_origin(j))
                                    : xasprintf("no journal files in %s", journal_origin(j));
                return;
        }
        s->journal_read = true;
        struct cd_writer wr = {0};
        cd_writer_init(&wr);
        struct journal_window w = {.since_us = o->since_us, .max_entries = RECORDS_MAX, .max_bytes = 64u << 20,
                                   .deadline_ms = o->deadline_ms};
        if (journal_match(j, "MESSAGE_ID", CD_MESSAGE_ID) < 0 || journal_seek(j, &w) < 0) {
                s->journal_why = xstrdup("the journal could not be searched");
                s->journal_read = false;
                return;
        }
        while ((r = journal_next(j)) > 0) {
                struct cd_crash c;
                unsigned bad;
                if (!cd_journal_crash(j, &wr, &c, &bad)) {
                        s->untrusted++;
                        if (s->nuntrusted_uids < 8 && bad != (unsigned)-1) {
                                s->untrusted_uids = xrealloc(s->untrusted_uids, (s->nuntrusted_uids + 1) * sizeof(unsigned));
                                s->untrusted_uids[s->nuntrusted_uids++] = bad;
                        }
                        continue;
                }
                *add_crash(s) = c;
        }
        if (journal_cut(j))
                s->journal_cut = xstrdup(journal_stop_str(journal_stopped(j)));
}

/* ---- core files ---- */

static struct cd_crash *by_filename(struct cd_scan *s, const char *path)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].rec.filename && streq(s->v[i].rec.filename, path))
                        return &s->v[i];
        return NULL;
}

static bool dir_seen(const struct cd_scan *s, const char *path)
{
        for (size_t i = 0; i < s->ndirs; i++)
                if (streq(s->dirs[i].path, path))
                        return true;
        return false;
}

/* Which names in a directory are cores: systemd's "core.*", the pattern's prefix, or
 * for configured directories anything starting with "core". In a component's working
 * directory (a relative pattern), where its own files are, only what the kernel names:
 * the prefix alone, or followed by the pid (core_uses_pid: "core.1234"). */
static bool is_core_name(const char *name, const char *prefix, enum cd_dir_from from)
{
        if (from == CD_DIR_CWD) {
                const char *p = prefix && *prefix ? prefix : "core";
                if (!startswith(name, p))
                        return false;
                const char *r = name + strlen(p);
                if (*r == '.' && p[strlen(p) - 1] != '.')
                        r++;
                return *r ? r[strspn(r, "0123456789")] == 0 : r == name + strlen(p);
        }
        if (prefix && *prefix)
                return startswith(name, prefix);
        return startswith(name, "core");
}

static struct cd_dir *scan_dir(struct cd_scan *s, const char *dir, const char *prefix, enum cd_dir_from from)
{
        if (dir_seen(s, dir) || s->ndirs >= 16)
                return NULL;
        bool systemd = from == CD_DIR_SYSTEMD;
        s->dirs = xrealloc(s->dirs, (s->ndirs + 1) * sizeof(*s->dirs));
        struct cd_dir *d = &s->dirs[s->ndirs++];
        *d = (struct cd_dir){.path = xstrdup(dir), .systemd = systemd, .from = from};
        struct rootfs_dir *rd = rootfs_opendir(dir);
        if (!rd) {
                d->err = -errno;
                if (d->err != -ENOENT)
                        d->error = xasprintf("cannot list %s: %s", dir, rootfs_strerror(d->err));
                return d;
        }
        d->exists = true;
        struct dirent *de;
        size_t nfiles = 0;
        while ((de = rootfs_readdir(rd)) && nfiles < DIR_FILES_MAX) {
                if (!is_core_name(de->d_name, prefix, from))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s%s%s", dir, streq(dir, "/") ? "" : "/", de->d_name);
                struct stat st;
                if (rootfs_stat(path, &st, false) < 0 || !S_ISREG(st.st_mode))
                        continue; /* links, FIFOs, directories: not a core the kernel or systemd wrote */
                nfiles++;
                d->files++;
                d->bytes += (uint64_t)st.st_size;
                uint64_t mtime_us = (uint64_t)st.st_mtim.tv_sec * 1000000u + (uint64_t)st.st_mtim.tv_nsec / 1000u;
                struct cd_crash *c = by_filename(s, path);
                if (!c) {
                        c = add_crash(s);
                        c->rec.filename = xstrdup(path);
                        if (systemd && cd_parse_core_name(de->d_name, &c->rec) < 0)
                                c->odd_name = true;
                        if (!c->rec.have_uid) {
                                c->rec.uid = st.st_uid; /* the kernel writes a core as the crashed process's fsuid */
                                c->rec.have_uid = true;
                        }
                        if (!c->rec.time_us)
                                c->rec.time_us = mtime_us;
                }
                c->core_path = xstrdup(path);
                c->core_size = (uint64_t)st.st_size;
                c->comp = cd_compression(de->d_name);
                if (c->rec.time_us < s->since_us)
                        d->old_bytes += (uint64_t)st.st_size, d->old_files++;
        }
        if (de)
                d->cut = true;
        rootfs_closedir(rd);
        return d;
}

/* Records whose file is named but absent (removed, or never stored). */
static void note_missing_cores(struct cd_scan *s)
{
        for (size_t i = 0; i < s->n; i++) {
                struct cd_crash *c = &s->v[i];
                if (c->core_path || !c->from_journal)
                        continue;
                if (!c->rec.filename) {
                        c->core_why = xstrdup("systemd-coredump did not store the core (its record names no file: "
                                              "size limits, Storage=none, or RLIMIT_CORE 0)");
                        continue;
                }
                struct stat st;
                int r = rootfs_stat(c->rec.filename, &st, false);
                if (r == 0 && S_ISREG(st.st_mode)) {
                        c->core_path = xstrdup(c->rec.filename);
                        c->core_size = (uint64_t)st.st_size;
                        c->comp = cd_compression(c->rec.filename);
                } else {
                        c->core_why = xasprintf("%s: %s", c->rec.filename,
                                                r < 0 ? rootfs_strerror(r) : "not a regular file");
                }
        }
}

/* ---- components ---- */

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s && s[1] ? s + 1 : p;
}

/* A crash is a component's when its command or executable is named like one AND its
 * uid is root or that component's service user (a user's own program named
 * "lavinmq" is not the service). */
void cd_classify(struct cd_crash *c, const char *components)
{
        _cleanup_free_ char *list = xstrdup(components);
        char *save = NULL;
        for (char *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
                bool named = (c->rec.comm && streq(c->rec.comm, w)) || (c->rec.exe && streq(base_name(c->rec.exe), w)) ||
                             (c->bt.comm && streq(c->bt.comm, w));
                if (!named)
                        continue;
                struct trust t;
                trust_init(&t, w, w);
                bool ok = c->rec.have_uid && trust_uid(&t, c->rec.uid);
                trust_free(&t);
                if (ok) {
                        c->component = xstrdup(w);
                        return;
                }
                c->impostor = true;
        }
}

static int newest_first(const void *a, const void *b)
{
        const struct cd_crash *x = a, *y = b;
        return x->rec.time_us > y->rec.time_us ? -1 : x->rec.time_us < y->rec.time_us;
}

void cd_symbolize(struct cd_crash *c, const struct cd_scan_opts *o, uint64_t timeout_ms)
{
        if (!c->core_path || c->bt_done)
                return;
        c->bt_done = true;
        int fd = rootfs_open_file(c->core_path, O_NOFOLLOW);
        if (fd < 0) {
                c->bt.error = xasprintf("cannot open %s: %s", c->core_path, rootfs_strerror(fd));
                return;
        }
        struct cd_bt_opts bo = {.max_size = o->max_size, .timeout_ms = timeout_ms, .tmp_dir = o->tmp_dir,
                                .live = rootfs_is_live()};
        int r = cd_backtrace(fd, c->comp, &bo, &c->bt);
        close(fd);
        if (r < 0 && !c->bt.error)
                c->bt.error = xasprintf("cannot start the parse: %s", strerror(-r));
        if (!c->rec.signal)
                c->rec.signal = c->bt.signal;
        if (!c->rec.pid)
                c->rec.pid = c->bt.pid;
        if (!c->rec.comm && c->bt.comm)
                c->rec.comm = xstrdup(c->bt.comm);
}

void cd_scan_dirs(struct cd_scan *s, const struct cd_scan_opts *o)
{
        scan_dir(s, CD_SYSTEMD_DIR, "core.", CD_DIR_SYSTEMD);
        _cleanup_free_ char *pat = NULL;
        s->pattern_err = rootfs_read_value("/proc/sys/kernel/core_pattern", &pat);
        if (s->pattern_err == 0 && cd_parse_core_pattern(pat, &s->pattern) < 0)
                s->pattern_err = -EINVAL;
        if (s->pattern_err == 0 && !s->pattern_text)
                s->pattern_text = xstrdup(strstrip(pat));
        if (s->pattern_err == 0 && s->pattern.kind == CD_PAT_FILE && s->pattern.dir)
                scan_dir(s, s->pattern.dir, s->pattern.prefix, CD_DIR_PATTERN);
        if (o->core_dirs && *o->core_dirs) {
                _cleanup_free_ char *list = xstrdup(o->core_dirs);
                char *save = NULL;
                for (char *w = strtok_r(list, ", ", &save); w; w = strtok_r(NULL, ", ", &save))
                        if (*w == '/')
                                scan_dir(s, w, NULL, CD_DIR_CONFIGURED);
        }
}

/* A relative core_pattern: cores land in the crashing process's working directory. For
 * the components running now (vouched for by lib/trust), that directory is where their
 * next core goes, and where a restarted one's last core is: list it, after the path
 * rule (a directory taken from a process), at most CD_CWD_DIRS_MAX of them. */
static void scan_component_cwds(struct cd_scan *s, const char *components)
{
        struct proctable t;
        if (proctable_load(&t) < 0) {
                s->cwd_note = xstrdup("the process table cannot be read");
                return;
        }
        size_t ndirs = 0, nprocs = 0;
        struct strbuf note = {0};
        _cleanup_free_ char *list = xstrdup(components);
        char *save = NULL;
        for (char *w = strtok_r(list, ", ", &save); w && ndirs < CD_CWD_DIRS_MAX; w = strtok_r(NULL, ", ", &save)) {
                struct trust tr;
                trust_init(&tr, w, w);
                for (size_t i = 0; i < t.n && ndirs < CD_CWD_DIRS_MAX && nprocs < 256; i++) {
                        const struct proc *p = &t.v[i];
                        struct trust_proc tp;
                        if (p->kthread || p->state == 'Z' || !component_named(p, w) || !trust_process(&tr, p->pid, &tp))
                                continue;
                        nprocs++;
                        _cleanup_free_ char *why = NULL;
                        _cleanup_free_ char *cwd = trust_resolve_relative(p->pid, ".", &why);
                        if (cwd) {
                                size_t l = strlen(cwd); /* "/x/." -> "/x" */
                                cwd[l > 2 ? l - 2 : 1] = 0;
                        }
                        if (cwd && trust_check_dir(&tr, cwd, &why) < 0) {
                                free(cwd);
                                cwd = NULL;
                        }
                        if (!cwd) {
                                sb_printf(&note, "%s%s", note.len ? "; " : "", why ? why : "?");
                                continue;
                        }
                        if (dir_seen(s, cwd))
                                continue;
                        struct cd_dir *d = scan_dir(s, cwd, s->pattern.prefix, CD_DIR_CWD);
                        if (d) {
                                d->cwd_of = xasprintf("%s pid %d", w, p->pid);
                                ndirs++;
                        }
                }
                trust_free(&tr);
        }
        proctable_free(&t);
        if (note.len)
                s->cwd_note = note.s;
        else
                sb_free(&note);
}

void cd_scan(struct cd_scan *s, const struct cd_scan_opts *o)
{
        *s = (struct cd_scan){.since_us = o->since_us};
        read_journal(s, o);
        cd_scan_dirs(s, o);
        if (s->pattern_err == 0 && s->pattern.kind == CD_PAT_FILE && s->pattern.relative)
                scan_component_cwds(s, o->components);
        note_missing_cores(s);
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(*s->v), newest_first);
        for (size_t i = 0; i < s->n; i++)
                cd_classify(&s->v[i], o->components);
        /* Backtraces: the newest `backtraces` cores in the window, components first. */
        size_t want = o->backtraces, done = 0;
        for (int pass = 0; pass < 2 && done < want; pass++)
                for (size_t i = 0; i < s->n && done < want; i++) {
                        struct cd_crash *c = &s->v[i];
                        if (c->rec.time_us < o->since_us || !c->core_path || c->bt_done || (pass == 0) != !!c->component)
                                continue;
                        uint64_t now = now_ms_monotonic();
                        uint64_t left = o->deadline_ms > now + 1000 ? o->deadline_ms - now - 1000 : 0;
                        if (left < 500) {
                                c->bt.error = xstrdup("not symbolized: the collector's deadline was near");
                                c->bt_done = true;
                                continue;
                        }
                        /* Share what is left among the cores still to do. */
                        uint64_t t = left / (want - done);
                        cd_symbolize(c, o, t < o->parse_timeout_ms ? t : o->parse_timeout_ms);
                        if (!c->component)
                                cd_classify(c, o->components); /* the core's own comm may name one */
                        done++;
                }
}
