/*
 * test_faults.c — every exit path of the write path under injected store
 * faults (store_int.h, "fault simulation"; built against fm_node_faultsim).
 *
 * The idea (SQLite's sqlite3FaultSim): arm a numbered fault point, run a
 * public fm_node_* call, and check that the failure reaches the caller as
 * the documented error and leaves the store exactly as it was — op count,
 * heads, entities, clock, refusal counter and digest — and that the same
 * call then succeeds as if nothing had happened (a local write gets the
 * very seq the failed one would have had). Where a fault point is met
 * several times in one call, the test walks the countdown 1, 2, 3, ...
 * until the call no longer meets the fault, so each point is failed once.
 * Run under ASan this also shows that no exit path leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/node_fixture.h"

#ifndef FM_FAULT_SIM
#error "test_faults needs the fault points: link fm_node_faultsim (tests/tests.cmake)"
#endif

#define OK(x) assert_int_equal((x), FM_OK)
/* Walks of the countdown stop here: a call meeting a point more often than
 * this is a test problem, not a finding. */
#define WALK_MAX 400

static struct fx_org org;

static int setup(void **state)
{
    (void)state;
    fm_log_set_level(FM_LOG_ERROR);
    return fx_org_init(&org) == FM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fx_org_done(&org);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    store_fault_clear();
    return 0;
}

/* ---- what "the store is unchanged" means ---- */

struct snap {
    struct fm_node_stats st;
    uint8_t digest[FM_HASH_LEN];
    struct fm_head *heads;
    size_t nh;
};

static void snap_take(struct fm_node *n, struct snap *s)
{
    memset(s, 0, sizeof *s);
    OK(fm_node_stats(n, &s->st));
    OK(fm_node_digest(n, s->digest));
    OK(fm_node_heads(n, &s->heads, &s->nh));
}

static void snap_free(struct snap *s)
{
    free(s->heads);
    s->heads = NULL;
}

/* Everything but the map size (which a map-full retry may have grown). */
static void assert_unchanged(struct fm_node *n, const struct snap *before)
{
    struct snap now;
    snap_take(n, &now);
    assert_int_equal(now.st.ops, before->st.ops);
    assert_int_equal(now.st.authors, before->st.authors);
    assert_int_equal(now.st.entities, before->st.entities);
    assert_int_equal(now.st.hlc, before->st.hlc);
    assert_int_equal(now.st.rejected, before->st.rejected);
    assert_memory_equal(now.digest, before->digest, FM_HASH_LEN);
    assert_int_equal(now.nh, before->nh);
    if (now.nh > 0)
        assert_memory_equal(now.heads, before->heads, now.nh * sizeof *now.heads);
    snap_free(&now);
}

static uint64_t head_seq(struct fm_node *n, const uint8_t *author)
{
    struct fm_head *h;
    size_t nh;
    uint64_t seq = 0;
    OK(fm_node_heads(n, &h, &nh));
    for (size_t i = 0; i < nh; i++)
        if (memcmp(h[i].author, author, FM_PK_LEN) == 0)
            seq = h[i].seq;
    free(h);
    return seq;
}

static uint64_t map_size(struct fm_node *n)
{
    struct fm_node_stats st;
    OK(fm_node_stats(n, &st));
    return st.map_size;
}

static bool used_marker(const struct fx_node *a)
{
    char p[sizeof a->cfg.key_path + 8];
    snprintf(p, sizeof p, "%s.used", a->cfg.key_path);
    return access(p, F_OK) == 0;
}

/* ---- local writes ---- */

static int report(struct fm_node *n, char id[FM_ID_MAX])
{
    struct fm_incident_new in = {.category = "fire", .priority = 2, .lat_e7 = 312302000,
                                 .lon_e7 = 1214751000, .address = "No. 1 Department Store"};
    return fm_node_incident_report(n, &in, id);
}

static void open_author(struct fx_node *a, const char *name, uint64_t map_max)
{
    OK(fx_author(&org, a, name));
    if (map_max)
        a->cfg.map_max = map_max;
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

/* A failed commit or begin: the call fails with FM_ESTORE, nothing is
 * stored, and the next write takes the seq the failed one would have had. */
static void write_fails_then_succeeds(enum store_fault id)
{
    struct fx_node a;
    struct snap before;
    char inc[FM_ID_MAX], want[FM_ID_MAX], got[FM_ID_MAX];
    open_author(&a, "fault-writer", 0);

    /* the very first write: certificate op and report, one transaction */
    snap_take(a.n, &before);
    store_fault_set(id, 1, 1);
    assert_int_equal(report(a.n, got), FM_ESTORE);
    assert_int_equal(store_fault_hits(id), 1);
    assert_unchanged(a.n, &before);
    assert_int_equal(before.st.ops, 0);
    assert_false(used_marker(&a)); /* or the next write would be refused as a fork */
    snap_free(&before);
    fm_op_id_format(a.id.pk, 2, want);
    OK(report(a.n, inc));
    assert_string_equal(inc, want);
    assert_true(used_marker(&a));

    /* a note on it: one more op */
    snap_take(a.n, &before);
    store_fault_set(id, 1, 1);
    assert_int_equal(fm_node_incident_note(a.n, inc, "smoke on floor 3"), FM_ESTORE);
    assert_int_equal(store_fault_hits(id), 1);
    assert_unchanged(a.n, &before);
    snap_free(&before);
    OK(fm_node_incident_note(a.n, inc, "smoke on floor 3"));
    assert_int_equal(head_seq(a.n, a.id.pk), 3);

    /* a fault armed further ahead than the call reaches does not fire */
    store_fault_set(id, 2, 1);
    OK(report(a.n, got));
    assert_int_equal(store_fault_hits(id), 0);
    fm_op_id_format(a.id.pk, 4, want);
    assert_string_equal(got, want);
    fx_done(&a);
}

static void test_write_commit_fails(void **state)
{
    (void)state;
    write_fails_then_succeeds(STORE_FAULT_COMMIT);
}

static void test_write_begin_fails(void **state)
{
    (void)state;
    write_fails_then_succeeds(STORE_FAULT_BEGIN);
}

enum write_kind { W_REPORT, W_NOTE };

/* Fails the 1st, 2nd, ... check of `id` in one write until the write no
 * longer meets it; each failure must be `err` with the store unchanged.
 * Returns how many checks the write met. */
static unsigned walk_write(struct fx_node *a, enum write_kind kind, const char *inc,
                           enum store_fault id, int err)
{
    char got[FM_ID_MAX];
    uint64_t seq = head_seq(a->n, a->id.pk);
    for (unsigned i = 1; i <= WALK_MAX; i++) {
        struct snap before;
        snap_take(a->n, &before);
        store_fault_set(id, i, 1);
        int rc = kind == W_REPORT ? report(a->n, got) : fm_node_incident_note(a->n, inc, "walk");
        if (store_fault_hits(id) == 0) {
            store_fault_clear(); /* still armed: the write never reached it */
            OK(rc);
            assert_int_equal(head_seq(a->n, a->id.pk), seq + 1);
            snap_free(&before);
            return i - 1;
        }
        assert_int_equal(rc, err);
        assert_unchanged(a->n, &before);
        snap_free(&before);
    }
    fail_msg("write met fault %d more than %d times", (int)id, WALK_MAX);
    return 0;
}

static void test_write_alloc_each_point(void **state)
{
    (void)state;
    struct fx_node a;
    char inc[FM_ID_MAX];
    open_author(&a, "alloc-writer", 0);
    OK(report(a.n, inc));
    /* the fork guard's cursor, at least */
    assert_true(walk_write(&a, W_REPORT, NULL, STORE_FAULT_ALLOC, FM_ENOMEM) >= 1);
    assert_true(walk_write(&a, W_NOTE, inc, STORE_FAULT_ALLOC, FM_ENOMEM) >= 1);
    fx_done(&a);
}

/* The map cannot grow (map_max = map_size): every put of a write, failed
 * once, fails the write cleanly. */
static void test_write_map_full_each_point_at_cap(void **state)
{
    (void)state;
    struct fx_node a;
    char inc[FM_ID_MAX];
    OK(fx_author(&org, &a, "capped-writer"));
    a.cfg.map_max = a.cfg.map_size;
    OK(fx_open(&a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(report(a.n, inc));
    uint64_t size = map_size(a.n);
    unsigned r = walk_write(&a, W_REPORT, NULL, STORE_FAULT_MAP_FULL, FM_EMAPFULL);
    unsigned n = walk_write(&a, W_NOTE, inc, STORE_FAULT_MAP_FULL, FM_EMAPFULL);
    assert_true(r >= 3); /* op, head, entity at least */
    assert_true(n >= 3);
    assert_int_equal(map_size(a.n), size);
    fx_done(&a);
}

/* With room to grow, a full map doubles it and the write goes through. */
static void test_write_map_full_grows(void **state)
{
    (void)state;
    struct fx_node a;
    char inc[FM_ID_MAX];
    open_author(&a, "growing-writer", UINT64_C(1) << 30);
    OK(report(a.n, inc));
    uint64_t size = map_size(a.n), seq = head_seq(a.n, a.id.pk);
    store_fault_set(STORE_FAULT_MAP_FULL, 2, 1);
    OK(fm_node_incident_note(a.n, inc, "after a full map"));
    assert_int_equal(store_fault_hits(STORE_FAULT_MAP_FULL), 1);
    assert_int_equal(map_size(a.n), 2 * size);
    assert_int_equal(head_seq(a.n, a.id.pk), seq + 1);
    fx_done(&a);
}

/* ---- ingest ---- */

/* Ops to ingest: an author's log (certificate, reports, notes) and one op
 * of a second author whose first op is missing, so one is refused (the
 * refusal counter must not move either when the transaction fails). */
struct feed {
    struct fx_node a, c;
    struct fx_ops ops;
    size_t good;
};

static void feed_make(struct feed *f)
{
    char inc[FM_ID_MAX];
    struct fx_ops cops = {0};
    memset(f, 0, sizeof *f);
    open_author(&f->a, "feed-a", 0);
    open_author(&f->c, "feed-c", 0);
    for (int i = 0; i < 4; i++) {
        OK(report(f->a.n, inc));
        OK(fm_node_incident_note(f->a.n, inc, "on scene"));
    }
    OK(fx_collect(f->a.n, NULL, &f->ops));
    f->good = f->ops.n;
    OK(report(f->c.n, inc));
    OK(fx_collect(f->c.n, NULL, &cops));
    assert_int_equal(cops.n, 2);
    OK(fx_ops_add(&f->ops, cops.ops[1], cops.lens[1])); /* seq 2 without seq 1: a gap */
    fx_ops_free(&cops);
}

static void feed_free(struct feed *f)
{
    fx_ops_free(&f->ops);
    fx_done(&f->a);
    fx_done(&f->c);
}

static void assert_ingested(struct feed *f, struct fm_node *b, const struct fm_ingest_result *r,
                            uint64_t rejected_before)
{
    struct fm_node_stats st;
    assert_int_equal(r->stored, f->good);
    assert_int_equal(r->rejected, 1);
    assert_int_equal(r->err, FM_EGAP);
    OK(fm_node_stats(b, &st));
    assert_int_equal(st.ops, f->good);
    assert_int_equal(st.rejected, rejected_before + 1);
    assert_int_equal(fx_digest_eq(f->a.n, b), 1);
}

static void ingest_fails_then_succeeds(enum store_fault id)
{
    struct feed f;
    struct fx_node b;
    struct snap before;
    struct fm_ingest_result r;
    feed_make(&f);
    open_author(&b, "fault-reader", 0);
    snap_take(b.n, &before);
    store_fault_set(id, 1, 1);
    assert_int_equal(fx_ingest(b.n, &f.ops, 0, f.ops.n, &r), FM_ESTORE);
    assert_int_equal(store_fault_hits(id), 1);
    assert_int_equal(r.stored, 0);
    assert_int_equal(r.rejected, 0);
    assert_unchanged(b.n, &before);
    snap_free(&before);
    OK(fx_ingest(b.n, &f.ops, 0, f.ops.n, &r));
    assert_ingested(&f, b.n, &r, 0);
    fx_done(&b);
    feed_free(&f);
}

static void test_ingest_commit_fails(void **state)
{
    (void)state;
    ingest_fails_then_succeeds(STORE_FAULT_COMMIT);
}

static void test_ingest_begin_fails(void **state)
{
    (void)state;
    ingest_fails_then_succeeds(STORE_FAULT_BEGIN);
}

/* A full map during ingest: the map doubles and the batch is stored whole,
 * the refusal counted once (the body ran twice). */
static void test_ingest_map_full_grows(void **state)
{
    (void)state;
    struct feed f;
    struct fx_node b;
    struct fm_ingest_result r;
    feed_make(&f);
    open_author(&b, "growing-reader", UINT64_C(1) << 30);
    uint64_t size = map_size(b.n);
    store_fault_set(STORE_FAULT_MAP_FULL, 5, 1);
    OK(fx_ingest(b.n, &f.ops, 0, f.ops.n, &r));
    assert_int_equal(store_fault_hits(STORE_FAULT_MAP_FULL), 1);
    assert_int_equal(map_size(b.n), 2 * size);
    assert_ingested(&f, b.n, &r, 0);
    fx_done(&b);
    feed_free(&f);
}

/* A map that stays full: it grows to map_max, then the ingest fails with
 * FM_EMAPFULL and stores nothing; once there is room a retry stores all. */
static void test_ingest_map_full_to_cap(void **state)
{
    (void)state;
    struct feed f;
    struct fx_node b;
    struct snap before;
    struct fm_ingest_result r;
    feed_make(&f);
    OK(fx_author(&org, &b, "capped-reader"));
    b.cfg.map_max = 4 * b.cfg.map_size;
    OK(fx_open(&b, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    snap_take(b.n, &before);
    store_fault_set(STORE_FAULT_MAP_FULL, 1, STORE_FAULT_ALWAYS);
    assert_int_equal(fx_ingest(b.n, &f.ops, 0, f.ops.n, &r), FM_EMAPFULL);
    assert_int_equal(store_fault_hits(STORE_FAULT_MAP_FULL), 3); /* 1x, 2x, 4x */
    assert_int_equal(map_size(b.n), b.cfg.map_max);
    assert_int_equal(r.stored, 0);
    assert_unchanged(b.n, &before);
    snap_free(&before);
    store_fault_clear();
    OK(fx_ingest(b.n, &f.ops, 0, f.ops.n, &r));
    assert_ingested(&f, b.n, &r, 0);
    fx_done(&b);
    feed_free(&f);
}

/* Fails the 1st, 2nd, ... check of `id` in one ingest until the ingest no
 * longer meets it; each failure must be `err` with the store unchanged,
 * and the last run stores the batch. Returns how many checks it met. */
static unsigned walk_ingest(struct feed *f, struct fx_node *b, enum store_fault id, int err)
{
    struct fm_ingest_result r;
    for (unsigned i = 1; i <= WALK_MAX; i++) {
        struct snap before;
        snap_take(b->n, &before);
        store_fault_set(id, i, 1);
        int rc = fx_ingest(b->n, &f->ops, 0, f->ops.n, &r);
        if (store_fault_hits(id) == 0) {
            store_fault_clear(); /* still armed: the ingest never reached it */
            OK(rc);
            snap_free(&before);
            assert_ingested(f, b->n, &r, 0);
            return i - 1;
        }
        assert_int_equal(rc, err);
        assert_unchanged(b->n, &before);
        snap_free(&before);
    }
    fail_msg("ingest met fault %d more than %d times", (int)id, WALK_MAX);
    return 0;
}

/* Each put of an ingest, failed once with a map that cannot grow. */
static void test_ingest_map_full_each_point_at_cap(void **state)
{
    (void)state;
    struct feed f;
    struct fx_node b;
    feed_make(&f);
    OK(fx_author(&org, &b, "walked-reader"));
    b.cfg.map_max = b.cfg.map_size;
    OK(fx_open(&b, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    unsigned met = walk_ingest(&f, &b, STORE_FAULT_MAP_FULL, FM_EMAPFULL);
    assert_true(met > f.good); /* at least one put per stored op, plus the counters */
    fx_done(&b);
    feed_free(&f);
}

/* Each allocation of the store inside an ingest's transaction. A plain
 * batch meets none (ingest.c allocates before its transaction); a
 * revocation that cuts a stored log back opens cursors to delete the ops
 * and rebuild the entities: each failed once must leave the log whole. */
static void test_ingest_alloc_each_point(void **state)
{
    (void)state;
    struct feed f;
    struct fx_node b;
    struct fx_ops rops = {0};
    struct fm_revocation rev = {0};
    struct fm_ingest_result r;
    unsigned i;
    feed_make(&f);
    open_author(&b, "alloc-reader", 0);
    assert_int_equal(walk_ingest(&f, &b, STORE_FAULT_ALLOC, FM_ENOMEM), 0);

    memcpy(rev.node, f.a.id.pk, FM_PK_LEN);
    rev.last_seq = 3;
    fm_revocation_sign(&rev, &org.root);
    OK(fm_node_publish_revocation(f.c.n, &rev));
    OK(fx_collect(f.c.n, NULL, &rops));
    for (i = 1; i <= WALK_MAX; i++) {
        struct snap before;
        snap_take(b.n, &before);
        store_fault_set(STORE_FAULT_ALLOC, i, 1);
        int rc = fx_ingest(b.n, &rops, 0, rops.n, &r);
        if (store_fault_hits(STORE_FAULT_ALLOC) == 0) {
            store_fault_clear();
            OK(rc);
            snap_free(&before);
            break;
        }
        assert_int_equal(rc, FM_ENOMEM);
        assert_unchanged(b.n, &before);
        assert_int_equal(head_seq(b.n, f.a.id.pk), f.good);
        snap_free(&before);
    }
    assert_true(i >= 2 && i <= WALK_MAX); /* the truncation's cursor at least */
    assert_int_equal(head_seq(b.n, f.a.id.pk), 3);
    fx_ops_free(&rops);
    fx_done(&b);
    feed_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_commit_fails, reset, reset),
        cmocka_unit_test_setup_teardown(test_write_begin_fails, reset, reset),
        cmocka_unit_test_setup_teardown(test_write_alloc_each_point, reset, reset),
        cmocka_unit_test_setup_teardown(test_write_map_full_each_point_at_cap, reset, reset),
        cmocka_unit_test_setup_teardown(test_write_map_full_grows, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_commit_fails, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_begin_fails, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_map_full_grows, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_map_full_to_cap, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_map_full_each_point_at_cap, reset, reset),
        cmocka_unit_test_setup_teardown(test_ingest_alloc_each_point, reset, reset),
    };
    if (fm_crypto_init() != FM_OK)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
