/* The redactor's state, shared by the scanners (lib/redact.c) and obfuscation
 * (lib/redact_obfuscate.c). Not for use outside lib/redact*.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/util.h"

struct mapping {
        char *from, *to;
};

struct redactor {
        bool obfuscate;
        uint8_t key[32];
        char **hostnames;
        struct mapping *map; /* in insertion order (the mapping file) */
        size_t nmap, capmap;
        size_t *slots;       /* open addressing over map: index + 1, 0 = empty */
        size_t nslots;
};

/* Which part of a value is secret: all; after its first ':' (user:PW), '%' or ','; all
 * if it looks like a token; all unless a port or a path; a JSON value (quoted or not). */
enum part { P_ALL, P_COLON, P_PERCENT, P_COMMA, P_TOKEN, P_GUARDED, P_JSON };
enum { F_NEXT = 1, F_ATTACHED = 2, F_BOTH = 3 };

struct toolflag {
        char letter;
        const char *longname; /* the same option spelt long, in this tool */
        unsigned how;
        enum part part;
};

struct tool {
        const char *const *names;
        struct toolflag flags[3];
};

/* lib/redact_rules.c: which names and tools mean a secret. */
/* Does a key, variable or option name name a secret? (words split at punctuation) */
bool secret_name(const char *name, size_t n);
/* A flag that is on or off, never followed by a value ("--no-auth", "--use-token"). */
bool boolean_flag(const char *name, size_t n);
/* The tool whose short flags carry secrets that a command word names, or NULL. */
const struct tool *tool_named(const char *w, size_t n);

/* --obfuscate: each replaces the address or host name at s[0..n) by its keyed stand-in,
 * appending to out; returns the number of replacements. */
unsigned obf_mac(struct redactor *r, const char *s, size_t n, struct strbuf *out);
unsigned obf_ipv4(struct redactor *r, const char *s, size_t n, struct strbuf *out);
unsigned obf_ipv6(struct redactor *r, const char *s, size_t n, struct strbuf *out);
unsigned obf_host(struct redactor *r, const char *h, const char *s, size_t n, struct strbuf *out);
