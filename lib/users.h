/* User and group names of the inspected system: ROOT/etc/passwd and ROOT/etc/group,
 * read once through lib/rootfs (so --root and bundles see the same), parsed by libc's
 * fgetpwent/fgetgrent. Never getpwuid(): that reads the live host and may ask NSS
 * servers (LDAP, sssd) that can hang. */
#pragma once
#include <stdbool.h>

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
