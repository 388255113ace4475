/* Unit tests: user and group names from the inspected root's passwd/group, parsed by
 * libc's fgetpwent/fgetgrent (shm, evo and fds used three hand-written copies). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include "lib/users.h"
#include "lib/util.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "# a comment:x:5:5::/:\n"
                             "broken line\n"
                             ":x:7:7::/:/bin/false\n"
                             "evo:x:1000:1000:EVO:/home/evo:/bin/bash\n"
                             "num:x:10x:1::/:\n"
                             "shadowed:x:1000:1000::/:\n"
                             "lavinmq:x:998:998::/var/lib/lavinmq:/usr/sbin/nologin\n"
                             "averyveryverylongusername:x:2000:2000::/:";

static void test_names(void **state)
{
        struct users *u = users_parse(passwd, "root:x:0:\nevo:x:1001:alice,bob\nbad:x:1x:\n");
        assert_string_equal(users_name(u, 0), "root");
        assert_string_equal(users_name(u, 1000), "evo"); /* the first entry of a uid wins */
        assert_null(users_name(u, 5));                    /* a comment */
        assert_null(users_name(u, 7));                    /* an empty name */
        assert_null(users_name(u, 10));                   /* "10x" is not 10 */
        assert_null(users_name(u, 4242));
        assert_string_equal(users_name(u, 2000), "averyveryverylongusername"); /* last line, no newline */
        assert_string_equal(users_group(u, 1001), "evo");
        assert_null(users_group(u, 1));
        unsigned uid = 1;
        assert_int_equal(users_uid(u, "lavinmq", &uid), 0);
        assert_int_equal(uid, 998);
        assert_int_equal(users_uid(u, "nosuch", &uid), -ENOENT);
        char *o = users_owner(u, 1000, 1001);
        assert_string_equal(o, "evo:evo");
        free(o);
        o = users_owner(u, 4242, 4243);
        assert_string_equal(o, "4242:4243");
        free(o);
        users_free(u);
}

static void test_empty_and_garbage(void **state)
{
        struct users *u = users_parse(NULL, "");
        assert_null(users_name(u, 0));
        users_free(u);
        u = users_parse("root:x", "\x01\x02:::\n\n:::::::::\n");
        assert_null(users_name(u, 0));
        users_free(u);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_empty_and_garbage),
        };
        return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
