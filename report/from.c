#include "config.h"
#include "report/from.h"
#include "collectors/frame.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "report/unpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#define FROM_RESULT_MAX (256u << 20) /* what the reader may send back (a 64 MiB manifest encodes smaller) */
#define FROM_ERROR_MAX 4096
#define TOP_SCAN_MAX 10000
#define HOSTNAME_FILE_MAX 4096

struct from_arg {
        const char *from;
        const char *tmp;
};

/* A regular file beneath dirfd, whole, at most max bytes (never a FIFO: no blocking). */
static int read_beneath(int dirfd, const char *path, size_t max, char **buf, size_t *len)
{
        *buf = NULL;
        *len = 0;
        int fd = unpack_open_beneath(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd;
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else if ((uint64_t)st.st_size > max)
                r = -EFBIG;
        if (r) {
                close(fd);
                return r;
        }
        *buf = xmalloc((size_t)st.st_size + 1);
        long n = read_full(fd, *buf, (size_t)st.st_size);
        close(fd);
        if (n < 0) {
                free(*buf);
                *buf = NULL;
                return (int)n;
        }
        (*buf)[n] = 0;
        *len = (size_t)n;
        return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *read_error(int r)
{
        return r == -EINVAL ? "not a regular file"
               : r == -EFBIG ? "larger than " STR(MANIFEST_MAX_MIB) " MiB"
               : r == -ELOOP ? "a symlink"
                             : strerror(-r);
}

/* "." when manifest.json is at the top, else the (alphabetically first) directory
 * right below that holds one. */
static char *find_top(int rootfd)
{
        struct stat st;
        if (fstatat(rootfd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                return xstrdup(".");
        int dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return NULL;
        }
        char *best = NULL;
        size_t seen = 0;
        struct dirent *de;
        while ((de = readdir(d)) && seen++ < TOP_SCAN_MAX) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *m = xasprintf("%s/manifest.json", de->d_name);
                if (fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
                    fstatat(rootfd, m, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && (!best || strcmp(de->d_name, best) < 0)) {
                        free(best);
                        best = xstrdup(de->d_name);
                }
        }
        closedir(d);
        return best;
}

/* For a manifest without "host": the tree's own hostname files, regular files only. */
static char *host_from_tree(int topfd)
{
        static const char *const files[] = {"host/proc/sys/kernel/hostname", "host/etc/hostname"};
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                char *buf;
                size_t len;
                if (read_beneath(topfd, files[i], HOSTNAME_FILE_MAX, &buf, &len) < 0)
                        continue;
                bool nul = memchr(buf, 0, len) != NULL;
                buf[strcspn(buf, "\n")] = 0;
                char *h = strstrip(buf);
                if (!nul && *h && strlen(h) <= 255) {
                        char *r = xstrdup(h);
                        free(buf);
                        return r;
                }
                free(buf);
        }
        return xstrdup("unknown");
}

static int load(const struct from_arg *a, struct bundle_info *bi, char **err)
{
        *err = NULL;
        _cleanup_close_ int fd = open(a->from, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                *err = xstrdup(strerror(e));
                return -e;
        }
        int r, rootfd;
        _cleanup_close_ int tmpfd = -1;
        if (S_ISDIR(st.st_mode)) {
                rootfd = fd; /* its links are resolved inside it by rootfs when read */
        } else if (S_ISREG(st.st_mode)) {
                tmpfd = open(a->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (tmpfd < 0) {
                        int e = errno;
                        *err = xasprintf("%s: %s", a->tmp, strerror(e));
                        return -e;
                }
                rootfd = tmpfd;
                if ((r = unpack_fd(fd, rootfd, NULL, err)) < 0) {
                        if (*err && startswith(*err, "cannot unpack")) {
                                /* ENOSPC, EFBIG past RLIMIT_FSIZE, EDQUOT...: say where */
                                char *e = xasprintf("%s (unpacking into %s); nothing was checked", *err, a->tmp);
                                free(*err);
                                *err = e;
                        }
                        return r;
                }
                bi->unpacked = (struct mf_bool){.set = true, .v = true};
        } else {
                *err = xasprintf("not a bundle: %s", S_ISFIFO(st.st_mode)   ? "a FIFO"
                                                     : S_ISSOCK(st.st_mode) ? "a socket"
                                                                            : "a device, not a file or directory");
                return -EINVAL;
        }
        _cleanup_free_ char *top = find_top(rootfd);
        if (!top) {
                *err = xstrdup("no manifest.json: not an evodiag bundle");
                return -EINVAL;
        }
        _cleanup_close_ int topfd = openat(rootfd, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (topfd < 0) {
                int e = errno;
                *err = xasprintf("%s: %s", top, strerror(e));
                return -e;
        }
        char *buf;
        size_t len;
        if ((r = read_beneath(topfd, "manifest.json", MANIFEST_MAX_BYTES, &buf, &len)) < 0) {
                *err = xasprintf("manifest.json: %s", read_error(r));
                return r;
        }
        struct manifest man;
        r = manifest_parse(buf, len, &man, err);
        free(buf);
        if (r < 0)
                return r;
        bi->artifacts = man.artifacts;
        man.artifacts = (struct mf_array){0};
        bi->host = man.host ? xstrdup(man.host) : host_from_tree(topfd);
        bi->captured = man.start ? xstrdup(man.start) : NULL;
        manifest_free(&man);

        r = read_beneath(topfd, "findings.json", MANIFEST_MAX_BYTES, &buf, &len);
        if (r < 0) {
                bi->findings_problem = xasprintf("the bundle's findings.json is %s: nothing to compare with",
                                                 r == -ENOENT ? "missing" : read_error(r));
        } else {
                struct recorded rec;
                r = recorded_parse(buf, len, &rec, err);
                free(buf);
                if (r < 0)
                        return r;
                r = recorded_to_collectors(&rec, &bi->collectors, err);
                recorded_free(&rec);
                if (r < 0)
                        return r;
        }
        if (fstatat(topfd, "host", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
                bi->has_host = (struct mf_bool){.set = true, .v = true};
        else if (bi->unpacked.v && mkdirat(topfd, "host", 0700) == 0) /* no host evidence: every check says unknown */
                bi->has_host = (struct mf_bool){.set = true, .v = true};
        bi->top = xstrdup(top);
        return 0;
}

static void from_child(void *arg, int wfd)
{
        /* Past RLIMIT_FSIZE a write fails with EFBIG (a message) instead of killing us. */
        signal(SIGXFSZ, SIG_IGN);
        struct bundle_info bi = {0};
        char *err = NULL;
        struct strbuf out = {0};
        if (load(arg, &bi, &err) < 0) {
                sb_putc(&out, 'E');
                sb_puts(&out, err ? err : "cannot be read");
        } else {
                sb_putc(&out, 'K');
                bundle_info_encode(&bi, &out);
        }
        json_object *h = json_object_new_object();
        json_object_object_add(h, "t", json_object_new_string("result"));
        if (frame_write(wfd, h, out.s, out.len) < 0)
                _exit(2);
}

static void remove_tmp(void *arg) /* in the helper, after we are gone */
{
        const char *dir = arg;
        struct stat st;
        /* A killed unpacker may still be finishing its last write: retry a little. */
        for (int i = 0; i < 50 && lstat(dir, &st) == 0; i++) {
                remove_tree(dir);
                if (lstat(dir, &st) == 0)
                        usleep(100000);
        }
}

/* The child's answer (one result frame, collectors/frame.h), until the deadline or
 * too much: 0 (out empty when it sent none), -ETIMEDOUT, -EFBIG, or another <0 when
 * what it sent is not a frame (it is killed). */
static int collect(int fd, uint64_t deadline, struct strbuf *out)
{
        struct frame_reader r;
        frame_reader_init(&r, fd, FROM_RESULT_MAX);
        r.deadline_ms = deadline;
        struct frame f;
        int k = frame_read(&r, &f);
        if (k > 0 && f.type && streq(f.type, "result")) {
                const char *chunk;
                long n;
                while ((n = frame_read_payload(&r, &chunk)) > 0)
                        sb_putn(out, chunk, (size_t)n);
                k = n < 0 ? (int)n : 0;
        } else if (k > 0) {
                k = -EPROTO;
        }
        if (k == -EPIPE || k == -EBADMSG) { /* it stopped: its exit status says why */
                sb_free(out);
                k = 0;
        }
        frame_reader_free(&r);
        return k;
}

int from_open(const char *from, uint64_t deadline_ms, struct from_bundle *fb, char **err)
{
        *fb = (struct from_bundle){0};
        *err = NULL;
        const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        fb->tmp = xasprintf("%s/evodiag-from-XXXXXX", tmp);
        if (!mkdtemp(fb->tmp)) {
                int e = errno;
                *err = xasprintf("cannot create a directory in %s: %s", tmp, strerror(e));
                free(fb->tmp);
                fb->tmp = NULL;
                return -e;
        }
        int r = child_on_exit(remove_tmp, fb->tmp);
        struct child ch;
        if (r < 0 || (r = child_start(&ch, "from", from_child, &(struct from_arg){.from = from, .tmp = fb->tmp})) < 0) {
                *err = xasprintf("cannot start the bundle reader: %s", strerror(-r));
                from_close(fb);
                return r;
        }
        struct strbuf out = {0};
        int cr = collect(ch.fd, deadline_ms, &out);
        bool abandoned = false;
        int status = child_reap(ch.pid, cr < 0, &abandoned);
        close(ch.fd);
        _cleanup_free_ char *crash = cr < 0 ? NULL : child_status_error(status);
        if (cr == -ETIMEDOUT) {
                *err = xstrdup("reading the bundle did not finish within the run's --timeout: stopped, nothing was checked");
                r = -ETIMEDOUT;
        } else if (cr == -EFBIG) {
                *err = xasprintf("the bundle reader sent more than %u MiB: stopped", FROM_RESULT_MAX >> 20);
                r = -EFBIG;
        } else if (crash) {
                *err = xasprintf("the bundle reader failed (%s): the bundle is not usable", crash);
                r = -EIO;
        } else if (out.len && out.s[0] == 'E') {
                size_t n = out.len - 1 < FROM_ERROR_MAX ? out.len - 1 : FROM_ERROR_MAX;
                _cleanup_free_ char *raw = xstrndup(out.s + 1, n);
                *err = str_printable(raw);
                r = -EINVAL;
        } else if (out.len && out.s[0] == 'K') {
                r = bundle_info_decode(out.s + 1, out.len - 1, &fb->info, err);
        } else {
                *err = xstrdup("the bundle reader sent no usable result");
                r = -EPROTO;
        }
        sb_free(&out);
        if (r < 0) {
                from_close(fb);
                return r;
        }
        const char *root = fb->info.unpacked.v ? fb->tmp : from;
        fb->top = streq(fb->info.top, ".") ? xstrdup(root) : xasprintf("%s/%s", root, fb->info.top);
        fb->host_root = fb->info.has_host.v ? xasprintf("%s/host", fb->top) : xstrdup(fb->tmp);
        if (!fb->info.host)
                fb->info.host = xstrdup("unknown");
        return 0;
}

void from_close(struct from_bundle *fb)
{
        if (fb->tmp) {
                remove_tree(fb->tmp);
                free(fb->tmp);
        }
        free(fb->top);
        free(fb->host_root);
        bundle_info_free(&fb->info);
        *fb = (struct from_bundle){0};
}
