/* Unit tests of the evo collector: header decoding of the three layouts (byte arrays
 * built here, little endian as on x86-64), the seqlock read protocol against a
 * scripted writer, /proc/locks and /proc/PID/maps lines, names, credentials and
 * modes, .meta JSON, the hex dump, and sample() (watch) on a fixture root. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "collectors/collector.h"
#include "collectors/evo.h"
#include "lib/conffile.h"
#include "lib/procmaps.h"
#include "lib/rootfs.h"
#include "lib/sample.h"

extern const struct collector evo_collector;

static void put32(uint8_t *b, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

/* A P2P header as TypedP2pWriter leaves it after `hb` commits. */
static void p2p(uint8_t *b, uint64_t hb, uint8_t src, uint8_t dst, uint32_t payload)
{
        memset(b, 0, 64);
        memcpy(b, "EVO_P2P\0", 8);
        put32(b + 8, evo_version_hash(payload, 8));
        put64(b + 16, hb);
        b[24] = src;
        b[25] = dst;
        put32(b + 28, payload);
        put32(b + 32, (uint32_t)hb * 2);
}

static void legacy(uint8_t *b, uint64_t version, uint32_t pid, uint32_t readers, uint64_t size)
{
        memset(b, 0, 128);
        static const uint8_t magic[8] = {0x00, 0x4d, 0x48, 0x53, 0x5f, 0x4f, 0x56, 0x45};
        memcpy(b, magic, 8);
        put64(b + 8, version);
        put32(b + 16, pid);
        put32(b + 20, readers);
        put64(b + 24, size);
        put64(b + 32, UINT64_C(1700000000000000005));
        put64(b + 40, UINT64_C(1700000001000000000));
}

static void test_p2p(void **state)
{
        (void)state;
        uint8_t b[64];
        struct evo_header h;
        char why[192];
        p2p(b, 1234, 1, 0, 2048);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_int_equal(h.layout, EVO_LAYOUT_P2P);
        assert_int_equal(h.p2p.heartbeat, 1234);
        assert_int_equal(h.p2p.source, 1);
        assert_int_equal(h.p2p.dest, 0);
        assert_string_equal(evo_module_name(h.p2p.source), "hal");
        assert_string_equal(evo_module_name(h.p2p.dest), "cu");
        assert_null(evo_module_name(5));
        assert_int_equal(h.p2p.payload_size, 2048);
        assert_int_equal(h.p2p.write_seq, 2468);
        assert_true(h.p2p.padding_zero);
        assert_int_equal(evo_min_size(&h), 64 + 2048);
        assert_int_equal(evo_progress(&h), 1234);
        assert_false(evo_seq_odd(&h));
        assert_false(evo_header_problem(&h, why, sizeof(why)));
        assert_string_equal(evo_layout_name(h.layout), "p2p");

        /* Mid-commit: write_seq = 2*hb+1 is stored while the old heartbeat is still there. */
        put32(b + 32, 2469);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_seq_odd(&h));
        assert_false(evo_header_problem(&h, why, sizeof(why)));
        /* A write_seq that no commit produces. */
        put32(b + 32, 7);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_header_problem(&h, why, sizeof(why)));
        assert_non_null(strstr(why, "write_seq 7 does not belong to heartbeat 1234"));
        /* Never committed: heartbeat 0, write_seq 0 is sound. */
        p2p(b, 0, 0, 1, 64);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_false(evo_header_problem(&h, why, sizeof(why)));
        /* A non-zero pad is noticed. */
        b[40] = 1;
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_false(h.p2p.padding_zero);
        /* u32 wrap of write_seq: heartbeat 2^31 gives write_seq 0, as (hb as u32)*2 does. */
        p2p(b, UINT64_C(1) << 31, 0, 1, 64);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_int_equal(h.p2p.write_seq, 0);
        assert_false(evo_header_problem(&h, why, sizeof(why)));
}

static void test_legacy(void **state)
{
        (void)state;
        uint8_t b[128];
        struct evo_header h;
        char why[192];
        legacy(b, 24, 4242, 3, 4096);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_int_equal(h.layout, EVO_LAYOUT_LEGACY);
        assert_int_equal(h.legacy.version, 24);
        assert_int_equal(h.legacy.writer_pid, 4242);
        assert_int_equal(h.legacy.reader_count, 3);
        assert_int_equal(h.legacy.size, 4096);
        assert_int_equal(h.legacy.created_ts, UINT64_C(1700000000000000005));
        assert_int_equal(h.legacy.last_write_ts, UINT64_C(1700000001000000000));
        assert_int_equal(h.legacy.checksum, 0);
        assert_int_equal(evo_min_size(&h), 128 + 4096);
        assert_int_equal(evo_progress(&h), 12); /* version +2 per write */
        assert_false(evo_seq_odd(&h));
        assert_false(evo_header_problem(&h, why, sizeof(why)));
        size_t off;
        unsigned w;
        evo_seq_field(EVO_LAYOUT_LEGACY, &off, &w);
        assert_int_equal(off, 8);
        assert_int_equal(w, 8);
        evo_seq_field(EVO_LAYOUT_P2P, &off, &w);
        assert_int_equal(off, 32);
        assert_int_equal(w, 4);

        legacy(b, 25, 4242, 0, 4096);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_seq_odd(&h));
        /* validate_segment_size: a multiple of 4096, 4 KiB..1 GiB. */
        legacy(b, 2, 4242, 0, 100);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_header_problem(&h, why, sizeof(why)));
        assert_non_null(strstr(why, "legacy data size 100"));
        legacy(b, 2, 4242, 0, (UINT64_C(1) << 30) + 4096);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_header_problem(&h, why, sizeof(why)));
        legacy(b, 2, 0, 0, 4096);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_true(evo_header_problem(&h, why, sizeof(why)));
        assert_string_equal(why, "legacy writer_pid is 0");
        /* A huge size does not overflow the minimum. */
        legacy(b, 2, 1, 0, UINT64_MAX);
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_int_equal(evo_min_size(&h), UINT64_MAX);
}

static void test_intermediate(void **state)
{
        (void)state;
        uint8_t b[192];
        struct evo_header h;
        char why[192];
        legacy(b, 10, 77, 1, 4096);
        p2p(b + 128, 5, 0, 1, 64); /* cu -> hal */
        assert_int_equal(evo_decode(b, sizeof(b), &h), 0);
        assert_int_equal(h.layout, EVO_LAYOUT_INTERMEDIATE);
        assert_int_equal(h.legacy.version, 10);
        assert_int_equal(h.legacy.writer_pid, 77);
        assert_int_equal(h.p2p.heartbeat, 5);
        assert_int_equal(h.p2p.dest, 1);
        assert_int_equal(evo_progress(&h), 5); /* the P2P heartbeat, not the version */
        assert_int_equal(evo_min_size(&h), 128 + 4096);
        assert_false(evo_header_problem(&h, why, sizeof(why)));
        assert_string_equal(evo_layout_name(h.layout), "intermediate");
        /* With only 136 bytes the P2P magic is seen but its header is cut. */
        assert_int_equal(evo_decode(b, 136, &h), -ENODATA);
        assert_int_equal(h.layout, EVO_LAYOUT_INTERMEDIATE);
        /* With 128 bytes it is indistinguishable from legacy. */
        assert_int_equal(evo_decode(b, 128, &h), 0);
        assert_int_equal(h.layout, EVO_LAYOUT_LEGACY);
}

static void test_malformed(void **state)
{
        (void)state;
        uint8_t b[256];
        struct evo_header h;
        size_t need;
        assert_int_equal(evo_decode((const uint8_t *)"abc", 3, &h), -EBADMSG);
        assert_int_equal(evo_layout_of((const uint8_t *)"abc", 3, &need), EVO_LAYOUT_NONE);
        assert_int_equal(need, 8);
        assert_int_equal(evo_decode(b, 0, &h), -EBADMSG);
        memset(b, 0, sizeof(b));
        assert_int_equal(evo_decode(b, sizeof(b), &h), -EBADMSG);
        for (size_t i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t)(i * 37 + 11);
        assert_int_equal(evo_decode(b, sizeof(b), &h), -EBADMSG);
        /* "EVO_P2P" without the NUL, and the magic byte-swapped (a big-endian writer). */
        memcpy(b, "EVO_P2PX", 8);
        assert_int_equal(evo_decode(b, 64, &h), -EBADMSG);
        memcpy(b, "EVO_SHM\0", 8);
        assert_int_equal(evo_decode(b, 128, &h), -EBADMSG);
        /* Magic, header cut short. */
        p2p(b, 1, 0, 1, 64);
        assert_int_equal(evo_decode(b, 63, &h), -ENODATA);
        assert_int_equal(evo_layout_of(b, 63, &need), EVO_LAYOUT_P2P);
        assert_int_equal(need, 64);
        legacy(b, 2, 1, 0, 4096);
        assert_int_equal(evo_decode(b, 100, &h), -ENODATA);
        assert_int_equal(evo_decode(b, 8, &h), -ENODATA);
}

static void test_version_hash(void **state)
{
        (void)state;
        /* tests/helpers/README.md: 0x063863F8 for a 64-byte payload of align 8. */
        assert_int_equal(evo_version_hash(64, 8), 0x063863F8);
        assert_int_equal(evo_version_hash_align(0x063863F8, 64), 8);
        assert_int_equal(evo_version_hash_align(evo_version_hash(4096, 64), 4096), 64);
        assert_int_equal(evo_version_hash_align(0xdeadbeef, 64), 0);
}

/* ---- seqlock: a scripted writer behind pread ---- */

struct fake {
        uint8_t buf[192];
        size_t len;
        unsigned calls;
        /* before call number `at[i]`, store seq value val[i] (u32 at 32) */
        unsigned at[16];
        uint32_t val[16];
        size_t n;
        int fail_at; /* call that fails with EIO (0: never) */
};

static ssize_t fake_pread(void *arg, void *out, size_t n, uint64_t off)
{
        struct fake *f = arg;
        f->calls++;
        for (size_t i = 0; i < f->n; i++)
                if (f->at[i] == f->calls)
                        put32(f->buf + 32, f->val[i]);
        if (f->fail_at && (unsigned)f->fail_at == f->calls)
                return -EIO;
        if (off >= f->len)
                return 0;
        if (n > f->len - off)
                n = f->len - off;
        memcpy(out, f->buf + off, n);
        return (ssize_t)n;
}

static void test_seqlock(void **state)
{
        (void)state;
        struct fake f = {.len = 64};
        uint8_t out[64];
        unsigned tries;
        p2p(f.buf, 10, 0, 1, 64);
        /* A quiet segment: one attempt, three reads (seq, copy, seq). */
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_STABLE);
        assert_int_equal(tries, 1);
        assert_int_equal(f.calls, 3);
        assert_memory_equal(out, f.buf, 64);

        /* Odd on the first look, even afterwards: retried. */
        f = (struct fake){.len = 64, .n = 2, .at = {1, 2}, .val = {21, 22}};
        p2p(f.buf, 10, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_STABLE);
        assert_int_equal(tries, 2);

        /* Changed between before and after: retried, then stable. */
        f = (struct fake){.len = 64, .n = 1, .at = {3}, .val = {22}};
        p2p(f.buf, 10, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_STABLE);
        assert_int_equal(tries, 2);
        assert_int_equal(out[32], 22);

        /* Changed during the copy: the copy holds another value than "before". */
        f = (struct fake){.len = 64, .n = 2, .at = {2, 3}, .val = {24, 20}};
        p2p(f.buf, 10, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_STABLE);
        assert_int_equal(tries, 2);
        assert_int_equal(out[32], 20);

        /* Odd every time: bounded, ODD, and the last bytes handed back. */
        f = (struct fake){.len = 64};
        p2p(f.buf, 3, 0, 1, 64);
        put32(f.buf + 32, 7);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_ODD);
        assert_int_equal(tries, 10);
        assert_int_equal(f.calls, 11);
        assert_int_equal(out[32], 7);

        /* Changing on every attempt: CONTENDED after the bound. */
        f = (struct fake){.len = 64, .n = 8, .at = {3, 6, 9, 12, 15, 18, 21, 24}, .val = {2, 4, 6, 8, 10, 12, 14, 16}};
        p2p(f.buf, 0, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 4, 0, &tries), EVO_READ_CONTENDED);
        assert_int_equal(tries, 4);

        /* The file ends inside the header; an I/O error; nonsense arguments. */
        f = (struct fake){.len = 40};
        p2p(f.buf, 1, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_SHORT);
        f = (struct fake){.len = 20};
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_SHORT);
        f = (struct fake){.len = 64, .fail_at = 2};
        p2p(f.buf, 1, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 10, 0, &tries), EVO_READ_ERROR);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 3, out, 64, 10, 0, &tries), EVO_READ_ERROR);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 62, 4, out, 64, 10, 0, &tries), EVO_READ_ERROR);
        /* attempts 0 still reads once. */
        f = (struct fake){.len = 64};
        p2p(f.buf, 1, 0, 1, 64);
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 32, 4, out, 64, 0, 0, &tries), EVO_READ_STABLE);
        assert_string_equal(evo_read_name(EVO_READ_ODD), "odd");
}

/* Legacy: the u64 version at 8 is the seqlock. */
static void test_seqlock_legacy(void **state)
{
        (void)state;
        struct fake f = {.len = 192};
        uint8_t out[128];
        unsigned tries;
        legacy(f.buf, 41, 1, 0, 4096); /* odd: a write in progress */
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 8, 8, out, 128, 3, 0, &tries), EVO_READ_ODD);
        put64(f.buf + 8, 42);
        f.calls = 0;
        assert_int_equal(evo_seqlock_read(fake_pread, &f, 8, 8, out, 128, 3, 0, &tries), EVO_READ_STABLE);
        assert_int_equal(tries, 1);
}

static void test_maps(void **state)
{
        (void)state;
        struct procmaps_entry m; /* lib/procmaps parses the line, evo decides what it maps */
        const char *name;
        size_t len;
        assert_int_equal(procmaps_parse("7f3a00000000-7f3a00001000 r--s 00000000 00:1b 97                         /dev/shm/evo_hal_cu", &m), 0);
        assert_string_equal(m.perms, "r--s");
        assert_int_equal(m.offset, 0);
        assert_int_equal(m.inode, 97);
        assert_int_equal(m.maj, 0);
        assert_int_equal(m.min, 0x1b);
        assert_false(m.deleted);
        assert_true(evo_map_names_evo(&m, "/dev/shm", &name, &len));
        assert_int_equal(len, strlen("evo_hal_cu"));
        assert_memory_equal(name, "evo_hal_cu", len);
        assert_int_equal(procmaps_parse("7f3a00001000-7f3a00002000 rw-s 00001000 00:1b 98 /dev/shm/evo_t1_leg_42 (deleted)\n", &m), 0);
        assert_true(m.deleted);
        assert_int_equal(m.offset, 0x1000);
        assert_true(evo_map_names_evo(&m, "/dev/shm", &name, &len));
        assert_memory_equal(name, "evo_t1_leg_42", len);
        /* A path with blanks is kept whole; trailing blanks are not part of it. */
        assert_int_equal(procmaps_parse("1000-2000 r--s 00000000 00:1b 5 /dev/shm/evo_a b  ", &m), 0);
        assert_int_equal(m.path_len, strlen("/dev/shm/evo_a b"));
        /* Anonymous, other files, other directories: not EVO segments. */
        assert_int_equal(procmaps_parse("1000-2000 rw-p 00000000 00:00 0 ", &m), 0);
        assert_false(evo_map_names_evo(&m, "/dev/shm", &name, &len));
        const char *other[] = {
                "1000-2000 r--s 00000000 00:1b 5 /dev/shm/lavinmq_x", "1000-2000 r--s 00000000 00:1b 5 /dev/shm/sub/evo_x",
                "1000-2000 r--s 00000000 00:1b 5 /dev/shmevo_x", "1000-2000 r--s 00000000 00:1b 5 /run/shm/evo_x",
                "1000-2000 r--s 00000000 00:1b 5 /dev/shm/evo_", "1000-2000 r-xp 00000000 08:01 5 /usr/lib/evo_x.so",
        };
        for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++) {
                assert_int_equal(procmaps_parse(other[i], &m), 0);
                assert_false(evo_map_names_evo(&m, "/dev/shm", &name, &len));
        }
        const char *bad[] = {
                "", "garbage", "1000-2000 r--s 00000000 00:1b", "1000 r--s 00000000 00:1b 5 /dev/shm/evo_x",
                "1000-zz r--s 00000000 00:1b 5 /dev/shm/evo_x", "1000-2000 r--s0 00000000 00:1b 5 /dev/shm/evo_x",
                "1000-2000 r--s 0000000g 00:1b 5 /dev/shm/evo_x", "1000-2000 r--s 00000000 001b 5 /dev/shm/evo_x",
                "1000-2000 r--s 00000000 00:1b 5x /dev/shm/evo_x", "1000-2000 r--s 00000000 00:1b -5 /dev/shm/evo_x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_int_equal(procmaps_parse(bad[i], &m), -EINVAL);
}

static void test_names(void **state)
{
        (void)state;
        char *base;
        int pid;
        char s[8], d[8];
        assert_int_equal(evo_name_kind("evo_hal_cu"), EVO_NAME_DATA);
        assert_int_equal(evo_name_kind("evo_hal_cu.lock"), EVO_NAME_LOCK);
        assert_int_equal(evo_name_kind("evo_x.meta"), EVO_NAME_META);
        assert_int_equal(evo_name_kind("lavinmq"), EVO_NAME_OTHER);
        assert_int_equal(evo_name_kind("evo"), EVO_NAME_OTHER);

        assert_true(evo_name_legacy("evo_hal_sensors_4242", &base, &pid));
        assert_string_equal(base, "hal_sensors");
        assert_int_equal(pid, 4242);
        free(base);
        assert_true(evo_name_legacy("evo_evo_hal_sensors_7", &base, &pid));
        assert_string_equal(base, "evo_hal_sensors");
        free(base);
        const char *no[] = {"evo_hal_cu", "evo_x_0", "evo__12", "evo_x_12a", "evo_x_99999999999", "evo_12", "x_a_1", "evo_x_"};
        for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
                assert_false(evo_name_legacy(no[i], &base, &pid));
                assert_null(base);
        }

        assert_true(evo_name_known("hal_cu", EVO_LAYOUT_P2P));
        assert_true(evo_name_known("rpc_re", EVO_LAYOUT_P2P));
        assert_false(evo_name_known("evo_hal_sensors", EVO_LAYOUT_P2P));
        assert_true(evo_name_known("evo_hal_sensors", EVO_LAYOUT_LEGACY));
        assert_true(evo_name_known("evo_system_health", EVO_LAYOUT_LEGACY));
        assert_true(evo_name_known("cu_hal", EVO_LAYOUT_INTERMEDIATE));
        assert_false(evo_name_known("Hal_cu", EVO_LAYOUT_P2P));
        assert_false(evo_name_known("sensor_data", EVO_LAYOUT_LEGACY));

        assert_true(evo_name_modules("hal_cu", s, d));
        assert_string_equal(s, "hal");
        assert_string_equal(d, "cu");
        assert_true(evo_name_modules("rpc_mqt", s, d)); /* not one of the 15, but both modules */
        assert_false(evo_name_modules("hal_sensors", s, d));
        assert_false(evo_name_modules("hal_cu_x", s, d));
        assert_false(evo_name_modules("_cu", s, d));
        assert_false(evo_name_modules("halhalhal_cu", s, d));
}

static void test_creds(void **state)
{
        (void)state;
        struct evo_creds c;
        const char *st = "Name:\tcu\nUid:\t1001\t1001\t1001\t1002\nGid:\t2001\t2001\t2001\t2002\nGroups:\t27 999 \nVmRSS:\t1 kB\n";
        assert_int_equal(evo_status_creds(st, &c), 0);
        assert_int_equal(c.uid, 1002); /* the fs uid: what open() checks */
        assert_int_equal(c.gid, 2002);
        assert_int_equal(c.ngroups, 2);
        assert_int_equal(c.groups[1], 999);
        assert_int_equal(evo_status_creds("Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t\n", &c), 0);
        assert_int_equal(c.ngroups, 0);
        assert_int_equal(evo_status_creds("Name:\tx\n", &c), -EINVAL);
        assert_int_equal(evo_status_creds("Uid:\t1 2\nGid:\t1\t1\t1\t1\n", &c), -EINVAL);
        assert_int_equal(evo_status_creds("Uid:\t1\t1\t1\t1\n", &c), -EINVAL);
        assert_int_equal(evo_status_creds("", &c), -EINVAL);

        c = (struct evo_creds){.uid = 1000, .gid = 1000, .groups = {999}, .ngroups = 1};
        assert_true(evo_can_open(&c, 1000, 5, 0600, true));   /* owner */
        assert_false(evo_can_open(&c, 0, 0, 0600, false));    /* root's 0600 */
        assert_true(evo_can_open(&c, 0, 999, 0640, false));   /* via a supplementary group */
        assert_false(evo_can_open(&c, 0, 999, 0640, true));   /* ...but not read-write */
        assert_true(evo_can_open(&c, 0, 999, 0660, true));
        assert_true(evo_can_open(&c, 0, 0, 0604, false));     /* others */
        assert_false(evo_can_open(&c, 1000, 0, 0066, false)); /* the owner class decides, even when others may */
        c.uid = 0;
        assert_true(evo_can_open(&c, 5, 5, 0000, true));      /* root */
}

static void test_modes(void **state)
{
        (void)state;
        assert_null(evo_mode_problem(S_IFREG | 0600, EVO_LAYOUT_P2P));
        assert_null(evo_mode_problem(S_IFREG | 0644, EVO_LAYOUT_P2P));
        assert_null(evo_mode_problem(S_IFREG | 0640, EVO_LAYOUT_P2P));
        assert_non_null(strstr(evo_mode_problem(S_IFREG | 0664, EVO_LAYOUT_P2P), "g+w"));
        assert_non_null(strstr(evo_mode_problem(S_IFREG | 0602, EVO_LAYOUT_P2P), "o+w"));
        assert_null(evo_mode_problem(S_IFREG | 0660, EVO_LAYOUT_LEGACY)); /* legacy readers need write */
        assert_null(evo_mode_problem(S_IFREG | 0664, EVO_LAYOUT_INTERMEDIATE));
        assert_non_null(strstr(evo_mode_problem(S_IFREG | 0666, EVO_LAYOUT_LEGACY), "o+w"));
        assert_null(evo_lock_mode_problem(S_IFREG | 0600));
        assert_null(evo_lock_mode_problem(S_IFREG | 0660));
        assert_non_null(evo_lock_mode_problem(S_IFREG | 0664)); /* chmod 664 evo_* also opens the lock */
        assert_non_null(evo_lock_mode_problem(S_IFREG | 0602));
}

static void test_meta(void **state)
{
        (void)state;
        struct evo_meta m;
        const char *j = "{\n  \"name\": \"hal_sensors\",\n  \"size\": 4096,\n  \"writer_pid\": 123,\n"
                        "  \"created_at\": {\n    \"secs_since_epoch\": 1700000000,\n    \"nanos_since_epoch\": 5\n  },\n"
                        "  \"last_accessed\": {\"secs_since_epoch\": 1700000001, \"nanos_since_epoch\": 0},\n  \"reader_count\": 2\n}";
        assert_int_equal(evo_meta_parse(j, strlen(j), &m), 0);
        assert_string_equal(m.name, "hal_sensors");
        assert_int_equal(m.size, 4096);
        assert_true(m.has_pid);
        assert_int_equal(m.writer_pid, 123);
        assert_int_equal(m.reader_count, 2);
        assert_true(m.has_created);
        assert_int_equal(m.created_secs, 1700000000);
        /* Wrong types are left out, not trusted. */
        const char *typed = "{\"writer_pid\": \"123\", \"size\": -1, \"name\": 5}";
        assert_int_equal(evo_meta_parse(typed, strlen(typed), &m), 0);
        assert_false(m.has_pid);
        assert_int_equal(m.size, 0);
        assert_string_equal(m.name, "");
        assert_int_equal(evo_meta_parse("", 0, &m), -EINVAL);
        assert_int_equal(evo_meta_parse("{\"name\": ", 10, &m), -EINVAL);
        assert_int_equal(evo_meta_parse("[1,2]", 5, &m), -EINVAL);
        assert_int_equal(evo_meta_parse("\x00\x4d\x48", 3, &m), -EINVAL);
}

static void test_hexdump(void **state)
{
        (void)state;
        struct strbuf b = {0};
        evo_hexdump((const uint8_t *)"EVO_P2P\0\x01\x02\x03\x04\x05\x06\x07\x08xy", 18, &b);
        assert_string_equal(b.s, "00000000  45 56 4f 5f 50 32 50 00  01 02 03 04 05 06 07 08  |EVO_P2P.........|\n"
                                 "00000010  78 79                                             |xy|\n"
                                 "00000012\n");
        sb_free(&b);
        evo_hexdump(NULL, 0, &b);
        assert_string_equal(b.s, "00000000\n");
        sb_free(&b);
}

/* ---- sample(): what watch gets each interval, on a fixture root ---- */

static char root[] = "/tmp/evodiag-unit-evo.XXXXXX";

static void write_file(const char *rel, const void *data, size_t n)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        close(fd);
}

static void set_locks(bool held)
{
        char path[256], text[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/dev/shm/evo_hal_cu.lock", root);
        assert_int_equal(stat(path, &st), 0);
        if (held) /* the holder, and a waiter that does not count */
                snprintf(text, sizeof(text), "1: FLOCK  ADVISORY  WRITE 4242 00:1b:%lu 0 EOF\n"
                                             "2: -> FLOCK  ADVISORY  WRITE 4343 00:1b:%lu 0 EOF\n",
                         (unsigned long)st.st_ino, (unsigned long)st.st_ino);
        else /* a POSIX lock and another inode's flock are not the writer's */
                snprintf(text, sizeof(text), "1: POSIX  ADVISORY  WRITE 9 00:1b:%lu 0 EOF\n"
                                             "2: FLOCK  ADVISORY  WRITE 9 00:1b:%lu 0 EOF\n",
                         (unsigned long)st.st_ino, (unsigned long)st.st_ino + 1000);
        write_file("proc/locks", text, strlen(text));
}

static const char *subject = "evo_hal_cu";

/* The severity of status id about `subject` in a sample, or "" */
static const char *status_of(struct sample *s, const char *id)
{
        for (size_t i = 0; i < json_object_array_length(s->statuses); i++) {
                json_object *o = json_object_array_get_idx(s->statuses, i), *x;
                if (json_object_object_get_ex(o, "id", &x) && !strcmp(json_object_get_string(x), id) &&
                    json_object_object_get_ex(o, "subject", &x) && !strcmp(json_object_get_string(x), subject) &&
                    json_object_object_get_ex(o, "severity", &x))
                        return json_object_get_string(x);
        }
        return "";
}

static bool has_value(struct sample *s, const char *key)
{
        for (size_t i = 0; i < json_object_array_length(s->values); i++) {
                json_object *o = json_object_array_get_idx(s->values, i), *x;
                if (json_object_object_get_ex(o, "key", &x) && !strcmp(json_object_get_string(x), key))
                        return true;
        }
        return false;
}

static void one_sample(struct ctx *c, struct sample *s)
{
        sample_free(s);
        sample_init(s);
        evo_collector.sample(c, s);
        c->sample_no++;
}

static void test_sample(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(root));
        char d[300];
        snprintf(d, sizeof(d), "%s/dev", root);
        mkdir(d, 0700);
        snprintf(d, sizeof(d), "%s/dev/shm", root);
        mkdir(d, 0700);
        snprintf(d, sizeof(d), "%s/proc", root);
        mkdir(d, 0700);
        uint8_t seg[4096] = {0};
        p2p(seg, 5, 1, 0, 64);
        write_file("dev/shm/evo_hal_cu", seg, sizeof(seg));
        write_file("dev/shm/evo_hal_cu.lock", "", 0);
        write_file("dev/shm/evo_not_evo", "hello", 5);
        set_locks(true);
        rootfs_set(root);

        struct ctx c = {.self = &evo_collector, .is_root = true, .interval_ms = 1000};
        struct sample s;
        sample_init(&s);
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "ok");
        assert_string_equal(status_of(&s, "evo.never_committed"), "ok");
        assert_string_equal(status_of(&s, "evo.stalled"), ""); /* one sample: no rate yet */
        assert_true(has_value(&s, "evo.heartbeat"));
        assert_false(has_value(&s, "evo.heartbeat_hz"));
        assert_non_null(c.state); /* the open fd and the previous heartbeat live there */

        p2p(seg, 10, 1, 0, 64);
        write_file("dev/shm/evo_hal_cu", seg, sizeof(seg)); /* same inode: O_TRUNC rewrite */
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.stalled"), "ok");
        assert_string_equal(status_of(&s, "evo.write_seq"), "ok");
        assert_true(has_value(&s, "evo.heartbeat_hz"));

        one_sample(&c, &s); /* unchanged, writer alive: stalled within one interval */
        assert_string_equal(status_of(&s, "evo.stalled"), "crit");

        put32(seg + 32, 21); /* odd: a commit in progress */
        write_file("dev/shm/evo_hal_cu", seg, sizeof(seg));
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.write_seq"), "ok"); /* odd once is a write in progress */
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.write_seq"), "crit");

        set_locks(false); /* the writer dies: the kernel drops its flock */
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "crit");
        assert_string_equal(status_of(&s, "evo.stalled"), ""); /* orphaned says it */

        snprintf(d, sizeof(d), "%s/dev/shm/evo_hal_cu", root);
        unlink(d);
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "info"); /* removed */
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "");

        sample_free(&s);
        evo_watch_state_free(c.state);
        rootfs_set(NULL);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

/* sample() on a real segment: tests/helpers/evo_writer ticks, stops ticking (alive),
 * then dies — watch must show stalled, then orphaned, each within one interval. */
static void msleep(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Starts the writer with args; returns once it printed "ready". */
static pid_t spawn_writer(const char *writer, char *const argv[])
{
        int out[2];
        assert_int_equal(pipe(out), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(out[1], 1);
                close(out[0]);
                execv(writer, argv);
                _exit(127);
        }
        close(out[1]);
        char line[256];
        assert_true(read(out[0], line, sizeof(line)) > 0); /* "ready <path> pid <pid>" */
        close(out[0]);
        return pid;
}

/* The live test shares /dev/shm with whatever else runs on the host (tests/cli/lost.sh
 * leaves 10,000 evo_t* files there for a while): watch all of them, or the listing is
 * cut at the default scan_max and a removed segment is never noticed. */
static struct config_entry scan_all = {.section = (char *)"evo", .key = (char *)"scan_max", .value = (char *)"10000000", .line = 1};
static const struct config live_cfg = {.v = &scan_all, .n = 1};

static void test_sample_live(void **state)
{
        (void)state;
        const char *top = getenv("TOP_BUILDDIR");
        char writer[512], name[64], fname[80], path[128];
        snprintf(writer, sizeof(writer), "%s/tests/helpers/evo_writer", top ? top : ".");
        if (!top || access(writer, X_OK) < 0 || access("/dev/shm", W_OK) < 0) {
                skip(); /* needs the helper (make check builds it) and a writable /dev/shm */
                return;
        }
        snprintf(name, sizeof(name), "u%d_watch", (int)getpid());
        snprintf(fname, sizeof(fname), "evo_%s", name);
        snprintf(path, sizeof(path), "/dev/shm/%s", fname);
        rootfs_set(NULL);
        struct ctx c = {.self = &evo_collector, .cfg = &live_cfg, .is_root = geteuid() == 0, .interval_ms = 50};
        struct sample s;
        sample_init(&s);
        subject = fname;

        /* Ticking at 200 Hz until SIGTERM, then a clean exit (it unlinks its segment).
         * On a loaded host the writer may not get the CPU within one interval (then
         * stalled is right): it must read as advancing within a few seconds. */
        char *tick[] = {writer, "--name", name, "--rate", "200", NULL};
        pid_t pid = spawn_writer(writer, tick);
        one_sample(&c, &s);
        for (int i = 0; i < 50; i++) {
                msleep(100);
                one_sample(&c, &s);
                if (!strcmp(status_of(&s, "evo.stalled"), "ok"))
                        break;
        }
        assert_string_equal(status_of(&s, "evo.stalled"), "ok");
        assert_string_equal(status_of(&s, "evo.orphaned"), "ok");
        assert_true(has_value(&s, "evo.heartbeat_hz"));
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "info"); /* removed */

        /* A new writer stops ticking mid-run (alive, lock held), then dies. */
        char *stall[] = {writer, "--name", name, "--mode", "stall", "--ticks", "5", "--rate", "200", NULL};
        pid = spawn_writer(writer, stall);
        one_sample(&c, &s);
        msleep(50);
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.stalled"), "crit");
        assert_string_equal(status_of(&s, "evo.orphaned"), "ok");
        kill(pid, SIGKILL); /* a crash: no cleanup, the kernel drops the flock */
        waitpid(pid, NULL, 0);
        one_sample(&c, &s);
        assert_string_equal(status_of(&s, "evo.orphaned"), "crit");
        assert_string_equal(status_of(&s, "evo.stalled"), "");
        unlink(path);
        strcat(path, ".lock");
        unlink(path);
        sample_free(&s);
        evo_watch_state_free(c.state);
        subject = "evo_hal_cu";
}


/* ---- the verdicts check() and watch's sample() share (evo_verdict.c) ---- */

static void test_verdicts(void **state)
{
        (void)state;
        /* Writer liveness: P2P by its .lock's flock, legacy by its pid. */
        struct evo_writer_facts f = {.layout = EVO_LAYOUT_P2P, .lock_exists = true, .locks_read = true, .lock_held = true};
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_ALIVE);
        f.lock_held = false;
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_DEAD);
        f.locks_read = false; /* /proc/locks unreadable: not known */
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_UNKNOWN);
        f.lock_exists = false; /* no .lock at all: the writer is gone whatever /proc/locks says */
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_DEAD);
        f = (struct evo_writer_facts){.layout = EVO_LAYOUT_LEGACY, .pid = 42, .pids_known = true, .pid_alive = true};
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_ALIVE);
        f.pid_alive = false;
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_DEAD);
        f.pids_known = false; /* a --root tree without /proc/PID: not known, not gone */
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_UNKNOWN);
        f = (struct evo_writer_facts){.layout = EVO_LAYOUT_INTERMEDIATE, .pid = 0, .pids_known = true};
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_UNKNOWN);
        f = (struct evo_writer_facts){.layout = EVO_LAYOUT_NONE};
        assert_int_equal(evo_writer_verdict(&f), EVO_WRITER_UNKNOWN);
        assert_int_equal(evo_orphaned_sev(EVO_WRITER_DEAD), SEV_CRIT);
        assert_int_equal(evo_orphaned_sev(EVO_WRITER_ALIVE), SEV_OK);
        assert_int_equal(evo_orphaned_sev(EVO_WRITER_UNKNOWN), SEV_UNKNOWN);
        assert_string_equal(evo_writer_name(EVO_WRITER_DEAD), "gone");
        assert_int_equal(evo_unopened_sev(-EACCES, false), SEV_SKIPPED);
        assert_int_equal(evo_unopened_sev(-EACCES, true), SEV_UNKNOWN);
        assert_int_equal(evo_unopened_sev(-EIO, false), SEV_UNKNOWN);

        /* How the writer is looked up, and its pid. */
        uint8_t b[EVO_HDR_MAX] = {0};
        struct evo_header h;
        legacy(b, 4, 4242, 0, 4096);
        assert_int_equal(evo_decode(b, 128, &h), 0);
        assert_int_equal(evo_writer_layout(0, &h, true, 0), EVO_LAYOUT_LEGACY); /* the header wins */
        assert_int_equal(evo_writer_layout(-EBADMSG, &h, true, 7), EVO_LAYOUT_P2P);
        assert_int_equal(evo_writer_layout(-EBADMSG, &h, false, 7), EVO_LAYOUT_LEGACY);
        assert_int_equal(evo_writer_layout(-EBADMSG, &h, false, 0), EVO_LAYOUT_NONE);
        assert_int_equal(evo_legacy_writer_pid(&h, 7), 4242);
        assert_int_equal(evo_legacy_writer_pid(NULL, 7), 7);
        put32(b + 16, 0); /* writer_pid 0: the pid in the file name */
        assert_int_equal(evo_decode(b, 128, &h), 0);
        assert_int_equal(evo_legacy_writer_pid(&h, 7), 7);
        put32(b + 16, UINT32_MAX); /* not a pid */
        assert_int_equal(evo_decode(b, 128, &h), 0);
        assert_int_equal(evo_legacy_writer_pid(&h, 0), 0);
}

static void test_header_class(void **state)
{
        (void)state;
        uint8_t b[EVO_HDR_MAX] = {0};
        struct evo_header h;
        int dec;
        struct strbuf why = {0};
        char tb[128];
        p2p(b, 5, 1, 0, 64);
        assert_int_equal(evo_header_class(b, 64, EVO_READ_STABLE, 4096, NULL, &h, &dec, NULL), EVO_HDR_SOUND);
        assert_int_equal(dec, 0);
        assert_int_equal(h.p2p.heartbeat, 5);
        /* Header + payload beyond the file: readers that map it get SIGBUS. */
        assert_int_equal(evo_header_class(b, 64, EVO_READ_STABLE, 100, NULL, &h, &dec, &why), EVO_HDR_CORRUPT);
        assert_non_null(strstr(why.s, "100 bytes, but its header declares 128"));
        sb_free(&why);
        /* A write_seq no commit leaves: corrupt on a stable read; mid-commit on an unstable one. */
        put32(b + 32, 3);
        assert_int_equal(evo_header_class(b, 64, EVO_READ_STABLE, 4096, NULL, &h, &dec, &why), EVO_HDR_CORRUPT);
        assert_non_null(strstr(why.s, "write_seq 3 does not belong to heartbeat 5"));
        sb_free(&why);
        assert_int_equal(evo_header_class(b, 64, EVO_READ_CONTENDED, 4096, NULL, &h, &dec, NULL), EVO_HDR_SOUND);
        /* The magic, cut short. */
        assert_int_equal(evo_header_class(b, 20, EVO_READ_SHORT, 20, NULL, &h, &dec, &why), EVO_HDR_CORRUPT);
        assert_int_equal(dec, -ENODATA);
        assert_non_null(strstr(why.s, "shorter than the 64-byte p2p header"));
        sb_free(&why);
        /* Legacy fields do not move: a bad size is corrupt however the read went. */
        legacy(b, 4, 4242, 0, 1000);
        assert_int_equal(evo_header_class(b, 128, EVO_READ_CONTENDED, 8192, NULL, &h, &dec, NULL), EVO_HDR_CORRUPT);
        legacy(b, 4, 4242, 0, 4096);
        assert_int_equal(evo_header_class(b, 128, EVO_READ_STABLE, 128 + 4096, NULL, &h, &dec, NULL), EVO_HDR_SOUND);
        /* No magic: not EVO, unless something ties it to EVO. */
        memcpy(b, "hello, world", 12);
        assert_null(evo_tie("evo_t1", false, false, 0, b, 12, tb, sizeof(tb)));
        assert_int_equal(evo_header_class(b, 12, EVO_READ_SHORT, 12, NULL, &h, &dec, NULL), EVO_HDR_NOT_EVO);
        assert_int_equal(dec, -EBADMSG);
        const char *tie = evo_tie("evo_t1", true, false, 0, b, 12, tb, sizeof(tb));
        assert_string_equal(tie, "evo_t1.lock exists");
        assert_int_equal(evo_header_class(b, 12, EVO_READ_SHORT, 12, tie, &h, &dec, &why), EVO_HDR_CORRUPT);
        assert_string_equal(why.s, "no EVO magic (first bytes 68 65 6c 6c 6f 2c 20 77), but evo_t1.lock exists");
        sb_free(&why);
        assert_string_equal(evo_tie("evo_t1_4242", false, true, 0, b, 12, tb, sizeof(tb)), "evo_t1.meta exists");
        assert_null(evo_tie("evo_t1", false, true, 0, b, 12, tb, sizeof(tb))); /* a .meta ties only legacy names */
        assert_string_equal(evo_tie("evo_hal_cu", false, false, 0, b, 12, tb, sizeof(tb)), "its name is an evo-core segment's");
        assert_string_equal(evo_tie("evo_evo_hal_sensors_7", false, false, 0, b, 12, tb, sizeof(tb)),
                            "its name is an evo-core segment's");
        assert_string_equal(evo_tie("evo_t1", false, false, 2, b, 12, tb, sizeof(tb)), "2 processes map it");
        assert_string_equal(evo_tie("evo_t1", false, false, 0, (const uint8_t *)"EVO_xx", 6, tb, sizeof(tb)),
                            "it starts like an EVO magic");
}

static void test_progress_verdicts(void **state)
{
        (void)state;
        uint8_t b[EVO_HDR_MAX] = {0};
        struct evo_header a, z;
        enum severity sev = _SEV_MAX;
        /* never committed: heartbeat 0 (P2P), version 0 (legacy) */
        p2p(b, 0, 1, 0, 64);
        assert_int_equal(evo_decode(b, 64, &a), 0);
        assert_true(evo_never_committed_sev(EVO_HDR_SOUND, &a, &sev));
        assert_int_equal(sev, SEV_WARN);
        assert_false(evo_never_committed_sev(EVO_HDR_CORRUPT, &a, &sev)); /* evo.corrupt says it */
        legacy(b, 1, 4242, 0, 4096); /* the first write in progress: version 1, progress 0 */
        assert_int_equal(evo_decode(b, 128, &a), 0);
        assert_true(evo_never_committed_sev(EVO_HDR_SOUND, &a, &sev));
        assert_int_equal(sev, SEV_OK);
        legacy(b, 0, 4242, 0, 4096);
        assert_int_equal(evo_decode(b, 128, &a), 0);
        assert_true(evo_never_committed_sev(EVO_HDR_SOUND, &a, &sev));
        assert_int_equal(sev, SEV_WARN);

        /* stalled: the heartbeat between two samples, with a live writer */
        p2p(b, 10, 1, 0, 64);
        assert_int_equal(evo_decode(b, 64, &a), 0);
        p2p(b, 30, 1, 0, 64);
        assert_int_equal(evo_decode(b, 64, &z), 0);
        assert_true(evo_stalled_sev(EVO_HDR_SOUND, &a, &z, EVO_WRITER_ALIVE, &sev));
        assert_int_equal(sev, SEV_OK);
        assert_true(evo_rate_hz(&a, &z, 200000000u) > 99.9 && evo_rate_hz(&a, &z, 200000000u) < 100.1);
        assert_true(evo_stalled_sev(EVO_HDR_SOUND, &z, &z, EVO_WRITER_ALIVE, &sev));
        assert_int_equal(sev, SEV_CRIT);
        assert_true(evo_rate_hz(&z, &z, 200000000u) == 0);
        assert_true(evo_rate_hz(&z, &a, 200000000u) == 0); /* backwards is no rate */
        assert_true(evo_rate_hz(&a, &z, 0) == 0);
        sev = _SEV_MAX;
        assert_false(evo_stalled_sev(EVO_HDR_SOUND, &z, &z, EVO_WRITER_DEAD, &sev)); /* evo.orphaned says it */
        assert_false(evo_stalled_sev(EVO_HDR_SOUND, &z, &z, EVO_WRITER_UNKNOWN, &sev));
        assert_false(evo_stalled_sev(EVO_HDR_CORRUPT, &z, &z, EVO_WRITER_ALIVE, &sev));
        assert_int_equal(sev, _SEV_MAX);
        p2p(b, 0, 1, 0, 64);
        assert_int_equal(evo_decode(b, 64, &a), 0);
        assert_false(evo_stalled_sev(EVO_HDR_SOUND, &a, &a, EVO_WRITER_ALIVE, &sev)); /* never committed */
        assert_false(evo_stalled_sev(EVO_HDR_SOUND, &z, &a, EVO_WRITER_ALIVE, &sev)); /* nothing committed now */
        legacy(b, 8, 4242, 0, 4096); /* legacy: written on change, an unchanged version is info */
        assert_int_equal(evo_decode(b, 128, &a), 0);
        assert_false(evo_stalled_sev(EVO_HDR_SOUND, &z, &a, EVO_WRITER_ALIVE, &sev)); /* another layout */
        assert_true(evo_stalled_sev(EVO_HDR_SOUND, &a, &a, EVO_WRITER_ALIVE, &sev));
        assert_int_equal(sev, SEV_INFO);

        /* write_seq: odd in both samples is a write left half-done */
        p2p(b, 10, 1, 0, 64);
        put32(b + 32, 21);
        assert_int_equal(evo_decode(b, 64, &a), 0);
        assert_true(evo_write_seq_sev(&a, &a, &sev));
        assert_int_equal(sev, SEV_CRIT);
        assert_true(evo_write_seq_sev(&a, &z, &sev));
        assert_int_equal(sev, SEV_OK);
        legacy(b, 9, 4242, 0, 4096);
        assert_int_equal(evo_decode(b, 128, &z), 0);
        assert_false(evo_write_seq_sev(&a, &z, &sev)); /* another layout: not the same segment */
        assert_true(evo_write_seq_sev(&z, &z, &sev));
        assert_int_equal(sev, SEV_CRIT);
}

/* check() and watch's sample() on the same fixture: the same verdict per segment for
 * every check both make. On the code before evo_verdict.c watch saw no corruption in a
 * header check() called corrupt, was silent about a tied file without magic, and called
 * a legacy segment at version 1 never written. */
static const char *finding_sev(const struct findings *fs, const char *id, const char *subj)
{
        for (size_t i = 0; i < fs->n; i++)
                if (!strcmp(fs->v[i].id, id) && fs->v[i].subject && !strcmp(fs->v[i].subject, subj))
                        return severity_name(fs->v[i].sev);
        return "ok"; /* check() adds one ok finding for all segments that pass */
}

static int open_fds(void)
{
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void test_check_watch_agree(void **state)
{
        (void)state;
        strcpy(root, "/tmp/evodiag-unit-evo.XXXXXX"); /* test_sample used the template */
        assert_non_null(mkdtemp(root));
        char d[300];
        const char *dirs[] = {"dev", "dev/shm", "proc"};
        for (size_t i = 0; i < 3; i++) {
                snprintf(d, sizeof(d), "%s/%s", root, dirs[i]);
                assert_int_equal(mkdir(d, 0700), 0);
        }
        /* A writer pid that is neither this process nor its parent (the table leaves those out). */
        int wpid = 4242;
        while (wpid == (int)getpid() || wpid == (int)getppid())
                wpid++;
        snprintf(d, sizeof(d), "%s/proc/%d", root, wpid);
        assert_int_equal(mkdir(d, 0700), 0);
        char text[512], legacy_name[64];
        snprintf(text, sizeof(text), "%d (evo_hal) S 1 %d %d 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 1000 10000000 100 "
                                     "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", wpid, wpid, wpid);
        snprintf(d, sizeof(d), "proc/%d/stat", wpid);
        write_file(d, text, strlen(text));
        snprintf(d, sizeof(d), "proc/%d/status", wpid);
        const char *status = "Name:\tevo_hal\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        write_file(d, status, strlen(status));

        uint8_t seg[4224] = {0};
        p2p(seg, 5, 1, 0, 64); /* hal->cu, sound, its writer holds the lock */
        write_file("dev/shm/evo_hal_cu", seg, 4096);
        write_file("dev/shm/evo_hal_cu.lock", "", 0);
        p2p(seg, 5, 0, 1, 64);
        put32(seg + 32, 4); /* cu->hal: a write_seq no commit leaves (even: the read is stable) */
        write_file("dev/shm/evo_cu_hal", seg, 4096);
        write_file("dev/shm/evo_cu_hal.lock", "", 0);
        memset(seg, 'x', 4096); /* mqt: no magic, but its .lock exists (nobody holds it) */
        write_file("dev/shm/evo_hal_mqt", seg, 4096);
        write_file("dev/shm/evo_hal_mqt.lock", "", 0);
        legacy(seg, 1, (uint32_t)wpid, 0, 4096); /* legacy, its first write in progress */
        snprintf(legacy_name, sizeof(legacy_name), "evo_evo_hal_sensors_%d", wpid);
        snprintf(d, sizeof(d), "dev/shm/%s", legacy_name);
        write_file(d, seg, 128 + 4096);
        struct stat st1, st2;
        snprintf(d, sizeof(d), "%s/dev/shm/evo_hal_cu.lock", root);
        assert_int_equal(stat(d, &st1), 0);
        snprintf(d, sizeof(d), "%s/dev/shm/evo_cu_hal.lock", root);
        assert_int_equal(stat(d, &st2), 0);
        snprintf(text, sizeof(text), "1: FLOCK  ADVISORY  WRITE %d 00:1b:%lu 0 EOF\n2: FLOCK  ADVISORY  WRITE %d 00:1b:%lu 0 EOF\n",
                 wpid, (unsigned long)st1.st_ino, wpid, (unsigned long)st2.st_ino);
        write_file("proc/locks", text, strlen(text));
        rootfs_set(root);

        struct ctx c = {.self = &evo_collector, .is_root = true, .interval_ms = 1000};
        struct findings fs = {0};
        evo_collector.check(&c, &fs);
        int fds = open_fds();
        struct sample s;
        sample_init(&s);
        one_sample(&c, &s);

        const char *segs[] = {"evo_hal_cu", "evo_cu_hal", "evo_hal_mqt", legacy_name};
        const char *ids[] = {"evo.corrupt", "evo.orphaned", "evo.never_committed"};
        /* What both must say, so that agreeing on nothing cannot pass. */
        const char *want[4][3] = {
                {"ok", "ok", "ok"},
                {"crit", "ok", "ok"},  /* corrupt: never_committed is judged on sound headers only */
                {"crit", "crit", "ok"},
                {"ok", "ok", "ok"},    /* version 1: written (check's rule; watch said never written) */
        };
        for (size_t i = 0; i < 4; i++) {
                for (size_t k = 0; k < 3; k++) {
                        subject = segs[i];
                        const char *w = status_of(&s, ids[k]), *chk = finding_sev(&fs, ids[k], segs[i]);
                        if (!*w)
                                w = "ok";
                        if (strcmp(chk, want[i][k]) || strcmp(w, want[i][k]))
                                fail_msg("%s %s: check says %s, watch says %s, want %s", segs[i], ids[k], chk, w, want[i][k]);
                }
        }
        subject = "evo_hal_cu";

        /* free_state closes what sample() keeps open (one fd per decoded segment). */
        assert_non_null(evo_collector.free_state);
        assert_true(open_fds() > fds);
        evo_collector.free_state(c.state);
        c.state = NULL;
        assert_int_equal(open_fds(), fds);

        sample_free(&s);
        findings_free(&fs);
        rootfs_set(NULL);
        snprintf(d, sizeof(d), "rm -rf '%s'", root);
        assert_int_equal(system(d), 0);
}

/* The modules' startup lines (evo-core's main.rs files), as tracing prints them. */
static void test_startup_version(void **state)
{
        (void)state;
        char v[16];
        assert_string_equal(evo_startup_version("2026-02-18T10:00:00.123456Z  INFO evo: EVO System Supervisor v0.1.0 starting...",
                                                v, sizeof(v)), "evo");
        assert_string_equal(v, "0.1.0");
        assert_string_equal(evo_startup_version("EVO Control Unit v1.2.3-rc.1+g42 starting...", v, sizeof(v)), "evo_control_unit");
        assert_string_equal(v, "1.2.3-rc.1+g42");
        assert_string_equal(evo_startup_version("\x1b[32m INFO\x1b[0m evo_hal: EVO HAL Core v0.1.0 starting...", v, sizeof(v)), "evo_hal");
        assert_null(evo_startup_version("EVO HAL Core v starting...", v, sizeof(v)));          /* no version */
        assert_null(evo_startup_version("EVO HAL Core vX starting...", v, sizeof(v)));         /* not a number */
        assert_null(evo_startup_version("EVO HAL Core v0.1.0 stopped", v, sizeof(v)));         /* not the startup line */
        assert_null(evo_startup_version("EVO HAL Core v0.1.0.0.0.0.0.0.0 starting...", v, 8)); /* longer than the room */
        assert_null(evo_startup_version("🚀 Starting EVO System Supervisor", v, sizeof(v)));  /* before the versioned line */
        assert_null(evo_startup_version(NULL, v, sizeof(v)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_p2p),         cmocka_unit_test(test_legacy),   cmocka_unit_test(test_intermediate),
                cmocka_unit_test(test_malformed),   cmocka_unit_test(test_version_hash), cmocka_unit_test(test_seqlock),
                cmocka_unit_test(test_seqlock_legacy), cmocka_unit_test(test_maps),
                cmocka_unit_test(test_names),       cmocka_unit_test(test_creds),    cmocka_unit_test(test_modes),
                cmocka_unit_test(test_meta),        cmocka_unit_test(test_hexdump),  cmocka_unit_test(test_sample),
                cmocka_unit_test(test_sample_live), cmocka_unit_test(test_verdicts), cmocka_unit_test(test_header_class),
                cmocka_unit_test(test_progress_verdicts), cmocka_unit_test(test_check_watch_agree),
                cmocka_unit_test(test_startup_version),
        };
        return cmocka_run_group_tests_name("evo", tests, NULL, NULL);
}
