/* cd_threads [N [MIB]]: a process for the coredump tests to gcore. Its main thread and N
 * more threads (default 1) each sit in evo_cd_outer -> evo_cd_middle -> evo_cd_innermost
 * (pause()); "ready" is printed once every thread is inside evo_cd_innermost. MIB: that
 * much heap written first (bench/coredump.sh sizes its cores with it). Built with -g and
 * without sanitizers, so the backtrace is the program's own. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_int inside;

void evo_cd_innermost(int depth);
void evo_cd_middle(int depth);
void evo_cd_outer(int depth);

__attribute__((noinline)) void evo_cd_innermost(int depth)
{
        atomic_fetch_add(&inside, 1);
        for (;;)
                pause();
        (void)depth;
}

__attribute__((noinline)) void evo_cd_middle(int depth)
{
        evo_cd_innermost(depth + 1);
        __asm__ volatile("" ::: "memory"); /* no tail call: the frame stays */
}

__attribute__((noinline)) void evo_cd_outer(int depth)
{
        evo_cd_middle(depth + 1);
        __asm__ volatile("" ::: "memory");
}

static void *thread_main(void *arg)
{
        evo_cd_outer(0);
        return arg;
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 1;
        size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 0;
        if (mib) {
                unsigned char *heap = malloc(mib << 20);
                if (!heap)
                        return 1;
                for (size_t i = 0; i < mib << 20; i++)
                        heap[i] = (unsigned char)(i * 2654435761u >> 13); /* not all zeros: compresses like data */
        }
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 64 << 10);
        for (int i = 0; i < n; i++) {
                pthread_t t;
                if (pthread_create(&t, &at, thread_main, NULL) != 0) {
                        perror("pthread_create");
                        return 1;
                }
        }
        while (atomic_load(&inside) < n)
                usleep(1000);
        printf("ready\n");
        fflush(stdout);
        evo_cd_outer(0);
        return 0;
}
