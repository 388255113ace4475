/* Unit tests: redaction rules on the secrets operators really have in their files,
 * obfuscation consistency, SHA-256/HMAC against the standard test vectors, and
 * external commands with deadlines. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>
#include "lib/finding.h"
#include "lib/redact.h"
#include "lib/sample.h"
#include "lib/sha256.h"
#include "lib/subprocess.h"
#include "lib/users.h"
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

/* Redacts a cmdline given with '|' for NUL; returns it with '|' again. */
static char *red_argv(const char *in, unsigned *n)
{
        char *raw = xstrdup(in);
        size_t len = strlen(in);
        for (size_t i = 0; i < len; i++)
                if (raw[i] == '|')
                        raw[i] = 0;
        struct redactor *r = redactor_new();
        size_t olen;
        char *o = redact(r, raw, len, &olen, n);
        redactor_free(r);
        free(raw);
        for (size_t i = 0; i < olen; i++)
                if (!o[i])
                        o[i] = '|';
        return o;
}

/* Each form once space-joined (how `ps`, findings and logs show it) and once as a
 * NUL-separated /proc/PID/cmdline: the secret goes, everything around it stays. */
static void test_argv_forms(void **state)
{
        static const struct {
                const char *in, *want;
        } cases[] = {
                {"curl -u admin:Zq1 https://example.com/x", "curl -u admin:<redacted> https://example.com/x"},
                {"curl -uadmin:Zq1 -s", "curl -uadmin:<redacted> -s"},
                {"/usr/bin/curl --user admin:Zq1 -o /tmp/x", "/usr/bin/curl --user admin:<redacted> -o /tmp/x"},
                {"curl --user=admin:Zq1", "curl --user=admin:<redacted>"},
                {"curl -u admin https://x", "curl -u admin https://x"}, /* no password: curl prompts */
                {"mysql -pZq2 -h db shop", "mysql -p<redacted> -h db shop"},
                {"mysqldump -u root -pZq2 shop", "mysqldump -u root -p<redacted> shop"},
                {"mysql -u root -p shop", "mysql -u root -p shop"}, /* -p then a database name */
                {"sshpass -p Zq3 ssh backup@host", "sshpass -p <redacted> ssh backup@host"},
                {"sshpass -pZq3 rsync a b", "sshpass -p<redacted> rsync a b"},
                {"redis-cli -h 127.0.0.1 -a Zq4 ping", "redis-cli -h 127.0.0.1 -a <redacted> ping"},
                {"app -P Zq5 --verbose", "app -P <redacted> --verbose"},
                {"scp -P 2222 a host:b", "scp -P 2222 a host:b"}, /* a port */
                {"cp -P /src /dst", "cp -P /src /dst"},           /* a path */
                {"app --db-pass Zq6 --port 5432", "app --db-pass <redacted> --port 5432"},
                {"app --db-pass=Zq6 --port 5432", "app --db-pass=<redacted> --port 5432"},
                {"app -password Zq6 -token=Zq6", "app -password <redacted> -token=<redacted>"},
                {"env DB_PASS=Zq7 app", "env DB_PASS=<redacted> app"},
                {"env MYSQL_PWD=Zq8 mysql -h db", "env MYSQL_PWD=<redacted> mysql -h db"},
                {"git clone https://ghp_Zq9abcdefghijklmnopqrstuvwxyz012345@github.com/o/r.git",
                 "git clone https://<redacted>@github.com/o/r.git"},
                {"fetch https://Zq9token@example.com/a", "fetch https://<redacted>@example.com/a"},
                {"amqp://user:Zq10p@ss@broker:5672/vhost", "amqp://user:<redacted>@broker:5672/vhost"},
                {"curl https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=Zq11&"
                 "X-Amz-Date=20260101T000000Z&X-Amz-Security-Token=Zq11&X-Amz-SignedHeaders=host&X-Amz-Signature=Zq11",
                 "curl https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&"
                 "X-Amz-Date=20260101T000000Z&X-Amz-Security-Token=<redacted>&X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>"},
                {"https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026&sig=Zq12%2Bx#frag",
                 "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026&sig=<redacted>#frag"},
                {"https://h/o?Signature=Zq13&Expires=1&token=Zq13&access_token=Zq13&state=ok",
                 "https://h/o?Signature=<redacted>&Expires=1&token=<redacted>&access_token=<redacted>&state=ok"},
                {"mount -o username=u,password=Zq14,vers=3.0 //s/x /m", "mount -o username=u,password=<redacted>,vers=3.0 //s/x /m"},
                {"java -Djavax.net.ssl.keyStorePassword=Zq15 -jar a.jar", "java -Djavax.net.ssl.keyStorePassword=<redacted> -jar a.jar"},
                {"sh -c 'mysql -pZq16 shop'", "sh -c 'mysql -p<redacted> shop'"},
                {"app --token 'Zq17 with spaces' --x", "app --token '<redacted>' --x"},
                {"smbclient //s/x -U admin%Zq18", "smbclient //s/x -U admin%<redacted>"},
                {"ldapsearch -x -D cn=admin -w Zq19 -b dc=x", "ldapsearch -x -D cn=admin -w <redacted> -b dc=x"},
                {"curl -H 'Authorization: Bearer Zq20abcdef' https://u:Zq20@h/", "curl -H 'Authorization: <redacted>' https://u:<redacted>@h/"},
                {"post {\"user\":\"a\",\"password\":\"Zq21 x\",\"n\":1}", "post {\"user\":\"a\",\"password\":\"<redacted>\",\"n\":1}"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                unsigned n;
                char *o = red_argv(cases[i].in, &n);
                assert_string_equal(o, cases[i].want);
                assert_true(n >= 1 || !strstr(cases[i].in, "Zq"));
                free(o);
                /* The same as /proc/PID/cmdline: arguments NUL-separated. A quoted
                 * argument with spaces is one argument there (sh -c '…', --token '…'). */
                if (strchr(cases[i].in, '\'') || strchr(cases[i].in, '"'))
                        continue;
                char *nul = xstrdup(cases[i].in), *want = xstrdup(cases[i].want);
                for (char *p = nul; *p; p++)
                        *p = *p == ' ' ? '|' : *p;
                for (char *p = want; *p; p++)
                        *p = *p == ' ' ? '|' : *p;
                o = red_argv(nul, &n);
                assert_string_equal(o, want);
                free(o);
                free(nul);
                free(want);
        }
        /* Arguments that hold spaces, as the kernel keeps them. */
        unsigned n;
        char *o = red_argv("app|--password|Zq22 with spaces|--port|1", &n);
        assert_string_equal(o, "app|--password|<redacted>|--port|1");
        free(o);
        o = red_argv("sh|-c|mysql -pZq23 shop; redis-cli -a Zq23 ping", &n);
        assert_string_equal(o, "sh|-c|mysql -p<redacted> shop; redis-cli -a <redacted> ping");
        assert_int_equal(n, 2);
        free(o);
        o = red_argv("app|--token|--verbose", &n); /* the next option is not the value */
        assert_string_equal(o, "app|--token|--verbose");
        free(o);
}

/* manifest.json and findings.json are redacted as text: they must stay JSON, with
 * every secret gone, however the secrets sit in their strings. */
static void test_json_documents_stay_json(void **state)
{
        static const char *const texts[] = {
                "evodiag bundle --upload https://b/x?X-Amz-Credential=Zq40&X-Amz-Signature=Zq40",
                "pid 7 (app --db-pass Zq41 --token=Zq41)",
                "sent Authorization: Bearer Zq42abcdefgh",
                "curl -u admin:Zq43 https://u:Zq43@h/",
                "mysql -pZq44 shop; redis-cli -a Zq44",
                "DB_PASS=Zq45",
                "password=Zq46",
                "app --password 'Zq47 \"quoted\" words'",
        };
        json_object *doc = json_object_new_object(), *arr = json_object_new_array();
        for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "summary", json_object_new_string(texts[i]));
                json_object_object_add(o, "password", json_object_new_string("Zq48"));
                json_object_object_add(o, "token", json_object_new_int(4242));
                json_object_array_add(arr, o);
        }
        json_object_object_add(doc, "command_line", json_object_new_string(texts[0]));
        json_object_object_add(doc, "findings", arr);
        for (int pretty = 0; pretty < 2; pretty++) {
                const char *text = json_object_to_json_string_ext(doc, (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
                                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
                unsigned n;
                char *o = red(text, &n);
                json_object *back = json_tokener_parse(o);
                if (!back)
                        fail_msg("not JSON after redaction:\n%s", o);
                if (strstr(o, "Zq4"))
                        fail_msg("a secret left in:\n%s", o);
                assert_true(n >= 10);
                json_object_put(back);
                free(o);
        }
        json_object_put(doc);
}

/* Ordinary words that look like secrets are kept. */
static void test_no_over_redaction(void **state)
{
        static const char *const keep[] = {
                "rsync --pass-through a b",
                "app --password-file /etc/app/pass --token-file /run/t --auth-type basic",
                "setxkbmap --keyboard us --keys-only",
                "git clone ssh://git@github.com/o/r.git",
                "PWD=/root OLDPWD=/tmp SHLVL=1",
                "docker run -p 8080:80 -u 1000 image",
                "mysql -u root -p shop",
                "scp -P 2222 file host:",
                "xargs -P 4 -n 1",
                "app --no-auth --verbose",
                "bypass=1 compass=north author=bob passive=yes",
                "/proc/sysvipc/shm key 0x0000abcd",
                "Max open files            1024                 524288               files",
                "https://example.com/path?page=2&sort=asc#top",
        };
        for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
                unsigned n;
                char *o = red(keep[i], &n);
                assert_string_equal(o, keep[i]);
                assert_int_equal(n, 0);
                free(o);
        }
}

/* CPU time of this thread, not wall time: a loaded host (other builds, stress-ng)
 * stretches wall time without changing how much work redact() did, and it is the
 * work that is quadratic or not (the quadratic rules took minutes of CPU per MiB). */
static double seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A guard against quadratic behaviour, not a benchmark (bench/redact.sh is): 1 MiB
 * of what made the regex rules backtrack finishes inside a second (ten under
 * AddressSanitizer, which slows this code about 30-fold). The regex version took
 * 11 s for 64 KiB of letters: 1 MiB would take most of an hour. */
#ifdef __SANITIZE_ADDRESS__
#define LINEAR_BOUND_S 10.0
#else
#define LINEAR_BOUND_S 1.0
#endif
static void test_linear_time(void **state)
{
        static const char *const units[] = {"a", "a:", "https://", "@", "https://a@", "u:p@", "password=", "a=b&",
                                            "--password ", "-P \"/x ", "curl -u \"a ", "\"password\": \"<redacted> ",
                                            "1.2.3.4:", "ab:", "-----BEGIN ", "ghp_", "AKIA", "=\"", "?x=", "--token\n"};
        const size_t size = 1 << 20;
        char *in = xmalloc(size + 1);
        uint8_t key[32] = {7};
        const char *hosts[] = {"aaaa", NULL};
        for (int obf = 0; obf < 2; obf++)
                for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
                        size_t ul = strlen(units[u]);
                        for (size_t i = 0; i < size; i++)
                                in[i] = units[u][i % ul];
                        in[size] = 0;
                        struct redactor *r = redactor_new();
                        if (obf)
                                redactor_obfuscate(r, key, hosts);
                        double t0 = seconds();
                        size_t olen;
                        free(redact(r, in, size, &olen, NULL));
                        double dt = seconds() - t0;
                        redactor_free(r);
                        if (dt >= LINEAR_BOUND_S)
                                fail_msg("1 MiB of '%s' (obfuscate %d) took %.2f s", units[u], obf, dt);
                }
        /* 300 command lines with a 4,000-letter argument: every process of a host. */
        struct strbuf one = {0};
        sb_puts(&one, "python3");
        sb_putc(&one, 0);
        for (int k = 0; k < 4000; k++)
                sb_putc(&one, (char)('a' + k % 26));
        double t0 = seconds();
        struct redactor *r = redactor_new();
        for (int p = 0; p < 300; p++) {
                size_t olen;
                free(redact(r, one.s, one.len, &olen, NULL));
        }
        redactor_free(r);
        assert_true(seconds() - t0 < LINEAR_BOUND_S);
        sb_free(&one);
        free(in);
}

/* Every text of a finding is redacted where it is set: check -v, --json and
 * bundles print what the collector wrote there. */
static void test_findings_redacted(void **state)
{
        struct findings fs = {0};
        struct finding *f = fnd_add(&fs, SEV_OK, "x.process", "runs: %s", "app --db-pass Zq30 --port 1");
        fnd_subject(f, "pid 1 (app --token=Zq31)");
        fnd_expected(f, "https://u:Zq32@h/");
        fnd_actual(f, "pid 1 (%s)", "sshpass -p Zq33 ssh h");
        fnd_remedy(f, "curl -u admin:Zq34 https://h/");
        fnd_evidence(f, "https://b/k?X-Amz-Signature=Zq35");
        json_object *j = findings_to_json(&fs);
        const char *s = json_object_to_json_string(j);
        assert_null(strstr(s, "Zq3"));
        assert_non_null(strstr(s, "app --db-pass <redacted> --port 1"));
        assert_non_null(strstr(f->remedy, "curl -u admin:<redacted> https://h/"));
        /* And again when a parent reads them back: nothing changes. */
        struct findings back = {0};
        assert_int_equal(findings_from_json(&back, j), 0);
        assert_string_equal(back.v[0].summary, f->summary);
        json_object_put(j);
        findings_free(&fs);
        findings_free(&back);
        /* watch's statuses too. */
        struct sample smp;
        sample_init(&smp);
        sample_status(&smp, "x.process", "pid 1 (app --token=Zq36)", SEV_OK, "runs: %s", "redis-cli -a Zq37 ping");
        /* The same texts again (every interval: redactions remembered) and a changed one. */
        sample_status(&smp, "x.process", "pid 1 (app --token=Zq36)", SEV_OK, "runs: %s", "redis-cli -a Zq37 ping");
        sample_status(&smp, "x.process", "pid 1 (app --token=Zq38)", SEV_OK, "runs: %s", "redis-cli -a Zq39 ping");
        j = sample_to_json(&smp);
        assert_int_equal(json_object_array_length(json_object_object_get(j, "statuses")), 3);
        for (size_t i = 0; i < 3; i++) {
                json_object *st = json_object_array_get_idx(json_object_object_get(j, "statuses"), i);
                assert_string_equal(json_object_get_string(json_object_object_get(st, "summary")), "runs: redis-cli -a <redacted> ping");
                assert_string_equal(json_object_get_string(json_object_object_get(st, "subject")), "pid 1 (app --token=<redacted>)");
        }
        s = json_object_to_json_string(j);
        assert_null(strstr(s, "Zq3"));
        assert_non_null(strstr(s, "redis-cli -a <redacted> ping"));
        json_object_put(j);
        sample_free(&smp);
}

/* A bundle keeps of /etc/passwd and /etc/group what the lookups used; the union of
 * several collectors' lines answers every lookup as the whole file did. */
static void test_users_filter(void **state)
{
        const char *pw = "root:x:0:0:root:/root:/bin/bash\n"
                         "toor:x:0:0:root:/root:/bin/sh\n"
                         "daemon:x:1:1::/:/usr/sbin/nologin\n"
                         "# comment:x:5:5::/:\n"
                         "alice:x:1000:1000::/home/alice:/bin/bash\n"
                         "svc:x:998:998::/:/bin/false\n"
                         "lavinmq:x:999:999::/var/lib/lavinmq:/usr/sbin/nologin\n"
                         "bob:x:1001:1001::/home/bob:/bin/bash";
        size_t len;
        users_lookups_reset();
        struct users *u = users_parse(pw, "root:x:0:\nevo:x:1001:alice\n");
        char *f = users_filter(false, pw, strlen(pw), &len);
        assert_string_equal(f, ""); /* nothing looked up: nothing kept */
        free(f);
        assert_string_equal(users_name(u, 1000), "alice");
        assert_null(users_name(u, 4242));
        assert_string_equal(users_group(u, 1001), "evo");
        f = users_filter(false, pw, strlen(pw), &len);
        assert_string_equal(f, "alice:x:1000:1000::/home/alice:/bin/bash\n");
        assert_int_equal(len, strlen(f));
        free(f);
        f = users_filter(true, "root:x:0:\nevo:x:1001:alice\n", 26, &len);
        assert_string_equal(f, "evo:x:1001:alice\n");
        free(f);
        /* By name: "toor" is uid 0, and root's earlier line goes with it, so that a
         * lookup of uid 0 in the union still answers "root". */
        unsigned uid;
        assert_int_equal(users_uid(u, "toor", &uid), 0);
        f = users_filter(false, pw, strlen(pw), &len);
        assert_string_equal(f, "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0:root:/root:/bin/sh\n"
                               "alice:x:1000:1000::/home/alice:/bin/bash\n");
        struct users *again = users_parse(f, NULL);
        assert_string_equal(users_name(again, 0), "root");
        assert_string_equal(users_name(again, 1000), "alice");
        assert_int_equal(users_uid(again, "toor", &uid), 0);
        assert_int_equal(uid, 0);
        users_free(again);
        free(f);
        users_free(u);
        users_lookups_reset();
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

/* Found by fuzz_redact: a last word of only quotes or brackets ("[") made the word
 * scanner read the byte after the input. redact() takes a length and reads nothing
 * past it: exact-size buffers here, so AddressSanitizer sees any overread. */
static void test_reads_only_its_length(void **state)
{
        static const char *const inputs[] = {"[", "'", "\"([{", "ps x (", "mysql -p [", "a\n{"};
        struct redactor *r = redactor_new();
        for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
                size_t n = strlen(inputs[i]), len;
                unsigned c;
                char *in = xmalloc(n);
                memcpy(in, inputs[i], n);
                char *o = redact(r, in, n, &len, &c);
                assert_int_equal(len, n);
                assert_memory_equal(o, inputs[i], n);
                assert_int_equal(c, 0);
                free(o);
                free(in);
        }
        redactor_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ini_and_toml),      cmocka_unit_test(test_json_keeps_shape),
                cmocka_unit_test(test_urls_headers_tokens), cmocka_unit_test(test_pem),
                cmocka_unit_test(test_cmdline),           cmocka_unit_test(test_no_false_positives),
                cmocka_unit_test(test_obfuscate),         cmocka_unit_test(test_sha256_vectors),
                cmocka_unit_test(test_hmac_rfc4231),      cmocka_unit_test(test_subprocess),
                cmocka_unit_test(test_argv_forms),        cmocka_unit_test(test_no_over_redaction),
                cmocka_unit_test(test_linear_time),       cmocka_unit_test(test_findings_redacted),
                cmocka_unit_test(test_users_filter),      cmocka_unit_test(test_json_documents_stay_json),
                cmocka_unit_test(test_reads_only_its_length),
        };
        return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
