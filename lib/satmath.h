/* Saturating arithmetic on values read from the host: a broken or hostile file may
 * hold any number, and an overflow must clamp (and stay visibly huge), never wrap. */
#pragma once
#include <errno.h>
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

/* A number from outside (JSON, Prometheus text) as an integer, never an undefined
 * double-to-integer conversion (1e308 once became "0 B free"): 0, -ERANGE when it is
 * NaN, infinite or outside the type, -EDOM when it is not whole. */
static inline int num_to_u64(double d, uint64_t *out)
{
        if (!(d >= 0.0 && d < 18446744073709551616.0)) /* NaN fails too */
                return -ERANGE;
        uint64_t v = (uint64_t)d;
        if ((double)v != d)
                return -EDOM;
        *out = v;
        return 0;
}

static inline int num_to_i64(double d, int64_t *out)
{
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
                return -ERANGE;
        int64_t v = (int64_t)d;
        if ((double)v != d)
                return -EDOM;
        *out = v;
        return 0;
}
