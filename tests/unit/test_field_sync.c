/*
 * test_field_sync.c — the node side of field sync on real stores.
 *
 * Soft state: positions are last-writer-wins whatever the arrival order,
 * a tampered, unknown-author, revoked or far-future record is refused,
 * the store keeps one record per unit, and a unit's listed position is
 * the soft one when newer. Forks: two stores that see the two branches of
 * a forked author in opposite orders settle on the same op and the same
 * digest, keep the evidence, and a third store that only sees the
 * evidence op (and the losing branch) settles the same way. The guard:
 * a store behind its own identity's log refuses to sign. Clock: ops
 * stamped beyond max_skew are stored but flagged and do not move the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#define OK(x) assert_int_equal((x), FM_OK)

static struct fx_org org;

static int setup(void **state)
{
    (void)state;
    return fx_org_init(&org) == FM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fx_org_done(&org);
    return 0;
}

static void author(struct fx_node *x, const char *name)
{
    OK(fx_author(&org, x, name));
    OK(fx_open(x, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

/* All soft records of n, as separate buffers. */
static size_t soft_all(struct fm_node *n, struct fm_buf *b, const uint8_t **recs, size_t *lens,
                       size_t max)
{
    size_t count = 0, pos = 0, k = 0;
    uint64_t last = 0;
    fm_buf_reset(b);
    OK(fm_node_soft_read(n, 0, 1u << 20, b, &count, &last));
    while (pos + 2 <= b->len && k < max) {
        size_t l = (size_t)b->data[pos] << 8 | b->data[pos + 1];
        recs[k] = b->data + pos + 2;
        lens[k++] = l;
        pos += 2 + l;
    }
    assert_int_equal(k, count);
    return k;
}

static void test_soft_positions(void **state)
{
    (void)state;
    struct fx_node a, b, c, d;
    struct fm_ingest_result res;
    char unit[FM_ID_MAX];
    struct fm_buf buf;
    const uint8_t *recs[16];
    size_t lens[16], stored;
    author(&a, "a");
    author(&b, "b");
    author(&c, "c");
    author(&d, "d");
    fm_buf_init(&buf, 1u << 20);
    struct fm_unit_new un = {.name = "Engine 1", .department = "fire", .kind = "engine", .tier = 1};
    OK(fm_node_unit_register(a.n, &un, unit));
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1};
    char inc[FM_ID_MAX];
    OK(fm_node_incident_report(b.n, &in, inc)); /* b's log: it is known to others */
    OK(fx_sync(a.n, b.n, &res));
    OK(fx_sync(a.n, c.n, &res));
    OK(fx_sync(b.n, c.n, &res));
    OK(fx_sync(b.n, a.n, &res));
    /* a then b report positions of the same unit: b's is newer */
    OK(fm_node_soft_position(a.n, unit, 10, 20));
    OK(fm_node_soft_position(a.n, unit, 11, 21)); /* replaces a's first */
    usleep(5000); /* b's clock reads a later millisecond */
    OK(fm_node_soft_position(b.n, unit, 30, 40));
    size_t na = soft_all(a.n, &buf, recs, lens, 16);
    assert_int_equal(na, 1); /* one record per unit */
    uint8_t ra[512];
    size_t la = lens[0];
    memcpy(ra, recs[0], la);
    size_t nb = soft_all(b.n, &buf, recs, lens, 16);
    assert_int_equal(nb, 1);
    uint8_t rb[512];
    size_t lb = lens[0];
    memcpy(rb, recs[0], lb);
    /* c gets a's then b's, the other order at a: both end at b's */
    const uint8_t *p[2] = {ra, rb};
    size_t l[2] = {la, lb};
    OK(fm_node_soft_ingest(c.n, p, l, 2, &stored));
    assert_int_equal(stored, 2);
    const uint8_t *q[1] = {rb};
    OK(fm_node_soft_ingest(a.n, q, &lb, 1, &stored));
    assert_int_equal(stored, 1);
    const uint8_t *r1[1] = {ra};
    OK(fm_node_soft_ingest(a.n, r1, &la, 1, &stored)); /* older: ignored */
    assert_int_equal(stored, 0);
    struct fm_unit ua, uc;
    OK(fm_node_unit_get(a.n, unit, &ua));
    OK(fm_node_unit_get(c.n, unit, &uc));
    assert_true(ua.has_position && uc.has_position);
    assert_int_equal(ua.lat_e7, 30);
    assert_int_equal(uc.lat_e7, 30);
    assert_int_equal(ua.position_hlc, uc.position_hlc);
    /* a tampered record is refused; d does not know the author: refused */
    uint8_t bad[512];
    memcpy(bad, rb, lb);
    bad[lb - 70] ^= 1; /* inside the coordinates */
    const uint8_t *pb[1] = {bad};
    struct fx_node e;
    author(&e, "e");
    OK(fx_sync(a.n, e.n, &res));
    OK(fm_node_soft_ingest(e.n, pb, &lb, 1, &stored));
    assert_int_equal(stored, 0);
    OK(fm_node_soft_ingest(d.n, q, &lb, 1, &stored));
    assert_int_equal(stored, 0);
    OK(fm_node_soft_ingest(e.n, q, &lb, 1, &stored));
    assert_int_equal(stored, 1);
    /* soft state stays out of the digest */
    OK(fx_sync(a.n, c.n, &res));
    OK(fx_sync(c.n, a.n, &res));
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);
    /* presence: authors_seen knows when a node was last alive */
    OK(fm_node_soft_presence(b.n));
    soft_all(b.n, &buf, recs, lens, 16);
    OK(fm_node_soft_ingest(a.n, recs, lens, 2, &stored));
    struct fm_author_seen *seen;
    size_t ns;
    OK(fm_node_authors_seen(a.n, &seen, &ns));
    bool found = false;
    for (size_t i = 0; i < ns; i++)
        if (memcmp(seen[i].pk, b.id.pk, FM_PK_LEN) == 0) {
            found = true;
            assert_true(seen[i].last_presence_ms > 0);
            assert_true(fm_now_ms() - seen[i].last_seen_ms < 60000);
        }
    assert_true(found);
    free(seen);
    fm_buf_release(&buf);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c);
    fx_done(&d);
    fx_done(&e);
}

/* Builds author x's op at seq after `prev` (hash), stamped hlc. */
static void build(struct fx_node *x, uint64_t seq, const uint8_t prev[FM_HASH_LEN], uint64_t hlc,
                  const char *desc, struct fx_ops *out)
{
    struct payload pl, check;
    struct fm_buf b, op;
    memset(&pl, 0, sizeof pl);
    pl.log.kind = OP_INC_REPORT;
    fm_strlcpy(pl.category, "fire", sizeof pl.category);
    pl.priority = 3;
    fm_strlcpy(pl.desc, desc, sizeof pl.desc);
    pl.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON) |
                 PT_BIT(PT_DESC);
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    fm_buf_init(&op, FM_OP_MAX_LEN);
    OK(payload_encode(&pl, &b, &check));
    OK(fm_op_build(&op, &x->id, OP_INC_REPORT, seq, prev, hlc, b.data, (uint32_t)b.len));
    OK(fx_ops_add(out, op.data, op.len));
    fm_buf_release(&b);
    fm_buf_release(&op);
}

struct count_ctx {
    size_t n;
    struct fm_fork_info last;
};

static int count_fork(void *ctx, const struct fm_fork_info *f)
{
    struct count_ctx *c = ctx;
    c->n++;
    c->last = *f;
    return 0;
}

static void test_fork_settles_everywhere(void **state)
{
    (void)state;
    struct fx_node x, p, q, r;
    struct fm_ingest_result res;
    struct fx_ops base = {0}, br1 = {0}, br2 = {0};
    char id[FM_ID_MAX];
    author(&x, "forker");
    author(&p, "p");
    author(&q, "q");
    author(&r, "r");
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1};
    OK(fm_node_incident_report(x.n, &in, id));
    OK(fx_collect(x.n, NULL, &base)); /* seq 1 cert, 2 report */
    struct fm_op last;
    uint8_t h2[FM_HASH_LEN];
    OK(fm_op_decode(&last, base.ops[1], base.lens[1]));
    fm_op_hash(&last, h2);
    /* two branches from seq 3: br1 older (the original), br2 newer */
    build(&x, 3, h2, last.hlc + 10, "original", &br1);
    build(&x, 3, h2, last.hlc + 20, "after restore", &br2);
    /* p sees br1 then br2; q sees br2 then br1 */
    OK(fx_ingest(p.n, &base, 0, base.n, &res));
    OK(fx_ingest(q.n, &base, 0, base.n, &res));
    OK(fx_ingest(p.n, &br1, 0, 1, &res));
    OK(fx_ingest(p.n, &br2, 0, 1, &res));
    assert_int_equal(res.err, FM_EFORK);
    OK(fx_ingest(q.n, &br2, 0, 1, &res));
    assert_int_equal(res.stored, 1);
    OK(fx_ingest(q.n, &br1, 0, 1, &res));
    assert_int_equal(res.err, FM_EFORK);
    /* q dropped its branch; the kept op can come again */
    OK(fx_ingest(q.n, &br1, 0, 1, &res));
    assert_int_equal(res.stored, 1);
    OK(fx_ingest(q.n, &br2, 0, 1, &res)); /* and the dropped one stays out */
    assert_int_equal(res.err, FM_EFORK);
    assert_int_equal(fx_digest_eq(p.n, q.n), 1);
    struct count_ctx cp = {0}, cq = {0};
    OK(fm_node_forks(p.n, count_fork, &cp));
    OK(fm_node_forks(q.n, count_fork, &cq));
    assert_int_equal(cp.n, 1);
    assert_int_equal(cq.n, 1);
    assert_memory_equal(cp.last.kept, cq.last.kept, FM_HASH_LEN);
    assert_int_equal(cp.last.seq, 3);
    /* p publishes the evidence; r holds the losing branch and learns of
     * the fork only from the evidence op */
    size_t published = 0;
    OK(fm_node_fork_publish(p.n, &published));
    assert_int_equal(published, 1);
    OK(fm_node_fork_publish(p.n, &published));
    assert_int_equal(published, 0); /* once */
    OK(fx_ingest(r.n, &base, 0, base.n, &res));
    OK(fx_ingest(r.n, &br2, 0, 1, &res));
    struct fx_ops pops = {0};
    OK(fx_collect(p.n, p.id.pk, &pops));
    OK(fx_ingest(r.n, &pops, 0, pops.n, &res));
    OK(fx_ingest(r.n, &br1, 0, 1, &res));
    assert_int_equal(res.stored, 1);
    struct fx_ops rall = {0}, pall = {0};
    OK(fx_sync(p.n, r.n, &res));
    OK(fx_sync(r.n, p.n, &res));
    assert_int_equal(fx_digest_eq(p.n, r.n), 1);
    OK(fx_collect(p.n, NULL, &pall));
    OK(fx_collect(r.n, NULL, &rall));
    assert_int_equal(pall.n, rall.n);
    /* the guard: x's store behind its own log (peers hold more) refuses */
    OK(fm_node_own_claim(x.n, 9));
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    OK(fm_node_own_claim(x.n, 0));
    OK(fm_node_incident_report(x.n, &in, id));
    fx_ops_free(&base);
    fx_ops_free(&br1);
    fx_ops_free(&br2);
    fx_ops_free(&pops);
    fx_ops_free(&rall);
    fx_ops_free(&pall);
    fx_done(&x);
    fx_done(&p);
    fx_done(&q);
    fx_done(&r);
}

static void test_future_ops_flagged(void **state)
{
    (void)state;
    struct fx_node f, n;
    struct fm_ingest_result res;
    struct fx_ops ops = {0};
    author(&f, "fast");
    author(&n, "normal");
    char id[FM_ID_MAX];
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1};
    OK(fm_node_incident_report(f.n, &in, id));
    OK(fx_collect(f.n, NULL, &ops));
    struct fm_op first, cert;
    uint8_t h[FM_HASH_LEN];
    OK(fm_op_decode(&first, ops.ops[1], ops.lens[1]));
    OK(fm_op_decode(&cert, ops.ops[0], ops.lens[0]));
    fm_op_hash(&first, h);
    uint64_t ahead = (fm_now_ms() + 2 * 3600 * 1000) << 16;
    build(&f, 3, h, ahead, "two hours ahead", &ops);
    OK(fx_ingest(n.n, &ops, 0, ops.n, &res));
    assert_int_equal(res.stored, 3); /* stored: every node keeps the same op set */
    struct fm_node_stats st;
    OK(fm_node_stats(n.n, &st));
    assert_true(hlc_ms(st.hlc) < fm_now_ms() + 60000); /* clock not dragged */
    struct fm_author_seen *seen;
    size_t ns;
    OK(fm_node_authors_seen(n.n, &seen, &ns));
    for (size_t i = 0; i < ns; i++) {
        if (memcmp(seen[i].pk, f.id.pk, FM_PK_LEN) == 0) {
            assert_int_equal(seen[i].future_ops, 1);
            assert_true(seen[i].future_max_ms > 7000000);
            assert_true(seen[i].last_seen_ms <= fm_now_ms() + 1000); /* capped */
        }
    }
    free(seen);
    /* the next local write is stamped by our clock, not two hours ahead */
    OK(fm_node_incident_report(n.n, &in, id));
    OK(fm_node_stats(n.n, &st));
    assert_true(hlc_ms(st.hlc) < fm_now_ms() + 60000);
    fx_ops_free(&ops);
    fx_done(&f);
    fx_done(&n);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_positions),
        cmocka_unit_test(test_fork_settles_everywhere),
        cmocka_unit_test(test_future_ops_flagged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
