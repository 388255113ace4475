/* Unit tests: the watch recorder's file format. Real files in a temp dir, cut and
 * damaged the ways a kill -9, a full disk or a bad sector leave them. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "lib/util.h"
#include "report/recorder.h"

/* Sample times later than the session records' own (real) time. */
static uint64_t T0;

static char dir[] = "/tmp/test_recorder.XXXXXX";

static int setup(void **state)
{
        (void)state;
        T0 = now_ms_realtime() + 3600000;
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
        char *p = xasprintf("%s/%s", dir, name);
        _cleanup_free_ char *p1 = xasprintf("%s.1", p);
        unlink(p);
        unlink(p1);
        return p;
}

static json_object *value(const char *key, const char *subject, double v, const char *unit)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        if (subject)
                json_object_object_add(o, "subject", json_object_new_string(subject));
        json_object_object_add(o, "value", json_object_new_double(v));
        if (unit)
                json_object_object_add(o, "unit", json_object_new_string(unit));
        return o;
}

static json_object *event(uint64_t t, const char *id, const char *subject, const char *sev, const char *prev, const char *summary)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("event"));
        json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)t));
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "subject", subject ? json_object_new_string(subject) : NULL);
        json_object_object_add(o, "severity", json_object_new_string(sev));
        json_object_object_add(o, "previous", json_object_new_string(prev));
        json_object_object_add(o, "summary", json_object_new_string(summary));
        json_object_object_add(o, "baseline", json_object_new_boolean(false));
        json_object_object_add(o, "gone", json_object_new_boolean(false));
        return o;
}

/* Writes `rounds` samples of three values (one per round changes), an event every
 * 10th round, and closes. */
static void record(const char *path, uint64_t max, int rounds, int first_round)
{
        char *err = NULL;
        struct recorder *r = recorder_open(path, max, "host-a", 1000, &err);
        assert_non_null(r);
        for (int i = first_round; i < first_round + rounds; i++) {
                json_object *v = json_object_new_array();
                json_object_array_add(v, value("memory.available_bytes", NULL, 1e9 + i, "bytes"));
                json_object_array_add(v, value("memory.loadavg_1m", NULL, 0.25 * i, NULL));
                json_object_array_add(v, value("fds.open", "pid 12 lavinmq", i, "fds"));
                assert_int_equal(recorder_sample(r, T0 + (uint64_t)i * 1000, (uint64_t)i, v), 0);
                json_object_put(v);
                if (i % 10 == 0) {
                        json_object *e = event(T0 + (uint64_t)i * 1000, "fds.system", NULL, i % 20 ? "crit" : "ok",
                                               i % 20 ? "ok" : "crit", "a summary");
                        assert_int_equal(recorder_event(r, e), 0);
                        json_object_put(e);
                }
        }
        recorder_close(r);
}

struct got {
        json_object *items; /* array of every item delivered */
};

static int collect(void *arg, json_object *item)
{
        struct got *g = arg;
        json_object_array_add(g->items, json_object_get(item));
        return 0;
}

static size_t count_type(json_object *items, const char *type)
{
        size_t n = 0;
        for (size_t i = 0; i < json_object_array_length(items); i++) {
                json_object *t;
                if (json_object_object_get_ex(json_object_array_get_idx(items, i), "type", &t) &&
                    streq(json_object_get_string(t), type))
                        n++;
        }
        return n;
}

static json_object *last_of(json_object *items, const char *type)
{
        for (size_t i = json_object_array_length(items); i-- > 0;) {
                json_object *o = json_object_array_get_idx(items, i), *t;
                if (json_object_object_get_ex(o, "type", &t) && streq(json_object_get_string(t), type))
                        return o;
        }
        return NULL;
}

static int64_t jint(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static off_t size_of(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 ? st.st_size : -1;
}

static void read_all(const char *path, struct got *g, struct rec_stats *st, int want_ret)
{
        g->items = json_object_new_array();
        assert_int_equal(recorder_read(path, 0, collect, g, st), want_ret);
}

static void test_crc32(void **state)
{
        (void)state;
        assert_int_equal(rec_crc32("123456789", 9), 0xcbf43926u); /* the standard check value */
        assert_int_equal(rec_crc32("", 0), 0);
}

static void test_write_read(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("a.rec");
        record(p, REC_DEFAULT_MAX, 25, 1);
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        assert_int_equal(count_type(g.items, "session"), 1);
        assert_int_equal(count_type(g.items, "sample"), 25);
        assert_int_equal(count_type(g.items, "event"), 2);
        assert_int_equal(st.damaged, 0);
        assert_false(st.torn);
        assert_true(st.first_ms < T0); /* the session record */
        assert_int_equal(st.last_ms, T0 + 25000);
        /* Values come back exactly: integers, fractions, subjects, units. */
        json_object *s = last_of(g.items, "sample"), *vals;
        assert_int_equal(jint(s, "round"), 25);
        assert_true(json_object_object_get_ex(s, "values", &vals));
        assert_int_equal(json_object_array_length(vals), 3);
        json_object *v0 = json_object_array_get_idx(vals, 0), *v1 = json_object_array_get_idx(vals, 1),
                    *v2 = json_object_array_get_idx(vals, 2), *x;
        assert_true(json_object_object_get_ex(v0, "value", &x));
        assert_true(json_object_get_double(x) == 1e9 + 25);
        assert_true(json_object_object_get_ex(v0, "unit", &x));
        assert_string_equal(json_object_get_string(x), "bytes");
        assert_false(json_object_object_get_ex(v0, "subject", &x));
        assert_true(json_object_object_get_ex(v1, "value", &x));
        assert_true(json_object_get_double(x) == 6.25);
        assert_true(json_object_object_get_ex(v2, "subject", &x));
        assert_string_equal(json_object_get_string(x), "pid 12 lavinmq");
        json_object *e = last_of(g.items, "event");
        assert_true(json_object_object_get_ex(e, "severity", &x));
        assert_string_equal(json_object_get_string(x), "ok");
        assert_true(json_object_object_get_ex(e, "previous", &x));
        assert_string_equal(json_object_get_string(x), "crit");
        assert_int_equal(jint(e, "time_ms"), (int64_t)(T0 + 20000));
        _cleanup_free_ char *line = recorder_item_text(e);
        assert_non_null(strstr(line, "OK      fds.system: a summary (was crit)"));
        json_object_put(g.items);
}

static void test_negative_and_odd_values(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("odd.rec");
        char *err = NULL;
        struct recorder *r = recorder_open(p, REC_DEFAULT_MAX, "h", 1000, &err);
        assert_non_null(r);
        json_object *v = json_object_new_array();
        json_object_array_add(v, value("rt.sched_rt_runtime_us", NULL, -1, "us"));
        json_object_array_add(v, value("x.big", NULL, 18446744073709551615.0, NULL));
        json_object_array_add(v, value("x.zero", "", 0, ""));
        assert_int_equal(recorder_sample(r, T0, 1, v), 0);
        json_object_put(v);
        assert_int_equal(recorder_statuses(r, T0, NULL), 0);
        assert_int_equal(recorder_note(r, T0, "bundle", "written /x.tar.zst"), 0);
        recorder_close(r);
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        json_object *vals, *x;
        assert_true(json_object_object_get_ex(last_of(g.items, "sample"), "values", &vals));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(vals, 0), "value", &x));
        assert_true(json_object_get_double(x) == -1);
        assert_true(json_object_object_get_ex(json_object_array_get_idx(vals, 1), "value", &x));
        assert_true(json_object_get_double(x) == 18446744073709551615.0);
        assert_int_equal(count_type(g.items, "note"), 1);
        assert_int_equal(count_type(g.items, "statuses"), 1);
        json_object_put(g.items);
}

/* A kill -9 in the middle of write(): the last record is cut short. */
static void test_torn_tail(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("torn.rec");
        record(p, REC_DEFAULT_MAX, 12, 1);
        off_t full = size_of(p);
        /* The last record is the 12th sample: cut 5 bytes into its payload. */
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        assert_int_equal(count_type(g.items, "sample"), 12);
        json_object_put(g.items);
        for (off_t cut = full - 1; cut > full - 8; cut--) {
                assert_int_equal(truncate(p, cut), 0);
                read_all(p, &g, &st, 0);
                assert_int_equal(count_type(g.items, "sample"), 11); /* every whole record */
                assert_true(st.torn);
                assert_int_equal(st.damaged, 0);
                assert_int_equal(st.torn_offset + st.torn_bytes, (uint64_t)cut);
                json_object *d = last_of(g.items, "damage"), *w;
                assert_non_null(d);
                assert_true(json_object_object_get_ex(d, "what", &w));
                assert_string_equal(json_object_get_string(w), "torn");
                json_object_put(g.items);
        }
        /* Recording again cuts the torn tail off and appends after the last whole record. */
        record(p, REC_DEFAULT_MAX, 3, 100);
        read_all(p, &g, &st, 0);
        assert_false(st.torn);
        assert_int_equal(st.damaged, 0);
        assert_int_equal(count_type(g.items, "session"), 2);
        assert_int_equal(count_type(g.items, "sample"), 14);
        assert_int_equal(jint(last_of(g.items, "sample"), "round"), 102);
        assert_int_equal(jint(last_of(g.items, "session"), "session"), 2);
        json_object_put(g.items);
}

static void flip(const char *p, off_t at)
{
        int fd = open(p, O_RDWR);
        assert_true(fd >= 0);
        unsigned char c;
        assert_int_equal(pread(fd, &c, 1, at), 1);
        c ^= 0x40;
        assert_int_equal(pwrite(fd, &c, 1, at), 1);
        close(fd);
}

/* A bad byte in the middle: that record is skipped and reported, later ones read. */
static void test_corrupt_middle(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("bad.rec");
        record(p, REC_DEFAULT_MAX, 30, 1);
        off_t full = size_of(p);
        flip(p, full / 2);
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        assert_int_equal(st.damaged, 1);
        assert_false(st.torn);
        size_t samples = count_type(g.items, "sample");
        assert_true(samples == 29 || samples == 30); /* 29 when the byte hit a sample */
        assert_int_equal(jint(last_of(g.items, "sample"), "round"), 30);
        json_object *d = last_of(g.items, "damage"), *w;
        assert_true(json_object_object_get_ex(d, "what", &w));
        assert_string_equal(json_object_get_string(w), "corrupt");
        json_object_put(g.items);

        /* The magic of a header damaged: resynchronised on the next record too. */
        _cleanup_free_ char *q = path_of("bad2.rec");
        record(q, REC_DEFAULT_MAX, 5, 1);
        flip(q, 0); /* the session record's magic */
        read_all(q, &g, &st, 0);
        assert_int_equal(st.damaged, 1);
        assert_int_equal(count_type(g.items, "sample"), 5);
        json_object_put(g.items);
}

/* The series definitions lost to damage: those values are counted, not guessed. */
static void test_lost_definitions(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("lost.rec");
        record(p, REC_DEFAULT_MAX, 3, 1);
        /* The first DEF record follows the session record: its header starts with the
         * second "EVR1" in the file. */
        unsigned char buf[4096];
        int fd = open(p, O_RDONLY);
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        assert_true(n > 0);
        unsigned char *second = memmem(buf + 4, (size_t)n - 4, REC_MAGIC, 4);
        assert_non_null(second);
        flip(p, (off_t)(second - buf) + REC_HEADER + 2);
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        assert_int_equal(st.damaged, 1);
        assert_true(st.lost_values >= 1);
        assert_int_equal(count_type(g.items, "sample"), 3);
        json_object_put(g.items);
}

/* A ring: bounded by --record-max, the oldest half dropped, each half decodable. */
static void test_ring_rotation(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("ring.rec");
        _cleanup_free_ char *p1 = xasprintf("%s.1", p);
        const uint64_t max = REC_MIN_MAX;
        record(p, max, 2000, 1);
        assert_true(size_of(p) > 0);
        assert_true(size_of(p1) > 0);
        assert_true((uint64_t)(size_of(p) + size_of(p1)) <= max);
        struct got g;
        struct rec_stats st;
        read_all(p, &g, &st, 0);
        assert_int_equal(st.segments, 2);
        assert_int_equal(st.damaged, 0);
        assert_int_equal(st.lost_values, 0);
        assert_int_equal(jint(last_of(g.items, "sample"), "round"), 2000);
        /* The oldest rounds are gone, what remains is in order and contiguous. */
        int64_t prev = -1, first = -1;
        size_t samples = 0;
        for (size_t i = 0; i < json_object_array_length(g.items); i++) {
                json_object *o = json_object_array_get_idx(g.items, i), *t;
                json_object_object_get_ex(o, "type", &t);
                if (!streq(json_object_get_string(t), "sample"))
                        continue;
                int64_t r = jint(o, "round");
                if (prev >= 0)
                        assert_int_equal(r, prev + 1);
                if (first < 0)
                        first = r;
                prev = r;
                samples++;
        }
        assert_true(first > 1);
        assert_int_equal(samples, (size_t)(2000 - first + 1));
        assert_true(count_type(g.items, "session") >= 2); /* every segment starts with one */
        json_object_put(g.items);

        /* Each half reads on its own (FILE.1 alone, as a crash mid-rotation could leave it). */
        struct rec_stats st1;
        _cleanup_free_ char *alone = path_of("alone.rec");
        _cleanup_free_ char *cmd = xasprintf("cp '%s' '%s'", p1, alone);
        assert_int_equal(system(cmd), 0);
        read_all(alone, &g, &st1, 0);
        assert_true(count_type(g.items, "sample") > 0);
        assert_int_equal(st1.lost_values, 0);
        assert_int_equal(st1.damaged, 0);
        json_object_put(g.items);
}

static void test_window(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("win.rec");
        record(p, REC_DEFAULT_MAX, 100, 1);
        struct got g = {json_object_new_array()};
        struct rec_stats st;
        assert_int_equal(recorder_read(p, T0 + 91000, collect, &g, &st), 0);
        assert_int_equal(count_type(g.items, "sample"), 10);
        assert_int_equal(count_type(g.items, "session"), 1); /* the context before the window */
        assert_int_equal(jint(json_object_array_get_idx(g.items, 0), "session"), 1);
        json_object_put(g.items);
}

static void test_not_a_recording(void **state)
{
        (void)state;
        _cleanup_free_ char *p = path_of("notes.txt");
        const char *text = "precious operator notes, not a recording\n";
        FILE *f = fopen(p, "w");
        fputs(text, f);
        fclose(f);
        char *err = NULL;
        assert_null(recorder_open(p, REC_DEFAULT_MAX, "h", 1000, &err));
        assert_non_null(strstr(err, "not an evodiag recording"));
        free(err);
        assert_int_equal(size_of(p), (off_t)strlen(text)); /* untouched */
        struct got g = {json_object_new_array()};
        struct rec_stats st;
        assert_int_equal(recorder_read(p, 0, collect, &g, &st), -EINVAL);
        json_object_put(g.items);
        _cleanup_free_ char *none = path_of("none.rec");
        g.items = json_object_new_array();
        assert_int_equal(recorder_read(none, 0, collect, &g, &st), -ENOENT);
        json_object_put(g.items);
}

/* Garbage, empty and all-zero buffers: no crash, nothing invented. */
static void test_garbage(void **state)
{
        (void)state;
        unsigned char buf[8192];
        unsigned seed = 7;
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char)(rand_r(&seed) & 0xff);
        /* A few fake magics with nonsense after them. */
        memcpy(buf + 100, REC_MAGIC, 4);
        memcpy(buf + 5000, REC_MAGIC "\xff\xff\xff\xff\xff\xff\xff\x7f", 12);
        struct got g = {json_object_new_array()};
        struct rec_stats st = {0};
        (void)recorder_read_buffer("garbage", buf, sizeof(buf), 0, collect, &g, &st);
        assert_int_equal(st.records, 0);
        assert_int_equal(count_type(g.items, "sample"), 0);
        json_object_put(g.items);
        g.items = json_object_new_array();
        st = (struct rec_stats){0};
        assert_int_equal(recorder_read_buffer("empty", buf, 0, 0, collect, &g, &st), 0);
        assert_int_equal(json_object_array_length(g.items), 0);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(recorder_read_buffer("zeros", buf, sizeof(buf), 0, collect, &g, &st), -EINVAL);
        json_object_put(g.items);
}

/* A valid frame whose payload does not decode (a newer writer's type). */
static void test_unknown_type(void **state)
{
        (void)state;
        unsigned char rec[REC_HEADER + 3] = {'E', 'V', 'R', '1', 0, 0, 0, 0, 3, 0, 0, 0, 99, 'a', 'b', 'c'};
        uint32_t crc = rec_crc32(rec + 8, 5 + 3);
        for (int i = 0; i < 4; i++)
                rec[4 + i] = (unsigned char)(crc >> (8 * i));
        struct got g = {json_object_new_array()};
        struct rec_stats st = {0};
        assert_int_equal(recorder_read_buffer("new", rec, sizeof(rec), 0, collect, &g, &st), 0);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.damaged, 1);
        assert_int_equal(count_type(g.items, "damage"), 1);
        json_object_put(g.items);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32),
                cmocka_unit_test(test_write_read),
                cmocka_unit_test(test_negative_and_odd_values),
                cmocka_unit_test(test_torn_tail),
                cmocka_unit_test(test_corrupt_middle),
                cmocka_unit_test(test_lost_definitions),
                cmocka_unit_test(test_ring_rotation),
                cmocka_unit_test(test_window),
                cmocka_unit_test(test_not_a_recording),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_unknown_type),
        };
        return cmocka_run_group_tests_name("recorder", tests, setup, teardown);
}
