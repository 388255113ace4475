/* Collector tunables: their declared types and ranges, the one validation of the
 * config file against them, and shared finding helpers. */
#include "config.h"
#include "collectors/collector.h"
#include "lib/conffile.h"
#include "lib/expect.h"

#include <errno.h>
#include <math.h>

static const struct config_key *declared_in(const struct config_key *keys, const char *key)
{
        for (const struct config_key *k = keys; k && k->key; k++)
                if (streq(k->key, key))
                        return k;
        return NULL;
}

static const struct config_key *declared(const struct ctx *c, const char *key)
{
        const struct config_key *k = declared_in(c->self->config, key);
        if (!k) {
                fprintf(stderr, "evodiag: internal error: %s asks for undeclared key '%s'\n", c->self->name, key);
                abort();
        }
        return k;
}

const char *conf_str(const struct ctx *c, const char *key)
{
        const struct config_key *k = declared(c, key);
        const struct config_entry *e = config_get(c->cfg, c->self->name, key);
        return e ? e->value : k->def;
}

const char *conf_str_of(const struct ctx *c, const char *collector, const char *key)
{
        const struct collector *o = collector_find(collector);
        const struct config_key *k = o ? declared_in(o->config, key) : NULL;
        if (!k)
                return NULL;
        const struct config_entry *e = config_get(c->cfg, collector, key);
        return e ? e->value : k->def;
}

double conf_num(const struct ctx *c, const char *key)
{
        double v = 0;
        /* Values were validated when the file was loaded (config_validate). */
        (void)parse_double(conf_str(c, key), &v);
        return v;
}

uint64_t conf_uint(const struct ctx *c, const char *key)
{
        const struct config_key *k = declared(c, key);
        double v = conf_num(c, key);
        /* In range by validation; clamp anyway so a default typo cannot become UB. */
        if (!(v >= k->min))
                v = k->min;
        if (v > k->max)
                v = k->max;
        return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

const char *conf_type_name(enum conf_type t)
{
        switch (t) {
        case CONF_STRING: return "text";
        case CONF_UINT: return "whole number";
        case CONF_PERCENT: return "percent (0-100)";
        case CONF_LIST: return "comma-separated list";
        case CONF_DURATION: return "duration (e.g. 500ms, 5s, 1h2m)";
        case CONF_SIZE: return "size (e.g. 512k, 64M, 1.5G)";
        }
        return "?";
}

static bool printable_text(const char *v)
{
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

int conf_value_check(const struct config_key *k, const char *v, char **why)
{
        double d;
        uint64_t u;
        *why = NULL;
        if (!printable_text(v)) {
                *why = xstrdup("contains control characters");
                return -EINVAL;
        }
        switch (k->type) {
        case CONF_STRING:
        case CONF_LIST:
                return k->check ? k->check(v, why) : 0;
        case CONF_UINT:
                if (parse_double(v, &d) < 0 || !isfinite(d) || d != floor(d) || d < k->min || d > k->max) {
                        *why = xasprintf("'%s' is not a whole number from %.15g to %.15g", v, k->min, k->max);
                        return -EINVAL;
                }
                return 0;
        case CONF_PERCENT:
                if (parse_double(v, &d) < 0 || !isfinite(d) || d < 0 || d > 100) {
                        *why = xasprintf("'%s' is not a percentage from 0 to 100", v);
                        return -EINVAL;
                }
                return 0;
        case CONF_DURATION:
                if (parse_duration_ms(v, &u) < 0 || u == 0) {
                        *why = xasprintf("'%s' is not a duration > 0 (e.g. 500ms, 5s, 1h2m)", v);
                        return -EINVAL;
                }
                return 0;
        case CONF_SIZE:
                if (parse_size(v, &u) < 0) {
                        *why = xasprintf("'%s' is not a size (e.g. 512k, 64M, 1.5G)", v);
                        return -EINVAL;
                }
                return 0;
        }
        *why = xstrdup("undeclared type (internal error)");
        return -EINVAL;
}

/* The keys of `section`: one of the run's sections, or a collector's (NULL: unknown). */
static const struct config_key *section_keys(const char *section, const struct config_section *extra, bool *known,
                                             bool *is_collector)
{
        *known = true;
        *is_collector = false;
        for (const struct config_section *s = extra; s && s->name; s++)
                if (streq(s->name, section))
                        return s->keys;
        const struct collector *c = collector_find(section);
        if (c) {
                *is_collector = true;
                return c->config;
        }
        *known = false;
        return NULL;
}

/* Sections of the config file that are not collectors, and their keys. */
static const struct config_key evodiag_keys[] = {
        CONF_DURATION("timeout", "30s", "deadline of the whole run (--timeout)"),
        CONF_DURATION("collector_timeout", "5s", "deadline of each collector (--collector-timeout)"),
        CONF_LIST("only", "", "run only these collectors (--only)"),
        CONF_LIST("skip", "", "skip these collectors (--skip)"),
        CONF_UINT("parallel", "8", 1, 64, "how many collectors run at once"),
        {0},
};
static const struct config_key watch_keys[] = {
        CONF_DURATION("interval", "1s", "sampling interval (--interval)"),
        CONF_STR("record_dir", "/var/lib/evodiag/watch", "where watch records and bundle looks for recordings"),
        CONF_SIZE("record_max", "64M", "size bound of the recording ring (--record-max)"),
        CONF_DURATION("bundle_cooldown", "10m", "at most one --bundle-on bundle per this long"),
        CONF_DURATION("bundle_window", "15m", "how much of the newest recording a bundle includes"),
        {0},
};
static const struct config_key upload_keys[] = {
        CONF_STR("user", "", "HTTP(S) upload user"),
        CONF_STR("password", "", "HTTP(S) upload password (never printed)"),
        CONF_STR("ca_file", "", "CA bundle for the upload server's certificate"),
        CONF_STR("s3_endpoint", "", "S3 endpoint URL"),
        CONF_STR("s3_region", "", "S3 region"),
        CONF_STR("s3_access_key", "", "S3 access key ID"),
        CONF_STR("s3_secret_key", "", "S3 secret key (never printed)"),
        {0},
};

/* [expect]: what must be on this host (lib/expect.h parses the lists). */
static int expect_check(const char *v, enum expect_value want, char **why)
{
        struct expect_list l;
        int r = expect_parse(v, want, &l, why);
        expect_free(&l);
        return r;
}

static int components_check(const char *v, char **why)
{
        struct expect_list l;
        if (expect_parse(v, EXPECT_NO_VALUE, &l, why) < 0)
                return -EINVAL;
        int r = 0;
        for (size_t i = 0; i < l.n && !r; i++) {
                const struct collector *c = collector_find(l.v[i].name);
                if (c && c->detect)
                        continue;
                struct strbuf b = {0};
                for (size_t k = 0; collectors[k]; k++)
                        if (collectors[k]->detect)
                                sb_printf(&b, "%s%s", b.len ? ", " : "", collectors[k]->name);
                *why = xasprintf("'%s' is not a component (one of %s)", l.v[i].name, b.s ? b.s : "");
                sb_free(&b);
                r = -EINVAL;
        }
        expect_free(&l);
        return r;
}

static int names_check(const char *v, char **why) { return expect_check(v, EXPECT_NO_VALUE, why); }
static int pairs_check(const char *v, char **why) { return expect_check(v, EXPECT_VALUE_REQUIRED, why); }

static int rates_check(const char *v, char **why)
{
        struct expect_list l;
        if (expect_parse(v, EXPECT_VALUE_REQUIRED, &l, why) < 0)
                return -EINVAL;
        int r = 0;
        double hz;
        for (size_t i = 0; i < l.n && !r; i++)
                if (expect_rate(l.v[i].value, &hz) < 0) {
                        *why = xasprintf("'%s:%s': the rate is not a number of Hz above 0 (at most 1000000)", l.v[i].name,
                                         l.v[i].value);
                        r = -EINVAL;
                }
        expect_free(&l);
        return r;
}

static int ignore_check(const char *v, char **why)
{
        struct ignore_list l;
        int r = ignore_parse(v, &l, why);
        for (size_t i = 0; r == 0 && i < l.n; i++)
                if (!check_find(l.v[i].id, NULL)) {
                        *why = xasprintf("'%s' is not a check ID (evodiag list -v names them)", l.v[i].id);
                        r = -EINVAL;
                }
        ignore_free(&l);
        return r;
}

#define CONF_CHECKED(k, h, fn) {.key = (k), .def = "", .help = (h), .type = CONF_LIST, .check = (fn)}
static const struct config_key expect_keys[] = {
        CONF_CHECKED("components", "components that must be on this host: evo, lavinmq (absent: crit, never "
                                   "\"not relevant\")", components_check),
        CONF_CHECKED("evo_segments", "EVO segments that must exist, by name: hal_cu, cu_hal", names_check),
        CONF_CHECKED("evo_writers", "the module that must write each segment: hal_cu:hal, cu_hal:cu", pairs_check),
        CONF_CHECKED("evo_heartbeat_min", "the lowest heartbeat rate (Hz) of a segment: hal_cu:100", rates_check),
        CONF_CHECKED("processes", "processes that must run, by name (comm or argv[0]): evo_hal, lavinmq", names_check),
        {0},
};
/* [ignore]: findings an operator has decided not to act on (shown as "n ignored"). */
static const struct config_key ignore_keys[] = {
        CONF_CHECKED("findings", "check IDs, or ID:SUBJECT, whose findings are left out of the verdict: fds.nr_open, "
                                 "evo.unknown_name:evo_test", ignore_check),
        {0},
};

const struct config_section config_run_sections[] = {
        {"evodiag", evodiag_keys},
        {"watch", watch_keys},
        {"upload", upload_keys},
        {"expect", expect_keys},
        {"ignore", ignore_keys},
        {0},
};

/* Every collector accepts `timeout` (its own deadline) besides what it declares. */
const struct config_key collector_common[] = {
        CONF_DURATION("timeout", "", "this collector's deadline (default: --collector-timeout)"),
        {0},
};

int config_validate(const struct config *cfg, const struct config_section *extra, char **err)
{
        *err = NULL;
        for (size_t i = 0; i < cfg->n; i++) {
                const struct config_entry *e = &cfg->v[i];
                bool known, is_collector;
                const struct config_key *keys = section_keys(e->section, extra, &known, &is_collector);
                if (!known) {
                        struct strbuf b = {0};
                        for (const struct config_section *s = extra; s && s->name; s++)
                                sb_printf(&b, "[%s], ", s->name);
                        *err = xasprintf("%s:%d: unknown section [%s] (expected %sor a collector name; see evodiag list)",
                                         cfg->path, e->line, e->section, b.s ? b.s : "");
                        sb_free(&b);
                        return -EINVAL;
                }
                const struct config_key *k = declared_in(keys, e->key);
                if (!k && is_collector)
                        k = declared_in(collector_common, e->key);
                if (!k) {
                        *err = xasprintf("%s:%d: unknown key '%s' in [%s] (see evodiag list -v)", cfg->path, e->line,
                                         e->key, e->section);
                        return -EINVAL;
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(cfg->v[j].section, e->section) && streq(cfg->v[j].key, e->key)) {
                                *err = xasprintf("%s:%d: [%s] %s is set twice (first on line %d): keep one", cfg->path,
                                                 e->line, e->section, e->key, cfg->v[j].line);
                                return -EINVAL;
                        }
                _cleanup_free_ char *why = NULL;
                if (conf_value_check(k, e->value, &why) < 0) {
                        *err = xasprintf("%s:%d: [%s] %s: %s", cfg->path, e->line, e->section, e->key, why);
                        return -EINVAL;
                }
        }
        return 0;
}

void skip_not_root(struct findings *fs, const char *id, const char *what)
{
        struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "needs root: %s", what);
        fnd_remedy(f, "run evodiag as root (sudo evodiag check)");
}
