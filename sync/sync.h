/*
 * sync.h — moving signed ops between nodes: wire messages, gossip,
 * anti-entropy and the ZeroMQ transport.
 *
 * sync/ never opens LMDB and never looks inside a payload. It reaches the
 * store through struct fm_sync_store, which the node implements (and tests
 * implement in memory).
 */
#ifndef FM_SYNC_H
#define FM_SYNC_H

#include "../crypto/crypto.h"

/* One entry of a version vector: the author's contiguous log 1..seq. */
struct fm_head {
    uint8_t author[FM_PK_LEN];
    uint64_t seq;              /* highest contiguous seq stored */
    uint8_t hash[FM_HASH_LEN]; /* hash of op `seq` */
    uint64_t limit;            /* UINT64_MAX, or a revocation's last_seq */
};

struct fm_ingest_result {
    size_t stored;     /* new ops stored and applied */
    size_t duplicates; /* already held */
    size_t rejected;   /* refused (reason in `err` for the first one) */
    int err;           /* first refusal's fm_err, 0 if none */
    uint64_t err_seq;  /* its seq */
};

/* The store as sync sees it. Every function returns 0 or an fm_err. */
struct fm_sync_store {
    void *ctx;
    /* Version vector sorted by author; *out malloc'd, caller frees. */
    int (*heads)(void *ctx, struct fm_head **out, size_t *count);
    /* Appends ops of author with seq >= from_seq to out, each as u32
     * big-endian length + op bytes; stops after max_ops ops or once
     * out->len >= max_bytes. */
    int (*read_ops)(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                    size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count);
    /* Verifies (prev chain, signature of each run's last op, certificate,
     * revocation) and stores. Per-op refusals go into res. hashes (may be
     * NULL, and so may any hashes[i]): ops[i]'s BLAKE2b-256, computed in
     * this process from those same bytes (a compact batch's rebuild), so
     * the store need not hash it again; never a hash from the wire. */
    int (*ingest)(void *ctx, const uint8_t *const *ops, const size_t *lens,
                  const uint8_t *const *hashes, size_t nops, struct fm_ingest_result *res);
    /* Transport admission (ZAP): 0 if `pk` is an author this store holds
     * with a valid certificate from the org and no revocation; else
     * FM_ENOTFOUND (unknown), FM_EREVOKED, FM_EEXPIRED, ... May be NULL:
     * then only configured peers are admitted. */
    int (*admit)(void *ctx, const uint8_t pk[FM_PK_LEN]);
    /* A key with no log here yet, known only by its Curve key at the
     * handshake: the store finds its node key among the certificates it
     * was told of (announced) and answers as admit does; FM_ENOTFOUND when
     * it knows none. May be NULL. */
    int (*admit_curve)(void *ctx, const uint8_t curve[FM_CURVE_LEN], uint8_t pk_out[FM_PK_LEN]);

    /* ---- field sync (docs/field-sync.md); every one may be NULL ---- */
    /* Priority class of an op kind: 0 = dispatch-critical (sent first
     * under a rate limit), 1 = ordinary, 2 = bulk. NULL: all ordinary. */
    int (*priority)(void *ctx, uint8_t kind);
    /* Soft state (unchained, signed, last-writer-wins records). soft_read
     * appends the current records whose local sequence is > after, in
     * that order, each as u16 big-endian length + record, stopping after
     * max_bytes; *last gets the local sequence of the last one appended
     * (unchanged input when none). */
    int (*soft_read)(void *ctx, uint64_t after, size_t max_bytes, struct fm_buf *out,
                     size_t *count, uint64_t *last);
    /* Verifies and stores records that are newer than what the store
     * holds; *stored counts them. Refusals are not errors. */
    int (*soft_ingest)(void *ctx, const uint8_t *const *recs, const size_t *lens, size_t n,
                       size_t *stored);
    /* A neighbour holds this node's own log up to seq (fork safety: the
     * store must not sign below that until it has recovered it). */
    void (*own_claim)(void *ctx, uint64_t seq);
    /* A neighbour's version vector lists this node's own log at seq (0:
     * not at all); called for each vector chunk that covers our key, and
     * when a reconciliation (reconcile.c) learns it (a restored node learns
     * from it that no peer holds more of its log). */
    void (*own_vector)(void *ctx, uint64_t seq);
    /* How fit the key starting with these 8 bytes is to be the root of the
     * spanning tree of eager pushes (sync/tree.c), from the certificate the
     * store holds for it: 0 = first choice (the centre) up to
     * FM_SYNC_RANK_LAST (a vehicle, a revoked or expired key, or one the
     * store does not know). The root is the live key of the best rank,
     * then the smallest key, so every node must answer alike for a key
     * once it holds the same certificates. NULL: all rank 0. */
    int (*root_rank)(void *ctx, const uint8_t prefix[8]);
};
#define FM_SYNC_RANK_LAST 3

/* ======================= the sync engine =======================
 * One struct fm_sync per node: a ZeroMQ context, a ROUTER bound to
 * `listen` (CurveZMQ server, ZAP-checked), one DEALER per peer (CurveZMQ
 * client), an optional local control socket, and the gossip state (what
 * each neighbour is believed to hold). Single-threaded: the owner calls
 * fm_sync_run() in its loop. See docs/sync.md for the protocol. */
struct fm_sync;

struct fm_sync_config {
    const struct fm_identity *id; /* this node; id->sk needed (Curve keys); must
                                   * outlive the engine */
    const char *listen;           /* NULL or "" = do not listen */
    const char *control;          /* NULL or "" = no control socket */
    uint32_t push_interval_ms;    /* lazy announce / store poll period (default 50) */
    uint32_t anti_entropy_ms;     /* digest exchange period per neighbour (default 2000) */
    uint32_t heartbeat_ms;        /* ZMTP heartbeat interval (default 1000) */
    uint32_t batch_ops;           /* ops per pull request (default 512) */
    uint32_t max_skew_ms;         /* warn above this peer clock skew (default 300000) */
    uint32_t rate_limit_bps;      /* bits/s sent to each neighbour, 0 = unlimited
                                   * (fm_sync_set_peer_rate overrides per peer) */
    uint32_t reply_bytes_per_s;   /* pull-reply bytes one neighbour key may draw per
                                   * second (burst: one second's worth, at least one
                                   * reply); 0 = no budget */
    uint32_t max_conns_per_key;   /* connections into our listener one node key may hold
                                   * (0 = 4; at most 64): more are refused at ZAP */
    uint32_t max_conns;           /* connections into our listener in all, authenticated
                                   * or not (0 = 256; at most 65536): more are closed */
    uint8_t wire_version;         /* 0 = the newest (5: a spanning tree of eager links,
                                   * over 4: shorter compact batches, over 3: compact
                                   * batches, over 2: range reconciliation);
                                   * 1 = behave as a version-1 node (drops version-2 to
                                   * -5 frames), 2 = as a version-2 node, 3 and 4 = as a
                                   * version-3 or -4 node (drops newer frames):
                                   * mixed-version tests */
};

/* Creates the engine; binds listen and control, starts nothing else.
 * `store` is copied; store->ctx must outlive the engine. FM_ENET if a
 * bind fails (message logged), FM_EINVAL for a bad config. */
int fm_sync_new(struct fm_sync **out, const struct fm_sync_config *cfg,
                const struct fm_sync_store *store) FM_MUST_USE;
void fm_sync_destroy(struct fm_sync **sp);

/* ---- another transport and clock (the network simulator, tests/sim) ----
 * The engine reaches the network and the clocks only through this table.
 * fm_sync_new fills it with the ZeroMQ transport and the system clocks;
 * fm_sync_new_io takes the caller's instead: then no ZeroMQ socket exists,
 * cfg->listen and cfg->control are ignored, neighbours are added with
 * fm_sync_add_peer(s, NULL, pk, name), the caller hands every message that
 * arrives to fm_sync_io_deliver and calls fm_sync_io_step whenever its
 * clock reaches the time that step asked for (or after a delivery). The
 * engine stays single-threaded and calls nothing else of the outside world
 * (store calls aside), so a run is a function of what the table returns. */
struct fm_sync_io {
    void *ctx;
    uint64_t (*mono_ms)(void *ctx); /* monotonic ms (timers) */
    uint64_t (*wall_ms)(void *ctx); /* this node's wall clock (SUMMARY, skew) */
    void (*random)(void *ctx, void *out, size_t n); /* jitter */
    /* Takes one message (p is only borrowed) for neighbour pk. 0 when
     * taken; FM_ENET when dropped (a full queue, no link), which the
     * engine counts in sends_dropped. NULL in fm_sync_new's table. */
    int (*send)(void *ctx, const uint8_t pk[FM_PK_LEN], const uint8_t *p, size_t n);
};
/* As fm_sync_new, over io (copied; io->ctx must outlive the engine; every
 * member but ctx non-NULL, else FM_EINVAL). cfg->id->sk is not needed. */
int fm_sync_new_io(struct fm_sync **out, const struct fm_sync_config *cfg,
                   const struct fm_sync_store *store, const struct fm_sync_io *io) FM_MUST_USE;
/* A message from neighbour pk arrived (p borrowed for the call). A key
 * that is not a neighbour yet becomes one, as a node that dialled us does;
 * FM_ETOOBIG when the table is full, FM_EINVAL on an engine made by
 * fm_sync_new. */
int fm_sync_io_deliver(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], const uint8_t *p,
                       size_t n) FM_MUST_USE;
/* Handles what is due at io->mono_ms(): held replies, heads that moved,
 * the rate-limited queues, the timers. *next_ms gets the time the engine
 * next wants a step (it may be called earlier). Return as fm_sync_run. */
int fm_sync_io_step(struct fm_sync *s, uint64_t *next_ms) FM_MUST_USE;

/* Adds a neighbour to dial (endpoint non-empty) and/or to admit (a
 * configured peer is admitted by ZAP unless the store says it is revoked).
 * name may be NULL. FM_ETOOBIG past FM_SYNC_MAX_PEERS, FM_EEXISTS if the
 * key is already configured, FM_ENET if the endpoint is refused. */
#define FM_SYNC_MAX_PEERS 256
int fm_sync_add_peer(struct fm_sync *s, const char *endpoint, const uint8_t pk[FM_PK_LEN],
                     const char *name) FM_MUST_USE;

/* The endpoint actually bound (resolves "tcp://127.0.0.1:*"); "" if none. */
const char *fm_sync_endpoint(const struct fm_sync *s);

/* Waits up to timeout_ms for traffic or a timer, handles everything ready,
 * and returns. 0, or an fm_err only when the engine cannot go on (the
 * store failed). Returns early (0) when interrupted by a signal. */
int fm_sync_run(struct fm_sync *s, int timeout_ms) FM_MUST_USE;

/* New local ops may exist: re-read the heads and push now. */
void fm_sync_nudge(struct fm_sync *s);

/* Per-neighbour send rate in bits/s (0 = unlimited), overriding
 * cfg->rate_limit_bps. Under a limit, messages wait in a bounded queue by
 * priority: control first, then dispatch-critical ops, ordinary ops, bulk
 * ops, soft state last; replies shrink to half a second of the rate.
 * FM_ENOTFOUND if pk is not a neighbour. */
int fm_sync_set_peer_rate(struct fm_sync *s, const uint8_t pk[FM_PK_LEN],
                          uint32_t bps) FM_MUST_USE;

/* For tests: sends `len` raw bytes to neighbour pk as one message. */
int fm_sync_send_raw(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], const void *p,
                     size_t len) FM_MUST_USE;

struct fm_sync_counters {
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t ops_stored;    /* ops ingested and new */
    uint64_t ops_dup;       /* ops received that we already held */
    uint64_t ops_rejected;  /* ops refused by ingest */
    uint64_t ops_sent;      /* op payload transmissions (pushes + pull replies) */
    uint64_t msgs_dropped;  /* malformed / unexpected / unknown-sender messages */
    uint64_t sends_dropped; /* sends refused by a full queue or a gone peer */
    uint64_t zap_admitted, zap_refused;
    /* field sync */
    uint64_t soft_in, soft_stored, soft_sent; /* soft-state records */
    uint64_t peers_dropped; /* connections dropped: key revoked or expired */
    /* a store that cannot take ops (full disk, map at its cap): not refusals */
    uint64_t ingest_faults;     /* ingests that failed in the store, nothing stored */
    uint64_t ingest_fault_err;  /* the last one's error, negated (-FM_E...); 0 = none now */
    uint64_t ingest_backoff_ms; /* the pause of pulls now, 0 = none */
    /* per-key limits (budget.c) */
    uint64_t key_conns_refused; /* connections refused: too many on one key */
    uint64_t pulls_deferred;    /* PULLs answered later: the key's reply budget was spent */
    uint64_t clone_alerts;  /* times a key was seen on two live connections at once */
};
void fm_sync_get_counters(const struct fm_sync *s, struct fm_sync_counters *out);

/* Kinds of network message, for the per-neighbour counts below. */
enum fm_sync_msg_kind {
    FM_SYNC_MSG_SUMMARY, /* version-vector digest (anti-entropy check or its answer) */
    FM_SYNC_MSG_VECTOR,  /* a chunk of the version vector */
    FM_SYNC_MSG_IHAVE,   /* announcements */
    FM_SYNC_MSG_PULL,    /* pull requests */
    FM_SYNC_MSG_OPS,     /* eager pushes and pull replies */
    FM_SYNC_MSG_PRUNE,   /* "stop pushing eagerly", and the spanning tree's TREE */
    FM_SYNC_MSG_SOFT,    /* soft-state records */
    FM_SYNC_MSG_OTHER,   /* undecodable, or a type that has no place on the network */
    FM_SYNC_MSG_KINDS
};
/* Lower-case name of a kind ("summary", "vector", ...); "?" out of range.
 * Static storage. */
const char *fm_sync_msg_kind_name(int kind);

/* Messages and their bytes (the whole frame: version and type included,
 * ZMTP and CurveZMQ framing not). A message counts as sent when ZeroMQ took
 * it (under a rate limit: when it left the queue). */
struct fm_sync_msg_count {
    uint64_t msgs_in, bytes_in, msgs_out, bytes_out;
};

/* How new ops go to a neighbour. */
enum fm_sync_push {
    FM_PUSH_LAZY,   /* announced (IHAVE), pulled if wanted */
    FM_PUSH_PARENT, /* pushed: it is our parent in the spanning tree */
    FM_PUSH_CHILD,  /* pushed: we are its parent */
    FM_PUSH_EAGER,  /* pushed by Plumtree's rules (a version-4 neighbour) */
    FM_PUSH_KINDS
};
/* "lazy", "parent", "child", "eager"; "?" out of range. Static storage. */
const char *fm_sync_push_name(int push);

struct fm_sync_peer_info {
    uint8_t pk[FM_PK_LEN];
    char name[FM_NAME_MAX];
    char endpoint[256];
    bool configured, connected, vector_known, eager;
    uint8_t push;           /* enum fm_sync_push: eager says the same, with the reason */
    uint64_t last_heard_ms; /* Unix ms, 0 = never */
    uint64_t we_lack, it_lacks;
    int64_t skew_ms;
    bool skew_known;        /* skew_ms was measured (its clock came in a summary) */
    uint64_t ops_received, ops_sent, bad_messages;
    bool banned;            /* its key was revoked or expired: connections dropped */
    uint32_t rate_limit_bps; /* 0 = unlimited */
    uint64_t queued_bytes;  /* waiting for the rate limit */
    bool refused_us;        /* it refused our handshake (not admitted: we are revoked
                             * or not enrolled there) */
    struct fm_sync_msg_count msgs[FM_SYNC_MSG_KINDS]; /* to and from it, per kind */
    uint64_t checks_out;    /* of msgs[FM_SYNC_MSG_SUMMARY].msgs_out: anti-entropy checks
                             * we started (SUMMARY, reply wanted) */
    uint64_t checks_in;     /* of ....msgs_in: checks it started */
    uint32_t conns;         /* its connections into our listener now (heard, or admitted
                             * and not silent for long yet) */
    uint64_t conns_refused; /* its connections refused: over gossip.max_conns_per_key */
    bool cloned_key;        /* its key spoke on two live connections into our listener
                             * at once lately (sync/clone.c): a cloned key? */
};
/* Where this engine stands in the spanning tree of eager links (wire
 * version 5, docs/sync.md "The eager tree"). */
struct fm_sync_tree_info {
    bool on;                /* the engine speaks version 5 */
    uint8_t root[8];        /* the root's key prefix (ours when we are the root) */
    uint8_t root_rank;      /* its rank (fm_sync_store.root_rank) as this node knows it */
    uint32_t epoch;
    uint8_t hops;           /* to the root, 0 = we are it */
    bool has_parent;
    uint8_t parent[FM_PK_LEN];
    uint32_t children;      /* neighbours that take us as their parent */
};
struct fm_sync_status {
    uint64_t uptime_ms, pid;
    struct fm_sync_counters counters;
    bool tree_known;        /* the daemon said (one older than the tree's display did not) */
    struct fm_sync_tree_info tree;
};
void fm_sync_tree(const struct fm_sync *s, struct fm_sync_tree_info *out);
/* Snapshot of the neighbours; *out malloc'd (caller frees), NULL if none. */
int fm_sync_peers(struct fm_sync *s, struct fm_sync_status *st,
                  struct fm_sync_peer_info **out, size_t *n) FM_MUST_USE;

/* ---- client side of the control socket (the CLI) ----
 * Both return FM_ENET if nothing answers within timeout_ms. */
int fm_sync_ctl_nudge(const char *control, int timeout_ms) FM_MUST_USE;
int fm_sync_ctl_peers(const char *control, int timeout_ms, struct fm_sync_status *st,
                      struct fm_sync_peer_info **out, size_t *n) FM_MUST_USE;

#endif
