/* systemd units over D-Bus (libsystemd's sd-bus), every call under a deadline: what
 * the units collector reports and what lib/trust's identity rule needs (a unit's
 * MainPID vouches for a component's process), so that any collector can ask for a
 * unit without including the units collector.
 *
 * The bus: an address ("unix:path=/run/dbus/system_bus_socket", a test's private
 * bus), or "" for the system bus, which is only tried where systemd is PID 1
 * (sd_booted()). Connecting, authenticating and every call share one deadline
 * (sd_bus_set_method_call_timeout, and our own wait while the connection comes up):
 * a bus or a systemd that never answers costs at most that long. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;

#define SDUNIT_INFINITY UINT64_MAX /* systemd's "infinity" for limits and MemoryMax */
#define SDUNIT_NAME_MAX 256        /* unit names systemd accepts are shorter */
#define SDUNIT_LIST_MAX 4096       /* at most this many units from one ListUnits call */

struct sdunit_bus {
        sd_bus *bus;
        uint64_t deadline_ms; /* CLOCK_MONOTONIC: nothing on this bus runs past it */
        char *address;        /* as given, "" = the system bus; for messages */
};

/* Opens the bus. timeout_ms bounds the connection and every later call (each call
 * gets what is left of it, capped at timeout_ms). Returns 0; -ENOMEDIUM when the
 * address is "" and PID 1 is not systemd; -ETIMEDOUT when the bus did not finish
 * the handshake in time; another -errno (-ENOENT, -ECONNREFUSED: no bus there).
 * On failure *why says what happened. */
int sdunit_open(struct sdunit_bus *b, const char *address, uint64_t timeout_ms, char **why);
void sdunit_close(struct sdunit_bus *b);
/* The systemd version the manager reports (its Version property). -ENOENT: no
 * systemd on that bus (nobody owns the name, or not systemd's objects); -ETIMEDOUT:
 * no answer in time; -EIO: another error reply; with *why. */
int sdunit_version(struct sdunit_bus *b, char **version, char **why);

/* What one unit's properties say (GetAll on its object). Absent properties keep
 * their "unknown" values: strings NULL, numbers as below. */
struct sdunit {
        char *id;               /* "lavinmq.service" */
        char *description;
        char *load_state;       /* loaded, not-found, masked, error */
        char *active_state;     /* active, inactive, failed, activating, deactivating, reloading */
        char *sub_state;        /* running, dead, exited, auto-restart, listening, ... */
        char *unit_file_state;  /* enabled, disabled, static, masked, ... */
        char *fragment_path;    /* the unit file */
        char **drop_ins;        /* DropInPaths */
        size_t ndrop_ins;
        char **triggered_by;    /* units that start it (rpcbind.socket for rpcbind.service) */
        size_t ntriggered_by;
        uint64_t active_enter_us, inactive_exit_us; /* CLOCK_REALTIME usec; 0 = never */
        /* org.freedesktop.systemd1.Service (services only) */
        bool is_service;
        char *result;           /* success, exit-code, signal, core-dump, timeout, ... */
        char *user;             /* User=; "" = root */
        uint32_t nrestarts;
        bool have_nrestarts;
        int32_t exec_main_code, exec_main_status; /* CLD_EXITED and the exit status, ... */
        uint64_t exec_main_start_us;              /* CLOCK_REALTIME usec; 0 = never */
        uint32_t main_pid;                        /* 0 = none */
        uint64_t limit_nofile, limit_core, limit_memlock, limit_rtprio, memory_max; /* SDUNIT_INFINITY */
        bool have_limits;
        int32_t sched_policy, sched_priority;     /* CPUSchedulingPolicy/Priority */
        char *cpu_affinity;                        /* "0-3,8" from CPUAffinity; NULL = all */
};

/* The unit `name` ("lavinmq.service"). Returns 0 (u filled; a unit systemd does not
 * know has load_state "not-found", or -ENOENT when the bus has no object for it),
 * or -errno with *why. */
int sdunit_get(struct sdunit_bus *b, const char *name, struct sdunit *u, char **why);
void sdunit_free(struct sdunit *u);
/* The a{sv} of a GetAll reply (from the bus: untrusted) into u, which sdunit_get
 * initialised: a known property of the type systemd gives it is stored (strings cut at
 * 4 KiB, lists at 256 entries, CPUAffinity at 8192 CPUs), every other entry skipped.
 * 0, or -errno for a malformed message (u is then freed). */
int sdunit_parse_props(sd_bus_message *m, struct sdunit *u);
/* The unknown values sdunit_parse_props starts from (limits SDUNIT_INFINITY - 1). */
void sdunit_init(struct sdunit *u);

/* One row of ListUnits. */
struct sdunit_brief {
        char *name, *description, *load_state, *active_state, *sub_state;
};
/* Loaded units in any of `states` (NULL = all) whose names match one of `patterns`
 * (shell globs; NULL = all): ListUnitsByPatterns, else ListUnitsFiltered / ListUnits
 * (older systemd, stand-ins) filtered here. At most SDUNIT_LIST_MAX; *cut set when
 * more were there. 0 or -errno with *why. */
int sdunit_list(struct sdunit_bus *b, const char *const *states, const char *const *patterns, struct sdunit_brief **v,
                size_t *n, bool *cut, char **why);
void sdunit_list_free(struct sdunit_brief *v, size_t n);

/* The MainPID of `unit` (a service) over the bus at address ("" = system bus), in at
 * most timeout_ms: what lib/trust's identity rule takes (trust_set_main_pid). 0 and
 * *pid = 0 when the unit is known but has no main process; -errno with *why when it
 * cannot be known (no systemd, no bus, no such unit, no answer in time). */
int sdunit_main_pid(const char *address, const char *unit, uint64_t timeout_ms, int *pid, char **why);

/* The address evodiag's config gives the bus ([units] bus_address), "" when unset:
 * shared so that every collector reaches the same bus the units collector reads. */
struct config;
const char *sdunit_config_address(const struct config *cfg);

/* ---- pure helpers (unit-tested) ---- */

/* "infinity" or the number; bytes as "64 MiB" when bytes. buf of 32. */
const char *sdunit_limit_text(uint64_t v, bool bytes, char buf[static 32]);
/* CPUAffinity's byte mask as a CPU list ("0-3,8"), NULL for an empty mask. */
char *sdunit_affinity_text(const uint8_t *mask, size_t n);
/* Whether a unit name is one to ask systemd about: 1..SDUNIT_NAME_MAX-1 bytes of
 * [A-Za-z0-9:_.\\@-], with a suffix (".service", ".socket", ...). */
bool sdunit_name_valid(const char *name);
