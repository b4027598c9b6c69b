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

/* ---- the `gps` section (docs/gps.md) ---- */
#define FM_GPS_HOST_MAX 128
#define FM_GPS_DEVICE_MAX 64
#define FM_GPS_RADII_MAX 32 /* per-category arrival distances */

struct fm_gps_radius {
    char category[32];     /* incident category token */
    uint32_t m;            /* arrival distance in metres */
};

/* The `gps` section of the node YAML (node/config.c, docs/config.md). */
struct fm_gps_conf {
    bool enabled;                       /* gps.enabled (default false) */
    char device[FM_GPS_DEVICE_MAX];     /* gps.device: the receiver gpsd reads ("" = any) */
    char host[FM_GPS_HOST_MAX];         /* gps.address "HOST:PORT" (default 127.0.0.1:2947) */
    uint16_t port;
    uint32_t interval_s;   /* gps.interval_s: publish at least this often while fixes come (10) */
    uint32_t min_move_m;   /* gps.min_move_m: a move this far publishes at once (50) */
    uint32_t heading_deg;  /* gps.heading_deg: a turn this sharp publishes at once (30) */
    uint32_t accuracy_m;   /* gps.accuracy_m: a fix with a larger error estimate is poor (50) */
    uint32_t max_speed_kmh;/* gps.max_speed_kmh: a fix implying more is a jump (250) */
    uint32_t arrive_m;     /* gps.arrive_m: default arrival distance (100) */
    uint32_t dwell_s;      /* gps.dwell_s: how long within it before arrival (5) */
    uint32_t leave_m;      /* gps.leave_m: farther than this from home is en route (150) */
    struct fm_gps_radius radii[FM_GPS_RADII_MAX]; /* gps.arrive_by_category */
    size_t nradii;
};

/* The defaults above, gps.enabled false. */
void fm_gps_conf_defaults(struct fm_gps_conf *g);
/* The arrival distance for an incident category (gps.arrive_by_category,
 * else gps.arrive_m). */
uint32_t fm_gps_arrive_m(const struct fm_gps_conf *g, const char *category);

/* ---- the `console` section (node/console/, docs/console-api.md) ---- */
#define FM_CONSOLE_HOST_MAX 128
struct fm_console_conf {
    bool enabled;                     /* console.enabled (default true) */
    char host[FM_CONSOLE_HOST_MAX];   /* console.listen "HOST:PORT" (default 127.0.0.1:8470); */
    uint16_t port;                    /*   an IPv6 host is written [::1]:8470 */
    char tls_cert[FM_PATH_MAX];       /* console.tls_cert: PEM certificate ("" = plain HTTP) */
    char tls_key[FM_PATH_MAX];        /* console.tls_key: its PEM private key */
    char web_root[FM_PATH_MAX];       /* console.web_root: the pages ("" = installed copy) */
    char tiles[FM_PATH_MAX];          /* console.tiles: {z}/{x}/{y}.png map tiles ("" = none) */
    uint32_t session_idle_s;          /* console.session_idle_s: idle sign-out (default 1800) */
};
/* The defaults above. */
void fm_console_conf_defaults(struct fm_console_conf *c);
/* True when host is a loopback address (127.0.0.0/8, ::1, localhost). */
bool fm_console_host_is_loopback(const char *host);

#define FM_OP_FORMAT_MAX 7 /* 7: names up to 64 characters (crypto.h) */
#define FM_TZ_NAME_MAX 64
/* Where zone files are looked up: $TZDIR, else /usr/share/zoneinfo. */
const char *fm_zoneinfo_dir(void);
/* 0 when name is a zone this machine has: [A-Za-z0-9_+-] segments joined
 * by '/', no "." or ".." segment, and a TZif file under fm_zoneinfo_dir().
 * Otherwise FM_EINVAL (not a zone name) or FM_ENOTFOUND (no such zone
 * here), with why in err. */
int fm_time_zone_check(const char *name, char *err, size_t errlen) FM_MUST_USE;
struct fm_config {
    char path[FM_PATH_MAX];     /* the file it came from */
    char name[FM_NAME_MAX];     /* node: name (required) */
    enum fm_role role;          /* node: role (required) */
    uint32_t op_format;         /* node: op_format, the newest op format this node writes:
                                 * 1 (default) .. FM_OP_FORMAT_MAX; each format adds what
                                 * older builds refuse (docs/decisions.md), so every node
                                 * of the mesh must read a format before any writes it */
    char time_zone[FM_TZ_NAME_MAX]; /* node: time_zone, an IANA zone name for the times tables
                                     * show (default "": the system's zone; TZ overrides) */
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
    uint32_t max_conns_per_key;    /* gossip: max_conns_per_key, connections into our listener
                                    * one node key may hold (default 4, 1..64) */
    uint32_t max_conns;            /* gossip: max_conns, connections into our listener in all
                                    * (default 256, 1..65536) */
    struct fm_peer_conf peers[FM_CONFIG_MAX_PEERS];
    size_t npeers;
    struct fm_gps_conf gps;        /* gps: the GPS reader (node/gps/, docs/gps.md) */
    struct fm_console_conf console; /* console: the browser console (node/console/) */
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
