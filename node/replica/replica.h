/*
 * replica.h — the replicated op log: opening a node's LMDB store, its
 * keys at rest, the signed logs and their heads, ingest, digest and
 * rebuild, soft state, fork safety, revocations and bundles.
 *
 * Every write makes one signed op in this node's log and applies it in
 * the same LMDB write transaction; ops of other authors come in through
 * fm_node_ingest() (gossip, bundles) and go through the same checks and
 * the same apply. State is a deterministic function of the set of stored
 * ops: fm_node_digest() is equal on two nodes holding the same ops.
 * Several processes may open one data directory: LMDB serializes writers.
 */
#ifndef FM_REPLICA_H
#define FM_REPLICA_H

#include "../../crypto/crypto.h"
#include "../config/config.h"

#include <stdio.h>

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
/* One line from /dev/tty with echo off (operator passwords too);
 * FM_ELOCKED without a terminal, FM_ETOOBIG past cap. */
int fm_tty_secret(const char *prompt, uint8_t *out, size_t cap, size_t *len) FM_MUST_USE;
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


/* ---- entity ids and text bounds shared by every layer ----
 * "<tag>-<seq>": tag = first FM_KEY_TAG_LEN chars of the author's key
 * text, seq = the seq of the op that created the entity. e.g. "k3mx9q2a-17". */
#define FM_ID_MAX 32
/* An op's id text (which names the entity an op creates): the first
 * FM_KEY_TAG_LEN chars of the author's key text, '-', seq. */
void fm_op_id_format(const uint8_t author[FM_PK_LEN], uint64_t seq, char out[FM_ID_MAX]);
#define FM_TEXT_MAX 1024

/* ---- trust ---- */
/* Appends a revocation (signed by the org root) to this node's log. */
int fm_node_publish_revocation(struct fm_node *n, const struct fm_revocation *rev) FM_MUST_USE;
/* Appends a cert.announce op carrying another node's certificate, so
 * every node that receives it admits that key at the handshake before its
 * own log arrives (announce.c). FM_ECONFIG below node.op_format 4;
 * FM_ECERT/FM_EFOREIGN/FM_EEXPIRED for a certificate not valid now from
 * this org; FM_EINVAL for this node's own; FM_EEXISTS when that key
 * already has a log here or that window is announced already;
 * FM_EREVOKED; FM_EPERM (centre, county and admin nodes announce). */
int fm_node_announce_cert(struct fm_node *n, const struct fm_cert *cert) FM_MUST_USE;
/* Whether a peer's node key is admitted at the handshake: an author whose
 * log we hold with a certificate valid now, or a key announced with one
 * (announce.c). FM_OK, FM_EREVOKED, FM_EEXPIRED, FM_ENOTFOUND (unknown),
 * FM_ECERT, or a store error. */
int fm_node_admit(struct fm_node *n, const uint8_t pk[FM_PK_LEN]) FM_MUST_USE;
/* How fit the author whose key starts with these 8 bytes is to be the
 * root of the sync engine's spanning tree (fm_sync_store.root_rank): 0 a
 * centre, 1 a county, 2 a station or admin node, FM_SYNC_RANK_LAST (3) a
 * vehicle, an author revoked or past its certificate, one whose log is not
 * held here, or a store error. Several authors on one prefix: the worst. */
int fm_node_root_rank(struct fm_node *n, const uint8_t prefix[8]);
/* The same for a key known only by its Curve key (the handshake's): the
 * node key of a certificate announced for it (pk_out), then fm_node_admit.
 * FM_ENOTFOUND when none was announced. */
int fm_node_admit_curve(struct fm_node *n, const uint8_t curve[FM_CURVE_LEN],
                        uint8_t pk_out[FM_PK_LEN]) FM_MUST_USE;
/* Renews this node's certificate: appends a cert.renew op carrying `cert`
 * (a new certificate for this node's key from this org, e.g. from `org
 * enroll` of the same key), which moves the validity window (and role,
 * tier, unit, name) of this author on every node. Works when the old
 * certificate has expired. FM_ECERT (another key, or a bad signature),
 * FM_EFOREIGN (another org), FM_EEXPIRED (not valid now), FM_EEXISTS (that
 * very window is already in force), FM_EREVOKED. Needs FM_OPEN_IDENTITY. */
int fm_node_renew_cert(struct fm_node *n, const struct fm_cert *cert) FM_MUST_USE;

/* ---- the dispatchers' group key (dispatch_key.c; docs/security.md,
 * "Need to know") ---- */
/* Appends a dispatch.key op carrying gk (from `org dispatch-key`): only a
 * centre, county or admin node may (FM_EPERM), and gk must be signed by
 * this node's org (FM_EFOREIGN, FM_EVERIFY); FM_EEXISTS if that very
 * record is already held. Needs FM_OPEN_IDENTITY. */
int fm_node_publish_groupkey(struct fm_node *n, const struct fm_groupkey *gk) FM_MUST_USE;
/* The newest generation of the key this node can open (its generation and
 * id): FM_ENOKEY when it holds none (not a dispatcher, not yet sealed to
 * it, or opened without its identity key). */
int fm_node_dispatch_key(struct fm_node *n, uint32_t *generation,
                         uint8_t key_id[FM_SEAL_KEY_ID_LEN]) FM_MUST_USE;

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

/* Progress of long work on this handle: fm_node_rebuild, bundle export and
 * import call fn on the calling thread, often (every few thousand ops),
 * with the ops done and the ops in all (total may be an upper bound: an
 * export counts every stored op, also those it skips). The caller throttles
 * what it prints. p == NULL (the default) reports nothing; *p is copied. */
struct fm_progress {
    void (*fn)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
};
void fm_node_set_progress(struct fm_node *n, const struct fm_progress *p);

/* The operator on whose behalf the writes from now on are made (a console
 * login, or the CLI's --operator); NULL or "" clears it. While set, and
 * only if the node's config has `op_format: 2`, every op this handle
 * writes (not a certificate, nor an op re-entered after a fork) carries
 * the name (payload tag PT_OPERATOR), shown as `operator` in timelines
 * and histories. The name is copied. FM_EINVAL (nothing changed) unless
 * it is 1..63 bytes of printable UTF-8. A handle shared between threads
 * must be set and cleared under the same lock as the writes it covers
 * (the console does both in node_lock/node_unlock). */
int fm_node_set_operator(struct fm_node *n, const char *name) FM_MUST_USE;
/* Whether this handle writes the operator's name (op_format >= 2). */
bool fm_node_writes_operator(const struct fm_node *n);

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
/* A number that changes whenever anything commits to the store, in this
 * process or another (LMDB's last transaction id; 0 on error): lets the
 * console's event poller skip its reads when nothing happened. */
uint64_t fm_node_change_mark(struct fm_node *n);

/* The hash of the author's op at seq as this store holds it (what a
 * revocation at that seq names as the head): FM_ENOTFOUND if not held. */
int fm_node_op_hash(struct fm_node *n, const uint8_t author[FM_PK_LEN], uint64_t seq,
                    uint8_t out[FM_HASH_LEN]) FM_MUST_USE;

/* ---- replication interface (used by the daemon's sync and by bundles);
 * struct fm_head and struct fm_ingest_result are sync's (sync/sync.h):
 * include it to read them ---- */
struct fm_head;
struct fm_ingest_result;
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
/* fm_node_ingest, with each op's BLAKE2b-256 already in hand: hashes may
 * be NULL, and so may any hashes[i] (then it is computed). A given hash
 * must have been computed in this process from exactly ops[i]'s bytes
 * (sync's compact rebuild does, to chain the prevs); it is trusted, so
 * never pass one that came from elsewhere. Saves one hash per op. */
int fm_node_ingest_hashed(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                          const uint8_t *const *hashes, size_t nops,
                          struct fm_ingest_result *res) FM_MUST_USE;

/* ======================= field sync =======================
 * Soft state, sneakernet bundles, fork safety, clock flags and staleness
 * (node/softstate.c, bundle.c, fork.c; docs/field-sync.md). */

/* ---- soft state: the latest position per unit, presence per node ----
 * Signed by the author, not chained, last-writer-wins by (hlc, author),
 * not part of the digest. A unit's listed position (fm_node_unit_get,
 * fm_node_units) is the newer of its soft and its logged position. */
/* Coordinates in degrees * 1e7, as positions and op payloads carry them. */
#define FM_LAT_MAX 900000000
#define FM_LON_MAX 1800000000
/* Records the unit's position as soft state (needs FM_OPEN_IDENTITY). */
int fm_node_soft_position(struct fm_node *n, const char *unit, int32_t lat_e7,
                          int32_t lon_e7) FM_MUST_USE;
/* Records "this node is alive now" (fieldmeshd calls it periodically). */
int fm_node_soft_presence(struct fm_node *n) FM_MUST_USE;

/* ---- GPS positions and the GPS reader's local status (docs/gps.md;
 * softstate.c, gps_local.c) ---- */
/* A GPS fix as published in soft state: where, when the receiver took it,
 * and how good it is. */
#define FM_GPS_NO_ACCURACY UINT32_MAX
#define FM_GPS_NO_TRACK UINT16_MAX
struct fm_gps_fix {
    int32_t lat_e7, lon_e7;
    uint64_t fix_ms;       /* the receiver's fix time, ms since the epoch (UTC) */
    uint32_t accuracy_dm;  /* horizontal error estimate in decimetres (FM_GPS_NO_ACCURACY) */
    uint16_t track_cdeg;   /* course in 0.01 degrees, 0..35999 (FM_GPS_NO_TRACK) */
    uint16_t speed_cms;    /* speed in cm/s, saturating at 65534 */
};

/* Records a GPS fix of `unit` (id or name) as its soft-state position,
 * stamped with this node's clock and carrying the fix time and accuracy.
 * The same rules as fm_node_soft_position (FM_EUNIT for another unit);
 * FM_EINVAL for a fix out of range. */
int fm_node_soft_fix(struct fm_node *n, const char *unit, const struct fm_gps_fix *fix) FM_MUST_USE;

/* The unit this node's certificate names (name or id); FM_ENOTFOUND for
 * a node without identity or unit. */
int fm_node_self_unit(const struct fm_node *n, char *out, size_t cap) FM_MUST_USE;

/* The sync interface for soft state (see struct fm_sync_store). */
int fm_node_soft_read(struct fm_node *n, uint64_t after, size_t max_bytes, struct fm_buf *out,
                      size_t *count, uint64_t *last) FM_MUST_USE;
int fm_node_soft_ingest(struct fm_node *n, const uint8_t *const *recs, const size_t *lens,
                        size_t nrecs, size_t *stored) FM_MUST_USE;
#define FM_SOFT_MAX_RECORDS 100000 /* bound of the soft store */
/* What one soft record of fm_node_soft_read (after its u16 length) says,
 * for the console's events: kind "position", "gps" or "presence", its
 * author and stamp, and for a position the unit's id and where. */
struct fm_soft_info {
    const char *kind;          /* static */
    uint8_t author[FM_PK_LEN];
    uint64_t hlc;
    char unit[32];             /* "" for presence (FM_ID_MAX) */
    int32_t lat_e7, lon_e7;
};
int fm_soft_info(const uint8_t *rec, size_t len, struct fm_soft_info *out) FM_MUST_USE;

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
    bool restored;        /* restored from a backup, no peer has confirmed it yet */
    uint64_t restored_head; /* own ops the restored store held */
};
int fm_node_self_state(struct fm_node *n, struct fm_self_state *out) FM_MUST_USE;

/* backups and bundles: the store's contents leaving the node (archive.h) */
#include "archive.h"

#endif
