/* nvidia-smi -q: the indented "Key : Value" tree, alone and on top of a CSV table
 * (input split at the first NUL: CSV, then -q), as the collector merges them. */
#include "tests/fuzz/fuzz.h"
#include "lib/gpuprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct gpu_snapshot g = {0};
        (void)gpu_q_parse(s, &g);
        gpu_snapshot_free(&g);
        char *a, *b;
        fz_split(data, size, &a, &b);
        (void)gpu_csv_parse(a, &g);
        (void)gpu_q_parse(b, &g);
        gpu_snapshot_free(&g);
        free(a);
        free(b);
        free(s);
        return 0;
}
