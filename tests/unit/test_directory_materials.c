/*
 * test_directory_materials.c — what the directory says about materials
 * (docs/workflow.md §6): `materials:` in the YAML (units of measure per
 * kind, places of depots that are not units; strict errors with
 * file:line:column), the skippable section (one canonical form, every
 * truncation refused, the YAML writer's round trip), and the lookups the
 * CLI uses: a kind's unit of measure, a depot's place (a unit's home, or
 * the place given).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

#define HEAD                                                                                 \
    "name: t\ncounties: [north]\n"                                                           \
    "departments:\n"                                                                         \
    "  - {name: Fire, kind: fire, tier: 1, county: north,\n"                                 \
    "     units: [{name: E1, kind: engine, capabilities: [water], home: [29.1, 119.6]}]}\n"  \
    "rules:\n"                                                                               \
    "  - {category: building_fire, respond: [{tier: 1, kind: fire, units: 1}]}\n"

#define MATERIALS                                                                            \
    "materials:\n"                                                                           \
    "  units:\n"                                                                             \
    "    sandbag: 袋\n"                                                                      \
    "    diesel: L\n"                                                                        \
    "  depots:\n"                                                                            \
    "    - {name: 城西防汛物资仓库, at: [29.08, 119.62]}\n"                                  \
    "    - {name: Port depot, at: [29.2, 119.7]}\n"


static void test_yaml_and_lookups(void **state)
{
    (void)state;
    struct fm_directory *d = NULL;
    char err[512];
    int32_t lat = 0, lon = 0;
    if (dir_parse(HEAD MATERIALS, &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    assert_int_equal(d->nmaterials, 2);
    assert_int_equal(d->ndepots, 2);
    assert_string_equal(fm_directory_measure(d, "sandbag"), "袋");
    assert_string_equal(fm_directory_measure(d, "diesel"), "L");
    assert_null(fm_directory_measure(d, "foam"));
    /* a unit's stock is at its home, another depot where the directory puts it */
    assert_true(fm_directory_depot_at(d, "E1", &lat, &lon));
    assert_int_equal(lat, 291000000);
    assert_int_equal(lon, 1196000000);
    assert_true(fm_directory_depot_at(d, "城西防汛物资仓库", &lat, &lon));
    assert_int_equal(lat, 290800000);
    assert_int_equal(lon, 1196200000);
    assert_false(fm_directory_depot_at(d, "nowhere", &lat, &lon));
    assert_false(fm_directory_depot_at(NULL, "E1", &lat, &lon));
    /* materials need the sections of version 2, nothing newer */
    assert_int_equal(fm_directory_format(d), 2);
    fm_directory_free(&d);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    dir_expect_error(HEAD "materials:\n  units:\n    Sand Bag: 袋\n", "t.yaml:",
                 "material kind 'Sand Bag' is not a word");
    dir_expect_error(HEAD "materials:\n  units:\n    sandbag: sixteen-bytes-xx\n", "t.yaml:10:14",
                 "the unit of measure of 'sandbag' is 16 bytes; at most 15");
    dir_expect_error(HEAD "materials:\n  units:\n    sandbag: 袋\n    sandbag: 包\n", "t.yaml:",
                 "duplicate key");
    dir_expect_error(HEAD "materials:\n  depots:\n    - {name: E1, at: [29.0, 119.0]}\n",
                 "t.yaml:10:7", "depot 'E1' is also a unit");
    dir_expect_error(HEAD "materials:\n  depots:\n    - {name: A, at: [29.0, 119.0]}\n"
                      "    - {name: A, at: [29.1, 119.0]}\n",
                 "t.yaml:11:7", "depot 'A' is placed twice");
    dir_expect_error(HEAD "materials:\n  depots:\n    - {name: A, at: [95.0, 119.0]}\n",
                 "t.yaml:10:", "latitude");
    dir_expect_error(HEAD "materials:\n  depots:\n    - {name: A}\n", "t.yaml:10:7",
                 "a depot needs name and at");
    dir_expect_error(HEAD "materials:\n  depots:\n    - {name: A, at: [29.0]}\n", "t.yaml:10:",
                 "'at' must be [latitude, longitude]");
    dir_expect_error(HEAD "materials:\n  stores: []\n", "t.yaml:9:3",
                 "unknown key 'stores' in materials");
}

static void test_section_round_trip(void **state)
{
    (void)state;
    struct fm_directory *d = NULL, *back = malloc(sizeof *back);
    struct fm_buf b, b2;
    char err[512], *yaml = NULL;
    size_t ylen;
    assert_non_null(back);
    if (dir_parse(HEAD MATERIALS, &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 2);
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nmaterials, 2);
    assert_int_equal(back->ndepots, 2);
    assert_memory_equal(back->materials, d->materials, 2 * sizeof d->materials[0]);
    assert_memory_equal(back->depots, d->depots, 2 * sizeof d->depots[0]);
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* one canonical form: sorted by kind and by name (bytes) */
    assert_string_equal(back->materials[0].kind, "diesel");
    assert_string_equal(back->depots[0].name, "Port depot");
    /* every truncation is refused */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    /* the YAML writer writes them back */
    OK(fm_directory_render_yaml(d, NULL, &yaml, &ylen));
    struct fm_directory *again = NULL;
    if (fm_directory_parse_yaml("again", yaml, ylen, &again, err, sizeof err) != FM_OK)
        fail_msg("%s\n%s", err, yaml);
    assert_string_equal(fm_directory_measure(again, "sandbag"), "袋");
    int32_t lat, lon;
    assert_true(fm_directory_depot_at(again, "城西防汛物资仓库", &lat, &lon));
    assert_int_equal(lat, 290800000);
    free(yaml);
    fm_directory_free(&again);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
}

/* A build that does not know the section skips it (its tag may be
 * skipped) and keeps the rest of the directory. */
static void test_older_build_skips_it(void **state)
{
    (void)state;
    struct fm_directory *d = NULL, *back = malloc(sizeof *back);
    struct fm_buf b;
    char err[512];
    assert_non_null(back);
    if (dir_parse(HEAD MATERIALS, &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    fm_buf_init(&b, 1u << 20);
    OK(directory_encode(d, &b));
    /* rewrite the section's tag to one no build knows (still skippable) */
    size_t at = b.len;
    for (size_t i = 0; i + 5 < b.len; i++)
        if (b.data[i] == 0x83 && fm_be32_get(b.data + i + 1) == b.len - i - 5) {
            at = i;
            break;
        }
    assert_true(at < b.len);
    b.data[at] = 0xfe;
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nmaterials, 0);
    assert_int_equal(back->ndepots, 0);
    assert_int_equal(back->nskipped, 1);
    assert_int_equal(back->nunits, 1);
    fm_buf_release(&b);
    free(back);
    fm_directory_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_and_lookups),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_section_round_trip),
        cmocka_unit_test(test_older_build_skips_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
