/*
 * test_compact.c — compact OPS batches (wire versions 3 and 4).
 *
 * The codec: a batch of several authors' runs rebuilds byte for byte,
 * with and without the prev hashes given, with and without the shipped
 * dictionary (which makes a single op smaller); a frame made with another
 * dictionary is refused; a prev resolved wrong rebuilds
 * an op whose signature fails; every truncation, trailing bytes, a zstd
 * frame that holds more than it declares, one that declares more than the
 * cap and runs that add up past the cap are refused. The engines (two of
 * them over an in-test network, fm_sync_new_io): two version-4 nodes move
 * ops only as version-4 COPS; a version-4 node sends a version-3 node
 * version-3 COPS, a version-2 or version-1 node only plain OPS, and both
 * converge; a malformed or bomb COPS is counted against its sender and the
 * link keeps syncing. Version 4's codec: a single op is at least 32 bytes
 * shorter than in version 3 (short author, frame without magic and
 * dictionary id, no total length); short authors resolve through the
 * receiver, and a run whose author it cannot name is skipped, never
 * guessed; frames with a magic, a dictionary id or a short author at seq 1
 * are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "crypto/crypto.h"
#include "sync/compact_int.h"
#include "memstore.h"

#define NAUTH 3

static struct fm_identity ids[NAUTH];
static struct fm_compact Z;
static struct fm_buf plain, enc, out;

/* heads[a] = hash of the last op built for author a (what a receiver
 * holding everything before the batch knows) */
static uint8_t heads_before[NAUTH][FM_HASH_LEN];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(fm_crypto_init(), FM_OK);
    for (int i = 0; i < NAUTH; i++)
        assert_int_equal(fm_identity_generate(&ids[i]), FM_OK);
    fm_compact_init(&Z);
    fm_buf_init(&plain, FM_WIRE_MAX_MSG);
    fm_buf_init(&enc, FM_WIRE_MAX_MSG);
    fm_buf_init(&out, FM_WIRE_MAX_MSG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fm_compact_release(&Z);
    fm_buf_release(&plain);
    fm_buf_release(&enc);
    fm_buf_release(&out);
    for (int i = 0; i < NAUTH; i++)
        fm_identity_release(&ids[i]);
    return 0;
}

/* A note in Chinese and English, ~150-300 bytes. */
static size_t note(char *buf, size_t cap, unsigned n)
{
    static const char *const words[] = {"救护车", "已到达", "现场", "ambulance", "arrived",
                                        "scene", "two injured", "消防", "road blocked"};
    size_t len = 0;
    for (unsigned k = 0; k < 20 + n % 10 && len + 20 < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s ", words[(n * 7 + k * 3) % 9]);
    return len;
}

/* A plain OPS (flags, req 7 when a reply) of `per` ops for each author,
 * seqs from `from`, authors in turn by runs. */
static void build_plain(uint8_t flags, unsigned from, unsigned per)
{
    struct fm_buf op, ops;
    uint8_t prev[NAUTH][FM_HASH_LEN];
    fm_buf_init(&op, FM_OP_MAX_LEN);
    fm_buf_init(&ops, FM_WIRE_MAX_MSG);
    memset(prev, 0, sizeof(prev));
    assert_int_equal(fm_wire_ops_begin(&plain, flags, flags ? 7 : 0), FM_OK);
    for (int a = 0; a < NAUTH; a++) {
        fm_buf_reset(&ops);
        for (unsigned s = 1; s < from + per; s++) {
            char text[400];
            size_t tl = note(text, sizeof text, s * 13 + (unsigned)a);
            assert_int_equal(fm_op_build(&op, &ids[a], (uint8_t)(1 + s % 3), s,
                                         s == 1 ? NULL : prev[a], 0x1000000ull + s * 70000 + a,
                                         text, (uint32_t)tl),
                             FM_OK);
            struct fm_op d;
            assert_int_equal(fm_op_decode(&d, op.data, op.len), FM_OK);
            fm_op_hash(&d, prev[a]);
            if (s == from - 1)
                memcpy(heads_before[a], prev[a], FM_HASH_LEN);
            if (s >= from) {
                assert_int_equal(fm_buf_put_u32(&ops, (uint32_t)op.len), FM_OK);
                assert_int_equal(fm_buf_append(&ops, op.data, op.len), FM_OK);
            }
        }
        assert_int_equal(fm_wire_ops_add(&plain, ops.data, ops.len, per), FM_OK);
    }
    assert_int_equal(fm_wire_ops_finish(&plain), FM_OK);
    fm_buf_release(&op);
    fm_buf_release(&ops);
}

struct resolver {
    bool wrong;
    int calls, author_calls;
};

static int resolve(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq, uint64_t last,
                   uint8_t o[FM_HASH_LEN])
{
    struct resolver *r = ctx;
    (void)seq;
    (void)last;
    r->calls++;
    for (int a = 0; a < NAUTH; a++)
        if (memcmp(pk, ids[a].pk, FM_PK_LEN) == 0) {
            memcpy(o, heads_before[a], FM_HASH_LEN);
            if (r->wrong)
                o[0] ^= 1;
            return FM_OK;
        }
    return FM_ENOTFOUND;
}

/* Short authors: the test's authors by prefix (none match: not found). */
static int resolve_author(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                          uint8_t o[FM_PK_LEN])
{
    struct resolver *r = ctx;
    (void)req_id;
    r->author_calls++;
    for (int a = 0; a < NAUTH; a++)
        if (memcmp(prefix, ids[a].pk, len) == 0) {
            memcpy(o, ids[a].pk, FM_PK_LEN);
            return FM_OK;
        }
    return FM_ENOTFOUND;
}

/* Decodes enc; the plain body of the rebuilt ops must equal plain's. */
static void assert_rebuilds(struct resolver *r)
{
    struct fm_wire_ops o;
    struct fm_wire_msg m;
    size_t skipped = 9;
    struct fm_compact_prev cb = {r, resolve, resolve_author};
    assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped), FM_OK);
    assert_int_equal(skipped, 0);
    assert_int_equal(fm_wire_decode(&m, plain.data, plain.len), FM_OK);
    assert_int_equal(o.count, m.u.ops.count);
    assert_int_equal(o.flags, m.u.ops.flags);
    assert_int_equal(o.req_id, m.u.ops.req_id);
    assert_int_equal(o.data_len, m.u.ops.data_len);
    assert_memory_equal(o.data, m.u.ops.data, o.data_len);
    /* each rebuilt op comes with its own hash, for ingest to reuse */
    assert_non_null(o.hashes);
    assert_null(m.u.ops.hashes); /* a plain OPS has none */
    size_t pos = 0, k = 0, len;
    const uint8_t *op;
    while (fm_wire_ops_next(&o, &pos, &op, &len)) {
        uint8_t h[FM_HASH_LEN];
        fm_hash(h, op, len);
        assert_memory_equal(o.hashes + k * FM_HASH_LEN, h, FM_HASH_LEN);
        k++;
    }
    assert_int_equal(k, o.count);
}

static void test_round_trip_mixed_authors(void **state)
{
    (void)state;
    struct resolver r = {0};
    /* a pull reply from seq 1: prevs given (none needed at seq 1) */
    build_plain(FM_OPS_REPLY, 1, 40);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, true, false, &enc), FM_OK);
    assert_true(enc.len * 2 < plain.len); /* far smaller */
    assert_rebuilds(&r);
    assert_int_equal(r.calls, 0);
    /* a reply from seq 10: the first prev of each run is in the frame */
    build_plain(FM_OPS_REPLY, 10, 5);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, true, false, &enc), FM_OK);
    assert_rebuilds(&r);
    assert_int_equal(r.calls, 0);
    /* a push from seq 10: the receiver supplies each run's first prev */
    build_plain(0, 10, 2);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, false, &enc), FM_OK);
    assert_rebuilds(&r);
    assert_int_equal(r.calls, NAUTH);
}

static void test_dictionary(void **state)
{
    (void)state;
    struct resolver r = {0};
    struct fm_buf plain_enc;
    fm_buf_init(&plain_enc, FM_WIRE_MAX_MSG);
    assert_true(fm_compact_dict_id() != 0); /* configs/zstd-ops.dict is compiled in */
    /* one live op, as a push: with the dictionary it is smaller */
    build_plain(0, 10, 1);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, false, &plain_enc),
                     FM_OK);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, true, &enc), FM_OK);
    assert_true(enc.len < plain_enc.len);
    assert_rebuilds(&r);
    /* a batch too */
    build_plain(FM_OPS_REPLY, 1, 30);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, true, true, &enc), FM_OK);
    assert_rebuilds(&r);
    fm_buf_release(&plain_enc);
}

static void test_prev_mismatch_fails_signature(void **state)
{
    (void)state;
    struct resolver r = {.wrong = true};
    struct fm_wire_ops o;
    size_t skipped, pos = 0, len;
    const uint8_t *op;
    struct fm_compact_prev cb = {&r, resolve, NULL};
    build_plain(0, 10, 2);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, false, &enc), FM_OK);
    assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped), FM_OK);
    /* each run's last op's signature covers the wrong prev by the chain:
     * the first op of each run does not verify */
    int bad = 0;
    while (fm_wire_ops_next(&o, &pos, &op, &len)) {
        struct fm_op d;
        assert_int_equal(fm_op_decode(&d, op, len), FM_OK);
        bad += !fm_op_verify(&d);
    }
    assert_true(bad >= NAUTH);
}

/* One op of ids[0] at seq after prev (NULL at seq 1) into ops (u32 len |
 * op); h gets its hash. */
static void add_op(struct fm_buf *ops, unsigned seq, const uint8_t *prev, const char *text,
                   uint8_t h[FM_HASH_LEN])
{
    struct fm_buf op;
    struct fm_op d;
    fm_buf_init(&op, FM_OP_MAX_LEN);
    assert_int_equal(fm_op_build(&op, &ids[0], 1, seq, prev, 0x1000000ull + seq * 70000, text,
                                 (uint32_t)strlen(text)),
                     FM_OK);
    assert_int_equal(fm_op_decode(&d, op.data, op.len), FM_OK);
    fm_op_hash(&d, h);
    if (ops) {
        assert_int_equal(fm_buf_put_u32(ops, (uint32_t)op.len), FM_OK);
        assert_int_equal(fm_buf_append(ops, op.data, op.len), FM_OK);
    }
    fm_buf_release(&op);
}

/* A forked author: seq 4 of one branch followed by seq 5 of the other
 * (whose prev is not the hash of the seq 4 before it in the batch). The
 * encoder must not take the second op's prev as implied: it opens a run
 * of its own carrying the prev, in both versions, pushed or replied, and
 * every rebuilt op is byte for byte the one sent and verifies. Found by
 * fuzz_compact (the round trip changed the second op's prev). */
/* Author 0 forked at seq 4: appends branch a's four, then branch b's five
 * (whose prev is branch b's four, left out) to ops, for a receiver
 * holding seq 3; a4 and b5 get their hashes. */
static void fork_ops(struct fm_buf *ops, uint8_t a4[FM_HASH_LEN], uint8_t b5[FM_HASH_LEN])
{
    uint8_t h1[FM_HASH_LEN], h2[FM_HASH_LEN], h3[FM_HASH_LEN], b4[FM_HASH_LEN];
    add_op(NULL, 1, NULL, "one", h1);
    add_op(NULL, 2, h1, "two", h2);
    add_op(NULL, 3, h2, "three", h3);
    add_op(ops, 4, h3, "branch a, four", a4);
    add_op(NULL, 4, h3, "branch b, four", b4);
    add_op(ops, 5, b4, "branch b, five", b5);
    memcpy(heads_before[0], h3, FM_HASH_LEN); /* a receiver holding seq 3 */
}

static void test_fork_branches_round_trip(void **state)
{
    (void)state;
    struct fm_buf ops;
    uint8_t a4[FM_HASH_LEN], b5[FM_HASH_LEN], b6[FM_HASH_LEN], a5[FM_HASH_LEN];
    fm_buf_init(&ops, FM_WIRE_MAX_MSG);
    fork_ops(&ops, a4, b5);
    add_op(&ops, 6, b5, "branch b, six", b6);
    add_op(&ops, 5, a4, "branch a, five", a5);
    for (int v = 3; v <= 4; v++)
        for (int reply = 0; reply <= 1; reply++) {
            struct resolver r = {0};
            struct fm_wire_ops o;
            size_t skipped, pos = 0, len;
            const uint8_t *op;
            struct fm_compact_prev cb = {&r, resolve, resolve_author};
            assert_int_equal(fm_wire_ops_begin(&plain, reply ? FM_OPS_REPLY : 0, reply ? 7 : 0),
                             FM_OK);
            assert_int_equal(fm_wire_ops_add(&plain, ops.data, ops.len, 4), FM_OK);
            assert_int_equal(fm_wire_ops_finish(&plain), FM_OK);
            assert_int_equal(fm_compact_encode(&Z, (uint8_t)v, plain.data, plain.len, reply,
                                               false, &enc),
                             FM_OK);
            assert_rebuilds(&r);
            assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped),
                             FM_OK);
            while (fm_wire_ops_next(&o, &pos, &op, &len)) {
                struct fm_op d;
                assert_int_equal(fm_op_decode(&d, op, len), FM_OK);
                assert_true(fm_op_verify(&d));
            }
        }
    fm_buf_release(&ops);
}

/* fm_compact.chained: the engine vouches that its batches (read from its
 * store) are chained, and the encoder hashes nothing. For a chained batch
 * the frame is the same byte for byte; for a batch that breaks the vouch
 * (two branches of a fork, seq 4 of one then seq 5 of the other) the
 * receiver's rebuild fails the signature check: liveness lost, never a
 * forged op accepted. */
static void test_chained_vouch(void **state)
{
    (void)state;
    struct fm_buf unchained, ops;
    fm_buf_init(&unchained, FM_WIRE_MAX_MSG);
    for (int v = 3; v <= 4; v++)
        for (int reply = 0; reply <= 1; reply++) {
            struct resolver r = {0};
            build_plain(reply ? FM_OPS_REPLY : 0, 10, 30);
            Z.chained = false;
            assert_int_equal(fm_compact_encode(&Z, (uint8_t)v, plain.data, plain.len, reply, true,
                                               &unchained),
                             FM_OK);
            Z.chained = true;
            assert_int_equal(fm_compact_encode(&Z, (uint8_t)v, plain.data, plain.len, reply, true,
                                               &enc),
                             FM_OK);
            Z.chained = false;
            assert_int_equal(enc.len, unchained.len);
            assert_memory_equal(enc.data, unchained.data, enc.len);
            assert_rebuilds(&r);
        }
    fm_buf_release(&unchained);

    uint8_t a4[FM_HASH_LEN], b5[FM_HASH_LEN];
    fm_buf_init(&ops, FM_WIRE_MAX_MSG);
    fork_ops(&ops, a4, b5);
    for (int v = 3; v <= 4; v++) {
        struct resolver r = {0};
        struct fm_wire_ops o;
        size_t skipped, pos = 0, len, bad = 0;
        const uint8_t *op;
        struct fm_compact_prev cb = {&r, resolve, resolve_author};
        assert_int_equal(fm_wire_ops_begin(&plain, FM_OPS_REPLY, 7), FM_OK);
        assert_int_equal(fm_wire_ops_add(&plain, ops.data, ops.len, 2), FM_OK);
        assert_int_equal(fm_wire_ops_finish(&plain), FM_OK);
        Z.chained = true;
        assert_int_equal(fm_compact_encode(&Z, (uint8_t)v, plain.data, plain.len, true, false,
                                           &enc),
                         FM_OK);
        Z.chained = false;
        assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped),
                         FM_OK);
        while (fm_wire_ops_next(&o, &pos, &op, &len)) {
            struct fm_op d;
            assert_int_equal(fm_op_decode(&d, op, len), FM_OK);
            bad += !fm_op_verify(&d);
        }
        assert_int_equal(bad, 1); /* branch b's five, rebuilt on branch a's four */
    }
    fm_buf_release(&ops);
}

static int unresolved(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq, uint64_t last,
                      uint8_t o[FM_HASH_LEN])
{
    (void)ctx, (void)pk, (void)seq, (void)last, (void)o;
    return FM_ENOTFOUND;
}

static void test_gap_run_skipped(void **state)
{
    (void)state;
    struct fm_wire_ops o;
    size_t skipped;
    struct fm_compact_prev cb = {NULL, unresolved, NULL};
    build_plain(0, 10, 2);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, false, &enc), FM_OK);
    assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped), FM_OK);
    assert_int_equal(o.count, 0);
    assert_int_equal(skipped, 2 * NAUTH);
}

static void test_v4_round_trip_and_smaller(void **state)
{
    (void)state;
    struct resolver r = {0};
    struct fm_buf v3;
    fm_buf_init(&v3, FM_WIRE_MAX_MSG);
    /* one live op of each author pushed, with the dictionary: version 4
     * leaves out 24 bytes of author and a byte of count per run, zstd's
     * magic (4) and dictionary id (4) and the total length (2) */
    build_plain(0, 10, 1);
    assert_int_equal(fm_compact_encode(&Z, 3, plain.data, plain.len, false, true, &v3), FM_OK);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, false, true, &enc), FM_OK);
    assert_int_equal(enc.data[0], 4);
    assert_true(enc.len + NAUTH * 25 + 8 + 1 <= v3.len);
    assert_rebuilds(&r);
    assert_int_equal(r.author_calls, NAUTH);
    assert_int_equal(r.calls, NAUTH); /* and each prev from the receiver's head */
    /* runs of several ops, without and with the dictionary */
    build_plain(0, 10, 3);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, false, false, &enc), FM_OK);
    assert_rebuilds(&r);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, false, true, &enc), FM_OK);
    assert_rebuilds(&r);
    /* a reply from seq 1: runs at seq 1 carry the whole key (the asker may
     * not know the author yet) */
    r = (struct resolver){0};
    build_plain(FM_OPS_REPLY, 1, 40);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, true, false, &enc), FM_OK);
    assert_rebuilds(&r);
    assert_int_equal(r.author_calls, 0);
    assert_int_equal(r.calls, 0);
    /* a reply from seq 10 with prevs given: short authors, no prev asked */
    build_plain(FM_OPS_REPLY, 10, 5);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, true, true, &enc), FM_OK);
    assert_rebuilds(&r);
    assert_int_equal(r.author_calls, NAUTH);
    assert_int_equal(r.calls, 0);
    fm_buf_release(&v3);
}

static int wrong_author(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                        uint8_t o[FM_PK_LEN])
{
    (void)ctx, (void)req_id, (void)prefix, (void)len;
    memcpy(o, ids[0].pk, FM_PK_LEN);
    return FM_OK; /* always author 0, whatever the prefix */
}

static void test_v4_unknown_author_skipped(void **state)
{
    (void)state;
    struct resolver r = {0};
    struct fm_wire_ops o;
    size_t skipped;
    build_plain(0, 10, 2);
    assert_int_equal(fm_compact_encode(&Z, 4, plain.data, plain.len, false, false, &enc), FM_OK);
    /* a receiver that cannot name short authors skips every run */
    struct fm_compact_prev none = {&r, resolve, NULL};
    assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &none, &out, &o, &skipped), FM_OK);
    assert_int_equal(o.count, 0);
    assert_int_equal(skipped, 2 * NAUTH);
    assert_int_equal(r.calls, 0);
    /* nor is a key that does not start with the prefix taken: only
     * author 0's run rebuilds */
    struct fm_compact_prev bad = {&r, resolve, wrong_author};
    assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &bad, &out, &o, &skipped), FM_OK);
    assert_int_equal(o.count, 2);
    assert_int_equal(skipped, 2 * (NAUTH - 1));
}

static void test_truncated_and_trailing_refused(void **state)
{
    (void)state;
    struct resolver r = {0};
    struct fm_compact_prev cb = {&r, resolve, NULL};
    struct fm_wire_ops o;
    size_t skipped;
    for (uint8_t v = 3; v <= 4; v++) {
        build_plain(FM_OPS_REPLY, 10, 3);
        assert_int_equal(fm_compact_encode(&Z, v, plain.data, plain.len, true, true, &enc),
                         FM_OK);
        for (size_t n = 0; n < enc.len; n++) {
            int rc = fm_compact_decode(&Z, enc.data, n, &cb, &out, &o, &skipped);
            assert_true(rc == FM_EDECODE || rc == FM_ETOOBIG);
        }
        assert_int_equal(fm_buf_put_u8(&enc, 0), FM_OK);
        assert_int_equal(fm_compact_decode(&Z, enc.data, enc.len, &cb, &out, &o, &skipped),
                         FM_EDECODE);
    }
}

/* A version-4 push of one run: rflags, author (32 or 8 bytes), seq, n ops
 * of plen bytes each, then codec and the payload bytes as given. */
static void build_frame4(struct fm_buf *b, uint8_t rflags, uint64_t seq, uint16_t n,
                         uint32_t plen, uint8_t codec, const void *payload, size_t payload_len);

static void test_v4_refusals(void **state)
{
    (void)state;
    struct resolver r = {0};
    struct fm_compact_prev cb = {&r, resolve, resolve_author};
    struct fm_wire_ops o;
    size_t skipped;
    struct fm_buf f;
    uint8_t zeros[200] = {0}, z[512];
    fm_buf_init(&f, FM_WIRE_MAX_MSG);
    /* well formed, magicless: decodes (the run's author is ids[0]) */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_dictIDFlag, 0)));
    size_t zn = ZSTD_compress2(cc, z, sizeof z, zeros, sizeof zeros);
    assert_false(ZSTD_isError(zn));
    build_frame4(&f, FM_COPS_AUTHOR_SHORT, 10, 2, 100, FM_COPS_ZSTD, z + 4, zn - 4);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_OK);
    assert_int_equal(o.count, 2);
    /* the same frame with its magic left on: refused */
    build_frame4(&f, FM_COPS_AUTHOR_SHORT, 10, 2, 100, FM_COPS_ZSTD, z, zn);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    /* a frame naming a dictionary: refused (version 4 names none) */
    {
        uint8_t other[256];
        memset(other, 0x33, sizeof other);
        size_t dn = ZSTD_compress_usingDict(cc, z, sizeof z, zeros, sizeof zeros, other,
                                            sizeof other, 3);
        assert_false(ZSTD_isError(dn));
        if (ZSTD_getDictID_fromFrame(z, dn) != 0) { /* raw-content dictionaries have id 0 */
            build_frame4(&f, FM_COPS_AUTHOR_SHORT, 10, 2, 100, FM_COPS_ZDICT, z + 4, dn - 4);
            assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped),
                             FM_EDECODE);
        }
        assert_int_not_equal(fm_compact_dict_id(), 0);
        size_t vn = 0;
        {
            /* our own dictionary with its id written: refused in version 4 */
            ZSTD_CDict *cd = ZSTD_createCDict(fm_ops_dict, fm_ops_dict_len, 3);
            vn = ZSTD_compress_usingCDict(cc, z, sizeof z, zeros, sizeof zeros, cd);
            ZSTD_freeCDict(cd);
        }
        assert_false(ZSTD_isError(vn));
        assert_int_equal(ZSTD_getDictID_fromFrame(z, vn), fm_compact_dict_id());
        build_frame4(&f, FM_COPS_AUTHOR_SHORT, 10, 2, 100, FM_COPS_ZDICT, z + 4, vn - 4);
        assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped),
                         FM_EDECODE);
    }
    /* a short author at seq 1 and unknown run flags: refused */
    build_frame4(&f, FM_COPS_AUTHOR_SHORT, 1, 2, 100, FM_COPS_RAW, zeros, sizeof zeros);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    build_frame4(&f, 0x04, 10, 2, 100, FM_COPS_RAW, zeros, sizeof zeros);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    /* raw payload one byte short or long */
    build_frame4(&f, 0, 10, 2, 100, FM_COPS_RAW, zeros, 199);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    /* a bomb: a magicless frame declaring 8 MiB */
    {
        size_t big = 8u * 1024 * 1024, bcap = ZSTD_compressBound(big);
        uint8_t *bz = calloc(1, big), *bo = malloc(bcap);
        assert_non_null(bz);
        assert_non_null(bo);
        size_t bn = ZSTD_compress(bo, bcap, bz, big, 3);
        assert_false(ZSTD_isError(bn));
        build_frame4(&f, 0, 10, 2, 100, FM_COPS_ZSTD, bo + 4, bn - 4);
        assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped),
                         FM_ETOOBIG);
        free(bz);
        free(bo);
    }
    ZSTD_freeCCtx(cc);
    fm_buf_release(&f);
}

/* A COPS frame of one run of n ops with payload lengths plen each, then
 * raw_len and codec and the given payload bytes. */
static void put_varint(struct fm_buf *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        assert_int_equal(fm_buf_put_u8(b, v ? (uint8_t)(c | 0x80) : c), FM_OK);
    } while (v);
}

static void build_frame(struct fm_buf *b, uint16_t n, uint32_t plen, uint64_t raw_len,
                        uint8_t codec, const void *payload, size_t payload_len)
{
    uint8_t sig[FM_SIG_LEN] = {0};
    fm_buf_reset(b);
    uint8_t hdr[] = {3, FM_MSG_COPS, FM_OPS_REPLY, 1, 1};
    assert_int_equal(fm_buf_append(b, hdr, sizeof hdr), FM_OK);
    assert_int_equal(fm_buf_append(b, ids[0].pk, FM_PK_LEN), FM_OK);
    assert_int_equal(fm_buf_put_u8(b, 0), FM_OK);
    assert_int_equal(fm_buf_put_u8(b, 1), FM_OK); /* seq 1 */
    assert_int_equal(fm_buf_put_u16(b, n), FM_OK);
    for (uint16_t k = 0; k < n; k++) {
        assert_int_equal(fm_buf_put_u8(b, 1), FM_OK); /* kind */
        put_varint(b, 5);                             /* hlc */
        put_varint(b, plen);
        assert_int_equal(fm_buf_append(b, sig, sizeof sig), FM_OK);
    }
    put_varint(b, raw_len);
    assert_int_equal(fm_buf_put_u8(b, codec), FM_OK);
    assert_int_equal(fm_buf_append(b, payload, payload_len), FM_OK);
}

static void build_frame4(struct fm_buf *b, uint8_t rflags, uint64_t seq, uint16_t n,
                         uint32_t plen, uint8_t codec, const void *payload, size_t payload_len)
{
    uint8_t sig[FM_SIG_LEN] = {0};
    fm_buf_reset(b);
    uint8_t hdr[] = {4, FM_MSG_COPS, 0, 0, 1};
    assert_int_equal(fm_buf_append(b, hdr, sizeof hdr), FM_OK);
    assert_int_equal(fm_buf_put_u8(b, rflags), FM_OK);
    assert_int_equal(fm_buf_append(b, ids[0].pk,
                                   rflags & FM_COPS_AUTHOR_SHORT ? FM_COPS_AUTHOR_PREFIX
                                                                 : FM_PK_LEN),
                     FM_OK);
    put_varint(b, seq);
    put_varint(b, n);
    for (uint16_t k = 0; k < n; k++) {
        assert_int_equal(fm_buf_put_u8(b, 1), FM_OK); /* kind */
        put_varint(b, 5);                             /* hlc */
        put_varint(b, plen);
        assert_int_equal(fm_buf_append(b, sig, sizeof sig), FM_OK);
    }
    assert_int_equal(fm_buf_put_u8(b, codec), FM_OK);
    assert_int_equal(fm_buf_append(b, payload, payload_len), FM_OK);
}

static void test_bombs_refused(void **state)
{
    (void)state;
    struct fm_compact_prev cb = {NULL, unresolved, NULL};
    struct fm_wire_ops o;
    size_t skipped;
    struct fm_buf f;
    size_t big = 8u * 1024 * 1024;
    uint8_t *zeros = calloc(1, big);
    size_t zcap = ZSTD_compressBound(big);
    uint8_t *z = malloc(zcap);
    assert_non_null(zeros);
    assert_non_null(z);
    fm_buf_init(&f, FM_WIRE_MAX_MSG + 4096);
    /* well formed: 2 ops of 100 bytes, zstd, decodes */
    size_t zn = ZSTD_compress(z, zcap, zeros, 200, 3);
    build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, zn);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_OK);
    assert_int_equal(skipped, 0);
    assert_int_equal(o.count, 2);
    /* the frame declares 8 MiB (a few hundred bytes on the wire), past
     * the cap: refused before decompressing */
    zn = ZSTD_compress(z, zcap, zeros, big, 3);
    assert_true(zn < 4096);
    build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, zn);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_ETOOBIG);
    /* it declares 300 KiB, under the cap, but the runs say 200 */
    zn = ZSTD_compress(z, zcap, zeros, 300u * 1024, 3);
    build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, zn);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    /* a frame that does not declare its size (streamed): refused */
    {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_inBuffer in = {zeros, 200, 0};
        ZSTD_outBuffer ob = {z, zcap, 0};
        assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_end)));
        ZSTD_freeCCtx(cc);
        /* compressStream2 with an unknown size still may write it; clear
         * the flag by hand if present is not portable: check the result */
        build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, ob.pos);
        int rc = fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped);
        if (ZSTD_getFrameContentSize(z, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN)
            assert_int_equal(rc, FM_EDECODE);
    }
    /* runs adding up past the cap: 4096 ops of 16 KiB = 64 MiB, refused
     * before any payload is read */
    build_frame(&f, 4096, 16384, 1, FM_COPS_RAW, "x", 1);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_ETOOBIG);
    /* corrupted compressed bytes */
    zn = ZSTD_compress(z, zcap, zeros, 200, 3);
    z[zn - 2] ^= 0xff;
    build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, zn);
    assert_int_not_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_OK);
    /* codec 2 with a frame made from another dictionary (a raw-content
     * one, id 0) or none: refused, never decoded with ours */
    {
        uint8_t other[256];
        memset(other, 0x33, sizeof other);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        zn = ZSTD_compress_usingDict(cc, z, zcap, zeros, 200, other, sizeof other, 3);
        ZSTD_freeCCtx(cc);
        assert_false(ZSTD_isError(zn));
        build_frame(&f, 2, 100, 200, FM_COPS_ZDICT, z, zn);
        assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped),
                         FM_EDECODE);
        zn = ZSTD_compress(z, zcap, zeros, 200, 3);
        build_frame(&f, 2, 100, 200, FM_COPS_ZDICT, z, zn);
        assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped),
                         FM_EDECODE);
    }
    /* raw codec with a short payload, unknown codec, overlong varint */
    build_frame(&f, 2, 100, 200, FM_COPS_RAW, zeros, 199);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    build_frame(&f, 2, 100, 200, 7, zeros, 200);
    assert_int_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_EDECODE);
    build_frame(&f, 2, 100, 200, FM_COPS_RAW, zeros, 200);
    f.data[3] = 0x80; /* req_id 0x80 0x01 ... becomes overlong/garbled */
    f.data[4] = 0x00;
    assert_int_not_equal(fm_compact_decode(&Z, f.data, f.len, &cb, &out, &o, &skipped), FM_OK);
    fm_buf_release(&f);
    free(zeros);
    free(z);
}

/* ------------------------------------------------ two engines, in memory */

struct qmsg {
    int to, from;
    uint8_t *p;
    size_t n;
};

struct tnet {
    struct qmsg *q;
    size_t nq, cap;
    uint64_t now;
    size_t cops, cops4, plain_ops, version_frames; /* frames sent, by kind */
    size_t replies4_no_prev; /* version-4 replies whose first run has no prev */
};
static struct tnet net;

struct tnode {
    int idx;
    struct fm_identity id;
    struct memstore st;
    struct fm_sync *eng;
};
static struct tnode nodes[2];

static uint64_t t_mono(void *ctx) { (void)ctx; return net.now; }
static uint64_t t_wall(void *ctx) { (void)ctx; return 1700000000000ull + net.now; }
static void t_random(void *ctx, void *o, size_t n) { (void)ctx; memset(o, 0, n); }

static int t_send(void *ctx, const uint8_t pk[FM_PK_LEN], const uint8_t *p, size_t n)
{
    struct tnode *from = ctx;
    int to = memcmp(pk, nodes[0].id.pk, FM_PK_LEN) == 0 ? 0 : 1;
    if (n >= 2 && p[0] == 3 && p[1] == FM_MSG_COPS)
        net.cops++;
    if (n >= 2 && p[0] == 4 && p[1] == FM_MSG_COPS) {
        net.cops4++;
        /* u8 4 | u8 9 | flags | varint req_id | varint nruns | rflags */
        size_t at = 3;
        while (at < n && (p[at] & 0x80))
            at++;
        at += 2; /* req_id's last byte, nruns (one byte here) */
        if ((p[2] & FM_OPS_REPLY) && at < n && !(p[at] & FM_COPS_PREV_GIVEN) &&
            (p[at] & FM_COPS_AUTHOR_SHORT))
            net.replies4_no_prev++;
    }
    if (n >= 2 && (p[0] == 3 || p[0] == 4) && p[1] == FM_MSG_VERSION)
        net.version_frames++;
    if (n >= 2 && p[0] == 1 && p[1] == FM_MSG_OPS)
        net.plain_ops++;
    if (net.nq == net.cap) {
        net.cap = net.cap ? net.cap * 2 : 64;
        net.q = realloc(net.q, net.cap * sizeof(*net.q));
        assert_non_null(net.q);
    }
    uint8_t *c = malloc(n);
    assert_non_null(c);
    memcpy(c, p, n);
    net.q[net.nq++] = (struct qmsg){to, from->idx, c, n};
    return FM_OK;
}

static void nodes_start(uint8_t v0, uint8_t v1)
{
    memset(&net, 0, sizeof(net));
    for (int i = 0; i < 2; i++) {
        struct tnode *t = &nodes[i];
        memset(&t->st, 0, sizeof(t->st));
        t->idx = i;
        assert_int_equal(fm_identity_generate(&t->id), FM_OK);
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            ms_enroll(&nodes[i].st, nodes[j].id.pk);
    for (int i = 0; i < 2; i++) {
        struct tnode *t = &nodes[i];
        struct fm_sync_config cfg = {.id = &t->id, .wire_version = i ? v1 : v0};
        struct fm_sync_store st = ms_store(&t->st);
        struct fm_sync_io io = {t, t_mono, t_wall, t_random, t_send};
        assert_int_equal(fm_sync_new_io(&t->eng, &cfg, &st, &io), FM_OK);
        assert_int_equal(fm_sync_add_peer(t->eng, NULL, nodes[!i].id.pk, i ? "a" : "b"), FM_OK);
    }
}

static void nodes_stop(void)
{
    for (int i = 0; i < 2; i++) {
        fm_sync_destroy(&nodes[i].eng);
        ms_free(&nodes[i].st);
        fm_identity_release(&nodes[i].id);
    }
    for (size_t k = 0; k < net.nq; k++)
        free(net.q[k].p);
    free(net.q);
    memset(&net, 0, sizeof(net));
}

/* Steps both engines and delivers every message, 5 ms a round, until the
 * stores are equal (and at least min_ms passed) or limit_ms passed. */
static bool run_until_equal(uint64_t min_ms, uint64_t limit_ms)
{
    uint64_t end = net.now + limit_ms, min = net.now + min_ms;
    while (net.now < end) {
        uint64_t next;
        for (int i = 0; i < 2; i++)
            assert_int_equal(fm_sync_io_step(nodes[i].eng, &next), FM_OK);
        for (size_t k = 0; k < net.nq; k++) { /* grows while delivering */
            struct qmsg m = net.q[k];
            assert_int_equal(fm_sync_io_deliver(nodes[m.to].eng, nodes[m.from].id.pk, m.p, m.n),
                             FM_OK);
            free(m.p);
        }
        net.nq = 0;
        if (net.now >= min && ms_equal(&nodes[0].st, &nodes[1].st) && nodes[1].st.nlogs > 0)
            return true;
        net.now += 5;
    }
    return false;
}

static void write_ops(struct tnode *t, int n)
{
    for (int k = 0; k < n; k++)
        assert_int_equal(ms_write(&t->st, &t->id, 200), FM_OK);
}

static void test_engines_v4_send_compact(void **state)
{
    (void)state;
    nodes_start(0, 0);
    write_ops(&nodes[0], 300);
    assert_true(run_until_equal(0, 30000));
    assert_true(net.cops4 > 0);
    assert_int_equal(net.cops, 0);
    assert_int_equal(net.plain_ops, 0);
    /* and live ops after that go compact too, their author named by a
     * prefix and their prev rebuilt from the receiver's head (a push, or a
     * pull that said it starts at the head + 1) */
    for (int k = 0; k < 3; k++) {
        size_t before = net.cops4;
        write_ops(&nodes[0], 1);
        fm_sync_nudge(nodes[0].eng);
        assert_true(run_until_equal(0, 10000));
        assert_true(ms_equal(&nodes[0].st, &nodes[1].st));
        assert_true(net.cops4 > before);
    }
    /* the cold sync leaves this link lazy, so the first live op is
     * announced and pulled from the head + 1: its reply leaves the prev
     * out as the PULL allowed (FM_PULL_NO_PREV) */
    assert_true(net.replies4_no_prev >= 1);
    assert_int_equal(net.cops, 0);
    assert_int_equal(net.plain_ops, 0);
    /* every op reached the store with the hash its rebuild computed (the
     * pull replies held back for one ingest, and the push), each right */
    assert_true(nodes[1].st.hashes_given >= 303);
    assert_int_equal(nodes[1].st.hashes_wrong, 0);
    nodes_stop();
}

static void mixed(uint8_t old)
{
    nodes_start(0, old);
    write_ops(&nodes[0], 200);
    write_ops(&nodes[1], 50);
    assert_true(run_until_equal(0, 30000));
    assert_int_equal(net.cops, 0); /* the old node never gets one */
    assert_true(net.plain_ops > 0);
    assert_int_equal(nodes[0].st.hashes_given + nodes[1].st.hashes_given, 0);
    nodes_stop();
}

/* A version-4 node and a version-3 node: version-3 COPS both ways, and
 * the version-3 node drops our version-4 hellos as another version. */
static void test_engines_v3_peer_gets_v3(void **state)
{
    (void)state;
    nodes_start(0, 3);
    write_ops(&nodes[0], 200);
    write_ops(&nodes[1], 50);
    assert_true(run_until_equal(0, 30000));
    assert_true(net.cops > 0);
    assert_int_equal(net.cops4, 0);
    assert_int_equal(net.plain_ops, 0);
    struct fm_sync_counters k;
    fm_sync_get_counters(nodes[1].eng, &k);
    assert_true(k.msgs_dropped > 0);
    write_ops(&nodes[0], 1);
    fm_sync_nudge(nodes[0].eng);
    assert_true(run_until_equal(0, 10000));
    assert_int_equal(net.cops4, 0);
    nodes_stop();
}

static void test_engines_v2_peer_gets_plain(void **state)
{
    (void)state;
    mixed(2);
}

static void test_engines_v1_peer_gets_plain(void **state)
{
    (void)state;
    mixed(1);
}

static uint64_t bad_of(struct fm_sync *s)
{
    struct fm_sync_status st;
    struct fm_sync_peer_info *pi = NULL;
    size_t n = 0;
    assert_int_equal(fm_sync_peers(s, &st, &pi, &n), FM_OK);
    assert_int_equal(n, 1);
    uint64_t bad = pi[0].bad_messages;
    free(pi);
    return bad;
}

static void test_engines_bad_cops_counted_link_survives(void **state)
{
    (void)state;
    struct fm_buf f;
    uint8_t *zeros = calloc(1, 4u << 20);
    size_t zcap = ZSTD_compressBound(4u << 20);
    uint8_t *z = malloc(zcap);
    assert_non_null(zeros);
    assert_non_null(z);
    fm_buf_init(&f, FM_WIRE_MAX_MSG);
    nodes_start(0, 0);
    write_ops(&nodes[0], 20);
    assert_true(run_until_equal(0, 30000)); /* both know each other as version 3 */
    uint64_t bad0 = bad_of(nodes[1].eng);
    /* a bomb: 4 MiB of zeros declared as 200 bytes */
    size_t zn = ZSTD_compress(z, zcap, zeros, 4u << 20, 3);
    build_frame(&f, 2, 100, 200, FM_COPS_ZSTD, z, zn);
    assert_int_equal(fm_sync_io_deliver(nodes[1].eng, nodes[0].id.pk, f.data, f.len), FM_OK);
    /* garbage */
    uint8_t junk[] = {3, FM_MSG_COPS, 0, 0, 1, 0xff};
    assert_int_equal(fm_sync_io_deliver(nodes[1].eng, nodes[0].id.pk, junk, sizeof junk), FM_OK);
    assert_int_equal(bad_of(nodes[1].eng), bad0 + 2);
    /* the link still carries ops */
    write_ops(&nodes[0], 30);
    fm_sync_nudge(nodes[0].eng);
    assert_true(run_until_equal(0, 30000));
    nodes_stop();
    fm_buf_release(&f);
    free(zeros);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_mixed_authors),
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_prev_mismatch_fails_signature),
        cmocka_unit_test(test_gap_run_skipped),
        cmocka_unit_test(test_fork_branches_round_trip),
        cmocka_unit_test(test_chained_vouch),
        cmocka_unit_test(test_v4_round_trip_and_smaller),
        cmocka_unit_test(test_v4_unknown_author_skipped),
        cmocka_unit_test(test_truncated_and_trailing_refused),
        cmocka_unit_test(test_v4_refusals),
        cmocka_unit_test(test_bombs_refused),
        cmocka_unit_test(test_engines_v4_send_compact),
        cmocka_unit_test(test_engines_v3_peer_gets_v3),
        cmocka_unit_test(test_engines_v2_peer_gets_plain),
        cmocka_unit_test(test_engines_v1_peer_gets_plain),
        cmocka_unit_test(test_engines_bad_cops_counted_link_survives),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
