/*
 * config_yaml.h — the strict-YAML toolkit of the config loader
 * (config_yaml.c), shared by the schema walk in config.c: the loader's
 * state, "file:line:column: message" errors, and one parser per value
 * shape. Private to node/config/; with yaml_depth.c, the only place that
 * includes yaml.h.
 *
 * Every function that can fail writes its message into L->err and returns
 * FM_ECONFIG (cfg_report_parser_error also FM_ENOMEM); none allocates.
 * Strings returned through `out` pointers borrow the document's memory and
 * live as long as L->doc.
 */
#ifndef FM_CONFIG_YAML_H
#define FM_CONFIG_YAML_H

#include "config_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* One load in progress: where messages go, the document, and what the
 * cross-field checks after the walk need to know (which keys were set,
 * and where, to point at them). */
struct loader {
    const char *file;        /* as given by the caller, for messages */
    char *err;
    size_t errlen;
    yaml_document_t doc;
    char dir[FM_PATH_MAX];   /* absolute directory of the file */
    struct fm_config *cfg;
    bool control_set, cert_set, key_set;
    bool map_size_set;
    yaml_mark_t map_size_mark, map_max_mark, data_dir_mark;
    bool tls_cert_set, tls_key_set;
    yaml_mark_t tls_mark;         /* the first of console.tls_cert / tls_key */
};

/* Writes "FILE:LINE:COL: message" into L->err (when there is room) and
 * returns FM_ECONFIG. */
int cfg_fail_at(struct loader *L, size_t line, size_t col, const char *fmt, ...)
    FM_PRINTF(4, 5);
/* The same at a libyaml mark (0-based; messages are 1-based). */
#define cfg_fail(L, mark, ...) \
    cfg_fail_at((L), (mark).line + 1, (mark).column + 1, __VA_ARGS__)

/* Node idx of the document, or NULL. */
yaml_node_t *cfg_doc_node(struct loader *L, int idx);
/* A scalar's bytes as a C string; a NUL byte inside ("\0") is refused. */
int cfg_scalar_str(struct loader *L, yaml_node_t *v, const char *key, const char **out);
/* An empty plain scalar, "~" or "null": YAML's spelling of nothing. */
bool cfg_is_null(const yaml_node_t *v);
bool cfg_has_control_char(const char *s);

/* A plain decimal integer in lo..hi. */
int cfg_parse_uint(struct loader *L, yaml_node_t *v, const char *key, uint64_t lo,
                   uint64_t hi, uint64_t *out);
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
/* Printable text that fits in cap (NUL included); empty only when allowed. */
int cfg_parse_text(struct loader *L, yaml_node_t *v, const char *key, char *out, size_t cap,
                   bool allow_empty);

/* The key of a mapping pair as a plain string (*kn its node). */
int cfg_pair_key(struct loader *L, yaml_node_pair_t *p, yaml_node_t **kn, const char **ks);
/* "duplicate key" when ks appears in m before pair p; where names m. */
int cfg_check_duplicate(struct loader *L, yaml_node_t *m, yaml_node_pair_t *p,
                        const char *ks, yaml_node_t *kn, const char *where);
/* The parser's error as a message at its line and column (buf, len: the
 * text parsed); FM_ENOMEM when libyaml ran out of memory. */
int cfg_report_parser_error(struct loader *L, const yaml_parser_t *p, const char *buf,
                            size_t len);

#endif
