#include "config.h"
#include "lib/hostfacts.h"
#include "lib/cpulist.h"
#include "lib/procfs.h"
#include "lib/rootfs.h"
#include "lib/util.h"

#include <errno.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

/* One value: '...' literally; "..." with \" \\ \$ \` escapes; unquoted with \x -> x.
 * Quoted and unquoted parts may follow each other, as in the shell; an unterminated
 * quote is an error. */
static int unquote(const char *v, size_t len, char **out)
{
        struct strbuf b = {0};
        sb_puts(&b, "");
        const char *p = v, *end = v + len;
        while (p < end) {
                if (*p == '\'') {
                        const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
                        if (!q)
                                goto bad;
                        sb_putn(&b, p + 1, (size_t)(q - p - 1));
                        p = q + 1;
                } else if (*p == '"') {
                        for (p++;; p++) {
                                if (p >= end)
                                        goto bad;
                                if (*p == '"')
                                        break;
                                if (*p == '\\' && p + 1 < end && p[1] && strchr("\"\\$`", p[1]))
                                        p++;
                                sb_putc(&b, *p);
                        }
                        p++;
                } else if (*p == '\\') {
                        if (p + 1 >= end)
                                goto bad;
                        sb_putc(&b, p[1]);
                        p += 2;
                } else { /* unquoted: kept as written (white space too: files in the wild have it) */
                        sb_putc(&b, *p++);
                }
        }
        *out = sb_steal(&b);
        return 0;
bad:
        sb_free(&b);
        return -EINVAL;
}

int osrelease_value(const char *text, const char *key, char **out)
{
        *out = NULL;
        size_t kl = strlen(key);
        int r = -ENOENT;
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                const char *l = p;
                p = nl ? nl + 1 : NULL;
                while (len && (*l == ' ' || *l == '\t'))
                        l++, len--;
                while (len && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
                        len--;
                if (len <= kl || l[kl] != '=' || strncmp(l, key, kl))
                        continue;
                /* The last assignment wins, as when the shell sources the file. */
                free(*out);
                *out = NULL;
                r = unquote(l + kl + 1, len - kl - 1, out);
        }
        return r;
}

static void put(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static char *value_of(const char *path)
{
        char *v = NULL;
        (void)rootfs_read_value(path, &v);
        return v;
}

/* os-release(5): /etc/os-release, else /usr/lib/os-release. */
static char *pretty_name(void)
{
        _cleanup_free_ char *text = NULL;
        if (rootfs_read("/etc/os-release", OSRELEASE_MAX, &text, NULL) < 0 &&
            rootfs_read("/usr/lib/os-release", OSRELEASE_MAX, &text, NULL) < 0)
                return NULL;
        char *v = NULL;
        if (osrelease_value(text, "PRETTY_NAME", &v) == 0 && *v)
                return v;
        free(v);
        if (osrelease_value(text, "NAME", &v) == 0 && *v)
                return v;
        free(v);
        return NULL;
}

static void put_os(json_object *os)
{
        _cleanup_free_ char *pn = pretty_name(), *rel = value_of("/proc/sys/kernel/osrelease"),
                            *ver = value_of("/proc/sys/kernel/version"), *arch = value_of("/proc/sys/kernel/arch"),
                            *online = value_of("/sys/devices/system/cpu/online"), *mi = NULL;
        put(os, "pretty_name", pn);
        put(os, "kernel_release", rel);
        put(os, "kernel_version", ver);
        struct utsname u;
        put(os, "machine", arch && *arch ? arch : rootfs_is_live() && uname(&u) == 0 ? u.machine : NULL);

        struct cpuset cs;
        bool have_cpus = online && cpulist_parse(online, &cs) == 0 && !cpuset_empty(&cs);
        json_object_object_add(os, "cpus", have_cpus ? json_object_new_int64((int64_t)cpuset_count(&cs)) : NULL);
        put(os, "cpus_online", have_cpus ? online : NULL);

        uint64_t total = 0;
        struct kvlist kv = {0};
        char buf[32];
        bool have_mem = rootfs_read("/proc/meminfo", READ_MAX_DEFAULT, &mi, NULL) >= 0 && kv_parse(mi, ':', &kv) == 0 &&
                        kv_get_u64(&kv, "MemTotal", &total) == 0 && total;
        put(os, "memory", have_mem ? fmt_bytes(total, buf) : NULL);
        kv_free(&kv);
}

static void put_config(json_object *cfg)
{
        static const struct {
                const char *key, *path;
        } files[] = {
                {"cmdline", "/proc/cmdline"},
                {"isolated", "/sys/devices/system/cpu/isolated"},
                {"nohz_full", "/sys/devices/system/cpu/nohz_full"},
                {"rt_runtime_us", "/proc/sys/kernel/sched_rt_runtime_us"},
                {"shmmax", "/proc/sys/kernel/shmmax"},
                {"shmall", "/proc/sys/kernel/shmall"},
                {"shmmni", "/proc/sys/kernel/shmmni"},
                {"max_map_count", "/proc/sys/vm/max_map_count"},
                {"file_max", "/proc/sys/fs/file-max"},
                {"hugepages", "/proc/sys/vm/nr_hugepages"},
                {"thp", "/sys/kernel/mm/transparent_hugepage/enabled"},
                {"limits", "/proc/self/limits"}, /* evodiag's own (the shell's defaults); a component's are in ISSUE.md's limits[] */
        };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *v = value_of(files[i].path);
                put(cfg, files[i].key, v && !*v ? "(none)" : v);
        }
}

/* df of the places every component shares: /dev/shm (EVO's segments, POSIX shm) and
 * /. The components' data directories are their collectors' (lavinmq.disk, ...). */
static void put_disks(json_object *disks)
{
        static const char *const paths[] = {"/dev/shm", "/"};
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                json_object *d = json_object_new_object();
                struct statvfs v;
                put(d, "path", paths[i]);
                if (!rootfs_is_live()) {
                        put(d, "df", "not measured: statvfs needs the live system (--root)");
                } else if (statvfs(paths[i], &v) < 0) {
                        _cleanup_free_ char *e = xasprintf("statvfs: %s", strerror(errno));
                        put(d, "df", e);
                } else {
                        char a[32], t[32];
                        uint64_t total = (uint64_t)v.f_blocks * v.f_frsize, avail = (uint64_t)v.f_bavail * v.f_frsize,
                                 used = total - (uint64_t)v.f_bfree * v.f_frsize;
                        _cleanup_free_ char *df = xasprintf("%s free of %s (%.0f%% used)", fmt_bytes(avail, a), fmt_bytes(total, t),
                                                            total ? 100.0 * (double)used / (double)total : 0.0);
                        put(d, "df", df);
                }
                json_object_array_add(disks, d);
        }
}

json_object *hostfacts_read(void)
{
        json_object *facts = json_object_new_object(), *os = json_object_new_object(), *cfg = json_object_new_object();
        put_os(os);
        put_config(cfg);
        json_object_object_add(facts, "os", os);
        json_object_object_add(facts, "config", cfg);
        json_object *disks = json_object_new_array();
        put_disks(disks);
        json_object_object_add(facts, "disks", disks);
        return facts;
}
