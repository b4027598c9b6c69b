/*
 * gen_compact_corpus.c — writes the seed corpus of fuzz_compact: compact
 * batches of real signed ops (a push without prevs, a reply with them,
 * several authors, raw, zstd and zstd-with-dictionary payloads) and the
 * VERSION frames, in wire versions 3 and 4. Not
 * built by CMake; regenerate with
 *   cc -I. -D_DEFAULT_SOURCE tests/fuzz/gen_compact_corpus.c sync/wire.c sync/recon_wire.c \
 *      sync/recon.c sync/compact.c build/gen/ops_dict.c crypto/[a-z]*.c crypto/base/[a-z]*.c \
 *      $(pkg-config --libs libsodium libzstd) -o /tmp/gen && /tmp/gen tests/fuzz/corpus/fuzz_compact
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sync/compact_int.h"

static const char *dir;

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        perror(path);
        return;
    }
    fclose(f);
}

/* A plain OPS of `per` ops of each of nid authors from seq `from`. */
static int plain_ops(struct fm_buf *b, struct fm_identity *ids, int nid, uint8_t flags,
                     uint64_t from, uint64_t per, bool text)
{
    struct fm_buf op, ops;
    uint8_t zero[FM_HASH_LEN] = {0};
    fm_buf_init(&op, FM_OP_MAX_LEN);
    fm_buf_init(&ops, FM_WIRE_MAX_MSG);
    if (fm_wire_ops_begin(b, flags, flags ? 9 : 0) != FM_OK)
        return 1;
    for (int a = 0; a < nid; a++) {
        uint8_t h[FM_HASH_LEN];
        fm_buf_reset(&ops);
        for (uint64_t seq = 1; seq < from + per; seq++) {
            struct fm_op d;
            char pl[200];
            int n = snprintf(pl, sizeof pl, text ? "救护车已到达现场 ambulance on scene %llu 两人受伤"
                                                 : "%llu", (unsigned long long)seq);
            if (fm_op_build(&op, &ids[a], (uint8_t)(seq % 4), seq, seq == 1 ? zero : h,
                            (1700000000000ull << 16) + seq * 65536, pl, (uint32_t)n) != FM_OK ||
                fm_op_decode(&d, op.data, op.len) != FM_OK)
                return 1;
            fm_op_hash(&d, h);
            if (seq >= from && (fm_buf_put_u32(&ops, (uint32_t)op.len) != FM_OK ||
                                fm_buf_append(&ops, op.data, op.len) != FM_OK))
                return 1;
        }
        if (fm_wire_ops_add(b, ops.data, ops.len, (uint32_t)per) != FM_OK)
            return 1;
    }
    fm_buf_release(&op);
    fm_buf_release(&ops);
    return fm_wire_ops_finish(b) == FM_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct fm_buf p, c;
    struct fm_compact z;
    struct fm_identity ids[3];
    if (argc != 2 || fm_crypto_init() != FM_OK)
        return 2;
    dir = argv[1];
    for (int i = 0; i < 3; i++)
        if (fm_identity_generate(&ids[i]) != FM_OK)
            return 1;
    fm_compact_init(&z);
    fm_buf_init(&p, FM_WIRE_MAX_MSG);
    fm_buf_init(&c, FM_WIRE_MAX_MSG);
    if (plain_ops(&p, ids, 1, 0, 1, 1, true) ||
        fm_compact_encode(&z, 3, p.data, p.len, false, false, &c))
        return 1;
    put("push_one_seq1", c.data, c.len);
    if (fm_compact_encode(&z, 3, p.data, p.len, false, true, &c))
        return 1;
    put("push_one_dict", c.data, c.len);
    if (plain_ops(&p, ids, 3, 0, 5, 2, true) ||
        fm_compact_encode(&z, 3, p.data, p.len, false, false, &c))
        return 1;
    put("push_three_authors", c.data, c.len);
    if (plain_ops(&p, ids, 3, FM_OPS_REPLY | FM_OPS_TRUNCATED, 3, 20, true) ||
        fm_compact_encode(&z, 3, p.data, p.len, true, false, &c))
        return 1;
    put("reply_zstd", c.data, c.len);
    if (plain_ops(&p, ids, 2, FM_OPS_REPLY, 1, 2, false) ||
        fm_compact_encode(&z, 3, p.data, p.len, true, false, &c))
        return 1;
    put("reply_short", c.data, c.len);
    if (fm_wire_ops_begin(&p, FM_OPS_REPLY, 4) || fm_wire_ops_finish(&p) ||
        fm_compact_encode(&z, 3, p.data, p.len, true, false, &c))
        return 1;
    put("reply_empty", c.data, c.len);
    if (fm_compact_encode_version(&c, 3, 0) == FM_OK)
        put("version_hello", c.data, c.len);
    if (fm_compact_encode_version(&c, 3, 1) == FM_OK)
        put("version_answer", c.data, c.len);
    /* version 4: short authors (pushes from seq > 1), magicless frames */
    if (plain_ops(&p, ids, 1, 0, 5, 1, true) ||
        fm_compact_encode(&z, 4, p.data, p.len, false, true, &c))
        return 1;
    put("v4_push_one_dict", c.data, c.len);
    if (plain_ops(&p, ids, 3, 0, 5, 2, true) ||
        fm_compact_encode(&z, 4, p.data, p.len, false, false, &c))
        return 1;
    put("v4_push_three_authors", c.data, c.len);
    if (plain_ops(&p, ids, 3, FM_OPS_REPLY | FM_OPS_TRUNCATED, 3, 20, true) ||
        fm_compact_encode(&z, 4, p.data, p.len, true, false, &c))
        return 1;
    put("v4_reply_zstd", c.data, c.len);
    if (plain_ops(&p, ids, 2, FM_OPS_REPLY, 1, 2, false) ||
        fm_compact_encode(&z, 4, p.data, p.len, true, false, &c))
        return 1;
    put("v4_reply_short", c.data, c.len);
    if (fm_compact_encode_version(&c, 4, 0) == FM_OK)
        put("v4_version_hello", c.data, c.len);
    fm_compact_release(&z);
    return 0;
}
