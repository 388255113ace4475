#include "config.h"
#include "lib/finding.h"
#include "lib/redact.h"

#include <errno.h>
#include <math.h>

static const char *const sev_names[_SEV_MAX] = {
        [SEV_SKIPPED] = "skipped", [SEV_OK] = "ok",     [SEV_INFO] = "info",
        [SEV_UNKNOWN] = "unknown", [SEV_WARN] = "warn", [SEV_CRIT] = "crit",
};

const char *severity_name(enum severity s)
{
        return s < _SEV_MAX ? sev_names[s] : "unknown";
}

int severity_from_name(const char *name, enum severity *out)
{
        for (int i = 0; i < _SEV_MAX; i++)
                if (streq(name, sev_names[i])) {
                        *out = (enum severity)i;
                        return 0;
                }
        return -EINVAL;
}

int severity_exit_code(enum severity worst)
{
        switch (worst) {
        case SEV_CRIT: return 2;
        case SEV_WARN: return 1;
        case SEV_UNKNOWN: return 3;
        default: return 0;
        }
}

/* Every text of a finding is redacted once, here, where it is set: findings reach
 * the terminal (check -v), --json, Nagios, ISSUE.md and bundles, and they quote
 * command lines, URLs and config values that other people's processes chose. */
static char *redacted(char *text)
{
        char *r = redact_secrets(text, NULL);
        free(text);
        return r;
}

struct finding *fnd_add(struct findings *fs, enum severity sev, const char *id, const char *fmt, ...)
{
        if (fs->n == fs->cap) {
                fs->cap = fs->cap ? fs->cap * 2 : 16;
                fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
        }
        struct finding *f = &fs->v[fs->n++];
        *f = (struct finding){.id = xstrdup(id), .sev = sev};
        va_list ap;
        va_start(ap, fmt);
        f->summary = redacted(xvasprintf(fmt, ap));
        va_end(ap);
        return f;
}

#define SETTER(name, field)                                    \
        void name(struct finding *f, const char *fmt, ...)     \
        {                                                      \
                va_list ap;                                    \
                va_start(ap, fmt);                             \
                free(f->field);                                \
                f->field = redacted(xvasprintf(fmt, ap));      \
                va_end(ap);                                    \
        }
SETTER(fnd_expected, expected)
SETTER(fnd_actual, actual)
SETTER(fnd_remedy, remedy)
SETTER(fnd_evidence, evidence)
SETTER(fnd_subject, subject)
#undef SETTER

bool measure_key_valid(const char *key)
{
        size_t n = key ? strlen(key) : 0, dots = 0;
        if (!n || n > 64 || !(key[0] >= 'a' && key[0] <= 'z') || key[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = key[i];
                if (ch == '.')
                        dots++;
                else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
                        return false;
        }
        return dots == 1;
}

void fnd_measure(struct finding *f, const char *key, double value)
{
        free(f->measure);
        f->measure = NULL;
        if (isfinite(value) && measure_key_valid(key)) {
                f->measure = xstrdup(key);
                f->value = value;
        }
}

enum severity findings_worst(const struct findings *fs)
{
        enum severity w = SEV_SKIPPED;
        for (size_t i = 0; i < fs->n; i++)
                if (fs->v[i].sev > w)
                        w = fs->v[i].sev;
        return w;
}

static void finding_free(struct finding *f);

size_t findings_keep_id(struct findings *fs, const char *id)
{
        size_t k = 0;
        for (size_t i = 0; i < fs->n; i++) {
                if (streq(fs->v[i].id, id))
                        fs->v[k++] = fs->v[i];
                else
                        finding_free(&fs->v[i]);
        }
        fs->n = k;
        return k;
}

static void finding_free(struct finding *f)
{
        free(f->id);
        free(f->summary);
        free(f->expected);
        free(f->actual);
        free(f->remedy);
        free(f->evidence);
        free(f->subject);
        free(f->measure);
}

void findings_free(struct findings *fs)
{
        for (size_t i = 0; i < fs->n; i++)
                finding_free(&fs->v[i]);
        free(fs->v);
        *fs = (struct findings){0};
}

size_t findings_drop(struct findings *fs, bool (*drop)(const struct finding *f, void *arg), void *arg)
{
        size_t k = 0, n = 0;
        for (size_t i = 0; i < fs->n; i++) {
                if (drop(&fs->v[i], arg)) {
                        finding_free(&fs->v[i]);
                        n++;
                } else {
                        fs->v[k++] = fs->v[i];
                }
        }
        fs->n = k;
        return n;
}

void findings_move(struct findings *dst, struct findings *src)
{
        for (size_t i = 0; i < src->n; i++) {
                if (dst->n == dst->cap) {
                        dst->cap = dst->cap ? dst->cap * 2 : 16;
                        dst->v = xrealloc(dst->v, dst->cap * sizeof(*dst->v));
                }
                dst->v[dst->n++] = src->v[i];
        }
        free(src->v);
        *src = (struct findings){0};
}

static void put_opt(json_object *o, const char *key, const char *val)
{
        if (val)
                json_object_object_add(o, key, json_object_new_string(val));
}

json_object *finding_to_json(const struct finding *f)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(f->id));
        json_object_object_add(o, "severity", json_object_new_string(severity_name(f->sev)));
        json_object_object_add(o, "summary", json_object_new_string(f->summary));
        put_opt(o, "subject", f->subject);
        put_opt(o, "expected", f->expected);
        put_opt(o, "found", f->actual); /* as the text report labels it */
        put_opt(o, "actual", f->actual); /* deprecated: its name before "found", kept while the schema is 1 (README) */
        put_opt(o, "remedy", f->remedy);
        put_opt(o, "evidence", f->evidence);
        if (f->measure) {
                json_object *m = json_object_new_object();
                json_object_object_add(m, "key", json_object_new_string(f->measure));
                json_object_object_add(m, "value", json_object_new_double(f->value));
                json_object_object_add(o, "measure", m);
        }
        return o;
}

json_object *findings_to_json(const struct findings *fs)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < fs->n; i++)
                json_object_array_add(a, finding_to_json(&fs->v[i]));
        return a;
}

static char *get_opt(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return xstrdup(json_object_get_string(v));
}

int findings_from_json(struct findings *fs, json_object *arr)
{
        if (!json_object_is_type(arr, json_type_array))
                return -EINVAL;
        size_t n = json_object_array_length(arr);
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(arr, i);
                _cleanup_free_ char *id = get_opt(o, "id"), *sev = get_opt(o, "severity"),
                                    *summary = get_opt(o, "summary");
                enum severity s;
                if (!id || !sev || !summary || severity_from_name(sev, &s) < 0)
                        return -EINVAL;
                struct finding *f = fnd_add(fs, s, id, "%s", summary);
                f->subject = get_opt(o, "subject");
                f->expected = get_opt(o, "expected");
                f->actual = get_opt(o, "found");
                if (!f->actual) /* bundles made before 0.x called it "actual" */
                        f->actual = get_opt(o, "actual");
                f->remedy = get_opt(o, "remedy");
                f->evidence = get_opt(o, "evidence");
                json_object *m, *mk, *mv;
                if (json_object_object_get_ex(o, "measure", &m) && json_object_object_get_ex(m, "key", &mk) &&
                    json_object_object_get_ex(m, "value", &mv) && json_object_is_type(mk, json_type_string) &&
                    (json_object_is_type(mv, json_type_double) || json_object_is_type(mv, json_type_int)))
                        fnd_measure(f, json_object_get_string(mk), json_object_get_double(mv));
        }
        return 0;
}
