/*
 * recon_int.h — range-based reconciliation of version vectors (private to
 * sync/ and its tests). docs/sync.md, "Range reconciliation", is the
 * normative description.
 *
 * Each side holds a set of items, one per author: (author, seq, head hash).
 * A RECON message covers the author space [0, end) with consecutive ranges;
 * each range is bounded above by a key prefix and says what the sender
 * knows of its own items there:
 *   SKIP   nothing to do (settled earlier in this exchange)
 *   MATCH  "your fingerprint equals mine: I hold exactly what you hold"
 *   FP     a 16-byte fingerprint of my items in the range (answer wanted)
 *   LIST   all my items in the range (answer wanted)
 *   HAVE   my state of the authors where we differ (seq 0 = I hold none)
 * The receiver answers FP ranges that differ by splitting them (or with a
 * LIST when it holds few items there), a LIST with HAVE, and stops when
 * nothing is left to ask. Bytes grow with the number of authors that
 * differ, not with the number of authors.
 */
#ifndef FM_RECON_INT_H
#define FM_RECON_INT_H

#include "wire_int.h"

#define FM_RECON_WIRE_VERSION 2   /* RECON frames carry this version byte */
#define FM_RECON_FP_LEN 16
#define FM_RECON_HASH_LEN 8       /* head hash prefix in LIST/HAVE items */
#define FM_RECON_ITEM_LEN (FM_PK_LEN + 8 + FM_RECON_HASH_LEN)
#define FM_RECON_BOUND_END 0xff   /* bound length byte of the end of the space */

/* Work one message may make us do, checked by the decoder (FM_ETOOBIG). */
#define FM_RECON_RANGES_MAX 512   /* ranges per message */
#define FM_RECON_ITEMS_MAX 4096   /* LIST + HAVE items per message */
#define FM_RECON_LIST_MAX 32      /* items per LIST range */
#define FM_RECON_HAVE_MAX 128     /* items per HAVE range */
#define FM_RECON_DEPTH_MAX 32     /* messages in one exchange */

/* How we split (not checked on input). */
#define FM_RECON_BRANCH 16        /* FP pieces per differing range */
#define FM_RECON_LIST_AT 16       /* a range holding <= this many of ours goes as a LIST */
#define FM_RECON_HAVE_AT 64       /* a LIST is answered with HAVE when we hold <= this many */
/* A vector this short goes whole: an exchange for one differing author
 * costs about 1.1 KB at 2,000 authors (bench_recon), more than that. */
#define FM_RECON_MIN_VECTOR 2048

enum fm_recon_mode {
    FM_RECON_SKIP = 0,
    FM_RECON_MATCH = 1,
    FM_RECON_FP = 2,
    FM_RECON_LIST = 3,
    FM_RECON_HAVE = 4,
};

struct fm_recon_item {
    uint8_t pk[FM_PK_LEN];
    uint64_t seq;
    uint8_t hash[FM_RECON_HASH_LEN]; /* first bytes of the head op's hash */
    uint64_t fp[2];                  /* item fingerprint, two 64-bit lanes */
};

/* Our items sorted by author with prefix sums of their fingerprints, so a
 * range's fingerprint costs two binary searches. */
struct fm_recon_set {
    struct fm_recon_item *items;
    uint64_t (*pre)[2]; /* pre[i] = sum of fp of items[0..i), mod 2^128 */
    size_t n, cap;
};

/* A range's upper bound: the first len bytes of a key, zero-padded
 * (exclusive), or the end of the space. */
struct fm_recon_bound {
    uint8_t b[FM_PK_LEN];
    uint8_t len; /* 0..FM_PK_LEN, or FM_RECON_BOUND_END */
};

struct fm_recon_range {
    struct fm_recon_bound lo, hi; /* [lo, hi); lo of the first range is 0 */
    uint8_t mode;
    const uint8_t *fp;    /* FP: FM_RECON_FP_LEN bytes */
    uint16_t n;           /* LIST / HAVE: items */
    const uint8_t *items; /* n x (pk | be64 seq | hash8), strictly increasing pk in [lo, hi) */
};

/* ---- sets (recon.c) ---- */
void fm_recon_set_init(struct fm_recon_set *set);
void fm_recon_set_release(struct fm_recon_set *set);
/* Rebuilds the set from n heads strictly increasing by author. FM_ENOMEM. */
int fm_recon_set_build(struct fm_recon_set *set, const struct fm_head *heads,
                       size_t n) FM_MUST_USE;

/* What an exchange teaches us about the peer, as it happens: it holds
 * exactly our item (same), or it holds author pk up to seq with this head
 * hash prefix (seq 0: none of it). A later call for the same author wins. */
struct fm_recon_cb {
    void *ctx;
    void (*same)(void *ctx, const struct fm_recon_item *ours);
    void (*item)(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq,
                 const uint8_t hash[FM_RECON_HASH_LEN]);
};

/* The first message of an exchange (depth 0): our whole set as FP pieces,
 * or one LIST when it is small. */
int fm_recon_initiate(const struct fm_recon_set *set, struct fm_buf *out) FM_MUST_USE;

/* Answers a decoded RECON. out gets the answer when *send is set; *more
 * says whether the answer asks for another one (it holds FP or LIST
 * ranges); when it does not, the exchange is over on our side. FM_ETOOBIG
 * when the message is at FM_RECON_DEPTH_MAX and still asks for an answer
 * (what it taught us was still reported). */
int fm_recon_respond(const struct fm_recon_set *set, const struct fm_wire_recon *in,
                     const struct fm_recon_cb *cb, struct fm_buf *out, bool *send,
                     bool *more) FM_MUST_USE;

/* Bytes of a whole vector of n authors in VECTOR chunks. An answer longer
 * than this (most authors differ) is replaced by the vector: the exchange
 * then ends as version 1 would, never costing much more than it. */
static inline size_t fm_recon_vector_len(size_t n)
{
    size_t chunks = n / FM_WIRE_VECTOR_MAX + 1;
    return chunks * (2 + 2 * FM_PK_LEN + 4) + n * FM_WIRE_ENTRY_LEN;
}

/* ---- wire (recon_wire.c) ---- */
/* Body of a RECON frame after version and type: FM_EDECODE or FM_ETOOBIG
 * for anything out of bounds, out of order or not consumed exactly. */
int fm_recon_decode(struct fm_wire_recon *m, struct fm_cur *c) FM_MUST_USE;
/* Iterates a validated message: *pos starts at 0; false at the end. r must
 * be the range the previous call returned (its hi is the next lo). */
bool fm_recon_next(const struct fm_wire_recon *m, size_t *pos, struct fm_recon_range *r);
/* Compares two bounds as zero-padded keys (the end is above all keys). */
int fm_recon_bound_cmp(const struct fm_recon_bound *a, const struct fm_recon_bound *b);
/* Whether key pk lies below bound b. */
bool fm_recon_below(const uint8_t pk[FM_PK_LEN], const struct fm_recon_bound *b);

/* Encoder: begin, add ranges in increasing order, finish. A SKIP is
 * written only when a later range needs its bound; adjacent MATCH ranges
 * merge; a trailing SKIP is left out. */
struct fm_recon_enc {
    struct fm_buf *out;
    size_t count_at;
    size_t last_at;                /* where the last range written starts */
    uint16_t nranges;
    uint32_t nitems;
    struct fm_recon_bound at;      /* upper bound of what was written */
    struct fm_recon_bound skip_to; /* pending SKIP up to here (== at: none) */
    bool last_match;               /* the last range written is a MATCH */
};
int fm_recon_enc_begin(struct fm_recon_enc *e, struct fm_buf *out, uint8_t depth) FM_MUST_USE;
/* One range from the current position up to hi. fp for FP; items (n
 * encoded items) for LIST and HAVE. */
int fm_recon_enc_range(struct fm_recon_enc *e, const struct fm_recon_bound *hi, uint8_t mode,
                       const uint8_t *fp, const uint8_t *items, uint16_t n) FM_MUST_USE;
int fm_recon_enc_finish(struct fm_recon_enc *e) FM_MUST_USE;
/* Re-encodes a decoded message (tests and the fuzz target). */
int fm_recon_encode_copy(struct fm_buf *out, const struct fm_wire_recon *m) FM_MUST_USE;
/* Puts one item (pk | be64 seq | hash8) at dst. */
void fm_recon_put_item(uint8_t *dst, const uint8_t pk[FM_PK_LEN], uint64_t seq,
                       const uint8_t hash[FM_RECON_HASH_LEN]);

#endif
