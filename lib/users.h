/* User and group names of the inspected system: ROOT/etc/passwd and ROOT/etc/group,
 * read once through lib/rootfs (so --root and bundles see the same), parsed by libc's
 * fgetpwent/fgetgrent. Never getpwuid(): that reads the live host and may ask NSS
 * servers (LDAP, sssd) that can hang. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct users;

/* Parses the two files' text (either may be NULL); the pure part, for tests and fuzzing. */
struct users *users_parse(const char *passwd, const char *group);
/* Reads ROOT/etc/passwd and ROOT/etc/group (each at most 1 MiB). Never NULL. */
struct users *users_load(void);
void users_free(struct users *u);
static inline void users_freep(struct users **u) { users_free(*u); }
#define _cleanup_users_ __attribute__((cleanup(users_freep)))

/* The name of uid / gid, or NULL when the file has none. The first entry wins, as for
 * getpwuid(); comment lines and malformed entries are ignored. */
const char *users_name(const struct users *u, unsigned uid);
const char *users_group(const struct users *u, unsigned gid);
/* The uid of a user name: 0 and *uid set, or -ENOENT. */
int users_uid(const struct users *u, const char *name, unsigned *uid);
/* "name:group", numbers where a name is unknown. */
char *users_owner(const struct users *u, unsigned uid, unsigned gid);

/* Every lookup above is remembered (per process: a collector's child), so that a
 * bundle stores only the entries the checks looked up and `check --from` finds the
 * same names. users_filter: the lines of passwd (groups false) or group text (len
 * bytes) those lookups used — each looked-up id's and name's first entry, and every
 * earlier entry sharing an id or a name with a kept one, so that the union of several
 * collectors' lines still answers every lookup as the whole file did. In file order,
 * NUL-terminated, *out_len bytes. After too many distinct lookups, all of text. */
char *users_filter(bool groups, const char *text, size_t len, size_t *out_len);
void users_lookups_reset(void);
