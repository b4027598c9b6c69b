/*
 * replica_int.h — what the files of node/replica/ share: the node handle,
 * an author's head, the op-log core (check, store, truncate, rebuild),
 * revocations, forks, re-entry, clock flags. Tests may include it; other
 * folders may not (they use replica.h).
 */
#ifndef FM_REPLICA_INT_H
#define FM_REPLICA_INT_H

#include "replica.h"
#include "../../sync/sync.h" /* struct fm_head, fm_ingest_result: filled here */
#include "logpayload.h" /* the log's part of a payload; the rest is the domain's */
#include "store_int.h"

#include <pthread.h>

/* Internal open flag (tests): no fsync at commit. */
#define FM_OPEN_NOSYNC_ (1u << 16)
/* Internal open flag (benchmarks' baseline only): values in clear. */
#define FM_OPEN_PLAIN_ (1u << 17)

/* 2: a note's timeline entry refers to its op; 3: timeline keys start with
 * the entity kind (an op naming an incident's id as its ticket no longer
 * mixes the two histories) */
#define NODE_SCHEMA_VERSION 3

/* Dispatcher group keys this node opened (dispatch_key.c), by key id. */
#define NODE_GK_CACHE 8
struct node_gk {
    uint8_t key_id[FM_SEAL_KEY_ID_LEN];
    struct fm_seal_key k; /* guarded memory */
};

struct fm_node {
    struct fm_config cfg;
    struct store *st;
    unsigned flags;
    bool has_identity;
    struct fm_identity id;
    struct fm_cert cert; /* from cfg.cert_path, checked against id and org */
    struct fm_keys keys; /* own copy; the store borrows keys.data */
    struct node_gk gk[NODE_GK_CACHE];
    size_t ngk;
    pthread_mutex_t gk_lock; /* guards gk and ngk */
    struct fm_progress progress; /* fn NULL: none (fm_node_set_progress) */
    const struct replica_domain *dom; /* what ops mean (NULL: logs only) */
    /* fm_node_set_operator: the console operator the writes made now act
     * for ("" = none); written into each op only at cfg.op_format >= 2 */
    char acting_operator[FM_OP_OPERATOR_MAX];
};

/* Reports through n->progress when one is set. */
static inline void node_progress(const struct fm_node *n, uint64_t done, uint64_t total)
{
    if (n->progress.fn != NULL)
        n->progress.fn(n->progress.ctx, done, total);
}

/* One author's head: the highest contiguous seq stored, its hash and hlc,
 * and a summary of the certificate from op 1. Stored in DB_HEADS. */
struct node_head {
    uint64_t seq;
    uint8_t hash[FM_HASH_LEN];
    uint64_t hlc;
    uint8_t role, tier;
    uint64_t not_before_ms, expires_ms;
    char name[FM_NAME_MAX];
    char unit[FM_NAME_MAX];
};

/* ---- the domain this replica serves ----
 * The op log knows ops, authors and their heads, certificates,
 * revocations, forks and group keys. What an op means to incidents, units
 * and tickets belongs to the domain (node/model/ and node/workflow/;
 * node/workflow/domain.c fills this table). The replica calls the domain
 * only through the table it is handed at open, so calls between the
 * folders run one way: domain -> replica (docs/architecture.md). */
struct replica_domain {
    /* Payloads are the domain's struct, whose first member is the log's
     * part (struct log_payload): its size, for the payloads the replica
     * allocates, copies and steps through; every function below is handed
     * a pointer to that first member. */
    size_t payload_size;
    /* the op payload codec (model/payload.c) */
    int (*decode)(struct log_payload *out, uint8_t kind, const uint8_t *p, size_t n);
    /* gives pl the causal base of an op stamped at `clock` (model_base.c),
     * then encodes it; check gets the encoding decoded again */
    int (*encode)(struct store_txn *t, struct log_payload *pl, uint64_t clock, struct fm_buf *out,
                  struct log_payload *check);
    /* role and unit rules of an op of the domain's kinds (FM_EPERM/FM_EUNIT) */
    int (*permitted)(const struct node_head *h, const uint8_t author[FM_PK_LEN],
                     const struct log_payload *pl);
    /* applies a stored op to the entities; empties the entity databases */
    int (*apply)(struct store_txn *t, const struct fm_op *op, const struct log_payload *pl);
    int (*clear)(struct store_txn *t);
    /* how many entities exist (fm_node_stats) */
    int (*entities)(struct store_txn *t, uint64_t *count);
    /* one line on the op, and the name of a kind */
    void (*summary)(const struct log_payload *pl, char *out, size_t cap);
    const char *(*kind_name)(uint8_t kind);
    /* soft state (softstate.c): the subject a position of `name` (an id,
     * prefix or name) is stored under, if this node, with certificate
     * cert, may place it (FM_ENOTFOUND, FM_EUNIT otherwise) ... */
    int (*soft_subject)(struct store_txn *t, const struct fm_cert *cert, const char *name,
                        uint8_t ref[FM_PK_LEN + 8]);
    /* ... and whether the author of a received position, its head h, may
     * place the subject ref (FM_OK or FM_EUNIT) */
    int (*soft_subject_own)(struct store_txn *t, const struct node_head *h,
                            const uint8_t ref[FM_PK_LEN + 8]);
    /* the ops a payload refers to (for re-entering ops after a fork,
     * fork_reenter.c): up to LOG_REFS_MAX, each its author and a pointer
     * to its seq, which the replica may move; returns how many */
    size_t (*op_refs)(struct log_payload *pl, const uint8_t *author[], uint64_t *seq[]);
};
#define LOG_REFS_MAX 3

/* node.c: fm_node_open_keys with the domain to serve. dom NULL opens a
 * store only to read its logs (a staged backup): nothing is applied, and
 * a store of an older schema is left for a real open to migrate. */
int replica_open(struct fm_node **out, const struct fm_config *cfg, unsigned flags,
                 const struct fm_keys *k, const struct replica_domain *dom) FM_MUST_USE;

/* A zeroed payload of the domain's size (dom->payload_size; the log's
 * part alone without a domain), or NULL; free() it. */
struct log_payload *node_payload_new(const struct fm_node *n);

/* ---- hlc.c ---- */
/* 48-bit milliseconds << 16 | 16-bit counter. */
static inline uint64_t hlc_ms(uint64_t hlc) { return hlc >> 16; }
/* A fresh local timestamp: max(wall << 16, last + 1). */
uint64_t hlc_now(uint64_t last, uint64_t wall_ms);
/* The local clock after seeing `remote`: advanced only if remote is at
 * most max_skew_ms ahead of the wall clock. */
uint64_t hlc_observe(uint64_t local, uint64_t remote, uint64_t wall_ms, uint32_t max_skew_ms);

/* ---- node.c: shared helpers ---- */
/* n->id from n->keys (FM_ENOTFOUND when the node has no identity key). */
int node_identity_from_keys(struct fm_node *n) FM_MUST_USE;
/* Zeroed head and FM_OK when the author has none. */
int node_head_get(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                  struct node_head *h) FM_MUST_USE;
int node_head_put(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                  const struct node_head *h) FM_MUST_USE;
/* UINT64_MAX when not revoked. */
int node_limit_get(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                   uint64_t *limit) FM_MUST_USE;
int node_meta_get_u64(struct store_txn *t, const char *name, uint64_t *v) FM_MUST_USE;
int node_meta_put_u64(struct store_txn *t, const char *name, uint64_t v) FM_MUST_USE;
void node_op_key(const uint8_t author[FM_PK_LEN], uint64_t seq, uint8_t key[FM_PK_LEN + 8]);

/* Content checks of one op that chains correctly: payload decodes (into
 * pl), seq 1 is a certificate of this org for this author valid at the
 * op's time, later ops fall inside the certificate's validity (from h),
 * revocations verify against the org key. */
int node_op_check(const struct fm_node *n, const struct fm_op *op, const struct node_head *h,
                  struct log_payload *pl) FM_MUST_USE;
/* Stores a checked op, applies it to the entities and moves the head
 * (h is the author's head before, updated in place; hash = op hash). */
int node_op_store(const struct fm_node *n, struct store_txn *t, const struct fm_op *op,
                  const uint8_t hash[FM_HASH_LEN],
                  const struct log_payload *pl, struct node_head *h) FM_MUST_USE;
/* The head as it stood right after the author's op `seq` (held in the
 * store): that op's hash and hlc, and the certificate fields of the
 * latest certificate or renewal at or below it. FM_ENOTFOUND if the op
 * is not held; seq 0 gives an empty head. */
int node_head_at(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                 struct node_head *h) FM_MUST_USE;

/* ---- announce.c: certificates announced for admission ---- */
/* Indexes a stored cert.announce op's certificate (the later window of
 * two stands). */
int node_announce_note(struct store_txn *t, const struct log_payload *pl) FM_MUST_USE;
/* The certificate announced for pk: FM_OK, FM_ENOTFOUND, FM_ESTORE. */
int node_announce_get(struct store_txn *t, const uint8_t pk[FM_PK_LEN],
                      struct fm_cert *out) FM_MUST_USE;

/* ---- dispatch_key.c: the dispatchers' group key (docs/security.md) ---- */
/* Indexes a stored dispatch.key op in DB_LOCAL for this node's reads. */
int node_groupkey_note(struct store_txn *t, const struct fm_op *op,
                       const struct log_payload *pl) FM_MUST_USE;
/* Calls fn with the group key of this id (key_id NULL: the newest
 * generation sealed to this node, which new incidents use; *generation
 * set), opened with this node's identity and cached in the node handle;
 * the key is valid only during the call (the cache is locked: readers on
 * several threads share one handle). Returns fn's result, FM_ENOTFOUND
 * (that key is not sealed to this node) or FM_ENOKEY (key_id NULL: none
 * is, or the node has no identity). */
typedef int (*node_gk_fn)(const struct fm_seal_key *k, void *ctx);
int node_groupkey_use(struct fm_node *n, struct store_txn *t,
                      const uint8_t key_id[FM_SEAL_KEY_ID_LEN], uint32_t *generation,
                      node_gk_fn fn, void *ctx) FM_MUST_USE;
void node_groupkey_release(struct fm_node *n);

/* ---- frozen.c: revocations and the history they freeze ---- */
struct node_rev {
    uint64_t limit;                /* UINT64_MAX when not revoked */
    bool has_head;                 /* the revocation names the op at limit */
    uint8_t head[FM_HASH_LEN];
};
int node_revocation_get(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                        struct node_rev *r) FM_MUST_USE;
/* Records a revocation: the minimum last_seq per node wins; at one
 * last_seq a named head beats none, and the smaller of two heads wins (so
 * the result is the same in every order). If the node has ops beyond it
 * or off the named history they are deleted, its head moved back and
 * *need_rebuild set. */
int node_revocation_note(struct store_txn *t, const struct fm_revocation *rev,
                         bool *need_rebuild) FM_MUST_USE;
/* Whether (author, seq) lies in a history a revocation froze by naming
 * its head: forks there are never settled by stamps, only by the head. */
/* Whether rev says more than the record in force (see above). */
bool node_revocation_stricter(const struct fm_revocation *rev, const struct node_rev *cur);
int frozen_covers(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                  bool *covers) FM_MUST_USE;
/* The hash the frozen history has at seq, when this store knows it. */
int frozen_expected(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                    const struct node_rev *r, uint64_t seq, uint8_t out[FM_HASH_LEN],
                    bool *known) FM_MUST_USE;
/* An op at its frozen hash teaches the hash below it (its prev). */
int frozen_learn(struct store_txn *t, const struct fm_op *op) FM_MUST_USE;
/* Cuts the author's held log back to the frozen history where it left it. */
int frozen_repair(struct store_txn *t, const uint8_t author[FM_PK_LEN], bool *need_rebuild)
    FM_MUST_USE;
/* Deletes the author's ops after `keep` and moves its head (h, the head
 * before) back to op `keep`, recomputing the certificate fields from op 1
 * and any renewals that remain. Used by revocations and fork settling. */
int node_truncate(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t keep,
                  struct node_head *h) FM_MUST_USE;
/* Clears the entity databases and re-applies every stored op. */
int node_rebuild_txn(const struct fm_node *n, struct store_txn *t) FM_MUST_USE;
/* The same, reporting the ops re-applied through p (NULL: silent). */
int node_rebuild_txn_progress(const struct fm_node *n, struct store_txn *t,
                              const struct fm_progress *p) FM_MUST_USE;

/* Authors one op with a prepared payload (kind and fields set, refs
 * included): the generic writer behind every fm_node_* write. No state
 * checks beyond the payload's own. Tests use it to write any op kind
 * (incident.update, refs to entities this node has not seen). */
int node_write_payload(struct fm_node *n, const struct log_payload *pl, uint64_t *seq_out) FM_MUST_USE;
/* Same for `count` payloads in one transaction (benchmarks, bulk loads):
 * *first_seq gets the seq of the first. Here and in node_write_run, pls is
 * the log part of the first of `count` domain payloads in an array (one
 * every dom->payload_size bytes); a single payload is a whole domain one. */
int node_write_batch(struct fm_node *n, const struct log_payload *pls, size_t count,
                     uint64_t *first_seq) FM_MUST_USE;
/* What a write's prepare step sees: the node, the id or prefix the
 * caller named (may be NULL), and room for what it found when it
 * refuses (e.g. the id of the unit that already exists). */
struct write_prep {
    struct fm_node *n;
    const char *target;
    char found[FM_ID_MAX];
};
/* Runs inside the write transaction before payload pl is encoded; may
 * edit pl (set its refs from the target); any error aborts the write. */
typedef int (*node_prepare_fn)(struct write_prep *w, struct store_txn *t, struct log_payload *pl);
/* The general form: each payload through `prepare` (NULL: none) and
 * written, all in one transaction; *seq_out (optional) gets the first
 * payload's seq, found_out (optional, FM_ID_MAX) prepare's `found` when
 * the write failed, "" when it succeeded. */
int node_write_run(struct fm_node *n, const struct log_payload *pls, size_t count,
                   node_prepare_fn prepare, const char *target, uint64_t *seq_out,
                   char found_out[FM_ID_MAX]) FM_MUST_USE;


/* Tests: empties every database (a fresh store without reopening). */
int node_test_clear(struct fm_node *n) FM_MUST_USE;

/* ---- field sync (docs/field-sync.md) ---- */
/* hlc.c: the wall clock the HLC reads: fm_now_ms() plus the test-only
 * offset in $FM_TEST_CLOCK_OFFSET_MS (signed ms; read once). */
uint64_t node_wall_ms(void);
/* fork.c: the OP_FORK_EVIDENCE payload codec is declared in logpayload.h. */
/* Two different signed ops x, y of one author and seq: records the
 * evidence. If they share their prev (the root of a fork), the op with the
 * smaller (hlc, hash) of all seen there with that prev is the winner, and
 * if the stored op at that seq competes with it and lost, the author's log
 * is truncated before it (*need_rebuild set). A pair with different prevs
 * is kept as evidence only: it settles nothing (docs/field-sync.md §5).
 * from_evidence: learned from an evidence op (so it need not be published
 * again). */
int fork_note(struct store_txn *t, const uint8_t *x, size_t xlen, const uint8_t *y, size_t ylen,
              bool from_evidence, bool *need_rebuild) FM_MUST_USE;
/* Whether op (hash given) may be stored: false if a fork's root at its
 * seq, with its prev, was settled for another op. */
/* fork_check.c: *verdict FM_OK if op would be stored at its seq on top of
 * the op this store holds at seq-1 (so it may take part in settling a
 * fork), else the reason it may not (FM_EGAP: the op below it is not the one
 * this store holds, so it cannot be judged here). */
int fork_eligible(const struct fm_node *n, struct store_txn *t, const struct fm_op *op,
                  struct log_payload *pl, int *verdict) FM_MUST_USE;
int fork_allowed(struct store_txn *t, const struct fm_op *op, const uint8_t hash[FM_HASH_LEN],
                 bool *ok) FM_MUST_USE;
/* Fork safety before signing (write_txn): FM_EFORK (and an error line) if
 * this store is behind this identity's own log. */
int fork_guard(struct fm_node *n, struct store_txn *t, const struct node_head *h) FM_MUST_USE;
/* After a successful write: marks the identity as used (<key>.used). */
void fork_mark_used(struct fm_node *n);
/* fork_reenter.c: re-entering our own ops a fork settling dropped. */
/* Keeps the author's ops keep+1..head (about to be cut by settling) as
 * pending records in DB_FORKS (key author | seq | hash); kept ones stay. */
int fork_lost_keep(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t keep,
                   uint64_t head) FM_MUST_USE;
/* Whether a DB_FORKS key is such a record rather than a fork record. */
bool fork_key_is_lost(size_t klen);
/* Signs pl as our next op in t; *seq = its seq. */
typedef int (*fork_append_fn)(void *ctx, struct store_txn *t, const struct log_payload *pl,
                              uint64_t *seq);
#define FORK_REENTRY_LOG_MAX 16
struct fork_reentry_list {
    size_t n; /* records settled; the first FORK_REENTRY_LOG_MAX are in e */
    struct fm_reentry e[FORK_REENTRY_LOG_MAX];
};
/* Inside a write transaction that passed fork_guard: re-enters (through
 * append) or skips every pending record of our own key, marking each. */
int fork_reenter_txn(struct fm_node *n, struct store_txn *t, fork_append_fn append, void *actx,
                     struct fork_reentry_list *out) FM_MUST_USE;
/* After the commit: one WARN line per record settled. */
void fork_reenter_log(const struct fork_reentry_list *l);
/* node_write.c: a write of no op of its own that only re-enters. */
int node_write_reenter(struct fm_node *n, size_t *count) FM_MUST_USE;
/* ingest.c: an op stamped beyond max_skew_ms ahead of our clock. */
int flags_note(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
               uint64_t ahead_ms) FM_MUST_USE;
/* backdate.c: expiry vs back-dating. After storing op (payload pl; h = the
 * author's head after it): records it if our clock (wall_ms) is past the
 * certificate's expiry + max_skew_ms, or if its base lies past that
 * expiry; logs a rate-limited WARN. */
int backdate_note(struct store_txn *t, const struct fm_op *op, const struct log_payload *pl,
                  const struct node_head *h, uint64_t wall_ms, uint32_t max_skew_ms) FM_MUST_USE;
/* Fills s->late_* and s->beyond_expiry_* for author (zero if nothing). */
int backdate_read(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                  struct fm_author_seen *s) FM_MUST_USE;
/* softstate.c: the soft position of a subject (a unit's id as author |
 * seq), typed or from GPS: FM_ENOTFOUND when none is held. */
struct soft_position {
    int32_t lat_e7, lon_e7;
    uint64_t hlc;
    bool gps;             /* a GPS fix: fix_ms and accuracy_dm are set */
    uint64_t fix_ms;
    uint32_t accuracy_dm; /* FM_GPS_NO_ACCURACY when typed */
};
int soft_position_get(struct fm_node *n, const uint8_t ref[FM_PK_LEN + 8],
                      struct soft_position *out) FM_MUST_USE;

#endif
