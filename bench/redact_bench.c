/* Redaction timings on the inputs that made the regex version quadratic: one long
 * argument, a 1 MiB line, 300 command lines with 4,000-letter arguments, and the
 * pathological repeats the unit test guards against. Prints milliseconds per case.
 * Usage: bench/redact_bench [--obfuscate]   (bench/redact.sh runs it) */
#include "config.h"
#include "lib/redact.h"
#include "lib/util.h"

#include <time.h>

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *unit, size_t total, size_t *len)
{
        size_t u = strlen(unit);
        char *s = xmalloc(total + 1);
        for (size_t i = 0; i < total; i++)
                s[i] = unit[i % u];
        s[total] = 0;
        *len = total;
        return s;
}

static void run(struct redactor *r, const char *name, const char *in, size_t len, int reps)
{
        double best = 1e9;
        size_t outlen = 0;
        unsigned n = 0;
        for (int i = 0; i < reps; i++) {
                double t0 = now_s();
                char *o = redact(r, in, len, &outlen, &n);
                double dt = now_s() - t0;
                free(o);
                if (dt < best)
                        best = dt;
        }
        printf("%-44s %9zu bytes %10.2f ms  (%u redactions)\n", name, len, best * 1000, n);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        struct redactor *r = redactor_new();
        if (argc > 1 && streq(argv[1], "--obfuscate")) {
                static const uint8_t key[32] = {1};
                const char *hosts[] = {getenv("REDACT_BENCH_HOST") ? getenv("REDACT_BENCH_HOST") : "evo-cell-07", NULL};
                redactor_obfuscate(r, key, hosts);
        }
        const char *only = getenv("REDACT_BENCH_ONLY");
        size_t len;
        struct { const char *name, *unit; size_t size; } cases[] = {
                {"64 KiB argument, letters", "a", 64 << 10},
                {"64 KiB argument, 'a:' repeated", "a:", 64 << 10},
                {"1 MiB line, letters", "a", 1 << 20},
                {"1 MiB line, 'a:' repeated", "a:", 1 << 20},
                {"1 MiB line, 'https://' repeated", "https://", 1 << 20},
                {"1 MiB line, '@' repeated", "@", 1 << 20},
                {"1 MiB line, 'https://a@' repeated", "https://a@", 1 << 20},
                {"1 MiB line, 'password=' repeated", "password=", 1 << 20},
                {"1 MiB line, '--password ' repeated", "--password ", 1 << 20},
                {"1 MiB line, 'a=b&' repeated", "a=b&", 1 << 20},
                {"1 MiB line, '1.2.3.4:' repeated", "1.2.3.4:", 1 << 20},
                {"1 MiB line, 'ab:' repeated (IPv6-ish)", "ab:", 1 << 20},
                {"1 MiB line, '-----BEGIN ' repeated", "-----BEGIN ", 1 << 20},
                {"1 MiB, NUL-separated '--token'", "--token\0", 1 << 20},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                if (only && !strstr(cases[i].name, only))
                        continue;
                /* "--token\0": repeat() stops at the NUL, so build it by hand. */
                char *in;
                if (strstr(cases[i].name, "NUL-separated")) {
                        in = xmalloc(cases[i].size + 1);
                        for (size_t k = 0; k < cases[i].size; k++)
                                in[k] = "--token"[k % 8 == 7 ? 0 : k % 8] * (k % 8 != 7);
                        in[cases[i].size] = 0;
                        len = cases[i].size;
                } else {
                        in = repeat(cases[i].unit, cases[i].size, &len);
                }
                run(r, cases[i].name, in, len, 3);
                free(in);
        }
        if (!only || strstr("300 command lines", only)) {
                /* What `evodiag bundle` redacts for 300 processes that each have a
                 * 4,000-letter argument: 300 separate cmdlines. */
                struct strbuf one = {0};
                sb_puts(&one, "/usr/bin/python3");
                sb_putc(&one, 0);
                sb_puts(&one, "-c");
                sb_putc(&one, 0);
                for (int k = 0; k < 4000; k++)
                        sb_putc(&one, (char)('a' + k % 26));
                double t0 = now_s();
                for (int p = 0; p < 300; p++) {
                        size_t ol;
                        free(redact(r, one.s, one.len, &ol, NULL));
                }
                printf("%-44s %9zu bytes %10.2f ms  (all 300)\n", "300 cmdlines with a 4,000-letter argument", one.len * 300,
                       (now_s() - t0) * 1000);
                sb_free(&one);
        }
        redactor_free(r);
        return 0;
}
