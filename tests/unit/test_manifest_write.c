/* Unit tests: the bundle manifest is written with the tables it is read with. A
 * manifest with every field of every table set is written (report/manifest.c's
 * manifest_to_json) and read back (manifest_parse) field for field; the sink's
 * artifact frame headers (collectors/sink.c) read back as the same records. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "collectors/frame.h"
#include "collectors/sink.h"
#include "lib/child.h"
#include "lib/escape.h"
#include "lib/redact.h"
#include "lib/rootfs.h"
#include "report/manifest.h"
#include "report/report.h"

static struct mf_int num(int64_t v) { return (struct mf_int){.set = true, .v = v}; }
static struct mf_bool flag(bool v) { return (struct mf_bool){.set = true, .v = v}; }

static struct manifest_artifact every_artifact_field(int k)
{
        struct manifest_artifact a = {
                .path = xasprintf("host/proc/%d/fd", k), .collector = xstrdup("fds"), .kind = xstrdup("listing"),
                .origin = xasprintf("/proc/%d/fd", k), .status = xstrdup("truncated"), .error = xstrdup("cut: \xe2\x80\xa6 \"quoted\""),
                .duration_ms = num(12), .redactions = num(3), .err = num(13),
                .stat = {.set = true, .mode = num(0100644), .uid = num(0), .gid = num(4294967295), .size = num(INT64_MAX),
                         .nlink = num(1), .ino = num(-1), .mtime = num(INT64_MIN)},
                .lines = num(42), .count = num(150000), .at_least = flag(true), .dir = flag(false),
                .names = mf_names_of("0\0" "1\0" "255\0", 8, true), .link = xstrdup("socket:[1234]"), .bytes = num(0),
                .sha256 = xstrdup("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                .note = xstrdup("only the entries the checks looked up"), .absent = flag(true), .excerpt = flag(true),
        };
        return a;
}

/* Every field of every table, written and read back unchanged. */
static void test_round_trip(void **state)
{
        struct manifest m = {
                .schema = num(MANIFEST_SCHEMA), .host = xstrdup("cell-7"), .evodiag = xstrdup("0.1.0"),
                .root = xstrdup("evodiag-cell-7-20261130T000000Z"), .command_line = xstrdup("evodiag bundle --only fds"),
                .start = xstrdup("2026-11-30T00:00:00Z"), .end = xstrdup("2026-11-30T00:00:01Z"), .compression = xstrdup("zstd"),
                .complete = flag(false), .redacted = flag(true), .obfuscated = flag(false),
                .incomplete = mf_names_of("collector shm: timed out\0", 25, false),
                .intrusive = mf_names_of("lavinmq: kill -USR1 42: done\0", 29, false),
        };
        struct manifest_artifact *a = xcalloc(2, sizeof(*a));
        a[0] = every_artifact_field(100);
        a[1] = every_artifact_field(200);
        m.artifacts = (struct mf_array){.n = 2, .v = a};
        struct manifest_collector *c = xcalloc(1, sizeof(*c));
        c[0] = (struct manifest_collector){.name = xstrdup("fds"), .status = xstrdup("ok"), .note = xstrdup("n"),
                                           .duration_ms = num(7), .artifacts = num(2), .timed_out = flag(false)};
        m.collectors = (struct mf_array){.n = 1, .v = c};
        /* A field added to a table without being set here fails the test: set it. */
        char *unset = mf_first_unset(&manifest_schema, &m);
        if (unset)
                fail_msg("the test manifest leaves %s unset", unset);

        json_object *o = manifest_to_json(&m);
        char *text = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        json_object_put(o);
        struct manifest back;
        char *err = NULL;
        if (manifest_parse(text, strlen(text), &back, &err) != 0)
                fail_msg("the written manifest does not read back: %s\n%s", err, text);
        assert_null(mf_first_unset(&manifest_schema, &back));

        assert_int_equal(back.schema.v, MANIFEST_SCHEMA);
        assert_string_equal(back.host, "cell-7");
        assert_string_equal(back.root, "evodiag-cell-7-20261130T000000Z");
        assert_true(back.complete.set && !back.complete.v);
        assert_true(back.redacted.v);
        assert_int_equal(back.artifacts.n, 2);
        const struct manifest_artifact *b = back.artifacts.v;
        assert_string_equal(b[1].path, "host/proc/200/fd");
        assert_string_equal(b[0].error, "cut: \xe2\x80\xa6 \"quoted\"");
        assert_int_equal(b[0].err.v, 13);
        assert_int_equal(b[0].stat.mode.v, 0100644);
        assert_int_equal(b[0].stat.gid.v, 4294967295);
        assert_true(b[0].stat.size.v == INT64_MAX);
        assert_true(b[0].stat.mtime.v == INT64_MIN);
        assert_int_equal(b[0].count.v, 150000);
        assert_true(b[0].at_least.v && !b[0].dir.v && b[0].absent.v && b[0].excerpt.v);
        assert_int_equal(b[0].names.n, 3);
        assert_memory_equal(b[0].names.buf, "0\0" "1\0" "255\0", 8);
        assert_string_equal(b[0].link, "socket:[1234]");
        assert_string_equal(b[0].note, "only the entries the checks looked up");
        const struct manifest_collector *bc = back.collectors.v;
        assert_string_equal(bc[0].name, "fds");
        assert_int_equal(bc[0].artifacts.v, 2);

        /* And the whole of it: what is read writes the same text again. */
        o = manifest_to_json(&back);
        char *again = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        json_object_put(o);
        assert_string_equal(again, text);
        free(again);
        free(text);
        manifest_free(&back);
        manifest_free(&m);
}

/* manifest_write(), entry by entry, writes the very text of the whole tree
 * (manifest_to_json + json_text): none, one and three entries, a string with a
 * newline and one with a control character in them. */
static const struct manifest_artifact *streamed;
static void stream_get(void *arg, size_t i, struct manifest_artifact *a)
{
        (void)arg;
        struct strbuf b = {0}; /* a copy, as the bundle's store hands out */
        mf_encode(&artifact_schema, &streamed[i], &b);
        const char *bad;
        size_t at;
        assert_int_equal(mf_decode(&artifact_schema, b.s, b.len, a, &bad, &at), 0);
        sb_free(&b);
}
static void stream_put(void *arg, const char *text, size_t len) { sb_putn(arg, text, len); }

static void test_streamed_same_text(void **state)
{
        (void)state;
        struct manifest_artifact a[3] = {every_artifact_field(1), every_artifact_field(2), every_artifact_field(3)};
        free(a[1].error);
        a[1].error = xstrdup("two\nlines\tand \x01 \xc2\x85 and / slash");
        free(a[2].names.buf);
        a[2].names = (struct mf_names){0};
        for (size_t n = 0; n <= 3; n++) {
                struct manifest m = {.schema = num(MANIFEST_SCHEMA), .host = xstrdup("cell-7"), .complete = flag(true),
                                     .incomplete = mf_names_of("x\ny\0", 4, false)};
                struct manifest_collector *c = xcalloc(1, sizeof(*c));
                c[0] = (struct manifest_collector){.name = xstrdup("fds"), .status = xstrdup("ok")};
                m.collectors = (struct mf_array){.n = 1, .v = c};
                m.artifacts = (struct mf_array){.n = n, .v = a};
                json_object *o = manifest_to_json(&m);
                char *whole = json_text(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
                json_object_put(o);
                struct strbuf got = {0};
                streamed = a;
                manifest_write(&m, n, stream_get, stream_put, &got);
                assert_string_equal(got.s, whole);
                struct manifest back;
                char *err = NULL;
                if (manifest_parse(got.s, got.len, &back, &err) != 0)
                        fail_msg("%s", err);
                assert_int_equal(back.artifacts.n, n);
                manifest_free(&back);
                sb_free(&got);
                free(whole);
                m.artifacts = (struct mf_array){0};
                manifest_free(&m);
        }
        for (size_t i = 0; i < 3; i++)
                artifact_free(&a[i]);
}

/* findings.json written finding by finding (report_json_write) is the text of the
 * whole tree with "complete" added, as the bundle wrote it before. */
static void test_findings_streamed_same_text(void **state)
{
        (void)state;
        size_t n = 0;
        while (collectors[n])
                n++;
        struct run_result *r = xcalloc(n, sizeof(*r));
        for (size_t i = 0; i < n; i++)
                r[i] = (struct run_result){.c = collectors[i], .status = i % 3 ? RUN_OK : RUN_NOT_APPLICABLE,
                                           .note = i % 2 ? xstrdup("a note\nwith a newline") : NULL};
        for (int k = 0; k < 5; k++) {
                struct finding *f = fnd_add(&r[1].fs, k % 2 ? SEV_WARN : SEV_INFO, "x.y", "pid %d: \"findings\":[\n \xff", k);
                fnd_remedy(f, "evodiag explain x.y");
                fnd_subject(f, "pid %d", k);
        }
        fnd_add(&r[n - 1].fs, SEV_CRIT, "z.z", "one");
        struct report rep = {.host = "cell-7", .root = "/", .r = r, .n = n, .started_ms = 1};
        json_object *whole = report_to_json(&rep);
        json_object_object_add(whole, "complete", json_object_new_boolean(false));
        int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;
        char *want = json_text(whole, flags);
        json_object_put(whole);
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "complete", json_object_new_boolean(false));
        struct strbuf got = {0};
        report_json_write(&rep, extra, flags, stream_put, &got);
        assert_string_equal(got.s, want);
        json_object_put(extra);
        sb_free(&got);
        free(want);
        run_results_free(r, n);
        free(r);
}

/* What a written manifest must never hold: names the reader refuses are left out. */
static void test_names_kept_readable(void **state)
{
        struct mf_names n = mf_names_of("a\0" "\0" ".\0" "..\0" "b/c\0" "d\0", 14, true);
        assert_int_equal(n.n, 2);
        assert_memory_equal(n.buf, "a\0d\0", 4);
        free(n.buf);
        n = mf_names_of("a\0" "b/c\0", 6, false);
        assert_int_equal(n.n, 2);
        free(n.buf);
}

/* Reads every frame the sink wrote to fd (then closes it): each artifact's header
 * read back with the table, then each(got, frame, record); other frames each(got,
 * frame, NULL). */
static void read_artifacts(int fd, struct strbuf *got,
                           void (*each)(struct strbuf *, const struct frame *, const struct manifest_artifact *))
{
        struct frame_reader r;
        frame_reader_init(&r, fd, INT64_MAX);
        r.deadline_ms = now_ms_monotonic() + 10000;
        struct frame fr;
        while (frame_read(&r, &fr) > 0) {
                if (!streq(fr.type, "artifact")) {
                        each(got, &fr, NULL);
                        continue;
                }
                struct manifest_artifact a;
                char *err = NULL;
                if (artifact_from_json(fr.hdr, &a, &err) < 0)
                        fail_msg("a sink header does not read back: %s", err);
                each(got, &fr, &a);
                artifact_free(&a);
        }
        frame_reader_free(&r);
        close(fd);
}

static void header_round_trip(struct strbuf *got, const struct frame *fr, const struct manifest_artifact *a)
{
        if (!a) {
                sb_printf(got, "%s;", fr->type);
                return;
        }
        sb_printf(got, "%s %s %s %s %lld%s%s;", a->path, a->kind, a->origin, a->status, (long long)a->redactions.v,
                  a->absent.set && a->absent.v ? " absent" : "", a->error ? " error" : "");
        /* Every field it set makes the trip through the table: writing it gives the header back. */
        json_object *again = artifact_to_json(a), *t, *size;
        json_object *h = json_object_get(fr->hdr);
        json_object_object_get_ex(h, "t", &t);
        json_object_object_get_ex(h, "size", &size);
        json_object_object_add(again, "t", json_object_get(t));
        json_object_object_add(again, "size", json_object_get(size));
        assert_true(json_object_equal(again, h));
        json_object_put(again);
        json_object_put(h);
}

static void path_size_lines(struct strbuf *got, const struct frame *fr, const struct manifest_artifact *a)
{
        if (!a)
                return;
        sb_printf(got, "%s %llu", a->path, (unsigned long long)fr->size);
        if (a->lines.set)
                sb_printf(got, " lines %lld", (long long)a->lines.v);
        sb_puts(got, ";");
}

/* The sink's frame headers are manifest records: each reads back with the table. */
static void test_sink_headers(void **state)
{
        char root[] = "/tmp/evodiag-mwrite-XXXXXX";
        assert_non_null(mkdtemp(root));
        char path[256];
        snprintf(path, sizeof(path), "%s/proc", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/proc/meminfo", root);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("MemTotal: 1 kB\npassword=hunter2\n", f);
        fclose(f);
        assert_int_equal(rootfs_set(root), 0);

        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct bundle_sink s = {.fd = p[1], .collector = "memory", .red = redactor_new(), .artifact_max = 1 << 20};
        sink_file(&s, "/proc/meminfo");
        sink_file(&s, "/proc/absent");
        sink_text(&s, "notes.txt", "derived", "evodiag", "hello\n", 6);
        sink_missing(&s, "api.json", "http", "http://127.0.0.1:1/", "error", "connection refused");
        sink_log(&s, "a log line");
        close(p[1]);
        redactor_free(s.red);

        struct strbuf got = {0};
        read_artifacts(p[0], &got, header_round_trip);
        assert_string_equal(got.s, "host/proc/meminfo file /proc/meminfo ok 1;"
                                   "host/proc/absent file /proc/absent skipped 0 absent error;"
                                   "collectors/memory/notes.txt derived evodiag ok 0;"
                                   "collectors/memory/api.json http http://127.0.0.1:1/ error 0 absent error;"
                                   "log;");
        sb_free(&got);
        rootfs_set(NULL);
        snprintf(path, sizeof(path), "%s/proc/meminfo", root);
        unlink(path);
        snprintf(path, sizeof(path), "%s/proc", root);
        rmdir(path);
        rmdir(root);
}

/* ---- what a collector child sends of what its checks read (collectors/sink.c) ---- */

static void put_file(const char *root, const char *rel, const char *text)
{
        char path[512];
        snprintf(path, sizeof(path), "%s%s", root, rel);
        for (char *sl = strchr(path + strlen(root) + 1, '/'); sl; sl = strchr(sl + 1, '/')) {
                *sl = 0;
                (void)mkdir(path, 0755);
                *sl = '/';
        }
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void trace_check(struct ctx *c, struct findings *fs)
{
        (void)c;
        char *t = NULL;
        const char *reads[] = {"/proc/meminfo", "/proc/cpuinfo", "/proc/2/cmdline", "/proc/3/cmdline", "/proc/4/cmdline"};
        for (size_t i = 0; i < ARRAY_SIZE(reads); i++) {
                assert_true(rootfs_read(reads[i], 4096, &t, NULL) > 0);
                free(t);
        }
        assert_int_equal(rootfs_count_lines("/proc/1/maps"), 2);
        /* What the check itself put in the snapshot (evo's header bytes) is its own evidence. */
        rootfs_snapshot_put("/dev/shm/evo_a", "EVO", 3);
        assert_int_equal(rootfs_read("/dev/shm/evo_a", 4096, &t, NULL), 3);
        free(t);
        fnd_add(fs, SEV_WARN, "trace.x", "pid 3 holds too much");
}

static const struct check_info trace_checks[] = {{"trace.x", "a check", "why and what to do", false}, {0}};
static const struct collector trace_collector = {.name = "trace", .checks = trace_checks, .check = trace_check};

static int noted;
static void note_findings(void *arg, const struct findings *fs)
{
        (void)arg;
        noted = (int)fs->n;
}

/* The bundle's trim, as the test wants it: pid 3's command line is kept (a finding names it). */
static bool leaves_out(void *arg, const char *path)
{
        (void)arg;
        return strstr(path, "/cmdline") && !strstr(path, "/proc/3/");
}

/* A file an earlier collector already sent (the snapshot) is not redacted and sent
 * again: the parent keeps the first copy. A counted one still gives its line count,
 * without a payload; a command line goes again only if the bundle keeps it now;
 * what no collector sent before goes whole. */
static void test_trace_sent_once(void **state)
{
        (void)state;
        char root[] = "/tmp/evodiag-mwrite-XXXXXX";
        assert_non_null(mkdtemp(root));
        put_file(root, "/proc/meminfo", "MemTotal: 1 kB\n");
        put_file(root, "/proc/cpuinfo", "processor : 0\n");
        static const char maps[] = "00400000-00401000 r-xp 0 0:0 0 /a\n00401000-00402000 rw-p 0 0:0 0 /a\n";
        put_file(root, "/proc/1/maps", maps);
        put_file(root, "/proc/2/cmdline", "sleep");
        put_file(root, "/proc/3/cmdline", "app");
        put_file(root, "/proc/4/cmdline", "new");
        assert_int_equal(rootfs_set(root), 0);
        /* What earlier collectors stored (the parent's snapshot, inherited through fork). */
        rootfs_snapshot_put("/proc/meminfo", "MemTotal: 1 kB\n", 15);
        rootfs_snapshot_put("/proc/1/maps", maps, strlen(maps));
        rootfs_snapshot_put("/proc/2/cmdline", "sleep\0" "1\0", 8);
        rootfs_snapshot_put("/proc/3/cmdline", "app\0", 4);

        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct bundle_child_arg arg = {.ctx = {.self = &trace_collector}, .trace_max = 1 << 20};
        arg.sink = (struct bundle_sink){.collector = "trace", .red = redactor_new(), .artifact_max = 1 << 20,
                                        .note_findings = note_findings, .leaves_out = leaves_out};
        noted = -1;
        bundle_child(&arg, p[1]);
        close(p[1]);
        redactor_free(arg.sink.red);
        assert_int_equal(noted, 1);

        struct strbuf got = {0};
        read_artifacts(p[0], &got, path_size_lines);
        assert_string_equal(got.s, "host/proc/cpuinfo 14;host/proc/3/cmdline 4;host/proc/4/cmdline 3;host/proc/1/maps 0 lines 2;"
                                   "host/dev/shm/evo_a 3;");
        sb_free(&got);
        rootfs_set(NULL);
        const char *rm[] = {"/proc/meminfo", "/proc/cpuinfo", "/proc/1/maps", "/proc/2/cmdline", "/proc/3/cmdline",
                            "/proc/4/cmdline", "/proc/1", "/proc/2", "/proc/3", "/proc/4", "/proc", ""};
        for (size_t i = 0; i < ARRAY_SIZE(rm); i++) {
                char path[512];
                snprintf(path, sizeof(path), "%s%s", root, rm[i]);
                if (unlink(path) < 0)
                        rmdir(path);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_streamed_same_text),
                cmocka_unit_test(test_findings_streamed_same_text),
                cmocka_unit_test(test_names_kept_readable),
                cmocka_unit_test(test_sink_headers),
                cmocka_unit_test(test_trace_sent_once),
        };
        return cmocka_run_group_tests_name("manifest_write", tests, NULL, NULL);
}
