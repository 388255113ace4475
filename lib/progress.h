/* A component's progress indicator: something that advances while the component does its
 * work, read before and after a window, so that a thread at 100 % of a CPU that works can
 * be told from one that spins (perf.busy_loop). LavinMQ's (and RabbitMQ's) management API
 * /api/overview: the message counters of message_stats (publish, deliver_get, ack, ...)
 * and the broker's own rates (*_details.rate). Read with lib/http (deadlines, a body cap);
 * credentials go only where lib/trust allows. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trust;

struct progress_reading {
        bool ok;
        uint64_t total; /* the sum of the message counters */
        double rate;    /* the largest *_details.rate: messages per second, the broker's average */
        size_t counters;
        char *err;      /* !ok: why there is no reading, for an operator */
};

/* The message_stats of an /api/overview body. 0, or -EINVAL with r->err set (not JSON,
 * no message_stats object, a counter that is negative or not a number). */
int progress_parse_overview(const char *body, size_t len, struct progress_reading *r);

struct progress_src {
        const char *url;      /* "http://127.0.0.1:15672/api/overview" */
        const char *user, *password;
        bool named;           /* evodiag's config names the URL: its credentials may go there
                                 (loopback, or https:// elsewhere) */
        const struct trust *t; /* else: only to a loopback port root or t's service user listens on */
        uint64_t timeout_ms;  /* the whole request */
};
/* GET src->url and parse it; never fails: r->ok or r->err. */
void progress_read(const struct progress_src *src, struct progress_reading *r);
void progress_reading_free(struct progress_reading *r);
/* Whether the indicator moved between a and b (both ok): a counter advanced, or the
 * broker reports a rate above 0 at the end. */
bool progress_moved(const struct progress_reading *a, const struct progress_reading *b);
