/*
 * test_store_life.c — the store over its life: rebuild from the ops, the schema
 * upgrade, map growth from a tiny map and the map cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"

static int wipe_entities(struct store_txn *t, void *ctx)
{
    (void)ctx;
    return model_clear(t);
}

/* Turns the store into what schema 1 wrote: each note's text copied into
 * its timeline entry. */
static int make_schema1(struct store_txn *t, void *ctx)
{
    (void)ctx;
    struct store_cur *c;
    struct store_kv kv;
    uint8_t key[256], val[64];
    size_t klen = 0;
    int rc = store_cur_open(t, DB_TIMELINE, &c);
    if (rc != FM_OK)
        return rc;
    for (rc = store_cur_seek(c, (const uint8_t *)"", 0, &kv); rc == FM_OK;
         rc = store_cur_next(c, &kv))
        if (kv.vlen == 1 && kv.val[0] == TL_NOTE && kv.klen <= sizeof key) {
            memcpy(key, kv.key, kv.klen);
            klen = kv.klen;
        }
    store_cur_close(&c);
    if (klen == 0)
        return FM_ENOTFOUND;
    val[0] = TL_NOTE;
    memcpy(val + 1, "old copy", 8);
    if ((rc = store_put(t, DB_TIMELINE, key, klen, val, 9, false)) != FM_OK)
        return rc;
    return node_meta_put_u64(t, "schema", 1);
}

static void test_schema1_store_is_rederived(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    struct tl t = {0};
    uint64_t schema = 0;
    struct store_txn *rt;
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "d"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "the text lives in the op"));
    OK(fm_node_digest(a.n, d0));
    OK(store_write(a.n->st, make_schema1, NULL));
    OK(fm_node_digest(a.n, d1));
    assert_memory_not_equal(d0, d1, FM_HASH_LEN);
    fm_node_close(&a.n);
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC)); /* upgrades: re-derives from the ops */
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    OK(store_read_begin(a.n->st, &rt));
    OK(node_meta_get_u64(rt, "schema", &schema));
    store_txn_abort(&rt);
    assert_int_equal(schema, NODE_SCHEMA_VERSION);
    OK(fm_node_incident_timeline(a.n, x, collect_tl, &t));
    assert_int_equal(t.n, 2);
    assert_string_equal(t.e[1].kind, "note");
    assert_string_equal(t.e[1].text, "the text lives in the op");
    fx_done(&a);
}

/* Turns the store into what schema 2 wrote: timeline keys without the
 * entity kind in front. */
static int make_schema2(struct store_txn *t, void *ctx)
{
    (void)ctx;
    struct store_cur *c;
    struct store_kv kv;
    uint8_t keys[8][256], vals[8][1200];
    size_t klen[8], vlen[8], n = 0;
    int rc = store_cur_open(t, DB_TIMELINE, &c);
    if (rc != FM_OK)
        return rc;
    for (rc = store_cur_first(c, &kv); rc == FM_OK && n < 8; rc = store_cur_next(c, &kv)) {
        assert_true(kv.klen <= sizeof keys[0] && kv.vlen <= sizeof vals[0]);
        memcpy(keys[n], kv.key, kv.klen);
        memcpy(vals[n], kv.val, kv.vlen);
        klen[n] = kv.klen;
        vlen[n++] = kv.vlen;
    }
    store_cur_close(&c);
    if (n == 0)
        return FM_ENOTFOUND;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(keys[i][0], FM_ENT_INCIDENT);
        if ((rc = store_del(t, DB_TIMELINE, keys[i], klen[i])) != FM_OK ||
            (rc = store_put(t, DB_TIMELINE, keys[i] + 1, klen[i] - 1, vals[i], vlen[i], false)))
            return rc;
    }
    return node_meta_put_u64(t, "schema", 2);
}

static void test_schema2_store_is_rederived(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    struct tl t = {0};
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "d"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "keyed by kind now"));
    OK(fm_node_digest(a.n, d0));
    OK(store_write(a.n->st, make_schema2, NULL));
    /* the old layout is not read as the new one */
    OK(fm_node_incident_timeline(a.n, x, collect_tl, &t));
    assert_int_equal(t.n, 0);
    fm_node_close(&a.n);
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    t.n = 0;
    OK(fm_node_incident_timeline(a.n, x, collect_tl, &t));
    assert_int_equal(t.n, 2);
    assert_string_equal(t.e[1].text, "keyed by kind now");
    fx_done(&a);
}

static void test_rebuild_keeps_digest(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX], r[FM_ID_MAX], u[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN], d2[FM_HASH_LEN];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "d"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "n"));
    OK(fm_node_incident_status(a.n, x, FM_STAGE_CLOSED, false));
    OK(fm_node_resource_add(a.n, "pump", "d", 3, r));
    OK(fm_node_resource_adjust(a.n, r, -3));
    struct fm_unit_new un = {.name = "U", .department = "D", .kind = "k", .tier = 2};
    OK(fm_node_unit_register(a.n, &un, u));
    OK(fm_node_unit_position(a.n, u, 1, 2));
    OK(fm_node_digest(a.n, d0));
    OK(fm_node_rebuild(a.n));
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    /* wipe the entities behind the node's back: the digest changes, and
     * rebuild brings it back from the ops alone */
    OK(store_write(a.n->st, wipe_entities, NULL));
    OK(fm_node_digest(a.n, d2));
    assert_memory_not_equal(d0, d2, FM_HASH_LEN);
    struct ids l;
    assert_int_equal(list_incidents(a.n, -1, NULL, &l), 0);
    OK(fm_node_rebuild(a.n));
    OK(fm_node_digest(a.n, d2));
    assert_memory_equal(d0, d2, FM_HASH_LEN);
    assert_int_equal(list_incidents(a.n, FM_STAGE_CLOSED, "fire", &l), 1);
    fx_done(&a);
}

static void fill_batch(struct payload *pls, size_t n, const uint8_t *author, uint64_t target)
{
    for (size_t i = 0; i < n; i++) {
        struct payload *pl = &pls[i];
        if (i % 2 == 0 || target == 0) {
            report_payload(pl, i % 3 ? "fire" : "flood");
            memset(pl->desc, 'd', 200);
            pl->desc[200] = '\0';
            pl->present |= PT_BIT(PT_DESC);
        } else {
            memset(pl, 0, sizeof *pl);
            pl->log.kind = OP_INC_NOTE;
            memcpy(pl->ref.author, author, FM_PK_LEN);
            pl->ref.seq = target;
            fm_strlcpy(pl->text, "a note that takes a little room in the map", sizeof pl->text);
            pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        }
    }
}

static void test_map_growth(void **state)
{
    (void)state;
    struct fx_node g, h;
    struct fm_node_stats st;
    struct fx_ops ops = {0};
    struct fm_ingest_result res;
    const size_t batch = 50, nbatches = 60;
    struct payload *pls = calloc(2000, sizeof *pls);
    assert_non_null(pls);
    OK(fx_author(&org, &g, "g"));
    g.cfg.map_size = 1u << 20;
    g.cfg.map_max = 1u << 30;
    OK(fx_open(&g, FM_OPEN_IDENTITY | NOSYNC));
    fill_batch(pls, 1, g.id.pk, 0);
    uint64_t first;
    OK(node_write_batch(g.n, &pls->log, 1, &first)); /* seq 2: the incident the notes go to */
    fill_batch(pls, batch, g.id.pk, first);
    for (size_t i = 0; i < nbatches; i++)
        OK(node_write_batch(g.n, &pls->log, batch, NULL));
    /* one transaction far larger than the map at that point */
    fill_batch(pls, 2000, g.id.pk, first);
    OK(node_write_batch(g.n, &pls->log, 2000, NULL));
    char id[FM_ID_MAX];
    struct fm_incident_new in = {.category = "last"};
    OK(fm_node_incident_report(g.n, &in, id));
    OK(fm_node_stats(g.n, &st));
    uint64_t total = 2 + batch * nbatches + 2000 + 1;
    assert_int_equal(st.ops, total);
    assert_true(st.map_size > (1u << 20));
    struct fm_incident inc;
    char tid[FM_ID_MAX];
    fm_op_id_format(g.id.pk, first, tid);
    OK(fm_node_incident_get(g.n, tid, &inc));
    assert_int_equal(inc.nnotes, 1 + (batch / 2) * nbatches + 1000);

    /* a second node with a 1 MiB map takes it all in through ingest */
    OK(fx_collect(g.n, NULL, &ops));
    assert_int_equal(ops.n, total);
    OK(fx_author(&org, &h, "h"));
    h.cfg.map_size = 1u << 20;
    h.cfg.map_max = 1u << 30;
    OK(fx_open(&h, FM_OPEN_READ | NOSYNC));
    for (size_t i = 0; i < ops.n; i += 700) {
        size_t k = ops.n - i < 700 ? ops.n - i : 700;
        OK(fx_ingest(h.n, &ops, i, k, &res));
        assert_int_equal(res.stored, k);
    }
    assert_int_equal(fx_digest_eq(g.n, h.n), 1);
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    OK(fm_node_digest(h.n, d0));
    OK(fm_node_rebuild(h.n));
    OK(fm_node_digest(h.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);

    /* reopen: everything is still there */
    fm_node_close(&g.n);
    OK(fx_open(&g, FM_OPEN_IDENTITY));
    OK(fm_node_stats(g.n, &st));
    assert_int_equal(st.ops, total);
    OK(fm_node_digest(g.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    fx_ops_free(&ops);
    free(pls);
    fx_done(&g);
    fx_done(&h);
}

static void test_map_cap(void **state)
{
    (void)state;
    struct fx_node g;
    struct payload *pls = calloc(100, sizeof *pls);
    assert_non_null(pls);
    OK(fx_author(&org, &g, "cap"));
    g.cfg.map_size = 1u << 20;
    g.cfg.map_max = 1u << 20; /* no growth allowed */
    OK(fx_open(&g, FM_OPEN_IDENTITY | NOSYNC));
    fill_batch(pls, 100, g.id.pk, 0);
    uint64_t written = 0;
    int rc = FM_OK;
    for (int i = 0; i < 1000 && rc == FM_OK; i++) {
        rc = node_write_batch(g.n, &pls->log, 100, NULL);
        if (rc == FM_OK)
            written += 100;
    }
    assert_int_equal(rc, FM_EMAPFULL);
    assert_true(written > 0);
    uint64_t ops = ops_count(g.n);
    assert_int_equal(ops, written + 1); /* + the certificate */
    /* smaller writes may still fit; reads keep working after reopening */
    fm_node_close(&g.n);
    OK(fx_open(&g, FM_OPEN_READ));
    assert_int_equal(ops_count(g.n), ops);
    struct ids l;
    assert_int_equal(list_incidents(g.n, -1, "flood", &l) > 0, 1);
    free(pls);
    fx_done(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema1_store_is_rederived),
        cmocka_unit_test(test_schema2_store_is_rederived),
        cmocka_unit_test(test_rebuild_keeps_digest),
        cmocka_unit_test(test_map_growth),
        cmocka_unit_test(test_map_cap),
    };
    return fx_node_main("test_store_life", tests, sizeof tests / sizeof tests[0]);
}
