/* journal collector, its sources: the settings (config keys read once), journal
 * entries (the fields the checks use, their scope), the kernel ring buffer when there
 * is no journal, and the tails of the components' log files. check (journal.c), the
 * bundle (journal_collect.c) and watch (journal_sample.c) read through these. */
#include "config.h"
#include "collectors/journal_private.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

/* ---- settings ---- */

void jsplit_list(const char *list, char **out, size_t max)
{
        size_t n = 0;
        const char *p = list ? list : "";
        while (*p && n < max) {
                while (*p == ',' || *p == ' ')
                        p++;
                size_t k = strcspn(p, ",");
                size_t w = k;
                while (w && p[w - 1] == ' ')
                        w--;
                if (w)
                        out[n++] = xstrndup(p, w);
                p += k;
        }
        out[n] = NULL;
}

uint64_t jconf_size(struct ctx *c, const char *key)
{
        uint64_t v = 0;
        (void)parse_size(conf_str(c, key), &v); /* validated when the config was loaded */
        return v;
}

void jconf_read(struct ctx *c, struct jconf *cf)
{
        *cf = (struct jconf){0};
        cf->units = conf_str(c, "units");
        cf->components = conf_str(c, "components");
        cf->log_files = conf_str(c, "log_files");
        cf->owned_log = conf_str_of(c, "mediator", "log");
        cf->log_tail = jconf_size(c, "log_tail");
        uint64_t now = now_ms_realtime() * 1000;
        const char *since = conf_str(c, "since"), *until = conf_str(c, "until");
        if (since[0] && journal_parse_time(since, now, &cf->since_us) < 0)
                cf->since_bad = true;
        if (until[0] && journal_parse_time(until, now, &cf->until_us) < 0)
                cf->until_bad = true;
        if (cf->since_bad) /* the default instead: the finding says so */
                cf->since_us = now - 3600ull * 1000000;
        cf->max_matches = conf_uint(c, "max_matches");
        cf->samples = (unsigned)conf_uint(c, "samples");
        /* Stop a second before the runner's deadline; in a bundle (tracing on) the check
         * gets half the time left, so the texts collect() makes get the other half. */
        uint64_t dl = c->deadline_ms, t = now_ms_monotonic();
        if (dl && rootfs_tracing() && dl > t)
                dl = t + (dl - t) / 2;
        else if (dl > 1500)
                dl -= 1000;
        cf->w = (struct journal_window){.since_us = cf->since_us, .until_us = cf->until_bad ? 0 : cf->until_us,
                                        .max_entries = conf_uint(c, "max_entries"), .max_bytes = jconf_size(c, "max_bytes"),
                                        .deadline_ms = dl};
        jsplit_list(conf_str(c, "dirs"), cf->dirs, 32);
        jsplit_list(conf_str(c, "files"), cf->files, 32);
}

void jconf_free(struct jconf *cf)
{
        for (size_t i = 0; cf->dirs[i]; i++)
                free(cf->dirs[i]);
        for (size_t i = 0; cf->files[i]; i++)
                free(cf->files[i]);
        cf->dirs[0] = cf->files[0] = NULL;
}

int jconf_open(const struct jconf *cf, struct journal **j)
{
        struct journal_opts o = {.dirs = (const char *const *)cf->dirs, .files = (const char *const *)cf->files};
        return journal_open(&o, j);
}

void jconf_match(const struct jconf *cf, struct journal *j)
{
        char *u[65];
        jsplit_list(cf->units, u, 64);
        for (size_t i = 0; u[i]; i++) {
                _cleanup_free_ char *name = strchr(u[i], '.') ? xstrdup(u[i]) : xasprintf("%s.service", u[i]);
                (void)journal_match(j, "_SYSTEMD_UNIT", name);
                free(u[i]);
        }
        (void)journal_or(j);
        (void)journal_match(j, "_TRANSPORT", "kernel");
}

static bool unit_listed(const char *unit, const char *units)
{
        if (!unit[0])
                return false;
        if (list_has_word(units, unit))
                return true;
        /* "lavinmq" in the list names lavinmq.service */
        const char *dot = strrchr(unit, '.');
        if (dot && streq(dot, ".service")) {
                _cleanup_free_ char *base = xstrndup(unit, (size_t)(dot - unit));
                return list_has_word(units, base);
        }
        return false;
}

unsigned jentry_scope(const struct jentry *e, const char *units)
{
        if (e->kernel)
                return JS_KERNEL;
        bool file = streq(e->src, "file");
        if (!file && !unit_listed(e->unit, units))
                return 0;
        unsigned s = JS_COMPONENT;
        if (strstr(e->unit, "lavinmq"))
                s |= JS_LAVINMQ;
        if (strstr(e->unit, "cerebellar-norse"))
                s |= JS_SNN;
        return s;
}

static bool field_is(const char *name, size_t nlen, const char *want)
{
        return nlen == strlen(want) && !memcmp(name, want, nlen);
}

static int take_field(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
        struct jentry *e = arg;
        char num[24];
        uint64_t v;
        if (field_is(name, nlen, "MESSAGE")) {
                jcopy(e->msg, sizeof(e->msg), val, vlen);
        } else if (field_is(name, nlen, "PRIORITY") || field_is(name, nlen, "_PID")) {
                jcopy(num, sizeof(num), val, vlen);
                if (parse_u64(num, &v) == 0) {
                        if (name[0] == 'P' && v <= 7)
                                e->prio = (int)v;
                        else if (name[0] == '_')
                                e->pid = v;
                }
        } else if (field_is(name, nlen, "_TRANSPORT")) {
                e->kernel = vlen == 6 && !memcmp(val, "kernel", 6);
        } else if (field_is(name, nlen, "_SYSTEMD_UNIT")) {
                jcopy(e->unit, sizeof(e->unit), val, vlen);
        } else if (field_is(name, nlen, "SYSLOG_IDENTIFIER")) {
                jcopy(e->ident, sizeof(e->ident), val, vlen);
        } else if (field_is(name, nlen, "_COMM") && !e->ident[0]) {
                jcopy(e->ident, sizeof(e->ident), val, vlen); /* SYSLOG_IDENTIFIER wins, whatever the order */
        }
        return 0;
}

void jentry_from_journal(struct journal *j, struct jentry *e)
{
        *e = (struct jentry){.prio = -1, .t_us = journal_realtime_us(j)};
        snprintf(e->src, sizeof(e->src), "journal");
        /* One pass over the entry's fields: sd_journal_get_data() walks (and decompresses)
         * every field of the entry for each field asked for. */
        (void)journal_fields(j, take_field, e);
}

/* ---- the kernel ring buffer ---- */

long jkmsg_read(uint64_t since_us, uint64_t until_us, uint64_t max, int (*fn)(void *, const struct jentry *), void *arg)
{
        int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* Records carry µs since boot (CLOCK_MONOTONIC): the boot's realtime is now - uptime. */
        struct timespec rt, mono;
        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        uint64_t boot_us = (uint64_t)rt.tv_sec * 1000000 + (uint64_t)rt.tv_nsec / 1000 -
                           ((uint64_t)mono.tv_sec * 1000000 + (uint64_t)mono.tv_nsec / 1000);
        long n = 0;
        char *rec = xmalloc(8192);
        while ((uint64_t)n < max) {
                ssize_t r = read(fd, rec, 8191);
                if (r < 0 && errno == EPIPE)
                        continue; /* overwritten while we read: the next record follows */
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break; /* EAGAIN: the end (never block) */
                struct jentry e;
                if (jparse_kmsg(rec, (size_t)r, boot_us, &e) < 0)
                        continue;
                if ((since_us && e.t_us < since_us) || (until_us && e.t_us > until_us))
                        continue;
                n++;
                if (fn && fn(arg, &e) < 0)
                        break;
        }
        free(rec);
        close(fd);
        return n;
}

/* ---- component log files ---- */

static void tail_file(const struct jconf *cf, const char *path, jline_fn fn, void *arg, struct strbuf *files,
                      struct strbuf *problems)
{
        if (cf->owned_log && streq(path, cf->owned_log))
                return; /* the mediator collector's (mediator.log) */
        uint64_t tail = cf->log_tail;
        _cleanup_close_ int fd = rootfs_open_file(path, O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                if (fd != -ENOENT)
                        sb_printf(problems, "%s%s: %s", problems->len ? "; " : "", path, rootfs_strerror(fd < 0 ? fd : errno));
                return;
        }
        uint64_t size = (uint64_t)st.st_size, off = size > tail ? size - tail : 0;
        size_t want = (size_t)(size - off);
        char *buf = xmalloc(want + 1);
        size_t got = 0;
        while (got < want) {
                ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        buf[got] = 0;
        sb_printf(files, "%s%s (last %zu bytes)", files->len ? ", " : "", path, got);
        size_t pos = 0;
        if (off > 0) { /* the first line is cut: start after it */
                char *nl = memchr(buf, '\n', got);
                pos = nl ? (size_t)(nl - buf) + 1 : got;
        }
        while (pos < got) {
                char *nl = memchr(buf + pos, '\n', got - pos);
                size_t len = nl ? (size_t)(nl - (buf + pos)) : got - pos;
                struct jentry e = {.prio = -1};
                snprintf(e.src, sizeof(e.src), "file");
                jcopy(e.unit, sizeof(e.unit), path, strlen(path));
                jcopy(e.msg, sizeof(e.msg), buf + pos, len);
                snprintf(e.cursor, sizeof(e.cursor), "%.200s:+%" PRIu64, path, off + pos);
                if (jline_is_error(e.msg))
                        e.prio = 3;
                if (fn(arg, &e) < 0)
                        break;
                pos += len + 1;
        }
        free(buf);
}

void jlogs_read(const struct jconf *cf, jline_fn fn, void *arg, struct strbuf *files, struct strbuf *problems)
{
        char *paths[65];
        jsplit_list(cf->log_files, paths, 64);
        for (size_t i = 0; paths[i]; i++) {
                char *p = paths[i];
                char *slash = strrchr(p, '/');
                if (p[0] != '/' || !slash || strstr(p, "/../")) {
                        sb_printf(problems, "%s%s: not an absolute path", problems->len ? "; " : "", p);
                } else if (!strchr(slash, '*') && !strchr(slash, '?')) {
                        tail_file(cf, p, fn, arg, files, problems);
                } else {
                        _cleanup_free_ char *dir = xstrndup(p, (size_t)(slash - p) + 1);
                        struct rootfs_dir *d = rootfs_opendir(dir);
                        struct dirent *de;
                        unsigned n = 0;
                        while (d && (de = rootfs_readdir(d)) && n < 64) {
                                if (fnmatch(slash + 1, de->d_name, FNM_PERIOD) != 0)
                                        continue;
                                _cleanup_free_ char *f = xasprintf("%s%s", dir, de->d_name);
                                tail_file(cf, f, fn, arg, files, problems);
                                n++;
                        }
                        if (d)
                                rootfs_closedir(d);
                }
                free(p);
        }
}
