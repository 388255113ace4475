/* coredump collector: what its files share. coredump_format.c holds the pure parsers
 * (exported for tests/unit/test_coredump.c and tests/fuzz/fuzz_coredump.c),
 * coredump_bt.c the sandboxed backtrace (libdwfl) and decompression (libarchive),
 * coredump_scan.c finding the crashes (journal records, core directories),
 * coredump.c the checks and the bundle, coredump_sample.c what watch samples. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/util.h"

/* The caps systemd-coredump puts on its own stack traces. */
#define CD_THREADS_MAX 64
#define CD_FRAMES_MAX 64
#define CD_TEXT_MAX (1u << 20)  /* bytes of backtrace text per core */
#define CD_MODULES_MAX 512
#define CD_NAME_MAX 512         /* a function, module or file name is cut there */
#define CD_TOP_FRAMES 3         /* frames a finding quotes */

/* ---- backtraces ---- */

struct cd_frame {
        uint64_t pc;
        char *func;   /* NULL: no symbol ("??") */
        char *module; /* NULL: pc in no known module */
        uint64_t offset; /* pc - module start */
        char *file;   /* where DWARF has it; NULL otherwise */
        unsigned line;
};
struct cd_thread {
        int tid;
        struct cd_frame *frames;
        size_t nframes;
        bool frames_cut; /* more than CD_FRAMES_MAX, or the text cap was reached */
        char *error;     /* why unwinding stopped early (libdwfl's words), or NULL */
};
struct cd_module {
        char *name;
        char *build_id; /* hex; NULL when the core does not name it */
        uint64_t start, end;
};
struct cd_bt {
        int pid, signal;            /* from the core's first NT_PRSTATUS; 0 = unknown */
        char *comm, *psargs;        /* from NT_PRPSINFO; NULL = unknown */
        struct cd_thread *threads;  /* the first is the thread that dumped (the crashing one) */
        size_t nthreads, threads_total; /* kept, and seen in the core */
        struct cd_module *modules;
        size_t nmodules;
        bool modules_cut, text_cut;
        bool not_core;              /* the file is not an ELF core at all */
        char *error;                /* no backtrace at all: why */
};
void cd_bt_free(struct cd_bt *b);

/* The parse child's answer (JSON, written by cd_bt_to_json) back into a cd_bt. The child
 * read a hostile core, so the text is untrusted: every cap is enforced again here,
 * strings are cut at CD_NAME_MAX. 0, or -EINVAL with *err saying why. */
int cd_bt_from_json(const char *text, size_t len, struct cd_bt *out, char **err);
/* The child side: the JSON text (cd_bt_from_json reads it back). */
char *cd_bt_to_json(const struct cd_bt *b);

/* The backtrace as systemd-coredump and eu-stack print it:
 *   Stack trace of thread 1234:
 *   #0  0x00007f.. evo_cd_innermost (evo + 0x11bc) at h.c:6
 * every thread, the cuts said. */
void cd_bt_format(const struct cd_bt *b, struct strbuf *out);
/* The crashing thread's top n frames on one line: "pause (libc.so.6+0xe9df2) <- ...". */
void cd_bt_top(const struct cd_bt *b, size_t n, struct strbuf *out);
/* One frame, as cd_bt_format prints it (no "#N" and no newline). */
void cd_frame_format(const struct cd_frame *f, struct strbuf *out);

/* Compression of a core file by its name: .zst, .lz4, .xz, or none. */
enum cd_comp { CD_PLAIN, CD_ZST, CD_LZ4, CD_XZ };
enum cd_comp cd_compression(const char *name);

struct cd_bt_opts {
        uint64_t max_size;     /* a compressed core expanding past this is refused */
        uint64_t timeout_ms;   /* for decompression and parse together */
        const char *tmp_dir;   /* where the private temp file of a decompressed core goes */
        bool live;             /* modules' files are the live host's (debuginfo lookups) */
};
/* Symbolizes the core open at fd (compressed as `comp`): decompression and parse each
 * in a sandboxed child (no new privileges, not dumpable, no core, fds closed, a user
 * namespace where the kernel allows one) under one deadline. A failure is said in
 * out->error (never fatal: a truncated or garbage core gives an error or "??" frames).
 * Returns 0, or -errno when not even the child could be started. */
int cd_backtrace(int fd, enum cd_comp comp, const struct cd_bt_opts *o, struct cd_bt *out);
/* The body of the parse child, in-process (fuzzing, and the child itself): reads the
 * (plain) core at fd with libdwfl into out. */
void cd_bt_parse_fd(int fd, bool live, struct cd_bt *out);
/* Decompresses in (a .zst/.lz4/.xz core) into out with libarchive's raw reader, at most
 * max bytes. 0; -EFBIG past max; -EINVAL not compressed data; -EIO other errors. */
int cd_decompress(int in, int out, uint64_t max, char **err);

/* ---- journal records and file names ---- */

/* One crash, from a systemd-coredump journal record, a core file's name, or both. */
struct cd_record {
        char *exe, *comm, *unit, *cmdline, *filename, *hostname;
        int pid, signal;
        uid_t uid;
        bool have_uid;
        uint64_t time_us;    /* realtime, µs; 0 = unknown */
        uint64_t size;       /* COREDUMP_SIZE or the file's size */
        uid_t entry_uid;     /* _UID of the journal entry: who wrote the record */
        bool have_entry_uid;
        char *cursor;        /* of the journal entry */
};
void cd_record_free(struct cd_record *r);
/* One journal field (name and value as journal_fields() hands them: not NUL-terminated) into r: COREDUMP_EXE,
 * COREDUMP_COMM, COREDUMP_PID, COREDUMP_UID, COREDUMP_SIGNAL, COREDUMP_TIMESTAMP,
 * COREDUMP_FILENAME, COREDUMP_UNIT, COREDUMP_CMDLINE, COREDUMP_HOSTNAME, COREDUMP_SIZE,
 * _UID; others are ignored. Values are cut at CD_NAME_MAX; bad numbers are left out.
 * Returns 1 when the field was used, 0 when ignored, -EINVAL when malformed. */
int cd_record_field(struct cd_record *r, const char *name, size_t nlen, const char *value, size_t vlen);
/* systemd-coredump's file name "core.COMM.UID.BOOTID.PID.USEC[.zst|.lz4|.xz]" into r
 * (comm, uid, pid, time_us). COMM may itself contain dots. 0 or -EINVAL. */
int cd_parse_core_name(const char *name, struct cd_record *r);
/* The top n frames of systemd-coredump's own stack trace in a record's MESSAGE
 * ("#0  0x00007f.. func (module + 0x12)" lines), as "func (module + 0x12) <- ...";
 * NULL when it has none. For records whose core was not kept. */
char *cd_message_top(const char *msg, size_t n);
/* "SIGSEGV" for 11 and so on; "signal N" otherwise (buf). */
const char *cd_signal_name(int sig, char buf[static 16]);

/* ---- where cores go ---- */
/* (RLIMIT_CORE: lib/procfs.h limits_get(text, "Max core file size", ...).) */

enum cd_pattern_kind { CD_PAT_FILE, CD_PAT_SYSTEMD, CD_PAT_PIPE, CD_PAT_EMPTY };
struct cd_pattern {
        enum cd_pattern_kind kind;
        char *dir;    /* CD_PAT_FILE: the directory the pattern writes to, when absolute and
                         without % in it; NULL for the crashing process's cwd */
        char *prefix; /* CD_PAT_FILE: the file name up to its first %, "core" for "core.%p" */
        char *helper; /* CD_PAT_PIPE/SYSTEMD: the helper's path */
        bool relative; /* CD_PAT_FILE: relative to the crashing process's working directory */
};
/* /proc/sys/kernel/core_pattern. 0 or -EINVAL. */
int cd_parse_core_pattern(const char *text, struct cd_pattern *p);
void cd_pattern_free(struct cd_pattern *p);
