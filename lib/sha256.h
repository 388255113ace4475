/* SHA-256 (FIPS 180-4) for the bundle manifest. None of evodiag's fixed libraries
 * exposes a digest API, so this small, test-vector-checked implementation is here. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t n;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Lower-case hex of the digest into hex[65]. */
void sha256_hex(struct sha256 *s, char hex[65]);
