/* coredump collector: the pure parsers and formatters (no host access): the parse
 * child's JSON answer, backtrace text, systemd-coredump journal fields and file names,
 * core_pattern and /proc/PID/limits. Tested by tests/unit/test_coredump.c and fuzzed
 * by tests/fuzz/fuzz_coredump.c. */
#include "config.h"
#include "collectors/coredump.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>

#define CD_JSON_MAX (2u * CD_TEXT_MAX + (256u << 10)) /* the child's answer, JSON overhead included */

void cd_bt_free(struct cd_bt *b)
{
        for (size_t i = 0; i < b->nthreads; i++) {
                struct cd_thread *t = &b->threads[i];
                for (size_t k = 0; k < t->nframes; k++) {
                        free(t->frames[k].func);
                        free(t->frames[k].module);
                        free(t->frames[k].file);
                }
                free(t->frames);
                free(t->error);
        }
        free(b->threads);
        for (size_t i = 0; i < b->nmodules; i++) {
                free(b->modules[i].name);
                free(b->modules[i].build_id);
        }
        free(b->modules);
        free(b->comm);
        free(b->psargs);
        free(b->error);
        *b = (struct cd_bt){0};
}

/* ---- the child's answer ---- */

static void add_str(json_object *o, const char *k, const char *v)
{
        if (v)
                json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, json_object_new_uint64(v));
}

char *cd_bt_to_json(const struct cd_bt *b)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(b->pid));
        json_object_object_add(o, "signal", json_object_new_int(b->signal));
        add_str(o, "comm", b->comm);
        add_str(o, "psargs", b->psargs);
        add_str(o, "error", b->error);
        add_u64(o, "threads_total", b->threads_total);
        json_object_object_add(o, "modules_cut", json_object_new_boolean(b->modules_cut));
        json_object_object_add(o, "text_cut", json_object_new_boolean(b->text_cut));
        json_object_object_add(o, "not_core", json_object_new_boolean(b->not_core));
        json_object *ts = json_object_new_array();
        for (size_t i = 0; i < b->nthreads; i++) {
                const struct cd_thread *t = &b->threads[i];
                json_object *to = json_object_new_object(), *fa = json_object_new_array();
                json_object_object_add(to, "tid", json_object_new_int(t->tid));
                json_object_object_add(to, "cut", json_object_new_boolean(t->frames_cut));
                add_str(to, "error", t->error);
                for (size_t k = 0; k < t->nframes; k++) {
                        const struct cd_frame *f = &t->frames[k];
                        json_object *fo = json_object_new_object();
                        add_u64(fo, "pc", f->pc);
                        add_str(fo, "func", f->func);
                        add_str(fo, "module", f->module);
                        add_u64(fo, "offset", f->offset);
                        add_str(fo, "file", f->file);
                        if (f->line)
                                add_u64(fo, "line", f->line);
                        json_object_array_add(fa, fo);
                }
                json_object_object_add(to, "frames", fa);
                json_object_array_add(ts, to);
        }
        json_object_object_add(o, "threads", ts);
        json_object *ms = json_object_new_array();
        for (size_t i = 0; i < b->nmodules; i++) {
                json_object *mo = json_object_new_object();
                add_str(mo, "name", b->modules[i].name);
                add_str(mo, "build_id", b->modules[i].build_id);
                add_u64(mo, "start", b->modules[i].start);
                add_u64(mo, "end", b->modules[i].end);
                json_object_array_add(ms, mo);
        }
        json_object_object_add(o, "modules", ms);
        char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

/* A string member, cut at CD_NAME_MAX and with control characters replaced (names come
 * from a hostile core: they reach findings, terminals and Markdown). */
static char *get_str(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        const char *s = json_object_get_string(v);
        size_t n = strnlen(s, CD_NAME_MAX);
        char *r = xstrndup(s, n);
        for (char *p = r; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        return r;
}

static uint64_t get_u64(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
                return 0;
        return json_object_get_uint64(v);
}

static int get_int(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
                return 0;
        int64_t x = json_object_get_int64(v);
        return x < 0 || x > INT32_MAX ? 0 : (int)x;
}

static bool get_bool(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

static json_object *get_array(json_object *o, const char *k)
{
        json_object *v;
        if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

static void read_thread(json_object *to, struct cd_thread *t, size_t *text)
{
        t->tid = get_int(to, "tid");
        t->frames_cut = get_bool(to, "cut");
        t->error = get_str(to, "error");
        json_object *fa = get_array(to, "frames");
        size_t n = fa ? json_object_array_length(fa) : 0;
        if (n > CD_FRAMES_MAX) {
                n = CD_FRAMES_MAX;
                t->frames_cut = true;
        }
        t->frames = n ? xcalloc(n, sizeof(*t->frames)) : NULL;
        for (size_t k = 0; k < n; k++) {
                json_object *fo = json_object_array_get_idx(fa, k);
                if (!json_object_is_type(fo, json_type_object))
                        continue;
                struct cd_frame *f = &t->frames[t->nframes];
                f->pc = get_u64(fo, "pc");
                f->func = get_str(fo, "func");
                f->module = get_str(fo, "module");
                f->offset = get_u64(fo, "offset");
                f->file = get_str(fo, "file");
                uint64_t line = get_u64(fo, "line");
                f->line = line > UINT32_MAX ? 0 : (unsigned)line;
                t->nframes++;
                *text += 48 + (f->func ? strlen(f->func) : 0) + (f->module ? strlen(f->module) : 0) +
                         (f->file ? strlen(f->file) : 0);
                if (*text > CD_TEXT_MAX) {
                        t->frames_cut = true;
                        break;
                }
        }
}

int cd_bt_from_json(const char *text, size_t len, struct cd_bt *out, char **err)
{
        *out = (struct cd_bt){0};
        *err = NULL;
        if (len > CD_JSON_MAX) {
                *err = xasprintf("answer of %zu bytes is over the %u-byte cap", len, CD_JSON_MAX);
                return -EINVAL;
        }
        struct json_tokener *tok = json_tokener_new_ex(8);
        json_object *o = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || je != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                *err = xstrdup(je != json_tokener_success ? json_tokener_error_desc(je) : "not a JSON object");
                return -EINVAL;
        }
        out->pid = get_int(o, "pid");
        out->signal = get_int(o, "signal");
        out->comm = get_str(o, "comm");
        out->psargs = get_str(o, "psargs");
        out->error = get_str(o, "error");
        out->modules_cut = get_bool(o, "modules_cut");
        out->text_cut = get_bool(o, "text_cut");
        out->not_core = get_bool(o, "not_core");
        json_object *ts = get_array(o, "threads");
        size_t n = ts ? json_object_array_length(ts) : 0;
        out->threads_total = get_u64(o, "threads_total");
        if (out->threads_total < n)
                out->threads_total = n;
        if (n > CD_THREADS_MAX)
                n = CD_THREADS_MAX;
        out->threads = n ? xcalloc(n, sizeof(*out->threads)) : NULL;
        size_t textlen = 0;
        for (size_t i = 0; i < n && textlen <= CD_TEXT_MAX; i++) {
                json_object *to = json_object_array_get_idx(ts, i);
                if (!json_object_is_type(to, json_type_object))
                        continue;
                read_thread(to, &out->threads[out->nthreads++], &textlen);
        }
        if (textlen > CD_TEXT_MAX)
                out->text_cut = true;
        json_object *ms = get_array(o, "modules");
        size_t m = ms ? json_object_array_length(ms) : 0;
        if (m > CD_MODULES_MAX) {
                m = CD_MODULES_MAX;
                out->modules_cut = true;
        }
        out->modules = m ? xcalloc(m, sizeof(*out->modules)) : NULL;
        for (size_t i = 0; i < m; i++) {
                json_object *mo = json_object_array_get_idx(ms, i);
                if (!json_object_is_type(mo, json_type_object))
                        continue;
                struct cd_module *md = &out->modules[out->nmodules++];
                md->name = get_str(mo, "name");
                md->build_id = get_str(mo, "build_id");
                md->start = get_u64(mo, "start");
                md->end = get_u64(mo, "end");
        }
        json_object_put(o);
        return 0;
}

/* ---- text ---- */

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s && s[1] ? s + 1 : p;
}

void cd_frame_format(const struct cd_frame *f, struct strbuf *out)
{
        sb_printf(out, "0x%016" PRIx64 " %s", f->pc, f->func ? f->func : "??");
        if (f->module)
                sb_printf(out, " (%s + 0x%" PRIx64 ")", base_name(f->module), f->offset);
        if (f->file)
                sb_printf(out, " at %s:%u", f->file, f->line);
}

void cd_bt_format(const struct cd_bt *b, struct strbuf *out)
{
        if (b->error)
                sb_printf(out, "No backtrace: %s\n", b->error);
        for (size_t i = 0; i < b->nthreads; i++) {
                const struct cd_thread *t = &b->threads[i];
                sb_printf(out, "%sStack trace of thread %d%s:\n", i ? "\n" : "", t->tid,
                          i == 0 ? " (the one that dumped)" : "");
                for (size_t k = 0; k < t->nframes; k++) {
                        sb_printf(out, "#%-2zu ", k);
                        cd_frame_format(&t->frames[k], out);
                        sb_putc(out, '\n');
                }
                if (t->frames_cut)
                        sb_printf(out, "(more frames left out: at most %d per thread)\n", CD_FRAMES_MAX);
                if (t->error)
                        sb_printf(out, "(unwinding stopped: %s)\n", t->error);
        }
        if (b->threads_total > b->nthreads)
                sb_printf(out, "\n(%zu of %zu threads shown: at most %d)\n", b->nthreads, b->threads_total, CD_THREADS_MAX);
        if (b->text_cut)
                sb_printf(out, "(backtrace cut at %u bytes of text)\n", CD_TEXT_MAX);
        if (b->nmodules) {
                sb_puts(out, "\nModules:\n");
                for (size_t i = 0; i < b->nmodules; i++) {
                        const struct cd_module *m = &b->modules[i];
                        sb_printf(out, "0x%" PRIx64 "-0x%" PRIx64 " %s build-id %s\n", m->start, m->end,
                                  m->name ? m->name : "?", m->build_id ? m->build_id : "none");
                }
                if (b->modules_cut)
                        sb_printf(out, "(more modules left out: at most %d)\n", CD_MODULES_MAX);
        }
}

void cd_bt_top(const struct cd_bt *b, size_t n, struct strbuf *out)
{
        if (!b->nthreads || !b->threads[0].nframes) {
                sb_puts(out, b->error ? b->error : "no frames");
                return;
        }
        const struct cd_thread *t = &b->threads[0];
        for (size_t k = 0; k < t->nframes && k < n; k++) {
                const struct cd_frame *f = &t->frames[k];
                if (k)
                        sb_puts(out, " <- ");
                sb_puts(out, f->func ? f->func : "??");
                if (f->module)
                        sb_printf(out, " (%s+0x%" PRIx64 ")", base_name(f->module), f->offset);
                else
                        sb_printf(out, " (0x%" PRIx64 ")", f->pc);
        }
}

enum cd_comp cd_compression(const char *name)
{
        size_t n = strlen(name);
        static const struct {
                const char *ext;
                enum cd_comp c;
        } tab[] = {{".zst", CD_ZST}, {".lz4", CD_LZ4}, {".xz", CD_XZ}};
        for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
                size_t e = strlen(tab[i].ext);
                if (n > e && streq(name + n - e, tab[i].ext))
                        return tab[i].c;
        }
        return CD_PLAIN;
}

/* ---- journal records, file names ---- */

void cd_record_free(struct cd_record *r)
{
        free(r->exe);
        free(r->comm);
        free(r->unit);
        free(r->cmdline);
        free(r->filename);
        free(r->hostname);
        free(r->cursor);
        *r = (struct cd_record){0};
}

/* Text from a record: cut at CD_NAME_MAX, NUL and control characters replaced. */
static char *field_text(const char *v, size_t n)
{
        if (n > CD_NAME_MAX)
                n = CD_NAME_MAX;
        char *s = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
                s[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
        s[n] = 0;
        return s;
}

static int field_num(const char *v, size_t n, uint64_t max, uint64_t *out)
{
        char buf[32];
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, v, n);
        buf[n] = 0;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)buf[i]))
                        return -EINVAL;
        if (parse_u64(buf, out) < 0 || *out > max)
                return -EINVAL;
        return 0;
}

int cd_record_field(struct cd_record *r, const char *field, size_t kl, const char *v, size_t vl)
{
        if (!kl)
                return -EINVAL;
        static const struct {
                const char *key;
                size_t off;
        } strs[] = {
                {"COREDUMP_EXE", offsetof(struct cd_record, exe)},
                {"COREDUMP_COMM", offsetof(struct cd_record, comm)},
                {"COREDUMP_UNIT", offsetof(struct cd_record, unit)},
                {"COREDUMP_CMDLINE", offsetof(struct cd_record, cmdline)},
                {"COREDUMP_FILENAME", offsetof(struct cd_record, filename)},
                {"COREDUMP_HOSTNAME", offsetof(struct cd_record, hostname)},
        };
        for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
                if (strlen(strs[i].key) == kl && memcmp(field, strs[i].key, kl) == 0) {
                        char **p = (char **)((char *)r + strs[i].off);
                        free(*p);
                        *p = field_text(v, vl);
                        return 1;
                }
#define KEY(k) (kl == sizeof(k) - 1 && memcmp(field, k, kl) == 0)
        uint64_t x;
        if (KEY("COREDUMP_PID") || KEY("COREDUMP_SIGNAL") || KEY("COREDUMP_UID") || KEY("_UID")) {
                if (field_num(v, vl, INT32_MAX, &x) < 0)
                        return -EINVAL;
                if (KEY("COREDUMP_PID"))
                        r->pid = (int)x;
                else if (KEY("COREDUMP_SIGNAL"))
                        r->signal = (int)x;
                else if (KEY("COREDUMP_UID"))
                        r->uid = (uid_t)x, r->have_uid = true;
                else
                        r->entry_uid = (uid_t)x, r->have_entry_uid = true;
                return 1;
        }
        if (KEY("COREDUMP_TIMESTAMP") || KEY("COREDUMP_SIZE")) {
                if (field_num(v, vl, UINT64_MAX, &x) < 0)
                        return -EINVAL;
                if (KEY("COREDUMP_TIMESTAMP"))
                        r->time_us = x;
                else
                        r->size = x;
                return 1;
        }
#undef KEY
        return 0;
}

int cd_parse_core_name(const char *name, struct cd_record *r)
{
        /* core.COMM.UID.BOOTID.PID.USEC[.ext]: parsed from the end, COMM may hold dots. */
        if (!startswith(name, "core."))
                return -EINVAL;
        size_t n = strnlen(name, 1024);
        if (n >= 1024)
                return -EINVAL;
        char buf[1024];
        memcpy(buf, name, n + 1);
        if (cd_compression(buf) != CD_PLAIN)
                *strrchr(buf, '.') = 0;
        char *parts[4];
        for (int i = 3; i >= 0; i--) {
                char *d = strrchr(buf + 5, '.');
                if (!d)
                        return -EINVAL;
                *d = 0;
                parts[i] = d + 1;
        }
        /* parts: UID, BOOTID, PID, USEC; buf+5: COMM */
        uint64_t uid, pid, usec;
        if (!buf[5] || field_num(parts[0], strlen(parts[0]), INT32_MAX, &uid) < 0 ||
            field_num(parts[2], strlen(parts[2]), INT32_MAX, &pid) < 0 ||
            field_num(parts[3], strlen(parts[3]), UINT64_MAX, &usec) < 0)
                return -EINVAL;
        if (strlen(parts[1]) != 32)
                return -EINVAL;
        for (const char *p = parts[1]; *p; p++)
                if (!isxdigit((unsigned char)*p))
                        return -EINVAL;
        free(r->comm);
        /* systemd-coredump escapes unusual characters of COMM as \xNN: kept as they are. */
        r->comm = field_text(buf + 5, strlen(buf + 5));
        r->uid = (uid_t)uid;
        r->have_uid = true;
        r->pid = (int)pid;
        r->time_us = usec;
        return 0;
}

const char *cd_signal_name(int sig, char buf[static 16])
{
        static const char *const names[] = {
                [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
                [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
                [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
                [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGXCPU] = "SIGXCPU",
                [SIGXFSZ] = "SIGXFSZ", [SIGSYS] = "SIGSYS",
        };
        if (sig > 0 && (size_t)sig < ARRAY_SIZE(names) && names[sig])
                return names[sig];
        snprintf(buf, 16, "signal %d", sig);
        return buf;
}

/* The first n "#k ..." frame lines of systemd-coredump's MESSAGE (its own backtrace),
 * for records whose core was not kept. */
char *cd_message_top(const char *msg, size_t n)
{
        struct strbuf sb = {0};
        const char *p = msg;
        size_t got = 0;
        while (p && *p && got < n) {
                const char *eol = strchr(p, '\n');
                size_t ll = eol ? (size_t)(eol - p) : strlen(p);
                const char *q = p;
                while (q < p + ll && (*q == ' ' || *q == '\t'))
                        q++;
                if (q < p + ll && *q == '#') {
                        /* "#0  0x00007f... func (module + 0x12)": keep what follows the address */
                        const char *sp = memchr(q, ' ', (size_t)(p + ll - q));
                        while (sp && sp < p + ll && *sp == ' ')
                                sp++;
                        const char *rest = sp ? memchr(sp, ' ', (size_t)(p + ll - sp)) : NULL;
                        if (rest && rest + 1 < p + ll) {
                                if (got++)
                                        sb_puts(&sb, " <- ");
                                size_t rl = (size_t)(p + ll - rest - 1);
                                sb_putn(&sb, rest + 1, rl > 200 ? 200 : rl);
                        }
                }
                p = eol ? eol + 1 : NULL;
        }
        if (!got) {
                sb_free(&sb);
                return NULL;
        }
        for (char *c = sb.s; *c; c++)
                if ((unsigned char)*c < 0x20)
                        *c = '?';
        return sb_steal(&sb);
}

/* ---- core_pattern, limits ---- */

void cd_pattern_free(struct cd_pattern *p)
{
        free(p->dir);
        free(p->prefix);
        free(p->helper);
        *p = (struct cd_pattern){0};
}

int cd_parse_core_pattern(const char *text, struct cd_pattern *p)
{
        *p = (struct cd_pattern){0};
        size_t n = strnlen(text, 4096);
        if (n >= 4096)
                return -EINVAL;
        _cleanup_free_ char *buf = xstrndup(text, n);
        char *s = strstrip(buf);
        if (!*s) {
                p->kind = CD_PAT_EMPTY;
                return 0;
        }
        for (char *q = s; *q; q++)
                if ((unsigned char)*q < 0x20 && *q != '\t')
                        return -EINVAL;
        if (*s == '|') {
                s = strstrip(s + 1);
                size_t hl = strcspn(s, " \t");
                if (!hl)
                        return -EINVAL;
                p->helper = xstrndup(s, hl);
                const char *b = base_name(p->helper);
                p->kind = streq(b, "systemd-coredump") ? CD_PAT_SYSTEMD : CD_PAT_PIPE;
                return 0;
        }
        p->kind = CD_PAT_FILE;
        p->relative = *s != '/';
        char *slash = strrchr(s, '/');
        const char *file = slash ? slash + 1 : s;
        p->prefix = xstrndup(file, strcspn(file, "%"));
        if (slash && *s == '/') {
                size_t dl = slash == s ? 1 : (size_t)(slash - s);
                if (!memchr(s, '%', dl))
                        p->dir = xstrndup(s, dl);
        }
        return 0;
}
