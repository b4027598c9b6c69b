/*
 * wire_int.h — the sync wire messages (private to sync/ and its tests).
 *
 * Every message is one ZeroMQ frame: u8 protocol version | u8 type | body.
 * Integers are big-endian. Decoding never allocates: a decoded message
 * borrows from the frame and lists its entries through pointers into it,
 * so every size is checked against a named maximum before it is trusted.
 * docs/sync.md is the normative description.
 */
#ifndef FM_WIRE_INT_H
#define FM_WIRE_INT_H

#include "sync.h"

#define FM_WIRE_VERSION 1

/* Largest message we encode or accept. ZMQ_MAXMSGSIZE is set a little
 * above it so that a frame just over the limit is dropped by our decoder
 * (connection kept) and only a grossly oversized one drops the link. */
#define FM_WIRE_MAX_MSG (1024u * 1024u)
#define FM_WIRE_ZMQ_MAXMSG ((int64_t)FM_WIRE_MAX_MSG + 65536)

#define FM_WIRE_ENTRY_LEN (FM_PK_LEN + 8)  /* author | u64 seq */
#define FM_WIRE_VECTOR_MAX 16384           /* entries per VECTOR chunk */
#define FM_WIRE_IHAVE_MAX 4096             /* entries per IHAVE */
#define FM_WIRE_PULL_MAX 256               /* authors per PULL */
#define FM_WIRE_BATCH_MAX 4096             /* ops per OPS message / pull */
#define FM_WIRE_OP_MIN (FM_OP_HEADER_LEN + FM_SIG_LEN)
#define FM_WIRE_PEERS_MAX FM_SYNC_MAX_PEERS /* entries in a CTL_STATUS */

enum fm_wire_type {
    FM_MSG_SUMMARY = 1, /* digest of the version vector */
    FM_MSG_VECTOR = 2,  /* a chunk of the version vector */
    FM_MSG_IHAVE = 3,   /* "I hold author up to seq" announcements */
    FM_MSG_PULL = 4,    /* request ops per author from a seq */
    FM_MSG_OPS = 5,     /* ops: an eager push or a pull reply */
    FM_MSG_PRUNE = 6,   /* stop pushing to me eagerly; announce instead */
    FM_MSG_SOFT = 7,    /* soft-state records (positions, presence) */
    FM_MSG_RECON = 8,   /* range reconciliation (version 2 only: recon_int.h) */
    /* local control socket (CLI <-> daemon), never on the network */
    FM_MSG_CTL_NUDGE = 64,
    FM_MSG_CTL_ACK = 65,
    FM_MSG_CTL_PEERS = 66,
    FM_MSG_CTL_STATUS = 67,
};

/* The spanning tree's message (tree.c), under version byte 5 only. */
#define FM_TREE_WIRE_VERSION 5
#define FM_MSG_TREE 11
#define FM_TREE_MSG_LEN 16
#define FM_TREE_ROOT_LEN 8 /* the root's key prefix */
struct fm_wire_tree {
    bool parent;   /* the sender takes the receiver as its parent */
    uint8_t hops;  /* from the sender to the root */
    uint32_t epoch;
    uint8_t root[FM_TREE_ROOT_LEN];
};
/* Exactly FM_TREE_MSG_LEN bytes, known flags only: else FM_EDECODE. */
int fm_tree_decode(struct fm_wire_tree *t, const uint8_t *p, size_t n) FM_MUST_USE;
int fm_tree_encode(struct fm_buf *out, const struct fm_wire_tree *t) FM_MUST_USE;

/* flags */
#define FM_SUMMARY_REPLY 0x01 /* sender wants a SUMMARY or VECTOR back */
#define FM_IHAVE_NOW 0x01     /* pull at once (anti-entropy), else after a grace */
#define FM_PULL_GRAFT 0x01    /* also: push to me eagerly from now on */
#define FM_PULL_NO_PREV 0x02  /* every entry starts at my head + 1: a compact
                               * reply may leave each run's first prev out
                               * (sent to version-4 neighbours only) */
#define FM_OPS_REPLY 0x01     /* reply to PULL req_id (else an eager push) */
#define FM_OPS_TRUNCATED 0x02 /* the reply hit its budget before serving every author */

struct fm_wire_summary {
    uint8_t flags;
    uint64_t now_ms;   /* sender's wall clock */
    uint32_t nauthors;
    uint64_t total;    /* sum of head seqs */
    uint8_t hash[FM_HASH_LEN];
};

/* An entry list (VECTOR, IHAVE, PULL): count entries of FM_WIRE_ENTRY_LEN
 * bytes at `entries`, borrowed from the frame. */
struct fm_wire_entries {
    const uint8_t *entries;
    uint32_t count;
};

struct fm_wire_vector {
    uint8_t lo[FM_PK_LEN], hi[FM_PK_LEN]; /* chunk covers authors lo..hi inclusive */
    struct fm_wire_entries e;             /* strictly increasing authors in [lo, hi] */
};

struct fm_wire_pull {
    uint8_t flags;
    uint32_t req_id;
    uint32_t max_ops; /* 1..FM_WIRE_BATCH_MAX */
    struct fm_wire_entries e; /* (author, from_seq >= 1), authors distinct */
};

struct fm_wire_ops {
    uint8_t flags;
    uint32_t req_id;
    uint32_t count;
    const uint8_t *data; /* count x (u32 len | op), lengths validated */
    size_t data_len;
    /* count x FM_HASH_LEN: each op's hash, as a compact batch's rebuild
     * computed it here (fm_compact_decode); NULL for a plain OPS */
    const uint8_t *hashes;
};

/* SOFT: u16 n | n x (u16 len | record), 1 <= n <= FM_WIRE_SOFT_MAX,
 * FM_WIRE_SOFT_REC_MIN <= len <= FM_SOFT_REC_MAX. Records are opaque here. */
#define FM_WIRE_SOFT_MAX 1024
#define FM_WIRE_SOFT_REC_MIN 16
#define FM_SOFT_REC_MAX 512
struct fm_wire_soft {
    uint16_t count;
    const uint8_t *data; /* count x (u16 len | record), validated */
    size_t data_len;
};

/* A decoded RECON message (borrows the frame). */
struct fm_wire_recon {
    uint8_t flags; /* none defined: 0 */
    uint8_t depth; /* 0 for the first message of an exchange, +1 per answer */
    uint16_t nranges;
    const uint8_t *data; /* the validated ranges */
    size_t data_len;
};

struct fm_wire_status {
    uint64_t uptime_ms, pid;
    struct fm_sync_counters counters;
    uint32_t count;
    const uint8_t *data; /* count encoded peers, validated; see fm_wire_status_peer */
    size_t data_len;
    /* the tree block after the peers (absent from an older daemon's) */
    bool tree_known;
    struct fm_sync_tree_info tree;
    const uint8_t *push; /* count bytes, enum fm_sync_push, one per peer in order */
};

struct fm_wire_msg {
    uint8_t version, type;
    union {
        struct fm_wire_summary summary;
        struct fm_wire_vector vector;
        struct {
            uint8_t flags;
            struct fm_wire_entries e;
        } ihave;
        struct fm_wire_pull pull;
        struct fm_wire_ops ops;
        struct fm_wire_status status;
        struct fm_wire_soft soft;
        struct fm_wire_recon recon;
    } u;
};

/* The enum fm_sync_msg_kind of a message type (FM_SYNC_MSG_OTHER for the
 * control types and unknown ones). */
int fm_wire_kind(uint8_t type);

/* Strict decode of one frame. FM_EDECODE for a bad version (m->version is
 * still set when at least one byte came), unknown type, truncation, trailing
 * bytes, unsorted/duplicate entries or zero seqs where forbidden;
 * FM_ETOOBIG for a frame or count beyond its maximum. */
int fm_wire_decode(struct fm_wire_msg *m, const uint8_t *p, size_t n) FM_MUST_USE;

/* Entry i of a validated list. */
void fm_wire_entry(const struct fm_wire_entries *e, uint32_t i, const uint8_t **author,
                   uint64_t *seq);

/* Iterates a validated OPS body: *pos starts at 0; returns false at the end. */
bool fm_wire_ops_next(const struct fm_wire_ops *o, size_t *pos, const uint8_t **op,
                      size_t *len);

/* Iterates the peers of a validated CTL_STATUS: *pos starts at 0; returns
 * false at the end. */
bool fm_wire_status_next(const struct fm_wire_status *s, size_t *pos,
                         struct fm_sync_peer_info *out);

/* Encoders append one whole message to out (reset first). out->max must be
 * at least the size; FM_ETOOBIG / FM_EINVAL for counts beyond the maxima. */
int fm_wire_encode_summary(struct fm_buf *out, const struct fm_wire_summary *s) FM_MUST_USE;
/* Vector chunk from n entries at `entries` (FM_WIRE_ENTRY_LEN each). */
int fm_wire_encode_vector(struct fm_buf *out, const uint8_t lo[FM_PK_LEN],
                          const uint8_t hi[FM_PK_LEN], const uint8_t *entries,
                          uint32_t n) FM_MUST_USE;
int fm_wire_encode_ihave(struct fm_buf *out, uint8_t flags, const uint8_t *entries,
                         uint32_t n) FM_MUST_USE;
int fm_wire_encode_pull(struct fm_buf *out, uint8_t flags, uint32_t req_id, uint32_t max_ops,
                        const uint8_t *entries, uint32_t n) FM_MUST_USE;
/* OPS header; then append ops with fm_wire_ops_add and finish with
 * fm_wire_ops_finish, which writes the count. */
int fm_wire_ops_begin(struct fm_buf *out, uint8_t flags, uint32_t req_id) FM_MUST_USE;
/* `ops` is a read_ops buffer (u32 len | op, repeated) holding n ops. */
int fm_wire_ops_add(struct fm_buf *out, const uint8_t *ops, size_t len, uint32_t n) FM_MUST_USE;
int fm_wire_ops_finish(struct fm_buf *out) FM_MUST_USE;
int fm_wire_encode_simple(struct fm_buf *out, uint8_t type) FM_MUST_USE; /* PRUNE, CTL_* */
int fm_wire_encode_status(struct fm_buf *out, const struct fm_sync_status *st,
                          const struct fm_sync_peer_info *peers, uint32_t n) FM_MUST_USE;

/* SOFT from a soft_read buffer (u16 len | record, repeated) of n records. */
int fm_wire_encode_soft(struct fm_buf *out, const uint8_t *recs, size_t len,
                        uint32_t n) FM_MUST_USE;
/* Iterates a validated SOFT body: *pos starts at 0; false at the end. */
bool fm_wire_soft_next(const struct fm_wire_soft *m, size_t *pos, const uint8_t **rec,
                       size_t *len);

/* Puts one entry (author | be64 seq) at dst. */
void fm_wire_put_entry(uint8_t *dst, const uint8_t author[FM_PK_LEN], uint64_t seq);

#endif
