#include "config.h"
#include "lib/sha256.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdio.h>

/* nettle names its functions through macros (sha256_init -> nettle_sha256_init):
 * ours keep their names, and call nettle's by their real ones. */
#undef sha256_init
#undef sha256_update
#undef sha256_digest

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sha256 *)0)->ctx), "struct sha256 too small");
#define CTX(s) ((struct sha256_ctx *)(void *)(s)->ctx)

void sha256_init(struct sha256 *s) { nettle_sha256_init(CTX(s)); }

void sha256_update(struct sha256 *s, const void *data, size_t len) { nettle_sha256_update(CTX(s), len, data); }

void sha256_final(struct sha256 *s, uint8_t out[32]) { nettle_sha256_digest(CTX(s), SHA256_DIGEST_SIZE, out); }

void sha256_hex(struct sha256 *s, char hex[65])
{
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_final(s, d);
        for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void hmac_sha256(const uint8_t *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
        struct hmac_sha256_ctx h;
        nettle_hmac_sha256_set_key(&h, klen, key);
        nettle_hmac_sha256_update(&h, mlen, msg);
        nettle_hmac_sha256_digest(&h, SHA256_DIGEST_SIZE, out);
}
