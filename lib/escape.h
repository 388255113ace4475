/* Escaping for where output lands. Process names and arguments, file and segment
 * names, API replies and bundle contents are chosen by whoever made them; every
 * renderer passes such values through one of these before a person or a parser
 * reads them. One rule per output context:
 *
 *   text      (terminal, summary.txt, watch, stderr) control characters shown
 *             escaped: \e \n \t \r \a \b \f \v, \xNN for other C0 and DEL, \xNN
 *             for each byte that is not valid UTF-8, \uNNNN for C1 code points
 *             (U+0080-U+009F), the bidirectional controls and U+2028/U+2029.
 *             Valid UTF-8 text passes unchanged; a backslash is not doubled.
 *   nagios    text rule on one line; '|' (would start perfdata) becomes U+00A6 '¦';
 *             perfdata labels quoted (where not plain) per the monitoring-plugins
 *             guidelines, '' for a quote, no '='.
 *   prometheus label values: text rule with '\' doubled (so distinct names stay
 *             distinct), then '\' and '"' escaped for the exposition format.
 *   json      strings are valid UTF-8: a byte that is not part of valid UTF-8 is
 *             read as Latin-1 (0xNN -> U+00NN); json_text() writes every control
 *             character (C0, DEL, C1), bidi control and U+2028/9 as \uNNNN.
 *   markdown  text: HTML (<>&) as entities, Markdown punctuation backslash-escaped
 *             ('|' included, so table cells stay cells), '@name' inside a code span
 *             (no mention, no e-mail autolink), newlines as spaces, controls per
 *             the text rule. Code span: fenced by a backtick run longer than any run
 *             inside, padded with a space where CommonMark would strip one, '|' as
 *             '\|' in table rows. Code block: controls per the text rule but lines
 *             kept; md_longest_run() lets the fence be made longer than any run inside.
 *
 * All functions append to a strbuf and never fail; NULL is the empty string. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "lib/util.h"

/* esc_text flags */
#define ESC_KEEP_NL 0x1  /* '\n' passes (multi-line blocks) */
#define ESC_KEEP_TAB 0x2 /* '\t' passes */
#define ESC_NL_SPACE 0x4 /* '\n' and '\r' become a space (inline Markdown) */
#define ESC_BACKSLASH 0x8 /* '\' doubled: distinct inputs give distinct outputs */
#define ESC_KEEP_8BIT 0x10 /* bytes >= 0x80 pass as they are (only C0 and DEL escaped) */
#define ESC_ASCII 0x20    /* ASCII only (a terminal that is not UTF-8): the punctuation our texts
                             use spelled in ASCII (an em dash as "--", "..." for an ellipsis),
                             any other code point as \uNNNN */

/* Length (1-4) of the valid UTF-8 sequence at s[0..n) and its code point in *cp,
 * or 0 if s[0] starts no valid sequence (overlong, surrogate, > U+10FFFF, cut). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
bool utf8_valid(const char *s, size_t n);
/* Code points that steer a terminal or reorder text: C0, DEL, C1, the bidi
 * controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and U+2028/U+2029. */
bool codepoint_is_control(uint32_t cp);

void esc_text_n(struct strbuf *b, const char *s, size_t n, unsigned flags);
/* True when the locale's character set is not UTF-8 (LC_ALL=C, POSIX): text for
 * the terminal then uses ESC_ASCII. Needs setlocale(LC_CTYPE, "") first (main does). */
bool locale_ascii(void);
/* fputs of our own text (headings, help) with ESC_ASCII applied when locale_ascii(). */
void fputs_locale(const char *s, FILE *out);
void esc_text(struct strbuf *b, const char *s, unsigned flags);
/* A malloc'd copy of s escaped for a terminal (one line; flags 0). */
char *esc_text_dup(const char *s);

void esc_nagios_text(struct strbuf *b, const char *s, size_t max_bytes);
void esc_nagios_label(struct strbuf *b, const char *label);

void esc_prom_label_value(struct strbuf *b, const char *s);

/* Markdown. table: the value sits in a GFM table row. */
void esc_md_text(struct strbuf *b, const char *s, bool table, bool line_start);
void esc_md_code(struct strbuf *b, const char *s, bool table);
void esc_md_block(struct strbuf *b, const char *s);
/* Longest run of c in s[0..n) (to size a code fence). */
size_t md_longest_run(const char *s, size_t n, char c);

/* JSON: a malloc'd valid UTF-8 copy of s[0..n) (invalid bytes read as Latin-1). */
char *utf8_sanitize(const char *s, size_t n);
/* A json-c string holding s made valid UTF-8 (NULL s: JSON null). */
json_object *json_string_utf8(const char *s);
/* Makes every string and key in the tree valid UTF-8, in place. */
void json_sanitize(json_object *o);
/* json_sanitize() + json_object_to_json_string_ext(flags) + every control
 * character written as \uNNNN: a malloc'd document that is valid UTF-8 and has
 * no raw control byte but the newlines of JSON_C_TO_STRING_PRETTY. */
char *json_text(json_object *o, int flags);
/* json_text(o, flags) of a large document without its whole tree: o holds the key
 * `key` (at any depth, once) with an empty array, and the text is written as if that
 * array held n elements, each written by elem(arg, i, put, put_arg) (its own
 * json_text, or a json_text_spliced of its own), handed to put piece by piece with
 * the indentation of its depth. With JSON_C_TO_STRING_PRETTY only; false (nothing
 * written) when o has no such empty array. */
typedef void json_put_fn(void *put_arg, const char *text, size_t len);
bool json_text_spliced(json_object *o, int flags, const char *key, size_t n,
                       void (*elem)(void *arg, size_t i, json_put_fn *put, void *put_arg), void *arg, json_put_fn *put,
                       void *put_arg);

/* Names from other users' files (segments, comms): ASCII control characters shown
 * escaped (\n, \e, \xNN: lib/escape.h's text rule) before they reach a finding;
 * bytes >= 0x80 are left to the renderers (JSON reads them as Latin-1, so a name
 * looks the same live and through a bundle). */
char *str_printable(const char *s);
/* A word the shell takes literally, for remedies: as is when plain, else '…' quoted,
 * or $'…' with the same escapes when it holds control characters or non-UTF-8 bytes. */
char *shell_quote(const char *s);
