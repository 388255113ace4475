/* The broker's process and files: /proc/PID/cmdline (-c/-D, NUL-separated, maybe
 * cut), the data dir's .lock ("PID n @ host"), /proc/net/tcp and tcp6 listeners. */
#include "tests/fuzz/fuzz.h"
#include "collectors/lavinmq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *conf = NULL, *dir = NULL;
        lavinmq_cmdline((const char *)data, size, &conf, &dir);
        free(conf);
        free(dir);

        char *s = fz_str(data, size);
        int pid;
        char host[64];
        if (lavinmq_lock_parse(s, &pid, host, sizeof(host)) == 0 && (pid <= 0 || !memchr(host, 0, sizeof(host))))
                abort();
        for (int v6 = 0; v6 < 2; v6++) {
                struct tcp_listen *l = NULL;
                size_t bad;
                int n = tcp_listeners_parse(s, v6, &l, &bad);
                if (n > 0) {
                        (void)tcp_listening(l, (size_t)n, "127.0.0.1", 5672);
                        (void)tcp_listening(l, (size_t)n, "::", 15672);
                        (void)tcp_listening(l, (size_t)n, "0.0.0.0", 1883);
                }
                free(l);
        }
        free(s);
        return 0;
}
