/* evo: bundle evidence (evodiag bundle). Per segment: its header decoded as JSON
 * (class, problem, layout, fields, writer, .meta), a hexdump of the header bytes read,
 * its /proc/locks line and who maps it; the header bytes and the .meta themselves go in
 * as host/dev/shm/... through the rootfs snapshot, so `check --from` decodes the same. */
#include "config.h"
#include "collectors/evo_private.h"
#include "collectors/sink.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>

static char *artifact_name(const char *fname, const char *suffix)
{
        char *n = xasprintf("%s%s", fname, suffix);
        for (char *p = n; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
                        *p = '_';
        return n;
}

static json_object *jstr(const char *s) { return json_object_new_string(s); }
static json_object *ju64(uint64_t v) { return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v); }

static json_object *p2p_json(const struct evo_p2p *p)
{
        json_object *o = json_object_new_object();
        char hex[16], m[16];
        snprintf(hex, sizeof(hex), "0x%08" PRIx32, p->version_hash);
        json_object_object_add(o, "magic", jstr("EVO_P2P\\0"));
        json_object_object_add(o, "version_hash", jstr(hex));
        json_object_object_add(o, "version_hash_align", ju64(evo_version_hash_align(p->version_hash, p->payload_size)));
        json_object_object_add(o, "heartbeat", ju64(p->heartbeat));
        json_object_object_add(o, "source_module", ju64(p->source));
        json_object_object_add(o, "source", jstr(evo_module_str(p->source, m)));
        json_object_object_add(o, "dest_module", ju64(p->dest));
        json_object_object_add(o, "dest", jstr(evo_module_str(p->dest, m)));
        json_object_object_add(o, "payload_size", ju64(p->payload_size));
        json_object_object_add(o, "write_seq", ju64(p->write_seq));
        json_object_object_add(o, "write_in_progress", json_object_new_boolean(p->write_seq & 1));
        json_object_object_add(o, "padding_zero", json_object_new_boolean(p->padding_zero));
        return o;
}

static json_object *legacy_json(const struct evo_legacy *l)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "magic", jstr("EVO_SHM\\0"));
        json_object_object_add(o, "version", ju64(l->version));
        json_object_object_add(o, "writer_pid", ju64(l->writer_pid));
        json_object_object_add(o, "reader_count", ju64(l->reader_count));
        json_object_object_add(o, "size", ju64(l->size));
        json_object_object_add(o, "created_ts_ns", ju64(l->created_ts));
        json_object_object_add(o, "last_write_ts_ns", ju64(l->last_write_ts));
        json_object_object_add(o, "checksum", ju64(l->checksum));
        return o;
}

static json_object *header_json(const struct scan *sc, const struct seg *s)
{
        json_object *o = json_object_new_object();
        struct strbuf why = {0};
        enum seg_class k = evo_classify(s, &why);
        static const char *const cls[] = {"gone", "not_regular", "unopened", "not_evo", "corrupt", "valid"};
        json_object_object_add(o, "file", jstr(s->path));
        json_object_object_add(o, "class", jstr(cls[k]));
        if (why.len)
                json_object_object_add(o, "problem", jstr(why.s));
        sb_free(&why);
        if (s->stat_err == 0) {
                char mode[8];
                snprintf(mode, sizeof(mode), "%04o", (unsigned)(s->st.st_mode & 07777));
                json_object_object_add(o, "type", jstr(evo_type_name(s->st.st_mode)));
                json_object_object_add(o, "mode", jstr(mode));
                json_object_object_add(o, "uid", ju64(s->st.st_uid));
                json_object_object_add(o, "gid", ju64(s->st.st_gid));
                json_object_object_add(o, "size", ju64((uint64_t)s->st.st_size));
                json_object_object_add(o, "inode", ju64((uint64_t)s->st.st_ino));
        }
        if (s->link)
                json_object_object_add(o, "symlink_to", jstr(s->link));
        if (s->open_err)
                json_object_object_add(o, "open_error", jstr(strerror(-s->open_err)));
        if (s->opened) {
                json_object_object_add(o, "layout", jstr(evo_layout_name(s->h.layout)));
                json_object_object_add(o, "header_bytes_read", ju64(s->hdr_len));
                json_object_object_add(o, "read", jstr(evo_read_name(s->rs)));
                json_object_object_add(o, "read_attempts", ju64(s->tries));
                if (s->dec == 0 || s->dec == -ENODATA) {
                        json_object_object_add(o, "min_size", ju64(evo_min_size(&s->h)));
                        if (s->h.layout != EVO_LAYOUT_P2P)
                                json_object_object_add(o, "legacy", legacy_json(&s->h.legacy));
                        if (s->h.layout != EVO_LAYOUT_LEGACY)
                                json_object_object_add(o, "p2p", p2p_json(&s->h.p2p));
                }
        }
        json_object *w = json_object_new_object();
        json_object_object_add(w, "state", jstr(evo_writer_name(s->writer)));
        if (s->wpid) {
                json_object_object_add(w, "pid", ju64((uint64_t)s->wpid));
                const struct proc *p = evo_proc(sc, s->wpid);
                if (p)
                        json_object_object_add(w, "comm", jstr(p->comm));
        }
        if (s->wlayout == EVO_LAYOUT_P2P) {
                _cleanup_free_ char *lock = xasprintf("%s.lock", s->path);
                json_object_object_add(w, "lock", jstr(lock));
                json_object_object_add(w, "lock_exists", json_object_new_boolean(s->lock_exists));
                if (s->lock_exists)
                        json_object_object_add(w, "lock_inode", ju64((uint64_t)s->lock_st.st_ino));
                json_object_object_add(w, "lock_held", json_object_new_boolean(s->lock_held));
        } else if (s->wlayout != EVO_LAYOUT_NONE) {
                json_object_object_add(w, "from", jstr(s->dec == 0 && s->h.legacy.writer_pid ? "writer_pid" : "file name"));
                if (s->name_pid)
                        json_object_object_add(w, "file_name_pid", ju64((uint64_t)s->name_pid));
        }
        json_object_object_add(o, "writer", w);
        if (s->meta_fname) {
                json_object *m = json_object_new_object();
                json_object_object_add(m, "file", jstr(s->meta_fname));
                json_object_object_add(m, "parsed", json_object_new_boolean(s->meta_ok));
                if (s->meta_ok) {
                        json_object_object_add(m, "name", jstr(s->meta.name));
                        json_object_object_add(m, "size", ju64(s->meta.size));
                        json_object_object_add(m, "writer_pid", ju64((uint64_t)(s->meta.has_pid ? s->meta.writer_pid : 0)));
                        json_object_object_add(m, "reader_count", ju64(s->meta.reader_count));
                        if (s->meta.has_created)
                                json_object_object_add(m, "created_secs", ju64(s->meta.created_secs));
                }
                json_object_object_add(o, "meta", m);
        }
        return o;
}

static json_object *mappers_json(const struct scan *sc, const struct seg *s)
{
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        for (size_t i = 0; i < s->nm; i++) {
                json_object *m = json_object_new_object();
                const struct proc *p = evo_proc(sc, s->m[i].pid);
                json_object_object_add(m, "pid", ju64((uint64_t)s->m[i].pid));
                if (p)
                        json_object_object_add(m, "comm", jstr(p->comm));
                json_object_object_add(m, "writable", json_object_new_boolean(s->m[i].writable));
                json_object_object_add(m, "mappings", ju64(s->m[i].maps));
                json_object_object_add(m, "role", jstr(s->m[i].pid == s->wpid ? "writer" : "reader"));
                json_object_array_add(a, m);
        }
        json_object_object_add(o, "segment", jstr(s->path));
        json_object_object_add(o, "mappers", a);
        json_object_object_add(o, "maps_scanned", ju64(sc->mw.scanned));
        json_object_object_add(o, "maps_unreadable", ju64(sc->mw.unreadable));
        return o;
}

void evo_collect(struct ctx *c, struct bundle_sink *sink)
{
        struct scan sc = {0};
        evo_scan(c, &sc, false);
        for (size_t i = 0; i < sc.n && !sink->broken; i++) {
                const struct seg *s = &sc.v[i];
                _cleanup_free_ char *hj = artifact_name(s->fname, ".header.json"), *hx = artifact_name(s->fname, ".hexdump.txt");
                _cleanup_free_ char *lk = artifact_name(s->fname, ".locks.txt"), *mp = artifact_name(s->fname, ".mappers.json");
                json_object *o = header_json(&sc, s);
                sink_json(sink, hj, "derived", s->path, o);
                json_object_put(o);
                if (s->opened) {
                        struct strbuf b = {0};
                        evo_hexdump(s->hdr, s->hdr_len, &b);
                        sink_text(sink, hx, "derived", s->path, b.s ? b.s : "", b.len);
                        sb_free(&b);
                } else {
                        sink_missing(sink, hx, "derived", s->path, "skipped",
                                     s->stat_err < 0 ? "vanished" : !S_ISREG(s->st.st_mode) ? "not a regular file: not opened"
                                                                                             : strerror(-s->open_err));
                }
                if (s->lock_line)
                        sink_text(sink, lk, "derived", "/proc/locks", s->lock_line, strlen(s->lock_line));
                else if (s->wlayout == EVO_LAYOUT_P2P)
                        sink_missing(sink, lk, "derived", "/proc/locks", "skipped",
                                     s->lock_exists ? "no FLOCK line for its .lock: nobody holds it" : "no .lock file");
                o = mappers_json(&sc, s);
                sink_json(sink, mp, "derived", "/proc/*/maps", o);
                json_object_put(o);
                if (s->meta_fname) {
                        /* Only the bytes read_metas() read through evo_open_entry() (O_NOFOLLOW, the
                         * inode lstat saw), which are the snapshot: whoever made the .meta can
                         * swap its name for a symlink to /etc/shadow between an lstat and a read
                         * by path, and /dev/shm is anyone's. */
                        _cleanup_free_ char *path = xasprintf("%s/%s", SHM_DIR, s->meta_fname);
                        _cleanup_free_ char *dest = xasprintf("host%s", path);
                        char *d = NULL;
                        size_t dn;
                        if (!rootfs_snapshot_get(path, &d, &dn) && s->meta_raw)
                                rootfs_snapshot_put(path, s->meta_raw, s->meta_len); /* sink_file reads the snapshot */
                        free(d);
                        d = NULL;
                        bool have = rootfs_snapshot_get(path, &d, &dn);
                        free(d);
                        if (have)
                                sink_file(sink, path);
                        else
                                sink_missing(sink, dest, "file", path, "skipped",
                                             "not a regular file when it was opened (never read by its name)");
                }
        }
        evo_scan_free(&sc);
}

