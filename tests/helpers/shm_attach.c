/* shm_attach: gives the shm collector's live tests real shared memory.
 *
 * Creates a SysV segment (shmget + shmat) and, with --posix NAME, a POSIX
 * object (shm_open + ftruncate + mmap, fd closed so only the mapping holds it),
 * touches both so they have resident pages, prints one flushed line
 *
 *     ready shmid <id>
 *
 * and waits until SIGTERM/SIGINT or EOF on stdin. On exit it detaches but never
 * IPC_RMIDs the SysV segment (unless --rmid), so the segment is left behind as an
 * orphan, exactly as after a crash. The POSIX object is shm_unlinked unless
 * --keep-posix.
 *
 * Options:
 *   --key KEY          SysV key (decimal or 0x hex); default IPC_PRIVATE
 *   --size BYTES       SysV segment size (default 4096)
 *   --posix NAME       also create POSIX object NAME ("/evodiag-x" or "evodiag-x")
 *   --posix-size BYTES POSIX object size (default 8192)
 *   --mode OCTAL       permissions of both (default 0600; umask is bypassed)
 *   --rmid             IPC_RMID the SysV segment at exit (no orphan)
 *   --keep-posix       do not shm_unlink the POSIX object at exit
 * Exit: 0 ok, 1 system error, 2 usage.
 *
 * Build: gcc -std=gnu11 -Wall -Wextra -o shm_attach shm_attach.c -lrt */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int usage(const char *msg)
{
        fprintf(stderr, "shm_attach: %s\n"
                        "usage: shm_attach [--key KEY] [--size BYTES] [--posix NAME] [--posix-size BYTES]\n"
                        "                  [--mode OCTAL] [--rmid] [--keep-posix]\n",
                msg);
        return 2;
}

static int parse_num(const char *s, int base, unsigned long long *out)
{
        char *end;
        errno = 0;
        *out = strtoull(s, &end, base);
        return errno || end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
        key_t key = IPC_PRIVATE;
        unsigned long long size = 4096, psize = 8192, mode = 0600, v;
        const char *posix = NULL;
        int rmid = 0, keep_posix = 0;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *val = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(a, "--rmid")) {
                        rmid = 1;
                        continue;
                }
                if (!strcmp(a, "--keep-posix")) {
                        keep_posix = 1;
                        continue;
                }
                if (!val)
                        return usage("missing option or value");
                i++;
                if (!strcmp(a, "--key")) {
                        if (parse_num(val, 0, &v) || v > 0xffffffffULL)
                                return usage("--key: not a 32-bit number");
                        key = (key_t)(unsigned)v;
                } else if (!strcmp(a, "--size")) {
                        if (parse_num(val, 0, &size) || !size)
                                return usage("--size: not a positive number");
                } else if (!strcmp(a, "--posix")) {
                        posix = val;
                } else if (!strcmp(a, "--posix-size")) {
                        if (parse_num(val, 0, &psize) || !psize)
                                return usage("--posix-size: not a positive number");
                } else if (!strcmp(a, "--mode")) {
                        if (parse_num(val, 8, &mode) || mode > 0777)
                                return usage("--mode: not an octal mode");
                } else {
                        return usage("unknown option");
                }
        }

        /* No SA_RESTART: the signal must interrupt the blocking read below. */
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        umask(0);

        int id = shmget(key, (size_t)size, IPC_CREAT | IPC_EXCL | (int)mode);
        if (id < 0) {
                fprintf(stderr, "shm_attach: shmget: %s\n", strerror(errno));
                return 1;
        }
        char *sysv = shmat(id, NULL, 0);
        if (sysv == (void *)-1) {
                fprintf(stderr, "shm_attach: shmat %d: %s\n", id, strerror(errno));
                shmctl(id, IPC_RMID, NULL);
                return 1;
        }
        memset(sysv, 0x5a, (size_t)size);

        char *pmap = NULL;
        if (posix) {
                char name[256];
                snprintf(name, sizeof(name), "%s%s", posix[0] == '/' ? "" : "/", posix);
                int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, (mode_t)mode);
                if (fd < 0 || fchmod(fd, (mode_t)mode) < 0 || ftruncate(fd, (off_t)psize) < 0) {
                        fprintf(stderr, "shm_attach: shm_open %s: %s\n", name, strerror(errno));
                        if (fd >= 0)
                                shm_unlink(name);
                        shmdt(sysv);
                        shmctl(id, IPC_RMID, NULL);
                        return 1;
                }
                pmap = mmap(NULL, (size_t)psize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                close(fd); /* only the mapping holds it now: found through /proc/PID/maps */
                if (pmap == MAP_FAILED) {
                        fprintf(stderr, "shm_attach: mmap %s: %s\n", name, strerror(errno));
                        shm_unlink(name);
                        shmdt(sysv);
                        shmctl(id, IPC_RMID, NULL);
                        return 1;
                }
                memset(pmap, 0xa5, (size_t)psize);
                posix = strdup(name);
        }

        printf("ready shmid %d\n", id);
        fflush(stdout);

        char buf[256];
        while (!stop) {
                ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
                if (r == 0 || (r < 0 && errno != EINTR))
                        break;
        }

        if (pmap) {
                munmap(pmap, (size_t)psize);
                if (!keep_posix)
                        shm_unlink(posix);
                free((char *)posix);
        }
        shmdt(sysv);
        if (rmid)
                shmctl(id, IPC_RMID, NULL);
        return 0;
}
