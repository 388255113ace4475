/* Shared by the libFuzzer harnesses in tests/fuzz/ (built by `make fuzz` with clang,
 * -fsanitize=fuzzer,address,undefined). Each harness feeds one parser family with
 * bytes exactly as a hostile host, bundle or server could present them. */
#pragma once
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input: text parsers get what rootfs_read() gives them
 * (the bytes, then a NUL; an embedded NUL simply ends the text early, as it does there). */
static inline char *fz_str(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* Splits the input at the first NUL: a, then b (b is "" without a NUL). Both are new strings. */
static inline void fz_split(const uint8_t *data, size_t size, char **a, char **b)
{
        const uint8_t *z = memchr(data, 0, size);
        size_t na = z ? (size_t)(z - data) : size;
        *a = fz_str(data, na);
        *b = z ? fz_str(z + 1, size - na - 1) : fz_str(data, 0);
}
