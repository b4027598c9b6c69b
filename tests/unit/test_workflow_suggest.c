/*
 * test_workflow_suggest.c — proposals that know what is already out and
 * what else is burning: units already on the incident count toward its
 * needs (only what is missing is proposed), a unit another open
 * priority-1 incident's proposal takes is marked, and a dispatcher's own
 * choice is checked against the rule (fits / why not / far from home).
 *
 * The example directory is configs/directory.yaml (found through FM_SRC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

static bool proposes(const struct fm_suggestion *s, const char *uid)
{
    for (size_t i = 0; i < s->nunits; i++)
        if (strcmp(s->units[i].unit, uid) == 0)
            return true;
    return false;
}

static size_t proposed_for(const struct fm_suggestion *s, const char *cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nunits; i++)
        n += strcmp(s->units[i].capability, cap) == 0;
    return n;
}

/* chemical_leak needs 2 fire/hazmat units (Hazmat R7, R8) among others:
 * with R7 out on it, the next proposal lists R7 as assigned and counted,
 * proposes one more hazmat unit only, and reports no gap. */
static void test_suggest_after_partial_dispatch(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    struct fm_suggestion *s = malloc(sizeof *s);
    char inc[FM_ID_MAX], v[FM_ID_MAX], r7[FM_ID_MAX], r8[FM_ID_MAX], p1[FM_ID_MAX],
        c1[FM_ID_MAX], tk[2][FM_ID_MAX];
    assert_non_null(s);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, inc);
    unit_id(c.n, "Hazmat R7", r7);
    unit_id(c.n, "Hazmat R8", r8);
    unit_id(c.n, "Patrol R1", p1);
    unit_id(c.n, "Engine C1", c1);
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    size_t before = s->nunits;
    assert_int_equal(proposed_for(s, "hazmat"), 2);
    assert_int_equal(s->nassigned, 0);
    /* R7 for hazmat; Engine C1 fits none of the needs */
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){r7, c1}, 2, NULL, tk));
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_int_equal(s->nunits, before - 1);
    assert_int_equal(proposed_for(s, "hazmat"), 1);
    assert_true(proposes(s, r8));
    assert_false(proposes(s, r7));
    assert_int_equal(s->ngaps, 0);
    assert_int_equal(s->nassigned, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct fm_suggest_assigned *a = &s->assigned[i];
        if (strcmp(a->unit, r7) == 0) {
            assert_true(a->counted);
            assert_string_equal(a->capability, "hazmat");
            assert_string_equal(a->ticket, tk[0]);
            assert_string_equal(a->name, "Hazmat R7");
        } else {
            assert_string_equal(a->unit, c1);
            assert_false(a->counted);
        }
    }
    /* both hazmat units out: the need is full, no hazmat proposed, no gap */
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){r8, p1}, 2, NULL, tk));
    OK(fm_node_dispatch_suggest(c.n, inc, fm_now_ms(), s));
    assert_int_equal(proposed_for(s, "hazmat"), 0);
    assert_int_equal(proposed_for(s, "cordon"), 0);
    assert_int_equal(s->ngaps, 0);
    assert_int_equal(s->nassigned, 4);
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
}

/* Two open incidents side by side: the proposal for one marks the units
 * the other's proposal takes when that other one is priority 1, not when
 * it is priority 3 or closed. */
static void test_suggest_marks_units_of_other_p1(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    struct fm_suggestion *s = malloc(sizeof *s);
    char a[FM_ID_MAX], b[FM_ID_MAX], v[FM_ID_MAX];
    assert_non_null(s);
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, a);
    report(c.n, "chemical_leak", 31.301, 121.551, 3, b);
    OK(fm_node_dispatch_suggest(c.n, a, fm_now_ms(), s));
    assert_true(s->nunits > 0);
    for (size_t i = 0; i < s->nunits; i++)
        assert_string_equal(s->units[i].also_for, "");
    struct fm_incident_edit e = {.priority = 1};
    OK(fm_node_incident_edit(c.n, b, &e));
    OK(fm_node_dispatch_suggest(c.n, a, fm_now_ms(), s));
    size_t marked = 0;
    for (size_t i = 0; i < s->nunits; i++)
        if (s->units[i].also_for[0] != '\0') {
            assert_string_equal(s->units[i].also_for, b);
            marked++;
        }
    assert_int_equal(marked, s->nunits); /* same place, same needs: every unit */
    OK(fm_node_incident_status(c.n, b, FM_STAGE_CLOSED, false));
    OK(fm_node_dispatch_suggest(c.n, a, fm_now_ms(), s));
    for (size_t i = 0; i < s->nunits; i++)
        assert_string_equal(s->units[i].also_for, "");
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
}

/* A dispatcher's own choice: a unit that fits a need passes, one that
 * fits none says what it is and what the rule needs, a unit far from its
 * home station is far; without a rule nothing is judged. */
static void test_dispatch_check(void **state)
{
    (void)state;
    struct fx_node c;
    struct fm_directory *d = load_dir();
    struct fm_dispatch_check k;
    char inc[FM_ID_MAX], far_inc[FM_ID_MAX], other[FM_ID_MAX], v[FM_ID_MAX], r8[FM_ID_MAX],
        c1[FM_ID_MAX];
    make_node(&c, "centre", FM_ROLE_CENTRE);
    OK(fm_node_directory_publish(c.n, d, v, NULL));
    report(c.n, "chemical_leak", 31.3, 121.55, 3, inc);
    report(c.n, "chemical_leak", 31.6, 121.9, 3, far_inc);
    report(c.n, "no_such_rule", 31.3, 121.55, 3, other);
    unit_id(c.n, "Hazmat R8", r8);
    unit_id(c.n, "Engine C1", c1);
    OK(fm_node_dispatch_check(c.n, inc, r8, &k));
    assert_true(k.judged);
    assert_true(k.fits);
    assert_false(k.far);
    assert_string_equal(k.county, "riverside");
    OK(fm_node_dispatch_check(c.n, inc, c1, &k));
    assert_false(k.fits);
    assert_non_null(strstr(k.why, "it is fire with fire,rescue,water_supply"));
    assert_non_null(strstr(k.why, "fire/hazmat"));
    OK(fm_node_dispatch_check(c.n, far_inc, r8, &k));
    assert_true(k.fits);
    assert_true(k.far);
    assert_true(k.distance_km > FM_FAR_KM);
    assert_false(k.live_position);
    OK(fm_node_dispatch_check(c.n, other, c1, &k));
    assert_false(k.judged);
    assert_true(k.fits);
    assert_int_equal(fm_node_dispatch_check(c.n, inc, "nosuchunit", &k), FM_ENOTFOUND);
    fm_directory_free(&d);
    fx_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_after_partial_dispatch),
        cmocka_unit_test(test_suggest_marks_units_of_other_p1),
        cmocka_unit_test(test_dispatch_check),
    };
    return wf_test_main("workflow_suggest", tests, sizeof tests / sizeof tests[0]);
}
