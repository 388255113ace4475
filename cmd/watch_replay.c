/* evodiag watch --replay: reading a recording back, and the options that narrow it. */
#include "config.h"
#include "cmd/watch_private.h"
#include "collectors/collector.h"

#include <errno.h>
#include <time.h>

/* ---- --replay ---- */

int watch_replay(const char *path, bool json, const struct replay_filter *f)
{
        int e = recorder_replay(path, json, f, stdout);
        if (e < 0) {
                err("--replay %s: %s", path, e == -EINVAL ? "not an evodiag recording" : strerror(-e));
                return EXIT_USAGE;
        }
        return e;
}

/* --since/--until: an ISO 8601 time in UTC, or a duration before now. */
int watch_parse_when(const char *arg, uint64_t *ms)
{
        uint64_t d;
        if (parse_duration_ms(arg, &d) == 0) {
                uint64_t now = now_ms_realtime();
                *ms = d < now ? now - d : 1;
                return 0;
        }
        static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
        for (size_t i = 0; i < sizeof(fmts) / sizeof(*fmts); i++) {
                struct tm tm = {0};
                const char *end = strptime(arg, fmts[i], &tm);
                if (!end || (*end && !streq(end, "Z")))
                        continue;
                time_t t = timegm(&tm);
                if (t < 0)
                        return -EINVAL;
                *ms = (uint64_t)t * 1000;
                return 0;
        }
        return -EINVAL;
}

/* --id: check IDs, collector names, or a sampler's own "<collector>.timeout|crashed". */
int watch_parse_ids(const char *arg, char ***out)
{
        size_t n = 0;
        char **v = xcalloc(strlen(arg) / 2 + 2, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(arg);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                tok = strstrip(tok);
                if (!*tok)
                        continue;
                const char *dot = strchr(tok, '.');
                _cleanup_free_ char *coll = dot ? xstrndup(tok, (size_t)(dot - tok)) : NULL;
                bool own = dot && collector_find(coll) && (streq(dot, ".timeout") || streq(dot, ".crashed"));
                if (!own && !check_find(tok, NULL) && !(!dot && collector_find(tok))) {
                        strv_free(v);
                        return usage_error("watch", "--id: '%s' is no check ID or collector (see 'evodiag list')", tok);
                }
                v[n++] = xstrdup(tok);
        }
        if (!n) {
                free(v);
                return usage_error("watch", "--id: no check ID given");
        }
        *out = v;
        return 0;
}

