/* evo: the segments [expect] declares (evo_segments, evo_writers, evo_heartbeat_min).
 * A declared segment that is missing, written by another module or beating slower than
 * declared is crit, with the guide's remedy for SegmentNotFound. */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/conffile.h"
#include "lib/escape.h"
#include "lib/expect.h"

#include <errno.h>
#include <inttypes.h>
#include <strings.h>

#define NOT_FOUND_REMEDY                                                                                                   \
        "start the producer (the module that writes it: ps -eo pid,comm,args | grep <producer>); check the name's spelling " \
        "and case (names are case sensitive: the writer's create() and the reader's open() must agree); "                   \
        "ls -la /dev/shm/ | grep evo"

struct expectations {
        struct expect_list segs, writers, rates;
};

static void expectations_free(struct expectations *x)
{
        expect_free(&x->segs);
        expect_free(&x->writers);
        expect_free(&x->rates);
}

/* Validated when the config was loaded; a list that does not parse here expects nothing. */
static void load_list(const struct ctx *c, const char *key, enum expect_value v, struct expect_list *l)
{
        const struct config_entry *e = c->cfg ? config_get(c->cfg, "expect", key) : NULL;
        _cleanup_free_ char *why = NULL;
        if (!e || expect_parse(e->value, v, l, &why) < 0)
                *l = (struct expect_list){0};
}

static void load(const struct ctx *c, struct expectations *x)
{
        load_list(c, "evo_segments", EXPECT_NO_VALUE, &x->segs);
        load_list(c, "evo_writers", EXPECT_VALUE_REQUIRED, &x->writers);
        load_list(c, "evo_heartbeat_min", EXPECT_VALUE_REQUIRED, &x->rates);
}

bool evo_expects_segments(const struct ctx *c)
{
        struct expectations x;
        load(c, &x);
        bool any = x.segs.n || x.writers.n || x.rates.n;
        expectations_free(&x);
        return any;
}

/* The data segment of this name ("hal_cu": evo_hal_cu, or a legacy evo_hal_cu_<pid>). */
static const struct seg *find_seg(const struct scan *sc, const char *name, bool nocase)
{
        for (size_t i = 0; i < sc->n; i++) {
                const struct seg *s = &sc->v[i];
                if (s->base && evo_is_evo(s->cls) && (nocase ? !strcasecmp(s->base, name) : streq(s->base, name)))
                        return s;
        }
        return NULL;
}

/* Who writes s: the P2P header's source module, else the live writer's process name. */
static const char *writer_of(const struct scan *sc, const struct seg *s, char buf[64])
{
        if (s->h.layout == EVO_LAYOUT_P2P || s->h.layout == EVO_LAYOUT_INTERMEDIATE) {
                const char *m = evo_module_name(s->h.p2p.source);
                return m ? m : "an unknown module";
        }
        const struct proc *p = s->wpid > 0 ? evo_proc(sc, s->wpid) : NULL;
        if (!p)
                return NULL;
        snprintf(buf, 64, "%s", p->comm);
        return buf;
}

static void one_segment(const struct ctx *c, const struct scan *sc, const char *name, const struct expect_item *w,
                        struct findings *fs)
{
        _cleanup_free_ char *pname = str_printable(name);
        struct finding *f;
        if (sc->dir_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "evo.expected_segment", "%s: cannot tell whether it exists: cannot list %s: %s", pname,
                            SHM_DIR, rootfs_strerror(sc->dir_err));
                fnd_subject(f, "%s", pname);
                fnd_evidence(f, "%s", SHM_DIR);
                return;
        }
        const struct seg *s = find_seg(sc, name, false);
        if (!s) {
                const struct seg *other = find_seg(sc, name, true);
                _cleanup_free_ char *oname = other ? str_printable(other->fname) : NULL;
                f = fnd_add(fs, SEV_CRIT, "evo.expected_segment", "%s: expected segment is missing (SegmentNotFound)%s%s%s", pname,
                            other ? "; there is " : "", other ? oname : "", other ? ": the case differs" : "");
                fnd_subject(f, "%s", pname);
                fnd_expected(f, "%s/evo_%s ([expect] evo_segments)", SHM_DIR, pname);
                fnd_actual(f, "no %s/evo_%s%s", SHM_DIR, pname, sc->capped ? " (the scan stopped at [evo] scan_max entries)" : "");
                fnd_remedy(f, NOT_FOUND_REMEDY);
                fnd_evidence(f, "%s", SHM_DIR);
                return;
        }
        char buf[64];
        const char *by = writer_of(sc, s, buf);
        _cleanup_free_ char *fname = str_printable(s->fname);
        if (w && by && strcasecmp(by, w->value)) {
                _cleanup_free_ char *pw = str_printable(w->value), *pby = str_printable(by);
                f = fnd_add(fs, SEV_CRIT, "evo.expected_segment", "%s: written by %s, not by %s as [expect] evo_writers says", fname,
                            pby, pw);
                fnd_subject(f, "%s", pname);
                fnd_expected(f, "writer module %s", pw);
                fnd_actual(f, "writer %s (%s)", pby, s->h.layout == EVO_LAYOUT_LEGACY ? "the live writer's process name" : "the header's source module");
                fnd_remedy(f, "the wrong module creates %s: check which producer is configured to write it (its name and "
                              "direction, <source>_<dest>), or fix [expect] evo_writers",
                           fname);
                fnd_evidence(f, "%s (header)", s->path);
                return;
        }
        f = fnd_add(fs, SEV_OK, "evo.expected_segment", "%s: present%s%s", fname, by ? ", written by " : "", by ? by : "");
        fnd_subject(f, "%s", pname);
        fnd_expected(f, "%s/evo_%s%s%s", SHM_DIR, pname, w ? " written by " : "", w ? w->value : "");
        if (w && !by)
                fnd_actual(f, "present; its writer is not known (no live writer to name), so the writer was not compared");
        fnd_evidence(f, "%s", s->path);
        (void)c;
}

static void one_rate(const struct scan *sc, const struct expect_item *it, struct findings *fs)
{
        _cleanup_free_ char *pname = str_printable(it->name);
        double min = 0;
        (void)expect_rate(it->value, &min);
        const struct seg *s = sc->dir_err < 0 ? NULL : find_seg(sc, it->name, false);
        struct finding *f;
        if (!s) { /* evo.expected_segment says it (declared or not, a rate needs the segment) */
                f = fnd_add(fs, sc->dir_err < 0 ? SEV_UNKNOWN : SEV_CRIT, "evo.expected_rate", "%s: no heartbeat to measure: %s", pname,
                            sc->dir_err < 0 ? "cannot list " SHM_DIR : "the segment is missing");
                fnd_subject(f, "%s", pname);
                fnd_expected(f, ">= %g Hz ([expect] evo_heartbeat_min)", min);
                if (sc->dir_err >= 0)
                        fnd_remedy(f, NOT_FOUND_REMEDY);
                fnd_evidence(f, "%s", SHM_DIR);
                return;
        }
        _cleanup_free_ char *fname = str_printable(s->fname);
        if (!s->sampled) {
                f = fnd_add(fs, SEV_SKIPPED, "evo.expected_rate", "%s: rate not measured: %s", fname,
                            sc->no_second ? sc->no_second : "no second header sample");
                fnd_subject(f, "%s", pname);
                fnd_evidence(f, "%s", s->path);
                return;
        }
        uint64_t dt = s->t2_ns - s->t1_ns, a = evo_progress(&s->h), b = evo_progress(&s->h2);
        double hz = evo_rate_hz(&s->h, &s->h2, dt);
        bool slow = hz < min;
        f = fnd_add(fs, slow ? SEV_CRIT : SEV_OK, "evo.expected_rate", "%s: heartbeat %.1f Hz%s %g Hz", fname, hz,
                    slow ? ", below the declared minimum" : " >=", min);
        fnd_subject(f, "%s", pname);
        fnd_expected(f, ">= %g Hz ([expect] evo_heartbeat_min)", min);
        fnd_actual(f, "%" PRIu64 " -> %" PRIu64 " in %" PRIu64 " ms", a, b, dt / 1000000u);
        if (slow)
                fnd_remedy(f, "the writer's loop runs slow: top -H -p <writer pid>; evodiag check --only rt,isolation   # its CPU "
                              "shared with other work? (a rate over a short window: raise [evo] sample_ms for slow writers)");
        fnd_evidence(f, "%s (header, twice)", s->path);
}

void evo_check_expected(struct ctx *c, struct scan *sc, struct findings *fs)
{
        struct expectations x;
        load(c, &x);
        /* Every segment named anywhere in [expect] must exist; evo_writers names its writer. */
        for (size_t i = 0; i < x.segs.n; i++)
                one_segment(c, sc, x.segs.v[i].name, expect_find(&x.writers, x.segs.v[i].name), fs);
        for (size_t i = 0; i < x.writers.n; i++)
                if (!expect_find(&x.segs, x.writers.v[i].name))
                        one_segment(c, sc, x.writers.v[i].name, &x.writers.v[i], fs);
        for (size_t i = 0; i < x.rates.n; i++)
                one_rate(sc, &x.rates.v[i], fs);
        expectations_free(&x);
}
