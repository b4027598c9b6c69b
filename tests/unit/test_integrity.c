/*
 * test_integrity.c — a key holder cannot rewrite what every node believes.
 *
 * Each test replays an attack with validly signed ops, built by hand with
 * the attacker's real key (bypassing its writer's own checks), and checks
 * every store, in each arrival order, ends with the honest history and one
 * digest:
 *
 *  (1) A revoked key forks its log below the revocation's last_seq: same
 *      prev, same stamp, a hash ground smaller than the original's. The
 *      revocation names the head hash at last_seq, so the frozen history
 *      stands whatever the forged op's stamp or hash, and a store that had
 *      taken the forgery (or settled a fork for it) before the revocation
 *      came cuts it and takes the original.
 *  (2) A vehicle-signed dispatch (refused at ingest: vehicles do not
 *      dispatch) comes back at the vehicle's seq 2 with an earlier stamp,
 *      alone, in one batch with the real op, and inside another node's
 *      fork.evidence op. It never settles a fork: the vehicle's seq 2..6
 *      stay on every store and the vehicle may still sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"

static size_t fork_count_cb_n;
static int fork_count_cb(void *ctx, const struct fm_fork_info *f)
{
    (void)ctx;
    (void)f;
    fork_count_cb_n++;
    return 0;
}

static size_t forks_of(struct fm_node *n)
{
    fork_count_cb_n = 0;
    OK(fm_node_forks(n, fork_count_cb, NULL));
    return fork_count_cb_n;
}

static void ingest_one(struct fm_node *n, const struct fx_ops *l, size_t i,
                       struct fm_ingest_result *res)
{
    OK(fx_ingest(n, l, i, 1, res));
}

/* Re-signs `payload` (kind) as the author's op at seq with the given prev
 * and stamp, varying a trailing byte of the incident text until the op's
 * hash sorts below `below` (when below is not NULL). */
static void forge(struct fx_ops *out, const struct fm_identity *id, uint8_t kind, uint64_t seq,
                  const uint8_t prev[FM_HASH_LEN], uint64_t hlc, struct payload *pl,
                  const uint8_t *below)
{
    size_t base = strlen(pl->desc);
    for (int tries = 0; tries < 4096; tries++) {
        struct fm_buf b;
        struct payload *check = malloc(sizeof *check);
        struct fx_ops one = {0};
        uint8_t h[FM_HASH_LEN];
        assert_non_null(check);
        if (pl->log.kind == OP_INC_REPORT)
            snprintf(pl->desc + base, sizeof pl->desc - base, " %d", tries);
        fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
        OK(payload_encode(pl, &b, check));
        build_op(&one, id, kind, seq, prev, hlc, b.data, b.len);
        fm_buf_release(&b);
        free(check);
        op_hash_of(&one, 0, h);
        if (below == NULL || memcmp(h, below, FM_HASH_LEN) < 0) {
            OK(fx_ops_add(out, one.ops[0], one.lens[0]));
            fx_ops_free(&one);
            return;
        }
        fx_ops_free(&one);
    }
    fail_msg("could not grind a smaller hash");
}

static bool incident_desc_is(struct fm_node *n, const char *id, const char *desc)
{
    struct fm_incident inc;
    if (fm_node_incident_get(n, id, &inc) != FM_OK)
        return false;
    return strcmp(inc.desc, desc) == 0;
}

/* (1) ---------------------------------------------------------------- */

static void test_revoked_key_cannot_rewrite_history(void **state)
{
    (void)state;
    struct fx_node a, w, s1, s2, s3, s4;
    struct fx_ops ow = {0}, oa = {0}, forged = {0};
    struct fm_ingest_result res;
    char inc[FM_ID_MAX];
    struct fm_op op1, op2;
    uint8_t h2[FM_HASH_LEN];
    fx_open_role(&a, "centre", FM_ROLE_CENTRE, NULL);
    fx_open_role(&w, "stolen", FM_ROLE_COUNTY, NULL);
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1,
                                 .desc = "original text"};
    OK(fm_node_incident_report(w.n, &in, inc)); /* w 2 */
    OK(fx_collect(w.n, w.id.pk, &ow));
    assert_int_equal(ow.n, 2);
    OK(fm_op_decode(&op1, ow.ops[0], ow.lens[0]));
    OK(fm_op_decode(&op2, ow.ops[1], ow.lens[1]));
    fm_op_hash(&op2, h2);

    /* the org revokes w after seq 2, naming its head */
    struct fm_revocation rev = {0};
    memcpy(rev.node, w.id.pk, FM_PK_LEN);
    rev.last_seq = 2;
    OK(fm_node_op_hash(w.n, w.id.pk, 2, rev.head));
    assert_memory_equal(rev.head, h2, FM_HASH_LEN);
    rev.has_head = true;
    rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&rev, &org.root);
    OK(fx_sync(w.n, a.n, &res));
    OK(fm_node_publish_revocation(a.n, &rev));
    OK(fx_collect(a.n, a.id.pk, &oa));

    /* the thief signs another seq 2: same prev, same stamp, smaller hash */
    struct payload pl;
    OK(payload_decode(&pl, op2.kind, op2.payload, op2.payload_len));
    fm_strlcpy(pl.desc, "forged text", sizeof pl.desc);
    forge(&forged, &w.id, op2.kind, 2, op2.prev, op2.hlc, &pl, h2);

    /* s1: the honest history and the revocation first, the forgery last */
    reader(&s1);
    OK(fx_ingest(s1.n, &ow, 0, ow.n, &res));
    OK(fx_ingest(s1.n, &oa, 0, oa.n, &res));
    ingest_one(s1.n, &forged, 0, &res);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EREVOKED);
    assert_true(incident_desc_is(s1.n, inc, "original text"));

    /* s2: the forgery before anything else; then the revocation cuts it and
     * the original takes its place */
    reader(&s2);
    ingest_one(s2.n, &ow, 0, &res);
    ingest_one(s2.n, &forged, 0, &res);
    assert_int_equal(res.stored, 1);
    OK(fx_ingest(s2.n, &oa, 0, oa.n, &res));
    assert_int_equal(fx_head_seq(s2.n, w.id.pk), 1);
    OK(fx_ingest(s2.n, &ow, 0, ow.n, &res));
    assert_int_equal(fx_head_seq(s2.n, w.id.pk), 2);
    assert_true(incident_desc_is(s2.n, inc, "original text"));

    /* s3: both versions of seq 2 before the revocation (the old rule let
     * the ground hash win the fork here); the revocation settles it */
    reader(&s3);
    OK(fx_ingest(s3.n, &ow, 0, ow.n, &res));
    ingest_one(s3.n, &forged, 0, &res);
    OK(fx_ingest(s3.n, &forged, 0, forged.n, &res));
    OK(fx_ingest(s3.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(s3.n, &ow, 0, ow.n, &res));
    assert_true(incident_desc_is(s3.n, inc, "original text"));
    ingest_one(s3.n, &forged, 0, &res);
    assert_int_equal(res.stored, 0);

    /* s4: everything in one batch, forgery first in the input */
    reader(&s4);
    struct fx_ops all = {0};
    OK(fx_ops_add(&all, forged.ops[0], forged.lens[0]));
    for (size_t i = 0; i < ow.n; i++)
        OK(fx_ops_add(&all, ow.ops[i], ow.lens[i]));
    for (size_t i = 0; i < oa.n; i++)
        OK(fx_ops_add(&all, oa.ops[i], oa.lens[i]));
    OK(fx_ingest(s4.n, &all, 0, all.n, &res));
    OK(fx_ingest(s4.n, &all, 0, all.n, &res)); /* as sync would offer it again */
    assert_true(incident_desc_is(s4.n, inc, "original text"));

    assert_int_equal(fx_digest_eq(s1.n, s2.n), 1);
    assert_int_equal(fx_digest_eq(s1.n, s3.n), 1);
    assert_int_equal(fx_digest_eq(s1.n, s4.n), 1);
    assert_int_equal(fx_digest_eq(s1.n, a.n), 1);
    /* a revocation is also refused if it adds nothing (same seq, same head) */
    assert_int_equal(fm_node_publish_revocation(a.n, &rev), FM_EEXISTS);

    fx_ops_free(&ow);
    fx_ops_free(&oa);
    fx_ops_free(&forged);
    fx_ops_free(&all);
    fx_done(&a);
    fx_done(&w);
    fx_done(&s1);
    fx_done(&s2);
    fx_done(&s3);
    fx_done(&s4);
}

/* A v2 revocation at seq 0 needs no head; one with a head round-trips,
 * and a v1 file (no head) still decodes. */
static void test_revocation_encoding(void **state)
{
    (void)state;
    struct fm_revocation rev = {0}, back;
    struct fm_buf b;
    memset(rev.node, 7, FM_PK_LEN);
    rev.last_seq = 9;
    memset(rev.head, 0xab, FM_HASH_LEN);
    rev.has_head = true;
    rev.issued_ms = 123;
    fm_revocation_sign(&rev, &org.root);
    fm_buf_init(&b, 1024);
    OK(fm_revocation_encode(&rev, &b));
    assert_int_equal(b.len, 177);
    OK(fm_revocation_decode(&back, b.data, b.len));
    assert_true(back.has_head);
    assert_memory_equal(back.head, rev.head, FM_HASH_LEN);
    OK(fm_revocation_check(&back, org.root.pk));
    /* the head is signed: changing it breaks the signature */
    b.data[1 + 2 * FM_PK_LEN + 8] ^= 1;
    OK(fm_revocation_decode(&back, b.data, b.len));
    assert_int_equal(fm_revocation_check(&back, org.root.pk), FM_EVERIFY);
    /* version 1 */
    fm_buf_reset(&b);
    rev.has_head = false;
    fm_revocation_sign(&rev, &org.root);
    OK(fm_revocation_encode(&rev, &b));
    assert_int_equal(b.len, 145);
    OK(fm_revocation_decode(&back, b.data, b.len));
    assert_false(back.has_head);
    OK(fm_revocation_check(&back, org.root.pk));
    /* a version byte that does not match the length is refused */
    b.data[0] = 2;
    assert_int_equal(fm_revocation_decode(&back, b.data, b.len), FM_EDECODE);
    fm_buf_release(&b);
}

/* (2) ---------------------------------------------------------------- */

/* Builds x's next op: a fork.evidence of the two raw ops, in hash order. */
static void evidence_op(struct fx_ops *out, struct fx_node *x, const uint8_t *p, size_t plen,
                        const uint8_t *q, size_t qlen)
{
    struct fm_op a, b;
    uint8_t ha[FM_HASH_LEN], hb[FM_HASH_LEN];
    OK(fm_op_decode(&a, p, plen));
    OK(fm_op_decode(&b, q, qlen));
    fm_op_hash(&a, ha);
    fm_op_hash(&b, hb);
    if (memcmp(ha, hb, FM_HASH_LEN) > 0) {
        const uint8_t *t = p;
        size_t tl = plen;
        p = q, plen = qlen, q = t, qlen = tl;
    }
    struct fm_buf pay;
    fm_buf_init(&pay, FM_OP_MAX_PAYLOAD);
    OK(fm_buf_put_u32(&pay, (uint32_t)plen));
    OK(fm_buf_append(&pay, p, plen));
    OK(fm_buf_put_u32(&pay, (uint32_t)qlen));
    OK(fm_buf_append(&pay, q, qlen));
    /* x's head, so the op chains onto x's log */
    struct fx_ops mine = {0};
    struct fm_op last;
    uint8_t hl[FM_HASH_LEN];
    OK(fx_collect(x->n, x->id.pk, &mine));
    OK(fm_op_decode(&last, mine.ops[mine.n - 1], mine.lens[mine.n - 1]));
    fm_op_hash(&last, hl);
    build_op(out, &x->id, OP_FORK_EVIDENCE, last.seq + 1, hl, last.hlc + 1, pay.data, pay.len);
    fm_buf_release(&pay);
    fx_ops_free(&mine);
}

static void test_refused_op_never_wins_a_fork(void **state)
{
    (void)state;
    struct fx_node c, v, x, s1, s2, s3;
    struct fx_ops oc = {0}, ov = {0}, ox = {0}, forged = {0}, ev = {0};
    struct fm_ingest_result res;
    char inc[FM_ID_MAX], unit[FM_ID_MAX], tk[FM_ID_MAX];
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 10, .lon_e7 = 10};
    struct fm_unit_new un = {.name = "Engine 1", .department = "Fire", .kind = "engine",
                             .tier = 1};
    fx_open_role(&c, "centre", FM_ROLE_CENTRE, NULL);
    fx_open_role(&v, "vehicle", FM_ROLE_VEHICLE, "Engine 1");
    fx_open_role(&x, "county", FM_ROLE_COUNTY, NULL);
    OK(fm_node_incident_report(c.n, &in, inc));
    OK(fm_node_unit_register(c.n, &un, unit));
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){unit}, 1, NULL, &tk));
    OK(fx_collect(c.n, c.id.pk, &oc));
    /* the vehicle's honest log: cert, then five notes on the incident */
    OK(fx_sync(c.n, v.n, &res));
    OK(fm_node_ensure_cert(v.n));
    sleep_ms(5); /* so a stamp fits between its seq 1 and its seq 2 */
    for (int i = 0; i < 5; i++) {
        char text[32];
        snprintf(text, sizeof text, "crew note %d", i + 2);
        OK(fm_node_incident_note(v.n, inc, text));
    }
    OK(fx_collect(v.n, v.id.pk, &ov));
    assert_int_equal(ov.n, 6);

    /* the centre's dispatch op, re-signed by the vehicle at its seq 2 with
     * an earlier stamp than its real seq 2 */
    struct fm_op d = {0}, v1, v2;
    for (size_t i = 0; i < oc.n; i++) {
        OK(fm_op_decode(&d, oc.ops[i], oc.lens[i]));
        if (d.kind == OP_TICKET_DISPATCH)
            break;
    }
    assert_int_equal(d.kind, OP_TICKET_DISPATCH);
    OK(fm_op_decode(&v1, ov.ops[0], ov.lens[0]));
    OK(fm_op_decode(&v2, ov.ops[1], ov.lens[1]));
    uint8_t h1[FM_HASH_LEN];
    fm_op_hash(&v1, h1);
    build_op(&forged, &v.id, OP_TICKET_DISPATCH, 2, h1, v1.hlc + 1, d.payload, d.payload_len);
    assert_true(v1.hlc + 1 < v2.hlc);
    /* and x, an enrolled county node, relays it as fork evidence */
    OK(fx_sync(c.n, x.n, &res));
    OK(fm_node_incident_note(x.n, inc, "county watching"));
    evidence_op(&ev, &x, ov.ops[1], ov.lens[1], forged.ops[0], forged.lens[0]);
    OK(fx_collect(x.n, x.id.pk, &ox));

    /* s1: the honest logs first, then the forged op alone and the evidence */
    reader(&s1);
    OK(fx_ingest(s1.n, &oc, 0, oc.n, &res));
    OK(fx_ingest(s1.n, &ov, 0, ov.n, &res));
    ingest_one(s1.n, &forged, 0, &res);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EPERM);
    OK(fx_ingest(s1.n, &ox, 0, ox.n, &res));
    OK(fx_ingest(s1.n, &ev, 0, ev.n, &res));
    assert_int_equal(res.stored, 1); /* the evidence op itself is x's op */
    assert_int_equal(fx_head_seq(s1.n, v.id.pk), 6);
    assert_int_equal(forks_of(s1.n), 0);

    /* s2: the forged op and the evidence before the vehicle's real ops */
    reader(&s2);
    OK(fx_ingest(s2.n, &oc, 0, oc.n, &res));
    ingest_one(s2.n, &ov, 0, &res);
    ingest_one(s2.n, &forged, 0, &res);
    assert_int_equal(res.err, FM_EPERM);
    OK(fx_ingest(s2.n, &ox, 0, ox.n, &res));
    OK(fx_ingest(s2.n, &ev, 0, ev.n, &res));
    OK(fx_ingest(s2.n, &ov, 0, ov.n, &res));
    assert_int_equal(fx_head_seq(s2.n, v.id.pk), 6);

    /* s3: the forged op in one batch with the real ones (a bundle) */
    reader(&s3);
    struct fx_ops all = {0};
    OK(fx_ops_add(&all, forged.ops[0], forged.lens[0]));
    for (size_t i = 0; i < ov.n; i++)
        OK(fx_ops_add(&all, ov.ops[i], ov.lens[i]));
    OK(fx_ingest(s3.n, &oc, 0, oc.n, &res));
    OK(fx_ingest(s3.n, &all, 0, all.n, &res));
    OK(fx_ingest(s3.n, &all, 0, all.n, &res)); /* sync offers what is missing again */
    OK(fx_ingest(s3.n, &ox, 0, ox.n, &res));
    OK(fx_ingest(s3.n, &ev, 0, ev.n, &res));
    assert_int_equal(fx_head_seq(s3.n, v.id.pk), 6);
    assert_int_equal(forks_of(s3.n), 0);

    OK(fx_ingest(s3.n, &ox, 0, ox.n, &res));
    OK(fx_ingest(s2.n, &ox, 0, ox.n, &res));
    assert_int_equal(fx_digest_eq(s1.n, s2.n), 1);
    assert_int_equal(fx_digest_eq(s1.n, s3.n), 1);

    /* the vehicle hears all of it and may still sign */
    OK(fx_ingest(v.n, &ox, 0, ox.n, &res));
    OK(fx_ingest(v.n, &ev, 0, ev.n, &res));
    ingest_one(v.n, &forged, 0, &res);
    struct fm_self_state self;
    OK(fm_node_self_state(v.n, &self));
    assert_true(self.may_sign);
    OK(fm_node_incident_note(v.n, inc, "still writing"));
    assert_int_equal(fx_head_seq(v.n, v.id.pk), 7);

    fx_ops_free(&oc);
    fx_ops_free(&ov);
    fx_ops_free(&ox);
    fx_ops_free(&forged);
    fx_ops_free(&ev);
    fx_ops_free(&all);
    fx_done(&c);
    fx_done(&v);
    fx_done(&x);
    fx_done(&s1);
    fx_done(&s2);
    fx_done(&s3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revocation_encoding),
        cmocka_unit_test(test_revoked_key_cannot_rewrite_history),
        cmocka_unit_test(test_refused_op_never_wins_a_fork),
    };
    return fx_node_main("integrity", tests, sizeof tests / sizeof tests[0]);
}
