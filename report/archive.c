#include "config.h"
#include "report/archive.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

struct archive_out {
        struct archive *a;
        struct sha256 sha;
        uint64_t declared, written, total;
        bool in_entry;
};

struct archive_out *archive_out_open(int fd, bool gzip, bool *used_gzip, char **err)
{
        struct archive_out *o = xcalloc(1, sizeof(*o));
        o->a = archive_write_new();
        archive_write_set_format_pax_restricted(o->a);
        int r = ARCHIVE_FATAL;
        if (!gzip)
                r = archive_write_add_filter_zstd(o->a);
        if (r != ARCHIVE_OK) { /* asked for gzip, or this libarchive has no zstd */
                archive_write_free(o->a);
                o->a = archive_write_new();
                archive_write_set_format_pax_restricted(o->a);
                r = archive_write_add_filter_gzip(o->a);
                gzip = true;
        }
        *used_gzip = gzip;
        /* Do not pad the last block to 10 KiB for a file: pointless for bundles. */
        archive_write_set_bytes_in_last_block(o->a, 1);
        if (r != ARCHIVE_OK || archive_write_open_fd(o->a, fd) != ARCHIVE_OK) {
                *err = xstrdup(archive_error_string(o->a) ? archive_error_string(o->a) : "cannot start the archive");
                archive_write_free(o->a);
                free(o);
                return NULL;
        }
        return o;
}

static struct archive_entry *entry(const char *path, unsigned type, unsigned mode, uint64_t size, uint64_t mtime)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, mode);
        archive_entry_set_size(e, (la_int64_t)size);
        archive_entry_set_mtime(e, (time_t)mtime, 0);
        archive_entry_set_uname(e, "root");
        archive_entry_set_gname(e, "root");
        return e;
}

int archive_out_begin(struct archive_out *o, const char *path, uint64_t size, unsigned mode, uint64_t mtime_s)
{
        struct archive_entry *e = entry(path, AE_IFREG, mode, size, mtime_s);
        int r = archive_write_header(o->a, e);
        archive_entry_free(e);
        if (r < ARCHIVE_WARN)
                return -EIO;
        sha256_init(&o->sha);
        o->declared = size;
        o->written = 0;
        o->in_entry = true;
        return 0;
}

int archive_out_data(struct archive_out *o, const void *buf, size_t len)
{
        if (o->written + len > o->declared) /* never more than the header promised */
                len = (size_t)(o->declared - o->written);
        if (!len)
                return 0;
        if (archive_write_data(o->a, buf, len) < 0)
                return -EIO;
        sha256_update(&o->sha, buf, len);
        o->written += len;
        o->total += len;
        return 0;
}

uint64_t archive_out_end(struct archive_out *o, char sha[65])
{
        static const char zeros[4096];
        uint64_t padded = 0;
        while (o->written < o->declared) {
                size_t n = o->declared - o->written < sizeof(zeros) ? (size_t)(o->declared - o->written) : sizeof(zeros);
                if (archive_out_data(o, zeros, n) < 0)
                        break;
                padded += n;
        }
        archive_write_finish_entry(o->a);
        o->in_entry = false;
        sha256_hex(&o->sha, sha);
        return padded;
}

int archive_out_symlink(struct archive_out *o, const char *path, const char *target, uint64_t mtime_s)
{
        struct archive_entry *e = entry(path, AE_IFLNK, 0777, 0, mtime_s);
        archive_entry_set_symlink(e, target);
        int r = archive_write_header(o->a, e);
        archive_entry_free(e);
        return r < ARCHIVE_WARN ? -EIO : 0;
}

int archive_out_dir(struct archive_out *o, const char *path, uint64_t mtime_s)
{
        struct archive_entry *e = entry(path, AE_IFDIR, 0700, 0, mtime_s);
        int r = archive_write_header(o->a, e);
        archive_entry_free(e);
        return r < ARCHIVE_WARN ? -EIO : 0;
}

int archive_out_buffer(struct archive_out *o, const char *path, const void *buf, size_t len, uint64_t mtime_s, char sha[65])
{
        if (archive_out_begin(o, path, len, 0600, mtime_s) < 0)
                return -EIO;
        int r = archive_out_data(o, buf, len);
        archive_out_end(o, sha);
        return r;
}

int archive_out_close(struct archive_out *o, char **err)
{
        int r = archive_write_close(o->a);
        if (r != ARCHIVE_OK && err)
                *err = xstrdup(archive_error_string(o->a) ? archive_error_string(o->a) : "cannot finish the archive");
        archive_write_free(o->a);
        free(o);
        return r == ARCHIVE_OK ? 0 : -EIO;
}

uint64_t archive_out_bytes(struct archive_out *o) { return o->total; }
