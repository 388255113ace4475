#include "config.h"
#include "report/unpack.h"
#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void remove_tree(const char *dir)
{
        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool bad_path(const char *p)
{
        if (!p || !*p || p[0] == '/')
                return true;
        /* ".." as a whole component anywhere */
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if ((c == p || c[-1] == '/') && (c[2] == 0 || c[2] == '/'))
                        return true;
        return false;
}

/* A relative link target must stay inside the tree from where the link sits. */
static bool link_escapes(const char *path, const char *target)
{
        if (!target || target[0] == '/')
                return true;
        int depth = 0;
        for (const char *p = path; *p; p++)
                depth += *p == '/';
        _cleanup_free_ char *t = xstrdup(target);
        char *save = NULL;
        for (char *part = strtok_r(t, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
                if (streq(part, ".."))
                        depth--;
                else if (!streq(part, "."))
                        depth++;
                if (depth < 0)
                        return true;
        }
        return false;
}

int unpack_bundle(const char *archive, char **dir, char **err)
{
        *dir = NULL;
        *err = NULL;
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char *d = xasprintf("%s/evodiag-from-XXXXXX", tmp);
        if (!mkdtemp(d)) {
                *err = xasprintf("cannot create a directory in %s: %s", tmp, strerror(errno));
                free(d);
                return -errno;
        }
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        archive_read_support_filter_all(a);
        struct archive *w = archive_write_disk_new();
        /* Paths are checked below (and made absolute under d); libarchive also refuses
         * ".." and writing through symlinks. */
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                  ARCHIVE_EXTRACT_NO_OVERWRITE);
        int r = 0;
        if (archive_read_open_filename(a, archive, 65536) != ARCHIVE_OK) {
                *err = xasprintf("%s: %s", archive, archive_error_string(a));
                r = -EINVAL;
                goto done;
        }
        struct archive_entry *e;
        uint64_t bytes = 0;
        size_t entries = 0;
        int hr;
        while ((hr = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                _cleanup_free_ char *p = archive_entry_pathname(e) ? xstrdup(archive_entry_pathname(e)) : NULL;
                unsigned type = archive_entry_filetype(e);
                if (bad_path(p)) {
                        *err = xasprintf("refusing entry '%s': absolute or climbing path", p ? p : "");
                        r = -EPERM;
                        break;
                }
                if (type == AE_IFLNK && link_escapes(p, archive_entry_symlink(e))) {
                        *err = xasprintf("refusing link '%s' -> '%s': it leaves the bundle", p, archive_entry_symlink(e));
                        r = -EPERM;
                        break;
                }
                if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
                        *err = xasprintf("refusing entry '%s': only files, directories and symlinks belong in a bundle", p);
                        r = -EPERM;
                        break;
                }
                bytes += (uint64_t)archive_entry_size(e);
                if (++entries > UNPACK_MAX_ENTRIES || bytes > UNPACK_MAX_BYTES) {
                        *err = xasprintf("refusing %s: more than %d entries or %llu bytes", archive, UNPACK_MAX_ENTRIES,
                                         (unsigned long long)UNPACK_MAX_BYTES);
                        r = -EFBIG;
                        break;
                }
                _cleanup_free_ char *dest = xasprintf("%s/%s", d, p);
                archive_entry_set_pathname(e, dest);
                archive_entry_set_perm(e, type == AE_IFDIR ? 0700 : 0600);
                if (archive_write_header(w, e) != ARCHIVE_OK) {
                        *err = xasprintf("cannot unpack '%s': %s", p, archive_error_string(w));
                        r = -EIO;
                        break;
                }
                const void *buf;
                size_t len;
                la_int64_t off;
                int dr;
                while ((dr = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                        if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK)
                                break;
                if (dr < ARCHIVE_WARN) {
                        *err = xasprintf("'%s' is truncated or corrupt: %s", p, archive_error_string(a));
                        r = -EIO;
                        break;
                }
                archive_write_finish_entry(w);
        }
        if (!r && hr != ARCHIVE_EOF) {
                *err = xasprintf("%s: %s", archive, archive_error_string(a) ? archive_error_string(a) : "not a bundle");
                r = -EINVAL;
        }
done:
        archive_read_free(a);
        archive_write_free(w);
        if (r) {
                remove_tree(d);
                free(d);
                return r;
        }
        *dir = d;
        return 0;
}
