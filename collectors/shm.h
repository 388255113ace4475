/* The shm collector's parsers and decisions, exposed for its unit test. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/finding.h"
#include "lib/procfs.h"

/* One /proc/mounts line: "src dir type opts dump pass", octal escapes (\040) undone. */
struct shm_mount {
        char *src, *dir, *type, *opts;
};
/* Parses one line; 0 or -EINVAL (fewer than four fields). */
int shm_mount_parse(const char *line, struct shm_mount *out);
void shm_mount_free(struct shm_mount *m);
/* The entry mounted at dir: the last matching line, since a later mount hides an
 * earlier one on the same directory. 0, or -ENOENT. *bad counts malformed lines. */
int shm_mounts_find(const char *text, const char *dir, struct shm_mount *out, size_t *bad);
/* Whether the comma-separated mount options contain `name` ("ro") or "name=...";
 * *val (may be NULL) gets the value, newly allocated. */
bool shm_mount_opt(const char *opts, const char *name, char **val);
/* The verdict on what is mounted on /dev/shm (NULL: nothing); *why says why. */
enum severity shm_mount_sev(const struct shm_mount *m, const char **why);

/* A /proc/PID/maps line that maps shared memory. */
enum shm_map_kind {
        SHM_MAP_OTHER = 0, /* anything else: anonymous, a library, a file elsewhere */
        SHM_MAP_POSIX,     /* <shm_dir>/<name>, the object name in name/name_len */
        SHM_MAP_SYSV,      /* /SYSV<key> (deleted); the inode is the shmid */
};
struct shm_map_ref {
        enum shm_map_kind kind;
        const char *name; /* POSIX: points into the line, not NUL-terminated */
        size_t name_len;
        uint64_t inode;
        uint32_t sysv_key;
        bool deleted;     /* " (deleted)": unlinked while mapped */
};
/* Classifies one maps line; shm_dir is the directory POSIX objects live in
 * ("/dev/shm"). Returns the kind, or -EINVAL for a line not in the maps format. */
int shm_maps_line(const char *line, const char *shm_dir, struct shm_map_ref *out);

/* Verdicts. */
enum severity shm_limit_sev(uint64_t used, uint64_t limit, double warn_pct, double crit_pct);
/* Orphaned: nobody attached and neither the creator nor the last attacher lives. */
bool shm_sysv_orphaned(const struct sysv_shm *s, bool cpid_alive, bool lpid_alive);
enum severity shm_orphan_sev(uint64_t size, uint64_t crit_bytes);
/* Writable by anyone: a file with o+w, or a directory with o+w and no sticky bit. */
bool shm_mode_world_writable(mode_t mode);
enum severity shm_usage_sev(double pct, double warn_pct, double crit_pct);
/* Pages a segment of `size` bytes counts against kernel.shmall (the kernel rounds up). */
uint64_t shm_pages(uint64_t size, uint64_t page_size);
