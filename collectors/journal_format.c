/* journal collector: the pattern table and the pure parsers (collectors/journal.h). */
#include "config.h"
#include "collectors/journal.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <time.h>

#define K JS_KERNEL
#define C JS_COMPONENT
/* The one table. Each line: ID, severity, sources, regex on the message, what it is, remedy. */
const struct jpattern jpatterns[] = {
        {"journal.oom_kill", SEV_WARN, K, "(Out of memory|Memory cgroup out of memory): Killed process [0-9]+", "OOM kill", "Find what grew: journalctl -k | grep -i 'killed process'; give the service a memory limit it fits in (cerebellar-norse: [performance] memory_limit), add memory, or stop the process that grew"},
        {"journal.gpu_xid", SEV_WARN, K, "NVRM: Xid \\([^)]*\\): [0-9]+", "NVIDIA Xid error", "nvidia-smi -q; look the Xid up in NVIDIA's Xid catalogue. Application Xids (13, 31, 43, 45): fix or restart the application. Hardware Xids (48, 62, 64, 79, 95, 119): drain the node, nvidia-smi -r or reboot, run nvidia-bug-report.sh"},
        {"journal.gpu_off_bus", SEV_CRIT, K, "GPU has fallen off the bus", "GPU fallen off the bus", "The GPU is gone from PCIe: check power, cooling and seating, reboot, run nvidia-bug-report.sh and replace the board if it recurs"},
        {"journal.segfault", SEV_WARN, K, "\\[[0-9]+\\]: segfault at |traps: [^ ]+\\[[0-9]+\\] (trap|general protection)", "crash (segfault/trap)", "coredumpctl info BINARY (evodiag bundle collects the core); run the binary under gdb or with its debug symbols"},
        {"journal.hung_task", SEV_WARN, K, "blocked for more than [0-9]+ seconds", "hung task", "cat /proc/PID/stack of the task; a hung task waits on storage or NFS: check dmesg around it and the device or server it waits on"},
        {"journal.rt_throttling", SEV_WARN, K, "sched: RT throttling activated", "RT throttling", "An RT task used its whole budget: evodiag check --only rt; find the busy-looping RT task; sysctl kernel.sched_rt_runtime_us"},
        {"journal.nfs_not_responding", SEV_WARN, K, "nfs: server .* not responding", "NFS server not responding", "Check the NFS server and the network to it: rpcinfo -p SERVER, ping SERVER; processes using the mount hang until it answers"},
        {"journal.hw_error", SEV_WARN, K, "mce: \\[Hardware Error\\]|Machine check events logged|EDAC [^ ]*: [0-9]+ CE ", "hardware error (MCE/EDAC)", "ras-mc-ctl --summary or edac-util -v; replace the DIMM or CPU named if corrected errors keep coming"},
        {"journal.hw_error_uncorrected", SEV_CRIT, K, "EDAC [^ ]*: [0-9]+ UE |[Uu]ncorrected (hardware )?(memory )?error", "uncorrected hardware error", "Uncorrected memory or CPU errors corrupt data: drain the node, ras-mc-ctl --errors, replace the part named"},
        {"journal.cuda_error", SEV_WARN, JS_SNN, "CUDA_ERROR_[A-Z_]+|OutOfMemory|CUDA out of memory", "CUDA error", "nvidia-smi (memory in use, other processes); CUDA_ERROR_OUT_OF_MEMORY: lower the batch or network size or memory_limit; launch failures: rebuild with the matching CUDA (guides: cerebellar-norse.md)"},
        {"journal.lavinmq_exception", SEV_WARN, JS_LAVINMQ, "Unhandled exception", "LavinMQ unhandled exception", "journalctl -u lavinmq | grep -A 50 'Unhandled exception'; report it upstream with the bundle (guides: lavinmq.md)"},
        {"journal.lavinmq_disk_full", SEV_CRIT, JS_LAVINMQ, "No space left on device", "LavinMQ disk full", "Free space in LavinMQ's data_dir: df -h /var/lib/lavinmq; purge or shorten queues, raise the disk; LavinMQ stops accepting messages until it has space"},
        {"journal.framealloc", SEV_WARN, C, "\\[framealloc\\]\\[FA[0-9]+\\]", "framealloc diagnostic", "cargo fa explain FAxxx (the code in the line); fix the allocation site it names (guides: framealloc.md)"},
};
#undef K
#undef C
const size_t jpatterns_n = ARRAY_SIZE(jpatterns);

static regex_t compiled[ARRAY_SIZE(jpatterns)];
static bool have_compiled[ARRAY_SIZE(jpatterns)];

int jpattern_next(const char *msg, unsigned scope, size_t from)
{
        for (size_t i = from; i < jpatterns_n; i++) {
                if (!(jpatterns[i].scope & scope))
                        continue;
                if (!have_compiled[i]) {
                        if (regcomp(&compiled[i], jpatterns[i].regex, REG_EXTENDED | REG_NOSUB) != 0)
                                abort(); /* a bad regex in the table: a programming error (unit-tested) */
                        have_compiled[i] = true;
                }
                if (regexec(&compiled[i], msg, 0, NULL, 0) == 0)
                        return (int)i;
        }
        return -1;
}

void jcopy(char *dst, size_t size, const char *s, size_t len)
{
        if (!size)
                return;
        size_t n = len < size - 1 ? len : size - 1;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        }
        dst[n] = 0;
}

/* The number after "key" (digits), or -EINVAL. */
static int num_after(const char *s, const char *key, uint64_t *out)
{
        const char *p = strstr(s, key);
        if (!p)
                return -EINVAL;
        p += strlen(key);
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 19)
                return -EINVAL;
        return parse_digits_u64(p, n, 10, 19, out);
}

int jparse_oom(const char *msg, uint64_t *pid, char *name, size_t namesz, uint64_t *rss_bytes)
{
        if (num_after(msg, "Killed process ", pid) < 0)
                return -EINVAL;
        const char *p = strstr(msg, "Killed process ");
        p += strlen("Killed process ");
        p += strspn(p, "0123456789");
        if (p[0] != ' ' || p[1] != '(')
                return -EINVAL;
        p += 2;
        /* The kernel prints "(%s) total-vm:": a name may hold ") " itself. */
        const char *e = strstr(p, ") total-vm:");
        if (!e) {
                e = strrchr(p, ')');
                if (!e)
                        return -EINVAL;
        }
        jcopy(name, namesz, p, (size_t)(e - p));
        uint64_t anon = 0, file = 0, shmem = 0;
        bool any = num_after(e, "anon-rss:", &anon) == 0;
        any |= num_after(e, "file-rss:", &file) == 0;
        any |= num_after(e, "shmem-rss:", &shmem) == 0;
        *rss_bytes = any && anon < UINT64_MAX / 4096 && file < UINT64_MAX / 4096 && shmem < UINT64_MAX / 4096
                             ? (anon + file + shmem) * 1024
                             : 0;
        return 0;
}

int jparse_xid(const char *msg, unsigned *xid, char *pci, size_t pcisz)
{
        const char *p = strstr(msg, "NVRM: Xid (");
        if (!p)
                return -EINVAL;
        p += strlen("NVRM: Xid (");
        const char *e = strchr(p, ')');
        if (!e || e[1] != ':' || e[2] != ' ')
                return -EINVAL;
        jcopy(pci, pcisz, p, (size_t)(e - p));
        const char *d = e + 3;
        size_t n = strspn(d, "0123456789");
        uint64_t v;
        if (n == 0 || n > 6 || parse_digits_u64(d, n, 10, 6, &v) < 0)
                return -EINVAL;
        *xid = (unsigned)v;
        return 0;
}

const char *jxid_meaning(unsigned xid, enum severity *sev)
{
        static const struct {
                unsigned xid;
                enum severity sev;
                const char *what;
        } t[] = {
                {13, SEV_WARN, "graphics engine exception: the application hit an illegal instruction or address"},
                {31, SEV_WARN, "GPU memory page fault: the application accessed an illegal address"},
                {43, SEV_WARN, "GPU stopped processing: the application hit a software fault, its channel was reset"},
                {45, SEV_WARN, "preemptive cleanup after earlier errors: a process on the GPU was killed or ended"},
                {48, SEV_CRIT, "double-bit ECC error: uncorrectable GPU memory error, reset the GPU"},
                {61, SEV_WARN, "internal micro-controller breakpoint/warning (PMU): driver or firmware problem"},
                {62, SEV_CRIT, "internal micro-controller halt: GPU firmware stopped, reset the GPU"},
                {63, SEV_WARN, "ECC page retirement or row remapping recorded: a memory page was retired"},
                {64, SEV_CRIT, "ECC page retirement or row remapping failed: memory errors not contained"},
                {74, SEV_WARN, "NVLink error: errors on the links between GPUs (bridge, cable or board)"},
                {79, SEV_CRIT, "GPU has fallen off the bus: unreachable on PCIe (power, thermal, seating, hardware)"},
                {92, SEV_WARN, "high single-bit ECC error rate: GPU memory degrading"},
                {94, SEV_WARN, "contained ECC error: the affected application must restart"},
                {95, SEV_CRIT, "uncontained ECC error: every application on the GPU is affected, reset the GPU"},
                {119, SEV_CRIT, "GSP RPC timeout: the GPU System Processor stopped answering, reset the GPU or update the driver"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++)
                if (t[i].xid == xid) {
                        if (sev)
                                *sev = t[i].sev;
                        return t[i].what;
                }
        if (sev)
                *sev = SEV_WARN;
        return NULL;
}

/* "name[123]" ending at *end (the '[' at b): name is the run of non-blank characters before b. */
static int name_pid(const char *start, const char *b, char *prog, size_t progsz, uint64_t *pid)
{
        const char *n = b;
        while (n > start && n[-1] != ' ')
                n--;
        if (n == b)
                return -EINVAL;
        const char *d = b + 1;
        size_t k = strspn(d, "0123456789");
        if (k == 0 || k > 10 || d[k] != ']' || parse_digits_u64(d, k, 10, 10, pid) < 0)
                return -EINVAL;
        jcopy(prog, progsz, n, (size_t)(b - n));
        return 0;
}

int jparse_fault(const char *msg, char *prog, size_t progsz, uint64_t *pid)
{
        const char *p = strstr(msg, "]: segfault at ");
        if (p) {
                const char *b = p;
                while (b > msg && *b != '[')
                        b--;
                return *b == '[' ? name_pid(msg, b, prog, progsz, pid) : -EINVAL;
        }
        p = strstr(msg, "traps: ");
        if (!p)
                return -EINVAL;
        p += strlen("traps: ");
        const char *b = strchr(p, '[');
        const char *sp = strchr(p, ' ');
        if (!b || (sp && sp < b))
                return -EINVAL;
        return name_pid(p, b, prog, progsz, pid);
}

int jparse_hung(const char *msg, char *task, size_t tasksz, uint64_t *pid, uint64_t *secs)
{
        const char *p = strstr(msg, "task ");
        const char *e = strstr(msg, " blocked for more than ");
        if (!p || !e || e < p)
                return -EINVAL;
        p += 5;
        /* "name:pid": the name may hold ':' (kworker/3:1), the pid is after the last one. */
        const char *c = e;
        while (c > p && c[-1] != ':')
                c--;
        if (c <= p + 1)
                return -EINVAL;
        size_t k = (size_t)(e - c);
        if (k == 0 || k > 10 || strspn(c, "0123456789") != k || parse_digits_u64(c, k, 10, 10, pid) < 0)
                return -EINVAL;
        jcopy(task, tasksz, p, (size_t)(c - 1 - p));
        if (num_after(e, " blocked for more than ", secs) < 0)
                return -EINVAL;
        return 0;
}

static bool word_at(const char *line, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = strstr(line, w); p; p = strstr(p + 1, w)) {
                bool left = p == line || !((p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= 'a' && p[-1] <= 'z') || p[-1] == '_');
                char r = p[n];
                bool right = !((r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r == '_');
                if (left && right)
                        return true;
        }
        return false;
}

bool jline_is_error(const char *line)
{
        return word_at(line, "ERROR") || word_at(line, "CRITICAL") || word_at(line, "FATAL") ||
               strstr(line, "\"level\":\"error\"") || strstr(line, "\"level\": \"ERROR\"");
}

static void fmt_rss(char *buf, size_t n, uint64_t b)
{
        char t[32];
        snprintf(buf, n, "RSS %s", fmt_bytes(b, t));
}

static bool is_component(const char *name, const char *components)
{
        if (!name[0] || !components)
                return false;
        size_t nl = strlen(name);
        const char *p = components;
        while (*p) {
                while (*p == ' ' || *p == ',')
                        p++;
                size_t k = strcspn(p, ",");
                size_t w = k;
                while (w && p[w - 1] == ' ')
                        w--;
                /* Exact, or the kernel's 15-character comm cut of a longer name. */
                if (w && ((w == nl && !strncmp(p, name, nl)) || (nl == 15 && w > 15 && !strncmp(p, name, 15))))
                        return true;
                p += k;
        }
        return false;
}

void jpattern_hit(const struct jpattern *p, const char *msg, const char *components, struct jhit *h)
{
        *h = (struct jhit){.sev = p->sev};
        uint64_t pid = 0, n = 0;
        if (streq(p->id, "journal.oom_kill")) {
                char name[64], rss[48];
                if (jparse_oom(msg, &pid, name, sizeof(name), &n) == 0) {
                        snprintf(h->subject, sizeof(h->subject), "%s", name);
                        fmt_rss(rss, sizeof(rss), n);
                        snprintf(h->detail, sizeof(h->detail), "victim %s, pid %" PRIu64 ", %s", name, pid, n ? rss : "RSS unknown");
                        if (is_component(name, components)) {
                                h->sev = SEV_CRIT;
                                snprintf(h->detail + strlen(h->detail), sizeof(h->detail) - strlen(h->detail), " (a component)");
                        }
                }
        } else if (streq(p->id, "journal.gpu_xid")) {
                unsigned x;
                char pci[48];
                if (jparse_xid(msg, &x, pci, sizeof(pci)) == 0) {
                        const char *m = jxid_meaning(x, &h->sev);
                        snprintf(h->subject, sizeof(h->subject), "Xid %u", x);
                        snprintf(h->detail, sizeof(h->detail), "Xid %u on %s: %s", x, pci, m ? m : "not one of the common Xids: see NVIDIA's Xid catalogue");
                }
        } else if (streq(p->id, "journal.segfault")) {
                char prog[64];
                if (jparse_fault(msg, prog, sizeof(prog), &pid) == 0) {
                        snprintf(h->subject, sizeof(h->subject), "%s", prog);
                        snprintf(h->detail, sizeof(h->detail), "%s (pid %" PRIu64 ") crashed", prog, pid);
                }
        } else if (streq(p->id, "journal.hung_task")) {
                char task[64];
                if (jparse_hung(msg, task, sizeof(task), &pid, &n) == 0) {
                        snprintf(h->subject, sizeof(h->subject), "%s", task);
                        snprintf(h->detail, sizeof(h->detail), "task %s (pid %" PRIu64 ") blocked for more than %" PRIu64 " s", task, pid, n);
                }
        } else if (streq(p->id, "journal.framealloc")) {
                const char *c = strstr(msg, "][FA");
                if (c) {
                        size_t k = strspn(c + 4, "0123456789");
                        snprintf(h->subject, sizeof(h->subject), "FA%.*s", (int)(k > 6 ? 6 : k), c + 4);
                }
        } else if (streq(p->id, "journal.nfs_not_responding")) {
                const char *s = strstr(msg, "nfs: server ");
                if (s) {
                        s += strlen("nfs: server ");
                        jcopy(h->subject, sizeof(h->subject), s, strcspn(s, " "));
                }
        }
}

int jparse_kmsg(const char *rec, size_t len, uint64_t boot_us, struct jentry *e)
{
        const char *semi = memchr(rec, ';', len);
        if (!semi)
                return -EINVAL;
        char head[128];
        size_t hl = (size_t)(semi - rec);
        if (hl >= sizeof(head))
                return -EINVAL;
        memcpy(head, rec, hl);
        head[hl] = 0;
        char *save = NULL, *f[3];
        f[0] = strtok_r(head, ",", &save);
        f[1] = f[0] ? strtok_r(NULL, ",", &save) : NULL;
        f[2] = f[1] ? strtok_r(NULL, ",", &save) : NULL;
        uint64_t pri, seq, ts;
        if (!f[2] || parse_u64(f[0], &pri) < 0 || parse_u64(f[1], &seq) < 0 || parse_u64(f[2], &ts) < 0)
                return -EINVAL;
        *e = (struct jentry){.prio = (int)(pri & 7), .kernel = true, .t_us = boot_us + ts};
        const char *m = semi + 1, *end = rec + len;
        const char *nl = memchr(m, '\n', (size_t)(end - m));
        jcopy(e->msg, sizeof(e->msg), m, (size_t)((nl ? nl : end) - m));
        snprintf(e->cursor, sizeof(e->cursor), "kmsg:%" PRIu64, seq);
        snprintf(e->src, sizeof(e->src), "kmsg");
        snprintf(e->ident, sizeof(e->ident), "kernel");
        return 0;
}

json_object *jentry_to_json(const struct jentry *e)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "t", json_object_new_int64((int64_t)(e->t_us > INT64_MAX ? INT64_MAX : e->t_us)));
        json_object_object_add(o, "src", json_object_new_string(e->src));
        json_object_object_add(o, "cursor", json_object_new_string(e->cursor));
        if (e->unit[0])
                json_object_object_add(o, "unit", json_object_new_string(e->unit));
        if (e->ident[0])
                json_object_object_add(o, "ident", json_object_new_string(e->ident));
        if (e->pid)
                json_object_object_add(o, "pid", json_object_new_int64((int64_t)(e->pid > INT64_MAX ? INT64_MAX : e->pid)));
        json_object_object_add(o, "prio", json_object_new_int(e->prio));
        if (e->kernel)
                json_object_object_add(o, "kernel", json_object_new_boolean(1));
        json_object_object_add(o, "msg", json_object_new_string(e->msg));
        return o;
}

static void get_str(json_object *o, const char *k, char *dst, size_t size)
{
        json_object *v;
        dst[0] = 0;
        if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
                jcopy(dst, size, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

int jentry_from_json(json_object *o, struct jentry *e)
{
        json_object *v;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "msg", &v) ||
            !json_object_is_type(v, json_type_string))
                return -EINVAL;
        *e = (struct jentry){.prio = -1};
        get_str(o, "msg", e->msg, sizeof(e->msg));
        get_str(o, "src", e->src, sizeof(e->src));
        get_str(o, "cursor", e->cursor, sizeof(e->cursor));
        get_str(o, "unit", e->unit, sizeof(e->unit));
        get_str(o, "ident", e->ident, sizeof(e->ident));
        if (json_object_object_get_ex(o, "t", &v) && json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
                e->t_us = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(o, "pid", &v) && json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
                e->pid = (uint64_t)json_object_get_int64(v);
        if (json_object_object_get_ex(o, "prio", &v) && json_object_is_type(v, json_type_int)) {
                int64_t p = json_object_get_int64(v);
                e->prio = p >= 0 && p <= 7 ? (int)p : -1;
        }
        e->kernel = json_object_object_get_ex(o, "kernel", &v) && json_object_is_type(v, json_type_boolean) &&
                    json_object_get_boolean(v);
        return 0;
}

void jentry_short_iso(struct strbuf *b, const struct jentry *e)
{
        char ts[40] = "-";
        if (e->t_us) {
                time_t t = (time_t)(e->t_us / 1000000);
                struct tm tm;
                if (gmtime_r(&t, &tm))
                        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+0000", &tm);
        }
        sb_printf(b, "%s %s", ts, e->ident[0] ? e->ident : e->kernel ? "kernel" : "-");
        if (e->pid)
                sb_printf(b, "[%" PRIu64 "]", e->pid);
        sb_puts(b, ": ");
        for (const char *p = e->msg; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c == 0x7f)
                        sb_printf(b, "\\x%02x", c);
                else
                        sb_putc(b, (char)c);
        }
        sb_putc(b, '\n');
}
