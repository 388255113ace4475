/* Small helpers every part of evodiag uses: allocation that never returns NULL,
 * cleanup attributes (systemd style), a growable string buffer, and parsers for
 * the number formats /proc and /sys use. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF(1, 0);

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) (void)close(*fd); }
static inline void fclosep(FILE **f) { if (*f) (void)fclose(*f); }
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* Growable NUL-terminated buffer. */
struct strbuf {
        char *s;
        size_t len, cap;
};
void sb_putn(struct strbuf *b, const char *s, size_t n);
void sb_puts(struct strbuf *b, const char *s);
void sb_putc(struct strbuf *b, char c);
void sb_printf(struct strbuf *b, const char *fmt, ...) PRINTF(2, 3);
void sb_free(struct strbuf *b);
/* Hands the string over to the caller (never NULL) and resets the buffer. */
char *sb_steal(struct strbuf *b);

bool startswith(const char *s, const char *prefix);
/* Whether s is one of the strings of a NULL-terminated list (a NULL list has none). */
bool strv_contains(const char *const *list, const char *s);
/* Whether word is one of the comma-separated words of list ("a, b,c"): white space
 * around each word is ignored, an empty word never matches. */
bool list_has_word(const char *list, const char *word);
/* The next item of the comma-separated list at *p, white space stripped, empty items
 * skipped (allocated; NULL at the end). Advances *p. */
char *list_next(const char **p);
char *strstrip(char *s);           /* trims in place, returns s moved past leading space */
/* Next line of buf (NUL-terminated), advancing *pos; returns NULL at the end.
 * The returned line is NUL-terminated in place (buf is modified). */
char *next_line(char *buf, size_t *pos);

/* Strict number parsing: the whole string (after trimming) must be the number. */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);
int parse_double(const char *s, double *out);
/* Fields of kernel text (/proc/locks, /proc/PID/maps): the next field of *p separated by
 * blanks (spaces, tabs), *p moved past it; its start in *f, its length returned (0: none
 * left; a newline ends the text). */
size_t next_field(const char **p, const char **f);
/* The n characters at s as a number in base 10 or 16: 1..max_digits digits and nothing
 * else (no sign, blank or 0x), within 64 bits. 0 or -EINVAL. */
int parse_digits_u64(const char *s, size_t n, unsigned base, size_t max_digits, uint64_t *out);
/* "1.5 GiB" style, for messages. */
const char *fmt_bytes(uint64_t bytes, char buf[static 32]);
/* Duration like "500ms", "3s", "2m", "1h", "1d", "1h2m", "1m30s"; plain number = seconds. */
int parse_duration_ms(const char *s, uint64_t *out_ms);
/* "64M", "1.5G", "512k", "100" (bytes), "2MiB" -> bytes; -EINVAL otherwise. */
int parse_size(const char *s, uint64_t *out);

uint64_t now_ms_monotonic(void);
uint64_t now_ms_realtime(void);

/* Whether capability cap (CAP_PERFMON = 38, CAP_SYS_ADMIN = 21 ...) is in this process's
 * effective set (capget(2)): what the kernel checks, where a uid says nothing. */
bool self_has_cap(int cap);
