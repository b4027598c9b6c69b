/*
 * test_roles.c — the role rule of every op kind, at ingest, table-driven.
 *
 * For each op kind and each role (centre, county, station, vehicle,
 * admin), and where the rule is about ownership for the author's own
 * target (an incident it reported, stock it added) and another author's,
 * a validly signed op is built by hand with the actor's real key and
 * ingested into fresh stores in both arrival orders: the target's facts
 * first, then the actor's log; and the actor's log first, then the facts.
 * Each time the verdict must be the table's; a refused op must be counted
 * and leave the state exactly as it was without it (the digest of a store
 * holding everything but that op); an accepted one must change the state;
 * and the two orders must give the same digest. A second group drives the
 * same rules through the writers (fm_node_*), which refuse up front.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node/workflow/workflow_int.h"

#define OK(x) assert_int_equal((x), FM_OK)

enum { R_CENTRE, R_COUNTY, R_STATION, R_VEHICLE, R_ADMIN, R__N };
#define C (1u << R_CENTRE)
#define K (1u << R_COUNTY)
#define S (1u << R_STATION)
#define V (1u << R_VEHICLE)
#define A (1u << R_ADMIN)
#define ALL (C | K | S | V | A)

static const enum fm_role roles[R__N] = {FM_ROLE_CENTRE, FM_ROLE_COUNTY, FM_ROLE_STATION,
                                         FM_ROLE_VEHICLE, FM_ROLE_ADMIN};
static const char *const role_units[R__N] = {"", "", "Station 5", "Engine 1", ""};

/* Whose target the op names: none, the actor's own, another author's;
 * for stock also another author's kept at the depot named after the
 * actor's unit (the op claims it), and another depot's while claiming
 * the actor's unit (a false claim: taken at ingest, void when applied). */
enum target { T_NONE, T_OWN, T_OTHER, T_UNIT, T_FALSE };

struct row {
    uint8_t kind;
    uint8_t code; /* ticket step */
    enum target target;
    unsigned allowed; /* roles whose op is taken */
    int refusal;      /* the others' verdict */
    unsigned voided;  /* roles whose op is taken but void once judged */
};

/* The permission table (docs/workflow.md §4), written out, not computed. */
static const struct row table[] = {
    {OP_INC_REPORT, 0, T_NONE, ALL, 0, 0},
    {OP_INC_NOTE, 0, T_OTHER, ALL, 0, 0},
    {OP_INC_UPDATE, 0, T_OWN, ALL, 0, 0},
    {OP_INC_UPDATE, 0, T_OTHER, C | K | A, FM_EPERM, 0},
    {OP_INC_STATUS, 0, T_OWN, ALL, 0, 0},
    {OP_INC_STATUS, 0, T_OTHER, C | K | A, FM_EPERM, 0},
    {OP_INC_FEEDBACK, 0, T_OTHER, C | K | A, FM_EPERM, 0},
    {OP_INC_ALARM, 0, T_OTHER, C | K | A, FM_EPERM, 0},
    {OP_INC_ALARM, 0, T_OWN, C | K | A, FM_EPERM, 0}, /* a reporter raises no alarm level */
    {OP_INC_MERGE, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_INC_MERGE, 0, T_OWN, C | K, FM_EPERM, 0}, /* moving tickets is a dispatch decision */
    {OP_RES_ADD, 0, T_NONE, C | K | S | A, FM_EPERM, 0},
    {OP_RES_ADJUST, 0, T_OWN, C | K | S | A, FM_EPERM, 0}, /* a vehicle owns no stock */
    {OP_RES_ADJUST, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_MAT_REQUEST, 0, T_OTHER, ALL, 0, 0},
    {OP_MAT_ALLOCATE, 0, T_OWN, C | K | S | A, FM_EPERM, 0},
    {OP_MAT_ALLOCATE, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_MAT_RETURN, 0, T_OWN, C | K | S | A, FM_EPERM, 0},
    {OP_MAT_RETURN, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_RES_ADJUST, 0, T_UNIT, C | K | S | V, FM_EPERM, 0},
    {OP_MAT_ALLOCATE, 0, T_UNIT, C | K | S | V, FM_EPERM, 0},
    {OP_MAT_RETURN, 0, T_UNIT, C | K | S | V, FM_EPERM, 0},
    {OP_RES_ADJUST, 0, T_FALSE, C | K | S | V, FM_EPERM, S | V},
    {OP_MAT_ALLOCATE, 0, T_FALSE, C | K | S | V, FM_EPERM, S | V},
    {OP_MAT_RETURN, 0, T_FALSE, C | K | S | V, FM_EPERM, S | V},
    {OP_UNIT_REGISTER, 0, T_NONE, C | K | S | A, FM_EPERM, 0},
    {OP_UNIT_STATUS, 0, T_OTHER, C | K | A, FM_EUNIT, 0},
    {OP_UNIT_POSITION, 0, T_OTHER, C | K | A, FM_EUNIT, 0},
    {OP_TICKET_DISPATCH, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_TICKET_STEP, TS_ACK, T_OTHER, C | K | A, FM_EUNIT, 0},
    {OP_TICKET_STEP, TS_CANCEL, T_OTHER, C | K, FM_EPERM, 0},
    {OP_TICKET_ESCALATE, 0, T_OTHER, C | K, FM_EPERM, 0},
    {OP_DIR_PUBLISH, 0, T_NONE, C | A, FM_EPERM, 0},
    {OP_BULLETIN_SEND, 0, T_NONE, C | K | S | A, FM_EPERM, 0},
    {OP_BULLETIN_READ, 0, T_OTHER, ALL, 0, 0},
    {OP_CONFLICT_RESOLVE, 0, T_NONE, C | K, FM_EPERM, 0},
};

static struct fx_org org;
static struct fx_node actors[R__N], owner, recv[3];

/* The facts another author's ops refer to, all in the owner's log. */
enum { F_INC = 2, F_RES, F_REQ, F_UNIT, F_TICKET, F_BULLETIN, F_RES_S, F_RES_V };
static struct fx_log facts;

static void make_author(struct fx_node *a, const char *name, enum fm_role role, const char *unit)
{
    OK(fx_author(&org, a, name));
    fm_strlcpy(a->cert.unit, unit, sizeof a->cert.unit);
    a->cert.role = role;
    a->cfg.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
}

static void ref_set(struct payload_ref *r, const struct fx_node *a, uint64_t seq)
{
    memcpy(r->author, a->id.pk, FM_PK_LEN);
    r->seq = seq;
}

/* The creating op of each kind of fact (report, stock, request, unit,
 * ticket, bulletin), refs into the owner's facts where it needs any. */
static void fact_pl(struct payload *pl, unsigned fact)
{
    memset(pl, 0, sizeof *pl);
    switch (fact) {
    case F_INC:
        pl->log.kind = OP_INC_REPORT;
        fm_strlcpy(pl->category, "fire", sizeof pl->category);
        pl->priority = 3;
        pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
        break;
    case F_RES:
        pl->log.kind = OP_RES_ADD;
        fm_strlcpy(pl->res_kind, "pump", sizeof pl->res_kind);
        fm_strlcpy(pl->depot, "North depot", sizeof pl->depot);
        pl->qty = 10;
        pl->present = PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
        break;
    case F_REQ:
        pl->log.kind = OP_MAT_REQUEST;
        ref_set(&pl->ref, &owner, F_INC);
        fm_strlcpy(pl->res_kind, "pump", sizeof pl->res_kind);
        pl->qty = 4;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_RES_KIND) | PT_BIT(PT_QTY);
        break;
    case F_UNIT:
        pl->log.kind = OP_UNIT_REGISTER;
        fm_strlcpy(pl->name, "Ladder 9", sizeof pl->name);
        fm_strlcpy(pl->department, "Fire", sizeof pl->department);
        fm_strlcpy(pl->unit_kind, "ladder", sizeof pl->unit_kind);
        pl->tier = 1;
        pl->present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) |
                      PT_BIT(PT_UNIT_KIND);
        break;
    case F_TICKET:
        pl->log.kind = OP_TICKET_DISPATCH;
        ref_set(&pl->ref, &owner, F_INC);
        ref_set(&pl->ref2, &owner, F_UNIT);
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
        break;
    case F_RES_S:
    case F_RES_V:
        fact_pl(pl, F_RES);
        fm_strlcpy(pl->depot, role_units[fact == F_RES_S ? R_STATION : R_VEHICLE],
                   sizeof pl->depot);
        break;
    default:
        pl->log.kind = OP_BULLETIN_SEND;
        fm_strlcpy(pl->audience, "all", sizeof pl->audience);
        fm_strlcpy(pl->text, "road closed", sizeof pl->text);
        pl->present = PT_BIT(PT_AUDIENCE) | PT_BIT(PT_TEXT);
        break;
    }
}

/* The incident and stock the op names: the actor's own (seq 2 and 3 of
 * its log) or the owner's (for T_UNIT, kept at the actor's unit's depot). */
static void target_refs(struct payload_ref *inc, struct payload_ref *res, enum target t,
                        unsigned r)
{
    uint64_t unit_res = r == R_STATION ? F_RES_S : r == R_VEHICLE ? F_RES_V : F_RES;
    ref_set(inc, t == T_OWN ? &actors[r] : &owner, F_INC);
    ref_set(res, t == T_OWN ? &actors[r] : &owner, t == T_UNIT ? unit_res : F_RES);
}

/* A stock change claims the depot as the actor's unit's, as its writer
 * would when the depot bears that name (and for T_FALSE when it does not). */
static void claim_depot(struct payload *pl, const struct row *rw, unsigned r)
{
    if ((rw->target == T_UNIT || rw->target == T_FALSE) && role_units[r][0] != '\0') {
        fm_strlcpy(pl->depot, role_units[r], sizeof pl->depot);
        pl->present |= PT_BIT(PT_DEPOT);
    }
}

static void op_refs_pl(struct payload *pl, const struct row *rw, unsigned r, bool any_unit)
{
    struct payload_ref inc, res;
    target_refs(&inc, &res, rw->target, r);
    switch (rw->kind) {
    case OP_RES_ADJUST:
        pl->ref = res;
        pl->delta = INT64_C(1000000000000) - 10; /* stock to 10^12 */
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_DELTA);
        claim_depot(pl, rw, r);
        break;
    case OP_MAT_ALLOCATE:
    case OP_MAT_RETURN:
        ref_set(&pl->ref, &owner, F_REQ);
        pl->ref2 = res;
        ref_set(&pl->ref3, &owner, F_INC);
        pl->qty = 2;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_QTY);
        claim_depot(pl, rw, r);
        break;
    case OP_UNIT_STATUS:
    case OP_UNIT_POSITION:
        ref_set(&pl->ref, &owner, F_UNIT);
        pl->unit_status = US_OFFLINE;
        pl->lat = pl->lon = 7;
        pl->present = PT_BIT(PT_REF) | (rw->kind == OP_UNIT_STATUS
                                            ? PT_BIT(PT_UNIT_STATUS)
                                            : PT_BIT(PT_LAT) | PT_BIT(PT_LON));
        break;
    case OP_TICKET_DISPATCH:
        pl->ref = inc;
        ref_set(&pl->ref2, &owner, F_UNIT);
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
        break;
    case OP_TICKET_STEP:
        ref_set(&pl->ref, &owner, F_TICKET);
        ref_set(&pl->ref2, &owner, F_INC);
        ref_set(&pl->ref3, &owner, F_UNIT);
        pl->code = rw->code;
        pl->flags = any_unit; /* as its writer would: on the unit's behalf */
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                      PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS);
        break;
    default:
        break;
    }
}

/* The op under test, as its writer would build it. */
static void op_pl(struct payload *pl, const struct row *rw, unsigned r, bool any_unit)
{
    struct payload_ref inc, res;
    target_refs(&inc, &res, rw->target, r);
    memset(pl, 0, sizeof *pl);
    pl->log.kind = rw->kind;
    switch (rw->kind) {
    case OP_INC_REPORT: fact_pl(pl, F_INC); break;
    case OP_RES_ADD: fact_pl(pl, F_RES); break;
    case OP_UNIT_REGISTER: fact_pl(pl, F_UNIT); break;
    case OP_BULLETIN_SEND: fact_pl(pl, F_BULLETIN); break;
    case OP_MAT_REQUEST: fact_pl(pl, F_REQ); break;
    case OP_INC_NOTE:
        pl->ref = inc;
        fm_strlcpy(pl->text, "seen from the road", sizeof pl->text);
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        break;
    case OP_INC_UPDATE:
        pl->ref = inc;
        pl->priority = 1;
        fm_strlcpy(pl->address, "Somewhere else 9", sizeof pl->address);
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_ADDRESS);
        break;
    case OP_INC_STATUS:
        pl->ref = inc;
        pl->stage = FM_STAGE_CLOSED;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
        break;
    case OP_INC_FEEDBACK:
        pl->ref = inc;
        pl->score = 4;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_SCORE);
        break;
    case OP_INC_ALARM:
        pl->ref = inc;
        pl->code = 3;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_CODE);
        break;
    case OP_INC_MERGE:
        pl->ref = inc;
        ref_set(&pl->ref2, &owner, F_REQ); /* any other id: the survivor's
                                                            presence is not the question */
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2);
        break;
    case OP_TICKET_ESCALATE:
        pl->ref = inc;
        pl->tier = 2;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TIER);
        break;
    case OP_DIR_PUBLISH:
        pl->part = 1; /* chunk 0 of 1 */
        pl->blob_len = 3;
        memcpy(pl->blob, "dir", 3);
        pl->present = PT_BIT(PT_PART) | PT_BIT(PT_BLOB);
        break;
    case OP_BULLETIN_READ:
        ref_set(&pl->ref, &owner, F_BULLETIN);
        pl->present = PT_BIT(PT_REF);
        break;
    case OP_CONFLICT_RESOLVE:
        fm_strlcpy(pl->text, "stock:abc-3", sizeof pl->text);
        pl->blob_len = FM_HASH_LEN;
        memset(pl->blob, 0x5a, FM_HASH_LEN);
        pl->present = PT_BIT(PT_TEXT) | PT_BIT(PT_BLOB);
        break;
    default:
        op_refs_pl(pl, rw, r, any_unit);
        break;
    }
}

/* The actor's log: its certificate, its own incident and (if its role
 * keeps stock) its own stock when the row needs them, then the op. */
static bool actor_log(struct fx_log *g, const struct row *rw, unsigned r, struct payload *pl)
{
    const struct fx_node *a = &actors[r];
    fx_log_init(g, &a->id);
    OK(fx_log_cert(g, &a->cert));
    if (rw->target == T_OWN) {
        bool keeps_stock = r != R_VEHICLE;
        bool needs_stock = rw->kind == OP_RES_ADJUST || rw->kind == OP_MAT_ALLOCATE ||
                           rw->kind == OP_MAT_RETURN;
        if (needs_stock && !keeps_stock)
            return false; /* no such target: nothing to test */
        fact_pl(pl, F_INC);
        OK(fx_log_pl(g, pl));
        fact_pl(pl, F_RES);
        if (keeps_stock)
            OK(fx_log_pl(g, pl));
    }
    op_pl(pl, rw, r, r == R_CENTRE || r == R_COUNTY || r == R_ADMIN);
    OK(fx_log_pl(g, pl));
    return true;
}

static void clear_all(void)
{
    for (size_t i = 0; i < 3; i++)
        OK(node_test_clear(recv[i].n));
}

/* Ingests the whole log g (or all but its last op) into n. */
static void feed(struct fm_node *n, const struct fx_log *g, bool but_last,
                 struct fm_ingest_result *res)
{
    OK(fx_ingest(n, &g->ops, 0, g->ops.n - (but_last ? 1 : 0), res));
}

struct qty_ctx {
    const char *id;
    int64_t qty;
    uint32_t voids;
};

static int qty_each(void *ctx, const struct fm_resource *r)
{
    struct qty_ctx *q = ctx;
    if (strcmp(r->id, q->id) == 0) {
        q->qty = r->quantity;
        q->voids = r->void_changes;
    }
    return 0;
}

static int64_t stock_of(struct fm_node *n, const char *id, uint32_t *voids)
{
    struct qty_ctx q = {id, -1, 0};
    OK(fm_node_resources(n, qty_each, &q));
    if (voids != NULL)
        *voids = q.voids;
    return q.qty;
}

/* A false depot claim, taken at ingest: once judged against the stock it
 * moved nothing, and was counted, in both orders. */
static void check_void(const char *what)
{
    char res[FM_ID_MAX];
    uint32_t v0 = 0, v1 = 0, vb = 0;
    fm_op_id_format(owner.id.pk, F_RES, res);
    int64_t base = stock_of(recv[2].n, res, &vb);
    assert_int_equal(vb, 0);
    if (stock_of(recv[0].n, res, &v0) != base || stock_of(recv[1].n, res, &v1) != base)
        fail_msg("%s: a false depot claim moved stock", what);
    assert_int_equal(v0, 1);
    assert_int_equal(v1, 1);
}

static void check_case(const struct row *rw, unsigned r, const struct fx_log *g)
{
    struct fm_ingest_result f, first, second, base;
    struct fm_node_stats st;
    bool ok = (rw->allowed >> r) & 1;
    int want = ok ? FM_OK : rw->refusal;
    char what[96];
    snprintf(what, sizeof what, "%s code %u target %d role %s", payload_kind_name(rw->kind),
             rw->code, rw->target, fm_role_name(roles[r]));
    clear_all();
    /* recv[0]: facts, then the actor; recv[1]: the actor, then the facts;
     * recv[2]: everything but the op */
    feed(recv[0].n, &facts, false, &f);
    feed(recv[0].n, g, false, &first);
    feed(recv[1].n, g, false, &second);
    feed(recv[1].n, &facts, false, &f);
    feed(recv[2].n, &facts, false, &f);
    feed(recv[2].n, g, true, &base);
    assert_int_equal(base.rejected, 0);
    if (first.err != want || second.err != want)
        fail_msg("%s: verdict %d / %d, want %d", what, first.err, second.err, want);
    assert_int_equal(first.rejected, ok ? 0 : 1);
    assert_int_equal(second.rejected, ok ? 0 : 1);
    assert_int_equal(first.stored, g->ops.n - (ok ? 0 : 1));
    OK(fm_node_stats(recv[0].n, &st));
    assert_int_equal(st.rejected, ok ? 0 : 1); /* counted */
    if (fx_digest_eq(recv[0].n, recv[1].n) != 1)
        fail_msg("%s: the two arrival orders differ", what);
    if ((rw->voided >> r) & 1) {
        check_void(what);
        return;
    }
    /* a refused op leaves the state as it was without it; a taken one
     * changes it */
    if (fx_digest_eq(recv[0].n, recv[2].n) != !ok)
        fail_msg("%s: %s", what, ok ? "the op changed nothing" : "the refused op left a trace");
}

static void test_every_kind_every_role(void **state)
{
    (void)state;
    struct payload *pl = calloc(1, sizeof *pl);
    size_t cases = 0;
    assert_non_null(pl);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        for (unsigned r = 0; r < R__N; r++) {
            struct fx_log g;
            if (actor_log(&g, &table[i], r, pl)) {
                check_case(&table[i], r, &g);
                cases++;
            }
            fx_log_free(&g);
        }
    }
    assert_int_equal(cases, sizeof table / sizeof table[0] * R__N - 3); /* 3 vehicle n/a */
    free(pl);
}

/* Every op kind a node can author is in the table, or is a trust op
 * checked against the organisation's key (cert, renewal, revocation) or
 * fork evidence (two ops another key signed, verified by fork.c). */
static void test_table_covers_every_kind(void **state)
{
    (void)state;
    /* dispatch.key: role and org signature, test_need_to_know;
     * cert.announce: role and org signature, test_ingest_trust */
    static const uint8_t elsewhere[] = {OP_CERT, OP_REVOKE, OP_FORK_EVIDENCE, OP_CERT_RENEW,
                                        OP_GROUP_KEY, OP_CERT_ANNOUNCE};
    for (unsigned k = 1; k < 256; k++) {
        bool listed = false;
        if (strcmp(payload_kind_name((uint8_t)k), "unknown") == 0)
            continue;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            listed |= table[i].kind == k;
        for (size_t i = 0; i < sizeof elsewhere; i++)
            listed |= elsewhere[i] == k;
        if (!listed)
            fail_msg("op kind %u (%s) has no row", k, payload_kind_name((uint8_t)k));
    }
}

/* What every refused write must leave: no op, no state change. */
static void assert_unchanged(struct fm_node *n, const struct fm_node_stats *was)
{
    struct fm_node_stats now;
    OK(fm_node_stats(n, &now));
    assert_int_equal(now.ops, was->ops);
    assert_int_equal(now.entities, was->entities);
}

/* The writers give the same verdict up front (the CLI's exit 3), before
 * any state check, and write nothing; on its own incident and stock a
 * station may. */
static void test_writers_refuse_up_front(void **state)
{
    (void)state;
    struct fx_node c, st, veh;
    struct fm_incident_new in = {.category = "fire", .priority = 3, .lat_e7 = 1, .lon_e7 = 1};
    struct fm_incident_edit ed = {.priority = 1, .address = "Elsewhere 1"};
    struct fm_incident inc;
    struct fm_node_stats was;
    char ci[FM_ID_MAX], si[FM_ID_MAX], cr[FM_ID_MAX], sr[FM_ID_MAX], rq[FM_ID_MAX];
    make_author(&c, "c", FM_ROLE_CENTRE, "");
    make_author(&st, "s", FM_ROLE_STATION, "Station 5");
    make_author(&veh, "v", FM_ROLE_VEHICLE, "Engine 1");
    OK(fx_open(&c, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(fx_open(&st, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(fx_open(&veh, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    OK(fm_node_incident_report(c.n, &in, ci));
    OK(fm_node_resource_add(c.n, "pump", "Central depot", 10, cr));
    OK(fm_node_material_request(c.n, ci, "pump", 4, NULL, rq));
    OK(fm_node_incident_report(st.n, &in, si));
    OK(fm_node_resource_add(st.n, "pump", "Station 5", 10, sr));
    OK(fx_sync(c.n, st.n, NULL));
    OK(fx_sync(st.n, veh.n, NULL));

    OK(fm_node_stats(st.n, &was));
    assert_int_equal(fm_node_incident_edit(st.n, ci, &ed), FM_EPERM);
    assert_int_equal(fm_node_incident_status(st.n, ci, FM_STAGE_CLOSED, false), FM_EPERM);
    assert_int_equal(fm_node_incident_status(st.n, ci, FM_STAGE_NEW, false), FM_EPERM);
    assert_int_equal(fm_node_resource_adjust(st.n, cr, INT64_C(1000000000000) - 10), FM_EPERM);
    assert_int_equal(fm_node_resource_adjust(st.n, cr, -1000), FM_EPERM); /* not "too few" */
    assert_int_equal(fm_node_material_move(st.n, rq, cr, 2, false), FM_EPERM);
    assert_unchanged(st.n, &was);
    OK(fm_node_incident_get(st.n, ci, &inc));
    assert_int_equal(inc.priority, 3);
    assert_int_equal(inc.stage, FM_STAGE_NEW);
    assert_int_equal(stock_of(st.n, cr, NULL), 10);

    /* its own incident and stock: taken */
    OK(fm_node_incident_edit(st.n, si, &ed));
    OK(fm_node_incident_get(st.n, si, &inc));
    assert_int_equal(inc.priority, 1);
    assert_string_equal(inc.address, "Elsewhere 1");
    OK(fm_node_incident_status(st.n, si, FM_STAGE_CLOSED, false));
    OK(fm_node_resource_adjust(st.n, sr, 5));
    OK(fm_node_material_move(st.n, rq, sr, 2, false));
    assert_int_equal(stock_of(st.n, sr, NULL), 13);
    /* stock the centre keeps at the station's depot: the station's too */
    char ur[FM_ID_MAX];
    OK(fm_node_resource_add(c.n, "pump", "Station 5", 10, ur));
    OK(fx_sync(c.n, st.n, NULL));
    OK(fm_node_resource_adjust(st.n, ur, -3));
    OK(fm_node_material_move(st.n, rq, ur, 1, false));
    assert_int_equal(stock_of(st.n, ur, NULL), 6);
    OK(fx_sync(st.n, c.n, NULL));
    assert_int_equal(stock_of(c.n, ur, NULL), 6); /* taken at ingest and applied */
    assert_int_equal(fx_digest_eq(st.n, c.n), 1);

    /* a vehicle keeps no depot and registers no unit */
    struct fm_unit_new u = {.name = "Fake 1", .department = "Fire", .kind = "engine", .tier = 1};
    char id[FM_ID_MAX];
    OK(fm_node_stats(veh.n, &was));
    assert_int_equal(fm_node_resource_add(veh.n, "pump", "Mine", 1000, id), FM_EPERM);
    assert_int_equal(fm_node_unit_register(veh.n, &u, id), FM_EPERM);
    assert_int_equal(fm_node_incident_edit(veh.n, si, &ed), FM_EPERM);
    assert_unchanged(veh.n, &was);
    /* the centre may do all of it */
    OK(fm_node_incident_edit(c.n, ci, &ed));
    OK(fm_node_incident_status(c.n, ci, FM_STAGE_RESOLVED, false));
    OK(fm_node_resource_adjust(c.n, cr, 1));
    fx_done(&c);
    fx_done(&st);
    fx_done(&veh);
}

static int setup(void **state)
{
    (void)state;
    static const char *const names[R__N] = {"centre", "county", "station", "vehicle", "admin"};
    struct payload *pl = calloc(1, sizeof *pl);
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK || pl == NULL)
        return -1;
    fm_log_set_level(FM_LOG_ERROR);
    for (unsigned r = 0; r < R__N; r++)
        make_author(&actors[r], names[r], roles[r], role_units[r]);
    make_author(&owner, "owner", FM_ROLE_COUNTY, "");
    for (size_t i = 0; i < 3; i++) {
        make_author(&recv[i], "replica", FM_ROLE_COUNTY, "");
        OK(fx_open(&recv[i], FM_OPEN_NOSYNC_));
    }
    fx_log_init(&facts, &owner.id);
    OK(fx_log_cert(&facts, &owner.cert));
    for (unsigned f = F_INC; f <= F_RES_V; f++) {
        fact_pl(pl, f);
        OK(fx_log_pl(&facts, pl));
    }
    free(pl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_log_free(&facts);
    for (unsigned r = 0; r < R__N; r++)
        fx_done(&actors[r]);
    fx_done(&owner);
    for (size_t i = 0; i < 3; i++)
        fx_done(&recv[i]);
    fx_org_done(&org);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_every_kind),
        cmocka_unit_test(test_every_kind_every_role),
        cmocka_unit_test(test_writers_refuse_up_front),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
