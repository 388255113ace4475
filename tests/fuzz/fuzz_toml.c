/* TOML through lib/toml's C interface (toml++): the SNN service's production.toml,
 * which its owner (or whoever can write where CEREBELLAR_CONFIG_PATH points) controls. */
#include "tests/fuzz/fuzz.h"
#include "collectors/snn.h"
#include "lib/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct toml_error e;
        struct toml_doc *d = toml_doc_parse((const char *)data, size, &e);
        if (d) {
                size_t n;
                free(toml_tables(d, &n));
                char *s = NULL;
                if (toml_get_string(d, "performance.device", &s) == 0)
                        free(s);
                double x;
                (void)toml_get_number(d, "neural.learning_rate", &x);
                (void)toml_kind_at(d, "a.b.c");
                toml_doc_free(d);
        }
        struct snn_conf c;
        if (snn_conf_parse((const char *)data, size, &c, &e) == 0)
                snn_conf_free(&c);
        return 0;
}
