/*
 * test_gossip_rules.c — two rules of the gossip (sync/gossip.c; docs/sync.md
 * "Protocol") on three engines over an in-test network (fm_sync_new_io)
 * and the in-memory store.
 *
 * Catch-up is not gossiped on (mark_catchup).
 * Three engines in a line A - B - C over an in-test network
 * (fm_sync_new_io) and the in-memory store. A holds ops that B and C lack;
 * whatever C gets comes through B. What B does with ops it pulled from A
 * by anti-entropy:
 *  - old ops (stamped a minute before the engines' clock) of 12 authors:
 *    bulk catch-up, so B pushes none of them to C; C pulls them from B by
 *    its own anti-entropy and everything converges;
 *  - the same for 2 authors (a repair, below SYNC_CATCHUP_AUTHORS): B
 *    pushes them on to C;
 *  - 12 authors of live ops (stamped now): B pushes them on to C.
 *
 * A quiet link is pruned, a busy one is not (SYNC_PRUNE_QUIET_MS). In a
 * triangle A, B, C where all three write at once, every op reaches each
 * node twice (from its writer, and relayed by the third), yet every link
 * had just brought a new op, so none is pruned; when only A writes three
 * seconds later, B's relay to C is a duplicate on a link quiet for longer
 * than 2 s, and that link is pruned while A's stays. (Those engines speak
 * wire version 4: between version-5 engines the spanning tree decides.)
 *
 * The spanning tree of version 5 (sync/tree.c): a triangle settles into a
 * tree rooted at the smallest key with no duplicate when all three write;
 * when the root stops the other two make their own tree; forged or
 * malformed TREE frames are dropped and counted, and a version-4 engine
 * drops TREE and keeps Plumtree's links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sync/sync_int.h"
#include "memstore.h"

#define NNODES 3
#define NAUTH 12
#define OPS_PER_AUTHOR 4
#define WALL0 1700000000000ull /* the engines' wall clock at net.now 0 */

struct qmsg {
    int to, from;
    uint8_t *p;
    size_t n;
};

static struct {
    struct qmsg *q;
    size_t nq, cap;
    uint64_t now;
    uint8_t wire;         /* the engines' wire_version (0 = the newest) */
    size_t pushes_b_to_c; /* OPS/COPS without the reply flag, B to C */
    size_t replies_b_to_c;
} net;

struct tnode {
    int idx;
    struct fm_identity id;
    struct memstore st;
    struct fm_sync *eng;
};
static struct tnode nodes[NNODES];
static struct fm_identity authors[NAUTH];

static uint64_t t_mono(void *ctx) { (void)ctx; return net.now; }
static uint64_t t_wall(void *ctx) { (void)ctx; return WALL0 + net.now; }
static void t_random(void *ctx, void *o, size_t n) { (void)ctx; memset(o, 0, n); }

static int t_send(void *ctx, const uint8_t pk[FM_PK_LEN], const uint8_t *p, size_t n)
{
    struct tnode *from = ctx;
    int to = 0;
    while (to < NNODES && memcmp(pk, nodes[to].id.pk, FM_PK_LEN) != 0)
        to++;
    assert_true(to < NNODES);
    bool ops = n >= 3 && ((p[0] == 1 && p[1] == 5) || ((p[0] == 3 || p[0] == 4) && p[1] == 9));
    if (ops && from->idx == 1 && to == 2) {
        if (p[2] & 1)
            net.replies_b_to_c++;
        else
            net.pushes_b_to_c++;
    }
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

static int setup(void **state)
{
    (void)state;
    assert_int_equal(fm_crypto_init(), FM_OK);
    for (int a = 0; a < NAUTH; a++)
        assert_int_equal(fm_identity_generate(&authors[a]), FM_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int a = 0; a < NAUTH; a++)
        fm_identity_release(&authors[a]);
    return 0;
}

/* A holds OPS_PER_AUTHOR ops of each of the first `nauth` authors,
 * stamped `age_ms` before the engines' clock at the start. */
static void fill_a(int nauth, uint64_t age_ms)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    for (int a = 0; a < nauth; a++) {
        struct ms_log *l = ms_log_find(&nodes[0].st, authors[a].pk, true);
        uint8_t zero[FM_HASH_LEN] = {0};
        assert_non_null(l);
        for (uint64_t s = 1; s <= OPS_PER_AUTHOR; s++) {
            uint8_t payload[64];
            memset(payload, (int)(a * 16 + s), sizeof payload);
            assert_int_equal(fm_op_build(&b, &authors[a], 7, s, s == 1 ? zero : l->head,
                                         ((WALL0 - age_ms) << 16) + s, payload, sizeof payload),
                             FM_OK);
            assert_int_equal(ms_append(l, b.data, b.len), FM_OK);
        }
    }
    fm_buf_release(&b);
}

/* A line A - B - C; every node admits the others and the authors. */
/* Each node's rank as every store tells it (fm_sync_store.root_rank):
 * 0 for all unless a test says otherwise, so the smallest key is root. */
static int node_rank[NNODES];

static void line_start(void)
{
    memset(&net, 0, sizeof(net));
    memset(node_rank, 0, sizeof(node_rank));
    net.now = 1000; /* a peer heard at monotonic 0 reads as never heard */
    for (int i = 0; i < NNODES; i++) {
        memset(&nodes[i].st, 0, sizeof(nodes[i].st));
        nodes[i].idx = i;
        assert_int_equal(fm_identity_generate(&nodes[i].id), FM_OK);
    }
    for (int i = 0; i < NNODES; i++) {
        for (int j = 0; j < NNODES; j++)
            ms_enroll(&nodes[i].st, nodes[j].id.pk);
        for (int a = 0; a < NAUTH; a++)
            ms_enroll(&nodes[i].st, authors[a].pk);
    }
}

static int t_root_rank(void *ctx, const uint8_t prefix[8])
{
    (void)ctx;
    for (int i = 0; i < NNODES; i++)
        if (memcmp(nodes[i].id.pk, prefix, 8) == 0)
            return node_rank[i];
    return FM_SYNC_RANK_LAST;
}

static void engine_start(int i)
{
    struct tnode *t = &nodes[i];
    struct fm_sync_config cfg = {.id = &t->id, .wire_version = net.wire};
    struct fm_sync_store st = ms_store(&t->st);
    st.root_rank = t_root_rank;
    struct fm_sync_io io = {t, t_mono, t_wall, t_random, t_send};
    assert_int_equal(fm_sync_new_io(&t->eng, &cfg, &st, &io), FM_OK);
}

/* Node i's engine lists node j as a peer. */
static void peer_add(int i, int j)
{
    static const char *const names[] = {"a", "b", "c"};
    assert_int_equal(fm_sync_add_peer(nodes[i].eng, NULL, nodes[j].id.pk, names[j]), FM_OK);
}

static void link(int i, int j)
{
    peer_add(i, j);
    peer_add(j, i);
}

static void line_stop(void)
{
    for (int i = 0; i < NNODES; i++) {
        if (nodes[i].eng)
            fm_sync_destroy(&nodes[i].eng);
        ms_free(&nodes[i].st);
        fm_identity_release(&nodes[i].id);
    }
    for (size_t k = 0; k < net.nq; k++)
        free(net.q[k].p);
    free(net.q);
    memset(&net, 0, sizeof(net));
}

/* Steps and delivers, 5 ms a round, for `ms` or (until) until all stores
 * are equal. */
static bool run(uint64_t ms, bool until)
{
    uint64_t end = net.now + ms;
    while (net.now < end) {
        uint64_t next;
        for (int i = 0; i < NNODES; i++)
            if (nodes[i].eng)
                assert_int_equal(fm_sync_io_step(nodes[i].eng, &next), FM_OK);
        for (size_t k = 0; k < net.nq; k++) { /* grows while delivering */
            struct qmsg m = net.q[k];
            if (nodes[m.to].eng == NULL) { /* a stopped engine: into the void */
                free(m.p);
                continue;
            }
            assert_int_equal(fm_sync_io_deliver(nodes[m.to].eng, nodes[m.from].id.pk, m.p, m.n),
                             FM_OK);
            free(m.p);
        }
        net.nq = 0;
        if (until && ms_equal(&nodes[0].st, &nodes[1].st) && ms_equal(&nodes[1].st, &nodes[2].st))
            return true;
        net.now += 5;
    }
    return !until;
}

static void run_case(int nauth, uint64_t age_ms, bool expect_pushes)
{
    line_start();
    fill_a(nauth, age_ms);
    /* B and C settle first (their link knows both vectors), then A comes:
     * B catches up from A by anti-entropy */
    engine_start(1);
    engine_start(2);
    link(1, 2);
    assert_true(run(500, false));
    engine_start(0);
    link(0, 1);
    assert_true(run(60000, true));
    assert_int_equal(nodes[2].st.nlogs, (size_t)nauth);
    if (expect_pushes)
        assert_true(net.pushes_b_to_c > 0);
    else {
        assert_int_equal(net.pushes_b_to_c, 0);
        assert_true(net.replies_b_to_c > 0); /* C pulled them from B */
    }
    line_stop();
}

static void test_old_bulk_not_pushed_on(void **state)
{
    (void)state;
    run_case(NAUTH, 60000, false);
}

static void test_small_repair_pushed_on(void **state)
{
    (void)state;
    run_case(2, 60000, true);
}

static void test_live_bulk_pushed_on(void **state)
{
    (void)state;
    run_case(NAUTH, 0, true);
}

/* Node i's view of its neighbour j. */
static struct fm_sync_peer_info peer_at(int i, int j)
{
    struct fm_sync_status st;
    struct fm_sync_peer_info *pi = NULL, out;
    size_t n = 0;
    memset(&out, 0, sizeof out);
    assert_int_equal(fm_sync_peers(nodes[i].eng, &st, &pi, &n), FM_OK);
    for (size_t k = 0; k < n; k++)
        if (memcmp(pi[k].pk, nodes[j].id.pk, FM_PK_LEN) == 0)
            out = pi[k];
    free(pi);
    return out;
}

/* Node i's view of its link to node j: eager? */
static bool eager_at(int i, int j) { return peer_at(i, j).eager; }

/* Messages node i dropped from node j and counted against it. */
static uint64_t bad_from(int i, int j) { return peer_at(i, j).bad_messages; }

static uint64_t dups_at(int i)
{
    struct fm_sync_counters k;
    fm_sync_get_counters(nodes[i].eng, &k);
    return k.ops_dup;
}

/* The three engines of wire version `wire` in a triangle, settled. */
static void triangle_start(uint8_t wire)
{
    line_start();
    net.wire = wire;
    for (int i = 0; i < NNODES; i++)
        engine_start(i);
    link(0, 1);
    link(1, 2);
    link(0, 2);
    assert_true(run(500, false));
}

static void write_live(int node)
{
    struct fm_buf b;
    struct ms_log *l = ms_log_find(&nodes[node].st, nodes[node].id.pk, true);
    uint8_t zero[FM_HASH_LEN] = {0}, payload[32] = {0};
    assert_non_null(l);
    fm_buf_init(&b, FM_OP_MAX_LEN);
    assert_int_equal(fm_op_build(&b, &nodes[node].id, 7, l->n + 1, l->n ? l->head : zero,
                                 ((WALL0 + net.now) << 16) + l->n, payload, sizeof payload),
                     FM_OK);
    assert_int_equal(ms_append(l, b.data, b.len), FM_OK);
    fm_buf_release(&b);
    fm_sync_nudge(nodes[node].eng);
}

static void test_busy_link_not_pruned(void **state)
{
    (void)state;
    triangle_start(4); /* Plumtree's links: between version-5 engines the tree decides */
    assert_true(eager_at(2, 0) && eager_at(2, 1));
    /* all three write at once: each node gets every other's op first from
     * its writer, then again relayed by the third, and every link had just
     * brought a new op: none is pruned (a plain Plumtree prunes them) */
    write_live(0);
    write_live(1);
    write_live(2);
    assert_true(run(10000, true));
    assert_int_equal(dups_at(2), 2);
    assert_true(eager_at(2, 0));
    assert_true(eager_at(2, 1));
    /* three seconds later only A writes: B's relay is a duplicate on a
     * link quiet for longer than SYNC_PRUNE_QUIET_MS, which is pruned;
     * A's link, which brought the op first, stays */
    net.now += 3000;
    write_live(0);
    assert_true(run(10000, true));
    assert_int_equal(dups_at(2), 3);
    assert_false(eager_at(2, 1));
    assert_true(eager_at(2, 0));
    line_stop();
}

/* The live node with the smallest key prefix among those in `live`. */
static int least_of(const bool live[NNODES])
{
    int least = -1;
    for (int i = 0; i < NNODES; i++)
        if (live[i] && (least < 0 || memcmp(nodes[i].id.pk, nodes[least].id.pk, 8) < 0))
            least = i;
    return least;
}

/* Every live node names root `r`, and the eager links among the live
 * nodes are exactly the tree's: both ends agree, live - 1 of them. */
static void assert_tree(const bool live[NNODES], int r)
{
    int links = 0, nlive = 0;
    for (int i = 0; i < NNODES; i++) {
        if (!live[i])
            continue;
        nlive++;
        struct fm_sync_tree_info ti;
        fm_sync_tree(nodes[i].eng, &ti);
        assert_true(ti.on);
        assert_memory_equal(ti.root, nodes[r].id.pk, 8);
        assert_int_equal(ti.hops == 0, i == r);
        for (int j = i + 1; j < NNODES; j++) {
            if (!live[j])
                continue;
            assert_int_equal(eager_at(i, j), eager_at(j, i));
            links += eager_at(i, j);
        }
    }
    assert_int_equal(links, nlive - 1);
}

/* Version 5: a triangle settles into a tree rooted at the smallest key;
 * the third link is lazy both ways. All three writing at once costs no
 * duplicate (Plumtree's triangle above took two at C), and the ops still
 * reach everyone. */
static void test_tree_triangle(void **state)
{
    (void)state;
    triangle_start(0);
    bool live[NNODES] = {true, true, true};
    int r = least_of(live);
    assert_tree(live, r);
    for (int i = 0; i < NNODES; i++)
        write_live(i);
    assert_true(run(10000, true));
    for (int i = 0; i < NNODES; i++)
        assert_int_equal(dups_at(i), 0);
    line_stop();
}

/* The root stops: once its neighbours find it silent, the other two make
 * a tree of their own, rooted at the smaller of them, and ops written
 * then reach both without a duplicate. */
static void test_tree_root_lost(void **state)
{
    (void)state;
    triangle_start(0);
    bool live[NNODES] = {true, true, true};
    int r = least_of(live);
    fm_sync_destroy(&nodes[r].eng);
    live[r] = false;
    /* the live window (2 anti-entropy rounds + 1 s) and a few beats */
    assert_true(run(12000, false));
    int r2 = least_of(live);
    assert_tree(live, r2);
    int a = r2, b = 3 - r - r2; /* the two left */
    uint64_t da = dups_at(a), db = dups_at(b);
    write_live(a);
    write_live(b);
    assert_true(run(1000, false));
    assert_int_equal(nodes[a].st.nlogs, nodes[b].st.nlogs);
    assert_true(ms_equal(&nodes[a].st, &nodes[b].st));
    assert_int_equal(dups_at(a), da);
    assert_int_equal(dups_at(b), db);
    line_stop();
}

/* The node with the largest key is a centre (rank 0), the others
 * vehicles (rank last) that learn so only after the tree has formed, as
 * when a certificate arrives late: within a few beats the tree moves to
 * the centre. The centre stops: the two vehicles root at the smaller of
 * them. It comes back: the tree moves back to it. */
static void test_tree_rank(void **state)
{
    (void)state;
    triangle_start(0);
    bool live[NNODES] = {true, true, true};
    int small = least_of(live), big = small;
    for (int i = 0; i < NNODES; i++)
        if (memcmp(nodes[i].id.pk, nodes[big].id.pk, 8) > 0)
            big = i;
    assert_tree(live, small);
    for (int i = 0; i < NNODES; i++)
        node_rank[i] = i == big ? 0 : FM_SYNC_RANK_LAST;
    assert_true(run(5000, false));
    assert_tree(live, big);
    struct fm_sync_tree_info ti;
    fm_sync_tree(nodes[small].eng, &ti);
    assert_int_equal(ti.root_rank, 0);
    /* ops go along it without a duplicate */
    for (int i = 0; i < NNODES; i++)
        write_live(i);
    assert_true(run(10000, true));
    for (int i = 0; i < NNODES; i++)
        assert_int_equal(dups_at(i), 0);
    /* the centre stops, then comes back */
    fm_sync_destroy(&nodes[big].eng);
    live[big] = false;
    assert_true(run(12000, false));
    assert_tree(live, least_of(live));
    engine_start(big); /* the others still list it as a peer */
    for (int i = 0; i < NNODES; i++)
        if (i != big)
            peer_add(big, i);
    live[big] = true;
    assert_true(run(12000, false));
    assert_tree(live, big);
    line_stop();
}

/* A hand-made TREE: a claim of 0 hops for a root that is not the sender,
 * a frame of the wrong length and one with an unknown flag are each
 * dropped and counted against the sender; the tree stands. A version-4
 * engine drops every TREE as another protocol version. */
static void test_tree_bad_claims(void **state)
{
    (void)state;
    triangle_start(0);
    bool live[NNODES] = {true, true, true};
    int r = least_of(live);
    int x = (r + 1) % NNODES, y = (r + 2) % NNODES;
    uint8_t m[17] = {5, 11, 0, 0, 0, 0, 0, 9};
    memset(m + 8, 0, 8); /* root 00..00 at 0 hops: smaller than any key, but not y's */
    uint64_t bad = bad_from(x, y);
    assert_int_equal(fm_sync_io_deliver(nodes[x].eng, nodes[y].id.pk, m, 16), FM_OK);
    assert_int_equal(bad_from(x, y), bad + 1);
    assert_int_equal(fm_sync_io_deliver(nodes[x].eng, nodes[y].id.pk, m, 15), FM_OK);
    assert_int_equal(bad_from(x, y), bad + 2);
    memcpy(m + 8, nodes[y].id.pk, 8);
    m[2] = 0x02; /* an unknown flag */
    assert_int_equal(fm_sync_io_deliver(nodes[x].eng, nodes[y].id.pk, m, 16), FM_OK);
    assert_int_equal(bad_from(x, y), bad + 3);
    assert_true(run(500, false));
    assert_tree(live, r);
    line_stop();

    /* an engine of version 4 drops TREE frames and keeps Plumtree's links */
    line_start();
    net.wire = 4;
    engine_start(0);
    net.wire = 0;
    engine_start(1);
    engine_start(2);
    link(0, 1);
    link(1, 2);
    assert_true(run(500, false));
    struct fm_sync_counters k0;
    fm_sync_get_counters(nodes[0].eng, &k0);
    assert_true(k0.msgs_dropped > 0);
    struct fm_sync_tree_info ti;
    fm_sync_tree(nodes[0].eng, &ti);
    assert_false(ti.on);
    assert_true(eager_at(0, 1) && eager_at(1, 0)); /* Plumtree's start: eager */
    write_live(0);
    write_live(2);
    assert_true(run(10000, true));
    line_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_bulk_not_pushed_on),
        cmocka_unit_test(test_small_repair_pushed_on),
        cmocka_unit_test(test_live_bulk_pushed_on),
        cmocka_unit_test(test_busy_link_not_pruned),
        cmocka_unit_test(test_tree_triangle),
        cmocka_unit_test(test_tree_root_lost),
        cmocka_unit_test(test_tree_bad_claims),
        cmocka_unit_test(test_tree_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
