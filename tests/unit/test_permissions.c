/*
 * test_permissions.c — a station or vehicle acts only for its own unit,
 * enforced at ingest on every node (not only by its writer): ticket steps,
 * unit status and logged positions of another unit are refused with
 * FM_EUNIT, soft positions of another unit are dropped and counted, a
 * dispatcher still acts on any unit's behalf, and a step is judged against
 * its ticket's dispatch whichever of the two arrives first (the same
 * digest on replicas that took them in either order).
 *
 * Hostile ops are built by hand with the vehicle's real key (fx_log_*),
 * bypassing the writer's own check.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node/workflow/workflow_int.h"

#define OK(x) assert_int_equal((x), FM_OK)

static struct fx_org org;

static void make_node(struct fx_node *a, const char *name, enum fm_role role, const char *unit)
{
    OK(fx_author(&org, a, name));
    fm_strlcpy(a->cert.unit, unit ? unit : "", sizeof a->cert.unit);
    a->cert.role = role;
    a->cfg.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

static uint64_t id_seq(const char *id)
{
    uint64_t v = 0;
    const char *dash = strrchr(id, '-');
    assert_non_null(dash);
    OK(fm_parse_u64(dash + 1, &v));
    return v;
}

/* A centre with one incident, two hand-registered units and a ticket for
 * each; the world every test starts from. */
struct world {
    struct fx_node c;
    char inc[FM_ID_MAX], u[2][FM_ID_MAX], tk[2][FM_ID_MAX];
};

static void world_make(struct world *w)
{
    struct fm_incident_new in = {.category = "fire", .priority = 2, .lat_e7 = 10, .lon_e7 = 10};
    struct fm_unit_new a = {.name = "Engine 1", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_unit_new b = {.name = "Ladder 9", .department = "Fire", .kind = "ladder", .tier = 1};
    make_node(&w->c, "centre", FM_ROLE_CENTRE, NULL);
    OK(fm_node_incident_report(w->c.n, &in, w->inc));
    OK(fm_node_unit_register(w->c.n, &a, w->u[0]));
    OK(fm_node_unit_register(w->c.n, &b, w->u[1]));
    OK(fm_node_dispatch(w->c.n, w->inc, (const char *const[]){w->u[0], w->u[1]}, 2, NULL,
                        w->tk));
}

/* A ticket step of centre-made refs; unit k's ticket unless told. */
static void step_pl(struct payload *pl, const struct world *w, size_t ticket, size_t unit,
                    const char *name, uint8_t code, uint8_t flags)
{
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_TICKET_STEP;
    memcpy(pl->ref.author, w->c.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(w->tk[ticket]);
    memcpy(pl->ref2.author, w->c.id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(w->inc);
    memcpy(pl->ref3.author, w->c.id.pk, FM_PK_LEN);
    pl->ref3.seq = id_seq(w->u[unit]);
    pl->code = code;
    pl->flags = flags;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                  PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS);
    if (name != NULL) {
        fm_strlcpy(pl->name, name, sizeof pl->name);
        pl->present |= PT_BIT(PT_NAME);
    }
}

static void unit_pl(struct payload *pl, const struct world *w, uint8_t kind, size_t unit,
                    const char *name)
{
    memset(pl, 0, sizeof *pl);
    pl->log.kind = kind;
    memcpy(pl->ref.author, w->c.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(w->u[unit]);
    pl->present = PT_BIT(PT_REF);
    if (kind == OP_UNIT_STATUS) {
        pl->unit_status = US_ONSCENE;
        pl->present |= PT_BIT(PT_UNIT_STATUS);
    } else {
        pl->lat = 5;
        pl->lon = 5;
        pl->present |= PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    }
    if (name != NULL) {
        fm_strlcpy(pl->name, name, sizeof pl->name);
        pl->present |= PT_BIT(PT_NAME);
    }
}

/* Appends the op to the author's hand-made log g (which starts with its
 * certificate) and ingests the log into `to`; returns the refusal (FM_OK
 * when the op was stored). A refused op is taken back out of g, so the
 * next op takes its seq. */
static int ingest_one(struct fm_node *to, struct fx_log *g, const struct payload *pl)
{
    struct fm_ingest_result res;
    uint64_t seq = g->seq;
    uint8_t head[FM_HASH_LEN];
    size_t n = g->ops.n;
    memcpy(head, g->head, sizeof head);
    OK(fx_log_pl(g, pl));
    OK(fx_ingest(to, &g->ops, 0, g->ops.n, &res));
    if (res.rejected == 0)
        return FM_OK;
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err_seq, g->seq);
    free(g->ops.ops[n]);
    g->ops.n = n;
    g->seq = seq;
    memcpy(g->head, head, sizeof head);
    return res.err;
}

static void log_start(struct fx_log *g, const struct fx_node *a)
{
    fx_log_init(g, &a->id);
    OK(fx_log_cert(g, &a->cert));
}

static void test_step_own_unit_and_other_unit(void **state)
{
    (void)state;
    struct world w;
    struct fx_node veh, byid, k, nounit;
    struct fm_ticket t;
    struct fm_node_stats st;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    world_make(&w);
    make_node(&veh, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    make_node(&byid, "ladder9", FM_ROLE_STATION, w.u[1]); /* names its unit by id */
    make_node(&k, "county", FM_ROLE_COUNTY, NULL);
    make_node(&nounit, "spare", FM_ROLE_VEHICLE, NULL);
    struct fx_log gv, gb, gk, gn;
    log_start(&gv, &veh);
    log_start(&gb, &byid);
    log_start(&gk, &k);
    log_start(&gn, &nounit);

    /* own unit, by name: taken */
    step_pl(pl, &w, 0, 0, "Engine 1", TS_ACK, 0);
    OK(ingest_one(w.c.n, &gv, pl));
    OK(fm_node_ticket_get(w.c.n, w.tk[0], &t));
    assert_int_equal(t.state, FM_TICKET_ACKNOWLEDGED);
    assert_false(t.acked.behalf);
    /* own unit, by id (no name carried): taken */
    step_pl(pl, &w, 1, 1, NULL, TS_ENROUTE, 0);
    OK(ingest_one(w.c.n, &gb, pl));
    OK(fm_node_ticket_get(w.c.n, w.tk[1], &t));
    assert_int_equal(t.state, FM_TICKET_ENROUTE);

    /* Engine 1's vehicle on Ladder 9's ticket, honestly naming Ladder 9:
     * refused at ingest, on any node */
    uint64_t before = 0;
    OK(fm_node_stats(k.n, &st));
    before = st.rejected;
    step_pl(pl, &w, 1, 1, "Ladder 9", TS_CLEAR, 0);
    fm_strlcpy(pl->text, "done", sizeof pl->text);
    pl->present |= PT_BIT(PT_TEXT);
    assert_int_equal(ingest_one(w.c.n, &gv, pl), FM_EUNIT);
    assert_int_equal(ingest_one(k.n, &gv, pl), FM_EUNIT);
    OK(fm_node_stats(k.n, &st));
    assert_int_equal(st.rejected, before + 1); /* counted like other refusals */
    /* without a name it names Ladder 9 by id: refused too */
    step_pl(pl, &w, 1, 1, NULL, TS_ARRIVE, 0);
    assert_int_equal(ingest_one(w.c.n, &gv, pl), FM_EUNIT);
    /* a vehicle whose certificate names no unit may step nobody's ticket */
    step_pl(pl, &w, 0, 0, "Engine 1", TS_ARRIVE, 0);
    assert_int_equal(ingest_one(w.c.n, &gn, pl), FM_EUNIT);
    OK(fm_node_ticket_get(w.c.n, w.tk[1], &t));
    assert_int_equal(t.state, FM_TICKET_ENROUTE); /* untouched */

    /* a dispatcher acts on any unit's behalf */
    step_pl(pl, &w, 1, 1, "Ladder 9", TS_ARRIVE, 1);
    OK(ingest_one(w.c.n, &gk, pl));
    OK(fm_node_ticket_get(w.c.n, w.tk[1], &t));
    assert_int_equal(t.state, FM_TICKET_ONSCENE);
    assert_true(t.onscene.behalf);
    fx_log_free(&gv);
    fx_log_free(&gb);
    fx_log_free(&gk);
    fx_log_free(&gn);
    free(pl);
    fx_done(&w.c);
    fx_done(&veh);
    fx_done(&byid);
    fx_done(&k);
    fx_done(&nounit);
}

/* Claims that pass ingest (they name the vehicle's own unit) but do not
 * match the ticket: ignored and counted once the dispatch is known. */
static void test_step_claim_not_matching_ticket(void **state)
{
    (void)state;
    struct world w;
    struct fx_node veh;
    struct fm_ticket t;
    struct fm_unit u;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    world_make(&w);
    make_node(&veh, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    /* Ladder 9's ticket, unit ref Ladder 9 but the name "Engine 1" (the
     * vehicle's own): the name is not the dispatcher's for that unit */
    struct fx_log g;
    struct fm_ingest_result res;
    fx_log_init(&g, &veh.id);
    OK(fx_log_cert(&g, &veh.cert));
    step_pl(pl, &w, 1, 1, "Engine 1", TS_ACK, 0);
    OK(fx_log_pl(&g, pl));
    /* Ladder 9's ticket with its own unit ref (Engine 1): another unit */
    step_pl(pl, &w, 1, 0, "Engine 1", TS_ARRIVE, 0);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(w.c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 3); /* signed claims of its own unit */
    OK(fm_node_ticket_get(w.c.n, w.tk[1], &t));
    assert_int_equal(t.state, FM_TICKET_DISPATCHED);
    assert_int_equal(t.void_steps, 2);
    OK(fm_node_unit_get(w.c.n, w.u[0], &u));
    assert_string_equal(u.status, "assigned"); /* not on scene: the step was void */
    fx_log_free(&g);
    free(pl);
    fx_done(&w.c);
    fx_done(&veh);
}

/* The step before the dispatch on one replica, after it on another: the
 * same state, and the step's effects appear once the dispatch arrives. */
static void test_step_before_and_after_dispatch(void **state)
{
    (void)state;
    struct world w;
    struct fx_node veh, r1, r2;
    struct fx_ops centre = {0};
    struct fx_log g;
    struct fm_ingest_result res;
    struct fm_ticket t;
    struct fm_unit u;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    world_make(&w);
    make_node(&veh, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    make_node(&r1, "r1", FM_ROLE_COUNTY, NULL);
    make_node(&r2, "r2", FM_ROLE_COUNTY, NULL);
    OK(fx_collect(w.c.n, w.c.id.pk, &centre));
    fx_log_init(&g, &veh.id);
    OK(fx_log_cert(&g, &veh.cert));
    step_pl(pl, &w, 0, 0, "Engine 1", TS_ACK, 0);
    OK(fx_log_pl(&g, pl));
    step_pl(pl, &w, 0, 0, "Engine 1", TS_ARRIVE, 0);
    OK(fx_log_pl(&g, pl));
    step_pl(pl, &w, 1, 1, "Engine 1", TS_ACK, 0); /* a false claim on Ladder 9's */
    OK(fx_log_pl(&g, pl));

    /* r1: the vehicle's steps first, then the centre's log */
    OK(fx_ingest(r1.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 4);
    assert_int_equal(fm_node_ticket_get(r1.n, w.tk[0], &t), FM_ENOTFOUND);
    OK(fx_ingest(r1.n, &centre, 0, centre.n, &res));
    assert_int_equal(res.rejected, 0);
    /* r2: the other way round */
    OK(fx_ingest(r2.n, &centre, 0, centre.n, &res));
    OK(fx_ingest(r2.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 4);

    assert_int_equal(fx_digest_eq(r1.n, r2.n), 1);
    for (int i = 0; i < 2; i++) {
        struct fm_node *n = i ? r2.n : r1.n;
        OK(fm_node_ticket_get(n, w.tk[0], &t));
        assert_int_equal(t.state, FM_TICKET_ONSCENE);
        OK(fm_node_unit_get(n, w.u[0], &u));
        assert_string_equal(u.status, "onscene");
        OK(fm_node_ticket_get(n, w.tk[1], &t));
        assert_int_equal(t.state, FM_TICKET_DISPATCHED);
        assert_int_equal(t.void_steps, 1);
    }
    /* a rebuild from the ops gives the same state */
    uint8_t d1[FM_HASH_LEN], d2[FM_HASH_LEN];
    OK(fm_node_digest(r1.n, d1));
    OK(fm_node_rebuild(r1.n));
    OK(fm_node_digest(r1.n, d2));
    assert_memory_equal(d1, d2, FM_HASH_LEN);
    fx_log_free(&g);
    fx_ops_free(&centre);
    free(pl);
    fx_done(&w.c);
    fx_done(&veh);
    fx_done(&r1);
    fx_done(&r2);
}

static void test_unit_status_and_position(void **state)
{
    (void)state;
    struct world w;
    struct fx_node veh, k, r1, r2;
    struct fm_unit u;
    struct fx_ops centre = {0};
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    world_make(&w);
    make_node(&veh, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    make_node(&k, "county", FM_ROLE_COUNTY, NULL);
    make_node(&r1, "r1", FM_ROLE_COUNTY, NULL);
    make_node(&r2, "r2", FM_ROLE_COUNTY, NULL);
    struct fx_log gv, gk;
    log_start(&gv, &veh);
    log_start(&gk, &k);

    /* another unit's status or position: refused at ingest */
    unit_pl(pl, &w, OP_UNIT_STATUS, 1, NULL);
    assert_int_equal(ingest_one(w.c.n, &gv, pl), FM_EUNIT);
    unit_pl(pl, &w, OP_UNIT_STATUS, 1, "Ladder 9");
    assert_int_equal(ingest_one(w.c.n, &gv, pl), FM_EUNIT);
    unit_pl(pl, &w, OP_UNIT_POSITION, 1, NULL);
    assert_int_equal(ingest_one(w.c.n, &gv, pl), FM_EUNIT);
    /* a dispatcher sets any unit's */
    unit_pl(pl, &w, OP_UNIT_STATUS, 1, NULL);
    OK(ingest_one(w.c.n, &gk, pl));
    OK(fm_node_unit_get(w.c.n, w.u[1], &u));
    assert_string_equal(u.status, "onscene");
    /* its own, by name: taken */
    unit_pl(pl, &w, OP_UNIT_POSITION, 0, "Engine 1");
    OK(ingest_one(w.c.n, &gv, pl));
    OK(fm_node_unit_get(w.c.n, w.u[0], &u));
    assert_true(u.has_position && u.lat_e7 == 5);
    fx_log_free(&gv);
    fx_log_free(&gk);

    /* a name claim on another unit's ref passes ingest (the name is its
     * own) but not the unit's registered name: ignored, whether the op
     * comes before or after the registration */
    struct fx_log g;
    struct fm_ingest_result res;
    fx_log_init(&g, &veh.id);
    OK(fx_log_cert(&g, &veh.cert));
    unit_pl(pl, &w, OP_UNIT_STATUS, 1, "Engine 1");
    OK(fx_log_pl(&g, pl));
    unit_pl(pl, &w, OP_UNIT_STATUS, 0, "Engine 1");
    pl->unit_status = US_OFFLINE;
    OK(fx_log_pl(&g, pl));
    OK(fx_collect(w.c.n, w.c.id.pk, &centre));
    OK(fx_ingest(r1.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 3);
    OK(fx_ingest(r1.n, &centre, 0, centre.n, &res));
    OK(fx_ingest(r2.n, &centre, 0, centre.n, &res));
    OK(fx_ingest(r2.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(fx_digest_eq(r1.n, r2.n), 1);
    OK(fm_node_unit_get(r1.n, w.u[1], &u));
    assert_string_equal(u.status, "assigned"); /* from the dispatch, not "onscene" */
    OK(fm_node_unit_get(r1.n, w.u[0], &u));
    assert_string_equal(u.status, "offline");

    /* the writer refuses up front: status, logged and soft position */
    OK(fx_sync(w.c.n, veh.n, NULL));
    assert_int_equal(fm_node_unit_status(veh.n, w.u[1], "available"), FM_EUNIT);
    assert_int_equal(fm_node_unit_position(veh.n, w.u[1], 1, 1), FM_EUNIT);
    assert_int_equal(fm_node_soft_position(veh.n, w.u[1], 1, 1), FM_EUNIT);
    OK(fm_node_unit_status(veh.n, w.u[0], "available"));
    OK(fm_node_soft_position(veh.n, w.u[0], 7, 7));
    fx_log_free(&g);
    fx_ops_free(&centre);
    free(pl);
    fx_done(&w.c);
    fx_done(&veh);
    fx_done(&k);
    fx_done(&r1);
    fx_done(&r2);
}

/* Hands every soft record `from` holds to `to`, as sync does. */
static size_t soft_pass(struct fm_node *from, struct fm_node *to)
{
    struct fm_buf b;
    size_t count = 0, stored = 0, k = 0;
    uint64_t last = 0;
    const uint8_t *recs[16];
    size_t lens[16];
    struct fm_cur c;
    fm_buf_init(&b, 1u << 16);
    OK(fm_node_soft_read(from, 0, 1u << 16, &b, &count, &last));
    fm_cur_init(&c, b.data, b.len);
    for (size_t j = 0; j < count && k < 16; j++) {
        uint16_t len;
        const uint8_t *p;
        OK(fm_cur_u16(&c, &len));
        OK(fm_cur_bytes(&c, len, &p));
        recs[k] = p;
        lens[k++] = len;
    }
    OK(fm_node_soft_ingest(to, recs, lens, k, &stored));
    fm_buf_release(&b);
    return stored;
}

/* Soft positions are judged by the receiver against the author's
 * certificate (op 1 of its log): another unit's are dropped and counted. */
static void test_soft_position_other_unit(void **state)
{
    (void)state;
    struct world w;
    struct fx_node veh, rogue;
    struct fx_log g;
    struct fm_ingest_result res;
    struct fm_node_stats st;
    struct fm_unit u;
    world_make(&w);
    make_node(&veh, "engine1", FM_ROLE_VEHICLE, "Engine 1");
    /* a node whose own copy of its certificate says Engine 1 (so its
     * writer lets it place Engine 1) while the certificate its log opens
     * with, the one every receiver holds, names Ladder 9 */
    make_node(&rogue, "rogue", FM_ROLE_VEHICLE, "Engine 1");
    OK(fx_sync(w.c.n, veh.n, NULL));
    OK(fx_sync(w.c.n, rogue.n, NULL));
    OK(fm_node_soft_position(veh.n, w.u[0], 11, 11));
    OK(fm_node_soft_position(rogue.n, w.u[0], 33, 33));
    OK(fm_node_unit_status(veh.n, w.u[0], "available")); /* veh's log: its certificate */
    OK(fx_sync(veh.n, w.c.n, &res));
    struct fm_cert ladder = rogue.cert;
    fm_strlcpy(ladder.unit, "Ladder 9", sizeof ladder.unit);
    fm_cert_sign(&ladder, &org.root);
    fx_log_init(&g, &rogue.id);
    OK(fx_log_cert(&g, &ladder));
    OK(fx_ingest(w.c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1);

    assert_int_equal(soft_pass(veh.n, w.c.n), 1);
    assert_int_equal(soft_pass(rogue.n, w.c.n), 0);
    OK(fm_node_stats(w.c.n, &st));
    assert_int_equal(st.soft_unit_refused, 1);
    OK(fm_node_unit_get(w.c.n, w.u[0], &u));
    assert_true(u.has_position && u.lat_e7 == 11);
    fx_log_free(&g);
    fx_done(&w.c);
    fx_done(&veh);
    fx_done(&rogue);
}

/* The codec: the unit's name is allowed on a dispatch and on unit ops
 * (and round-trips exactly), nowhere it was not before. */
static void test_codec_name_tags(void **state)
{
    (void)state;
    static const uint8_t kinds[] = {OP_TICKET_DISPATCH, OP_UNIT_STATUS, OP_UNIT_POSITION};
    struct payload *pl = calloc(1, sizeof *pl), *back = calloc(1, sizeof *back);
    struct fm_buf b;
    assert_non_null(pl);
    assert_non_null(back);
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    for (size_t i = 0; i < sizeof kinds; i++) {
        memset(pl, 0, sizeof *pl);
        pl->log.kind = kinds[i];
        memset(pl->ref.author, 7, FM_PK_LEN);
        pl->ref.seq = 3;
        pl->ref2 = pl->ref;
        pl->unit_status = US_ONSCENE;
        pl->lat = pl->lon = 1;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_NAME) |
                      (kinds[i] == OP_TICKET_DISPATCH ? PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH)
                       : kinds[i] == OP_UNIT_STATUS   ? PT_BIT(PT_UNIT_STATUS)
                                                      : PT_BIT(PT_LAT) | PT_BIT(PT_LON));
        fm_strlcpy(pl->name, "Hazmat R7", sizeof pl->name);
        OK(payload_encode(pl, &b, back));
        assert_string_equal(back->name, "Hazmat R7");
        assert_true(back->present & PT_BIT(PT_NAME));
        /* the name tag (12) sits between the others in ascending order */
        const uint8_t *p = memmem(b.data, b.len, "Hazmat R7", 9);
        assert_non_null(p);
        assert_int_equal(p[-3], PT_NAME);
    }
    /* still refused where it has no meaning */
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_TICKET_ESCALATE;
    memset(pl->ref.author, 7, FM_PK_LEN);
    pl->ref.seq = 3;
    pl->tier = 2;
    fm_strlcpy(pl->name, "Hazmat R7", sizeof pl->name);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TIER) | PT_BIT(PT_NAME);
    assert_int_equal(payload_encode(pl, &b, back), FM_EINVAL);
    fm_buf_release(&b);
    free(pl);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_own_unit_and_other_unit),
        cmocka_unit_test(test_step_claim_not_matching_ticket),
        cmocka_unit_test(test_step_before_and_after_dispatch),
        cmocka_unit_test(test_unit_status_and_position),
        cmocka_unit_test(test_soft_position_other_unit),
        cmocka_unit_test(test_codec_name_tags),
    };
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fx_org_done(&org);
    return rc;
}
