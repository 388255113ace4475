/* perf: the pure parsers and verdicts (no host access), for the unit tests and
 * tests/fuzz/fuzz_perf.c. */
#include "config.h"
#include "collectors/perf.h"

#include <ctype.h>
#include <errno.h>

int perf_parse_pids(const char *list, int *pids, size_t max, char **why)
{
        size_t n = 0;
        const char *p = list;
        *why = NULL;
        while (p && *p) {
                size_t len = strcspn(p, ",");
                const char *s = p, *e = p + len;
                while (s < e && isspace((unsigned char)*s))
                        s++;
                while (e > s && isspace((unsigned char)e[-1]))
                        e--;
                p = p[len] ? p + len + 1 : NULL;
                if (s == e) {
                        if (p || n) /* "1,,2" or a trailing comma; a blank list is fine */
                                continue;
                        break;
                }
                uint64_t v;
                if (e - s > 12 || parse_digits_u64(s, (size_t)(e - s), 10, 12, &v) < 0 || v == 0 || v > PERF_PID_MAX) {
                        *why = xasprintf("'%.*s' is not a process id (1 to %d)", (int)(e - s > 32 ? 32 : e - s), s, PERF_PID_MAX);
                        return -EINVAL;
                }
                bool dup = false;
                for (size_t i = 0; i < n && !dup; i++)
                        dup = pids[i] == (int)v;
                if (dup)
                        continue;
                if (n >= max) {
                        *why = xasprintf("more than %zu process ids", max);
                        return -E2BIG;
                }
                pids[n++] = (int)v;
        }
        return (int)n;
}

/* The number after "key:" at the start of a line of text; 0 or -EINVAL. */
static int status_number(const char *text, const char *key, uint64_t *out)
{
        size_t klen = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, klen) != 0 || l[klen] != ':')
                        continue;
                const char *v = l + klen + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                size_t n = 0;
                while (isdigit((unsigned char)v[n]))
                        n++;
                const char *rest = v + n;
                while (*rest == ' ' || *rest == '\t')
                        rest++;
                if (!n || n > 20 || (*rest && *rest != '\n'))
                        return -EINVAL;
                return parse_digits_u64(v, n, 10, 20, out) < 0 ? -EINVAL : 0;
        }
        return -EINVAL;
}

int perf_status_switches(const char *status, uint64_t *voluntary, uint64_t *involuntary)
{
        uint64_t v, iv;
        if (status_number(status, "voluntary_ctxt_switches", &v) < 0 || status_number(status, "nonvoluntary_ctxt_switches", &iv) < 0)
                return -EINVAL;
        *voluntary = v;
        *involuntary = iv;
        return 0;
}

enum perf_access perf_access_for(int64_t paranoid, bool privileged)
{
        if (privileged || paranoid <= PERF_PARANOID_NEEDED)
                return PERF_ACCESS_FULL;
        return paranoid == 2 ? PERF_ACCESS_USER_ONLY : PERF_ACCESS_NONE;
}

uint64_t perf_scale(uint64_t value, uint64_t enabled, uint64_t running)
{
        if (!running)
                return 0;
        if (running >= enabled)
                return value;
        long double v = (long double)value * (long double)enabled / (long double)running;
        return v >= (long double)UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

enum severity perf_jitter_verdict(unsigned policy, uint64_t involuntary, uint64_t migrations)
{
        if (policy != 1 && policy != 2)
                return SEV_OK;
        return involuntary || migrations ? SEV_WARN : SEV_OK;
}

bool perf_busy(uint64_t task_clock_ns, uint64_t window_ns, double busy_pct)
{
        return window_ns > 0 && (double)task_clock_ns * 100.0 >= busy_pct * (double)window_ns;
}

const char *perf_open_error(int err, bool hardware)
{
        if (err < 0)
                err = -err;
        switch (err) {
        case 0:
                return "opens";
        case ENOENT:
        case EOPNOTSUPP:
        case ENODEV:
                return hardware ? "hardware counters unavailable (virtual machine or no PMU)" : "event not supported by this kernel";
        case EACCES:
        case EPERM:
                return "not allowed (kernel.perf_event_paranoid, or a seccomp filter)";
        case ENOSYS:
                return "perf_event_open is not available (kernel without CONFIG_PERF_EVENTS, or filtered)";
        case ESRCH:
                return "the process is gone";
        case EMFILE:
        case ENFILE:
                return "too many open files";
        case EBUSY:
                return "the counter is in use by another tool";
        default:
                return strerror(err);
        }
}

int perf_process_entry(const char *entry, char *name, size_t namelen, char *user, size_t userlen)
{
        while (isspace((unsigned char)*entry))
                entry++;
        size_t len = strlen(entry);
        while (len && isspace((unsigned char)entry[len - 1]))
                len--;
        const char *colon = memchr(entry, ':', len);
        size_t nlen = colon ? (size_t)(colon - entry) : len;
        size_t ulen = colon ? len - nlen - 1 : 0;
        if (!nlen || nlen > 64 || nlen >= namelen || ulen >= userlen || (colon && memchr(colon + 1, ':', ulen)))
                return -EINVAL;
        memcpy(name, entry, nlen);
        name[nlen] = 0;
        if (colon)
                memcpy(user, colon + 1, ulen);
        user[ulen] = 0;
        return 0;
}
