/* Root-aware reading: every read of /proc, /sys, /etc, /dev/shm, /var goes through
 * here so that --root DIR (fixture trees, unpacked bundles) sees the same code path. */
#pragma once
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define READ_MAX_DEFAULT (4u << 20) /* no file we parse is legitimately larger */

/* Sets the root for this process ("/" or NULL = the live system). */
void rootfs_set(const char *root);
const char *rootfs_get(void);
bool rootfs_is_live(void);
/* ROOT + path, newly allocated. */
char *rootfs_path(const char *path);

/* Reads a whole file (up to max bytes, NUL-terminated). Returns bytes read or -errno.
 * *truncated is set when the file was longer than max. */
long rootfs_read(const char *path, size_t max, char **out, bool *truncated);
/* Reads a file and strips trailing white space; convenient for sysfs/sysctl values. */
int rootfs_read_value(const char *path, char **out);
int rootfs_read_u64(const char *path, uint64_t *out);
int rootfs_stat(const char *path, struct stat *st, bool follow);
DIR *rootfs_opendir(const char *path);
int rootfs_readlink(const char *path, char **out);
bool rootfs_exists(const char *path);

/* Tracing, for bundles: while on, every file read through here is remembered with
 * the exact bytes the checks saw, every directory listed with its names, and every
 * file only counted (maps) by path, so `evodiag bundle` can store exactly the
 * evidence and `check --from` reaches the same verdicts. */
enum trace_kind { TRACE_FILE, TRACE_COUNTED, TRACE_DIR, TRACE_LINK };
struct trace_entry {
        char *path;
        enum trace_kind kind;
        char *data;       /* FILE: bytes read; LINK: target; DIR: names, '\n'-separated */
        size_t len;
        bool truncated;
};
void rootfs_trace_start(size_t max_bytes);
/* Entries in the order first seen (duplicates folded); valid until the next call. */
const struct trace_entry *rootfs_trace_entries(size_t *n);
/* Records a read made outside rootfs (libproc2) so the bundle still holds it. */
void rootfs_trace_note(const char *path);
/* Records a file that was only counted (its lines), to be copied later, bounded. */
void rootfs_trace_counted(const char *path);
