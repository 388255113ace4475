/* The shared sd-journal reader: lib/journal.h. */
#include "config.h"
#include "lib/journal.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-journal.h>

struct journal {
        sd_journal *sd;
        struct journal_file *files;
        size_t nfiles, cap, good;
        char *origin;
        size_t field_max;
        struct journal_window w;
        enum journal_stop stop;
        int error;
        uint64_t entries, bytes;
        bool by_fd;    /* opened with sd_journal_open_files_fd: the fds are ours */
        /* The matches as given ("F=v", or "" for OR, "&" for AND), to replay after a
         * reopen; the data read since the last one; an entry already current. */
        char **mt;
        size_t nmt;
        uint64_t since_recycle, recycle, entries_since_recycle;
        bool pending;
        int *fds;
        size_t nfds;
};

static void forget_matches(struct journal *j);

static bool is_journal_name(const char *n)
{
        size_t l = strlen(n);
        return (l > 8 && streq(n + l - 8, ".journal")) || (l > 9 && streq(n + l - 9, ".journal~"));
}

static void add_file(struct journal *j, const char *path, int error, uint64_t size)
{
        if (j->nfiles == j->cap) {
                j->cap = j->cap ? 2 * j->cap : 8;
                j->files = xrealloc(j->files, j->cap * sizeof(*j->files));
        }
        j->files[j->nfiles++] = (struct journal_file){.path = xstrdup(path), .error = error, .size = size};
}

/* Opens one file by itself to see whether sd-journal can read it: a corrupt or
 * truncated file is named here and left out of the real open, which would otherwise
 * fail as a whole (sd_journal_open_files) or skip it silently (directories). */
static int probe_fd(int fd)
{
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (d < 0)
                return -errno;
        sd_journal *sd = NULL;
        /* On success sd-journal owns the fd (sd_journal_close closes it); on failure not. */
        int r = sd_journal_open_files_fd(&sd, &d, 1, 0);
        if (r < 0) {
                close(d);
                return r;
        }
        /* The header may be fine and the first entry not: try to reach it. */
        r = sd_journal_seek_head(sd);
        if (r >= 0)
                r = sd_journal_next(sd);
        sd_journal_close(sd);
        return r < 0 ? r : 0;
}

/* An fd to a journal file, checked to be a regular file. */
static int open_plain(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = S_ISDIR(st.st_mode) ? -EISDIR : -ROOTFS_ENOTREG;
                close(fd);
                return e;
        }
        return fd;
}

/* Adds a candidate file: opened (through the root or by name), probed, kept on success. */
static void consider(struct journal *j, const char *path, bool via_root)
{
        int fd = via_root ? rootfs_open_file(path, O_NOFOLLOW) : open_plain(path);
        if (fd == -ENOENT && via_root)
                return; /* rotated away (or a bundle's listing without the file): not an error */
        if (fd < 0) {
                add_file(j, path, fd, 0);
                return;
        }
        struct stat st;
        uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        int r = size == 0 ? -ENODATA : probe_fd(fd);
        add_file(j, path, r, size);
        if (r < 0) {
                close(fd);
                return;
        }
        j->fds = xrealloc(j->fds, (j->nfds + 1) * sizeof(int));
        j->fds[j->nfds++] = fd;
        j->good++;
}

/* sd_journal_open_files_fd on copies of our fds: on success sd-journal owns (and at
 * close closes) what it was given, and we keep ours to open the files again. */
static int open_by_fd(struct journal *j)
{
        int *d = xcalloc(j->nfds ? j->nfds : 1, sizeof(int));
        size_t n = 0;
        int r = 0;
        for (; n < j->nfds; n++)
                if ((d[n] = fcntl(j->fds[n], F_DUPFD_CLOEXEC, 3)) < 0) {
                        r = -errno;
                        break;
                }
        if (r == 0)
                r = sd_journal_open_files_fd(&j->sd, d, (unsigned)n, 0);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        close(d[i]);
                j->sd = NULL;
        }
        free(d);
        return r;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The journal files of a directory and of its machine-id subdirectories (one level),
 * sorted, through the root or by name. */
static void scan_dir(struct journal *j, const char *dir, bool via_root, size_t max, int depth)
{
        char **names = NULL;
        size_t n = 0;
        if (via_root) {
                struct rootfs_dir *d = rootfs_opendir(dir);
                if (!d)
                        return;
                struct dirent *e;
                while ((e = rootfs_readdir(d)) && n < max) {
                        names = xrealloc(names, (n + 1) * sizeof(*names));
                        names[n++] = xstrdup(e->d_name);
                }
                rootfs_closedir(d);
        } else {
                DIR *d = opendir(dir);
                if (!d) {
                        if (errno != ENOENT)
                                add_file(j, dir, -errno, 0);
                        return;
                }
                struct dirent *e;
                while ((e = readdir(d)) && n < max) {
                        if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                                continue;
                        names = xrealloc(names, (n + 1) * sizeof(*names));
                        names[n++] = xstrdup(e->d_name);
                }
                closedir(d);
        }
        if (n)
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
                if (is_journal_name(names[i])) {
                        if (j->nfiles < max)
                                consider(j, p, via_root);
                } else if (depth == 0) {
                        struct stat st;
                        int r = via_root ? rootfs_stat(p, &st, false) : (lstat(p, &st) < 0 ? -errno : 0);
                        if (r == 0 && S_ISDIR(st.st_mode))
                                scan_dir(j, p, via_root, max, 1);
                }
                free(names[i]);
        }
        free(names);
}

int journal_open(const struct journal_opts *o, struct journal **out)
{
        *out = NULL;
        struct journal *j = xcalloc(1, sizeof(*j));
        size_t max = o && o->max_files ? o->max_files : JOURNAL_MAX_FILES;
        j->field_max = o && o->field_max ? o->field_max : JOURNAL_FIELD_MAX;
        j->recycle = JOURNAL_RECYCLE;
        bool named = o && ((o->dirs && o->dirs[0]) || (o->files && o->files[0]));
        struct strbuf origin = {0};
        if (named) {
                for (size_t i = 0; o->dirs && o->dirs[i]; i++) {
                        if (!o->dirs[i][0]) {
                                journal_close(j);
                                sb_free(&origin);
                                return -EINVAL;
                        }
                        sb_printf(&origin, "%s--journal-dir %s", origin.len ? ", " : "", o->dirs[i]);
                        scan_dir(j, o->dirs[i], false, max, 0);
                }
                for (size_t i = 0; o->files && o->files[i] && j->nfiles < max; i++) {
                        if (!o->files[i][0]) {
                                journal_close(j);
                                sb_free(&origin);
                                return -EINVAL;
                        }
                        sb_printf(&origin, "%s--journal-file %s", origin.len ? ", " : "", o->files[i]);
                        consider(j, o->files[i], false);
                }
        } else {
                /* The same words live and under --root: findings that quote it must read
                 * the same when a bundle is re-checked (check --from compares them). */
                sb_puts(&origin, "/var/log/journal and /run/log/journal");
                scan_dir(j, "/var/log/journal", true, max, 0);
                scan_dir(j, "/run/log/journal", true, max, 0);
        }
        j->origin = sb_steal(&origin);
        int r = 0;
        if (!named && rootfs_is_live() && j->good) {
                /* The host's own journal: sd-journal follows rotation and new files and
                 * gives an inotify fd for watch. The probe fds are not needed. */
                for (size_t i = 0; i < j->nfds; i++)
                        close(j->fds[i]);
                j->nfds = 0;
                r = sd_journal_open(&j->sd, SD_JOURNAL_LOCAL_ONLY);
        } else if (j->good) {
                j->by_fd = true;
                r = open_by_fd(j);
        }
        if (r < 0) {
                j->sd = NULL;
                j->good = 0;
                for (size_t i = 0; i < j->nfiles; i++)
                        if (!j->files[i].error)
                                j->files[i].error = r;
        }
        if (j->sd)
                (void)sd_journal_set_data_threshold(j->sd, j->field_max + 64);
        *out = j;
        return 0;
}

void journal_close(struct journal *j)
{
        if (!j)
                return;
        if (j->sd)
                sd_journal_close(j->sd);
        for (size_t i = 0; i < j->nfds; i++)
                close(j->fds[i]);
        free(j->fds);
        forget_matches(j);
        for (size_t i = 0; i < j->nfiles; i++)
                free(j->files[i].path);
        free(j->files);
        free(j->origin);
        free(j);
}

bool journal_usable(const struct journal *j) { return j && j->sd; }

const struct journal_file *journal_files(const struct journal *j, size_t *n)
{
        *n = j->nfiles;
        return j->files;
}

size_t journal_bad_files(const struct journal *j)
{
        size_t n = 0;
        for (size_t i = 0; i < j->nfiles; i++)
                n += j->files[i].error != 0;
        return n;
}

const char *journal_origin(const struct journal *j) { return j->origin; }

uint64_t journal_usage(const struct journal *j)
{
        uint64_t u = 0;
        if (j->sd && sd_journal_get_usage(j->sd, &u) < 0)
                u = 0;
        return u;
}

static bool field_name_ok(const char *f)
{
        size_t n = strlen(f);
        if (n == 0 || n > 64 || (f[0] >= '0' && f[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((f[i] >= 'A' && f[i] <= 'Z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '_'))
                        return false;
        return true;
}

static void remember(struct journal *j, char *m)
{
        j->mt = xrealloc(j->mt, (j->nmt + 1) * sizeof(*j->mt));
        j->mt[j->nmt++] = m;
}

/* Opens the same files again (sd_journal_open, or the fds we hold). */
static int reopen_sd(struct journal *j)
{
        int r = j->by_fd ? open_by_fd(j) : sd_journal_open(&j->sd, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0) {
                j->sd = NULL;
                return r;
        }
        (void)sd_journal_set_data_threshold(j->sd, j->field_max + 64);
        for (size_t i = 0; i < j->nmt && r >= 0; i++)
                r = !j->mt[i][0] ? sd_journal_add_disjunction(j->sd)
                    : streq(j->mt[i], "&") ? sd_journal_add_conjunction(j->sd)
                                           : sd_journal_add_match(j->sd, j->mt[i], 0);
        return r < 0 ? r : 0;
}

/* sd-journal keeps every window of the files it has touched mapped (up to 64 of 8 MiB
 * each): a long read's resident size grows with what it read. Every JOURNAL_RECYCLE
 * bytes the journal is closed (unmapping them) and opened again at the same entry. */
void journal_set_recycle(struct journal *j, uint64_t bytes) { j->recycle = bytes ? bytes : JOURNAL_RECYCLE; }

static int recycle(struct journal *j)
{
        char *cur = NULL;
        if (sd_journal_get_cursor(j->sd, &cur) < 0)
                return 0; /* not on an entry: nothing to come back to, keep going as is */
        sd_journal_close(j->sd);
        int r = reopen_sd(j);
        if (r >= 0)
                r = sd_journal_seek_cursor(j->sd, cur);
        if (r >= 0)
                r = sd_journal_next(j->sd);
        if (r > 0)
                j->pending = sd_journal_test_cursor(j->sd, cur) <= 0; /* gone: this one is new */
        else if (r == 0)
                j->stop = JOURNAL_END;
        free(cur);
        j->since_recycle = j->entries_since_recycle = 0;
        return r < 0 ? r : 0;
}

int journal_match(struct journal *j, const char *field, const char *value)
{
        if (!j->sd)
                return -ENODEV;
        if (!field_name_ok(field) || !value || strlen(value) > 4096)
                return -EINVAL;
        char *m = xasprintf("%s=%s", field, value);
        int r = sd_journal_add_match(j->sd, m, 0);
        remember(j, m);
        return r;
}

int journal_or(struct journal *j)
{
        if (!j->sd)
                return -ENODEV;
        remember(j, xstrdup(""));
        return sd_journal_add_disjunction(j->sd);
}

int journal_and(struct journal *j)
{
        if (!j->sd)
                return -ENODEV;
        remember(j, xstrdup("&"));
        return sd_journal_add_conjunction(j->sd);
}

static void forget_matches(struct journal *j)
{
        for (size_t i = 0; i < j->nmt; i++)
                free(j->mt[i]);
        free(j->mt);
        j->mt = NULL;
        j->nmt = 0;
}

void journal_match_clear(struct journal *j)
{
        forget_matches(j);
        if (j->sd)
                sd_journal_flush_matches(j->sd);
}

void journal_resume(struct journal *j)
{
        j->stop = JOURNAL_MORE;
        j->pending = false;
        j->error = 0;
        j->entries = j->bytes = 0;
}

int journal_seek(struct journal *j, const struct journal_window *w)
{
        j->w = w ? *w : (struct journal_window){0};
        journal_resume(j);
        if (!j->sd)
                return -ENODEV;
        int r = j->w.since_us ? sd_journal_seek_realtime_usec(j->sd, j->w.since_us) : sd_journal_seek_head(j->sd);
        if (r < 0) {
                j->stop = JOURNAL_ERROR;
                j->error = r;
        }
        return r;
}

int journal_seek_end(struct journal *j)
{
        journal_resume(j);
        if (!j->sd)
                return -ENODEV;
        int r = sd_journal_seek_tail(j->sd);
        if (r >= 0) {
                /* After the tail, sd_journal_next() returns the entries appended later. */
                r = sd_journal_previous(j->sd);
                if (r >= 0)
                        r = 0;
        }
        return r;
}

int journal_seek_after_cursor(struct journal *j, const char *cursor)
{
        journal_resume(j);
        if (!j->sd)
                return -ENODEV;
        if (!cursor || strlen(cursor) > 1024)
                return -EINVAL;
        int r = sd_journal_seek_cursor(j->sd, cursor);
        if (r < 0)
                return r;
        r = sd_journal_next(j->sd);
        if (r > 0 && sd_journal_test_cursor(j->sd, cursor) <= 0)
                r = sd_journal_previous(j->sd); /* the cursor's entry is gone: this one is new */
        return r < 0 ? r : 0;
}

int journal_next(struct journal *j)
{
        if (!j->sd) {
                j->stop = JOURNAL_END;
                return 0;
        }
        if (j->stop != JOURNAL_MORE)
                return j->stop == JOURNAL_ERROR ? j->error : 0;
        for (;;) {
                if (j->w.max_entries && j->entries >= j->w.max_entries) {
                        j->stop = JOURNAL_ENTRIES;
                        return 0;
                }
                if (j->w.max_bytes && j->bytes >= j->w.max_bytes) {
                        j->stop = JOURNAL_BYTES;
                        return 0;
                }
                if (j->w.deadline_ms && now_ms_monotonic() >= j->w.deadline_ms) {
                        j->stop = JOURNAL_DEADLINE;
                        return 0;
                }
                /* The bytes of the fields read, and the entries stepped over: walking the
                 * indexes maps pages too. */
                if (j->since_recycle >= j->recycle || j->entries_since_recycle >= JOURNAL_RECYCLE_ENTRIES) {
                        int e = recycle(j);
                        if (e < 0 || !j->sd) {
                                j->stop = JOURNAL_ERROR;
                                j->error = e < 0 ? e : -EIO;
                                return j->error;
                        }
                        if (j->stop != JOURNAL_MORE)
                                return 0;
                }
                int r;
                if (j->pending) {
                        j->pending = false;
                        r = 1;
                } else {
                        r = sd_journal_next(j->sd);
                        j->entries_since_recycle++;
                }
                if (r < 0) {
                        j->stop = JOURNAL_ERROR;
                        j->error = r;
                        return r;
                }
                if (r == 0) {
                        j->stop = JOURNAL_END;
                        return 0;
                }
                uint64_t t;
                if (sd_journal_get_realtime_usec(j->sd, &t) < 0)
                        continue;
                if (j->w.until_us && t > j->w.until_us) {
                        /* Interleaved files are merged in order: nothing later is in the window. */
                        j->stop = JOURNAL_UNTIL;
                        return 0;
                }
                if (j->w.since_us && t < j->w.since_us)
                        continue; /* a clock step back: seek found its place, this one is older */
                j->entries++;
                return 1;
        }
}

enum journal_stop journal_stopped(const struct journal *j) { return j->stop; }

const char *journal_stop_str(enum journal_stop s)
{
        switch (s) {
        case JOURNAL_MORE:
                return "not finished";
        case JOURNAL_END:
                return "end of the journal";
        case JOURNAL_UNTIL:
                return "end of the window";
        case JOURNAL_ENTRIES:
                return "entry bound hit";
        case JOURNAL_BYTES:
                return "byte bound hit";
        case JOURNAL_DEADLINE:
                return "deadline hit";
        case JOURNAL_ERROR:
                return "journal read error";
        }
        return "?";
}

bool journal_cut(const struct journal *j)
{
        return j->stop == JOURNAL_ENTRIES || j->stop == JOURNAL_BYTES || j->stop == JOURNAL_DEADLINE;
}

int journal_error(const struct journal *j) { return j->error; }
uint64_t journal_entries_read(const struct journal *j) { return j->entries; }
uint64_t journal_bytes_read(const struct journal *j) { return j->bytes; }

uint64_t journal_realtime_us(struct journal *j)
{
        uint64_t t = 0;
        if (j->sd && sd_journal_get_realtime_usec(j->sd, &t) < 0)
                t = 0;
        return t;
}

/* The value part of FIELD=value data, or -ENOENT/-errno. */
static long get_value(struct journal *j, const char *field, const char **val)
{
        if (!j->sd)
                return -ENODEV;
        if (!field_name_ok(field))
                return -EINVAL;
        const void *d;
        size_t len, fl = strlen(field);
        int r = sd_journal_get_data(j->sd, field, &d, &len);
        if (r < 0)
                return r;
        if (len < fl + 1 || memcmp(d, field, fl) != 0 || ((const char *)d)[fl] != '=')
                return -EBADMSG;
        j->bytes += len;
        j->since_recycle += len;
        *val = (const char *)d + fl + 1;
        len -= fl + 1;
        return len > (size_t)LONG_MAX ? LONG_MAX : (long)len;
}

long journal_field(struct journal *j, const char *field, char *buf, size_t size, bool *cut)
{
        if (cut)
                *cut = false;
        if (!size)
                return -EINVAL;
        buf[0] = 0;
        const char *v;
        long n = get_value(j, field, &v);
        if (n < 0)
                return n;
        size_t len = (size_t)n;
        if (len > size - 1) {
                len = size - 1;
                if (cut)
                        *cut = true;
        }
        for (size_t i = 0; i < len; i++)
                buf[i] = v[i] ? v[i] : ' ';
        buf[len] = 0;
        return (long)len;
}

char *journal_field_dup(struct journal *j, const char *field)
{
        const char *v;
        long n = get_value(j, field, &v);
        if (n < 0)
                return NULL;
        size_t len = (size_t)n < j->field_max ? (size_t)n : j->field_max;
        char *s = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
                s[i] = v[i] ? v[i] : ' ';
        s[len] = 0;
        return s;
}

int journal_field_u64(struct journal *j, const char *field, uint64_t *out)
{
        char buf[32];
        bool cut;
        long n = journal_field(j, field, buf, sizeof(buf), &cut);
        if (n < 0)
                return (int)n;
        if (cut)
                return -EINVAL;
        return parse_u64(buf, out);
}

int journal_fields(struct journal *j, int (*fn)(void *arg, const char *name, size_t nlen, const char *val, size_t vlen),
                   void *arg)
{
        if (!j->sd)
                return -ENODEV;
        const void *d;
        size_t len;
        int r;
        sd_journal_restart_data(j->sd);
        while ((r = sd_journal_enumerate_data(j->sd, &d, &len)) > 0) {
                const char *s = d, *eq = memchr(s, '=', len);
                if (!eq || eq == s)
                        continue;
                j->bytes += len;
                j->since_recycle += len;
                size_t nl = (size_t)(eq - s), vl = len - nl - 1;
                if (vl > j->field_max)
                        vl = j->field_max;
                r = fn(arg, s, nl, eq + 1, vl);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : 0;
}

char *journal_cursor(struct journal *j)
{
        char *c = NULL;
        if (!j->sd || sd_journal_get_cursor(j->sd, &c) < 0)
                return NULL;
        return c;
}

int journal_watch_fd(struct journal *j)
{
        if (!j->sd)
                return -ENODEV;
        if (j->by_fd)
                return -EMEDIUMTYPE;
        return sd_journal_get_fd(j->sd);
}

int journal_process(struct journal *j)
{
        if (!j->sd)
                return -ENODEV;
        int r = sd_journal_process(j->sd);
        if (r < 0)
                return r;
        return r != SD_JOURNAL_NOP;
}

int journal_parse_time(const char *s, uint64_t now_us, uint64_t *out_us)
{
        if (!s || !*s || strlen(s) > 64)
                return -EINVAL;
        if (streq(s, "now")) {
                *out_us = now_us;
                return 0;
        }
        if (s[0] == '@') {
                uint64_t sec;
                if (parse_u64(s + 1, &sec) < 0 || sec > UINT64_MAX / 1000000)
                        return -EINVAL;
                *out_us = sec * 1000000;
                return 0;
        }
        uint64_t ms;
        if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-') && !strchr(s, ':')) {
                if (parse_duration_ms(s, &ms) < 0 || ms > UINT64_MAX / 1000)
                        return -EINVAL;
                *out_us = ms * 1000 > now_us ? 0 : now_us - ms * 1000;
                return 0;
        }
        struct tm tm = {0};
        const char *e = strptime(s, "%Y-%m-%d", &tm);
        if (!e)
                return -EINVAL;
        if (*e == ' ' || *e == 'T') {
                const char *e2 = strptime(e + 1, "%H:%M:%S", &tm);
                if (!e2) {
                        tm.tm_sec = 0;
                        e2 = strptime(e + 1, "%H:%M", &tm);
                }
                e = e2;
        }
        if (!e || *e)
                return -EINVAL;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1 || t < 0)
                return -EINVAL;
        *out_us = (uint64_t)t * 1000000;
        return 0;
}

char *journal_messages(const char *dir, const char *const *matches, uint64_t since_us, size_t max, uint64_t deadline_ms,
                       size_t *len, size_t *entries, char **why)
{
        *len = *entries = 0;
        *why = NULL;
        const char *dirs[] = {dir, NULL};
        struct journal_opts o = {.dirs = dir && *dir ? dirs : NULL};
        struct journal *j = NULL;
        int r = journal_open(&o, &j);
        if (r < 0 || !journal_usable(j)) {
                *why = xasprintf("no readable journal (%s)", r < 0 ? strerror(-r) : journal_origin(j));
                if (j)
                        journal_close(j);
                return NULL;
        }
        struct journal_window w = {.since_us = since_us, .max_entries = 50000, .max_bytes = (uint64_t)max * 2,
                                   .deadline_ms = deadline_ms};
        for (size_t i = 0; matches[i] && r >= 0; i++) {
                const char *eq = strchr(matches[i], '=');
                if (!eq) {
                        r = -EINVAL;
                        break;
                }
                _cleanup_free_ char *field = xstrndup(matches[i], (size_t)(eq - matches[i]));
                if (i)
                        r = journal_or(j);
                if (r >= 0)
                        r = journal_match(j, field, eq + 1);
        }
        if (r < 0 || journal_seek(j, &w) < 0) {
                *why = xasprintf("%s: the journal cannot be searched for %s", journal_origin(j), matches[0] ? matches[0] : "?");
                journal_close(j);
                return NULL;
        }
        struct strbuf b = {0};
        char msg[4096];
        while (journal_next(j) > 0) {
                bool cut;
                long n = journal_field(j, "MESSAGE", msg, sizeof(msg), &cut);
                if (n < 0)
                        continue;
                (*entries)++;
                sb_putn(&b, msg, (size_t)n);
                sb_putc(&b, '\n');
                if (b.len > max) { /* keep the newest half */
                        size_t drop = b.len - max / 2;
                        char *nl = memchr(b.s + drop, '\n', b.len - drop);
                        drop = nl ? (size_t)(nl - b.s) + 1 : b.len;
                        memmove(b.s, b.s + drop, b.len - drop + 1);
                        b.len -= drop;
                }
        }
        journal_close(j);
        *len = b.len;
        return b.s ? sb_steal(&b) : xstrdup("");
}
