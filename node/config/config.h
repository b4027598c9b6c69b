/*
 * config.h — a node's YAML configuration: loading it strictly, its
 * defaults, writing one, and finding the default file (node/config/).
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include "../../crypto/crypto.h"

/* ======================= configuration ======================= */
#define FM_PATH_MAX 512
#define FM_ENDPOINT_MAX 256
#define FM_CONFIG_MAX_PEERS 64

struct fm_peer_conf {
    char endpoint[FM_ENDPOINT_MAX]; /* e.g. tcp://127.0.0.1:7401 */
    uint8_t pk[FM_PK_LEN];          /* the peer's node key */
    char name[FM_NAME_MAX];         /* optional label, "" if none */
    uint32_t rate_limit_bps;        /* rate_limit_bps: overrides gossip.rate_limit_bps (0 = that) */
};

struct fm_config {
    char path[FM_PATH_MAX];     /* the file it came from */
    char name[FM_NAME_MAX];     /* node: name (required) */
    enum fm_role role;          /* node: role (required) */
    char data_dir[FM_PATH_MAX]; /* storage: data_dir (required; relative to the file's dir) */
    uint64_t map_size;          /* storage: map_size_mb * 2^20 (default 256 MiB) */
    uint64_t map_max;           /* storage: map_max_mb * 2^20 (default 64 GiB): growth cap */
    char listen[FM_ENDPOINT_MAX];  /* network: listen (default "" = do not listen) */
    char control[FM_ENDPOINT_MAX]; /* network: control (default ipc://<data_dir>/control.sock) */
    uint8_t org_pk[FM_PK_LEN];     /* trust: org_key (required, key text) */
    char cert_path[FM_PATH_MAX];   /* trust: certificate (default <data_dir>/node.cert) */
    char key_path[FM_PATH_MAX];    /* trust: key (default <data_dir>/node.key) */
    char passphrase_file[FM_PATH_MAX]; /* trust: passphrase_file (default "": ask) */
    enum fm_kdf_level kdf;         /* trust: kdf for keys sealed from now on (default interactive) */
    uint32_t push_interval_ms;     /* gossip: push_interval_ms (default 50) */
    uint32_t anti_entropy_ms;      /* gossip: anti_entropy_ms (default 2000) */
    uint32_t heartbeat_ms;         /* gossip: heartbeat_ms (default 1000) */
    uint32_t batch_ops;            /* gossip: batch_ops (default 512) */
    uint32_t max_skew_ms;          /* gossip: max_skew_ms (default 300000) */
    uint32_t rate_limit_bps;       /* gossip: rate_limit_bps, bits/s per peer (default 0 = none) */
    uint32_t reply_bytes_per_s;    /* gossip: reply_bytes_per_s, pull-reply bytes one peer key may
                                    * draw per second (default 128 MiB; 0 = no budget) */
    struct fm_peer_conf peers[FM_CONFIG_MAX_PEERS];
    size_t npeers;
};

/* Parses a YAML config with libyaml. On error returns FM_ECONFIG (or
 * FM_ENOTFOUND / FM_EIO for an unreadable file) and writes
 * "file:line:column: what is wrong" into err. Unknown keys, wrong types
 * and missing required keys are errors. */
int fm_config_load(struct fm_config *cfg, const char *path, char *err, size_t errlen) FM_MUST_USE;
/* Writes a config file (used by `init` and `testbed`); FM_EEXISTS if the
 * file exists. */
int fm_config_write(const struct fm_config *cfg, const char *path) FM_MUST_USE;
/* Fills defaults for every optional field (name/role/data_dir/org left empty). */
void fm_config_defaults(struct fm_config *cfg);
/* Where to find the config without -c: $FIELDMESH_CONFIG, else
 * $XDG_CONFIG_HOME/fieldmesh/node.yaml or ~/.config/fieldmesh/node.yaml.
 * Writes the path into out; returns FM_ENOTFOUND if none exists (out
 * still holds the default path that `fieldmesh init` would create). */
int fm_config_locate(char *out, size_t cap) FM_MUST_USE;

#endif
