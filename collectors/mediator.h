/* mediator collector (the vGPU mediator, COMPONENTS.md §4): the parsers of what the
 * host, the VMs and the mediator control (mediator_format.c, exported for
 * tests/unit/test_mediator.c and tests/fuzz/fuzz_mediator.c) and what the
 * collector's files share. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/finding.h"
#include "lib/util.h"

/* ---- /etc/exports, /etc/exports.d/NAME.exports, /var/lib/nfs/etab ---- */

#define MX_LINE_MAX 4096   /* a longer (continued) exports line is refused, counted bad */
#define MX_EXPORTS_MAX 4096 /* entries kept; more are counted in cut */

/* One client of an export: "*(rw,sync)" -> host "*", opts "rw,sync". */
struct mx_export {
        char *path;   /* octal escapes (\040) and quotes undone */
        char *host;   /* "*", "10.0.0.0/24", "" for an option list with no host (world) */
        char *opts;   /* the client's options ("" when none), the line's -defaults first */
        unsigned line;
};
struct mx_exports {
        struct mx_export *v;
        size_t n, cap;
        size_t bad;      /* lines that do not parse */
        unsigned first_bad; /* the first one's line number */
        size_t cut;      /* entries beyond MX_EXPORTS_MAX */
};
/* exports(5): "path [-defaults] host(opts) host ..."; comments, blank lines, quoted
 * paths, trailing-backslash continuation. Appends to out; never fails. */
void mx_exports_parse(const char *text, struct mx_exports *out);
/* etab (what exportfs made effective): one "path\thost(opts)" per line. */
void mx_etab_parse(const char *text, struct mx_exports *out);
void mx_exports_free(struct mx_exports *x);
/* Whether the comma-separated options contain `name` (or "name=..."); the value (or
 * "") into val (may be NULL), cut to valsz. */
bool mx_opt(const char *opts, const char *name, char *val, size_t valsz);
/* The options of a (the first) exports entry that the matching etab entry does not
 * show the same way ("rw", "no_root_squash", "fsid=1"), comma-separated, into sb.
 * Returns how many differ. */
size_t mx_opts_differ(const char *exports_opts, const char *etab_opts, struct strbuf *sb);
/* Whether path is /dev/shm or below it (textually, "//" and trailing "/" folded). */
bool mx_path_under(const char *path, const char *dir);

/* ---- per-VM files ---- */

enum mx_layout { MX_LAYOUT_NONE, MX_LAYOUT_PHASE1, MX_LAYOUT_PERVM };
enum mx_req_kind { MX_REQ_EMPTY, MX_REQ_COMMAND, MX_REQ_QUEUED, MX_REQ_ASYNC, MX_REQ_BAD };
struct mx_request {
        enum mx_req_kind kind;
        unsigned code;   /* phase 1: the command number */
        char pool;       /* 'A' or 'B' */
        unsigned prio;   /* 0..2 */
        unsigned vm;     /* the vm id in the request */
        char command[32];
        char why[96];    /* MX_REQ_BAD: what is wrong */
        unsigned line;   /* MX_REQ_BAD: the line */
        size_t lines;    /* non-empty lines */
};
/* The request text of a layout: phase 1 "%u\n" (0 NOP, 1 VECTOR_ADD, 2 GPU_INFO);
 * per-VM "A|B:prio:vm:COMMAND" (mediator) or "pool:prio:vm:num1:num2" (mediator_async).
 * Every non-empty line must parse; the first that does not makes it MX_REQ_BAD. */
void mx_request_parse(const char *text, size_t len, enum mx_layout layout, struct mx_request *out);
/* response.txt: "status:message" (0 ready, 1 success, 2 error) or, from
 * mediator_async, a bare integer. -EINVAL when neither; *msg points into text. */
int mx_response_parse(const char *text, int *status, const char **msg, size_t *msglen);
/* "vm12" -> 12; -EINVAL for other names. */
int mx_vm_dir_id(const char *name, unsigned *id);

/* ---- the admin socket ---- */

#define MX_ADMIN_MAGIC 0x56475055u
#define MX_CMD_SHOW_METRICS 0x10u
#define MX_CMD_SHOW_HEALTH 0x11u
struct mx_admin_hdr {
        uint32_t magic, status, data_len;
};
/* The 12-byte reply header (native byte order, as the mediator writes it). -EPROTO for
 * a wrong magic, -EMSGSIZE when data_len exceeds cap, -EBADMSG for fewer than 12 bytes. */
int mx_admin_header(const void *buf, size_t len, size_t cap, struct mx_admin_hdr *out);
/* The 16-byte request {magic, command, 0, 0}. */
void mx_admin_request(uint32_t command, uint8_t out[16]);
/* Whether a SHOW_HEALTH text says something is unhealthy (a word "unhealthy",
 * "degraded", "quarantined" or "error", any case). */
bool mx_health_bad(const char *text);

/* ---- the lock file (its holder: lib/proclocks.h), the log, cuda_sanity ---- */

/* "1234\n" -> 1234; -EINVAL otherwise. */
int mx_lock_pid(const char *text, int *pid);

struct mx_logscan {
        size_t lines, errors, cuda;
        char last_error[160], last_cuda[160];
};
/* Counts "[ERROR]" lines and CUDA error lines ("CUDA error", "cudaError", "cuda...failed").
 * The first line is left out when skip_first (a tail read may start mid-line). */
void mx_log_scan(const char *text, size_t len, bool skip_first, struct mx_logscan *out);

enum mx_sanity { MX_SANITY_OK, MX_SANITY_FAILED, MX_SANITY_UNCLEAR };
/* cuda_sanity's output and exit status: "CUDA sanity OK" and exit 0 is ok; a
 * "... failed: ..." line or a non-zero exit is failed (the line into why). */
enum mx_sanity mx_sanity_parse(const char *out, int exit_status, char *why, size_t whysz);

/* ---- shared by the collector's files ---- */

struct ctx;
struct sample;
/* A CONF_DURATION key in ms, a CONF_SIZE key in bytes (validated at load; def if not). */
uint64_t mx_conf_ms(const struct ctx *c, const char *key, uint64_t def);
uint64_t mx_conf_bytes(const struct ctx *c, const char *key, uint64_t def);
/* One admin exchange on the live socket (or one inside --root): connect, the peer's
 * owner checked (root or service_user), request, reply. 0 with *text (data_len bytes,
 * NUL-terminated) and *status; -errno with *err saying why. */
int mx_admin_ask(const char *sock_path, const char *service_user, uint32_t command, uint64_t timeout_ms,
                 size_t cap, uint32_t *status, char **text, char **err);
void mediator_sample(struct ctx *c, struct sample *s);
void mediator_free_state(void *state);
