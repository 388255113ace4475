/* A unit's properties as systemd's GetAll returns them (a{sv}): what lib/sdunit reads
 * from the bus, where any process that owns the name, or a broken systemd, decides
 * the names, types and values. The input drives a message: per entry one byte picks
 * the name (a known property, or a name made of the next bytes), one the variant's
 * type (the right one, a wrong basic type, a list, bytes, a struct, a nested
 * variant), the next bytes its value. The message is sealed and parsed as a reply. */
#include "tests/fuzz/fuzz.h"
#include "lib/sdunit.h"

#include <sys/socket.h>
#include <systemd/sd-bus.h>

static const char *const names[] = {
        "Id", "Description", "LoadState", "ActiveState", "SubState", "UnitFileState", "FragmentPath", "DropInPaths",
        "TriggeredBy", "ActiveEnterTimestamp", "InactiveExitTimestamp", "Result", "User", "NRestarts", "ExecMainCode",
        "ExecMainStatus", "ExecMainStartTimestamp", "MainPID", "LimitNOFILE", "LimitCORE", "LimitMEMLOCK", "LimitRTPRIO",
        "MemoryMax", "CPUSchedulingPolicy", "CPUSchedulingPriority", "CPUAffinity",
};

/* Messages need a started bus; one end of a socketpair is enough (nothing is sent). */
static sd_bus *bus(void)
{
        static sd_bus *b;
        int sv[2];
        if (b)
                return b;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || sd_bus_new(&b) < 0 || sd_bus_set_fd(b, sv[0], sv[0]) < 0 ||
            sd_bus_start(b) < 0)
                abort();
        return b;
}

struct in {
        const uint8_t *p;
        size_t n;
};
static uint8_t byte(struct in *in)
{
        if (!in->n)
                return 0;
        in->n--;
        return *in->p++;
}
/* A string of up to len bytes made printable ASCII (D-Bus strings must be UTF-8). */
static char *text(struct in *in, size_t len)
{
        char *s = malloc(len + 1);
        size_t i = 0;
        if (!s)
                abort();
        for (; i < len && in->n; i++) {
                uint8_t c = byte(in) & 0x7f;
                s[i] = c < 0x20 || c == 0x7f ? 'a' : (char)c;
        }
        s[i] = 0;
        return s;
}
static uint64_t u64(struct in *in)
{
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | byte(in);
        return v;
}

static int value(sd_bus_message *m, struct in *in, int depth)
{
        unsigned kind = byte(in) % 10;
        uint64_t v = u64(in);
        uint32_t u = (uint32_t)v;
        int32_t i = (int32_t)v;
        int b = (int)(v & 1);
        int r;
        char *s;
        switch (kind) {
        case 0:
                s = text(in, byte(in) % 64);
                r = sd_bus_message_append(m, "v", "s", s);
                free(s);
                return r;
        case 1: return sd_bus_message_append(m, "v", "u", u);
        case 2: return sd_bus_message_append(m, "v", "i", i);
        case 3: return sd_bus_message_append(m, "v", "t", v);
        case 4: return sd_bus_message_append(m, "v", "b", b);
        case 5: {
                unsigned n = byte(in) % 300; /* past the 256 kept */
                r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (unsigned k = 0; r >= 0 && k < n && in->n; k++) {
                        s = text(in, byte(in) % 16);
                        r = sd_bus_message_append_basic(m, 's', s);
                        free(s);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case 6: {
                size_t n = byte(in) * 8u; /* up to 2040 bytes: past the 1024 kept */
                uint8_t *buf = calloc(n + 1, 1);
                if (!buf)
                        abort();
                for (size_t k = 0; k < n && in->n; k++)
                        buf[k] = byte(in);
                r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', buf, n);
                free(buf);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case 7: return sd_bus_message_append(m, "v", "(ss)", "a", "b");
        case 8:
                if (depth > 3)
                        return sd_bus_message_append(m, "v", "s", "deep");
                r = sd_bus_message_open_container(m, 'v', "v");
                if (r >= 0)
                        r = value(m, in, depth + 1);
                return r < 0 ? r : sd_bus_message_close_container(m);
        default: return sd_bus_message_append(m, "v", "a{sv}", 1, "x", "u", u);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct in in = {data, size};
        sd_bus_message *m = NULL;
        if (sd_bus_message_new_method_call(bus(), &m, "org.freedesktop.systemd1", "/x", "org.freedesktop.DBus.Properties",
                                           "GetAll") < 0)
                abort();
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (unsigned k = 0; r >= 0 && in.n && k < 200; k++) {
                uint8_t pick = byte(&in);
                char *name = pick < 0xf0 ? strdup(names[pick % (sizeof(names) / sizeof(names[0]))]) : text(&in, pick & 0x0f);
                if (!name)
                        abort();
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', name);
                if (r >= 0)
                        r = value(m, &in, 0);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                free(name);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_seal(m, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(m, 1);
        if (r >= 0) {
                struct sdunit u;
                sdunit_init(&u);
                if (sdunit_parse_props(m, &u) == 0) {
                        char *t = sdunit_affinity_text((const uint8_t *)"\xff", 1);
                        free(t);
                        sdunit_free(&u);
                }
        }
        sd_bus_message_unref(m);
        return 0;
}
