/* /proc/locks (proc(5)): one lock per line, "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF".
 * Who holds a lock file, without taking the lock: the evo collector (evo_<name>.lock)
 * and the mediator collector (/var/run/mediator_phase3.lock) ask here. The text comes
 * from the host, a --root tree or a bundle: every field is checked (tests/unit/
 * test_proclocks.c, tests/fuzz/fuzz_proclocks.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCLOCKS_MAX 100000 /* held locks kept; a table longer than this is not a real one */

struct proclock {
        char type[16];  /* FLOCK, POSIX, OFDLCK, LEASE... */
        bool waiter;    /* "->": blocked, waiting for the lock */
        bool write;
        int pid;        /* <= 0: not visible from this pid namespace (-1 for OFD locks) */
        unsigned maj, min; /* the device, as the kernel prints it (hex) */
        uint64_t ino;
};
/* One line. 0, or -EINVAL when it is not a /proc/locks line. */
int proclocks_line(const char *line, struct proclock *out);
/* The FLOCKs held according to a /proc/locks text (waiters and other lock types left
 * out, malformed lines skipped, at most PROCLOCKS_MAX): a new array in *v, *n entries.
 * text NULL: none. */
void proclocks_held(const char *text, struct proclock **v, size_t *n);
/* The lock among v on inode ino, device maj:min (compared only when match_dev: on the
 * live system; under --root or from a bundle devices mean nothing), or NULL. */
const struct proclock *proclocks_holder(const struct proclock *v, size_t n, uint64_t ino, unsigned maj, unsigned min,
                                        bool match_dev);
