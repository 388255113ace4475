/* Uploads a finished bundle with libcurl: HTTP(S) PUT, or s3://bucket/prefix to an
 * S3-compatible store (SigV4). Credentials come from the config's [upload] section,
 * ~/.netrc or the AWS_* environment — never from the command line. */
#pragma once
#include <stdbool.h>
#include "lib/conffile.h"

int upload_check_url(const char *url);
/* Credentials ([upload] user/password, the URL's user:password@, a ~/.netrc entry, S3
 * keys) never go over plain http:// to another host than this one, unless insecure_http
 * (--insecure-http). 0, or -EPERM (-EINVAL) with *why (newly allocated). */
int upload_check_transport(const struct config *cfg, const char *url, bool insecure_http, char **why);
/* Returns 0 when the server accepted it (2xx), after bounded retries; prints where it went. */
int upload_bundle(const struct config *cfg, const char *url, const char *path, const char *sha256, bool quiet, bool insecure_http);
