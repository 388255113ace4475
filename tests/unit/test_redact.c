/* Unit tests: redaction rules on the secrets operators really have in their files,
 * obfuscation consistency, SHA-256/HMAC against the standard test vectors, and
 * external commands with deadlines. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/redact.h"
#include "lib/sha256.h"
#include "lib/subprocess.h"
#include "lib/util.h"

static char *red(const char *in, unsigned *n)
{
        struct redactor *r = redactor_new();
        size_t len;
        char *out = redact(r, in, strlen(in), &len, n);
        redactor_free(r);
        return out;
}

#define NO_SECRET(out, s) assert_null(strstr((out), (s)))

static void test_ini_and_toml(void **state)
{
        unsigned n;
        char *o = red("[main]\ndata_dir = /var/lib/lavinmq\ndefault_user = guest\n"
                      "default_password_hash = +pHuxkR9fCyrrwXjOD4BP4XbzO3l8LJr8YkThMgJ0yVHFRE+\n"
                      "[security]\napi_key = \"sk-live-0123456789abcdef\"\ntls_key = /etc/ssl/private/snn.key\n"
                      "password=hunter2\nSECRET_TOKEN=abc123xyz\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n",
                      &n);
        NO_SECRET(o, "+pHuxkR9");
        NO_SECRET(o, "sk-live");
        NO_SECRET(o, "hunter2");
        NO_SECRET(o, "abc123xyz");
        NO_SECRET(o, "wJalrXUtnFEMI");
        assert_non_null(strstr(o, "data_dir = /var/lib/lavinmq")); /* not secrets: kept */
        assert_non_null(strstr(o, "default_user = guest"));
        assert_non_null(strstr(o, "api_key = \"<redacted>\""));
        assert_int_equal(n, 6);
        free(o);
}

static void test_json_keeps_shape(void **state)
{
        unsigned n;
        char *o = red("{\n  \"user\": \"admin\",\n  \"password\": \"s3cr\\\"et\",\n  \"port\": 5672\n}\n", &n);
        NO_SECRET(o, "s3cr");
        assert_non_null(strstr(o, "\"password\": \"<redacted>\",")); /* comma kept: still JSON */
        assert_int_equal(n, 1);
        free(o);
}

static void test_urls_headers_tokens(void **state)
{
        unsigned n;
        char *o = red("2026-11-21 connecting to https://u:p4ss@broker.example:15672/api\n"
                      "amqp://guest:guest@localhost:5672/ ok\n"
                      "Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=\ncurl -H 'Authorization: Bearer eyJhbGciOi.abc.def'\n"
                      "key id AKIAIOSFODNN7EXAMPLE used\n",
                      &n);
        NO_SECRET(o, "p4ss");
        NO_SECRET(o, "guest:guest");
        NO_SECRET(o, "Z3Vlc3Q6");
        NO_SECRET(o, "eyJhbGciOi");
        NO_SECRET(o, "AKIAIOSFODNN7EXAMPLE");
        assert_non_null(strstr(o, "https://u:<redacted>@broker.example:15672/api"));
        free(o);
}

static void test_pem(void **state)
{
        unsigned n;
        char *o = red("cert ok\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabcdef\n"
                      "-----END RSA PRIVATE KEY-----\nafter\n-----BEGIN CERTIFICATE-----\nMIIBpublic\n",
                      &n);
        NO_SECRET(o, "MIIEowIBAAKCAQEA7");
        NO_SECRET(o, "abcdef");
        assert_non_null(strstr(o, "after\n"));
        assert_non_null(strstr(o, "MIIBpublic")); /* certificates are public */
        assert_int_equal(n, 1);
        free(o);
}

static void test_cmdline(void **state)
{
        unsigned n;
        /* /proc/PID/cmdline: NUL-separated; a flag alone makes the next argument secret. */
        const char in[] = "snn-server\0--port\0008080\0--api-key\0topsecret\0--token=abc\0--config\0/etc/x.toml";
        struct redactor *r = redactor_new();
        size_t len;
        char *o = redact(r, in, sizeof(in) - 1, &len, &n);
        redactor_free(r);
        assert_int_equal(len, sizeof(in) - 1 - strlen("topsecret") - 3 + 2 * strlen("<redacted>"));
        assert_null(memmem(o, len, "topsecret", 9));
        assert_null(memmem(o, len, "abc", 3));
        assert_non_null(memmem(o, len, "/etc/x.toml", 11));
        assert_non_null(memmem(o, len, "8080", 4));
        assert_int_equal(n, 2);
        free(o);
        o = red("lavinmq --default-password=guest2 -c /etc/lavinmq/lavinmq.ini\n", &n);
        NO_SECRET(o, "guest2");
        free(o);
        /* Kernel command line: name=value words anywhere in the line. */
        o = red("BOOT_IMAGE=/vmlinuz root=/dev/sda1 rd.luks.key=/k initrd.password=Hunter2 quiet\n", &n);
        assert_string_equal(o, "BOOT_IMAGE=/vmlinuz root=/dev/sda1 rd.luks.key=<redacted> initrd.password=<redacted> quiet\n");
        assert_int_equal(n, 2);
        free(o);
}

static void test_no_false_positives(void **state)
{
        unsigned n;
        const char *proc = "MemTotal:       24634916 kB\nHugepagesize:       2048 kB\n"
                           "       key      shmid perms                  size  cpid\n"
                           "Max open files            1024                 524288               files\n";
        char *o = red(proc, &n);
        assert_string_equal(o, proc);
        assert_int_equal(n, 0);
        free(o);
}

static void test_obfuscate(void **state)
{
        struct redactor *r = redactor_new();
        uint8_t key[32] = {1, 2, 3};
        const char *hosts[] = {"evo-cell-07", NULL};
        redactor_obfuscate(r, key, hosts);
        unsigned n;
        char *a = redact_str(r, "evo-cell-07 10.1.2.3 -> 10.1.2.3 via fe80::1c2d:3e4f:5a6b:7c8d mac 52:54:00:12:34:56 lo 127.0.0.1 "
                                "ip=10.9.8.7::10.9.8.1:255.255.255.0 at 22:39:07", &n);
        assert_null(strstr(a, "10.9.8.7"));     /* dotted quads next to "::" are IPv4, not IPv6 */
        assert_non_null(strstr(a, "22:39:07")); /* a time is not an address */
        assert_null(strstr(a, "evo-cell-07"));
        assert_null(strstr(a, "10.1.2.3"));
        assert_null(strstr(a, "52:54:00:12:34:56"));
        assert_null(strstr(a, "fe80::1c2d"));
        assert_non_null(strstr(a, "127.0.0.1")); /* loopback says nothing about the site */
        /* Consistent: the same address maps to the same stand-in. */
        char *b = redact_str(r, "10.1.2.3", &n);
        assert_non_null(strstr(a, b));
        assert_true(startswith(b, "198.1"));
        free(a);
        free(b);
        char path[] = "/tmp/evodiag-map-XXXXXX";
        int fd = mkstemp(path);
        close(fd);
        assert_int_equal(redactor_save_mapping(r, path), 0);
        char buf[4096] = {0};
        FILE *f = fopen(path, "r");
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        unlink(path);
        assert_true(got > 0);
        assert_non_null(strstr(buf, "10.1.2.3\t198.1"));
        redactor_free(r);
}

static void test_sha256_vectors(void **state)
{
        struct sha256 s;
        char hex[65];
        sha256_init(&s);
        sha256_hex(&s, hex);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sha256_init(&s);
        sha256_update(&s, "abc", 3);
        sha256_hex(&s, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_init(&s);
        for (size_t i = 0; i < strlen(two); i++) /* byte by byte: the buffering path */
                sha256_update(&s, two + i, 1);
        sha256_hex(&s, hex);
        assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        char *mil = xmalloc(1000000);
        memset(mil, 'a', 1000000);
        sha256_init(&s);
        sha256_update(&s, mil, 1000000);
        sha256_hex(&s, hex);
        free(mil);
        assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac_rfc4231(void **state)
{
        uint8_t key[20], out[32];
        memset(key, 0x0b, sizeof(key));
        hmac_sha256(key, sizeof(key), "Hi There", 8, out);
        char hex[65];
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", out[i]);
        assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_subprocess(void **state)
{
        struct cmd_result r;
        const char *ok[] = {"sh", "-c", "echo out; echo err >&2", NULL};
        assert_int_equal(cmd_run(ok, 5000, 4096, &r), 0);
        assert_non_null(strstr(r.out, "out\n"));
        assert_non_null(strstr(r.out, "err\n"));
        cmd_result_free(&r);

        const char *missing[] = {"evodiag-no-such-command", NULL};
        assert_true(cmd_run(missing, 5000, 4096, &r) < 0);
        assert_string_equal(r.error, "evodiag-no-such-command: not found");
        cmd_result_free(&r);

        /* A command that hangs, with a child of its own holding the pipe: both die. */
        const char *hang[] = {"sh", "-c", "sleep 600 & sleep 600", NULL};
        assert_true(cmd_run(hang, 200, 4096, &r) < 0);
        assert_true(r.timed_out);
        assert_non_null(strstr(r.error, "timed out after 200 ms"));
        cmd_result_free(&r);

        const char *fails[] = {"sh", "-c", "exit 3", NULL};
        assert_true(cmd_run(fails, 5000, 4096, &r) < 0);
        assert_string_equal(r.error, "sh: exited with status 3");
        cmd_result_free(&r);

        const char *big[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
        assert_int_equal(cmd_run(big, 5000, 1000, &r), 0);
        assert_true(r.truncated);
        assert_int_equal(r.len, 1000);
        cmd_result_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_and_toml),      cmocka_unit_test(test_json_keeps_shape),
                cmocka_unit_test(test_urls_headers_tokens), cmocka_unit_test(test_pem),
                cmocka_unit_test(test_cmdline),           cmocka_unit_test(test_no_false_positives),
                cmocka_unit_test(test_obfuscate),         cmocka_unit_test(test_sha256_vectors),
                cmocka_unit_test(test_hmac_rfc4231),      cmocka_unit_test(test_subprocess),
        };
        return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
