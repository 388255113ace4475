/* evodiag bundle: runs every collector (check + collect) in a child under a
 * deadline and streams findings and evidence into one redacted .tar.zst with
 * ISSUE.md, summary.txt, findings.json, manifest.json and evodiag.log. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "collectors/collector.h"

struct bundle_opts {
        const char *output;           /* NULL: current dir (/var/tmp as root); "-": stdout; a dir; or a file path */
        const char *host;
        const char *command_line;     /* as typed; redacted before it is stored */
        const char *component;        /* ISSUE.md template; NULL = by worst findings */
        const char *templates_dir;
        const char *const *only, *const *skip;
        uint64_t since_ms;            /* realtime ms; logs newer than this */
        uint64_t deadline_ms;         /* absolute monotonic */
        uint64_t collector_timeout_ms;
        uint64_t max_size;            /* total uncompressed payload */
        uint64_t artifact_max;
        bool redact, obfuscate, gzip, quiet, progress;
        bool full;                    /* all of /etc/passwd, /etc/group and every cmdline, not what findings use */
        bool include_perf_data;       /* the raw perf.data of a profile (--allow-intrusive) */
        bool include_cores;           /* the coredump collector stores the cores themselves */
        const char *state_dir;        /* where the obfuscation key and mapping live */
        const char *case_id;          /* --case-id: in the file name and ISSUE.md; NULL = none */
        struct json_object *trigger;  /* watch --bundle-on: the events that triggered this bundle (a JSON
                                         array of strings, shown in ISSUE.md); NULL = made by hand */
};

struct bundle_result {
        char *path;        /* final file, or "-" */
        uint64_t bytes;    /* compressed size on disk */
        char sha256[65];   /* of the archive file */
        bool complete;
        char *why_incomplete; /* when not complete: the reasons (manifest "incomplete"), "; "-joined */
        bool interrupted;
        int worst_exit;    /* exit code of the findings, like check */
};

/* Returns 0 with *res filled, or -errno / -EIO with the reason already printed. */
int bundle_make(struct ctx *base, const struct bundle_opts *o, struct bundle_result *res);
void bundle_result_free(struct bundle_result *r);
