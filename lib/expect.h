/* [expect] lists: what must be on this host, "name" or "name:value" items separated
 * by commas ("hal_cu:hal, cu_hal:cu", "hal_cu:100"). One parser for the config's
 * validation and for the checks that read them, so what loads is what is checked. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define EXPECT_MAX 256      /* items in one list */
#define EXPECT_NAME_MAX 200 /* bytes of a name or a value */

struct expect_item {
        char *name;
        char *value; /* after ':'; NULL when the item has none */
};

struct expect_list {
        struct expect_item *v;
        size_t n;
};

enum expect_value { EXPECT_NO_VALUE, EXPECT_VALUE_OPTIONAL, EXPECT_VALUE_REQUIRED };

/* Parses text into *out. Names and values are printable, without blanks, commas or ':'
 * (a value may not be empty); a name appears once. Returns 0, or -EINVAL with why in
 * *why (out empty). An empty text is an empty list. */
int expect_parse(const char *text, enum expect_value value, struct expect_list *out, char **why);
void expect_free(struct expect_list *l);
/* The item named name, or NULL. */
const struct expect_item *expect_find(const struct expect_list *l, const char *name);
/* A rate such as "100" or "0.5" (Hz): > 0 and at most 1e6. */
int expect_rate(const char *value, double *hz);

/* [ignore] findings: "ID" (every finding of a check) or "ID:SUBJECT" (one subject's;
 * the subject as the report shows it, no comma in it). */
struct ignore_item {
        char *id;
        char *subject; /* NULL: any */
};
struct ignore_list {
        struct ignore_item *v;
        size_t n;
};
int ignore_parse(const char *text, struct ignore_list *out, char **why);
void ignore_free(struct ignore_list *l);
bool ignore_match(const struct ignore_list *l, const char *id, const char *subject);
