/* The EVO segment formats (COMPONENTS.md §1) as pure functions: the three header
 * layouts, the seqlock read, /proc/locks lines, segment names, .meta JSON,
 * modes and credentials. No I/O of its own: collectors/evo.c feeds it bytes and
 * text, and tests/unit/test_evo.c feeds it byte arrays. */
#include "config.h"
#include "collectors/evo.h"
#include "lib/satmath.h"
#include "lib/procfs.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------- decoding (unit-tested) ---------------- */

static const uint8_t p2p_magic[8] = {'E', 'V', 'O', '_', 'P', '2', 'P', 0};
#define LEGACY_MAGIC UINT64_C(0x45564F5F53484D00) /* "EVO_SHM\0" as a native u64 */

static uint64_t le64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum evo_layout evo_layout_of(const uint8_t *b, size_t len, size_t *need)
{
        *need = 8;
        if (len < 8)
                return EVO_LAYOUT_NONE;
        if (!memcmp(b, p2p_magic, 8)) {
                *need = EVO_P2P_HDR;
                return EVO_LAYOUT_P2P;
        }
        if (le64(b) == LEGACY_MAGIC) {
                if (len >= EVO_LEGACY_HDR + 8 && !memcmp(b + EVO_LEGACY_HDR, p2p_magic, 8)) {
                        *need = EVO_HDR_MAX;
                        return EVO_LAYOUT_INTERMEDIATE;
                }
                *need = EVO_LEGACY_HDR;
                return EVO_LAYOUT_LEGACY;
        }
        return EVO_LAYOUT_NONE;
}

static bool all_zero(const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static void decode_p2p(const uint8_t *b, struct evo_p2p *p)
{
        p->version_hash = le32(b + 8);
        p->heartbeat = le64(b + 16);
        p->source = b[24];
        p->dest = b[25];
        p->payload_size = le32(b + 28);
        p->write_seq = le32(b + 32);
        p->padding_zero = all_zero(b + 12, 4) && all_zero(b + 26, 2) && all_zero(b + 36, 28);
}

int evo_decode(const uint8_t *b, size_t len, struct evo_header *h)
{
        size_t need;
        *h = (struct evo_header){0};
        h->layout = evo_layout_of(b, len, &need);
        if (h->layout == EVO_LAYOUT_NONE)
                return -EBADMSG;
        if (len < need)
                return -ENODATA;
        if (h->layout == EVO_LAYOUT_P2P) {
                decode_p2p(b, &h->p2p);
                return 0;
        }
        struct evo_legacy *l = &h->legacy;
        l->version = le64(b + 8);
        l->writer_pid = le32(b + 16);
        l->reader_count = le32(b + 20);
        l->size = le64(b + 24);
        l->created_ts = le64(b + 32);
        l->last_write_ts = le64(b + 40);
        l->checksum = le32(b + 48);
        if (h->layout == EVO_LAYOUT_INTERMEDIATE)
                decode_p2p(b + EVO_LEGACY_HDR, &h->p2p);
        return 0;
}

const char *evo_layout_name(enum evo_layout l)
{
        switch (l) {
        case EVO_LAYOUT_P2P: return "p2p";
        case EVO_LAYOUT_LEGACY: return "legacy";
        case EVO_LAYOUT_INTERMEDIATE: return "intermediate";
        default: return "none";
        }
}

void evo_seq_field(enum evo_layout l, size_t *off, unsigned *width)
{
        if (l == EVO_LAYOUT_P2P) {
                *off = 32;
                *width = 4;
        } else {
                /* Intermediate too: there the legacy version is the seqlock and the
                 * P2P write_seq inside is never odd in memory. */
                *off = 8;
                *width = 8;
        }
}

uint64_t evo_min_size(const struct evo_header *h)
{
        switch (h->layout) {
        case EVO_LAYOUT_P2P:
                return EVO_P2P_HDR + (uint64_t)h->p2p.payload_size;
        case EVO_LAYOUT_LEGACY:
                return sat_add_u64(EVO_LEGACY_HDR, h->legacy.size);
        case EVO_LAYOUT_INTERMEDIATE: {
                uint64_t a = sat_add_u64(EVO_LEGACY_HDR, h->legacy.size), b = EVO_HDR_MAX + (uint64_t)h->p2p.payload_size;
                return a > b ? a : b;
        }
        default:
                return 0;
        }
}

/* commit(): write_seq = 2*hb-1 is stored while the header still holds hb-1, then the
 * header with hb and 2*hb is copied in: so write_seq is 2*heartbeat, or 2*heartbeat+1
 * mid-commit (u32 arithmetic). */
static bool p2p_seq_consistent(const struct evo_p2p *p)
{
        uint32_t even = (uint32_t)p->heartbeat * 2u;
        return p->write_seq == even || p->write_seq == even + 1u;
}

bool evo_header_problem(const struct evo_header *h, char *buf, size_t n)
{
        buf[0] = 0;
        if (h->layout == EVO_LAYOUT_LEGACY || h->layout == EVO_LAYOUT_INTERMEDIATE) {
                const struct evo_legacy *l = &h->legacy;
                if (l->size < 4096 || l->size > (UINT64_C(1) << 30) || l->size % 4096)
                        snprintf(buf, n, "legacy data size %" PRIu64 " is not a multiple of 4096 between 4 KiB and 1 GiB", l->size);
                else if (!l->writer_pid)
                        snprintf(buf, n, "legacy writer_pid is 0");
        }
        if (!buf[0] && (h->layout == EVO_LAYOUT_P2P || h->layout == EVO_LAYOUT_INTERMEDIATE) && !p2p_seq_consistent(&h->p2p))
                snprintf(buf, n, "write_seq %" PRIu32 " does not belong to heartbeat %" PRIu64 " (want %" PRIu32 " or %" PRIu32 ")",
                         h->p2p.write_seq, h->p2p.heartbeat, (uint32_t)h->p2p.heartbeat * 2u, (uint32_t)h->p2p.heartbeat * 2u + 1u);
        return buf[0] != 0;
}

uint64_t evo_progress(const struct evo_header *h)
{
        return h->layout == EVO_LAYOUT_LEGACY ? h->legacy.version / 2 : h->p2p.heartbeat;
}

bool evo_seq_odd(const struct evo_header *h)
{
        switch (h->layout) {
        case EVO_LAYOUT_P2P: return h->p2p.write_seq & 1;
        case EVO_LAYOUT_LEGACY: return h->legacy.version & 1;
        case EVO_LAYOUT_INTERMEDIATE: return (h->legacy.version & 1) || (h->p2p.write_seq & 1);
        default: return false;
        }
}

static const char *const module_names[] = {"cu", "hal", "re", "mqt", "rpc", NULL};

const char *evo_module_name(uint8_t m)
{
        return m < ARRAY_SIZE(module_names) ? module_names[m] : NULL;
}

uint32_t evo_version_hash(uint32_t size, uint32_t align)
{
        return (size * 0x9E3779B9u) ^ (align * 0x517CC1B7u);
}

uint32_t evo_version_hash_align(uint32_t hash, uint32_t size)
{
        for (uint32_t a = 1; a <= 4096; a <<= 1)
                if (evo_version_hash(size, a) == hash)
                        return a;
        return 0;
}

const char *evo_read_name(enum evo_read r)
{
        static const char *const n[] = {"stable", "odd", "contended", "short", "error"};
        return r <= EVO_READ_ERROR ? n[r] : "?";
}

ssize_t evo_read_full(evo_pread_fn fn, void *arg, uint8_t *buf, size_t n, uint64_t off)
{
        size_t got = 0;
        while (got < n) {
                ssize_t r = fn(arg, buf + got, n - got, off + got);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                got += (size_t)r;
        }
        return (ssize_t)got;
}

static uint64_t seq_value(const uint8_t *p, unsigned width)
{
        return width == 4 ? le32(p) : le64(p);
}

enum evo_read evo_seqlock_read(evo_pread_fn fn, void *arg, size_t seq_off, unsigned seq_width, uint8_t *buf,
                               size_t len, unsigned attempts, unsigned pause_us, unsigned *tries)
{
        uint8_t s[8];
        bool always_odd = true;
        if (seq_width != 4 && seq_width != 8)
                return EVO_READ_ERROR;
        if (seq_off + seq_width > len)
                return EVO_READ_ERROR;
        if (!attempts)
                attempts = 1;
        for (unsigned i = 0; i < attempts; i++) {
                if (tries)
                        *tries = i + 1;
                if (i && pause_us) {
                        /* The writer is mid-copy: give it a moment (upstream yields). */
                        struct timespec ts = {0, (long)pause_us * 1000};
                        (void)nanosleep(&ts, NULL);
                }
                ssize_t r = evo_read_full(fn, arg, s, seq_width, seq_off);
                if (r < 0)
                        return EVO_READ_ERROR;
                if ((size_t)r < seq_width)
                        return EVO_READ_SHORT;
                uint64_t before = seq_value(s, seq_width);
                if (before & 1)
                        continue;
                always_odd = false;
                r = evo_read_full(fn, arg, buf, len, 0);
                if (r < 0)
                        return EVO_READ_ERROR;
                if ((size_t)r < len)
                        return EVO_READ_SHORT;
                r = evo_read_full(fn, arg, s, seq_width, seq_off);
                if (r < 0)
                        return EVO_READ_ERROR;
                if ((size_t)r < seq_width)
                        return EVO_READ_SHORT;
                /* Unchanged around the copy, and the copy holds the same value. */
                if (seq_value(s, seq_width) == before && seq_value(buf + seq_off, seq_width) == before)
                        return EVO_READ_STABLE;
        }
        /* No consistent copy: hand back the latest bytes so the header can be shown. */
        ssize_t r = evo_read_full(fn, arg, buf, len, 0);
        if (r < 0)
                return EVO_READ_ERROR;
        if ((size_t)r < len)
                return EVO_READ_SHORT;
        return always_odd ? EVO_READ_ODD : EVO_READ_CONTENDED;
}

/* ---------------- /proc/PID/status (unit-tested; /proc/locks: lib/proclocks, maps lines: lib/procmaps) ---------------- */

bool evo_map_names_evo(const struct procmaps_entry *m, const char *dir, const char **name, size_t *len)
{
        const char *n;
        size_t nl;
        if (!procmaps_in_dir(m, dir, &n, &nl) || nl <= 4 || memcmp(n, "evo_", 4))
                return false;
        *name = n;
        *len = nl;
        return true;
}

static bool endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && !memcmp(s + a - b, suffix, b);
}

enum evo_name_kind evo_name_kind(const char *fname)
{
        if (!startswith(fname, "evo_"))
                return EVO_NAME_OTHER;
        if (endswith(fname, ".lock"))
                return EVO_NAME_LOCK;
        if (endswith(fname, ".meta"))
                return EVO_NAME_META;
        return EVO_NAME_DATA;
}

bool evo_name_legacy(const char *fname, char **base, int *pid)
{
        *base = NULL;
        *pid = 0;
        if (!startswith(fname, "evo_"))
                return false;
        const char *name = fname + 4, *us = strrchr(name, '_');
        if (!us || us == name)
                return false;
        uint64_t v;
        if (parse_digits_u64(us + 1, strlen(us + 1), 10, 10, &v) < 0 || !v || v > INT32_MAX)
                return false;
        *base = xstrndup(name, (size_t)(us - name));
        *pid = (int)v;
        return true;
}

static const char *const p2p_names[] = {
        "hal_cu", "cu_hal", "cu_mqt", "hal_mqt", "re_cu", "re_hal", "re_mqt", "re_rpc",
        "rpc_cu", "rpc_hal", "rpc_re", "cu_re", "cu_rpc", "hal_rpc", "hal_re", NULL,
};
/* evo_shared_memory/src/data/mod.rs (b7a9d87^): they carry their own evo_ prefix. */
static const char *const legacy_names[] = {
        "evo_hal_sensors", "evo_hal_actuators", "evo_hal_io_banks", "evo_hal_config",
        "evo_control_state", "evo_control_commands", "evo_control_performance",
        "evo_recipe_state", "evo_recipe_steps", "evo_recipe_commands",
        "evo_api_metrics", "evo_api_system_state", "evo_api_sessions",
        "evo_system_modules", "evo_system_health", NULL,
};

bool evo_name_known(const char *base, enum evo_layout l)
{
        if (strv_contains(p2p_names, base))
                return true;
        /* Legacy files: the crate's own names; intermediate writers used P2P names. */
        return l != EVO_LAYOUT_P2P && strv_contains(legacy_names, base);
}

bool evo_name_modules(const char *base, char src[8], char dst[8])
{
        const char *us = strchr(base, '_');
        if (!us || strchr(us + 1, '_'))
                return false;
        size_t a = (size_t)(us - base), b = strlen(us + 1);
        if (!a || a >= 8 || !b || b >= 8)
                return false;
        memcpy(src, base, a);
        src[a] = 0;
        memcpy(dst, us + 1, b);
        dst[b] = 0;
        return strv_contains(module_names, src) && strv_contains(module_names, dst);
}

int evo_status_creds(const char *status, struct evo_creds *c)
{
        *c = (struct evo_creds){0};
        struct kvlist kv;
        kv_parse(status, ':', &kv);
        const char *u = kv_get(&kv, "Uid"), *g = kv_get(&kv, "Gid"), *gs = kv_get(&kv, "Groups");
        unsigned r, e, s, fs;
        int ret = 0;
        /* open() checks the file-system ids: the 4th column. */
        if (!u || sscanf(u, "%u %u %u %u", &r, &e, &s, &fs) != 4)
                ret = -EINVAL;
        else
                c->uid = fs;
        if (!ret && (!g || sscanf(g, "%u %u %u %u", &r, &e, &s, &fs) != 4))
                ret = -EINVAL;
        else if (!ret)
                c->gid = fs;
        for (const char *p = gs; !ret && p && *p && c->ngroups < ARRAY_SIZE(c->groups);) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (end == p)
                        break;
                if (!errno && v <= UINT32_MAX)
                        c->groups[c->ngroups++] = (unsigned)v;
                p = end;
        }
        kv_free(&kv);
        return ret;
}

bool evo_can_open(const struct evo_creds *c, unsigned uid, unsigned gid, mode_t mode, bool rw)
{
        if (c->uid == 0)
                return true;
        mode_t r, w;
        bool in_group = c->gid == gid;
        for (size_t i = 0; !in_group && i < c->ngroups; i++)
                in_group = c->groups[i] == gid;
        /* The first class that matches decides, even if a later one would allow more. */
        if (c->uid == uid) {
                r = S_IRUSR;
                w = S_IWUSR;
        } else if (in_group) {
                r = S_IRGRP;
                w = S_IWGRP;
        } else {
                r = S_IROTH;
                w = S_IWOTH;
        }
        return (mode & r) && (!rw || (mode & w));
}

const char *evo_mode_problem(mode_t mode, enum evo_layout l)
{
        if (mode & S_IWOTH)
                return "writable by every user (o+w): any local user can rewrite what the RT loop acts on";
        if (l == EVO_LAYOUT_P2P && (mode & S_IWGRP))
                return "writable by its group (g+w): P2P readers open it read-only, only the writer needs write";
        return NULL;
}

const char *evo_lock_mode_problem(mode_t mode)
{
        if (mode & (S_IROTH | S_IWOTH))
                return "its .lock can be opened by every user: anyone can take the flock and keep the writer from starting";
        return NULL;
}

static bool json_u64(json_object *o, const char *key, uint64_t *v)
{
        json_object *x;
        if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
                return false;
        int64_t i = json_object_get_int64(x);
        if (i < 0)
                return false;
        *v = (uint64_t)i;
        return true;
}

int evo_meta_parse(const char *text, size_t len, struct evo_meta *m)
{
        *m = (struct evo_meta){0};
        if (len > INT32_MAX)
                return -EINVAL;
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, text, (int)len);
        bool complete = json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        if (!o || !complete || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EINVAL;
        }
        json_object *x;
        uint64_t v;
        if (json_object_object_get_ex(o, "name", &x) && json_object_is_type(x, json_type_string))
                snprintf(m->name, sizeof(m->name), "%s", json_object_get_string(x));
        if (json_u64(o, "size", &v))
                m->size = v;
        if (json_u64(o, "writer_pid", &v) && v > 0 && v <= INT32_MAX) {
                m->writer_pid = (int)v;
                m->has_pid = true;
        }
        if (json_u64(o, "reader_count", &v) && v <= UINT32_MAX)
                m->reader_count = (uint32_t)v;
        if (json_object_object_get_ex(o, "created_at", &x) && json_object_is_type(x, json_type_object) &&
            json_u64(x, "secs_since_epoch", &v)) {
                m->created_secs = v;
                m->has_created = true;
        }
        json_object_put(o);
        return 0;
}

void evo_hexdump(const uint8_t *b, size_t n, struct strbuf *out)
{
        for (size_t off = 0; off < n; off += 16) {
                sb_printf(out, "%08zx ", off);
                for (size_t i = 0; i < 16; i++) {
                        if (i == 8)
                                sb_putc(out, ' ');
                        if (off + i < n)
                                sb_printf(out, " %02x", b[off + i]);
                        else
                                sb_puts(out, "   ");
                }
                sb_puts(out, "  |");
                for (size_t i = 0; i < 16 && off + i < n; i++)
                        sb_putc(out, isprint(b[off + i]) ? (char)b[off + i] : '.');
                sb_puts(out, "|\n");
        }
        sb_printf(out, "%08zx\n", n);
}

const char *evo_startup_version(const char *msg, char *ver, size_t size)
{
        static const struct {
                const char *line, *crate;
        } mods[] = {
                {"EVO System Supervisor v", "evo"},
                {"EVO Control Unit v", "evo_control_unit"},
                {"EVO HAL Core v", "evo_hal"},
        };
        for (size_t i = 0; msg && size > 1 && i < ARRAY_SIZE(mods); i++) {
                const char *at = strstr(msg, mods[i].line);
                if (!at)
                        continue;
                at += strlen(mods[i].line);
                size_t n = strspn(at, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-");
                if (n == 0 || n >= size || !isdigit((unsigned char)at[0]) || !startswith(at + n, " starting"))
                        return NULL;
                memcpy(ver, at, n);
                ver[n] = 0;
                return mods[i].crate;
        }
        return NULL;
}
