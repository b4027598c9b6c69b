/*
 * op.c — the signed, hash-chained op envelope every change travels in
 * (layout in crypto.h). This file builds, decodes, verifies and hashes
 * envelopes and never looks inside a payload.
 *
 * Decoding is structural and strict, and borrows from the caller's buffer:
 * the length is checked against the header and signature first, each field
 * is read through the cursor, and the total must be exactly header +
 * payload_len + signature. Signature checks are separate (fm_op_verify) so
 * a receiver can verify only the last op of a hash-chained run. Because
 * signatures cover the bytes as sent, nothing is re-encoded to verify.
 */
#include "crypto_int.h"

#include <string.h>

static const uint8_t zero_hash[FM_HASH_LEN];

static int op_decode_fields(struct fm_op *op, struct fm_cur *c)
{
    if (fm_cur_u8(c, &op->version) || fm_cur_u8(c, &op->kind) || fm_cur_u16(c, &op->flags) ||
        fm_cur_bytes(c, FM_PK_LEN, &op->author) || fm_cur_u64(c, &op->seq) ||
        fm_cur_bytes(c, FM_HASH_LEN, &op->prev) || fm_cur_u64(c, &op->hlc) ||
        fm_cur_u32(c, &op->payload_len))
        return FM_EDECODE;
    if (op->version != FM_OP_VERSION || op->flags != 0 || op->seq == 0)
        return FM_EDECODE;
    if (op->seq == 1 && memcmp(op->prev, zero_hash, FM_HASH_LEN) != 0)
        return FM_EDECODE;
    if (op->payload_len > FM_OP_MAX_PAYLOAD)
        return FM_ETOOBIG;
    if (fm_cur_left(c) != (size_t)op->payload_len + FM_SIG_LEN)
        return FM_EDECODE;
    if (fm_cur_bytes(c, op->payload_len, &op->payload) ||
        fm_cur_bytes(c, FM_SIG_LEN, &op->sig))
        return FM_EDECODE;
    return FM_OK;
}

int fm_op_decode(struct fm_op *op, const uint8_t *buf, size_t len)
{
    memset(op, 0, sizeof *op);
    if (buf == NULL || len < FM_OP_HEADER_LEN + FM_SIG_LEN)
        return FM_EDECODE;
    struct fm_cur c;
    fm_cur_init(&c, buf, len);
    int rc = op_decode_fields(op, &c);
    if (rc != FM_OK) {
        memset(op, 0, sizeof *op);
        return rc;
    }
    op->raw = buf;
    op->raw_len = len;
    return FM_OK;
}

bool fm_op_verify(const struct fm_op *op)
{
    if (op == NULL || op->raw == NULL || op->raw_len < FM_OP_HEADER_LEN + FM_SIG_LEN)
        return false;
    return fm_verify(op->author, op->raw, op->raw_len - FM_SIG_LEN, op->sig);
}

void fm_op_hash(const struct fm_op *op, uint8_t out[FM_HASH_LEN])
{
    fm_hash(out, op->raw, op->raw_len);
}

int fm_op_build(struct fm_buf *out, const struct fm_identity *id, uint8_t kind, uint64_t seq,
                const uint8_t prev[FM_HASH_LEN], uint64_t hlc, const void *payload,
                uint32_t payload_len)
{
    fm_buf_reset(out);
    if (id == NULL || id->sk == NULL || seq == 0 || (payload_len > 0 && payload == NULL))
        return FM_EINVAL;
    if (prev == NULL)
        prev = zero_hash;
    if (seq == 1 && memcmp(prev, zero_hash, FM_HASH_LEN) != 0)
        return FM_EINVAL;
    if (payload_len > FM_OP_MAX_PAYLOAD)
        return FM_ETOOBIG;
    int rc = FM_OK;
    if ((rc = fm_buf_put_u8(out, FM_OP_VERSION)) || (rc = fm_buf_put_u8(out, kind)) ||
        (rc = fm_buf_put_u16(out, 0)) || (rc = fm_buf_append(out, id->pk, FM_PK_LEN)) ||
        (rc = fm_buf_put_u64(out, seq)) || (rc = fm_buf_append(out, prev, FM_HASH_LEN)) ||
        (rc = fm_buf_put_u64(out, hlc)) || (rc = fm_buf_put_u32(out, payload_len)) ||
        (rc = fm_buf_append(out, payload, payload_len)))
        goto fail;
    uint8_t sig[FM_SIG_LEN];
    fm_sign(id, out->data, out->len, sig);
    if ((rc = fm_buf_append(out, sig, FM_SIG_LEN)))
        goto fail;
    return FM_OK;
fail:
    fm_buf_reset(out);
    return rc;
}
