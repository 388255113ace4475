#include "config.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "commit.h" /* EVODIAG_COMMIT, made by make */

#include <archive.h>
#include "lib/curl_api.h"
#include <elfutils/version.h>
#include <json-c/json_c_version.h>

const struct verb_spec version_verb = {
        .name = "version",
        .about = "Prints evodiag's version; with -v also the versions of the libraries it uses.\n",
        .common = COMMON_VERBOSE,
};

int cmd_version(int argc, char **argv)
{
        struct common c = {0};
        struct opts p;
        opts_init(&p, &version_verb, &c, argc, argv);
        if (opts_next(&p) < 0) /* -v and -h: it has no options of its own */
                return p.rc;
        printf("evodiag %s\n", PACKAGE_VERSION);
        if (c.verbose) {
                printf("commit %s\n", EVODIAG_COMMIT);
                /* archive_version_string() is "libarchive 3.6.2": it names itself. */
                const char *av = archive_version_string();
                printf("%s%s\n", startswith(av, "libarchive ") ? "" : "libarchive ", av);
                const char *err;
                const struct curl_api *cu = curl_api(&err);
                printf("%s\n", cu ? cu->version() : err);
                printf("json-c %s\n", json_c_version());
                printf("elfutils 0.%d\n", _ELFUTILS_VERSION);
        }
        return 0;
}
