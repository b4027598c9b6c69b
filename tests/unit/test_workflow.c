/*
 * test_workflow.c — the linkage workflow's node-level behaviour:
 * great-circle distance, percentiles, the directory (YAML errors, binary
 * round trip, publication with newest-wins), classification and the
 * proposed dispatch, role permissions enforced at ingest on every node,
 * ticket lifecycle and unit status, dispatch refused on closed incidents,
 * escalation by the periodic check and the merging of duplicate
 * escalations.
 *
 * The example directory is configs/directory.yaml (found through FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

/* ---- pure functions ---- */

static void test_great_circle(void **state)
{
    (void)state;
    /* Paris - London: 343.5 km by haversine on the mean radius */
    double d = fm_great_circle_km(488566000, 23522000, 515074000, -1278000);
    assert_true(fabs(d - 343.56) < 0.2);
    /* one degree of longitude on the equator: 2 pi R / 360 */
    d = fm_great_circle_km(0, 0, 0, 10000000);
    assert_true(fabs(d - 111.195) < 0.01);
    assert_true(fm_great_circle_km(312304000, 1214737000, 312304000, 1214737000) == 0.0);
    /* antipodes: half the circumference, and symmetric */
    d = fm_great_circle_km(0, 0, 0, 1800000000);
    assert_true(fabs(d - 20015.1) < 0.5);
    assert_true(fabs(fm_great_circle_km(-338688000, 1512093000, 515074000, -1278000) -
                     fm_great_circle_km(515074000, -1278000, -338688000, 1512093000)) < 1e-9);
    /* across the date line: 179.5 E to 179.5 W is one degree */
    d = fm_great_circle_km(0, 1795000000, 0, -1795000000);
    assert_true(fabs(d - 111.195) < 0.01);
}

static void test_percentiles(void **state)
{
    (void)state;
    double v[20];
    for (int i = 0; i < 10; i++)
        v[i] = 10 - i; /* unsorted on purpose */
    assert_true(fm_median(v, 10) == 5.5);
    assert_true(fm_percentile(v, 10, 90) == 9);
    assert_true(fm_percentile(v, 10, 100) == 10);
    assert_true(fm_percentile(v, 10, 10) == 1);
    assert_true(fm_median(v, 9) == 5); /* 1..9 after sorting the first nine */
    for (int i = 0; i < 20; i++)
        v[i] = i + 1;
    assert_true(fm_percentile(v, 20, 90) == 18);
    v[0] = 7;
    assert_true(fm_median(v, 1) == 7 && fm_percentile(v, 1, 90) == 7);
    assert_true(fm_median(v, 0) == 0 && fm_percentile(v, 0, 90) == 0);
}

/* ---- the directory ---- */

static void test_directory_yaml_and_codec(void **state)
{
    (void)state;
    struct fm_directory *d = load_dir();
    assert_true(d->ncounties == 3 && d->ndepts >= 15 && d->nunits >= 30 && d->nrules >= 5);
    const char *kinds[] = {"police", "fire", "traffic", "medical", "water", "power", "gas",
                           "urban_management", "elevator_rescue", "environment",
                           "epidemic_control"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < d->ndepts; i++)
            found = found || strcmp(d->depts[i].kind, kinds[k]) == 0;
        assert_true(found);
    }
    bool tiers[4] = {false};
    for (size_t i = 0; i < d->ndepts; i++)
        tiers[d->depts[i].tier] = true;
    assert_true(tiers[1] && tiers[2] && tiers[3]);

    struct fm_buf b;
    struct fm_directory *back = malloc(sizeof *back);
    assert_non_null(back);
    fm_buf_init(&b, 1u << 20);
    OK(directory_encode(d, &b));
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nunits, d->nunits);
    assert_string_equal(back->units[5].caps, d->units[5].caps);
    assert_int_equal(back->rules[1].respond[3].tier, d->rules[1].respond[3].tier);
    /* strict: any truncation or trailing byte is refused */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 97)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    OK(fm_buf_put_u8(&b, 0));
    assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
    /* two units of one name, adjacent or far apart, are refused (found by
     * sorting the names, not by comparing every pair); the encoder refuses
     * them, so the bytes are patched: unit j's name (same length) made i's */
    size_t tried = 0;
    for (size_t i = 0; i + 1 < d->nunits; i += d->nunits - 2) {
        size_t first = 0, last = 0, n = strlen(d->units[i].name);
        for (size_t j = i + 1; j < d->nunits; j++)
            if (strlen(d->units[j].name) == n)
                last = j, first = first ? first : j;
        for (size_t pick = 0; pick < 2 && first; pick++) {
            const char *victim = d->units[pick ? last : first].name;
            fm_buf_release(&b);
            fm_buf_init(&b, 1u << 20);
            OK(directory_encode(d, &b));
            size_t at = 0;
            while (at + n <= b.len && memcmp(b.data + at, victim, n) != 0)
                at++;
            assert_true(at + n <= b.len);
            memcpy(b.data + at, d->units[i].name, n);
            assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
            tried++;
        }
    }
    assert_true(tried >= 2);
    fm_buf_release(&b);
    free(back);
    fm_directory_free(&d);

    /* errors point at file:line:column */
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/bad.yaml", org.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "name: x\ncounties: [a]\ndepartments:\n  - name: D\n    kind: fire\n"
               "    tier: 4\n    county: a\n");
    fclose(f);
    assert_int_equal(fm_directory_load_yaml(path, &d, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, "bad.yaml:6:11:"));
    assert_non_null(strstr(err, "tier"));
    f = fopen(path, "w");
    fprintf(f, "name: x\ncounties: [a]\ndepartments: []\nrules:\n  - category: fire\n"
               "    colour: red\n");
    fclose(f);
    assert_int_equal(fm_directory_load_yaml(path, &d, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, ":6:5: unknown key 'colour'"));
    f = fopen(path, "w");
    fprintf(f, "name: x\ncounties: [a]\ndepartments:\n  - {name: D, kind: fire, tier: 1, "
               "county: b}\n");
    fclose(f);
    assert_int_equal(fm_directory_load_yaml(path, &d, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, "county 'b' is not in the counties list"));
    assert_null(d);
}

static void test_publish_newest_wins_and_permissions(void **state)
{
    (void)state;
    struct fx_node centre, county, admin, other;
    struct fm_directory *d = load_dir(), *got = NULL;
    char v1[FM_ID_MAX], v2[FM_ID_MAX];
    size_t reg = 0;
    make_node(&centre, "centre", FM_ROLE_CENTRE);
    make_node(&county, "county", FM_ROLE_COUNTY);
    make_node(&admin, "admin", FM_ROLE_ADMIN);
    OK(fx_author(&org, &other, "other"));
    OK(fx_open(&other, FM_OPEN_READ | FM_OPEN_NOSYNC_));

    assert_int_equal(fm_node_directory_publish(county.n, d, v1, &reg), FM_EPERM);
    OK(fm_node_directory_publish(centre.n, d, v1, &reg));
    assert_int_equal(reg, d->nunits);
    fm_strlcpy(d->name, "second version", sizeof d->name);
    OK(fm_node_directory_publish(admin.n, d, v2, &reg));
    assert_int_equal(reg, d->nunits); /* admin's store had no units yet */
    /* both orders of arrival give the newer version */
    OK(fx_sync(admin.n, other.n, NULL));
    OK(fx_sync(centre.n, other.n, NULL));
    OK(fx_sync(centre.n, admin.n, NULL));
    OK(fm_node_directory_get(other.n, &got));
    assert_string_equal(got->version, v2);
    assert_string_equal(got->name, "second version");
    fm_directory_free(&got);
    OK(fm_node_directory_get(admin.n, &got));
    assert_string_equal(got->version, v2);
    fm_directory_free(&got);
    assert_int_equal(fx_digest_eq(other.n, admin.n), 1);
    fm_directory_free(&d);
    fx_done(&centre);
    fx_done(&county);
    fx_done(&admin);
    fx_done(&other);
}

/* ---- classification and proposal ---- */

static void test_classification_and_suggestion(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    struct fm_suggestion *s = malloc(sizeof *s);
    char inc[FM_ID_MAX], v[FM_ID_MAX], e1[FM_ID_MAX];
    assert_non_null(s);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    assert_int_equal(fm_node_default_priority(c.n, "crowd_gathering"), 2);
    assert_int_equal(fm_node_default_priority(c.n, "no_such"), 0);

    /* acid leak at the riverside chemical park: tier 1 only */
    report(c.n, "chemical_leak", 31.3000, 121.5500, 3, inc);
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_true(s->has_rule && s->max_tier == 1);
    assert_int_equal(s->nunits, 5);
    assert_string_equal(s->units[0].name, "Env Monitor V1");
    assert_string_equal(s->units[1].name, "Hazmat R7"); /* nearest hazmat unit first */
    assert_string_equal(s->units[2].name, "Hazmat R8");
    assert_string_equal(s->units[3].department, "City Emergency Medical Centre");
    assert_string_equal(s->units[4].name, "Patrol R1");
    assert_true(s->units[1].distance_km < s->units[2].distance_km);
    assert_false(s->units[0].live_position);
    assert_int_equal(s->units[0].position_age_s, -1);
    for (size_t i = 0; i < s->nunits; i++)
        assert_true(strcmp(s->units[i].department, "City Water Group") != 0);

    /* a live position beats the home station and reports its age */
    unit_id(c.n, "Hazmat R8", e1);
    OK(fm_node_unit_position(c.n, e1, 313000500, 1215500500));
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms() + 5000, s));
    assert_string_equal(s->units[1].name, "Hazmat R8");
    assert_true(s->units[1].live_position);
    assert_true(s->units[1].position_age_s >= 4 && s->units[1].position_age_s <= 6);
    assert_true(s->units[1].distance_km < 0.1);

    /* department-store fire, priority 1: power and gas (tier 2) join at once */
    report(c.n, "building_fire", 31.2305, 121.4745, 1, inc);
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_int_equal(s->max_tier, 2);
    bool power = false, gas = false, env = false;
    for (size_t i = 0; i < s->nunits; i++) {
        power = power || strcmp(s->units[i].department, "City Power Supply") == 0;
        gas = gas || strcmp(s->units[i].department, "City Gas Company") == 0;
        env = env || strcmp(s->units[i].department, "Environment Bureau") == 0;
    }
    assert_true(power && gas && !env);
    /* a busy unit is not proposed again */
    const char *u0 = s->units[0].unit;
    char first[FM_ID_MAX], tk[1][FM_ID_MAX];
    fm_strlcpy(first, u0, sizeof first);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){first}, 1, NULL, tk));
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    for (size_t i = 0; i < s->nunits; i++)
        assert_string_not_equal(s->units[i].unit, first);
    /* and cannot be dispatched twice */
    assert_int_equal(fm_node_dispatch(c.n, inc, (const char *const[]){first}, 1, NULL, tk),
                     FM_ESTATE);

    /* unknown category: no rule, no proposal */
    report(c.n, "meteor", 31.2, 121.4, 3, inc);
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_true(s->has_directory && !s->has_rule && s->nunits == 0);
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
}

/* Two centres publish the same directory while apart: after the sync
 * (either way round) each directory unit is ONE unit entity. */
struct name_count {
    const char *name;
    size_t n, total;
};
static int name_count_cb(void *ctx, const struct fm_unit *u)
{
    struct name_count *c = ctx;
    c->total++;
    c->n += strcmp(u->name, c->name) == 0;
    return 0;
}

static void test_concurrent_publish_one_unit_each(void **state)
{
    (void)state;
    struct fx_node a, b;
    struct fm_directory *d = load_dir();
    char v[FM_ID_MAX], inc[FM_ID_MAX], tk[1][FM_ID_MAX];
    size_t reg = 0;
    make_node(&a, "centre-a", FM_ROLE_CENTRE);
    make_node(&b, "admin-b", FM_ROLE_ADMIN);
    OK(fm_node_directory_publish(a.n, d, v, &reg));
    assert_int_equal(reg, d->nunits);
    OK(fm_node_directory_publish(b.n, d, v, &reg));
    assert_int_equal(reg, d->nunits);
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    struct name_count c = {.name = "Hazmat R7"};
    OK(fm_node_units(a.n, name_count_cb, &c));
    assert_int_equal(c.total, d->nunits);
    assert_int_equal(c.n, 1);
    /* the proposal offers each truck once, and one truck takes one ticket */
    struct fm_suggestion *s = malloc(sizeof *s);
    assert_non_null(s);
    report(a.n, "chemical_leak", 31.3000, 121.5500, 3, inc);
    OK(fm_node_dispatch_suggest(a.n, inc, fm_now_ms(), s));
    for (size_t i = 0; i < s->nunits; i++)
        for (size_t j = i + 1; j < s->nunits; j++)
            assert_string_not_equal(s->units[i].name, s->units[j].name);
    char uid[FM_ID_MAX];
    unit_id(a.n, "Hazmat R7", uid);
    OK(fm_node_dispatch(a.n, inc, (const char *const[]){uid}, 1, NULL, tk));
    OK(fx_sync(a.n, b.n, NULL));
    /* b sees the unit busy: the same entity */
    assert_int_equal(fm_node_dispatch(b.n, inc, (const char *const[]){uid}, 1, NULL, tk),
                     FM_EPERM); /* an admin does not dispatch at all */
    struct fm_unit u;
    OK(fm_node_unit_get(b.n, uid, &u));
    assert_string_equal(u.status, "assigned");
    /* a later publish does not make it available again */
    OK(fm_node_directory_publish(b.n, d, v, &reg));
    assert_int_equal(reg, 0);
    free(s);
    fm_directory_free(&d);
    fx_done(&a);
    fx_done(&b);
}

/* ---- permissions at ingest ---- */

static void test_vehicle_dispatch_refused_everywhere(void **state)
{
    (void)state;
    struct fx_node centre, veh, n2, n3;
    struct fx_log g;
    struct payload *pl = calloc(1, sizeof *pl);
    char inc[FM_ID_MAX], uid[FM_ID_MAX], tk[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "Engine 1", .department = "Fire", .kind = "engine",
                             .tier = 1};
    assert_non_null(pl);
    make_node(&centre, "centre", FM_ROLE_CENTRE);
    make_unit_node(&veh, "vehicle", FM_ROLE_VEHICLE, "Engine 1");
    OK(fx_author(&org, &n2, "n2"));
    OK(fx_author(&org, &n3, "n3"));
    OK(fx_open(&n2, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    OK(fx_open(&n3, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    report(centre.n, "fire", 1, 1, 2, inc);
    OK(fm_node_unit_register(centre.n, &un, uid));
    OK(fm_node_dispatch(centre.n, inc, (const char *const[]){uid}, 1, NULL, tk));

    /* the vehicle's own node refuses to write it */
    OK(fx_sync(centre.n, veh.n, NULL));
    assert_int_equal(fm_node_dispatch(veh.n, inc, (const char *const[]){uid}, 1, NULL, tk),
                     FM_EPERM);
    struct fm_directory *d = load_dir();
    assert_int_equal(fm_node_directory_publish(veh.n, d, NULL, NULL), FM_EPERM);
    fm_directory_free(&d);
    /* a vehicle may acknowledge */
    OK(fm_node_ticket_step(veh.n, tk[0], FM_STEP_ACK, NULL));
    struct fm_ticket t;
    OK(fm_node_ticket_get(veh.n, tk[0], &t));
    assert_int_equal(t.state, FM_TICKET_ACKNOWLEDGED);
    assert_false(t.acked.behalf);
    /* but not cancel */
    assert_int_equal(fm_node_ticket_step(veh.n, tk[0], FM_STEP_CANCEL, NULL), FM_EPERM);

    /* a hand-made log of the same vehicle key with a dispatch op */
    fx_log_init(&g, &veh.id);
    OK(fx_log_cert(&g, &veh.cert));
    pl->log.kind = OP_TICKET_DISPATCH;
    memcpy(pl->ref.author, centre.id.pk, FM_PK_LEN);
    pl->ref.seq = 2;
    memcpy(pl->ref2.author, centre.id.pk, FM_PK_LEN);
    pl->ref2.seq = 3;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
    OK(fx_log_pl(&g, pl));
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_DIR_PUBLISH;
    pl->part = 1;
    pl->blob_len = 1;
    pl->present = PT_BIT(PT_PART) | PT_BIT(PT_BLOB);
    OK(fx_log_pl(&g, pl));
    OK(fx_sync(centre.n, n2.n, NULL));
    struct fm_ingest_result res;
    /* every node refuses the same ops, in any order */
    OK(fx_ingest(n2.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1); /* the certificate */
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.err, FM_EPERM);
    assert_int_equal(res.err_seq, 2);
    OK(fx_ingest(n3.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.err, FM_EPERM);
    OK(fx_sync(centre.n, n3.n, NULL));
    assert_int_equal(fx_digest_eq(n2.n, n3.n), 1);
    struct fm_node_stats st;
    OK(fm_node_stats(n2.n, &st));
    struct fm_node_stats sc;
    OK(fm_node_stats(centre.n, &sc));
    assert_int_equal(st.ops, sc.ops + 1); /* only the vehicle's certificate came along */
    fx_log_free(&g);
    free(pl);
    fx_done(&centre);
    fx_done(&veh);
    fx_done(&n2);
    fx_done(&n3);
}

/* ---- tickets, escalation ---- */

static void test_ticket_lifecycle_and_units(void **state)
{
    (void)state;
    struct fx_node c;
    char inc[FM_ID_MAX], u1[FM_ID_MAX], u2[FM_ID_MAX], tk[2][FM_ID_MAX], nt[FM_ID_MAX];
    struct fm_unit_new a = {.name = "A", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_unit_new b = {.name = "B", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_unit u;
    struct fm_ticket t;
    struct fm_incident_workflow wf;
    struct fm_incident i;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    report(c.n, "fire", 1, 1, 2, inc);
    OK(fm_node_unit_register(c.n, &a, u1));
    OK(fm_node_unit_register(c.n, &b, u2));
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){u1, u2}, 2, "go", tk));
    OK(fm_node_unit_get(c.n, u1, &u));
    assert_string_equal(u.status, "assigned");
    OK(fm_node_incident_get(c.n, inc, &i));
    assert_int_equal(i.stage, FM_STAGE_DISPATCHED);
    OK(fm_node_ticket_step(c.n, tk[1], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_incident_workflow(c.n, inc, &wf));
    assert_string_equal(wf.coordinator_unit, u2); /* the first to acknowledge */
    assert_int_equal(fm_node_ticket_step(c.n, tk[0], FM_STEP_ACK, NULL), FM_ESTATE);
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_ARRIVE, NULL));
    OK(fm_node_unit_get(c.n, u1, &u));
    assert_string_equal(u.status, "onscene");
    OK(fm_node_incident_get(c.n, inc, &i));
    assert_int_equal(i.stage, FM_STAGE_ONSCENE);
    assert_int_equal(fm_node_ticket_step(c.n, tk[0], FM_STEP_ENROUTE, NULL), FM_ESTATE);
    assert_int_equal(fm_node_ticket_step(c.n, tk[0], FM_STEP_CLEAR, NULL), FM_EINVAL);
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_CLEAR, "fire out"));
    OK(fm_node_ticket_get(c.n, tk[0], &t));
    assert_int_equal(t.state, FM_TICKET_CLEARED);
    assert_string_equal(t.result, "fire out");
    assert_true(t.acked.behalf); /* a centre records for the unit */
    assert_int_equal(t.events, 4);
    OK(fm_node_unit_get(c.n, u1, &u));
    assert_string_equal(u.status, "available");
    /* reassign B's ticket to A */
    OK(fm_node_ticket_reassign(c.n, tk[1], u1, "closer", nt));
    OK(fm_node_ticket_get(c.n, tk[1], &t));
    assert_int_equal(t.state, FM_TICKET_REASSIGNED);
    assert_false(t.active);
    OK(fm_node_ticket_get(c.n, nt, &t));
    assert_string_equal(t.replaces, tk[1]);
    assert_string_equal(t.unit, u1);
    OK(fm_node_unit_get(c.n, u2, &u));
    assert_string_equal(u.status, "available");
    OK(fm_node_unit_get(c.n, u1, &u));
    assert_string_equal(u.status, "assigned");
    fx_done(&c);
}

/* Two dispatchers escalate the same incident while apart: one escalation. */
static void test_escalation_dedup(void **state)
{
    (void)state;
    struct fx_node c, k, s1, s2;
    struct fm_directory *d = load_dir();
    char inc[FM_ID_MAX], v[FM_ID_MAX], uid[FM_ID_MAX], tk[1][FM_ID_MAX];
    struct fm_incident_workflow wf;
    unsigned raised = 9;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    OK(fx_author(&org, &s1, "s1"));
    OK(fx_author(&org, &s2, "s2"));
    OK(fx_open(&s1, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    OK(fx_open(&s2, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, inc);
    unit_id(c.n, "Patrol R1", uid);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){uid}, 1, NULL, tk));
    OK(fx_sync(c.n, k.n, NULL));
    uint64_t now = fm_now_ms();
    /* before the deadline nobody raises */
    fm_node_workflow_tick(c.n, now, &raised);
    assert_int_equal(raised, 0);
    /* the dispatching node at the deadline (120 s); the county only after
     * its grace period */
    fm_node_workflow_tick(k.n, now + 121000, &raised);
    assert_int_equal(raised, 0);
    fm_node_workflow_tick(c.n, now + 121000, &raised);
    assert_int_equal(raised, 1);
    fm_node_workflow_tick(k.n, now + 200000, &raised);
    assert_int_equal(raised, 1); /* apart, the county raises its own */
    fm_node_workflow_tick(c.n, now + 300000, &raised);
    assert_int_equal(raised, 0); /* already escalated to tier 2 here */
    /* merged in either order: one escalation with two raises */
    OK(fx_sync(c.n, s1.n, NULL));
    OK(fx_sync(k.n, s1.n, NULL));
    OK(fx_sync(k.n, s2.n, NULL));
    OK(fx_sync(c.n, s2.n, NULL));
    assert_int_equal(fx_digest_eq(s1.n, s2.n), 1);
    OK(fm_node_incident_workflow(s1.n, inc, &wf));
    assert_int_equal(wf.escalated_tier, 2);
    assert_int_equal(wf.escalation_raises[2], 2);
    assert_int_equal(wf.escalation_raises[3], 0);
    /* the proposal now includes tier 2 */
    struct fm_suggestion *s = malloc(sizeof *s);
    assert_non_null(s);
    OK(fm_node_dispatch_suggest(s1.n, inc, fm_now_ms(), s));
    assert_int_equal(s->max_tier, 2);
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&k);
    fx_done(&s1);
    fx_done(&s2);
}

/* A resolved or closed incident takes no dispatch until reopened, and a
 * ticket still unacknowledged on it raises no escalation. */
static void test_closed_incident_dispatch_escalation(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    char inc[FM_ID_MAX], v[FM_ID_MAX], uid[FM_ID_MAX], uid2[FM_ID_MAX], tk[1][FM_ID_MAX];
    unsigned raised = 9;
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, inc);
    unit_id(c.n, "Patrol R1", uid);
    unit_id(c.n, "Engine C1", uid2);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){uid}, 1, NULL, tk));
    OK(fm_node_incident_status(c.n, inc, FM_STAGE_RESOLVED, false));
    uint64_t now = fm_now_ms();
    fm_node_workflow_tick(c.n, now + 400000, &raised); /* long past the deadline */
    assert_int_equal(raised, 0);
    assert_int_equal(fm_node_dispatch(c.n, inc, (const char *const[]){uid2}, 1, NULL, tk),
                     FM_ECLOSED);
    OK(fm_node_incident_status(c.n, inc, FM_STAGE_CLOSED, false));
    assert_int_equal(fm_node_dispatch(c.n, inc, (const char *const[]){uid2}, 1, NULL, tk),
                     FM_ECLOSED);
    OK(fm_node_incident_status(c.n, inc, FM_STAGE_NEW, true)); /* reopened */
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){uid2}, 1, NULL, tk));
    fm_node_workflow_tick(c.n, now + 402000, &raised); /* open again: it escalates */
    assert_int_equal(raised, 1);
    fm_directory_free(&d);
    fx_done(&c);
}

/* Each further tier waits the rule's full escalate_after from the previous
 * escalation, not from the ticket's dispatch. */
static void test_escalation_tiers_spaced(void **state)
{
    (void)state;
    struct fx_node c, k;
    struct fm_directory *d = load_dir();
    char inc[FM_ID_MAX], v[FM_ID_MAX], u1[FM_ID_MAX];
    struct fm_unit_new a = {.name = "A", .department = "Fire", .kind = "engine", .tier = 1};
    struct fm_incident_workflow wf;
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload *pl = calloc(1, sizeof *pl);
    unsigned raised = 9;
    assert_non_null(pl);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    /* building_fire: escalate_after_s 90, needs in tiers 2 and 3 */
    report(c.n, "building_fire", 31.2305, 121.4745, 2, inc);
    OK(fm_node_unit_register(c.n, &a, u1));
    /* the county dispatched it 200 s ago (its ticket: grace 45 s more) */
    uint64_t now = fm_now_ms();
    fx_log_init(&g, &k.id);
    g.hlc = (now - 200000) << 16;
    OK(fx_log_cert(&g, &k.cert));
    pl->log.kind = OP_TICKET_DISPATCH;
    memcpy(pl->ref.author, c.id.pk, FM_PK_LEN);
    pl->ref.seq = id_seq(inc);
    memcpy(pl->ref2.author, c.id.pk, FM_PK_LEN);
    pl->ref2.seq = id_seq(u1);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    fm_node_workflow_tick(c.n, now, &raised);
    assert_int_equal(raised, 1);
    OK(fm_node_incident_workflow(c.n, inc, &wf));
    assert_int_equal(wf.escalated_tier, 2);
    /* tier 3 is not due a second later, nor just before the full period
     * (90 s + 45 s grace) since the tier-2 escalation */
    fm_node_workflow_tick(c.n, now + 2000, &raised);
    assert_int_equal(raised, 0);
    fm_node_workflow_tick(c.n, now + 130000, &raised);
    assert_int_equal(raised, 0);
    fm_node_workflow_tick(c.n, now + 140000, &raised);
    assert_int_equal(raised, 1);
    OK(fm_node_incident_workflow(c.n, inc, &wf));
    assert_int_equal(wf.escalated_tier, 3);
    fx_log_free(&g);
    free(pl);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&k);
}

/* ---- op format 2: the console operator in each op ---- */

struct op_seen {
    char names[16][64];
    char what[16][16];
    size_t n;
};

static int seen_event(void *ctx, const struct fm_ticket_event *e)
{
    struct op_seen *s = ctx;
    if (s->n < 16) {
        fm_strlcpy(s->names[s->n], e->operator_name, sizeof s->names[0]);
        fm_strlcpy(s->what[s->n++], e->step, sizeof s->what[0]);
    }
    return 0;
}

static int seen_entry(void *ctx, const struct fm_timeline_entry *e)
{
    struct op_seen *s = ctx;
    if (s->n < 16) {
        fm_strlcpy(s->names[s->n], e->operator_name, sizeof s->names[0]);
        fm_strlcpy(s->what[s->n++], e->kind, sizeof s->what[0]);
    }
    return 0;
}

/* The name set with fm_node_set_operator goes into every op written while
 * it is set, only at op_format 2; another node (of either format) shows
 * it after sync; the entities and digest do not depend on it. */
static void test_operator_in_ops(void **state)
{
    (void)state;
    struct fx_node c, old;
    char inc[FM_ID_MAX], u1[FM_ID_MAX], tk[1][FM_ID_MAX], inc2[FM_ID_MAX];
    struct fm_unit_new a = {.name = "A", .department = "Fire", .kind = "engine", .tier = 1};
    struct op_seen s = {0};
    const char *zw = "\xe5\xbc\xa0\xe4\xbc\x9f"; /* 张伟 */
    OK(fx_author(&org, &c, "centre"));
    set_role(&c, FM_ROLE_CENTRE);
    c.cfg.op_format = 2;
    OK(fx_open(&c, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
    make_node(&old, "county", FM_ROLE_COUNTY); /* op_format 1, the default */
    assert_int_equal(old.cfg.op_format, 1);
    assert_true(fm_node_writes_operator(c.n));
    assert_false(fm_node_writes_operator(old.n));
    /* not text: refused, nothing set */
    assert_int_equal(fm_node_set_operator(c.n, "a\nb"), FM_EINVAL);
    OK(fm_node_unit_register(c.n, &a, u1)); /* nobody acting */
    OK(fm_node_set_operator(c.n, zw));
    report(c.n, "fire", 1, 1, 2, inc);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){u1}, 1, "go", tk));
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_CANCEL, "wrong address"));
    OK(fm_node_set_operator(c.n, NULL));
    OK(fm_node_incident_note(c.n, inc, "after logout"));
    /* the ticket's history: dispatch and cancel by the operator */
    OK(fm_node_ticket_history(c.n, tk[0], seen_event, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.what[0], "dispatch");
    assert_string_equal(s.names[0], zw);
    assert_string_equal(s.what[1], "cancel");
    assert_string_equal(s.names[1], zw);
    /* the incident's timeline: the report by the operator, the late note not */
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_timeline(c.n, inc, seen_entry, &s));
    assert_true(s.n >= 2);
    assert_string_equal(s.what[0], "report");
    assert_string_equal(s.names[0], zw);
    assert_string_equal(s.what[s.n - 1], "note");
    assert_string_equal(s.names[s.n - 1], "");
    /* another node reads it whatever its own op_format */
    OK(fx_sync(c.n, old.n, NULL));
    memset(&s, 0, sizeof s);
    OK(fm_node_ticket_history(old.n, tk[0], seen_event, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[1], zw);
    assert_int_equal(fx_digest_eq(c.n, old.n), 1);
    /* the old path: a format-1 node with an operator set names nobody */
    OK(fm_node_set_operator(old.n, "li"));
    report(old.n, "flood", 2, 2, 3, inc2);
    memset(&s, 0, sizeof s);
    OK(fm_node_incident_timeline(old.n, inc2, seen_entry, &s));
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "");
    fx_done(&c);
    fx_done(&old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operator_in_ops),
        cmocka_unit_test(test_great_circle),
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_directory_yaml_and_codec),
        cmocka_unit_test(test_publish_newest_wins_and_permissions),
        cmocka_unit_test(test_classification_and_suggestion),
        cmocka_unit_test(test_concurrent_publish_one_unit_each),
        cmocka_unit_test(test_vehicle_dispatch_refused_everywhere),
        cmocka_unit_test(test_ticket_lifecycle_and_units),
        cmocka_unit_test(test_escalation_dedup),
        cmocka_unit_test(test_closed_incident_dispatch_escalation),
        cmocka_unit_test(test_escalation_tiers_spaced),
    };
    return wf_test_main("test_workflow", tests, sizeof tests / sizeof tests[0]);
}
