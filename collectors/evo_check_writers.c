/* evo: the checks of the writers — orphaned segments (evo.orphaned), stale .lock and
 * .meta files (evo.leftovers), segments never committed (evo.never_committed), stalled
 * heartbeats (evo.stalled) and writes left half-done (evo.write_seq). The verdicts are
 * evo_verdict.c's, the same watch's sample() asks. */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/escape.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/sysmacros.h>

void evo_check_orphans(struct scan *sc, struct findings *fs)
{
        struct finding *f;
        size_t n = 0, checked = 0, unknown = 0;
        if (sc->locks_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "evo.orphaned", "cannot read /proc/locks: %s — P2P writers' liveness unknown",
                            strerror(-sc->locks_err));
                fnd_evidence(f, "/proc/locks");
        }
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = evo_classify(s, NULL);
                /* Unreadable without root, but a .lock or a pid in the name still tells. */
                if ((!evo_is_evo(k) && k != C_UNOPENED) || s->wlayout == EVO_LAYOUT_NONE)
                        continue;
                checked++;
                _cleanup_free_ char *name = str_printable(s->fname);
                enum severity sev = evo_orphaned_sev(s->writer);
                if (sev == SEV_UNKNOWN) {
                        unknown++;
                        if (s->wlayout != EVO_LAYOUT_P2P && s->wpid && !sc->procs_ok) {
                                f = fnd_add(fs, SEV_INFO, "evo.orphaned", "%s: whether writer pid %d lives is not in the evidence", name, s->wpid);
                                fnd_subject(f, "%s", name);
                                fnd_evidence(f, "%s (no /proc/PID entries under the root)", s->path);
                        }
                        continue;
                }
                if (sev == SEV_OK)
                        continue;
                n++;
                _cleanup_free_ char *rm = evo_rm_command(sc, s);
                struct strbuf b = {0};
                if (s->wlayout == EVO_LAYOUT_P2P)
                        sb_printf(&b, "%s is orphaned: %s", name, s->lock_exists ? "nobody holds the flock on its .lock (its writer is gone)"
                                                                                : "its .lock is missing (its writer is gone)");
                else
                        sb_printf(&b, "%s is orphaned: its writer pid %d is gone", name, s->wpid);
                _cleanup_free_ char *summary = sb_steal(&b);
                f = fnd_add(fs, sev, "evo.orphaned", "%s", summary);
                fnd_subject(f, "%s", name);
                fnd_expected(f, s->wlayout == EVO_LAYOUT_P2P ? "a FLOCK line in /proc/locks for its .lock" : "the writer's /proc/PID");
                struct strbuf a = {0};
                if (s->wlayout == EVO_LAYOUT_P2P && s->lock_exists)
                        sb_printf(&a, "%s.lock inode %" PRIu64 " not locked; ", name, (uint64_t)s->lock_st.st_ino);
                else if (s->wlayout != EVO_LAYOUT_P2P)
                        sb_printf(&a, "no /proc/%d; ", s->wpid);
                if (s->dec == 0)
                        sb_printf(&a, "last %s %" PRIu64 "; ", s->h.layout == EVO_LAYOUT_LEGACY ? "version" : "heartbeat",
                                  s->h.layout == EVO_LAYOUT_LEGACY ? s->h.legacy.version : s->h.p2p.heartbeat);
                evo_put_readers(sc, s, &a);
                _cleanup_free_ char *actual = sb_steal(&a);
                fnd_actual(f, "%s", actual);
                size_t readers = 0;
                for (size_t j = 0; j < s->nm; j++)
                        readers += s->m[j].pid != s->wpid;
                if (readers)
                        fnd_remedy(f, "%s   # evodiag never deletes; then restart the writer, and the readers still mapping it", rm);
                else
                        fnd_remedy(f, "%s   # evodiag never deletes; then restart the writer", rm);
                fnd_evidence(f, s->wlayout == EVO_LAYOUT_P2P ? "/proc/locks, %s.lock (lstat)" : "%s header writer_pid, /proc", s->path);
        }
        if (!n && sc->locks_err >= 0) {
                f = fnd_add(fs, SEV_OK, "evo.orphaned", "%zu of %zu EVO %s have a live writer%s", checked - unknown, checked,
                            checked == 1 ? "segment" : "segments", unknown ? " (the others: unknown)" : "");
                fnd_expected(f, "P2P: its .lock flocked; legacy: writer_pid alive");
                fnd_evidence(f, "/proc/locks, /proc");
        }
}

void evo_check_leftovers(struct scan *sc, struct findings *fs)
{
        size_t n = 0;
        for (size_t i = 0; i < sc->nlocks; i++) {
                const char *lock = sc->locks[i];
                size_t dl = strlen(lock) - 5;
                if (evo_seg_find(sc, lock, dl))
                        continue;
                n++;
                _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, lock), *name = str_printable(lock), *w = shell_quote(path);
                struct stat st;
                bool have = rootfs_stat(path, &st, false) == 0;
                const struct proclock *held = have && sc->locks_err >= 0
                        ? proclocks_holder(sc->lk, sc->nlk, (uint64_t)st.st_ino, major(st.st_dev), minor(st.st_dev), rootfs_is_live())
                        : NULL;
                struct finding *f;
                if (held) {
                        struct strbuf b = {0};
                        evo_put_pid(sc, &b, held->pid);
                        _cleanup_free_ char *who = sb_steal(&b);
                        f = fnd_add(fs, SEV_WARN, "evo.leftovers", "%s is held by %s but its segment %.*s is gone: readers get SegmentNotFound",
                                    name, who, (int)dl, name);
                        fnd_remedy(f, "kill %d   # restart that writer so it creates the segment again", held->pid);
                } else {
                        f = fnd_add(fs, SEV_INFO, "evo.leftovers", "%s is left over: no segment %.*s, nobody holds it", name, (int)dl, name);
                        fnd_remedy(f, "rm %s", w);
                }
                fnd_subject(f, "%s", name);
                fnd_evidence(f, "%s, /proc/locks", SHM_DIR);
        }
        for (size_t i = 0; i < sc->nmetas; i++) {
                const char *meta = sc->metas[i];
                size_t bl = strlen(meta) - 5;
                bool used = false;
                for (size_t k = 0; k < sc->n && !used; k++)
                        used = sc->v[k].meta_fname && streq(sc->v[k].meta_fname, meta);
                if (used)
                        continue;
                n++;
                _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, meta), *name = str_printable(meta), *w = shell_quote(path);
                struct finding *f = fnd_add(fs, SEV_WARN, "evo.leftovers",
                                            "%s is left over: no %.*s_<pid> segment; the next legacy writer cannot create it and fails to start",
                                            name, (int)bl, name);
                fnd_subject(f, "%s", name);
                fnd_remedy(f, "rm %s", w);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        if (!n) {
                /* A .lock of an orphaned segment is stale too, but evo.orphaned reports the pair:
                 * say so rather than "no stale .lock" beside its crit. */
                size_t orphaned = 0;
                for (size_t i = 0; i < sc->n; i++)
                        orphaned += sc->v[i].lock_exists && sc->v[i].writer == EVO_WRITER_DEAD;
                struct finding *f = fnd_add(fs, SEV_OK, "evo.leftovers", "no .lock or .meta without its segment (%zu .lock, %zu .meta)%s",
                                            sc->nlocks, sc->nmetas, orphaned ? "; the .lock of each orphaned segment: see evo.orphaned" : "");
                if (orphaned)
                        fnd_actual(f, "%zu .lock %s of segments whose writer is gone (evo.orphaned)", orphaned,
                                   orphaned == 1 ? "belongs to one" : "files belong to");
                fnd_evidence(f, "%s", SHM_DIR);
        }
}

void evo_check_never(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum severity sev;
                if (!evo_never_committed_sev(evo_hdr_of(evo_classify(s, NULL)), &s->h, &sev))
                        continue;
                valid++;
                if (sev == SEV_OK)
                        continue;
                n++;
                bool legacy = s->h.layout == EVO_LAYOUT_LEGACY;
                _cleanup_free_ char *name = str_printable(s->fname);
                struct strbuf b = {0};
                evo_put_writer(sc, s, &b);
                _cleanup_free_ char *w = sb_steal(&b);
                struct finding *f = fnd_add(fs, sev, "evo.never_committed", "%s: %s 0, never %s (%s)", name,
                                            legacy ? "version" : "heartbeat", legacy ? "written" : "committed", w);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "%s > 0 (the watchdog waits for it)", legacy ? "version" : "heartbeat");
                fnd_actual(f, "%s 0", legacy ? "version" : "heartbeat");
                if (s->writer == EVO_WRITER_ALIVE && s->wpid > 0)
                        fnd_remedy(f, "cat /proc/%d/stack; journalctl _PID=%d (without journald: the writer's own log or stdout)   "
                                      "# the writer is stuck before its first cycle", s->wpid, s->wpid);
                else
                        fnd_remedy(f, "journalctl -e (without journald: the writer's own log or stdout)   # why it never reached its first cycle");
                fnd_evidence(f, "%s (header)", s->path);
        }
        struct finding *f;
        if (!n && (f = evo_ok_or_skipped(c, sc, fs, "evo.never_committed", valid, "%zu %s written at least once", valid,
                                     valid == 1 ? "segment" : "segments")))
                fnd_evidence(f, "%s/evo_* (headers)", SHM_DIR);
}

static bool live_skipped(struct scan *sc, struct findings *fs, const char *id, const char *what)
{
        if (sc->second_tried && !sc->no_second)
                return false;
        if (!sc->no_second)
                return false; /* nothing to sample */
        struct finding *f = fnd_add(fs, rootfs_is_live() ? SEV_UNKNOWN : SEV_SKIPPED, id, "%s not judged: %s", what, sc->no_second);
        fnd_evidence(f, "%s/evo_* (two samples)", SHM_DIR);
        return true;
}

void evo_check_stalled(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (live_skipped(sc, fs, "evo.stalled", "heartbeat progress"))
                return;
        size_t sampled = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum severity sev;
                if (!s->sampled || !evo_stalled_sev(evo_hdr_of(evo_classify(s, NULL)), &s->h, &s->h2, s->writer, &sev))
                        continue;
                uint64_t a = evo_progress(&s->h), b = evo_progress(&s->h2);
                sampled++;
                _cleanup_free_ char *name = str_printable(s->fname);
                uint64_t ms = (s->t2_ns - s->t1_ns) / 1000000u;
                bool legacy = s->h.layout == EVO_LAYOUT_LEGACY;
                struct finding *f;
                /* One finding per segment, also when it is fine: the rate is the measurement. */
                if (sev != SEV_OK) {
                        struct strbuf w = {0};
                        evo_put_pid(sc, &w, s->wpid);
                        _cleanup_free_ char *who = sb_steal(&w);
                        if (legacy) {
                                f = fnd_add(fs, sev, "evo.stalled", "%s: no write in %" PRIu64 " ms by writer %s (legacy segments are written on change)",
                                            name, ms, who);
                        } else {
                                f = fnd_add(fs, sev, "evo.stalled", "%s: heartbeat stuck at %" PRIu64 " for %" PRIu64 " ms while writer %s is alive: stalled writer",
                                            name, a, ms, who);
                                fnd_remedy(f, "cat /proc/%d/stack; top -H -p %d   # what the writer's RT loop waits for; then restart it", s->wpid, s->wpid);
                        }
                } else {
                        f = fnd_add(fs, sev, "evo.stalled", "%s: %s advancing at %.1f Hz", name, legacy ? "version" : "heartbeat",
                                    evo_rate_hz(&s->h, &s->h2, s->t2_ns - s->t1_ns));
                }
                fnd_subject(f, "%s", name);
                fnd_measure(f, "evo.heartbeat_hertz", evo_rate_hz(&s->h, &s->h2, s->t2_ns - s->t1_ns));
                fnd_expected(f, "%s advancing between two samples", legacy ? "version" : "heartbeat");
                fnd_actual(f, "%" PRIu64 " -> %" PRIu64 " in %" PRIu64 " ms", a, b, ms);
                fnd_evidence(f, "%s (header, twice)", s->path);
        }
        struct finding *f;
        if (!sampled && (f = evo_ok_or_skipped(c, sc, fs, "evo.stalled", 0, "no committed segment with a live writer to sample")))
                fnd_evidence(f, "%s/evo_* (header, twice)", SHM_DIR);
}

void evo_check_write_seq(struct ctx *c, struct scan *sc, struct findings *fs)
{
        if (live_skipped(sc, fs, "evo.write_seq", "half-done writes"))
                return;
        size_t n = 0, sampled = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum severity sev;
                if (!evo_is_evo(evo_classify(s, NULL)) || s->dec != 0 || !s->sampled || !evo_write_seq_sev(&s->h, &s->h2, &sev))
                        continue;
                sampled++;
                if (sev == SEV_OK)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname);
                uint64_t ms = (s->t2_ns - s->t1_ns) / 1000000u;
                const char *field = s->h.layout == EVO_LAYOUT_P2P ? "write_seq" : "seqlock version";
                uint64_t v = s->h.layout == EVO_LAYOUT_P2P ? s->h2.p2p.write_seq : s->h2.legacy.version;
                struct finding *f;
                if (s->writer == EVO_WRITER_ALIVE) {
                        struct strbuf w = {0};
                        evo_put_pid(sc, &w, s->wpid);
                        _cleanup_free_ char *who = sb_steal(&w);
                        f = fnd_add(fs, sev, "evo.write_seq", "%s: %s %" PRIu64 " odd in both samples %" PRIu64 " ms apart: writer %s is stuck mid-write",
                                    name, field, v, ms, who);
                        fnd_remedy(f, "cat /proc/%d/stack   # then restart the writer (kill %d)", s->wpid, s->wpid);
                } else {
                        _cleanup_free_ char *rm = evo_rm_command(sc, s);
                        f = fnd_add(fs, sev, "evo.write_seq", "%s: %s %" PRIu64 " odd in both samples %" PRIu64 " ms apart: the writer died mid-write, the payload is torn",
                                    name, field, v, ms);
                        fnd_remedy(f, "%s   # then restart the writer", rm);
                }
                fnd_subject(f, "%s", name);
                fnd_expected(f, "an even %s (odd only while a write is in progress)", field);
                fnd_actual(f, "%s %" PRIu64 " in both samples (header read %s)", field, v, evo_read_name(s->rs2));
                fnd_evidence(f, "%s (header, twice)", s->path);
        }
        struct finding *f;
        if (!n && (f = evo_ok_or_skipped(c, sc, fs, "evo.write_seq", sampled, "no write left half-done (%zu %s sampled twice)", sampled,
                                     sampled == 1 ? "segment" : "segments"))) {
                fnd_expected(f, "write_seq / version even in at least one of two samples");
                fnd_evidence(f, "%s/evo_* (header, twice)", SHM_DIR);
        }
}

