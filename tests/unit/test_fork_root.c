/*
 * test_fork_root.c — a fork is settled at its root only.
 *
 * Two ops of one author at one seq with the same prev are the root of a
 * fork and settled by (hlc, hash) everywhere. Two ops with different
 * prevs are a consequence of a fork lower down (a restored node that
 * settled and re-entered its lost ops collides with its own cut branch):
 * they are kept as evidence but keep nothing out, the chain rules decide.
 *
 * (1) The restored-node scenario: P holds the original log 1..6, the
 * restored N writes 6', 7', 8', the stale Q holds them, N settles at 6 and
 * re-enters its three ops as 7, 8, 9; Q meets the new 7 and publishes that
 * pair. A fresh store T takes the ops and evidence of P, Q and N in many
 * orders (a fixed worst one first, then shuffled with a printed seed;
 * FM_SEED=n replays one) and always ends with N's whole live log and the
 * digest of the others. (2) A pair with different prevs alone never
 * changes what a store accepts; the root pair later still settles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/node_fixture.h"
#include "tests/unit/node_test_util.h"

/* Closes x, copies its data.mdb to or from save, reopens it. */
static void snapshot(struct fx_node *x, const char *save, bool restore)
{
    fm_node_close(&x->n);
    fx_store_copy(x, save, restore);
    OK(fx_open(x, FM_OPEN_IDENTITY | NOSYNC));
}

static void report(struct fx_node *x, const char *desc)
{
    char id[FM_ID_MAX];
    struct fm_incident_new in = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1, .desc = desc};
    OK(fm_node_incident_report(x->n, &in, id));
}

static bool has_desc(struct fm_node *n, const char *desc)
{
    struct ids l;
    list_incidents(n, -1, NULL, &l);
    for (size_t i = 0; i < l.n; i++) {
        struct fm_incident inc;
        OK(fm_node_incident_get(n, l.id[i], &inc));
        if (strcmp(inc.desc, desc) == 0)
            return true;
    }
    return false;
}

/* xorshift64*: the test's own shuffle, replayable from its seed */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

#define SOURCES 3
#define CHUNKS (SOURCES * 3)

/* What a source store holds of one author, delivered in one ingest. */
struct chunk {
    struct fx_ops ops;
    char name[16];
};

/* Delivers the chunks to t in order[] for `rounds` rounds (a chunk that
 * came too early, before a gap was filled or a root settled, comes again
 * the next round, as sync would pull it again). */
static void deliver(struct fm_node *t, struct chunk *ch, const size_t *order, int rounds)
{
    struct fm_ingest_result res;
    for (int r = 0; r < rounds; r++)
        for (size_t k = 0; k < CHUNKS; k++)
            OK(fx_ingest(t, &ch[order[k]].ops, 0, ch[order[k]].ops.n, &res));
}

static void test_restored_node_any_order(void **state)
{
    (void)state;
    struct fx_node p, q, n;
    struct fm_ingest_result res;
    struct fm_self_state self;
    char save[sizeof n.dir + 16];
    size_t count;
    fx_open_author(&n, "restored");
    fx_open_author(&p, "original-holder");
    fx_open_author(&q, "stale");
    /* N's log 1..5 (certificate + four reports), backed up; 6 reaches P */
    for (int i = 0; i < 4; i++)
        report(&n, "base");
    snprintf(save, sizeof save, "%s/backup.mdb", n.dir);
    snapshot(&n, save, false);
    report(&n, "original six");
    OK(fx_sync(n.n, p.n, &res));
    assert_int_equal(fx_head_seq(p.n, n.id.pk), 6);
    /* restored: 6', 7', 8' (stamped later), which only Q receives */
    snapshot(&n, save, true);
    sleep_ms(5);
    report(&n, "lost a");
    report(&n, "lost b");
    report(&n, "lost c");
    OK(fx_sync(n.n, q.n, &res));
    assert_int_equal(fx_head_seq(q.n, n.id.pk), 8);
    /* N settles at 6 (P's op is older), recovers it, re-enters 7, 8, 9 */
    OK(fx_sync(p.n, n.n, &res));
    OK(fx_sync(p.n, n.n, &res));
    OK(fm_node_self_state(n.n, &self));
    assert_int_equal(self.head, 6);
    assert_true(self.may_sign);
    OK(fm_node_fork_reenter(n.n, &count));
    assert_int_equal(count, 3);
    assert_int_equal(fx_head_seq(n.n, n.id.pk), 9);
    OK(fm_node_fork_publish(n.n, &count)); /* the root pair (6, 6') */
    assert_int_equal(count, 1);
    uint64_t live = fx_head_seq(n.n, n.id.pk);
    /* stale Q meets the new 7 where it holds 7': a pair with different
     * prevs, which it publishes */
    struct fx_ops nops = {0};
    OK(fx_collect(n.n, n.id.pk, &nops));
    OK(fx_ingest(q.n, &nops, 6, 1, &res));
    assert_int_equal(res.err, FM_EFORK);
    OK(fm_node_fork_publish(q.n, &count));
    assert_int_equal(count, 1);
    assert_int_equal(fx_head_seq(q.n, n.id.pk), 8); /* it settled nothing */

    struct fx_node *src[SOURCES] = {&p, &q, &n};
    const uint8_t *who[3] = {n.id.pk, p.id.pk, q.id.pk};
    struct chunk ch[CHUNKS];
    memset(ch, 0, sizeof ch);
    for (size_t s = 0; s < SOURCES; s++)
        for (size_t a = 0; a < 3; a++) {
            struct chunk *c = &ch[s * 3 + a];
            OK(fx_collect(src[s]->n, who[a], &c->ops));
            /* "Q:N": what Q holds of N's log */
            snprintf(c->name, sizeof c->name, "%c:%c", "PQN"[s], "NPQ"[a]);
        }

    /* every store settles on one digest: P and Q from N and each other */
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < SOURCES; i++)
            for (size_t j = 0; j < SOURCES; j++)
                if (i != j)
                    OK(fx_sync(src[i]->n, src[j]->n, &res));
    assert_int_equal(fx_digest_eq(p.n, n.n), 1);
    assert_int_equal(fx_digest_eq(q.n, n.n), 1);
    assert_int_equal(fx_head_seq(q.n, n.id.pk), live);

    /* T: Q's evidence first, then P's and N's logs, Q's view of N last
     * (the order that stuck T when every pair was settled), then shuffles */
    uint64_t seed = 0;
    const char *env = getenv("FM_SEED");
    if (env && fm_parse_u64(env, &seed) != FM_OK)
        fail_msg("FM_SEED must be a number");
    int trials = env ? 1 : 12;
    if (!env)
        seed = (uint64_t)fm_now_ms() ^ (uint64_t)getpid() << 32;
    for (int trial = 0; trial <= trials; trial++) {
        size_t order[CHUNKS] = {5, 8, 0, 6, 1, 2, 4, 7, 3}; /* Q:Q, N:Q, P:N, N:N, ... Q:N */
        uint64_t s = seed + (uint64_t)trial;
        if (trial > 0) {
            printf("# trial seed %llu (FM_SEED=%llu replays it)\n", (unsigned long long)s,
                   (unsigned long long)s);
            uint64_t st = s ? s : 1;
            for (size_t k = 0; k < CHUNKS; k++)
                order[k] = k;
            for (size_t k = CHUNKS - 1; k > 0; k--) {
                size_t j = (size_t)(rnd(&st) % (k + 1)), tmp = order[k];
                order[k] = order[j];
                order[j] = tmp;
            }
        }
        if (env && trial == 0)
            continue;
        struct fx_node t;
        fx_open_author(&t, "third");
        deliver(t.n, ch, order, 4);
        if (fx_head_seq(t.n, n.id.pk) != live || fx_digest_eq(t.n, n.n) != 1) {
            for (size_t k = 0; k < CHUNKS; k++)
                printf("# order %zu: %s\n", k, ch[order[k]].name);
            fail_msg("T holds N up to %llu of %llu (seed %llu)",
                     (unsigned long long)fx_head_seq(t.n, n.id.pk), (unsigned long long)live,
                     (unsigned long long)s);
        }
        assert_true(has_desc(t.n, "original six"));
        assert_true(has_desc(t.n, "lost a") && has_desc(t.n, "lost c"));
        fx_done(&t);
    }
    /* N was never stopped: it still signs, and its new op is taken */
    report(&n, "after all");
    OK(fx_sync(n.n, q.n, &res));
    assert_int_equal(res.rejected, 0);
    assert_int_equal(fx_digest_eq(q.n, n.n), 1);
    for (size_t k = 0; k < CHUNKS; k++)
        fx_ops_free(&ch[k].ops);
    fx_ops_free(&nops);
    fx_done(&n);
    fx_done(&p);
    fx_done(&q);
}

/* Author x's report at seq after prev (hash), stamped hlc. */
static void build(struct fx_node *x, uint64_t seq, const uint8_t prev[FM_HASH_LEN], uint64_t hlc,
                  const char *desc, struct fx_ops *out)
{
    struct payload pl, check;
    struct fm_buf b;
    report_payload(&pl, "fire");
    fm_strlcpy(pl.desc, desc, sizeof pl.desc);
    pl.present |= PT_BIT(PT_DESC);
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    build_op(out, &x->id, OP_INC_REPORT, seq, prev, hlc, b.data, b.len);
    fm_buf_release(&b);
}

static void test_pair_below_root_settles_nothing(void **state)
{
    (void)state;
    struct fx_node x, v, u1, u2, u3;
    struct fm_ingest_result res;
    struct fx_ops base = {0}, a = {0}, b = {0}, vops = {0};
    uint8_t h3[FM_HASH_LEN], h4a[FM_HASH_LEN], h4b[FM_HASH_LEN];
    struct fm_op last;
    size_t count;
    fx_open_author(&x, "forker");
    fx_open_author(&v, "witness");
    fx_open_author(&u1, "u1");
    fx_open_author(&u2, "u2");
    fx_open_author(&u3, "u3");
    report(&x, "one");
    report(&x, "two");
    OK(fx_collect(x.n, NULL, &base)); /* seq 1 cert, 2, 3 */
    OK(fm_op_decode(&last, base.ops[2], base.lens[2]));
    op_hash_of(&base, 2, h3);
    /* root at 4: 4a older. At 5 the pair (5a, 5b) has different prevs
     * and 5b the older stamp: settled by stamp, it would keep 5b and
     * refuse the live 5a */
    build(&x, 4, h3, last.hlc + 10, "4a", &a);
    build(&x, 4, h3, last.hlc + 20, "4b", &b);
    op_hash_of(&a, 0, h4a);
    op_hash_of(&b, 0, h4b);
    build(&x, 5, h4a, last.hlc + 100, "5a", &a);
    build(&x, 5, h4b, last.hlc + 30, "5b", &b);
    /* v holds branch a and meets 5b alone: evidence of the pair at 5 */
    OK(fx_ingest(v.n, &base, 0, base.n, &res));
    OK(fx_ingest(v.n, &a, 0, a.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(v.n, &b, 1, 1, &res));
    assert_int_equal(res.err, FM_EFORK);
    assert_int_equal(fx_head_seq(v.n, x.id.pk), 5); /* nothing cut */
    OK(fm_node_fork_publish(v.n, &count));
    assert_int_equal(count, 1);
    OK(fx_collect(v.n, v.id.pk, &vops)); /* cert + evidence */
    /* u1: the evidence first, then branch a: all taken, like u2 without it */
    OK(fx_ingest(u1.n, &vops, 0, vops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(u1.n, &base, 0, base.n, &res));
    OK(fx_ingest(u1.n, &a, 0, a.n, &res));
    assert_int_equal(res.stored, 2);
    assert_int_equal(fx_head_seq(u1.n, x.id.pk), 5);
    OK(fx_ingest(u2.n, &base, 0, base.n, &res));
    OK(fx_ingest(u2.n, &a, 0, a.n, &res));
    OK(fx_ingest(u2.n, &vops, 0, vops.n, &res));
    assert_int_equal(fx_head_seq(u2.n, x.id.pk), 5);
    assert_int_equal(fx_digest_eq(u1.n, u2.n), 1);
    /* u3: the evidence, then branch b: taken too (the chain decides) */
    OK(fx_ingest(u3.n, &vops, 0, vops.n, &res));
    OK(fx_ingest(u3.n, &base, 0, base.n, &res));
    OK(fx_ingest(u3.n, &b, 0, b.n, &res));
    assert_int_equal(res.stored, 2);
    /* the root pair settles: u3 drops b from 4 on and takes a */
    OK(fx_ingest(u3.n, &a, 0, 1, &res));
    assert_int_equal(res.err, FM_EFORK);
    assert_int_equal(fx_head_seq(u3.n, x.id.pk), 3);
    OK(fx_ingest(u3.n, &a, 0, a.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(u3.n, &b, 0, b.n, &res)); /* b stays out: 4b lost the root */
    assert_int_equal(res.stored, 0);
    assert_int_equal(fx_head_seq(u3.n, x.id.pk), 5);
    assert_int_equal(fx_digest_eq(u1.n, u3.n), 1);
    fx_ops_free(&base);
    fx_ops_free(&a);
    fx_ops_free(&b);
    fx_ops_free(&vops);
    fx_done(&x);
    fx_done(&v);
    fx_done(&u1);
    fx_done(&u2);
    fx_done(&u3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restored_node_any_order),
        cmocka_unit_test(test_pair_below_root_settles_nothing),
    };
    return fx_node_main("fork_root", tests, sizeof tests / sizeof tests[0]);
}
