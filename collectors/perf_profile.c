/* perf: the profile a bundle attaches with --allow-intrusive: what the guides' `perf
 * record -g -p PID` + `perf report --stdio` show, for the component processes.
 *   pre-check:  the paranoid level allows it, the targets are the components (lib/trust
 *               vouches for them, or the operator named them in [perf] pids);
 *   profile:    `perf record -g -p PIDS -- sleep N` and `perf report --stdio`, each under
 *               a deadline, where a working perf binary exists; otherwise natively:
 *               perf_event_open sampling task-clock with PERF_SAMPLE_CALLCHAIN (frame
 *               pointers, as perf record -g; per existing thread), stacks symbolized with libdwfl from the
 *               ELF files the path rule lets us open;
 *   post-check: every target is still the same process (start time), and the profile
 *               ended within its deadline.
 * The raw perf.data goes into the bundle only with --include-perf-data. */
#include "config.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/subprocess.h"
#include "lib/trust.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#define PROFILE_OUT_MAX (8u << 20)   /* perf report text kept */
#define NATIVE_PAGES 16              /* ring buffer data pages per thread (64 KiB) */
#define NATIVE_PERIOD_NS 10000000ull /* task-clock sample every 10 ms of CPU: 100 Hz */
#define STACK_MAX 64                 /* frames kept per sample */
#define STACKS_MAX 8192              /* distinct stacks kept (hash slots) */
#define REPORT_MARGIN_MS 3000        /* left before the runner's deadline */

static const char *const NAME = "profile.txt";

struct pre {
        struct perf_set s;
        char *pids; /* "12,34" */
};

/* ---- pre-check ---- */

static int pre_check(struct ctx *c, struct pre *p, char **why)
{
        *p = (struct pre){0};
        _cleanup_free_ char *v = NULL;
        int64_t paranoid = 4;
        if (rootfs_read_value("/proc/sys/kernel/perf_event_paranoid", &v) < 0 || parse_i64(v, &paranoid) < 0)
                paranoid = 4; /* unknown: only root may go on */
        if (perf_access_for(paranoid, perf_privilege(c->is_root) != NULL) != PERF_ACCESS_FULL) {
                *why = xasprintf("kernel.perf_event_paranoid = %" PRId64 " does not let this user profile; %s", paranoid,
                                 PERF_PARANOID_REMEDY);
                return -EPERM;
        }
        int r = perf_targets(c, &p->s, why);
        if (r < 0)
                return r;
        if (!p->s.n) {
                if (p->s.impostors)
                        *why = xasprintf("no process to profile: not vouched for as a component, so not profiled: %s", p->s.impostors);
                else
                        *why = xasprintf("no process to profile: none of %s runs here", p->s.looked_for ? p->s.looked_for : "?");
                return -ESRCH;
        }
        struct strbuf b = {0};
        for (size_t i = 0; i < p->s.n; i++)
                sb_printf(&b, "%s%d", i ? "," : "", p->s.v[i].pid);
        p->pids = sb_steal(&b);
        return 0;
}

/* Every target still the process it was (same start time): a pid reused meanwhile would
 * mean the profile is of something else. NULL when all are, else what changed. */
static char *post_check_targets(const struct perf_set *s)
{
        struct strbuf b = {0};
        for (size_t i = 0; i < s->n; i++) {
                uint64_t st = perf_starttime(s->v[i].pid);
                if (st != s->v[i].starttime)
                        sb_printf(&b, "%s%s %s", b.len ? "; " : "", s->v[i].subject, st ? "was replaced by another process" : "exited");
        }
        return b.len ? sb_steal(&b) : (sb_free(&b), NULL);
}

/* Test builds: EVODIAG_FAULT=perf:overrun makes a profile look as if it ran past its
 * deadline, so the post-check that drops it can be seen to work. */
static uint64_t took_ms(uint64_t t0)
{
        uint64_t took = now_ms_monotonic() - t0;
        return fault_wanted("perf", "overrun") ? took + 3600000 : took;
}

static uint64_t profile_seconds(struct ctx *c, uint64_t reserve_ms)
{
        uint64_t ms;
        if (parse_duration_ms(conf_str(c, "profile_duration"), &ms) < 0)
                ms = 10000;
        uint64_t now = now_ms_monotonic();
        if (c->deadline_ms) {
                uint64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
                left = left > reserve_ms ? left - reserve_ms : 0;
                if (ms > left)
                        ms = left;
        }
        return ms / 1000;
}

/* ---- the perf binary ---- */

static bool perf_works(void)
{
        const char *argv[] = {"perf", "--version", NULL};
        struct cmd_result r = {0};
        int rc = cmd_run(argv, 5000, 4096, &r);
        bool ok = rc == 0 && r.out && startswith(r.out, "perf version");
        cmd_result_free(&r);
        return ok;
}

static void rm_tmpdir(void *arg)
{
        const char *dir = arg;
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *de;
                int dfd = dirfd(d);
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                (void)unlinkat(dfd, de->d_name, 0);
                closedir(d);
        }
        (void)rmdir(dir);
}

/* perf record, then perf report, in dir (removed by the caller). */
static void record_and_report(struct ctx *c, struct bundle_sink *sink, struct pre *p, const char *dir, uint64_t secs)
{
        _cleanup_free_ char *data = xasprintf("%s/perf.data", dir);
        char nbuf[32];
        snprintf(nbuf, sizeof(nbuf), "%" PRIu64, secs);
        const char *rec[] = {"perf", "record", "-g", "-q", "-o", data, "-p", p->pids, "--", "sleep", nbuf, NULL};
        _cleanup_free_ char *origin = xasprintf("perf record -g -p %s -- sleep %s", p->pids, nbuf);
        /* perf's start-up (kallsyms, the target's maps) runs at evodiag's low priority:
         * on a loaded host it takes many seconds, so give it slack, within what the
         * collector has left before perf report needs its share. */
        uint64_t rec_deadline = secs * 1000 + 30000, now = now_ms_monotonic();
        if (c->deadline_ms && c->deadline_ms > now + 2 * REPORT_MARGIN_MS + secs * 1000 &&
            c->deadline_ms - now - 2 * REPORT_MARGIN_MS < rec_deadline)
                rec_deadline = c->deadline_ms - now - 2 * REPORT_MARGIN_MS;
        struct cmd_result r = {0};
        uint64_t t0 = now_ms_monotonic();
        int rc = cmd_run(rec, rec_deadline, 64 << 10, &r);
        uint64_t took = took_ms(t0);
        sink_log(sink, "perf: %s: %s in %" PRIu64 " ms", origin, rc == 0 ? "done" : r.error ? r.error : "failed", took);
        if (rc != 0 || r.timed_out) {
                _cleanup_free_ char *why = xasprintf("%s%s%s", r.error ? r.error : "failed", r.out && *r.out ? ": " : "",
                                                     r.out ? r.out : "");
                sink_missing(sink, NAME, "command", origin, r.timed_out ? "timeout" : "error", why);
                cmd_result_free(&r);
                return;
        }
        cmd_result_free(&r);
        /* post-check: the profile ended within its deadline, the same processes */
        if (took > rec_deadline) {
                sink_missing(sink, NAME, "command", origin, "error", "the profile outlived its deadline: not kept");
                return;
        }
        _cleanup_free_ char *changed = post_check_targets(&p->s);
        now = now_ms_monotonic();
        uint64_t rep_ms = c->deadline_ms > now + REPORT_MARGIN_MS ? c->deadline_ms - now - REPORT_MARGIN_MS : 1000;
        if (rep_ms > 30000)
                rep_ms = 30000;
        const char *rep[] = {"perf", "report", "--stdio", "-i", data, "--percent-limit", "0.5", NULL};
        struct cmd_result o = {0};
        rc = cmd_run(rep, rep_ms, PROFILE_OUT_MAX, &o);
        if (rc == 0 && o.out) {
                struct strbuf b = {0};
                sb_printf(&b, "# %s\n# perf report --stdio --percent-limit 0.5 (%" PRIu64 " ms)\n# processes: ", origin, o.duration_ms);
                for (size_t i = 0; i < p->s.n; i++)
                        sb_printf(&b, "%s%s (%s)", i ? ", " : "", p->s.v[i].subject, p->s.v[i].by);
                sb_printf(&b, "\n# post-check: %s\n", changed ? changed : "every process still the same, profile within its deadline");
                sb_putn(&b, o.out, o.len);
                sink_text(sink, NAME, "command", "perf report --stdio", b.s, b.len);
                sb_free(&b);
        } else {
                sink_missing(sink, NAME, "command", "perf report --stdio", o.timed_out ? "timeout" : "error",
                             o.error ? o.error : "failed");
        }
        cmd_result_free(&o);
        if (sink->include_perf_data)
                sink_binary(sink, "perf.data", "command", data);
        else
                sink_missing(sink, "perf.data", "command", origin, "skipped", "raw perf.data only with --include-perf-data (it is large)");
}

static void profile_with_perf(struct ctx *c, struct bundle_sink *sink, struct pre *p)
{
        /* perf report of a 10 s profile takes seconds: keep time for it. */
        uint64_t secs = profile_seconds(c, 25000 + REPORT_MARGIN_MS);
        if (!secs) {
                sink_missing(sink, NAME, "command", "perf record -g", "skipped", "no time left before the collector's deadline");
                return;
        }
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *dir = xasprintf("%s/evodiag-perf.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
                sink_missing(sink, NAME, "command", "perf record -g", "error", strerror(errno));
                return;
        }
        /* Removed however this child ends (the runner may kill it). */
        if (child_on_exit(rm_tmpdir, dir) < 0)
                sink_log(sink, "perf: no clean-up helper for %s: it stays if this collector is killed", dir);
        record_and_report(c, sink, p, dir, secs);
        rm_tmpdir(dir); /* now: the helper above only covers a child killed meanwhile */
}

/* ---- native: perf_event_open sampling + libdwfl ---- */

struct ring {
        int fd;
        int pid;
        void *map;
        size_t map_len;
};

struct stack {
        int pid;
        uint32_t n;
        uint64_t ip[STACK_MAX];
        uint64_t count;
        bool used;
};

struct native {
        struct ring *r;
        size_t nr;
        struct stack *st; /* STACKS_MAX slots */
        size_t nstacks;
        uint64_t samples, lost, dropped;
};

static uint64_t fnv(const uint64_t *v, size_t n, int pid)
{
        uint64_t h = 1469598103934665603ull ^ (uint64_t)pid;
        for (size_t i = 0; i < n; i++) {
                h ^= v[i];
                h *= 1099511628211ull;
        }
        return h;
}

static void add_stack(struct native *nv, int pid, const uint64_t *ip, uint32_t n)
{
        if (n > STACK_MAX)
                n = STACK_MAX;
        uint64_t h = fnv(ip, n, pid);
        for (size_t probe = 0; probe < STACKS_MAX; probe++) {
                struct stack *s = &nv->st[(h + probe) % STACKS_MAX];
                if (!s->used) {
                        if (nv->nstacks >= STACKS_MAX * 3 / 4) {
                                nv->dropped++;
                                return;
                        }
                        *s = (struct stack){.pid = pid, .n = n, .count = 1, .used = true};
                        memcpy(s->ip, ip, n * sizeof(*ip));
                        nv->nstacks++;
                        return;
                }
                if (s->pid == pid && s->n == n && !memcmp(s->ip, ip, n * sizeof(*ip))) {
                        s->count++;
                        return;
                }
        }
        nv->dropped++;
}

static int open_sampler(int tid)
{
        struct perf_event_attr a = {0};
        a.size = sizeof(a);
        a.type = PERF_TYPE_SOFTWARE;
        a.config = PERF_COUNT_SW_TASK_CLOCK;
        a.sample_period = NATIVE_PERIOD_NS;
        a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN;
        a.inherit = 0; /* the kernel refuses to mmap an inherited per-task event (one ring
                          for all children): threads started during the profile are missed */
        a.exclude_hv = 1;
        a.exclude_callchain_kernel = 1; /* user stacks: what the component's code does */
        a.disabled = 1;
        a.wakeup_events = 1;
        long fd = syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        return fd < 0 ? -errno : (int)fd;
}

/* Copies n bytes at ring offset off (wrapping) into out. */
static void ring_copy(const uint8_t *data, size_t size, uint64_t off, void *out, size_t n)
{
        size_t o = (size_t)(off % size), first = size - o < n ? size - o : n;
        memcpy(out, data + o, first);
        if (first < n)
                memcpy((uint8_t *)out + first, data, n - first);
}

static void ring_drain(struct native *nv, struct ring *rg)
{
        struct perf_event_mmap_page *mp = rg->map;
        const uint8_t *data = (const uint8_t *)rg->map + mp->data_offset;
        size_t size = (size_t)mp->data_size;
        uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE), tail = mp->data_tail;
        uint64_t rec[2 + 1 + STACK_MAX + 512 / 8];
        while (tail + sizeof(struct perf_event_header) <= head) {
                struct perf_event_header h;
                ring_copy(data, size, tail, &h, sizeof(h));
                if (h.size < sizeof(h) || tail + h.size > head)
                        break;
                if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 16) {
                        uint8_t buf[8192];
                        size_t len = h.size - sizeof(h) > sizeof(buf) ? sizeof(buf) : h.size - sizeof(h);
                        ring_copy(data, size, tail + sizeof(h), buf, len);
                        uint32_t pid;
                        uint64_t nr;
                        memcpy(&pid, buf, 4);
                        memcpy(&nr, buf + 8, 8);
                        if (nr <= (len - 16) / 8) {
                                uint32_t k = 0;
                                for (uint64_t i = 0; i < nr && k < STACK_MAX; i++) {
                                        uint64_t ip;
                                        memcpy(&ip, buf + 16 + 8 * i, 8);
                                        if (ip >= PERF_CONTEXT_MAX)
                                                continue; /* PERF_CONTEXT_USER/KERNEL markers */
                                        rec[k++] = ip;
                                }
                                nv->samples++;
                                if (k)
                                        add_stack(nv, (int)pid, rec, k);
                        }
                } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
                        uint64_t lost[2];
                        ring_copy(data, size, tail + sizeof(h), lost, sizeof(lost));
                        nv->lost += lost[1];
                }
                tail += h.size;
        }
        __atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

static void native_open(struct native *nv, const struct perf_set *s, size_t budget)
{
        for (size_t i = 0; i < s->n; i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/task", s->v[i].pid);
                struct rootfs_dir *d = rootfs_opendir(path);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = rootfs_readdir(d)) && nv->nr < budget) {
                        uint64_t tid;
                        if (parse_u64(de->d_name, &tid) < 0 || !tid || tid > PERF_PID_MAX)
                                continue;
                        int fd = open_sampler((int)tid);
                        if (fd < 0)
                                continue;
                        size_t len = (size_t)(NATIVE_PAGES + 1) * (size_t)sysconf(_SC_PAGESIZE);
                        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                        if (m == MAP_FAILED) {
                                close(fd);
                                continue;
                        }
                        nv->r = xrealloc(nv->r, (nv->nr + 1) * sizeof(*nv->r));
                        nv->r[nv->nr++] = (struct ring){.fd = fd, .pid = s->v[i].pid, .map = m, .map_len = len};
                }
                rootfs_closedir(d);
        }
}

static void native_close(struct native *nv)
{
        for (size_t i = 0; i < nv->nr; i++) {
                munmap(nv->r[i].map, nv->r[i].map_len);
                close(nv->r[i].fd);
        }
        free(nv->r);
        free(nv->st);
}

/* libdwfl opens the ELF files a process maps: each only when the path rule allows it
 * (owned by root or the service user, not writable by others), never a debuginfo
 * file found by name. */
struct dwfl_arg {
        const struct trust *tr;
        int rootfd;
};
static struct dwfl_arg *cur_arg;

static int find_elf_trusted(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, char **file_name, Elf **elfp)
{
        (void)mod, (void)userdata, (void)base;
        *elfp = NULL;
        if (!modname || modname[0] != '/' || !cur_arg)
                return -1; /* [vdso], [heap], deleted files */
        int fd = -1;
        char *why = NULL;
        if (trust_walk(cur_arg->tr, cur_arg->rootfd, modname, TRUST_FILE, &fd, &why) < 0) {
                free(why);
                return -1;
        }
        *file_name = xstrdup(modname);
        return fd;
}

static int find_debuginfo_none(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, const char *file_name,
                               const char *debuglink_file, GElf_Word debuglink_crc, char **debuginfo_file_name)
{
        (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file, (void)debuglink_crc,
                (void)debuginfo_file_name;
        return -1;
}

static const Dwfl_Callbacks dwfl_cb = {
        .find_elf = find_elf_trusted,
        .find_debuginfo = find_debuginfo_none,
};

static void frame_name(Dwfl *d, uint64_t ip, bool caller, struct strbuf *b)
{
        Dwarf_Addr a = caller && ip ? ip - 1 : ip; /* a return address points after the call */
        Dwfl_Module *m = d ? dwfl_addrmodule(d, a) : NULL;
        const char *sym = m ? dwfl_module_addrname(m, a) : NULL;
        if (sym) {
                _cleanup_free_ char *p = str_printable(sym);
                sb_puts(b, p);
                return;
        }
        const char *mod = m ? dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
        const char *base = mod ? strrchr(mod, '/') : NULL;
        _cleanup_free_ char *p = mod ? str_printable(base ? base + 1 : mod) : NULL;
        sb_printf(b, "0x%" PRIx64 " (%s)", ip, p ? p : "?");
}

static int cmp_count(const void *a, const void *b)
{
        const struct stack *x = *(const struct stack *const *)a, *y = *(const struct stack *const *)b;
        return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static char *native_report(struct native *nv, const struct perf_set *s, uint64_t secs)
{
        struct strbuf b = {0};
        sb_printf(&b, "# native profile (perf_event_open task-clock every %llu ms of CPU, call chains from frame pointers, "
                      "symbols by libdwfl) for %" PRIu64 " s\n",
                  NATIVE_PERIOD_NS / 1000000, secs);
        sb_printf(&b, "# %" PRIu64 " samples, %zu distinct stacks, %" PRIu64 " lost, %" PRIu64 " not kept\n", nv->samples, nv->nstacks,
                  nv->lost, nv->dropped);
        /* What this profile cannot show, for whoever reads the bundle (README, "perf"). */
        sb_printf(&b, "# Limits of the native profile (no perf binary here, or [perf] profiler = native):\n"
                      "#  - call chains come from frame pointers only (no DWARF unwinding): code built without\n"
                      "#    -fno-omit-frame-pointer (most distribution libraries, e.g. libc) loses its callers, and a\n"
                      "#    stack may end early or skip a frame;\n"
                      "#  - user space only: kernel frames are not recorded;\n"
                      "#  - only the threads that existed when the profile started are sampled: threads started during\n"
                      "#    the profile are missed;\n"
                      "#  - at most %d frames per sample; symbols come from the ELF files' own symbol tables (.symtab,\n"
                      "#    .dynsym) that pass the path rule: no debuginfo is looked up on purpose (no debuginfod, no\n"
                      "#    /usr/lib/debug: evodiag opens no file a process names unless the trust rules allow it), so a\n"
                      "#    stripped binary shows module+offset (resolve it later with eu-addr2line -e FILE OFFSET).\n"
                      "#  Where perf (Debian: linux-perf) works, evodiag runs perf record -g instead (kernel frames,\n"
                      "#  perf's own debuginfo lookup); DWARF call chains: perf record --call-graph dwarf -p PID by hand.\n",
                  STACK_MAX);
        struct stack **v = xcalloc(nv->nstacks + 1, sizeof(*v));
        size_t n = 0;
        for (size_t i = 0; i < STACKS_MAX; i++)
                if (nv->st[i].used)
                        v[n++] = &nv->st[i];
        qsort(v, n, sizeof(*v), cmp_count);
        int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY);
        for (size_t i = 0; i < s->n; i++) {
                const struct perf_target *t = &s->v[i];
                uint64_t total = 0;
                for (size_t j = 0; j < n; j++)
                        if (v[j]->pid == t->pid)
                                total += v[j]->count;
                sb_printf(&b, "\n# %s (%s): %" PRIu64 " samples\n", t->subject, t->by, total);
                if (!total)
                        continue;
                struct trust tr;
                trust_init(&tr, t->comm, t->user);
                struct dwfl_arg arg = {.tr = &tr, .rootfd = rootfd};
                cur_arg = &arg;
                Dwfl *d = dwfl_begin(&dwfl_cb);
                if (d) {
                        dwfl_report_begin(d);
                        if (dwfl_linux_proc_report(d, t->pid) != 0 || dwfl_report_end(d, NULL, NULL) != 0) {
                                dwfl_end(d);
                                d = NULL;
                        }
                }
                /* Stacks that differ only in addresses inside one function read the same:
                 * merged by their text, the most frequent first. */
                struct line {
                        char *text;
                        uint64_t count;
                } *lines = NULL;
                size_t nl = 0, symbolized = 0;
                uint64_t other = 0;
                for (size_t j = 0; j < n; j++) {
                        if (v[j]->pid != t->pid)
                                continue;
                        if (symbolized >= 2000) {
                                other += v[j]->count;
                                continue;
                        }
                        symbolized++;
                        struct strbuf fb = {0};
                        for (uint32_t k = 0; k < v[j]->n; k++) {
                                if (k)
                                        sb_puts(&fb, " <- ");
                                frame_name(d, v[j]->ip[k], k > 0, &fb);
                        }
                        size_t l;
                        for (l = 0; l < nl && strcmp(lines[l].text, fb.s) != 0; l++)
                                ;
                        if (l < nl) {
                                lines[l].count += v[j]->count;
                                sb_free(&fb);
                                continue;
                        }
                        lines = xrealloc(lines, (nl + 1) * sizeof(*lines));
                        lines[nl++] = (struct line){.text = sb_steal(&fb), .count = v[j]->count};
                }
                for (size_t a = 1; a < nl; a++)
                        for (size_t z = a; z > 0 && lines[z - 1].count < lines[z].count; z--) {
                                struct line tmp = lines[z];
                                lines[z] = lines[z - 1];
                                lines[z - 1] = tmp;
                        }
                for (size_t l = 0; l < nl; l++) {
                        if (l < 200)
                                sb_printf(&b, "%8" PRIu64 " %5.1f%%  %s\n", lines[l].count, 100.0 * (double)lines[l].count / (double)total,
                                          lines[l].text);
                        else
                                other += lines[l].count;
                        free(lines[l].text);
                }
                free(lines);
                if (other)
                        sb_printf(&b, "%8" PRIu64 " %5.1f%%  (other stacks)\n", other, 100.0 * (double)other / (double)total);
                if (d)
                        dwfl_end(d);
                cur_arg = NULL;
                trust_free(&tr);
        }
        if (rootfd >= 0)
                close(rootfd);
        free(v);
        return sb_steal(&b);
}

static void profile_native(struct ctx *c, struct bundle_sink *sink, struct pre *p)
{
        uint64_t secs = profile_seconds(c, 5000 + REPORT_MARGIN_MS);
        _cleanup_free_ char *origin = xasprintf("perf_event_open sampling of pids %s", p->pids);
        if (!secs) {
                sink_missing(sink, NAME, "derived", origin, "skipped", "no time left before the collector's deadline");
                return;
        }
        struct native nv = {.st = xcalloc(STACKS_MAX, sizeof(struct stack))};
        native_open(&nv, &p->s, (size_t)conf_uint(c, "max_tasks"));
        if (!nv.nr) {
                sink_missing(sink, NAME, "derived", origin, "error", "no thread of the targets could be sampled");
                native_close(&nv);
                return;
        }
        for (size_t i = 0; i < nv.nr; i++)
                ioctl(nv.r[i].fd, PERF_EVENT_IOC_ENABLE, 0);
        uint64_t t0 = now_ms_monotonic(), end = t0 + secs * 1000;
        struct pollfd *pf = xcalloc(nv.nr, sizeof(*pf));
        for (size_t i = 0; i < nv.nr; i++)
                pf[i] = (struct pollfd){.fd = nv.r[i].fd, .events = POLLIN};
        for (uint64_t now = t0; now < end; now = now_ms_monotonic()) {
                uint64_t left = end - now;
                (void)poll(pf, nv.nr, (int)(left < 100 ? left : 100));
                for (size_t i = 0; i < nv.nr; i++)
                        ring_drain(&nv, &nv.r[i]);
        }
        for (size_t i = 0; i < nv.nr; i++) {
                ioctl(nv.r[i].fd, PERF_EVENT_IOC_DISABLE, 0);
                ring_drain(&nv, &nv.r[i]);
        }
        free(pf);
        uint64_t took = took_ms(t0);
        _cleanup_free_ char *changed = post_check_targets(&p->s);
        if (took > secs * 1000 + 5000) {
                sink_missing(sink, NAME, "derived", origin, "error", "the profile outlived its deadline: not kept");
        } else {
                _cleanup_free_ char *rep = native_report(&nv, &p->s, secs);
                struct strbuf b = {0};
                sb_printf(&b, "# %s\n# post-check: %s\n", origin,
                          changed ? changed : "every process still the same, profile within its deadline");
                sb_puts(&b, rep);
                sink_text(sink, NAME, "derived", origin, b.s, b.len);
                sb_free(&b);
        }
        sink_log(sink, "perf: native profile of %s: %zu threads, %" PRIu64 " samples in %" PRIu64 " ms", p->pids, nv.nr, nv.samples, took);
        native_close(&nv);
}

void perf_profile(struct ctx *c, struct bundle_sink *sink)
{
        if (!c->allow_intrusive) {
                sink_missing(sink, NAME, "command", "perf record -g", "skipped", "a profile needs --allow-intrusive");
                return;
        }
        if (!rootfs_is_live()) {
                sink_missing(sink, NAME, "command", "perf record -g", "skipped", "not the live system (--root)");
                return;
        }
        struct pre p;
        _cleanup_free_ char *why = NULL;
        int r = pre_check(c, &p, &why);
        if (r < 0) {
                sink_missing(sink, NAME, "command", "perf record -g", r == -ESRCH ? "absent" : "skipped", why);
                /* every intrusive action is reported (lib/intrusive.h): refused, and why */
                sink_intrusive(sink, "perf profile", p.s.n ? p.s.v[0].pid : 0, "refused", why);
                perf_set_free(&p.s);
                return;
        }
        const char *how = conf_str(c, "profiler");
        bool use_perf = streq(how, "perf") || (!streq(how, "native") && perf_works());
        sink_log(sink, "perf: profiling pids %s with %s", p.pids, use_perf ? "the perf binary" : "perf_event_open (native)");
        if (use_perf)
                profile_with_perf(c, sink, &p);
        else
                profile_native(c, sink, &p);
        /* Sampling sends no signal and writes nothing into the target: the post-check
         * is that each target is still the same process (it may exit on its own). */
        _cleanup_free_ char *changed = post_check_targets(&p.s);
        for (size_t i = 0; i < p.s.n; i++) {
                _cleanup_free_ char *action = xasprintf("%s of %s", use_perf ? "perf record -g" : "perf_event_open sampling",
                                                        p.s.v[i].subject);
                sink_intrusive(sink, action, p.s.v[i].pid, "done",
                               changed ? changed
                                       : "pre-check: perf_event_paranoid allows it and the target is the component; "
                                         "post-check: still the same process, the profile ended within its deadline");
        }
        perf_set_free(&p.s);
        free(p.pids);
}
