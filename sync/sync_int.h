/*
 * sync_int.h — the sync engine's state, shared by its files (private).
 *
 * gossip.c   protocol: eager push, lazy announce, anti-entropy, ingest
 *            of ops; message dispatch and timers.
 * neighbours.c  the neighbour table: beliefs, liveness, peer info,
 *            dropped messages, bans.
 * compact.c / compact_peer.c  compact batches (wire version 3).
 * pull.c     pulling: wants, credit-based PULL scheduling, serving PULLs,
 *            settling replies and holding them for one ingest.
 * authors.c  the author table: our heads, the version-vector digest,
 *            Curve-key lookup for the ZAP handler.
 * transport.c / zap.c / ctl.c   everything that touches ZeroMQ (the only
 *            files that include zmq.h).
 * wire.c     message encoding and strict decoding.
 *
 * Sockets are kept as void * here so that only the transport files need
 * zmq.h.
 */
#ifndef FM_SYNC_INT_H
#define FM_SYNC_INT_H

#include "sync.h"
#include "wire_int.h"
#include "compact_int.h"
#include "recon_int.h"

#include "sync_limits.h" /* the named limits */

/* A key the ZAP handler refused (knock.c): how often, and when last. */
struct sync_knock {
    uint8_t key[FM_PK_LEN]; /* node key, or a stranger's Curve key */
    uint64_t count;         /* refusals, 0 = slot free */
    uint64_t last_ms;
};

/* A fork probe of one author (pull.c): when it started, and the step in
 * flight while it walks down to the fork's root. */
struct sync_probe {
    uint64_t started_ms; /* last probe started from a refused op, 0 = never */
    uint64_t low, top;   /* seqs asked by the step in flight, low 0 = none */
    int slot;            /* the neighbour asked */
};

/* A connection into our ROUTER (conns.c), known by its file descriptor
 * from the ROUTER's socket monitor. */
struct sync_conn {
    int fd;             /* -1 = free slot */
    int32_t key;        /* index in s->ckeys once it spoke, -1 = not yet */
    uint64_t opened_ms; /* monotonic */
    bool shut;          /* we shut it down; its close is on the way */
    uint8_t peer[32];   /* its peer's address (getpeername) at accept, for the audit */
    uint8_t peer_len;   /* 0 = not known */
    bool suspect;       /* the last audit found its socket gone or changed */
};

/* A node key with connections into our ROUTER (conns.c). */
struct sync_ckey {
    uint8_t pk[FM_PK_LEN];
    bool used;
    uint32_t live;        /* connections that spoke with this key, still open */
    uint32_t npend;       /* admitted by ZAP, not heard on yet */
    uint64_t pend_ms[SYNC_CONN_KEY_CAP_MAX]; /* when each was admitted */
    uint64_t refused;     /* connections refused over the cap */
    uint64_t refused_logged; /* ... as of the last log line */
    uint64_t log_ms;      /* last log line, 0 = never */
    uint64_t seen_ms;     /* last admitted or refused: the table keeps the busiest */
};

/* One author as this engine sees it. Index in s->authors is stable. */
struct sync_author {
    uint8_t pk[FM_PK_LEN];
    uint8_t hash[FM_HASH_LEN];  /* hash of op `head` */
    uint8_t curve[FM_CURVE_LEN];
    uint64_t head;              /* our contiguous seq, 0 = none */
    uint64_t limit;             /* revocation's last valid seq, or UINT64_MAX */
    uint64_t want;              /* highest seq a neighbour claims to hold */
    uint64_t want_after_ms;     /* do not pull before (grace for lazy announces) */
    uint64_t pull_deadline_ms;
    uint64_t pulled;            /* ops up to this seq came in a pull reply and wait
                                 * for ingest (sync_pend_flush): pull after them */
    int32_t want_from;          /* neighbour slot that claimed `want`, -1 */
    int32_t pull_nb;            /* neighbour slot with a pull in flight, -1 */
    bool want_graft;            /* the claim came lazily: graft when pulling */
    bool in_store;
    bool has_curve;
    bool fresh;                 /* head moved, not yet pushed eagerly */
    bool changed;               /* head moved since the last lazy announce */
    bool catchup;               /* ... only by old ops pulled by anti-entropy: neither
                                 * pushed nor announced (gossip.c, mark_catchup) */
    uint32_t live_gen;          /* mark_catchup: the ingest (s->take_gen) that brought a live op */
    bool refused;               /* ingest refused an op of it in the batch at hand */
    /* After a refusal (bad signature, broken chain, expired certificate...)
     * the author is not pulled again before refused_until_ms; the wait
     * doubles with each refusal at the same head, up to
     * SYNC_REFUSE_BACKOFF_MAX_MS, and resets when the head moves. Without
     * it every anti-entropy round re-pulled, re-refused and re-logged. */
    uint64_t refused_until_ms;
    uint64_t refused_head;
    uint32_t refuse_backoff_ms;
    /* Tree optimisation (gossip.c, tree_optimise): the first lazy IHAVE
     * announcing a seq beyond our head, when and from whom. */
    uint64_t lazy_seq, lazy_ms;
    int32_t lazy_from;          /* neighbour slot, -1 = none */
};

/* Internal flag on a held pull reply (never on the wire): it answers a
 * bulk pull made by anti-entropy (gossip.c, mark_catchup). */
#define SYNC_OPS_CATCHUP 0x80

struct sync_req {
    uint32_t id; /* 0 = free */
    uint64_t deadline_ms;
    uint16_t n;
    bool bulk;   /* anti-entropy catch-up: no graft, and we wanted SYNC_CATCHUP_AUTHORS
                  * or more authors from that neighbour when we asked */
    uint32_t authors[FM_WIRE_PULL_MAX];
    uint64_t from[FM_WIRE_PULL_MAX]; /* the from_seq asked per author */
};

/* A neighbour: a configured peer or a node that dialled us. */
struct sync_nb {
    int slot;
    uint8_t pk[FM_PK_LEN];
    uint8_t curve[FM_CURVE_LEN];
    char name[FM_NAME_MAX];
    char endpoint[256];
    bool configured;
    bool eager;      /* push new ops to it (else announce lazily) */
    bool vec_known;  /* belief[] reflects a vector or digest it sent */
    bool vec_differs; /* the vector it is sending differs from our heads in some seq */
    uint32_t same_seq_rr; /* where the next equal-seq head probe starts (on_vector) */
    uint8_t same_seq_seen; /* vectors in a row with our seqs but another summary */
    bool up;         /* logged as up (heard within the live window) */
    void *dealer;    /* our client socket to it, or NULL */
    uint8_t route[SYNC_ROUTE_MAX];
    size_t route_len; /* 0 = it has not dialled us */
    uint64_t heard_dealer_ms, heard_router_ms, heard_ms; /* monotonic */
    uint64_t heard_wall_ms;
    uint64_t next_ae_ms;
    uint64_t *belief;    /* per author index: seq we believe it holds */
    uint64_t *announced; /* per author index: seq we announced to it */
    size_t bcap;
    struct sync_req reqs[SYNC_CREDITS];
    int64_t skew_ms;
    bool skew_known; /* a summary from it carried its clock (a skew of 0 is a real 0) */
    uint64_t ops_received, ops_sent, bad;
    struct fm_sync_msg_count msgs[FM_SYNC_MSG_KINDS]; /* per kind, both ways */
    uint64_t checks_out, checks_in; /* SUMMARY with reply wanted, each way */
    /* field sync */
    bool banned;            /* key revoked / expired: nothing sent or taken */
    uint32_t rate_bps;      /* 0 = unlimited */
    int64_t tokens;         /* bytes we may send now (token bucket, may go negative) */
    uint64_t tokens_ms;     /* last refill */
    struct sync_qmsg *q_head[SYNC_CLASSES], *q_tail[SYNC_CLASSES];
    size_t q_bytes;
    uint64_t dealer_opened_ms;
    uint64_t soft_sent;     /* local soft sequence sent up to */
    uint64_t soft_next_ms;
    /* the DEALER's socket monitor (transport.c): it tells us when the peer
     * refused our handshake (ZAP: revoked here, or not enrolled) */
    void *mon;
    bool refused_auth;      /* its last handshake answer was a refusal */
    uint64_t cap_retry_ms;  /* it refused us over its per-key cap: re-dial then (0 = no) */
    /* reply budget (budget.c): bytes it may still draw, and PULLs waiting */
    int64_t reply_tokens;
    uint64_t reply_tokens_ms;  /* last refill, 0 = never (full bucket) */
    uint32_t pull_tokens;      /* PULLs it may have answered now */
    uint64_t pull_tokens_ms;   /* ... last refilled (whole PULLs only) */
    uint8_t *defer[SYNC_DEFER_MAX];
    size_t defer_len[SYNC_DEFER_MAX];
    size_t ndefer;
    /* clone.c: the connections into our ROUTER it spoke on lately, to see
     * two live connections on one key */
    struct sync_route_seen {
        uint8_t rid[SYNC_ROUTE_MAX];
        size_t len;                /* 0 = free */
        char addr[SYNC_ADDR_MAX];
        uint64_t heard_ms, probe_ms; /* monotonic */
    } routes[SYNC_CLONE_ROUTES];
    size_t route_cur;       /* 1 + index of the one it spoke on last, 0 = none */
    uint32_t clone_flips;
    uint64_t clone_flip_ms, clone_ms; /* monotonic; clone_ms 0 = never */
    bool hello_due;         /* our DEALER's handshake just succeeded: say hello on it */
    uint8_t ver;            /* wire version it speaks: 0 unknown, 1, 2 (reconcile.c) */
    uint8_t hellos;         /* version-2 hellos sent in the current probe */
    bool ver_probed;        /* the probe is over (its version known) until its link goes down */
    bool v3;                /* it speaks wire version 3: compact batches (compact_peer.c) */
    bool v3_dict;           /* and holds our zstd dictionary (its VERSION said so) */
    bool v4;                /* it speaks wire version 4: compact batches, shorter */
    uint64_t first_copy_ms; /* monotonic: its last eager push that brought an op we lacked */
    /* the spanning tree (tree.c): it speaks wire version 5, and its claim */
    bool v5;
    bool t_heard;           /* a claim came since its link came up */
    bool t_child;           /* it takes us as its parent */
    uint8_t t_hops;
    uint32_t t_epoch;
    uint8_t t_root[FM_TREE_ROOT_LEN];
    uint64_t t_sent_ms;     /* monotonic: our claim last sent to it */
};

/* Our place in the spanning tree (tree.c). */
struct sync_tree {
    uint8_t root[FM_TREE_ROOT_LEN];
    uint32_t epoch;        /* the root's, as our parent passed it on */
    uint8_t hops;          /* 0: we are the root; 255: detached (no parent) */
    int32_t parent;        /* neighbour slot, -1 = we are the root, or detached */
    uint64_t next_beat_ms; /* as root: the next epoch */
    /* the roots heard of lately: the newest epoch of each and since when
     * it is the newest; a root whose epoch stood still too long is silent */
    struct sync_tree_root {
        uint8_t root[FM_TREE_ROOT_LEN];
        uint32_t epoch;
        uint64_t since_ms; /* monotonic, 0 = free slot */
        uint32_t fd_epoch; /* the newest epoch of it we took, */
        uint8_t fd;        /* ... and the fewest hops we had in it */
        bool fd_epoch_set;
        uint8_t rank;      /* the store's root_rank of it (tree.c, ranks_refresh) */
    } roots[SYNC_TREE_ROOTS];
    uint8_t rank;          /* our own root_rank */
    uint64_t ranked_ms;    /* monotonic: when the ranks were last asked, */
    uint64_t ranked_ops;   /* ... the ops stored then (counters.ops_stored) */
    size_t ranked_authors; /* ... and the authors known */
    bool silent_logged;    /* our root went silent: said once */
    bool changed;          /* what we say changed: tell the neighbours */
    uint64_t sent_ms;      /* monotonic: when we last told the neighbours */
};

/* A message waiting for the rate limit. */
struct sync_qmsg {
    struct sync_qmsg *next;
    uint64_t queued_ms;
    size_t len;
    uint8_t data[];
};

struct fm_sync {
    struct fm_sync_store store;
    struct fm_sync_config cfg;
    struct fm_sync_io io;   /* clocks, randomness, and (io.send) another transport */
    uint8_t pk[FM_PK_LEN];
    uint8_t curve_pk[FM_CURVE_LEN];
    uint8_t curve_sk[FM_CURVE_LEN];

    void *zctx, *router, *zap, *ctl;
    char endpoint[256];
    void *pollitems; /* zmq_pollitem_t[3 + FM_SYNC_MAX_PEERS] */

    struct sync_nb *nbs[FM_SYNC_MAX_PEERS];
    size_t nnb; /* slots in use are < nnb */

    struct sync_author *authors;
    size_t nauthors, acap;
    uint32_t *index; /* open addressing over authors, UINT32_MAX = empty */
    size_t index_cap;

    /* our version vector as last read from the store (sorted) */
    struct fm_head *heads;
    size_t nheads;
    uint32_t *head_idx; /* author index of heads[i] */
    uint8_t vv_hash[FM_HASH_LEN];
    uint64_t vv_total;

    uint32_t *fresh, *changed; /* lists of author indices */
    size_t nfresh, nchanged;

    struct fm_buf msg, tmp, entries;
    uint32_t take_gen;      /* counts ingests of pull replies (mark_catchup) */
    struct fm_compact z;    /* compact batches: zstd state (compact_peer.c) */
    struct fm_buf cops;     /* a compact batch encoded for sending */
    struct fm_buf cops_in;  /* a received one rebuilt into plain ops: apart from cops,
                             * as taking them may send (and encode) before they are read */
    const uint8_t **in_ops; /* SYNC_INGEST_MAX_OPS entries */
    size_t *in_lens;
    const uint8_t **in_hash; /* ... each op's hash when a compact rebuild made it, or NULL */
    /* pull replies waiting to be ingested together (sync_pend_flush) */
    struct fm_buf pend, pend_hash;
    struct fm_wire_ops pend_msg[SYNC_PEND_MAX]; /* data = offset into pend until flushed,
                                                 * hashes = 1 + offset into pend_hash or NULL */
    size_t npend, pend_ops;
    int pend_slot; /* the neighbour they came from */

    uint64_t next_tick_ms, start_mono_ms;
    /* the earliest want_after_ms still ahead (a lazy announcement's
     * grace ends then): the engine wakes for it rather than waiting for
     * the next tick; 0 = none */
    uint64_t pull_wake_ms;
    uint64_t next_ban_check_ms;
    bool ban_check_due;      /* a revocation may have arrived */
    bool rebind_due;         /* drop every inbound connection (a key was banned) */
    char listen_ep[256];     /* what we bound, for a rebind */
    uint64_t own_claimed;    /* highest own seq reported to store->own_claim */
    uint32_t pull_rr;        /* rotates where a pull reply starts (fairness) */
    struct sync_probe *probes; /* per author index (grown with authors) */
    size_t probe_cap;
    uint32_t next_req_id;
    bool refresh_due;
    /* a local store fault (fault.c): pulls and pushed ops wait until
     * fault_until_ms; fault_err FM_OK = none */
    int fault_err;
    uint32_t fault_backoff_ms;
    uint64_t fault_until_ms, fault_in_row;
    struct sync_knock knocks[SYNC_KNOCK_KEYS]; /* refused keys (knock.c) */
    /* connections into our ROUTER per key (conns.c, conns_mon.c) */
    struct sync_conn *conns;  /* cfg.max_conns slots */
    struct sync_ckey *ckeys;  /* cfg.max_conns + SYNC_KNOCK_KEYS slots */
    size_t nckeys;
    void *router_mon;         /* PAIR socket reading the ROUTER's monitor */
    uint64_t conns_audit_ms;  /* next audit of the records (conns_mon.c) */
    struct fm_sync_counters k;
    /* range reconciliation (reconcile.c): our set, as of these heads */
    struct fm_recon_set recon;
    bool recon_built;
    uint64_t recon_total;
    uint8_t recon_hash[FM_HASH_LEN];
    struct sync_tree tree;
};

/* ---- authors.c ---- */
int sync_authors_init(struct fm_sync *s) FM_MUST_USE;
void sync_authors_release(struct fm_sync *s);
/* Index of author pk, adding it (not in store) if new; -1 when the table is full. */
int32_t sync_author_get(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], bool add);
/* The index of the one author we hold ops of whose key starts with
 * prefix[0..len) (len >= 4); -1 for none or several. Only held authors
 * count: a peer can make us list any key it likes, never one whose op we
 * verified, so it cannot make an honest prefix ambiguous. */
int32_t sync_author_by_prefix(const struct fm_sync *s, const uint8_t *prefix, size_t len);
/* Re-reads the store's heads; marks moved authors fresh and changed. */
int sync_heads_refresh(struct fm_sync *s) FM_MUST_USE;
/* ZAP: maps a client Curve key to a node key. FM_OK: admitted, node key in
 * pk_out. FM_ENOTFOUND: neither a configured peer nor an author we hold
 * (pk_out untouched). Another fm_err (FM_EREVOKED, FM_EEXPIRED, ...): a
 * known node, pk_out set, refused for that reason. *name: the configured
 * peer's name (valid until the neighbour is freed), else NULL. */
int sync_admit_curve(struct fm_sync *s, const uint8_t curve[FM_CURVE_LEN],
                     uint8_t pk_out[FM_PK_LEN], const char **name) FM_MUST_USE;

/* ---- belief helpers (neighbours.c; the vector and entries: gossip.c) ---- */
uint64_t sync_nb_belief(const struct sync_nb *nb, uint32_t a);
int sync_nb_grow(struct sync_nb *nb, size_t n) FM_MUST_USE;
/* Sets nb's belief of author index a to seq. */
void sync_belief_set(struct sync_nb *nb, uint32_t a, uint64_t seq);
/* Our whole vector to nb, in VECTOR chunks. */
void sync_send_vector(struct fm_sync *s, struct sync_nb *nb);
/* Raises nb's belief of author index a to seq (never lowers it). */
void sync_belief_raise(struct sync_nb *nb, uint32_t a, uint64_t seq);
/* s->entries: append one (author, seq) entry; sort by author for the wire. */
int sync_entries_add(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint64_t seq) FM_MUST_USE;
void sync_entries_sort(struct fm_sync *s);

/* ---- gossip.c ---- */
void sync_on_message(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n);
/* Timers: anti-entropy, lazy announces, pull scheduling, timeouts. */
int sync_tick(struct fm_sync *s, uint64_t now) FM_MUST_USE;
/* After the heads moved: eager pushes. */
void sync_flush(struct fm_sync *s);
/* Ingests the ops of nos OPS messages from nb in one store call, then does
 * each message's bookkeeping (beliefs, gaps, refusals, PRUNE, tree). */
void sync_ops_take(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_ops *os,
                   size_t nos);
/* neighbours.c */
bool sync_nb_live(const struct fm_sync *s, const struct sync_nb *nb, uint64_t now);
void sync_nb_info(const struct fm_sync *s, const struct sync_nb *nb, struct fm_sync_peer_info *pi);
/* clone.c: a message from nb arrived on our ROUTER with routing id rid
 * from address addr (may be NULL); call before nb->route is updated. */
void sync_clone_seen(struct fm_sync *s, struct sync_nb *nb, const uint8_t *rid, size_t rlen,
                     const char *addr);
/* The engine's clocks (io.c): monotonic ms for timers, and our wall clock
 * as peers should see it (fm_wall_ms: with the test-only offset). */
static inline uint64_t sync_now(const struct fm_sync *s) { return s->io.mono_ms(s->io.ctx); }
static inline uint64_t sync_wall(const struct fm_sync *s) { return s->io.wall_ms(s->io.ctx); }
/* From the engine's tick: asks whether the connection a neighbour left is
 * still there (clone.c). */
void sync_clone_tick(struct fm_sync *s, uint64_t now);
/* Whether nb's key was seen on two live connections lately. */
bool sync_clone_live(const struct sync_nb *nb, uint64_t now_ms);
struct sync_nb *sync_nb_new(struct fm_sync *s, const uint8_t pk[FM_PK_LEN]);
void sync_nb_free(struct fm_sync *s, struct sync_nb *nb);
struct sync_nb *sync_nb_find(struct fm_sync *s, const uint8_t pk[FM_PK_LEN]);

/* ---- reconcile.c: range reconciliation with version-2 neighbours ---- */
/* With an anti-entropy check, and when nb is first heard: a hello while
 * its version is being probed and it is live. */
void sync_recon_hello(struct fm_sync *s, struct sync_nb *nb, uint64_t now);
/* nb's link went down: probe its version again once it is back. */
void sync_recon_link_down(struct sync_nb *nb);

/* ---- compact_peer.c: compact batches with version-3 neighbours ---- */
/* This engine speaks version 3 (cfg.wire_version 0 or 3) and version 4
 * (cfg.wire_version 0). */
bool sync_compact_on(const struct fm_sync *s);
bool sync_compact4_on(const struct fm_sync *s);
/* Says VERSION to nb unless it is known to speak our newest version. */
void sync_compact_hello(struct fm_sync *s, struct sync_nb *nb);
/* Sends a finished plain OPS message m: compact to a version-3 or -4
 * neighbour, plain to any other. give_prev: a reply's runs carry their
 * first prev (pushes never do; a reply leaves it out only when the PULL
 * said FM_PULL_NO_PREV). */
int sync_send_ops(struct fm_sync *s, struct sync_nb *nb, struct fm_buf *m,
                  bool give_prev) FM_MUST_USE;
/* A frame with version byte 3 (COPS or VERSION) from nb. */
void sync_on_v3(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n);
/* Counts and logs (rate-limited) a message dropped as bad (neighbours.c). */
void sync_nb_bad(struct fm_sync *s, struct sync_nb *nb, const char *what, int err);
/* How long after it was last heard a neighbour counts as live (neighbours.c). */
uint64_t sync_live_window(const struct fm_sync *s);
/* Its SUMMARY differs from ours: starts an exchange if nb speaks version
 * 2; false when it does not (send the VECTOR then). */
bool sync_recon_start(struct fm_sync *s, struct sync_nb *nb);
void sync_on_recon(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_recon *m);

/* ---- fault.c: a store that cannot take ops ---- */
/* True while pulls and pushed ops wait for the store (a back-off step). */
bool sync_fault_paused(const struct fm_sync *s, uint64_t now);
/* Ingest failed with err (nothing stored): the next back-off step. */
void sync_fault_note(struct fm_sync *s, int err, uint64_t now);
/* Ingest succeeded: the fault, if any, is over. */
void sync_fault_clear(struct fm_sync *s);

/* ---- budget.c: reply bytes per neighbour key ---- */
/* A decoded PULL (raw: its n bytes): answered now, or deferred while nb's
 * reply budget is spent (cfg.reply_bytes_per_s; 0 = no budget). */
void sync_budget_on_pull(struct fm_sync *s, struct sync_nb *nb, const uint8_t *raw, size_t n,
                         const struct fm_wire_pull *p);
/* Answers deferred PULLs whose neighbour's budget has refilled. */
void sync_budget_tick(struct fm_sync *s, uint64_t now);
/* Frees nb's deferred PULLs. */
void sync_budget_release(struct sync_nb *nb);

/* connections, transport, pulls, queues, soft state, ZAP, control:
 * declared file by file in sync_parts.h */
#include "sync_parts.h"

#endif
