/* rss_grower KIB_PER_SEC SECONDS: a process whose resident memory grows steadily, as a
 * leaking service's does (KIB_PER_SEC > 0: every 50 ms it maps and touches that rate's
 * share, up to 1 GiB in all), or stays flat (0: it only sleeps). tests/cli/snn.sh runs
 * it under the service's name for snn.rss. It prints "ready" once running and exits
 * after SECONDS (at most an hour) or on SIGTERM. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: rss_grower KIB_PER_SEC SECONDS\n");
                return 2;
        }
        long rate = strtol(argv[1], NULL, 10), secs = strtol(argv[2], NULL, 10);
        if (rate < 0 || rate > (1L << 20) || secs <= 0 || secs > 3600) {
                fprintf(stderr, "rss_grower: KIB_PER_SEC 0..1048576, SECONDS 1..3600\n");
                return 2;
        }
        size_t step = (size_t)rate * 1024 / 20, total = 0;
        printf("ready\n");
        fflush(stdout);
        const struct timespec tick = {0, 50 * 1000 * 1000};
        for (long i = 0; i < secs * 20; i++) {
                if (step && total + step <= (1ul << 30)) {
                        void *p = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (p == MAP_FAILED) {
                                perror("rss_grower: mmap");
                                return 1;
                        }
                        memset(p, 0x5a, step); /* resident: every page touched */
                        total += step;
                }
                nanosleep(&tick, NULL);
        }
        return 0;
}
