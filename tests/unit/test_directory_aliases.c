/*
 * test_directory_aliases.c — the names people type for the directory's
 * words (docs/workflow.md §1b): `aliases:` in the YAML (strict errors with
 * file:line:column), their skippable section (round trip in one canonical
 * form, what a build that does not know the tag does with it), lookups,
 * the closest categories to an unknown word, and the check that refuses a
 * rule whose need no unit of the directory could ever fill.
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
    "     units: [{name: E1, kind: engine, capabilities: [water, ladder], home: [29.1, 119.6]}]}\n"              \
    "  - {name: Gas, kind: gas, tier: 2, county: north, units: []}\n"                       \
    "rules:\n"                                                                               \
    "  - {category: building_fire, respond: [{tier: 1, kind: fire, capability: ladder, "     \
    "units: 1}]}\n"                                                                          \
    "  - {category: gas_leak, respond: [{tier: 2, kind: gas, units: 1}]}\n"


static void test_yaml_and_lookup(void **state)
{
    (void)state;
    struct fm_directory *d = NULL;
    char err[512];
    const char *text = HEAD "aliases:\n  火灾: building_fire\n  燃气泄漏: gas_leak\n"
                            "  沙袋: sandbag\n  云梯: ladder\n";
    if (dir_parse(text, &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    assert_int_equal(d->naliases, 4);
    assert_string_equal(fm_directory_alias(d, "火灾"), "building_fire");
    assert_string_equal(fm_directory_alias(d, "沙袋"), "sandbag");
    assert_null(fm_directory_alias(d, "building_fire"));
    assert_null(fm_directory_alias(d, "火"));
    /* aliases alone need the sections of version 2, nothing newer */
    assert_int_equal(fm_directory_format(d), 2);
    /* the closest categories: through an alias, or by the word itself */
    const char *near[3];
    assert_int_equal(fm_directory_closest_categories(d, "火警", near, 3), 2);
    assert_string_equal(near[0], "building_fire");
    assert_int_equal(fm_directory_closest_categories(d, "gas_lek", near, 1), 1);
    assert_string_equal(near[0], "gas_leak");
    assert_int_equal(fm_text_distance("婺城区", "婺城"), 1);
    fm_directory_free(&d);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    dir_expect_error(HEAD "aliases:\n  building_fire: gas_leak\n", "t.yaml:11:3",
                 "alias 'building_fire' is itself a category");
    dir_expect_error(HEAD "aliases:\n  火灾: Building Fire\n", "t.yaml:11:",
                 "must be 1 to 31 characters of a-z");
    dir_expect_error(HEAD "aliases:\n  火灾: building_fire\n  火灾: gas_leak\n", "t.yaml:12:",
                 "duplicate key");
    dir_expect_error(HEAD "aliases: [火灾]\n", "t.yaml:10:", "aliases");
    /* a need no unit could fill: a capability, a kind, a department */
    dir_expect_error("name: t\ncounties: [north]\n"
                 "departments:\n  - {name: Fire, kind: fire, tier: 1, county: north,\n"
                 "     units: [{name: E1, kind: engine, capabilities: [water], home: [29.1, 119.6]}]}\n"
                 "rules:\n  - {category: fire, respond: [{tier: 1, kind: fire, capability: "
                 "foam, units: 1}]}\n",
                 "t.yaml:7:5", "rule 'fire' needs capability 'foam' of kind fire, which no "
                               "unit of the directory has");
    dir_expect_error("name: t\ncounties: [north]\n"
                 "departments:\n  - {name: Fire, kind: fire, tier: 1, county: north}\n"
                 "rules:\n  - {category: fire, respond: [{tier: 1, kind: fyre, units: 1}]}\n",
                 "t.yaml:6:5", "needs kind 'fyre', which no department of the directory has");
    dir_expect_error("name: t\ncounties: [north]\n"
                 "departments:\n  - {name: Fire, kind: fire, tier: 1, county: north}\n"
                 "  - {name: Rescue, kind: rescue, tier: 1, county: north}\n"
                 "rules:\n  - {category: fire, respond: [{tier: 1, kind: fire, department: "
                 "Rescue, units: 1}]}\n",
                 "t.yaml:7:5", "needs department 'Rescue' of kind fire");
}

static void test_section_round_trip(void **state)
{
    (void)state;
    struct fm_directory *d = NULL, *back = malloc(sizeof *back);
    struct fm_buf b, b2;
    char err[512], *yaml = NULL;
    size_t ylen;
    assert_non_null(back);
    if (dir_parse(HEAD "aliases:\n  燃气泄漏: gas_leak\n  火灾: building_fire\n", &d, err,
              sizeof err) != FM_OK)
        fail_msg("%s", err);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.data[0], 2);
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->naliases, 2);
    assert_memory_equal(back->aliases, d->aliases, 2 * sizeof d->aliases[0]);
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* sorted by name (bytes): 火 (E7 81 AB) before 燃 (E7 87 83) */
    assert_string_equal(back->aliases[0].name, "火灾");
    assert_string_equal(back->aliases[1].name, "燃气泄漏");
    /* every truncation is refused */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    /* the YAML writer writes them back */
    OK(fm_directory_render_yaml(d, NULL, &yaml, &ylen));
    struct fm_directory *again = NULL;
    if (fm_directory_parse_yaml("again", yaml, ylen, &again, err, sizeof err) != FM_OK)
        fail_msg("%s\n%s", err, yaml);
    assert_int_equal(again->naliases, 2);
    assert_string_equal(fm_directory_alias(again, "燃气泄漏"), "gas_leak");
    free(yaml);
    fm_directory_free(&again);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
}

/* A build that does not know tag 0x81 skips it: the section may be skipped
 * because an alias changes no decision. Simulated by renaming the tag to
 * another skippable one no build knows. */
static void test_unknown_build_skips(void **state)
{
    (void)state;
    struct fm_directory *d = NULL, *back = malloc(sizeof *back);
    struct fm_buf b;
    char err[512];
    assert_non_null(back);
    if (dir_parse(HEAD "aliases:\n  火灾: building_fire\n", &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    fm_buf_init(&b, 1u << 20);
    OK(directory_encode(d, &b));
    /* the section is the last thing: tag, u32 length, body */
    size_t body = 2 + 1 + strlen("火灾") + 1 + strlen("building_fire");
    size_t tag_at = b.len - body - 5;
    assert_int_equal(b.data[tag_at], 0x81);
    b.data[tag_at] = 0xfe;
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->naliases, 0);
    assert_int_equal(back->nskipped, 1);
    assert_int_equal(back->nrules, 2);
    fm_buf_release(&b);
    free(back);
    fm_directory_free(&d);
}

/* The fuzz seed with aliases (tests/fuzz/corpus/fuzz_directory_blob/
 * aliases_v2.bin: the example directory as version 2 with three aliases)
 * decodes, so the fuzzer starts from a section that is read, not refused. */
static void test_fuzz_seed_reads(void **state)
{
    (void)state;
    char path[600];
    const char *src = getenv("FM_SRC");
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_directory_blob/aliases_v2.bin",
             src ? src : ".");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct fm_directory *d = malloc(sizeof *d);
    struct fm_buf b;
    assert_non_null(d);
    OK(directory_decode(d, buf, n));
    assert_int_equal(d->naliases, 3);
    assert_int_equal(d->nskipped, 0);
    assert_string_equal(fm_directory_alias(d, "沙袋"), "sandbag");
    fm_buf_init(&b, 1u << 20);
    OK(directory_encode(d, &b));
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, buf, n);
    fm_buf_release(&b);
    free(d);
}

/* duplicates: the bounds of a possible duplicate and related categories */
static void test_duplicates_section(void **state)
{
    (void)state;
    struct fm_directory *d = NULL, *back = malloc(sizeof *back), *again = NULL;
    struct fm_buf b, b2;
    char err[512], *yaml = NULL;
    size_t ylen;
    assert_non_null(back);
    if (dir_parse(HEAD "duplicates:\n  radius_m: 800\n  window_min: 45\n"
                   "  related: [[gas_leak, building_fire]]\n",
              &d, err, sizeof err) != FM_OK)
        fail_msg("%s", err);
    assert_int_equal(d->dup_radius_m, 800);
    assert_int_equal(d->dup_window_s, 45 * 60);
    assert_true(fm_directory_related(d, "gas_leak", "building_fire"));
    assert_true(fm_directory_related(d, "building_fire", "building_fire"));
    assert_false(fm_directory_related(d, "gas_leak", "flood"));
    assert_int_equal(fm_directory_format(d), 2);
    fm_buf_init(&b, 1u << 20);
    fm_buf_init(&b2, 1u << 20);
    OK(directory_encode(d, &b));
    OK(directory_decode(back, b.data, b.len));
    assert_int_equal(back->nrelated, 2);
    assert_int_equal(back->dup_radius_m, 800);
    OK(directory_encode(back, &b2));
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(directory_decode(back, b.data, cut), FM_EDECODE);
    OK(fm_directory_render_yaml(d, NULL, &yaml, &ylen));
    if (fm_directory_parse_yaml("again", yaml, ylen, &again, err, sizeof err) != FM_OK)
        fail_msg("%s\n%s", err, yaml);
    assert_int_equal(again->dup_window_s, 45 * 60);
    assert_true(fm_directory_related(again, "building_fire", "gas_leak"));
    free(yaml);
    fm_directory_free(&again);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(back);
    fm_directory_free(&d);
    dir_expect_error(HEAD "duplicates:\n  related: [[gas_leak, flood]]\n", "t.yaml:11:24",
                 "related category 'flood' has no rule");
    dir_expect_error(HEAD "duplicates:\n  related: [[gas_leak]]\n", "t.yaml:11:",
                 "needs at least two");
    dir_expect_error(HEAD "duplicates:\n  related: [[gas_leak, building_fire], [gas_leak, "
                      "building_fire]]\n",
                 "t.yaml:11:", "is in two groups");
    dir_expect_error(HEAD "duplicates:\n  radius_m: 0\n", "t.yaml:11:13",
                 "'radius_m' must be between 1 and 50000");
    dir_expect_error(HEAD "duplicates:\n  radius: 10\n", "t.yaml:11:3",
                 "unknown key 'radius' in duplicates");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_and_lookup),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_section_round_trip),
        cmocka_unit_test(test_unknown_build_skips),
        cmocka_unit_test(test_fuzz_seed_reads),
        cmocka_unit_test(test_duplicates_section),
    };
    return wf_test_main("directory_aliases", tests, sizeof tests / sizeof tests[0]);
}
