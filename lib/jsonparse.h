/* A whole reply (an HTTP body, a file) parsed as one JSON value with json-c: a reply
 * that ends early, holds garbage after the value or is larger than json-c takes is an
 * error with a message for an operator. Shared by every collector that reads JSON
 * from a component (LavinMQ's API, the SNN service's /health and /info, framealloc
 * snapshots). */
#pragma once
#include <json-c/json.h>
#include <stddef.h>

/* The value, or NULL with *err (newly allocated): "not JSON: ... at byte N". */
json_object *json_parse_whole(const char *body, size_t len, char **err);
