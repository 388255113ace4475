/* The evo collector's verdicts, one function each, shared by check() (collectors/evo_check*.c)
 * and watch's sample() (collectors/evo_sample.c): whether a file is a sound EVO segment,
 * who writes it and whether that writer lives, whether anything was ever committed, whether
 * the heartbeat advances and at what rate, whether a write was left half-done. Both callers
 * gather the facts their own way (check: one scan and two samples; watch: one header per
 * interval) and ask here, so `evodiag check` and `evodiag watch` cannot judge the same
 * segment differently. Pure functions: tests/unit/test_evo.c calls them directly. */
#include "config.h"
#include "collectors/evo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *evo_writer_name(enum evo_writer w)
{
        static const char *const n[] = {"unknown", "alive", "gone"};
        return w <= EVO_WRITER_DEAD ? n[w] : "?";
}

int evo_legacy_writer_pid(const struct evo_header *h, int name_pid)
{
        if (h && h->legacy.writer_pid && h->legacy.writer_pid <= INT32_MAX)
                return (int)h->legacy.writer_pid;
        return name_pid > 0 ? name_pid : 0;
}

enum evo_layout evo_writer_layout(int dec, const struct evo_header *h, bool lock_exists, int name_pid)
{
        if (dec == 0 || dec == -ENODATA)
                return h->layout;
        if (lock_exists)
                return EVO_LAYOUT_P2P;
        if (name_pid > 0)
                return EVO_LAYOUT_LEGACY;
        return EVO_LAYOUT_NONE;
}

enum evo_writer evo_writer_verdict(const struct evo_writer_facts *f)
{
        switch (f->layout) {
        case EVO_LAYOUT_P2P:
                if (!f->lock_exists)
                        return EVO_WRITER_DEAD;
                if (!f->locks_read)
                        return EVO_WRITER_UNKNOWN;
                return f->lock_held ? EVO_WRITER_ALIVE : EVO_WRITER_DEAD;
        case EVO_LAYOUT_LEGACY:
        case EVO_LAYOUT_INTERMEDIATE:
                if (f->pid <= 0 || !f->pids_known)
                        return EVO_WRITER_UNKNOWN;
                return f->pid_alive ? EVO_WRITER_ALIVE : EVO_WRITER_DEAD;
        default:
                return EVO_WRITER_UNKNOWN;
        }
}

enum severity evo_orphaned_sev(enum evo_writer w)
{
        return w == EVO_WRITER_DEAD ? SEV_CRIT : w == EVO_WRITER_ALIVE ? SEV_OK : SEV_UNKNOWN;
}

enum severity evo_unopened_sev(int err, bool is_root)
{
        return err == -EACCES && !is_root ? SEV_SKIPPED : SEV_UNKNOWN;
}

const char *evo_tie(const char *fname, bool lock_exists, bool meta_exists, size_t mappers, const uint8_t *hdr,
                    size_t hdr_len, char *buf, size_t n)
{
        char *base = NULL;
        int pid;
        bool legacy = evo_name_legacy(fname, &base, &pid);
        const char *name = startswith(fname, "evo_") ? fname + 4 : fname;
        if (lock_exists)
                snprintf(buf, n, "%s.lock exists", fname);
        else if (meta_exists && legacy)
                snprintf(buf, n, "evo_%s.meta exists", base);
        else if (evo_name_known(legacy ? base : name, EVO_LAYOUT_LEGACY) || evo_name_known(name, EVO_LAYOUT_P2P))
                snprintf(buf, n, "its name is an evo-core segment's");
        else if (mappers)
                snprintf(buf, n, "%zu process%s map%s it", mappers, mappers == 1 ? "" : "es", mappers == 1 ? "s" : "");
        else if (hdr_len >= 4 && (!memcmp(hdr, "EVO_", 4) || !memcmp(hdr, "\0MHS", 4)))
                snprintf(buf, n, "it starts like an EVO magic");
        else
                buf = NULL;
        free(base);
        return buf;
}

enum evo_hdr_class evo_header_class(const uint8_t *hdr, size_t hdr_len, enum evo_read rs, uint64_t file_size,
                                    const char *tie, struct evo_header *h, int *dec, struct strbuf *why)
{
        *dec = evo_decode(hdr, hdr_len, h);
        if (*dec == -EBADMSG) {
                if (why) {
                        if (hdr_len < 8)
                                sb_printf(why, "%" PRIu64 " bytes: too short for any EVO header", file_size);
                        else
                                sb_printf(why, "no EVO magic (first bytes %02x %02x %02x %02x %02x %02x %02x %02x)", hdr[0], hdr[1],
                                          hdr[2], hdr[3], hdr[4], hdr[5], hdr[6], hdr[7]);
                        if (tie)
                                sb_printf(why, ", but %s", tie);
                }
                return tie ? EVO_HDR_CORRUPT : EVO_HDR_NOT_EVO;
        }
        if (*dec < 0) {
                size_t need;
                (void)evo_layout_of(hdr, hdr_len, &need);
                if (why)
                        sb_printf(why, "%" PRIu64 " bytes: shorter than the %zu-byte %s header its magic announces", file_size, need,
                                  evo_layout_name(h->layout));
                return EVO_HDR_CORRUPT;
        }
        /* Without a consistent copy the P2P sequence may be mid-commit: judge it only on a
         * stable read (the legacy fields do not move, so they are judged anyway). */
        char buf[192];
        if (evo_header_problem(h, buf, sizeof(buf)) &&
            (rs == EVO_READ_STABLE || (h->layout != EVO_LAYOUT_P2P && !startswith(buf, "write_seq")))) {
                if (why)
                        sb_puts(why, buf);
                return EVO_HDR_CORRUPT;
        }
        uint64_t min = evo_min_size(h);
        if (file_size < min) {
                if (why)
                        sb_printf(why, "%" PRIu64 " bytes, but its header declares %" PRIu64 ": readers that map it get SIGBUS past the end",
                                  file_size, min);
                return EVO_HDR_CORRUPT;
        }
        return EVO_HDR_SOUND;
}

bool evo_never_committed_sev(enum evo_hdr_class k, const struct evo_header *h, enum severity *sev)
{
        if (k != EVO_HDR_SOUND)
                return false;
        uint64_t v = h->layout == EVO_LAYOUT_LEGACY ? h->legacy.version : h->p2p.heartbeat;
        *sev = v ? SEV_OK : SEV_WARN;
        return true;
}

bool evo_stalled_sev(enum evo_hdr_class k, const struct evo_header *before, const struct evo_header *after,
                     enum evo_writer w, enum severity *sev)
{
        if (k != EVO_HDR_SOUND || before->layout != after->layout || w != EVO_WRITER_ALIVE)
                return false;
        uint64_t a = evo_progress(before), b = evo_progress(after);
        if (!b)
                return false; /* nothing committed (now): evo.never_committed says it */
        if (a != b)
                *sev = SEV_OK;
        else /* legacy segments are written when data changes, not every cycle */
                *sev = after->layout == EVO_LAYOUT_LEGACY ? SEV_INFO : SEV_CRIT;
        return true;
}

double evo_rate_hz(const struct evo_header *before, const struct evo_header *after, uint64_t dt_ns)
{
        uint64_t a = evo_progress(before), b = evo_progress(after);
        return b > a && dt_ns ? (double)(b - a) * 1e9 / (double)dt_ns : 0;
}

bool evo_write_seq_sev(const struct evo_header *before, const struct evo_header *after, enum severity *sev)
{
        if (before->layout == EVO_LAYOUT_NONE || before->layout != after->layout)
                return false;
        *sev = evo_seq_odd(before) && evo_seq_odd(after) ? SEV_CRIT : SEV_OK;
        return true;
}
