/* evo: the checks of the readers — legacy reader_count against the live readers
 * (evo.crashed_readers), readers that would get PermissionDenied (evo.reader_access),
 * and the /proc/PID/maps scan they rest on (evo.mappers). */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/escape.h"

#include <errno.h>
#include <inttypes.h>

static bool maps_complete(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, const char *what)
{
        if (!sc->maps_scanned) {
                struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "%s: no process table, nobody's maps read", what);
                fnd_evidence(f, "%s/proc", rootfs_get());
                return false;
        }
        if (sc->mw.unreadable && !c->is_root) {
                struct finding *f = fnd_add(fs, SEV_SKIPPED, id, "needs root: %s needs every process's maps (%zu not readable)", what, sc->mw.unreadable);
                fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                fnd_evidence(f, "/proc/PID/maps");
                return false;
        }
        return true;
}

void evo_check_crashed_readers(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t legacy = 0, n = 0;
        for (size_t i = 0; i < sc->n; i++)
                legacy += evo_classify(&sc->v[i], NULL) == C_VALID && sc->v[i].h.layout != EVO_LAYOUT_P2P;
        if (legacy && !maps_complete(c, sc, fs, "evo.crashed_readers", "comparing reader_count with live readers"))
                return;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (evo_classify(s, NULL) != C_VALID || s->h.layout == EVO_LAYOUT_P2P)
                        continue;
                unsigned live = 0;
                for (size_t k = 0; k < s->nm; k++)
                        if (s->m[k].pid != s->wpid)
                                live += s->m[k].maps ? s->m[k].maps : 1;
                if (s->h.legacy.reader_count <= live)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname);
                struct strbuf b = {0};
                evo_put_readers(sc, s, &b);
                _cleanup_free_ char *rd = sb_steal(&b);
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.crashed_readers",
                                            "%s: reader_count %" PRIu32 " but %u live %s: %" PRIu32 " crashed without detaching",
                                            name, s->h.legacy.reader_count, live, live == 1 ? "reader" : "readers",
                                            s->h.legacy.reader_count - live);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "reader_count <= processes mapping it (writer excluded)");
                fnd_actual(f, "reader_count %" PRIu32 "; %s", s->h.legacy.reader_count, rd);
                fnd_remedy(f, "restart the writer (pid %d) when convenient: a new segment starts at 0 readers", s->wpid);
                fnd_evidence(f, "%s (header), /proc/*/maps", s->path);
        }
        if (!n) {
                struct finding *f;
                if (legacy)
                        f = fnd_add(fs, SEV_OK, "evo.crashed_readers", "reader_count matches the live readers of %zu legacy %s", legacy,
                                    legacy == 1 ? "segment" : "segments");
                else
                        f = fnd_add(fs, SEV_OK, "evo.crashed_readers", "no legacy segments (no reader_count to compare)");
                fnd_evidence(f, "%s/evo_* (headers), /proc/*/maps", SHM_DIR);
        }
}

/* ---- reader access (the guide's PermissionDenied) ---- */

struct pidset {
        int *v;
        size_t n, cap;
};

static void pidset_add(struct pidset *p, int pid)
{
        if (pid <= 0)
                return;
        for (size_t i = 0; i < p->n; i++)
                if (p->v[i] == pid)
                        return;
        if (p->n == p->cap)
                p->v = xrealloc(p->v, (p->cap = p->cap ? p->cap * 2 : 8) * sizeof(int));
        p->v[p->n++] = pid;
}

static bool maps_pid(const struct seg *s, int pid)
{
        for (size_t k = 0; k < s->nm; k++)
                if (s->m[k].pid == pid)
                        return true;
        return false;
}

/* Who would read s (see the explain text of evo.reader_access). */
static void would_be_readers(struct scan *sc, struct seg *s, struct pidset *out)
{
        char src[8], dst[8], s2[8], d2[8];
        bool modules = s->h.layout != EVO_LAYOUT_LEGACY && evo_name_modules(s->base, src, dst);
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *t = &sc->v[i];
                if (t == s || evo_classify(t, NULL) != C_VALID)
                        continue;
                if (modules) {
                        if (!evo_name_modules(t->base, s2, d2))
                                continue;
                        if (streq(s2, dst) && t->writer == EVO_WRITER_ALIVE)
                                pidset_add(out, t->wpid); /* writes as module <dst> */
                        if (streq(d2, dst))
                                for (size_t k = 0; k < t->nm; k++)
                                        if (t->m[k].pid != t->wpid)
                                                pidset_add(out, t->m[k].pid); /* reads as module <dst> */
                } else {
                        for (size_t k = 0; k < t->nm; k++)
                                if (t->m[k].pid != t->wpid)
                                        pidset_add(out, t->m[k].pid); /* an EVO reader */
                }
        }
}

void evo_check_reader_access(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (!maps_complete(c, sc, fs, "evo.reader_access", "finding readers that cannot open a segment"))
                return;
        size_t n = 0, judged = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                /* A dead writer's segment is replaced when it restarts, with its own mode. */
                if (evo_classify(s, NULL) != C_VALID || s->writer == EVO_WRITER_DEAD)
                        continue;
                struct pidset cand = {0};
                would_be_readers(sc, s, &cand);
                bool rw = s->h.layout != EVO_LAYOUT_P2P;
                struct strbuf b = {0};
                size_t denied = 0;
                int first = 0;
                for (size_t k = 0; k < cand.n; k++) {
                        int pid = cand.v[k];
                        if (pid == s->wpid || maps_pid(s, pid))
                                continue;
                        char path[64];
                        snprintf(path, sizeof(path), "/proc/%d/status", pid);
                        _cleanup_free_ char *status = NULL;
                        struct evo_creds cr;
                        if (rootfs_read(path, 64 << 10, &status, NULL) < 0 || evo_status_creds(status, &cr) < 0)
                                continue;
                        judged++;
                        if (evo_can_open(&cr, s->st.st_uid, s->st.st_gid, s->st.st_mode, rw))
                                continue;
                        if (!denied++)
                                first = pid;
                        if (denied <= READERS_SHOWN) {
                                if (denied > 1)
                                        sb_puts(&b, ", ");
                                evo_put_pid(sc, &b, pid);
                                _cleanup_free_ char *who = evo_owner(sc, cr.uid, cr.gid);
                                sb_printf(&b, " as %s", who);
                        }
                }
                free(cand.v);
                if (!denied) {
                        sb_free(&b);
                        continue;
                }
                n++;
                if (denied > READERS_SHOWN)
                        sb_printf(&b, " and %zu more", denied - READERS_SHOWN);
                _cleanup_free_ char *who = sb_steal(&b), *name = str_printable(s->fname), *own = evo_owner(sc, s->st.st_uid, s->st.st_gid);
                _cleanup_free_ char *w = shell_quote(s->path);
                struct finding *f = fnd_add(fs, SEV_WARN, "evo.reader_access", "%s (mode %04o, owner %s) cannot be opened %s by %s: "
                                            "PermissionDenied when %s attach%s",
                                            name, (unsigned)(s->st.st_mode & 07777), own, rw ? "read-write" : "for reading", who,
                                            denied == 1 ? "it" : "they", denied == 1 ? "es" : "");
                fnd_subject(f, "%s", name);
                fnd_expected(f, "every EVO reader of it passes its mode bits (%s)", rw ? "read-write: legacy readers bump reader_count" : "read");
                fnd_actual(f, "mode %04o owner %s; first: pid %d", (unsigned)(s->st.st_mode & 07777), own, first);
                fnd_remedy(f, "chown :evo %s && chmod %s %s && usermod -a -G evo <reader's user>   # then restart the reader; "
                              "make the writer create it so", w, rw ? "660" : "640", w);
                fnd_evidence(f, "%s (lstat), /proc/*/maps, /proc/PID/status", s->path);
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "evo.reader_access", "every EVO reader can open the segments it would read (%zu %s checked)",
                                            judged, judged == 1 ? "reader/segment pair" : "reader/segment pairs");
                fnd_evidence(f, "/proc/*/maps, /proc/PID/status, %s/evo_* (lstat)", SHM_DIR);
        }
}

void evo_check_mappers(struct ctx *c, struct scan *sc, struct findings *fs, size_t max_kb)
{
        struct finding *f;
        if (!sc->maps_scanned) {
                f = fnd_add(fs, SEV_SKIPPED, "evo.mappers", "no process table: who maps the segments is unknown");
                fnd_evidence(f, "%s/proc", rootfs_get());
                return;
        }
        if (sc->mw.unreadable) {
                const struct proc *p = evo_proc(sc, sc->mw.first_unreadable);
                _cleanup_free_ char *comm = str_printable(p ? p->comm : "?");
                if (!c->is_root) {
                        f = fnd_add(fs, SEV_SKIPPED, "evo.mappers", "needs root: maps of %zu processes of other users not readable (first: pid %d %s); "
                                    "readers shown come from the %zu readable ones", sc->mw.unreadable, sc->mw.first_unreadable, comm, sc->mw.scanned);
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                } else {
                        f = fnd_add(fs, SEV_INFO, "evo.mappers", "maps of %zu %s not readable even as root (first: pid %d %s: %s); "
                                    "a reader among them is not seen", sc->mw.unreadable, sc->mw.unreadable == 1 ? "process" : "processes",
                                    sc->mw.first_unreadable, comm, rootfs_strerror(sc->mw.first_unreadable_err));
                }
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (sc->mw.truncated) {
                f = fnd_add(fs, SEV_INFO, "evo.mappers", "maps of %zu processes longer than %zu KiB, read only in part (first: pid %d)",
                            sc->mw.truncated, max_kb, sc->mw.first_truncated);
                fnd_remedy(f, "raise [evo] maps_max_kb");
                fnd_evidence(f, "/proc/PID/maps");
        }
        if (!sc->mw.unreadable && !sc->mw.truncated) {
                struct pidset all = {0};
                for (size_t i = 0; i < sc->n; i++)
                        for (size_t k = 0; k < sc->v[i].nm; k++)
                                pidset_add(&all, sc->v[i].m[k].pid);
                f = fnd_add(fs, SEV_OK, "evo.mappers", "maps of %zu processes scanned: %zu map EVO segments", sc->mw.scanned, all.n);
                fnd_evidence(f, "/proc/PID/maps");
                free(all.v);
        }
}


