/* What the broker's HTTP port answers: /api/overview and /api/nodes JSON, and the
 * Prometheus text of /metrics. A port any local user can bind says anything. */
#include "tests/fuzz/fuzz.h"
#include "collectors/lavinmq.h"

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
        char *s = fz_str(data, size);
        static const char *const names[] = {"lavinmq_process_open_fds", "lavinmq_process_max_fds", "lavinmq_mfile_count",
                                            "lavinmq_queue_messages_ready", "lavinmq_identity_info", "process_open_fds", "l"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                double d;
                (void)prom_value(s, names[i], &d);
        }
        free(s);
        return 0;
}
