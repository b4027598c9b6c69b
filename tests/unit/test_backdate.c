/*
 * test_backdate.c — expiry against back-dating (issue 9, item 5;
 * docs/field-sync.md §4 "Expiry and back-dating").
 *
 * An author whose certificate expired yesterday signs ops stamped before
 * its expiry. They are still accepted (nothing in an op tells it from an
 * honest op that was merely late), but: a store that takes them after the
 * expiry (+ max skew) by its own clock records them per author (count,
 * seq range, the expiry), an author in good standing is never recorded;
 * a back-dated edit without a base cannot override a value written after
 * its stamp; one with a base past its expiry does override it (until the
 * next edit), and every store that takes it records that, whatever the
 * arrival order.
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

static struct fm_author_seen seen_of(struct fm_node *n, const uint8_t *pk)
{
    struct fm_author_seen *a, out;
    size_t count;
    memset(&out, 0, sizeof out);
    OK(fm_node_authors_seen(n, &a, &count));
    bool found = false;
    for (size_t i = 0; i < count; i++)
        if (memcmp(a[i].pk, pk, FM_PK_LEN) == 0) {
            out = a[i];
            found = true;
        }
    free(a);
    assert_true(found);
    return out;
}

static void ingest_all(struct fm_node *n, const struct fx_ops *l)
{
    struct fm_ingest_result res;
    OK(fx_ingest(n, l, 0, l->n, &res));
    assert_int_equal(res.rejected, 0);
}

static void test_late_ops_recorded(void **state)
{
    (void)state;
    const uint64_t now = fm_now_ms(), exp = now - FX_DAY_MS;
    struct lww_author e, g;
    struct fx_node n;
    /* expired yesterday; its log opened 20 days ago, a report 2 days ago */
    OK(lww_author_init(&e, &org.root, 0x61, "expired", now - 30 * FX_DAY_MS, exp,
                       (now - 20 * FX_DAY_MS) << 16));
    lww_at(&e, (now - 2 * FX_DAY_MS) << 16);
    OK(lww_report(&e, "written before expiry?"));
    lww_at(&e, (exp - 60000) << 16);
    OK(lww_report(&e, "a minute before expiry"));
    OK(lww_author_init(&g, &org.root, 0x62, "good", now - FX_DAY_MS, now + FX_DAY_MS,
                       (now - 1000) << 16));
    OK(lww_report(&g, "in good standing"));
    OK(fx_author(&org, &n, "reader"));
    OK(fx_open(&n, FM_OPEN_NOSYNC_));
    /* accepted: stamped inside the window; logged at WARN (stderr caught) */
    char logpath[400];
    snprintf(logpath, sizeof logpath, "%s/ingest.log", org.dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *lf = fopen(logpath, "w");
    assert_non_null(lf);
    dup2(fileno(lf), 2);
    fm_log_set_level(FM_LOG_WARN);
    ingest_all(n.n, &e.log.ops);
    ingest_all(n.n, &g.log.ops);
    fm_log_set_level(FM_LOG_ERROR);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(lf);
    char text[4096] = "";
    lf = fopen(logpath, "r");
    assert_non_null(lf);
    size_t got = fread(text, 1, sizeof text - 1, lf);
    text[got] = '\0';
    fclose(lf);
    assert_non_null(strstr(text, "WARN expiry: node expired ("));
    assert_non_null(strstr(text, "op seq 2 reached us after its certificate expired"));
    assert_null(strstr(text, "node good"));
    struct fm_author_seen s = seen_of(n.n, e.id.pk);
    assert_int_equal(s.late_ops, 2); /* its certificate op opens a window: not counted */
    assert_int_equal(s.late_first_seq, 2);
    assert_int_equal(s.late_last_seq, 3);
    assert_true(s.late_expires_ms == exp);
    assert_true(s.late_detected_ms >= now && s.late_detected_ms <= fm_now_ms());
    assert_int_equal(s.beyond_expiry_ops, 0);
    s = seen_of(n.n, g.id.pk);
    assert_int_equal(s.late_ops, 0);
    assert_int_equal(s.beyond_expiry_ops, 0);
    lww_author_done(&e);
    lww_author_done(&g);
    fx_done(&n);
}

static void test_backdated_edit(void **state)
{
    (void)state;
    const uint64_t now = fm_now_ms(), exp = now - FX_DAY_MS;
    struct lww_author e;
    struct fx_node d, r;
    char id[FM_ID_MAX], addr[FM_ADDRESS_MAX];
    OK(fx_author(&org, &d, "dispatcher"));
    OK(fx_open(&d, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(fx_author(&org, &r, "reader"));
    OK(fx_open(&r, FM_OPEN_NOSYNC_));
    struct fm_incident_new in = {.category = "fire", .priority = 1, .lat_e7 = 1, .lon_e7 = 1,
                                 .address = "written now"};
    OK(fm_node_incident_report(d.n, &in, id));
    struct fx_ops dlog = {0};
    OK(fx_collect(d.n, d.id.pk, &dlog));

    OK(lww_author_init(&e, &org.root, 0x63, "expired", now - 30 * FX_DAY_MS, exp,
                       (now - 20 * FX_DAY_MS) << 16));
    /* back-dated into its window, no base: loses to the value written now */
    lww_at(&e, (exp - 3600000) << 16);
    OK(lww_update(&e, d.id.pk, 2, "back-dated rewrite", 0));
    ingest_all(d.n, &e.log.ops);
    OK(lww_address(d.n, id, addr, sizeof addr));
    assert_string_equal(addr, "written now");
    assert_int_equal(seen_of(d.n, e.id.pk).beyond_expiry_ops, 0);

    /* the same with a base past its expiry: it wins (until the next
     * edit), and both stores record it, in either arrival order */
    struct payload *pl = lww_pl(OP_INC_UPDATE);
    assert_non_null(pl);
    lww_ref(pl, d.id.pk, 2);
    fm_strlcpy(pl->address, "back-dated, base inflated", sizeof pl->address);
    pl->log.base = (now + FX_DAY_MS) << 16;
    pl->present |= PT_BIT(PT_ADDRESS) | PT_BIT(PT_BASE);
    OK(lww_put(&e, pl));
    ingest_all(r.n, &e.log.ops);
    ingest_all(r.n, &dlog);
    ingest_all(d.n, &e.log.ops);
    for (int k = 0; k < 2; k++) {
        struct fm_node *n = k ? r.n : d.n;
        OK(lww_address(n, id, addr, sizeof addr));
        assert_string_equal(addr, "back-dated, base inflated");
        struct fm_author_seen s = seen_of(n, e.id.pk);
        assert_int_equal(s.beyond_expiry_ops, 1);
        assert_int_equal(s.beyond_expiry_first_seq, 3);
    }
    assert_int_equal(fx_digest_eq(d.n, r.n), 1);
    /* the dispatcher, having seen it, edits again: it wins */
    struct payload *fix = lww_pl(OP_INC_UPDATE);
    uint64_t seq;
    assert_non_null(fix);
    lww_ref(fix, d.id.pk, 2);
    fm_strlcpy(fix->address, "corrected", sizeof fix->address);
    fix->present |= PT_BIT(PT_ADDRESS);
    OK(node_write_payload(d.n, &fix->log, &seq));
    free(fix);
    OK(lww_address(d.n, id, addr, sizeof addr));
    assert_string_equal(addr, "corrected");
    fx_ops_free(&dlog);
    lww_author_done(&e);
    fx_done(&d);
    fx_done(&r);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_ops_recorded),
        cmocka_unit_test(test_backdated_edit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
