/* bench/coredump.sh's driver: symbolizes one core the way the coredump collector does
 * (cd_backtrace: sandboxed parse child, every thread, file:line) RUNS times and prints
 * the best and median wall time in ms, and the threads and frames it found.
 * Usage: coredump_bench CORE [RUNS] */
#include "config.h"
#include "collectors/coredump.h"
#include "lib/rootfs.h"

#include <fcntl.h>
#include <stdio.h>

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: coredump_bench CORE [RUNS]\n");
                return 2;
        }
        int runs = argc > 2 ? atoi(argv[2]) : 5;
        if (runs < 1 || runs > 100)
                runs = 5;
        rootfs_set("/");
        uint64_t t[100];
        size_t threads = 0, frames = 0;
        for (int i = 0; i < runs; i++) {
                int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        perror(argv[1]);
                        return 1;
                }
                struct cd_bt_opts o = {.max_size = 1ull << 34, .timeout_ms = 120000, .tmp_dir = "/var/tmp", .live = true};
                struct cd_bt bt;
                uint64_t t0 = now_ms_monotonic();
                cd_backtrace(fd, cd_compression(argv[1]), &o, &bt);
                t[i] = now_ms_monotonic() - t0;
                close(fd);
                if (bt.error) {
                        fprintf(stderr, "%s: %s\n", argv[1], bt.error);
                        return 1;
                }
                threads = bt.nthreads;
                frames = 0;
                for (size_t k = 0; k < bt.nthreads; k++)
                        frames += bt.threads[k].nframes;
                cd_bt_free(&bt);
        }
        qsort(t, (size_t)runs, sizeof(*t), cmp);
        printf("best %llu ms, median %llu ms (%d runs); %zu threads, %zu frames\n", (unsigned long long)t[0],
               (unsigned long long)t[runs / 2], runs, threads, frames);
        return 0;
}
