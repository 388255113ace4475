/* A process for the perf collector's tests (tests/cli/perf.sh).
 *   perf_child spin ON_MS OFF_MS SECONDS   spins ON_MS, sleeps OFF_MS, for SECONDS
 *                                          (voluntary context switches at each sleep)
 *   perf_child nested SECONDS              spins inside perf_outer -> perf_middle -> perf_inner
 *                                          (built with frame pointers: the native profile's
 *                                          call chains must name all three)
 * Prints "ready" on stdout once running. Exits after SECONDS whatever happens. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

static void spin_for(uint64_t ns)
{
        uint64_t end = now_ns() + ns;
        while (now_ns() < end)
                for (int i = 0; i < 1000; i++)
                        sink += (uint64_t)i;
}

__attribute__((noinline)) void perf_inner(uint64_t end)
{
        while (now_ns() < end)
                for (int i = 0; i < 1000; i++)
                        sink += (uint64_t)i * 3;
}

__attribute__((noinline)) void perf_middle(uint64_t end)
{
        perf_inner(end);
        sink++;
}

__attribute__((noinline)) void perf_outer(uint64_t end)
{
        perf_middle(end);
        sink++;
}

int main(int argc, char **argv)
{
        if (argc == 5 && !strcmp(argv[1], "spin")) {
                uint64_t on = strtoull(argv[2], NULL, 10) * 1000000ull, off = strtoull(argv[3], NULL, 10) * 1000000ull;
                uint64_t end = now_ns() + strtoull(argv[4], NULL, 10) * 1000000000ull;
                printf("ready\n");
                fflush(stdout);
                while (now_ns() < end) {
                        spin_for(on);
                        if (off) {
                                struct timespec ts = {.tv_sec = (time_t)(off / 1000000000ull), .tv_nsec = (long)(off % 1000000000ull)};
                                nanosleep(&ts, NULL);
                        }
                }
                return 0;
        }
        if (argc == 3 && !strcmp(argv[1], "nested")) {
                uint64_t end = now_ns() + strtoull(argv[2], NULL, 10) * 1000000000ull;
                printf("ready\n");
                fflush(stdout);
                perf_outer(end);
                return 0;
        }
        fprintf(stderr, "usage: perf_child spin ON_MS OFF_MS SECONDS | nested SECONDS\n");
        return 2;
}
