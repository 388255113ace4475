/* rt: the parsers and decisions, pure functions of their inputs (rt.h;
 * tests/unit/test_rt.c). check() in rt.c and sample() in rt_sample.c judge RT
 * throttling with the same share (rt_throttle_share). */
#include "config.h"
#include "collectors/rt.h"
#include "lib/procfs.h"
#include "lib/proctable.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <zlib.h>

int rt_preempt_from_debugfs(const char *text, char *out, size_t n)
{
        const char *l = text ? strchr(text, '(') : NULL;
        const char *r = l ? strchr(l, ')') : NULL;
        if (!r || r == l + 1 || (size_t)(r - l - 1) >= n)
                return -EINVAL;
        for (const char *c = l + 1; c < r; c++)
                if (!islower((unsigned char)*c))
                        return -EINVAL;
        memcpy(out, l + 1, (size_t)(r - l - 1));
        out[r - l - 1] = 0;
        return 0;
}

long rt_gunzip(const void *data, size_t len, size_t max, char **out)
{
        *out = NULL;
        /* Insist on gzip (magic 1f 8b): zlib's gzip mode checks the header, and the
         * trailer's CRC-32 and length, so a corrupt config.gz is an error, not garbage. */
        if (len < 18 || ((const unsigned char *)data)[0] != 0x1f || ((const unsigned char *)data)[1] != 0x8b)
                return -EINVAL;
        z_stream z = {.next_in = (Bytef *)data, .avail_in = (uInt)(len > UINT_MAX ? UINT_MAX : len)};
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;
        long ret = -EINVAL;
        struct strbuf b = {0};
        sb_puts(&b, "");
        for (;;) {
                char buf[16384];
                z.next_out = (Bytef *)buf;
                z.avail_out = sizeof(buf);
                int r = inflate(&z, Z_NO_FLUSH);
                size_t got = sizeof(buf) - z.avail_out;
                if (b.len + got > max) {
                        ret = -EFBIG;
                        goto out;
                }
                sb_putn(&b, buf, got);
                if (r == Z_STREAM_END)
                        break;
                if (r != Z_OK)
                        goto out; /* corrupt, truncated (Z_BUF_ERROR: input ended early), bad CRC */
        }
        /* One member, nothing after it. */
        if (z.total_in != len)
                goto out;
        ret = (long)b.len;
        *out = sb_steal(&b);
out:
        inflateEnd(&z);
        sb_free(&b);
        return ret;
}

int kconfig_get(const char *text, const char *sym, char **value)
{
        *value = NULL;
        size_t sl = strlen(sym);
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t ll = nl ? (size_t)(nl - p) : strlen(p);
                if (ll > 7 + sl && !strncmp(p, "CONFIG_", 7) && !strncmp(p + 7, sym, sl) && p[7 + sl] == '=') {
                        *value = xstrndup(p + 8 + sl, ll - 8 - sl);
                        (void)strstrip(*value);
                        size_t vl = strlen(*value);
                        while (vl && isspace((unsigned char)(*value)[vl - 1]))
                                (*value)[--vl] = 0;
                        return 0;
                }
                if (ll == 9 + sl + 11 && !strncmp(p, "# CONFIG_", 9) && !strncmp(p + 9, sym, sl) &&
                    !strncmp(p + 9 + sl, " is not set", 11)) {
                        *value = xstrdup("n");
                        return 0;
                }
                p = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

bool kconfig_is_y(const char *text, const char *sym)
{
        _cleanup_free_ char *v = NULL;
        return kconfig_get(text, sym, &v) == 0 && streq(v, "y");
}

const char *kconfig_preempt_model(const char *text)
{
        /* The choice first: since 6.12 PREEMPT_RT is a separate option next to it. */
        if (kconfig_is_y(text, "PREEMPT_LAZY"))
                return "lazy";
        if (kconfig_is_y(text, "PREEMPT"))
                return "full";
        if (kconfig_is_y(text, "PREEMPT_RT") || kconfig_is_y(text, "PREEMPT_RT_FULL"))
                return "full";
        if (kconfig_is_y(text, "PREEMPT_VOLUNTARY"))
                return "voluntary";
        if (kconfig_is_y(text, "PREEMPT_NONE"))
                return "none";
        return NULL;
}

bool rt_kernel_is_rt(const struct rt_kernel *k)
{
        return (k->have_version && k->flavour == KF_PREEMPT_RT) || k->realtime == 1 || k->config_rt == 1;
}

bool rt_kernel_known(const struct rt_kernel *k)
{
        return k->have_version || k->realtime >= 0 || k->config_rt >= 0;
}

enum severity rt_throttling_sev(int64_t runtime, int64_t period, bool rt_tasks)
{
        if (runtime < 0)
                return SEV_OK; /* -1: off */
        if (period <= 0)
                return SEV_UNKNOWN;
        if (!rt_tasks)
                return SEV_INFO; /* matters once RT tasks run */
        return runtime == 0 ? SEV_CRIT : SEV_WARN;
}

unsigned rt_task_problems(const struct rt_task *t, double near_pct)
{
        unsigned p = 0;
        if (t->vmlck == 0)
                p |= RTP_NO_MLOCK;
        /* Root has CAP_IPC_LOCK: the limit does not bind it. */
        else if (t->euid != 0 && t->have_limits && t->memlock_soft != LIMIT_UNLIMITED &&
                 (double)t->vmlck * 100.0 >= near_pct * (double)t->memlock_soft)
                p |= RTP_MEMLOCK_LIMIT;
        return p;
}

bool rt_task_ignored(const char *comm, const char *list)
{
        return list_has_word(list, comm);
}

double rt_throttle_share(int64_t runtime_us, int64_t period_us)
{
        return runtime_us >= 0 && period_us > 0 ? 100.0 * (double)runtime_us / (double)period_us : -1;
}

enum severity rt_throttled_verdict(double cpu_pct, double share)
{
        return share >= 0 && cpu_pct >= share - 2 ? SEV_WARN : SEV_OK;
}

enum severity rt_task_sched_verdict(bool gone, unsigned prio0, unsigned policy, unsigned prio)
{
        if (gone || !sched_policy_is_rt(policy))
                return SEV_WARN;
        return prio != prio0 ? SEV_INFO : SEV_OK;
}
