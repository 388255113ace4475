/* The journal collector's parsers of untrusted text: /dev/kmsg records, the entry
 * records a bundle stores (JSON lines, read back by check --from), the pattern table
 * and what its parsers read from a matched line (OOM victim, Xid, faulting binary,
 * hung task), component log lines, and --since/--until times. */
#include "tests/fuzz/fuzz.h"
#include <json-c/json.h>
#include "collectors/journal.h"
#include "lib/journal.h"

static void one_line(const char *line, size_t len)
{
        struct jentry e;
        /* As a kmsg record (bytes, not NUL-terminated). */
        if (jparse_kmsg(line, len, 1000000, &e) == 0 && (strlen(e.msg) >= sizeof(e.msg) || !e.kernel || e.prio > 7))
                abort();
        _cleanup_free_ char *s = xstrndup(line, len);
        /* As an evidence record. */
        json_object *o = json_tokener_parse(s);
        if (o && jentry_from_json(o, &e) == 0) {
                struct strbuf b = {0};
                jentry_short_iso(&b, &e);
                if (!b.len || b.s[b.len - 1] != '\n')
                        abort();
                sb_free(&b);
                json_object *back = jentry_to_json(&e);
                struct jentry e2;
                if (jentry_from_json(back, &e2) < 0 || strcmp(e.msg, e2.msg) != 0)
                        abort();
                json_object_put(back);
        }
        json_object_put(o);
        /* As a message: every pattern that matches, and its parser. */
        char msg[JMSG_MAX];
        jcopy(msg, sizeof(msg), s, strlen(s));
        unsigned all = JS_KERNEL | JS_COMPONENT | JS_LAVINMQ | JS_SNN;
        for (int i = jpattern_next(msg, all, 0); i >= 0; i = jpattern_next(msg, all, (size_t)i + 1)) {
                struct jhit h;
                jpattern_hit(&jpatterns[i], msg, "lavinmq,cerebellar-norse", &h);
                if (h.sev >= _SEV_MAX || strlen(h.subject) >= sizeof(h.subject))
                        abort();
        }
        uint64_t a, b, c;
        char name[64];
        unsigned x;
        (void)jparse_oom(msg, &a, name, sizeof(name), &b);
        (void)jparse_xid(msg, &x, name, sizeof(name));
        (void)jparse_fault(msg, name, sizeof(name), &a);
        (void)jparse_hung(msg, name, sizeof(name), &a, &c);
        (void)jline_is_error(msg);
        (void)journal_parse_time(s, 1700000000000000ull, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                one_line(p, len);
                p += len + 1;
        }
        return 0;
}
