/* Unit tests: the config contract — every tunable has a type and range, its default
 * passes them, and the loader refuses what is not a small text file. */
#include "config.h"
#include "collectors/collector.h"
#include "lib/conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

static void check_keys(const char *section, const struct config_key *keys)
{
        for (const struct config_key *k = keys; k && k->key; k++) {
                char *why = NULL;
                if (k->type < CONF_STRING || k->type > CONF_SIZE)
                        fail_msg("[%s] %s has no type", section, k->key);
                /* An empty default means "derive it" for text, lists and the run's durations. */
                if (*k->def && conf_value_check(k, k->def, &why) < 0)
                        fail_msg("[%s] %s: default fails its own type: %s", section, k->key, why);
                if (k->type == CONF_UINT && !(k->min <= k->max))
                        fail_msg("[%s] %s: empty range", section, k->key);
                assert_non_null(k->help);
                free(why);
        }
}

static void test_every_default_passes_its_type(void **state)
{
        size_t n = 0;
        for (size_t i = 0; collectors[i]; i++, n++)
                check_keys(collectors[i]->name, collectors[i]->config);
        for (const struct config_section *s = config_run_sections; s->name; s++)
                check_keys(s->name, s->keys);
        assert_true(n > 5);
}

static int check(enum conf_type t, double lo, double hi, const char *v)
{
        struct config_key k = {.key = "k", .def = "", .help = "", .type = t, .min = lo, .max = hi};
        char *why = NULL;
        int r = conf_value_check(&k, v, &why);
        assert_true(r == 0 ? why == NULL : why != NULL && *why);
        free(why);
        return r;
}

static void test_values(void **state)
{
        assert_int_equal(check(CONF_PERCENT, 0, 100, "80"), 0);
        assert_int_equal(check(CONF_PERCENT, 0, 100, "99.5"), 0);
        assert_int_equal(check(CONF_PERCENT, 0, 100, "150"), -EINVAL);
        assert_int_equal(check(CONF_PERCENT, 0, 100, "-1"), -EINVAL);
        assert_int_equal(check(CONF_PERCENT, 0, 100, "1e300"), -EINVAL);
        assert_int_equal(check(CONF_PERCENT, 0, 100, "nan"), -EINVAL);
        assert_int_equal(check(CONF_UINT, 1, 10, "9"), 0);
        assert_int_equal(check(CONF_UINT, 1, 10, "0"), -EINVAL);   /* frag_min_order = 0: shift by 64 */
        assert_int_equal(check(CONF_UINT, 1, 10, "-3"), -EINVAL);  /* negative to unsigned */
        assert_int_equal(check(CONF_UINT, 1, 1000, "2.5"), -EINVAL); /* [fds] top = 2.5 */
        assert_int_equal(check(CONF_UINT, 0, 1e18, "1e300"), -EINVAL);
        assert_int_equal(check(CONF_UINT, 0, 1e18, "inf"), -EINVAL);
        assert_int_equal(check(CONF_DURATION, 0, 0, "1h2m"), 0);
        assert_int_equal(check(CONF_DURATION, 0, 0, "0"), -EINVAL);
        assert_int_equal(check(CONF_DURATION, 0, 0, "soon"), -EINVAL);
        assert_int_equal(check(CONF_SIZE, 0, 0, "64M"), 0);
        assert_int_equal(check(CONF_SIZE, 0, 0, "nan"), -EINVAL);
        assert_int_equal(check(CONF_STRING, 0, 0, "a\x1b[2Jb"), -EINVAL);
}

static void test_durations(void **state)
{
        uint64_t ms;
        assert_int_equal(parse_duration_ms("1h2m", &ms), 0);
        assert_int_equal(ms, 3720000);
        assert_int_equal(parse_duration_ms("1m30s", &ms), 0);
        assert_int_equal(ms, 90000);
        assert_int_equal(parse_duration_ms("500ms", &ms), 0);
        assert_int_equal(ms, 500);
        assert_int_equal(parse_duration_ms("2min", &ms), 0);
        assert_int_equal(ms, 120000);
        assert_int_equal(parse_duration_ms("90", &ms), 0);
        assert_int_equal(ms, 90000);
        assert_int_equal(parse_duration_ms("1h2", &ms), 0); /* a bare last term is seconds */
        assert_int_equal(ms, 3602000);
        assert_int_equal(parse_duration_ms("1x", &ms), -EINVAL);
        assert_int_equal(parse_duration_ms("", &ms), -EINVAL);
        assert_int_equal(parse_duration_ms("h", &ms), -EINVAL);
}

static char tmpdir[] = "/tmp/evodiag-test-config.XXXXXX";

static char *write_file(const char *name, const char *data, size_t len)
{
        char *p = xasprintf("%s/%s", tmpdir, name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
        return p;
}

static int load(const char *path, char **err)
{
        struct config cfg;
        int r = config_load(&cfg, path, err);
        if (r == 0 && config_validate(&cfg, config_run_sections, err) < 0)
                r = -EINVAL;
        config_free(&cfg);
        return r;
}

static void test_loader_refuses(void **state)
{
        char *err = NULL;
        /* a directory */
        assert_int_equal(load(tmpdir, &err), -EISDIR);
        assert_non_null(strstr(err, "is a directory"));
        free(err);
        /* a FIFO: refused at once, never a hang */
        char *fifo = xasprintf("%s/fifo", tmpdir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(load(fifo, &err), -EINVAL);
        assert_non_null(strstr(err, "not a regular file"));
        free(err);
        free(fifo);
        /* binary garbage */
        char *bin = write_file("bin.conf", "[memory]\nwarn_pct = 2\0\x01\xff\n", 23);
        assert_true(load(bin, &err) == 2);
        assert_non_null(strstr(err, "bin.conf:2: binary data"));
        free(err);
        free(bin);
        /* invalid UTF-8 */
        char *latin = write_file("latin.conf", "; caf\xe9\n", 7);
        assert_true(load(latin, &err) == 1);
        free(err);
        free(latin);
        /* a duplicate key */
        const char dup[] = "[memory]\nwarn_pct = 20\n\n[memory]\nwarn_pct = 30\n";
        char *d = write_file("dup.conf", dup, sizeof(dup) - 1);
        assert_int_equal(load(d, &err), -EINVAL);
        assert_non_null(strstr(err, "dup.conf:5: [memory] warn_pct is set twice (first on line 2)"));
        free(err);
        free(d);
        /* out of range */
        const char pct[] = "[fds]\nwarn_pct = 150\n";
        char *p = write_file("pct.conf", pct, sizeof(pct) - 1);
        assert_int_equal(load(p, &err), -EINVAL);
        assert_non_null(strstr(err, "pct.conf:2: [fds] warn_pct: '150' is not a percentage from 0 to 100"));
        free(err);
        free(p);
        /* /dev/null: no settings */
        assert_int_equal(load("/dev/null", &err), 0);
        assert_null(err);
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_default_passes_its_type),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_loader_refuses),
        };
        int r = cmocka_run_group_tests_name("config", tests, NULL, NULL);
        char *cmd = xasprintf("rm -rf %s", tmpdir);
        (void)!system(cmd);
        free(cmd);
        return r;
}
