/* EVO segment headers (P2P, legacy, intermediate) as read from /dev/shm/evo_*:
 * decode, judge, hexdump and the seqlock read over the bytes as a file. */
#include "tests/fuzz/fuzz.h"
#include "collectors/evo.h"

struct buf {
        const uint8_t *d;
        size_t n;
};

static ssize_t buf_pread(void *arg, void *out, size_t n, uint64_t off)
{
        const struct buf *b = arg;
        if (off >= b->n)
                return 0;
        if (n > b->n - off)
                n = b->n - (size_t)off;
        memcpy(out, b->d + off, n);
        return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t need;
        enum evo_layout l = evo_layout_of(data, size, &need);
        (void)evo_layout_name(l);
        struct evo_header h;
        if (evo_decode(data, size, &h) == 0) {
                char why[256];
                (void)evo_header_problem(&h, why, sizeof(why));
                (void)evo_min_size(&h);
                (void)evo_progress(&h);
                (void)evo_seq_odd(&h);
                (void)evo_module_name(h.p2p.source);
                (void)evo_module_name(h.p2p.dest);
                (void)evo_version_hash_align(h.p2p.version_hash, h.p2p.payload_size);
                size_t off;
                unsigned width, tries;
                evo_seq_field(h.layout, &off, &width);
                struct buf b = {data, size};
                uint8_t copy[EVO_HDR_MAX];
                (void)evo_seqlock_read(buf_pread, &b, off, width, copy, need < sizeof(copy) ? need : sizeof(copy), 3, 0, &tries);
        }
        struct strbuf hd = {0};
        evo_hexdump(data, size < 4096 ? size : 4096, &hd);
        sb_free(&hd);
        return 0;
}
