/* Collector tunables and shared finding helpers. */
#include "config.h"
#include "collectors/collector.h"
#include "lib/conffile.h"

static const struct config_key *declared(const struct collector *c, const char *key)
{
        for (const struct config_key *k = c->config; k && k->key; k++)
                if (streq(k->key, key))
                        return k;
        return NULL;
}

const char *conf_str(const struct ctx *c, const char *key)
{
        const struct config_key *k = declared(c->self, key);
        if (!k) {
                fprintf(stderr, "evodiag: internal error: %s asks for undeclared key '%s'\n",
                        c->self->name, key);
                abort();
        }
        const struct config_entry *e = config_get(c->cfg, c->self->name, key);
        return e ? e->value : k->def;
}

double conf_num(const struct ctx *c, const char *key)
{
        double v = 0;
        /* Values were validated when the file was loaded (config_validate). */
        (void)parse_double(conf_str(c, key), &v);
        return v;
}

void skip_not_root(struct findings *fs, const char *id, const char *what)
{
        struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "needs root: %s", what);
        fnd_remedy(f, "run evodiag as root (sudo evodiag check)");
}
