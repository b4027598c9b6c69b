/*
 * test_clone_alert.c — two diverging writers on one key are reported
 * (issue 9, item 6; node/replica/clone_alert.c).
 *
 * One key signs two different ops on the same history (a fork's root):
 * a store that sees both lists the key with the root's seq, in either
 * arrival order, and the daemon's watch counts it once. A pair below the
 * root adds no alert, and a revoked key is no longer listed (the
 * administrator has acted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/lww_fixture.h"

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

static void report(struct lww_author *a, const char *address)
{
    OK(lww_report(a, address));
}

static size_t alerts(struct fm_node *n, const uint8_t *author, uint64_t *seq)
{
    struct fm_clone_alert *a;
    size_t count;
    OK(fm_node_diverging_writers(n, &a, &count));
    for (size_t i = 0; i < count; i++) {
        assert_memory_equal(a[i].author, author, FM_PK_LEN);
        assert_string_equal(a[i].name, "twice");
        *seq = a[i].seq;
    }
    free(a);
    return count;
}

static void test_two_writers_one_key(void **state)
{
    (void)state;
    const uint64_t now = fm_now_ms(), t0 = now << 16;
    struct lww_author x, y, admin;
    /* two machines with one key: same certificate op (same stamp), then
     * each writes its own report at seq 2, and the first goes on to 3 */
    OK(lww_author_init(&x, &org.root, 0x31, "twice", now - FX_DAY_MS, now + FX_DAY_MS, t0));
    OK(lww_author_init(&y, &org.root, 0x31, "twice", now - FX_DAY_MS, now + FX_DAY_MS, t0));
    assert_memory_equal(x.log.ops.ops[0], y.log.ops.ops[0], x.log.ops.lens[0]);
    lww_at(&x, t0 + 10);
    report(&x, "from the laptop");
    report(&x, "from the laptop, again");
    lww_at(&y, t0 + 20);
    report(&y, "from its clone");
    report(&y, "from its clone, again");

    for (int order = 0; order < 2; order++) {
        struct fx_node n;
        struct fm_ingest_result res;
        uint64_t seq = 0;
        size_t known = 0;
        OK(fx_author(&org, &n, "reader"));
        OK(fx_open(&n, FM_OPEN_NOSYNC_));
        const struct fx_ops *first = order ? &y.log.ops : &x.log.ops;
        const struct fx_ops *second = order ? &x.log.ops : &y.log.ops;
        OK(fx_ingest(n.n, first, 0, first->n, &res));
        assert_int_equal(alerts(n.n, x.id.pk, &seq), 0); /* one writer so far */
        OK(fx_ingest(n.n, second, 0, second->n, &res));
        assert_true(res.rejected > 0);
        assert_int_equal(alerts(n.n, x.id.pk, &seq), 1); /* the root only, not 3 */
        assert_int_equal(seq, 2);
        OK(fm_node_clone_watch(n.n, &known));
        assert_int_equal(known, 1);
        OK(fm_node_clone_watch(n.n, &known));
        assert_int_equal(known, 1);

        /* revoked (keeping its certificate op): no longer an alert */
        OK(lww_author_init(&admin, &org.root, 0x41, "admin", now - FX_DAY_MS, now + FX_DAY_MS,
                           t0 + 100));
        struct payload *pl = lww_pl(OP_REVOKE);
        assert_non_null(pl);
        memcpy(pl->log.rev.node, x.id.pk, FM_PK_LEN);
        pl->log.rev.last_seq = 1;
        pl->log.rev.issued_ms = now;
        fm_revocation_sign(&pl->log.rev, &org.root);
        OK(lww_put(&admin, pl));
        OK(fx_ingest(n.n, &admin.log.ops, 0, admin.log.ops.n, &res));
        assert_int_equal(res.rejected, 0);
        assert_int_equal(alerts(n.n, x.id.pk, &seq), 0);
        lww_author_done(&admin);
        fx_done(&n);
    }
    lww_author_done(&x);
    lww_author_done(&y);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_writers_one_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
