/* coredump collector: every thread's symbolized backtrace from a core alone, the way
 * systemd-coredump and `eu-stack --core` make it (libdwfl: dwfl_core_file_report ->
 * dwfl_report_end -> dwfl_core_file_attach -> dwfl_getthreads -> dwfl_thread_getframes),
 * and the decompression of .zst/.lz4/.xz cores (libarchive's raw reader).
 *
 * A core is whatever the crashed process had in memory, and the paths of its modules
 * are what that process mapped: both are hostile input. So decompression and parse
 * each run in a forked child that is sandboxed before it touches them: no core of its
 * own (RLIMIT_CORE 0), every fd closed but the ones it needs, uid and gid nobody when
 * evodiag runs as root, not dumpable, no new privileges, a user namespace of its own
 * where the kernel allows one (no capability left on the host: it reads only what any
 * user could),
 * a file size limit (decompression) or an address-space limit (parse, not under
 * AddressSanitizer, which reserves terabytes), and a deadline after which the parent
 * kills it. Its answer is JSON read back with every cap enforced again
 * (cd_bt_from_json). Module files are opened through lib/rootfs (--root; only regular
 * files: a FIFO named by the core never blocks the parse). */
#include "config.h"
#include "collectors/coredump.h"
#include "lib/child.h"
#include "lib/rootfs.h"

#include <archive.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <grp.h>

#define CD_JSON_READ_MAX (2u * CD_TEXT_MAX + (256u << 10))

/* ---- the sandbox ---- */

#define NOBODY 65534
/* How the decompression child ends (its exit status). */
enum { DX_OK = 0, DX_BIG = 10, DX_BAD, DX_IO, DX_SANDBOX };

static void sandbox(int keep_a, int keep_b)
{
        struct rlimit zero = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &zero);
        rootfs_close_fds_except(keep_a, keep_b);
        /* As root: become nobody first (as systemd-coredump drops to its own user before
         * it analyses a core), so root's own 0600 files are not readable by owner right
         * either: a module path in a hostile core may name any file. The fds it needs are
         * open already. */
        if (geteuid() == 0) {
                (void)setgroups(0, NULL);
                if (setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
                        _exit(DX_SANDBOX);
        }
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* after the uid change, which resets it */
        /* Best effort: not every kernel or container allows one (EPERM, EINVAL, ENOSPC). */
        (void)unshare(CLONE_NEWUSER);
        (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ---- decompression ---- */

int cd_decompress(int in, int out, uint64_t max, char **err)
{
        struct archive *a = archive_read_new();
        if (!a) {
                *err = xstrdup("libarchive: out of memory");
                return -ENOMEM;
        }
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_lz4(a);
        archive_read_support_filter_xz(a);
        archive_read_support_format_raw(a);
        int r = -EIO;
        struct archive_entry *e;
        if (archive_read_open_fd(a, in, 64 << 10) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
                *err = xasprintf("not zstd, lz4 or xz data: %s", archive_error_string(a) ? archive_error_string(a) : "?");
                r = -EINVAL;
                goto out;
        }
        if (archive_filter_count(a) < 2) { /* only the "none" filter: plain data under a compressed name */
                *err = xstrdup("not zstd, lz4 or xz data");
                r = -EINVAL;
                goto out;
        }
        uint64_t total = 0;
        char buf[64 << 10];
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
                if (n == 0)
                        break;
                if (n < 0) {
                        *err = xasprintf("decompressing: %s", archive_error_string(a) ? archive_error_string(a) : "?");
                        r = -EIO;
                        goto out;
                }
                if ((uint64_t)n > max - total) {
                        *err = xasprintf("expands past the %" PRIu64 "-byte cap", max);
                        r = -EFBIG;
                        goto out;
                }
                total += (uint64_t)n;
                int w = write_all(out, buf, (size_t)n);
                if (w < 0) {
                        *err = xasprintf("writing the temp file: %s", strerror(-w));
                        r = w == -EFBIG ? -EFBIG : -EIO;
                        goto out;
                }
        }
        r = 0;
out:
        archive_read_free(a);
        return r;
}

struct decomp_arg {
        int in, out;
        uint64_t max;
};

static void decomp_child(void *arg, int wfd)
{
        struct decomp_arg *d = arg;
        close(wfd);
        sandbox(d->in, d->out);
        signal(SIGXFSZ, SIG_IGN); /* a write past RLIMIT_FSIZE fails with EFBIG instead */
        struct rlimit fs = {d->max + 1, d->max + 1};
        (void)setrlimit(RLIMIT_FSIZE, &fs);
        char *err = NULL;
        int r = cd_decompress(d->in, d->out, d->max, &err);
        _exit(r == 0 ? DX_OK : r == -EFBIG ? DX_BIG : r == -EINVAL ? DX_BAD : DX_IO);
}

/* A private temp file: unnamed (O_TMPFILE), else created 0600 and unlinked at once. */
static int private_tmp(const char *dir)
{
        int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
                return fd;
        _cleanup_free_ char *tmpl = xasprintf("%s/evodiag-core-XXXXXX", dir);
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void)unlink(tmpl);
        return fd;
}

/* Waits for a child's answer on c->fd until deadline (monotonic ms), at most max bytes.
 * Returns 0, -ETIMEDOUT, or -EFBIG (the child said too much); reaps the child. */
static int child_answer(struct child *c, uint64_t deadline, size_t max, struct strbuf *out, int *status)
{
        int r = 0;
        sb_puts(out, "");
        for (;;) {
                uint64_t now = now_ms_monotonic();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
                int pr = poll(&pfd, 1, (int)(deadline - now));
                if (pr < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (pr <= 0)
                        continue;
                char buf[16384];
                ssize_t n = read(c->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if ((size_t)n > max - out->len) {
                        r = -EFBIG;
                        break;
                }
                sb_putn(out, buf, (size_t)n);
        }
        close(c->fd);
        bool abandoned = false;
        *status = child_reap(c->pid, r < 0, &abandoned);
        return r;
}

static int decompress_sandboxed(int in, int out, uint64_t max, uint64_t deadline, char **err)
{
        struct decomp_arg d = {.in = in, .out = out, .max = max};
        struct child c;
        int r = child_start(&c, "coredump.decompress", decomp_child, &d);
        if (r < 0) {
                *err = xasprintf("cannot start the decompression child: %s", strerror(-r));
                return r;
        }
        struct strbuf junk = {0};
        int status = 0;
        r = child_answer(&c, deadline, 16, &junk, &status);
        sb_free(&junk);
        if (r == -ETIMEDOUT) {
                *err = xstrdup("decompression did not finish in time: killed");
                return r;
        }
        if (WIFEXITED(status)) {
                switch (WEXITSTATUS(status)) {
                case DX_OK:
                        return 0;
                case DX_BIG: {
                        char b[32];
                        *err = xasprintf("expands past the %s cap (max_core_size, or half the temp file system's free "
                                         "space): not decompressed", fmt_bytes(max, b));
                        return -EFBIG;
                }
                case DX_BAD:
                        *err = xstrdup("not zstd, lz4 or xz data (as its name says)");
                        return -EINVAL;
                case DX_SANDBOX:
                        *err = xstrdup("the decompression child could not drop its privileges: not run");
                        return -EPERM;
                default:
                        *err = xstrdup("corrupt compressed data, or the temp file could not be written");
                        return -EIO;
                }
        }
        _cleanup_free_ char *why = child_status_error(status);
        *err = xasprintf("the decompression child %s", why ? why : "failed");
        return -EIO;
}

/* ---- the parse ---- */

static bool parse_live;

static char *cut_name(const char *s)
{
        return s ? xstrndup(s, strnlen(s, CD_NAME_MAX)) : NULL;
}

/* libdwfl's last error, or NULL when it has none to say. */
static char *dwfl_why(void)
{
        int e = dwfl_errno();
        const char *m = e ? dwfl_errmsg(e) : NULL;
        return m && !streq(m, "no error") ? cut_name(m) : NULL;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, char **file_name, Elf **elfp)
{
        if (modname && modname[0] == '/') {
                int fd = rootfs_open_file(modname, 0);
                if (fd >= 0) {
                        *file_name = strdup(modname);
                        return fd;
                }
                /* Removed or replaced: on the live host the build-id may still find it
                 * (/usr/lib/debug/.build-id). A FIFO or device is never opened. */
                if (fd != -ENOENT || !parse_live)
                        return -1;
        }
        if (!parse_live)
                return -1;
        return dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                          char **debuginfo_file_name)
{
        if (!parse_live)
                return -1; /* a bundle or --root: the host's debuginfo is not ours to look up */
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
                                            debuginfo_file_name);
}

static const char *dwfl_msg(void)
{
        int e = dwfl_errno();
        const char *m = e ? dwfl_errmsg(e) : NULL;
        return m ? m : "nothing usable found (truncated core?)";
}

struct parse_state {
        Dwfl *dwfl;
        struct cd_bt *bt;
        size_t text;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
        struct parse_state *ps = arg;
        struct cd_thread *t = &ps->bt->threads[ps->bt->nthreads - 1];
        if (t->nframes >= CD_FRAMES_MAX) {
                t->frames_cut = true;
                return DWARF_CB_ABORT;
        }
        if (ps->text > CD_TEXT_MAX) {
                t->frames_cut = ps->bt->text_cut = true;
                return DWARF_CB_ABORT;
        }
        Dwarf_Addr pc;
        bool activation = false;
        if (!dwfl_frame_pc(state, &pc, &activation))
                return DWARF_CB_ABORT;
        Dwarf_Addr lookup = activation ? pc : pc - 1; /* a return address points past the call */
        struct cd_frame *f = &t->frames[t->nframes++];
        f->pc = pc;
        Dwfl_Module *mod = dwfl_addrmodule(ps->dwfl, lookup);
        if (mod) {
                Dwarf_Addr start = 0;
                const char *name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
                f->module = cut_name(name);
                f->offset = pc - start;
                f->func = cut_name(dwfl_module_addrname(mod, lookup));
                Dwfl_Line *l = dwfl_module_getsrc(mod, lookup);
                int line = 0;
                const char *file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
                if (file && line > 0) {
                        f->file = cut_name(file);
                        f->line = (unsigned)line;
                }
        }
        ps->text += 48 + (f->func ? strlen(f->func) : 0) + (f->module ? strlen(f->module) : 0) +
                    (f->file ? strlen(f->file) : 0);
        return DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
        struct parse_state *ps = arg;
        struct cd_bt *bt = ps->bt;
        bt->threads_total++;
        if (bt->nthreads >= CD_THREADS_MAX || ps->text > CD_TEXT_MAX) {
                if (ps->text > CD_TEXT_MAX)
                        bt->text_cut = true;
                return DWARF_CB_OK; /* counted, not unwound */
        }
        struct cd_thread *t = &bt->threads[bt->nthreads++];
        t->tid = (int)dwfl_thread_tid(thread);
        t->frames = xcalloc(CD_FRAMES_MAX, sizeof(*t->frames));
        int r = dwfl_thread_getframes(thread, frame_cb, ps);
        if (r != 0 && !t->frames_cut)
                t->error = dwfl_why();
        return DWARF_CB_OK;
}

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
        struct cd_bt *bt = arg;
        if (bt->nmodules >= CD_MODULES_MAX) {
                bt->modules_cut = true;
                return DWARF_CB_ABORT;
        }
        struct cd_module *m = &bt->modules[bt->nmodules++];
        Dwarf_Addr end = 0;
        (void)dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
        m->name = cut_name(name);
        m->start = start;
        m->end = end;
        const unsigned char *bits;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &bits, &vaddr);
        if (n > 0 && n <= 64) {
                m->build_id = xmalloc((size_t)n * 2 + 1);
                for (int i = 0; i < n; i++)
                        snprintf(m->build_id + 2 * i, 3, "%02x", bits[i]);
        }
        return DWARF_CB_OK;
}

/* Signal and pid (the first NT_PRSTATUS: the thread that dumped), command name and
 * arguments (NT_PRPSINFO), with the layouts of 64-bit Linux (x86-64, arm64, ...);
 * 32-bit cores leave these unknown. */
static void read_notes(Elf *elf, struct cd_bt *bt)
{
        if (gelf_getclass(elf) != ELFCLASS64)
                return;
        size_t phnum;
        if (elf_getphdrnum(elf, &phnum) < 0)
                return;
        bool have_status = false;
        for (size_t i = 0; i < phnum && i < 4096; i++) {
                GElf_Phdr ph;
                if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
                        continue;
                Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
                if (!d)
                        continue;
                size_t off = 0, name_off, desc_off;
                GElf_Nhdr nh;
                while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
                        const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;
                        if (nh.n_type == NT_PRSTATUS && !have_status && nh.n_descsz >= 36) {
                                int16_t sig;
                                int32_t pid;
                                memcpy(&sig, desc + 12, sizeof(sig));
                                memcpy(&pid, desc + 32, sizeof(pid));
                                bt->signal = sig > 0 && sig < 128 ? sig : 0;
                                bt->pid = pid > 0 ? pid : 0;
                                have_status = true;
                        } else if (nh.n_type == NT_PRPSINFO && nh.n_descsz >= 136 && !bt->comm) {
                                bt->comm = xstrndup((const char *)desc + 40, strnlen((const char *)desc + 40, 16));
                                bt->psargs = xstrndup((const char *)desc + 56, strnlen((const char *)desc + 56, 80));
                        }
                }
        }
}

void cd_bt_parse_fd(int fd, bool live, struct cd_bt *bt)
{
        *bt = (struct cd_bt){0};
        parse_live = live;
        char *dbgpath = NULL;
        const Dwfl_Callbacks cbs = {.find_elf = find_elf, .find_debuginfo = find_debuginfo, .debuginfo_path = &dbgpath};
        elf_version(EV_CURRENT);
        Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        Dwfl *dwfl = NULL;
        GElf_Ehdr eh;
        if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
                bt->error = xstrdup("not an ELF file");
                bt->not_core = true;
                goto out;
        }
        if (eh.e_type != ET_CORE) {
                bt->error = xasprintf("an ELF file but not a core (e_type %u)", (unsigned)eh.e_type);
                bt->not_core = true;
                goto out;
        }
        read_notes(elf, bt);
        dwfl = dwfl_begin(&cbs);
        if (!dwfl) {
                bt->error = xasprintf("libdwfl: %s", dwfl_msg());
                goto out;
        }
        dwfl_report_begin(dwfl);
        int r = dwfl_core_file_report(dwfl, elf, NULL);
        if (r < 0) {
                bt->error = xasprintf("cannot read the core's modules: %s", dwfl_msg());
                goto out;
        }
        if (dwfl_report_end(dwfl, NULL, NULL) != 0) {
                bt->error = xasprintf("libdwfl: %s", dwfl_msg());
                goto out;
        }
        bt->modules = xcalloc(CD_MODULES_MAX, sizeof(*bt->modules));
        (void)dwfl_getmodules(dwfl, module_cb, bt, 0);
        if (dwfl_core_file_attach(dwfl, elf) < 0) {
                bt->error = xasprintf("cannot read the core's threads: %s", dwfl_msg());
                goto out;
        }
        struct parse_state ps = {.dwfl = dwfl, .bt = bt};
        bt->threads = xcalloc(CD_THREADS_MAX, sizeof(*bt->threads));
        if (dwfl_getthreads(dwfl, thread_cb, &ps) != 0 && !bt->nthreads)
                bt->error = xasprintf("cannot list the core's threads: %s", dwfl_msg());
out:
        if (dwfl)
                dwfl_end(dwfl);
        if (elf)
                elf_end(elf);
}

struct parse_arg {
        int fd;
        bool live;
        uint64_t core_size;
};

static void parse_child(void *arg, int wfd)
{
        struct parse_arg *p = arg;
        sandbox(p->fd, wfd);
        /* libdwfl asks debuginfod servers when this is set: a diagnosis makes no network
         * requests (and the deadline is for the parse, not for a download). */
        unsetenv("DEBUGINFOD_URLS");
#ifndef __SANITIZE_ADDRESS__
        /* The core is mapped, not read: room for it plus libdwfl's own tables. */
        rlim_t as = (rlim_t)p->core_size + (1ull << 30);
        struct rlimit rl = {as, as};
        (void)setrlimit(RLIMIT_AS, &rl);
#endif
        struct cd_bt bt;
        cd_bt_parse_fd(p->fd, p->live, &bt);
        char *j = cd_bt_to_json(&bt);
        (void)write_all(wfd, j, strlen(j));
        _exit(0);
}

int cd_backtrace(int fd, enum cd_comp comp, const struct cd_bt_opts *o, struct cd_bt *out)
{
        *out = (struct cd_bt){0};
        uint64_t deadline = now_ms_monotonic() + o->timeout_ms;
        _cleanup_close_ int tmp = -1;
        int core = fd;
        if (comp != CD_PLAIN) {
                tmp = private_tmp(o->tmp_dir);
                if (tmp < 0) {
                        out->error = xasprintf("cannot make a temp file in %s: %s", o->tmp_dir, strerror(-tmp));
                        return 0;
                }
                /* Never more than half of what is free there: an expanded core must not
                 * fill the host's temp file system. */
                uint64_t cap = o->max_size;
                struct statvfs sv;
                if (fstatvfs(tmp, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize / 2 < cap)
                        cap = (uint64_t)sv.f_bavail * sv.f_frsize / 2;
                char *err = NULL;
                if (decompress_sandboxed(fd, tmp, cap, deadline, &err) < 0) {
                        out->error = err;
                        return 0;
                }
                core = tmp;
        }
        struct stat st;
        if (fstat(core, &st) < 0) {
                out->error = xasprintf("fstat: %s", strerror(errno));
                return 0;
        }
        struct parse_arg pa = {.fd = core, .live = o->live, .core_size = (uint64_t)st.st_size};
        struct child c;
        int r = child_start(&c, "coredump.parse", parse_child, &pa);
        if (r < 0)
                return r;
        struct strbuf ans = {0};
        int status = 0;
        r = child_answer(&c, deadline, CD_JSON_READ_MAX, &ans, &status);
        if (r == -ETIMEDOUT) {
                out->error = xasprintf("the parse did not finish within %" PRIu64 " ms: killed", o->timeout_ms);
        } else if (r == -EFBIG) {
                out->error = xasprintf("the parse child's answer passed %u bytes: refused", CD_JSON_READ_MAX);
        } else if (r < 0) {
                out->error = xasprintf("reading the parse child's answer: %s", strerror(-r));
        } else if (status != 0 || !ans.len) {
                _cleanup_free_ char *why = child_status_error(status);
                out->error = xasprintf("the parse child %s", why ? why : "gave no answer");
        } else {
                char *err = NULL;
                if (cd_bt_from_json(ans.s, ans.len, out, &err) < 0) {
                        cd_bt_free(out);
                        out->error = xasprintf("the parse child's answer is unreadable: %s", err);
                }
                free(err);
        }
        sb_free(&ans);
        return 0;
}
