/* The snn collector's own header, shared by its files and by nothing else:
 *   snn.c            the collector: its checks, config keys, detect(), the process,
 *                    check() and collect()
 *   snn_http.c       the HTTP routes: /health, /info, /metrics, /neural/metrics
 *   snn_config.c     production.toml: device, memory fit, learning rate
 *   snn_logs.c       the log files and the unit's journal
 *   snn_resources.c  somaxconn, open-files limit, CPU frequency caps
 *   snn_sample.c     sample() for evodiag watch
 *   snn_format.c     the pure parsers (snn.h) */
#pragma once
#include "collectors/collector.h"
#include "collectors/snn.h"
#include "lib/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNN_UNIT "cerebellar-norse.service"
#define SNN_CONFIG_DEFAULT "/etc/cerebellar-norse/production.toml"
#define SNN_URL_DEFAULT "http://127.0.0.1:8080"

struct bundle_sink;
struct sample;

struct reply {
        const char *path;
        bool tried;
        char *skipped; /* why not asked */
        int rc;
        struct http_resp r;
};

struct snn {
        char *url;     /* without a trailing / */
        char *url_pub; /* for messages */
        bool live;
        struct reply health, info, metrics, neural;
        int pids[8];   /* the service's processes (vouched for) */
        size_t npids;
        bool have_conf;
        struct snn_conf conf;
        char *conf_path;
        char *log_path[4], *log_tail[4];
        size_t log_len[4], nlogs;
        struct snn_rss_series rss[4]; /* VmRSS of the vouched-for processes (live host) */
        bool rss_gone[4];             /* its status could no longer be read: it exited */
        size_t nrss;
};

/* snn_http.c */
void snn_reply_free(struct reply *r);
void snn_fetch(const struct ctx *c, const struct snn *s, struct reply *rp, const char *path);
void snn_check_health(const struct snn *s, struct findings *fs);
void snn_check_info(const struct snn *s, struct findings *fs);
void snn_check_metrics(struct ctx *c, const struct snn *s, struct findings *fs);
void snn_store_reply(struct bundle_sink *bs, const struct snn *s, const struct reply *r, const char *name);
/* snn.c */
bool snn_unit_installed(void);
/* The first process of the service that is vouched for (as snn.process), or 0. */
int snn_service_pid(struct ctx *c);
/* snn_config.c (sets s->conf, s->have_conf, s->conf_path) */
void snn_check_config(struct ctx *c, struct snn *s, struct findings *fs);
/* snn_logs.c (keeps the tails in s->log_*) */
void snn_check_logs(struct ctx *c, struct snn *s, struct findings *fs);
/* snn_resources.c */
void snn_check_resources(struct ctx *c, struct snn *s, struct findings *fs);
/* VmRSS of pid in bytes (/proc/PID/status). 0 or a negative errno. */
int snn_read_rss(int pid, uint64_t *bytes);
/* One more reading for each of s->rss (check_process starts them). */
void snn_rss_read_all(struct snn *s);
/* snn.rss: readings until [snn] rss_window has passed since the first, then the trend. */
void snn_check_rss(struct ctx *c, struct snn *s, struct findings *fs);
/* "12.0 MiB/min" */
const char *snn_fmt_rate(double per_min, char buf[static 32]);
/* snn_sample.c */
void snn_sample(struct ctx *c, struct sample *smp);
