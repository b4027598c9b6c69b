/*
 * compact_int.h — compact OPS batches (wire version 3, issue 13 item 3).
 *
 * A plain OPS message repeats every op's 32-byte author key and 32-byte
 * prev hash and sends its text as it is. A compact batch (COPS) carries
 * the same ops as per-author runs: the author key once per run, the prev
 * hash of the first op only when the sender says so (pull replies) and
 * never for the others (the receiver recomputes it as the hash of the op
 * it rebuilt before), seq implied (+1 within a run), the HLC as a varint
 * delta, and all payload bytes of the batch as one zstd frame. The
 * receiver rebuilds the exact op bytes, so stored ops and signatures are
 * unchanged and ingest checks them as before: a prev recomputed wrong
 * makes the signature fail.
 *
 * Frame (docs/sync.md is normative):
 *   u8 3 | u8 9 | u8 flags (as OPS) | varint req_id | varint nruns | runs
 *   | varint raw_len | u8 codec (0 raw, 1 zstd, 2 zstd with the shipped
 *   dictionary) | payload bytes
 *   run = author[32] | u8 rflags (1 = prev given) | [prev[32]] | varint seq
 *         | varint n (>= 1) | n x (u8 kind | varint hlc | varint plen | sig[64])
 *   hlc: the first op's absolute, then zigzag(hlc - previous hlc).
 * And a version announcement, VERSION: u8 3 | u8 10 | u8 depth (0 = answer
 * wanted, 1 = the answer) | u32 dict_id (the zstd dictionary it holds, 0 =
 * none; codec 2 goes only to a neighbour that holds ours).
 *
 * Version 4 (the same two messages under version byte 4) takes out what
 * the receiver already knows, for single live ops on slow links:
 *   u8 4 | u8 9 | u8 flags | varint req_id | varint nruns | runs | u8 codec
 *   | payload bytes            (no raw_len: it is the sum of the plens)
 *   run = u8 rflags (1 = prev given, 2 = short author) | author[32] or
 *         author[0..8) | [prev[32]] | varint seq | varint n (1..65535) | ops
 *   a short author only with seq > 1 (the receiver holds seq - 1, or asked
 *   for seq in a request naming the author); zstd frames without their
 *   4-byte magic and without a dictionary id (codec 2 = the dictionary
 *   whose id the receiver's VERSION named).
 */
#ifndef FM_COMPACT_INT_H
#define FM_COMPACT_INT_H

#include "wire_int.h"

#define FM_COMPACT_WIRE_VERSION 3
#define FM_COMPACT4_WIRE_VERSION 4
#define FM_MSG_COPS 9     /* a compact OPS batch (version byte 3 or 4) */
#define FM_MSG_VERSION 10 /* "I speak version 3 / 4" (version byte 3 / 4) */

#define FM_COPS_PREV_GIVEN 0x01   /* run flag: the first op's prev follows */
#define FM_COPS_AUTHOR_SHORT 0x02 /* run flag (version 4): author as its prefix */
#define FM_COPS_AUTHOR_PREFIX 8   /* bytes of a short author */
#define FM_COPS_RAW 0  /* codec: payloads as they are */
#define FM_COPS_ZSTD 1 /* codec: one zstd frame */
#define FM_COPS_ZDICT 2 /* codec: one zstd frame made with the shipped dictionary */

/* The zstd dictionary trained on representative ops (configs/zstd-ops.dict,
 * compiled in by CMake: ops_dict.c in the build tree). */
extern const unsigned char fm_ops_dict[];
extern const size_t fm_ops_dict_len;
/* Its zstd dictionary id; 0 when none is compiled in. */
uint32_t fm_compact_dict_id(void);

/* Payload bytes a batch may expand to (a plain OPS is at most
 * FM_WIRE_MAX_MSG in all): a frame declaring more, or holding more than it
 * declares, is refused before or while it is decompressed. */
#define FM_COPS_MAX_RAW FM_WIRE_MAX_MSG

/* zstd state and scratch, reused across messages (one per engine). */
struct fm_compact {
    void *cctx, *dctx; /* ZSTD_CCtx, ZSTD_DCtx; made on first use */
    void *cdict, *ddict; /* the shipped dictionary, digested on first use */
    int level;         /* zstd level (default 3) */
    struct fm_buf meta, raw; /* encoder scratch: runs, payloads */
    uint8_t *zdst, *dec;     /* compressed output; decompressed payloads (the cap) */
    uint8_t *framed;         /* decoder, version 4: the frame with its magic put back */
    struct fm_buf hashes;    /* decoder: the rebuilt ops' hashes (o->hashes) */
    struct fm_buf enc_hashes; /* encoder, version 4: each op's hash, made once by
                               * run_lengths and used again when writing it */
    /* encoder: the caller vouches that within each batch an author's ops
     * of consecutive seqs are chained (each op's prev is the hash of the
     * op before it), as every batch read from a store is (ingest checked
     * each link). Then no op is hashed to find where a run breaks. A wrong
     * vouch costs liveness, never safety: the receiver rebuilds each prev
     * from its own hash of the op before and checks the run's signature,
     * so the run would be refused. false (the default) checks every link. */
    bool chained;
    uint16_t run_lens[FM_WIRE_BATCH_MAX]; /* encoder, version 4: each run's length */
    /* encoder: the authors of the runs opened so far (open addressing) */
    const uint8_t *run_authors[2 * FM_WIRE_BATCH_MAX];
};
void fm_compact_init(struct fm_compact *z);
void fm_compact_release(struct fm_compact *z);

/* Rewrites a plain OPS frame (as fm_wire_ops_finish left it) as a COPS
 * frame of wire version `version` (3 or 4) into out. give_prev: every run carries its first op's prev (pull
 * replies, where the receiver's head may lag); else it is left out (eager
 * pushes, sent from the receiver's believed head). use_dict: the receiver
 * holds our dictionary (its VERSION said so). FM_EINVAL when an op cannot
 * be written compactly (another op version): send the plain one. */
int fm_compact_encode(struct fm_compact *z, uint8_t version, const uint8_t *plain,
                      size_t plain_len, bool give_prev, bool use_dict,
                      struct fm_buf *out) FM_MUST_USE;

/* The receiver's answer for the prev hash of the first op of a run that
 * does not carry it: FM_OK with *out set (seq 1: zeros), or FM_ENOTFOUND
 * when it cannot know it (a gap in front: the run is skipped). */
struct fm_compact_prev {
    void *ctx;
    int (*prev)(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t seq,
                uint64_t last_seq, uint8_t out[FM_HASH_LEN]);
    /* Version 4: the full key of the author whose key starts with
     * prefix[0..len) in a batch answering request req_id (0: a push):
     * FM_OK, or FM_ENOTFOUND for none or several (the run is skipped).
     * NULL: every short-author run is skipped. */
    int (*author)(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                  uint8_t out[FM_PK_LEN]);
};

/* Strict decode of a COPS frame (version 3 or 4): rebuilds its ops into out (u32 len | op,
 * as a plain OPS body) and fills o to point at them (o borrows out; its
 * hashes, each rebuilt op's hash, borrow z).
 * *skipped counts ops of runs whose prev could not be resolved. FM_EDECODE
 * for any malformed part (truncation, trailing bytes, overlong varints,
 * seq overflow, a zstd frame that is not exactly one valid frame of its
 * declared size), FM_ETOOBIG for counts or sizes past their caps (a
 * decompression bomb). Never reads or writes past its caps. */
int fm_compact_decode(struct fm_compact *z, const uint8_t *p, size_t n,
                      const struct fm_compact_prev *cb, struct fm_buf *out,
                      struct fm_wire_ops *o, size_t *skipped) FM_MUST_USE;

/* The op kinds of a COPS frame, in order, into kinds (at most max); the
 * number found, 0 when the frame is malformed. For the rate-limited queue,
 * which sends dispatch-critical ops first (rate.c). */
size_t fm_compact_kinds(const uint8_t *p, size_t n, uint8_t *kinds, size_t max);

/* VERSION (7 bytes) under version byte 3 or 4, carrying our dictionary id. */
int fm_compact_encode_version(struct fm_buf *out, uint8_t version, uint8_t depth) FM_MUST_USE;
int fm_compact_decode_version(const uint8_t *p, size_t n, uint8_t *version, uint8_t *depth,
                              uint32_t *dict_id) FM_MUST_USE;

#endif
