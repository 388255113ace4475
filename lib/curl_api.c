#include "config.h"
#include "lib/curl_api.h"

#include <dlfcn.h>
#include <stddef.h>

const struct curl_api *curl_api(const char **err)
{
        static struct curl_api api;
        static int state; /* 0 untried, 1 loaded, -1 failed */
        static const char *why;
        if (state == 1)
                return &api;
        if (state == -1) {
                *err = why;
                return NULL;
        }
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                state = -1;
                *err = why = "libcurl.so.4 cannot be loaded (apt-get install libcurl4)";
                return NULL;
        }
        struct { void **slot; const char *name; } syms[] = {
                {(void **)&api.global_init, "curl_global_init"},
                {(void **)&api.global_cleanup, "curl_global_cleanup"},
                {(void **)&api.easy_init, "curl_easy_init"},
                {(void **)&api.easy_setopt, "curl_easy_setopt"},
                {(void **)&api.easy_perform, "curl_easy_perform"},
                {(void **)&api.easy_getinfo, "curl_easy_getinfo"},
                {(void **)&api.easy_cleanup, "curl_easy_cleanup"},
                {(void **)&api.easy_strerror, "curl_easy_strerror"},
                {(void **)&api.slist_append, "curl_slist_append"},
                {(void **)&api.slist_free_all, "curl_slist_free_all"},
                {(void **)&api.version, "curl_version"},
        };
        for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
                *syms[i].slot = dlsym(h, syms[i].name);
                if (!*syms[i].slot) {
                        state = -1;
                        *err = why = "libcurl.so.4 lacks a function evodiag needs (too old?)";
                        return NULL;
                }
        }
        state = 1;
        return &api;
}
