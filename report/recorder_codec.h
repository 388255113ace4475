/* The recorder's record format, shared by its writer (recorder.c) and reader
 * (recorder_read.c): little-endian and LEB128 numbers, length-prefixed strings, and
 * what makes a record valid (report/recorder.h describes the layout). Private to
 * the recorder's files. */
#pragma once
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/finding.h"
#include "lib/util.h"

#define READ_CAP (1ull << 30) /* a segment is at most half of --record-max; refuse absurd files */

static inline void put_u8(struct strbuf *b, unsigned v)
{
        char c = (char)(v & 0xff);
        sb_putn(b, &c, 1);
}

static inline void put_le(struct strbuf *b, uint64_t v, int n)
{
        char c[8];
        for (int i = 0; i < n; i++)
                c[i] = (char)((v >> (8 * i)) & 0xff);
        sb_putn(b, c, (size_t)n);
}

static inline void put_var(struct strbuf *b, uint64_t v)
{
        char c[10];
        int n = 0;
        do {
                c[n] = (char)(v & 0x7f);
                v >>= 7;
                if (v)
                        c[n] |= (char)0x80;
                n++;
        } while (v);
        sb_putn(b, c, (size_t)n);
}

static inline void put_str(struct strbuf *b, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        put_var(b, n);
        if (n)
                sb_putn(b, s, n);
}

struct rd {
        const unsigned char *p, *end;
        bool bad;
};

static inline unsigned get_u8(struct rd *r)
{
        if (r->p >= r->end) {
                r->bad = true;
                return 0;
        }
        return *r->p++;
}

static inline uint64_t get_le(struct rd *r, int n)
{
        if (r->end - r->p < n) {
                r->bad = true;
                return 0;
        }
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
                v |= (uint64_t)r->p[i] << (8 * i);
        r->p += n;
        return v;
}

static inline uint64_t get_var(struct rd *r)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end) {
                        r->bad = true;
                        return 0;
                }
                unsigned c = *r->p++;
                v |= (uint64_t)(c & 0x7f) << shift;
                if (!(c & 0x80))
                        return v;
        }
        r->bad = true;
        return 0;
}

/* A new string, or NULL for an empty one (no subject). */
static inline char *get_str(struct rd *r)
{
        uint64_t n = get_var(r);
        if (r->bad || n > (uint64_t)(r->end - r->p)) {
                r->bad = true;
                return NULL;
        }
        char *s = n ? xstrndup((const char *)r->p, (size_t)n) : NULL;
        r->p += n;
        return s;
}

static inline bool sev_ok(unsigned v) { return v < _SEV_MAX; }

/* Values stored as integers (exactly): whole, non-negative, below 2^53. */
static inline bool is_int(double v)
{
        return isfinite(v) && v >= 0 && v < 9007199254740992.0 && v == floor(v);
}

/* A whole, valid record at off: its total length, else 0. */
size_t rec_valid_at(const unsigned char *buf, size_t len, size_t off);
/* Where the valid records of a segment end (what follows is torn or damaged);
 * *any: at least one is valid. */
uint64_t rec_valid_end(const unsigned char *buf, size_t len, bool *any);
/* A segment file, whole (at most READ_CAP): 0, -errno, -EINVAL when not a regular file. */
int rec_read_whole(const char *path, unsigned char **buf, size_t *len);
