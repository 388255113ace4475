/* evo: the checks of the segment inventory — what each evo_* entry is (evo.segments,
 * evo.not_segment), whether its header is sound (evo.corrupt), whether its name is one
 * evo-core uses (evo.unknown_name), and its and its .lock's modes (evo.permissions);
 * and the phrases the other checks share (writer, readers, the rm remedy). */
#include "config.h"
#include "collectors/evo_private.h"
#include "lib/escape.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

/* "read by pid 43 (cu), pid 44 (mqt)" / what the maps scan can say about none. */
void evo_put_readers(const struct scan *sc, const struct seg *s, struct strbuf *b)
{
        size_t shown = 0, readers = 0;
        for (size_t i = 0; i < s->nm; i++)
                readers += s->m[i].pid != s->wpid;
        if (!readers) {
                if (!sc->maps_scanned)
                        sb_puts(b, "readers unknown (no process table)");
                else if (sc->mw.unreadable)
                        sb_printf(b, "no reader found (maps of %zu %s not readable)", sc->mw.unreadable, sc->mw.unreadable == 1 ? "process" : "processes");
                else
                        sb_puts(b, "no reader maps it");
                return;
        }
        sb_puts(b, "read by ");
        for (size_t i = 0; i < s->nm; i++) {
                if (s->m[i].pid == s->wpid)
                        continue;
                if (shown == READERS_SHOWN) {
                        sb_printf(b, " and %zu more", readers - shown);
                        break;
                }
                if (shown++)
                        sb_puts(b, ", ");
                evo_put_pid(sc, b, s->m[i].pid);
        }
}

/* "writer pid 42 (hal) alive" / why the writer is gone or unknown. */
void evo_put_writer(const struct scan *sc, const struct seg *s, struct strbuf *b)
{
        if (s->wlayout == EVO_LAYOUT_P2P) {
                if (!s->lock_exists)
                        sb_printf(b, "no %s.lock (writer gone)", s->fname);
                else if (s->writer == EVO_WRITER_UNKNOWN)
                        sb_puts(b, "writer unknown (/proc/locks not readable)");
                else if (!s->lock_held)
                        sb_puts(b, "nobody holds its .lock (writer gone)");
                else if (s->lock_pid > 0) {
                        sb_puts(b, "writer ");
                        evo_put_pid(sc, b, s->lock_pid);
                        sb_puts(b, " holds the lock");
                } else {
                        sb_puts(b, "its .lock is held by a process outside evodiag's pid namespace");
                }
                return;
        }
        if (!s->wpid) {
                sb_puts(b, "writer unknown (writer_pid 0)");
                return;
        }
        sb_puts(b, "writer ");
        evo_put_pid(sc, b, s->wpid);
        sb_puts(b, s->writer == EVO_WRITER_ALIVE ? " alive" : s->writer == EVO_WRITER_DEAD ? " gone" : " (liveness not in the evidence)");
}

/* Segments that could not be opened (0600 of another user, as non-root). */
static size_t unopened(const struct scan *sc)
{
        size_t n = 0;
        for (size_t i = 0; i < sc->n; i++)
                n += evo_classify(&sc->v[i], NULL) == C_UNOPENED;
        return n;
}

struct finding *evo_ok_or_skipped(struct ctx *c, struct scan *sc, struct findings *fs, const char *id, size_t checked,
                                  const char *fmt, ...)
{
        size_t un = unopened(sc);
        if (!checked && un) {
                struct finding *f = fnd_add(fs, c->is_root ? SEV_UNKNOWN : SEV_SKIPPED, id, "%s%zu %s could not be read: not checked",
                                            c->is_root ? "" : "needs root: ", un, un == 1 ? "segment" : "segments");
                if (!c->is_root)
                        fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                fnd_evidence(f, "%s/evo_*", SHM_DIR);
                return NULL;
        }
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        struct finding *f = fnd_add(fs, SEV_OK, id, "%s%s", msg, un ? " (segments not readable without root left out)" : "");
        return f;
}

void evo_check_segments(struct ctx *c, struct scan *sc, struct findings *fs)
{
        struct finding *f;
        if (sc->dir_err < 0) {
                f = fnd_add(fs, SEV_UNKNOWN, "evo.segments", "cannot list %s: %s", SHM_DIR, strerror(-sc->dir_err));
                fnd_evidence(f, "%s", SHM_DIR);
                return;
        }
        if (sc->capped) {
                f = fnd_add(fs, SEV_INFO, "evo.segments", "more than %.0f evo_* entries in %s: only the first were examined",
                            conf_num(c, "scan_max"), SHM_DIR);
                fnd_remedy(f, "ls %s | grep -c '^evo_'   # a writer that leaks segments? or raise [evo] scan_max", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        size_t valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = evo_classify(s, NULL);
                _cleanup_free_ char *name = str_printable(s->fname);
                if (k == C_UNOPENED) {
                        _cleanup_free_ char *own = evo_owner(sc, s->st.st_uid, s->st.st_gid);
                        enum severity sev = evo_unopened_sev(s->open_err, c->is_root);
                        bool need_root = sev == SEV_SKIPPED;
                        f = fnd_add(fs, sev, "evo.segments", "%s%s: cannot open it (%s; mode %04o, owner %s): header not read",
                                    need_root ? "needs root: " : "", name, strerror(-s->open_err), (unsigned)(s->st.st_mode & 07777), own);
                        fnd_subject(f, "%s", name);
                        if (need_root)
                                fnd_remedy(f, "run evodiag as root (sudo evodiag check --only evo)");
                        fnd_evidence(f, "%s", s->path);
                        continue;
                }
                if (k != C_VALID)
                        continue; /* evo.not_segment and evo.corrupt say what it is */
                valid++;
                char sz[32], m1[16], m2[16];
                struct strbuf b = {0};
                const struct evo_header *h = &s->h;
                if (h->layout == EVO_LAYOUT_LEGACY)
                        sb_printf(&b, "legacy segment '%s', %s, data %" PRIu64 " B, %" PRIu64 " writes (version %" PRIu64 "); ",
                                  s->base, fmt_bytes((uint64_t)s->st.st_size, sz), h->legacy.size, h->legacy.version / 2, h->legacy.version);
                else
                        sb_printf(&b, "%s %s->%s, %s, payload %" PRIu32 " B, heartbeat %" PRIu64 "; ",
                                  h->layout == EVO_LAYOUT_P2P ? "P2P" : "intermediate (legacy file, P2P header at 128)",
                                  evo_module_str(h->p2p.source, m1), evo_module_str(h->p2p.dest, m2), fmt_bytes((uint64_t)s->st.st_size, sz),
                                  h->p2p.payload_size, h->p2p.heartbeat);
                evo_put_writer(sc, s, &b);
                sb_puts(&b, "; ");
                evo_put_readers(sc, s, &b);
                if (h->layout != EVO_LAYOUT_P2P)
                        sb_puts(&b, "; written by a pre-P2P build: HEAD modules cannot read it");
                _cleanup_free_ char *summary = sb_steal(&b);
                f = fnd_add(fs, h->layout == EVO_LAYOUT_P2P ? SEV_OK : SEV_INFO, "evo.segments", "%s: %s", name, summary);
                fnd_subject(f, "%s", name);
                _cleanup_free_ char *own = evo_owner(sc, s->st.st_uid, s->st.st_gid);
                struct strbuf a = {0};
                sb_printf(&a, "mode %04o, owner %s, inode %" PRIu64, (unsigned)(s->st.st_mode & 07777), own, (uint64_t)s->st.st_ino);
                if (h->layout != EVO_LAYOUT_LEGACY) {
                        uint32_t al = evo_version_hash_align(h->p2p.version_hash, h->layout == EVO_LAYOUT_P2P ? h->p2p.payload_size
                                                                                                               : h->p2p.payload_size + EVO_P2P_HDR);
                        sb_printf(&a, ", version_hash 0x%08" PRIx32, h->p2p.version_hash);
                        if (al)
                                sb_printf(&a, " (payload align %" PRIu32 ")", al);
                        else
                                sb_puts(&a, " (matches no alignment of its size)");
                        sb_printf(&a, ", write_seq %" PRIu32, h->p2p.write_seq);
                }
                if (h->layout != EVO_LAYOUT_P2P) {
                        sb_printf(&a, ", reader_count %" PRIu32 ", writer_pid %" PRIu32, h->legacy.reader_count, h->legacy.writer_pid);
                        if (s->name_pid && (uint32_t)s->name_pid != h->legacy.writer_pid)
                                sb_printf(&a, " (file name says %d)", s->name_pid);
                        time_t t = (time_t)(h->legacy.created_ts / 1000000000u);
                        struct tm tm;
                        char ts[40];
                        if (h->legacy.created_ts && gmtime_r(&t, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm))
                                sb_printf(&a, ", created %s", ts);
                        if (s->meta_fname)
                                sb_printf(&a, ", %s %s", s->meta_fname, s->meta_ok ? "read" : "unreadable or not JSON");
                }
                if (s->rs != EVO_READ_STABLE)
                        sb_printf(&a, ", header read %s after %u tries", evo_read_name(s->rs), s->tries);
                _cleanup_free_ char *actual = sb_steal(&a);
                fnd_actual(f, "%s", actual);
                fnd_evidence(f, "%s (header), /proc/locks, /proc/*/maps", s->path);
        }
        if (!sc->n) {
                f = fnd_add(fs, SEV_OK, "evo.segments", "no EVO data segments in %s (only .lock/.meta files)", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        } else if (!valid && !sc->capped && !unopened(sc)) {
                /* Everything is in the other checks; say the inventory was taken. */
                f = fnd_add(fs, SEV_INFO, "evo.segments", "%zu evo_* %s in %s, none a readable EVO segment", sc->n,
                            sc->n == 1 ? "entry" : "entries", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
}

void evo_check_not_segment(struct scan *sc, struct findings *fs)
{
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                struct strbuf why = {0};
                enum seg_class k = evo_classify(s, &why);
                _cleanup_free_ char *name = str_printable(s->fname), *own = s->stat_err == 0 ? evo_owner(sc, s->st.st_uid, s->st.st_gid) : NULL;
                struct finding *f = NULL;
                if (k == C_NOT_REGULAR && s->stat_err == 0 && S_ISLNK(s->st.st_mode)) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is a symlink, not an EVO segment (not followed)", name);
                } else if (k == C_NOT_REGULAR && s->stat_err == 0 && !S_ISREG(s->st.st_mode)) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is a %s, not an EVO segment (not opened)", name, evo_type_name(s->st.st_mode));
                } else if (k == C_NOT_REGULAR) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s changed while it was examined (%s): not read",
                                    name, s->open_err == -ELOOP ? "it became a symlink" : "replaced or not a regular file");
                } else if (k == C_FOREIGN) {
                        f = fnd_add(fs, SEV_INFO, "evo.not_segment", "%s is not an EVO segment: %s; no .lock or .meta, unknown name, "
                                    "nobody maps it", name, why.s);
                }
                if (f) {
                        fnd_subject(f, "%s", name);
                        if (s->link) {
                                /* The target stays out of the summary: a bundle keeps absolute
                                 * link targets in its manifest only, so --from cannot read it. */
                                _cleanup_free_ char *t = str_printable(s->link);
                                fnd_actual(f, "symlink to %s, owner %s", t, own);
                        } else if (own) {
                                fnd_actual(f, "%s, mode %04o, owner %s, %" PRIu64 " bytes", evo_type_name(s->st.st_mode),
                                           (unsigned)(s->st.st_mode & 07777), own, (uint64_t)s->st.st_size);
                        }
                        _cleanup_free_ char *w = shell_quote(s->path);
                        fnd_remedy(f, "ls -la %s; lsof %s   # find who made it, then remove or rename it", w, w);
                        fnd_evidence(f, "%s (lstat%s)", s->path, k == C_FOREIGN ? ", header bytes" : "");
                }
                sb_free(&why);
        }
}

/* "rm /dev/shm/evo_x /dev/shm/evo_x.lock" — exactly the files that exist. */
char *evo_rm_command(const struct scan *sc, const struct seg *s)
{
        struct strbuf b = {0};
        _cleanup_free_ char *w = shell_quote(s->path);
        sb_printf(&b, "rm %s", w);
        _cleanup_free_ char *lock = xasprintf("%s.lock", s->fname);
        if (evo_listed(sc->locks, sc->nlocks, lock)) {
                _cleanup_free_ char *lp = xasprintf("%s/%s", SHM_DIR, lock), *lw = shell_quote(lp);
                sb_printf(&b, " %s", lw);
        }
        /* The .meta belongs to this generation only if it names this writer. */
        if (s->meta_fname && (!s->meta_ok || !s->meta.has_pid || s->meta.writer_pid == s->wpid)) {
                _cleanup_free_ char *mp = xasprintf("%s/%s", SHM_DIR, s->meta_fname), *mw = shell_quote(mp);
                sb_printf(&b, " %s", mw);
        }
        return sb_steal(&b);
}

void evo_check_corrupt(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, checked = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                struct strbuf why = {0};
                enum seg_class k = evo_classify(s, &why);
                checked += evo_is_evo(k);
                if (k != C_CORRUPT) {
                        sb_free(&why);
                        continue;
                }
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *rm = evo_rm_command(sc, s);
                struct finding *f = fnd_add(fs, SEV_CRIT, "evo.corrupt", "%s is corrupt: %s", name, why.s);
                fnd_subject(f, "%s", name);
                fnd_expected(f, "EVO magic, the whole header, header + payload within the file");
                char sz[32];
                fnd_actual(f, "%s, %s header bytes read (%s)", fmt_bytes((uint64_t)s->st.st_size, sz),
                           s->hdr_len ? "" : "no", evo_layout_name(s->h.layout));
                if (s->writer == EVO_WRITER_ALIVE && s->wpid > 0)
                        fnd_remedy(f, "kill %d   # stop its writer, then: %s, and start the writer again", s->wpid, rm);
                else
                        fnd_remedy(f, "%s   # then start the writer again; readers must re-attach", rm);
                fnd_evidence(f, "%s (header bytes, lstat)", s->path);
                sb_free(&why);
        }
        struct finding *f;
        if (!n && (f = evo_ok_or_skipped(c, sc, fs, "evo.corrupt", checked, "%zu EVO %s with a sound header", checked,
                                     checked == 1 ? "segment" : "segments"))) {
                fnd_expected(f, "EVO magic, the whole header, header + payload within the file");
                fnd_evidence(f, "%s/evo_* (headers)", SHM_DIR);
        }
}

void evo_check_unknown_names(struct ctx *c, struct scan *sc, struct findings *fs)
{
        size_t n = 0, valid = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                if (evo_classify(s, NULL) != C_VALID)
                        continue;
                valid++;
                if (evo_name_known(s->base, s->h.layout))
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *base = str_printable(s->base);
                struct finding *f = fnd_add(fs, SEV_INFO, "evo.unknown_name", "%s: '%s' is not a segment name evo-core uses", name, base);
                fnd_subject(f, "%s", name);
                fnd_expected(f, s->h.layout == EVO_LAYOUT_P2P ? "one of the 15 P2P names (hal_cu, cu_hal, cu_mqt, ...)"
                                                              : "one of the 15 legacy names (evo_hal_sensors, ...) or a P2P name");
                fnd_actual(f, "%s (%s)", base, evo_layout_name(s->h.layout));
                fnd_remedy(f, "ls %s | grep evo_   # compare with the name the readers open (spelling, case)", SHM_DIR);
                fnd_evidence(f, "%s", SHM_DIR);
        }
        struct finding *f;
        if (!n && (f = evo_ok_or_skipped(c, sc, fs, "evo.unknown_name", valid, "%zu segment %s evo-core's", valid,
                                     valid == 1 ? "name is" : "names are")))
                fnd_evidence(f, "%s", SHM_DIR);
}

void evo_check_permissions(struct scan *sc, struct findings *fs)
{
        size_t n = 0, checked = 0;
        for (size_t i = 0; i < sc->n; i++) {
                struct seg *s = &sc->v[i];
                enum seg_class k = evo_classify(s, NULL);
                if (!evo_is_evo(k) && k != C_UNOPENED)
                        continue;
                checked++;
                enum evo_layout l = s->dec == 0 || s->dec == -ENODATA ? s->h.layout : s->wlayout;
                const char *dp = evo_mode_problem(s->st.st_mode, l);
                const char *lp = s->lock_exists ? evo_lock_mode_problem(s->lock_st.st_mode) : NULL;
                if (!dp && !lp)
                        continue;
                n++;
                _cleanup_free_ char *name = str_printable(s->fname), *w = shell_quote(s->path), *own = evo_owner(sc, s->st.st_uid, s->st.st_gid);
                struct finding *f;
                if (dp && lp)
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s (mode %04o) is %s; and %s (mode %04o)", name,
                                    (unsigned)(s->st.st_mode & 07777), dp, lp, (unsigned)(s->lock_st.st_mode & 07777));
                else if (dp)
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s (mode %04o) is %s", name, (unsigned)(s->st.st_mode & 07777), dp);
                else
                        f = fnd_add(fs, SEV_WARN, "evo.permissions", "%s: %s (mode %04o)", name, lp, (unsigned)(s->lock_st.st_mode & 07777));
                fnd_subject(f, "%s", name);
                fnd_expected(f, "0600 as evo-core creates it (shared reading: 0640 with group evo; legacy 0660); .lock 0600");
                fnd_actual(f, "mode %04o, owner %s%s", (unsigned)(s->st.st_mode & 07777), own, s->lock_exists ? "" : ", no .lock");
                struct strbuf r = {0};
                if (dp)
                        sb_printf(&r, "chmod %s %s", l == EVO_LAYOUT_P2P ? "640" : "660", w);
                if (lp) {
                        _cleanup_free_ char *lpth = xasprintf("%s.lock", s->path), *lw = shell_quote(lpth);
                        sb_printf(&r, "%schmod 600 %s", r.len ? " && " : "", lw);
                }
                sb_puts(&r, "   # and make the writer create it so: a new writer recreates it with its own mode");
                _cleanup_free_ char *rem = sb_steal(&r);
                fnd_remedy(f, "%s", rem);
                fnd_evidence(f, "%s (lstat)%s", s->path, s->lock_exists ? ", its .lock (lstat)" : "");
        }
        if (!n) {
                struct finding *f = fnd_add(fs, SEV_OK, "evo.permissions", "%zu %s: no data writable beyond owner%s, no .lock open to every user",
                                            checked, checked == 1 ? "segment" : "segments", " (and group for legacy)");
                fnd_expected(f, "no o+w; P2P no g+w; .lock not o+r/o+w");
                fnd_evidence(f, "%s/evo_* (lstat)", SHM_DIR);
        }
}

