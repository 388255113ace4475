/* The bundle's tar stream (libarchive): pax, zstd (gzip when asked or when zstd is
 * unavailable), entries streamed in with their SHA-256 taken on the way. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive_out;

/* Writes to fd (owned by the caller). gzip forces gzip; *used_gzip tells which. */
struct archive_out *archive_out_open(int fd, bool gzip, bool *used_gzip, char **err);
/* An entry of exactly `size` bytes follows (entry_data calls, then entry_end). */
int archive_out_begin(struct archive_out *a, const char *path, uint64_t size, unsigned mode, uint64_t mtime_s);
int archive_out_data(struct archive_out *a, const void *buf, size_t len);
/* Pads with zeros up to the declared size (a child that died mid-artifact);
 * returns how many bytes were padded; the entry's hex SHA-256 goes to sha. */
uint64_t archive_out_end(struct archive_out *a, char sha[65]);
int archive_out_symlink(struct archive_out *a, const char *path, const char *target, uint64_t mtime_s);
int archive_out_dir(struct archive_out *a, const char *path, uint64_t mtime_s);
/* One whole buffer as an entry. */
int archive_out_buffer(struct archive_out *a, const char *path, const void *buf, size_t len, uint64_t mtime_s, char sha[65]);
int archive_out_close(struct archive_out *a, char **err);
uint64_t archive_out_bytes(struct archive_out *a); /* uncompressed payload bytes so far */
