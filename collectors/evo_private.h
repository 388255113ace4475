/* The evo collector's own files and what they share (not for other collectors):
 *   evo.c               the collector: its checks' texts, config keys, detect(), check()
 *   evo_scan.c          discovery: the /dev/shm walk, headers (seqlock reads), writers
 *                       (/proc/locks), legacy .meta, mappers (/proc/PID/maps), the second
 *                       sample; each entry classified once
 *   evo_check.c         the checks of the inventory: segments, not_segment, corrupt,
 *                       unknown_name, permissions
 *   evo_check_writers.c the checks of the writers: orphaned, leftovers, never_committed,
 *                       stalled, write_seq
 *   evo_check_readers.c the checks of the readers: crashed_readers, reader_access, mappers
 *   evo_collect.c       bundle evidence (evodiag bundle)
 *   evo_version.c       evo.version: the modules' startup lines in the journal
 *   evo_sample.c        watch: sample() and its state
 *   evo_verdict.c       the verdicts check() and sample() share (evo.h)
 *   evo_format.c        the pure parsers (evo.h) */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "collectors/collector.h"
#include "collectors/evo.h"
#include "lib/proctable.h"
#include "lib/users.h"

#define SHM_DIR "/dev/shm"
#define SEQ_PAUSE_US 100
#define READERS_SHOWN 6
#define META_MAX (64u << 10)

struct mapper {
        int pid;
        bool writable;
        unsigned maps; /* mappings that start at file offset 0: one per mmap() */
};

/* What an evo_* entry of /dev/shm is (evo_scan.c decides it once per scan). */
enum seg_class { C_GONE, C_NOT_REGULAR, C_UNOPENED, C_FOREIGN, C_CORRUPT, C_VALID };

struct seg {
        char *fname; /* evo_hal_cu: the subject */
        char *path;  /* /dev/shm/evo_hal_cu */
        char *base;  /* hal_cu; legacy and intermediate: without _<pid> */
        int name_pid;
        struct stat st;
        int stat_err;
        char *link;   /* symlink target */
        int fd;
        int open_err; /* -errno from open, -ESTALE replaced meanwhile */
        bool opened;
        uint8_t hdr[EVO_HDR_MAX];
        size_t hdr_len;
        enum evo_read rs;
        unsigned tries;
        struct evo_header h;
        int dec;
        enum seg_class cls; /* evo_header_class() and what lstat/open said */
        char *problem;      /* why it is corrupt or not EVO; NULL otherwise */
        /* the second sample */
        bool sampled;
        struct evo_header h2;
        int dec2;
        enum evo_read rs2;
        uint64_t t1_ns, t2_ns;
        /* writer */
        enum evo_layout wlayout; /* the layout the writer is looked up by */
        bool lock_exists;
        struct stat lock_st;
        bool lock_held;
        int lock_pid;
        char *lock_line;
        int wpid;
        enum evo_writer writer;
        /* legacy .meta */
        char *meta_fname;
        bool meta_ok;
        struct evo_meta meta;
        char *meta_raw;    /* the bytes read through evo_open_entry(): all a bundle may store */
        size_t meta_len;
        /* readers */
        struct mapper *m;
        size_t nm, mcap;
};

struct scan {
        struct seg *v;
        size_t n, cap;
        char **locks, **metas; /* companion names in /dev/shm, sorted */
        size_t nlocks, nmetas;
        bool capped;
        int dir_err;
        struct proctable procs;
        bool procs_ok;
        struct users *users; /* ROOT/etc/passwd and group */
        int locks_err;
        struct proclock *lk; /* the FLOCKs held */
        size_t nlk;
        char *locks_text;
        bool maps_scanned;
        struct maps_walk mw; /* the /proc/PID/maps scan */
        bool second_tried;
        const char *no_second; /* why there is no second sample */
        uint64_t window_ms;
};

/* ---- evo_scan.c ---- */
/* Lists, reads and classifies every evo_* entry; two_samples: also the second header
 * sample (check, on the live system). */
void evo_scan(struct ctx *c, struct scan *sc, bool two_samples);
void evo_scan_free(struct scan *sc);
/* Opens an entry of /dev/shm without following a symlink or blocking on a FIFO, and
 * keeps it only if it is the regular file lstat saw (lst; NULL: any). 0 or -errno. */
int evo_open_entry(const char *path, const struct stat *lst, int *fd_out);
/* The header, by the seqlock protocol once its layout is known; only these bytes are
 * ever read. Returns the number of bytes in hdr. */
size_t evo_read_header(int fd, unsigned attempts, uint8_t hdr[EVO_HDR_MAX], enum evo_read *rs, unsigned *tries);
uint64_t evo_now_ns(void);
/* The class of an entry; why (may be NULL) gets what is wrong with it. */
enum seg_class evo_classify(const struct seg *s, struct strbuf *why);
static inline bool evo_is_evo(enum seg_class k) { return k == C_VALID || k == C_CORRUPT; }
static inline enum evo_hdr_class evo_hdr_of(enum seg_class k)
{
        return k == C_VALID ? EVO_HDR_SOUND : k == C_CORRUPT ? EVO_HDR_CORRUPT : EVO_HDR_NOT_EVO;
}
/* Whether name is among the sorted names v (the .lock and .meta lists). */
bool evo_listed(char **v, size_t n, const char *name);
/* The segment named by a slice of a maps line (not NUL-terminated), or NULL. */
struct seg *evo_seg_find(struct scan *sc, const char *name, size_t len);
const struct proc *evo_proc(const struct scan *sc, int pid);
/* "pid 42 (evo_hal)" */
void evo_put_pid(const struct scan *sc, struct strbuf *b, int pid);
/* "user:group" of uid/gid (a new string) */
char *evo_owner(const struct scan *sc, unsigned uid, unsigned gid);
const char *evo_type_name(mode_t m);
/* "cu", or "module 7" in buf */
const char *evo_module_str(uint8_t m, char buf[16]);

/* ---- evo_check.c ---- */
void evo_check_segments(struct ctx *c, struct scan *sc, struct findings *fs);
/* evo_version.c: evo.version from the modules' startup lines in the journal. */
void evo_check_version(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_not_segment(struct scan *sc, struct findings *fs);
void evo_check_corrupt(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_unknown_names(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_permissions(struct scan *sc, struct findings *fs);
/* "writer pid 42 (hal) alive" / "nobody holds its .lock (writer gone)" */
void evo_put_writer(const struct scan *sc, const struct seg *s, struct strbuf *b);
/* "read by pid 43 (cu), pid 44 (mqt)" / what the maps scan can say about none */
void evo_put_readers(const struct scan *sc, const struct seg *s, struct strbuf *b);
/* "rm /dev/shm/evo_x /dev/shm/evo_x.lock": exactly the files of this generation */
char *evo_rm_command(const struct scan *sc, const struct seg *s);
/* The ok finding of a header check, or skipped when no header could be read at all
 * (NULL then); it says how many were not read. */
struct finding *evo_ok_or_skipped(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, size_t checked,
                                  const char *fmt, ...) PRINTF(6, 7);

/* ---- evo_expect.c ---- */
/* Does [expect] declare EVO segments (evo_segments, evo_writers, evo_heartbeat_min)? */
bool evo_expects_segments(const struct ctx *c);
/* evo.expected_segment and evo.expected_rate for what [expect] declares. */
void evo_check_expected(struct ctx *c, struct scan *sc, struct findings *fs);

/* ---- evo_check_writers.c ---- */
void evo_check_orphans(struct scan *sc, struct findings *fs);
void evo_check_leftovers(struct scan *sc, struct findings *fs);
void evo_check_never(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_stalled(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_write_seq(struct ctx *c, struct scan *sc, struct findings *fs);

/* ---- evo_check_readers.c ---- */
void evo_check_crashed_readers(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_reader_access(struct ctx *c, struct scan *sc, struct findings *fs);
void evo_check_mappers(struct ctx *c, struct scan *sc, struct findings *fs, size_t max_kb);

/* ---- evo_collect.c, evo_sample.c ---- */
void evo_collect(struct ctx *c, struct bundle_sink *sink);
void evo_sample(struct ctx *c, struct sample *out);
