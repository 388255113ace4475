/* lib/jsonparse: a whole reply as one JSON value (moved here from the lavinmq collector). */
#include "config.h"
#include "lib/jsonparse.h"
#include "lib/util.h"

#include <ctype.h>
#include <stdint.h>

json_object *json_parse_whole(const char *body, size_t len, char **err)
{
        if (len > INT32_MAX) {
                *err = xstrdup("reply too large");
                return NULL;
        }
        struct json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, body, (int)len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (e == json_tokener_continue || (!o && e == json_tokener_success)) {
                *err = xasprintf("not JSON: the reply ends early (%zu bytes)", len);
                return NULL;
        }
        if (!o || e != json_tokener_success) {
                *err = xasprintf("not JSON: %s at byte %zu", json_tokener_error_desc(e), end);
                json_object_put(o);
                return NULL;
        }
        for (size_t i = end; i < len; i++)
                if (!isspace((unsigned char)body[i])) {
                        *err = xasprintf("not JSON: garbage after the value at byte %zu", i);
                        json_object_put(o);
                        return NULL;
                }
        return o;
}
