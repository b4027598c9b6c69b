/*
 * test_directory_levels.c — linkage plans (run cards): a rule's `levels:`
 * in the directory YAML (strict errors with file:line:column), their
 * section in directory format version 3 (round trip, one form, what a
 * node built for version 2 does with it), the incident.alarm op (codec,
 * merge by max in any order) and the proposal at an incident's level
 * proposing only what the level adds.
 *
 * The example with levels is configs/directory-plans.yaml (found through
 * FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

static struct fm_directory *load_plans(void)
{
    struct fm_directory *d = NULL;
    char path[600], err[512];
    const char *src = getenv("FM_SRC");
    snprintf(path, sizeof path, "%s/configs/directory-plans.yaml", src ? src : ".");
    int rc = fm_directory_load_yaml(path, &d, err, sizeof err);
    if (rc != FM_OK)
        print_error("%s\n", err);
    OK(rc);
    return d;
}

static void test_yaml_levels_and_needs(void **state)
{
    (void)state;
    struct fm_directory *d = load_plans();
    const struct fm_dir_rule *r = fm_directory_rule(d, "building_fire");
    size_t n = 0;
    assert_non_null(r);
    assert_int_equal(fm_directory_format(d), 3);
    assert_int_equal(r->nlevels, 2);
    assert_int_equal(r->levels[0].level, 2);
    assert_int_equal(r->levels[1].level, 3);
    /* level 1 is the rule's own respond; a level not defined uses the
     * highest defined below it */
    assert_ptr_equal(fm_dir_rule_needs(r, 1, &n), r->respond);
    assert_int_equal(n, r->nrespond);
    assert_ptr_equal(fm_dir_rule_needs(r, 2, &n), r->levels[0].respond);
    assert_int_equal(n, 7);
    assert_int_equal(r->levels[0].respond[0].units, 3);
    assert_string_equal(r->levels[0].respond[3].kind, "traffic");
    assert_ptr_equal(fm_dir_rule_needs(r, 5, &n), r->levels[1].respond);
    assert_int_equal(n, 8);
    /* a rule without levels: every level is level 1 */
    r = fm_directory_rule(d, "gas_leak");
    assert_int_equal(r->nlevels, 0);
    assert_ptr_equal(fm_dir_rule_needs(r, 4, &n), r->respond);
    fm_directory_free(&d);
    /* the plain example stays format 1 */
    d = load_dir();
    assert_int_equal(fm_directory_format(d), 1);
    fm_directory_free(&d);
}

static void test_yaml_level_errors(void **state)
{
    (void)state;
    static const struct {
        const char *levels, *want;
    } bad[] = {
        {"[{level: 1, respond: [{tier: 1, kind: fire}]}]", ":8:22: 'level' must be between 2 and 5"},
        {"[{level: 6, respond: [{tier: 1, kind: fire}]}]", ":8:22: 'level' must be between 2 and 5"},
        {"[{level: 2, respond: [{tier: 1, kind: fire}]}, {level: 2, respond: [{tier: 1, kind: fire}]}]",
         ":8:68: level 2 is listed twice"},
        {"[{level: 3, respond: [{tier: 1, kind: fire}]}, {level: 2, respond: [{tier: 1, kind: fire}]}]",
         ":8:68: levels must be in ascending order (2 after 3)"},
        {"[{level: 2}]", ":8:14: level 2 needs a non-empty 'respond'"},
        {"[{level: 2, respond: []}]", ":8:34: level 2 needs a non-empty 'respond'"},
        {"[{respond: [{tier: 1, kind: fire}]}]", ":8:14: a level needs 'level'"},
        {"[{level: 2, respond: [{tier: 1, kind: fire}], units: 3}]",
         ":8:59: unknown key 'units' in a level"},
        {"[{level: 2, respond: [{tier: 4, kind: fire}]}]", ":8:42: 'tier' must be between 1 and 3"},
        {"[{level: 2, respond: [{tier: 1, kind: fire, department: Nobody}]}]",
         ":8:69: department 'Nobody' is not in the departments list"},
        {"{level: 2}", ":8:13: expected a list for 'levels'"},
        {"[{level: x, respond: [{tier: 1, kind: fire}]}]", ":8:22: expected an integer for 'level'"},
        {"[{level: 2, respond: [{tier: 1, kind: fire}]}, {level: 3, respond: [{tier: 1, kind: fire}]}, "
         "{level: 4, respond: [{tier: 1, kind: fire}]}, {level: 5, respond: [{tier: 1, kind: fire}]}, "
         "{level: 5, respond: [{tier: 1, kind: fire}]}]",
         ":8:198: too many levels (at most 4: levels 2 to 5)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[2048], err[512];
        struct fm_directory *d = NULL;
        snprintf(buf, sizeof buf,
                 "name: x\ncounties: [C1]\ndepartments:\n  - {name: D, kind: fire, tier: 1, "
                 "county: C1, units: []}\nrules:\n  - category: fire\n    respond: []\n"
                 "    levels: %s\n", bad[i].levels);
        int rc = fm_directory_parse_yaml("b.yaml", buf, strlen(buf), &d, err, sizeof err);
        if (rc != FM_ECONFIG || strstr(err, bad[i].want) == NULL)
            print_error("case %zu: rc %d: %s\n", i, rc, err);
        assert_int_equal(rc, FM_ECONFIG);
        assert_non_null(strstr(err, bad[i].want));
        assert_null(d);
    }
}

static void test_v3_codec(void **state)
{
    (void)state;
    struct fm_directory *d = load_plans(), *back = malloc(sizeof *back), *again = NULL;
    struct fm_buf b, b2;
    char *yaml = NULL, err[512];
    size_t len = 0;
    assert_non_null(back);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 3);
    OK(directory_decode(back, b.data, b.len));
    const struct fm_dir_rule *r = fm_directory_rule(back, "building_fire");
    assert_int_equal(r->nlevels, 2);
    assert_memory_equal(r->levels, fm_directory_rule(d, "building_fire")->levels,
                        sizeof r->levels);
    assert_int_equal(fm_directory_rule(back, "chemical_leak")->nlevels, 1);
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* the YAML renders the levels and reads back to the same bytes */
    OK(fm_directory_render_yaml(d, "test", &yaml, &len));
    int rc = fm_directory_parse_yaml("rt.yaml", yaml, len, &again, err, sizeof err);
    if (rc != FM_OK)
        print_error("%s\n", err);
    OK(rc);
    OK(directory_encode(again, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* truncations and a trailing byte are refused */
    for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 173)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    OK(fm_buf_put_u8(&b2, 0));
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* one form: levels are version 3's, and version 3 carries levels */
    b.data[0] = 2;
    assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
    b.data[0] = 3;
    struct fm_directory *plain = load_dir();
    OK(directory_encode(plain, &b2));
    b2.data[0] = 3;
    assert_int_equal(directory_decode(back, b2.data, b2.len), FM_EDECODE);
    /* a node built for version 2 does not read version 3 */
    wf_directory_max_version = 2;
    assert_int_equal(directory_decode(back, b.data, b.len), FM_EDECODE);
    wf_directory_max_version = 3;
    OK(directory_decode(back, b.data, b.len));
    /* levels out of order or out of range never encode */
    struct fm_dir_rule *w = &d->rules[1];
    assert_string_equal(w->category, "building_fire");
    w->levels[1].level = 2;
    assert_int_not_equal(directory_encode(d, &b2), FM_OK);
    w->levels[1].level = 6;
    assert_int_not_equal(directory_encode(d, &b2), FM_OK);
    w->levels[1].level = 3;
    w->levels[1].nrespond = 0;
    assert_int_not_equal(directory_encode(d, &b2), FM_OK);
    free(yaml);
    fm_directory_free(&again);
    fm_directory_free(&plain);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
}

/* The incident.alarm op: code is the level, 2..5 only. */
static void test_alarm_codec(void **state)
{
    (void)state;
    struct payload *pl = calloc(1, sizeof *pl), *chk = calloc(1, sizeof *chk);
    struct fm_buf b;
    assert_non_null(pl);
    assert_non_null(chk);
    fm_buf_init(&b, 4096);
    pl->log.kind = OP_INC_ALARM;
    memset(pl->ref.author, 7, FM_PK_LEN);
    pl->ref.seq = 4;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_CODE);
    for (unsigned lvl = 0; lvl <= 7; lvl++) {
        pl->code = (uint8_t)lvl;
        int rc = payload_encode(pl, &b, chk);
        if (lvl >= 2 && lvl <= 5) {
            OK(rc);
            assert_int_equal(chk->code, lvl);
        } else {
            assert_int_not_equal(rc, FM_OK);
        }
    }
    pl->code = 3;
    fm_strlcpy(pl->text, "spreading to the roof", sizeof pl->text);
    pl->present |= PT_BIT(PT_TEXT);
    OK(payload_encode(pl, &b, chk));
    assert_string_equal(chk->text, "spreading to the roof");
    /* a level is required; a tier is not one of its fields */
    pl->present = PT_BIT(PT_REF);
    assert_int_not_equal(payload_encode(pl, &b, chk), FM_OK);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_CODE) | PT_BIT(PT_TIER);
    pl->tier = 2;
    assert_int_not_equal(payload_encode(pl, &b, chk), FM_OK);
    assert_string_equal(payload_kind_name(OP_INC_ALARM), "incident.alarm");
    fm_buf_release(&b);
    free(pl);
    free(chk);
}

static size_t proposed_for(const struct fm_suggestion *s, const char *cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nunits; i++)
        n += strcmp(s->units[i].capability, cap) == 0;
    return n;
}

/* Two dispatchers raise the level apart (3 and 2): after the sync both
 * hold level 3 and the same digest; the proposal at level 3 counts the
 * units out and proposes only the rest; the level never goes down. */
static void test_alarm_merge_and_proposal(void **state)
{
    (void)state;
    struct fx_node c, k;
    struct fm_directory *d = load_plans();
    struct fm_incident_workflow wf;
    struct fm_suggestion *s = malloc(sizeof *s);
    char inc[FM_ID_MAX], ver[FM_ID_MAX], tk[FM_SUGGEST_MAX][FM_ID_MAX];
    const char *uids[FM_SUGGEST_MAX];
    size_t reg = 0;
    uint8_t aimed = 0;
    assert_non_null(s);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_node(&k, "county", FM_ROLE_COUNTY);
    OK(fm_node_directory_publish(c.n, d, ver, &reg));
    report(c.n, "building_fire", 31.232, 121.476, 3, inc);
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_int_equal(s->alarm_level, 1);
    assert_int_equal(s->nunits, 4); /* 2 engines, the ladder, an ambulance */
    for (size_t i = 0; i < s->nunits; i++)
        uids[i] = s->units[i].unit;
    OK(fm_node_dispatch(c.n, inc, uids, s->nunits, NULL, tk));
    OK(fx_sync(c.n, k.n, NULL));

    OK(fm_node_incident_alarm(c.n, inc, 0, "second alarm", &aimed));
    assert_int_equal(aimed, 2);
    OK(fm_node_incident_alarm(k.n, inc, 3, NULL, &aimed));
    assert_int_equal(aimed, 3);
    assert_int_equal(fm_node_incident_alarm(k.n, inc, 2, NULL, &aimed), FM_ESTATE);
    assert_int_equal(fm_node_incident_alarm(k.n, inc, 1, NULL, NULL), FM_EINVAL);
    OK(fx_sync(c.n, k.n, NULL));
    OK(fx_sync(k.n, c.n, NULL));
    assert_int_equal(fx_digest_eq(c.n, k.n), 1);
    OK(fm_node_incident_workflow(c.n, inc, &wf));
    assert_int_equal(wf.alarm_level, 3);
    assert_true(wf.alarm_hlc != 0);
    OK(fm_node_incident_workflow(k.n, inc, &wf));
    assert_int_equal(wf.alarm_level, 3);

    /* level 3 (tier 1 at priority 3): 5 fire, 1 ladder, 3 ambulances, 2
     * traffic, 1 cordon; out already: 2 fire, the ladder, 1 ambulance */
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_int_equal(s->alarm_level, 3);
    assert_int_equal(s->nassigned, 4);
    assert_int_equal(proposed_for(s, "aerial_ladder"), 0);
    assert_int_equal(proposed_for(s, "ambulance"), 2);
    assert_int_equal(proposed_for(s, "traffic_control"), 2);
    assert_int_equal(proposed_for(s, "cordon"), 1);
    assert_true(proposed_for(s, "fire") >= 1 && proposed_for(s, "fire") <= 3);
    /* at the top: no further level */
    OK(fm_node_incident_alarm(c.n, inc, 5, NULL, NULL));
    assert_int_equal(fm_node_incident_alarm(c.n, inc, 0, NULL, &aimed), FM_ESTATE);
    assert_int_equal(aimed, 6);
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
    fx_done(&k);
}

/* Only dispatchers (and admin) raise it: the writer refuses up front. */
static void test_alarm_writer_roles(void **state)
{
    (void)state;
    struct fx_node c, v;
    char inc[FM_ID_MAX];
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&v, "vehicle", FM_ROLE_VEHICLE, "Engine C1");
    report(v.n, "building_fire", 31.232, 121.476, 3, inc);
    assert_int_equal(fm_node_incident_alarm(v.n, inc, 2, NULL, NULL), FM_EPERM);
    fx_done(&c);
    fx_done(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_levels_and_needs),
        cmocka_unit_test(test_yaml_level_errors),
        cmocka_unit_test(test_v3_codec),
        cmocka_unit_test(test_alarm_codec),
        cmocka_unit_test(test_alarm_merge_and_proposal),
        cmocka_unit_test(test_alarm_writer_roles),
    };
    return wf_test_main("directory_levels", tests, sizeof tests / sizeof tests[0]);
}
