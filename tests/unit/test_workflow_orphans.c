/*
 * test_workflow_orphans.c — nothing stranded: an incident closes only
 * when no unit is out on it (or its tickets are cancelled in the same
 * write), orphans are listed alike on every node and escalate, and a close
 * and a dispatch made on two sides of a partition merge to the same
 * listed state in both arrival orders.
 *
 * The example directory is configs/directory.yaml (found through FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

struct orph_seen {
    size_t n;
    struct fm_orphan o[8];
};
static int orph_cb(void *ctx, const struct fm_orphan *o)
{
    struct orph_seen *s = ctx;
    if (s->n < 8)
        s->o[s->n] = *o;
    s->n++;
    return 0;
}
static void orphans(struct fm_node *n, struct orph_seen *s)
{
    memset(s, 0, sizeof *s);
    OK(fm_node_orphans(n, orph_cb, s));
}

static void ticket_state(struct fm_node *n, const char *id, enum fm_ticket_state want)
{
    struct fm_ticket tk;
    OK(fm_node_ticket_get(n, id, &tk));
    assert_int_equal(tk.state, want);
}

static void unit_status_is(struct fm_node *n, const char *id, const char *want)
{
    struct fm_unit u;
    OK(fm_node_unit_get(n, id, &u));
    assert_string_equal(u.status, want);
}

static uint64_t op_count(struct fm_node *n)
{
    struct fm_node_stats st;
    OK(fm_node_stats(n, &st));
    return st.ops;
}

static void incident_stage_is(struct fm_node *n, const char *id, enum fm_incident_stage want)
{
    struct fm_incident inc;
    OK(fm_node_incident_get(n, id, &inc));
    assert_int_equal(inc.stage, want);
}

/* A close with active tickets is refused and names how many; with
 * cancel_tickets they are cancelled in the same write and the units are
 * available again. */
static void test_close_refused_then_cancels(void **state)
{
    (void)state;
    struct fx_node c, st;
    struct fm_directory *d = load_dir();
    char inc[FM_ID_MAX], v[FM_ID_MAX], u1[FM_ID_MAX], u2[FM_ID_MAX], tk[2][FM_ID_MAX];
    size_t nactive = 99;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, inc);
    unit_id(c.n, "Patrol R1", u1);
    unit_id(c.n, "Engine C1", u2);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){u1, u2}, 2, NULL, tk));
    OK(fm_node_ticket_step(c.n, tk[1], FM_STEP_ACK, NULL));
    uint64_t before = op_count(c.n);
    assert_int_equal(fm_node_incident_close(c.n, inc, FM_STAGE_CLOSED, false, NULL, &nactive),
                     FM_ESTATE);
    assert_int_equal(nactive, 2);
    assert_int_equal(fm_node_incident_close(c.n, inc, FM_STAGE_RESOLVED, false, NULL, &nactive),
                     FM_ESTATE);
    assert_int_equal(op_count(c.n), before); /* nothing written by a refusal */
    incident_stage_is(c.n, inc, FM_STAGE_DISPATCHED);
    /* a station that did not report it may not close it at all */
    make_unit_node(&st, "station", FM_ROLE_STATION, "Patrol R1");
    OK(fx_sync(c.n, st.n, NULL));
    assert_int_equal(fm_node_incident_close(st.n, inc, FM_STAGE_CLOSED, true, NULL, NULL),
                     FM_EPERM);
    OK(fm_node_incident_close(c.n, inc, FM_STAGE_CLOSED, true, "caller withdrew", &nactive));
    assert_int_equal(nactive, 2);
    assert_int_equal(op_count(c.n), before + 3); /* two cancels and the status */
    ticket_state(c.n, tk[0], FM_TICKET_CANCELLED);
    ticket_state(c.n, tk[1], FM_TICKET_CANCELLED);
    unit_status_is(c.n, u1, "available");
    unit_status_is(c.n, u2, "available");
    incident_stage_is(c.n, inc, FM_STAGE_CLOSED);
    /* not forward: refused, and not for tickets */
    assert_int_equal(fm_node_incident_close(c.n, inc, FM_STAGE_RESOLVED, true, NULL, &nactive),
                     FM_ESTATE);
    assert_int_equal(nactive, 0);
    assert_int_equal(fm_node_incident_close(c.n, inc, FM_STAGE_ONSCENE, true, NULL, NULL),
                     FM_EINVAL);
    struct orph_seen s;
    orphans(c.n, &s);
    assert_int_equal(s.n, 0);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&st);
}

/* Open incidents with no active ticket are orphans of the kind that says
 * why, most urgent first; a never-dispatched one escalates after the rule's
 * period like an unacknowledged ticket, and only once per tier. */
static void test_orphans_listed_and_escalated(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    char i1[FM_ID_MAX], i2[FM_ID_MAX], i3[FM_ID_MAX], v[FM_ID_MAX], u1[FM_ID_MAX],
        u2[FM_ID_MAX], tk[1][FM_ID_MAX], tk2[1][FM_ID_MAX];
    struct fm_incident_workflow wf;
    struct orph_seen s;
    unsigned raised = 9;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, i1); /* never dispatched */
    report(c.n, "chemical_leak", 31.3, 121.55, 1, i2); /* ticket cancelled */
    report(c.n, "chemical_leak", 31.3, 121.55, 2, i3); /* unit cleared, still open */
    unit_id(c.n, "Patrol R1", u1);
    unit_id(c.n, "Engine C1", u2);
    OK(fm_node_dispatch(c.n, i2, (const char *const[]){u1}, 1, NULL, tk));
    OK(fm_node_dispatch(c.n, i3, (const char *const[]){u2}, 1, NULL, tk2));
    orphans(c.n, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.o[0].kind, FM_ORPHAN_UNDISPATCHED);
    assert_string_equal(s.o[0].incident, i1);
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_CANCEL, "wrong address"));
    OK(fm_node_ticket_step(c.n, tk2[0], FM_STEP_CLEAR, "done"));
    orphans(c.n, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.o[0].incident, i2); /* priority 1 first */
    assert_int_equal(s.o[0].kind, FM_ORPHAN_UNCOVERED);
    assert_string_equal(s.o[1].incident, i3);
    assert_int_equal(s.o[1].kind, FM_ORPHAN_CLEARED);
    assert_string_equal(s.o[2].incident, i1);
    assert_int_equal(s.o[2].kind, FM_ORPHAN_UNDISPATCHED);
    assert_string_equal(s.o[2].category, "chemical_leak");
    assert_true(s.o[0].since_hlc > s.o[2].since_hlc); /* waiting since the cancel */
    /* escalation: nothing before chemical_leak's 120 s, then tier 2 for the
     * undispatched and the uncovered one, not for the cleared one */
    uint64_t now = fm_now_ms();
    fm_node_workflow_tick(c.n, now + 60000, &raised);
    assert_int_equal(raised, 0);
    fm_node_workflow_tick(c.n, now + 125000, &raised);
    assert_int_equal(raised, 2);
    OK(fm_node_incident_workflow(c.n, i1, &wf));
    assert_int_equal(wf.escalated_tier, 2);
    OK(fm_node_incident_workflow(c.n, i2, &wf));
    assert_int_equal(wf.escalated_tier, 2);
    OK(fm_node_incident_workflow(c.n, i3, &wf));
    assert_int_equal(wf.escalated_tier, 0);
    fm_node_workflow_tick(c.n, now + 127000, &raised);
    assert_int_equal(raised, 0); /* tier 3 waits the full period again */
    /* dispatched, it is no orphan and no longer escalates as one */
    OK(fm_node_dispatch(c.n, i1, (const char *const[]){u2}, 1, NULL, tk));
    orphans(c.n, &s);
    assert_int_equal(s.n, 2);
    fm_directory_free(&d);
    fx_done(&c);
}

/* A centre closes an incident (cancelling its ticket) while a county cut
 * off from it dispatches another unit to it and records an acknowledgement
 * on the first ticket. After the heal, whichever side's ops arrive first,
 * both nodes hold the same state and list the same orphans: the incident
 * stays closed, the county's ticket is active on it (stranded), and the
 * first unit, acknowledged after the cancel, is busy with no ticket. */
static void test_close_and_dispatch_across_partition(void **state)
{
    (void)state;
    struct fx_node a, b;
    struct fm_directory *d = load_dir();
    char inc[FM_ID_MAX], v[FM_ID_MAX], u1[FM_ID_MAX], u2[FM_ID_MAX], t1[1][FM_ID_MAX],
        t2[1][FM_ID_MAX];
    struct orph_seen sa, sb;
    make_node(&a, "centre", FM_ROLE_CENTRE);
    make_node(&b, "county", FM_ROLE_COUNTY);
    OK(fm_node_directory_publish(a.n, d, v, NULL));
    report(a.n, "chemical_leak", 31.3, 121.55, 2, inc);
    unit_id(a.n, "Patrol R1", u1);
    unit_id(a.n, "Engine C1", u2);
    OK(fm_node_dispatch(a.n, inc, (const char *const[]){u1}, 1, NULL, t1));
    OK(fx_sync(a.n, b.n, NULL));
    /* partition */
    OK(fm_node_incident_close(a.n, inc, FM_STAGE_CLOSED, true, "handled by phone", NULL));
    OK(fm_node_dispatch(b.n, inc, (const char *const[]){u2}, 1, NULL, t2));
    OK(fm_node_ticket_step(b.n, t1[0], FM_STEP_ACK, NULL)); /* stamped after the cancel */
    orphans(a.n, &sa);
    assert_int_equal(sa.n, 0);
    /* heal: a takes b's ops after its own, b a's after its own */
    OK(fx_sync(b.n, a.n, NULL));
    OK(fx_sync(a.n, b.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    struct fx_node *both[2] = {&a, &b};
    for (size_t k = 0; k < 2; k++) {
        struct fm_node *n = both[k]->n;
        incident_stage_is(n, inc, FM_STAGE_CLOSED);
        ticket_state(n, t1[0], FM_TICKET_CANCELLED);
        ticket_state(n, t2[0], FM_TICKET_DISPATCHED);
        unit_status_is(n, u1, "assigned");
        unit_status_is(n, u2, "assigned");
    }
    orphans(a.n, &sa);
    orphans(b.n, &sb);
    assert_int_equal(sa.n, 2);
    assert_int_equal(sb.n, 2);
    assert_memory_equal(sa.o, sb.o, 2 * sizeof sa.o[0]);
    assert_int_equal(sa.o[0].kind, FM_ORPHAN_STRANDED);
    assert_string_equal(sa.o[0].ticket, t2[0]);
    assert_string_equal(sa.o[0].unit, u2);
    assert_string_equal(sa.o[0].unit_name, "Engine C1");
    assert_string_equal(sa.o[0].status, "closed");
    assert_int_equal(sa.o[1].kind, FM_ORPHAN_BUSY_UNIT);
    assert_string_equal(sa.o[1].unit, u1);
    /* a closed incident raises no escalation, stranded ticket or not */
    unsigned raised = 9;
    fm_node_workflow_tick(a.n, fm_now_ms() + 400000, &raised);
    assert_int_equal(raised, 0);
    /* the way out: closing again is "not forward", cancelling the stranded
     * ticket and freeing the unit empties the list everywhere */
    OK(fm_node_ticket_step(a.n, t2[0], FM_STEP_CANCEL, "incident was closed"));
    OK(fm_node_unit_status(a.n, u1, "available"));
    OK(fx_sync(a.n, b.n, NULL));
    orphans(a.n, &sa);
    orphans(b.n, &sb);
    assert_int_equal(sa.n, 0);
    assert_int_equal(sb.n, 0);
    fm_directory_free(&d);
    fx_done(&a);
    fx_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_refused_then_cancels),
        cmocka_unit_test(test_orphans_listed_and_escalated),
        cmocka_unit_test(test_close_and_dispatch_across_partition),
    };
    return wf_test_main("workflow_orphans", tests, sizeof tests / sizeof tests[0]);
}
