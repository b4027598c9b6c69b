/*
 * test_lww_compat.c — ops written before the causal LWW rule (no `base`
 * field) give exactly the state they gave before it.
 *
 * Two authors with fixed keys write a fixed set of ops with fixed stamps:
 * a report, edits of its fields by both, a note, a status, a unit with a
 * status and a logged position, a resource and an adjustment. A fresh
 * store takes them in two orders; its digest must equal the constant
 * below, which is the digest the build before the rule (schema 2, commit
 * 9e0992b) computed for the same ops. So a store written by that build
 * keeps its digest after the upgrade, and old and new nodes agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/lww_fixture.h"

#define OK(x) assert_int_equal((x), FM_OK)

/* fm_node_digest of the ops below, computed by the build before `base`. */
static const char GOLDEN[] = "2aa7616b93fbeb45dc6a5456d3b4a8e7a9df8b9fbbbaec6a66d1d0fd6d9a1309";

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

static void build_ops(const struct fm_identity *root, struct lww_author *a,
                      struct lww_author *b)
{
    const uint64_t t0 = UINT64_C(1780000000000) << 16; /* 2026-05-28 */
    OK(lww_author_init(a, root, 0x11, "alpha", LWW_NB_MS, LWW_EXP_MS, t0));
    OK(lww_author_init(b, root, 0x22, "bravo", LWW_NB_MS, LWW_EXP_MS, t0 + 1));
    lww_at(a, t0 + 10);
    OK(lww_report(a, "No. 1 Department Store"));                 /* a-2 */
    struct payload *pl = lww_pl(OP_UNIT_REGISTER);                /* a-3 */
    assert_non_null(pl);
    fm_strlcpy(pl->name, "Engine 1", sizeof pl->name);
    fm_strlcpy(pl->department, "fire", sizeof pl->department);
    fm_strlcpy(pl->unit_kind, "engine", sizeof pl->unit_kind);
    pl->tier = 1;
    pl->present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) | PT_BIT(PT_UNIT_KIND);
    OK(lww_put(a, pl));
    pl = lww_pl(OP_RES_ADD);                                      /* a-4 */
    assert_non_null(pl);
    fm_strlcpy(pl->res_kind, "foam", sizeof pl->res_kind);
    fm_strlcpy(pl->depot, "north", sizeof pl->depot);
    pl->qty = 40;
    pl->present = PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
    OK(lww_put(a, pl));
    lww_at(b, t0 + 500);
    OK(lww_update(b, a->id.pk, 2, "No. 1 Department Store, east gate", 1));
    OK(fx_log_note(&b->log, a->id.pk, 2, "second engine requested"));
    pl = lww_pl(OP_INC_STATUS);
    assert_non_null(pl);
    lww_ref(pl, a->id.pk, 2);
    pl->stage = FM_STAGE_DISPATCHED;
    pl->present |= PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    OK(lww_put(b, pl));
    pl = lww_pl(OP_UNIT_STATUS);
    assert_non_null(pl);
    lww_ref(pl, a->id.pk, 3);
    pl->unit_status = US_ASSIGNED;
    pl->present |= PT_BIT(PT_UNIT_STATUS);
    OK(lww_put(b, pl));
    pl = lww_pl(OP_RES_ADJUST);
    assert_non_null(pl);
    lww_ref(pl, a->id.pk, 4);
    pl->delta = -3;
    pl->present |= PT_BIT(PT_DELTA);
    OK(lww_put(b, pl));
    lww_at(a, t0 + 1000);
    OK(lww_update(a, a->id.pk, 2, "Department Store, Nanjing Road", 0));
    lww_at(b, t0 + 1100);
    pl = lww_pl(OP_UNIT_POSITION);
    assert_non_null(pl);
    lww_ref(pl, a->id.pk, 3);
    pl->lat = 312300000;
    pl->lon = 1214750000;
    pl->present |= PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    OK(lww_put(b, pl));
}

/* A fresh store takes every op of both logs, in order or reversed. */
static void digest_of(const struct lww_author *a, const struct lww_author *b, bool reversed,
                      const struct fm_identity *root, char hex[2 * FM_HASH_LEN + 1])
{
    struct fx_node c;
    struct fm_ingest_result res;
    struct fx_ops all = {0};
    OK(fx_author(&org, &c, "reader"));
    memcpy(c.cfg.org_pk, root->pk, FM_PK_LEN);
    OK(fx_open(&c, FM_OPEN_NOSYNC_));
    const struct fx_ops *first = reversed ? &b->log.ops : &a->log.ops;
    const struct fx_ops *second = reversed ? &a->log.ops : &b->log.ops;
    for (size_t i = 0; i < first->n; i++)
        OK(fx_ops_add(&all, first->ops[i], first->lens[i]));
    for (size_t i = 0; i < second->n; i++)
        OK(fx_ops_add(&all, second->ops[i], second->lens[i]));
    OK(fx_ingest(c.n, &all, 0, all.n, &res));
    assert_int_equal(res.stored, all.n);
    uint8_t d[FM_HASH_LEN];
    OK(fm_node_digest(c.n, d));
    for (size_t i = 0; i < FM_HASH_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    char addr[FM_ADDRESS_MAX], id[FM_ID_MAX];
    fm_op_id_format(a->id.pk, 2, id);
    OK(lww_address(c.n, id, addr, sizeof addr));
    assert_string_equal(addr, "Department Store, Nanjing Road");
    fx_ops_free(&all);
    fx_done(&c);
}

static void test_old_ops_keep_their_digest(void **state)
{
    (void)state;
    struct fm_identity root;
    struct lww_author a, b;
    char d1[2 * FM_HASH_LEN + 1], d2[2 * FM_HASH_LEN + 1];
    OK(lww_identity(&root, 0x01));
    build_ops(&root, &a, &b);
    digest_of(&a, &b, false, &root, d1);
    digest_of(&a, &b, true, &root, d2);
    printf("digest of the fixed ops: %s\n", d1);
    assert_string_equal(d1, d2);
    assert_string_equal(d1, GOLDEN);
    lww_author_done(&a);
    lww_author_done(&b);
    fm_identity_release(&root);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_ops_keep_their_digest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
