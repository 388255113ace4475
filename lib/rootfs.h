/* Root-aware reading: every read of /proc, /sys, /etc, /dev/shm, /var goes through
 * here so that --root DIR (fixture trees, unpacked bundles) sees the same code path.
 *
 * Under --root every path is resolved by the kernel inside the root, never by
 * gluing strings: the root is opened once and each path is opened with
 * openat2(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so an absolute
 * link means ROOT/target, ".." stops at the root and procfs magic links are refused
 * (ELOOP). Where openat2 is missing or filtered (ENOSYS, EPERM under seccomp) the
 * same is done by hand: one component at a time with O_PATH|O_NOFOLLOW, links read
 * and resolved inside the root, at most ROOTFS_LINKS_MAX of them (ELOOP). The live
 * system ("/") is the host and keeps ordinary semantics.
 *
 * Every file opened to be read is refused at once unless it is a regular file
 * (O_NONBLOCK, then fstat): a FIFO, socket or device never blocks a reader; those
 * reads fail with -ROOTFS_ENOTREG (directories with -EISDIR). */
#pragma once
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define READ_MAX_DEFAULT (4u << 20) /* no file we parse is legitimately larger */
#define ROOTFS_LINKS_MAX 40         /* as the kernel's MAXSYMLINKS */
/* "not a regular file": Linux has no errno of its own for it (no EFTYPE); use
 * rootfs_strerror() for messages. Recorded and replayed like any other errno. */
#define ROOTFS_ENOTREG EMEDIUMTYPE

/* Sets the root for this process ("/" or NULL = the live system) and opens it.
 * Returns 0 or -errno (the root cannot be opened as a directory; every later
 * read then fails with that error). */
int rootfs_set(const char *root);
const char *rootfs_get(void); /* for messages only: never build a path from it */
bool rootfs_is_live(void);

/* Opens PATH (as on the inspected host) inside the root; flags as for open(2),
 * O_CLOEXEC added; O_NOFOLLOW: a link as last component is not followed (with
 * O_PATH: the link itself). Returns an fd or -errno. */
int rootfs_open(const char *path, int flags);
/* Opens a file to read it: O_RDONLY|O_NONBLOCK|O_NOCTTY plus `flags` (O_NOFOLLOW),
 * and only if it is a regular file: -EISDIR for a directory, -ROOTFS_ENOTREG for a
 * FIFO, socket or device. The fd keeps O_NONBLOCK (no effect on regular files). */
int rootfs_open_file(const char *path, int flags);
/* Closes every descriptor from 3 up but a, b (or -1) and the root's own: for
 * children that must not hold their parent's pipes. */
void rootfs_close_fds_except(int a, int b);
/* strerror(), with words for ROOTFS_ENOTREG. err may be negative. */
const char *rootfs_strerror(int err);

/* Reads a whole file (up to max bytes, NUL-terminated). Returns bytes read or -errno
 * (*out is then NULL). *truncated is set when the file was longer than max. */
long rootfs_read(const char *path, size_t max, char **out, bool *truncated);
/* Reads a file and strips trailing white space; convenient for sysfs/sysctl values.
 * *out is NULL on failure. */
int rootfs_read_value(const char *path, char **out);
int rootfs_read_u64(const char *path, uint64_t *out);
/* Counts lines of a (possibly large) file without holding it in memory. */
long rootfs_count_lines(const char *path);
/* follow=false: lstat semantics (a link as last component is not followed). */
int rootfs_stat(const char *path, struct stat *st, bool follow);
/* Directory listing (names read at open, bounded; "." and ".." left out). Under a
 * bundle's snapshot the listing another collector saw is returned. */
#define ROOTFS_DIR_MAX 100000 /* names a listing keeps; lib/dircount.h counts without a bound */
struct rootfs_dir;
struct rootfs_dir *rootfs_opendir(const char *path);
struct dirent *rootfs_readdir(struct rootfs_dir *d);
void rootfs_closedir(struct rootfs_dir *d);
int rootfs_readlink(const char *path, char **out);
bool rootfs_exists(const char *path);

/* Tracing, for bundles: while on, every file read through here is remembered with
 * the exact bytes the checks saw, every directory listed with its names, and every
 * file only counted (maps) by path and line count, so `evodiag bundle` can store
 * exactly the evidence and `check --from` reaches the same verdicts. */
enum trace_kind { TRACE_FILE, TRACE_COUNTED, TRACE_DIR, TRACE_LINK, TRACE_ERROR, TRACE_STAT };
struct trace_entry {
        char *path;
        enum trace_kind kind;
        char *data;       /* FILE: bytes read (NULL when snapshot); LINK: target; DIR: names, NUL-separated */
        size_t len;
        bool truncated;
        bool snapshot;    /* FILE: read from the bundle's snapshot: its first len bytes are the
                             bytes read (rootfs_snapshot_get; not copied: a collector reads
                             thousands of files an earlier one stored) */
        int error;        /* ERROR: the errno the read failed with (EACCES on a process's maps) */
        long count;       /* COUNTED: the lines counted (the stored copy may be cut) */
        struct stat *st;  /* STAT: what lstat/stat said (mode, owner, size of /dev/shm objects) */
};
void rootfs_trace_start(size_t max_bytes);
/* Stops recording; the entries stay valid (sending them reads files again). */
void rootfs_trace_stop(void);
/* Entries in the order first seen (duplicates folded); valid until the next call. */
const struct trace_entry *rootfs_trace_entries(size_t *n);
bool rootfs_tracing(void);
/* The entry of that kind for path, NULL if none. */
const struct trace_entry *rootfs_trace_find(const char *path, enum trace_kind kind);

/* `check --from`: a path whose read failed on the original host fails the same way
 * here (the bundle's manifest records the errno), so verdicts match. */
void rootfs_inject_error(const char *path, int error);
int rootfs_injected_error(const char *path);
/* Records a failed read made outside rootfs_read (files opened by hand). */
void rootfs_trace_failed(const char *path, int error);
/* `check --from`: what stat said on the original host (from the manifest). */
void rootfs_inject_stat(const char *path, const struct stat *st);
/* `check --from`: what the host showed beyond the stored bytes: a link's target
 * (absolute targets are kept in the manifest only), the lines of a counted file
 * (its stored copy may be cut), and that a stored file is cut (the host's was
 * longer: a reader that reaches its end is told it was truncated). */
void rootfs_inject_link(const char *path, const char *target);
void rootfs_inject_count(const char *path, long lines);
void rootfs_inject_truncated(const char *path);

/* Bundles: one snapshot for all collectors. Files stored by an earlier collector
 * are what later ones read (they inherit this cache through fork), so findings
 * and evidence agree even for files that change between reads. */
void rootfs_snapshot_put(const char *path, const char *data, size_t len);
/* The snapshot's copy of a file, if it has one: allocated (the caller frees it),
 * not NUL-checked (data[len] is 0). */
bool rootfs_snapshot_get(const char *path, char **data, size_t *len);
/* From now on what this process puts in the snapshot goes to fd (a temporary file
 * opened for reading and writing; -1: memory again), only an index stays in memory:
 * a host's small files are many MiB, and every collector child would inherit them
 * in its RSS. Children read it through the inherited fd; what they put stays in their
 * memory. The caller keeps fd open while the snapshot is read and closes it. */
void rootfs_snapshot_spill(int fd);
/* Where the snapshot stands now; rootfs_snapshot_held(): path was put in it by then
 * (a collector child asks with the mark taken when it started: what the parent put
 * there, not what the child itself added). */
uint64_t rootfs_snapshot_mark(void);
bool rootfs_snapshot_held(const char *path, uint64_t mark);
/* A directory's names, NUL-separated (len bytes). */
void rootfs_snapshot_put_dir(const char *path, const char *names, size_t len);

/* Tests: ROOTFS_RESOLVE_FALLBACK forces the by-hand walk (as where openat2 is
 * filtered), ROOTFS_RESOLVE_AUTO (default) uses openat2 where the kernel has it. */
enum rootfs_resolver { ROOTFS_RESOLVE_AUTO, ROOTFS_RESOLVE_FALLBACK };
void rootfs_set_resolver(enum rootfs_resolver r);
