/* Who evodiag trusts (DESIGN.md, "Trust model"). evodiag runs as root and reads what
 * processes, files and servers on the host offer; a process's name, argv, environ and
 * cwd belong to whoever started it. So, for each component (lavinmq, ...):
 *   - a process is the component only if root or the component's service user owns it
 *     (every one of its real/effective/saved/fs uids), or it is the systemd unit's
 *     MainPID, or the pid in a lock file that passes the path rule;
 *   - a path learned from a process is opened only if the file and every directory on
 *     the way are owned by root or the service user and not writable by others
 *     (an openat() walk with O_NOFOLLOW and fstat() per component);
 *   - credentials go only to endpoints evodiag's own config names, or to loopback TCP
 *     and unix-socket peers whose owner is root or the service user (SO_PEERCRED; the
 *     listening socket's uid in /proc/net/tcp and tcp6), never over plain http:// to
 *     another host.
 * evodiag's own effective uid counts as root: when it runs as a user, it can read only
 * what that user can anyway. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct trust {
        char *component;    /* "lavinmq", for messages */
        char *service_user; /* "lavinmq"; "" = none */
        bool have_service;  /* the service user exists (in the root's /etc/passwd) */
        uid_t service_uid;
        uid_t self_uid;     /* evodiag's effective uid */
        int main_pid;       /* the systemd unit's MainPID; 0 = not known */
        int lock_pid;       /* named by a lock file that passed the path rule; 0 = none */
        char *who;          /* "root or lavinmq", for messages */
};

/* service_user: a user name from the root's /etc/passwd (lib/users), a
 * numeric uid, or "" for none. Never fails: an unknown user is remembered (trust_who
 * says so) and only root is trusted besides evodiag itself. */
void trust_init(struct trust *t, const char *component, const char *service_user);
void trust_free(struct trust *t);
/* The hook for whoever knows the unit's MainPID (a units collector; systemd's D-Bus):
 * that pid is the component whatever its owner. 0 clears it. */
void trust_set_main_pid(struct trust *t, int pid);
/* The pid a lock file names; only call it after the file passed trust_read(). */
void trust_set_lock_pid(struct trust *t, int pid);
bool trust_uid(const struct trust *t, uid_t uid);
/* "root or lavinmq", "root (no user lavinmq in /etc/passwd)". */
const char *trust_who(const struct trust *t);

/* ---- processes ---- */

struct proc;
/* Whether a process is named `name`: its comm, or the basename of its argv[0] (from
 * the raw, NUL-separated /proc/PID/cmdline, read root-aware: a space inside argv[0]
 * is not the end of it), exactly ("lavinmq", not "lavinmqctl"). A name is only a
 * claim: trust_process() decides whether to believe it. Kernel threads never match
 * by argv[0]. p->cmdline, when set, is the process table's joined command line of
 * the same run: a name not in it rules argv[0] out without reading the file again. */
bool component_named(const struct proc *p, const char *name);
/* The same on texts already read: comm and argv0 (the first NUL-terminated string
 * of a cmdline) may be NULL. */
bool component_name_match(const char *comm, const char *argv0, const char *name);

enum trust_by { TRUST_NOT, TRUST_OWNER, TRUST_MAIN_PID, TRUST_LOCK };
struct trust_proc {
        enum trust_by by;  /* TRUST_NOT: an impostor */
        unsigned uid[4];   /* real, effective, saved, filesystem (from /proc/PID/status) */
        bool uids_known;
        unsigned bad_uid;  /* the first uid that is neither root nor the service user */
        int err;           /* reading /proc/PID/status: 0 or -errno */
};
/* The Uid: line of a /proc/PID/status text. 0 or -EINVAL. */
int trust_status_uids(const char *status, unsigned uid[4]);
/* Reads /proc/PID/status (through rootfs: --root and bundles see it too) and decides.
 * Returns true when pid is vouched for. */
bool trust_process(const struct trust *t, int pid, struct trust_proc *out);
const char *trust_by_name(enum trust_by by);

/* ---- the path rule ---- */

enum trust_want { TRUST_FILE, TRUST_DIR };
/* Walks path from rootfd (the root directory, O_PATH is enough): each component opened
 * with O_PATH|O_NOFOLLOW and fstat()ed; every directory and the final entry must be
 * owned by root or the service user and not writable by group or others (a sticky
 * directory such as /tmp may be world-writable: nobody else can replace what is in
 * it, and each entry is checked in turn; a file with several links in one is refused).
 * Symlinks are followed (at most 40) only when root (or evodiag's own uid) owns the
 * link; an absolute target and ".." never leave rootfd. The final entry must be a
 * regular file (TRUST_FILE, opened O_RDONLY|O_NONBLOCK) or a directory (TRUST_DIR,
 * O_RDONLY|O_DIRECTORY); its fd goes to *fd_out. path must be absolute.
 * Returns 0; -EPERM when the rule refuses it; another -errno when the walk fails.
 * On failure *why (newly allocated) says where and why, naming the path. */
int trust_walk(const struct trust *t, int rootfd, const char *path, enum trust_want want, int *fd_out, char **why);

/* The root-aware forms (rootfs_get() is the root). trust_read reads at most max bytes
 * (NUL-terminated, like rootfs_read) from the walk's own fd; while a bundle traces,
 * the bytes become the snapshot so that exactly they are stored and `check --from`
 * reads them, and a refusal is recorded as EPERM, which `check --from` replays. */
long trust_read(const struct trust *t, const char *path, size_t max, char **out, bool *truncated, char **why);
/* A directory taken from a process, before it is listed. 0 or -errno with *why. */
int trust_check_dir(const struct trust *t, const char *path, char **why);
/* A path a process named relative to its working directory: joined to the target of
 * /proc/PID/cwd. Absolute paths are returned as they are. NULL (with *why) when the
 * cwd cannot be read. */
char *trust_resolve_relative(int pid, const char *path, char **why);

/* ---- where credentials may go ---- */

bool trust_ip_loopback(const char *ip);
/* The uids of the LISTEN sockets in a /proc/net/tcp (v6 false) or tcp6 text that would
 * accept a connection to addr:port (the address itself, a wildcard, and for tcp6 the
 * v4-mapped form of an IPv4 address). addr is struct in_addr or in6_addr (family
 * AF_INET/AF_INET6). Returns how many (at most max stored), or -EINVAL when the text
 * is not the kernel's. */
int trust_tcp_listen_uids(const char *text, bool v6, int family, const void *addr, unsigned port, unsigned *uids, size_t max);
/* Credentials may go to ip:port (a connected TCP peer) only if ip is a loopback address
 * and every socket listening there (/proc/self/net/tcp and tcp6) is owned by root or
 * the service user. 0, or -EPERM with why filled in. */
int trust_tcp_peer(const struct trust *t, const char *ip, unsigned port, char *why, size_t whylen);
/* The process at the other end of a connected unix socket (SO_PEERCRED). */
int trust_unix_peer(const struct trust *t, int fd, char *why, size_t whylen);
