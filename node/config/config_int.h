/*
 * config_int.h — declarations shared by the config loader (config.c) and
 * writer (config_write.c).
 */
#ifndef FM_CONFIG_INT_H
#define FM_CONFIG_INT_H

#include "config.h"

#include <stdio.h>

#define MIB (UINT64_C(1) << 20)
#define IPC_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 on Linux */

/* Defaults (documented in config.h and docs/config.md). */
#define DEF_MAP_SIZE_MB 256
#define DEF_MAP_MAX_MB 65536
#define DEF_PUSH_INTERVAL_MS 50
#define DEF_ANTI_ENTROPY_MS 2000
#define DEF_HEARTBEAT_MS 1000
#define DEF_BATCH_OPS 512
#define DEF_MAX_SKEW_MS 300000
#define DEF_REPLY_BYTES_PER_S (128u << 20)

#define FM_CONSOLE_DEFAULT_PORT 8470

/* The console section when it differs from the defaults (config_console.c). */
void config_write_console(FILE *f, const struct fm_console_conf *c);

/* Absolute directory holding `path` (realpath of its parent). 0,
 * FM_ENOTFOUND, FM_EIO or FM_ETOOBIG. */
int config_file_dir(const char *path, char *out, size_t cap) FM_MUST_USE;

#endif
