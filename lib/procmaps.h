/* One line of /proc/PID/maps, in the kernel's show_map_vma() format:
 *   start-end perms offset major:minor inode [path]
 *   7f3a00000000-7f3a00001000 r--s 00000000 00:1b 97          /dev/shm/evo_hal_cu
 * The one parser of that format (the shm and evo collectors use it). It trusts nothing:
 * every number is bounded (addresses and offset 16 hex digits, the device 8+8, the
 * inode 20 decimal digits without overflow), the permissions are four of [r-][w-][x-][ps],
 * and a line not in the format is -EINVAL. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procmaps_entry {
        uint64_t start, end;
        char perms[5];     /* "r--s", NUL-terminated */
        uint64_t offset;   /* the file offset the mapping starts at */
        unsigned maj, min; /* the device (hex in the file) */
        uint64_t inode;
        const char *path;  /* points into the line, path_len bytes (not NUL-terminated), without
                              the trailing blanks and " (deleted)"; empty for anonymous memory */
        size_t path_len;
        bool deleted;      /* " (deleted)": the file was unlinked while mapped */
};

/* Parses one line (a trailing newline is allowed). 0, or -EINVAL. */
int procmaps_parse(const char *line, struct procmaps_entry *out);

/* Whether the path names an entry directly in dir ("/dev/shm/x", not "/dev/shm/a/b",
 * "/dev/shm/" or "/dev/shmx"): the entry's name (not NUL-terminated) in *name, *len. */
bool procmaps_in_dir(const struct procmaps_entry *e, const char *dir, const char **name, size_t *len);

/* Whether a maps text (len bytes) has a line that tells who maps shared memory: a
 * path with "shm" in it (/dev/shm objects, /run/shm), a SysV segment ("/SYSV..."),
 * a path under also (where /dev/shm leads, when it is a link; NULL: none), or a line
 * not in the format (not judged: kept). *lines: its lines, as rootfs_count_lines
 * counts them (a last line without a newline counts). A bundle keeps only the line
 * count of a maps file without such a line (collectors/sink.c). */
bool procmaps_text_maps_shm(const char *text, size_t len, const char *also, long *lines);
