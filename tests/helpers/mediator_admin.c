/* A stand-in for the vGPU mediator's admin socket (COMPONENTS.md §4) for
 * tests/cli/mediator.sh: listens on a unix socket and answers each request
 * {magic, command, param1, param2} the way MODE says:
 *   good       status 0 and a text ("healthy", or metrics for SHOW_METRICS)
 *   unhealthy  status 1 and "unhealthy: pool A stuck"
 *   badmagic   a header with a wrong magic
 *   short      5 bytes, then close
 *   huge       data_len 0xfffffff0 and a few bytes, then close
 *   silent     reads the request and never answers
 * Every command received is appended ("0x11") to LOGFILE, so a test can check that
 * only read-only commands were sent. Prints "ready" once listening.
 * Usage: mediator_admin SOCKPATH MODE LOGFILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAGIC 0x56475055u

static void reply(int fd, uint32_t magic, uint32_t status, uint32_t len, const char *text, size_t tl)
{
        uint32_t h[3] = {magic, status, len};
        if (write(fd, h, sizeof(h)) < 0 || (tl && write(fd, text, tl) < 0))
                perror("write");
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s SOCKPATH MODE LOGFILE\n", argv[0]);
                return 2;
        }
        const char *mode = argv[2];
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
        unlink(argv[1]);
        if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 8) < 0) {
                perror("listen");
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                int c = accept(l, NULL, NULL);
                if (c < 0)
                        continue;
                uint32_t req[4];
                size_t got = 0;
                while (got < sizeof(req)) {
                        ssize_t r = read(c, (char *)req + got, sizeof(req) - got);
                        if (r <= 0)
                                break;
                        got += (size_t)r;
                }
                if (got == sizeof(req)) {
                        FILE *f = fopen(argv[3], "a");
                        if (f) {
                                fprintf(f, "0x%x%s\n", req[1], req[0] == MAGIC ? "" : " badmagic");
                                fclose(f);
                        }
                        const char *t = req[1] == 0x10 ? "requests_total 42\nvm_connected 2\n" : "healthy: 2 VMs connected\n";
                        if (!strcmp(mode, "good"))
                                reply(c, MAGIC, 0, (uint32_t)strlen(t), t, strlen(t));
                        else if (!strcmp(mode, "unhealthy"))
                                reply(c, MAGIC, 1, 23, "unhealthy: pool A stuck", 23);
                        else if (!strcmp(mode, "badmagic"))
                                reply(c, 0xdeadbeef, 0, 2, "ok", 2);
                        else if (!strcmp(mode, "short")) {
                                if (write(c, "\x55\x50\x47\x56\x00", 5) < 0)
                                        perror("write");
                        } else if (!strcmp(mode, "huge"))
                                reply(c, MAGIC, 0, 0xfffffff0u, "abc", 3);
                        else if (!strcmp(mode, "silent")) {
                                pause();
                        }
                }
                close(c);
        }
}
