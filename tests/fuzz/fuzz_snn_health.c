/* The SNN service's /health and /info replies, its metrics' latency histograms (whatever
 * answers on the configured port: any process can listen there), and its log lines. */
#include "tests/fuzz/fuzz.h"
#include "collectors/snn.h"
#include "lib/prometheus_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        struct snn_health h;
        char *err = NULL;
        if (snn_health_parse(s, size, &h, &err) == 0) {
                (void)snn_health_verdict(&h);
                free(snn_failing_checks(&h));
        }
        free(err);
        err = NULL;
        struct snn_info in;
        (void)snn_info_parse(s, size, &in, &err);
        free(err);
        struct prom_text t;
        if (prom_text_parse(s, size, NULL, &t) == 0) {
                static const char *const names[] = {"neural_inference_latency_seconds", "processing_duration_seconds", "a", NULL};
                for (size_t i = 0; names[i]; i++) {
                        struct snn_latency l;
                        snn_latency_of(&t, names[i], &l);
                        (void)snn_latency_verdict(&l, 1e-5, 1e-4);
                        char b[32];
                        (void)snn_fmt_seconds(l.p95, b);
                }
        }
        prom_text_free(&t);
        struct snn_log_scan sc;
        snn_log_scan(s, size, 10000, &sc);
        return 0;
}
