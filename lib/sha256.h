/* SHA-256 and HMAC-SHA-256 for the bundle manifest and obfuscation, over nettle
 * (Debian's libnettle, already loaded by libarchive's dependencies): a thin wrapper so
 * callers keep one small API and never see the library's types. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Room for nettle's struct sha256_ctx (checked at compile time in sha256.c); the
 * header stays free of nettle's, whose macros would rename these functions. */
struct sha256 {
        _Alignas(8) unsigned char ctx[128];
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Lower-case hex of the digest into hex[65]. */
void sha256_hex(struct sha256 *s, char hex[65]);
/* HMAC-SHA-256 (RFC 2104) of msg under key. */
void hmac_sha256(const uint8_t *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32]);
