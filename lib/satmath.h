/* Saturating arithmetic on values read from the host: a broken or hostile file may
 * hold any number, and an overflow must clamp (and stay visibly huge), never wrap. */
#pragma once
#include <stdint.h>

static inline uint64_t sat_add_u64(uint64_t a, uint64_t b)
{
        uint64_t r;
        return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t sat_mul_u64(uint64_t a, uint64_t b)
{
        uint64_t r;
        return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
