/*
 * config_yaml.h — the config loader's state and its own value shapes
 * (config_yaml.c): paths resolved against the file's directory,
 * endpoints, key text and config text. Private to node/config/; the
 * shape-independent half (located errors, scalars, integers, mappings,
 * parsing) is the toolkit in yamlkit.h.
 *
 * Every function that can fail writes its message into the loader's err
 * buffer and returns FM_ECONFIG; none allocates. Strings returned through
 * `out` pointers borrow the document's memory and live until the load
 * ends.
 */
#ifndef FM_CONFIG_YAML_H
#define FM_CONFIG_YAML_H

#include "config_int.h"
#include "yamlkit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One config load in progress: the toolkit's loader (file, messages,
 * document) and what the cross-field checks after the walk need to know
 * (which keys were set, and where, to point at them). */
struct loader {
    struct yk_loader yk;
    char dir[FM_PATH_MAX];   /* absolute directory of the file */
    struct fm_config *cfg;
    bool control_set, cert_set, key_set;
    bool map_size_set;
    yaml_mark_t map_size_mark, map_max_mark, data_dir_mark;
    bool tls_cert_set, tls_key_set;
    yaml_mark_t tls_mark;         /* the first of console.tls_cert / tls_key */
};

/* "FILE:LINE:COL: message" at a libyaml mark; returns FM_ECONFIG. */
#define cfg_fail(L, mark, ...) yk_fail_mark(&(L)->yk, (mark), __VA_ARGS__)

/* raw joined onto the file's directory unless absolute ("~/" is $HOME),
 * trailing slashes dropped, into out (cap bytes). */
int cfg_resolve_path(struct loader *L, yaml_node_t *v, const char *key, const char *raw,
                     char *out, size_t cap);
/* tcp://HOST:PORT (1..65535 or *) or ipc://PATH (resolved like a path, at
 * most IPC_PATH_MAX bytes). */
int cfg_parse_endpoint(struct loader *L, yaml_node_t *v, const char *key, const char *raw,
                       char *out, size_t cap);
/* 52-character key text. */
int cfg_parse_key_text(struct loader *L, yaml_node_t *v, const char *key,
                       uint8_t pk[FM_PK_LEN]);
/* Text without control bytes that fits in cap (NUL included); null or
 * empty only when allowed. Unlike yk_text, C1 controls pass and the
 * length is counted in bytes only (the config's own wording). */
int cfg_parse_text(struct loader *L, yaml_node_t *v, const char *key, char *out, size_t cap,
                   bool allow_empty);

#endif
