/*
 * test_workflow_heal.c — the workflow after partitions heal and its
 * assessment: conflicts (a unit double-booked, stock below zero, cleared
 * against cancelled) and their resolution, decisions on which fact stands
 * (op format 5) and what the ticket and the report then say, in both
 * arrival orders and with a wrong role, the report with its interval
 * statistics and clock note, and step reports that say who wrote them.
 *
 * The example directory is configs/directory.yaml (found through FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"
#include "wf_test_util.h"

/* ---- conflicts ---- */

struct cf_seen {
    size_t n;
    char ids[8][FM_CONFLICT_ID_MAX];
    bool resolved[8];
};
static int cf_cb(void *ctx, const struct fm_conflict *c)
{
    struct cf_seen *s = ctx;
    if (s->n < 8) {
        fm_strlcpy(s->ids[s->n], c->id, FM_CONFLICT_ID_MAX);
        s->resolved[s->n] = c->resolved;
    }
    s->n++;
    return 0;
}

static void test_conflicts_after_partition(void **state)
{
    (void)state;
    struct fx_node a, b;
    char i1[FM_ID_MAX], i2[FM_ID_MAX], uid[FM_ID_MAX], rid[FM_ID_MAX], ta[1][FM_ID_MAX],
        tb[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "E1", .department = "Fire", .kind = "engine", .tier = 1};
    struct cf_seen sa = {0}, sb = {0};
    make_node(&a, "a", FM_ROLE_CENTRE);
    make_node(&b, "b", FM_ROLE_COUNTY);
    report(a.n, "fire", 1, 1, 2, i1);
    OK(fm_node_unit_register(a.n, &un, uid));
    OK(fm_node_resource_add(a.n, "foam", "depot", 10, rid));
    OK(fm_node_dispatch(a.n, i1, (const char *const[]){uid}, 1, NULL, ta));
    OK(fx_sync(a.n, b.n, NULL));
    report(b.n, "fire", 2, 2, 2, i2);
    (void)tb;
    /* partition: each side clears the ticket with its own result and
     * consumes the same stock */
    OK(fm_node_resource_adjust(a.n, rid, -7));
    OK(fm_node_resource_adjust(b.n, rid, -6));
    OK(fm_node_ticket_step(a.n, ta[0], FM_STEP_CLEAR, "done"));
    OK(fm_node_ticket_step(b.n, ta[0], FM_STEP_CLEAR, "false alarm"));
    OK(fm_node_conflicts(a.n, false, cf_cb, &sa));
    assert_int_equal(sa.n, 0);
    /* heal */
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    OK(fm_node_conflicts(a.n, false, cf_cb, &sa));
    OK(fm_node_conflicts(b.n, false, cf_cb, &sb));
    assert_int_equal(sa.n, 2);
    assert_int_equal(sb.n, 2);
    char want[2][FM_CONFLICT_ID_MAX];
    snprintf(want[0], sizeof want[0], "results:%s", ta[0]);
    snprintf(want[1], sizeof want[1], "stock:%s", rid);
    assert_string_equal(sa.ids[0], want[0]);
    assert_string_equal(sa.ids[1], want[1]);
    assert_string_equal(sb.ids[0], want[0]);
    /* resolve the stock conflict on b; a sees it after sync */
    assert_int_equal(fm_node_conflict_resolve(b.n, "stock:nope", NULL, FM_KEEP_NONE, 0), FM_ENOTFOUND);
    OK(fm_node_conflict_resolve(b.n, want[1], "restock ordered", FM_KEEP_NONE, 0));
    OK(fx_sync(b.n, a.n, NULL));
    memset(&sa, 0, sizeof sa);
    OK(fm_node_conflicts(a.n, false, cf_cb, &sa));
    assert_int_equal(sa.n, 1);
    memset(&sa, 0, sizeof sa);
    OK(fm_node_conflicts(a.n, true, cf_cb, &sa));
    assert_int_equal(sa.n, 2);
    assert_true(sa.resolved[1]);
    /* the facts change (more consumed): the conflict is open again */
    OK(fm_node_resource_adjust(a.n, rid, 1)); /* restock 1: quantity -2 */
    memset(&sa, 0, sizeof sa);
    OK(fm_node_conflicts(a.n, false, cf_cb, &sa));
    assert_int_equal(sa.n, 2);
    fx_done(&a);
    fx_done(&b);
}

struct ev_seen {
    size_t n;
    bool other; /* an event that is no ticket step */
};
static int ev_cb(void *ctx, const struct fm_ticket_event *e)
{
    struct ev_seen *s = ctx;
    static const char *const steps[] = {"dispatch", "ack",    "enroute", "arrive",
                                        "clear",    "cancel", "reassign"};
    bool known = false;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        known |= strcmp(e->step, steps[i]) == 0;
    s->other |= !known;
    s->n++;
    return 0;
}

/* Entity ids are (author, seq) of the creating op, so a validly signed note
 * may name a ticket's id as its incident. The ticket's history, the
 * conflicts list and the incident's own timeline stay apart, in both
 * arrival orders (found by the property test: the ticket reader met the
 * note's entry and the conflicts list failed for everyone). */
static void test_note_naming_a_ticket_id(void **state)
{
    (void)state;
    struct fx_node a, b, c, x;
    char i1[FM_ID_MAX], uid[FM_ID_MAX], ta[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "E1", .department = "Fire", .kind = "engine", .tier = 1};
    make_node(&a, "a", FM_ROLE_CENTRE);
    make_node(&b, "b", FM_ROLE_COUNTY);
    make_node(&c, "c", FM_ROLE_COUNTY);
    report(a.n, "fire", 1, 1, 2, i1);
    OK(fm_node_unit_register(a.n, &un, uid));
    OK(fm_node_dispatch(a.n, i1, (const char *const[]){uid}, 1, NULL, ta));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fm_node_ticket_step(a.n, ta[0], FM_STEP_CLEAR, "done"));
    OK(fm_node_ticket_step(b.n, ta[0], FM_STEP_CLEAR, "false alarm"));
    OK(fx_sync(b.n, a.n, NULL));
    /* x's note names the ticket's id as its incident */
    OK(fx_author(&org, &x, "x"));
    set_role(&x, FM_ROLE_COUNTY);
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    pl->log.kind = OP_INC_NOTE;
    memcpy(pl->ref.author, a.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(ta[0]);
    fm_strlcpy(pl->text, "a note on the ticket's id", sizeof pl->text);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    OK(fx_log_pl(&g, pl));
    free(pl);
    /* a: the ticket first, then the note; c: the note first, then the rest */
    OK(fx_ingest(a.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_sync(a.n, c.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);
    struct fm_node *nodes[2] = {a.n, c.n};
    for (int i = 0; i < 2; i++) {
        struct cf_seen s = {0};
        struct ev_seen e = {0};
        struct tl t = {0};
        char want[FM_CONFLICT_ID_MAX];
        OK(fm_node_conflicts(nodes[i], false, cf_cb, &s));
        snprintf(want, sizeof want, "results:%s", ta[0]);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.ids[0], want);
        OK(fm_node_ticket_history(nodes[i], ta[0], ev_cb, &e));
        assert_int_equal(e.n, 3); /* dispatch, two clears */
        assert_false(e.other);
        OK(fm_node_incident_timeline(nodes[i], i1, collect_tl, &t));
        for (size_t k = 0; k < t.n; k++)
            assert_null(strstr(t.e[k].text, "ticket's id"));
    }
    fx_log_free(&g);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c);
    fx_done(&x);
}

static void test_double_booked_unit(void **state)
{
    (void)state;
    struct fx_node a, b;
    char i1[FM_ID_MAX], i2[FM_ID_MAX], uid[FM_ID_MAX], ta[1][FM_ID_MAX], tb[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "E1", .department = "Fire", .kind = "engine", .tier = 1};
    struct cf_seen s = {0};
    make_node(&a, "a", FM_ROLE_CENTRE);
    make_node(&b, "b", FM_ROLE_COUNTY);
    report(a.n, "fire", 1, 1, 2, i1);
    report(a.n, "fire", 1.1, 1, 2, i2);
    OK(fm_node_unit_register(a.n, &un, uid));
    OK(fx_sync(a.n, b.n, NULL));
    /* partition: the same unit sent to two incidents */
    OK(fm_node_dispatch(a.n, i1, (const char *const[]){uid}, 1, NULL, ta));
    OK(fm_node_dispatch(b.n, i2, (const char *const[]){uid}, 1, NULL, tb));
    /* and one side clears the other's ticket while the other reassigns it */
    OK(fx_sync(a.n, b.n, NULL));
    OK(fm_node_conflicts(b.n, false, cf_cb, &s));
    assert_int_equal(s.n, 1);
    char want[FM_CONFLICT_ID_MAX];
    snprintf(want, sizeof want, "double:%s", uid);
    assert_string_equal(s.ids[0], want);
    OK(fx_sync(b.n, a.n, NULL));
    memset(&s, 0, sizeof s);
    OK(fm_node_conflicts(a.n, false, cf_cb, &s));
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], want);
    /* a dispatcher sorts it out: cancel one ticket; the conflict is gone */
    OK(fm_node_ticket_step(a.n, tb[0], FM_STEP_CANCEL, "sent elsewhere"));
    memset(&s, 0, sizeof s);
    OK(fm_node_conflicts(a.n, false, cf_cb, &s));
    assert_int_equal(s.n, 0);
    /* cleared on one side, reassigned on the other */
    char u2[FM_ID_MAX], nt[FM_ID_MAX];
    struct fm_unit_new un2 = {.name = "E2", .department = "Fire", .kind = "engine", .tier = 1};
    OK(fm_node_unit_register(a.n, &un2, u2));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fm_node_ticket_step(a.n, ta[0], FM_STEP_CLEAR, "done"));
    OK(fm_node_ticket_reassign(b.n, ta[0], u2, "E1 is stuck", nt));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    memset(&s, 0, sizeof s);
    OK(fm_node_conflicts(a.n, false, cf_cb, &s));
    assert_int_equal(s.n, 1);
    snprintf(want, sizeof want, "clear-reassign:%s", ta[0]);
    assert_string_equal(s.ids[0], want);
    fx_done(&a);
    fx_done(&b);
}

/* ---- deciding which fact stands (op format 5) ---- */

struct rp_count {
    size_t cleared, cancelled, tickets;
};

static void report_counts(struct fm_node *n, struct rp_count *c)
{
    struct fm_report_query q = {.by = FM_REPORT_UNIT};
    struct fm_report r;
    memset(c, 0, sizeof *c);
    OK(fm_node_report(n, &q, &r));
    for (size_t i = 0; i < r.ngroups; i++) {
        c->cleared += r.groups[i].cleared;
        c->cancelled += r.groups[i].cancelled;
        c->tickets += r.groups[i].tickets;
    }
    fm_report_release(&r);
}

/* A conflict.resolve deciding `decision` on conflict o, signed by g's key
 * at g's clock (hand-built: no writer's check). */
static void log_decision(struct fx_log *g, const struct fm_conflict *c, uint8_t decision)
{
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    pl->log.kind = OP_CONFLICT_RESOLVE;
    fm_strlcpy(pl->text, c->id, sizeof pl->text);
    memcpy(pl->blob, c->fingerprint, FM_HASH_LEN);
    pl->blob_len = FM_HASH_LEN;
    pl->code = decision;
    pl->present = PT_BIT(PT_TEXT) | PT_BIT(PT_BLOB) | PT_BIT(PT_CODE);
    OK(fx_log_pl(g, pl));
    free(pl);
}

struct cf_one {
    char id[FM_CONFLICT_ID_MAX];
    struct fm_conflict c;
    bool found;
};
static int cf_find(void *ctx, const struct fm_conflict *c)
{
    struct cf_one *o = ctx;
    if (strcmp(c->id, o->id) == 0) {
        o->c = *c;
        o->found = true;
    }
    return 0;
}

static void test_conflict_decisions(void **state)
{
    (void)state;
    struct fx_node a, b, v, late;
    char i1[FM_ID_MAX], uid[FM_ID_MAX], ta[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "E1", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_ticket tk;
    struct rp_count rc;
    struct cf_one o = {0};
    OK(fx_author(&org, &a, "a"));
    set_role(&a, FM_ROLE_CENTRE);
    a.cfg.op_format = 5;
    OK(fx_open(&a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(fx_author(&org, &b, "b"));
    set_role(&b, FM_ROLE_COUNTY);
    b.cfg.op_format = 5;
    OK(fx_open(&b, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    make_node(&late, "late", FM_ROLE_COUNTY); /* gets the ops in another order */
    report(a.n, "fire", 1, 1, 2, i1);
    OK(fm_node_unit_register(a.n, &un, uid));
    OK(fm_node_dispatch(a.n, i1, (const char *const[]){uid}, 1, NULL, ta));
    OK(fx_sync(a.n, b.n, NULL));
    /* partition: the crew's result is cleared on a, the dispatch cancelled
     * on b (it thought the call a duplicate) */
    OK(fm_node_ticket_step(a.n, ta[0], FM_STEP_CLEAR, "fire out, two rescued"));
    OK(fm_node_ticket_step(b.n, ta[0], FM_STEP_CANCEL, "duplicate call"));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    snprintf(o.id, sizeof o.id, "clear-cancel:%s", ta[0]);
    OK(fm_node_conflicts(a.n, false, cf_find, &o));
    assert_true(o.found);
    /* as merged, the ticket reads cleared */
    OK(fm_node_ticket_get(a.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CLEARED);
    report_counts(a.n, &rc);
    assert_int_equal(rc.cleared, 1);
    assert_int_equal(rc.cancelled, 0);
    /* decisions that do not fit the kind, or at an older op format, are refused */
    assert_int_equal(fm_node_conflict_resolve(b.n, o.id, NULL, FM_KEEP_REASSIGNED, 0),
                     FM_EINVAL);
    assert_int_equal(fm_node_conflict_resolve(b.n, o.id, NULL, FM_KEEP_RESULT, 1), FM_EINVAL);
    assert_int_equal(fm_node_conflict_resolve(late.n, o.id, NULL, FM_KEEP_CANCELLED, 0),
                     FM_ECONFIG); /* late is at op format 1 */
    /* b decides the cancel stands: on both nodes the ticket and the report
     * say cancelled; the conflict shows who and why */
    OK(fm_node_conflict_resolve(b.n, o.id, "the caller rang twice", FM_KEEP_CANCELLED, 0));
    OK(fx_sync(b.n, a.n, NULL));
    OK(fm_node_ticket_get(a.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    assert_false(tk.active);
    report_counts(a.n, &rc);
    assert_int_equal(rc.cleared, 0);
    assert_int_equal(rc.cancelled, 1);
    o.found = false;
    OK(fm_node_conflicts(a.n, true, cf_find, &o));
    assert_true(o.found && o.c.resolved);
    assert_string_equal(o.c.resolved_by_name, "b");
    assert_string_equal(o.c.decided, "the cancel stands");
    assert_string_equal(o.c.resolution, "the caller rang twice");
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    /* a node receiving the decision before the facts it names (b's own
     * log, with its cancel and its decision, before a's dispatch and
     * clear) ends the same: the decision waits for them */
    struct fx_ops only_b = {0};
    OK(fx_collect(b.n, b.id.pk, &only_b));
    OK(fx_ingest(late.n, &only_b, 0, only_b.n, NULL));
    fx_ops_free(&only_b);
    assert_int_equal(fm_node_ticket_get(late.n, ta[0], &tk), FM_ENOTFOUND);
    OK(fx_sync(a.n, late.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, late.n), 1);
    OK(fm_node_ticket_get(late.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);

    /* two closing results: decide the second as listed */
    char i2[FM_ID_MAX], u2[FM_ID_MAX], t2[1][FM_ID_MAX];
    struct fm_unit_new un2 = {.name = "E2", .department = "Fire", .kind = "engine", .tier = 1};
    report(a.n, "fire", 1.2, 1, 2, i2);
    OK(fm_node_unit_register(a.n, &un2, u2));
    OK(fm_node_dispatch(a.n, i2, (const char *const[]){u2}, 1, NULL, t2));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(a.n, late.n, NULL)); /* late, cut off from now on, clears it a third way */
    OK(fm_node_ticket_step(late.n, t2[0], FM_STEP_CLEAR, "charlie: false alarm"));
    OK(fm_node_ticket_step(a.n, t2[0], FM_STEP_CLEAR, "alpha: smoke only"));
    OK(fm_node_ticket_step(b.n, t2[0], FM_STEP_CLEAR, "bravo: kitchen fire put out"));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    memset(&o, 0, sizeof o);
    snprintf(o.id, sizeof o.id, "results:%s", t2[0]);
    OK(fm_node_conflicts(a.n, false, cf_find, &o));
    assert_true(o.found);
    /* listed in order, numbered for --result */
    assert_non_null(strstr(o.c.detail, "1: 'alpha: smoke only' 2: 'bravo: kitchen fire put out'"));
    /* as merged, the ticket reads the clear stamped first; decide the other */
    static const char *const both[] = {"alpha: smoke only", "bravo: kitchen fire put out"};
    OK(fm_node_ticket_get(a.n, t2[0], &tk));
    unsigned other = strcmp(tk.result, both[0]) == 0 ? 2 : 1;
    assert_string_equal(tk.result, both[2 - other]);
    assert_int_equal(fm_node_conflict_resolve(a.n, o.id, NULL, FM_KEEP_RESULT, 3), FM_EINVAL);
    OK(fm_node_conflict_resolve(a.n, o.id, NULL, FM_KEEP_RESULT, other));
    OK(fx_sync(a.n, b.n, NULL));
    OK(fm_node_ticket_get(b.n, t2[0], &tk));
    assert_string_equal(tk.result, both[other - 1]);
    o.found = false;
    OK(fm_node_conflicts(b.n, true, cf_find, &o));
    char want_decided[128];
    snprintf(want_decided, sizeof want_decided, "result '%s' stands", both[other - 1]);
    assert_string_equal(o.c.decided, want_decided);
    /* a third result arrives: the decision no longer holds, the conflict
     * is open again and the ticket reads as merged */
    OK(fx_sync(late.n, b.n, NULL));
    OK(fm_node_ticket_get(b.n, t2[0], &tk));
    assert_string_equal(tk.result, "charlie: false alarm"); /* the earliest clear */
    o.found = false;
    OK(fm_node_conflicts(b.n, false, cf_find, &o));
    assert_true(o.found && !o.c.resolved);

    /* a validly signed decision from a role that may not resolve (E1's
     * vehicle, whose ticket it is) is refused at ingest on every node: the
     * first ticket stays as b decided */
    struct fx_log g;
    struct fm_ingest_result res;
    memset(&o, 0, sizeof o);
    snprintf(o.id, sizeof o.id, "clear-cancel:%s", ta[0]);
    OK(fm_node_conflicts(a.n, true, cf_find, &o));
    assert_true(o.found && o.c.resolved);
    make_unit_node(&v, "v", FM_ROLE_VEHICLE, "E1");
    fx_log_init(&g, &v.id);
    OK(fx_log_cert(&g, &v.cert));
    log_decision(&g, &o.c, RD_CLEARED);
    OK(fx_ingest(a.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EPERM);
    OK(fm_node_ticket_get(a.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    fx_log_free(&g);
    /* a county whose clock is 300 days ahead decides the clear stands: its
     * stamp would win every plain last-writer merge, but a centre that saw
     * it decides again, and its decision (carrying what it saw as its
     * base) stands on every node, whichever arrives first */
    struct fx_node fut;
    OK(fx_author(&org, &fut, "fast clock"));
    set_role(&fut, FM_ROLE_COUNTY);
    fx_log_init(&g, &fut.id);
    OK(fx_log_cert(&g, &fut.cert));
    g.hlc += (300ull * 86400 * 1000) << 16;
    log_decision(&g, &o.c, RD_CLEARED);
    OK(fx_ingest(a.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fm_node_ticket_get(a.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CLEARED); /* the later stamp, for now */
    OK(fm_node_conflict_resolve(a.n, o.id, "overruled: the call was a duplicate",
                                FM_KEEP_CANCELLED, 0));
    OK(fm_node_ticket_get(a.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    /* late gets a's override before the fast clock's decision, b both at
     * once: all end with the override */
    struct fx_ops only_a = {0};
    OK(fx_collect(a.n, a.id.pk, &only_a));
    OK(fx_ingest(late.n, &only_a, 0, only_a.n, NULL));
    fx_ops_free(&only_a);
    OK(fm_node_ticket_get(late.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    OK(fx_sync(a.n, late.n, NULL));
    OK(fm_node_ticket_get(late.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    OK(fx_sync(b.n, late.n, NULL));
    OK(fm_node_ticket_get(b.n, ta[0], &tk));
    assert_int_equal(tk.state, FM_TICKET_CANCELLED);
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    assert_int_equal(fx_digest_eq(a.n, late.n), 1);
    o.found = false;
    OK(fm_node_conflicts(b.n, true, cf_find, &o));
    assert_string_equal(o.c.resolved_by_name, "a");
    assert_string_equal(o.c.decided, "the cancel stands");
    fx_log_free(&g);
    fx_done(&fut);
    fx_done(&v);
    fx_done(&a);
    fx_done(&b);
    fx_done(&late);
}

/* ---- the report: intervals, percentiles, clocks that disagree ---- */

static void test_report_and_clock_note(void **state)
{
    (void)state;
    struct fx_node c, veh;
    struct fx_log g;
    struct payload *pl = calloc(1, sizeof *pl);
    char inc[FM_ID_MAX], u[3][FM_ID_MAX], tk[3][FM_ID_MAX];
    struct fm_report r;
    struct fm_report_query q = {.by = FM_REPORT_UNIT};
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&veh, "vehicle", FM_ROLE_VEHICLE, "E1");
    report(c.n, "fire", 1, 1, 2, inc);
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "E%d", i);
        struct fm_unit_new un = {.name = name, .department = "Fire", .kind = "engine",
                                 .tier = 1};
        OK(fm_node_unit_register(c.n, &un, u[i]));
    }
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){u[0], u[1], u[2]}, 3, NULL, tk));
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_ARRIVE, NULL));
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_CLEAR, "out"));
    OK(fm_node_ticket_step(c.n, tk[2], FM_STEP_CANCEL, NULL));
    OK(fm_node_incident_feedback(c.n, inc, 2, NULL));
    OK(fm_node_incident_feedback(c.n, inc, 5, "thanks"));
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.tickets, 3);
    assert_int_equal(r.ngroups, 3);
    assert_string_equal(r.groups[0].key, "E0");
    assert_int_equal(r.groups[0].interval[1].n, 1); /* dispatch -> ack */
    assert_int_equal(r.groups[0].interval[2].n, 0); /* no en route step: no interval */
    assert_int_equal(r.groups[0].interval[3].n, 0); /* en route -> on scene: likewise */
    assert_int_equal(r.groups[0].interval[4].n, 1); /* on scene -> cleared */
    assert_int_equal(r.groups[0].response.n, 1);
    assert_int_equal(r.groups[0].cleared, 1);
    assert_int_equal(r.groups[2].cancelled, 1);
    assert_true(r.groups[0].feedback_n == 2 && r.groups[0].feedback_sum == 7.0);
    assert_string_equal(r.clock_note, "");
    fm_report_release(&r);

    /* a vehicle whose clock is 60 s behind acknowledges E1's ticket: the
     * ack is stamped before the dispatch */
    OK(fx_sync(c.n, veh.n, NULL));
    fx_log_init(&g, &veh.id);
    g.hlc = (fm_now_ms() - 60000) << 16;
    OK(fx_log_cert(&g, &veh.cert));
    pl->log.kind = OP_TICKET_STEP;
    memcpy(pl->ref.author, c.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(tk[1]);
    memcpy(pl->ref2.author, c.id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(inc);
    memcpy(pl->ref3.author, c.id.pk, FM_PK_LEN);
    pl->ref3.seq = id_seq(u[1]);
    pl->code = TS_ACK;
    fm_strlcpy(pl->name, "E1", sizeof pl->name); /* the vehicle's own unit */
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                  PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS) | PT_BIT(PT_NAME);
    OK(fx_log_pl(&g, pl));
    struct fm_ingest_result res;
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    q.by = FM_REPORT_ALL;
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.negative_intervals, 1);
    assert_non_null(strstr(r.clock_note, "clocks disagreed"));
    char tag[FM_KEY_TEXT_LEN];
    fm_key_encode(veh.id.pk, tag);
    tag[FM_KEY_TAG_LEN] = '\0';
    assert_non_null(strstr(r.clock_note, tag));
    assert_int_equal(r.groups[0].interval[1].n, 1); /* the bad interval is left out */
    fm_report_release(&r);
    /* the window filters by report time */
    q.from_ms = fm_now_ms() + 3600000;
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.tickets, 0);
    fm_report_release(&r);
    fx_log_free(&g);
    free(pl);
    fx_done(&c);
    fx_done(&veh);
}

/* Ticket steps say honestly whose report they are: a dispatcher's is on
 * the unit's behalf, a station's or vehicle's is the unit's own (refused
 * at ingest otherwise), and a station or vehicle whose certificate names
 * another unit is refused by its writer. */
static void step_op(struct payload *pl, const struct fx_node *c, const char *tk,
                    const char *inc, const char *unit, const char *name, uint8_t flags)
{
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_TICKET_STEP;
    memcpy(pl->ref.author, c->id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(tk);
    memcpy(pl->ref2.author, c->id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(inc);
    memcpy(pl->ref3.author, c->id.pk, FM_PK_LEN);
    pl->ref3.seq = id_seq(unit);
    pl->code = TS_ACK;
    pl->flags = flags;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                  PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS);
    if (name) {
        fm_strlcpy(pl->name, name, sizeof pl->name);
        pl->present |= PT_BIT(PT_NAME);
    }
}

static void test_step_author_honest(void **state)
{
    (void)state;
    struct fx_node c, own, other, k;
    struct fx_log g;
    struct fm_ingest_result res;
    struct fm_ticket t;
    struct payload *pl = calloc(1, sizeof *pl);
    char inc[FM_ID_MAX], u[2][FM_ID_MAX], tk[2][FM_ID_MAX];
    struct fm_unit_new a = {.name = "Engine 1", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_unit_new b = {.name = "Ladder 9", .department = "Fire", .kind = "ladder", .tier = 1};
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&own, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    make_unit_node(&other, "station9", FM_ROLE_STATION, "Ladder 9");
    make_node(&k, "county", FM_ROLE_COUNTY);
    report(c.n, "fire", 1, 1, 2, inc);
    OK(fm_node_unit_register(c.n, &a, u[0]));
    OK(fm_node_unit_register(c.n, &b, u[1]));
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){u[0], u[1]}, 2, NULL, tk));
    OK(fx_sync(c.n, own.n, NULL));
    OK(fx_sync(c.n, other.n, NULL));
    /* a station of another unit may not report for Engine 1 */
    assert_int_equal(fm_node_ticket_step(other.n, tk[0], FM_STEP_ACK, NULL), FM_EUNIT);
    /* Engine 1's own node: its own report */
    OK(fm_node_ticket_step(own.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_get(own.n, tk[0], &t));
    assert_false(t.acked.behalf);
    /* the centre for Ladder 9 (radioed in): on its behalf */
    OK(fm_node_ticket_step(c.n, tk[1], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_get(c.n, tk[1], &t));
    assert_true(t.acked.behalf);

    /* hand-made ops, refused at ingest on every node: Ladder 9's station
     * claiming to report on a unit's behalf, and a county claiming to be
     * the unit itself */
    fx_log_init(&g, &other.id);
    OK(fx_log_cert(&g, &other.cert));
    step_op(pl, &c, tk[1], inc, u[1], "Ladder 9", 1);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(k.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1); /* the certificate only */
    assert_int_equal(res.err, FM_EPERM);
    fx_log_free(&g);
    fx_log_init(&g, &k.id);
    OK(fx_log_cert(&g, &k.cert));
    step_op(pl, &c, tk[1], inc, u[1], "Ladder 9", 0);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.err, FM_EPERM);
    fx_log_free(&g);
    /* the same county op, honestly on the unit's behalf, is taken */
    fx_log_init(&g, &k.id);
    OK(fx_log_cert(&g, &k.cert));
    step_op(pl, &c, tk[1], inc, u[1], "Ladder 9", 1);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(own.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    fx_log_free(&g);
    free(pl);
    fx_done(&c);
    fx_done(&own);
    fx_done(&other);
    fx_done(&k);
}

/* A dispatch that records no unit name (hand-made here: our writers refuse
 * a unit they do not know, but a dispatcher key may sign one): a station of another unit that steps on it with
 * the unit's ref and its own name is still ignored (judged against the
 * unit's registration, waiting for it), and the unit's own vehicle is
 * taken; alike in both arrival orders. */
static void test_step_on_an_unnamed_dispatch(void **state)
{
    (void)state;
    struct fx_node c, own, other, k, p, q;
    struct fx_log g;
    struct fm_ticket t;
    struct payload *pl = calloc(1, sizeof *pl);
    char inc[FM_ID_MAX], u0[FM_ID_MAX], tk[1][FM_ID_MAX];
    struct fm_unit_new a = {.name = "Engine 1", .department = "Fire", .kind = "engine", .tier = 1};
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&own, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    make_unit_node(&other, "station9", FM_ROLE_STATION, "Ladder 9");
    OK(fx_author(&org, &k, "county"));
    set_role(&k, FM_ROLE_COUNTY);
    make_node(&p, "p", FM_ROLE_COUNTY);
    make_node(&q, "q", FM_ROLE_COUNTY);
    OK(fm_node_unit_register(c.n, &a, u0));
    report(c.n, "fire", 1, 1, 2, inc);
    struct fx_log gk;
    fx_log_init(&gk, &k.id);
    OK(fx_log_cert(&gk, &k.cert));
    pl->log.kind = OP_TICKET_DISPATCH;
    memcpy(pl->ref.author, c.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(inc);
    memcpy(pl->ref2.author, c.id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(u0);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
    OK(fx_log_pl(&gk, pl));
    fm_op_id_format(k.id.pk, gk.seq, tk[0]);
    /* Ladder 9's station steps on it as if it were the unit */
    memset(pl, 0, sizeof *pl);
    fx_log_init(&g, &other.id);
    OK(fx_log_cert(&g, &other.cert));
    pl->log.kind = OP_TICKET_STEP;
    memcpy(pl->ref.author, k.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(tk[0]);
    memcpy(pl->ref2.author, c.id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(inc);
    memcpy(pl->ref3.author, c.id.pk, FM_PK_LEN);
    pl->ref3.seq = id_seq(u0);
    pl->code = TS_ACK;
    fm_strlcpy(pl->name, "Ladder 9", sizeof pl->name);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                  PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS) | PT_BIT(PT_NAME);
    OK(fx_log_pl(&g, pl));
    free(pl);
    /* the unit's own vehicle: en route, after it heard of the ticket */
    OK(fx_sync(c.n, own.n, NULL));
    OK(fx_ingest(own.n, &gk.ops, 0, gk.ops.n, NULL));
    OK(fm_node_ticket_step(own.n, tk[0], FM_STEP_ENROUTE, NULL));
    struct fx_ops lc = {0}, lo = {0};
    const struct fx_ops lk = gk.ops;
    OK(fx_collect(c.n, c.id.pk, &lc));
    OK(fx_collect(own.n, own.id.pk, &lo));
    /* p: the unit's registration first; q: last */
    OK(fx_ingest(p.n, &lc, 0, lc.n, NULL));
    OK(fx_ingest(p.n, &lk, 0, lk.n, NULL));
    OK(fx_ingest(p.n, &g.ops, 0, g.ops.n, NULL));
    OK(fx_ingest(p.n, &lo, 0, lo.n, NULL));
    OK(fx_ingest(q.n, &lk, 0, lk.n, NULL));
    OK(fx_ingest(q.n, &g.ops, 0, g.ops.n, NULL));
    OK(fx_ingest(q.n, &lo, 0, lo.n, NULL));
    OK(fm_node_ticket_get(q.n, tk[0], &t));
    assert_int_equal(t.acked.hlc, 0); /* waiting for the unit */
    assert_int_equal(t.enroute.hlc, 0);
    OK(fx_ingest(q.n, &lc, 0, lc.n, NULL));
    assert_int_equal(fx_digest_eq(p.n, q.n), 1);
    struct fm_node *nodes[2] = {p.n, q.n};
    for (int i = 0; i < 2; i++) {
        OK(fm_node_ticket_get(nodes[i], tk[0], &t));
        assert_int_equal(t.acked.hlc, 0);       /* Ladder 9's claim: ignored */
        assert_int_not_equal(t.enroute.hlc, 0); /* Engine 1's own report: taken */
        assert_int_equal(t.void_steps, 1);
    }
    fx_ops_free(&lc);
    fx_ops_free(&lo);
    fx_log_free(&g);
    fx_log_free(&gk);
    fx_done(&c);
    fx_done(&own);
    fx_done(&other);
    fx_done(&k);
    fx_done(&p);
    fx_done(&q);
}

/* ---- the report: segments, targets, late cases, groups, with chosen stamps ---- */

static int inc_cb(void *ctx, const struct fm_incident *inc)
{
    char *id = ctx;
    if (strcmp(inc->category, "traffic_accident") == 0 && inc->reporter[0] && id[0] == '\0')
        fm_strlcpy(id, inc->id, FM_ID_MAX);
    return 0;
}

/* A vehicle's own step on its ticket (step_op), stamped at ms; the
 * incident is the reporter's. */
static void step_at(struct fx_log *g, struct payload *pl, const struct fx_node *c,
                    const char *tk, const struct fx_node *reporter, const char *inc,
                    const char *unit, const char *name, uint8_t code, uint64_t ms)
{
    step_op(pl, c, tk, inc, unit, name, 0);
    memcpy(pl->ref2.author, reporter->id.pk, FM_PK_LEN);
    pl->code = code;
    g->hlc = ms << 16;
    OK(fx_log_pl(g, pl));
}

static const struct fm_report_group *group_named(const struct fm_report *r, const char *key)
{
    for (size_t i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i].key, key) == 0)
            return &r->groups[i];
    fail_msg("no group '%s'", key);
    return NULL;
}

static void test_report_segments(void **state)
{
    (void)state;
    struct fx_node c, cn, veh;
    struct fx_log gc, gv;
    struct payload *pl = calloc(1, sizeof *pl);
    struct fm_directory *d = load_dir();
    struct fm_ingest_result res;
    struct fm_ticket t;
    struct fm_report r;
    char err[256], ver[FM_ID_MAX], a[FM_ID_MAX] = "", b[FM_ID_MAX], ur[FM_ID_MAX], uc[FM_ID_MAX],
        ta[1][FM_ID_MAX], tb[1][FM_ID_MAX];
    size_t reg = 0;
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&cn, "county", FM_ROLE_COUNTY);
    make_unit_node(&veh, "vehicle", FM_ROLE_VEHICLE, "Engine R7");
    /* riverside (county 1) gets a square boundary around 31.30 N 121.55 E */
    static const int32_t sq[4][2] = {{312900000, 1215400000}, {312900000, 1215600000},
                                     {313100000, 1215600000}, {313100000, 1215400000}};
    d->nrings = 1;
    d->npoints = 4;
    d->rings[0] = (struct fm_dir_ring){.county = 1, .first = 0, .npoints = 4};
    for (int i = 0; i < 4; i++)
        d->points[i] = (struct fm_dir_point){sq[i][0], sq[i][1]};
    OK(fm_directory_boundaries_normalise(d, err, sizeof err));
    OK(fm_node_directory_publish(c.n, d, ver, &reg));
    fm_directory_free(&d);

    /* incident A: a county took the call 600 s ago (its own log and clock) */
    uint64_t t0 = fm_now_ms() - 600000;
    fx_log_init(&gc, &cn.id);
    gc.hlc = (t0 - 1000) << 16;
    OK(fx_log_cert(&gc, &cn.cert));
    pl->log.kind = OP_INC_REPORT;
    fm_strlcpy(pl->category, "traffic_accident", sizeof pl->category);
    pl->priority = 2;
    pl->lat = 313000000;
    pl->lon = 1215500000;
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    gc.hlc = t0 << 16;
    OK(fx_log_pl(&gc, pl));
    OK(fx_ingest(c.n, &gc.ops, 0, gc.ops.n, &res));
    assert_int_equal(res.stored, 2);
    struct fm_incident_filter any = {.stage = -1};
    OK(fm_node_incidents(c.n, &any, inc_cb, a));
    assert_true(a[0] != '\0');
    /* the centre registers Engine R7 (a riverside brigade's) and dispatches
     * it now; the crew is en route 100 s after the dispatch and on scene
     * 250 s after it */
    struct fm_unit_new un = {.name = "Engine R7", .department = "Riverside Fire Brigade",
                             .kind = "engine", .tier = 1};
    OK(fm_node_unit_register(c.n, &un, ur));
    OK(fm_node_dispatch(c.n, a, (const char *const[]){ur}, 1, NULL, ta));
    OK(fm_node_ticket_get(c.n, ta[0], &t));
    uint64_t td = t.dispatched.hlc >> 16;
    OK(fx_sync(c.n, veh.n, NULL));
    fx_log_init(&gv, &veh.id);
    gv.hlc = (td + 1) << 16;
    OK(fx_log_cert(&gv, &veh.cert));
    step_at(&gv, pl, &c, ta[0], &cn, a, ur, "Engine R7", TS_ENROUTE, td + 100000);
    step_at(&gv, pl, &c, ta[0], &cn, a, ur, "Engine R7", TS_ARRIVE, td + 250000);
    OK(fx_ingest(c.n, &gv.ops, 0, gv.ops.n, &res));
    assert_int_equal(res.stored, 3);
    /* incident B, in the centre, handled at once by Patrol C1 */
    report(c.n, "traffic_accident", 31.23, 121.47, 2, b);
    unit_id(c.n, "Patrol C1", uc);
    OK(fm_node_dispatch(c.n, b, (const char *const[]){uc}, 1, NULL, tb));
    OK(fm_node_ticket_step(c.n, tb[0], FM_STEP_ENROUTE, NULL));
    OK(fm_node_ticket_step(c.n, tb[0], FM_STEP_ARRIVE, NULL));

    struct fm_report_query q = {.by = FM_REPORT_UNIT,
                                .segment_target_s = {FM_REPORT_PROCESSING_S, FM_REPORT_TURNOUT_S,
                                                     FM_REPORT_TRAVEL_S}};
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.ngroups, 2);
    /* the directory's order: central's police before riverside's brigade */
    assert_string_equal(r.groups[0].key, "Patrol C1");
    assert_string_equal(r.groups[1].key, "Engine R7");
    const struct fm_report_group *g = &r.groups[1];
    for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
        assert_int_equal(g->segment[k].s.n, 1);
    assert_true(g->segment[FM_SEG_PROCESSING].s.median_s >= 599.0 &&
                g->segment[FM_SEG_PROCESSING].s.median_s < 620.0);
    assert_true(fabs(g->segment[FM_SEG_TURNOUT].s.median_s - 100.0) < 0.01);
    assert_true(fabs(g->segment[FM_SEG_TRAVEL].s.p90_s - 150.0) < 0.01);
    assert_int_equal(g->segment[FM_SEG_PROCESSING].within, 0);
    assert_int_equal(g->segment[FM_SEG_TURNOUT].within, 0);
    assert_int_equal(g->segment[FM_SEG_TRAVEL].within, 1);
    assert_int_equal(g->with_target, 1);
    assert_int_equal(g->within_target, 0); /* 850 s against the category's 600 */
    assert_int_equal(g->late, 1);          /* one ticket, three measures over */
    g = &r.groups[0];
    for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
        assert_int_equal(g->segment[k].within, 1);
    assert_int_equal(g->late, 0);
    /* the late cases, most over its target first: processing (~9.4x),
     * the response (850/600), turnout (100/80) */
    assert_int_equal(r.nlate, 3);
    assert_int_equal(r.late_more, 0);
    assert_int_equal(r.late[0].measure, FM_SEG_PROCESSING);
    assert_int_equal(r.late[1].measure, FM_LATE_RESPONSE);
    assert_int_equal(r.late[1].target_s, 600);
    assert_true(r.late[1].seconds >= 849.0 && r.late[1].seconds < 870.0);
    assert_int_equal(r.late[2].measure, FM_SEG_TURNOUT);
    assert_true(fabs(r.late[2].seconds - 100.0) < 0.01);
    assert_int_equal(r.late[2].target_s, FM_REPORT_TURNOUT_S);
    for (size_t i = 0; i < r.nlate; i++) {
        assert_string_equal(r.late[i].ticket, ta[0]);
        assert_string_equal(r.late[i].incident, a);
        assert_string_equal(r.late[i].unit, "Engine R7");
    }
    fm_report_release(&r);

    /* without segment targets only the response is late */
    memset(q.segment_target_s, 0, sizeof q.segment_target_s);
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.nlate, 1);
    assert_int_equal(r.late[0].measure, FM_LATE_RESPONSE);
    assert_int_equal(group_named(&r, "Engine R7")->segment[FM_SEG_TURNOUT].within, 1);
    fm_report_release(&r);

    /* where it happened (the boundary) and by tier */
    q.by = FM_REPORT_INCIDENT_COUNTY;
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.ngroups, 2);
    assert_string_equal(r.groups[0].key, "riverside");
    assert_string_equal(r.groups[1].key, "(outside every county)");
    fm_report_release(&r);
    q.by = FM_REPORT_COUNTY; /* the responding department's county */
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.ngroups, 2);
    assert_string_equal(r.groups[0].key, "central");
    assert_string_equal(r.groups[1].key, "riverside");
    fm_report_release(&r);
    q.by = FM_REPORT_TIER;
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.ngroups, 1);
    assert_string_equal(r.groups[0].key, "tier 1");
    assert_int_equal(r.groups[0].tickets, 2);
    fm_report_release(&r);
    fx_log_free(&gc);
    fx_log_free(&gv);
    free(pl);
    fx_done(&c);
    fx_done(&cn);
    fx_done(&veh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicts_after_partition),
        cmocka_unit_test(test_conflict_decisions),
        cmocka_unit_test(test_note_naming_a_ticket_id),
        cmocka_unit_test(test_double_booked_unit),
        cmocka_unit_test(test_report_and_clock_note),
        cmocka_unit_test(test_report_segments),
        cmocka_unit_test(test_step_author_honest),
        cmocka_unit_test(test_step_on_an_unnamed_dispatch),
    };
    return wf_test_main("test_workflow_heal", tests, sizeof tests / sizeof tests[0]);
}
