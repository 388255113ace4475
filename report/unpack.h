/* Safe unpacking of a bundle for `check --from`, into a directory given by an fd.
 * Every entry is created by the kernel beneath that directory and never through a
 * symlink (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk);
 * absolute and climbing paths, links whose target is absolute or has a ".."
 * component, hard links to anything but a regular file unpacked before, devices,
 * FIFOs and sockets are refused by name; sizes and entry counts stay within the
 * bundle's own budget; a write error (ENOSPC, EFBIG) stops it with a message.
 * Untrusted input: callers run these in a child under a deadline (report/from.c).
 * An unpacked directory (check --from DIR) is not walked here: collectors read it
 * through lib/rootfs, which resolves every path inside the root by the kernel. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNPACK_MAX_BYTES (512ull << 20) /* = evodiag bundle's default --max-size */
#define UNPACK_MAX_ENTRIES 200000
#define UNPACK_MAX_PATH 4096

struct unpack_limits {
        uint64_t max_bytes;  /* file contents, all entries together */
        size_t max_entries;
};

/* Unpacks the tar (plain, zstd, gzip, xz or bzip2) read from archive_fd into the
 * directory dirfd. 0, or -errno with *err naming the entry and the reason (then the
 * directory may hold part of it: the caller removes it). lim NULL: the defaults. */
int unpack_fd(int archive_fd, int dirfd, const struct unpack_limits *lim, char **err);
/* The same from memory: the pure entry point (fuzzing, unit tests). */
int unpack_buffer(const void *buf, size_t len, int dirfd, const struct unpack_limits *lim, char **err);

/* Whether a symlink target may appear in a bundle: relative, no ".." component. */
bool unpack_link_target_ok(const char *target);
/* Opens `path` (relative) beneath dirfd, by the kernel: never through a symlink and
 * never outside. flags as for openat (O_NOFOLLOW is implied). fd or -errno. */
int unpack_open_beneath(int dirfd, const char *path, int flags);

/* Removes a tree without following links. */
void remove_tree(const char *dir);
