/* Between rootfs.c and rootfs_snapshot.c only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

bool rootfs_snapshot_dir(const char *path, const char **names, size_t *len);
