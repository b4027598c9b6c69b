/*
 * node.h — a fieldmesh node: its configuration, its LMDB store of signed
 * ops, the entities materialized from them, and the reads the CLI needs.
 *
 * Every write makes one signed op in this node's log and applies it to the
 * entities in the same LMDB write transaction. Ops from other authors come
 * in through fm_node_ingest() (gossip, bundles) and go through the same
 * checks and the same apply. State is a deterministic function of the set
 * of stored ops: fm_node_digest() is equal on two nodes holding the same ops.
 *
 * Several processes may open the same data directory (the daemon and any
 * number of CLI invocations): LMDB serializes writers.
 */
#ifndef FM_NODE_H
#define FM_NODE_H

#include "../crypto/crypto.h"
#include "../sync/sync.h"

/* ======================= configuration ======================= */
#define FM_PATH_MAX 512
#define FM_ENDPOINT_MAX 256
#define FM_CONFIG_MAX_PEERS 64

struct fm_peer_conf {
    char endpoint[FM_ENDPOINT_MAX]; /* e.g. tcp://127.0.0.1:7401 */
    uint8_t pk[FM_PK_LEN];          /* the peer's node key */
    char name[FM_NAME_MAX];         /* optional label, "" if none */
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
    uint32_t push_interval_ms;     /* gossip: push_interval_ms (default 50) */
    uint32_t anti_entropy_ms;      /* gossip: anti_entropy_ms (default 2000) */
    uint32_t heartbeat_ms;         /* gossip: heartbeat_ms (default 1000) */
    uint32_t batch_ops;            /* gossip: batch_ops (default 512) */
    uint32_t max_skew_ms;          /* gossip: max_skew_ms (default 300000) */
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

/* ======================= the node ======================= */
struct fm_node;

enum fm_open_flags {
    FM_OPEN_READ = 0,        /* read and ingest; no identity needed */
    FM_OPEN_IDENTITY = 1,    /* also load the secret key + certificate: needed to author ops */
};

/* Opens (creating if needed) the LMDB environment in cfg->data_dir.
 * With FM_OPEN_IDENTITY, FM_EKEYPERM if the key file is readable by
 * others, FM_ENOTFOUND if there is no key or certificate, FM_ECERT if the
 * certificate is not for this key or not from cfg->org_pk. The node keeps
 * a copy of cfg. */
int fm_node_open(struct fm_node **out, const struct fm_config *cfg, unsigned flags) FM_MUST_USE;
void fm_node_close(struct fm_node **np);
/* This node's public key (zeros if opened without identity). */
const uint8_t *fm_node_pk(const struct fm_node *n);
const struct fm_config *fm_node_config(const struct fm_node *n);

/* ---- entity ids ----
 * "<tag>-<seq>": tag = first FM_KEY_TAG_LEN chars of the author's key
 * text, seq = the seq of the op that created the entity. e.g. "k3mx9q2a-17".
 * Commands accept any unambiguous prefix; an exact match always wins. */
#define FM_ID_MAX 32
enum fm_entity_kind { FM_ENT_INCIDENT = 1, FM_ENT_UNIT = 2, FM_ENT_RESOURCE = 3 };
/* FM_ENOTFOUND, FM_EAMBIGUOUS (out gets the first two matches "a, b"). */
int fm_node_resolve_id(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                       char out[FM_ID_MAX]) FM_MUST_USE;

/* ---- incidents ---- */
enum fm_incident_stage {
    FM_STAGE_NEW = 0, FM_STAGE_DISPATCHED, FM_STAGE_ENROUTE, FM_STAGE_ONSCENE,
    FM_STAGE_RESOLVED, FM_STAGE_CLOSED,
};
const char *fm_stage_name(enum fm_incident_stage s);
int fm_stage_parse(const char *s, enum fm_incident_stage *out) FM_MUST_USE; /* also "reopen" -> FM_EINVAL */

#define FM_CATEGORY_MAX 32
#define FM_TEXT_MAX 1024
#define FM_ADDRESS_MAX 256
#define FM_PHONE_MAX 32

struct fm_incident {
    char id[FM_ID_MAX];
    char category[FM_CATEGORY_MAX];
    uint8_t priority; /* 1 (highest) .. 5 */
    enum fm_incident_stage stage;
    uint32_t epoch; /* bumped by each reopen */
    int32_t lat_e7, lon_e7; /* degrees * 1e7 */
    char address[FM_ADDRESS_MAX];
    char caller[FM_PHONE_MAX];
    char desc[FM_TEXT_MAX];
    char reporter[FM_KEY_TEXT_LEN]; /* author of the report op */
    uint64_t reported_hlc, updated_hlc;
    uint32_t nnotes; /* timeline entries */
};

struct fm_incident_new {
    const char *category; /* required, [a-z0-9_-]{1,31} */
    uint8_t priority;     /* 1..5, 0 = default 3 */
    int32_t lat_e7, lon_e7;
    const char *address, *caller, *desc; /* NULL = empty */
};

struct fm_timeline_entry {
    uint64_t hlc;
    char author[FM_KEY_TEXT_LEN];
    uint64_t seq;
    char kind[16]; /* "report", "note", "status", "update" */
    char text[FM_TEXT_MAX];
};

/* Each write below: one signed op, stored and applied in one transaction,
 * durable (fsync'd) when it returns 0. Needs FM_OPEN_IDENTITY. */
int fm_node_incident_report(struct fm_node *n, const struct fm_incident_new *in,
                            char id_out[FM_ID_MAX]) FM_MUST_USE;
int fm_node_incident_note(struct fm_node *n, const char *id, const char *text) FM_MUST_USE;
/* Moves the status forward in the (epoch, stage) lattice. FM_ESTATE if
 * `stage` is not after the current stage; reopen = true starts a new
 * epoch at FM_STAGE_NEW (only from resolved/closed). */
int fm_node_incident_status(struct fm_node *n, const char *id, enum fm_incident_stage stage,
                            bool reopen) FM_MUST_USE;

struct fm_incident_filter {
    int stage;            /* -1 = any */
    const char *category; /* NULL = any */
};
typedef int (*fm_incident_cb)(void *ctx, const struct fm_incident *inc);
/* Calls cb for each matching incident, newest report first. A nonzero cb
 * return stops the walk and is returned. */
int fm_node_incidents(struct fm_node *n, const struct fm_incident_filter *f,
                      fm_incident_cb cb, void *ctx) FM_MUST_USE;
int fm_node_incident_get(struct fm_node *n, const char *id, struct fm_incident *out) FM_MUST_USE;
typedef int (*fm_timeline_cb)(void *ctx, const struct fm_timeline_entry *e);
/* Timeline in (hlc, author, seq) order. */
int fm_node_incident_timeline(struct fm_node *n, const char *id, fm_timeline_cb cb,
                              void *ctx) FM_MUST_USE;

/* ---- units ---- */
#define FM_UNIT_STATUS_MAX 16
struct fm_unit {
    char id[FM_ID_MAX];
    char name[FM_NAME_MAX];
    char department[FM_NAME_MAX];
    uint8_t tier;
    char kind[FM_NAME_MAX];         /* patrol, medical, fire, ... */
    char capabilities[FM_TEXT_MAX]; /* comma-separated, sorted, unique */
    char status[FM_UNIT_STATUS_MAX]; /* available, assigned, onscene, offline */
    bool has_position;
    int32_t lat_e7, lon_e7;
    uint64_t position_hlc, updated_hlc;
};
struct fm_unit_new {
    const char *name, *department, *kind, *capabilities; /* capabilities may be NULL */
    uint8_t tier; /* 1..3 */
};
int fm_node_unit_register(struct fm_node *n, const struct fm_unit_new *in,
                          char id_out[FM_ID_MAX]) FM_MUST_USE;
/* status: available | assigned | onscene | offline (FM_EINVAL otherwise) */
int fm_node_unit_status(struct fm_node *n, const char *id, const char *status) FM_MUST_USE;
int fm_node_unit_position(struct fm_node *n, const char *id, int32_t lat_e7,
                          int32_t lon_e7) FM_MUST_USE;
typedef int (*fm_unit_cb)(void *ctx, const struct fm_unit *u);
int fm_node_units(struct fm_node *n, fm_unit_cb cb, void *ctx) FM_MUST_USE;
int fm_node_unit_get(struct fm_node *n, const char *id, struct fm_unit *out) FM_MUST_USE;

/* ---- resources (PN-counter quantities) ---- */
struct fm_resource {
    char id[FM_ID_MAX];
    char kind[FM_NAME_MAX];  /* pump, sandbag, generator, ... */
    char depot[FM_NAME_MAX];
    int64_t quantity;        /* sum of all increments minus all decrements; may be < 0 after a heal */
    uint64_t updated_hlc;
};
int fm_node_resource_add(struct fm_node *n, const char *kind, const char *depot, int64_t qty,
                         char id_out[FM_ID_MAX]) FM_MUST_USE;
/* delta < 0 consumes, > 0 restocks. Consuming more than this node sees in
 * stock is FM_ESTATE. */
int fm_node_resource_adjust(struct fm_node *n, const char *id, int64_t delta) FM_MUST_USE;
typedef int (*fm_resource_cb)(void *ctx, const struct fm_resource *r);
int fm_node_resources(struct fm_node *n, fm_resource_cb cb, void *ctx) FM_MUST_USE;

/* ---- trust ---- */
/* Appends a revocation (signed by the org root) to this node's log. */
int fm_node_publish_revocation(struct fm_node *n, const struct fm_revocation *rev) FM_MUST_USE;

/* ---- the raw log ---- */
struct fm_log_entry {
    char author[FM_KEY_TEXT_LEN];
    uint64_t seq;
    uint64_t hlc;
    uint8_t kind;
    const char *kind_name;       /* static */
    uint8_t hash[FM_HASH_LEN];
    uint8_t prev[FM_HASH_LEN];
    uint8_t sig[FM_SIG_LEN];
    const uint8_t *payload;      /* valid only during the callback */
    uint32_t payload_len;
    char summary[FM_TEXT_MAX];   /* human-readable decoded payload */
};
typedef int (*fm_log_cb)(void *ctx, const struct fm_log_entry *e);
/* All stored ops (author order, then seq), or one author's if author != NULL. */
int fm_node_log(struct fm_node *n, const uint8_t *author, fm_log_cb cb, void *ctx) FM_MUST_USE;

/* ---- whole-state ---- */
/* BLAKE2b over the canonical encoding of all entities. */
int fm_node_digest(struct fm_node *n, uint8_t out[FM_HASH_LEN]) FM_MUST_USE;
/* Drops all entities and re-applies every stored op. */
int fm_node_rebuild(struct fm_node *n) FM_MUST_USE;

struct fm_node_stats {
    uint64_t ops, authors, entities;
    uint64_t store_bytes; /* size of data.mdb in use */
    uint64_t map_size;
    uint64_t hlc;         /* this node's clock high-water mark */
    uint64_t rejected;    /* ops refused by ingest since the store was made */
};
int fm_node_stats(struct fm_node *n, struct fm_node_stats *out) FM_MUST_USE;

/* ---- replication interface (used by the daemon's sync and by bundles);
 * struct fm_head and struct fm_ingest_result are in sync.h ---- */
/* The version vector: one head per author, sorted by author. *out is
 * malloc'd (caller frees). */
int fm_node_heads(struct fm_node *n, struct fm_head **out, size_t *count) FM_MUST_USE;
/* Appends ops of `author` with seq >= from_seq to out, each as u32 length
 * + op bytes, stopping after max_ops ops or once out->len >= max_bytes. */
int fm_node_read_ops(struct fm_node *n, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                     size_t max_ops, size_t max_bytes, struct fm_buf *out,
                     size_t *count) FM_MUST_USE;

/* Ingests n ops (any authors, any order; each ops[i] is lens[i] bytes).
 * Ops are grouped per author and sorted by seq; for each contiguous run
 * every prev link is checked and the signature of the run's last op is
 * verified before anything of it is stored; the run's first op must chain
 * onto the stored head (or be a valid certificate op at seq 1). A run that
 * fails is rejected whole; other authors' runs are unaffected. Stored and
 * applied in one write transaction. Returns 0 unless the store itself
 * failed; per-op refusals are reported in res. */
int fm_node_ingest(struct fm_node *n, const uint8_t *const *ops, const size_t *lens, size_t nops,
                   struct fm_ingest_result *res) FM_MUST_USE;

/* ======================= the running daemon =======================
 * The CLI talks to a running fieldmeshd over cfg->control (an ipc://
 * socket). Both calls are bounded in time and harmless when no daemon runs:
 * the CLI keeps working on the shared LMDB store either way. */

/* Tells the daemon listening on cfg->control that new local ops exist, so
 * they are pushed to peers now rather than at the next poll. Waits at most
 * ~100 ms. Returns 0 when the daemon acknowledged, FM_ENET when none
 * listens (callers may ignore that: the daemon also polls the store). */
int fm_node_nudge(const struct fm_config *cfg) FM_MUST_USE;

struct fm_peer_info {
    char name[FM_NAME_MAX];         /* config label, or the key tag if none */
    char endpoint[FM_ENDPOINT_MAX]; /* "" for a peer that dialled us */
    uint8_t pk[FM_PK_LEN];          /* its node key */
    bool configured;                /* listed in our config */
    bool connected;                 /* heard from recently */
    bool vector_known;              /* we know its version vector (so it_lacks is exact) */
    bool eager;                     /* new ops are pushed to it (else announced lazily) */
    uint64_t last_heard_ms;         /* Unix ms of its last message, 0 = never */
    uint64_t we_lack;               /* ops it holds that we do not */
    uint64_t it_lacks;              /* ops we hold that it does not */
    int64_t skew_ms;                /* its clock minus ours when last heard (0 = unknown) */
    uint64_t ops_received;          /* ops it sent us that we stored */
    uint64_t ops_sent;              /* ops we sent it (pushes and pull replies) */
    uint64_t bad_messages;          /* its messages we dropped (malformed, forged, ...) */
};

struct fm_daemon_info {
    uint64_t uptime_ms;
    uint64_t pid;
    uint64_t ops_stored;     /* ops ingested from peers since start */
    uint64_t ops_rejected;   /* ops refused by ingest since start */
    uint64_t msgs_dropped;   /* malformed / unexpected messages dropped */
    uint64_t zap_refused;    /* handshakes refused by the ZAP handler */
};

/* The store as the sync engine sees it (struct fm_sync_store in sync.h):
 * heads, read_ops and ingest call fm_node_heads / fm_node_read_ops /
 * fm_node_ingest; admit accepts an author whose log (starting with a valid
 * certificate, checked at ingest) this node holds and who is not revoked.
 * n must outlive every use of *out. */
void fm_node_sync_store(struct fm_node *n, struct fm_sync_store *out);

/* Asks the daemon on cfg->control for its peers. On success *out is a
 * malloc'd array of *n entries (caller frees; NULL when n == 0) and *info
 * is filled. FM_ENET if no daemon answers within ~500 ms, FM_EDECODE if
 * the reply is malformed. */
int fm_node_daemon_peers(const struct fm_config *cfg, struct fm_daemon_info *info,
                         struct fm_peer_info **out, size_t *n) FM_MUST_USE;

#endif
