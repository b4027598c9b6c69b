/*
 * fuzz_compact.c — feeds arbitrary frames to the compact batch decoder
 * (sync/compact.c) and the VERSION decoder. It traps when a promise
 * breaks: a failure is only FM_EDECODE or FM_ETOOBIG; a decoded batch is
 * a valid plain OPS body (every op decodes structurally, the counts add
 * up, it fits a plain frame); encoding those ops compactly again and
 * decoding that gives the same ops back, in the input's wire version (3
 * or 4). The prev resolver answers for one author and refuses the others
 * (runs after a gap are skipped); the short-author resolver (version 4)
 * knows one author for every prefix that starts with 0x42, and in the round
 * trip the authors of the batch. When the decoded batch is chained (as
 * every batch the engine reads from its store is), encoding it with the
 * engine's vouch (fm_compact.chained, no hashing) must give the very same
 * frame as encoding it with every link checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sync/compact_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fm_compact z;
static struct fm_buf out, plain, enc, again;
static bool ready;

static int resolve(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq, uint64_t last,
                   uint8_t o[FM_HASH_LEN])
{
    (void)ctx;
    (void)last;
    if (pk[0] != 0x42 || seq < 2)
        return FM_ENOTFOUND;
    memset(o, 0x5a, FM_HASH_LEN);
    return FM_OK;
}

static int resolve_author(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                          uint8_t o[FM_PK_LEN])
{
    (void)ctx;
    (void)req_id;
    if (len > FM_PK_LEN || prefix[0] != 0x42)
        return FM_ENOTFOUND;
    memset(o, 0x42, FM_PK_LEN);
    memcpy(o, prefix, len);
    return FM_OK;
}

static void init(void)
{
    if (fm_crypto_init() != FM_OK)
        abort();
    fm_compact_init(&z);
    fm_buf_init(&out, FM_WIRE_MAX_MSG);
    fm_buf_init(&plain, FM_WIRE_MAX_MSG);
    fm_buf_init(&enc, FM_WIRE_MAX_MSG);
    fm_buf_init(&again, FM_WIRE_MAX_MSG);
    ready = true;
}

/* The round trip's receiver knows the authors of the batch it sent: a
 * short author resolves to the one of them with that prefix. Two authors
 * of the batch may share 8 bytes (the fuzzer writes whole keys): then, as
 * in the engine, neither resolves and the run is skipped. */
static const struct fm_wire_ops *batch;
static bool ambiguous;

static int resolve_in_batch(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                            uint8_t o[FM_PK_LEN])
{
    size_t pos = 0, oplen, found = 0;
    const uint8_t *op;
    (void)ctx;
    (void)req_id;
    while (fm_wire_ops_next(batch, &pos, &op, &oplen)) {
        struct fm_op d;
        if (fm_op_decode(&d, op, oplen) != FM_OK || memcmp(d.author, prefix, len) != 0)
            continue;
        if (found && memcmp(o, d.author, FM_PK_LEN) != 0) {
            ambiguous = true;
            return FM_ENOTFOUND;
        }
        memcpy(o, d.author, FM_PK_LEN);
        found = 1;
    }
    return found ? FM_OK : FM_ENOTFOUND;
}

/* Is each op of o that follows an op of the same author at the seq
 * before it chained to that op (its prev that op's hash)? What the engine
 * vouches for its own batches (fm_compact.chained). */
static bool is_chained(const struct fm_wire_ops *o)
{
    size_t pos = 0, len;
    const uint8_t *op;
    struct fm_op prev_d = {0};
    uint8_t prev_h[FM_HASH_LEN];
    bool have = false;
    while (fm_wire_ops_next(o, &pos, &op, &len)) {
        struct fm_op d;
        if (fm_op_decode(&d, op, len) != FM_OK)
            return false;
        if (have && memcmp(d.author, prev_d.author, FM_PK_LEN) == 0 &&
            d.seq == prev_d.seq + 1 && memcmp(d.prev, prev_h, FM_HASH_LEN) != 0)
            return false;
        prev_d = d;
        fm_hash(prev_h, op, len);
        have = true;
    }
    return true;
}

/* The rebuilt ops of o, as a plain OPS, compact again and back. When the
 * batch is chained, the encoder told so (as the engine tells it) must
 * write the very same frame without hashing. */
static void round_trip(const struct fm_wire_ops *o, uint8_t version)
{
    struct fm_compact_prev cb = {NULL, resolve, resolve_in_batch};
    struct fm_wire_ops o2;
    size_t skipped = 0;
    if (fm_wire_ops_begin(&plain, o->flags, o->req_id) != FM_OK ||
        fm_wire_ops_add(&plain, o->data, o->data_len, o->count) != FM_OK ||
        fm_wire_ops_finish(&plain) != FM_OK)
        __builtin_trap(); /* a decoded batch always fits a plain frame */
    if (fm_compact_encode(&z, version, plain.data, plain.len, true, true, &enc) != FM_OK)
        __builtin_trap();
    if (is_chained(o)) {
        z.chained = true;
        int rc = fm_compact_encode(&z, version, plain.data, plain.len, true, true, &again);
        z.chained = false;
        if (rc != FM_OK || again.len != enc.len || memcmp(again.data, enc.data, enc.len) != 0)
            __builtin_trap();
    }
    batch = o;
    ambiguous = false;
    if (fm_compact_decode(&z, enc.data, enc.len, &cb, &again, &o2, &skipped) != FM_OK)
        __builtin_trap();
    if (ambiguous)
        return; /* runs skipped, as the engine would */
    if (skipped != 0 || o2.count != o->count || o2.data_len != o->data_len ||
        memcmp(o2.data, o->data, o->data_len) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_compact_prev cb = {NULL, resolve, resolve_author};
    struct fm_wire_ops o;
    size_t skipped = 0, pos = 0, len, n = 0;
    const uint8_t *op;
    uint8_t depth, version;
    if (!ready)
        init();
    uint32_t dict_id;
    int rv = fm_compact_decode_version(data, size, &version, &depth, &dict_id);
    if (rv != FM_OK && rv != FM_EDECODE)
        __builtin_trap();
    int rc = fm_compact_decode(&z, data, size, &cb, &out, &o, &skipped);
    if (rc == FM_EDECODE || rc == FM_ETOOBIG)
        return 0;
    if (rc != FM_OK)
        __builtin_trap();
    if (o.data_len + 11 > FM_WIRE_MAX_MSG || o.count > FM_WIRE_BATCH_MAX)
        __builtin_trap();
    if ((o.count > 0) != (o.hashes != NULL))
        __builtin_trap();
    while (fm_wire_ops_next(&o, &pos, &op, &len)) {
        struct fm_op d;
        uint8_t h[FM_HASH_LEN];
        if (fm_op_decode(&d, op, len) != FM_OK)
            __builtin_trap();
        fm_hash(h, op, len); /* the hash handed to ingest is the op's own */
        if (memcmp(h, o.hashes + n * FM_HASH_LEN, FM_HASH_LEN) != 0)
            __builtin_trap();
        n++;
    }
    if (n != o.count || pos != o.data_len || n + skipped > FM_WIRE_BATCH_MAX)
        __builtin_trap();
    if (o.count > 0)
        round_trip(&o, data[0]); /* decoded: data[0] is 3 or 4 */
    return 0;
}
