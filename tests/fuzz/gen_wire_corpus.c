/*
 * gen_wire_corpus.c — writes the seed corpus of fuzz_wire: one valid
 * message of every type (with real signed ops in the OPS seeds) and a few
 * near-misses. Not built by CMake; regenerate with
 *   cc -std=c11 -I. -D_DEFAULT_SOURCE tests/fuzz/gen_wire_corpus.c sync/wire.c \
 *      sync/recon_wire.c crypto/[a-z]*.c crypto/base/*.c \
 *      $(pkg-config --libs libsodium gnutls) -lpthread -o /tmp/gen && /tmp/gen DIR
 * (into an empty DIR, then copy the seeds wanted into tests/fuzz/corpus/fuzz_wire)
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sync/wire_int.h"

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

int main(int argc, char **argv)
{
    struct fm_buf b, ops, op;
    struct fm_identity id;
    uint8_t e[3 * FM_WIRE_ENTRY_LEN], lo[FM_PK_LEN], hi[FM_PK_LEN], zero[FM_HASH_LEN] = {0};
    struct fm_wire_summary s = {.flags = 1, .now_ms = 1700000000000ull, .nauthors = 3, .total = 99};
    if (argc != 2 || fm_crypto_init() != FM_OK)
        return 2;
    dir = argv[1];
    fm_buf_init(&b, FM_WIRE_MAX_MSG);
    fm_buf_init(&ops, 1 << 16);
    fm_buf_init(&op, FM_OP_MAX_LEN);
    for (int i = 0; i < 3; i++) {
        memset(lo, 0x20 * (i + 1), sizeof(lo));
        fm_wire_put_entry(e + i * FM_WIRE_ENTRY_LEN, lo, 10 + (uint64_t)i);
    }
    memset(lo, 0, sizeof(lo));
    memset(hi, 0xff, sizeof(hi));
    memset(s.hash, 0xab, sizeof(s.hash));
    if (fm_wire_encode_summary(&b, &s) == FM_OK) put("summary", b.data, b.len);
    if (fm_wire_encode_vector(&b, lo, hi, e, 3) == FM_OK) put("vector", b.data, b.len);
    if (fm_wire_encode_vector(&b, lo, hi, e, 0) == FM_OK) put("vector_empty", b.data, b.len);
    if (fm_wire_encode_ihave(&b, 1, e, 3) == FM_OK) put("ihave", b.data, b.len);
    if (fm_wire_encode_pull(&b, 1, 42, 512, e, 3) == FM_OK) put("pull", b.data, b.len);
    if (fm_wire_encode_simple(&b, FM_MSG_PRUNE) == FM_OK) put("prune", b.data, b.len);
    if (fm_wire_encode_simple(&b, FM_MSG_CTL_NUDGE) == FM_OK) put("ctl_nudge", b.data, b.len);
    if (fm_wire_encode_simple(&b, FM_MSG_CTL_PEERS) == FM_OK) put("ctl_peers", b.data, b.len);
    if (fm_identity_generate(&id) != FM_OK)
        return 1;
    for (uint64_t seq = 1; seq <= 3; seq++) {
        struct fm_op d;
        uint8_t h[FM_HASH_LEN];
        if (fm_op_build(&op, &id, 2, seq, seq == 1 ? zero : h, seq << 20, "payload", 7) != FM_OK)
            return 1;
        if (fm_op_decode(&d, op.data, op.len) != FM_OK)
            return 1;
        fm_op_hash(&d, h);
        if (fm_buf_put_u32(&ops, (uint32_t)op.len) != FM_OK ||
            fm_buf_append(&ops, op.data, op.len) != FM_OK)
            return 1;
    }
    if (fm_wire_ops_begin(&b, 0, 0) == FM_OK && fm_wire_ops_add(&b, ops.data, ops.len, 3) == FM_OK)
        put("ops_push", b.data, b.len);
    if (fm_wire_ops_begin(&b, 3, 42) == FM_OK && fm_wire_ops_add(&b, ops.data, ops.len, 3) == FM_OK)
        put("ops_reply", b.data, b.len);
    if (fm_wire_ops_begin(&b, 1, 7) == FM_OK) put("ops_reply_empty", b.data, b.len);
    {
        struct fm_sync_status st = {.uptime_ms = 5000, .pid = 4242};
        struct fm_sync_peer_info p[2];
        memset(p, 0, sizeof(p));
        memset(p[0].pk, 7, FM_PK_LEN);
        snprintf(p[0].name, sizeof(p[0].name), "station-1");
        snprintf(p[0].endpoint, sizeof(p[0].endpoint), "tcp://127.0.0.1:7402");
        p[0].connected = p[0].configured = true;
        p[0].skew_ms = -12;
        memset(p[1].pk, 9, FM_PK_LEN);
        p[1].eager = true;
        if (fm_wire_encode_status(&b, &st, p, 2) == FM_OK) put("ctl_status", b.data, b.len);
        p[1].cloned_key = true; /* its key on two live connections (sync/clone.c) */
        st.counters.clone_alerts = 1;
        if (fm_wire_encode_status(&b, &st, p, 2) == FM_OK)
            put("ctl_status_cloned", b.data, b.len);
        /* the tree block (the tenth session): a child of p[0], parent of p[1] */
        st.tree_known = st.tree.on = st.tree.has_parent = true;
        memset(st.tree.root, 7, sizeof st.tree.root);
        st.tree.epoch = 1765000000;
        st.tree.hops = 1;
        memcpy(st.tree.parent, p[0].pk, FM_PK_LEN);
        st.tree.children = 1;
        p[0].push = FM_PUSH_PARENT;
        p[1].push = FM_PUSH_CHILD;
        if (fm_wire_encode_status(&b, &st, p, 2) == FM_OK)
            put("ctl_status_tree", b.data, b.len);
    }
    /* version 5: TREE (sync/tree.c), written out by hand: a child's claim
     * at 3 hops, and a detached node's (255 hops) */
    {
        static const uint8_t child[FM_TREE_MSG_LEN] = {5, 11, 1, 3, 0, 0, 7, 0xe9, 0x12, 0x34,
                                                       0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
        static const uint8_t detached[FM_TREE_MSG_LEN] = {5, 11, 0, 255, 0x69, 0, 0, 1,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
        put("tree_child", child, sizeof child);
        put("tree_detached", detached, sizeof detached);
    }
    /* near-misses */
    if (fm_wire_encode_pull(&b, 1, 42, 512, e, 3) == FM_OK) {
        b.data[0] = 2;
        put("bad_version", b.data, b.len);
    }
    if (fm_wire_encode_vector(&b, lo, hi, e, 3) == FM_OK) {
        b.data[b.len - 1] ^= 1;
        put("vector_truncated", b.data, b.len - 5);
    }
    fm_identity_release(&id);
    fm_buf_release(&b);
    fm_buf_release(&ops);
    fm_buf_release(&op);
    return 0;
}
