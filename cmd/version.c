#include "config.h"
#include "cmd/cmd.h"

#include <archive.h>
#include "lib/curl_api.h"
#include <elfutils/version.h>
#include <json-c/json_c_version.h>

int cmd_version(int argc, char **argv)
{
        printf("evodiag %s\n", PACKAGE_VERSION);
        if (argc > 1 && (streq(argv[1], "-v") || streq(argv[1], "--verbose"))) {
                printf("libarchive %s\n", archive_version_string());
                const char *err;
                const struct curl_api *cu = curl_api(&err);
                printf("%s\n", cu ? cu->version() : err);
                printf("json-c %s\n", json_c_version());
                printf("elfutils 0.%d\n", _ELFUTILS_VERSION);
        }
        return 0;
}
