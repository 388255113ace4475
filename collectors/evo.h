/* evo collector: parsers and decisions, exported for the unit tests. Byte layouts
 * from /work/shared/docs/COMPONENTS.md §1 (RTS007/evo-core). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/finding.h"
#include "lib/procmaps.h"
#include "lib/proclocks.h" /* /proc/locks: the FLOCKs held and their holders */
#include "lib/util.h"

#define EVO_P2P_HDR 64     /* P2pSegmentHeader, repr(C, align(64)) */
#define EVO_LEGACY_HDR 128 /* legacy SegmentHeader */
#define EVO_HDR_MAX (EVO_LEGACY_HDR + EVO_P2P_HDR) /* intermediate: both */

enum evo_layout {
        EVO_LAYOUT_NONE,         /* no EVO magic */
        EVO_LAYOUT_P2P,          /* "EVO_P2P\0" at 0 (HEAD) */
        EVO_LAYOUT_LEGACY,       /* EVO_SHM magic at 0 (evo_shared_memory crate) */
        EVO_LAYOUT_INTERMEDIATE, /* legacy header, "EVO_P2P\0" at 128 (commit 3682320) */
};

struct evo_p2p {
        uint32_t version_hash;
        uint64_t heartbeat;
        uint8_t source, dest; /* ModuleAbbrev: Cu 0, Hal 1, Re 2, Mqt 3, Rpc 4 */
        uint32_t payload_size;
        uint32_t write_seq;
        bool padding_zero; /* pads and _padding all zero, as the writer leaves them */
};

struct evo_legacy {
        uint64_t version; /* seqlock: odd while a write is in progress */
        uint32_t writer_pid, reader_count;
        uint64_t size; /* data bytes after the 128-byte header */
        uint64_t created_ts, last_write_ts; /* ns since the epoch */
        uint32_t checksum;
};

struct evo_header {
        enum evo_layout layout;
        struct evo_legacy legacy; /* LEGACY, INTERMEDIATE */
        struct evo_p2p p2p;       /* P2P, INTERMEDIATE (the header at file offset 128) */
};

/* The layout the first bytes announce, and how many bytes its header needs
 * (*need is 8 when even the magic is not there yet). */
enum evo_layout evo_layout_of(const uint8_t *b, size_t len, size_t *need);
/* Decodes a header (little endian, as written on x86-64 and aarch64).
 * 0; -EBADMSG no EVO magic; -ENODATA shorter than the header its magic announces. */
int evo_decode(const uint8_t *b, size_t len, struct evo_header *h);
const char *evo_layout_name(enum evo_layout l);
/* Where the seqlock counter is: P2P write_seq (u32 at 32), else the legacy version (u64 at 8). */
void evo_seq_field(enum evo_layout l, size_t *off, unsigned *width);
/* The smallest file that holds the header and the payload it declares. */
uint64_t evo_min_size(const struct evo_header *h);
/* What a writer's header always satisfies; true (and why, in buf) if this one does not. */
bool evo_header_problem(const struct evo_header *h, char *buf, size_t n);
/* The progress counter: P2P heartbeat (commits), legacy version / 2 (writes). */
uint64_t evo_progress(const struct evo_header *h);
/* A write in progress: odd write_seq (P2P) or odd legacy version. */
bool evo_seq_odd(const struct evo_header *h);
const char *evo_module_name(uint8_t m); /* "cu", "hal"...; NULL if unknown */
uint32_t evo_version_hash(uint32_t size, uint32_t align);
/* The power-of-two alignment (1..4096) for which version_hash matches payload_size, or 0. */
uint32_t evo_version_hash_align(uint32_t hash, uint32_t size);

/* The seqlock read protocol: read the counter, retry while odd; copy; read it
 * again, retry if it changed. Bounded by `attempts` (upstream: 10). */
typedef ssize_t (*evo_pread_fn)(void *arg, void *buf, size_t n, uint64_t off);
/* n bytes at off through fn, fewer only at EOF; negative errno on error. */
ssize_t evo_read_full(evo_pread_fn fn, void *arg, uint8_t *buf, size_t n, uint64_t off);
enum evo_read {
        EVO_READ_STABLE,    /* a consistent copy */
        EVO_READ_ODD,       /* odd on every attempt: the copy is the last one seen */
        EVO_READ_CONTENDED, /* changed on every attempt */
        EVO_READ_SHORT,     /* the file ended before len bytes */
        EVO_READ_ERROR,
};
enum evo_read evo_seqlock_read(evo_pread_fn fn, void *arg, size_t seq_off, unsigned seq_width, uint8_t *buf,
                               size_t len, unsigned attempts, unsigned pause_us, unsigned *tries);
const char *evo_read_name(enum evo_read r);

/* Whether a /proc/PID/maps entry (lib/procmaps.h) names an entry directly in dir
 * ("/dev/shm") whose name starts with "evo_"; the name (not NUL-terminated) in *name,
 * its length in *len. */
bool evo_map_names_evo(const struct procmaps_entry *m, const char *dir, const char **name, size_t *len);

/* /dev/shm names */
enum evo_name_kind { EVO_NAME_OTHER, EVO_NAME_DATA, EVO_NAME_LOCK, EVO_NAME_META };
enum evo_name_kind evo_name_kind(const char *fname);
/* evo_<name>_<pid>: *base = "<name>", *pid; false if the last field is not a pid. */
bool evo_name_legacy(const char *fname, char **base, int *pid);
/* Known segment names: the 15 P2P SEG_* names, or the 15 legacy names (which carry
 * their own "evo_" prefix: evo_evo_hal_sensors_<pid>) and P2P names in a legacy file. */
bool evo_name_known(const char *base, enum evo_layout l);
/* P2P names are <source>_<dest>; false unless both are module names. */
bool evo_name_modules(const char *base, char src[8], char dst[8]);

/* Credentials from /proc/PID/status: file-system uid/gid (what open() checks), groups. */
struct evo_creds {
        unsigned uid, gid;
        unsigned groups[64];
        size_t ngroups;
};
int evo_status_creds(const char *status, struct evo_creds *c);
/* Would open() with O_RDONLY (or O_RDWR) pass the mode bits? uid 0 always does. */
bool evo_can_open(const struct evo_creds *c, unsigned uid, unsigned gid, mode_t mode, bool rw);
/* The permission problem of a data segment, or NULL. Legacy readers open it
 * read-write (reader_count), so group write is needed there and not a problem. */
const char *evo_mode_problem(mode_t mode, enum evo_layout l);
/* The lock file: anyone who can open it can take the flock and keep the writer out. */
const char *evo_lock_mode_problem(mode_t mode);

/* Legacy .meta JSON (serde SegmentInfo). */
struct evo_meta {
        char name[128];
        uint64_t size;
        int writer_pid;
        uint64_t created_secs;
        uint32_t reader_count;
        bool has_pid, has_created;
};
int evo_meta_parse(const char *text, size_t len, struct evo_meta *m);

/* The startup line an EVO module logs (evo-core HEAD: evo/src/main.rs:88,
 * evo_control_unit/src/main.rs:66, evo_hal/src/main.rs:83: info!("EVO System Supervisor
 * v{} starting...", env!("CARGO_PKG_VERSION")), "EVO Control Unit v{} ...", "EVO HAL Core
 * v{} ..."), anywhere in a log message (tracing's time, level and target come first).
 * Returns the module's crate ("evo", "evo_control_unit", "evo_hal") with its version in
 * ver (1 to size-1 characters of [0-9A-Za-z.+-]), or NULL. */
const char *evo_startup_version(const char *msg, char *ver, size_t size);

/* "00000000  45 56 4f 5f 50 32 50 00  ...  |EVO_P2P.........|" lines, like hexdump -C. */
void evo_hexdump(const uint8_t *b, size_t n, struct strbuf *out);

/* ---------------- verdicts (collectors/evo_verdict.c) ----------------
 * One function per verdict, called by check() and by watch's sample() alike, so the
 * two cannot judge the same segment differently. Each gathers the facts its own way
 * (check: one scan, the whole process table, two samples; watch: one header per
 * interval) and asks here. */

/* A segment's writer, as far as the evidence tells. */
enum evo_writer { EVO_WRITER_UNKNOWN, EVO_WRITER_ALIVE, EVO_WRITER_DEAD };
const char *evo_writer_name(enum evo_writer w); /* "unknown", "alive", "gone" */

/* The writer pid of a legacy or intermediate segment: the header's writer_pid (h NULL
 * when no header was decoded), else the pid in its file name (name_pid), else 0. */
int evo_legacy_writer_pid(const struct evo_header *h, int name_pid);
/* How a segment's writer is looked up: by the layout its header announces (dec is
 * evo_decode's answer: 0 or -ENODATA), else by its companions: a .lock means P2P, a
 * pid in the file name legacy; EVO_LAYOUT_NONE when nothing tells. */
enum evo_layout evo_writer_layout(int dec, const struct evo_header *h, bool lock_exists, int name_pid);

/* What is known about a segment's writer. */
struct evo_writer_facts {
        enum evo_layout layout; /* evo_writer_layout() */
        /* P2P: the writer holds a flock on evo_<name>.lock for its whole life */
        bool lock_exists; /* the .lock file is there */
        bool locks_read;  /* /proc/locks could be read */
        bool lock_held;   /* a held FLOCK on the .lock's inode in it */
        /* legacy, intermediate: the writer is a pid */
        int pid;          /* evo_legacy_writer_pid() */
        bool pids_known;  /* whether processes can be looked up at all */
        bool pid_alive;
};
/* evo.orphaned: P2P — no .lock or nobody holds it: gone; /proc/locks unreadable: unknown.
 * Legacy — no pid or no way to look it up: unknown; else alive or gone. */
enum evo_writer evo_writer_verdict(const struct evo_writer_facts *f);
/* gone crit, alive ok, unknown unknown */
enum severity evo_orphaned_sev(enum evo_writer w);
/* A segment that could not be opened (err: -errno): skipped when root would have
 * opened it (EACCES as non-root), unknown otherwise. */
enum severity evo_unopened_sev(int err, bool is_root);

/* Why a file named fname without EVO magic still belongs to EVO, written into buf and
 * returned (NULL: nothing ties it, it is no EVO segment): its .lock exists, its legacy
 * .meta exists, its name is an evo-core segment's, `mappers` processes map it, or its
 * first bytes look like an EVO magic. */
const char *evo_tie(const char *fname, bool lock_exists, bool meta_exists, size_t mappers, const uint8_t *hdr,
                    size_t hdr_len, char *buf, size_t n);
/* evo.corrupt (and evo.not_segment): the header bytes read (hdr_len of them, read result
 * rs) from a file of file_size bytes. Decodes them into *h (*dec: evo_decode's answer).
 * NOT_EVO: no EVO magic and no tie; CORRUPT: no magic but tied, shorter than its header,
 * a header no writer leaves (the P2P sequence judged only on a stable read), or a file
 * shorter than header + payload; SOUND otherwise. why (may be NULL) gets the reason. */
enum evo_hdr_class { EVO_HDR_NOT_EVO, EVO_HDR_CORRUPT, EVO_HDR_SOUND };
enum evo_hdr_class evo_header_class(const uint8_t *hdr, size_t hdr_len, enum evo_read rs, uint64_t file_size,
                                    const char *tie, struct evo_header *h, int *dec, struct strbuf *why);

/* The verdicts below return false when they do not judge (*sev untouched). */
/* evo.never_committed, on sound segments: heartbeat (legacy: version) 0 is warn. */
bool evo_never_committed_sev(enum evo_hdr_class k, const struct evo_header *h, enum severity *sev);
/* evo.stalled: two decoded headers of a sound segment, taken one after the other, with
 * a live writer and something committed by the second: the progress counter moved: ok;
 * it did not: crit (legacy: info, written on change rather than every cycle). */
bool evo_stalled_sev(enum evo_hdr_class k, const struct evo_header *before, const struct evo_header *after,
                     enum evo_writer w, enum severity *sev);
/* The progress rate between two headers dt_ns apart, in Hz (0 when it did not advance). */
double evo_rate_hz(const struct evo_header *before, const struct evo_header *after, uint64_t dt_ns);
/* evo.write_seq: two decoded headers of the same layout: odd in both is a write left
 * half-done (crit), else ok. */
bool evo_write_seq_sev(const struct evo_header *before, const struct evo_header *after, enum severity *sev);

/* watch: frees what sample() keeps in ctx->state (the open fds, the previous headers);
 * the collector's free_state, which the sampler child calls when it stops. */
void evo_watch_state_free(void *state);
