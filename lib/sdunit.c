/* systemd units over sd-bus, with a deadline on everything (lib/sdunit.h). */
#include "config.h"
#include "lib/sdunit.h"
#include "lib/conffile.h"
#include "lib/cpulist.h"
#include "lib/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define STRV_MAX 256    /* DropInPaths, TriggeredBy: more is not a real unit */
#define AFFINITY_MAX 1024 /* bytes of CPUAffinity: 8192 CPUs */

/* sd-bus.h's own cleanup functions */
#define _cleanup_bus_error_ __attribute__((cleanup(sd_bus_error_free)))
#define _cleanup_bus_message_ __attribute__((cleanup(sd_bus_message_unrefp)))

const char *sdunit_config_address(const struct config *cfg)
{
        const struct config_entry *e = cfg ? config_get(cfg, "units", "bus_address") : NULL;
        return e ? e->value : "";
}

/* A copy of at most max bytes of a string from the bus (xstrndup copies n bytes). */
static char *dup_max(const char *s, size_t max)
{
        return xstrndup(s, strnlen(s, max));
}

/* What is left of the bus's deadline, in usec for sd-bus; 0 when it has passed. */
static uint64_t left_us(const struct sdunit_bus *b)
{
        uint64_t now = now_ms_monotonic();
        return now >= b->deadline_ms ? 0 : (b->deadline_ms - now) * 1000;
}

/* "what: the error": the bus's error name and message, else the errno. */
static char *bus_why(const sd_bus_error *e, int r, const char *fmt, ...) PRINTF(3, 4);
static char *bus_why(const sd_bus_error *e, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        if (e && sd_bus_error_is_set(e))
                return xasprintf("%s: %s%s%s", what, e->name, e->message ? ": " : "", e->message ? e->message : "");
        return xasprintf("%s: %s", what, r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
}

static const char *where(const struct sdunit_bus *b)
{
        return *b->address ? b->address : "the system bus";
}

/* Until the connection is up (authenticated, Hello answered) or the deadline:
 * sd-bus's own wait for that uses its 90 s auth timeout, not ours. */
static int wait_ready(struct sdunit_bus *b)
{
        for (;;) {
                int r = sd_bus_is_ready(b->bus);
                if (r > 0)
                        return 0;
                r = sd_bus_process(b->bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                uint64_t us = left_us(b);
                if (!us)
                        return -ETIMEDOUT;
                r = sd_bus_wait(b->bus, us);
                if (r < 0 && r != -EINTR)
                        return r;
        }
}

int sdunit_open(struct sdunit_bus *b, const char *address, uint64_t timeout_ms, char **why)
{
        *b = (struct sdunit_bus){.deadline_ms = now_ms_monotonic() + timeout_ms, .address = xstrdup(address ? address : "")};
        *why = NULL;
        if (!*b->address && sd_booted() <= 0) {
                *why = xstrdup("PID 1 is not systemd (no /run/systemd/system)");
                return -ENOMEDIUM;
        }
        int r = sd_bus_new(&b->bus);
        if (r < 0)
                goto fail;
        if (*b->address)
                r = sd_bus_set_address(b->bus, b->address);
        else
                r = sd_bus_set_address(b->bus, "unix:path=/run/dbus/system_bus_socket");
        if (r >= 0)
                r = sd_bus_set_bus_client(b->bus, 1);
        if (r >= 0) /* every call, and the Hello sent when the connection starts */
                r = sd_bus_set_method_call_timeout(b->bus, timeout_ms * 1000);
        if (r >= 0)
                r = sd_bus_start(b->bus);
        if (r >= 0)
                r = wait_ready(b);
        if (r >= 0)
                return 0;
fail:
        *why = xasprintf("connecting to %s: %s", where(b), r == -ETIMEDOUT ? "no answer before the deadline" : strerror(-r));
        sdunit_close(b);
        return r;
}

void sdunit_close(struct sdunit_bus *b)
{
        if (b->bus)
                sd_bus_close_unref(b->bus); /* no flush: it waits without a deadline */
        free(b->address);
        *b = (struct sdunit_bus){0};
}

static int call(struct sdunit_bus *b, sd_bus_message *m, sd_bus_error *e, sd_bus_message **reply)
{
        uint64_t us = left_us(b);
        if (!us)
                return -ETIMEDOUT;
        int r = sd_bus_call(b->bus, m, us, e, reply);
        /* A call that timed out is -ETIMEDOUT whatever sd-bus names it. */
        if (r < 0 && sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
                r = -ETIMEDOUT;
        return r;
}

static int method(struct sdunit_bus *b, const char *path, const char *iface, const char *member, sd_bus_message **m)
{
        return sd_bus_message_new_method_call(b->bus, m, SD_DEST, path, iface, member);
}

int sdunit_version(struct sdunit_bus *b, char **version, char **why)
{
        _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        const char *v = NULL;
        *version = NULL;
        int r = method(b, SD_PATH, "org.freedesktop.DBus.Properties", "Get", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", SD_MANAGER, "Version");
        if (r >= 0)
                r = call(b, m, &e, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "v", "s", &v);
        if (r < 0) {
                *why = bus_why(&e, r, "Version of the systemd manager at %s", where(b));
                /* Nobody owns systemd's name there, or what does is not systemd. */
                if (sd_bus_error_has_names(&e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                           SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE,
                                           SD_BUS_ERROR_UNKNOWN_PROPERTY))
                        r = -ENOENT;
                else if (sd_bus_error_is_set(&e) && r != -ETIMEDOUT)
                        r = -EIO;
                return r;
        }
        *version = dup_max(v, 64);
        return 0;
}

/* ---- properties ---- */

static int read_strv(sd_bus_message *m, char ***v, size_t *n)
{
        int r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        const char *s;
        while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0) {
                if (*n >= STRV_MAX)
                        continue;
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = dup_max(s, 4096);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_affinity(sd_bus_message *m, char **out)
{
        const void *p;
        size_t n;
        int r = sd_bus_message_read_array(m, 'y', &p, &n);
        if (r < 0)
                return r;
        free(*out);
        *out = sdunit_affinity_text(p, n < AFFINITY_MAX ? n : AFFINITY_MAX);
        return 0;
}

struct prop {
        const char *name;
        char type; /* the variant's signature: s, u, i, t, S (as), Y (ay) */
        size_t off;
        size_t have_off; /* offset of a bool set when it was read; 0 = none */
};
/* An 'S' property's count follows its array in struct sdunit. */
_Static_assert(offsetof(struct sdunit, ndrop_ins) == offsetof(struct sdunit, drop_ins) + sizeof(char **), "layout");
_Static_assert(offsetof(struct sdunit, ntriggered_by) == offsetof(struct sdunit, triggered_by) + sizeof(char **), "layout");
#define P(n, t, f) {n, t, offsetof(struct sdunit, f), 0}
#define PH(n, t, f, h) {n, t, offsetof(struct sdunit, f), offsetof(struct sdunit, h)}
static const struct prop props[] = {
        P("Id", 's', id),
        P("Description", 's', description),
        P("LoadState", 's', load_state),
        P("ActiveState", 's', active_state),
        P("SubState", 's', sub_state),
        P("UnitFileState", 's', unit_file_state),
        P("FragmentPath", 's', fragment_path),
        P("DropInPaths", 'S', drop_ins),
        P("TriggeredBy", 'S', triggered_by),
        P("ActiveEnterTimestamp", 't', active_enter_us),
        P("InactiveExitTimestamp", 't', inactive_exit_us),
        P("Result", 's', result),
        P("User", 's', user),
        PH("NRestarts", 'u', nrestarts, have_nrestarts),
        P("ExecMainCode", 'i', exec_main_code),
        P("ExecMainStatus", 'i', exec_main_status),
        P("ExecMainStartTimestamp", 't', exec_main_start_us),
        P("MainPID", 'u', main_pid),
        PH("LimitNOFILE", 't', limit_nofile, have_limits),
        PH("LimitCORE", 't', limit_core, have_limits),
        PH("LimitMEMLOCK", 't', limit_memlock, have_limits),
        PH("LimitRTPRIO", 't', limit_rtprio, have_limits),
        P("MemoryMax", 't', memory_max),
        P("CPUSchedulingPolicy", 'i', sched_policy),
        P("CPUSchedulingPriority", 'i', sched_priority),
        P("CPUAffinity", 'Y', cpu_affinity),
};

static const struct prop *prop_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(props); i++)
                if (streq(props[i].name, name))
                        return &props[i];
        return NULL;
}

/* One "name" -> variant entry: a known property of the type systemd gives it is
 * stored, anything else skipped. */
static int read_prop(sd_bus_message *m, struct sdunit *u)
{
        const char *name;
        int r = sd_bus_message_read_basic(m, 's', &name);
        if (r < 0)
                return r;
        const struct prop *p = prop_find(name);
        const char *want = !p ? NULL : p->type == 'S' ? "as" : p->type == 'Y' ? "ay" : (char[]){p->type, 0};
        const char *contents = NULL;
        char type;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!p || type != 'v' || !contents || !streq(contents, want))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        char *base = (char *)u + p->off;
        const char *s;
        switch (p->type) {
        case 's':
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r >= 0) {
                        free(*(char **)base);
                        *(char **)base = dup_max(s, 4096);
                }
                break;
        case 'u':
        case 'i':
        case 't':
                r = sd_bus_message_read_basic(m, p->type, base);
                break;
        case 'S': {
                /* the count follows the array pointer in struct sdunit */
                char ***v = (char ***)base;
                size_t *n = (size_t *)(base + sizeof(char **));
                r = read_strv(m, v, n);
                break;
        }
        case 'Y':
                r = read_affinity(m, (char **)base);
                break;
        }
        if (r >= 0 && p->have_off)
                *((bool *)((char *)u + p->have_off)) = true;
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

void sdunit_init(struct sdunit *u)
{
        *u = (struct sdunit){
                .limit_nofile = SDUNIT_INFINITY - 1,
                .limit_core = SDUNIT_INFINITY - 1,
                .limit_memlock = SDUNIT_INFINITY - 1,
                .limit_rtprio = SDUNIT_INFINITY - 1,
                .memory_max = SDUNIT_INFINITY - 1,
                .sched_policy = -1,
                .sched_priority = -1,
        };
}

int sdunit_get(struct sdunit_bus *b, const char *name, struct sdunit *u, char **why)
{
        sdunit_init(u);
        *why = NULL;
        if (!sdunit_name_valid(name)) {
                *why = xstrdup("not a unit name systemd accepts");
                return -EINVAL;
        }
        _cleanup_free_ char *path = NULL;
        int r = sd_bus_path_encode(SD_PATH "/unit", name, &path);
        if (r < 0) {
                *why = xasprintf("%s: %s", name, strerror(-r));
                return r;
        }
        _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        r = method(b, path, "org.freedesktop.DBus.Properties", "GetAll", &m);
        if (r >= 0) /* "": the properties of every interface (Unit, Service, ...), as systemctl show asks */
                r = sd_bus_message_append(m, "s", "");
        if (r >= 0)
                r = call(b, m, &e, &reply);
        if (r < 0) {
                if (sd_bus_error_has_names(&e, SD_BUS_ERROR_UNKNOWN_OBJECT, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = -ENOENT;
                *why = bus_why(&e, r, "properties of %s", name);
                return r;
        }
        r = sdunit_parse_props(reply, u);
        if (r < 0) {
                *why = xasprintf("properties of %s: malformed reply: %s", name, strerror(-r));
                return r;
        }
        if (!u->id)
                u->id = xstrdup(name);
        return 0;
}

int sdunit_parse_props(sd_bus_message *m, struct sdunit *u)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = read_prop(m, u);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                sdunit_free(u);
                return r;
        }
        u->is_service = u->have_nrestarts || u->result || u->main_pid;
        return 0;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void sdunit_free(struct sdunit *u)
{
        free(u->id);
        free(u->description);
        free(u->load_state);
        free(u->active_state);
        free(u->sub_state);
        free(u->unit_file_state);
        free(u->fragment_path);
        strv_free(u->drop_ins, u->ndrop_ins);
        strv_free(u->triggered_by, u->ntriggered_by);
        free(u->result);
        free(u->user);
        free(u->cpu_affinity);
        sdunit_init(u);
}

/* ---- ListUnits ---- */

static bool matches(const char *s, const char *const *list, bool glob)
{
        if (!list)
                return true;
        for (; *list; list++)
                if (glob ? fnmatch(*list, s, 0) == 0 : streq(*list, s))
                        return true;
        return false;
}

static int append_strv(sd_bus_message *m, const char *const *v)
{
        int r = sd_bus_message_open_container(m, 'a', "s");
        for (; r >= 0 && v && *v; v++)
                r = sd_bus_message_append_basic(m, 's', *v);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int list_call(struct sdunit_bus *b, const char *member, const char *const *states, const char *const *patterns,
                     sd_bus_error *e, sd_bus_message **reply)
{
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        int r = method(b, SD_PATH, SD_MANAGER, member, &m);
        if (r >= 0 && !streq(member, "ListUnits"))
                r = append_strv(m, states);
        if (r >= 0 && streq(member, "ListUnitsByPatterns"))
                r = append_strv(m, patterns);
        return r < 0 ? r : call(b, m, e, reply);
}

int sdunit_list(struct sdunit_bus *b, const char *const *states, const char *const *patterns, struct sdunit_brief **v,
                size_t *n, bool *cut, char **why)
{
        *v = NULL;
        *n = 0;
        *cut = false;
        *why = NULL;
        static const char *const members[] = {"ListUnitsByPatterns", "ListUnitsFiltered", "ListUnits"};
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int r = -ENOSYS;
        for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
                _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
                r = list_call(b, members[i], states, patterns, &e, &reply);
                if (r >= 0)
                        break;
                /* An older manager lacks the newer methods; any other error is final. */
                if (!sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD) || i + 1 == ARRAY_SIZE(members)) {
                        *why = bus_why(&e, r, "%s", members[i]);
                        return r;
                }
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        const char *name, *desc, *load, *active, *sub;
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, &desc, &load, &active, &sub, NULL, NULL, NULL,
                                                  NULL, NULL)) > 0) {
                /* The filters again: a manager that ignored them (ListUnits) or a stand-in. */
                if (!matches(active, states, false) && !matches(sub, states, false) && !matches(load, states, false))
                        continue;
                if (!matches(name, patterns, true))
                        continue;
                if (*n >= SDUNIT_LIST_MAX) {
                        *cut = true;
                        continue;
                }
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = (struct sdunit_brief){
                        .name = dup_max(name, SDUNIT_NAME_MAX),
                        .description = dup_max(desc, 512),
                        .load_state = dup_max(load, 32),
                        .active_state = dup_max(active, 32),
                        .sub_state = dup_max(sub, 32),
                };
        }
        if (r < 0) {
                *why = xasprintf("ListUnits: malformed reply: %s", strerror(-r));
                sdunit_list_free(*v, *n);
                *v = NULL;
                *n = 0;
                return r;
        }
        return 0;
}

void sdunit_list_free(struct sdunit_brief *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].description);
                free(v[i].load_state);
                free(v[i].active_state);
                free(v[i].sub_state);
        }
        free(v);
}

int sdunit_main_pid(const char *address, const char *unit, uint64_t timeout_ms, int *pid, char **why)
{
        *pid = 0;
        struct sdunit_bus b;
        int r = sdunit_open(&b, address, timeout_ms, why);
        if (r < 0)
                return r;
        struct sdunit u;
        r = sdunit_get(&b, unit, &u, why);
        sdunit_close(&b);
        if (r < 0)
                return r;
        if (u.load_state && !streq(u.load_state, "loaded")) {
                *why = xasprintf("%s: %s", unit, u.load_state);
                r = -ENOENT;
        } else if (u.main_pid > 0 && u.main_pid <= INT32_MAX) {
                *pid = (int)u.main_pid;
        }
        sdunit_free(&u);
        return r;
}

/* ---- pure helpers ---- */

const char *sdunit_limit_text(uint64_t v, bool bytes, char buf[static 32])
{
        if (v == SDUNIT_INFINITY)
                snprintf(buf, 32, "infinity");
        else if (v == SDUNIT_INFINITY - 1)
                snprintf(buf, 32, "?");
        else if (bytes && v)
                return fmt_bytes(v, buf);
        else
                snprintf(buf, 32, "%" PRIu64, v);
        return buf;
}

char *sdunit_affinity_text(const uint8_t *mask, size_t n)
{
        struct cpuset s;
        cpuset_zero(&s);
        bool any = false;
        for (size_t i = 0; i < n && i * 8 < CPULIST_MAX; i++)
                for (unsigned bit = 0; bit < 8; bit++)
                        if (mask[i] & (1u << bit)) {
                                cpuset_set(&s, (unsigned)(i * 8 + bit));
                                any = true;
                        }
        return any ? cpulist_format(&s) : NULL;
}

bool sdunit_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (!n || n >= SDUNIT_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') || strchr(":_.\\@-", *p)))
                        return false;
        const char *dot = strrchr(name, '.');
        return dot && dot != name && dot[1];
}
