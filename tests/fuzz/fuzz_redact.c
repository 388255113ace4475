/* Redaction of every text that leaves the host: config files, command lines (NUL
 * separated), logs. Plain and with --obfuscate; the output is always a
 * NUL-terminated string of the length it reports. */
#include "tests/fuzz/fuzz.h"
#include "lib/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct redactor *plain, *obf;
        if (!plain) {
                static const uint8_t key[32] = {1, 2, 3};
                static const char *const hosts[] = {"cell-7", "cell-7.example.org", NULL};
                plain = redactor_new();
                obf = redactor_new();
                redactor_obfuscate(obf, key, hosts);
        }
        size_t n;
        unsigned count;
        char *out = redact(plain, (const char *)data, size, &n, &count);
        if (!out || out[n] != 0)
                abort();
        free(out);
        out = redact(obf, (const char *)data, size, &n, &count);
        if (!out || out[n] != 0)
                abort();
        free(out);
        char *s = fz_str(data, size);
        free(redact_str(plain, s, &count));
        free(s);
        return 0;
}
