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
/* Directory listing (names read at open, bounded; "." and ".." left out). Under a
 * bundle's snapshot the listing another collector saw is returned. */
struct rootfs_dir;
struct rootfs_dir *rootfs_opendir(const char *path);
struct dirent *rootfs_readdir(struct rootfs_dir *d);
void rootfs_closedir(struct rootfs_dir *d);
int rootfs_readlink(const char *path, char **out);
bool rootfs_exists(const char *path);

/* Tracing, for bundles: while on, every file read through here is remembered with
 * the exact bytes the checks saw, every directory listed with its names, and every
 * file only counted (maps) by path, so `evodiag bundle` can store exactly the
 * evidence and `check --from` reaches the same verdicts. */
enum trace_kind { TRACE_FILE, TRACE_COUNTED, TRACE_DIR, TRACE_LINK, TRACE_ERROR, TRACE_STAT };
struct trace_entry {
        char *path;
        enum trace_kind kind;
        char *data;       /* FILE: bytes read; LINK: target; DIR: names, '\n'-separated */
        size_t len;
        bool truncated;
        int error;        /* ERROR: the errno the read failed with (EACCES on a process's maps) */
        struct stat st;   /* STAT: what lstat/stat said (mode, owner, size of /dev/shm objects) */
};
void rootfs_trace_start(size_t max_bytes);
/* Stops recording; the entries stay valid (sending them reads files again). */
void rootfs_trace_stop(void);
/* Entries in the order first seen (duplicates folded); valid until the next call. */
const struct trace_entry *rootfs_trace_entries(size_t *n);
bool rootfs_tracing(void);
/* Records a file that was only counted (its lines), to be copied later, bounded. */
void rootfs_trace_counted(const char *path);

/* `check --from`: a path whose read failed on the original host fails the same way
 * here (the bundle's manifest records the errno), so verdicts match. */
void rootfs_inject_error(const char *path, int error);
int rootfs_injected_error(const char *path);
/* Records a failed read made outside rootfs_read (counted files). */
void rootfs_trace_failed(const char *path, int error);
/* `check --from`: what stat said on the original host (from the manifest). */
void rootfs_inject_stat(const char *path, const struct stat *st);

/* Bundles: one snapshot for all collectors. Files stored by an earlier collector
 * are what later ones read (they inherit this cache through fork), so findings
 * and evidence agree even for files that change between reads. */
void rootfs_snapshot_put(const char *path, const char *data, size_t len);
/* The snapshot's copy of a file, if it has one (not NUL-checked: data[len] is 0). */
bool rootfs_snapshot_get(const char *path, const char **data, size_t *len);
/* A directory's names, NUL-separated (len bytes). */
void rootfs_snapshot_put_dir(const char *path, const char *names, size_t len);
