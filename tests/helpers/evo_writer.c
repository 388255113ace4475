/*
 * evo_writer: test helper that writes EVO shared-memory segments the way
 * the real writers in RTS007/evo-core do, so evodiag's tests can inspect
 * live segments instead of hand-made byte blobs.
 *
 * Layouts follow /work/shared/docs/COMPONENTS.md section 1 byte for byte:
 *   1a  P2P (TypedP2pWriter, HEAD): /dev/shm/evo_<name> + evo_<name>.lock
 *   1b  legacy SegmentWriter:       /dev/shm/evo_<name>_<pid> + .meta
 *   1b  "intermediate" (3682320):   legacy file, P2P header at offset 128
 *
 * Build: gcc -std=gnu11 -Wall -Wextra -O2 -o evo_writer evo_writer.c -lrt
 * See tests/helpers/README.md for the modes and options.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define P2P_HDR 64u
#define LEGACY_HDR 128u
#define EVO_SHM_MAGIC 0x45564F5F53484D00ull /* "EVO_SHM\0" as native u64 */

/* P2pSegmentHeader field offsets (COMPONENTS.md 1a table). */
#define OFF_HASH 8
#define OFF_HEARTBEAT 16
#define OFF_SRC 24
#define OFF_DST 25
#define OFF_PSIZE 28
#define OFF_WSEQ 32

/* legacy SegmentHeader field offsets (COMPONENTS.md 1b table). */
#define L_VERSION 8
#define L_PID 16
#define L_READERS 20
#define L_SIZE 24
#define L_CREATED 32
#define L_LASTWRITE 40

enum mode { M_TICK, M_STALL, M_ODD, M_ODD_EXIT, M_ORPHAN, M_NEVER,
            M_LEGACY, M_INTERMEDIATE };
static const char *const mode_names[] = {
        "tick", "stall", "odd", "odd-exit", "orphan", "never",
        "legacy", "intermediate", NULL };

static volatile sig_atomic_t stop;

static struct {
        const char *name;
        double rate, duration, backdate;
        size_t payload;
        enum mode mode;
        long ticks;         /* -1 = not given */
        long readers;       /* -1 = leave at 0 */
        long mode_bits;     /* -1 = keep 0600 */
} opt = { NULL, 100.0, 0.0, 0.0, 64, M_TICK, -1, -1, -1 };

/* Segment state shared by the P2P and legacy paths. */
static struct {
        char path[256], lock_name[256], meta_path[256];
        int lock_fd;
        uint8_t *map;       /* start of the file mapping */
        size_t map_len;
        uint8_t *buf;       /* pre-built copy of what a commit stores */
        size_t buf_len;
        size_t pbytes;      /* payload bytes after the P2P header in buf */
        uint64_t heartbeat;
        struct timespec t0;
} seg = { .lock_fd = -1 };

static void die(const char *what)
{
        fprintf(stderr, "evo_writer: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static size_t round_up(size_t v, size_t to)
{
        return (v + to - 1) / to * to;
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double elapsed(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)(ts.tv_sec - seg.t0.tv_sec) +
               (double)(ts.tv_nsec - seg.t0.tv_nsec) / 1e9;
}

static int duration_over(void)
{
        return opt.duration > 0 && elapsed() >= opt.duration;
}

static void ts_add(struct timespec *t, double sec)
{
        long long ns = (long long)t->tv_nsec + (long long)(sec * 1e9);
        t->tv_sec += (time_t)(ns / 1000000000LL);
        t->tv_nsec = (long)(ns % 1000000000LL);
}

/* Sleep until the next tick (absolute, so the rate does not drift) but no
 * later than the --duration deadline; 0 when we should stop. */
static int wait_tick(struct timespec *next)
{
        struct timespec until;

        ts_add(next, 1.0 / opt.rate);
        until = *next;
        if (opt.duration > 0) {
                struct timespec end = seg.t0;
                ts_add(&end, opt.duration);
                if (end.tv_sec < until.tv_sec ||
                    (end.tv_sec == until.tv_sec && end.tv_nsec < until.tv_nsec))
                        until = end;
        }
        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
                ;
        return !stop && !duration_over();
}

/* Stay alive (holding the lock, not ticking) until a signal or --duration. */
static void idle(void)
{
        struct timespec ts = { 0, 50 * 1000000L };
        while (!stop && !duration_over())
                nanosleep(&ts, NULL);
}

/* ModuleAbbrev from "<src>_<dst>": Cu=0, Hal=1, Re=2, Mqt=3, Rpc=4. */
static int module_id(const char *s, size_t n)
{
        static const char *const abbr[] = { "cu", "hal", "re", "mqt", "rpc" };
        for (int i = 0; i < 5; i++)
                if (strlen(abbr[i]) == n && strncmp(abbr[i], s, n) == 0)
                        return i;
        return -1;
}

static void name_modules(const char *name, uint8_t *src, uint8_t *dst)
{
        const char *us = strchr(name, '_');
        int a, b;
        *src = *dst = 0;
        if (!us || strchr(us + 1, '_'))
                return;
        a = module_id(name, (size_t)(us - name));
        b = module_id(us + 1, strlen(us + 1));
        if (a >= 0 && b >= 0) {
                *src = (uint8_t)a;
                *dst = (uint8_t)b;
        }
}

/* struct_version_hash::<T>(): u32 wrapping arithmetic, as in p2p.rs. */
static uint32_t version_hash(uint32_t size, uint32_t align)
{
        return size * 0x9E3779B9u ^ align * 0x517CC1B7u;
}

/* P2P header template: magic, hash, modules, payload_size; heartbeat and
 * write_seq 0 ("never committed"). */
static void p2p_header(uint8_t *h, uint32_t hash, uint32_t psize)
{
        memset(h, 0, P2P_HDR);
        memcpy(h, "EVO_P2P", 8); /* includes the trailing NUL */
        memcpy(h + OFF_HASH, &hash, 4);
        name_modules(opt.name, &h[OFF_SRC], &h[OFF_DST]);
        memcpy(h + OFF_PSIZE, &psize, 4);
}

/* Recognisable payload that changes every commit. */
static void fill_payload(uint8_t *p, size_t n, uint64_t hb)
{
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(hb + i);
}

static void store_u32(uint8_t *at, uint32_t v)
{
        __atomic_store_n((uint32_t *)(void *)at, v, __ATOMIC_RELAXED);
}

static void store_u64(uint8_t *at, uint64_t v)
{
        __atomic_store_n((uint64_t *)(void *)at, v, __ATOMIC_RELAXED);
}

static uint64_t load_u64(const uint8_t *at)
{
        return __atomic_load_n((const uint64_t *)(const void *)at, __ATOMIC_RELAXED);
}

/* ---- P2P (COMPONENTS.md 1a) ---------------------------------------- */

static void p2p_create(void)
{
        char shm_name[256];
        int fd;

        /* The real writer takes the lock before touching the data object. */
        snprintf(seg.lock_name, sizeof(seg.lock_name), "/evo_%s.lock", opt.name);
        seg.lock_fd = shm_open(seg.lock_name, O_CREAT | O_RDWR, 0600);
        if (seg.lock_fd < 0)
                die(seg.lock_name);
        if (flock(seg.lock_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK) {
                        fprintf(stderr, "evo_writer: writer already exists for '%s'\n", opt.name);
                        exit(3);
                }
                die("flock");
        }

        snprintf(shm_name, sizeof(shm_name), "/evo_%s", opt.name);
        snprintf(seg.path, sizeof(seg.path), "/dev/shm/evo_%s", opt.name);
        fd = shm_open(shm_name, O_CREAT | O_RDWR, 0600);
        if (fd < 0)
                die(shm_name);
        seg.map_len = round_up(P2P_HDR + opt.payload, PAGE);
        if (ftruncate(fd, (off_t)seg.map_len) < 0)
                die("ftruncate");
        if (opt.mode_bits >= 0 && fchmod(fd, (mode_t)opt.mode_bits) < 0)
                die("fchmod");
        seg.map = mmap(NULL, seg.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (seg.map == MAP_FAILED)
                die("mmap");
        close(fd);

        /* Initial write of the whole buffer so readers see a valid header. */
        seg.buf_len = seg.map_len;
        seg.buf = calloc(1, seg.buf_len);
        if (!seg.buf)
                die("calloc");
        p2p_header(seg.buf, version_hash((uint32_t)opt.payload, 8), (uint32_t)opt.payload);
        memcpy(seg.map, seg.buf, seg.buf_len);
        __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* TypedP2pWriter::commit(): odd write_seq, fence, copy everything (the
 * buffer already holds the new heartbeat and the even write_seq), fence. */
static void p2p_commit(void)
{
        uint64_t hb = ++seg.heartbeat;

        store_u32(seg.map + OFF_WSEQ, (uint32_t)(hb * 2 - 1));
        __atomic_thread_fence(__ATOMIC_RELEASE);
        fill_payload(seg.buf + P2P_HDR, opt.payload, hb);
        memcpy(seg.buf + OFF_HEARTBEAT, &hb, 8);
        uint32_t even = (uint32_t)(hb * 2);
        memcpy(seg.buf + OFF_WSEQ, &even, 4);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(seg.map, seg.buf, seg.buf_len);
        __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* A writer stuck (or killed) between step 1 and step 3 of commit(): the
 * odd write_seq is visible, the heartbeat in shm is still the old one. */
static void p2p_leave_odd(void)
{
        store_u32(seg.map + OFF_WSEQ, (uint32_t)((seg.heartbeat + 1) * 2 - 1));
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- legacy / intermediate (COMPONENTS.md 1b) ---------------------- */

static void write_meta(size_t size, uint64_t created, uint64_t accessed)
{
        /* serde_json::to_string_pretty of SegmentInfo; SystemTime serialises
         * as {secs_since_epoch, nanos_since_epoch}. reader_count is 0 there:
         * the real writer never updates the .meta after creating it. */
        char json[1024];
        int n, fd;

        n = snprintf(json, sizeof(json),
                     "{\n  \"name\": \"%s\",\n  \"size\": %zu,\n  \"writer_pid\": %d,\n"
                     "  \"created_at\": {\n    \"secs_since_epoch\": %llu,\n"
                     "    \"nanos_since_epoch\": %llu\n  },\n"
                     "  \"last_accessed\": {\n    \"secs_since_epoch\": %llu,\n"
                     "    \"nanos_since_epoch\": %llu\n  },\n  \"reader_count\": 0\n}",
                     opt.name, size, (int)getpid(),
                     (unsigned long long)(created / 1000000000ull),
                     (unsigned long long)(created % 1000000000ull),
                     (unsigned long long)(accessed / 1000000000ull),
                     (unsigned long long)(accessed % 1000000000ull));
        snprintf(seg.meta_path, sizeof(seg.meta_path), "/dev/shm/evo_%s.meta", opt.name);
        /* create_new(true) in writer.rs: a leftover .meta makes create fail. */
        fd = open(seg.meta_path, O_CREAT | O_EXCL | O_WRONLY, 0600);
        if (fd < 0) {
                /* The real writer would leave its data file behind here;
                 * a test helper should not litter /dev/shm. */
                int e = errno;
                unlink(seg.path);
                errno = e;
                die(seg.meta_path);
        }
        if (write(fd, json, (size_t)n) != n)
                die("write .meta");
        close(fd);
}

static void legacy_create(size_t data_size)
{
        uint64_t now = now_ns();
        uint64_t created = now - (uint64_t)(opt.backdate * 1e9);
        uint64_t magic = EVO_SHM_MAGIC;
        int fd;

        snprintf(seg.path, sizeof(seg.path), "/dev/shm/evo_%s_%d", opt.name, (int)getpid());
        fd = open(seg.path, O_CREAT | O_RDWR, 0600);
        if (fd < 0)
                die(seg.path);
        seg.map_len = LEGACY_HDR + data_size;
        if (ftruncate(fd, (off_t)seg.map_len) < 0)
                die("ftruncate");
        if (opt.mode_bits >= 0 && fchmod(fd, (mode_t)opt.mode_bits) < 0)
                die("fchmod");
        seg.map = mmap(NULL, seg.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (seg.map == MAP_FAILED)
                die("mmap");
        close(fd);

        /* SegmentHeader::new(): version 0, last_write_ts = created_ts. */
        uint32_t pid = (uint32_t)getpid();
        uint32_t readers = opt.readers > 0 ? (uint32_t)opt.readers : 0;
        uint64_t size = data_size;
        memcpy(seg.map, &magic, 8);
        memcpy(seg.map + L_PID, &pid, 4);
        memcpy(seg.map + L_READERS, &readers, 4);
        memcpy(seg.map + L_SIZE, &size, 8);
        memcpy(seg.map + L_CREATED, &created, 8);
        memcpy(seg.map + L_LASTWRITE, &created, 8);
        __atomic_thread_fence(__ATOMIC_RELEASE);

        write_meta(data_size, created, now - (uint64_t)(opt.backdate * 1e9));
}

/* SegmentWriter::write_at(0, data): v+1 (odd), copy, v+2 (even), then
 * last_write_ts. */
static void legacy_write(const uint8_t *data, size_t n)
{
        uint64_t v = load_u64(seg.map + L_VERSION);

        store_u64(seg.map + L_VERSION, v + 1);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(seg.map + LEGACY_HDR, data, n);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        store_u64(seg.map + L_VERSION, v + 2);
        store_u64(seg.map + L_LASTWRITE, now_ns());
}

static void legacy_commit(void)
{
        seg.heartbeat++;
        if (opt.mode == M_INTERMEDIATE) {
                /* OutboundWriter::commit() at 3682320: heartbeat and an even
                 * write_seq go into the buffer; only the legacy version acts
                 * as the seqlock. */
                uint64_t hb = seg.heartbeat;
                uint32_t even = (uint32_t)(hb * 2);
                fill_payload(seg.buf + P2P_HDR, seg.pbytes, hb);
                memcpy(seg.buf + OFF_HEARTBEAT, &hb, 8);
                memcpy(seg.buf + OFF_WSEQ, &even, 4);
        } else {
                fill_payload(seg.buf, opt.payload, seg.heartbeat);
        }
        legacy_write(seg.buf, seg.buf_len);
}

static void legacy_setup(void)
{
        if (opt.mode == M_LEGACY) {
                legacy_create(round_up(opt.payload, PAGE));
                seg.buf_len = opt.payload;
                seg.buf = calloc(1, seg.buf_len);
                if (!seg.buf)
                        die("calloc");
                return;
        }
        /* Intermediate: T = #[repr(C)] struct whose first field is the
         * align(64) P2pSegmentHeader, so size_of::<T>() is a multiple of 64
         * and align_of::<T>() is 64; data_size_for::<T>() rounds to a page. */
        uint32_t tsize = (uint32_t)round_up(P2P_HDR + opt.payload, 64);
        legacy_create(round_up(tsize, PAGE));
        seg.buf_len = round_up(tsize, PAGE);
        seg.buf = calloc(1, seg.buf_len);
        if (!seg.buf)
                die("calloc");
        seg.pbytes = tsize - P2P_HDR;
        p2p_header(seg.buf, version_hash(tsize, 64), (uint32_t)seg.pbytes);
        legacy_write(seg.buf, seg.buf_len); /* create(): initial write, hb 0 */
}

/* ---- lifecycle ------------------------------------------------------ */

static void ready(void)
{
        printf("ready %s pid %d\n", seg.path, (int)getpid());
        fflush(stdout);
}

/* What the writers' Drop does: unlink data and lock (P2P) or data and
 * .meta (legacy); the flock goes away with the descriptor. */
static void clean_exit(void)
{
        if (seg.lock_fd >= 0) {
                shm_unlink(seg.path + strlen("/dev/shm"));
                shm_unlink(seg.lock_name);
        } else {
                unlink(seg.path);
                if (seg.meta_path[0])
                        unlink(seg.meta_path);
        }
        exit(0);
}

static void usage(FILE *f)
{
        fputs("usage: evo_writer --name NAME [--mode tick|stall|odd|odd-exit|orphan|never|"
              "legacy|intermediate]\n"
              "       [--rate HZ] [--payload BYTES] [--ticks N] [--duration SEC]\n"
              "       [--readers N] [--mode-bits OCTAL] [--backdate SEC]\n", f);
}

static void parse_args(int argc, char **argv)
{
        static const struct option lo[] = {
                { "name", required_argument, NULL, 'n' },
                { "rate", required_argument, NULL, 'r' },
                { "payload", required_argument, NULL, 'p' },
                { "mode", required_argument, NULL, 'm' },
                { "ticks", required_argument, NULL, 't' },
                { "duration", required_argument, NULL, 'd' },
                { "readers", required_argument, NULL, 'R' },
                { "mode-bits", required_argument, NULL, 'b' },
                { "backdate", required_argument, NULL, 'B' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c, i;
        char *end;

        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                errno = 0;
                end = NULL;
                switch (c) {
                case 'n': opt.name = optarg; break;
                case 'r': opt.rate = strtod(optarg, &end); break;
                case 'p': opt.payload = strtoul(optarg, &end, 10); break;
                case 't': opt.ticks = strtol(optarg, &end, 10); break;
                case 'd': opt.duration = strtod(optarg, &end); break;
                case 'R': opt.readers = strtol(optarg, &end, 10); break;
                case 'b': opt.mode_bits = strtol(optarg, &end, 8); break;
                case 'B': opt.backdate = strtod(optarg, &end); break;
                case 'm':
                        for (i = 0; mode_names[i] && strcmp(mode_names[i], optarg); i++)
                                ;
                        if (!mode_names[i]) {
                                fprintf(stderr, "evo_writer: unknown mode '%s'\n", optarg);
                                exit(2);
                        }
                        opt.mode = (enum mode)i;
                        break;
                case 'h': usage(stdout); exit(0);
                default: usage(stderr); exit(2);
                }
                if (end && (*end || end == optarg || errno)) {
                        fprintf(stderr, "evo_writer: bad value '%s'\n", optarg);
                        exit(2);
                }
        }
        if (!opt.name || optind != argc) {
                usage(stderr);
                exit(2);
        }
        /* Names end up in paths and in .meta JSON: keep them plain. */
        if (!*opt.name || strlen(opt.name) > 200 ||
            strspn(opt.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789_.-") != strlen(opt.name)) {
                fprintf(stderr, "evo_writer: name must be [A-Za-z0-9_.-]{1,200}\n");
                exit(2);
        }
        /* A Rust payload with align 8 has a size that is a multiple of 8. */
        if (opt.payload < 8 || opt.payload % 8 || opt.payload > (1u << 30) - PAGE) {
                fprintf(stderr, "evo_writer: --payload must be a multiple of 8, 8..1GiB\n");
                exit(2);
        }
        if (!(opt.rate > 0) || opt.duration < 0 || opt.backdate < 0 ||
            opt.mode_bits > 07777 || opt.ticks < -1 || opt.readers < -1) {
                fprintf(stderr, "evo_writer: out-of-range option value\n");
                exit(2);
        }
}

int main(int argc, char **argv)
{
        struct sigaction sa;
        struct timespec next;
        int legacy;
        long n;

        parse_args(argc, argv);
        legacy = opt.mode == M_LEGACY || opt.mode == M_INTERMEDIATE;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal; /* no SA_RESTART: sleeps return EINTR */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        clock_gettime(CLOCK_MONOTONIC, &seg.t0);
        next = seg.t0;

        if (legacy)
                legacy_setup();
        else
                p2p_create();

        if (opt.mode == M_NEVER) {
                ready();
                idle();
                clean_exit();
        }

        /* Modes with a scripted end print "ready" once that end state is
         * in place, so a test that waits for "ready" sees the final bytes. */
        n = opt.ticks;
        if (n < 0 && opt.mode != M_TICK && !legacy)
                n = 3;
        for (long i = 0; n < 0 || i < n; i++) {
                if (i > 0 && !wait_tick(&next))
                        clean_exit();
                if (legacy)
                        legacy_commit();
                else
                        p2p_commit();
                if (i == 0 && (opt.mode == M_TICK || legacy))
                        ready();
        }

        switch (opt.mode) {
        case M_STALL:
                ready();
                idle();
                break;
        case M_ODD:
                p2p_leave_odd();
                ready();
                idle();
                break;
        case M_ODD_EXIT:
                p2p_leave_odd();
                /* fall through */
        case M_ORPHAN:
                /* A crash: no Drop, the kernel drops the flock with the fd. */
                ready();
                _exit(0);
        default:
                /* tick/legacy/intermediate with --ticks N: done, like Drop. */
                if (n == 0)
                        ready();
                break;
        }
        clean_exit();
        return 0;
}
