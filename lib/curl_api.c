#include "config.h"
#include "lib/curl_api.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

/* The dlopen() dependency, declared where packaging tools read it: an ELF note in
 * .note.dlopen (the freedesktop.org "ELF dlopen metadata" format systemd uses), so
 * `readelf -n evodiag` and dpkg/rpm helpers see that libcurl.so.4 is wanted. */
#define DLOPEN_NOTE_JSON \
        "[{\"feature\":\"curl\",\"description\":\"HTTP APIs of LavinMQ and the SNN service; bundle --upload\"," \
        "\"priority\":\"recommended\",\"soname\":[\"libcurl.so.4\"]}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
        uint32_t namesz, descsz, type;
        char name[4];
        char desc[(sizeof(DLOPEN_NOTE_JSON) + 3) & ~3u];
} dlopen_note = {4, sizeof(DLOPEN_NOTE_JSON), 0x407c0c0a, "FDO", DLOPEN_NOTE_JSON};

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
        /* The member and the symbol name come from one token: they cannot disagree. */
#define SYM(name) {(void **)&api.name, "curl_" #name}
        struct { void **slot; const char *name; } syms[] = {
                SYM(global_init), SYM(global_cleanup), SYM(easy_init), SYM(easy_setopt),
                SYM(easy_perform), SYM(easy_getinfo), SYM(easy_cleanup), SYM(easy_strerror),
                SYM(slist_append), SYM(slist_free_all), SYM(version),
                SYM(url), SYM(url_cleanup), SYM(url_set), SYM(url_get), SYM(free),
        };
#undef SYM
        _Static_assert(sizeof(syms) / sizeof(syms[0]) * sizeof(void (*)(void)) == sizeof(api),
                       "every member of struct curl_api is loaded");
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
