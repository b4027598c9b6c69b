/*
 * test_directory_keys.c — stable unit ids (docs/workflow.md §1c): `id:` in
 * the YAML (strict errors with file:line:column), the skippable section
 * (one canonical form, truncations refused, an older build skipping it,
 * the YAML writer's round trip); a rename or a move under a stable id that
 * keeps the entity, its tickets and its history; a unit the directory no
 * longer lists retired (never proposed, a dispatch by hand refused by the
 * check); a hand-registered unit unlisted until listed by name; op format 6
 * required to publish ids; forged keyed registrations refused at ingest;
 * two centres renaming apart converge in both arrival orders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

#define DIR_HEAD                                                                             \
    "name: t\ncounties: [north, south]\n"                                                    \
    "departments:\n"                                                                         \
    "  - {name: Fire, kind: fire, tier: 1, county: north,\n"                                 \
    "     units: [{name: 婺城消防水罐车1号, id: WC-F-001, kind: engine, capabilities: "         \
    "[water], home: [29.1, 119.6]},\n"                                                       \
    "             {name: E2, kind: engine, capabilities: [water], home: [29.1, 119.61]}"

#define DIR_RULES                                                                            \
    "rules:\n"                                                                               \
    "  - {category: building_fire, respond: [{tier: 1, kind: fire, capability: water, "      \
    "units: 3}]}\n"

#define DIR_TAIL                                                                             \
    "]}\n"                                                                                   \
    "  - {name: South Fire, kind: fire, tier: 1, county: south, units: []}\n" DIR_RULES

static struct fm_directory *parse_ok(const char *text)
{
    struct fm_directory *d = NULL;
    char err[512];
    if (dir_parse(text, &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    return d;
}

static void test_yaml(void **state)
{
    (void)state;
    struct fm_directory *d = parse_ok(DIR_HEAD DIR_TAIL);
    char id[FM_ID_MAX], id2[FM_ID_MAX];
    assert_string_equal(d->units[0].key, "WC-F-001");
    assert_string_equal(d->units[1].key, "");
    assert_ptr_equal(fm_directory_unit_key(d, "WC-F-001"), &d->units[0]);
    assert_null(fm_directory_unit_key(d, "WC-F-002"));
    assert_null(fm_directory_unit_key(d, ""));
    /* ids need the sections of version 2, nothing newer */
    assert_int_equal(fm_directory_format(d), 2);
    /* the entity id derives from the key alone: a rename keeps it */
    fm_directory_unit_id(d, &d->units[0], id);
    fm_strlcpy(d->units[0].name, "renamed", sizeof d->units[0].name);
    d->units[0].dept = 1;
    fm_directory_unit_id(d, &d->units[0], id2);
    assert_string_equal(id, id2);
    /* without a key it derives from (department, name) */
    fm_directory_unit_id(d, &d->units[1], id);
    fm_strlcpy(d->units[1].name, "E2b", sizeof d->units[1].name);
    fm_directory_unit_id(d, &d->units[1], id2);
    assert_string_not_equal(id, id2);
    fm_directory_free(&d);

    dir_expect_error(DIR_HEAD ", {name: E3, id: 'WC F', kind: engine, home: [29, 119]}" DIR_TAIL,
                 "t.yaml:6:", "'id' must be 1 to 31 letters, digits");
    dir_expect_error(DIR_HEAD ", {name: E3, id: WC-F-001, kind: engine, home: [29, 119]}" DIR_TAIL,
                 "t.yaml:6:", "unit id 'WC-F-001' is used twice");
    dir_expect_error(DIR_HEAD ", {name: E3, id: '', kind: engine, home: [29, 119]}" DIR_TAIL,
                 "t.yaml:6:", "'id' must be");
    dir_expect_error(DIR_HEAD ", {name: E3, id: abcdefghijklmnopqrstuvwxyz0123456, kind: engine, "
                          "home: [29, 119]}" DIR_TAIL,
                 "t.yaml:6:", "got 'abcdefghijklmnopqrstuvwxyz0123456'");
    dir_expect_error(DIR_HEAD ", {name: E3, idx: a, kind: engine, home: [29, 119]}" DIR_TAIL,
                 "t.yaml:6:", "expected name, id, kind");
}

static void test_section(void **state)
{
    (void)state;
    struct fm_directory *d = parse_ok(DIR_HEAD DIR_TAIL), *back = malloc(sizeof *back);
    struct fm_buf b, b2;
    char err[512], *yaml = NULL;
    size_t ylen;
    assert_non_null(back);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 2);
    OK(directory_decode(back, b.data, b.len));
    assert_string_equal(back->units[0].key, "WC-F-001");
    assert_string_equal(back->units[1].key, "");
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    /* the section: 0x84 | len | u16 n | u16 index | str8 key, at the end */
    size_t at = b.len - (5 + 2 + 2 + 1 + 8);
    assert_int_equal(b.data[at], 0x84);
    /* an index past the units, and a key that is no key, are refused */
    b.data[at + 7] = 0;
    b.data[at + 8] = 2;
    assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
    b.data[at + 8] = 0;
    b.data[at + 10] = ' ';
    assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
    b.data[at + 10] = 'W';
    OK(directory_decode(back, b.data, b.len));
    /* a build that does not know the section reads every unit by name */
    b.data[at] = 0xfe;
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nskipped, 1);
    assert_string_equal(back->units[0].key, "");
    assert_int_equal(back->nunits, 2);
    /* the YAML writer writes the id back */
    OK(fm_directory_render_yaml(d, NULL, &yaml, &ylen));
    struct fm_directory *again = NULL;
    if (fm_directory_parse_yaml("again", yaml, ylen, &again, err, sizeof err) != FM_OK)
        fail_msg("%s\n%s", err, yaml);
    assert_string_equal(again->units[0].key, "WC-F-001");
    free(yaml);
    fm_directory_free(&again);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
}

/* ---- on nodes ---- */

static void make_centre(struct fx_node *a, const char *name, unsigned op_format)
{
    OK(fx_author(&org, a, name));
    set_role(a, FM_ROLE_CENTRE);
    a->cfg.op_format = op_format;
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

struct standing_seen {
    struct fm_directory *d;
    size_t n[3];
    struct fm_unit keyed;
    bool has_keyed;
};
static int standing_cb(void *ctx, const struct fm_unit *u)
{
    struct standing_seen *s = ctx;
    enum fm_unit_standing st;
    (void)fm_directory_unit_of(s->d, u, &st);
    s->n[st]++;
    if (strcmp(u->key, "WC-F-001") == 0) {
        s->keyed = *u;
        s->has_keyed = true;
    }
    return 0;
}

static void standing(struct fm_node *n, struct standing_seen *s)
{
    memset(s, 0, sizeof *s);
    OK(fm_node_directory_get(n, &s->d));
    OK(fm_node_units(n, standing_cb, s));
    fm_directory_free(&s->d);
}

static bool suggests(struct fm_node *n, const char *inc, const char *unit)
{
    struct fm_suggestion *s = calloc(1, sizeof *s);
    bool found = false;
    assert_non_null(s);
    OK(fm_node_dispatch_suggest(n, inc, 0, s));
    for (size_t i = 0; i < s->nunits; i++)
        found |= strcmp(s->units[i].unit, unit) == 0;
    free(s);
    return found;
}

static void test_rename_retire_adopt(void **state)
{
    (void)state;
    struct fx_node a;
    struct fm_directory *d;
    struct standing_seen s;
    struct fm_dispatch_check chk;
    char ver[FM_ID_MAX], inc[FM_ID_MAX], keyed[FM_ID_MAX], e2[FM_ID_MAX], hand[FM_ID_MAX],
        tk[1][FM_ID_MAX];
    size_t reg = 0;
    /* op format 5: a directory with ids is refused, nothing written */
    make_centre(&a, "a", 5);
    d = parse_ok(DIR_HEAD DIR_TAIL);
    assert_int_equal(fm_node_directory_publish(a.n, d, ver, &reg), FM_ECONFIG);
    struct fm_directory *none = NULL;
    assert_int_equal(fm_node_directory_get(a.n, &none), FM_ENOTFOUND);
    fx_done(&a);

    make_centre(&a, "a", 6);
    OK(fm_node_directory_publish(a.n, d, ver, &reg));
    assert_int_equal(reg, 2);
    fm_directory_unit_id(d, &d->units[0], keyed);
    fm_directory_unit_id(d, &d->units[1], e2);
    fm_directory_free(&d);
    /* a unit registered by hand in a department of the directory */
    struct fm_unit_new un = {.name = "Spare", .department = "Fire", .kind = "engine",
                             .capabilities = "water", .tier = 1};
    OK(fm_node_unit_register(a.n, &un, hand));
    OK(fm_node_unit_position(a.n, hand, 291000000, 1196000000));
    standing(a.n, &s);
    assert_int_equal(s.n[FM_UNIT_LISTED], 2);
    assert_int_equal(s.n[FM_UNIT_UNLISTED], 1);
    assert_true(s.has_keyed);
    assert_string_equal(s.keyed.id, keyed);
    assert_string_equal(s.keyed.name, "婺城消防水罐车1号");

    /* the keyed unit goes out on a ticket */
    report(a.n, "building_fire", 29.1, 119.6, 1, inc);
    assert_true(suggests(a.n, inc, keyed));
    OK(fm_node_dispatch(a.n, inc, (const char *const[]){keyed}, 1, NULL, tk));

    /* version 2: the keyed unit renamed and moved to South Fire; E2 dropped;
     * Spare listed under its name and department (adopted) */
    d = parse_ok("name: t\ncounties: [north, south]\n"
                 "departments:\n"
                 "  - {name: Fire, kind: fire, tier: 1, county: north,\n"
                 "     units: [{name: Spare, kind: engine, capabilities: [water], "
                 "home: [29.1, 119.6]}]}\n"
                 "  - {name: South Fire, kind: fire, tier: 1, county: south, units: [\n"
                 "     {name: 南区水罐车, id: WC-F-001, kind: engine, capabilities: [water, foam], "
                 "home: [29.0, 119.6]}]}\n" DIR_RULES);
    OK(fm_node_directory_publish(a.n, d, ver, &reg));
    fm_directory_free(&d);
    assert_int_equal(reg, 1); /* the rename; Spare is adopted, not registered */
    standing(a.n, &s);
    assert_int_equal(s.n[FM_UNIT_LISTED], 2);
    assert_int_equal(s.n[FM_UNIT_RETIRED], 1);
    assert_int_equal(s.n[FM_UNIT_UNLISTED], 0);
    assert_string_equal(s.keyed.id, keyed); /* same entity */
    assert_string_equal(s.keyed.name, "南区水罐车");
    assert_string_equal(s.keyed.department, "South Fire");
    assert_string_equal(s.keyed.capabilities, "foam,water");
    /* its ticket stayed with it */
    struct fm_ticket t;
    OK(fm_node_ticket_get(a.n, tk[0], &t));
    assert_string_equal(t.unit, keyed);

    /* E2 is retired: never proposed, a dispatch by hand is checked */
    OK(fm_node_unit_position(a.n, e2, 291000000, 1196000000));
    char inc2[FM_ID_MAX];
    report(a.n, "building_fire", 29.1, 119.6, 1, inc2);
    assert_false(suggests(a.n, inc2, e2));
    assert_true(suggests(a.n, inc2, hand));
    OK(fm_node_dispatch_check(a.n, inc2, e2, &chk));
    assert_true(chk.retired);
    assert_false(chk.fits);
    assert_non_null(strstr(chk.why, "retired"));
    OK(fm_node_dispatch_check(a.n, inc2, hand, &chk));
    assert_false(chk.retired);
    assert_true(chk.fits);
    fx_done(&a);
}

/* A keyed registration must carry the ref its key derives; a county may
 * not register under a derived id at all; both refused at ingest. */
static void test_forged_keyed_registration(void **state)
{
    (void)state;
    struct fx_node c, cty, store;
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    OK(fx_author(&org, &c, "c"));
    set_role(&c, FM_ROLE_CENTRE);
    OK(fx_author(&org, &cty, "county"));
    set_role(&cty, FM_ROLE_COUNTY);
    make_centre(&store, "store", 6);
    pl->log.kind = OP_UNIT_REGISTER;
    fm_strlcpy(pl->name, "E9", sizeof pl->name);
    fm_strlcpy(pl->department, "Fire", sizeof pl->department);
    fm_strlcpy(pl->unit_kind, "engine", sizeof pl->unit_kind);
    pl->tier = 1;
    fm_strlcpy(pl->key, "K-9", sizeof pl->key);
    pl->present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) |
                  PT_BIT(PT_UNIT_KIND) | PT_BIT(PT_REF) | PT_BIT(PT_KEY);
    /* another key's ref: the payload does not even encode */
    payload_dir_key_ref("K-8", &pl->ref);
    fx_log_init(&g, &c.id);
    OK(fx_log_cert(&g, &c.cert));
    assert_int_not_equal(fx_log_pl(&g, pl), FM_OK);
    /* the (department, name) ref with a key: refused too */
    payload_dir_unit_ref("Fire", "E9", &pl->ref);
    assert_int_not_equal(fx_log_pl(&g, pl), FM_OK);
    /* a key without a ref */
    pl->present &= ~PT_BIT(PT_REF);
    assert_int_not_equal(fx_log_pl(&g, pl), FM_OK);
    pl->present |= PT_BIT(PT_REF);
    /* the right ref from a centre is stored; the same from a county refused */
    payload_dir_key_ref("K-9", &pl->ref);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(store.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.rejected, 0);
    fx_log_free(&g);
    fx_log_init(&g, &cty.id);
    OK(fx_log_cert(&g, &cty.cert));
    fm_strlcpy(pl->name, "E9 by the county", sizeof pl->name);
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(store.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EPERM);
    struct fm_unit u;
    char id[FM_ID_MAX];
    fm_op_id_format(pl->ref.author, pl->ref.seq, id);
    OK(fm_node_unit_get(store.n, id, &u));
    assert_string_equal(u.name, "E9");
    assert_string_equal(u.key, "K-9");
    fx_log_free(&g);
    free(pl);
    fx_done(&store);
    fx_done(&c);
    fx_done(&cty);
}

/* Two centres rename the same keyed unit while apart: after the sync both
 * hold one entity with the newer name, with equal digests, whichever way
 * the ops travelled. */
static void test_concurrent_renames_converge(void **state)
{
    (void)state;
    struct fx_node a, b, c;
    struct fm_directory *d;
    char ver[FM_ID_MAX];
    size_t reg;
    struct standing_seen s;
    make_centre(&a, "a", 6);
    make_centre(&b, "b", 6);
    make_centre(&c, "c", 6);
    d = parse_ok(DIR_HEAD DIR_TAIL);
    OK(fm_node_directory_publish(a.n, d, ver, &reg));
    fm_directory_free(&d);
    OK(fx_sync(a.n, b.n, NULL));
    d = parse_ok(DIR_HEAD DIR_TAIL);
    fm_strlcpy(d->units[0].name, "name from a", sizeof d->units[0].name);
    OK(fm_node_directory_publish(a.n, d, ver, &reg));
    assert_int_equal(reg, 1);
    fm_strlcpy(d->units[0].name, "name from b", sizeof d->units[0].name);
    OK(fm_node_directory_publish(b.n, d, ver, &reg));
    assert_int_equal(reg, 1);
    fm_directory_free(&d);
    /* c hears b first, a hears b; b hears a */
    OK(fx_sync(b.n, c.n, NULL));
    OK(fx_sync(a.n, c.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    OK(fx_sync(a.n, b.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);
    struct fm_node *nodes[3] = {a.n, b.n, c.n};
    for (int i = 0; i < 3; i++) {
        standing(nodes[i], &s);
        assert_int_equal(s.n[FM_UNIT_LISTED], 2); /* one entity for the keyed unit */
        assert_int_equal(s.n[FM_UNIT_RETIRED] + s.n[FM_UNIT_UNLISTED], 0);
        assert_string_equal(s.keyed.name, "name from b"); /* the newer version's */
    }
    fx_done(&a);
    fx_done(&b);
    fx_done(&c);
}

/* A vehicle enrolled under the unit's first name keeps reporting for it
 * after the directory renames it, and every node agrees whichever arrives
 * first, the rename or the report (a name claim is judged against every
 * name the unit has been registered under, and waits for one that fits);
 * a vehicle of a name the unit never had is ignored on every node. */
static void test_claims_after_a_rename(void **state)
{
    (void)state;
    struct fx_node c, v, z, x, y;
    struct fm_directory *d;
    char ver[FM_ID_MAX], keyed[FM_ID_MAX];
    size_t reg;
    struct fm_unit u;
    make_centre(&c, "c", 6);
    d = parse_ok(DIR_HEAD DIR_TAIL);
    OK(fm_node_directory_publish(c.n, d, ver, &reg));
    fm_directory_unit_id(d, &d->units[0], keyed);
    make_unit_node(&v, "v", FM_ROLE_VEHICLE, d->units[0].name);
    make_unit_node(&z, "z", FM_ROLE_VEHICLE, "Tanker 9");
    make_node(&x, "x", FM_ROLE_COUNTY);
    make_node(&y, "y", FM_ROLE_COUNTY);
    OK(fx_sync(c.n, v.n, NULL));
    OK(fx_sync(c.n, z.n, NULL));
    OK(fx_sync(c.n, x.n, NULL));
    /* the crew reports on scene under the name its certificate gives */
    OK(fm_node_unit_status(v.n, keyed, "onscene"));
    OK(fm_node_unit_position(v.n, keyed, 291234567, 1196543210));
    /* another vehicle claims the unit under a name it never had: its op
     * passes ingest (the claim is its certificate's) and is ignored */
    struct fx_log g;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    fx_log_init(&g, &z.id);
    OK(fx_log_cert(&g, &z.cert));
    pl->log.kind = OP_UNIT_STATUS;
    payload_dir_key_ref("WC-F-001", &pl->ref);
    pl->unit_status = US_OFFLINE;
    fm_strlcpy(pl->name, "Tanker 9", sizeof pl->name);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_UNIT_STATUS) | PT_BIT(PT_NAME);
    OK(fx_log_pl(&g, pl));
    free(pl);
    /* the directory renames it */
    fm_strlcpy(d->units[0].name, "金东消防水罐车1号", sizeof d->units[0].name);
    OK(fm_node_directory_publish(c.n, d, ver, &reg));
    assert_int_equal(reg, 1);
    fm_directory_free(&d);
    /* x: the report before the rename; y: the rename before the report */
    OK(fx_sync(v.n, x.n, NULL));
    OK(fx_sync(c.n, x.n, NULL));
    OK(fx_sync(c.n, y.n, NULL));
    OK(fx_sync(v.n, y.n, NULL));
    OK(fx_ingest(x.n, &g.ops, 0, g.ops.n, NULL));
    OK(fx_ingest(y.n, &g.ops, 0, g.ops.n, NULL));
    assert_int_equal(fx_digest_eq(x.n, y.n), 1);
    struct fm_node *nodes[2] = {x.n, y.n};
    for (int i = 0; i < 2; i++) {
        OK(fm_node_unit_get(nodes[i], keyed, &u));
        assert_string_equal(u.name, "金东消防水罐车1号");
        assert_string_equal(u.status, "onscene");
        assert_true(u.has_position);
        assert_int_equal(u.lat_e7, 291234567);
    }
    /* after a rebuild from the ops alone, the same */
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    OK(fm_node_digest(y.n, d0));
    OK(fm_node_rebuild(y.n));
    OK(fm_node_digest(y.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    fx_log_free(&g);

    /* a ticket dispatched after the rename records the new name; the crew
     * acknowledges under its certificate's, the first name */
    struct fx_node k, p, q;
    char inc[FM_ID_MAX], tk[1][FM_ID_MAX];
    make_node(&k, "k", FM_ROLE_COUNTY);
    make_node(&p, "p", FM_ROLE_COUNTY);
    make_node(&q, "q", FM_ROLE_COUNTY);
    OK(fx_sync(c.n, k.n, NULL));
    OK(fx_sync(v.n, k.n, NULL));
    report(k.n, "building_fire", 29.1, 119.6, 1, inc);
    OK(fm_node_unit_status(k.n, keyed, "available"));
    OK(fm_node_dispatch(k.n, inc, (const char *const[]){keyed}, 1, NULL, tk));
    OK(fx_sync(k.n, v.n, NULL));
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_ACK, NULL));
    /* p: everything in log order; q: the county's and the crew's logs
     * before the centre's (the step waits for the unit's registrations) */
    OK(fx_sync(c.n, p.n, NULL));
    OK(fx_sync(k.n, p.n, NULL));
    OK(fx_sync(v.n, p.n, NULL));
    struct fx_ops lk = {0}, lv = {0}, lc = {0};
    OK(fx_collect(k.n, k.id.pk, &lk));
    OK(fx_collect(v.n, v.id.pk, &lv));
    OK(fx_collect(c.n, c.id.pk, &lc));
    OK(fx_ingest(q.n, &lk, 0, lk.n, NULL));
    OK(fx_ingest(q.n, &lv, 0, lv.n, NULL));
    struct fm_ticket t;
    OK(fm_node_ticket_get(q.n, tk[0], &t));
    assert_int_equal(t.acked.hlc, 0); /* waiting for the unit's names */
    OK(fx_ingest(q.n, &lc, 0, lc.n, NULL));
    assert_int_equal(fx_digest_eq(p.n, q.n), 1);
    struct fm_node *tn[3] = {p.n, q.n, v.n};
    for (int i = 0; i < 3; i++) {
        OK(fm_node_ticket_get(tn[i], tk[0], &t));
        assert_int_not_equal(t.acked.hlc, 0);
        assert_int_equal(t.void_steps, 0);
    }
    fx_ops_free(&lk);
    fx_ops_free(&lv);
    fx_ops_free(&lc);
    fx_done(&k);
    fx_done(&p);
    fx_done(&q);
    fx_done(&c);
    fx_done(&v);
    fx_done(&z);
    fx_done(&x);
    fx_done(&y);
}

/* A station's certificate may name a department: its duty room acts for
 * every unit registered in it (by hand, by the directory, keyed or not),
 * and for no other; judged alike whichever arrives first, the claim or the
 * unit's registration. A vehicle may be enrolled under the unit's stable
 * id. */
static void test_station_for_a_department(void **state)
{
    (void)state;
    struct fx_node c, s, k, x, y;
    struct fm_directory *d;
    char ver[FM_ID_MAX], keyed[FM_ID_MAX], e2[FM_ID_MAX], south[FM_ID_MAX], inc[FM_ID_MAX],
        tk[1][FM_ID_MAX];
    size_t reg;
    struct fm_unit u;
    make_centre(&c, "c", 6);
    d = parse_ok(DIR_HEAD "]}\n"
                 "  - {name: South Fire, kind: fire, tier: 1, county: south, units: [\n"
                 "     {name: S1, kind: engine, capabilities: [water], home: [29.0, 119.6]}]}\n"
                 DIR_RULES);
    OK(fm_node_directory_publish(c.n, d, ver, &reg));
    assert_int_equal(reg, 3);
    fm_directory_unit_id(d, &d->units[0], keyed);
    fm_directory_unit_id(d, &d->units[1], e2);
    fm_directory_unit_id(d, &d->units[2], south);
    fm_directory_free(&d);
    make_unit_node(&s, "s", FM_ROLE_STATION, FM_DEPT_CLAIM "Fire");
    make_unit_node(&k, "k", FM_ROLE_VEHICLE, "WC-F-001"); /* by the stable id */
    OK(fx_sync(c.n, s.n, NULL));
    OK(fx_sync(c.n, k.n, NULL));
    /* the duty room sets its two trucks, not the other brigade's */
    OK(fm_node_unit_status(s.n, keyed, "offline"));
    OK(fm_node_unit_status(s.n, e2, "offline"));
    assert_int_equal(fm_node_unit_status(s.n, south, "offline"), FM_EUNIT);
    /* a hand-built claim on the other brigade's truck passes ingest (it is
     * the certificate's own claim) and is ignored */
    struct fx_log g;
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    struct fx_node s2; /* another duty room of the same brigade */
    make_unit_node(&s2, "s2", FM_ROLE_STATION, FM_DEPT_CLAIM "Fire");
    fx_log_init(&g, &s2.id);
    OK(fx_log_cert(&g, &s2.cert));
    pl->log.kind = OP_UNIT_STATUS;
    payload_dir_unit_ref("South Fire", "S1", &pl->ref);
    pl->unit_status = US_OFFLINE;
    fm_strlcpy(pl->name, FM_DEPT_CLAIM "Fire", sizeof pl->name);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_UNIT_STATUS) | PT_BIT(PT_NAME);
    OK(fx_log_pl(&g, pl));
    free(pl);
    /* a ticket for E2: the duty room acknowledges it, the keyed truck's
     * vehicle (enrolled under WC-F-001) reports its own status */
    report(c.n, "building_fire", 29.1, 119.6, 1, inc);
    OK(fm_node_unit_status(c.n, e2, "available"));
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){e2}, 1, NULL, tk));
    OK(fx_sync(c.n, s.n, NULL));
    OK(fm_node_ticket_step(s.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_unit_status(k.n, keyed, "onscene"));
    /* x: the centre's log first; y: the claims first (they wait for the
     * registrations) */
    make_node(&x, "x", FM_ROLE_COUNTY);
    make_node(&y, "y", FM_ROLE_COUNTY);
    struct fx_ops lc = {0}, ls = {0}, lk = {0};
    OK(fx_collect(c.n, c.id.pk, &lc));
    OK(fx_collect(s.n, s.id.pk, &ls));
    OK(fx_collect(k.n, k.id.pk, &lk));
    OK(fx_ingest(x.n, &lc, 0, lc.n, NULL));
    OK(fx_ingest(x.n, &ls, 0, ls.n, NULL));
    OK(fx_ingest(x.n, &lk, 0, lk.n, NULL));
    OK(fx_ingest(x.n, &g.ops, 0, g.ops.n, NULL));
    OK(fx_ingest(y.n, &g.ops, 0, g.ops.n, NULL));
    OK(fx_ingest(y.n, &lk, 0, lk.n, NULL));
    OK(fx_ingest(y.n, &ls, 0, ls.n, NULL));
    OK(fx_ingest(y.n, &lc, 0, lc.n, NULL));
    assert_int_equal(fx_digest_eq(x.n, y.n), 1);
    struct fm_node *nodes[2] = {x.n, y.n};
    for (int i = 0; i < 2; i++) {
        struct fm_ticket t;
        OK(fm_node_unit_get(nodes[i], keyed, &u));
        assert_string_equal(u.status, "onscene"); /* the vehicle's, after the station's */
        OK(fm_node_unit_get(nodes[i], south, &u));
        assert_string_equal(u.status, "available"); /* the claim on it was ignored */
        OK(fm_node_ticket_get(nodes[i], tk[0], &t));
        assert_int_not_equal(t.acked.hlc, 0);
        assert_int_equal(t.void_steps, 0);
    }
    fx_ops_free(&lc);
    fx_ops_free(&ls);
    fx_ops_free(&lk);
    fx_log_free(&g);
    fx_done(&c);
    fx_done(&s);
    fx_done(&s2);
    fx_done(&k);
    fx_done(&x);
    fx_done(&y);
}

/* Names of up to 64 characters (op format 7): a directory naming a unit
 * and a department with 64 Chinese characters each is refused at op
 * format 6 with nothing written (builds before format 7 would refuse the
 * whole directory), published at 7, and read in full on another node; a
 * unit registered by hand likewise. */
static void test_long_names(void **state)
{
    (void)state;
    struct fx_node a, b;
    char ver[FM_ID_MAX], hand[FM_ID_MAX], n64[64 * 3 + 1] = "", d64[64 * 3 + 1] = "",
        text[2048];
    size_t reg = 0;
    for (int i = 0; i < 64; i++) {
        strcat(n64, "\xe6\xb0\xb4"); /* 水 */
        strcat(d64, "\xe6\xb6\x88"); /* 消 */
    }
    snprintf(text, sizeof text,
             "name: t\ncounties: [north]\ndepartments:\n"
             "  - {name: %s, kind: fire, tier: 1, county: north,\n"
             "     units: [{name: %s, id: WC-F-009, kind: engine, capabilities: [water], "
             "home: [29.1, 119.6]}]}\n" DIR_RULES, d64, n64);
    struct fm_directory *d = parse_ok(text);
    assert_string_equal(fm_directory_long_name(d), d64);
    make_centre(&a, "a", 6);
    assert_int_equal(fm_node_directory_publish(a.n, d, ver, &reg), FM_ECONFIG);
    struct fm_directory *none = NULL;
    assert_int_equal(fm_node_directory_get(a.n, &none), FM_ENOTFOUND);
    struct fm_unit_new un = {.name = n64, .department = "Fire", .kind = "engine",
                             .capabilities = "water", .tier = 1};
    assert_int_equal(fm_node_unit_register(a.n, &un, hand), FM_ECONFIG);
    fx_done(&a);

    make_centre(&a, "a", 7);
    make_centre(&b, "b", 6); /* a reader at an older format reads them all the same */
    OK(fm_node_directory_publish(a.n, d, ver, &reg));
    assert_int_equal(reg, 1);
    fm_directory_free(&d);
    un.name = d64;
    OK(fm_node_unit_register(a.n, &un, hand));
    OK(fx_sync(a.n, b.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);
    struct standing_seen s;
    standing(b.n, &s);
    assert_int_equal(s.n[FM_UNIT_LISTED], 1);
    struct fm_unit u;
    OK(fm_node_unit_get(b.n, hand, &u));
    assert_string_equal(u.name, d64);
    OK(fm_node_directory_get(b.n, &d));
    assert_string_equal(d->depts[0].name, d64);
    assert_string_equal(d->units[0].name, n64);
    fm_directory_free(&d);
    fx_done(&a);
    fx_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_section),
        cmocka_unit_test(test_rename_retire_adopt),
        cmocka_unit_test(test_forged_keyed_registration),
        cmocka_unit_test(test_concurrent_renames_converge),
        cmocka_unit_test(test_claims_after_a_rename),
        cmocka_unit_test(test_station_for_a_department),
        cmocka_unit_test(test_long_names),
    };
    return wf_test_main("test_directory_keys", tests, sizeof tests / sizeof tests[0]);
}
