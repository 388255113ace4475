#include "config.h"
#include "lib/progress.h"
#include "lib/http.h"
#include "lib/trust.h"
#include "lib/util.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>

#define OVERVIEW_MAX (4u << 20) /* an /api/overview body; a broker with thousands of queues stays far below */

void progress_reading_free(struct progress_reading *r)
{
        free(r->err);
        *r = (struct progress_reading){0};
}

int progress_parse_overview(const char *body, size_t len, struct progress_reading *r)
{
        *r = (struct progress_reading){0};
        json_tokener *tok = json_tokener_new_ex(32);
        json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)(len > INT32_MAX ? INT32_MAX : len)) : NULL;
        bool bad = !tok || json_tokener_get_error(tok) != json_tokener_success;
        if (tok)
                json_tokener_free(tok);
        json_object *ms = NULL;
        if (bad || !o || !json_object_is_type(o, json_type_object)) {
                r->err = xstrdup("the overview is not a JSON object");
                goto fail;
        }
        if (!json_object_object_get_ex(o, "message_stats", &ms) || !json_object_is_type(ms, json_type_object)) {
                r->err = xstrdup("the overview has no message_stats object (no message was ever published?)");
                goto fail;
        }
        json_object_object_foreach(ms, key, val) {
                size_t kl = strlen(key);
                if (kl > 8 && streq(key + kl - 8, "_details")) {
                        json_object *rate;
                        if (json_object_is_type(val, json_type_object) && json_object_object_get_ex(val, "rate", &rate) &&
                            (json_object_is_type(rate, json_type_double) || json_object_is_type(rate, json_type_int))) {
                                double d = json_object_get_double(rate);
                                if (isfinite(d) && d > r->rate)
                                        r->rate = d;
                        }
                        continue;
                }
                if (!json_object_is_type(val, json_type_int)) {
                        r->err = xasprintf("message_stats.%.64s is not a whole number", key);
                        goto fail;
                }
                int64_t v = json_object_get_int64(val);
                if (v < 0) {
                        r->err = xasprintf("message_stats.%.64s is negative", key);
                        goto fail;
                }
                r->total = (uint64_t)v > UINT64_MAX - r->total ? UINT64_MAX : r->total + (uint64_t)v;
                r->counters++;
        }
        json_object_put(o);
        r->ok = true;
        return 0;
fail:
        json_object_put(o);
        r->ok = false;
        return -EINVAL;
}

static bool verify_peer(const struct http_peer *p, void *arg, char *why, size_t whylen)
{
        const struct progress_src *s = arg;
        if (s->named) {
                if (p->tls || trust_ip_loopback(p->ip))
                        return true;
                snprintf(why, whylen, "plain http:// to %s, which is not this host: credentials never travel unencrypted", p->ip);
                return false;
        }
        if (!s->t) {
                snprintf(why, whylen, "no component to vouch for the server");
                return false;
        }
        return trust_tcp_peer(s->t, p->ip, (unsigned)p->port, why, whylen) == 0;
}

void progress_read(const struct progress_src *src, struct progress_reading *r)
{
        *r = (struct progress_reading){0};
        struct http_req rq = {
                .url = src->url, .user = src->user, .password = src->password,
                .connect_timeout_ms = src->timeout_ms < 1000 ? src->timeout_ms : 1000, .timeout_ms = src->timeout_ms,
                .max_body = OVERVIEW_MAX, .verify_peer = verify_peer, .verify_arg = (void *)src,
        };
        struct http_resp resp;
        _cleanup_free_ char *pub = http_url_public(src->url);
        if (http_get(&rq, &resp) < 0)
                r->err = xasprintf("GET %s: %s", pub, resp.error);
        else if (resp.status != 200)
                r->err = xasprintf("GET %s: HTTP %ld", pub, resp.status);
        else if (progress_parse_overview(resp.body, resp.len, r) < 0) {
                char *e = r->err;
                r->err = xasprintf("GET %s: %s", pub, e);
                free(e);
        }
        http_resp_free(&resp);
}

bool progress_moved(const struct progress_reading *a, const struct progress_reading *b)
{
        return a->ok && b->ok && (b->total > a->total || b->rate > 0);
}
