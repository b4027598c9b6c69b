/*
 * test_workflow_dup.c — the same emergency called in twice: possible
 * duplicates (same category, near, close in time, still open) and `link`,
 * which folds one into the other in one write, on every node alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

struct dup_seen {
    size_t n;
    struct fm_duplicate d[8];
};
static int dup_cb(void *ctx, const struct fm_duplicate *d)
{
    struct dup_seen *s = ctx;
    if (s->n < 8)
        s->d[s->n] = *d;
    s->n++;
    return 0;
}
static void dups(struct fm_node *n, const char *id, struct dup_seen *s)
{
    memset(s, 0, sizeof *s);
    OK(fm_node_incident_duplicates(n, id, FM_DUP_RADIUS_M, FM_DUP_WINDOW_S, dup_cb, s));
}

static void test_duplicates_found(void **state)
{
    (void)state;
    struct fx_node c, k;
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload *pl = calloc(1, sizeof *pl);
    char a[FM_ID_MAX], b[FM_ID_MAX], far[FM_ID_MAX], other[FM_ID_MAX], done[FM_ID_MAX];
    struct dup_seen s;
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    report(c.n, "gas_leak", 31.2, 121.4, 2, a);
    report(c.n, "gas_leak", 31.2005, 121.4005, 2, b);  /* ~73 m */
    report(c.n, "gas_leak", 31.21, 121.4, 2, far);      /* ~1.1 km */
    report(c.n, "fire", 31.2, 121.4, 2, other);         /* another category */
    report(c.n, "gas_leak", 31.2, 121.4001, 2, done);   /* closed below */
    OK(fm_node_incident_status(c.n, done, FM_STAGE_CLOSED, false));
    /* the county's report at the same place, 45 minutes ago */
    uint64_t now = fm_now_ms();
    fx_log_init(&g, &k.id);
    g.hlc = (now - 45 * 60 * 1000) << 16;
    OK(fx_log_cert(&g, &k.cert));
    pl->log.kind = OP_INC_REPORT;
    fm_strlcpy(pl->category, "gas_leak", sizeof pl->category);
    pl->priority = 2;
    pl->lat = 312000000;
    pl->lon = 1214000000;
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    dups(c.n, b, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.d[0].id, a);
    assert_true(s.d[0].earlier);
    assert_true(s.d[0].distance_m > 50 && s.d[0].distance_m < 100);
    dups(c.n, a, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.d[0].id, b);
    assert_false(s.d[0].earlier);
    /* a wider window takes the county's old report in; a larger radius the far one */
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_duplicates(c.n, a, FM_DUP_RADIUS_M, 3600, dup_cb, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.d[1].id, b); /* nearest first: the old one is 0 m away */
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_duplicates(c.n, a, 2000, FM_DUP_WINDOW_S, dup_cb, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.d[1].id, far);
    (void)other;
    fx_log_free(&g);
    free(pl);
    fx_done(&c);
    fx_done(&k);
}

static void test_link(void **state)
{
    (void)state;
    struct fx_node c, k;
    struct fm_directory *d = load_dir();
    struct fm_unit_new un = {.name = "G1", .department = "Gas", .kind = "repair", .tier = 2};
    struct fm_incident_new in = {.category = "gas_leak", .priority = 2, .lat_e7 = 312005000,
                                 .lon_e7 = 1214005000, .address = "Lane 5 no 3",
                                 .caller = "13800000000"};
    char a[FM_ID_MAX], b[FM_ID_MAX], uid[FM_ID_MAX], v[FM_ID_MAX], tk[1][FM_ID_MAX];
    struct fm_incident inc;
    struct fm_ticket t;
    struct dup_seen s;
    size_t nactive = 9;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "gas_leak", 31.2, 121.4, 2, a);
    OK(fm_node_incident_report(c.n, &in, b));
    OK(fm_node_unit_register(c.n, &un, uid));
    OK(fm_node_dispatch(c.n, b, (const char *const[]){uid}, 1, NULL, tk));
    assert_int_equal(fm_node_incident_link(c.n, b, b, true, NULL), FM_EINVAL);
    assert_int_equal(fm_node_incident_link(c.n, b, a, false, &nactive), FM_ESTATE);
    assert_int_equal(nactive, 1);
    OK(fm_node_incident_get(c.n, b, &inc));
    uint32_t notes_b = inc.nnotes;
    OK(fm_node_incident_get(c.n, a, &inc));
    uint32_t notes_a = inc.nnotes;
    OK(fm_node_incident_link(c.n, b, a, true, &nactive));
    assert_int_equal(nactive, 1);
    OK(fm_node_incident_get(c.n, b, &inc));
    assert_int_equal(inc.stage, FM_STAGE_CLOSED);
    assert_true(inc.nnotes > notes_b);
    OK(fm_node_incident_get(c.n, a, &inc));
    assert_int_equal(inc.nnotes, notes_a + 1);
    assert_int_equal(inc.stage, FM_STAGE_NEW);
    OK(fm_node_ticket_get(c.n, tk[0], &t));
    assert_int_equal(t.state, FM_TICKET_CANCELLED);
    dups(c.n, a, &s);
    assert_int_equal(s.n, 0); /* a closed duplicate is no candidate */
    /* linked twice: already closed; into a closed one: refused */
    assert_int_equal(fm_node_incident_link(c.n, b, a, true, &nactive), FM_ESTATE);
    assert_int_equal(nactive, 0);
    assert_int_equal(fm_node_incident_link(c.n, a, b, true, NULL), FM_ECLOSED);
    OK(fx_sync(c.n, k.n, NULL));
    assert_int_equal(fx_digest_eq(c.n, k.n), 1);
    OK(fm_node_incident_get(k.n, b, &inc));
    assert_int_equal(inc.stage, FM_STAGE_CLOSED);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&k);
}

/* The directory's duplicates: section: a wider radius, and gas_leak and
 * chemical_leak related (one emergency, whatever the call-takers chose). */
static void test_duplicates_by_directory(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    char v[FM_ID_MAX], a[FM_ID_MAX], b[FM_ID_MAX], far[FM_ID_MAX], other[FM_ID_MAX];
    struct dup_seen s;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    report(c.n, "gas_leak", 31.2, 121.4, 2, a);
    report(c.n, "chemical_leak", 31.2005, 121.4005, 2, b); /* ~73 m */
    report(c.n, "gas_leak", 31.21, 121.4, 2, far);          /* ~1.1 km */
    report(c.n, "building_fire", 31.2, 121.4, 2, other);   /* not related */
    /* without the section: the same category within 300 m only */
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_duplicates(c.n, a, 0, 0, dup_cb, &s));
    assert_int_equal(s.n, 0);
    d->dup_radius_m = 2000;
    fm_strlcpy(d->related[0].category, "gas_leak", sizeof d->related[0].category);
    fm_strlcpy(d->related[1].category, "chemical_leak", sizeof d->related[1].category);
    d->related[0].group = d->related[1].group = 0;
    d->nrelated = 2;
    char err[256];
    OK(directory_dups_normalise(d, err, sizeof err));
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_duplicates(c.n, a, 0, 0, dup_cb, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.d[0].id, b); /* related, nearest */
    assert_string_equal(s.d[1].id, far);
    /* an explicit radius still wins */
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_duplicates(c.n, a, 300, 0, dup_cb, &s));
    assert_int_equal(s.n, 1);
    (void)other;
    fm_directory_free(&d);
    fx_done(&c);
}

/* ---- merge (docs/workflow.md §3c) ---- */

struct tk_seen {
    size_t n;
    struct fm_ticket t[8];
};
static int tk_cb(void *ctx, const struct fm_ticket *t)
{
    struct tk_seen *s = ctx;
    if (s->n < 8)
        s->t[s->n] = *t;
    s->n++;
    return 0;
}

struct tl_seen {
    size_t n;
    bool found;
    const char *want;
};
static int tl_cb(void *ctx, const struct fm_timeline_entry *e)
{
    struct tl_seen *s = ctx;
    s->n++;
    s->found |= strstr(e->text, s->want) != NULL;
    return 0;
}

static void test_merge(void **state)
{
    (void)state;
    struct fx_node c, k, st;
    struct fm_directory *d = load_dir();
    struct fm_unit_new un = {.name = "G1", .department = "Gas", .kind = "repair", .tier = 2};
    char a[FM_ID_MAX], b[FM_ID_MAX], x[FM_ID_MAX], uid[FM_ID_MAX], v[FM_ID_MAX], tk[1][FM_ID_MAX];
    char d1[FM_ID_MAX], d2[FM_ID_MAX], got[FM_ID_MAX];
    struct fm_incident inc;
    struct tk_seen ts = {0};
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    make_node(&st, "station", FM_ROLE_STATION);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "gas_leak", 31.2, 121.4, 2, a);
    report(c.n, "gas_leak", 31.2005, 121.4005, 2, b);
    report(c.n, "fire", 31.3, 121.5, 3, x);
    OK(fm_node_unit_register(c.n, &un, uid));
    OK(fm_node_dispatch(c.n, b, (const char *const[]){uid}, 1, NULL, tk));
    OK(fm_node_incident_note(c.n, b, "smell of gas at the back door"));
    OK(fm_node_incident_feedback(c.n, b, 4, NULL));
    /* below op format 3 the op kind is not written: older nodes refuse it */
    assert_int_equal(fm_node_incident_merge(c.n, b, a, NULL, d1, d2), FM_ECONFIG);
    c.n->cfg.op_format = 3;
    assert_int_equal(fm_node_incident_merge(c.n, b, b, NULL, d1, d2), FM_EINVAL);
    OK(fm_node_incident_merge(c.n, b, a, "same leak, second caller", d1, d2));
    assert_string_equal(d1, b);
    assert_string_equal(d2, a);
    /* b's id names a now; a stands for two calls; b is no longer open */
    OK(fm_node_resolve_id(c.n, FM_ENT_INCIDENT, b, got));
    assert_string_equal(got, a);
    OK(fm_node_resolve_exact_id(c.n, FM_ENT_INCIDENT, b, got));
    assert_string_equal(got, b);
    OK(fm_node_incident_get(c.n, b, &inc));
    assert_string_equal(inc.id, a);
    assert_int_equal(inc.calls, 2);
    assert_string_equal(inc.merged_into, "");
    /* the ticket dispatched to b counts on a, naming where it came from */
    OK(fm_node_tickets(c.n, a, tk_cb, &ts));
    assert_int_equal(ts.n, 1);
    assert_string_equal(ts.t[0].id, tk[0]);
    assert_string_equal(ts.t[0].incident, a);
    assert_string_equal(ts.t[0].merged_from, b);
    /* notes and feedback too */
    struct tl_seen tl = {.want = "smell of gas"};
    OK(fm_node_incident_timeline(c.n, a, tl_cb, &tl));
    assert_true(tl.found);
    struct fm_incident_workflow wf;
    OK(fm_node_incident_workflow(c.n, a, &wf));
    assert_int_equal(wf.feedback_count, 1);
    assert_int_equal(wf.feedback_sum, 4);
    /* merged twice: refused, naming where it went; into a merged one: its survivor */
    assert_int_equal(fm_node_incident_merge(c.n, b, x, NULL, d1, d2), FM_ESTATE);
    assert_string_equal(d2, a);
    assert_int_equal(fm_node_incident_merge(c.n, a, b, NULL, d1, d2), FM_EINVAL);
    /* a dispatch to b goes to a; b is not an orphan, a is not either */
    struct fm_report rep;
    struct fm_report_query q = {.by = FM_REPORT_ALL};
    OK(fm_node_report(c.n, &q, &rep));
    assert_int_equal(rep.duplicates, 1);
    assert_int_equal(rep.tickets, 1);
    fm_report_release(&rep);
    /* a station may not merge */
    st.n->cfg.op_format = 3;
    OK(fx_sync(c.n, st.n, NULL));
    assert_int_equal(fm_node_incident_merge(st.n, x, a, NULL, d1, d2), FM_EPERM);
    /* into a closed incident: refused */
    OK(fm_node_incident_status(c.n, x, FM_STAGE_CLOSED, false));
    char y[FM_ID_MAX];
    report(c.n, "fire", 31.3, 121.5, 3, y);
    assert_int_equal(fm_node_incident_merge(c.n, y, x, NULL, d1, d2), FM_ECLOSED);
    /* every node alike */
    OK(fx_sync(c.n, k.n, NULL));
    assert_int_equal(fx_digest_eq(c.n, k.n), 1);
    OK(fm_node_incident_get(k.n, b, &inc));
    assert_string_equal(inc.id, a);
    assert_int_equal(inc.calls, 2);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&k);
    fx_done(&st);
}

/* Two dispatchers apart: one folds a into b, the other b into a; and one
 * incident folded into two others. After the sync both nodes agree: the
 * cycle ends at the earlier report, the double merge at the earlier op. */
static void test_merge_apart(void **state)
{
    (void)state;
    struct fx_node c, k;
    char a[FM_ID_MAX], b[FM_ID_MAX], e[FM_ID_MAX], f[FM_ID_MAX], g[FM_ID_MAX];
    char d1[FM_ID_MAX], d2[FM_ID_MAX];
    struct fm_incident inc;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    c.n->cfg.op_format = k.n->cfg.op_format = 3;
    report(c.n, "gas_leak", 31.2, 121.4, 2, a); /* the earlier call */
    usleep(2000); /* so its stamp is earlier, not equal (a tie goes by id) */
    report(k.n, "gas_leak", 31.2005, 121.4005, 2, b);
    report(c.n, "fire", 31.3, 121.5, 3, e);
    report(c.n, "fire", 31.3, 121.5, 3, f);
    report(c.n, "fire", 31.3, 121.5, 3, g);
    OK(fx_sync(c.n, k.n, NULL));
    OK(fx_sync(k.n, c.n, NULL));
    /* apart */
    OK(fm_node_incident_merge(c.n, a, b, NULL, d1, d2));
    OK(fm_node_incident_merge(k.n, b, a, NULL, d1, d2));
    OK(fm_node_incident_merge(k.n, g, f, NULL, d1, d2)); /* the county first */
    usleep(2000);
    OK(fm_node_incident_merge(c.n, g, e, NULL, d1, d2));
    /* each side believes its own merge */
    OK(fm_node_incident_get(c.n, a, &inc));
    assert_string_equal(inc.id, b);
    OK(fm_node_incident_get(k.n, b, &inc));
    assert_string_equal(inc.id, a);
    /* heal, in opposite orders */
    OK(fx_sync(k.n, c.n, NULL));
    OK(fx_sync(c.n, k.n, NULL));
    assert_int_equal(fx_digest_eq(c.n, k.n), 1);
    struct fx_node *both[2] = {&c, &k};
    for (int i = 0; i < 2; i++) {
        struct fm_node *n = both[i]->n;
        OK(fm_node_incident_get(n, a, &inc));
        assert_string_equal(inc.id, a);
        assert_int_equal(inc.calls, 2);
        OK(fm_node_incident_get(n, b, &inc));
        assert_string_equal(inc.id, a);
        OK(fm_node_incident_get(n, g, &inc));
        assert_string_equal(inc.id, f); /* the county's merge was first */
        OK(fm_node_incident_get(n, e, &inc));
        assert_int_equal(inc.calls, 1);
    }
    fx_done(&c);
    fx_done(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_found),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_duplicates_by_directory),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_apart),
    };
    return wf_test_main("workflow_dup", tests, sizeof tests / sizeof tests[0]);
}
