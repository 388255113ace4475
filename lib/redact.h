/* Redaction: secrets never leave the host. Every text artifact of a bundle, its
 * manifest, its log, every finding (lib/finding.c) and error messages that can
 * hold URLs pass through here. Linear time: hand-written scanners, no regexes.
 * Rules (README.md "What is redacted"):
 * - key = value / key: value lines and name=value words whose name says secret
 *   (pass, pwd, secret, token, key, credential, auth, signature …: INI, TOML, env,
 *   YAML, JSON, kernel command lines, URL query strings, -o a=b,c=d lists);
 * - command-line flags: --db-pass PW, --token=X, -password PW, in NUL-separated
 *   /proc/PID/cmdline and in space-joined text; tools' own short flags in their
 *   context (mysql -pPW, sshpass -p, redis-cli -a, curl -u user:PW, …), -P PW;
 * - URL userinfo (user:pass@, a token as user@, passwords holding '@');
 * - Authorization/Cookie headers, Bearer/Basic tokens, AWS/GitHub/GitLab/Slack
 *   token formats, PEM private key blocks.
 * --obfuscate also maps host names, IPv4/IPv6 and MAC addresses to consistent
 * stand-ins (keyed HMAC), kept in a local mapping. */
#pragma once
#include "lib/sha256.h" /* hmac_sha256 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redactor;

struct redactor *redactor_new(void);
/* Turns on obfuscation with a 32-byte key; `hostnames` (NULL-terminated) are the
 * names to replace besides addresses. */
void redactor_obfuscate(struct redactor *r, const uint8_t key[32], const char *const *hostnames);
void redactor_free(struct redactor *r);

/* Returns a new buffer (NUL-terminated, *out_len bytes) with secrets replaced;
 * *count is the number of replacements. Lines are separated by \n, arguments of
 * a cmdline by \0; both are kept. */
char *redact(struct redactor *r, const char *in, size_t len, size_t *out_len, unsigned *count);
/* Convenience for one NUL-terminated string (log lines, command lines). */
char *redact_str(struct redactor *r, const char *s, unsigned *count);
/* Secrets only, no redactor needed (no obfuscation): findings, messages. NULL is "". */
char *redact_secrets(const char *s, unsigned *count);
/* Writes "original\treplacement" lines of the obfuscation mapping to path (0600). */
int redactor_save_mapping(struct redactor *r, const char *path);

/* The obfuscation mapping made so far (children send theirs to the parent). */
size_t redactor_mapping_count(const struct redactor *r);
const char *redactor_mapping(const struct redactor *r, size_t i, const char **to);
void redactor_add_mapping(struct redactor *r, const char *from, const char *to);
bool redactor_obfuscating(const struct redactor *r);

