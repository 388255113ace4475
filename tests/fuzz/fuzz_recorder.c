/* The watch flight recorder's reader (`watch --replay`, bundles) on a damaged or
 * forged segment. Each input is read twice: as is (the CRC check rejects most
 * mutations), and with every record's CRC recomputed, so the payload decoders see
 * the mutated bytes too. Every item is also rendered as a timeline line. */
#include "tests/fuzz/fuzz.h"
#include "report/recorder.h"

static int item(void *arg, json_object *it)
{
        (void)arg;
        free(recorder_item_text(it));
        (void)json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN);
        return 0;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rec_stats st;
        memset(&st, 0, sizeof(st));
        (void)recorder_read_buffer("fuzz.rec", data, size, 0, item, NULL, &st);

        uint8_t *b = malloc(size ? size : 1);
        memcpy(b, data, size);
        for (size_t off = 0; off + REC_HEADER <= size;) {
                if (memcmp(b + off, REC_MAGIC, 4) != 0) {
                        off++;
                        continue;
                }
                uint32_t len = rd32(b + off + 8);
                size_t body = 5 + (size_t)len; /* length, type, payload */
                if (len > REC_PAYLOAD_MAX || off + 8 + body > size)
                        break;
                uint32_t crc = rec_crc32(b + off + 8, body);
                memcpy(b + off + 4, (uint8_t[4]){crc, crc >> 8, crc >> 16, crc >> 24}, 4);
                off += 8 + body;
        }
        memset(&st, 0, sizeof(st));
        (void)recorder_read_buffer("fuzz.rec", b, size, 1, item, NULL, &st);
        free(b);
        return 0;
}
