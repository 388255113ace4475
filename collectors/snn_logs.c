/* snn: the service's log files (bounded tails) and the unit's journal, scanned for
 * CUDA errors, out-of-memory, allocation failures and latency overruns. */
#include "config.h"
#include "collectors/snn_private.h"
#include "lib/journal.h"
#include "lib/rootfs.h"
#include "lib/tail.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The unit's journal messages of the last journal_since, newline-separated, at most max
 * bytes (the newest window kept when cut). NULL with *why when it cannot be read. */
static char *unit_journal(struct ctx *c, size_t max, size_t *len, size_t *entries, char **why)
{
        uint64_t back = 3600000;
        (void)parse_duration_ms(conf_str(c, "journal_since"), &back);
        uint64_t now_us = now_ms_realtime() * 1000;
        _cleanup_free_ char *m = xasprintf("_SYSTEMD_UNIT=%s", conf_str(c, "unit"));
        const char *matches[] = {m, NULL};
        return journal_messages(conf_str(c, "journal_dir"), matches, back * 1000 < now_us ? now_us - back * 1000 : 0, max,
                                c->deadline_ms > 1500 ? c->deadline_ms - 1000 : 0, len, entries, why);
}

/* "CUDA_ERROR_OUT_OF_MEMORY x3 (2: out of memory), ..." for a log scan: log files and
 * the journal are summarised alike. */
static void log_scan_summary(struct strbuf *b, const struct snn_log_scan *sc)
{
        for (size_t i = 0; i < sc->n; i++) {
                int code = 0;
                const char *m = snn_cuda_error_meaning(sc->v[i].what, &code);
                sb_printf(b, "%s%s x%zu", i ? ", " : "", sc->v[i].what, sc->v[i].count);
                if (m)
                        sb_printf(b, " (%d: %s)", code, m);
        }
}

void snn_check_logs(struct ctx *c, struct snn *s, struct findings *fs)
{
        uint64_t tail = 1u << 20;
        (void)parse_size(conf_str(c, "log_tail"), &tail);
        if (tail > (256u << 20))
                tail = 256u << 20;
        double budget_ns = (double)conf_uint(c, "latency_warn_us") * 1e3;
        size_t absent = 0, files = 0;
        struct finding *f;
        const char *p = conf_str(c, "logs");
        for (char *path; (path = list_next(&p)); free(path)) {
                files++;
                char *text = NULL;
                bool cut = false;
                long n = file_tail(path, tail, &text, &cut);
                if (n < 0) {
                        if (n == -ENOENT)
                                absent++;
                        else {
                                f = fnd_add(fs, SEV_UNKNOWN, "snn.logs", "%s cannot be read: %s", path, rootfs_strerror((int)n));
                                fnd_subject(f, "%s", path);
                        }
                        continue;
                }
                if (s->nlogs < 4) {
                        s->log_path[s->nlogs] = xstrdup(path);
                        s->log_tail[s->nlogs] = text;
                        s->log_len[s->nlogs++] = (size_t)n;
                }
                struct snn_log_scan sc;
                snn_log_scan(text, (size_t)n, budget_ns, &sc);
                if (s->nlogs == 0 || s->log_tail[s->nlogs - 1] != text)
                        free(text);
                enum severity sev = sc.n ? SEV_WARN : sc.errors ? SEV_INFO : SEV_OK;
                struct strbuf b = {0};
                log_scan_summary(&b, &sc);
                if (sc.n)
                        f = fnd_add(fs, sev, "snn.logs", "%s: %s", path, b.s);
                else
                        f = fnd_add(fs, sev, "snn.logs", "%s: %zu lines, %zu errors, %zu warnings; no CUDA, memory or latency errors",
                                    path, sc.lines, sc.errors, sc.warnings);
                sb_free(&b);
                struct strbuf a = {0};
                sb_printf(&a, "%s%zu lines (%zu JSON), %zu errors, %zu warnings", cut ? "last " : "", sc.lines, sc.json_lines,
                          sc.errors, sc.warnings);
                if (!isnan(sc.max_processing_ns))
                        sb_printf(&a, "; processing_time_ns max %.0f, %zu at or above the %.0f ns budget", sc.max_processing_ns,
                                  sc.over_budget, budget_ns);
                if (sc.n)
                        sb_printf(&a, "; first: %s", sc.v[0].example);
                fnd_actual(f, "%s", a.s);
                sb_free(&a);
                if (sc.n)
                        fnd_remedy(f, "grep -nE 'CUDA_ERROR|OutOfMemory|allocation failed|exceeded' %s | tail -20; nvidia-smi "
                                      "--query-gpu=memory.free --format=csv (the guide's \"CUDA Errors\")",
                                   path);
                fnd_subject(f, "%s", path);
                fnd_evidence(f, "%s (last %ld bytes)", path, n);
        }
        if (!files || absent == files)
                fnd_add(fs, SEV_SKIPPED, "snn.logs", "no log file of the service%s", files ? " exists" : " configured");
        if (streq(conf_str(c, "unit"), "none"))
                return;
        size_t jlen, entries;
        _cleanup_free_ char *why = NULL;
        _cleanup_free_ char *jt = unit_journal(c, tail, &jlen, &entries, &why);
        if (!jt) {
                f = fnd_add(fs, SEV_SKIPPED, "snn.logs", "the unit's journal not read: %s", why);
                fnd_subject(f, "journal");
                return;
        }
        if (!entries) {
                f = fnd_add(fs, SEV_SKIPPED, "snn.logs", "no journal entries of %s in the last %s", conf_str(c, "unit"),
                            conf_str(c, "journal_since"));
                fnd_subject(f, "journal");
                return;
        }
        struct snn_log_scan sc;
        snn_log_scan(jt, jlen, budget_ns, &sc);
        struct strbuf b = {0};
        log_scan_summary(&b, &sc);
        if (sc.n)
                f = fnd_add(fs, SEV_WARN, "snn.logs", "journal of %s: %s", conf_str(c, "unit"), b.s);
        else
                f = fnd_add(fs, sc.errors ? SEV_INFO : SEV_OK, "snn.logs",
                            "journal of %s: %zu entries, %zu errors; no CUDA, memory or latency errors", conf_str(c, "unit"),
                            entries, sc.errors);
        sb_free(&b);
        if (sc.n) {
                fnd_actual(f, "%zu entries in the last %s; first: %s", entries, conf_str(c, "journal_since"), sc.v[0].example);
                fnd_remedy(f, "journalctl -u %s --since -%s | grep -E 'CUDA_ERROR|OutOfMemory|allocation failed|exceeded'",
                           conf_str(c, "unit"), conf_str(c, "journal_since"));
        }
        fnd_subject(f, "journal");
        fnd_evidence(f, "the journal of %s", conf_str(c, "unit"));
}
