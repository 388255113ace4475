/* libcurl, loaded on first use. Linking it outright pulls ~25 shared libraries
 * (TLS, SSH, LDAP, Kerberos, IDN...) into every evodiag start: ~10 ms of the
 * ~16 ms a `check` spends before it reads anything (BENCHMARKS.md). Only the
 * collectors that speak HTTP and `bundle --upload` pay for it now.
 * Usage: const struct curl_api *c = curl_api(&err); c->easy_setopt(h, ...). */
#pragma once
#include <curl/curl.h>

/* Each member has exactly the type of libcurl's own function (typeof its prototype
 * in <curl/curl.h>), so a call through the table is checked like a direct call. */
#define CURL_API_FN(name) __typeof__(curl_##name) *name
struct curl_api {
        CURL_API_FN(global_init);
        CURL_API_FN(global_cleanup);
        CURL_API_FN(easy_init);
        CURL_API_FN(easy_setopt);
        CURL_API_FN(easy_perform);
        CURL_API_FN(easy_getinfo);
        CURL_API_FN(easy_cleanup);
        CURL_API_FN(easy_strerror);
        CURL_API_FN(slist_append);
        CURL_API_FN(slist_free_all);
        CURL_API_FN(version);
        /* The URL API (libcurl >= 7.62): how curl itself splits a URL. */
        CURL_API_FN(url);
        CURL_API_FN(url_cleanup);
        CURL_API_FN(url_set);
        CURL_API_FN(url_get);
        CURL_API_FN(free);
};

/* NULL (with *err set, static string) when libcurl cannot be loaded. */
const struct curl_api *curl_api(const char **err);
