/* What the broker's HTTP port answers: /api/overview and /api/nodes JSON, and the
 * Prometheus text of /metrics. A port any local user can bind says anything. */
#include "tests/fuzz/fuzz.h"
#include "collectors/lavinmq.h"
#include "lib/prometheus_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct lavinmq_api a;
        char *err = NULL;
        lavinmq_api_init(&a);
        if (lavinmq_parse_overview((const char *)data, size, &a, &err) < 0 && !err)
                abort(); /* an error always says why */
        free(err);
        err = NULL;
        if (lavinmq_parse_nodes((const char *)data, size, &a, &err) < 0 && !err)
                abort();
        free(err);
        /* The Prometheus text, through lib/prometheus_text (default limits). */
        struct prom_text t;
        if (prom_text_parse((const char *)data, size, NULL, &t) == 0) {
                static const char *const names[] = {"lavinmq_process_open_fds", "lavinmq_process_max_fds", "lavinmq_mfile_count",
                                                    "lavinmq_queue_messages_ready", "lavinmq_identity_info", "process_open_fds", "l"};
                for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                        double d;
                        const char *why;
                        (void)prom_text_value(&t, names[i], &d, &why);
                        size_t pos = 0;
                        const struct prom_series *ps;
                        while ((ps = prom_text_next(&t, names[i], &pos)))
                                (void)prom_label_value(ps, "queue");
                }
        }
        prom_text_free(&t); /* filled whatever the result */
        return 0;
}
