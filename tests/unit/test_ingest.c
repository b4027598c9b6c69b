/*
 * test_ingest.c — taking in ops from elsewhere (fm_node_ingest): two nodes
 * converging, refusals of tampered, forged and broken-chain ops and bad
 * payloads, duplicates and forks, ops that reach an entity before its
 * report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"

static void test_converge_two_nodes(void **state)
{
    (void)state;
    struct fx_node a, b;
    char xa[FM_ID_MAX], xb[FM_ID_MAX], ra[FM_ID_MAX], rb[FM_ID_MAX], ua[FM_ID_MAX];
    struct fm_ingest_result res;
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&b, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .address = "A street"};
    OK(fm_node_incident_report(a.n, &in, xa));
    in.category = "crash";
    OK(fm_node_incident_report(b.n, &in, xb));
    OK(fm_node_resource_add(a.n, "pump", "d1", 10, ra));
    OK(fm_node_resource_add(b.n, "sandbag", "d2", 50, rb));
    struct fm_unit_new un = {.name = "P1", .department = "Police", .kind = "patrol", .tier = 1};
    OK(fm_node_unit_register(a.n, &un, ua));
    OK(fx_sync(a.n, b.n, &res));
    assert_int_equal(res.stored, 4);
    assert_int_equal(res.rejected, 0);
    OK(fx_sync(b.n, a.n, &res));
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 4);
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);

    /* concurrent edits of the same things on both sides */
    OK(fm_node_incident_status(a.n, xa, FM_STAGE_DISPATCHED, false));
    OK(fm_node_incident_status(b.n, xa, FM_STAGE_ENROUTE, false));
    OK(fm_node_incident_note(a.n, xa, "from a"));
    OK(fm_node_incident_note(b.n, xa, "from b"));
    OK(fm_node_resource_adjust(a.n, rb, -20));
    OK(fm_node_resource_adjust(b.n, rb, -25));
    OK(fm_node_resource_adjust(b.n, ra, -4));
    OK(fm_node_unit_status(a.n, ua, "assigned"));
    sleep_ms(3); /* b's status is stamped strictly later */
    OK(fm_node_unit_status(b.n, ua, "offline"));
    assert_int_equal(fx_digest_eq(a.n, b.n), 0);
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);

    struct fm_incident ia, ib;
    OK(fm_node_incident_get(a.n, xa, &ia));
    OK(fm_node_incident_get(b.n, xa, &ib));
    assert_int_equal(ia.stage, FM_STAGE_ENROUTE); /* lattice max */
    assert_int_equal(ia.nnotes, 5);
    assert_memory_equal(&ia, &ib, sizeof ia);
    assert_int_equal(resource_qty(a.n, rb), 5);  /* 50 - 20 - 25 */
    assert_int_equal(resource_qty(b.n, rb), 5);
    struct fm_unit u1, u2;
    OK(fm_node_unit_get(a.n, ua, &u1));
    OK(fm_node_unit_get(b.n, ua, &u2));
    assert_string_equal(u1.status, u2.status); /* LWW: b wrote later */
    assert_string_equal(u1.status, "offline");

    /* everything again: all duplicates, nothing changes */
    uint8_t before[FM_HASH_LEN], after[FM_HASH_LEN];
    OK(fm_node_digest(a.n, before));
    OK(fx_sync(b.n, a.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, ops_count(b.n));
    OK(fm_node_digest(a.n, after));
    assert_memory_equal(before, after, FM_HASH_LEN);
    assert_int_equal(ops_count(a.n), ops_count(b.n));
    fx_done(&a);
    fx_done(&b);
}

static void test_reject_tampered_forged(void **state)
{
    (void)state;
    struct fx_node a, b, c;
    struct fx_ops ops = {0}, bad = {0};
    struct fm_ingest_result res;
    struct fm_node_stats st;
    char id[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "abcdef"};
    for (int i = 0; i < 3; i++)
        OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, a.id.pk, &ops));
    assert_int_equal(ops.n, 4);
    reader(&c);

    /* a flipped byte in op 3's payload: op 4 no longer chains, and op 3's
     * signature fails, which takes the whole run 1..3 with it */
    for (size_t i = 0; i < ops.n; i++)
        OK(fx_ops_add(&bad, ops.ops[i], ops.lens[i]));
    bad.ops[2][FM_OP_HEADER_LEN + 3] ^= 1;
    OK(fx_ingest(c.n, &bad, 0, bad.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.rejected, 4);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(res.err_seq, 1);
    assert_int_equal(ops_count(c.n), 0);
    /* a tampered last op: the run's verification fails */
    bad.ops[2][FM_OP_HEADER_LEN + 3] ^= 1;
    bad.ops[3][bad.lens[3] - 1] ^= 0x80;
    OK(fx_ingest(c.n, &bad, 0, bad.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(ops_count(c.n), 0);

    /* ops 1..2 fine; then op 3 signed by b but claiming to be a's */
    OK(fx_ingest(c.n, &ops, 0, 2, &res));
    assert_int_equal(res.stored, 2);
    struct fx_ops forged = {0};
    uint8_t prev[FM_HASH_LEN];
    struct fm_op op3;
    op_hash_of(&ops, 1, prev);
    OK(fm_op_decode(&op3, ops.ops[2], ops.lens[2]));
    build_op(&forged, &b.id, OP_INC_REPORT, 3, prev, op3.hlc, op3.payload, op3.payload_len);
    memcpy(forged.ops[0] + 4, a.id.pk, FM_PK_LEN);
    OK(fx_ingest(c.n, &forged, 0, 1, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(res.err_seq, 3);
    assert_int_equal(ops_count(c.n), 2);
    /* the genuine ops still go in */
    OK(fx_ingest(c.n, &ops, 2, 2, &res));
    assert_int_equal(res.stored, 2);
    OK(fm_node_stats(c.n, &st));
    assert_int_equal(st.rejected, 4 + 4 + 1);
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);

    /* undecodable envelopes */
    uint8_t junk[200] = {0};
    const uint8_t *jp[2] = {junk, NULL};
    size_t jl[2] = {sizeof junk, 0};
    OK(fm_node_ingest(c.n, jp, jl, 2, &res));
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.err, FM_EDECODE);
    fx_ops_free(&ops);
    fx_ops_free(&bad);
    fx_ops_free(&forged);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c);
}

/* fm_node_ingest_each tells every op's fate, in the caller's order. */
static void test_ingest_each_op_fate(void **state)
{
    (void)state;
    struct fx_node a, c;
    struct fx_ops ops = {0};
    struct fm_ingest_result res;
    struct fm_node_stats st;
    char id[FM_ID_MAX];
    int each[6];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "abcdef"};
    for (int i = 0; i < 5; i++)
        OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, a.id.pk, &ops));
    assert_int_equal(ops.n, 6);
    reader(&c);
    OK(fx_ingest(c.n, &ops, 0, 2, &res)); /* seq 1, 2 held */
    /* batch, out of order: 4, 1 (held), 3, 5 (a flipped payload byte), 6,
     * 2 (held). Op 5's signature fails, and as the last op of the run 3..5
     * (6 no longer chains onto the changed 5) it vouched for 3 and 4 too:
     * the run is refused whole, and 6 does not chain */
    ops.ops[4][FM_OP_HEADER_LEN + 3] ^= 1;
    const uint8_t *batch[6] = {ops.ops[3], ops.ops[0], ops.ops[2],
                               ops.ops[4], ops.ops[5], ops.ops[1]};
    size_t lens[6] = {ops.lens[3], ops.lens[0], ops.lens[2], ops.lens[4], ops.lens[5], ops.lens[1]};
    OK(fm_node_ingest_each(c.n, batch, lens, 6, &res, each));
    assert_int_equal(each[0], FM_EVERIFY);
    assert_int_equal(each[1], FM_INGEST_HELD);
    assert_int_equal(each[2], FM_EVERIFY);
    assert_int_equal(each[3], FM_EVERIFY);
    assert_int_equal(each[4], FM_ECHAIN);
    assert_int_equal(each[5], FM_INGEST_HELD);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, 2);
    assert_int_equal(res.rejected, 4);
    OK(fm_node_stats(c.n, &st));
    assert_int_equal(st.rejected, 4); /* counted once each */
    /* the genuine 5: now 3..6 go in */
    ops.ops[4][FM_OP_HEADER_LEN + 3] ^= 1;
    batch[3] = ops.ops[4];
    OK(fm_node_ingest_each(c.n, batch, lens, 6, &res, each));
    int want[6] = {FM_INGEST_STORED, FM_INGEST_HELD, FM_INGEST_STORED,
                   FM_INGEST_STORED, FM_INGEST_STORED, FM_INGEST_HELD};
    for (int i = 0; i < 6; i++)
        assert_int_equal(each[i], want[i]);
    assert_int_equal(ops_count(c.n), 6);
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);
    fx_ops_free(&ops);
    fx_done(&c);
    fx_done(&a);
}

/* Hashes handed with the ops (sync's compact rebuild computed them) are
 * used instead of hashing again: right ones store exactly what plain
 * ingest stores; a wrong one (which only a bug could hand) is taken as
 * given, so the next op no longer chains onto it — which shows it is not
 * recomputed. */
static void test_ingest_hashed(void **state)
{
    (void)state;
    struct fx_node a, c, d;
    struct fx_ops ops = {0};
    struct fm_ingest_result res;
    char id[FM_ID_MAX];
    uint8_t h[6][FM_HASH_LEN];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "abcdef"};
    for (int i = 0; i < 5; i++)
        OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, a.id.pk, &ops));
    assert_int_equal(ops.n, 6);
    for (int i = 0; i < 6; i++)
        fm_hash(h[i], ops.ops[i], ops.lens[i]);
    /* out of order, one without its hash */
    int order[6] = {3, 0, 5, 2, 4, 1};
    const uint8_t *batch[6], *hashes[6];
    size_t lens[6];
    for (int k = 0; k < 6; k++) {
        batch[k] = ops.ops[order[k]];
        lens[k] = ops.lens[order[k]];
        hashes[k] = order[k] == 2 ? NULL : h[order[k]];
    }
    reader(&c);
    OK(fm_node_ingest_hashed(c.n, batch, lens, hashes, 6, &res));
    assert_int_equal(res.stored, 6);
    assert_int_equal(res.rejected, 0);
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);
    /* seq 4's hash wrong: seq 5 (prev = the real hash of 4) is refused */
    reader(&d);
    h[3][0] ^= 1;
    OK(fm_node_ingest_hashed(d.n, batch, lens, hashes, 6, &res));
    assert_int_equal(res.stored, 4);
    assert_true(res.rejected >= 1);
    assert_int_equal(ops_count(d.n), 4);
    fx_ops_free(&ops);
    fx_done(&d);
    fx_done(&c);
    fx_done(&a);
}

static void test_reject_chain_gap_hlc(void **state)
{
    (void)state;
    struct fx_node x, c;
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload pl;
    struct fm_buf b;
    OK(fx_author(&org, &x, "x"));
    reader(&c);
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    report_payload(&pl, "fire");
    for (int i = 0; i < 3; i++)
        OK(fx_log_pl(&g, &pl));
    /* gap: 1 then 3 */
    const uint8_t *p[2] = {g.ops.ops[0], g.ops.ops[2]};
    size_t l[2] = {g.ops.lens[0], g.ops.lens[2]};
    OK(fm_node_ingest(c.n, p, l, 2, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EGAP);
    assert_int_equal(res.err_seq, 3);
    assert_int_equal(ops_count(c.n), 1);

    /* broken prev at seq 2 (properly signed) */
    struct fx_ops o = {0};
    uint8_t wrong[FM_HASH_LEN];
    struct payload check;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    memset(wrong, 0x5a, sizeof wrong);
    struct fm_op op1;
    OK(fm_op_decode(&op1, g.ops.ops[0], g.ops.lens[0]));
    build_op(&o, &x.id, OP_INC_REPORT, 2, wrong, op1.hlc + 5, b.data, b.len);
    OK(fx_ingest(c.n, &o, 0, 1, &res));
    assert_int_equal(res.err, FM_ECHAIN);
    /* right prev, but an hlc that does not increase */
    uint8_t h1[FM_HASH_LEN];
    op_hash_of(&g.ops, 0, h1);
    build_op(&o, &x.id, OP_INC_REPORT, 2, h1, op1.hlc, b.data, b.len);
    OK(fx_ingest(c.n, &o, 1, 1, &res));
    assert_int_equal(res.err, FM_ECHAIN);
    /* a run whose first op breaks takes the later ones with it */
    const uint8_t *p2[3] = {o.ops[0], g.ops.ops[2], g.ops.ops[3]};
    size_t l2[3] = {o.lens[0], g.ops.lens[2], g.ops.lens[3]};
    OK(fm_node_ingest(c.n, p2, l2, 3, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.rejected, 3);
    assert_int_equal(ops_count(c.n), 1);
    /* and the real chain goes in */
    OK(fx_ingest(c.n, &g.ops, 1, 3, &res));
    assert_int_equal(res.stored, 3);
    fm_buf_release(&b);
    fx_ops_free(&o);
    fx_log_free(&g);
    fx_done(&x);
    fx_done(&c);
}

static void test_reject_payload_cuts_run(void **state)
{
    (void)state;
    struct fx_node x, c, c2;
    struct fx_log g;
    struct payload pl;
    struct fm_ingest_result res;
    OK(fx_author(&org, &x, "x"));
    reader(&c);
    report_payload(&pl, "fire");
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    OK(fx_log_pl(&g, &pl));
    OK(fx_log_raw(&g, OP_INC_REPORT, "\x02\x00\x02xx", 5)); /* category only */
    OK(fx_log_pl(&g, &pl));
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.err, FM_EDECODE);
    assert_int_equal(res.err_seq, 3);
    struct ids l;
    assert_int_equal(list_incidents(c.n, -1, NULL, &l), 1);
    fx_log_free(&g);

    /* unknown op kinds are refused too */
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    OK(fx_log_raw(&g, 99, "", 0));
    reader(&c2);
    OK(fx_ingest(c2.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.err, FM_EDECODE);
    fx_log_free(&g);
    fx_done(&x);
    fx_done(&c);
    fx_done(&c2);
}

static void test_duplicates_and_forks(void **state)
{
    (void)state;
    struct fx_node a, c, d, e, f;
    struct fx_ops ops = {0}, alt = {0}, mix = {0};
    struct fm_ingest_result res;
    char id[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire"};
    OK(fm_node_incident_report(a.n, &in, id));
    OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, NULL, &ops));
    reader(&c);
    OK(fx_ingest(c.n, &ops, 0, ops.n, &res));
    assert_int_equal(res.stored, 3);
    OK(fx_ingest(c.n, &ops, 0, ops.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, 3);
    assert_int_equal(res.rejected, 0);

    /* duplicates inside one batch */
    reader(&d);
    for (size_t i = 0; i < ops.n; i++) {
        OK(fx_ops_add(&mix, ops.ops[i], ops.lens[i]));
        OK(fx_ops_add(&mix, ops.ops[i], ops.lens[i]));
    }
    OK(fx_ingest(d.n, &mix, 0, mix.n, &res));
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 3);
    assert_int_equal(fx_digest_eq(c.n, d.n), 1);

    /* a fork: a different op 3, properly signed by a */
    uint8_t h2[FM_HASH_LEN];
    struct fm_op op3;
    op_hash_of(&ops, 1, h2);
    OK(fm_op_decode(&op3, ops.ops[2], ops.lens[2]));
    struct payload pl, check;
    struct fm_buf b;
    report_payload(&pl, "other");
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    build_op(&alt, &a.id, OP_INC_REPORT, 3, h2, op3.hlc + 1, b.data, b.len);
    OK(fx_ingest(c.n, &alt, 0, 1, &res));
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EFORK);
    assert_int_equal(res.err_seq, 3);
    struct fx_ops back = {0};
    OK(fx_collect(c.n, NULL, &back));
    assert_int_equal(back.n, 3);
    assert_memory_equal(back.ops[2], ops.ops[2], ops.lens[2]); /* the first stays */

    /* a fork inside one batch: the fork is settled as everywhere (field
     * sync, docs/field-sync.md): the op with the smaller (hlc, hash) stays,
     * whatever the input order, so no replica diverges. The winner is in
     * the batch, so it is stored by this batch, in either order, and so is
     * what chains on it (the fuzz_ingest finding of 6 December: with the
     * loser first, the store ended holding neither) */
    OK(fm_node_incident_report(a.n, &in, id)); /* seq 4, on the kept op 3 */
    struct fx_ops all = {0};
    OK(fx_collect(a.n, NULL, &all));
    assert_int_equal(all.n, 4);
    OK(fx_ingest(c.n, &all, 3, 1, &res));
    assert_int_equal(res.stored, 1);
    for (int order = 0; order < 2; order++) {
        struct fx_node *x = order == 0 ? &e : &f;
        reader(x);
        const uint8_t *p[5] = {all.ops[0], all.ops[1], alt.ops[0], all.ops[2], all.ops[3]};
        size_t l[5] = {all.lens[0], all.lens[1], alt.lens[0], all.lens[2], all.lens[3]};
        if (order == 1) { /* the winner before the loser */
            p[2] = all.ops[2], l[2] = all.lens[2];
            p[3] = alt.ops[0], l[3] = alt.lens[0];
        }
        OK(fm_node_ingest(x->n, p, l, 5, &res));
        assert_int_equal(res.stored, 4);
        assert_int_equal(res.rejected, 1);
        assert_int_equal(res.err, FM_EFORK);
        assert_int_equal(res.err_seq, 3);
        struct ids li;
        assert_int_equal(list_incidents(x->n, -1, "other", &li), 0);
        assert_int_equal(fx_digest_eq(c.n, x->n), 1);
        struct fx_ops held = {0};
        OK(fx_collect(x->n, NULL, &held));
        assert_int_equal(held.n, 4);
        fx_ops_free(&held);
        OK(fm_node_ingest(x->n, p, l, 5, &res)); /* again: nothing new */
        assert_int_equal(res.stored, 0);
        assert_int_equal(res.duplicates, 4);
        assert_int_equal(fx_digest_eq(c.n, x->n), 1);
    }
    fx_ops_free(&all);
    fm_buf_release(&b);
    fx_ops_free(&ops);
    fx_ops_free(&alt);
    fx_ops_free(&mix);
    fx_ops_free(&back);
    fx_done(&a);
    fx_done(&c);
    fx_done(&d);
    fx_done(&e);
    fx_done(&f);
}

static void test_placeholder_first(void **state)
{
    (void)state;
    struct fx_node a, b, c1, c2;
    struct fx_ops oa = {0}, ob = {0};
    struct fm_ingest_result res;
    char x[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&b, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .priority = 4, .address = "old"};
    OK(fm_node_incident_report(a.n, &in, x));
    sleep_ms(3);
    /* b has never seen the incident, but writes to it by reference */
    struct payload pl = {0};
    pl.log.kind = OP_INC_NOTE;
    memcpy(pl.ref.author, a.id.pk, FM_PK_LEN);
    pl.ref.seq = 2;
    fm_strlcpy(pl.text, "seen from b", sizeof pl.text);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    OK(node_write_payload(b.n, &pl.log, NULL));
    pl.log.kind = OP_INC_UPDATE;
    pl.priority = 1;
    fm_strlcpy(pl.address, "new", sizeof pl.address);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_ADDRESS);
    OK(node_write_payload(b.n, &pl.log, NULL));
    pl.log.kind = OP_INC_STATUS;
    pl.stage = FM_STAGE_ONSCENE;
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    OK(node_write_payload(b.n, &pl.log, NULL));
    OK(fx_collect(a.n, NULL, &oa));
    OK(fx_collect(b.n, NULL, &ob));

    reader(&c1);
    OK(fx_ingest(c1.n, &ob, 0, ob.n, &res));
    assert_int_equal(res.stored, 4);
    struct ids l;
    assert_int_equal(list_incidents(c1.n, -1, NULL, &l), 0); /* only a placeholder */
    char out[FM_ID_MAX];
    assert_int_equal(fm_node_resolve_id(c1.n, FM_ENT_INCIDENT, x, out), FM_ENOTFOUND);
    struct fm_node_stats st;
    OK(fm_node_stats(c1.n, &st));
    assert_int_equal(st.entities, 0);
    OK(fx_ingest(c1.n, &oa, 0, oa.n, &res));
    reader(&c2);
    OK(fx_ingest(c2.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c2.n, &ob, 0, ob.n, &res));
    assert_int_equal(fx_digest_eq(c1.n, c2.n), 1);
    struct fm_incident i1, i2;
    OK(fm_node_incident_get(c1.n, x, &i1));
    OK(fm_node_incident_get(c2.n, x, &i2));
    assert_memory_equal(&i1, &i2, sizeof i1);
    assert_int_equal(i1.priority, 1); /* b's update is later than a's report */
    assert_string_equal(i1.address, "new");
    assert_string_equal(i1.category, "fire");
    assert_int_equal(i1.stage, FM_STAGE_ONSCENE);
    assert_int_equal(i1.nnotes, 4);
    assert_int_equal(list_incidents(c1.n, FM_STAGE_ONSCENE, "fire", &l), 1);

    /* an update stamped before the report loses, in either order */
    struct fx_node y, c3, c4;
    struct fx_log g;
    OK(fx_author(&org, &y, "y"));
    fx_log_init(&g, &y.id);
    g.hlc = i1.reported_hlc - 1000;
    OK(fx_log_cert(&g, &y.cert));
    pl.log.kind = OP_INC_UPDATE;
    pl.priority = 5;
    fm_strlcpy(pl.desc, "stale", sizeof pl.desc);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_DESC);
    OK(fx_log_pl(&g, &pl));
    reader(&c3);
    reader(&c4);
    OK(fx_ingest(c3.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(c3.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c3.n, &ob, 0, ob.n, &res));
    OK(fx_ingest(c4.n, &ob, 0, ob.n, &res));
    OK(fx_ingest(c4.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c4.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(fx_digest_eq(c3.n, c4.n), 1);
    OK(fm_node_incident_get(c3.n, x, &i1));
    assert_int_equal(i1.priority, 1);
    assert_string_equal(i1.desc, ""); /* the report's empty desc is newer */
    fx_log_free(&g);
    fx_ops_free(&oa);
    fx_ops_free(&ob);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c1);
    fx_done(&c2);
    fx_done(&y);
    fx_done(&c3);
    fx_done(&c4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converge_two_nodes),
        cmocka_unit_test(test_reject_tampered_forged),
        cmocka_unit_test(test_ingest_each_op_fate),
        cmocka_unit_test(test_ingest_hashed),
        cmocka_unit_test(test_reject_chain_gap_hlc),
        cmocka_unit_test(test_reject_payload_cuts_run),
        cmocka_unit_test(test_duplicates_and_forks),
        cmocka_unit_test(test_placeholder_first),
    };
    return fx_node_main("test_ingest", tests, sizeof tests / sizeof tests[0]);
}
