/* /etc/lavinmq/lavinmq.ini (or whatever -c names): inih over LavinMQ's defaults,
 * then the listeners that config implies. */
#include "tests/fuzz/fuzz.h"
#include "collectors/lavinmq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct lavinmq_conf c;
        lavinmq_conf_init(&c);
        (void)lavinmq_conf_parse(s, &c);
        struct lavinmq_listener l[16];
        size_t n = lavinmq_listeners(&c, l, 16);
        if (n > 16)
                abort();
        for (size_t i = 0; i < n; i++)
                if (!l[i].name || !l[i].bind)
                        abort();
        lavinmq_conf_free(&c);
        free(s);
        return 0;
}
