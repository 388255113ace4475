/* The coredump collector's parsers of untrusted input: the parse child's JSON answer
 * (the child read a hostile core, so its answer is hostile too) and its formatting,
 * systemd-coredump journal fields (any process can log that MESSAGE_ID), core file
 * names, core_pattern, systemd's MESSAGE stack trace, and the decompression of a
 * .zst/.lz4/.xz core (libarchive, capped). Every input goes through every parser. */
#include "tests/fuzz/fuzz.h"
#include "collectors/coredump.h"

#include <sys/mman.h>
#include <unistd.h>

static void fields(const char *s, size_t n)
{
        /* "NAME=value" records, one per line, as journal_fields() hands them. */
        struct cd_record r = {0};
        const char *p = s, *end = s + n;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                const char *eq = memchr(p, '=', (size_t)(le - p));
                if (eq)
                        (void)cd_record_field(&r, p, (size_t)(eq - p), eq + 1, (size_t)(le - eq - 1));
                p = le + 1;
        }
        cd_record_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fz_str(data, size);

        struct cd_bt bt;
        char *err = NULL;
        if (cd_bt_from_json((const char *)data, size, &bt, &err) == 0) {
                struct strbuf sb = {0};
                cd_bt_format(&bt, &sb);
                if (sb.len > 8u * CD_TEXT_MAX)
                        abort(); /* the caps must bound the text */
                cd_bt_top(&bt, CD_TOP_FRAMES, &sb);
                sb_free(&sb);
                char *j = cd_bt_to_json(&bt);
                struct cd_bt again;
                char *err2 = NULL;
                if (cd_bt_from_json(j, strlen(j), &again, &err2) != 0)
                        abort(); /* what we write must read back */
                if (again.nthreads != bt.nthreads)
                        abort();
                cd_bt_free(&again);
                free(j);
        }
        free(err);
        cd_bt_free(&bt);

        fields((const char *)data, size);

        struct cd_record r = {0};
        (void)cd_parse_core_name(s, &r);
        cd_record_free(&r);
        (void)cd_compression(s);

        struct cd_pattern p;
        (void)cd_parse_core_pattern(s, &p);
        cd_pattern_free(&p);

        free(cd_message_top(s, CD_TOP_FRAMES));

        /* Decompression: the input as a compressed core, at most 1 MiB out. */
        int in = memfd_create("in", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
        if (in >= 0 && out >= 0 && write(in, data, size) == (ssize_t)size && lseek(in, 0, SEEK_SET) == 0) {
                err = NULL;
                (void)cd_decompress(in, out, 1u << 20, &err);
                if (lseek(out, 0, SEEK_END) > (off_t)(1u << 20))
                        abort(); /* the cap held */
                free(err);
        }
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        free(s);
        return 0;
}
