/* The mediator collector's parsers of text a host, a VM or a server controls:
 * exports(5) and etab, the per-VM request file (both layouts) and response line,
 * the admin reply header, the lock file's pid, the log scan and cuda_sanity's output. The
 * input goes through each. */
#include "tests/fuzz/fuzz.h"
#include "collectors/mediator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);
        struct mx_exports x = {0};
        mx_exports_parse(s, &x);
        mx_etab_parse(s, &x);
        for (size_t i = 0; i < x.n; i++) {
                if (!x.v[i].path || x.v[i].path[0] != '/' || !x.v[i].host || !x.v[i].opts)
                        abort();
                (void)mx_opts_differ(x.v[i].opts, s, NULL);
                (void)mx_path_under(x.v[i].path, "/dev/shm");
        }
        if (x.n > MX_EXPORTS_MAX)
                abort();
        mx_exports_free(&x);

        struct mx_request r;
        mx_request_parse((const char *)data, size, MX_LAYOUT_PERVM, &r);
        if (r.kind == MX_REQ_BAD && !r.why[0])
                abort();
        mx_request_parse((const char *)data, size, MX_LAYOUT_PHASE1, &r);
        if (r.kind == MX_REQ_COMMAND && r.code > 2)
                abort();
        int st;
        const char *msg;
        size_t ml;
        if (mx_response_parse(s, &st, &msg, &ml) == 0 && (st < 0 || st > 2 || msg + ml > s + strlen(s)))
                abort();

        struct mx_admin_hdr h;
        if (mx_admin_header(data, size, 1 << 20, &h) == 0 && (h.magic != MX_ADMIN_MAGIC || h.data_len > 1 << 20))
                abort();
        (void)mx_health_bad(s);
        int pid;
        if (mx_lock_pid(s, &pid) == 0 && pid <= 0)
                abort();
        struct mx_logscan ls;
        mx_log_scan((const char *)data, size, size & 1, &ls);
        if (ls.errors > ls.lines || ls.cuda > ls.lines)
                abort();
        char why[64];
        (void)mx_sanity_parse(s, (int)(size & 3), why, sizeof(why));
        free(s);
        return 0;
}
