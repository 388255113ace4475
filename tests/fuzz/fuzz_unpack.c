/* `check --from BUNDLE`'s safe unpacking (report/unpack.c) of an untrusted archive,
 * into a fresh directory each time. Each input is unpacked twice: as an archive (tar,
 * any compression), and as a spec from which a tar is built, so that mutations reach
 * entry names, types and link targets instead of breaking header checksums. A spec
 * line is "TYPE NAME [TARGET-OR-CONTENT]", TYPE one of f d l h p c s (file, dir,
 * symlink, hard link, FIFO, char device, socket). Whatever is accepted must leave only
 * files, directories and symlinks whose targets are relative without "..". */
#include "tests/fuzz/fuzz.h"
#include "lib/util.h"
#include "report/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

static char base[] = "/tmp/fuzz_unpack.XXXXXX";

static void cleanup(void) { remove_tree(base); }

static int check_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)flag, (void)ftw;
        if (S_ISLNK(st->st_mode)) {
                char t[4096];
                ssize_t n = readlink(p, t, sizeof(t) - 1);
                if (n < 0)
                        abort();
                t[n] = 0;
                if (!unpack_link_target_ok(t))
                        abort(); /* an absolute or climbing link was written */
        } else if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
                abort(); /* a FIFO, device or socket was created */
        }
        return 0;
}

static void unpack_into_fresh_dir(const void *buf, size_t len)
{
        _cleanup_free_ char *d = xasprintf("%s/u.XXXXXX", base);
        if (!mkdtemp(d))
                abort();
        int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        static const struct unpack_limits lim = {.max_bytes = 1 << 20, .max_entries = 1000};
        char *err = NULL;
        if (unpack_buffer(buf, len, fd, &lim, &err) < 0 && !err)
                abort(); /* a refusal says why */
        free(err);
        close(fd);
        (void)nftw(d, check_one, 16, FTW_PHYS);
        remove_tree(d);
}

/* The spec -> a pax tar in memory (libarchive's writer). */
static void *tar_of_spec(const char *spec, size_t *len)
{
        size_t cap = 1 << 20;
        void *out = xmalloc(cap);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open_memory(a, out, cap, len) != ARCHIVE_OK)
                abort();
        _cleanup_free_ char *s = xstrdup(spec);
        char *save = NULL;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (!l[0] || l[1] != ' ')
                        continue;
                char *name = l + 2, *rest = strchr(name, ' ');
                if (rest)
                        *rest++ = 0;
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, name);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_mtime(e, 1796016000, 0);
                switch (l[0]) {
                case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
                case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, rest ? rest : ""); break;
                case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, rest ? rest : ""); break;
                case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
                case 'c': archive_entry_set_filetype(e, AE_IFCHR); archive_entry_set_rdev(e, 0x103); break;
                case 's': archive_entry_set_filetype(e, AE_IFSOCK); break;
                default:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_size(e, rest ? (la_int64_t)strlen(rest) : 0);
                }
                if (archive_write_header(a, e) == ARCHIVE_OK && l[0] == 'f' && rest)
                        (void)archive_write_data(a, rest, strlen(rest));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                ready = true;
                if (!mkdtemp(base))
                        abort();
                atexit(cleanup);
        }
        unpack_into_fresh_dir(data, size);
        char *spec = fz_str(data, size);
        size_t len = 0;
        void *tar = tar_of_spec(spec, &len);
        unpack_into_fresh_dir(tar, len);
        free(tar);
        free(spec);
        return 0;
}
