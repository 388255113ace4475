/* A stand-in for systemd's D-Bus API, for tests/cli/units.sh: systemd cannot run as
 * PID 1 on a build host, so this process owns org.freedesktop.systemd1 on a private
 * bus the test starts and answers what evodiag asks: the Manager's Version,
 * ListUnits/ListUnitsFiltered/ListUnitsByPatterns, and GetAll on each unit's object
 * (org.freedesktop.systemd1.Unit and .Service properties with systemd's types).
 *
 *   fake_systemd ADDRESS UNITS_FILE [--hang]
 *
 * UNITS_FILE, re-read at every request (a test rewrites it to change a unit): one
 * unit per line, "name key=value ...", keys as the D-Bus properties (ActiveState,
 * SubState, Result, NRestarts, MainPID, LimitCORE, ..., "infinity" for limits),
 * DropInPaths and TriggeredBy as comma-separated lists, CPUAffinity as a CPU list
 * of CPUs below 64. Timestamps given as "-Ns" mean N seconds ago.
 * --hang: owns the name, accepts every call and never answers (a systemd that hangs).
 * Prints "ready" on stdout once the name is owned. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define UNIT_ROOT "/org/freedesktop/systemd1/unit"

static const char *units_file;

struct kv {
        char *k, *v;
};
struct unit {
        char *name;
        struct kv kv[64];
        int n;
};
static struct unit units[64];
static int nunits;

static void load(void)
{
        for (int i = 0; i < nunits; i++) {
                free(units[i].name);
                for (int j = 0; j < units[i].n; j++)
                        free(units[i].kv[j].k), free(units[i].kv[j].v);
        }
        nunits = 0;
        FILE *f = fopen(units_file, "re");
        if (!f)
                return;
        char line[4096];
        while (fgets(line, sizeof(line), f) && nunits < 64) {
                char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
                if (!tok || *tok == '#')
                        continue;
                struct unit *u = &units[nunits++];
                u->name = strdup(tok);
                u->n = 0;
                while ((tok = strtok_r(NULL, " \t\n", &save)) && u->n < 64) {
                        char *eq = strchr(tok, '=');
                        if (!eq)
                                continue;
                        u->kv[u->n].k = strndup(tok, (size_t)(eq - tok));
                        u->kv[u->n++].v = strdup(eq + 1);
                }
        }
        fclose(f);
}

static struct unit *find(const char *name)
{
        for (int i = 0; i < nunits; i++)
                if (!strcmp(units[i].name, name))
                        return &units[i];
        return NULL;
}

static const char *get(const struct unit *u, const char *k, const char *def)
{
        for (int i = 0; i < u->n; i++)
                if (!strcmp(u->kv[i].k, k))
                        return u->kv[i].v;
        return def;
}

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t num(const char *v)
{
        if (!strcmp(v, "infinity"))
                return UINT64_MAX;
        if (v[0] == '-' && v[strlen(v) - 1] == 's') /* "-30s": 30 seconds ago */
                return now_us() - strtoull(v + 1, NULL, 10) * 1000000;
        return strtoull(v, NULL, 10);
}

/* ---- the Manager ---- */

static int list_reply(sd_bus_message *call, char **states, char **patterns)
{
        load();
        sd_bus_message *r = NULL;
        int k = sd_bus_message_new_method_return(call, &r);
        if (k >= 0)
                k = sd_bus_message_open_container(r, 'a', "(ssssssouso)");
        for (int i = 0; k >= 0 && i < nunits; i++) {
                struct unit *u = &units[i];
                const char *load = get(u, "LoadState", "loaded"), *act = get(u, "ActiveState", "inactive"),
                           *sub = get(u, "SubState", "dead");
                bool ok = !states || !*states;
                for (char **s = states; s && *s && !ok; s++)
                        ok = !strcmp(*s, load) || !strcmp(*s, act) || !strcmp(*s, sub);
                bool pat = !patterns || !*patterns;
                for (char **p = patterns; p && *p && !pat; p++)
                        pat = !fnmatch(*p, u->name, 0);
                if (!ok || !pat)
                        continue;
                char *path = NULL;
                sd_bus_path_encode(UNIT_ROOT, u->name, &path);
                k = sd_bus_message_append(r, "(ssssssouso)", u->name, get(u, "Description", u->name), load, act, sub, "",
                                          path, 0u, "", "/");
                free(path);
        }
        if (k >= 0)
                k = sd_bus_message_close_container(r);
        if (k >= 0)
                k = sd_bus_send(NULL, r, NULL);
        sd_bus_message_unref(r);
        return k;
}

static int m_list_units(sd_bus_message *m, void *ud, sd_bus_error *e)
{
        (void)ud, (void)e;
        return list_reply(m, NULL, NULL);
}

static int m_list_filtered(sd_bus_message *m, void *ud, sd_bus_error *e)
{
        (void)ud, (void)e;
        char **states = NULL;
        int r = sd_bus_message_read_strv(m, &states);
        if (r < 0)
                return r;
        r = list_reply(m, states, NULL);
        for (char **s = states; s && *s; s++)
                free(*s);
        free(states);
        return r;
}

static int m_list_patterns(sd_bus_message *m, void *ud, sd_bus_error *e)
{
        (void)ud, (void)e;
        char **states = NULL, **patterns = NULL;
        int r = sd_bus_message_read_strv(m, &states);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &patterns);
        if (r >= 0)
                r = list_reply(m, states, patterns);
        for (char **s = states; s && *s; s++)
                free(*s);
        for (char **s = patterns; s && *s; s++)
                free(*s);
        free(states);
        free(patterns);
        return r;
}

static int p_version(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                     sd_bus_error *e)
{
        (void)b, (void)path, (void)iface, (void)prop, (void)ud, (void)e;
        return sd_bus_message_append_basic(reply, 's', "252 (evodiag test stand-in)");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", p_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("ListUnits", "", "a(ssssssouso)", m_list_units, 0),
        SD_BUS_METHOD("ListUnitsFiltered", "as", "a(ssssssouso)", m_list_filtered, 0),
        SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", m_list_patterns, 0),
        SD_BUS_VTABLE_END,
};

/* ---- units ---- */

static struct unit *unit_of(const char *path)
{
        char *name = NULL;
        if (sd_bus_path_decode(path, UNIT_ROOT, &name) <= 0)
                return NULL;
        load();
        struct unit *u = find(name);
        free(name);
        return u;
}

static int p_str(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                 sd_bus_error *e)
{
        (void)b, (void)iface, (void)ud, (void)e;
        struct unit *u = unit_of(path);
        const char *def = !strcmp(prop, "Id") || !strcmp(prop, "Description") ? u->name
                          : !strcmp(prop, "LoadState")                       ? "loaded"
                          : !strcmp(prop, "ActiveState")                     ? "inactive"
                          : !strcmp(prop, "SubState")                        ? "dead"
                          : !strcmp(prop, "Result")                          ? "success"
                                                                             : "";
        return sd_bus_message_append_basic(reply, 's', get(u, prop, def));
}

static int p_num(char t, const char *path, const char *prop, sd_bus_message *reply)
{
        struct unit *u = unit_of(path);
        const char *def = !strncmp(prop, "Limit", 5) || !strcmp(prop, "MemoryMax") ? "infinity" : "0";
        uint64_t v = num(get(u, prop, def));
        if (t == 'u') {
                uint32_t x = (uint32_t)v;
                return sd_bus_message_append_basic(reply, 'u', &x);
        }
        if (t == 'i') {
                int32_t x = (int32_t)v;
                return sd_bus_message_append_basic(reply, 'i', &x);
        }
        return sd_bus_message_append_basic(reply, 't', &v);
}

#define GETTER(t)                                                                                                     \
        static int p_##t(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,      \
                         void *ud, sd_bus_error *e)                                                                    \
        {                                                                                                              \
                (void)b, (void)iface, (void)ud, (void)e;                                                               \
                return p_num(#t[0], path, prop, reply);                                                                \
        }
GETTER(u)
GETTER(i)
GETTER(t)

static int p_strv(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                  sd_bus_error *e)
{
        (void)b, (void)iface, (void)ud, (void)e;
        struct unit *u = unit_of(path);
        char *v = strdup(get(u, prop, ""));
        int r = sd_bus_message_open_container(reply, 'a', "s");
        char *save = NULL;
        for (char *t = strtok_r(v, ",", &save); r >= 0 && t; t = strtok_r(NULL, ",", &save))
                r = sd_bus_message_append_basic(reply, 's', t);
        free(v);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int p_affinity(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply, void *ud,
                      sd_bus_error *e)
{
        (void)b, (void)iface, (void)ud, (void)e;
        struct unit *u = unit_of(path);
        uint8_t mask[8] = {0};
        size_t n = 0;
        char *v = strdup(get(u, prop, "")), *save = NULL;
        for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                unsigned lo = 0, hi = 0;
                int k = sscanf(t, "%u-%u", &lo, &hi);
                if (k == 1)
                        hi = lo;
                for (unsigned c = lo; k >= 1 && c <= hi && c < 64; c++) {
                        mask[c / 8] |= (uint8_t)(1u << (c % 8));
                        if (c / 8 + 1 > n)
                                n = c / 8 + 1;
                }
        }
        free(v);
        return sd_bus_message_append_array(reply, 'y', mask, n);
}

#define S(n) SD_BUS_PROPERTY(n, "s", p_str, 0, 0)
#define U(n) SD_BUS_PROPERTY(n, "u", p_u, 0, 0)
#define I(n) SD_BUS_PROPERTY(n, "i", p_i, 0, 0)
#define T(n) SD_BUS_PROPERTY(n, "t", p_t, 0, 0)
#define AS(n) SD_BUS_PROPERTY(n, "as", p_strv, 0, 0)

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        S("Id"), S("Description"), S("LoadState"), S("ActiveState"), S("SubState"), S("UnitFileState"), S("FragmentPath"),
        AS("DropInPaths"), AS("TriggeredBy"), T("ActiveEnterTimestamp"), T("InactiveExitTimestamp"),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        S("Result"), S("User"), U("NRestarts"), I("ExecMainCode"), I("ExecMainStatus"), T("ExecMainStartTimestamp"),
        U("MainPID"), T("LimitNOFILE"), T("LimitCORE"), T("LimitMEMLOCK"), T("LimitRTPRIO"), T("MemoryMax"),
        I("CPUSchedulingPolicy"), I("CPUSchedulingPriority"),
        SD_BUS_PROPERTY("CPUAffinity", "ay", p_affinity, 0, 0),
        SD_BUS_VTABLE_END,
};

static int unit_find(sd_bus *b, const char *path, const char *iface, void *ud, void **found, sd_bus_error *e)
{
        (void)b, (void)iface, (void)e;
        struct unit *u = unit_of(path);
        if (!u)
                return 0;
        bool service = strlen(u->name) > 8 && !strcmp(u->name + strlen(u->name) - 8, ".service");
        if (ud && !service) /* the Service interface only on services */
                return 0;
        *found = u;
        return 1;
}

static int unit_enum(sd_bus *b, const char *prefix, void *ud, char ***nodes, sd_bus_error *e)
{
        (void)b, (void)prefix, (void)ud, (void)e;
        load();
        char **v = calloc((size_t)nunits + 1, sizeof(char *));
        for (int i = 0; i < nunits; i++)
                sd_bus_path_encode(UNIT_ROOT, units[i].name, &v[i]);
        *nodes = v;
        return 0;
}

/* --hang: every call to us is taken and never answered. */
static int swallow(sd_bus_message *m, void *ud, sd_bus_error *e)
{
        (void)ud, (void)e;
        const char *dest = sd_bus_message_get_destination(m);
        return sd_bus_message_is_method_call(m, NULL, NULL) > 0 && dest && strcmp(dest, "org.freedesktop.DBus");
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: fake_systemd ADDRESS UNITS_FILE [--hang]\n");
                return 2;
        }
        units_file = argv[2];
        bool hang = argc > 3 && !strcmp(argv[3], "--hang");
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0 && hang)
                r = sd_bus_add_filter(bus, NULL, swallow, NULL);
        if (r >= 0 && !hang)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                             manager_vtable, NULL);
        if (r >= 0 && !hang)
                r = sd_bus_add_fallback_vtable(bus, NULL, UNIT_ROOT, "org.freedesktop.systemd1.Unit", unit_vtable, unit_find,
                                               NULL);
        if (r >= 0 && !hang)
                r = sd_bus_add_fallback_vtable(bus, NULL, UNIT_ROOT, "org.freedesktop.systemd1.Service", service_vtable,
                                               unit_find, (void *)1);
        if (r >= 0 && !hang)
                r = sd_bus_add_node_enumerator(bus, NULL, UNIT_ROOT, unit_enum, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "fake_systemd: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "fake_systemd: %s\n", strerror(-r));
                        return r == -ECONNRESET || r == -ENOTCONN ? 0 : 1;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return 0;
        }
}
