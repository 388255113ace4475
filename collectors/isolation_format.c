/* isolation: the parsers and decisions, pure functions of their inputs (isolation.h;
 * tests/unit/test_isolation.c). check() in isolation.c and sample() in
 * isolation_sample.c judge IRQs on isolated CPUs with the same iso_irq_verdict. */
#include "config.h"
#include "collectors/isolation.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

static void note_bad(struct iso_cmdline *c, const char *name, const char *value)
{
        if (!*c->bad)
                snprintf(c->bad, sizeof(c->bad), "%s=%s", name, value);
}

/* The value of name= on the command line (malloc'd), or NULL when absent. */
static char *param(const char *cmdline, const char *name)
{
        char *v = NULL;
        return cmdline_param(cmdline, name, &v) == 0 ? v : NULL;
}

void iso_cmdline_parse(const char *cmdline, struct iso_cmdline *c)
{
        memset(c, 0, sizeof(*c));
        _cleanup_free_ char *iso = param(cmdline, "isolcpus"), *nohz = param(cmdline, "nohz_full");
        _cleanup_free_ char *rcu = param(cmdline, "rcu_nocbs"), *irq = param(cmdline, "irqaffinity");
        if (iso) {
                c->has_isolcpus = isolcpus_parse(iso, &c->isolcpus) == 0 && !cpuset_empty(&c->isolcpus.cpus);
                if (!c->has_isolcpus) {
                        note_bad(c, "isolcpus", iso);
                        memset(&c->isolcpus, 0, sizeof(c->isolcpus));
                }
        }
        if (nohz) {
                c->has_nohz_full = cpulist_parse(nohz, &c->nohz_full) == 0 && !cpuset_empty(&c->nohz_full);
                if (!c->has_nohz_full)
                        note_bad(c, "nohz_full", nohz);
        }
        if (rcu && !*rcu) {
                c->has_rcu_nocbs = c->rcu_nocbs_all = true;
        } else if (rcu) {
                c->has_rcu_nocbs = cpulist_parse(rcu, &c->rcu_nocbs) == 0;
                if (!c->has_rcu_nocbs)
                        note_bad(c, "rcu_nocbs", rcu);
        }
        if (irq) {
                c->has_irqaffinity = cpulist_parse(irq, &c->irqaffinity) == 0 && !cpuset_empty(&c->irqaffinity);
                if (!c->has_irqaffinity)
                        note_bad(c, "irqaffinity", irq);
        }
}

bool iso_cmdline_any(const struct iso_cmdline *c)
{
        return c->has_isolcpus || c->has_nohz_full;
}

void iso_expected_isolated(const struct iso_cmdline *c, struct cpuset *out)
{
        cpuset_zero(out);
        if (c->has_isolcpus && c->isolcpus.domain)
                *out = c->isolcpus.cpus;
}

void iso_expected_nohz(const struct iso_cmdline *c, struct cpuset *out)
{
        cpuset_zero(out);
        if (c->has_nohz_full)
                *out = c->nohz_full;
        /* isolcpus=nohz,... sets up the same tick isolation as nohz_full= */
        if (c->has_isolcpus && c->isolcpus.nohz)
                cpuset_or(out, out, &c->isolcpus.cpus);
}

void iso_intended(const struct iso_cmdline *c, const struct cpuset *eff_isolated, const struct cpuset *eff_nohz,
                  struct cpuset *out)
{
        cpuset_zero(out);
        if (c->has_isolcpus)
                cpuset_or(out, out, &c->isolcpus.cpus);
        if (c->has_nohz_full)
                cpuset_or(out, out, &c->nohz_full);
        cpuset_or(out, out, eff_isolated);
        cpuset_or(out, out, eff_nohz);
}

int iso_parse_effective(const char *text, struct cpuset *out)
{
        const char *p = text;
        while (isspace((unsigned char)*p))
                p++;
        if (startswith(p, "(null)")) {
                cpuset_zero(out);
                return 0;
        }
        return cpulist_parse(p, out);
}

void iso_compare(const struct cpuset *req, const struct cpuset *eff, const struct cpuset *possible, struct iso_diff *d)
{
        struct cpuset real;
        if (possible && !cpuset_empty(possible)) {
                cpuset_and(&real, req, possible);
                cpuset_andnot(&d->nonexistent, req, possible);
        } else {
                real = *req;
                cpuset_zero(&d->nonexistent);
        }
        cpuset_andnot(&d->missing, &real, eff);
        cpuset_andnot(&d->extra, eff, req);
}

bool irq_fired_on(const struct irq_table *t, const struct irq_line *l, const struct cpuset *iso, struct cpuset *on_iso,
                  unsigned long long *count)
{
        cpuset_zero(on_iso);
        *count = 0;
        for (unsigned i = 0; i < t->ncpus; i++)
                if (l->count[i] && cpuset_isset(iso, t->cpu_ids[i])) {
                        cpuset_set(on_iso, t->cpu_ids[i]);
                        *count += l->count[i];
                }
        return !cpuset_empty(on_iso);
}

enum severity iso_irq_verdict(bool allowed_on_isolated, uint64_t handled_on_isolated)
{
        return allowed_on_isolated && handled_on_isolated ? SEV_WARN : SEV_OK;
}

bool irq_hits_isolated(const struct cpuset *aff, const struct cpuset *iso, const struct cpuset *fired_on_iso)
{
        return iso_irq_verdict(cpuset_intersects(aff, iso), !cpuset_empty(fired_on_iso)) != SEV_OK;
}

const char *irq_action(const char *desc, char *buf, size_t n)
{
        /* The last word: chip and hwirq come first ("PCI-MSIX-0000:00:04.0 1-edge virtio3-rx"). */
        const char *end = desc + strlen(desc);
        while (end > desc && isspace((unsigned char)end[-1]))
                end--;
        const char *start = end;
        while (start > desc && !isspace((unsigned char)start[-1]))
                start--;
        size_t l = (size_t)(end - start);
        if (l >= n)
                l = n - 1;
        memcpy(buf, start, l);
        buf[l] = 0;
        return buf;
}

static char *unquote(char *v)
{
        v = strstrip(v);
        size_t l = strlen(v);
        if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                v[l - 1] = 0;
                v++;
        }
        return strstrip(v);
}

int irqbalance_banned(const char *text, size_t len, struct cpuset *out, const char **which)
{
        cpuset_zero(out);
        *which = NULL;
        char *buf = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
                buf[i] = text[i] ? text[i] : '\n';
        buf[len] = 0;
        _cleanup_free_ char *mask = NULL, *list = NULL;
        size_t pos = 0;
        char *line;
        while ((line = next_line(buf, &pos))) {
                line = strstrip(line);
                if (*line == '#')
                        continue;
                if (startswith(line, "export "))
                        line = strstrip(line + 7);
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                char **dst = streq(line, "IRQBALANCE_BANNED_CPUS") ? &mask
                             : streq(line, "IRQBALANCE_BANNED_CPULIST") ? &list : NULL;
                if (!dst)
                        continue;
                free(*dst); /* the last assignment wins, as in a shell */
                *dst = xstrdup(unquote(eq + 1));
        }
        free(buf);
        /* irqbalance reads the hex mask first (cputree.c setup_banned_cpus); empty = unset. */
        int r = -ENOENT;
        if (mask && *mask) {
                *which = "IRQBALANCE_BANNED_CPUS";
                r = cpumask_parse(mask, out) == 0 ? 0 : -EINVAL;
        } else if (list && *list) {
                *which = "IRQBALANCE_BANNED_CPULIST";
                r = cpulist_parse(list, out) == 0 ? 0 : -EINVAL;
        }
        if (r == -EINVAL)
                cpuset_zero(out);
        return r;
}

enum severity irqbalance_verdict(int banned_r, const struct cpuset *banned, const struct cpuset *intended,
                                 const struct cpuset *auto_banned)
{
        struct cpuset left;
        if (banned_r == 0) {
                cpuset_andnot(&left, intended, banned);
                return cpuset_empty(&left) ? SEV_OK : SEV_WARN;
        }
        if (banned_r != -ENOENT)
                return SEV_WARN;
        cpuset_andnot(&left, intended, auto_banned);
        return cpuset_empty(&left) ? SEV_INFO : SEV_WARN;
}

char *cpumask_format_hex(const struct cpuset *s)
{
        int top = -1;
        for (int c = CPULIST_MAX - 1; c >= 0; c--)
                if (cpuset_isset(s, (unsigned)c)) {
                        top = c;
                        break;
                }
        if (top < 0)
                return xstrdup("0");
        struct strbuf b = {0};
        for (int g = top / 32; g >= 0; g--) {
                uint32_t w = 0;
                for (int bit = 0; bit < 32; bit++)
                        if (cpuset_isset(s, (unsigned)(g * 32 + bit)))
                                w |= 1u << bit;
                sb_printf(&b, g == top / 32 ? "%" PRIx32 : ",%08" PRIx32, w);
        }
        return sb_steal(&b);
}

