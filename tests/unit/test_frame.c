/* Unit tests: collectors/frame.c, the one framing between children and parents.
 * The reader gets real pipes fed the way a child can feed them: a byte at a time,
 * garbage, lines and payloads over their bounds, streams that end inside a frame,
 * a writer that stops talking (deadline) or a signal (stop flag); watch's requests
 * and answers and the findings stream check every ID against the collector. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include "collectors/frame.h"
#include "collectors/sampler.h"
#include "lib/child.h"

static void make_pipe(int p[2])
{
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
}

/* A child writes `len` bytes of `data` in pieces of `step` bytes, then closes (or,
 * with hold_ms, keeps the pipe open that long first). */
static pid_t writer(int p[2], const char *data, size_t len, size_t step, unsigned hold_ms)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                for (size_t pos = 0; pos < len; pos += step)
                        if (write_all(p[1], data + pos, len - pos < step ? len - pos : step) < 0)
                                _exit(1);
                if (hold_ms)
                        usleep(hold_ms * 1000);
                _exit(0);
        }
        close(p[1]);
        return pid;
}

static void reap(pid_t pid)
{
        int st;
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
}

/* Everything a poll loop would get out of `stream`, read in pieces of `step`:
 * "type/size/payload" per frame, then the final code and why. */
static char *push_all(const char *stream, size_t len, size_t step, uint64_t payload_max)
{
        int p[2];
        make_pipe(p);
        pid_t pid = writer(p, stream, len, step, 0);
        struct frame_reader r;
        frame_reader_init(&r, p[0], payload_max);
        struct strbuf out = {0};
        int k = 0;
        for (;;) {
                long got = frame_reader_fill(&r);
                assert_true(got >= 0);
                struct frame f;
                while ((k = frame_next(&r, &f)) > 0)
                        sb_printf(&out, "%s/%llu/%.*s;", f.type ? f.type : "-", (unsigned long long)f.size, (int)f.size, f.payload);
                if (k != 0)
                        break;
                assert_true(got > 0); /* 0 more bytes needed at the end of the stream is never the answer */
        }
        sb_printf(&out, "=%d %s", k, r.why ? r.why : "");
        frame_reader_free(&r);
        close(p[0]);
        reap(pid);
        return sb_steal(&out);
}

static const char stream[] = "{\"t\":\"log\",\"msg\":\"hi\"}\n"
                             "{\"t\":\"artifact\",\"path\":\"host/a\",\"size\":5}\nhello"
                             "{\"t\":\"artifact\",\"path\":\"host/b\",\"size\":0}\n"
                             "{\"t\":\"x\",\"size\":3}\n{\n}";

/* The same frames whatever the pieces the pipe delivers them in. */
static void test_short_reads(void **state)
{
        const char *want = "log/0/;artifact/5/hello;artifact/0/;x/3/{\n};=-32 ";
        for (size_t step = 1; step <= 7; step += 3) {
                _cleanup_free_ char *got = push_all(stream, sizeof(stream) - 1, step, 16);
                assert_string_equal(got, want);
        }
        _cleanup_free_ char *whole = push_all(stream, sizeof(stream) - 1, sizeof(stream), 16);
        assert_string_equal(whole, want);
}

static void expect_push(const char *s, uint64_t payload_max, const char *want)
{
        _cleanup_free_ char *got = push_all(s, strlen(s), 3, payload_max);
        if (!strstr(got, want))
                fail_msg("for %s\n  want: %s\n  got:  %s", s, want, got);
}

static void test_garbage(void **state)
{
        expect_push("hello\n", 0, "=-71 a frame header that is not a JSON object");
        expect_push("\n", 0, "=-71 a frame header that is not a JSON object");
        expect_push("[1,2]\n", 0, "=-71 a frame header that is not a JSON object");
        expect_push("{\"t\":\"log\"} {}\n", 0, "=-71 a frame header that is not a JSON object");
        expect_push("{\"t\":\"log\"\n", 0, "=-71 a frame header that is not a JSON object");
        expect_push("{\"t\":\"x\",\"size\":-1}\n", 16, "=-71 a frame of the wrong shape (its size is not a byte count)");
        expect_push("{\"t\":\"x\",\"size\":1.5}\n", 16, "its size is not a byte count");
        expect_push("{\"t\":\"x\",\"size\":\"5\"}\n", 16, "its size is not a byte count");
        expect_push("{\"t\":\"x\",\"size\":1e300}\n", 16, "its size is not a byte count");
        /* A frame before the garbage still arrives. */
        expect_push("{\"t\":\"ok\"}\nnope\n", 0, "ok/0/;=-71 a frame header that is not a JSON object");
}

/* Bounds: a header line, a declared payload. Nothing is buffered past them. */
static void test_oversize(void **state)
{
        size_t n = 3u << 20;
        char *big = xmalloc(n + 1);
        memset(big, 'x', n);
        memcpy(big, "{\"t\":\"", 6);
        big[n] = 0;
        _cleanup_free_ char *got = push_all(big, n, 65536, 0);
        assert_string_equal(got, "=-71 a frame header over 1048576 bytes");
        /* One byte under the bound is a header like any other. */
        size_t m = FRAME_HEADER_MAX - 1;
        memset(big, ' ', m);
        memcpy(big, "{\"t\":\"log\"", 10);
        big[m - 1] = '}';
        big[m] = '\n';
        _cleanup_free_ char *fits = push_all(big, m + 1, 65536, 0);
        assert_string_equal(fits, "log/0/;=-32 ");
        free(big);
        expect_push("{\"t\":\"x\",\"size\":17}\n", 16, "=-27 a frame payload of 17 bytes, more than 16");
        expect_push("{\"t\":\"x\",\"size\":9223372036854775807}\n", 16, "=-27 a frame payload of 9223372036854775807 bytes");
        expect_push("{\"t\":\"x\",\"size\":1}\nz", 0, "=-27 a frame of the wrong shape (a payload of 1 bytes where none may come)");
}

/* The stream ends inside a header or a payload: cut short, never a frame. */
static void test_truncated(void **state)
{
        expect_push("{\"t\":\"log\"}", 0, "=-74 the last frame is cut short");
        expect_push("{\"t\":\"x\",\"size\":5}\nhel", 16, "=-74 the last frame is cut short");
        expect_push("{\"t\":\"x\",\"size\":5}\n", 16, "=-74 the last frame is cut short");
        expect_push("", 0, "=-32 ");
        expect_push("{\"t\":\"a\"}\n{\"t\":\"b\"}\n", 0, "a/0/;b/0/;=-32 ");
}

/* ---- one stream at a time: deadline, stop flag, payload in pieces ---- */

static void test_pull_payload(void **state)
{
        size_t n = 300000;
        struct strbuf s = {0};
        sb_printf(&s, "{\"t\":\"artifact\",\"size\":%zu}\n", n);
        for (size_t i = 0; i < n; i++)
                sb_putc(&s, (char)('a' + i % 26));
        sb_puts(&s, "{\"t\":\"skipped\",\"size\":4}\nabcd{\"t\":\"last\"}\n");
        int p[2];
        make_pipe(p);
        pid_t pid = writer(p, s.s, s.len, 4096, 0);
        struct frame_reader r;
        frame_reader_init(&r, p[0], INT64_MAX);
        r.deadline_ms = now_ms_monotonic() + 20000;
        struct frame f;
        assert_int_equal(frame_read(&r, &f), 1);
        assert_string_equal(f.type, "artifact");
        assert_int_equal(f.size, n);
        assert_null(f.payload);
        struct strbuf got = {0};
        const char *chunk;
        long k;
        while ((k = frame_read_payload(&r, &chunk)) > 0) {
                assert_true((size_t)k <= n);
                sb_putn(&got, chunk, (size_t)k);
        }
        assert_int_equal(k, 0);
        assert_int_equal(got.len, n);
        assert_memory_equal(got.s, s.s + s.len - n - strlen("{\"t\":\"skipped\",\"size\":4}\nabcd{\"t\":\"last\"}\n"), n);
        /* A payload nobody reads is skipped by the next frame_read. */
        assert_int_equal(frame_read(&r, &f), 1);
        assert_string_equal(f.type, "skipped");
        assert_int_equal(frame_read(&r, &f), 1);
        assert_string_equal(f.type, "last");
        assert_int_equal(frame_read(&r, &f), 0);
        assert_int_equal(r.err, 0);
        frame_reader_free(&r);
        close(p[0]);
        reap(pid);
        sb_free(&s);
        sb_free(&got);
}

/* A child that stops talking mid-header, or mid-payload, costs the deadline, no more. */
static void test_pull_deadline(void **state)
{
        static const char *const partial[] = {"{\"t\":\"lo", "{\"t\":\"x\",\"size\":10}\nabc"};
        for (size_t i = 0; i < ARRAY_SIZE(partial); i++) {
                int p[2];
                make_pipe(p);
                pid_t pid = writer(p, partial[i], strlen(partial[i]), 64, 30000);
                struct frame_reader r;
                frame_reader_init(&r, p[0], INT64_MAX);
                uint64_t t0 = now_ms_monotonic();
                r.deadline_ms = t0 + 300;
                struct frame f;
                int k = frame_read(&r, &f);
                if (i == 1) {
                        assert_int_equal(k, 1);
                        const char *chunk;
                        long n;
                        while ((n = frame_read_payload(&r, &chunk)) > 0)
                                ;
                        k = (int)n;
                }
                uint64_t took = now_ms_monotonic() - t0;
                assert_int_equal(k, -ETIMEDOUT);
                assert_int_equal(r.err, -ETIMEDOUT);
                assert_true(took >= 290 && took < 5000);
                frame_reader_free(&r);
                close(p[0]);
                reap(pid);
        }
}

/* The writer ends inside a payload: the reader says so (-EPIPE), the next read too. */
static void test_pull_eof_mid_payload(void **state)
{
        const char *s = "{\"t\":\"x\",\"size\":10}\nabc";
        int p[2];
        make_pipe(p);
        pid_t pid = writer(p, s, strlen(s), 64, 0);
        struct frame_reader r;
        frame_reader_init(&r, p[0], INT64_MAX);
        r.deadline_ms = now_ms_monotonic() + 20000;
        struct frame f;
        assert_int_equal(frame_read(&r, &f), 1);
        const char *chunk;
        assert_int_equal(frame_read_payload(&r, &chunk), 3);
        assert_memory_equal(chunk, "abc", 3);
        assert_int_equal(frame_read_payload(&r, &chunk), -EPIPE);
        assert_int_equal(frame_read(&r, &f), -EPIPE);
        frame_reader_free(&r);
        close(p[0]);
        reap(pid);
}

static volatile sig_atomic_t stop_now;
static void on_alarm(int sig) { stop_now = 1; }

/* SIGINT/SIGTERM during a bundle: the handler sets the flag, the wait ends. */
static void test_pull_stop(void **state)
{
        int p[2];
        make_pipe(p);
        pid_t pid = writer(p, "", 0, 1, 30000);
        struct frame_reader r;
        frame_reader_init(&r, p[0], 0);
        r.stop = &stop_now;
        struct sigaction sa = {.sa_handler = on_alarm}, old;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, &old);
        ualarm(200000, 0);
        struct frame f;
        uint64_t t0 = now_ms_monotonic();
        assert_int_equal(frame_read(&r, &f), -EINTR);
        assert_true(now_ms_monotonic() - t0 < 5000);
        sigaction(SIGALRM, &old, NULL);
        frame_reader_free(&r);
        close(p[0]);
        reap(pid);
}

/* ---- watch ---- */

static void test_request(void **state)
{
        int p[2];
        make_pipe(p);
        assert_int_equal(frame_send_request(p[1], 0), 0);
        assert_int_equal(frame_send_request(p[1], 41), 0);
        const char *bad = "{\"t\":\"request\",\"n\":-1}\n";
        assert_int_equal(write_all(p[1], bad, strlen(bad)), 0);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], 0);
        uint64_t n = 99;
        assert_int_equal(frame_take_request(&r, &n), 1);
        assert_int_equal(n, 0);
        assert_int_equal(frame_take_request(&r, &n), 1);
        assert_int_equal(n, 41);
        assert_int_equal(frame_take_request(&r, &n), -EPROTO);
        assert_string_equal(r.why, "a request of the wrong shape");
        assert_int_equal(frame_take_request(&r, &n), 0); /* then the end: the sampler stops */
        frame_reader_free(&r);
        close(p[0]);
}

/* The processes started since the last request travel with it; a request without
 * them says so (the sampler lists /proc itself); bad pids are refused. */
static void test_request_pids(void **state)
{
        int p[2];
        make_pipe(p);
        int pids[] = {4242, 17, 99999};
        assert_int_equal(frame_send_request_pids(p[1], 3, pids, 3), 0);
        assert_int_equal(frame_send_request_pids(p[1], 4, NULL, 0), 0);
        assert_int_equal(frame_send_request(p[1], 5), 0);
        const char *bad = "{\"t\":\"request\",\"n\":6,\"new\":[12,-3]}\n";
        assert_int_equal(write_all(p[1], bad, strlen(bad)), 0);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], 0);
        uint64_t n = 0;
        int got[2];
        size_t np = 9;
        bool known = false;
        assert_int_equal(frame_take_request_pids(&r, &n, got, 2, &np, &known), 1);
        assert_int_equal(n, 3);
        assert_true(known);
        assert_int_equal(np, 2); /* at most max */
        assert_int_equal(got[0], 4242);
        assert_int_equal(got[1], 17);
        assert_int_equal(frame_take_request_pids(&r, &n, got, 2, &np, &known), 1);
        assert_int_equal(n, 4);
        assert_true(known);
        assert_int_equal(np, 0);
        assert_int_equal(frame_take_request_pids(&r, &n, got, 2, &np, &known), 1);
        assert_int_equal(n, 5);
        assert_false(known);
        assert_int_equal(frame_take_request_pids(&r, &n, got, 2, &np, &known), -EPROTO);
        frame_reader_free(&r);
        close(p[0]);
}

/* One sample frame of the payload text, read back by the parent's reader. */
static int answer_of(const char *hdr_and_payload, const struct collector *c, struct sample_answer *a, char **why)
{
        int p[2];
        make_pipe(p);
        assert_int_equal(write_all(p[1], hdr_and_payload, strlen(hdr_and_payload)), 0);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], SAMPLE_PAYLOAD_MAX);
        struct frame f;
        assert_true(frame_reader_fill(&r) > 0);
        assert_int_equal(frame_next(&r, &f), 1);
        int e = sample_answer_take(a, &f, r.tok, c, why);
        frame_reader_free(&r);
        close(p[0]);
        return e;
}

static void test_sample_round_trip(void **state)
{
        const struct collector *mem = collector_find("memory");
        assert_non_null(mem);
        struct sample s;
        sample_init(&s);
        sample_value(&s, "memory.available_bytes", NULL, 123456789.0, "bytes");
        sample_value(&s, "memory.x", "node 0", 0.25, NULL);
        sample_status(&s, "memory.available", NULL, SEV_WARN, "low: %d%%", 7);
        sample_status(&s, "memory.findings_cut", "s", SEV_UNKNOWN, "cut");
        int p[2];
        make_pipe(p);
        assert_int_equal(frame_send_sample(p[1], 7, true, &s), 0);
        assert_int_equal(frame_send_sample(p[1], 8, false, &s), 0);
        close(p[1]);
        sample_free(&s);
        struct frame_reader r;
        frame_reader_init(&r, p[0], SAMPLE_PAYLOAD_MAX);
        assert_true(frame_reader_fill(&r) > 0);
        struct frame f;
        assert_int_equal(frame_next(&r, &f), 1);
        struct sample_answer a;
        char *why = NULL;
        assert_int_equal(sample_answer_take(&a, &f, r.tok, mem, &why), 0);
        assert_int_equal(a.n, 7);
        assert_true(a.applies);
        assert_int_equal(a.nv, 2);
        assert_string_equal(a.v[0].key, "memory.available_bytes");
        assert_null(a.v[0].subject);
        assert_string_equal(a.v[0].unit, "bytes");
        assert_true(a.v[0].value == 123456789.0);
        assert_string_equal(a.v[1].subject, "node 0");
        assert_null(a.v[1].unit);
        assert_true(a.v[1].value == 0.25);
        assert_int_equal(a.ns, 2);
        assert_string_equal(a.s[0].id, "memory.available");
        assert_int_equal(a.s[0].sev, SEV_WARN);
        assert_string_equal(a.s[0].summary, "low: 7%");
        assert_string_equal(a.s[1].subject, "s");
        /* The one JSON form of a value, and back. */
        json_object *o = svalue_to_json(&a.v[1]);
        struct svalue back;
        assert_true(svalue_from_json(o, &back));
        assert_string_equal(back.key, "memory.x");
        assert_string_equal(back.subject, "node 0");
        assert_null(back.unit);
        assert_true(back.value == 0.25);
        json_object_put(o);
        sample_answer_free(&a);
        assert_int_equal(frame_next(&r, &f), 1);
        assert_int_equal(sample_answer_take(&a, &f, r.tok, mem, &why), 0);
        assert_int_equal(a.n, 8);
        assert_false(a.applies);
        assert_int_equal(a.nv + a.ns, 0);
        sample_answer_free(&a);
        frame_reader_free(&r);
        close(p[0]);
        /* Outside the pipe a value is an object, and only an object. */
        o = json_tokener_parse("[\"memory.x\",null,5,null]");
        assert_false(svalue_from_json(o, &back));
        json_object_put(o);
        o = json_tokener_parse("{\"key\":\"memory.x\",\"value\":\"5\"}");
        assert_false(svalue_from_json(o, &back));
        json_object_put(o);
}

static void test_sample_refused(void **state)
{
        const struct collector *mem = collector_find("memory");
        static const struct {
                const char *hdr, *payload, *why;
        } cases[] = {
                {"\"n\":1,\"applies\":true", "{}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":{}}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[[\"k\",null,\"5\",null]],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[[\"k\",null,5]],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[[5,null,5,null]],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[{\"key\":\"k\",\"value\":5}],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":[[\"memory.available\",null,\"bad\",\"x\"]]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":[[\"memory.available\",7,\"ok\",\"x\"]]}", "unreadable"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":[[\"shm.orphaned\",null,\"crit\",\"x\"]]}",
                 "sent an undeclared check ID 'shm.orphaned'"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":[[\"memory.\\u001b[2J\",null,\"crit\",\"x\"]]}",
                 "sent an undeclared check ID 'memory.\\e[2J'"},
                {"\"n\":1,\"applies\":true", "{\"v\":[],\"s\":[]} x", "unreadable"},
                {"\"n\":-1,\"applies\":true", "{\"v\":[],\"s\":[]}", "unreadable"},
                {"\"applies\":true", "{\"v\":[],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":\"yes\"", "{\"v\":[],\"s\":[]}", "unreadable"},
                {"\"n\":1,\"applies\":false", "{\"v\":[],\"s\":[]}", "unreadable"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *frame = xasprintf("{\"t\":\"sample\",%s,\"size\":%zu}\n%s", cases[i].hdr,
                                                       strlen(cases[i].payload), cases[i].payload);
                struct sample_answer a;
                char *why = NULL;
                int e = answer_of(frame, mem, &a, &why);
                if (e != -EPROTO || !why || !strstr(why, cases[i].why))
                        fail_msg("case %zu: %d %s", i, e, why ? why : "(none)");
                assert_int_equal(a.nv + a.ns, 0);
                free(why);
        }
        /* Not a sample frame at all. */
        struct sample_answer a;
        char *why = NULL;
        assert_int_equal(answer_of("{\"t\":\"findings\",\"n\":1,\"applies\":true}\n", mem, &a, &why), -EPROTO);
        free(why);
}

/* ---- watch's answers: only what changed since the child's last one ---- */

/* The child side sends s against *sent; the parent side applies it to *got. Returns
 * the payload as it went over the pipe (caller frees). */
static char *delta_round(const struct sample *s, struct sample_answer *sent, struct sample_answer *got, uint64_t n, int *rc)
{
        int p[2];
        make_pipe(p);
        assert_int_equal(frame_send_sample_since(p[1], n, true, s, sent), 0);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], SAMPLE_PAYLOAD_MAX);
        struct frame f;
        assert_true(frame_reader_fill(&r) > 0);
        assert_int_equal(frame_next(&r, &f), 1);
        char *text = xstrndup(f.payload, f.size);
        char *why = NULL;
        *rc = sample_answer_apply(got, &f, r.tok, collector_find("memory"), &why);
        free(why);
        frame_reader_free(&r);
        close(p[0]);
        return text;
}

/* Two subjects: node 0 (value 1, ok) and, when with_node1, node 1 (value v1, status sev1). */
static void delta_sample(struct sample *s, bool with_node1, double v1, enum severity sev1)
{
        sample_init(s);
        sample_value(s, "memory.available_bytes", "node 0", 1.0, "bytes");
        if (with_node1)
                sample_value(s, "memory.available_bytes", "node 1", v1, "bytes");
        sample_status(s, "memory.available", "node 0", SEV_OK, "fine");
        if (with_node1)
                sample_status(s, "memory.available", "node 1", sev1, "at %.0f", v1);
}

static void test_sample_delta(void **state)
{
        struct sample_answer sent = {0}, got = {0};
        struct sample s;
        int rc;
        /* The first answer of a child is whole. */
        delta_sample(&s, true, 2, SEV_OK);
        _cleanup_free_ char *t1 = delta_round(&s, &sent, &got, 0, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_string_equal(t1, "{\"v\":[[\"memory.available_bytes\",\"node 0\",1.0,\"bytes\"],[\"memory.available_bytes\",\"node 1\",2.0,\"bytes\"]],"
                                "\"s\":[[\"memory.available\",\"node 0\",\"ok\",\"fine\"],[\"memory.available\",\"node 1\",\"ok\",\"at 2\"]]}");
        assert_true(got.whole);
        assert_int_equal(got.nv, 2);
        assert_int_equal(got.ns, 2);
        assert_true(got.dirty[0] && got.dirty[1]);
        sample_answer_merged(&got);
        assert_false(got.whole);
        /* Unchanged: nothing but "the next two are as they were". */
        delta_sample(&s, true, 2, SEV_OK);
        _cleanup_free_ char *t2 = delta_round(&s, &sent, &got, 1, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_string_equal(t2, "{\"v\":[2],\"s\":[2]}");
        assert_false(got.whole);
        assert_int_equal(got.nv, 2);
        assert_true(got.v[1].value == 2.0);
        assert_string_equal(got.v[1].subject, "node 1");
        assert_false(got.dirty[0] || got.dirty[1]);
        assert_int_equal(got.ngone, 0);
        /* A changed value and verdict are sent, the unchanged ones are not. */
        delta_sample(&s, true, 3, SEV_WARN);
        _cleanup_free_ char *t3 = delta_round(&s, &sent, &got, 2, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_string_equal(t3, "{\"v\":[1,[3.0]],\"s\":[1,[\"warn\",\"at 3\"]]}");
        assert_true(got.v[0].value == 1.0);
        assert_true(got.v[1].value == 3.0);
        assert_string_equal(got.v[1].unit, "bytes");
        assert_int_equal(got.s[1].sev, SEV_WARN);
        assert_string_equal(got.s[1].summary, "at 3");
        assert_string_equal(got.s[1].subject, "node 1");
        assert_false(got.dirty[0]);
        assert_true(got.dirty[1]);
        sample_answer_merged(&got);
        /* A subject that went away is sent as gone. */
        delta_sample(&s, false, 0, SEV_OK);
        _cleanup_free_ char *t4 = delta_round(&s, &sent, &got, 3, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_string_equal(t4, "{\"v\":[1,-1],\"s\":[1,-1]}");
        assert_int_equal(got.nv, 1);
        assert_int_equal(got.ns, 1);
        assert_string_equal(got.v[0].subject, "node 0");
        assert_int_equal(got.ngone, 1);
        assert_string_equal(got.gone[0].id, "memory.available");
        assert_string_equal(got.gone[0].subject, "node 1");
        assert_false(got.dirty[0]);
        sample_answer_merged(&got);
        assert_int_equal(got.ngone, 0);
        /* It comes back: a new entry again. */
        delta_sample(&s, true, 4, SEV_CRIT);
        _cleanup_free_ char *t5 = delta_round(&s, &sent, &got, 4, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_string_equal(t5, "{\"v\":[1,[\"memory.available_bytes\",\"node 1\",4.0,\"bytes\"]],"
                                "\"s\":[1,[\"memory.available\",\"node 1\",\"crit\",\"at 4\"]]}");
        assert_int_equal(got.ns, 2);
        assert_int_equal(got.s[1].sev, SEV_CRIT);
        assert_true(got.dirty[1]);
        sample_answer_merged(&got);
        /* A restarted child (after a missed deadline: a new process, nothing sent yet)
         * resends everything, and the parent (which dropped what it held when it killed
         * the old one) takes it whole. */
        sample_answer_free(&sent);
        sample_answer_free(&got);
        delta_sample(&s, true, 4, SEV_CRIT);
        _cleanup_free_ char *t6 = delta_round(&s, &sent, &got, 0, &rc);
        sample_free(&s);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(t6, "[\"memory.available_bytes\",\"node 0\",1.0,\"bytes\"]"));
        assert_non_null(strstr(t6, "[\"memory.available\",\"node 1\",\"crit\",\"at 4\"]"));
        assert_true(got.whole);
        assert_int_equal(got.nv, 2);
        assert_int_equal(got.ns, 2);
        /* A change against a state the parent does not hold is refused: the parent never
         * guesses (here the parent dropped its state, the child did not). */
        struct sample_answer none = {0};
        delta_sample(&s, true, 5, SEV_CRIT);
        _cleanup_free_ char *t7 = delta_round(&s, &sent, &none, 1, &rc);
        sample_free(&s);
        assert_string_equal(t7, "{\"v\":[1,[5.0]],\"s\":[1,[\"crit\",\"at 5\"]]}");
        assert_int_equal(rc, -EPROTO);
        assert_int_equal(none.nv + none.ns, 0);
        sample_answer_free(&sent);
        sample_answer_free(&got);
}

/* The parent's merge (watch_round) of such answers: one sampler of a watch, its answers
 * given as the child would send them. */
static void feed(struct watch *w, uint64_t n, const char *payload)
{
        _cleanup_free_ char *fr = xasprintf("{\"t\":\"sample\",\"n\":%llu,\"applies\":true,\"size\":%zu}\n%s", (unsigned long long)n,
                                            strlen(payload), payload);
        int p[2];
        make_pipe(p);
        assert_int_equal(write_all(p[1], fr, strlen(fr)), 0);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], SAMPLE_PAYLOAD_MAX);
        struct frame f;
        while (frame_reader_fill(&r) > 0)
                ;
        assert_int_equal(frame_next(&r, &f), 1);
        char *why = NULL;
        assert_int_equal(sample_answer_apply(&w->s[0].cur, &f, r.tok, w->s[0].c, &why), 0);
        w->s[0].answered = true;
        frame_reader_free(&r);
        close(p[0]);
}

/* The round's events as "id subject sev (prev|new|gone)" lines; *nvals: its values. */
static char *round_of(struct watch *w, size_t *nvals)
{
        size_t nev;
        struct svalue *fresh;
        struct watch_event *ev = watch_round(w, 1000 * (w->round + 1), &nev, &fresh, nvals);
        struct strbuf b = {0};
        for (size_t i = 0; i < nev; i++)
                sb_printf(&b, "%s %s %s %s\n", ev[i].id, ev[i].subject ? ev[i].subject : "-", severity_name(ev[i].sev),
                          ev[i].gone ? "gone" : ev[i].fresh ? "new" : severity_name(ev[i].prev));
        watch_events_free(ev, nev);
        free(fresh);
        return b.s ? b.s : xstrdup("");
}

static size_t statuses_now(struct watch *w)
{
        json_object *a = watch_statuses_json(w);
        size_t n = json_object_array_length(a);
        json_object_put(a);
        return n;
}

static void test_sample_delta_merge(void **state)
{
        static const char *const only[] = {"memory", NULL};
        struct ctx base = {0};
        struct watch w;
        watch_init(&w, &base, 1000, only, NULL, 5000);
        assert_int_equal(w.n, 1);
        size_t nv;
        /* 1: whole: node 1 warns (new, at start) */
        feed(&w, 0, "{\"v\":[[\"memory.a\",\"node 0\",1,null],[\"memory.a\",\"node 1\",2,null]],"
                    "\"s\":[[\"memory.available\",\"node 0\",\"ok\",\"fine\"],[\"memory.available\",\"node 1\",\"warn\",\"low\"]]}");
        _cleanup_free_ char *e1 = round_of(&w, &nv);
        assert_string_equal(e1, "memory.available node 1 warn new\n");
        assert_int_equal(nv, 2);
        assert_int_equal(statuses_now(&w), 2);
        /* 2: nothing changed: no event, every value still there for the recording */
        feed(&w, 1, "{\"v\":[2],\"s\":[2]}");
        _cleanup_free_ char *e2 = round_of(&w, &nv);
        assert_string_equal(e2, "");
        assert_int_equal(nv, 2);
        assert_int_equal(statuses_now(&w), 2);
        /* 3: node 1 goes crit, a value changes */
        feed(&w, 2, "{\"v\":[1,[7]],\"s\":[1,[\"crit\",\"out\"]]}");
        _cleanup_free_ char *e3 = round_of(&w, &nv);
        assert_string_equal(e3, "memory.available node 1 crit warn\n");
        assert_true(w.s[0].cur.v[1].value == 7);
        /* 4: node 1 went away (its "gone" event), node 2 appears */
        feed(&w, 3, "{\"v\":[1,-1],\"s\":[1,-1,[\"memory.available\",\"node 2\",\"warn\",\"low\"]]}");
        _cleanup_free_ char *e4 = round_of(&w, &nv);
        assert_string_equal(e4, "memory.available node 2 warn new\nmemory.available node 1 ok gone\n");
        assert_int_equal(nv, 1);
        assert_int_equal(statuses_now(&w), 2);
        /* 5: the sampler missed its deadline: killed (what the parent held of it is
         * dropped), restarted, and the new child's whole first answer no longer has
         * node 2: gone. */
        sample_answer_free(&w.s[0].cur);
        feed(&w, 0, "{\"v\":[[\"memory.a\",\"node 0\",1,null]],\"s\":[[\"memory.available\",\"node 0\",\"ok\",\"fine\"]]}");
        _cleanup_free_ char *e5 = round_of(&w, &nv);
        assert_string_equal(e5, "memory.available node 2 ok gone\n");
        assert_int_equal(statuses_now(&w), 1);
        watch_free(&w);
}

/* Ops that do not fit the state the parent holds are refused, and the state dropped. */
static void test_sample_delta_refused(void **state)
{
        static const char *const bad[] = {
                "{\"v\":[3],\"s\":[1]}",                 /* keeps more values than there are */
                "{\"v\":[-3],\"s\":[1]}",                /* drops more */
                "{\"v\":[1],\"s\":[1]}",                 /* leaves one old value uncovered */
                "{\"v\":[2],\"s\":[0,1]}",               /* 0 */
                "{\"v\":[2],\"s\":[1,[\"bad\",\"x\"]]}", /* no such severity */
                "{\"v\":[2,[5.0]],\"s\":[1]}",           /* a new value for an entry past the end */
                "{\"v\":[2],\"s\":[1,[\"shm.orphaned\",null,\"crit\",\"x\"]]}", /* an undeclared ID */
                "{\"v\":[2],\"s\":[1,\"x\"]}",
        };
        const struct collector *mem = collector_find("memory");
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                const char *whole = "{\"v\":[[\"memory.a\",null,1,null],[\"memory.b\",null,2,null]],"
                                    "\"s\":[[\"memory.available\",null,\"ok\",\"x\"]]}";
                _cleanup_free_ char *f1 = xasprintf("{\"t\":\"sample\",\"n\":0,\"applies\":true,\"size\":%zu}\n%s", strlen(whole), whole);
                _cleanup_free_ char *f2 = xasprintf("{\"t\":\"sample\",\"n\":1,\"applies\":true,\"size\":%zu}\n%s", strlen(bad[i]), bad[i]);
                int p[2];
                make_pipe(p);
                assert_int_equal(write_all(p[1], f1, strlen(f1)), 0);
                assert_int_equal(write_all(p[1], f2, strlen(f2)), 0);
                close(p[1]);
                struct frame_reader r;
                frame_reader_init(&r, p[0], SAMPLE_PAYLOAD_MAX);
                struct frame f;
                struct sample_answer a = {0};
                char *why = NULL;
                while (frame_reader_fill(&r) > 0)
                        ;
                assert_int_equal(frame_next(&r, &f), 1);
                assert_int_equal(sample_answer_apply(&a, &f, r.tok, mem, &why), 0);
                assert_int_equal(a.nv, 2);
                assert_int_equal(frame_next(&r, &f), 1);
                if (sample_answer_apply(&a, &f, r.tok, mem, &why) != -EPROTO || !why)
                        fail_msg("case %zu accepted", i);
                assert_int_equal(a.nv + a.ns + a.ngone, 0);
                free(why);
                sample_answer_free(&a);
                frame_reader_free(&r);
                close(p[0]);
        }
}

/* ---- findings: IDs the collector declares, and only those ---- */

static int rx_of(const char *frames, const struct collector *c, struct findings_rx *rx, char **why)
{
        size_t pos = 0;
        _cleanup_free_ char *copy = xstrdup(frames);
        char *line;
        while ((line = next_line(copy, &pos))) {
                json_object *h = frame_parse_header(line, strlen(line));
                assert_non_null(h);
                assert_int_equal(findings_rx_frame(rx, h, strlen(line) + 1), 0);
                json_object_put(h);
        }
        return findings_rx_finish(rx, c->name, why);
}

static void test_findings_ids(void **state)
{
        const struct collector *mem = collector_find("memory");
        char *why = NULL;
        struct findings_rx rx = {.c = mem};
        assert_int_equal(rx_of("{\"t\":\"findings\",\"applies\":true,\"findings\":["
                               "{\"id\":\"memory.available\",\"severity\":\"ok\",\"summary\":\"fine\"},"
                               "{\"id\":\"memory.findings_cut\",\"severity\":\"unknown\",\"summary\":\"cut\"}]}\n"
                               "{\"t\":\"findings_end\",\"count\":2}\n",
                               mem, &rx, &why),
                         0);
        assert_int_equal(rx.fs.n, 2);
        findings_rx_free(&rx);
        /* Another collector's check, a made-up one, and the engine's own verdicts are
         * not the child's to send. */
        static const char *const forged[] = {"shm.orphaned", "memory.nope", "memory.crashed", "memory.timeout", "memory"};
        for (size_t i = 0; i < ARRAY_SIZE(forged); i++) {
                rx = (struct findings_rx){.c = mem};
                _cleanup_free_ char *frames = xasprintf("{\"t\":\"findings\",\"applies\":true,\"findings\":["
                                                        "{\"id\":\"memory.available\",\"severity\":\"ok\",\"summary\":\"fine\"},"
                                                        "{\"id\":\"%s\",\"severity\":\"crit\",\"summary\":\"forged\"}]}\n"
                                                        "{\"t\":\"findings_end\",\"count\":2}\n",
                                                        forged[i]);
                assert_int_equal(rx_of(frames, mem, &rx, &why), -EPROTO);
                _cleanup_free_ char *want = xasprintf("sent an undeclared check ID '%s'", forged[i]);
                assert_string_equal(why, want);
                free(why);
                findings_rx_free(&rx);
        }
        /* Without a collector to check against (unit tests of the stream), any ID passes. */
        rx = (struct findings_rx){0};
        assert_int_equal(rx_of("{\"t\":\"findings\",\"applies\":true,\"findings\":[{\"id\":\"x.y\",\"severity\":\"ok\",\"summary\":\"s\"}]}\n"
                               "{\"t\":\"findings_end\",\"count\":1}\n",
                               mem, &rx, &why),
                         0);
        findings_rx_free(&rx);
}

/* The engine's IDs are declared where explain and the report find them. */
static void test_engine_ids(void **state)
{
        const struct collector *owner = NULL;
        static const char *const ids[] = {"memory.timeout", "shm.crashed", "fds.findings_cut"};
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                const struct check_info *ci = check_find(ids[i], &owner);
                assert_non_null(ci);
                assert_non_null(ci->explain);
                assert_false(ci->live);
                assert_true(startswith(ids[i], owner->name));
        }
        assert_null(check_find("nosuch.timeout", NULL));
        assert_null(check_find("memory.timeout.x", NULL));
        assert_null(check_find("timeout", NULL));
        assert_true(collector_declares(collector_find("shm"), "shm.findings_cut"));
        assert_false(collector_declares(collector_find("shm"), "shm.timeout"));
        assert_false(collector_declares(collector_find("shm"), "memory.findings_cut"));
}

static void test_result(void **state)
{
        int p[2];
        make_pipe(p);
        json_object *doc = json_tokener_parse("{\"a\":[1,2,3]}");
        assert_int_equal(frame_send_result(p[1], doc), 0);
        json_object_put(doc);
        close(p[1]);
        struct frame_reader r;
        frame_reader_init(&r, p[0], 1024);
        assert_true(frame_reader_fill(&r) > 0);
        struct frame f;
        assert_int_equal(frame_next(&r, &f), 1);
        assert_string_equal(f.type, "result");
        assert_int_equal(f.size, strlen("{\"a\":[1,2,3]}"));
        assert_memory_equal(f.payload, "{\"a\":[1,2,3]}", f.size);
        frame_reader_free(&r);
        close(p[0]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_short_reads),     cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_oversize),        cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_pull_payload),    cmocka_unit_test(test_pull_deadline),
                cmocka_unit_test(test_pull_eof_mid_payload), cmocka_unit_test(test_pull_stop),
                cmocka_unit_test(test_request),
                cmocka_unit_test(test_request_pids),         cmocka_unit_test(test_sample_round_trip),
                cmocka_unit_test(test_sample_refused),  cmocka_unit_test(test_sample_delta),
                cmocka_unit_test(test_sample_delta_refused), cmocka_unit_test(test_sample_delta_merge),
                cmocka_unit_test(test_findings_ids),
                cmocka_unit_test(test_engine_ids),      cmocka_unit_test(test_result),
        };
        return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
