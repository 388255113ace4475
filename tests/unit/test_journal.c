/* Unit tests: lib/journal.c, the shared sd-journal reader, and the journal collector's
 * pure parsers (collectors/journal_format.c). The reader is tested on real journal files built
 * here from tests/fixtures/journal/host.export with systemd-journal-remote: opening by
 * file, directory and root, the window found by seeking, index matches, bounds, fields
 * copied out safely, cursors, and empty, corrupt, truncated and non-regular files. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "collectors/journal.h"
#include "lib/journal.h"
#include "lib/rootfs.h"
#include "lib/util.h"

static char tmp[256];
static char good[300];
static uint64_t now_us;

static void run(const char *fmt, ...) PRINTF(1, 2);
static void run(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = xvasprintf(fmt, ap);
        va_end(ap);
        int r = system(c);
        if (r != 0)
                fail_msg("command failed (%d): %s", r, c);
}

static int setup(void **state)
{
        (void)state;
        const char *src = getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : EVODIAG_SRCDIR;
        snprintf(tmp, sizeof(tmp), "%s/evodiag-tj.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmp))
                return -1;
        snprintf(good, sizeof(good), "%s/good.journal", tmp);
        now_us = now_ms_realtime() * 1000;
        run("sh '%s/tests/helpers/mkjournal.sh' '%s/tests/fixtures/journal/host.export' '%s' %llu", src, src, good,
            (unsigned long long)now_us);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        run("rm -rf '%s'", tmp);
        return 0;
}

static struct journal *open_files(const char *a, const char *b)
{
        const char *files[] = {a, b, NULL};
        struct journal *j = NULL;
        assert_int_equal(journal_open(&(struct journal_opts){.files = files}, &j), 0);
        assert_non_null(j);
        return j;
}

static unsigned count(struct journal *j, const struct journal_window *w)
{
        assert_int_equal(journal_seek(j, w), 0);
        unsigned n = 0;
        int r;
        while ((r = journal_next(j)) > 0)
                n++;
        assert_int_equal(r, 0);
        return n;
}

static void test_window(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        assert_true(journal_usable(j));
        assert_int_equal(journal_bad_files(j), 0);
        size_t n;
        const struct journal_file *f = journal_files(j, &n);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, good);
        assert_true(journal_usage(j) > 0);
        /* All 18; the last hour leaves the one at -2 h out. */
        assert_int_equal(count(j, NULL), 18);
        assert_int_equal(journal_stopped(j), JOURNAL_END);
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 17);
        /* --until: the first three (at -7200, -3000, -2900 s) */
        assert_int_equal(count(j, &(struct journal_window){.until_us = now_us - 2850ull * 1000000}), 3);
        assert_int_equal(journal_stopped(j), JOURNAL_UNTIL);
        assert_false(journal_cut(j));
        /* Bounds: entries, and bytes of the fields read. */
        assert_int_equal(count(j, &(struct journal_window){.max_entries = 5}), 5);
        assert_int_equal(journal_stopped(j), JOURNAL_ENTRIES);
        assert_true(journal_cut(j));
        assert_int_equal(journal_seek(j, &(struct journal_window){.max_bytes = 100}), 0);
        unsigned k = 0;
        while (journal_next(j) > 0) {
                _cleanup_free_ char *m = journal_field_dup(j, "MESSAGE");
                assert_non_null(m);
                k++;
        }
        assert_true(k >= 1 && k < 5);
        assert_int_equal(journal_stopped(j), JOURNAL_BYTES);
        assert_true(journal_bytes_read(j) >= 100);
        /* A deadline in the past stops at once. */
        assert_int_equal(count(j, &(struct journal_window){.deadline_ms = 1}), 0);
        assert_int_equal(journal_stopped(j), JOURNAL_DEADLINE);
        assert_string_equal(journal_stop_str(JOURNAL_BYTES), "byte bound hit");
}

static void test_matches(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        /* error priority of lavinmq.service, in the last hour: 3 (2 err, 1 crit) */
        assert_int_equal(journal_match(j, "_SYSTEMD_UNIT", "lavinmq.service"), 0);
        for (int p = 0; p <= 3; p++) {
                char v[4];
                snprintf(v, sizeof(v), "%d", p);
                assert_int_equal(journal_match(j, "PRIORITY", v), 0);
        }
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 3);
        /* OR: kernel entries as well. */
        assert_int_equal(journal_or(j), 0);
        assert_int_equal(journal_match(j, "_TRANSPORT", "kernel"), 0);
        assert_int_equal(count(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 3 + 10);
        journal_match_clear(j);
        assert_int_equal(count(j, NULL), 18);
        /* Field names are checked; values bounded. */
        assert_int_equal(journal_match(j, "bad=name", "x"), -EINVAL);
        assert_int_equal(journal_match(j, "", "x"), -EINVAL);
        assert_int_equal(journal_match(j, "9X", "x"), -EINVAL);
        char big[5000];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(journal_match(j, "MESSAGE", big), -EINVAL);
}

static int count_fields(void *arg, const char *name, size_t nlen, const char *val, size_t vlen)
{
        (void)val;
        (void)vlen;
        assert_true(nlen > 0 && name[0] != '=');
        (*(unsigned *)arg)++;
        return 0;
}

/* Reopening every few bytes (to unmap what was read) keeps the same entries, in order,
 * with the matches and the window. */
static void test_recycle(void **state)
{
        (void)state;
        struct journal_window w = {.since_us = now_us - 3600ull * 1000000};
        char *want[32] = {0}, *got[32] = {0};
        size_t nw = 0, ng = 0;
        for (int pass = 0; pass < 2; pass++) {
                _cleanup_journal_ struct journal *j = open_files(good, NULL);
                if (pass)
                        journal_set_recycle(j, 60); /* after every entry or two */
                assert_int_equal(journal_match(j, "_SYSTEMD_UNIT", "lavinmq.service"), 0);
                assert_int_equal(journal_or(j), 0);
                assert_int_equal(journal_match(j, "_TRANSPORT", "kernel"), 0);
                assert_int_equal(journal_seek(j, &w), 0);
                while (journal_next(j) > 0) {
                        char m[256];
                        assert_true(journal_field(j, "MESSAGE", m, sizeof(m), NULL) >= 0);
                        if (pass)
                                got[ng++] = xstrdup(m);
                        else
                                want[nw++] = xstrdup(m);
                        assert_true(nw < 32 && ng < 32);
                }
                assert_int_equal(journal_stopped(j), JOURNAL_END);
        }
        assert_int_equal(nw, 14);
        assert_int_equal(ng, nw);
        for (size_t i = 0; i < nw; i++) {
                assert_string_equal(got[i], want[i]);
                free(got[i]);
                free(want[i]);
        }
}

static void test_fields_cursors(void **state)
{
        (void)state;
        _cleanup_journal_ struct journal *j = open_files(good, NULL);
        assert_int_equal(journal_seek(j, &(struct journal_window){.since_us = now_us - 3600ull * 1000000}), 0);
        assert_int_equal(journal_next(j), 1);
        uint64_t t = journal_realtime_us(j);
        assert_int_equal(t, now_us - 3000ull * 1000000);
        char buf[64];
        bool cut;
        /* The value only, NUL-terminated: not "MESSAGE=..." */
        assert_int_equal(journal_field(j, "MESSAGE", buf, sizeof(buf), &cut), strlen("Max mmap count: 65530"));
        assert_string_equal(buf, "Max mmap count: 65530");
        assert_false(cut);
        assert_int_equal(journal_field(j, "MESSAGE", buf, 4, &cut), 3);
        assert_string_equal(buf, "Max");
        assert_true(cut);
        assert_int_equal(journal_field(j, "NO_SUCH_FIELD", buf, sizeof(buf), &cut), -ENOENT);
        assert_int_equal(journal_field(j, "bad name", buf, sizeof(buf), &cut), -EINVAL);
        assert_null(journal_field_dup(j, "NO_SUCH_FIELD"));
        uint64_t pid;
        assert_int_equal(journal_field_u64(j, "_PID", &pid), 0);
        assert_int_equal(pid, 812);
        assert_int_equal(journal_field_u64(j, "MESSAGE", &pid), -EINVAL);
        unsigned nf = 0;
        assert_int_equal(journal_fields(j, count_fields, &nf), 0);
        assert_true(nf >= 6);
        _cleanup_free_ char *c1 = journal_cursor(j);
        assert_non_null(c1);
        assert_true(startswith(c1, "s="));
        assert_int_equal(journal_next(j), 1);
        _cleanup_free_ char *m2 = journal_field_dup(j, "MESSAGE");
        assert_true(startswith(m2, "Unhandled exception in spawn"));
        /* After the cursor of the first: the second again. */
        assert_int_equal(journal_seek_after_cursor(j, c1), 0);
        assert_int_equal(journal_next(j), 1);
        _cleanup_free_ char *m3 = journal_field_dup(j, "MESSAGE");
        assert_string_equal(m2, m3);
        /* The end: nothing follows until the file grows. */
        assert_int_equal(journal_seek_end(j), 0);
        assert_int_equal(journal_next(j), 0);
        assert_true(journal_watch_fd(j) < 0); /* opened by fd: callers poll at their interval */
}

static void write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void test_bad_files(void **state)
{
        (void)state;
        char empty[300], corrupt[300], cut[300], fifo[300];
        snprintf(empty, sizeof(empty), "%s/empty.journal", tmp);
        snprintf(corrupt, sizeof(corrupt), "%s/corrupt.journal", tmp);
        snprintf(cut, sizeof(cut), "%s/cut.journal", tmp);
        snprintf(fifo, sizeof(fifo), "%s/fifo.journal", tmp);
        write_file(empty, "", 0);
        char junk[8192];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char)(i * 131 + 7);
        memcpy(junk, "LPKSHHRH", 8); /* the journal's magic, then garbage */
        write_file(corrupt, junk, sizeof(junk));
        run("head -c 4096 '%s' > '%s'", good, cut);
        assert_int_equal(mkfifo(fifo, 0644), 0);

        /* Alone, an empty file is no journal. */
        {
                _cleanup_journal_ struct journal *j = open_files(empty, NULL);
                assert_false(journal_usable(j));
                assert_int_equal(journal_bad_files(j), 1);
                size_t n;
                assert_int_equal(journal_files(j, &n)[0].error, -ENODATA);
                assert_int_equal(journal_next(j), 0);
        }
        /* A corrupt file next to a good one: named, and the good one still read. */
        {
                _cleanup_journal_ struct journal *j = open_files(corrupt, good);
                assert_true(journal_usable(j));
                assert_int_equal(journal_bad_files(j), 1);
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 2);
                assert_string_equal(f[0].path, corrupt);
                assert_true(f[0].error < 0);
                assert_int_equal(f[1].error, 0);
                assert_int_equal(count(j, NULL), 18);
        }
        /* A directory: the truncated and the FIFO named (never a hang), the rest read. */
        {
                const char *dirs[] = {tmp, NULL};
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(&(struct journal_opts){.dirs = dirs}, &j), 0);
                assert_true(journal_usable(j));
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 5);
                int bad_cut = 1, bad_fifo = 1;
                for (size_t i = 0; i < n; i++) {
                        if (streq(f[i].path, cut))
                                bad_cut = f[i].error;
                        if (streq(f[i].path, fifo))
                                bad_fifo = f[i].error;
                }
                assert_true(bad_cut < 0);
                assert_int_equal(bad_fifo, -ROOTFS_ENOTREG);
                assert_int_equal(journal_bad_files(j), 4);
                assert_int_equal(count(j, NULL), 18);
        }
        unlink(empty);
        unlink(corrupt);
        unlink(cut);
        unlink(fifo);
}

static void test_root(void **state)
{
        (void)state;
        char root[300];
        snprintf(root, sizeof(root), "%s/root", tmp);
        run("mkdir -p '%s/var/log/journal/0123456789abcdef0123456789abcdef' '%s/run/log/journal' && "
            "cp '%s' '%s/var/log/journal/0123456789abcdef0123456789abcdef/system.journal' && "
            "ln -s '%s' '%s/run/log/journal/escape.journal'",
            root, root, good, root, good, root);
        assert_int_equal(rootfs_set(root), 0);
        {
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(NULL, &j), 0);
                assert_true(journal_usable(j));
                size_t n;
                const struct journal_file *f = journal_files(j, &n);
                assert_int_equal(n, 2);
                assert_string_equal(f[0].path, "/var/log/journal/0123456789abcdef0123456789abcdef/system.journal");
                assert_int_equal(f[0].error, 0);
                /* A link is not followed out of the root. */
                assert_string_equal(f[1].path, "/run/log/journal/escape.journal");
                assert_true(f[1].error < 0);
                assert_int_equal(count(j, NULL), 18);
                /* the words of the live host: a bundle's re-check quotes the same origin */
                assert_string_equal(journal_origin(j), "/var/log/journal and /run/log/journal");
        }
        /* A root without journals: nothing found, nothing usable. */
        char bare[300];
        snprintf(bare, sizeof(bare), "%s/bare", tmp);
        run("mkdir -p '%s'", bare);
        assert_int_equal(rootfs_set(bare), 0);
        {
                _cleanup_journal_ struct journal *j = NULL;
                assert_int_equal(journal_open(NULL, &j), 0);
                assert_false(journal_usable(j));
                size_t n;
                journal_files(j, &n);
                assert_int_equal(n, 0);
                assert_int_equal(journal_seek(j, NULL), -ENODEV);
                assert_int_equal(journal_next(j), 0);
        }
        assert_int_equal(rootfs_set("/"), 0);
        /* Bad options. */
        const char *nodir[] = {"", NULL};
        struct journal *j = (struct journal *)1;
        assert_int_equal(journal_open(&(struct journal_opts){.dirs = nodir}, &j), -EINVAL);
        assert_null(j);
}

/* ---- the collector's parsers ---- */

static void test_patterns(void **state)
{
        (void)state;
        /* The table: every line compiles (jpattern_next aborts otherwise), has an ID of the
         * collector, a remedy and a scope. */
        for (size_t i = 0; i < jpatterns_n; i++) {
                assert_true(startswith(jpatterns[i].id, "journal."));
                assert_true(strlen(jpatterns[i].remedy) > 20);
                assert_true(jpatterns[i].scope != 0);
                (void)jpattern_next("", jpatterns[i].scope, i);
        }
        struct {
                const char *msg;
                unsigned scope;
                const char *id; /* the first pattern that matches, or NULL */
        } t[] = {
                {"Out of memory: Killed process 1 (x) total-vm:1kB", JS_KERNEL, "journal.oom_kill"},
                {"Memory cgroup out of memory: Killed process 77 (java) total-vm:1kB, anon-rss:8kB", JS_KERNEL, "journal.oom_kill"},
                {"NVRM: Xid (PCI:0000:3b:00): 31, pid=1, Ch 00000010, intr 10000000. MMU Fault", JS_KERNEL, "journal.gpu_xid"},
                {"NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.", JS_KERNEL, "journal.gpu_off_bus"},
                {"a.out[99]: segfault at 10 ip 1 sp 2 error 4 in a.out[400000+1000]", JS_KERNEL, "journal.segfault"},
                {"traps: evo_cu[12] trap divide error ip:1 sp:2 error:0 in evo_cu[400000+1000]", JS_KERNEL, "journal.segfault"},
                {"traps: evo_cu[12] general protection fault ip:1 sp:2 error:0", JS_KERNEL, "journal.segfault"},
                {"INFO: task jbd2/sda1-8:412 blocked for more than 122 seconds.", JS_KERNEL, "journal.hung_task"},
                {"sched: RT throttling activated", JS_KERNEL, "journal.rt_throttling"},
                {"nfs: server nas01 not responding, still trying", JS_KERNEL, "journal.nfs_not_responding"},
                {"mce: [Hardware Error]: Machine check events logged", JS_KERNEL, "journal.hw_error"},
                {"EDAC MC1: 2 UE memory read error on CPU_SrcID#1", JS_KERNEL, "journal.hw_error_uncorrected"},
                {"cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED", JS_SNN | JS_COMPONENT, "journal.cuda_error"},
                {"torch.cuda.OutOfMemoryError: CUDA out of memory.", JS_SNN | JS_COMPONENT, "journal.cuda_error"},
                {"Unhandled exception in spawn: Closed stream", JS_LAVINMQ | JS_COMPONENT, "journal.lavinmq_exception"},
                {"write: No space left on device (IO::Error)", JS_LAVINMQ | JS_COMPONENT, "journal.lavinmq_disk_full"},
                {"[framealloc][FA601] error: frame allocation in async fn", JS_COMPONENT, "journal.framealloc"},
                /* Scope: a component's words in the kernel, or another component's, do not count. */
                {"Unhandled exception in spawn", JS_SNN | JS_COMPONENT, NULL},
                {"CUDA_ERROR_OUT_OF_MEMORY", JS_KERNEL, NULL},
                {"Out of memory: Killed process 1 (x)", JS_COMPONENT, NULL},
                {"everything is fine", JS_KERNEL | JS_COMPONENT | JS_LAVINMQ | JS_SNN, NULL},
                {"", JS_KERNEL, NULL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                int k = jpattern_next(t[i].msg, t[i].scope, 0);
                if (!t[i].id) {
                        assert_int_equal(k, -1);
                        continue;
                }
                assert_true(k >= 0);
                assert_string_equal(jpatterns[k].id, t[i].id);
        }
        /* One line may hit two patterns: Xid 79 is also "fallen off the bus". */
        const char *x79 = "NVRM: Xid (PCI:0000:3b:00): 79, pid=901, GPU has fallen off the bus.";
        int a = jpattern_next(x79, JS_KERNEL, 0);
        int b = jpattern_next(x79, JS_KERNEL, (size_t)a + 1);
        assert_string_equal(jpatterns[a].id, "journal.gpu_xid");
        assert_string_equal(jpatterns[b].id, "journal.gpu_off_bus");
        assert_int_equal(jpattern_next(x79, JS_KERNEL, (size_t)b + 1), -1);
}

static void test_oom(void **state)
{
        (void)state;
        uint64_t pid, rss;
        char name[64];
        assert_int_equal(jparse_oom("Out of memory: Killed process 4242 (cerebellar-norse) total-vm:31457280kB, anon-rss:26214400kB, "
                                    "file-rss:1024kB, shmem-rss:0kB, UID:997 pgtables:52000kB oom_score_adj:0",
                                    &pid, name, sizeof(name), &rss),
                         0);
        assert_int_equal(pid, 4242);
        assert_string_equal(name, "cerebellar-norse");
        assert_int_equal(rss, (26214400ull + 1024) * 1024);
        /* A name with blanks and parentheses (comm can hold anything). */
        assert_int_equal(jparse_oom("Killed process 7 (a (b) c) total-vm:1kB, anon-rss:4kB", &pid, name, sizeof(name), &rss), 0);
        assert_string_equal(name, "a (b) c");
        assert_int_equal(rss, 4096);
        /* Old kernels: no RSS fields. */
        assert_int_equal(jparse_oom("Killed process 9 (x)", &pid, name, sizeof(name), &rss), 0);
        assert_int_equal(rss, 0);
        assert_int_equal(jparse_oom("Killed process (x)", &pid, name, sizeof(name), &rss), -EINVAL);
        assert_int_equal(jparse_oom("Killed process 12 x", &pid, name, sizeof(name), &rss), -EINVAL);
        assert_int_equal(jparse_oom("Killed process 99999999999999999999999 (x)", &pid, name, sizeof(name), &rss), -EINVAL);
        assert_int_equal(jparse_oom("", &pid, name, sizeof(name), &rss), -EINVAL);
        /* The verdict: crit for a component, also by the kernel's 15-character cut. */
        struct jhit h;
        const struct jpattern *p = &jpatterns[jpattern_next("Out of memory: Killed process 1 (x)", JS_KERNEL, 0)];
        jpattern_hit(p, "Out of memory: Killed process 1 (cerebellar-nors) total-vm:1kB, anon-rss:1048576kB", "lavinmq,cerebellar-norse", &h);
        assert_int_equal(h.sev, SEV_CRIT);
        assert_string_equal(h.subject, "cerebellar-nors");
        assert_string_equal(h.detail, "victim cerebellar-nors, pid 1, RSS 1.0 GiB (a component)");
        jpattern_hit(p, "Out of memory: Killed process 2 (chrome) total-vm:1kB, anon-rss:1kB", "lavinmq,cerebellar-norse", &h);
        assert_int_equal(h.sev, SEV_WARN);
        jpattern_hit(p, "Out of memory: Killed process 2 (lavinmqx) total-vm:1kB", "lavinmq", &h);
        assert_int_equal(h.sev, SEV_WARN);
}

static void test_xid(void **state)
{
        (void)state;
        unsigned x;
        char pci[48];
        assert_int_equal(jparse_xid("NVRM: Xid (PCI:0000:3b:00): 79, pid=901, GPU has fallen off the bus.", &x, pci, sizeof(pci)), 0);
        assert_int_equal(x, 79);
        assert_string_equal(pci, "PCI:0000:3b:00");
        assert_int_equal(jparse_xid("NVRM: Xid (PCI:0000:3b:00): pid=1", &x, pci, sizeof(pci)), -EINVAL);
        assert_int_equal(jparse_xid("NVRM: Xid (PCI:0000:3b:00", &x, pci, sizeof(pci)), -EINVAL);
        assert_int_equal(jparse_xid("NVRM: Xid (PCI): 1234567", &x, pci, sizeof(pci)), -EINVAL);
        /* Every Xid the guides name has a meaning; the hardware ones are crit. */
        const unsigned common[] = {13, 31, 43, 45, 48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119};
        const unsigned crit[] = {48, 62, 64, 79, 95, 119};
        for (size_t i = 0; i < ARRAY_SIZE(common); i++) {
                enum severity s;
                assert_non_null(jxid_meaning(common[i], &s));
                bool c = false;
                for (size_t k = 0; k < ARRAY_SIZE(crit); k++)
                        c |= crit[k] == common[i];
                assert_int_equal(s, c ? SEV_CRIT : SEV_WARN);
        }
        enum severity s;
        assert_null(jxid_meaning(8, &s));
        assert_int_equal(s, SEV_WARN);
        struct jhit h;
        const char *m = "NVRM: Xid (PCI:0000:3b:00): 48, pid=1, DBE (double bit error) ECC error";
        jpattern_hit(&jpatterns[jpattern_next(m, JS_KERNEL, 0)], m, "", &h);
        assert_string_equal(h.subject, "Xid 48");
        assert_int_equal(h.sev, SEV_CRIT);
        assert_non_null(strstr(h.detail, "double-bit ECC"));
        m = "NVRM: Xid (PCI:0000:3b:00): 8, pid=1, whatever";
        jpattern_hit(&jpatterns[jpattern_next(m, JS_KERNEL, 0)], m, "", &h);
        assert_non_null(strstr(h.detail, "not one of the common Xids"));
}

static void test_fault_hung_lines(void **state)
{
        (void)state;
        char prog[64];
        uint64_t pid, secs;
        assert_int_equal(jparse_fault("mediator_phase3[3121]: segfault at 0 ip 1 sp 2 error 4 in m[5+2]", prog, sizeof(prog), &pid), 0);
        assert_string_equal(prog, "mediator_phase3");
        assert_int_equal(pid, 3121);
        assert_int_equal(jparse_fault("traps: evo-writer[2211] trap divide error ip:4005d6", prog, sizeof(prog), &pid), 0);
        assert_string_equal(prog, "evo-writer");
        assert_int_equal(jparse_fault("[3121]: segfault at 0", prog, sizeof(prog), &pid), -EINVAL);
        assert_int_equal(jparse_fault("x[12a]: segfault at 0", prog, sizeof(prog), &pid), -EINVAL);
        assert_int_equal(jparse_fault("traps: no pid here", prog, sizeof(prog), &pid), -EINVAL);
        char task[64];
        assert_int_equal(jparse_hung("INFO: task kworker/3:1:123 blocked for more than 120 seconds.", task, sizeof(task), &pid, &secs), 0);
        assert_string_equal(task, "kworker/3:1");
        assert_int_equal(pid, 123);
        assert_int_equal(secs, 120);
        assert_int_equal(jparse_hung("INFO: task :1 blocked for more than 120 seconds.", task, sizeof(task), &pid, &secs), -EINVAL);
        assert_int_equal(jparse_hung("task blocked for more than x", task, sizeof(task), &pid, &secs), -EINVAL);
        assert_true(jline_is_error("[12:00:01] [ERROR] bad"));
        assert_true(jline_is_error("{\"level\":\"ERROR\",\"message\":\"x\"}"));
        assert_true(jline_is_error("2025-01-01 FATAL: x"));
        assert_false(jline_is_error("no ERRORS here, MYERROR either"));
        assert_false(jline_is_error("{\"level\":\"INFO\",\"message\":\"error count 0\"}"));
}

static void test_records(void **state)
{
        (void)state;
        struct jentry e;
        const char rec[] = "3,77,5000000,-;NVRM: Xid (PCI:0000:3b:00): 79\n SUBSYSTEM=pci\n DEVICE=+pci:0000:3b:00.0\n";
        assert_int_equal(jparse_kmsg(rec, sizeof(rec) - 1, 1000000, &e), 0);
        assert_int_equal(e.prio, 3);
        assert_int_equal(e.t_us, 6000000);
        assert_true(e.kernel);
        assert_string_equal(e.msg, "NVRM: Xid (PCI:0000:3b:00): 79");
        assert_string_equal(e.cursor, "kmsg:77");
        /* The facility bits are not the priority. */
        assert_int_equal(jparse_kmsg("30,1,2,-;x", 10, 0, &e), 0);
        assert_int_equal(e.prio, 6);
        assert_int_equal(jparse_kmsg("3,77,5000000,-", 14, 0, &e), -EINVAL);
        assert_int_equal(jparse_kmsg("3,x,5,-;m", 9, 0, &e), -EINVAL);
        assert_int_equal(jparse_kmsg(";m", 2, 0, &e), -EINVAL);
        /* Evidence records: round trip, and hostile shapes. */
        struct jentry a = {.t_us = 1796026730932309, .prio = 3, .pid = 812};
        snprintf(a.msg, sizeof(a.msg), "Unhandled exception \"quoted\"");
        snprintf(a.unit, sizeof(a.unit), "lavinmq.service");
        snprintf(a.ident, sizeof(a.ident), "lavinmq");
        snprintf(a.cursor, sizeof(a.cursor), "s=1;i=2");
        snprintf(a.src, sizeof(a.src), "journal");
        json_object *o = jentry_to_json(&a);
        struct jentry b;
        assert_int_equal(jentry_from_json(o, &b), 0);
        json_object_put(o);
        assert_memory_equal(&a, &b, sizeof(a) - sizeof(a.msg));
        assert_string_equal(a.msg, b.msg);
        o = json_tokener_parse("{\"msg\":\"x\\u0001y\",\"prio\":99,\"t\":-5,\"pid\":\"1\",\"unit\":7}");
        assert_int_equal(jentry_from_json(o, &b), 0);
        assert_string_equal(b.msg, "x y");
        assert_int_equal(b.prio, -1);
        assert_int_equal(b.t_us, 0);
        assert_int_equal(b.pid, 0);
        assert_string_equal(b.unit, "");
        json_object_put(o);
        o = json_tokener_parse("[1,2]");
        assert_int_equal(jentry_from_json(o, &b), -EINVAL);
        json_object_put(o);
        struct strbuf s = {0};
        jentry_short_iso(&s, &a);
        assert_string_equal(s.s, "2026-11-30T08:18:50+0000 lavinmq[812]: Unhandled exception \"quoted\"\n");
        sb_free(&s);
}

static void test_times(void **state)
{
        (void)state;
        uint64_t now = 1700000000000000ull, t;
        assert_int_equal(journal_parse_time("1h", now, &t), 0);
        assert_int_equal(t, now - 3600000000ull);
        assert_int_equal(journal_parse_time("90m", now, &t), 0);
        assert_int_equal(t, now - 5400000000ull);
        assert_int_equal(journal_parse_time("now", now, &t), 0);
        assert_int_equal(t, now);
        assert_int_equal(journal_parse_time("@1600000000", now, &t), 0);
        assert_int_equal(t, 1600000000000000ull);
        setenv("TZ", "UTC", 1);
        tzset();
        assert_int_equal(journal_parse_time("2025-01-20 10:00:00", now, &t), 0);
        assert_int_equal(t, 1737367200000000ull);
        assert_int_equal(journal_parse_time("2025-01-20 10:00", now, &t), 0);
        assert_int_equal(t, 1737367200000000ull);
        assert_int_equal(journal_parse_time("2025-01-20T10:00:05", now, &t), 0);
        assert_int_equal(t, 1737367205000000ull);
        assert_int_equal(journal_parse_time("2025-01-20", now, &t), 0);
        assert_int_equal(t, 1737331200000000ull);
        assert_int_equal(journal_parse_time("100000d", 5, &t), 0);
        assert_int_equal(t, 0);
        const char *bad[] = {"", "yesterday", "1h ago", "@", "@x", "2025-13-01", "2025-01-20 25:00", "2025-01-20 10:00x", "-1h"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(journal_parse_time(bad[i], now, &t), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_window),
                cmocka_unit_test(test_matches),
                cmocka_unit_test(test_fields_cursors),
                cmocka_unit_test(test_recycle),
                cmocka_unit_test(test_bad_files),
                cmocka_unit_test(test_root),
                cmocka_unit_test(test_patterns),
                cmocka_unit_test(test_oom),
                cmocka_unit_test(test_xid),
                cmocka_unit_test(test_fault_hung_lines),
                cmocka_unit_test(test_records),
                cmocka_unit_test(test_times),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
