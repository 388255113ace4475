/* Where `evodiag bundle` writes: the archive's name, a temporary file beside the
 * final one that is renamed only when whole, the stale temporaries of runs that
 * were killed, and the obfuscation key kept on this host. */
#include "config.h"
#include "report/bundle_output.h"
#include "lib/child.h"
#include "lib/namefit.h"
#include "lib/util.h"
#include "lib/redact.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <time.h>

char *bundle_name(const char *host, uint64_t realtime_ms, const char *tag)
{
        time_t t = (time_t)(realtime_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char when[32];
        strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
        /* The host name as a file name part: plain characters, at most HOST_NAME_MAX
         * (64) bytes (a --root tree's /etc/hostname can say anything). */
        _cleanup_free_ char *h = name_plain(host, "host", 64), *g = tag ? name_plain(tag, "x", 128) : NULL;
        return g ? xasprintf("evodiag-%s-%s-%s", h, when, g) : xasprintf("evodiag-%s-%s", h, when);
}

/* Temporary names: ".<final name>.evodiag-tmp-XXXXXX" beside the final file. */
#define TMP_MARK ".evodiag-tmp-"
#define TMP_RANDOM 6                /* mkostemp's XXXXXX */
#define STALE_TMP_S 3600            /* older than this, no run is still writing it */
#define STALE_SCAN_MAX 100000       /* directory entries looked at */

static bool is_our_temp(const char *name)
{
        size_t n = strlen(name), m = strlen(TMP_MARK);
        if (name[0] != '.' || n < 2 + m + TMP_RANDOM || strncmp(name + n - TMP_RANDOM - m, TMP_MARK, m) != 0)
                return false;
        for (size_t i = n - TMP_RANDOM; i < n; i++)
                if (!isalnum((unsigned char)name[i]))
                        return false;
        return true;
}

/* What a SIGKILLed run left behind: evodiag's own temporary archives in dir, by
 * exact name pattern, regular files owned by us, untouched for an hour and not
 * locked by a run still writing them; never following a link. Returns how many. */
static size_t clean_stale_temps(const char *dir)
{
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return 0;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return 0;
        }
        size_t removed = 0, looked = 0;
        time_t now = time(NULL);
        struct dirent *de;
        while (looked++ < STALE_SCAN_MAX && (de = readdir(d))) {
                struct stat st, fst;
                if (!is_our_temp(de->d_name) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    st.st_uid != geteuid() || st.st_nlink != 1 || now - st.st_mtime < STALE_TMP_S)
                        continue;
                int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                /* The same file, and no run holds its lock (see open_output). */
                if (fstat(fd, &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino &&
                    flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, de->d_name, 0) == 0)
                        removed++;
                close(fd);
        }
        closedir(d);
        return removed;
}

const char *bundle_default_dir(void)
{
        return geteuid() == 0 ? "/var/tmp" : ".";
}

/* The directory the archive goes to: there, a directory, writable, room for a small
 * bundle; and the final name, when it exists, is a file it may replace. */
static int check_dir(const char *dir, const char *final)
{
        struct stat st;
        struct statvfs vfs;
        if (stat(dir, &st) < 0) {
                int e = errno;
                fprintf(stderr, "evodiag: cannot write %s: %s: %s (nothing was collected)\n", final, dir, strerror(e));
                return -e;
        }
        if (!S_ISDIR(st.st_mode)) {
                fprintf(stderr, "evodiag: cannot write %s: %s is not a directory (nothing was collected)\n", final, dir);
                return -ENOTDIR;
        }
        if (access(dir, W_OK | X_OK) < 0) {
                int e = errno;
                fprintf(stderr, "evodiag: cannot write into %s: %s (nothing was collected)\n", dir, strerror(e));
                return -e;
        }
        if (lstat(final, &st) == 0 && !S_ISREG(st.st_mode)) {
                fprintf(stderr, "evodiag: %s exists and is not a regular file (nothing was collected)\n", final);
                return -EEXIST;
        }
        if (statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < BUNDLE_MIN_FREE) {
                char sz[32];
                fprintf(stderr, "evodiag: %s has %s free, less than a small bundle needs (nothing was collected)\n", dir,
                        fmt_bytes((uint64_t)vfs.f_bavail * vfs.f_frsize, sz));
                return -ENOSPC;
        }
        return 0;
}

int bundle_write_sha256(const char *final, const char *sha256)
{
        _cleanup_free_ char *p = xasprintf("%s.sha256", final), *b1 = xstrdup(final);
        _cleanup_free_ char *line = xasprintf("%s  %s\n", sha256, basename(b1));
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, line, strlen(line));
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        return r < 0 ? r : 0;
}

/* Where the archive goes: a temporary name in the target directory, renamed when whole. */
int bundle_open_output(const char *output, const char *defname, char **final, char **tmp, int *fd, size_t *stale)
{
        *final = *tmp = NULL;
        *stale = 0;
        if (output && streq(output, "-")) {
                if (isatty(STDOUT_FILENO)) {
                        fprintf(stderr, "evodiag: refusing to write a binary archive to a terminal (use -o FILE or redirect)\n");
                        return -EINVAL;
                }
                *fd = STDOUT_FILENO;
                *final = xstrdup("-");
                return 0;
        }
        struct stat st;
        const char *where = output ? output : bundle_default_dir();
        bool is_dir = stat(where, &st) == 0 && S_ISDIR(st.st_mode);
        size_t ol = strlen(where);
        if (!is_dir && (ol == 0 || where[ol - 1] == '/')) {
                fprintf(stderr, "evodiag: -o %s: no such directory (nothing was collected)\n", where);
                return -ENOTDIR;
        }
        if (is_dir)
                *final = xasprintf("%s%s%s", where, where[ol - 1] == '/' ? "" : "/", defname);
        else
                *final = xstrdup(where);
        _cleanup_free_ char *d1 = xstrdup(*final), *b1 = xstrdup(*final);
        const char *dir = dirname(d1);
        int vr = check_dir(dir, *final);
        if (vr < 0) {
                free(*final);
                *final = NULL;
                return vr;
        }
        _cleanup_free_ char *base = name_fit(basename(b1), NAME_COMPONENT_MAX - 1 - strlen(TMP_MARK) - TMP_RANDOM);
        *stale = clean_stale_temps(dir);
        *tmp = xasprintf("%s/.%s" TMP_MARK "XXXXXX", dir, base);
        *fd = mkostemp(*tmp, O_CLOEXEC);
        if (*fd < 0) {
                int e = errno;
                fprintf(stderr, "evodiag: cannot create %s: %s\n", *tmp, strerror(e));
                free(*tmp);
                *tmp = NULL;
                return -e;
        }
        (void)fchmod(*fd, 0600);
        /* Held until the file is renamed or gone: a later run never takes it for stale. */
        (void)flock(*fd, LOCK_EX | LOCK_NB);
        return 0;
}

static int spill_in(const char *dir)
{
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
                return fd >= 0 ? fd : -errno;
        /* no O_TMPFILE on this file system: a name of ours (a killed run's is stale), unlinked */
        _cleanup_free_ char *p = xasprintf("%s/.spill" TMP_MARK "XXXXXX", dir);
        fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void)unlink(p);
        return fd;
}

int bundle_spill_open(const char *tmp)
{
        if (tmp) {
                _cleanup_free_ char *d = xstrdup(tmp);
                return spill_in(dirname(d));
        }
        const char *env = getenv("TMPDIR");
        int r = env && *env ? spill_in(env) : -ENOENT;
        if (r < 0)
                r = spill_in("/var/tmp");
        if (r < 0)
                r = spill_in("/tmp");
        return r;
}

int bundle_obfuscation_key(const char *state_dir, const char *host, struct redactor *red)
{
        uint8_t key[32];
        _cleanup_free_ char *kp = xasprintf("%s/obfuscate.key", state_dir);
        int fd = open(kp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && read_full(fd, key, 32) == 32) {
                close(fd);
        } else {
                if (fd >= 0)
                        close(fd);
                /* A new key: kept on this host so the same address maps the same way next time. */
                int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
                if (rnd < 0 || read_full(rnd, key, 32) != 32) {
                        if (rnd >= 0)
                                close(rnd);
                        return -EIO;
                }
                close(rnd);
                (void)mkdir(state_dir, 0700);
                fd = open(kp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 || write_all(fd, key, 32) < 0) {
                        fprintf(stderr, "evodiag: cannot keep the obfuscation key at %s: %s\n", kp, strerror(errno));
                        if (fd >= 0)
                                close(fd);
                        return -EIO;
                }
                close(fd);
        }
        const char *names[] = {host, NULL};
        redactor_obfuscate(red, key, names);
        return 0;
}

