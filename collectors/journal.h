/* journal collector: what the logs say. The pattern table, the parsers of what a
 * matched line says (OOM victim, Xid, faulting binary), the entry records the bundle
 * stores and `check --from` reads back, and the kernel ring buffer's record format:
 * pure functions, exported for the unit tests and the fuzz target. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/util.h"

#define JMSG_MAX 2048 /* longest message kept per entry (longer ones are cut) */

/* Where a line came from: which patterns apply to it. */
enum jscope {
        JS_KERNEL = 1 << 0,    /* the kernel (_TRANSPORT=kernel, /dev/kmsg) */
        JS_COMPONENT = 1 << 1, /* a component's unit or log file */
        JS_LAVINMQ = 1 << 2,   /* LavinMQ's unit */
        JS_SNN = 1 << 3,       /* the SNN service (cerebellar-norse) */
};

/* One log entry, from the journal, /dev/kmsg, a component log file or a bundle. */
struct jentry {
        uint64_t t_us;     /* CLOCK_REALTIME µs; 0 unknown (log files) */
        int prio;          /* syslog priority 0..7, -1 unknown */
        bool kernel;
        char unit[128];    /* _SYSTEMD_UNIT, or the log file's path */
        char ident[64];    /* SYSLOG_IDENTIFIER or _COMM */
        uint64_t pid;
        char msg[JMSG_MAX];
        char cursor[256];  /* journal cursor; "kmsg:SEQ"; "PATH:+OFFSET" for a file line */
        char src[16];      /* "journal", "kmsg", "file" */
};

/* One line of the pattern table (journal_format.c): adding a pattern is one line. */
struct jpattern {
        const char *id;    /* the check ID: "journal.oom_kill" */
        enum severity sev; /* when it hits (a parser may raise it: component victim, hardware Xid) */
        unsigned scope;    /* enum jscope: the sources it applies to */
        const char *regex; /* POSIX extended regex on the message */
        const char *what;  /* "OOM kill": for summaries */
        const char *remedy;
};
extern const struct jpattern jpatterns[];
extern const size_t jpatterns_n;
/* The index of the first pattern at or after *from that matches (scope and regex), or
 * -1. Compiles the table on first use. */
int jpattern_next(const char *msg, unsigned scope, size_t from);

/* The subject and details of a hit, by what the pattern's parser reads from the line. */
struct jhit {
        char subject[96];  /* "cerebellar-norse", "Xid 79", "mediator_phase3", "FA602" */
        char detail[256];  /* "pid 4242, RSS 25.0 GiB", "GPU has fallen off the bus: ..." */
        enum severity sev;
};
/* Fills *h for pattern p on msg; components: comma list of component process names
 * (an OOM victim among them is crit). */
void jpattern_hit(const struct jpattern *p, const char *msg, const char *components, struct jhit *h);

/* "Out of memory: Killed process 4242 (cerebellar-norse) total-vm:..., anon-rss:26214400kB, ..."
 * -> pid, name, RSS bytes (anon+file+shmem when given). 0 or -EINVAL. */
int jparse_oom(const char *msg, uint64_t *pid, char *name, size_t namesz, uint64_t *rss_bytes);
/* "NVRM: Xid (PCI:0000:3b:00): 79, pid=..., ..." -> 79 and the PCI address. 0 or -EINVAL. */
int jparse_xid(const char *msg, unsigned *xid, char *pci, size_t pcisz);
/* What an Xid means, and how bad it is (crit: the GPU needs a reset or is gone). NULL when
 * not one of the common ones. */
const char *jxid_meaning(unsigned xid, enum severity *sev);
/* "prog[123]: segfault at ..." / "traps: prog[123] trap ..." -> the binary and pid. */
int jparse_fault(const char *msg, char *prog, size_t progsz, uint64_t *pid);
/* "INFO: task evo-writer:2211 blocked for more than 120 seconds." -> task, pid, seconds. */
int jparse_hung(const char *msg, char *task, size_t tasksz, uint64_t *pid, uint64_t *secs);

/* Whether a component log line is an error line (ERROR/CRITICAL/FATAL as a word, a
 * JSON "level":"ERROR", [ERROR]). */
bool jline_is_error(const char *line);

/* /dev/kmsg: one record "PRI,SEQ,TS_US,FLAGS[,...];MESSAGE\n[ KEY=VALUE\n...]" into e
 * (t_us = boot_us + TS_US; the priority is PRI & 7). 0 or -EINVAL. */
int jparse_kmsg(const char *rec, size_t len, uint64_t boot_us, struct jentry *e);

/* The bundle's evidence records: one JSON object per line. */
json_object *jentry_to_json(const struct jentry *e);
/* -EINVAL when o is not an entry record (bad types, over-long strings are cut). */
int jentry_from_json(json_object *o, struct jentry *e);

/* journalctl -o short-iso-like: "2026-11-30T07:32:03+0000 IDENT[PID]: MESSAGE\n",
 * the message's control characters shown as \xNN. */
void jentry_short_iso(struct strbuf *b, const struct jentry *e);

/* Copies s into a fixed buffer, cut, control characters and NULs replaced by ' '. */
void jcopy(char *dst, size_t size, const char *s, size_t len);
