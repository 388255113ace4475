/* The shm collector: its parsers and verdicts (shm_format.c, exposed for its unit
 * test), and what its files share: shm_scan.c reads the host, shm.c checks,
 * shm_sample.c watches. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include "lib/finding.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/util.h"

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
/* The shm.orphaned verdict of one segment, in check and in watch alike: ok when it is
 * not orphaned (shm_sysv_orphaned), else shm_orphan_sev. */
enum severity shm_orphan_verdict(const struct sysv_shm *s, bool cpid_alive, bool lpid_alive, uint64_t crit_bytes);
/* How full a tmpfs is (statvfs): space and inodes as % used. */
struct shm_tmpfs_use {
        uint64_t total, used;         /* bytes */
        uint64_t inodes, inodes_used;
        double pct, ipct;
};
/* The shm.tmpfs_usage verdict, in check and in watch alike: shm_usage_sev of the
 * fuller of space and inodes. A file system that reports no size (size=0: no limit)
 * is info. */
enum severity shm_tmpfs_verdict(const struct statvfs *sv, double warn_pct, double crit_pct, struct shm_tmpfs_use *u);
/* Pages a segment of `size` bytes counts against kernel.shmall (the kernel rounds up). */
uint64_t shm_pages(uint64_t size, uint64_t page_size);

/* ---- shared by the collector's files ---- */

#define SHM_DIR "/dev/shm"

struct shm_pids {
        int *v;
        size_t n, cap;
};

struct shm_seg {
        struct sysv_shm s;
        struct shm_pids att;
};

struct shm_obj {
        char *raw;      /* the name as in the directory (matched against maps) */
        struct stat st;
        bool have_stat;
        int stat_err;
        char *link;     /* symlink target */
        bool deleted;   /* only seen in maps, unlinked */
        uint64_t ino;   /* deleted: the inode, to tell two unlinked generations apart */
        struct shm_pids map;
};

struct shm_state {
        struct proctable procs;
        struct users *users; /* ROOT/etc/passwd and group */
        uint64_t page;

        /* SysV */
        int sysv_err; /* <0: /proc/sysvipc/shm unreadable or malformed */
        struct shm_seg *segs;
        size_t nsegs, sysv_bad;

        /* /dev/shm */
        char *dir;      /* where POSIX objects live, after following /dev/shm symlinks */
        int dir_err;
        struct shm_obj *objs;
        size_t nobjs, objs_cap;
        size_t nlisted; /* entries in the directory listing (objs after it are deleted ones) */
        bool capped;

        /* maps scan */
        struct maps_walk mw; /* the /proc/PID/maps scan */
};


/* Reads what there is: the process table, passwd and group, /proc/sysvipc/shm, the
 * /dev/shm listing (at most scan_max entries) and every process's maps (at most
 * maps_max bytes each). Failures are kept in st for the findings to say. */
void shm_state_load(struct shm_state *st, size_t scan_max, size_t maps_max);
void shm_state_free(struct shm_state *st);
const struct proc *shm_proc(const struct shm_state *st, int pid);
/* "user:group" of uid and gid, from the root's passwd and group. */
char *shm_owner(const struct shm_state *st, unsigned uid, unsigned gid);
/* "pid 12 (evo_cu), pid 40 (lavinmq) and 3 more" into b. */
void shm_put_pids(const struct shm_state *st, struct strbuf *b, const struct shm_pids *l);
/* What the maps scan can say about an object nobody was seen mapping. */
const char *shm_nobody_seen(const struct shm_state *st);
bool shm_pid_alive(int pid);
/* /dev/shm after its symlinks (to /run/shm on old systems), followed through rootfs
 * so that under --root an absolute target stays inside the root. */
char *shm_resolve_dir(const char *path, int *err);

struct ctx;
struct sample;
void shm_sample(struct ctx *c, struct sample *s);
void shm_free_state(void *state);
