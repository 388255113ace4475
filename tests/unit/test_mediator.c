/* Unit tests: the mediator collector's parsers — exports(5) and etab lines (quotes,
 * escapes, continuations, defaults, garbage), option comparison, per-VM request and
 * response formats of every phase, the admin reply header (good, bad magic, short,
 * huge data_len), the lock file's pid (its holder: test_proclocks), log counting and cuda_sanity's output. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "collectors/mediator.h"
#include "lib/util.h"

static void test_exports(void **state)
{
        (void)state;
        struct mx_exports x = {0};
        mx_exports_parse("# comment\n\n/var/vgpu *(rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure)\n"
                         "\"/srv/with space\" 10.0.0.0/24(ro) host2\n"
                         "/srv/a\\040b -async h1(rw) h2\n"
                         "/srv/cont h1(rw) \\\n  h2(ro)\n"
                         "/srv/bare\n"
                         "relative *(rw)\n"
                         "/srv/open h1(rw\n",
                         &x);
        assert_int_equal(x.n, 8);
        assert_string_equal(x.v[0].path, "/var/vgpu");
        assert_string_equal(x.v[0].host, "*");
        assert_string_equal(x.v[0].opts, "rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure");
        assert_int_equal(x.v[0].line, 3);
        assert_string_equal(x.v[1].path, "/srv/with space");
        assert_string_equal(x.v[1].host, "10.0.0.0/24");
        assert_string_equal(x.v[1].opts, "ro");
        assert_string_equal(x.v[2].host, "host2");
        assert_string_equal(x.v[2].opts, "");
        assert_string_equal(x.v[3].path, "/srv/a b");
        assert_string_equal(x.v[3].opts, "async,rw");
        assert_string_equal(x.v[4].opts, "async");
        assert_string_equal(x.v[5].path, "/srv/cont");
        assert_string_equal(x.v[6].host, "h2");
        assert_string_equal(x.v[6].opts, "ro");
        assert_int_equal(x.v[6].line, 6);
        assert_string_equal(x.v[7].path, "/srv/bare");
        assert_string_equal(x.v[7].host, "*");
        /* "relative" and "/srv/open h1(rw" (no closing parenthesis) are refused whole */
        assert_int_equal(x.bad, 2);
        assert_int_equal(x.first_bad, 9);
        mx_exports_free(&x);

        /* a continued line beyond the bound is refused, not grown without end */
        struct strbuf b = {0};
        sb_puts(&b, "/x ");
        for (int i = 0; i < 2000; i++)
                sb_puts(&b, "hostname(rw) \\\n");
        sb_puts(&b, "last\n/ok *(rw)\n");
        mx_exports_parse(b.s, &x);
        assert_int_equal(x.bad, 1);
        assert_int_equal(x.n, 1);
        assert_string_equal(x.v[0].path, "/ok");
        mx_exports_free(&x);
        sb_free(&b);
}

static void test_etab(void **state)
{
        (void)state;
        struct mx_exports x = {0};
        mx_etab_parse("/var/vgpu\t*(rw,sync,wdelay,hide,nocrossmnt,insecure,no_root_squash,no_all_squash,"
                      "no_subtree_check,secure_locks,acl,fsid=1,anonuid=65534,anongid=65534,sec=sys,rw,insecure,"
                      "no_root_squash,no_all_squash)\n"
                      "/a\\040b\t10.0.0.1(ro)\n"
                      "garbage\n/x\tnoparen\n\n",
                      &x);
        assert_int_equal(x.n, 2);
        assert_string_equal(x.v[0].path, "/var/vgpu");
        assert_string_equal(x.v[0].host, "*");
        assert_string_equal(x.v[1].path, "/a b");
        assert_int_equal(x.bad, 2);
        struct strbuf d = {0};
        assert_int_equal(mx_opts_differ("rw,sync,no_root_squash,no_subtree_check,fsid=1,insecure", x.v[0].opts, &d), 0);
        assert_int_equal(mx_opts_differ("rw,root_squash,fsid=2", x.v[0].opts, &d), 2);
        assert_string_equal(d.s, "root_squash,fsid=2");
        sb_free(&d);
        assert_int_equal(mx_opts_differ("rw", "ro,no_root_squash", NULL), 1);
        assert_int_equal(mx_opts_differ("crossmnt", "rw", NULL), 1);
        char v[16];
        assert_true(mx_opt("rw,actimeo=3,hard", "actimeo", v, sizeof(v)));
        assert_string_equal(v, "3");
        assert_false(mx_opt("rw,actimeox=3", "actimeo", NULL, 0));
        assert_true(mx_path_under("/dev/shm", "/dev/shm"));
        assert_true(mx_path_under("//dev//shm/vgpu/", "/dev/shm"));
        assert_false(mx_path_under("/dev/shmx", "/dev/shm"));
        assert_true(mx_path_under("/anything", "/"));
        mx_exports_free(&x);
}

static void test_requests(void **state)
{
        (void)state;
        struct mx_request r;
        mx_request_parse("1\n", 2, MX_LAYOUT_PHASE1, &r);
        assert_int_equal(r.kind, MX_REQ_COMMAND);
        assert_int_equal(r.code, 1);
        mx_request_parse("7\n", 2, MX_LAYOUT_PHASE1, &r);
        assert_int_equal(r.kind, MX_REQ_BAD);
        mx_request_parse("-1\n", 3, MX_LAYOUT_PHASE1, &r);
        assert_int_equal(r.kind, MX_REQ_BAD);
        mx_request_parse("", 0, MX_LAYOUT_PERVM, &r);
        assert_int_equal(r.kind, MX_REQ_EMPTY);
        const char *q = "A:2:100:VECTOR_ADD\n";
        mx_request_parse(q, strlen(q), MX_LAYOUT_PERVM, &r);
        assert_int_equal(r.kind, MX_REQ_QUEUED);
        assert_int_equal(r.vm, 100);
        assert_int_equal(r.prio, 2);
        assert_string_equal(r.command, "VECTOR_ADD");
        q = "B:0:1:10:-20\r\n";
        mx_request_parse(q, strlen(q), MX_LAYOUT_PERVM, &r);
        assert_int_equal(r.kind, MX_REQ_ASYNC);
        assert_int_equal(r.pool, 'B');
        const char *bad[] = {"C:2:1:X\n", "A:3:1:X\n", "A:2:x:X\n", "A:2:1:lower\n", "A:2:1\n", "A:2:1:1:2:3\n",
                             "A:2:1:1:x\n", "A:2:1:\n", "A:2:1:VECTOR_ADD\nnonsense\n"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                mx_request_parse(bad[i], strlen(bad[i]), MX_LAYOUT_PERVM, &r);
                assert_int_equal(r.kind, MX_REQ_BAD);
                assert_true(r.why[0]);
        }
        mx_request_parse("A:2:1:VECTOR_ADD\nnonsense\n", 26, MX_LAYOUT_PERVM, &r);
        assert_int_equal(r.line, 2);
        mx_request_parse("A:2:1:X\0Y\n", 10, MX_LAYOUT_PERVM, &r);
        assert_int_equal(r.kind, MX_REQ_BAD);

        int st;
        const char *msg;
        size_t ml;
        assert_int_equal(mx_response_parse("2:Unknown command: 9\n", &st, &msg, &ml), 0);
        assert_int_equal(st, 2);
        assert_int_equal(ml, 18);
        assert_memory_equal(msg, "Unknown command: 9", 18);
        assert_int_equal(mx_response_parse("0:Ready - CUDA enabled", &st, &msg, &ml), 0);
        assert_int_equal(st, 0);
        assert_int_equal(mx_response_parse("300\n", &st, &msg, &ml), 0);
        assert_int_equal(st, 1);
        assert_int_equal(mx_response_parse("3:what", &st, &msg, &ml), -EINVAL);
        assert_int_equal(mx_response_parse("hello", &st, &msg, &ml), -EINVAL);
        assert_int_equal(mx_response_parse(":x", &st, &msg, &ml), -EINVAL);
        unsigned id;
        assert_int_equal(mx_vm_dir_id("vm100", &id), 0);
        assert_int_equal(id, 100);
        assert_int_equal(mx_vm_dir_id("vm", &id), -EINVAL);
        assert_int_equal(mx_vm_dir_id("vmx", &id), -EINVAL);
        assert_int_equal(mx_vm_dir_id("vm99999999999", &id), -EINVAL);
}

static void test_admin(void **state)
{
        (void)state;
        uint8_t req[16];
        mx_admin_request(MX_CMD_SHOW_HEALTH, req);
        uint32_t w[4];
        memcpy(w, req, 16);
        assert_int_equal(w[0], MX_ADMIN_MAGIC);
        assert_int_equal(w[1], 0x11);
        assert_int_equal(w[2], 0);
        uint32_t h[3] = {MX_ADMIN_MAGIC, 0, 10};
        struct mx_admin_hdr o;
        assert_int_equal(mx_admin_header(h, 12, 100, &o), 0);
        assert_int_equal(o.data_len, 10);
        assert_int_equal(mx_admin_header(h, 11, 100, &o), -EBADMSG);
        h[2] = 0xfffffff0u;
        assert_int_equal(mx_admin_header(h, 12, 1 << 20, &o), -EMSGSIZE);
        h[0] = 0xdeadbeef;
        assert_int_equal(mx_admin_header(h, 12, 1 << 20, &o), -EPROTO);
        assert_true(mx_health_bad("status: UNHEALTHY"));
        assert_true(mx_health_bad("vm 3 quarantined"));
        assert_false(mx_health_bad("healthy: 2 VMs, errors=0 terrors"));
        assert_false(mx_health_bad("healthy"));
}

static void test_locks_log_sanity(void **state)
{
        (void)state;
        int pid;
        assert_int_equal(mx_lock_pid("1234\n", &pid), 0);
        assert_int_equal(pid, 1234);
        assert_int_equal(mx_lock_pid("0\n", &pid), -EINVAL);
        assert_int_equal(mx_lock_pid("12ab", &pid), -EINVAL);
        assert_int_equal(mx_lock_pid("", &pid), -EINVAL);

        const char *log = "partial line [ERROR] cut\n[10:00:00] [ERROR] queue full\n[10:00:01] ok\n"
                          "CUDA error: an illegal memory access\n[10:00:02] [ERROR] vm 3 gone\n";
        struct mx_logscan ls;
        mx_log_scan(log, strlen(log), true, &ls);
        assert_int_equal(ls.lines, 4);
        assert_int_equal(ls.errors, 2);
        assert_int_equal(ls.cuda, 1);
        assert_string_equal(ls.last_error, "[10:00:02] [ERROR] vm 3 gone");
        mx_log_scan(log, strlen(log), false, &ls);
        assert_int_equal(ls.errors, 3);

        char why[128];
        assert_int_equal(mx_sanity_parse("CUDA devices: 1\nCUDA sanity OK\n", 0, why, sizeof(why)), MX_SANITY_OK);
        assert_int_equal(mx_sanity_parse("cudaGetDeviceCount failed: no CUDA-capable device\n", 1, why, sizeof(why)),
                         MX_SANITY_FAILED);
        assert_string_equal(why, "cudaGetDeviceCount failed: no CUDA-capable device");
        assert_int_equal(mx_sanity_parse("", 3, why, sizeof(why)), MX_SANITY_FAILED);
        assert_int_equal(mx_sanity_parse("hello\n", 0, why, sizeof(why)), MX_SANITY_UNCLEAR);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exports), cmocka_unit_test(test_etab),
                cmocka_unit_test(test_requests), cmocka_unit_test(test_admin),
                cmocka_unit_test(test_locks_log_sanity),
        };
        return cmocka_run_group_tests_name("mediator", tests, NULL, NULL);
}
