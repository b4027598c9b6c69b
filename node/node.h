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

/* ======================= the node ======================= */
struct fm_node;

enum fm_open_flags {
    FM_OPEN_READ = 0,        /* read and ingest; no identity needed */
    FM_OPEN_IDENTITY = 1,    /* also load the secret key + certificate: needed to author ops */
};

/* ---- keys at rest (node/unlock.c, node/keyserve.c; docs/security.md) ----
 * The node's identity key and its data key (which seals every stored
 * value), both kept sealed on disk under one passphrase or key file. */
struct fm_keys {
    bool has_id;             /* false for a node without trust.key */
    int id_err;              /* why not, when the key is there (FM_EKEYPERM) */
    struct fm_identity id;   /* guarded memory */
    struct fm_seal_key data; /* guarded memory */
};
void fm_keys_release(struct fm_keys *k); /* wipes; k may be zeroed or released */
int fm_keys_copy(struct fm_keys *dst, const struct fm_keys *src) FM_MUST_USE;
/* Opens trust.key (if present) and <data_dir>/data.key with secret; makes
 * the data key (sealed with cfg->kdf) when neither it nor a store exists.
 * FM_EPASSPHRASE wrong secret, FM_EPLAIN an unsealed key or a store from
 * before encryption at rest, FM_ESHREDDED the data key was destroyed,
 * FM_EKEYPERM, FM_EDECODE. k is zeroed on failure. */
int fm_keys_unlock(struct fm_keys *k, const struct fm_config *cfg, const void *secret,
                   size_t len) FM_MUST_USE;
/* The same with the contents of a passphrase or key file (one trailing
 * newline dropped; FM_EKEYPERM if group/world readable, FM_EINVAL empty). */
int fm_keys_unlock_file(struct fm_keys *k, const struct fm_config *cfg,
                        const char *path) FM_MUST_USE;
int fm_keys_read_secret(const char *path, uint8_t *out, size_t cap, size_t *len) FM_MUST_USE;
/* From the running daemon's key socket (same Unix user or root only):
 * FM_ELOCKED when no daemon answers, FM_EPERM for another user's daemon. */
int fm_keys_from_daemon(struct fm_keys *k, const struct fm_config *cfg) FM_MUST_USE;
/* The daemon, else cfg->passphrase_file, else FM_ELOCKED. */
int fm_keys_get(struct fm_keys *k, const struct fm_config *cfg) FM_MUST_USE;
/* Seals an identity (`given`, or a new one if NULL) at trust.key (+ .pub)
 * and, if no store exists, makes the data key, both under secret with
 * cfg->kdf. FM_EEXISTS if a key is there. Writes the public key to pk_out. */
int fm_keys_generate(const struct fm_config *cfg, const void *secret, size_t len,
                     const struct fm_identity *given, uint8_t pk_out[FM_PK_LEN]) FM_MUST_USE;
/* Finds the passphrase (node/passphrase.c): arg_file, else
 * $CREDENTIALS_DIRECTORY/fieldmesh-passphrase, else cfg->passphrase_file,
 * else a prompt on /dev/tty (asked twice if `twice`); FM_ELOCKED with none.
 * `from` gets where it came from (for messages). */
int fm_passphrase_find(const struct fm_config *cfg, const char *arg_file, bool twice,
                       uint8_t *out, size_t cap, size_t *len, char *from,
                       size_t fromcap) FM_MUST_USE;
/* fm_passphrase_find then fm_keys_unlock. */
int fm_keys_unlock_any(struct fm_keys *k, const struct fm_config *cfg, const char *arg_file,
                       char *from, size_t fromcap) FM_MUST_USE;
/* Crypto-shred: wipes k's data key (k may be NULL), writes the
 * data.key.shredded marker saying why, overwrites and removes data.key. */
int fm_keys_shred(const struct fm_config *cfg, struct fm_keys *k, const char *why) FM_MUST_USE;
/* <data_dir>/name into out. */
int fm_keys_path(const struct fm_config *cfg, const char *name, char *out, size_t cap) FM_MUST_USE;
/* Strict decoder of the key socket's message (exposed for the fuzzer). */
int fm_keys_decode(struct fm_keys *k, const uint8_t *p, size_t n) FM_MUST_USE;
/* The daemon's key server on <data_dir>/keys.sock (a thread; keeps a copy
 * of k). stop joins the thread, removes the socket and wipes the copy. */
struct fm_keyserve;
int fm_keyserve_start(struct fm_keyserve **out, const struct fm_config *cfg,
                      const struct fm_keys *k) FM_MUST_USE;
void fm_keyserve_stop(struct fm_keyserve **ksp);

/* Opens (creating if needed) the LMDB environment in cfg->data_dir, its
 * values sealed under the data key from fm_keys_get (the daemon or
 * cfg->passphrase_file): FM_ELOCKED when neither is there, and the errors
 * of fm_keys_unlock. With FM_OPEN_IDENTITY, FM_ENOTFOUND if there is no
 * key or certificate, FM_ECERT if the certificate is not for this key or
 * not from cfg->org_pk. A node that finds itself revoked shreds its data
 * key and fails with FM_ESHREDDED. The node keeps a copy of cfg. */
int fm_node_open(struct fm_node **out, const struct fm_config *cfg, unsigned flags) FM_MUST_USE;
/* The same with keys the caller holds (copied; the caller keeps k). */
int fm_node_open_keys(struct fm_node **out, const struct fm_config *cfg, unsigned flags,
                      const struct fm_keys *k) FM_MUST_USE;
/* True when this node's own key is revoked in its store (the daemon then
 * shreds: fm_keys_shred). */
bool fm_node_self_revoked(struct fm_node *n);
void fm_node_close(struct fm_node **np);
/* This node's public key (zeros if opened without identity). */
const uint8_t *fm_node_pk(const struct fm_node *n);
const struct fm_config *fm_node_config(const struct fm_node *n);

/* ---- entity ids ----
 * "<tag>-<seq>": tag = first FM_KEY_TAG_LEN chars of the author's key
 * text, seq = the seq of the op that created the entity. e.g. "k3mx9q2a-17".
 * Commands accept any unambiguous prefix; an exact match always wins. */
#define FM_ID_MAX 32
enum fm_entity_kind { FM_ENT_INCIDENT = 1, FM_ENT_UNIT = 2, FM_ENT_RESOURCE = 3,
                      /* linkage workflow (see the section at the end) */
                      FM_ENT_TICKET = 4, FM_ENT_REQUEST = 5, FM_ENT_BULLETIN = 6 };
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
/* Fields an edit changes (NULL / 0 / false = unchanged; at least one). */
struct fm_incident_edit {
    const char *category; /* [a-z0-9_-]{1,31} */
    uint8_t priority;     /* 1..5 */
    bool has_location;
    int32_t lat_e7, lon_e7;
    const char *address, *caller, *desc;
};
/* Changes an incident's plain fields (one incident.update op; each field
 * last-writer-wins). Only centre, county and admin nodes edit any
 * incident; other roles only one they reported: FM_EPERM otherwise, here
 * and at ingest on every node (docs/workflow.md §4). FM_EINVAL when
 * nothing would change or a value is out of range. */
int fm_node_incident_edit(struct fm_node *n, const char *id,
                          const struct fm_incident_edit *e) FM_MUST_USE;
/* Moves the status forward in the (epoch, stage) lattice. FM_ESTATE if
 * `stage` is not after the current stage; reopen = true starts a new
 * epoch at FM_STAGE_NEW (only from resolved/closed). FM_EPERM as for
 * fm_node_incident_edit (checked before the state). */
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
/* FM_EEXISTS when a unit of that department and name is registered
 * already (by hand or by the directory); id_out then names it. */
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
    uint32_t void_changes;   /* changes by a unit naming another depot as its own: ignored */
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
/* Renews this node's certificate: appends a cert.renew op carrying `cert`
 * (a new certificate for this node's key from this org, e.g. from `org
 * enroll` of the same key), which moves the validity window (and role,
 * tier, unit, name) of this author on every node. Works when the old
 * certificate has expired. FM_ECERT (another key, or a bad signature),
 * FM_EFOREIGN (another org), FM_EEXPIRED (not valid now), FM_EEXISTS (that
 * very window is already in force), FM_EREVOKED. Needs FM_OPEN_IDENTITY. */
int fm_node_renew_cert(struct fm_node *n, const struct fm_cert *cert) FM_MUST_USE;

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
    uint64_t soft_unit_refused; /* soft positions dropped: a station or vehicle placing
                                 * a unit its certificate does not name */
};
int fm_node_stats(struct fm_node *n, struct fm_node_stats *out) FM_MUST_USE;

/* The hash of the author's op at seq as this store holds it (what a
 * revocation at that seq names as the head): FM_ENOTFOUND if not held. */
int fm_node_op_hash(struct fm_node *n, const uint8_t author[FM_PK_LEN], uint64_t seq,
                    uint8_t out[FM_HASH_LEN]) FM_MUST_USE;

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
/* fm_node_ingest, also telling each op's fate in each[i] (a caller's array
 * of nops ints, filled when 0 is returned): FM_INGEST_STORED,
 * FM_INGEST_HELD (already stored), or the negative error the op was
 * refused with. */
enum { FM_INGEST_STORED = 0, FM_INGEST_HELD = 1 };
int fm_node_ingest_each(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                        size_t nops, struct fm_ingest_result *res, int *each) FM_MUST_USE;

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
    bool revoked;                   /* its key was revoked or expired: connections dropped */
    uint32_t rate_limit_bps;        /* send limit towards it, 0 = none */
    uint64_t queued_bytes;          /* bytes waiting for that limit */
    bool refused_us;                /* it refused our handshake: we are not admitted there
                                     * (revoked, or not enrolled) */
    bool cloned_key;                /* its key spoke on two live connections into our
                                     * listener at once lately (a cloned key?) */
};

struct fm_daemon_info {
    uint64_t uptime_ms;
    uint64_t pid;
    uint64_t ops_stored;     /* ops ingested from peers since start */
    uint64_t ops_rejected;   /* ops refused by ingest since start */
    uint64_t msgs_dropped;   /* malformed / unexpected messages dropped */
    uint64_t zap_refused;    /* handshakes refused by the ZAP handler */
    uint64_t soft_stored;    /* soft-state records taken from peers since start */
    uint64_t peers_dropped;  /* connections dropped for a revoked or expired key */
    /* the store could not take ops (full disk, map at its cap, I/O error):
     * a local fault, not refusals; pulls wait ingest_backoff_ms */
    uint64_t ingest_faults;  /* ingests that failed in the store since start */
    int ingest_fault_err;    /* the fault now (FM_EMAPFULL, FM_EIO, ...), 0 = none */
    uint64_t ingest_backoff_ms; /* the pause of pulls now, 0 = none */
    uint64_t key_conns_refused; /* connections refused: over network.max_conns_per_key */
    uint64_t pulls_deferred; /* PULLs answered later: the key's reply budget was spent */
    uint64_t clone_alerts;   /* times a key was seen on two live connections at once */
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

/* ======================= field sync =======================
 * Soft state, sneakernet bundles, fork safety, clock flags and staleness
 * (node/softstate.c, bundle.c, fork.c; docs/field-sync.md). */

/* ---- soft state: the latest position per unit, presence per node ----
 * Signed by the author, not chained, last-writer-wins by (hlc, author),
 * not part of the digest. A unit's listed position (fm_node_unit_get,
 * fm_node_units) is the newer of its soft and its logged position. */
/* Records the unit's position as soft state (needs FM_OPEN_IDENTITY). */
int fm_node_soft_position(struct fm_node *n, const char *unit, int32_t lat_e7,
                          int32_t lon_e7) FM_MUST_USE;
/* Records "this node is alive now" (fieldmeshd calls it periodically). */
int fm_node_soft_presence(struct fm_node *n) FM_MUST_USE;
/* The sync interface for soft state (see struct fm_sync_store). */
int fm_node_soft_read(struct fm_node *n, uint64_t after, size_t max_bytes, struct fm_buf *out,
                      size_t *count, uint64_t *last) FM_MUST_USE;
int fm_node_soft_ingest(struct fm_node *n, const uint8_t *const *recs, const size_t *lens,
                        size_t nrecs, size_t *stored) FM_MUST_USE;
#define FM_SOFT_MAX_RECORDS 100000 /* bound of the soft store */

/* ---- authors as this node has heard of them (staleness, clock flags) ---- */
struct fm_author_seen {
    uint8_t pk[FM_PK_LEN];
    char name[FM_NAME_MAX];
    enum fm_role role;
    uint64_t seq;              /* ops held */
    uint64_t last_op_ms;       /* time stamped on its newest op held */
    uint64_t last_presence_ms; /* its newest presence record, 0 = none */
    uint64_t last_seen_ms;     /* the later of the two (capped at our clock) */
    uint64_t future_ops;       /* its ops stamped beyond max_skew_ms ahead of us on arrival */
    uint64_t future_max_ms;    /* how far ahead at most */
    bool revoked;
    /* expiry vs back-dating (node/backdate.c): its ops stored here when our
     * clock was past its certificate's expiry + max_skew_ms (stamped before
     * it), and its ops whose base lies past that expiry */
    uint64_t late_ops, late_first_seq, late_last_seq;
    uint64_t late_expires_ms, late_detected_ms; /* Unix ms */
    uint64_t beyond_expiry_ops, beyond_expiry_first_seq;
};
/* One entry per author held, sorted by key; *out malloc'd (caller frees). */
int fm_node_authors_seen(struct fm_node *n, struct fm_author_seen **out,
                         size_t *count) FM_MUST_USE;
/* The author of the newest timeline entry of an incident (the last node
 * that changed it). */
int fm_node_incident_last_author(struct fm_node *n, const char *id,
                                 uint8_t pk[FM_PK_LEN]) FM_MUST_USE;

/* ---- fork safety ----
 * Two different signed ops with one author and seq are kept as evidence
 * (in the store, and as a fork.evidence op that gossips); every node keeps
 * the one with the smaller (hlc, hash) and drops the other branch, so no
 * replica diverges. A node does not sign while it is behind its own log
 * (peers hold more of it, or its key was used but its store holds none). */
struct fm_fork_info {
    uint8_t author[FM_PK_LEN];
    uint64_t seq;
    uint8_t kept[FM_HASH_LEN], dropped[FM_HASH_LEN];
    uint64_t kept_hlc, dropped_hlc;
    uint8_t dropped_kind;
    bool published; /* known from (or sent as) a fork.evidence op */
    bool root;      /* the two ops share their prev: this settles the seq. Else
                     * the pair follows from a fork lower down, and kept and
                     * dropped only name its two ops (in (hlc, hash) order):
                     * the settled root decides which one a store holds */
};
typedef int (*fm_fork_cb)(void *ctx, const struct fm_fork_info *f);
int fm_node_forks(struct fm_node *n, fm_fork_cb cb, void *ctx) FM_MUST_USE;
/* Two diverging writers on one key (a cloned key, or a backup signing
 * beside the original): every fork root (two ops on one prev) whose
 * author is not revoked. *out malloc'd (caller frees), NULL if none. */
struct fm_clone_alert {
    uint8_t author[FM_PK_LEN];
    char name[FM_NAME_MAX];
    uint64_t seq;                  /* the fork's root */
    uint64_t kept_hlc, dropped_hlc;
};
int fm_node_diverging_writers(struct fm_node *n, struct fm_clone_alert **out,
                              size_t *count) FM_MUST_USE;
/* fieldmeshd, once a second: logs a WARN line (rate-limited) when there
 * are more such alerts than *known, then sets *known to their number. */
int fm_node_clone_watch(struct fm_node *n, size_t *known) FM_MUST_USE;
/* Writes a fork.evidence op for each fork detected here and not yet
 * published (fieldmeshd); *count = ops written. Does nothing while this
 * node may not sign (fork_guard). */
int fm_node_fork_publish(struct fm_node *n, size_t *count) FM_MUST_USE;
/* Peers hold this node's own log up to seq (from sync). */
int fm_node_own_claim(struct fm_node *n, uint64_t seq) FM_MUST_USE;
/* If this identity's log is empty, appends its certificate op (so peers
 * that do not list it admit it). FM_EFORK when the key was used before
 * and its log must first be recovered from peers. */
int fm_node_ensure_cert(struct fm_node *n) FM_MUST_USE;
/* Re-entering this node's own ops that a fork settling dropped
 * (node/fork_reenter.c, docs/field-sync.md §5): each op this store held
 * and lost is signed again as a new op once the node may sign, exactly
 * once, references into its own lost branch moved to the new copies. */
enum fm_reentry_state { FM_REENTRY_PENDING = 0, FM_REENTRY_DONE = 1, FM_REENTRY_SKIPPED = 2 };
struct fm_reentry {
    uint64_t lost_seq;              /* the dropped op: seq, hash, kind, stamp */
    uint8_t lost_hash[FM_HASH_LEN];
    uint8_t kind;
    const char *kind_name;          /* static: "incident.report", ... */
    uint64_t lost_hlc;
    enum fm_reentry_state state;
    uint64_t new_seq;               /* DONE: the seq of the new copy */
    char old_id[FM_ID_MAX];         /* <tag>-<lost_seq> (names the kept op now) */
    char new_id[FM_ID_MAX];         /* DONE: <tag>-<new_seq>, else "" */
    const char *reason;             /* SKIPPED: why (static text), else NULL */
};
typedef int (*fm_reentry_cb)(void *ctx, const struct fm_reentry *e);
/* Every dropped op of this node's own key this store held, in (seq, hash)
 * order; nothing without an identity. A nonzero cb return stops and is
 * returned. */
int fm_node_fork_reentries(struct fm_node *n, fm_reentry_cb cb, void *ctx) FM_MUST_USE;
/* Re-enters the pending ones now if this node may sign (fieldmeshd, once a
 * second; every local write does it too, first). *count = records settled
 * (re-entered or skipped); 0 and FM_OK when there is nothing to do. */
int fm_node_fork_reenter(struct fm_node *n, size_t *count) FM_MUST_USE;
struct fm_self_state {
    uint64_t head;        /* own ops held */
    uint64_t peers_hold;  /* own ops peers were last seen to hold (0 = none claimed) */
    bool key_used;        /* <key>.used exists: this key signed ops before */
    bool may_sign;        /* fork_guard would pass */
};
int fm_node_self_state(struct fm_node *n, struct fm_self_state *out) FM_MUST_USE;

/* ---- bundles (sneakernet) ----
 * A bundle file carries ops (as stored, signed by their authors) signed by
 * the exporting node and encrypted: to one node's key when the export is
 * --for that node's vector file, else to the organisation's bundle key
 * (<data_dir>/bundle.key, handed out with enrollment). Import verifies the
 * exporter's signature and certificate before decrypting, then feeds the
 * ops through fm_node_ingest. Any damage rejects the bundle whole. */
#define FM_BUNDLE_MAX_BYTES (256u * 1024u * 1024u)
/* Writes this node's version vector (who and up to which seq) to path. */
int fm_node_vector_write(struct fm_node *n, const char *path) FM_MUST_USE;
struct fm_bundle_opts {
    const char *for_vector; /* a vector file: only what it lacks, sealed to its node */
    uint64_t since_ms;      /* else: ops stamped at or after this (0 = everything) */
    const char *key_path;   /* org bundle key (NULL = <data_dir>/bundle.key) */
};
struct fm_bundle_info {
    uint8_t exporter[FM_PK_LEN];
    char exporter_name[FM_NAME_MAX];
    uint64_t created_ms;
    uint64_t ops;
    uint32_t authors;
    bool sealed_to_node;  /* else to the org bundle key */
    bool truncated;       /* hit FM_BUNDLE_MAX_BYTES: export again after import */
    /* import: refused ops by reason (fm_err), the most frequent reasons
     * first; per-op refusals are not logged one by one */
    struct {
        int err;
        uint64_t count;
    } refused[8];
    uint32_t n_refused_reasons; /* entries of refused[] in use */
};
/* Needs FM_OPEN_IDENTITY. FM_ENOTFOUND if the org bundle key is missing
 * (and not --for), FM_EDECODE for a bad vector file. */
int fm_node_bundle_export(struct fm_node *n, const char *path, const struct fm_bundle_opts *o,
                          struct fm_bundle_info *info) FM_MUST_USE;
/* FM_EVERIFY: signature, certificate or decryption failed (tampered or
 * not for us; nothing imported); FM_EDECODE: malformed; FM_ENOTFOUND: no
 * key to open it. res gets the ingest outcome. */
int fm_node_bundle_import(struct fm_node *n, const char *path, const char *key_path,
                          struct fm_bundle_info *info, struct fm_ingest_result *res) FM_MUST_USE;
/* Creates a new organisation bundle key file (mode 0600); FM_EEXISTS. */
int fm_bundle_key_create(const char *path) FM_MUST_USE;

/* ======================= linkage workflow =======================
 * The organisation directory and its classification rules, proposed
 * dispatch, tickets, escalation, materials, bulletins, conflicts and the
 * assessment report (node/workflow*.c, node/directory*.c; docs/workflow.md).
 * Every write below is one or more signed ops like the writes above (needs
 * FM_OPEN_IDENTITY); every merge is commutative, so replicas holding the
 * same ops agree. Role permissions are checked on every op, local or
 * ingested (FM_EPERM): only admin and centre publish the directory; only
 * centre and county dispatch, reassign, cancel, escalate and resolve. */

/* ---- the organisation directory ---- */
#define FM_DIR_MAX_COUNTIES 64
#define FM_DIR_MAX_DEPTS 256
#define FM_DIR_MAX_UNITS 2048
#define FM_DIR_MAX_RULES 128
#define FM_DIR_MAX_RESPOND 16
#define FM_DIR_CAPS_MAX 256

struct fm_dir_dept {
    char name[FM_NAME_MAX];
    char kind[FM_NAME_MAX];   /* police, fire, medical, gas, ... */
    uint8_t tier;             /* 1..3 */
    uint16_t county;          /* index into counties */
};
struct fm_dir_unit {
    char name[FM_NAME_MAX];   /* unique in the directory; matches the unit entity's name */
    uint16_t dept;            /* index into depts */
    char kind[FM_NAME_MAX];   /* engine, ambulance, patrol, ... */
    char caps[FM_DIR_CAPS_MAX]; /* canonical: sorted, unique, comma-separated */
    int32_t lat_e7, lon_e7;   /* home station */
};
struct fm_dir_respond {
    uint8_t tier;                        /* 1..3 */
    char kind[FM_NAME_MAX];              /* department kind */
    char department[FM_NAME_MAX];        /* "" = any department of that kind */
    char capability[FM_CATEGORY_MAX];    /* "" = any unit */
    uint8_t units;                       /* how many units, 1..9 */
};
struct fm_dir_rule {
    char category[FM_CATEGORY_MAX];
    uint8_t priority;           /* default priority 1..5 */
    uint8_t escalate_priority;  /* 0 = never; priority <= this brings in tier 2 at once */
    uint32_t escalate_after_s;  /* 0 = never; no acknowledgement by then brings in the next tier */
    uint32_t target_s;          /* response target (report -> on scene, 90th pct); 0 = none */
    uint8_t nrespond;
    struct fm_dir_respond respond[FM_DIR_MAX_RESPOND];
};
struct fm_directory {
    char name[FM_NAME_MAX];
    /* Set when read from the store: the version that won. */
    char version[FM_ID_MAX];          /* id of its first op */
    char publisher[FM_KEY_TEXT_LEN];
    uint64_t version_hlc;
    size_t ncounties, ndepts, nunits, nrules;
    char counties[FM_DIR_MAX_COUNTIES][FM_NAME_MAX];
    struct fm_dir_dept depts[FM_DIR_MAX_DEPTS];
    struct fm_dir_unit units[FM_DIR_MAX_UNITS];
    struct fm_dir_rule rules[FM_DIR_MAX_RULES];
};

/* Parses a directory YAML file (format in docs/workflow.md). On error
 * FM_ECONFIG (or FM_ENOTFOUND / FM_EIO / FM_ENOMEM) with "file:line:column:
 * message" in err. *out is malloc'd; free with fm_directory_free. */
int fm_directory_load_yaml(const char *path, struct fm_directory **out, char *err,
                           size_t errlen) FM_MUST_USE;
void fm_directory_free(struct fm_directory **dp);
/* Lookups; NULL when absent. */
const struct fm_dir_rule *fm_directory_rule(const struct fm_directory *d, const char *category);
const struct fm_dir_unit *fm_directory_unit(const struct fm_directory *d, const char *name);
/* Publishes d as a new version (one or more signed ops; the newest version
 * by (hlc, author) wins everywhere) and registers every directory unit no
 * unit entity carries the name of yet, in the same transaction, under an
 * id derived from (department, unit name): every publisher registers the
 * same entity, so concurrent publishes leave one unit per directory unit. */
int fm_node_directory_publish(struct fm_node *n, const struct fm_directory *d,
                              char version_out[FM_ID_MAX], size_t *registered) FM_MUST_USE;
/* The winning version; FM_ENOTFOUND if none was published. *out malloc'd. */
int fm_node_directory_get(struct fm_node *n, struct fm_directory **out) FM_MUST_USE;

/* ---- proposed dispatch ---- */
#define FM_SUGGEST_MAX 64
struct fm_suggest_unit {
    char unit[FM_ID_MAX];
    char name[FM_NAME_MAX];
    char department[FM_NAME_MAX];
    char county[FM_NAME_MAX];
    char capability[FM_CATEGORY_MAX]; /* the capability it was picked for ("" = any) */
    uint8_t tier;
    double distance_km;               /* great-circle, from its position to the incident */
    bool live_position;               /* false: the directory's home position */
    int64_t position_age_s;           /* age of the live position; -1 for a home position */
};
struct fm_suggest_gap {               /* a need no available unit could fill */
    uint8_t tier;
    char kind[FM_NAME_MAX];
    char capability[FM_CATEGORY_MAX];
    uint8_t wanted, found;
};
struct fm_suggestion {
    char incident[FM_ID_MAX];
    char category[FM_CATEGORY_MAX];
    uint8_t priority;
    bool has_directory, has_rule;
    uint8_t max_tier;                 /* tiers included (1, or more by priority / escalation) */
    size_t ndepts;
    char departments[FM_SUGGEST_MAX][FM_NAME_MAX]; /* responsible departments, by need */
    size_t nunits;
    struct fm_suggest_unit units[FM_SUGGEST_MAX];
    size_t ngaps;
    struct fm_suggest_gap gaps[FM_DIR_MAX_RESPOND];
};
/* Applies the category's rule: for each need of the tiers in play, the
 * nearest available units (status available and no active ticket) of the
 * matching departments with the capability, by great-circle distance from
 * the last reported position (else the home position) at now_ms. */
int fm_node_dispatch_suggest(struct fm_node *n, const char *incident, uint64_t now_ms,
                             struct fm_suggestion *out) FM_MUST_USE;
/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double fm_great_circle_km(int32_t lat1_e7, int32_t lon1_e7, int32_t lat2_e7, int32_t lon2_e7);
/* The rule's default priority for a category (0 if no directory or rule). */
uint8_t fm_node_default_priority(struct fm_node *n, const char *category);

/* ---- tickets ---- */
enum fm_ticket_step { FM_STEP_ACK = 1, FM_STEP_ENROUTE, FM_STEP_ARRIVE, FM_STEP_CLEAR,
                      FM_STEP_CANCEL };
enum fm_ticket_state { FM_TICKET_DISPATCHED = 0, FM_TICKET_ACKNOWLEDGED, FM_TICKET_ENROUTE,
                       FM_TICKET_ONSCENE, FM_TICKET_CLEARED, FM_TICKET_CANCELLED,
                       FM_TICKET_REASSIGNED };
const char *fm_ticket_state_name(enum fm_ticket_state s);
int fm_ticket_step_parse(const char *s, enum fm_ticket_step *out) FM_MUST_USE;

struct fm_ticket_mark {              /* one step: the first report of it wins */
    uint64_t hlc;                    /* 0 = not reached */
    char author[FM_KEY_TEXT_LEN];
    bool behalf;                     /* recorded by a dispatcher for the unit */
};
struct fm_ticket {
    char id[FM_ID_MAX];
    char incident[FM_ID_MAX];
    char unit[FM_ID_MAX];
    char replaces[FM_ID_MAX];        /* the ticket this one took over ("" if none) */
    enum fm_ticket_state state;
    bool active;                     /* not cleared, cancelled or reassigned */
    struct fm_ticket_mark dispatched, acked, enroute, onscene, cleared, cancelled, reassigned;
    char result[FM_TEXT_MAX];        /* the first clear's result text */
    char reason[FM_TEXT_MAX];        /* the first cancel's / reassign's reason */
    uint32_t events;
    uint32_t void_steps;             /* steps naming another unit or incident: ignored */
    uint64_t updated_hlc;
};
struct fm_ticket_event {
    uint64_t hlc;
    char author[FM_KEY_TEXT_LEN];
    uint64_t seq;
    char step[16];                   /* dispatch, ack, enroute, arrive, clear, cancel, reassign */
    bool behalf;
    char text[FM_TEXT_MAX];
};
/* One ticket per unit (one transaction); ids_out gets nunits ids. Units
 * must exist; FM_ESTATE if one already holds an active ticket; FM_ECLOSED
 * if the incident is resolved or closed (reopen it first). */
int fm_node_dispatch(struct fm_node *n, const char *incident, const char *const *units,
                     size_t nunits, const char *note, char (*ids_out)[FM_ID_MAX]) FM_MUST_USE;
/* A step on a ticket, from the unit's node (a station or vehicle whose
 * certificate's unit is the unit's name or id; recorded as the unit's own)
 * or by a centre, county or admin (recorded on its behalf); FM_EUNIT for a
 * station or vehicle of another unit. text: the result for FM_STEP_CLEAR
 * (required), a reason for FM_STEP_CANCEL (optional). FM_ESTATE when the
 * ticket is closed or already past that step. */
int fm_node_ticket_step(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                        const char *text) FM_MUST_USE;
/* Closes the ticket as reassigned and dispatches `unit` on a new ticket. */
int fm_node_ticket_reassign(struct fm_node *n, const char *ticket, const char *unit,
                            const char *reason, char new_id[FM_ID_MAX]) FM_MUST_USE;
int fm_node_ticket_get(struct fm_node *n, const char *id, struct fm_ticket *out) FM_MUST_USE;
typedef int (*fm_ticket_cb)(void *ctx, const struct fm_ticket *t);
/* All tickets (or one incident's) in id order. */
int fm_node_tickets(struct fm_node *n, const char *incident, fm_ticket_cb cb,
                    void *ctx) FM_MUST_USE;
typedef int (*fm_ticket_event_cb)(void *ctx, const struct fm_ticket_event *e);
/* A ticket's events in (time, author, seq) order. */
int fm_node_ticket_history(struct fm_node *n, const char *id, fm_ticket_event_cb cb,
                           void *ctx) FM_MUST_USE;

/* ---- incident workflow state ---- */
struct fm_incident_workflow {
    char coordinator_unit[FM_ID_MAX];   /* first unit to acknowledge ("" if none) */
    char coordinator_ticket[FM_ID_MAX];
    uint64_t coordinator_hlc;
    uint8_t escalated_tier;             /* highest tier brought in by escalation (0 = none) */
    uint64_t escalated_hlc[4];          /* [tier]: first escalation to it */
    uint32_t escalation_raises[4];      /* [tier]: escalation ops merged into it */
    uint32_t feedback_count;
    uint64_t feedback_sum;
};
int fm_node_incident_workflow(struct fm_node *n, const char *incident,
                              struct fm_incident_workflow *out) FM_MUST_USE;
/* Satisfaction feedback, score 1..5, optional comment. */
int fm_node_incident_feedback(struct fm_node *n, const char *incident, uint8_t score,
                              const char *comment) FM_MUST_USE;
/* Raises an escalation of `incident` to `tier` (2..3); ticket may be NULL. */
int fm_node_escalate(struct fm_node *n, const char *incident, uint8_t tier, const char *ticket,
                     const char *reason) FM_MUST_USE;
/* The periodic check (fieldmeshd calls it about once a second; `fieldmesh
 * escalate` once): for every active ticket not acknowledged within its
 * rule's escalate_after_s, raises an escalation to the next tier unless the
 * incident already has one. Tickets this node dispatched are due at the
 * deadline, others' a grace period later. Needs a dispatcher identity
 * (loaded on first use from the config; without one it does nothing).
 * *raised (may be NULL) gets the number of escalations written. */
int fm_node_workflow_tick(struct fm_node *n, uint64_t now_ms, unsigned *raised);

/* ---- materials ---- */
struct fm_request {
    char id[FM_ID_MAX];
    char incident[FM_ID_MAX];
    char kind[FM_NAME_MAX];
    char text[FM_TEXT_MAX];
    char requester[FM_KEY_TEXT_LEN];
    int64_t qty, allocated, returned;  /* consumed at the scene = allocated - returned */
    uint64_t created_hlc, updated_hlc;
};
int fm_node_material_request(struct fm_node *n, const char *incident, const char *kind,
                             int64_t qty, const char *text, char id_out[FM_ID_MAX]) FM_MUST_USE;
/* Allocates qty from a depot's stock to a request (stock goes down), or
 * returns unused qty to it (stock goes up). FM_ESTATE if the stock, the
 * outstanding request or the allocation does not cover qty; FM_EINVAL if
 * the resource's kind is not the request's. */
int fm_node_material_move(struct fm_node *n, const char *request, const char *resource,
                          int64_t qty, bool is_return) FM_MUST_USE;
typedef int (*fm_request_cb)(void *ctx, const struct fm_request *r);
int fm_node_requests(struct fm_node *n, fm_request_cb cb, void *ctx) FM_MUST_USE;

/* ---- bulletins ---- */
struct fm_bulletin {
    char id[FM_ID_MAX];
    char audience[FM_NAME_MAX];
    char text[FM_TEXT_MAX];
    char sender[FM_KEY_TEXT_LEN];
    uint64_t sent_hlc;
    uint32_t receipts;          /* distinct nodes that recorded a read receipt */
    bool for_me;                /* this node is in the audience */
    bool read_by_me;
};
struct fm_receipt {
    char reader[FM_KEY_TEXT_LEN];
    uint64_t hlc;
};
/* audience: all | tier:1..3 | dept:NAME | county:NAME | unit:NAME-OR-ID. */
int fm_node_bulletin_send(struct fm_node *n, const char *audience, const char *text,
                          char id_out[FM_ID_MAX]) FM_MUST_USE;
typedef int (*fm_bulletin_cb)(void *ctx, const struct fm_bulletin *b);
int fm_node_bulletins(struct fm_node *n, fm_bulletin_cb cb, void *ctx) FM_MUST_USE;
/* Records this node's read receipt (FM_EEXISTS if already recorded). */
int fm_node_bulletin_read(struct fm_node *n, const char *id) FM_MUST_USE;
typedef int (*fm_receipt_cb)(void *ctx, const struct fm_receipt *r);
int fm_node_bulletin_receipts(struct fm_node *n, const char *id, fm_receipt_cb cb,
                              void *ctx) FM_MUST_USE;

/* ---- conflicts ---- */
#define FM_CONFLICT_ID_MAX 64
struct fm_conflict {
    char id[FM_CONFLICT_ID_MAX];   /* e.g. "double:k3mx9q2a-17" */
    char kind[32];                 /* unit_double_booked, cleared_and_reassigned, ... */
    char subject[FM_ID_MAX];       /* the unit, ticket or resource */
    char detail[FM_TEXT_MAX];
    uint8_t fingerprint[FM_HASH_LEN]; /* over the conflicting facts */
    bool resolved;                 /* a resolve op names this id and fingerprint */
    char resolution[FM_TEXT_MAX];
    char resolved_by[FM_KEY_TEXT_LEN];
    uint64_t resolved_hlc;
};
typedef int (*fm_conflict_cb)(void *ctx, const struct fm_conflict *c);
/* Deterministic, in id order; resolved ones only with include_resolved. */
int fm_node_conflicts(struct fm_node *n, bool include_resolved, fm_conflict_cb cb,
                      void *ctx) FM_MUST_USE;
/* Resolves the open conflict `id` (FM_ENOTFOUND if none is open). */
int fm_node_conflict_resolve(struct fm_node *n, const char *id, const char *note) FM_MUST_USE;

/* ---- assessment ---- */
enum fm_report_by { FM_REPORT_ALL = 0, FM_REPORT_UNIT, FM_REPORT_DEPARTMENT, FM_REPORT_COUNTY,
                    FM_REPORT_CATEGORY };
#define FM_REPORT_NINTERVALS 5 /* report->dispatch, ->ack, ->enroute, ->onscene, ->cleared */
struct fm_report_query {
    uint64_t from_ms, to_ms;   /* incident report time window; 0 = open */
    enum fm_report_by by;
};
struct fm_report_stat {
    size_t n;
    double median_s, p90_s;    /* meaningful when n > 0 */
};
struct fm_report_group {
    char key[FM_NAME_MAX];
    size_t tickets;
    struct fm_report_stat interval[FM_REPORT_NINTERVALS];
    struct fm_report_stat response;   /* report -> on scene */
    size_t with_target, within_target;
    size_t cleared, cancelled, escalated;
    size_t feedback_n;
    double feedback_sum;
};
struct fm_report {
    size_t ngroups;
    struct fm_report_group *groups;   /* malloc'd, sorted by key */
    size_t tickets;
    size_t negative_intervals;        /* intervals whose end was stamped before its start */
    size_t skewed_pairs;
    char clock_note[FM_TEXT_MAX];     /* "" when the clocks agreed */
};
int fm_node_report(struct fm_node *n, const struct fm_report_query *q,
                   struct fm_report *out) FM_MUST_USE;
void fm_report_release(struct fm_report *r);
extern const char *const fm_report_interval_names[FM_REPORT_NINTERVALS];
/* Median (mean of the middle two for even n) and nearest-rank percentile
 * p (0 < p <= 100) of n values; v is sorted in place. 0 for n == 0. */
double fm_median(double *v, size_t n);
double fm_percentile(double *v, size_t n, double p);

/* ---- service manager (node/service.c) ---- */
/* Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=text", or
 * several such lines) to the service manager's $NOTIFY_SOCKET (systemd's
 * sd_notify protocol). FM_OK and nothing sent when the variable is unset;
 * FM_EINVAL for a malformed socket name or an empty or over-long state,
 * FM_EIO when the datagram cannot be sent. */
int fm_service_notify(const char *state) FM_MUST_USE;
/* The watchdog period the manager asks for ($WATCHDOG_USEC, for this pid
 * when $WATCHDOG_PID is set) in ms, 0 when there is none. The daemon sends
 * "WATCHDOG=1" at half of it. FM_EINVAL for a malformed value. */
int fm_service_watchdog_ms(uint64_t *period_ms) FM_MUST_USE;

/* The wall clock (Unix ms) the node judges certificates and stamps ops by
 * (node/wall.c). */
uint64_t fm_node_wall_ms(void);

#endif
