/* libcurl, loaded on first use. Linking it outright pulls ~25 shared libraries
 * (TLS, SSH, LDAP, Kerberos, IDN...) into every evodiag start: ~10 ms of the
 * ~16 ms a `check` spends before it reads anything (BENCHMARKS.md). Only the
 * collectors that speak HTTP and `bundle --upload` pay for it now.
 * Usage: const struct curl_api *c = curl_api(&err); c->easy_setopt(h, ...). */
#pragma once
#include <curl/curl.h>

struct curl_api {
        CURLcode (*global_init)(long flags);
        void (*global_cleanup)(void);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
        CURLcode (*easy_perform)(CURL *h);
        CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
        void (*easy_cleanup)(CURL *h);
        const char *(*easy_strerror)(CURLcode code);
        struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
        void (*slist_free_all)(struct curl_slist *l);
        char *(*version)(void);
};

/* NULL (with *err set, static string) when libcurl cannot be loaded. */
const struct curl_api *curl_api(const char **err);
