/* check --from: a bundle (an archive or an unpacked directory) is untrusted input.
 * It is unpacked (report/unpack.c) and its manifest.json and findings.json parsed
 * (report/manifest.c) in a forked child under the run's deadline, never in this
 * process; this process receives only the checked result. The private temp dir is
 * removed on every exit path: by from_close, and by a helper process when this one
 * dies some other way (signal, SIGKILL). */
#pragma once
#include <stdint.h>
#include "report/manifest.h"

struct from_bundle {
        char *tmp;       /* our private temp dir under $TMPDIR */
        char *top;       /* the directory that holds manifest.json */
        char *host_root; /* what the collectors read: top/host, or an empty directory */
        struct bundle_info info;
};

/* 0, or -errno with *err saying what is wrong with the bundle (or that reading it
 * passed deadline_ms, absolute CLOCK_MONOTONIC ms). */
int from_open(const char *from, uint64_t deadline_ms, struct from_bundle *fb, char **err);
/* Removes the temp dir and frees. */
void from_close(struct from_bundle *fb);
