/*
 * test_workflow.c — the linkage workflow's node-level behaviour:
 * great-circle distance, percentiles, the directory (YAML errors, binary
 * round trip, publication with newest-wins), classification and the
 * proposed dispatch, role permissions enforced at ingest on every node,
 * ticket lifecycle and unit status, escalation by the periodic check and
 * the merging of duplicate escalations, conflicts and their resolution.
 *
 * The example directory is configs/directory.yaml (found through FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "node_fixture.h"
#include "node/workflow_int.h"

#define OK(x) assert_int_equal((x), FM_OK)

static struct fx_org org;
static char dir_path[512];

/* Re-enrolls an author under another role (before its first write). */
static void set_role(struct fx_node *a, enum fm_role role)
{
    a->cert.role = role;
    a->cfg.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
}

static void make_node(struct fx_node *a, const char *name, enum fm_role role)
{
    OK(fx_author(&org, a, name));
    set_role(a, role);
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

/* A station or vehicle node whose certificate names its unit. */
static void make_unit_node(struct fx_node *a, const char *name, enum fm_role role,
                           const char *unit)
{
    OK(fx_author(&org, a, name));
    fm_strlcpy(a->cert.unit, unit, sizeof a->cert.unit);
    set_role(a, role);
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

static struct fm_directory *load_dir(void)
{
    struct fm_directory *d = NULL;
    char err[512];
    int rc = fm_directory_load_yaml(dir_path, &d, err, sizeof err);
    if (rc != FM_OK)
        print_error("%s\n", err);
    OK(rc);
    return d;
}

/* Finds a unit entity id by name. */
struct find_unit {
    const char *name;
    char id[FM_ID_MAX];
};
static int find_unit_cb(void *ctx, const struct fm_unit *u)
{
    struct find_unit *f = ctx;
    if (strcmp(u->name, f->name) == 0) {
        fm_strlcpy(f->id, u->id, sizeof f->id);
        return 1;
    }
    return 0;
}
static void unit_id(struct fm_node *n, const char *name, char id[FM_ID_MAX])
{
    struct find_unit f = {.name = name};
    assert_int_equal(fm_node_units(n, find_unit_cb, &f), 1);
    fm_strlcpy(id, f.id, FM_ID_MAX);
}

static void report(struct fm_node *n, const char *cat, double lat, double lon, uint8_t prio,
                   char id[FM_ID_MAX])
{
    struct fm_incident_new in = {.category = cat, .priority = prio,
                                 .lat_e7 = (int32_t)lround(lat * 1e7),
                                 .lon_e7 = (int32_t)lround(lon * 1e7)};
    OK(fm_node_incident_report(n, &in, id));
}

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
    pl->kind = OP_TICKET_DISPATCH;
    memcpy(pl->ref.author, centre.id.pk, FM_PK_LEN);
    pl->ref.seq = 2;
    memcpy(pl->ref2.author, centre.id.pk, FM_PK_LEN);
    pl->ref2.seq = 3;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
    OK(fx_log_pl(&g, pl));
    memset(pl, 0, sizeof *pl);
    pl->kind = OP_DIR_PUBLISH;
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
    assert_int_equal(fm_node_conflict_resolve(b.n, "stock:nope", NULL), FM_ENOTFOUND);
    OK(fm_node_conflict_resolve(b.n, want[1], "restock ordered"));
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

/* ---- the report: intervals, percentiles, clocks that disagree ---- */

static uint64_t id_seq(const char *id)
{
    uint64_t v = 0;
    const char *dash = strrchr(id, '-');
    assert_non_null(dash);
    OK(fm_parse_u64(dash + 1, &v));
    return v;
}

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
    pl->kind = OP_TICKET_STEP;
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
    pl->kind = OP_TICKET_STEP;
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
    pl->kind = OP_TICKET_DISPATCH;
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

int main(void)
{
    const char *src = getenv("FM_SRC");
    snprintf(dir_path, sizeof dir_path, "%s/configs/directory.yaml", src ? src : ".");
    const struct CMUnitTest tests[] = {
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
        cmocka_unit_test(test_conflicts_after_partition),
        cmocka_unit_test(test_double_booked_unit),
        cmocka_unit_test(test_report_and_clock_note),
        cmocka_unit_test(test_escalation_tiers_spaced),
        cmocka_unit_test(test_step_author_honest),
    };
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fx_org_done(&org);
    return rc;
}
