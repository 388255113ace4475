/* lib/tail: a bounded tail of a file (moved here from the framealloc collector). */
#include "config.h"
#include "lib/tail.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long file_tail(const char *path, size_t max, char **out, bool *cut)
{
        *out = NULL;
        if (cut)
                *cut = false;
        if (!max)
                max = 1;
        int fd = rootfs_open_file(path, O_NOFOLLOW);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        off_t start = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
        char *buf = xmalloc(max + 1);
        size_t got = 0;
        while (got < max) {
                ssize_t r = pread(fd, buf + got, max - got, start + (off_t)got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        close(fd);
        buf[got] = 0;
        if (start > 0) { /* drop the partial first line */
                if (cut)
                        *cut = true;
                char *nl = memchr(buf, '\n', got);
                size_t skip = nl ? (size_t)(nl - buf) + 1 : got;
                memmove(buf, buf + skip, got - skip + 1);
                got -= skip;
        }
        *out = buf;
        return (long)got;
}
