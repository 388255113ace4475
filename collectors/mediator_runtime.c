/* mediator: what the running mediator shows (COMPONENTS.md §4): its admin socket, the
 * QEMU data sockets, its log and, with --allow-intrusive, cuda_sanity. check() and
 * the bundle both run these; with a sink they add their evidence to it. */
#include "config.h"
#include "collectors/mediator_private.h"
#include "collectors/sink.h"
#include "lib/gpuprobe.h"
#include "lib/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

/* ---- admin socket ---- */

void mx_check_admin(struct mx *m, struct findings *fs, struct bundle_sink *sink)
{
        const char *sock = conf_str(m->c, "admin_socket");
        struct stat st;
        if (rootfs_stat(sock, &st, false) < 0) {
                bool p3 = m->phase3;
                struct finding *f = fnd_add(fs, p3 ? SEV_WARN : SEV_SKIPPED, "mediator.admin", "no admin socket %s%s",
                                            sock, p3 ? " while mediator_phase3 runs" : "");
                if (p3)
                        fnd_remedy(f, "restart the mediator: it creates %s at start", sock);
                return;
        }
        uint64_t t = ctx_budget_ms(m->c, mx_conf_ms(m->c, "admin_timeout", 2000), 1000);
        size_t cap = (size_t)mx_conf_bytes(m->c, "admin_reply_max", 1u << 20);
        uint32_t status = 0;
        _cleanup_free_ char *text = NULL, *err = NULL;
        int r = t ? mx_admin_ask(sock, conf_str(m->c, "service_user"), MX_CMD_SHOW_HEALTH, t, cap, &status, &text, &err)
                  : -ETIMEDOUT;
        struct finding *f;
        if (r < 0) {
                f = fnd_add(fs, SEV_WARN, "mediator.admin", "SHOW_HEALTH: %s",
                            err ? err : "no time left in the collector's deadline");
                fnd_remedy(f, "vgpu-admin show-health; restart the mediator if it does not answer");
        } else {
                size_t l = strcspn(text, "\n");
                bool bad = status != 0 || mx_health_bad(text);
                f = fnd_add(fs, bad ? SEV_CRIT : SEV_OK, "mediator.admin", "SHOW_HEALTH: status %u: %.*s", status,
                            (int)(l > 160 ? 160 : l), text);
                if (bad)
                        fnd_remedy(f, "vgpu-admin show-health; the mediator's log %s", conf_str(m->c, "log"));
        }
        fnd_evidence(f, "%s", sock);
        if (sink) {
                if (text)
                        sink_text(sink, "admin-health.txt", "socket", sock, text, strlen(text));
                else
                        sink_missing(sink, "admin-health.txt", "socket", sock, "error", err ? err : "no time");
                _cleanup_free_ char *mt = NULL, *merr = NULL;
                uint32_t ms;
                t = ctx_budget_ms(m->c, mx_conf_ms(m->c, "admin_timeout", 2000), 1000);
                if (r == 0 && t && mx_admin_ask(sock, conf_str(m->c, "service_user"), MX_CMD_SHOW_METRICS, t, cap, &ms,
                                                &mt, &merr) == 0)
                        sink_text(sink, "admin-metrics.txt", "socket", sock, mt, strlen(mt));
                else
                        sink_missing(sink, "admin-metrics.txt", "socket", sock, "error", merr ? merr : "not asked");
        }
}

/* ---- QEMU data sockets ---- */

/* The -chroot DIR (or -run-with chroot=DIR) of a NUL-separated cmdline. */
static char *qemu_chroot(const char *cmd, size_t len)
{
        const char *prev = NULL;
        for (size_t i = 0; i < len;) {
                const char *a = cmd + i;
                size_t n = strnlen(a, len - i);
                if (prev && (streq(prev, "-chroot") || streq(prev, "--chroot")))
                        return xstrndup(a, n);
                if (prev && streq(prev, "-run-with")) {
                        const char *c = strstr(a, "chroot=");
                        if (c && (c == a || c[-1] == ','))
                                return xstrndup(c + 7, strcspn(c + 7, ","));
                }
                prev = a;
                i += n + 1;
        }
        return NULL;
}

void mx_check_data_sockets(struct mx *m, struct findings *fs, struct strbuf *listing)
{
        size_t seen = 0, missing = 0;
        for (size_t i = 0; i < m->pt.n && seen < 256; i++) {
                const struct proc *p = &m->pt.v[i];
                if (p->kthread || strncmp(p->comm, "qemu", 4))
                        continue;
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
                _cleanup_free_ char *cmd = NULL, *root = NULL;
                long n = rootfs_read(path, 256u << 10, &cmd, NULL);
                if (n <= 0 || !(root = qemu_chroot(cmd, (size_t)n)) || root[0] != '/')
                        continue;
                seen++;
                char sp[PATHSZ];
                snprintf(sp, sizeof(sp), "%s/tmp/vgpu-mediator.sock", strcmp(root, "/") ? root : "");
                struct stat st;
                bool ok = rootfs_stat(sp, &st, false) == 0 && S_ISSOCK(st.st_mode);
                if (listing)
                        sb_printf(listing, "pid %d %s: %s %s\n", p->pid, p->comm, sp, ok ? "present" : "MISSING");
                if (!ok) {
                        missing++;
                        struct finding *f = fnd_add(fs, SEV_INFO, "mediator.data_sockets",
                                                    "QEMU pid %d has no mediator data socket %s", p->pid, sp);
                        fnd_subject(f, "pid %d", p->pid);
                        fnd_remedy(f, "restart the mediator (it creates the socket in each QEMU chroot at start)");
                }
        }
        if (!seen)
                fnd_add(fs, SEV_SKIPPED, "mediator.data_sockets", "no QEMU process with -chroot");
        else if (!missing)
                fnd_add(fs, SEV_OK, "mediator.data_sockets", "%zu QEMU chroot(s) have the mediator's data socket", seen);
}

/* ---- log ---- */

/* The last `tail` bytes of the log (plain pread of a regular file). The log sits in
 * /tmp, where anyone may leave a file or link of that name: it is opened under trust's
 * path rule (root or the service user owns it and every directory on the way; links
 * only when root made them), never by following what a user planted. */
static long log_tail(struct mx *m, const char *path, size_t tail, char **out, bool *cut, int *err, char **why)
{
        *out = NULL;
        _cleanup_close_ int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY);
        int fd = -1, inj = rootfs_injected_error(path); /* check --from: failed the same way */
        int r = inj ? -inj : rootfd < 0 ? rootfd : path[0] != '/' ? -EINVAL : trust_walk(&m->tr, rootfd, path, TRUST_FILE, &fd, why);
        if (r < 0) {
                if (rootfs_tracing())
                        rootfs_trace_failed(path, -r);
                *err = r;
                return r;
        }
        _cleanup_close_ int fdc = fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                *err = -errno;
                return *err;
        }
        off_t off = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
        *cut = off > 0;
        char *buf = xmalloc(tail + 1);
        size_t got = 0;
        while (got < tail) {
                ssize_t k = pread(fd, buf + got, tail - got, off + (off_t)got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t)k;
        }
        buf[got] = 0;
        if (*cut) {
                /* Start at a whole line: the window is the same when a bundle's copy is read again. */
                char *nl = memchr(buf, '\n', got);
                size_t drop = nl ? (size_t)(nl - buf) + 1 : got;
                memmove(buf, buf + drop, got - drop + 1);
                got -= drop;
        }
        if (rootfs_tracing()) {
                /* A bundle: these bytes are what is stored (and what check --from reads). */
                rootfs_snapshot_put(path, buf, got);
                free(buf);
                return rootfs_read(path, tail, out, NULL);
        }
        *out = buf;
        return (long)got;
}

void mx_check_log(struct mx *m, struct findings *fs, struct bundle_sink *sink)
{
        const char *path = conf_str(m->c, "log");
        size_t tail = (size_t)mx_conf_bytes(m->c, "log_tail", 256u << 10);
        _cleanup_free_ char *text = NULL, *why = NULL;
        bool cut = false;
        int err = 0;
        long n = log_tail(m, path, tail, &text, &cut, &err, &why);
        if (n < 0) {
                const char *msg = why ? why : rootfs_strerror(err);
                struct finding *f = fnd_add(fs, err == -ENOENT ? SEV_SKIPPED : err == -EPERM ? SEV_WARN : SEV_UNKNOWN,
                                            "mediator.log", "%s%s%s", path,
                                            err == -EPERM ? " not read: trust's path rule refuses it" : ": ",
                                            err == -EPERM ? "" : rootfs_strerror(err));
                if (why)
                        fnd_actual(f, "%s", why);
                if (err == -EPERM)
                        fnd_remedy(f, "ls -l %s: the mediator (root) writes it; remove what someone else left there",
                                   path);
                if (sink)
                        sink_missing(sink, "log-tail.txt", "file", path, "error", msg);
                return;
        }
        if (sink)
                sink_text(sink, "log-tail.txt", "file", path, text, (size_t)n);
        struct mx_logscan ls;
        mx_log_scan(text, (size_t)n, false, &ls);
        struct finding *f;
        if (ls.cuda) {
                f = fnd_add(fs, SEV_CRIT, "mediator.log", "%zu CUDA error line(s) in the last %zu lines of %s; last: %s",
                            ls.cuda, ls.lines, path, ls.last_cuda);
                fnd_remedy(f, "nvidia-smi -q | grep -i -e temp -e xid; dmesg | grep -i xid (guide error 8)");
        } else if (ls.errors) {
                f = fnd_add(fs, SEV_WARN, "mediator.log", "%zu [ERROR] line(s) in the last %zu lines of %s; last: %s",
                            ls.errors, ls.lines, path, ls.last_error);
                fnd_remedy(f, "tail -n 100 %s", path);
        } else {
                f = fnd_add(fs, SEV_OK, "mediator.log", "no [ERROR] or CUDA error in the last %zu lines of %s", ls.lines,
                            path);
        }
        if (ls.cuda && ls.errors)
                fnd_actual(f, "%zu [ERROR] lines; last: %s", ls.errors, ls.last_error);
        fnd_evidence(f, "%s (last %zu bytes)", path, tail);
}

/* ---- cuda_sanity (--allow-intrusive) ---- */

#define PROBE_RESERVE_MS 1500 /* of the collector's deadline, kept for the GPU probe */

/* Why cuda_sanity failed, as the GPU probe (lib/gpuprobe, the gpu collector's answer) tells. */
enum sanity_cause { CAUSE_USABLE, CAUSE_NO_GPU, CAUSE_NO_DRIVER, CAUSE_WEDGED, CAUSE_MISMATCH, CAUSE_DRIVER, CAUSE_UNKNOWN };
static const char *const cause_text[] = {
        [CAUSE_USABLE] = "the GPU answers NVML, so the test itself fails with a usable GPU",
        [CAUSE_NO_GPU] = "no GPU: the driver answers and reports none",
        [CAUSE_NO_DRIVER] = "no GPU: no NVIDIA driver answers here (no NVML, no nvidia-smi)",
        [CAUSE_WEDGED] = "the driver is wedged: the GPU probe did not answer in time, or the GPU fell off the bus",
        [CAUSE_MISMATCH] = "the NVIDIA kernel module and library versions differ",
        [CAUSE_DRIVER] = "the NVIDIA kernel driver is not loaded or not answering",
        [CAUSE_UNKNOWN] = "the GPU probe could not tell why",
};

static enum sanity_cause sanity_cause(struct mx *m, struct gpu_verdict *v, char **why)
{
        *v = (struct gpu_verdict){.status = GPU_ERROR};
        uint64_t want = 10000;
        const char *d = conf_str_of(m->c, "gpu", "deadline");
        if (d && parse_duration_ms(d, &want) < 0)
                want = 10000;
        uint64_t t = ctx_budget_ms(m->c, want, 1000);
        if (!t) {
                *why = xstrdup("no time left in the collector's deadline to ask the GPU");
                return CAUSE_UNKNOWN;
        }
        struct gpu_query_opts o = {.nvml_path = conf_str_of(m->c, "gpu", "nvml_path"),
                                   .smi = conf_str_of(m->c, "gpu", "nvidia_smi"), .timeout_ms = t};
        if (m->c->deadline_ms > 1500)
                o.stop_ms = m->c->deadline_ms - 1000;
        if (gpu_usable_status(&o, v, why))
                return CAUSE_USABLE;
        if (v->status == GPU_TIMEOUT && t < want) {
                char *w = xasprintf("%s (only %" PRIu64 " ms of [gpu] deadline %" PRIu64 " ms were left in the collector's "
                                    "deadline: raise [mediator] timeout)", *why ? *why : "timeout", t, want);
                free(*why);
                *why = w;
        }
        if (v->status == GPU_TIMEOUT || (v->status == GPU_OK && v->ndev && v->lost == v->ndev))
                return CAUSE_WEDGED;
        switch (v->status) {
        case GPU_ABSENT: return CAUSE_NO_DRIVER;
        case GPU_NO_DEVICES: return CAUSE_NO_GPU;
        case GPU_OK: return CAUSE_NO_GPU; /* answered, no device */
        case GPU_MISMATCH: return CAUSE_MISMATCH;
        case GPU_DRIVER_FAILED: return CAUSE_DRIVER;
        default: return CAUSE_UNKNOWN;
        }
}

/* The guide's remedy for each cause (vgpu-mediator-errors.txt errors 5 and 8). */
static void sanity_remedy(struct finding *f, enum sanity_cause cause, const char *bin)
{
        static const char plan_b[] = "do not force CUDA in Dom0; Plan B: a GPU worker VM with passthrough, the mediator "
                                     "as orchestrator only (guide error 5)";
        switch (cause) {
        case CAUSE_USABLE:
                fnd_remedy(f, "ldd %s (a missing CUDA runtime library); compare the CUDA version nvidia-smi reports with "
                              "the toolkit %s was built with (\"CUDA driver version is insufficient\"); if it still "
                              "fails: %s", bin, bin, plan_b);
                break;
        case CAUSE_NO_GPU:
        case CAUSE_NO_DRIVER:
                fnd_remedy(f, "nvidia-smi; lspci -nn | grep -i nvidia: Dom0 sees no usable GPU (not installed, passed "
                              "through to a VM, or hidden by Xen's Dom0 restrictions); %s", plan_b);
                break;
        case CAUSE_WEDGED:
                fnd_remedy(f, "dmesg | grep -i -e xid -e 'fallen off'; nvidia-smi -q | grep -i temp; the host usually "
                              "needs a reboot (guide error 8); then run %s again", bin);
                break;
        case CAUSE_MISMATCH:
                fnd_remedy(f, "reboot (or reload the nvidia module) so the kernel module matches the library (Dom0 "
                              "kernel/driver mismatch, guide error 5); then run %s again", bin);
                break;
        case CAUSE_DRIVER:
                fnd_remedy(f, "modprobe nvidia; dmesg | grep -i nvrm; if Xen's Dom0 keeps the driver from the GPU: %s",
                           plan_b);
                break;
        default:
                fnd_remedy(f, "%s", plan_b);
        }
}

void mx_check_cuda_sanity(struct mx *m, struct findings *fs)
{
        const char *bin = conf_str(m->c, "cuda_sanity");
        if (!m->c->allow_intrusive) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "needs --allow-intrusive (runs %s on the GPU)", bin);
                return;
        }
        if (!rootfs_is_live()) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "not on the live system");
                return;
        }
        /* Pre-check: the binary passes trust's path rule (root-owned, not writable by
         * others, nor any directory on the way). */
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int bfd = -1;
        _cleanup_close_ int rootfd = rootfs_open("/", O_PATH | O_DIRECTORY);
        int r = bin[0] != '/' ? -EINVAL : rootfd < 0 ? rootfd : trust_walk(&m->tr, rootfd, bin, TRUST_FILE, &bfd, &why);
        if (r == -ENOENT) {
                fnd_add(fs, SEV_SKIPPED, "mediator.cuda_sanity", "%s not present", bin);
                return;
        }
        if (r < 0) {
                struct finding *f = fnd_add(fs, SEV_WARN, "mediator.cuda_sanity", "%s not run: %s", bin,
                                            why ? why : "not an absolute path");
                fnd_remedy(f, "chown root %s; chmod go-w %s", bin, bin);
                return;
        }
        /* Leave time for the GPU probe that explains a failure. */
        uint64_t t = ctx_budget_ms(m->c, mx_conf_ms(m->c, "cuda_sanity_timeout", 30000), 1500 + PROBE_RESERVE_MS);
        if (!t) {
                fnd_add(fs, SEV_UNKNOWN, "mediator.cuda_sanity", "no time left in the collector's deadline to run %s", bin);
                return;
        }
        const char *argv[] = {bin, NULL};
        struct cmd_result res = {0};
        (void)cmd_run(argv, t, 64 << 10, &res);
        /* Post-check: a run past its deadline was killed with its process group. */
        struct finding *f;
        char line[160];
        int ex = res.status >= 0 && WIFEXITED(res.status) ? WEXITSTATUS(res.status) : 255;
        enum mx_sanity s = res.timed_out ? MX_SANITY_FAILED : mx_sanity_parse(res.out, ex, line, sizeof(line));
        if (res.timed_out)
                snprintf(line, sizeof(line), "did not finish within %" PRIu64 " ms (killed)", t);
        if (s == MX_SANITY_OK) {
                f = fnd_add(fs, SEV_OK, "mediator.cuda_sanity", "%s: CUDA sanity OK", bin);
        } else if (s == MX_SANITY_UNCLEAR) {
                f = fnd_add(fs, SEV_UNKNOWN, "mediator.cuda_sanity", "%s: %s", bin, line);
                fnd_remedy(f, "do not force CUDA in Dom0; Plan B: a GPU worker VM with passthrough, the "
                              "mediator as orchestrator only (guide error 5)");
        } else {
                /* Failed or hung: only now is the GPU asked why (NVML or nvidia-smi, where
                 * [gpu] says, under a deadline), so a passing test costs nothing more. */
                _cleanup_free_ char *gwhy = NULL;
                struct gpu_verdict v;
                enum sanity_cause cause = sanity_cause(m, &v, &gwhy);
                f = fnd_add(fs, SEV_CRIT, "mediator.cuda_sanity", "%s: %s: %s", bin, line, cause_text[cause]);
                fnd_actual(f, "GPU probe (%" PRIu64 " ms): %s", v.duration_ms, gwhy ? gwhy : "not asked");
                sanity_remedy(f, cause, bin);
        }
        fnd_evidence(f, "%s (%" PRIu64 " ms)", bin, res.duration_ms);
        cmd_result_free(&res);
}
