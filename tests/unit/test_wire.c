/*
 * test_wire.c — the sync wire messages: every type round-trips, one
 * golden encoding pins the byte layout, and every rule of the strict
 * decoder has a test that breaks it (truncation, trailing bytes, counts
 * over their maxima, unsorted or out-of-range entries, zero seqs, unknown
 * flags, types and versions, op lengths out of bounds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sync/wire_int.h"

static struct fm_buf B;

static void setup_buf(void) { fm_buf_init(&B, FM_WIRE_MAX_MSG + 1024); }

static int decode_buf(struct fm_wire_msg *m) { return fm_wire_decode(m, B.data, B.len); }

static void entries_make(uint8_t *out, uint32_t n, uint8_t first)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t pk[FM_PK_LEN];
        memset(pk, (uint8_t)(first + i), sizeof(pk));
        fm_wire_put_entry(out + (size_t)i * FM_WIRE_ENTRY_LEN, pk, 100 + i);
    }
}

static void test_summary_golden(void **state)
{
    (void)state;
    struct fm_wire_summary s = {.flags = FM_SUMMARY_REPLY, .now_ms = 0x0102030405060708ull,
                                .nauthors = 3, .total = 42};
    struct fm_wire_msg m;
    static const uint8_t golden[] = {
        0x01, 0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
        0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
    for (int i = 0; i < FM_HASH_LEN; i++)
        s.hash[i] = (uint8_t)i;
    assert_int_equal(fm_wire_encode_summary(&B, &s), FM_OK);
    assert_int_equal(B.len, sizeof(golden));
    assert_memory_equal(B.data, golden, sizeof(golden));
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.type, FM_MSG_SUMMARY);
    assert_int_equal(m.u.summary.flags, FM_SUMMARY_REPLY);
    assert_true(m.u.summary.now_ms == s.now_ms);
    assert_int_equal(m.u.summary.nauthors, 3);
    assert_int_equal(m.u.summary.total, 42);
    assert_memory_equal(m.u.summary.hash, s.hash, FM_HASH_LEN);

    /* each rule */
    B.data[2] = 0x02; /* unknown flag */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[2] = 0x01;
    assert_int_equal(fm_wire_decode(&m, B.data, B.len - 1), FM_EDECODE); /* truncated */
    assert_int_equal(fm_buf_put_u8(&B, 0), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE); /* trailing */
    s.flags = 0x80;
    assert_int_equal(fm_wire_encode_summary(&B, &s), FM_EINVAL);
}

static void test_header_rules(void **state)
{
    (void)state;
    struct fm_wire_msg m;
    static const uint8_t empty[1] = {0};
    static const uint8_t v2[] = {2, FM_MSG_PRUNE};
    static const uint8_t unknown[] = {1, 99};
    static const uint8_t prune[] = {1, FM_MSG_PRUNE};
    static const uint8_t prune_trailing[] = {1, FM_MSG_PRUNE, 0};
    assert_int_equal(fm_wire_decode(&m, empty, 0), FM_EDECODE);
    assert_int_equal(fm_wire_decode(&m, empty, 1), FM_EDECODE);
    assert_int_equal(fm_wire_decode(&m, v2, sizeof(v2)), FM_EDECODE);
    assert_int_equal(m.version, 2);
    assert_int_equal(fm_wire_decode(&m, unknown, sizeof(unknown)), FM_EDECODE);
    assert_int_equal(fm_wire_decode(&m, prune, sizeof(prune)), FM_OK);
    assert_int_equal(m.type, FM_MSG_PRUNE);
    assert_int_equal(fm_wire_decode(&m, prune_trailing, sizeof(prune_trailing)), FM_EDECODE);
    uint8_t *big = calloc(1, FM_WIRE_MAX_MSG + 1);
    assert_non_null(big);
    big[0] = 1;
    big[1] = FM_MSG_PRUNE;
    assert_int_equal(fm_wire_decode(&m, big, FM_WIRE_MAX_MSG + 1), FM_ETOOBIG);
    free(big);
    for (uint8_t t = FM_MSG_CTL_NUDGE; t <= FM_MSG_CTL_PEERS; t++) {
        assert_int_equal(fm_wire_encode_simple(&B, t), FM_OK);
        assert_int_equal(decode_buf(&m), FM_OK);
        assert_int_equal(m.type, t);
    }
    assert_int_equal(fm_wire_encode_simple(&B, FM_MSG_OPS), FM_EINVAL);
}

static void test_vector(void **state)
{
    (void)state;
    uint8_t lo[FM_PK_LEN], hi[FM_PK_LEN], e[4 * FM_WIRE_ENTRY_LEN];
    struct fm_wire_msg m;
    const uint8_t *pk;
    uint64_t seq;
    memset(lo, 0, sizeof(lo));
    memset(hi, 0xff, sizeof(hi));
    entries_make(e, 4, 10);
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, 4), FM_OK);
    assert_int_equal(B.len, 2 + 64 + 4 + 4 * FM_WIRE_ENTRY_LEN);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.u.vector.e.count, 4);
    fm_wire_entry(&m.u.vector.e, 2, &pk, &seq);
    assert_int_equal(pk[0], 12);
    assert_int_equal(seq, 102);
    /* empty vector is fine */
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, 0), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.u.vector.e.count, 0);
    /* lo > hi */
    assert_int_equal(fm_wire_encode_vector(&B, hi, lo, e, 0), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    /* entry outside [lo, hi] */
    memset(lo, 11, sizeof(lo));
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, 4), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    memset(lo, 0, sizeof(lo));
    memset(hi, 12, sizeof(hi));
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, 4), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    memset(hi, 0xff, sizeof(hi));
    /* unsorted / duplicate author */
    uint8_t bad[2 * FM_WIRE_ENTRY_LEN];
    memcpy(bad, e + FM_WIRE_ENTRY_LEN, FM_WIRE_ENTRY_LEN);
    memcpy(bad + FM_WIRE_ENTRY_LEN, e, FM_WIRE_ENTRY_LEN);
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, bad, 2), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    memcpy(bad + FM_WIRE_ENTRY_LEN, bad, FM_WIRE_ENTRY_LEN);
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, bad, 2), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    /* seq 0 */
    memcpy(bad, e, FM_WIRE_ENTRY_LEN);
    fm_be64_put(bad + FM_PK_LEN, 0);
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, bad, 1), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    /* count larger than the bytes present, and beyond the maximum */
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, 4), FM_OK);
    fm_be32_put(B.data + 66, 5);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    fm_be32_put(B.data + 66, FM_WIRE_VECTOR_MAX + 1);
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    assert_int_equal(fm_wire_encode_vector(&B, lo, hi, e, FM_WIRE_VECTOR_MAX + 1), FM_ETOOBIG);
}

static void test_ihave_pull(void **state)
{
    (void)state;
    uint8_t e[3 * FM_WIRE_ENTRY_LEN];
    struct fm_wire_msg m;
    entries_make(e, 3, 1);
    assert_int_equal(fm_wire_encode_ihave(&B, FM_IHAVE_NOW, e, 3), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.type, FM_MSG_IHAVE);
    assert_int_equal(m.u.ihave.flags, FM_IHAVE_NOW);
    assert_int_equal(m.u.ihave.e.count, 3);
    B.data[2] = 0x04; /* unknown flag */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[2] = 0;
    B.data[4] = 4; /* count 4, three entries present */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[4] = 0; /* count 0 */
    assert_int_equal(fm_wire_decode(&m, B.data, 5), FM_EDECODE);
    B.data[3] = (uint8_t)((FM_WIRE_IHAVE_MAX + 1) >> 8); /* count over the maximum */
    B.data[4] = (uint8_t)((FM_WIRE_IHAVE_MAX + 1) & 0xff);
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    assert_int_equal(fm_wire_encode_ihave(&B, 0, e, 0), FM_EINVAL);
    assert_int_equal(fm_wire_encode_ihave(&B, 0, e, FM_WIRE_IHAVE_MAX + 1), FM_ETOOBIG);

    assert_int_equal(fm_wire_encode_pull(&B, FM_PULL_GRAFT, 77, 512, e, 3), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.type, FM_MSG_PULL);
    assert_int_equal(m.u.pull.flags, FM_PULL_GRAFT);
    assert_int_equal(m.u.pull.req_id, 77);
    assert_int_equal(m.u.pull.max_ops, 512);
    assert_int_equal(m.u.pull.e.count, 3);
    /* max_ops 0 and beyond the maximum */
    fm_be32_put(B.data + 7, 0);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    fm_be32_put(B.data + 7, FM_WIRE_BATCH_MAX + 1);
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    fm_be32_put(B.data + 7, 1);
    /* author count beyond the maximum */
    B.data[11] = (uint8_t)((FM_WIRE_PULL_MAX + 1) >> 8);
    B.data[12] = (uint8_t)((FM_WIRE_PULL_MAX + 1) & 0xff);
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    B.data[11] = 0;
    B.data[12] = 3;
    B.data[2] = 0x10; /* unknown flag */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    assert_int_equal(fm_wire_encode_pull(&B, 0, 1, 0, e, 3), FM_EINVAL);
    assert_int_equal(fm_wire_encode_pull(&B, 0, 1, 1, e, FM_WIRE_PULL_MAX + 1), FM_ETOOBIG);
    /* from_seq 0 */
    uint8_t z[FM_WIRE_ENTRY_LEN];
    memcpy(z, e, sizeof(z));
    fm_be64_put(z + FM_PK_LEN, 0);
    assert_int_equal(fm_wire_encode_pull(&B, 0, 1, 1, z, 1), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
}

/* Two real ops in read_ops format (u32 len | op). */
static void make_ops(struct fm_buf *out)
{
    struct fm_identity id;
    struct fm_buf op;
    uint8_t zero[FM_HASH_LEN] = {0}, h[FM_HASH_LEN];
    struct fm_op d;
    fm_buf_init(&op, FM_OP_MAX_LEN);
    assert_int_equal(fm_identity_generate(&id), FM_OK);
    assert_int_equal(fm_op_build(&op, &id, 3, 1, zero, 1ull << 20, "hello", 5), FM_OK);
    assert_int_equal(fm_buf_put_u32(out, (uint32_t)op.len), FM_OK);
    assert_int_equal(fm_buf_append(out, op.data, op.len), FM_OK);
    assert_int_equal(fm_op_decode(&d, op.data, op.len), FM_OK);
    fm_op_hash(&d, h);
    assert_int_equal(fm_op_build(&op, &id, 3, 2, h, 2ull << 20, "world!", 6), FM_OK);
    assert_int_equal(fm_buf_put_u32(out, (uint32_t)op.len), FM_OK);
    assert_int_equal(fm_buf_append(out, op.data, op.len), FM_OK);
    fm_buf_release(&op);
    fm_identity_release(&id);
}

static void test_ops(void **state)
{
    (void)state;
    struct fm_buf ops;
    struct fm_wire_msg m;
    size_t pos = 0, len;
    const uint8_t *op;
    int n = 0;
    fm_buf_init(&ops, 1 << 16);
    make_ops(&ops);
    /* a push */
    assert_int_equal(fm_wire_ops_begin(&B, 0, 0), FM_OK);
    assert_int_equal(fm_wire_ops_add(&B, ops.data, ops.len, 2), FM_OK);
    assert_int_equal(fm_wire_ops_finish(&B), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.type, FM_MSG_OPS);
    assert_int_equal(m.u.ops.count, 2);
    while (fm_wire_ops_next(&m.u.ops, &pos, &op, &len)) {
        struct fm_op d;
        assert_int_equal(fm_op_decode(&d, op, len), FM_OK);
        assert_true(fm_op_verify(&d));
        n++;
    }
    assert_int_equal(n, 2);
    /* a push must not carry flags, a req_id, or nothing */
    B.data[2] = FM_OPS_TRUNCATED;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[2] = 0;
    B.data[6] = 9;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[6] = 0;
    assert_int_equal(fm_wire_ops_begin(&B, 0, 0), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    /* an empty reply is fine */
    assert_int_equal(fm_wire_ops_begin(&B, FM_OPS_REPLY | FM_OPS_TRUNCATED, 5), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.u.ops.req_id, 5);
    assert_int_equal(m.u.ops.flags, FM_OPS_REPLY | FM_OPS_TRUNCATED);
    B.data[2] = 0x80;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    /* a reply with ops; then break each length rule */
    assert_int_equal(fm_wire_ops_begin(&B, FM_OPS_REPLY, 6), FM_OK);
    assert_int_equal(fm_wire_ops_add(&B, ops.data, ops.len, 2), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(fm_wire_decode(&m, B.data, B.len - 1), FM_EDECODE); /* truncated op */
    assert_int_equal(fm_buf_put_u8(&B, 0), FM_OK);
    assert_int_equal(decode_buf(&m), FM_EDECODE); /* trailing */
    B.len--;
    fm_be32_put(B.data + 7, 3); /* count says 3 */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    fm_be32_put(B.data + 7, FM_WIRE_BATCH_MAX + 1);
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    fm_be32_put(B.data + 7, 2);
    uint32_t l0 = fm_be32_get(B.data + 11);
    fm_be32_put(B.data + 11, FM_WIRE_OP_MIN - 1); /* op shorter than any op */
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    fm_be32_put(B.data + 11, FM_OP_MAX_LEN + 1); /* longer than any op */
    assert_int_equal(decode_buf(&m), FM_ETOOBIG);
    fm_be32_put(B.data + 11, l0);
    assert_int_equal(decode_buf(&m), FM_OK);
    fm_buf_release(&ops);
}

static void test_status(void **state)
{
    (void)state;
    struct fm_sync_status st = {.uptime_ms = 12345, .pid = 77};
    struct fm_sync_peer_info p[2], q;
    struct fm_wire_msg m;
    size_t pos = 0;
    st.counters.zap_refused = 3;
    st.counters.ops_stored = 1000;
    st.counters.ingest_fault_err = 17;
    st.counters.pulls_deferred = 9;
    st.counters.clone_alerts = 4; /* the last counter */
    memset(p, 0, sizeof(p));
    memset(p[0].pk, 1, FM_PK_LEN);
    fm_strlcpy(p[0].name, "county-2", sizeof(p[0].name));
    fm_strlcpy(p[0].endpoint, "tcp://127.0.0.1:7401", sizeof(p[0].endpoint));
    p[0].configured = p[0].connected = p[0].vector_known = true;
    p[0].last_heard_ms = 1700000000000ull;
    p[0].we_lack = 5;
    p[0].it_lacks = 6;
    p[0].skew_ms = -250;
    p[0].ops_received = 7;
    p[0].ops_sent = 8;
    p[0].bad_messages = 9;
    for (int k = 0; k < FM_SYNC_MSG_KINDS; k++) {
        p[0].msgs[k].msgs_in = 100 + (uint64_t)k;
        p[0].msgs[k].bytes_in = 200 + (uint64_t)k;
        p[0].msgs[k].msgs_out = 300 + (uint64_t)k;
        p[0].msgs[k].bytes_out = 400 + (uint64_t)k;
    }
    p[0].checks_out = 11;
    p[0].checks_in = 12;
    p[0].conns = 3;             /* sync/conns.c */
    p[0].conns_refused = 1996;
    memset(p[1].pk, 2, FM_PK_LEN);
    p[1].eager = true;
    p[1].msgs[FM_SYNC_MSG_SOFT].bytes_out = UINT64_MAX;
    assert_string_equal(fm_sync_msg_kind_name(FM_SYNC_MSG_SUMMARY), "summary");
    assert_string_equal(fm_sync_msg_kind_name(FM_SYNC_MSG_SOFT), "soft");
    assert_string_equal(fm_sync_msg_kind_name(FM_SYNC_MSG_KINDS), "?");
    assert_int_equal(fm_wire_kind(FM_MSG_PRUNE), FM_SYNC_MSG_PRUNE);
    assert_int_equal(fm_wire_kind(FM_MSG_CTL_STATUS), FM_SYNC_MSG_OTHER);
    assert_int_equal(fm_wire_encode_status(&B, &st, p, 2), FM_OK);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.type, FM_MSG_CTL_STATUS);
    assert_int_equal(m.u.status.uptime_ms, 12345);
    assert_int_equal(m.u.status.pid, 77);
    assert_int_equal(m.u.status.counters.zap_refused, 3);
    assert_int_equal(m.u.status.counters.ops_stored, 1000);
    assert_int_equal(m.u.status.counters.ingest_fault_err, 17);
    assert_int_equal(m.u.status.counters.pulls_deferred, 9);
    assert_int_equal(m.u.status.counters.clone_alerts, 4);
    assert_int_equal(m.u.status.count, 2);
    assert_true(fm_wire_status_next(&m.u.status, &pos, &q));
    assert_memory_equal(&q, &p[0], sizeof(q));
    assert_true(fm_wire_status_next(&m.u.status, &pos, &q));
    assert_memory_equal(&q, &p[1], sizeof(q));
    assert_false(fm_wire_status_next(&m.u.status, &pos, &q));
    /* a control character in a name; each peer flag bit; truncation */
    size_t name_at = 2 + 8 + 8 + 22 * 8 + 2 + FM_PK_LEN + 1; /* 22 counters */
    B.data[name_at] = '\n';
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[name_at] = 'c';
    size_t flags_at = name_at + 8 + 2 + strlen(p[0].endpoint);
    assert_int_equal(B.data[flags_at], 0x07);
    B.data[flags_at] = 0x47; /* 0x10 banned, 0x20 refused_us, 0x40 cloned_key */
    assert_int_equal(decode_buf(&m), FM_OK);
    pos = 0;
    assert_true(fm_wire_status_next(&m.u.status, &pos, &q));
    assert_true(q.cloned_key);
    assert_false(q.skew_known);
    B.data[flags_at] = 0x87; /* 0x80: skew measured, so a skew of 0 is a real 0 */
    assert_int_equal(decode_buf(&m), FM_OK);
    pos = 0;
    assert_true(fm_wire_status_next(&m.u.status, &pos, &q));
    assert_true(q.skew_known);
    assert_false(q.cloned_key);
    B.data[flags_at] = 0x07;
    assert_int_equal(decode_buf(&m), FM_OK);
    /* the per-kind table must say exactly FM_SYNC_MSG_KINDS kinds */
    size_t kinds_at = flags_at + 1 + 7 * 8 + 4 + 8;
    assert_int_equal(B.data[kinds_at], FM_SYNC_MSG_KINDS);
    B.data[kinds_at] = FM_SYNC_MSG_KINDS - 1;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[kinds_at] = FM_SYNC_MSG_KINDS + 1;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[kinds_at] = FM_SYNC_MSG_KINDS;
    assert_int_equal(fm_be64_get(B.data + kinds_at + 1), 100); /* summary msgs_in */
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(fm_wire_decode(&m, B.data, B.len - 1), FM_EDECODE);
    /* a name filling its whole buffer cannot be encoded */
    memset(p[1].name, 'x', sizeof(p[1].name));
    assert_int_equal(fm_wire_encode_status(&B, &st, p, 2), FM_EINVAL);
}

/* The tree block after the peers: round trip, optional (an older daemon
 * sends none), every truncation inside it and every bad value refused. */
static void test_status_tree(void **state)
{
    (void)state;
    struct fm_sync_status st;
    struct fm_sync_peer_info p[2], q;
    struct fm_wire_msg m;
    size_t pos = 0;
    memset(&st, 0, sizeof(st));
    memset(p, 0, sizeof(p));
    memset(p[0].pk, 1, FM_PK_LEN);
    memset(p[1].pk, 2, FM_PK_LEN);
    p[0].eager = p[1].eager = true;
    p[0].push = FM_PUSH_PARENT;
    p[1].push = FM_PUSH_CHILD;
    st.tree_known = true;
    st.tree.on = true;
    memcpy(st.tree.root, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
    st.tree.epoch = 0xfedcba98u;
    st.tree.hops = 2;
    st.tree.has_parent = true;
    memset(st.tree.parent, 1, FM_PK_LEN);
    st.tree.children = 1;
    assert_int_equal(fm_wire_encode_status(&B, &st, p, 2), FM_OK);
    size_t block = 1 + 8 + 4 + 1 + FM_PK_LEN + 4 + 2, peers_end = B.len - block;
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_true(m.u.status.tree_known);
    assert_memory_equal(&m.u.status.tree, &st.tree, sizeof(st.tree));
    assert_non_null(m.u.status.push);
    assert_int_equal(m.u.status.push[0], FM_PUSH_PARENT);
    assert_int_equal(m.u.status.push[1], FM_PUSH_CHILD);
    assert_true(fm_wire_status_next(&m.u.status, &pos, &q));
    assert_memory_equal(q.pk, p[0].pk, FM_PK_LEN);
    /* an older daemon's status ends with the peers: no tree, still valid */
    assert_int_equal(fm_wire_decode(&m, B.data, peers_end), FM_OK);
    assert_false(m.u.status.tree_known);
    assert_null(m.u.status.push);
    assert_int_equal(m.u.status.count, 2);
    for (size_t len = peers_end + 1; len < B.len; len++)
        assert_int_equal(fm_wire_decode(&m, B.data, len), FM_EDECODE);
    /* unknown flag bits, and push values past the last kind */
    B.data[peers_end] |= 0x04;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[peers_end] &= (uint8_t)~0x04;
    B.data[B.len - 1] = FM_PUSH_KINDS;
    assert_int_equal(decode_buf(&m), FM_EDECODE);
    B.data[B.len - 1] = FM_PUSH_EAGER;
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_int_equal(m.u.status.push[1], FM_PUSH_EAGER);
    /* the tree off (wire_version 4) and no parent: flags 0, still a block */
    st.tree.on = st.tree.has_parent = false;
    assert_int_equal(fm_wire_encode_status(&B, &st, p, 2), FM_OK);
    assert_int_equal(B.data[B.len - block], 0);
    assert_int_equal(decode_buf(&m), FM_OK);
    assert_true(m.u.status.tree_known);
    assert_false(m.u.status.tree.on);
    /* a push value the encoder does not know is not sent */
    p[0].push = FM_PUSH_KINDS;
    assert_int_equal(fm_wire_encode_status(&B, &st, p, 2), FM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_golden), cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_vector),         cmocka_unit_test(test_ihave_pull),
        cmocka_unit_test(test_ops),            cmocka_unit_test(test_status),
        cmocka_unit_test(test_status_tree),
    };
    int rc;
    if (fm_crypto_init() != FM_OK)
        return 1;
    setup_buf();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    fm_buf_release(&B);
    return rc;
}
